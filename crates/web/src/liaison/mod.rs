//! Cahier de liaison pages: the school's mots with who has said "vu", a family's mots per
//! child with one-tap "vu" and private replies, a pupil's class mots (read aloud), writing,
//! editing with history, reminders and attachments.

mod access;
mod post;

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::session::SignedIn;
use access::{Access, access};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post as post_route};
use axum::{Form, Router};
use preau_domain::NationalProfile;
use preau_domain::liaison::{
    LANGUAGES, check_mot, check_reply, is_right_to_left, reminder_interval,
};
use preau_domain::time::format_paris;
use preau_store::directory::{self, ChildSummary};
use preau_store::liaison::{self, Attachment, ForChild, Mot, PupilAck, Reply, Revision, Tracked};
use preau_store::{TenantScope, notifications};
use serde::Deserialize;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/liaison", get(index))
        .route("/liaison/nouveau", get(post::new_page))
        .route("/liaison/{id}", get(mot_page))
        .route("/liaison/{id}/vu", post_route(acknowledge))
        .route("/liaison/{id}/repondre", post_route(reply))
        .route("/liaison/{id}/relancer", post_route(remind))
        .route("/liaison/{id}/modifier", get(edit_page).post(edit))
        .route("/liaison/pieces/{id}", get(download))
}

/// Posting a mot with files, under the upload size limit.
pub fn upload_routes() -> Router<AppState> {
    Router::new().route("/liaison/nouveau", post_route(post::create))
}

/// Mots shown per list.
const PAGE: i64 = 60;

fn scope_of(who: &SignedIn) -> AppResult<TenantScope> {
    who.scope().ok_or(AppError::NotFound)
}

/// Whether this person writes mots (teaches, or runs a school).
fn is_staff(who: &SignedIn) -> bool {
    !who.actor.taught_classes.is_empty() || !who.actor.admin_structures.is_empty()
}

/// A mot's text as shown: its language, direction, and dates.
pub(crate) struct Shown {
    pub(crate) mot: Mot,
    pub(crate) dir: &'static str,
    pub(crate) published: String,
    pub(crate) edited: Option<String>,
}

impl Shown {
    fn of(mot: Mot) -> Self {
        Self {
            dir: if is_right_to_left(&mot.language) {
                "rtl"
            } else {
                "ltr"
            },
            published: format_paris(mot.publish_at),
            edited: mot.edited_at.map(format_paris),
            mot,
        }
    }
}

/// One mot in a family's list, with a "vu" line per child it was addressed to.
struct FamilyMot {
    shown: Shown,
    children: Vec<(ChildSummary, Option<String>, i64)>,
}

#[derive(Template)]
#[template(path = "liaison/index.html")]
struct IndexPage {
    ctx: Ctx,
    staff: Vec<(Tracked, String)>,
    is_staff: bool,
    children: Vec<ChildSummary>,
    selected: Option<Uuid>,
    family: Vec<FamilyMot>,
    pupil: Vec<Shown>,
    is_pupil: bool,
}

#[derive(Deserialize)]
struct IndexQuery {
    #[serde(default)]
    enfant: Option<String>,
}

async fn index(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<IndexQuery>,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    let actor = &who.actor;
    let selected = match q.enfant.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match text.parse::<Uuid>() {
            Ok(id) if actor.is_guardian_of(id) => Some(id),
            _ => return Err(AppError::NotFound),
        },
    };
    let staff = if is_staff(&who) {
        liaison::for_staff(
            &state.db,
            scope,
            who.user.id,
            &actor.admin_structures,
            &actor.taught_classes,
            PAGE,
        )
        .await?
        .into_iter()
        .map(|t| {
            let at = format_paris(t.mot.publish_at);
            (t, at)
        })
        .collect()
    } else {
        Vec::new()
    };
    let (mut children, mut family) = (Vec::new(), Vec::new());
    if !actor.children.is_empty() {
        children = directory::children_of(&state.db, scope, who.user.id).await?;
        let wanted: Vec<Uuid> = match selected {
            Some(id) => vec![id],
            None => children.iter().map(|c| c.id).collect(),
        };
        let lines = liaison::for_pupils(&state.db, scope, &wanted, who.user.id, PAGE).await?;
        family = group_by_mot(lines, &children);
    }
    let is_pupil = actor.has_profile(NationalProfile::Eleve);
    let pupil = if is_pupil {
        liaison::for_pupils(&state.db, scope, &[who.user.id], who.user.id, PAGE)
            .await?
            .into_iter()
            .map(|l| Shown::of(l.mot))
            .collect()
    } else {
        Vec::new()
    };
    notifications::mark_kind_read(&state.db, scope, who.user.id, "liaison_reply").await?;
    let unread = notifications::unread_count(&state.db, scope, who.user.id).await?;
    Ok(Html(
        IndexPage {
            ctx: Ctx::signed_in(&who, csrf, "liaison-title", "/liaison").with_unread(unread),
            staff,
            is_staff: is_staff(&who),
            children,
            selected,
            family,
            pupil,
            is_pupil,
        }
        .render()?,
    ))
}

