//! Applying the webhook commands: every field checked before the account is looked up (rule
//! 39), then one change to the account's map.

use std::sync::Arc;

use super::*;
use crate::error::{DomainError, Missing, Result};
use crate::state::Engine;

fn missing(account: &str, id: &str) -> DomainError {
    DomainError::not_found(Missing::Webhook, id, format!("webhook `{id}` of account `{account}`"))
}

impl Engine {
    pub(crate) fn create_webhook(
        &mut self,
        account: &str,
        id: &str,
        secret: &str,
        body: &WebhookBody,
        now_ms: u64,
    ) -> Result<()> {
        webhook_id("id", id)?;
        webhook_secret("secret", secret)?;
        let url = body.url.as_deref().ok_or_else(|| DomainError::invalid("url", "required"))?;
        webhook_url("url", url)?;
        let events = event_patterns(
            "events",
            body.events.as_deref().ok_or_else(|| DomainError::invalid("events", "required"))?,
        )?;
        let a = self.account_idx(account)?;
        let from_seq = self.seq;
        let hooks = &mut self.accounts[a].webhooks;
        if hooks.contains_key(id) {
            return Err(DomainError::conflict(format!("account `{account}` already has a webhook `{id}`")));
        }
        if hooks.len() >= MAX_WEBHOOKS_PER_ACCOUNT {
            return Err(DomainError::conflict(format!(
                "account `{account}` already has {MAX_WEBHOOKS_PER_ACCOUNT} webhooks, the most it may hold: delete one first"
            )));
        }
        let hook = Webhook {
            url: Arc::from(url),
            events,
            active: body.active.unwrap_or(true),
            disabled: None,
            secret: Arc::from(secret),
            created_ms: now_ms,
            from_seq,
        };
        hooks.insert(Arc::from(id), hook);
        Ok(())
    }

    pub(crate) fn patch_webhook(&mut self, account: &str, id: &str, body: &WebhookBody) -> Result<()> {
        webhook_id("id", id)?;
        if let Some(url) = &body.url {
            webhook_url("url", url)?;
        }
        let events = body.events.as_deref().map(|e| event_patterns("events", e)).transpose()?;
        let a = self.account_idx(account)?;
        let hook = self.accounts[a].webhooks.get_mut(id).ok_or_else(|| missing(account, id))?;
        if let Some(url) = &body.url {
            hook.url = Arc::from(url.as_str());
        }
        if let Some(events) = events {
            hook.events = events;
        }
        if let Some(active) = body.active {
            hook.active = active;
            if active {
                hook.disabled = None;
            }
        }
        Ok(())
    }

    pub(crate) fn delete_webhook(&mut self, account: &str, id: &str) -> Result<()> {
        webhook_id("id", id)?;
        let a = self.account_idx(account)?;
        self.accounts[a].webhooks.remove(id).map(|_| ()).ok_or_else(|| missing(account, id))
    }

    pub(crate) fn rotate_webhook_secret(&mut self, account: &str, id: &str, secret: &str) -> Result<()> {
        webhook_id("id", id)?;
        webhook_secret("secret", secret)?;
        let a = self.account_idx(account)?;
        let hook = self.accounts[a].webhooks.get_mut(id).ok_or_else(|| missing(account, id))?;
        hook.secret = Arc::from(secret);
        Ok(())
    }

    pub(crate) fn disable_webhook(&mut self, account: &str, id: &str, reason: &str) -> Result<()> {
        webhook_id("id", id)?;
        disabled_reason("reason", reason)?;
        let a = self.account_idx(account)?;
        let hook = self.accounts[a].webhooks.get_mut(id).ok_or_else(|| missing(account, id))?;
        hook.disabled = Some(Arc::from(reason));
        Ok(())
    }
}
