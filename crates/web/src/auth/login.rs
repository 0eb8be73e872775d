use crate::AppState;
use crate::auth::{blocked_message, minutes_ceil, open_session};
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::session::{ClientIp, MaybeSignedIn, clear_session_cookie};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use preau_domain::AccountState;
use preau_domain::login::normalize_typed_login;
use preau_store::credentials::{self, Verified};
use preau_store::{accounts, now, sessions};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "auth/login.html")]
pub(crate) struct LoginPage {
    pub ctx: Ctx,
    pub login: String,
    pub error: Option<String>,
    pub notice_key: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn form(
    MaybeSignedIn(who): MaybeSignedIn,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<LoginQuery>,
) -> AppResult<Response> {
    if who.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let notice_key = match q.done.as_deref() {
        Some("reset") => Some("login-notice-reset"),
        Some("logout") => Some("login-notice-logout"),
        _ => None,
    };
    let page = LoginPage {
        ctx: Ctx::anonymous(Tr::french(), "login-title").with_csrf(csrf),
        login: String::new(),
        error: None,
        notice_key,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

fn refused(csrf: String, login: String, status: StatusCode, error: String) -> AppResult<Response> {
    let page = LoginPage {
        ctx: Ctx::anonymous(Tr::french(), "login-title").with_csrf(csrf),
        login,
        error: Some(error),
        notice_key: None,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfToken(csrf): CsrfToken,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let t = Tr::french();
    let login = normalize_typed_login(&form.login);
    let cost = state.config.hash_cost;
    if let Some(message) = blocked_message(&state.ip_failures, ip) {
        return refused(csrf, login, StatusCode::TOO_MANY_REQUESTS, message);
    }
    let incorrect = || t.get("login-incorrect");
    if login.is_empty() || form.password.is_empty() || form.password.len() > 1024 {
        return refused(csrf, login, StatusCode::UNAUTHORIZED, incorrect());
    }
    let Some(account) = accounts::credentials_by_login(&state.db, &login).await? else {
        credentials::waste_verification(cost, form.password).await;
        state.ip_failures.record_failure(ip);
        return refused(csrf, login, StatusCode::UNAUTHORIZED, incorrect());
    };
    if let Some(until) = account.locked_until.filter(|u| *u > now()) {
        let minutes = minutes_ceil((until - now()).num_seconds());
        return refused(
            csrf,
            login,
            StatusCode::TOO_MANY_REQUESTS,
            t.with1("login-locked", "minutes", &minutes),
        );
    }
    let Some(hash) = account.password_hash.clone() else {
        credentials::waste_verification(cost, form.password).await;
        state.ip_failures.record_failure(ip);
        return refused(
            csrf,
            login,
            StatusCode::UNAUTHORIZED,
            t.get("login-not-activated"),
        );
    };
    let verified = credentials::verify_password(cost, form.password.clone(), hash).await?;
    if verified == Verified::No {
        state.ip_failures.record_failure(ip);
        let message = match accounts::record_failed_login(&state.db, account.user.id).await? {
            Some(until) => t.with1(
                "login-locked",
                "minutes",
                &minutes_ceil((until - now()).num_seconds()),
            ),
            None => incorrect(),
        };
        return refused(csrf, login, StatusCode::UNAUTHORIZED, message);
    }
    if account.user.state != AccountState::Active {
        return refused(csrf, login, StatusCode::FORBIDDEN, t.get("login-disabled"));
    }
    let rehashed = match verified {
        Verified::YesRehash => Some(credentials::hash_password(cost, form.password).await?),
        _ => None,
    };
    accounts::record_successful_login(&state.db, account.user.id, rehashed.as_deref()).await?;
    tracing::info!(user = %account.user.id, "signed in");
    open_session(&state, account.user.id, &headers, ip).await
}

pub async fn logout(
    State(state): State<AppState>,
    MaybeSignedIn(who): MaybeSignedIn,
) -> AppResult<Response> {
    if let Some(who) = who {
        sessions::delete(&state.db, &who.token).await?;
    }
    let cookie = clear_session_cookie(state.config.is_https());
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/auth/login?done=logout"),
    )
        .into_response())
}
