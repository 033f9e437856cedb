//! The run report: what a batch did, as a summary for people and JSON for tools.
//!
//! Besides the moments the run started and finished (set by the command line, which reads the
//! clock), it holds no timings or clock readings: the same inputs give the same report.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};

use super::BatchConfig;
use crate::catalogue::REFUSED;
use crate::date::Date;
use crate::plan::{Already, Candidate, Planned};
use crate::problem::{Origin, Problem};
use crate::spool::List;

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Case files read.
    pub files: usize,
    /// Cases read (valid or not).
    pub cases: usize,
    /// Documents issued on approved applications.
    pub issued: usize,
    /// Reasoned refusals issued.
    pub refused: usize,
    /// Cases (or unreadable files and rows) rejected, each with its problems.
    pub rejected: usize,
    /// Documents found registered already, left as they are.
    pub already_registered: usize,
    /// Valid cases decided after their statutory term.
    pub overdue: usize,
}

/// A rejected case, or a file or row that could not be read, with everything wrong with it.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    pub origin: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    pub problems: Vec<Problem>,
}

/// A document this run issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued {
    pub service: Arc<str>,
    pub case_id: String,
    pub document: Arc<str>,
    pub outcome: Arc<str>,
    pub registry: Arc<str>,
    pub number: String,
    /// Numbers given to the items the document lists (deposited objects).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_numbers: Vec<String>,
    pub issued: Date,
    pub file: String,
    pub sha256: String,
    pub origin: Origin,
}

/// A document found registered already.
#[derive(Debug, Clone, Serialize)]
pub struct Registered {
    pub service: String,
    pub case_id: String,
    pub document: String,
    pub registry: String,
    pub number: String,
    pub issued: Date,
}

/// A case decided after its statutory term.
#[derive(Debug, Clone, Serialize)]
pub struct Overdue {
    pub service: String,
    pub case_id: String,
    pub applied: Date,
    /// The last day of the term.
    pub due: Date,
    pub decided: Date,
    /// Calendar days between the due date and the decision.
    pub days_late: i64,
    pub origin: Origin,
}

/// What a batch did.
#[derive(Debug, Serialize)]
pub struct Report {
    pub qujat: &'static str,
    pub run_date: Date,
    /// When the run started and finished (RFC 3339, at the configured UTC offset).
    pub started: Option<String>,
    pub finished: Option<String>,
    /// The configuration file used, if any.
    pub configuration: Option<String>,
    pub cases: String,
    pub output: String,
    pub registry: String,
    pub summary: Summary,
    /// Every document issued, in number order: on disk until the report is written, since a
    /// batch may issue any number.
    #[serde(serialize_with = "every_one")]
    pub documents: List<Issued>,
    pub already_registered: Vec<Registered>,
    pub overdue: Vec<Overdue>,
    pub rejected: Vec<Rejection>,
    pub warnings: Vec<String>,
    /// The error that stopped the batch, if one did (exit code 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fatal: Option<String>,
    pub exit_code: i32,
}

impl Report {
    pub(super) fn new(config: &BatchConfig) -> Report {
        Report {
            qujat: env!("CARGO_PKG_VERSION"),
            run_date: config.today,
            started: None,
            finished: None,
            configuration: None,
            cases: config.cases.display().to_string(),
            output: config.out.display().to_string(),
            registry: config.registry.display().to_string(),
            summary: Summary::default(),
            documents: List::new(&config.out),
            already_registered: Vec::new(),
            overdue: Vec::new(),
            rejected: Vec::new(),
            warnings: Vec::new(),
            fatal: None,
            exit_code: 0,
        }
    }

    /// Problems from reading files: those of one case (or one file) make one rejection.
    pub(super) fn reject_reading(&mut self, problems: Vec<Problem>) {
        for problem in problems {
            let same = self.rejected.last().is_some_and(|last| {
                last.origin.file == problem.origin.file
                    && last.case_id.is_some()
                    && last.case_id == problem.case_id
            });
            if same {
                self.rejected
                    .last_mut()
                    .expect("checked")
                    .problems
                    .push(problem);
            } else {
                self.reject(problem.origin.clone(), vec![problem]);
            }
        }
    }

