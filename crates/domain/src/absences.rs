//! Absences and lateness by half-day, and the notices families give in advance.

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};

use crate::time::to_paris;

crate::directory::code_enum!(
    /// Morning or afternoon: French primary schools take the register twice a day.
    Half {
        Morning => "matin",
        Afternoon => "apres-midi",
    }
);

impl Half {
    pub fn label_key(self) -> &'static str {
        match self {
            Half::Morning => "absence-half-morning",
            Half::Afternoon => "absence-half-afternoon",
        }
    }

    /// The half-day under way at `now` (the afternoon from noon, Paris time).
    pub fn at(now: DateTime<Utc>) -> Half {
        if to_paris(now).time().hour() < 12 {
            Half::Morning
        } else {
            Half::Afternoon
        }
    }
}

crate::directory::code_enum!(
    /// What the teacher marks for one pupil and one half-day.
    Mark {
        Absent => "absence",
        Late => "retard",
    }
);

impl Mark {
    pub fn label_key(self) -> &'static str {
        match self {
            Mark::Absent => "absence-mark-absent",
            Mark::Late => "absence-mark-late",
        }
    }
}

/// Longest reason a family may give.
pub const MAX_REASON_CHARS: usize = 500;
/// Longest announced absence, in days.
pub const MAX_NOTICE_DAYS: i64 = 60;

/// A half-day as an ordered point: (day, half).
pub type HalfDay = (NaiveDate, Half);

/// Checks a notice a guardian gives: a reason, a range in order, not in the past, not
/// longer than `MAX_NOTICE_DAYS`. The error is the i18n key of the message shown.
pub fn check_notice(
    from: HalfDay,
    to: HalfDay,
    reason: &str,
    today: NaiveDate,
) -> Result<(), &'static str> {
    let n = reason.trim().chars().count();
    if n == 0 {
        return Err("absence-error-reason");
    }
    if n > MAX_REASON_CHARS {
        return Err("absence-error-reason-long");
    }
    if to < from {
        return Err("absence-error-order");
    }
    if from.0 < today {
        return Err("absence-error-past");
    }
    if (to.0 - from.0).num_days() > MAX_NOTICE_DAYS {
        return Err("absence-error-too-long");
    }
    Ok(())
}

/// Whether a notice from `from` to `to` covers one half-day.
pub fn covers(from: HalfDay, to: HalfDay, at: HalfDay) -> bool {
    from <= at && at <= to
}

/// "2026-12-02" (what forms and URLs carry).
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Noon, the boundary between the two halves.
pub fn noon() -> NaiveTime {
    NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        parse_day(s).unwrap_or_default()
    }

    #[test]
    fn notices_are_checked() {
        let today = day("2026-12-02");
        let from = (day("2026-12-03"), Half::Morning);
        let to = (day("2026-12-03"), Half::Afternoon);
        assert_eq!(check_notice(from, to, "Rendez-vous médical", today), Ok(()));
        assert_eq!(
            check_notice(to, from, "x", today),
            Err("absence-error-order")
        );
        assert_eq!(
            check_notice(from, to, " ", today),
            Err("absence-error-reason")
        );
        let past = (day("2026-12-01"), Half::Morning);
        assert_eq!(
            check_notice(past, to, "x", today),
            Err("absence-error-past")
        );
        let far = (day("2027-03-01"), Half::Morning);
        assert_eq!(
            check_notice(from, far, "x", today),
            Err("absence-error-too-long")
        );
    }

    #[test]
    fn a_notice_covers_half_days_in_its_range() {
        let from = (day("2026-12-03"), Half::Afternoon);
        let to = (day("2026-12-04"), Half::Morning);
        assert!(!covers(from, to, (day("2026-12-03"), Half::Morning)));
        assert!(covers(from, to, (day("2026-12-03"), Half::Afternoon)));
        assert!(covers(from, to, (day("2026-12-04"), Half::Morning)));
        assert!(!covers(from, to, (day("2026-12-04"), Half::Afternoon)));
    }
}
