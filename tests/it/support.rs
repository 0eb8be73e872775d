//! The test harness: a fresh database per test (SQLite file or PostgreSQL database),
//! a ready-made territory with actors of every kind, and an in-process browser-like client.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use preau_domain::{AccountState, ClassRole, Function, NationalProfile, StructureKind, TenantKind};
use preau_store::batch::{self, BatchUser, DirectoryBatch, LoginAllocator};
use preau_store::credentials::{self, HashCost};
use preau_store::directory::{self, NewStructure};
use preau_store::{Db, DbOptions, TenantScope};
use preau_web::config::WebConfig;
use preau_web::mail::CapturingMailer;
use preau_web::notify::sms::CapturingSms;
use preau_web::{AppState, router};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;
use uuid::Uuid;

pub const PASSWORD: &str = "Mot-de-passe-2026!";
pub const HOST: &str = "preau.test";

/// Generates, for each listed `async fn(TestApp)`, a module running it on SQLite and on
/// PostgreSQL (when `TEST_DATABASE_URL` is set; CI always sets it).
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::TestApp::sqlite().await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    match $crate::support::TestApp::postgres().await {
                        Some(app) => super::$name(app).await,
                        None => eprintln!("PostgreSQL skipped: TEST_DATABASE_URL is not set"),
                    }
                }
            }
        )+
    };
}

/// Everything a test may need, in two tenants.
pub struct Fixture {
    pub tenant: TenantScope,
    pub other_tenant: TenantScope,
    pub elementaire: Uuid,
    pub maternelle: Uuid,
    pub other_school: Uuid,
    pub class_cp: Uuid,
    pub class_cm2: Uuid,
    pub other_class: Uuid,
    pub logins: HashMap<&'static str, String>,
    pub ids: HashMap<&'static str, Uuid>,
}

impl Fixture {
    pub fn login(&self, who: &str) -> &str {
        self.logins.get(who).map_or("", String::as_str)
    }
    pub fn id(&self, who: &str) -> Uuid {
        self.ids.get(who).copied().unwrap_or_default()
    }
}

pub struct TestApp {
    pub db: Db,
    pub config: WebConfig,
    pub mailer: Arc<CapturingMailer>,
    pub sms: Arc<CapturingSms>,
    pub fx: Fixture,
    pub state: AppState,
    router: Router,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::sqlite_with(WebConfig::for_tests(&format!("http://{HOST}"))).await
    }

    pub async fn sqlite_with(config: WebConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.sqlite").display());
        let db = Db::connect(&url, &DbOptions::default())
            .await
            .expect("sqlite");
        Self::build(db, config, Some(dir)).await
    }

    pub async fn postgres() -> Option<Self> {
        Self::postgres_with(WebConfig::for_tests(&format!("http://{HOST}"))).await
    }

    pub async fn postgres_with(config: WebConfig) -> Option<Self> {
        let db = fresh_postgres().await?;
        Some(Self::build(db, config, None).await)
    }

    async fn build(db: Db, config: WebConfig, dir: Option<tempfile::TempDir>) -> Self {
        db.migrate().await.expect("migrations");
        let fx = seed(&db).await;
        let mailer = Arc::new(CapturingMailer::default());
        let sms = Arc::new(CapturingSms::default());
        let state = AppState::new(db.clone(), config.clone(), mailer.clone()).with_sms(sms.clone());
        Self {
            sms,
            router: router(state.clone()),
            state,
            db,
            config,
            mailer,
            fx,
            _dir: dir,
        }
    }

    /// Runs a fix-up statement binding a time (and an id when the SQL has `$2`), on either backend.
    pub async fn exec_at(
        &self,
        sql: &'static str,
        at: chrono::DateTime<chrono::Utc>,
        id: Option<Uuid>,
    ) {
        let result = match &self.db {
            Db::Sqlite(s) => {
                let q = sqlx::query(sql).bind(at);
                match id {
                    Some(id) => q.bind(id),
                    None => q,
                }
                .execute(&s.writer)
                .await
                .map(|_| ())
            }
            Db::Postgres(p) => {
                let q = sqlx::query(sql).bind(at);
                match id {
                    Some(id) => q.bind(id),
                    None => q,
                }
                .execute(p)
                .await
                .map(|_| ())
            }
        };
        result.expect("fix-up statement");
    }

    pub async fn client(&self) -> Client {
        self.client_from([10, 0, 0, 1]).await
    }

    /// A client seen from this address (for per-address throttling).
    pub async fn client_from(&self, ip: [u8; 4]) -> Client {
        let mut c = Client {
            router: self.router.clone(),
            cookies: HashMap::new(),
            ip: SocketAddr::from((ip, 40000)),
            key: self.config.secret_key.clone(),
        };
        let page = c.get("/auth/login").await;
        assert_eq!(page.status, StatusCode::OK);
        c
    }

    /// A client signed in as one of the fixture's people.
    pub async fn signed_in(&self, who: &str) -> Client {
        let mut c = self.client().await;
        let r = c.sign_in(self.fx.login(who), PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "sign-in of {who} failed: {}",
            r.body
        );
        c
    }
}

