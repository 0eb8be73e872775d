//! The portal home `/`: who I am, my children (one at a time), my classes, my services.

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::session::SignedIn;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use preau_domain::services::{Service, services_for};
use preau_domain::{ClassRole, NationalProfile};
use preau_store::directory::{self, ChildSummary, Class, Place};
use serde::Deserialize;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    ctx: Ctx,
    first_name: String,
    login: String,
    places: Vec<Place>,
    profile_keys: Vec<&'static str>,
    children: Vec<ChildSummary>,
    selected: Option<ChildSummary>,
    classes: Vec<(Class, ClassRole)>,
    services: Vec<Service>,
    /// Recent notifications: (notification, date shown, label key of its kind).
    news: Vec<(
        preau_store::notifications::Notification,
        String,
        &'static str,
    )>,
}

#[derive(Deserialize)]
pub struct HomeQuery {
    /// The child shown, for guardians of several children.
    #[serde(default)]
    enfant: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<HomeQuery>,
) -> AppResult<Html<String>> {
    let actor = &who.actor;
    // Asking for a child who is not one's own gets the same answer as a child who does not exist.
    let wanted: Option<Uuid> = match q.enfant.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match text.parse::<Uuid>() {
            Ok(id) if actor.is_guardian_of(id) => Some(id),
            _ => return Err(AppError::NotFound),
        },
    };
    let mut profile_keys: Vec<&'static str> =
        actor.profiles.iter().map(|(_, p)| p.label_key()).collect();
    profile_keys.dedup();
    let (mut places, mut children, mut classes) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(scope) = who.scope() {
        if !actor.children.is_empty() {
            children = directory::children_of(&state.db, scope, who.user.id).await?;
        }
        // A parent's schools are shown through the children; others see where they work or learn.
        if actor
            .profiles
            .iter()
            .any(|(_, p)| *p != NationalProfile::Tuteur)
        {
            places = directory::places_of_user(&state.db, scope, who.user.id).await?;
            places.retain(|p| p.profile != NationalProfile::Tuteur);
            if actor.has_profile(NationalProfile::Eleve) || !actor.taught_classes.is_empty() {
                classes = directory::classes_of_user(&state.db, scope, who.user.id).await?;
            }
        }
    }
    let selected = match wanted {
        Some(id) => children.iter().find(|c| c.id == id).cloned(),
        None => children.first().cloned(),
    };
    let (news, unread) = match who.scope() {
        Some(scope) => {
            let news = preau_store::notifications::recent(&state.db, scope, who.user.id, 8)
                .await?
                .into_iter()
                .map(|n| {
                    let at = preau_domain::time::format_paris(n.created_at);
                    let key = match n.kind.as_str() {
                        "message" => "news-message",
                        "message_flood" => "news-flood",
                        "liaison" => "news-liaison",
                        "liaison_reminder" => "news-liaison-reminder",
                        "liaison_reply" => "news-liaison-reply",
                        "absence" => "news-absence",
                        "absence_notice" => "news-absence-notice",
                        _ => "news-other",
                    };
                    (n, at, key)
                })
                .collect::<Vec<_>>();
            let unread =
                preau_store::notifications::unread_count(&state.db, scope, who.user.id).await?;
            (news, unread)
        }
        None => (Vec::new(), 0),
    };
    let page = HomePage {
        ctx: Ctx::signed_in(&who, csrf, "home-title", "/").with_unread(unread),
        news,
        first_name: who.user.first_name.clone(),
        login: who.user.login.clone(),
        places,
        profile_keys,
        children,
        selected,
        classes,
        services: services_for(actor),
    };
    Ok(Html(page.render()?))
}
