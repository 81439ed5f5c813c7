//! The account commands' unit tests: tokens and the name.

use super::*;
use crate::command::Command;
use crate::error::Missing;
use crate::state::Engine;

const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const HASH_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn engine() -> Engine {
    let mut e = Engine::default();
    let create = Command::CreateAccount {
        id: "a".into(),
        name: "A".into(),
        currency: "BRL".into(),
        token_hash: Some(HASH_A.into()),
    };
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
