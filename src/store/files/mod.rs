//! The files driver, qujat's embedded default: registries as plain files under one folder,
//! readable with any text tool and verifiable with nothing but SHA-256.
//!
//! ```text
//! <root>/<code>/journal.jsonl      the records, one line each (the registry itself)
//! <root>/<code>/head.json          the last record its last writer left
//! <root>/<code>/checkpoints.jsonl  Merkle checkpoints, one line each
//! <root>/<code>/index.sqlite       the index (derived: made again from the journal at need)
//! <root>/<code>/writer.lock        the writer's lock (flock)
//! <root>/<code>/quarantine/        incomplete records cut off the journal's end, kept
//! <root>/templates/<hash>.json     kept template versions
//! <root>/signatures/<hash>.der     kept signatures
//! ```
//!
//! This is the only module that knows these names.

mod index;
pub mod journal;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use self::index::{Index, Last, Place, Row};
use super::{
    Appended, Appender, Block, Hash, Head, Indexed, Indexing, Kind, Listed, Log, Lookup, Node,
    Recovered, ScanEnd, Store, Stored, valid_code,
};
use crate::fsio::write_atomically;
use crate::registry::sha256_hex;

const JOURNAL: &str = "journal.jsonl";
const HEAD: &str = "head.json";
const CHECKPOINTS: &str = "checkpoints.jsonl";
const INDEX: &str = "index.sqlite";
/// The index of qujat before `index.sqlite`: removed when the new one is made.
const OLD_INDEX: &str = "index.tsv";
const LOCK: &str = "writer.lock";
const QUARANTINE: &str = "quarantine";
const TEMPLATES: &str = "templates";
const SIGNATURES: &str = "signatures";

/// Registries under a folder.
#[derive(Debug, Clone)]
pub struct Files {
    root: PathBuf,
}

impl Files {
    pub fn new(root: &Path) -> Files {
        Files {
            root: root.to_path_buf(),
        }
    }

    fn dir(&self, code: &str) -> PathBuf {
        self.root.join(code)
    }

    /// Where the kept things of `kind` named `hash` are.
    fn kept_path(&self, kind: Kind, hash: &str) -> PathBuf {
        match kind {
            Kind::Template => self.root.join(TEMPLATES).join(format!("{hash}.json")),
            Kind::Signature => self.root.join(SIGNATURES).join(format!("{hash}.der")),
        }
    }

    /// What is wrong with the registry folder `dir` such that it cannot be a registry at all
    /// (`None`: a registry, or nothing there).
    fn problem(dir: &Path) -> Option<String> {
        let meta = match std::fs::symlink_metadata(dir) {
            Ok(meta) => meta,
            Err(_) => return None,
        };
        if !(meta.is_dir() || meta.is_symlink() && dir.is_dir()) {
            return Some(format!(
                "{} is not a folder (a registry is a folder holding {JOURNAL})",
                dir.display()
            ));
        }
        let journal = dir.join(JOURNAL);
        match std::fs::metadata(&journal) {
            Ok(meta) if meta.is_file() => None,
            Ok(meta) if meta.is_dir() => Some(format!(
                "its journal {} is a folder, not a file",
                journal.display()
            )),
            Ok(_) => Some(format!(
                "its journal {} is not a regular file (a device, a pipe?)",
                journal.display()
            )),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let others: Vec<&str> = [HEAD, CHECKPOINTS, INDEX, OLD_INDEX]
                    .into_iter()
                    .filter(|name| dir.join(name).exists())
                    .collect();
                (!others.is_empty()).then(|| {
                    format!(
                        "it has no journal ({JOURNAL}) but has {}: its records were removed?",
                        others.join(", ")
                    )
                })
            }
            Err(err) => Some(format!(
                "its journal {} cannot be read: {err}",
                journal.display()
            )),
        }
    }
}

impl Store for Files {
    fn describe(&self) -> String {
        format!("the registry folder {}", self.root.display())
    }

