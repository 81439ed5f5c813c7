//! The engine's typed errors. Every rejected command returns one of these and changes nothing.

use std::fmt;

/// Why a command was refused. `code()` is the stable snake_case code of the HTTP contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// Bad input: `field` names the offending field (dotted path), `reason` says what is wrong.
    InvalidField { field: String, reason: String },
    /// Something named in the request (usually in the path) does not exist: `what` for people,
    /// `missing` and `id` for the server, which names the path parameter (or body field) that
    /// gave that id.
    NotFound { what: String, missing: Missing, id: String },
    /// The request is valid but conflicts with the current state.
    Conflict { reason: String },
    /// An order cannot be reserved whole (item index and what was short).
    InsufficientStock { item: usize, reason: String },
    /// An order id already used with another body.
    IdempotencyMismatch { id: String },
    /// An order's `max_prices` is below the seller's current price for an item (vtex-compat.md
    /// §6 Q6: the marketplace would charge less than the seller asks).
    PriceChanged { item: usize, reason: String },
    /// The order cannot be authorised yet: its sub order `id` at an external seller is not
    /// placed there (vtex-compat.md §3.4).
    ExternalPlacementPending { id: String },
    /// An import with refused lines (each listed with its field and reason); nothing of it
    /// was applied.
    Import(Box<crate::import::ImportErrors>),
}

/// The kind of thing a [`DomainError::NotFound`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Account,
    Sku,
    TradePolicy,
    Warehouse,
    Order,
    /// A suggestion, by its seller SKU (its seller exists).
    Suggestion,
    /// A half of a connection, by the other account of the pair.
    Connection,
    /// A trade policy's fixed price, by the trade policy.
    Price,
    /// An offer of a seller for a SKU (an order line), by the seller.
    Offer,
    /// An account's API token, by its id.
    Token,
    /// An account's webhook subscription, by its id.
    Webhook,
    /// An account's integration, by the account.
    Integration,
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        DomainError::InvalidField { field: field.into(), reason: reason.into() }
    }
    /// `missing` with `id` was not found; `what` describes it (`SKU `x` of account `a``).
    pub fn not_found(missing: Missing, id: impl Into<String>, what: impl Into<String>) -> Self {
        DomainError::NotFound { what: what.into(), missing, id: id.into() }
    }
    pub fn conflict(reason: impl Into<String>) -> Self {
        DomainError::Conflict { reason: reason.into() }
    }
    /// The stable error code of api.md.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::InvalidField { .. } => "invalid_field",
            DomainError::NotFound { .. } => "not_found",
            DomainError::Conflict { .. } => "conflict",
            DomainError::InsufficientStock { .. } => "insufficient_stock",
            DomainError::IdempotencyMismatch { .. } => "idempotency_mismatch",
            DomainError::PriceChanged { .. } => "price_changed",
            DomainError::ExternalPlacementPending { .. } => "external_placement_pending",
            DomainError::Import(_) => "invalid_import",
        }
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainError::InvalidField { field, reason } => write!(f, "invalid field `{field}`: {reason}"),
            DomainError::NotFound { what, .. } => write!(f, "{what} not found"),
            DomainError::Conflict { reason } => write!(f, "conflict: {reason}"),
            DomainError::InsufficientStock { item, reason } => {
                write!(f, "insufficient stock for items[{item}]: {reason}")
            }
            DomainError::IdempotencyMismatch { id } => {
                write!(f, "order `{id}` already exists with another body (an order id is used once)")
            }
            DomainError::PriceChanged { item, reason } => write!(f, "price changed for items[{item}]: {reason}"),
            DomainError::ExternalPlacementPending { id } => {
                write!(f, "`{id}` is not placed at its external seller yet: the order can be authorised once it is")
            }
            DomainError::Import(e) => {
                write!(f, "{} line(s) of the import were refused; nothing was imported", e.total)
            }
        }
    }
}

impl std::error::Error for DomainError {}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
