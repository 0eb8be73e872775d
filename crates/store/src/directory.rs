//! The directory: tenants, structures, classes, users, their profiles, functions,
//! class memberships, guardianships and groups.

use crate::db::{RowExt, parse_code};
use crate::error::{StoreError, StoreResult};
use crate::{Db, TenantScope, now};
use chrono::{DateTime, Utc};
use preau_domain::directory::{format_levels, parse_levels};
use preau_domain::login::{base_login, dedupe_login};
use preau_domain::{
    AccountState, ClassRole, Function, GroupKind, Level, NationalProfile, StructureKind, TenantKind,
};
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub kind: TenantKind,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct Structure {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub kind: StructureKind,
    pub name: String,
    pub uai: Option<String>,
    pub commune: String,
    pub parent_id: Option<Uuid>,
    pub circonscription_id: Option<Uuid>,
}

#[derive(Clone, Debug)]
pub struct NewStructure {
    pub kind: StructureKind,
    pub name: String,
    pub uai: Option<String>,
    pub commune: String,
    pub parent_id: Option<Uuid>,
    pub circonscription_id: Option<Uuid>,
}

#[derive(Clone, Debug)]
pub struct Class {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub structure_id: Uuid,
    pub name: String,
    pub levels: Vec<Level>,
    pub school_year: i64,
    /// Closed by the year rollover: kept for reading, not for changing.
    pub archived: bool,
}

impl Class {
    pub fn levels_label(&self) -> String {
        format_levels(&self.levels)
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub birth_date: Option<String>,
    pub state: AccountState,
    pub is_operator: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    /// The interface language this person chose.
    pub language: String,
}

impl User {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub birth_date: Option<String>,
}

macro_rules! user_columns {
    () => {
        "u.id, u.tenant_id, u.login, u.first_name, u.last_name, \
    u.email, u.birth_date, u.state, u.is_operator, u.last_login_at, u.language"
    };
}

/// Inserts a user: id, tenant, login, first name, last name, e-mail, birth date, state,
/// operator flag, creation time, password hash, charter acceptance time.
pub(crate) const USER_INSERT: &str = "INSERT INTO users (id, tenant_id, login, first_name, last_name, email, \
    birth_date, state, is_operator, failed_logins, created_at, updated_at, password_hash, charter_accepted_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10, $11, $12)";

pub(crate) fn user_from_row(r: &impl RowExt) -> StoreResult<User> {
    Ok(User {
        id: r.uuid("id")?,
        tenant_id: r.opt_uuid("tenant_id")?,
        login: r.text("login")?,
        first_name: r.text("first_name")?,
        last_name: r.text("last_name")?,
        email: r.opt_text("email")?,
        birth_date: r.opt_text("birth_date")?,
        state: parse_code(&r.text("state")?)?,
        is_operator: r.flag("is_operator")?,
        last_login_at: r.opt_time("last_login_at")?,
        language: r.text("language")?,
    })
}

fn tenant_from_row(r: &impl RowExt) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: r.uuid("id")?,
        slug: r.text("slug")?,
        name: r.text("name")?,
        kind: parse_code(&r.text("kind")?)?,
        created_at: r.time("created_at")?,
    })
}

macro_rules! structure_columns {
    () => {
        "id, tenant_id, kind, name, uai, commune, parent_id, circonscription_id"
    };
}

fn structure_from_row(r: &impl RowExt) -> StoreResult<Structure> {
    Ok(Structure {
        id: r.uuid("id")?,
        tenant_id: r.uuid("tenant_id")?,
        kind: parse_code(&r.text("kind")?)?,
        name: r.text("name")?,
        uai: r.opt_text("uai")?,
        commune: r.text("commune")?,
        parent_id: r.opt_uuid("parent_id")?,
        circonscription_id: r.opt_uuid("circonscription_id")?,
    })
}

macro_rules! class_columns {
    () => {
        "id, tenant_id, structure_id, name, levels, school_year, archived_at"
    };
}

fn class_from_row(r: &impl RowExt) -> StoreResult<Class> {
    Ok(Class {
        id: r.uuid("id")?,
        tenant_id: r.uuid("tenant_id")?,
        structure_id: r.uuid("structure_id")?,
        name: r.text("name")?,
        levels: parse_levels(&r.text("levels")?).map_err(|e| StoreError::Invalid(e.to_string()))?,
        school_year: r.int("school_year")?,
        archived: r.opt_time("archived_at")?.is_some(),
    })
}

// ---------- tenants ----------

