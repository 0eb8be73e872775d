use chrono::{DateTime, SubsecRound, Utc};

/// Now, to the second. Every stored timestamp goes through here so SQLite's text form
/// has a fixed width and compares in time order.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}
