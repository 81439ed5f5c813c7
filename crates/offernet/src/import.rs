//! `offernet import`: a catalog file (NDJSON, or CSV converted record by record, `import/csv.rs`)
//! sent to a running server's `POST /v1/accounts/{a}/import`. A file larger than one request's
//! limits (1,000,000 lines, 256 MiB) is sent in several requests, one after the other: each
//! request is atomic, the file as a whole is not, and the output says which file lines each
//! request held, so a refused request can be fixed and the rest sent again (lines are
//! idempotent: they set, never add).

mod csv;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use offernet_core::{ImportCounts, MAX_IMPORT_LINES};
use offernet_server::routes::import::{IMPORT_TIMEOUT_MS, MAX_IMPORT_BYTES, NDJSON};
use serde_json::Value;

use crate::bench::http_client::Conn;
use crate::shared::{e, runtime, Result};

pub const AFTER_HELP: &str = "\
NDJSON: one object a line, with a `kind` and the single route's body fields plus its ids:
  {\"kind\":\"sku\",\"id\":\"s1\",\"name\":\"Mug\",\"ean\":\"7891234567895\"}
  {\"kind\":\"warehouse\",\"id\":\"w1\",\"trade_policies\":[\"1\"]}
  {\"kind\":\"stock\",\"warehouse\":\"w1\",\"sku\":\"s1\",\"quantity\":5}
  {\"kind\":\"price\",\"sku\":\"s1\",\"price\":1990}
  {\"kind\":\"trade_policy\",\"id\":\"2\",\"assortment\":\"all\"}
CSV: a header row names the columns; a `kind` column is required and every other column is a
field by its name (one file may mix kinds, leaving other kinds' columns empty). An empty cell
is an absent field; `dimensions.height_cm` is a nested field; price, list_price and quantity
are whole numbers, height_cm, width_cm, length_cm and weight_g decimal; active and unlimited are
true/false;
trade_policies, images and assortment are `;`-separated lists (assortment `all` stays the
word); everything else is text (an EAN keeps its leading zeros).
A file over one request's limits (1,000,000 lines or 256 MiB) is sent in several requests:
each request is all or nothing, the file as a whole is not; the output names the file lines
of each request.";

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Ndjson,
    Csv,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The account whose catalog the file fills.
    #[arg(long)]
    pub account: String,
    /// The server, http://HOST:PORT (plain HTTP).
    #[arg(long, env = "OFFERNET_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The account's token or the operator's.
    #[arg(long, env = "OFFERNET_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The file's format; by default from its extension (.csv, else NDJSON).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Most lines per request (at most 1,000,000, the server's limit).
    #[arg(long, default_value_t = MAX_IMPORT_LINES)]
    pub lines_per_request: usize,
    /// The NDJSON or CSV file.
    pub file: PathBuf,
}

/// What the requests applied so far.
#[derive(Default)]
pub struct Totals {
    pub requests: usize,
    pub lines: usize,
    pub counts: ImportCounts,
}

pub fn run(args: ImportArgs) -> Result<()> {
    if args.lines_per_request == 0 || args.lines_per_request > MAX_IMPORT_LINES {
        return Err(format!("--lines-per-request is 1 to {MAX_IMPORT_LINES}"));
    }
    let t = std::time::Instant::now();
    let totals = runtime()?.block_on(import_file(&args, true))?;
    let c = totals.counts;
    println!(
        "imported {} lines into `{}` in {} request(s), each all or nothing ({:.1} s): {} SKUs, {} prices, {} warehouses, {} stock, {} trade policies",
        totals.lines,
        args.account,
        totals.requests,
        t.elapsed().as_secs_f64(),
        c.sku,
        c.price,
        c.warehouse,
        c.stock,
        c.trade_policy
    );
    Ok(())
}

/// The server's address from `http://HOST:PORT` (a name is resolved once).
pub async fn server_addr(server: &str) -> Result<SocketAddr> {
    let rest = server
        .strip_prefix("http://")
        .ok_or_else(|| format!("--server {server:?}: expected http://HOST:PORT (offernet import speaks plain HTTP)"))?;
    let host = rest.trim_end_matches('/');
    tokio::net::lookup_host(host)
        .await
        .map_err(|x| format!("--server {server:?}: {x}"))?
        .next()
        .ok_or_else(|| format!("--server {server:?}: no address"))
}

/// One request's worth of lines: the NDJSON body and each line's number in the file.
struct Chunk {
    body: String,
    file_lines: Vec<u64>,
}

/// Reads the file, sends it in requests of at most `lines_per_request` lines and
/// [`MAX_IMPORT_BYTES`], and returns what was applied (or the first refusal, as an error).
pub async fn import_file(args: &ImportArgs, progress: bool) -> Result<Totals> {
    let addr = server_addr(&args.server).await?;
    let file = std::fs::File::open(&args.file).map_err(|x| format!("{}: {x}", args.file.display()))?;
    let size = file.metadata().map_err(e)?.len();
    let bar = bar(size, progress);
    let csv = match args.format {
        Some(f) => matches!(f, Format::Csv),
        None => args.file.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")),
    };
    let mut source = Source::new(BufReader::with_capacity(1 << 20, file), csv)?;
    let mut chunk = Chunk { body: String::new(), file_lines: Vec::new() };
    let mut totals = Totals::default();
    while let Some(item) = source.next_line() {
        let (line, text, read) = item?;
        let full =
            chunk.file_lines.len() >= args.lines_per_request || chunk.body.len() + text.len() + 1 > MAX_IMPORT_BYTES;
        if full {
            send(addr, args, &mut chunk, &mut totals, &bar).await?;
        }
        if text.len() + 1 > MAX_IMPORT_BYTES {
            return Err(format!("line {line} alone is over a request's {MAX_IMPORT_BYTES} bytes"));
        }
        chunk.body.push_str(&text);
        chunk.body.push('\n');
        chunk.file_lines.push(line);
        bar.set_position(read);
    }
    if !chunk.file_lines.is_empty() {
        send(addr, args, &mut chunk, &mut totals, &bar).await?;
    }
    bar.finish_and_clear();
    if totals.requests == 0 {
        return Err(format!("{}: no lines to import", args.file.display()));
    }
    Ok(totals)
}

fn bar(size: u64, progress: bool) -> ProgressBar {
    let target = if progress { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(size), target);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message("importing");
    bar
}

/// Sends one request and empties the chunk; a refusal is the error, naming the file lines.
async fn send(
    addr: SocketAddr,
    args: &ImportArgs,
    chunk: &mut Chunk,
    totals: &mut Totals,
    bar: &ProgressBar,
) -> Result<()> {
    let (first, last) = (chunk.file_lines[0], *chunk.file_lines.last().expect("a line"));
    bar.set_message(format!("request {} (file lines {first}-{last})", totals.requests + 1));
    let body = std::mem::take(&mut chunk.body);
    let path = format!("/v1/accounts/{}/import", args.account);
    // A connection per request: the server closes an idle one after a few seconds, and reading
    // the next chunk may take that long.
    let mut conn = Conn::open(addr).await?;
    let limit = Duration::from_millis(IMPORT_TIMEOUT_MS + 10_000);
    let (status, bytes) = conn.send_body(&path, &args.token, NDJSON, body, limit).await?;
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let done = || match totals.requests {
        0 => "nothing was imported".to_string(),
        n => format!("the {n} request(s) before it (file lines up to {}) were imported", first - 1),
    };
    if status != 200 {
        bar.finish_and_clear();
        let why = refusal(&answer, &chunk.file_lines).unwrap_or_else(|| String::from_utf8_lossy(&bytes).to_string());
        return Err(format!(
            "the request with file lines {first}-{last} was refused ({status}); nothing of it was imported, and {}:\n{why}",
            done()
        ));
    }
    let counts: ImportCounts = serde_json::from_value(answer["counts"].clone()).map_err(e)?;
    totals.requests += 1;
    totals.lines += chunk.file_lines.len();
    totals.counts += counts;
    if totals.requests > 1 || bar.length().is_some_and(|n| bar.position() < n) {
        bar.println(format!("request {}: file lines {first}-{last} imported", totals.requests));
    }
    chunk.file_lines.clear();
    Ok(())
}

/// A 400 `invalid_import` as lines of text, each with its line number in the file.
fn refusal(answer: &Value, file_lines: &[u64]) -> Option<String> {
    let error = answer.get("error")?;
    let mut out = error["message"].as_str().unwrap_or_default().to_string();
    for l in error.get("lines")?.as_array()? {
        let n = l["line"].as_u64().unwrap_or(0) as usize;
        let at = file_lines.get(n.wrapping_sub(1)).copied().unwrap_or(n as u64);
        let field = l["field"].as_str().map(|f| format!(" `{f}`")).unwrap_or_default();
        out.push_str(&format!("\n  line {at}{field}: {}", l["reason"].as_str().unwrap_or_default()));
    }
    Some(out)
}

/// The file's lines as NDJSON: (line number, line, bytes read so far).
enum Source<R: std::io::Read> {
    Ndjson { reader: R, line: u64, read: u64, buf: String },
    Csv(csv::CsvLines<R>),
}

impl<R: BufRead> Source<R> {
    fn new(reader: R, csv: bool) -> Result<Self> {
        Ok(match csv {
            true => Source::Csv(csv::CsvLines::new(reader)?),
            false => Source::Ndjson { reader, line: 0, read: 0, buf: String::new() },
        })
    }

    fn next_line(&mut self) -> Option<Result<(u64, String, u64)>> {
        match self {
            Source::Csv(c) => c.next_line(),
            Source::Ndjson { reader, line, read, buf } => loop {
                buf.clear();
                match reader.read_line(buf) {
                    Ok(0) => return None,
                    Ok(n) => {
                        *line += 1;
                        *read += n as u64;
                        let text = buf.trim_end_matches(['\n', '\r']);
                        if !text.trim().is_empty() {
                            return Some(Ok((*line, text.to_string(), *read)));
                        }
                    }
                    Err(x) => return Some(Err(format!("line {}: {x}", *line + 1))),
                }
            },
        }
    }
}
