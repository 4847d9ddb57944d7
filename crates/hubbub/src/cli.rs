//! The command line. Operators and tests script these names, so they are stable:
//! `serve` (the default), `app create|list|credentials`, `user password`,
//! `config example|check`, `token [--for prism|kitkot|allmine|realtime]`,
//! `import users|channels|members|messages`, `export messages|users`.

use crate::config::{self, Config, Overrides};
use crate::startup::{self, Application};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "hubbub",
    version,
    about = "A self-hosted live-stream chat server"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every subcommand understands.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: ./hubbub.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database [env: HUBBUB_DATA_DIR] [default: ./hubbub-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL [env: HUBBUB_DATABASE_URL] [default: sqlite://<data-dir>/hubbub.db]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// NATS server URL: serve as one node of a cluster [env: HUBBUB_NATS_URL] [default: none, a single node]
    #[arg(long, global = true, value_name = "URL")]
    pub nats_url: Option<String>,
    /// Address to listen on [env: HUBBUB_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default command).
    Serve,
    /// Manage applications (tenants).
    #[command(subcommand)]
    App(AppCommand),
    /// Manage users' passwords for the live dialects' logins.
    #[command(subcommand)]
    User(crate::operators::UserCommand),
    /// Show or check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a user credential: a realtime connection token (HS256 JWT: sub = user,
    /// iss = client_id, exp) by default, or a PRISM access token, a kitkot
    /// session_key or an Allmine access JWT (--for).
    Token(TokenArgs),
    /// Import users, channels, channel members or messages from a JSON array file
    /// (ChatKitty import models), with progress; recorded as a job.
    Import(crate::transfer::ImportArgs),
    /// Export every message or user of an application as JSON Lines.
    Export(crate::transfer::ExportArgs),
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The application's client_id.
    #[arg(long, value_name = "CLIENT_ID")]
    pub app: String,
    /// The user name (the `sub` claim); empty for an anonymous viewer.
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub user: String,
    /// Lifetime in seconds (realtime tokens; the dialects' tokens have their own).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub ttl: u64,
    /// Which credential to print.
    #[arg(long = "for", value_enum, default_value = "realtime")]
    pub kind: crate::operators::TokenKind,
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create an application and print its credentials (shown once).
    Create {
        #[arg(long)]
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List applications.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show, rotate or set an application's live-dialect credentials (PRISM,
    /// kitkot, Allmine, Tencent).
    Credentials(crate::operators::CredentialsArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented example configuration file.
    Example,
    /// Check a configuration (file, environment and flags) and print the result.
    Check,
}

/// Parses the command line and runs the command; the exit code says how it went.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hubbub: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hubbub: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(global: &GlobalArgs) -> anyhow::Result<Config> {
    Config::load(
        global.config.as_deref(),
        &Overrides {
            listen: global.listen,
            data_dir: global.data_dir.clone(),
            database_url: global.database_url.clone(),
            nats_url: global.nats_url.clone(),
        },
    )
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(load(&cli.global)?).await,
        Command::App(AppCommand::Create { name, json }) => {
            let config = load(&cli.global)?;
            let engine = startup::engine(&config, startup::open_store(&config).await?);
            let created = engine
                .create_application(&name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let out = credentials_json(&created);
            if json {
                println!("{out}");
            } else {
                print_credentials(&created, None);
            }
            Ok(())
        }
        Command::App(AppCommand::List { json }) => {
            let config = load(&cli.global)?;
            let engine = startup::engine(&config, startup::open_store(&config).await?);
            let apps = engine
                .list_applications()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if json {
                let list: Vec<_> = apps
                    .iter()
                    .map(|a| serde_json::json!({"id": a.id, "name": a.name, "client_id": a.client_id, "created_time": a.created_at}))
                    .collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                println!("{:<8} {:<28} {:<30} CREATED", "ID", "CLIENT_ID", "NAME");
                for a in apps {
                    println!(
                        "{:<8} {:<28} {:<30} {}",
                        a.id,
                        a.client_id,
                        a.name,
                        a.created_at.to_rfc3339()
                    );
                }
            }
            Ok(())
        }
        Command::App(AppCommand::Credentials(args)) => {
            let config = load(&cli.global)?;
            let engine = startup::engine(&config, startup::open_store(&config).await?);
            crate::operators::credentials(&engine, args).await
        }
        Command::User(crate::operators::UserCommand::Password(args)) => {
            let config = load(&cli.global)?;
            let engine = startup::engine(&config, startup::open_store(&config).await?);
            crate::operators::password(&engine, args).await
        }
        Command::Token(args) => {
            let config = load(&cli.global)?;
            let engine = startup::engine(&config, startup::open_store(&config).await?);
            crate::operators::token(
                &engine,
                &args.app,
                &args.user,
                std::time::Duration::from_secs(args.ttl),
                args.kind,
            )
            .await
        }
        Command::Import(args) => crate::transfer::import(&load(&cli.global)?, args).await,
        Command::Export(args) => crate::transfer::export(&load(&cli.global)?, args).await,
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            let config = load(&cli.global)?;
            println!("configuration is valid:\n{config:#?}");
            Ok(())
        }
    }
}

fn credentials_json(created: &hubbub_core::engine::NewApplicationCredentials) -> serde_json::Value {
    let app = &created.application;
    serde_json::json!({
        "id": app.id,
        "name": app.name,
        "client_id": app.client_id,
        "client_secret": created.client_secret.0,
        "realtime_signing_secret": created.signing_secret.0,
        "dialects": crate::operators::dialects_json(&created.dialects),
        "created_time": app.created_at,
    })
}

fn print_credentials(created: &hubbub_core::engine::NewApplicationCredentials, base: Option<&str>) {
    let app = &created.application;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "application {} (id {})", app.name, app.id);
    let _ = writeln!(out, "  client_id:               {}", app.client_id);
    let _ = writeln!(
        out,
        "  client_secret:           {}",
        created.client_secret.0
    );
    let _ = writeln!(
        out,
        "  realtime_signing_secret: {}",
        created.signing_secret.0
    );
    let _ = writeln!(out, "  live dialects:");
    crate::operators::print_dialects(&mut out, &created.dialects);
    let _ = writeln!(
        out,
        "The client secret is shown only now; keep it somewhere safe \
         (`hubbub app credentials` shows the dialects' again)."
    );
    if let Some(base) = base {
        let _ = writeln!(out, "\nTry it:");
        let _ = writeln!(
            out,
            "  TOKEN=$(curl -s -u '{}:{}' -d grant_type=client_credentials {base}/oauth/token | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')",
            app.client_id, created.client_secret.0
        );
        let _ = writeln!(
            out,
            "  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/v1/application"
        );
        let _ = writeln!(
            out,
            "  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{{\"name\":\"jane\",\"display_name\":\"Jane\"}}' {base}/v1/users"
        );
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    crate::telemetry::init(&config.log);
    tracing::info!(config = ?config, "starting hubbub");
    // Before anything is printed: from "listening" on, SIGTERM drains.
    let stop = startup::shutdown_signal();
    let app = Application::build(&config).await?;
    let addr = app.local_addr();
    let base = format!("http://{addr}");
    let engine = app.engine().clone();
    if engine
        .list_applications()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .is_empty()
    {
        let created = engine
            .create_application("default")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("cannot create the default application")?;
        println!("First start: created a default application.");
        print_credentials(&created, Some(&base));
        println!();
    }
    println!("hubbub listening on {base} (docs: {base}/docs)");
    let _ = std::io::stdout().flush();
    app.run_until(stop).await?;
    tracing::info!("stopped");
    Ok(())
}
