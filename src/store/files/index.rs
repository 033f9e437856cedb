//! A journal's index: an SQLite database beside it (`index.sqlite`) saying where each record lies
//! and what it is looked up by, so that finding one document among a million records reads a few
//! pages, not gigabytes, and a writer starts from the state its predecessor verified instead of
//! reading the whole journal again.
//!
//! Derived data: everything in it comes from the journal and the facts the writer gave with each
//! record. It is written in WAL mode (readers never wait for the writer, nor it for them) without
//! a sync per transaction: a crash may lose its last transactions, never the journal's records,
//! and the next writer indexes what it lacks. It is checked against the journal wherever it is
//! opened (its last record must be where it says, with the hash it says), and forgotten and made
//! again when it disagrees.

use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::store::{Hash, Lookup, Node, What};

/// The index's schema version, kept in `meta`: an index of another version is made again.
const SCHEMA: i64 = 1;

const CREATE: &str = "
    CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS records (
        seq INTEGER PRIMARY KEY,
        offset INTEGER NOT NULL,
        len INTEGER NOT NULL,
        hash BLOB NOT NULL
    );
    CREATE TABLE IF NOT EXISTS lookups (
        k INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (k, seq)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS counters (counter TEXT PRIMARY KEY, tail INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS nodes (
        level INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (level, idx)
    ) WITHOUT ROWID;
";

/// Where a record lies in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub seq: u64,
    pub offset: u64,
    /// Its length without the newline.
    pub len: u64,
}

impl Place {
    /// The byte after its newline: where the next record starts.
    pub fn end(&self) -> u64 {
        self.offset + self.len + 1
    }
}

/// The last record indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Last {
    pub place: Place,
    pub hash: Hash,
}

/// A record to index, at its place.
pub struct Row<'a> {
    pub place: Place,
    pub facts: &'a crate::store::Facts,
}

/// An index database. Its reading statements are prepared once per connection and kept
/// (`prepare_cached`): a verification runs a few dozen of them, and preparing one cost more
/// than running it (`qujat serve`, measured under load).
pub struct Index {
    conn: Connection,
}

/// The 64-bit key a lookup is filed under: the first 8 bytes of the SHA-256 of its text (stable
/// across versions and machines, unlike Rust's own hashers). Two lookups sharing a key only cost
/// a record read: what is found is confirmed against the record.
pub fn key(lookup: &Lookup<'_>) -> i64 {
    let digest = Sha256::digest(lookup.text().as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Whether `err` says SQLite cannot read the file as a database at all.
fn unreadable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt
                )
        )
    })
}

fn hash_of(blob: Vec<u8>) -> Result<Hash> {
    Hash::try_from(blob.as_slice()).context("a hash in the index is not 32 bytes")
}

