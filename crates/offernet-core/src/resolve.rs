//! Ids resolved at the edge: a command's account and SKU found before the command reaches the
//! single writer, so that applying it does not search for them again.
//!
//! Finding a SKU by its id is a third of a stock or price update's time in the engine (a hash
//! table's control bytes and slot, the SKU record, then the id's text to compare: four
//! dependent cache misses; BENCHMARKS.md). The writer applies one command at a time; its
//! callers are many and run on the other cores. So a caller resolves its command's ids
//! (`Engine::resolve`, under the engine's read lock) and hands the positions to the writer
//! beside the command (`Engine::apply_resolved`). The journal keeps the command as it came,
//! ids only: replay and every other engine resolve by themselves.
//!
//! Why a position found earlier is still right when the command is applied. `resolve` takes
//! `&self`, so it sees the engine between commands only; a SKU that exists between commands
//! keeps its index for the engine's life: indices are assigned in creation order, nothing is
//! deleted, and a refused command changes nothing (a refused import puts its account back,
//! dropping the SKUs it made, and the next SKU takes their index, but no one ever saw them).
//! A `Resolved` names the engine that made it (`EngineId`: a clone or a restored engine is
//! another one) and the command's ids (a hash of them), and is ignored when either differs; a
//! command whose SKU did not exist when it was resolved carries nothing, and the writer looks
//! it up (it may have been made since). So a command applies the same with or without it: the
//! property test applies commands with what was resolved for their SKU any number of commands
//! before, against engines that look every id up.

use std::hash::{Hash, Hasher};

use crate::command::Command;
use crate::error::Result;
use crate::fx::FxHasher;
use crate::model::{AccountIdx, SkuIdx};
use crate::state::Engine;

/// Where a command's account and SKU are in the engine that resolved it (`Engine::resolve`).
/// Opaque: only an engine makes one, and only that engine reads it, for a command naming the
/// same account and SKU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    engine: u64,
    /// A hash of the account's and the SKU's ids, so that one command's `Resolved` handed
    /// with another is ignored (it costs hashing the command's own text, no cache miss).
    ids: u64,
    account: AccountIdx,
    sku: SkuIdx,
}

fn ids_hash(account: &str, sku: &str) -> u64 {
    let mut h = FxHasher::default();
    (account, sku).hash(&mut h);
    h.finish()
}

impl Engine {
    /// The positions of `cmd`'s account and SKU in this engine, for the commands that name
    /// one SKU of one account (stock, price, a fixed price deleted); `None` for other commands
    /// and when either does not exist (then applying looks again, and says what is missing).
    pub fn resolve(&self, cmd: &Command) -> Option<Resolved> {
        let (account, sku) = cmd.single_sku()?;
        let a = *self.account_index.get(account)?;
        let s = self.accounts[a].sku_idx(sku)?;
        Some(Resolved { engine: self.engine_id.0, ids: ids_hash(account, sku), account: a, sku: s })
    }

    /// The account a command names: from what `resolve` found (`Named::new` kept it only if
    /// it holds here), else looked up (not found: `account_idx`'s error).
    pub(crate) fn named_account(&self, n: Named) -> Result<AccountIdx> {
        match n.resolved {
            Some(r) => Ok(r.account),
            None => self.account_idx(n.account),
        }
    }

    /// The SKU a command names in account `a` (the one `named_account` gave): likewise.
    pub(crate) fn named_sku(&self, a: AccountIdx, n: Named) -> Result<SkuIdx> {
        match n.resolved {
            Some(r) => {
                debug_assert!(
                    r.account == a && &*self.accounts[a].id == n.account && &*self.accounts[a].skus[r.sku].id == n.sku,
                    "a resolved account and SKU keep their ids"
                );
                Ok(r.sku)
            }
            None => self.sku_of(a, n.sku),
        }
    }
}

/// A command's account and SKU as it names them, with what `resolve` found for them if it
/// holds in this engine. The handlers look each up where they always did, so that a command
/// refused for several reasons names the same one either way.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Named<'a> {
    pub account: &'a str,
    pub sku: &'a str,
    pub resolved: Option<Resolved>,
}

