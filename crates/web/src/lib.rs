//! Préau over HTTP: axum routes, session and role extractors, CSRF, templates, assets.

pub mod absences;
pub mod account;
mod actor_cache;
pub mod admin;
pub mod api;
mod assets;
pub mod auth;
pub mod chat;
pub mod config;
pub mod context;
pub mod csrf;
pub mod error;
pub mod home;
pub mod i18n;
pub mod import;
pub mod liaison;
pub mod lifecycle;
pub mod mail;
pub mod messages;
pub mod notify;
pub mod pages;
pub mod reach_cache;
pub mod security;
pub mod session;
pub mod throttle;

use axum::Router;
use axum::routing::get;
use config::WebConfig;
use mail::Mailer;
use preau_store::Db;
use std::sync::Arc;
use std::time::Duration;
use throttle::IpFailures;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Password-reset e-mails one address may ask for per window.
pub const RESET_REQUESTS_PER_WINDOW: u32 = 30;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub mailer: Arc<dyn Mailer>,
    pub ip_failures: Arc<IpFailures>,
    /// Reset e-mails asked per address: counted apart, so asking for links cannot lock a
    /// whole school's network out of signing in.
    pub reset_requests: Arc<IpFailures>,
    pub actors: Arc<actor_cache::ActorCache>,
    pub reach: Arc<reach_cache::ReachCache>,
    /// Conversations with a new chat message, for the live streams of their members.
    pub chat_events: tokio::sync::broadcast::Sender<uuid::Uuid>,
    /// Wakes the jobs worker when work is due now.
    pub jobs_wake: Arc<tokio::sync::Notify>,
    pub sms: Arc<dyn notify::sms::SmsSender>,
    /// SMS per tenant per minute, whatever the budget says (a runaway loop stops here).
    pub sms_rate: Arc<SmsRate>,
    /// Outgoing HTTP (web push, SMS provider).
    pub http: reqwest::Client,
}

pub type SmsRate = governor::RateLimiter<
    uuid::Uuid,
    governor::state::keyed::DefaultKeyedStateStore<uuid::Uuid>,
    governor::clock::DefaultClock,
>;

impl AppState {
    pub fn new(db: Db, config: WebConfig, mailer: Arc<dyn Mailer>) -> Self {
        let window = config.ip_failure_window;
        let config_sms_per_minute = config.sms_per_minute;
        let ip_failures = Arc::new(IpFailures::new(config.ip_failure_limit, window));
        Self {
            db,
            config: Arc::new(config),
            mailer,
            ip_failures,
            reset_requests: Arc::new(IpFailures::new(RESET_REQUESTS_PER_WINDOW, window)),
            actors: Arc::default(),
            reach: Arc::default(),
            chat_events: tokio::sync::broadcast::channel(1024).0,
            jobs_wake: Arc::default(),
            sms: Arc::new(notify::sms::LogSms),
            sms_rate: Arc::new(governor::RateLimiter::keyed(governor::Quota::per_minute(
                std::num::NonZeroU32::new(config_sms_per_minute)
                    .unwrap_or(std::num::NonZeroU32::MIN),
            ))),
            http: notify::http_client(),
        }
    }

    /// Sends SMS through `sms` instead of the log.
    pub fn with_sms(mut self, sms: Arc<dyn notify::sms::SmsSender>) -> Self {
        self.sms = sms;
        self
    }
}

/// The whole application router, with its security layers.
pub fn router(state: AppState) -> Router {
    // axum's own 2 MB default for multipart would cut uploads short of the configured limit.
    let uploads = import::upload_routes()
        .merge(messages::upload_routes())
        .merge(liaison::upload_routes())
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config.upload_limit_bytes,
        ))
        .layer(RequestBodyLimitLayer::new(state.config.upload_limit_bytes));
    Router::new()
        .merge(home::routes())
        .merge(import::routes())
        .merge(auth::routes())
        .merge(account::routes())
        .merge(messages::routes())
        .merge(api::routes())
        .merge(chat::routes())
        .merge(liaison::routes())
        .merge(absences::routes())
        .merge(admin::routes())
        .merge(pages::routes())
        .route("/healthz", get(healthz))
        .merge(assets::routes())
        .layer(RequestBodyLimitLayer::new(state.config.body_limit_bytes))
        .merge(uploads)
        .fallback(error::not_found_page)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::protect,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(axum::middleware::from_fn(security::request_id))
        .with_state(state)
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::http::StatusCode {
    if state.db.ping().await {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    }
}
