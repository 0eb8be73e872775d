//! Who is asking: the session cookie, looked up once per request, and role extractors
//! so a handler states in its signature who may call it.

use crate::AppState;
use crate::csrf::read_cookie;
use crate::error::AppError;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use preau_domain::access::Actor;
use preau_store::TenantScope;
use preau_store::directory::User;
use std::net::{IpAddr, SocketAddr};

pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-preau_session"
    } else {
        "preau_session"
    }
}

/// `Set-Cookie` value opening a session.
pub fn session_cookie(https: bool, token: &str) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}",
        cookie_name(https)
    )
}

/// `Set-Cookie` value removing the session cookie.
pub fn clear_session_cookie(https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(https)
    )
}

/// A signed-in user with their rights.
#[derive(Clone)]
pub struct SignedIn {
    pub user: User,
    pub actor: Actor,
    pub token: String,
    /// The tenant's directory version at this request (cache keys).
    pub directory_version: i64,
}

impl SignedIn {
    /// The tenant scope of this user's own tenant (none for platform operators).
    pub fn scope(&self) -> Option<TenantScope> {
        self.user.tenant_id.map(TenantScope)
    }
}

/// The session of this request, if any (cached in the request extensions).
#[derive(Clone)]
pub struct MaybeSignedIn(pub Option<SignedIn>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSignedIn
where
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(cached) = parts.extensions.get::<MaybeSignedIn>() {
            return Ok(cached.clone());
        }
        let app = AppState::from_ref(state);
        let https = app.config.is_https();
        let found = match read_cookie(&parts.headers, cookie_name(https)) {
            Some(token) if token.len() == 43 => {
                match preau_store::sessions::lookup(&app.db, token, app.config.session).await? {
                    Some(session) => {
                        let version = session.directory_version;
                        let actor = match app.actors.get(session.user.id, version) {
                            Some(actor) => actor,
                            None => {
                                let actor =
                                    preau_store::actor::load(&app.db, &session.user).await?;
                                app.actors.put(session.user.id, version, actor.clone());
                                actor
                            }
                        };
                        Some(SignedIn {
                            user: session.user,
                            actor,
                            token: token.to_owned(),
                            directory_version: version,
                        })
                    }
                    None => None,
                }
            }
            _ => None,
        };
        let result = MaybeSignedIn(found);
        parts.extensions.insert(result.clone());
        Ok(result)
    }
}

/// Sends people who are not signed in to the sign-in page.
pub struct ToLogin;

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to("/auth/login").into_response()
    }
}

pub enum SignInRejection {
    ToLogin,
    Error(AppError),
}

impl IntoResponse for SignInRejection {
    fn into_response(self) -> Response {
        match self {
            Self::ToLogin => ToLogin.into_response(),
            Self::Error(e) => e.into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn
where
    AppState: FromRef<S>,
{
    type Rejection = SignInRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match MaybeSignedIn::from_request_parts(parts, state).await {
            Ok(MaybeSignedIn(Some(who))) => Ok(who),
            Ok(MaybeSignedIn(None)) => Err(SignInRejection::ToLogin),
            Err(e) => Err(SignInRejection::Error(e)),
        }
    }
}

/// Someone who may use at least one administration page (operator, tenant admin, directeur).
/// Each page still checks the object at hand.
pub struct Administrator(pub SignedIn);

impl<S: Send + Sync> FromRequestParts<S> for Administrator
where
    AppState: FromRef<S>,
{
    type Rejection = SignInRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let who = SignedIn::from_request_parts(parts, state).await?;
        if who.actor.may_use_admin() {
            Ok(Self(who))
        } else {
            Err(SignInRejection::Error(AppError::Forbidden))
        }
    }
}

/// A platform operator.
pub struct Operator(pub SignedIn);

impl<S: Send + Sync> FromRequestParts<S> for Operator
where
    AppState: FromRef<S>,
{
    type Rejection = SignInRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let who = SignedIn::from_request_parts(parts, state).await?;
        if who.actor.may_admin_platform() {
            Ok(Self(who))
        } else {
            Err(SignInRejection::Error(AppError::Forbidden))
        }
    }
}

/// Someone who teaches at least one class.
pub struct Teacher(pub SignedIn);

impl<S: Send + Sync> FromRequestParts<S> for Teacher
where
    AppState: FromRef<S>,
{
    type Rejection = SignInRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let who = SignedIn::from_request_parts(parts, state).await?;
        if who.actor.taught_classes.is_empty() {
            Err(SignInRejection::Error(AppError::Forbidden))
        } else {
            Ok(Self(who))
        }
    }
}

/// The client's address: the socket peer, or the proxy's `X-Forwarded-For` when trusted.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        if app.config.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next_back())
                .and_then(|v| v.trim().parse().ok());
            if let Some(ip) = forwarded {
                return Ok(Self(ip));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        Ok(Self(peer))
    }
}
