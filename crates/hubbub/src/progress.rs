//! Progress of long CLI work (imports, exports): a bar on a terminal, plain lines
//! every few seconds otherwise (logs, CI, pipes).

use hubbub_core::model::JobProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Seconds between two plain progress lines.
const PLAIN_EVERY: Duration = Duration::from_secs(2);

/// Where progress goes: stdout, or stderr when stdout carries data (an export to `-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

pub struct Progress {
    bar: Option<ProgressBar>,
    stream: Stream,
    verb: &'static str,
    noun: &'static str,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// `verb` and `noun` word the plain lines: "imported 1200/5000 messages".
    pub fn new(stream: Stream, verb: &'static str, noun: &'static str) -> Self {
        let tty = match stream {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        };
        let bar = tty.then(|| {
            let target = match stream {
                Stream::Stdout => ProgressDrawTarget::stdout(),
                Stream::Stderr => ProgressDrawTarget::stderr(),
            };
            let bar = ProgressBar::with_draw_target(None, target);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix} [{bar:32}] {human_pos}/{human_len} {msg} · {per_sec} · eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{verb} {noun}"));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            stream,
            verb,
            noun,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    pub fn update(&mut self, p: &JobProgress) {
        if let Some(bar) = &self.bar {
            if let Some(total) = p.total {
                bar.set_length(total);
            }
            bar.set_position(p.processed);
            bar.set_message(if p.failed > 0 {
                format!("({} failed)", p.failed)
            } else {
                String::new()
            });
        } else if self.last_line.elapsed() >= PLAIN_EVERY {
            self.last_line = Instant::now();
            self.line(p);
        }
    }

    fn line(&self, p: &JobProgress) {
        let total = p.total.map_or_else(|| "?".to_owned(), |t| t.to_string());
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let text = format!(
            "{} {}/{} {} ({} failed, {:.0}/s)",
            self.verb,
            p.processed,
            total,
            self.noun,
            p.failed,
            p.processed as f64 / secs
        );
        match self.stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
            Stream::Stderr => eprintln!("{text}"),
        }
    }

    /// Clears the bar (the caller prints the summary).
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
