//! The command line with the real binary: "did you mean" for commands and flags, `--listen`
//! checked before the data directory is touched, the config file (every flag has a key, parse
//! errors without secrets), and `load` refused beside a live server.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use common::*;

/// Runs the binary with no `OFFERNET_*` setting from the environment the tests run in.
fn run(args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("OFFERNET_")) {
        c.env_remove(k);
    }
    c.args(args).env("OFFERNET_LOG", "warn").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_mistyped_command_or_flag_gets_a_suggestion() {
    let o = run(&["serv"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("a similar subcommand exists: 'serve'"), "{}", text(&o));
    let o = run(&["serve", "--listn", "x"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("a similar argument exists: '--listen'"), "{}", text(&o));
    let o = run(&["journal", "verfy"]);
    assert!(text(&o).contains("'verify'"), "{}", text(&o));
}

/// Lists `dir`'s entries, or `None` when it does not exist.
fn entries(dir: &Path) -> Option<Vec<String>> {
    let rd = std::fs::read_dir(dir).ok()?;
    Some(rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
}

/// A bad or busy `--listen` fails before the data directory is created, locked or written
/// (no journal, no lock file, no generated operator token).
#[test]
fn listen_is_checked_before_the_data_directory_is_touched() {
    let missing = temp_dir("cli-listen-missing");
    let o = run(&["serve", "--listen", "nonsense", "--data-dir", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("\"nonsense\" is not an address to listen on: expected HOST:PORT"), "{}", text(&o));
    assert_eq!(entries(&missing), None, "the data directory was created");

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let empty = temp_dir("cli-listen-busy");
    std::fs::create_dir_all(&empty).unwrap();
    for dir in [&missing, &empty] {
        let o = run(&["serve", "--listen", &addr, "--data-dir", dir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let msg = text(&o);
        assert!(msg.contains(&format!("cannot listen on {addr}")) && msg.contains("in use"), "{msg}");
    }
    assert_eq!(entries(&missing), None, "the data directory was created");
    assert_eq!(entries(&empty), Some(vec![]), "something was written in the data directory");
    let _ = std::fs::remove_dir_all(&empty);
}

/// Every key of the config file, with a value other than its default.
fn every_key(dir: &Path) -> BTreeMap<&'static str, String> {
    let q = |s: &str| format!("{s:?}");
    BTreeMap::from([
        ("data_dir", q(dir.to_str().unwrap())),
        ("database", q("postgres://offernet:Hunter2pw@127.0.0.1:5432/offernet")),
        ("listen", q("127.0.0.1:18080")),
        ("max_chain", "5".into()),
        ("max_batch", "77".into()),
        ("queue_depth", "99".into()),
        ("snapshot_every", "1234".into()),
        ("body_limit_bytes", "4096".into()),
        ("request_timeout_ms", "9000".into()),
        ("max_page_size", "50".into()),
        ("event_retention", "321".into()),
        ("max_streams_per_account", "3".into()),
        ("max_connections", "40".into()),
        ("header_read_timeout_ms", "1111".into()),
        ("idle_timeout_ms", "2222".into()),
        ("body_timeout_ms", "3333".into()),
        ("send_timeout_ms", "4444".into()),
        ("shutdown_grace_ms", "5555".into()),
        ("shutdown_drain_ms", "6666".into()),
        ("log_format", q("json")),
        ("cors_origins", "[\"https://admin.example\"]".into()),
        ("outbound_allow_local", "true".into()),
        ("nats_url", q("nats://user:Hunter2pw@127.0.0.1:4222")),
        ("nats_stream", q("OFFERNET_CLI")),
        ("webhook_disable_after_secs", "3600".into()),
        ("vtex", "true".into()),
        ("public_url", q("https://offernet.example")),
        ("document_retention_days", "30".into()),
        ("place_wait_ms", "2500".into()),
        ("vtex_inbound_rps", "50".into()),
        ("vtex_notify_rps", "7".into()),
    ])
}

/// The flags of `offernet serve --help` (without `--`), but `--help`.
fn serve_flags() -> Vec<String> {
    let help = text(&run(&["serve", "--help"]));
    let mut flags: Vec<String> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '<')
        .filter_map(|w| w.strip_prefix("--"))
        .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .filter(|f| *f != "help")
        .map(str::to_string)
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

/// Every flag of `serve` has its key in the file (the flag's name with `_`), and a file with every
/// key is read whole: `--print-config` shows each value (the database URL redacted).
#[test]
fn the_config_file_accepts_every_key_the_flags_accept() {
    let dir = temp_dir("cli-config");
    std::fs::create_dir_all(&dir).unwrap();
    let keys = every_key(&dir.join("data"));
    let flags = serve_flags();
    assert!(flags.len() > 15 && flags.contains(&"listen".to_string()), "{flags:?}");
    for f in flags.iter().filter(|f| !["config", "print-config"].contains(&f.as_str())) {
        assert!(keys.contains_key(f.replace('-', "_").as_str()), "--{f} has no key in the config file");
    }
    let file = dir.join("offernet.toml");
    let toml: String = keys.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    std::fs::write(&file, toml).unwrap();
    let o = run(&["serve", "--config", file.to_str().unwrap(), "--print-config"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let printed = String::from_utf8_lossy(&o.stdout).into_owned();
    for (k, v) in keys.iter().filter(|(k, _)| !["database", "nats_url"].contains(*k)) {
        assert!(printed.lines().any(|l| l == format!("{k} = {v}")), "{k} = {v} not in\n{printed}");
    }
    assert!(printed.contains("# database = \"<redacted postgres URL>\"") && !printed.contains("Hunter2"), "{printed}");
    assert!(printed.contains("# nats_url = \"<redacted, set>\""), "{printed}");
    // Flags still win over the file.
    let o = run(&["serve", "--config", file.to_str().unwrap(), "--print-config", "--event-retention", "9"]);
    assert!(String::from_utf8_lossy(&o.stdout).lines().any(|l| l == "event_retention = 9"), "{}", text(&o));
    assert_eq!(entries(&dir.join("data")), None, "--print-config touched the data directory");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A config file that does not parse is refused naming the file and the place, never quoting a
/// line that holds a secret; the server does not start.
#[test]
fn config_parse_errors_never_print_a_secret() {
    let dir = temp_dir("cli-config-secret");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("offernet.toml");
    let data = dir.join("data");
    for (bad, place) in [
        ("listen = \"127.0.0.1:0\"\ndatabase = \"postgres://u:Hunter2pw@127.0.0.1/db\" x\n", "line 2, column"),
        ("max_batch = \"postgres://u:Hunter2pw@127.0.0.1/db\"\n", "line 1, column"),
        ("admin_token = \"admin.Hunter2pw-0123456789abcdefghijklmnop\"\n", "OFFERNET_ADMIN_TOKEN"),
    ] {
        std::fs::write(&file, bad).unwrap();
        let o = run(&["serve", "--config", file.to_str().unwrap(), "--data-dir", data.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let msg = text(&o);
        assert!(msg.contains(file.to_str().unwrap()) && msg.contains(place), "{msg}");
        assert!(!msg.contains("Hunter2"), "{msg}");
    }
    assert_eq!(entries(&data), None);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `offernet load` takes the data directory's lock: beside a live server it fails naming the
/// lock, and the server keeps serving.
#[test]
fn load_refuses_a_data_directory_a_server_holds() {
    let dir = temp_dir("cli-load");
    let s = Server::start(&dir, &[]);
    let o = run(&["load", "--data-dir", dir.to_str().unwrap(), "--clients", "1", "--commands", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let msg = text(&o);
    assert!(msg.contains("in use by another offernet process"), "{msg}");
    assert!(msg.contains(&format!("pid {}", s.child.id())) && msg.contains("lock file"), "{msg}");
    assert!(!msg.contains("ack "), "load wrote beside the server: {msg}");
    let (status, body) = s.req("GET", "/healthz", None, None);
    assert_eq!(status, 200, "{body}");
    let (status, _) = s.req("GET", "/v1/accounts/load", Some(ADMIN), None);
    assert_eq!(status, 404, "load created its account beside the server");
    s.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
