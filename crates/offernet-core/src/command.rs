//! Commands: the only way to change the engine's ground state. They are plain data (serde),
//! so the journal can store them and replay them; the engine validates every field when it
//! applies one, whatever its source.
//!
//! Request bodies refuse unknown fields. Optional fields are `Option`: absent and `null`
//! both mean "not given" (domain rule 22), and the engine refuses empty strings itself.

use serde::{Deserialize, Serialize};

/// `"all"`/`"none"` or a list of ids: the JSON shape of assortments and resale lists.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WordOrList {
    Word(String),
    List(Vec<String>),
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 1000))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub product_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub brand: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub category: Option<String>,
    #[cfg_attr(feature = "openapi", schema(pattern = "^([0-9]{8}|[0-9]{12,14})$"))]
    pub ean: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub ref_id: Option<String>,
    pub active: Option<bool>,
    /// Content for channels: never read by derivation. Several lines of text allowed (line
    /// feeds and tabs, no other control characters), at most 10,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 10000))]
    pub description: Option<String>,
    /// Up to 10 image URLs, each `https://` with a host, at most 2,048 characters of printable
    /// ASCII (percent-encode the rest); the first is the main image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 10, value_type = Option<Vec<HttpsUrl>>))]
    pub images: Option<Vec<String>>,
    /// Measures of the packed item; `{}` is the same as none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<DimensionsBody>,
}

/// An `https://` URL with a host name (DNS labels, or an IPv4 address; no user or password)
/// and optional port, then a path, query or fragment of printable ASCII.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(
    max_length = 2048,
    pattern = "^https://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:([0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][!-~]*)?$"
)]
pub struct HttpsUrl(pub String);

/// A SKU's measures, each a non-negative number (decimals kept to two places, rounded half
/// away from zero), each optional: sizes in centimetres up to 10,000, weight in grams up to
/// 100,000,000.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Dimensions))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionsBody {
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>, minimum = 0, maximum = 10000))]
    pub height_cm: Option<serde_json::Number>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>, minimum = 0, maximum = 10000))]
    pub width_cm: Option<serde_json::Number>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>, minimum = 0, maximum = 10000))]
    pub length_cm: Option<serde_json::Number>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>, minimum = 0, maximum = 100000000))]
    pub weight_g: Option<serde_json::Number>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradePolicyBody {
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false))]
    pub assortment: Option<WordOrList>,
    /// The link to a SKU's page on this trade policy's channel: an https URL (as `images`)
    /// with `{sku}` after the host, replaced by the SKU id (`https://shop.example/p/{sku}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = "^https://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:([0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?[/?#][!-~]*\\{sku\\}[!-~]*$"
        )
    )]
    pub product_url: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseBody {
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub trade_policies: Option<Vec<String>>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockBody {
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000000i64))]
    pub quantity: Option<i64>,
    pub unlimited: Option<bool>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBody {
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, nullable = false, minimum = 0, maximum = 1000000000000000i64)
    )]
    pub price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000000000i64))]
    pub list_price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub trade_policy: Option<String>,
}

/// The seller's half. For `PUT`, omitted fields take their defaults; for `PATCH`, only the
/// given fields change (and `trade_policy` is then optional too).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffiliationBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub trade_policy: Option<String>,
    pub active: Option<bool>,
    pub resale: Option<WordOrList>,
    pub require_own_stock: Option<bool>,
    /// The seller's id at an external (VTEX) marketplace, where it differs from its account
    /// id: what that marketplace sends as `seller` (vtex-compat.md §2.1 item 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,50}$"))]
    pub remote_seller_id: Option<String>,
    /// Where the external (VTEX) marketplace's customers write about their orders with this
    /// seller: B2's `followUpEmail` (vtex-compat.md §2.2). An address `name@domain`, printable
    /// ASCII, at most 254 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 254, pattern = "^[!-?A-~]+@[!-?A-~]+$"))]
    pub follow_up_email: Option<String>,
}

