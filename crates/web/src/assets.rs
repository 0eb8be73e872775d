//! Static files compiled into the binary: our CSS and the pinned htmx.

use crate::AppState;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/{file}", get(serve))
        // The service worker controls the pages under its own path: it must live at the root.
        .route("/sw.js", get(|| serve(Path("sw.js".to_owned()))))
        .route("/manifest.webmanifest", get(manifest))
}

/// The installable web app's manifest.
async fn manifest() -> Response {
    let body = serde_json::json!({
        "name": "Préau",
        "short_name": "Préau",
        "lang": "fr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f5f8b",
        "icons": [{ "src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml" }],
    });
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

async fn serve(Path(file): Path<String>) -> Response {
    match Assets::get(&file) {
        Some(content) => {
            // Versioned names (htmx-2.0.4.min.js) never change; others are revalidated daily.
            let cache = if file.contains('-') && file.contains(".min.") {
                "public, max-age=31536000, immutable"
            } else {
                "public, max-age=86400"
            };
            (
                [
                    (header::CONTENT_TYPE, content_type(&file)),
                    (header::CACHE_CONTROL, cache),
                ],
                content.data,
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
