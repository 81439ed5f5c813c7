//! An account's own settings: its name (`PatchAccount`) and its named API tokens
//! (`CreateToken`, `DeleteToken`). The server chooses a token's id and secret and journals only
//! the SHA-256 of the whole token, so the engine stays deterministic and never holds a secret;
//! the server's authentication reads the hashes here (`Engine::token_hash`), so a revocation is
//! in force as soon as its command is applied.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::{DomainError, Missing, Result};
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

fn token_hash(field: &str, s: &str) -> Result<()> {
    if s.len() != TOKEN_HASH_LEN || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(DomainError::invalid(field, "a token hash is a SHA-256 in lowercase hex (64 digits)"));
    }
    Ok(())
}

/// The token `CreateAccount` makes (not checked: old journals replay as they were accepted).
pub(crate) fn initial_token(hash: &str, now_ms: u64) -> Token {
    Token { name: Arc::from(INITIAL_TOKEN_ID), hash: Arc::from(hash), created_ms: now_ms }
}

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;

    const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const HASH_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn engine() -> Engine {
        let mut e = Engine::default();
        let create =
            Command::CreateAccount { id: "a".into(), name: "A".into(), currency: "BRL".into(), token_hash: Some(HASH_A.into()) };
        e.apply(&create, 7).unwrap();
        e
    }

    fn create(id: &str, name: &str, hash: &str) -> Command {
        Command::CreateToken { account: "a".into(), id: id.into(), name: name.into(), token_hash: hash.into() }
    }

    #[test]
    fn the_account_token_is_the_initial_one() {
        let e = engine();
        assert_eq!(e.token_hash("a", INITIAL_TOKEN_ID).as_deref(), Some(HASH_A));
        let t = e.token("a", INITIAL_TOKEN_ID).unwrap();
        assert_eq!((&*t.id, &*t.name, t.created_ms), ("initial", "initial", 7));
        // Without a hash (the engine's own tests, old demos) an account has no token.
        let mut e = Engine::default();
        e.apply(&Command::CreateAccount { id: "b".into(), name: "B".into(), currency: "BRL".into(), token_hash: None }, 0)
            .unwrap();
        assert_eq!(e.list_tokens("b", crate::Window { limit: 10, offset: 0 }).unwrap().total, 0);
    }

    #[test]
    fn tokens_are_created_listed_and_revoked() {
        let mut e = engine();
        e.apply(&create("t2", "ci", HASH_B), 9).unwrap();
        let page = e.list_tokens("a", crate::Window { limit: 10, offset: 0 }).unwrap();
        let ids: Vec<&str> = page.items.iter().map(|t| &*t.id).collect();
        assert_eq!(ids, ["initial", "t2"]);
        assert_eq!(e.token_hash("a", "t2").as_deref(), Some(HASH_B));
        assert!(e.apply(&create("t2", "again", HASH_B), 9).unwrap_err().to_string().contains("already has a token"));
        e.apply(&Command::DeleteToken { account: "a".into(), id: "initial".into() }, 10).unwrap();
        assert_eq!(e.token_hash("a", "initial"), None);
        let again = e.apply(&Command::DeleteToken { account: "a".into(), id: "initial".into() }, 10).unwrap_err();
        assert!(matches!(again, DomainError::NotFound { missing: Missing::Token, .. }), "{again}");
        assert_eq!(e.token_hash("a", "t2").as_deref(), Some(HASH_B));
    }

    #[test]
    fn bodies_are_checked_before_the_account_is_looked_up() {
        let mut e = engine();
        let bad = [
            (create("a.b", "x", HASH_B), "id"),
            (create(&"x".repeat(MAX_TOKEN_ID_LEN + 1), "x", HASH_B), "id"),
            (create("t", " ", HASH_B), "name"),
            (create("t", "line\nbreak", HASH_B), "name"),
            (create("t", &"é".repeat(MAX_TOKEN_NAME_CHARS + 1), HASH_B), "name"),
            (create("t", "x", "not-a-hash"), "token_hash"),
            (create("t", "x", &HASH_B.to_uppercase()), "token_hash"),
        ];
        for (cmd, field) in bad {
            let mut cmd = cmd;
            if let Command::CreateToken { account, .. } = &mut cmd {
                *account = "nobody".into(); // 400 wins over 404
            }
            match e.apply(&cmd, 0) {
                Err(DomainError::InvalidField { field: f, .. }) => assert_eq!(f, field, "{cmd:?}"),
                other => panic!("{cmd:?}: {other:?}"),
            }
        }
        assert!(e.apply(&create("t", &"é".repeat(MAX_TOKEN_NAME_CHARS), HASH_B), 0).is_ok());
    }

    #[test]
    fn an_account_holds_at_most_the_named_number_of_tokens() {
        let mut e = engine();
        for i in 1..MAX_TOKENS_PER_ACCOUNT {
            e.apply(&create(&format!("t{i}"), "n", HASH_B), 0).unwrap();
        }
        let err = e.apply(&create("one-more", "n", HASH_B), 0).unwrap_err();
        assert_eq!(err.code(), "conflict");
        assert!(err.to_string().contains("100 tokens"), "{err}");
        e.apply(&Command::DeleteToken { account: "a".into(), id: "t1".into() }, 0).unwrap();
        e.apply(&create("one-more", "n", HASH_B), 0).unwrap();
    }

    #[test]
    fn patch_changes_the_name_only() {
        let mut e = engine();
        let patch = |name: Option<&str>| Command::PatchAccount {
            account: "a".into(),
            body: AccountPatchBody { name: name.map(String::from) },
        };
        e.apply(&patch(Some("Acme Store")), 0).unwrap();
        let view = e.account("a").unwrap();
        assert_eq!((&*view.id, &*view.name, &*view.currency), ("a", "Acme Store", "BRL"));
        e.apply(&patch(None), 0).unwrap();
        assert_eq!(&*e.account("a").unwrap().name, "Acme Store");
        assert_eq!(e.apply(&patch(Some("\u{200B}")), 0).unwrap_err().code(), "invalid_field");
        let missing = Command::PatchAccount { account: "zz".into(), body: AccountPatchBody::default() };
        assert_eq!(e.apply(&missing, 0).unwrap_err().code(), "not_found");
    }
}
