//! Administration of communication: a structure's rules (directeur, tenant administrator)
//! and the tenant's sending kill switches (tenant administrator, operator).

use super::{administered_structure, administered_tenant};
use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::session::{Administrator, SignedIn};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use preau_domain::NationalProfile;
use preau_domain::communication::{Audience, CLASS_PROFILES, Mode, Rule, optional_rules};
use preau_domain::messaging::Block;
use preau_store::directory::{self, Structure};
use preau_store::{communication, messages};
use serde::Deserialize;
use uuid::Uuid;

fn audience_label(t: &Tr, a: Audience) -> String {
    let who = t.get(&format!(
        "group-who-{}",
        &a.profile().code()[9..].to_lowercase()
    ));
    t.with1(a.label_key(), "who", &who)
}

/// Audiences offered in the rule form for a structure of this kind.
fn audiences(structure: &Structure) -> Vec<Audience> {
    let mut out: Vec<Audience> = NationalProfile::ALL
        .into_iter()
        .map(Audience::Profile)
        .collect();
    if structure.kind.is_school() {
        out.extend(CLASS_PROFILES.into_iter().map(Audience::Class));
    } else {
        out.extend(NationalProfile::ALL.into_iter().map(Audience::Attached));
    }
    out
}

#[derive(Template)]
#[template(path = "admin/rules.html")]
struct RulesPage {
    ctx: Ctx,
    structure: Structure,
    /// (rule id, from, to, mode)
    rules: Vec<(Uuid, String, String, String)>,
    /// (from code, to code, label) of optional rules not yet on
    suggestions: Vec<(String, String, String)>,
    audiences: Vec<(String, String)>,
    modes: Vec<(String, String)>,
    /// Chat hours (opens, closes), for schools.
    hours: Option<(String, String)>,
    /// When held family notifications go out (time, spread in minutes), for schools.
    release: Option<(String, i64)>,
    error: Option<String>,
}

async fn render_rules(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    structure_id: Uuid,
    error: Option<String>,
) -> AppResult<Html<String>> {
    let (scope, structure) = administered_structure(state, who, structure_id).await?;
    let t = Tr::french();
    let stored = communication::rules(&state.db, scope, structure_id).await?;
    let rules = stored
        .iter()
        .map(|r| {
            (
                r.id,
                audience_label(&t, r.rule.from),
                audience_label(&t, r.rule.to),
                t.get(r.rule.mode.label_key()),
            )
        })
        .collect();
    let suggestions = optional_rules(structure.kind)
        .into_iter()
        .filter(|o| {
            !stored
                .iter()
                .any(|s| s.rule.from == o.from && s.rule.to == o.to)
        })
        .map(|o| {
            let label = t.with(
                "rules-suggestion",
                &[
                    ("who", audience_label(&t, o.from).as_str()),
                    ("place", audience_label(&t, o.to).as_str()),
                ],
            );
            (o.from.code(), o.to.code(), label)
        })
        .collect();
    let audiences = audiences(&structure)
        .into_iter()
        .map(|a| (a.code(), audience_label(&t, a)))
        .collect();
    let hours = if structure.kind.is_school() {
        let h = preau_store::chat::hours(&state.db, scope, structure_id).await?;
        Some((
            h.opens.format("%H:%M").to_string(),
            h.closes.format("%H:%M").to_string(),
        ))
    } else {
        None
    };
    let release = if structure.kind.is_school() {
        Some(preau_store::notifications::release_time(&state.db, scope, structure_id).await?)
    } else {
        None
    };
    let modes = Mode::ALL
        .iter()
        .map(|m| (m.code().to_owned(), t.get(m.label_key())))
        .collect();
    Ok(Html(
        RulesPage {
            ctx: Ctx::signed_in(who, csrf, "rules-title", "/admin").titled(format!(
                "{} — {}",
                t.get("rules-title"),
                structure.name
            )),
            structure,
            rules,
            suggestions,
            audiences,
            modes,
            hours,
            release,
            error,
        }
        .render()?,
    ))
}

