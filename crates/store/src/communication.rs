//! Communication rules per structure, their materialisation onto groups (`group_reach`), and
//! the people and groups a user may write to.

use crate::db::{RowExt, parse_code};
use crate::error::{StoreError, StoreResult};
use crate::{Backend, Db, TenantScope, now};
use preau_domain::NationalProfile;
use preau_domain::communication::{Audience, Mode, Rule};
use std::collections::HashMap;
use uuid::Uuid;

/// Rebuilds the reach rows of one structure from its rules (writing the defaults first if it
/// has none yet) and from its groups and its attached schools' groups.
macro_rules! recompute_reach_in {
    ($tx:expr, $tenant:expr, $structure_id:expr) => {{
        let tenant: Uuid = $tenant;
        let structure_id: Uuid = $structure_id;
        let row = sqlx::query(
            "SELECT kind, commune, rules_set FROM structures WHERE id = $1 AND tenant_id = $2",
        )
        .bind(structure_id)
        .bind(tenant)
        .fetch_optional(&mut *$tx)
        .await?
        .ok_or($crate::error::StoreError::NotFound)?;
        let kind: preau_domain::StructureKind = $crate::db::parse_code(&row.text("kind")?)?;
        let commune = row.text("commune")?;
        if !row.flag("rules_set")? {
            for rule in preau_domain::communication::default_rules(kind) {
                sqlx::query(
                    "INSERT INTO communication_rules (id, tenant_id, structure_id, class_id, from_audience, to_audience, mode, created_at) \
                     VALUES ($1, $2, $3, NULL, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                )
                .bind(Uuid::now_v7())
                .bind(tenant)
                .bind(structure_id)
                .bind(rule.from.code())
                .bind(rule.to.code())
                .bind(rule.mode.code())
                .bind($crate::now())
                .execute(&mut *$tx)
                .await?;
            }
            sqlx::query("UPDATE structures SET rules_set = TRUE WHERE id = $1")
                .bind(structure_id)
                .execute(&mut *$tx)
                .await?;
        }
        let mut rules: Vec<(Option<Uuid>, preau_domain::communication::Rule)> = Vec::new();
        for r in sqlx::query(
            "SELECT class_id, from_audience, to_audience, mode FROM communication_rules WHERE structure_id = $1 AND tenant_id = $2",
        )
        .bind(structure_id)
        .bind(tenant)
        .fetch_all(&mut *$tx)
        .await?
        {
            rules.push((r.opt_uuid("class_id")?, $crate::communication::rule_of(&r)?));
        }
        let mut groups: Vec<(Uuid, preau_domain::communication::GroupRole)> = Vec::new();
        for r in sqlx::query(
            "SELECT id, class_id, profile FROM groups WHERE structure_id = $1 AND tenant_id = $2 AND kind IN ('profile', 'class')",
        )
        .bind(structure_id)
        .bind(tenant)
        .fetch_all(&mut *$tx)
        .await?
        {
            let profile: preau_domain::NationalProfile = $crate::db::parse_code(&r.text("profile")?)?;
            let role = match r.opt_uuid("class_id")? {
                Some(c) => preau_domain::communication::GroupRole::Class(c, profile),
                None => preau_domain::communication::GroupRole::Profile(profile),
            };
            groups.push((r.uuid("id")?, role));
        }
        if !kind.is_school() {
            // Schools of a circonscription or of a commune (by link, or by the commune's name).
            for r in sqlx::query(
                "SELECT g.id, g.profile FROM groups g JOIN structures s ON s.id = g.structure_id \
                 WHERE s.tenant_id = $1 AND s.id <> $2 AND g.kind = 'profile' AND \
                 (s.circonscription_id = $2 OR s.parent_id = $2 OR (s.commune = $3 AND $4 AND s.parent_id IS NULL))",
            )
            .bind(tenant)
            .bind(structure_id)
            .bind(&commune)
            .bind(kind == preau_domain::StructureKind::Commune)
            .fetch_all(&mut *$tx)
            .await?
            {
                let profile: preau_domain::NationalProfile = $crate::db::parse_code(&r.text("profile")?)?;
                groups.push((r.uuid("id")?, preau_domain::communication::GroupRole::Attached(profile)));
            }
        }
        let reach = preau_domain::communication::materialize(&rules, &groups);
        // Who may write to whom changes: cached reach and rights are stale.
        bump_directory_version!($tx, tenant);
        sqlx::query("DELETE FROM group_reach WHERE structure_id = $1 AND tenant_id = $2")
            .bind(structure_id)
            .bind(tenant)
            .execute(&mut *$tx)
            .await?;
        // Numbered parameters work on both backends; chunks stay small enough for SQLite.
        for chunk in reach.chunks(100) {
            let sql = $crate::db::multi_row_sql(
                $crate::Backend::Postgres,
                "INSERT INTO group_reach (tenant_id, structure_id, from_group_id, to_group_id, broadcast) VALUES",
                5,
                chunk.len(),
                "",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (from, to, broadcast) in chunk {
                q = q.bind(tenant).bind(structure_id).bind(*from).bind(*to).bind(*broadcast);
            }
            q.execute(&mut *$tx).await?;
        }
    }};
}

/// Recomputes every circonscription and commune of the tenant: their rules name the groups
/// of the schools attached to them, which imports and administrators create.
macro_rules! recompute_groupings_in {
    ($tx:expr, $tenant:expr) => {{
        let tenant: Uuid = $tenant;
        let ids: Vec<Uuid> = sqlx::query(
            "SELECT id FROM structures WHERE tenant_id = $1 AND kind IN ('circonscription', 'commune')",
        )
        .bind(tenant)
        .fetch_all(&mut *$tx)
        .await?
        .iter()
        .map(|r| r.uuid("id"))
        .collect::<$crate::error::StoreResult<_>>()?;
        for id in ids {
            recompute_reach_in!($tx, tenant, id);
        }
    }};
}

pub(crate) fn rule_of(r: &impl RowExt) -> StoreResult<Rule> {
    let audience = |col: &str| -> StoreResult<Audience> {
        r.text(col)?
            .parse()
            .map_err(|_| StoreError::Invalid(format!("bad audience in {col}")))
    };
    Ok(Rule {
        from: audience("from_audience")?,
        to: audience("to_audience")?,
        mode: parse_code(&r.text("mode")?)?,
    })
}

/// A rule as stored.
#[derive(Clone, Debug)]
pub struct StoredRule {
    pub id: Uuid,
    pub class_id: Option<Uuid>,
    pub rule: Rule,
}

/// The structure-wide rules of a structure (its defaults once written).
pub async fn rules(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
) -> StoreResult<Vec<StoredRule>> {
    ensure_rules(db, scope, structure_id).await?;
    let rows = on_read!(db, |c| {
        sqlx::query(
            "SELECT id, class_id, from_audience, to_audience, mode FROM communication_rules \
             WHERE structure_id = $1 AND tenant_id = $2 AND class_id IS NULL ORDER BY from_audience, to_audience",
        )
        .bind(structure_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredRule {
                id: r.uuid("id")?,
                class_id: r.opt_uuid("class_id")?,
                rule: rule_of(r)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

async fn ensure_rules(db: &Db, scope: TenantScope, structure_id: Uuid) -> StoreResult<()> {
    let set = on_read!(db, |c| {
        sqlx::query("SELECT rules_set FROM structures WHERE id = $1 AND tenant_id = $2")
            .bind(structure_id)
            .bind(scope.id())
            .fetch_optional(c)
            .await?
            .ok_or(StoreError::NotFound)?
            .flag("rules_set")?
    });
    if !set {
        recompute(db, scope, structure_id).await?;
    }
    Ok(())
}

/// Rebuilds one structure's reach (and writes its default rules if it has none).
pub async fn recompute(db: &Db, scope: TenantScope, structure_id: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        recompute_reach_in!(tx, scope.id(), structure_id);
    });
    Ok(())
}

/// Writes the default rules (and the reach) of every structure that has none yet, in every
/// tenant; returns how many. Run at start-up.
pub async fn initialise_missing(db: &Db) -> StoreResult<usize> {
    let rows: Vec<(Uuid, Uuid)> = on_read!(db, |c| {
        sqlx::query("SELECT id, tenant_id FROM structures WHERE rules_set = FALSE")
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| Ok((r.uuid("id")?, r.uuid("tenant_id")?)))
            .collect::<StoreResult<_>>()?
    });
    for (id, tenant) in &rows {
        recompute(db, TenantScope(*tenant), *id).await?;
    }
    Ok(rows.len())
}

/// Rebuilds the circonscriptions' and communes' reach (after a school joined one).
pub async fn recompute_groupings(db: &Db, scope: TenantScope) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        recompute_groupings_in!(tx, scope.id());
    });
    Ok(())
}

/// Rebuilds the reach of every structure of the tenant; returns how many structures.
pub async fn recompute_all(db: &Db, scope: TenantScope) -> StoreResult<usize> {
    let ids: Vec<Uuid> = on_read!(db, |c| {
        sqlx::query("SELECT id FROM structures WHERE tenant_id = $1")
            .bind(scope.id())
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| r.uuid("id"))
            .collect::<StoreResult<_>>()?
    });
    in_write_tx!(db, |tx| {
        for id in &ids {
            recompute_reach_in!(tx, scope.id(), *id);
        }
    });
    Ok(ids.len())
}

