//! Intake: cases as they are read become candidates for planning, or rejections.
//!
//! Cases arrive one at a time from the reader ([`case::Sink`]) and are validated in chunks, in
//! parallel; each valid case is reduced at once to a [`Candidate`], its documents' data written to
//! the spool. Nothing of a raw or validated case outlives its chunk, so memory does not grow
//! with the batch beyond a candidate's few hundred bytes.
//!
//! Two rules need every case read before they are decided, and are applied at the end: a
//! (service, case id) given more than once is ambiguous, so all its copies are refused; and a
//! file rejected as a whole (XML that breaks off) takes the cases already read from it along.

use std::collections::HashMap;

use anyhow::Result;
use rayon::prelude::*;

use crate::case::{RawCase, Sink};
use crate::catalogue::Catalogue;
use crate::plan::Candidate;
use crate::problem::{Origin, Problem};
use crate::spool::Spool;
use crate::validate::Validator;

/// How many cases are validated together: enough to keep every core busy, few enough that a
/// chunk's raw and validated cases take a few megabytes.
const CHUNK: usize = 256;

/// A case that was read but cannot be planned.
#[derive(Debug)]
pub struct Rejected {
    /// Its place among the cases read.
    pub read: usize,
    pub origin: Origin,
    pub problems: Vec<Problem>,
}

/// What the intake made of every case read.
#[derive(Debug, Default)]
pub struct Taken {
    /// Cases read from files that were not rejected as a whole.
    pub cases: usize,
    /// Valid cases, in reading order.
    pub candidates: Vec<Candidate>,
    /// Rejected cases, in reading order.
    pub rejected: Vec<Rejected>,
}

pub struct Intake<'a> {
    catalogue: &'a Catalogue,
    validator: &'a Validator<'a>,
    spool: &'a Spool,
    /// Cases read and not yet validated (all from the file being read).
    chunk: Vec<(usize, RawCase)>,
    /// How many cases were read, including those of rejected files.
    read: usize,
    /// What the file being read gave so far: it joins `taken` when the file is done and sound.
    file: Taken,
    taken: Taken,
    /// Where each (service, case id) was given: the case's place and origin.
    given: HashMap<(String, String), Vec<(usize, Origin)>>,
    /// The keys the file being read added to `given`, and where its cases start.
    file_keys: Vec<(String, String)>,
    file_start: usize,
    /// The first spool failure: the batch cannot go on without its spool.
    failed: Option<anyhow::Error>,
}

