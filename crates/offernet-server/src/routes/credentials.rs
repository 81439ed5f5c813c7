//! The app key and token offernet sends to an external VTEX party (vtex-compat.md §3.1):
//! written by the operator, kept outside the journal (`offernet_store::secrets`: `secrets.db`
//! beside the journal, or the PostgreSQL schema `offernet_secrets`), never answered: reads show
//! the key and that a token is set. An external seller has one pair; an external marketplace one
//! per offernet seller (each holds its own app key there).

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use offernet_store::{Credentials, StoredKey};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::respond::{json, required, St};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Operator, Reads, StrictJson};
use crate::state::AppState;

/// Longest app key: VTEX's are `vtexappkey-{account}-{6 letters}`, far shorter.
pub const MAX_APP_KEY_LEN: usize = 256;
/// Longest app token: VTEX's are 100 characters; room for other issuers, not for a document.
pub const MAX_APP_TOKEN_LEN: usize = 2_048;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(put_credentials, get_credentials)).routes(routes!(put_seller_credentials))
}

/// The offernet seller in a path: its own pair at an external marketplace.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // describes the path for the document; handlers take the path as a tuple
struct SellerParam {
    /// An offernet seller account.
    #[param(pattern = "^[a-z0-9-]{1,50}$")]
    s: String,
}

/// What the external party issued for offernet: sent as `X-VTEX-API-AppKey` and
/// `X-VTEX-API-AppToken` on every call to it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CredentialsBody {
    /// Printable ASCII without spaces, at most 256 characters.
    #[schema(required = true, nullable = false, max_length = 256, pattern = "^[!-~]+$")]
    app_key: Option<String>,
    /// Printable ASCII without spaces, at most 2,048 characters; never shown again.
    #[schema(required = true, nullable = false, max_length = 2048, pattern = "^[!-~]+$")]
    app_token: Option<String>,
}

/// A stored pair as it is shown: never its token.
#[derive(Serialize, ToSchema)]
struct CredentialKey {
    /// The offernet seller whose pair this is at an external marketplace; `null` for an
    /// external seller's own pair.
    #[schema(required = true)]
    seller: Option<String>,
    app_key: String,
    /// Always true: a pair is stored whole.
    app_token_set: bool,
    /// When it was written, in ms since the Unix epoch.
    updated_ms: u64,
}

/// An account's stored pairs, by seller (its own first).
#[derive(Serialize, ToSchema)]
struct CredentialKeys {
    credentials: Vec<CredentialKey>,
}

fn shown(k: StoredKey) -> CredentialKey {
    CredentialKey { seller: k.seller, app_key: k.app_key, app_token_set: true, updated_ms: k.updated_ms }
}

/// A key or token: present, printable ASCII without spaces, at most `max` characters.
fn secret_text(field: &'static str, v: Option<String>, max: usize) -> ApiResult<String> {
    let v = required(field, v)?;
    if v.is_empty() || v.len() > max || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_field(field, format!("printable ASCII without spaces, 1 to {max} characters")));
    }
    Ok(v)
}

/// 503 when the secrets store (credentials, connection keys) cannot be reached.
pub(super) fn unavailable(e: offernet_store::JournalError) -> ApiError {
    tracing::error!(error = %e, "the secrets store");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the secrets store could not be reached; retry shortly",
    )
}

/// Which pair `a` may hold: its own (`seller` `None`) when it is an external seller, one per
/// offernet seller when it is an external marketplace (409 for the other form; 404 without an
/// integration, or for an unknown seller).
fn check_form(st: &AppState, a: &str, seller: Option<&str>) -> ApiResult<()> {
    let role = st.writer.read(|e| e.integration(a))?.role;
    match (&*role, seller) {
        ("seller", None) | ("marketplace", Some(_)) => {}
        ("seller", Some(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("account `{a}` is an external seller: it has one pair, PUT …/integration/credentials"),
            ))
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!(
                    "account `{a}` is an external marketplace: each offernet seller has its own pair there, PUT \
                 …/integration/credentials/{{s}}"
                ),
            ))
        }
    }
    if let Some(s) = seller {
        if !st.writer.read(|e| e.has_account(s)) {
            let message = format!("account `{s}` not found");
            return Err(ApiError::missing(offernet_core::Missing::Account, s, message).at("s"));
        }
    }
    Ok(())
}

async fn store(st: &AppState, a: &str, seller: Option<&str>, body: CredentialsBody) -> ApiResult<Response> {
    let app_key = secret_text("app_key", body.app_key, MAX_APP_KEY_LEN)?;
    let app_token = secret_text("app_token", body.app_token, MAX_APP_TOKEN_LEN)?;
    check_form(st, a, seller)?;
    let at = crate::outbound::now_ms();
    let pair = Credentials { app_key: app_key.clone(), app_token };
    st.secrets.lock().await.put(a, seller, &pair, at).await.map_err(unavailable)?;
    let key = CredentialKey { seller: seller.map(str::to_string), app_key, app_token_set: true, updated_ms: at };
    Ok(json(StatusCode::OK, key))
}

/// Set an external seller's app key and token
///
/// Operator only. Kept outside the journal, never shown again (the answer and reads show the key
/// and `app_token_set`). 409 for an external marketplace, whose pairs are per seller.
#[utoipa::path(put, path = "/v1/accounts/{a}/integration/credentials", tag = "integrations", params(params::A),
    request_body = CredentialsBody,
    responses((status = 200, description = "stored", body = CredentialKey)),
    extensions(("x-offernet-who" = json!("operator"))))]
async fn put_credentials(
    st: St,
    Path(a): Path<String>,
    _: Operator,
    StrictJson(body): StrictJson<CredentialsBody>,
) -> ApiResult<Response> {
    store(&st, &a, None, body).await
}

/// Set an offernet seller's app key and token at an external marketplace
///
/// Operator only. Each offernet seller holds its own app key at the marketplace. 409 for an
/// external seller, which has one pair.
#[utoipa::path(put, path = "/v1/accounts/{a}/integration/credentials/{s}", tag = "integrations",
    params(params::A, SellerParam), request_body = CredentialsBody,
    responses((status = 200, description = "stored", body = CredentialKey)),
    extensions(("x-offernet-who" = json!("operator"))))]
async fn put_seller_credentials(
    st: St,
    Path((a, s)): Path<(String, String)>,
    _: Operator,
    StrictJson(body): StrictJson<CredentialsBody>,
) -> ApiResult<Response> {
    store(&st, &a, Some(&s), body).await
}

/// The stored app keys of an integration
///
/// Never a token: each pair shows its key and `app_token_set`. 404 when the account has no
/// integration.
#[utoipa::path(get, path = "/v1/accounts/{a}/integration/credentials", tag = "integrations", params(params::A),
    responses((status = 200, description = "the keys", body = CredentialKeys)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_credentials(st: St, Path(a): Path<String>, _: Reads) -> ApiResult<Response> {
    st.writer.read(|e| e.integration(&a))?;
    let keys = st.secrets.lock().await.keys(&a).await.map_err(unavailable)?;
    Ok(json(StatusCode::OK, CredentialKeys { credentials: keys.into_iter().map(shown).collect() }))
}

/// Removes `a`'s pairs before its integration ends (`DELETE …/integration`): a pair without an
/// integration is never left behind.
pub(super) async fn forget(st: &AppState, a: &str) -> ApiResult<()> {
    st.secrets.lock().await.forget(a).await.map_err(unavailable)
}
