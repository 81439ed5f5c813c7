//! Applying an account's own commands to the engine (`CreateAccount`, `CreateToken`,
//! `DeleteToken`, `PatchAccount`): every field checked before the account is looked up (rule 39).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{
    initial_token, token_hash, token_id, token_name, AccountPatchBody, INITIAL_TOKEN_ID, MAX_TOKENS_PER_ACCOUNT,
};
use crate::error::{DomainError, Missing, Result};
use crate::model::{Account, AccountIdx, Token};
use crate::state::Engine;
use crate::validate as v;

impl Engine {
    pub(crate) fn create_token(&mut self, account: &str, id: &str, name: &str, hash: &str, now_ms: u64) -> Result<()> {
        token_id("id", id)?;
        token_name("name", name)?;
        token_hash("token_hash", hash)?;
        let a = self.account_idx(account)?;
        let tokens = &mut self.accounts[a].tokens;
        if tokens.contains_key(id) {
            return Err(DomainError::conflict(format!("account `{account}` already has a token `{id}`")));
        }
        if tokens.len() >= MAX_TOKENS_PER_ACCOUNT {
            return Err(DomainError::conflict(format!(
                "account `{account}` already has {MAX_TOKENS_PER_ACCOUNT} tokens, the most it may hold: revoke one first"
            )));
        }
        tokens.insert(Arc::from(id), Token { name: Arc::from(name), hash: Arc::from(hash), created_ms: now_ms });
        Ok(())
    }

    pub(crate) fn delete_token(&mut self, account: &str, id: &str) -> Result<()> {
        token_id("id", id)?;
        let a = self.account_idx(account)?;
        match self.accounts[a].tokens.remove(id) {
            Some(_) => Ok(()),
            None => Err(DomainError::not_found(Missing::Token, id, format!("token `{id}` of account `{account}`"))),
        }
    }

    pub(crate) fn patch_account(&mut self, account: &str, body: &AccountPatchBody) -> Result<()> {
        if let Some(name) = &body.name {
            v::text("name", name)?;
        }
        let a = self.account_idx(account)?;
        if let Some(name) = &body.name {
            self.accounts[a].name = Arc::from(name.as_str());
        }
        Ok(())
    }

    /// A new account; its token (when the server gave one) is token `initial`.
    pub(crate) fn create_account(
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
}
