//! Who is calling and what they sent, as axum extractors: a handler's signature says who may
//! call it ([`Operator`], [`ActsFor`], [`Reads`]) and what its body is ([`StrictJson`],
//! [`PatchJson`]). Every refusal is an [`ApiError`] in the JSON error shape.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{constant_time_eq, sha256_hex, token_key, Caller};
use crate::error::{ApiError, ApiResult, Unauthorized};
use crate::state::AppState;

// ---------------------------------------------------------------- who is calling

/// The token of the one `Authorization: Bearer <token>` header. The scheme is
/// case-insensitive (RFC 7235); two such headers are refused, since proxies and servers may
/// each pick a different one.
fn bearer(headers: &HeaderMap) -> ApiResult<&str> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (all.next(), all.next()) else {
        return Err(match headers.contains_key(header::AUTHORIZATION) {
            true => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_header", "send one Authorization header, not several")
            }
            false => ApiError::unauthorized(Unauthorized::Missing),
        });
    };
    let malformed = || ApiError::unauthorized(Unauthorized::Malformed);
    let value = value.to_str().map_err(|_| malformed())?.trim();
    // RFC 6750 b64token: one run of visible characters after the scheme and its spaces.
    match value.split_once(' ').map(|(scheme, token)| (scheme, token.trim())) {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer")
                && !token.is_empty()
                && token.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(token)
        }
        _ => Err(malformed()),
    }
}

/// The authenticated caller: the operator, or an account whose token matches its stored hash.
fn caller(st: &AppState, headers: &HeaderMap) -> ApiResult<Caller> {
    let token = bearer(headers)?;
    token_caller(&st.admin_token_hash, &st.writer, token)
        .ok_or_else(|| ApiError::unauthorized(Unauthorized::WrongToken))
}

/// Whose token `token` is: the operator's (`admin_token_hash`), an account's, or nobody's. The
/// one token check of every surface (`/v1`, and `/vtex`'s AppToken through
/// `offernet_vtex::VtexState::tokens`).
pub fn token_caller(admin_token_hash: &str, writer: &offernet_store::WriterHandle, token: &str) -> Option<Caller> {
    let hash = sha256_hex(token);
    if constant_time_eq(hash.as_bytes(), admin_token_hash.as_bytes()) {
        return Some(Caller::Operator);
    }
    // Account tokens name their account and id (`auth::token_key`): one lookup, one
    // comparison. A revoked token has no hash any more, from the moment its command is applied.
    // A wrong token gets one answer, whatever was wrong with it: no probing of which accounts
    // or token ids exist.
    let (account, id) = token_key(token)?;
    let stored = writer.read(|e| e.token_hash(account, id))?;
    constant_time_eq(hash.as_bytes(), stored.as_bytes()).then(|| Caller::Account(account.to_string()))
}

/// The operator, and only the operator, may call this route (`POST /v1/accounts`).
pub struct Operator;

impl FromRequestParts<Arc<AppState>> for Operator {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> ApiResult<Self> {
        match caller(st, &parts.headers)? {
            Caller::Operator => Ok(Operator),
            Caller::Account(_) => Err(ApiError::forbidden()),
        }
    }
}

/// The account a `/v1/accounts/{account}/…` route acts for: its first path parameter,
/// whatever the route names it (`a`, `s`, `m`).
async fn path_account(parts: &mut Parts, st: &Arc<AppState>) -> ApiResult<String> {
    let params = RawPathParams::from_request_parts(parts, st)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.to_string()))?;
    // Every route that uses these extractors has the account first in its path.
    let first = params.iter().next().map(|(_, v)| v.to_string());
    first.ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no account in the path"))
}

/// The caller may act for the path's account: its own token or the operator's. Any other
/// account gets 403, whether or not the path's account exists (no probing of which accounts
/// exist). Whether it exists is left to the engine, which checks the whole body first
/// (rule 39: 400 before 404): routes that take a body use this.
pub struct ActsFor {
    pub caller: Caller,
}

impl FromRequestParts<Arc<AppState>> for ActsFor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> ApiResult<Self> {
        acts_for(parts, st).await.map(|(_, caller)| ActsFor { caller })
    }
}

/// The path's account and the caller, who may act for it.
async fn acts_for(parts: &mut Parts, st: &Arc<AppState>) -> ApiResult<(String, Caller)> {
    let account = path_account(parts, st).await?;
    let caller = caller(st, &parts.headers)?;
    match &caller {
        Caller::Account(a) if *a != account => Err(ApiError::forbidden()),
        _ => Ok((account, caller)),
    }
}

/// [`ActsFor`], and the path's account exists (404 for the operator otherwise): for reads.
pub struct Reads;

