//! The data directory and the journal's trust checks with the real binary: one process per data
//! directory, a damaged journal refused at startup and repaired by `journal repair`, a data
//! directory that cannot be written, and (on PostgreSQL) a writer that loses its lease.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::*;
use serde_json::json;

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("OFFERNET_ADMIN_TOKEN", ADMIN).env("OFFERNET_LOG", "warn").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `offernet serve` that must refuse to start: its exit status is 1 and its message is returned.
fn refused_serve(dir: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()];
    args.extend(extra);
    let mut child = Command::new(BIN)
        .args(&args)
        .env("OFFERNET_ADMIN_TOKEN", ADMIN)
        .env("OFFERNET_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().unwrap().is_none() {
        child.kill().unwrap();
        panic!("the server started although it should have refused");
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    text(&out)
}

fn put_stock(s: &Server, q: u64) -> u16 {
    s.req("PUT", "/v1/accounts/s/warehouses/w/stock/k", Some(ADMIN), Some(&json!({"quantity": q}).to_string())).0
}

fn small_network(s: &Server) {
    let (st, v) = s.req("POST", "/v1/accounts", Some(ADMIN), Some(r#"{"id":"s","name":"S","currency":"BRL"}"#));
    assert_eq!(st, 201, "{v}");
    assert_eq!(s.req("PUT", "/v1/accounts/s/skus/k", Some(ADMIN), Some(r#"{"name":"K"}"#)).0, 200);
    assert_eq!(s.req("PUT", "/v1/accounts/s/warehouses/w", Some(ADMIN), Some("{}")).0, 200);
}

/// Polls healthz (up to 200 times, 50 ms apart) until it answers `status`; returns its last
/// answer.
fn wait_for_health(s: &Server, status: u16) -> (u16, serde_json::Value) {
    let mut health = (0, serde_json::Value::Null);
    for _ in 0..200 {
        health = s.req("GET", "/healthz", None, None);
        if health.0 == status {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    health
}

/// A tmpfs mounted on `dir` (created first) with mount `options`, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// `None` (with a SKIPPED line naming `test`) where no tmpfs can be mounted.
    fn mount(dir: &std::path::Path, options: &str, test: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", options, "tmpfs", dir.to_str().unwrap()]).output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs(dir.to_path_buf())),
            other => {
                eprintln!("SKIPPED: {test}: cannot mount a tmpfs ({other:?})");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").args(["-l", self.0.to_str().unwrap()]).status();
    }
}

#[test]
fn a_second_process_on_one_data_directory_is_refused_naming_the_pid() {
    let dir = temp_dir("lock");
    let s = Server::start(&dir, &[]);
    let pid = s.child.id();
    let msg = refused_serve(&dir, &[]);
    assert!(msg.contains("in use by another offernet process") && msg.contains(&format!("pid {pid}")), "{msg}");
    // Neither may the commands that change the journal run beside the live server.
    for cmd in [["journal", "compact"], ["journal", "repair"]] {
        let o = run(&[cmd[0], cmd[1], "--data-dir", dir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(&format!("pid {pid}")), "{}", text(&o));
    }
    s.stop();
    // Once it is gone, the next one starts.
    Server::start(&dir, &[]).stop();
}

#[test]
fn a_damaged_journal_is_refused_at_startup_and_repair_accepts_the_loss() {
    let dir = temp_dir("damaged");
    let s = Server::start(&dir, &[]);
    small_network(&s);
    for q in 1..=5 {
        assert_eq!(put_stock(&s, q), 200);
    }
    s.stop();
    // Flip one byte of the last entry (the stock update to 5), as a bad sector would.
    let last = damage_last_entry(&dir);
    let msg = refused_serve(&dir, &[]);
    assert!(msg.contains(&format!("journal entry {last} (batch")) && msg.contains("checksum mismatch"), "{msg}");
    assert!(msg.contains("journal repair --accept-loss") && msg.contains("Nothing was changed"), "{msg}");
    // Without --accept-loss, repair only says what it would do.
    let o = run(&["journal", "repair", "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains(&format!("move entries {last}..={last} (1 entries)")), "{}", text(&o));
    assert!(refused_serve(&dir, &[]).contains("refuses to start"), "still refused: nothing changed");
    let o = run(&["journal", "repair", "--accept-loss", "--data-dir", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    // The damaged entry's number stays used; the repair's `SkipEventSeq` entry follows it.
    assert!(text(&o).contains(&format!("the next entry is {}", last + 2)), "{}", text(&o));
    let s = Server::start(&dir, &[]);
    let (_, v) = s.req("GET", "/healthz", None, None);
    assert_eq!(v["journal_seq"], json!(last + 1), "{v}");
    assert_eq!(put_stock(&s, 9), 200);
    let (_, v) = s.req("GET", "/healthz", None, None);
    assert_eq!(v["journal_seq"], json!(last + 2), "the damaged entry's number is not reused: {v}");
    s.stop();
    let o = run(&["journal", "verify", "--data-dir", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_data_directory_that_cannot_be_written_is_refused_at_startup() {
    let dir = temp_dir("readonly");
    // Root ignores permission bits: a read-only file system is the real thing.
    let Some(tmpfs) = Tmpfs::mount(&dir, "ro,size=1m", "read-only data directory test") else {
        return;
    };
    let msg = refused_serve(&dir, &[]);
    drop(tmpfs);
    assert!(msg.contains(&format!("the data directory {} is not writable", dir.display())), "{msg}");
}

/// A fresh PostgreSQL database `offernet_lease_{tag}_{pid}` (CI drops them afterwards): its
/// name, URL and a connection to the server's maintenance database. `None` (SKIPPED) without
/// `OFFERNET_TEST_POSTGRES_URL`, which CI always sets.
fn fresh_database(rt: &tokio::runtime::Runtime, tag: &str) -> Option<(String, String, sqlx::PgConnection)> {
    let db = format!("offernet_lease_{tag}_{}", std::process::id());
    common::fresh_database(rt, &db, tag).map(|(url, admin)| (db, url, admin))
}

/// PostgreSQL drops the server's connection and another process takes the writer lease
/// meanwhile: the server says so (healthz 503, reads and writes 503 `not_writer`, metrics), and
/// takes the lease back when it is free; no acknowledged write is lost. (A writer that only retries
/// the journal answers writes with 503 `writer_unavailable`: see offernet-store tests/faults.rs.)
/// Long because it follows one server through the whole story: lease lost, refused, retaken.
#[test]
fn healthz_reports_a_lost_writer_lease_until_it_is_retaken() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some((db, url, mut admin)) = fresh_database(&rt, "lease") else { return };
    use sqlx::Connection;
    let dir = temp_dir("lease");
    let s = Server::start(&dir, &["--database", &url]);
    small_network(&s);
    assert_eq!(put_stock(&s, 1), 200);
    // Terminate the server's connection and take the lease before it reconnects.
    let rival = rt.block_on(async {
        let mut rival = sqlx::PgConnection::connect(&url).await.unwrap();
        let rival_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut rival).await.unwrap();
        let sql = format!(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> {rival_pid}"
        );
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut admin).await.unwrap();
        assert!(n >= 1, "the server's connection was terminated");
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(offernet_store::postgres::WRITER_LOCK_KEY)
            .execute(&mut rival)
            .await
            .unwrap();
        rival
    });
    let mut health = wait_for_health(&s, 503);
    assert_eq!(health.0, 503, "healthz says the writer cannot write: {}", health.1);
    // Within the lease wait it may still be `retrying`; then it is `not_writer`.
    for _ in 0..200 {
        if health.1["writer"] == json!("not_writer") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        health = s.req("GET", "/healthz", None, None);
    }
    assert_eq!(health.1["writer"], json!("not_writer"), "{}", health.1);
    let (st, v) =
        s.req("PUT", "/v1/accounts/s/warehouses/w/stock/k", Some(ADMIN), Some(&json!({"quantity": 2}).to_string()));
    assert_eq!((st, &v["error"]["code"]), (503, &json!("not_writer")), "{v}");
    // Its state may be stale (the rival may write): reads are refused too, health is not.
    let (st, v) = s.req("GET", "/v1/accounts/s/skus/k", Some(ADMIN), None);
    assert_eq!((st, &v["error"]["code"]), (503, &json!("not_writer")), "{v}");
    let (_, m) = s.raw("GET", "/metrics", None, None, &[]);
    assert!(m.contains("offernet_writer_up 0") && m.contains("offernet_writer_state{state=\"not_writer\"} 1"), "{m}");
    // Not ready either (its own answer, not `not_writer`): an orchestrator sends traffic elsewhere.
    let (st, v) = s.req("GET", "/readyz", None, None);
    assert_eq!((st, &v["status"], &v["writer"]), (503, &json!("not_ready"), &json!("not_writer")), "{v}");
    for probe in ["/healthz", "/readyz"] {
        let r = reqwest::blocking::get(format!("http://{}{probe}", s.addr)).unwrap();
        assert_eq!(
            r.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"1"[..]),
            "{probe}: Retry-After on 503"
        );
    }
    // The rival goes away: the server takes the lease back and writes again.
    rt.block_on(async { rival.close().await.unwrap() });
    let health = wait_for_health(&s, 200);
    assert_eq!(health.0, 200, "{}", health.1);
    assert_eq!(put_stock(&s, 3), 200);
    assert_eq!(s.req("GET", "/readyz", None, None).0, 200, "ready again");
    let (_, m) = s.raw("GET", "/metrics", None, None, &[]);
    assert!(m.contains("offernet_writer_up 1"), "{m}");
    let errors: u64 =
        m.lines().find_map(|l| l.strip_prefix("offernet_journal_errors_total ")).and_then(|v| v.parse().ok()).unwrap();
    assert!(errors >= 1, "{m}");
    s.kill9();
    // Restarted, every acknowledged write is there (the refused one is not).
    let s = Server::start(&dir, &["--database", &url]);
    let (_, v) = s.req("GET", "/v1/accounts/s/skus/k", Some(ADMIN), None);
    assert_eq!(v["stock"][0]["quantity"], json!(3), "{v}");
    s.kill9();
}

/// A full disk over HTTP: the write that meets it waits (its batch is retried), later writes
/// are refused at once with 503 `writer_unavailable`, healthz is 503 `retrying` while reads are
/// still served; once there is space again everything works, and nothing acknowledged is lost.
#[test]
fn a_full_disk_is_reported_and_survived_over_http() {
    let dir = temp_dir("full");
    let Some(_tmpfs) = Tmpfs::mount(&dir, "size=2m", "full-disk HTTP test") else {
        return;
    };
    let data = dir.join("data");
    let s = Server::start(&data, &["--request-timeout-ms", "1000", "--body-timeout-ms", "500"]);
    small_network(&s);
    assert_eq!(put_stock(&s, 1), 200);
    // Fill the file system.
    let filler = dir.join("filler");
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&filler).unwrap();
        while f.write_all(&[0u8; 4096]).is_ok() {}
    }
    // Big writes until one meets the full disk (the WAL may have some free room first).
    let name = "x".repeat(900);
    let mut n = 0;
    let stuck = loop {
        n += 1;
        let body = json!({"name": name}).to_string();
        let (st, v) = s.req("PUT", &format!("/v1/accounts/s/skus/big{n}"), Some(ADMIN), Some(&body));
        if st != 200 {
            break (st, v);
        }
        assert!(n < 5_000, "the disk never filled up");
    };
    assert_eq!((stuck.0, &stuck.1["error"]["code"]), (503, &json!("timeout")), "{}", stuck.1);
    let (st, h) = s.req("GET", "/healthz", None, None);
    assert_eq!((st, &h["writer"]), (503, &json!("retrying")), "{h}");
    let (st, v) = s.req("PUT", "/v1/accounts/s/warehouses/w/stock/k", Some(ADMIN), Some(r#"{"quantity":2}"#));
    assert_eq!((st, &v["error"]["code"]), (503, &json!("writer_unavailable")), "{v}");
    let (st, _) = s.req("GET", "/v1/accounts/s/skus/k", Some(ADMIN), None);
    assert_eq!(st, 200, "reads are still served");
    std::fs::remove_file(&filler).unwrap();
    let health = wait_for_health(&s, 200);
    assert_eq!(health.0, 200, "{}", health.1);
    assert_eq!(put_stock(&s, 3), 200);
    // The write that timed out was retried until it committed: it is there (the timeout said
    // it might still be applied), and so is everything acknowledged.
    let (st, v) = s.req("GET", &format!("/v1/accounts/s/skus/big{n}"), Some(ADMIN), None);
    assert_eq!(st, 200, "big{n}: {v}; health {}", s.req("GET", "/healthz", None, None).1);
    s.stop();
    let s = Server::start(&data, &[]);
    let (_, v) = s.req("GET", "/v1/accounts/s/skus/k", Some(ADMIN), None);
    assert_eq!(v["stock"][0]["quantity"], json!(3), "{v}");
    for i in 1..=n {
        let (st, v) = s.req("GET", &format!("/v1/accounts/s/skus/big{i}"), Some(ADMIN), None);
        assert_eq!(st, 200, "big{i}: {v}");
    }
    s.kill9();
}

/// A journal that hangs (a PostgreSQL commit waiting on a lock forever) does not hold a
/// SIGTERM'd server: after the grace period and `shutdown_drain_ms` it exits, saying why.
#[test]
fn sigterm_is_bounded_while_a_commit_hangs() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some((_db, url, _admin)) = fresh_database(&rt, "drain") else { return };
    use sqlx::Connection;
    let dir = temp_dir("drain");
    let s = Server::start(
        &dir,
        &[
            "--database",
            &url,
            "--request-timeout-ms",
            "1000",
            "--body-timeout-ms",
            "500",
            "--shutdown-grace-ms",
            "500",
            "--shutdown-drain-ms",
            "1500",
        ],
    );
    small_network(&s);
    assert_eq!(put_stock(&s, 1), 200);
    // Another session locks the journal table: the next commit waits for it, forever.
    let mut blocker = rt.block_on(async {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE offernet.journal IN ACCESS EXCLUSIVE MODE").execute(&mut c).await.unwrap();
        c
    });
    assert_eq!(put_stock(&s, 2), 503, "the write waits for the journal and times out");
    let started = std::time::Instant::now();
    let mut s = s;
    Command::new("kill").args(["-TERM", &s.child.id().to_string()]).status().unwrap();
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "SIGTERM did not end the server");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "the cut-short drain is reported: {status}");
    rt.block_on(async {
        sqlx::raw_sql("ROLLBACK").execute(&mut blocker).await.unwrap();
        blocker.close().await.unwrap();
    });
    // Nothing acknowledged was lost: the server starts again with the first write.
    let s = Server::start(&dir, &["--database", &url]);
    let (_, v) = s.req("GET", "/v1/accounts/s/skus/k", Some(ADMIN), None);
    assert_eq!(v["stock"][0]["quantity"], json!(1), "{v}");
    s.stop();
}
