//! What happens to the accounts of people who left: an import detaches them (no structure,
//! no class, sessions kept so they can retrieve their documents), they are disabled some time
//! later, then deleted, never before the directeur of the school they left was told.

use crate::db::RowExt;
use crate::error::StoreResult;
use crate::{Db, TenantScope};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Delays of the lifecycle. Defaults: 90 days detached, then 90 days disabled (the
/// three-month rule of the ENT's regulation, applied twice so a family that moves back
/// within the school year finds its account), the directeur told 14 days before deletion.
#[derive(Clone, Copy, Debug)]
pub struct LifecyclePolicy {
    pub disable_after: Duration,
    pub delete_after: Duration,
    pub notice: Duration,
}

impl Default for LifecyclePolicy {
    fn default() -> Self {
        Self {
            disable_after: Duration::days(90),
            delete_after: Duration::days(90),
            notice: Duration::days(14),
        }
    }
}

impl LifecyclePolicy {
    /// When an account detached at `detached_at` is disabled and deleted.
    pub fn dates(&self, detached_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let disable = detached_at + self.disable_after;
        (disable, disable + self.delete_after)
    }
}

/// People of one school whose accounts will be deleted, for its directeur.
#[derive(Clone, Debug)]
pub struct DeletionNotice {
    pub tenant_id: Uuid,
    pub structure_id: Uuid,
    pub structure_name: String,
    /// (user, display name, deletion date)
    pub people: Vec<(Uuid, String, DateTime<Utc>)>,
    /// Directeurs of the school (or, when none has an address, the tenant's admins): e-mails.
    pub recipients: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct LifecycleOutcome {
    pub disabled: u64,
    pub notices: Vec<DeletionNotice>,
    pub deleted: u64,
}

/// One pass of the lifecycle at `now`; running it twice changes nothing more.
pub async fn run(
    db: &Db,
    policy: LifecyclePolicy,
    now: DateTime<Utc>,
) -> StoreResult<LifecycleOutcome> {
    let mut outcome = LifecycleOutcome::default();
    let disable_before = now - policy.disable_after;
    let delete_before = now - policy.disable_after - policy.delete_after;
    let notice_before = delete_before + policy.notice;
    let noticed_before = now - policy.notice;
    in_write_tx!(db, |tx| {
        // 1. Detached long enough: disabled, sessions ended.
        let disabled: Vec<Uuid> = sqlx::query(
            "SELECT id FROM users WHERE detached_at IS NOT NULL AND detached_at <= $1 \
             AND lifecycle_disabled_at IS NULL AND state <> 'disabled'",
        )
        .bind(disable_before)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.uuid("id"))
        .collect::<StoreResult<_>>()?;
        for id in &disabled {
            sqlx::query("UPDATE users SET state = 'disabled', lifecycle_disabled_at = $1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        outcome.disabled = disabled.len() as u64;

        // 2. Deleted only after a notice given at least `notice` before.
        let deleted = sqlx::query(
            "DELETE FROM users WHERE detached_at IS NOT NULL AND detached_at <= $1 \
             AND deletion_notice_at IS NOT NULL AND deletion_notice_at <= $2",
        )
        .bind(delete_before)
        .bind(noticed_before)
        .execute(&mut *tx)
        .await?;
        outcome.deleted = deleted.rows_affected();
        if outcome.disabled + outcome.deleted > 0 {
            // Cached reach may name these accounts.
            sqlx::query("UPDATE tenants SET directory_version = directory_version + 1")
                .execute(&mut *tx)
                .await?;
        }

        // 3. Deletion within the notice period: tell the school.
        let rows = sqlx::query(
            "SELECT u.id, u.tenant_id, u.first_name, u.last_name, u.detached_at, s.id AS structure_id, s.name AS structure_name \
             FROM users u LEFT JOIN structures s ON s.id = u.left_structure_id \
             WHERE u.detached_at IS NOT NULL AND u.detached_at <= $1 AND u.deletion_notice_at IS NULL \
             ORDER BY s.id, u.last_name, u.first_name",
        )
        .bind(notice_before)
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            let id = r.uuid("id")?;
            sqlx::query("UPDATE users SET deletion_notice_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let Some(tenant_id) = r.opt_uuid("tenant_id")? else {
                continue;
            };
            let structure_id = r.opt_uuid("structure_id")?.unwrap_or(Uuid::nil());
            let name = format!("{} {}", r.text("first_name")?, r.text("last_name")?);
            let (_, deletion) = policy.dates(r.time("detached_at")?);
            // Never before the notice period has run from now.
            let deletion = deletion.max(now + policy.notice);
            match outcome.notices.last_mut() {
                Some(n) if n.structure_id == structure_id && n.tenant_id == tenant_id => {
                    n.people.push((id, name, deletion));
                }
                _ => outcome.notices.push(DeletionNotice {
                    tenant_id,
                    structure_id,
                    structure_name: r.opt_text("structure_name")?.unwrap_or_default(),
                    people: vec![(id, name, deletion)],
                    recipients: Vec::new(),
                }),
            }
        }
        for n in &mut outcome.notices {
            n.recipients = sqlx::query(
                "SELECT DISTINCT u.email FROM user_functions f JOIN users u ON u.id = f.user_id \
                 WHERE f.structure_id = $1 AND f.function = 'directeur' AND u.email IS NOT NULL AND u.state <> 'disabled'",
            )
            .bind(n.structure_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.text("email"))
            .collect::<StoreResult<_>>()?;
            if n.recipients.is_empty() {
                n.recipients = sqlx::query(
                    "SELECT DISTINCT u.email FROM admin_grants g JOIN users u ON u.id = g.user_id \
                     WHERE g.tenant_id = $1 AND g.structure_id IS NULL AND u.email IS NOT NULL",
                )
                .bind(n.tenant_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.text("email"))
                .collect::<StoreResult<_>>()?;
            }
        }
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, actor_id, action, target_id, detail, at) VALUES ($1, NULL, NULL, 'lifecycle.run', NULL, $2, $3)",
        )
        .bind(Uuid::now_v7())
        .bind(format!(
            "{} désactivés, {} supprimés, {} annoncés",
            outcome.disabled,
            outcome.deleted,
            outcome.notices.iter().map(|n| n.people.len()).sum::<usize>()
        ))
        .bind(now)
        .execute(&mut *tx)
        .await?;
    });
    Ok(outcome)
}

/// A detached account as the directeur sees it.
#[derive(Clone, Debug)]
pub struct Leaver {
    pub id: Uuid,
    pub name: String,
    pub login: String,
    pub detached_at: DateTime<Utc>,
    pub disabled: bool,
    pub noticed: bool,
}

/// People who left this school and still have an account, oldest departure first.
pub async fn leavers(db: &Db, scope: TenantScope, structure_id: Uuid) -> StoreResult<Vec<Leaver>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT id, first_name, last_name, login, detached_at, state, deletion_notice_at FROM users \
             WHERE tenant_id = $1 AND left_structure_id = $2 AND detached_at IS NOT NULL \
             ORDER BY detached_at, last_name, first_name",
        )
        .bind(scope.id())
        .bind(structure_id)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(Leaver {
                id: r.uuid("id")?,
                name: format!("{} {}", r.text("first_name")?, r.text("last_name")?),
                login: r.text("login")?,
                detached_at: r.time("detached_at")?,
                disabled: r.text("state")? == "disabled",
                noticed: r.opt_time("deletion_notice_at")?.is_some(),
            })
        })
        .collect()
    })
}
