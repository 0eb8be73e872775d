//! Sign-in, sign-out, first sign-in with an activation code, and password reset by e-mail.

mod activate;
mod login;
mod reset;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

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
