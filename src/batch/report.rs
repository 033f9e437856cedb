//! The run report: what a batch did, as a summary for people and JSON for tools.
//!
//! It holds no timings or clock readings, so the same inputs give the same report. It is
//! bounded by what the batch did, not by how much was wrong with its input: the lists wait in
//! unnamed files until the report is written (memory keeps the first few, for the summary),
//! and past the first [`IN_FULL`] rejections of a file each rejection keeps its first problem
//! and the count of the others — every rejected case still listed, by file, place and id. The
//! JSON has one line per listed item, so `grep` finds a case with all that is said of it.
//!
//! Besides the moments the run started and finished (set by the command line, which reads the
//! clock), it holds no timings or clock readings: the same inputs give the same report.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};

use super::BatchConfig;
use crate::case::Skipped;
use crate::catalogue::REFUSED;
use crate::date::Date;
use crate::plan::{Already, Candidate, Planned};
use crate::problem::{Origin, Problem, shown_path};
use crate::spool::List;

/// How many rejections of one file the report gives with all their problems; later ones give
/// their first problem and how many more there are. A file of 100,000 incomplete cases made a
/// 583 MB report when every problem of every case was listed.
pub const IN_FULL: usize = 100;

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Case files read.
    pub files: usize,
    /// Files, folders and links of the cases folder not read (see `skipped`).
    pub skipped: usize,
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

/// A rejected case, or a file or row that could not be read, with what is wrong with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rejection {
    pub origin: Origin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    /// Every problem; past the first [`IN_FULL`] rejections of a file, only the first.
    pub problems: Vec<Problem>,
    /// How many problems were left out of `problems`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub problems_left_out: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registered {
    pub service: String,
    pub case_id: String,
    pub document: String,
    pub registry: String,
    pub number: String,
    pub issued: Date,
}

/// A case decided after its statutory term.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// A list of the report that may be long: on disk until the report is written, its first
/// [`SHOWN`] items also in memory for the summary.
pub struct Listed<T> {
    list: List<T>,
    first: Vec<T>,
}

impl<T: Serialize + DeserializeOwned + Clone> Listed<T> {
    fn new(dir: &std::path::Path) -> Listed<T> {
        Listed {
            list: List::new(dir),
            first: Vec::new(),
        }
    }

    fn push(&mut self, value: T) -> anyhow::Result<()> {
        self.list.push(&value)?;
        if self.first.len() < SHOWN {
            self.first.push(value);
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The first items, as many as the summary shows.
    pub fn first(&self) -> &[T] {
        &self.first
    }
}

impl<T: Serialize + DeserializeOwned> Serialize for Listed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        every_one(&self.list, serializer)
    }
}

impl<T> fmt::Debug for Listed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.list.fmt(f)
    }
}

