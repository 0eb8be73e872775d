//! Administration: the operator's tenants and structures, and for tenant admins and
//! directeurs the classes, users, guardianships, account states and activation codes.

mod class_accounts;
mod leavers;
mod messaging;
mod structures;
mod users;

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::session::{Administrator, Operator, SignedIn};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use preau_domain::TenantKind;
use preau_domain::access::Place;
use preau_store::directory::{self, Structure, Tenant};
use preau_store::{StoreError, TenantScope, accounts};
use serde::Deserialize;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/messagerie", get(messaging::messaging_home))
        .route(
            "/admin/tenants/{tenant_id}/messagerie",
            get(messaging::switches_page).post(messaging::add_switch),
        )
        .route(
            "/admin/tenants/{tenant_id}/messagerie/{switch_id}/retablir",
            post(messaging::remove_switch),
        )
        .route(
            "/admin/structures/{structure_id}/regles",
            get(messaging::rules_page).post(messaging::add_rule),
        )
        .route(
            "/admin/structures/{structure_id}/horaires",
            post(messaging::set_hours),
        )
        .route(
            "/admin/structures/{structure_id}/notifications",
            post(messaging::set_release),
        )
        .route(
            "/admin/tenants/{tenant_id}/sms",
            post(messaging::set_sms_budget),
        )
        .route(
            "/admin/structures/{structure_id}/regles/{rule_id}/supprimer",
            post(messaging::delete_rule),
        )
        .route("/admin/tenants", post(create_tenant))
        .route("/admin/tenants/{tenant_id}", get(structures::tenant_page))
        .route(
            "/admin/tenants/{tenant_id}/rollover",
            post(structures::rollover),
        )
        .route(
            "/admin/tenants/{tenant_id}/structures",
            post(structures::create_structure),
        )
        .route(
            "/admin/structures/{structure_id}",
            get(structures::structure_page),
        )
        .route(
            "/admin/structures/{structure_id}/groups",
            post(structures::create_group),
        )
        .route(
            "/admin/structures/{structure_id}/users/{user_id}/groups",
            post(users::add_to_group),
        )
        .route(
            "/admin/structures/{structure_id}/classes",
            post(structures::create_class),
        )
        .route(
            "/admin/structures/{structure_id}/classes/{class_id}",
            get(structures::class_page),
        )
        .route(
            "/admin/structures/{structure_id}/users",
            get(users::list).post(users::create),
        )
        .route(
            "/admin/structures/{structure_id}/users/{user_id}",
            get(users::show),
        )
        .route(
            "/admin/structures/{structure_id}/users/{user_id}/code",
            post(users::generate_code),
        )
        .route(
            "/admin/structures/{structure_id}/users/{user_id}/state",
            post(users::set_state),
        )
        .route(
            "/admin/structures/{structure_id}/users/{user_id}/classes",
            post(users::add_to_class),
        )
        .route("/admin/structures/{structure_id}/links", post(users::link))
        .route(
            "/admin/structures/{structure_id}/leavers",
            get(leavers::page),
        )
        .route(
            "/admin/structures/{structure_id}/links/remove",
            post(users::unlink),
        )
        .route("/classes", get(structures::my_classes))
        .route("/classes/{class_id}", get(structures::teacher_class_page))
        .route(
            "/classes/{class_id}/classmates",
            post(structures::set_classmates),
        )
        .route(
            "/classes/{class_id}/codes/{user_id}",
            post(class_accounts::new_code),
        )
        .route(
            "/classes/{class_id}/guardians",
            post(class_accounts::add_guardian),
        )
        .route("/classes/{class_id}/letters", post(class_accounts::letters))
        .route(
            "/classes/{class_id}/pupils/{user_id}/password",
            post(users::reset_pupil_password),
        )
}

