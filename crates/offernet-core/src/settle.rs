//! Incremental propagation: after a command's ground change, recompute exactly the offers
//! it can affect (following bindings downstream, any number of levels), send what is now
//! sendable in the order of domain rules 7 and 25, and match pending suggestions again
//! (rule 26), until nothing changes. All within the command.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::catalog::{index_sku, insert_sku, ref_key};
use crate::event::{Event, EventBody};
use crate::model::*;
use crate::state::{Engine, Scratch, Work};
use crate::validate::MAX_ITEM_ID_LEN;

/// Sends are ordered by (marketplace id, seller id, seller SKU id), as strings.
type SendKey = (Arc<str>, Arc<str>, Arc<str>);

/// A bound on the steps of one command's settling. The stock rule (loop cut, `max_chain`)
/// makes settling finite; this limit turns a bug into a loud failure instead of a hang.
const MAX_SETTLE_STEPS: usize = 50_000_000;

pub(crate) enum NewSkuId {
    /// The SKU this same suggestion created before (rule 29).
    Reuse(SkuIdx),
    Create(String),
    /// Both ids are taken: the suggestion waits for an explicit `sku`.
    Unavailable,
}

impl Engine {
    fn send_key(&self, m: AccountIdx, s: AccountIdx, ss: SkuIdx) -> SendKey {
        let sa = &self.accounts[s];
        (self.accounts[m].id.clone(), sa.id.clone(), sa.skus[ss].id.clone())
    }

    pub(crate) fn emit(&mut self, work: &mut Work, account: Arc<str>, body: EventBody) {
        self.seq += 1;
        work.events.push(Event { seq: self.seq, account, body });
    }

    pub(crate) fn settle(&mut self, work: &mut Work) {
        let mut queue: BTreeMap<SendKey, (AccountIdx, AccountIdx, SkuIdx)> = BTreeMap::new();
        let mut steps = 0usize;
        loop {
            steps += 1;
            assert!(steps < MAX_SETTLE_STEPS, "settling a command did not terminate");
            self.flush(work, &mut queue);
            // Rule 25: always the smallest pending send next, re-checked when its turn comes.
            if let Some((_, (m, s, ss))) = queue.pop_first() {
                self.process_send(m, s, ss, work);
                continue;
            }
            // Rule 26: match pending suggestions again where their inputs changed.
            let mut keys: Vec<(AccountIdx, AccountIdx, SkuIdx)> = Vec::new();
            for &m in &work.match_dirty {
                keys.extend(self.pending[m.ix()].iter().map(|&(s, ss)| (m, s, ss)));
            }
            keys.extend(work.rematch.iter().copied());
            work.match_dirty.clear();
            work.rematch.clear();
            if keys.is_empty() {
                if work.dirty.is_empty() {
                    break;
                }
                continue;
            }
            let mut keyed: Vec<(SendKey, (AccountIdx, AccountIdx, SkuIdx))> =
                keys.into_iter().map(|k| (self.send_key(k.0, k.1, k.2), k)).collect();
            keyed.sort();
            keyed.dedup();
            for (_, (m, s, ss)) in keyed {
                if self.pending[m.ix()].contains(&(s, ss)) {
                    self.try_match(m, s, ss, work);
                }
            }
        }
    }

