//! `qujat registry check`: everything that can be verified about a registry without trusting it,
//! and a plain statement of what the verdict rests on.
//!
//! The one verified scan ([`crate::registry::scan`]) reads every record: hash, place, link (so
//! an edited, deleted, inserted or reordered record is named), gapless numbers, allowed status
//! changes, the head the last writer left, every checkpoint; with `--full` each record whole
//! (canonical form, its content hash that of its data, its QR payload naming it). Besides: the
//! template versions the records name, the registry's own bookkeeping (a missing head, fewer
//! checkpoints than a writer saw, a head set back behind a checkpoint), records no checkpoint
//! covers yet, a trusted checkpoint if one is given, and on request every PDF in the output
//! folder — those that match their record, and those no record names.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::registry::checkpoint::{self, Checkpoint};
use crate::registry::note::NoteVerifier;
use crate::registry::reader::Reader;
use crate::registry::scan::{self, Prepare, Seen, Sink, Verified};
use crate::registry::short::Short;
use crate::registry::templates::TemplateStore;
use crate::registry::{LineError, sha256_hex};
use crate::store::{Kind, Store};

/// How many problems with kept signatures are named one by one; the rest are counted (a
/// signatures folder lost whole would otherwise name every record).
const NAMED: u64 = 20;

/// What checking one registry found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegistryCheck {
    pub registry: String,
    /// Whole records read and found sound (up to the first broken one).
    pub records: u64,
    pub documents: u64,
    pub events: u64,
    /// Documents by the status in force.
    pub statuses: BTreeMap<&'static str, u64>,
    /// PDFs compared with their records (with `--files`).
    pub files: u64,
    /// Signed documents whose kept signature was looked for.
    pub signatures: u64,
    /// Merkle checkpoints found consistent with the records (or not: see `problems`).
    pub checkpoints: u64,
    /// What is wrong, each naming the record, file or version.
    pub problems: Vec<String>,
    /// What is worth knowing but not wrong (a record being written as we read).
    pub notes: Vec<String>,
    /// PDFs in the registry's output folder that no record names (with `--files`).
    pub orphans: Vec<String>,
    /// What the verdict rests on.
    pub basis: String,
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
            self.registry,
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
        if self.signatures > 0 {
            write!(f, "; signatures kept: {}", self.signatures)?;
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
        const SHOWN: usize = 50;
        for orphan in self.orphans.iter().take(SHOWN) {
            writeln!(f, "  orphan: {orphan} (no record names it)")?;
        }
        if self.orphans.len() > SHOWN {
            writeln!(f, "  … and {} more orphans", self.orphans.len() - SHOWN)?;
        }
        writeln!(f, "  basis: {}", self.basis)
    }
}

/// What `registry check` is asked.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Read every record whole too.
    pub full: bool,
    /// Compare every PDF under this output folder with its record, and list those no record
    /// names.
    pub files: Option<std::path::PathBuf>,
    /// A checkpoint published outside the registry, to check the registry against.
    pub trusted: Option<Checkpoint>,
    /// The key the registry's checkpoints are signed with.
    pub verifier: Option<NoteVerifier>,
}

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

/// What the check takes of each record, prepared in parallel.
struct Checked {
    template: Option<Short<64>>,
    document: bool,
    /// Its PDF's file name, and whether it matches (with `--files`).
    pdf: Option<(String, Result<(), String>)>,
    /// Whether the signature a signed document's record names is kept (and, with `--full`,
    /// whole): a problem naming the record otherwise.
    signature: Option<Result<(), String>>,
}

struct Preparer<'a> {
    out: Option<&'a Path>,
    /// The SHA-256 of every kept signature, listed once before the scan.
    kept: &'a HashSet<[u8; 32]>,
    /// With `--full`: where each kept signature is read from, to check it whole.
    store: Option<&'a dyn Store>,
}

impl Preparer<'_> {
    /// Whether the signature `hash` that signed document record `seq` names is kept: listed,
    /// and with `--full` read back (its hash checked by the store) and a kept signature.
    fn kept_signature(
        &self,
        seq: u64,
        document: &str,
        number: &str,
        hash: &str,
    ) -> Result<(), String> {
        let at = || format!("record {seq} ({document} № {number})");
        let mut bytes = [0u8; 32];
        if hash.len() != 64 || hex::decode_to_slice(hash, &mut bytes).is_err() {
            return Err(format!(
                "{}: its signature names {hash:?}, which is not a SHA-256",
                at()
            ));
        }
        let not_kept = || {
            format!(
                "{}: the signature it names ({hash}) is not kept, so its signed PDF cannot be \
                 regenerated",
                at()
            )
        };
        if !self.kept.contains(&bytes) {
            return Err(not_kept());
        }
        let Some(store) = self.store else {
            return Ok(());
        };
        match store.kept(Kind::Signature, hash) {
            Ok(Some(kept)) => crate::sign::KeptSignature::from_bytes(&kept)
                .map(|_| ())
                .map_err(|err| {
                    format!(
                        "{}: its kept signature {hash} cannot be read: {err:#}",
                        at()
                    )
                }),
            Ok(None) => Err(not_kept()),
            Err(err) => Err(format!("{}: {err:#}", at())),
        }
    }
}

