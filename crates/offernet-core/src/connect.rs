//! The two halves of a connection: the seller's affiliation and the marketplace's
//! registration (PUT, PATCH, DELETE), and the checks they share.

use std::sync::Arc;

use crate::command::*;
use crate::engine::{Engine, Work};
use crate::error::{DomainError, Result};
use crate::model::*;
use crate::validate as v;

pub(crate) fn parse_resale(r: &Option<WordOrList>) -> Result<Resale> {
    Ok(match r {
        None => Resale::None,
        Some(WordOrList::Word(w)) if w == "none" => Resale::None,
        Some(WordOrList::Word(w)) if w == "all" => Resale::All,
        Some(WordOrList::Word(_)) => {
            return Err(DomainError::invalid("resale", "\"none\", \"all\" or a list of account ids"))
        }
        Some(WordOrList::List(l)) => {
            v::list_len("resale", l.len(), v::MAX_LIST_LEN)?;
            for (i, a) in l.iter().enumerate() {
                v::account_id(&format!("resale[{i}]"), a)?;
            }
            let mut ids: Vec<Arc<str>> = l.iter().map(|a| Arc::from(a.as_str())).collect();
            ids.sort();
            ids.dedup();
            if ids.is_empty() {
                Resale::None
            } else {
                Resale::List(ids)
            }
        }
    })
}

pub(crate) fn parse_match_mode(m: &str) -> Result<MatchMode> {
    match m {
        "auto" => Ok(MatchMode::Auto),
        "score" => Ok(MatchMode::Score),
        "manual" => Ok(MatchMode::Manual),
        _ => Err(DomainError::invalid("match_mode", "one of auto, score, manual")),
    }
}

pub(crate) fn parse_commission(c: i64) -> Result<u16> {
    if !(0..=v::MAX_COMMISSION_BP).contains(&c) {
        return Err(DomainError::invalid("commission_bp", "between 0 and 10000 basis points"));
    }
    Ok(c as u16)
}

/// A connection half that must exist (404 naming `what` otherwise).
fn existing<T: Clone>(half: Option<&T>, what: impl FnOnce() -> String) -> Result<T> {
    half.cloned().ok_or_else(|| DomainError::not_found(what()))
}

/// Rule 39: the fields of an affiliation body that are given, checked before any state is read.
fn check_affiliation_body(b: &AffiliationBody) -> Result<()> {
    if let Some(t) = &b.trade_policy {
        v::item_id("trade_policy", t)?;
    }
    parse_resale(&b.resale)?;
    Ok(())
}

/// Rule 39: the fields of a registration body that are given, checked before any state is read.
fn check_seller_body(b: &SellerBody) -> Result<()> {
    if let Some(l) = &b.trade_policies {
        v::list_len("trade_policies", l.len(), v::MAX_LIST_LEN)?;
        for (i, t) in l.iter().enumerate() {
            v::item_id(&format!("trade_policies[{i}]"), t)?;
        }
    }
    if let Some(mm) = &b.match_mode {
        parse_match_mode(mm)?;
    }
    if let Some(c) = b.commission_bp {
        parse_commission(c)?;
    }
    Ok(())
}

impl Engine {
    /// Both accounts of a connection half: they exist, differ, and share a currency.
    pub(crate) fn connection_pair(&self, seller: &str, marketplace: &str) -> Result<(AccountIdx, AccountIdx)> {
        if seller == marketplace {
            return Err(DomainError::invalid("account", "a connection to oneself is not allowed"));
        }
        let s = self.account_idx(seller)?;
        let m = self.account_idx(marketplace)?;
        if self.accounts[s].currency != self.accounts[m].currency {
            return Err(DomainError::conflict(format!(
                "`{seller}` sells in {} and `{marketplace}` in {}: a connection needs one currency",
                self.accounts[s].currency, self.accounts[m].currency
            )));
        }
        Ok((s, m))
    }

    /// PUT of a seller's half: `trade_policy` is required; absent fields take their defaults.
    pub(crate) fn put_affiliation(
        &mut self,
        seller: &str,
        marketplace: &str,
        b: &AffiliationBody,
        work: &mut Work,
    ) -> Result<()> {
        // Rule 39: the body whole first, then what depends on state.
        if b.trade_policy.is_none() {
            return Err(DomainError::invalid("trade_policy", "required"));
        }
        check_affiliation_body(b)?;
        let (s, m) = self.connection_pair(seller, marketplace)?;
        let base = Affiliation {
            trade_policy: DEFAULT_TRADE_POLICY,
            active: true,
            resale: Resale::None,
            require_own_stock: true,
        };
        let next = self.affiliation_from(s, base, b)?;
        self.store_affiliation(s, m, Some(next), work)
    }

    /// PATCH of a seller's half: the fields given replace those of the existing half.
    pub(crate) fn patch_affiliation(
        &mut self,
        seller: &str,
        marketplace: &str,
        b: &AffiliationBody,
        work: &mut Work,
    ) -> Result<()> {
        check_affiliation_body(b)?;
        let (s, m) = self.connection_pair(seller, marketplace)?;
        let base = self.current_affiliation(s, m)?;
        let next = self.affiliation_from(s, base, b)?;
        self.store_affiliation(s, m, Some(next), work)
    }