    /// Recomputes every offer downstream of the dirty nodes and queues every send that
    /// their new state allows.
    fn flush(&mut self, work: &mut Work, queue: &mut BTreeMap<SendKey, (AccountIdx, AccountIdx, SkuIdx)>) {
        if work.dirty.is_empty() {
            return;
        }
        // Scratch vectors live in the engine so the hot path does not allocate per command.
        let mut nodes = std::mem::take(&mut self.scratch.nodes);
        let mut frontier = std::mem::take(&mut self.scratch.frontier);
        let mut next = std::mem::take(&mut self.scratch.next);
        nodes.clear();
        nodes.append(&mut work.dirty);
        nodes.sort_unstable();
        nodes.dedup();
        // A change at X can reach an offer at most `max_chain - 2` bindings downstream (X is
        // the origin of a chain of at most `max_chain` accounts); going `max_chain` levels is
        // a safe margin, and the depth bound keeps cycles finite.
        frontier.clear();
        frontier.extend_from_slice(&nodes);
        for _ in 0..self.config.max_chain {
            next.clear();
            for &(a, s) in &frontier {
                next.extend_from_slice(&self.accounts[a].skus[s].bound_at);
            }
            if next.is_empty() {
                break;
            }
            next.sort_unstable();
            next.dedup();
            nodes.extend_from_slice(&next);
            std::mem::swap(&mut frontier, &mut next);
        }
        nodes.sort_unstable();
        nodes.dedup();
        let mut targets = std::mem::take(&mut self.scratch.targets);
        for &(s, ss) in &nodes {
            let n_bound = self.accounts[s].skus[ss].bound_at.len();
            for i in 0..n_bound {
                let (m, mk) = self.accounts[s].skus[ss].bound_at[i];
                let state = self.eval_offer(m, s, ss, Some(mk), None).offer_state();
                self.store_offer(m, s, ss, mk, Some(state), work);
            }
            targets.clear();
            targets.extend(self.accounts[s].affiliations.keys().copied());
            for &m in &targets {
                let market = &self.accounts[m];
                if !market.sellers.contains_key(&s) || market.suggestions.contains_key(&(s, ss)) {
                    continue;
                }
                if self.eval_offer(m, s, ss, None, None).sends {
                    queue.insert(self.send_key(m, s, ss), (m, s, ss));
                }
            }
        }
        nodes.clear();
        frontier.clear();
        next.clear();
        targets.clear();
        self.scratch = Scratch { nodes, frontier, next, targets };
    }

    /// Stores a recomputed offer (or its disappearance) and emits `offer.changed` if it differs.
    fn store_offer(
        &mut self,
        m: AccountIdx,
        s: AccountIdx,
        ss: SkuIdx,
        mk: SkuIdx,
        state: Option<OfferState>,
        work: &mut Work,
    ) {
        let sugg = self.accounts[m].suggestions.get_mut(&(s, ss)).expect("a binding has a suggestion");
        if sugg.offer() == state {
            return;
        }
        sugg.set_offer(state);
        let view = state.map(|st| self.offer_view(m, s, ss, mk, &st));
        let (market, seller) = (&self.accounts[m], &self.accounts[s]);
        let body = EventBody::OfferChanged {
            marketplace: market.id.clone(),
            sku: market.skus[mk].id.clone(),
            seller: seller.id.clone(),
            seller_sku: seller.skus[ss].id.clone(),
            offer: view,
        };
        let to = market.id.clone();
        self.emit(work, to, body);
    }

    fn process_send(&mut self, m: AccountIdx, s: AccountIdx, ss: SkuIdx, work: &mut Work) {
        if self.accounts[m].suggestions.contains_key(&(s, ss)) {
            return;
        }
        if !self.eval_offer(m, s, ss, None, None).sends {
            return;
        }
        self.accounts[m].suggestions.insert((s, ss), Suggestion::new(SuggestionStatus::Pending, None));
        self.pending[m.ix()].insert((s, ss));
        let (mid, sid, skid) = self.send_key(m, s, ss);
        self.emit(work, mid.clone(), EventBody::SuggestionCreated { marketplace: mid, seller: sid, seller_sku: skid });
        // Rule 36: matched with the other pending suggestions once the sends are done.
        work.rematch.insert((m, s, ss));
    }

