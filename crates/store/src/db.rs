use crate::error::{StoreError, StoreResult};
use crate::migrations;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Pool sizes and limits; defaults suit a 2-core machine.
#[derive(Clone, Debug)]
pub struct DbOptions {
    pub read_connections: u32,
    pub pg_connections: u32,
    /// SQLite: the WAL is truncated back to this size after checkpoints.
    pub wal_size_limit_bytes: i64,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            read_connections: 8,
            pg_connections: 16,
            wal_size_limit_bytes: 64 * 1024 * 1024,
        }
    }
}

/// SQLite: one writer connection (writes never wait on SQLite's lock) and a read pool.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub writer: SqlitePool,
    pub reader: SqlitePool,
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// Runs `$body` with `$c` bound to a read executor of whichever backend is in use.
/// The body is compiled once per backend, so one SQL text serves both (`$1` placeholders).
macro_rules! on_read {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(s) => {
                let $c = &s.reader;
                $body
            }
            $crate::db::Db::Postgres(p) => {
                let $c = p;
                $body
            }
        }
    };
}

/// Runs `$body` inside a write transaction (`BEGIN IMMEDIATE` on SQLite's writer),
/// committed when the body finishes; an early `?` return rolls it back.
macro_rules! in_write_tx {
    ($db:expr, |$tx:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(s) => {
                let mut $tx = s.writer.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::db::Db::Postgres(p) => {
                let mut $tx = p.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

/// Inside a write transaction: marks the tenant's rights as changed (see `sessions::lookup`).
/// Rows per multi-row statement: under SQLite's and PostgreSQL's parameter limits for the
/// widest row written here (15 columns).
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// `head ($1, $2), ($3, $4)… tail` for `rows` rows of `cols` parameters. SQLite gets
/// anonymous `?` placeholders: it looks numbered ones up by name, one linear scan per
/// parameter, which made a 7,500-parameter statement spend half its time there.
pub(crate) fn multi_row_sql(
    backend: Backend,
    head: &str,
    cols: usize,
    rows: usize,
    tail: &str,
) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * cols * 6);
    sql.push_str(head);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            n += 1;
            if backend == Backend::Sqlite {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
}

/// Runs one multi-row statement per chunk of `$rows`, binding each row with `$bind`.
macro_rules! for_rows {
    ($tx:expr, $backend:expr, $head:expr, $cols:expr, $tail:expr, $rows:expr, |$q:ident, $r:ident| $bind:expr) => {
        for chunk in $rows.chunks($crate::db::ROWS_PER_STATEMENT) {
            let sql = $crate::db::multi_row_sql($backend, $head, $cols, chunk.len(), $tail);
            let mut $q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for $r in chunk {
                $q = $bind;
            }
            $q.execute(&mut *$tx).await?;
        }
    };
}

/// Checks, inside a transaction, that each id names a row of this tenant in `table`.
macro_rules! ensure_in_tenant {
    ($tx:expr, $scope:expr, $table:literal, $($id:expr),+) => {
        $(
            sqlx::query(concat!("SELECT id FROM ", $table, " WHERE id = $1 AND tenant_id = $2"))
                .bind($id)
                .bind($scope.id())
                .fetch_optional(&mut *$tx)
                .await?
                .ok_or($crate::error::StoreError::NotFound)?;
        )+
    };
}

/// Writes one audit row inside a transaction.
macro_rules! audit_in {
    ($tx:expr, $tenant:expr, $actor:expr, $action:expr, $target:expr, $detail:expr) => {
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, actor_id, action, target_id, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind($tenant)
        .bind($actor)
        .bind($action)
        .bind($target)
        .bind($detail)
        .bind($crate::now())
        .execute(&mut *$tx)
        .await?;
    };
}

macro_rules! bump_directory_version {
    ($tx:expr, $tenant:expr) => {
        sqlx::query("UPDATE tenants SET directory_version = directory_version + 1 WHERE id = $1")
            .bind($tenant)
            .execute(&mut *$tx)
            .await?;
    };
}

impl Db {
    /// Opens the database named by `url`: `sqlite://PATH` (created if missing) or
    /// `postgres://…`. Any other scheme is an error, never a silently created file.
    pub async fn connect(url: &str, options: &DbOptions) -> StoreResult<Self> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Self::open_sqlite(Path::new(path), options).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let connect = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(options.pg_connections)
                .acquire_timeout(Duration::from_secs(10))
                // No ping before every checkout: it is one more round trip per query, and a
                // broken connection shows as an error on its query and is replaced anyway.
                .test_before_acquire(false)
                .connect_with(connect)
                .await?;
            Ok(Self::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    async fn open_sqlite(path: &Path, options: &DbOptions) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Invalid(format!("{}: {e}", dir.display())))?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .auto_vacuum(SqliteAutoVacuum::Incremental)
            .busy_timeout(Duration::from_secs(10))
            .pragma(
                "journal_size_limit",
                options.wal_size_limit_bytes.to_string(),
            )
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base)
            .await?;
        // Readers only read: no journal or vacuum settings (they need a writable handle).
        let read_options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        let reader = SqlitePoolOptions::new()
            .max_connections(options.read_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(read_options)
            .await?;
        Ok(Self::Sqlite(SqliteDb { writer, reader }))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations of this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        migrations::apply(self).await
    }

    /// True when a trivial query answers (for `/healthz`).
    pub async fn ping(&self) -> bool {
        on_read!(self, |c| sqlx::query("SELECT 1").execute(c).await.is_ok())
    }

    /// SQLite only: moves the WAL back into the database and truncates it. With readers
    /// always active, automatic checkpoints never reach the end of the WAL and it grows
    /// without bound; a periodic TRUNCATE checkpoint bounds it. It waits for readers at most
    /// a quarter of a second (writes queue meanwhile) and is retried at the next tick.
    /// Returns whether the WAL was truncated.
    pub async fn checkpoint(&self) -> StoreResult<bool> {
        let Self::Sqlite(s) = self else {
            return Ok(true);
        };
        let mut conn = s.writer.acquire().await?;
        sqlx::query("PRAGMA busy_timeout = 250")
            .execute(&mut *conn)
            .await?;
        let result = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *conn)
            .await;
        sqlx::query("PRAGMA busy_timeout = 10000")
            .execute(&mut *conn)
            .await?;
        // First column: 1 when readers kept the checkpoint from finishing.
        let busy: i64 = sqlx::Row::try_get(&result?, 0)?;
        Ok(busy == 0)
    }

    /// Spawns the periodic checkpoint task (SQLite only).
    pub fn spawn_wal_checkpointer(&self, every: Duration) {
        if self.backend() != Backend::Sqlite {
            return;
        }
        let db = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match db.checkpoint().await {
                    Ok(true) => {}
                    Ok(false) => tracing::debug!("WAL checkpoint postponed: readers busy"),
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                }
            }
        });
    }

    /// Closes every pool, waiting for connections to finish.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => {
                s.reader.close().await;
                s.writer.close().await;
            }
            Self::Postgres(p) => p.close().await,
        }
    }
}

