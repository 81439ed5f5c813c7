//! Derived state: the offer that a marketplace sees of a seller SKU, computed per chain
//! exactly as domain.md's stock rule says. This is the one function that defines an offer;
//! incremental propagation (`settle.rs`) decides *when* to call it, the reference
//! recomputation (`reference.rs`) calls it for everything, and explain asks it for its tree.

use crate::model::*;
use crate::state::Engine;
use crate::views::OfferView;

/// The accounts of a chain from the final marketplace up to the account being evaluated.
/// `max_chain` is at most 8, so a chain never holds more than 9 accounts (one beyond the
/// limit is looked at to report `max_depth`).
#[derive(Clone, Copy)]
pub(crate) struct Chain {
    accounts: [AccountIdx; 10],
    pub(crate) len: usize,
}

impl Chain {
    pub(crate) fn new(final_marketplace: AccountIdx, seller: AccountIdx) -> Self {
        let mut accounts = [AccountIdx::default(); 10];
        accounts[0] = final_marketplace;
        accounts[1] = seller;
        Chain { accounts, len: 2 }
    }
    pub(crate) fn contains(&self, a: AccountIdx) -> bool {
        self.accounts[..self.len].contains(&a)
    }
    /// The accounts after the direct buyer of the account about to be pushed: everything
    /// except the last one (that last one is the direct buyer).
    fn after_buyer(&self) -> &[AccountIdx] {
        &self.accounts[..self.len - 1]
    }
    pub(crate) fn push(&mut self, a: AccountIdx) {
        self.accounts[self.len] = a;
        self.len += 1;
    }
    pub(crate) fn pop(&mut self) {
        self.len -= 1;
    }
}

/// One upstream source of an explained offer (domain rule 21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceTree {
    pub account: AccountIdx,
    pub sku: SkuIdx,
    pub own: Qty,
    pub third: Qty,
    pub quantity: Qty,
    pub included: bool,
    pub reasons: Reasons,
    pub sources: Vec<SourceTree>,
}

/// What the upstream sources of one node add up to along one chain.
#[derive(Clone, Copy, Default)]
struct SourcesSum {
    third: Qty,
    /// Cuts of included sources and anywhere above them (rule 31).
    cuts: Reasons,
    /// Some authorised, loop-free path within `max_chain` leads from an origin (rule 27).
    path: bool,
}

/// The full evaluation of seller S's SKU s as sent to marketplace M.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eval {
    pub price: Option<Price>,
    pub own: Qty,
    pub third: Qty,
    pub quantity: Qty,
    pub gated: bool,
    /// Every reason that applies (cuts included only when not sellable, rule 17).
    pub reasons: Reasons,
    /// S sends s to M now (rule 6).
    pub sends: bool,
}

impl Eval {
    pub fn offer_state(&self) -> OfferState {
        OfferState { price: self.price, quantity: self.quantity, reasons: self.reasons }
    }
}

/// An offer's quantity (rules 13, 15) and whether the stock gate (`stock_gated`) closed it:
/// own stock plus what the included sources add, or nothing while the gate is closed (then
/// `forwarder_has_no_own_stock` joins `reasons`).
fn gated_quantity(item: &Sku, aff: Option<&Affiliation>, own: Qty, third: Qty, reasons: &mut Reasons) -> (Qty, bool) {
    if stock_gated(item, aff, own) {
        reasons.add(Reason::ForwarderHasNoOwnStock);
        (Qty::ZERO, true)
    } else {
        (own.plus(third), false)
    }
}

/// Rule 14: a source's stock counts for its buyer when no check of its chain cuts it, nothing
/// of its own state blocks it (`blocking`) and its stock gate is open. Offers,
/// explain and orders decide with this one function.
pub(crate) fn source_counts(cut: Reasons, blocking: Reasons, gated: bool) -> bool {
    cut.is_empty() && blocking.is_empty() && !gated
}

/// The codes of reasons, as views and events show them.
pub(crate) fn codes(r: Reasons) -> Vec<String> {
    r.iter().map(|x| x.code().to_string()).collect()
}

