//! The notification service: every service writes in-app notifications (the store's
//! `notify_in!`), which enqueues their delivery; the jobs here send them by e-mail, web push
//! and SMS according to each person's choices, families' quiet hours and the SMS budget.

pub mod push;
pub mod sms;
pub mod worker;

use crate::AppState;
use crate::i18n::Tr;
use crate::mail::Mail;
use chrono::{DateTime, NaiveTime, Utc};
use preau_domain::notify::{
    Channel, EmailMode, Topic, family_push_time, international_number, sms_text,
};
use preau_domain::time::paris_month_start;
use preau_store::jobs::{self, NewJob};
use preau_store::notifications::{self, Delivery};
use serde::Deserialize;
use uuid::Uuid;

pub const EMAIL_JOB: &str = "notify_email";
pub const PUSH_JOB: &str = "notify_push";
pub const SMS_JOB: &str = "notify_sms";
pub const DIGEST_JOB: &str = "notify_digest";

/// The HTTP client for push services and the SMS provider.
pub fn http_client() -> reqwest::Client {
    // reqwest needs the process's TLS provider chosen before its first client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct BatchPayload {
    batch: Uuid,
}

#[derive(Deserialize)]
struct NotificationPayload {
    notification: Uuid,
}

fn payload_of(id: Uuid) -> String {
    format!("{{\"notification\":\"{id}\"}}")
}

/// The channels and times one notification goes out on.
fn plan(d: &Delivery, now: DateTime<Utc>) -> Vec<(&'static str, DateTime<Utc>)> {
    let mut out = Vec::new();
    let due = match (&d.release_at, d.family) {
        (Some(release), true) => {
            let release = NaiveTime::parse_from_str(release, "%H:%M")
                .unwrap_or_else(|_| NaiveTime::from_hms_opt(7, 30, 0).unwrap_or_default());
            family_push_time(now, d.urgent, release, d.spread_minutes, d.user_id)
        }
        (None, true) => family_push_time(
            now,
            d.urgent,
            NaiveTime::from_hms_opt(7, 30, 0).unwrap_or_default(),
            20,
            d.user_id,
        ),
        (_, false) => now,
    };
    let email_now = match d.email_mode {
        EmailMode::Immediate => true,
        // The digest carries the rest; what is urgent goes at once.
        EmailMode::Digest => d.urgent,
        EmailMode::Off => false,
    };
    if d.email.is_some() && email_now && d.wants(Channel::Email) {
        out.push((EMAIL_JOB, due));
    }
    if d.has_push && d.wants(Channel::Push) {
        out.push((PUSH_JOB, due));
    }
    let sms_topic = matches!(Topic::of_kind(&d.kind), Topic::Liaison | Topic::Absence);
    if d.urgent && sms_topic && d.sms_on && d.mobile.is_some() && d.wants(Channel::Sms) {
        out.push((SMS_JOB, now));
    }
    out
}

/// One event's fan-out: a job per notification and channel, at its time.
async fn deliver(state: &AppState, tenant: Option<Uuid>, payload: &str) -> Result<(), String> {
    let p: BatchPayload = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let deliveries = notifications::batch(&state.db, p.batch)
        .await
        .map_err(|e| e.to_string())?;
    let now = preau_store::now();
    let jobs: Vec<NewJob> = deliveries
        .iter()
        .flat_map(|d| {
            plan(d, now).into_iter().map(|(kind, run_at)| NewJob {
                tenant_id: tenant,
                kind,
                payload: payload_of(d.notification_id),
                run_at,
            })
        })
        .collect();
    jobs::enqueue_many(&state.db, &jobs)
        .await
        .map_err(|e| e.to_string())?;
    if jobs.iter().any(|j| j.run_at <= now) {
        state.jobs_wake.notify_one();
    }
    Ok(())
}

