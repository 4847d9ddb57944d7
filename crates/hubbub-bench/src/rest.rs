//! REST send load: C connections, each sending its share of M messages back to back.

use crate::proc_stat;
use anyhow::{Context, bail};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

#[derive(clap::Args)]
pub(crate) struct RestArgs {
    /// Server base URL (loopback), e.g. http://127.0.0.1:8080
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    #[arg(long)]
    client_id: String,
    #[arg(long)]
    client_secret: String,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Messages to send in total.
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    /// Message body size in bytes.
    #[arg(long, default_value_t = 100)]
    body_bytes: usize,
    /// PID of the server, to report its CPU time per message.
    #[arg(long)]
    server_pid: Option<u32>,
}

struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
}

async fn connect(authority: &str) -> anyhow::Result<Conn> {
    let stream = TcpStream::connect(authority)
        .await
        .with_context(|| format!("connect {authority}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(Conn { sender })
}

impl Conn {
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "bench");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let response = self.sender.send_request(req.body(Full::new(body))?).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

fn authority(base: &str) -> anyhow::Result<String> {
    let rest = base
        .strip_prefix("http://")
        .context("--base must be http://HOST:PORT")?;
    let host = rest.trim_end_matches('/');
    if !(host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")) {
        bail!("refusing to load a non-loopback address: {host}");
    }
    Ok(host.to_owned())
}

fn json(body: &Bytes) -> anyhow::Result<serde_json::Value> {
    serde_json::from_slice(body).with_context(|| String::from_utf8_lossy(body).into_owned())
}

pub(crate) async fn run(args: RestArgs) -> anyhow::Result<()> {
    let authority = authority(&args.base)?;
    let mut setup = connect(&authority).await?;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", args.client_id, args.client_secret));
    let (status, body) = setup
        .call(
            "POST",
            "/oauth/token",
            &[
                ("authorization", &format!("Basic {basic}")),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            Bytes::from_static(b"grant_type=client_credentials"),
        )
        .await?;
    if status != 200 {
        bail!(
            "token request failed: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    let token = json(&body)?["access_token"]
        .as_str()
        .context("no access_token")?
        .to_owned();
    let auth = format!("Bearer {token}");
    let run_id = std::process::id();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let (_, body) = setup
        .call(
            "POST",
            "/v1/users",
            &headers,
            Bytes::from(format!(
                r#"{{"name":"bench-{run_id}","display_name":"bench"}}"#
            )),
        )
        .await?;
    json(&body)?;
    let (status, body) = setup
        .call(
            "POST",
            "/v1/channels",
            &headers,
            Bytes::from(format!(r#"{{"type":"PUBLIC","name":"bench-{run_id}"}}"#)),
        )
        .await?;
    if status != 200 {
        bail!(
            "channel create failed: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    let channel = json(&body)?["id"].as_i64().context("no channel id")?;
    let path = format!("/v1/channels/{channel}/messages");
    let text = "x".repeat(args.body_bytes);
    let payload = Bytes::from(format!(
        r#"{{"type":"TEXT","body":"{text}","user":{{"username":"bench-{run_id}"}}}}"#
    ));

    let cpu_before = args.server_pid.and_then(proc_stat::cpu_time);
    let started = Instant::now();
    let per_conn = args.messages / args.connections.max(1);
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let mut conn = connect(&authority).await?;
        let (path, payload, auth) = (path.clone(), payload.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            let headers = [
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ];
            let mut latencies = Vec::with_capacity(per_conn);
            let mut failures = 0u64;
            for _ in 0..per_conn {
                let t = Instant::now();
                match conn.call("POST", &path, &headers, payload.clone()).await {
                    Ok((200, _)) => latencies.push(t.elapsed()),
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::with_capacity(args.messages);
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    let cpu_after = args.server_pid.and_then(proc_stat::cpu_time);
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "REST send: {} connections, {} messages of {} bytes",
        args.connections,
        latencies.len(),
        args.body_bytes
    );
    println!(
        "  acknowledged:   {} ({} failed)",
        latencies.len(),
        failures
    );
    println!("  elapsed:        {:.2} s", elapsed.as_secs_f64());
    println!(
        "  throughput:     {:.0} messages/s",
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  ack latency:    p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(pct(0.999)),
        ms(pct(1.0))
    );
    if let (Some(before), Some(after), Some(pid)) = (cpu_before, cpu_after, args.server_pid) {
        let cpu = after.saturating_sub(before);
        println!(
            "  server CPU:     {:.2} s ({:.1} µs per message; {:.2} cores busy)",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / latencies.len().max(1) as f64,
            cpu.as_secs_f64() / elapsed.as_secs_f64()
        );
        if let Some(rss) = proc_stat::rss_kib(pid) {
            println!("  server RSS:     {} MiB", rss / 1024);
        }
    }
    if failures > 0 {
        bail!("{failures} sends failed");
    }
    Ok(())
}
