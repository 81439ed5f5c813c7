//! A1 as a quote refresh (vtex-compat.md §2.4): the indexing simulation offernet sends an
//! external seller E for up to 50 of its SKUs, and what E's answer means as quotes
//! (`ApplySellerQuotes`). Pure: no IO, no clock.

use std::sync::Arc;

use offernet_core::validate::{MAX_PRICE, MAX_QUANTITY};
use offernet_core::QuoteBody;
use serde_json::{json, Value};

use crate::lifecycle::parse_iso_ms;

/// Where and how offernet asks E: its fulfillment endpoint and the query VTEX appends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// E's `fulfillment_endpoint` (`https://e.example/api/fulfillment`).
    pub base: Arc<str>,
    /// E's trade policy offernet buys under (VTEX `sc`).
    pub sales_channel: Arc<str>,
    /// offernet's affiliate id at E (VTEX `affiliateId`), when configured.
    pub affiliate_id: Option<Arc<str>>,
}

impl Endpoint {
    /// `{fe}/pvt/orderForms/simulation?sc=…[&affiliateId=…]`. Both values are checked by the
    /// integration (`[A-Za-z0-9._-]`, three capitals), so they need no escaping.
    pub fn simulation_url(&self) -> String {
        let mut url = format!("{}/pvt/orderForms/simulation?sc={}", self.base, self.sales_channel);
        if let Some(a) = &self.affiliate_id {
            url.push_str("&affiliateId=");
            url.push_str(a);
        }
        url
    }
}

/// The indexing simulation (ESF `requestFulfillmentSimulation` without an address): each SKU
/// with `quantity 1` and `seller` = E's id at the marketplace (its account id).
pub fn simulation_request(seller: &str, skus: &[Arc<str>]) -> Value {
    let items: Vec<Value> = skus.iter().map(|s| json!({"id": s, "quantity": 1, "seller": seller})).collect();
    json!({"items": items, "postalCode": null, "country": null})
}

/// The quotes E's answer gives for `skus` (the request's items, in order): a SKU present with
/// a price → its price, its list price (when not below the price: VTEX sends a list price
/// lower than the price now and then, and the engine refuses one), its stock balance
/// (`logisticsInfo[itemIndex].stockBalance`, else the item's `quantity`) and its
/// `priceValidUntil`; a SKU absent, or without a price (`0`, none, or `nullPrice`) → available
/// 0 with the price kept.
pub fn quotes_from_answer(skus: &[Arc<str>], answer: &Value) -> Vec<QuoteBody> {
    let items = answer["items"].as_array().map(Vec::as_slice).unwrap_or_default();
    let logistics = answer["logisticsInfo"].as_array().map(Vec::as_slice).unwrap_or_default();
    skus.iter()
        .enumerate()
        .map(|(i, sku)| {
            let item = items
                .iter()
                .find(|it| it["requestIndex"].as_u64() == Some(i as u64) && it["id"].as_str() == Some(sku))
                .or_else(|| items.iter().find(|it| it["id"].as_str() == Some(sku)));
            let li = logistics.iter().find(|l| l["itemIndex"].as_u64() == Some(i as u64));
            item.and_then(|it| quote(sku, it, li)).unwrap_or_else(|| QuoteBody {
                sku: sku.to_string(),
                price: None,
                list_price: None,
                available: 0,
                valid_until_ms: None,
            })
        })
        .collect()
}

