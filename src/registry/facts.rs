//! What a record is looked up by ([`Facts`]), read from the record: given to the store with each
//! record a writer appends, so that no driver ever parses a record.

use crate::store::{Facts, Hash, What};

use super::brief::{self, Brief};
use super::record::{Entry, LineError, Record, split_line};

fn hash_bytes(hash: &str) -> Hash {
    let mut bytes = [0u8; 32];
    // A record's hash is 64 hex digits wherever it comes from (checked when it was read or
    // made); anything else indexes as zeros and is never found.
    let _ = hex::decode_to_slice(hash, &mut bytes);
    bytes
}

/// The facts of `record`, whose hash (hex) is `hash`.
pub fn of_record(record: &Record, hash: &str) -> Facts {
    let what = match &record.entry {
        Entry::Document(doc) => What::Document {
            service: doc.service.clone(),
            case_id: doc.case_id.clone(),
            document: doc.document.clone(),
            number: doc.number.clone(),
            once: doc.once.clone(),
            pdf: doc.pdf.sha256.clone(),
            counters: std::iter::once((doc.sequence.clone(), doc.n))
                .chain(doc.items.iter().map(|i| (i.sequence.clone(), i.n)))
                .collect(),
        },
        Entry::Status(event) => What::Status {
            target: event.target,
        },
    };
    Facts {
        hash: hash_bytes(hash),
        what,
    }
}

/// The facts of a record read briefly, whose hash (hex) is `hash`.
pub fn of_brief(brief: &Brief<'_>, hash: &str) -> Facts {
    let what = match brief.target {
        Some(target) if !brief.is_document() => What::Status { target },
        _ => What::Document {
            service: brief.service.as_deref().unwrap_or_default().to_string(),
            case_id: brief.case_id.as_deref().unwrap_or_default().to_string(),
            document: brief.document.as_deref().unwrap_or_default().to_string(),
            number: brief.number().to_string(),
            once: brief.once.as_deref().map(str::to_string),
            pdf: brief.pdf_sha256().to_string(),
            counters: std::iter::once((
                brief.sequence.as_deref().unwrap_or_default().to_string(),
                brief.n.unwrap_or_default(),
            ))
            .chain(brief.items.iter().map(|i| (i.sequence.to_string(), i.n)))
            .collect(),
        },
    };
    Facts {
        hash: hash_bytes(hash),
        what,
    }
}

/// The facts of a journal line (without its newline), its hash checked.
pub fn of_line(line: &[u8]) -> Result<Facts, LineError> {
    let (hash, body) = split_line(line)?;
    let mut scratch = Vec::new();
    let brief = brief::parse(body, &mut scratch)?;
    Ok(of_brief(&brief, hash))
}
