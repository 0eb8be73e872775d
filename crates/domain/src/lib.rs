//! Préau's domain: the words of a French primary-school ENT and the rules on them.
//! No I/O here: storage and HTTP live in `preau-store` and `preau-web`.

pub mod absences;
pub mod access;
pub mod activation;
pub mod chat;
pub mod communication;
pub mod directory;
pub mod liaison;
pub mod login;
pub mod messaging;
pub mod notify;
pub mod password;
pub mod profile;
pub mod provisioning;
pub mod services;
pub mod time;

pub use directory::{
    AccountState, ClassRole, Function, GroupKind, Level, StructureKind, TenantKind,
};
pub use profile::NationalProfile;
