//! B1, fulfillment simulation (ESF `requestFulfillmentSimulation` → `responseFulfillmentSimulation`,
//! vtex-compat.md §2.2): a read over committed state, never a command. Seller S answers VTEX
//! marketplace V with S's offer at V for each item it sells there, and S's shipping profile.
//! The stock rule holds on this surface: a gated forwarder's offer is not sellable, so it
//! answers `stockBalance 0`.

use offernet_core::{Engine, ShippingProfile};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{VtexError, VtexResult};

/// What the answer says for unlimited stock: VTEX has no "unlimited", and checkout only needs
/// more than any cart asks for.
pub const UNLIMITED_STOCK_BALANCE: u64 = 1_000_000;
/// Items per simulation, as offernet's own carts (`MAX_ORDER_ITEMS`).
pub const MAX_SIMULATION_ITEMS: usize = offernet_core::orders::MAX_ORDER_ITEMS;

/// One requested item; unknown fields are ignored (VTEX adds fields).
#[derive(Clone, Debug, Deserialize)]
pub struct SimulationItemRequest {
    /// The seller's SKU id.
    pub id: Option<String>,
    pub quantity: Option<i64>,
    /// The seller's id at the marketplace.
    pub seller: Option<String>,
}

/// `requestFulfillmentSimulation`: both `postalCode` and `country` absent or null is an
/// indexing simulation; both present a checkout simulation. `geoCoordinates`, `sc`,
/// `isCheckedIn` are read and ignored.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimulationRequest {
    pub items: Option<Vec<SimulationItemRequest>>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = VtexSimulationItem)]
#[serde(rename_all = "camelCase")]
pub struct SimulationItem {
    pub id: String,
    pub request_index: usize,
    pub quantity: u64,
    pub seller: String,
    pub price: i64,
    pub list_price: i64,
    #[schema(required = true)]
    pub price_valid_until: Option<String>,
    pub measurement_unit: &'static str,
    pub unit_multiplier: u32,
    /// `null`: the marketplace takes payment.
    #[schema(required = true)]
    pub merchant_name: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub offerings: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub price_tags: Vec<Value>,
    /// Not in ESF's schema, read by checkout and real connectors.
    pub availability: &'static str,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = VtexDeliveryChannel)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryChannel {
    pub id: &'static str,
    pub stock_balance: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = VtexSla)]
#[serde(rename_all = "camelCase")]
pub struct SlaAnswer {
    pub id: String,
    pub delivery_channel: &'static str,
    pub name: String,
    pub price: i64,
    pub shipping_estimate: String,
    #[schema(value_type = Vec<Object>)]
    pub available_delivery_windows: Vec<Value>,
    #[schema(value_type = Option<Object>, required = true)]
    pub pickup_store_info: Option<Value>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = VtexLogisticsInfo)]
#[serde(rename_all = "camelCase")]
pub struct LogisticsInfo {
    pub item_index: usize,
    pub quantity: u64,
    pub ships_to: Vec<String>,
    pub stock_balance: u64,
    pub delivery_channels: Vec<DeliveryChannel>,
    pub slas: Vec<SlaAnswer>,
}

/// `responseFulfillmentSimulation`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = VtexSimulationResponse)]
#[serde(rename_all = "camelCase")]
pub struct SimulationResponse {
    /// Echoed; `null` for an indexing simulation.
    #[schema(required = true)]
    pub country: Option<String>,
    #[schema(required = true)]
    pub postal_code: Option<String>,
    pub items: Vec<SimulationItem>,
    pub logistics_info: Vec<LogisticsInfo>,
    pub allow_multiple_deliveries: bool,
}

/// The parties of a simulation: seller account `seller` (whose id at the marketplace is
/// `remote_id`) answering marketplace account `marketplace`.
pub struct Parties<'a> {
    pub seller: &'a str,
    pub remote_id: &'a str,
    pub marketplace: &'a str,
}