impl<'a> Intake<'a> {
    pub fn new(
        catalogue: &'a Catalogue,
        validator: &'a Validator<'a>,
        spool: &'a Spool,
    ) -> Intake<'a> {
        Intake {
            catalogue,
            validator,
            spool,
            chunk: Vec::with_capacity(CHUNK),
            read: 0,
            file: Taken::default(),
            taken: Taken::default(),
            given: HashMap::new(),
            file_keys: Vec::new(),
            file_start: 0,
            failed: None,
        }
    }

    /// Validates the chunk's cases and reduces the valid ones to candidates.
    fn take_chunk(&mut self) {
        if self.chunk.is_empty() || self.failed.is_some() {
            self.chunk.clear();
            return;
        }
        let (catalogue, validator, spool) = (self.catalogue, self.validator, self.spool);
        let results: Vec<Result<Result<Candidate, Rejected>>> = self
            .chunk
            .par_iter()
            .map(|(read, raw)| match validator.validate(raw) {
                Ok(valid) => Candidate::prepare(catalogue, &valid, *read, spool).map(Ok),
                Err(problems) => Ok(Err(Rejected {
                    read: *read,
                    origin: raw.origin(),
                    problems,
                })),
            })
            .collect();
        self.chunk.clear();
        for result in results {
            match result {
                // Copied here, on the reading thread, and the original dropped: made on a
                // worker thread among the chunk's short-lived trees, a candidate would keep
                // their memory pages from being reused or returned, and a batch's memory would
                // grow with its size.
                #[allow(clippy::redundant_clone)]
                Ok(Ok(candidate)) => self.file.candidates.push(candidate.clone()),
                Ok(Err(rejected)) => self.file.rejected.push(rejected),
                Err(err) => {
                    self.failed.get_or_insert(err);
                }
            }
        }
    }

    /// Every case read, once the reader is done: duplicated (service, case id)s refused.
    pub fn finish(mut self) -> Result<Taken> {
        self.take_chunk();
        if let Some(err) = self.failed {
            return Err(err);
        }
        let mut taken = self.taken;
        // For each case given more than once: its id, and where the others are.
        let mut duplicated: HashMap<usize, (String, Vec<Origin>)> = HashMap::new();
        for ((_, id), places) in self.given.into_iter().filter(|(_, p)| p.len() > 1) {
            for (read, _) in &places {
                let others = places
                    .iter()
                    .filter(|(other, _)| other != read)
                    .map(|(_, origin)| origin.clone())
                    .collect();
                duplicated.insert(*read, (id.clone(), others));
            }
        }
        if duplicated.is_empty() {
            return Ok(taken);
        }
        let refuse = |read: usize, origin: &Origin, id: &str, others: &[Origin]| {
            let elsewhere: Vec<String> = others.iter().map(|o| o.to_string()).collect();
            let problem = Problem::new(
                origin.clone(),
                format!(
                    "the same service and case id is also given at {}",
                    elsewhere.join("; ")
                ),
            )
            .case(Some(id))
            .field("id");
            Rejected {
                read,
                origin: origin.clone(),
                problems: vec![problem],
            }
        };
        // A duplicated case is refused for that alone, whatever else is wrong with it.
        for rejected in &mut taken.rejected {
            if let Some((id, others)) = duplicated.get(&rejected.read) {
                *rejected = refuse(rejected.read, &rejected.origin, id, others);
            }
        }
        let (kept, dropped): (Vec<_>, Vec<_>) = taken
            .candidates
            .into_iter()
            .partition(|c| !duplicated.contains_key(&c.read));
        taken.candidates = kept;
        for candidate in dropped {
            let (id, others) = &duplicated[&candidate.read];
            taken
                .rejected
                .push(refuse(candidate.read, &candidate.origin, id, others));
        }
        taken.rejected.sort_by_key(|r| r.read);
        Ok(taken)
    }
}

