//! Both backends' migrations must give the same schema: tables, columns, nullability,
//! type families and index names.

use preau_store::{Db, DbOptions};
use std::collections::BTreeSet;

type Columns = BTreeSet<(String, String, bool, &'static str)>;

fn family(sql_type: &str) -> &'static str {
    match sql_type.to_lowercase().as_str() {
        "blob" | "uuid" | "bytea" => "bytes",
        "text" | "timestamp with time zone" | "timestamptz" => "text-or-time",
        "integer" | "bigint" => "integer",
        "boolean" => "boolean",
        _ => "other",
    }
}

async fn sqlite_schema(db: &Db) -> (Columns, BTreeSet<String>) {
    let Db::Sqlite(s) = db else { unreachable!() };
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT m.name, p.name, p.type, p.\"notnull\" FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&s.reader)
    .await
    .expect("sqlite schema");
    let columns = rows
        .into_iter()
        .map(|(t, c, ty, nn)| (t, c, nn == 1, family(&ty)))
        .collect();
    let indexes: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            .fetch_all(&s.reader)
            .await
            .expect("sqlite indexes");
    (columns, indexes.into_iter().map(|(n,)| n).collect())
}

async fn postgres_schema(db: &Db) -> (Columns, BTreeSet<String>) {
    let Db::Postgres(p) = db else { unreachable!() };
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(p)
    .await
    .expect("pg schema");
    let columns = rows
        .into_iter()
        .map(|(t, c, ty, nullable)| (t, c, nullable == "NO", family(&ty)))
        .collect();
    let indexes: Vec<(String,)> = sqlx::query_as(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'",
    )
    .fetch_all(p)
    .await
    .expect("pg indexes");
    (columns, indexes.into_iter().map(|(n,)| n).collect())
}

#[tokio::test]
async fn sqlite_and_postgresql_schemas_match() {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = Db::connect(
        &format!("sqlite://{}", dir.path().join("s.sqlite").display()),
        &DbOptions::default(),
    )
    .await
    .expect("sqlite");
    sqlite.migrate().await.expect("migrate");
    let (s_cols, s_idx) = sqlite_schema(&sqlite).await;
    assert!(
        s_cols
            .iter()
            .any(|(t, c, _, _)| t == "users" && c == "login")
    );
    assert!(
        s_cols.iter().all(|(_, _, _, f)| *f != "other"),
        "unmapped SQLite type: {s_cols:?}"
    );
    let Some(pg) = crate::support::TestApp::postgres().await else {
        eprintln!("PostgreSQL skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let (p_cols, p_idx) = postgres_schema(&pg.db).await;
    let only_sqlite: Vec<_> = s_cols.difference(&p_cols).collect();
    let only_pg: Vec<_> = p_cols.difference(&s_cols).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "columns differ:\nSQLite only: {only_sqlite:#?}\nPostgreSQL only: {only_pg:#?}"
    );
    assert_eq!(s_idx, p_idx, "indexes differ");
}
