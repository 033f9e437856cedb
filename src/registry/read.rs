//! Reading registries without their lock: what `verify`, `export`, `regenerate` and
//! `registry check` see while a batch may be writing. A reader sees whole lines only, so it
//! always sees a consistent prefix of a journal: a record being appended is seen whole or not at
//! all, and nothing a reader does can block the writer.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use memchr::memmem;

use super::index::{Index, Place};
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

    /// Calls `f` with each whole line (without its newline) and its number, reading the journal
    /// in large blocks without copying lines. An incomplete last line (being written, or cut
    /// off) is not passed; a missing journal has no lines.
    pub fn scan(&self, f: impl FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
        self.scan_from(0, 0, f)
    }

    /// Like [`scan`](Self::scan), from byte `offset` (a line start), numbering lines after
    /// `before`.
    fn scan_from(
        &self,
        offset: u64,
        before: u64,
        mut f: impl FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let path = self.path();
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        file.seek(SeekFrom::Start(offset))
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut buffer = vec![0u8; 8 << 20];
        let (mut filled, mut number) = (0, before);
        loop {
            if filled == buffer.len() {
                // A line longer than the buffer.
                buffer.resize(buffer.len() * 2, 0);
            }
            let read = file
                .read(&mut buffer[filled..])
                .with_context(|| format!("cannot read {}", path.display()))?;
            if read == 0 {
                return Ok(());
            }
            filled += read;
            let mut start = 0;
            while let Some(end) = memchr::memchr(b'\n', &buffer[start..filled]) {
                number += 1;
                f(number, &buffer[start..start + end])?;
                start += end + 1;
            }
            buffer.copy_within(start..filled, 0);
            filled -= start;
        }
    }

    /// Finds records with the journal's index: the records at the places `places` picks from
    /// it, each read from the journal and checked, and then every record after the index's last
    /// one, picked by `wanted` and `keep` as [`find`](Self::find) does. Without an index, or with
    /// one the journal contradicts (cut back, rewritten), it reads the whole journal instead.
    fn find_indexed(
        &self,
        places: impl FnOnce(&Index) -> Vec<Place>,
        wanted: impl FnMut(&[u8]) -> bool,
        mut keep: impl FnMut(&Record) -> bool,
    ) -> Result<Vec<Found>> {
        let Some(index) = Index::load(&self.journal.dir)? else {
            return self.find(wanted, keep);
        };
        let path = self.path();
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        let journal_len = file.metadata()?.len();
        let last = index.last().unwrap_or(Place {
            seq: 0,
            offset: 0,
            len: u64::MAX,
        });
        let stale = |why: String| {
            eprintln!(
                "note: the index of registry {} disagrees with its journal ({why}); reading the \
                 whole journal instead (the next batch rewrites the index)",
                self.code
            );
        };
        if last.seq > 0 && last.end() > journal_len {
            stale(format!(
                "it indexes {} bytes, the journal has {journal_len}",
                last.end()
            ));
            return self.find(wanted, keep);
        }
        let mut found = Vec::new();
        for place in places(&index) {
            if place.end() > journal_len {
                stale(format!(
                    "record {} lies beyond the journal's end",
                    place.seq
                ));
                return self.find(wanted, keep);
            }
            let mut line = vec![0u8; place.len as usize + 1];
            file.seek(SeekFrom::Start(place.offset))
                .and_then(|_| file.read_exact(&mut line))
                .with_context(|| format!("cannot read {}", path.display()))?;
            let record = match line.pop() {
                Some(b'\n') => parse_line(&line).ok(),
                _ => None,
            };
            match record {
                Some((hash, record)) if record.seq == place.seq => {
                    if keep(&record) {
                        found.push(Found {
                            line: place.seq,
                            hash,
                            record,
                        });
                    }
                }
                _ => {
                    stale(format!("record {} is not where it says", place.seq));
                    return self.find(wanted, keep);
                }
            }
        }
        let (offset, before) = if last.seq == 0 {
            (0, 0)
        } else {
            (last.end(), last.seq)
        };
        found.extend(self.find_from(offset, before, wanted, keep)?);
        Ok(found)
    }

    /// The records on lines that `wanted` picks and `keep` accepts, in journal order. `wanted`
    /// sees the raw line and should be cheap; each line it picks must be a sound record (its
    /// hash matches), or the search fails naming its line.
    pub fn find(
        &self,
        wanted: impl FnMut(&[u8]) -> bool,
        keep: impl FnMut(&Record) -> bool,
    ) -> Result<Vec<Found>> {
        self.find_from(0, 0, wanted, keep)
    }

    /// Like [`find`](Self::find), from byte `offset` (a line start), numbering lines after
    /// `before`.
    fn find_from(
        &self,
        offset: u64,
        before: u64,
        mut wanted: impl FnMut(&[u8]) -> bool,
        mut keep: impl FnMut(&Record) -> bool,
    ) -> Result<Vec<Found>> {
        let mut found = Vec::new();
        self.scan_from(offset, before, |number, line| {
            if !wanted(line) {
                return Ok(());
            }
            let (hash, record) = parse_line(line).with_context(|| {
                format!(
                    "registry {} ({}), line {number}",
                    self.code,
                    self.path().display()
                )
            })?;
            if keep(&record) {
                found.push(Found {
                    line: number,
                    hash,
                    record,
                });
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// The documents numbered `number` (one, unless two sequences write numbers alike).
    pub fn by_number(&self, number: &str) -> Result<Vec<Found>> {
        let needle = format!("\"number\":{}", json_string(number));
        let finder = memmem::Finder::new(needle.as_bytes());
        self.find_indexed(
            |index| index.documents(number),
            |line| finder.find(top_level_tail(line)).is_some(),
            |r| r.document().is_some_and(|d| d.number == number),
        )
    }

    /// The documents issued for case `case_id`.
    pub fn by_case(&self, case_id: &str) -> Result<Vec<Found>> {
        // `case_id` is the second key of a document record, right after `case_hash`.
        let needle = format!("\"case_id\":{},", json_string(case_id));
        let finder = memmem::Finder::new(needle.as_bytes());
        let window = 200 + needle.len();
        self.find(
            |line| finder.find(&line[..line.len().min(window)]).is_some(),
            |r| r.document().is_some_and(|d| d.case_id == case_id),
        )
    }

    /// The documents whose PDF has SHA-256 `sha256` (hex).
    pub fn by_pdf(&self, sha256: &str) -> Result<Vec<Found>> {
        let needle = format!("\"sha256\":\"{sha256}\"");
        let finder = memmem::Finder::new(needle.as_bytes());
        self.find_indexed(
            |index| index.pdfs(sha256),
            |line| finder.find(top_level_tail(line)).is_some(),
            |r| r.document().is_some_and(|d| d.pdf.sha256 == sha256),
        )
    }

    /// The last status event of each document whose status ever changed, by the `seq` of the
    /// document's record.
    pub fn statuses(&self) -> Result<HashMap<u64, StatusEntry>> {
        let mut statuses = HashMap::new();
        // `type` is the last key of a record.
        let events = self.find_indexed(
            Index::status_events,
            |line| line.ends_with(b"\"type\":\"status\"}}"),
            |r| r.status().is_some(),
        )?;
        for found in events {
            let event = found.record.status().expect("kept status events only");
            statuses.insert(event.target, event.clone());
        }
        Ok(statuses)
    }
}

/// The part of a document record's line after its case data: from the last `"document":"` on.
/// Keys are sorted, so `data` comes before the top-level `document`; any `"document":"` inside
/// the data comes earlier, and none can hide in a string (its quotes would be escaped). What
/// follows holds the number, the items, the PDF's hash and the rest of the record's own fields.
fn top_level_tail(line: &[u8]) -> &[u8] {
    memmem::rfind(line, b"\"document\":\"").map_or(line, |i| &line[i..])
}

/// A string as a JSON string literal, as canonical records write it.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialise")
}

#[cfg(test)]
mod tests {
    use super::super::record::tests::sample;
    use super::super::record::{Entry, GENESIS, Status, StatusEntry, to_line};
    use super::*;
    use serde_json::json;

    /// A journal of `n` sample documents whose data also mention other records' numbers, case
    /// ids and a nested `document` key, followed by one status event on record 2.
    fn journal(n: u64) -> (tempfile::TempDir, Reader) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        let mut prev = GENESIS.to_string();
        for seq in 1..=n {
            let mut record = sample(seq, &prev);
            let Entry::Document(doc) = &mut record.entry else {
                unreachable!()
            };
            let other = seq % n + 1;
            doc.data = json!({
                "previous": {"number": format!("{other:05}-Г"), "case_id": format!("MR-{other}")},
                "note": {"document": "certificate", "sha256": sha256_hex_of(other)},
            });
            doc.pdf.sha256 = sha256_hex_of(seq);
            let (line, hash) = to_line(&record);
            text.push_str(&line);
            prev = hash;
        }
        let event = super::super::record::Record {
            seq: n + 1,
            prev,
            entry: Entry::Status(StatusEntry {
                target: 2,
                number: "00002-Г".into(),
                status: Status::Revoked,
                date: "2026-11-25".parse().unwrap(),
                reason: "test".into(),
                by: None,
            }),
        };
        text.push_str(&to_line(&event).0);
        // A record being written: not seen.
        text.push_str("{\"hash\":\"00");
        std::fs::create_dir_all(dir.path().join("media")).unwrap();
        std::fs::write(dir.path().join("media/journal.jsonl"), text).unwrap();
        let reader = Reader::open(dir.path(), "media").unwrap();
        (dir, reader)
    }

    fn sha256_hex_of(n: u64) -> String {
        super::super::record::sha256_hex(n.to_string().as_bytes())
    }

    #[test]
    fn lookups_find_the_records_own_fields_not_what_their_data_mention() {
        let (_dir, reader) = journal(5);
        let found = reader.by_number("00003-Г").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].record.seq), (3, 3));
        let found = reader.by_case("MR-4").unwrap();
        assert_eq!(found.iter().map(|f| f.record.seq).collect::<Vec<_>>(), [4]);
        let found = reader.by_pdf(&sha256_hex_of(5)).unwrap();
        assert_eq!(found.iter().map(|f| f.record.seq).collect::<Vec<_>>(), [5]);
        assert!(reader.by_number("00009-Г").unwrap().is_empty());
        let statuses = reader.statuses().unwrap();
        assert_eq!(statuses.len(), 1);
        assert_eq!(statuses[&2].status, Status::Revoked);
        let mut lines = 0;
        reader
            .scan(|_, _| {
                lines += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(lines, 6, "the incomplete last line is not read");
    }

    #[test]
    fn an_index_naming_places_beyond_the_journal_is_not_trusted() {
        // Found by fuzzing (tests/corpus/fuzz/journal-index-*.d): an index line with an offset
        // near u64::MAX overflowed, one with a huge length asked for a terabyte.
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/fuzz");
        for case in [
            "journal-index-offset-overflow.d",
            "journal-index-huge-length.d",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let media = dir.path().join("media");
            std::fs::create_dir_all(&media).unwrap();
            for file in ["journal.jsonl", "index.tsv"] {
                std::fs::copy(corpus.join(case).join("media").join(file), media.join(file))
                    .unwrap();
            }
            let reader = Reader::open(dir.path(), "media").unwrap();
            let index = std::fs::read_to_string(media.join("index.tsv")).unwrap();
            for number in index.lines().filter_map(|l| l.split('\t').nth(4)) {
                let _ = reader.by_number(number);
            }
            let _ = reader.statuses();
        }
    }

    #[test]
    fn a_damaged_line_that_a_lookup_reads_is_named() {
        let (dir, reader) = journal(3);
        let path = dir.path().join("media/journal.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("\"n\":2", "\"n\":7", 1)).unwrap();
        let err = reader.by_case("MR-2").unwrap_err();
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
    }
}
