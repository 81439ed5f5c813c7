//! Shared text: a brand or a category that many SKUs carry is held once, not once per SKU.
//!
//! The engine keeps one `Interner`; `put_sku` takes brands and categories from it. Sharing is
//! invisible to behaviour (an `Arc<str>` compares, hashes and encodes by its text), so the
//! state, the events and the snapshot bytes are what they were; only memory changes.
//!
//! A limit: strings no SKU holds any more are dropped from the set once it has doubled since
//! the last sweep, so the set holds at most about twice the live distinct strings (and at
//! least `MIN_SWEEP` before it sweeps at all).

use std::sync::Arc;

use crate::fx::FxHashSet;

/// The set is not swept while it holds fewer strings than this.
const MIN_SWEEP: usize = 1024;

#[derive(Clone, Default)]
pub(crate) struct Interner {
    set: FxHashSet<Arc<str>>,
    /// Strings left after the last sweep.
    kept: usize,
}

/// Not state: what it holds is not shown, so that an engine's `Debug` (which tests compare
/// before and after a refused command) is the same whichever text happened to be shared.
impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Interner")
    }
}

impl Interner {
    /// The shared `Arc<str>` holding `s`.
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return a.clone();
        }
        if self.set.len() >= (2 * self.kept).max(MIN_SWEEP) {
            // Only the set holds these: nothing shares them any more.
            self.set.retain(|a| Arc::strong_count(a) > 1);
            self.kept = self.set.len();
        }
        let a: Arc<str> = Arc::from(s);
        self.set.insert(a.clone());
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_text_is_shared_and_unheld_text_is_swept() {
        let mut i = Interner::default();
        let a = i.get("brand-1");
        let b = i.get("brand-1");
        assert!(Arc::ptr_eq(&a, &b));
        for n in 0..10 * MIN_SWEEP {
            drop(i.get(&format!("gone-{n}")));
        }
        assert!(i.set.len() <= 2 * MIN_SWEEP, "the set is bounded: {}", i.set.len());
        assert!(Arc::ptr_eq(&a, &i.get("brand-1")), "held text survives a sweep");
    }
}
