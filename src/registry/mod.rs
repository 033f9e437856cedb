//! Registries: append-only, hash-chained journals of issued documents, one per registry, under
//! the registry folder (`registry/<code>/journal.jsonl`), with the template versions their
//! records name kept beside them (`registry/templates/<hash>.json`).

pub mod brief;
mod chain;
pub mod check;
pub mod checkpoint;
pub mod index;
mod journal;
mod lookups;
pub mod merkle;
pub mod read;
mod record;
mod sha256x2;
pub mod short;
pub mod templates;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

pub use chain::{Chain, ChainError, Link, LinkEntry};
pub use journal::{At, Head, Journal, Line, Lines, Recovery, WriterLock};
use lookups::Lookups;
pub use record::{
    DocumentEntry, Entry, GENESIS, Holder, ItemNumber, LineError, PdfEntry, Record, Status,
    StatusEntry, Words, canonical, hash_json, holder_of, parse_brief, parse_line, sha256_hex,
    split_line, split_lines, title_of, to_line, to_line_with_data,
};

/// What identifies a document: it is registered at most once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub service: String,
    pub case_id: String,
    pub document: String,
}

/// What the registry remembers of a registered document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub number: String,
    pub issued: crate::date::Date,
    pub case_hash: String,
    pub seq: u64,
    pub case_id: String,
    /// The holder's IIN or BIN.
    pub holder: Option<String>,
}

/// A document allowed once per value of a field: service, document kind, `<field>=<value>`.
pub type OnceKey = (String, String, String);

/// A registry opened for writing: locked, verified, its tail known.
pub struct Writer {
    pub code: String,
    journal: Journal,
    lock: WriterLock,
    chain: Chain,
    /// Every registered document, by key, once-only value and number.
    lookups: Lookups,
    /// What recovery cut off at open, if anything.
    pub recovery: Option<Recovery>,
    /// The journal's length in bytes, staged lines not included.
    end: u64,
    /// Records staged since the last flush: their lines, and their index lines.
    staged: Vec<u8>,
    staged_index: Vec<u8>,
    /// The index file, open for appending.
    index_file: std::fs::File,
    /// The right edge of the Merkle tree of the records, staged ones included, and the size of
    /// the last checkpoint.
    tree: merkle::Frontier,
    checkpointed: u64,
}

/// Reads a record's body for the writer and whole-journal readers: without its data
/// ([`parse_brief`]), except for documents written before records carried their holder, whose
/// holder must come from the data.
pub fn parse_for_readers(body: &[u8]) -> Result<Record, LineError> {
    let record = parse_brief(body)?;
    match record.document() {
        Some(doc) if doc.holder.is_none() => {
            serde_json::from_slice(body).map_err(|e| LineError::Json(e.to_string()))
        }
        _ => Ok(record),
    }
}

/// The IIN or BIN of the holder a document was issued to.
pub fn holder_id(data: &serde_json::Value) -> Option<String> {
    let applicant = &data["case"]["applicant"];
    applicant["bin"]
        .as_str()
        .or_else(|| applicant["iin"].as_str())
        .map(str::to_string)
}

impl Writer {
    /// Adds a record's document to the lookups by key, by once-only key and by number.
    fn index_record(&mut self, record: &Record) {
        self.lookups.add(record);
    }
}

/// Brings an index file in line with the journal as the writer reads it: the lines that agree
/// are kept, the rest rewritten.
struct IndexSync {
    path: PathBuf,
    existing: Option<std::io::BufReader<std::fs::File>>,
    agreed: u64,
    rewrite: Vec<u8>,
    line: Vec<u8>,
}

