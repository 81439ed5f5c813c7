//! Value types the engine computes with: quantities that may be unlimited, reasons and
//! their sets, prices.

use serde::{Deserialize, Serialize};

/// A stock quantity that may be unlimited. Sums saturate below `UNLIMITED`, so a finite
/// sum never turns into "unlimited".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Qty(pub u64);

/// Largest finite quantity a sum reaches: 2^53 − 1, the largest integer every JSON reader
/// (IEEE doubles) holds exactly. One stock entry is at most 10^12, but an offer sums own stock
/// over up to 1,000 warehouses and upstream sources over every chain, which can pass it; such
/// a sum is shown capped (displayed quantities are upper bounds anyway, rule 15).
pub const MAX_SHOWN_QUANTITY: u64 = (1 << 53) - 1;

impl Qty {
    pub const ZERO: Qty = Qty(0);
    pub const UNLIMITED: Qty = Qty(u64::MAX);

    pub fn is_unlimited(self) -> bool {
        self.0 == u64::MAX
    }
    /// Nothing available (unlimited is never zero).
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
    #[inline]
    pub fn plus(self, other: Qty) -> Qty {
        if self.is_unlimited() || other.is_unlimited() {
            Qty::UNLIMITED
        } else {
            Qty(self.0.saturating_add(other.0).min(MAX_SHOWN_QUANTITY))
        }
    }
    /// The JSON form: a number, or `null` when unlimited (beside `"unlimited": true`).
    pub fn finite(self) -> Option<u64> {
        if self.is_unlimited() {
            None
        } else {
            Some(self.0)
        }
    }
}

/// The reason codes of domain.md, in the order in which they are listed (`Reason::code`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(rename_all = "snake_case"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Reason {
    ConnectionInactive = 0,
    SellerPaused,
    MarketplacePaused,
    SkuInactive,
    NotInAssortment,
    NotInTradePolicy,
    SuggestionPending,
    SuggestionDenied,
    NoPrice,
    QuoteStale,
    OutOfStock,
    ForwarderHasNoOwnStock,
    ResaleNotAuthorized,
    Loop,
    MaxDepth,
}

impl Reason {
    pub const ALL: [Reason; 15] = [
        Reason::ConnectionInactive,
        Reason::SellerPaused,
        Reason::MarketplacePaused,
        Reason::SkuInactive,
        Reason::NotInAssortment,
        Reason::NotInTradePolicy,
        Reason::SuggestionPending,
        Reason::SuggestionDenied,
        Reason::NoPrice,
        Reason::QuoteStale,
        Reason::OutOfStock,
        Reason::ForwarderHasNoOwnStock,
        Reason::ResaleNotAuthorized,
        Reason::Loop,
        Reason::MaxDepth,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::ConnectionInactive => "connection_inactive",
            Reason::SellerPaused => "seller_paused",
            Reason::MarketplacePaused => "marketplace_paused",
            Reason::SkuInactive => "sku_inactive",
            Reason::NotInAssortment => "not_in_assortment",
            Reason::NotInTradePolicy => "not_in_trade_policy",
            Reason::SuggestionPending => "suggestion_pending",
            Reason::SuggestionDenied => "suggestion_denied",
            Reason::NoPrice => "no_price",
            Reason::QuoteStale => "quote_stale",
            Reason::OutOfStock => "out_of_stock",
            Reason::ForwarderHasNoOwnStock => "forwarder_has_no_own_stock",
            Reason::ResaleNotAuthorized => "resale_not_authorized",
            Reason::Loop => "loop",
            Reason::MaxDepth => "max_depth",
        }
    }
}

/// A set of reasons as a bit mask; iteration yields them in the order of domain.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Reasons(pub u16);

