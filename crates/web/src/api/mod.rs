//! JSON API (`/api/v1/…`) for applications: the signed-in person's session cookie, the CSRF
//! token in the `X-CSRF-Token` header for writes. Same rules and checks as the pages; errors
//! are `{"error": key, "message": French text}` with the matching status.

use crate::AppState;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::messages::send::{Draft, Pick, Refused, deliver, picks};
use crate::session::{MaybeSignedIn, SignedIn};
use axum::extract::{FromRef, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use preau_domain::messaging::{Folder, SendRefusal};
use preau_store::{TenantScope, communication, messages};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/messages", get(list).post(send))
        .route("/api/v1/messages/{id}", get(thread))
        .route("/api/v1/contacts", get(contacts))
}

/// An API error: status, i18n key, French message.
pub struct ApiError(StatusCode, &'static str, String);

impl ApiError {
    fn new(status: StatusCode, key: &'static str) -> Self {
        Self(status, key, Tr::french().get(key))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1, "message": self.2}))).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Self::new(StatusCode::NOT_FOUND, "error-404-title"),
            AppError::Forbidden => Self::new(StatusCode::FORBIDDEN, "error-403-title"),
            AppError::Refused(key) => Self::new(StatusCode::FORBIDDEN, key),
            AppError::BadRequest(key) => Self::new(StatusCode::BAD_REQUEST, key),
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "error-500-title")
            }
        }
    }
}

impl From<preau_store::StoreError> for ApiError {
    fn from(e: preau_store::StoreError) -> Self {
        AppError::from(e).into()
    }
}

/// A signed-in person of a tenant, or 401 in JSON (never a redirect to the sign-in page).
pub struct ApiUser(pub SignedIn, pub TenantScope);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match MaybeSignedIn::from_request_parts(parts, state).await {
            Ok(MaybeSignedIn(Some(who))) => match who.scope() {
                Some(scope) => Ok(ApiUser(who, scope)),
                None => Err(ApiError::new(StatusCode::FORBIDDEN, "error-403-title")),
            },
            Ok(MaybeSignedIn(None)) => {
                Err(ApiError::new(StatusCode::UNAUTHORIZED, "api-unauthorized"))
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[derive(Serialize)]
struct SummaryJson {
    id: Uuid,
    subject: String,
    counterpart: String,
    at: chrono::DateTime<chrono::Utc>,
    unread: bool,
    broadcast: bool,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    dossier: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    ApiUser(who, scope): ApiUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let folder: Folder = match q.dossier.as_deref() {
        None => Folder::Inbox,
        Some(code) => code
            .parse()
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "api-bad-folder"))?,
    };
    let rows: Vec<SummaryJson> = messages::folder(&state.db, scope, who.user.id, folder, 100, None)
        .await?
        .into_iter()
        .map(|s| SummaryJson {
            id: s.id,
            subject: s.subject,
            counterpart: s.counterpart,
            at: s.at,
            unread: s.unread,
            broadcast: s.broadcast,
        })
        .collect();
    let unread = messages::unread_count(&state.db, scope, who.user.id).await?;
    Ok(Json(
        json!({"folder": folder.code(), "unread": unread, "messages": rows}),
    ))
}

async fn thread(
    State(state): State<AppState>,
    ApiUser(who, scope): ApiUser,
    Path(id): Path<Uuid>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let thread_id = messages::thread_of(&state.db, scope, who.user.id, id).await?;
    let list = messages::thread(&state.db, scope, who.user.id, thread_id).await?;
    messages::mark_thread_read(&state.db, scope, who.user.id, thread_id).await?;
    let items: Vec<serde_json::Value> = list
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "sender": m.sender_name,
                "subject": m.subject,
                "body_html": m.body_html,
                "to": m.audience_label,
                "broadcast": m.broadcast,
                "sent_at": m.sent_at,
                "mine": m.mine,
            })
        })
        .collect();
    Ok(Json(json!({"thread": thread_id, "messages": items})))
}

#[derive(Deserialize)]
struct ContactsQuery {
    #[serde(default)]
    q: String,
}

async fn contacts(
    State(state): State<AppState>,
    ApiUser(who, scope): ApiUser,
    Query(q): Query<ContactsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let ctx = crate::context::Ctx::signed_in(&who, String::new(), "compose-title", "/messages");
    let people = communication::contacts(&state.db, scope, who.user.id).await?;
    let groups = communication::reachable_groups(&state.db, scope, who.user.id).await?;
    let found: Vec<serde_json::Value> = crate::messages::search(&ctx, &people, &groups, &q.q, 30)
        .into_iter()
        .map(|c| json!({"to": c.token, "name": c.label, "detail": c.detail}))
        .collect();
    Ok(Json(json!({"contacts": found})))
}

#[derive(Deserialize)]
struct SendBody {
    /// `u:<id>` for a person, `g:<id>` for a group.
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

async fn send(
    State(state): State<AppState>,
    ApiUser(who, scope): ApiUser,
    Json(b): Json<SendBody>,
) -> Result<Response, ApiError> {
    let refused = |r: SendRefusal| {
        let t = Tr::french();
        let text = match r.limit() {
            Some(n) => t.with1(r.key(), "count", &n.to_string()),
            None => t.get(r.key()),
        };
        ApiError(StatusCode::UNPROCESSABLE_ENTITY, r.key(), text)
    };
    let chosen: Vec<Pick> = picks(&b.to).map_err(refused)?;
    let label = crate::messages::audience_label(&state, &who, scope, &chosen).await?;
    let outcome = deliver(
        &state,
        &who,
        scope,
        Draft {
            subject: &b.subject,
            body: &b.body,
            picks: &chosen,
            audience_label: &label,
            broadcast: false,
            reply_to: None,
            draft_id: None,
        },
    )
    .await;
    match outcome {
        Ok(id) => Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response()),
        Err(Refused::Because(r)) => Err(refused(r)),
        Err(Refused::Store(e)) => Err(e.into()),
    }
}
