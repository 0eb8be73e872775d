//! One error type for handlers, rendered as a French page with the right status.

use crate::context::Ctx;
use crate::i18n::Tr;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use preau_store::StoreError;

#[derive(Debug)]
pub enum AppError {
    /// 404: also used when an object exists but belongs to someone the user may not see,
    /// so ids cannot be probed.
    NotFound,
    Forbidden,
    /// 403 saying why (the i18n key of the reason).
    Refused(&'static str),
    /// 400 with the i18n key of what was wrong.
    BadRequest(&'static str),
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: Ctx,
    status: u16,
    title_key: &'static str,
    message_key: &'static str,
}

pub fn error_page(
    status: StatusCode,
    title_key: &'static str,
    message_key: &'static str,
) -> Response {
    let page = ErrorPage {
        ctx: Ctx::anonymous(Tr::french(), title_key),
        status: status.as_u16(),
        title_key,
        message_key,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => status.into_response(),
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound => {
                error_page(StatusCode::NOT_FOUND, "error-404-title", "error-404-text")
            }
            Self::Forbidden => {
                error_page(StatusCode::FORBIDDEN, "error-403-title", "error-403-text")
            }
            Self::Refused(key) => error_page(StatusCode::FORBIDDEN, "error-403-title", key),
            Self::BadRequest(key) => error_page(StatusCode::BAD_REQUEST, "error-400-title", key),
            Self::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error-500-title",
                    "error-500-text",
                )
            }
        }
    }
}

pub async fn not_found_page() -> Response {
    AppError::NotFound.into_response()
}
