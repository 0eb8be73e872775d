//! Password policy after CNIL délibération 2022-100.
//!
//! Adults: a password alone must reach ≈ 80 bits (12 characters of 4 classes, or 14 of
//! upper/lower/digits, or a long passphrase). Pupils: sign-in is throttled and accounts lock
//! temporarily, which allows the ≈ 50-bit case (8 characters with 3 classes).

/// Longest accepted password, to bound hashing cost.
pub const MAX_LENGTH: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    Adult,
    Pupil,
}

/// Why a password was refused; each maps to a French message in the i18n catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("password-too-short")]
    TooShort { min: usize },
    #[error("password-too-long")]
    TooLong,
    #[error("password-too-simple")]
    TooSimple,
    #[error("password-contains-login")]
    ContainsLogin,
    #[error("password-mismatch")]
    Mismatch,
}

impl PasswordProblem {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::TooShort { .. } => "password-too-short",
            Self::TooLong => "password-too-long",
            Self::TooSimple => "password-too-simple",
            Self::ContainsLogin => "password-contains-login",
            Self::Mismatch => "password-mismatch",
        }
    }
}

/// Character classes present: lower, upper, digit, other.
fn classes(password: &str) -> (bool, bool, bool, bool) {
    let mut c = (false, false, false, false);
    for ch in password.chars() {
        if ch.is_lowercase() {
            c.0 = true;
        } else if ch.is_uppercase() {
            c.1 = true;
        } else if ch.is_ascii_digit() {
            c.2 = true;
        } else {
            c.3 = true;
        }
    }
    c
}

fn words(password: &str) -> usize {
    password
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .count()
}

pub fn min_length(kind: PolicyKind) -> usize {
    match kind {
        PolicyKind::Adult => 12,
        PolicyKind::Pupil => 8,
    }
}

/// Checks a new password against the policy of the account's kind.
pub fn check(kind: PolicyKind, password: &str, login: &str) -> Result<(), PasswordProblem> {
    let length = password.chars().count();
    let min = min_length(kind);
    if length < min {
        return Err(PasswordProblem::TooShort { min });
    }
    if length > MAX_LENGTH {
        return Err(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    let login_part = login.split('.').next().unwrap_or(login);
    if login_part.len() >= 3 && lower.contains(&login_part.to_lowercase()) {
        return Err(PasswordProblem::ContainsLogin);
    }
    let (lo, up, digit, other) = classes(password);
    let class_count = [lo, up, digit, other].into_iter().filter(|c| *c).count();
    let distinct = {
        let mut chars: Vec<char> = password.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        chars.len()
    };
    if distinct < length.min(min) / 2 {
        return Err(PasswordProblem::TooSimple);
    }
    let strong_enough = match kind {
        PolicyKind::Adult => {
            (length >= 12 && class_count == 4)
                || (length >= 14 && class_count >= 3)
                || (length >= 20 && words(password) >= 4)
        }
        PolicyKind::Pupil => {
            (length >= 8 && class_count >= 3) || (length >= 12 && class_count >= 2)
        }
    };
    if strong_enough {
        Ok(())
    } else {
        Err(PasswordProblem::TooSimple)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adult_policy_follows_cnil_examples() {
        let k = PolicyKind::Adult;
        assert_eq!(
            check(k, "Court1!", "a.b"),
            Err(PasswordProblem::TooShort { min: 12 })
        );
        assert!(check(k, "Abcdef1!xyzw", "a.b").is_ok());
        assert!(check(k, "Abcdefgh12345x", "a.b").is_ok());
        assert_eq!(
            check(k, "abcdefghijklmn", "a.b"),
            Err(PasswordProblem::TooSimple)
        );
        assert!(check(k, "cheval agrafe batterie correcte", "a.b").is_ok());
        assert_eq!(
            check(k, "Camille-2026-Secret!", "camille.martin"),
            Err(PasswordProblem::ContainsLogin)
        );
        assert_eq!(
            check(k, "aaaaaaaaaaaaA1!", "x.y"),
            Err(PasswordProblem::TooSimple)
        );
    }

    #[test]
    fn pupil_policy_is_shorter() {
        let k = PolicyKind::Pupil;
        assert!(check(k, "Soleil42", "lea.martin").is_ok());
        assert_eq!(
            check(k, "soleil", "lea.martin"),
            Err(PasswordProblem::TooShort { min: 8 })
        );
        assert_eq!(
            check(k, "soleilsoleil", "x.y"),
            Err(PasswordProblem::TooSimple)
        );
    }
}