    /// The marketplace's matcher (rule 8): GTIN first, else ref_id and brand. Sorted by id.
    pub(crate) fn candidates(&self, m: AccountIdx, s: AccountIdx, ss: SkuIdx) -> Vec<SkuIdx> {
        let item = &self.accounts[s].skus[ss];
        let market = &self.accounts[m];
        let mut out: Vec<SkuIdx> = Vec::new();
        if let Some((_, g)) = &item.info.ean {
            if let Some(v) = market.gtin_index.get(g) {
                out.extend_from_slice(v);
            }
        }
        if out.is_empty() {
            if let Some(k) = ref_key(item) {
                if let Some(v) = market.ref_index.get(&k) {
                    out.extend(v.iter().copied().filter(|&c| match (&item.info.ean, &market.skus[c].info.ean) {
                        (Some(a), Some(b)) => a.1 == b.1,
                        _ => true,
                    }));
                }
            }
        }
        out.sort_by(|a, b| market.skus[*a].id.cmp(&market.skus[*b].id));
        out
    }

    /// Whether M's SKU `mk` is bound to a SKU of seller `s` other than `ss` (rule 8: at most
    /// one binding per seller).
    pub(crate) fn bound_to_other(&self, m: AccountIdx, mk: SkuIdx, s: AccountIdx, ss: SkuIdx) -> bool {
        self.accounts[m].skus[mk].sources.iter().any(|&(u, us)| u == s && us != ss)
    }

    /// Rule 8's candidates for S's SKU `ss` at M that no other SKU of S is bound to: the ones
    /// matching may bind (rule 28).
    pub(crate) fn free_candidates(&self, m: AccountIdx, s: AccountIdx, ss: SkuIdx) -> Vec<SkuIdx> {
        self.unbound(m, s, ss, self.candidates(m, s, ss))
    }

    fn unbound(&self, m: AccountIdx, s: AccountIdx, ss: SkuIdx, mut candidates: Vec<SkuIdx>) -> Vec<SkuIdx> {
        candidates.retain(|&mk| !self.bound_to_other(m, mk, s, ss));
        candidates
    }

    /// The id of a SKU created from a suggestion (rules 9 and 29).
    pub(crate) fn new_sku_id(&self, m: AccountIdx, s: AccountIdx, ss: SkuIdx) -> NewSkuId {
        let seller = &self.accounts[s];
        let market = &self.accounts[m];
        let sku_id = &seller.skus[ss].id;
        let reusable = |i: SkuIdx| market.skus[i].created_from == Some((s, ss)) && !self.bound_to_other(m, i, s, ss);
        let plain = format!("{}-{}", seller.id, sku_id);
        if plain.len() <= MAX_ITEM_ID_LEN {
            match market.sku_idx(&plain) {
                None => return NewSkuId::Create(plain),
                Some(i) if reusable(i) => return NewSkuId::Reuse(i),
                Some(_) => {}
            }
        }
        let digest = Sha256::digest(format!("{}/{}", seller.id, sku_id).as_bytes());
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let hashed = format!("sg-{hex}");
        match market.sku_idx(&hashed) {
            None => NewSkuId::Create(hashed),
            Some(i) if reusable(i) => NewSkuId::Reuse(i),
            Some(_) => NewSkuId::Unavailable,
        }
    }

    /// Matches a pending suggestion by M's match mode (binds it when the mode finds a SKU).
    fn try_match(&mut self, m: AccountIdx, s: AccountIdx, ss: SkuIdx, work: &mut Work) {
        let Some(reg) = self.accounts[m].sellers.get(&s) else {
            return;
        };
        let target = match reg.match_mode {
            MatchMode::Manual => None,
            // Score binds the one candidate when it is free; Auto the smallest free one, or a
            // new SKU when there is no candidate at all (rule 28).
            MatchMode::Score => {
                let c = self.candidates(m, s, ss);
                if c.len() == 1 {
                    self.unbound(m, s, ss, c).first().copied()
                } else {
                    None
                }
            }
            MatchMode::Auto => {
                let c = self.candidates(m, s, ss);
                if c.is_empty() {
                    match self.new_sku_id(m, s, ss) {
                        NewSkuId::Reuse(i) => Some(i),
                        NewSkuId::Create(id) => Some(self.create_sku_from(m, s, ss, Arc::from(id), work)),
                        NewSkuId::Unavailable => None,
                    }
                } else {
                    self.unbound(m, s, ss, c).first().copied()
                }
            }
        };
        if let Some(mk) = target {
            self.bind(m, s, ss, mk, work);
        }
    }