impl<'a> Named<'a> {
    /// `account` and `sku` with `resolved` if `engine` resolved it for these ids (checked
    /// once, here), else with nothing.
    pub(crate) fn new(engine: &Engine, account: &'a str, sku: &'a str, resolved: Option<Resolved>) -> Named<'a> {
        let resolved = resolved.filter(|r| r.engine == engine.engine_id.0 && r.ids == ids_hash(account, sku));
        Named { account, sku, resolved }
    }

    /// Ids only: the handler looks both up.
    pub(crate) fn ids(account: &'a str, sku: &'a str) -> Named<'a> {
        Named { account, sku, resolved: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cmd(v: serde_json::Value) -> Command {
        serde_json::from_value(v).expect("a command")
    }

    fn put_sku(account: &str, sku: &str) -> Command {
        cmd(json!({"type": "put_sku", "account": account, "sku": sku, "body": {"name": sku}}))
    }

    fn price(account: &str, sku: &str, price: i64) -> Command {
        cmd(json!({"type": "put_price", "account": account, "sku": sku, "body": {"price": price}}))
    }

    fn stock(sku: &str, quantity: i64) -> Command {
        cmd(json!({"type": "put_stock", "account": "s", "warehouse": "w", "sku": sku, "body": {"quantity": quantity}}))
    }

    /// Account `s` (index 1, after `m`) with SKUs `a` and `b` (indices 0 and 1) and warehouse `w`.
    fn engine() -> Engine {
        let mut e = Engine::default();
        for c in [
            cmd(json!({"type": "create_account", "id": "m", "name": "M", "currency": "BRL"})),
            cmd(json!({"type": "create_account", "id": "s", "name": "S", "currency": "BRL"})),
            cmd(json!({"type": "put_warehouse", "account": "s", "warehouse": "w", "body": {}})),
            put_sku("s", "a"),
            put_sku("s", "b"),
        ] {
            e.apply(&c, 0).expect("applies");
        }
        e
    }

    #[test]
    fn single_sku_commands_of_existing_skus_resolve_to_their_positions() {
        let e = engine();
        let at = |c: &Command| e.resolve(c).map(|r| (r.account, r.sku));
        assert_eq!(at(&price("s", "a", 100)), Some((AccountIdx(1), SkuIdx(0))));
        assert_eq!(at(&stock("b", 3)), Some((AccountIdx(1), SkuIdx(1))));
        let delete = cmd(json!({"type": "delete_price", "account": "s", "sku": "b", "trade_policy": "1"}));
        assert_eq!(at(&delete), Some((AccountIdx(1), SkuIdx(1))));
        assert_eq!(at(&price("s", "nope", 100)), None, "a SKU that does not exist");
        assert_eq!(at(&price("nobody", "a", 100)), None, "an account that does not exist");
        assert_eq!(at(&put_sku("s", "a")), None, "not a command that resolves");
    }

    #[test]
    fn a_resolved_command_applies_like_the_same_command_looked_up() {
        let mut e = engine();
        let mut plain = e.clone();
        for c in [price("s", "b", 250), stock("b", 7), stock("a", 2)] {
            let resolved = e.resolve(&c);
            assert!(resolved.is_some());
            assert_eq!(e.apply_resolved(&c, resolved, 0), plain.apply(&c, 0));
        }
        assert_eq!(e.snapshot_bytes(), plain.snapshot_bytes());
    }

    #[test]
    fn what_was_resolved_for_one_command_is_ignored_with_another() {
        let mut e = engine();
        let mut plain = e.clone();
        let for_a = e.resolve(&price("s", "a", 1));
        let c = price("s", "b", 400);
        assert_eq!(e.apply_resolved(&c, for_a, 0), plain.apply(&c, 0));
        assert_eq!(e.snapshot_bytes(), plain.snapshot_bytes(), "b was priced, not a");
    }

    #[test]
    fn another_engine_ignores_what_this_one_resolved() {
        // Two engines that went their own ways: the same index holds different SKUs.
        let mut one = engine();
        let mut two = one.clone();
        one.apply(&put_sku("s", "c"), 0).expect("applies");
        two.apply(&put_sku("s", "d"), 0).expect("applies");
        let c = price("s", "c", 300);
        let resolved = one.resolve(&c).expect("c is in one");
        // In `two`, c does not exist: the command is refused as if it came with ids only,
        // and SKU d (at c's index in `one`) is untouched.
        let before = two.snapshot_bytes();
        assert_eq!(two.apply_resolved(&c, Some(resolved), 0), two.clone().apply(&c, 0));
        assert!(two.apply_resolved(&c, Some(resolved), 0).is_err());
        assert_eq!(two.snapshot_bytes(), before);
        // A clone is another engine too, even while it is still equal.
        let three = one.clone();
        assert_eq!(three.resolve(&c).map(|r| r.engine == resolved.engine), Some(false));
    }
}
