//! One webhook request and what its answer means: the client (no redirects, timeouts, the
//! SSRF guard's resolver), the signed request, the answer read up to a small limit, and the
//! retry policy (exponential backoff with jitter, `Retry-After` for 429 and 503).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};

use super::guard::{check_url, GuardedResolver};
use super::sign::signature;

/// Bytes of a destination's answer that are read (and shown in errors); the rest is dropped.
/// A receiver answers 2xx with little or nothing; a large body only costs us.
pub const MAX_RESPONSE_BODY_BYTES: usize = 4_096;
/// Time to connect (TCP and TLS): a destination that cannot take a connection in 5 s is down.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for a whole request and answer: receivers should acknowledge quickly and work later.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Requests in flight over all subscriptions, and to one host (`host:port`).
pub const MAX_IN_FLIGHT: usize = 64;
pub const MAX_IN_FLIGHT_PER_HOST: usize = 4;

/// When to try again and when to give up.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts of one event before it becomes a dead letter.
    pub max_attempts: u32,
    /// The first retry's delay; each next one doubles, up to `max_backoff_ms`; each is drawn
    /// between half and all of it (jitter), so failed receivers are not hit in lockstep.
    pub first_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// The longest `Retry-After` honoured (a longer one is cut to it).
    pub max_retry_after_ms: u64,
    /// A subscription whose deliveries have failed for this long, with no success between, is
    /// disabled with the reason (`DisableWebhook`).
    pub disable_after_ms: u64,
}

impl Default for RetryPolicy {
    /// 10 attempts over 4 to 8 minutes (the delays 1, 2, 4, … 256 s, each between half and all
    /// of it): a receiver that restarts or goes away for a few minutes loses nothing; a
    /// subscription failing for 24 hours is disabled (`serve --webhook-disable-after-secs`
    /// sets it).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            first_backoff_ms: 1_000,
            max_backoff_ms: 300_000,
            max_retry_after_ms: 600_000,
            disable_after_ms: 24 * 3_600_000,
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `next` (2 for the first retry), with jitter from `rand`.
    pub fn backoff(&self, next: u32, rand: u64) -> Duration {
        let full =
            self.first_backoff_ms.saturating_mul(1u64 << (next.saturating_sub(2)).min(30)).min(self.max_backoff_ms);
        let half = full / 2;
        Duration::from_millis(half + rand % (full - half + 1))
    }
}

/// What an answer means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// 5xx, 429, a timeout or no connection: try again (after `Retry-After` when given).
    Retry(Option<Duration>),
    /// Another answer (4xx, a redirect) or a URL the guard refuses: trying again cannot help.
    Refused,
}

/// One attempt's outcome.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: Option<u16>,
    pub latency: Duration,
    pub error: Option<String>,
    pub verdict: Verdict,
}

/// The outbound client: no redirects, connect and total timeouts, the guard's resolver.
pub fn client(allow_local: bool) -> Result<reqwest::Client, String> {
    // rustls with the ring provider, the process's default (already set: fine).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .dns_resolver(Arc::new(GuardedResolver { allow_local }))
        .user_agent(concat!("offernet-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("building the outbound HTTP client: {e}"))
}

/// Sends `body` (one event, as `/events` shows it) to `url`, signed for message `msg_id`.
pub async fn attempt(
    client: &reqwest::Client,
    url: &str,
    allow_local: bool,
    secret: &str,
    msg_id: &str,
    body: &[u8],
) -> Answer {
    let started = Instant::now();
    let refused =
        |why: String| Answer { status: None, latency: started.elapsed(), error: Some(why), verdict: Verdict::Refused };
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return refused(format!("not a URL: {e}")),
    };
    if let Err(why) = check_url(&parsed, allow_local) {
        return refused(why);
    }
    let ts = super::now_ms() / 1000;
    let Some(sig) = signature(secret, msg_id, ts, body) else {
        return refused("the signing secret does not decode".into());
    };
    let sent = client
        .post(parsed)
        .header(CONTENT_TYPE, "application/json")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(body.to_vec())
        .send()
        .await;
    let mut resp = match sent {
        Ok(r) => r,
        Err(e) => {
            return Answer {
                status: None,
                latency: started.elapsed(),
                error: Some(offernet_vtex::outbound::error_text(&e)),
                verdict: Verdict::Retry(None),
            }
        }
    };
    let status = resp.status().as_u16();
    let retry_after = retry_after(resp.headers());
    let mut text = Vec::new();
    while text.len() < MAX_RESPONSE_BODY_BYTES {
        match resp.chunk().await {
            Ok(Some(c)) => text.extend_from_slice(&c[..c.len().min(MAX_RESPONSE_BODY_BYTES - text.len())]),
            _ => break,
        }
    }
    drop(resp);
    let latency = started.elapsed();
    let verdict = match status {
        200..=299 => Verdict::Delivered,
        429 | 500..=599 => Verdict::Retry(retry_after),
        _ => Verdict::Refused,
    };
    let error = (verdict != Verdict::Delivered).then(|| {
        let body = String::from_utf8_lossy(&text);
        let body: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
        if (300..400).contains(&status) {
            format!("answered {status} (redirects are not followed)")
        } else {
            format!("answered {status}: {body}")
        }
    });
    Answer { status: Some(status), latency, error, verdict }
}

/// `Retry-After` in seconds (the HTTP-date form is not read: the backoff applies then).
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get(RETRY_AFTER)?.to_str().ok()?.trim();
    v.parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_a_ceiling() {
        let p = RetryPolicy::default();
        for rand in [0, 1, 12_345, u64::MAX] {
            let d = |n| p.backoff(n, rand).as_millis() as u64;
            assert!((500..=1_000).contains(&d(2)), "{}", d(2));
            assert!((1_000..=2_000).contains(&d(3)));
            assert!((32_000..=64_000).contains(&d(8)));
            assert!((150_000..=300_000).contains(&d(40)), "capped");
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
