//! Writing a mot: to the whole school (its administrators), to classes, or to pupils
//! chosen one by one, among the classes the writer teaches or runs; with files, a
//! publication time, and the urgent flag kept rare (it may send SMS).

use super::scope_of;
use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::messages::attachments::{receive, remove_file};
use crate::session::SignedIn;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use preau_domain::ClassRole;
use preau_domain::access::Place;
use preau_domain::liaison::{Audience, LANGUAGES, URGENT_PER_DAY, check_mot, furthest_schedule};
use preau_domain::messaging::{MAX_ATTACHMENTS, clean_file_name};
use preau_domain::time::{from_paris, paris_month_start};
use preau_store::directory::{self, Class};
use preau_store::liaison::{self, Attachment, NewMot};
use preau_store::{TenantScope, notifications};
use uuid::Uuid;

/// A school the writer may post in, with the classes open to them.
pub(crate) struct Postable {
    structure_id: Uuid,
    structure_name: String,
    /// The writer runs the school: "toute l'école" is offered.
    whole_school: bool,
    classes: Vec<Class>,
    /// (class, pupil, "Nom Prénom") for choosing pupils one by one.
    pupils: Vec<(Uuid, Uuid, String)>,
}

async fn postable(
    state: &AppState,
    who: &SignedIn,
    scope: TenantScope,
) -> AppResult<Vec<Postable>> {
    let actor = &who.actor;
    let mut out: Vec<Postable> = Vec::new();
    for structure in &actor.admin_structures {
        let Ok(s) = directory::get_structure(&state.db, scope, *structure).await else {
            continue;
        };
        let classes: Vec<Class> = directory::list_classes(&state.db, scope, s.id)
            .await?
            .into_iter()
            .filter(|c| !c.archived)
            .collect();
        out.push(Postable {
            structure_id: s.id,
            structure_name: s.name,
            whole_school: true,
            classes,
            pupils: Vec::new(),
        });
    }
    if !actor.taught_classes.is_empty() {
        for (class, role) in directory::classes_of_user(&state.db, scope, who.user.id).await? {
            if role != ClassRole::Enseignant || class.archived {
                continue;
            }
            match out
                .iter_mut()
                .find(|p| p.structure_id == class.structure_id)
            {
                Some(p) => {
                    if !p.classes.iter().any(|c| c.id == class.id) {
                        p.classes.push(class);
                    }
                }
                None => {
                    let s = directory::get_structure(&state.db, scope, class.structure_id).await?;
                    out.push(Postable {
                        structure_id: s.id,
                        structure_name: s.name,
                        whole_school: false,
                        classes: vec![class],
                        pupils: Vec::new(),
                    });
                }
            }
        }
    }
    for p in &mut out {
        for class in &p.classes {
            for (user, role) in directory::class_members(&state.db, scope, class.id).await? {
                if role == ClassRole::Eleve {
                    p.pupils.push((
                        class.id,
                        user.id,
                        format!("{} {}", user.last_name, user.first_name),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// What the form holds, to show it again after a mistake.
#[derive(Default)]
pub(crate) struct MotForm {
    structure: Option<Uuid>,
    audience: String,
    classes: Vec<Uuid>,
    pupils: Vec<Uuid>,
    title: String,
    body: String,
    language: String,
    signature: bool,
    replies: bool,
    urgent: bool,
    publish_date: String,
    publish_time: String,
}

#[derive(Template)]
#[template(path = "liaison/new.html")]
struct NewPage {
    ctx: Ctx,
    places: Vec<Postable>,
    form: MotForm,
    languages: &'static [(&'static str, &'static str, bool)],
    error: Option<String>,
    max_files: usize,
}

impl NewPage {
    fn class_checked(&self, id: &Uuid) -> bool {
        self.form.classes.contains(id)
    }

    fn any_whole_school(&self) -> bool {
        self.places.iter().any(|p| p.whole_school)
    }

    fn pupil_checked(&self, id: &Uuid) -> bool {
        self.form.pupils.contains(id)
    }
}

async fn render_form(
    state: &AppState,
    who: &SignedIn,
    csrf: String,
    form: MotForm,
    error: Option<String>,
) -> AppResult<Response> {
    let scope = scope_of(who)?;
    let places = postable(state, who, scope).await?;
    if places.is_empty() {
        return Err(AppError::NotFound);
    }
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = NewPage {
        ctx: Ctx::signed_in(who, csrf, "liaison-new-title", "/liaison"),
        places,
        form,
        languages: LANGUAGES,
        error,
        max_files: MAX_ATTACHMENTS,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub(crate) async fn new_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let form = MotForm {
        audience: "classes".into(),
        language: "fr".into(),
        signature: true,
        ..MotForm::default()
    };
    render_form(&state, &who, csrf, form, None).await
}

/// When to publish: now, or the Paris date and time given (a past time means now).
fn publish_time(f: &MotForm, now: DateTime<Utc>) -> Result<DateTime<Utc>, &'static str> {
    let date = f.publish_date.trim();
    if date.is_empty() {
        return Ok(now);
    }
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| "liaison-error-date")?;
    let time = match f.publish_time.trim() {
        "" => NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
        t => NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| "liaison-error-date")?,
    };
    let at = from_paris(day.and_time(time));
    if at > now + furthest_schedule() {
        return Err("liaison-error-date-far");
    }
    Ok(at.max(now))
}

/// The mot form, posted as multipart with its files.
pub(crate) async fn create(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let t = crate::i18n::Tr::french();
    let mut f = MotForm::default();
    let mut received: Vec<Attachment> = Vec::new();
    let mut problem: Option<String> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                problem = Some(t.get("attach-error-upload"));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "files" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            if file_name.is_empty() {
                continue;
            }
            if received.len() >= MAX_ATTACHMENTS {
                problem = Some(t.with1(
                    "attach-error-too-many",
                    "count",
                    &MAX_ATTACHMENTS.to_string(),
                ));
                break;
            }
            match receive(&state, &mut field, &file_name).await {
                Ok(a) => received.push(Attachment {
                    id: a.id,
                    mot_id: Uuid::nil(),
                    file_name: a.file_name,
                    content_type: a.content_type,
                    size: a.size,
                }),
                Err(key) => {
                    problem = Some(t.with1(key, "file", &clean_file_name(&file_name)));
                    break;
                }
            }
            continue;
        }
        let Ok(value) = field.text().await else {
            problem = Some(t.get("attach-error-upload"));
            break;
        };
        let id = || value.parse::<Uuid>().ok();
        match name.as_str() {
            "structure" => f.structure = id(),
            "audience" => f.audience = value,
            "classes" => f.classes.extend(id()),
            "pupils" => f.pupils.extend(id()),
            "title" => f.title = value,
            "body" => f.body = value,
            "language" => f.language = value,
            "signature" => f.signature = true,
            "replies" => f.replies = true,
            "urgent" => f.urgent = true,
            "publish_date" => f.publish_date = value,
            "publish_time" => f.publish_time = value,
            _ => {}
        }
    }
    let outcome = match problem {
        Some(text) => Err(Refusal::Form(text)),
        None => post_checked(&state, &who, scope, &f, &received).await,
    };
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/liaison/{id}?ok=publie")).into_response()),
        Err(refusal) => {
            for a in &received {
                remove_file(&state, a.id).await;
            }
            match refusal {
                Refusal::Form(text) => {
                    let text = if received.is_empty() {
                        text
                    } else {
                        format!("{text} {}", t.get("liaison-files-again"))
                    };
                    render_form(&state, &who, csrf, f, Some(text)).await
                }
                Refusal::Error(e) => Err(e),
            }
        }
    }
}

enum Refusal {
    /// Shown above the form.
    Form(String),
    Error(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::Error(e)
    }
}

async fn post_checked(
    state: &AppState,
    who: &SignedIn,
    scope: TenantScope,
    f: &MotForm,
    files: &[Attachment],
) -> Result<Uuid, Refusal> {
    let t = crate::i18n::Tr::french();
    let form_error = |key: &str| Refusal::Form(t.get(key));
    check_mot(&f.title, &f.body, &f.language).map_err(form_error)?;
    let places = postable(state, who, scope).await?;
    let place = match f.structure {
        Some(id) => places.iter().find(|p| p.structure_id == id),
        None if places.len() == 1 => places.first(),
        None => None,
    }
    .ok_or(Refusal::Error(AppError::Refused(
        "liaison-error-not-your-class",
    )))?;
    let audience: Audience = f
        .audience
        .parse()
        .map_err(|_| form_error("liaison-error-audience"))?;
    let (class_ids, pupil_ids): (Vec<Uuid>, Vec<Uuid>) = match audience {
        Audience::School => {
            if !place.whole_school
                || !who.actor.may_admin_structure(Place {
                    tenant_id: scope.id(),
                    structure_id: place.structure_id,
                })
            {
                return Err(AppError::Refused("liaison-error-not-your-school").into());
            }
            (place.classes.iter().map(|c| c.id).collect(), Vec::new())
        }
        Audience::Classes => {
            if f.classes.is_empty() {
                return Err(form_error("liaison-error-no-class"));
            }
            if f.classes
                .iter()
                .any(|c| !place.classes.iter().any(|k| k.id == *c))
            {
                return Err(AppError::Refused("liaison-error-not-your-class").into());
            }
            (f.classes.clone(), Vec::new())
        }
        Audience::Pupils => {
            if f.pupils.is_empty() {
                return Err(form_error("liaison-error-no-pupil"));
            }
            let mut classes: Vec<Uuid> = Vec::new();
            for pupil in &f.pupils {
                let Some((class, _, _)) = place.pupils.iter().find(|(_, p, _)| p == pupil) else {
                    return Err(AppError::Refused("liaison-error-not-your-class").into());
                };
                if !classes.contains(class) {
                    classes.push(*class);
                }
            }
            (classes, f.pupils.clone())
        }
    };
    if class_ids.is_empty() {
        return Err(form_error("liaison-error-no-class"));
    }
    let now = preau_store::now();
    let publish_at = publish_time(f, now).map_err(form_error)?;
    if f.urgent {
        let recent = liaison::urgent_posted_since(
            &state.db,
            scope,
            who.user.id,
            now - chrono::Duration::hours(24),
        )
        .await
        .map_err(AppError::from)?;
        if recent >= URGENT_PER_DAY {
            return Err(Refusal::Form(t.with1(
                "liaison-error-urgent-limit",
                "count",
                &URGENT_PER_DAY.to_string(),
            )));
        }
        let (budget, used) = notifications::sms_budget(&state.db, scope, paris_month_start(now))
            .await
            .map_err(AppError::from)?;
        if budget > 0 && used >= budget {
            return Err(Refusal::Form(t.with(
                "liaison-error-sms-budget",
                &[("used", &used.to_string()), ("budget", &budget.to_string())],
            )));
        }
    }
    let id = liaison::post(
        &state.db,
        scope,
        &NewMot {
            structure_id: place.structure_id,
            author_id: who.user.id,
            title: &f.title,
            body: &f.body,
            language: &f.language,
            audience,
            class_ids: &class_ids,
            pupil_ids: &pupil_ids,
            signature_required: f.signature,
            replies_allowed: f.replies,
            urgent: f.urgent,
            publish_at,
            attachments: files,
        },
    )
    .await
    .map_err(AppError::from)?;
    if publish_at <= now {
        state.jobs_wake.notify_one();
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn publication_times_are_paris_times_and_never_in_the_past() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 2, 9, 0, 0)
            .single()
            .unwrap_or_default();
        let mut f = MotForm::default();
        assert_eq!(publish_time(&f, now), Ok(now));
        f.publish_date = "2026-12-03".into();
        f.publish_time = "18:30".into();
        assert_eq!(
            publish_time(&f, now),
            Ok(Utc
                .with_ymd_and_hms(2026, 12, 3, 17, 30, 0)
                .single()
                .unwrap_or_default())
        );
        f.publish_date = "2026-12-01".into();
        assert_eq!(publish_time(&f, now), Ok(now));
        f.publish_date = "2027-12-01".into();
        assert_eq!(publish_time(&f, now), Err("liaison-error-date-far"));
        f.publish_date = "demain".into();
        assert_eq!(publish_time(&f, now), Err("liaison-error-date"));
        assert_eq!(
            paris_month_start(now),
            Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0)
                .single()
                .unwrap_or_default()
        );
    }
}
