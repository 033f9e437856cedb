//! Registries: append-only, hash-chained journals of issued documents, one per registry, under
//! the registry folder (`registry/<code>/journal.jsonl`), with the template versions their
//! records name kept beside them (`registry/templates/<hash>.json`).

mod chain;
mod journal;
mod record;
pub mod templates;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

pub use chain::{Chain, ChainError};
pub use journal::{Journal, Line, Lines, Recovery, WriterLock};
pub use record::{
    DocumentEntry, Entry, GENESIS, ItemNumber, LineError, PdfEntry, Record, canonical, hash_json,
    parse_line, sha256_hex, split_line, to_line,
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
    /// What recovery cut off at open, if anything.
    pub recovery: Option<Recovery>,
}

/// Adds a record's document to the lookups by key and by once-only key.
fn index_record(
    record: &Record,
    index: &mut HashMap<Key, Registered>,
    once: &mut HashMap<OnceKey, Registered>,
) {
    let Some(doc) = record.document() else {
        return;
    };
    let registered = Registered {
        number: doc.number.clone(),
        issued: doc.issued,
        case_hash: doc.case_hash.clone(),
        seq: record.seq,
        case_id: doc.case_id.clone(),
    };
    if let Some(value) = &doc.once {
        let key = (doc.service.clone(), doc.document.clone(), value.clone());
        once.insert(key, registered.clone());
    }
    let key = Key {
        service: doc.service.clone(),
        case_id: doc.case_id.clone(),
        document: doc.document.clone(),
    };
    index.insert(key, registered);
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
        let mut chain = Chain::default();
        let mut index = HashMap::new();
        let mut once = HashMap::new();
        for line in journal.lines()? {
            let line = line?;
            let record = chain.push(&line).with_context(|| {
                format!(
                    "registry {code:?} ({}) is damaged",
                    journal.path().display()
                )
            })?;
            index_record(&record, &mut index, &mut once);
        }
        Ok(Writer {
            code: code.to_string(),
            journal,
            lock,
            chain,
            index,
            once,
            recovery,
        })
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
        index_record(record, &mut self.index, &mut self.once);
        Ok(())
    }

    /// How many records the journal holds.
    pub fn len(&self) -> u64 {
        self.chain.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chain.len() == 0
    }
}
