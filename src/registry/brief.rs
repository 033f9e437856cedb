//! A record as readers of whole journals see it: the fields a check or an extract needs, borrowed
//! from the line, `data` never read. A million records are read without building a million
//! record trees: one flat struct per line, its strings mostly borrowed.

use std::borrow::Cow;

use serde::Deserialize;

use super::chain::{Link, LinkEntry};
use super::record::{LineError, Status, data_span};
use super::short::Short;
use crate::date::Date;

/// The fields of one record (document or status event) other than `data`.
#[derive(Debug, Deserialize)]
pub struct Brief<'a> {
    pub seq: u64,
    #[serde(borrow)]
    pub prev: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub service: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub case_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub document: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub sequence: Option<Cow<'a, str>>,
    #[serde(default)]
    pub n: Option<u64>,
    #[serde(default, borrow)]
    pub number: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub items: Vec<BriefItem<'a>>,
    #[serde(default, borrow)]
    pub once: Option<Cow<'a, str>>,
    #[serde(default)]
    pub issued: Option<Date>,
    #[serde(default, borrow)]
    pub template: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub pdf: Option<BriefPdf<'a>>,
    #[serde(default, borrow)]
    pub holder: Option<BriefHolder<'a>>,
    #[serde(default, borrow)]
    pub title: Option<BriefWords<'a>>,
    #[serde(default)]
    pub target: Option<u64>,
    #[serde(default)]
    pub status: Option<Status>,
    /// Its signature (signed documents only): what `registry check` needs of it.
    #[serde(default, borrow)]
    pub signature: Option<BriefSignature<'a>>,
    /// Fields only checked to be there, as a whole read of the record requires them.
    #[serde(default)]
    case_hash: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    content: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    fonts: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    engine: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    qr: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    date: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    reason: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
pub struct BriefItem<'a> {
    #[serde(borrow)]
    pub sequence: Cow<'a, str>,
    pub n: u64,
}

#[derive(Debug, Deserialize)]
pub struct BriefPdf<'a> {
    #[serde(borrow)]
    pub sha256: Cow<'a, str>,
    #[serde(borrow)]
    pub file: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct BriefSignature<'a> {
    /// SHA-256 of the kept signature.
    #[serde(borrow)]
    pub kept: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct BriefHolder<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub kk: Cow<'a, str>,
    #[serde(borrow)]
    pub ru: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct BriefWords<'a> {
    #[serde(borrow)]
    pub kk: Cow<'a, str>,
    #[serde(borrow)]
    pub ru: Cow<'a, str>,
}

/// Reads a record's body (as [`super::split_line`] gives it) without its `data`. The bytes of
/// `data` are skipped, not parsed: the record's hash covers them. `scratch` is reused between
/// calls to hold the body with `data` cut out.
pub fn parse<'a>(body: &'a [u8], scratch: &'a mut Vec<u8>) -> Result<Brief<'a>, LineError> {
    let text: &'a [u8] = match data_span(body) {
        Some((start, end)) => {
            scratch.clear();
            scratch.extend_from_slice(&body[..start]);
            scratch.extend_from_slice(b"null");
            scratch.extend_from_slice(&body[end..]);
            scratch
        }
        None => body,
    };
    // serde_json checks the UTF-8 of every string it reads from bytes, with the standard
    // library's validator, slow on the Cyrillic of names and titles. The whole text is checked
    // at once instead, much faster, and then read as text; text that is not UTF-8 is read as
    // bytes, for serde_json's own error naming where.
    let parsed = match simdutf8::basic::from_utf8(text) {
        Ok(text) => serde_json::from_str::<Brief<'a>>(text),
        Err(_) => serde_json::from_slice::<Brief<'a>>(text),
    };
    let brief = parsed.map_err(|e| LineError::Json(e.to_string()))?;
    let complete = match brief.kind.as_ref() {
        "document" => {
            brief.sequence.is_some()
                && brief.n.is_some()
                && brief.number.is_some()
                && brief.pdf.is_some()
                && brief.issued.is_some()
                && brief.template.is_some()
                && brief.service.is_some()
                && brief.case_id.is_some()
                && brief.document.is_some()
                && brief.case_hash.is_some()
                && brief.content.is_some()
                && brief.fonts.is_some()
                && brief.engine.is_some()
                && brief.qr.is_some()
        }
        "status" => {
            brief.target.is_some()
                && brief.status.is_some()
                && brief.number.is_some()
                && brief.date.is_some()
                && brief.reason.is_some()
        }
        _ => false,
    };
    if !complete {
        return Err(LineError::Json(format!(
            "a {} record lacking fields it must have",
            brief.kind
        )));
    }
    Ok(brief)
}