impl FromRequestParts<Arc<AppState>> for Reads {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &Arc<AppState>) -> ApiResult<Self> {
        let (account, caller) = acts_for(parts, st).await?;
        if caller == Caller::Operator && !st.writer.read(|e| e.has_account(&account)) {
            let message = format!("account `{account}` not found");
            return Err(ApiError::missing(offernet_core::Missing::Account, account, message));
        }
        Ok(Reads)
    }
}

// ---------------------------------------------------------------- bodies

/// May a top-level field be `null`? In a PATCH it may not: omitting a field keeps it, so a
/// `null` would be ambiguous.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nulls {
    Allowed,
    Refused,
}

/// May the body be missing? Only where the document gives the route no request body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Absent {
    /// A route whose document names a required body: no body is 400 `invalid_json`.
    Refused,
    /// A route whose document names no body: an empty body reads as `{}`.
    ReadsAsEmpty,
}

/// A JSON body, required, read whole (within `body_limit_bytes`, else 413) and parsed
/// strictly: no body, syntax, a key given twice or anything but an object → 400
/// `invalid_json`; empty or blank strings, unknown fields and wrong types (an array where an
/// object is expected too) → 400 `invalid_field` naming the field. A whole number written
/// `79.0` is read as an integer (`strict_json::Body`).
pub struct StrictJson<T>(pub T);

/// [`StrictJson`] for a PATCH: also refuses `null` for a top-level field.
pub struct PatchJson<T>(pub T);

/// [`StrictJson`] for a route the document gives no body (actions like cancel): no body at
/// all reads as `{}`.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for StrictJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, st: &Arc<AppState>) -> ApiResult<Self> {
        parse(req, st, Nulls::Allowed, Absent::Refused).await.map(StrictJson)
    }
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for PatchJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, st: &Arc<AppState>) -> ApiResult<Self> {
        parse(req, st, Nulls::Refused, Absent::Refused).await.map(PatchJson)
    }
}

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for OptionalJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, st: &Arc<AppState>) -> ApiResult<Self> {
        parse(req, st, Nulls::Allowed, Absent::ReadsAsEmpty).await.map(OptionalJson)
    }
}

async fn parse<T: DeserializeOwned>(req: Request, st: &AppState, nulls: Nulls, absent: Absent) -> ApiResult<T> {
    let limit = st.config.body_limit_bytes;
    let bytes = axum::body::to_bytes(req.into_body(), limit).await.map_err(|e| body_error(e, limit))?;
    let value: Value = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        if absent == Absent::Refused {
            return Err(ApiError::invalid_json("a JSON object body is required (send {} for none of the fields)"));
        }
        Value::Object(Default::default())
    } else {
        serde_json::from_slice::<crate::strict_json::Strict>(&bytes)
            .map_err(|e| ApiError::invalid_json(format!("the body is not valid JSON: {e}")))?
            .0
    };
    if !value.is_object() {
        return Err(ApiError::invalid_json("the body must be a JSON object"));
    }
    check_values(&value, "", nulls)?;
    typed(value)
}

/// `value` as `T`: unknown fields and wrong types → 400 `invalid_field` naming the field (also
/// each line of an import, `routes/import.rs`).
pub(crate) fn typed<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(crate::strict_json::Body(value)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde names an unknown field only in its message.
        let field = match inner.split('`').nth(1) {
            Some(f) if inner.starts_with("unknown field") && path == "." => f.to_string(),
            _ => path,
        };
        let reason = crate::strict_json::plain_reason(&inner);
        ApiError::invalid_field(field.clone(), format!("invalid field `{field}`: {reason}"))
    })
}

/// Why a body could not be read: over the limit (413), or cut off or badly framed (400).
pub(crate) fn body_error(e: axum::Error, limit: usize) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(x) = source {
        if x.is::<http_body_util::LengthLimitError>() {
            return ApiError::body_too_large(limit);
        }
        source = x.source();
    }
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", format!("the request body could not be read: {e}"))
}

/// No blank string anywhere; no top-level `null` where [`Nulls::Refused`].
pub(crate) fn check_values(v: &Value, path: &str, nulls: Nulls) -> ApiResult<()> {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if nulls == Nulls::Refused && path.is_empty() && x.is_null() {
                    return Err(ApiError::invalid_field(
                        p,
                        "null is not allowed in a PATCH: omit the field to keep it",
                    ));
                }
                check_values(x, &p, nulls)?;
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_values(x, &format!("{path}[{i}]"), nulls)?;
            }
        }
        Value::String(s) if s.trim().is_empty() => {
            return Err(ApiError::invalid_field(path, format!("invalid field `{path}`: must not be empty or blank")));
        }
        _ => {}
    }
    Ok(())
}
