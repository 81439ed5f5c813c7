//! The SQLite journal, the group-commit writer, recovery, verify and compact.

mod common;

use common::*;
use offernet_core::{Command, Engine, EngineConfig};
use offernet_store::journal::Journal;
use offernet_store::*;

both!(
    restart_restores_every_acknowledged_command,
    concurrent_writers_share_commits,
    a_full_queue_says_busy,
    a_snapshot_with_a_bad_checksum_is_skipped,
    a_damaged_last_batch_refuses_to_start_until_repaired,
    an_incomplete_last_batch_refuses_to_start_until_repaired,
    a_journal_behind_the_high_water_mark_refuses_to_start,
    damage_in_the_middle_refuses_to_start_and_names_the_entry,
    verify_finds_a_snapshot_that_differs_from_the_replay,
    compact_keeps_the_two_newest_verified_snapshots,
    data_files_are_private,
    another_max_chain_is_refused,
    a_format_1_journal_still_replays,
    a_journal_of_older_rules_is_upgraded_only_from_a_snapshot,
);

async fn restart_restores_every_acknowledged_command(db: &Db) {
    let mut all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let more: Vec<Command> = (0..50).map(|i| stock(i, i as u64 * 3)).collect();
    write_all(db, &more, WriterConfig { snapshot_every: 7, ..Default::default() }).await;
    all.extend(more);
    let (mut j, r) = open(db).await;
    assert!(r.report.snapshot.is_some(), "a snapshot was taken and loaded: {:?}", r.report);
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
    assert_eq!(r.last_seq, all.len() as u64);
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence, None);
    assert_eq!(v.entries, all.len() as u64);
    assert!(!v.snapshots_ok.is_empty());
}

async fn concurrent_writers_share_commits(db: &Db) {
    write_all(db, &setup_commands(), WriterConfig::default()).await;
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, WriterConfig::default());
    let mut tasks = Vec::new();
    for t in 0..32 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                h.submit(stock(t, i)).await.unwrap().unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stats = &h.shared().stats;
    let batches = stats.batches.load(std::sync::atomic::Ordering::Relaxed);
    let commands = stats.commands.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(commands, 32 * 50);
    assert!(batches < commands, "group commit: {batches} commits for {commands} commands");
    h.shutdown().await;
    task.await.unwrap();
}

async fn a_full_queue_says_busy(db: &Db) {
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, WriterConfig { queue_depth: 4, max_batch: 1, snapshot_every: 0, ..Default::default() });
    h.submit(setup_commands()[0].clone()).await.unwrap().unwrap();
    // Hold the engine: the writer commits its next batch and then waits to apply it, while
    // the queue behind it fills up.
    let guard = stall_engine(&h);
    let mut pending = Vec::new();
    let mut busy = 0;
    for i in 0..64 {
        let h2 = h.clone();
        let c = stock(i, 1);
        pending.push(tokio::spawn(async move { h2.submit(c).await }));
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(guard);
    for p in pending {
        if p.await.unwrap() == Err(SubmitError::Busy) {
            busy += 1;
        }
    }
    assert!(busy > 0, "some submissions were refused with Busy");
    h.shutdown().await;
    task.await.unwrap();
}

async fn a_snapshot_with_a_bad_checksum_is_skipped(db: &Db) {
    let all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 10, ..Default::default() }).await;
    {
        let mut j = db.journal().await;
        let newest = j.snapshots().await.unwrap()[0].seq;
        // Overwrite the snapshot's bytes (same length, all zero): its checksum fails.
        let zeros = match &j {
            AnyJournal::Sqlite(_) => "zeroblob(length(data))",
            AnyJournal::Postgres(_) => "decode(repeat('00', length(data)), 'hex')",
        };
        Db::sql(&mut j, &format!("UPDATE {{t}}snapshot_chunks SET data = {zeros} WHERE seq = {newest}")).await;
    }
    let (_, r) = open(db).await;
    assert_eq!(r.report.skipped_snapshots.len(), 1, "{:?}", r.report);
    assert!(r.report.snapshot.is_some(), "an older snapshot was used");
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
}

