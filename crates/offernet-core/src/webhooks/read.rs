//! A subscription as it is shown (never its secret), and what the delivery worker reads.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Webhook;
use crate::error::{DomainError, Missing, Result};
use crate::state::Engine;
use crate::views::{Page, Window};

/// A webhook subscription without its secret: what `GET …/webhooks` lists.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Webhook))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    /// Chosen by the server.
    pub id: Arc<str>,
    pub url: Arc<str>,
    pub events: Vec<Arc<str>>,
    /// As the account set it.
    pub active: bool,
    /// Why the server stopped sending (the destination kept failing); `null` when it was not
    /// disabled. A PATCH with `active: true` clears it.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub disabled_reason: Option<Arc<str>>,
    /// When it was created, in ms since the Unix epoch.
    pub created_ms: u64,
    /// Events with a greater sequence number are delivered (the newest event when it was made).
    pub from_seq: u64,
}

/// A subscription with what sending needs: for the delivery worker only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookTarget {
    pub account: Arc<str>,
    pub id: Arc<str>,
    pub hook: Webhook,
}

fn view(id: &Arc<str>, w: &Webhook) -> WebhookView {
    WebhookView {
        id: id.clone(),
        url: w.url.clone(),
        events: w.events.clone(),
        active: w.active,
        disabled_reason: w.disabled.clone(),
        created_ms: w.created_ms,
        from_seq: w.from_seq,
    }
}

impl Engine {
    /// One subscription of an account.
    pub fn webhook(&self, account: &str, id: &str) -> Result<WebhookView> {
        let a = &self.accounts[self.account_idx(account)?];
        let (id, w) = a.webhooks.get_key_value(id).ok_or_else(|| {
            DomainError::not_found(Missing::Webhook, id, format!("webhook `{id}` of account `{account}`"))
        })?;
        Ok(view(id, w))
    }

    /// A subscription's signing secret (`whsec_…`), for the answers that show it once.
    pub fn webhook_secret(&self, account: &str, id: &str) -> Option<Arc<str>> {
        let &a = self.account_index.get(account)?;
        self.accounts[a].webhooks.get(id).map(|w| w.secret.clone())
    }

    /// An account's subscriptions, sorted by id, one page.
    pub fn list_webhooks(&self, account: &str, w: Window) -> Result<Page<WebhookView>> {
        let hooks = &self.accounts[self.account_idx(account)?].webhooks;
        let items = hooks.iter().skip(w.offset).take(w.limit).map(|(id, h)| view(id, h)).collect();
        Ok(Page { items, total: hooks.len() })
    }

    /// Every subscription of every account, secrets included, in (account, id) order: what the
    /// delivery worker sends to. At most `MAX_WEBHOOKS_PER_ACCOUNT` per account.
    pub fn webhook_targets(&self) -> Vec<WebhookTarget> {
        let mut out = Vec::new();
        for a in &self.accounts {
            for (id, hook) in &a.webhooks {
                out.push(WebhookTarget { account: a.id.clone(), id: id.clone(), hook: hook.clone() });
            }
        }
        out
    }
}
