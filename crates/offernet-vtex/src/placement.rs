//! B2, order placement (ESF `orderPlacement` → `responseOrderPlacement`, vtex-compat.md §2.2):
//! each element of the array VTEX sends becomes a `PlaceOrder` at marketplace V for seller S,
//! idempotent by the order id. Pure: from the request and committed state to the command, the
//! order document (personal data, stored outside the journal) and the answer.

use offernet_core::orders::{ExternalRef, OrderBody, OrderItemBody, MAX_RESERVATION_MINUTES};
use offernet_core::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{VtexError, VtexResult};
use crate::hex;

/// Orders per placement request: VTEX sends one; a few more are placed in order.
pub const MAX_PLACEMENTS: usize = 10;

/// One element of a placement, mapped.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    /// offernet's order id at V (from `marketplaceOrderId`).
    pub order_id: String,
    pub body: OrderBody,
    /// The order document (canonical JSON text) and its SHA-256 (hex), which `body` carries.
    pub document: String,
    pub sha256: String,
    /// The answer, once placed (`orderId` = S's seller order id).
    pub answer: Value,
}

/// offernet's order id for a VTEX `marketplaceOrderId`: itself when it is 1 to 64 of
/// `[A-Za-z0-9_-]`, else `vx-` and 16 hex digits of its SHA-256.
pub fn order_id_of(marketplace_order_id: &str) -> String {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    if (1..=64).contains(&marketplace_order_id.len()) && marketplace_order_id.bytes().all(ok) {
        return marketplace_order_id.to_string();
    }
    format!("vx-{}", &hex(&Sha256::digest(marketplace_order_id.as_bytes()))[..16])
}

/// VTEX's `lockTTL` (`8d`, `12h`, `30m`) in minutes, capped by `MAX_RESERVATION_MINUTES`;
/// `None` for anything else.
pub fn lock_ttl_minutes(ttl: &str) -> Option<i64> {
    let digits = ttl.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 6 {
        return None;
    }
    let n: i64 = ttl[..digits].parse().ok()?;
    let minutes = match &ttl[digits..] {
        "d" => n * 24 * 60,
        "h" => n * 60,
        "m" => n,
        _ => return None,
    };
    Some(minutes.clamp(1, MAX_RESERVATION_MINUTES))
}

/// A JSON value with every object's keys sorted, written compactly: the same document always
/// gives the same text, so a retried placement gives the same SHA-256.
pub fn canonical(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect::<Map<_, _>>())
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            x => x.clone(),
        }
    }
    serde_json::to_string(&sorted(v)).expect("a JSON value serialises")
}

fn str_at<'a>(o: &'a Value, key: &str, path: &str) -> VtexResult<&'a str> {
    match o.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(VtexError::invalid_field(path, "required, a non-empty string")),
    }
}

/// Non-empty lists or non-null values of fields offernet offered none of in B1.
fn refuse_unsupported(item: &Value, i: usize) -> VtexResult<()> {
    for key in ["bundleItems", "attachments", "itemsAttachment"] {
        if item.get(key).and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            return Err(VtexError::unsupported(&format!("items[{i}].{key}"), "not offered by this seller"));
        }
    }
    if item.get("unitMultiplier").is_some_and(|m| !m.is_null() && m.as_f64() != Some(1.0)) {
        return Err(VtexError::unsupported(&format!("items[{i}].unitMultiplier"), "only 1 is offered"));
    }
    Ok(())
}

/// The parties of a placement: seller S (its id at V `remote_id`) at marketplace V.
pub struct Parties<'a> {
    pub seller: &'a str,
    pub remote_id: &'a str,
    pub marketplace: &'a str,
}

