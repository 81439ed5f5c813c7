//! The outbound tables on SQLite: progress, bounded attempts, dead-letter ranges, the journal id.

use super::*;
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

#[tokio::test]
async fn progress_attempts_and_dead_letters_are_kept_and_bounded() {
    let dir = std::env::temp_dir().join(format!("offernet-hooks-outbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    crate::datadir::create_dir(&dir).unwrap();
    let mut journal = SqliteJournal::open(&dir.join(crate::datadir::JOURNAL_FILE)).await.unwrap();
    let id = journal_id(&mut journal).await.unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(journal_id(&mut journal).await.unwrap(), id, "made once, then read back");
    let mut o = Outbox::open(None, &dir).await.unwrap();
    assert!(o.progress().await.unwrap().is_empty());
    for n in 1..=(ATTEMPTS_KEPT + 5) {
        o.record("webhook:a/w", &attempt(n, 1, "retry"), Some(n)).await.unwrap();
    }
    o.record("nats", &attempt(1, 1, "delivered"), None).await.unwrap();
    let kept = o.attempts("webhook:a/w", 0, 10_000).await.unwrap();
    assert_eq!(kept.len() as u64, ATTEMPTS_KEPT, "older attempts are deleted");
    assert_eq!(kept[0].seq, ATTEMPTS_KEPT + 5, "newest first");
    let older = o.attempts("webhook:a/w", 2, 1).await.unwrap();
    assert_eq!(older[0].id, kept[2].id);
    o.dead_letter("webhook:a/w", 2_000, 2_010, 11, "fell behind the event retention").await.unwrap();
    let dead = o.dead_letters("webhook:a/w", 10).await.unwrap();
    assert_eq!((dead[0].seq, dead[0].last_seq, dead[0].at_ms), (2_000, 2_010, 11));
    assert_eq!(o.progress().await.unwrap(), [("webhook:a/w".to_string(), 2_010)]);
    o.forget("webhook:a/w").await.unwrap();
    assert!(o.progress().await.unwrap().is_empty());
    assert_eq!(o.attempts("nats", 0, 10).await.unwrap().len(), 1, "another consumer keeps its own");
    drop(o);
    drop(journal);
    std::fs::remove_dir_all(&dir).unwrap();
}
