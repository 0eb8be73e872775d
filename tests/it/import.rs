//! Directory imports on both backends: ONDE and AAF files of the dataset generator, re-imports
//! that change nothing, the two formats recognising the same people, leavers, and bad files
//! that change nothing.

use crate::db_tests;
use crate::support::{TestApp, dataset};
use preau_domain::NationalProfile;
use preau_domain::directory::StructureKind;
use preau_domain::provisioning::{PlanError, PlanOptions, Report};
use preau_interop::aaf::{AafInput, FunctionMap};
use preau_interop::onde::OndeFile;
use preau_interop::{FeedError, read_limited};
use preau_store::TenantScope;
use preau_store::directory::{self, NewStructure};
use preau_web::import::{ImportError, ImportOptions, import_aaf, import_onde};
use std::path::Path;
use uuid::Uuid;

const UAI: &str = "0960001E";

fn options() -> ImportOptions {
    ImportOptions {
        dry_run: false,
        skip_rejected: false,
        plan: PlanOptions::default(),
        actor: None,
        school_year: 2024,
    }
}

fn quiet(_: &str, _: u64, _: u64) {}

fn onde_files(dir: &Path) -> Vec<OndeFile> {
    let mut files: Vec<OndeFile> = std::fs::read_dir(dir)
        .expect("onde dir")
        .filter_map(Result::ok)
        .map(|e| OndeFile {
            name: e.file_name().to_string_lossy().into_owned(),
            bytes: std::fs::read(e.path()).expect("read"),
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    files
}

fn aaf_inputs(dir: &Path) -> Vec<AafInput> {
    std::fs::read_dir(dir)
        .expect("aaf dir")
        .filter_map(Result::ok)
        .map(|e| AafInput {
            name: e.file_name().to_string_lossy().into_owned(),
            reader: Box::new(std::fs::File::open(e.path()).expect("open")),
        })
        .collect()
}

fn manifest_count(key: &str) -> u64 {
    let text = std::fs::read_to_string(dataset("school").join("manifest.json")).expect("manifest");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    json["counts"][key].as_u64().expect("count")
}

async fn school(app: &TestApp) -> (TenantScope, Uuid) {
    let scope = app.fx.tenant;
    let s = directory::create_structure(
        &app.db,
        scope,
        NewStructure {
            kind: StructureKind::EcolePrimaire,
            name: "École Le Petit Prince".into(),
            uai: Some(UAI.into()),
            commune: "Clairmont".into(),
            parent_id: None,
            circonscription_id: None,
        },
    )
    .await
    .expect("structure");
    (scope, s.id)
}

async fn onde(
    app: &TestApp,
    files: Vec<OndeFile>,
    opts: ImportOptions,
) -> Result<Report, ImportError> {
    import_onde(&app.db, app.fx.tenant, UAI, files, opts, &quiet).await
}

async fn aaf(app: &TestApp, dir: &Path, opts: ImportOptions) -> Result<Report, ImportError> {
    import_aaf(
        &app.db,
        app.fx.tenant,
        aaf_inputs(dir),
        None,
        FunctionMap::default(),
        opts,
        &quiet,
    )
    .await
}

async fn users(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM users").await
}

async fn onde_then_aaf_recognise_the_same_people(app: TestApp) {
    let (scope, structure) = school(&app).await;
    let dir = dataset("school").join("onde").join(UAI);
    let dry = onde(
        &app,
        onde_files(&dir),
        ImportOptions {
            dry_run: true,
            ..options()
        },
    )
    .await
    .expect("dry run");
    assert_eq!(dry.pupils.created, manifest_count("students"));
    let before = users(&app).await;
    let report = onde(&app, onde_files(&dir), options())
        .await
        .expect("import");
    assert_eq!(
        report, dry,
        "the dry run tells exactly what the import does"
    );
    assert_eq!(report.pupils.created, manifest_count("students"));
    assert_eq!(report.guardians.created, manifest_count("relatives_legal"));
    assert_eq!(report.links_added, manifest_count("relative_links"));
    assert_eq!(report.classes_created, manifest_count("classes"));
    assert!(report.rejections.is_empty(), "{:?}", report.rejections);
    let created = report.pupils.created + report.guardians.created + report.staff.created;
    assert_eq!(users(&app).await - before, created as i64);

    // Every pupil is in a class of the school, every guardian sees a child there.
    let pupils =
        directory::list_structure_members(&app.db, scope, structure, Some(NationalProfile::Eleve))
            .await
            .expect("pupils");
    assert_eq!(pupils.len() as u64, manifest_count("students"));
    let guardians =
        directory::list_structure_members(&app.db, scope, structure, Some(NationalProfile::Tuteur))
            .await
            .expect("guardians");
    let children = directory::children_of(&app.db, scope, guardians[0].user.id)
        .await
        .expect("children");
    assert!(!children.is_empty());
    assert!(
        children
            .iter()
            .all(|c| c.structure_id == Some(structure) && c.class_id.is_some())
    );

    let again = onde(&app, onde_files(&dir), options())
        .await
        .expect("re-import");
    assert_eq!(again.changes(), 0, "{again:?}");
    assert_eq!(again.pupils.unchanged, manifest_count("students"));

    // The académie's export of the same school: same people, recognised by INE, by their
    // children and by e-mail; nobody is created twice.
    let users_before = users(&app).await;
    let from_aaf = aaf(&app, &dataset("school").join("aaf"), options())
        .await
        .expect("aaf");
    assert_eq!(from_aaf.pupils.created, 0, "{from_aaf:?}");
    assert_eq!(from_aaf.guardians.created, 0, "{from_aaf:?}");
    assert_eq!(from_aaf.staff.created, 0, "{from_aaf:?}");
    assert_eq!(from_aaf.structures_created, 1, "the circonscription");
    assert_eq!(
        from_aaf.structures_updated, 1,
        "the school gets its AAF key"
    );
    assert_eq!(users(&app).await, users_before);
    let again = aaf(&app, &dataset("school").join("aaf"), options())
        .await
        .expect("aaf again");
    assert_eq!(again.changes(), 0, "{again:?}");
}

async fn aaf_creates_the_territory(app: TestApp) {
    let report = aaf(&app, &dataset("school").join("aaf"), options())
        .await
        .expect("aaf");
    assert_eq!(report.structures_created, 2, "school and circonscription");
    assert_eq!(report.pupils.created, manifest_count("students"));
    assert_eq!(report.guardians.created, manifest_count("relatives_legal"));
    assert_eq!(report.links_added, manifest_count("relative_links"));
    assert!(
        report
            .notices
            .iter()
            .any(|n| n.contains("sans autorité parentale"))
    );
    let school = directory::find_structure_by_uai(&app.db, UAI)
        .await
        .expect("query")
        .expect("school created");
    assert_eq!(school.tenant_id, app.fx.tenant.id());
    let directeurs = app
        .count(
            "SELECT COUNT(*) FROM user_functions WHERE function = 'directeur' AND source = 'aaf'",
        )
        .await;
    assert_eq!(directeurs as u64, manifest_count("directors"));
    let again = aaf(&app, &dataset("school").join("aaf"), options())
        .await
        .expect("again");
    assert_eq!(again.changes(), 0, "{again:?}");
}

/// The eleves and responsables files without the rows of one family.
fn without_family(dir: &Path, last_name: &str) -> Vec<OndeFile> {
    onde_files(dir)
        .into_iter()
        .map(|mut f| {
            if f.name.contains("eleves") || f.name.contains("responsables") {
                let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&f.bytes);
                let kept: String = text
                    .split_inclusive('\n')
                    .filter(|line| !line.contains(&format!("\"{last_name}\"")))
                    .collect();
                f.bytes = encoding_rs::WINDOWS_1252.encode(&kept).0.into_owned();
            }
            f
        })
        .collect()
}

async fn leavers_are_detached_and_come_back(app: TestApp) {
    school(&app).await;
    let dir = dataset("school").join("onde").join(UAI);
    onde(&app, onde_files(&dir), options())
        .await
        .expect("import");
    let family = "GIRAUD";
    let report = onde(&app, without_family(&dir, family), options())
        .await
        .expect("leavers");
    assert!(report.pupils.detached >= 1, "{report:?}");
    assert!(report.guardians.detached >= 1, "{report:?}");
    assert_eq!(report.pupils.created, 0);
    let detached = app
        .count("SELECT COUNT(*) FROM users WHERE detached_at IS NOT NULL")
        .await;
    assert_eq!(
        detached as u64,
        report.pupils.detached + report.guardians.detached + report.staff.detached
    );
    let in_class = app
        .count("SELECT COUNT(*) FROM class_members m JOIN users u ON u.id = m.user_id WHERE u.detached_at IS NOT NULL")
        .await;
    assert_eq!(in_class, 0, "a pupil who left is in no class");
    let back = onde(&app, onde_files(&dir), options()).await.expect("back");
    assert_eq!(back.pupils.reattached, report.pupils.detached, "{back:?}");
    assert_eq!(back.pupils.created, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE detached_at IS NOT NULL")
            .await,
        0
    );
}

async fn manual_links_survive_imports(app: TestApp) {
    let (scope, structure) = school(&app).await;
    let dir = dataset("school").join("onde").join(UAI);
    onde(&app, onde_files(&dir), options())
        .await
        .expect("import");
    let pupils =
        directory::list_structure_members(&app.db, scope, structure, Some(NationalProfile::Eleve))
            .await
            .expect("pupils");
    // A grandmother added by hand by the directeur.
    let granny = directory::create_user(
        &app.db,
        Some(scope),
        directory::NewUser {
            first_name: "Odette".into(),
            last_name: "Mamie".into(),
            ..Default::default()
        },
    )
    .await
    .expect("user");
    directory::add_profile(
        &app.db,
        scope,
        granny.id,
        structure,
        NationalProfile::Tuteur,
    )
    .await
    .expect("profile");
    directory::link_guardian(&app.db, scope, granny.id, pupils[0].user.id, false)
        .await
        .expect("link");
    let again = onde(&app, onde_files(&dir), options())
        .await
        .expect("again");
    assert_eq!(again.changes(), 0, "{again:?}");
    let guardians = directory::guardians_of(&app.db, scope, pupils[0].user.id)
        .await
        .expect("guardians");
    assert!(guardians.iter().any(|(g, _)| g.id == granny.id));
}

async fn bad_files_change_nothing(app: TestApp) {
    school(&app).await;
    let dir = dataset("school").join("onde").join(UAI);
    let before = users(&app).await;

    // A guardian whose child is not in the pupils' file: reported, nothing written...
    let mut files = without_family(&dir, "GIRAUD");
    let responsables = onde_files(&dir)
        .into_iter()
        .find(|f| f.name.contains("responsables"))
        .expect("responsables");
    for f in &mut files {
        if f.name.contains("responsables") {
            f.bytes = responsables.bytes.clone();
        }
    }
    let err = onde(&app, files.clone(), options()).await;
    let Err(ImportError::Rejected(report)) = err else {
        panic!("expected rejected rows, got {err:?}");
    };
    assert!(
        report
            .rejections
            .iter()
            .any(|r| r.reason.contains("absent du fichier des élèves") && r.origin.line > 1)
    );
    assert_eq!(users(&app).await, before);
    // ...unless the operator accepts to skip the rejected rows.
    let skipped = onde(
        &app,
        files,
        ImportOptions {
            skip_rejected: true,
            ..options()
        },
    )
    .await
    .expect("skip rejected");
    assert!(skipped.pupils.created > 0);
    let after_first = users(&app).await;

    // A duplicate INE in the pupils' file.
    let mut dup = onde_files(&dir);
    for f in &mut dup {
        if f.name.contains("eleves") {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&f.bytes);
            let second = text.lines().nth(1).expect("a pupil").to_owned();
            let changed = second.replacen("\"AUBRY\"", "\"AUTRE\"", 1);
            let text = format!("{text}{changed}\r\n");
            f.bytes = encoding_rs::WINDOWS_1252.encode(&text).0.into_owned();
        }
    }
    let err = onde(&app, dup, options()).await;
    assert!(
        matches!(&err, Err(ImportError::Rejected(r)) if r.rejections.iter().any(|x| x.reason.contains("en double"))),
        "{err:?}"
    );

    // Wrong encoding, empty file, unknown headers: the whole run is refused.
    let mut utf16 = onde_files(&dir);
    utf16[0].bytes = utf16[0].bytes.iter().flat_map(|b| [*b, 0]).collect();
    assert!(matches!(
        onde(&app, utf16, options()).await,
        Err(ImportError::Feed(FeedError::Encoding(_)))
    ));
    let mut empty = onde_files(&dir);
    empty[0].bytes.clear();
    assert!(matches!(
        onde(&app, empty, options()).await,
        Err(ImportError::Feed(FeedError::Empty(_)))
    ));
    let mut unknown = onde_files(&dir);
    unknown[0].bytes = b"Colonne A;Colonne B\r\n1;2\r\n".to_vec();
    assert!(matches!(
        onde(&app, unknown, options()).await,
        Err(ImportError::Feed(FeedError::UnknownHeaders { .. }))
    ));

    // Truncated AAF XML: nothing written, the error names the file and says why.
    let aaf_dir = tempfile::tempdir().expect("tmp");
    for e in std::fs::read_dir(dataset("school").join("aaf")).expect("aaf") {
        let e = e.expect("entry");
        let mut bytes = std::fs::read(e.path()).expect("read");
        if e.file_name().to_string_lossy().contains("_Eleve_") {
            bytes.truncate(bytes.len() / 2);
        }
        std::fs::write(aaf_dir.path().join(e.file_name()), bytes).expect("write");
    }
    let err = aaf(&app, aaf_dir.path(), options()).await;
    assert!(
        matches!(&err, Err(ImportError::Feed(FeedError::Syntax { file, .. })) if file.contains("_Eleve_")),
        "{err:?}"
    );
    assert_eq!(users(&app).await, after_first);

    // A 2 GB file is refused before a byte is read.
    let huge = aaf_dir.path().join("huge.csv");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len(2 * 1024 * 1024 * 1024))
        .expect("sparse file");
    assert!(matches!(
        read_limited(&huge, preau_interop::DEFAULT_MAX_FILE_BYTES),
        Err(FeedError::TooLarge { .. })
    ));
}