impl Prepare for Preparer<'_> {
    type Item = Checked;
    type Scratch = ();

    fn prepare(&self, _: &mut (), seen: &Seen<'_>) -> Result<Checked, LineError> {
        let brief = seen.brief;
        let document = brief.is_document();
        let pdf = match (self.out, &brief.pdf) {
            (Some(out), Some(pdf)) if document => Some((
                pdf.file.to_string(),
                compare_pdf(
                    out,
                    brief.seq,
                    brief.document.as_deref().unwrap_or_default(),
                    brief.number(),
                    &pdf.file,
                    &pdf.sha256,
                ),
            )),
            _ => None,
        };
        let signature = brief
            .signature
            .as_ref()
            .filter(|_| document)
            .map(|signature| {
                self.kept_signature(
                    brief.seq,
                    brief.document.as_deref().unwrap_or_default(),
                    brief.number(),
                    &signature.kept,
                )
            });
        Ok(Checked {
            template: brief.template.as_deref().map(Short::new),
            document,
            pdf,
            signature,
        })
    }
}

struct Checker<'a> {
    out: Option<&'a Path>,
    kept: &'a HashSet<[u8; 32]>,
    /// With `--full`.
    store: Option<&'a dyn Store>,
    /// Records whose kept signature is missing or broken (the first [`NAMED`] are named).
    unkept: u64,
    result: RegistryCheck,
    versions: BTreeMap<String, Vec<u64>>,
    /// The PDFs the records name (with `--files`).
    named: HashSet<String>,
}

impl<'a> Sink for Checker<'a> {
    type Prepare = Preparer<'a>;

    fn preparer(&self) -> Preparer<'a> {
        Preparer {
            out: self.out,
            kept: self.kept,
            store: self.store,
        }
    }

    fn record(&mut self, record: &Verified<'_>, checked: Checked) -> Result<()> {
        self.result.records += 1;
        let Some(template) = checked.template.filter(|_| checked.document) else {
            self.result.events += 1;
            return Ok(());
        };
        self.result.documents += 1;
        match self.versions.get_mut(template.as_str()) {
            Some(seqs) => seqs.push(record.seq),
            None => {
                self.versions
                    .insert(template.as_str().to_string(), vec![record.seq]);
            }
        }
        if let Some(kept) = checked.signature {
            self.result.signatures += 1;
            if let Err(problem) = kept {
                self.unkept += 1;
                if self.unkept <= NAMED {
                    self.result.problems.push(problem);
                }
            }
        }
        if let Some((file, compared)) = checked.pdf {
            self.result.files += 1;
            if let Err(problem) = compared {
                self.result.problems.push(problem);
            }
            self.named.insert(file);
        }
        Ok(())
    }
}

