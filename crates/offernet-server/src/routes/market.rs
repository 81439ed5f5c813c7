//! What a marketplace sees and does: suggestions, offers and explain, sent-offers,
//! simulation and orders.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use offernet_core::*;
use serde::Deserialize;
use serde_json::json;

use crate::error::{ApiError, ApiResult};

use super::*;

// ---------------------------------------------------------------- suggestions and offers

pub(super) async fn list_suggestions(
    State(st): St,
    Path(m): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &m)?;
    let status = status_param(&q)?;
    let (limit, offset) = page(&st, &q)?;
    let items = st.writer.read(|e| e.suggestions(&m, status))?;
    Ok(paged("suggestions", items, limit, offset))
}

/// The body of actions that take none: empty, `{}`, or refused naming the unknown field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoFields {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ApproveBody {
    sku: Option<String>,
}

pub(super) fn suggestion_view(e: &Engine, m: &str, s: &str, ss: &str) -> ApiResult<SuggestionView> {
    e.suggestions(m, None)?
        .into_iter()
        .find(|x| *x.seller == *s && *x.seller_sku == *ss)
        .ok_or_else(|| ApiError::not_found("suggestion not found"))
}

pub(super) async fn approve(
    State(st): St,
    Path((m, s, ss)): Path<(String, String, String)>,
    h: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    may_act(&st, &h, &m)?;
    let b: ApproveBody = parse_body(&st, body, false).await?;
    write(
        &st,
        Command::ApproveSuggestion { marketplace: m.clone(), seller: s.clone(), seller_sku: ss.clone(), sku: b.sku },
    )
    .await?;
    Ok(ok(st.writer.read(|e| suggestion_view(e, &m, &s, &ss))?))
}

pub(super) async fn deny(
    State(st): St,
    Path((m, s, ss)): Path<(String, String, String)>,
    h: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    may_act(&st, &h, &m)?;
    let _: NoFields = parse_body(&st, body, false).await?;
    write(&st, Command::DenySuggestion { marketplace: m.clone(), seller: s.clone(), seller_sku: ss.clone() }).await?;
    Ok(ok(st.writer.read(|e| suggestion_view(e, &m, &s, &ss))?))
}

pub(super) async fn offers_for_sku(
    State(st): St,
    Path((m, sku)): Path<(String, String)>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &m)?;
    let offers = st.writer.read(|e| e.offers_for_sku(&m, &sku))?;
    Ok(ok(json!({"sku": sku, "offers": offers})))
}

pub(super) async fn list_offers(
    State(st): St,
    Path(m): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &m)?;
    let sellable = match q.get("sellable").map(String::as_str) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::invalid_field("sellable", "`sellable` is true or false")),
    };
    let (limit, offset) = page(&st, &q)?;
    let seller = q.get("seller").cloned();
    let items = st.writer.read(|e| e.offers(&m, &OfferFilter { seller: seller.as_deref(), sellable }))?;
    Ok(paged("offers", items, limit, offset))
}

pub(super) async fn explain(
    State(st): St,
    Path((m, sku)): Path<(String, String)>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &m)?;
    Ok(ok(st.writer.read(|e| e.explain(&m, &sku))?))
}

pub(super) async fn sent_offers(
    State(st): St,
    Path(s): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &s)?;
    let (limit, offset) = page(&st, &q)?;
    let m = q.get("marketplace").cloned();
    let items = st.writer.read(|e| e.sent_offers(&s, m.as_deref()))?;
    Ok(paged("sent_offers", items, limit, offset))
}

// ---------------------------------------------------------------- simulation and orders

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SimulationBody {
    items: Option<Vec<OrderItemBody>>,
}

pub(super) async fn simulation(State(st): St, Path(m): Path<String>, h: HeaderMap, body: Body) -> ApiResult<Response> {
    may_act(&st, &h, &m)?;
    let b: SimulationBody = parse_body(&st, body, false).await?;
    let items = b.items.ok_or_else(|| ApiError::invalid_field("items", "invalid field `items`: required"))?;
    let out = st.writer.read(|e| e.simulate(&m, &items))?;
    Ok(ok(json!({"items": out})))
}

pub(super) async fn put_order_settings(
    State(st): St,
    Path(m): Path<String>,
    h: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    may_act(&st, &h, &m)?;
    let body: OrderSettingsBody = parse_body(&st, body, false).await?;
    let minutes = body.reservation_minutes;
    write(&st, Command::PutOrderSettings { account: m, body }).await?;
    Ok(ok(json!({"reservation_minutes": minutes})))
}

pub(super) async fn place_order(State(st): St, Path(m): Path<String>, h: HeaderMap, body: Body) -> ApiResult<Response> {
    may_act(&st, &h, &m)?;
    let body: OrderBody = parse_body(&st, body, false).await?;
    let id = body.id.clone().ok_or_else(|| ApiError::invalid_field("id", "invalid field `id`: required"))?;
    let events = write(&st, Command::PlaceOrder { marketplace: m.clone(), body }).await?;
    let created = events.iter().any(|e| matches!(e.body, EventBody::OrderCreated(_)));
    let view = st.writer.read(|e| e.order(&m, &id))?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view)).into_response())
}

pub(super) async fn get_order(
    State(st): St,
    Path((a, id)): Path<(String, String)>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &a)?;
    Ok(ok(st.writer.read(|e| e.order(&a, &id))?))
}

pub(super) async fn order_action(
    st: &AppState,
    a: String,
    id: String,
    h: &HeaderMap,
    body: Body,
    action: &str,
) -> ApiResult<Response> {
    may_act(st, h, &a)?;
    let _: NoFields = parse_body(st, body, false).await?;
    let cmd = match action {
        "authorize" => Command::AuthorizeOrder { marketplace: a.clone(), id: id.clone() },
        "cancel" => Command::CancelOrder { account: a.clone(), id: id.clone() },
        _ => Command::InvoiceOrder { account: a.clone(), id: id.clone() },
    };
    write(st, cmd).await?;
    Ok(ok(st.writer.read(|e| e.order(&a, &id))?))
}

pub(super) async fn authorize_order(
    State(st): St,
    Path((a, id)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    order_action(&st, a, id, &h, b, "authorize").await
}
pub(super) async fn cancel_order(
    State(st): St,
    Path((a, id)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    order_action(&st, a, id, &h, b, "cancel").await
}
pub(super) async fn invoice_order(
    State(st): St,
    Path((a, id)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    order_action(&st, a, id, &h, b, "invoice").await
}
