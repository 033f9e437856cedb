//! The storage interface: everything qujat keeps about its registries goes through it.
//!
//! A [`Store`] holds registries, each an append-only log of records, and the content-addressed
//! things records name (template versions, kept signatures). Registries are read through a
//! [`Log`] and written through an [`Appender`], which holds the registry's one writer lock until
//! dropped. Positions are record sequence numbers (1, 2, 3, …), never byte offsets: only a driver
//! knows where or how its records lie. The model is the transparency logs' storage drivers
//! (Tessera's `LogReader` and `Appender`, Trillian's `LogStorage`): callers see records and
//! positions, the driver files, offsets or SQL.
//!
//! A driver stores each record as the exact line qujat wrote (`{"hash":…,"record":…}`), so every
//! driver holds the same bytes and the same hashes. It keeps, besides, an index built from the
//! [`Facts`] the writer gives with each record — what the record is looked up by — which it never
//! has to parse out of the record itself. The index is derived: it covers the records a writer
//! verified and gave to [`Appender::append`] or [`Appender::index`]; [`Log::indexed`] says how far
//! it reaches, and lookups ([`Log::find`]) still see records the index does not cover yet. What a
//! lookup finds is a candidate: the caller reads the record and confirms it.
//!
//! Drivers: [`files`] (the embedded default: plain files under a folder), [`memory`] (for tests,
//! and the reference for what a driver must do), [`postgres`] (a PostgreSQL database, for
//! registries shared by several machines), and others that implement these traits and pass
//! [`conformance`]. See docs/registry.md, "The storage interface".

/// Implements [`Log`] for a driver's appender by handing every call to the reading log it keeps
/// in its field `log`: an appender reads its registry as any reader does.
macro_rules! log_through_field {
    ($appender:ty) => {
        impl $crate::store::Log for $appender {
            fn code(&self) -> &str {
                self.log.code()
            }
            fn describe(&self) -> String {
                self.log.describe()
            }
            fn scan(
                &self,
                from: u64,
                each: &mut (dyn FnMut($crate::store::Block<'_>) -> anyhow::Result<()> + Send),
            ) -> anyhow::Result<$crate::store::ScanEnd> {
                self.log.scan(from, each)
            }
            fn read(&self, seqs: &[u64]) -> anyhow::Result<Vec<$crate::store::Stored>> {
                self.log.read(seqs)
            }
            fn find(&self, lookup: &$crate::store::Lookup<'_>) -> anyhow::Result<Vec<u64>> {
                self.log.find(lookup)
            }
            fn head(&self) -> anyhow::Result<Option<$crate::store::Head>> {
                self.log.head()
            }
            fn checkpoints(&self) -> anyhow::Result<Vec<Vec<u8>>> {
                self.log.checkpoints()
            }
            fn indexed(&self) -> anyhow::Result<$crate::store::Indexed> {
                self.log.indexed()
            }
            fn tails(&self) -> anyhow::Result<Vec<(String, u64)>> {
                self.log.tails()
            }
            fn hashes(&self, from: u64, to: u64) -> anyhow::Result<Vec<$crate::store::Hash>> {
                self.log.hashes(from, to)
            }
            fn node(&self, level: u32, index: u64) -> anyhow::Result<Option<$crate::store::Hash>> {
                self.log.node(level, index)
            }
        }
    };
}

pub mod conformance;
pub mod files;
pub mod memory;
pub mod postgres;

use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// A record as stored: its position and its line (without the newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub seq: u64,
    pub line: Vec<u8>,
}

/// Consecutive whole records, handed to a scan's consumer: `text` is their lines, each ending in
/// a newline, the first of them record `first`.
#[derive(Debug, Clone, Copy)]
pub struct Block<'a> {
    pub first: u64,
    pub text: &'a [u8],
}

impl<'a> Block<'a> {
    /// The block's lines without their newlines, each with its position.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &'a [u8])> + 'a {
        let first = self.first;
        let text = self.text;
        text.split_inclusive(|&b| b == b'\n')
            .enumerate()
            .map(move |(i, line)| (first + i as u64, &line[..line.len() - 1]))
    }
}

/// Where a scan ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanEnd {
    /// The position of the last whole record read (0 if none).
    pub last: u64,
    /// The length of an incomplete record after it (a write under way, or one cut off), which
    /// no reader is ever given.
    pub torn: u64,
}

