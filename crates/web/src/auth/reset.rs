//! "Mot de passe oublié": adults with an e-mail address get a single-use link;
//! pupils ask their teacher, who resets it from the class list.

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::mail::Mail;
use crate::session::ClientIp;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use preau_domain::AccountState;
use preau_domain::login::normalize_typed_login;
use preau_domain::password::{self, PolicyKind};
use preau_store::{accounts, credentials};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    ctx: Ctx,
    sent: bool,
    error: Option<String>,
}

pub async fn forgot_form(CsrfToken(csrf): CsrfToken) -> AppResult<Response> {
    let page = ForgotPage {
        ctx: Ctx::anonymous(Tr::french(), "forgot-title").with_csrf(csrf),
        sent: false,
        error: None,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    login: String,
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<ForgotForm>,
) -> AppResult<Response> {
    let t = Tr::french();
    let ctx = Ctx::anonymous(t, "forgot-title").with_csrf(csrf);
    if let Some(message) = super::blocked_message(&state.reset_requests, ip) {
        let page = ForgotPage {
            ctx,
            sent: false,
            error: Some(message),
        };
        return Ok((StatusCode::TOO_MANY_REQUESTS, Html(page.render()?)).into_response());
    }
    // Each request counts against the address, so the form cannot be used to flood mailboxes.
    state.reset_requests.record_failure(ip);
    let login = normalize_typed_login(&form.login);
    if let Some(account) = accounts::credentials_by_login(&state.db, &login).await? {
        let eligible = !account.is_pupil && account.user.state == AccountState::Active;
        if let (true, Some(email)) = (eligible, account.user.email.clone()) {
            let token = accounts::create_password_reset(&state.db, account.user.id).await?;
            let link = format!(
                "{}/auth/reset?token={token}",
                state.config.public_url.trim_end_matches('/')
            );
            let mail = Mail {
                to: email,
                subject: t.get("reset-mail-subject"),
                body: t.with(
                    "reset-mail-body",
                    &[
                        ("name", &account.user.first_name),
                        ("link", &link),
                        ("minutes", &accounts::RESET_VALIDITY_MINUTES.to_string()),
                    ],
                ),
            };
            if let Err(e) = state.mailer.send(mail).await {
                tracing::warn!(error = %e, "password reset e-mail not sent");
            }
        }
    }
    // Same answer whether or not the account exists.
    let page = ForgotPage {
        ctx,
        sent: true,
        error: None,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    ctx: Ctx,
    token: String,
    valid: bool,
    min_length: usize,
    error: Option<String>,
}

/// The answer to a reset link that expired or was already used.
fn expired_link(csrf: String) -> AppResult<Response> {
    let page = ResetPage {
        ctx: Ctx::anonymous(Tr::french(), "reset-title").with_csrf(csrf),
        token: String::new(),
        valid: false,
        min_length: password::min_length(PolicyKind::Adult),
        error: None,
    };
    Ok((StatusCode::NOT_FOUND, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn reset_form(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    let valid = q.token.len() == 43
        && accounts::password_reset_user(&state.db, &q.token)
            .await?
            .is_some();
    let page = ResetPage {
        ctx: Ctx::anonymous(Tr::french(), "reset-title").with_csrf(csrf),
        token: q.token,
        valid,
        min_length: password::min_length(PolicyKind::Adult),
        error: None,
    };
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn reset_submit(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let t = Tr::french();
    let user = if form.token.len() == 43 {
        accounts::password_reset_user(&state.db, &form.token).await?
    } else {
        None
    };
    let Some(user) = user else {
        return expired_link(csrf);
    };
    let problem = super::new_password_problem(
        PolicyKind::Adult,
        &form.password,
        &form.password_confirm,
        &user.login,
    );
    if let Some(error) = problem {
        let page = ResetPage {
            ctx: Ctx::anonymous(t, "reset-title").with_csrf(csrf),
            token: form.token,
            valid: true,
            min_length: password::min_length(PolicyKind::Adult),
            error: Some(error),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let hash = credentials::hash_password(state.config.hash_cost, form.password).await?;
    if !accounts::consume_password_reset(&state.db, &form.token, &hash).await? {
        return expired_link(csrf);
    }
    accounts::audit(
        &state.db,
        user.tenant_id,
        Some(user.id),
        "password.reset_by_email",
        Some(user.id),
        "",
    )
    .await?;
    Ok(Redirect::to("/auth/login?done=reset").into_response())
}