/// The plan in a refusal: startup deleted nothing and says what repair would do.
fn refusal(err: JournalError) -> RepairPlan {
    match err {
        JournalError::NeedsRepair(plan) => *plan,
        other => panic!("expected a refusal with a repair plan, got: {other}"),
    }
}

async fn rows(j: &mut AnyJournal, table: &str) -> i64 {
    Db::scalar(j, &format!("SELECT COUNT(*) FROM {{t}}{table}")).await
}

/// Repairs with `--accept-loss`, restarts, and checks that the next write gets a sequence
/// number above `above` and that the journal verifies.
async fn repair_and_continue(db: &Db, above: u64) -> Recovered {
    // The event numbers clients may have seen, as the high-water mark recorded them.
    let mark = std::fs::read_to_string(db.dir.join("committed-seq")).expect("the writer wrote the mark");
    let events: u64 = mark.split_whitespace().nth(1).expect("two numbers").parse().unwrap();
    let mut j = db.journal().await;
    match repair(&mut j, EngineConfig::default(), false).await.unwrap() {
        RepairOutcome::Planned(_) => {}
        other => panic!("without --accept-loss repair only plans: {other:?}"),
    }
    let planned_rows = rows(&mut j, "journal").await;
    match repair(&mut j, EngineConfig::default(), true).await.unwrap() {
        RepairOutcome::Repaired { .. } => {}
        other => panic!("repair --accept-loss repairs: {other:?}"),
    }
    // Nothing is added but the repair's own `SkipEventSeq` entry.
    assert!(rows(&mut j, "journal").await <= planned_rows + 1);
    assert_eq!(repair(&mut j, EngineConfig::default(), true).await.unwrap(), RepairOutcome::Healthy);
    drop(j);
    let (j, r) = open(db).await;
    assert!(r.engine.last_seq() >= events, "event numbers up to {events} are never reused: {}", r.engine.last_seq());
    let kept = r.engine.snapshot_bytes();
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    h.submit(stock(1, 4242)).await.unwrap().unwrap();
    h.shutdown().await;
    let mut j = task.await.unwrap();
    let last = j.last().await.unwrap().seq;
    let newest = j.read_after(last - 1, 1).await.unwrap();
    assert_eq!(newest.len(), 1);
    assert!(newest[0].seq > above, "the next write got seq {} (must be above {above})", newest[0].seq);
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence, None, "{v:?}");
    drop(j);
    let (_, r) = open(db).await;
    let mut expected = Engine::from_snapshot_bytes(EngineConfig::default(), &kept).unwrap();
    let _ = expected.apply(&stock(1, 4242), 0);
    assert_eq!(r.engine.snapshot_bytes(), expected.snapshot_bytes());
    r
}