/// Adds a structure-wide rule (or changes the mode of the existing one between the same
/// audiences), then rebuilds the structure's reach.
pub async fn set_rule(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
    rule: Rule,
    actor: Uuid,
) -> StoreResult<()> {
    ensure_rules(db, scope, structure_id).await?;
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "structures", structure_id);
        sqlx::query(
            "DELETE FROM communication_rules WHERE structure_id = $1 AND tenant_id = $2 AND class_id IS NULL \
             AND from_audience = $3 AND to_audience = $4",
        )
        .bind(structure_id)
        .bind(scope.id())
        .bind(rule.from.code())
        .bind(rule.to.code())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO communication_rules (id, tenant_id, structure_id, class_id, from_audience, to_audience, mode, created_at) \
             VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)",
        )
        .bind(Uuid::now_v7())
        .bind(scope.id())
        .bind(structure_id)
        .bind(rule.from.code())
        .bind(rule.to.code())
        .bind(rule.mode.code())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        audit_in!(
            tx,
            scope.id(),
            Some(actor),
            "rules.set",
            Some(structure_id),
            format!("{} → {} : {}", rule.from, rule.to, rule.mode)
        );
        recompute_reach_in!(tx, scope.id(), structure_id);
    });
    Ok(())
}

/// Removes a structure-wide rule, then rebuilds the structure's reach.
pub async fn delete_rule(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
    rule_id: Uuid,
    actor: Uuid,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        let done = sqlx::query(
            "DELETE FROM communication_rules WHERE id = $1 AND structure_id = $2 AND tenant_id = $3 AND class_id IS NULL",
        )
        .bind(rule_id)
        .bind(structure_id)
        .bind(scope.id())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit_in!(
            tx,
            scope.id(),
            Some(actor),
            "rules.delete",
            Some(structure_id),
            rule_id.to_string()
        );
        recompute_reach_in!(tx, scope.id(), structure_id);
    });
    Ok(())
}

