//! A registry held by its one writer: its session holds the registry's advisory lock, and every
//! write goes through that session, so a writer whose connection was lost (and with it the lock)
//! can write nothing more. A group of records and their index rows commit in one transaction:
//! readers see all of them or none, and a batch killed at any instant leaves whole groups.
//!
//! A database commits whole transactions: there is never an incomplete record at the end, so
//! [`Appender::torn`] is always empty and [`Appender::recover`] has nothing to do.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::Transaction;

use super::connect::chain;
use super::lock;
use super::log::{AGREED, PgLog};
use super::pool::Pool;
use crate::store::{Appended, Appender, Facts, Head, Indexing, Log, Node, Recovered, What};

pub struct PgAppender {
    log: PgLog,
    /// The session holding the lock; every write goes through it.
    session: Mutex<postgres::Client>,
    /// The registry's id: its lock's key.
    id: i32,
}

impl PgAppender {
    /// Registry `code` of `pool`'s database, created if need be, locked (waiting up to `wait`).
    pub fn open(pool: Arc<Pool>, code: &str, wait: Duration) -> Result<PgAppender> {
        let place = pool.describe().to_string();
        let mut session = pool.settings.connect()?;
        let fail = |what: &str| {
            let what = format!("{place}: cannot {what} registry {code}");
            move |err: postgres::Error| anyhow::anyhow!("{what}: {}", chain(&err))
        };
        // Records are durable when `append` returns: a server set not to wait for its disk
        // (`synchronous_commit = off`) is made to for this session. Any other setting waits at
        // least as long (for a standby too) and is kept.
        let commit: String = session
            .query_one("SHOW synchronous_commit", &[])
            .map_err(fail("open"))?
            .get(0);
        if commit == "off" {
            session
                .batch_execute("SET synchronous_commit = on")
                .map_err(fail("open"))?;
        }
        session
            .execute(
                "INSERT INTO qujat.registries (code) VALUES ($1) ON CONFLICT (code) DO NOTHING",
                &[&code],
            )
            .map_err(fail("create"))?;
        let id: i32 = session
            .query_one("SELECT id FROM qujat.registries WHERE code = $1", &[&code])
            .map_err(fail("find"))?
            .get(0);
        lock::take(&mut session, code, id, wait, &place)?;
        Ok(PgAppender {
            log: PgLog {
                pool,
                code: code.to_string(),
            },
            session: Mutex::new(session),
            id,
        })
    }

