//! Intake: cases as they are read become candidates for planning, or rejections.
//!
//! Cases arrive one at a time from the reader ([`case::Sink`]) and are validated in chunks, in
//! parallel; each valid case is reduced at once to a [`Candidate`], its documents' data written to
//! the spool. Nothing of a raw or validated case outlives its chunk, so memory does not grow
//! with the batch beyond a candidate's few hundred bytes. Rejections, with every problem found
//! reading and validating, wait in an unnamed file ([`List`]), not in memory: a file of 100,000
//! incomplete cases has millions of problems.
//!
//! Three rules need every case read before they are decided, and are applied at the end: a
//! (service, case id) given more than once is ambiguous, so all its copies are refused; so are
//! cases of one service whose ids differ only in lookalike characters (Latin M and Cyrillic М,
//! the digit 0 and the letter O: the same Unicode TR39 skeleton); and a file rejected as a
//! whole (XML that breaks off) takes the cases already read from it along.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use anyhow::Result;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::case::{RawCase, Sink};
use crate::catalogue::Catalogue;
use crate::plan::Candidate;
use crate::problem::{Origin, Problem};
use crate::sign::Issuing;
use crate::spool::{List, Spool};
use crate::validate::{ValidCase, Validator};

/// How many cases are validated together: enough to keep every core busy, few enough that a
/// chunk's raw and validated cases take a few megabytes.
const CHUNK: usize = 256;

/// How many other places a message about a case given more than once names: a case id given
/// 100,000 times must not make 100,000 messages each naming the other 99,999.
const NAMED: usize = 5;

/// A rejection waiting on disk, in reading order.
#[derive(Debug, Serialize, Deserialize)]
struct Waiting {
    /// Its place in reading order: `2 × read + 1` for a case (`read`: its place among the
    /// cases read), `2 × n` for the problems of a file done when `n` cases had been read.
    at: u64,
    origin: Origin,
    problems: Vec<Problem>,
}

fn case_at(read: usize) -> u64 {
    2 * read as u64 + 1
}

/// The rejected cases, files and rows of the cases read, to be handed on in reading order.
#[derive(Debug)]
pub struct Rejections {
    list: List<Waiting>,
    /// The cases of files rejected as a whole, by their places in reading order: their own
    /// rejections are not handed on (the file's is).
    dropped: Vec<Range<usize>>,
    /// Cases given more than once, or with ids that look alike: what is said of each instead of
    /// anything else, by its place in reading order.
    ambiguous: HashMap<usize, Problem>,
    /// The valid cases among them, in reading order.
    refused: Vec<(usize, Origin)>,
}

impl Rejections {
    /// Hands each rejection on, in reading order: the file or case it is, and its problems.
    pub fn for_each(self, mut each: impl FnMut(Origin, Vec<Problem>) -> Result<()>) -> Result<()> {
        let Rejections {
            list,
            dropped,
            mut ambiguous,
            refused,
        } = self;
        let mut refused = refused.into_iter().peekable();
        list.for_each(|waiting| {
            while let Some((read, origin)) = refused.next_if(|(r, _)| case_at(*r) < waiting.at) {
                let problem = ambiguous
                    .remove(&read)
                    .expect("a refused case is ambiguous");
                each(origin, vec![problem])?;
            }
            if waiting.at % 2 == 0 {
                return each(waiting.origin, waiting.problems);
            }
            let read = (waiting.at / 2) as usize;
            if dropped.iter().any(|range| range.contains(&read)) {
                return Ok(());
            }
            match ambiguous.remove(&read) {
                // Refused for that alone, whatever else is wrong with it.
                Some(problem) => each(waiting.origin, vec![problem]),
                None => each(waiting.origin, waiting.problems),
            }
        })?;
        for (read, origin) in refused {
            let problem = ambiguous
                .remove(&read)
                .expect("a refused case is ambiguous");
            each(origin, vec![problem])?;
        }
        Ok(())
    }
}

/// What the intake made of every case read.
#[derive(Debug)]
pub struct Taken {
    /// Cases read from files that were not rejected as a whole.
    pub cases: usize,
    /// Valid cases, in reading order.
    pub candidates: Vec<Candidate>,
    /// Everything rejected: cases, rows and files.
    pub rejected: Rejections,
}

/// Where a case of a service was given: its place in reading order, its origin and its id.
type Given = Vec<(usize, Origin, Box<str>)>;

