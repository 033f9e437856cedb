//! A registry's journal file: one append-only file of lines, a lock file for its one writer, and
//! how its whole lines are read without blocking that writer.
//!
//! Readers never lock: they read whole lines only (what lies before the last newline they
//! found), so a record being appended is either seen whole or not at all.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The writer's lock on a journal (an exclusive `flock` on `writer.lock`), released when dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// Takes the writer lock of the registry folder `dir`, waiting up to `wait` for another writer to
/// finish.
pub fn lock(dir: &Path, lock_path: &Path, wait: Duration) -> Result<WriterLock> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create registry folder {}", dir.display()))?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(lock_path)
        .with_context(|| format!("cannot open lock file {}", lock_path.display()))?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(WriterLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => {
                if started.elapsed() >= wait {
                    bail!(
                        "registry {} is being written by another qujat process (lock {} is \
                         held); wait for it to finish, or pass --wait SECONDS",
                        dir.display(),
                        lock_path.display()
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("cannot lock {}", lock_path.display()));
            }
        }
    }
}

/// A journal open for appending.
#[derive(Debug)]
pub struct Appending {
    path: PathBuf,
    file: File,
}

impl Appending {
    pub fn open(path: &Path) -> Result<Appending> {
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open journal {}", path.display()))?;
        Ok(Appending {
            path: path.to_path_buf(),
            file,
        })
    }

    /// The journal's length in bytes.
    pub fn size(&self) -> Result<u64> {
        Ok(self
            .file
            .metadata()
            .with_context(|| format!("cannot read {}", self.path.display()))?
            .len())
    }

    /// Appends whole lines (each ending in `\n`) and makes them durable before returning.
    pub fn append(&mut self, lines: &[u8]) -> Result<()> {
        debug_assert!(lines.is_empty() || lines.ends_with(b"\n"));
        self.file
            .write_all(lines)
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }

    /// The bytes after the last newline: an incomplete last line.
    pub fn torn(&self) -> Result<Vec<u8>> {
        let context = || format!("cannot read {}", self.path.display());
        let len = self.size()?;
        let end = whole_lines_end(&self.file, len).with_context(context)?;
        let mut torn = vec![0u8; (len - end) as usize];
        (&self.file)
            .seek(SeekFrom::Start(end))
            .and_then(|_| (&self.file).read_exact(&mut torn))
            .with_context(context)?;
        Ok(torn)
    }

    /// Cuts the journal back to `len` bytes, durably.
    pub fn cut(&mut self, len: u64) -> Result<()> {
        self.file
            .set_len(len)
            .and_then(|()| self.file.sync_all())
            .with_context(|| format!("cannot truncate {}", self.path.display()))
    }
}