/// Checks registry `reader` of `store`. Only failures to read are errors; everything wrong with
/// the registry is in the result.
pub fn check(store: &dyn Store, reader: &Reader, options: &Options) -> Result<RegistryCheck> {
    let log = reader.log();
    let head = log.head()?;
    let checkpoints = match checkpoint::load(log) {
        Ok(checkpoints) => checkpoints,
        Err(err) => {
            return Ok(RegistryCheck {
                registry: reader.code.clone(),
                problems: vec![format!("{err:#}")],
                basis: "nothing: its checkpoints cannot be read".to_string(),
                ..RegistryCheck::default()
            });
        }
    };
    let indexed = log.indexed()?;
    let kept: HashSet<[u8; 32]> = store
        .kept_hashes(Kind::Signature)?
        .iter()
        .filter_map(|hash| {
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(hash, &mut bytes).ok().map(|()| bytes)
        })
        .collect();
    let mut checker = Checker {
        out: options.files.as_deref(),
        kept: &kept,
        store: options.full.then_some(store),
        unkept: 0,
        result: RegistryCheck {
            registry: reader.code.clone(),
            ..RegistryCheck::default()
        },
        versions: BTreeMap::new(),
        named: HashSet::new(),
    };
    let scan_options = scan::Options {
        full: options.full,
        head: head.clone(),
        checkpoints: checkpoints.clone(),
        trusted: options.trusted.clone(),
        nodes: false,
    };
    let outcome = scan::scan(log, scan::Start::default(), &scan_options, &mut checker)?;
    let mut result = checker.result;
    if checker.unkept > NAMED {
        result.problems.push(format!(
            "… and {} more records whose kept signature is missing or broken",
            checker.unkept - NAMED
        ));
    }
    let broken = outcome.broken.is_some();
    if let Some(error) = &outcome.broken {
        result.problems.push(error.to_string());
    }
    result.problems.extend(outcome.problems);
    result.checkpoints = checkpoints.len() as u64;
    signatures(&mut result, &checkpoints, options.verifier.as_ref());
    let len = outcome.chain.len();
    if !broken {
        if outcome.torn > 0 {
            // A batch may be appending right now: give it a moment before calling it a cut.
            let before = log.scan(len + 1, &mut |_| Ok(())).map(|end| end.torn).ok();
            std::thread::sleep(Duration::from_millis(200));
            let after = log.scan(len + 1, &mut |_| Ok(())).map(|end| end.torn).ok();
            let line = len + 1;
            if before != after {
                result.notes.push(format!(
                    "record {line} was being written while the registry was read; it was not \
                     checked"
                ));
            } else {
                result.problems.push(format!(
                    "line {line} (record {line}) is incomplete: it was cut off after {} bytes (a \
                     crash during a write, or the journal was truncated); the next batch \
                     completes it if it is whole, or keeps its bytes aside and removes them, \
                     keeping the {len} whole records before it",
                    outcome.torn
                ));
            }
        }
        if let Some(problem) = scan::head_problem("the journal", len, head.as_ref()) {
            result.problems.push(problem);
        }
        bookkeeping(&mut result, len, head.as_ref(), &checkpoints, &indexed);
    }
    for seq in 1..=len {
        if let Some(status) = outcome.chain.status_of(seq) {
            *result.statuses.entry(status.as_str()).or_default() += 1;
        }
    }
    let store_templates = TemplateStore::new(store);
    for (version, seqs) in &checker.versions {
        if let Err(err) = store_templates.load(version) {
            let shown: BTreeSet<_> = seqs.iter().take(5).collect();
            result.problems.push(format!(
                "{err:#}; records {shown:?}{} name it and cannot be regenerated",
                if seqs.len() > 5 { " and more" } else { "" }
            ));
        }
    }
    if let Some(out) = &options.files {
        result.orphans = orphans(out, &reader.code, &checker.named);
    }
    result.basis = basis(len, &checkpoints, options.trusted.as_ref());
    Ok(result)
}

/// What the registry's own bookkeeping says is wrong: no head though it has records, a head set
/// back behind a checkpoint written after it, fewer checkpoints or records than a writer saw;
/// and records no checkpoint covers.
fn bookkeeping(
    result: &mut RegistryCheck,
    len: u64,
    head: Option<&crate::store::Head>,
    checkpoints: &[Checkpoint],
    indexed: &crate::store::Indexed,
) {
    let newest = checkpoints.last().map_or(0, |c| c.size);
    match head {
        // A batch writes its head, then its checkpoint: with a checkpoint there, a head was.
        None if len > 0 && !checkpoints.is_empty() => result.problems.push(format!(
            "it has {len} records and checkpoints but no head, which every batch \
             writes before its checkpoint: the head was deleted"
        )),
        None if len > 0 => result.notes.push(format!(
            "it has {len} records but no head and no checkpoint: no batch has \
             finished writing here yet (one may be running, or stopped; the next one finishes)"
        )),
        Some(head) if head.seq < newest => result.problems.push(format!(
            "its head names record {}, but a checkpoint of {newest} records was written after \
             a head at record {newest}: the head was set back",
            head.seq
        )),
        _ => {}
    }
    if (checkpoints.len() as u64) < indexed.checkpoints {
        result.problems.push(format!(
            "it has {} checkpoints, but had {} when a writer last looked: checkpoints were \
             removed",
            checkpoints.len(),
            indexed.checkpoints
        ));
    }
    if let Some(listed) = indexed.disagrees {
        result.problems.push(format!(
            "its index, made by an earlier writer, lists {listed} records that the journal \
             (of {len}) does not have as listed: records were removed or replaced, or the \
             journal was restored from an older copy (the next batch makes the index again)"
        ));
    }
    if len > newest {
        result.notes.push(format!(
            "{} {} covered by no checkpoint yet: a batch that has not finished (or stopped), \
             or records appended by something else; `verify` does not vouch for them until a \
             batch's checkpoint covers them",
            if len == newest + 1 {
                format!("record {len}")
            } else {
                format!("records {}–{len}", newest + 1)
            },
            if len == newest + 1 { "is" } else { "are" }
        ));
    }
}

