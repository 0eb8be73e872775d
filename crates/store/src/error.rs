use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (duplicate UAI, slug, login…); the text names the rule.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("invalid data: {0}")]
    Invalid(String),
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Maps a unique-constraint violation to `Conflict`, leaving other errors as they are.
    pub(crate) fn on_unique(err: sqlx::Error, what: &'static str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(what),
            _ => Self::Db(err),
        }
    }
}
