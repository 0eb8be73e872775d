//! Tenants' structures, structures' classes, and the teacher's class lists.

use super::{administered_structure, administered_tenant};
use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::session::{Administrator, SignedIn, Teacher};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use preau_domain::access::Place;
use preau_domain::directory::{is_valid_uai, parse_levels};
use preau_domain::{AccountState, ClassRole, StructureKind};
use preau_store::directory::{self, Class, NewStructure, Structure, Tenant, User};
use preau_store::{StoreError, TenantScope, accounts, now};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "admin/tenant.html")]
struct TenantPage {
    ctx: Ctx,
    tenant: Tenant,
    structures: Vec<Structure>,
    kinds: &'static [StructureKind],
    school_year: i64,
    /// The calendar's school year, when the rollover is due.
    rollover_due: Option<i64>,
    error: Option<String>,
}

impl TenantPage {
    /// "2026–2027" for the school year `offset` years after the current one.
    fn years(&self, offset: i64) -> String {
        let start = self.school_year + offset;
        format!("{start}–{}", start + 1)
    }
}

async fn tenant_view(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    tenant_id: Uuid,
    error: Option<String>,
) -> AppResult<TenantPage> {
    let scope = administered_tenant(who, tenant_id)?;
    let tenant = directory::get_tenant(&state.db, tenant_id).await?;
    let school_year = directory::school_year(&state.db, scope).await?;
    let calendar = preau_domain::time::school_year_at(now());
    Ok(TenantPage {
        ctx: Ctx::signed_in(who, csrf, "admin-title", "/admin").titled(tenant.name.clone()),
        structures: directory::list_structures(&state.db, scope).await?,
        tenant,
        kinds: StructureKind::ALL,
        school_year,
        rollover_due: (calendar > school_year).then_some(calendar),
        error,
    })
}

pub async fn tenant_page(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(tenant_id): Path<Uuid>,
) -> AppResult<Html<String>> {
    Ok(Html(
        tenant_view(&state, &who, csrf, tenant_id, None)
            .await?
            .render()?,
    ))
}

#[derive(Deserialize)]
pub struct RolloverForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    understood: Option<String>,
}

/// The year rollover, by the tenant's administrator.
pub async fn rollover(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(tenant_id): Path<Uuid>,
    Form(form): Form<RolloverForm>,
) -> AppResult<Response> {
    let scope = administered_tenant(&who, tenant_id)?;
    let year = form.year.trim().parse::<i64>().ok();
    let result = match (year, form.understood.is_some()) {
        (_, false) => Err("rollover-error-confirm".to_owned()),
        (None, _) => Err("rollover-error-year".to_owned()),
        (Some(year), true) => directory::rollover(&state.db, scope, year, Some(who.user.id))
            .await
            .map_err(|e| match e {
                StoreError::Invalid(_) => "rollover-error-year".to_owned(),
                other => other.to_string(),
            }),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/tenants/{tenant_id}")).into_response()),
        Err(key) if key.starts_with("rollover-") => {
            let html = tenant_view(&state, &who, csrf, tenant_id, Some(Tr::french().get(&key)))
                .await?
                .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(other) => Err(AppError::Internal(other)),
    }
}

#[derive(Deserialize)]
pub struct NewStructureForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    uai: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    circonscription_id: String,
}

pub async fn create_structure(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(tenant_id): Path<Uuid>,
    Form(form): Form<NewStructureForm>,
) -> AppResult<Response> {
    let scope = administered_tenant(&who, tenant_id)?;
    let kind = form.kind.parse::<StructureKind>().ok();
    let uai = form.uai.trim().to_uppercase();
    let optional_id = |s: &str| {
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse::<Uuid>().map(Some)
        }
    };
    let circonscription_id = optional_id(&form.circonscription_id);
    let parent_id = optional_id(&form.parent_id);
    let problem = match kind {
        None => Some("admin-error-kind"),
        Some(_) if form.name.trim().is_empty() || form.name.len() > 200 => Some("admin-error-name"),
        Some(k) if k.is_school() && !is_valid_uai(&uai) => Some("admin-error-uai"),
        Some(k) if !k.is_school() && !uai.is_empty() && !is_valid_uai(&uai) => {
            Some("admin-error-uai")
        }
        _ if parent_id.is_err() || circonscription_id.is_err() => Some("admin-error-parent"),
        _ => None,
    };
    let result = match (problem, kind) {
        (None, Some(kind)) => {
            let new = NewStructure {
                kind,
                name: form.name.trim().to_owned(),
                uai: (!uai.is_empty()).then_some(uai),
                commune: form.commune.trim().to_owned(),
                parent_id: parent_id.ok().flatten(),
                circonscription_id: circonscription_id.ok().flatten(),
            };
            directory::create_structure(&state.db, scope, new)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(_) => "admin-error-uai-taken",
                    StoreError::NotFound => "admin-error-parent",
                    _ => "error-500-text",
                })
        }
        (p, _) => Err(p.unwrap_or("admin-error-kind")),
    };
    match result {
        Ok(structure) => {
            directory::refresh_groups(&state.db, scope, structure.id).await?;
            accounts::audit(
                &state.db,
                Some(tenant_id),
                Some(who.user.id),
                "structure.created",
                Some(structure.id),
                &structure.name,
            )
            .await?;
            Ok(Redirect::to(&format!("/admin/structures/{}", structure.id)).into_response())
        }
        Err(key) => {
            let html = tenant_view(&state, &who, csrf, tenant_id, Some(Tr::french().get(key)))
                .await?
                .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "admin/structure.html")]