/// One entry per mot (lines come one per child, newest mot first).
fn group_by_mot(lines: Vec<ForChild>, children: &[ChildSummary]) -> Vec<FamilyMot> {
    let mut out: Vec<FamilyMot> = Vec::new();
    for line in lines {
        let Some(child) = children.iter().find(|c| c.id == line.pupil_id).cloned() else {
            continue;
        };
        let ack = line.my_ack.map(format_paris);
        match out.iter_mut().find(|m| m.shown.mot.id == line.mot.id) {
            Some(existing) => existing.children.push((child, ack, line.acks)),
            None => out.push(FamilyMot {
                shown: Shown::of(line.mot),
                children: vec![(child, ack, line.acks)],
            }),
        }
    }
    out
}

/// A reply with its date.
pub(crate) struct ShownReply {
    reply: Reply,
    at: String,
    mine: bool,
}

/// One guardian's exchange about one child, as the school sees it.
struct Exchange {
    guardian_id: Uuid,
    guardian_name: String,
    pupil_id: Uuid,
    pupil_name: String,
    replies: Vec<ShownReply>,
}

#[derive(Template)]
#[template(path = "liaison/mot.html")]
struct MotPage {
    ctx: Ctx,
    shown: Shown,
    classes: Vec<(Uuid, String)>,
    attachments: Vec<(Attachment, String)>,
    revisions: Vec<(Revision, String)>,
    /// The school's view.
    staff: bool,
    may_edit: bool,
    acks: Vec<PupilAck>,
    class_filter: Option<Uuid>,
    acknowledged: usize,
    exchanges: Vec<Exchange>,
    reminded: Option<String>,
    notice: Option<String>,
    /// The family's view: my children this mot is for, with my "vu".
    children: Vec<(ChildSummary, Option<String>)>,
    my_replies: Vec<ShownReply>,
    language_name: &'static str,
}