pub async fn create_tenant(
    db: &Db,
    slug: &str,
    name: &str,
    kind: TenantKind,
) -> StoreResult<Tenant> {
    let tenant = Tenant {
        id: Uuid::now_v7(),
        slug: slug.to_owned(),
        name: name.to_owned(),
        kind,
        created_at: now(),
    };
    in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO tenants (id, slug, name, kind, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tenant.id)
        .bind(&tenant.slug)
        .bind(&tenant.name)
        .bind(tenant.kind.code())
        .bind(tenant.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "tenant-slug"))?;
    });
    Ok(tenant)
}

pub async fn list_tenants(db: &Db) -> StoreResult<Vec<Tenant>> {
    on_read!(db, |c| {
        sqlx::query("SELECT id, slug, name, kind, created_at FROM tenants ORDER BY name")
            .fetch_all(c)
            .await?
            .iter()
            .map(tenant_from_row)
            .collect()
    })
}

pub async fn get_tenant(db: &Db, id: Uuid) -> StoreResult<Tenant> {
    on_read!(db, |c| {
        let row = sqlx::query("SELECT id, slug, name, kind, created_at FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?
            .ok_or(StoreError::NotFound)?;
        tenant_from_row(&row)
    })
}

pub async fn find_tenant_by_slug(db: &Db, slug: &str) -> StoreResult<Option<Tenant>> {
    on_read!(db, |c| {
        sqlx::query("SELECT id, slug, name, kind, created_at FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(c)
            .await?
            .as_ref()
            .map(tenant_from_row)
            .transpose()
    })
}

// ---------- structures ----------

pub async fn create_structure(
    db: &Db,
    scope: TenantScope,
    new: NewStructure,
) -> StoreResult<Structure> {
    let structure = Structure {
        id: Uuid::now_v7(),
        tenant_id: scope.id(),
        kind: new.kind,
        name: new.name,
        uai: new.uai,
        commune: new.commune,
        parent_id: new.parent_id,
        circonscription_id: new.circonscription_id,
    };
    in_write_tx!(db, |tx| {
        // A parent or circonscription must belong to the same tenant; a circonscription must be one.
        let linked = [
            (structure.parent_id, None),
            (
                structure.circonscription_id,
                Some(StructureKind::Circonscription),
            ),
        ];
        for (id, kind) in linked
            .into_iter()
            .filter_map(|(id, kind)| id.map(|id| (id, kind)))
        {
            let found = sqlx::query("SELECT kind FROM structures WHERE id = $1 AND tenant_id = $2")
                .bind(id)
                .bind(scope.id())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?
                .text("kind")?;
            if kind.is_some_and(|k| k.code() != found) {
                return Err(StoreError::NotFound);
            }
        }
        sqlx::query(
            "INSERT INTO structures (id, tenant_id, kind, name, uai, commune, parent_id, circonscription_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(structure.id)
        .bind(structure.tenant_id)
        .bind(structure.kind.code())
        .bind(&structure.name)
        .bind(&structure.uai)
        .bind(&structure.commune)
        .bind(structure.parent_id)
        .bind(structure.circonscription_id)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "structure-uai"))?;
    });
    // Its groups and default rules, and the circonscription or commune it joins.
    refresh_groups(db, scope, structure.id).await?;
    crate::communication::recompute_groupings(db, scope).await?;
    Ok(structure)
}

pub async fn list_structures(db: &Db, scope: TenantScope) -> StoreResult<Vec<Structure>> {
    on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            structure_columns!(),
            " FROM structures WHERE tenant_id = $1 ORDER BY kind, name"
        ))
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(structure_from_row)
        .collect()
    })
}

pub async fn get_structure(db: &Db, scope: TenantScope, id: Uuid) -> StoreResult<Structure> {
    on_read!(db, |c| {
        let row = sqlx::query(concat!(
            "SELECT ",
            structure_columns!(),
            " FROM structures WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)?;
        structure_from_row(&row)
    })
}

/// Where an object lives, without a scope: used to decide which scope a request needs.
pub async fn structure_tenant(db: &Db, id: Uuid) -> StoreResult<Uuid> {
    on_read!(db, |c| {
        let row = sqlx::query("SELECT tenant_id FROM structures WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await?
            .ok_or(StoreError::NotFound)?;
        row.uuid("tenant_id")
    })
}

// ---------- classes ----------

pub async fn create_class(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
    name: &str,
    levels: &[Level],
    school_year: i64,
) -> StoreResult<Class> {
    let class = Class {
        id: Uuid::now_v7(),
        tenant_id: scope.id(),
        structure_id,
        name: name.to_owned(),
        levels: levels.to_vec(),
        school_year,
        archived: false,
    };
    in_write_tx!(db, |tx| {
        sqlx::query("SELECT id FROM structures WHERE id = $1 AND tenant_id = $2")
            .bind(structure_id)
            .bind(scope.id())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "INSERT INTO classes (id, tenant_id, structure_id, name, levels, school_year, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(class.id)
        .bind(class.tenant_id)
        .bind(class.structure_id)
        .bind(&class.name)
        .bind(format_levels(&class.levels))
        .bind(class.school_year)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "class-name"))?;
    });
    Ok(class)
}

pub async fn list_classes(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
) -> StoreResult<Vec<Class>> {
    on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            class_columns!(),
            " FROM classes WHERE structure_id = $1 AND tenant_id = $2 \
             ORDER BY school_year DESC, levels, name"
        ))
        .bind(structure_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(class_from_row)
        .collect()
    })
}

