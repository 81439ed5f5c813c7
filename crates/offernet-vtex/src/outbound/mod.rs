//! Every call offernet makes to an external VTEX party (vtex-compat.md §3.2): the quote
//! simulations and orders at an external seller (A1–A4) and the catalog, notifications,
//! invoices and cancels to an external marketplace (B5–B9). One place holds what all of them
//! share: the server's SSRF-guarded client (one pool; its resolver refuses private addresses
//! unless `--outbound-allow-local`) and URL check, the credentials from the secrets store
//! (`X-VTEX-API-AppKey`/`AppToken`), `x-vtex-operation-id`, the timeout of each call, the
//! circuit breaker and the limit of in-flight calls per external account, the status that
//! `GET …/integration/status` shows and the metrics.
//!
//! The workers that decide *what* to call (quotes, effects, notifications) live beside this
//! module and start in `workers.rs`; they read committed state, call through [`Outbound::call`]
//! and submit what they learnt as journaled commands, so replay calls no one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use serde_json::Value;

pub mod circuit;
pub mod status;

use status::{AccountStatus, CallError, CallStats};

/// Calls in flight to one external account at most.
pub const MAX_IN_FLIGHT_PER_ACCOUNT: usize = 8;
/// The largest answer read; longer ones are a bad answer.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;
/// The connect timeout of every call (the client's own).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Which call of the protocol (its name labels metrics and status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Call {
    /// A1 without an address: a quote refresh.
    QuoteSimulation,
    /// A1 with the order's address, before a placement.
    CheckSimulation,
    /// A2.
    Placement,
    /// A3.
    Fulfill,
    /// A4.
    Cancel,
    /// B5.
    BindingCheck,
    /// B6.
    Suggestion,
    /// B7.
    Notification,
    /// B8.
    Invoice,
    /// B9.
    SellerCancel,
}

impl Call {
    pub fn name(self) -> &'static str {
        match self {
            Call::QuoteSimulation => "quote_simulation",
            Call::CheckSimulation => "check_simulation",
            Call::Placement => "placement",
            Call::Fulfill => "fulfill",
            Call::Cancel => "cancel",
            Call::BindingCheck => "binding_check",
            Call::Suggestion => "suggestion",
            Call::Notification => "notification",
            Call::Invoice => "invoice",
            Call::SellerCancel => "seller_cancel",
        }
    }

    /// The whole call's time limit (§3.2): 2.5 s for a quote (VTEX's own limit for
    /// fulfillment endpoints), 5 s for the catalog and notifications, 10 s for orders.
    pub fn timeout(self) -> Duration {
        match self {
            Call::QuoteSimulation => Duration::from_millis(2_500),
            Call::BindingCheck | Call::Suggestion | Call::Notification => Duration::from_secs(5),
            Call::CheckSimulation
            | Call::Placement
            | Call::Fulfill
            | Call::Cancel
            | Call::Invoice
            | Call::SellerCancel => Duration::from_secs(10),
        }
    }
}

/// One call: to whom (the mirror account `account`; for an external marketplace, `seller` is
/// the offernet seller whose credentials at it apply), what and where.
pub struct Request<'a> {
    pub account: &'a str,
    pub seller: Option<&'a str>,
    pub call: Call,
    pub method: reqwest::Method,
    pub url: String,
    pub body: Option<&'a Value>,
}

/// A 2xx answer; `body` is `None` when it was empty.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Option<Value>,
}

/// Why a call gave no 2xx answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The account's circuit is open: nothing was sent.
    CircuitOpen,
    /// The URL is refused (scheme, address) or is not a URL: trying again cannot help.
    Refused(String),
    /// No connection, a timeout, a broken answer stream, or the secrets store failed.
    Transport(String),
    /// A non-2xx answer.
    Status { status: u16, retry_after: Option<Duration>, body: Option<Value> },
    /// A 2xx answer that is not JSON (or is too long).
    BadAnswer(String),
}

impl Failure {
    /// Whether a later try may succeed: no connection, timeouts, 408, 429, 5xx, an open
    /// circuit, a broken answer. Other 4xx and refused URLs are final.
    pub fn retryable(&self) -> bool {
        match self {
            Failure::CircuitOpen | Failure::Transport(_) | Failure::BadAnswer(_) => true,
            Failure::Refused(_) => false,
            Failure::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
        }
    }

