//! The Kazakhstan working calendar, as data (`catalogue/calendar.toml`), and statutory deadlines
//! counted on it.
//!
//! A day is a day off when it is a Saturday or Sunday, a public holiday, a holiday carried over
//! from a weekend (Labour Code art. 85: a holiday falling on a day off moves to the next working
//! day, except the religious ones), or a weekday the government made a day off by a transfer;
//! a weekend day a transfer made working is a working day.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, ensure};
use serde::{Deserialize, Serialize};

use super::Bilingual;
use crate::date::Date;

/// A public holiday that falls on the same day every year.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixedHoliday {
    /// `MM-DD`.
    date: String,
    name: Bilingual,
    /// Whether it moves to the next working day when it falls on a Saturday or Sunday.
    carry_over: bool,
    /// The first and last years it was a holiday, when it was not always one.
    #[serde(default)]
    since: Option<i32>,
    #[serde(default)]
    until: Option<i32>,
}

/// A government transfer: `work` (a weekend day) becomes a working day, `rest` a day off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    work: Date,
    rest: Date,
}

/// What one year adds: holidays whose date moves (Kurban ait) and transfers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    #[serde(default)]
    holidays: Vec<Date>,
    #[serde(default)]
    transfers: Vec<Transfer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CalendarFile {
    holidays: Vec<FixedHoliday>,
    #[serde(default)]
    years: BTreeMap<String, YearFile>,
}

/// How a deadline is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Count {
    /// Working days after the application date.
    Working,
    /// Calendar days after the application date; a term ending on a day off ends on the next
    /// working day (Civil Code art. 173).
    Calendar,
}

/// A statutory term for a service.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub days: u32,
    pub count: Count,
}

/// The years the calendar is worked out for; a date outside counts only weekends and the
/// fixed holidays' dates without carry-over (no deadline reaches that far in practice).
const FIRST_YEAR: i32 = 1995;
const LAST_YEAR: i32 = 2100;

/// Days off and working weekend days, worked out once at load.
#[derive(Debug, Default)]
pub struct Calendar {
    days_off: BTreeSet<Date>,
    working_weekends: BTreeSet<Date>,
}

impl Calendar {
    pub(super) fn from_file(file: CalendarFile) -> Result<Calendar> {
        let mut fixed = Vec::new();
        for holiday in &file.holidays {
            let md = holiday
                .date
                .split_once('-')
                .and_then(|(m, d)| Some((m.parse::<u8>().ok()?, d.parse::<u8>().ok()?)))
                .filter(|&(m, d)| Date::new(2000, m, d).is_some())
                .with_context(|| {
                    format!(
                        "holiday {:?}: date {:?} must be MM-DD",
                        holiday.name.ru, holiday.date
                    )
                })?;
            let years = holiday.since.unwrap_or(FIRST_YEAR)..=holiday.until.unwrap_or(LAST_YEAR);
            fixed.push((md, holiday.carry_over, years));
        }
        let mut years = BTreeMap::new();
        for (year, data) in &file.years {
            let year: i32 = year
                .parse()
                .with_context(|| format!("[years.{year}]: not a year"))?;
            for date in data
                .holidays
                .iter()
                .chain(data.transfers.iter().flat_map(|t| [&t.work, &t.rest]))
            {
                ensure!(
                    date.year() == year,
                    "[years.{year}]: {date} is not in {year}"
                );
            }
            for transfer in &data.transfers {
                ensure!(
                    is_weekend(transfer.work) && !is_weekend(transfer.rest),
                    "[years.{year}]: a transfer makes a Saturday or Sunday working ({} is not \
                     one) and a weekday a day off ({} is not one)",
                    transfer.work,
                    transfer.rest
                );
            }
            years.insert(year, data.clone());
        }

        let mut calendar = Calendar::default();
        for year in FIRST_YEAR..=LAST_YEAR {
            let extra = years.get(&year).cloned().unwrap_or_default();
            for transfer in &extra.transfers {
                calendar.working_weekends.insert(transfer.work);
                calendar.days_off.insert(transfer.rest);
            }
            let mut carried = Vec::new();
            for ((month, day), carry_over, years) in &fixed {
                let Some(date) = Date::new(year, *month, *day).filter(|_| years.contains(&year))
                else {
                    continue;
                };
                calendar.days_off.insert(date);
                if *carry_over && is_weekend(date) {
                    carried.push(date);
                }
            }
            calendar.days_off.extend(extra.holidays.iter().copied());
            // Each holiday on a weekend gives the first working day after it that is not
            // already a day off; consecutive ones (Nauryz on Saturday and Sunday) take
            // consecutive days.
            carried.sort();
            for date in carried {
                let mut day = date;
                loop {
                    day = day.add_days(1).expect("calendar years are in range");
                    if calendar.is_working(day) {
                        break;
                    }
                }
                calendar.days_off.insert(day);
            }
        }
        Ok(calendar)
    }

    /// Whether `date` is a working day.
    pub fn is_working(&self, date: Date) -> bool {
        if self.days_off.contains(&date) {
            return false;
        }
        !is_weekend(date) || self.working_weekends.contains(&date)
    }