pub async fn get_class(db: &Db, scope: TenantScope, id: Uuid) -> StoreResult<Class> {
    on_read!(db, |c| {
        let row = sqlx::query(concat!(
            "SELECT ",
            class_columns!(),
            " FROM classes WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)?;
        class_from_row(&row)
    })
}

/// Classes a user belongs to (as pupil or teacher), with their role.
pub async fn classes_of_user(
    db: &Db,
    scope: TenantScope,
    user_id: Uuid,
) -> StoreResult<Vec<(Class, ClassRole)>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT c.id, c.tenant_id, c.structure_id, c.name, c.levels, c.school_year, c.archived_at, m.role \
             FROM class_members m JOIN classes c ON c.id = m.class_id \
             WHERE m.user_id = $1 AND m.tenant_id = $2 ORDER BY c.name",
        )
        .bind(user_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| Ok((class_from_row(r)?, parse_code(&r.text("role")?)?)))
        .collect()
    })
}

/// Members of a class with their role, pupils by name.
pub async fn class_members(
    db: &Db,
    scope: TenantScope,
    class_id: Uuid,
) -> StoreResult<Vec<(User, ClassRole)>> {
    on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ", user_columns!(), ", m.role FROM class_members m JOIN users u ON u.id = m.user_id \
             WHERE m.class_id = $1 AND m.tenant_id = $2 ORDER BY m.role DESC, u.last_name, u.first_name"
        ))
        .bind(class_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| Ok((user_from_row(r)?, parse_code(&r.text("role")?)?)))
        .collect()
    })
}

// ---------- users ----------

/// Creates a user with a fresh unique login (`prenom.nom`, `prenom.nom2`…), in state `pending`.
pub async fn create_user(db: &Db, tenant: Option<TenantScope>, new: NewUser) -> StoreResult<User> {
    let base = base_login(&new.first_name, &new.last_name);
    // A concurrent creation may take the same login between our read and insert: retry.
    for _ in 0..5 {
        let taken: Vec<String> = on_read!(db, |c| {
            sqlx::query("SELECT login FROM users WHERE login = $1 OR login LIKE $2")
                .bind(&base)
                .bind(format!("{}%", base.replace(['%', '_'], "")))
                .fetch_all(c)
                .await?
                .iter()
                .map(|r| r.text("login"))
                .collect::<StoreResult<_>>()?
        });
        let login = dedupe_login(&base, |candidate| taken.iter().any(|t| t == candidate));
        match insert_user(db, tenant, &new, &login, false).await {
            Err(StoreError::Conflict(_)) => continue,
            other => return other,
        }
    }
    Err(StoreError::Conflict("user-login"))
}

/// Creates a platform operator (no tenant) with the given login.
pub async fn create_operator(db: &Db, login: &str, new: NewUser) -> StoreResult<User> {
    insert_user(db, None, &new, login, true).await
}

async fn insert_user(
    db: &Db,
    tenant: Option<TenantScope>,
    new: &NewUser,
    login: &str,
    is_operator: bool,
) -> StoreResult<User> {
    let user = User {
        id: Uuid::now_v7(),
        tenant_id: tenant.map(TenantScope::id),
        login: login.to_owned(),
        first_name: new.first_name.trim().to_owned(),
        last_name: new.last_name.trim().to_owned(),
        email: new.email.clone().filter(|e| !e.trim().is_empty()),
        birth_date: new.birth_date.clone().filter(|d| !d.trim().is_empty()),
        state: AccountState::Pending,
        is_operator,
        last_login_at: None,
        language: "fr".into(),
    };
    let at = now();
    in_write_tx!(db, |tx| {
        sqlx::query(USER_INSERT)
            .bind(user.id)
            .bind(user.tenant_id)
            .bind(&user.login)
            .bind(&user.first_name)
            .bind(&user.last_name)
            .bind(&user.email)
            .bind(&user.birth_date)
            .bind(user.state.code())
            .bind(user.is_operator)
            .bind(at)
            .bind(None::<String>)
            .bind(None::<chrono::DateTime<Utc>>)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::on_unique(e, "user-login"))?;
    });
    Ok(user)
}