async fn a_damaged_last_batch_refuses_to_start_until_repaired(db: &Db) {
    let all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 0, max_batch: 1, ..Default::default() }).await;
    let last = all.len() as i64;
    {
        let mut j = db.journal().await;
        drop_snapshots(&mut j).await;
        // One flipped character in the last batch's JSON and one flipped byte in its binary
        // form (replay reads only the binary form of a stock update): its checksum fails.
        Db::sql(
            &mut j,
            &format!("UPDATE {{t}}journal SET command = replace(command, 'put', 'pUt') WHERE seq = {last}"),
        )
        .await;
        let flip = match db.url {
            None => format!("UPDATE journal SET bin = substr(bin, 1, length(bin) - 1) || X'7f' WHERE seq = {last}"),
            Some(_) => format!(
                "UPDATE offernet.journal SET bin = set_byte(bin, length(bin) - 1, get_byte(bin, length(bin) - 1) # 127) WHERE seq = {last}"
            ),
        };
        Db::sql(&mut j, &flip).await;
    }
    let mut j = db.journal().await;
    let plan = refusal(recover(&mut j, EngineConfig::default(), &mut |_| {}).await.err().expect("refuses"));
    let msg = plan.to_string();
    assert!(
        msg.contains(&format!("entry {last} (batch {last}) is damaged: binary command checksum mismatch")),
        "{msg}"
    );
    assert!(msg.contains("--accept-loss") && msg.contains(&format!("continue at entry {}", last + 1)), "{msg}");
    assert_eq!(plan.quarantine, Some(EntryRange { first: last as u64, last: last as u64, count: 1 }));
    assert_eq!(rows(&mut j, "journal").await, last, "nothing was deleted");
    // Refusing again changes nothing either.
    assert!(recover(&mut j, EngineConfig::default(), &mut |_| {}).await.is_err());
    assert_eq!(rows(&mut j, "journal").await, last);
    drop(j);
    let r = repair_and_continue(db, last as u64).await;
    // The repair's `SkipEventSeq`, then the write.
    assert_eq!(r.last_seq, last as u64 + 2);
    let mut j = db.journal().await;
    assert_eq!(rows(&mut j, "quarantine").await, 1, "the damaged entry is kept in quarantine");
    let q = Db::scalar(&mut j, "SELECT seq FROM {t}quarantine").await;
    assert_eq!(q, last);
}

async fn an_incomplete_last_batch_refuses_to_start_until_repaired(db: &Db) {
    write_all(db, &setup_commands(), WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    // Many stock updates, submitted while the engine is held, land in a few large batches.
    let (j, r) = open(db).await;
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 0, ..Default::default() });
    let mut waits = Vec::new();
    let guard = stall_engine(&h);
    for i in 0..200 {
        let h = h.clone();
        waits.push(tokio::spawn(async move { h.submit(stock(i, i as u64)).await }));
        // The pipelined writer commits two batches while the engine is held (the second while
        // the first waits to be applied): one command each, so the rest wait together.
        if i < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    drop(guard);
    for w in waits {
        w.await.unwrap().unwrap().unwrap();
    }
    h.shutdown().await;
    let mut j = task.await.unwrap();
    drop_snapshots(&mut j).await;
    let JournalEnd { seq: last_seq, batch: last_batch } = j.last().await.unwrap();
    let first_of_last: i64 =
        Db::scalar(&mut j, &format!("SELECT MIN(seq) FROM {{t}}journal WHERE batch = {last_batch}")).await;
    assert!(last_seq as i64 > first_of_last, "the last batch has several entries");
    // Lose the last entry of the last batch, as a torn write would.
    Db::sql(&mut j, &format!("DELETE FROM {{t}}journal WHERE seq = {last_seq}")).await;
    let stored = rows(&mut j, "journal").await;
    drop(j);
    let mut j = db.journal().await;
    let plan = refusal(recover(&mut j, EngineConfig::default(), &mut |_| {}).await.err().expect("refuses"));
    let msg = plan.to_string();
    assert!(msg.contains(&format!("(batch {last_batch}) is damaged")) && msg.contains("entries"), "{msg}");
    assert_eq!(plan.applied, first_of_last as u64 - 1, "no half batch counts as applied");
    assert_eq!(rows(&mut j, "journal").await, stored, "nothing was deleted");
    drop(j);
    // The lost entry's number is used too (the high-water mark names it): never reused.
    let r = repair_and_continue(db, last_seq).await;
    assert_eq!(r.last_seq, last_seq + 2);
}

