//! A service's statutory terms as data, by date: each rule of the regulations with the day it
//! took effect and the text it comes from. A case is counted by the rule in force on its
//! application date, so a change of the regulations never moves the due date of an earlier
//! application.
//!
//! A rule is one term (`days = 15, count = "calendar"`) or a term in stages counted one after
//! the other (`stages = [{ days = 2, count = "working" }, { days = 7, count = "working" }]`:
//! two working days to check the documents, then seven to decide).

use anyhow::{Result, ensure};
use serde::Deserialize;

use super::calendar::{Calendar, Count, Deadline};
use crate::date::Date;

/// One rule of a service's term as `deadlines` in a service file gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    from: Date,
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    count: Option<Count>,
    #[serde(default)]
    stages: Option<Vec<Deadline>>,
    source: String,
    #[serde(default)]
    unverified: Option<String>,
}

/// A term of the regulations, in force for applications from `from` until the next rule.
#[derive(Debug, Clone)]
pub struct DeadlineRule {
    /// The first application date the rule applies to.
    pub from: Date,
    /// The term's stages, counted one after the other from the application date.
    pub stages: Vec<Deadline>,
    /// The regulation (and its point) the term comes from.
    pub source: String,
    /// What of the rule is still to be checked against the official text, if anything.
    pub unverified: Option<String>,
}

impl DeadlineRule {
    /// The last day of the term for an application made on `applied`.
    pub fn due(&self, calendar: &Calendar, applied: Date) -> Date {
        self.stages
            .iter()
            .fold(applied, |day, stage| calendar.due(day, *stage))
    }

    /// The term in words: `15 calendar days`, `2 working + 7 working days`.
    pub fn describe(&self) -> String {
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|s| {
                let count = match s.count {
                    Count::Working => "working",
                    Count::Calendar => "calendar",
                };
                format!("{} {count}", s.days)
            })
            .collect();
        format!("{} days", stages.join(" + "))
    }
}

/// A service's rules, oldest first.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Vec<RuleFile>")]
pub struct Deadlines(Vec<DeadlineRule>);

impl TryFrom<Vec<RuleFile>> for Deadlines {
    type Error = anyhow::Error;

    fn try_from(rules: Vec<RuleFile>) -> Result<Deadlines> {
        ensure!(!rules.is_empty(), "a service needs at least one deadline");
        for pair in rules.windows(2) {
            ensure!(
                pair[0].from < pair[1].from,
                "deadlines must be in date order ({} then {})",
                pair[0].from,
                pair[1].from
            );
        }
        let mut out = Vec::with_capacity(rules.len());
        for rule in rules {
            let stages = match (rule.days, rule.count, rule.stages) {
                (Some(days), Some(count), None) => vec![Deadline { days, count }],
                (None, None, Some(stages)) => stages,
                _ => anyhow::bail!(
                    "the deadline from {} must give either `days` and `count`, or `stages`",
                    rule.from
                ),
            };
            ensure!(
                !stages.is_empty() && stages.iter().all(|s| s.days > 0),
                "the deadline from {}: every stage must be at least one day",
                rule.from
            );
            ensure!(
                !rule.source.trim().is_empty(),
                "the deadline from {} must name its source",
                rule.from
            );
            out.push(DeadlineRule {
                from: rule.from,
                stages,
                source: rule.source,
                unverified: rule.unverified,
            });
        }
        Ok(Deadlines(out))
    }
}

impl Deadlines {
    /// The rule in force for an application made on `applied`, if the catalogue reaches back
    /// that far.
    pub fn in_force(&self, applied: Date) -> Option<&DeadlineRule> {
        self.0.iter().rev().find(|r| r.from <= applied)
    }

    /// Every rule, oldest first.
    pub fn rules(&self) -> &[DeadlineRule] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn rules(text: &str) -> Result<Deadlines> {
        #[derive(Deserialize)]
        struct File {
            deadlines: Deadlines,
        }
        Ok(toml::from_str::<File>(text)?.deadlines)
    }

