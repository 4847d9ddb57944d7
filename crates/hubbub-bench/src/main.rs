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
//! `hubbub-bench tcp-floor --connections N` measures what the machine itself allows:
//! CPU per small loopback write and the time of one pass over N sockets, with no
//! server involved (see `floor.rs`).
//!
//! Runs against loopback (or the project's own test hosts) only; every loop is
//! bounded by a message count.

mod floor;
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
    /// The machine's floor: CPU per write and time per pass over N loopback sockets.
    TcpFloor(floor::FloorArgs),
    /// The reading process of `tcp-floor` (started by it).
    #[command(hide = true)]
    TcpFloorReader(floor::FloorReaderArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // `ws-viewers` too runs on the multi-thread runtime (a worker per core), by
    // measurement: 10,000 viewers x 100 msg/s on a 2-core host shared with the server,
    // 6 interleaved runs each. One current_thread process was the cheapest for the
    // viewers (~7.0 s CPU vs ~7.3 s) but, holding them to one core, drained each
    // broadcast more slowly: the server then spent 1.42 µs per delivery instead of
    // 1.26 and fell behind the publish rate. current_thread in processes of 5,000
    // (`--viewers-per-process 5000`) gave the server 1.21 µs but cost the viewers
    // ~7.5 s; server + viewers was within 1.5% of the multi-thread runtime. No clear
    // win, so the simpler setup stays: one process, up to 15,000 viewers.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Rest(args) => runtime.block_on(rest::run(args)),
        Command::Ws(args) => runtime.block_on(ws::run(args)),
        Command::WsViewers(args) => runtime.block_on(ws::run_viewers(args)),
        Command::TcpFloor(args) => floor::run(args),
        Command::TcpFloorReader(args) => runtime.block_on(floor::run_reader(args)),
    }
}
