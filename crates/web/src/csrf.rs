//! Protection against cross-site requests, on every state-changing request:
//! 1. a cross-site `Sec-Fetch-Site` or a foreign `Origin` is refused;
//! 2. a token must come with the request (form field `csrf` or header `X-CSRF-Token`), equal to
//!    an HMAC of a random per-browser cookie. Old browsers that send neither `Origin` nor
//!    `Sec-Fetch-Site` are still protected by the token.

use crate::AppState;
use crate::error::error_page;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const FORM_FIELD: &str = "csrf";
pub const HEADER: &str = "x-csrf-token";

/// The browser's random CSRF seed, put in request extensions by the middleware.
#[derive(Clone)]
struct CsrfSeed(String);

/// The token to embed in this response's forms.
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken
where
    AppState: axum::extract::FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = <AppState as axum::extract::FromRef<S>>::from_ref(state);
        let seed = parts
            .extensions
            .get::<CsrfSeed>()
            .map(|s| s.0.clone())
            .unwrap_or_default();
        Ok(CsrfToken(token_for(&app.config.secret_key, &seed)))
    }
}

pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-preau_csrf"
    } else {
        "preau_csrf"
    }
}

pub fn token_for(key: &[u8], seed: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(seed.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub(crate) fn read_cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn origin_allowed(req: &Request, state: &AppState) -> bool {
    let headers = req.headers();
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if site.is_some_and(|site| site != "same-origin" && site != "none") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == state.config.public_origin() {
        return true;
    }
    // Behind no proxy (demo, tests) the Host header names this server.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| !host.is_empty() && authority == host)
}

fn forbidden() -> Response {
    error_page(StatusCode::FORBIDDEN, "error-csrf-title", "error-csrf-text")
}

pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let https = state.config.is_https();
    let name = cookie_name(https);
    let existing = read_cookie(req.headers(), name)
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned);
    // Static files carry no forms: no seed is minted for them.
    let is_static = req.uri().path().starts_with("/static/");
    let fresh = existing.is_none() && !is_static;
    let seed = match existing {
        Some(seed) => seed,
        None if is_static => String::new(),
        None => preau_store::sessions::new_token(),
    };

    let mut req = if is_safe(req.method()) {
        req
    } else {
        if fresh || seed.is_empty() || !origin_allowed(&req, &state) {
            return forbidden();
        }
        let expected = token_for(&state.config.secret_key, &seed);
        match check_token(req, &expected, state.config.body_limit_bytes).await {
            Ok(req) => req,
            Err(resp) => return resp,
        }
    };
    req.extensions_mut().insert(CsrfSeed(seed.clone()));
    let mut response = next.run(req).await;
    if fresh {
        let secure = if https { "; Secure" } else { "" };
        let cookie = format!("{name}={seed}; Path=/; HttpOnly; SameSite=Lax{secure}");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Finds the token in the header, the query string, or an url-encoded form body (which is
/// read and put back for the handler).
async fn check_token(req: Request, expected: &str, limit: usize) -> Result<Request, Response> {
    let matches = |given: &str| bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    if let Some(given) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        return if matches(given) {
            Ok(req)
        } else {
            Err(forbidden())
        };
    }
    if let Some(query) = req.uri().query() {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        if pairs.iter().any(|(k, v)| k == FORM_FIELD && matches(v)) {
            return Ok(req);
        }
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(forbidden());
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "error-400-title",
            "error-too-large",
        )
    })?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    if pairs.iter().any(|(k, v)| k == FORM_FIELD && matches(v)) {
        Ok(Request::from_parts(parts, Body::from(bytes)))
    } else {
        Err(forbidden())
    }
}
