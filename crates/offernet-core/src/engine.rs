//! The engine: ground state, command application, and the per-command work list that
//! propagation settles before the command returns.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::command::*;
use crate::error::{DomainError, Missing, Result};
use crate::event::Event;
use crate::fx::FxHashMap;
use crate::model::*;
use crate::settle::NewSkuId;
use crate::validate as v;

use crate::accounts::{initial_token, INITIAL_TOKEN_ID};
pub(crate) use crate::catalog::{index_sku, insert_sku, ref_key};

/// Longest chain (origin … final marketplace) the server may be configured with, and the
/// shortest (a seller and its marketplace).
pub const MAX_CHAIN_LIMIT: u8 = 8;
pub const MIN_CHAIN_LIMIT: u8 = 2;
/// The documents' example is a chain of three accounts.
pub const DEFAULT_MAX_CHAIN: u8 = 3;

/// The version of the rules `apply` follows. Replay is deterministic only under the rules a
/// command was accepted under, so a journal records the version it was written with, and one
/// written under older rules is not replayed past its newest snapshot (offernet-store's
/// `rules::check_rules`). Bump it whenever a command that was accepted before could now be
/// refused or do something else.
/// 1: the first release. 2: cancels take whole order trees (rule 34), the marketplace order's
/// status follows its seller orders (rule 38), bodies are checked before state (rule 39),
/// text refuses control characters, an account's lists are bounded together. 3: an order line
/// takes a seller's own stock from its warehouses in the order they were created (rule 40),
/// not in the order their stock was first set; a suggestion created by a send is matched with
/// the other pending suggestions after the command's sends (rule 36), not at once. 4: an order
/// with a sub order at an external seller is not authorised while that placement is pending
/// (409 `external_placement_pending`); an external seller's quote counts back only the units
/// its placed orders reserve (vtex-compat.md §3.3 R), not every reserved unit. An invoice or a cancel by
/// the seller of an order whose marketplace is a VTEX mirror owes that marketplace a call
/// (`pending_outbound`), which an older build never made: replayed, an old journal would owe
/// calls nobody made.
pub const RULES_VERSION: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// Most accounts on a chain, both ends counted (domain rule 14).
    pub max_chain: u8,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { max_chain: DEFAULT_MAX_CHAIN }
    }
}

impl EngineConfig {
    pub fn new(max_chain: u8) -> Result<Self> {
        if !(MIN_CHAIN_LIMIT..=MAX_CHAIN_LIMIT).contains(&max_chain) {
            return Err(DomainError::invalid("max_chain", format!("between {MIN_CHAIN_LIMIT} and {MAX_CHAIN_LIMIT}")));
        }
        Ok(EngineConfig { max_chain })
    }
}

