//! Connection keys: the path form of the VTEX inbound auth (vtex-compat.md §0 and §6 Q3), for
//! VTEX admins that register a URL and send no headers. A key belongs to seller `s`'s
//! connection to marketplace `m` (its affiliation; `m` is the mirror account of a VTEX
//! marketplace): V's admin registers `https://HOST/vtex/{s}/k/{key}/api/fulfillment`, and a
//! request through it is `m`'s, for the routes of `s` only (`offernet_vtex::keyed`).
//!
//! The key is 32 random bytes (64 hex digits), shown once in the answer that makes it; the
//! secrets store keeps only its SHA-256 (`offernet_store::secrets`), never the journal. Made
//! again, it replaces the old key (a rotation); DELETE revokes it; ending the affiliation
//! revokes it too.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::credentials::unavailable;
use super::params;
use super::respond::{json, St};
use crate::error::{ApiError, ApiResult};
use crate::extract::ActsFor;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(make_key, revoke_key))
}

/// A new connection key, shown this once.
#[derive(Serialize, ToSchema)]
struct ConnectionKey {
    seller: String,
    marketplace: String,
    /// 64 lower-case hex digits (32 random bytes). Never shown again: offernet keeps only its
    /// SHA-256.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    key: String,
    /// What the marketplace's admin registers as the seller's fulfillment endpoint
    /// (`{--public-url}/vtex/{s}/k/{key}/api/fulfillment`); `null` without `--public-url`.
    #[schema(required = true)]
    fulfillment_endpoint: Option<String>,
    /// When it was made, in ms since the Unix epoch.
    created_ms: u64,
}

/// Make (or rotate) the connection key of a seller's connection to a VTEX marketplace
///
/// For a VTEX marketplace's admin that registers a URL and sends no `X-VTEX-API-AppKey`/
/// `AppToken` headers: a request through `/vtex/{s}/k/{key}/…` is the marketplace's, for the
/// seller's routes only. The key is shown once, in this answer; making it again replaces the
/// old one at once. 404 without the affiliation.
#[utoipa::path(post, path = "/v1/accounts/{s}/affiliations/{m}/connection-key", tag = "connections",
    params(params::S, params::M),
    responses((status = 201, description = "made; the key is never shown again", body = ConnectionKey)),
    extensions(("x-offernet-who" = json!("s"))))]
async fn make_key(st: St, Path((s, m)): Path<(String, String)>, _: ActsFor) -> ApiResult<Response> {
    st.writer.read(|e| e.affiliation(&s, &m))?;
    let key = crate::auth::random_secret().map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("no random bytes for the key: {e}"))
    })?;
    let created_ms = crate::outbound::now_ms();
    let hash = offernet_vtex::keyed::key_sha256(&key);
    st.secrets.lock().await.put_connection_key((&s, &m), &hash, created_ms).await.map_err(unavailable)?;
    let fulfillment_endpoint = st
        .config
        .public_url
        .as_deref()
        .map(|u| format!("{}/vtex/{s}/k/{key}/api/fulfillment", u.trim_end_matches('/')));
    let made = ConnectionKey { seller: s, marketplace: m, key, fulfillment_endpoint, created_ms };
    Ok(json(StatusCode::CREATED, made))
}

/// Revoke the connection key of a seller's connection to a VTEX marketplace
///
/// Requests through the old key answer 401 at once. 404 when there is none.
#[utoipa::path(delete, path = "/v1/accounts/{s}/affiliations/{m}/connection-key", tag = "connections",
    params(params::S, params::M),
    responses((status = 204, description = "revoked")),
    extensions(("x-offernet-who" = json!("s"))))]
async fn revoke_key(st: St, Path((s, m)): Path<(String, String)>, _: ActsFor) -> ApiResult<Response> {
    if !revoke(&st, &s, &m).await? {
        return Err(ApiError::not_found(format!("a connection key of `{s}`'s connection to `{m}`")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Revokes `s`'s key for `m`, if any (also when the affiliation ends); whether there was one.
pub(super) async fn revoke(st: &AppState, s: &str, m: &str) -> ApiResult<bool> {
    st.secrets.lock().await.revoke_connection_key(s, m).await.map_err(unavailable)
}
