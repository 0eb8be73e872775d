//! Sign-in, sign-out, first sign-in with an activation code, and password reset by e-mail.

mod activate;
mod login;
mod reset;

use crate::AppState;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::session::session_cookie;
use crate::throttle::IpFailures;
use axum::Router;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use preau_domain::password::{self, PolicyKind};
use std::net::IpAddr;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login::form).post(login::submit))
        .route("/auth/logout", post(login::logout))
        .route(
            "/auth/activate",
            get(activate::form).post(activate::check_code),
        )
        .route("/auth/activate/password", post(activate::choose_password))
        .route(
            "/auth/forgot",
            get(reset::forgot_form).post(reset::forgot_submit),
        )
        .route(
            "/auth/reset",
            get(reset::reset_form).post(reset::reset_submit),
        )
}

/// Minutes, rounded up, for messages such as "réessayez dans 3 minutes".
pub(crate) fn minutes_ceil(seconds: i64) -> String {
    ((seconds.max(1) + 59) / 60).to_string()
}

/// "Trop d'essais depuis votre réseau…" when this address must wait, with how long.
pub(crate) fn blocked_message(counter: &IpFailures, ip: IpAddr) -> Option<String> {
    counter.blocked_for(ip).map(|wait| {
        let minutes = minutes_ceil(wait.as_secs() as i64);
        Tr::french().with1("login-ip-blocked", "minutes", &minutes)
    })
}

/// Why a new password, typed twice, is refused (in French); `None` when it is accepted.
pub(crate) fn new_password_problem(
    kind: PolicyKind,
    password: &str,
    confirm: &str,
    login: &str,
) -> Option<String> {
    let t = Tr::french();
    if password != confirm {
        return Some(t.get("password-mismatch"));
    }
    password::check(kind, password, login).err().map(|p| {
        let min = password::min_length(kind).to_string();
        t.with1(p.message_key(), "min", &min)
    })
}

/// Opens a session for the user and goes to the portal home with its cookie.
pub(crate) async fn open_session(
    state: &AppState,
    user_id: Uuid,
    headers: &HeaderMap,
    ip: IpAddr,
) -> AppResult<Response> {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = preau_store::sessions::create(
        &state.db,
        user_id,
        user_agent,
        &ip.to_string(),
        state.config.session,
    )
    .await?;
    let cookie = session_cookie(state.config.is_https(), &token);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}
