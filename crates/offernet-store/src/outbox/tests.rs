//! The outbound tables on SQLite and on PostgreSQL (`OFFERNET_TEST_POSTGRES_URL`; skipped with
//! a notice without it): progress, bounded attempts, dead letters and dead-letter ranges, a
//! redelivery's rows, forgetting a consumer, the journal id.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, Connection};

use super::*;
use crate::journal::Journal;
use crate::sqlite::SqliteJournal;

fn attempt(seq: u64, n: u32, outcome: &str) -> Attempt {
    Attempt {
        id: 0,
        seq,
        attempt: n,
        at_ms: 10,
        status: Some(500),
        latency_ms: 3,
        outcome: outcome.into(),
        error: None,
    }
}

/// The journal id is made once; what `exercise` does then holds on either backend.
async fn journal_id_once<J: Journal>(journal: &mut J) {
    let id = journal_id(journal).await.unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(journal_id(journal).await.unwrap(), id, "made once, then read back");
}

/// Everything the delivery worker stores, on a fresh set of outbound tables.
async fn exercise(o: &mut Outbox) {
    assert!(o.progress().await.unwrap().is_empty());
    for n in 1..=(ATTEMPTS_KEPT + 5) {
        o.record("webhook:a/w", &attempt(n, 1, "retry"), Some(n)).await.unwrap();
    }
    o.record("nats", &attempt(1, 1, "delivered"), None).await.unwrap();
    let kept = o.attempts("webhook:a/w", 0, 10_000).await.unwrap();
    assert_eq!(kept.len() as u64, ATTEMPTS_KEPT, "older attempts are deleted");
    assert_eq!(kept[0].seq, ATTEMPTS_KEPT + 5, "newest first");
    assert_eq!(kept[0], Attempt { id: kept[0].id, ..attempt(ATTEMPTS_KEPT + 5, 1, "retry") }, "read back as written");
    let older = o.attempts("webhook:a/w", 2, 1).await.unwrap();
    assert_eq!(older[0].id, kept[2].id);
    o.dead_letter("webhook:a/w", 2_000, 2_010, 11, "fell behind the event retention").await.unwrap();
    o.dead_letter("webhook:a/w", 2_000, 2_010, 12, "a repeat (after a restart) is ignored").await.unwrap();
    let dead = o.dead_letters("webhook:a/w", 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].seq, dead[0].last_seq, dead[0].at_ms), (2_000, 2_010, 11));
    assert_eq!(o.progress().await.unwrap(), [("webhook:a/w".to_string(), 2_010)]);
    // A redelivery: its own rows; its dead letters leave the live progress alone.
    o.set_replay("webhook:a/w", Replay { done: 9, last: 40 }).await.unwrap();
    assert_eq!(o.replays().await.unwrap(), [("webhook:a/w".to_string(), Replay { done: 9, last: 40 })]);
    o.dead_letter_with("webhook:a/w", 10, 10, 13, "given up", None).await.unwrap();
    o.dead_letter_with("webhook:a/w", 11, 11, 13, "given up", Some(&replay_key("webhook:a/w"))).await.unwrap();
    assert_eq!(o.replays().await.unwrap()[0].1, Replay { done: 11, last: 40 });
    assert_eq!(o.dead_letters("webhook:a/w", 10).await.unwrap().len(), 3);
    let progress: BTreeMap<String, u64> = o.progress().await.unwrap().into_iter().collect();
    assert_eq!(progress.get("webhook:a/w"), Some(&2_010), "the live progress did not move");
    o.end_replay("webhook:a/w").await.unwrap();
    assert!(o.replays().await.unwrap().is_empty());
    // Dead letters are bounded too.
    for seq in 0..(DEAD_LETTERS_KEPT + 3) {
        o.dead_letter("webhook:a/x", 10 + seq, 10 + seq, 1, "r").await.unwrap();
    }
    let dead = o.dead_letters("webhook:a/x", DEAD_LETTERS_KEPT + 10).await.unwrap();
    assert_eq!(dead.len() as u64, DEAD_LETTERS_KEPT, "the oldest dead letters are deleted");
    assert_eq!(dead[0].seq, 10 + DEAD_LETTERS_KEPT + 2, "newest first");
    o.set_replay("webhook:a/w", Replay { done: 1, last: 2 }).await.unwrap();
    o.forget("webhook:a/w").await.unwrap();
    assert!(o.replays().await.unwrap().is_empty(), "a forgotten consumer's redelivery goes too");
    assert!(o.attempts("webhook:a/w", 0, 10).await.unwrap().is_empty());
    assert!(o.dead_letters("webhook:a/w", 10).await.unwrap().is_empty());
    let left: Vec<String> = o.progress().await.unwrap().into_iter().map(|(c, _)| c).collect();
    assert_eq!(left, ["webhook:a/x"]);
    assert_eq!(o.attempts("nats", 0, 10).await.unwrap().len(), 1, "another consumer keeps its own");
}

#[tokio::test]
async fn the_outbound_tables_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("offernet-hooks-outbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    crate::datadir::create_dir(&dir).unwrap();
    let mut journal = SqliteJournal::open(&dir.join(crate::datadir::JOURNAL_FILE)).await.unwrap();
    journal_id_once(&mut journal).await;
    let mut o = Outbox::open(None, &dir).await.unwrap();
    exercise(&mut o).await;
    drop(o);
    drop(journal);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The same on PostgreSQL, in a database of its own (made, then dropped).
#[tokio::test]
async fn the_outbound_tables_on_postgres() {
    let base = match std::env::var("OFFERNET_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI=true needs OFFERNET_TEST_POSTGRES_URL");
            eprintln!("SKIPPED: the outbound tables on PostgreSQL (set OFFERNET_TEST_POSTGRES_URL to run it)");
            return;
        }
    };
    let db = format!("offernet_hooks_outbox_{}", std::process::id());
    let (head, query) =
        base.split_once('?').map(|(h, q)| (h, format!("?{q}"))).unwrap_or((base.as_str(), String::new()));
    let url = format!("{}/{db}{query}", head.rsplit_once('/').map_or(head, |(r, _)| r));
    let mut admin = sqlx::PgConnection::connect(&base).await.expect("PostgreSQL reachable");
    for sql in [format!("DROP DATABASE IF EXISTS {db}"), format!("CREATE DATABASE {db}")] {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
    }
    {
        let mut journal = crate::postgres::PgJournal::open(&url).await.unwrap();
        journal_id_once(&mut journal).await;
        let mut o = Outbox::open(Some(&url), Path::new("/nonexistent")).await.unwrap();
        exercise(&mut o).await;
        drop(o);
        drop(journal);
    }
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .unwrap();
}
