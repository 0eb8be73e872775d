//! Account life: activation codes, passwords, failed sign-in counting, reset links, audit.

use crate::db::{RowExt, parse_code};
use crate::directory::{User, user_from_row};
use crate::error::{StoreError, StoreResult};
use crate::sessions::{new_token, token_hash};
use crate::{Db, TenantScope, now};
use chrono::{DateTime, Duration, Utc};
use preau_domain::AccountState;
use preau_domain::activation::{CODE_VALIDITY_DAYS, code_from_random, normalize_typed_code};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Codes are stored hashed with the user's id, so equal codes of two users differ.
fn code_hash(user_id: Uuid, code: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(user_id.as_bytes());
    h.update(code.as_bytes());
    h.finalize().to_vec()
}

/// Issues a new activation code for a user of this tenant; earlier unused codes stop working.
/// Returns the code in clear, to print or show once.
pub async fn issue_activation_code(
    db: &Db,
    scope: Option<TenantScope>,
    user_id: Uuid,
    issued_by: Option<Uuid>,
) -> StoreResult<(String, DateTime<Utc>)> {
    let mut random = [0u8; 64];
    rand::fill(&mut random);
    let mut bytes = random.into_iter().cycle();
    let code = code_from_random(|| bytes.next().unwrap_or(0));
    let at = now();
    let expires_at = at + Duration::days(CODE_VALIDITY_DAYS);
    in_write_tx!(db, |tx| {
        // Without a scope, only tenant-less accounts (platform operators) qualify.
        let state = sqlx::query(
            "SELECT state FROM users WHERE id = $1 AND (tenant_id = $2 OR ($2 IS NULL AND tenant_id IS NULL))",
        )
            .bind(user_id)
            .bind(scope.map(TenantScope::id))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?
            .text("state")?;
        if parse_code::<AccountState>(&state)? == AccountState::Disabled {
            return Err(StoreError::Invalid("account disabled".into()));
        }
        sqlx::query("DELETE FROM activation_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO activation_codes (code_hash, tenant_id, user_id, expires_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(code_hash(user_id, &code))
        .bind(scope.map(TenantScope::id))
        .bind(user_id)
        .bind(expires_at)
        .bind(issued_by)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    });
    Ok((code, expires_at))
}

/// Why an activation attempt failed; the web layer words each one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationProblem {
    /// Unknown login or wrong code: deliberately not told apart.
    Invalid,
    Expired,
    AlreadyUsed,
    Disabled,
}

/// Checks a login + code pair without using it up (first step of activation).
pub async fn check_activation_code(
    db: &Db,
    login: &str,
    typed_code: &str,
) -> StoreResult<Result<User, ActivationProblem>> {
    let code = normalize_typed_code(typed_code);
    let found = on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", a.code_hash, a.expires_at AS code_expires, a.used_at AS code_used \
             FROM users u LEFT JOIN activation_codes a ON a.user_id = u.id WHERE u.login = $1"
        ))
        .bind(login)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok((
                user_from_row(r)?,
                r.opt_time("code_expires")?,
                r.opt_time("code_used")?,
                r.opt_bytes("code_hash")?,
            ))
        })
        .collect::<StoreResult<Vec<_>>>()?
    });
    let at = now();
    for (user, expires, used, hash) in found {
        if hash.as_deref() != Some(code_hash(user.id, &code).as_slice()) {
            continue;
        }
        return Ok(if user.state == AccountState::Disabled {
            Err(ActivationProblem::Disabled)
        } else if used.is_some() {
            Err(ActivationProblem::AlreadyUsed)
        } else if expires.is_none_or(|e| e <= at) {
            Err(ActivationProblem::Expired)
        } else {
            Ok(user)
        });
    }
    Ok(Err(ActivationProblem::Invalid))
}

/// Uses the code: sets the password, records the charter acceptance, activates the account,
/// all in one transaction; the code cannot be used twice even by two concurrent requests.
pub async fn redeem_activation_code(
    db: &Db,
    login: &str,
    typed_code: &str,
    password_hash: &str,
) -> StoreResult<Result<User, ActivationProblem>> {
    let user = match check_activation_code(db, login, typed_code).await? {
        Ok(user) => user,
        Err(problem) => return Ok(Err(problem)),
    };
    let code = normalize_typed_code(typed_code);
    let at = now();
    let used = in_write_tx!(db, |tx| {
        let marked = sqlx::query(
            "UPDATE activation_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(at)
        .bind(code_hash(user.id, &code))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked == 1 {
            sqlx::query(
                "UPDATE users SET password_hash = $1, state = 'active', charter_accepted_at = $2, \
                 failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $3 AND state <> 'disabled'",
            )
            .bind(password_hash)
            .bind(at)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
        }
        marked == 1
    });
    Ok(if used {
        Ok(User {
            state: AccountState::Active,
            ..user
        })
    } else {
        Err(ActivationProblem::AlreadyUsed)
    })
}

/// What sign-in needs to know about an account.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: Option<String>,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub is_pupil: bool,
}

