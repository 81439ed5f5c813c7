//! What the handlers share: submit a command and answer from the committed state, and the
//! JSON answers.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use offernet_core::{Command, Engine, Event, Missing, OrderItemBody};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) type St = State<Arc<AppState>>;

/// The body of actions that take none: empty, `{}`, or refused naming the unknown field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoFields {}

pub(super) async fn write(st: &AppState, cmd: Command) -> ApiResult<Vec<Event>> {
    Ok(st.writer.submit(cmd).await??)
}

/// Submits `cmd`, then answers 200 with what `read` finds in the committed state.
pub(super) async fn write_then<T, E>(
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
pub(super) async fn write_no_content(st: &AppState, cmd: Command) -> ApiResult<Response> {
    write(st, cmd).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A 404 for something an order line names (`items[i].sku`, `items[i].seller`) gets that
/// line's field; `m` is the path's account, named by the path (`habits::name_not_found`).
pub(super) fn at_item(e: ApiError, m: &str, items: &[OrderItemBody]) -> ApiError {
    let Some((missing, id)) = e.missing.as_deref().cloned() else { return e };
    let (key, pick): (&str, fn(&OrderItemBody) -> Option<&String>) = match missing {
        Missing::Sku => ("sku", |it| it.sku.as_ref()),
        Missing::Account if id != m => ("seller", |it| it.seller.as_ref()),
        Missing::Offer => ("seller", |it| it.seller.as_ref()),
        _ => return e,
    };
    match items.iter().position(|it| pick(it).is_some_and(|x| *x == id)) {
        Some(i) => e.at(format!("items[{i}].{key}")),
        None => e,
    }
}

pub(super) fn ok<T: Serialize>(v: T) -> Response {
    json(StatusCode::OK, v)
}

/// `status` and `v` as JSON, its fields in the order its type declares them.
pub(super) fn json<T: Serialize>(status: StatusCode, v: T) -> Response {
    (status, Json(v)).into_response()
}

/// A body field that must be given: 400 naming it when absent.
pub(super) fn required<T>(field: &'static str, v: Option<T>) -> ApiResult<T> {
    v.ok_or_else(|| ApiError::invalid_field(field, format!("invalid field `{field}`: required")))
}
