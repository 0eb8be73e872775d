//! SMS through a provider adapter: Brevo's transactional SMS API (the real provider; its
//! base URL is configurable so a local test provider can stand in), a log-only sender when
//! none is configured, and a capturing one for tests.

use std::sync::Mutex;

#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `text` to `to` (international digits, "33612345678").
    async fn send(&self, to: &str, text: &str) -> Result<(), String>;
}

/// Brevo (`POST {base}/v3/transactionalSMS/sms`, `api-key` header).
pub struct BrevoSms {
    client: reqwest::Client,
    base_url: String,
    api_key: String,
    sender: String,
}

impl BrevoSms {
    /// `base_url` is `https://api.brevo.com` in production; `sender` is at most 11 letters.
    pub fn new(client: reqwest::Client, base_url: &str, api_key: &str, sender: &str) -> Self {
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            sender: sender
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(11)
                .collect(),
        }
    }
}

#[async_trait::async_trait]
impl SmsSender for BrevoSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), String> {
        let body = serde_json::json!({
            "sender": self.sender,
            "recipient": to,
            "content": text,
            "type": "transactional",
            "unicodeEnabled": !text.is_ascii(),
        });
        let response = self
            .client
            .post(format!("{}/v3/transactionalSMS/sms", self.base_url))
            .header("api-key", &self.api_key)
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            let detail = response.text().await.unwrap_or_default();
            Err(format!(
                "{status}: {}",
                detail.chars().take(300).collect::<String>()
            ))
        }
    }
}

/// No provider configured: the SMS goes to the log.
pub struct LogSms;

#[async_trait::async_trait]
impl SmsSender for LogSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), String> {
        tracing::info!(to, text, "SMS (aucun fournisseur configuré)");
        Ok(())
    }
}

/// Keeps every SMS in memory (tests).
#[derive(Default)]
pub struct CapturingSms {
    pub sent: Mutex<Vec<(String, String)>>,
}

impl CapturingSms {
    pub fn messages(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait::async_trait]
impl SmsSender for CapturingSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), String> {
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((to.to_owned(), text.to_owned()));
        Ok(())
    }
}
