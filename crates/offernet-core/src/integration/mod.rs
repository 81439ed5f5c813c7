//! Integrations with outside systems (vtex-compat.md §3.1, §3.3): `PutIntegration` and
//! `DeleteIntegration` mark an account as the mirror of an external VTEX seller or marketplace;
//! `ApplySellerQuotes` and `ExpireQuotes` bring an external seller's prices and stock into the
//! engine as plain data. The engine never calls anyone: the server's worker asks the seller,
//! then submits what it learnt as a command stamped with the writer's time, so replay calls
//! no one. Secrets (app keys and tokens) are never part of a command.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::model::{Centi, MarketplaceLink};
use crate::validate as v;

mod apply;
mod read;

pub use read::{IntegrationView, QuoteView};

/// The only protocol spoken.
pub const PROTOCOL_VTEX: &str = "vtex";
/// The mirror warehouse of an external seller, serving its trade policy `1`.
pub const VTEX_WAREHOUSE: &str = "vtex";
/// A quote's life by default: one hour.
pub const DEFAULT_QUOTE_TTL_MINUTES: u32 = 60;
/// The longest a quote may be trusted: 7 days, the longest reservation (a price older than
/// any order could last is not a quote any more).
pub const MAX_QUOTE_TTL_MINUTES: i64 = 7 * 24 * 60;
/// How often every quote is asked again by default: a lost notification costs at most this.
pub const DEFAULT_REFRESH_MINUTES: u32 = 15;
/// The longest refresh period: a day.
pub const MAX_REFRESH_MINUTES: i64 = 24 * 60;
/// The trade policy (VTEX `sc`) offernet buys under by default.
pub const DEFAULT_SALES_CHANNEL: &str = "1";
/// Quotes in one `ApplySellerQuotes`: a simulation answers up to 50 SKUs, and a sweep may put
/// a few answers together; a bound keeps one command (and one journal entry) small.
pub const MAX_QUOTES_PER_COMMAND: usize = 1_000;
/// How far in the future (by the writer's clock) a quote's `fetched_ms` may be: clocks of one
/// process move backwards a little when they are corrected, never by a minute.
pub const MAX_FETCHED_AHEAD_MS: u64 = 60_000;
/// An e-mail address's longest form (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// `PUT /v1/accounts/{a}/integration` (operator only). `protocol` and `role` are required;
/// `role: "seller"` takes `fulfillment_endpoint` (required), `sales_channel`, `affiliate_id`,
/// `quote_ttl_minutes`, `refresh_minutes`, `follow_up_email`; `role: "marketplace"` takes
/// `api_base` and `suggestions_base` (required) and `default_dimensions`. A field of the other
/// role is refused (400 naming it). Secrets are not part of it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationBody {
    /// `vtex`, the VTEX Marketplace Protocol.
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, pattern = "^vtex$"))]
    pub protocol: Option<String>,
    /// `seller`: the account mirrors an external seller (its prices and its stock at warehouse
    /// `vtex` come from its quotes); `marketplace`: it mirrors an external VTEX marketplace.
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, pattern = "^(seller|marketplace)$"))]
    pub role: Option<String>,
    /// Seller: its fulfillment endpoint, a base URL without query or fragment or trailing `/`
    /// (`https://e.example/api/fulfillment`); `http://` only where the server allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = "^https?://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:([0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[!\"$->@-~]*[!\"$-.0->@-~])?$"
        )
    )]
    pub fulfillment_endpoint: Option<String>,
    /// Seller: its trade policy offernet buys under (VTEX `sc`), default `1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub sales_channel: Option<String>,
    /// Seller: offernet's affiliate id at the seller (VTEX `affiliateId`), three capital letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Z]{3}$"))]
    pub affiliate_id: Option<String>,
    /// Seller: a quote older than this is stale (`quote_stale`); 1 to 10,080, default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10080))]
    pub quote_ttl_minutes: Option<i64>,
    /// Seller: every quote is asked again this often; 1 to 1,440 and at most
    /// `quote_ttl_minutes`, default 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1440))]
    pub refresh_minutes: Option<i64>,
    /// Seller: answered as `followUpEmail` on placements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 254, pattern = "^[!-?A-~]+@[!-?A-~]+$"))]
    pub follow_up_email: Option<String>,
    /// Marketplace: its API base, a base URL as `fulfillment_endpoint`
    /// (`https://v.vtexcommercestable.com.br/api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = "^https?://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:([0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[!\"$->@-~]*[!\"$-.0->@-~])?$"
        )
    )]
    pub api_base: Option<String>,
    /// Marketplace: its suggestions base (`https://api.vtex.com/v`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 2048,
            pattern = "^https?://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:([0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(/[!\"$->@-~]*[!\"$-.0->@-~])?$"
        )
    )]
    pub suggestions_base: Option<String>,
    /// Marketplace: measures sent in a suggestion for a SKU that has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_dimensions: Option<DefaultDimensionsBody>,
}

