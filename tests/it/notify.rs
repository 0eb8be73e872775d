//! The notification service: one's own preferences only, e-mail at once or as a daily
//! digest, quiet hours for families, web push encrypted for the browser that subscribed, and
//! the SMS provider's API as it is spoken.

use crate::db_tests;
use crate::liaison::{mot_id, post_mot};
use crate::support::TestApp;
use axum::http::StatusCode;
use preau_domain::notify::family_push_time;
use std::sync::{Arc, Mutex};

db_tests!(
    preferences_are_ones_own,
    email_at_once_or_in_the_daily_digest,
    families_are_not_disturbed_at_night,
    push_reaches_the_subscribed_browser_encrypted,
);

async fn preferences_are_ones_own(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    let page = parent.get("/compte/notifications").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Un résumé par jour"), "{}", page.body);
    // Naming someone else is refused, and their settings do not change.
    let other = app.fx.id("other_guardian").to_string();
    let r = parent
        .post(
            "/compte/notifications",
            &[("user", other.as_str()), ("email_mode", "off")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("vos propres préférences"), "{}", r.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notification_settings")
            .await,
        0
    );
    // My own: saved, and shown back.
    let me = app.fx.id("guardian").to_string();
    let r = parent
        .post(
            "/compte/notifications",
            &[
                ("user", me.as_str()),
                ("email_mode", "immediate"),
                ("c-liaison-email", "1"),
                ("c-absence-email", "1"),
                ("c-liaison-push", "1"),
                ("language", "fr"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let settings =
        preau_store::notifications::settings(&app.db, app.fx.tenant, app.fx.id("guardian"))
            .await
            .expect("settings");
    assert_eq!(
        settings.email_mode,
        preau_domain::notify::EmailMode::Immediate
    );
    assert!(!settings.sms);
    assert!(settings.muted.contains(&(
        preau_domain::notify::Topic::Message,
        preau_domain::notify::Channel::Email
    )));
    // An unknown mode or language is a bad request, not a silent default.
    let r = parent
        .post("/compte/notifications", &[("email_mode", "toujours")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = parent
        .post(
            "/compte/notifications",
            &[("email_mode", "off"), ("language", "xx")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// Makes every waiting job due now (what the clock would do by morning).
async fn advance_clock(app: &TestApp) {
    app.exec_at(
        "UPDATE jobs SET run_at = $1 WHERE kind <> 'notify_digest'",
        chrono::Utc::now() - chrono::Duration::seconds(1),
        None,
    )
    .await;
}

async fn email_at_once_or_in_the_daily_digest(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    parent
        .post(
            "/compte/notifications",
            &[("email_mode", "immediate"), ("c-liaison-email", "1")],
        )
        .await;
    let mut directeur = app.signed_in("directeur").await;
    let id = mot_id(
        &post_mot(
            &mut directeur,
            &[
                ("audience", "school"),
                ("title", "Kermesse samedi"),
                ("body", "Venez nombreux"),
                ("language", "fr"),
            ],
        )
        .await,
    );
    app.run_jobs().await;
    advance_clock(&app).await;
    app.run_jobs().await;
    let guardian_login = app.fx.login("guardian").to_owned();
    let mails = app.mailer.messages();
    let mine: Vec<_> = mails
        .iter()
        .filter(|m| m.to.starts_with(&guardian_login))
        .collect();
    assert_eq!(mine.len(), 1, "{mails:?}");
    assert!(
        mine[0].subject.contains("Kermesse samedi"),
        "{}",
        mine[0].subject
    );
    assert!(
        mine[0]
            .body
            .contains(&format!("http://preau.test/liaison/{id}")),
        "{}",
        mine[0].body
    );
    // The other family is on the digest (the default): nothing yet…
    let other_login = app.fx.login("other_guardian").to_owned();
    assert!(!mails.iter().any(|m| m.to.starts_with(&other_login)));
    // …then one e-mail listing what they have not read.
    preau_store::jobs::enqueue(&app.db, None, "notify_digest", "{}", chrono::Utc::now())
        .await
        .expect("job");
    app.run_jobs().await;
    let digests: Vec<_> = app
        .mailer
        .messages()
        .into_iter()
        .filter(|m| m.to.starts_with(&other_login))
        .collect();
    assert_eq!(digests.len(), 1);
    assert!(
        digests[0].body.contains("Kermesse samedi"),
        "{}",
        digests[0].body
    );
    // The digest schedules the next one, and sends nothing twice.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'notify_digest'")
            .await,
        1
    );
    preau_store::jobs::enqueue(&app.db, None, "notify_digest", "{}", chrono::Utc::now())
        .await
        .expect("job");
    app.run_jobs().await;
    let count = app
        .mailer
        .messages()
        .iter()
        .filter(|m| m.to.starts_with(&other_login))
        .count();
    assert_eq!(count, 1);
    // Read in the ENT before it went out: no e-mail for it.
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp.to_string();
    let second = mot_id(
        &post_mot(
            &mut teacher,
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Bibliothèque"),
                ("body", "Rendre les livres"),
                ("language", "fr"),
            ],
        )
        .await,
    );
    app.run_jobs().await;
    parent.get(&format!("/liaison/{second}")).await;
    advance_clock(&app).await;
    app.run_jobs().await;
    assert!(
        !app.mailer
            .messages()
            .iter()
            .any(|m| m.subject.contains("Bibliothèque"))
    );
}

async fn families_are_not_disturbed_at_night(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    parent
        .post(
            "/compte/notifications",
            &[("email_mode", "immediate"), ("c-liaison-email", "1")],
        )
        .await;
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp.to_string();
    mot_id(
        &post_mot(
            &mut teacher,
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Devoirs"),
                ("body", "Lire p. 12"),
                ("language", "fr"),
            ],
        )
        .await,
    );
    let before = chrono::Utc::now();
    app.run_jobs().await;
    // Whatever the hour the test runs at, the e-mail waits exactly as the rule says.
    let run_at: Vec<String> = match &app.db {
        preau_store::Db::Sqlite(s) => {
            sqlx::query_scalar("SELECT run_at FROM jobs WHERE kind = 'notify_email'")
                .fetch_all(&s.writer)
                .await
                .expect("jobs")
        }
        preau_store::Db::Postgres(p) => sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "SELECT run_at FROM jobs WHERE kind = 'notify_email'",
        )
        .fetch_all(p)
        .await
        .expect("jobs")
        .into_iter()
        .map(|t| t.to_rfc3339())
        .collect(),
    };
    let expected = family_push_time(
        before,
        false,
        chrono::NaiveTime::from_hms_opt(7, 30, 0).expect("time"),
        20,
        app.fx.id("guardian"),
    );
    if expected > before + chrono::Duration::seconds(5) {
        assert_eq!(run_at.len(), 1, "held until the morning");
        let at: chrono::DateTime<chrono::Utc> = run_at[0].parse().expect("time");
        assert!(
            (at - expected).num_seconds().abs() <= 5,
            "{at} vs {expected}"
        );
        assert!(app.mailer.messages().is_empty());
    } else {
        assert!(run_at.is_empty(), "sent at once during the day");
        assert_eq!(app.mailer.messages().len(), 1);
    }
    // The school chooses when held notifications go out; outside the hours families may be
    // reached is refused.
    let mut directeur = app.signed_in("directeur").await;
    let school = app.fx.elementaire;
    let r = directeur
        .post(
            &format!("/admin/structures/{school}/notifications"),
            &[("release_at", "06:00"), ("spread", "30")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = directeur
        .post(
            &format!("/admin/structures/{school}/notifications"),
            &[("release_at", "08:15"), ("spread", "30")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM structures WHERE release_at = '08:15' AND release_spread_minutes = 30").await,
        1
    );
}

/// What a loopback service received: (authorization or key header, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A push service on loopback: keeps what it receives, answers `status`.
async fn push_service(status: u16) -> (String, Received) {
    let seen: Received = Arc::default();
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/push/{id}",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    kept.lock().expect("lock").push((auth, body.to_vec()));
                    StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED)
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/push/abc"), seen)
}

async fn push_reaches_the_subscribed_browser_encrypted(app: TestApp) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use web_push_native::p256::elliptic_curve::rand_core::OsRng;
    let (endpoint, seen) = push_service(201).await;
    // The browser's keys, as PushManager makes them.
    let secret = web_push_native::p256::SecretKey::random(&mut OsRng);
    let public = secret.public_key();
    let p256dh = URL_SAFE_NO_PAD.encode(
        web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
            &public, false,
        )
        .as_bytes(),
    );
    let auth_bytes: [u8; 16] = rand::random();
    let auth = URL_SAFE_NO_PAD.encode(auth_bytes);
    let mut parent = app.signed_in("guardian").await;
    parent.get("/compte/notifications").await;
    let body =
        serde_json::json!({ "endpoint": endpoint, "keys": { "p256dh": p256dh, "auth": auth } });
    let r = parent
        .json(
            "POST",
            "/compte/notifications/push",
            &body.to_string(),
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // A broken subscription is refused.
    let bad =
        serde_json::json!({ "endpoint": "ftp://x", "keys": { "p256dh": "AAAA", "auth": "AA" } });
    let r = parent
        .json("POST", "/compte/notifications/push", &bad.to_string(), true)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp.to_string();
    mot_id(
        &post_mot(
            &mut teacher,
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Sortie à la ferme"),
                ("body", "Bottes"),
                ("language", "fr"),
            ],
        )
        .await,
    );
    app.run_jobs().await;
    advance_clock(&app).await;
    app.run_jobs().await;
    let received = seen.lock().expect("lock").clone();
    assert_eq!(received.len(), 1);
    let (authorization, payload) = &received[0];
    assert!(authorization.starts_with("vapid t="), "{authorization}");
    let mut secret_auth = web_push_native::Auth::default();
    secret_auth.copy_from_slice(&auth_bytes);
    let clear = web_push_native::decrypt(payload.clone(), &secret, &secret_auth).expect("decrypts");
    let message: serde_json::Value = serde_json::from_slice(&clear).expect("json");
    assert_eq!(message["title"], "École élémentaire A");
    assert!(
        message["body"]
            .as_str()
            .unwrap_or_default()
            .contains("Sortie à la ferme")
    );
    assert!(
        message["url"]
            .as_str()
            .unwrap_or_default()
            .starts_with("/liaison/")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM push_subscriptions").await,
        1
    );
}

#[tokio::test]
async fn the_brevo_adapter_speaks_its_api() {
    let seen: Arc<Mutex<Vec<(String, String, serde_json::Value)>>> = Arc::default();
    let kept = seen.clone();
    let service = axum::Router::new().route(
        "/v3/transactionalSMS/sms",
        axum::routing::post(
            move |headers: axum::http::HeaderMap,
                  axum::Json(body): axum::Json<serde_json::Value>| {
                let kept = kept.clone();
                async move {
                    let key = headers
                        .get("api-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let to = body["recipient"].as_str().unwrap_or_default().to_owned();
                    kept.lock().expect("lock").push((key, to.clone(), body));
                    if to == "33600000000" {
                        (
                            StatusCode::BAD_REQUEST,
                            axum::Json(serde_json::json!({"code": "invalid_parameter"})),
                        )
                    } else {
                        (
                            StatusCode::CREATED,
                            axum::Json(serde_json::json!({"reference": "ab1", "messageId": 1})),
                        )
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, service).await;
    });
    let sms = preau_web::notify::sms::BrevoSms::new(
        preau_web::notify::http_client(),
        &format!("http://{addr}"),
        "cle-secrete",
        "Ecole Jean Zay",
    );
    use preau_web::notify::sms::SmsSender;
    sms.send("33612345678", "École : grève jeudi")
        .await
        .expect("sent");
    let err = sms.send("33600000000", "x").await.expect_err("refused");
    assert!(err.contains("400"), "{err}");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen[0].0, "cle-secrete");
    assert_eq!(seen[0].2["sender"], "EcoleJeanZa", "11 letters or digits");
    assert_eq!(seen[0].2["type"], "transactional");
    assert_eq!(seen[0].2["content"], "École : grève jeudi");
    assert_eq!(seen[0].2["unicodeEnabled"], true);
}
