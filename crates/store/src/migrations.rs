//! Per-backend migrations, embedded in the binary and applied in order, each in its own
//! transaction. The schema-parity test checks both backends end up with the same tables
//! and columns.

use crate::db::{Db, RowExt};
use crate::error::StoreResult;
use crate::now;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "directory",
        sqlite: include_str!("../migrations/sqlite/0001_directory.sql"),
        postgres: include_str!("../migrations/postgres/0001_directory.sql"),
    },
    Migration {
        version: 2,
        name: "provisioning",
        sqlite: include_str!("../migrations/sqlite/0002_provisioning.sql"),
        postgres: include_str!("../migrations/postgres/0002_provisioning.sql"),
    },
    Migration {
        version: 3,
        name: "messaging",
        sqlite: include_str!("../migrations/sqlite/0003_messaging.sql"),
        postgres: include_str!("../migrations/postgres/0003_messaging.sql"),
    },
    Migration {
        version: 4,
        name: "liaison",
        sqlite: include_str!("../migrations/sqlite/0004_liaison.sql"),
        postgres: include_str!("../migrations/postgres/0004_liaison.sql"),
    },
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version BIGINT PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

pub(crate) async fn apply(db: &Db) -> StoreResult<()> {
    // PostgreSQL: the advisory lock lives on this connection until the end.
    let mut pg_lock = None;
    let applied: Vec<i64> = match db {
        Db::Sqlite(s) => {
            sqlx::raw_sql(CREATE_TABLE).execute(&s.writer).await?;
            let rows = sqlx::query("SELECT version FROM schema_migrations")
                .fetch_all(&s.writer)
                .await?;
            rows.iter()
                .map(|r| r.int("version"))
                .collect::<Result<_, _>>()?
        }
        Db::Postgres(p) => {
            // Serialise concurrent starts of several app nodes.
            let mut conn = p.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock(7261001)")
                .execute(&mut *conn)
                .await?;
            sqlx::raw_sql(CREATE_TABLE).execute(&mut *conn).await?;
            let rows = sqlx::query("SELECT version FROM schema_migrations")
                .fetch_all(&mut *conn)
                .await?;
            pg_lock = Some(conn);
            rows.iter()
                .map(|r| r.int("version"))
                .collect::<Result<_, _>>()?
        }
    };
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        tracing::info!(version = m.version, name = m.name, "applying migration");
        let applied_at = now().to_rfc3339();
        in_write_tx!(db, |tx| {
            let sql = match db {
                Db::Sqlite(_) => m.sqlite,
                Db::Postgres(_) => m.postgres,
            };
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(&applied_at)
            .execute(&mut *tx)
            .await?;
        });
    }
    if let Some(mut conn) = pg_lock {
        sqlx::query("SELECT pg_advisory_unlock(7261001)")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
