//! Start-up: logging, database, the web server with graceful shutdown, operator commands.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use preau_domain::{StructureKind, TenantKind};
use preau_store::credentials::HashCost;
use preau_store::directory::{self, NewStructure, NewUser};
use preau_store::sessions::SessionPolicy;
use preau_store::{Db, DbOptions, TenantScope, accounts};
use preau_web::config::WebConfig;
use preau_web::mail::{LogMailer, Mailer, SmtpMailer};
use preau_web::{AppState, router};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub async fn open_db(config: &Config) -> Result<Db> {
    let options = DbOptions {
        read_connections: config.read_connections,
        wal_size_limit_bytes: config.wal_size_limit_mib * 1024 * 1024,
        ..DbOptions::default()
    };
    let db = Db::connect(&config.database_url(), &options)
        .await
        .context("ouverture de la base de données")?;
    db.migrate().await.context("migrations")?;
    Ok(db)
}

fn web_config(config: &Config) -> Result<WebConfig> {
    Ok(WebConfig {
        public_url: config.public_url(),
        session: SessionPolicy {
            idle: chrono::Duration::minutes(config.session_idle_minutes),
            absolute: chrono::Duration::hours(config.session_absolute_hours),
        },
        hash_cost: HashCost {
            memory_kib: config.argon2_memory_kib,
            iterations: config.argon2_iterations,
        },
        secret_key: config.secret_key()?,
        ip_failure_limit: config.ip_failure_limit,
        ip_failure_window: Duration::from_secs(600),
        trust_forwarded_for: config.trust_forwarded_for,
        body_limit_bytes: 2 * 1024 * 1024,
        upload_limit_bytes: 64 * 1024 * 1024,
        data_dir: config.data_dir.clone(),
        lifecycle: preau_store::lifecycle::LifecyclePolicy {
            disable_after: chrono::Duration::days(config.lifecycle_disable_days.max(1)),
            delete_after: chrono::Duration::days(config.lifecycle_delete_days.max(1)),
            notice: chrono::Duration::days(config.lifecycle_notice_days.max(1)),
        },
        platform_name: "Préau".into(),
        recall_minutes: config.message_recall_minutes.max(0),
        push_contact: config.push_contact.clone().unwrap_or_else(|| {
            let host = config.public_url();
            format!(
                "mailto:exploitation@{}",
                host.split("://")
                    .nth(1)
                    .unwrap_or("localhost")
                    .split([':', '/'])
                    .next()
                    .unwrap_or("localhost")
            )
        }),
        digest_time: chrono::NaiveTime::parse_from_str(config.digest_time.trim(), "%H:%M")
            .context("digest_time : une heure HH:MM est attendue")?,
        sms_per_minute: config.sms_per_minute.max(1),
    })
}

pub async fn serve(config: Config) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = open_db(&config).await?;
    serve_with(config, db).await
}

