//! Sending one request with a caller's blocking client, as VTEX parties do: the AppKey/AppToken
//! pair and JSON headers; the answer kept as text.

use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::Value;

use crate::error::{Error, Result};

/// An answer from offernet.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// `Retry-After`, when sent.
    pub retry_after: Option<String>,
}

impl Reply {
    /// The body as JSON (`None` when empty or not JSON).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// `error.code` of VTEX's error body (`{"error": {"code", "message", "exception"}}`).
    pub fn error_code(&self) -> Option<String> {
        self.json()?.pointer("/error/code")?.as_str().map(str::to_string)
    }
}

/// The `X-VTEX-API-AppKey` / `X-VTEX-API-AppToken` a caller sends (either may be left out).
#[derive(Debug, Clone, Default)]
pub struct AppCredentials {
    pub app_key: Option<String>,
    pub app_token: Option<String>,
}

impl AppCredentials {
    pub fn new(app_key: &str, app_token: &str) -> AppCredentials {
        AppCredentials { app_key: Some(app_key.into()), app_token: Some(app_token.into()) }
    }
}

/// Sends `body` (JSON, or nothing) to `url`.
pub(crate) fn send(
    client: &Client,
    method: Method,
    url: &str,
    auth: &AppCredentials,
    body: Option<&Value>,
) -> Result<Reply> {
    let mut request = client.request(method.clone(), url).header("accept", "application/json");
    if let Some(key) = &auth.app_key {
        request = request.header("x-vtex-api-appkey", key);
    }
    if let Some(token) = &auth.app_token {
        request = request.header("x-vtex-api-apptoken", token);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let answer = request.send().map_err(|e| Error::new(format!("{method} {url}: {e}")))?;
    let status = answer.status().as_u16();
    let retry_after = answer.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = answer.text().map_err(|e| Error::new(format!("{method} {url}: reading the answer: {e}")))?;
    Ok(Reply { status, body, retry_after })
}

/// A path segment, percent-encoded where VTEX ids could break a path.
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
