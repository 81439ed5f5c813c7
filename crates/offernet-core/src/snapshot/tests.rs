use crate::command::Command;
use crate::engine::{Engine, EngineConfig};

fn one_account() -> Engine {
    let mut e = Engine::default();
    let cmd = Command::CreateAccount { id: "a".into(), name: "A".into(), currency: "EUR".into(), token_hash: None };
    e.apply(&cmd, 0).unwrap();
    e
}

/// Byte 64 of a one-account snapshot is the code of trade policy `1`'s assortment: header
/// (8 magic + 4 format + 1 max_chain + 8 seq + 8 applied + 4 accounts), the account's id, name
/// and currency (4 + 1, 4 + 1, 4 + 3), no tokens (4), 1 trade policy (4), its id (4 + 1), no
/// name (1).
const ASSORTMENT_AT: usize = 64;

#[test]
fn a_snapshot_round_trips() {
    let e = one_account();
    let bytes = e.snapshot_bytes();
    assert_eq!(bytes[ASSORTMENT_AT], super::ASSORTMENT_ALL);
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.snapshot_bytes(), bytes);
}

#[test]
fn an_unknown_code_is_refused_naming_code_and_position() {
    let mut bytes = one_account().snapshot_bytes();
    bytes[ASSORTMENT_AT] = 7;
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap_err();
    assert_eq!(err, format!("unknown assortment code 7 at byte {ASSORTMENT_AT}"));
    // An option's code (the trade policy's name) is refused the same way.
    let mut bytes = one_account().snapshot_bytes();
    let name_at = ASSORTMENT_AT - 1;
    bytes[name_at] = 2;
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap_err();
    assert_eq!(err, format!("unknown option code 2 at byte {name_at}"));
}

/// An account's tokens (the initial one, named ones, a revoked one gone) and its changed name
/// survive a snapshot: the copy answers the same and encodes to the same bytes.
#[test]
fn tokens_and_the_account_name_round_trip() {
    let hash = |c: char| c.to_string().repeat(64);
    let mut e = Engine::default();
    let cmds = [
        Command::CreateAccount {
            id: "a".into(),
            name: "A".into(),
            currency: "EUR".into(),
            token_hash: Some(hash('a')),
        },
        Command::CreateToken { account: "a".into(), id: "t1".into(), name: "ci".into(), token_hash: hash('b') },
        Command::CreateToken { account: "a".into(), id: "t2".into(), name: "shop 2026".into(), token_hash: hash('c') },
        Command::DeleteToken { account: "a".into(), id: "t1".into() },
        Command::PatchAccount {
            account: "a".into(),
            body: crate::AccountPatchBody { name: Some("Acme Store".into()) },
        },
    ];
    for (i, c) in cmds.iter().enumerate() {
        e.apply(c, 1_000 + i as u64).unwrap();
    }
    let bytes = e.snapshot_bytes();
    let copy = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap();
    assert_eq!(copy.snapshot_bytes(), bytes);
    let all = crate::Window { limit: 10, offset: 0 };
    assert_eq!(copy.list_tokens("a", all).unwrap().items, e.list_tokens("a", all).unwrap().items);
    let ids: Vec<_> = copy.list_tokens("a", all).unwrap().items.into_iter().map(|t| (t.id, t.created_ms)).collect();
    assert_eq!(ids, [("initial".into(), 1_000), ("t2".into(), 1_002)]);
    assert_eq!(copy.token_hash("a", "t2").as_deref(), Some(&*hash('c')));
    assert_eq!(copy.token_hash("a", "t1"), None);
    assert_eq!(&*copy.account("a").unwrap().name, "Acme Store");
}
