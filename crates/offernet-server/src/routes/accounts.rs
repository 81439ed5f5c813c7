//! Accounts: created by the operator (the first token, `initial`, is shown only then), read
//! and renamed by themselves or the operator. More tokens: `tokens.rs`.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use offernet_core::{AccountPatchBody, AccountView, Command, INITIAL_TOKEN_ID};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params;
use super::query;
use super::respond::{json, ok, required, write, write_then, St};
use crate::auth::new_account_token;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ActsFor, Operator, PatchJson, Reads, StrictJson};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(create_account, list_accounts)).routes(routes!(get_account, patch_account))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    /// Lowercase letters, digits and `-`; never changes.
    #[schema(required = true, nullable = false, pattern = "^[a-z0-9-]{1,50}$")]
    id: Option<String>,
    #[schema(required = true, nullable = false, max_length = 1000)]
    name: Option<String>,
    /// ISO 4217, like BRL.
    #[schema(required = true, nullable = false, pattern = "^[A-Z]{3}$")]
    currency: Option<String>,
}

/// The new account, with its token `initial`: `<account>.initial.<secret>`, shown only now
/// (more with `POST /v1/accounts/{a}/tokens`).
#[derive(Serialize, ToSchema)]
struct AccountCreated {
    id: Arc<str>,
    name: Arc<str>,
    currency: Arc<str>,
    token: String,
}

/// Create an account; its token is returned once
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = NewAccount,
    responses((status = 201, description = "created", body = AccountCreated)),
    extensions(("x-offernet-who" = json!("operator"))))]
async fn create_account(st: St, _: Operator, StrictJson(b): StrictJson<NewAccount>) -> ApiResult<Response> {
    let id = required("id", b.id)?;
    let name = required("name", b.name)?;
    let currency = required("currency", b.currency)?;
    offernet_core::validate::account_id("id", &id)?;
    let (token, hash) = new_account_token(&id, INITIAL_TOKEN_ID).map_err(no_randomness)?;
    let cmd = Command::CreateAccount { id: id.clone(), name, currency, token_hash: Some(hash) };
    write(&st, cmd).await?;
    let AccountView { id, name, currency } = st.writer.read(|e| e.account(&id))?;
    Ok(json(StatusCode::CREATED, AccountCreated { id, name, currency, token }))
}

/// The server could not read randomness for a token: 500, the cause logged (never a secret).
pub(super) fn no_randomness(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "no randomness");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "could not generate a token")
}

/// The account
#[utoipa::path(get, path = "/v1/accounts/{a}", tag = "accounts", params(params::A),
    responses((status = 200, description = "the account", body = AccountView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn get_account(st: St, Path(a): Path<String>, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.account(&a))?))
}

/// Rename an account
///
/// Only the fields given change; the id never does. By the account itself or the operator.
#[utoipa::path(patch, path = "/v1/accounts/{a}", tag = "accounts", params(params::A),
    request_body = AccountPatchBody, responses((status = 200, description = "the account", body = AccountView)),
    extensions(("x-offernet-who" = json!("a"))))]
async fn patch_account(
    st: St,
    Path(a): Path<String>,
    _: ActsFor,
    PatchJson(body): PatchJson<AccountPatchBody>,
) -> ApiResult<Response> {
    write_then(&st, Command::PatchAccount { account: a.clone(), body }, |e| e.account(&a)).await
}

/// One page of accounts, sorted by id.
#[derive(Serialize, ToSchema)]
struct AccountPage {
    accounts: Vec<AccountView>,
    /// Accounts in all pages.
    total: usize,
    /// The `offset` of the next page; `null` on the last.
    #[schema(required = true)]
    next_offset: Option<usize>,
}

/// Every account (operator only)
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", params(params::Paging),
    responses((status = 200, description = "one page", body = AccountPage)),
    extensions(("x-offernet-who" = json!("operator"))))]
async fn list_accounts(st: St, _: Operator, Query(q): Query<query::Query>) -> ApiResult<Response> {
    let (accounts, total, next_offset) = query::listed(&st, &q, |e, w| e.list_accounts(w))?;
    Ok(json(StatusCode::OK, AccountPage { accounts, total, next_offset }))
}
