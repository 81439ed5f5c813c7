//! The journal's binary form of commands (`bin`, beside the JSON): written for the kinds that
//! have one, replayed from it, the JSON the fallback; damage refused; a journal of the schema
//! before it (SQLite 3, PostgreSQL without migration 5) upgraded and still replayed. Startup
//! reads no JSON of an entry it decodes from the binary form (whose checksum guards what
//! replay uses); `verify` still reads and checks every JSON.

mod common;

use common::*;
use offernet_core::{Command, EngineConfig};
use offernet_store::*;
use serde_json::json;

both!(
    entries_carry_their_binary_form_and_replay_from_it,
    a_damaged_binary_form_refuses_to_start,
    a_binary_form_that_disagrees_with_the_json_fails_verify,
    a_journal_from_before_the_binary_form_is_upgraded,
    replay_reads_no_json_of_an_entry_with_a_binary_form,
    a_binary_form_of_a_newer_layout_replays_from_the_json,
);

/// The small network, stock and price updates, and orders (binary forms), and an account
/// (JSON only).
fn mixed_commands() -> Vec<Command> {
    let mut all = setup_commands();
    all.extend((0..30).map(|i| stock(i, 1_000 + i as u64)));
    all.push(cmd(
        json!({"type": "put_price", "account": "s", "sku": "k3", "body": {"price": 4242, "list_price": 5000}}),
    ));
    all.push(cmd(json!({"type": "delete_price", "account": "s", "sku": "k4"})));
    all.push(cmd(json!({"type": "create_account", "id": "x", "name": "X", "currency": "BRL"})));
    for i in 0..5 {
        all.push(cmd(json!({"type": "place_order", "marketplace": "m",
            "body": {"id": format!("o{i}"), "items": [{"sku": "s-k1", "quantity": 1, "seller": "s"}]}})));
    }
    all.push(cmd(json!({"type": "cancel_order", "account": "m", "id": "o0"})));
    all.push(cmd(json!({"type": "expire_orders"})));
    all
}

/// Writes `commands` through the writer one by one (the engine may refuse some: they are
/// journaled all the same, and replay refuses them again); the engine's state after them.
async fn write(db: &Db, commands: &[Command]) -> Vec<u8> {
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    for c in commands {
        let _ = h.submit(c.clone()).await.unwrap();
    }
    h.shutdown().await;
    task.await.unwrap();
    h.read(|e| e.snapshot_bytes())
}

async fn count(j: &mut AnyJournal, filter: &str) -> i64 {
    Db::scalar(j, &format!("SELECT COUNT(*) FROM {{t}}journal WHERE {filter}")).await
}

async fn entries_carry_their_binary_form_and_replay_from_it(db: &Db) {
    let all = mixed_commands();
    let expected = write(db, &all).await;
    let mut j = db.journal().await;
    let binary = all.iter().filter(|c| offernet_store::binary::encode(c).is_some()).count() as i64;
    assert!(binary >= 40, "stock, prices and orders have a binary form");
    assert_eq!(count(&mut j, "bin IS NOT NULL").await, binary);
    drop_snapshots(&mut j).await;
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert!(r.engine.snapshot_bytes() == expected, "replayed from the binary forms");
    // Without them, the JSON alone replays to the same state.
    Db::sql(&mut j, "UPDATE {t}journal SET bin = NULL").await;
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert!(r.engine.snapshot_bytes() == expected, "replayed from the JSON");
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence, None);
}

/// The sequence number of the last stored stock update.
async fn last_stock_seq(j: &mut AnyJournal) -> i64 {
    Db::scalar(j, "SELECT MAX(seq) FROM {t}journal WHERE command LIKE '%put_stock%'").await
}

async fn a_damaged_binary_form_refuses_to_start(db: &Db) {
    write(db, &mixed_commands()).await;
    let mut j = db.journal().await;
    drop_snapshots(&mut j).await;
    let seq = last_stock_seq(&mut j).await;
    // The last byte of the binary form (a quantity) changed; its JSON is intact.
    let flip = match db.url {
        None => format!("UPDATE journal SET bin = substr(bin, 1, length(bin) - 1) || X'7f' WHERE seq = {seq}"),
        Some(_) => format!(
            "UPDATE offernet.journal SET bin = set_byte(bin, length(bin) - 1, get_byte(bin, length(bin) - 1) # 127) WHERE seq = {seq}"
        ),
    };
    Db::sql(&mut j, &flip).await;
    let plan = match recover(&mut j, EngineConfig::default(), &mut |_| {}).await {
        Err(JournalError::NeedsRepair(plan)) => plan,
        other => panic!("a damaged binary form must refuse to start, got {:?}", other.map(|r| r.last_seq)),
    };
    assert!(plan.found.contains("binary command checksum"), "{plan}");
    assert_eq!(plan.applied, seq as u64 - 1, "{plan}");
}

