//! Instant chat: small conversations among people who may reach each other, live through
//! server-sent events (a page refresh without JavaScript), read markers, and the school's
//! hours outside which families' messages wait.

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::messages::send::{Pick, picks};
use crate::messages::{Choice, person_choice, search};
use crate::session::SignedIn;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_extra::extract::Form as MultiForm;
use futures_util::Stream;
use preau_domain::NationalProfile;
use preau_domain::chat::{ChatHours, MAX_MEMBERS, check_body};
use preau_domain::messaging::{is_blocked, limits_of};
use preau_domain::time::format_paris;
use preau_store::chat::{self, ChatMessage, ConversationLine};
use preau_store::{TenantScope, communication, messages};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/discussions", get(list_page).post(create))
        .route(
            "/discussions/{id}",
            get(conversation_page).post(post_message),
        )
        .route("/discussions/{id}/flux", get(stream))
}

/// Conversations one person may start in an hour.
const CONVERSATIONS_PER_HOUR: u64 = 20;

fn scope_of(who: &SignedIn) -> AppResult<TenantScope> {
    who.scope().ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "chat/list.html")]
struct ListPage {
    ctx: Ctx,
    conversations: Vec<(ConversationLine, String)>,
    title: String,
    query: String,
    selected: Vec<Choice>,
    results: Vec<Choice>,
    searched: bool,
    error: Option<String>,
}

struct NewConversation {
    title: String,
    query: String,
    picks: Vec<Pick>,
}

async fn render_list(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    form: NewConversation,
    error: Option<String>,
) -> AppResult<Html<String>> {
    let scope = scope_of(who)?;
    let ctx = Ctx::signed_in(who, csrf, "chat-title", "/discussions");
    let conversations = chat::conversations(&state.db, scope, who.user.id)
        .await?
        .into_iter()
        .map(|c| {
            let at = format_paris(c.last_at);
            (c, at)
        })
        .collect();
    let contacts: Vec<_> = communication::contacts(&state.db, scope, who.user.id)
        .await?
        .into_iter()
        .filter(|c| !c.broadcast_only)
        .collect();
    let selected: Vec<Choice> = form
        .picks
        .iter()
        .filter_map(|p| match p {
            Pick::Person(id) => contacts
                .iter()
                .find(|c| c.id == *id)
                .map(|c| person_choice(&ctx, c, true)),
            Pick::Group(_) => None,
        })
        .collect();
    let results = search(&ctx, &contacts, &[], &form.query, 20)
        .into_iter()
        .filter(|c| !selected.iter().any(|s| s.token == c.token))
        .collect();
    Ok(Html(
        ListPage {
            ctx,
            conversations,
            title: form.title,
            searched: !form.query.trim().is_empty(),
            query: form.query,
            selected,
            results,
            error,
        }
        .render()?,
    ))
}

async fn list_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Html<String>> {
    let form = NewConversation {
        title: String::new(),
        query: String::new(),
        picks: Vec::new(),
    };
    render_list(&state, &who, csrf, form, None).await
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    action: String,
}

