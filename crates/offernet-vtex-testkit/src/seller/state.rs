//! The fake external seller's own state and logic: its SKU table (price, list price, stock
//! balance, shipping), the orders placed at it (deduplicated by `marketplaceOrderId`), and the
//! answers it gives, shaped as ESF's response examples.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use crate::record::Log;
use crate::serve::{now_iso, Credentials};

/// At most this many SKUs in the table and orders at the fake.
pub const MAX_SKUS: usize = 100_000;
pub const MAX_ORDERS: usize = 100_000;
/// The fake's first order id (ESF's placement answer example says `"orderId": "7890"`).
const FIRST_ORDER_ID: u64 = 7890;

/// One of the fake seller's shipping options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sla {
    pub id: String,
    pub name: String,
    /// Freight in cents.
    pub price: i64,
    /// VTEX's form: `3bd`, `2d`, `4h`, `30m`.
    pub shipping_estimate: String,
}

impl Sla {
    pub fn new(id: &str, price: i64, shipping_estimate: &str) -> Sla {
        Sla { id: id.into(), name: id.into(), price, shipping_estimate: shipping_estimate.into() }
    }
}

/// What the fake seller answers for one of its SKUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuOffer {
    /// Cents.
    pub price: i64,
    pub list_price: i64,
    /// Units it can still sell (placements take from it, cancels give back).
    pub stock_balance: i64,
    /// ISO 3166 alpha-3 countries it delivers to.
    pub ships_to: Vec<String>,
    pub slas: Vec<Sla>,
}

impl SkuOffer {
    /// A SKU at `price` (list price the same) with `stock_balance` units, shipping to BRA with
    /// one SLA `Normal` (10.00, `3bd`).
    pub fn new(price: i64, stock_balance: i64) -> SkuOffer {
        SkuOffer {
            price,
            list_price: price,
            stock_balance,
            ships_to: vec!["BRA".into()],
            slas: vec![Sla::new("Normal", 1000, "3bd")],
        }
    }

    /// ESF's simulation answer example: SKU `2000037` at 67203, 199 units.
    pub fn esf_example() -> SkuOffer {
        SkuOffer::new(67203, 199)
    }

    pub fn list_price(mut self, list_price: i64) -> SkuOffer {
        self.list_price = list_price;
        self
    }

    pub fn slas(mut self, slas: Vec<Sla>) -> SkuOffer {
        self.slas = slas;
        self
    }

    pub fn ships_to(mut self, countries: &[&str]) -> SkuOffer {
        self.ships_to = countries.iter().map(|c| c.to_string()).collect();
        self
    }
}

/// An order placed at the fake seller.
#[derive(Debug, Clone)]
pub struct SellerOrder {
    pub marketplace_order_id: String,
    /// The fake's own order id (`7890`, `7891`, …).
    pub order_id: String,
    /// (SKU id, quantity) per item.
    pub items: Vec<(String, i64)>,
    /// How many placement requests carried this `marketplaceOrderId` (retries included).
    pub placements: u32,
    pub dispatched: bool,
    pub cancelled: bool,
    /// The placement request (one order object) as first received.
    pub request: Value,
    answer: Value,
    fulfill_answer: Option<Value>,
    cancel_answer: Option<Value>,
}

/// A refusal: status and message (answered in VTEX's error body).
pub(crate) type Refusal = (u16, String);

pub(crate) struct SellerState<R> {
    pub(crate) table: BTreeMap<String, SkuOffer>,
    pub(crate) orders: Vec<SellerOrder>,
    by_marketplace_id: HashMap<String, usize>,
    pub(crate) log: Log<R>,
    pub(crate) credentials: Vec<Credentials>,
    pub(crate) follow_up_email: Option<String>,
}

impl<R: Copy + Eq + std::hash::Hash> SellerState<R> {
    pub(crate) fn new() -> SellerState<R> {
        SellerState {
            table: BTreeMap::new(),
            orders: Vec::new(),
            by_marketplace_id: HashMap::new(),
            log: Log::new(),
            credentials: Vec::new(),
            follow_up_email: None,
        }
    }

    /// The simulation answer: requested SKUs it has, in request order (`requestIndex`,
    /// `itemIndex` = index in the request); SLAs only with a postal code and a served country.
    pub(crate) fn simulate(&self, request: &Value) -> Value {
        let country = request["country"].as_str();
        let postal = request["postalCode"].as_str();
        let (mut items, mut logistics) = (Vec::new(), Vec::new());
        for (i, item) in request["items"].as_array().into_iter().flatten().enumerate() {
            let Some(offer) = item["id"].as_str().and_then(|id| self.table.get(id)) else { continue };
            let stock = offer.stock_balance.max(0);
            let quantity = item["quantity"].as_i64().unwrap_or(0).clamp(0, stock);
            let served = country.is_some_and(|c| offer.ships_to.iter().any(|s| s == c));
            let availability = match () {
                _ if stock == 0 => "withoutStock",
                _ if country.is_some() && !served => "cannotBeDelivered",
                _ => "available",
            };
            items.push(json!({"id": item["id"], "requestIndex": i, "quantity": quantity, "seller": item["seller"],
                "price": offer.price, "listPrice": offer.list_price, "priceValidUntil": null, "measurementUnit": "un",
                "unitMultiplier": 1, "merchantName": null, "offerings": [], "priceTags": [], "availability": availability}));
            let slas: Vec<Value> =
                if served && postal.is_some() { offer.slas.iter().map(sla_json).collect() } else { Vec::new() };
            logistics.push(json!({"itemIndex": i, "quantity": quantity, "shipsTo": offer.ships_to, "slas": slas,
                "stockBalance": stock, "deliveryChannels": [{"id": "delivery", "stockBalance": stock}]}));
        }
        json!({"country": country, "postalCode": postal, "items": items, "logisticsInfo": logistics, "allowMultipleDeliveries": true})
    }

