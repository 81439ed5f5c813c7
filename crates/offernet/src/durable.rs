//! Commands that work on a data directory: `journal verify|compact|repair`, and `load`, a load
//! generator through the durable writer (used by the crash tests and benchmarks). Every command
//! that writes takes the data directory's lock first: none may run beside a live server.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use offernet_core::*;
use offernet_store::journal::Journal;
use offernet_store::*;

use crate::shared::{cmd, e, submit, Result};

/// Where offernet keeps its data.
#[derive(Args, Clone, Debug)]
pub struct DataArgs {
    /// Data directory (created if missing, mode 0700): holds journal.sqlite, the lock and the
    /// high-water mark `committed-seq` (also with --database).
    #[arg(long, env = "OFFERNET_DATA_DIR", default_value = "offernet-data")]
    pub data_dir: PathBuf,
    /// The journal on PostgreSQL (`postgres://user@host/db`); default: SQLite in the data directory.
    #[arg(long, env = "OFFERNET_DATABASE_URL")]
    pub database: Option<String>,
    /// Most accounts on a chain, both ends counted (2 to 8). Fixed for a data directory.
    #[arg(long, env = "OFFERNET_MAX_CHAIN", default_value_t = DEFAULT_MAX_CHAIN)]
    pub max_chain: u8,
}

impl DataArgs {
    pub fn engine_config(&self) -> Result<EngineConfig> {
        EngineConfig::new(self.max_chain).map_err(e)
    }
    pub fn journal_path(&self) -> PathBuf {
        self.data_dir.join(JOURNAL_FILE)
    }
}

#[derive(Subcommand)]
pub enum JournalCmd {
    /// Replay everything and check every snapshot against the replay; report the first
    /// divergence by sequence number (exit status 1).
    Verify(DataArgs),
    /// Drop the entries covered by the older of the two newest verified snapshots (after
    /// verifying); both snapshots are kept.
    Compact(DataArgs),
    /// When startup refuses a damaged or incomplete journal tail, or a journal that ends before
    /// the high-water mark: say what was found and what repair would do (exit status 1); with
    /// --accept-loss, move the damaged tail to the quarantine table (kept, readable, never
    /// replayed) and record the floor so that no sequence number is ever reused.
    Repair(RepairArgs),
}

#[derive(Args, Clone, Debug)]
pub struct RepairArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Do it: accept that the entries after the last whole batch leave the replayed history.
    #[arg(long)]
    pub accept_loss: bool,
}

fn progress(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} entries ({per_sec}, eta {eta})")
            .unwrap()
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Takes the data directory's lock (refusing, with the holder's pid, beside a live server).
pub fn lock(data: &DataArgs) -> Result<DataDirLock> {
    offernet_store::datadir::create_dir(&data.data_dir)?;
    DataDirLock::acquire(&data.data_dir)
}

pub async fn open_existing(data: &DataArgs) -> Result<AnyJournal> {
    if data.database.is_none() && !data.journal_path().exists() {
        return Err(format!("no journal at {}", data.journal_path().display()));
    }
    open_or_create(data).await
}

pub async fn open_or_create(data: &DataArgs) -> Result<AnyJournal> {
    AnyJournal::open(data.database.as_deref(), &data.data_dir).await.map_err(e)
}

/// Opens the journal and recovers the engine, with a progress bar over the replay.
pub async fn recover_store(data: &DataArgs) -> Result<(AnyJournal, Recovered)> {
    let mut j = open_or_create(data).await?;
    offernet_store::check_rules(&mut j, data.engine_config()?).await.map_err(e)?;
    let total = j.last().await.map_err(e)?.seq;
    let bar = progress(total, "replaying");
    let r = recover(&mut j, data.engine_config()?, &mut |n| bar.inc(n)).await.map_err(e)?;
    bar.finish_and_clear();
    let rep = &r.report;
    eprintln!(
        "recovered the {} journal: snapshot {}, {} entries replayed{}",
        j.describe(),
        rep.snapshot.map_or("none".to_string(), |s| format!("at {s}")),
        rep.replayed,
        if rep.skipped_snapshots.is_empty() {
            String::new()
        } else {
            format!(", skipped snapshots {:?}", rep.skipped_snapshots)
        },
    );
    Ok((j, r))
}

pub async fn journal(cmd: JournalCmd) -> Result<()> {
    match cmd {
        JournalCmd::Verify(data) => verify_journal(&data).await,
        JournalCmd::Compact(data) => compact_journal(&data).await,
        JournalCmd::Repair(args) => repair_journal(&args).await,
    }
}

async fn verify_journal(data: &DataArgs) -> Result<()> {
    let mut j = open_existing(data).await?;
    let total = j.last().await.map_err(e)?.seq;
    let bar = progress(total, "verifying");
    let rep = verify(&mut j, data.engine_config()?, &mut |n| bar.inc(n)).await.map_err(e)?;
    bar.finish_and_clear();
    println!(
        "replayed {} entries from {}; snapshots equal to the replay: {:?}",
        rep.entries,
        rep.base.map_or("the start".to_string(), |b| format!("snapshot {b}")),
        rep.snapshots_ok
    );
    match rep.divergence {
        None => {
            println!("journal OK");
            Ok(())
        }
        Some(Divergence { seq, why }) => Err(format!("journal diverges at entry {seq}: {why}")),
    }
}

