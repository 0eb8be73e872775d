//! Import runs as background jobs: the directeur's confirmation queues the run, a task runs
//! it, progress goes to the database every second (any node can show it), and the uploaded
//! files are deleted at the end whatever happened.

use super::runner::{ImportError, ImportOptions, import_onde};
use crate::AppState;
use preau_domain::provisioning::PlanOptions;
use preau_interop::onde::OndeFile;
use preau_store::imports::{self, ImportRun};
use preau_store::{TenantScope, directory};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The files kept for a run, read back for the dry run and for the job.
pub fn read_run_files(dir: &Path) -> std::io::Result<Vec<OndeFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            files.push(OndeFile {
                name: entry.file_name().to_string_lossy().into_owned(),
                bytes: std::fs::read(entry.path())?,
            });
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

pub fn remove_run_files(dir: &str) {
    if let Err(e) = std::fs::remove_dir_all(dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(error = %e, dir, "import files not removed");
    }
}

/// The options of a web run: its author, the choice made at confirmation, preview or not.
pub fn options(
    actor: Option<uuid::Uuid>,
    skip_rejected: bool,
    dry_run: bool,
    school_year: i64,
) -> ImportOptions {
    ImportOptions {
        dry_run,
        skip_rejected,
        plan: PlanOptions::default(),
        actor,
        school_year,
    }
}

/// Runs a queued ONDE import to its end.
pub fn spawn(state: AppState, run: ImportRun) {
    tokio::spawn(async move {
        let id = run.id;
        if let Err(e) = run_onde(&state, run).await {
            tracing::error!(error = %e, run = %id, "import job failed");
            let _ = imports::finish(&state.db, id, None, Some(&e.to_string())).await;
        }
    });
}

async fn run_onde(state: &AppState, run: ImportRun) -> Result<(), ImportError> {
    imports::start(&state.db, run.id).await?;
    let scope = TenantScope(run.tenant_id);
    let structure_id = run
        .structure_id
        .ok_or_else(|| ImportError::Other("import sans école".into()))?;
    let structure = directory::get_structure(&state.db, scope, structure_id).await?;
    let uai = structure.uai.clone().unwrap_or_default();
    let files = read_run_files(Path::new(&run.files_dir))
        .map_err(|e| ImportError::Other(format!("fichiers de l'import illisibles : {e}")))?;
    let latest: Arc<Mutex<(u64, u64)>> = Arc::default();
    let ticker = {
        let latest = latest.clone();
        let db = state.db.clone();
        let id = run.id;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let (done, total) = latest.lock().map(|l| *l).unwrap_or_default();
                let _ = imports::progress(&db, id, done as i64, total as i64).await;
            }
        })
    };
    let record = |_: &str, done: u64, total: u64| {
        if let Ok(mut l) = latest.lock() {
            *l = (done, total);
        }
    };
    let year = directory::school_year(&state.db, scope).await?;
    let result = import_onde(
        &state.db,
        scope,
        &uai,
        files,
        options(run.created_by, run.skip_rejected, false, year),
        &record,
    )
    .await;
    ticker.abort();
    remove_run_files(&run.files_dir);
    match result {
        Ok(report) => {
            let json = serde_json::to_string(&report).unwrap_or_default();
            imports::finish(&state.db, run.id, Some(&json), None).await?;
        }
        Err(ImportError::Rejected(report)) => {
            let json = serde_json::to_string(&report).unwrap_or_default();
            let message = ImportError::Rejected(report).to_string();
            imports::finish(&state.db, run.id, Some(&json), Some(&message)).await?;
        }
        Err(e) => imports::finish(&state.db, run.id, None, Some(&e.to_string())).await?,
    }
    Ok(())
}
