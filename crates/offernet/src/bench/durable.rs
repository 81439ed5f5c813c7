//! Benchmarks through the journal: `propagation --durable` and `recovery`.

use std::sync::atomic::Ordering;
use std::time::Instant;

use clap::Args;
use offernet_core::*;
use offernet_store::journal::Journal;
use offernet_store::*;

use super::common::{median, recover_quietly, temp_dir, Rng, Yardstick};
use super::network::{generate_commands, updates, Network, NetworkArgs};
use crate::shared::{e, runtime, submit, Result};

/// A fresh journal in a temporary directory holding the generated network.
async fn journal_with_network(
    name: &str,
    net: &NetworkArgs,
    database: Option<&str>,
) -> Result<(std::path::PathBuf, AnyJournal, Recovered, Network)> {
    let dir = temp_dir(name);
    let mut j = AnyJournal::open(database, &dir).await.map_err(e)?;
    if j.last().await.map_err(e)? != JournalEnd::default() {
        return Err("the benchmark needs an empty journal: give --database a fresh, empty database".into());
    }
    let mut r = recover_quietly(&mut j).await?;
    let g = generate_commands(net)?;
    let refused = import(&mut j, &mut r, g.commands, 0, &mut |_| {}).await.map_err(e)?;
    if refused > 0 {
        return Err(format!("{refused} generator commands were refused"));
    }
    // The Network view (for generating updates) shares the level layout.
    let shape = Network { engine: Engine::default(), levels: g.levels, skus_per_seller: net.skus_per_seller };
    Ok((dir, j, r, shape))
}

/// Reopens the journal of a benchmark (the writer took the previous handle) and recovers.
async fn reopen(db: Option<&str>, dir: &std::path::Path) -> Result<(AnyJournal, Recovered)> {
    let mut j = AnyJournal::open(db, dir).await.map_err(e)?;
    let r = recover_quietly(&mut j).await?;
    Ok((j, r))
}

/// Recovers from `j`, timed, and checks the state is `expected` (else the error `wrong`):
/// (the recovered engine, seconds).
async fn timed_restart(j: &mut AnyJournal, expected: &[u8], wrong: &str) -> Result<(Recovered, f64)> {
    let t = Instant::now();
    let r = recover_quietly(j).await?;
    let s = t.elapsed().as_secs_f64();
    if r.engine.snapshot_bytes() != expected {
        return Err(wrong.into());
    }
    Ok((r, s))
}

