//! The path form of the inbound auth (vtex-compat.md §0, §6 Q3): `/vtex/{s}/k/{key}/…` for VTEX
//! admins that register a URL and send no headers. A connection key belongs to seller `s`'s
//! connection to a marketplace V (its affiliation to V's mirror account); a request through
//! it is V's, exactly as if V had sent its AppKey and AppToken, and only for the routes of
//! account `s`.
//!
//! Every `/vtex` route is reachable in both forms: [`router`] serves one catch-all route that
//! checks the key, rewrites the path to `/vtex/{s}/…` (the account stays; only `/k/{key}` goes)
//! and hands the request to the same routes, with the connection in its extensions
//! ([`auth::Keyed`]), where a client cannot put anything.
//!
//! The key is 32 random bytes as 64 lower-case hex digits; the secrets store keeps only its
//! SHA-256, compared in constant time (`offernet_store::secrets`). It is never journaled and
//! never logged: no log line prints a request's path; the access line and the metrics name the
//! route template, [`KEYED_ROUTE`], whose `{key}` is a placeholder.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use sha2::{Digest, Sha256};
use tower::ServiceExt as _;

use crate::auth::Keyed;
use crate::error::VtexError;
use crate::{hex, VtexState};

/// The route of the path form: any method, any VTEX path after the key.
pub const KEYED_ROUTE: &str = "/vtex/{s}/k/{key}/{*rest}";

/// Hex digits of a connection key (32 bytes).
pub const KEY_HEX_LEN: usize = 64;

/// The path form in front of the VTEX routes `routes` (the same router as the header form).
pub fn router<S: Clone + Send + Sync + 'static>(st: Arc<VtexState>, routes: Router) -> Router<S> {
    Router::new().route(KEYED_ROUTE, any(forward)).with_state((st, routes))
}

/// `/vtex/{s}/k/{key}/{rest}` → (`s`, `key`, `/vtex/{s}/{rest}`), from the raw (undecoded) path.
fn split(path: &str) -> Option<(&str, &str, String)> {
    let rest = path.strip_prefix("/vtex/")?;
    let (s, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("k/")?;
    let (key, rest) = rest.split_once('/')?;
    Some((s, key, format!("/vtex/{s}/{rest}")))
}

/// The SHA-256 of a connection key, as the secrets store keeps it.
pub fn key_sha256(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// A key of the right shape (anything else is refused without a look at the store).
fn well_formed(key: &str) -> bool {
    key.len() == KEY_HEX_LEN && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn wrong_key() -> Response {
    VtexError::unauthorized("the connection key in the path is not valid: wrong, revoked or for another account")
        .into_response()
}

async fn forward(State((st, routes)): State<(Arc<VtexState>, Router)>, req: Request) -> Response {
    let Some((s, key, inner)) = split(req.uri().path()) else { return wrong_key() };
    if !well_formed(key) {
        return wrong_key();
    }
    let seller = s.to_string();
    let found = st.secrets.lock().await.connection_of_key(&seller, &key_sha256(key)).await;
    let marketplace = match found {
        Ok(Some(m)) => m,
        Ok(None) => return wrong_key(),
        Err(e) => {
            tracing::error!(error = %e, "the secrets store (connection keys)");
            return VtexError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the secrets store could not be reached; retry shortly",
            )
            .into_response();
        }
    };
    let inner = match req.uri().query() {
        Some(q) => format!("{inner}?{q}"),
        None => inner,
    };
    let Ok(uri) = inner.parse::<Uri>() else { return wrong_key() };
    // A new request, not this one with another path: this one's extensions hold the catch-all
    // route's path parameters, which the inner route's would be added to.
    let (parts, body) = req.into_parts();
    let mut inner = Request::new(body);
    *inner.method_mut() = parts.method;
    *inner.uri_mut() = uri;
    *inner.version_mut() = parts.version;
    *inner.headers_mut() = parts.headers;
    inner.extensions_mut().insert(Keyed { seller, marketplace });
    match routes.oneshot(inner).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_leaves_the_path_and_is_redacted() {
        let (s, key, inner) = split("/vtex/shop/k/abc/api/fulfillment/pvt/orders").unwrap();
        assert_eq!((s, key, inner.as_str()), ("shop", "abc", "/vtex/shop/api/fulfillment/pvt/orders"));
        assert!(split("/vtex/shop/api/fulfillment").is_none());
        assert!(well_formed(&"0a".repeat(32)));
        assert!(!well_formed(&"0A".repeat(32)) && !well_formed("abc"));
        assert_eq!(key_sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