/// A new, empty PostgreSQL database for one test.
async fn fresh_postgres() -> Option<Db> {
    let base = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!("t_{}", Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&base)
        .await
        .expect("TEST_DATABASE_URL reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    let (prefix, _) = base.rsplit_once('/').expect("database URL with a name");
    let options = DbOptions {
        pg_connections: 4,
        ..DbOptions::default()
    };
    Some(
        Db::connect(&format!("{prefix}/{name}"), &options)
            .await
            .expect("connect test database"),
    )
}

struct Seeder {
    logins: LoginAllocator,
    batch: DirectoryBatch,
    hash: String,
    names: HashMap<&'static str, String>,
    ids: HashMap<&'static str, Uuid>,
}

impl Seeder {
    fn person(
        &mut self,
        key: &'static str,
        first: &str,
        last: &str,
        profiles: &[(Uuid, NationalProfile)],
    ) -> Uuid {
        let id = Uuid::now_v7();
        let login = self.logins.allocate(first, last);
        self.batch.users.push(BatchUser {
            id,
            login: login.clone(),
            first_name: first.into(),
            last_name: last.into(),
            email: Some(format!("{login}@exemple.fr")),
            birth_date: None,
            state: AccountState::Active,
            password_hash: Some(self.hash.clone()),
        });
        for (structure, profile) in profiles {
            self.batch.profiles.push((id, *structure, *profile));
        }
        self.names.insert(key, login);
        self.ids.insert(key, id);
        id
    }
}

async fn seed(db: &Db) -> Fixture {
    let t = directory::create_tenant(db, "sm-test", "Syndicat de test", TenantKind::Syndicat)
        .await
        .expect("tenant");
    let o = directory::create_tenant(db, "autre", "Autre commune", TenantKind::Commune)
        .await
        .expect("tenant");
    let (tenant, other_tenant) = (TenantScope(t.id), TenantScope(o.id));
    let new = |kind, name: &str, uai: Option<&str>| NewStructure {
        kind,
        name: name.into(),
        uai: uai.map(Into::into),
        commune: "Testville".into(),
        parent_id: None,
        circonscription_id: None,
    };
    let commune = directory::create_structure(
        db,
        tenant,
        new(StructureKind::Commune, "Mairie de Testville", None),
    )
    .await
    .expect("s")
    .id;
    let elementaire = directory::create_structure(
        db,
        tenant,
        new(
            StructureKind::EcoleElementaire,
            "École élémentaire A",
            Some("0000001B"),
        ),
    )
    .await
    .expect("s")
    .id;
    let maternelle = directory::create_structure(
        db,
        tenant,
        new(
            StructureKind::EcoleMaternelle,
            "École maternelle B",
            Some("0000002C"),
        ),
    )
    .await
    .expect("s")
    .id;
    let other_school = directory::create_structure(
        db,
        other_tenant,
        new(
            StructureKind::EcolePrimaire,
            "École d'ailleurs",
            Some("0000003D"),
        ),
    )
    .await
    .expect("s")
    .id;
    use preau_domain::Level;
    let class_cp = directory::create_class(db, tenant, elementaire, "CP", &[Level::Cp], 2026)
        .await
        .expect("c")
        .id;
    let class_cm2 = directory::create_class(db, tenant, elementaire, "CM2", &[Level::Cm2], 2026)
        .await
        .expect("c")
        .id;
    let class_ms = directory::create_class(db, tenant, maternelle, "MS", &[Level::Ms], 2026)
        .await
        .expect("c")
        .id;
    let other_class =
        directory::create_class(db, other_tenant, other_school, "CE1", &[Level::Ce1], 2026)
            .await
            .expect("c")
            .id;

    let hash = credentials::hash_password(HashCost::TESTING, PASSWORD.into())
        .await
        .expect("hash");
    let mut s = Seeder {
        logins: LoginAllocator::load(db).await.expect("logins"),
        batch: DirectoryBatch::default(),
        hash,
        names: HashMap::new(),
        ids: HashMap::new(),
    };
    use NationalProfile::*;
    let directeur = s.person(
        "directeur",
        "Denise",
        "Directrice",
        &[(elementaire, Direction), (elementaire, Enseignant)],
    );
    s.batch
        .functions
        .push((directeur, elementaire, Function::Directeur));
    let teacher = s.person("teacher", "Thomas", "Maitre", &[(elementaire, Enseignant)]);
    let teacher_cm2 = s.person(
        "teacher_cm2",
        "Claire",
        "Enseignante",
        &[(elementaire, Enseignant)],
    );
    let pupil_cp = s.person("pupil_cp", "Léa", "Martin", &[(elementaire, Eleve)]);
    let pupil_cm2 = s.person("pupil_cm2", "Tom", "Petit", &[(elementaire, Eleve)]);
    let pupil_ms = s.person("pupil_ms", "Zoé", "Martin", &[(maternelle, Eleve)]);
    let guardian = s.person(
        "guardian",
        "Camille",
        "Martin",
        &[(elementaire, Tuteur), (maternelle, Tuteur)],
    );
    let other_guardian = s.person("other_guardian", "Paul", "Petit", &[(elementaire, Tuteur)]);
    let agent = s.person("agent", "Martine", "Mairie", &[(commune, Collectivite)]);
    s.batch
        .functions
        .push((agent, commune, Function::AgentMairie));
    s.batch.admin_grants.push((agent, None));
    s.batch.class_members.extend([
        (class_cp, teacher, ClassRole::Enseignant),
        (class_cm2, teacher_cm2, ClassRole::Enseignant),
        (class_cp, pupil_cp, ClassRole::Eleve),
        (class_cm2, pupil_cm2, ClassRole::Eleve),
        (class_ms, pupil_ms, ClassRole::Eleve),
    ]);
    s.batch.guardianships.extend([
        (guardian, pupil_cp, true),
        (guardian, pupil_ms, true),
        (other_guardian, pupil_cm2, true),
    ]);
    batch::apply(db, tenant, &s.batch).await.expect("batch");

    // The other tenant: a directeur and a family of its own.
    let mut o = Seeder {
        logins: LoginAllocator::load(db).await.expect("logins"),
        batch: DirectoryBatch::default(),
        hash: s.hash.clone(),
        names: HashMap::new(),
        ids: HashMap::new(),
    };
    let other_dir = o.person(
        "other_directeur",
        "Odile",
        "Ailleurs",
        &[(other_school, Direction)],
    );
    o.batch
        .functions
        .push((other_dir, other_school, Function::Directeur));
    let other_pupil = o.person("other_pupil", "Noé", "Ailleurs", &[(other_school, Eleve)]);
    o.batch
        .class_members
        .push((other_class, other_pupil, ClassRole::Eleve));
    batch::apply(db, other_tenant, &o.batch)
        .await
        .expect("batch");

    let operator = directory::create_operator(
        db,
        "operateur",
        directory::NewUser {
            first_name: "Opé".into(),
            last_name: "Rateur".into(),
            email: None,
            birth_date: None,
        },
    )
    .await
    .expect("operator");
    preau_store::accounts::set_password(db, operator.id, &s.hash)
        .await
        .expect("pwd");
    directory::set_operator_active(db, operator.id)
        .await
        .expect("active");

    for (structure, scope) in [
        (commune, tenant),
        (elementaire, tenant),
        (maternelle, tenant),
        (other_school, other_tenant),
    ] {
        directory::refresh_groups(db, scope, structure)
            .await
            .expect("groups");
    }
    let mut logins = s.names;
    logins.extend(o.names);
    logins.insert("operator", "operateur".into());
    let mut ids = s.ids;
    ids.extend(o.ids);
    ids.insert("operator", operator.id);
    Fixture {
        tenant,
        other_tenant,
        elementaire,
        maternelle,
        other_school,
        class_cp,
        class_cm2,
        other_class,
        logins,
        ids,
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
    /// The value of the first hidden input or data-testid element named so.
    pub fn testid(&self, id: &str) -> Option<String> {
        let marker = format!("data-testid=\"{id}\">");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('<')?;
        Some(self.body[start..start + end].trim().to_owned())
    }
}

/// A cookie-keeping client that sends requests to the router in-process, as a browser would.
pub struct Client {
    router: Router,
    cookies: HashMap<String, String>,
    ip: SocketAddr,
    key: Vec<u8>,
}

impl Client {
    pub fn csrf(&self) -> String {
        let seed = self.cookies.get("preau_csrf").cloned().unwrap_or_default();
        preau_web::csrf::token_for(&self.key, &seed)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.into(), value.into());
    }

    pub fn cookie(&self, name: &str) -> Option<&String> {
        self.cookies.get(name)
    }

    pub async fn send(&mut self, mut req: Request<Body>) -> Response {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let h = req.headers_mut();
        h.insert(header::HOST, HOST.parse().expect("host"));
        if !cookie.is_empty() {
            h.insert(header::COOKIE, cookie.parse().expect("cookie"));
        }
        req.extensions_mut().insert(ConnectInfo(self.ip));
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap_or_default();
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || set.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.into(), v.into());
                }
            }
        }
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        Response {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    /// A same-origin form post with this browser's CSRF token, as the pages send it.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, Some(&format!("http://{HOST}")))
            .await
    }

    /// A form post with exactly these fields and this `Origin` (none if `None`).
    pub async fn post_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Response {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            req = req.header(header::ORIGIN, origin);
        }
        self.send(req.body(Body::from(body)).expect("request"))
            .await
    }

    /// A form post answered with bytes (a PDF): status and body.
    pub async fn post_bytes(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, Vec<u8>) {
        let csrf = self.csrf();
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        let body = all
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, format!("http://{HOST}"))
            .header(header::HOST, HOST)
            .body(Body::from(body))
            .expect("request");
        if !cookie.is_empty() {
            req.headers_mut()
                .insert(header::COOKIE, cookie.parse().expect("cookie"));
        }
        req.extensions_mut().insert(ConnectInfo(self.ip));
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, bytes.to_vec())
    }

    /// A multipart upload of files in the field `files`, the token in the query as the page
    /// sends it.
    pub async fn post_files(&mut self, path: &str, files: &[(&str, Vec<u8>)]) -> Response {
        let files: Vec<(&str, &str, Vec<u8>)> = files
            .iter()
            .map(|(name, bytes)| ("files", *name, bytes.clone()))
            .collect();
        self.post_multipart(path, &[], &files).await
    }

    /// A multipart form: text fields, then files as (field, file name, bytes); the token in
    /// the query as the page sends it.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
    ) -> Response {
        let boundary = "----preau-test-boundary";
        let mut body: Vec<u8> = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (field, file, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let sep = if path.contains('?') { '&' } else { '?' };
        let uri = format!("{path}{sep}csrf={}", self.csrf());
        let req = Request::post(uri)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(header::ORIGIN, format!("http://{HOST}"));
        self.send(req.body(Body::from(body)).expect("request"))
            .await
    }

    /// A JSON request as an application sends it: the CSRF token in its header (unless
    /// `csrf` is false), same origin.
    pub async fn json(&mut self, method: &str, path: &str, body: &str, csrf: bool) -> Response {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, format!("http://{HOST}"));
        if csrf {
            req = req.header("x-csrf-token", self.csrf());
        }
        self.send(req.body(Body::from(body.to_owned())).expect("request"))
            .await
    }

    /// A download: status, content type and body (text files in tests).
    pub async fn download(&mut self, path: &str) -> (StatusCode, String, String) {
        let r = self.get(path).await;
        let kind = r
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (r.status, kind, r.body)
    }

    pub async fn sign_in(&mut self, login: &str, password: &str) -> Response {
        self.post("/auth/login", &[("login", login), ("password", password)])
            .await
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A synthetic territory from the dataset generator (`tests/datasets/gen_dataset.py`, real
/// ONDE and AAF formats), generated once per test process and preset.
pub fn dataset(preset: &str) -> std::path::PathBuf {
    use std::sync::{Mutex, OnceLock};
    static MADE: OnceLock<Mutex<HashMap<String, std::path::PathBuf>>> = OnceLock::new();
    let made = MADE.get_or_init(Mutex::default);
    let mut made = made.lock().expect("dataset lock");
    if let Some(path) = made.get(preset) {
        return path.clone();
    }
    let out = std::env::temp_dir().join(format!("preau-dataset-{preset}-{}", std::process::id()));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/gen_dataset.py");
    let status = std::process::Command::new("python3")
        .arg(script)
        .args(["--preset", preset, "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the dataset generator");
    assert!(status.success(), "dataset generator failed");
    made.insert(preset.to_owned(), out.clone());
    out
}

impl TestApp {
    /// Runs a fix-up statement without parameters.
    pub async fn exec(&self, sql: &'static str) {
        match &self.db {
            Db::Sqlite(s) => sqlx::query(sql).execute(&s.writer).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .expect("statement");
    }

    /// Runs the background jobs due now, as the worker would.
    pub async fn run_jobs(&self) -> usize {
        preau_web::notify::worker::drain(&self.state).await
    }

    /// One integer from a query without parameters (counts in tests).
    pub async fn count(&self, sql: &'static str) -> i64 {
        match &self.db {
            Db::Sqlite(s) => sqlx::query_scalar(sql).fetch_one(&s.writer).await,
            Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        }
        .expect("count query")
    }
}
