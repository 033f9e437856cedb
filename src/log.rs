//! The batch's lines for the operator on standard error: progress, the summary, warnings. When
//! standard error is not a terminal (cron, a systemd unit, a log file) every line begins with
//! the moment it was written, at the ministry's UTC offset, so a log can be read back in time;
//! on a terminal they are plain.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use crate::clock::Moment;

static STAMPED: AtomicBool = AtomicBool::new(false);
static OFFSET: AtomicI64 = AtomicI64::new(0);

/// Lines are stamped from now on if standard error is not a terminal, at `offset` minutes east
/// of UTC.
pub fn init(offset: i64) {
    OFFSET.store(offset, Ordering::Relaxed);
    STAMPED.store(!std::io::stderr().is_terminal(), Ordering::Relaxed);
}

/// Writes `text` to standard error, each of its lines stamped if lines are.
pub fn lines(text: impl Display) {
    let text = text.to_string();
    let stamp = STAMPED
        .load(Ordering::Relaxed)
        .then(|| Moment::now(OFFSET.load(Ordering::Relaxed)).ok())
        .flatten()
        .map(Moment::rfc3339);
    let out = stamped(&text, stamp.as_deref());
    // One write, so lines from two threads never interleave within a line.
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

/// `text` with `stamp` and a space before each line, every line ending in a line break.
fn stamped(text: &str, stamp: Option<&str>) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    for line in text.lines() {
        if let Some(stamp) = stamp {
            out.push_str(stamp);
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_gets_the_stamp() {
        assert_eq!(
            stamped(
                "qujat batch: 3 cases\n  issued 3\n",
                Some("2026-11-25T01:45:12+05:00")
            ),
            "2026-11-25T01:45:12+05:00 qujat batch: 3 cases\n\
             2026-11-25T01:45:12+05:00   issued 3\n"
        );
        assert_eq!(stamped("a\nb", None), "a\nb\n");
    }
}