/// The journal lost its newest committed entries (as a damaged or deleted SQLite WAL loses
/// them): the high-water mark in the data directory says so, startup refuses naming both
/// numbers, verify reports it, and after repair the lost numbers are never reused.
async fn a_journal_behind_the_high_water_mark_refuses_to_start(db: &Db) {
    let all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 0, max_batch: 1, ..Default::default() }).await;
    let last = all.len() as u64;
    let mark = std::fs::read_to_string(db.dir.join("committed-seq")).expect("the writer wrote the mark");
    assert_eq!(mark.split_whitespace().next(), Some(last.to_string().as_str()), "{mark}");
    {
        let mut j = db.journal().await;
        drop_snapshots(&mut j).await;
        Db::sql(&mut j, &format!("DELETE FROM {{t}}journal WHERE seq > {}", last - 5)).await;
    }
    let mut j = db.journal().await;
    let msg = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.err().expect("refuses").to_string();
    assert!(
        msg.contains(&format!("the journal ends at entry {}", last - 5))
            && msg.contains(&format!("says entry {last} was committed")),
        "{msg}"
    );
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    let Divergence { seq, why } = v.divergence.expect("verify reports the missing entries");
    assert_eq!(seq, last - 4, "{why}");
    assert!(why.contains("high-water mark"), "{why}");
    drop(j);
    let r = repair_and_continue(db, last).await;
    assert_eq!(r.last_seq, last + 2);
}

async fn damage_in_the_middle_refuses_to_start_and_names_the_entry(db: &Db) {
    write_all(db, &setup_commands(), WriterConfig { snapshot_every: 0, max_batch: 1, ..Default::default() }).await;
    {
        let mut j = db.journal().await;
        drop_snapshots(&mut j).await;
        Db::sql(&mut j, "UPDATE {t}journal SET command = '{}' WHERE seq = 12").await;
    }
    let mut j = db.journal().await;
    let err = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.err().expect("refuses");
    assert!(err.to_string().contains("entry 12"), "{err}");
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence.as_ref().map(|d| d.seq), Some(12), "{v:?}");
}

async fn verify_finds_a_snapshot_that_differs_from_the_replay(db: &Db) {
    let all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let mut j = db.journal().await;
    // A well-formed snapshot (valid checksum) of the wrong state at entry 30.
    let wrong = reference(&all[..29]).snapshot_bytes();
    j.save_snapshot(30, &wrong).await.unwrap();
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(v.divergence.as_ref().map(|d| d.seq), Some(30), "{v:?}");
}