/// What the rejections of one file came to.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Tally {
    pub file: String,
    pub rejected: usize,
    /// How many of them are given with every problem.
    pub in_full: usize,
    /// How many problems each field had, over all of them.
    pub fields: BTreeMap<String, usize>,
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
    pub already_registered: Listed<Registered>,
    pub overdue: Listed<Overdue>,
    #[serde(serialize_with = "every_one")]
    pub rejected: List<Rejection>,
    /// The rejections the summary shows: the first few of each file.
    #[serde(skip)]
    shown: Vec<Rejection>,
    /// The files whose rejections are not all given in full: how many, and their problems
    /// counted by field.
    #[serde(serialize_with = "over_the_cap")]
    pub rejected_in_brief: BTreeMap<String, Tally>,
    /// Every file, folder or link of the cases folder that was not read, with why.
    pub skipped: Vec<Skipped>,
    pub warnings: Listed<String>,
    /// Bytes a writer cut off a registry's end (an incomplete record) and kept aside.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept_aside: Vec<KeptAside>,
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
            cases: shown_path(&config.cases),
            output: shown_path(&config.out),
            registry: crate::store::shown(&config.registry),
            summary: Summary::default(),
            documents: List::new(&config.out),
            already_registered: Listed::new(&config.out),
            overdue: Listed::new(&config.out),
            rejected: List::new(&config.out),
            shown: Vec::new(),
            rejected_in_brief: BTreeMap::new(),
            skipped: Vec::new(),
            warnings: Listed::new(&config.out),
            kept_aside: Vec::new(),
            fatal: None,
            exit_code: 0,
        }
    }

    /// Lists a rejection: in full for the first [`IN_FULL`] of its file, in brief after.
    pub(super) fn reject(
        &mut self,
        origin: Origin,
        mut problems: Vec<Problem>,
    ) -> anyhow::Result<()> {
        let file = shown_path(&origin.file);
        let tally = self.rejected_in_brief.entry(file.clone()).or_default();
        tally.file = file;
        tally.rejected += 1;
        for problem in &problems {
            if let Some(field) = &problem.field {
                *tally.fields.entry(field.clone()).or_default() += 1;
            }
        }
        let show = tally.rejected <= SHOWN_PER_FILE && self.shown.len() < SHOWN_REJECTED;
        let mut problems_left_out = 0;
        if tally.rejected <= IN_FULL {
            tally.in_full += 1;
        } else if problems.len() > 1 {
            problems_left_out = problems.len() - 1;
            problems.truncate(1);
        }
        let case_id = problems.iter().find_map(|p| p.case_id.clone());
        let rejection = Rejection {
            origin,
            case_id,
            problems,
            problems_left_out,
        };
        self.rejected.push(&rejection)?;
        if show {
            self.shown.push(rejection);
        }
        self.summary.rejected = self.rejected.len();
        self.exit_code = self.exit_code.max(crate::exit::REJECTED);
        Ok(())
    }

    /// Names what the batch did not read of the cases folder. A link that could not be
    /// followed is a rejection (the cases behind it are lost to this run); these are not.
    pub(super) fn skipped(&mut self, skipped: Vec<Skipped>) {
        self.summary.skipped = skipped.len();
        self.skipped = skipped;
    }

    pub(super) fn fatal(&mut self, error: String) {
        self.fatal = Some(error);
        self.exit_code = crate::exit::FATAL;
    }

    pub(super) fn warn(&mut self, warning: String) -> anyhow::Result<()> {
        self.warnings.push(warning)
    }

    pub(super) fn kept_aside(&mut self, kept: KeptAside) {
        self.kept_aside.push(kept);
    }

    pub(super) fn record_already(&mut self, already: &[Already]) -> anyhow::Result<()> {
        for a in already {
            self.already_registered.push(Registered {
                service: a.key.service.clone(),
                case_id: a.key.case_id.clone(),
                document: a.key.document.clone(),
                registry: a.registry.clone(),
                number: a.number.clone(),
                issued: a.issued,
            })?;
        }
        self.summary.already_registered = self.already_registered.len();
        Ok(())
    }

    /// Lists the valid cases decided after their statutory term, in case order.
    pub(super) fn record_overdue(&mut self, cases: &[Candidate]) -> anyhow::Result<()> {
        for case in cases {
            // A case applied for before the earliest term the catalogue knows is not judged.
            let Some(due) = case.due.filter(|due| case.decision_date > *due) else {
                continue;
            };
            self.overdue.push(Overdue {
                service: case.service.clone(),
                case_id: case.id.clone(),
                applied: case.application_date,
                due,
                decided: case.decision_date,
                days_late: case.decision_date.to_days() - due.to_days(),
                origin: case.origin.clone(),
            })?;
        }
        self.summary.overdue = self.overdue.len();
        Ok(())
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

/// Serialises the tallies of the files with rejections given in brief.
fn over_the_cap<S: Serializer>(
    tallies: &BTreeMap<String, Tally>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(tallies.values().filter(|t| t.rejected > t.in_full))
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
    /// Writes the report as JSON, ending with a line break: laid out down to the items of its
    /// lists, each item on one line ([`Shallow`]).
    pub fn write_json(&self, out: impl std::io::Write) -> anyhow::Result<()> {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(out);
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, Shallow::default());
        self.serialize(&mut serializer)?;
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }
}

