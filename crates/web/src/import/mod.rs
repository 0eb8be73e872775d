//! Directory imports: the one path every import takes (command line, web upload, scheduled
//! drop), and the directeur's pages: upload → preview (dry run) → confirm → progress.

pub mod drop;
pub mod jobs;
pub mod pages;
pub mod runner;

pub use runner::{ImportError, ImportOptions, import_aaf, import_onde};

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

/// Routes taking uploads: mounted apart with their own (larger) body limit.
pub fn upload_routes() -> Router<AppState> {
    Router::new().route(
        "/admin/structures/{structure_id}/import",
        get(pages::import_page).post(pages::upload),
    )
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/imports/{run_id}", get(pages::run_page))
        .route("/admin/imports/{run_id}/progress", get(pages::run_progress))
        .route("/admin/imports/{run_id}/confirm", post(pages::confirm))
        .route("/admin/imports/{run_id}/cancel", post(pages::cancel))
}