    fn calendar() -> Calendar {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue/calendar.toml"),
        )
        .unwrap();
        Calendar::from_file(toml::from_str(&text).unwrap()).unwrap()
    }

    #[test]
    fn a_case_is_counted_by_the_rule_in_force_on_its_application_date() {
        let deadlines = rules(
            r#"
            [[deadlines]]
            from = "2015-05-01"
            days = 15
            count = "calendar"
            source = "old"
            [[deadlines]]
            from = "2020-04-20"
            stages = [{ days = 2, count = "working" }, { days = 7, count = "working" }]
            source = "new"
            "#,
        )
        .unwrap();
        assert!(deadlines.in_force(d("2015-04-30")).is_none());
        assert_eq!(deadlines.in_force(d("2015-05-01")).unwrap().source, "old");
        assert_eq!(deadlines.in_force(d("2020-04-19")).unwrap().source, "old");
        let new = deadlines.in_force(d("2020-04-20")).unwrap();
        assert_eq!(new.source, "new");
        assert_eq!(new.describe(), "2 working + 7 working days");
        let c = calendar();
        // Monday 2 November 2026: 2 working days end on Wednesday 4, 7 more on Friday 13.
        assert_eq!(new.due(&c, d("2026-11-02")), d("2026-11-13"));
        // The old rule: 15 calendar days from 2 November 2019 is Sunday 17 November, so
        // Monday 18.
        let old = deadlines.in_force(d("2019-11-02")).unwrap();
        assert_eq!(old.due(&c, d("2019-11-02")), d("2019-11-18"));
    }

    #[test]
    fn calendar_stages_each_end_on_a_working_day() {
        let deadlines = rules(
            r#"
            [[deadlines]]
            from = "2020-01-01"
            stages = [{ days = 15, count = "calendar" }, { days = 3, count = "working" }]
            source = "s"
            "#,
        )
        .unwrap();
        let rule = deadlines.in_force(d("2026-03-06")).unwrap();
        // 15 days after 6 March 2026 is Saturday 21 March, Nauryz runs to the 25th: the first
        // stage ends on Thursday 26; three working days more end on Tuesday 31 March.
        assert_eq!(rule.due(&calendar(), d("2026-03-06")), d("2026-03-31"));
    }

    /// The shipped catalogue's term for `service` on an application of `applied`: its due date.
    fn shipped_due(service: &str, applied: &str) -> Option<Date> {
        let catalogue = crate::catalogue::Catalogue::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue"),
        )
        .unwrap();
        let rule = catalogue.services[service].deadlines.in_force(d(applied))?;
        Some(rule.due(&catalogue.calendar, d(applied)))
    }

    #[test]
    fn every_service_is_counted_by_the_term_of_its_period() {
        // (service, application date, due date or none before the first known rule). Working
        // days skip weekends and holidays; a calendar term ending on a day off ends on the next
        // working day.
        let cases = [
            // Media: no term known before the 2015 standard; 15 calendar days under it; 2 + 7
            // working days under the rules of 2 April 2020 (in force from 20 April).
            ("media-registration", "2015-04-27", None),
            ("media-registration", "2019-11-04", Some("2019-11-19")),
            ("media-registration", "2020-04-17", Some("2020-05-04")),
            ("media-registration", "2020-04-20", Some("2020-05-04")),
            ("media-registration", "2026-11-02", Some("2026-11-13")),
            // Foreign media: 15 calendar days, then 10 working days from 16 November 2024.
            ("foreign-media", "2024-11-15", Some("2024-12-02")),
            ("foreign-media", "2026-11-02", Some("2026-11-16")),
            // Depository: 19 working days.
            ("depository", "2015-10-30", None),
            ("depository", "2026-11-02", Some("2026-11-27")),
            // E-register: 10 working days.
            ("e-register", "2026-11-02", Some("2026-11-16")),
            // Cash-register conclusions: 29 calendar days (2 December 2026 is a Wednesday).
            ("kkm-conclusion", "2011-03-27", None),
            ("kkm-conclusion", "2026-11-03", Some("2026-12-02")),
            // Attestation: 30 calendar days; 21 November 2026 is a Saturday.
            ("attestation", "2026-10-22", Some("2026-11-23")),
            // Archival references: 15 calendar days; apostille: 5 working days.
            ("archival-reference", "2026-10-27", Some("2026-11-11")),
            ("apostille", "2026-11-09", Some("2026-11-16")),
        ];
        for (service, applied, due) in cases {
            assert_eq!(
                shipped_due(service, applied),
                due.map(d),
                "{service}, applied {applied}"
            );
        }
    }

    #[test]
    fn malformed_rules_are_refused() {
        for (text, why) in [
            ("deadlines = []", "at least one"),
            (
                r#"deadlines = [{ from = "2020-01-01", days = 5, source = "s" }]"#,
                "either",
            ),
            (
                r#"deadlines = [{ from = "2020-01-01", days = 5, count = "working", stages = [{ days = 1, count = "working" }], source = "s" }]"#,
                "either",
            ),
            (
                r#"deadlines = [{ from = "2020-01-01", days = 0, count = "working", source = "s" }]"#,
                "at least one day",
            ),
            (
                r#"deadlines = [{ from = "2020-01-01", days = 5, count = "working", source = " " }]"#,
                "source",
            ),
            (
                r#"deadlines = [{ from = "2021-01-01", days = 5, count = "working", source = "a" }, { from = "2020-01-01", days = 5, count = "working", source = "b" }]"#,
                "date order",
            ),
        ] {
            let err = format!("{:#}", rules(text).unwrap_err());
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