async fn another_schools_file_is_refused(app: TestApp) {
    school(&app).await;
    let dir = dataset("school").join("onde").join(UAI);
    onde(&app, onde_files(&dir), options())
        .await
        .expect("import");
    let other = directory::create_structure(
        &app.db,
        app.fx.tenant,
        NewStructure {
            kind: StructureKind::EcolePrimaire,
            name: "École voisine".into(),
            uai: Some("0960002F".into()),
            commune: "Clairmont".into(),
            parent_id: None,
            circonscription_id: None,
        },
    )
    .await
    .expect("other school");
    let before = users(&app).await;
    let err = import_onde(
        &app.db,
        app.fx.tenant,
        "0960002F",
        onde_files(&dir),
        options(),
        &quiet,
    )
    .await;
    assert!(
        matches!(err, Err(ImportError::Plan(PlanError::OtherSchool { .. }))),
        "{err:?}"
    );
    assert_eq!(users(&app).await, before);
    let _ = other;

    // A file with most pupils missing looks truncated: refused rather than detaching them.
    let mut few = onde_files(&dir);
    for f in &mut few {
        if f.name.contains("eleves") {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&f.bytes);
            let kept: String = text.split_inclusive('\n').take(10).collect();
            f.bytes = encoding_rs::WINDOWS_1252.encode(&kept).0.into_owned();
        }
    }
    let err = onde(
        &app,
        few,
        ImportOptions {
            skip_rejected: true,
            ..options()
        },
    )
    .await;
    assert!(
        matches!(err, Err(ImportError::Plan(PlanError::MassDetach { .. }))),
        "{err:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE detached_at IS NOT NULL")
            .await,
        0
    );
}

