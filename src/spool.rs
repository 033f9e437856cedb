//! The spool: the data of every planned document, on disk from the moment its case is read until
//! the document is rendered, so that a batch holds a few hundred bytes per document in memory
//! however many it issues.
//!
//! A document's data is made when its case is validated, before its number is known. It is
//! kept as its canonical JSON text with two gaps, where `document.items` and `document.number`
//! go; filling them in gives exactly the canonical text of the numbered data (what the template
//! reads, the record keeps and the content hash covers), without parsing or serialising the
//! data again.
//!
//! Once numbered, the planned documents themselves wait there too ([`Spool::put_value`]), and
//! the run report's list of issued documents waits in a [`List`] of its own: what a batch keeps
//! in memory per document is where its entries are, not the entries.
//!
//! The spool is an anonymous file (`O_TMPFILE`) in the output folder: it has no name, so nothing
//! is left behind whatever happens to the process, and the case data in it is never visible to
//! another program. Writes and reads are positioned, so any thread may do either.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

/// A document's data with its two number gaps: `text` is the canonical JSON of the data without
/// the values of `document.items` and `document.number`; they go at `cuts[0]` and `cuts[1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataParts {
    text: String,
    cuts: [usize; 2],
}

impl DataParts {
    /// Splits `data` — an object whose `document` object has `items` and `number` — at those two
    /// values. The text around them is what [`crate::registry::canonical`] writes: serde_json's
    /// compact form, keys in order.
    pub fn of(data: &Json) -> Result<DataParts> {
        let Json::Object(top) = data else {
            bail!("document data must be an object");
        };
        let mut text = String::with_capacity(4096);
        let mut cuts = Vec::with_capacity(2);
        text.push('{');
        for (i, (key, value)) in top.iter().enumerate() {
            push_key(&mut text, i, key);
            match (key.as_str(), value) {
                ("document", Json::Object(document)) => {
                    text.push('{');
                    for (j, (key, value)) in document.iter().enumerate() {
                        push_key(&mut text, j, key);
                        if key == "items" || key == "number" {
                            cuts.push(text.len());
                        } else {
                            push_json(&mut text, value);
                        }
                    }
                    text.push('}');
                }
                _ => push_json(&mut text, value),
            }
        }
        text.push('}');
        let [items, number] = cuts[..] else {
            bail!("document data must have document.items and document.number");
        };
        Ok(DataParts {
            text,
            cuts: [items, number],
        })
    }

    /// The canonical text of the data with these items and this number.
    pub fn fill(&self, items: &Json, number: &str) -> String {
        fill(self.text.as_bytes(), self.cuts, items, number)
    }
}

/// The key of an object's `i`-th member, with the separators around it: `,"key":`.
fn push_key(text: &mut String, i: usize, key: &str) {
    if i > 0 {
        text.push(',');
    }
    push_json(text, key);
    text.push(':');
}

fn push_json(text: &mut String, value: &(impl serde::Serialize + ?Sized)) {
    text.push_str(&serde_json::to_string(value).expect("JSON values always serialise"));
}

fn fill(text: &[u8], [items_at, number_at]: [usize; 2], items: &Json, number: &str) -> String {
    let (head, rest) = text.split_at(items_at);
    let (middle, tail) = rest.split_at(number_at - items_at);
    let items = serde_json::to_string(items).expect("JSON values always serialise");
    let number = serde_json::to_string(number).expect("strings always serialise");
    let mut out = Vec::with_capacity(text.len() + items.len() + number.len());
    out.extend_from_slice(head);
    out.extend_from_slice(items.as_bytes());
    out.extend_from_slice(middle);
    out.extend_from_slice(number.as_bytes());
    out.extend_from_slice(tail);
    // Both the text and what went into it are UTF-8; the cuts are at ASCII `:`s.
    String::from_utf8(out).expect("spooled data is UTF-8")
}

/// Where a document's data is in the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Spooled {
    offset: u64,
    len: u32,
    cuts: [u32; 2],
}

/// The spool file of one batch.
#[derive(Debug)]
pub struct Spool {
    file: File,
    /// Where the next document's data goes.
    end: AtomicU64,
}