pub async fn get_user(db: &Db, scope: TenantScope, id: Uuid) -> StoreResult<User> {
    on_read!(db, |c| {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.id = $1 AND u.tenant_id = $2"
        ))
        .bind(id)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    })
}

pub async fn find_user_by_login(db: &Db, login: &str) -> StoreResult<Option<User>> {
    on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE u.login = $1"
        ))
        .bind(login)
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    })
}

/// A user of a structure's list, with their profiles there.
#[derive(Clone, Debug)]
pub struct StructureMember {
    pub user: User,
    pub profiles: Vec<NationalProfile>,
}

/// People attached to a structure (any profile), optionally only one profile, by name.
pub async fn list_structure_members(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
    only: Option<NationalProfile>,
) -> StoreResult<Vec<StructureMember>> {
    let rows: Vec<(User, NationalProfile)> = on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", p.profile FROM user_profiles p JOIN users u ON u.id = p.user_id \
             WHERE p.structure_id = $1 AND p.tenant_id = $2 AND ($3 IS NULL OR p.profile = $3) \
             ORDER BY u.last_name, u.first_name, u.id"
        ))
        .bind(structure_id)
        .bind(scope.id())
        .bind(only.map(NationalProfile::code))
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| Ok((user_from_row(r)?, parse_code(&r.text("profile")?)?)))
        .collect::<StoreResult<_>>()?
    });
    let mut members: Vec<StructureMember> = Vec::new();
    for (user, profile) in rows {
        match members.last_mut() {
            Some(last) if last.user.id == user.id => last.profiles.push(profile),
            _ => members.push(StructureMember {
                user,
                profiles: vec![profile],
            }),
        }
    }
    Ok(members)
}

/// The interface language a person chose (the caller checked it has a catalogue).
pub async fn set_language(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    language: &str,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("UPDATE users SET language = $1 WHERE id = $2 AND tenant_id = $3")
            .bind(language)
            .bind(user)
            .bind(scope.id())
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

pub async fn set_user_state(
    db: &Db,
    scope: TenantScope,
    user_id: Uuid,
    state: AccountState,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        // Re-enabling an account that never chose a password puts it back to "pending".
        let done = sqlx::query(
            "UPDATE users SET state = CASE WHEN $1 = 'active' AND password_hash IS NULL THEN 'pending' ELSE $1 END, \
             updated_at = $2 WHERE id = $3 AND tenant_id = $4",
        )
            .bind(state.code())
            .bind(now())
            .bind(user_id)
            .bind(scope.id())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if state == AccountState::Disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        // Who may be written to changed: cached reach is stale.
        bump_directory_version!(tx, scope.id());
    });
    Ok(())
}

/// Profiles a user holds, per structure.
pub async fn profiles_of_user(
    db: &Db,
    scope: TenantScope,
    user_id: Uuid,
) -> StoreResult<Vec<(Uuid, NationalProfile)>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT structure_id, profile FROM user_profiles WHERE user_id = $1 AND tenant_id = $2",
        )
        .bind(user_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| Ok((r.uuid("structure_id")?, parse_code(&r.text("profile")?)?)))
        .collect()
    })
}

pub async fn add_profile(
    db: &Db,
    scope: TenantScope,
    user_id: Uuid,
    structure_id: Uuid,
    profile: NationalProfile,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "users", user_id);
        ensure_in_tenant!(tx, scope, "structures", structure_id);
        sqlx::query(
            "INSERT INTO user_profiles (tenant_id, user_id, structure_id, profile) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(scope.id())
        .bind(user_id)
        .bind(structure_id)
        .bind(profile.code())
        .execute(&mut *tx)
        .await?;
        bump_directory_version!(tx, scope.id());
    });
    Ok(())
}

pub async fn add_function(
    db: &Db,
    scope: TenantScope,
    user_id: Uuid,
    structure_id: Uuid,
    function: Function,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "users", user_id);
        ensure_in_tenant!(tx, scope, "structures", structure_id);
        sqlx::query(
            "INSERT INTO user_functions (tenant_id, user_id, structure_id, function) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(scope.id())
        .bind(user_id)
        .bind(structure_id)
        .bind(function.code())
        .execute(&mut *tx)
        .await?;
        bump_directory_version!(tx, scope.id());
    });
    Ok(())
}

pub async fn functions_of_user(
    db: &Db,
    scope: TenantScope,
    user_id: Uuid,
) -> StoreResult<Vec<(Uuid, Function)>> {
    on_read!(db, |c| {
        sqlx::query("SELECT structure_id, function FROM user_functions WHERE user_id = $1 AND tenant_id = $2")
            .bind(user_id)
            .bind(scope.id())
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| Ok((r.uuid("structure_id")?, parse_code(&r.text("function")?)?)))
            .collect()
    })
}

