//! Préau's integration tests: one binary, every database test on SQLite and PostgreSQL.

mod support;

mod access;
mod activation;
mod admin;
mod auth;
mod chat;
mod import;
mod messages;
mod pages;
mod schema;
mod wal;