pub async fn serve_with(config: Config, db: Db) -> Result<()> {
    let web = web_config(&config)?;
    let mailer: Arc<dyn Mailer> = match &config.smtp_url {
        Some(url) => Arc::new(SmtpMailer::new(url, &config.mail_from).map_err(anyhow::Error::msg)?),
        None => Arc::new(LogMailer),
    };
    db.spawn_wal_checkpointer(Duration::from_secs(config.wal_checkpoint_seconds.max(1)));
    spawn_session_purge(db.clone(), web.session);
    // Imports cut off by the last stop never committed: say so on their pages.
    let interrupted = preau_store::imports::fail_interrupted(&db).await?;
    if interrupted > 0 {
        tracing::warn!(interrupted, "imports interrompus par l'arrêt précédent");
    }
    // Structures that never had communication rules (created before they existed) get the
    // defaults now, so everyone can write to the people the defaults allow.
    let initialised = preau_store::communication::initialise_missing(&db).await?;
    if initialised > 0 {
        tracing::info!(initialised, "règles de communication par défaut écrites");
    }
    let mut state = AppState::new(db.clone(), web, mailer);
    if let Some(key) = &config.sms_api_key {
        let http = state.http.clone();
        state = state.with_sms(Arc::new(preau_web::notify::sms::BrevoSms::new(
            http,
            &config.sms_api_url,
            key,
            &config.sms_sender,
        )));
    }
    preau_web::lifecycle::spawn(state.clone(), state.config.lifecycle);
    preau_web::notify::worker::spawn(state.clone());
    if let Some(dir) = &config.aaf_drop_dir {
        let tenant = match &config.aaf_drop_tenant {
            Some(slug) => tenant_by_slug(&db, slug).await?,
            None => match directory::list_tenants(&db).await?.as_slice() {
                [one] => TenantScope(one.id),
                _ => bail!(
                    "aaf_drop_dir : précisez aaf_drop_tenant (plusieurs territoires ou aucun)"
                ),
            },
        };
        let functions = match &config.aaf_function_map {
            Some(path) => preau_interop::aaf::FunctionMap::parse(
                &std::fs::read_to_string(path).with_context(|| path.display().to_string())?,
            )
            .map_err(|e| anyhow::anyhow!("{} : {e}", path.display()))?,
            None => preau_interop::aaf::FunctionMap::default(),
        };
        tracing::info!(dir = %dir.display(), "dépôt AAF surveillé");
        preau_web::import::drop::spawn(
            db.clone(),
            preau_web::import::drop::DropConfig {
                dir: dir.clone(),
                tenant,
                skip_rejected: config.aaf_drop_skip_rejected,
                functions,
            },
        );
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("écoute sur {}", config.listen))?;
    tracing::info!(listen = %config.listen, public_url = %config.public_url(), "Préau en service");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    db.close().await;
    Ok(())
}

fn spawn_session_purge(db: Db, policy: SessionPolicy) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match preau_store::sessions::purge_expired(&db, policy).await {
                Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session purge failed"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("arrêt demandé");
}