impl MotPage {
    fn date(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map(format_paris).unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct MotQuery {
    #[serde(default)]
    classe: Option<String>,
    /// A short confirmation to show (after a reminder…).
    #[serde(default)]
    ok: Option<String>,
}

fn language_name(code: &str) -> &'static str {
    LANGUAGES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or("", |(_, name, _)| *name)
}

async fn mot_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
    Query(q): Query<MotQuery>,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    let (mot, acc) = access(&state, &who, scope, id).await?;
    let class_filter = match q.classe.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(text.parse::<Uuid>().map_err(|_| AppError::NotFound)?),
    };
    let staff = matches!(acc, Access::Staff { .. });
    let may_edit = matches!(acc, Access::Staff { may_edit: true });
    let (classes, attachments, revisions) = (
        liaison::classes_of(&state.db, scope, id).await?,
        liaison::attachments(&state.db, scope, id)
            .await?
            .into_iter()
            .map(|a| {
                let size = crate::messages::size_text(a.size);
                (a, size)
            })
            .collect(),
        liaison::revisions(&state.db, scope, id)
            .await?
            .into_iter()
            .map(|r| {
                let at = format_paris(r.replaced_at);
                (r, at)
            })
            .collect(),
    );
    let mut page = MotPage {
        ctx: Ctx::signed_in(&who, csrf, "liaison-title", "/liaison").titled(mot.title.clone()),
        language_name: language_name(&mot.language),
        shown: Shown::of(mot),
        classes,
        attachments,
        revisions,
        staff,
        may_edit,
        acks: Vec::new(),
        class_filter,
        acknowledged: 0,
        exchanges: Vec::new(),
        reminded: None,
        notice: q.ok.as_deref().map(|code| match code {
            "relance" => page_text(&who, "liaison-reminded"),
            "modifie" => page_text(&who, "liaison-edited"),
            _ => page_text(&who, "liaison-posted"),
        }),
        children: Vec::new(),
        my_replies: Vec::new(),
    };
    page.reminded = page.shown.mot.reminded_at.map(format_paris);
    match acc {
        Access::Staff { .. } => {
            page.acks = liaison::acknowledgements(&state.db, scope, id, class_filter).await?;
            page.acknowledged = page.acks.iter().filter(|p| p.acknowledged()).count();
            let replies = liaison::replies(&state.db, scope, id, None).await?;
            page.exchanges = exchanges(replies, &page.acks, who.user.id);
        }
        Access::Family { children } => {
            let all = directory::children_of(&state.db, scope, who.user.id).await?;
            let lines = liaison::for_pupils(&state.db, scope, &children, who.user.id, PAGE).await?;
            for child in all.into_iter().filter(|c| children.contains(&c.id)) {
                let ack = lines
                    .iter()
                    .find(|l| l.mot.id == id && l.pupil_id == child.id)
                    .and_then(|l| l.my_ack.map(format_paris));
                page.children.push((child, ack));
            }
            page.my_replies = liaison::replies(&state.db, scope, id, Some(who.user.id))
                .await?
                .into_iter()
                .map(|r| shown_reply(r, who.user.id))
                .collect();
            notifications::mark_read_for(&state.db, scope, who.user.id, id).await?;
        }
        Access::Pupil => {}
    }
    Ok(Html(page.render()?))
}

fn page_text(_who: &SignedIn, key: &str) -> String {
    crate::i18n::Tr::french().get(key)
}

fn shown_reply(reply: Reply, me: Uuid) -> ShownReply {
    ShownReply {
        at: format_paris(reply.created_at),
        mine: reply.author_id == Some(me),
        reply,
    }
}

/// Replies grouped per (guardian, child), in the order of the pupils' list.
fn exchanges(replies: Vec<Reply>, acks: &[PupilAck], me: Uuid) -> Vec<Exchange> {
    let mut out: Vec<Exchange> = Vec::new();
    for reply in replies {
        let key = (reply.guardian_id, reply.pupil_id);
        if let Some(e) = out.iter_mut().find(|e| (e.guardian_id, e.pupil_id) == key) {
            e.replies.push(shown_reply(reply, me));
            continue;
        }
        let pupil = acks.iter().find(|p| p.pupil_id == reply.pupil_id);
        let guardian_name = pupil
            .and_then(|p| p.guardians.iter().find(|g| g.id == reply.guardian_id))
            .map_or_else(|| reply.author_name.clone(), |g| g.name.clone());
        out.push(Exchange {
            guardian_id: reply.guardian_id,
            guardian_name,
            pupil_id: reply.pupil_id,
            pupil_name: pupil.map_or_else(String::new, |p| p.name.clone()),
            replies: vec![shown_reply(reply, me)],
        });
    }
    out
}

#[derive(Deserialize)]
struct AckForm {
    pupil: Uuid,
}