    /// Places one order object; a `marketplaceOrderId` seen before gets the same answer.
    pub(crate) fn place(&mut self, order: &Value) -> Result<Value, Refusal> {
        let id = order["marketplaceOrderId"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or((400, "marketplaceOrderId is missing".to_string()))?;
        if let Some(&at) = self.by_marketplace_id.get(id) {
            self.orders[at].placements += 1;
            return Ok(self.orders[at].answer.clone());
        }
        if self.orders.len() >= MAX_ORDERS {
            return Err((400, format!("the fake holds {MAX_ORDERS} orders already")));
        }
        let mut items = Vec::new();
        let mut needed: BTreeMap<String, i64> = BTreeMap::new();
        for item in order["items"].as_array().into_iter().flatten() {
            let sku = item["id"].as_str().unwrap_or_default().to_string();
            let quantity = item["quantity"].as_i64().unwrap_or(0);
            if quantity <= 0 {
                return Err((400, format!("Item {sku}: quantity {quantity}")));
            }
            *needed.entry(sku.clone()).or_default() += quantity;
            items.push((sku, quantity));
        }
        if items.is_empty() {
            return Err((400, "the order has no items".into()));
        }
        for (sku, quantity) in &needed {
            let stock =
                self.table.get(sku).map(|o| o.stock_balance).ok_or((400, format!("Item {sku} is not available")))?;
            if *quantity > stock {
                return Err((400, format!("Item {sku}: {quantity} requested, {stock} available")));
            }
        }
        for (sku, quantity) in &items {
            if let Some(offer) = self.table.get_mut(sku) {
                offer.stock_balance -= quantity;
            }
        }
        let order_id = (FIRST_ORDER_ID + self.orders.len() as u64).to_string();
        let mut answer = json!({"marketplaceOrderId": id, "orderId": order_id, "items": order["items"],
            "clientProfileData": order["clientProfileData"], "shippingData": order["shippingData"], "paymentData": null});
        if let Some(email) = &self.follow_up_email {
            answer["followUpEmail"] = json!(email);
        }
        self.by_marketplace_id.insert(id.to_string(), self.orders.len());
        self.orders.push(SellerOrder {
            marketplace_order_id: id.to_string(),
            order_id,
            items,
            placements: 1,
            dispatched: false,
            cancelled: false,
            request: order.clone(),
            answer: answer.clone(),
            fulfill_answer: None,
            cancel_answer: None,
        });
        Ok(answer)
    }

    /// Authorises dispatch of the fake's order `order_id` (idempotent: the same answer again).
    pub(crate) fn fulfill(&mut self, order_id: &str, body: &Value) -> Result<Value, Refusal> {
        let order = self.order_for(order_id, body)?;
        if order.cancelled {
            return Err((409, format!("order {order_id} is cancelled")));
        }
        order.dispatched = true;
        let fresh = receipt(&order.marketplace_order_id, &order.order_id, "fulfill");
        Ok(order.fulfill_answer.get_or_insert(fresh).clone())
    }

    /// Cancels the fake's order `order_id`, giving its stock back (idempotent).
    pub(crate) fn cancel(&mut self, order_id: &str, body: &Value) -> Result<Value, Refusal> {
        let order = self.order_for(order_id, body)?;
        let first = !order.cancelled;
        order.cancelled = true;
        let fresh = receipt(&order.marketplace_order_id, &order.order_id, "cancel");
        let answer = order.cancel_answer.get_or_insert(fresh).clone();
        let items = order.items.clone();
        if first {
            for (sku, quantity) in items {
                if let Some(offer) = self.table.get_mut(&sku) {
                    offer.stock_balance += quantity;
                }
            }
        }
        Ok(answer)
    }

    fn order_for(&mut self, order_id: &str, body: &Value) -> Result<&mut SellerOrder, Refusal> {
        let order = self
            .orders
            .iter_mut()
            .find(|o| o.order_id == order_id)
            .ok_or((404, format!("order {order_id} not found")))?;
        match body["marketplaceOrderId"].as_str() {
            Some(m) if m == order.marketplace_order_id => Ok(order),
            other => Err((
                400,
                format!("marketplaceOrderId {other:?} is not order {order_id}'s ({})", order.marketplace_order_id),
            )),
        }
    }
}

fn sla_json(sla: &Sla) -> Value {
    json!({"id": sla.id, "deliveryChannel": "delivery", "name": sla.name, "price": sla.price,
        "shippingEstimate": sla.shipping_estimate, "availableDeliveryWindows": [], "pickupStoreInfo": null})
}

fn receipt(marketplace_order_id: &str, order_id: &str, what: &str) -> Value {
    json!({"date": now_iso(), "marketplaceOrderId": marketplace_order_id, "orderId": order_id, "receipt": format!("{what}-{order_id}")})
}
