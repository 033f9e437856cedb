//! A journal's index: one short line per record saying where it lies and what it is looked up
//! by, so that finding one document among a million records reads megabytes, not gigabytes.
//!
//! `registry/<code>/index.tsv`, tab-separated, one line per record in journal order:
//!
//! ```text
//! seq  offset  length  d  number  pdf-sha256-prefix     (a document)
//! seq  offset  length  s  target  status                (a status event)
//! ```
//!
//! `offset` and `length` locate the record's line in the journal (without its newline); the PDF
//! hash is cut to its first 16 hex digits, enough to locate a record whose full hash is then
//! compared. The index is derived data: the writer appends to it after each journal append
//! (without waiting for the disk), and when it opens a registry it checks the index against the
//! journal and rewrites whatever disagrees. Readers trust it only as far as the journal confirms:
//! every record found through it is read from the journal and its hash, `seq` and number checked,
//! and the journal beyond the index's last record is read in full.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::record::{Entry, Record, Status};
use super::short::Short;

/// The index file of the registry folder `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("index.tsv")
}

/// How many hex digits of a PDF's SHA-256 the index keeps.
const PDF_PREFIX: usize = 16;

/// One line of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub seq: u64,
    pub offset: u64,
    /// The line's length, without its newline.
    pub len: u64,
}

impl Place {
    /// The byte after the line's newline: where the next record starts (`u64::MAX` for a
    /// place no journal can have).
    pub fn end(&self) -> u64 {
        self.offset
            .checked_add(self.len)
            .and_then(|end| end.checked_add(1))
            .unwrap_or(u64::MAX)
    }
}

/// The index line of `record`, stored at `offset` with `len` bytes (newline included at the end).
pub fn line(record: &Record, offset: u64, len: u64) -> String {
    match &record.entry {
        Entry::Document(doc) => {
            document_line(record.seq, offset, len, &doc.number, &doc.pdf.sha256)
        }
        Entry::Status(event) => status_line(record.seq, offset, len, event.target, event.status),
    }
}

/// The index line of a document record.
pub fn document_line(seq: u64, offset: u64, len: u64, number: &str, pdf_sha256: &str) -> String {
    let mut line = String::new();
    write_document_line(&mut line, seq, offset, len, number, pdf_sha256);
    line
}

fn write_document_line(
    out: &mut impl std::fmt::Write,
    seq: u64,
    offset: u64,
    len: u64,
    number: &str,
    pdf_sha256: &str,
) {
    let pdf = pdf_sha256.get(..PDF_PREFIX).unwrap_or(pdf_sha256);
    writeln!(out, "{seq}\t{offset}\t{len}\td\t{number}\t{pdf}").expect("writing to memory");
}

/// The index line of a status event.
pub fn status_line(seq: u64, offset: u64, len: u64, target: u64, status: Status) -> String {
    let mut line = String::new();
    write_status_line(&mut line, seq, offset, len, target, status);
    line
}

fn write_status_line(
    out: &mut impl std::fmt::Write,
    seq: u64,
    offset: u64,
    len: u64,
    target: u64,
    status: Status,
) {
    writeln!(out, "{seq}\t{offset}\t{len}\ts\t{target}\t{status}").expect("writing to memory");
}

/// The index line of a record read briefly, held inline (see [`Short`]): a check makes one
/// for each of a million records.
pub fn brief_line(brief: &super::brief::Brief<'_>, offset: u64, len: u64) -> Short<128> {
    let mut line = Short::default();
    match (brief.target, brief.status) {
        (Some(target), Some(status)) if !brief.is_document() => {
            write_status_line(&mut line, brief.seq, offset, len, target, status)
        }
        _ => write_document_line(
            &mut line,
            brief.seq,
            offset,
            len,
            brief.number(),
            brief.pdf_sha256(),
        ),
    }
    line
}

/// An index read into memory (whole lines only).
pub struct Index {
    bytes: Vec<u8>,
}

impl Index {
    /// Reads the index of registry folder `dir`; `None` when there is none.
    pub fn load(dir: &Path) -> Result<Option<Index>> {
        let path = path(dir);
        let mut bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        let whole = memchr::memrchr(b'\n', &bytes).map_or(0, |i| i + 1);
        bytes.truncate(whole);
        Ok(Some(Index { bytes }))
    }

    /// The place of the last record indexed.
    pub fn last(&self) -> Option<Place> {
        let body = self.bytes.strip_suffix(b"\n")?;
        let start = memchr::memrchr(b'\n', body).map_or(0, |i| i + 1);
        parse_place(&body[start..])
    }

    /// The places of the documents numbered `number`.
    pub fn documents(&self, number: &str) -> Vec<Place> {
        self.places(format!("\td\t{number}\t").as_bytes())
    }

    /// The places of the documents whose PDF has SHA-256 `sha256`.
    pub fn pdfs(&self, sha256: &str) -> Vec<Place> {
        match sha256.get(..PDF_PREFIX) {
            Some(prefix) => self.places(format!("\t{prefix}\n").as_bytes()),
            None => Vec::new(),
        }
    }

    /// The places of every status event.
    pub fn status_events(&self) -> Vec<Place> {
        self.places(b"\ts\t")
    }

    /// The places of the lines containing `needle` (which holds a tab, so never matches a seq
    /// or offset).
    fn places(&self, needle: &[u8]) -> Vec<Place> {
        memchr::memmem::find_iter(&self.bytes, needle)
            .filter_map(|at| {
                let start = memchr::memrchr(b'\n', &self.bytes[..at]).map_or(0, |i| i + 1);
                let end =
                    memchr::memchr(b'\n', &self.bytes[at..]).map_or(self.bytes.len(), |i| at + i);
                parse_place(&self.bytes[start..end])
            })
            .collect()
    }
}

/// The place an index line gives (its first three fields).
fn parse_place(line: &[u8]) -> Option<Place> {
    let text = std::str::from_utf8(line).ok()?;
    let mut fields = text.split('\t');
    let mut number = || fields.next()?.parse::<u64>().ok();
    Some(Place {
        seq: number()?,
        offset: number()?,
        len: number()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::record::GENESIS;
    use crate::registry::record::tests::sample;

    #[test]
    fn lines_are_found_by_number_pdf_and_kind() {
        let mut record = sample(7, GENESIS);
        let text = line(&record, 1000, 5321);
        assert!(text.starts_with("7\t1000\t5321\td\t00007-Г\t"));
        let Entry::Document(doc) = &mut record.entry else {
            unreachable!()
        };
        let sha = doc.pdf.sha256.clone();
        let dir = tempfile::tempdir().unwrap();
        let status = "8\t6322\t200\ts\t7\trevoked\n";
        std::fs::write(path(dir.path()), format!("{text}{status}9\t65")).unwrap();
        let index = Index::load(dir.path()).unwrap().unwrap();
        let place = Place {
            seq: 7,
            offset: 1000,
            len: 5321,
        };
        assert_eq!(index.documents("00007-Г"), vec![place.clone()]);
        assert_eq!(index.documents("00007"), vec![], "whole numbers only");
        assert_eq!(index.pdfs(&sha), vec![place]);
        assert_eq!(index.status_events()[0].seq, 8);
        assert_eq!(
            index.last().unwrap().end(),
            6322 + 201,
            "a torn last line is not read"
        );
    }
}