/// Grants administration of one structure, or of the whole tenant when `structure_id` is `None`.
pub async fn grant_admin(
    db: &Db,
    scope: TenantScope,
    user_id: Uuid,
    structure_id: Option<Uuid>,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "users", user_id);
        if let Some(s) = structure_id {
            ensure_in_tenant!(tx, scope, "structures", s);
        }
        sqlx::query("INSERT INTO admin_grants (id, tenant_id, user_id, structure_id, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(Uuid::now_v7())
            .bind(scope.id())
            .bind(user_id)
            .bind(structure_id)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        bump_directory_version!(tx, scope.id());
    });
    Ok(())
}

pub async fn add_class_member(
    db: &Db,
    scope: TenantScope,
    class_id: Uuid,
    user_id: Uuid,
    role: ClassRole,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "users", user_id);
        ensure_in_tenant!(tx, scope, "classes", class_id);
        sqlx::query(
            "INSERT INTO class_members (tenant_id, class_id, user_id, role) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (class_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(scope.id())
        .bind(class_id)
        .bind(user_id)
        .bind(role.code())
        .execute(&mut *tx)
        .await?;
        bump_directory_version!(tx, scope.id());
    });
    Ok(())
}

pub async fn remove_class_member(
    db: &Db,
    scope: TenantScope,
    class_id: Uuid,
    user_id: Uuid,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "DELETE FROM class_members WHERE class_id = $1 AND user_id = $2 AND tenant_id = $3",
        )
        .bind(class_id)
        .bind(user_id)
        .bind(scope.id())
        .execute(&mut *tx)
        .await?;
        bump_directory_version!(tx, scope.id());
    });
    Ok(())
}

// ---------- guardianships ----------

pub async fn link_guardian(
    db: &Db,
    scope: TenantScope,
    guardian_id: Uuid,
    child_id: Uuid,
    legal_authority: bool,
) -> StoreResult<()> {
    if guardian_id == child_id {
        return Err(StoreError::Invalid(
            "a person cannot be their own guardian".into(),
        ));
    }
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "users", guardian_id, child_id);
        sqlx::query(
            "INSERT INTO guardianships (tenant_id, guardian_id, child_id, legal_authority) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (guardian_id, child_id) DO UPDATE SET legal_authority = excluded.legal_authority",
        )
        .bind(scope.id())
        .bind(guardian_id)
        .bind(child_id)
        .bind(legal_authority)
        .execute(&mut *tx)
        .await?;
        bump_directory_version!(tx, scope.id());
    });
    Ok(())
}

pub async fn unlink_guardian(
    db: &Db,
    scope: TenantScope,
    guardian_id: Uuid,
    child_id: Uuid,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "DELETE FROM guardianships WHERE guardian_id = $1 AND child_id = $2 AND tenant_id = $3",
        )
        .bind(guardian_id)
        .bind(child_id)
        .bind(scope.id())
        .execute(&mut *tx)
        .await?;
        bump_directory_version!(tx, scope.id());
    });
    Ok(())
}

/// A child as their guardian sees them: name, class and school.
#[derive(Clone, Debug)]
pub struct ChildSummary {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub legal_authority: bool,
    pub class_id: Option<Uuid>,
    pub class_name: Option<String>,
    pub class_levels: Option<String>,
    pub structure_id: Option<Uuid>,
    pub structure_name: Option<String>,
}

/// The children of a guardian, each with their current class and school (one query).
pub async fn children_of(
    db: &Db,
    scope: TenantScope,
    guardian_id: Uuid,
) -> StoreResult<Vec<ChildSummary>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT u.id, u.first_name, u.last_name, g.legal_authority, \
                    cl.id AS class_id, cl.name AS class_name, cl.levels AS class_levels, \
                    s.id AS structure_id, s.name AS structure_name \
             FROM guardianships g JOIN users u ON u.id = g.child_id \
             LEFT JOIN (SELECT m.user_id, c.id, c.name, c.levels, c.structure_id FROM class_members m \
                        JOIN classes c ON c.id = m.class_id AND c.archived_at IS NULL WHERE m.role = 'eleve') cl \
                    ON cl.user_id = u.id \
             LEFT JOIN structures s ON s.id = cl.structure_id \
             WHERE g.guardian_id = $1 AND g.tenant_id = $2 \
             ORDER BY u.birth_date, u.first_name, u.id",
        )
        .bind(guardian_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(ChildSummary {
                id: r.uuid("id")?,
                first_name: r.text("first_name")?,
                last_name: r.text("last_name")?,
                legal_authority: r.flag("legal_authority")?,
                class_id: r.opt_uuid("class_id")?,
                class_name: r.opt_text("class_name")?,
                class_levels: r.opt_text("class_levels")?,
                structure_id: r.opt_uuid("structure_id")?,
                structure_name: r.opt_text("structure_name")?,
            })
        })
        .collect()
    })
}