/// One SKU's quote, when its item has a price.
fn quote(sku: &str, item: &Value, logistics: Option<&Value>) -> Option<QuoteBody> {
    let price = item["price"].as_i64().filter(|&p| p > 0 && p <= MAX_PRICE)?;
    if item["availability"].as_str() == Some("nullPrice") {
        return None;
    }
    let list_price = item["listPrice"].as_i64().filter(|&l| l >= price && l <= MAX_PRICE);
    let balance = logistics.and_then(|l| l["stockBalance"].as_i64()).or_else(|| item["quantity"].as_i64());
    let available = match item["availability"].as_str() {
        Some("withoutStock") => 0,
        _ => balance.unwrap_or(0).clamp(0, MAX_QUANTITY),
    };
    let valid_until_ms = item["priceValidUntil"].as_str().and_then(parse_iso_ms);
    Some(QuoteBody { sku: sku.to_string(), price: Some(price), list_price, available, valid_until_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &[&str]) -> Vec<Arc<str>> {
        v.iter().map(|s| Arc::from(*s)).collect()
    }

    #[test]
    fn the_request_is_an_indexing_simulation_of_one_unit_each() {
        let r = simulation_request("e", &keys(&["a", "b"]));
        assert_eq!(
            r,
            json!({"items": [{"id": "a", "quantity": 1, "seller": "e"}, {"id": "b", "quantity": 1, "seller": "e"}],
                "postalCode": null, "country": null})
        );
        let mut ep = Endpoint {
            base: "https://e.example/api/fulfillment".into(),
            sales_channel: "1".into(),
            affiliate_id: None,
        };
        assert_eq!(ep.simulation_url(), "https://e.example/api/fulfillment/pvt/orderForms/simulation?sc=1");
        ep.affiliate_id = Some("OFN".into());
        assert!(ep.simulation_url().ends_with("?sc=1&affiliateId=OFN"));
    }

    #[test]
    fn an_answer_maps_to_quotes_and_what_it_leaves_out_to_zero() {
        // ESF's answer example shape: SKU at request index 1 answered, 0 and 2 not.
        let answer = json!({"country": null, "postalCode": null, "allowMultipleDeliveries": true,
            "items": [
                {"id": "b", "requestIndex": 1, "quantity": 1, "seller": "e", "price": 67203, "listPrice": 67203,
                 "priceValidUntil": "2026-12-02T10:00:00.5Z", "availability": "available"},
                {"id": "c", "requestIndex": 2, "quantity": 1, "price": 0, "listPrice": 0, "availability": "nullPrice"}],
            "logisticsInfo": [{"itemIndex": 1, "quantity": 1, "stockBalance": 199, "slas": []},
                {"itemIndex": 2, "quantity": 0, "stockBalance": 5, "slas": []}]});
        let q = quotes_from_answer(&keys(&["a", "b", "c"]), &answer);
        let none =
            |s: &str| QuoteBody { sku: s.into(), price: None, list_price: None, available: 0, valid_until_ms: None };
        assert_eq!(q[0], none("a"), "absent");
        assert_eq!(
            q[1],
            QuoteBody {
                sku: "b".into(),
                price: Some(67203),
                list_price: Some(67203),
                available: 199,
                valid_until_ms: Some(parse_iso_ms("2026-12-02T10:00:00.500Z").unwrap())
            }
        );
        assert_eq!(q[2], none("c"), "no price");
    }

    #[test]
    fn a_list_price_below_the_price_and_odd_stock_are_tamed() {
        let answer = json!({"items": [
            {"id": "a", "requestIndex": 0, "quantity": 3, "price": 500, "listPrice": 400},
            {"id": "b", "requestIndex": 1, "quantity": 1, "price": 500, "availability": "withoutStock"},
            {"id": "c", "requestIndex": 2, "quantity": 1, "price": 500}],
            "logisticsInfo": [{"itemIndex": 1, "stockBalance": 7}, {"itemIndex": 2, "stockBalance": -4}]});
        let q = quotes_from_answer(&keys(&["a", "b", "c"]), &answer);
        assert_eq!((q[0].list_price, q[0].available), (None, 3), "no logistics: the item's quantity");
        assert_eq!((q[1].price, q[1].available), (Some(500), 0));
        assert_eq!(q[2].available, 0);
    }

    #[test]
    fn iso_dates_parse_as_vtex_writes_them() {
        assert_eq!(parse_iso_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso_ms("2026-12-01T16:34:51.123Z"), Some(1_796_142_891_123));
        assert_eq!(parse_iso_ms("2026-12-01T16:34:51.1234567"), Some(1_796_142_891_123));
        assert_eq!(parse_iso_ms("2026-12-01T18:34:51+02:00"), Some(1_796_142_891_000));
        assert_eq!(parse_iso_ms("2014-03-01T22:58:28.143"), Some(1_393_714_708_143));
        for bad in ["", "2026-13-01T00:00:00Z", "2026-12-01", "2026-12-01T00:00:00+0200", "1969-12-31T23:59:59Z", "x"] {
            assert_eq!(parse_iso_ms(bad), None, "{bad}");
        }
        let back = crate::lifecycle::iso_date(1_796_142_891_123);
        assert_eq!(parse_iso_ms(&back), Some(1_796_142_891_123));
    }
}
