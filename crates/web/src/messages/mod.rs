//! Messagerie pages: folders, a thread with its replies, writing to reachable people and
//! groups, recall, reports and the directeur's moderation queue.

pub(crate) mod attachments;
pub(crate) mod send;
pub mod text;

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::session::SignedIn;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::Form as MultiForm;
use preau_domain::NationalProfile;
use preau_domain::login::fold_name;
use preau_domain::messaging::{Folder, SendRefusal};
use preau_domain::time::format_paris;
use preau_store::communication::{self, Contact, ReachableGroup};
use preau_store::messages::{self, Message, Summary};
use preau_store::{TenantScope, notifications};
use send::{Draft, Pick, Refused, deliver, picks};
use serde::Deserialize;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", get(folder_page))
        .route("/messages/nouveau", get(compose_page).post(compose_post))
        .route("/messages/contacts", get(contacts_fragment))
        .route("/messages/moderation", get(moderation_page))
        .route("/messages/moderation/{report_id}", post(resolve_report))
        .route("/messages/{id}", get(thread_page))
        .route("/messages/{id}/repondre", post(reply))
        .route("/messages/{id}/corbeille", post(to_trash))
        .route("/messages/{id}/restaurer", post(restore))
        .route("/messages/{id}/supprimer", post(delete_forever))
        .route("/messages/{id}/rappeler", post(recall))
        .route("/messages/{id}/signaler", post(report))
        .route("/messages/pieces/{id}", get(attachments::download))
}

/// The compose form with files, under the upload size limit.
pub fn upload_routes() -> Router<AppState> {
    Router::new().route("/messages/envoi", post(attachments::compose_with_files))
}

/// Lines per folder page.
const PAGE: i64 = 50;

fn scope_of(who: &SignedIn) -> AppResult<TenantScope> {
    who.scope().ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "messages/folder.html")]
struct FolderPage {
    ctx: Ctx,
    /// Words repeated on every line, looked up once.
    new_label: String,
    broadcast_label: String,
    /// Cursor of the next, older page, when there may be one.
    older: Option<String>,
    folder: Folder,
    folders: [Folder; 4],
    rows: Vec<(Summary, String)>,
    unread: i64,
    moderates: bool,
}

#[derive(Deserialize)]
struct FolderQuery {
    #[serde(default)]
    dossier: Option<String>,
    /// Older lines: after this one (`TIME_ID`, from the previous page's link).
    #[serde(default)]
    avant: Option<String>,
}

/// "2026-12-02T10:00:00Z_<uuid>" → the cursor of an older page.
fn parse_cursor(text: &str) -> Option<(chrono::DateTime<chrono::Utc>, Uuid)> {
    let (at, id) = text.split_once('_')?;
    Some((at.parse().ok()?, Uuid::parse_str(id).ok()?))
}

async fn folder_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<FolderQuery>,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    let folder = match q.dossier.as_deref() {
        None => Folder::Inbox,
        Some(code) => code.parse().map_err(|_| AppError::NotFound)?,
    };
    let before = match q.avant.as_deref() {
        None => None,
        Some(text) => Some(parse_cursor(text).ok_or(AppError::BadRequest("error-400-text"))?),
    };
    let rows: Vec<(Summary, String)> =
        messages::folder(&state.db, scope, who.user.id, folder, PAGE, before)
            .await?
            .into_iter()
            .map(|s| {
                let at = format_paris(s.at);
                (s, at)
            })
            .collect();
    let unread = messages::unread_count(&state.db, scope, who.user.id).await?;
    let older = (rows.len() as i64 == PAGE)
        .then(|| {
            rows.last().map(|(s, _)| {
                format!(
                    "{}_{}",
                    s.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    s.id
                )
            })
        })
        .flatten();
    let ctx = Ctx::signed_in(&who, csrf, folder.label_key(), "/messages")
        .with_unread(unread_badge(&state, &who).await);
    Ok(Html(
        FolderPage {
            new_label: ctx.t.get("messages-new"),
            broadcast_label: ctx.t.get("messages-broadcast"),
            older,
            ctx,
            folder,
            folders: [Folder::Inbox, Folder::Sent, Folder::Drafts, Folder::Trash],
            rows,
            unread,
            moderates: !who.actor.admin_structures.is_empty() || who.actor.is_tenant_admin,
        }
        .render()?,
    ))
}

