//! Read → plan → apply, with the rules every caller shares: a dry run writes nothing; a run
//! with rejected rows writes nothing unless asked to skip them; a plan that fails to apply
//! leaves the directory as it was (one transaction).

use preau_domain::provisioning::{Feed, Plan, PlanError, PlanOptions, Report, Snapshot, plan};
use preau_interop::FeedError;
use preau_interop::aaf::{AafContext, AafInput, FunctionMap, read_files};
use preau_interop::onde::{OndeFile, read_school};
use preau_store::provisioning::{self, ApplyStep};
use preau_store::{Db, StoreError, TenantScope};
use uuid::Uuid;

#[derive(Clone, Copy, Debug)]
pub struct ImportOptions {
    /// Report what would change, write nothing.
    pub dry_run: bool,
    /// Apply the valid rows even when some were rejected (the report lists them).
    pub skip_rejected: bool,
    pub plan: PlanOptions,
    pub actor: Option<Uuid>,
    pub school_year: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Feed(#[from] FeedError),
    #[error("{0}")]
    Plan(#[from] PlanError),
    /// Rows were rejected and skipping them was not asked: nothing was written.
    #[error("{} lignes rejetées : rien n'a été importé (relancez en acceptant d'ignorer ces lignes)", .0.rejections.len())]
    Rejected(Box<Report>),
    #[error("base de données : {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

/// Resident memory of the process in MiB (Linux), for the phase logs of large imports.
fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1024 * 1024))
}

/// Progress of a run: (what, done, total).
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

async fn plan_and_apply(
    db: &Db,
    scope: TenantScope,
    feed: Feed,
    snapshot: Option<Snapshot>,
    options: ImportOptions,
    progress: Progress<'_>,
) -> Result<Report, ImportError> {
    progress("comparaison avec l'annuaire", 0, 1);
    let started = std::time::Instant::now();
    let snapshot = match snapshot {
        Some(s) => s,
        None => provisioning::load_snapshot(db, scope, options.school_year).await?,
    };
    let loaded = started.elapsed();
    tracing::info!(rss_mib = rss_mib(), "directory loaded");
    // The feed and the snapshot are dropped with the closure: only the plan stays in memory.
    let plan: Plan =
        tokio::task::spawn_blocking(move || plan(feed, &snapshot, options.plan, Uuid::now_v7))
            .await
            .map_err(|e| ImportError::Other(e.to_string()))??;
    tracing::info!(
        snapshot_ms = loaded.as_millis() as u64,
        rss_mib = rss_mib(),
        plan_ms = (started.elapsed() - loaded).as_millis() as u64,
        changes = plan.report.changes(),
        "import planned"
    );
    progress("comparaison avec l'annuaire", 1, 1);
    let report = plan.report.clone();
    if options.dry_run {
        return Ok(report);
    }
    if !report.rejections.is_empty() && !options.skip_rejected {
        return Err(ImportError::Rejected(Box::new(report)));
    }
    if plan.is_empty() {
        return Ok(report);
    }
    let started = std::time::Instant::now();
    provisioning::apply_plan(
        db,
        scope,
        options.school_year,
        &plan,
        options.actor,
        &|step, done, total| {
            let what = match step {
                ApplyStep::People => "comptes",
                ApplyStep::Attachments => "rattachements",
                ApplyStep::Groups => "groupes",
            };
            progress(what, done, total);
        },
    )
    .await?;
    tracing::info!(
        apply_ms = started.elapsed().as_millis() as u64,
        rss_mib = rss_mib(),
        "import applied"
    );
    Ok(report)
}

/// Imports the ONDE files of one school.
pub async fn import_onde(
    db: &Db,
    scope: TenantScope,
    uai: &str,
    files: Vec<OndeFile>,
    options: ImportOptions,
    progress: Progress<'_>,
) -> Result<Report, ImportError> {
    let uai = uai.to_owned();
    progress("lecture des fichiers", 0, 1);
    let feed = tokio::task::spawn_blocking(move || read_school(&uai, &files))
        .await
        .map_err(|e| ImportError::Other(e.to_string()))??;
    progress("lecture des fichiers", 1, 1);
    plan_and_apply(db, scope, feed, None, options, progress).await
}

/// Imports a set of AAF files (a complete export or an incremental one).
pub async fn import_aaf(
    db: &Db,
    scope: TenantScope,
    inputs: Vec<AafInput>,
    academie: Option<String>,
    functions: FunctionMap,
    options: ImportOptions,
    progress: Progress<'_>,
) -> Result<Report, ImportError> {
    let context = AafContext {
        academie,
        known_structures: provisioning::aaf_structures(db, scope).await?,
        functions,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let reading = tokio::task::spawn_blocking(move || {
        read_files(inputs, &context, &mut |n| {
            let _ = tx.send(n);
        })
    });
    let started = std::time::Instant::now();
    // The directory is loaded while the files are read: one core each.
    let directory = async {
        let snapshot = provisioning::load_snapshot(db, scope, options.school_year).await;
        tracing::info!(
            snapshot_ms = started.elapsed().as_millis() as u64,
            "directory loaded"
        );
        snapshot
    };
    let progress_done = async {
        while let Some(n) = rx.recv().await {
            progress("lecture des enregistrements", n, 0);
        }
    };
    let (snapshot, ()) = tokio::join!(directory, progress_done);
    let feed = reading
        .await
        .map_err(|e| ImportError::Other(e.to_string()))??;
    let snapshot = snapshot?;
    tracing::info!(
        read_ms = started.elapsed().as_millis() as u64,
        people = feed.people.len(),
        rss_mib = rss_mib(),
        "AAF files read"
    );
    plan_and_apply(db, scope, feed, Some(snapshot), options, progress).await
}