    fn session(&self) -> MutexGuard<'_, postgres::Client> {
        self.session
            .lock()
            .expect("no panic while holding the session")
    }

    fn failed(&self, what: &str) -> impl FnOnce(postgres::Error) -> anyhow::Error {
        super::log::failed(&self.log, what)
    }

    /// Where the records end, and how far the index agrees with them, as `tx` sees it.
    fn ends(&self, tx: &mut Transaction<'_>) -> Result<(u64, u64)> {
        let row = tx
            .query_one(
                &format!(
                    "{AGREED} SELECT (SELECT coalesce(max(seq), 0) FROM qujat.records \
                     WHERE registry = $1), a.size FROM agreed a"
                ),
                &[&self.log.code],
            )
            .map_err(self.failed("read where it ends"))?;
        Ok((row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64))
    }

    /// Writes index rows for `records` (their positions and facts) and `nodes`, in `tx`.
    fn insert_index<'f>(
        &self,
        tx: &mut Transaction<'_>,
        records: impl Iterator<Item = (u64, &'f Facts)>,
        nodes: &[Node],
    ) -> Result<()> {
        let mut seqs = Vec::new();
        let mut hashes: Vec<&[u8]> = Vec::new();
        let mut service: Vec<Option<&str>> = Vec::new();
        let mut case_id: Vec<Option<&str>> = Vec::new();
        let mut document: Vec<Option<&str>> = Vec::new();
        let mut number: Vec<Option<&str>> = Vec::new();
        let mut once: Vec<Option<&str>> = Vec::new();
        let mut pdf: Vec<Option<&str>> = Vec::new();
        let mut target: Vec<Option<i64>> = Vec::new();
        let mut tails: BTreeMap<&str, i64> = BTreeMap::new();
        for (seq, facts) in records {
            seqs.push(seq as i64);
            hashes.push(&facts.hash[..]);
            match &facts.what {
                What::Document {
                    service: s,
                    case_id: c,
                    document: d,
                    number: n,
                    once: o,
                    pdf: p,
                    counters,
                } => {
                    service.push(Some(s));
                    case_id.push(Some(c));
                    document.push(Some(d));
                    number.push(Some(n));
                    once.push(o.as_deref());
                    pdf.push(Some(p));
                    target.push(None);
                    for (counter, n) in counters {
                        let tail = tails.entry(counter).or_default();
                        *tail = (*tail).max(*n as i64);
                    }
                }
                What::Status { target: t } => {
                    for column in [
                        &mut service,
                        &mut case_id,
                        &mut document,
                        &mut number,
                        &mut once,
                        &mut pdf,
                    ] {
                        column.push(None);
                    }
                    target.push(Some(*t as i64));
                }
            }
        }
        let code = &self.log.code;
        if !seqs.is_empty() {
            tx.execute(
                "INSERT INTO qujat.facts (registry, seq, hash, service, case_id, document, \
                 number, once, pdf, target) SELECT $1::text, * FROM unnest($2::bigint[], $3::bytea[], \
                 $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], \
                 $10::bigint[])",
                &[
                    code, &seqs, &hashes, &service, &case_id, &document, &number, &once, &pdf,
                    &target,
                ],
            )
            .map_err(self.failed("index records of"))?;
        }
        if !tails.is_empty() {
            let (counters, tails): (Vec<&str>, Vec<i64>) = tails.into_iter().unzip();
            tx.execute(
                "INSERT INTO qujat.counters (registry, counter, tail) \
                 SELECT $1::text, * FROM unnest($2::text[], $3::bigint[]) \
                 ON CONFLICT (registry, counter) \
                 DO UPDATE SET tail = greatest(qujat.counters.tail, excluded.tail)",
                &[code, &counters, &tails],
            )
            .map_err(self.failed("index the number counters of"))?;
        }
        if !nodes.is_empty() {
            let levels: Vec<i16> = nodes.iter().map(|n| n.level as i16).collect();
            let indexes: Vec<i64> = nodes.iter().map(|n| n.index as i64).collect();
            let hashes: Vec<&[u8]> = nodes.iter().map(|n| &n.hash[..]).collect();
            tx.execute(
                "INSERT INTO qujat.nodes (registry, level, idx, hash) \
                 SELECT $1::text, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) \
                 ON CONFLICT (registry, level, idx) DO UPDATE SET hash = excluded.hash",
                &[code, &levels, &indexes, &hashes],
            )
            .map_err(self.failed("keep Merkle nodes of"))?;
        }
        Ok(())
    }
}

impl Drop for PgAppender {
    fn drop(&mut self) {
        let id = self.id;
        if let Ok(mut session) = self.session.lock() {
            lock::release(&mut session, id);
        }
    }
}

log_through_field!(PgAppender);

impl Appender for PgAppender {
    fn torn(&self) -> Result<Vec<u8>> {
        Ok(Vec::new())
    }

    fn recover(&mut self, _complete: bool) -> Result<Option<Recovered>> {
        Ok(None)
    }