/// Where the whole lines of a journal of `len` bytes end: after its last newline. Read with
/// `pread`, not through a mapping: the bytes after the last newline may be an incomplete line
/// that a writer cuts off while we look, and touching a mapped page that a file no longer has
/// ends the process with SIGBUS. Any newline found is the end of a line that stays: the journal
/// can lose only what follows its last newline.
pub fn whole_lines_end(mut file: &File, len: u64) -> std::io::Result<u64> {
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

/// Reads `len` bytes at `offset`, or fewer if the file ends first.
pub fn read_at(file: &File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let mut bytes = vec![0u8; len];
    let mut read = 0;
    while read < len {
        match file.read_at(&mut bytes[read..], offset + read as u64) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    bytes.truncate(read);
    Ok(bytes)
}

/// How much of a journal is mapped at once by [`scan`]: large enough that the hand-over between
/// blocks costs nothing, small enough that a reader's memory stays small.
pub const BLOCK: usize = 16 << 20;

/// A stretch of whole lines of a journal, mapped into memory.
struct Mapped {
    map: memmap2::Mmap,
    /// The journal offset of the mapping's first byte.
    offset: u64,
    /// How many of the mapping's bytes are whole lines (the rest begins the next block).
    whole: usize,
    /// How many lines those are (counted on the thread that maps ahead).
    count: u64,
}

impl Mapped {
    /// Maps the whole lines that start at `offset` and end within `size` bytes, or the one line
    /// there if it is longer; `end` is where the journal's whole lines end.
    ///
    /// Mapping instead of `read()` saves copying every byte out of the page cache into fresh
    /// buffers the kernel must first clear; populating the mapping (`MAP_POPULATE`) sets up its
    /// page tables in one call on the thread that maps ahead, instead of a page fault every few
    /// pages on the threads that hash.
    fn map(file: &File, offset: u64, end: u64, size: usize) -> std::io::Result<Mapped> {
        let mut len = size as u64;
        loop {
            let len_here = len.min(end - offset);
            let size = usize::try_from(len_here).map_err(std::io::Error::other)?;
            // SAFETY: the mapping is read-only, and the bytes it shows are never changed or
            // removed while it exists. They lie before the last newline the journal had when
            // this reader looked (`whole_lines_end`), and qujat only ever appends to a journal
            // or, holding the writer lock, cuts an incomplete line after its last newline:
            // whole lines are never rewritten or truncated. A file that grows while mapped is
            // fine. Only a process editing or truncating a journal in place — which no qujat
            // command does, and which a check then names as damage — could make a reader see
            // bytes change, or end it with SIGBUS.
            let map = unsafe {
                memmap2::MmapOptions::new()
                    .offset(offset)
                    .len(size)
                    .populate()
                    .map(file)?
            };
            if let Some(last) = memchr::memrchr(b'\n', &map) {
                let count = memchr::memchr_iter(b'\n', &map[..=last]).count() as u64;
                return Ok(Mapped {
                    map,
                    offset,
                    whole: last + 1,
                    count,
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

/// Hands the whole lines of `file` from byte `offset` (a line start) up to `end` (after a
/// newline) to `each`, in blocks of about `size` bytes with how many lines each holds (counted on
/// the thread that maps ahead), mapping the next block while `each` works on one. Returns how
/// many lines it handed on.
pub fn scan(
    file: &File,
    offset: u64,
    end: u64,
    size: usize,
    each: &mut (dyn FnMut(&[u8], u64) -> Result<()> + Send),
) -> Result<u64> {
    if offset >= end {
        return Ok(0);
    }
    let mut lines = 0u64;
    let mut block = Mapped::map(file, offset, end, size)?;
    loop {
        let next_offset = block.end();
        let (done, next) = if next_offset == end {
            (each(block.lines(), block.count), None)
        } else {
            let (done, next) = rayon::join(
                || each(block.lines(), block.count),
                || Mapped::map(file, next_offset, end, size),
            );
            (done, Some(next))
        };
        done?;
        lines += block.count;
        match next {
            None => return Ok(lines),
            Some(next) => block = next?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keeps_a_second_writer_out_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("writer.lock");
        let first = lock(dir.path(), &path, Duration::ZERO).unwrap();
        let err = lock(dir.path(), &path, Duration::from_millis(120)).unwrap_err();
        assert!(err.to_string().contains("another qujat process"), "{err}");
        drop(first);
        lock(dir.path(), &path, Duration::ZERO).unwrap();
    }

    /// Every block `scan` hands on, concatenated, and how many lines it counted.
    fn scanned(path: &Path, offset: u64, size: usize) -> (Vec<u8>, u64) {
        let file = File::open(path).unwrap();
        let len = file.metadata().unwrap().len();
        let end = whole_lines_end(&file, len).unwrap();
        let mut seen = Vec::new();
        let lines = scan(&file, offset, end, size, &mut |block, _| {
            assert!(block.ends_with(b"\n"), "blocks are whole lines");
            seen.extend_from_slice(block);
            Ok(())
        })
        .unwrap();
        (seen, lines)
    }

    #[test]
    fn a_scan_in_blocks_sees_every_whole_line_in_order_whatever_the_block_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
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
        let whole = text.clone();
        text.extend_from_slice(b"{\"hash\":\"torn");
        std::fs::write(&path, &text).unwrap();
        for size in [1, 64, 100, 4096, 1 << 20] {
            let (seen, count) = scanned(&path, 0, size);
            assert_eq!(seen, whole, "block size {size}");
            assert_eq!(count, 300, "block size {size}");
            // From the start of line 101.
            let offset: usize = lines[..100].iter().map(|l| l.len() + 1).sum();
            let (seen, count) = scanned(&path, offset as u64, size);
            assert_eq!(seen, whole[offset..], "block size {size}");
            assert_eq!(count, 200);
        }
        let mut appending = Appending::open(&path).unwrap();
        assert_eq!(appending.torn().unwrap(), b"{\"hash\":\"torn");
        appending.cut(whole.len() as u64).unwrap();
        assert_eq!(appending.torn().unwrap(), b"");
        appending.append(b"three\n").unwrap();
        assert!(std::fs::read(&path).unwrap().ends_with(b"\nthree\n"));
    }

    #[test]
    fn a_journal_without_a_whole_line_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(scanned(&path, 0, 64), (Vec::new(), 0));
        // A torn line longer than the backwards search's block.
        std::fs::write(&path, vec![b'x'; 200_000]).unwrap();
        assert_eq!(scanned(&path, 0, 64), (Vec::new(), 0));
        assert_eq!(
            Appending::open(&path).unwrap().torn().unwrap().len(),
            200_000
        );
    }
}