async fn compact_journal(data: &DataArgs) -> Result<()> {
    let _lock = lock(data)?;
    let mut j = open_existing(data).await?;
    let total = j.last().await.map_err(e)?.seq;
    let bar = progress(total, "verifying before compaction");
    let out = compact(&mut j, data.engine_config()?, &mut |n| bar.inc(n)).await.map_err(e)?;
    bar.finish_and_clear();
    match out {
        Ok(None) => println!("nothing to compact: fewer than two verified snapshots"),
        Ok(Some(Compacted { base: seq, dropped })) => {
            println!("dropped {dropped} entries covered by snapshot {seq} (it and the newer ones are kept)")
        }
        Err(rep) => {
            let Divergence { seq, why } = rep.divergence.unwrap_or(Divergence { seq: 0, why: "unknown".into() });
            return Err(format!("not compacted: the journal diverges at entry {seq}: {why}"));
        }
    }
    Ok(())
}

async fn repair_journal(args: &RepairArgs) -> Result<()> {
    let _lock = lock(&args.data)?;
    let mut j = open_existing(&args.data).await?;
    let out = repair(&mut j, args.data.engine_config()?, args.accept_loss).await.map_err(e)?;
    match out {
        RepairOutcome::Healthy => {
            println!("nothing to repair: the journal replays whole and reaches the high-water mark");
            Ok(())
        }
        RepairOutcome::Planned(plan) => Err(format!(
            "found: {}.\nNothing was changed. {}; run it again with --accept-loss to do that \
             (restore from a backup instead if you have one)",
            plan.found,
            plan.describe_repair()
        )),
        RepairOutcome::Repaired { plan, moved } => {
            // Above the floor, after the repair's own entry that keeps event numbers unique.
            let next = j.last().await.map_err(e)?.seq + 1;
            println!(
                "repaired: {moved} entries moved to the quarantine table; the state is that of entry {}; \
                 the next entry is {next} (found: {})",
                plan.applied, plan.found
            );
            Ok(())
        }
    }
}

#[derive(Args, Clone, Debug)]
pub struct LoadArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Concurrent clients; client `c` sets the stock of SKU `c{c}` to 1, 2, 3, …
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Commands per client (then the writer shuts down cleanly).
    #[arg(long, default_value_t = 1000)]
    pub commands: u64,
    #[arg(long, default_value_t = 100_000)]
    pub snapshot_every: u64,
}

/// `offernet load`: prints `state <client> <quantity>` for every client after recovery, then
/// `ack <client> <n>` after each command is durable (acknowledged). Killing it at any moment
/// must lose no acknowledged write.
pub async fn load(args: LoadArgs) -> Result<()> {
    let _lock = lock(&args.data)?;
    let (j, r) = recover_store(&args.data).await?;
    let cfg = WriterConfig { snapshot_every: args.snapshot_every, ..Default::default() };
    let (h, task) = spawn(j, r, cfg);
    let start = load_state(&h, args.clients).await?;
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut tasks = Vec::new();
    for (client, from) in start.into_iter().enumerate() {
        let h = h.clone();
        let lines = lines_tx.clone();
        let n = args.commands;
        tasks.push(tokio::spawn(async move {
            for q in from + 1..=from + n {
                let put = cmd(serde_json::json!({"type": "put_stock", "account": "load", "warehouse": "w",
                    "sku": format!("c{client}"), "body": {"quantity": q}}));
                submit(&h, put).await?.map_err(e)?;
                let _ = lines.send(format!("ack {client} {q}"));
            }
            Ok::<(), String>(())
        }));
    }
    drop(lines_tx);
    let printer = tokio::spawn(async move {
        while let Some(l) = lines_rx.recv().await {
            // Each line is flushed so a reader sees every acknowledgement before a kill.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{l}");
            let _ = out.flush();
        }
    });
    for t in tasks {
        t.await.map_err(e)??;
    }
    printer.await.map_err(e)?;
    h.shutdown().await;
    let _ = task.await;
    Ok(())
}

/// Creates what the load writes to (account `load`, warehouse `w`, one SKU per client) unless
/// it is there, prints `state <client> <quantity>` for each client and returns the quantities.
async fn load_state(h: &WriterHandle, clients: usize) -> Result<Vec<u64>> {
    if !h.read(|x| x.has_account("load")) {
        let account = serde_json::json!({"type": "create_account", "id": "load", "name": "Load", "currency": "BRL"});
        submit(h, cmd(account)).await?.map_err(e)?;
        let warehouse = serde_json::json!({"type": "put_warehouse", "account": "load", "warehouse": "w", "body": {}});
        submit(h, cmd(warehouse)).await?.map_err(e)?;
    }
    let mut start = Vec::new();
    for client in 0..clients {
        let sku = format!("c{client}");
        let q = h.read(|x| x.sku("load", &sku).ok().and_then(|s| s.stock.first().and_then(|x| x.quantity)));
        if q.is_none() && h.read(|x| x.sku("load", &sku).is_err()) {
            let put = serde_json::json!({"type": "put_sku", "account": "load", "sku": sku, "body": {"name": "Load"}});
            submit(h, cmd(put)).await?.map_err(e)?;
        }
        let q = q.unwrap_or(0);
        println!("state {client} {q}");
        start.push(q);
    }
    std::io::stdout().flush().ok();
    Ok(start)
}
