//! Reading registries without their lock: what `verify`, `export`, `regenerate` and
//! `registry check` see while a batch may be writing. A reader sees whole lines only, so it
//! always sees a consistent prefix of a journal: a record being appended is seen whole or not at
//! all, and nothing a reader does can block the writer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use memchr::memmem;

use super::journal::{Journal, Lines};
use super::record::{DocumentEntry, Record, StatusEntry, parse_line};
use super::registry_dir;

/// The registries under a registry folder: its subfolders holding a journal, by name.
pub fn codes(root: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(root)
        .with_context(|| format!("cannot read the registry folder {}", root.display()))?;
    let mut codes = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", root.display()))?;
        if entry.path().join("journal.jsonl").is_file()
            && let Some(name) = entry.file_name().to_str()
        {
            codes.push(name.to_string());
        }
    }
    codes.sort();
    Ok(codes)
}

/// One registry, opened for reading.
#[derive(Debug, Clone)]
pub struct Reader {
    pub code: String,
    journal: Journal,
}

/// A record found in a journal, and where.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its line in the journal (1-based; equal to its `seq` in a sound journal).
    pub line: u64,
    pub hash: String,
    pub record: Record,
}

impl Found {
    /// The document the record registers (every finder but [`Reader::statuses`] finds only
    /// documents).
    pub fn document(&self) -> &DocumentEntry {
        self.record
            .document()
            .expect("finders return document records")
    }
}

impl Reader {
    /// Opens registry `code` under `root`; it must exist.
    pub fn open(root: &Path, code: &str) -> Result<Reader> {
        let journal = Journal::new(&registry_dir(root, code));
        if !journal.path().is_file() {
            let known = codes(root).unwrap_or_default();
            bail!(
                "there is no registry {code:?} in {} (registries there: {})",
                root.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
        Ok(Reader {
            code: code.to_string(),
            journal,
        })
    }

    /// Every registry under `root`.
    pub fn all(root: &Path) -> Result<Vec<Reader>> {
        codes(root)?
            .iter()
            .map(|code| Reader::open(root, code))
            .collect()
    }

    pub fn path(&self) -> PathBuf {
        self.journal.path()
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The journal's whole lines.
    pub fn lines(&self) -> Result<Lines> {
        self.journal.lines()
    }

    /// The records whose line holds `needle` and which `keep` accepts, in journal order. Only
    /// lines holding the needle are parsed; each of them must be a sound record (its hash
    /// matches), or the search fails naming its line.
    pub fn find(&self, needle: &[u8], mut keep: impl FnMut(&Record) -> bool) -> Result<Vec<Found>> {
        let finder = memmem::Finder::new(needle);
        let mut found = Vec::new();
        for line in self.lines()? {
            let line = line?;
            if finder.find(&line.bytes).is_none() {
                continue;
            }
            let (hash, record) = parse_line(&line.bytes).with_context(|| {
                format!(
                    "registry {} ({}), line {}",
                    self.code,
                    self.path().display(),
                    line.number
                )
            })?;
            if keep(&record) {
                found.push(Found {
                    line: line.number,
                    hash,
                    record,
                });
            }
        }
        Ok(found)
    }

    /// The documents numbered `number` (one, unless two sequences write numbers alike).
    pub fn by_number(&self, number: &str) -> Result<Vec<Found>> {
        let needle = format!("\"number\":{}", json_string(number));
        self.find(needle.as_bytes(), |r| {
            r.document().is_some_and(|d| d.number == number)
        })
    }

    /// The documents issued for case `case_id`.
    pub fn by_case(&self, case_id: &str) -> Result<Vec<Found>> {
        let needle = format!("\"case_id\":{}", json_string(case_id));
        self.find(needle.as_bytes(), |r| {
            r.document().is_some_and(|d| d.case_id == case_id)
        })
    }

    /// The documents whose PDF has SHA-256 `sha256` (hex).
    pub fn by_pdf(&self, sha256: &str) -> Result<Vec<Found>> {
        let needle = format!("\"sha256\":\"{sha256}\"");
        self.find(needle.as_bytes(), |r| {
            r.document().is_some_and(|d| d.pdf.sha256 == sha256)
        })
    }

    /// The last status event of each document whose status ever changed, by the `seq` of the
    /// document's record.
    pub fn statuses(&self) -> Result<HashMap<u64, StatusEntry>> {
        let mut statuses = HashMap::new();
        for found in self.find(b"\"type\":\"status\"", |r| r.status().is_some())? {
            let event = found.record.status().expect("kept status events only");
            statuses.insert(event.target, event.clone());
        }
        Ok(statuses)
    }
}

/// A string as a JSON string literal, as canonical records write it.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialise")
}
