//! The jobs worker: claims due jobs, runs a few at a time, retries failures with backoff.
//! Woken at once when a request enqueues work due now, else sleeps until the next due job.

use super::{DIGEST_JOB, EMAIL_JOB, PUSH_JOB, SMS_JOB, SmsOutcome};
use crate::AppState;
use futures_util::StreamExt;
use preau_store::jobs::{self, Job};
use preau_store::{TenantScope, liaison, notifications};
use std::time::Duration;

/// Jobs claimed per round, and run at once.
const CLAIM: i64 = 64;
const CONCURRENT: usize = 8;

/// Runs one job; `Ok(false)` asks for it to be put back for later without counting a fault.
async fn run(state: &AppState, job: &Job) -> Result<bool, String> {
    match job.kind.as_str() {
        liaison::PUBLISH_JOB => {
            #[derive(serde::Deserialize)]
            struct P {
                mot: uuid::Uuid,
            }
            let p: P = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
            let tenant = job.tenant_id.ok_or("publication sans territoire")?;
            match liaison::notify_families(&state.db, TenantScope(tenant), p.mot).await {
                // Deleted before its publication: nothing to tell.
                Err(preau_store::StoreError::NotFound) => {}
                Err(e) => return Err(e.to_string()),
                Ok(_) => state.jobs_wake.notify_one(),
            }
            Ok(true)
        }
        notifications::DELIVERY_JOB => super::deliver(state, job.tenant_id, &job.payload)
            .await
            .map(|()| true),
        EMAIL_JOB => super::send_email(state, &job.payload).await.map(|()| true),
        PUSH_JOB => super::send_push(state, &job.payload).await.map(|()| true),
        SMS_JOB => match super::send_sms(state, &job.payload).await? {
            SmsOutcome::Done => Ok(true),
            SmsOutcome::RateLimited => Ok(false),
        },
        DIGEST_JOB => super::send_digests(state).await.map(|()| true),
        other => Err(format!("type de tâche inconnu : {other}")),
    }
}

/// Claims and runs the jobs due now. Returns how many were claimed.
pub async fn run_due(state: &AppState) -> usize {
    let claimed = match jobs::claim(&state.db, CLAIM, chrono::Duration::minutes(5)).await {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::error!(error = %e, "file de tâches illisible");
            return 0;
        }
    };
    let n = claimed.len();
    futures_util::stream::iter(claimed)
        .for_each_concurrent(CONCURRENT, |job| async move {
            let outcome = run(state, &job).await;
            let stored = match outcome {
                Ok(true) => jobs::complete(&state.db, job.id).await,
                Ok(false) => {
                    let later = preau_store::now() + chrono::Duration::seconds(60);
                    jobs::postpone(&state.db, &job, later).await
                }
                Err(e) => {
                    tracing::warn!(kind = %job.kind, attempt = job.attempt, error = %e, "tâche en échec");
                    jobs::fail(&state.db, &job, &e).await
                }
            };
            if let Err(e) = stored {
                tracing::error!(error = %e, "état de tâche non enregistré");
            }
        })
        .await;
    n
}

/// Runs jobs until none is due (tests, and the worker's inner loop).
pub async fn drain(state: &AppState) -> usize {
    let mut total = 0;
    loop {
        let n = run_due(state).await;
        if n == 0 {
            return total;
        }
        total += n;
    }
}

/// Starts the worker for the life of the process.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let first_digest = super::next_digest(preau_store::now(), state.config.digest_time);
        if let Err(e) = jobs::ensure_scheduled(&state.db, DIGEST_JOB, first_digest).await {
            tracing::error!(error = %e, "résumé quotidien non planifié");
        }
        loop {
            drain(&state).await;
            let wait = match jobs::next_due(&state.db).await {
                Ok(Some(at)) => (at - preau_store::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(Duration::from_secs(30)),
                _ => Duration::from_secs(30),
            };
            if wait.is_zero() {
                // Due jobs all leased by another server: look again shortly.
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            tokio::select! {
                () = state.jobs_wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
}
