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

/// How much of a journal is mapped at once by [`Journal::scan_parallel`]: large enough that the
/// hand-over between blocks costs nothing, small enough that a reader's memory stays small.
const BLOCK: usize = 16 << 20;

/// Into how many pieces per thread a block's lines are cut to be mapped: enough that no thread
/// waits long for the last piece of a block.
const PIECES_PER_THREAD: usize = 8;

/// A stretch of whole lines of a journal, mapped into memory.
struct Block {
    map: memmap2::Mmap,
    /// The journal offset of the mapping's first byte.
    offset: u64,
    /// How many of the mapping's bytes are whole lines (the rest begins the next block).
    whole: usize,
}

impl Block {
    /// Maps the whole lines that start at `offset` and end within `size` bytes, or the one line
    /// there if it is longer; `end` is where the journal's whole lines end.
    ///
    /// Mapping instead of `read()` saves copying every byte out of the page cache into fresh
    /// buffers the kernel must first clear; populating the mapping (`MAP_POPULATE`) sets up its
    /// page tables in one call on the thread that maps ahead, instead of a page fault every few
    /// pages on the threads that hash.
    fn map(file: &File, offset: u64, end: u64, size: usize) -> std::io::Result<Block> {
        let mut len = size as u64;
        loop {
            let len_here = len.min(end - offset);
            let size = usize::try_from(len_here).map_err(std::io::Error::other)?;
            // SAFETY: the mapping is read-only, and the bytes it shows are never changed or
            // removed while it exists. They lie before the last newline the journal had when
            // this reader looked (`whole_lines_end`), and qujat only ever appends to a journal
            // or, holding the writer lock, cuts an incomplete line after its last newline
            // (`recover`): whole lines are never rewritten or truncated. A file that grows while
            // mapped is fine. Only a process editing or truncating a journal in place — which
            // no qujat command does, and which a check then names as damage — could make a
            // reader see bytes change, or end it with SIGBUS.
            let map = unsafe {
                memmap2::MmapOptions::new()
                    .offset(offset)
                    .len(size)
                    .populate()
                    .map(file)?
            };
            if let Some(last) = memchr::memrchr(b'\n', &map) {
                return Ok(Block {
                    map,
                    offset,
                    whole: last + 1,
                });
            }
            // No newline yet: one line longer than a block. `end` follows a newline, so the
            // search ends.
            debug_assert!(offset + len_here < end);
            len *= 2;
        }
    }

    fn lines(&self) -> &[u8] {
        &self.map[..self.whole]
    }

    /// The offset after the block's last line: where the next block starts.
    fn end(&self) -> u64 {
        self.offset + self.whole as u64
    }
}