/// What a record is looked up by, given with it by the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The record's hash (the SHA-256 of its canonical text).
    pub hash: Hash,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    Document {
        service: String,
        case_id: String,
        document: String,
        number: String,
        /// `<field>=<value>` for a document allowed once per value of a field.
        once: Option<String>,
        /// The SHA-256 (hex) of its PDF.
        pdf: String,
        /// The positions it takes in its number counters: its own, then its items'.
        counters: Vec<(String, u64)>,
    },
    Status {
        /// The position of the document record whose status it changes.
        target: u64,
    },
}

/// A record to append or index: its position, its line (without the newline) and its facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    pub line: Vec<u8>,
    pub facts: Facts,
}

/// A record to index that is in the log already: its position, the length of its line, and its
/// facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexing {
    pub seq: u64,
    pub len: u64,
    pub facts: Facts,
}

/// The hash of a complete subtree of a registry's Merkle tree: leaves `index·2^level ..
/// (index+1)·2^level`. Drivers keep those of level [`NODE_LEVEL`] and up, so that proofs and
/// roots never need more than a few hundred leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub level: u32,
    pub index: u64,
    pub hash: Hash,
}

/// The lowest level of the Merkle nodes a driver keeps: subtrees of 256 records.
pub const NODE_LEVEL: u32 = 8;

/// What records are looked up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The documents registered under a key: service, case and document kind.
    Key {
        service: &'a str,
        case_id: &'a str,
        document: &'a str,
    },
    /// The documents allowed once per value, with that value.
    Once {
        service: &'a str,
        document: &'a str,
        value: &'a str,
    },
    /// The documents with this number (in any counter).
    Number(&'a str),
    /// The documents of a case.
    Case(&'a str),
    /// The documents whose PDF has this SHA-256 (hex).
    Pdf(&'a str),
    /// The status events changing the status of the document at this position.
    Events(u64),
    /// Every status event.
    Statuses,
}

impl Lookup<'_> {
    /// Whether a record with `facts` is found by this lookup.
    pub fn matches(&self, facts: &Facts) -> bool {
        match (self, &facts.what) {
            (
                Lookup::Key {
                    service,
                    case_id,
                    document,
                },
                What::Document {
                    service: s,
                    case_id: c,
                    document: d,
                    ..
                },
            ) => s == service && c == case_id && d == document,
            (
                Lookup::Once {
                    service,
                    document,
                    value,
                },
                What::Document {
                    service: s,
                    document: d,
                    once: Some(o),
                    ..
                },
            ) => s == service && d == document && o == value,
            (Lookup::Number(n), What::Document { number, .. }) => number == n,
            (Lookup::Case(c), What::Document { case_id, .. }) => case_id == c,
            (Lookup::Pdf(p), What::Document { pdf, .. }) => pdf == p,
            (Lookup::Events(t), What::Status { target }) => target == t,
            (Lookup::Statuses, What::Status { .. }) => true,
            _ => false,
        }
    }

    /// The lookups that find a record with `facts`.
    pub fn all_of(facts: &Facts) -> Vec<Lookup<'_>> {
        match &facts.what {
            What::Document {
                service,
                case_id,
                document,
                number,
                once,
                pdf,
                ..
            } => {
                let mut all = vec![
                    Lookup::Key {
                        service,
                        case_id,
                        document,
                    },
                    Lookup::Number(number),
                    Lookup::Case(case_id),
                    Lookup::Pdf(pdf),
                ];
                if let Some(value) = once {
                    all.push(Lookup::Once {
                        service,
                        document,
                        value,
                    });
                }
                all
            }
            What::Status { target } => vec![Lookup::Events(*target), Lookup::Statuses],
        }
    }

    /// The lookup as one string, unambiguous (parts separated by NUL, which no part holds):
    /// what drivers hash or store to find it again.
    pub fn text(&self) -> String {
        match self {
            Lookup::Key {
                service,
                case_id,
                document,
            } => format!("key\0{service}\0{case_id}\0{document}"),
            Lookup::Once {
                service,
                document,
                value,
            } => format!("once\0{service}\0{document}\0{value}"),
            Lookup::Number(number) => format!("number\0{number}"),
            Lookup::Case(case_id) => format!("case\0{case_id}"),
            Lookup::Pdf(pdf) => format!("pdf\0{pdf}"),
            Lookup::Events(target) => format!("events\0{target}"),
            Lookup::Statuses => "statuses".to_string(),
        }
    }
}