    fn registries(&self) -> Result<Vec<Listed>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => {
                return Err(err).with_context(|| {
                    format!("cannot read the registry folder {}", self.root.display())
                });
            }
        };
        let mut listed = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", self.root.display()))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name == TEMPLATES || name == SIGNATURES || !valid_code(&name) {
                continue;
            }
            let dir = entry.path();
            match Files::problem(&dir) {
                Some(problem) => listed.push(Listed {
                    code: name,
                    problem: Some(problem),
                }),
                None if dir.join(JOURNAL).is_file() => listed.push(Listed {
                    code: name,
                    problem: None,
                }),
                None => {}
            }
        }
        listed.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(listed)
    }

    fn log(&self, code: &str) -> Result<Option<Box<dyn Log>>> {
        if !valid_code(code) {
            return Ok(None);
        }
        let dir = self.dir(code);
        if let Some(problem) = Files::problem(&dir) {
            bail!("registry {code} cannot be read: {problem}");
        }
        let path = dir.join(JOURNAL);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Some(Box::new(FilesLog::new(code, &dir, file, None)?)))
    }

    fn appender(&self, code: &str, wait: Duration) -> Result<Box<dyn Appender>> {
        if !valid_code(code) {
            bail!("{code:?} cannot name a registry (letters, digits and '-' only)");
        }
        let dir = self.dir(code);
        if let Some(problem) = Files::problem(&dir) {
            bail!("registry {code} cannot be written: {problem}");
        }
        let lock = journal::lock(&dir, &dir.join(LOCK), wait)?;
        // Holding the lock, no live writer has temporary files here: any are a crash's.
        crate::fsio::remove_stale_temporaries(&dir);
        let path = dir.join(JOURNAL);
        let appending = journal::Appending::open(&path)?;
        let file = File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let index = Index::open_write(&dir.join(INDEX))?;
        let _ = std::fs::remove_file(dir.join(OLD_INDEX));
        let log = FilesLog::new(code, &dir, file, Some(index))?;
        Ok(Box::new(FilesAppender {
            log,
            appending,
            _lock: lock,
        }))
    }

    fn keep(&self, kind: Kind, bytes: &[u8]) -> Result<String> {
        let hash = sha256_hex(bytes);
        let path = self.kept_path(kind, &hash);
        if !path.exists() {
            write_atomically(&path, bytes)?;
        }
        Ok(hash)
    }

    fn keep_all(&self, kind: Kind, items: &[Vec<u8>]) -> Result<Vec<String>> {
        // Each written under its name (a temporary file renamed: never a partial one there),
        // then all synced together with their folder.
        let mut hashes = Vec::with_capacity(items.len());
        let mut written = Vec::new();
        for bytes in items {
            let hash = sha256_hex(bytes);
            let path = self.kept_path(kind, &hash);
            if !path.exists() {
                crate::fsio::write_replacing(&path, bytes)?;
                written.push(path);
            }
            hashes.push(hash);
        }
        crate::fsio::sync_files(written.iter().map(PathBuf::as_path))?;
        Ok(hashes)
    }

    fn kept(&self, kind: Kind, hash: &str) -> Result<Option<Vec<u8>>> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let path = self.kept_path(kind, hash);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        anyhow::ensure!(
            sha256_hex(&bytes) == hash,
            "{} file {} does not match its hash (edited?)",
            kind.name(),
            path.display()
        );
        Ok(Some(bytes))
    }

    fn kept_hashes(&self, kind: Kind) -> Result<Vec<String>> {
        let (dir, suffix) = match kind {
            Kind::Template => (self.root.join(TEMPLATES), ".json"),
            Kind::Signature => (self.root.join(SIGNATURES), ".der"),
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", dir.display())),
        };
        let mut hashes = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            if let Some(hash) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(suffix))
                && hash.len() == 64
                && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            {
                hashes.push(hash.to_string());
            }
        }
        hashes.sort();
        Ok(hashes)
    }
}

