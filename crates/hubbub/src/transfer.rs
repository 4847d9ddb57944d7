//! `hubbub import ...` and `hubbub export ...`: imports and exports run by the CLI on
//! the configured database, through the same engine paths as the REST API (a server
//! may be running on the same database meanwhile). Imports are recorded as jobs, so a
//! running server lists them too.

use crate::config::Config;
use crate::progress::{Progress, Stream};
use crate::startup;
use anyhow::{Context, anyhow, bail};
use clap::{Args, ValueEnum};
use hubbub_core::Engine;
use hubbub_core::engine::{Actor, ExportKind, ImportKind};
use hubbub_core::ids::ChannelId;
use hubbub_core::model::{Job, JobProgress, JobState};
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportWhat {
    Users,
    Channels,
    Members,
    Messages,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportWhat {
    Messages,
    Users,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds.
    pub what: ImportWhat,
    /// A JSON array of ChatKitty import models (ChatUserImport, ChannelImport,
    /// ChannelMembershipImport or MessageImport).
    pub file: PathBuf,
    /// The channel to add members to (`import members` only).
    #[arg(long, value_name = "ID")]
    pub channel: Option<i64>,
    /// The application's client_id (or name); may be left out when there is one.
    #[arg(long, value_name = "CLIENT_ID")]
    pub app: Option<String>,
    /// Print the finished job as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export, as JSON Lines.
    pub what: ExportWhat,
    /// Output file; standard output when left out or `-`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The application's client_id (or name); may be left out when there is one.
    #[arg(long, value_name = "CLIENT_ID")]
    pub app: Option<String>,
}

/// The application named by `--app`, or the only one.
async fn application(engine: &Engine, app: Option<&str>) -> anyhow::Result<Actor> {
    let apps = engine
        .list_applications()
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let found = match app {
        Some(wanted) => apps
            .iter()
            .find(|a| a.client_id == wanted)
            .or_else(|| apps.iter().find(|a| a.name == wanted))
            .ok_or_else(|| anyhow!("no application with client_id or name {wanted:?}"))?,
        None => match apps.as_slice() {
            [only] => only,
            [] => bail!("there is no application yet: create one with `hubbub app create`"),
            _ => bail!(
                "there are {} applications: choose one with --app CLIENT_ID (see `hubbub app list`)",
                apps.len()
            ),
        },
    };
    Ok(Actor::App(found.id))
}

/// Runs `work` while drawing its progress; Ctrl-C gives up this process's jobs
/// (marked interrupted) and stops.
async fn with_progress<T>(
    engine: &Engine,
    mut progress: Progress,
    mut rx: watch::Receiver<JobProgress>,
    work: impl Future<Output = T>,
) -> anyhow::Result<T> {
    tokio::pin!(work);
    let mut watching = true;
    let out = loop {
        tokio::select! {
            biased;
            done = &mut work => break done,
            _ = tokio::signal::ctrl_c() => {
                progress.finish();
                engine.stop_jobs().await;
                bail!("interrupted");
            }
            changed = rx.changed(), if watching => match changed {
                Ok(()) => progress.update(&rx.borrow_and_update()),
                Err(_) => watching = false,
            },
        }
    };
    progress.update(&rx.borrow());
    progress.finish();
    Ok(out)
}

pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let kind = match (args.what, args.channel) {
        (ImportWhat::Members, Some(c)) => ImportKind::Members(ChannelId(c)),
        (ImportWhat::Members, None) => bail!("`import members` needs --channel ID"),
        (_, Some(_)) => bail!("--channel is only for `import members`"),
        (ImportWhat::Users, None) => ImportKind::Users,
        (ImportWhat::Channels, None) => ImportKind::Channels,
        (ImportWhat::Messages, None) => ImportKind::Messages,
    };
    let noun = match args.what {
        ImportWhat::Users => "users",
        ImportWhat::Channels => "channels",
        ImportWhat::Members => "members",
        ImportWhat::Messages => "messages",
    };
    if !args.file.is_file() {
        bail!("{} is not a readable file", args.file.display());
    }
    let engine = startup::engine(config, startup::open_store(config).await?);
    let actor = application(&engine, args.app.as_deref()).await?;
    let keeper = engine.start_job_keeper();
    let started = Instant::now();
    let (tx, rx) = watch::channel(JobProgress::default());
    let work = engine.import_file(&actor, kind, &args.file, Some(tx));
    // With --json, standard output carries only the job.
    let stream = if args.json {
        Stream::Stderr
    } else {
        Stream::Stdout
    };
    let progress = Progress::new(stream, "imported", noun);
    let result = with_progress(&engine, progress, rx, work).await;
    keeper.abort();
    let job = result?.map_err(|e| anyhow!("{e}"))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&job).context("encoding the job")?
        );
    } else {
        print_summary(&job, noun, started.elapsed().as_secs_f64());
    }
    match job.state {
        JobState::Finished if job.progress.failed == 0 => Ok(()),
        JobState::Finished => Err(anyhow!(
            "{} of {} {noun} could not be imported (job {})",
            job.progress.failed,
            job.progress.processed,
            job.id
        )),
        _ => Err(anyhow!(
            "import job {} {}: {}",
            job.id,
            job.state.as_str(),
            job.failure.as_deref().unwrap_or("no reason recorded")
        )),
    }
}