impl Spool {
    /// A new, empty spool in `dir` (created if missing).
    pub fn new(dir: &Path) -> Result<Spool> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the output folder {}", dir.display()))?;
        let file = tempfile::tempfile_in(dir).with_context(|| {
            format!(
                "cannot create the batch's spool file (an unnamed temporary file) in {}",
                dir.display()
            )
        })?;
        Ok(Spool {
            file,
            end: AtomicU64::new(0),
        })
    }

    /// Writes a document's data to the spool.
    pub fn put(&self, parts: &DataParts) -> Result<Spooled> {
        let Stored { offset, len } = self.put_bytes(parts.text.as_bytes())?;
        Ok(Spooled {
            offset,
            len,
            cuts: parts.cuts.map(|c| c as u32),
        })
    }

    /// Writes a value to the spool (as JSON), for [`value`](Self::value) to read back.
    pub fn put_value<T: Serialize>(&self, value: &T) -> Result<Stored> {
        let bytes = serde_json::to_vec(value).context("a spooled value cannot be written")?;
        self.put_bytes(&bytes)
    }

    /// A value written with [`put_value`](Self::put_value).
    pub fn value<T: DeserializeOwned>(&self, at: &Stored) -> Result<T> {
        let bytes = self.bytes(at.offset, at.len)?;
        serde_json::from_slice(&bytes).context("a spooled value cannot be read back")
    }

    fn put_bytes(&self, bytes: &[u8]) -> Result<Stored> {
        let len = u32::try_from(bytes.len()).context("a spooled entry is over 4 GiB")?;
        let offset = self.end.fetch_add(u64::from(len), Ordering::Relaxed);
        self.file
            .write_all_at(bytes, offset)
            .context("cannot write to the batch's spool file (disk full?)")?;
        Ok(Stored { offset, len })
    }

    fn bytes(&self, offset: u64, len: u32) -> Result<Vec<u8>> {
        let mut bytes = vec![0; len as usize];
        self.file
            .read_exact_at(&mut bytes, offset)
            .context("cannot read the batch's spool file")?;
        Ok(bytes)
    }

    /// The canonical text of a spooled document's data with these items and this number.
    pub fn data(&self, at: &Spooled, items: &Json, number: &str) -> Result<String> {
        let text = self.bytes(at.offset, at.len)?;
        Ok(fill(&text, at.cuts.map(|c| c as usize), items, number))
    }
}

/// Where a value is in the spool ([`Spool::put_value`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    offset: u64,
    len: u32,
}

/// A list of values that only grows and is read back whole, in order: kept as JSON lines in an
/// unnamed file in a folder (made when the first value comes), a buffer's worth in memory.
pub struct List<T> {
    dir: PathBuf,
    file: Option<File>,
    /// Bytes in the file; the lines after them are in `pending`.
    written: u64,
    pending: Vec<u8>,
    len: usize,
    values: PhantomData<fn(T) -> T>,
}

/// How much of a [`List`] waits in memory before it is written out.
const LIST_BUFFER: usize = 256 << 10;

