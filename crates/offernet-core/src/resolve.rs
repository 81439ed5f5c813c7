//! Ids resolved to indices at the edge: a command's account and SKU found before the command
//! reaches the single writer, so that applying it does not search for them again.
//!
//! Finding a SKU by its id is a third of a stock or price update's time in the engine (a hash
//! table's control bytes and slot, the SKU record, then the id's text to compare: four
//! dependent cache misses; BENCHMARKS.md). The writer applies one command at a time; its
//! callers are many and run on the other cores. So a caller resolves its command's ids
//! (`Engine::resolve`, under the engine's read lock) and hands the positions to the writer
//! beside the command (`Engine::apply_resolved`). The journal keeps the command as it came,
//! ids only: replay and every other engine resolve by themselves.
//!
//! Why a position found earlier is still right when the command is applied: indices are
//! assigned in creation order and never reused, and nothing is ever deleted, so within one
//! engine the SKU at (account, index) keeps its id forever. A `Resolved` names the engine it
//! came from (`Lineage`: a clone or a restored engine is another one) and any other engine
//! ignores it. A command whose SKU did not exist yet when it was resolved carries nothing and
//! is resolved by the writer, which may see the SKU created since. So applying with or without
//! it gives the same result, events and state (the property test applies every command
//! resolved and checks it against engines that do not).

use crate::command::Command;
use crate::error::Result;
use crate::model::{AccountIdx, SkuIdx};
use crate::state::Engine;

/// Where a command's account and SKU are in the engine that resolved it (`Engine::resolve`).
/// Opaque: only an engine makes one, and only that engine reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    lineage: u64,
    account: AccountIdx,
    sku: SkuIdx,
}

impl Engine {
    /// The positions of `cmd`'s account and SKU in this engine, for the commands that name
    /// one SKU of one account (stock, price, fixed price deleted); `None` for other commands
    /// and when either does not exist (then applying finds out, and says so).
    pub fn resolve(&self, cmd: &Command) -> Option<Resolved> {
        let (account, sku) = match cmd {
            Command::PutStock { account, sku, .. }
            | Command::PutPrice { account, sku, .. }
            | Command::DeletePrice { account, sku, .. } => (account, sku),
            _ => return None,
        };
        let a = *self.account_index.get(account.as_str())?;
        let s = self.accounts[a].sku_idx(sku)?;
        Some(Resolved { lineage: self.lineage.0, account: a, sku: s })
    }

    /// The account a command names: from what `resolve` found, if this engine found it,
    /// else looked up (not found: `account_idx`'s error).
    pub(crate) fn named_account(&self, n: Named) -> Result<AccountIdx> {
        match n.mine(self) {
            Some(r) => Ok(r.account),
            None => self.account_idx(n.account),
        }
    }

    /// The SKU a command names in account `a` (the one `named_account` gave): likewise.
    pub(crate) fn named_sku(&self, a: AccountIdx, n: Named) -> Result<SkuIdx> {
        match n.mine(self) {
            Some(r) => {
                debug_assert!(
                    r.account == a && &*self.accounts[a].skus[r.sku].id == n.sku,
                    "a resolved SKU keeps its id"
                );
                Ok(r.sku)
            }
            None => self.sku_of(a, n.sku),
        }
    }
}

/// A command's account and SKU as it names them, with what `resolve` found for them, if
/// anything. The handlers look each up where they always did, so that a command refused for
/// several reasons names the same one either way.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Named<'a> {
    pub account: &'a str,
    pub sku: &'a str,
    pub at: Option<Resolved>,
}

impl Named<'_> {
    /// What was resolved, when `engine` resolved it.
    fn mine(&self, engine: &Engine) -> Option<Resolved> {
        self.at.filter(|r| r.lineage == engine.lineage.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::*;

    fn cmd(v: serde_json::Value) -> Command {
        serde_json::from_value(v).expect("a command")
    }

    fn put_sku(account: &str, sku: &str) -> Command {
        cmd(serde_json::json!({"type": "put_sku", "account": account, "sku": sku, "body": {"name": sku}}))
    }

    fn price(account: &str, sku: &str, price: i64) -> Command {
        cmd(serde_json::json!({"type": "put_price", "account": account, "sku": sku, "body": {"price": price}}))
    }

    fn engine() -> Engine {
        let mut e = Engine::default();
        for c in [
            cmd(serde_json::json!({"type": "create_account", "id": "s", "name": "S", "currency": "BRL"})),
            put_sku("s", "a"),
        ] {
            e.apply(&c, 0).expect("applies");
        }
        e
    }

    #[test]
    fn only_single_sku_commands_of_existing_skus_resolve() {
        let e = engine();
        assert!(e.resolve(&price("s", "a", 100)).is_some());
        assert!(e.resolve(&price("s", "nope", 100)).is_none(), "a SKU that does not exist");
        assert!(e.resolve(&price("nobody", "a", 100)).is_none(), "an account that does not exist");
        assert!(e.resolve(&put_sku("s", "a")).is_none(), "not a command that resolves");
    }

    #[test]
    fn a_resolved_command_applies_like_the_same_command_looked_up() {
        let mut e = engine();
        let mut plain = e.clone();
        let c = price("s", "a", 250);
        let at = e.resolve(&c);
        assert!(at.is_some());
        assert_eq!(e.apply_resolved(&c, at, 0), plain.apply(&c, 0));
        assert_eq!(e.snapshot_bytes(), plain.snapshot_bytes());
    }

    #[test]
    fn another_engine_ignores_what_this_one_resolved() {
        // Two engines that went their own ways: the same index holds different SKUs.
        let mut one = engine();
        let mut two = one.clone();
        one.apply(&put_sku("s", "b"), 0).expect("applies");
        two.apply(&put_sku("s", "c"), 0).expect("applies");
        let c = price("s", "b", 300);
        let at = one.resolve(&c).expect("b is in one");
        // In `two`, b does not exist: the command is refused as if it came with ids only,
        // and SKU c (at b's index in `one`) is untouched.
        let before = two.snapshot_bytes();
        assert_eq!(two.apply_resolved(&c, Some(at), 0), two.clone().apply(&c, 0));
        assert!(two.apply_resolved(&c, Some(at), 0).is_err());
        assert_eq!(two.snapshot_bytes(), before);
        // A clone is another engine too, even while it is still equal.
        let three = one.clone();
        assert_eq!(three.resolve(&c).map(|r| r.lineage == at.lineage), Some(false));
    }
}