    /// The wait the party asked for (429/503 `Retry-After`, at most 10 minutes).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The label of the outcome in metrics and status.
    pub fn outcome(&self) -> &'static str {
        match self {
            Failure::CircuitOpen => "circuit_open",
            Failure::Refused(_) => "refused",
            Failure::Transport(m) if m.starts_with("timed out") => "timeout",
            Failure::Transport(_) => "transport",
            Failure::Status { status: 429, .. } => "rate_limited",
            Failure::Status { status: 500..=599, .. } => "server_error",
            Failure::Status { .. } => "client_error",
            Failure::BadAnswer(_) => "bad_answer",
        }
    }

    /// Whether it counts against the circuit (the party is down or overloaded).
    fn trips(&self) -> bool {
        match self {
            Failure::Transport(_) | Failure::BadAnswer(_) => true,
            Failure::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Failure::CircuitOpen | Failure::Refused(_) => false,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::CircuitOpen => "the circuit is open".into(),
            Failure::Refused(m) | Failure::Transport(m) | Failure::BadAnswer(m) => m.clone(),
            Failure::Status { status, body, .. } => {
                let body = body.as_ref().map(|b| b.to_string()).unwrap_or_default();
                let body: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
                format!("answered {status} {body}").trim_end().to_string()
            }
        }
    }
}

/// The delay before retry `attempt` (0 for the first retry): 0.5 s × 2ⁿ, at most 60 s, each
/// drawn between half and all of it so that retries of many calls do not move in lockstep.
pub fn backoff(attempt: u32) -> Duration {
    let full = 500u64.saturating_mul(1u64 << attempt.min(20)).min(60_000);
    let half = full / 2;
    Duration::from_millis(half + random_u64() % (full - half + 1))
}

/// Checks a URL before anything is sent (`Err` = the reason to refuse): the server's guard.
pub type UrlCheck = Arc<dyn Fn(&reqwest::Url) -> Result<(), String> + Send + Sync>;

/// The outbound side, shared by the workers, the status route and `/metrics`.
pub struct Outbound {
    client: reqwest::Client,
    check_url: UrlCheck,
    secrets: Arc<tokio::sync::Mutex<offernet_store::Secrets>>,
    /// The first open period of a circuit ([`circuit::FIRST_OPEN_MS`] in `serve`).
    first_open_ms: u64,
    accounts: Mutex<BTreeMap<String, AccountStatus>>,
    stats: Mutex<CallStats>,
}

impl Outbound {
    pub fn new(
        client: reqwest::Client,
        check_url: UrlCheck,
        secrets: Arc<tokio::sync::Mutex<offernet_store::Secrets>>,
        first_open_ms: u64,
    ) -> Outbound {
        Outbound { client, check_url, secrets, first_open_ms, accounts: Mutex::default(), stats: Mutex::default() }
    }

    /// Makes one call; a non-2xx answer is `Err(Failure::Status)`.
    pub async fn call(&self, r: Request<'_>) -> Result<Answer, Failure> {
        let url = match reqwest::Url::parse(&r.url) {
            Ok(u) => u,
            Err(e) => return Err(self.refuse(&r, format!("not a URL: {e}"))),
        };
        if let Err(why) = (self.check_url)(&url) {
            return Err(self.refuse(&r, why));
        }
        let gate = {
            let mut accounts = self.accounts.lock().unwrap();
            let a = accounts.entry(r.account.to_string()).or_default();
            a.breaker.admit(now_ms()).then(|| a.in_flight.clone())
        };
        let Some(gate) = gate else {
            let f = Failure::CircuitOpen;
            self.count(r.call, f.outcome(), None);
            return Err(f);
        };
        let _permit = gate.acquire_owned().await.map_err(|_| Failure::Transport("shutting down".into()))?;
        let started = Instant::now();
        let result = self.send(&r, url).await;
        self.record(&r, &result, started.elapsed());
        result
    }