impl<T: Serialize + DeserializeOwned> List<T> {
    /// An empty list whose file will be in `dir`.
    pub fn new(dir: &Path) -> List<T> {
        List {
            dir: dir.to_path_buf(),
            file: None,
            written: 0,
            pending: Vec::new(),
            len: 0,
            values: PhantomData,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a value.
    pub fn push(&mut self, value: &T) -> Result<()> {
        // serde_json escapes line breaks in strings: one value, one line.
        serde_json::to_writer(&mut self.pending, value)
            .context("a listed value cannot be written")?;
        self.pending.push(b'\n');
        self.len += 1;
        if self.pending.len() >= LIST_BUFFER {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> Result<()> {
        let file = match &self.file {
            Some(file) => file,
            None => {
                std::fs::create_dir_all(&self.dir)
                    .with_context(|| format!("cannot create {}", self.dir.display()))?;
                let file = tempfile::tempfile_in(&self.dir).with_context(|| {
                    format!(
                        "cannot create an unnamed temporary file in {}",
                        self.dir.display()
                    )
                })?;
                self.file.insert(file)
            }
        };
        file.write_all_at(&self.pending, self.written)
            .context("cannot write to a batch's temporary file (disk full?)")?;
        self.written += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    /// Calls `each` on every value, in the order they were pushed.
    pub fn for_each(&self, mut each: impl FnMut(T) -> Result<()>) -> Result<()> {
        let on_disk = Positioned {
            file: self.file.as_ref(),
            at: 0,
            end: self.written,
        };
        let lines = BufReader::with_capacity(LIST_BUFFER, on_disk.chain(&self.pending[..]));
        for line in lines.split(b'\n') {
            let line = line.context("cannot read a batch's temporary file")?;
            each(serde_json::from_slice(&line).context("a listed value cannot be read back")?)?;
        }
        Ok(())
    }
}

impl<T> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List").field("len", &self.len).finish()
    }
}

/// Reads `at..end` of a file by positioned reads, so that reading needs no `&mut File`.
struct Positioned<'a> {
    file: Option<&'a File>,
    at: u64,
    end: u64,
}

impl Read for Positioned<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(file) = self.file else {
            return Ok(0);
        };
        let left = usize::try_from(self.end - self.at).unwrap_or(usize::MAX);
        let take = buf.len().min(left);
        if take == 0 {
            return Ok(0);
        }
        let read = file.read_at(&mut buf[..take], self.at)?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.at += read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::registry::canonical;

    /// Data shaped like a template's, with keys that sort on both sides of `document`, `items`
    /// and `number`, and texts that need escaping.
    fn sample() -> Json {
        json!({
            "authority": {"name": {"kk": "Ақпарат комитеті", "ru": "Комитет \"информации\""}},
            "case": {"id": "A-1", "items": [{"number": "x"}], "title": "#set \\ ] $ \u{7f} \t"},
            "deadline": {"days": 15},
            "document": {
                "date": {"iso": "2026-11-24"},
                "items": [],
                "kind": "certificate",
                "number": "",
                "title": {"kk": "Куәлік", "ru": "Свидетельство"},
            },
            "documents": "not the one",
            "duty": {"mci": 5},
            "zzz": null,
        })
    }

    #[test]
    fn filled_parts_are_the_canonical_text_of_the_numbered_data() {
        let data = sample();
        let parts = DataParts::of(&data).unwrap();
        for (items, number) in [
            (json!([]), "00017-Г"),
            (
                json!([{"n": 3, "number": "ПО-3"}, {"n": 4, "number": "ПО-4"}]),
                "Д\"1\\",
            ),
            (json!([]), ""),
        ] {
            let mut numbered = data.clone();
            numbered["document"]["items"] = items.clone();
            numbered["document"]["number"] = json!(number);
            assert_eq!(parts.fill(&items, number), canonical(&numbered));
        }
    }

    #[test]
    fn data_without_its_number_places_is_refused() {
        let mut data = sample();
        data["document"].as_object_mut().unwrap().remove("items");
        assert!(DataParts::of(&data).is_err());
        assert!(DataParts::of(&json!([1, 2])).is_err());
    }

    #[test]
    fn a_spooled_value_reads_back_as_it_was_put() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path()).unwrap();
        let data = spool.put(&DataParts::of(&sample()).unwrap()).unwrap();
        let values = [sample(), json!("line\nbreak"), json!(null)];
        let places: Vec<Stored> = values.iter().map(|v| spool.put_value(v).unwrap()).collect();
        for (value, at) in values.iter().zip(&places) {
            assert_eq!(&spool.value::<Json>(at).unwrap(), value);
        }
        // Values and data share the file without overlapping.
        let items = json!([]);
        let mut numbered = sample();
        numbered["document"]["number"] = json!("N");
        assert_eq!(
            spool.data(&data, &items, "N").unwrap(),
            canonical(&numbered)
        );
    }

    #[test]
    fn a_list_gives_back_every_value_in_order_across_its_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let empty: List<Json> = List::new(&out);
        let mut seen = 0;
        empty
            .for_each(|_| {
                seen += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, 0);
        // Nothing is made on disk for an empty list, not even its folder.
        assert!(!out.exists());

        let mut list = List::new(&out);
        // Enough values to be written out several times, with line breaks inside strings.
        let value = |i: usize| json!({"i": i, "text": format!("{i}\n{}", "ж".repeat(i % 700))});
        let count = 3 * LIST_BUFFER / 600;
        for i in 0..count {
            list.push(&value(i)).unwrap();
        }
        assert_eq!(list.len(), count);
        assert!(list.written > 0, "part of the list is on disk");
        assert!(!list.pending.is_empty(), "part of it is still in memory");
        let mut back = Vec::new();
        list.for_each(|v: Json| {
            back.push(v);
            Ok(())
        })
        .unwrap();
        assert_eq!(back, (0..count).map(value).collect::<Vec<_>>());
        // Reading does not disturb appending.
        list.push(&value(count)).unwrap();
        let mut again = 0;
        list.for_each(|_| {
            again += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(again, count + 1);
        // The file has no name.
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    }

    #[test]
    fn the_spool_gives_back_what_was_put_from_any_thread() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(&dir.path().join("out")).unwrap();
        let made: Vec<(Json, Spooled)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|t| {
                    let spool = &spool;
                    scope.spawn(move || {
                        (0..50)
                            .map(|i| {
                                let mut data = sample();
                                data["case"]["id"] = json!(format!("T{t}-{i}"));
                                let at = spool.put(&DataParts::of(&data).unwrap()).unwrap();
                                (data, at)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        for (data, at) in &made {
            let items = json!([{"n": 1, "number": "1"}]);
            let mut numbered = data.clone();
            numbered["document"]["items"] = items.clone();
            numbered["document"]["number"] = json!("N");
            assert_eq!(spool.data(at, &items, "N").unwrap(), canonical(&numbered));
        }
        // The spool has no name: the output folder shows nothing of it.
        assert_eq!(
            std::fs::read_dir(dir.path().join("out")).unwrap().count(),
            0
        );
    }
}
