//! The accounts lifecycle as a background task: every hour, disable, announce and delete
//! what is due (see `preau_store::lifecycle`), and e-mail the directeurs the list of the
//! accounts of their school about to be deleted.

use crate::AppState;
use crate::i18n::Tr;
use crate::mail::Mail;
use chrono::{DateTime, Utc};
use preau_domain::time::format_paris;
use preau_store::lifecycle::{self, LifecycleOutcome, LifecyclePolicy};
use std::time::Duration;

/// One pass at `now`, with its e-mails.
pub async fn run_once(
    state: &AppState,
    policy: LifecyclePolicy,
    now: DateTime<Utc>,
) -> Result<LifecycleOutcome, preau_store::StoreError> {
    let outcome = lifecycle::run(&state.db, policy, now).await?;
    let t = Tr::french();
    for notice in &outcome.notices {
        let list: String = notice
            .people
            .iter()
            .map(|(_, name, when)| {
                format!(
                    "- {name} : {}\n",
                    t.with1("lifecycle-mail-line", "date", &format_paris(*when)[..10])
                )
            })
            .collect();
        let link = format!(
            "{}/admin/structures/{}/leavers",
            state.config.public_url.trim_end_matches('/'),
            notice.structure_id
        );
        let body = format!(
            "{}\n\n{list}\n{}\n{link}\n",
            t.with(
                "lifecycle-mail-intro",
                &[
                    ("school", notice.structure_name.as_str()),
                    ("count", notice.people.len().to_string().as_str()),
                ]
            ),
            t.get("lifecycle-mail-outro"),
        );
        for to in &notice.recipients {
            let mail = Mail {
                to: to.clone(),
                subject: t.with1("lifecycle-mail-subject", "school", &notice.structure_name),
                body: body.clone(),
            };
            if let Err(e) = state.mailer.send(mail).await {
                tracing::warn!(error = %e, "deletion notice not sent");
            }
        }
    }
    if outcome.disabled + outcome.deleted > 0 || !outcome.notices.is_empty() {
        tracing::info!(
            disabled = outcome.disabled,
            deleted = outcome.deleted,
            notices = outcome.notices.len(),
            "cycle de vie des comptes"
        );
    }
    Ok(outcome)
}

pub fn spawn(state: AppState, policy: LifecyclePolicy) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&state, policy, preau_store::now()).await {
                tracing::warn!(error = %e, "account lifecycle pass failed");
            }
        }
    });
}
