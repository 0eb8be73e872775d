//! Times shown to people are French legal time (Europe/Paris), whatever the server's zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};

fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let mut day = first_of_next.pred_opt()?;
    while day.weekday() != Weekday::Sun {
        day = day.pred_opt()?;
    }
    Some(day)
}

/// Summer time runs from the last Sunday of March to the last Sunday of October, 01:00 UTC.
pub fn paris_offset(utc: DateTime<Utc>) -> Duration {
    let year = utc.year();
    let switch = |month| {
        last_sunday(year, month)
            .and_then(|d| d.and_hms_opt(1, 0, 0))
            .map(|t| t.and_utc())
    };
    match (switch(3), switch(10)) {
        (Some(start), Some(end)) if utc >= start && utc < end => Duration::hours(2),
        _ => Duration::hours(1),
    }
}

pub fn to_paris(utc: DateTime<Utc>) -> NaiveDateTime {
    (utc + paris_offset(utc)).naive_utc()
}

/// A Paris wall-clock time, back to UTC with that day's offset (the offset an hour earlier
/// decides around the switch, so 02:30 on the spring-forward night still maps somewhere).
pub fn from_paris(local: NaiveDateTime) -> DateTime<Utc> {
    let as_utc = local.and_utc();
    as_utc - paris_offset(as_utc - Duration::hours(1))
}

/// The first instant of the current month in Paris (monthly budgets' period).
pub fn paris_month_start(utc: DateTime<Utc>) -> DateTime<Utc> {
    let local = to_paris(utc).date();
    let first = local.with_day(1).unwrap_or(local);
    from_paris(first.and_time(chrono::NaiveTime::MIN))
}

/// Today's date in Paris.
pub fn paris_today(utc: DateTime<Utc>) -> NaiveDate {
    to_paris(utc).date()
}

/// "25/11/2026 08:05"
pub fn format_paris(utc: DateTime<Utc>) -> String {
    to_paris(utc).format("%d/%m/%Y %H:%M").to_string()
}

/// The school year a date falls in, named by the year it starts: 2026 for 2026–2027. The
/// year turns on 1 August, once the previous one has closed.
pub fn school_year_at(utc: DateTime<Utc>) -> i64 {
    let paris = to_paris(utc);
    let year = i64::from(paris.year());
    if paris.month() >= 8 { year } else { year - 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn winter_and_summer_time() {
        assert_eq!(format_paris(at("2026-11-25T07:05:00Z")), "25/11/2026 08:05");
        assert_eq!(format_paris(at("2026-07-01T06:00:00Z")), "01/07/2026 08:00");
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(paris_offset(at("2026-03-29T00:59:59Z")), Duration::hours(1));
        assert_eq!(paris_offset(at("2026-03-29T01:00:00Z")), Duration::hours(2));
        assert_eq!(paris_offset(at("2026-10-25T00:59:59Z")), Duration::hours(2));
        assert_eq!(paris_offset(at("2026-10-25T01:00:00Z")), Duration::hours(1));
    }

    #[test]
    fn paris_wall_clock_back_to_utc() {
        let local =
            |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default();
        assert_eq!(
            from_paris(local("2026-12-02 08:00")),
            at("2026-12-02T07:00:00Z")
        );
        assert_eq!(
            from_paris(local("2026-07-01 08:00")),
            at("2026-07-01T06:00:00Z")
        );
    }

    #[test]
    fn school_years_turn_in_august() {
        assert_eq!(school_year_at(at("2026-07-31T12:00:00Z")), 2025);
        assert_eq!(school_year_at(at("2026-09-01T06:00:00Z")), 2026);
        assert_eq!(school_year_at(at("2027-01-15T06:00:00Z")), 2026);
    }
}
