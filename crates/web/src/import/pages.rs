//! The directeur's import pages: the upload form with the school's recent runs, the preview
//! of a run (what would change, rejected rows), its confirmation and its progress.

use super::jobs::{self, read_run_files, remove_run_files};
use super::runner::{ImportError, import_onde};
use crate::AppState;
use crate::admin::administered_structure;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::session::{Administrator, SignedIn};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use preau_domain::provisioning::{KindCounts, Report};
use preau_domain::time::format_paris;
use preau_store::directory::{self, Structure};
use preau_store::imports::{self, ImportRun, RunKind, RunState};
use preau_store::{StoreError, TenantScope};
use serde::Deserialize;
use std::path::PathBuf;
use uuid::Uuid;

/// Files a directeur brings at once: pupils, guardians, teachers, commune staff, and spares.
const MAX_FILES: usize = 6;
/// One ONDE extract of a large school weighs under a megabyte.
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    ctx: Ctx,
    structure: Structure,
    runs: Vec<ImportRun>,
    error: Option<String>,
}

impl ImportPage {
    fn when(&self, run: &ImportRun) -> String {
        format_paris(run.created_at)
    }
}

async fn import_view(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    structure_id: Uuid,
    error: Option<String>,
) -> AppResult<ImportPage> {
    let (scope, structure) = administered_structure(state, who, structure_id).await?;
    if !structure.kind.is_school() || structure.uai.is_none() {
        return Err(AppError::NotFound);
    }
    Ok(ImportPage {
        ctx: Ctx::signed_in(who, csrf, "import-title", "/admin").titled(format!(
            "{} — {}",
            Tr::french().get("import-title"),
            structure.name
        )),
        runs: imports::recent(&state.db, scope, structure_id, 10).await?,
        structure,
        error,
    })
}

pub async fn import_page(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
) -> AppResult<Html<String>> {
    Ok(Html(
        import_view(&state, &who, csrf, structure_id, None)
            .await?
            .render()?,
    ))
}

/// A file name safe to store: its last path component, with only plain characters.
fn safe_name(raw: &str, index: usize) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = clean.trim_start_matches('.');
    if clean.is_empty() {
        format!("fichier-{index}.csv")
    } else {
        format!("{index}-{clean}")
    }
}

fn unprocessable(html: String) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
}

/// Stores the uploaded files, runs the dry run and shows its report.
pub async fn upload(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let (scope, structure) = administered_structure(&state, &who, structure_id).await?;
    let t = Tr::french();
    let run_id = Uuid::now_v7();
    let dir: PathBuf = state
        .config
        .data_dir
        .join("imports")
        .join(run_id.to_string());
    std::fs::create_dir_all(&dir).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut count = 0usize;
    let mut problem: Option<String> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                problem = Some(t.get("import-error-upload"));
                break;
            }
        };
        if field.name() != Some("files") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        if name.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_FILES {
            problem = Some(t.get("import-error-too-many"));
            break;
        }
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(_) => {
                problem = Some(t.get("import-error-upload"));
                break;
            }
        };
        if bytes.len() > MAX_FILE_BYTES {
            problem = Some(t.with1("import-error-file-too-large", "file", &name));
            break;
        }
        std::fs::write(dir.join(safe_name(&name, count)), &bytes)
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    if count == 0 && problem.is_none() {
        problem = Some(t.get("import-error-no-file"));
    }
    let dir_text = dir.to_string_lossy().into_owned();
    if let Some(problem) = problem {
        remove_run_files(&dir_text);
        let html = import_view(&state, &who, csrf, structure_id, Some(problem))
            .await?
            .render()?;
        return Ok(unprocessable(html));
    }
    let files = read_run_files(&dir).map_err(|e| AppError::Internal(e.to_string()))?;
    let uai = structure.uai.clone().unwrap_or_default();
    let quiet = |_: &str, _: u64, _: u64| {};
    let outcome = import_onde(
        &state.db,
        scope,
        &uai,
        files,
        jobs::options(
            Some(who.user.id),
            false,
            true,
            directory::school_year(&state.db, scope).await?,
        ),
        &quiet,
    )
    .await;
    let (report, error) = match outcome {
        Ok(report) => (
            Some(serde_json::to_string(&report).unwrap_or_default()),
            None,
        ),
        Err(ImportError::Store(e)) => return Err(e.into()),
        Err(e) => (None, Some(e.to_string())),
    };
    if error.is_some() {
        remove_run_files(&dir_text);
    }
    imports::create_preview(
        &state.db,
        scope,
        run_id,
        Some(structure_id),
        RunKind::Onde,
        &dir_text,
        Some(who.user.id),
        report.as_deref(),
        error.as_deref(),
    )
    .await?;
    preau_store::accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "import.preview",
        Some(run_id),
        &uai,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/imports/{run_id}")).into_response())
}