/// Whether the class's pupils may write to each other (a rule the teacher switches).
pub async fn classmates_open(db: &Db, scope: TenantScope, class_id: Uuid) -> StoreResult<bool> {
    let rule = preau_domain::communication::CLASSMATES;
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT 1 AS x FROM communication_rules WHERE class_id = $1 AND tenant_id = $2 AND from_audience = $3 AND to_audience = $4",
        )
        .bind(class_id)
        .bind(scope.id())
        .bind(rule.from.code())
        .bind(rule.to.code())
        .fetch_optional(c)
        .await?
        .is_some()
    }))
}

/// Opens or closes pupils writing to their classmates in one class.
pub async fn set_classmates(
    db: &Db,
    scope: TenantScope,
    class_id: Uuid,
    open: bool,
    actor: Uuid,
) -> StoreResult<()> {
    let rule = preau_domain::communication::CLASSMATES;
    in_write_tx!(db, |tx| {
        let structure_id =
            sqlx::query("SELECT structure_id FROM classes WHERE id = $1 AND tenant_id = $2")
                .bind(class_id)
                .bind(scope.id())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?
                .uuid("structure_id")?;
        sqlx::query(
            "DELETE FROM communication_rules WHERE class_id = $1 AND tenant_id = $2 AND from_audience = $3 AND to_audience = $4",
        )
        .bind(class_id)
        .bind(scope.id())
        .bind(rule.from.code())
        .bind(rule.to.code())
        .execute(&mut *tx)
        .await?;
        if open {
            sqlx::query(
                "INSERT INTO communication_rules (id, tenant_id, structure_id, class_id, from_audience, to_audience, mode, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(Uuid::now_v7())
            .bind(scope.id())
            .bind(structure_id)
            .bind(class_id)
            .bind(rule.from.code())
            .bind(rule.to.code())
            .bind(Mode::Both.code())
            .bind(now())
            .execute(&mut *tx)
            .await?;
        }
        audit_in!(
            tx,
            scope.id(),
            Some(actor),
            if open {
                "rules.classmates_on"
            } else {
                "rules.classmates_off"
            },
            Some(class_id),
            String::new()
        );
        recompute_reach_in!(tx, scope.id(), structure_id);
    });
    Ok(())
}

/// The people a user may write to, each with whether only broadcasts reach them (no replies).
/// Their own children and guardians always; others through the groups' reach. Detached and
/// disabled accounts are left out through their small partial index (SQLite must be told to
/// use it), so the cost follows the number of people reached, not the size of the tenant.
/// Rows come back once per way of reaching someone; callers fold them.
fn reach_rows_sql(backend: Backend) -> String {
    let unreachable = match backend {
        Backend::Sqlite => "users u INDEXED BY users_unreachable",
        Backend::Postgres => "users u",
    };
    format!(
        "SELECT x.id, x.bc FROM ( \
           SELECT m.user_id AS id, CASE WHEN r.broadcast THEN 1 ELSE 0 END AS bc \
             FROM group_members mine \
             JOIN group_reach r ON r.from_group_id = mine.group_id \
             JOIN group_members m ON m.group_id = r.to_group_id \
             WHERE mine.user_id = $1 AND mine.tenant_id = $2 \
           UNION ALL SELECT child_id, 0 FROM guardianships WHERE guardian_id = $1 AND tenant_id = $2 \
           UNION ALL SELECT guardian_id, 0 FROM guardianships WHERE child_id = $1 AND tenant_id = $2 \
         ) x WHERE x.id <> $1 AND NOT EXISTS (SELECT 1 FROM {unreachable} \
           WHERE u.id = x.id AND (u.detached_at IS NOT NULL OR u.state = 'disabled'))"
    )
}

/// The same, one row per person (for joins).
fn reachable_sql(backend: Backend) -> String {
    format!(
        "SELECT y.id, CAST(MIN(y.bc) AS BIGINT) AS bc FROM ({}) y GROUP BY y.id",
        reach_rows_sql(backend)
    )
}

/// Ids of the people `user` may write to → true when only broadcasts reach them. SQLite
/// hands the rows over folded into one text value (a thousand rows cost more to pass one by
/// one than to find); PostgreSQL sends rows, cheaper there than building the text.
pub async fn reachable(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
) -> StoreResult<HashMap<Uuid, bool>> {
    let rows = reach_rows_sql(db.backend());
    let pairs: Vec<(Uuid, bool)> = match db {
        Db::Sqlite(s) => {
            let sql = format!(
                "SELECT group_concat(lower(hex(z.id)) || z.bc, ',') AS ids FROM ({rows}) z"
            );
            let folded: Option<String> = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(user)
                .bind(scope.id())
                .fetch_one(&s.reader)
                .await?
                .opt_text("ids")?;
            folded
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|i| !i.is_empty())
                .map(|item| {
                    let (hex, flag) = item.split_at(item.len().saturating_sub(1));
                    let id = Uuid::try_parse(hex)
                        .map_err(|_| StoreError::Invalid(format!("bad id {hex}")))?;
                    Ok((id, flag == "1"))
                })
                .collect::<StoreResult<_>>()?
        }
        Db::Postgres(p) => {
            let sql = format!("SELECT z.id, CAST(z.bc AS BIGINT) AS bc FROM ({rows}) z");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(user)
                .bind(scope.id())
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.uuid("id")?, r.int("bc")? == 1)))
                .collect::<StoreResult<_>>()?
        }
    };
    let mut out: HashMap<Uuid, bool> = HashMap::with_capacity(pairs.len());
    for (id, only_broadcast) in pairs {
        let slot = out.entry(id).or_insert(only_broadcast);
        *slot = *slot && only_broadcast;
    }
    Ok(out)
}