/// Checks every item before anything is read (rule 39): 400 naming the VTEX field.
fn check_items(req: &SimulationRequest) -> VtexResult<&[SimulationItemRequest]> {
    let items = req.items.as_deref().ok_or_else(|| VtexError::invalid_field("items", "required"))?;
    if items.is_empty() || items.len() > MAX_SIMULATION_ITEMS {
        return Err(VtexError::invalid_field("items", format!("1 to {MAX_SIMULATION_ITEMS} items")));
    }
    for (i, it) in items.iter().enumerate() {
        if it.id.as_deref().is_none_or(str::is_empty) {
            return Err(VtexError::invalid_field(&format!("items[{i}].id"), "required"));
        }
        if it.seller.as_deref().is_none_or(str::is_empty) {
            return Err(VtexError::invalid_field(&format!("items[{i}].seller"), "required"));
        }
        let max = offernet_core::orders::MAX_ORDER_QUANTITY;
        if !it.quantity.is_some_and(|q| (1..=max).contains(&q)) {
            return Err(VtexError::invalid_field(&format!("items[{i}].quantity"), format!("an integer, 1 to {max}")));
        }
    }
    Ok(items)
}

/// The answer to a simulation, read from `engine` (committed state) and the seller's shipping
/// profile. Items the seller does not sell there (another seller id, no binding, no price) are
/// left out of `items` and `logisticsInfo`: VTEX reads absence as unavailable.
pub fn simulate(engine: &Engine, p: &Parties, req: &SimulationRequest) -> VtexResult<SimulationResponse> {
    let items = check_items(req)?;
    let checkout = match (req.postal_code.as_deref(), req.country.as_deref()) {
        (Some(pc), Some(c)) if !pc.is_empty() && !c.is_empty() => Some(c),
        _ => None,
    };
    let profile: ShippingProfile = engine.shipping_profile(p.seller).unwrap_or_default();
    let ships_to: Vec<String> = profile.ships_to.iter().map(|c| c.to_string()).collect();
    let served = checkout.is_some_and(|c| profile.ships_to(c));
    let mut out = SimulationResponse {
        country: req.country.clone(),
        postal_code: req.postal_code.clone(),
        items: Vec::new(),
        logistics_info: Vec::new(),
        allow_multiple_deliveries: true,
    };
    for (i, it) in items.iter().enumerate() {
        let (id, seller) = (it.id.as_deref().unwrap_or_default(), it.seller.as_deref().unwrap_or_default());
        if seller != p.remote_id {
            continue;
        }
        let Some(offer) = engine.offer_of_seller_sku(p.marketplace, p.seller, id) else { continue };
        let Some(price) = offer.price else { continue };
        let available = match (offer.sellable, offer.unlimited, offer.quantity) {
            (false, _, _) => 0,
            (true, true, _) => UNLIMITED_STOCK_BALANCE,
            (true, false, q) => q.unwrap_or(0).min(UNLIMITED_STOCK_BALANCE),
        };
        let quantity = (it.quantity.unwrap_or(1) as u64).min(available);
        let availability = match (available, checkout) {
            (0, _) => "withoutStock",
            (_, Some(_)) if !served => "cannotBeDelivered",
            _ => "available",
        };
        out.items.push(SimulationItem {
            id: id.to_string(),
            request_index: i,
            quantity,
            seller: seller.to_string(),
            price,
            list_price: offer.list_price.unwrap_or(price),
            price_valid_until: None,
            measurement_unit: "un",
            unit_multiplier: 1,
            merchant_name: None,
            offerings: Vec::new(),
            price_tags: Vec::new(),
            availability,
        });
        let slas = if served { profile.slas.iter().map(sla).collect() } else { Vec::new() };
        out.logistics_info.push(LogisticsInfo {
            item_index: i,
            quantity,
            ships_to: ships_to.clone(),
            stock_balance: available,
            delivery_channels: vec![DeliveryChannel { id: "delivery", stock_balance: available }],
            slas,
        });
    }
    Ok(out)
}

fn sla(s: &offernet_core::Sla) -> SlaAnswer {
    SlaAnswer {
        id: s.id.to_string(),
        delivery_channel: "delivery",
        name: s.name.to_string(),
        price: s.price,
        shipping_estimate: s.shipping_estimate.to_string(),
        available_delivery_windows: Vec::new(),
        pickup_store_info: None,
    }
}
