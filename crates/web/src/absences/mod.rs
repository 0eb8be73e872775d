//! Absences: the class register (morning and afternoon, every pupil present unless marked),
//! the directeur's live list of the day, families' notices given in advance, and the
//! monthly summary per class to print.

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::session::SignedIn;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Datelike, Duration, NaiveDate};
use preau_domain::ClassRole;
use preau_domain::absences::{Half, Mark, check_notice, parse_day};
use preau_domain::access::Place;
use preau_domain::time::paris_today;
use preau_store::absences::{self, Absence, Notice, RegisterLine};
use preau_store::directory::{self, ChildSummary, Class};
use preau_store::{TenantScope, notifications};
use serde::Deserialize;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/absences", get(index))
        .route("/absences/prevenir", post(give_notice))
        .route(
            "/absences/classe/{id}",
            get(register_page).post(save_register),
        )
        .route("/absences/ecole/{id}", get(school_day))
        .route("/absences/mois/{id}", get(month_page))
}

fn scope_of(who: &SignedIn) -> AppResult<TenantScope> {
    who.scope().ok_or(AppError::NotFound)
}

fn place(scope: TenantScope, structure_id: Uuid) -> Place {
    Place {
        tenant_id: scope.id(),
        structure_id,
    }
}

/// "mercredi 2 décembre 2026"
fn long_day(t: &crate::i18n::Tr, day: NaiveDate) -> String {
    let weekday = t.get(&format!(
        "weekday-{}",
        day.weekday().num_days_from_monday() + 1
    ));
    let month = t.get(&format!("month-{}", day.month()));
    format!("{weekday} {} {month} {}", day.day(), day.year())
}

fn half_day_text(t: &crate::i18n::Tr, (day, half): (NaiveDate, Half)) -> String {
    format!("{} ({})", long_day(t, day), t.get(half.label_key()))
}

/// A notice as shown.
struct ShownNotice {
    notice: Notice,
    from: String,
    to: String,
}

fn shown_notice(t: &crate::i18n::Tr, notice: Notice) -> ShownNotice {
    ShownNotice {
        from: half_day_text(t, notice.from),
        to: half_day_text(t, notice.to),
        notice,
    }
}

#[derive(Template)]
#[template(path = "absences/index.html")]
struct IndexPage {
    ctx: Ctx,
    today: String,
    today_iso: String,
    half: Half,
    /// The classes I teach or run, by school: (school id, school name, classes).
    schools: Vec<(Uuid, String, bool, Vec<Class>)>,
    children: Vec<ChildSummary>,
    notices: Vec<ShownNotice>,
    family_absences: Vec<(Absence, String)>,
    error: Option<String>,
    notice_saved: bool,
    halves: [Half; 2],
}

#[derive(Deserialize, Default)]
struct IndexQuery {
    #[serde(default)]
    ok: Option<String>,
}

async fn index(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<IndexQuery>,
) -> AppResult<Response> {
    let ctx = Ctx::signed_in(&who, csrf, "absences-title", "/absences");
    render_index(&state, &who, ctx, None, q.ok.is_some()).await
}

