//! The `offernet` binary: glue between the command line and the library crates.

mod bench;
mod demo;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "offernet", version, about = "offernet: a network of stores that sell each other's products")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the source documents' example in-process and print what each marketplace sees and why.
    Demo,
    /// Measure the engine (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        scenario: bench::Scenario,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Demo => {
            print!("{}", demo::run());
            Ok(())
        }
        Cmd::Bench { scenario } => bench::run(scenario),
    };
    if let Err(e) = result {
        eprintln!("offernet: {e}");
        std::process::exit(1);
    }
}