db_tests!(
    onde_then_aaf_recognise_the_same_people,
    aaf_creates_the_territory,
    leavers_are_detached_and_come_back,
    manual_links_survive_imports,
    bad_files_change_nothing,
    another_schools_file_is_refused,
);

fn dataset_onde_upload() -> Vec<(String, Vec<u8>)> {
    onde_files(&dataset("school").join("onde").join(UAI))
        .into_iter()
        .map(|f| (f.name, f.bytes))
        .collect()
}

fn run_path(location: &str) -> String {
    location.to_owned()
}

async fn directeur_imports_from_the_browser(app: TestApp) {
    let school = app.fx.elementaire;
    let mut dir = app.signed_in("directeur").await;
    let page = dir.get(&format!("/admin/structures/{school}/import")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));

    let files = dataset_onde_upload();
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let users_before = users(&app).await;
    let posted = dir
        .post_files(&format!("/admin/structures/{school}/import"), &refs)
        .await;
    assert_eq!(posted.status.as_u16(), 303, "{}", posted.body);
    let location = posted
        .headers
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("redirect")
        .to_owned();
    let preview = dir.get(&run_path(&location)).await;
    assert!(
        preview.body.contains("Ce que l’import va faire"),
        "{}",
        preview.body
    );
    assert!(
        preview
            .body
            .contains(&manifest_count("students").to_string())
    );
    assert_eq!(users(&app).await, users_before, "a preview writes nothing");

    // Another school's directeur, a teacher and a parent cannot see or confirm it.
    for who in ["teacher", "guardian", "other_directeur"] {
        let mut c = app.signed_in(who).await;
        let r = c.get(&location).await;
        assert!(
            matches!(r.status.as_u16(), 403 | 404),
            "{who}: {}",
            r.status
        );
        let r = c.post(&format!("{location}/confirm"), &[]).await;
        assert!(
            matches!(r.status.as_u16(), 403 | 404),
            "{who}: {}",
            r.status
        );
    }
    assert_eq!(users(&app).await, users_before);

    let confirmed = dir.post(&format!("{location}/confirm"), &[]).await;
    assert_eq!(confirmed.status.as_u16(), 303, "{}", confirmed.body);
    // The job runs in the background: wait for its page to say it is done.
    let mut done = false;
    for _ in 0..200 {
        let page = dir.get(&location).await;
        if page.body.contains("Import terminé") {
            assert!(page.body.contains("Ce que l’import a fait"));
            done = true;
            break;
        }
        assert!(!page.body.contains("Import refusé"), "{}", page.body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(done, "the import finished");
    assert_eq!(
        (users(&app).await - users_before) as u64,
        manifest_count("students") + manifest_count("relatives_legal") + 16
    );
    let again = dir.post(&format!("{location}/confirm"), &[]).await;
    assert_eq!(again.status.as_u16(), 422, "a run is confirmed once");
}

async fn bad_uploads_get_a_clear_report(app: TestApp) {
    let school = app.fx.elementaire;
    let mut dir = app.signed_in("directeur").await;
    let posted = dir
        .post_files(
            &format!("/admin/structures/{school}/import"),
            &[("liste.csv", b"Colonne A;Colonne B\r\n1;2\r\n".to_vec())],
        )
        .await;
    assert_eq!(posted.status.as_u16(), 303);
    let location = posted
        .headers
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("redirect")
        .to_owned();
    let page = dir.get(&location).await;
    assert!(page.body.contains("Import refusé"), "{}", page.body);
    assert!(page.body.contains("en-têtes non reconnus"), "{}", page.body);
    assert!(page.body.contains("Rien n’a été modifié"));
    let none = dir
        .post_files(&format!("/admin/structures/{school}/import"), &[])
        .await;
    assert_eq!(none.status.as_u16(), 422);
    assert!(none.body.contains("Choisissez au moins"));
}

async fn one_run_at_a_time_per_school(app: TestApp) {
    use preau_store::imports::{self, RunKind};
    let scope = app.fx.tenant;
    let school = Some(app.fx.elementaire);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    for id in [a, b] {
        imports::create_preview(
            &app.db,
            scope,
            id,
            school,
            RunKind::Onde,
            "/nonexistent",
            None,
            Some("{}"),
            None,
        )
        .await
        .expect("preview");
    }
    imports::queue(&app.db, scope, a, false)
        .await
        .expect("first queued");
    let second = imports::queue(&app.db, scope, b, false).await;
    assert!(
        matches!(second, Err(preau_store::StoreError::Conflict(_))),
        "{second:?}"
    );
    // A stopped server's runs are failed at the next start; then the school is free again.
    assert_eq!(imports::fail_interrupted(&app.db).await.expect("fail"), 1);
    imports::queue(&app.db, scope, b, false)
        .await
        .expect("second queued");
}

db_tests!(
    directeur_imports_from_the_browser,
    bad_uploads_get_a_clear_report,
    one_run_at_a_time_per_school,
);

async fn leavers_are_disabled_then_deleted_after_notice(app: TestApp) {
    use chrono::Duration;
    use preau_store::lifecycle::LifecyclePolicy;
    let (scope, structure) = school(&app).await;
    let dir = dataset("school").join("onde").join(UAI);
    onde(&app, onde_files(&dir), options())
        .await
        .expect("import");
    let report = onde(&app, without_family(&dir, "GIRAUD"), options())
        .await
        .expect("leavers");
    let leaving = (report.pupils.detached + report.guardians.detached) as usize;
    assert!(leaving >= 2);
    let leavers = preau_store::lifecycle::leavers(&app.db, scope, structure)
        .await
        .expect("leavers");
    assert_eq!(leavers.len(), leaving, "the school knows who left");

    let policy = LifecyclePolicy::default();
    let now = preau_store::now();
    let run =
        |days: i64| preau_web::lifecycle::run_once(&app.state, policy, now + Duration::days(days));
    let early = run(30).await.expect("pass");
    assert_eq!(
        (early.disabled, early.deleted, early.notices.len()),
        (0, 0, 0)
    );
    let disabled = run(91).await.expect("pass");
    assert_eq!(disabled.disabled as usize, leaving);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE state = 'disabled' AND detached_at IS NOT NULL")
            .await as usize,
        leaving
    );
    // 180 days after leaving is the deletion date: 14 days before, the directeur is told.
    let noticed = run(170).await.expect("pass");
    assert_eq!(
        noticed.deleted, 0,
        "nothing is deleted before the notice ran"
    );
    assert_eq!(noticed.notices.len(), 1);
    assert_eq!(noticed.notices[0].people.len(), leaving);
    assert!(
        !noticed.notices[0].recipients.is_empty(),
        "the imported directeur has an e-mail"
    );
    let mails = app.mailer.messages();
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains("bientôt supprimés") && m.body.contains("GIRAUD"))
    );
    let not_yet = run(181).await.expect("pass");
    assert_eq!(not_yet.deleted, 0, "the notice period runs from the notice");
    let before = users(&app).await;
    let deleted = run(185).await.expect("pass");
    assert_eq!(deleted.deleted as usize, leaving);
    assert_eq!(users(&app).await, before - leaving as i64);
    let again = run(186).await.expect("pass");
    assert_eq!(
        (again.disabled, again.deleted, again.notices.len()),
        (0, 0, 0)
    );
    // The directeur's page lists nobody any more.
    let mut c = app.signed_in("directeur").await;
    let page = c
        .get(&format!("/admin/structures/{}/leavers", app.fx.elementaire))
        .await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.body.contains("Aucun compte détaché"));
}

