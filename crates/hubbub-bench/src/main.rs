//! `hubbub-bench`: load generator for a running hubbub.
//!
//! `hubbub-bench rest --base URL --client-id ID --client-secret SECRET` sends text
//! messages through `POST /v1/channels/{id}/messages` over C keep-alive connections
//! and prints messages/s, ack latency percentiles and — given `--server-pid` — the
//! server's CPU time per message, read from `/proc/<pid>/stat`.
//!
//! `hubbub-bench ws --viewers N --publishers M --rate R --duration T` loads the realtime
//! gateway: N WebSocket viewers of one channel (in child processes), checking every
//! delivery, and prints deliveries/s, latency percentiles, CPU per delivery and memory
//! per connection (see `ws.rs`).
//!
//! Runs against loopback (or the project's own test hosts) only; every loop is
//! bounded by a message count.

mod proc_stat;
mod rest;
mod ws;
mod ws_client;

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
    /// Realtime fan-out: N WebSocket viewers, M REST publishers, R msg/s, T seconds.
    Ws(ws::WsArgs),
    /// A viewer process of `ws` (started by it).
    #[command(hide = true)]
    WsViewers(ws::ViewersArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Rest(args) => runtime.block_on(rest::run(args)),
        Command::Ws(args) => runtime.block_on(ws::run(args)),
        Command::WsViewers(args) => runtime.block_on(ws::run_viewers(args)),
    }
}