    fn append(&mut self, records: &[Appended], nodes: &[Node]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::with_capacity(records.len());
        let mut seqs = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            if record.seq != records[0].seq + i as u64 {
                bail!(
                    "record {} appended where {} goes",
                    record.seq,
                    records[0].seq + i as u64
                );
            }
            seqs.push(record.seq as i64);
            lines.push(std::str::from_utf8(&record.line).with_context(|| {
                format!(
                    "record {} is not UTF-8 text: not a record of qujat",
                    record.seq
                )
            })?);
        }
        let mut session = self.session();
        let mut tx = session.transaction().map_err(self.failed("write to"))?;
        let (end, agreed) = self.ends(&mut tx)?;
        if end != agreed || records[0].seq != end + 1 {
            bail!(
                "{}: record {} cannot be appended: it holds {end} records, its index {agreed} \
                 (index them first)",
                self.log.describe(),
                records[0].seq
            );
        }
        tx.execute(
            "INSERT INTO qujat.records (registry, seq, line) \
             SELECT $1::text, * FROM unnest($2::bigint[], $3::text[])",
            &[&self.log.code, &seqs, &lines],
        )
        .map_err(self.failed("append records to"))?;
        self.insert_index(&mut tx, records.iter().map(|r| (r.seq, &r.facts)), nodes)?;
        tx.commit().map_err(self.failed("commit records to"))
    }

    fn index(&self, records: &[Indexing], nodes: &[Node]) -> Result<()> {
        let mut session = self.session();
        let mut tx = session.transaction().map_err(self.failed("index"))?;
        let (end, agreed) = self.ends(&mut tx)?;
        for (i, record) in records.iter().enumerate() {
            let expected = agreed + 1 + i as u64;
            if record.seq != expected || record.seq > end {
                bail!("record {} indexed where {expected} goes", record.seq);
            }
        }
        self.insert_index(&mut tx, records.iter().map(|r| (r.seq, &r.facts)), nodes)?;
        tx.commit().map_err(self.failed("commit the index of"))
    }

    fn reset_index(&mut self) -> Result<()> {
        let code = self.log.code.clone();
        let mut session = self.session();
        let mut tx = session
            .transaction()
            .map_err(self.failed("reset the index of"))?;
        for sql in [
            "DELETE FROM qujat.facts WHERE registry = $1",
            "DELETE FROM qujat.counters WHERE registry = $1",
            "DELETE FROM qujat.nodes WHERE registry = $1",
            "UPDATE qujat.bookkeeping SET checkpoints_seen = 0 WHERE registry = $1",
        ] {
            tx.execute(sql, &[&code])
                .map_err(self.failed("reset the index of"))?;
        }
        tx.commit().map_err(self.failed("reset the index of"))
    }

    fn set_checkpoints_seen(&mut self, count: u64) -> Result<()> {
        let count = count as i64;
        let code = self.log.code.clone();
        self.session()
            .execute(
                "INSERT INTO qujat.bookkeeping (registry, checkpoints_seen) VALUES ($1, $2) \
                 ON CONFLICT (registry) DO UPDATE SET checkpoints_seen = excluded.checkpoints_seen",
                &[&code, &count],
            )
            .map_err(self.failed("keep the checkpoint count of"))?;
        Ok(())
    }

    fn write_head(&mut self, head: &Head) -> Result<()> {
        let seq = head.seq as i64;
        let code = self.log.code.clone();
        self.session()
            .execute(
                "INSERT INTO qujat.heads (registry, seq, hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (registry) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                &[&code, &seq, &head.hash],
            )
            .map_err(self.failed("write the head of"))?;
        Ok(())
    }

    fn append_checkpoint(&mut self, text: &[u8]) -> Result<()> {
        let text = std::str::from_utf8(text).context("a checkpoint is not UTF-8 text")?;
        let code = self.log.code.clone();
        self.session()
            .execute(
                "INSERT INTO qujat.checkpoints (registry, n, text) \
                 SELECT $1::text, coalesce(max(n), 0) + 1, $2::text FROM qujat.checkpoints \
                 WHERE registry = $1",
                &[&code, &text],
            )
            .map_err(self.failed("append a checkpoint to"))?;
        Ok(())
    }
}