pub async fn credentials_by_login(db: &Db, login: &str) -> StoreResult<Option<Credentials>> {
    on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", u.password_hash, u.failed_logins, u.locked_until, \
             EXISTS (SELECT 1 FROM user_profiles p WHERE p.user_id = u.id AND p.profile = 'National_ELV') AS is_pupil \
             FROM users u WHERE u.login = $1"
        ))
        .bind(login)
        .fetch_optional(c)
        .await?
        .map(|r| {
            Ok(Credentials {
                user: user_from_row(&r)?,
                password_hash: r.opt_text("password_hash")?,
                failed_logins: r.int("failed_logins")?,
                locked_until: r.opt_time("locked_until")?,
                is_pupil: r.flag("is_pupil")?,
            })
        })
        .transpose()
    })
}

/// Failed attempts allowed before the account locks for a while.
pub const FREE_FAILURES: i64 = 5;

/// Lock length after `failures` consecutive failures: 1, 2, 4… minutes, at most 30.
pub fn lock_duration(failures: i64) -> Option<Duration> {
    (failures >= FREE_FAILURES).then(|| {
        let exponent = (failures - FREE_FAILURES).min(5) as u32;
        Duration::minutes(2i64.pow(exponent).min(30))
    })
}

/// Counts a failed sign-in; returns the lock end if the account is now locked.
pub async fn record_failed_login(db: &Db, user_id: Uuid) -> StoreResult<Option<DateTime<Utc>>> {
    let at = now();
    Ok(in_write_tx!(db, |tx| {
        let failures = sqlx::query("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?
            .int("failed_logins")?;
        let locked_until = lock_duration(failures).map(|d| at + d);
        if let Some(until) = locked_until {
            sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
                .bind(until)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        locked_until
    }))
}

/// After a successful sign-in: clears the failure count, and stores a re-computed hash
/// when the stored one used older parameters.
pub async fn record_successful_login(
    db: &Db,
    user_id: Uuid,
    new_hash: Option<&str>,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, \
             password_hash = COALESCE($1, password_hash) WHERE id = $2",
        )
        .bind(new_hash)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

/// Sets a password chosen by the user or, for pupils, by their teacher; ends every session.
pub async fn set_password(db: &Db, user_id: Uuid, password_hash: &str) -> StoreResult<()> {
    let at = now();
    in_write_tx!(db, |tx| {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL, updated_at = $2 \
             WHERE id = $3 AND state <> 'disabled'",
        )
        .bind(password_hash)
        .bind(at)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// Validity of a password-reset link.
pub const RESET_VALIDITY_MINUTES: i64 = 60;

/// Creates a single-use reset link token for an active account with an e-mail address.
pub async fn create_password_reset(db: &Db, user_id: Uuid) -> StoreResult<String> {
    let token = new_token();
    let at = now();
    in_write_tx!(db, |tx| {
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token))
            .bind(user_id)
            .bind(at + Duration::minutes(RESET_VALIDITY_MINUTES))
            .bind(at)
            .execute(&mut *tx)
            .await?;
    });
    Ok(token)
}

/// The account a live reset token belongs to, if any.
pub async fn password_reset_user(db: &Db, token: &str) -> StoreResult<Option<User>> {
    on_read!(db, |c| {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM password_resets r JOIN users u ON u.id = r.user_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND u.state = 'active'"
        ))
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(c)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    })
}

/// Uses a reset token and sets the new password; false when the token is no longer valid.
pub async fn consume_password_reset(
    db: &Db,
    token: &str,
    password_hash: &str,
) -> StoreResult<bool> {
    let Some(user) = password_reset_user(db, token).await? else {
        return Ok(false);
    };
    let at = now();
    let used = in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(at)
        .bind(token_hash(token))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1
    });
    if used {
        set_password(db, user.id, password_hash).await?;
    }
    Ok(used)
}

/// Appends to the audit log (who did what to whom).
pub async fn audit(
    db: &Db,
    tenant_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    action: &str,
    target_id: Option<Uuid>,
    detail: &str,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        audit_in!(tx, tenant_id, actor_id, action, target_id, detail);
    });
    Ok(())
}

/// Number of audit entries for an action (operator diagnostics and tests).
pub async fn count_audit(db: &Db, action: &str) -> StoreResult<i64> {
    on_read!(db, |c| {
        sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = $1")
            .bind(action)
            .fetch_one(c)
            .await?
            .int("n")
    })
}

/// The mobile number the directory gave for a person (SMS go there).
pub async fn mobile_of(db: &Db, scope: TenantScope, user: Uuid) -> StoreResult<Option<String>> {
    Ok(on_read!(db, |c| {
        sqlx::query("SELECT mobile FROM users WHERE id = $1 AND tenant_id = $2")
            .bind(user)
            .bind(scope.id())
            .fetch_optional(c)
            .await?
            .map(|r| r.opt_text("mobile"))
            .transpose()?
            .flatten()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_and_cap() {
        assert_eq!(lock_duration(4), None);
        assert_eq!(lock_duration(5), Some(Duration::minutes(1)));
        assert_eq!(lock_duration(7), Some(Duration::minutes(4)));
        assert_eq!(lock_duration(40), Some(Duration::minutes(30)));
    }
}
