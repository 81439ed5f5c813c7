//! A seller's shipping profile (vtex-compat.md §2.1 item 2): the countries it ships to and its
//! delivery options (SLAs), the promise of the seller of record whatever chain fills an order.
//! What a VTEX marketplace's checkout simulation shows as `shipsTo` and `slas`. Set with
//! `PutShippingProfile` (`PUT /v1/accounts/{a}/shipping`), never read by derivation.
//!
//! Out of scope (named so that nobody looks for them): postal-code ranges, pickup points,
//! delivery windows, per-warehouse lead time, weight-based freight.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
pub use crate::model::{ShippingProfile, Sla};
use crate::validate as v;

/// Delivery options per profile: a checkout shows a handful; VTEX's own carriers list is short.
pub const MAX_SLAS: usize = 10;
/// Countries per profile: every ISO 3166 country has fewer than 250 codes.
pub const MAX_SHIPS_TO: usize = 250;
/// Longest SLA name (what a checkout shows).
pub const MAX_SLA_NAME_CHARS: usize = 100;

/// One delivery option as given.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaBody {
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_length = 100))]
    pub name: Option<String>,
    /// Freight per item line, in minor units.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, nullable = false, minimum = 0, maximum = 1000000000000000i64)
    )]
    pub price: Option<i64>,
    /// VTEX's form: a number of business days (`3bd`), days (`2d`), hours (`4h`) or minutes.
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, pattern = "^[0-9]{1,3}(bd|d|h|m)$"))]
    pub shipping_estimate: Option<String>,
}

/// `PUT /v1/accounts/{a}/shipping`: replaces the whole profile.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingBody {
    /// ISO 3166-1 alpha-3 country codes (`BRA`), as VTEX names countries.
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_items = 250, value_type = Option<Vec<CountryCode>>))]
    pub ships_to: Option<Vec<String>>,
    #[cfg_attr(feature = "openapi", schema(required = true, nullable = false, max_items = 10))]
    pub slas: Option<Vec<SlaBody>>,
}

/// `^[0-9]{1,3}(bd|d|h|m)$`.
pub fn is_shipping_estimate(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    (1..=3).contains(&digits) && matches!(&s[digits..], "bd" | "d" | "h" | "m")
}

mod apply;

/// Checks a body whole (rule 39: before any state is read) and builds the profile.
fn parse(body: &ShippingBody) -> Result<ShippingProfile> {
    let ships = body.ships_to.as_ref().ok_or_else(|| DomainError::invalid("ships_to", "required"))?;
    v::list_len("ships_to", ships.len(), MAX_SHIPS_TO)?;
    let mut ships_to: Vec<Arc<str>> = Vec::with_capacity(ships.len());
    for (i, c) in ships.iter().enumerate() {
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(DomainError::invalid(format!("ships_to[{i}]"), "an ISO 3166-1 alpha-3 code (`BRA`)"));
        }
        ships_to.push(Arc::from(c.as_str()));
    }
    ships_to.sort();
    ships_to.dedup();
    let given = body.slas.as_ref().ok_or_else(|| DomainError::invalid("slas", "required"))?;
    v::list_len("slas", given.len(), MAX_SLAS)?;
    let mut slas: Vec<Sla> = Vec::with_capacity(given.len());
    for (i, s) in given.iter().enumerate() {
        let f = |name: &str| format!("slas[{i}].{name}");
        let id = s.id.as_deref().ok_or_else(|| DomainError::invalid(f("id"), "required"))?;
        v::item_id(&f("id"), id)?;
        if slas.iter().any(|x| &*x.id == id) {
            return Err(DomainError::invalid(f("id"), format!("SLA `{id}` is given twice")));
        }
        let name = s.name.as_deref().ok_or_else(|| DomainError::invalid(f("name"), "required"))?;
        if name.trim().is_empty() || name.chars().count() > MAX_SLA_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(DomainError::invalid(f("name"), format!("1 to {MAX_SLA_NAME_CHARS} characters of text")));
        }
        let price = v::price(&f("price"), s.price.ok_or_else(|| DomainError::invalid(f("price"), "required"))?)?;
        let est = s.shipping_estimate.as_deref();
        let est = est.ok_or_else(|| DomainError::invalid(f("shipping_estimate"), "required"))?;
        if !is_shipping_estimate(est) {
            return Err(DomainError::invalid(f("shipping_estimate"), "1 to 3 digits then bd, d, h or m (`3bd`)"));
        }
        slas.push(Sla { id: Arc::from(id), name: Arc::from(name), price, shipping_estimate: Arc::from(est) });
    }
    Ok(ShippingProfile { ships_to, slas })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipping_estimates_are_vtex_shaped() {
        for ok in ["3bd", "2d", "4h", "30m", "999bd", "0d"] {
            assert!(is_shipping_estimate(ok), "{ok}");
        }
        for bad in ["", "bd", "1000d", "3 bd", "3w", "3bdx", "-1d", "3D"] {
            assert!(!is_shipping_estimate(bad), "{bad}");
        }
    }
}

/// An ISO 3166-1 alpha-3 country code (`BRA`), upper case as VTEX sends it.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(pattern = "^[A-Z]{3}$")]
pub struct CountryCode(pub String);