async fn create(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    MultiForm(f): MultiForm<CreateForm>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let t = Tr::french();
    let chosen = picks(&f.to);
    let form = NewConversation {
        title: f.title.clone(),
        query: f.q.clone(),
        picks: chosen.clone().unwrap_or_default(),
    };
    if f.action != "create" {
        return Ok(render_list(&state, &who, csrf, form, None)
            .await?
            .into_response());
    }
    let refuse = |key: &str| t.get(key);
    let people: Option<Vec<Uuid>> = chosen.ok().map(|p| {
        p.into_iter()
            .filter_map(|p| match p {
                Pick::Person(id) => Some(id),
                Pick::Group(_) => None,
            })
            .collect()
    });
    let reach = state
        .reach
        .reach(&state.db, scope, who.user.id, who.directory_version)
        .await?;
    let blocks: Vec<_> = messages::blocks(&state.db, scope)
        .await?
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let since = preau_store::now() - chrono::Duration::hours(1);
    let started = chat::created_since(&state.db, scope, who.user.id, since).await?;
    let error = match &people {
        _ if is_blocked(&who.actor.profiles, &blocks) => Some(refuse("send-blocked")),
        _ if started >= CONVERSATIONS_PER_HOUR => Some(t.with1(
            "chat-too-many-new",
            "count",
            &CONVERSATIONS_PER_HOUR.to_string(),
        )),
        None => Some(refuse("send-not-reachable")),
        Some(p) if p.is_empty() => Some(refuse("send-no-recipient")),
        Some(p) if p.len() + 1 > MAX_MEMBERS => {
            Some(t.with1("chat-too-many", "count", &MAX_MEMBERS.to_string()))
        }
        Some(p) if p.iter().any(|id| reach.get(id) != Some(&false)) => {
            Some(refuse("send-not-reachable"))
        }
        Some(_) => None,
    };
    if let Some(error) = error {
        let page = render_list(&state, &who, csrf, form, Some(error)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let people = people.unwrap_or_default();
    let title: String = f.title.trim().chars().take(120).collect();
    let title = if title.is_empty() {
        t.get("chat-untitled")
    } else {
        title
    };
    let id = chat::create(&state.db, scope, who.user.id, &people, &title).await?;
    Ok(Redirect::to(&format!("/discussions/{id}")).into_response())
}

/// One message as shown in the conversation and sent on the live stream.
struct Line {
    id: Uuid,
    sender: String,
    mine: bool,
    body: String,
    at: String,
    waiting_until: Option<String>,
}

fn line(m: ChatMessage, me: Uuid, now: chrono::DateTime<chrono::Utc>) -> Line {
    Line {
        id: m.id,
        sender: m.sender_name,
        mine: m.sender_id == me,
        body: m.body,
        at: format_paris(m.created_at),
        waiting_until: (m.visible_at > now).then(|| format_paris(m.visible_at)),
    }
}

#[derive(Template)]
#[template(path = "chat/line.html")]
struct LineFragment {
    ctx: Ctx,
    m: Line,
}

#[derive(Template)]
#[template(path = "chat/conversation.html")]
struct ConversationPage {
    ctx: Ctx,
    id: Uuid,
    title: String,
    members: String,
    lines: Vec<Line>,
    since: String,
    read_by: String,
    hours_note: Option<String>,
    error: Option<String>,
}

async fn render_conversation(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    id: Uuid,
    error: Option<String>,
) -> AppResult<Html<String>> {
    let scope = scope_of(who)?;
    let me = who.user.id;
    let (title, members) = chat::conversation(&state.db, scope, me, id).await?;
    let list = chat::messages(&state.db, scope, me, id).await?;
    chat::mark_read(&state.db, scope, me, id).await?;
    let now = preau_store::now();
    let t = Tr::french();
    let last_visible = list
        .iter()
        .rev()
        .find(|m| m.visible_at <= now)
        .map(|m| m.visible_at);
    let read_by: Vec<String> = members
        .iter()
        .filter(|m| m.id != me)
        .filter(|m| last_visible.is_some_and(|v| m.last_read_at.is_some_and(|r| r >= v)))
        .map(|m| m.name.clone())
        .collect();
    let hours_note = family_hours(state, who, scope).await?.map(|h| {
        t.with(
            "chat-hours-note",
            &[
                ("min", h.opens.format("%H:%M").to_string().as_str()),
                ("minutes", h.closes.format("%H:%M").to_string().as_str()),
            ],
        )
    });
    let since = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let lines = list.into_iter().map(|m| line(m, me, now)).collect();
    Ok(Html(
        ConversationPage {
            ctx: Ctx::signed_in(who, csrf, "chat-title", "/discussions").titled(title.clone()),
            id,
            title,
            members: members
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            lines,
            since,
            read_by: if read_by.is_empty() {
                String::new()
            } else {
                t.with1("chat-read-by", "name", &read_by.join(", "))
            },
            hours_note,
            error,
        }
        .render()?,
    ))
}

/// The hours that hold a family's messages: those of the first school where the writer is a
/// guardian (none for staff and pupils).
async fn family_hours(
    state: &AppState,
    who: &SignedIn,
    scope: TenantScope,
) -> AppResult<Option<ChatHours>> {
    let staff = who
        .actor
        .profiles
        .iter()
        .any(|(_, p)| p.is_school_staff() || *p == NationalProfile::Direction);
    let school = who
        .actor
        .profiles
        .iter()
        .find(|(_, p)| *p == NationalProfile::Tuteur)
        .map(|(s, _)| *s);
    match school {
        Some(s) if !staff => Ok(Some(chat::hours(&state.db, scope, s).await?)),
        _ => Ok(None),
    }
}

async fn conversation_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
) -> AppResult<Html<String>> {
    render_conversation(&state, &who, csrf, id, None).await
}

#[derive(Deserialize)]
struct PostForm {
    #[serde(default)]
    body: String,
}

async fn post_message(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
    Form(f): Form<PostForm>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let me = who.user.id;
    if !chat::is_member(&state.db, scope, me, id).await? {
        return Err(AppError::NotFound);
    }
    let t = Tr::french();
    let blocks: Vec<_> = messages::blocks(&state.db, scope)
        .await?
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    // Rules may have changed since the conversation began (a teacher closing pupils'
    // exchanges, a child changing class): every other member must still be reachable.
    let (_, members) = chat::conversation(&state.db, scope, me, id).await?;
    let reach = state
        .reach
        .reach(&state.db, scope, me, who.directory_version)
        .await?;
    let still = members
        .iter()
        .filter(|m| m.id != me)
        .all(|m| reach.get(&m.id) == Some(&false));
    let error = if !check_body(&f.body) {
        Some(t.get("chat-bad-body"))
    } else if is_blocked(&who.actor.profiles, &blocks) {
        Some(t.get("send-blocked"))
    } else if !still {
        Some(t.get("chat-closed"))
    } else {
        // Chat is chattier than mail: six times the hourly message allowance.
        let limit = u64::from(limits_of(&who.actor.profiles).per_hour) * 6;
        let since = preau_store::now() - chrono::Duration::hours(1);
        let sent = chat::sent_since(&state.db, scope, me, since).await?;
        (sent >= limit).then(|| t.with1("send-too-many-messages", "count", &limit.to_string()))
    };
    if let Some(error) = error {
        let page = render_conversation(&state, &who, csrf, id, Some(error)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let now = preau_store::now();
    let visible_at = match family_hours(&state, &who, scope).await? {
        Some(h) => h.delivery(now),
        None => now,
    };
    chat::post(&state.db, scope, me, id, f.body.trim(), visible_at).await?;
    // Nobody listening is not an error.
    let _ = state.chat_events.send(id);
    Ok(Redirect::to(&format!("/discussions/{id}#fin")).into_response())
}

#[derive(Deserialize)]
struct StreamQuery {
    /// When the page was rendered (RFC 3339): what it showed then is not sent again.
    #[serde(default)]
    since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Lines of a conversation as server-sent events, each event some HTML lines to append.
/// Lines are told apart by id rather than by a cursor: a family's line held until the school
/// opens comes out later than lines written after it.
async fn stream(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
    Query(q): Query<StreamQuery>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let scope = scope_of(&who)?;
    let me = who.user.id;
    if !chat::is_member(&state.db, scope, me, id).await? {
        return Err(AppError::NotFound);
    }
    let since = q.since.unwrap_or_else(preau_store::now);
    let shown: std::collections::HashSet<Uuid> = chat::messages(&state.db, scope, me, id)
        .await?
        .into_iter()
        .filter(|m| {
            if m.sender_id == me {
                m.created_at <= since
            } else {
                m.visible_at <= since
            }
        })
        .map(|m| m.id)
        .collect();
    let events = state.chat_events.subscribe();
    let db = state.db.clone();
    let policy = state.config.session;
    let init = (events, shown, db, who);
    let s =
        futures_util::stream::unfold(init, move |(mut events, mut shown, db, who)| async move {
            loop {
                // A line in this conversation, or every 30 s (lines held until the school's hours
                // open become visible without anyone posting).
                let wake = tokio::time::timeout(Duration::from_secs(30), events.recv()).await;
                match wake {
                    Ok(Ok(conv)) if conv != id => continue,
                    Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return None,
                    _ => {}
                }
                // Someone signed out, or removed from the conversation, stops receiving.
                let signed_in = preau_store::sessions::lookup(&db, &who.token, policy)
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|session| session.user.id == who.user.id);
                if !signed_in
                    || !chat::is_member(&db, scope, who.user.id, id)
                        .await
                        .unwrap_or(false)
                {
                    return None;
                }
                let Ok(list) = chat::messages(&db, scope, who.user.id, id).await else {
                    return None;
                };
                let fresh: Vec<ChatMessage> = list
                    .into_iter()
                    .filter(|m| !shown.contains(&m.id))
                    .collect();
                if fresh.is_empty() {
                    continue;
                }
                let now = preau_store::now();
                let _ = chat::mark_read(&db, scope, who.user.id, id).await;
                let mut html = String::new();
                for m in fresh {
                    shown.insert(m.id);
                    let fragment = LineFragment {
                        ctx: Ctx::signed_in(&who, String::new(), "chat-title", "/discussions"),
                        m: line(m, who.user.id, now),
                    };
                    html.push_str(&fragment.render().unwrap_or_default());
                }
                let event = Event::default()
                    .event("lines")
                    .data(html.replace('\n', " "));
                return Some((Ok(event), (events, shown, db, who)));
            }
        });
    Ok(Sse::new(s).keep_alive(KeepAlive::default()))
}
