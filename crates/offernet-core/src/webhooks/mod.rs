//! Webhook subscriptions: an account's destinations for its events (`CreateWebhook`,
//! `PatchWebhook`, `DeleteWebhook`, `RotateWebhookSecret`, `DisableWebhook`). They are engine
//! state, journaled and snapshotted like every other setting; the engine only keeps them. The
//! server chooses the id and the signing secret (randomness enters through the command), and
//! its delivery worker (`offernet-server/src/outbound/`) sends the events and disables a
//! subscription that keeps failing through `DisableWebhook`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::validate as v;

mod apply;
mod read;

#[cfg(test)]
use crate::model::pattern_matches;
pub use crate::model::Webhook;
pub use read::{WebhookTarget, WebhookView};

/// Subscriptions one account may hold: each is a delivery loop and a progress row.
pub const MAX_WEBHOOKS_PER_ACCOUNT: usize = 20;
/// Event patterns one subscription may list (there are eleven event types).
pub const MAX_WEBHOOK_EVENTS: usize = 20;
/// Longest reason a subscription was disabled for, in characters (the server writes it).
pub const MAX_DISABLED_REASON_CHARS: usize = 500;
/// A signing secret: `whsec_` and the base64 of 24 to 64 random bytes (Standard Webhooks).
const SECRET_PREFIX: &str = "whsec_";
const SECRET_MIN_B64: usize = 32;
const SECRET_MAX_B64: usize = 88;

/// Every event type there is, the names `events` patterns match.
pub const EVENT_TYPES: [&str; 12] = [
    "offer.changed",
    "suggestion.created",
    "suggestion.approved",
    "suggestion.denied",
    "order.created",
    "order.authorized",
    "order.invoiced",
    "order.cancelled",
    "order.expired",
    "order.external_placed",
    "order.external_refused",
    "order.external_conflict",
];

/// `POST …/webhooks` and `PATCH …/webhooks/{id}`: for a PATCH only the given fields change.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// The destination: `https://` with a host name (an `http://` URL only when the server
    /// runs with `--outbound-allow-local`), at most 2,048 characters of printable ASCII.
    #[cfg_attr(
        feature = "openapi",
        schema(
            required = true,
            nullable = false,
            max_length = 2048,
            pattern = "^https?://[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:([0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][!-~]*)?$"
        )
    )]
    pub url: Option<String>,
    /// Event types to send: a type (`offer.changed`), a family (`order.*`) or `*`; 1 to 20, each once.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, nullable = false, min_items = 1, max_items = 20, value_type = Option<std::collections::BTreeSet<EventPattern>>)
    )]
    pub events: Option<Vec<String>>,
    /// Whether events are sent (default true). `true` also re-enables a subscription the server
    /// disabled.
    pub active: Option<bool>,
}

/// An event type, a family of them (`order.*`), or `*` (every event).
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(
    pattern = "^(\\*|offer\\.\\*|suggestion\\.\\*|order\\.\\*|offer\\.changed|suggestion\\.(created|approved|denied)|order\\.(created|authorized|invoiced|cancelled|expired))$"
)]
pub struct EventPattern(pub String);

/// A webhook id: like a token id, 1 to 32 of `A-Z a-z 0-9 _ -`.
pub fn webhook_id(field: &str, s: &str) -> Result<()> {
    crate::accounts::token_id(field, s)
}

/// A destination URL: an https URL as `validate::https_url` reads it, or the same with
/// `http://` (the length limit applies to the URL as given, not to its `https://` rewrite).
pub fn webhook_url(field: &str, s: &str) -> Result<()> {
    if s.len() > v::MAX_URL_LEN {
        return Err(DomainError::invalid(field, format!("a URL has at most {} characters", v::MAX_URL_LEN)));
    }
    match s.strip_prefix("http://") {
        Some(rest) => v::https_url_shape(field, &format!("https://{rest}")).map(|_| ()),
        None => v::https_url_shape(field, s).map(|_| ()),
    }
    .map_err(|_| {
        DomainError::invalid(
            field,
            "a URL `https://host[:port][/path]` (or `http://` where the server allows it): a DNS or IPv4 host, printable ASCII, at most 2048 characters",
        )
    })
}

/// The event patterns of a subscription: 1 to `MAX_WEBHOOK_EVENTS`, each known, none twice.
pub fn event_patterns(field: &str, list: &[String]) -> Result<Vec<Arc<str>>> {
    if list.is_empty() || list.len() > MAX_WEBHOOK_EVENTS {
        return Err(DomainError::invalid(field, format!("1 to {MAX_WEBHOOK_EVENTS} event types")));
    }
    let mut out: Vec<Arc<str>> = Vec::with_capacity(list.len());
    for p in list {
        let known = p == "*"
            || EVENT_TYPES.contains(&p.as_str())
            || p.strip_suffix(".*").is_some_and(|f| EVENT_TYPES.iter().any(|t| t.split('.').next() == Some(f)));
        if !known {
            return Err(DomainError::invalid(
                field,
                format!(
                    "`{p}` is not an event type: one of {}, a family such as `order.*`, or `*`",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        if out.iter().any(|q| **q == **p) {
            return Err(DomainError::invalid(field, format!("`{p}` is listed twice")));
        }
        out.push(Arc::from(p.as_str()));
    }
    Ok(out)
}

/// A signing secret `whsec_<base64>` of 24 to 64 bytes (the server makes 32).
pub fn webhook_secret(field: &str, s: &str) -> Result<()> {
    let ok = s.strip_prefix(SECRET_PREFIX).is_some_and(|b| {
        (SECRET_MIN_B64..=SECRET_MAX_B64).contains(&b.len())
            && b.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
    });
    if !ok {
        return Err(DomainError::invalid(field, "a signing secret is `whsec_` and the base64 of 24 to 64 bytes"));
    }
    Ok(())
}

/// Why the server disabled a subscription: one line of text, at most
/// `MAX_DISABLED_REASON_CHARS` characters.
pub fn disabled_reason(field: &str, s: &str) -> Result<()> {
    v::text(field, s)?;
    if s.chars().count() > MAX_DISABLED_REASON_CHARS {
        return Err(DomainError::invalid(field, format!("at most {MAX_DISABLED_REASON_CHARS} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