async fn a_disabled_leaver_who_comes_back_is_reopened(app: TestApp) {
    use chrono::Duration;
    use preau_store::lifecycle::LifecyclePolicy;
    school(&app).await;
    let dir = dataset("school").join("onde").join(UAI);
    onde(&app, onde_files(&dir), options())
        .await
        .expect("import");
    onde(&app, without_family(&dir, "GIRAUD"), options())
        .await
        .expect("leavers");
    let now = preau_store::now();
    preau_web::lifecycle::run_once(
        &app.state,
        LifecyclePolicy::default(),
        now + Duration::days(100),
    )
    .await
    .expect("pass");
    let back = onde(&app, onde_files(&dir), options()).await.expect("back");
    assert!(back.pupils.reattached >= 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE state = 'disabled' OR detached_at IS NOT NULL")
            .await,
        0,
        "accounts the lifecycle disabled are open again"
    );
}

db_tests!(
    leavers_are_disabled_then_deleted_after_notice,
    a_disabled_leaver_who_comes_back_is_reopened,
);

async fn the_year_rollover_archives_classes_and_the_next_import_moves_pupils(app: TestApp) {
    let (scope, structure) = school(&app).await;
    let dir = dataset("school").join("onde").join(UAI);
    let year = directory::school_year(&app.db, scope).await.expect("year");
    let this_year = ImportOptions {
        school_year: year,
        ..options()
    };
    onde(&app, onde_files(&dir), this_year)
        .await
        .expect("import");
    let guardians =
        directory::list_structure_members(&app.db, scope, structure, Some(NationalProfile::Tuteur))
            .await
            .expect("guardians");
    let parent = guardians[0].user.id;
    let before = directory::children_of(&app.db, scope, parent)
        .await
        .expect("children");
    let old_class = before[0].class_id.expect("a class");

    // Only the next year can be opened.
    assert!(
        directory::rollover(&app.db, scope, year + 2, None)
            .await
            .is_err()
    );
    assert!(
        directory::rollover(&app.db, scope, year, None)
            .await
            .is_err()
    );
    let archived = directory::rollover(&app.db, scope, year + 1, None)
        .await
        .expect("rollover");
    assert_eq!(
        archived,
        manifest_count("classes") + 3,
        "the school's and the fixture's classes"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM classes WHERE archived_at IS NULL")
            .await,
        1,
        "the other tenant's class is untouched"
    );
    assert_eq!(
        directory::school_year(&app.db, scope).await.expect("year"),
        year + 1
    );
    let between = directory::children_of(&app.db, scope, parent)
        .await
        .expect("children");
    assert_eq!(between.len(), before.len(), "families stay linked");
    assert!(
        between.iter().all(|c| c.class_id.is_none()),
        "no current class before the import"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM groups WHERE kind = 'class' AND class_id IN (SELECT id FROM classes WHERE archived_at IS NOT NULL)").await,
        0,
        "archived classes reach nobody"
    );

    // The new year's import: new classes, the same pupils and families.
    let next = ImportOptions {
        school_year: year + 1,
        ..options()
    };
    let report = onde(&app, onde_files(&dir), next).await.expect("new year");
    assert_eq!(report.classes_created, manifest_count("classes"));
    assert_eq!(report.pupils.created, 0);
    assert_eq!(report.guardians.created, 0);
    let after = directory::children_of(&app.db, scope, parent)
        .await
        .expect("children");
    assert_eq!(after.len(), before.len());
    assert!(
        after
            .iter()
            .all(|c| c.class_id.is_some() && c.class_id != Some(old_class))
    );
    // The archived class keeps its members, for reading.
    let old = directory::class_members(&app.db, scope, old_class)
        .await
        .expect("members");
    assert!(!old.is_empty());
    assert!(
        directory::get_class(&app.db, scope, old_class)
            .await
            .expect("class")
            .archived
    );
    let again = onde(&app, onde_files(&dir), next).await.expect("again");
    assert_eq!(again.changes(), 0, "{again:?}");
}