/// The words of a notification kind in e-mails and pushes.
fn kind_key(kind: &str) -> &'static str {
    match kind {
        "liaison" => "notify-liaison",
        "liaison_reminder" => "notify-liaison-reminder",
        "liaison_reply" => "notify-liaison-reply",
        "absence" => "notify-absence",
        "absence_notice" => "notify-absence-notice",
        "message" => "notify-message",
        "message_flood" => "notify-flood",
        _ => "notify-other",
    }
}

async fn send_email(state: &AppState, payload: &str) -> Result<(), String> {
    let p: NotificationPayload = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let Some(n) = notifications::outgoing(&state.db, p.notification)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    // Seen in the ENT while it was held: nothing more to say.
    let (Some(to), false) = (n.email.as_deref().filter(|e| !e.is_empty()), n.read) else {
        return Ok(());
    };
    let t = Tr::for_language(&n.language);
    let base = state.config.public_url.trim_end_matches('/');
    let headline = t.with1(kind_key(&n.kind), "name", &n.summary);
    let body = t.with(
        "notify-email-body",
        &[
            ("name", headline.as_str()),
            ("link", &format!("{base}{}", n.link)),
            ("place", &format!("{base}/compte/notifications")),
            ("school", n.from_name.as_str()),
        ],
    );
    state
        .mailer
        .send(Mail {
            to: to.to_owned(),
            subject: format!("{} — {headline}", n.from_name),
            body,
        })
        .await
}

async fn send_push(state: &AppState, payload: &str) -> Result<(), String> {
    let p: NotificationPayload = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let Some(n) = notifications::outgoing(&state.db, p.notification)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    if n.read {
        return Ok(());
    }
    let subs = notifications::push_subscriptions(&state.db, n.user_id)
        .await
        .map_err(|e| e.to_string())?;
    if subs.is_empty() {
        return Ok(());
    }
    let pair = push::key_pair(&state.db).await?;
    let t = Tr::for_language(&n.language);
    let message = serde_json::json!({
        "title": n.from_name,
        "body": t.with1(kind_key(&n.kind), "name", &n.summary),
        "url": n.link,
    })
    .to_string();
    let contact = state.config.push_contact.clone();
    let mut failure = None;
    for sub in &subs {
        match push::send(&state.http, &pair, &contact, sub, message.as_bytes()).await {
            Ok(push::Outcome::Sent) => {}
            Ok(push::Outcome::Gone) => {
                notifications::remove_push_subscription(&state.db, n.user_id, &sub.endpoint)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => failure = Some(e),
        }
    }
    failure.map_or(Ok(()), Err)
}

/// Result of an SMS job: sent, skipped (and why), or to try again later.
enum SmsOutcome {
    Done,
    RateLimited,
}

async fn send_sms(state: &AppState, payload: &str) -> Result<SmsOutcome, String> {
    let p: NotificationPayload = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let Some(n) = notifications::outgoing(&state.db, p.notification)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(SmsOutcome::Done);
    };
    let Some(to) = n.mobile.as_deref().and_then(international_number) else {
        return Ok(SmsOutcome::Done);
    };
    if state.sms_rate.check_key(&n.tenant_id).is_err() {
        return Ok(SmsOutcome::RateLimited);
    }
    let now = preau_store::now();
    let Some(reserved) = notifications::reserve_sms(
        &state.db,
        n.tenant_id,
        n.user_id,
        n.id,
        paris_month_start(now),
    )
    .await
    .map_err(|e| e.to_string())?
    else {
        tracing::warn!(tenant = %n.tenant_id, "budget SMS du mois épuisé : SMS non envoyé");
        return Ok(SmsOutcome::Done);
    };
    let t = Tr::for_language(&n.language);
    let text = sms_text(
        &n.from_name,
        &t.with1(kind_key(&n.kind), "name", &n.summary),
    );
    if let Err(e) = state.sms.send(&to, &text).await {
        notifications::release_sms(&state.db, reserved)
            .await
            .map_err(|e| e.to_string())?;
        return Err(e);
    }
    Ok(SmsOutcome::Done)
}

