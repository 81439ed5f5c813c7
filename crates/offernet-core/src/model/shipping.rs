//! A seller's shipping profile as the engine keeps it (its command and checks: `shipping/`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A delivery option as stored and shown.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Sla))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub price: i64,
    pub shipping_estimate: Arc<str>,
}

/// A seller's shipping profile as stored and shown (`GET …/shipping`; empty lists when none).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ShippingProfile))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingProfile {
    pub ships_to: Vec<Arc<str>>,
    pub slas: Vec<Sla>,
}

impl ShippingProfile {
    /// Whether it ships to `country` (alpha-3, compared as given: VTEX sends upper case).
    pub fn ships_to(&self, country: &str) -> bool {
        self.ships_to.iter().any(|c| &**c == country)
    }
}
