//! The v1 routes of shared/design/api.md. Each handler: authenticate, authorise by the path's
//! account, parse the body (bad input → 400 naming the field, before anything is queued),
//! submit the command through the writer (answered once durable), answer from committed state.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::Json;
use offernet_core::*;
use offernet_store::WriterHandle;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{constant_time_eq, random_secret, sha256_hex, Caller};
use crate::error::{ApiError, ApiResult};
use crate::events::EventLog;
use crate::metrics::Metrics;
use crate::openapi::RouteDoc;
use crate::Config;

pub struct AppState {
    pub writer: WriterHandle,
    pub admin_token_hash: String,
    pub config: Config,
    pub events: Arc<EventLog>,
    pub metrics: Arc<Metrics>,
    /// Becomes true when shutdown starts: live event streams end so that the graceful
    /// shutdown does not wait on them forever.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

pub type St = State<Arc<AppState>>;

/// A comment line on an idle event stream this often: proxies keep the connection, and a
/// client that stopped reading is found once these fill its socket buffers (the send
/// timeout then closes it). On a quiet account that takes long: the stream then holds only
/// its cursor and one of the account's stream places.
const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------- authentication

/// The token of the one `Authorization: Bearer <token>` header. The scheme is
/// case-insensitive (RFC 7235); two such headers are refused, since proxies and servers may
/// each pick a different one.
fn bearer(headers: &HeaderMap) -> ApiResult<&str> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (all.next(), all.next()) else {
        return Err(match headers.contains_key(header::AUTHORIZATION) {
            true => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_header", "send one Authorization header, not several")
            }
            false => ApiError::unauthorized(),
        });
    };
    let value = value.to_str().map_err(|_| ApiError::unauthorized())?.trim();
    // RFC 6750 b64token: one run of visible characters after the scheme and its spaces.
    match value.split_once(' ').map(|(scheme, token)| (scheme, token.trim())) {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer")
                && !token.is_empty()
                && token.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(token)
        }
        _ => Err(ApiError::unauthorized()),
    }
}

fn caller(st: &AppState, headers: &HeaderMap) -> ApiResult<Caller> {
    let token = bearer(headers)?;
    let hash = sha256_hex(token);
    if constant_time_eq(hash.as_bytes(), st.admin_token_hash.as_bytes()) {
        return Ok(Caller::Operator);
    }
    // Account tokens are `<account>.<secret>`: find the account, compare the hashes.
    let account = token.split_once('.').map(|(a, _)| a).ok_or_else(ApiError::unauthorized)?;
    let stored = st.writer.read(|e| e.token_hash(account)).ok_or_else(ApiError::unauthorized)?;
    if constant_time_eq(hash.as_bytes(), stored.as_bytes()) {
        Ok(Caller::Account(account.to_string()))
    } else {
        Err(ApiError::unauthorized())
    }
}

/// The caller may act on `account`'s data. A non-operator gets 403 for any other account,
/// existing or not (no probing of which accounts exist). Whether the account exists is left
/// to the engine, which checks the whole body first (rule 39: 400 before 404); routes that
/// take a body use this.
fn may_act(st: &AppState, headers: &HeaderMap, account: &str) -> ApiResult<Caller> {
    let c = caller(st, headers)?;
    match &c {
        Caller::Operator => {}
        Caller::Account(a) if a == account => {}
        Caller::Account(_) => return Err(ApiError::forbidden()),
    }
    Ok(c)
}

/// `may_act`, and the account exists (404 for the operator otherwise): for reads.
fn authorize(st: &AppState, headers: &HeaderMap, account: &str) -> ApiResult<Caller> {
    let c = may_act(st, headers, account)?;
    if c == Caller::Operator && !st.writer.read(|e| e.has_account(account)) {
        return Err(ApiError::not_found(format!("account `{account}` not found")));
    }
    Ok(c)
}

// ---------------------------------------------------------------- bodies

/// Reads and parses a JSON body: syntax → `invalid_json`; `null` in a PATCH, empty or blank
/// strings, unknown fields and wrong types → `invalid_field` naming the field.
async fn parse_body<T: DeserializeOwned>(st: &AppState, body: Body, patch: bool) -> ApiResult<T> {
    let limit = st.config.body_limit_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| body_error(e, limit))?;
    let value: Value = if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        json!({})
    } else {
        serde_json::from_slice::<crate::strict_json::Strict>(&bytes)
            .map_err(|e| ApiError::invalid_json(format!("the body is not valid JSON: {e}")))?
            .0
    };
    if !value.is_object() {
        return Err(ApiError::invalid_json("the body must be a JSON object"));
    }
    check_values(&value, "", patch)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde names an unknown field only in its message.
        let field = match inner.split('`').nth(1) {
            Some(f) if inner.starts_with("unknown field") && path == "." => f.to_string(),
            _ => path,
        };
        ApiError::invalid_field(field.clone(), format!("invalid field `{field}`: {inner}"))
    })
}

