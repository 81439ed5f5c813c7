//! The engine's top: `apply`, which hands each command to the rule that handles it and then
//! settles the command's effects. The state is `state.rs`; the rules are the files that
//! `apply` calls into (ARCHITECTURE.md names each one's home).

use crate::command::*;
use crate::error::Result;
use crate::event::Event;
use crate::model::*;
use crate::resolve::{Named, Resolved};
use crate::state::Work;

pub use crate::state::{Engine, EngineConfig, DEFAULT_MAX_CHAIN, MAX_CHAIN_LIMIT, MIN_CHAIN_LIMIT, RULES_VERSION};

impl Engine {
    /// Applies one command whole, or returns why not and changes nothing. `now_ms` is the
    /// command's time (the engine has no clock): orders take their expiry from it.
    pub fn apply(&mut self, cmd: &Command, now_ms: u64) -> Result<Vec<Event>> {
        self.apply_resolved(cmd, None, now_ms)
    }

    /// `apply`, with the command's ids found beforehand by `resolve` (`resolve.rs`):
    /// the same result, events and state, without searching for them again. Long on purpose:
    /// one arm per command kind, each handing it to its handler.
    pub fn apply_resolved(&mut self, cmd: &Command, resolved: Option<Resolved>, now_ms: u64) -> Result<Vec<Event>> {
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
                self.put_stock(Named::new(self, account, sku, resolved), warehouse, body, &mut work)?
            }
            Command::PutPrice { account, sku, body } => {
                self.put_price(Named::new(self, account, sku, resolved), body, &mut work)?
            }
            Command::DeletePrice { account, sku, trade_policy } => {
                self.delete_price(Named::new(self, account, sku, resolved), trade_policy.as_deref(), &mut work)?
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
}
