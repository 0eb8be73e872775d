//! Sign-in, sign-out, sessions, throttling, CSRF, password reset.

use crate::db_tests;
use crate::support::{PASSWORD, TestApp};
use axum::http::StatusCode;
use preau_store::credentials::{self, HashCost};
use preau_store::sessions;

db_tests!(
    sign_in_opens_a_session_and_the_home_greets_the_user,
    wrong_password_and_unknown_login_get_the_same_french_message,
    repeated_failures_lock_the_account_for_a_while,
    failures_from_one_address_are_throttled,
    forged_or_expired_cookies_are_anonymous,
    sign_out_ends_the_session,
    sessions_can_be_listed_and_revoked,
    forms_without_a_valid_token_or_from_another_site_are_refused,
    password_reset_by_email_for_adults_only,
    asking_for_reset_links_is_limited_without_blocking_sign_in,
    old_hashes_are_upgraded_at_sign_in,
    changing_ones_password_checks_the_current_one,
);

async fn sign_in_opens_a_session_and_the_home_greets_the_user(app: TestApp) {
    let mut c = app.client().await;
    let r = c.sign_in(app.fx.login("teacher"), PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/");
    let set_cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        set_cookie.contains("preau_session=")
            && set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let home = c.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Bonjour Thomas"), "{}", home.body);
    // The database keeps only a hash of the token.
    let token = c.cookie("preau_session").cloned().unwrap_or_default();
    let teacher = app.fx.id("teacher");
    let listed = sessions::list_for_user(&app.db, teacher)
        .await
        .expect("sessions");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].handle,
        sessions::handle_of(&sessions::token_hash(&token))
    );
    assert!(!listed[0].handle.contains(&token));
}