    /// The last day of a term of `deadline` starting the day after `from`.
    pub fn due(&self, from: Date, deadline: Deadline) -> Date {
        let next = |d: Date| d.add_days(1).expect("dates stay in range");
        let mut day = from;
        match deadline.count {
            Count::Working => {
                let mut left = deadline.days;
                while left > 0 {
                    day = next(day);
                    if self.is_working(day) {
                        left -= 1;
                    }
                }
            }
            Count::Calendar => {
                day = day
                    .add_days(i64::from(deadline.days))
                    .expect("dates stay in range");
                while !self.is_working(day) {
                    day = next(day);
                }
            }
        }
        day
    }
}

fn is_weekend(date: Date) -> bool {
    date.weekday() >= 6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// The shipped calendar.
    fn shipped() -> Calendar {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue/calendar.toml"),
        )
        .unwrap();
        Calendar::from_file(toml::from_str(&text).unwrap()).unwrap()
    }

    fn working(days: u32) -> Deadline {
        Deadline {
            days,
            count: Count::Working,
        }
    }

    #[test]
    fn new_year_days_are_off_and_christmas_is_not_carried_over() {
        let c = shipped();
        // 2026: 1–2 January Thursday–Friday, 7 January (Orthodox Christmas) a Wednesday.
        assert!(!c.is_working(d("2026-01-01")));
        assert!(!c.is_working(d("2026-01-02")));
        assert!(!c.is_working(d("2026-01-07")));
        assert!(c.is_working(d("2026-01-05")));
        assert!(c.is_working(d("2026-01-08")));
        // 2027: 2 January is a Saturday, so Monday 4 January is a day off.
        assert!(!c.is_working(d("2027-01-04")));
        assert!(c.is_working(d("2027-01-05")));
        // 2023: 7 January was a Saturday; Christmas is not carried over.
        assert!(c.is_working(d("2023-01-09")));
    }

    #[test]
    fn nauryz_on_a_weekend_is_carried_over_day_by_day() {
        let c = shipped();
        // 2026: 21 March is a Saturday, 22 a Sunday, 23 a Monday: days off 21–25 March.
        for day in 21..=25 {
            assert!(
                !c.is_working(Date::new(2026, 3, day).unwrap()),
                "{day} March"
            );
        }
        assert!(c.is_working(d("2026-03-26")));
        // 2025: 21 March Friday, 22–23 on the weekend: Monday 24 and Tuesday 25 off.
        assert!(!c.is_working(d("2025-03-24")));
        assert!(!c.is_working(d("2025-03-25")));
        assert!(c.is_working(d("2025-03-26")));
    }

    #[test]
    fn working_days_are_counted_across_new_year() {
        let c = shipped();
        // Application on Monday 29 December 2025: 30, 31 Dec, (1, 2 Jan holidays, 3–4 weekend),
        // 5, 6 Jan, (7 Jan Christmas), 8, 9, 12 … so 5 working days end on Thursday 8 January.
        assert_eq!(c.due(d("2025-12-29"), working(5)), d("2026-01-08"));
        // Application on 30 December 2026: 31 Dec, (1 Jan Fri, 2–3 weekend, 4 Jan carried over
        // from Saturday 2 January), 5, 6, (7 Christmas), 8 → 4 working days end on 8 January.
        assert_eq!(c.due(d("2026-12-30"), working(4)), d("2027-01-08"));
    }

    #[test]
    fn working_days_are_counted_across_nauryz() {
        let c = shipped();
        // Application on Friday 20 March 2026: 21–25 March are off; 26, 27, 30, 31 March, 1 April.
        assert_eq!(c.due(d("2026-03-20"), working(5)), d("2026-04-01"));
        assert_eq!(c.due(d("2026-03-20"), working(1)), d("2026-03-26"));
    }

    #[test]
    fn a_calendar_term_ending_on_a_day_off_ends_on_the_next_working_day() {
        let c = shipped();
        let calendar = |days| Deadline {
            days,
            count: Count::Calendar,
        };
        // 15 days after 6 March 2026 is Saturday 21 March: Nauryz runs to the 25th.
        assert_eq!(c.due(d("2026-03-06"), calendar(15)), d("2026-03-26"));
        // An ordinary term ends where it falls.
        assert_eq!(c.due(d("2026-11-02"), calendar(15)), d("2026-11-17"));
    }

    #[test]
    fn transfers_swap_a_weekend_day_and_a_weekday() {
        let file: CalendarFile = toml::from_str(
            r#"
            holidays = [{ date = "01-01", name = { kk = "Жаңа жыл", ru = "Новый год" }, carry_over = true }]
            [years.2030]
            transfers = [{ work = "2030-01-05", rest = "2030-01-03" }]
            "#,
        )
        .unwrap();
        let c = Calendar::from_file(file).unwrap();
        assert!(!c.is_working(d("2030-01-03")));
        assert!(c.is_working(d("2030-01-05")));
        // From Wednesday 2 January: Thursday 3 is off, Friday 4 and Saturday 5 are working.
        assert_eq!(c.due(d("2030-01-02"), working(2)), d("2030-01-05"));
    }

    #[test]
    fn a_transfer_the_wrong_way_round_is_refused() {
        let file: CalendarFile = toml::from_str(
            r#"
            holidays = []
            [years.2030]
            transfers = [{ work = "2030-01-03", rest = "2030-01-05" }]
            "#,
        )
        .unwrap();
        let err = Calendar::from_file(file).unwrap_err().to_string();
        assert!(err.contains("2030-01-03"), "{err}");
    }
}