/// Measures of a packed item when a SKU has none: each required, non-negative, kept to two
/// decimals; sizes in centimetres up to 10,000, weight in grams up to 100,000,000.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DefaultDimensions))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultDimensionsBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, value_type = Option<f64>, minimum = 0, maximum = 10000))]
    pub height: Option<serde_json::Number>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, value_type = Option<f64>, minimum = 0, maximum = 10000))]
    pub width: Option<serde_json::Number>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, value_type = Option<f64>, minimum = 0, maximum = 10000))]
    pub length: Option<serde_json::Number>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, value_type = Option<f64>, minimum = 0, maximum = 100000000))]
    pub weight_g: Option<serde_json::Number>,
}

/// One SKU of an external seller's answer (`ApplySellerQuotes`): its price and list price when
/// the seller gave one (else the price is kept), the units it can sell now, and its
/// `priceValidUntil`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteBody {
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_price: Option<i64>,
    pub available: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until_ms: Option<u64>,
}

/// A body field's name and whether it was given.
type Given = (&'static str, bool);

/// The fields only role `seller` takes, and those only role `marketplace` takes, as given.
fn role_fields(b: &IntegrationBody) -> ([Given; 6], [Given; 3]) {
    (
        [
            ("fulfillment_endpoint", b.fulfillment_endpoint.is_some()),
            ("sales_channel", b.sales_channel.is_some()),
            ("affiliate_id", b.affiliate_id.is_some()),
            ("quote_ttl_minutes", b.quote_ttl_minutes.is_some()),
            ("refresh_minutes", b.refresh_minutes.is_some()),
            ("follow_up_email", b.follow_up_email.is_some()),
        ],
        [
            ("api_base", b.api_base.is_some()),
            ("suggestions_base", b.suggestions_base.is_some()),
            ("default_dimensions", b.default_dimensions.is_some()),
        ],
    )
}

/// The settings of a seller link, checked: (endpoint, sales channel, affiliate id, TTL,
/// refresh, follow-up e-mail).
pub(crate) struct SellerSettings {
    pub fulfillment_endpoint: Arc<str>,
    pub sales_channel: Arc<str>,
    pub affiliate_id: Option<Arc<str>>,
    pub quote_ttl_minutes: u32,
    pub refresh_minutes: u32,
    pub follow_up_email: Option<Arc<str>>,
}

/// A body checked whole, before any state is read (rule 39).
pub(crate) enum Checked {
    Seller(SellerSettings),
    Marketplace(MarketplaceLink),
}

/// Checks a `PutIntegration` body: every field, each role's own.
pub(crate) fn check_body(b: &IntegrationBody) -> Result<Checked> {
    match b.protocol.as_deref() {
        None => return Err(DomainError::invalid("protocol", "required: `vtex`")),
        Some(PROTOCOL_VTEX) => {}
        Some(p) => {
            return Err(DomainError::invalid("protocol", format!("`{p}` is not spoken: `vtex` is the only one")))
        }
    }
    let (seller_fields, marketplace_fields) = role_fields(b);
    let refuse = |fields: &[Given], role: &str| -> Result<()> {
        match fields.iter().find(|(_, given)| *given) {
            Some((f, _)) => Err(DomainError::invalid(*f, format!("only for role `{role}`"))),
            None => Ok(()),
        }
    };
    match b.role.as_deref() {
        Some("seller") => {
            refuse(&marketplace_fields, "marketplace")?;
            Ok(Checked::Seller(seller_settings(b)?))
        }
        Some("marketplace") => {
            refuse(&seller_fields, "seller")?;
            Ok(Checked::Marketplace(marketplace_link(b)?))
        }
        None => Err(DomainError::invalid("role", "required: `seller` or `marketplace`")),
        Some(r) => Err(DomainError::invalid("role", format!("`{r}` is not a role: `seller` or `marketplace`"))),
    }
}

fn seller_settings(b: &IntegrationBody) -> Result<SellerSettings> {
    let endpoint = b
        .fulfillment_endpoint
        .as_deref()
        .ok_or_else(|| DomainError::invalid("fulfillment_endpoint", "required for role `seller`"))?;
    base_url("fulfillment_endpoint", endpoint)?;
    let sales_channel = b.sales_channel.as_deref().unwrap_or(DEFAULT_SALES_CHANNEL);
    v::item_id("sales_channel", sales_channel)?;
    if let Some(id) = &b.affiliate_id {
        if id.len() != 3 || !id.bytes().all(|c| c.is_ascii_uppercase()) {
            return Err(DomainError::invalid("affiliate_id", "VTEX's affiliate id: three capital letters, like `OFN`"));
        }
    }
    let ttl = minutes("quote_ttl_minutes", b.quote_ttl_minutes, DEFAULT_QUOTE_TTL_MINUTES, MAX_QUOTE_TTL_MINUTES)?;
    let refresh = minutes("refresh_minutes", b.refresh_minutes, DEFAULT_REFRESH_MINUTES, MAX_REFRESH_MINUTES)?;
    if refresh > ttl {
        return Err(DomainError::invalid(
            "refresh_minutes",
            format!("at most `quote_ttl_minutes` ({ttl}): quotes are asked again before they go stale"),
        ));
    }
    if let Some(e) = &b.follow_up_email {
        email("follow_up_email", e)?;
    }
    Ok(SellerSettings {
        fulfillment_endpoint: Arc::from(endpoint),
        sales_channel: Arc::from(sales_channel),
        affiliate_id: b.affiliate_id.as_deref().map(Arc::from),
        quote_ttl_minutes: ttl,
        refresh_minutes: refresh,
        follow_up_email: b.follow_up_email.as_deref().map(Arc::from),
    })
}

fn marketplace_link(b: &IntegrationBody) -> Result<MarketplaceLink> {
    let url = |field: &'static str, v: &Option<String>| -> Result<Arc<str>> {
        let u = v.as_deref().ok_or_else(|| DomainError::invalid(field, "required for role `marketplace`"))?;
        base_url(field, u)?;
        Ok(Arc::from(u))
    };
    let api_base = url("api_base", &b.api_base)?;
    let suggestions_base = url("suggestions_base", &b.suggestions_base)?;
    let default_dimensions = match &b.default_dimensions {
        None => None,
        Some(d) => {
            let m = |field: &str, n: &Option<serde_json::Number>, max: u64| -> Result<Centi> {
                let field = format!("default_dimensions.{field}");
                let n = n.as_ref().ok_or_else(|| DomainError::invalid(&field, "required"))?;
                v::measure(&field, n, max)
            };
            Some([
                m("height", &d.height, v::MAX_SIZE_CM)?,
                m("width", &d.width, v::MAX_SIZE_CM)?,
                m("length", &d.length, v::MAX_SIZE_CM)?,
                m("weight_g", &d.weight_g, v::MAX_WEIGHT_G)?,
            ])
        }
    };
    Ok(MarketplaceLink { api_base, suggestions_base, default_dimensions })
}