/// Bytes cut off a registry's end, and where they are kept.
#[derive(Debug, Clone, Serialize)]
pub struct KeptAside {
    pub registry: String,
    pub bytes: u64,
    pub file: String,
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
            warnings: self.warnings.first(),
            overdue: self.overdue.first(),
            rejected: &self.shown,
            not_shown: NotShown {
                warnings: self.warnings.len() - self.warnings.first().len(),
                overdue: self.overdue.len() - self.overdue.first().len(),
                rejected: self.rejected.len() - self.shown.len(),
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
        writeln!(f, "  output: {}", self.output)?;
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
        if s.skipped > 0 {
            writeln!(
                f,
                "  skipped             {:>6}  (files and links of the cases folder not read)",
                s.skipped
            )?;
        }
        for warning in self.warnings.first() {
            writeln!(f, "warning: {warning}")?;
        }
        more(f, self.warnings.len(), "warnings")?;
        for kept in &self.kept_aside {
            writeln!(
                f,
                "kept aside: registry {}: the {} bytes cut off its end are kept in {}",
                kept.registry, kept.bytes, kept.file
            )?;
        }
        if !self.skipped.is_empty() {
            writeln!(f, "skipped:")?;
            for skipped in self.skipped.iter().take(SHOWN) {
                writeln!(f, "  {}: {}", skipped.file, skipped.why)?;
            }
            more(f, self.skipped.len(), "files and links skipped")?;
        }
        if !self.overdue.is_empty() {
            writeln!(f, "overdue:")?;
            for o in self.overdue.first() {
                writeln!(
                    f,
                    "  {}: case {} ({}) applied {}, due {}, decided {} ({} late)",
                    o.origin,
                    o.case_id,
                    o.service,
                    o.applied,
                    o.due,
                    o.decided,
                    match o.days_late {
                        1 => "1 day".to_string(),
                        n => format!("{n} days"),
                    }
                )?;
            }
            more(f, self.overdue.len(), "overdue cases")?;
        }
        if !self.rejected.is_empty() {
            writeln!(f, "rejected:")?;
            for rejection in &self.shown {
                for problem in &rejection.problems {
                    writeln!(f, "  {problem}")?;
                }
                if rejection.problems_left_out > 0 {
                    writeln!(
                        f,
                        "  … and {} more problems of this case: see the run report",
                        rejection.problems_left_out
                    )?;
                }
            }
            // A file of many rejections does not hide the others: each shows its first few.
            let mut shown_of: BTreeMap<String, usize> = BTreeMap::new();
            for rejection in &self.shown {
                *shown_of
                    .entry(shown_path(&rejection.origin.file))
                    .or_default() += 1;
            }
            for tally in self.rejected_in_brief.values() {
                let shown = shown_of.get(&tally.file).copied().unwrap_or(0);
                if tally.rejected > shown {
                    writeln!(
                        f,
                        "  … and {} more rejected in {}: see the run report",
                        tally.rejected - shown,
                        tally.file
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// How many warnings, skipped files and overdue cases the summary prints of each; the run
/// report has them all.
const SHOWN: usize = 50;

/// How many rejections of each file the summary prints, and how many in all.
const SHOWN_PER_FILE: usize = 10;
const SHOWN_REJECTED: usize = 200;

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

/// Serialises a listed array, read back one item at a time.
fn every_one<T, S>(list: &List<T>, serializer: S) -> Result<S::Ok, S::Error>
where
    T: Serialize + DeserializeOwned,
    S: Serializer,
{
    use serde::ser::{Error, SerializeSeq};
    let mut seq = serializer.serialize_seq(Some(list.len()))?;
    let read = list.for_each(|item| {
        seq.serialize_element(&item)
            .map_err(|err| anyhow::anyhow!("{err}"))
    });
    match read {
        Ok(()) => seq.end(),
        Err(err) => Err(S::Error::custom(format!("{err:#}"))),
    }
}

/// JSON laid out with line breaks and indents down to the items of the report's lists, each
/// item written on one line: a person reads the top, a tool or `grep` the items, and a
/// rejection's nested origins take no indented lines of their own.
#[derive(Debug, Default)]
struct Shallow {
    /// How many arrays and objects are open.
    depth: usize,
    /// Whether the innermost open one has a value yet.
    has_value: bool,
}

/// Arrays and objects this deep are laid out; deeper ones are written on one line.
const LAID_OUT: usize = 2;

impl Shallow {
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        let laid_out = self.depth <= LAID_OUT;
        self.depth -= 1;
        if laid_out && self.has_value {
            self.line(out)?;
        }
        out.write_all(bracket)
    }

    fn line<W: ?Sized + std::io::Write>(&self, out: &mut W) -> std::io::Result<()> {
        out.write_all(b"\n")?;
        for _ in 0..self.depth {
            out.write_all(b"  ")?;
        }
        Ok(())
    }

    fn item<W: ?Sized + std::io::Write>(&self, out: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            out.write_all(b",")?;
        }
        if self.depth <= LAID_OUT {
            self.line(out)?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for Shallow {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(out, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(out, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        out: &mut W,
    ) -> std::io::Result<()> {
        out.write_all(if self.depth <= LAID_OUT { b": " } else { b":" })
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn shallow(value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        value
            .serialize(&mut serde_json::Serializer::with_formatter(
                &mut out,
                Shallow::default(),
            ))
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_report_is_laid_out_down_to_the_items_of_its_lists() {
        let value = json!({
            "summary": {"issued": 1, "rejected": 2},
            "empty": [],
            "rejected": [
                {"origin": {"file": "a.xml", "pos": {"line": 3}}, "problems": [{"field": "id"}]},
                {"origin": {"file": "b.xml"}, "problems": []}
            ]
        });
        let text = shallow(&value);
        assert_eq!(
            text,
            "{\n  \"empty\": [],\n  \"rejected\": [\n    \
             {\"origin\":{\"file\":\"a.xml\",\"pos\":{\"line\":3}},\"problems\":[{\"field\":\"id\"}]},\n    \
             {\"origin\":{\"file\":\"b.xml\"},\"problems\":[]}\n  ],\n  \
             \"summary\": {\n    \"issued\": 1,\n    \"rejected\": 2\n  }\n}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }
}
