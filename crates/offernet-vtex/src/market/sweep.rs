//! The sweep (vtex-compat.md §3.3): which external sellers' quotes to ask again without a
//! notification, so a lost notification costs at most `refresh_minutes` of staleness. Pure:
//! the caller passes the time (wall-clock milliseconds, the clock quotes are stamped with) and
//! what the engine holds.
//!
//! - Each seller is swept at startup (and when it becomes an external seller), then every half
//!   `refresh_minutes`, asking every SKU without a quote, with a stale one, or with one older
//!   than half `refresh_minutes`. A quote is thus asked again before it is `refresh_minutes`
//!   old (plus one call) while the seller answers, whenever it was last asked.
//! - A quote with a `priceValidUntil` in its future is asked again `VALID_LEAD_MS` before it.
//! - A seller whose circuit is open is skipped (swept as soon as it closes): asking would only
//!   fail, and past the TTL `quote_stale` says what is true.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use offernet_core::QuoteView;

use super::queue::{Key, MAX_KEYS};

/// How long before a quote's `priceValidUntil` it is asked again.
pub const VALID_LEAD_MS: u64 = 60_000;

/// What the sweep remembers between ticks.
#[derive(Debug, Default)]
pub struct Sweep {
    /// When each seller's next sweep is due; a seller not here is due at once.
    next: HashMap<Arc<str>, u64>,
    /// Per SKU, when to ask before its `priceValidUntil`; and the same in time order.
    valid_due: HashMap<Key, u64>,
    valid_order: BTreeSet<(u64, Key)>,
}

impl Sweep {
    pub fn new() -> Sweep {
        Sweep::default()
    }

    /// The sellers to sweep now, out of `sellers` (id, `refresh_minutes` in ms); each is then
    /// due again half its period later. Sellers no longer external are forgotten.
    pub fn sellers_due(
        &mut self,
        sellers: &[(Arc<str>, u64)],
        now_ms: u64,
        circuit_open: impl Fn(&str) -> bool,
    ) -> Vec<Arc<str>> {
        self.next.retain(|s, _| sellers.iter().any(|(id, _)| id == s));
        let mut due = Vec::new();
        for (seller, refresh_ms) in sellers {
            if self.next.get(seller).is_some_and(|&at| at > now_ms) || circuit_open(seller) {
                continue;
            }
            self.next.insert(seller.clone(), now_ms + (refresh_ms / 2).max(1));
            due.push(seller.clone());
        }
        due
    }

    /// The SKUs of one seller's sweep: every SKU in `skus` without a quote, with a stale one,
    /// or with one fetched half `refresh_ms` ago or more.
    pub fn skus_due(skus: &[Arc<str>], quotes: &[QuoteView], refresh_ms: u64, now_ms: u64) -> Vec<Arc<str>> {
        let by_sku: HashMap<&str, &QuoteView> = quotes.iter().map(|q| (&*q.sku, q)).collect();
        let half = refresh_ms / 2;
        skus.iter()
            .filter(|s| by_sku.get(&***s).is_none_or(|q| q.stale || q.fetched_ms.saturating_add(half) <= now_ms))
            .cloned()
            .collect()
    }

    /// Remembers to ask (seller, sku) `VALID_LEAD_MS` before `valid_until_ms`, when that was in
    /// the future of the quote's fetch (VTEX's own examples carry dates long past: those are
    /// ignored). Replaces what was remembered for the SKU.
    pub fn watch_validity(&mut self, key: Key, fetched_ms: u64, valid_until_ms: Option<u64>) {
        if let Some(old) = self.valid_due.remove(&key) {
            self.valid_order.remove(&(old, key.clone()));
        }
        let Some(until) = valid_until_ms.filter(|&v| v > fetched_ms) else { return };
        if self.valid_due.len() >= MAX_KEYS {
            return; // the periodic sweep still asks it
        }
        let at = until.saturating_sub(VALID_LEAD_MS).max(fetched_ms);
        self.valid_due.insert(key.clone(), at);
        self.valid_order.insert((at, key));
    }

    /// The SKUs whose `priceValidUntil` is near, taken (asked once per quote).
    pub fn validity_due(&mut self, now_ms: u64) -> Vec<Key> {
        let mut out = Vec::new();
        while let Some((at, key)) = self.valid_order.first().cloned() {
            if at > now_ms {
                break;
            }
            self.valid_order.pop_first();
            self.valid_due.remove(&key);
            out.push(key);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    fn quote(sku: &str, fetched_ms: u64, stale: bool) -> QuoteView {
        QuoteView { sku: a(sku), fetched_ms, valid_until_ms: None, stale }
    }

    #[test]
    fn sellers_are_swept_at_startup_then_every_half_period_unless_their_circuit_is_open() {
        let mut sw = Sweep::new();
        let sellers = [(a("e"), 60_000), (a("f"), 600_000)];
        let open = |s: &str| s == "f";
        assert_eq!(sw.sellers_due(&sellers, 1_000, open), vec![a("e")]);
        assert!(sw.sellers_due(&sellers, 30_999, open).is_empty());
        assert_eq!(sw.sellers_due(&sellers, 31_000, |_| false), vec![a("e"), a("f")], "f's circuit closed");
        assert!(sw.sellers_due(&sellers, 60_000, |_| false).is_empty());
        assert!(sw.sellers_due(&[(a("f"), 600_000)], 100_000, |_| false).is_empty());
        assert_eq!(sw.sellers_due(&sellers, 100_000, |_| false), vec![a("e")], "e came back: swept at once");
    }

    #[test]
    fn a_sweep_asks_missing_stale_and_older_than_half_the_period() {
        let skus = [a("new"), a("stale"), a("old"), a("fresh")];
        let quotes = [quote("stale", 99_000, true), quote("old", 70_000, false), quote("fresh", 80_001, false)];
        let due = Sweep::skus_due(&skus, &quotes, 40_000, 100_000);
        assert_eq!(due, vec![a("new"), a("stale"), a("old")]);
    }

    #[test]
    fn a_price_valid_until_in_the_future_is_asked_before_it_once() {
        let mut sw = Sweep::new();
        let key = |s: &str| (a("e"), a(s));
        sw.watch_validity(key("a"), 1_000, Some(500_000));
        sw.watch_validity(key("past"), 1_000, Some(900));
        sw.watch_validity(key("none"), 1_000, None);
        sw.watch_validity(key("b"), 1_000, Some(30_000));
        assert_eq!(sw.validity_due(1_000), vec![key("b")], "lead longer than the time left: at once");
        assert!(sw.validity_due(439_999).is_empty());
        // A newer quote replaces the older's reminder.
        sw.watch_validity(key("a"), 2_000, Some(600_000));
        assert!(sw.validity_due(500_000).is_empty());
        assert_eq!(sw.validity_due(540_000), vec![key("a")]);
        assert!(sw.validity_due(u64::MAX).is_empty());
    }
}
