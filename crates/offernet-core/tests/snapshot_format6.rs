//! A REAL format-6 snapshot (written at bafbde5, see tests/fixtures/README.md) still loads after
//! format 7 changed how SKUs are laid out (a copy's text written once per chain of copies): it
//! is the state today's code reaches by applying the same commands, and today's encoder, asked
//! for what format 6 keeps, writes its very bytes.

use offernet_core::snapshot::SNAPSHOT_FORMAT;
use offernet_core::*;

const SNAPSHOT: &[u8] = include_bytes!("fixtures/format6.snapshot");
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

#[test]
fn a_format_6_snapshot_loads_as_the_replayed_state() {
    assert_eq!(&SNAPSHOT[8..12], &6u32.to_le_bytes(), "the fixture must stay a format-6 snapshot");
    let loaded = Engine::from_snapshot_bytes(EngineConfig::default(), SNAPSHOT).unwrap();
    let replay = replayed();
    // Chains of copies: three offers at the middle marketplace, three at the top.
    assert_eq!(replay.offer_count(), 6);
    let bytes = replay.snapshot_bytes();
    assert_eq!(&bytes[8..12], &SNAPSHOT_FORMAT.to_le_bytes());
    assert_eq!(loaded.snapshot_bytes(), bytes, "format 6 keeps everything: the same state");
    assert_eq!(loaded.stored_offers(), replay.stored_offers());
    for a in ["top", "mid", "sel"] {
        let skus =
            |e: &Engine| format!("{:?}", e.list_skus(a, &SkuFilter::default(), Window { limit: 100, offset: 0 }));
        assert_eq!(skus(&loaded), skus(&replay), "{a}'s SKUs");
    }
    assert!(replay.snapshot_matches(SNAPSHOT), "journal verify accepts it");
    // Format 7 writes the copies' text once per chain: smaller.
    assert!(bytes.len() < SNAPSHOT.len(), "{} bytes, format 6 {}", bytes.len(), SNAPSHOT.len());
}

#[test]
fn what_format_6_keeps_is_written_as_format_6_wrote_it() {
    let mut kept = replayed().snapshot_bytes_kept_by(6);
    kept[8..12].copy_from_slice(&6u32.to_le_bytes());
    assert_eq!(kept, SNAPSHOT);
}