pub struct Intake<'a> {
    catalogue: &'a Catalogue,
    validator: &'a Validator<'a>,
    spool: &'a Spool,
    /// Cases read and not yet validated (all from the file being read).
    chunk: Vec<(usize, RawCase)>,
    /// How many cases were read, including those of rejected files.
    read: usize,
    /// Cases read, from files not rejected as a whole.
    cases: usize,
    /// Valid cases of files done, and of the file being read.
    candidates: Vec<Candidate>,
    file_candidates: Vec<Candidate>,
    rejected: List<Waiting>,
    dropped: Vec<Range<usize>>,
    /// Where each (service, skeleton of the case id) was given: the same id twice, or two ids
    /// that look the same, share one.
    given: HashMap<(String, String), Given>,
    /// The keys the file being read added to `given`, and where its cases start.
    file_keys: Vec<(String, String)>,
    file_start: usize,
    /// The first failure to write the spool or the list of rejections: the batch cannot go on.
    failed: Option<anyhow::Error>,
    /// The officials' keys, when documents are signed.
    signing: Option<&'a Issuing>,
}

impl<'a> Intake<'a> {
    /// An intake whose rejections wait in an unnamed file in `dir`.
    pub fn new(
        catalogue: &'a Catalogue,
        validator: &'a Validator<'a>,
        spool: &'a Spool,
        dir: &Path,
    ) -> Intake<'a> {
        Intake {
            catalogue,
            validator,
            spool,
            chunk: Vec::with_capacity(CHUNK),
            read: 0,
            cases: 0,
            candidates: Vec::new(),
            file_candidates: Vec::new(),
            rejected: List::new(dir),
            dropped: Vec::new(),
            given: HashMap::new(),
            file_keys: Vec::new(),
            file_start: 0,
            failed: None,
            signing: None,
        }
    }

    /// Signs the documents: each case must name an official with a key valid on its decision
    /// date, and its documents show that key's certificate.
    pub fn signed_by(mut self, signing: Option<&'a Issuing>) -> Intake<'a> {
        self.signing = signing;
        self
    }

    fn wait(&mut self, waiting: Waiting) {
        if let Err(err) = self.rejected.push(&waiting) {
            self.failed.get_or_insert(err);
        }
    }

    /// Validates the chunk's cases and reduces the valid ones to candidates.
    fn take_chunk(&mut self) {
        if self.chunk.is_empty() || self.failed.is_some() {
            self.chunk.clear();
            return;
        }
        let (catalogue, validator, spool, signing) =
            (self.catalogue, self.validator, self.spool, self.signing);
        // For each case: a candidate, or where it is and what is wrong with it.
        type Validated = Result<Result<Candidate, (Origin, Vec<Problem>)>>;
        let results: Vec<(usize, Validated)> = self
            .chunk
            .par_iter()
            .map(|(read, raw)| {
                let result = match validator.validate(raw) {
                    Ok(valid) => match signature_block(signing, &valid) {
                        Ok(block) => {
                            Candidate::prepare(catalogue, &valid, *read, spool, block.as_ref())
                                .map(Ok)
                        }
                        Err(problem) => Ok(Err((valid.origin.clone(), vec![problem]))),
                    },
                    Err(problems) => Ok(Err((raw.origin(), problems))),
                };
                (*read, result)
            })
            .collect();
        self.chunk.clear();
        for (read, result) in results {
            match result {
                // Copied here, on the reading thread, and the original dropped: made on a
                // worker thread among the chunk's short-lived trees, a candidate would keep
                // their memory pages from being reused or returned, and a batch's memory would
                // grow with its size.
                #[allow(clippy::redundant_clone)]
                Ok(Ok(candidate)) => self.file_candidates.push(candidate.clone()),
                Ok(Err((origin, problems))) => self.wait(Waiting {
                    at: case_at(read),
                    origin,
                    problems,
                }),
                Err(err) => {
                    self.failed.get_or_insert(err);
                }
            }
        }
    }

    /// Every case read, once the reader is done: duplicated and lookalike case ids refused.
    pub fn finish(mut self) -> Result<Taken> {
        self.take_chunk();
        if let Some(err) = self.failed {
            return Err(err);
        }
        let mut ambiguous: HashMap<usize, Problem> = HashMap::new();
        for places in self.given.into_values().filter(|p| p.len() > 1) {
            for (read, origin, id) in &places {
                let others = places.iter().filter(|(other, _, _)| other != read);
                ambiguous.insert(*read, ambiguity(origin, id, others));
            }
        }
        let (candidates, refused): (Vec<_>, Vec<_>) = self
            .candidates
            .into_iter()
            .partition(|c| !ambiguous.contains_key(&c.read));
        Ok(Taken {
            cases: self.cases,
            candidates,
            rejected: Rejections {
                list: self.rejected,
                dropped: self.dropped,
                ambiguous,
                refused: refused.into_iter().map(|c| (c.read, c.origin)).collect(),
            },
        })
    }
}

