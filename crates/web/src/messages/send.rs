//! Everything a message goes through before it is stored: the text checks, the kill switch,
//! who may be reached, the sending limits. One path for new messages and replies.

use super::text::body_html;
use crate::AppState;
use crate::session::SignedIn;
use preau_domain::messaging::{SendRefusal, check_limits, check_text, is_blocked, limits_of};
use preau_store::communication;
use preau_store::messages::{self, Outgoing};
use preau_store::{StoreError, TenantScope};
use std::collections::HashMap;
use uuid::Uuid;

/// A recipient as chosen in a form: a person (`u:<id>`) or a group (`g:<id>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pick {
    Person(Uuid),
    Group(Uuid),
}

impl Pick {
    pub fn parse(token: &str) -> Option<Self> {
        let (kind, id) = token.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "u" => Some(Self::Person(id)),
            "g" => Some(Self::Group(id)),
            _ => None,
        }
    }

    pub fn token(self) -> String {
        match self {
            Self::Person(id) => format!("u:{id}"),
            Self::Group(id) => format!("g:{id}"),
        }
    }
}

/// Parses the `to` values of a form (bad ones are refused, not ignored).
pub fn picks(tokens: &[String]) -> Result<Vec<Pick>, SendRefusal> {
    let mut out = Vec::new();
    for t in tokens {
        let p = Pick::parse(t).ok_or(SendRefusal::NotReachable)?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

pub struct Draft<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    pub picks: &'a [Pick],
    pub audience_label: &'a str,
    pub broadcast: bool,
    /// (thread, parent, people the original lets us answer whatever the rules)
    pub reply_to: Option<(Uuid, Uuid, Vec<Uuid>)>,
    pub draft_id: Option<Uuid>,
}

pub enum Refused {
    Because(SendRefusal),
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<SendRefusal> for Refused {
    fn from(e: SendRefusal) -> Self {
        Self::Because(e)
    }
}

/// Checks and sends; returns the new message's id.
pub async fn deliver(
    state: &AppState,
    who: &SignedIn,
    scope: TenantScope,
    draft: Draft<'_>,
) -> Result<Uuid, Refused> {
    check_text(draft.subject, draft.body)?;
    if draft.picks.is_empty() {
        return Err(SendRefusal::NoRecipient.into());
    }
    let blocks: Vec<_> = messages::blocks(&state.db, scope)
        .await?
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    if is_blocked(&who.actor.profiles, &blocks) {
        return Err(SendRefusal::Blocked.into());
    }
    let me = who.user.id;
    let reach = state
        .reach
        .reach(&state.db, scope, me, who.directory_version)
        .await?;
    let answerable: &[Uuid] = draft
        .reply_to
        .as_ref()
        .map_or(&[], |(_, _, a)| a.as_slice());
    let mut recipients: Vec<Uuid> = Vec::new();
    let mut broadcast = draft.broadcast;
    let mut groups = Vec::new();
    for pick in draft.picks {
        match *pick {
            // Someone who wrote to me is answered directly, whatever the rules.
            Pick::Person(id) if answerable.contains(&id) => recipients.push(id),
            Pick::Person(id) => match reach.get(&id) {
                Some(only_broadcast) => {
                    broadcast |= *only_broadcast;
                    recipients.push(id);
                }
                None => return Err(SendRefusal::NotReachable.into()),
            },
            Pick::Group(id) => groups.push(id),
        }
    }
    if !groups.is_empty() {
        let members = communication::members_of_reachable_groups(&state.db, scope, me, &groups)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => Refused::Because(SendRefusal::NotReachable),
                other => Refused::Store(other),
            })?;
        for (_, id, only_broadcast) in members {
            broadcast |= only_broadcast;
            recipients.push(id);
        }
    }
    recipients.sort();
    recipients.dedup();
    recipients.retain(|id| *id != me);
    if recipients.is_empty() {
        return Err(SendRefusal::NoRecipient.into());
    }
    if broadcast && draft.reply_to.is_some() {
        return Err(SendRefusal::BroadcastReply.into());
    }
    let limits = limits_of(&who.actor.profiles);
    let since = preau_store::now() - chrono::Duration::hours(1);
    let sent = messages::sent_since(&state.db, scope, me, since).await?;
    if let Err(refusal) = check_limits(limits, recipients.len(), sent) {
        // Too many messages in an hour is what a hijacked account does; too many recipients
        // is more often a parent ticking a large group.
        if let SendRefusal::TooManyMessages(_) = refusal {
            let detail = format!("{sent} messages en une heure");
            messages::alert_abnormal_sending(&state.db, scope, me, &detail).await?;
        }
        return Err(refusal.into());
    }
    let audience: Vec<String> = draft.picks.iter().map(|p| p.token()).collect();
    let html = body_html(draft.body);
    let id = messages::send(
        &state.db,
        scope,
        &Outgoing {
            sender: me,
            reply_to: draft.reply_to.as_ref().map(|(t, p, _)| (*t, *p)),
            subject: draft.subject.trim(),
            body_html: &html,
            audience: &audience.join(","),
            audience_label: draft.audience_label,
            broadcast,
            recipients: &recipients,
        },
        draft.draft_id,
    )
    .await?;
    Ok(id)
}

/// Labels of people by id, for the recipients line.
pub fn names_of(contacts: &[communication::Contact]) -> HashMap<Uuid, String> {
    contacts
        .iter()
        .map(|c| (c.id, format!("{} {}", c.first_name, c.last_name)))
        .collect()
}
