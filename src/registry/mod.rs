//! Registries: append-only, hash-chained logs of issued documents, one per registry, kept in a
//! [`crate::store::Store`] with the template versions their records name.
//!
//! What a record is and how it is written ([`record`]), how a chain of them is verified
//! ([`chain`], [`scan`]: the one verified scan), its Merkle tree and checkpoints ([`merkle`],
//! [`checkpoint`], [`tree`]), writing ([`writer`]) and reading ([`reader`]) one.

pub mod brief;
mod chain;
pub mod checkpoint;
mod document;
mod facts;
mod lookups;
pub mod merkle;
pub mod note;
pub mod reader;
mod record;
pub mod scan;
mod sha256x2;
pub mod short;
pub mod templates;
pub mod tree;
pub mod writer;

pub use chain::{Chain, ChainError, Link, LinkEntry};
pub use document::Document;
pub use facts::{of_line as facts_of_line, of_record as facts_of_record};
pub use record::{
    DocumentEntry, Entry, GENESIS, Holder, ItemNumber, LineError, PdfEntry, Record, SignatureEntry,
    Status, StatusEntry, Words, canonical, hash_json, holder_of, parse_brief, parse_line,
    sha256_hex, split_line, split_lines, title_of, to_line, to_line_with_data,
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

pub use writer::{Wanted, Writer};

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
