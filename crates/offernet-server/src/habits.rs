//! What HTTP clients expect of an API beyond its routes: CORS for the configured origins,
//! `ETag` and `If-None-Match` on reads that clients poll, and a `field` on every 404 naming
//! the path parameter (or body field) that named what was not found.

use std::time::Duration;

use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use offernet_core::Missing;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tower::layer::util::Identity;
use tower::util::Either;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;

// ---------------------------------------------------------------- CORS

/// How long a browser may keep a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The CORS layer for `origins` (`cors_origins`); none when no origin is configured, so that
/// a server without the setting sends no CORS header at all. `*` allows any origin (no
/// credentials are involved: tokens travel in the `Authorization` header).
pub fn cors(origins: &[String]) -> Either<CorsLayer, Identity> {
    tower::util::option_layer(cors_layer(origins))
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::PUT, Method::PATCH, Method::POST, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("last-event-id"),
                header::IF_NONE_MATCH,
            ])
            .expose_headers([header::ETAG, header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}

/// Each configured origin is `*` or `scheme://host[:port]`, as a browser sends it in `Origin`
/// (no path, no trailing slash): anything else would never match.
pub fn check_origins(origins: &[String]) -> Result<(), String> {
    for o in origins {
        let ok = o == "*"
            || o.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https")
                    && !rest.is_empty()
                    && !rest.contains('/')
                    && rest.bytes().all(|b| b.is_ascii_graphic())
            });
        if !ok {
            return Err(format!(
                "cors_origins: `{o}` is not an origin: write `*` or scheme://host[:port], e.g. https://shop.example"
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- ETag

/// `v` as a 200 JSON answer with a strong `ETag` (a hash of the body), or 304 with the same
/// `ETag` and no body when `If-None-Match` names it (or is `*`).
pub fn json_with_etag<T: Serialize>(headers: &HeaderMap, v: &T) -> Response {
    let body = match serde_json::to_vec(v) {
        Ok(b) => b,
        Err(e) => return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()).into_response(),
    };
    let tag = etag(&body);
    let value = HeaderValue::from_str(&tag).expect("hex in quotes is a header value");
    if matches(headers, &tag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, value)]).into_response();
    }
    (
        StatusCode::OK,
        [(header::ETAG, value), (header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

/// A strong entity tag: the first 128 bits of the body's SHA-256, in quotes.
fn etag(body: &[u8]) -> String {
    format!("\"{}\"", crate::auth::hex(&Sha256::digest(body)[..16]))
}

/// Does an `If-None-Match` header name `tag`? It is `*` or a comma-separated list of tags,
/// compared weakly (RFC 9110 13.1.2: `W/"x"` matches `"x"`), over every such header.
fn matches(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag))
}

// ---------------------------------------------------------------- 404 fields

/// For every route: a 404 not yet named by a field gets, as its field, the route's path
/// parameter that gave the id of what was not found (`sku`, `w`, `m`, …).
pub async fn name_not_found(req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let raw = RawPathParams::from_request_parts(&mut parts, &()).await.ok();
    let resp = next.run(Request::from_parts(parts, body)).await;
    if resp.status() != StatusCode::NOT_FOUND {
        return resp;
    }
    let Some(e) = resp.extensions().get::<ApiError>() else { return resp };
    let Some((missing, id)) = e.missing.as_deref() else { return resp };
    // Only a 404 naming what it missed pays for the parameters as strings.
    let params: Vec<(String, String)> =
        raw.map(|p| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap_or_default();
    match field_for(*missing, id, &params) {
        Some(f) => e.clone().at(f).into_response(),
        None => resp,
    }
}

/// Account ids in paths: `a` (any account), `s` (a seller), `m` (a marketplace).
const ACCOUNT_PARAMS: [&str; 3] = ["a", "s", "m"];

/// The path parameter that names `missing` with `id`, given the route's parameters in path
/// order; `trade_policy` (the query parameter) for a trade policy's fixed price.
pub fn field_for(missing: Missing, id: &str, params: &[(String, String)]) -> Option<String> {
    let named = |names: &[&str], skip_first: bool| {
        params
            .iter()
            .skip(usize::from(skip_first))
            .find(|(k, v)| names.contains(&k.as_str()) && v == id)
            .map(|(k, _)| k.clone())
    };
    match missing {
        Missing::Account => named(&ACCOUNT_PARAMS, false),
        // The other account of the pair, named after the half's owner.
        Missing::Connection => named(&ACCOUNT_PARAMS, true),
        Missing::Sku => named(&["sku", "seller_sku"], false),
        Missing::Suggestion => named(&["seller_sku"], false),
        Missing::TradePolicy => named(&["tp"], false),
        Missing::Warehouse => named(&["w"], false),
        Missing::Order => named(&["id"], false),
        Missing::Price => Some("trade_policy".into()),
        Missing::Offer => None,
        Missing::Token | Missing::Webhook => named(&["id"], false),
        // An account's integration, named by the account of the path.
        Missing::Integration => named(&ACCOUNT_PARAMS, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(xs: &[(&str, &str)]) -> Vec<(String, String)> {
        xs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn not_found_names_the_parameter_by_kind_and_id() {
        let stock = p(&[("a", "x"), ("w", "x"), ("sku", "x")]);
        assert_eq!(field_for(Missing::Account, "x", &stock).as_deref(), Some("a"));
        assert_eq!(field_for(Missing::Warehouse, "x", &stock).as_deref(), Some("w"));
        assert_eq!(field_for(Missing::Sku, "x", &stock).as_deref(), Some("sku"));
        let aff = p(&[("s", "x"), ("m", "y")]);
        assert_eq!(field_for(Missing::Account, "y", &aff).as_deref(), Some("m"));
        assert_eq!(field_for(Missing::Connection, "y", &aff).as_deref(), Some("m"));
        assert_eq!(field_for(Missing::Sku, "z", &stock), None, "from the body, not the path");
    }

    #[test]
    fn if_none_match_lists_star_and_weak_tags() {
        let tag = etag(b"{}");
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(matches(&h(&tag), &tag));
        assert!(matches(&h("*"), &tag));
        assert!(matches(&h(&format!("\"other\", W/{tag}")), &tag));
        assert!(!matches(&h("\"other\""), &tag));
        assert!(!matches(&HeaderMap::new(), &tag));
    }

    #[test]
    fn origins_are_checked() {
        assert!(check_origins(&["https://shop.example".into(), "http://127.0.0.1:3000".into(), "*".into()]).is_ok());
        for bad in ["shop.example", "https://shop.example/", "ftp://x", "https://"] {
            assert!(check_origins(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
