//! The requests of A2–A4 (vtex-compat.md §2.4) and the reading of their answers, pure: from an
//! effect the engine owes ([`ExternalEffect`]) and the order's document to VTEX bodies, and from
//! VTEX answers to what is recorded. No IO here (`mod.rs` calls, `place.rs` sequences A2).

use offernet_core::{ExternalEffect, ExternalOutcome};
use serde_json::{json, Value};

/// Who receives the order and where, from its document: a `/v1` order's `delivery`, or the
/// VTEX marketplace's own placement (`clientProfileData`, `shippingData.address`).
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// VTEX `clientProfileData`.
    pub client: Value,
    /// VTEX `shippingData.address`.
    pub address: Value,
    pub postal_code: String,
    pub country: String,
    /// The shipping option the buyer chose, if any.
    pub sla: Option<String>,
}

/// The delivery of a stored document; `None` when it has no usable address.
pub fn delivery_of(document: &Value) -> Option<Delivery> {
    if let Some(d) = document.get("delivery") {
        let c = &d["customer"];
        let a = &d["address"];
        let mut client = json!({"email": c["email"], "firstName": c["first_name"], "lastName": c["last_name"],
            "documentType": c["document_type"], "document": c["document"], "isCorporate": false});
        if let Some(p) = c.get("phone").filter(|p| p.is_string()) {
            client["phone"] = p.clone();
        }
        let mut address = json!({"addressType": "residential", "receiverName": a["receiver_name"],
            "postalCode": a["postal_code"], "city": a["city"], "state": a["state"], "country": a["country"],
            "street": a["street"], "number": a["number"], "neighborhood": a["neighborhood"],
            "complement": a.get("complement").cloned().unwrap_or(Value::Null)});
        if address["receiverName"].is_null() {
            address["receiverName"] = json!("");
        }
        return Some(Delivery {
            postal_code: a["postal_code"].as_str()?.to_string(),
            country: a["country"].as_str()?.to_string(),
            sla: d["sla"].as_str().map(str::to_string),
            client,
            address,
        });
    }
    let address = document.pointer("/shippingData/address")?.clone();
    Some(Delivery {
        postal_code: address["postalCode"].as_str()?.to_string(),
        country: address["country"].as_str()?.to_string(),
        sla: document.pointer("/shippingData/logisticsInfo/0/selectedSla").and_then(Value::as_str).map(str::to_string),
        client: document.get("clientProfileData").cloned().unwrap_or(Value::Null),
        address,
    })
}

/// `{fe}{path}` with `?sc=` (the sales channel) and `&affiliateId=` when configured.
pub fn url(x: &ExternalEffect, path: &str) -> Option<String> {
    let fe = x.fulfillment_endpoint.as_deref()?;
    let mut u = format!("{fe}{path}?sc={}", x.sales_channel.as_deref().unwrap_or("1"));
    if let Some(a) = &x.affiliate_id {
        u.push_str(&format!("&affiliateId={a}"));
    }
    Some(u)
}

/// A1 before a placement: a checkout simulation of the sub order's lines at the address.
pub fn check_simulation(x: &ExternalEffect, d: &Delivery) -> Value {
    let items: Vec<Value> =
        x.lines.iter().map(|l| json!({"id": l.sku, "quantity": l.quantity, "seller": x.seller})).collect();
    json!({"items": items, "postalCode": d.postal_code, "country": d.country})
}

/// One SLA the seller offers for an item.
#[derive(Clone, Debug, PartialEq)]
pub struct ChosenSla {
    pub id: String,
    pub price: i64,
    pub shipping_estimate: String,
}

/// `3bd`, `2d`, `4h`, `30m` in minutes (a business day as a day); unknown forms last.
fn estimate_minutes(e: &str) -> u64 {
    let digits = e.bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = e[..digits].parse().unwrap_or(u64::MAX / 2000);
    match &e[digits..] {
        "bd" | "d" => n * 1440,
        "h" => n * 60,
        "m" => n,
        _ => u64::MAX,
    }
}