/// Where the whole lines of a journal of `len` bytes end: after its last newline. Read with
/// `pread`, not through a mapping: the bytes after the last newline may be an incomplete line
/// that a writer cuts off while we look (`recover`), and touching a mapped page the file no
/// longer has ends the process with SIGBUS. Any newline found is the end of a line that stays:
/// the journal can lose only what follows its last newline.
fn whole_lines_end(mut file: &File, len: u64) -> std::io::Result<u64> {
    let mut block = vec![0u8; 64 * 1024];
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        // A short read means the file was cut meanwhile: what was read is still its content.
        let mut read = 0;
        while read < chunk.len() {
            match file.read(&mut chunk[read..]) {
                Ok(0) => break,
                Ok(n) => read += n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        if let Some(i) = memchr::memrchr(b'\n', &chunk[..read]) {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// What [`Journal::scan_parallel`] made of a block: for each piece, its lines' places (offset,
/// length) and `map`'s results.
type Mapped<T> = Vec<(Vec<(u64, u64)>, Vec<T>)>;

/// Cuts whole lines into about `count` pieces of whole lines, each with where it starts.
fn pieces(lines: &[u8], count: usize) -> Vec<(usize, &[u8])> {
    let size = lines.len().div_ceil(count.max(1)).max(1);
    let mut pieces = Vec::with_capacity(count);
    let mut start = 0;
    while start < lines.len() {
        let cut = (start + size).min(lines.len()) - 1;
        let end = memchr::memchr(b'\n', &lines[cut..]).map_or(lines.len(), |i| cut + i + 1);
        pieces.push((start, &lines[start..end]));
        start = end;
    }
    pieces
}

impl Journal {
    /// Reads every whole line, computing `map` on the lines in parallel (on rayon's pool: this
    /// is for checking and extracting, never rendering) and handing each result to `consume` in
    /// journal order. `map` is given a few hundred lines at a time, each with its byte offset,
    /// and returns one result per line, in order: so that it can work on them together (hash
    /// two at once) and reuse what it needs from line to line. Three things overlap: mapping a
    /// block of the journal into memory, running `map` on the block before it, and consuming
    /// the results of the block before that — so a journal of gigabytes costs about its hashing
    /// divided by the cores. Returns the length of an incomplete last line (0 if none), which is
    /// not passed.
    pub fn scan_parallel<T: Send>(
        &self,
        map: impl Fn(&[(u64, &[u8])]) -> Vec<T> + Sync,
        consume: impl FnMut(At, T) -> Result<()> + Send,
    ) -> Result<u64> {
        self.scan_in_blocks(BLOCK, map, consume)
    }

    /// [`scan_parallel`](Self::scan_parallel) in blocks of about `size` bytes.
    fn scan_in_blocks<T: Send>(
        &self,
        size: usize,
        map: impl Fn(&[(u64, &[u8])]) -> Vec<T> + Sync,
        mut consume: impl FnMut(At, T) -> Result<()> + Send,
    ) -> Result<u64> {
        use rayon::prelude::*;
        let path = self.path();
        let context = || format!("cannot read {}", path.display());
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(err) => return Err(err).with_context(context),
        };
        // What a writer appends after this is not read: a reader sees the journal as it was.
        let len = file.metadata().with_context(context)?.len();
        let end = whole_lines_end(&file, len).with_context(context)?;
        let torn = len - end;
        if end == 0 {
            return Ok(torn);
        }
        let count = rayon::current_num_threads() * PIECES_PER_THREAD;
        let map_block = |block: &Block| -> Mapped<T> {
            pieces(block.lines(), count)
                .into_par_iter()
                .map(|(piece_start, piece)| {
                    let base = block.offset + piece_start as u64;
                    let mut lines = Vec::new();
                    let mut start = 0;
                    for newline in memchr::memchr_iter(b'\n', piece) {
                        lines.push((base + start as u64, &piece[start..newline]));
                        start = newline + 1;
                    }
                    let results = map(&lines);
                    assert_eq!(results.len(), lines.len(), "map gives one result per line");
                    let places = lines
                        .iter()
                        .map(|&(offset, line)| (offset, line.len() as u64));
                    (places.collect(), results)
                })
                .collect()
        };
        let mut number = 0u64;
        let mut consume_all = |pieces: Mapped<T>| -> Result<()> {
            for (places, results) in pieces {
                for ((offset, len), result) in places.into_iter().zip(results) {
                    number += 1;
                    consume(
                        At {
                            number,
                            offset,
                            len,
                        },
                        result,
                    )?;
                }
            }
            Ok(())
        };
        // The whole scan runs on one of the pool's threads, so that each block's hand-over is
        // between the pool's threads, not a wake-up of this one.
        rayon::scope(|_| -> Result<()> {
            let mut block = Block::map(&file, 0, end, size).with_context(context)?;
            // The results of the block mapped last, waiting to be consumed.
            let mut pending = None;
            loop {
                let next_offset = block.end();
                let work = || {
                    if next_offset == end {
                        (None, map_block(&block))
                    } else {
                        let (next, results) = rayon::join(
                            || Block::map(&file, next_offset, end, size),
                            || map_block(&block),
                        );
                        (Some(next), results)
                    }
                };
                let (consumed, (next, results)) =
                    rayon::join(|| pending.take().map_or(Ok(()), &mut consume_all), work);
                consumed?;
                pending = Some(results);
                match next {
                    None => break,
                    Some(next) => block = next.with_context(context)?,
                }
            }
            if let Some(results) = pending {
                consume_all(results)?;
            }
            Ok(())
        })?;
        Ok(torn)
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

    /// Every line `scan_in_blocks` hands on, with its place, and the torn length it returns.
    fn scanned(journal: &Journal, size: usize) -> (Vec<(At, Vec<u8>)>, u64) {
        let mut seen = Vec::new();
        let torn = journal
            .scan_in_blocks(
                size,
                |lines| {
                    lines
                        .iter()
                        .map(|&(offset, line)| (offset, line.to_vec()))
                        .collect()
                },
                |at, (offset, line)| {
                    assert_eq!(at.offset, offset, "map and consume see the same place");
                    seen.push((at, line));
                    Ok(())
                },
            )
            .unwrap();
        (seen, torn)
    }

    #[test]
    fn a_scan_in_blocks_sees_every_whole_line_in_order_whatever_the_block_size() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path());
        assert_eq!(
            scanned(&journal, 64),
            (Vec::new(), 0),
            "no journal, no lines"
        );
        // Lines of every length from empty to several blocks, then a torn one.
        let lines: Vec<Vec<u8>> = (0..300u32)
            .map(|i| {
                let len = (i * 37 % 200) as usize + if i % 50 == 7 { 1000 } else { 0 };
                (0..len)
                    .map(|j| b'a' + ((i as usize + j) % 26) as u8)
                    .collect()
            })
            .collect();
        let mut text = Vec::new();
        for line in &lines {
            text.extend_from_slice(line);
            text.push(b'\n');
        }
        let whole = text.len() as u64;
        text.extend_from_slice(b"{\"hash\":\"torn");
        std::fs::write(journal.path(), &text).unwrap();
        for size in [1, 64, 100, 4096, 1 << 20] {
            let (seen, torn) = scanned(&journal, size);
            assert_eq!(torn, 13, "block size {size}");
            assert_eq!(seen.len(), lines.len(), "block size {size}");
            let mut offset = 0;
            for (i, ((at, line), expected)) in seen.iter().zip(&lines).enumerate() {
                assert_eq!(line, expected, "block size {size}, line {}", i + 1);
                let place = At {
                    number: i as u64 + 1,
                    offset,
                    len: expected.len() as u64,
                };
                assert_eq!(*at, place, "block size {size}");
                offset += expected.len() as u64 + 1;
            }
            assert_eq!(offset, whole);
        }
    }

    #[test]
    fn a_scan_of_a_journal_without_a_whole_line_sees_none() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path());
        std::fs::write(journal.path(), b"").unwrap();
        assert_eq!(scanned(&journal, 64), (Vec::new(), 0));
        // A torn line longer than the backwards search's block.
        std::fs::write(journal.path(), vec![b'x'; 200_000]).unwrap();
        assert_eq!(scanned(&journal, 64), (Vec::new(), 200_000));
        let mut text = b"one\n".to_vec();
        text.extend(vec![b'x'; 200_000]);
        std::fs::write(journal.path(), &text).unwrap();
        let (seen, torn) = scanned(&journal, 64);
        assert_eq!((seen.len(), torn), (1, 200_000));
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
