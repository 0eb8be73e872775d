//! Imports into the directory: the tenant's current state as a [`Snapshot`], and a [`Plan`]
//! applied in one transaction (a failure anywhere leaves the directory as it was).
//!
//! Rows are written by many at a time (multi-row `VALUES`), which is what makes an académie
//! of 450,000 accounts a matter of a minute rather than an hour.

use crate::batch::LoginAllocator;
use crate::db::{ROWS_PER_STATEMENT, RowExt, multi_row_sql, parse_code};
use crate::error::{StoreError, StoreResult};
use crate::{Db, TenantScope, now};
use chrono::NaiveDate;
use preau_domain::directory::{format_levels, parse_levels};
use preau_domain::provisioning::{
    Plan, SnapClass, SnapStructure, SnapUser, Snapshot, Source, Text,
};
use preau_domain::{AccountState, GroupKind, NationalProfile};
use std::collections::HashMap;
use uuid::Uuid;

/// Runs `$body` with `$c` bound to one read connection of whichever backend is in use.
macro_rules! on_one_connection {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            Db::Sqlite(s) => {
                let mut conn = s.reader.acquire().await?;
                let $c = &mut *conn;
                $body
            }
            Db::Postgres(p) => {
                let mut conn = p.acquire().await?;
                let $c = &mut *conn;
                $body
            }
        }
    };
}

/// Rows decoded one at a time as they stream in: an académie's directory is hundreds of
/// thousands of rows, which must not all sit in memory twice (raw rows, then values).
trait MapRows<'a, R> {
    async fn map_ok_rows<T>(self, f: impl FnMut(&R) -> StoreResult<T>) -> StoreResult<Vec<T>>;
}

impl<'a, R, S> MapRows<'a, R> for S
where
    S: futures_util::Stream<Item = Result<R, sqlx::Error>> + Unpin + 'a,
{
    async fn map_ok_rows<T>(
        mut self,
        mut f: impl FnMut(&R) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        use futures_util::TryStreamExt;
        let mut out = Vec::new();
        while let Some(row) = self.try_next().await? {
            out.push(f(&row)?);
        }
        out.shrink_to_fit();
        Ok(out)
    }
}

fn source_of(code: &str) -> StoreResult<Source> {
    Source::from_code(code).ok_or_else(|| StoreError::Invalid(format!("unknown source {code}")))
}

fn date_of(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
}

