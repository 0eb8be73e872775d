//! Cahier de liaison: posting to one's own classes only, families signing for their own
//! children only, private replies when allowed, history of edits, reminders, scheduled
//! publication, files, and the urgent flag kept within the SMS budget.

use crate::db_tests;
use crate::support::{Client, Response, TestApp};
use axum::http::StatusCode;
use uuid::Uuid;

db_tests!(
    a_teacher_posts_families_sign_and_the_teacher_sees_who,
    nobody_posts_or_signs_beyond_their_own,
    replies_are_private_and_only_when_allowed,
    the_directeur_writes_to_the_whole_school_and_schedules,
    edits_keep_a_visible_history,
    reminders_go_to_those_who_have_not_signed,
    files_go_with_the_mot_and_only_to_its_readers,
    urgent_mots_are_rare_and_within_the_sms_budget,
    pupils_read_their_class_mots,
);

/// Posts a mot through the form; returns the response.
pub async fn post_mot(c: &mut Client, fields: &[(&str, &str)]) -> Response {
    c.post_multipart("/liaison/nouveau", fields, &[]).await
}

/// The mot's id from the redirect after posting.
pub fn mot_id(r: &Response) -> Uuid {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.location();
    let id = location
        .trim_start_matches("/liaison/")
        .split('?')
        .next()
        .unwrap_or_default();
    id.parse()
        .unwrap_or_else(|_| panic!("mot id in {location}"))
}

