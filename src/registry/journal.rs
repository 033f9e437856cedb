//! The storage behind a registry: one append-only file of lines, and a lock for its one writer.
//!
//! This is the narrow interface DESIGN.md asks for — lock, read, tail recovery, append — so a
//! deployment that outgrows files can put the same lines into a database instead. Readers never
//! lock: they read whole lines only, so a record being appended is either seen whole or not at all.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// One registry's journal file and lock file.
#[derive(Debug, Clone)]
pub struct Journal {
    pub(super) dir: PathBuf,
}

/// The writer's lock on a journal, released when dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
    journal: File,
}

/// What recovery did to a journal whose last write was cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes removed from the end: the incomplete last line.
    pub dropped_bytes: u64,
    /// The length the journal was cut back to.
    pub kept_bytes: u64,
}

impl Journal {
    pub fn new(dir: &Path) -> Journal {
        Journal {
            dir: dir.to_path_buf(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("journal.jsonl")
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join("writer.lock")
    }

    /// Takes the writer lock, waiting up to `wait` for another writer to finish.
    pub fn lock(&self, wait: Duration) -> Result<WriterLock> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create registry folder {}", self.dir.display()))?;
        let lock_path = self.lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open lock file {}", lock_path.display()))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    if started.elapsed() >= wait {
                        bail!(
                            "registry {} is being written by another qujat process (lock {} is \
                             held); wait for it to finish, or pass --wait SECONDS",
                            self.dir.display(),
                            lock_path.display()
                        );
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::Error(err)) => {
                    return Err(err)
                        .with_context(|| format!("cannot lock {}", lock_path.display()));
                }
            }
        }
        let journal = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(self.path())
            .with_context(|| format!("cannot open journal {}", self.path().display()))?;
        Ok(WriterLock {
            _file: file,
            journal,
        })
    }

    /// Cuts off an incomplete last line (a write the machine did not finish), keeping every
    /// whole record. Only the writer may do this.
    pub fn recover(&self, lock: &mut WriterLock) -> Result<Option<Recovery>> {
        let file = &mut lock.journal;
        let len = file.metadata()?.len();
        if len == 0 {
            return Ok(None);
        }
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] == b'\n' {
            return Ok(None);
        }
        // Find the last newline, reading backwards in blocks.
        let mut end = len;
        let mut keep = 0;
        let mut block = vec![0u8; 64 * 1024];
        'search: while end > 0 {
            let start = end.saturating_sub(block.len() as u64);
            let chunk = &mut block[..(end - start) as usize];
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(chunk)?;
            if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
                keep = start + i as u64 + 1;
                break 'search;
            }
            end = start;
        }
        file.set_len(keep)
            .with_context(|| format!("cannot truncate {}", self.path().display()))?;
        file.sync_all()?;
        Ok(Some(Recovery {
            dropped_bytes: len - keep,
            kept_bytes: keep,
        }))
    }

    /// Appends whole lines (each ending in `\n`) and makes them durable before returning.
    pub fn append(&self, lock: &mut WriterLock, lines: &[u8]) -> Result<()> {
        debug_assert!(lines.is_empty() || lines.ends_with(b"\n"));
        let file = &mut lock.journal;
        file.write_all(lines)
            .and_then(|()| file.sync_data())
            .with_context(|| format!("cannot append to {}", self.path().display()))
    }

    /// Reads the journal's whole lines from the start; an incomplete last line (being written,
    /// or cut off) is not returned. A missing journal reads as empty.
    pub fn lines(&self) -> Result<Lines> {
        let path = self.path();
        let reader = match File::open(&path) {
            Ok(file) => Some(BufReader::with_capacity(1 << 20, file)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                return Err(err).with_context(|| format!("cannot read {}", path.display()));
            }
        };
        Ok(Lines {
            reader,
            path,
            number: 0,
            offset: 0,
            torn: 0,
        })
    }

    fn head_path(&self) -> PathBuf {
        self.dir.join("head.json")
    }

    /// The last record a writer finished with: a tripwire for a journal cut back to an earlier
    /// record, which its chain alone cannot show. `None` when no head was ever written.
    pub fn head(&self) -> Result<Option<Head>> {
        let path = self.head_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("cannot read the registry head {}", path.display())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Records the last record, atomically and durably. Only the writer does this.
    pub fn write_head(&self, _lock: &WriterLock, head: &Head) -> Result<()> {
        let text = serde_json::to_string(head).expect("heads serialise") + "\n";
        crate::fsio::write_atomically(&self.head_path(), text.as_bytes())
    }
}

/// The last record of a journal, as its writer left it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

/// Whole lines of a journal, with their line numbers and byte offsets.
pub struct Lines {
    reader: Option<BufReader<File>>,
    path: PathBuf,
    number: u64,
    offset: u64,
    torn: u64,
}

impl Lines {
    /// The length of an incomplete last line seen at the end (0 if none): a write being made,
    /// or one a crash cut off.
    pub fn torn_bytes(&self) -> u64 {
        self.torn
    }
}

/// One whole line of a journal (without its newline).
#[derive(Debug)]
pub struct Line {
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of its start.
    pub offset: u64,
    pub bytes: Vec<u8>,
}

impl Iterator for Lines {
    type Item = Result<Line>;

