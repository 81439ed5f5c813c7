//! The durable event history's journal methods, on both backends: insert-or-ignore, reads,
//! pruning by count and by age with their floors, and the writer keeping the invariant
//! (events durable up to the newest snapshot; a crash's missing events restored by recovery).

mod common;

use common::*;
use offernet_core::EngineConfig;
use offernet_store::journal::Journal;
use offernet_store::*;

fn ev(seq: u64, account: &str, at_ms: u64) -> StoredEvent {
    StoredEvent { seq, account: account.into(), at_ms, json: format!("{{\"seq\":{seq},\"account\":\"{account}\"}}") }
}

async fn seqs(j: &mut AnyJournal) -> Vec<(u64, String)> {
    j.read_events(0, 1_000).await.unwrap().into_iter().map(|e| (e.seq, e.account)).collect()
}

async fn insert_read_and_ignore_duplicates(db: &Db) {
    let mut j = db.journal().await;
    assert_eq!(j.last_event_seq().await.unwrap(), 0);
    j.insert_events(&[ev(1, "a", 10), ev(2, "b", 10), ev(3, "a", 20)]).await.unwrap();
    // A duplicate (as recovery regenerates) is ignored; the stored row stays as it was.
    let mut dup = ev(3, "a", 99);
    dup.json = "changed".into();
    j.insert_events(&[dup, ev(4, "a", 30)]).await.unwrap();
    let all = j.read_events(0, 100).await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[2], ev(3, "a", 20));
    assert_eq!(j.read_events(2, 1).await.unwrap(), vec![ev(3, "a", 20)]);
    assert_eq!(j.last_event_seq().await.unwrap(), 4);
    assert_eq!(j.next_event_account("").await.unwrap().as_deref(), Some("a"));
    assert_eq!(j.next_event_account("a").await.unwrap().as_deref(), Some("b"));
    assert_eq!(j.next_event_account("b").await.unwrap(), None);
    // With a batch: the entries and the events in one transaction.
    let entries = vec![Entry { seq: 1, at_ms: 1, command: setup_commands()[0].clone() }];
    j.append_batch(1, &entries, &[ev(5, "b", 40)]).await.unwrap();
    assert_eq!(j.last_event_seq().await.unwrap(), 5);
    // Reopened (a restart): the same.
    drop(j);
    let mut j = db.journal().await;
    assert_eq!(j.read_events(0, 100).await.unwrap().len(), 5);
}

async fn prune_by_count_keeps_the_newest_and_records_floors(db: &Db) {
    let mut j = db.journal().await;
    let events: Vec<StoredEvent> = (1..=20).map(|s| ev(s, if s % 2 == 0 { "a" } else { "b" }, s)).collect();
    j.insert_events(&events).await.unwrap();
    // Bounded: at most `chunk` per step.
    let step = PruneStep::Account { account: "a".into(), keep: 3, chunk: 4 };
    assert_eq!(j.prune_events(&step).await.unwrap(), 4);
    assert_eq!(j.event_floors().await.unwrap(), vec![("a".to_string(), 8)]);
    assert_eq!(j.prune_events(&step).await.unwrap(), 3);
    assert_eq!(j.prune_events(&step).await.unwrap(), 0, "nothing more beyond the newest 3");
    assert_eq!(j.event_floors().await.unwrap(), vec![("a".to_string(), 14)]);
    let a: Vec<u64> = seqs(&mut j).await.into_iter().filter(|(_, a)| a == "a").map(|(s, _)| s).collect();
    assert_eq!(a, [16, 18, 20]);
    assert_eq!(seqs(&mut j).await.len(), 13, "b untouched");
}

async fn prune_by_age_keeps_the_newest_event_of_all(db: &Db) {
    let mut j = db.journal().await;
    j.insert_events(&(1..=6).map(|s| ev(s, if s < 4 { "a" } else { "b" }, s * 100)).collect::<Vec<_>>()).await.unwrap();
    // Events made before 350: 1, 2, 3.
    assert_eq!(j.prune_events(&PruneStep::Age { before_ms: 350, chunk: 2 }).await.unwrap(), 2);
    assert_eq!(j.prune_events(&PruneStep::Age { before_ms: 350, chunk: 2 }).await.unwrap(), 1);
    assert_eq!(j.prune_events(&PruneStep::Age { before_ms: 350, chunk: 2 }).await.unwrap(), 0);
    assert_eq!(j.event_floors().await.unwrap(), vec![("a".to_string(), 3)]);
    // Everything is old now, but the newest event stays: it says where the history ends.
    while j.prune_events(&PruneStep::Age { before_ms: 10_000, chunk: 10 }).await.unwrap() > 0 {}
    assert_eq!(seqs(&mut j).await, vec![(6, "b".to_string())]);
    assert_eq!(j.last_event_seq().await.unwrap(), 6);
    assert_eq!(j.event_floors().await.unwrap(), vec![("a".to_string(), 3), ("b".to_string(), 5)]);
}

