//! How people are told: channels, preferences, and quiet hours for families (nothing pushed
//! between 20:00 and 07:00 nor at weekends unless urgent; what was held goes out at the
//! school's chosen time, spread over minutes).

use crate::chat::ChatHours;
use crate::time::to_paris;
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use uuid::Uuid;

crate::directory::code_enum!(
    /// How e-mail is sent to one person.
    EmailMode {
        Immediate => "immediate",
        Digest => "digest",
        Off => "off",
    }
);

crate::directory::code_enum!(
    /// Ways of reaching someone outside the ENT.
    Channel {
        Email => "email",
        Push => "push",
        Sms => "sms",
    }
);

crate::directory::code_enum!(
    /// What notifications are about, as people choose channels for them.
    Topic {
        Liaison => "liaison",
        Absence => "absence",
        Message => "message",
    }
);

impl Topic {
    /// The topic of a notification kind (`liaison_reminder` is about liaison).
    pub fn of_kind(kind: &str) -> Topic {
        match kind.split('_').next() {
            Some("liaison") => Topic::Liaison,
            Some("absence") => Topic::Absence,
            _ => Topic::Message,
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Topic::Liaison => "notify-topic-liaison",
            Topic::Absence => "notify-topic-absence",
            Topic::Message => "notify-topic-message",
        }
    }
}

/// Families may be reached from this time on weekdays…
pub fn quiet_ends() -> NaiveTime {
    NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default()
}

/// …and until this one.
pub fn quiet_starts() -> NaiveTime {
    NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default()
}

/// A school's release time must fall in the hours families may be reached.
pub fn valid_release_time(at: NaiveTime) -> bool {
    at >= quiet_ends() && at < quiet_starts()
}

/// Longest spread of a school's held notifications.
pub const MAX_SPREAD_MINUTES: i64 = 120;

/// When one notification may be pushed to a family member: now if urgent or within the
/// hours, else at the school's next release time plus this person's place in the spread
/// (stable per person, so one family's notifications leave together).
pub fn family_push_time(
    now: DateTime<Utc>,
    urgent: bool,
    release_at: NaiveTime,
    spread_minutes: i64,
    person: Uuid,
) -> DateTime<Utc> {
    let local = to_paris(now);
    let weekday = !matches!(local.date().weekday(), Weekday::Sat | Weekday::Sun);
    if urgent || (weekday && local.time() >= quiet_ends() && local.time() < quiet_starts()) {
        return now;
    }
    let release = ChatHours {
        opens: release_at,
        closes: quiet_starts(),
    }
    .delivery(now);
    let spread_seconds = (spread_minutes.clamp(0, MAX_SPREAD_MINUTES) * 60) as u128;
    let offset = if spread_seconds == 0 {
        0
    } else {
        person.as_u128() % spread_seconds
    };
    release + Duration::seconds(offset as i64)
}

/// SMS text: one 160-character segment at most.
pub fn sms_text(school: &str, summary: &str) -> String {
    let text = format!("{school} : {summary}");
    if text.chars().count() <= 160 {
        text
    } else {
        let mut short: String = text.chars().take(159).collect();
        short.push('…');
        short
    }
}

/// A mobile number as SMS providers want it: international, digits only ("33612345678").
/// French numbers may be written "06 12 34 56 78", "+33 6…" or "0033 6…".
pub fn international_number(text: &str) -> Option<String> {
    let plus = text.trim_start().starts_with('+');
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let number = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if digits.len() == 10 && digits.starts_with('0') {
        format!("33{}", &digits[1..])
    } else {
        return None;
    };
    (8..=15).contains(&number.len()).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn release() -> NaiveTime {
        NaiveTime::from_hms_opt(7, 30, 0).unwrap_or_default()
    }

    #[test]
    fn families_are_not_pushed_at_night_or_at_weekends() {
        let person = Uuid::from_u128(0);
        // Wednesday 2 December 2026 10:00 Paris: at once.
        let day = utc(2026, 12, 2, 9, 0);
        assert_eq!(family_push_time(day, false, release(), 20, person), day);
        // 21:00 Paris: Thursday 07:30 Paris (06:30 UTC).
        let night = utc(2026, 12, 2, 20, 0);
        assert_eq!(
            family_push_time(night, false, release(), 20, person),
            utc(2026, 12, 3, 6, 30)
        );
        // Saturday noon: Monday 07:30.
        let saturday = utc(2026, 12, 5, 11, 0);
        assert_eq!(
            family_push_time(saturday, false, release(), 20, person),
            utc(2026, 12, 7, 6, 30)
        );
        // Urgent: at once, even at night.
        assert_eq!(family_push_time(night, true, release(), 20, person), night);
    }

    #[test]
    fn held_notifications_are_spread_over_the_window() {
        let night = utc(2026, 12, 2, 22, 0);
        let times: Vec<_> = (0..200u128)
            .map(|i| family_push_time(night, false, release(), 20, Uuid::from_u128(i * 7919)))
            .collect();
        let first = utc(2026, 12, 3, 6, 30);
        assert!(
            times
                .iter()
                .all(|t| *t >= first && *t < first + Duration::minutes(20))
        );
        let distinct: std::collections::HashSet<_> = times.iter().collect();
        assert!(distinct.len() > 100, "spread over many seconds");
    }

    #[test]
    fn mobile_numbers_become_international() {
        assert_eq!(
            international_number("06 12 34 56 78").as_deref(),
            Some("33612345678")
        );
        assert_eq!(
            international_number("+33 6 12 34 56 78").as_deref(),
            Some("33612345678")
        );
        assert_eq!(
            international_number("0033612345678").as_deref(),
            Some("33612345678")
        );
        assert_eq!(international_number("12 34"), None);
        assert_eq!(international_number(""), None);
    }

    #[test]
    fn topics_of_kinds_and_sms_length() {
        assert_eq!(Topic::of_kind("liaison_reminder"), Topic::Liaison);
        assert_eq!(Topic::of_kind("absence"), Topic::Absence);
        assert_eq!(Topic::of_kind("message"), Topic::Message);
        assert_eq!(sms_text("École", &"a".repeat(300)).chars().count(), 160);
        assert!(!valid_release_time(
            NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default()
        ));
    }
}
