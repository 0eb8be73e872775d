//! Cahier de liaison rules: who a mot goes to, what it may hold, the languages it may be
//! written in, and the limits that keep urgent mots (sent by SMS) rare.

use chrono::Duration;

crate::directory::code_enum!(
    /// How a mot's pupils were chosen.
    Audience {
        School => "school",
        Classes => "classes",
        Pupils => "pupils",
    }
);

impl Audience {
    pub fn label_key(self) -> &'static str {
        match self {
            Audience::School => "liaison-audience-school",
            Audience::Classes => "liaison-audience-classes",
            Audience::Pupils => "liaison-audience-pupils",
        }
    }
}

pub const MAX_TITLE_CHARS: usize = 150;
pub const MAX_BODY_CHARS: usize = 10_000;
pub const MAX_REPLY_CHARS: usize = 2_000;
/// Urgent mots one author may post per day: each may send an SMS to every family.
pub const URGENT_PER_DAY: i64 = 3;
/// A reminder to the families who have not signed, at most this often per mot.
pub fn reminder_interval() -> Duration {
    Duration::hours(1)
}
/// How far ahead a mot may be scheduled.
pub fn furthest_schedule() -> Duration {
    Duration::days(120)
}

/// Languages a mot may be written in: (BCP 47 code, name in that language, right to left).
/// The languages families most often read in French primary schools.
pub const LANGUAGES: &[(&str, &str, bool)] = &[
    ("fr", "Français", false),
    ("en", "English", false),
    ("ar", "العربية", true),
    ("es", "Español", false),
    ("pt", "Português", false),
    ("it", "Italiano", false),
    ("de", "Deutsch", false),
    ("tr", "Türkçe", false),
    ("ro", "Română", false),
    ("pl", "Polski", false),
    ("uk", "Українська", false),
    ("ru", "Русский", false),
    ("zh", "中文", false),
    ("vi", "Tiếng Việt", false),
];

pub fn is_language(code: &str) -> bool {
    LANGUAGES.iter().any(|(c, _, _)| *c == code)
}

pub fn is_right_to_left(code: &str) -> bool {
    LANGUAGES.iter().any(|(c, _, rtl)| *c == code && *rtl)
}

/// What makes a mot unfit to post, as the i18n key of the message shown.
pub fn check_mot(title: &str, body: &str, language: &str) -> Result<(), &'static str> {
    let title_chars = title.trim().chars().count();
    if title_chars == 0 {
        return Err("liaison-error-title");
    }
    if title_chars > MAX_TITLE_CHARS {
        return Err("liaison-error-title-long");
    }
    let body_chars = body.trim().chars().count();
    if body_chars == 0 {
        return Err("liaison-error-body");
    }
    if body_chars > MAX_BODY_CHARS {
        return Err("liaison-error-body-long");
    }
    if !is_language(language) {
        return Err("liaison-error-language");
    }
    Ok(())
}

pub fn check_reply(body: &str) -> Result<(), &'static str> {
    let n = body.trim().chars().count();
    if n == 0 {
        Err("liaison-error-reply-empty")
    } else if n > MAX_REPLY_CHARS {
        Err("liaison-error-reply-long")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mot_needs_a_title_a_body_and_a_known_language() {
        assert_eq!(check_mot("Sortie", "Vendredi", "fr"), Ok(()));
        assert_eq!(
            check_mot("  ", "Vendredi", "fr"),
            Err("liaison-error-title")
        );
        assert_eq!(check_mot("Sortie", "", "fr"), Err("liaison-error-body"));
        assert_eq!(
            check_mot(&"x".repeat(MAX_TITLE_CHARS + 1), "b", "fr"),
            Err("liaison-error-title-long")
        );
        assert_eq!(
            check_mot("Sortie", "Vendredi", "xx"),
            Err("liaison-error-language")
        );
        assert!(is_right_to_left("ar"));
        assert!(!is_right_to_left("fr"));
    }

    #[test]
    fn replies_are_short_and_not_empty() {
        assert!(check_reply("Merci").is_ok());
        assert_eq!(check_reply(" \n"), Err("liaison-error-reply-empty"));
        assert_eq!(
            check_reply(&"é".repeat(MAX_REPLY_CHARS + 1)),
            Err("liaison-error-reply-long")
        );
    }
}
