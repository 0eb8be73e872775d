//! Préau's storage: one `Db` handle over SQLite (default) or PostgreSQL (scale-out),
//! chosen from the URL, with the same repositories on both.

#[macro_use]
mod db;
#[macro_use]
pub mod jobs;
#[macro_use]
pub mod notifications;
#[macro_use]
pub mod communication;
#[macro_use]
pub mod directory;
pub mod absences;
pub mod accounts;
pub mod actor;
pub mod batch;
pub mod chat;
pub mod credentials;
pub mod error;
pub mod imports;
pub mod liaison;
pub mod lifecycle;
pub mod messages;
mod migrations;
pub mod provisioning;
pub mod sessions;
pub mod time;

pub use db::{Backend, Db, DbOptions};
pub use error::{StoreError, StoreResult};
pub use time::now;

/// The tenant a request works in. Built by the web layer from the authenticated actor only;
/// every query on tenant-owned rows filters by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantScope(pub uuid::Uuid);

impl TenantScope {
    pub fn id(self) -> uuid::Uuid {
        self.0
    }
}