async fn the_tenant_admin_rolls_over_from_the_browser(app: TestApp) {
    let tenant = app.fx.tenant.id();
    let year = directory::school_year(&app.db, app.fx.tenant)
        .await
        .expect("year");
    let mut agent = app.signed_in("agent").await;
    let page = agent.get(&format!("/admin/tenants/{tenant}")).await;
    assert!(page.body.contains("Année scolaire"), "{}", page.body);
    let refused = agent
        .post(
            &format!("/admin/tenants/{tenant}/rollover"),
            &[("year", &(year + 1).to_string())],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422, "the box must be ticked");
    let done = agent
        .post(
            &format!("/admin/tenants/{tenant}/rollover"),
            &[("year", &(year + 1).to_string()), ("understood", "1")],
        )
        .await;
    assert_eq!(done.status.as_u16(), 303);
    assert_eq!(
        directory::school_year(&app.db, app.fx.tenant)
            .await
            .expect("year"),
        year + 1
    );
    // A directeur cannot roll the whole territory over.
    let mut dir = app.signed_in("directeur").await;
    let r = dir
        .post(
            &format!("/admin/tenants/{tenant}/rollover"),
            &[("year", &(year + 2).to_string()), ("understood", "1")],
        )
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404));
}

db_tests!(
    the_year_rollover_archives_classes_and_the_next_import_moves_pupils,
    the_tenant_admin_rolls_over_from_the_browser,
);