/// The guardians of a child, with the legal-authority flag.
pub async fn guardians_of(
    db: &Db,
    scope: TenantScope,
    child_id: Uuid,
) -> StoreResult<Vec<(User, bool)>> {
    on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", g.legal_authority FROM guardianships g JOIN users u ON u.id = g.guardian_id \
             WHERE g.child_id = $1 AND g.tenant_id = $2 ORDER BY u.last_name, u.first_name"
        ))
        .bind(child_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| Ok((user_from_row(r)?, r.flag("legal_authority")?)))
        .collect()
    })
}

// ---------- groups ----------

#[derive(Clone, Debug)]
pub struct Group {
    pub id: Uuid,
    pub structure_id: Uuid,
    pub class_id: Option<Uuid>,
    pub kind: GroupKind,
    pub profile: Option<NationalProfile>,
    pub name: String,
    pub members: i64,
}

/// The body of [`refresh_groups`], inside a caller's write transaction (imports rebuild the
/// groups of every structure they touched in the same transaction as the rest).
macro_rules! refresh_groups_in {
    ($tx:expr, $tenant:expr, $structure_id:expr) => {{
        let tenant: Uuid = $tenant;
        let structure_id: Uuid = $structure_id;
        let structure_name = sqlx::query("SELECT name FROM structures WHERE id = $1 AND tenant_id = $2")
            .bind(structure_id)
            .bind(tenant)
            .fetch_optional(&mut *$tx)
            .await?
            .ok_or(StoreError::NotFound)?
            .text("name")?;
        let classes: Vec<(Uuid, String)> = sqlx::query(
            "SELECT id, name FROM classes WHERE structure_id = $1 AND tenant_id = $2 AND archived_at IS NULL",
        )
        .bind(structure_id)
        .bind(tenant)
        .fetch_all(&mut *$tx)
        .await?
        .iter()
        .map(|r| Ok((r.uuid("id")?, r.text("name")?)))
        .collect::<StoreResult<_>>()?;
        // Classes closed by the rollover keep no automatic group (nobody is reached through them).
        sqlx::query(
            "DELETE FROM groups WHERE structure_id = $1 AND tenant_id = $2 AND kind = 'class' \
             AND class_id IN (SELECT id FROM classes WHERE archived_at IS NOT NULL)",
        )
        .bind(structure_id)
        .bind(tenant)
        .execute(&mut *$tx)
        .await?;
        let mut wanted: Vec<(Option<Uuid>, GroupKind, NationalProfile, String)> =
            NationalProfile::ALL
                .into_iter()
                .map(|p| {
                    (
                        None,
                        GroupKind::Profile,
                        p,
                        format!("{} — {}", structure_name, p.code()),
                    )
                })
                .collect();
        for (class_id, class_name) in &classes {
            for p in [
                NationalProfile::Eleve,
                NationalProfile::Enseignant,
                NationalProfile::Tuteur,
            ] {
                wanted.push((
                    Some(*class_id),
                    GroupKind::Class,
                    p,
                    format!("{} — {}", class_name, p.code()),
                ));
            }
        }
        let existing: std::collections::HashSet<(Option<Uuid>, String, Option<String>)> = sqlx::query(
            "SELECT class_id, kind, profile FROM groups WHERE structure_id = $1 AND tenant_id = $2 AND kind <> 'manual'",
        )
        .bind(structure_id)
        .bind(tenant)
        .fetch_all(&mut *$tx)
        .await?
        .iter()
        .map(|r| Ok((r.opt_uuid("class_id")?, r.text("kind")?, r.opt_text("profile")?)))
        .collect::<StoreResult<_>>()?;
        let at = now();
        for (class_id, kind, profile, name) in &wanted {
            let key = (*class_id, kind.code().to_owned(), Some(profile.code().to_owned()));
            if !existing.contains(&key) {
                sqlx::query(
                    "INSERT INTO groups (id, tenant_id, structure_id, class_id, kind, profile, name, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(Uuid::now_v7())
                .bind(tenant)
                .bind(structure_id)
                .bind(class_id)
                .bind(kind.code())
                .bind(profile.code())
                .bind(name)
                .bind(at)
                .execute(&mut *$tx)
                .await?;
            }
        }
        sqlx::query(
            "DELETE FROM group_members WHERE group_id IN \
             (SELECT id FROM groups WHERE structure_id = $1 AND tenant_id = $2 AND kind <> 'manual')",
        )
        .bind(structure_id)
        .bind(tenant)
        .execute(&mut *$tx)
        .await?;
        for sql in [
            // Profile groups of the structure.
            "INSERT INTO group_members (tenant_id, group_id, user_id) \
             SELECT DISTINCT g.tenant_id, g.id, p.user_id FROM groups g \
             JOIN user_profiles p ON p.structure_id = g.structure_id AND p.profile = g.profile \
             WHERE g.structure_id = $1 AND g.tenant_id = $2 AND g.kind = 'profile' ON CONFLICT DO NOTHING",
            // Class pupils and teachers.
            "INSERT INTO group_members (tenant_id, group_id, user_id) \
             SELECT DISTINCT g.tenant_id, g.id, m.user_id FROM groups g \
             JOIN class_members m ON m.class_id = g.class_id AND \
                ((g.profile = 'National_ELV' AND m.role = 'eleve') OR (g.profile = 'National_ENS' AND m.role = 'enseignant')) \
             WHERE g.structure_id = $1 AND g.tenant_id = $2 AND g.kind = 'class' ON CONFLICT DO NOTHING",
            // Guardians of the class's pupils.
            "INSERT INTO group_members (tenant_id, group_id, user_id) \
             SELECT DISTINCT g.tenant_id, g.id, gu.guardian_id FROM groups g \
             JOIN class_members m ON m.class_id = g.class_id AND m.role = 'eleve' \
             JOIN guardianships gu ON gu.child_id = m.user_id \
             WHERE g.structure_id = $1 AND g.tenant_id = $2 AND g.kind = 'class' AND g.profile = 'National_TUT' \
             ON CONFLICT DO NOTHING",
        ] {
            sqlx::query(sql)
                .bind(structure_id)
                .bind(tenant)
                .execute(&mut *$tx)
                .await?;
        }
        recompute_reach_in!($tx, tenant, structure_id);
    }};
}

/// Rebuilds the automatic groups of a structure from the directory: one group per profile
/// present in the structure, and per class its pupils, teachers and pupils' guardians.
/// Manual groups are left as they are.
pub async fn refresh_groups(db: &Db, scope: TenantScope, structure_id: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        refresh_groups_in!(tx, scope.id(), structure_id);
    });
    Ok(())
}

