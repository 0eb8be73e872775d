//! Web push (RFC 8030 with VAPID, RFC 8291 encryption) to the browsers people subscribed
//! from the installable web app. The VAPID key pair is generated once per platform and kept
//! in the database, so every server of a deployment signs with the same key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use preau_store::Db;
use preau_store::notifications::{self, PushSubscription};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::p256::PublicKey;
use web_push_native::{Auth, WebPushBuilder};

const VAPID_SETTING: &str = "vapid_private_key";

/// The platform's VAPID key pair.
pub async fn key_pair(db: &Db) -> Result<ES256KeyPair, String> {
    let stored = notifications::platform_value(db, VAPID_SETTING, || {
        URL_SAFE_NO_PAD.encode(ES256KeyPair::generate().to_bytes())
    })
    .await
    .map_err(|e| e.to_string())?;
    let bytes = URL_SAFE_NO_PAD.decode(stored).map_err(|e| e.to_string())?;
    ES256KeyPair::from_bytes(&bytes).map_err(|e| e.to_string())
}

/// The public key browsers subscribe with (`applicationServerKey`), base64url.
pub fn public_key(pair: &ES256KeyPair) -> String {
    URL_SAFE_NO_PAD.encode(pair.public_key().public_key().to_bytes_uncompressed())
}

/// Checks a subscription a browser sent before keeping it.
pub fn valid_subscription(sub: &PushSubscription) -> bool {
    let key_ok = URL_SAFE_NO_PAD
        .decode(sub.p256dh.trim_end_matches('='))
        .ok()
        .is_some_and(|k| PublicKey::from_sec1_bytes(&k).is_ok());
    let auth_ok = URL_SAFE_NO_PAD
        .decode(sub.auth.trim_end_matches('='))
        .is_ok_and(|a| a.len() == 16);
    let endpoint_ok = sub.endpoint.starts_with("https://")
        || sub.endpoint.starts_with("http://127.0.0.1")
        || sub.endpoint.starts_with("http://localhost");
    key_ok && auth_ok && endpoint_ok && sub.endpoint.len() <= 1000
}

/// What happened to one push.
pub enum Outcome {
    Sent,
    /// The push service says the subscription is gone: forget it.
    Gone,
}

/// Encrypts `payload` for one subscription and posts it to its push service.
pub async fn send(
    client: &reqwest::Client,
    pair: &ES256KeyPair,
    contact: &str,
    sub: &PushSubscription,
    payload: &[u8],
) -> Result<Outcome, String> {
    let ua_public = URL_SAFE_NO_PAD
        .decode(sub.p256dh.trim_end_matches('='))
        .map_err(|e| e.to_string())
        .and_then(|k| PublicKey::from_sec1_bytes(&k).map_err(|e| e.to_string()))?;
    let auth = URL_SAFE_NO_PAD
        .decode(sub.auth.trim_end_matches('='))
        .map_err(|e| e.to_string())?;
    if auth.len() != 16 {
        return Err("auth secret length".into());
    }
    let request = WebPushBuilder::new(
        sub.endpoint
            .parse()
            .map_err(|e: axum::http::uri::InvalidUri| e.to_string())?,
        ua_public,
        {
            let mut secret = Auth::default();
            secret.copy_from_slice(&auth);
            secret
        },
    )
    .with_valid_duration(std::time::Duration::from_secs(24 * 3600))
    .with_vapid(pair, contact)
    .build(payload.to_vec())
    .map_err(|e| e.to_string())?;
    let (parts, body) = request.into_parts();
    let mut out = client.post(parts.uri.to_string()).body(body);
    for (name, value) in &parts.headers {
        out = out.header(name.as_str(), value.as_bytes());
    }
    out = out.header("Urgency", "normal");
    let response = out.send().await.map_err(|e| e.to_string())?;
    match response.status().as_u16() {
        200..=299 => Ok(Outcome::Sent),
        404 | 410 => Ok(Outcome::Gone),
        status => Err(format!("push service answered {status}")),
    }
}
