//! The wall clock, at the ministry's UTC offset: read for the run date when none is given, for
//! the start and end of a run in its report, for the run report's file name and for log lines.
//! Never on the path from a case to a document or a record: those take their dates from the
//! case and the run date.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use crate::date::Date;

/// A moment read from the clock, with the offset it is shown at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
    /// Minutes east of UTC.
    pub offset: i64,
}

impl Moment {
    /// Now, shown at `offset` minutes east of UTC.
    pub fn now(offset: i64) -> Result<Moment> {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_secs() as i64;
        Ok(Moment { unix, offset })
    }

    /// The local date and the seconds since its midnight.
    fn local(self) -> (Date, i64) {
        let local = self.unix + self.offset * 60;
        let date = Date::from_days(local.div_euclid(86_400)).unwrap_or_else(|| {
            // Out of the calendar's range: only a broken clock gets here; show the epoch.
            Date::new(1970, 1, 1).expect("a valid date")
        });
        (date, local.rem_euclid(86_400))
    }

    /// The local date.
    pub fn date(self) -> Date {
        self.local().0
    }

    /// `2026-11-25T01:45:12+05:00` (RFC 3339).
    pub fn rfc3339(self) -> String {
        let (date, seconds) = self.local();
        let sign = if self.offset < 0 { '-' } else { '+' };
        let offset = self.offset.abs();
        format!(
            "{date}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60,
            offset / 60,
            offset % 60
        )
    }

    /// `2026-11-25-01-45-12`: a file name's part that sorts in time order.
    pub fn file_stamp(self) -> String {
        let (date, seconds) = self.local();
        format!(
            "{date}-{:02}-{:02}-{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_read_at_the_ministry_offset() {
        // 2026-11-24T20:45:12Z is 01:45:12 the next day in Astana.
        let moment = Moment {
            unix: 1_795_553_112,
            offset: 300,
        };
        assert_eq!(moment.rfc3339(), "2026-11-25T01:45:12+05:00");
        assert_eq!(moment.file_stamp(), "2026-11-25-01-45-12");
        assert_eq!(moment.date().to_string(), "2026-11-25");
        let west = Moment {
            unix: 1_795_553_112,
            offset: -210,
        };
        assert_eq!(west.rfc3339(), "2026-11-24T17:15:12-03:30");
        let now = Moment::now(300).unwrap();
        assert!(now.date().year() >= 2025, "{}", now.rfc3339());
    }
}