    async fn send(&self, r: &Request<'_>, url: reqwest::Url) -> Result<Answer, Failure> {
        let credentials = self
            .secrets
            .lock()
            .await
            .get(r.account, r.seller)
            .await
            .map_err(|e| Failure::Transport(format!("reading the credentials: {e}")))?;
        let mut b = self
            .client
            .request(r.method.clone(), url)
            .timeout(r.call.timeout())
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("offernet-vtex/", env!("CARGO_PKG_VERSION")))
            .header("x-vtex-operation-id", operation_id());
        if let Some(c) = credentials {
            b = b.header("X-VTEX-API-AppKey", c.app_key).header("X-VTEX-API-AppToken", c.app_token);
        }
        if let Some(body) = r.body {
            b = b.header(CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let mut resp = b.send().await.map_err(|e| Failure::Transport(error_text(&e)))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
        let mut bytes = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) if bytes.len() + c.len() > MAX_ANSWER_BYTES => {
                    return Err(Failure::BadAnswer(format!("the answer exceeds {MAX_ANSWER_BYTES} bytes")))
                }
                Ok(Some(c)) => bytes.extend_from_slice(&c),
                Ok(None) => break,
                Err(e) => return Err(Failure::Transport(error_text(&e))),
            }
        }
        let body = if bytes.iter().all(u8::is_ascii_whitespace) { None } else { serde_json::from_slice(&bytes).ok() };
        if !(200..300).contains(&status) {
            return Err(Failure::Status { status, retry_after, body });
        }
        if body.is_none() && !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Failure::BadAnswer(format!("answered {status} with a body that is not JSON")));
        }
        Ok(Answer { status, body })
    }

    fn refuse(&self, r: &Request<'_>, why: String) -> Failure {
        let f = Failure::Refused(why);
        self.record(r, &Err(f.clone()), Duration::ZERO);
        f
    }

    fn record(&self, r: &Request<'_>, result: &Result<Answer, Failure>, took: Duration) {
        let now = now_ms();
        let (outcome, status) = match result {
            Ok(a) => ("ok", Some(a.status)),
            Err(f) => (f.outcome(), if let Failure::Status { status, .. } = f { Some(*status) } else { None }),
        };
        let answered = !matches!(result, Err(Failure::Refused(_)) | Err(Failure::Transport(_)));
        self.count(r.call, outcome, answered.then_some(took));
        let mut accounts = self.accounts.lock().unwrap();
        let a = accounts.entry(r.account.to_string()).or_default();
        match result {
            Ok(_) => a.breaker.success(),
            Err(f) if f.trips() => a.breaker.failure(now, self.first_open_ms),
            Err(Failure::Refused(_)) => a.breaker.abandon(),
            Err(_) => a.breaker.success(),
        }
        if let Err(f) = result {
            a.error(CallError { at_ms: now, call: r.call, outcome, status, message: f.message() });
        }
    }

    fn count(&self, call: Call, outcome: &'static str, took: Option<Duration>) {
        let mut s = self.stats.lock().unwrap();
        *s.total.entry((call.name(), outcome)).or_default() += 1;
        if let Some(t) = took {
            let e = s.seconds.entry(call.name()).or_default();
            e.0 += t.as_secs_f64();
            e.1 += 1;
        }
    }

    /// Whether calls to `account` are held back now (open circuit, not yet due for a probe).
    pub fn circuit_open(&self, account: &str) -> bool {
        self.accounts.lock().unwrap().get(account).is_some_and(|a| a.breaker.is_open(now_ms()))
    }

    /// How many effects of kind `kind` wait for `account` (set by the workers).
    pub fn set_pending(&self, account: &str, kind: &str, n: u64) {
        let mut accounts = self.accounts.lock().unwrap();
        let a = accounts.entry(account.to_string()).or_default();
        if n == 0 {
            a.pending.remove(kind);
        } else {
            a.pending.insert(kind.to_string(), n);
        }
    }

    /// A quote fetch from external seller `account` was answered at `at_ms`.
    pub fn quote_fetched(&self, account: &str, at_ms: u64) {
        self.accounts.lock().unwrap().entry(account.to_string()).or_default().last_quote_fetch_ms = Some(at_ms);
    }

    /// The status of `account` (all empty for an account never called).
    pub fn status(&self, account: &str) -> status::StatusView {
        let now = now_ms();
        let accounts = self.accounts.lock().unwrap();
        match accounts.get(account) {
            Some(a) => a.view(now, true),
            None => AccountStatus::default().view(now, true),
        }
    }

    /// Appends the VTEX outbound metrics (Prometheus text).
    pub fn render_metrics(&self, out: &mut String) {
        let stats = self.stats.lock().unwrap();
        status::render(out, &stats, &self.accounts.lock().unwrap(), now_ms());
    }
}

/// Milliseconds since the epoch (the workers' clock, carried into the commands they submit).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.finish()
}

/// A random UUID (version 4 layout) for `x-vtex-operation-id`: tracing, not security.
fn operation_id() -> String {
    let (a, b) = (random_u64(), random_u64());
    let hex = format!("{a:016x}{b:016x}");
    format!("{}-{}-4{}-a{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// What went wrong with a request that got no answer (timed out, could not connect, …) and
/// its causes. The webhooks' delivery uses it too.
pub fn error_text(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests;
