//! The webhook section of a snapshot (format 3 on): after the orders, every account's
//! subscriptions, each under its account's index. Written and read here, side by side.

use std::sync::Arc;

use super::codec::{DResult, R, W};
use crate::model::AccountIdx;
use crate::state::Engine;
use crate::webhooks::Webhook;

impl Engine {
    pub(super) fn encode_webhooks(&self, w: &mut W) {
        let count: usize = self.accounts.iter().map(|a| a.webhooks.len()).sum();
        w.u32(count as u32);
        for (ai, a) in self.accounts.iter().enumerate() {
            for (id, h) in &a.webhooks {
                w.account(AccountIdx::new(ai));
                w.str(id);
                w.str(&h.url);
                w.u32(h.events.len() as u32);
                for e in &h.events {
                    w.str(e);
                }
                w.bool(h.active);
                w.opt_str(&h.disabled);
                w.str(&h.secret);
                w.u64(h.created_ms);
                w.u64(h.from_seq);
            }
        }
    }

    pub(super) fn decode_webhooks(&mut self, r: &mut R) -> DResult<()> {
        for _ in 0..r.u32()? {
            let a = r.account()?;
            let id = r.str()?;
            let url = r.str()?;
            let mut events: Vec<Arc<str>> = Vec::new();
            for _ in 0..r.u32()? {
                events.push(r.str()?);
            }
            let hook = Webhook {
                url,
                events,
                active: r.bool()?,
                disabled: r.opt_str()?,
                secret: r.str()?,
                created_ms: r.u64()?,
                from_seq: r.u64()?,
            };
            let account = self.accounts.get_mut(a.ix()).ok_or("snapshot names an account that does not exist")?;
            account.webhooks.insert(id, hook);
        }
        Ok(())
    }
}
