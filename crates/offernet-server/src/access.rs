//! Observability at the HTTP edge: request ids, the request's tracing span, one access log line
//! and the per-route metrics of every request.
//!
//! Layers, outermost first ([`observe`]):
//! 1. [`drop_invalid_request_id`]: a caller's `x-request-id` is kept only when it is 1 to
//!    [`MAX_REQUEST_ID_LEN`] characters of `[A-Za-z0-9._:/+=@-]`; otherwise it is removed, so
//!    that one is generated (an id goes into every log line: no spaces, quotes or control
//!    characters, no megabyte ids).
//! 2. tower-http's `SetRequestIdLayer` with `MakeRequestUuid`: a UUID v4 when there is none.
//! 3. tower-http's `PropagateRequestIdLayer`: the id on every answer, errors included.
//! 4. [`access`]: a `request` span (`request_id`, `method`, then `route` and `account` once routed)
//!    around everything below, so every log line of the request carries its id; after the
//!    answer, one access line (target `offernet::access`, level info) and the metrics.
//!
//! The route template and the account come from `track` (a route layer, where axum's
//! `MatchedPath` is known) in a [`RouteInfo`] response extension. The account is the path's
//! `{a}`/`{m}`/`{s}` segment of `/v1/accounts/…` routes: never a token, never a header.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tracing::Instrument as _;

use crate::state::AppState;

/// The longest request id taken from a caller.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The longest account id written in a log line (a path segment is the caller's text).
const MAX_ACCOUNT_LOG_LEN: usize = 128;

/// The route label of a request that matched no route (404 fallback): paths are not labels.
pub const UNMATCHED: &str = "unmatched";

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What routing learned about a request, for the access line and the metrics.
#[derive(Clone, Debug)]
pub struct RouteInfo {
    /// axum's `MatchedPath`: the template (`/v1/accounts/{a}/skus/{sku}`), not the ids.
    pub route: String,
    /// The account in the path, if the route has one.
    pub account: Option<String>,
}

impl RouteInfo {
    /// The route `template` matched by a request for `path`.
    pub fn new(template: &str, path: &str) -> RouteInfo {
        let account = template
            .strip_prefix("/v1/accounts/{")
            .and_then(|_| path.split('/').nth(3))
            .map(|a| a.chars().take(MAX_ACCOUNT_LOG_LEN).collect());
        RouteInfo { route: template.to_string(), account }
    }

    /// Records the route and the account on the current request span.
    pub fn record_on_span(&self) {
        let span = tracing::Span::current();
        span.record("route", self.route.as_str());
        if let Some(a) = &self.account {
            span.record("account", a.as_str());
        }
    }
}

/// Request ids, the request span, access logs and per-route metrics around `router` (the
/// layers are described in the module's documentation).
pub fn observe(router: Router, state: Arc<AppState>) -> Router {
    router
        .layer(axum::middleware::from_fn_with_state(state, access))
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(drop_invalid_request_id))
}

/// Whether a caller's request id is kept (else one is generated).
pub fn valid_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_REQUEST_ID_LEN
        && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.:/+=@".contains(c))
}

async fn drop_invalid_request_id(mut req: Request, next: Next) -> Response {
    let ids = req.headers().get_all(&X_REQUEST_ID);
    let mut it = ids.iter();
    let keep = matches!((it.next(), it.next()), (Some(v), None) if valid_request_id(v));
    if !keep {
        req.headers_mut().remove(&X_REQUEST_ID);
    }
    next.run(req).await
}

/// The method as a metrics label: the standard ones, else `other` (a label per made-up
/// method would let any client add series).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

async fn access(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let id = req.extensions().get::<RequestId>().and_then(|r| r.header_value().to_str().ok()).unwrap_or("-");
    let method = method_label(req.method());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method,
        route = tracing::field::Empty,
        account = tracing::field::Empty
    );
    let started = Instant::now();
    let resp = next.run(req).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let info = resp.extensions().get::<RouteInfo>();
    let route = info.map_or(UNMATCHED, |i| i.route.as_str());
    let status = resp.status().as_u16();
    st.metrics.observe(method, route, status, seconds);
    let account = info.and_then(|i| i.account.as_deref()).unwrap_or("-");
    let _in_span = span.enter();
    // Streams (events) are logged when their head is sent: the latency is the time to it.
    tracing::info!(
        target: "offernet::access",
        method,
        route,
        status,
        latency_ms = (seconds * 1e6).round() / 1e3,
        account,
        "request"
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_bounded_and_plain() {
        assert!(valid_request_id(&HeaderValue::from_static("abc-123_x.y:z/+=@")));
        assert!(!valid_request_id(&HeaderValue::from_static("")));
        assert!(!valid_request_id(&HeaderValue::from_static("a b")));
        assert!(!valid_request_id(&HeaderValue::from_static("a\"b")));
        assert!(valid_request_id(&HeaderValue::from_str(&"a".repeat(128)).unwrap()));
        assert!(!valid_request_id(&HeaderValue::from_str(&"a".repeat(129)).unwrap()));
    }

    #[test]
    fn the_account_comes_from_account_routes_only() {
        let r = RouteInfo::new("/v1/accounts/{m}/offers/{sku}", "/v1/accounts/shop-1/offers/x");
        assert_eq!(r.account.as_deref(), Some("shop-1"));
        assert_eq!(RouteInfo::new("/v1/accounts", "/v1/accounts").account, None);
        assert_eq!(RouteInfo::new("/healthz", "/healthz").account, None);
    }
}
