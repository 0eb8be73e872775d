//! Import runs: a preview (dry-run report) waiting for confirmation, then a background job
//! with its progress and final report. One active run per structure (per tenant for AAF),
//! enforced by a unique index so two nodes cannot start two runs either.

use crate::db::{RowExt, parse_code};
use crate::error::{StoreError, StoreResult};
use crate::{Db, TenantScope, now};
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use preau_domain::directory::{ImportKind as RunKind, ImportState as RunState};

#[derive(Clone, Debug)]
pub struct ImportRun {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub structure_id: Option<Uuid>,
    pub kind: RunKind,
    pub state: RunState,
    pub skip_rejected: bool,
    pub files_dir: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub progress: i64,
    pub total: i64,
    /// The report as JSON (dry run while in preview, final once done).
    pub report: Option<String>,
    pub error: Option<String>,
}

const COLUMNS: &str = "id, tenant_id, structure_id, kind, state, skip_rejected, files_dir, created_by, \
    created_at, finished_at, progress, total, report, error";

fn run_from_row(r: &impl RowExt) -> StoreResult<ImportRun> {
    Ok(ImportRun {
        id: r.uuid("id")?,
        tenant_id: r.uuid("tenant_id")?,
        structure_id: r.opt_uuid("structure_id")?,
        kind: parse_code(&r.text("kind")?)?,
        state: parse_code(&r.text("state")?)?,
        skip_rejected: r.flag("skip_rejected")?,
        files_dir: r.text("files_dir")?,
        created_by: r.opt_uuid("created_by")?,
        created_at: r.time("created_at")?,
        finished_at: r.opt_time("finished_at")?,
        progress: r.int("progress")?,
        total: r.int("total")?,
        report: r.opt_text("report")?,
        error: r.opt_text("error")?,
    })
}

/// Records a new run in preview, with its dry-run report (or the error that stopped it).
#[allow(clippy::too_many_arguments)]
pub async fn create_preview(
    db: &Db,
    scope: TenantScope,
    id: Uuid,
    structure_id: Option<Uuid>,
    kind: RunKind,
    files_dir: &str,
    created_by: Option<Uuid>,
    report: Option<&str>,
    error: Option<&str>,
) -> StoreResult<()> {
    let state = if error.is_some() {
        RunState::Failed
    } else {
        RunState::Preview
    };
    in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO import_runs (id, tenant_id, structure_id, kind, state, skip_rejected, files_dir, \
             created_by, created_at, finished_at, progress, total, report, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, $11, $12)",
        )
        .bind(id)
        .bind(scope.id())
        .bind(structure_id)
        .bind(kind.code())
        .bind(state.code())
        .bind(false)
        .bind(files_dir)
        .bind(created_by)
        .bind(now())
        .bind(error.map(|_| now()))
        .bind(report)
        .bind(error)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

pub async fn get(db: &Db, scope: TenantScope, id: Uuid) -> StoreResult<ImportRun> {
    on_read!(db, |c| {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM import_runs WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)?;
        run_from_row(&row)
    })
}

/// Where a run lives, to pick the scope of the request that asks for it.
pub async fn tenant_of(db: &Db, id: Uuid) -> StoreResult<Uuid> {
    on_read!(db, |c| {
        sqlx::query("SELECT tenant_id FROM import_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?
            .ok_or(StoreError::NotFound)?
            .uuid("tenant_id")
    })
}

/// The latest runs of a structure, newest first.
pub async fn recent(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
    limit: i64,
) -> StoreResult<Vec<ImportRun>> {
    on_read!(db, |c| {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM import_runs WHERE tenant_id = $1 AND structure_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        )))
        .bind(scope.id())
        .bind(structure_id)
        .bind(limit)
        .fetch_all(c)
        .await?
        .iter()
        .map(run_from_row)
        .collect()
    })
}

/// Moves a previewed run to the queue. `Conflict` when another run of the same structure is
/// already queued or running; `NotFound` when this one is not in preview any more.
pub async fn queue(db: &Db, scope: TenantScope, id: Uuid, skip_rejected: bool) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        let done = sqlx::query(
            "UPDATE import_runs SET state = 'queued', skip_rejected = $1 \
             WHERE id = $2 AND tenant_id = $3 AND state = 'preview'",
        )
        .bind(skip_rejected)
        .bind(id)
        .bind(scope.id())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "import-active"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
    });
    Ok(())
}

pub async fn cancel(db: &Db, scope: TenantScope, id: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE import_runs SET state = 'cancelled', finished_at = $1 \
             WHERE id = $2 AND tenant_id = $3 AND state = 'preview'",
        )
        .bind(now())
        .bind(id)
        .bind(scope.id())
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

pub async fn start(db: &Db, id: Uuid) -> StoreResult<()> {
    set(
        db,
        id,
        "UPDATE import_runs SET state = 'running', started_at = $1 WHERE id = $2",
    )
    .await
}

async fn set(db: &Db, id: Uuid, sql: &'static str) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(sql)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

pub async fn progress(db: &Db, id: Uuid, done: i64, total: i64) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("UPDATE import_runs SET progress = $1, total = $2 WHERE id = $3")
            .bind(done)
            .bind(total)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// Ends a run with its final report, or with the error that stopped it.
pub async fn finish(
    db: &Db,
    id: Uuid,
    report: Option<&str>,
    error: Option<&str>,
) -> StoreResult<()> {
    let state = if error.is_some() {
        RunState::Failed
    } else {
        RunState::Done
    };
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE import_runs SET state = $1, finished_at = $2, report = COALESCE($3, report), error = $4 WHERE id = $5",
        )
        .bind(state.code())
        .bind(now())
        .bind(report)
        .bind(error)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

/// At start-up: runs left queued or running by a stopped server failed (their transaction
/// was never committed, so nothing of them was written). Returns how many.
pub async fn fail_interrupted(db: &Db) -> StoreResult<u64> {
    let n = in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE import_runs SET state = 'failed', finished_at = $1, \
             error = 'interrompu par un arrêt du serveur : rien n''a été importé' \
             WHERE state IN ('queued', 'running')",
        )
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected()
    });
    Ok(n)
}