/// Why a body could not be read: over the limit (413), or cut off or badly framed (400).
fn body_error(e: axum::Error, limit: usize) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(x) = source {
        if x.is::<http_body_util::LengthLimitError>() {
            return ApiError::body_too_large(limit);
        }
        source = x.source();
    }
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", format!("the request body could not be read: {e}"))
}

fn check_values(v: &Value, path: &str, patch: bool) -> ApiResult<()> {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if patch && path.is_empty() && x.is_null() {
                    return Err(ApiError::invalid_field(
                        p,
                        "null is not allowed in a PATCH: omit the field to keep it",
                    ));
                }
                check_values(x, &p, patch)?;
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_values(x, &format!("{path}[{i}]"), patch)?;
            }
        }
        Value::String(s) if s.trim().is_empty() => {
            return Err(ApiError::invalid_field(path, format!("invalid field `{path}`: must not be empty or blank")));
        }
        _ => {}
    }
    Ok(())
}

async fn write(st: &AppState, cmd: Command) -> ApiResult<Vec<Event>> {
    Ok(st.writer.submit(cmd).await??)
}

fn ok<T: serde::Serialize>(v: T) -> Response {
    (StatusCode::OK, Json(v)).into_response()
}

// ---------------------------------------------------------------- accounts and catalog

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    id: Option<String>,
    name: Option<String>,
    currency: Option<String>,
}