/// The tenant's directory as an import sees it: structures, this school year's classes,
/// people with their keys, and every attachment with its source.
pub async fn load_snapshot(db: &Db, scope: TenantScope, school_year: i64) -> StoreResult<Snapshot> {
    let tenant = scope.id();
    // One connection for the whole read: each SQLite reader keeps its own page cache, and
    // five queries spread over five of them would hold five caches at once.
    on_one_connection!(db, |c| {
        let structures =
            sqlx::query("SELECT id, uai, aaf_id, circonscription_id, kind, name FROM structures WHERE tenant_id = $1")
                .bind(tenant)
                .fetch(&mut *c)
                .map_ok_rows(|r| {
                    Ok(SnapStructure {
                        id: r.uuid("id")?,
                        uai: r.opt_text("uai")?,
                        aaf_id: r.opt_text("aaf_id")?,
                        circonscription_id: r.opt_uuid("circonscription_id")?,
                        kind: parse_code(&r.text("kind")?)?,
                        name: r.text("name")?,
                    })
                })
                .await?;
        let classes = sqlx::query(
            "SELECT id, structure_id, external_id, name, levels FROM classes \
             WHERE tenant_id = $1 AND school_year = $2 AND archived_at IS NULL",
        )
        .bind(tenant)
        .bind(school_year)
        .fetch(&mut *c)
        .map_ok_rows(|r| {
            Ok(SnapClass {
                id: r.uuid("id")?,
                structure_id: r.uuid("structure_id")?,
                external_id: r.opt_text("external_id")?,
                name: r.text("name")?,
                levels: parse_levels(&r.text("levels")?).unwrap_or_default(),
            })
        })
        .await?;
        let users = sqlx::query(
            "SELECT id, first_name, last_name, birth_date, email, mobile, ine, aaf_id, detached_at \
             FROM users WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch(&mut *c)
        .map_ok_rows(|r| {
            Ok(SnapUser {
                id: r.uuid("id")?,
                first_name: r.text("first_name")?.into(),
                last_name: r.text("last_name")?.into(),
                birth_date: date_of(r.opt_text("birth_date")?),
                email: r.opt_text("email")?.map(Text::from),
                mobile: r.opt_text("mobile")?.map(Text::from),
                ine: r.opt_text("ine")?.map(Text::from),
                aaf_id: r.opt_text("aaf_id")?.map(Text::from),
                detached: r.opt_time("detached_at")?.is_some(),
            })
        })
        .await?;
        let profiles = sqlx::query(
            "SELECT user_id, structure_id, profile, source FROM user_profiles WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch(&mut *c)
        .map_ok_rows(|r| {
            Ok((
                r.uuid("user_id")?,
                r.uuid("structure_id")?,
                parse_code::<NationalProfile>(&r.text("profile")?)?,
                source_of(&r.text("source")?)?,
            ))
        })
        .await?;
        let functions = sqlx::query(
            "SELECT user_id, structure_id, function, source FROM user_functions WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch(&mut *c)
        .map_ok_rows(|r| {
            Ok((
                r.uuid("user_id")?,
                r.uuid("structure_id")?,
                parse_code(&r.text("function")?)?,
                source_of(&r.text("source")?)?,
            ))
        })
        .await?;
        let members = sqlx::query(
            "SELECT m.class_id, m.user_id, m.role, m.source FROM class_members m \
             JOIN classes c ON c.id = m.class_id \
             WHERE m.tenant_id = $1 AND c.school_year = $2 AND c.archived_at IS NULL",
        )
        .bind(tenant)
        .bind(school_year)
        .fetch(&mut *c)
        .map_ok_rows(|r| {
            Ok((
                r.uuid("class_id")?,
                r.uuid("user_id")?,
                parse_code(&r.text("role")?)?,
                source_of(&r.text("source")?)?,
            ))
        })
        .await?;
        let links = sqlx::query(
            "SELECT guardian_id, child_id, legal_authority, source FROM guardianships WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch(&mut *c)
        .map_ok_rows(|r| {
            Ok((
                r.uuid("guardian_id")?,
                r.uuid("child_id")?,
                r.flag("legal_authority")?,
                source_of(&r.text("source")?)?,
            ))
        })
        .await?;
        Ok::<_, StoreError>(Snapshot {
            structures,
            classes,
            users,
            profiles,
            functions,
            members,
            links,
        })
    })
}

/// AAF join keys of the tenant's structures → UAI (incremental AAF files do not repeat them).
pub async fn aaf_structures(db: &Db, scope: TenantScope) -> StoreResult<HashMap<String, String>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT aaf_id, uai FROM structures WHERE tenant_id = $1 AND aaf_id IS NOT NULL AND uai IS NOT NULL",
        )
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| Ok((r.text("aaf_id")?, r.text("uai")?)))
        .collect()
    })
}

/// Steps of an apply, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyStep {
    People,
    Attachments,
    Groups,
}