/// The scope of a tenant the user administers (operators: any tenant).
fn administered_tenant(who: &SignedIn, tenant_id: Uuid) -> AppResult<TenantScope> {
    if who.actor.may_admin_tenant(tenant_id) {
        Ok(TenantScope(tenant_id))
    } else if who.user.tenant_id == Some(tenant_id) {
        Err(AppError::Forbidden)
    } else {
        Err(AppError::NotFound)
    }
}

/// Loads a structure the user administers; another tenant's structure is "not found",
/// another school of the same tenant is "forbidden".
pub(crate) async fn administered_structure(
    state: &AppState,
    who: &SignedIn,
    structure_id: Uuid,
) -> AppResult<(TenantScope, Structure)> {
    let scope = match who.scope() {
        Some(scope) => scope,
        None if who.actor.is_operator => {
            TenantScope(directory::structure_tenant(&state.db, structure_id).await?)
        }
        None => return Err(AppError::NotFound),
    };
    let structure = directory::get_structure(&state.db, scope, structure_id).await?;
    let place = Place {
        tenant_id: structure.tenant_id,
        structure_id: structure.id,
    };
    if who.actor.may_admin_structure(place) {
        Ok((scope, structure))
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct Dashboard {
    ctx: Ctx,
    is_operator: bool,
    tenants: Vec<Tenant>,
    structures: Vec<Structure>,
    tenant_kinds: &'static [TenantKind],
    error: Option<String>,
}

async fn dashboard_page(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    error: Option<String>,
) -> AppResult<Dashboard> {
    let actor = &who.actor;
    let tenants = if actor.is_operator {
        directory::list_tenants(&state.db).await?
    } else {
        Vec::new()
    };
    let structures = match who.scope() {
        Some(scope) => {
            let all = directory::list_structures(&state.db, scope).await?;
            all.into_iter()
                .filter(|s| {
                    actor.may_admin_structure(Place {
                        tenant_id: s.tenant_id,
                        structure_id: s.id,
                    })
                })
                .collect()
        }
        None => Vec::new(),
    };
    Ok(Dashboard {
        ctx: Ctx::signed_in(who, csrf, "admin-title", "/admin"),
        is_operator: actor.is_operator,
        tenants,
        structures,
        tenant_kinds: TenantKind::ALL,
        error,
    })
}

async fn dashboard(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Html<String>> {
    Ok(Html(
        dashboard_page(&state, &who, csrf, None).await?.render()?,
    ))
}

#[derive(Deserialize)]
pub struct NewTenantForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    kind: String,
}

fn valid_slug(slug: &str) -> bool {
    (2..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

async fn create_tenant(
    State(state): State<AppState>,
    Operator(who): Operator,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<NewTenantForm>,
) -> AppResult<Response> {
    let t = Tr::french();
    let name = form.name.trim();
    let slug = form.slug.trim().to_lowercase();
    let kind = form.kind.parse::<TenantKind>();
    let problem = if name.is_empty() || name.len() > 200 {
        Some("admin-error-name")
    } else if !valid_slug(&slug) {
        Some("admin-error-slug")
    } else if kind.is_err() {
        Some("admin-error-kind")
    } else {
        None
    };
    let result = match (problem, kind) {
        (None, Ok(kind)) => directory::create_tenant(&state.db, &slug, name, kind)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => Some("admin-error-slug-taken"),
                _ => None,
            }),
        (p, _) => Err(p),
    };
    match result {
        Ok(tenant) => {
            accounts::audit(
                &state.db,
                Some(tenant.id),
                Some(who.user.id),
                "tenant.created",
                Some(tenant.id),
                &tenant.slug,
            )
            .await?;
            Ok(Redirect::to(&format!("/admin/tenants/{}", tenant.id)).into_response())
        }
        Err(Some(key)) => {
            let html = dashboard_page(&state, &who, csrf, Some(t.get(key)))
                .await?
                .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(None) => Err(AppError::Internal("tenant creation failed".into())),
    }
}
