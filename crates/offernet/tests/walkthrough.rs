//! The README's walkthrough and "Running a network", run as written (every `sh` block from
//! "Walkthrough" up to "Running the server", with bash and curl) against the real binary, twice on the same data
//! directory: a user who runs it again must not be stopped. Each curl's status is recorded
//! (a wrapper adds `-w` to every call, and a time limit for the live event stream): every
//! answer is 2xx but account creation on the second run (409: the account exists) and the one
//! request the README shows being refused (401 with a revoked token).

mod common;

use std::process::{Command, Stdio};

use common::{temp_dir, Server, ADMIN};

/// The shell blocks of the walkthrough, in order.
fn walkthrough() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let start = readme.find("## Walkthrough").expect("a walkthrough section");
    let end = start + readme[start..].find("## Running the server").expect("the section after it");
    let mut blocks = Vec::new();
    let mut rest = &readme[start..end];
    while let Some(open) = rest.find("```sh\n") {
        let body = &rest[open + 6..];
        let close = body.find("```").expect("a closed block");
        blocks.push(&body[..close]);
        rest = &body[close + 3..];
    }
    assert!(blocks.len() >= 8, "the walkthrough's blocks were found");
    blocks.concat()
}

/// Runs the walkthrough against `base` from `cwd` (where `offernet-data/admin-token` is); the
/// (status, method, URL) of each curl and the script's output.
fn run(script: &str, base: &str, cwd: &std::path::Path) -> (Vec<(u16, String, String)>, String) {
    let wrapper = "curl() { command curl -sS \"$@\" --max-time 3 -w '%{stderr}HTTP %{http_code} %{method} %{url_effective}\\n'; }\n";
    let script = format!("{wrapper}{}", script.replace("http://127.0.0.1:8080", base));
    // `offernet` (the "Running a network" import) is the binary under test.
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_offernet")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(cwd)
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let calls = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("HTTP "))
        .map(|l| {
            let mut p = l.splitn(3, ' ');
            let status = p.next().unwrap().parse().unwrap();
            (status, p.next().unwrap().to_string(), p.next().unwrap_or("").to_string())
        })
        .collect();
    (calls, String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn the_readme_walkthrough_survives_a_second_run_on_the_same_data_directory() {
    if Command::new("curl").arg("--version").output().is_err() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI needs curl for the walkthrough test");
        eprintln!("SKIPPED: the README walkthrough test needs curl");
        return;
    }
    let base_dir = temp_dir("walkthrough");
    let data = base_dir.join("offernet-data");
    let s = Server::start(&data, &[]);
    std::fs::write(data.join("admin-token"), format!("{ADMIN}\n")).unwrap();
    let base = format!("http://{}", s.addr);
    let script = walkthrough();
    let curls = script.matches("curl ").count();
    for round in 1..=2 {
        let (calls, stdout) = run(&script, &base, &base_dir);
        assert!(calls.len() >= curls, "round {round}: {} calls of {curls}: {calls:?}", calls.len());
        for (status, method, url) in &calls {
            let create = method == "POST" && url == &format!("{base}/v1/accounts");
            let expected = match round {
                1 if create => *status == 201,
                _ if create => *status == 409,
                _ if method == "GET" && url == &format!("{base}/v1/accounts/seller-a") => *status == 401,
                _ => (200..300).contains(status),
            };
            assert!(expected, "round {round}: {method} {url} answered {status}\n{stdout}");
        }
        // Marketplace B sees 3 + 10 through the chain, on every run.
        assert!(stdout.contains(r#""quantity":13"#), "round {round}: {stdout}");
        // "Running a network": the imported catalog became City Market's offers.
        for sku in ["acme-store-kettle", "acme-store-teapot"] {
            assert!(stdout.contains(&format!(r#""sku":"{sku}""#)), "round {round}: no offer {sku}\n{stdout}");
        }
    }
    s.stop();
    let _ = std::fs::remove_dir_all(&base_dir);
}
