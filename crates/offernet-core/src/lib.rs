//! offernet-core: the offer-network engine.
//!
//! A pure, deterministic state machine: [`Engine::apply`] takes a [`Command`] and returns
//! the [`Event`]s it caused, or a [`DomainError`] and no change at all. It holds the ground
//! state (accounts, catalogs, stock, prices, trade policies, connections, suggestions,
//! bindings) and the offers derived from it, kept equal to a from-scratch recomputation
//! after every command. No IO, no clock, no randomness, no async.

pub mod accounts;
mod catalog;
pub mod command;
mod connect;
mod derive;
pub mod engine;
pub mod error;
pub mod event;
pub mod feed;
mod fx;
pub mod gtin;
pub mod import;
pub mod integration;
mod intern;
mod memory;
pub mod model;
pub mod orders;
mod reference;
mod resolve;
mod settle;
pub mod shipping;
pub mod snapshot;
mod state;
mod suggest;
pub mod validate;
pub mod views;
pub mod webhooks;

pub use accounts::{AccountPatchBody, INITIAL_TOKEN_ID, MAX_TOKENS_PER_ACCOUNT};
pub use catalog::{price_body, stock_body, warehouse_body};
pub use command::*;
pub use derive::{Eval, SourceTree};
pub use engine::{Engine, EngineConfig, DEFAULT_MAX_CHAIN, MAX_CHAIN_LIMIT, MIN_CHAIN_LIMIT, RULES_VERSION};
pub use error::{DomainError, Missing};
pub use event::{Event, EventBody, ExternalOrderEvent, OrderEvent, OrderEventKind};
pub use feed::{Availability, FeedChannel, FeedChunk, FeedEntry, FeedIssue, FeedItem, Money, MAX_FEED_CHUNK_SKUS};
pub use import::{ImportCounts, ImportErrors, ImportLine, LineError, MAX_IMPORT_ERRORS, MAX_IMPORT_LINES};
pub use integration::{
    DefaultDimensionsBody, IntegrationBody, IntegrationView, QuoteBody, QuoteView, MAX_QUOTES_PER_COMMAND,
    VTEX_WAREHOUSE,
};
pub use memory::MemoryUse;
pub use model::{OfferState, Qty, Reason, Reasons, SuggestionStatus, MAX_SHOWN_QUANTITY};
pub use orders::{
    check_delivery, DeliveryBody, DocumentAccess, DocumentRef, Effect, ExternalEffect, ExternalEffectKind,
    ExternalOutcome, ExternalRef, ExternalState, ExternalView, Invoice, InvoiceBody, OrderAnswer, OrderBody,
    OrderItemBody, OrderItemView, OrderRequest, OrderSettingsBody, OrderStatus, OrderView, OutboundCall,
    OutboundOutcome, PendingOutbound, SimulationItem, SimulationOffer, SubItemView, SubOrderView,
};
pub use reference::OfferKey;
pub use resolve::Resolved;
pub use shipping::{ShippingBody, ShippingProfile, Sla, SlaBody};
pub use views::*;
pub use webhooks::{WebhookBody, WebhookTarget, WebhookView, MAX_WEBHOOKS_PER_ACCOUNT};
