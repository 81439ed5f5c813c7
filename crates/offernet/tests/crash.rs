//! Crash safety with the real binary: `offernet load` writes continuously through the durable
//! writer and prints every acknowledgement; the test kills it with SIGKILL at seeded random
//! moments, restarts it, and checks that every acknowledged write survived, and that
//! `offernet journal verify` finds the state equal to a fresh replay (no half-applied batch).
//!
//! `OFFERNET_CRASH_ROUNDS` sets the number of kills (default 8) and `OFFERNET_CRASH_SEED` the seed.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_offernet");
const CLIENTS: usize = 8;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A running `offernet load`: the child, the state it printed at startup, the highest
/// acknowledgement per client so far, and the thread reading its output.
type Running = (std::process::Child, Vec<u64>, Arc<Mutex<Vec<u64>>>, std::thread::JoinHandle<()>);

fn start(dir: &str, extra: &[String]) -> Running {
    let mut child = Command::new(BIN)
        .args(["load", "--data-dir", dir, "--clients", &CLIENTS.to_string(), "--commands", "1000000"])
        .args(["--snapshot-every", "700"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("offernet starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut state = vec![0u64; CLIENTS];
    for _ in 0..CLIENTS {
        let l = lines.next().expect("a state line").unwrap();
        let p: Vec<&str> = l.split(' ').collect();
        assert_eq!(p[0], "state", "{l}");
        state[p[1].parse::<usize>().unwrap()] = p[2].parse().unwrap();
    }
    let acks = Arc::new(Mutex::new(vec![0u64; CLIENTS]));
    let a = acks.clone();
    let reader = std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            let p: Vec<&str> = l.split(' ').collect();
            if p.len() == 3 && p[0] == "ack" {
                let (c, n): (usize, u64) = (p[1].parse().unwrap(), p[2].parse().unwrap());
                let mut acks = a.lock().unwrap();
                acks[c] = acks[c].max(n);
            }
        }
    });
    (child, state, acks, reader)
}

fn verify(dir: &str, extra: &[String]) {
    let out =
        Command::new(BIN).args(["journal", "verify", "--data-dir", dir]).args(extra).output().expect("verify runs");
    assert!(
        out.status.success(),
        "journal verify failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    crash_rounds("sqlite", &[]);
}

/// The same against the journal on PostgreSQL (`OFFERNET_TEST_POSTGRES_URL`, set by CI).
#[test]
fn kill_9_loses_no_acknowledged_write_on_postgres() {
    let db = format!("offernet_crash_{}", std::process::id());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some((url, _admin)) = common::fresh_database(&rt, &db, "crash") else { return };
    crash_rounds("postgres", &["--database".to_string(), url]);
}

fn crash_rounds(name: &str, extra: &[String]) {
    let rounds = env_u64("OFFERNET_CRASH_ROUNDS", 8);
    let mut seed = env_u64("OFFERNET_CRASH_SEED", 42);
    let dir = std::env::temp_dir().join(format!("offernet-crash-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir = dir.to_str().unwrap().to_string();
    let mut acked = [0u64; CLIENTS];
    let mut total_acks = 0u64;
    for round in 0..rounds {
        let (mut child, state, acks, reader) = start(&dir, extra);
        for c in 0..CLIENTS {
            assert!(
                state[c] >= acked[c],
                "round {round}: client {c} acknowledged {} but restart shows {}",
                acked[c],
                state[c]
            );
        }
        // Let it write for a seeded random while, then SIGKILL.
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = 150 + (seed >> 33) % 600;
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        reader.join().unwrap();
        let got = acks.lock().unwrap().clone();
        for c in 0..CLIENTS {
            if got[c] > state[c] {
                total_acks += got[c] - state[c];
            }
            acked[c] = acked[c].max(got[c]);
        }
        verify(&dir, extra);
    }
    let (mut child, state, _, reader) = start(&dir, extra);
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    for c in 0..CLIENTS {
        assert!(state[c] >= acked[c], "client {c} acknowledged {} but the final restart shows {}", acked[c], state[c]);
    }
    assert!(total_acks > 0, "the load generator acknowledged writes before being killed");
    eprintln!("{name}: {rounds} kills, {total_acks} acknowledged writes, none lost");
    let _ = std::fs::remove_dir_all(&dir);
}