/// A registry's files, read.
struct FilesLog {
    code: String,
    dir: PathBuf,
    file: File,
    /// The index, if there is one, and whether it was found to agree with the journal (and up to
    /// which record).
    index: Mutex<IndexState>,
}

struct IndexState {
    index: Option<Index>,
    /// The last indexed record, once checked against the journal: `Some(None)` when the index
    /// is empty or disagrees (and is not used), `None` before the check.
    checked: Option<Option<Last>>,
}

impl FilesLog {
    fn new(code: &str, dir: &Path, file: File, index: Option<Index>) -> Result<FilesLog> {
        let index = match index {
            Some(index) => Some(index),
            None => Index::open_read(&dir.join(INDEX))?,
        };
        Ok(FilesLog {
            code: code.to_string(),
            dir: dir.to_path_buf(),
            file,
            index: Mutex::new(IndexState {
                index,
                checked: None,
            }),
        })
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL)
    }

    fn context(&self) -> String {
        format!("cannot read {}", self.journal_path().display())
    }

    /// Where the journal's whole lines end now.
    fn whole_end(&self) -> Result<u64> {
        let len = self.file.metadata().with_context(|| self.context())?.len();
        journal::whole_lines_end(&self.file, len).with_context(|| self.context())
    }

    /// The index state, checked against the journal: the last indexed record, when the index
    /// agrees with the journal (its last record lies where it says, with its hash).
    fn agreed(&self) -> Result<Option<Last>> {
        let mut state = self.index.lock().expect("no panic while holding the index");
        let Some(index) = &state.index else {
            return Ok(None);
        };
        let last = index.last()?;
        if let Some(Some(checked)) = state.checked
            && Some(checked) == last
        {
            return Ok(Some(checked));
        }
        let agrees = match last {
            None => None,
            Some(last) => {
                let line =
                    journal::read_at(&self.file, last.place.offset, last.place.len as usize + 1)
                        .with_context(|| self.context())?;
                let hex = hex::encode(last.hash);
                let fits = line.len() as u64 == last.place.len + 1
                    && line.ends_with(b"\n")
                    && line.get(9..73) == Some(hex.as_bytes());
                fits.then_some(last)
            }
        };
        state.checked = Some(agrees);
        Ok(agrees)
    }

    fn with_index<T>(&self, f: impl FnOnce(&Index) -> Result<T>) -> Result<Option<T>> {
        let state = self.index.lock().expect("no panic while holding the index");
        state.index.as_ref().map(f).transpose()
    }

    /// Whole lines from byte `offset` (the start of record `first`) to the journal's end, each
    /// handed to `each` with its position and place.
    fn tail_lines(
        &self,
        offset: u64,
        first: u64,
        each: &mut (dyn FnMut(Place, &[u8]) -> Result<()> + Send),
    ) -> Result<()> {
        let end = self.whole_end()?;
        let mut seq = first;
        let mut at = offset;
        journal::scan(&self.file, offset, end, journal::BLOCK, &mut |text, _| {
            for line in text.split_inclusive(|&b| b == b'\n') {
                let len = line.len() as u64 - 1;
                each(
                    Place {
                        seq,
                        offset: at,
                        len,
                    },
                    &line[..line.len() - 1],
                )?;
                seq += 1;
                at += len + 1;
            }
            Ok(())
        })
        .with_context(|| self.context())?;
        Ok(())
    }

    /// Where the records after the agreed index begin: (offset, the next position).
    fn after_index(&self) -> Result<(u64, u64)> {
        Ok(match self.agreed()? {
            Some(last) => (last.place.end(), last.place.seq + 1),
            None => (0, 1),
        })
    }

    /// The records at `seqs` found by walking the journal's whole lines from byte `offset` (the
    /// start of record `first`), stopping after the last one wanted.
    fn walk(&self, offset: u64, first: u64, seqs: &[u64]) -> Result<Vec<Stored>> {
        let wanted: std::collections::BTreeSet<u64> = seqs.iter().copied().collect();
        let last_wanted = *wanted.last().expect("something is wanted");
        let mut found = Vec::new();
        self.tail_lines(offset, first, &mut |place, line| {
            if wanted.contains(&place.seq) {
                found.push(Stored {
                    seq: place.seq,
                    line: line.to_vec(),
                });
            }
            if place.seq >= last_wanted {
                bail!(Done);
            }
            Ok(())
        })
        .or_else(|err| if err.is::<Done>() { Ok(()) } else { Err(err) })?;
        Ok(found)
    }

    /// Where record `seq` starts, and `seq`; past the end, where the whole records end and the
    /// position after the last.
    fn locate(&self, seq: u64) -> Result<(u64, u64)> {
        if seq <= 1 {
            return Ok((0, 1));
        }
        if let Some(last) = self.agreed()?
            && seq - 1 <= last.place.seq
        {
            let before = self
                .with_index(|index| index.place(seq - 1))?
                .flatten()
                .context("the index lacks a record before its last")?;
            return Ok((before.end(), seq));
        }
        let (offset, first) = self.after_index()?;
        let mut found = (offset, first);
        self.tail_lines(offset, first, &mut |place, _| {
            if place.seq < seq {
                found = (place.end(), place.seq + 1);
            }
            Ok(())
        })?;
        Ok(found)
    }
}