/// One order line: V's SKU bound to S's SKU `id`, the quantity, and what V charges.
fn line(engine: &Engine, p: &Parties, item: &Value, i: usize) -> VtexResult<(OrderItemBody, i64)> {
    let id = str_at(item, "id", &format!("items[{i}].id"))?;
    let seller = str_at(item, "seller", &format!("items[{i}].seller"))?;
    if seller != p.remote_id {
        return Err(VtexError::invalid_field(
            &format!("items[{i}].seller"),
            format!("`{seller}` is not this seller's id at the marketplace (`{}`)", p.remote_id),
        ));
    }
    let quantity = item.get("quantity").and_then(Value::as_i64);
    let quantity = quantity.ok_or_else(|| VtexError::invalid_field(&format!("items[{i}].quantity"), "an integer"))?;
    let price = match item.get("price") {
        None | Some(Value::Null) => offernet_core::validate::MAX_PRICE,
        Some(v) => v.as_i64().ok_or_else(|| VtexError::invalid_field(&format!("items[{i}].price"), "integer cents"))?,
    };
    refuse_unsupported(item, i)?;
    let offer = engine.offer_of_seller_sku(p.marketplace, p.seller, id).ok_or_else(|| {
        VtexError::not_found(format!("items[{i}].id: SKU `{id}` of this seller is not sold at this marketplace"))
    })?;
    let body =
        OrderItemBody { sku: Some(offer.sku.to_string()), quantity: Some(quantity), seller: Some(p.seller.into()) };
    Ok((body, price))
}

/// The reservation time `lockTTL` of `shippingData.logisticsInfo[0]` asks for; delivery
/// windows (never offered in a simulation) are refused.
fn logistics(shipping: Option<&Value>) -> VtexResult<Option<i64>> {
    let logistics = shipping.and_then(|s| s.get("logisticsInfo")).and_then(Value::as_array);
    for (i, l) in logistics.into_iter().flatten().enumerate() {
        if l.get("deliveryWindow").is_some_and(|w| !w.is_null()) {
            let field = format!("shippingData.logisticsInfo[{i}].deliveryWindow");
            return Err(VtexError::unsupported(&field, "delivery windows are not offered"));
        }
    }
    let field = "shippingData.logisticsInfo[0].lockTTL";
    match logistics.and_then(|l| l.first()).and_then(|l| l.get("lockTTL")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t)) => lock_ttl_minutes(t)
            .map(Some)
            .ok_or_else(|| VtexError::invalid_field(field, "a number then d, h or m (`8d`)")),
        Some(_) => Err(VtexError::invalid_field(field, "a string")),
    }
}

/// Maps one placement element (checked whole before any state is read where possible).
pub fn placement(engine: &Engine, p: &Parties, order: &Value, follow_up_email: Option<&str>) -> VtexResult<Placement> {
    if !order.is_object() {
        return Err(VtexError::invalid_json("each placement is a JSON object"));
    }
    let marketplace_order_id = str_at(order, "marketplaceOrderId", "marketplaceOrderId")?;
    let endpoint = str_at(order, "marketplaceServicesEndpoint", "marketplaceServicesEndpoint")?;
    let items = order.get("items").and_then(Value::as_array).filter(|a| !a.is_empty());
    let items = items.ok_or_else(|| VtexError::invalid_field("items", "required, a non-empty array"))?;
    if items.len() > offernet_core::orders::MAX_ORDER_ITEMS {
        return Err(VtexError::invalid_field("items", format!("at most {}", offernet_core::orders::MAX_ORDER_ITEMS)));
    }
    let shipping = order.get("shippingData").filter(|s| s.is_object());
    let address = shipping.and_then(|s| s.get("address")).filter(|a| a.is_object());
    address.ok_or_else(|| VtexError::invalid_field("shippingData.address", "required, an object"))?;
    let reservation_minutes = logistics(shipping)?;
    let mut lines = Vec::with_capacity(items.len());
    let mut max_prices = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let (l, price) = line(engine, p, item, i)?;
        lines.push(l);
        max_prices.push(price);
    }
    let order_id = order_id_of(marketplace_order_id);
    let document = json!({
        "marketplaceOrderId": marketplace_order_id,
        "marketplacePaymentValue": order.get("marketplacePaymentValue"),
        "items": items,
        "clientProfileData": order.get("clientProfileData"),
        "shippingData": shipping,
        "marketingData": order.get("marketingData"),
        "openTextField": order.get("openTextField"),
    });
    let document = canonical(&document);
    let sha256 = hex(&Sha256::digest(document.as_bytes()));
    let body = OrderBody {
        id: Some(order_id.clone()),
        items: Some(lines),
        reservation_minutes,
        max_prices: Some(max_prices),
        external_ref: Some(Box::new(ExternalRef {
            marketplace_order_id: Some(marketplace_order_id.to_string()),
            services_endpoint: Some(endpoint.to_string()),
        })),
        document_sha256: Some(sha256.clone()),
    };
    let mut answer = json!({
        "marketplaceOrderId": marketplace_order_id,
        "orderId": format!("{}.{order_id}", p.marketplace),
        "items": items,
        "clientProfileData": order.get("clientProfileData").cloned().unwrap_or(Value::Null),
        "shippingData": shipping.cloned().unwrap_or(Value::Null),
        "paymentData": null,
    });
    if let Some(email) = follow_up_email {
        answer["followUpEmail"] = json!(email);
    }
    Ok(Placement { order_id, body, document, sha256, answer })
}

