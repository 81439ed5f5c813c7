//! Read models: what the engine answers about its state, in the JSON shapes of api.md.
//! Reads never change state. Lists are sorted by id so answers are reproducible.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::*;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferView {
    pub seller: Arc<str>,
    pub seller_sku: Arc<str>,
    pub sku: Arc<str>,
    pub price: Option<i64>,
    pub list_price: Option<i64>,
    /// `None` (JSON `null`) when unlimited.
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub sellable: bool,
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub currency: Arc<str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockView {
    pub warehouse: Arc<str>,
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub reserved: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradePolicyPriceView {
    pub trade_policy: Arc<str>,
    pub price: i64,
    pub list_price: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuView {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub product_id: Option<Arc<str>>,
    pub brand: Option<Arc<str>>,
    pub category: Option<Arc<str>>,
    pub ean: Option<Arc<str>>,
    pub ref_id: Option<Arc<str>>,
    pub active: bool,
    pub price: Option<i64>,
    pub list_price: Option<i64>,
    pub trade_policy_prices: Vec<TradePolicyPriceView>,
    pub stock: Vec<StockView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestionView {
    pub seller: Arc<str>,
    pub seller_sku: Arc<str>,
    pub status: SuggestionStatus,
    /// The marketplace SKU it is bound to, when approved.
    pub sku: Option<Arc<str>>,
    /// The seller's SKU as it is now (rule 11).
    pub name: Arc<str>,
    pub product_id: Option<Arc<str>>,
    pub brand: Option<Arc<str>>,
    pub category: Option<Arc<str>>,
    pub ean: Option<Arc<str>>,
    pub ref_id: Option<Arc<str>>,
}

/// One seller SKU as one marketplace sees it, from the seller's side (rule 16).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentOfferView {
    pub marketplace: Arc<str>,
    pub seller_sku: Arc<str>,
    /// The suggestion's status, or `None` when the item was never sent.
    pub status: Option<SuggestionStatus>,
    pub sku: Option<Arc<str>>,
    pub price: Option<i64>,
    pub list_price: Option<i64>,
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub sellable: bool,
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainSource {
    pub account: Arc<str>,
    pub sku: Arc<str>,
    pub own: Option<u64>,
    pub third: Option<u64>,
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub included: bool,
    pub reasons: Vec<String>,
    pub sources: Vec<ExplainSource>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainPath {
    pub account: Arc<str>,
    pub sku: Arc<str>,
    pub own: Option<u64>,
    pub third: Option<u64>,
    pub gated: bool,
    pub price: Option<i64>,
    pub reasons: Vec<String>,
    pub sources: Vec<ExplainSource>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainOffer {
    pub seller: Arc<str>,
    pub seller_sku: Arc<str>,
    pub quantity: Option<u64>,
    pub unlimited: bool,
    pub sellable: bool,
    pub reasons: Vec<String>,
    pub path: ExplainPath,
}

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffiliationView {
    pub seller: Arc<str>,
    pub marketplace: Arc<str>,
    pub trade_policy: Arc<str>,
    pub active: bool,
    /// `"none"`, `"all"` or a list of account ids.
    pub resale: serde_json::Value,
    pub require_own_stock: bool,
}

/// A marketplace's half of a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationView {
    pub marketplace: Arc<str>,
    pub seller: Arc<str>,
    pub trade_policies: Vec<Arc<str>>,
    pub active: bool,
    pub match_mode: MatchMode,
    pub commission_bp: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradePolicyView {
    pub id: Arc<str>,
    pub name: Option<Arc<str>>,
    /// `"all"` or a list of SKU ids.
    pub assortment: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseView {
    pub id: Arc<str>,
    pub trade_policies: Vec<Arc<str>>,
}

mod read;
