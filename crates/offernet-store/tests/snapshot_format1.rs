//! A data directory of the last format-1 build (commit 8c86313): its snapshot is a REAL format-1
//! snapshot (`offernet-core/tests/fixtures`), its entries the commands that built it. `verify`
//! accepts the snapshot, and after the old build's compaction deleted the entries it covers,
//! startup loads it and replays what follows.

mod common;

use common::*;
use offernet_core::{Command, Engine, EngineConfig};
use offernet_store::journal::{Entry, Journal};
use offernet_store::*;

both!(a_compacted_format_1_data_directory_still_starts);

const SNAPSHOT: &[u8] = include_bytes!("../../offernet-core/tests/fixtures/format1.snapshot");
const COMMANDS: &str = include_str!("../../offernet-core/tests/fixtures/format1.commands.json");

#[derive(serde::Deserialize)]
struct Logged {
    now_ms: u64,
    command: Command,
}

async fn a_compacted_format_1_data_directory_still_starts(db: &Db) {
    let config = EngineConfig::default();
    let logged: Vec<Logged> = serde_json::from_str(COMMANDS).unwrap();
    let covered = logged.len() as u64;
    let entries: Vec<Entry> = logged
        .into_iter()
        .enumerate()
        .map(|(i, l)| Entry { seq: 1 + i as u64, at_ms: l.now_ms, command: l.command })
        .collect();
    let after = vec![
        Entry { seq: covered + 1, at_ms: 1_764_100_000_000, command: stock_of_k2(7) },
        Entry { seq: covered + 2, at_ms: 1_764_100_000_001, command: stock_of_k2(9) },
    ];
    let mut j = db.journal().await;
    j.append_batch(1, &entries, &[]).await.unwrap();
    j.save_snapshot(covered, SNAPSHOT).await.unwrap();
    j.append_batch(2, &after, &[]).await.unwrap();
    // Before compaction, verify replays everything and accepts the format-1 snapshot.
    let v = verify(&mut j, config, &mut |_| {}).await.unwrap();
    assert_eq!((v.base, v.divergence.as_ref(), v.snapshots_ok.as_slice()), (None, None, &[covered][..]), "{v:?}");
    // The old build's `journal compact` deleted the entries the snapshot covers.
    j.compact(covered).await.unwrap();
    assert_eq!(j.first_seq().await.unwrap(), Some(covered + 1));
    drop(j);
    let (mut j, r) = open(db).await;
    assert_eq!((r.report.snapshot, r.report.replayed, r.last_seq), (Some(covered), 2, covered + 2), "{:?}", r.report);
    assert!(r.report.skipped_snapshots.is_empty());
    let mut expected = Engine::from_snapshot_bytes(config, SNAPSHOT).unwrap();
    for e in &after {
        expected.apply(&e.command, e.at_ms).unwrap();
    }
    assert_eq!(r.engine.snapshot_bytes(), expected.snapshot_bytes());
    // Verify of the compacted journal starts at the format-1 snapshot.
    let v = verify(&mut j, config, &mut |_| {}).await.unwrap();
    assert_eq!((v.base, v.divergence.as_ref(), v.entries), (Some(covered), None, 2), "{v:?}");
}

fn stock_of_k2(q: u64) -> Command {
    cmd(
        serde_json::json!({"type": "put_stock", "account": "sel", "warehouse": "w1", "sku": "k2", "body": {"quantity": q}}),
    )
}