/// The whole offer network in memory. See ARCHITECTURE.md: no IO, no clock, no randomness;
/// the same commands always give the same state and events.
#[derive(Clone, Debug)]
pub struct Engine {
    pub(crate) config: EngineConfig,
    pub(crate) accounts: Vec<Account>,
    pub(crate) account_index: FxHashMap<Arc<str>, AccountIdx>,
    /// Marketplaces whose half registers each seller (reverse of `Account::sellers`).
    pub(crate) registered_at: Vec<BTreeSet<AccountIdx>>,
    /// Pending suggestions per marketplace, by (seller, seller SKU).
    pub(crate) pending: Vec<BTreeSet<(AccountIdx, SkuIdx)>>,
    /// Sequence number of the last event emitted.
    pub(crate) seq: u64,
    /// Commands applied successfully.
    pub(crate) applied: u64,
    /// Reused buffers of propagation (not state: always empty between commands).
    pub(crate) scratch: Scratch,
    pub(crate) orders: crate::orders::Orders,
    /// Shared brand and category text (not state: sharing is invisible but to memory).
    pub(crate) strings: crate::intern::Interner,
    /// Fresh quotes of external sellers by when they go stale: (due ms, seller, SKU). Derived
    /// from the quotes (rebuilt on a snapshot's load).
    pub(crate) quote_expiry: BTreeSet<(u64, AccountIdx, SkuIdx)>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Scratch {
    pub nodes: Vec<(AccountIdx, SkuIdx)>,
    pub frontier: Vec<(AccountIdx, SkuIdx)>,
    pub next: Vec<(AccountIdx, SkuIdx)>,
    pub targets: Vec<AccountIdx>,
}

/// What one command left to do after its ground change: nodes whose derived values may have
/// changed, suggestions to match again, and the events emitted so far.
#[derive(Default)]
pub(crate) struct Work {
    /// Seller SKUs whose own inputs changed; propagation follows bindings downstream.
    pub dirty: Vec<(AccountIdx, SkuIdx)>,
    /// Marketplaces whose catalog, bindings or registrations changed: their pending
    /// suggestions are matched again.
    pub match_dirty: BTreeSet<AccountIdx>,
    /// Single pending suggestions to match again: (marketplace, seller, seller SKU).
    pub rematch: BTreeSet<(AccountIdx, AccountIdx, SkuIdx)>,
    pub events: Vec<Event>,
}

impl Work {
    pub(crate) fn all_skus(&mut self, engine: &Engine, a: AccountIdx) {
        let n = engine.accounts[a].skus.len();
        self.dirty.extend((0..n).map(|s| (a, SkuIdx::new(s))));
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineConfig::default())
    }
}

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        Engine {
            config,
            accounts: Vec::new(),
            account_index: FxHashMap::default(),
            registered_at: Vec::new(),
            pending: Vec::new(),
            seq: 0,
            applied: 0,
            scratch: Scratch::default(),
            orders: Default::default(),
            strings: Default::default(),
            quote_expiry: BTreeSet::new(),
        }
    }

    pub fn config(&self) -> EngineConfig {
        self.config
    }
    /// Sequence number of the last event emitted (0 before any).
    pub fn last_seq(&self) -> u64 {
        self.seq
    }
    /// Number of commands applied successfully.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    pub(crate) fn account_idx(&self, id: &str) -> Result<AccountIdx> {
        self.account_index
            .get(id)
            .copied()
            .ok_or_else(|| DomainError::not_found(Missing::Account, id, format!("account `{id}`")))
    }

    pub(crate) fn sku_of(&self, a: AccountIdx, id: &str) -> Result<SkuIdx> {
        self.accounts[a].sku_idx(id).ok_or_else(|| {
            DomainError::not_found(Missing::Sku, id, format!("SKU `{id}` of account `{}`", self.accounts[a].id))
        })
    }

    pub(crate) fn tp_of(&self, a: AccountIdx, field: &str, id: &str) -> Result<TpIdx> {
        self.accounts[a]
            .tp_idx(id)
            .ok_or_else(|| DomainError::invalid(field, format!("trade policy `{id}` does not exist")))
    }

    /// `MAX_ACCOUNT_LIST_IDS`: replacing a list of `old` ids by one of `new` keeps the account's
    /// lists within the limit (409 otherwise; shrinking is always allowed).
    pub(crate) fn check_list_ids(&self, a: AccountIdx, old: usize, new: usize) -> Result<()> {
        let total = self.accounts[a].list_ids() - old + new;
        if new > old && total > v::MAX_ACCOUNT_LIST_IDS {
            return Err(DomainError::conflict(format!(
                "the account's assortment and resale lists would hold {total} ids; at most {} in all (use \"all\")",
                v::MAX_ACCOUNT_LIST_IDS
            )));
        }
        Ok(())
    }

    /// Applies one command whole, or returns why not and changes nothing. `now_ms` is the
    /// command's time (the engine has no clock): orders take their expiry from it. Long on
    /// purpose: one arm per command kind, each handing it to its handler.
    pub fn apply(&mut self, cmd: &Command, now_ms: u64) -> Result<Vec<Event>> {
        let mut work = Work::default();
        match cmd {
            Command::CreateAccount { id, name, currency, token_hash } => {
                self.create_account(id, name, currency, token_hash.as_deref(), now_ms)?
            }
            Command::PutSku { account, sku, body } => self.put_sku(account, sku, body, &mut work)?,
            Command::PutTradePolicy { account, trade_policy, body } => {
                self.put_trade_policy(account, trade_policy, body, &mut work)?
            }
            Command::PutWarehouse { account, warehouse, body } => {
                self.put_warehouse(account, warehouse, body, &mut work)?
            }
            Command::PutStock { account, warehouse, sku, body } => {
                self.put_stock(account, warehouse, sku, body, &mut work)?
            }
            Command::PutPrice { account, sku, body } => self.put_price(account, sku, body, &mut work)?,
            Command::DeletePrice { account, sku, trade_policy } => {
                self.delete_price(account, sku, trade_policy.as_deref(), &mut work)?
            }
            Command::PutAffiliation { seller, marketplace, body } => {
                self.put_half::<Affiliation>(seller, marketplace, body, &mut work)?
            }
            Command::PatchAffiliation { seller, marketplace, body } => {
                self.patch_half::<Affiliation>(seller, marketplace, body, &mut work)?
            }
            Command::DeleteAffiliation { seller, marketplace } => {
                self.delete_half::<Affiliation>(seller, marketplace, &mut work)?
            }
            Command::PutSeller { marketplace, seller, body } => {
                self.put_half::<Registration>(seller, marketplace, body, &mut work)?
            }
            Command::PatchSeller { marketplace, seller, body } => {
                self.patch_half::<Registration>(seller, marketplace, body, &mut work)?
            }
            Command::DeleteSeller { marketplace, seller } => {
                self.delete_half::<Registration>(seller, marketplace, &mut work)?
            }
            Command::ApproveSuggestion { marketplace, seller, seller_sku, sku } => {
                self.approve_command(marketplace, seller, seller_sku, sku.as_deref(), &mut work)?
            }
            Command::DenySuggestion { marketplace, seller, seller_sku } => {
                self.deny_command(marketplace, seller, seller_sku, &mut work)?
            }
            Command::PutOrderSettings { account, body } => self.put_order_settings(account, body)?,
            Command::PlaceOrder { marketplace, body } => self.place_order(marketplace, body, now_ms, &mut work)?,
            Command::AuthorizeOrder { marketplace, id } => self.authorize_order(marketplace, id, now_ms, &mut work)?,
            Command::CancelOrder { account, id } => self.cancel_order(account, id, now_ms, &mut work)?,
            Command::InvoiceOrder { account, id, invoice } => {
                self.invoice_order(account, id, invoice.as_deref(), now_ms, &mut work)?
            }
            Command::ExpireOrders {} => self.expire_orders(now_ms, &mut work),
            Command::SkipEventSeq { seq } => self.seq = self.seq.max(*seq),
            Command::CreateToken { account, id, name, token_hash } => {
                self.create_token(account, id, name, token_hash, now_ms)?
            }
            Command::DeleteToken { account, id } => self.delete_token(account, id)?,
            Command::PatchAccount { account, body } => self.patch_account(account, body)?,
            Command::Import { account, lines } => self.import(account, lines, &mut work)?,
            Command::CreateWebhook { account, id, secret, body } => {
                self.create_webhook(account, id, secret, body, now_ms)?
            }
            Command::PatchWebhook { account, id, body } => self.patch_webhook(account, id, body)?,
            Command::DeleteWebhook { account, id } => self.delete_webhook(account, id)?,
            Command::RotateWebhookSecret { account, id, secret } => self.rotate_webhook_secret(account, id, secret)?,
            Command::PutShippingProfile { account, body } => self.put_shipping_profile(account, body)?,
            Command::DisableWebhook { account, id, reason } => self.disable_webhook(account, id, reason)?,
            Command::PutIntegration { account, body } => self.put_integration(account, body, now_ms, &mut work)?,
            Command::DeleteIntegration { account } => self.delete_integration(account, &mut work)?,
            Command::ApplySellerQuotes { seller, fetched_ms, quotes } => {
                self.apply_seller_quotes(seller, *fetched_ms, quotes, now_ms, &mut work)?
            }
            Command::ExpireQuotes {} => self.expire_quotes(now_ms, &mut work),
            Command::RecordExternalOrder { seller, id, outcome } => {
                self.record_external_order(seller, id, outcome, now_ms, &mut work)?
            }
            Command::RecordOutbound { seller, id, call, outcome } => {
                self.record_outbound(seller, id, *call, *outcome, &mut work)?
            }
            Command::RecordExternalConflict { seller, id, what, invoice_number } => {
                self.record_external_conflict((seller, id), *what, invoice_number.as_deref(), now_ms, &mut work)?
            }
        }
        // Past this point nothing can fail: the ground change is made; settle its effects.
        self.settle(&mut work);
        self.applied += 1;
        Ok(work.events)
    }

    /// A new account; its token (when the server gave one) is token `initial`.
    fn create_account(
        &mut self,
        id: &str,
        name: &str,
        currency: &str,
        token_hash: Option<&str>,
        now_ms: u64,
    ) -> Result<()> {
        v::account_id("id", id)?;
        v::text("name", name)?;
        v::currency("currency", currency)?;
        if self.account_index.contains_key(id) {
            return Err(DomainError::conflict(format!("account `{id}` already exists")));
        }
        let idx = AccountIdx::new(self.accounts.len());
        let id: Arc<str> = Arc::from(id);
        let mut account = Account::new(id.clone(), Arc::from(name), Arc::from(currency));
        if let Some(hash) = token_hash {
            account.tokens.insert(Arc::from(INITIAL_TOKEN_ID), initial_token(hash, now_ms));
        }
        self.accounts.push(account);
        self.account_index.insert(id, idx);
        self.registered_at.push(BTreeSet::new());
        self.pending.push(BTreeSet::new());
        Ok(())
    }

    fn approve_command(
        &mut self,
        marketplace: &str,
        seller: &str,
        seller_sku: &str,
        sku: Option<&str>,
        work: &mut Work,
    ) -> Result<()> {
        if let Some(id) = sku {
            v::item_id("sku", id)?;
        }
        let m = self.account_idx(marketplace)?;
        let s = self.account_idx(seller)?;
        let ss = self.sku_of(s, seller_sku)?;
        let sugg = self.accounts[m].suggestions.get(&(s, ss)).ok_or_else(|| {
            DomainError::not_found(
                Missing::Suggestion,
                seller_sku,
                format!("the suggestion of `{seller}`/`{seller_sku}`"),
            )
        })?;
        let (status, bound) = (sugg.status, sugg.sku);
        let target = match sku {
            Some(id) => self.accounts[m].sku_idx(id).ok_or_else(|| id.to_string()),
            None => {
                if status == SuggestionStatus::Approved {
                    return Ok(()); // rule 32: approving an approved one without `sku` changes nothing
                }
                match self.free_candidates(m, s, ss).first() {
                    Some(&c) => Ok(c),
                    None => match self.new_sku_id(m, s, ss) {
                        NewSkuId::Reuse(i) => Ok(i),
                        NewSkuId::Create(id) => Err(id),
                        NewSkuId::Unavailable => {
                            return Err(DomainError::conflict(
                                "no free SKU id for this suggestion: approve it with an explicit `sku`",
                            ))
                        }
                    },
                }
            }
        };
        if let Ok(t) = &target {
            if status == SuggestionStatus::Approved && bound == Some(*t) {
                return Ok(()); // approving again onto the same SKU is a no-op
            }
        }
        if status == SuggestionStatus::Approved {
            return Err(DomainError::conflict("the suggestion is already approved onto another SKU"));
        }
        if let Ok(t) = &target {
            if self.bound_to_other(m, *t, s, ss) {
                return Err(DomainError::conflict(format!(
                    "SKU `{}` is already bound to another SKU of `{seller}`",
                    self.accounts[m].skus[*t].id
                )));
            }
        }
        let t = match target {
            Ok(t) => t,
            Err(new_id) => {
                let id: Arc<str> = Arc::from(new_id);
                self.create_sku_from(m, s, ss, id, work)
            }
        };
        self.bind(m, s, ss, t, work);
        Ok(())
    }

    fn deny_command(&mut self, marketplace: &str, seller: &str, seller_sku: &str, work: &mut Work) -> Result<()> {
        let m = self.account_idx(marketplace)?;
        let s = self.account_idx(seller)?;
        let ss = self.sku_of(s, seller_sku)?;
        let status = self.accounts[m]
            .suggestions
            .get(&(s, ss))
            .ok_or_else(|| {
                DomainError::not_found(
                    Missing::Suggestion,
                    seller_sku,
                    format!("the suggestion of `{seller}`/`{seller_sku}`"),
                )
            })?
            .status;
        match status {
            SuggestionStatus::Denied => {}
            SuggestionStatus::Pending => self.set_denied(m, s, ss, work),
            SuggestionStatus::Approved => {
                self.unbind(m, s, ss, work);
                self.set_denied(m, s, ss, work);
            }
        }
        Ok(())
    }
}