fn print_summary(job: &Job, noun: &str, secs: f64) {
    let p = &job.progress;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "job {} {}: {} of {} {noun} imported in {:.1} s ({:.0}/s): {} new, {} already imported, {} failed",
        job.id,
        job.state.as_str(),
        p.succeeded,
        p.total.unwrap_or(p.processed),
        secs,
        p.processed as f64 / secs.max(0.001),
        p.succeeded - p.duplicates,
        p.duplicates,
        p.failed
    );
    for e in &job.errors {
        let _ = writeln!(out, "  item {}: {}", e.index, e.reason);
    }
    if p.failed > job.errors.len() as u64 {
        let _ = writeln!(
            out,
            "  ... and {} more failures",
            p.failed - job.errors.len() as u64
        );
    }
    if let Some(f) = &job.failure {
        let _ = writeln!(out, "  stopped: {f}");
    }
}

pub async fn export(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let (kind, noun) = match args.what {
        ExportWhat::Messages => (ExportKind::Messages, "messages"),
        ExportWhat::Users => (ExportKind::Users, "users"),
    };
    let engine: Arc<Engine> = startup::engine(config, startup::open_store(config).await?);
    let actor = application(&engine, args.app.as_deref()).await?;
    let to_file = args.out.as_ref().filter(|p| p.as_os_str() != "-");
    let started = Instant::now();
    let (tx, rx) = watch::channel(JobProgress::default());
    let rows = match to_file {
        Some(path) => {
            let part = path.with_extension("part");
            let mut file = tokio::fs::File::create(&part)
                .await
                .with_context(|| format!("cannot create {}", part.display()))?;
            let work = engine.export_to(&actor, kind, &mut file, Some(tx));
            let progress = Progress::new(Stream::Stdout, "exported", noun);
            let rows = with_progress(&engine, progress, rx, work).await;
            let rows = match rows {
                Ok(Ok(rows)) => rows,
                Ok(Err(e)) => {
                    let _ = tokio::fs::remove_file(&part).await;
                    bail!("{e}")
                }
                Err(e) => {
                    let _ = tokio::fs::remove_file(&part).await;
                    return Err(e);
                }
            };
            file.sync_all().await.context("writing the export")?;
            tokio::fs::rename(&part, path)
                .await
                .with_context(|| format!("cannot rename to {}", path.display()))?;
            rows
        }
        None => {
            let mut stdout = tokio::io::stdout();
            let work = engine.export_to(&actor, kind, &mut stdout, Some(tx));
            let progress = Progress::new(Stream::Stderr, "exported", noun);
            with_progress(&engine, progress, rx, work)
                .await?
                .map_err(|e| anyhow!("{e}"))?
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let summary = format!(
        "exported {rows} {noun}{} in {secs:.1} s",
        to_file.map_or_else(String::new, |p| format!(" to {}", p.display()))
    );
    if to_file.is_some() {
        println!("{summary}");
    } else {
        eprintln!("{summary}");
    }
    Ok(())
}