async fn a_teacher_posts_families_sign_and_the_teacher_sees_who(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let form = teacher.get("/liaison/nouveau").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("CP"), "{}", form.body);
    // Only the teacher's own class is offered.
    assert!(!form.body.contains(&app.fx.class_cm2.to_string()));
    let cp = app.fx.class_cp.to_string();
    let posted = post_mot(
        &mut teacher,
        &[
            ("audience", "classes"),
            ("classes", &cp),
            ("title", "Sortie au musée vendredi"),
            ("body", "Merci de signer ce mot.\nPrévoir un pique-nique."),
            ("language", "fr"),
            ("signature", "1"),
        ],
    )
    .await;
    let id = mot_id(&posted);
    // The family sees it at once, with one button per child it concerns.
    let mut parent = app.signed_in("guardian").await;
    let list = parent.get("/liaison").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("Sortie au musée vendredi"),
        "{}",
        list.body
    );
    assert!(list.body.contains("Je signe pour Léa"), "{}", list.body);
    assert!(!list.body.contains("Je signe pour Zoé"), "{}", list.body);
    // The other family (CM2) does not, not even by id.
    let mut other = app.signed_in("other_guardian").await;
    assert!(!other.get("/liaison").await.body.contains("Sortie au musée"));
    assert_eq!(
        other.get(&format!("/liaison/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Before: nobody has signed.
    let tracking = teacher.get(&format!("/liaison/{id}")).await;
    assert!(
        tracking.body.contains("Vu pour 0 élève(s) sur 1"),
        "{}",
        tracking.body
    );
    assert!(
        tracking.body.contains("Camille Martin"),
        "{}",
        tracking.body
    );
    let staff_list = teacher.get("/liaison").await;
    assert!(staff_list.body.contains("0 / 1"), "{}", staff_list.body);

    // One tap for Léa.
    let lea = app.fx.id("pupil_cp").to_string();
    let signed = parent
        .post(&format!("/liaison/{id}/vu"), &[("pupil", lea.as_str())])
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let again = parent
        .post(&format!("/liaison/{id}/vu"), &[("pupil", lea.as_str())])
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM liaison_acks").await, 1);
    assert!(parent.get("/liaison").await.body.contains("Vu pour Léa le"));

    let tracking = teacher.get(&format!("/liaison/{id}")).await;
    assert!(
        tracking.body.contains("Vu pour 1 élève(s) sur 1"),
        "{}",
        tracking.body
    );
    assert!(teacher.get("/liaison").await.body.contains("1 / 1"));

    // The publication job told the family in the ENT (and the timeline on the home page).
    app.run_jobs().await;
    let notified = app
        .count("SELECT COUNT(*) FROM notifications WHERE kind = 'liaison'")
        .await;
    assert_eq!(notified, 1, "only Léa's guardian is told");
    let home = other.get("/").await;
    assert!(!home.body.contains("Sortie au musée"));
}

async fn nobody_posts_or_signs_beyond_their_own(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let cm2 = app.fx.class_cm2.to_string();
    // A class the teacher does not teach: refused, with the reason, and nothing written.
    let refused = post_mot(
        &mut teacher,
        &[
            ("audience", "classes"),
            ("classes", &cm2),
            ("title", "Intrusion"),
            ("body", "Texte"),
            ("language", "fr"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Vous ne pouvez écrire qu’aux classes"),
        "{}",
        refused.body
    );
    // A pupil of another class, chosen one by one: refused too.
    let tom = app.fx.id("pupil_cm2").to_string();
    let refused = post_mot(
        &mut teacher,
        &[
            ("audience", "pupils"),
            ("pupils", &tom),
            ("title", "Intrusion"),
            ("body", "Texte"),
            ("language", "fr"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // The whole school is the directeur's.
    let refused = post_mot(
        &mut teacher,
        &[
            ("audience", "school"),
            ("title", "Tous"),
            ("body", "Texte"),
            ("language", "fr"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // A bad form: a clear message, the form again, nothing written.
    let cp = app.fx.class_cp.to_string();
    let empty = post_mot(
        &mut teacher,
        &[
            ("audience", "classes"),
            ("classes", &cp),
            ("title", ""),
            ("body", "x"),
            ("language", "fr"),
        ],
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(
        empty.body.contains("Donnez un titre au mot"),
        "{}",
        empty.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM liaison_mots").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);

    // Parents and pupils do not write mots.
    let mut parent = app.signed_in("guardian").await;
    assert_eq!(
        parent.get("/liaison/nouveau").await.status,
        StatusCode::NOT_FOUND
    );

    let id = mot_id(
        &post_mot(
            &mut teacher,
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Mot"),
                ("body", "Texte"),
                ("language", "fr"),
                ("signature", "1"),
            ],
        )
        .await,
    );
    // Signing for a child who is not one's own: refused with the reason.
    let mut other = app.signed_in("other_guardian").await;
    let lea = app.fx.id("pupil_cp").to_string();
    let r = other
        .post(&format!("/liaison/{id}/vu"), &[("pupil", lea.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("vos propres enfants"), "{}", r.body);
    // Signing for one's own child the mot is not for: nothing to sign.
    let tom = app.fx.id("pupil_cm2").to_string();
    let r = other
        .post(&format!("/liaison/{id}/vu"), &[("pupil", tom.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM liaison_acks").await, 0);
    // Another tenant's directeur cannot open it.
    let mut stranger = app.signed_in("other_directeur").await;
    assert_eq!(
        stranger.get(&format!("/liaison/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    // The CM2 teacher (same school) does not see a CP mot.
    let mut colleague = app.signed_in("teacher_cm2").await;
    assert_eq!(
        colleague.get(&format!("/liaison/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn replies_are_private_and_only_when_allowed(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp.to_string();
    let closed = mot_id(
        &post_mot(
            &mut teacher,
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Info"),
                ("body", "Sans réponse"),
                ("language", "fr"),
            ],
        )
        .await,
    );
    let open = mot_id(
        &post_mot(
            &mut teacher,
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Réunion"),
                ("body", "Qui vient ?"),
                ("language", "fr"),
                ("replies", "1"),
            ],
        )
        .await,
    );
    let mut parent = app.signed_in("guardian").await;
    let lea = app.fx.id("pupil_cp").to_string();
    let refused = parent
        .post(
            &format!("/liaison/{closed}/repondre"),
            &[("pupil", lea.as_str()), ("body", "Bonjour")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("Les réponses ne sont pas ouvertes"),
        "{}",
        refused.body
    );
    let page = parent.get(&format!("/liaison/{closed}")).await;
    assert!(page.body.contains("Les réponses ne sont pas ouvertes"));

    let replied = parent
        .post(
            &format!("/liaison/{open}/repondre"),
            &[("pupil", lea.as_str()), ("body", "Je viendrai.")],
        )
        .await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.body);
    // The teacher sees it and answers that family only.
    let tracking = teacher.get(&format!("/liaison/{open}")).await;
    assert!(tracking.body.contains("Je viendrai."), "{}", tracking.body);
    assert!(tracking.body.contains("1 réponse(s)"), "{}", tracking.body);
    let guardian = app.fx.id("guardian").to_string();
    let answered = teacher
        .post(
            &format!("/liaison/{open}/repondre"),
            &[
                ("pupil", lea.as_str()),
                ("guardian", guardian.as_str()),
                ("body", "Merci !"),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    assert!(
        parent
            .get(&format!("/liaison/{open}"))
            .await
            .body
            .contains("Merci !")
    );
    // The teacher cannot start an exchange with a family that wrote nothing.
    let other = app.fx.id("other_guardian").to_string();
    let r = teacher
        .post(
            &format!("/liaison/{open}/repondre"),
            &[
                ("pupil", lea.as_str()),
                ("guardian", other.as_str()),
                ("body", "?"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A pupil does not reply.
    let mut pupil = app.signed_in("pupil_cp").await;
    let r = pupil
        .post(
            &format!("/liaison/{open}/repondre"),
            &[("pupil", lea.as_str()), ("body", "coucou")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM liaison_replies").await, 2);
    // The author was told in the ENT.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'liaison_reply'")
            .await,
        2
    );
}

async fn the_directeur_writes_to_the_whole_school_and_schedules(app: TestApp) {
    let mut directeur = app.signed_in("directeur").await;
    let now = chrono::Utc::now();
    let tomorrow = preau_domain::time::to_paris(now + chrono::Duration::days(1)).date();
    let posted = post_mot(
        &mut directeur,
        &[
            ("audience", "school"),
            ("title", "Grève jeudi"),
            ("body", "L'école sera fermée."),
            ("language", "fr"),
            ("publish_date", &tomorrow.format("%Y-%m-%d").to_string()),
            ("publish_time", "07:45"),
        ],
    )
    .await;
    let id = mot_id(&posted);
    // Both classes' families, but not before the time.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM liaison_recipients").await,
        2
    );
    let mut parent = app.signed_in("guardian").await;
    assert!(!parent.get("/liaison").await.body.contains("Grève jeudi"));
    assert_eq!(
        parent.get(&format!("/liaison/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let staff = directeur.get("/liaison").await;
    assert!(staff.body.contains("programmé"), "{}", staff.body);
    // Jobs of the future do not run now.
    app.run_jobs().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'liaison'")
            .await,
        0
    );
    // The time comes.
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    app.exec_at("UPDATE liaison_mots SET publish_at = $1", past, None)
        .await;
    app.exec_at("UPDATE jobs SET run_at = $1", past, None).await;
    assert!(parent.get("/liaison").await.body.contains("Grève jeudi"));
    app.run_jobs().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'liaison'")
            .await,
        2,
        "both families"
    );
    // Running the job twice does not tell anyone twice.
    preau_store::jobs::enqueue(
        &app.db,
        Some(app.fx.tenant.id()),
        preau_store::liaison::PUBLISH_JOB,
        &format!("{{\"mot\":\"{id}\"}}"),
        chrono::Utc::now(),
    )
    .await
    .expect("job");
    app.run_jobs().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE kind = 'liaison'")
            .await,
        2
    );
}

async fn edits_keep_a_visible_history(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp.to_string();
    let id = mot_id(
        &post_mot(
            &mut teacher,
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Piscine"),
                ("body", "Mardi à 10 h"),
                ("language", "fr"),
            ],
        )
        .await,
    );
    let edited = teacher
        .post(
            &format!("/liaison/{id}/modifier"),
            &[("title", "Piscine"), ("body", "Mardi à 14 h")],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let mut parent = app.signed_in("guardian").await;
    let page = parent.get(&format!("/liaison/{id}")).await;
    assert!(page.body.contains("Mardi à 14 h"), "{}", page.body);
    assert!(page.body.contains("Modifié le"), "{}", page.body);
    assert!(
        page.body.contains("Mardi à 10 h"),
        "the old text stays readable"
    );
    // Only its author or the directeur edits it.
    let mut colleague = app.signed_in("teacher_cm2").await;
    let r = colleague
        .post(
            &format!("/liaison/{id}/modifier"),
            &[("title", "X"), ("body", "Y")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = parent
        .post(
            &format!("/liaison/{id}/modifier"),
            &[("title", "X"), ("body", "Y")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT COUNT(*) FROM liaison_revisions").await, 1);
}

async fn reminders_go_to_those_who_have_not_signed(app: TestApp) {
    let mut directeur = app.signed_in("directeur").await;
    let id = mot_id(
        &post_mot(
            &mut directeur,
            &[
                ("audience", "school"),
                ("title", "Photo de classe"),
                ("body", "Autorisation à signer"),
                ("language", "fr"),
                ("signature", "1"),
            ],
        )
        .await,
    );
    let mut parent = app.signed_in("guardian").await;
    let lea = app.fx.id("pupil_cp").to_string();
    parent
        .post(&format!("/liaison/{id}/vu"), &[("pupil", lea.as_str())])
        .await;
    let reminded = directeur
        .post(&format!("/liaison/{id}/relancer"), &[])
        .await;
    assert_eq!(reminded.status, StatusCode::SEE_OTHER, "{}", reminded.body);
    let who = app
        .count("SELECT COUNT(*) FROM notifications WHERE kind = 'liaison_reminder'")
        .await;
    assert_eq!(who, 1, "only Tom's guardian, who has not signed");
    let page = directeur.get(&format!("/liaison/{id}?ok=relance")).await;
    assert!(page.body.contains("ont été relancées"), "{}", page.body);
    // Not twice within the hour.
    let again = directeur
        .post(&format!("/liaison/{id}/relancer"), &[])
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("moins d’une heure"), "{}", again.body);
    // The "who has not signed" view, one class.
    let cm2 = app.fx.class_cm2;
    let view = directeur.get(&format!("/liaison/{id}?classe={cm2}")).await;
    assert!(view.body.contains("Tom"), "{}", view.body);
    assert!(!view.body.contains("Léa Martin"), "{}", view.body);
    assert!(view.body.contains("En attente"));
}

async fn files_go_with_the_mot_and_only_to_its_readers(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp.to_string();
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let posted = teacher
        .post_multipart(
            "/liaison/nouveau",
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Menu"),
                ("body", "Voir la pièce jointe"),
                ("language", "fr"),
            ],
            &[("files", "autorisation sortie.pdf", pdf.clone())],
        )
        .await;
    let id = mot_id(&posted);
    let mut parent = app.signed_in("guardian").await;
    let page = parent.get(&format!("/liaison/{id}")).await;
    let link = page
        .body
        .split("href=\"/liaison/pieces/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("attachment link")
        .to_owned();
    let (status, kind, body) = parent.download(&format!("/liaison/pieces/{link}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "application/pdf");
    assert!(body.starts_with("%PDF"));
    let mut other = app.signed_in("other_guardian").await;
    let (status, _, _) = other.download(&format!("/liaison/pieces/{link}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Too big: refused with the reason, nothing kept (neither the mot nor the file).
    let big = vec![b'%'; 11 * 1024 * 1024];
    let refused = teacher
        .post_multipart(
            "/liaison/nouveau",
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Gros"),
                ("body", "x"),
                ("language", "fr"),
            ],
            &[("files", "gros.pdf", big)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("gros.pdf"), "{}", refused.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM liaison_mots").await, 1);
    let stored = std::fs::read_dir(app.config.data_dir.join("attachments"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(stored, 1, "only the first mot's file stays on disk");
}

async fn urgent_mots_are_rare_and_within_the_sms_budget(app: TestApp) {
    app.exec("UPDATE tenants SET sms_monthly_budget = 2").await;
    let guardian = app.fx.id("guardian");
    app.exec_at(
        "UPDATE users SET mobile = '06 12 34 56 78', updated_at = $1 WHERE id = $2",
        chrono::Utc::now(),
        Some(guardian),
    )
    .await;
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp.to_string();
    let urgent = |title: &'static str| {
        vec![
            ("audience", "classes"),
            ("classes", cp.as_str()),
            ("title", title),
            ("body", "Fermeture exceptionnelle"),
            ("language", "fr"),
            ("urgent", "1"),
        ]
    };
    mot_id(&post_mot(&mut teacher, &urgent("Urgent 1")).await);
    app.run_jobs().await;
    let sms = app.sms.messages();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0].0, "33612345678");
    assert!(sms[0].1.contains("Urgent 1"), "{}", sms[0].1);
    // Urgent goes by e-mail at once too, even to someone on the daily digest.
    assert!(
        app.mailer
            .messages()
            .iter()
            .any(|m| m.subject.contains("Urgent 1"))
    );
    // A second one spends the budget; the third is refused with the reason.
    mot_id(&post_mot(&mut teacher, &urgent("Urgent 2")).await);
    app.run_jobs().await;
    assert_eq!(app.sms.messages().len(), 2);
    let refused = post_mot(&mut teacher, &urgent("Urgent 3")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .body
            .contains("crédit SMS du mois est épuisé (2 sur 2)"),
        "{}",
        refused.body
    );
    // With more budget, an author still posts at most three urgent mots a day.
    app.exec("UPDATE tenants SET sms_monthly_budget = 100")
        .await;
    mot_id(&post_mot(&mut teacher, &urgent("Urgent 3")).await);
    let refused = post_mot(&mut teacher, &urgent("Urgent 4")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("déjà publié 3 mots urgents"),
        "{}",
        refused.body
    );
    // Without the family's consent, no SMS.
    let mut parent = app.signed_in("guardian").await;
    parent
        .post(
            "/compte/notifications",
            &[("email_mode", "digest"), ("c-liaison-email", "1")],
        )
        .await;
    app.run_jobs().await;
    let before = app.sms.messages().len();
    let mut directeur = app.signed_in("directeur").await;
    let mut fields = urgent("Urgent direction");
    fields.retain(|(k, _)| *k != "classes" && *k != "audience");
    fields.push(("audience", "school"));
    mot_id(&post_mot(&mut directeur, &fields).await);
    app.run_jobs().await;
    assert_eq!(
        app.sms.messages().len(),
        before,
        "the guardian turned SMS off"
    );
}

async fn pupils_read_their_class_mots(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let cp = app.fx.class_cp.to_string();
    let id = mot_id(
        &post_mot(
            &mut teacher,
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "Apportez un livre"),
                ("body", "Demain, chacun apporte son livre préféré."),
                ("language", "fr"),
            ],
        )
        .await,
    );
    let en = mot_id(
        &post_mot(
            &mut teacher,
            &[
                ("audience", "classes"),
                ("classes", &cp),
                ("title", "School trip"),
                ("body", "Friday."),
                ("language", "en"),
            ],
        )
        .await,
    );
    let mut pupil = app.signed_in("pupil_cp").await;
    let page = pupil.get("/liaison").await;
    assert!(page.body.contains("Apportez un livre"), "{}", page.body);
    assert!(page.body.contains("Écouter le mot"), "read-aloud offered");
    assert!(
        page.body.contains("lang=\"en\""),
        "a mot keeps its language"
    );
    assert_eq!(
        pupil.get(&format!("/liaison/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        pupil.get(&format!("/liaison/{en}")).await.status,
        StatusCode::OK
    );
    // Another class's pupil does not see it.
    let mut tom = app.signed_in("pupil_cm2").await;
    assert!(!tom.get("/liaison").await.body.contains("Apportez un livre"));
    assert_eq!(
        tom.get(&format!("/liaison/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}