    /// Creates M's SKU for seller S's SKU (rule 9): copies name, brand, category, GTIN and
    /// ref_id; `product_id` is `{S}-{product_id}`; no price until M sets one.
    pub(crate) fn create_sku_from(
        &mut self,
        m: AccountIdx,
        s: AccountIdx,
        ss: SkuIdx,
        id: Arc<str>,
        work: &mut Work,
    ) -> SkuIdx {
        let seller = &self.accounts[s];
        let src = &seller.skus[ss];
        let sku = Sku {
            product_id: src.product_id.as_ref().map(|p| Arc::from(format!("{}-{}", seller.id, p))),
            created_from: Some((s, ss)),
            ..Sku::new(id, src.info.clone())
        };
        let market = &mut self.accounts[m];
        let idx = insert_sku(market, sku);
        index_sku(market, idx);
        work.dirty.push((m, idx));
        work.match_dirty.insert(m);
        idx
    }

    /// Binds seller S's SKU to M's SKU `mk` and approves its suggestion.
    pub(crate) fn bind(&mut self, m: AccountIdx, s: AccountIdx, ss: SkuIdx, mk: SkuIdx, work: &mut Work) {
        let sugg = self.accounts[m].suggestions.get_mut(&(s, ss)).expect("binding a suggestion");
        sugg.set_status(SuggestionStatus::Approved);
        sugg.set_sku(Some(mk));
        sugg.set_offer(None);
        self.pending[m.ix()].remove(&(s, ss));
        self.accounts[m].skus[mk].sources.push((s, ss));
        self.accounts[s].skus[ss].bound_at.push((m, mk));
        work.dirty.push((s, ss));
        work.dirty.push((m, mk));
        work.match_dirty.insert(m);
        let (mid, sid, skid) = self.send_key(m, s, ss);
        let sku = self.accounts[m].skus[mk].id.clone();
        self.emit(
            work,
            mid.clone(),
            EventBody::SuggestionApproved { marketplace: mid, seller: sid, seller_sku: skid, sku },
        );
    }

    /// Removes the binding of an approved suggestion; its offer disappears.
    pub(crate) fn unbind(&mut self, m: AccountIdx, s: AccountIdx, ss: SkuIdx, work: &mut Work) {
        let mk = self.accounts[m].suggestions[&(s, ss)].sku().expect("approved suggestions are bound");
        self.store_offer(m, s, ss, mk, None, work);
        let sugg = self.accounts[m].suggestions.get_mut(&(s, ss)).unwrap();
        sugg.set_sku(None);
        self.accounts[m].skus[mk].sources.retain(|&x| x != (s, ss));
        self.accounts[s].skus[ss].bound_at.retain(|&x| x != (m, mk));
        work.dirty.push((m, mk));
        work.match_dirty.insert(m);
    }

    pub(crate) fn set_denied(&mut self, m: AccountIdx, s: AccountIdx, ss: SkuIdx, work: &mut Work) {
        let sugg = self.accounts[m].suggestions.get_mut(&(s, ss)).unwrap();
        sugg.set_status(SuggestionStatus::Denied);
        sugg.set_sku(None);
        self.pending[m.ix()].remove(&(s, ss));
        let (mid, sid, skid) = self.send_key(m, s, ss);
        self.emit(work, mid.clone(), EventBody::SuggestionDenied { marketplace: mid, seller: sid, seller_sku: skid });
    }
}