/// A person or group offered in the recipient picker.
pub(crate) struct Choice {
    pub(crate) token: String,
    pub(crate) label: String,
    pub(crate) detail: String,
    pub(crate) checked: bool,
}

fn profile_word(ctx: &Ctx, p: NationalProfile) -> String {
    ctx.t.get(p.label_key())
}

pub(crate) fn person_choice(ctx: &Ctx, c: &Contact, checked: bool) -> Choice {
    let mut detail: Vec<String> = Vec::new();
    if !c.teaches.is_empty() {
        detail.push(
            ctx.t
                .with1("contact-teaches", "children", &c.teaches.join(", ")),
        );
    }
    if !c.children.is_empty() {
        detail.push(
            ctx.t
                .with1("contact-parent-of", "children", &c.children.join(", ")),
        );
    }
    if detail.is_empty()
        && let Some(p) = c.profiles.first()
    {
        detail.push(profile_word(ctx, *p));
    }
    if c.broadcast_only {
        detail.push(ctx.t.get("contact-broadcast-only"));
    }
    Choice {
        token: Pick::Person(c.id).token(),
        label: format!("{} {}", c.first_name, c.last_name),
        detail: detail.join(" · "),
        checked,
    }
}

fn group_label(ctx: &Ctx, g: &ReachableGroup) -> String {
    let who = ctx.t.get(&format!(
        "group-who-{}",
        &g.profile.code()[9..].to_lowercase()
    ));
    let place = g
        .class_name
        .clone()
        .unwrap_or_else(|| g.structure_name.clone());
    ctx.t.with(
        "group-label",
        &[("who", who.as_str()), ("place", place.as_str())],
    )
}

fn group_choice(ctx: &Ctx, g: &ReachableGroup, checked: bool) -> Choice {
    let mut detail = ctx
        .t
        .with1("group-members", "count", &g.members.to_string());
    if g.broadcast {
        detail.push_str(" · ");
        detail.push_str(&ctx.t.get("contact-broadcast-only"));
    }
    if g.class_name.is_some() {
        detail = format!("{} · {}", g.structure_name, detail);
    }
    Choice {
        token: Pick::Group(g.id).token(),
        label: group_label(ctx, g),
        detail,
        checked,
    }
}

/// People and groups matching a search, at most `limit`. Names, the children a guardian is a
/// parent of, and the writer's children a teacher teaches all match ("maîtresse de Léa").
pub(crate) fn search(
    ctx: &Ctx,
    contacts: &[Contact],
    groups: &[ReachableGroup],
    query: &str,
    limit: usize,
) -> Vec<Choice> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(fold_name)
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let hits = |hay: &str| words.iter().all(|w| hay.contains(w.as_str()));
    let mut out: Vec<Choice> = groups
        .iter()
        .map(|g| group_choice(ctx, g, false))
        .filter(|c| hits(&fold_name(&format!("{} {}", c.label, c.detail))))
        .collect();
    for c in contacts {
        let hay = fold_name(&format!(
            "{} {} {} {}",
            c.first_name,
            c.last_name,
            c.children.join(" "),
            c.teaches.join(" ")
        ));
        let choice = person_choice(ctx, c, false);
        if hits(&hay) || hits(&fold_name(&choice.detail)) {
            out.push(choice);
        }
        if out.len() >= limit {
            break;
        }
    }
    out.truncate(limit);
    out
}

#[derive(Template)]
#[template(path = "messages/compose.html")]
struct ComposePage {
    ctx: Ctx,
    pub(crate) subject: String,
    pub(crate) body: String,
    selected: Vec<Choice>,
    query: String,
    results: Vec<Choice>,
    searched: bool,
    pub(crate) draft_id: String,
    may_broadcast: bool,
    broadcast: bool,
    /// (attachment, size shown) of the draft
    attachments: Vec<(messages::Attachment, String)>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "messages/contacts.html")]
struct ContactsFragment {
    ctx: Ctx,
    results: Vec<Choice>,
    searched: bool,
}

#[derive(Deserialize, Default)]
struct ComposeQuery {
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    brouillon: Option<Uuid>,
}

