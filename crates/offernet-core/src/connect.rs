//! The two halves of a connection: the seller's affiliation and the marketplace's
//! registration, as one trait (`Half`) so that PUT, PATCH and DELETE are each written once
//! (`put_half`, `patch_half`, `delete_half`), and the parsing they share.

use std::sync::Arc;

use crate::command::*;
use crate::error::{DomainError, Missing, Result};
use crate::model::*;
use crate::state::{Engine, Work};
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

/// The two accounts of a connection, named so that they cannot be swapped.
#[derive(Clone, Copy)]
pub(crate) struct Pair {
    pub seller: AccountIdx,
    pub marketplace: AccountIdx,
}

/// One half of a connection, the seller's (`Affiliation`) or the marketplace's
/// (`Registration`): what PUT, PATCH and DELETE need to know of it, so that each method is
/// written once (`put_half`, `patch_half`, `delete_half`).
pub(crate) trait Half: Clone + PartialEq + Sized {
    type Body;
    /// Rule 39: the fields of a body that are given, checked before any state is read.
    fn check(b: &Self::Body) -> Result<()>;
    /// What a PUT requires beyond `check`.
    fn check_put(b: &Self::Body) -> Result<()> {
        Self::check(b)
    }
    /// The half a PUT starts from.
    fn defaults() -> Self;
    /// `self` with the fields of `b` that are given.
    fn with(self, e: &Engine, pair: Pair, b: &Self::Body) -> Result<Self>;
    /// The half as stored, if it exists.
    fn current(e: &Engine, pair: Pair) -> Option<&Self>;
    /// The 404 of a half that does not exist, naming the half and, as its id, the other
    /// account of the pair (the one a route names after the half's owner).
    fn missing(e: &Engine, pair: Pair) -> DomainError;
    /// Stores `next` (`None`: removes the half) and marks what it changes; `next` differs from
    /// the current half.
    fn replace(e: &mut Engine, pair: Pair, next: Option<Self>, work: &mut Work) -> Result<()>;
}

impl Half for Affiliation {
    type Body = AffiliationBody;
    fn check(b: &AffiliationBody) -> Result<()> {
        if let Some(t) = &b.trade_policy {
            v::item_id("trade_policy", t)?;
        }
        parse_resale(&b.resale)?;
        if let Some(r) = &b.remote_seller_id {
            v::remote_seller_id("remote_seller_id", r)?;
        }
        if let Some(e) = &b.follow_up_email {
            crate::integration::email("follow_up_email", e)?;
        }
        Ok(())
    }
    fn check_put(b: &AffiliationBody) -> Result<()> {
        if b.trade_policy.is_none() {
            return Err(DomainError::invalid("trade_policy", "required"));
        }
        Self::check(b)
    }
    fn defaults() -> Self {
        Affiliation {
            trade_policy: DEFAULT_TRADE_POLICY,
            active: true,
            resale: Resale::None,
            require_own_stock: true,
            remote_seller_id: None,
            follow_up_email: None,
        }
    }
    fn with(mut self, e: &Engine, pair: Pair, b: &AffiliationBody) -> Result<Self> {
        if let Some(t) = &b.trade_policy {
            self.trade_policy = e.tp_of(pair.seller, "trade_policy", t)?;
        }
        if let Some(x) = b.active {
            self.active = x;
        }
        if b.resale.is_some() {
            self.resale = parse_resale(&b.resale)?;
        }
        if let Some(x) = b.require_own_stock {
            self.require_own_stock = x;
        }
        if let Some(r) = &b.remote_seller_id {
            self.remote_seller_id = Some(Arc::from(r.as_str()));
        }
        if let Some(e) = &b.follow_up_email {
            self.follow_up_email = Some(Arc::from(e.as_str()));
        }
        Ok(self)
    }
    fn current(e: &Engine, pair: Pair) -> Option<&Self> {
        e.accounts[pair.seller].affiliations.get(&pair.marketplace)
    }
    fn missing(e: &Engine, pair: Pair) -> DomainError {
        let (s, m) = (&e.accounts[pair.seller].id, &e.accounts[pair.marketplace].id);
        DomainError::not_found(Missing::Connection, &**m, format!("the affiliation of `{s}` with `{m}`"))
    }
    fn replace(e: &mut Engine, pair: Pair, next: Option<Self>, work: &mut Work) -> Result<()> {
        let Pair { seller: s, marketplace: m } = pair;
        let len = |x: Option<&Affiliation>| x.map_or(0, |x| x.resale.id_count());
        e.check_list_ids(s, len(Self::current(e, pair)), len(next.as_ref()))?;
        let acct = &mut e.accounts[s];
        match next {
            Some(n) => acct.affiliations.insert(m, n),
            None => acct.affiliations.remove(&m),
        };
        work.all_skus(e, s);
        Ok(())
    }
}

