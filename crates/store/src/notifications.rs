//! In-app notifications: one row per person and event, read from the badge and the home
//! page. Every service notifies through here (e-mail, push and SMS digests build on it).

use crate::db::RowExt;
use crate::error::StoreResult;
use crate::{Db, TenantScope, now};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Notifies each of `$users` (a slice of ids) of an event, inside a transaction.
macro_rules! notify_in {
    ($tx:expr, $tenant:expr, $users:expr, $kind:expr, $subject:expr, $summary:expr, $link:expr) => {{
        let users: &[Uuid] = $users;
        let at = $crate::now();
        for chunk in users.chunks(100) {
            let sql = $crate::db::multi_row_sql(
                $crate::Backend::Postgres,
                "INSERT INTO notifications (id, tenant_id, user_id, kind, subject_id, summary, link, created_at) VALUES",
                8,
                chunk.len(),
                "",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for user in chunk {
                q = q
                    .bind(Uuid::now_v7())
                    .bind($tenant)
                    .bind(*user)
                    .bind($kind)
                    .bind($subject)
                    .bind($summary)
                    .bind($link)
                    .bind(at);
            }
            q.execute(&mut *$tx).await?;
        }
    }};
}

#[derive(Clone, Debug)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub summary: String,
    pub link: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

pub async fn unread_count(db: &Db, scope: TenantScope, user: Uuid) -> StoreResult<i64> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND tenant_id = $2 AND read_at IS NULL",
        )
        .bind(user)
        .bind(scope.id())
        .fetch_one(c)
        .await?
        .int("n")?
    }))
}

pub async fn recent(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    limit: i64,
) -> StoreResult<Vec<Notification>> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT id, kind, summary, link, created_at, read_at FROM notifications \
             WHERE user_id = $1 AND tenant_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(user)
        .bind(scope.id())
        .bind(limit)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(Notification {
                id: r.uuid("id")?,
                kind: r.text("kind")?,
                summary: r.text("summary")?,
                link: r.text("link")?,
                created_at: r.time("created_at")?,
                read: r.opt_time("read_at")?.is_some(),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?
    }))
}

/// Marks read what a person was told about one object (a message they opened).
pub async fn mark_read_for(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    subject: Uuid,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND tenant_id = $3 AND subject_id = $4 AND read_at IS NULL",
        )
        .bind(now())
        .bind(user)
        .bind(scope.id())
        .bind(subject)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

/// Marks read every notification of a kind for a person (the page they lead to was seen).
pub async fn mark_kind_read(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    kind: &str,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND tenant_id = $3 AND kind = $4 AND read_at IS NULL",
        )
        .bind(now())
        .bind(user)
        .bind(scope.id())
        .bind(kind)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}
