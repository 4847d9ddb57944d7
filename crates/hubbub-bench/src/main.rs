//! `hubbub-bench`: load generator for a running hubbub.
//!
//! `hubbub-bench rest --base URL --client-id ID --client-secret SECRET` sends text
//! messages through `POST /v1/channels/{id}/messages` over C keep-alive connections
//! and prints messages/s, ack latency percentiles and — given `--server-pid` — the
//! server's CPU time per message, read from `/proc/<pid>/stat`.
//!
//! Runs against loopback (or the project's own test hosts) only; every loop is
//! bounded by a message count.

mod proc_stat;
mod rest;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hubbub-bench", about = "Load generator for hubbub")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Durable sends through the REST API.
    Rest(rest::RestArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Rest(args) => runtime.block_on(rest::run(args)),
    }
}