/// The signature block of a valid case's official, when documents are signed; a case whose
/// official has no key, or a key whose certificate is not valid on the decision date, is
/// rejected, at the official's name.
fn signature_block(
    signing: Option<&Issuing>,
    case: &ValidCase,
) -> Result<Option<serde_json::Value>, Problem> {
    let Some(signing) = signing else {
        return Ok(None);
    };
    let official = &case.canonical["decision"]["official"];
    let name = official["name"].as_str().unwrap_or_default();
    let position = official["position"].as_str();
    signing
        .block_for(name, position, case.decision_date)
        .map(Some)
        .map_err(|err| {
            Problem::new(
                case.origin.clone(),
                format!("cannot be signed on {}: {err:#}", case.decision_date.dmy()),
            )
            .case(Some(&case.id))
            .field("decision.official.name")
        })
}

/// What is said of a case (`id`, at `origin`) given again, or with a lookalike id, at `others`.
fn ambiguity<'g>(
    origin: &Origin,
    id: &str,
    others: impl Iterator<Item = &'g (usize, Origin, Box<str>)>,
) -> Problem {
    let (same, alike): (Vec<_>, Vec<_>) = others.partition(|(_, _, other)| &**other == id);
    let named = |places: &[&(usize, Origin, Box<str>)], with_id: bool| -> String {
        let mut shown: Vec<String> = places
            .iter()
            .take(NAMED)
            .map(|(_, origin, other)| match with_id {
                true => format!("{other:?} at {origin}"),
                false => origin.to_string(),
            })
            .collect();
        if places.len() > NAMED {
            shown.push(format!("and {} more places", places.len() - NAMED));
        }
        shown.join("; ")
    };
    let mut says = Vec::new();
    if !same.is_empty() {
        says.push(format!(
            "the same service and case id is also given at {}",
            named(&same, false)
        ));
    }
    if !alike.is_empty() {
        let detail = lookalikes(id, &alike[0].2);
        says.push(format!(
            "the case id looks the same as case id {}, of the same service{detail}: qujat cannot \
             know which case is meant",
            named(&alike, true)
        ));
    }
    Problem::new(origin.clone(), says.join("; "))
        .case(Some(id))
        .field("id")
}

/// Where two ids of the same skeleton differ, when they differ character for character:
/// ` (М U+041C here, M U+004D there)`.
fn lookalikes(here: &str, there: &str) -> String {
    if here.chars().count() != there.chars().count() {
        return String::new();
    }
    let pairs: Vec<String> = here
        .chars()
        .zip(there.chars())
        .filter(|(a, b)| a != b)
        .take(3)
        .map(|(a, b)| format!("{a} U+{:04X} here, {b} U+{:04X} there", a as u32, b as u32))
        .collect();
    format!(" ({})", pairs.join("; "))
}

