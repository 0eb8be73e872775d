//! The people who left a school and still have an account: when each account is disabled
//! and deleted, so the directeur sees the deletions coming.

use super::administered_structure;
use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::session::Administrator;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use preau_domain::time::format_paris;
use preau_store::directory::Structure;
use preau_store::lifecycle::{self, Leaver};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "admin/leavers.html")]
struct LeaversPage {
    ctx: Ctx,
    structure: Structure,
    /// (leaver, detached on, disabled on, deleted on)
    rows: Vec<(Leaver, String, String, String)>,
}

pub async fn page(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
) -> AppResult<Html<String>> {
    let (scope, structure) = administered_structure(&state, &who, structure_id).await?;
    let policy = state.config.lifecycle;
    let day = |t| format_paris(t)[..10].to_owned();
    let rows = lifecycle::leavers(&state.db, scope, structure_id)
        .await?
        .into_iter()
        .map(|l| {
            let (disable, delete) = policy.dates(l.detached_at);
            let detached = day(l.detached_at);
            (l, detached, day(disable), day(delete))
        })
        .collect();
    Ok(Html(
        LeaversPage {
            ctx: Ctx::signed_in(&who, csrf, "leavers-title", "/admin").titled(format!(
                "{} — {}",
                Tr::french().get("leavers-title"),
                structure.name
            )),
            structure,
            rows,
        }
        .render()?,
    ))
}