impl Brief<'_> {
    pub fn is_document(&self) -> bool {
        self.kind == "document"
    }

    /// What the chain checks of it.
    pub fn link(&self) -> Link<'_> {
        let entry = match (self.target, self.status) {
            (Some(target), Some(status)) if !self.is_document() => {
                LinkEntry::Status { target, status }
            }
            _ => LinkEntry::Document {
                own: (
                    self.sequence.as_deref().unwrap_or_default(),
                    self.n.unwrap_or_default(),
                ),
                items: self
                    .items
                    .iter()
                    .map(|i| (i.sequence.as_ref(), i.n))
                    .collect(),
            },
        };
        Link {
            seq: self.seq,
            prev: &self.prev,
            entry,
        }
    }

    pub fn number(&self) -> &str {
        self.number.as_deref().unwrap_or_default()
    }

    pub fn pdf_sha256(&self) -> &str {
        self.pdf.as_ref().map_or("", |p| p.sha256.as_ref())
    }
}

/// What the chain checks of a record, owned: a brief's [`Link`] taken out of its line, to hand
/// from the threads that read lines to the one that checks the chain. Its strings are held
/// inline (they are hashes and sequence names), so a million of them allocate nothing.
#[derive(Debug, Clone)]
pub struct OwnedLink {
    pub hash: Short<64>,
    pub seq: u64,
    pub prev: Short<64>,
    pub entry: OwnedEntry,
}

/// A [`LinkEntry`], owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedEntry {
    Document {
        own: (Short<64>, u64),
        items: Vec<(String, u64)>,
    },
    Status {
        target: u64,
        status: Status,
    },
}

impl OwnedLink {
    /// `hash` is the record's (checked) hash.
    pub fn of(brief: &Brief<'_>, hash: &str) -> OwnedLink {
        let entry = match brief.link().entry {
            LinkEntry::Status { target, status } => OwnedEntry::Status { target, status },
            LinkEntry::Document {
                own: (sequence, n),
                items,
            } => OwnedEntry::Document {
                own: (Short::new(sequence), n),
                items: items.into_iter().map(|(s, n)| (s.to_string(), n)).collect(),
            },
        };
        OwnedLink {
            hash: Short::new(hash),
            seq: brief.seq,
            prev: Short::new(&brief.prev),
            entry,
        }
    }

    pub fn link(&self) -> Link<'_> {
        Link {
            seq: self.seq,
            prev: self.prev.as_str(),
            entry: match &self.entry {
                OwnedEntry::Status { target, status } => LinkEntry::Status {
                    target: *target,
                    status: *status,
                },
                OwnedEntry::Document {
                    own: (sequence, n),
                    items,
                } => LinkEntry::Document {
                    own: (sequence.as_str(), *n),
                    items: items.iter().map(|(s, n)| (s.as_str(), *n)).collect(),
                },
            },
        }
    }

    /// Whether it is a status event's.
    pub fn is_status(&self) -> bool {
        matches!(self.entry, OwnedEntry::Status { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::record::tests::sample;
    use crate::registry::record::{Entry, GENESIS, StatusEntry, split_line, to_line};
    use serde_json::json;

    fn brief_of(record: &crate::registry::Record) -> (String, OwnedLink, Option<String>) {
        let (line, hash) = to_line(record);
        let (checked, body) = split_line(line.trim_end().as_bytes()).unwrap();
        assert_eq!(checked, hash);
        let mut scratch = Vec::new();
        let brief = parse(body, &mut scratch).unwrap();
        let number = brief.number.as_deref().map(str::to_string);
        (hash.clone(), OwnedLink::of(&brief, &hash), number)
    }

    #[test]
    fn a_brief_reads_the_records_own_fields_whatever_its_data_holds() {
        let mut record = sample(3, GENESIS);
        let Entry::Document(doc) = &mut record.entry else {
            unreachable!()
        };
        // Data that imitates the record's own keys, at every depth.
        doc.data = json!({
            "document": "not-a-kind",
            "nested": {"number": "99999-X", "seq": 77, "type": "status", "document": "x"},
            "text": "\",\"document\":\"fake\",\"number\":\"1-Z\"",
        });
        let (hash, link, number) = brief_of(&record);
        assert_eq!(number.as_deref(), Some("00003-Г"));
        assert_eq!(link.seq, 3);
        assert_eq!(link.prev.as_str(), GENESIS);
        assert_eq!(link.hash.as_str(), hash);
        assert_eq!(
            link.entry,
            OwnedEntry::Document {
                own: (Short::new("certificate"), 3),
                items: Vec::new()
            }
        );
    }

    #[test]
    fn a_status_event_reads_as_its_target_and_status() {
        let record = crate::registry::Record {
            seq: 9,
            prev: GENESIS.to_string(),
            entry: Entry::Status(StatusEntry {
                target: 4,
                number: "00004-Г".into(),
                status: Status::Revoked,
                date: "2026-11-25".parse().unwrap(),
                reason: "Решение суда".into(),
                by: None,
            }),
        };
        let (_, link, _) = brief_of(&record);
        assert_eq!(
            link.entry,
            OwnedEntry::Status {
                target: 4,
                status: Status::Revoked
            }
        );
    }

    #[test]
    fn a_document_lacking_a_field_it_must_have_is_refused() {
        let mut scratch = Vec::new();
        let body =
            br#"{"seq":1,"prev":"0","type":"document","data":null,"document":"certificate"}"#;
        assert!(parse(body, &mut scratch).is_err());
    }
}