impl Engine {
    /// The offer of binding (M `m`, SKU `mk`) ← (S `s`, SKU `ss`) in state `st`, as views and
    /// `offer.changed` show it.
    pub(crate) fn offer_view(
        &self,
        m: AccountIdx,
        s: AccountIdx,
        ss: SkuIdx,
        mk: SkuIdx,
        st: &OfferState,
    ) -> OfferView {
        let seller = &self.accounts[s];
        OfferView {
            seller: seller.id.clone(),
            seller_sku: seller.skus[ss].id.clone(),
            sku: self.accounts[m].skus[mk].id.clone(),
            price: st.price.map(|p| p.price),
            list_price: st.price.and_then(|p| p.list_price),
            quantity: st.quantity.finite(),
            unlimited: st.quantity.is_unlimited(),
            sellable: st.sellable(),
            reasons: codes(st.reasons),
        }
    }

    /// Evaluates seller `s`'s SKU `sku` as marketplace `m` sees it. `bound` is M's SKU when a
    /// binding exists (its activity matters, rule 19). With `tree`, the sources are recorded.
    pub(crate) fn eval_offer(
        &self,
        m: AccountIdx,
        s: AccountIdx,
        sku: SkuIdx,
        bound: Option<SkuIdx>,
        tree: Option<&mut Vec<SourceTree>>,
    ) -> Eval {
        let seller = &self.accounts[s];
        let market = &self.accounts[m];
        let item = &seller.skus[sku];
        let (aff, reg) = match (seller.affiliations.get(&m), market.sellers.get(&s)) {
            (Some(a), Some(r)) => (a, r),
            _ => {
                // Rule 30: a missing half shows quantity 0, the base price, and only this.
                let mut reasons = Reasons::EMPTY;
                reasons.add(Reason::ConnectionInactive);
                return Eval {
                    price: item.price.get(),
                    own: Qty::ZERO,
                    third: Qty::ZERO,
                    quantity: Qty::ZERO,
                    gated: false,
                    reasons,
                    sends: false,
                };
            }
        };
        let tp = aff.trade_policy;
        let bound_active = bound.is_none_or(|b| market.skus[b].active);
        let (mut reasons, price) = blocking(Some(aff), Some(reg), seller, sku, bound_active);
        let in_assortment = !reasons.has(Reason::NotInAssortment);
        let own = seller.own_available(sku, tp);
        let mut chain = Chain::new(m, s);
        let sum = self.eval_sources(s, sku, Some(tp), &mut chain, tree);
        let (quantity, gated) = gated_quantity(item, Some(aff), own, sum.third, &mut reasons);
        if !gated && quantity.is_zero() {
            reasons.add(Reason::OutOfStock);
        }
        if !reasons.is_empty() {
            reasons = reasons.union(sum.cuts);
        }
        // Rule 6: an open gate sends from an origin, or from a forwarder with a path to one.
        let gate_open = !gated && (is_origin(item, own) || sum.path);
        let sends = aff.active && reg.active && item.active && in_assortment && gate_open;
        Eval { price, own, third: sum.third, quantity, gated, reasons, sends }
    }

    /// Sums the upstream sources of account `a`'s SKU `sku` along `chain` (whose last
    /// account is `a`). `tp_for_buyer` is a's trade policy for its direct buyer.
    fn eval_sources(
        &self,
        a: AccountIdx,
        sku: SkuIdx,
        tp_for_buyer: Option<TpIdx>,
        chain: &mut Chain,
        mut tree: Option<&mut Vec<SourceTree>>,
    ) -> SourcesSum {
        let buyer = &self.accounts[a];
        let item = &buyer.skus[sku];
        let mut sum = SourcesSum::default();
        for &(u, usku) in &item.sources {
            let upstream = &self.accounts[u];
            let aff_u = upstream.affiliations.get(&a);
            let cut = self.source_cut(a, u, chain, tp_for_buyer);
            let tp_u = aff_u.map(|x| x.trade_policy);
            let uitem = &upstream.skus[usku];
            let own_of = || tp_u.map_or(Qty::ZERO, |tp| upstream.own_available(usku, tp));
            let mut node = tree.as_ref().map(|_| SourceTree {
                account: u,
                sku: usku,
                own: own_of(),
                third: Qty::ZERO,
                quantity: Qty::ZERO,
                included: false,
                reasons: cut,
                sources: Vec::new(),
            });
            if !cut.intersects(Reasons::PATH_CUTS) {
                let own_u = own_of();
                chain.push(u);
                let sub = self.eval_sources(u, usku, tp_u, chain, node.as_mut().map(|n| &mut n.sources));
                chain.pop();
                // The source's own blocking reasons, as its offer at `a` would show them.
                let (mut blocking, _) = blocking(aff_u, buyer.sellers.get(&u), upstream, usku, item.active);
                let (quantity, gated) = gated_quantity(uitem, aff_u, own_u, sub.third, &mut blocking);
                sum.path |= is_origin(uitem, own_u) || sub.path;
                let included = source_counts(cut, blocking, gated);
                if included {
                    sum.third = sum.third.plus(quantity);
                    sum.cuts = sum.cuts.union(sub.cuts);
                }
                if let Some(n) = node.as_mut() {
                    n.own = own_u;
                    n.third = sub.third;
                    n.quantity = quantity;
                    n.included = included;
                    let mut shown = cut.union(blocking);
                    if quantity.is_zero() && !gated {
                        shown.add(Reason::OutOfStock);
                    }
                    if !shown.is_empty() {
                        shown = shown.union(sub.cuts);
                    }
                    n.reasons = shown;
                }
            }
            sum.cuts = sum.cuts.union(cut);
            if let (Some(t), Some(n)) = (tree.as_mut(), node) {
                t.push(n);
            }
        }
        sum
    }

