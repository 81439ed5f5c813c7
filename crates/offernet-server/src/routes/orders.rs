//! Orders: the marketplace's reservation time, placing an order, reading one, and its
//! lifecycle (authorise, cancel, invoice).

use std::sync::Arc;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::Json;
use offernet_core::*;
use serde_json::json;

use super::{doc, ok, write, write_then, NoFields, RouteDoc, St};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::AppState;

pub(super) fn routes() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    const ONE: &str = "/v1/accounts/{a}/orders/{id}";
    vec![
        (
            doc(
                "PUT",
                "/v1/accounts/{m}/order-settings",
                "m",
                "Reservation time of the marketplace's orders",
                Some("OrderSettingsBody"),
                "OrderSettings",
                200,
            ),
            put(put_order_settings),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{m}/orders",
                "m",
                "Place an order: reserves along the whole chain or fails whole (409 insufficient_stock); the same id and body again returns the same order",
                Some("OrderBody"),
                "Order",
                201,
            ),
            post(place_order),
        ),
        (
            doc(
                "GET",
                ONE,
                "a",
                "An order: the marketplace's whole order, or a seller's seller or chain order",
                None,
                "Order",
                200,
            ),
            get(get_order),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{m}/orders/{id}/authorize",
                "m",
                "Payment confirmed: dispatch allowed down the chain, no more expiry",
                None,
                "Order",
                200,
            ),
            post(authorize_order),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{a}/orders/{id}/cancel",
                "a",
                "Cancel: by the marketplace before any invoice, or by a seller for its order and its chain orders",
                None,
                "Order",
                200,
            ),
            post(cancel_order),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{a}/orders/{id}/invoice",
                "a",
                "Invoice a seller or chain order (by its seller): the units leave the warehouse",
                None,
                "Order",
                200,
            ),
            post(invoice_order),
        ),
    ]
}

type Two = Path<(String, String)>;

async fn put_order_settings(
    st: St,
    Path(m): Path<String>,
    _: ActsFor,
    StrictJson(body): StrictJson<OrderSettingsBody>,
) -> ApiResult<Response> {
    let minutes = body.reservation_minutes;
    write(&st, Command::PutOrderSettings { account: m, body }).await?;
    Ok(ok(json!({"reservation_minutes": minutes})))
}

async fn place_order(
    st: St,
    Path(m): Path<String>,
    _: ActsFor,
    StrictJson(body): StrictJson<OrderBody>,
) -> ApiResult<Response> {
    let id = body.id.clone().ok_or_else(|| ApiError::invalid_field("id", "invalid field `id`: required"))?;
    let events = write(&st, Command::PlaceOrder { marketplace: m.clone(), body }).await?;
    let created = events.iter().any(|e| matches!(e.body, EventBody::OrderCreated(_)));
    let view = st.writer.read(|e| e.order(&m, &id))?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view)).into_response())
}

async fn get_order(st: St, Path((a, id)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.order(&a, &id))?))
}

/// What an order's account can do to it once placed.
#[derive(Clone, Copy)]
enum Action {
    Authorize,
    Cancel,
    Invoice,
}

/// Submits the action on order `id` of account `a`, then answers the order as `a` sees it.
async fn act(st: &AppState, a: String, id: String, action: Action) -> ApiResult<Response> {
    let (account, order) = (a.clone(), id.clone());
    let cmd = match action {
        Action::Authorize => Command::AuthorizeOrder { marketplace: account, id: order },
        Action::Cancel => Command::CancelOrder { account, id: order },
        Action::Invoice => Command::InvoiceOrder { account, id: order },
    };
    write_then(st, cmd, |e| e.order(&a, &id)).await
}

async fn authorize_order(st: St, Path((a, id)): Two, _: ActsFor, _: StrictJson<NoFields>) -> ApiResult<Response> {
    act(&st, a, id, Action::Authorize).await
}

async fn cancel_order(st: St, Path((a, id)): Two, _: ActsFor, _: StrictJson<NoFields>) -> ApiResult<Response> {
    act(&st, a, id, Action::Cancel).await
}

async fn invoice_order(st: St, Path((a, id)): Two, _: ActsFor, _: StrictJson<NoFields>) -> ApiResult<Response> {
    act(&st, a, id, Action::Invoice).await
}