/// Creates a manual group in a structure.
pub async fn create_manual_group(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
    name: &str,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "structures", structure_id);
        sqlx::query(
            "INSERT INTO groups (id, tenant_id, structure_id, class_id, kind, profile, name, created_at) \
             VALUES ($1, $2, $3, NULL, 'manual', NULL, $4, $5)",
        )
        .bind(id)
        .bind(scope.id())
        .bind(structure_id)
        .bind(name)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    });
    Ok(id)
}

pub async fn add_group_member(
    db: &Db,
    scope: TenantScope,
    group_id: Uuid,
    user_id: Uuid,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "users", user_id);
        ensure_in_tenant!(tx, scope, "groups", group_id);
        sqlx::query("INSERT INTO group_members (tenant_id, group_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(scope.id())
            .bind(group_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// Groups of a structure with their member counts.
pub async fn list_groups(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
) -> StoreResult<Vec<Group>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT g.id, g.structure_id, g.class_id, g.kind, g.profile, g.name, \
                    (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id) AS members \
             FROM groups g WHERE g.structure_id = $1 AND g.tenant_id = $2 ORDER BY g.kind, g.name",
        )
        .bind(structure_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(Group {
                id: r.uuid("id")?,
                structure_id: r.uuid("structure_id")?,
                class_id: r.opt_uuid("class_id")?,
                kind: parse_code(&r.text("kind")?)?,
                profile: r.opt_text("profile")?.map(|p| parse_code(&p)).transpose()?,
                name: r.text("name")?,
                members: r.int("members")?,
            })
        })
        .collect()
    })
}

/// Where a user holds their profiles: structure name and kind with the profile (home page).
#[derive(Clone, Debug)]
pub struct Place {
    pub structure_id: Uuid,
    pub structure_name: String,
    pub structure_kind: StructureKind,
    pub profile: NationalProfile,
}

pub async fn places_of_user(db: &Db, scope: TenantScope, user_id: Uuid) -> StoreResult<Vec<Place>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT s.id, s.name, s.kind, p.profile FROM user_profiles p JOIN structures s ON s.id = p.structure_id \
             WHERE p.user_id = $1 AND p.tenant_id = $2 ORDER BY s.name, p.profile",
        )
        .bind(user_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(Place {
                structure_id: r.uuid("id")?,
                structure_name: r.text("name")?,
                structure_kind: parse_code(&r.text("kind")?)?,
                profile: parse_code(&r.text("profile")?)?,
            })
        })
        .collect()
    })
}