#[derive(Template)]
#[template(path = "admin/import_run.html")]
struct RunPage {
    ctx: Ctx,
    structure: Structure,
    run: ImportRun,
    report: Option<Report>,
    when: String,
    error: Option<String>,
}

impl RunPage {
    fn kind_rows(&self, r: &Report) -> [(&'static str, KindCounts); 3] {
        [
            ("import-row-pupils", r.pupils),
            ("import-row-guardians", r.guardians),
            ("import-row-staff", r.staff),
        ]
    }
}

#[derive(Template)]
#[template(path = "admin/import_progress.html")]
struct ProgressPartial {
    ctx: Ctx,
    run: ImportRun,
}

/// A run of a structure the user administers.
async fn administered_run(
    state: &AppState,
    who: &SignedIn,
    run_id: Uuid,
) -> AppResult<(TenantScope, Structure, ImportRun)> {
    let scope = match who.scope() {
        Some(scope) => scope,
        None if who.actor.is_operator => TenantScope(imports::tenant_of(&state.db, run_id).await?),
        None => return Err(AppError::NotFound),
    };
    let run = imports::get(&state.db, scope, run_id).await?;
    let structure_id = run.structure_id.ok_or(AppError::NotFound)?;
    let (scope, structure) = administered_structure(state, who, structure_id).await?;
    Ok((scope, structure, run))
}

async fn run_view(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    run_id: Uuid,
    error: Option<String>,
) -> AppResult<RunPage> {
    let (_, structure, run) = administered_run(state, who, run_id).await?;
    let report = run
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str::<Report>(r).ok());
    Ok(RunPage {
        ctx: Ctx::signed_in(who, csrf, "import-run-title", "/admin").titled(format!(
            "{} — {}",
            Tr::french().get("import-run-title"),
            structure.name
        )),
        when: format_paris(run.created_at),
        structure,
        run,
        report,
        error,
    })
}

pub async fn run_page(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(run_id): Path<Uuid>,
) -> AppResult<Html<String>> {
    Ok(Html(
        run_view(&state, &who, csrf, run_id, None).await?.render()?,
    ))
}

/// The progress block alone, polled by htmx while the run is queued or running; once it
/// ended, htmx is told to reload the page, which then shows the report.
pub async fn run_progress(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(run_id): Path<Uuid>,
) -> AppResult<Response> {
    let (_, _, run) = administered_run(&state, &who, run_id).await?;
    let ended = !run.state.is_active();
    let html = ProgressPartial {
        ctx: Ctx::signed_in(&who, csrf, "import-run-title", "/admin"),
        run,
    }
    .render()?;
    if ended {
        Ok(([("HX-Refresh", "true")], Html(html)).into_response())
    } else {
        Ok(Html(html).into_response())
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    skip_rejected: Option<String>,
}

pub async fn confirm(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(run_id): Path<Uuid>,
    Form(form): Form<ConfirmForm>,
) -> AppResult<Response> {
    let (scope, _, run) = administered_run(&state, &who, run_id).await?;
    let t = Tr::french();
    let rejected = run
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str::<Report>(r).ok())
        .is_some_and(|r| !r.rejections.is_empty());
    let skip = form.skip_rejected.is_some();
    let problem = if run.state != RunState::Preview {
        Some("import-error-not-preview")
    } else if rejected && !skip {
        Some("import-error-confirm-rejected")
    } else {
        None
    };
    if let Some(key) = problem {
        let html = run_view(&state, &who, csrf, run_id, Some(t.get(key)))
            .await?
            .render()?;
        return Ok(unprocessable(html));
    }
    match imports::queue(&state.db, scope, run_id, skip).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            let html = run_view(&state, &who, csrf, run_id, Some(t.get("import-error-busy")))
                .await?
                .render()?;
            return Ok((StatusCode::CONFLICT, Html(html)).into_response());
        }
        Err(e) => return Err(e.into()),
    }
    preau_store::accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "import.confirmed",
        Some(run_id),
        "",
    )
    .await?;
    jobs::spawn(state.clone(), imports::get(&state.db, scope, run_id).await?);
    Ok(Redirect::to(&format!("/admin/imports/{run_id}")).into_response())
}

pub async fn cancel(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path(run_id): Path<Uuid>,
) -> AppResult<Response> {
    let (scope, structure, run) = administered_run(&state, &who, run_id).await?;
    imports::cancel(&state.db, scope, run_id).await?;
    if run.state == RunState::Preview {
        remove_run_files(&run.files_dir);
    }
    Ok(Redirect::to(&format!("/admin/structures/{}/import", structure.id)).into_response())
}