    /// DELETE of a seller's half.
    pub(crate) fn delete_affiliation(&mut self, seller: &str, marketplace: &str, work: &mut Work) -> Result<()> {
        let (s, m) = self.connection_pair(seller, marketplace)?;
        self.current_affiliation(s, m)?;
        self.store_affiliation(s, m, None, work)
    }

    /// Seller `s`'s half with `m`, which must exist.
    fn current_affiliation(&self, s: AccountIdx, m: AccountIdx) -> Result<Affiliation> {
        existing(self.accounts[s].affiliations.get(&m), || {
            format!("the affiliation of `{}` with `{}`", self.accounts[s].id, self.accounts[m].id)
        })
    }

    /// `base` with the fields of `b` that are given.
    fn affiliation_from(&self, s: AccountIdx, mut next: Affiliation, b: &AffiliationBody) -> Result<Affiliation> {
        if let Some(t) = &b.trade_policy {
            next.trade_policy = self.tp_of(s, "trade_policy", t)?;
        }
        if let Some(x) = b.active {
            next.active = x;
        }
        if b.resale.is_some() {
            next.resale = parse_resale(&b.resale)?;
        }
        if let Some(x) = b.require_own_stock {
            next.require_own_stock = x;
        }
        Ok(next)
    }

    /// Replaces seller `s`'s half with `m` by `next` (`None`: removes it), if that changes it.
    fn store_affiliation(
        &mut self,
        s: AccountIdx,
        m: AccountIdx,
        next: Option<Affiliation>,
        work: &mut Work,
    ) -> Result<()> {
        let current = self.accounts[s].affiliations.get(&m);
        if next.as_ref() == current {
            return Ok(());
        }
        let len = |x: Option<&Affiliation>| x.map_or(0, |x| x.resale.id_count());
        self.check_list_ids(s, len(current), len(next.as_ref()))?;
        let acct = &mut self.accounts[s];
        match next {
            Some(n) => acct.affiliations.insert(m, n),
            None => acct.affiliations.remove(&m),
        };
        work.all_skus(self, s);
        Ok(())
    }

    /// PUT of a marketplace's half (its registration of a seller); absent fields take their
    /// defaults.
    pub(crate) fn put_registration(
        &mut self,
        marketplace: &str,
        seller: &str,
        b: &SellerBody,
        work: &mut Work,
    ) -> Result<()> {
        check_seller_body(b)?;
        let (s, m) = self.connection_pair(seller, marketplace)?;
        let base = Registration {
            trade_policies: vec![DEFAULT_TRADE_POLICY],
            active: true,
            match_mode: MatchMode::Auto,
            commission_bp: 0,
        };
        let next = self.registration_from(m, base, b)?;
        self.store_registration(m, s, Some(next), work);
        Ok(())
    }

    /// PATCH of a marketplace's half: the fields given replace those of the existing half.
    pub(crate) fn patch_registration(
        &mut self,
        marketplace: &str,
        seller: &str,
        b: &SellerBody,
        work: &mut Work,
    ) -> Result<()> {
        check_seller_body(b)?;
        let (s, m) = self.connection_pair(seller, marketplace)?;
        let base = self.current_registration(m, s)?;
        let next = self.registration_from(m, base, b)?;
        self.store_registration(m, s, Some(next), work);
        Ok(())
    }

    /// DELETE of a marketplace's half.
    pub(crate) fn delete_registration(&mut self, marketplace: &str, seller: &str, work: &mut Work) -> Result<()> {
        let (s, m) = self.connection_pair(seller, marketplace)?;
        self.current_registration(m, s)?;
        self.store_registration(m, s, None, work);
        Ok(())
    }

    /// Marketplace `m`'s half for `s`, which must exist.
    fn current_registration(&self, m: AccountIdx, s: AccountIdx) -> Result<Registration> {
        existing(self.accounts[m].sellers.get(&s), || {
            format!("the registration of `{}` at `{}`", self.accounts[s].id, self.accounts[m].id)
        })
    }

    /// `base` with the fields of `b` that are given.
    fn registration_from(&self, m: AccountIdx, mut next: Registration, b: &SellerBody) -> Result<Registration> {
        if let Some(l) = &b.trade_policies {
            let mut tps = Vec::with_capacity(l.len());
            for (i, t) in l.iter().enumerate() {
                let tp = self.tp_of(m, &format!("trade_policies[{i}]"), t)?;
                if !tps.contains(&tp) {
                    tps.push(tp);
                }
            }
            next.trade_policies = tps;
        }
        if let Some(x) = b.active {
            next.active = x;
        }
        if let Some(mm) = &b.match_mode {
            next.match_mode = parse_match_mode(mm)?;
        }
        if let Some(c) = b.commission_bp {
            next.commission_bp = parse_commission(c)?;
        }
        Ok(next)
    }

    /// Replaces marketplace `m`'s half for `s` by `next` (`None`: removes it), if that changes it.
    fn store_registration(&mut self, m: AccountIdx, s: AccountIdx, next: Option<Registration>, work: &mut Work) {
        if next.as_ref() == self.accounts[m].sellers.get(&s) {
            return;
        }
        match next {
            Some(n) => {
                self.accounts[m].sellers.insert(s, n);
                self.registered_at[s.ix()].insert(m);
            }
            None => {
                self.accounts[m].sellers.remove(&s);
                self.registered_at[s.ix()].remove(&m);
            }
        }
        work.all_skus(self, s);
        work.match_dirty.insert(m);
    }
}