/// Someone a user may write to, with what helps recognise them.
#[derive(Clone, Debug)]
pub struct Contact {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// The profiles they hold (any structure), most responsible first.
    pub profiles: Vec<NationalProfile>,
    /// First names of the children they are a guardian of ("parent de Léa").
    pub children: Vec<String>,
    /// First names of the writer's children they teach ("la maîtresse de Léa").
    pub teaches: Vec<String>,
    pub broadcast_only: bool,
}

/// Everyone a user may write to, with labels. Three reads, whatever the number of people.
pub async fn contacts(db: &Db, scope: TenantScope, user: Uuid) -> StoreResult<Vec<Contact>> {
    let reach = reachable(db, scope, user).await?;
    let reachable = reachable_sql(db.backend());
    let with_names = format!(
        "SELECT u.id, u.first_name, u.last_name, p.profile FROM ({reachable}) x \
         JOIN users u ON u.id = x.id LEFT JOIN user_profiles p ON p.user_id = u.id"
    );
    let children_of = format!(
        "SELECT g.guardian_id AS id, c.first_name FROM ({reachable}) x \
         JOIN guardianships g ON g.guardian_id = x.id JOIN users c ON c.id = g.child_id"
    );
    let teachers_of_mine = "SELECT t.user_id AS id, c.first_name FROM guardianships g \
         JOIN class_members p ON p.user_id = g.child_id AND p.role = 'eleve' \
         JOIN classes k ON k.id = p.class_id AND k.archived_at IS NULL \
         JOIN class_members t ON t.class_id = p.class_id AND t.role = 'enseignant' \
         JOIN users c ON c.id = g.child_id WHERE g.guardian_id = $1 AND g.tenant_id = $2";
    let (names, children, teaches) = on_read!(db, |c| {
        let names = sqlx::query(sqlx::AssertSqlSafe(with_names))
            .bind(user)
            .bind(scope.id())
            .fetch_all(c)
            .await?;
        let names = names
            .iter()
            .map(|r| {
                Ok((
                    r.uuid("id")?,
                    r.text("first_name")?,
                    r.text("last_name")?,
                    r.opt_text("profile")?,
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let pairs = |rows: Vec<_>| -> StoreResult<Vec<(Uuid, String)>> {
            rows.iter()
                .map(|r: &_| Ok((RowExt::uuid(r, "id")?, RowExt::text(r, "first_name")?)))
                .collect()
        };
        let children = pairs(
            sqlx::query(sqlx::AssertSqlSafe(children_of))
                .bind(user)
                .bind(scope.id())
                .fetch_all(c)
                .await?,
        )?;
        let teaches = pairs(
            sqlx::query(teachers_of_mine)
                .bind(user)
                .bind(scope.id())
                .fetch_all(c)
                .await?,
        )?;
        (names, children, teaches)
    });
    let mut by_id: HashMap<Uuid, Contact> = HashMap::new();
    for (id, first_name, last_name, profile) in names {
        let contact = by_id.entry(id).or_insert_with(|| Contact {
            id,
            first_name,
            last_name,
            profiles: Vec::new(),
            children: Vec::new(),
            teaches: Vec::new(),
            broadcast_only: reach.get(&id).copied().unwrap_or(true),
        });
        if let Some(p) = profile.and_then(|p| p.parse().ok())
            && !contact.profiles.contains(&p)
        {
            contact.profiles.push(p);
        }
    }
    for (id, child) in children {
        if let Some(c) = by_id.get_mut(&id)
            && !c.children.contains(&child)
        {
            c.children.push(child);
        }
    }
    for (id, child) in teaches {
        if let Some(c) = by_id.get_mut(&id)
            && !c.teaches.contains(&child)
        {
            c.teaches.push(child);
        }
    }
    let mut out: Vec<Contact> = by_id.into_values().collect();
    out.sort_by(|a, b| {
        (&a.last_name, &a.first_name, a.id).cmp(&(&b.last_name, &b.first_name, b.id))
    });
    Ok(out)
}

/// A group a user may write to as a whole.
#[derive(Clone, Debug)]
pub struct ReachableGroup {
    pub id: Uuid,
    pub profile: NationalProfile,
    pub class_name: Option<String>,
    pub structure_name: String,
    pub broadcast: bool,
    pub members: i64,
}

pub async fn reachable_groups(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
) -> StoreResult<Vec<ReachableGroup>> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT g.id, g.profile, k.name AS class_name, s.name AS structure_name, \
                    CAST(MIN(CASE WHEN r.broadcast THEN 1 ELSE 0 END) AS BIGINT) AS bc, \
                    (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id) AS members \
             FROM group_members mine \
             JOIN group_reach r ON r.from_group_id = mine.group_id \
             JOIN groups g ON g.id = r.to_group_id \
             JOIN structures s ON s.id = g.structure_id \
             LEFT JOIN classes k ON k.id = g.class_id \
             WHERE mine.user_id = $1 AND mine.tenant_id = $2 \
             GROUP BY g.id, g.profile, k.name, s.name \
             ORDER BY s.name, k.name, g.profile",
        )
        .bind(user)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(ReachableGroup {
                id: r.uuid("id")?,
                profile: parse_code(&r.text("profile")?)?,
                class_name: r.opt_text("class_name")?,
                structure_name: r.text("structure_name")?,
                broadcast: r.int("bc")? == 1,
                members: r.int("members")?,
            })
        })
        .filter(|g: &StoreResult<ReachableGroup>| g.as_ref().map_or(true, |g| g.members > 0))
        .collect::<StoreResult<Vec<_>>>()?
    }))
}

/// The members of groups, for sending to them. Only groups `user` may reach count.
pub async fn members_of_reachable_groups(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    groups: &[Uuid],
) -> StoreResult<Vec<(Uuid, Uuid, bool)>> {
    let reachable = reachable_groups(db, scope, user).await?;
    let mut out = Vec::new();
    for g in groups {
        let Some(group) = reachable.iter().find(|r| r.id == *g) else {
            return Err(StoreError::NotFound);
        };
        let ids: Vec<Uuid> = on_read!(db, |c| {
            sqlx::query(
                "SELECT m.user_id FROM group_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.group_id = $1 AND m.tenant_id = $2 AND u.detached_at IS NULL AND u.state <> 'disabled'",
            )
            .bind(g)
            .bind(scope.id())
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| r.uuid("user_id"))
            .collect::<StoreResult<_>>()?
        });
        out.extend(
            ids.into_iter()
                .filter(|id| *id != user)
                .map(|id| (*g, id, group.broadcast)),
        );
    }
    Ok(out)
}