#[derive(Subcommand)]
pub enum AdminTask {
    /// Create a platform operator and print their activation code.
    CreateOperator {
        #[arg(long)]
        login: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Create a tenant (a syndicat mixte or a commune).
    CreateTenant {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// `commune` or `syndicat`.
        #[arg(long, default_value = "commune")]
        kind: String,
    },
    /// Create a structure in a tenant.
    CreateStructure {
        /// The tenant's short identifier.
        #[arg(long)]
        tenant: String,
        /// ecole_maternelle, ecole_elementaire, ecole_primaire, commune, circonscription, college.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        uai: Option<String>,
        #[arg(long, default_value = "")]
        commune: String,
    },
    /// Create a tenant administrator (agent of the syndicat or mairie) and print their activation code.
    CreateTenantAdmin {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Year rollover ("bascule de rentrée"): archive the classes of the ending school year;
    /// the next import places pupils in their new classes.
    Rollover {
        #[arg(long)]
        tenant: String,
        /// The school year that starts, named by its first year (2026 for 2026–2027).
        #[arg(long)]
        year: i64,
    },
    /// Issue a new activation code for an account (earlier codes stop working).
    ActivationCode {
        #[arg(long)]
        login: String,
    },
    /// Rebuild who may write to whom in every structure of a tenant (from their rules and
    /// groups); imports and rule changes already do it, this is for checks and measures.
    RecomputeRules {
        #[arg(long)]
        tenant: String,
    },
    /// Whom an account may write to: how many people, and how long the lookup takes.
    Reach {
        #[arg(long)]
        login: String,
        /// Lookups to time.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
}

pub async fn admin(config: Config, task: AdminTask) -> Result<()> {
    let db = open_db(&config).await?;
    let result = run_admin(&db, task).await;
    db.close().await;
    result
}

async fn tenant_by_slug(db: &Db, slug: &str) -> Result<TenantScope> {
    let tenant = directory::find_tenant_by_slug(db, slug)
        .await?
        .with_context(|| format!("territoire inconnu : {slug}"))?;
    Ok(TenantScope(tenant.id))
}

async fn print_code(db: &Db, scope: Option<TenantScope>, user: &directory::User) -> Result<()> {
    let (code, expires) = accounts::issue_activation_code(db, scope, user.id, None).await?;
    println!("identifiant : {}", user.login);
    println!(
        "code d'activation : {} (valable jusqu'au {})",
        preau_domain::activation::format_code(&code),
        expires.format("%d/%m/%Y")
    );
    Ok(())
}

async fn run_admin(db: &Db, task: AdminTask) -> Result<()> {
    run_admin_task(db, task)
        .await
        .map_err(|e| match e.downcast_ref::<preau_store::StoreError>() {
            Some(preau_store::StoreError::Conflict(what)) => {
                anyhow::anyhow!("existe déjà ({what})")
            }
            _ => e,
        })
}

async fn run_admin_task(db: &Db, task: AdminTask) -> Result<()> {
    match task {
        AdminTask::CreateOperator {
            login,
            first_name,
            last_name,
            email,
        } => {
            let user = directory::create_operator(
                db,
                &login,
                NewUser {
                    first_name,
                    last_name,
                    email,
                    birth_date: None,
                },
            )
            .await?;
            print_code(db, None, &user).await
        }
        AdminTask::Rollover { tenant, year } => {
            let scope = tenant_by_slug(db, &tenant).await?;
            let archived =
                directory::rollover(db, scope, year, None)
                    .await
                    .map_err(|e| match e {
                        preau_store::StoreError::Invalid(why) => anyhow::anyhow!(why),
                        other => other.into(),
                    })?;
            println!(
                "année {year}–{} ouverte : {archived} classes archivées",
                year + 1
            );
            Ok(())
        }
        AdminTask::CreateTenant { slug, name, kind } => {
            let kind: TenantKind = kind.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let tenant = directory::create_tenant(db, &slug, &name, kind).await?;
            println!("territoire créé : {} ({})", tenant.name, tenant.id);
            Ok(())
        }
        AdminTask::CreateStructure {
            tenant,
            kind,
            name,
            uai,
            commune,
        } => {
            let scope = tenant_by_slug(db, &tenant).await?;
            let kind: StructureKind = kind.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(uai) = uai
                .as_ref()
                .filter(|u| !preau_domain::directory::is_valid_uai(u))
            {
                bail!("UAI incorrect : {uai}");
            }
            let s = directory::create_structure(
                db,
                scope,
                NewStructure {
                    kind,
                    name,
                    uai,
                    commune,
                    parent_id: None,
                    circonscription_id: None,
                },
            )
            .await?;
            directory::refresh_groups(db, scope, s.id).await?;
            println!("structure créée : {} ({})", s.name, s.id);
            Ok(())
        }
        AdminTask::CreateTenantAdmin {
            tenant,
            first_name,
            last_name,
            email,
        } => {
            let scope = tenant_by_slug(db, &tenant).await?;
            let user = directory::create_user(
                db,
                Some(scope),
                NewUser {
                    first_name,
                    last_name,
                    email,
                    birth_date: None,
                },
            )
            .await?;
            directory::grant_admin(db, scope, user.id, None).await?;
            print_code(db, Some(scope), &user).await
        }
        AdminTask::RecomputeRules { tenant } => {
            let scope = tenant_by_slug(db, &tenant).await?;
            let start = std::time::Instant::now();
            let n = preau_store::communication::recompute_all(db, scope).await?;
            println!(
                "règles recalculées : {n} structures en {:.2} s",
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        AdminTask::Reach { login, repeat } => {
            let user = directory::find_user_by_login(db, &login)
                .await?
                .with_context(|| format!("compte inconnu : {login}"))?;
            let scope = TenantScope(user.tenant_id.context("compte sans territoire")?);
            // Warm-up: the server's long-lived connections have the statement prepared and
            // planned once; a cold connection would measure planning instead.
            for _ in 0..repeat.min(100) {
                preau_store::communication::reachable(db, scope, user.id).await?;
            }
            let mut times = Vec::with_capacity(repeat.max(1));
            let mut count = 0;
            for _ in 0..repeat.max(1) {
                let start = std::time::Instant::now();
                count = preau_store::communication::reachable(db, scope, user.id)
                    .await?
                    .len();
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
            println!(
                "{login} : {count} personnes joignables ; recherche p50 {:.2} ms, p99 {:.2} ms ({} fois)",
                at(0.5),
                at(0.99),
                times.len()
            );
            Ok(())
        }
        AdminTask::ActivationCode { login } => {
            let user = directory::find_user_by_login(db, &login)
                .await?
                .with_context(|| format!("compte inconnu : {login}"))?;
            print_code(db, user.tenant_id.map(TenantScope), &user).await
        }
    }
}
