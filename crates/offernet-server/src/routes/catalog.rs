//! An account's catalog: SKUs, trade policies, warehouses, stock and prices.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::{delete, get, put, MethodRouter};
use offernet_core::*;
use serde_json::{json, Value};

use super::{doc, ok, params, write_no_content, write_then, RouteDoc, St};
use crate::error::ApiResult;
use crate::extract::{ActsFor, Reads, StrictJson};
use crate::AppState;

pub(super) fn routes() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    vec![
        (
            doc("PUT", "/v1/accounts/{a}/skus/{sku}", "a", "Create or replace a SKU", Some("SkuBody"), "Sku", 200),
            put(put_sku),
        ),
        (
            doc("GET", "/v1/accounts/{a}/skus/{sku}", "a", "A SKU with its prices and stock", None, "Sku", 200),
            get(get_sku),
        ),
        (
            doc(
                "PUT",
                "/v1/accounts/{a}/trade-policies/{tp}",
                "a",
                "Create or replace a trade policy",
                Some("TradePolicyBody"),
                "TradePolicy",
                200,
            ),
            put(put_trade_policy),
        ),
        (
            doc("GET", "/v1/accounts/{a}/trade-policies/{tp}", "a", "A trade policy", None, "TradePolicy", 200),
            get(get_trade_policy),
        ),
        (
            doc(
                "PUT",
                "/v1/accounts/{a}/warehouses/{w}",
                "a",
                "Create or replace a warehouse and the trade policies it serves",
                Some("WarehouseBody"),
                "Warehouse",
                200,
            ),
            put(put_warehouse),
        ),
        (doc("GET", "/v1/accounts/{a}/warehouses/{w}", "a", "A warehouse", None, "Warehouse", 200), get(get_warehouse)),
        (
            doc(
                "PUT",
                "/v1/accounts/{a}/warehouses/{w}/stock/{sku}",
                "a",
                "Set the stock of a SKU in a warehouse",
                Some("StockBody"),
                "Stock",
                200,
            ),
            put(put_stock),
        ),
        (
            doc(
                "PUT",
                "/v1/accounts/{a}/prices/{sku}",
                "a",
                "Set the price (or a trade policy's fixed price)",
                Some("PriceBody"),
                "Price",
                200,
            ),
            put(put_price),
        ),
        (
            doc(
                "DELETE",
                "/v1/accounts/{a}/prices/{sku}",
                "a",
                "Remove a trade policy's fixed price (?trade_policy=)",
                None,
                "",
                204,
            ),
            delete(delete_price),
        ),
    ]
}

type Two = Path<(String, String)>;

async fn put_sku(
    st: St,
    Path((a, sku)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<SkuBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutSku { account: a.clone(), sku: sku.clone(), body };
    write_then(&st, cmd, |e| e.sku(&a, &sku)).await
}

async fn get_sku(st: St, Path((a, sku)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.sku(&a, &sku))?))
}

async fn put_trade_policy(
    st: St,
    Path((a, tp)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<TradePolicyBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutTradePolicy { account: a.clone(), trade_policy: tp.clone(), body };
    write_then(&st, cmd, |e| e.trade_policy(&a, &tp)).await
}

async fn get_trade_policy(st: St, Path((a, tp)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.trade_policy(&a, &tp))?))
}

async fn put_warehouse(
    st: St,
    Path((a, w)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<WarehouseBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutWarehouse { account: a.clone(), warehouse: w.clone(), body };
    write_then(&st, cmd, |e| e.warehouse(&a, &w)).await
}

async fn get_warehouse(st: St, Path((a, w)): Two, _: Reads) -> ApiResult<Response> {
    Ok(ok(st.writer.read(|e| e.warehouse(&a, &w))?))
}

fn stock_view(e: &Engine, a: &str, w: &str, sku: &str) -> Result<Value, DomainError> {
    let s = e.sku(a, sku)?;
    let entry = s.stock.iter().find(|x| *x.warehouse == *w);
    Ok(json!({
        "warehouse": w, "sku": sku,
        "quantity": entry.map_or(Some(0), |x| x.quantity),
        "unlimited": entry.is_some_and(|x| x.unlimited),
        "reserved": entry.map_or(0, |x| x.reserved),
    }))
}

async fn put_stock(
    st: St,
    Path((a, w, sku)): Path<(String, String, String)>,
    _: ActsFor,
    StrictJson(body): StrictJson<StockBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutStock { account: a.clone(), warehouse: w.clone(), sku: sku.clone(), body };
    write_then(&st, cmd, |e| stock_view(e, &a, &w, &sku)).await
}

fn price_view(e: &Engine, a: &str, sku: &str) -> Result<Value, DomainError> {
    let s = e.sku(a, sku)?;
    Ok(json!({"sku": s.id, "price": s.price, "list_price": s.list_price, "trade_policy_prices": s.trade_policy_prices}))
}

async fn put_price(
    st: St,
    Path((a, sku)): Two,
    _: ActsFor,
    StrictJson(body): StrictJson<PriceBody>,
) -> ApiResult<Response> {
    let cmd = Command::PutPrice { account: a.clone(), sku: sku.clone(), body };
    write_then(&st, cmd, |e| price_view(e, &a, &sku)).await
}

async fn delete_price(st: St, Path((a, sku)): Two, Query(q): Query<params::Query>, _: ActsFor) -> ApiResult<Response> {
    let trade_policy = q.get("trade_policy").cloned();
    write_no_content(&st, Command::DeletePrice { account: a, sku, trade_policy }).await
}