async fn compact_keeps_the_two_newest_verified_snapshots(db: &Db) {
    let mut all = setup_commands();
    // Each run of the writer ends with a snapshot: at 65, then at 75.
    write_all(db, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let older = all.len() as u64;
    let more: Vec<Command> = (0..10).map(|i| stock(i, 5)).collect();
    write_all(db, &more, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    all.extend(more);
    let mut j = db.journal().await;
    let Compacted { base: snap, dropped } =
        compact(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap().unwrap().unwrap();
    assert_eq!((snap, dropped), (older, older), "only what the older of the two snapshots covers is dropped");
    let kept: Vec<u64> = j.snapshots().await.unwrap().iter().map(|s| s.seq).collect();
    assert_eq!(kept, vec![all.len() as u64, older], "both verified snapshots are kept");
    let v = verify(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!((v.base, v.divergence), (Some(snap), None));
    // If the newest snapshot is damaged, startup still has the older one and the entries after it.
    let zeros = match &j {
        AnyJournal::Sqlite(_) => "zeroblob(length(data))",
        AnyJournal::Postgres(_) => "decode(repeat('00', length(data)), 'hex')",
    };
    Db::sql(&mut j, &format!("UPDATE {{t}}snapshot_chunks SET data = {zeros} WHERE seq = {}", all.len())).await;
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(r.report.snapshot, Some(older));
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
    drop(j);
    // Writing continues after compaction with the right sequence numbers.
    let extra = vec![stock(3, 77)];
    write_all(db, &extra, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    all.extend(extra);
    let (mut j, r) = open(db).await;
    assert_eq!(r.last_seq, all.len() as u64);
    assert_eq!(r.engine.snapshot_bytes(), reference(&all).snapshot_bytes());
    // A second compaction drops nothing while a snapshot is damaged (the one at 75, above):
    // verify reports it, and compaction stops.
    let out = compact(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert!(out.is_err(), "a damaged snapshot stops compaction: {out:?}");
}

/// Everything offernet creates in the data directory is private: the directory 0700, the files
/// 0600 (the journal and its -wal/-shm files, the lock, the high-water mark).
async fn data_files_are_private(db: &Db) {
    use std::os::unix::fs::PermissionsExt;
    let dir = db.dir.join("fresh");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let mut j = AnyJournal::open(db.url.as_deref(), &dir).await.unwrap();
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    let _lock = DataDirLock::acquire(&dir).unwrap();
    let (h, task) = spawn(j, r, WriterConfig::default());
    h.submit(setup_commands()[0].clone()).await.unwrap().unwrap();
    h.shutdown().await;
    let j = task.await.unwrap();
    assert_eq!(mode(&dir), 0o700, "the data directory");
    let mut files = vec!["lock", "committed-seq"];
    if db.url.is_none() {
        files.extend(["journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm"]);
    }
    for f in files {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    drop(j);
}

async fn another_max_chain_is_refused(db: &Db) {
    write_all(db, &setup_commands()[..2], WriterConfig::default()).await;
    let mut j = db.journal().await;
    let err = recover(&mut j, EngineConfig::new(5).unwrap(), &mut |_| {}).await.err().expect("refused");
    assert!(err.to_string().contains("max_chain 3"), "{err}");
}

/// A journal written with command format 1, kept as SQL text: whatever the command format
/// becomes, this history must still replay to the same offers.
async fn a_format_1_journal_still_replays(db: &Db) {
    let mut j = db.journal().await;
    let sql = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/journal-v1.sql")).unwrap();
    // The fixture is a file of this repository, not user input.
    Db::sql(&mut j, &sql.replace("INSERT INTO ", "INSERT INTO {t}")).await;
    let r = recover(&mut j, EngineConfig::default(), &mut |_| {}).await.unwrap();
    assert_eq!(r.report.replayed, 15);
    let offers = r.engine.offers_for_sku("marketplace-b", "marketplace-a-seller-a-shoe-1").unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!((offers[0].quantity, offers[0].sellable), (Some(13), true));
    // It was written under rules version 1 (no version recorded) and has no snapshot: a writer
    // of this build does not take it over (its entries would be replayed under other rules),
    // and says how to upgrade.
    Db::sql(&mut j, "DELETE FROM {t}meta WHERE key = 'rules_version'").await;
    let why = match check_rules(&mut j, EngineConfig::default()).await.unwrap_err() {
        JournalError::Incompatible(m) => m,
        other => panic!("{other}"),
    };
    assert!(why.contains("entries 1..=15") && why.contains("SIGTERM"), "{why}");
}

/// Two offernet processes on one PostgreSQL database must not both write: the second is
/// refused while the first holds the writer lease, and gets it once the first is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_allows_one_writer_at_a_time() {
    let Some(db) = Db::new(true, "lease").await else { return };
    let first = db.journal().await;
    let started = std::time::Instant::now();
    let err = AnyJournal::open(db.url.as_deref(), &db.dir).await.err().expect("the second writer is refused");
    assert!(err.to_string().contains("writer lease"), "{err}");
    assert!(started.elapsed() >= offernet_store::postgres::LEASE_WAIT, "it waited for the lease before refusing");
    drop(first);
    // The lease is released with the first connection.
    let mut tries = 0;
    loop {
        match AnyJournal::open(db.url.as_deref(), &db.dir).await {
            Ok(_) => break,
            Err(e) if tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let _ = e;
            }
            Err(e) => panic!("the lease was not released: {e}"),
        }
    }
}

fn incompatible(err: JournalError) -> String {
    match err {
        JournalError::Incompatible(m) => m,
        other => panic!("expected a refusal as incompatible, got: {other}"),
    }
}

/// Entries accepted under older rules (`offernet_core::RULES_VERSION`) are never replayed by
/// this build: the journal is upgraded only when a valid snapshot covers every stored entry,
/// and recovery and verify start from that snapshot.
async fn a_journal_of_older_rules_is_upgraded_only_from_a_snapshot(db: &Db) {
    let config = EngineConfig::default();
    let mut all = setup_commands();
    write_all(db, &all, WriterConfig { snapshot_every: 0, ..Default::default() }).await;
    let mut j = db.journal().await;
    let current = offernet_core::RULES_VERSION.to_string();
    // A journal is born with this build's rules version. Say it came from a build that
    // recorded none (version 1): its shutdown snapshot covers every entry, so it is taken over.
    assert_eq!(j.meta("rules_version").await.unwrap(), Some(current.clone()));
    Db::sql(&mut j, "DELETE FROM {t}meta WHERE key = 'rules_version'").await;
    let JournalEnd { seq: last, batch } = j.last().await.unwrap();
    check_rules(&mut j, config).await.unwrap();
    assert_eq!(j.meta("rules_version").await.unwrap(), Some(current.clone()));
    assert_eq!(j.meta("rules_from_seq").await.unwrap(), Some(last.to_string()));
    // Now say the journal was written under version 1 with entries after its last snapshot.
    j.set_meta("rules_version", "1").await.unwrap();
    let more: Vec<Command> = (0..5).map(|i| stock(i, 2)).collect();
    let entries: Vec<Entry> = more
        .iter()
        .enumerate()
        .map(|(i, c)| Entry { seq: last + 1 + i as u64, at_ms: 0, command: c.clone() })
        .collect();
    j.append_batch(batch + 1, &entries, &[]).await.unwrap();
    all.extend(more);
    let why = incompatible(check_rules(&mut j, config).await.unwrap_err());
    assert!(why.contains(&format!("entries {}..={}", last + 1, last + 5)) && why.contains("rules version 1"), "{why}");
    assert_eq!(j.meta("rules_version").await.unwrap().as_deref(), Some("1"), "a refusal changes nothing");
    // verify and repair refuse the same way instead of replaying older rules.
    assert!(incompatible(verify(&mut j, config, &mut |_| {}).await.unwrap_err()).contains("rules version 1"));
    assert!(incompatible(repair(&mut j, config, true).await.unwrap_err()).contains("rules version 1"));
    // The old build's stop writes a snapshot of everything: then the upgrade passes, also when
    // an even newer snapshot is damaged (the newest valid one counts).
    let end = last + 5;
    j.save_snapshot(end, &reference(&all).snapshot_bytes()).await.unwrap();
    check_rules(&mut j, config).await.unwrap();
    assert_eq!(j.meta("rules_version").await.unwrap(), Some(current));
    assert_eq!(j.meta("rules_from_seq").await.unwrap(), Some(end.to_string()));
    drop(j);
    let (mut j, r) = open(db).await;
    assert_eq!((r.report.snapshot, r.report.replayed), (Some(end), 0));
    let v = verify(&mut j, config, &mut |_| {}).await.unwrap();
    assert_eq!((v.base, v.divergence, v.entries), (Some(end), None, 0), "verify starts at the upgrade");
    // Should that snapshot be damaged, recovery does not fall back to replaying older rules.
    let zeros = match &j {
        AnyJournal::Sqlite(_) => "zeroblob(length(data))",
        AnyJournal::Postgres(_) => "decode(repeat('00', length(data)), 'hex')",
    };
    Db::sql(&mut j, &format!("UPDATE {{t}}snapshot_chunks SET data = {zeros} WHERE seq = {end}")).await;
    let why = incompatible(recover(&mut j, config, &mut |_| {}).await.err().unwrap());
    assert!(why.contains(&format!("snapshot at {end}")), "{why}");
    // A journal of newer rules is refused.
    j.set_meta("rules_version", "999").await.unwrap();
    assert!(incompatible(check_rules(&mut j, config).await.unwrap_err()).contains("newer"));
}