/// What the simulation says of the sub order: the SLA of each line (the buyer's choice if
/// offered, else the cheapest, then the fastest, then the smallest id), or the refusal code.
/// Without `stock`, short or absent items are not refused (a withdrawal: the seller may hold
/// the units in the very order being withdrawn).
pub fn read_simulation(
    x: &ExternalEffect,
    d: &Delivery,
    answer: &Value,
    stock: bool,
) -> Result<Vec<ChosenSla>, &'static str> {
    let items = answer["items"].as_array().map(Vec::as_slice).unwrap_or_default();
    let logistics = answer["logisticsInfo"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut out = Vec::with_capacity(x.lines.len());
    for (i, line) in x.lines.iter().enumerate() {
        let item = items.iter().find(|it| it["requestIndex"].as_u64() == Some(i as u64) || it["id"] == *line.sku);
        let short = item.is_none_or(|it| {
            it["quantity"].as_u64().unwrap_or(0) < line.quantity || it["availability"].as_str() == Some("withoutStock")
        });
        if stock && short {
            return Err("insufficient_stock");
        }
        let li = logistics.iter().find(|l| l["itemIndex"].as_u64() == Some(i as u64));
        let slas: Vec<ChosenSla> = li
            .and_then(|l| l["slas"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|s| {
                Some(ChosenSla {
                    id: s["id"].as_str()?.to_string(),
                    price: s["price"].as_i64().unwrap_or(0),
                    shipping_estimate: s["shippingEstimate"].as_str().unwrap_or_default().to_string(),
                })
            })
            .collect();
        let wanted = d.sla.as_deref().and_then(|w| slas.iter().find(|s| s.id == w));
        let chosen = wanted.or_else(|| {
            slas.iter().min_by(|a, b| {
                (a.price, estimate_minutes(&a.shipping_estimate), &a.id).cmp(&(
                    b.price,
                    estimate_minutes(&b.shipping_estimate),
                    &b.id,
                ))
            })
        });
        out.push(chosen.cloned().ok_or("cannot_be_delivered")?);
    }
    Ok(out)
}

/// A2: the placement, a one-element array as VTEX sends it.
pub fn placement(x: &ExternalEffect, d: &Delivery, slas: &[ChosenSla], public_url: &str, now_ms: u64) -> Value {
    let items: Vec<Value> = x
        .lines
        .iter()
        .map(|l| {
            json!({"id": l.sku, "quantity": l.quantity, "seller": x.seller, "price": l.price, "commission": 0,
                "freightCommission": 0, "priceTags": [], "measurementUnit": "un", "unitMultiplier": 1, "isGift": false,
                "bundleItems": [], "attachments": []})
        })
        .collect();
    let days = x.expires_ms.saturating_sub(now_ms).div_ceil(86_400_000).max(1);
    let logistics: Vec<Value> = slas
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({"itemIndex": i, "selectedSla": s.id, "price": s.price, "shippingEstimate": s.shipping_estimate,
                "lockTTL": format!("{days}d"), "deliveryWindow": null})
        })
        .collect();
    let goods: i64 = x.lines.iter().map(|l| l.price.saturating_mul(l.quantity as i64)).sum();
    let freight: i64 = slas.iter().map(|s| s.price).sum();
    json!([{
        "marketplaceOrderId": x.id,
        "marketplaceServicesEndpoint": format!("{}/vtex/{}/api/oms", public_url.trim_end_matches('/'), x.buyer),
        "marketplacePaymentValue": goods.saturating_add(freight),
        "items": items,
        "clientProfileData": d.client,
        "shippingData": {"address": d.address, "logisticsInfo": logistics},
        "paymentData": null,
        "marketingData": null,
    }])
}

/// What a 2xx placement answer records: placed under the seller's `orderId` (of the element
/// for this sub order), or `None` when the answer does not say (tried again).
pub fn read_placement(x: &ExternalEffect, answer: &Value) -> Option<ExternalOutcome> {
    let one = match answer {
        Value::Array(a) => a.iter().find(|o| o["marketplaceOrderId"] == *x.id).or(a.first())?,
        o => o,
    };
    let id = match &one["orderId"] {
        Value::String(s) if !s.is_empty() => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(ExternalOutcome::Placed { order_id: id })
}

/// A3: `{marketplaceOrderId, marketplaceOrderGroup}` (the connector guide's fulfil body).
pub fn fulfill(x: &ExternalEffect) -> Value {
    json!({"marketplaceOrderId": x.id, "marketplaceOrderGroup": x.order})
}

/// A4: the cancel, its request id derived (a retry sends the same), dated when the order
/// closed.
pub fn cancel(x: &ExternalEffect) -> Value {
    let id = crate::digest32(&x.id);
    let reason = if x.expired { "reservation expired" } else { "cancelled by the marketplace" };
    json!({"marketplaceOrderId": x.id, "marketplaceOrderGroup": x.order, "cancellationRequestId": id,
        "cancellationRequestDate": crate::lifecycle::iso_date(x.closed_ms.unwrap_or(0)), "reason": reason, "requestedByUser": false})
}

/// Whether a cancel answer accepts it: a receipt (an empty body, or none, means "still
/// evaluating": ask again later).
pub fn cancel_accepted(answer: Option<&Value>) -> bool {
    answer.is_some_and(|a| a["receipt"].as_str().is_some_and(|r| !r.is_empty()))
}

#[cfg(test)]
#[path = "bodies_tests.rs"]
mod tests;
