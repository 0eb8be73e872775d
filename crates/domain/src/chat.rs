//! Instant chat rules: conversation size, message size, and the school's hours outside which
//! families' messages wait (the staff's right to disconnect).

use crate::time::{from_paris, to_paris};
use chrono::{DateTime, Datelike, NaiveTime, Utc, Weekday};

/// People in one conversation, the writer included.
pub const MAX_MEMBERS: usize = 12;
/// Longest chat message, in characters.
pub const MAX_CHARS: usize = 2_000;

/// When families' messages are delivered: weekdays between two times, Paris time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChatHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

impl Default for ChatHours {
    fn default() -> Self {
        Self {
            opens: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            closes: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
        }
    }
}

impl ChatHours {
    /// Reads "08:00" and "18:00"; `None` unless the first is before the second.
    pub fn parse(opens: &str, closes: &str) -> Option<Self> {
        let read = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").ok();
        let hours = Self {
            opens: read(opens)?,
            closes: read(closes)?,
        };
        (hours.opens < hours.closes).then_some(hours)
    }

    /// When a family's message written at `now` reaches the school: now during the hours,
    /// else at the next opening (Monday morning after a Friday evening).
    pub fn delivery(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let local = to_paris(now);
        let weekday = |d: chrono::NaiveDate| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        if weekday(local.date()) && local.time() >= self.opens && local.time() < self.closes {
            return now;
        }
        let mut day = local.date();
        if local.time() >= self.opens {
            day = day.succ_opt().unwrap_or(day);
        }
        while !weekday(day) {
            day = day.succ_opt().unwrap_or(day);
        }
        from_paris(day.and_time(self.opens))
    }
}

/// Checks a chat message's text.
pub fn check_body(body: &str) -> bool {
    let n = body.trim().chars().count();
    n > 0 && n <= MAX_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn families_messages_wait_for_the_school_hours() {
        let hours = ChatHours::default();
        // Wednesday 2 December 2026, 10:00 Paris (09:00 UTC): delivered at once.
        assert_eq!(
            hours.delivery(utc(2026, 12, 2, 9, 0)),
            utc(2026, 12, 2, 9, 0)
        );
        // The same evening at 21:00 Paris: Thursday 08:00 Paris = 07:00 UTC.
        assert_eq!(
            hours.delivery(utc(2026, 12, 2, 20, 0)),
            utc(2026, 12, 3, 7, 0)
        );
        // Early morning, 06:30 Paris: the same day at 08:00.
        assert_eq!(
            hours.delivery(utc(2026, 12, 3, 5, 30)),
            utc(2026, 12, 3, 7, 0)
        );
        // Friday evening: Monday morning.
        assert_eq!(
            hours.delivery(utc(2026, 12, 4, 19, 0)),
            utc(2026, 12, 7, 7, 0)
        );
        // Summer time: Saturday 13 June 2026 → Monday 15 June 08:00 Paris = 06:00 UTC.
        assert_eq!(
            hours.delivery(utc(2026, 6, 13, 10, 0)),
            utc(2026, 6, 15, 6, 0)
        );
    }

    #[test]
    fn hours_parse_and_sizes() {
        assert!(ChatHours::parse("08:30", "17:00").is_some());
        assert!(ChatHours::parse("18:00", "08:00").is_none());
        assert!(ChatHours::parse("8h", "17:00").is_none());
        assert!(check_body("Bonjour"));
        assert!(!check_body("  "));
        assert!(!check_body(&"x".repeat(MAX_CHARS + 1)));
    }
}