    /// The cuts of source `u` (bound to a SKU of `a`) on `chain`, whose last account is `a`
    /// (rule 14): loop, depth, resale authorisation, trade policy of the registration.
    pub(crate) fn source_cut(
        &self,
        a: AccountIdx,
        u: AccountIdx,
        chain: &Chain,
        tp_for_buyer: Option<TpIdx>,
    ) -> Reasons {
        let mut cut = Reasons::EMPTY;
        if chain.contains(u) {
            cut.add(Reason::Loop);
            return cut;
        }
        if chain.len + 1 > self.config.max_chain as usize {
            cut.add(Reason::MaxDepth);
            return cut;
        }
        // A missing half reads as its defaults: resale `none`, trade policies ["1"].
        let resale = self.accounts[u].affiliations.get(&a).map(|x| &x.resale).unwrap_or(&Resale::None);
        if !chain.after_buyer().iter().all(|&n| resale.authorises(&self.accounts[n].id)) {
            cut.add(Reason::ResaleNotAuthorized);
        }
        let shown = match (tp_for_buyer, self.accounts[a].sellers.get(&u)) {
            (Some(tp), Some(r)) => r.trade_policies.contains(&tp),
            (Some(tp), None) => tp == DEFAULT_TRADE_POLICY,
            (None, _) => false,
        };
        if !shown {
            cut.add(Reason::NotInTradePolicy);
        }
        cut
    }
}

/// What blocks a seller's SKU `sku` at its buyer by its own state (rules 19, 30): a missing or
/// paused half (`aff`: the seller's, `reg`: the buyer's), an inactive SKU on either side
/// (`bound_active`: the buyer's bound SKU, true when none), the assortment, the price, an
/// external seller's stale quote (`quote_stale`, read through the seller's half like the price). Not the
/// stock gate, which depends on the own stock the caller counts. The one definition for
/// offers, their sources and orders. Also the price for the buyer's trade policy (none when
/// the seller's half is missing).
pub(crate) fn blocking(
    aff: Option<&Affiliation>,
    reg: Option<&Registration>,
    seller: &Account,
    sku: SkuIdx,
    bound_active: bool,
) -> (Reasons, Option<Price>) {
    let mut blocking = Reasons::EMPTY;
    match (aff, reg) {
        (Some(x), Some(r)) => {
            if !x.active {
                blocking.add(Reason::SellerPaused);
            }
            if !r.active {
                blocking.add(Reason::MarketplacePaused);
            }
        }
        _ => blocking.add(Reason::ConnectionInactive),
    }
    let item = &seller.skus[sku];
    if !item.active || !bound_active {
        blocking.add(Reason::SkuInactive);
    }
    let price = aff.and_then(|x| {
        if !seller.in_assortment(x.trade_policy, sku) {
            blocking.add(Reason::NotInAssortment);
        }
        let price = item.price_for(x.trade_policy);
        if price.is_none() {
            blocking.add(Reason::NoPrice);
        }
        // An external seller's quote past its TTL: its price and stock may no longer hold.
        if seller.quote_stale(sku) {
            blocking.add(Reason::QuoteStale);
        }
        price
    });
    (blocking, price)
}