/// The marketplace's half. Same `PUT`/`PATCH` reading as [`AffiliationBody`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerBody {
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub trade_policies: Option<Vec<String>>,
    pub active: Option<bool>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::model::MatchMode>))]
    pub match_mode: Option<String>,
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10000))]
    pub commission_bp: Option<i64>,
}

/// Every change to the network. `account` is always the account whose data changes, which
/// is what the server's authorisation checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    CreateAccount {
        id: String,
        name: String,
        currency: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_hash: Option<String>,
    },
    PutSku {
        account: String,
        sku: String,
        /// Boxed: the largest body (with its content), which would otherwise make every
        /// command as large as itself. JSON is the same.
        body: Box<SkuBody>,
    },
    PutTradePolicy {
        account: String,
        trade_policy: String,
        body: TradePolicyBody,
    },
    PutWarehouse {
        account: String,
        warehouse: String,
        body: WarehouseBody,
    },
    PutStock {
        account: String,
        warehouse: String,
        sku: String,
        body: StockBody,
    },
    PutPrice {
        account: String,
        sku: String,
        body: PriceBody,
    },
    DeletePrice {
        account: String,
        sku: String,
        trade_policy: Option<String>,
    },
    /// The body is boxed, like `PutSku`'s: with `remote_seller_id` and `follow_up_email` it
    /// would make every command as large. JSON is the same.
    PutAffiliation {
        seller: String,
        marketplace: String,
        body: Box<AffiliationBody>,
    },
    PatchAffiliation {
        seller: String,
        marketplace: String,
        body: Box<AffiliationBody>,
    },
    DeleteAffiliation {
        seller: String,
        marketplace: String,
    },
    PutSeller {
        marketplace: String,
        seller: String,
        body: SellerBody,
    },
    PatchSeller {
        marketplace: String,
        seller: String,
        body: SellerBody,
    },
    DeleteSeller {
        marketplace: String,
        seller: String,
    },
    ApproveSuggestion {
        marketplace: String,
        seller: String,
        seller_sku: String,
        sku: Option<String>,
    },
    DenySuggestion {
        marketplace: String,
        seller: String,
        seller_sku: String,
    },
    PutOrderSettings {
        account: String,
        body: crate::orders::OrderSettingsBody,
    },
    PlaceOrder {
        marketplace: String,
        body: crate::orders::OrderBody,
    },
    AuthorizeOrder {
        marketplace: String,
        id: String,
    },
    /// By the marketplace (its order) or a seller (its seller or chain order).
    CancelOrder {
        account: String,
        id: String,
    },
    /// By the seller of a seller order or chain order.
    InvoiceOrder {
        account: String,
        id: String,
        /// The fiscal invoice (number, value, dates, tracking), sent on to an external
        /// marketplace; boxed, since most invoices carry none here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invoice: Option<Box<crate::orders::InvoiceBody>>,
    },
    /// Time passes: reservations whose expiry is at or before the command's time expire.
    ExpireOrders {},
    /// Event sequence numbers up to `seq` were used by history that `journal repair` gave up:
    /// the next event is numbered above it, so no number a client saw is used for another
    /// change. Only ever moves the numbering forward; written by the repair, never by clients.
    SkipEventSeq {
        seq: u64,
    },
    /// A named API token of `account` (`accounts.rs`). The server chooses `id` and the secret
    /// and journals only the secret token's SHA-256, so replay is deterministic and no secret
    /// is ever stored.
    CreateToken {
        account: String,
        id: String,
        name: String,
        token_hash: String,
    },
    /// Revokes token `id` of `account`: requests with it are refused from then on.
    DeleteToken {
        account: String,
        id: String,
    },
    /// Changes the account's own settings (its name; the id never changes).
    PatchAccount {
        account: String,
        body: crate::accounts::AccountPatchBody,
    },
    /// Many catalog lines of one account as one command: every line applies, in order, or
    /// none does (`import.rs`).
    Import {
        account: String,
        lines: Vec<crate::import::ImportLine>,
    },
    /// A webhook subscription of `account` (`webhooks/`). The server chooses `id` and the
    /// signing `secret` (`whsec_…`), which the journal keeps: delivery signs with it.
    CreateWebhook {
        account: String,
        id: String,
        secret: String,
        body: crate::webhooks::WebhookBody,
    },
    /// Changes the given fields of a subscription; `active: true` also clears a disabling.
    PatchWebhook {
        account: String,
        id: String,
        body: crate::webhooks::WebhookBody,
    },
    /// Removes a subscription: nothing more is sent to it.
    DeleteWebhook {
        account: String,
        id: String,
    },
    /// A new signing secret (chosen by the server) replaces the old one.
    RotateWebhookSecret {
        account: String,
        id: String,
        secret: String,
    },
    /// Written by the server's delivery worker when a destination kept failing: sending stops,
    /// with the reason shown, until the account re-enables it.
    DisableWebhook {
        account: String,
        id: String,
        reason: String,
    },
    /// Marks `account` as the mirror of an external VTEX seller or marketplace
    /// (`integration/`; operator only). Role `seller` makes warehouse `vtex`.
    PutIntegration {
        account: String,
        /// Boxed, like `PutSku`'s: a large body would make every command as large. JSON is
        /// the same.
        body: Box<crate::integration::IntegrationBody>,
    },
    /// `account` is an ordinary account again (its quotes are forgotten; nothing else goes).
    DeleteIntegration {
        account: String,
    },
    /// What an external seller answered (written by the server's worker, never by clients):
    /// prices and stock at warehouse `vtex`, fetched at `fetched_ms` by the worker's clock.
    ApplySellerQuotes {
        seller: String,
        fetched_ms: u64,
        quotes: Vec<crate::integration::QuoteBody>,
    },
    /// Time passes: quotes whose fetch plus their TTL is at or before the command's time are
    /// stale (`quote_stale`).
    ExpireQuotes {},
    /// Replaces the account's shipping profile (`shipping.rs`).
    PutShippingProfile {
        account: String,
        body: crate::shipping::ShippingBody,
    },
    /// What external seller `seller` answered for its sub order `id` (written by the server's
    /// effects worker, never by clients; vtex-compat.md §3.4): placed under its own order id,
    /// refused (the whole order is cancelled), dispatched, or its cancel confirmed.
    RecordExternalOrder {
        seller: String,
        id: String,
        outcome: crate::orders::ExternalOutcome,
    },
    /// What the server's worker learnt of a call owed to an external marketplace for seller
    /// order `id` of `seller` (`orders/outbound.rs`): sent, or owed again. Never by clients.
    RecordOutbound {
        seller: String,
        id: String,
        call: crate::orders::OutboundCall,
        outcome: crate::orders::OutboundOutcome,
    },
    /// External seller `seller` asked for what its sub order `id`'s state refuses (`what`:
    /// `invoice_after_cancel`, with the invoice number it sent), recorded by the server when it
    /// refuses the request (VTEX C5), never by clients (`orders/conflict.rs`). Idempotent: the
    /// same conflict again makes no second `order.external_conflict`.
    RecordExternalConflict {
        seller: String,
        id: String,
        what: crate::orders::ConflictKind,
        invoice_number: Option<String>,
    },
}

impl Command {
    /// The account and the SKU a command updates, if it updates one SKU of one account (stock,
    /// price, a fixed price deleted): the commands whose ids are resolved at the edge
    /// (`Engine::resolve`).
    pub fn single_sku(&self) -> Option<(&str, &str)> {
        match self {
            Command::PutStock { account, sku, .. }
            | Command::PutPrice { account, sku, .. }
            | Command::DeletePrice { account, sku, .. } => Some((account, sku)),
            _ => None,
        }
    }
}