impl Sink for Intake<'_> {
    fn case(&mut self, raw: RawCase) {
        let read = self.read;
        self.read += 1;
        if let (Some(service), Some(id)) = (raw.tree.text_at("service"), raw.id()) {
            let skeleton: String = unicode_security::skeleton(id).collect();
            let key = (service.to_string(), skeleton);
            self.given
                .entry(key.clone())
                .or_default()
                .push((read, raw.origin(), id.into()));
            self.file_keys.push(key);
        }
        self.chunk.push((read, raw));
        if self.chunk.len() >= CHUNK {
            self.take_chunk();
        }
    }

    fn file_done(&mut self, rejected: bool, problems: Vec<Problem>) {
        self.take_chunk();
        let keys = std::mem::take(&mut self.file_keys);
        let candidates = std::mem::take(&mut self.file_candidates);
        let start = std::mem::replace(&mut self.file_start, self.read);
        if rejected {
            // Its cases were never there: they neither count nor make others duplicates.
            self.dropped.push(start..self.read);
            for key in keys {
                if let Some(places) = self.given.get_mut(&key) {
                    places.retain(|(read, _, _)| *read < start);
                    if places.is_empty() {
                        self.given.remove(&key);
                    }
                }
            }
        } else {
            self.cases += self.read - start;
            self.candidates.extend(candidates);
        }
        // The problems of one case (or of the file as a whole) make one rejection.
        let at = 2 * self.read as u64;
        let mut problems = problems.into_iter().peekable();
        while let Some(first) = problems.next() {
            let mut group = vec![first];
            while let Some(next) = problems.next_if(|next| {
                group[0].case_id.is_some()
                    && next.case_id == group[0].case_id
                    && next.origin.file == group[0].origin.file
            }) {
                group.push(next);
            }
            let origin = group[0].origin.clone();
            self.wait(Waiting {
                at,
                origin,
                problems: group,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::case::read_file;

    /// A valid media registration case with this id and decision day of November 2026.
    fn case(id: &str, day: u32) -> String {
        format!(
            r#"<case id="{id}" service="media-registration">
  <application number="KZ1" date="2026-11-02"/>
  <duty amount="21625" date="2026-11-02" receipt="104410-Б"/>
  <applicant kind="legal" bin="100440000004">
    <name lang="kk">«Алаш» ЖШС</name><name lang="ru">ТОО «Алаш»</name><address>Астана</address>
  </applicant>
  <decision outcome="approved" date="2026-11-{day:02}">
    <official position="chairman" name="Асқаров Е. Б."/>
  </decision>
  <application_type>registration</application_type>
  <publication_kind>newspaper</publication_kind>
  <title>Жас Алаш {id}</title>
  <languages>kk ru</languages>
  <periodicity lang="kk">аптасына бір рет</periodicity>
  <periodicity lang="ru">один раз в неделю</periodicity>
  <territory><kk>Қазақстан Республикасы</kk><ru>Республика Казахстан</ru></territory>
  <subject>қоғамдық-саяси</subject>
  <chief_editor>Нұрланова Ә. С.</chief_editor>
  <editorial_address>Астана</editorial_address>
</case>"#
        )
    }

    fn cases(cases: &[String]) -> String {
        format!("<cases>{}</cases>", cases.join("\n"))
    }

    /// Feeds each (file name, XML text) to an intake, as `case::read_dir` does, and finishes it:
    /// what it took, and every rejection, in the order it hands them on.
    fn take(files: &[(&str, String)]) -> (Taken, Vec<(Origin, Vec<Problem>)>) {
        let catalogue =
            Catalogue::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue")).unwrap();
        let glyphs = |c: char| {
            if c.is_whitespace() {
                crate::validate::Glyph::Blank
            } else {
                crate::validate::Glyph::Drawn
            }
        };
        let validator = Validator {
            catalogue: &catalogue,
            today: "2026-11-25".parse().unwrap(),
            glyphs: &glyphs,
        };
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path()).unwrap();
        let mut intake = Intake::new(&catalogue, &validator, &spool, dir.path());
        for (name, text) in files {
            let file: Arc<Path> = Arc::from(Path::new(name));
            match read_file(&file, "xml", text.as_bytes(), &mut |c| intake.case(c)) {
                Ok(problems) => intake.file_done(false, problems),
                Err(problems) => intake.file_done(true, problems),
            }
        }
        let mut taken = intake.finish().unwrap();
        let mut rejected = Vec::new();
        let rejections = std::mem::replace(
            &mut taken.rejected,
            Rejections {
                list: List::new(dir.path()),
                dropped: Vec::new(),
                ambiguous: HashMap::new(),
                refused: Vec::new(),
            },
        );
        rejections
            .for_each(|origin, problems| {
                rejected.push((origin, problems));
                Ok(())
            })
            .unwrap();
        (taken, rejected)
    }

    #[test]
    fn cases_become_candidates_in_reading_order_across_chunks() {
        let many: Vec<String> = (0..CHUNK * 2 + 7)
            .map(|i| case(&format!("M-{i:04}"), 20 - (i % 5) as u32))
            .collect();
        let mut invalid = case("BAD-1", 20);
        invalid = invalid.replace("bin=\"100440000004\"", "bin=\"100440000005\"");
        let (taken, rejected) = take(&[("a.xml", cases(&many)), ("b.xml", cases(&[invalid]))]);
        assert_eq!(taken.cases, many.len() + 1);
        let ids: Vec<&str> = taken.candidates.iter().map(|c| c.id.as_str()).collect();
        let expected: Vec<String> = (0..many.len()).map(|i| format!("M-{i:04}")).collect();
        assert_eq!(ids, expected);
        assert!(taken.candidates.windows(2).all(|w| w[0].read < w[1].read));
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        let (origin, problems) = &rejected[0];
        assert!(origin.file.ends_with("b.xml"));
        assert!(
            problems
                .iter()
                .any(|p| p.field.as_deref() == Some("applicant.bin")
                    && p.case_id.as_deref() == Some("BAD-1")),
            "{problems:?}"
        );
    }

    #[test]
    fn every_copy_of_a_duplicated_case_is_refused_for_that_alone() {
        let mut invalid_copy = case("D-1", 21);
        invalid_copy = invalid_copy.replace("bin=\"100440000004\"", "bin=\"100440000005\"");
        let (taken, rejected) = take(&[
            ("a.xml", cases(&[case("D-1", 20), case("U-1", 20)])),
            ("b.xml", cases(&[invalid_copy, case("U-2", 20)])),
        ]);
        let ids: Vec<&str> = taken.candidates.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["U-1", "U-2"]);
        assert_eq!(rejected.len(), 2, "{rejected:?}");
        // In reading order: the valid copy (refused at the end) before the invalid one.
        assert!(rejected[0].0.file.ends_with("a.xml"));
        assert!(rejected[1].0.file.ends_with("b.xml"));
        for ((_, problems), other) in rejected.iter().zip(["b.xml, line 1", "a.xml, line 1"]) {
            assert_eq!(problems.len(), 1, "{problems:?}");
            let problem = &problems[0];
            assert_eq!(problem.case_id.as_deref(), Some("D-1"));
            assert_eq!(problem.field.as_deref(), Some("id"));
            assert!(problem.message.contains(other), "{}", problem.message);
        }
    }

    #[test]
    fn ids_that_differ_only_in_lookalike_letters_refuse_both() {
        // Latin M and P, then Cyrillic М and Р: each id is of one script, and they look the same.
        let (taken, rejected) = take(&[(
            "a.xml",
            cases(&[
                case("MP-7", 20),
                case("\u{41C}\u{420}-7", 20),
                case("MR-8", 20),
            ]),
        )]);
        let ids: Vec<&str> = taken.candidates.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["MR-8"]);
        assert_eq!(rejected.len(), 2, "{rejected:?}");
        for (_, problems) in &rejected {
            assert_eq!(problems.len(), 1);
            let problem = &problems[0];
            assert_eq!(problem.field.as_deref(), Some("id"));
            assert!(
                problem.message.contains("looks the same as case id"),
                "{}",
                problem.message
            );
            assert!(problem.message.contains("U+041C"), "{}", problem.message);
        }
        assert_eq!(rejected[0].1[0].case_id.as_deref(), Some("MP-7"));
        assert!(rejected[0].1[0].message.contains("\"МР-7\""));
    }

    #[test]
    fn a_case_given_many_times_names_a_few_of_the_others() {
        let copies: Vec<String> = (0..40).map(|_| case("D-1", 20)).collect();
        let (taken, rejected) = take(&[("a.xml", cases(&copies))]);
        assert!(taken.candidates.is_empty());
        assert_eq!(rejected.len(), 40);
        for (_, problems) in &rejected {
            let message = &problems[0].message;
            assert_eq!(message.matches("a.xml, line").count(), NAMED, "{message}");
            assert!(message.ends_with("and 34 more places"), "{message}");
        }
    }

    #[test]
    fn a_file_rejected_as_a_whole_takes_its_cases_along() {
        // The second file breaks off after one whole case: that case was read, but neither
        // counts nor makes the first file's copy a duplicate; an invalid case before the break
        // is not reported on its own either.
        let mut invalid = case("BAD-1", 20);
        invalid = invalid.replace("bin=\"100440000004\"", "bin=\"100440000005\"");
        let broken = format!("<cases>{}{invalid}<case id=", case("D-1", 20));
        let (taken, rejected) = take(&[
            ("a.xml", cases(&[case("D-1", 20)])),
            ("b.xml", broken),
            ("c.xml", cases(&[case("C-1", 20)])),
        ]);
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert!(rejected[0].0.file.ends_with("b.xml"));
        assert!(rejected[0].1[0].message.contains("malformed XML"));
        let ids: Vec<&str> = taken.candidates.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["D-1", "C-1"]);
        assert_eq!(taken.cases, 2);
    }
}