/// The text of a PDF, read back with poppler's pdftotext (installed by scripts/test).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("letters.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) is installed");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn letters_list_every_pupil_of_a_class(app: TestApp) {
    let scope = app.fx.tenant;
    let school = app.fx.elementaire;
    let dir = dataset("school").join("onde").join(UAI);
    import_onde(
        &app.db,
        scope,
        "0000001B",
        onde_files(&dir),
        options(),
        &quiet,
    )
    .await
    .expect("import");
    let classes = directory::list_classes(&app.db, scope, school)
        .await
        .expect("classes");
    let class = classes
        .iter()
        .find(|c| c.name.contains("CE1"))
        .expect("an imported CE1 class");
    let pupils: Vec<_> = directory::class_members(&app.db, scope, class.id)
        .await
        .expect("members")
        .into_iter()
        .filter(|(_, r)| *r == preau_domain::ClassRole::Eleve)
        .map(|(u, _)| u)
        .collect();
    assert!(pupils.len() > 10);

    let mut dir_client = app.signed_in("directeur").await;
    let page = dir_client.get(&format!("/classes/{}", class.id)).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.body.contains("Lettres de connexion"));
    assert!(
        page.body
            .contains(&format!("Pas encore activés : {} élèves", pupils.len()))
    );

    let pdf = dir_client
        .post_bytes(
            &format!("/classes/{}/letters", class.id),
            &[("who", "eleves")],
        )
        .await;
    assert_eq!(pdf.0.as_u16(), 200);
    assert!(pdf.1.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf.1);
    for p in &pupils {
        assert!(text.contains(&p.login), "letter for {}", p.login);
        assert!(text.contains(&p.first_name), "name of {}", p.login);
    }
    assert_eq!(
        text.matches("Code d’activation").count(),
        pupils.len(),
        "one page each"
    );
    // Every pupil got a fresh code, usable at /auth/activate.
    let codes = app
        .count("SELECT COUNT(*) FROM activation_codes WHERE used_at IS NULL")
        .await;
    assert!(codes as usize >= pupils.len());

    let guardians = dir_client
        .post_bytes(
            &format!("/classes/{}/letters", class.id),
            &[("who", "responsables")],
        )
        .await;
    assert_eq!(guardians.0.as_u16(), 200);
    let text = pdf_text(&guardians.1);
    assert!(text.contains("Responsable de"));

    // The teacher of another class, a parent, another tenant: no letters.
    for who in ["teacher", "guardian", "other_directeur"] {
        let mut c = app.signed_in(who).await;
        let r = c
            .post_bytes(
                &format!("/classes/{}/letters", class.id),
                &[("who", "eleves")],
            )
            .await;
        assert!(matches!(r.0.as_u16(), 403 | 404), "{who}: {}", r.0);
    }
}

