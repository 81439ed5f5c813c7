//! Events: what changed, in order, each with a global sequence number.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::views::OfferView;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Global, gap-free, strictly increasing over the engine's life.
    pub seq: u64,
    /// The account this event is for (only it sees the event).
    pub account: Arc<str>,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventBody {
    /// An offer appeared (`offer` set), changed, or disappeared (`offer: null`).
    #[serde(rename = "offer.changed")]
    OfferChanged {
        marketplace: Arc<str>,
        sku: Arc<str>,
        seller: Arc<str>,
        seller_sku: Arc<str>,
        offer: Option<OfferView>,
    },
    #[serde(rename = "suggestion.created")]
    SuggestionCreated { marketplace: Arc<str>, seller: Arc<str>, seller_sku: Arc<str> },
    #[serde(rename = "suggestion.approved")]
    SuggestionApproved { marketplace: Arc<str>, seller: Arc<str>, seller_sku: Arc<str>, sku: Arc<str> },
    #[serde(rename = "suggestion.denied")]
    SuggestionDenied { marketplace: Arc<str>, seller: Arc<str>, seller_sku: Arc<str> },
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::OfferChanged { .. } => "offer.changed",
            EventBody::SuggestionCreated { .. } => "suggestion.created",
            EventBody::SuggestionApproved { .. } => "suggestion.approved",
            EventBody::SuggestionDenied { .. } => "suggestion.denied",
        }
    }
}
