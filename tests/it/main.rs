//! Préau's integration tests: one binary, every database test on SQLite and PostgreSQL.

mod support;

mod absences;
mod access;
mod activation;
mod admin;
mod auth;
mod chat;
mod import;
mod liaison;
mod messages;
mod notify;
mod pages;
mod schema;
mod wal;