async fn wrong_password_and_unknown_login_get_the_same_french_message(app: TestApp) {
    let mut c = app.client().await;
    let wrong = c.sign_in(app.fx.login("teacher"), "pas-le-bon").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .body
            .contains("Identifiant ou mot de passe incorrect."),
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("role=\"alert\""));
    assert!(c.cookie("preau_session").is_none());
    let unknown = c.sign_in("personne.inconnue", PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(
        unknown
            .body
            .contains("Identifiant ou mot de passe incorrect.")
    );
    // Nothing changed: the right password still works, typed with capitals and spaces.
    let ok = c
        .sign_in(
            &format!(" {} ", app.fx.login("teacher").to_uppercase()),
            PASSWORD,
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

async fn repeated_failures_lock_the_account_for_a_while(app: TestApp) {
    let mut c = app.client().await;
    let login = app.fx.login("pupil_cp").to_owned();
    for _ in 0..4 {
        assert_eq!(
            c.sign_in(&login, "mauvais").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let fifth = c.sign_in(&login, "mauvais").await;
    assert!(fifth.body.contains("verrouillé"), "{}", fifth.body);
    let right = c.sign_in(&login, PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        right.body.contains("verrouillé pendant 1 min"),
        "{}",
        right.body
    );
    assert!(c.cookie("preau_session").is_none());
    // Another account is not affected.
    assert_eq!(
        c.sign_in(app.fx.login("teacher"), PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn failures_from_one_address_are_throttled(app: TestApp) {
    let mut attacker = app.client_from([192, 0, 2, 9]).await;
    for n in 0..app.config.ip_failure_limit {
        let r = attacker.sign_in(&format!("inconnu{n}"), "x").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = attacker.sign_in(app.fx.login("teacher"), PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        blocked.body.contains("depuis votre réseau"),
        "{}",
        blocked.body
    );
    // Other addresses sign in normally.
    let mut other = app.client_from([198, 51, 100, 7]).await;
    assert_eq!(
        other
            .sign_in(app.fx.login("teacher"), PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

async fn forged_or_expired_cookies_are_anonymous(app: TestApp) {
    let mut c = app.client().await;
    c.set_cookie("preau_session", &"A".repeat(43));
    let r = c.get("/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/auth/login");
    c.set_cookie("preau_session", "'; DROP TABLE users; --");
    assert_eq!(c.get("/").await.location(), "/auth/login");

    // A session idle for longer than the policy allows is over.
    let mut signed = app.signed_in("teacher").await;
    assert_eq!(signed.get("/").await.status, StatusCode::OK);
    let old = preau_store::now() - chrono::Duration::hours(3);
    app.exec_at("UPDATE sessions SET last_seen_at = $1", old, None)
        .await;
    assert_eq!(signed.get("/").await.location(), "/auth/login");
}

async fn sign_out_ends_the_session(app: TestApp) {
    let mut c = app.signed_in("guardian").await;
    let token = c.cookie("preau_session").cloned().unwrap_or_default();
    let r = c.post("/auth/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(c.cookie("preau_session").is_none());
    // Replaying the old cookie does not work.
    c.set_cookie("preau_session", &token);
    assert_eq!(c.get("/").await.location(), "/auth/login");
}

async fn sessions_can_be_listed_and_revoked(app: TestApp) {
    let mut phone = app.signed_in("guardian").await;
    let mut laptop = app.signed_in("guardian").await;
    let page = laptop.get("/compte").await;
    assert!(page.body.contains("(cet appareil)"));
    let phone_token = phone.cookie("preau_session").cloned().unwrap_or_default();
    let handle = sessions::handle_of(&sessions::token_hash(&phone_token));
    assert!(page.body.contains(&handle));
    // Another user cannot revoke it.
    let mut intruder = app.signed_in("other_guardian").await;
    intruder
        .post("/compte/sessions/revoke", &[("handle", &handle)])
        .await;
    assert_eq!(phone.get("/").await.status, StatusCode::OK);
    let r = laptop
        .post("/compte/sessions/revoke", &[("handle", &handle)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(phone.get("/").await.location(), "/auth/login");
    assert_eq!(laptop.get("/").await.status, StatusCode::OK);
}

async fn forms_without_a_valid_token_or_from_another_site_are_refused(app: TestApp) {
    let login = app.fx.login("teacher").to_owned();
    let mut c = app.client().await;
    let csrf = c.csrf();
    // No token.
    let r = c
        .post_raw(
            "/auth/login",
            &[("login", &login), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Formulaire expiré"), "{}", r.body);
    // A wrong token.
    let r = c
        .post_raw(
            "/auth/login",
            &[("csrf", "faux"), ("login", &login), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The right token from another site's page.
    let r = c
        .post_raw(
            "/auth/login",
            &[("csrf", &csrf), ("login", &login), ("password", PASSWORD)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(c.cookie("preau_session").is_none());
    // An old browser sending no Origin but the right token gets through.
    let r = c
        .post_raw(
            "/auth/login",
            &[("csrf", &csrf), ("login", &login), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // A state change by a signed-in user with no token changes nothing.
    let before = sessions::list_for_user(&app.db, app.fx.id("teacher"))
        .await
        .expect("list")
        .len();
    let r = c
        .post_raw("/auth/logout", &[], Some("http://preau.test"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        sessions::list_for_user(&app.db, app.fx.id("teacher"))
            .await
            .expect("list")
            .len(),
        before
    );
    // No CSRF cookie at all (a cross-site form from a fresh browser).
    let mut fresh = app.client().await;
    fresh.set_cookie("preau_csrf", "");
    let r = fresh
        .post_raw(
            "/auth/login",
            &[("csrf", &csrf), ("login", &login), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn password_reset_by_email_for_adults_only(app: TestApp) {
    let mut c = app.client().await;
    // A pupil: same answer, no e-mail.
    let r = c
        .post("/auth/forgot", &[("login", app.fx.login("pupil_cp"))])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(app.mailer.messages().is_empty());
    let r = c.post("/auth/forgot", &[("login", "inconnu.total")]).await;
    assert!(r.body.contains("Si un compte"));
    assert!(app.mailer.messages().is_empty());
    // An adult gets a link.
    let r = c
        .post("/auth/forgot", &[("login", app.fx.login("guardian"))])
        .await;
    assert!(r.body.contains("Si un compte"));
    let mails = app.mailer.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].to,
        format!("{}@exemple.fr", app.fx.login("guardian"))
    );
    let link = mails[0]
        .body
        .lines()
        .find(|l| l.contains("/auth/reset?token="))
        .expect("link")
        .trim()
        .to_owned();
    let token = link.split("token=").nth(1).expect("token").to_owned();
    assert!(link.starts_with("http://preau.test/auth/reset?token="));
    let form = c.get(&format!("/auth/reset?token={token}")).await;
    assert_eq!(form.status, StatusCode::OK);
    // A weak password is refused and the link still works.
    let weak = c
        .post(
            "/auth/reset",
            &[
                ("token", &token),
                ("password", "court"),
                ("password_confirm", "court"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("trop court"), "{}", weak.body);
    let new_password = "Nouvelle-Phrase-2026!";
    let done = c
        .post(
            "/auth/reset",
            &[
                ("token", &token),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    // Single use.
    let again = c
        .post(
            "/auth/reset",
            &[
                ("token", &token),
                ("password", "Autre-Phrase-2026!!"),
                ("password_confirm", "Autre-Phrase-2026!!"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        c.sign_in(app.fx.login("guardian"), PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        c.sign_in(app.fx.login("guardian"), new_password)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

async fn old_hashes_are_upgraded_at_sign_in(app: TestApp) {
    let teacher = app.fx.id("teacher");
    let weaker = HashCost {
        memory_kib: 32,
        iterations: 1,
    };
    let old = credentials::hash_password(weaker, PASSWORD.into())
        .await
        .expect("hash");
    preau_store::accounts::set_password(&app.db, teacher, &old)
        .await
        .expect("set");
    let mut c = app.client().await;
    assert_eq!(
        c.sign_in(app.fx.login("teacher"), PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let stored = preau_store::accounts::credentials_by_login(&app.db, app.fx.login("teacher"))
        .await
        .expect("q")
        .and_then(|c| c.password_hash)
        .unwrap_or_default();
    assert_ne!(stored, old);
    assert!(
        stored.contains(&format!("m={}", app.config.hash_cost.memory_kib)),
        "{stored}"
    );
    assert_eq!(
        app.client()
            .await
            .sign_in(app.fx.login("teacher"), PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

async fn changing_ones_password_checks_the_current_one(app: TestApp) {
    let mut c = app.signed_in("directeur").await;
    let r = c
        .post(
            "/compte/password",
            &[
                ("current", "faux"),
                ("password", "Nouvelle-Phrase-2026!"),
                ("password_confirm", "Nouvelle-Phrase-2026!"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("mot de passe actuel est incorrect"));
    let r = c
        .post(
            "/compte/password",
            &[
                ("current", PASSWORD),
                ("password", "Nouvelle-Phrase-2026!"),
                ("password_confirm", "Nouvelle-Phrase-2026!"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/").await.location(), "/auth/login");
    assert_eq!(
        app.client()
            .await
            .sign_in(app.fx.login("directeur"), "Nouvelle-Phrase-2026!")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

async fn asking_for_reset_links_is_limited_without_blocking_sign_in(app: TestApp) {
    let mut c = app.client_from([203, 0, 113, 5]).await;
    for _ in 0..preau_web::RESET_REQUESTS_PER_WINDOW {
        assert_eq!(
            c.post("/auth/forgot", &[("login", app.fx.login("guardian"))])
                .await
                .status,
            StatusCode::OK
        );
    }
    let blocked = c
        .post("/auth/forgot", &[("login", app.fx.login("guardian"))])
        .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        app.mailer.messages().len() as u32,
        preau_web::RESET_REQUESTS_PER_WINDOW
    );
    // Signing in from the same network still works.
    assert_eq!(
        c.sign_in(app.fx.login("teacher"), PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}
