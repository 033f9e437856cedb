//! A registered document, as every reader shows it (`verify`, `export`, `regenerate`, `serve`):
//! its record, where it is, and its status in force. The record is the registry's; the status
//! comes from the status events appended after it.

use std::fmt;

use serde::Serialize;

use super::record::{DocumentEntry, Status, StatusEntry};

/// A registered document.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// The registry it is in, and its record's position and hash there.
    pub registry: String,
    pub seq: u64,
    pub hash: String,
    /// Its record.
    pub entry: DocumentEntry,
    /// Its status in force, and the event that set it (none while it was never changed).
    pub status: Status,
    pub event: Option<StatusEntry>,
}

impl Document {
    pub fn new(
        registry: &str,
        seq: u64,
        hash: &str,
        entry: DocumentEntry,
        event: Option<StatusEntry>,
    ) -> Document {
        Document {
            registry: registry.to_string(),
            seq,
            hash: hash.to_string(),
            status: event.as_ref().map_or(Status::Active, |e| e.status),
            entry,
            event,
        }
    }

    pub fn in_force(&self) -> bool {
        self.status == Status::Active
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

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let doc = &self.entry;
        let title = doc.title();
        let holder = doc.holder();
        writeln!(f, "  registry   {} (record {})", self.registry, self.seq)?;
        writeln!(f, "  number     {}", doc.number)?;
        writeln!(
            f,
            "  document   {} — {} / {}",
            doc.document, title.kk, title.ru
        )?;
        writeln!(f, "  service    {}, case {}", doc.service, doc.case_id)?;
        if holder.kk == holder.ru {
            writeln!(f, "  holder     {}, {}", holder.kk, holder.id)?;
        } else {
            writeln!(
                f,
                "  holder     {} / {}, {}",
                holder.kk, holder.ru, holder.id
            )?;
        }
        writeln!(f, "  issued     {}", doc.issued.dmy())?;
        writeln!(f, "  status     {}", self.status_text())
    }
}