/// Cheaply rules out a line that cannot be what `lookup` asks for, before its facts are read:
/// the value looked for must stand in it as a JSON string.
fn may_match(lookup: &Lookup<'_>, line: &[u8]) -> bool {
    let needle = match lookup {
        Lookup::Number(value) | Lookup::Case(value) | Lookup::Pdf(value) => {
            serde_json::to_string(value).expect("strings serialise")
        }
        Lookup::Key { case_id, .. } => serde_json::to_string(case_id).expect("strings serialise"),
        Lookup::Once { value, .. } => serde_json::to_string(value).expect("strings serialise"),
        Lookup::Events(target) => format!("\"target\":{target}"),
        Lookup::Statuses => "\"type\":\"status\"".to_string(),
    };
    memchr::memmem::find(line, needle.as_bytes()).is_some()
}

impl Log for FilesLog {
    fn code(&self) -> &str {
        &self.code
    }

    fn describe(&self) -> String {
        format!("registry {} ({})", self.code, self.journal_path().display())
    }

    fn scan(
        &self,
        from: u64,
        each: &mut (dyn FnMut(Block<'_>) -> Result<()> + Send),
    ) -> Result<ScanEnd> {
        let from = from.max(1);
        let len = self.file.metadata().with_context(|| self.context())?.len();
        let end = journal::whole_lines_end(&self.file, len).with_context(|| self.context())?;
        let torn = len - end;
        let (offset, from) = self.locate(from)?;
        let mut first = from;
        let lines = journal::scan(
            &self.file,
            offset,
            end,
            journal::BLOCK,
            &mut |text, count| {
                each(Block { first, text })?;
                first += count;
                Ok(())
            },
        )
        .with_context(|| self.context())?;
        Ok(ScanEnd {
            last: from - 1 + lines,
            torn,
        })
    }

    fn read(&self, seqs: &[u64]) -> Result<Vec<Stored>> {
        let agreed = self.agreed()?.map_or(0, |last| last.place.seq);
        let mut stored: Vec<Stored> = Vec::with_capacity(seqs.len());
        // Records the index does not cover, and those it places where the journal has no whole
        // line (the journal was changed in the middle): read by walking the journal.
        let mut beyond = Vec::new();
        let mut misplaced = Vec::new();
        for &seq in seqs {
            if seq == 0 {
                continue;
            }
            if seq > agreed {
                beyond.push(seq);
                continue;
            }
            let Some(place) = self.with_index(|index| index.place(seq))?.flatten() else {
                misplaced.push(seq);
                continue;
            };
            let mut line = journal::read_at(&self.file, place.offset, place.len as usize + 1)
                .with_context(|| self.context())?;
            let starts_a_line = place.offset == 0
                || journal::read_at(&self.file, place.offset - 1, 1)
                    .with_context(|| self.context())?
                    == b"\n";
            if line.pop() == Some(b'\n') && starts_a_line && !line.contains(&b'\n') {
                stored.push(Stored { seq, line });
            } else {
                misplaced.push(seq);
            }
        }
        if !beyond.is_empty() {
            let (offset, first) = self.after_index()?;
            stored.extend(self.walk(offset, first, &beyond)?);
        }
        if !misplaced.is_empty() {
            stored.extend(self.walk(0, 1, &misplaced)?);
        }
        // In the order asked.
        let order: std::collections::HashMap<u64, usize> = seqs
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, i))
            .rev()
            .collect();
        stored.sort_by_key(|s| order.get(&s.seq).copied().unwrap_or(usize::MAX));
        Ok(stored)
    }

