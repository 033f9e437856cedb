//! Calendar dates and the ways Kazakh and Russian official documents write them.
//!
//! Documents carry dates, never times, so a plain proleptic-Gregorian `Date` is all the pipeline
//! needs. Nothing here reads the clock: "today" is always handed in by the caller.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar date (proleptic Gregorian).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Month names in the Kazakh attributive form ("…қарашадағы": "dated the … of November").
const KK_MONTHS_ATTRIBUTIVE: [&str; 12] = [
    "қаңтардағы",
    "ақпандағы",
    "наурыздағы",
    "сәуірдегі",
    "мамырдағы",
    "маусымдағы",
    "шілдедегі",
    "тамыздағы",
    "қыркүйектегі",
    "қазандағы",
    "қарашадағы",
    "желтоқсандағы",
];

/// Month names in the Kazakh nominative form ("22 қараша").
const KK_MONTHS: [&str; 12] = [
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
];

/// Month names in the Russian genitive ("22 ноября").
const RU_MONTHS_GENITIVE: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];

impl Date {
    /// A date, if `year-month-day` exists in the calendar (years 1..=9999).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before).
    pub fn to_days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01, if it lies within years 1..=9999.
    pub fn from_days(days: i64) -> Option<Date> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::new(i32::try_from(year).ok()?, month, day)
    }

    /// The date `n` days later (or earlier for negative `n`).
    pub fn add_days(self, n: i64) -> Option<Date> {
        Date::from_days(self.to_days() + n)
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (4).
        ((self.to_days() + 3).rem_euclid(7) + 1) as u8
    }

    /// `22.11.2026`, the numeric form used in tables and CSV extracts.
    pub fn dmy(self) -> String {
        let mut text = String::new();
        self.write_dmy(&mut text)
            .expect("writing to memory cannot fail");
        text
    }

    /// [`dmy`](Self::dmy), written to `out`.
    pub fn write_dmy(self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{:02}.{:02}.{:04}", self.day, self.month, self.year)
    }

    /// `2026 жылғы 22 қарашадағы`: the Kazakh attributive form ("dated …") that precedes a
    /// document's name or number.
    pub fn kk(self) -> String {
        let month = KK_MONTHS_ATTRIBUTIVE[usize::from(self.month - 1)];
        format!("{} жылғы {} {}", self.year, self.day, month)
    }

    /// `2026 жылғы 22 қараша`: the Kazakh form that stands on its own (a date line).
    pub fn kk_nominative(self) -> String {
        let month = KK_MONTHS[usize::from(self.month - 1)];
        format!("{} жылғы {} {}", self.year, self.day, month)
    }

    /// `22 ноября 2026 года`: the Russian form.
    pub fn ru(self) -> String {
        let month = RU_MONTHS_GENITIVE[usize::from(self.month - 1)];
        format!("{} {} {} года", self.day, month, self.year)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("expected a date as YYYY-MM-DD or DD.MM.YYYY, found {0:?}")]
    Format(String),
    #[error("{0:?} is not a day of the calendar")]
    NoSuchDay(String),
}

impl FromStr for Date {
    type Err = DateError;

