//! The background jobs queue: rows enqueued in the transaction that causes them (so a post
//! and its fan-out commit together), claimed with a lease by the worker, retried with
//! backoff, kept with their error once they have failed too often.

use crate::db::RowExt;
use crate::error::StoreResult;
use crate::{Db, now};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use uuid::Uuid;

/// Enqueues a job inside a transaction: `$tenant` is an `Option<Uuid>`, `$payload` a `&str`.
macro_rules! enqueue_in {
    ($tx:expr, $tenant:expr, $kind:expr, $payload:expr, $run_at:expr) => {
        sqlx::query(
            "INSERT INTO jobs (id, tenant_id, kind, payload, run_at, attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind($tenant)
        .bind($kind)
        .bind($payload)
        .bind(chrono::SubsecRound::trunc_subsecs($run_at, 0))
        .bind($crate::now())
        .execute(&mut *$tx)
        .await?;
    };
}

/// Attempts before a job is set aside as failed.
pub const MAX_ATTEMPTS: i64 = 8;

#[derive(Clone, Debug)]
pub struct Job {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub kind: String,
    pub payload: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
}

/// Enqueues one job on its own.
pub async fn enqueue(
    db: &Db,
    tenant: Option<Uuid>,
    kind: &str,
    payload: &str,
    run_at: DateTime<Utc>,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        enqueue_in!(tx, tenant, kind, payload, run_at);
    });
    Ok(())
}

/// Enqueues a recurring job unless one of that kind is already waiting for a later time
/// (the run under way, due now, does not count).
pub async fn ensure_scheduled(db: &Db, kind: &str, run_at: DateTime<Utc>) -> StoreResult<bool> {
    Ok(in_write_tx!(db, |tx| {
        let waiting = sqlx::query(
            "SELECT id FROM jobs WHERE kind = $1 AND failed_at IS NULL AND run_at > $2 LIMIT 1",
        )
        .bind(kind)
        .bind(now())
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if !waiting {
            enqueue_in!(tx, None::<Uuid>, kind, "{}", run_at);
        }
        !waiting
    }))
}

const CLAIM_SQLITE: &str = "UPDATE jobs SET locked_until = $1, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM jobs WHERE failed_at IS NULL AND run_at <= $2 \
     AND (locked_until IS NULL OR locked_until <= $2) ORDER BY run_at LIMIT $3) \
     RETURNING id, tenant_id, kind, payload, attempts";

// Several servers may share one PostgreSQL: each skips rows another is claiming.
const CLAIM_POSTGRES: &str = "UPDATE jobs SET locked_until = $1, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM jobs WHERE failed_at IS NULL AND run_at <= $2 \
     AND (locked_until IS NULL OR locked_until <= $2) ORDER BY run_at LIMIT $3 \
     FOR UPDATE SKIP LOCKED) \
     RETURNING id, tenant_id, kind, payload, attempts";

/// Claims up to `limit` due jobs for `lease`; a worker that dies leaves them to be claimed
/// again when the lease ends.
pub async fn claim(db: &Db, limit: i64, lease: Duration) -> StoreResult<Vec<Job>> {
    let at = now();
    match db {
        Db::Sqlite(s) => {
            let mut tx = s.writer.begin_with("BEGIN IMMEDIATE").await?;
            let rows = sqlx::query(CLAIM_SQLITE)
                .bind(at + lease)
                .bind(at)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            rows.iter().map(job_of).collect()
        }
        Db::Postgres(p) => {
            let rows = sqlx::query(CLAIM_POSTGRES)
                .bind(at + lease)
                .bind(at)
                .bind(limit)
                .fetch_all(p)
                .await?;
            rows.iter().map(job_of).collect()
        }
    }
}

fn job_of(r: &impl RowExt) -> StoreResult<Job> {
    Ok(Job {
        id: r.uuid("id")?,
        tenant_id: r.opt_uuid("tenant_id")?,
        kind: r.text("kind")?,
        payload: r.text("payload")?,
        attempt: r.int("attempts")?,
    })
}

/// A job done: gone from the queue.
pub async fn complete(db: &Db, id: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// Waiting before attempt `n + 1`: 30 s, 1 min, 2 min… up to an hour.
pub fn backoff(attempt: i64) -> Duration {
    Duration::seconds((30i64 << attempt.clamp(0, 7).saturating_sub(1)).min(3600))
}

/// A job that went wrong: tried again later, or set aside after `MAX_ATTEMPTS`.
pub async fn fail(db: &Db, job: &Job, error: &str) -> StoreResult<()> {
    let at = now();
    let error: String = error.chars().take(1000).collect();
    in_write_tx!(db, |tx| {
        if job.attempt >= MAX_ATTEMPTS {
            sqlx::query(
                "UPDATE jobs SET failed_at = $1, last_error = $2, locked_until = NULL WHERE id = $3",
            )
            .bind(at)
            .bind(&error)
            .bind(job.id)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "UPDATE jobs SET run_at = $1, last_error = $2, locked_until = NULL WHERE id = $3",
            )
            .bind(at + backoff(job.attempt))
            .bind(&error)
            .bind(job.id)
            .execute(&mut *tx)
            .await?;
        }
    });
    Ok(())
}

/// When the next waiting job is due (the worker sleeps until then or until woken).
pub async fn next_due(db: &Db) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(on_read!(db, |c| {
        sqlx::query("SELECT MIN(run_at) AS at FROM jobs WHERE failed_at IS NULL")
            .fetch_one(c)
            .await?
            .opt_time("at")?
    }))
}

/// Jobs waiting and jobs set aside, for operators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueState {
    pub waiting: i64,
    pub failed: i64,
}

pub async fn state(db: &Db) -> StoreResult<QueueState> {
    Ok(on_read!(db, |c| {
        let r = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN failed_at IS NULL THEN 1 ELSE 0 END), 0) AS waiting, \
             COALESCE(SUM(CASE WHEN failed_at IS NULL THEN 0 ELSE 1 END), 0) AS failed FROM jobs",
        )
        .fetch_one(c)
        .await?;
        QueueState {
            waiting: r.int("waiting")?,
            failed: r.int("failed")?,
        }
    }))
}

/// One job to enqueue with `enqueue_many`.
pub struct NewJob {
    pub tenant_id: Option<Uuid>,
    pub kind: &'static str,
    pub payload: String,
    pub run_at: DateTime<Utc>,
}

/// Enqueues many jobs in one transaction (a fan-out to hundreds of families).
pub async fn enqueue_many(db: &Db, jobs: &[NewJob]) -> StoreResult<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let at = now();
    let backend = db.backend();
    in_write_tx!(db, |tx| {
        for_rows!(
            tx,
            backend,
            "INSERT INTO jobs (id, tenant_id, kind, payload, run_at, attempts, created_at) VALUES",
            7,
            "",
            jobs,
            |q, j| q
                .bind(Uuid::now_v7())
                .bind(j.tenant_id)
                .bind(j.kind)
                .bind(j.payload.as_str())
                .bind(j.run_at.trunc_subsecs(0))
                .bind(0i64)
                .bind(at)
        );
    });
    Ok(())
}

/// Puts a claimed job back for later without counting the attempt (a rate limit, not a fault).
pub async fn postpone(db: &Db, job: &Job, run_at: DateTime<Utc>) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE jobs SET run_at = $1, locked_until = NULL, attempts = attempts - 1 WHERE id = $2",
        )
        .bind(run_at.trunc_subsecs(0))
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}
