//! Absences: the register by half-day, the directeur's day, families' notices, alerts for
//! unexplained absences, and the monthly summary.

use crate::db_tests;
use crate::support::TestApp;
use axum::http::StatusCode;
use chrono::Datelike;

db_tests!(
    an_absence_marked_reaches_the_directeur_and_alerts_the_family,
    a_notice_given_in_advance_explains_the_absence,
    registers_and_notices_stay_within_ones_own,
    the_monthly_summary_counts_half_days,
);

fn today() -> chrono::NaiveDate {
    preau_domain::time::paris_today(chrono::Utc::now())
}

async fn an_absence_marked_reaches_the_directeur_and_alerts_the_family(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp;
    let day = today().format("%Y-%m-%d").to_string();
    let page = teacher
        .get(&format!("/absences/classe/{cp}?jour={day}&demi=matin"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Martin Léa"), "{}", page.body);
    let lea = app.fx.id("pupil_cp");
    let field = format!("p-{lea}");
    let saved = teacher
        .post(
            &format!("/absences/classe/{cp}?jour={day}&demi=matin"),
            &[(field.as_str(), "absence")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // The directeur's page of the day shows it (and its live fragment too).
    let mut directeur = app.signed_in("directeur").await;
    let school = app.fx.elementaire;
    let day_page = directeur.get(&format!("/absences/ecole/{school}")).await;
    assert_eq!(day_page.status, StatusCode::OK);
    assert!(day_page.body.contains("Martin Léa"), "{}", day_page.body);
    assert!(day_page.body.contains("non signalée"), "{}", day_page.body);
    // The family is alerted, at once (urgent), in the ENT and by e-mail.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'absence' AND urgent")
            .await,
        1
    );
    app.run_jobs().await;
    let mails = app.mailer.messages();
    assert!(
        mails
            .iter()
            .any(|m| m.body.contains("Léa Martin est absent(e)")),
        "{mails:?}"
    );
    let mut parent = app.signed_in("guardian").await;
    let home = parent.get("/").await;
    assert!(
        home.body.contains("Absence non signalée : Léa Martin"),
        "{}",
        home.body
    );
    // Saving the register again does not alert twice; marking present removes the absence.
    teacher
        .post(
            &format!("/absences/classe/{cp}?jour={day}&demi=matin"),
            &[(field.as_str(), "absence")],
        )
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'absence'")
            .await,
        1
    );
    teacher
        .post(
            &format!("/absences/classe/{cp}?jour={day}&demi=matin"),
            &[(field.as_str(), "present")],
        )
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM absences").await, 0);
}

async fn a_notice_given_in_advance_explains_the_absence(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    let lea = app.fx.id("pupil_cp").to_string();
    let day = today().format("%Y-%m-%d").to_string();
    let given = parent
        .post(
            "/absences/prevenir",
            &[
                ("pupil", lea.as_str()),
                ("from_day", day.as_str()),
                ("from_half", "matin"),
                ("to_day", day.as_str()),
                ("to_half", "apres-midi"),
                ("reason", "Rendez-vous chez l'orthophoniste"),
            ],
        )
        .await;
    assert_eq!(given.status, StatusCode::SEE_OTHER, "{}", given.body);
    // The teacher is told and sees it on the register.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'absence_notice'")
            .await,
        1
    );
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp;
    let register = teacher
        .get(&format!("/absences/classe/{cp}?jour={day}&demi=apres-midi"))
        .await;
    assert!(register.body.contains("orthophoniste"), "{}", register.body);
    let field = format!("p-{lea}");
    teacher
        .post(
            &format!("/absences/classe/{cp}?jour={day}&demi=apres-midi"),
            &[(field.as_str(), "absence")],
        )
        .await;
    // Explained: no alert to the family.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'absence'")
            .await,
        0
    );
    let mut directeur = app.signed_in("directeur").await;
    let page = directeur
        .get(&format!("/absences/ecole/{}", app.fx.elementaire))
        .await;
    assert!(
        page.body.contains("signalée par la famille"),
        "{}",
        page.body
    );
    assert!(page.body.contains("orthophoniste"), "{}", page.body);
    let family = parent.get("/absences").await;
    assert!(family.body.contains("orthophoniste"), "{}", family.body);
}