    pub(super) fn reject(&mut self, origin: Origin, problems: Vec<Problem>) {
        let case_id = problems.iter().find_map(|p| p.case_id.clone());
        self.rejected.push(Rejection {
            origin,
            case_id,
            problems,
        });
        self.summary.rejected = self.rejected.len();
        self.exit_code = self.exit_code.max(crate::cli::exit::REJECTED);
    }

    pub(super) fn fatal(&mut self, error: String) {
        self.fatal = Some(error);
        self.exit_code = crate::cli::exit::FATAL;
    }

    pub(super) fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    pub(super) fn record_already(&mut self, already: &[Already]) {
        for a in already {
            self.already_registered.push(Registered {
                service: a.key.service.clone(),
                case_id: a.key.case_id.clone(),
                document: a.key.document.clone(),
                registry: a.registry.clone(),
                number: a.number.clone(),
                issued: a.issued,
            });
        }
        self.summary.already_registered = self.already_registered.len();
    }

    /// Lists the valid cases decided after their statutory term, in case order.
    pub(super) fn record_overdue(&mut self, cases: &[Candidate]) {
        for case in cases.iter().filter(|c| c.decision_date > c.due) {
            self.overdue.push(Overdue {
                service: case.service.clone(),
                case_id: case.id.clone(),
                applied: case.application_date,
                due: case.due,
                decided: case.decision_date,
                days_late: case.decision_date.to_days() - case.due.to_days(),
                origin: case.origin.clone(),
            });
        }
        self.summary.overdue = self.overdue.len();
    }

    /// Counts and lists a document whose record is durable.
    pub(super) fn issued(&mut self, issued: Issued) -> anyhow::Result<()> {
        if &*issued.outcome == REFUSED {
            self.summary.refused += 1;
        } else {
            self.summary.issued += 1;
        }
        self.documents.push(&issued)
    }
}

impl Issued {
    /// The report's entry for `planned`, written to `file` with SHA-256 `sha256`.
    pub(super) fn of(planned: &Planned, file: &str, sha256: &str) -> Issued {
        Issued {
            service: planned.service.clone(),
            case_id: planned.case_id.clone(),
            document: planned.document.clone(),
            outcome: planned.outcome.clone(),
            registry: planned.registry.clone(),
            number: planned.number.clone(),
            item_numbers: planned.items.iter().map(|i| i.number.clone()).collect(),
            issued: planned.issued,
            file: file.to_string(),
            sha256: sha256.to_string(),
            origin: planned.origin.clone(),
        }
    }
}

impl Report {
    /// Writes the report as pretty-printed JSON, ending with a line break.
    pub fn write_json(&self, out: impl std::io::Write) -> anyhow::Result<()> {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(out);
        self.serialize(&mut serde_json::Serializer::pretty(&mut out))?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }
}

impl Report {
    /// The summary as JSON (`qujat batch --json`): the facts the text summary shows — counts,
    /// and the first warnings, overdue and rejected cases with how many more the run report
    /// has — and where the report is.
    pub fn summary_json<'a>(&'a self, report: Option<&'a str>) -> SummaryJson<'a> {
        SummaryJson {
            qujat: self.qujat,
            run_date: self.run_date,
            started: self.started.as_deref(),
            finished: self.finished.as_deref(),
            configuration: self.configuration.as_deref(),
            cases: &self.cases,
            output: &self.output,
            registry: &self.registry,
            summary: &self.summary,
            warnings: first(&self.warnings),
            overdue: first(&self.overdue),
            rejected: first(&self.rejected),
            not_shown: NotShown {
                warnings: self.warnings.len().saturating_sub(SHOWN),
                overdue: self.overdue.len().saturating_sub(SHOWN),
                rejected: self.rejected.len().saturating_sub(SHOWN),
            },
            fatal: self.fatal.as_deref(),
            report,
            exit_code: self.exit_code,
        }
    }
}