impl Reasons {
    pub const EMPTY: Reasons = Reasons(0);
    /// The cuts that travel downstream (domain rule 31).
    pub const CUTS: Reasons = Reasons(
        (1 << Reason::ResaleNotAuthorized as u16)
            | (1 << Reason::Loop as u16)
            | (1 << Reason::MaxDepth as u16)
            | (1 << Reason::NotInTradePolicy as u16),
    );
    /// The cuts that also break a path in the sense of rule 27 (authorised, loop-free, short).
    pub const PATH_CUTS: Reasons = Reasons(
        (1 << Reason::ResaleNotAuthorized as u16) | (1 << Reason::Loop as u16) | (1 << Reason::MaxDepth as u16),
    );

    #[inline]
    pub fn add(&mut self, r: Reason) {
        self.0 |= 1 << r as u16;
    }
    #[inline]
    pub fn has(self, r: Reason) -> bool {
        self.0 & (1 << r as u16) != 0
    }
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    #[inline]
    pub fn union(self, o: Reasons) -> Reasons {
        Reasons(self.0 | o.0)
    }
    #[inline]
    pub fn intersects(self, o: Reasons) -> bool {
        self.0 & o.0 != 0
    }
    pub fn iter(self) -> impl Iterator<Item = Reason> {
        Reason::ALL.into_iter().filter(move |r| self.has(*r))
    }
    pub fn codes(self) -> Vec<&'static str> {
        self.iter().map(Reason::code).collect()
    }
}

/// A price in integer minor units of the account's currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Price {
    pub price: i64,
    pub list_price: Option<i64>,
}

/// An `Option<Price>` in 16 bytes instead of 32 (a catalog holds one per SKU): `i64::MIN`,
/// never a valid price (`validate::price` keeps prices in 0..=`MAX_PRICE`), stands for "none"
/// in either half.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PriceSlot {
    price: i64,
    list_price: i64,
}

impl PriceSlot {
    const NONE_I64: i64 = i64::MIN;
    pub const NONE: PriceSlot = PriceSlot { price: Self::NONE_I64, list_price: Self::NONE_I64 };

    #[inline]
    pub fn new(p: Option<Price>) -> PriceSlot {
        match p {
            None => PriceSlot::NONE,
            Some(p) => {
                debug_assert!(p.price != Self::NONE_I64 && p.list_price != Some(Self::NONE_I64));
                PriceSlot { price: p.price, list_price: p.list_price.unwrap_or(Self::NONE_I64) }
            }
        }
    }
    #[inline]
    pub fn get(self) -> Option<Price> {
        (self.price != Self::NONE_I64).then(|| Price {
            price: self.price,
            list_price: (self.list_price != Self::NONE_I64).then_some(self.list_price),
        })
    }
    #[inline]
    pub fn is_none(self) -> bool {
        self.price == Self::NONE_I64
    }
}

impl Default for PriceSlot {
    fn default() -> Self {
        PriceSlot::NONE
    }
}

impl std::fmt::Debug for PriceSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_capped_where_json_numbers_stay_exact() {
        let big = Qty(crate::validate::MAX_QUANTITY as u64 * 1_000);
        let mut q = Qty::ZERO;
        for _ in 0..20 {
            q = q.plus(big);
        }
        assert_eq!(q, Qty(MAX_SHOWN_QUANTITY));
        assert_eq!(Qty(MAX_SHOWN_QUANTITY).plus(Qty(MAX_SHOWN_QUANTITY)).finite(), Some(MAX_SHOWN_QUANTITY));
        assert!(Qty(5).plus(Qty::UNLIMITED).is_unlimited());
        assert_eq!(Qty(2).plus(Qty(3)), Qty(5));
        assert_eq!(MAX_SHOWN_QUANTITY as f64 as u64, MAX_SHOWN_QUANTITY);
    }

    #[test]
    fn a_price_slot_gives_back_what_it_was_given() {
        for p in [
            None,
            Some(Price { price: 0, list_price: None }),
            Some(Price { price: 5, list_price: Some(0) }),
            Some(Price { price: crate::validate::MAX_PRICE, list_price: Some(crate::validate::MAX_PRICE) }),
        ] {
            assert_eq!(PriceSlot::new(p).get(), p);
            assert_eq!(PriceSlot::new(p).is_none(), p.is_none());
        }
        assert_eq!(std::mem::size_of::<PriceSlot>(), 16);
    }
}
