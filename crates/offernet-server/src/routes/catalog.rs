//! Accounts, the catalog (SKUs, trade policies, warehouses, stock, prices) and both halves of
//! a connection.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use offernet_core::*;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{random_secret, sha256_hex, Caller};
use crate::error::{ApiError, ApiResult};

use super::*;

// ---------------------------------------------------------------- accounts and catalog

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewAccount {
    id: Option<String>,
    name: Option<String>,
    currency: Option<String>,
}

pub(super) async fn create_account(State(st): St, headers: HeaderMap, body: Body) -> ApiResult<Response> {
    if caller(&st, &headers)? != Caller::Operator {
        return Err(ApiError::forbidden());
    }
    let b: NewAccount = parse_body(&st, body, false).await?;
    let id = b.id.ok_or_else(|| ApiError::invalid_field("id", "invalid field `id`: required"))?;
    let name = b.name.ok_or_else(|| ApiError::invalid_field("name", "invalid field `name`: required"))?;
    let currency =
        b.currency.ok_or_else(|| ApiError::invalid_field("currency", "invalid field `currency`: required"))?;
    offernet_core::validate::account_id("id", &id)?;
    let secret = random_secret().map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "could not generate a token")
    })?;
    let token = format!("{id}.{secret}");
    let cmd = Command::CreateAccount { id: id.clone(), name, currency, token_hash: Some(sha256_hex(&token)) };
    write(&st, cmd).await?;
    let view = st.writer.read(|e| e.account(&id))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": view.id, "name": view.name, "currency": view.currency, "token": token})),
    )
        .into_response())
}

pub(super) async fn get_account(State(st): St, Path(a): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    authorize(&st, &headers, &a)?;
    Ok(ok(st.writer.read(|e| e.account(&a))?))
}