    /// Accepts ISO `2026-11-22` and the Kazakh/Russian numeric `22.11.2026`.
    fn from_str(text: &str) -> Result<Date, DateError> {
        let format_error = || DateError::Format(text.to_string());
        let digits = |s: &str, n: usize| -> Result<u32, DateError> {
            if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().map_err(|_| format_error())
            } else {
                Err(format_error())
            }
        };
        let parts: Vec<&str>;
        let (y, m, d) = if text.contains('-') {
            parts = text.split('-').collect();
            if parts.len() != 3 {
                return Err(format_error());
            }
            (
                digits(parts[0], 4)?,
                digits(parts[1], 2)?,
                digits(parts[2], 2)?,
            )
        } else if text.contains('.') {
            parts = text.split('.').collect();
            if parts.len() != 3 {
                return Err(format_error());
            }
            (
                digits(parts[2], 4)?,
                digits(parts[1], 2)?,
                digits(parts[0], 2)?,
            )
        } else {
            return Err(format_error());
        };
        Date::new(y as i32, m as u8, d as u8).ok_or_else(|| DateError::NoSuchDay(text.to_string()))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn kazakh_attributive_form_for_every_month() {
        let expected = [
            "2026 жылғы 5 қаңтардағы",
            "2026 жылғы 5 ақпандағы",
            "2026 жылғы 5 наурыздағы",
            "2026 жылғы 5 сәуірдегі",
            "2026 жылғы 5 мамырдағы",
            "2026 жылғы 5 маусымдағы",
            "2026 жылғы 5 шілдедегі",
            "2026 жылғы 5 тамыздағы",
            "2026 жылғы 5 қыркүйектегі",
            "2026 жылғы 5 қазандағы",
            "2026 жылғы 5 қарашадағы",
            "2026 жылғы 5 желтоқсандағы",
        ];
        for (month, want) in (1..=12).zip(expected) {
            assert_eq!(Date::new(2026, month, 5).unwrap().kk(), want);
        }
        assert_eq!(d("2026-11-22").kk(), "2026 жылғы 22 қарашадағы");
    }

    #[test]
    fn kazakh_nominative_form_for_every_month() {
        let expected = [
            "қаңтар",
            "ақпан",
            "наурыз",
            "сәуір",
            "мамыр",
            "маусым",
            "шілде",
            "тамыз",
            "қыркүйек",
            "қазан",
            "қараша",
            "желтоқсан",
        ];
        for (month, want) in (1..=12).zip(expected) {
            let date = Date::new(2025, month, 31.min(days_in_month(2025, month))).unwrap();
            assert_eq!(
                date.kk_nominative(),
                format!("2025 жылғы {} {want}", date.day())
            );
        }
    }

    #[test]
    fn russian_genitive_form_for_every_month() {
        let expected = [
            "1 января 2026 года",
            "1 февраля 2026 года",
            "1 марта 2026 года",
            "1 апреля 2026 года",
            "1 мая 2026 года",
            "1 июня 2026 года",
            "1 июля 2026 года",
            "1 августа 2026 года",
            "1 сентября 2026 года",
            "1 октября 2026 года",
            "1 ноября 2026 года",
            "1 декабря 2026 года",
        ];
        for (month, want) in (1..=12).zip(expected) {
            assert_eq!(Date::new(2026, month, 1).unwrap().ru(), want);
        }
        assert_eq!(d("2026-11-22").ru(), "22 ноября 2026 года");
    }

    #[test]
    fn numeric_form() {
        assert_eq!(d("2026-03-09").dmy(), "09.03.2026");
    }

    #[test]
    fn parses_iso_and_dotted_forms() {
        assert_eq!(d("22.11.2026"), d("2026-11-22"));
        assert_eq!(Date::new(2024, 2, 29), Some(d("2024-02-29")));
    }

    #[test]
    fn rejects_impossible_days_and_bad_forms() {
        for bad in [
            "2025-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "31.06.2026",
        ] {
            assert!(
                matches!(bad.parse::<Date>(), Err(DateError::NoSuchDay(_))),
                "{bad}"
            );
        }
        for bad in [
            "2026-1-1",
            "20261122",
            "",
            "2026-11-22T00:00",
            "22/11/2026",
            "２０２６-11-22",
        ] {
            assert!(
                matches!(bad.parse::<Date>(), Err(DateError::Format(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(d("1970-01-01").to_days(), 0);
        assert_eq!(d("2000-03-01").to_days(), 11_017);
        let mut date = d("1999-12-25");
        for _ in 0..4000 {
            let next = date.add_days(1).unwrap();
            assert_eq!(next.to_days(), date.to_days() + 1);
            assert_eq!(Date::from_days(next.to_days()), Some(next));
            assert!(next > date);
            date = next;
        }
    }

    #[test]
    fn weekdays() {
        assert_eq!(d("2026-11-25").weekday(), 3); // Wednesday
        assert_eq!(d("2026-03-22").weekday(), 7); // Sunday
        assert_eq!(d("2024-02-29").weekday(), 4); // Thursday
    }
}