/// Opens an operator account created from the command line (no activation step).
pub async fn set_operator_active(db: &Db, user_id: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("UPDATE users SET state = 'active', charter_accepted_at = $1 WHERE id = $2 AND is_operator AND password_hash IS NOT NULL")
            .bind(now())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// The structure with this UAI, in whichever tenant holds it (operator commands only).
pub async fn find_structure_by_uai(db: &Db, uai: &str) -> StoreResult<Option<Structure>> {
    on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            structure_columns!(),
            " FROM structures WHERE uai = $1"
        ))
        .bind(uai.trim().to_ascii_uppercase())
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(structure_from_row)
        .transpose()
    })
}

/// The school year of the tenant: set by the last rollover, else the calendar's.
pub async fn school_year(db: &Db, scope: TenantScope) -> StoreResult<i64> {
    let set: Option<i64> = on_read!(db, |c| {
        sqlx::query("SELECT school_year FROM tenants WHERE id = $1")
            .bind(scope.id())
            .fetch_optional(c)
            .await?
            .ok_or(StoreError::NotFound)?
            .opt_int("school_year")?
    });
    Ok(set.unwrap_or_else(|| preau_domain::time::school_year_at(now())))
}

/// The year rollover ("bascule de rentrée"): the classes of earlier years are archived
/// (kept, readable, no longer reaching anyone), and imports and new classes go to `to_year`.
/// Families stay linked; pupils find their new classes with the new year's import.
/// Returns how many classes were archived.
pub async fn rollover(
    db: &Db,
    scope: TenantScope,
    to_year: i64,
    actor: Option<Uuid>,
) -> StoreResult<u64> {
    let current = school_year(db, scope).await?;
    if to_year <= current || to_year > current + 1 {
        return Err(StoreError::Invalid(format!(
            "l'année en cours est {current}–{} : la bascule ne peut aller qu'en {}–{}",
            current + 1,
            current + 1,
            current + 2
        )));
    }
    let at = now();
    let archived = in_write_tx!(db, |tx| {
        let archived = sqlx::query(
            "UPDATE classes SET archived_at = $1 WHERE tenant_id = $2 AND archived_at IS NULL AND school_year < $3",
        )
        .bind(at)
        .bind(scope.id())
        .bind(to_year)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM groups WHERE tenant_id = $1 AND kind = 'class' \
             AND class_id IN (SELECT id FROM classes WHERE tenant_id = $1 AND archived_at IS NOT NULL)",
        )
        .bind(scope.id())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE tenants SET school_year = $1 WHERE id = $2")
            .bind(to_year)
            .bind(scope.id())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, actor_id, action, target_id, detail, at) VALUES ($1, $2, $3, 'school_year.rollover', NULL, $4, $5)",
        )
        .bind(Uuid::now_v7())
        .bind(scope.id())
        .bind(actor)
        .bind(format!("{to_year} ({archived} classes archivées)"))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        bump_directory_version!(tx, scope.id());
        archived
    });
    Ok(archived)
}

/// A guardian of pupils of a class, with the children they have there.
#[derive(Clone, Debug)]
pub struct ClassGuardian {
    pub user: User,
    /// (child id, child's display name)
    pub children: Vec<(Uuid, String)>,
}

/// The guardians of a class's pupils, by name (one query).
pub async fn class_guardians(
    db: &Db,
    scope: TenantScope,
    class_id: Uuid,
) -> StoreResult<Vec<ClassGuardian>> {
    let rows: Vec<(User, Uuid, String)> = on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", p.id AS child_id, p.first_name AS child_first, p.last_name AS child_last \
             FROM class_members m JOIN guardianships g ON g.child_id = m.user_id \
             JOIN users u ON u.id = g.guardian_id JOIN users p ON p.id = m.user_id \
             WHERE m.class_id = $1 AND m.tenant_id = $2 AND m.role = 'eleve' \
             ORDER BY u.last_name, u.first_name, u.id, p.first_name"
        ))
        .bind(class_id)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok((
                user_from_row(r)?,
                r.uuid("child_id")?,
                format!("{} {}", r.text("child_first")?, r.text("child_last")?),
            ))
        })
        .collect::<StoreResult<_>>()?
    });
    let mut out: Vec<ClassGuardian> = Vec::new();
    for (user, child, name) in rows {
        match out.last_mut() {
            Some(last) if last.user.id == user.id => last.children.push((child, name)),
            _ => out.push(ClassGuardian {
                user,
                children: vec![(child, name)],
            }),
        }
    }
    Ok(out)
}
