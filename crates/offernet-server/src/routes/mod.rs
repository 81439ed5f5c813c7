//! The v1 routes of shared/design/api.md, one module per resource. Each module holds its
//! handlers, their documentation (`#[utoipa::path]`, beside each handler) and the types they
//! answer; `router()` gathers them into one `OpenApiRouter`, so the router and the OpenAPI
//! document come from the same place and the document cannot miss a served route.
//!
//! A handler's signature says who may call it (`extract.rs`: `Operator`, `ActsFor`, `Reads`)
//! and what body it takes (`StrictJson`, `PatchJson`); its body submits the command through
//! the writer (answered once durable) and answers from committed state.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use offernet_core::{Command, Engine, Event};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

mod accounts;
mod catalog;
mod connections;
mod events;
mod offers;
mod ops;
mod orders;
mod params;
mod stock_prices;
mod suggestions;

type St = State<Arc<AppState>>;

/// Every route with its documentation, one resource after another.
pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .merge(accounts::router())
        .merge(catalog::router())
        .merge(stock_prices::router())
        .merge(connections::router())
        .merge(suggestions::router())
        .merge(offers::router())
        .merge(orders::router())
        .merge(events::router())
        .merge(ops::router())
}

/// The body of actions that take none: empty, `{}`, or refused naming the unknown field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

async fn write(st: &AppState, cmd: Command) -> ApiResult<Vec<Event>> {
    Ok(st.writer.submit(cmd).await??)
}

/// Submits `cmd`, then answers 200 with what `read` finds in the committed state.
async fn write_then<T, E>(
    st: &AppState,
    cmd: Command,
    read: impl FnOnce(&Engine) -> Result<T, E>,
) -> ApiResult<Response>
where
    T: Serialize,
    ApiError: From<E>,
{
    write(st, cmd).await?;
    Ok(ok(st.writer.read(read)?))
}

/// Submits `cmd`, then answers 204.
async fn write_no_content(st: &AppState, cmd: Command) -> ApiResult<Response> {
    write(st, cmd).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn ok<T: Serialize>(v: T) -> Response {
    (StatusCode::OK, Json(v)).into_response()
}

/// `status` and `v` as JSON with the keys of every object sorted. The answers that were built
/// as JSON values before their views were typed (pages, stock, price, orders, …) kept
/// serde_json's map order, sorted keys; they still go through a value so the bytes stay the
/// same.
fn sorted<T: Serialize>(status: StatusCode, v: T) -> Response {
    match serde_json::to_value(v) {
        Ok(v) => (status, Json(v)).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()).into_response(),
    }
}
