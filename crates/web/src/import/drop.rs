//! The académie's nightly AAF drop: a folder the export lands in (by SFTP, rsync…). When a
//! set of AAF files has stopped changing, it is moved aside and imported; the files then go
//! to `traites/` (or `refuses/`) with a French report next to them. Nothing is imported
//! while files are still arriving, and a refused set changes nothing.

use super::runner::{ImportError, ImportOptions, import_aaf};
use preau_domain::provisioning::{PlanOptions, Report};
use preau_interop::aaf::{AafInput, FunctionMap, feed::classify};
use preau_interop::{DEFAULT_MAX_FILE_BYTES, open_limited};
use preau_store::{Db, TenantScope, directory};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long the files must stay unchanged before the set is taken.
const SETTLE: Duration = Duration::from_secs(120);

#[derive(Clone, Debug)]
pub struct DropConfig {
    pub dir: PathBuf,
    pub tenant: TenantScope,
    pub skip_rejected: bool,
    pub functions: FunctionMap,
}

/// The AAF files waiting in the folder, if they have all stopped changing for `settle`.
pub fn settled_files(dir: &Path, settle: Duration) -> std::io::Result<Option<Vec<PathBuf>>> {
    let mut files = Vec::new();
    let now = SystemTime::now();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.file_type()?.is_file() || classify(&name).is_none() {
            continue;
        }
        let modified = entry.metadata()?.modified()?;
        if now.duration_since(modified).unwrap_or_default() < settle {
            return Ok(None);
        }
        files.push(entry.path());
    }
    files.sort();
    Ok((!files.is_empty()).then_some(files))
}

/// The report written next to the files, in French.
pub fn report_text(result: &Result<Report, ImportError>) -> String {
    match result {
        Ok(r) => {
            let mut text = format!(
                "Import terminé : {} changements.\nÉlèves : {} créés, {} mis à jour, {} détachés\nResponsables : {} créés, {} mis à jour, {} détachés\nPersonnels : {} créés, {} mis à jour, {} détachés\n",
                r.changes(),
                r.pupils.created,
                r.pupils.updated,
                r.pupils.detached,
                r.guardians.created,
                r.guardians.updated,
                r.guardians.detached,
                r.staff.created,
                r.staff.updated,
                r.staff.detached
            );
            for rej in &r.rejections {
                text.push_str(&format!(
                    "Rejeté : {}, ligne {} : {}\n",
                    rej.origin.file, rej.origin.line, rej.reason
                ));
            }
            for n in &r.notices {
                text.push_str(&format!("Remarque : {n}\n"));
            }
            text
        }
        Err(ImportError::Rejected(r)) => {
            let mut text = format!(
                "Import refusé : rien n'a été modifié.\n{}\n",
                ImportError::Rejected(r.clone())
            );
            for rej in &r.rejections {
                text.push_str(&format!(
                    "Rejeté : {}, ligne {} : {}\n",
                    rej.origin.file, rej.origin.line, rej.reason
                ));
            }
            text
        }
        Err(e) => format!("Import refusé : rien n'a été modifié.\n{e}\n"),
    }
}

/// Takes one settled set, if any: moves it aside, imports it, files it with its report.
/// Returns the folder the set ended in.
pub async fn take_once(
    db: &Db,
    config: &DropConfig,
    settle: Duration,
) -> std::io::Result<Option<PathBuf>> {
    let Some(files) = settled_files(&config.dir, settle)? else {
        return Ok(None);
    };
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string();
    let work = config.dir.join("en-cours").join(&stamp);
    std::fs::create_dir_all(&work)?;
    let mut moved = Vec::new();
    for f in &files {
        let target = work.join(f.file_name().unwrap_or_default());
        std::fs::rename(f, &target)?;
        moved.push(target);
    }
    let result = import_set(db, config, &moved).await;
    let outcome = if result.is_ok() { "traites" } else { "refuses" };
    let done = config.dir.join(outcome).join(&stamp);
    std::fs::create_dir_all(done.parent().unwrap_or(&config.dir))?;
    std::fs::rename(&work, &done)?;
    std::fs::write(done.join("rapport.txt"), report_text(&result))?;
    match &result {
        Ok(r) => {
            tracing::info!(changes = r.changes(), folder = %done.display(), "AAF drop imported")
        }
        Err(e) => tracing::warn!(error = %e, folder = %done.display(), "AAF drop refused"),
    }
    Ok(Some(done))
}

async fn import_set(
    db: &Db,
    config: &DropConfig,
    files: &[PathBuf],
) -> Result<Report, ImportError> {
    let mut inputs = Vec::new();
    for path in files {
        inputs.push(AafInput {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            reader: Box::new(open_limited(path, DEFAULT_MAX_FILE_BYTES)?),
        });
    }
    let options = ImportOptions {
        dry_run: false,
        skip_rejected: config.skip_rejected,
        plan: PlanOptions::default(),
        actor: None,
        school_year: directory::school_year(db, config.tenant).await?,
    };
    let quiet = |_: &str, _: u64, _: u64| {};
    import_aaf(
        db,
        config.tenant,
        inputs,
        None,
        config.functions.clone(),
        options,
        &quiet,
    )
    .await
}

/// Watches the drop folder every minute.
pub fn spawn(db: Db, config: DropConfig) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = take_once(&db, &config, SETTLE).await {
                tracing::warn!(error = %e, dir = %config.dir.display(), "AAF drop folder unreadable");
            }
        }
    });
}
