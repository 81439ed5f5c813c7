//! `offernet bench import`: a generated catalog file imported over HTTP, end to end, with the
//! code of `offernet import`, into a separate `offernet serve` process (this binary, on a fresh
//! temporary data directory, SQLite journal), so that the server's peak memory is its own.
//!
//! The file is a warehouse line, then SKUs each followed by its price and its stock (three
//! lines a SKU), until `--lines`. Each run imports it into a new account, so every run does the
//! same work. The time is from the file's first byte read to the last answer: reading, sending,
//! parsing, journaling (one entry), applying and settling.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::common::{median, temp_dir};
use super::http::BENCH_ADMIN;
use super::http_client::Conn;
use crate::import::{import_file, server_addr, ImportArgs};
use crate::shared::{e, runtime, Result};

#[derive(Args)]
pub struct ImportBenchArgs {
    /// Lines in the generated file.
    #[arg(long, default_value_t = 1_000_000)]
    lines: usize,
    /// Imports of the file, each into a new account; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

pub fn import(a: ImportBenchArgs) -> Result<()> {
    let dir = temp_dir("import");
    std::fs::create_dir_all(&dir).map_err(e)?;
    let file = dir.join("catalog.ndjson");
    let bytes = generate(&file, a.lines)?;
    let mut server = Server::start(&dir.join("data"), &[])?;
    let result = runtime()?.block_on(runs(&server.url, &file, &a));
    let server_peak = server.peak_rss();
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    let mut secs = result?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let med = median(&mut secs);
    println!("import over HTTP: {} lines ({:.1} MiB NDJSON), {} run(s)", a.lines, bytes as f64 / 1048576.0, a.runs);
    println!("  median {med:.2} s = {:.0} lines/s; runs (sorted) {secs:.2?} s", a.lines as f64 / med);
    println!("  server peak RSS {:.0} MiB; load average before/after {load}", server_peak as f64 / 1048576.0);
    println!(
        "{}",
        json!({"bench": "import", "lines": a.lines, "bytes": bytes, "runs": secs, "median_s": med,
            "lines_per_s": a.lines as f64 / med, "server_peak_rss_bytes": server_peak, "loadavg": load})
    );
    Ok(())
}

/// Writes the catalog file; returns its size.
fn generate(path: &std::path::Path, lines: usize) -> Result<u64> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(e)?);
    writeln!(out, r#"{{"kind":"warehouse","id":"w1","trade_policies":["1"]}}"#).map_err(e)?;
    for n in 1..lines {
        let (sku, part) = ((n - 1) / 3, (n - 1) % 3);
        let line = match part {
            0 => format!(
                r#"{{"kind":"sku","id":"sku-{sku}","name":"Product {sku}","brand":"Brand {}","ref_id":"ref-{sku}","category":"Home/Kitchen"}}"#,
                sku % 100
            ),
            1 => format!(r#"{{"kind":"price","sku":"sku-{sku}","price":{},"list_price":{}}}"#, 1000 + sku % 5000, 9000),
            _ => format!(r#"{{"kind":"stock","warehouse":"w1","sku":"sku-{sku}","quantity":{}}}"#, sku % 50),
        };
        writeln!(out, "{line}").map_err(e)?;
    }
    out.flush().map_err(e)?;
    Ok(std::fs::metadata(path).map_err(e)?.len())
}

/// The import runs: seconds each.
async fn runs(url: &str, file: &std::path::Path, a: &ImportBenchArgs) -> Result<Vec<f64>> {
    let addr = server_addr(url).await?;
    let mut secs = Vec::new();
    for run in 0..a.runs {
        let account = format!("bench-{run}");
        let mut conn = Conn::open(addr).await?;
        let body = json!({"id": account, "name": account, "currency": "BRL"});
        conn.must("POST", "/v1/accounts", BENCH_ADMIN, Some(body)).await?;
        let args = ImportArgs {
            account,
            server: url.to_string(),
            token: BENCH_ADMIN.to_string(),
            format: None,
            lines_per_request: offernet_core::MAX_IMPORT_LINES,
            file: file.to_path_buf(),
        };
        let t = Instant::now();
        let totals = import_file(&args, false).await?;
        secs.push(t.elapsed().as_secs_f64());
        if totals.lines != a.lines {
            return Err(format!("imported {} lines of {}", totals.lines, a.lines));
        }
        eprintln!("run {}: {:.2} s", run + 1, secs[run]);
    }
    Ok(secs)
}

/// `offernet serve` as a child process.
pub(super) struct Server {
    child: Child,
    pub(super) url: String,
}

impl Server {
    pub(super) fn start(data: &std::path::Path, extra: &[&str]) -> Result<Server> {
        let exe = std::env::current_exe().map_err(e)?;
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--snapshot-every", "0", "--data-dir"])
            .arg(data)
            .args(extra)
            .env("OFFERNET_ADMIN_TOKEN", BENCH_ADMIN)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(e)?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(e)?;
        let url = line.trim().rsplit(' ').next().unwrap_or_default().to_string();
        if !url.starts_with("http://") {
            let _ = child.kill();
            return Err(format!("the server did not start: {line:?}"));
        }
        Ok(Server { child, url })
    }

    /// The server's peak resident memory (VmHWM), in bytes.
    pub(super) fn peak_rss(&self) -> u64 {
        self.status_bytes("VmHWM:")
    }

    /// The server's resident memory now (VmRSS), in bytes.
    pub(super) fn rss(&self) -> u64 {
        self.status_bytes("VmRSS:")
    }

    fn status_bytes(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    pub(super) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