/// A base URL that VTEX's paths are appended to: `https://host[:port][/path]` (or `http://`,
/// which only a server with `--outbound-allow-local` accepts, as for webhooks), without query,
/// fragment or trailing `/`.
pub fn base_url(field: &str, s: &str) -> Result<()> {
    crate::webhooks::webhook_url(field, s)?;
    let after_scheme = s.split_once("://").map_or(s, |(_, rest)| rest);
    if s.contains(['?', '#']) || (after_scheme.contains('/') && s.ends_with('/')) {
        return Err(DomainError::invalid(
            field,
            "a base URL without query, fragment or trailing `/`: VTEX's paths are appended to it",
        ));
    }
    Ok(())
}

/// Minutes between 1 and `max`, `default` when not given.
fn minutes(field: &str, given: Option<i64>, default: u32, max: i64) -> Result<u32> {
    match given {
        None => Ok(default),
        Some(m) if (1..=max).contains(&m) => Ok(m as u32),
        Some(_) => Err(DomainError::invalid(field, format!("minutes, from 1 to {max}"))),
    }
}

/// An e-mail address as a placement shows it: `local@domain`, printable ASCII without spaces,
/// at most `MAX_EMAIL_LEN` characters.
pub(crate) fn email(field: &str, s: &str) -> Result<()> {
    let ok = s.len() <= MAX_EMAIL_LEN
        && s.bytes().all(|b| b.is_ascii_graphic())
        && s.split_once('@').is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !d.contains('@'));
    if !ok {
        return Err(DomainError::invalid(
            field,
            format!("an e-mail address `name@domain`, printable ASCII, at most {MAX_EMAIL_LEN} characters"),
        ));
    }
    Ok(())
}

/// Checks the quotes of an `ApplySellerQuotes` before any state is read: 1 to
/// `MAX_QUOTES_PER_COMMAND`, each SKU once, prices and quantities within the engine's limits,
/// a list price only with a price and not below it.
pub(crate) fn check_quotes(fetched_ms: u64, now_ms: u64, quotes: &[QuoteBody]) -> Result<()> {
    if fetched_ms > now_ms.saturating_add(MAX_FETCHED_AHEAD_MS) {
        return Err(DomainError::invalid("fetched_ms", "later than the command's time: a quote is fetched before"));
    }
    if quotes.is_empty() || quotes.len() > MAX_QUOTES_PER_COMMAND {
        return Err(DomainError::invalid("quotes", format!("1 to {MAX_QUOTES_PER_COMMAND} quotes")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, q) in quotes.iter().enumerate() {
        v::item_id(&format!("quotes[{i}].sku"), &q.sku)?;
        if !seen.insert(q.sku.as_str()) {
            return Err(DomainError::invalid(format!("quotes[{i}].sku"), format!("SKU `{}` is quoted twice", q.sku)));
        }
        if let Some(p) = q.price {
            v::price(&format!("quotes[{i}].price"), p)?;
        }
        if let Some(l) = q.list_price {
            let field = format!("quotes[{i}].list_price");
            v::price(&field, l)?;
            match q.price {
                None => return Err(DomainError::invalid(field, "a list price needs a price")),
                Some(p) if l < p => return Err(DomainError::invalid(field, "a list price is never below the price")),
                Some(_) => {}
            }
        }
        v::quantity(&format!("quotes[{i}].available"), q.available)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