    fn find(&self, lookup: &Lookup<'_>) -> Result<Vec<u64>> {
        let mut found = match self.agreed()? {
            Some(_) => self
                .with_index(|index| index.find(index::key(lookup)))?
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let (offset, first) = self.after_index()?;
        self.tail_lines(offset, first, &mut |place, line| {
            if may_match(lookup, line)
                && let Ok(facts) = crate::registry::facts_of_line(line)
                && lookup.matches(&facts)
            {
                found.push(place.seq);
            }
            Ok(())
        })?;
        Ok(found)
    }

    fn head(&self) -> Result<Option<Head>> {
        let path = self.dir.join(HEAD);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("cannot read the registry head {}", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn checkpoints(&self) -> Result<Vec<Vec<u8>>> {
        let path = self.dir.join(CHECKPOINTS);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        let whole = memchr::memrchr(b'\n', &bytes).map_or(0, |i| i + 1);
        Ok(bytes[..whole]
            .split_inclusive(|&b| b == b'\n')
            .map(|line| line[..line.len() - 1].to_vec())
            .collect())
    }

    fn indexed(&self) -> Result<Indexed> {
        let checkpoints = self
            .with_index(|index| index.checkpoints_seen())?
            .unwrap_or(0);
        let Some(last) = self.agreed()? else {
            let listed = self.with_index(|index| index.last())?.flatten();
            return Ok(Indexed {
                checkpoints,
                disagrees: listed.map(|last| last.place.seq),
                ..Indexed::default()
            });
        };
        Ok(Indexed {
            size: last.place.seq,
            last: Some(last.hash),
            checkpoints,
            disagrees: None,
        })
    }

    fn tails(&self) -> Result<Vec<(String, u64)>> {
        if self.agreed()?.is_none() {
            return Ok(Vec::new());
        }
        Ok(self.with_index(|index| index.tails())?.unwrap_or_default())
    }

    fn hashes(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let Some(last) = self.agreed()? else {
            return Ok(Vec::new());
        };
        Ok(self
            .with_index(|index| index.hashes(from, to.min(last.place.seq)))?
            .unwrap_or_default())
    }

    fn node(&self, level: u32, index: u64) -> Result<Option<Hash>> {
        if self.agreed()?.is_none() {
            return Ok(None);
        }
        Ok(self.with_index(|i| i.node(level, index))?.flatten())
    }

    fn begin_read(&self) -> Result<()> {
        self.with_index(|index| index.begin_read())?;
        Ok(())
    }

    fn end_read(&self) {
        let _ = self.with_index(|index| {
            index.end_read();
            Ok(())
        });
    }
}

/// Ends a scan early.
#[derive(Debug)]
struct Done;

impl std::fmt::Display for Done {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("done")
    }
}

impl std::error::Error for Done {}

/// A registry's files, held by their one writer.
struct FilesAppender {
    log: FilesLog,
    appending: journal::Appending,
    _lock: journal::WriterLock,
}

impl FilesAppender {
    /// The writer's index, for a change (which the next check against the journal sees).
    fn index_mut<T>(&self, f: impl FnOnce(&mut Index) -> Result<T>) -> Result<T> {
        let mut state = self
            .log
            .index
            .lock()
            .expect("no panic while holding the index");
        state.checked = None;
        f(state.index.as_mut().expect("a writer has its index"))
    }

    /// Where the next record to index starts, and its position.
    fn index_end(&self) -> Result<(u64, u64)> {
        self.log.after_index()
    }
}

log_through_field!(FilesAppender);

impl Appender for FilesAppender {
    fn torn(&self) -> Result<Vec<u8>> {
        self.appending.torn()
    }

    fn recover(&mut self, complete: bool) -> Result<Option<Recovered>> {
        let torn = self.appending.torn()?;
        if torn.is_empty() {
            return Ok(None);
        }
        if complete {
            self.appending.append(b"\n")?;
            return Ok(Some(Recovered::Completed));
        }
        let whole = self.appending.size()? - torn.len() as u64;
        let name = format!("torn-at-{whole}-{}.bin", &sha256_hex(&torn)[..16]);
        let kept = self.log.dir.join(QUARANTINE).join(name);
        write_atomically(&kept, &torn)?;
        self.appending.cut(whole)?;
        Ok(Some(Recovered::Cut {
            whole,
            kept: kept.display().to_string(),
        }))
    }

    fn append(&mut self, records: &[Appended], nodes: &[Node]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let (offset, next) = self.index_end()?;
        let end = self.appending.size()?;
        if offset != end || records[0].seq != next {
            bail!(
                "{}: record {} cannot be appended: the journal holds records the index lacks, or \
                 an incomplete record (index them, or recover it, first)",
                self.log.describe(),
                records[0].seq
            );
        }
        let mut text = Vec::new();
        for record in records {
            text.extend_from_slice(&record.line);
            text.push(b'\n');
        }
        self.appending.append(&text)?;
        let indexing: Vec<Indexing> = records
            .iter()
            .map(|a| Indexing {
                seq: a.seq,
                len: a.line.len() as u64,
                facts: a.facts.clone(),
            })
            .collect();
        self.index(&indexing, nodes)
    }

    fn index(&self, records: &[Indexing], nodes: &[Node]) -> Result<()> {
        let (mut offset, next) = self.index_end()?;
        let mut rows = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            if record.seq != next + i as u64 {
                bail!(
                    "record {} indexed where {} goes",
                    record.seq,
                    next + i as u64
                );
            }
            let len = record.len;
            rows.push(Row {
                place: Place {
                    seq: record.seq,
                    offset,
                    len,
                },
                facts: &record.facts,
            });
            offset += len + 1;
        }
        self.index_mut(|index| index.insert(&rows, nodes))
            .with_context(|| format!("cannot write the index of {}", self.log.describe()))
    }

    fn reset_index(&mut self) -> Result<()> {
        self.index_mut(|index| index.reset())
    }

    fn set_checkpoints_seen(&mut self, count: u64) -> Result<()> {
        self.index_mut(|index| index.set_checkpoints_seen(count))
    }

    fn write_head(&mut self, head: &Head) -> Result<()> {
        let text = serde_json::to_string(head).expect("heads serialise") + "\n";
        write_atomically(&self.log.dir.join(HEAD), text.as_bytes())
    }

    fn append_checkpoint(&mut self, text: &[u8]) -> Result<()> {
        use std::io::Write as _;
        let path = self.log.dir.join(CHECKPOINTS);
        let mut line = text.to_vec();
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(&line).map(|()| file))
            .with_context(|| format!("cannot append to {}", path.display()))?;
        file.flush()?;
        file.sync_data()
            .with_context(|| format!("cannot sync {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_driver_passes_the_conformance_suite() {
        let dirs = Mutex::new(Vec::new());
        let make = || -> Box<dyn Store> {
            let dir = tempfile::tempdir().unwrap();
            let store = Files::new(dir.path());
            dirs.lock().unwrap().push(dir);
            Box::new(store)
        };
        let tear = |store: &dyn Store, code: &str, bytes: &[u8]| {
            // The suite's store is the last one made.
            let _ = store;
            let dirs = dirs.lock().unwrap();
            let path = dirs.last().unwrap().path().join(code).join(JOURNAL);
            let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            std::io::Write::write_all(&mut file, bytes).unwrap();
        };
        crate::store::conformance::run(&crate::store::conformance::Driver {
            make: &make,
            tear: Some(&tear),
        })
        .unwrap();
    }

    /// Found by fuzzing (tests/corpus/fuzz/journal-index-bytes-*: a sound journal and bytes that
    /// are not an SQLite database, or only its header, as `index.sqlite`): a writer refused the
    /// registry ("cannot open the index …: file is not a database"). The index is derived: one
    /// SQLite cannot read is made again, and readers answer as without it.
    #[test]
    fn an_index_that_is_not_a_database_is_made_again() {
        use crate::registry::Writer;
        use crate::registry::reader::Reader;
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/fuzz");
        let mut cases = 0;
        for entry in std::fs::read_dir(&corpus).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("journal-index-bytes-") {
                continue;
            }
            cases += 1;
            // A fuzz input: the journal, then the index section (a byte saying how, then the
            // index's bytes).
            let input = std::fs::read(&path).unwrap();
            let at = memchr::memmem::find(&input, b"\n\x1d").unwrap();
            let (journal, index) = (&input[..at + 1], &input[at + 3..]);
            let dir = tempfile::tempdir().unwrap();
            let registry = dir.path().join("media");
            std::fs::create_dir_all(&registry).unwrap();
            std::fs::write(registry.join(JOURNAL), journal).unwrap();
            std::fs::write(registry.join(INDEX), index).unwrap();
            let store = Files::new(dir.path());
            let reader = Reader::open(&store, "media").unwrap();
            assert_eq!(reader.by_number("00001-Г").unwrap().len(), 1, "{name}");
            assert_eq!(reader.statuses().unwrap().len(), 1, "{name}");
            drop(reader);
            let writer = Writer::open(&store, "media", Duration::ZERO)
                .unwrap_or_else(|err| panic!("{name}: {err:#}"));
            assert_eq!(writer.len(), 5, "{name}");
            drop(writer);
            let log = store.log("media").unwrap().unwrap();
            assert_eq!(
                log.indexed().unwrap().size,
                5,
                "{name}: the index made again"
            );
        }
        assert!(cases >= 2, "the fuzz corpus is missing");
    }

    #[test]
    fn a_registry_in_a_form_that_cannot_be_read_is_listed_with_its_problem() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("media"), b"not a folder").unwrap();
        std::fs::create_dir_all(root.join("kkm/journal.jsonl")).unwrap();
        std::fs::create_dir_all(root.join("archive")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join("archive").join(JOURNAL)).unwrap();
        std::fs::create_dir_all(root.join("software")).unwrap();
        std::fs::write(root.join("software").join(HEAD), b"{}").unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::create_dir_all(root.join(TEMPLATES)).unwrap();
        let store = Files::new(root);
        let listed = store.registries().unwrap();
        let problems: Vec<(&str, &str)> = listed
            .iter()
            .map(|l| (l.code.as_str(), l.problem.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].0 == "archive" && problems[0].1.contains("not a regular file"));
        assert!(problems[1].0 == "kkm" && problems[1].1.contains("is a folder"));
        assert!(problems[2].0 == "media" && problems[2].1.contains("is not a folder"));
        assert!(problems[3].0 == "software" && problems[3].1.contains("has no journal"));
        for code in ["archive", "kkm", "media"] {
            assert!(store.log(code).is_err(), "{code} read");
            assert!(
                store.appender(code, Duration::ZERO).is_err(),
                "{code} written"
            );
        }
    }
}
