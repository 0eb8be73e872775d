//! A class's accounts, for its teacher and the directeur: who has not activated yet, a new
//! activation code for a pupil or a guardian, a guardian added by hand, and the printable
//! connection letters (one A4 page per person, fresh codes).

use super::structures::{render_teacher_class, visible_class};
use crate::AppState;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::session::SignedIn;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use preau_domain::access::Place;
use preau_domain::activation::format_code;
use preau_domain::{AccountState, ClassRole, NationalProfile};
use preau_interop::letters::{Letter, LetterTexts, render_letters};
use preau_store::directory::{self, Class, NewUser, Structure, User};
use preau_store::{StoreError, TenantScope, accounts};
use serde::Deserialize;
use uuid::Uuid;

/// The class, if the user may manage its accounts (an archived class is read-only).
async fn managed_class(
    state: &AppState,
    who: &SignedIn,
    class_id: Uuid,
) -> AppResult<(TenantScope, Structure, Class)> {
    let (scope, structure, class) = visible_class(state, who, class_id).await?;
    let place = Place {
        tenant_id: class.tenant_id,
        structure_id: class.structure_id,
    };
    if class.archived || !who.actor.may_manage_class(place, class.id) {
        return Err(AppError::Forbidden);
    }
    Ok((scope, structure, class))
}

/// Pupils of the class and guardians of those pupils: the accounts the class's page manages.
async fn class_accounts(
    state: &AppState,
    scope: TenantScope,
    class_id: Uuid,
) -> AppResult<(Vec<User>, Vec<directory::ClassGuardian>)> {
    let pupils = directory::class_members(&state.db, scope, class_id)
        .await?
        .into_iter()
        .filter(|(_, role)| *role == ClassRole::Eleve)
        .map(|(u, _)| u)
        .collect();
    let guardians = directory::class_guardians(&state.db, scope, class_id).await?;
    Ok((pupils, guardians))
}

pub async fn new_code(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path((class_id, user_id)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let (scope, _, _) = managed_class(&state, &who, class_id).await?;
    let (pupils, guardians) = class_accounts(&state, scope, class_id).await?;
    let user = pupils
        .into_iter()
        .chain(guardians.into_iter().map(|g| g.user))
        .find(|u| u.id == user_id)
        .ok_or(AppError::NotFound)?;
    let t = Tr::french();
    if user.state == AccountState::Disabled {
        let error = t.with1("class-code-disabled", "name", &user.display_name());
        return render_teacher_class(&state, &who, csrf, class_id, None, Some(error)).await;
    }
    let (code, expires) =
        accounts::issue_activation_code(&state.db, Some(scope), user.id, Some(who.user.id)).await?;
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "activation_code.issued",
        Some(user.id),
        "",
    )
    .await?;
    let notice = t.with(
        "class-code-done",
        &[
            ("name", user.display_name().as_str()),
            ("login", user.login.as_str()),
            ("code", format_code(&code).as_str()),
            ("date", expires.format("%d/%m/%Y").to_string().as_str()),
        ],
    );
    render_teacher_class(&state, &who, csrf, class_id, Some(notice), None).await
}

#[derive(Deserialize)]
pub struct GuardianForm {
    #[serde(default)]
    pupil_id: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    /// An existing account to link instead of creating one.
    #[serde(default)]
    existing_login: String,
    #[serde(default)]
    legal_authority: Option<String>,
}

/// Adds a guardian to a pupil of the class: an existing account (by login) or a new one.
pub async fn add_guardian(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(class_id): Path<Uuid>,
    Form(form): Form<GuardianForm>,
) -> AppResult<Response> {
    let (scope, structure, _) = managed_class(&state, &who, class_id).await?;
    let t = Tr::french();
    let (pupils, _) = class_accounts(&state, scope, class_id).await?;
    let pupil = form
        .pupil_id
        .parse::<Uuid>()
        .ok()
        .and_then(|id| pupils.into_iter().find(|p| p.id == id));
    let Some(pupil) = pupil else {
        let error = t.get("class-guardian-error-pupil");
        return render_teacher_class(&state, &who, csrf, class_id, None, Some(error)).await;
    };
    let existing = form.existing_login.trim().to_lowercase();
    let guardian = if existing.is_empty() {
        let name_ok = |n: &str| !n.trim().is_empty() && n.len() <= 100;
        let email = form.email.trim();
        let email_ok = email.is_empty() || super::users::looks_like_email(email);
        if !name_ok(&form.first_name) || !name_ok(&form.last_name) || !email_ok {
            let error = t.get("class-guardian-error-name");
            return render_teacher_class(&state, &who, csrf, class_id, None, Some(error)).await;
        }
        directory::create_user(
            &state.db,
            Some(scope),
            NewUser {
                first_name: form.first_name.clone(),
                last_name: form.last_name.clone(),
                email: Some(email.to_owned()),
                birth_date: None,
            },
        )
        .await?
    } else {
        match directory::find_user_by_login(&state.db, &existing).await? {
            // Only an account of this territory that is nobody's pupil can be a guardian.
            Some(u) if u.tenant_id == Some(scope.id()) && u.id != pupil.id => {
                let profiles = directory::profiles_of_user(&state.db, scope, u.id).await?;
                if profiles.iter().any(|(_, p)| *p == NationalProfile::Eleve) {
                    let error = t.get("class-guardian-error-login");
                    return render_teacher_class(&state, &who, csrf, class_id, None, Some(error))
                        .await;
                }
                u
            }
            _ => {
                let error = t.get("class-guardian-error-login");
                return render_teacher_class(&state, &who, csrf, class_id, None, Some(error)).await;
            }
        }
    };
    directory::add_profile(
        &state.db,
        scope,
        guardian.id,
        structure.id,
        NationalProfile::Tuteur,
    )
    .await?;
    directory::link_guardian(
        &state.db,
        scope,
        guardian.id,
        pupil.id,
        form.legal_authority.is_some(),
    )
    .await?;
    directory::refresh_groups(&state.db, scope, structure.id).await?;
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "guardian.linked",
        Some(guardian.id),
        &pupil.id.to_string(),
    )
    .await?;
    let notice = t.with(
        "class-guardian-done",
        &[
            ("guardian", guardian.display_name().as_str()),
            ("login", guardian.login.as_str()),
            ("pupil", pupil.display_name().as_str()),
        ],
    );
    render_teacher_class(&state, &who, csrf, class_id, Some(notice), None).await
}