impl Sink for Intake<'_> {
    fn case(&mut self, raw: RawCase) {
        let read = self.read;
        self.read += 1;
        if let (Some(service), Some(id)) = (raw.tree.text_at("service"), raw.id()) {
            let key = (service.to_string(), id.to_string());
            self.given
                .entry(key.clone())
                .or_default()
                .push((read, raw.origin()));
            self.file_keys.push(key);
        }
        self.file.cases += 1;
        self.chunk.push((read, raw));
        if self.chunk.len() >= CHUNK {
            self.take_chunk();
        }
    }

    fn file_done(&mut self, rejected: bool) {
        self.take_chunk();
        let file = std::mem::take(&mut self.file);
        let keys = std::mem::take(&mut self.file_keys);
        let start = std::mem::replace(&mut self.file_start, self.read);
        if rejected {
            // Its cases were never there: they neither count nor make others duplicates.
            for key in keys {
                if let Some(places) = self.given.get_mut(&key) {
                    places.retain(|(read, _)| *read < start);
                    if places.is_empty() {
                        self.given.remove(&key);
                    }
                }
            }
            return;
        }
        self.taken.cases += file.cases;
        self.taken.candidates.extend(file.candidates);
        self.taken.rejected.extend(file.rejected);
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

    /// Feeds each (file name, XML text) to an intake, as `case::read_dir` does, and finishes it.
    fn take(files: &[(&str, String)]) -> (Taken, Vec<Problem>) {
        let catalogue =
            Catalogue::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue")).unwrap();
        let covers = |_: char| true;
        let validator = Validator {
            catalogue: &catalogue,
            today: "2026-11-25".parse().unwrap(),
            covers: &covers,
        };
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path()).unwrap();
        let mut intake = Intake::new(&catalogue, &validator, &spool);
        let mut problems = Vec::new();
        for (name, text) in files {
            let file: Arc<Path> = Arc::from(Path::new(name));
            let result = read_file(&file, "xml", text.as_bytes(), &mut |c| intake.case(c));
            intake.file_done(result.is_err());
            problems.extend(result.unwrap_or_else(|p| p));
        }
        (intake.finish().unwrap(), problems)
    }

    #[test]
    fn cases_become_candidates_in_reading_order_across_chunks() {
        let many: Vec<String> = (0..CHUNK * 2 + 7)
            .map(|i| case(&format!("M-{i:04}"), 20 - (i % 5) as u32))
            .collect();
        let mut invalid = case("BAD-1", 20);
        invalid = invalid.replace("bin=\"100440000004\"", "bin=\"100440000005\"");
        let (taken, problems) = take(&[("a.xml", cases(&many)), ("b.xml", cases(&[invalid]))]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(taken.cases, many.len() + 1);
        let ids: Vec<&str> = taken.candidates.iter().map(|c| c.id.as_str()).collect();
        let expected: Vec<String> = (0..many.len()).map(|i| format!("M-{i:04}")).collect();
        assert_eq!(ids, expected);
        assert!(taken.candidates.windows(2).all(|w| w[0].read < w[1].read));
        assert_eq!(taken.rejected.len(), 1);
        assert_eq!(taken.rejected[0].read, many.len());
        assert!(
            taken.rejected[0]
                .problems
                .iter()
                .any(|p| p.field.as_deref() == Some("applicant.bin")),
            "{:?}",
            taken.rejected[0].problems
        );
    }

    #[test]
    fn every_copy_of_a_duplicated_case_is_refused_for_that_alone() {
        let mut invalid_copy = case("D-1", 21);
        invalid_copy = invalid_copy.replace("bin=\"100440000004\"", "bin=\"100440000005\"");
        let (taken, _) = take(&[
            ("a.xml", cases(&[case("D-1", 20), case("U-1", 20)])),
            ("b.xml", cases(&[invalid_copy, case("U-2", 20)])),
        ]);
        let ids: Vec<&str> = taken.candidates.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["U-1", "U-2"]);
        assert_eq!(taken.rejected.len(), 2);
        let (first, second) = (&taken.rejected[0], &taken.rejected[1]);
        assert!(first.read < second.read);
        for (rejected, other) in [(first, "b.xml, line 1"), (second, "a.xml, line 1")] {
            assert_eq!(rejected.problems.len(), 1, "{:?}", rejected.problems);
            let problem = &rejected.problems[0];
            assert_eq!(problem.case_id.as_deref(), Some("D-1"));
            assert_eq!(problem.field.as_deref(), Some("id"));
            assert!(problem.message.contains(other), "{}", problem.message);
        }
    }

    #[test]
    fn a_file_rejected_as_a_whole_takes_its_cases_along() {
        // The second file breaks off after one whole case: that case was read, but neither
        // counts nor makes the first file's copy a duplicate.
        let broken = format!("<cases>{}<case id=", case("D-1", 20));
        let (taken, problems) = take(&[
            ("a.xml", cases(&[case("D-1", 20)])),
            ("b.xml", broken),
            ("c.xml", cases(&[case("C-1", 20)])),
        ]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].origin.file.ends_with("b.xml"));
        let ids: Vec<&str> = taken.candidates.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["D-1", "C-1"]);
        assert_eq!(taken.cases, 2);
        assert!(taken.rejected.is_empty());
    }
}
