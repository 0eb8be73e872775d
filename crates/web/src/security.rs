//! Response headers for every page, and a request id for logs.

use crate::AppState;
use crate::error::error_page;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/static/");
    let mut response = localized(next.run(req).await);
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    if state.config.is_https() {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    if !is_asset && !h.contains_key(header::CACHE_CONTROL) {
        // Pages carry personal data: never kept in shared or back-button caches.
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// Errors produced outside our handlers (a malformed id in a path, a form that does not
/// parse, a wrong method, a body over the limit) become the same French page as ours.
fn localized(response: Response) -> Response {
    let status = response.status();
    let is_ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    // Our own pages and the API's JSON errors stay; bare errors of the framework get a page.
    if !(status.is_client_error() || status.is_server_error()) || is_ours {
        return response;
    }
    let (title, text) = match status {
        StatusCode::NOT_FOUND => ("error-404-title", "error-404-text"),
        StatusCode::PAYLOAD_TOO_LARGE => ("error-400-title", "error-too-large"),
        StatusCode::METHOD_NOT_ALLOWED => ("error-400-title", "error-method"),
        StatusCode::REQUEST_TIMEOUT => ("error-500-title", "error-timeout"),
        s if s.is_server_error() => ("error-500-title", "error-500-text"),
        _ => ("error-400-title", "error-400-text"),
    };
    let mut page = error_page(status, title, text);
    if let Some(allow) = response.headers().get(header::ALLOW) {
        page.headers_mut().insert(header::ALLOW, allow.clone());
    }
    page
}

/// Gives each request an id, carried by its log lines and returned in `x-request-id`.
pub async fn request_id(req: Request, next: Next) -> Response {
    // A per-process random prefix and a counter: unique across nodes and restarts, and cheap.
    static PREFIX: std::sync::LazyLock<u32> = std::sync::LazyLock::new(rand::random);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("{:08x}-{n:x}", *PREFIX);
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let started = std::time::Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "done"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    response
}