/// The next digest time after `now`: the configured time on the next weekday.
pub fn next_digest(now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    preau_domain::chat::ChatHours {
        opens: at,
        closes: at + chrono::Duration::minutes(1),
    }
    .delivery(now + chrono::Duration::minutes(1))
}

/// Daily digests: one e-mail per person with what they have not read.
async fn send_digests(state: &AppState) -> Result<(), String> {
    let since = preau_store::now() - chrono::Duration::hours(24);
    let base = state.config.public_url.trim_end_matches('/').to_owned();
    loop {
        let digests = notifications::take_digests(&state.db, since, 200)
            .await
            .map_err(|e| e.to_string())?;
        if digests.is_empty() {
            break;
        }
        for d in digests {
            let t = Tr::french();
            let lines: Vec<String> = d
                .items
                .iter()
                .map(|(summary, link, at)| {
                    format!(
                        "- {} ({}) : {base}{link}",
                        summary,
                        preau_domain::time::format_paris(*at)
                    )
                })
                .collect();
            let body = t.with(
                "notify-digest-body",
                &[
                    ("count", &d.items.len().to_string()),
                    ("name", &lines.join("\n")),
                    ("place", &format!("{base}/compte/notifications")),
                ],
            );
            let mail = Mail {
                to: d.email.clone(),
                subject: t.with1("notify-digest-subject", "count", &d.items.len().to_string()),
                body,
            };
            if let Err(e) = state.mailer.send(mail).await {
                tracing::warn!(user = %d.user_id, error = %e, "résumé quotidien non envoyé");
            }
        }
    }
    let next = next_digest(preau_store::now(), state.config.digest_time);
    jobs::ensure_scheduled(&state.db, DIGEST_JOB, next)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn delivery(kind: &str, urgent: bool, family: bool) -> Delivery {
        Delivery {
            notification_id: Uuid::from_u128(1),
            user_id: Uuid::from_u128(2),
            kind: kind.into(),
            urgent,
            email: Some("a@b.fr".into()),
            mobile: Some("0612345678".into()),
            email_mode: EmailMode::Digest,
            sms_on: true,
            has_push: true,
            family,
            release_at: Some("07:30".into()),
            spread_minutes: 0,
            muted: Vec::new(),
        }
    }

    #[test]
    fn digest_people_get_urgent_mail_at_once_and_sms_only_when_urgent() {
        let day = Utc
            .with_ymd_and_hms(2026, 12, 2, 9, 0, 0)
            .single()
            .unwrap_or_default();
        let kinds = |d: &Delivery| plan(d, day).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(kinds(&delivery("liaison", false, true)), [PUSH_JOB]);
        assert_eq!(
            kinds(&delivery("liaison", true, true)),
            [EMAIL_JOB, PUSH_JOB, SMS_JOB]
        );
        // Urgent messages never go by SMS: only liaison and absences do.
        assert_eq!(
            kinds(&delivery("message", true, true)),
            [EMAIL_JOB, PUSH_JOB]
        );
        let mut muted = delivery("liaison", true, true);
        muted.muted.push((Topic::Liaison, Channel::Push));
        assert_eq!(kinds(&muted), [EMAIL_JOB, SMS_JOB]);
    }

    #[test]
    fn families_wait_for_the_morning_staff_do_not() {
        let night = Utc
            .with_ymd_and_hms(2026, 12, 2, 21, 0, 0)
            .single()
            .unwrap_or_default();
        let morning = Utc
            .with_ymd_and_hms(2026, 12, 3, 6, 30, 0)
            .single()
            .unwrap_or_default();
        let family = plan(&delivery("liaison", false, true), night);
        assert_eq!(family, [(PUSH_JOB, morning)]);
        let staff = plan(&delivery("liaison", false, false), night);
        assert_eq!(staff, [(PUSH_JOB, night)]);
        assert_eq!(
            next_digest(night, NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default()),
            Utc.with_ymd_and_hms(2026, 12, 3, 16, 0, 0)
                .single()
                .unwrap_or_default()
        );
    }
}
