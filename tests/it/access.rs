//! Who sees what: families, schools, tenants.

use crate::db_tests;
use crate::support::TestApp;
use axum::http::StatusCode;
use preau_store::{StoreError, directory};

db_tests!(
    a_parent_sees_their_children_in_two_schools_and_only_theirs,
    families_and_pupils_cannot_reach_administration,
    a_directeur_administers_only_their_school,
    tenants_never_see_each_other,
    store_reads_are_scoped_by_tenant,
    teachers_see_and_reset_only_their_pupils,
);

async fn a_parent_sees_their_children_in_two_schools_and_only_theirs(app: TestApp) {
    let mut c = app.signed_in("guardian").await;
    let home = c.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Mes enfants"));
    assert!(
        home.body.contains("Léa Martin") && home.body.contains("Zoé Martin"),
        "{}",
        home.body
    );
    assert!(home.body.contains("École élémentaire A") && home.body.contains("École maternelle B"));
    assert!(!home.body.contains("Tom Petit"));
    let zoe = c.get(&format!("/?enfant={}", app.fx.id("pupil_ms"))).await;
    assert_eq!(zoe.status, StatusCode::OK);
    assert!(zoe.body.contains("<h3>Zoé Martin</h3>"), "{}", zoe.body);
    // Another family's child, a child of another tenant, an unknown id, garbage: not found.
    for id in [
        app.fx.id("pupil_cm2").to_string(),
        app.fx.id("other_pupil").to_string(),
        uuid::Uuid::new_v4().to_string(),
    ] {
        let r = c.get(&format!("/?enfant={id}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        assert!(!r.body.contains("Tom Petit") && !r.body.contains("Noé"));
    }
    assert_eq!(
        c.get("/?enfant=pas-un-id").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn families_and_pupils_cannot_reach_administration(app: TestApp) {
    for who in ["guardian", "pupil_cp"] {
        let mut c = app.signed_in(who).await;
        assert_eq!(c.get("/admin").await.status, StatusCode::FORBIDDEN, "{who}");
        let users = format!("/admin/structures/{}/users", app.fx.elementaire);
        assert_eq!(c.get(&users).await.status, StatusCode::FORBIDDEN, "{who}");
        assert_eq!(
            c.get(&format!("/classes/{}", app.fx.class_cp)).await.status,
            StatusCode::NOT_FOUND,
            "{who}"
        );
        let code = format!(
            "/admin/structures/{}/users/{}/code",
            app.fx.elementaire,
            app.fx.id("pupil_cm2")
        );
        assert_eq!(
            c.post(&code, &[]).await.status,
            StatusCode::FORBIDDEN,
            "{who}"
        );
    }
    let mut anonymous = app.client().await;
    assert_eq!(anonymous.get("/admin").await.location(), "/auth/login");
}

async fn a_directeur_administers_only_their_school(app: TestApp) {
    let mut c = app.signed_in("directeur").await;
    let own = c
        .get(&format!("/admin/structures/{}/users", app.fx.elementaire))
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("Léa") && own.body.contains("Tom"));
    // Another school of the same tenant: forbidden; nothing is issued.
    let other = c
        .get(&format!("/admin/structures/{}/users", app.fx.maternelle))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let r = c
        .post(
            &format!(
                "/admin/structures/{}/users/{}/code",
                app.fx.maternelle,
                app.fx.id("pupil_ms")
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A pupil of another school, asked for through the directeur's own school: not found.
    let r = c
        .get(&format!(
            "/admin/structures/{}/users/{}",
            app.fx.elementaire,
            app.fx.id("pupil_ms")
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = c
        .post(
            &format!(
                "/admin/structures/{}/users/{}/state",
                app.fx.elementaire,
                app.fx.id("pupil_ms")
            ),
            &[("state", "disabled")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let zoe = directory::get_user(&app.db, app.fx.tenant, app.fx.id("pupil_ms"))
        .await
        .expect("user");
    assert_eq!(zoe.state.code(), "active");
}

async fn tenants_never_see_each_other(app: TestApp) {
    // The tenant admin of one tenant asks for the other tenant's school, class, users and tenant page.
    let mut agent = app.signed_in("agent").await;
    assert_eq!(
        agent
            .get(&format!("/admin/structures/{}", app.fx.elementaire))
            .await
            .status,
        StatusCode::OK
    );
    let other = app.fx.other_school;
    for path in [
        format!("/admin/structures/{other}"),
        format!("/admin/structures/{other}/users"),
        format!(
            "/admin/structures/{other}/users/{}",
            app.fx.id("other_pupil")
        ),
        format!("/admin/structures/{other}/classes/{}", app.fx.other_class),
        format!("/admin/tenants/{}", app.fx.other_tenant.id()),
        format!("/classes/{}", app.fx.other_class),
    ] {
        let r = agent.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            !r.body.contains("Noé") && !r.body.contains("ailleurs"),
            "{path}"
        );
    }
    let r = agent
        .post(
            &format!("/admin/structures/{other}/classes"),
            &[("name", "Intrus"), ("levels", "CP")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        directory::list_classes(&app.db, app.fx.other_tenant, other)
            .await
            .expect("classes")
            .len(),
        1
    );
    // The other tenant's directeur sees none of this tenant.
    let mut odile = app.signed_in("other_directeur").await;
    assert_eq!(
        odile
            .get(&format!("/admin/structures/{}/users", app.fx.elementaire))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        odile
            .get(&format!("/admin/structures/{other}/users"))
            .await
            .status,
        StatusCode::OK
    );
    // The platform operator sees both.
    let mut op = app.signed_in("operator").await;
    assert_eq!(
        op.get(&format!("/admin/structures/{other}/users"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        op.get(&format!("/admin/structures/{}/users", app.fx.elementaire))
            .await
            .status,
        StatusCode::OK
    );
}

async fn store_reads_are_scoped_by_tenant(app: TestApp) {
    let (mine, theirs) = (app.fx.tenant, app.fx.other_tenant);
    assert!(matches!(
        directory::get_user(&app.db, theirs, app.fx.id("pupil_cp")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        directory::get_structure(&app.db, theirs, app.fx.elementaire).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        directory::get_class(&app.db, mine, app.fx.other_class).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        directory::list_classes(&app.db, theirs, app.fx.elementaire)
            .await
            .expect("q")
            .is_empty()
    );
    assert!(
        directory::children_of(&app.db, theirs, app.fx.id("guardian"))
            .await
            .expect("q")
            .is_empty()
    );
    assert!(
        directory::list_structures(&app.db, theirs)
            .await
            .expect("q")
            .iter()
            .all(|s| s.tenant_id == theirs.id())
    );
    // Writes across tenants are refused and change nothing.
    let r = directory::link_guardian(
        &app.db,
        theirs,
        app.fx.id("guardian"),
        app.fx.id("other_pupil"),
        true,
    )
    .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
    let r = directory::add_class_member(
        &app.db,
        mine,
        app.fx.other_class,
        app.fx.id("pupil_cp"),
        preau_domain::ClassRole::Eleve,
    )
    .await;
    assert!(matches!(r, Err(StoreError::NotFound)));
    assert_eq!(
        directory::children_of(&app.db, mine, app.fx.id("guardian"))
            .await
            .expect("q")
            .len(),
        2
    );
}

async fn teachers_see_and_reset_only_their_pupils(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let list = teacher.get(&format!("/classes/{}", app.fx.class_cp)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Martin Léa") && !list.body.contains("Petit Tom"));
    assert_eq!(
        teacher
            .get(&format!("/classes/{}", app.fx.class_cm2))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A pupil of another class, through the teacher's class or the other one: refused.
    let r = teacher
        .post(
            &format!(
                "/classes/{}/pupils/{}/password",
                app.fx.class_cp,
                app.fx.id("pupil_cm2")
            ),
            &[("password", "Soleil42")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = teacher
        .post(
            &format!(
                "/classes/{}/pupils/{}/password",
                app.fx.class_cm2,
                app.fx.id("pupil_cm2")
            ),
            &[("password", "Soleil42")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A weak password is refused.
    let weak = teacher
        .post(
            &format!(
                "/classes/{}/pupils/{}/password",
                app.fx.class_cp,
                app.fx.id("pupil_cp")
            ),
            &[("password", "abc")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("trop court"));
    let ok = teacher
        .post(
            &format!(
                "/classes/{}/pupils/{}/password",
                app.fx.class_cp,
                app.fx.id("pupil_cp")
            ),
            &[("password", "Soleil42")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.body.contains("a été changé"), "{}", ok.body);
    let mut pupil = app.client().await;
    assert_eq!(
        pupil
            .sign_in(app.fx.login("pupil_cp"), "Soleil42")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The directeur may reset any pupil of the school; a parent may not.
    let mut dir = app.signed_in("directeur").await;
    let r = dir
        .post(
            &format!(
                "/classes/{}/pupils/{}/password",
                app.fx.class_cm2,
                app.fx.id("pupil_cm2")
            ),
            &[("password", "Nuage2026")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut parent = app.signed_in("other_guardian").await;
    let r = parent
        .post(
            &format!(
                "/classes/{}/pupils/{}/password",
                app.fx.class_cm2,
                app.fx.id("pupil_cm2")
            ),
            &[("password", "Pirate2026")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.client()
            .await
            .sign_in(app.fx.login("pupil_cm2"), "Nuage2026")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}
