//! Accounts: created by the operator (the token is shown only then), read by themselves.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Json;
use offernet_core::Command;
use serde::Deserialize;
use serde_json::json;

use super::{doc, ok, write, RouteDoc, St};
use crate::auth::{random_secret, sha256_hex};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Operator, Reads, StrictJson};
use crate::AppState;

pub(super) fn routes() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    vec![
        (
            doc(
                "POST",
                "/v1/accounts",
                "operator",
                "Create an account; its token is returned once",
                Some("NewAccount"),
                "AccountCreated",
                201,
            ),
            post(create_account),
        ),
        (doc("GET", "/v1/accounts/{a}", "a", "The account", None, "Account", 200), get(get_account)),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    id: Option<String>,
    name: Option<String>,
    currency: Option<String>,
}

fn required(field: &'static str, v: Option<String>) -> Result<String, ApiError> {
    v.ok_or_else(|| ApiError::invalid_field(field, format!("invalid field `{field}`: required")))
}

async fn create_account(st: St, _: Operator, StrictJson(b): StrictJson<NewAccount>) -> ApiResult<Response> {
    let id = required("id", b.id)?;
    let name = required("name", b.name)?;
    let currency = required("currency", b.currency)?;
    offernet_core::validate::account_id("id", &id)?;
    let secret = random_secret().map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "could not generate a token")
    })?;
    let token = format!("{id}.{secret}");
    let cmd = Command::CreateAccount { id: id.clone(), name, currency, token_hash: Some(sha256_hex(&token)) };
    write(&st, cmd).await?;
    let view = st.writer.read(|e| e.account(&id))?;
    let created = json!({"id": view.id, "name": view.name, "currency": view.currency, "token": token});
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn get_account(st: St, Path(a): Path<String>, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.account(&a))?))
}
