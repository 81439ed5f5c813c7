//! The `offernet` binary: glue between the command line and the library crates.

mod bench;
mod bench_durable;
mod bench_http;
mod bench_orders;
mod demo;
mod durable;
mod http_client;
mod serve;

use clap::{Parser, Subcommand};

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
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime")
}

fn logs(default: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OFFERNET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal as _;
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

fn main() {
    let cli = Cli::parse();
    if let Cmd::Serve(args) = &cli.command {
        let result = args.config().and_then(|config| {
            if args.print_config {
                print!("{}", config.printable());
                return Ok(());
            }
            logs("info", config.log_format == "json");
            runtime().block_on(offernet_server::serve(config))
        });
        if let Err(e) = result {
            eprintln!("offernet: {e}");
            std::process::exit(1);
        }
        return;
    }
    logs("warn", false);
    let result = match cli.command {
        Cmd::Serve(_) => unreachable!("handled above"),
        Cmd::Demo => {
            print!("{}", demo::run());
            Ok(())
        }
        Cmd::Bench { scenario } => bench::run(scenario),
        Cmd::Journal { command } => runtime().block_on(durable::journal(command)),
        Cmd::Load(args) => runtime().block_on(durable::load(args)),
    };
    if let Err(e) = result {
        eprintln!("offernet: {e}");
        std::process::exit(1);
    }
}