/// "Vu" for one child: the guardian's own child among the mot's pupils, nothing else.
async fn acknowledge(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
    Form(f): Form<AckForm>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    if !who.actor.is_guardian_of(f.pupil) {
        return Err(AppError::Refused("liaison-error-not-your-child"));
    }
    if !liaison::acknowledge(&state.db, scope, id, f.pupil, who.user.id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/liaison/{id}#vu-{}", f.pupil)).into_response())
}

#[derive(Deserialize)]
struct ReplyForm {
    pupil: Uuid,
    /// The family's side of the exchange (given by the school when answering).
    #[serde(default)]
    guardian: Option<Uuid>,
    body: String,
}

async fn reply(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
    Form(f): Form<ReplyForm>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let (mot, acc) = access(&state, &who, scope, id).await?;
    check_reply(&f.body).map_err(AppError::BadRequest)?;
    match acc {
        Access::Family { children } => {
            if !mot.replies_allowed {
                return Err(AppError::Refused("liaison-error-no-replies"));
            }
            if !children.contains(&f.pupil) {
                return Err(AppError::Refused("liaison-error-not-your-child"));
            }
            let notify: Vec<Uuid> = mot.author_id.into_iter().collect();
            let reply = liaison::NewReply {
                pupil: f.pupil,
                guardian: who.user.id,
                author: who.user.id,
                body: &f.body,
                notify: &notify,
            };
            liaison::add_reply(&state.db, scope, &mot, &reply).await?;
        }
        Access::Staff { .. } => {
            let guardian = f.guardian.ok_or(AppError::BadRequest("error-400-text"))?;
            // The school answers an exchange a guardian started.
            let started = liaison::replies(&state.db, scope, id, Some(guardian))
                .await?
                .iter()
                .any(|r| r.pupil_id == f.pupil && r.author_id == Some(guardian));
            if !started {
                return Err(AppError::NotFound);
            }
            let reply = liaison::NewReply {
                pupil: f.pupil,
                guardian,
                author: who.user.id,
                body: &f.body,
                notify: &[guardian],
            };
            liaison::add_reply(&state.db, scope, &mot, &reply).await?;
        }
        Access::Pupil => return Err(AppError::Refused("liaison-error-no-replies")),
    }
    state.jobs_wake.notify_one();
    Ok(Redirect::to(&format!("/liaison/{id}#echanges")).into_response())
}

async fn remind(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let (mot, acc) = access(&state, &who, scope, id).await?;
    if !matches!(acc, Access::Staff { .. }) {
        return Err(AppError::NotFound);
    }
    if !mot.published() {
        return Err(AppError::BadRequest("liaison-error-not-published"));
    }
    match liaison::remind(&state.db, scope, &mot, who.user.id, reminder_interval()).await? {
        Some(_) => {
            state.jobs_wake.notify_one();
            Ok(Redirect::to(&format!("/liaison/{id}?ok=relance")).into_response())
        }
        None => Err(AppError::BadRequest("liaison-error-remind-too-soon")),
    }
}

#[derive(Template)]
#[template(path = "liaison/edit.html")]
struct EditPage {
    ctx: Ctx,
    id: Uuid,
    title: String,
    body: String,
    error: Option<String>,
}

async fn edit_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    let (mot, acc) = access(&state, &who, scope, id).await?;
    if !matches!(acc, Access::Staff { may_edit: true }) {
        return Err(AppError::NotFound);
    }
    Ok(Html(
        EditPage {
            ctx: Ctx::signed_in(&who, csrf, "liaison-edit-title", "/liaison"),
            id,
            title: mot.title,
            body: mot.body,
            error: None,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
struct EditForm {
    title: String,
    body: String,
}

async fn edit(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
    Form(f): Form<EditForm>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let (mot, acc) = access(&state, &who, scope, id).await?;
    if !matches!(acc, Access::Staff { may_edit: true }) {
        return Err(AppError::NotFound);
    }
    if let Err(key) = check_mot(&f.title, &f.body, &mot.language) {
        let ctx = Ctx::signed_in(&who, csrf, "liaison-edit-title", "/liaison");
        let error = Some(ctx.t.get(key));
        let page = EditPage {
            ctx,
            id,
            title: f.title,
            body: f.body,
            error,
        };
        return Ok((axum::http::StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    }
    if f.title.trim() != mot.title || f.body.trim() != mot.body {
        liaison::edit(&state.db, scope, &mot, who.user.id, &f.title, &f.body).await?;
    }
    Ok(Redirect::to(&format!("/liaison/{id}?ok=modifie")).into_response())
}

/// A mot's file, for whoever may read the mot.
async fn download(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let attachment = liaison::attachment(&state.db, scope, id).await?;
    access(&state, &who, scope, attachment.mot_id).await?;
    crate::messages::attachments::stream_file(
        &state,
        attachment.id,
        &attachment.file_name,
        &attachment.content_type,
    )
    .await
}
