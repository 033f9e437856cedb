//! `qujat registry check`: everything that can be verified about a registry without trusting it.
//!
//! Every record's hash, place and link (so an edited, deleted, inserted or reordered record is
//! named), gapless numbers, allowed status changes, the head the last writer left (so a journal
//! cut back to an earlier record is caught), an incomplete last record, the template versions the
//! records name, and, on request, that every PDF in the output folder matches its record.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use super::brief::{self, OwnedLink};
use super::chain::Chain;
use super::index;
use super::read::Reader;
use super::record::{LineError, parse_line, sha256_hex, split_lines};
use super::short::Short;
use super::templates::TemplateStore;

/// Stops reading a journal at its first broken record (the problem is already noted).
#[derive(Debug)]
struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stopped at a broken record")
    }
}

impl std::error::Error for Stopped {}

/// Whether the PDF `file` (under the output folder) of document record `seq` has the SHA-256
/// the record names.
fn compare_pdf(
    out: &Path,
    seq: u64,
    document: &str,
    number: &str,
    file: &str,
    sha256: &str,
) -> Result<(), String> {
    let path = out.join(file);
    match std::fs::read(&path) {
        Ok(bytes) if sha256_hex(&bytes) == sha256 => Ok(()),
        Ok(_) => Err(format!(
            "record {seq} ({document} № {number}): {} does not match the record's SHA-256 \
             (altered, or replaced)",
            path.display()
        )),
        Err(err) => Err(format!(
            "record {seq} ({document} № {number}): {}: {err}",
            path.display()
        )),
    }
}

/// What is checked of one line in parallel, for the checks made in journal order.
struct Checked {
    link: OwnedLink,
    leaf: super::merkle::Hash,
    template: Option<Short<64>>,
    /// Whether its PDF matches (with `--files`).
    pdf: Option<Result<(), String>>,
    index_line: Short<128>,
}

/// What is checked of the line at `offset`, of `len` bytes, that is record `body` with hash
/// `hash` (checked); with `out`, its PDF under that output folder too.
fn check_line(
    scratch: &mut Vec<u8>,
    offset: u64,
    len: u64,
    (hash, body): (&str, &[u8]),
    out: Option<&Path>,
) -> Result<Checked, LineError> {
    let brief = brief::parse(body, scratch)?;
    if brief.is_document() && brief.holder.is_none() {
        // Written before records carried their holder: read whole, as a writer does.
        super::parse_for_readers(body)?;
    }
    let pdf = match (out, &brief.pdf) {
        (Some(out), Some(pdf)) if brief.is_document() => Some(compare_pdf(
            out,
            brief.seq,
            brief.document.as_deref().unwrap_or_default(),
            brief.number(),
            &pdf.file,
            &pdf.sha256,
        )),
        _ => None,
    };
    Ok(Checked {
        link: OwnedLink::of(&brief, hash),
        // The Merkle leaf is hashed here, in parallel; only the tree is built in order.
        leaf: super::checkpoint::leaf(hash),
        template: brief.template.as_deref().map(Short::new),
        pdf,
        index_line: index::brief_line(&brief, offset, len),
    })
}

/// What checking one registry found.
#[derive(Debug, Clone, Default)]
pub struct RegistryCheck {
    pub code: String,
    /// Whole records read and found sound (up to the first broken one).
    pub records: u64,
    pub documents: u64,
    pub events: u64,
    /// Documents by the status in force.
    pub statuses: BTreeMap<&'static str, u64>,
    /// PDFs compared with their records (with `--files`).
    pub files: u64,
    /// Merkle checkpoints found consistent with the records (or not: see `problems`).
    pub checkpoints: u64,
    /// What is wrong, each naming the record, file or version.
    pub problems: Vec<String>,
    /// What is worth knowing but not wrong (a record being written as we read).
    pub notes: Vec<String>,
}