/// Writes the plan in one transaction. `actor` is recorded in the audit log.
pub async fn apply_plan(
    db: &Db,
    scope: TenantScope,
    school_year: i64,
    plan: &Plan,
    actor: Option<Uuid>,
    progress: &(dyn Fn(ApplyStep, u64, u64) + Sync),
) -> StoreResult<()> {
    let tenant = scope.id();
    let at = now();
    let backend = db.backend();
    let source = plan.source.unwrap_or(Source::Manual).code();
    let mut logins = LoginAllocator::load(db).await?;
    let new_users: Vec<(&preau_domain::provisioning::PersonData, String)> = plan
        .new_users
        .iter()
        .map(|u| (u, logins.allocate(&u.first_name, &u.last_name)))
        .collect();
    let touched: Vec<Uuid> = plan.touched_structures.iter().copied().collect();
    let at_start = std::time::Instant::now();
    in_write_tx!(db, |tx| {
        // Structures: circonscriptions first, so schools can point to them.
        let mut structures: Vec<_> = plan.new_structures.iter().collect();
        structures.sort_by_key(|s| s.circonscription_id.is_some());
        for_rows!(
            tx,
            backend,
            "INSERT INTO structures (id, tenant_id, kind, name, uai, commune, circonscription_id, aaf_id, created_at) VALUES",
            9,
            "",
            structures,
            |q, s| q
                .bind(s.id)
                .bind(tenant)
                .bind(s.kind.code())
                .bind(&s.name)
                .bind(&s.uai)
                .bind(&s.commune)
                .bind(s.circonscription_id)
                .bind(&s.aaf_id)
                .bind(at)
        );
        for (id, aaf_id, circonscription) in &plan.structure_updates {
            sqlx::query(
                "UPDATE structures SET aaf_id = $1, circonscription_id = $2 WHERE id = $3 AND tenant_id = $4",
            )
            .bind(aaf_id)
            .bind(circonscription)
            .bind(id)
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        }
        for_rows!(
            tx,
            backend,
            "INSERT INTO classes (id, tenant_id, structure_id, name, levels, school_year, external_id, created_at) VALUES",
            8,
            "",
            plan.new_classes,
            |q, c| q
                .bind(c.id)
                .bind(tenant)
                .bind(c.structure_id)
                .bind(&c.name)
                .bind(format_levels(&c.levels))
                .bind(school_year)
                .bind(&c.external_id)
                .bind(at)
        );
        for c in &plan.class_updates {
            sqlx::query(
                "UPDATE classes SET name = $1, levels = $2, external_id = $3 WHERE id = $4 AND tenant_id = $5",
            )
            .bind(&c.name)
            .bind(format_levels(&c.levels))
            .bind(&c.external_id)
            .bind(c.id)
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        }
        let total_people = (new_users.len() + plan.user_updates.len()) as u64;
        progress(ApplyStep::People, 0, total_people);
        for (i, chunk) in new_users.chunks(ROWS_PER_STATEMENT).enumerate() {
            let sql = multi_row_sql(
                backend,
                "INSERT INTO users (id, tenant_id, login, first_name, last_name, email, birth_date, ine, aaf_id, \
                 mobile, state, is_operator, failed_logins, created_at, updated_at) VALUES",
                15,
                chunk.len(),
                "",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (u, login) in chunk {
                q = q
                    .bind(u.id)
                    .bind(tenant)
                    .bind(login)
                    .bind(u.first_name.as_str())
                    .bind(u.last_name.as_str())
                    .bind(u.email.as_deref())
                    .bind(u.birth_date.map(|d| d.format("%Y-%m-%d").to_string()))
                    .bind(u.ine.as_deref())
                    .bind(u.aaf_id.as_deref())
                    .bind(u.mobile.as_deref())
                    .bind(AccountState::Pending.code())
                    .bind(false)
                    .bind(0i64)
                    .bind(at)
                    .bind(at);
            }
            q.execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_unique(e, "user-key"))?;
            progress(
                ApplyStep::People,
                ((i + 1) * ROWS_PER_STATEMENT).min(new_users.len()) as u64,
                total_people,
            );
        }
        for u in &plan.user_updates {
            sqlx::query(
                "UPDATE users SET first_name = $1, last_name = $2, birth_date = $3, email = $4, mobile = $5, \
                 ine = $6, aaf_id = $7, updated_at = $8 WHERE id = $9 AND tenant_id = $10",
            )
            .bind(u.first_name.as_str())
            .bind(u.last_name.as_str())
            .bind(u.birth_date.map(|d| d.format("%Y-%m-%d").to_string()))
            .bind(u.email.as_deref())
            .bind(u.mobile.as_deref())
            .bind(u.ine.as_deref())
            .bind(u.aaf_id.as_deref())
            .bind(at)
            .bind(u.id)
            .bind(tenant)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::on_unique(e, "user-key"))?;
        }
        for id in &plan.reattached {
            // Back from a detachment: an account the lifecycle disabled is opened again.
            sqlx::query(
                "UPDATE users SET detached_at = NULL, deletion_notice_at = NULL, \
                 state = CASE WHEN lifecycle_disabled_at IS NULL THEN state \
                              WHEN password_hash IS NULL THEN 'pending' ELSE 'active' END, \
                 lifecycle_disabled_at = NULL, updated_at = $1 WHERE id = $2 AND tenant_id = $3",
            )
            .bind(at)
            .bind(id)
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        }
        tracing::debug!(
            elapsed_ms = at_start.elapsed().as_millis() as u64,
            "people written"
        );
        progress(ApplyStep::Attachments, 0, 1);
        for_rows!(
            tx,
            backend,
            "DELETE FROM user_profiles WHERE (user_id, structure_id, profile) IN (VALUES",
            3,
            ")",
            plan.remove_profiles,
            |q, r| q.bind(r.0).bind(r.1).bind(r.2.code())
        );
        for_rows!(
            tx,
            backend,
            "DELETE FROM user_functions WHERE (user_id, structure_id, function) IN (VALUES",
            3,
            ")",
            plan.remove_functions,
            |q, r| q.bind(r.0).bind(r.1).bind(r.2.code())
        );
        for_rows!(
            tx,
            backend,
            "DELETE FROM class_members WHERE (class_id, user_id) IN (VALUES",
            2,
            ")",
            plan.remove_members,
            |q, r| q.bind(r.0).bind(r.1)
        );
        for_rows!(
            tx,
            backend,
            "DELETE FROM guardianships WHERE (guardian_id, child_id) IN (VALUES",
            2,
            ")",
            plan.remove_links,
            |q, r| q.bind(r.0).bind(r.1)
        );
        for_rows!(
            tx,
            backend,
            "INSERT INTO user_profiles (tenant_id, user_id, structure_id, profile, source) VALUES",
            5,
            "ON CONFLICT DO NOTHING",
            plan.add_profiles,
            |q, r| q
                .bind(tenant)
                .bind(r.0)
                .bind(r.1)
                .bind(r.2.code())
                .bind(source)
        );
        for_rows!(
            tx,
            backend,
            "INSERT INTO user_functions (tenant_id, user_id, structure_id, function, source) VALUES",
            5,
            "ON CONFLICT DO NOTHING",
            plan.add_functions,
            |q, r| q
                .bind(tenant)
                .bind(r.0)
                .bind(r.1)
                .bind(r.2.code())
                .bind(source)
        );
        for_rows!(
            tx,
            backend,
            "INSERT INTO class_members (tenant_id, class_id, user_id, role, source) VALUES",
            5,
            "ON CONFLICT (class_id, user_id) DO UPDATE SET role = excluded.role",
            plan.add_members,
            |q, r| q
                .bind(tenant)
                .bind(r.0)
                .bind(r.1)
                .bind(r.2.code())
                .bind(source)
        );
        for_rows!(
            tx,
            backend,
            "INSERT INTO guardianships (tenant_id, guardian_id, child_id, legal_authority, source) VALUES",
            5,
            "ON CONFLICT (guardian_id, child_id) DO UPDATE SET legal_authority = excluded.legal_authority",
            plan.upsert_links,
            |q, r| q.bind(tenant).bind(r.0).bind(r.1).bind(r.2).bind(source)
        );
        for (id, left) in &plan.detached {
            sqlx::query(
                "UPDATE users SET detached_at = $1, left_structure_id = COALESCE($2, left_structure_id), \
                 deletion_notice_at = NULL WHERE id = $3 AND tenant_id = $4",
            )
                .bind(at)
                .bind(left)
                .bind(id)
                .bind(tenant)
                .execute(&mut *tx)
                .await?;
        }
        progress(ApplyStep::Attachments, 1, 1);
        tracing::debug!(
            elapsed_ms = at_start.elapsed().as_millis() as u64,
            "attachments written"
        );
        // Every row written must belong to this tenant (ids come from this tenant's snapshot).
        let foreign = sqlx::query(crate::batch::FOREIGN_ROWS)
            .bind(tenant)
            .fetch_optional(&mut *tx)
            .await?;
        if foreign.is_some() {
            return Err(StoreError::NotFound);
        }
        for (i, structure_id) in touched.iter().enumerate() {
            progress(ApplyStep::Groups, i as u64, touched.len() as u64);
            refresh_groups_in!(tx, tenant, *structure_id);
        }
        if !touched.is_empty() {
            recompute_groupings_in!(tx, tenant);
        }
        progress(
            ApplyStep::Groups,
            touched.len() as u64,
            touched.len() as u64,
        );
        tracing::debug!(
            elapsed_ms = at_start.elapsed().as_millis() as u64,
            "groups rebuilt"
        );
        bump_directory_version!(tx, tenant);
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, actor_id, action, target_id, detail, at) VALUES ($1, $2, $3, $4, NULL, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(tenant)
        .bind(actor)
        .bind(format!("import.{source}"))
        .bind(format!("{} changements", plan.report.changes()))
        .bind(at)
        .execute(&mut *tx)
        .await?;
    });
    // PostgreSQL plans with table statistics: after a large import, refresh them at once
    // rather than whenever autovacuum comes by (until then, lookups may scan whole tables).
    if let Db::Postgres(p) = db
        && plan.report.changes() > 1000
    {
        sqlx::query(
            "ANALYZE users, user_profiles, user_functions, class_members, guardianships, groups, group_members, group_reach",
        )
        .execute(p)
        .await?;
    }
    Ok(())
}