async fn a_teacher_adds_a_guardian_and_gives_a_new_code(app: TestApp) {
    let class = app.fx.class_cp;
    let pupil = app.fx.id("pupil_cp");
    let mut teacher = app.signed_in("teacher").await;
    let added = teacher
        .post(
            &format!("/classes/{class}/guardians"),
            &[
                ("pupil_id", &pupil.to_string()),
                ("first_name", "Odette"),
                ("last_name", "Grand-Mère"),
                ("email", ""),
            ],
        )
        .await;
    assert_eq!(added.status.as_u16(), 200, "{}", added.body);
    assert!(
        added.body.contains("est maintenant responsable de"),
        "{}",
        added.body
    );
    let guardians = directory::guardians_of(&app.db, app.fx.tenant, pupil)
        .await
        .expect("guardians");
    let granny = guardians
        .iter()
        .find(|(g, _)| g.last_name == "Grand-Mère")
        .map(|(g, legal)| (g.id, *legal))
        .expect("linked");
    assert!(!granny.1, "the box for parental authority was not ticked");
    let code = teacher
        .post(&format!("/classes/{class}/codes/{}", granny.0), &[])
        .await;
    assert!(
        code.body.contains("Nouveau code pour Odette Grand-Mère"),
        "{}",
        code.body
    );
    // Someone outside the class gets nothing.
    let stranger = app.fx.id("pupil_cm2");
    let r = teacher
        .post(&format!("/classes/{class}/codes/{stranger}"), &[])
        .await;
    assert_eq!(r.status.as_u16(), 404);
    let mut other = app.signed_in("teacher_cm2").await;
    let r = other
        .post(&format!("/classes/{class}/codes/{}", granny.0), &[])
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404));
}

