//! Settings the web layer needs, filled by the binary from defaults, file and environment.

use preau_store::credentials::HashCost;
use preau_store::sessions::SessionPolicy;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Public base URL, e.g. `https://ent.example.fr`; links in e-mails use it, and
    /// `https` turns on `__Host-` cookies with `Secure` and HSTS.
    pub public_url: String,
    pub session: SessionPolicy,
    pub hash_cost: HashCost,
    /// Key for CSRF tokens (32 random bytes, kept in the data directory or given as a secret).
    pub secret_key: Vec<u8>,
    /// Failed sign-ins allowed from one IP address per window before it is refused for the rest
    /// of the window. Generous: a whole school signs in from one address.
    pub ip_failure_limit: u32,
    pub ip_failure_window: Duration,
    /// Trust `X-Forwarded-For` from the reverse proxy for the client address.
    pub trust_forwarded_for: bool,
    pub body_limit_bytes: usize,
    /// Larger limit of the routes taking file uploads (directory imports).
    pub upload_limit_bytes: usize,
    /// Where uploaded files wait for their import (deleted when it ends).
    pub data_dir: std::path::PathBuf,
    /// Delays of the accounts of people who left.
    pub lifecycle: preau_store::lifecycle::LifecyclePolicy,
    /// Name shown in the header and titles.
    pub platform_name: String,
    /// Minutes during which a sender may recall a message.
    pub recall_minutes: i64,
    /// Contact given to push services with every push (`mailto:` or `https:`).
    pub push_contact: String,
    /// When daily e-mail digests go out (Paris time, weekdays).
    pub digest_time: chrono::NaiveTime,
    /// SMS one tenant may send per minute.
    pub sms_per_minute: u32,
}

impl WebConfig {
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Origin (scheme://host[:port]) of the public URL.
    pub fn public_origin(&self) -> &str {
        let url = self.public_url.trim_end_matches('/');
        match url.find("://") {
            Some(i) => match url[i + 3..].find('/') {
                Some(j) => &url[..i + 3 + j],
                None => url,
            },
            None => url,
        }
    }

    pub fn for_tests(public_url: &str) -> Self {
        Self {
            public_url: public_url.to_owned(),
            session: SessionPolicy::default(),
            hash_cost: HashCost::TESTING,
            secret_key: vec![7; 32],
            ip_failure_limit: 100,
            ip_failure_window: Duration::from_secs(600),
            trust_forwarded_for: false,
            body_limit_bytes: 1024 * 1024,
            upload_limit_bytes: 32 * 1024 * 1024,
            data_dir: std::env::temp_dir().join(format!("preau-test-{}", uuid::Uuid::new_v4())),
            lifecycle: preau_store::lifecycle::LifecyclePolicy::default(),
            platform_name: "Préau".into(),
            recall_minutes: 10,
            push_contact: "mailto:exploitation@preau.test".into(),
            digest_time: chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
            sms_per_minute: 60,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_of_public_url() {
        let c = super::WebConfig::for_tests("https://ent.example.fr/base/");
        assert_eq!(c.public_origin(), "https://ent.example.fr");
        let c = super::WebConfig::for_tests("http://127.0.0.1:8080");
        assert_eq!(c.public_origin(), "http://127.0.0.1:8080");
    }
}