async fn create_account(State(st): St, headers: HeaderMap, body: Body) -> ApiResult<Response> {
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

async fn get_account(State(st): St, Path(a): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    authorize(&st, &headers, &a)?;
    Ok(ok(st.writer.read(|e| e.account(&a))?))
}

async fn put_sku(
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

async fn get_sku(State(st): St, Path((a, sku)): Path<(String, String)>, headers: HeaderMap) -> ApiResult<Response> {
    authorize(&st, &headers, &a)?;
    Ok(ok(st.writer.read(|e| e.sku(&a, &sku))?))
}

async fn put_trade_policy(
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

async fn get_trade_policy(
    State(st): St,
    Path((a, tp)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &headers, &a)?;
    Ok(ok(st.writer.read(|e| e.trade_policy(&a, &tp))?))
}

async fn put_warehouse(
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

async fn get_warehouse(State(st): St, Path((a, w)): Path<(String, String)>, headers: HeaderMap) -> ApiResult<Response> {
    authorize(&st, &headers, &a)?;
    Ok(ok(st.writer.read(|e| e.warehouse(&a, &w))?))
}

fn stock_view(e: &Engine, a: &str, w: &str, sku: &str) -> ApiResult<Value> {
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

fn price_view(e: &Engine, a: &str, sku: &str) -> ApiResult<Value> {
    let s = e.sku(a, sku)?;
    Ok(json!({"sku": s.id, "price": s.price, "list_price": s.list_price, "trade_policy_prices": s.trade_policy_prices}))
}

async fn put_price(
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

async fn delete_price(
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

async fn write_affiliation(
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

async fn put_affiliation(
    State(st): St,
    Path((s, m)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    write_affiliation(&st, s, m, &h, Some(b), false).await
}
async fn patch_affiliation(
    State(st): St,
    Path((s, m)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    write_affiliation(&st, s, m, &h, Some(b), true).await
}
async fn delete_affiliation(State(st): St, Path((s, m)): Path<(String, String)>, h: HeaderMap) -> ApiResult<Response> {
    write_affiliation(&st, s, m, &h, None, false).await
}
async fn get_affiliation(State(st): St, Path((s, m)): Path<(String, String)>, h: HeaderMap) -> ApiResult<Response> {
    authorize(&st, &h, &s)?;
    Ok(ok(st.writer.read(|e| e.affiliation(&s, &m))?))
}

async fn write_registration(
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

async fn put_seller(State(st): St, Path((m, s)): Path<(String, String)>, h: HeaderMap, b: Body) -> ApiResult<Response> {
    write_registration(&st, m, s, &h, Some(b), false).await
}
async fn patch_seller(
    State(st): St,
    Path((m, s)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    write_registration(&st, m, s, &h, Some(b), true).await
}
async fn delete_seller(State(st): St, Path((m, s)): Path<(String, String)>, h: HeaderMap) -> ApiResult<Response> {
    write_registration(&st, m, s, &h, None, false).await
}
async fn get_seller(State(st): St, Path((m, s)): Path<(String, String)>, h: HeaderMap) -> ApiResult<Response> {
    authorize(&st, &h, &m)?;
    Ok(ok(st.writer.read(|e| e.registration(&m, &s))?))
}

// ---------------------------------------------------------------- suggestions and offers

fn status_param(q: &HashMap<String, String>) -> ApiResult<Option<SuggestionStatus>> {
    Ok(match q.get("status").map(String::as_str) {
        None => None,
        Some("pending") => Some(SuggestionStatus::Pending),
        Some("approved") => Some(SuggestionStatus::Approved),
        Some("denied") => Some(SuggestionStatus::Denied),
        Some(_) => return Err(ApiError::invalid_field("status", "status is pending, approved or denied")),
    })
}

/// `limit` (1..=max, default 100) and `offset` query parameters.
fn page(st: &AppState, q: &HashMap<String, String>) -> ApiResult<(usize, usize)> {
    let num = |k: &str, d: usize| -> ApiResult<usize> {
        match q.get(k) {
            None => Ok(d),
            Some(v) => v.parse().map_err(|_| ApiError::invalid_field(k, format!("`{k}` is a non-negative integer"))),
        }
    };
    let limit = num("limit", crate::config::DEFAULT_PAGE_SIZE.min(st.config.max_page_size))?;
    if limit == 0 || limit > st.config.max_page_size {
        return Err(ApiError::invalid_field("limit", format!("`limit` is between 1 and {}", st.config.max_page_size)));
    }
    Ok((limit, num("offset", 0)?))
}

fn paged<T: serde::Serialize>(key: &str, items: Vec<T>, limit: usize, offset: usize) -> Response {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = (offset + page.len() < total).then_some(offset + page.len());
    ok(json!({ key: page, "total": total, "next_offset": next }))
}

async fn list_suggestions(
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
struct NoFields {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    sku: Option<String>,
}

fn suggestion_view(e: &Engine, m: &str, s: &str, ss: &str) -> ApiResult<SuggestionView> {
    e.suggestions(m, None)?
        .into_iter()
        .find(|x| *x.seller == *s && *x.seller_sku == *ss)
        .ok_or_else(|| ApiError::not_found("suggestion not found"))
}

async fn approve(
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

async fn deny(
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

async fn offers_for_sku(State(st): St, Path((m, sku)): Path<(String, String)>, h: HeaderMap) -> ApiResult<Response> {
    authorize(&st, &h, &m)?;
    let offers = st.writer.read(|e| e.offers_for_sku(&m, &sku))?;
    Ok(ok(json!({"sku": sku, "offers": offers})))
}

async fn list_offers(
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

async fn explain(State(st): St, Path((m, sku)): Path<(String, String)>, h: HeaderMap) -> ApiResult<Response> {
    authorize(&st, &h, &m)?;
    Ok(ok(st.writer.read(|e| e.explain(&m, &sku))?))
}

async fn sent_offers(
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
struct SimulationBody {
    items: Option<Vec<OrderItemBody>>,
}

async fn simulation(State(st): St, Path(m): Path<String>, h: HeaderMap, body: Body) -> ApiResult<Response> {
    may_act(&st, &h, &m)?;
    let b: SimulationBody = parse_body(&st, body, false).await?;
    let items = b.items.ok_or_else(|| ApiError::invalid_field("items", "invalid field `items`: required"))?;
    let out = st.writer.read(|e| e.simulate(&m, &items))?;
    Ok(ok(json!({"items": out})))
}

async fn put_order_settings(State(st): St, Path(m): Path<String>, h: HeaderMap, body: Body) -> ApiResult<Response> {
    may_act(&st, &h, &m)?;
    let body: OrderSettingsBody = parse_body(&st, body, false).await?;
    let minutes = body.reservation_minutes;
    write(&st, Command::PutOrderSettings { account: m, body }).await?;
    Ok(ok(json!({"reservation_minutes": minutes})))
}

async fn place_order(State(st): St, Path(m): Path<String>, h: HeaderMap, body: Body) -> ApiResult<Response> {
    may_act(&st, &h, &m)?;
    let body: OrderBody = parse_body(&st, body, false).await?;
    let id = body.id.clone().ok_or_else(|| ApiError::invalid_field("id", "invalid field `id`: required"))?;
    let events = write(&st, Command::PlaceOrder { marketplace: m.clone(), body }).await?;
    let created = events.iter().any(|e| matches!(e.body, EventBody::OrderCreated(_)));
    let view = st.writer.read(|e| e.order(&m, &id))?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view)).into_response())
}

async fn get_order(State(st): St, Path((a, id)): Path<(String, String)>, h: HeaderMap) -> ApiResult<Response> {
    authorize(&st, &h, &a)?;
    Ok(ok(st.writer.read(|e| e.order(&a, &id))?))
}

async fn order_action(
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

async fn authorize_order(
    State(st): St,
    Path((a, id)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    order_action(&st, a, id, &h, b, "authorize").await
}
async fn cancel_order(
    State(st): St,
    Path((a, id)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    order_action(&st, a, id, &h, b, "cancel").await
}
async fn invoice_order(
    State(st): St,
    Path((a, id)): Path<(String, String)>,
    h: HeaderMap,
    b: Body,
) -> ApiResult<Response> {
    order_action(&st, a, id, &h, b, "invoice").await
}

// ---------------------------------------------------------------- events

async fn events(
    State(st): St,
    Path(a): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    h: HeaderMap,
) -> ApiResult<Response> {
    authorize(&st, &h, &a)?;
    let last_event_id = h.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let after = match q.get("after") {
        None => last_event_id.unwrap_or(0),
        Some(v) => v.parse::<u64>().map_err(|_| ApiError::invalid_field("after", "`after` is a sequence number"))?,
    };
    let (limit, _) = page(&st, &q)?;
    let engine_seq = st.writer.read(|e| e.last_seq());
    let wants_stream =
        h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"));
    let gone = |g: crate::events::Gone| {
        ApiError::new(
            StatusCode::GONE,
            "events_expired",
            format!("events before {} are no longer kept; resume from after={}", g.oldest, g.oldest.saturating_sub(1)),
        )
    };
    if !wants_stream {
        let p = st.events.page(&a, after, limit, engine_seq).map_err(gone)?;
        return Ok(ok(json!({"events": p.events, "last_seq": p.last_seq})));
    }
    // Live: check the start, take a stream place, then the stream pages lazily (events.rs).
    let start = st.events.page(&a, after, 0, engine_seq).map_err(gone)?;
    let slot = st.events.open_stream(&a).ok_or_else(|| {
        st.metrics.streams_refused.fetch_add(1, Ordering::Relaxed);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            format!(
                "account `{a}` already has {} open event streams; close one or retry later",
                st.config.max_streams_per_account
            ),
        );
        e.retry_after = Some(5);
        e
    })?;
    // Asked beyond the newest event: start from the newest, so the next events are not skipped.
    let stream = crate::events::stream(slot, after.min(start.last_seq), st.stopping.clone());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(SSE_KEEP_ALIVE)).into_response())
}

// ---------------------------------------------------------------- operations

async fn healthz(State(st): St) -> Response {
    let seq = st.writer.shared().stats.last_seq.load(Ordering::Relaxed);
    let event_seq = st.writer.read(|e| e.last_seq());
    let h = st.writer.health();
    // 503 while the writer cannot write (journal error, lease lost): a load balancer or an
    // orchestrator then routes writes elsewhere or restarts us.
    let up = h.state == offernet_store::WriterState::Ok;
    let body = json!({"status": if up { "ok" } else { "unavailable" }, "writer": h.state.as_str(),
        "last_journal_error": h.last_error, "journal_errors": h.journal_errors,
        "journal_seq": seq, "event_seq": event_seq, "queue_depth": st.writer.queue_depth()});
    if up {
        ok(body)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
    }
}

async fn metrics(State(st): St) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(&st.writer, st.events.open_streams.load(Ordering::Relaxed)),
    )
        .into_response()
}

async fn openapi_json() -> Response {
    ok(crate::openapi::spec())
}

/// Every route: its documentation and its handler. The router and the OpenAPI document are
/// both built from this one table, so the spec cannot miss a served route.
pub fn table() -> Vec<(RouteDoc, MethodRouter<Arc<AppState>>)> {
    use crate::openapi::doc;
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
        (
            doc(
                "PUT",
                "/v1/accounts/{s}/affiliations/{m}",
                "s",
                "The seller's half of a connection",
                Some("AffiliationBody"),
                "Affiliation",
                200,
            ),
            put(put_affiliation),
        ),
        (
            doc(
                "PATCH",
                "/v1/accounts/{s}/affiliations/{m}",
                "s",
                "Change given fields of the seller's half",
                Some("AffiliationBody"),
                "Affiliation",
                200,
            ),
            patch(patch_affiliation),
        ),
        (
            doc("DELETE", "/v1/accounts/{s}/affiliations/{m}", "s", "End the seller's half", None, "", 204),
            delete(delete_affiliation),
        ),
        (
            doc("GET", "/v1/accounts/{s}/affiliations/{m}", "s", "The seller's half", None, "Affiliation", 200),
            get(get_affiliation),
        ),
        (
            doc(
                "PUT",
                "/v1/accounts/{m}/sellers/{s}",
                "m",
                "The marketplace's half of a connection",
                Some("SellerBody"),
                "Registration",
                200,
            ),
            put(put_seller),
        ),
        (
            doc(
                "PATCH",
                "/v1/accounts/{m}/sellers/{s}",
                "m",
                "Change given fields of the marketplace's half",
                Some("SellerBody"),
                "Registration",
                200,
            ),
            patch(patch_seller),
        ),
        (
            doc("DELETE", "/v1/accounts/{m}/sellers/{s}", "m", "End the marketplace's half", None, "", 204),
            delete(delete_seller),
        ),
        (
            doc("GET", "/v1/accounts/{m}/sellers/{s}", "m", "The marketplace's half", None, "Registration", 200),
            get(get_seller),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{m}/suggestions",
                "m",
                "Suggestions received (?status=&limit=&offset=)",
                None,
                "SuggestionPage",
                200,
            ),
            get(list_suggestions),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/approve",
                "m",
                "Approve: bind to `sku` (created if missing) or let the matcher decide",
                Some("ApproveBody"),
                "Suggestion",
                200,
            ),
            post(approve),
        ),
        (
            doc(
                "POST",
                "/v1/accounts/{m}/suggestions/{s}/{seller_sku}/deny",
                "m",
                "Deny (after approval: unbind)",
                None,
                "Suggestion",
                200,
            ),
            post(deny),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{m}/offers",
                "m",
                "Offers at the marketplace (?seller=&sellable=&limit=&offset=)",
                None,
                "OfferPage",
                200,
            ),
            get(list_offers),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{m}/offers/{sku}",
                "m",
                "Every offer for one of the marketplace's SKUs",
                None,
                "SkuOffers",
                200,
            ),
            get(offers_for_sku),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{m}/offers/{sku}/explain",
                "m",
                "Why each offer is (not) sellable: the tree of paths to every origin",
                None,
                "Explain",
                200,
            ),
            get(explain),
        ),
        (
            doc(
                "GET",
                "/v1/accounts/{s}/sent-offers",
                "s",
                "What the seller sends, as each marketplace sees it (?marketplace=)",
                None,
                "SentOfferPage",
                200,
            ),
            get(sent_offers),
        ),
        (doc("POST", "/v1/accounts/{m}/simulation", "m", "Price a cart against the live offers (never changes state)", Some("SimulationBody"), "Simulation", 200), post(simulation)),
        (doc("PUT", "/v1/accounts/{m}/order-settings", "m", "Reservation time of the marketplace's orders", Some("OrderSettingsBody"), "OrderSettings", 200), put(put_order_settings)),
        (doc("POST", "/v1/accounts/{m}/orders", "m", "Place an order: reserves along the whole chain or fails whole (409 insufficient_stock); the same id and body again returns the same order", Some("OrderBody"), "Order", 201), post(place_order)),
        (doc("GET", "/v1/accounts/{a}/orders/{id}", "a", "An order: the marketplace's whole order, or a seller's seller or chain order", None, "Order", 200), get(get_order)),
        (doc("POST", "/v1/accounts/{m}/orders/{id}/authorize", "m", "Payment confirmed: dispatch allowed down the chain, no more expiry", None, "Order", 200), post(authorize_order)),
        (doc("POST", "/v1/accounts/{a}/orders/{id}/cancel", "a", "Cancel: by the marketplace before any invoice, or by a seller for its order and its chain orders", None, "Order", 200), post(cancel_order)),
        (doc("POST", "/v1/accounts/{a}/orders/{id}/invoice", "a", "Invoice a seller or chain order (by its seller): the units leave the warehouse", None, "Order", 200), post(invoice_order)),
        (
            doc(
                "GET",
                "/v1/accounts/{a}/events",
                "a",
                "The account's events after ?after=SEQ; `Accept: text/event-stream` streams them live",
                None,
                "EventPage",
                200,
            ),
            get(events),
        ),
        (doc("GET", "/healthz", "anyone", "Health", None, "Health", 200), get(healthz)),
        (doc("GET", "/metrics", "anyone", "Prometheus metrics", None, "", 200), get(metrics)),
        (doc("GET", "/openapi.json", "anyone", "This document", None, "", 200), get(openapi_json)),
    ]
}
