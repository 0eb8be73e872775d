//! First sign-in: login + activation code, then a password of one's own and the charter.

use crate::AppState;
use crate::auth::{blocked_message, new_password_problem, open_session};
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::session::ClientIp;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use preau_domain::login::normalize_typed_login;
use preau_domain::password::{self, PolicyKind};
use preau_store::accounts::{self, ActivationProblem};
use preau_store::credentials;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "auth/activate.html")]
struct CodePage {
    ctx: Ctx,
    login: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "auth/activate_password.html")]
struct PasswordPage {
    ctx: Ctx,
    login: String,
    code: String,
    first_name: String,
    min_length: usize,
    is_pupil: bool,
    error: Option<String>,
}

pub async fn form(CsrfToken(csrf): CsrfToken) -> AppResult<Response> {
    let page = CodePage {
        ctx: Ctx::anonymous(Tr::french(), "activate-title").with_csrf(csrf),
        login: String::new(),
        error: None,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    code: String,
}

fn problem_key(problem: ActivationProblem) -> &'static str {
    match problem {
        ActivationProblem::Invalid => "activate-invalid",
        ActivationProblem::Expired => "activate-expired",
        ActivationProblem::AlreadyUsed => "activate-used",
        ActivationProblem::Disabled => "login-disabled",
    }
}

fn code_refused(
    csrf: String,
    login: String,
    status: StatusCode,
    error: String,
) -> AppResult<Response> {
    let page = CodePage {
        ctx: Ctx::anonymous(Tr::french(), "activate-title").with_csrf(csrf),
        login,
        error: Some(error),
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// Checks the code; a wrong one counts as a failed sign-in of the address (codes are guessable
/// only by brute force).
async fn checked(
    state: &AppState,
    ip: std::net::IpAddr,
    login: &str,
    code: &str,
) -> AppResult<Result<accounts::Credentials, String>> {
    let t = Tr::french();
    if let Some(message) = blocked_message(&state.ip_failures, ip) {
        return Ok(Err(message));
    }
    match accounts::check_activation_code(&state.db, login, code).await? {
        Ok(_) => {}
        Err(problem) => {
            if problem == ActivationProblem::Invalid {
                state.ip_failures.record_failure(ip);
            }
            return Ok(Err(t.get(problem_key(problem))));
        }
    }
    match accounts::credentials_by_login(&state.db, login).await? {
        Some(account) => Ok(Ok(account)),
        None => Ok(Err(t.get("activate-invalid"))),
    }
}

pub async fn check_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let login = normalize_typed_login(&form.login);
    match checked(&state, ip, &login, &form.code).await? {
        Err(message) => code_refused(csrf, login, StatusCode::UNPROCESSABLE_ENTITY, message),
        Ok(account) => {
            let page = PasswordPage {
                ctx: Ctx::anonymous(Tr::french(), "activate-password-title").with_csrf(csrf),
                login,
                code: form.code.trim().to_owned(),
                first_name: account.user.first_name.clone(),
                min_length: password::min_length(policy_of(&account)),
                is_pupil: account.is_pupil,
                error: None,
            };
            Ok(Html(page.render()?).into_response())
        }
    }
}

fn policy_of(account: &accounts::Credentials) -> PolicyKind {
    if account.is_pupil {
        PolicyKind::Pupil
    } else {
        PolicyKind::Adult
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
    #[serde(default)]
    charter: Option<String>,
}

pub async fn choose_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfToken(csrf): CsrfToken,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let t = Tr::french();
    let login = normalize_typed_login(&form.login);
    let account = match checked(&state, ip, &login, &form.code).await? {
        Err(message) => {
            return code_refused(csrf, login, StatusCode::UNPROCESSABLE_ENTITY, message);
        }
        Ok(account) => account,
    };
    let policy = policy_of(&account);
    let problem = new_password_problem(policy, &form.password, &form.password_confirm, &login)
        .or_else(|| {
            form.charter
                .is_none()
                .then(|| t.get("activate-charter-required"))
        });
    if let Some(error) = problem {
        let page = PasswordPage {
            ctx: Ctx::anonymous(t, "activate-password-title").with_csrf(csrf),
            login,
            code: form.code,
            first_name: account.user.first_name,
            min_length: password::min_length(policy),
            is_pupil: account.is_pupil,
            error: Some(error),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let hash = credentials::hash_password(state.config.hash_cost, form.password).await?;
    let user = match accounts::redeem_activation_code(&state.db, &login, &form.code, &hash).await? {
        Ok(user) => user,
        Err(problem) => {
            return code_refused(
                csrf,
                login,
                StatusCode::UNPROCESSABLE_ENTITY,
                t.get(problem_key(problem)),
            );
        }
    };
    accounts::audit(
        &state.db,
        user.tenant_id,
        Some(user.id),
        "account.activated",
        Some(user.id),
        "",
    )
    .await?;
    open_session(&state, user.id, &headers, ip).await
}
