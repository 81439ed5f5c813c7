//! The v1 routes of shared/design/api.md, one module per resource. Each module holds its
//! handlers and their documentation together; a handler's signature says who may call it
//! (`extract.rs`: `Operator`, `ActsFor`, `Reads`) and what body it takes (`StrictJson`,
//! `PatchJson`), so its body only submits the command through the writer (answered once
//! durable) and answers from committed state.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Json;
use offernet_core::{Command, Engine, Event};
use serde::{Deserialize, Serialize};

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
mod suggestions;

type St = State<Arc<AppState>>;

/// One route's documentation.
pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    /// Who may call it: `operator`, `anyone`, or the path parameter naming the account.
    pub who: &'static str,
    pub summary: &'static str,
    pub request: Option<&'static str>,
    /// Response schema name ("" for none or non-JSON).
    pub response: &'static str,
    pub status: u16,
}

pub fn doc(
    method: &'static str,
    path: &'static str,
    who: &'static str,
    summary: &'static str,
    request: Option<&'static str>,
    response: &'static str,
    status: u16,
) -> RouteDoc {
    RouteDoc { method, path, who, summary, request, response, status }
}

/// Every route: its documentation and its handler, gathered from the resource modules. The
/// router and the OpenAPI document are both built from this, so the spec cannot miss a
/// served route.
pub fn table() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    [
        accounts::routes(),
        catalog::routes(),
        connections::routes(),
        suggestions::routes(),
        offers::routes(),
        orders::routes(),
        events::routes(),
        ops::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
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