pub(super) async fn put_sku(
    State(st): St,
    Path((a, sku)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    may_act(&st, &headers, &a)?;
    let body: SkuBody = parse_body(&st, body, false).await?;
    write(&st, Command::PutSku { account: a.clone(), sku: sku.clone(), body }).await?;
    Ok(ok(st.writer.read(|e| e.sku(&a, &sku))?))
}

pub(super) async fn get_sku(
    State(st): St,
    Path((a, sku)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &headers, &a)?;
    Ok(ok(st.writer.read(|e| e.sku(&a, &sku))?))
}

pub(super) async fn put_trade_policy(
    State(st): St,
    Path((a, tp)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    may_act(&st, &headers, &a)?;
    let body: TradePolicyBody = parse_body(&st, body, false).await?;
    write(&st, Command::PutTradePolicy { account: a.clone(), trade_policy: tp.clone(), body }).await?;
    Ok(ok(st.writer.read(|e| e.trade_policy(&a, &tp))?))
}

pub(super) async fn get_trade_policy(
    State(st): St,
    Path((a, tp)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &headers, &a)?;
    Ok(ok(st.writer.read(|e| e.trade_policy(&a, &tp))?))
}

pub(super) async fn put_warehouse(
    State(st): St,
    Path((a, w)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    may_act(&st, &headers, &a)?;
    let body: WarehouseBody = parse_body(&st, body, false).await?;
    write(&st, Command::PutWarehouse { account: a.clone(), warehouse: w.clone(), body }).await?;
    Ok(ok(st.writer.read(|e| e.warehouse(&a, &w))?))
}

pub(super) async fn get_warehouse(
    State(st): St,
    Path((a, w)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &headers, &a)?;
    Ok(ok(st.writer.read(|e| e.warehouse(&a, &w))?))
}

pub(super) fn stock_view(e: &Engine, a: &str, w: &str, sku: &str) -> ApiResult<Value> {
    let s = e.sku(a, sku)?;
    let entry = s.stock.iter().find(|x| *x.warehouse == *w);
    Ok(json!({
        "warehouse": w, "sku": sku,
        "quantity": entry.map_or(Some(0), |x| x.quantity),
        "unlimited": entry.is_some_and(|x| x.unlimited),
        "reserved": entry.map_or(0, |x| x.reserved),
    }))
}

pub(super) async fn put_stock(
    State(st): St,
    Path((a, w, sku)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    may_act(&st, &headers, &a)?;
    let body: StockBody = parse_body(&st, body, false).await?;
    write(&st, Command::PutStock { account: a.clone(), warehouse: w.clone(), sku: sku.clone(), body }).await?;
    Ok(ok(st.writer.read(|e| stock_view(e, &a, &w, &sku))?))
}

pub(super) fn price_view(e: &Engine, a: &str, sku: &str) -> ApiResult<Value> {
    let s = e.sku(a, sku)?;
    Ok(json!({"sku": s.id, "price": s.price, "list_price": s.list_price, "trade_policy_prices": s.trade_policy_prices}))
}

pub(super) async fn put_price(
    State(st): St,
    Path((a, sku)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    may_act(&st, &headers, &a)?;
    let body: PriceBody = parse_body(&st, body, false).await?;
    write(&st, Command::PutPrice { account: a.clone(), sku: sku.clone(), body }).await?;
    Ok(ok(st.writer.read(|e| price_view(e, &a, &sku))?))
}

pub(super) async fn delete_price(
    State(st): St,
    Path((a, sku)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    may_act(&st, &headers, &a)?;
    let tp = q.get("trade_policy").cloned();
    write(&st, Command::DeletePrice { account: a, sku, trade_policy: tp }).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- connections

pub(super) async fn write_affiliation(
    st: &AppState,
    s: String,
    m: String,
    headers: &HeaderMap,
    body: Option<Body>,
    patch: bool,
) -> ApiResult<Response> {
    may_act(st, headers, &s)?;
    let cmd = match body {
        None => Command::DeleteAffiliation { seller: s.clone(), marketplace: m.clone() },
        Some(b) => {
            let body: AffiliationBody = parse_body(st, b, patch).await?;
            if patch {
                Command::PatchAffiliation { seller: s.clone(), marketplace: m.clone(), body }
            } else {
                Command::PutAffiliation { seller: s.clone(), marketplace: m.clone(), body }
            }
        }
    };
    let deleting = matches!(cmd, Command::DeleteAffiliation { .. });
    write(st, cmd).await?;
    if deleting {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(ok(st.writer.read(|e| e.affiliation(&s, &m))?))
}

pub(super) async fn put_affiliation(
    State(st): St,
    Path((s, m)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    write_affiliation(&st, s, m, &h, Some(b), false).await
}
pub(super) async fn patch_affiliation(
    State(st): St,
    Path((s, m)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    write_affiliation(&st, s, m, &h, Some(b), true).await
}
pub(super) async fn delete_affiliation(
    State(st): St,
    Path((s, m)): Path<(String, String)>,
    h: HeaderMap,
) -> ApiResult<Response> {
    write_affiliation(&st, s, m, &h, None, false).await
}
pub(super) async fn get_affiliation(
    State(st): St,
    Path((s, m)): Path<(String, String)>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &s)?;
    Ok(ok(st.writer.read(|e| e.affiliation(&s, &m))?))
}

pub(super) async fn write_registration(
    st: &AppState,
    m: String,
    s: String,
    headers: &HeaderMap,
    body: Option<Body>,
    patch: bool,
) -> ApiResult<Response> {
    may_act(st, headers, &m)?;
    let cmd = match body {
        None => Command::DeleteSeller { marketplace: m.clone(), seller: s.clone() },
        Some(b) => {
            let body: SellerBody = parse_body(st, b, patch).await?;
            if patch {
                Command::PatchSeller { marketplace: m.clone(), seller: s.clone(), body }
            } else {
                Command::PutSeller { marketplace: m.clone(), seller: s.clone(), body }
            }
        }
    };
    let deleting = matches!(cmd, Command::DeleteSeller { .. });
    write(st, cmd).await?;
    if deleting {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(ok(st.writer.read(|e| e.registration(&m, &s))?))
}

pub(super) async fn put_seller(
    State(st): St,
    Path((m, s)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    write_registration(&st, m, s, &h, Some(b), false).await
}
pub(super) async fn patch_seller(
    State(st): St,
    Path((m, s)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    write_registration(&st, m, s, &h, Some(b), true).await
}
pub(super) async fn delete_seller(
    State(st): St,
    Path((m, s)): Path<(String, String)>,
    h: HeaderMap,
) -> ApiResult<Response> {
    write_registration(&st, m, s, &h, None, false).await
}
pub(super) async fn get_seller(
    State(st): St,
    Path((m, s)): Path<(String, String)>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &m)?;
    Ok(ok(st.writer.read(|e| e.registration(&m, &s))?))
}