async fn a_binary_form_that_disagrees_with_the_json_fails_verify(db: &Db) {
    write(db, &mixed_commands()).await;
    let mut j = db.journal().await;
    drop_snapshots(&mut j).await;
    let seq = last_stock_seq(&mut j).await;
    // A well-formed binary form of another command (another stock update's).
    Db::sql(
        &mut j,
        &format!(
            "UPDATE {{t}}journal SET bin = (SELECT bin FROM {{t}}journal WHERE seq = {}) WHERE seq = {seq}",
            seq - 1
        ),
    )
    .await;
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    let d = v.divergence.expect("verify compares the binary form with the JSON");
    assert_eq!(d.seq, seq as u64);
    assert!(d.why.contains("binary form"), "{}", d.why);
}

async fn a_journal_from_before_the_binary_form_is_upgraded(db: &Db) {
    let all = mixed_commands();
    let (old, new) = (all[..40].to_vec(), all[40..].to_vec());
    write(db, &old).await;
    let mut j = db.journal().await;
    // As the schema before the binary form left it: no column, the older version recorded.
    let downgrade = match db.url {
        None => "ALTER TABLE journal DROP COLUMN bin; UPDATE meta SET value = '3' WHERE key = 'schema_version'",
        Some(_) => "ALTER TABLE offernet.journal DROP COLUMN bin; DELETE FROM offernet.migrations WHERE version = 5",
    };
    Db::sql(&mut j, downgrade).await;
    drop(j);
    let expected = write(db, &new).await;
    let mut j = db.journal().await;
    assert_eq!(count(&mut j, "bin IS NOT NULL AND seq <= 40").await, 0, "old entries keep only their JSON");
    let binary = new.iter().filter(|c| offernet_store::binary::encode(c).is_some()).count() as i64;
    assert_eq!(count(&mut j, "bin IS NOT NULL").await, binary, "new entries carry the binary form");
    drop_snapshots(&mut j).await;
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert!(r.engine.snapshot_bytes() == expected, "the upgraded journal replays to the state it was written to");
}

async fn replay_reads_no_json_of_an_entry_with_a_binary_form(db: &Db) {
    let all = mixed_commands();
    let expected = write(db, &all).await;
    let mut j = db.journal().await;
    drop_snapshots(&mut j).await;
    // Replay's read leaves out exactly the JSON of the entries with a binary form.
    let lean = j.read_for_replay(0, 1_000).await.unwrap();
    assert_eq!(lean.len(), all.len());
    for raw in &lean {
        assert_eq!(raw.json, raw.bin.is_none(), "entry {}", raw.seq);
        assert_eq!(raw.command.is_empty(), raw.bin.is_some(), "entry {}", raw.seq);
    }
    assert!(j.read_after(0, 1_000).await.unwrap().iter().all(|r| r.json && !r.command.is_empty()));
    // The JSON of the last stock update damaged, its binary form intact: startup replays it
    // from the binary form without reading the JSON, to the state the writer left.
    let seq = last_stock_seq(&mut j).await;
    Db::sql(&mut j, &format!("UPDATE {{t}}journal SET command = replace(command, 'put', 'pUt') WHERE seq = {seq}"))
        .await;
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert!(r.engine.snapshot_bytes() == expected, "replayed from the binary forms");
    // `verify` reads every JSON and finds the damage.
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    let d = v.divergence.expect("verify checks the JSON");
    assert_eq!(d.seq, seq as u64);
    assert!(d.why.contains("checksum mismatch"), "{}", d.why);
}

async fn a_binary_form_of_a_newer_layout_replays_from_the_json(db: &Db) {
    let all = mixed_commands();
    let expected = write(db, &all).await;
    let mut j = db.journal().await;
    drop_snapshots(&mut j).await;
    let seq = last_stock_seq(&mut j).await;
    // A binary form of layout BIN_FORMAT + 1 (which this build does not know), tag 1.
    let newer = format!("{:02x}", offernet_store::binary::BIN_FORMAT + 1);
    let set = match db.url {
        None => format!("UPDATE journal SET bin = X'00000000{newer}01' WHERE seq = {seq}"),
        Some(_) => format!("UPDATE offernet.journal SET bin = '\\x00000000{newer}01'::bytea WHERE seq = {seq}"),
    };
    Db::sql(&mut j, &set).await;
    let lean = j.read_for_replay(seq as u64 - 1, 1).await.unwrap();
    assert!(!lean[0].json, "replay's first read leaves its JSON out");
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert!(r.engine.snapshot_bytes() == expected, "the entry replayed from its JSON");
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence, None);
}