struct StructurePage {
    ctx: Ctx,
    structure: Structure,
    classes: Vec<Class>,
    school_year: i64,
    groups: Vec<directory::Group>,
    error: Option<String>,
}

async fn structure_view(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    structure_id: Uuid,
    error: Option<String>,
) -> AppResult<StructurePage> {
    let (scope, structure) = administered_structure(state, who, structure_id).await?;
    Ok(StructurePage {
        ctx: Ctx::signed_in(who, csrf, "admin-title", "/admin").titled(structure.name.clone()),
        classes: directory::list_classes(&state.db, scope, structure_id).await?,
        groups: directory::list_groups(&state.db, scope, structure_id).await?,
        school_year: directory::school_year(&state.db, scope).await?,
        structure,
        error,
    })
}

pub async fn structure_page(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
) -> AppResult<Html<String>> {
    Ok(Html(
        structure_view(&state, &who, csrf, structure_id, None)
            .await?
            .render()?,
    ))
}

#[derive(Deserialize)]
pub struct NewClassForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    levels: String,
}

pub async fn create_class(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
    Form(form): Form<NewClassForm>,
) -> AppResult<Response> {
    let (scope, _) = administered_structure(&state, &who, structure_id).await?;
    let name = form.name.trim();
    let result = match parse_levels(&form.levels) {
        _ if name.is_empty() || name.len() > 100 => Err("admin-error-name"),
        Err(_) => Err("admin-error-levels"),
        Ok(levels) => directory::create_class(
            &state.db,
            scope,
            structure_id,
            name,
            &levels,
            directory::school_year(&state.db, scope).await?,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => "admin-error-class-taken",
            _ => "error-500-text",
        }),
    };
    match result {
        Ok(class) => {
            directory::refresh_groups(&state.db, scope, structure_id).await?;
            accounts::audit(
                &state.db,
                Some(scope.id()),
                Some(who.user.id),
                "class.created",
                Some(class.id),
                &class.name,
            )
            .await?;
            Ok(Redirect::to(&format!(
                "/admin/structures/{structure_id}/classes/{}",
                class.id
            ))
            .into_response())
        }
        Err(key) => {
            let html = structure_view(
                &state,
                &who,
                csrf,
                structure_id,
                Some(Tr::french().get(key)),
            )
            .await?
            .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct NewGroupForm {
    #[serde(default)]
    name: String,
}

/// A manual group (a project team, the school council…), beside the automatic ones.
pub async fn create_group(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
    Form(form): Form<NewGroupForm>,
) -> AppResult<Response> {
    let (scope, _) = administered_structure(&state, &who, structure_id).await?;
    let name = form.name.trim();
    if name.is_empty() || name.len() > 100 {
        let html = structure_view(
            &state,
            &who,
            csrf,
            structure_id,
            Some(Tr::french().get("admin-error-name")),
        )
        .await?
        .render()?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    let id = directory::create_manual_group(&state.db, scope, structure_id, name).await?;
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "group.created",
        Some(id),
        name,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/structures/{structure_id}#groupes")).into_response())
}

#[derive(Template)]
#[template(path = "admin/class.html")]
struct ClassPage {
    ctx: Ctx,
    structure: Structure,
    class: Class,
    teachers: Vec<User>,
    pupils: Vec<User>,
    /// Link to a member's page: the admin user page, or nothing for teachers' views.
    admin_links: bool,
    /// Teachers may reset pupils' passwords from here.
    can_reset: bool,
    /// New codes, guardians and letters (this year's class, its teacher or an administrator).
    can_manage: bool,
    guardians: Vec<directory::ClassGuardian>,
    /// Pupils of the class may write to each other (the teacher's switch).
    classmates_open: bool,
    notice: Option<String>,
    error: Option<String>,
}

impl ClassPage {
    fn state_key(&self, user: &User) -> &'static str {
        state_key(user.state)
    }

    fn pending_pupils(&self) -> usize {
        self.pupils
            .iter()
            .filter(|u| u.state == AccountState::Pending)
            .count()
    }

    fn pending_guardians(&self) -> usize {
        self.guardians
            .iter()
            .filter(|g| g.user.state == AccountState::Pending)
            .count()
    }

    fn children_names(&self, g: &directory::ClassGuardian) -> String {
        g.children
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn split_members(members: Vec<(User, ClassRole)>) -> (Vec<User>, Vec<User>) {
    let mut teachers = Vec::new();
    let mut pupils = Vec::new();
    for (user, role) in members {
        match role {
            ClassRole::Enseignant => teachers.push(user),
            ClassRole::Eleve => pupils.push(user),
        }
    }
    (teachers, pupils)
}

pub async fn class_page(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path((structure_id, class_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Html<String>> {
    let (scope, structure) = administered_structure(&state, &who, structure_id).await?;
    let class = directory::get_class(&state.db, scope, class_id).await?;
    if class.structure_id != structure.id {
        return Err(AppError::NotFound);
    }
    let (teachers, pupils) =
        split_members(directory::class_members(&state.db, scope, class_id).await?);
    let guardians = directory::class_guardians(&state.db, scope, class_id).await?;
    let page = ClassPage {
        ctx: Ctx::signed_in(&who, csrf, "admin-title", "/admin").titled(class.name.clone()),
        can_manage: !class.archived,
        can_reset: !class.archived,
        structure,
        class,
        teachers,
        pupils,
        guardians,
        classmates_open: preau_store::communication::classmates_open(&state.db, scope, class_id)
            .await?,
        admin_links: true,
        notice: None,
        error: None,
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "admin/my_classes.html")]
struct MyClassesPage {
    ctx: Ctx,
    classes: Vec<Class>,
}

pub async fn my_classes(
    State(state): State<AppState>,
    Teacher(who): Teacher,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Html<String>> {
    let scope = who.scope().ok_or(AppError::NotFound)?;
    let classes = directory::classes_of_user(&state.db, scope, who.user.id)
        .await?
        .into_iter()
        .filter(|(_, role)| *role == ClassRole::Enseignant)
        .map(|(class, _)| class)
        .collect();
    let page = MyClassesPage {
        ctx: Ctx::signed_in(&who, csrf, "classes-title", "/classes"),
        classes,
    };
    Ok(Html(page.render()?))
}

/// A class the user may see the list of (its teacher, or an administrator of its school).
pub(crate) async fn visible_class(
    state: &AppState,
    who: &SignedIn,
    class_id: Uuid,
) -> AppResult<(TenantScope, Structure, Class)> {
    let scope = who.scope().ok_or(AppError::NotFound)?;
    let class = directory::get_class(&state.db, scope, class_id).await?;
    let place = Place {
        tenant_id: class.tenant_id,
        structure_id: class.structure_id,
    };
    if !who.actor.may_see_class_list(place, class.id) {
        return Err(AppError::NotFound);
    }
    let structure = directory::get_structure(&state.db, scope, class.structure_id).await?;
    Ok((scope, structure, class))
}

pub(crate) async fn render_teacher_class(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    class_id: Uuid,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let (scope, structure, class) = visible_class(state, who, class_id).await?;
    let (teachers, pupils) =
        split_members(directory::class_members(&state.db, scope, class_id).await?);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let guardians = directory::class_guardians(&state.db, scope, class_id).await?;
    let place = Place {
        tenant_id: class.tenant_id,
        structure_id: class.structure_id,
    };
    let can_manage = !class.archived && who.actor.may_manage_class(place, class.id);
    let page = ClassPage {
        ctx: Ctx::signed_in(who, csrf, "classes-title", "/classes").titled(class.name.clone()),
        can_reset: can_manage,
        can_manage,
        structure,
        class,
        teachers,
        pupils,
        guardians,
        classmates_open: preau_store::communication::classmates_open(&state.db, scope, class_id)
            .await?,
        admin_links: false,
        notice,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct ClassmatesForm {
    #[serde(default)]
    open: Option<String>,
}

/// The teacher (or the school's administrator) lets the class's pupils write to each other,
/// or stops it.
pub async fn set_classmates(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(class_id): Path<Uuid>,
    Form(form): Form<ClassmatesForm>,
) -> AppResult<Response> {
    let (scope, _, class) = visible_class(&state, &who, class_id).await?;
    let place = Place {
        tenant_id: class.tenant_id,
        structure_id: class.structure_id,
    };
    if class.archived || !who.actor.may_manage_class(place, class.id) {
        return Err(AppError::Forbidden);
    }
    let open = form.open.is_some();
    preau_store::communication::set_classmates(&state.db, scope, class_id, open, who.user.id)
        .await?;
    let t = crate::i18n::Tr::french();
    let notice = t.get(if open {
        "classmates-opened"
    } else {
        "classmates-closed"
    });
    render_teacher_class(&state, &who, csrf, class_id, Some(notice), None).await
}

pub async fn teacher_class_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(class_id): Path<Uuid>,
) -> AppResult<Response> {
    render_teacher_class(&state, &who, csrf, class_id, None, None).await
}

/// For templates: "non activé" / "actif" / "désactivé".
pub(crate) fn state_key(state: AccountState) -> &'static str {
    match state {
        AccountState::Pending => "state-pending",
        AccountState::Active => "state-active",
        AccountState::Disabled => "state-disabled",
    }
}