db_tests!(
    letters_list_every_pupil_of_a_class,
    a_teacher_adds_a_guardian_and_gives_a_new_code,
);

async fn the_aaf_drop_folder_imports_settled_sets(app: TestApp) {
    use preau_web::import::drop::{DropConfig, take_once};
    let drop = tempfile::tempdir().expect("tmp");
    let config = DropConfig {
        dir: drop.path().to_path_buf(),
        tenant: app.fx.tenant,
        skip_rejected: false,
        functions: FunctionMap::default(),
    };
    let copy = |truncate: bool| {
        for e in std::fs::read_dir(dataset("school").join("aaf")).expect("aaf") {
            let e = e.expect("entry");
            let mut bytes = std::fs::read(e.path()).expect("read");
            if truncate && e.file_name().to_string_lossy().contains("_PersRelEleve_") {
                bytes.truncate(bytes.len() - 100);
            }
            std::fs::write(drop.path().join(e.file_name()), bytes).expect("write");
        }
    };
    // Files still arriving are left alone.
    copy(false);
    let waiting = take_once(&app.db, &config, std::time::Duration::from_secs(3600))
        .await
        .expect("folder");
    assert!(waiting.is_none());
    let before = users(&app).await;
    let done = take_once(&app.db, &config, std::time::Duration::ZERO)
        .await
        .expect("folder")
        .expect("a set was taken");
    assert!(done.starts_with(drop.path().join("traites")));
    let report = std::fs::read_to_string(done.join("rapport.txt")).expect("report");
    assert!(report.starts_with("Import terminé"), "{report}");
    assert!(users(&app).await > before);
    // A truncated set is refused and changes nothing.
    copy(true);
    let after = users(&app).await;
    let refused = take_once(&app.db, &config, std::time::Duration::ZERO)
        .await
        .expect("folder")
        .expect("a set was taken");
    assert!(refused.starts_with(drop.path().join("refuses")));
    let report = std::fs::read_to_string(refused.join("rapport.txt")).expect("report");
    assert!(
        report.contains("rien n'a été modifié") && report.contains("tronqué"),
        "{report}"
    );
    assert_eq!(users(&app).await, after);
}

db_tests!(the_aaf_drop_folder_imports_settled_sets);
