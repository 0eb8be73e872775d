//! Many directory rows written in one transaction: all or nothing. Used by the demo and
//! by imports, where a file either lands whole or changes nothing.

use crate::directory::USER_INSERT;
use crate::error::{StoreError, StoreResult};
use crate::{Db, TenantScope, now};
use preau_domain::login::{base_login, dedupe_login};
use preau_domain::{AccountState, ClassRole, Function, NationalProfile};
use std::collections::HashSet;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct BatchUser {
    pub id: Uuid,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub birth_date: Option<String>,
    pub state: AccountState,
    pub password_hash: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct DirectoryBatch {
    pub users: Vec<BatchUser>,
    pub profiles: Vec<(Uuid, Uuid, NationalProfile)>,
    pub functions: Vec<(Uuid, Uuid, Function)>,
    pub class_members: Vec<(Uuid, Uuid, ClassRole)>,
    /// (guardian, child, legal authority)
    pub guardianships: Vec<(Uuid, Uuid, bool)>,
    /// (user, structure or `None` for the whole tenant)
    pub admin_grants: Vec<(Uuid, Option<Uuid>)>,
}

/// Hands out unique logins, knowing every login already in the database.
pub struct LoginAllocator {
    taken: HashSet<String>,
}

impl LoginAllocator {
    pub async fn load(db: &Db) -> StoreResult<Self> {
        use crate::db::RowExt;
        let taken = on_read!(db, |c| {
            sqlx::query("SELECT login FROM users")
                .fetch_all(c)
                .await?
                .iter()
                .map(|r| r.text("login"))
                .collect::<StoreResult<HashSet<_>>>()?
        });
        Ok(Self { taken })
    }

    pub fn allocate(&mut self, first_name: &str, last_name: &str) -> String {
        let login = dedupe_login(&base_login(first_name, last_name), |l| {
            self.taken.contains(l)
        });
        self.taken.insert(login.clone());
        login
    }
}

/// Finds a row of tenant `$1` pointing to another tenant's class, structure or child: written
/// batches and imports check, before committing, that none was made.
pub(crate) const FOREIGN_ROWS: &str = "SELECT 1 FROM class_members m JOIN classes c ON c.id = m.class_id WHERE m.tenant_id = $1 AND c.tenant_id <> $1 \
     UNION ALL SELECT 1 FROM user_profiles p JOIN structures s ON s.id = p.structure_id WHERE p.tenant_id = $1 AND s.tenant_id <> $1 \
     UNION ALL SELECT 1 FROM guardianships g JOIN users u ON u.id = g.child_id WHERE g.tenant_id = $1 AND u.tenant_id <> $1 LIMIT 1";

/// Writes the batch in one transaction; any error leaves the database as it was.
pub async fn apply(db: &Db, scope: TenantScope, batch: &DirectoryBatch) -> StoreResult<()> {
    let at = now();
    let tenant = scope.id();
    in_write_tx!(db, |tx| {
        for u in &batch.users {
            sqlx::query(USER_INSERT)
                .bind(u.id)
                .bind(tenant)
                .bind(&u.login)
                .bind(&u.first_name)
                .bind(&u.last_name)
                .bind(&u.email)
                .bind(&u.birth_date)
                .bind(u.state.code())
                .bind(false)
                .bind(at)
                .bind(&u.password_hash)
                .bind(u.password_hash.as_ref().map(|_| at))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_unique(e, "user-login"))?;
        }
        for (user, structure, profile) in &batch.profiles {
            sqlx::query("INSERT INTO user_profiles (tenant_id, user_id, structure_id, profile) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(tenant)
                .bind(user)
                .bind(structure)
                .bind(profile.code())
                .execute(&mut *tx)
                .await?;
        }
        for (user, structure, function) in &batch.functions {
            sqlx::query("INSERT INTO user_functions (tenant_id, user_id, structure_id, function) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(tenant)
                .bind(user)
                .bind(structure)
                .bind(function.code())
                .execute(&mut *tx)
                .await?;
        }
        for (class, user, role) in &batch.class_members {
            sqlx::query("INSERT INTO class_members (tenant_id, class_id, user_id, role) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(tenant)
                .bind(class)
                .bind(user)
                .bind(role.code())
                .execute(&mut *tx)
                .await?;
        }
        for (guardian, child, legal) in &batch.guardianships {
            sqlx::query("INSERT INTO guardianships (tenant_id, guardian_id, child_id, legal_authority) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(tenant)
                .bind(guardian)
                .bind(child)
                .bind(legal)
                .execute(&mut *tx)
                .await?;
        }
        for (user, structure) in &batch.admin_grants {
            sqlx::query("INSERT INTO admin_grants (id, tenant_id, user_id, structure_id, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(Uuid::now_v7())
                .bind(tenant)
                .bind(user)
                .bind(structure)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        // Rows of another tenant cannot be referenced: every id above must be this tenant's.
        let foreign = sqlx::query(FOREIGN_ROWS)
            .bind(tenant)
            .fetch_optional(&mut *tx)
            .await?;
        if foreign.is_some() {
            return Err(StoreError::NotFound);
        }
        bump_directory_version!(tx, tenant);
    });
    Ok(())
}
