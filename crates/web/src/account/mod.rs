//! "Mon compte": my password and my open sessions (with sign-out of any of them), and my
//! notification choices.

mod notifications;

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::session::SignedIn;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use preau_domain::password::{self, PolicyKind};
use preau_store::credentials::{self, Verified};
use preau_store::sessions::{self, SessionInfo};
use preau_store::{accounts, now};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/compte", get(show))
        .route("/compte/password", post(change_password))
        .route("/compte/sessions/revoke", post(revoke_session))
        .route(
            "/compte/notifications",
            get(notifications::page).post(notifications::save),
        )
        .route("/compte/notifications/push", post(notifications::subscribe))
        .route(
            "/compte/notifications/push/retirer",
            post(notifications::unsubscribe),
        )
}

#[derive(Template)]
#[template(path = "account/account.html")]
struct AccountPage {
    ctx: Ctx,
    login: String,
    email: String,
    sessions: Vec<SessionInfo>,
    current_handle: String,
    min_length: usize,
    notice_key: Option<&'static str>,
    error: Option<String>,
}

impl AccountPage {
    fn local(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        preau_domain::time::format_paris(*at)
    }
}

fn policy(who: &SignedIn) -> PolicyKind {
    if who.actor.is_pupil_only() {
        PolicyKind::Pupil
    } else {
        PolicyKind::Adult
    }
}

async fn page(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    notice_key: Option<&'static str>,
    error: Option<String>,
) -> AppResult<AccountPage> {
    Ok(AccountPage {
        ctx: Ctx::signed_in(who, csrf, "account-title", "/compte"),
        login: who.user.login.clone(),
        email: who.user.email.clone().unwrap_or_default(),
        sessions: sessions::list_for_user(&state.db, who.user.id).await?,
        current_handle: sessions::handle_of(&sessions::token_hash(&who.token)),
        min_length: password::min_length(policy(who)),
        notice_key,
        error,
    })
}

#[derive(Deserialize)]
pub struct Notice {
    #[serde(default)]
    done: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    axum::extract::Query(q): axum::extract::Query<Notice>,
) -> AppResult<Html<String>> {
    let notice = match q.done.as_deref() {
        Some("revoked") => Some("account-session-revoked"),
        _ => None,
    };
    Ok(Html(
        page(&state, &who, csrf, notice, None).await?.render()?,
    ))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let t = Tr::french();
    let cost = state.config.hash_cost;
    let stored = accounts::credentials_by_login(&state.db, &who.user.login).await?;
    let current_ok = match stored.and_then(|c| c.password_hash) {
        Some(hash) => credentials::verify_password(cost, form.current, hash).await? != Verified::No,
        None => false,
    };
    let kind = policy(&who);
    let error = if !current_ok {
        Some(t.get("account-current-wrong"))
    } else {
        crate::auth::new_password_problem(
            kind,
            &form.password,
            &form.password_confirm,
            &who.user.login,
        )
    };
    if let Some(error) = error {
        let html = page(&state, &who, csrf, None, Some(error))
            .await?
            .render()?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    let hash = credentials::hash_password(cost, form.password).await?;
    // Ends every session, this one included: sign in again with the new password.
    accounts::set_password(&state.db, who.user.id, &hash).await?;
    accounts::audit(
        &state.db,
        who.user.tenant_id,
        Some(who.user.id),
        "password.changed",
        Some(who.user.id),
        "",
    )
    .await?;
    tracing::info!(user = %who.user.id, at = %now(), "password changed");
    Ok(Redirect::to("/auth/login?done=reset").into_response())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    handle: String,
}

async fn revoke_session(
    State(state): State<AppState>,
    who: SignedIn,
    Form(form): Form<RevokeForm>,
) -> AppResult<Response> {
    // Only the user's own sessions can match: the store filters by user.
    sessions::revoke(&state.db, who.user.id, &form.handle).await?;
    Ok(Redirect::to("/compte?done=revoked").into_response())
}
