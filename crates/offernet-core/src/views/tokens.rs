//! An account's API tokens as they are shown (never a secret, never a hash), and the lookup
//! the server's authentication makes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::lists::{Page, Window};
use crate::error::{DomainError, Missing, Result};
use crate::model::Token;
use crate::state::Engine;

/// A token without its secret: what `GET …/tokens` lists.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Token))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    /// Chosen by the server; `initial` for the token made with the account.
    pub id: Arc<str>,
    pub name: Arc<str>,
    /// When it was created, in ms since the Unix epoch.
    pub created_ms: u64,
}

fn view(id: &Arc<str>, t: &Token) -> TokenView {
    TokenView { id: id.clone(), name: t.name.clone(), created_ms: t.created_ms }
}

impl Engine {
    /// The stored hash of token `token_id` of account `account`, for the server's
    /// authentication: one map lookup each, whatever the number of accounts and tokens.
    pub fn token_hash(&self, account: &str, token_id: &str) -> Option<Arc<str>> {
        let &a = self.account_index.get(account)?;
        self.accounts[a].tokens.get(token_id).map(|t| t.hash.clone())
    }

    /// One token of an account.
    pub fn token(&self, account: &str, id: &str) -> Result<TokenView> {
        let a = &self.accounts[self.account_idx(account)?];
        let (id, t) = a.tokens.get_key_value(id).ok_or_else(|| {
            DomainError::not_found(Missing::Token, id, format!("token `{id}` of account `{account}`"))
        })?;
        Ok(view(id, t))
    }

    /// An account's tokens, sorted by id (the map's order), one page.
    pub fn list_tokens(&self, account: &str, w: Window) -> Result<Page<TokenView>> {
        let tokens = &self.accounts[self.account_idx(account)?].tokens;
        let items = tokens.iter().skip(w.offset).take(w.limit).map(|(id, t)| view(id, t)).collect();
        Ok(Page { items, total: tokens.len() })
    }
}