impl RegistryCheck {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for RegistryCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{count} {status}"))
            .collect();
        write!(
            f,
            "{}: {} records: {} documents ({}), {} status events",
            self.code,
            self.records,
            self.documents,
            if statuses.is_empty() {
                "none".to_string()
            } else {
                statuses.join(", ")
            },
            self.events
        )?;
        if self.checkpoints > 0 {
            write!(f, "; {} checkpoints", self.checkpoints)?;
        }
        if self.files > 0 {
            write!(f, "; {} PDFs compared", self.files)?;
        }
        writeln!(
            f,
            " — {}",
            if self.is_sound() { "sound" } else { "DAMAGED" }
        )?;
        for problem in &self.problems {
            writeln!(f, "  problem: {problem}")?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        Ok(())
    }
}

/// Checks registry `reader` (under registry folder `root`); with `out`, also that every
/// document's PDF under the output folder `out` matches its record. Only failures to read are
/// errors; everything wrong with the registry is in the result.
pub fn check(root: &Path, reader: &Reader, out: Option<&Path>) -> Result<RegistryCheck> {
    check_with(root, reader, out, false)
}

/// [`check`], and with `full`, every record also read whole: its data well-formed JSON and the
/// whole record in the canonical form a writer writes. Without `full`, a record's bytes are
/// trusted to be a writer's once their hash, place and link are verified: what a record's hash
/// covers cannot have changed since it was written, so only a forger who re-hashes the chain
/// (which the checkpoints catch) or a foreign writer gets past it.
pub fn check_with(
    root: &Path,
    reader: &Reader,
    out: Option<&Path>,
    full: bool,
) -> Result<RegistryCheck> {
    let mut result = RegistryCheck {
        code: reader.code.clone(),
        ..RegistryCheck::default()
    };
    let mut chain = Chain::default();
    let mut versions: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let head = reader.journal().head()?;
    let index = std::fs::read(index::path(reader.journal().dir.as_path())).unwrap_or_default();
    let mut indexed = 0usize;
    let mut index_note = None;
    let mut broken = false;
    let mut tree = super::merkle::Tree::new();
    let scanned = reader.journal().scan_parallel(
        |lines| {
            let mut scratch = Vec::new();
            let split = split_lines(lines.iter().map(|&(_, line)| line));
            (lines.iter().zip(split))
                .map(|(&(offset, line), split)| {
                    if full {
                        parse_line(line)?;
                    }
                    check_line(&mut scratch, offset, line.len() as u64, split?, out)
                })
                .collect()
        },
        |at, parsed| {
            let pushed = parsed
                .map_err(|error| chain.unreadable(at.number, error))
                .and_then(|seen| {
                    chain.push_link(at.number, seen.link.hash.as_str(), &seen.link.link())?;
                    Ok(seen)
                });
            let Checked {
                link,
                leaf,
                template,
                pdf,
                index_line,
            } = match pushed {
                Ok(pushed) => pushed,
                Err(err) => {
                    result.problems.push(err.to_string());
                    broken = true;
                    return Err(anyhow::Error::new(Stopped));
                }
            };
            result.records += 1;
            tree.push(leaf);
            if let Some(head) = &head
                && head.seq == link.seq
                && head.hash != link.hash.as_str()
            {
                result.problems.push(format!(
                    "line {} (record {}): not the record the last writer left (head.json names \
                     another hash): records were replaced",
                    at.number, link.seq
                ));
            }
            if index_note.is_none() {
                let expected = index_line.as_str().as_bytes();
                if index.get(indexed..indexed + expected.len()) == Some(expected) {
                    indexed += expected.len();
                } else {
                    index_note = Some(link.seq);
                }
            }
            let Some(template) = template.filter(|_| !link.is_status()) else {
                result.events += 1;
                return Ok(());
            };
            result.documents += 1;
            match versions.get_mut(template.as_str()) {
                Some(seqs) => seqs.push(link.seq),
                None => {
                    versions.insert(template.as_str().to_string(), vec![link.seq]);
                }
            }
            if let Some(pdf) = pdf {
                result.files += 1;
                if let Err(problem) = pdf {
                    result.problems.push(problem);
                }
            }
            Ok(())
        },
    );
    let torn = match scanned {
        Ok(torn) => torn,
        Err(err) if err.is::<Stopped>() => 0,
        Err(err) => return Err(err),
    };
    if index_note.is_none() && indexed < index.len() && !broken {
        index_note = Some(chain.len() + 1);
    }
    if !broken {
        let checkpoints = super::checkpoint::load(&reader.journal().dir)?;
        result.checkpoints = checkpoints.len() as u64;
        result
            .problems
            .extend(super::checkpoint::problems(&checkpoints, &tree));
    }
    if let Some(seq) = index_note {
        result.notes.push(format!(
            "the index (index.tsv) disagrees with the journal from record {seq} on: lookups \
             read the journal instead until the next batch rewrites it"
        ));
    }
    if !broken {
        if torn > 0 {
            // A batch may be appending right now: give it a moment before calling it a cut.
            let length = std::fs::metadata(reader.path()).map(|m| m.len()).ok();
            std::thread::sleep(Duration::from_millis(200));
            let now = std::fs::metadata(reader.path()).map(|m| m.len()).ok();
            let line = result.records + 1;
            if length != now {
                result.notes.push(format!(
                    "line {line} was being written while the registry was read; it was not checked"
                ));
            } else {
                result.problems.push(format!(
                    "line {line} (record {line}) is incomplete: it was cut off after {torn} bytes \
                     (a crash during a write, or the journal was truncated); the next batch \
                     removes it, keeping the {} whole records before it",
                    result.records
                ));
            }
        }
        if let Some(head) = &head
            && chain.len() < head.seq
        {
            result.problems.push(format!(
                "the journal ends at record {}, but its last writer left {} records (head.json): \
                 {} removed",
                chain.len(),
                head.seq,
                super::removed(chain.len() + 1, head.seq)
            ));
        }
    }
    for seq in 1..=chain.len() {
        if let Some(status) = chain.status_of(seq) {
            *result.statuses.entry(status.as_str()).or_default() += 1;
        }
    }
    let store = TemplateStore::new(root);
    for (version, seqs) in &versions {
        if let Err(err) = store.load(version) {
            let shown: BTreeSet<_> = seqs.iter().take(5).collect();
            result.problems.push(format!(
                "{err:#}; records {shown:?}{} name it and cannot be regenerated",
                if seqs.len() > 5 { " and more" } else { "" }
            ));
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Writer;

    /// Found by fuzzing (tests/corpus/fuzz/journal-check-*): records with sound hashes that a
    /// writer refuses, or that only a whole read can refuse. A check and a writer must agree,
    /// and a full check refuses them all.
    #[test]
    fn a_check_and_a_writer_agree_and_a_full_check_refuses_what_either_lets_through() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/fuzz");
        let mut cases = 0;
        for entry in std::fs::read_dir(&corpus).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("journal-check-") {
                continue;
            }
            cases += 1;
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("media")).unwrap();
            std::fs::copy(&path, dir.path().join("media/journal.jsonl")).unwrap();
            let reader = Reader::open(dir.path(), "media").unwrap();
            let quick = check(dir.path(), &reader, None).unwrap();
            let full = check_with(dir.path(), &reader, None, true).unwrap();
            let writer = Writer::open(dir.path(), "media", Duration::ZERO);
            // The corpus keeps no template versions, which only the check looks at.
            let records_sound = quick.problems.iter().all(|p| p.contains("is not kept"));
            assert_eq!(
                records_sound,
                writer.is_ok(),
                "{name}: check says {quick}, the writer {:?}",
                writer.err()
            );
            assert!(
                full.problems.iter().any(|p| !p.contains("is not kept")),
                "{name}: a full check passed it"
            );
        }
        assert!(cases >= 5, "the fuzz corpus is missing");
    }
}
