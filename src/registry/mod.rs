//! Registries: append-only, hash-chained journals of issued documents, one per registry, under
//! the registry folder (`registry/<code>/journal.jsonl`), with the template versions their
//! records name kept beside them (`registry/templates/<hash>.json`).

mod chain;
pub mod check;
mod journal;
pub mod read;
mod record;
pub mod templates;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

pub use chain::{Chain, ChainError};
pub use journal::{Head, Journal, Line, Lines, Recovery, WriterLock};
pub use record::{
    DocumentEntry, Entry, GENESIS, ItemNumber, LineError, PdfEntry, Record, Status, StatusEntry,
    canonical, hash_json, parse_line, sha256_hex, split_line, to_line,
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
    index: HashMap<Key, Registered>,
    once: HashMap<OnceKey, Registered>,
    /// Documents by (sequence, number).
    numbers: HashMap<(String, String), Key>,
    /// What recovery cut off at open, if anything.
    pub recovery: Option<Recovery>,
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
        let Some(doc) = record.document() else {
            return;
        };
        let registered = Registered {
            number: doc.number.clone(),
            issued: doc.issued,
            case_hash: doc.case_hash.clone(),
            seq: record.seq,
            case_id: doc.case_id.clone(),
            holder: holder_id(&doc.data),
        };
        if let Some(value) = &doc.once {
            let key = (doc.service.clone(), doc.document.clone(), value.clone());
            self.once.insert(key, registered.clone());
        }
        let key = Key {
            service: doc.service.clone(),
            case_id: doc.case_id.clone(),
            document: doc.document.clone(),
        };
        self.numbers
            .insert((doc.sequence.clone(), doc.number.clone()), key.clone());
        self.index.insert(key, registered);
    }
}

/// Where a registry's files live.
pub fn registry_dir(root: &Path, code: &str) -> PathBuf {
    root.join(code)
}

impl Writer {
    /// Locks registry `code` under `root`, recovers a torn last write, and reads and verifies
    /// every record. Any broken record is a fatal error naming it: a registry is never
    /// "repaired" past its last whole record.
    pub fn open(root: &Path, code: &str, wait: Duration) -> Result<Writer> {
        let journal = Journal::new(&registry_dir(root, code));
        let mut lock = journal.lock(wait)?;
        let recovery = journal.recover(&mut lock)?;
        let head = journal.head()?;
        let mut writer = Writer {
            code: code.to_string(),
            journal,
            lock,
            chain: Chain::default(),
            index: HashMap::new(),
            once: HashMap::new(),
            numbers: HashMap::new(),
            recovery,
        };
        for line in writer.journal.lines()? {
            let line = line?;
            let record = writer.chain.push(&line).with_context(|| {
                format!(
                    "registry {code:?} ({}) is damaged",
                    writer.journal.path().display()
                )
            })?;
            if let Some(head) = &head
                && head.seq == record.seq
                && head.hash != writer.chain.last_hash()
            {
                bail!(
                    "registry {code:?} ({}) is damaged: record {} is not the one its last writer                      left (head.json names another hash); records were replaced",
                    writer.journal.path().display(),
                    head.seq
                );
            }
            writer.index_record(&record);
        }
        if let Some(head) = &head
            && writer.chain.len() < head.seq
        {
            bail!(
                "registry {code:?} ({}) is damaged: it ends at record {}, but its last writer left                  {} records (head.json): records {}–{} were removed",
                writer.journal.path().display(),
                writer.chain.len(),
                head.seq,
                writer.chain.len() + 1,
                head.seq
            );
        }
        Ok(writer)
    }

    /// Records the journal's last record in `head.json`: called when a batch is done with the
    /// registry.
    pub fn write_head(&self) -> Result<()> {
        if self.chain.is_empty() {
            return Ok(());
        }
        let head = Head {
            seq: self.chain.len(),
            hash: self.chain.last_hash().to_string(),
        };
        self.journal.write_head(&self.lock, &head)
    }

    /// The document numbered `number` in `sequence`, if registered.
    pub fn by_number(&self, sequence: &str, number: &str) -> Option<(&Key, &Registered)> {
        let key = self
            .numbers
            .get(&(sequence.to_string(), number.to_string()))?;
        Some((key, &self.index[key]))
    }

    /// Every registered document numbered `number`, in any sequence.
    pub fn find_number(&self, number: &str) -> Vec<(&Key, &Registered)> {
        let mut found: Vec<_> = self
            .numbers
            .iter()
            .filter(|((_, n), _)| n == number)
            .map(|(_, key)| (key, &self.index[key]))
            .collect();
        found.sort_by_key(|(_, r)| r.seq);
        found
    }

    /// The status in force of the document of record `seq`.
    pub fn status_of(&self, seq: u64) -> Option<Status> {
        self.chain.status_of(seq)
    }

    /// The registered document under `key`, if any.
    pub fn registered(&self, key: &Key) -> Option<&Registered> {
        self.index.get(key)
    }

    /// The document registered under a once-only key, if any.
    pub fn registered_once(&self, key: &OnceKey) -> Option<&Registered> {
        self.once.get(key)
    }

    /// The last position used in each number sequence.
    pub fn sequence_tails(&self) -> &BTreeMap<String, u64> {
        self.chain.sequence_tails()
    }

    /// The `seq` and `prev` the next record must have.
    pub fn next_link(&self) -> (u64, String) {
        (self.chain.len() + 1, self.chain.last_hash().to_string())
    }

    /// Appends one record (its `seq` and `prev` must be [`next_link`](Self::next_link)) and
    /// makes it durable.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        let (line, _) = to_line(record);
        // Check it against the chain before anything is written.
        let parsed = Line {
            number: self.chain.len() + 1,
            offset: 0,
            bytes: line.trim_end().as_bytes().to_vec(),
        };
        let mut next = self.chain.clone();
        next.push(&parsed)
            .context("refusing to append a record that breaks the chain")?;
        self.journal.append(&mut self.lock, line.as_bytes())?;
        self.chain = next;
        self.index_record(record);
        Ok(())
    }

    /// Appends a status event for the document of record `target`; the chain refuses a change
    /// that is not allowed (a revoked document made active again, …).
    pub fn append_status(&mut self, event: StatusEntry) -> Result<Record> {
        let (seq, prev) = self.next_link();
        let record = Record {
            seq,
            prev,
            entry: Entry::Status(event),
        };
        self.append(&record)?;
        Ok(record)
    }

    /// How many records the journal holds.
    pub fn len(&self) -> u64 {
        self.chain.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chain.len() == 0
    }
}