/// The last record a writer finished with, kept apart from the records: a tripwire for a log cut
/// back to an earlier record, which its chain alone cannot show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

/// How far a registry's index reaches: the records a writer verified and indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Indexed {
    /// Records `1..=size` are indexed.
    pub size: u64,
    /// The hash of record `size` as indexed.
    pub last: Option<Hash>,
    /// How many checkpoints the registry had when a writer last looked: fewer later means some
    /// were removed.
    pub checkpoints: u64,
    /// An index that disagrees with the records (and is not used): how many records it lists.
    pub disagrees: Option<u64>,
}

/// What a driver did with an incomplete record at the end of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// It was cut off; its bytes are kept where `kept` says.
    Cut {
        /// How many bytes of whole records the log holds (for the report).
        whole: u64,
        /// Where the removed bytes were kept (a file, a table), for the report.
        kept: String,
    },
    /// It was a whole record missing only its end of line, now completed.
    Completed,
}

/// A registry as a store lists it: its code, and what is wrong with it if it cannot be read at
/// all (so that a damaged registry is named, never silently left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub code: String,
    pub problem: Option<String>,
}

/// Content-addressed things kept for good beside the registries, by the SHA-256 (hex) of their
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A template version: the canonical JSON of its bundle.
    Template,
    /// A document's signature, kept so that the document can be made again without the key.
    Signature,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Template => "template version",
            Kind::Signature => "kept signature",
        }
    }
}

/// A place that holds registries.
pub trait Store: Send + Sync {
    /// Where it is, for messages (never a password).
    fn describe(&self) -> String;

    /// Every registry it holds, by code, in order; a registry that exists in any form but cannot
    /// be read is listed with its problem.
    fn registries(&self) -> Result<Vec<Listed>>;

    /// Registry `code` for reading, or `None` if the store has no such registry. Never blocks
    /// and never blocks a writer.
    fn log(&self, code: &str) -> Result<Option<Box<dyn Log>>>;

    /// Registry `code` for appending, creating it if need be: takes its writer lock, waiting up
    /// to `wait` for another writer (in any process, on any machine sharing the store) to
    /// release it, or fails saying who holds it.
    fn appender(&self, code: &str, wait: Duration) -> Result<Box<dyn Appender>>;

    /// Keeps `bytes` of `kind` for good, under their SHA-256, durably; keeping what is kept
    /// already does nothing. Returns the hash.
    fn keep(&self, kind: Kind, bytes: &[u8]) -> Result<String>;

    /// Keeps each of `items` as [`Store::keep`] does, all durable when it returns, at one cost
    /// where a driver can (one sync of the files driver's folder, one transaction of
    /// PostgreSQL's): a batch keeps a group's signatures before it appends their records.
    /// Returns their hashes, in order.
    fn keep_all(&self, kind: Kind, items: &[Vec<u8>]) -> Result<Vec<String>> {
        items.iter().map(|bytes| self.keep(kind, bytes)).collect()
    }

    /// What is kept of `kind` under `hash`, checked against it; `None` if nothing is.
    fn kept(&self, kind: Kind, hash: &str) -> Result<Option<Vec<u8>>>;

    /// The hashes of everything kept of `kind`, in order: what a copy of the store must copy.
    fn kept_hashes(&self, kind: Kind) -> Result<Vec<String>>;
}

/// A registry, read. What it shows is a consistent prefix: a record being appended is seen whole
/// or not at all.
pub trait Log: Send + Sync {
    /// The registry's code.
    fn code(&self) -> &str;

    /// Where its records are, for messages.
    fn describe(&self) -> String;

