//! Administration pages: tenants, structures, classes, people, codes, links, states.

use crate::db_tests;
use crate::support::{PASSWORD, TestApp};
use axum::http::StatusCode;
use preau_store::directory;

db_tests!(
    the_operator_creates_tenants_and_structures_with_checks,
    a_directeur_creates_a_class_and_people_and_issues_codes,
    a_directeur_links_guardians_and_deactivates_accounts,
    schools_attach_to_a_commune_and_a_circonscription_only,
);

async fn schools_attach_to_a_commune_and_a_circonscription_only(app: TestApp) {
    let mut agent = app.signed_in("agent").await;
    let post = format!("/admin/tenants/{}/structures", app.fx.tenant.id());
    let r = agent
        .post(
            &post,
            &[
                ("kind", "circonscription"),
                ("name", "Circonscription Nord"),
                ("uai", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let circo = r
        .location()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let school = app.fx.elementaire.to_string();
    // A school given as circonscription is refused, and nothing is created.
    let before = directory::list_structures(&app.db, app.fx.tenant)
        .await
        .expect("q")
        .len();
    let r = agent
        .post(
            &post,
            &[
                ("kind", "ecole_maternelle"),
                ("name", "École du Pré"),
                ("uai", "0000011M"),
                ("circonscription_id", &school),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("rattachement est introuvable"),
        "{}",
        r.body
    );
    let r = agent
        .post(
            &post,
            &[
                ("kind", "ecole_maternelle"),
                ("name", "École du Pré"),
                ("uai", "0000011M"),
                ("circonscription_id", "pas-un-id"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        directory::list_structures(&app.db, app.fx.tenant)
            .await
            .expect("q")
            .len(),
        before
    );
    let r = agent
        .post(
            &post,
            &[
                ("kind", "ecole_maternelle"),
                ("name", "École du Pré"),
                ("uai", "0000011M"),
                ("circonscription_id", &circo),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let created = directory::list_structures(&app.db, app.fx.tenant)
        .await
        .expect("q");
    let pre = created
        .iter()
        .find(|s| s.name == "École du Pré")
        .expect("school");
    assert_eq!(pre.circonscription_id.map(|c| c.to_string()), Some(circo));
}

async fn the_operator_creates_tenants_and_structures_with_checks(app: TestApp) {
    let mut op = app.signed_in("operator").await;
    let bad = op
        .post(
            "/admin/tenants",
            &[
                ("name", "SIVU des Collines"),
                ("slug", "Pas Bon!"),
                ("kind", "syndicat"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("identifiant court"), "{}", bad.body);
    let taken = op
        .post(
            "/admin/tenants",
            &[
                ("name", "Doublon"),
                ("slug", "sm-test"),
                ("kind", "commune"),
            ],
        )
        .await;
    assert!(taken.body.contains("déjà pris"));
    let before = directory::list_tenants(&app.db).await.expect("q").len();
    let ok = op
        .post(
            "/admin/tenants",
            &[
                ("name", "SIVU des Collines"),
                ("slug", "sivu-collines"),
                ("kind", "syndicat"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(
        directory::list_tenants(&app.db).await.expect("q").len(),
        before + 1
    );
    let tenant_page = ok.location().to_owned();
    let tenant_id = tenant_page
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    // A school needs a valid UAI; a duplicate UAI is refused; nothing half-created.
    let post = format!("/admin/tenants/{tenant_id}/structures");
    let r = op
        .post(
            &post,
            &[
                ("kind", "ecole_primaire"),
                ("name", "École des Collines"),
                ("uai", "0000009Z"),
                ("commune", "Collines"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("UAI est incorrect"));
    let r = op
        .post(
            &post,
            &[
                ("kind", "ecole_primaire"),
                ("name", "École des Collines"),
                ("uai", "0000001B"),
                ("commune", "Collines"),
            ],
        )
        .await;
    assert!(r.body.contains("existe déjà"), "{}", r.body);
    let r = op
        .post(
            &post,
            &[
                ("kind", "ecole_primaire"),
                ("name", "École des Collines"),
                ("uai", "0000010L"),
                ("commune", "Collines"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = op.get(&tenant_page).await;
    assert!(page.body.contains("École des Collines"));
    // A tenant admin cannot create tenants.
    let mut agent = app.signed_in("agent").await;
    assert_eq!(
        agent
            .post(
                "/admin/tenants",
                &[("name", "X"), ("slug", "xx"), ("kind", "commune")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

async fn a_directeur_creates_a_class_and_people_and_issues_codes(app: TestApp) {
    let mut dir = app.signed_in("directeur").await;
    let school = app.fx.elementaire;
    let bad = dir
        .post(
            &format!("/admin/structures/{school}/classes"),
            &[("name", "CE1 A"), ("levels", "CE7")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Niveaux inconnus"));
    let ok = dir
        .post(
            &format!("/admin/structures/{school}/classes"),
            &[("name", "CE1-CE2"), ("levels", "CE2-CE1")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let class_id = ok
        .location()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let dup = dir
        .post(
            &format!("/admin/structures/{school}/classes"),
            &[("name", "CE1-CE2"), ("levels", "CE1")],
        )
        .await;
    assert!(dup.body.contains("existe déjà"));
    // A new pupil in that class, with a homonym's login deduplicated.
    let bad = dir
        .post(
            &format!("/admin/structures/{school}/users"),
            &[
                ("first_name", "Léa"),
                ("last_name", "Martin"),
                ("profile", "National_XXX"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let created = dir
        .post(
            &format!("/admin/structures/{school}/users"),
            &[
                ("first_name", "Léa"),
                ("last_name", "Martin"),
                ("profile", "National_ELV"),
                ("class_id", &class_id),
                ("birth_date", "2019-04-02"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = dir.get(created.location()).await;
    assert_eq!(page.testid("user-login").as_deref(), Some("lea.martin2"));
    assert!(page.body.contains("non activé"));
    assert!(page.body.contains("CE1-CE2"));
    // Issue a code and use it.
    let with_code = dir.post(&format!("{}/code", created.location()), &[]).await;
    assert_eq!(with_code.status, StatusCode::OK);
    let code = with_code.testid("activation-code").expect("code shown");
    assert_eq!(code.len(), 11);
    let mut pupil = app.client().await;
    let r = pupil
        .post(
            "/auth/activate/password",
            &[
                ("login", "lea.martin2"),
                ("code", &code),
                ("password", "Soleil42"),
                ("password_confirm", "Soleil42"),
                ("charter", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let home = pupil.get("/").await;
    assert!(home.body.contains("CE1-CE2"), "{}", home.body);
    // The class groups followed.
    let groups = directory::list_groups(&app.db, app.fx.tenant, school)
        .await
        .expect("groups");
    let pupils_group = groups
        .iter()
        .find(|g| g.name == "CE1-CE2 — National_ELV")
        .expect("class group");
    assert_eq!(pupils_group.members, 1);
}

async fn a_directeur_links_guardians_and_deactivates_accounts(app: TestApp) {
    let mut dir = app.signed_in("directeur").await;
    let school = app.fx.elementaire;
    let (parent, child) = (app.fx.id("other_guardian"), app.fx.id("pupil_cp"));
    // Linking a pupil as a guardian is refused.
    let r = dir
        .post(
            &format!("/admin/structures/{school}/links"),
            &[
                ("guardian_id", &app.fx.id("pupil_cm2").to_string()),
                ("child_id", &child.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Un lien de responsabilité"), "{}", r.body);
    let r = dir
        .post(
            &format!("/admin/structures/{school}/links"),
            &[
                ("guardian_id", &parent.to_string()),
                ("child_id", &child.to_string()),
                ("back", "child"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut paul = app.signed_in("other_guardian").await;
    let home = paul.get("/").await;
    assert!(
        home.body.contains("Léa Martin") && home.body.contains("Tom Petit"),
        "{}",
        home.body
    );
    assert!(home.body.contains(&format!("/?enfant={child}")));
    let r = dir
        .post(
            &format!("/admin/structures/{school}/links/remove"),
            &[
                ("guardian_id", &parent.to_string()),
                ("child_id", &child.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        paul.get(&format!("/?enfant={child}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Deactivation ends sessions and refuses sign-in with a clear message.
    let r = dir
        .post(
            &format!("/admin/structures/{school}/users/{parent}/state"),
            &[("state", "disabled")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(paul.get("/").await.location(), "/auth/login");
    let refused = app
        .client()
        .await
        .sign_in(app.fx.login("other_guardian"), PASSWORD)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("désactivé"));
    let r = dir
        .post(
            &format!("/admin/structures/{school}/users/{parent}/code"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = dir
        .post(
            &format!("/admin/structures/{school}/users/{parent}/state"),
            &[("state", "active")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.client()
            .await
            .sign_in(app.fx.login("other_guardian"), PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // Nobody deactivates themselves.
    let own = app.fx.id("directeur");
    assert_eq!(
        dir.post(
            &format!("/admin/structures/{school}/users/{own}/state"),
            &[("state", "disabled")]
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn manual_groups_take_members_of_the_school_only() {
    let app = TestApp::sqlite().await;
    let mut dir = app.signed_in("directeur").await;
    let school = app.fx.elementaire;
    let r = dir
        .post(
            &format!("/admin/structures/{school}/groups"),
            &[("name", "Conseil d'école")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let groups = directory::list_groups(&app.db, app.fx.tenant, school)
        .await
        .expect("groups");
    let group = groups
        .iter()
        .find(|g| g.name == "Conseil d'école")
        .expect("group");
    let add = format!(
        "/admin/structures/{school}/users/{}/groups",
        app.fx.id("other_guardian")
    );
    assert_eq!(
        dir.post(&add, &[("group_id", &group.id.to_string())])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // An automatic group cannot be filled by hand; a person of another school cannot be added.
    let automatic = groups
        .iter()
        .find(|g| g.kind == preau_domain::GroupKind::Profile)
        .expect("auto");
    assert_eq!(
        dir.post(&add, &[("group_id", &automatic.id.to_string())])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let other = format!(
        "/admin/structures/{school}/users/{}/groups",
        app.fx.id("pupil_ms")
    );
    assert_eq!(
        dir.post(&other, &[("group_id", &group.id.to_string())])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let after = directory::list_groups(&app.db, app.fx.tenant, school)
        .await
        .expect("groups");
    assert_eq!(
        after.iter().find(|g| g.id == group.id).map(|g| g.members),
        Some(1)
    );
    // Automatic groups are rebuilt without touching manual ones.
    directory::refresh_groups(&app.db, app.fx.tenant, school)
        .await
        .expect("refresh");
    let again = directory::list_groups(&app.db, app.fx.tenant, school)
        .await
        .expect("groups");
    assert_eq!(
        again.iter().find(|g| g.id == group.id).map(|g| g.members),
        Some(1)
    );
}
