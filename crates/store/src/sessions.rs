//! Server-side sessions. The cookie carries a random token; only its SHA-256 is stored,
//! so a database leak does not leak usable sessions.

use crate::db::RowExt;
use crate::directory::{User, user_from_row};
use crate::error::StoreResult;
use crate::{Db, now};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// Signed out after this long without a request.
    pub idle: Duration,
    /// Signed out this long after sign-in, whatever the activity.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::hours(2),
            absolute: Duration::hours(12),
        }
    }
}

/// Seconds between two `last_seen_at` writes of one session: reads stay reads.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// A fresh unguessable token (256 bits from the OS CSPRNG), as put in a cookie.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A live session and its user, as found from a cookie.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub token_hash: Vec<u8>,
    pub user: User,
    pub last_seen_at: DateTime<Utc>,
    /// The tenant's directory version: rights cached under another version are stale.
    pub directory_version: i64,
}

/// Opens a session for the user; returns the token to put in the cookie.
pub async fn create(
    db: &Db,
    user_id: Uuid,
    user_agent: &str,
    ip: &str,
    policy: SessionPolicy,
) -> StoreResult<String> {
    let token = new_token();
    let at = now();
    let user_agent: String = user_agent.chars().take(200).collect();
    in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, user_agent, ip) \
             VALUES ($1, $2, $3, $3, $4, $5, $6)",
        )
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(at)
        .bind(at + policy.absolute)
        .bind(&user_agent)
        .bind(ip)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(at)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    });
    Ok(token)
}

/// Finds the live session of a token: not expired, not idle too long, account active.
/// Refreshes `last_seen_at` at most once a minute.
pub async fn lookup(
    db: &Db,
    token: &str,
    policy: SessionPolicy,
) -> StoreResult<Option<SessionUser>> {
    let hash = token_hash(token);
    let at = now();
    let found = on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", s.last_seen_at AS session_seen, COALESCE(t.directory_version, 0) AS directory_version \
             FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN tenants t ON t.id = u.tenant_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.state = 'active'"
        ))
        .bind(&hash)
        .bind(at)
        .bind(at - policy.idle)
        .fetch_optional(c)
        .await?
        .map(|r| -> StoreResult<SessionUser> {
            Ok(SessionUser {
                token_hash: hash.clone(),
                user: user_from_row(&r)?,
                last_seen_at: r.time("session_seen")?,
                directory_version: r.int("directory_version")?,
            })
        })
        .transpose()?
    });
    if let Some(session) = found
        .as_ref()
        .filter(|s| (at - s.last_seen_at).num_seconds() >= TOUCH_EVERY_SECONDS)
    {
        in_write_tx!(db, |tx| {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(at)
                .bind(&session.token_hash)
                .execute(&mut *tx)
                .await?;
        });
    }
    Ok(found)
}

/// One of a user's sessions, as listed on "Mes sessions".
#[derive(Clone, Debug)]
pub struct SessionInfo {
    /// Public handle: hex of the token hash (not the token).
    pub handle: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub user_agent: String,
    pub ip: String,
}

pub fn handle_of(hash: &[u8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn list_for_user(db: &Db, user_id: Uuid) -> StoreResult<Vec<SessionInfo>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT token_hash, created_at, last_seen_at, user_agent, ip FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC",
        )
        .bind(user_id)
        .bind(now())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(SessionInfo {
                handle: handle_of(&r.bytes("token_hash")?),
                created_at: r.time("created_at")?,
                last_seen_at: r.time("last_seen_at")?,
                user_agent: r.text("user_agent")?,
                ip: r.text("ip")?,
            })
        })
        .collect()
    })
}

/// Ends one of the user's own sessions, named by its handle. Returns whether one was found.
pub async fn revoke(db: &Db, user_id: Uuid, handle: &str) -> StoreResult<bool> {
    let Some(hash) = parse_handle(handle) else {
        return Ok(false);
    };
    let deleted = in_write_tx!(db, |tx| {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 AND user_id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
    });
    Ok(deleted > 0)
}

fn parse_handle(handle: &str) -> Option<Vec<u8>> {
    if handle.len() != 64 {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(handle.get(i * 2..i * 2 + 2)?, 16).ok())
        .collect()
}

/// Signs out the session of this token (sign-out button).
pub async fn delete(db: &Db, token: &str) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// Ends every session of a user (after a password change or a deactivation).
pub async fn revoke_all(db: &Db, user_id: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// Removes sessions past their absolute or idle expiry.
pub async fn purge_expired(db: &Db, policy: SessionPolicy) -> StoreResult<u64> {
    let at = now();
    Ok(in_write_tx!(db, |tx| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(at)
            .bind(at - policy.idle)
            .execute(&mut *tx)
            .await?
            .rows_affected()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_handles_round_trip() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token());
        let hash = token_hash(&a);
        assert_eq!(parse_handle(&handle_of(&hash)), Some(hash));
        assert_eq!(parse_handle("zz"), None);
    }
}