async fn render_index(
    state: &AppState,
    who: &SignedIn,
    ctx: Ctx,
    error: Option<String>,
    notice_saved: bool,
) -> AppResult<Response> {
    let scope = scope_of(who)?;
    let now = preau_store::now();
    let today = paris_today(now);
    let actor = &who.actor;
    let mut schools: Vec<(Uuid, String, bool, Vec<Class>)> = Vec::new();
    for structure in &actor.admin_structures {
        if let Ok(s) = directory::get_structure(&state.db, scope, *structure).await {
            let classes = directory::list_classes(&state.db, scope, s.id)
                .await?
                .into_iter()
                .filter(|c| !c.archived)
                .collect();
            schools.push((s.id, s.name, true, classes));
        }
    }
    if !actor.taught_classes.is_empty() {
        for (class, role) in directory::classes_of_user(&state.db, scope, who.user.id).await? {
            if role != ClassRole::Enseignant || class.archived {
                continue;
            }
            match schools.iter_mut().find(|s| s.0 == class.structure_id) {
                Some(s) => {
                    if !s.3.iter().any(|c| c.id == class.id) {
                        s.3.push(class);
                    }
                }
                None => {
                    let s = directory::get_structure(&state.db, scope, class.structure_id).await?;
                    schools.push((s.id, s.name, false, vec![class]));
                }
            }
        }
    }
    let (mut children, mut notices, mut family_absences) = (Vec::new(), Vec::new(), Vec::new());
    if !actor.children.is_empty() {
        children = directory::children_of(&state.db, scope, who.user.id).await?;
        let ids: Vec<Uuid> = children.iter().map(|c| c.id).collect();
        notices = absences::notices_for(&state.db, scope, &ids, today)
            .await?
            .into_iter()
            .map(|n| shown_notice(&ctx.t, n))
            .collect();
        family_absences =
            absences::of_pupils_since(&state.db, scope, &ids, today - Duration::days(30))
                .await?
                .into_iter()
                .map(|a| {
                    let day = half_day_text(&ctx.t, (a.day, a.half));
                    (a, day)
                })
                .collect();
        notifications::mark_kind_read(&state.db, scope, who.user.id, "absence").await?;
    }
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = IndexPage {
        today: long_day(&ctx.t, today),
        today_iso: today.format("%Y-%m-%d").to_string(),
        half: Half::at(now),
        ctx,
        schools,
        children,
        notices,
        family_absences,
        error,
        notice_saved,
        halves: [Half::Morning, Half::Afternoon],
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
struct NoticeForm {
    pupil: Uuid,
    from_day: String,
    from_half: String,
    to_day: String,
    to_half: String,
    reason: String,
}

/// A guardian tells the school in advance.
async fn give_notice(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Form(f): Form<NoticeForm>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    if !who.actor.is_guardian_of(f.pupil) {
        return Err(AppError::Refused("absence-error-not-your-child"));
    }
    let children = directory::children_of(&state.db, scope, who.user.id).await?;
    let Some(structure) = children
        .iter()
        .find(|c| c.id == f.pupil)
        .and_then(|c| c.structure_id)
    else {
        return Err(AppError::BadRequest("absence-error-no-school"));
    };
    let read = |day: &str, half: &str| Some((parse_day(day)?, half.parse::<Half>().ok()?));
    let checked = match (read(&f.from_day, &f.from_half), read(&f.to_day, &f.to_half)) {
        (Some(from), Some(to)) => {
            check_notice(from, to, &f.reason, paris_today(preau_store::now())).map(|()| (from, to))
        }
        _ => Err("absence-error-date"),
    };
    match checked {
        Ok((from, to)) => {
            absences::add_notice(
                &state.db,
                scope,
                structure,
                f.pupil,
                who.user.id,
                from,
                to,
                &f.reason,
            )
            .await?;
            state.jobs_wake.notify_one();
            Ok(Redirect::to("/absences?ok=1").into_response())
        }
        Err(key) => {
            let ctx = Ctx::signed_in(&who, csrf, "absences-title", "/absences");
            let error = Some(ctx.t.get(key));
            render_index(&state, &who, ctx, error, false).await
        }
    }
}

#[derive(Deserialize, Default)]
struct DayQuery {
    #[serde(default)]
    jour: Option<String>,
    #[serde(default)]
    demi: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

fn day_of(q: &DayQuery) -> AppResult<NaiveDate> {
    match q.jour.as_deref().filter(|s| !s.is_empty()) {
        None => Ok(paris_today(preau_store::now())),
        Some(text) => parse_day(text).ok_or(AppError::BadRequest("absence-error-date")),
    }
}

fn half_of(q: &DayQuery) -> AppResult<Half> {
    match q.demi.as_deref().filter(|s| !s.is_empty()) {
        None => Ok(Half::at(preau_store::now())),
        Some(text) => text
            .parse()
            .map_err(|_| AppError::BadRequest("absence-error-date")),
    }
}

/// The class, if the signed-in person may take its register.
async fn managed_class(
    state: &AppState,
    who: &SignedIn,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<Class> {
    let class = directory::get_class(&state.db, scope, id).await?;
    if !who
        .actor
        .may_manage_class(place(scope, class.structure_id), class.id)
    {
        return Err(AppError::NotFound);
    }
    Ok(class)
}

#[derive(Template)]
#[template(path = "absences/register.html")]
struct RegisterPage {
    ctx: Ctx,
    class: Class,
    day: String,
    day_iso: String,
    half: Half,
    halves: [Half; 2],
    lines: Vec<RegisterLine>,
    saved: Option<usize>,
    previous_iso: String,
    next_iso: String,
}

async fn register_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
    Query(q): Query<DayQuery>,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    let class = managed_class(&state, &who, scope, id).await?;
    let (day, half) = (day_of(&q)?, half_of(&q)?);
    let lines = absences::register(&state.db, scope, class.id, day, half).await?;
    let ctx = Ctx::signed_in(&who, csrf, "absences-register-title", "/absences");
    Ok(Html(
        RegisterPage {
            day: long_day(&ctx.t, day),
            ctx,
            day_iso: day.format("%Y-%m-%d").to_string(),
            previous_iso: (day - Duration::days(1)).format("%Y-%m-%d").to_string(),
            next_iso: (day + Duration::days(1)).format("%Y-%m-%d").to_string(),
            half,
            halves: [Half::Morning, Half::Afternoon],
            class,
            lines,
            saved: q.ok.as_deref().and_then(|n| n.parse().ok()),
        }
        .render()?,
    ))
}

/// Saves the register: one radio per pupil (`p-ID` = present, absence or retard).
async fn save_register(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<Uuid>,
    Query(q): Query<DayQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let class = managed_class(&state, &who, scope, id).await?;
    let (day, half) = (day_of(&q)?, half_of(&q)?);
    if day > paris_today(preau_store::now()) {
        return Err(AppError::BadRequest("absence-error-future"));
    }
    let mut marks: Vec<(Uuid, Option<Mark>)> = Vec::new();
    for (name, value) in &fields {
        let Some(pupil) = name.strip_prefix("p-").and_then(|p| p.parse::<Uuid>().ok()) else {
            continue;
        };
        let mark = match value.as_str() {
            "present" => None,
            other => Some(
                other
                    .parse::<Mark>()
                    .map_err(|_| AppError::BadRequest("error-400-text"))?,
            ),
        };
        marks.push((pupil, mark));
    }
    let alerted = match absences::record(
        &state.db,
        scope,
        class.structure_id,
        class.id,
        day,
        half,
        &marks,
        who.user.id,
    )
    .await
    {
        Err(preau_store::StoreError::NotFound) => return Err(AppError::NotFound),
        other => other?,
    };
    if !alerted.is_empty() {
        state.jobs_wake.notify_one();
    }
    let absent = marks.iter().filter(|(_, m)| m.is_some()).count();
    Ok(Redirect::to(&format!(
        "/absences/classe/{id}?jour={}&demi={}&ok={absent}",
        day.format("%Y-%m-%d"),
        half.code()
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "absences/school.html")]
struct SchoolPage {
    ctx: Ctx,
    school_id: Uuid,
    school_name: String,
    day: String,
    day_iso: String,
    rows: Vec<Absence>,
    notices: Vec<ShownNotice>,
    classes: Vec<Class>,
    month_iso: String,
}

/// The live part of the school's day, refreshed by htmx.
#[derive(Template)]
#[template(path = "absences/school_day.html")]
struct SchoolDay {
    ctx: Ctx,
    rows: Vec<Absence>,
    notices: Vec<ShownNotice>,
}

/// The school's absences of one day, refreshed every half-minute when the page stays open.
async fn school_day(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
    Query(q): Query<DayQuery>,
    headers: axum::http::HeaderMap,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    if !who.actor.may_admin_structure(place(scope, id)) {
        return Err(AppError::NotFound);
    }
    let school = directory::get_structure(&state.db, scope, id).await?;
    let day = day_of(&q)?;
    let rows = absences::of_school_day(&state.db, scope, id, day).await?;
    let ctx = Ctx::signed_in(&who, csrf, "absences-school-title", "/absences")
        .titled(school.name.clone());
    let notices = absences::notices_on(&state.db, scope, id, day)
        .await?
        .into_iter()
        .map(|n| shown_notice(&ctx.t, n))
        .collect();
    if headers.contains_key("hx-request") {
        return Ok(Html(SchoolDay { ctx, rows, notices }.render()?));
    }
    let classes = directory::list_classes(&state.db, scope, id)
        .await?
        .into_iter()
        .filter(|c| !c.archived)
        .collect();
    Ok(Html(
        SchoolPage {
            day: long_day(&ctx.t, day),
            ctx,
            school_id: id,
            school_name: school.name,
            day_iso: day.format("%Y-%m-%d").to_string(),
            month_iso: day.format("%Y-%m").to_string(),
            rows,
            notices,
            classes,
        }
        .render()?,
    ))
}

#[derive(Deserialize, Default)]
struct MonthQuery {
    #[serde(default)]
    mois: Option<String>,
}

/// One pupil's line in the monthly summary.
struct MonthLine {
    name: String,
    /// Per day of the month: "" / "A" / "R", morning then afternoon.
    cells: Vec<(String, String)>,
    absent_halves: usize,
    late: usize,
    unexplained: usize,
}

#[derive(Template)]
#[template(path = "absences/month.html")]
struct MonthPage {
    ctx: Ctx,
    class: Class,
    month_label: String,
    days: Vec<u32>,
    lines: Vec<MonthLine>,
    previous: String,
    next: String,
}

async fn month_page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<Uuid>,
    Query(q): Query<MonthQuery>,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    let class = directory::get_class(&state.db, scope, id).await?;
    if !who
        .actor
        .may_see_class_list(place(scope, class.structure_id), class.id)
    {
        return Err(AppError::NotFound);
    }
    let first = match q.mois.as_deref().filter(|s| !s.is_empty()) {
        None => paris_today(preau_store::now())
            .with_day(1)
            .unwrap_or_default(),
        Some(text) => {
            parse_day(&format!("{text}-01")).ok_or(AppError::BadRequest("absence-error-date"))?
        }
    };
    let next_month = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .unwrap_or(first);
    let last = next_month.pred_opt().unwrap_or(first);
    let previous = first
        .pred_opt()
        .unwrap_or(first)
        .with_day(1)
        .unwrap_or(first);
    let rows = absences::of_class_between(&state.db, scope, class.id, first, last).await?;
    let pupils: Vec<(Uuid, String)> = directory::class_members(&state.db, scope, class.id)
        .await?
        .into_iter()
        .filter(|(_, role)| *role == ClassRole::Eleve)
        .map(|(u, _)| (u.id, format!("{} {}", u.last_name, u.first_name)))
        .collect();
    let days: Vec<u32> = (1..=last.day()).collect();
    let mut lines: Vec<MonthLine> = pupils
        .into_iter()
        .map(|(pupil, name)| {
            let mine: Vec<&Absence> = rows.iter().filter(|a| a.pupil_id == pupil).collect();
            let cell = |day: u32, half: Half| {
                mine.iter()
                    .find(|a| a.day.day() == day && a.half == half)
                    .map_or(String::new(), |a| match a.mark {
                        Mark::Absent => "A".to_owned(),
                        Mark::Late => "R".to_owned(),
                    })
            };
            MonthLine {
                cells: days
                    .iter()
                    .map(|d| (cell(*d, Half::Morning), cell(*d, Half::Afternoon)))
                    .collect(),
                absent_halves: mine.iter().filter(|a| a.mark == Mark::Absent).count(),
                late: mine.iter().filter(|a| a.mark == Mark::Late).count(),
                unexplained: mine
                    .iter()
                    .filter(|a| a.mark == Mark::Absent && !a.explained)
                    .count(),
                name,
            }
        })
        .collect();
    lines.sort_by(|a, b| a.name.cmp(&b.name));
    let ctx = Ctx::signed_in(&who, csrf, "absences-month-title", "/absences");
    let month_label = format!(
        "{} {}",
        ctx.t.get(&format!("month-{}", first.month())),
        first.year()
    );
    Ok(Html(
        MonthPage {
            ctx,
            class,
            month_label,
            days,
            lines,
            previous: previous.format("%Y-%m").to_string(),
            next: next_month.format("%Y-%m").to_string(),
        }
        .render()?,
    ))
}
