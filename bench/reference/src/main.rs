//! The floor cost of an authenticated page on this stack, kept apart from the product:
//! look a session up by token (hash), read one row by primary key, render a 5 KB page.
//! `preau-bench-reference serve DB_URL ADDR` serves it; `preau-bench-reference argon2 SECONDS`
//! measures the Argon2id hashes per second the product's parameters allow on all cores.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use preau_store::credentials::{HashCost, hash_password_blocking};
use preau_store::sessions::token_hash;
use preau_store::{Db, DbOptions};
use std::time::{Duration, Instant};

#[derive(Template)]
#[template(path = "page.html")]
struct Page {
    first_name: String,
    last_name: String,
    login: String,
    rows: Vec<u32>,
}

async fn page(State(db): State<Db>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| {
            c.split(';')
                .find_map(|p| p.trim().strip_prefix("preau_session="))
        })
        .unwrap_or_default()
        .to_owned();
    let hash = token_hash(&token);
    macro_rules! run {
        ($pool:expr) => {{
            let session: Option<(uuid::Uuid,)> =
                sqlx::query_as("SELECT user_id FROM sessions WHERE token_hash = $1")
                    .bind(&hash)
                    .fetch_optional($pool)
                    .await
                    .ok()
                    .flatten();
            let Some((user_id,)) = session else {
                return StatusCode::UNAUTHORIZED.into_response();
            };
            let row: Option<(String, String, String)> =
                sqlx::query_as("SELECT first_name, last_name, login FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_optional($pool)
                    .await
                    .ok()
                    .flatten();
            row
        }};
    }
    let row = match &db {
        Db::Sqlite(s) => run!(&s.reader),
        Db::Postgres(p) => run!(p),
    };
    let Some((first_name, last_name, login)) = row else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let page = Page {
        first_name,
        last_name,
        login,
        rows: (1..=40).collect(),
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn argon2_rate(seconds: u64) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    if hash_password_blocking(HashCost::DEFAULT, "Une phrase de passe").is_ok() {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    println!(
        "argon2id m={} KiB t={} p=1: {:.1} hashes/s on {threads} threads",
        HashCost::DEFAULT.memory_kib,
        HashCost::DEFAULT.iterations,
        total as f64 / seconds as f64
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") if args.len() == 4 => {
            let db = match Db::connect(&args[2], &DbOptions::default()).await {
                Ok(db) => db,
                Err(e) => {
                    eprintln!("database: {e}");
                    std::process::exit(1);
                }
            };
            let app = Router::new().route("/", get(page)).with_state(db);
            let listener = match tokio::net::TcpListener::bind(&args[3]).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("listen: {e}");
                    std::process::exit(1);
                }
            };
            let _ = axum::serve(listener, app).await;
        }
        Some("argon2") => argon2_rate(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5)),
        _ => {
            eprintln!("usage: preau-bench-reference serve DB_URL ADDR | argon2 [SECONDS]");
            std::process::exit(2);
        }
    }
}
