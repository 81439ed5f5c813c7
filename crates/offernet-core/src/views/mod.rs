//! Read models: what the engine answers about its state, in the JSON shapes of api.md.
//! Reads never change state. Lists are sorted by id so answers are reproducible.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::*;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Offer))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferView {
    pub seller: Arc<str>,
    pub seller_sku: Arc<str>,
    pub sku: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub list_price: Option<i64>,
    /// `None` (JSON `null`) when unlimited.
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub sellable: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::model::Reason>))]
    pub reasons: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Account))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub currency: Arc<str>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SkuStock))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockView {
    pub warehouse: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub reserved: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = TradePolicyPrice))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradePolicyPriceView {
    pub trade_policy: Arc<str>,
    pub price: i64,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub list_price: Option<i64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Sku))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuView {
    pub id: Arc<str>,
    pub name: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub product_id: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub brand: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub category: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ean: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ref_id: Option<Arc<str>>,
    pub active: bool,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub list_price: Option<i64>,
    pub trade_policy_prices: Vec<TradePolicyPriceView>,
    pub stock: Vec<StockView>,
    /// Content for channels, as last written (`null`, `[]` and `null` when not given).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub description: Option<Arc<str>>,
    pub images: Vec<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub dimensions: Option<DimensionsView>,
}

/// A SKU's measures: sizes in centimetres, weight in grams, to two decimal places; `null` for
/// a measure not given.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SkuDimensions))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionsView {
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<f64>))]
    pub height_cm: Option<serde_json::Number>,
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<f64>))]
    pub width_cm: Option<serde_json::Number>,
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<f64>))]
    pub length_cm: Option<serde_json::Number>,
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<f64>))]
    pub weight_g: Option<serde_json::Number>,
}

impl DimensionsView {
    pub fn of(d: &Dimensions) -> DimensionsView {
        DimensionsView {
            height_cm: d.height_cm.map(Centi::number),
            width_cm: d.width_cm.map(Centi::number),
            length_cm: d.length_cm.map(Centi::number),
            weight_g: d.weight_g.map(Centi::number),
        }
    }
}

/// A SKU's price and list price, and the trade policies' fixed prices (minor units).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Price))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceView {
    pub sku: Arc<str>,
    /// The base price; `null` until one is set.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub list_price: Option<i64>,
    pub trade_policy_prices: Vec<TradePolicyPriceView>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Suggestion))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestionView {
    pub seller: Arc<str>,
    pub seller_sku: Arc<str>,
    pub status: SuggestionStatus,
    /// The marketplace SKU it is bound to, when approved.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub sku: Option<Arc<str>>,
    /// The seller's SKU as it is now (rule 11).
    pub name: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub product_id: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub brand: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub category: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ean: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ref_id: Option<Arc<str>>,
    /// While pending: the marketplace SKUs the matcher finds for it (rule 8: same GTIN, else
    /// same `ref_id` and brand) that no other SKU of this seller is bound to, sorted by id; the
    /// SKUs an approval into an existing SKU would most likely name. Empty otherwise.
    pub candidates: Vec<Arc<str>>,
}

/// One seller SKU as one marketplace sees it, from the seller's side (rule 16).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SentOffer))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentOfferView {
    pub marketplace: Arc<str>,
    pub seller_sku: Arc<str>,
    /// The suggestion's status, or `None` when the item was never sent.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status: Option<SuggestionStatus>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub sku: Option<Arc<str>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub list_price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub sellable: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::model::Reason>))]
    pub reasons: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainSource {
    pub account: Arc<str>,
    pub sku: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub own: Option<u64>,
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub third: Option<u64>,
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub included: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::model::Reason>))]
    pub reasons: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub sources: Vec<ExplainSource>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainPath {
    pub account: Arc<str>,
    pub sku: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub own: Option<u64>,
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub third: Option<u64>,
    pub gated: bool,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::model::Reason>))]
    pub reasons: Vec<String>,
    pub sources: Vec<ExplainSource>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainOffer {
    pub seller: Arc<str>,
    pub seller_sku: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(required = true, maximum = 9007199254740991i64))]
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub sellable: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::model::Reason>))]
    pub reasons: Vec<String>,
    pub path: ExplainPath,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explain {
    pub marketplace: Arc<str>,
    pub sku: Arc<str>,
    pub offers: Vec<ExplainOffer>,
}

/// Filters of the offer list of a marketplace.
#[derive(Clone, Debug, Default)]
pub struct OfferFilter<'a> {
    pub seller: Option<&'a str>,
    pub sellable: Option<bool>,
}

/// A seller's half of a connection.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Affiliation))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffiliationView {
    pub seller: Arc<str>,
    pub marketplace: Arc<str>,
    pub trade_policy: Arc<str>,
    pub active: bool,
    pub resale: ResaleView,
    pub require_own_stock: bool,
    /// The seller's id at an external (VTEX) marketplace, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_seller_id: Option<Arc<str>>,
    /// What the external (VTEX) marketplace's customers are told to write to (B2's
    /// `followUpEmail`), when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_email: Option<Arc<str>>,
}

/// A marketplace's half of a connection.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Registration))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationView {
    pub marketplace: Arc<str>,
    pub seller: Arc<str>,
    pub trade_policies: Vec<Arc<str>>,
    pub active: bool,
    pub match_mode: MatchMode,
    pub commission_bp: u16,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = TradePolicy))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradePolicyView {
    pub id: Arc<str>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub name: Option<Arc<str>>,
    pub assortment: AssortmentView,
    /// The link to a SKU's page on this trade policy's channel, `{sku}` standing for the id.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub product_url: Option<Arc<str>>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Warehouse))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseView {
    pub id: Arc<str>,
    pub trade_policies: Vec<Arc<str>>,
}

/// Who may resell the seller's items through this marketplace: `"none"`, `"all"`, or the
/// accounts listed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResaleView {
    Word(ResaleWord),
    Accounts(Vec<Arc<str>>),
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResaleWord {
    None,
    All,
}

/// The SKUs a trade policy offers: `"all"`, or the SKU ids listed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AssortmentView {
    Word(AllWord),
    Skus(Vec<Arc<str>>),
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllWord {
    All,
}

mod external;
mod lists;
mod network;
mod read;
mod tokens;

pub use lists::*;
pub use network::{ConnectionView, MAX_NETWORK_DEPTH};
pub use tokens::TokenView;
