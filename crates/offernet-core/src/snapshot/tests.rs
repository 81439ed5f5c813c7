use crate::command::Command;
use crate::engine::{Engine, EngineConfig};

fn one_account() -> Engine {
    let mut e = Engine::default();
    let cmd = Command::CreateAccount { id: "a".into(), name: "A".into(), currency: "EUR".into(), token_hash: None };
    e.apply(&cmd, 0).unwrap();
    e
}

/// Byte 61 of a one-account snapshot is the code of trade policy `1`'s assortment: header
/// (8 magic + 4 format + 1 max_chain + 8 seq + 8 applied + 4 accounts), the account's id, name
/// and currency (4 + 1, 4 + 1, 4 + 3), no token (1), 1 trade policy (4), its id (4 + 1), no
/// name (1).
const ASSORTMENT_AT: usize = 61;

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
    // An option's code (the account's token hash) is refused the same way.
    let mut bytes = one_account().snapshot_bytes();
    let token_at = ASSORTMENT_AT - 1 - 5 - 4 - 1;
    bytes[token_at] = 2;
    let err = Engine::from_snapshot_bytes(EngineConfig::default(), &bytes).unwrap_err();
    assert_eq!(err, format!("unknown option code 2 at byte {token_at}"));
}
