//! Applying an import: every line through its single route's handler, then one settle, or
//! the account's state put back (see `import.rs`).

use super::{ImportErrors, ImportLine, MAX_IMPORT_LINES};
use crate::error::{DomainError, Missing, Result};
use crate::fx::FxHashSet;
use crate::model::*;
use crate::resolve::Named;
use crate::state::{Engine, Work};

/// Nodes the lines left for settling, without repeats: an import of a million SKUs leaves a
/// million nodes, and a trade policy line may mark every SKU of the account again.
struct Dirty {
    account: AccountIdx,
    /// The import account's own SKUs, by position.
    own: Vec<bool>,
    /// Other accounts' SKUs (the sellers bound to a changed SKU).
    others: FxHashSet<(AccountIdx, SkuIdx)>,
}

impl Dirty {
    fn add(&mut self, nodes: &[(AccountIdx, SkuIdx)]) {
        for &(a, s) in nodes {
            if a == self.account {
                if self.own.len() <= s.ix() {
                    self.own.resize(s.ix() + 1, false);
                }
                self.own[s.ix()] = true;
            } else {
                self.others.insert((a, s));
            }
        }
    }

    fn into_nodes(self) -> Vec<(AccountIdx, SkuIdx)> {
        let a = self.account;
        let mut out: Vec<_> =
            self.own.iter().enumerate().filter(|(_, &d)| d).map(|(i, _)| (a, SkuIdx::new(i))).collect();
        let mut others: Vec<_> = self.others.into_iter().collect();
        others.sort_unstable();
        out.extend(others);
        out
    }
}

impl Engine {
    /// Applies every line of an import in order, or none: see the module's documentation.
    pub(crate) fn import(&mut self, account: &str, lines: &[ImportLine], work: &mut Work) -> Result<()> {
        if lines.is_empty() {
            return Err(DomainError::invalid("lines", "an import has at least one line"));
        }
        if lines.len() > MAX_IMPORT_LINES {
            return Err(DomainError::invalid("lines", format!("at most {MAX_IMPORT_LINES} lines per import")));
        }
        // A missing account: every line is still checked, so bad lines are named before the
        // account (rule 39: the body before state); the handlers change nothing then.
        let a = self.account_index.get(account).copied();
        let saved = a.map(|a| self.accounts[a].clone());
        let mut errors = ImportErrors::default();
        let mut dirty = Dirty { account: a.unwrap_or_default(), own: Vec::new(), others: FxHashSet::default() };
        for (i, line) in lines.iter().enumerate() {
            let mut w = Work::default();
            match self.import_line(account, line, &mut w) {
                Ok(()) => {
                    dirty.add(&w.dirty);
                    work.match_dirty.append(&mut w.match_dirty);
                    work.rematch.append(&mut w.rematch);
                    work.events.append(&mut w.events);
                }
                Err(DomainError::NotFound { missing: Missing::Account, .. }) => {}
                Err(e) => errors.push(ImportErrors::line(i, line, e)),
            }
        }
        if errors.total > 0 {
            if let (Some(a), Some(saved)) = (a, saved) {
                self.accounts[a] = saved;
            }
            work.match_dirty.clear();
            work.rematch.clear();
            work.events.clear();
            return Err(DomainError::Import(Box::new(errors)));
        }
        self.account_idx(account)?;
        work.dirty.extend(dirty.into_nodes());
        Ok(())
    }

    fn import_line(&mut self, account: &str, line: &ImportLine, w: &mut Work) -> Result<()> {
        match line {
            ImportLine::Sku { id, body } => self.put_sku(account, id, body, w),
            ImportLine::Price { sku, body } => self.put_price(Named::ids(account, sku), body, w),
            ImportLine::Warehouse { id, body } => self.put_warehouse(account, id, body, w),
            ImportLine::Stock { warehouse, sku, body } => self.put_stock(Named::ids(account, sku), warehouse, body, w),
            ImportLine::TradePolicy { id, body } => self.put_trade_policy(account, id, body, w),
        }
    }
}