/// The writer writes every event; graceful shutdown leaves the history whole; a history that
/// lost its tail (as a crash leaves it) is restored by recovery's replay.
async fn the_writer_keeps_the_history_and_recovery_restores_it(db: &Db) {
    let config = EngineConfig::default();
    let j = db.journal().await;
    let mut j = {
        let mut j = j;
        let r = recover(&mut j, config, &mut |_| {}).await.unwrap();
        let cfg = WriterConfig { snapshot_every: 5, max_batch: 1, ..Default::default() };
        let (h, task) = spawn(j, r, cfg);
        for c in setup_commands() {
            h.submit(c).await.unwrap().unwrap();
        }
        h.shutdown().await;
        task.await.unwrap()
    };
    let head = j.last_event_seq().await.unwrap();
    let engine_seq = recover(&mut j, config, &mut |_| {}).await.unwrap().engine.last_seq();
    assert!(head > 0);
    assert_eq!(head, engine_seq, "every event is in the history after a graceful shutdown");
    let whole = j.read_events(0, 10_000).await.unwrap();
    assert_eq!(whole.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=head).collect::<Vec<_>>());
    // Lose the events after the newest snapshot, as a crash before they were written (here
    // with no snapshot left, so the replay starts from the first entry).
    Db::sql(&mut j, "DELETE FROM {t}events WHERE seq > 2; DELETE FROM {t}snapshot_chunks; DELETE FROM {t}snapshots")
        .await;
    let r = recover(&mut j, config, &mut |_| {}).await.unwrap();
    assert!(r.report.events_restored > 0);
    assert_eq!(j.read_events(0, 10_000).await.unwrap(), whole, "the same events, restored by replay");
}

/// A journal written before the history existed (no events, no floor): the first recovery sets
/// the floor to the snapshot's event number (the events before it were never kept) and stores
/// the replayed events after it.
async fn an_older_journal_gets_a_floor_at_its_snapshot(db: &Db) {
    let config = EngineConfig::default();
    let mut j = db.journal().await;
    let r = recover(&mut j, config, &mut |_| {}).await.unwrap();
    let (h, task) = spawn(j, r, WriterConfig { snapshot_every: 4, max_batch: 1, ..Default::default() });
    for c in setup_commands() {
        h.submit(c).await.unwrap().unwrap();
    }
    drop(h);
    let mut j = task.await.unwrap();
    let snapshot = j.snapshots().await.unwrap()[0].seq;
    // As an older build left it: keep the oldest snapshot only, no history, no floor.
    let older = "DELETE FROM {t}snapshot_chunks WHERE seq > 4; DELETE FROM {t}snapshots WHERE seq > 4; \
                 DELETE FROM {t}events; DELETE FROM {t}meta WHERE key = 'events_floor'";
    Db::sql(&mut j, older).await;
    assert!(snapshot > 4);
    let at_snapshot = {
        let mut e = offernet_core::Engine::new(config);
        for c in setup_commands().iter().take(4) {
            let _ = e.apply(c, 0);
        }
        e.last_seq()
    };
    let r = recover(&mut j, config, &mut |_| {}).await.unwrap();
    assert_eq!(r.report.event_floor, at_snapshot);
    let stored: Vec<u64> = j.read_events(0, 10_000).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(stored, (at_snapshot + 1..=r.engine.last_seq()).collect::<Vec<_>>());
    // The next recovery keeps the floor.
    assert_eq!(recover(&mut j, config, &mut |_| {}).await.unwrap().report.event_floor, at_snapshot);
}

both!(
    an_older_journal_gets_a_floor_at_its_snapshot,
    insert_read_and_ignore_duplicates,
    prune_by_count_keeps_the_newest_and_records_floors,
    prune_by_age_keeps_the_newest_event_of_all,
    the_writer_keeps_the_history_and_recovery_restores_it,
);