impl IndexSync {
    fn open(path: &Path) -> Result<IndexSync> {
        let existing = match std::fs::File::open(path) {
            Ok(file) => Some(std::io::BufReader::with_capacity(1 << 20, file)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(IndexSync {
            path: path.to_path_buf(),
            existing,
            agreed: 0,
            rewrite: Vec::new(),
            line: Vec::new(),
        })
    }

    /// The next record's index line is `expected`.
    fn expect(&mut self, expected: &[u8]) -> Result<()> {
        use std::io::BufRead as _;
        if let Some(existing) = &mut self.existing {
            self.line.clear();
            existing
                .read_until(b'\n', &mut self.line)
                .with_context(|| format!("cannot read {}", self.path.display()))?;
            if self.line == expected {
                self.agreed += expected.len() as u64;
                return Ok(());
            }
            self.existing = None;
        }
        self.rewrite.extend_from_slice(expected);
        Ok(())
    }

    /// Cuts the index after its last agreeing line, appends the lines it lacked, and returns it
    /// open for appending.
    fn finish(self) -> Result<std::fs::File> {
        use std::io::Write as _;
        let context = || format!("cannot write the registry index {}", self.path.display());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(context)?;
        if file.metadata().with_context(context)?.len() != self.agreed {
            file.set_len(self.agreed).with_context(context)?;
        }
        file.write_all(&self.rewrite).with_context(context)?;
        Ok(file)
    }
}

/// `record 7 was` or `records 7–9 were`.
pub fn removed(first: u64, last: u64) -> String {
    if first == last {
        format!("record {first} was")
    } else {
        format!("records {first}–{last} were")
    }
}

/// Where a registry's files live.
pub fn registry_dir(root: &Path, code: &str) -> PathBuf {
    root.join(code)
}

impl Writer {
    /// Locks registry `code` under `root`, recovers a torn last write, and reads and verifies
    /// every record (hashes, links, numbers, statuses; in parallel, without their data). Any
    /// broken record is a fatal error naming it: a registry is never "repaired" past its last
    /// whole record. The index is checked against the journal and rewritten where it disagrees.
    pub fn open(root: &Path, code: &str, wait: Duration) -> Result<Writer> {
        let dir = registry_dir(root, code);
        let journal = Journal::new(&dir);
        let mut lock = journal.lock(wait)?;
        let head = journal.head()?;
        let damaged = || {
            format!(
                "registry {code:?} ({}) is damaged",
                journal.path().display()
            )
        };
        let mut chain = Chain::default();
        let mut lookups = Lookups::default();
        let mut index = IndexSync::open(&index::path(&dir))?;
        // Checkpoints are checked against the journal as it is read (their roots at their
        // sizes); a checkpoint file that cannot be read fails after the journal's own checks.
        let checkpoints = checkpoint::load(&dir);
        let mut tree = checkpoint::Watched::new(checkpoints.as_deref().unwrap_or_default());
        let mut end = 0;
        journal.scan_parallel(
            |lines| {
                split_lines(lines.iter().map(|&(_, line)| line))
                    .into_iter()
                    .map(|split| {
                        let (hash, body) = split?;
                        Ok((hash.to_string(), parse_for_readers(body)?))
                    })
                    .collect()
            },
            |at, parsed: Result<(String, Record), LineError>| {
                let (hash, record) = parsed
                    .map_err(|error| chain.unreadable(at.number, error))
                    .with_context(damaged)?;
                chain
                    .push_record(at.number, &hash, &record)
                    .with_context(damaged)?;
                if let Some(head) = &head
                    && head.seq == record.seq
                    && head.hash != hash
                {
                    bail!(
                        "{}: record {} is not the one its last writer left (head.json names \
                         another hash); records were replaced",
                        damaged(),
                        head.seq
                    );
                }
                lookups.add(&record);
                tree.push(checkpoint::leaf(&hash));
                index.expect(index::line(&record, at.offset, at.len).as_bytes())?;
                end = at.offset + at.len + 1;
                Ok(())
            },
        )?;
        if let Some(head) = &head
            && chain.len() < head.seq
        {
            bail!(
                "{}: it ends at record {}, but its last writer left {} records (head.json): {} \
                 removed",
                damaged(),
                chain.len(),
                head.seq,
                removed(chain.len() + 1, head.seq)
            );
        }
        let checkpoints = checkpoints?;
        if let Some(problem) = checkpoint::problems(&checkpoints, &tree).first() {
            bail!("{}: {problem}", damaged());
        }
        // Only a journal found sound loses its incomplete last line: a refused one is left as
        // it was, for whoever examines it.
        let recovery = journal.recover(&mut lock)?;
        let checkpointed = checkpoints.last().map_or(0, |c| c.size);
        let index_file = index.finish()?;
        Ok(Writer {
            code: code.to_string(),
            journal,
            lock,
            chain,
            lookups,
            recovery,
            end,
            staged: Vec::new(),
            staged_index: Vec::new(),
            index_file,
            tree: tree.frontier,
            checkpointed,
        })
    }

    /// Records the journal's last record in `head.json` and appends a Merkle checkpoint of
    /// every record: called when a batch is done with the registry. Staged records are made
    /// durable first.
    pub fn write_head(&mut self) -> Result<()> {
        self.flush()?;
        if self.chain.is_empty() {
            return Ok(());
        }
        let head = Head {
            seq: self.chain.len(),
            hash: self.chain.last_hash().to_string(),
        };
        self.journal.write_head(&self.lock, &head)?;
        if self.tree.len() > self.checkpointed {
            let checkpoint = checkpoint::Checkpoint {
                size: self.tree.len(),
                root: merkle::to_hex(&self.tree.root()),
            };
            checkpoint::append(&self.journal.dir, &checkpoint)?;
            self.checkpointed = checkpoint.size;
        }
        Ok(())
    }

    /// Every registered document numbered `number`, in any sequence, in journal order.
    pub fn find_number(&self, number: &str) -> Vec<(Key, Registered)> {
        self.lookups.find_number(number)
    }

    /// The status in force of the document of record `seq`.
    pub fn status_of(&self, seq: u64) -> Option<Status> {
        self.chain.status_of(seq)
    }

    /// The registered document under `key`, if any.
    pub fn registered(&self, key: &Key) -> Option<Registered> {
        self.lookups.registered(key)
    }

    /// The document registered under a once-only key, if any.
    pub fn registered_once(&self, key: &OnceKey) -> Option<Registered> {
        self.lookups.registered_once(key)
    }

    /// The last position used in each number sequence.
    pub fn sequence_tails(&self) -> &BTreeMap<String, u64> {
        self.chain.sequence_tails()
    }

    /// The `seq` and `prev` the next record must have.
    pub fn next_link(&self) -> (u64, String) {
        (self.chain.len() + 1, self.chain.last_hash().to_string())
    }

    /// Adds one record (its `seq` and `prev` must be [`next_link`](Self::next_link)) to the
    /// chain and stages its line; it reaches the journal, durably, at the next
    /// [`flush`](Self::flush). The chain refuses a record that does not follow, and then nothing
    /// is staged.
    pub fn stage(&mut self, record: &Record) -> Result<()> {
        let (line, hash) = to_line(record);
        self.stage_line(record, line, hash)
    }

    /// Like [`stage`](Self::stage), for a document whose data is given as canonical JSON text
    /// (and left `null` in `record`).
    pub fn stage_with_data(&mut self, record: &Record, data: &str) -> Result<()> {
        let (line, hash) = to_line_with_data(record, data);
        self.stage_line(record, line, hash)
    }

    fn stage_line(&mut self, record: &Record, line: String, hash: String) -> Result<()> {
        self.chain
            .push_record(self.chain.len() + 1, &hash, record)
            .context("refusing to append a record that breaks the chain")?;
        let offset = self.end + self.staged.len() as u64;
        self.staged_index
            .extend_from_slice(index::line(record, offset, line.len() as u64 - 1).as_bytes());
        self.staged.extend_from_slice(line.as_bytes());
        self.tree.push(checkpoint::leaf(&hash));
        self.index_record(record);
        Ok(())
    }

    /// Writes the staged records to the journal and makes them durable (one write, one sync for
    /// all of them), then indexes them.
    pub fn flush(&mut self) -> Result<()> {
        if self.staged.is_empty() {
            return Ok(());
        }
        self.journal.append(&mut self.lock, &self.staged)?;
        self.end += self.staged.len() as u64;
        self.staged.clear();
        use std::io::Write as _;
        self.index_file
            .write_all(&self.staged_index)
            .context("cannot write the registry index")?;
        self.staged_index.clear();
        Ok(())
    }

    /// Appends one record and makes it durable.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        self.stage(record)?;
        self.flush()
    }

    /// Appends a status event for the document of record `target`; the chain refuses a change
    /// that is not allowed (a revoked document made active again, …).
    pub fn append_status(&mut self, event: StatusEntry) -> Result<Record> {
        let record = self.stage_status(event)?;
        self.flush()?;
        Ok(record)
    }

    /// Stages a status event, as [`append_status`](Self::append_status) appends it.
    pub fn stage_status(&mut self, event: StatusEntry) -> Result<Record> {
        let (seq, prev) = self.next_link();
        let record = Record {
            seq,
            prev,
            entry: Entry::Status(event),
        };
        self.stage(&record)?;
        Ok(record)
    }

    /// Makes room for `records` more records, so that registering them never copies what the
    /// writer holds (a million records' lookups take about 150 MB): a batch calls it with the
    /// number of documents it plans to issue.
    pub fn reserve(&mut self, records: usize) {
        self.lookups.reserve(records);
        self.chain.reserve(records);
    }

    /// How many records the journal holds.
    pub fn len(&self) -> u64 {
        self.chain.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chain.len() == 0
    }
}
