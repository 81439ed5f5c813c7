//! The network's connections as one list, for drawing it: every connection (the operator's
//! whole network), or those within `depth` levels of one account, upstream (its sellers, their
//! sellers, …) and downstream (its marketplaces, theirs, …). A connection is listed once either
//! half exists, with both halves (`null` while missing), sorted by seller then marketplace.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::lists::{Page, Window};
use super::{AffiliationView, RegistrationView};
use crate::error::Result;
use crate::model::AccountIdx;
use crate::state::Engine;

/// Most levels a neighbourhood goes up or down (`depth`): the longest chain (`max_chain` ≤ 8).
pub const MAX_NETWORK_DEPTH: usize = 8;

/// One connection seller → marketplace with both halves.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Connection))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub seller: Arc<str>,
    pub marketplace: Arc<str>,
    /// The seller's half; `null` while the seller has not affiliated.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub affiliation: Option<AffiliationView>,
    /// The marketplace's half; `null` while the marketplace has not registered the seller.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub registration: Option<RegistrationView>,
}

type Edge = (AccountIdx, AccountIdx);

impl Engine {
    /// Every (seller, marketplace) pair with at least one half.
    fn edges(&self) -> BTreeSet<Edge> {
        let mut out = BTreeSet::new();
        for (i, a) in self.accounts.iter().enumerate() {
            let me = AccountIdx::new(i);
            out.extend(a.affiliations.keys().map(|&m| (me, m)));
            out.extend(a.sellers.keys().map(|&s| (s, me)));
        }
        out
    }

    fn connection_view(&self, (s, m): Edge) -> Result<ConnectionView> {
        let (sid, mid) = (&self.accounts[s].id, &self.accounts[m].id);
        Ok(ConnectionView {
            seller: sid.clone(),
            marketplace: mid.clone(),
            affiliation: match self.accounts[s].affiliations.contains_key(&m) {
                true => Some(self.affiliation(sid, mid)?),
                false => None,
            },
            registration: match self.accounts[m].sellers.contains_key(&s) {
                true => Some(self.registration(mid, sid)?),
                false => None,
            },
        })
    }

    fn connection_page(&self, edges: impl IntoIterator<Item = Edge>, w: Window) -> Result<Page<ConnectionView>> {
        let mut keys: Vec<(&str, &str, Edge)> =
            edges.into_iter().map(|(s, m)| (&*self.accounts[s].id, &*self.accounts[m].id, (s, m))).collect();
        keys.sort_unstable();
        let total = keys.len();
        let items = keys.into_iter().skip(w.offset).take(w.limit).map(|k| self.connection_view(k.2));
        Ok(Page { items: items.collect::<Result<_>>()?, total })
    }

    /// Every connection of the network.
    pub fn list_connections(&self, w: Window) -> Result<Page<ConnectionView>> {
        self.connection_page(self.edges(), w)
    }

    /// The connections within `depth` levels of `around` (1 to `MAX_NETWORK_DEPTH`): walking up
    /// from it through sellers and down through marketplaces, never sideways (a seller's other
    /// marketplaces are not a marketplace's neighbourhood).
    pub fn network(&self, around: &str, depth: usize, w: Window) -> Result<Page<ConnectionView>> {
        let a = self.account_idx(around)?;
        let edges = self.edges();
        let mut up: HashMap<AccountIdx, Vec<Edge>> = HashMap::new();
        let mut down: HashMap<AccountIdx, Vec<Edge>> = HashMap::new();
        for &(s, m) in &edges {
            up.entry(m).or_default().push((s, m));
            down.entry(s).or_default().push((s, m));
        }
        let mut kept = BTreeSet::new();
        for (by, next) in [(&up, 0usize), (&down, 1usize)] {
            let mut seen = BTreeSet::from([a]);
            let mut frontier = vec![a];
            for _ in 0..depth.min(MAX_NETWORK_DEPTH) {
                let mut further = Vec::new();
                for x in frontier.iter().flat_map(|x| by.get(x)).flatten() {
                    kept.insert(*x);
                    let other = if next == 0 { x.0 } else { x.1 };
                    if seen.insert(other) {
                        further.push(other);
                    }
                }
                frontier = further;
            }
        }
        self.connection_page(kept, w)
    }
}