    /// Hands every whole record from position `from` on to `each`, in order, a block of
    /// consecutive records at a time, up to the last one there was when the scan began. Drivers
    /// may read ahead while `each` works; `each` may use rayon.
    fn scan(
        &self,
        from: u64,
        each: &mut (dyn FnMut(Block<'_>) -> Result<()> + Send),
    ) -> Result<ScanEnd>;

    /// The records at these positions that exist, in the order asked.
    fn read(&self, seqs: &[u64]) -> Result<Vec<Stored>>;

    /// The positions of the records that may be what `lookup` asks for, in order: every record
    /// that is, and perhaps others (the caller confirms each against the record itself). Records
    /// beyond the index are looked at too.
    fn find(&self, lookup: &Lookup<'_>) -> Result<Vec<u64>>;

    /// The head its last writer left.
    fn head(&self) -> Result<Option<Head>>;

    /// Its checkpoints' texts, oldest first.
    fn checkpoints(&self) -> Result<Vec<Vec<u8>>>;

    /// How far its index reaches. A driver whose index disagrees with its records (a restored
    /// backup, a damaged file) says it covers nothing.
    fn indexed(&self) -> Result<Indexed>;

    /// The last position taken in each number counter, among the indexed records.
    fn tails(&self) -> Result<Vec<(String, u64)>>;

    /// The hashes of indexed records `from..=to`, in order.
    fn hashes(&self, from: u64, to: u64) -> Result<Vec<Hash>>;

    /// A kept Merkle node of level [`NODE_LEVEL`] or more, if the index has it.
    fn node(&self, level: u32, index: u64) -> Result<Option<Hash>>;

    /// Reads what follows as of one moment, until [`Log::end_read`]: a driver may then answer
    /// from one snapshot and take its locks once rather than at each lookup (the files driver
    /// opens one SQLite read transaction on its index: a verification runs a few dozen queries,
    /// and each alone locked and unlocked the index with system calls). For a reader answering
    /// many lookups in a row, as `qujat serve` does per request. By default nothing.
    fn begin_read(&self) -> Result<()> {
        Ok(())
    }

    /// Ends what [`Log::begin_read`] began.
    fn end_read(&self) {}
}

/// A registry, held for appending by its one writer until dropped.
pub trait Appender: Log {
    /// The bytes of an incomplete record at the end (none: empty).
    fn torn(&self) -> Result<Vec<u8>>;

    /// Deals with the incomplete record at the end: with `complete`, it is a whole record
    /// missing only its end of line, which is added; otherwise it is cut off, its bytes kept
    /// aside. `None` when there was none.
    fn recover(&mut self, complete: bool) -> Result<Option<Recovered>>;

    /// Appends records (each the next position) and makes them durable before returning, then
    /// indexes them with `nodes` (the Merkle nodes they complete).
    fn append(&mut self, records: &[Appended], nodes: &[Node]) -> Result<()>;

    /// Indexes records already in the log, the next ones after [`Log::indexed`], with the
    /// Merkle nodes they complete. (A shared reference: a writer indexes what it verifies while
    /// it scans.)
    fn index(&self, records: &[Indexing], nodes: &[Node]) -> Result<()>;

    /// Forgets the index (it disagrees with the records): it is built again from the start.
    fn reset_index(&mut self) -> Result<()>;

    /// Remembers how many checkpoints the registry has now (see [`Indexed::checkpoints`]).
    fn set_checkpoints_seen(&mut self, count: u64) -> Result<()>;

    /// Records the head, durably.
    fn write_head(&mut self, head: &Head) -> Result<()>;

    /// Appends a checkpoint's text, durably.
    fn append_checkpoint(&mut self, text: &[u8]) -> Result<()>;
}

/// Whether `code` can name a registry: ASCII letters, digits and `-`, not starting with `-` —
/// so that no driver ever sees a path or an SQL fragment in one.
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && !code.starts_with('-')
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Where the registries are: a `postgres://` or `postgresql://` URL (the PostgreSQL driver), or
/// else a folder (the files driver).
pub fn open(place: &std::path::Path) -> Result<Box<dyn Store>> {
    match url(place) {
        Some(url) => Ok(Box::new(postgres::Postgres::open(url)?)),
        None => Ok(Box::new(files::Files::new(place))),
    }
}

/// The URL `place` is, if it names a database rather than a folder.
pub fn url(place: &std::path::Path) -> Option<&str> {
    place.to_str().filter(|text| postgres::is_url(text))
}

/// `place` for a message or a report: a folder as it is, a URL without its password.
pub fn shown(place: &std::path::Path) -> String {
    match url(place) {
        Some(url) => postgres::redact(url),
        None => crate::problem::shown_path(place),
    }
}
