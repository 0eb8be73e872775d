//! Messagerie: who may write to whom, reading only one's own messages, replies that never
//! widen the audience, broadcasts, recall, sending limits and the kill switch.

use crate::db_tests;
use crate::support::{Client, Response, TestApp};
use axum::http::StatusCode;
use preau_domain::NationalProfile;
use preau_domain::messaging::Block;
use preau_store::{communication, messages, notifications};

db_tests!(
    a_parent_writes_to_the_teacher_who_answers,
    people_out_of_reach_are_refused_and_nothing_is_sent,
    nobody_reads_another_persons_message,
    bodies_are_sanitised,
    the_mairie_broadcasts_to_families_who_cannot_answer,
    reply_all_never_widens_the_audience,
    a_recalled_message_disappears,
    pupils_are_limited_and_the_kill_switch_silences_them,
    the_directeur_moderates_reported_messages,
    the_directeur_changes_the_rules_and_reach_follows,
    a_tenant_administrator_flips_the_kill_switch_from_the_page,
    attachments_go_with_the_message_and_only_to_its_readers,
    forbidden_and_oversized_files_are_refused,
    the_teacher_lets_pupils_write_to_classmates,
    drafts_keep_what_was_typed_and_leave_when_sent,
    the_ien_reaches_the_directeurs_of_the_circonscription,
    the_json_api_applies_the_same_rules,
    structures_without_rules_get_the_defaults_at_start,
    a_one_way_writer_is_answered_more_than_once,
    folders_page_back_through_older_messages,
);

async fn write(c: &mut Client, to: &[String], subject: &str, body: &str) -> Response {
    let mut fields: Vec<(&str, &str)> = to.iter().map(|t| ("to", t.as_str())).collect();
    fields.extend([("subject", subject), ("body", body), ("action", "send")]);
    c.post("/messages/nouveau", &fields).await
}

fn person(app: &TestApp, who: &str) -> String {
    format!("u:{}", app.fx.id(who))
}

async fn a_parent_writes_to_the_teacher_who_answers(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    // "La maîtresse de Léa": the teacher is found by the child's first name.
    let found = parent.get("/messages/contacts?q=L%C3%A9a").await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains("Thomas Maitre"), "{}", found.body);
    assert!(found.body.contains("enseignant·e de Léa"), "{}", found.body);
    // The other class's teacher is not someone a parent may write to.
    let other = parent.get("/messages/contacts?q=Claire").await;
    assert!(!other.body.contains("Claire Enseignante"), "{}", other.body);

    let sent = write(
        &mut parent,
        &[person(&app, "teacher")],
        "Sortie de vendredi",
        "Léa aura besoin d'un goûter ?",
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let message = sent.location().to_owned();

    let mut teacher = app.signed_in("teacher").await;
    let inbox = teacher.get("/messages").await;
    assert!(inbox.body.contains("Sortie de vendredi"), "{}", inbox.body);
    assert!(inbox.body.contains("1 non lu"), "{}", inbox.body);
    let scope = app.fx.tenant;
    assert_eq!(
        notifications::unread_count(&app.db, scope, app.fx.id("teacher"))
            .await
            .unwrap(),
        1
    );
    let thread = teacher.get(&message).await;
    assert!(
        thread.body.contains("besoin d&#x27;un goûter")
            || thread.body.contains("besoin d'un goûter"),
        "{}",
        thread.body
    );
    assert_eq!(
        notifications::unread_count(&app.db, scope, app.fx.id("teacher"))
            .await
            .unwrap(),
        0
    );
    assert!(!teacher.get("/messages").await.body.contains("non lu"));
    let id = message.trim_start_matches("/messages/");
    let answered = teacher
        .post(
            &format!("/messages/{id}/repondre"),
            &[("body", "Oui, merci !")],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);

    let inbox = parent.get("/messages").await;
    assert!(
        inbox.body.contains("Re : Sortie de vendredi"),
        "{}",
        inbox.body
    );
    let sent_folder = parent.get("/messages?dossier=sent").await;
    assert!(sent_folder.body.contains("Sortie de vendredi"));
}

