//! SHA-256 and canonical JSON: how qujat names content (records, data, templates, PDFs).

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The canonical JSON text of a value: sorted keys, no insignificant whitespace.
pub fn canonical(value: &Json) -> String {
    // serde_json's map is ordered by key (no `preserve_order` feature), so plain serialisation
    // is canonical.
    serde_json::to_string(value).expect("JSON values always serialise")
}

/// Hex SHA-256 of a value's canonical JSON.
pub fn hash_json(value: &Json) -> String {
    sha256_hex(canonical(value).as_bytes())
}