/// Runs `work` through a writer with `max_batch`, from `clients` concurrent clients.
async fn through_writer(
    j: AnyJournal,
    r: Recovered,
    max_batch: usize,
    clients: usize,
    work: Vec<Command>,
) -> Result<Through> {
    let (h, task) = spawn(j, r, WriterConfig { max_batch, snapshot_every: 0, ..Default::default() });
    let n = work.len();
    let mut shares: Vec<Vec<Command>> = vec![Vec::new(); clients];
    for (i, c) in work.into_iter().enumerate() {
        shares[i % clients].push(c);
    }
    let t = Instant::now();
    let mut tasks = Vec::new();
    for share in shares {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            for c in share {
                submit(&h, c).await?.map_err(e)?;
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(e)??;
    }
    let dt = t.elapsed().as_secs_f64();
    let stats = &h.shared().stats;
    let batches = stats.batches.load(Ordering::Relaxed).max(1) as f64;
    let commands = stats.commands.load(Ordering::Relaxed) as f64;
    let commit_ms = stats.commit_micros.load(Ordering::Relaxed) as f64 / batches / 1000.0;
    let resolved = stats.resolved.load(Ordering::Relaxed) as f64 / commands.max(1.0);
    h.shutdown().await;
    let _ = task.await;
    Ok(Through {
        rate: n as f64 / dt,
        per_batch: commands / batches,
        commit_ms,
        batch_ms: dt * 1000.0 / batches,
        resolved,
    })
}

/// One run through the writer: commands/s, commands per commit, the mean commit's time and the
/// mean time between batches (when the commit is most of it, the commit is the critical path).
struct Through {
    rate: f64,
    per_batch: f64,
    commit_ms: f64,
    batch_ms: f64,
    /// The share of commands whose callers resolved their ids (`WriterHandle::submit`).
    resolved: f64,
}

#[derive(Args, Clone, Debug)]
pub struct DurableArgs {
    /// Updates per measured run with group commit.
    #[arg(long, default_value_t = 200_000)]
    pub durable_updates: usize,
    /// Updates for the one-commit-per-command baseline (it is slow by design).
    #[arg(long, default_value_t = 5_000)]
    pub baseline_updates: usize,
    /// Concurrent clients submitting updates.
    #[arg(long, default_value_t = 256)]
    pub clients: usize,
    /// Run against the journal on PostgreSQL (an empty database); default SQLite.
    #[arg(long, env = "OFFERNET_BENCH_DATABASE_URL")]
    pub database: Option<String>,
}

pub fn propagation_durable(net: &NetworkArgs, runs: usize, d: &DurableArgs) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let db = d.database.as_deref();
        let (dir, j, r, shape) = journal_with_network("durable", net, db).await?;
        let offers = r.engine.offer_count();
        let r_skus = r.engine.size().1;
        let mut rng = Rng(net.seed ^ 0xd0);
        // The writer owns the journal while it runs; reopen between runs.
        let mut j = Some(j);
        let mut r = Some(r);
        let mut rates = Vec::new();
        let mut batch_sizes = Vec::new();
        let (mut commit_ms, mut batch_ms) = (Vec::new(), Vec::new());
        for run in 0..runs {
            let (jj, rr) = match (j.take(), r.take()) {
                (Some(jj), Some(rr)) => (jj, rr),
                _ => reopen(db, &dir).await?,
            };
            let work = updates(&shape, d.durable_updates, &mut rng);
            let t = through_writer(jj, rr, offernet_store::writer::DEFAULT_MAX_BATCH, d.clients, work).await?;
            eprintln!(
                "run {run}: {:.0} commands/s through the journal, {:.0} commands per commit, commit {:.2} ms, batch every {:.2} ms, {:.0} % resolved by their callers",
                t.rate, t.per_batch, t.commit_ms, t.batch_ms, t.resolved * 100.0
            );
            rates.push(t.rate);
            batch_sizes.push(t.per_batch);
            commit_ms.push(t.commit_ms);
            batch_ms.push(t.batch_ms);
        }
        let (jj, rr) = reopen(db, &dir).await?;
        let work = updates(&shape, d.baseline_updates, &mut rng);
        let base = through_writer(jj, rr, 1, d.clients, work).await?.rate;
        let group = median(&mut rates);
        let per_batch = median(&mut batch_sizes);
        let (commit_ms, batch_ms) = (median(&mut commit_ms), median(&mut batch_ms));
        let yardstick = Yardstick::measure(r_skus);
        println!(
            "scenario     propagation --durable ({} journal)",
            if db.is_some() { "PostgreSQL" } else { "SQLite, synchronous=FULL" }
        );
        println!("network      {offers} offers; {} concurrent clients", d.clients);
        println!(
            "group commit {group:>14.0} commands/s  (median of {runs} runs of {}; {per_batch:.0} per commit)",
            d.durable_updates
        );
        println!("commit       {commit_ms:>14.2} ms mean per commit; a batch every {batch_ms:.2} ms (medians)");
        println!("baseline     {base:>14.0} commands/s  (one commit per command, {} updates)", d.baseline_updates);
        println!("ratio        {:>14.1}x", group / base);
        println!("{}", yardstick.line("group commit", group));
        println!(
            "{}",
            serde_json::json!({"scenario": "propagation_durable", "offers": offers, "clients": d.clients,
                "group_commit_per_s": group.round(), "one_commit_per_command_per_s": base.round(),
                "commands_per_commit": per_batch.round(), "commit_ms": commit_ms, "batch_ms": batch_ms,
                "ratio": group / base,
                "yardstick": yardstick.json(group)})
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
}

#[derive(Args, Clone, Debug)]
pub struct RecoveryArgs {
    /// Commands in the journal (network setup plus stock and price updates).
    #[arg(long, default_value_t = 1_000_000)]
    pub commands: usize,
    #[command(flatten)]
    pub net: NetworkArgs,
}

pub fn recovery(a: RecoveryArgs) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let (dir, mut j, mut r, shape) = journal_with_network("recovery", &a.net, None).await?;
        let setup = r.last_seq as usize;
        let mut rng = Rng(a.net.seed ^ 0x7e);
        let t = Instant::now();
        let mut left = a.commands.saturating_sub(setup);
        while left > 0 {
            let n = left.min(100_000);
            import(&mut j, &mut r, updates(&shape, n, &mut rng), 0, &mut |_| {}).await.map_err(e)?;
            left -= n;
        }
        let write_s = t.elapsed().as_secs_f64();
        let total = r.last_seq;
        let expected = r.engine.snapshot_bytes();
        drop(r);
        // Restart without a snapshot: replay everything, from the binary forms.
        let (rr, replay_s) = timed_restart(&mut j, &expected, "replay produced another state").await?;
        drop(rr);
        // The same journal as a build before the binary form wrote it: JSON only.
        let (json_s, engine_s) = replay_baselines(&a, &mut j, &expected, total).await?;
        let (rr, _) = timed_restart(&mut j, &expected, "replay produced another state").await?;
        // Snapshot at the end, then restart again.
        let t = Instant::now();
        j.save_snapshot(total, &rr.engine.snapshot_bytes()).await.map_err(e)?;
        let snap_s = t.elapsed().as_secs_f64();
        drop(rr);
        let (rs, snap_restart_s) = timed_restart(&mut j, &expected, "the snapshot restored another state").await?;
        let offers = rs.engine.offer_count();
        let yardstick = Yardstick::measure(rs.engine.size().1);
        let size = std::fs::metadata(dir.join(JOURNAL_FILE)).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(dir.join(format!("{JOURNAL_FILE}-wal"))).map(|m| m.len()).unwrap_or(0);
        let rate = |s: f64| (total as f64 / s).round();
        println!("scenario       recovery (SQLite journal)");
        println!(
            "journal        {total} commands ({setup} network setup), {offers} offers, {:.0} MB on disk",
            size as f64 / 1e6
        );
        println!("written        {:>12.0} commands/s (bulk import)", (total as usize - setup) as f64 / write_s);
        println!("replay         {:>12.0} commands/s, restart without snapshot {replay_s:.2} s", rate(replay_s));
        println!("replay (JSON)  {:>12.0} commands/s, the same journal without its binary forms", rate(json_s));
        println!("engine alone   {:>12.0} commands/s, the same commands applied from memory", rate(engine_s));
        println!("snapshot       taken in {snap_s:.2} s; restart with it {snap_restart_s:.2} s");
        println!("{}", yardstick.line("replay", total as f64 / replay_s));
        println!(
            "{}",
            serde_json::json!({"scenario": "recovery", "commands": total, "offers": offers,
                "replay_per_s": rate(replay_s), "replay_json_only_per_s": rate(json_s),
                "engine_alone_per_s": rate(engine_s), "restart_without_snapshot_s": replay_s,
                "restart_with_snapshot_s": snap_restart_s, "snapshot_s": snap_s, "journal_bytes": size,
                "yardstick": yardstick.json(rate(replay_s))})
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
}

/// The replay's baselines, measured in the same run: (seconds to replay the journal with its
/// binary forms removed, that is JSON only as before them; seconds for the engine alone to
/// apply the same commands from memory, the bound of any replay). Leaves the binary forms
/// removed.
async fn replay_baselines(a: &RecoveryArgs, j: &mut AnyJournal, expected: &[u8], total: u64) -> Result<(f64, f64)> {
    if let AnyJournal::Sqlite(s) = j {
        sqlx::query("UPDATE journal SET bin = NULL").execute(s.connection()).await.map_err(e)?;
    }
    let (_, json_s) = timed_restart(j, expected, "replay from JSON produced another state").await?;
    let g = generate_commands(&a.net)?;
    let shape = Network { engine: Engine::default(), levels: g.levels, skus_per_seller: a.net.skus_per_seller };
    let mut rng = Rng(a.net.seed ^ 0x7e);
    let mut commands = g.commands;
    commands.extend(updates(&shape, total as usize - commands.len(), &mut rng));
    let mut engine = Engine::default();
    let t = Instant::now();
    for c in &commands {
        let _ = engine.apply(c, 0);
    }
    let engine_s = t.elapsed().as_secs_f64();
    if engine.snapshot_bytes() != expected {
        return Err("the commands applied from memory gave another state".into());
    }
    Ok((json_s, engine_s))
}