/// Only those who write to whole schools may mark a message as a broadcast (no replies).
fn may_broadcast(who: &SignedIn) -> bool {
    who.actor.has_profile(NationalProfile::Direction)
        || who.actor.has_profile(NationalProfile::Collectivite)
        || who.actor.has_profile(NationalProfile::Academique)
}

struct ComposeState {
    subject: String,
    body: String,
    picks: Vec<Pick>,
    query: String,
    broadcast: bool,
    draft_id: Option<Uuid>,
}

async fn render_compose(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    form: ComposeState,
    error: Option<String>,
) -> AppResult<Html<String>> {
    let scope = scope_of(who)?;
    let ctx = Ctx::signed_in(who, csrf, "compose-title", "/messages");
    let contacts = communication::contacts(&state.db, scope, who.user.id).await?;
    let groups = communication::reachable_groups(&state.db, scope, who.user.id).await?;
    let mut selected = Vec::new();
    for pick in &form.picks {
        let choice = match pick {
            Pick::Person(id) => contacts
                .iter()
                .find(|c| c.id == *id)
                .map(|c| person_choice(&ctx, c, true)),
            Pick::Group(id) => groups
                .iter()
                .find(|g| g.id == *id)
                .map(|g| group_choice(&ctx, g, true)),
        };
        selected.extend(choice);
    }
    let results = search(&ctx, &contacts, &groups, &form.query, 30)
        .into_iter()
        .filter(|c| !selected.iter().any(|s| s.token == c.token))
        .collect();
    let attachments = match form.draft_id {
        Some(d) => messages::draft_attachments(&state.db, scope, who.user.id, d)
            .await?
            .into_iter()
            .map(|a| {
                let size = size_text(a.size);
                (a, size)
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(Html(
        ComposePage {
            ctx,
            subject: form.subject,
            body: form.body,
            selected,
            searched: !form.query.trim().is_empty(),
            query: form.query,
            results,
            draft_id: form.draft_id.map(|d| d.to_string()).unwrap_or_default(),
            may_broadcast: may_broadcast(who),
            broadcast: form.broadcast,
            attachments,
            error,
        }
        .render()?,
    ))
}

async fn compose_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<ComposeQuery>,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    let mut form = ComposeState {
        subject: String::new(),
        body: String::new(),
        picks: q.to.as_deref().and_then(Pick::parse).into_iter().collect(),
        query: String::new(),
        broadcast: false,
        draft_id: None,
    };
    if let Some(id) = q.brouillon {
        let (subject, body, audience) = messages::draft(&state.db, scope, who.user.id, id).await?;
        form.subject = subject;
        form.body = body;
        form.picks = audience.split(',').filter_map(Pick::parse).collect();
        form.draft_id = Some(id);
    }
    render_compose(&state, &who, csrf, form, None).await
}

#[derive(Deserialize, Default)]
pub(crate) struct ComposeForm {
    #[serde(default)]
    pub(crate) to: Vec<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    pub(crate) q: String,
    #[serde(default)]
    pub(crate) broadcast: Option<String>,
    #[serde(default)]
    draft_id: String,
    #[serde(default)]
    pub(crate) action: String,
}

fn refusal_text(ctx_t: &crate::i18n::Tr, r: &SendRefusal) -> String {
    match r.limit() {
        Some(n) => ctx_t.with1(r.key(), "count", &n.to_string()),
        None => ctx_t.get(r.key()),
    }
}

async fn compose_post(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    MultiForm(f): MultiForm<ComposeForm>,
) -> AppResult<Response> {
    handle_compose(&state, &who, csrf, f, None).await
}

/// What the compose form asks (send, save, search), whichever way it was posted.
pub(crate) async fn handle_compose(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    f: ComposeForm,
    error: Option<String>,
) -> AppResult<Response> {
    let (state, who) = (state.clone(), who.clone());
    let scope = scope_of(&who)?;
    let t = crate::i18n::Tr::french();
    let draft_id = Uuid::parse_str(f.draft_id.trim()).ok();
    let parsed = picks(&f.to);
    let form = ComposeState {
        subject: f.subject.clone(),
        body: f.body.clone(),
        picks: parsed.clone().unwrap_or_default(),
        query: f.q.clone(),
        broadcast: f.broadcast.is_some(),
        draft_id,
    };
    if let Some(error) = error {
        let page = render_compose(&state, &who, csrf, form, Some(error)).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    match f.action.as_str() {
        "send" => {}
        "draft" => {
            let audience: Vec<String> = form.picks.iter().map(|p| p.token()).collect();
            let label = audience_label(&state, &who, scope, &form.picks).await?;
            let text = messages::DraftText {
                subject: &f.subject,
                body: &f.body,
                audience: &audience.join(","),
                audience_label: &label,
            };
            messages::save_draft(&state.db, scope, who.user.id, draft_id, &text).await?;
            return Ok(Redirect::to("/messages?dossier=drafts").into_response());
        }
        // Searching recipients without JavaScript: the same form comes back with results.
        _ => {
            return Ok(render_compose(&state, &who, csrf, form, None)
                .await?
                .into_response());
        }
    }
    let chosen = match parsed {
        Ok(p) => p,
        Err(r) => {
            let error = refusal_text(&t, &r);
            let page = render_compose(&state, &who, csrf, form, Some(error)).await?;
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let label = audience_label(&state, &who, scope, &chosen).await?;
    let outcome = deliver(
        &state,
        &who,
        scope,
        Draft {
            subject: &f.subject,
            body: &f.body,
            picks: &chosen,
            audience_label: &label,
            broadcast: f.broadcast.is_some() && may_broadcast(&who),
            reply_to: None,
            draft_id,
        },
    )
    .await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/messages/{id}")).into_response()),
        Err(Refused::Because(r)) => {
            let error = refusal_text(&t, &r);
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render_compose(&state, &who, csrf, form, Some(error)).await?,
            )
                .into_response())
        }
        Err(Refused::Store(e)) => Err(e.into()),
    }
}

/// The recipients as a line of names ("Thomas Maitre, Parents — CM1 A").
pub(crate) async fn audience_label(
    state: &AppState,
    who: &SignedIn,
    scope: TenantScope,
    chosen: &[Pick],
) -> AppResult<String> {
    let contacts = communication::contacts(&state.db, scope, who.user.id).await?;
    let groups = communication::reachable_groups(&state.db, scope, who.user.id).await?;
    let ctx = Ctx::signed_in(who, String::new(), "compose-title", "/messages");
    let names = send::names_of(&contacts);
    let label: Vec<String> = chosen
        .iter()
        .filter_map(|p| match p {
            Pick::Person(id) => names.get(id).cloned(),
            Pick::Group(id) => groups
                .iter()
                .find(|g| g.id == *id)
                .map(|g| group_label(&ctx, g)),
        })
        .collect();
    Ok(label.join(", "))
}

#[derive(Deserialize)]
struct ContactsQuery {
    #[serde(default)]
    q: String,
}

/// The recipient picker's results, for htmx as the person types.
async fn contacts_fragment(
    State(state): State<AppState>,
    who: SignedIn,
    Query(q): Query<ContactsQuery>,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    let ctx = Ctx::signed_in(&who, String::new(), "compose-title", "/messages");
    let contacts = communication::contacts(&state.db, scope, who.user.id).await?;
    let groups = communication::reachable_groups(&state.db, scope, who.user.id).await?;
    let results = search(&ctx, &contacts, &groups, &q.q, 30);
    Ok(Html(
        ContactsFragment {
            ctx,
            searched: !q.q.trim().is_empty(),
            results,
        }
        .render()?,
    ))
}

/// A message of a thread: (message, date shown, may be recalled, its files with sizes).
type ThreadItem = (Message, String, bool, Vec<(messages::Attachment, String)>);

#[derive(Template)]
#[template(path = "messages/thread.html")]
struct ThreadPage {
    ctx: Ctx,
    subject: String,
    items: Vec<ThreadItem>,
    last_id: Uuid,
    may_reply: bool,
    may_reply_all: bool,
    notice: Option<String>,
}

async fn thread_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
) -> AppResult<Html<String>> {
    render_thread(&state, &who, csrf, id, None).await
}

async fn render_thread(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    id: Uuid,
    notice: Option<String>,
) -> AppResult<Html<String>> {
    let scope = scope_of(who)?;
    let thread_id = messages::thread_of(&state.db, scope, who.user.id, id).await?;
    let thread = messages::thread(&state.db, scope, who.user.id, thread_id).await?;
    let last = thread.last().ok_or(AppError::NotFound)?;
    messages::mark_thread_read(&state.db, scope, who.user.id, thread_id).await?;
    let now = preau_store::now();
    let window = chrono::Duration::minutes(state.config.recall_minutes);
    let subject = thread[0].subject.clone();
    let may_reply = !last.broadcast && thread.iter().any(|m| !m.mine);
    let may_reply_all = !last.broadcast && last.recipient_count > 1;
    let last_id = last.id;
    let ids: Vec<Uuid> = thread.iter().map(|m| m.id).collect();
    let files = messages::attachments(&state.db, scope, &ids).await?;
    let items = thread
        .into_iter()
        .map(|m| {
            let at = format_paris(m.sent_at);
            let recallable = m.mine
                && !m.recalled
                && preau_domain::messaging::may_recall(m.sent_at, now, window);
            let mine: Vec<_> = files
                .iter()
                .filter(|a| a.message_id == m.id)
                .map(|a| (a.clone(), size_text(a.size)))
                .collect();
            (m, at, recallable, mine)
        })
        .collect();
    Ok(Html(
        ThreadPage {
            ctx: Ctx::signed_in(who, csrf, "thread-title", "/messages").titled(subject.clone()),
            subject,
            items,
            last_id,
            may_reply,
            may_reply_all,
            notice,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    all: Option<String>,
}

async fn reply(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
    Form(f): Form<ReplyForm>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let me = who.user.id;
    let thread_id = messages::thread_of(&state.db, scope, me, id).await?;
    let thread = messages::thread(&state.db, scope, me, thread_id).await?;
    let original = thread
        .iter()
        .find(|m| m.id == id)
        .ok_or(AppError::NotFound)?;
    let t = crate::i18n::Tr::french();
    if original.broadcast {
        let error = t.get(SendRefusal::BroadcastReply.key());
        return Ok(render_thread(&state, &who, csrf, id, Some(error))
            .await?
            .into_response());
    }
    // The sender of what I answer, and for reply-all the other recipients I may reach.
    let answer_to = if original.mine {
        thread.iter().rev().find(|m| !m.mine).map(|m| m.sender_id)
    } else {
        Some(original.sender_id)
    };
    let mut people: Vec<Uuid> = answer_to.into_iter().collect();
    if f.all.is_some() {
        let reach = state
            .reach
            .reach(&state.db, scope, me, who.directory_version)
            .await?;
        let reachable = reach.keys().copied().collect();
        let recipients = messages::recipients(&state.db, scope, original.id).await?;
        people = preau_domain::messaging::reply_all_recipients(
            original.sender_id,
            &recipients,
            me,
            &reachable,
        );
    }
    // Whoever wrote to me in this thread may be answered, whatever the rules.
    let mut answerable: Vec<Uuid> = thread
        .iter()
        .filter(|m| !m.mine)
        .map(|m| m.sender_id)
        .collect();
    answerable.dedup();
    let chosen: Vec<Pick> = people.iter().map(|p| Pick::Person(*p)).collect();
    let subject: String = if original.subject.starts_with("Re :") {
        original.subject.clone()
    } else {
        format!("Re : {}", original.subject)
    }
    .chars()
    .take(preau_domain::messaging::MAX_SUBJECT_CHARS)
    .collect();
    let contacts = communication::contacts(&state.db, scope, me).await?;
    let mut names = send::names_of(&contacts);
    names.insert(original.sender_id, original.sender_name.clone());
    let label: Vec<String> = people
        .iter()
        .filter_map(|p| names.get(p).cloned())
        .collect();
    let outcome = deliver(
        &state,
        &who,
        scope,
        Draft {
            subject: &subject,
            body: &f.body,
            picks: &chosen,
            audience_label: &label.join(", "),
            broadcast: false,
            reply_to: Some((thread_id, original.id, answerable)),
            draft_id: None,
        },
    )
    .await;
    match outcome {
        Ok(new_id) => Ok(Redirect::to(&format!("/messages/{new_id}")).into_response()),
        Err(Refused::Because(r)) => {
            let error = refusal_text(&t, &r);
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render_thread(&state, &who, csrf, id, Some(error)).await?,
            )
                .into_response())
        }
        Err(Refused::Store(e)) => Err(e.into()),
    }
}

/// Moves a message for the reader; the files of a draft thrown away go with it.
async fn put_away(state: &AppState, who: &SignedIn, id: Uuid, to: Option<Folder>) -> AppResult<()> {
    let files = messages::move_to(&state.db, scope_of(who)?, who.user.id, id, to).await?;
    for file in files {
        attachments::remove_file(state, file).await;
    }
    Ok(())
}

async fn to_trash(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Redirect> {
    put_away(&state, &who, id, Some(Folder::Trash)).await?;
    Ok(Redirect::to("/messages"))
}

async fn restore(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Redirect> {
    put_away(&state, &who, id, Some(Folder::Inbox)).await?;
    Ok(Redirect::to("/messages?dossier=trash"))
}

async fn delete_forever(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Redirect> {
    put_away(&state, &who, id, None).await?;
    Ok(Redirect::to("/messages?dossier=trash"))
}

async fn recall(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let window = chrono::Duration::minutes(state.config.recall_minutes);
    let t = crate::i18n::Tr::french();
    if messages::recall(&state.db, scope, who.user.id, id, window).await? {
        Ok(Redirect::to("/messages?dossier=sent").into_response())
    } else {
        let error = t.with1(
            "recall-too-late",
            "count",
            &state.config.recall_minutes.to_string(),
        );
        Ok(render_thread(&state, &who, csrf, id, Some(error))
            .await?
            .into_response())
    }
}

#[derive(Deserialize)]
struct ReportForm {
    #[serde(default)]
    reason: String,
}

async fn report(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
    Form(f): Form<ReportForm>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let reason: String = f.reason.trim().chars().take(1000).collect();
    messages::report(&state.db, scope, who.user.id, id, &reason).await?;
    let notice = crate::i18n::Tr::french().get("report-done");
    Ok(render_thread(&state, &who, csrf, id, Some(notice))
        .await?
        .into_response())
}

#[derive(Template)]
#[template(path = "messages/moderation.html")]
struct ModerationPage {
    ctx: Ctx,
    reports: Vec<(messages::Report, String)>,
}

async fn moderation_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    if who.actor.admin_structures.is_empty() && !who.actor.is_tenant_admin {
        return Err(AppError::Forbidden);
    }
    let t = crate::i18n::Tr::french();
    let unplaced = who.actor.is_tenant_admin;
    // The alerts that lead here are now seen.
    notifications::mark_kind_read(&state.db, scope, who.user.id, "message_flood").await?;
    let reports = messages::open_reports(&state.db, scope, &who.actor.admin_structures, unplaced)
        .await?
        .into_iter()
        .map(|r| {
            let at = format_paris(r.at);
            let meta = t.with(
                "moderation-meta",
                &[
                    ("sender", r.sender_name.as_str()),
                    ("reporter", r.reporter_name.as_str()),
                    ("date", at.as_str()),
                ],
            );
            (r, meta)
        })
        .collect();
    Ok(Html(
        ModerationPage {
            ctx: Ctx::signed_in(&who, csrf, "moderation-title", "/messages"),
            reports,
        }
        .render()?,
    ))
}

async fn resolve_report(
    State(state): State<AppState>,
    who: SignedIn,
    Path(report_id): Path<Uuid>,
) -> AppResult<Redirect> {
    let scope = scope_of(&who)?;
    messages::resolve_report(
        &state.db,
        scope,
        &who.actor.admin_structures,
        who.actor.is_tenant_admin,
        report_id,
        who.user.id,
    )
    .await?;
    Ok(Redirect::to("/messages/moderation"))
}

/// "2,4 Mo", "12 ko".
pub(crate) fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} Mo", bytes as f64 / 1024.0 / 1024.0).replace('.', ",")
    } else {
        format!("{} ko", (bytes + 1023) / 1024)
    }
}

/// Unread notifications, for badges.
pub async fn unread_badge(state: &AppState, who: &SignedIn) -> i64 {
    match who.scope() {
        Some(scope) => notifications::unread_count(&state.db, scope, who.user.id)
            .await
            .unwrap_or(0),
        None => 0,
    }
}
