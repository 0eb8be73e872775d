//! Configuration: defaults, then `preau.toml` (or `--config FILE`), then `PREAU_*` variables.
//! Secrets can also be given as files: `PREAU_DATABASE_URL_FILE`, `PREAU_SMTP_URL_FILE`,
//! `PREAU_SECRET_KEY_FILE`, `PREAU_SMS_API_KEY_FILE`.

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// Where the SQLite database, the secret key and files live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; default: SQLite in the data directory.
    pub database_url: Option<String>,
    /// Address the web server listens on.
    pub listen: String,
    /// Public base URL, e.g. `https://ent.example.fr` (default: `http://` + listen).
    pub public_url: Option<String>,
    /// SMTP server for e-mail, e.g. `smtps://user:pass@smtp.example.fr`; unset: e-mails go to the log.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    /// 64 hex characters; default: generated once into `DATA_DIR/secret.key`.
    pub secret_key: Option<String>,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter, e.g. `info` or `preau=debug,info`.
    pub log_level: String,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// Failed sign-ins allowed per client address every 10 minutes. A whole school signs in
    /// from one address and children mistype: keep it high; accounts have their own lock.
    pub ip_failure_limit: u32,
    /// Behind a reverse proxy: take the client address from `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// SQLite: seconds between WAL checkpoints.
    pub wal_checkpoint_seconds: u64,
    /// SQLite: size the WAL is truncated to after a checkpoint.
    pub wal_size_limit_mib: i64,
    pub read_connections: u32,
    /// Days an account stays detached (no school, still able to sign in) before it is disabled.
    pub lifecycle_disable_days: i64,
    /// Days a disabled account waits before deletion.
    pub lifecycle_delete_days: i64,
    /// Days the directeur is told before a deletion.
    pub lifecycle_notice_days: i64,
    /// Folder watched for AAF exports (a syndicat's nightly drop); unset: no watching.
    pub aaf_drop_dir: Option<PathBuf>,
    /// Tenant receiving the AAF drop (needed when the platform has several).
    pub aaf_drop_tenant: Option<String>,
    /// Import the valid records of a drop even when some are rejected.
    pub aaf_drop_skip_rejected: bool,
    /// Function code → profile table replacing the built-in one (`CODE = National_XXX` lines).
    pub aaf_function_map: Option<PathBuf>,
    /// Minutes during which a sender may recall a message (0: never).
    pub message_recall_minutes: i64,
    /// SMS provider API key (Brevo); unset: SMS go to the log.
    pub sms_api_key: Option<String>,
    /// Base URL of the SMS provider's API (a local test provider can stand in).
    pub sms_api_url: String,
    /// Sender name shown on SMS (11 letters at most).
    pub sms_sender: String,
    /// SMS one tenant may send per minute.
    pub sms_per_minute: u32,
    /// Contact given to push services (`mailto:…`).
    pub push_contact: Option<String>,
    /// When daily e-mail digests go out, Paris time ("17:00").
    pub digest_time: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: None,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            smtp_url: None,
            mail_from: "Préau <ne-pas-repondre@localhost>".into(),
            secret_key: None,
            log_format: "text".into(),
            log_level: "info".into(),
            session_idle_minutes: 120,
            session_absolute_hours: 12,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            ip_failure_limit: 1000,
            trust_forwarded_for: false,
            wal_checkpoint_seconds: 30,
            wal_size_limit_mib: 64,
            read_connections: 8,
            lifecycle_disable_days: 90,
            lifecycle_delete_days: 90,
            lifecycle_notice_days: 14,
            aaf_drop_dir: None,
            aaf_drop_tenant: None,
            aaf_drop_skip_rejected: false,
            aaf_function_map: None,
            message_recall_minutes: 10,
            sms_api_key: None,
            sms_api_url: "https://api.brevo.com".into(),
            sms_sender: "Preau".into(),
            sms_per_minute: 60,
            push_contact: None,
            digest_time: "17:00".into(),
        }
    }
}

impl std::fmt::Debug for Config {
    // Secrets never reach the logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field(
                "database",
                &self
                    .database_url
                    .as_ref()
                    .map(|u| u.split('@').next_back().unwrap_or_default()),
            )
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("smtp", &self.smtp_url.is_some())
            .finish_non_exhaustive()
    }
}

const SECRET_FIELDS: [&str; 4] = ["database_url", "smtp_url", "secret_key", "sms_api_key"];

impl Config {
    pub fn load(file: Option<&Path>) -> Result<Self> {
        let file = file.map_or_else(|| PathBuf::from("preau.toml"), Path::to_path_buf);
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("PREAU_").ignore(&[
                "database_url_file",
                "smtp_url_file",
                "secret_key_file",
                "sms_api_key_file",
            ]))
            .extract()
            .with_context(|| format!("configuration invalide ({})", file.display()))?;
        for field in SECRET_FIELDS {
            let var = format!("PREAU_{}_FILE", field.to_uppercase());
            if let Ok(path) = std::env::var(&var) {
                let value = std::fs::read_to_string(&path)
                    .with_context(|| format!("{var}: lecture de {path}"))?;
                let value = Some(value.trim().to_owned());
                match field {
                    "database_url" => config.database_url = value,
                    "smtp_url" => config.smtp_url = value,
                    "sms_api_key" => config.sms_api_key = value,
                    _ => config.secret_key = value,
                }
            }
        }
        Ok(config)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("preau.sqlite").display()))
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The configured key, or the one kept in the data directory (created on first start).
    pub fn secret_key(&self) -> Result<Vec<u8>> {
        if let Some(hex) = &self.secret_key {
            return decode_hex(hex).context("secret_key: 64 caractères hexadécimaux attendus");
        }
        let path = self.data_dir.join("secret.key");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return decode_hex(existing.trim())
                .with_context(|| format!("{} illisible", path.display()));
        }
        std::fs::create_dir_all(&self.data_dir)?;
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        write_private(&path, &hex)?;
        Ok(key.to_vec())
    }
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("création de {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

fn decode_hex(hex: &str) -> Result<Vec<u8>> {
    anyhow::ensure!(hex.len() == 64, "longueur incorrecte");
    (0..32)
        .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(Into::into))
        .collect()
}