async fn registers_and_notices_stay_within_ones_own(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let cm2 = app.fx.class_cm2;
    assert_eq!(
        teacher.get(&format!("/absences/classe/{cm2}")).await.status,
        StatusCode::NOT_FOUND
    );
    let tom = app.fx.id("pupil_cm2");
    let field = format!("p-{tom}");
    let r = teacher
        .post(
            &format!("/absences/classe/{cm2}"),
            &[(field.as_str(), "absence")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A pupil of another class slipped into one's own register.
    let cp = app.fx.class_cp;
    let r = teacher
        .post(
            &format!("/absences/classe/{cp}"),
            &[(field.as_str(), "absence")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM absences").await, 0);
    // A teacher does not see the school's day; the other tenant's directeur neither.
    let school = app.fx.elementaire;
    assert_eq!(
        teacher
            .get(&format!("/absences/ecole/{school}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let mut stranger = app.signed_in("other_directeur").await;
    assert_eq!(
        stranger
            .get(&format!("/absences/ecole/{school}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A notice for someone else's child; a notice in the past; a reversed range.
    let mut parent = app.signed_in("other_guardian").await;
    let lea = app.fx.id("pupil_cp").to_string();
    let day = today().format("%Y-%m-%d").to_string();
    let notice = |pupil: &str, from: &str, to: &str| {
        vec![
            ("pupil".to_owned(), pupil.to_owned()),
            ("from_day".to_owned(), from.to_owned()),
            ("from_half".to_owned(), "matin".to_owned()),
            ("to_day".to_owned(), to.to_owned()),
            ("to_half".to_owned(), "matin".to_owned()),
            ("reason".to_owned(), "Malade".to_owned()),
        ]
    };
    let tom = app.fx.id("pupil_cm2").to_string();
    let yesterday = (today() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let tomorrow = (today() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let cases = [
        (
            notice(&lea, &day, &day),
            StatusCode::FORBIDDEN,
            "vos propres enfants",
        ),
        (
            notice(&tom, &yesterday, &yesterday),
            StatusCode::BAD_REQUEST,
            "absence passée",
        ),
        (
            notice(&tom, &tomorrow, &day),
            StatusCode::BAD_REQUEST,
            "avant son début",
        ),
    ];
    for (fields, status, words) in cases {
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = parent.post("/absences/prevenir", &borrowed).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert!(r.body.contains(words), "{}", r.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM absence_notices").await, 0);
}

async fn the_monthly_summary_counts_half_days(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp;
    let lea = format!("p-{}", app.fx.id("pupil_cp"));
    let first = today().with_day(1).unwrap_or(today());
    for (offset, half, mark) in [
        (0, "matin", "absence"),
        (0, "apres-midi", "absence"),
        (1, "matin", "retard"),
    ] {
        let day = first + chrono::Duration::days(offset);
        if day > today() {
            continue;
        }
        let r = teacher
            .post(
                &format!(
                    "/absences/classe/{cp}?jour={}&demi={half}",
                    day.format("%Y-%m-%d")
                ),
                &[(lea.as_str(), mark)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let mut directeur = app.signed_in("directeur").await;
    let month = directeur
        .get(&format!(
            "/absences/mois/{cp}?mois={}",
            first.format("%Y-%m")
        ))
        .await;
    assert_eq!(month.status, StatusCode::OK);
    assert!(month.body.contains("Martin Léa"), "{}", month.body);
    assert!(month.body.contains("<td>A/A</td>"), "{}", month.body);
    assert!(
        month.body.contains("<td>2</td>"),
        "two half-days: {}",
        month.body
    );
    // The register of a day to come cannot be taken.
    let later = (today() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let r = teacher
        .post(
            &format!("/absences/classe/{cp}?jour={later}&demi=matin"),
            &[(lea.as_str(), "absence")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A parent does not read a class's summary.
    let mut parent = app.signed_in("guardian").await;
    assert_eq!(
        parent.get(&format!("/absences/mois/{cp}")).await.status,
        StatusCode::NOT_FOUND
    );
}
