//! Every profile's home, page weight, security headers, error pages, assets.

use crate::db_tests;
use crate::support::TestApp;
use axum::http::StatusCode;

db_tests!(
    every_profile_gets_a_home_made_for_it,
    responses_carry_security_headers,
    errors_are_french_pages
);

async fn every_profile_gets_a_home_made_for_it(app: TestApp) {
    for (who, expected, absent) in [
        (
            "pupil_cp",
            vec!["Élève", "CP"],
            vec!["Administration", "Mes enfants"],
        ),
        (
            "guardian",
            vec!["Mes enfants", "Parent ou responsable légal"],
            vec!["Administration"],
        ),
        (
            "teacher",
            vec!["Mes classes", "/classes/"],
            vec!["Mes enfants", "href=\"/admin\""],
        ),
        (
            "directeur",
            vec!["Administration", "Direction d’école", "École élémentaire A"],
            vec!["Mes enfants"],
        ),
        (
            "agent",
            vec!["Agent de la collectivité", "Administration"],
            vec!["Mes enfants"],
        ),
        (
            "operator",
            vec!["Opérateur de la plateforme", "Administration"],
            vec!["Mes enfants"],
        ),
    ] {
        let mut c = app.signed_in(who).await;
        let home = c.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{who}");
        for text in expected {
            assert!(
                home.body.contains(text),
                "{who}: missing {text}\n{}",
                home.body
            );
        }
        for text in absent {
            assert!(!home.body.contains(text), "{who}: unexpected {text}");
        }
        assert!(
            home.body.contains("<main id=\"contenu\"") && home.body.contains("Aller au contenu")
        );
        assert!(
            home.body.len() < 50 * 1024,
            "{who}: {} bytes",
            home.body.len()
        );
    }
}

async fn responses_carry_security_headers(app: TestApp) {
    let mut c = app.client().await;
    for path in ["/auth/login", "/nulle-part", "/static/preau.css"] {
        let r = c.get(path).await;
        let h = |name: &str| {
            r.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            h("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(
            h("content-security-policy").contains("script-src 'self'"),
            "{path}"
        );
        assert!(
            !h("content-security-policy").contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("referrer-policy"), "same-origin", "{path}");
        assert!(!h("x-request-id").is_empty(), "{path}");
        assert!(
            r.headers.get("strict-transport-security").is_none(),
            "no HSTS over http"
        );
    }
    let login = c.get("/auth/login").await;
    assert_eq!(
        login
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert!(
        !login.body.contains("<script>") && !login.body.contains(" onclick="),
        "no inline script"
    );
    let htmx = c.get("/static/htmx-2.0.4.min.js").await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.body.contains("htmx"));
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
}

async fn errors_are_french_pages(app: TestApp) {
    let mut c = app.client().await;
    let r = c.get("/nulle-part").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Page introuvable") && r.body.contains("lang=\"fr\""));
    for path in ["/charte", "/donnees-personnelles", "/accessibilite"] {
        let r = c.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.body.contains("<h1>"), "{path}");
    }
}

#[tokio::test]
async fn https_deployments_use_host_cookies_and_hsts() {
    let app = TestApp::sqlite_with(preau_web::config::WebConfig::for_tests(
        "https://ent.exemple.fr",
    ))
    .await;
    let mut c = app.client().await;
    let r = c.get("/auth/login").await;
    assert!(r.headers.get("strict-transport-security").is_some());
    assert!(
        c.cookie("__Host-preau_csrf").is_some(),
        "CSRF cookie uses the __Host- prefix over https"
    );
    let csrf = preau_web::csrf::token_for(
        &app.config.secret_key,
        c.cookie("__Host-preau_csrf").map_or("", |s| s.as_str()),
    );
    let login = app.fx.login("teacher").to_owned();
    let r = c
        .post_raw(
            "/auth/login",
            &[
                ("csrf", &csrf),
                ("login", &login),
                ("password", crate::support::PASSWORD),
            ],
            Some("https://ent.exemple.fr"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cookie.starts_with("__Host-preau_session=")
            && cookie.contains("Secure")
            && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[tokio::test]
async fn malformed_requests_get_french_pages() {
    let app = TestApp::sqlite().await;
    let mut c = app.signed_in("directeur").await;
    let r = c.get("/admin/structures/pas-un-identifiant/users").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body.contains("Demande incorrecte") && r.body.contains("lang=\"fr\""),
        "{}",
        r.body
    );
    let r = c.get("/auth/logout").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.body.contains("ne s’utilise pas"), "{}", r.body);
    let huge = "x".repeat(3 * 1024 * 1024);
    let r = c
        .post("/auth/login", &[("login", &huge), ("password", "x")])
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("trop volumineux"), "{}", r.body);
}

#[tokio::test]
async fn cross_site_fetches_are_refused_even_with_a_token() {
    use axum::body::Body;
    use axum::http::Request;
    let app = TestApp::sqlite().await;
    let mut c = app.signed_in("guardian").await;
    let body = format!("csrf={}", c.csrf());
    let forged = Request::post("/auth/logout")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(body.clone()))
        .expect("request");
    assert_eq!(c.send(forged).await.status, StatusCode::FORBIDDEN);
    assert_eq!(c.get("/").await.status, StatusCode::OK, "still signed in");
    let same_site = Request::post("/auth/logout")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .expect("request");
    assert_eq!(c.send(same_site).await.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/").await.location(), "/auth/login");
}