/// What `qujat batch --json` prints: the run report without its lists of documents, and at
/// most [`SHOWN`] of each other list.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    pub qujat: &'static str,
    pub run_date: Date,
    pub started: Option<&'a str>,
    pub finished: Option<&'a str>,
    pub configuration: Option<&'a str>,
    pub cases: &'a str,
    pub output: &'a str,
    pub registry: &'a str,
    pub summary: &'a Summary,
    pub warnings: &'a [String],
    pub overdue: &'a [Overdue],
    pub rejected: &'a [Rejection],
    /// How many of each list only the run report has.
    pub not_shown: NotShown,
    pub fatal: Option<&'a str>,
    /// The run report written, if it could be.
    pub report: Option<&'a str>,
    pub exit_code: i32,
}

#[derive(Debug, Serialize)]
pub struct NotShown {
    pub warnings: usize,
    pub overdue: usize,
    pub rejected: usize,
}

impl fmt::Display for Report {
    /// The summary printed at the end of a run; rejections are listed, one problem per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        writeln!(
            f,
            "qujat batch: {} cases in {} files from {}",
            s.cases, s.files, self.cases
        )?;
        writeln!(f, "  issued              {:>6}", s.issued)?;
        writeln!(
            f,
            "  refused             {:>6}  (reasoned refusals issued)",
            s.refused
        )?;
        writeln!(f, "  rejected            {:>6}", s.rejected)?;
        writeln!(f, "  already registered  {:>6}", s.already_registered)?;
        writeln!(
            f,
            "  overdue             {:>6}  (decided after the statutory term)",
            s.overdue
        )?;
        for warning in self.warnings.iter().take(SHOWN) {
            writeln!(f, "warning: {warning}")?;
        }
        more(f, self.warnings.len(), "warnings")?;
        if !self.overdue.is_empty() {
            writeln!(f, "overdue:")?;
            for o in self.overdue.iter().take(SHOWN) {
                writeln!(
                    f,
                    "  {}: case {} ({}) applied {}, due {}, decided {} ({} days late)",
                    o.origin, o.case_id, o.service, o.applied, o.due, o.decided, o.days_late
                )?;
            }
            more(f, self.overdue.len(), "overdue cases")?;
        }
        if !self.rejected.is_empty() {
            writeln!(f, "rejected:")?;
            for rejection in self.rejected.iter().take(SHOWN) {
                for problem in &rejection.problems {
                    writeln!(f, "  {problem}")?;
                }
            }
            more(f, self.rejected.len(), "rejected cases")?;
        }
        Ok(())
    }
}

/// The first of `items` the summary shows.
fn first<T>(items: &[T]) -> &[T] {
    &items[..items.len().min(SHOWN)]
}

/// How many warnings, overdue and rejected cases the summary prints of each; the run report has
/// them all.
const SHOWN: usize = 50;

/// The line that says how many of `count` things the summary left out.
fn more(f: &mut fmt::Formatter<'_>, count: usize, what: &str) -> fmt::Result {
    if count > SHOWN {
        writeln!(
            f,
            "  … and {} more {what}: see the run report",
            count - SHOWN
        )?;
    }
    Ok(())
}

/// Serialises the listed documents as a JSON array, read back one at a time.
fn every_one<S: Serializer>(documents: &List<Issued>, serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error, SerializeSeq};
    let mut seq = serializer.serialize_seq(Some(documents.len()))?;
    let read = documents.for_each(|issued| {
        seq.serialize_element(&issued)
            .map_err(|err| anyhow::anyhow!("{err}"))
    });
    match read {
        Ok(()) => seq.end(),
        Err(err) => Err(S::Error::custom(format!("{err:#}"))),
    }
}