/// `responseOrderPlacement` as the document describes it (the answer is built as JSON: the
/// request's items, profile and shipping data are echoed as sent).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = VtexPlacementAnswer)]
#[serde(rename_all = "camelCase")]
pub struct PlacementAnswer {
    pub marketplace_order_id: String,
    /// The seller's order id, `{marketplace}.{order}`.
    pub order_id: String,
    /// The seller's affiliation's `follow_up_email`; omitted when it has none.
    pub follow_up_email: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    #[schema(value_type = Object)]
    pub client_profile_data: Value,
    #[schema(value_type = Object)]
    pub shipping_data: Value,
    /// Always `null`: the marketplace takes payment.
    #[schema(value_type = Option<Object>, required = true)]
    pub payment_data: Option<Value>,
}

/// The answer in the request's container: one object, or an array of them.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = VtexPlacementAnswers)]
#[serde(untagged)]
pub enum PlacementAnswers {
    One(PlacementAnswer),
    Many(Vec<PlacementAnswer>),
}

/// The elements of a placement body: VTEX sends an array (its file says an object; both are
/// taken), and the answer uses the same container.
pub fn elements(body: &Value) -> VtexResult<(Vec<&Value>, bool)> {
    match body {
        Value::Array(a) if a.is_empty() => Err(VtexError::invalid_field("[]", "at least one order")),
        Value::Array(a) if a.len() > MAX_PLACEMENTS => {
            Err(VtexError::invalid_field("[]", format!("at most {MAX_PLACEMENTS} orders per request")))
        }
        Value::Array(a) => Ok((a.iter().collect(), true)),
        Value::Object(_) => Ok((vec![body], false)),
        _ => Err(VtexError::invalid_json("the body is an order placement object or an array of them")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_keep_vtex_ids_and_hash_the_rest() {
        assert_eq!(order_id_of("1138342255777-01"), "1138342255777-01");
        let long = "x".repeat(65);
        for odd in ["SLR-123.01", "a b", long.as_str()] {
            let id = order_id_of(odd);
            assert!(id.starts_with("vx-") && id.len() == 19, "{id}");
            assert_eq!(id, order_id_of(odd), "deterministic");
        }
    }

    #[test]
    fn lock_ttls_become_minutes_within_the_cap() {
        assert_eq!(lock_ttl_minutes("8d"), Some(8 * 24 * 60));
        assert_eq!(lock_ttl_minutes("12h"), Some(720));
        assert_eq!(lock_ttl_minutes("30m"), Some(30));
        assert_eq!(lock_ttl_minutes("0m"), Some(1));
        assert_eq!(lock_ttl_minutes("99d"), Some(MAX_RESERVATION_MINUTES));
        for bad in ["", "d", "8", "8w", "-1d", "8 d", "1234567d"] {
            assert_eq!(lock_ttl_minutes(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_text_ignores_key_order() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"d": [1, {"z": 0, "y": 1}], "c": null}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a": {"c": null, "d": [1, {"y": 1, "z": 0}]}, "b": 1}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(canonical(&a), r#"{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}"#);
    }
}
