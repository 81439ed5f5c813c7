//! What every handler shares: who is calling (auth), request bodies parsed strictly, the
//! write through the journal, paging.

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use offernet_core::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;

use crate::auth::{constant_time_eq, sha256_hex, Caller};
use crate::error::{ApiError, ApiResult};

use super::*;

// ---------------------------------------------------------------- authentication

/// The token of the one `Authorization: Bearer <token>` header. The scheme is
/// case-insensitive (RFC 7235); two such headers are refused, since proxies and servers may
/// each pick a different one.
pub(super) fn bearer(headers: &HeaderMap) -> ApiResult<&str> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (all.next(), all.next()) else {
        return Err(match headers.contains_key(header::AUTHORIZATION) {
            true => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_header", "send one Authorization header, not several")
            }
            false => ApiError::unauthorized(),
        });
    };
    let value = value.to_str().map_err(|_| ApiError::unauthorized())?.trim();
    // RFC 6750 b64token: one run of visible characters after the scheme and its spaces.
    match value.split_once(' ').map(|(scheme, token)| (scheme, token.trim())) {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer")
                && !token.is_empty()
                && token.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(token)
        }
        _ => Err(ApiError::unauthorized()),
    }
}

pub(super) fn caller(st: &AppState, headers: &HeaderMap) -> ApiResult<Caller> {
    let token = bearer(headers)?;
    let hash = sha256_hex(token);
    if constant_time_eq(hash.as_bytes(), st.admin_token_hash.as_bytes()) {
        return Ok(Caller::Operator);
    }
    // Account tokens are `<account>.<secret>`: find the account, compare the hashes.
    let account = token.split_once('.').map(|(a, _)| a).ok_or_else(ApiError::unauthorized)?;
    let stored = st.writer.read(|e| e.token_hash(account)).ok_or_else(ApiError::unauthorized)?;
    if constant_time_eq(hash.as_bytes(), stored.as_bytes()) {
        Ok(Caller::Account(account.to_string()))
    } else {
        Err(ApiError::unauthorized())
    }
}

/// The caller may act on `account`'s data. A non-operator gets 403 for any other account,
/// existing or not (no probing of which accounts exist). Whether the account exists is left
/// to the engine, which checks the whole body first (rule 39: 400 before 404); routes that
/// take a body use this.
pub(super) fn may_act(st: &AppState, headers: &HeaderMap, account: &str) -> ApiResult<Caller> {
    let c = caller(st, headers)?;
    match &c {
        Caller::Operator => {}
        Caller::Account(a) if a == account => {}
        Caller::Account(_) => return Err(ApiError::forbidden()),
    }
    Ok(c)
}

/// `may_act`, and the account exists (404 for the operator otherwise): for reads.
pub(super) fn authorize(st: &AppState, headers: &HeaderMap, account: &str) -> ApiResult<Caller> {
    let c = may_act(st, headers, account)?;
    if c == Caller::Operator && !st.writer.read(|e| e.has_account(account)) {
        return Err(ApiError::not_found(format!("account `{account}` not found")));
    }
    Ok(c)
}

// ---------------------------------------------------------------- bodies

/// Reads and parses a JSON body: syntax → `invalid_json`; `null` in a PATCH, empty or blank
/// strings, unknown fields and wrong types → `invalid_field` naming the field.
pub(super) async fn parse_body<T: DeserializeOwned>(st: &AppState, body: Body, patch: bool) -> ApiResult<T> {
    let limit = st.config.body_limit_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| body_error(e, limit))?;
    let value: Value = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        json!({})
    } else {
        serde_json::from_slice::<crate::strict_json::Strict>(&bytes)
            .map_err(|e| ApiError::invalid_json(format!("the body is not valid JSON: {e}")))?
            .0
    };
    if !value.is_object() {
        return Err(ApiError::invalid_json("the body must be a JSON object"));
    }
    check_values(&value, "", patch)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde names an unknown field only in its message.
        let field = match inner.split('`').nth(1) {
            Some(f) if inner.starts_with("unknown field") && path == "." => f.to_string(),
            _ => path,
        };
        ApiError::invalid_field(field.clone(), format!("invalid field `{field}`: {inner}"))
    })
}

/// Why a body could not be read: over the limit (413), or cut off or badly framed (400).
pub(super) fn body_error(e: axum::Error, limit: usize) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(x) = source {
        if x.is::<http_body_util::LengthLimitError>() {
            return ApiError::body_too_large(limit);
        }
        source = x.source();
    }
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", format!("the request body could not be read: {e}"))
}

pub(super) fn check_values(v: &Value, path: &str, patch: bool) -> ApiResult<()> {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if patch && path.is_empty() && x.is_null() {
                    return Err(ApiError::invalid_field(
                        p,
                        "null is not allowed in a PATCH: omit the field to keep it",
                    ));
                }
                check_values(x, &p, patch)?;
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_values(x, &format!("{path}[{i}]"), patch)?;
            }
        }
        Value::String(s) if s.trim().is_empty() => {
            return Err(ApiError::invalid_field(path, format!("invalid field `{path}`: must not be empty or blank")));
        }
        _ => {}
    }
    Ok(())
}

pub(super) async fn write(st: &AppState, cmd: Command) -> ApiResult<Vec<Event>> {
    Ok(st.writer.submit(cmd).await??)
}

pub(super) fn ok<T: serde::Serialize>(v: T) -> Response {
    (StatusCode::OK, Json(v)).into_response()
}

// ---------------------------------------------------------------- paging and filters

pub(super) fn status_param(q: &HashMap<String, String>) -> ApiResult<Option<SuggestionStatus>> {
    Ok(match q.get("status").map(String::as_str) {
        None => None,
        Some("pending") => Some(SuggestionStatus::Pending),
        Some("approved") => Some(SuggestionStatus::Approved),
        Some("denied") => Some(SuggestionStatus::Denied),
        Some(_) => return Err(ApiError::invalid_field("status", "status is pending, approved or denied")),
    })
}

/// `limit` (1..=max, default 100) and `offset` query parameters.
pub(super) fn page(st: &AppState, q: &HashMap<String, String>) -> ApiResult<(usize, usize)> {
    let num = |k: &str, d: usize| -> ApiResult<usize> {
        match q.get(k) {
            None => Ok(d),
            Some(v) => v.parse().map_err(|_| ApiError::invalid_field(k, format!("`{k}` is a non-negative integer"))),
        }
    };
    let limit = num("limit", crate::config::DEFAULT_PAGE_SIZE.min(st.config.max_page_size))?;
    if limit == 0 || limit > st.config.max_page_size {
        return Err(ApiError::invalid_field("limit", format!("`limit` is between 1 and {}", st.config.max_page_size)));
    }
    Ok((limit, num("offset", 0)?))
}

pub(super) fn paged<T: serde::Serialize>(key: &str, items: Vec<T>, limit: usize, offset: usize) -> Response {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = (offset + page.len() < total).then_some(offset + page.len());
    ok(json!({ key: page, "total": total, "next_offset": next }))
}
