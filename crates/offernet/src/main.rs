//! The `offernet` binary: glue between the command line and the library crates. `main` parses
//! the command line and hands each command to its module (ripgrep's `try_main` shape).

mod bench;
mod demo;
mod durable;
mod import;
mod serve;
mod shared;

use clap::{Parser, Subcommand};
use shared::{logs, runtime, Result};

/// mimalloc instead of glibc's malloc for the whole process (why, measured: BENCHMARKS.md, "The allocator"):
/// the engine allocates and frees many small blocks (ids, text, table growth, events).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "offernet", version, about = "offernet: a network of stores that sell each other's products")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the HTTP API (embedded SQLite journal in the data directory by default).
    Serve(Box<serve::ServeArgs>),
    /// Run the source documents' example in-process and print what each marketplace sees and why.
    Demo,
    /// Measure the engine (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        scenario: bench::Scenario,
    },
    /// Operator commands on the journal of a data directory.
    Journal {
        #[command(subcommand)]
        command: durable::JournalCmd,
    },
    /// Write continuously through the durable writer, printing each acknowledgement
    /// (a load generator for crash tests).
    Load(durable::LoadArgs),
    /// Import a catalog file (NDJSON or CSV) into an account of a running server, over HTTP.
    #[command(after_help = import::AFTER_HELP)]
    Import(import::ImportArgs),
}

fn main() {
    if let Err(e) = try_main() {
        let line = format!("offernet: {e}");
        if shared::json_logs() {
            eprintln!("{}", offernet_server::notice::json_line("ERROR", &line, &[]));
        } else {
            eprintln!("{line}");
        }
        std::process::exit(1);
    }
}

fn try_main() -> Result<()> {
    match Cli::parse().command {
        // `serve` sets up its own logs once its configuration is known.
        Cmd::Serve(args) => serve::run(&args),
        Cmd::Demo => {
            logs("warn", false);
            print!("{}", demo::run());
            Ok(())
        }
        Cmd::Bench { scenario } => {
            logs("warn", false);
            bench::run(scenario)
        }
        Cmd::Journal { command } => {
            logs("warn", false);
            runtime()?.block_on(durable::journal(command))
        }
        Cmd::Load(args) => {
            logs("warn", false);
            runtime()?.block_on(durable::load(args))
        }
        Cmd::Import(args) => {
            logs("warn", false);
            import::run(args)
        }
    }
}
