//! "Mes notifications": how I am told (e-mail at once, daily digest or never; per topic and
//! channel; SMS for urgent matters), the interface language, and this browser's push
//! subscription. Only ever my own settings.

use crate::AppState;
use crate::context::Ctx;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::notify::push;
use crate::session::SignedIn;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use preau_domain::notify::{Channel, EmailMode, Topic};
use preau_store::notifications::{self, PushSubscription, Settings};
use preau_store::{TenantScope, directory};
use serde::Deserialize;
use uuid::Uuid;

fn scope_of(who: &SignedIn) -> AppResult<TenantScope> {
    who.scope().ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "account/notifications.html")]
struct PrefsPage {
    ctx: Ctx,
    settings: Settings,
    modes: [EmailMode; 3],
    topics: [Topic; 3],
    channels: [Channel; 2],
    email: String,
    mobile: String,
    languages: Vec<String>,
    language: String,
    vapid_key: String,
    saved: bool,
}

impl PrefsPage {
    fn wants(&self, topic: &Topic, channel: &Channel) -> bool {
        !self.settings.muted.contains(&(*topic, *channel))
    }

    fn language_name(&self, code: &str) -> String {
        self.ctx.t.get(&format!("language-{code}"))
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct SavedQuery {
    #[serde(default)]
    ok: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    who: SignedIn,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<SavedQuery>,
) -> AppResult<Html<String>> {
    let scope = scope_of(&who)?;
    let settings = notifications::settings(&state.db, scope, who.user.id).await?;
    let mobile = preau_store::accounts::mobile_of(&state.db, scope, who.user.id)
        .await?
        .unwrap_or_default();
    let pair = push::key_pair(&state.db)
        .await
        .map_err(AppError::Internal)?;
    Ok(Html(
        PrefsPage {
            ctx: Ctx::signed_in(&who, csrf, "notify-prefs-title", "/compte"),
            settings,
            modes: [EmailMode::Immediate, EmailMode::Digest, EmailMode::Off],
            topics: [Topic::Liaison, Topic::Absence, Topic::Message],
            channels: [Channel::Email, Channel::Push],
            email: who.user.email.clone().unwrap_or_default(),
            mobile,
            languages: Tr::languages(),
            language: who.user.language.clone(),
            vapid_key: push::public_key(&pair),
            saved: q.ok.is_some(),
        }
        .render()?,
    ))
}

/// Saves my choices. A form naming another person is refused, not quietly applied to me.
pub(crate) async fn save(
    State(state): State<AppState>,
    who: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(user) = value("user")
        && user.parse::<Uuid>().ok() != Some(who.user.id)
    {
        return Err(AppError::Refused("notify-error-not-yours"));
    }
    let email_mode: EmailMode = value("email_mode")
        .unwrap_or("digest")
        .parse()
        .map_err(|_| AppError::BadRequest("error-400-text"))?;
    let mut muted = Vec::new();
    for topic in [Topic::Liaison, Topic::Absence, Topic::Message] {
        for channel in [Channel::Email, Channel::Push] {
            if value(&format!("c-{}-{}", topic.code(), channel.code())).is_none() {
                muted.push((topic, channel));
            }
        }
    }
    let settings = Settings {
        email_mode,
        sms: value("sms").is_some(),
        muted,
    };
    notifications::save_settings(&state.db, scope, who.user.id, &settings).await?;
    if let Some(language) = value("language") {
        if !Tr::languages().iter().any(|l| l == language) {
            return Err(AppError::BadRequest("error-400-text"));
        }
        directory::set_language(&state.db, scope, who.user.id, language).await?;
    }
    Ok(Redirect::to("/compte/notifications?ok=1").into_response())
}

/// What `PushSubscription.toJSON()` gives.
#[derive(Deserialize)]
pub(crate) struct BrowserSubscription {
    endpoint: String,
    keys: BrowserKeys,
}

#[derive(Deserialize)]
pub(crate) struct BrowserKeys {
    p256dh: String,
    auth: String,
}

/// This browser subscribes to push (JSON from the page's script, CSRF in a header).
pub(crate) async fn subscribe(
    State(state): State<AppState>,
    who: SignedIn,
    Json(body): Json<BrowserSubscription>,
) -> AppResult<Response> {
    let scope = scope_of(&who)?;
    let sub = PushSubscription {
        endpoint: body.endpoint,
        p256dh: body.keys.p256dh,
        auth: body.keys.auth,
    };
    if !push::valid_subscription(&sub) {
        return Err(AppError::BadRequest("notify-error-subscription"));
    }
    notifications::add_push_subscription(&state.db, scope, who.user.id, &sub).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub(crate) struct Unsubscribe {
    endpoint: String,
}

pub(crate) async fn unsubscribe(
    State(state): State<AppState>,
    who: SignedIn,
    Json(body): Json<Unsubscribe>,
) -> AppResult<Response> {
    notifications::remove_push_subscription(&state.db, who.user.id, &body.endpoint).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