impl Half for Registration {
    type Body = SellerBody;
    fn check(b: &SellerBody) -> Result<()> {
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
    fn defaults() -> Self {
        Registration {
            trade_policies: vec![DEFAULT_TRADE_POLICY],
            active: true,
            match_mode: MatchMode::Auto,
            commission_bp: 0,
        }
    }
    fn with(mut self, e: &Engine, pair: Pair, b: &SellerBody) -> Result<Self> {
        if let Some(l) = &b.trade_policies {
            let mut tps = Vec::with_capacity(l.len());
            for (i, t) in l.iter().enumerate() {
                let tp = e.tp_of(pair.marketplace, &format!("trade_policies[{i}]"), t)?;
                if !tps.contains(&tp) {
                    tps.push(tp);
                }
            }
            self.trade_policies = tps;
        }
        if let Some(x) = b.active {
            self.active = x;
        }
        if let Some(mm) = &b.match_mode {
            self.match_mode = parse_match_mode(mm)?;
        }
        if let Some(c) = b.commission_bp {
            self.commission_bp = parse_commission(c)?;
        }
        Ok(self)
    }
    fn current(e: &Engine, pair: Pair) -> Option<&Self> {
        e.accounts[pair.marketplace].sellers.get(&pair.seller)
    }
    fn missing(e: &Engine, pair: Pair) -> DomainError {
        let (s, m) = (&e.accounts[pair.seller].id, &e.accounts[pair.marketplace].id);
        DomainError::not_found(Missing::Connection, &**s, format!("the registration of `{s}` at `{m}`"))
    }
    fn replace(e: &mut Engine, pair: Pair, next: Option<Self>, work: &mut Work) -> Result<()> {
        let Pair { seller: s, marketplace: m } = pair;
        match next {
            Some(n) => {
                e.accounts[m].sellers.insert(s, n);
                e.registered_at[s.ix()].insert(m);
            }
            None => {
                e.accounts[m].sellers.remove(&s);
                e.registered_at[s.ix()].remove(&m);
            }
        }
        work.all_skus(e, s);
        work.match_dirty.insert(m);
        Ok(())
    }
}

impl Engine {
    /// Both accounts of a connection half: they exist, differ, and share a currency.
    fn connection_pair(&self, seller: &str, marketplace: &str) -> Result<Pair> {
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
        Ok(Pair { seller: s, marketplace: m })
    }

    /// PUT of a connection half: absent fields take their defaults.
    pub(crate) fn put_half<H: Half>(
        &mut self,
        seller: &str,
        marketplace: &str,
        b: &H::Body,
        work: &mut Work,
    ) -> Result<()> {
        H::check_put(b)?;
        let pair = self.connection_pair(seller, marketplace)?;
        let next = H::defaults().with(self, pair, b)?;
        self.store_half(pair, Some(next), work)
    }

    /// PATCH of a connection half: the fields given replace those of the existing half.
    pub(crate) fn patch_half<H: Half>(
        &mut self,
        seller: &str,
        marketplace: &str,
        b: &H::Body,
        work: &mut Work,
    ) -> Result<()> {
        H::check(b)?;
        let pair = self.connection_pair(seller, marketplace)?;
        let next = self.existing_half::<H>(pair)?.with(self, pair, b)?;
        self.store_half(pair, Some(next), work)
    }

    /// DELETE of a connection half.
    pub(crate) fn delete_half<H: Half>(&mut self, seller: &str, marketplace: &str, work: &mut Work) -> Result<()> {
        let pair = self.connection_pair(seller, marketplace)?;
        self.existing_half::<H>(pair)?;
        self.store_half::<H>(pair, None, work)
    }

    /// For reads: the half of `seller` and `marketplace` as stored; 404 when an account or the
    /// half does not exist.
    pub(crate) fn read_half<H: Half>(&self, seller: &str, marketplace: &str) -> Result<(Pair, &H)> {
        let pair = Pair { seller: self.account_idx(seller)?, marketplace: self.account_idx(marketplace)? };
        let half = H::current(self, pair).ok_or_else(|| H::missing(self, pair))?;
        Ok((pair, half))
    }

    /// The half as stored; 404 when it does not exist.
    fn existing_half<H: Half>(&self, pair: Pair) -> Result<H> {
        H::current(self, pair).cloned().ok_or_else(|| H::missing(self, pair))
    }

    /// Replaces the half by `next` (`None`: removes it) if that changes it.
    fn store_half<H: Half>(&mut self, pair: Pair, next: Option<H>, work: &mut Work) -> Result<()> {
        if next.as_ref() == H::current(self, pair) {
            return Ok(());
        }
        H::replace(self, pair, next, work)
    }
}
