//! Telling the operator how far a batch is: a progress bar on a terminal, a plain line every
//! ten seconds when stderr is not one (cron, a log file; each line stamped with the time, see
//! [`crate::log`]), nothing with `--quiet`. The clock read here only paces and stamps these
//! messages; nothing of it reaches a document.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How a batch reports its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on a terminal, log lines otherwise.
    Auto,
    /// Log lines, terminal or not.
    Log,
    Quiet,
}

/// The progress of the documents of one batch.
pub struct Progress {
    kind: Kind,
    total: u64,
    done: u64,
}

enum Kind {
    Bar(indicatif::ProgressBar),
    Log { started: Instant, last: Instant },
    Quiet,
}

/// How often a log line is written.
const LOG_EVERY: Duration = Duration::from_secs(10);

impl Progress {
    pub fn new(mode: ProgressMode, total: u64) -> Progress {
        let kind = match mode {
            ProgressMode::Quiet => Kind::Quiet,
            _ if total == 0 => Kind::Quiet,
            ProgressMode::Auto if std::io::stderr().is_terminal() => {
                let bar = indicatif::ProgressBar::new(total);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{wide_bar} {pos}/{len} documents, {per_sec}, {eta} left",
                    )
                    .expect("the template is valid"),
                );
                Kind::Bar(bar)
            }
            _ => {
                let now = Instant::now();
                crate::log::lines(format_args!("qujat batch: {total} documents to issue"));
                Kind::Log {
                    started: now,
                    last: now,
                }
            }
        };
        Progress {
            kind,
            total,
            done: 0,
        }
    }

    /// One more document is done (issued, or refused by the engine).
    pub fn inc(&mut self) {
        self.done += 1;
        match &mut self.kind {
            Kind::Bar(bar) => bar.inc(1),
            Kind::Log { started, last } => {
                if last.elapsed() >= LOG_EVERY {
                    *last = Instant::now();
                    crate::log::lines(log_line(self.done, self.total, started.elapsed()));
                }
            }
            Kind::Quiet => {}
        }
    }

    /// The documents are all done: the bar is cleared, the log gets its last line.
    pub fn finish(&mut self) {
        match &self.kind {
            Kind::Bar(bar) => bar.finish_and_clear(),
            Kind::Log { started, .. } => {
                crate::log::lines(log_line(self.done, self.total, started.elapsed()))
            }
            Kind::Quiet => {}
        }
    }
}

/// `qujat batch: 1200/5000 documents (24%), 180.2/s, about 21 s left`.
fn log_line(done: u64, total: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        done as f64 / seconds
    } else {
        0.0
    };
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let mut line = format!("qujat batch: {done}/{total} documents ({percent}%), {rate:.1}/s");
    if done < total && rate > 0.0 {
        let left = (total - done) as f64 / rate;
        line.push_str(&format!(", about {left:.0} s left"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_say_how_far_how_fast_and_how_long() {
        assert_eq!(
            log_line(1200, 5000, Duration::from_secs(10)),
            "qujat batch: 1200/5000 documents (24%), 120.0/s, about 32 s left"
        );
        assert_eq!(
            log_line(5000, 5000, Duration::from_secs(20)),
            "qujat batch: 5000/5000 documents (100%), 250.0/s"
        );
    }
}
