//! The fakes' server machinery: an axum router served on 127.0.0.1:0 by its own thread and
//! single-threaded runtime (so blocking tests and async tests can both use a fake), and the
//! pieces every route shares (request parsing, credentials, VTEX's error body, dates).

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::record::Fault;

/// A running server; dropping it stops the server and cancels requests in flight (hangs too).
pub(crate) struct ServerThread {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    pub(crate) fn start(name: &str, router: Router) -> Result<ServerThread> {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| Error::new(format!("{name}: bind: {e}")))?;
        listener.set_nonblocking(true).map_err(|e| Error::new(format!("{name}: {e}")))?;
        let addr = listener.local_addr().map_err(|e| Error::new(format!("{name}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::new(format!("{name}: runtime: {e}")))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                    tokio::select! {
                        _ = axum::serve(listener, router) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here cancels every connection task, hung ones included.
            })
            .map_err(|e| Error::new(format!("{name}: thread: {e}")))?;
        Ok(ServerThread { addr, stop: Some(stop), thread: Some(thread) })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The credentials a fake expects (`X-VTEX-API-AppKey` / `X-VTEX-API-AppToken`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub app_key: String,
    pub app_token: String,
}

/// Checks credentials (when expected) and, for a non-empty body, `Content-Type: application/json`.
pub(crate) fn header_violations(headers: &HeaderMap, expected: &[Credentials], body: &[u8]) -> (bool, Vec<String>) {
    let mut violations = Vec::new();
    let key = header_str(headers, "x-vtex-api-appkey");
    let token = header_str(headers, "x-vtex-api-apptoken");
    let authorised = expected.is_empty()
        || expected.iter().any(|c| key == Some(c.app_key.as_str()) && token == Some(c.app_token.as_str()));
    if !authorised {
        violations.push(format!(
            "credentials: X-VTEX-API-AppKey {key:?} with {} token is not expected",
            if token.is_some() { "its" } else { "no" }
        ));
    }
    let json_type = header_str(headers, "content-type").is_some_and(|t| t.starts_with("application/json"));
    if !body.is_empty() && !json_type {
        violations.push(format!("content-type {:?} is not application/json", header_str(headers, "content-type")));
    }
    (authorised, violations)
}

pub(crate) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The body as JSON: `Ok(None)` when empty, `Err` with a violation when it is not JSON.
pub(crate) fn parse_body(body: &Bytes) -> std::result::Result<Option<Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some).map_err(|e| format!("body is not JSON: {e}"))
}

/// The path's segments after `prefix`, or `None` when it does not start with it.
pub(crate) fn segments<'p>(path: &'p str, prefix: &str) -> Option<Vec<&'p str>> {
    let rest = path.strip_prefix(prefix)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    Some(rest.split('/').filter(|s| !s.is_empty()).collect())
}

pub(crate) fn json_reply(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body.to_string()).into_response()
}

pub(crate) fn empty_reply(status: StatusCode) -> Response {
    status.into_response()
}

/// VTEX's error body (`{"error": {"code", "message", "exception": null}}`).
pub(crate) fn vtex_error(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut reply = json_reply(status, &json!({"error": {"code": code, "message": message, "exception": null}}));
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        reply.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    reply
}

/// Applies a fault: `Some(reply)` replaces the answer; a delay returns `None` after waiting.
pub(crate) async fn apply_fault(fault: Option<Fault>) -> Option<Response> {
    match fault? {
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            None
        }
        Fault::Status(status) => Some(vtex_error(status, "1", "injected fault")),
        Fault::Hang => std::future::pending().await,
        Fault::EmptyBody => Some(empty_reply(StatusCode::OK)),
        Fault::Late(_) => None,
    }
}

/// Now as `YYYY-MM-DDThh:mm:ss.sssZ` (UTC).
pub(crate) fn now_iso() -> String {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0) as i64;
    iso_from_ms(ms)
}

/// Milliseconds since the epoch as `YYYY-MM-DDThh:mm:ss.sssZ` (civil-from-days, proleptic Gregorian).
pub(crate) fn iso_from_ms(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_iso() {
        assert_eq!(iso_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_from_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso_from_ms(1_796_083_199_999), "2026-11-30T23:59:59.999Z");
    }

    #[test]
    fn segments_follow_the_prefix_only() {
        assert_eq!(segments("/api/fulfillment/pvt/orders", "/api/fulfillment"), Some(vec!["pvt", "orders"]));
        assert_eq!(segments("/api/fulfillmentx/pvt", "/api/fulfillment"), None);
    }
}
