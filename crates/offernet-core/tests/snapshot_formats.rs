//! REAL snapshots of older formats, of the same state (`fixtures/format6.commands.json`), still
//! load: format 6 (written at bafbde5) after format 7 changed how SKUs are laid out (a copy's
//! text written once per chain of copies), format 7 (written at d033d1c) after format 8 framed
//! each account by its length. Each is the state today's code reaches by applying the same
//! commands, and today's encoder, asked for what that format keeps, writes its very bytes.

use offernet_core::snapshot::SNAPSHOT_FORMAT;
use offernet_core::*;

const FORMAT6: &[u8] = include_bytes!("fixtures/format6.snapshot");
const FORMAT7: &[u8] = include_bytes!("fixtures/format7.snapshot");
const COMMANDS: &str = include_str!("fixtures/format6.commands.json");

#[derive(serde::Deserialize)]
struct Logged {
    now_ms: u64,
    command: Command,
}

fn replayed() -> Engine {
    let logged: Vec<Logged> = serde_json::from_str(COMMANDS).unwrap();
    let mut e = Engine::default();
    for (i, l) in logged.iter().enumerate() {
        e.apply(&l.command, l.now_ms).unwrap_or_else(|err| panic!("command {i}: {err:?}"));
    }
    e
}

/// `snapshot`, of `format`, loads (on one thread and on two) as the replayed state, and `journal
/// verify` accepts it.
fn loads_as_the_replayed_state(snapshot: &[u8], format: u32) -> Vec<u8> {
    assert_eq!(&snapshot[8..12], &format.to_le_bytes(), "the fixture must stay a format-{format} snapshot");
    let replay = replayed();
    // Chains of copies: three offers at the middle marketplace, three at the top.
    assert_eq!(replay.offer_count(), 6);
    let bytes = replay.snapshot_bytes();
    assert_eq!(&bytes[8..12], &SNAPSHOT_FORMAT.to_le_bytes());
    for threads in [1, 2] {
        let loaded = Engine::from_snapshot_bytes_on(EngineConfig::default(), snapshot, Some(threads)).unwrap();
        assert_eq!(loaded.snapshot_bytes(), bytes, "format {format} keeps everything: the same state");
        assert_eq!(loaded.stored_offers(), replay.stored_offers());
        for a in ["top", "mid", "sel"] {
            let skus =
                |e: &Engine| format!("{:?}", e.list_skus(a, &SkuFilter::default(), Window { limit: 100, offset: 0 }));
            assert_eq!(skus(&loaded), skus(&replay), "{a}'s SKUs");
        }
    }
    assert!(replay.snapshot_matches(snapshot), "journal verify accepts it");
    bytes
}

/// What `format` keeps of the replayed state, with the header of that format.
fn kept_by(format: u32) -> Vec<u8> {
    let mut kept = replayed().snapshot_bytes_kept_by(format);
    kept[8..12].copy_from_slice(&format.to_le_bytes());
    kept
}

#[test]
fn a_format_6_snapshot_loads_as_the_replayed_state() {
    let bytes = loads_as_the_replayed_state(FORMAT6, 6);
    // Format 7 on writes the copies' text once per chain: smaller.
    assert!(bytes.len() < FORMAT6.len(), "{} bytes, format 6 {}", bytes.len(), FORMAT6.len());
}

#[test]
fn what_format_6_keeps_is_written_as_format_6_wrote_it() {
    assert_eq!(kept_by(6), FORMAT6);
}

#[test]
fn a_format_7_snapshot_loads_as_the_replayed_state() {
    let bytes = loads_as_the_replayed_state(FORMAT7, 7);
    // Format 8 adds only each account's length (8 bytes each: three accounts).
    assert_eq!(bytes.len(), FORMAT7.len() + 3 * 8);
}

#[test]
fn what_format_7_keeps_is_written_as_format_7_wrote_it() {
    assert_eq!(kept_by(7), FORMAT7);
}