impl Index {
    /// Opens the index at `path` for reading, if there is one of this schema.
    pub fn open_read(path: &Path) -> Result<Option<Index>> {
        if !path.is_file() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open the index {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let index = Index { conn };
        // An index made by another version, or half made, is not read.
        match index.schema() {
            Ok(Some(SCHEMA)) => Ok(Some(index)),
            _ => Ok(None),
        }
    }

    /// Opens (or creates) the index at `path` for the writer; one of another schema is emptied,
    /// and a file SQLite cannot read as a database (damaged, or not one at all) is made again:
    /// the index is derived from the journal, which the writer then indexes from the start.
    pub fn open_write(path: &Path) -> Result<Index> {
        match Index::try_open_write(path) {
            Err(err) if unreadable(&err) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.as_os_str().to_owned();
                    file.push(suffix);
                    match std::fs::remove_file(&file) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(e).with_context(|| {
                                format!(
                                    "the index {} cannot be read as a database, and cannot be \
                                     removed to be made again",
                                    path.display()
                                )
                            });
                        }
                    }
                }
                Index::try_open_write(path)
            }
            opened => opened,
        }
    }

    fn try_open_write(path: &Path) -> Result<Index> {
        let context = || format!("cannot open the index {}", path.display());
        let conn = Connection::open(path).with_context(context)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .with_context(context)?;
        // Derived data: a crash may lose the last transactions, which the next writer redoes.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .with_context(context)?;
        let index = Index { conn };
        if index.schema().ok().flatten() != Some(SCHEMA) {
            index.drop_all().with_context(context)?;
        }
        index.conn.execute_batch(CREATE).with_context(context)?;
        index
            .conn
            .execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('schema', ?1)",
                [SCHEMA],
            )
            .with_context(context)?;
        Ok(index)
    }

    fn schema(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE name = 'schema'", [], |row| {
                row.get(0)
            })
            .optional()?)
    }

    fn drop_all(&self) -> Result<()> {
        self.conn.execute_batch(
            "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS records; \
             DROP TABLE IF EXISTS lookups; DROP TABLE IF EXISTS counters; \
             DROP TABLE IF EXISTS nodes;",
        )?;
        Ok(())
    }

    /// Forgets everything indexed.
    pub fn reset(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM records; DELETE FROM lookups; DELETE FROM counters; DELETE FROM nodes; \
             DELETE FROM meta WHERE name != 'schema';",
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Begins one read transaction for the queries that follow (none is begun inside another).
    pub fn begin_read(&self) -> Result<()> {
        if self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN DEFERRED")?;
        }
        Ok(())
    }

    /// Ends the read transaction [`Index::begin_read`] began.
    pub fn end_read(&self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("COMMIT");
        }
    }

    /// The last record indexed.
    pub fn last(&self) -> Result<Option<Last>> {
        let row = self
            .conn
            .prepare_cached("SELECT seq, offset, len, hash FROM records ORDER BY seq DESC LIMIT 1")?
            .query_row([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Vec<u8>>(3)?,
                ))
            })
            .optional()?;
        row.map(|(seq, offset, len, hash)| {
            Ok(Last {
                place: Place {
                    seq: seq as u64,
                    offset: offset as u64,
                    len: len as u64,
                },
                hash: hash_of(hash)?,
            })
        })
        .transpose()
    }

    /// How many checkpoints the writer last saw.
    pub fn checkpoints_seen(&self) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE name = 'checkpoints'")?
            .query_row([], |row| row.get::<_, i64>(0))
            .optional()?
            .unwrap_or(0) as u64)
    }

    pub fn set_checkpoints_seen(&mut self, count: u64) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (name, value) VALUES ('checkpoints', ?1)",
            [count as i64],
        )?;
        Ok(())
    }

    /// Where record `seq` lies, if indexed.
    pub fn place(&self, seq: u64) -> Result<Option<Place>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT offset, len FROM records WHERE seq = ?1")?;
        Ok(statement
            .query_row([seq as i64], |row| {
                Ok(Place {
                    seq,
                    offset: row.get::<_, i64>(0)? as u64,
                    len: row.get::<_, i64>(1)? as u64,
                })
            })
            .optional()?)
    }

    /// The positions filed under `key`.
    pub fn find(&self, key: i64) -> Result<Vec<u64>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT seq FROM lookups WHERE k = ?1 ORDER BY seq")?;
        let seqs = statement
            .query_map([key], |row| row.get::<_, i64>(0))?
            .map(|seq| Ok(seq? as u64))
            .collect::<Result<_>>()?;
        Ok(seqs)
    }

    pub fn tails(&self) -> Result<Vec<(String, u64)>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT counter, tail FROM counters ORDER BY counter")?;
        let tails = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(tails)
    }

    pub fn hashes(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT hash FROM records WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq")?;
        let hashes = statement
            .query_map([from as i64, to as i64], |row| row.get::<_, Vec<u8>>(0))?
            .map(|blob| hash_of(blob?))
            .collect::<Result<_>>()?;
        Ok(hashes)
    }

    pub fn node(&self, level: u32, index: u64) -> Result<Option<Hash>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2")?;
        statement
            .query_row([level as i64, index as i64], |row| row.get::<_, Vec<u8>>(0))
            .optional()?
            .map(hash_of)
            .transpose()
    }

    /// Indexes records and Merkle nodes, in one transaction.
    pub fn insert(&mut self, rows: &[Row<'_>], nodes: &[Node]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut record =
                tx.prepare("INSERT INTO records (seq, offset, len, hash) VALUES (?1, ?2, ?3, ?4)")?;
            let mut lookup =
                tx.prepare("INSERT OR IGNORE INTO lookups (k, seq) VALUES (?1, ?2)")?;
            let mut counter = tx.prepare(
                "INSERT INTO counters (counter, tail) VALUES (?1, ?2) \
                 ON CONFLICT (counter) DO UPDATE SET tail = max(tail, excluded.tail)",
            )?;
            for row in rows {
                let seq = row.place.seq as i64;
                record.execute(params![
                    seq,
                    row.place.offset as i64,
                    row.place.len as i64,
                    &row.facts.hash[..]
                ])?;
                for found_by in Lookup::all_of(row.facts) {
                    lookup.execute(params![key(&found_by), seq])?;
                }
                if let What::Document { counters, .. } = &row.facts.what {
                    for (name, n) in counters {
                        counter.execute(params![name, *n as i64])?;
                    }
                }
            }
            let mut node =
                tx.prepare("INSERT OR REPLACE INTO nodes (level, idx, hash) VALUES (?1, ?2, ?3)")?;
            for n in nodes {
                node.execute(params![n.level as i64, n.index as i64, &n.hash[..]])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
