//! `preau import onde|aaf`: directory imports from the command line, with a dry run, a
//! progress line and a French report.

use crate::config::Config;
use crate::server::open_db;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use preau_domain::provisioning::{KindCounts, PlanOptions, Report};
use preau_interop::aaf::{AafInput, FunctionMap};
use preau_interop::onde::OndeFile;
use preau_interop::{DEFAULT_MAX_FILE_BYTES, open_limited, read_limited};
use preau_store::{Db, TenantScope, directory};
use preau_web::import::{ImportError, ImportOptions, import_aaf, import_onde};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ImportTask {
    /// Import a school's ONDE extracts (pupils, guardians, and optionally teachers and the
    /// commune's staff) from a folder of CSV files.
    Onde {
        /// UAI of the school (it must exist).
        #[arg(long)]
        structure: String,
        /// Folder holding the CSV files.
        dir: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Import an académie's AAF 1D export (…_EtabEducNat_, _Eleve_, _PersRelEleve_,
    /// _PersEducNat_ files) from a folder.
    Aaf {
        /// Folder holding the XML files.
        dir: PathBuf,
        /// Tenant receiving the structures (needed when the platform has several).
        #[arg(long)]
        tenant: Option<String>,
        /// Académie code prefixing join keys, when the files do not say it.
        #[arg(long)]
        academie: Option<String>,
        /// Function code → profile table replacing the built-in one (`CODE = National_XXX`).
        #[arg(long)]
        function_map: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Args)]
pub struct Common {
    /// Report what would change without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Import the valid rows even when some are rejected (they are listed).
    #[arg(long)]
    skip_rejected: bool,
    /// Refuse a complete import that would detach more than this share of accounts (%).
    #[arg(long, default_value_t = 30)]
    max_detach_percent: usize,
    /// Configuration file (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
}

impl Common {
    fn options(&self, school_year: i64) -> ImportOptions {
        ImportOptions {
            dry_run: self.dry_run,
            skip_rejected: self.skip_rejected,
            plan: PlanOptions {
                max_detach_percent: Some(self.max_detach_percent),
            },
            actor: None,
            school_year,
        }
    }
}

pub async fn run(task: ImportTask) -> Result<()> {
    let common = match &task {
        ImportTask::Onde { common, .. } | ImportTask::Aaf { common, .. } => common,
    };
    let config = Config::load(common.config.as_deref())?;
    crate::server::init_logging(&config);
    let db = open_db(&config).await?;
    let result = run_task(&db, &task).await;
    db.close().await;
    result
}

fn files_in(dir: &Path, wanted: impl Fn(&str) -> bool) -> Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("dossier {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && wanted(&name) {
            files.push((name, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// A one-line progress display on stderr, rewritten in place.
fn progress_line(what: &str, done: u64, total: u64) {
    let mut err = std::io::stderr().lock();
    let _ = if total > 0 {
        write!(err, "\r\x1b[K{what} : {done}/{total}")
    } else {
        write!(err, "\r\x1b[K{what} : {done}")
    };
    let _ = err.flush();
}

async fn run_task(db: &Db, task: &ImportTask) -> Result<()> {
    let (report, dry_run) = match task {
        ImportTask::Onde {
            structure,
            dir,
            common,
        } => {
            let school = directory::find_structure_by_uai(db, structure)
                .await?
                .with_context(|| format!("aucune école d'UAI {structure}"))?;
            // Folders are often named by the school's UAI: refuse another school's folder.
            if let Some(folder) = dir.file_name().map(|n| n.to_string_lossy().to_uppercase())
                && preau_domain::directory::is_valid_uai(&folder)
                && folder != school.uai.clone().unwrap_or_default()
            {
                bail!(
                    "le dossier {} est celui de l'école {folder}, pas de {structure} : rien n'est importé",
                    dir.display()
                );
            }
            let mut files = Vec::new();
            for (name, path) in files_in(dir, |n| n.to_lowercase().ends_with(".csv"))? {
                files.push(OndeFile {
                    bytes: read_limited(&path, DEFAULT_MAX_FILE_BYTES)?,
                    name,
                });
            }
            let report = import_onde(
                db,
                TenantScope(school.tenant_id),
                school.uai.as_deref().unwrap_or(structure),
                files,
                common.options(directory::school_year(db, TenantScope(school.tenant_id)).await?),
                &progress_line,
            )
            .await;
            (report, common.dry_run)
        }
        ImportTask::Aaf {
            dir,
            tenant,
            academie,
            function_map,
            common,
        } => {
            let scope = match tenant {
                Some(slug) => TenantScope(
                    directory::find_tenant_by_slug(db, slug)
                        .await?
                        .with_context(|| format!("territoire inconnu : {slug}"))?
                        .id,
                ),
                None => match directory::list_tenants(db).await?.as_slice() {
                    [one] => TenantScope(one.id),
                    [] => bail!("aucun territoire : créez-en un (preau admin create-tenant)"),
                    _ => bail!("plusieurs territoires : précisez --tenant"),
                },
            };
            let function_map = function_map.clone().or_else(|| config_function_map(common));
            let functions = match &function_map {
                Some(path) => FunctionMap::parse(&std::fs::read_to_string(path)?)
                    .map_err(|e| anyhow::anyhow!("{} : {e}", path.display()))?,
                None => FunctionMap::default(),
            };
            let mut inputs = Vec::new();
            for (name, path) in files_in(dir, |n| n.ends_with(".xml"))? {
                let file = open_limited(&path, DEFAULT_MAX_FILE_BYTES)?;
                inputs.push(AafInput {
                    name,
                    reader: Box::new(file),
                });
            }
            let report = import_aaf(
                db,
                scope,
                inputs,
                academie.clone(),
                functions,
                common.options(directory::school_year(db, scope).await?),
                &progress_line,
            )
            .await;
            (report, common.dry_run)
        }
    };
    eprintln!();
    match report {
        Ok(report) => {
            print_report(&report, dry_run);
            Ok(())
        }
        Err(ImportError::Rejected(report)) => {
            print_report(&report, true);
            bail!(ImportError::Rejected(report))
        }
        Err(e) => bail!(e),
    }
}

/// The function table named in the configuration file, when the command line names none.
fn config_function_map(common: &Common) -> Option<PathBuf> {
    Config::load(common.config.as_deref())
        .ok()
        .and_then(|c| c.aaf_function_map)
}

fn counts_line(label: &str, c: &KindCounts, dry_run: bool) -> String {
    let (created, updated, detached) = if dry_run {
        ("à créer", "à mettre à jour", "à détacher")
    } else {
        ("créés", "mis à jour", "détachés")
    };
    format!(
        "{label} : {} {created}, {} {updated}, {} {detached}, {} revenus, {} inchangés",
        c.created, c.updated, c.detached, c.reattached, c.unchanged
    )
}

fn print_report(report: &Report, dry_run: bool) {
    if dry_run {
        println!("Simulation : rien n'a été écrit.");
    }
    println!("{}", counts_line("Élèves", &report.pupils, dry_run));
    println!(
        "{}",
        counts_line("Responsables", &report.guardians, dry_run)
    );
    println!("{}", counts_line("Personnels", &report.staff, dry_run));
    println!(
        "Établissements créés : {}, complétés : {} ; classes créées : {}, modifiées : {} ; liens responsable–élève ajoutés : {}, retirés : {}",
        report.structures_created,
        report.structures_updated,
        report.classes_created,
        report.classes_updated,
        report.links_added,
        report.links_removed
    );
    if !report.rejections.is_empty() {
        println!("Lignes rejetées ({}) :", report.rejections.len());
        for r in &report.rejections {
            println!(
                "  {}, ligne {} : {}",
                r.origin.file, r.origin.line, r.reason
            );
        }
    }
    for n in &report.notices {
        println!("Remarque : {n}");
    }
    println!("Changements : {}", report.changes());
}
