//! First sign-in with an activation code.

use crate::db_tests;
use crate::support::TestApp;
use axum::http::StatusCode;
use preau_domain::NationalProfile;
use preau_store::directory::{self, NewUser};
use preau_store::{Db, accounts};

db_tests!(
    activation_code_lets_a_new_parent_choose_a_password,
    bad_codes_and_weak_passwords_change_nothing,
    expired_codes_are_refused
);

const NEW_PASSWORD: &str = "Une-phrase-de-passe-2026!";

async fn new_parent(app: &TestApp) -> (uuid::Uuid, String, String) {
    let user = directory::create_user(
        &app.db,
        Some(app.fx.tenant),
        NewUser {
            first_name: "Nadia".into(),
            last_name: "Nouvelle".into(),
            email: None,
            birth_date: None,
        },
    )
    .await
    .expect("user");
    directory::add_profile(
        &app.db,
        app.fx.tenant,
        user.id,
        app.fx.elementaire,
        NationalProfile::Tuteur,
    )
    .await
    .expect("profile");
    let (code, _) = accounts::issue_activation_code(&app.db, Some(app.fx.tenant), user.id, None)
        .await
        .expect("code");
    (user.id, user.login, code)
}

async fn activation_code_lets_a_new_parent_choose_a_password(app: TestApp) {
    let (_, login, code) = new_parent(&app).await;
    assert_eq!(login, "nadia.nouvelle");
    let mut c = app.client().await;
    // Not activated yet: signing in explains what to do.
    let r = c.sign_in(&login, "quelque-chose").await;
    assert!(r.body.contains("pas encore activé"), "{}", r.body);
    // The code is typed in lower case with the printed dash.
    let printed = preau_domain::activation::format_code(&code).to_lowercase();
    let step1 = c
        .post("/auth/activate", &[("login", &login), ("code", &printed)])
        .await;
    assert_eq!(step1.status, StatusCode::OK, "{}", step1.body);
    assert!(step1.body.contains("Bienvenue Nadia"));
    let step2 = c
        .post(
            "/auth/activate/password",
            &[
                ("login", &login),
                ("code", &printed),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
                ("charter", "yes"),
            ],
        )
        .await;
    assert_eq!(step2.status, StatusCode::SEE_OTHER, "{}", step2.body);
    assert_eq!(c.get("/").await.status, StatusCode::OK);
    // The code cannot be used twice.
    let mut other = app.client().await;
    let again = other
        .post("/auth/activate", &[("login", &login), ("code", &code)])
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("déjà été utilisé"), "{}", again.body);
    assert_eq!(
        other.sign_in(&login, NEW_PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        accounts::count_audit(&app.db, "account.activated")
            .await
            .expect("audit"),
        1
    );
}

async fn state_of(db: &Db, login: &str) -> String {
    preau_store::directory::find_user_by_login(db, login)
        .await
        .expect("q")
        .map(|u| u.state.code().to_owned())
        .unwrap_or_default()
}

async fn bad_codes_and_weak_passwords_change_nothing(app: TestApp) {
    let (_, login, code) = new_parent(&app).await;
    let mut c = app.client().await;
    let wrong = c
        .post(
            "/auth/activate",
            &[("login", &login), ("code", "AAAAA-AAAAA")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("code d’activation incorrect"),
        "{}",
        wrong.body
    );
    let unknown = c
        .post("/auth/activate", &[("login", "inconnu"), ("code", &code)])
        .await;
    assert!(unknown.body.contains("code d’activation incorrect"));
    // Someone else's code does not open this account.
    let (other_code, _) =
        accounts::issue_activation_code(&app.db, Some(app.fx.tenant), app.fx.id("pupil_cp"), None)
            .await
            .expect("code");
    let crossed = c
        .post(
            "/auth/activate",
            &[("login", &login), ("code", &other_code)],
        )
        .await;
    assert_eq!(crossed.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (password, confirm, charter, expected) in [
        ("court", "court", "yes", "trop court"),
        ("abcdefghijklmnop", "abcdefghijklmnop", "yes", "trop simple"),
        (NEW_PASSWORD, "Autre-chose-2026!", "yes", "sont différents"),
    ] {
        let r = c
            .post(
                "/auth/activate/password",
                &[
                    ("login", &login),
                    ("code", &code),
                    ("password", password),
                    ("password_confirm", confirm),
                    ("charter", charter),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(expected), "{expected}: {}", r.body);
    }
    let no_charter = c
        .post(
            "/auth/activate/password",
            &[
                ("login", &login),
                ("code", &code),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(no_charter.body.contains("charte"), "{}", no_charter.body);
    assert_eq!(state_of(&app.db, &login).await, "pending");
    // The code still works after all that.
    let ok = c
        .post(
            "/auth/activate/password",
            &[
                ("login", &login),
                ("code", &code),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
                ("charter", "yes"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(state_of(&app.db, &login).await, "active");
}

async fn expired_codes_are_refused(app: TestApp) {
    let (user_id, login, code) = new_parent(&app).await;
    let past = preau_store::now() - chrono::Duration::days(1);
    app.exec_at(
        "UPDATE activation_codes SET expires_at = $1 WHERE user_id = $2",
        past,
        Some(user_id),
    )
    .await;
    let mut c = app.client().await;
    let r = c
        .post("/auth/activate", &[("login", &login), ("code", &code)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("a expiré"), "{}", r.body);
    let r = c
        .post(
            "/auth/activate/password",
            &[
                ("login", &login),
                ("code", &code),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
                ("charter", "yes"),
            ],
        )
        .await;
    assert!(r.body.contains("a expiré"));
    assert_eq!(state_of(&app.db, &login).await, "pending");
}
