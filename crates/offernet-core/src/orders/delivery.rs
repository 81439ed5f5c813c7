//! The delivery of a `/v1` order (vtex-compat.md §2.4): who receives it and where, which an
//! external seller needs to place its part (A2). It is personal data: the server keeps it as
//! the order's document, outside the journal, and the order command carries only the
//! document's SHA-256. [`OrderRequest`] is the request body of `POST /v1/accounts/{m}/orders`
//! (an [`OrderBody`] and its `delivery`); the command's body stays [`OrderBody`].

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::validate as v;

use super::{ExternalRef, OrderBody, OrderItemBody};

/// Longest text of a delivery field (VTEX sets no limit; a bound keeps documents small).
pub const MAX_DELIVERY_TEXT: usize = 200;

/// The customer: VTEX's `clientProfileData`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, nullable = false, max_length = 254, pattern = "^[!-?A-~]+@[!-?A-~]+$")
    )]
    pub email: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub first_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub last_name: Option<String>,
    /// The kind of `document` (`cpf`, `cnpj`, `passport`…).
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub document_type: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub document: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub phone: Option<String>,
}

/// Where it goes: VTEX's `shippingData.address`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub receiver_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub postal_code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub city: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub state: Option<String>,
    /// ISO 3166 alpha-3 (`BRA`).
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, pattern = "^[A-Z]{3}$"))]
    pub country: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub street: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub number: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 200))]
    pub neighborhood: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub complement: Option<String>,
}

/// `delivery`: required when the order includes an external seller (400 `invalid_field`
/// `delivery` otherwise); kept outside the journal.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false))]
    pub customer: Option<CustomerBody>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false))]
    pub address: Option<AddressBody>,
    /// The shipping option wanted (an SLA id of the external seller); when it offers none by
    /// that id, the cheapest, then the fastest, is chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub sla: Option<String>,
}

/// The body of `POST /v1/accounts/{m}/orders`: [`OrderBody`]'s fields and `delivery`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_items = 100))]
    pub items: Option<Vec<OrderItemBody>>,
    /// As [`OrderBody::reservation_minutes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 20160))]
    pub reservation_minutes: Option<i64>,
    /// As [`OrderBody::max_prices`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 100, value_type = Option<Vec<super::PriceValue>>))]
    pub max_prices: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<Box<ExternalRef>>,
    /// As [`OrderBody::document_sha256`]; not with `delivery` (the server sets it then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub document_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryBody>,
}

impl OrderRequest {
    /// The order command's body and the delivery kept apart from it.
    pub fn split(self) -> (OrderBody, Option<DeliveryBody>) {
        let OrderRequest { id, items, reservation_minutes, max_prices, external_ref, document_sha256, delivery } = self;
        (OrderBody { id, items, reservation_minutes, max_prices, external_ref, document_sha256 }, delivery)
    }
}

fn required<'a>(field: &str, v: &'a Option<String>) -> Result<&'a str> {
    let s = v.as_deref().ok_or_else(|| DomainError::invalid(field, "required"))?;
    text(field, s)?;
    Ok(s)
}

fn text(field: &str, s: &str) -> Result<()> {
    v::text(field, s)?;
    if s.chars().count() > MAX_DELIVERY_TEXT {
        return Err(DomainError::invalid(field, format!("at most {MAX_DELIVERY_TEXT} characters")));
    }
    Ok(())
}

/// Checks a delivery whole (400 `invalid_field` naming `delivery.…`).
pub fn check_delivery(d: &DeliveryBody) -> Result<()> {
    let c = d.customer.as_ref().ok_or_else(|| DomainError::invalid("delivery.customer", "required"))?;
    let email = c.email.as_deref().ok_or_else(|| DomainError::invalid("delivery.customer.email", "required"))?;
    let ok = email.len() <= 254
        && email.bytes().all(|b| b.is_ascii_graphic())
        && email.split_once('@').is_some_and(|(l, r)| !l.is_empty() && !r.is_empty() && !r.contains('@'));
    if !ok {
        return Err(DomainError::invalid("delivery.customer.email", "an e-mail address (local@domain)"));
    }
    required("delivery.customer.first_name", &c.first_name)?;
    required("delivery.customer.last_name", &c.last_name)?;
    required("delivery.customer.document_type", &c.document_type)?;
    required("delivery.customer.document", &c.document)?;
    if let Some(p) = &c.phone {
        text("delivery.customer.phone", p)?;
    }
    let a = d.address.as_ref().ok_or_else(|| DomainError::invalid("delivery.address", "required"))?;
    for (f, x) in [
        ("receiver_name", &a.receiver_name),
        ("postal_code", &a.postal_code),
        ("city", &a.city),
        ("state", &a.state),
        ("street", &a.street),
        ("number", &a.number),
        ("neighborhood", &a.neighborhood),
    ] {
        required(&format!("delivery.address.{f}"), x)?;
    }
    let country = a.country.as_deref().ok_or_else(|| DomainError::invalid("delivery.address.country", "required"))?;
    if country.len() != 3 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(DomainError::invalid("delivery.address.country", "ISO 3166 alpha-3, like `BRA`"));
    }
    if let Some(x) = &a.complement {
        text("delivery.address.complement", x)?;
    }
    if let Some(x) = &d.sla {
        text("delivery.sla", x)?;
    }
    Ok(())
}
