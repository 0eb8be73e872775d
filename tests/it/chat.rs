//! Instant chat: conversations among reachable people only, members only, school hours.

use crate::db_tests;
use crate::support::TestApp;
use axum::http::StatusCode;
use chrono::Timelike;
use preau_domain::chat::ChatHours;
use preau_store::chat;

db_tests!(
    a_parent_and_the_teacher_chat,
    strangers_neither_join_nor_read,
    families_messages_wait_for_the_school_hours,
    starting_conversations_is_limited,
);

async fn start(app: &TestApp, who: &str, with: &str) -> (crate::support::Client, String) {
    let mut c = app.signed_in(who).await;
    let to = format!("u:{}", app.fx.id(with));
    let r = c
        .post(
            "/discussions",
            &[
                ("to", to.as_str()),
                ("title", "Sortie"),
                ("action", "create"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    (c, r.location().to_owned())
}

async fn a_parent_and_the_teacher_chat(app: TestApp) {
    // The teacher writes first: staff are not held by the school's hours.
    let (mut teacher, path) = start(&app, "teacher", "guardian").await;
    let r = teacher
        .post(&path, &[("body", "Bonjour, Léa a oublié son cahier.")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mut parent = app.signed_in("guardian").await;
    let list = parent.get("/discussions").await;
    assert!(
        list.body.contains("Sortie") && list.body.contains("1 non lu"),
        "{}",
        list.body
    );
    let page = parent.get(&path).await;
    assert!(
        page.body.contains("Léa a oublié son cahier"),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-stream"), "{}", page.body);
    // Read markers: the teacher sees the parent has read.
    let page = teacher.get(&path).await;
    assert!(page.body.contains("Lu par Camille Martin"), "{}", page.body);
    // Empty or oversized messages are refused.
    let empty = parent.post(&path, &[("body", "   ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let long = parent.post(&path, &[("body", &"x".repeat(2001))]).await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_messages").await, 1);
}

async fn strangers_neither_join_nor_read(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    for who in ["teacher_cm2", "other_guardian", "other_directeur"] {
        let to = format!("u:{}", app.fx.id(who));
        let r = parent
            .post("/discussions", &[("to", to.as_str()), ("action", "create")])
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{who}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_conversations").await,
        0
    );
    let (_, path) = start(&app, "guardian", "teacher").await;
    for who in ["other_guardian", "teacher_cm2", "other_directeur"] {
        let mut c = app.signed_in(who).await;
        assert_eq!(c.get(&path).await.status, StatusCode::NOT_FOUND, "{who}");
        assert_eq!(
            c.post(&path, &[("body", "intrus")]).await.status,
            StatusCode::NOT_FOUND,
            "{who}"
        );
        assert_eq!(
            c.get(&format!("{path}/flux")).await.status,
            StatusCode::NOT_FOUND,
            "{who}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_messages").await, 0);
}

async fn families_messages_wait_for_the_school_hours(app: TestApp) {
    // Hours that do not include now: the parent's message waits, the teacher does not see it.
    let hour = preau_domain::time::to_paris(preau_store::now()).hour();
    let (opens, closes) = if hour < 20 {
        (hour + 2, hour + 3)
    } else {
        (1, 2)
    };
    let hours = ChatHours::parse(&format!("{opens:02}:00"), &format!("{closes:02}:00")).unwrap();
    let mut directeur = app.signed_in("directeur").await;
    let form = format!("/admin/structures/{}/horaires", app.fx.elementaire);
    let bad = directeur
        .post(&form, &[("opens", "18:00"), ("closes", "08:00")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (o, c) = (format!("{opens:02}:00"), format!("{closes:02}:00"));
    let set = directeur
        .post(&form, &[("opens", o.as_str()), ("closes", c.as_str())])
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    assert_eq!(
        chat::hours(&app.db, app.fx.tenant, app.fx.elementaire)
            .await
            .unwrap(),
        hours
    );
    let mut parent = app.signed_in("guardian").await;
    let refused = parent
        .post(&form, &[("opens", "07:00"), ("closes", "20:00")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    chat::set_hours(
        &app.db,
        app.fx.tenant,
        app.fx.maternelle,
        hours,
        app.fx.id("directeur"),
    )
    .await
    .unwrap();
    let (_, path) = start(&app, "guardian", "teacher").await;
    let r = parent
        .post(&path, &[("body", "Question pour demain")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let own = parent.get(&path).await;
    assert!(
        own.body.contains("Question pour demain") && own.body.contains("Sera remis"),
        "{}",
        own.body
    );
    let mut teacher = app.signed_in("teacher").await;
    let page = teacher.get(&path).await;
    assert!(!page.body.contains("Question pour demain"), "{}", page.body);
}

async fn starting_conversations_is_limited(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    let to = format!("u:{}", app.fx.id("teacher"));
    for i in 0..20 {
        let title = format!("Sujet {i}");
        let r = parent
            .post(
                "/discussions",
                &[
                    ("to", to.as_str()),
                    ("title", title.as_str()),
                    ("action", "create"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{i}");
    }
    let r = parent
        .post(
            "/discussions",
            &[
                ("to", to.as_str()),
                ("title", "Encore"),
                ("action", "create"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("trop de discussions"), "{}", r.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM chat_conversations").await,
        20
    );
}
