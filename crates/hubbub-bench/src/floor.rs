//! The machine's floor for fan-out: what writing to N loopback TCP sockets costs with
//! no server in the way.
//!
//! `hubbub-bench tcp-floor --connections 10000 --bytes 4000 --passes 50` opens N
//! connections to itself (the reading ends live in a child process, since a process
//! may hold 20,000 open files), then makes passes: one blocking `write` of `--bytes`
//! to every socket, a pause for the reader to drain, again. It prints the CPU time of
//! the writing process per write and the wall time of one pass.
//!
//! Why it matters: a message for N viewers needs at least one write per viewer, so
//! one pass is the least time in which the last viewer can have it, with one core
//! writing. Whatever a realtime server does, its fan-out latency for N viewers on this
//! machine cannot beat `pass time ÷ cores`, and its CPU per write cannot beat the
//! figure printed here.

use crate::proc_stat;
use anyhow::{Context, bail};
use std::io::{BufRead, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

#[derive(clap::Args)]
pub(crate) struct FloorArgs {
    /// Sockets written to in each pass.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Bytes of each write (a WebSocket frame carrying a few publications: ~4,000).
    #[arg(long, default_value_t = 4000)]
    bytes: usize,
    /// Passes over every socket.
    #[arg(long, default_value_t = 50)]
    passes: usize,
}

#[derive(clap::Args)]
pub(crate) struct FloorReaderArgs {
    #[arg(long)]
    addr: String,
    #[arg(long)]
    connections: usize,
}

/// The writing side (the parent).
pub(crate) fn run(args: FloorArgs) -> anyhow::Result<()> {
    if args.connections == 0 || args.bytes == 0 {
        bail!("--connections and --bytes must be at least 1");
    }
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    let mut child = Command::new(std::env::current_exe()?)
        .args(["tcp-floor-reader", "--addr", &addr])
        .args(["--connections", &args.connections.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("spawn the reader process")?;
    let mut sockets = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let (socket, _) = listener.accept()?;
        // As a realtime server would: each write leaves at once.
        socket.set_nodelay(true)?;
        sockets.push(socket);
    }
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().context("reader stdout")?).read_line(&mut ready)?;
    if !ready.starts_with("READY") {
        bail!("the reader process did not connect: {ready}");
    }
    let payload = vec![b'x'; args.bytes];
    let me = std::process::id();
    let cpu_before = proc_stat::cpu_time(me).context("read /proc/self/stat")?;
    let mut pass_times = Vec::with_capacity(args.passes);
    for _ in 0..args.passes {
        let started = Instant::now();
        for socket in &mut sockets {
            socket.write_all(&payload)?;
        }
        pass_times.push(started.elapsed());
        // Let the reader drain, as viewers do between two messages.
        std::thread::sleep(Duration::from_millis(20));
    }
    let cpu = proc_stat::cpu_time(me)
        .context("read /proc/self/stat")?
        .saturating_sub(cpu_before);
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "STOP");
    }
    drop(sockets);
    let _ = child.wait();
    pass_times.sort_unstable();
    let writes = (args.connections * args.passes) as f64;
    let median = pass_times[pass_times.len() / 2];
    println!(
        "TCP loopback floor: {} sockets × {} passes, {} bytes per write, TCP_NODELAY",
        args.connections, args.passes, args.bytes
    );
    println!(
        "  writer CPU:        {:.2} s = {:.2} µs per write (syscall, TCP, and the receiver's side that loopback runs in the writer)",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / writes
    );
    println!(
        "  one pass:          median {:.1} ms, max {:.1} ms of wall time with one writing thread",
        median.as_secs_f64() * 1000.0,
        pass_times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
    Ok(())
}

/// The reading side (a child process): connects, reads everything until told to stop.
pub(crate) async fn run_reader(args: FloorReaderArgs) -> anyhow::Result<()> {
    let mut readers = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let mut stream = tokio::net::TcpStream::connect(&args.addr).await?;
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }));
    }
    println!("READY");
    std::io::stdout().flush()?;
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    })
    .await?;
    for reader in readers {
        reader.abort();
    }
    Ok(())
}