/// Typed column access shared by both backends' rows, so one decoder serves both.
pub(crate) trait RowExt {
    fn uuid(&self, col: &str) -> StoreResult<uuid::Uuid>;
    fn opt_uuid(&self, col: &str) -> StoreResult<Option<uuid::Uuid>>;
    fn text(&self, col: &str) -> StoreResult<String>;
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    fn flag(&self, col: &str) -> StoreResult<bool>;
    fn time(&self, col: &str) -> StoreResult<chrono::DateTime<chrono::Utc>>;
    fn opt_time(&self, col: &str) -> StoreResult<Option<chrono::DateTime<chrono::Utc>>>;
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>>;
    fn opt_bytes(&self, col: &str) -> StoreResult<Option<Vec<u8>>>;
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn uuid(&self, col: &str) -> StoreResult<uuid::Uuid> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_uuid(&self, col: &str) -> StoreResult<Option<uuid::Uuid>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn text(&self, col: &str) -> StoreResult<String> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn int(&self, col: &str) -> StoreResult<i64> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn flag(&self, col: &str) -> StoreResult<bool> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn time(&self, col: &str) -> StoreResult<chrono::DateTime<chrono::Utc>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_time(&self, col: &str) -> StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
            fn opt_bytes(&self, col: &str) -> StoreResult<Option<Vec<u8>>> {
                Ok(sqlx::Row::try_get(self, col)?)
            }
        }
    };
}
impl_row_ext!(sqlx::sqlite::SqliteRow);
impl_row_ext!(sqlx::postgres::PgRow);

/// Parses a stored code into its enum, reporting corrupt data instead of panicking.
pub(crate) fn parse_code<T: FromStr>(value: &str) -> StoreResult<T> {
    value
        .parse()
        .map_err(|_| StoreError::Invalid(format!("unknown stored code {value:?}")))
}
