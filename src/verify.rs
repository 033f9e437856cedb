//! `qujat verify`: is this document genuine, and is it in force? A PDF is looked up by its
//! SHA-256 in every registry; a scanned QR payload by its registry and number, and its content
//! hash compared with the record's. Either way the answer is the record and its status in force.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};

use crate::date::Date;
use crate::qr::Payload;
use crate::registry::read::{Found, Reader};
use crate::registry::{DocumentEntry, Status, StatusEntry, sha256_hex};

/// A registered document as `verify` and `export` show it.
#[derive(Debug, Clone)]
pub struct DocumentView {
    pub registry: String,
    pub seq: u64,
    pub number: String,
    pub kind: String,
    pub title: (String, String),
    pub service: String,
    pub case_id: String,
    /// The holder's name in Kazakh and Russian, and IIN or BIN.
    pub holder: (String, String),
    pub holder_id: String,
    pub issued: Date,
    pub status: Status,
    /// The event that set the status in force (none while the document was never changed).
    pub event: Option<StatusEntry>,
    pub pdf_sha256: String,
}

impl DocumentView {
    pub fn new(
        registry: &str,
        seq: u64,
        doc: &DocumentEntry,
        statuses: &HashMap<u64, StatusEntry>,
    ) -> DocumentView {
        let event = statuses.get(&seq).cloned();
        let holder = doc.holder();
        let title = doc.title();
        DocumentView {
            registry: registry.to_string(),
            seq,
            number: doc.number.clone(),
            kind: doc.document.clone(),
            title: (title.kk, title.ru),
            service: doc.service.clone(),
            case_id: doc.case_id.clone(),
            holder: (holder.kk, holder.ru),
            holder_id: holder.id,
            issued: doc.issued,
            status: event.as_ref().map_or(Status::Active, |e| e.status),
            event,
            pdf_sha256: doc.pdf.sha256.clone(),
        }
    }

    /// The status in force in words: `superseded on 24.11.2026 by № 00018-Г (…)`.
    pub fn status_text(&self) -> String {
        match &self.event {
            None => self.status.to_string(),
            Some(event) => {
                let mut text = format!("{} on {}", event.status, event.date.dmy());
                if let Some(by) = &event.by {
                    text.push_str(&format!(" by № {by}"));
                }
                if !event.reason.is_empty() {
                    text.push_str(&format!(" ({})", event.reason));
                }
                text
            }
        }
    }
}

impl fmt::Display for DocumentView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kk, ru) = &self.title;
        writeln!(f, "  registry   {} (record {})", self.registry, self.seq)?;
        writeln!(f, "  number     {}", self.number)?;
        writeln!(f, "  document   {} — {kk} / {ru}", self.kind)?;
        writeln!(f, "  service    {}, case {}", self.service, self.case_id)?;
        let (holder_kk, holder_ru) = &self.holder;
        if holder_kk == holder_ru {
            writeln!(f, "  holder     {holder_kk}, {}", self.holder_id)?;
        } else {
            writeln!(
                f,
                "  holder     {holder_kk} / {holder_ru}, {}",
                self.holder_id
            )?;
        }
        writeln!(f, "  issued     {}", self.issued.dmy())?;
        writeln!(f, "  status     {}", self.status_text())
    }
}

/// The answer about one document.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Registered: the record, with its status in force.
    Genuine(Box<DocumentView>),
    /// Not registered anywhere, or not as presented.
    Unknown(String),
}

/// Looks a PDF up by its SHA-256 in every registry under `root`.
pub fn verify_file(root: &Path, path: &Path) -> Result<Verdict> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let sha256 = sha256_hex(&bytes);
    for reader in Reader::all(root)? {
        if let Some(found) = reader.by_pdf(&sha256)?.into_iter().next() {
            return Ok(Verdict::Genuine(Box::new(view(&reader, &found)?)));
        }
    }
    Ok(Verdict::Unknown(format!(
        "no registry in {} holds a document with SHA-256 {sha256}: it was altered, or not issued \
         here",
        root.display()
    )))
}

/// Checks a scanned QR payload: the registry must hold the number, with the same content hash.
pub fn verify_payload(root: &Path, text: &str) -> Result<Verdict> {
    let payload = match Payload::parse(text) {
        Ok(payload) => payload,
        Err(err) => return Ok(Verdict::Unknown(format!("{err:#}"))),
    };
    let reader = match Reader::open(root, &payload.registry) {
        Ok(reader) => reader,
        Err(err) => return Ok(Verdict::Unknown(format!("{err:#}"))),
    };
    let found = reader.by_number(&payload.number)?;
    let Some(found) = found
        .iter()
        .find(|f| f.document().content == payload.content)
    else {
        return Ok(Verdict::Unknown(if found.is_empty() {
            format!(
                "registry {} has no document № {}",
                payload.registry, payload.number
            )
        } else {
            format!(
                "registry {} has № {}, but with other content than this QR code names: the \
                 document was altered",
                payload.registry, payload.number
            )
        }));
    };
    Ok(Verdict::Genuine(Box::new(view(&reader, found)?)))
}

fn view(reader: &Reader, found: &Found) -> Result<DocumentView> {
    let statuses = reader.statuses()?;
    Ok(DocumentView::new(
        &reader.code,
        found.record.seq,
        found.document(),
        &statuses,
    ))
}
