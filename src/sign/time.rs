//! The moment a signature claims, given by the caller from the record — never read from the
//! clock, so the same record signs to the same bytes on any day.

use std::fmt;
use std::time::Duration;

use anyhow::{Result, bail};
use x509_cert::time::Time;

use crate::date::Date;

/// A moment: seconds since 1970-01-01T00:00:00Z, and the offset from UTC it is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningTime {
    unix: i64,
    offset_minutes: i32,
}

impl SigningTime {
    /// `date` at `hour:minute:second` in the time zone `offset_minutes` east of UTC.
    pub fn new(
        date: Date,
        hour: u8,
        minute: u8,
        second: u8,
        offset_minutes: i32,
    ) -> Result<SigningTime> {
        if hour > 23 || minute > 59 || second > 59 || offset_minutes.abs() > 14 * 60 {
            bail!("{hour:02}:{minute:02}:{second:02} {offset_minutes:+} min is not a time of day");
        }
        let local = date.to_days() * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second);
        let unix = local - i64::from(offset_minutes) * 60;
        if unix < 0 {
            bail!("signing times before 1970 are not supported");
        }
        Ok(SigningTime {
            unix,
            offset_minutes,
        })
    }

    /// The signing time of a document issued on `date`: noon there, so the date reads the
    /// same in every time zone from UTC−11 to UTC+11 (midnight at UTC+5 would show as the
    /// previous evening to a verifier running on UTC).
    pub fn issue_date(date: Date, offset_minutes: i32) -> Result<SigningTime> {
        SigningTime::new(date, 12, 0, 0, offset_minutes)
    }

    /// The moment `time` (a certificate's or CRL's), written in UTC.
    pub fn from_x509(time: &Time) -> SigningTime {
        SigningTime {
            unix: time.to_unix_duration().as_secs() as i64,
            offset_minutes: 0,
        }
    }

    pub fn unix_seconds(self) -> i64 {
        self.unix
    }

    /// The local calendar date and time of day.
    fn local(self) -> (Date, u32) {
        let local = self.unix + i64::from(self.offset_minutes) * 60;
        let date = Date::from_days(local.div_euclid(86_400)).expect("a date after 1970");
        (date, local.rem_euclid(86_400) as u32)
    }

    /// The PDF date string (ISO 32000-1 §7.9.4): `D:20261124120000+05'00'`.
    pub fn pdf_date(self) -> String {
        let (date, secs) = self.local();
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let off = self.offset_minutes.unsigned_abs();
        format!(
            "D:{:04}{:02}{:02}{:02}{:02}{:02}{sign}{:02}'{:02}'",
            date.year(),
            date.month(),
            date.day(),
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            off / 60,
            off % 60
        )
    }

    /// The same moment as an X.509 time, for comparing with certificates.
    pub fn to_duration(self) -> Duration {
        Duration::from_secs(self.unix as u64)
    }

    /// Reads a PDF date string (`D:YYYYMMDDHHmmSS+HH'mm'`, later parts optional).
    pub fn parse_pdf_date(text: &str) -> Option<SigningTime> {
        let text = text.strip_prefix("D:").unwrap_or(text);
        let digits = |range: std::ops::Range<usize>, default: u32| -> Option<u32> {
            match text.get(range) {
                Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
                _ => Some(default),
            }
        };
        let year = text.get(0..4)?.parse().ok()?;
        let date = Date::new(year, digits(4..6, 1)? as u8, digits(6..8, 1)? as u8)?;
        let (h, m, s) = (digits(8..10, 0)?, digits(10..12, 0)?, digits(12..14, 0)?);
        let offset = match text.get(14..15) {
            Some(sign @ ("+" | "-")) => {
                let oh = text.get(15..17)?.parse::<i32>().ok()?;
                let om = text
                    .get(18..20)
                    .and_then(|m| m.parse::<i32>().ok())
                    .unwrap_or(0);
                if sign == "-" {
                    -(oh * 60 + om)
                } else {
                    oh * 60 + om
                }
            }
            _ => 0,
        };
        SigningTime::new(date, h as u8, m as u8, s as u8, offset).ok()
    }
}

impl fmt::Display for SigningTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (date, secs) = self.local();
        let off = self.offset_minutes.unsigned_abs();
        if self.offset_minutes == 0 {
            return write!(
                f,
                "{date} {:02}:{:02}:{:02} UTC",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
        }
        write!(
            f,
            "{date} {:02}:{:02}:{:02} {}{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            if self.offset_minutes < 0 { '-' } else { '+' },
            off / 60,
            off % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn noon_of_the_issue_date_in_astana() {
        let t = SigningTime::issue_date(date("2026-11-24"), 300).unwrap();
        assert_eq!(t.pdf_date(), "D:20261124120000+05'00'");
        assert_eq!(t.to_string(), "2026-11-24 12:00:00 +05:00");
        // 07:00 UTC.
        assert_eq!(t.unix_seconds() % 86_400, 7 * 3600);
    }

    #[test]
    fn pdf_dates_read_back() {
        let t = SigningTime::new(date("2026-01-02"), 3, 4, 5, -210).unwrap();
        assert_eq!(t.pdf_date(), "D:20260102030405-03'30'");
        assert_eq!(SigningTime::parse_pdf_date(&t.pdf_date()), Some(t));
        let utc = SigningTime::parse_pdf_date("D:20261124").unwrap();
        assert_eq!(utc.to_string(), "2026-11-24 00:00:00 UTC");
        assert_eq!(SigningTime::parse_pdf_date("D:20261324"), None);
    }

    #[test]
    fn nonsense_times_are_refused() {
        assert!(SigningTime::new(date("2026-01-01"), 24, 0, 0, 0).is_err());
        assert!(SigningTime::new(date("2026-01-01"), 0, 0, 0, 15 * 60).is_err());
        assert!(SigningTime::new(date("1969-12-31"), 12, 0, 0, 0).is_err());
    }
}