/// Whether every checkpoint is signed by the registry's key: a bad signature is a problem (the
/// checkpoint was rewritten by someone without the key), and so is an unsigned checkpoint after
/// a signed one (signing never stops); unsigned checkpoints before the first signed one were
/// written before the registry signed, and are a note.
fn signatures(
    result: &mut RegistryCheck,
    checkpoints: &[Checkpoint],
    verifier: Option<&NoteVerifier>,
) {
    let signed = checkpoints.iter().position(|c| c.note.is_some());
    let Some(verifier) = verifier else {
        if signed.is_some() {
            result.notes.push(
                "its checkpoints are signed, but no key was given to check them ([checkpoints] \
                 verifier in qujat.toml, or --key FILE)"
                    .to_string(),
            );
        }
        return;
    };
    let mut unsigned = 0;
    for (i, checkpoint) in checkpoints.iter().enumerate() {
        match checkpoint.check_signature(verifier) {
            Ok(()) => {}
            Err(_) if checkpoint.note.is_none() && signed.is_none_or(|first| i < first) => {
                unsigned += 1
            }
            Err(why) => result.problems.push(format!(
                "checkpoint {} (size {}) is not signed by the registry's key {}: {why}; it was \
                 written or rewritten by someone without the key",
                i + 1,
                checkpoint.size,
                verifier.name
            )),
        }
    }
    if unsigned > 0 {
        result.notes.push(format!(
            "its first {unsigned} checkpoints are unsigned (written before it signed them)"
        ));
    }
}

/// What a verdict of "sound" rests on.
fn basis(len: u64, checkpoints: &[Checkpoint], trusted: Option<&Checkpoint>) -> String {
    match trusted {
        Some(trusted) => format!(
            "every record was checked; the first {} against the trusted checkpoint given \
             (root {}), the rest against the registry's own checkpoints only",
            trusted.size, trusted.root
        ),
        None if checkpoints.is_empty() => format!(
            "the {len} records' own chain only: without a checkpoint, a history rewritten \
             whole (every hash recomputed) or cut back with its head cannot be told from a \
             sound one; pass --trusted-checkpoint FILE with a checkpoint published earlier"
        ),
        None => format!(
            "the registry's own chain and checkpoints: sound as far as its newest checkpoint \
             (size {}) is the one it published; records cut off its end together with their \
             head and checkpoints, or a history rewritten whole with its checkpoints, show only \
             against a checkpoint kept outside it: pass --trusted-checkpoint FILE",
            checkpoints.last().map_or(0, |c| c.size)
        ),
    }
}

/// The PDFs under the output folder's `code` folder that no record names, relative to the
/// output folder.
fn orphans(out: &Path, code: &str, named: &HashSet<String>) -> Vec<String> {
    let dir = out.join(code);
    let mut orphans: Vec<String> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let relative = e
                .path()
                .strip_prefix(out)
                .ok()?
                .to_str()?
                .replace('\\', "/");
            (relative.ends_with(".pdf") && !named.contains(&relative)).then_some(relative)
        })
        .collect();
    orphans.sort();
    orphans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Writer;
    use crate::store::files::Files;

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
            let store = Files::new(dir.path());
            let reader = Reader::open(&store, "media").unwrap();
            let quick = check(&store, &reader, &Options::default()).unwrap();
            let full = check(
                &store,
                &reader,
                &Options {
                    full: true,
                    ..Options::default()
                },
            )
            .unwrap();
            let writer = Writer::open(&store, "media", Duration::ZERO);
            // The corpus keeps no template versions nor heads, which only the check looks at.
            let records_sound = quick
                .problems
                .iter()
                .all(|p| p.contains("is not kept") || p.contains("no head"));
            assert_eq!(
                records_sound,
                writer.is_ok(),
                "{name}: check says {quick}, the writer {:?}",
                writer.err()
            );
            assert!(
                full.problems
                    .iter()
                    .any(|p| !p.contains("is not kept") && !p.contains("no head")),
                "{name}: a full check passed it"
            );
        }
        assert!(cases >= 5, "the fuzz corpus is missing");
    }
}