pub async fn rules_page(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
) -> AppResult<Html<String>> {
    render_rules(&state, &who, csrf, structure_id, None).await
}

#[derive(Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    mode: String,
}

pub async fn add_rule(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
    Form(f): Form<RuleForm>,
) -> AppResult<Response> {
    let (scope, structure) = administered_structure(&state, &who, structure_id).await?;
    let parsed = (
        f.from.parse::<Audience>(),
        f.to.parse::<Audience>(),
        f.mode.parse::<Mode>(),
    );
    let rule = match parsed {
        (Ok(from), Ok(to), Ok(mode)) => Rule { from, to, mode },
        _ => {
            let error = Tr::french().get("rules-bad");
            return Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render_rules(&state, &who, csrf, structure_id, Some(error)).await?,
            )
                .into_response());
        }
    };
    if rule.check(structure.kind).is_err() {
        let error = Tr::french().get("rules-bad");
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            render_rules(&state, &who, csrf, structure_id, Some(error)).await?,
        )
            .into_response());
    }
    communication::set_rule(&state.db, scope, structure_id, rule, who.user.id).await?;
    Ok(Redirect::to(&format!("/admin/structures/{structure_id}/regles")).into_response())
}

pub async fn delete_rule(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path((structure_id, rule_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Redirect> {
    let (scope, _) = administered_structure(&state, &who, structure_id).await?;
    communication::delete_rule(&state.db, scope, structure_id, rule_id, who.user.id).await?;
    Ok(Redirect::to(&format!(
        "/admin/structures/{structure_id}/regles"
    )))
}

#[derive(Template)]
#[template(path = "admin/messaging.html")]
struct SwitchesPage {
    ctx: Ctx,
    tenant_id: Uuid,
    /// (switch id, who, where)
    switches: Vec<(Uuid, String, String)>,
    profiles: Vec<(String, String)>,
    structures: Vec<Structure>,
    /// This month's SMS: (budget, used).
    sms: (i64, i64),
}

pub async fn switches_page(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(tenant_id): Path<Uuid>,
) -> AppResult<Html<String>> {
    let scope = administered_tenant(&who, tenant_id)?;
    let t = Tr::french();
    // The abnormal-sending alerts that lead here are now seen.
    preau_store::notifications::mark_kind_read(&state.db, scope, who.user.id, "message_flood")
        .await?;
    let structures = directory::list_structures(&state.db, scope).await?;
    let switches = messages::blocks(&state.db, scope)
        .await?
        .into_iter()
        .map(|(id, b)| {
            let place = b
                .structure_id
                .and_then(|s| structures.iter().find(|x| x.id == s))
                .map_or_else(|| t.get("switch-everywhere"), |s| s.name.clone());
            (id, t.get(b.profile.label_key()), place)
        })
        .collect();
    let profiles = NationalProfile::ALL
        .into_iter()
        .map(|p| (p.code().to_owned(), t.get(p.label_key())))
        .collect();
    let sms = preau_store::notifications::sms_budget(
        &state.db,
        scope,
        preau_domain::time::paris_month_start(preau_store::now()),
    )
    .await?;
    Ok(Html(
        SwitchesPage {
            ctx: Ctx::signed_in(&who, csrf, "switch-title", "/admin"),
            tenant_id,
            switches,
            profiles,
            structures,
            sms,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    profile: String,
    #[serde(default)]
    structure: String,
}

pub async fn add_switch(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path(tenant_id): Path<Uuid>,
    Form(f): Form<SwitchForm>,
) -> AppResult<Redirect> {
    let scope = administered_tenant(&who, tenant_id)?;
    let profile: NationalProfile = f
        .profile
        .parse()
        .map_err(|_| AppError::BadRequest("rules-bad"))?;
    let structure_id = match f.structure.trim() {
        "" => None,
        s => Some(Uuid::parse_str(s).map_err(|_| AppError::BadRequest("rules-bad"))?),
    };
    messages::add_block(
        &state.db,
        scope,
        Block {
            structure_id,
            profile,
        },
        who.user.id,
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/admin/tenants/{tenant_id}/messagerie"
    )))
}

pub async fn remove_switch(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path((tenant_id, switch_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Redirect> {
    let scope = administered_tenant(&who, tenant_id)?;
    messages::remove_block(&state.db, scope, switch_id, who.user.id).await?;
    Ok(Redirect::to(&format!(
        "/admin/tenants/{tenant_id}/messagerie"
    )))
}

/// The link of abnormal-sending alerts: the directeur's moderation queue, or for tenant
/// administrators the switches.
pub async fn messaging_home(Administrator(who): Administrator) -> AppResult<Redirect> {
    match who.user.tenant_id {
        Some(t) if who.actor.may_admin_tenant(t) => {
            Ok(Redirect::to(&format!("/admin/tenants/{t}/messagerie")))
        }
        _ => Ok(Redirect::to("/messages/moderation")),
    }
}

#[derive(Deserialize)]
pub struct HoursForm {
    #[serde(default)]
    opens: String,
    #[serde(default)]
    closes: String,
}

/// The school's chat hours (families' messages outside them wait for the opening).
pub async fn set_hours(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
    Form(f): Form<HoursForm>,
) -> AppResult<Response> {
    let (scope, structure) = administered_structure(&state, &who, structure_id).await?;
    match preau_domain::chat::ChatHours::parse(&f.opens, &f.closes) {
        Some(hours) if structure.kind.is_school() => {
            preau_store::chat::set_hours(&state.db, scope, structure_id, hours, who.user.id)
                .await?;
            Ok(Redirect::to(&format!("/admin/structures/{structure_id}/regles")).into_response())
        }
        _ => {
            let error = Tr::french().get("hours-bad");
            let page = render_rules(&state, &who, csrf, structure_id, Some(error)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    #[serde(default)]
    release_at: String,
    #[serde(default)]
    spread: String,
}

/// When the school's families get what was held overnight or over the weekend.
pub async fn set_release(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
    Form(f): Form<ReleaseForm>,
) -> AppResult<Response> {
    let (scope, structure) = administered_structure(&state, &who, structure_id).await?;
    let at = chrono::NaiveTime::parse_from_str(f.release_at.trim(), "%H:%M").ok();
    let spread = f.spread.trim().parse::<i64>().ok();
    match (at, spread) {
        (Some(at), Some(spread))
            if structure.kind.is_school()
                && preau_domain::notify::valid_release_time(at)
                && (0..=preau_domain::notify::MAX_SPREAD_MINUTES).contains(&spread) =>
        {
            preau_store::notifications::set_release_time(
                &state.db,
                scope,
                structure_id,
                &at.format("%H:%M").to_string(),
                spread,
                who.user.id,
            )
            .await?;
            Ok(Redirect::to(&format!("/admin/structures/{structure_id}/regles")).into_response())
        }
        _ => {
            let error = Tr::french().get("release-bad");
            let page = render_rules(&state, &who, csrf, structure_id, Some(error)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct SmsBudgetForm {
    #[serde(default)]
    budget: String,
}

/// The tenant's monthly SMS budget (tenant administrator, operator).
pub async fn set_sms_budget(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path(tenant_id): Path<Uuid>,
    Form(f): Form<SmsBudgetForm>,
) -> AppResult<Response> {
    let scope = administered_tenant(&who, tenant_id)?;
    let budget = f
        .budget
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|b| (0..=1_000_000).contains(b))
        .ok_or(AppError::BadRequest("sms-budget-bad"))?;
    preau_store::notifications::set_sms_budget(&state.db, scope, budget).await?;
    preau_store::accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "notify.sms_budget",
        None,
        &budget.to_string(),
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/tenants/{tenant_id}/messagerie")).into_response())
}
