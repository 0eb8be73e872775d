//! People of a structure: list, creation, account page (code, state, classes, guardianships),
//! and the teacher's pupil password reset.

use super::administered_structure;
use super::structures::{render_teacher_class, state_key, visible_class};
use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::session::{Administrator, SignedIn};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use preau_domain::access::Place;
use preau_domain::activation::format_code;
use preau_domain::password::PolicyKind;
use preau_domain::{AccountState, ClassRole, Function, GroupKind, NationalProfile};
use preau_store::directory::{self, Class, NewUser, Structure, StructureMember, User};
use preau_store::{TenantScope, accounts, credentials};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: Ctx,
    structure: Structure,
    members: Vec<StructureMember>,
    classes: Vec<Class>,
    filter: Option<NationalProfile>,
    profiles: [NationalProfile; 9],
    functions: &'static [Function],
    error: Option<String>,
}

impl UsersPage {
    fn state_key(&self, user: &User) -> &'static str {
        state_key(user.state)
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    profil: Option<String>,
}

async fn users_view(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    structure_id: Uuid,
    filter: Option<NationalProfile>,
    error: Option<String>,
) -> AppResult<UsersPage> {
    let (scope, structure) = administered_structure(state, who, structure_id).await?;
    Ok(UsersPage {
        ctx: Ctx::signed_in(who, csrf, "users-title", "/admin").titled(format!(
            "{} — {}",
            Tr::french().get("users-title"),
            structure.name
        )),
        members: directory::list_structure_members(&state.db, scope, structure_id, filter).await?,
        classes: directory::list_classes(&state.db, scope, structure_id).await?,
        structure,
        filter,
        profiles: NationalProfile::ALL,
        functions: Function::ALL,
        error,
    })
}

pub async fn list(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
    Query(q): Query<ListQuery>,
) -> AppResult<Html<String>> {
    let filter = q
        .profil
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .transpose()
        .map_err(|_| AppError::BadRequest("admin-error-profile"))?;
    Ok(Html(
        users_view(&state, &who, csrf, structure_id, filter, None)
            .await?
            .render()?,
    ))
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    profile: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    class_id: String,
}

pub(crate) fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    s.len() <= 254
        && s.split_once('@').is_some_and(|(a, b)| {
            !a.is_empty() && b.contains('.') && !s.contains(char::is_whitespace)
        })
}

fn looks_like_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

pub async fn create(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path(structure_id): Path<Uuid>,
    Form(form): Form<NewUserForm>,
) -> AppResult<Response> {
    let (scope, _) = administered_structure(&state, &who, structure_id).await?;
    let profile = form.profile.parse::<NationalProfile>().ok();
    let function = if form.function.is_empty() {
        Ok(None)
    } else {
        form.function.parse::<Function>().map(Some)
    };
    let class_id = if form.class_id.is_empty() {
        Ok(None)
    } else {
        form.class_id.parse::<Uuid>().map(Some)
    };
    let name_ok = |n: &str| !n.trim().is_empty() && n.len() <= 100;
    let problem = if !name_ok(&form.first_name) || !name_ok(&form.last_name) {
        Some("admin-error-name")
    } else if profile.is_none() {
        Some("admin-error-profile")
    } else if !form.email.trim().is_empty() && !looks_like_email(&form.email) {
        Some("admin-error-email")
    } else if !form.birth_date.is_empty() && !looks_like_date(&form.birth_date) {
        Some("admin-error-birth-date")
    } else if function.is_err() {
        Some("admin-error-function")
    } else if class_id.is_err() {
        Some("admin-error-class")
    } else {
        None
    };
    let (Some(profile), Ok(function), Ok(class_id), None) = (profile, function, class_id, problem)
    else {
        let key = problem.unwrap_or("admin-error-profile");
        let html = users_view(
            &state,
            &who,
            csrf,
            structure_id,
            None,
            Some(Tr::french().get(key)),
        )
        .await?
        .render()?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    };
    // The class must be one of this structure's.
    if let Some(class_id) = class_id {
        let class = directory::get_class(&state.db, scope, class_id).await?;
        if class.structure_id != structure_id {
            return Err(AppError::NotFound);
        }
    }
    let user = directory::create_user(
        &state.db,
        Some(scope),
        NewUser {
            first_name: form.first_name,
            last_name: form.last_name,
            email: Some(form.email.trim().to_owned()),
            birth_date: Some(form.birth_date),
        },
    )
    .await?;
    directory::add_profile(&state.db, scope, user.id, structure_id, profile).await?;
    if let Some(function) = function {
        directory::add_function(&state.db, scope, user.id, structure_id, function).await?;
    }
    if let Some(class_id) = class_id {
        let role = if profile == NationalProfile::Eleve {
            ClassRole::Eleve
        } else {
            ClassRole::Enseignant
        };
        directory::add_class_member(&state.db, scope, class_id, user.id, role).await?;
    }
    directory::refresh_groups(&state.db, scope, structure_id).await?;
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "user.created",
        Some(user.id),
        &user.login,
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/admin/structures/{structure_id}/users/{}",
        user.id
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    ctx: Ctx,
    structure: Structure,
    user: User,
    state_key: &'static str,
    profiles: Vec<NationalProfile>,
    classes: Vec<(Class, ClassRole)>,
    structure_classes: Vec<Class>,
    guardians: Vec<(User, bool)>,
    children: Vec<directory::ChildSummary>,
    /// People that can be linked: pupils for a guardian, guardians for a pupil.
    candidates: Vec<StructureMember>,
    is_pupil: bool,
    is_guardian: bool,
    manual_groups: Vec<directory::Group>,
    code: Option<(String, String)>,
    notice_key: Option<&'static str>,
}

