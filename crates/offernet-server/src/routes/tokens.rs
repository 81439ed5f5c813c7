//! An account's named API tokens: create (the token shown once), list, read, revoke. By the
//! account itself or the operator. Rotation without downtime: create a new token, move the
//! clients to it, revoke the old one; both work in between. The secret is never stored,
//! logged or shown again: the command carries its SHA-256 only.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use offernet_core::{Command, TokenView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::no_randomness;
use super::params;
use super::query;
use super::respond::{json, ok, required, write, write_no_content, St};
use crate::auth::{new_account_token, new_token_id};
use crate::error::ApiResult;
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(create_token, list_tokens)).routes(routes!(get_token, delete_token))
}

/// The token id in a path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // describes the path for the document; handlers take the path as a tuple
struct TokenId {
    /// A token id of the account: `initial` (made with the account) or one the server chose.
    #[param(pattern = "^[A-Za-z0-9_-]{1,32}$")]
    id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    /// A label for people (which client holds it): one line of text, at most 100 characters.
    #[schema(required = true, nullable = false, max_length = 100)]
    name: Option<String>,
}

/// The new token: `token` (`<account>.<id>.<secret>`) is shown only now; send it as
/// `Authorization: Bearer <token>`.
#[derive(Serialize, ToSchema)]
struct TokenCreated {
    id: Arc<str>,
    name: Arc<str>,
    token: String,
    /// When it was created, in ms since the Unix epoch.
    created_ms: u64,
}

/// One page of an account's tokens, sorted by id; never a secret.
#[derive(Serialize, ToSchema)]
struct TokenPage {
    tokens: Vec<TokenView>,
    /// Tokens in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// Create a token; the secret is returned once
///
/// At most 100 tokens per account (409 `conflict` beyond: revoke one first). The server chooses
/// the id. To rotate without downtime: create a token, move the clients to it, then revoke the
/// old one; both are accepted in between.
#[utoipa::path(post, path = "/v1/accounts/{a}/tokens", tag = "accounts", params(params::A),
    request_body = NewToken, responses((status = 201, description = "created", body = TokenCreated)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn create_token(
    st: St,
    Path(a): Path<String>,
    _: ActsFor,
    StrictJson(b): StrictJson<NewToken>,
) -> ApiResult<Response> {
    let name = required("name", b.name)?;
    let id = new_token_id().map_err(no_randomness)?;
    let (token, token_hash) = new_account_token(&a, &id).map_err(no_randomness)?;
    write(&st, Command::CreateToken { account: a.clone(), id: id.clone(), name, token_hash }).await?;
    let TokenView { id, name, created_ms } = st.writer.read(|e| e.token(&a, &id))?;
    Ok(json(StatusCode::CREATED, TokenCreated { id, name, token, created_ms }))
}

/// The account's tokens, without secrets
#[utoipa::path(get, path = "/v1/accounts/{a}/tokens", tag = "accounts", params(params::A, params::Paging),
    responses((status = 200, description = "one page", body = TokenPage)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn list_tokens(st: St, Path(a): Path<String>, _: Reads, Query(q): Query<query::Query>) -> ApiResult<Response> {
    let (tokens, total, next_offset) = query::listed(&st, &q, |e, w| e.list_tokens(&a, w))?;
    Ok(json(StatusCode::OK, TokenPage { tokens, total, next_offset }))
}

/// One token, without its secret
#[utoipa::path(get, path = "/v1/accounts/{a}/tokens/{id}", tag = "accounts", params(params::A, TokenId),
    responses((status = 200, description = "the token", body = TokenView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_token(st: St, Path((a, id)): Path<(String, String)>, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.token(&a, &id))?))
}

/// Revoke a token
///
/// Requests with it are refused (401) as soon as this answers. An account may revoke the
/// token it calls with.
#[utoipa::path(delete, path = "/v1/accounts/{a}/tokens/{id}", tag = "accounts", params(params::A, TokenId),
    responses((status = 204, description = "revoked")),
    extensions(("x-offernet-who" = json!("a"))))]
async fn delete_token(st: St, Path((a, id)): Path<(String, String)>, _: ActsFor) -> ApiResult<Response> {
    write_no_content(&st, Command::DeleteToken { account: a, id }).await
}