#[derive(Deserialize)]
pub struct LettersForm {
    /// `eleves` or `responsables`.
    #[serde(default)]
    who: String,
    #[serde(default)]
    pending_only: Option<String>,
}

fn letter_texts(state: &AppState, for_guardians: bool, class: &Class) -> LetterTexts {
    let t = Tr::french();
    let url = format!(
        "{}/auth/activate",
        state.config.public_url.trim_end_matches('/')
    );
    LetterTexts {
        title: t.get("letters-title"),
        intro: t.get(if for_guardians {
            "letters-intro-guardian"
        } else {
            "letters-intro-pupil"
        }),
        login_label: t.get("letters-login"),
        code_label: t.get("letters-code"),
        url_label: t.get("letters-url"),
        url,
        steps_title: t.get("letters-steps-title"),
        steps: [
            "letters-step-1",
            "letters-step-2",
            "letters-step-3",
            "letters-step-4",
        ]
        .iter()
        .map(|k| t.get(k))
        .collect(),
        qr_caption: t.get("letters-qr"),
        footer: t.get("letters-footer"),
        document_title: t.with1("letters-document-title", "class", &class.name),
        language: "fr-FR".into(),
    }
}

/// The connection letters of a class's pupils or of their guardians, each with a fresh code.
pub async fn letters(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(class_id): Path<Uuid>,
    Form(form): Form<LettersForm>,
) -> AppResult<Response> {
    let (scope, structure, class) = managed_class(&state, &who, class_id).await?;
    let t = Tr::french();
    let for_guardians = form.who == "responsables";
    let pending_only = form.pending_only.is_some();
    let (pupils, guardians) = class_accounts(&state, scope, class_id).await?;
    let people: Vec<(User, Option<String>)> = if for_guardians {
        guardians
            .into_iter()
            .map(|g| {
                let names: Vec<&str> = g.children.iter().map(|(_, n)| n.as_str()).collect();
                let about = t.with(
                    "letters-about-guardian",
                    &[
                        ("children", names.join(", ").as_str()),
                        ("class", class.name.as_str()),
                    ],
                );
                (g.user, Some(about))
            })
            .collect()
    } else {
        pupils.into_iter().map(|p| (p, None)).collect()
    };
    let people: Vec<(User, Option<String>)> = people
        .into_iter()
        .filter(|(u, _)| u.state != AccountState::Disabled)
        .filter(|(u, _)| !pending_only || u.state == AccountState::Pending)
        .collect();
    if people.is_empty() {
        let error = t.get("letters-none");
        return render_teacher_class(&state, &who, csrf, class_id, None, Some(error)).await;
    }
    let school = if structure.commune.is_empty() {
        structure.name.clone()
    } else {
        format!("{} — {}", structure.name, structure.commune)
    };
    let mut letters = Vec::with_capacity(people.len());
    for (user, about) in people {
        let (code, expires) = match accounts::issue_activation_code(
            &state.db,
            Some(scope),
            user.id,
            Some(who.user.id),
        )
        .await
        {
            Ok(issued) => issued,
            Err(StoreError::Invalid(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        letters.push(Letter {
            school: school.clone(),
            class: Some(class.name.clone()),
            addressee: user.display_name(),
            about,
            login: user.login.clone(),
            code: format_code(&code),
            expires: t.with1(
                "letters-expires",
                "date",
                &expires.format("%d/%m/%Y").to_string(),
            ),
        });
    }
    accounts::audit(
        &state.db,
        Some(scope.id()),
        Some(who.user.id),
        "letters.printed",
        Some(class.id),
        &format!("{} lettres", letters.len()),
    )
    .await?;
    let texts = letter_texts(&state, for_guardians, &class);
    let pdf = tokio::task::spawn_blocking(move || render_letters(&letters, &texts))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let kind = if for_guardians {
        "responsables"
    } else {
        "eleves"
    };
    let file = format!(
        "lettres-{kind}-{}.pdf",
        preau_domain::login::fold_name(&class.name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        pdf,
    )
        .into_response())
}