/// A user of this structure (holding a profile in it), or "not found".
async fn member_of(
    state: &AppState,
    scope: TenantScope,
    structure_id: Uuid,
    user_id: Uuid,
) -> AppResult<(User, Vec<NationalProfile>)> {
    let user = directory::get_user(&state.db, scope, user_id).await?;
    let profiles: Vec<NationalProfile> = directory::profiles_of_user(&state.db, scope, user_id)
        .await?
        .into_iter()
        .filter(|(s, _)| *s == structure_id)
        .map(|(_, p)| p)
        .collect();
    if profiles.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok((user, profiles))
}

async fn user_view(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    structure_id: Uuid,
    user_id: Uuid,
    code: Option<(String, String)>,
    notice_key: Option<&'static str>,
) -> AppResult<UserPage> {
    let (scope, structure) = administered_structure(state, who, structure_id).await?;
    let (user, profiles) = member_of(state, scope, structure_id, user_id).await?;
    let is_pupil = profiles.contains(&NationalProfile::Eleve);
    let is_guardian = profiles.contains(&NationalProfile::Tuteur);
    let wanted = if is_pupil {
        Some(NationalProfile::Tuteur)
    } else if is_guardian {
        Some(NationalProfile::Eleve)
    } else {
        None
    };
    let candidates = match wanted {
        Some(p) => {
            directory::list_structure_members(&state.db, scope, structure_id, Some(p)).await?
        }
        None => Vec::new(),
    };
    Ok(UserPage {
        ctx: Ctx::signed_in(who, csrf, "user-title", "/admin").titled(user.display_name()),
        state_key: state_key(user.state),
        classes: directory::classes_of_user(&state.db, scope, user_id).await?,
        structure_classes: directory::list_classes(&state.db, scope, structure_id).await?,
        guardians: if is_pupil {
            directory::guardians_of(&state.db, scope, user_id).await?
        } else {
            Vec::new()
        },
        children: if is_guardian {
            directory::children_of(&state.db, scope, user_id).await?
        } else {
            Vec::new()
        },
        candidates,
        is_pupil,
        is_guardian,
        manual_groups: directory::list_groups(&state.db, scope, structure_id)
            .await?
            .into_iter()
            .filter(|g| g.kind == GroupKind::Manual)
            .collect(),
        structure,
        user,
        profiles,
        code,
        notice_key,
    })
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path((structure_id, user_id)): Path<(Uuid, Uuid)>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Html<String>> {
    let notice = match q.done.as_deref() {
        Some("state") => Some("user-notice-state"),
        Some("linked") => Some("user-notice-linked"),
        Some("unlinked") => Some("user-notice-unlinked"),
        Some("class") => Some("user-notice-class"),
        Some("group") => Some("user-notice-group"),
        _ => None,
    };
    Ok(Html(
        user_view(&state, &who, csrf, structure_id, user_id, None, notice)
            .await?
            .render()?,
    ))
}

pub async fn generate_code(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    CsrfToken(csrf): CsrfToken,
    Path((structure_id, user_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let (scope, _) = administered_structure(&state, &who, structure_id).await?;
    let (user, _) = member_of(&state, scope, structure_id, user_id).await?;
    if user.state == AccountState::Disabled {
        return Err(AppError::BadRequest("user-code-disabled"));
    }
    let (code, expires) =
        accounts::issue_activation_code(&state.db, Some(scope), user_id, Some(who.user.id)).await?;
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "activation_code.issued",
        Some(user_id),
        "",
    )
    .await?;
    let shown = (format_code(&code), expires.format("%d/%m/%Y").to_string());
    let page = user_view(&state, &who, csrf, structure_id, user_id, Some(shown), None).await?;
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct StateForm {
    #[serde(default)]
    state: String,
}

pub async fn set_state(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path((structure_id, user_id)): Path<(Uuid, Uuid)>,
    Form(form): Form<StateForm>,
) -> AppResult<Response> {
    let (scope, _) = administered_structure(&state, &who, structure_id).await?;
    member_of(&state, scope, structure_id, user_id).await?;
    let target = match form.state.as_str() {
        "disabled" => AccountState::Disabled,
        "active" => AccountState::Active,
        _ => return Err(AppError::BadRequest("admin-error-state")),
    };
    if user_id == who.user.id {
        return Err(AppError::BadRequest("user-error-self"));
    }
    directory::set_user_state(&state.db, scope, user_id, target).await?;
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "user.state",
        Some(user_id),
        target.code(),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/admin/structures/{structure_id}/users/{user_id}?done=state"
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct ClassForm {
    #[serde(default)]
    class_id: String,
}

pub async fn add_to_class(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path((structure_id, user_id)): Path<(Uuid, Uuid)>,
    Form(form): Form<ClassForm>,
) -> AppResult<Response> {
    let (scope, _) = administered_structure(&state, &who, structure_id).await?;
    let (_, profiles) = member_of(&state, scope, structure_id, user_id).await?;
    let class_id: Uuid = form
        .class_id
        .parse()
        .map_err(|_| AppError::BadRequest("admin-error-class"))?;
    let class = directory::get_class(&state.db, scope, class_id).await?;
    if class.structure_id != structure_id {
        return Err(AppError::NotFound);
    }
    let role = if profiles.contains(&NationalProfile::Eleve) {
        ClassRole::Eleve
    } else if profiles.iter().any(|p| p.is_school_staff()) {
        ClassRole::Enseignant
    } else {
        return Err(AppError::BadRequest("admin-error-class-role"));
    };
    directory::add_class_member(&state.db, scope, class_id, user_id, role).await?;
    directory::refresh_groups(&state.db, scope, structure_id).await?;
    Ok(Redirect::to(&format!(
        "/admin/structures/{structure_id}/users/{user_id}?done=class"
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    group_id: String,
}

pub async fn add_to_group(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path((structure_id, user_id)): Path<(Uuid, Uuid)>,
    Form(form): Form<GroupForm>,
) -> AppResult<Response> {
    let (scope, _) = administered_structure(&state, &who, structure_id).await?;
    member_of(&state, scope, structure_id, user_id).await?;
    let group_id: Uuid = form
        .group_id
        .parse()
        .map_err(|_| AppError::BadRequest("admin-error-group"))?;
    // Only this structure's manual groups take members by hand.
    let groups = directory::list_groups(&state.db, scope, structure_id).await?;
    if !groups
        .iter()
        .any(|g| g.id == group_id && g.kind == GroupKind::Manual)
    {
        return Err(AppError::NotFound);
    }
    directory::add_group_member(&state.db, scope, group_id, user_id).await?;
    Ok(Redirect::to(&format!(
        "/admin/structures/{structure_id}/users/{user_id}?done=group"
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    guardian_id: String,
    #[serde(default)]
    child_id: String,
    #[serde(default)]
    legal_authority: Option<String>,
    /// Whose page to return to.
    #[serde(default)]
    back: String,
}

/// Checks both ends of a guardianship belong to this structure with the right profiles.
async fn link_ends(
    state: &AppState,
    who: &SignedIn,
    structure_id: Uuid,
    form: &LinkForm,
) -> AppResult<(TenantScope, Uuid, Uuid, Uuid)> {
    let (scope, _) = administered_structure(state, who, structure_id).await?;
    let parse = |s: &str| {
        s.parse::<Uuid>()
            .map_err(|_| AppError::BadRequest("admin-error-link"))
    };
    let (guardian_id, child_id) = (parse(&form.guardian_id)?, parse(&form.child_id)?);
    let (_, guardian_profiles) = member_of(state, scope, structure_id, guardian_id).await?;
    let (_, child_profiles) = member_of(state, scope, structure_id, child_id).await?;
    if !guardian_profiles.contains(&NationalProfile::Tuteur)
        || !child_profiles.contains(&NationalProfile::Eleve)
    {
        return Err(AppError::BadRequest("admin-error-link"));
    }
    let back = if form.back == "child" {
        child_id
    } else {
        guardian_id
    };
    Ok((scope, guardian_id, child_id, back))
}

pub async fn link(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path(structure_id): Path<Uuid>,
    Form(form): Form<LinkForm>,
) -> AppResult<Response> {
    let (scope, guardian_id, child_id, back) = link_ends(&state, &who, structure_id, &form).await?;
    directory::link_guardian(
        &state.db,
        scope,
        guardian_id,
        child_id,
        form.legal_authority.is_some(),
    )
    .await?;
    directory::refresh_groups(&state.db, scope, structure_id).await?;
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "guardian.linked",
        Some(child_id),
        &guardian_id.to_string(),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/admin/structures/{structure_id}/users/{back}?done=linked"
    ))
    .into_response())
}

pub async fn unlink(
    State(state): State<AppState>,
    Administrator(who): Administrator,
    Path(structure_id): Path<Uuid>,
    Form(form): Form<LinkForm>,
) -> AppResult<Response> {
    let (scope, guardian_id, child_id, back) = link_ends(&state, &who, structure_id, &form).await?;
    directory::unlink_guardian(&state.db, scope, guardian_id, child_id).await?;
    directory::refresh_groups(&state.db, scope, structure_id).await?;
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "guardian.unlinked",
        Some(child_id),
        &guardian_id.to_string(),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/admin/structures/{structure_id}/users/{back}?done=unlinked"
    ))
    .into_response())
}

#[derive(Deserialize)]
pub struct PupilPasswordForm {
    #[serde(default)]
    password: String,
}

/// A teacher (or the school's administrator) sets a new password for a pupil of the class.
pub async fn reset_pupil_password(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path((class_id, pupil_id)): Path<(Uuid, Uuid)>,
    Form(form): Form<PupilPasswordForm>,
) -> AppResult<Response> {
    let t = Tr::french();
    let (scope, _, class) = visible_class(&state, &who, class_id).await?;
    let members = directory::class_members(&state.db, scope, class_id).await?;
    let Some((pupil, _)) = members
        .into_iter()
        .find(|(u, role)| u.id == pupil_id && *role == ClassRole::Eleve)
    else {
        return Err(AppError::NotFound);
    };
    let place = Place {
        tenant_id: class.tenant_id,
        structure_id: class.structure_id,
    };
    if !who.actor.may_reset_pupil_password(place, &[class.id]) {
        return Err(AppError::Forbidden);
    }
    // Typed once by the teacher, who reads it back to the pupil: no confirmation field.
    let problem = crate::auth::new_password_problem(
        PolicyKind::Pupil,
        &form.password,
        &form.password,
        &pupil.login,
    );
    if let Some(problem) = problem {
        let error = format!("{} — {problem}", pupil.display_name());
        return render_teacher_class(&state, &who, csrf, class_id, None, Some(error)).await;
    }
    let hash = credentials::hash_password(state.config.hash_cost, form.password).await?;
    // Refused for a disabled account; a pupil who never activated is opened by it.
    accounts::set_password(&state.db, pupil.id, &hash).await?;
    if pupil.state == AccountState::Pending {
        directory::set_user_state(&state.db, scope, pupil.id, AccountState::Active).await?;
    }
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "password.reset_by_teacher",
        Some(pupil.id),
        "",
    )
    .await?;
    let notice = t.with1("classes-password-done", "name", &pupil.display_name());
    render_teacher_class(&state, &who, csrf, class_id, Some(notice), None).await
}