async fn people_out_of_reach_are_refused_and_nothing_is_sent(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    for to in [
        person(&app, "teacher_cm2"),
        person(&app, "other_guardian"),
        person(&app, "other_directeur"),
        format!("u:{}", uuid::Uuid::new_v4()),
        format!("g:{}", uuid::Uuid::new_v4()),
        "u:pas-un-id".to_owned(),
    ] {
        let r = write(&mut parent, std::slice::from_ref(&to), "Bonjour", "Texte").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{to}");
        assert!(
            r.body.contains("Vous ne pouvez pas écrire"),
            "{to}: {}",
            r.body
        );
    }
    let none = write(&mut parent, &[], "Bonjour", "Texte").await;
    assert!(none.body.contains("au moins un destinataire"));
    let long = write(
        &mut parent,
        &[person(&app, "teacher")],
        "Long",
        &"x".repeat(20_001),
    )
    .await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(long.body.contains("trop long"));
    let empty = write(&mut parent, &[person(&app, "teacher")], " ", "x").await;
    assert!(empty.body.contains("objet"));
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    // Without a CSRF token nothing is posted either.
    let forged = parent
        .post_raw(
            "/messages/nouveau",
            &[
                ("to", &person(&app, "teacher")),
                ("subject", "x"),
                ("body", "y"),
                ("action", "send"),
            ],
            Some("http://preau.test"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
}

async fn nobody_reads_another_persons_message(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    let sent = write(
        &mut parent,
        &[person(&app, "teacher")],
        "Privé",
        "Pour l'enseignant seulement",
    )
    .await;
    let path = sent.location().to_owned();
    for who in [
        "other_guardian",
        "teacher_cm2",
        "pupil_cp",
        "other_directeur",
    ] {
        let mut c = app.signed_in(who).await;
        let r = c.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}");
        assert!(
            !r.body.contains("Pour l&#x27;enseignant") && !r.body.contains("Pour l'enseignant")
        );
        for action in ["corbeille", "rappeler", "signaler", "repondre"] {
            let r = c
                .post(
                    &format!("{path}/{action}"),
                    &[("body", "x"), ("reason", "x")],
                )
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} {action}");
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM message_reports").await, 0);
}

async fn bodies_are_sanitised(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    let sent = write(
        &mut parent,
        &[person(&app, "teacher")],
        "<img src=x onerror=alert(1)>",
        "<script>alert('x')</script><b>important</b><a href=\"javascript:alert(1)\">lien</a>",
    )
    .await;
    let mut teacher = app.signed_in("teacher").await;
    let page = teacher.get(sent.location()).await;
    assert!(page.body.contains("<b>important</b>"), "{}", page.body);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("javascript:alert"), "{}", page.body);
    assert!(!page.body.contains("<img src=x"), "{}", page.body);
}

async fn the_mairie_broadcasts_to_families_who_cannot_answer(app: TestApp) {
    let scope = app.fx.tenant;
    let groups = communication::reachable_groups(&app.db, scope, app.fx.id("agent"))
        .await
        .unwrap();
    let families = groups
        .iter()
        .find(|g| {
            g.profile == NationalProfile::Tuteur
                && g.class_name.is_none()
                && g.structure_name == "École élémentaire A"
        })
        .expect("the school's families");
    assert!(families.broadcast);
    // The mairie reaches families, families do not reach the mairie.
    let parent_reach = communication::reachable(&app.db, scope, app.fx.id("guardian"))
        .await
        .unwrap();
    assert!(!parent_reach.contains_key(&app.fx.id("agent")));

    let mut agent = app.signed_in("agent").await;
    let sent = write(
        &mut agent,
        &[format!("g:{}", families.id)],
        "Cantine : menus de la semaine",
        "Lundi : poisson",
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let mut parent = app.signed_in("guardian").await;
    let page = parent.get(sent.location()).await;
    assert!(page.body.contains("Lundi : poisson"));
    assert!(
        page.body.contains("Pas de réponse possible"),
        "{}",
        page.body
    );
    let reply = parent
        .post(
            &format!("{}/repondre", sent.location()),
            &[("body", "Merci")],
        )
        .await;
    assert!(
        reply.body.contains("On ne peut pas répondre"),
        "{}",
        reply.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
    // Both families of the school got it; the maternelle-only family did not exist here.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM message_recipients").await,
        2
    );
}

async fn reply_all_never_widens_the_audience(app: TestApp) {
    let mut directeur = app.signed_in("directeur").await;
    let sent = write(
        &mut directeur,
        &[person(&app, "guardian"), person(&app, "other_guardian")],
        "Réunion de rentrée",
        "Jeudi 18 h",
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let mut parent = app.signed_in("guardian").await;
    let reply = parent
        .post(
            &format!("{}/repondre", sent.location()),
            &[("body", "Présent"), ("all", "1")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let reply_id =
        uuid::Uuid::parse_str(reply.location().trim_start_matches("/messages/")).unwrap();
    let recipients = messages::recipients(&app.db, app.fx.tenant, reply_id)
        .await
        .unwrap();
    // The other family is not someone this parent may reach: the reply goes to the directeur only.
    assert_eq!(recipients, vec![app.fx.id("directeur")]);
    // And the directeur, who wrote one-way to families, is answered again and again.
    let again = parent
        .post(
            &format!("{}/repondre", reply.location()),
            &[("body", "Encore moi")],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
}

async fn a_recalled_message_disappears(app: TestApp) {
    let mut teacher = app.signed_in("teacher").await;
    let sent = write(
        &mut teacher,
        &[person(&app, "guardian")],
        "Erreur",
        "Mauvais destinataire",
    )
    .await;
    let path = sent.location().to_owned();
    let mut parent = app.signed_in("guardian").await;
    assert!(parent.get("/messages").await.body.contains("Erreur"));
    let r = teacher.post(&format!("{path}/rappeler"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!parent.get("/messages").await.body.contains("Erreur"));
    assert_eq!(parent.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        notifications::unread_count(&app.db, app.fx.tenant, app.fx.id("guardian"))
            .await
            .unwrap(),
        0
    );
}

async fn pupils_are_limited_and_the_kill_switch_silences_them(app: TestApp) {
    let scope = app.fx.tenant;
    let mut pupil = app.signed_in("pupil_cp").await;
    // Classmates only when the teacher opens it; the class teacher always.
    let reach = communication::reachable(&app.db, scope, app.fx.id("pupil_cp"))
        .await
        .unwrap();
    assert!(reach.contains_key(&app.fx.id("teacher")));
    assert!(!reach.contains_key(&app.fx.id("pupil_cm2")));

    let block = Block {
        structure_id: None,
        profile: NationalProfile::Eleve,
    };
    messages::add_block(&app.db, scope, block, app.fx.id("agent"))
        .await
        .unwrap();
    let refused = write(
        &mut pupil,
        &[person(&app, "teacher")],
        "Coucou",
        "Bonjour maître",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("suspendu"), "{}", refused.body);
    // A teacher is not silenced by the pupils' switch.
    let mut teacher = app.signed_in("teacher").await;
    let ok = write(
        &mut teacher,
        &[person(&app, "pupil_cp")],
        "Devoirs",
        "Lire page 12",
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let (id, _) = messages::blocks(&app.db, scope).await.unwrap()[0];
    messages::remove_block(&app.db, scope, id, app.fx.id("agent"))
        .await
        .unwrap();

    for i in 0..10 {
        let r = write(
            &mut pupil,
            &[person(&app, "teacher")],
            &format!("Message {i}"),
            "Bonjour",
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{i}: {}", r.body);
    }
    let eleventh = write(&mut pupil, &[person(&app, "teacher")], "Encore", "Bonjour").await;
    assert_eq!(eleventh.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        eleventh.body.contains("trop de messages"),
        "{}",
        eleventh.body
    );
    // The directeur is alerted once, and the audit log has every send and the alert.
    assert_eq!(
        notifications::unread_count(&app.db, scope, app.fx.id("directeur"))
            .await
            .unwrap(),
        1
    );
    write(&mut pupil, &[person(&app, "teacher")], "Encore", "Bonjour").await;
    assert_eq!(
        notifications::unread_count(&app.db, scope, app.fx.id("directeur"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'message.send'")
            .await,
        11
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'message.flood'")
            .await,
        1
    );
}

async fn the_directeur_moderates_reported_messages(app: TestApp) {
    let mut pupil = app.signed_in("pupil_cp").await;
    let sent = write(
        &mut pupil,
        &[person(&app, "teacher")],
        "Méchant",
        "Texte blessant",
    )
    .await;
    let mut teacher = app.signed_in("teacher").await;
    let r = teacher
        .post(
            &format!("{}/signaler", sent.location()),
            &[("reason", "Insulte")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("signalé à la direction"));
    let mut directeur = app.signed_in("directeur").await;
    let queue = directeur.get("/messages/moderation").await;
    assert!(
        queue.body.contains("Texte blessant") && queue.body.contains("Insulte"),
        "{}",
        queue.body
    );
    let mut parent = app.signed_in("guardian").await;
    assert_eq!(
        parent.get("/messages/moderation").await.status,
        StatusCode::FORBIDDEN
    );
    let report_id: uuid::Uuid =
        messages::open_reports(&app.db, app.fx.tenant, &[app.fx.elementaire], false)
            .await
            .unwrap()[0]
            .id;
    let done = directeur
        .post(&format!("/messages/moderation/{report_id}"), &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(
        directeur
            .get("/messages/moderation")
            .await
            .body
            .contains("Aucun message signalé")
    );
}

async fn the_directeur_changes_the_rules_and_reach_follows(app: TestApp) {
    let scope = app.fx.tenant;
    let (parent, other) = (app.fx.id("guardian"), app.fx.id("other_guardian"));
    assert!(
        !communication::reachable(&app.db, scope, parent)
            .await
            .unwrap()
            .contains_key(&other)
    );
    let mut directeur = app.signed_in("directeur").await;
    let path = format!("/admin/structures/{}/regles", app.fx.elementaire);
    let page = directeur.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Parents de chaque classe"),
        "{}",
        page.body
    );
    let added = directeur
        .post(
            &path,
            &[
                ("from", "profile:National_TUT"),
                ("to", "profile:National_TUT"),
                ("mode", "both"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert!(
        communication::reachable(&app.db, scope, parent)
            .await
            .unwrap()
            .contains_key(&other)
    );
    // A rule naming attached schools makes no sense for a school: refused, nothing changes.
    let bad = directeur
        .post(
            &path,
            &[
                ("from", "attached:National_TUT"),
                ("to", "profile:National_DIR"),
                ("mode", "both"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let rule = communication::rules(&app.db, scope, app.fx.elementaire)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.rule.from == r.rule.to && r.rule.from.code() == "profile:National_TUT")
        .unwrap();
    let removed = directeur
        .post(&format!("{path}/{}/supprimer", rule.id), &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(
        !communication::reachable(&app.db, scope, parent)
            .await
            .unwrap()
            .contains_key(&other)
    );
    // Another school's rules are not this directeur's; families never see the page.
    let other_school = directeur
        .get(&format!("/admin/structures/{}/regles", app.fx.maternelle))
        .await;
    assert_eq!(other_school.status, StatusCode::FORBIDDEN);
    let mut family = app.signed_in("guardian").await;
    assert_ne!(family.get(&path).await.status, StatusCode::OK);
    let forged = family
        .post(
            &path,
            &[
                ("from", "profile:National_TUT"),
                ("to", "profile:National_TUT"),
                ("mode", "both"),
            ],
        )
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER);
    assert!(
        !communication::reachable(&app.db, scope, parent)
            .await
            .unwrap()
            .contains_key(&other)
    );
}

async fn a_tenant_administrator_flips_the_kill_switch_from_the_page(app: TestApp) {
    let path = format!("/admin/tenants/{}/messagerie", app.fx.tenant.id());
    let mut admin = app.signed_in("agent").await;
    assert_eq!(admin.get(&path).await.status, StatusCode::OK);
    let on = admin
        .post(&path, &[("profile", "National_ELV"), ("structure", "")])
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    let mut pupil = app.signed_in("pupil_cp").await;
    let refused = write(&mut pupil, &[person(&app, "teacher")], "Coucou", "Bonjour").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = admin.get(&path).await;
    assert!(page.body.contains("Tout le territoire"));
    let (id, _) = messages::blocks(&app.db, app.fx.tenant).await.unwrap()[0];
    let off = admin.post(&format!("{path}/{id}/retablir"), &[]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let sent = write(&mut pupil, &[person(&app, "teacher")], "Coucou", "Bonjour").await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    // A directeur is not a tenant administrator; another tenant's page is not found.
    let mut directeur = app.signed_in("directeur").await;
    assert_eq!(directeur.get(&path).await.status, StatusCode::FORBIDDEN);
    let mut other = app.signed_in("other_directeur").await;
    assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
}

async fn attachments_go_with_the_message_and_only_to_its_readers(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    let to = person(&app, "teacher");
    let pdf = b"%PDF-1.4 autorisation de sortie".to_vec();
    let fields = [
        ("to", to.as_str()),
        ("subject", "Autorisation"),
        ("body", "Ci-joint l'autorisation signée."),
        ("action", "send"),
    ];
    let sent = parent
        .post_multipart(
            "/messages/envoi",
            &fields,
            &[("files", "../../autorisation.pdf", pdf.clone())],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    // The draft that carried the file is gone; the file is the message's.
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
    let mut teacher = app.signed_in("teacher").await;
    let page = teacher.get(sent.location()).await;
    assert!(page.body.contains(">autorisation.pdf</a>"), "{}", page.body);
    let link = page
        .body
        .split("href=\"/messages/pieces/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (status, kind, body) = teacher.download(&format!("/messages/pieces/{link}")).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/pdf"));
    assert_eq!(body.as_bytes(), pdf.as_slice());
    for who in ["other_guardian", "teacher_cm2", "other_directeur"] {
        let mut c = app.signed_in(who).await;
        let (status, _, _) = c.download(&format!("/messages/pieces/{link}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
    }
}

async fn forbidden_and_oversized_files_are_refused(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    let to = person(&app, "teacher");
    let fields = [
        ("to", to.as_str()),
        ("subject", "Fichier"),
        ("body", "Voici"),
        ("action", "send"),
    ];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("devoirs.pdf", b"MZ\x90\x00 not a pdf".to_vec()),
        ("page.html", b"<html><script>alert(1)</script>".to_vec()),
        ("dessin.svg", b"<svg onload=alert(1)>".to_vec()),
        ("gros.pdf", {
            let mut v = b"%PDF-1.4".to_vec();
            v.resize(10 * 1024 * 1024 + 1, b' ');
            v
        }),
    ];
    for (name, bytes) in cases {
        let r = parent
            .post_multipart("/messages/envoi", &fields, &[("files", name, bytes)])
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            r.body
        );
        assert!(
            r.body.contains(name.trim_end_matches(".pdf")),
            "{name}: {}",
            r.body
        );
    }
    let six: Vec<(&str, &str, Vec<u8>)> = (0..6)
        .map(|_| ("files", "a.pdf", b"%PDF-1.4".to_vec()))
        .collect();
    let r = parent
        .post_multipart("/messages/envoi", &fields, &six)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("5 pièces jointes au plus"), "{}", r.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM message_attachments").await,
        0
    );
    let dir = app.state.config.data_dir.join("attachments");
    let left = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "files left in {}", dir.display());
}

async fn the_teacher_lets_pupils_write_to_classmates(app: TestApp) {
    let scope = app.fx.tenant;
    let (lea, tom) = (app.fx.id("pupil_cp"), app.fx.id("pupil_cm2"));
    let mut teacher = app.signed_in("teacher").await;
    let class = format!("/classes/{}", app.fx.class_cp);
    assert!(
        teacher
            .get(&class)
            .await
            .body
            .contains("ne peuvent écrire qu’à leurs enseignants")
    );
    // A second pupil in the CP, to have a classmate.
    app.exec("UPDATE class_members SET class_id = (SELECT class_id FROM class_members WHERE role = 'eleve' AND user_id IN (SELECT id FROM users WHERE first_name = 'Léa')) WHERE user_id IN (SELECT id FROM users WHERE first_name = 'Tom')").await;
    preau_store::directory::refresh_groups(&app.db, scope, app.fx.elementaire)
        .await
        .unwrap();
    assert!(
        !communication::reachable(&app.db, scope, lea)
            .await
            .unwrap()
            .contains_key(&tom)
    );
    let r = teacher
        .post(&format!("{class}/classmates"), &[("open", "1")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("peuvent maintenant s’écrire"));
    assert!(
        communication::reachable(&app.db, scope, lea)
            .await
            .unwrap()
            .contains_key(&tom)
    );
    // Another class's teacher, a parent: no.
    for who in ["teacher_cm2", "guardian"] {
        let mut c = app.signed_in(who).await;
        let r = c.post(&format!("{class}/classmates"), &[]).await;
        assert!(
            matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{who}: {}",
            r.status
        );
    }
    assert!(
        communication::reachable(&app.db, scope, lea)
            .await
            .unwrap()
            .contains_key(&tom)
    );
    let r = teacher.post(&format!("{class}/classmates"), &[]).await;
    assert!(r.body.contains("ne peuvent plus"));
    assert!(
        !communication::reachable(&app.db, scope, lea)
            .await
            .unwrap()
            .contains_key(&tom)
    );
}

async fn drafts_keep_what_was_typed_and_leave_when_sent(app: TestApp) {
    let mut parent = app.signed_in("guardian").await;
    let to = person(&app, "teacher");
    let saved = parent
        .post(
            "/messages/nouveau",
            &[
                ("to", to.as_str()),
                ("subject", "Brouillon"),
                ("body", "À finir"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let drafts = parent.get("/messages?dossier=drafts").await;
    let id = drafts
        .body
        .split("brouillon=")
        .nth(1)
        .expect("a draft link")
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let form = parent
        .get(&format!("/messages/nouveau?brouillon={id}"))
        .await;
    assert!(
        form.body.contains("À finir") && form.body.contains("Thomas Maitre"),
        "{}",
        form.body
    );
    // Nobody else opens it.
    let mut other = app.signed_in("other_guardian").await;
    assert_eq!(
        other
            .get(&format!("/messages/nouveau?brouillon={id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let sent = parent
        .post(
            "/messages/nouveau",
            &[
                ("to", to.as_str()),
                ("subject", "Brouillon"),
                ("body", "Fini"),
                ("draft_id", id.as_str()),
                ("action", "send"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let drafts = parent.get("/messages?dossier=drafts").await;
    assert!(!drafts.body.contains(">Brouillon</a>"), "{}", drafts.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

async fn the_ien_reaches_the_directeurs_of_the_circonscription(app: TestApp) {
    use preau_domain::{NationalProfile, StructureKind};
    let scope = app.fx.tenant;
    let circo = preau_store::directory::create_structure(
        &app.db,
        scope,
        preau_store::directory::NewStructure {
            kind: StructureKind::Circonscription,
            name: "Circonscription de Testville".into(),
            uai: Some("0999999Z".into()),
            commune: "Testville".into(),
            parent_id: None,
            circonscription_id: None,
        },
    )
    .await
    .unwrap();
    app.exec("UPDATE structures SET circonscription_id = (SELECT id FROM structures WHERE kind = 'circonscription') WHERE kind = 'ecole_elementaire'").await;
    let ien = preau_store::directory::create_user(
        &app.db,
        Some(scope),
        preau_store::directory::NewUser {
            first_name: "Inès".into(),
            last_name: "Inspectrice".into(),
            email: None,
            birth_date: None,
        },
    )
    .await
    .unwrap();
    preau_store::directory::add_profile(
        &app.db,
        scope,
        ien.id,
        circo.id,
        NationalProfile::Academique,
    )
    .await
    .unwrap();
    preau_store::directory::refresh_groups(&app.db, scope, circo.id)
        .await
        .unwrap();
    let reach = communication::reachable(&app.db, scope, ien.id)
        .await
        .unwrap();
    assert!(reach.contains_key(&app.fx.id("directeur")));
    assert!(!reach.contains_key(&app.fx.id("teacher")));
    assert!(!reach.contains_key(&app.fx.id("guardian")));
    let back = communication::reachable(&app.db, scope, app.fx.id("directeur"))
        .await
        .unwrap();
    assert!(back.contains_key(&ien.id));
}

async fn the_json_api_applies_the_same_rules(app: TestApp) {
    let mut anonymous = app.client().await;
    let r = anonymous.get("/api/v1/messages").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body.contains("\"error\":\"api-unauthorized\""),
        "{}",
        r.body
    );

    let mut parent = app.signed_in("guardian").await;
    let teacher = person(&app, "teacher");
    let body = format!(r#"{{"to":["{teacher}"],"subject":"Par l'API","body":"Bonjour"}}"#);
    let r = parent.json("POST", "/api/v1/messages", &body, true).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r
        .body
        .split("\"id\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    // Forged recipients: another class's teacher, another tenant, garbage; and no token.
    for to in [
        person(&app, "teacher_cm2"),
        person(&app, "other_directeur"),
        "x".to_owned(),
        format!("g:{}", uuid::Uuid::new_v4()),
    ] {
        let body = format!(r#"{{"to":["{to}"],"subject":"s","body":"b"}}"#);
        let r = parent.json("POST", "/api/v1/messages", &body, true).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{to}: {}",
            r.body
        );
        assert!(r.body.contains("send-not-reachable"), "{to}: {}", r.body);
    }
    let r = parent.json("POST", "/api/v1/messages", &body, false).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);

    let mut teacher_c = app.signed_in("teacher").await;
    let inbox = teacher_c.get("/api/v1/messages").await;
    assert!(
        inbox.body.contains("Par l'API") && inbox.body.contains("\"unread\":1"),
        "{}",
        inbox.body
    );
    let thread = teacher_c.get(&format!("/api/v1/messages/{id}")).await;
    assert!(thread.body.contains("Bonjour"), "{}", thread.body);
    let found = teacher_c.get("/api/v1/contacts?q=Camille").await;
    assert!(found.body.contains("Camille Martin"), "{}", found.body);
    let mut other = app.signed_in("other_guardian").await;
    let r = other.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("Bonjour"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recall_follows_the_configured_delay() {
    let mut config = preau_web::config::WebConfig::for_tests("http://preau.test");
    config.recall_minutes = 0;
    let app = TestApp::sqlite_with(config).await;
    let mut teacher = app.signed_in("teacher").await;
    let sent = write(
        &mut teacher,
        &[person(&app, "guardian")],
        "Définitif",
        "Pas de rappel",
    )
    .await;
    // A second passes: the window of zero minutes is over.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = teacher
        .post(&format!("{}/rappeler", sent.location()), &[])
        .await;
    assert!(
        r.body
            .contains("ne peut être rappelé que pendant 0 minutes"),
        "{}",
        r.body
    );
    let mut parent = app.signed_in("guardian").await;
    assert!(parent.get("/messages").await.body.contains("Définitif"));
}

async fn structures_without_rules_get_the_defaults_at_start(app: TestApp) {
    let scope = app.fx.tenant;
    // As after an upgrade: no rules, no reach.
    app.exec("DELETE FROM group_reach").await;
    app.exec("DELETE FROM communication_rules").await;
    app.exec("UPDATE structures SET rules_set = FALSE").await;
    let parent = app.fx.id("guardian");
    assert!(
        !communication::reachable(&app.db, scope, parent)
            .await
            .unwrap()
            .contains_key(&app.fx.id("teacher"))
    );
    let n = communication::initialise_missing(&app.db).await.unwrap();
    assert!(n >= 4, "{n}");
    assert!(
        communication::reachable(&app.db, scope, parent)
            .await
            .unwrap()
            .contains_key(&app.fx.id("teacher"))
    );
    assert_eq!(communication::initialise_missing(&app.db).await.unwrap(), 0);
}

async fn a_one_way_writer_is_answered_more_than_once(app: TestApp) {
    // Another class's teacher may write to a family (one way): the family answers, twice.
    let mut teacher = app.signed_in("teacher_cm2").await;
    let sent = write(
        &mut teacher,
        &[person(&app, "guardian")],
        "Bibliothèque",
        "Un livre oublié ?",
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let mut parent = app.signed_in("guardian").await;
    let first = parent
        .post(
            &format!("{}/repondre", sent.location()),
            &[("body", "Je regarde")],
        )
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let second = parent
        .post(
            &format!("{}/repondre", first.location()),
            &[("body", "Trouvé !")],
        )
        .await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    // Writing to them afresh is still refused.
    let fresh = write(
        &mut parent,
        &[person(&app, "teacher_cm2")],
        "Autre",
        "Question",
    )
    .await;
    assert_eq!(fresh.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn folders_page_back_through_older_messages(app: TestApp) {
    let recipients = [app.fx.id("guardian")];
    for i in 0..55 {
        let subject = format!("Information n°{i:02}");
        messages::send(
            &app.db,
            app.fx.tenant,
            &messages::Outgoing {
                sender: app.fx.id("directeur"),
                reply_to: None,
                subject: &subject,
                body_html: "Texte",
                audience: "",
                audience_label: "",
                broadcast: false,
                recipients: &recipients,
            },
            None,
        )
        .await
        .unwrap();
    }
    let mut parent = app.signed_in("guardian").await;
    let first = parent.get("/messages").await;
    assert_eq!(first.body.matches("Information n°").count(), 50);
    let link = first
        .body
        .split("avant=")
        .nth(1)
        .expect("a link to older messages")
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let second = parent
        .get(&format!("/messages?dossier=inbox&avant={link}"))
        .await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(
        second.body.matches("Information n°").count(),
        5,
        "{}",
        second.body
    );
    for i in 0..55 {
        let subject = format!("Information n°{i:02}<");
        let seen = first.body.matches(&subject[..subject.len() - 1]).count()
            + second.body.matches(&subject[..subject.len() - 1]).count();
        assert_eq!(seen, 1, "{subject}");
    }
    assert!(!second.body.contains("avant="));
    assert_eq!(
        parent.get("/messages?avant=nimporte").await.status,
        StatusCode::BAD_REQUEST
    );
}
