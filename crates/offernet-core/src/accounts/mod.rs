//! An account's own settings: its name (`PatchAccount`) and its named API tokens
//! (`CreateToken`, `DeleteToken`). The server chooses a token's id and secret and journals only
//! the SHA-256 of the whole token, so the engine stays deterministic and never holds a secret;
//! the server's authentication reads the hashes here (`Engine::token_hash`), so a revocation is
//! in force as soon as its command is applied.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Result};
use crate::model::Token;
use crate::validate as v;

/// The id (and name) of the token made with the account (`CreateAccount.token_hash`). Old
/// journals carry that hash too, so they replay to the same token.
pub const INITIAL_TOKEN_ID: &str = "initial";
/// Tokens one account may hold at once: enough for one per client and a rotation of each;
/// the hashes are kept in memory, and a leaked token should be revoked, not joined by more.
pub const MAX_TOKENS_PER_ACCOUNT: usize = 100;
/// Longest token id: the server's are 16 hex digits; ids travel inside every token.
pub const MAX_TOKEN_ID_LEN: usize = 32;
/// Longest token name, in characters: a label for people ("ci", "shop backend 2026").
pub const MAX_TOKEN_NAME_CHARS: usize = 100;
/// A token hash is a SHA-256 in lowercase hex.
const TOKEN_HASH_LEN: usize = 64;

mod apply;

/// `PATCH /v1/accounts/{a}`: only the given fields change.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountPatchBody {
    /// The account's name, shown on its reads and lists; its id never changes.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub name: Option<String>,
}

/// A token id: 1 to `MAX_TOKEN_ID_LEN` of `A-Z a-z 0-9 _ -`. No `.`: a token is
/// `<account>.<id>.<secret>`, split at its dots.
pub fn token_id(field: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_TOKEN_ID_LEN {
        return Err(DomainError::invalid(field, format!("a token id has 1 to {MAX_TOKEN_ID_LEN} characters")));
    }
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')) {
        return Err(DomainError::invalid(field, "a token id has only A-Z, a-z, 0-9, '_' and '-'"));
    }
    Ok(())
}

/// A token name: text like every other name, at most `MAX_TOKEN_NAME_CHARS` characters.
pub fn token_name(field: &str, s: &str) -> Result<()> {
    v::text(field, s)?;
    if s.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(DomainError::invalid(field, format!("a token name has at most {MAX_TOKEN_NAME_CHARS} characters")));
    }
    Ok(())
}

pub(crate) fn token_hash(field: &str, s: &str) -> Result<()> {
    if s.len() != TOKEN_HASH_LEN || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(DomainError::invalid(field, "a token hash is a SHA-256 in lowercase hex (64 digits)"));
    }
    Ok(())
}

/// The token `CreateAccount` makes (not checked: old journals replay as they were accepted).
pub(crate) fn initial_token(hash: &str, now_ms: u64) -> Token {
    Token { name: Arc::from(INITIAL_TOKEN_ID), hash: Arc::from(hash), created_ms: now_ms }
}

#[cfg(test)]
mod tests;