    fn next(&mut self) -> Option<Result<Line>> {
        let reader = self.reader.as_mut()?;
        let mut bytes = Vec::new();
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) => None,
            Ok(n) if bytes.last() != Some(&b'\n') => {
                // An incomplete last line: not a record (yet).
                self.torn = n as u64;
                self.reader = None;
                None
            }
            Ok(n) => {
                bytes.pop();
                self.number += 1;
                let line = Line {
                    number: self.number,
                    offset: self.offset,
                    bytes,
                };
                self.offset += n as u64;
                Some(Ok(line))
            }
            Err(err) => {
                self.reader = None;
                Some(Err(err).with_context(|| format!("cannot read {}", self.path.display())))
            }
        }
    }
}

/// Where a whole line of a journal lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of its start.
    pub offset: u64,
    /// Its length without the newline.
    pub len: u64,
}

/// How much of a journal is read at once by [`Journal::scan_parallel`].
const BLOCK: usize = 16 << 20;

impl Journal {
    /// Reads every whole line, computing `map` on the lines in parallel (on rayon's pool: this
    /// is for checking and extracting, never rendering) and handing each result to `consume` in
    /// journal order. Three things overlap: reading a block, mapping the block before it, and
    /// consuming the results of the block before that — so a journal of gigabytes costs about
    /// its hashing divided by the cores. Returns the length of an incomplete last line (0 if
    /// none), which is not passed.
    pub fn scan_parallel<T: Send>(
        &self,
        map: impl Fn(At, &[u8]) -> T + Sync,
        mut consume: impl FnMut(At, T) -> Result<()> + Send,
    ) -> Result<u64> {
        use rayon::prelude::*;
        let path = self.path();
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        let read_block = |file: &mut File, carry: &[u8]| -> Result<(Vec<u8>, bool)> {
            let mut block = Vec::with_capacity(carry.len() + BLOCK);
            block.extend_from_slice(carry);
            let read = Read::by_ref(file)
                .take(BLOCK as u64)
                .read_to_end(&mut block)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok((block, read == 0))
        };
        let (mut block, mut eof) = read_block(&mut file, &[])?;
        let (mut number, mut offset) = (0u64, 0u64);
        // The places and results of the block mapped last, waiting to be consumed.
        let mut pending: Option<(Vec<At>, Vec<T>)> = None;
        loop {
            let whole = memchr::memrchr(b'\n', &block).map_or(0, |i| i + 1);
            let (lines, rest) = block.split_at(whole);
            let mut places = Vec::new();
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', lines) {
                number += 1;
                places.push(At {
                    number,
                    offset: offset + start as u64,
                    len: (end - start) as u64,
                });
                start = end + 1;
            }
            let map_all = || -> Vec<T> {
                places
                    .par_iter()
                    .map(|at| {
                        let start = (at.offset - offset) as usize;
                        map(*at, &lines[start..start + at.len as usize])
                    })
                    .collect()
            };
            let consume_pending = || -> Result<()> {
                if let Some((places, results)) = pending.take() {
                    for (at, result) in places.into_iter().zip(results) {
                        consume(at, result)?;
                    }
                }
                Ok(())
            };
            let work = || {
                if eof {
                    (None, map_all())
                } else {
                    let (next, results) = rayon::join(|| read_block(&mut file, rest), map_all);
                    (Some(next), results)
                }
            };
            let (consumed, (next, results)) = rayon::join(consume_pending, work);
            consumed?;
            pending = Some((places, results));
            offset += whole as u64;
            match next {
                None => {
                    let torn = rest.len() as u64;
                    if let Some((places, results)) = pending.take() {
                        for (at, result) in places.into_iter().zip(results) {
                            consume(at, result)?;
                        }
                    }
                    return Ok(torn);
                }
                Some(next) => {
                    let (next, next_eof) = next?;
                    block = next;
                    eof = next_eof;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keeps_a_second_writer_out_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path());
        let first = journal.lock(Duration::ZERO).unwrap();
        let err = journal.lock(Duration::from_millis(120)).unwrap_err();
        assert!(err.to_string().contains("another qujat process"), "{err}");
        drop(first);
        journal.lock(Duration::ZERO).unwrap();
    }

    #[test]
    fn readers_see_whole_lines_only_and_recovery_cuts_the_torn_one() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path());
        let mut lock = journal.lock(Duration::ZERO).unwrap();
        journal.append(&mut lock, b"one\ntwo\n").unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap()
            .write_all(b"thr")
            .unwrap();
        let lines: Vec<_> = journal.lines().unwrap().map(|l| l.unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].bytes, b"two");
        assert_eq!((lines[1].number, lines[1].offset), (2, 4));

        let recovery = journal.recover(&mut lock).unwrap();
        assert_eq!(
            recovery,
            Some(Recovery {
                dropped_bytes: 3,
                kept_bytes: 8
            })
        );
        assert_eq!(std::fs::read(journal.path()).unwrap(), b"one\ntwo\n");
        assert_eq!(journal.recover(&mut lock).unwrap(), None);
        journal.append(&mut lock, b"three\n").unwrap();
        assert_eq!(std::fs::read(journal.path()).unwrap(), b"one\ntwo\nthree\n");
    }

    #[test]
    fn a_journal_that_is_one_torn_line_recovers_to_empty() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path());
        std::fs::write(journal.path(), b"{\"hash\":\"ab").unwrap();
        let mut lock = journal.lock(Duration::ZERO).unwrap();
        let recovery = journal.recover(&mut lock).unwrap().unwrap();
        assert_eq!(recovery.kept_bytes, 0);
        assert_eq!(journal.lines().unwrap().count(), 0);
    }
}
