//! A registry read from the database: never locked, never locking the writer (PostgreSQL's
//! MVCC: each statement sees the records committed when it began). A writer commits a group of
//! records in one transaction, so a reader sees the whole group or none of it.
//!
//! The index (`qujat.facts`, `qujat.counters`, `qujat.nodes`) is used only as far as it agrees
//! with the records: its last row's hash must be that of the record at its position — checked in
//! the same statement as every use, so an index a restored backup or a hand in SQL put out of
//! step is never believed. Records beyond it are looked at too.

use std::io::{BufReader, Read};
use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use anyhow::{Context, Result, bail};
use postgres::types::ToSql;

use super::connect::chain;
use super::pool::Pool;
use crate::store::{Block, Hash, Head, Indexed, Log, Lookup, ScanEnd, Stored};

/// How many bytes of records a scan hands over at a time (whole records; one more may be read
/// while the consumer works on one).
const BLOCK: usize = 8 << 20;

/// How far the index reaches as it agrees with the records: `agreed.size` (0 when it does not
/// agree), for registry `$1`. A prefix of the statements that use it.
pub const AGREED: &str = "
WITH last AS (
    SELECT f.seq, f.hash FROM qujat.facts f WHERE f.registry = $1 ORDER BY f.seq DESC LIMIT 1
), agreed AS (
    SELECT coalesce((
        SELECT l.seq FROM last l
        JOIN qujat.records r ON r.registry = $1 AND r.seq = l.seq
        WHERE substr(r.line, 10, 64) = encode(l.hash, 'hex')
    ), 0) AS size
)";

/// A registry of a PostgreSQL store, for reading.
pub struct PgLog {
    pub pool: Arc<Pool>,
    pub code: String,
}

/// What a failed statement says, with the registry and what was being done.
pub fn failed(log: &PgLog, what: &str) -> impl FnOnce(postgres::Error) -> anyhow::Error {
    let place = log.describe();
    let what = what.to_string();
    move |err| anyhow::anyhow!("{place}: cannot {what}: {}", chain(&err))
}

fn hash_of(bytes: &[u8]) -> Result<Hash> {
    Hash::try_from(bytes).context("a hash in the index is not 32 bytes")
}

/// What must stand in a record's line for it to be what `lookup` asks for: a cheap filter of
/// the records beyond the index, before their facts are read.
fn needle(lookup: &Lookup<'_>) -> String {
    let json = |value: &str| serde_json::to_string(value).expect("strings serialise");
    match lookup {
        Lookup::Number(value) | Lookup::Case(value) | Lookup::Pdf(value) => json(value),
        Lookup::Key { case_id, .. } => json(case_id),
        Lookup::Once { value, .. } => json(value),
        Lookup::Events(target) => format!("\"target\":{target}"),
        Lookup::Statuses => "\"type\":\"status\"".to_string(),
    }
}

impl PgLog {
    /// Runs a query of this registry (`$1` is its code) with `params` after it.
    fn query(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>> {
        let mut all: Vec<&(dyn ToSql + Sync)> = vec![&self.code];
        all.extend_from_slice(params);
        let mut client = self.pool.get()?;
        client.query(sql, &all).map_err(failed(self, what))
    }

    /// The blocks of whole records from `from` on, read by a thread of their own while `each`
    /// works on the one before.
    fn copy_out(
        &self,
        from: u64,
        each: &mut (dyn FnMut(Block<'_>) -> Result<()> + Send),
    ) -> Result<u64> {
        // COPY takes no parameters; a registry code is letters, digits, `-` and `_` only.
        debug_assert!(crate::store::valid_code(&self.code));
        let sql = format!(
            "COPY (SELECT line FROM qujat.records WHERE registry = '{}' AND seq >= {from} \
             ORDER BY seq) TO STDOUT (FORMAT binary)",
            self.code
        );
        let mut client = self.pool.get()?;
        let place = self.describe();
        let mut handed = 0u64;
        let mut complete = false;
        let result = std::thread::scope(|scope| -> Result<()> {
            let (send, receive) = sync_channel::<Result<(u64, Vec<u8>)>>(1);
            let client = &mut client;
            let complete = &mut complete;
            let place = place.as_str();
            scope.spawn(move || {
                let mut read = || -> Result<()> {
                    let reader = client.copy_out(sql.as_str()).map_err(|err| {
                        anyhow::anyhow!("{place}: cannot read its records: {}", chain(&err))
                    })?;
                    let mut reader = BufReader::with_capacity(1 << 20, reader);
                    read_header(&mut reader)
                        .with_context(|| format!("{place}: reading its records"))?;
                    let mut text = Vec::with_capacity(BLOCK + (1 << 20));
                    let mut count = 0u64;
                    loop {
                        let more = read_row(&mut reader, &mut text)
                            .with_context(|| format!("{place}: reading its records"))?;
                        if more {
                            count += 1;
                        }
                        if (!more && count > 0) || text.len() >= BLOCK {
                            let block =
                                std::mem::replace(&mut text, Vec::with_capacity(BLOCK + (1 << 20)));
                            if send.send(Ok((count, block))).is_err() {
                                // The consumer stopped.
                                return Ok(());
                            }
                            count = 0;
                        }
                        if !more {
                            *complete = true;
                            return Ok(());
                        }
                    }
                };
                if let Err(err) = read() {
                    let _ = send.send(Err(err));
                }
            });
            let mut first = from;
            for block in receive {
                let (count, text) = block?;
                each(Block { first, text: &text })?;
                first += count;
                handed += count;
            }
            Ok(())
        });
        if !complete {
            // Stopped in the middle of a COPY: the server is told to stop sending (or closing
            // the connection would read the rest first), and the connection is not kept.
            self.pool.settings.cancel(client.cancel_token());
            client.forget();
        }
        result.map(|()| handed)
    }
}

/// The header of a binary COPY: its signature, flags and extension.
fn read_header(reader: &mut impl Read) -> Result<()> {
    let mut signature = [0u8; 19];
    reader.read_exact(&mut signature)?;
    if &signature[..11] != b"PGCOPY\n\xff\r\n\0" {
        bail!("not a binary COPY");
    }
    let extension = u32::from_be_bytes(signature[15..19].try_into().expect("4 bytes"));
    std::io::copy(&mut reader.take(u64::from(extension)), &mut std::io::sink())?;
    Ok(())
}

/// Appends the next row's line and a newline to `text`; `false` at the end. A line holding a
/// newline (which the schema forbids, and no record of qujat has) has it made a space: it is
/// then not the record's canonical text, and the chain check names it.
fn read_row(reader: &mut impl Read, text: &mut Vec<u8>) -> Result<bool> {
    let mut count = [0u8; 2];
    reader.read_exact(&mut count)?;
    let fields = i16::from_be_bytes(count);
    if fields == -1 {
        return Ok(false);
    }
    if fields != 1 {
        bail!("a row of {fields} fields");
    }
    let mut len = [0u8; 4];
    reader.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    if len < 0 {
        bail!("a record without a line");
    }
    let start = text.len();
    text.resize(start + len as usize, 0);
    reader.read_exact(&mut text[start..])?;
    for b in &mut text[start..] {
        if *b == b'\n' {
            *b = b' ';
        }
    }
    text.push(b'\n');
    Ok(true)
}

impl Log for PgLog {
    fn code(&self) -> &str {
        &self.code
    }

    fn describe(&self) -> String {
        format!("registry {} ({})", self.code, self.pool.describe())
    }

    fn scan(
        &self,
        from: u64,
        each: &mut (dyn FnMut(Block<'_>) -> Result<()> + Send),
    ) -> Result<ScanEnd> {
        let from = from.max(1);
        let handed = self.copy_out(from, each)?;
        let last = if handed > 0 || from == 1 {
            from - 1 + handed
        } else {
            // Nothing from `from` on: the last record is before it.
            let before = (from - 1).min(i64::MAX as u64) as i64;
            let rows = self.query(
                "read where it ends",
                "SELECT coalesce(max(seq), 0) FROM qujat.records WHERE registry = $1 AND seq <= $2",
                &[&before],
            )?;
            rows.first().map_or(0, |row| row.get::<_, i64>(0) as u64)
        };
        Ok(ScanEnd { last, torn: 0 })
    }

    fn read(&self, seqs: &[u64]) -> Result<Vec<Stored>> {
        let wanted: Vec<i64> = seqs
            .iter()
            .filter(|&&s| s > 0 && s <= i64::MAX as u64)
            .map(|&s| s as i64)
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.query(
            "read records",
            "SELECT seq, line FROM qujat.records WHERE registry = $1 AND seq = ANY($2) \
             UNION ALL SELECT -max(seq), NULL FROM qujat.records WHERE registry = $1",
            &[&wanted],
        )?;
        // A position before the last record that has none: a row removed by hand, which a file
        // cannot have (its lines close up) and which no reader may take for "not registered".
        let last = rows
            .iter()
            .find_map(|row| row.get::<_, Option<i64>>(0).filter(|s| *s <= 0))
            .map_or(0, |s| (-s) as u64);
        let rows: Vec<&postgres::Row> = rows
            .iter()
            .filter(|row| row.get::<_, Option<&str>>(1).is_some())
            .collect();
        if let Some(missing) = wanted
            .iter()
            .map(|&s| s as u64)
            .find(|&s| s <= last && !rows.iter().any(|row| row.get::<_, i64>(0) as u64 == s))
        {
            bail!(
                "{}: record {missing} is missing, though records after it are there (removed \
                 by hand?): run `qujat registry check`",
                self.describe()
            );
        }
        let mut found: std::collections::HashMap<u64, Vec<u8>> = rows
            .into_iter()
            .map(|row| {
                (
                    row.get::<_, i64>(0) as u64,
                    row.get::<_, &str>(1).as_bytes().to_vec(),
                )
            })
            .collect();
        // In the order asked (a position asked twice is given once, at its first place).
        Ok(seqs
            .iter()
            .filter_map(|seq| found.remove(seq).map(|line| Stored { seq: *seq, line }))
            .collect())
    }

    fn find(&self, lookup: &Lookup<'_>) -> Result<Vec<u64>> {
        let needle = needle(lookup);
        let beyond = "UNION ALL SELECT r.seq, r.line FROM qujat.records r, agreed a \
                      WHERE r.registry = $1 AND r.seq > a.size AND strpos(r.line, $2) > 0";
        // `$2` is the needle, the lookup's own values `$3` on.
        let indexed = |condition: &str| {
            format!(
                "{AGREED} SELECT f.seq, NULL::text FROM qujat.facts f, agreed a \
                 WHERE f.registry = $1 AND f.seq <= a.size AND {condition} {beyond} ORDER BY 1"
            )
        };
        let rows = match lookup {
            Lookup::Key {
                service,
                case_id,
                document,
            } => self.query(
                "look a document up",
                &indexed("f.case_id = $3 AND f.service = $4 AND f.document = $5"),
                &[&needle, case_id, service, document],
            )?,
            Lookup::Once {
                service,
                document,
                value,
            } => self.query(
                "look a document up",
                &indexed("f.service = $3 AND f.document = $4 AND f.once = $5"),
                &[&needle, service, document, value],
            )?,
            Lookup::Number(value) => self.query(
                "look a number up",
                &indexed("f.number = $3"),
                &[&needle, value],
            )?,
            Lookup::Case(value) => self.query(
                "look a case up",
                &indexed("f.case_id = $3"),
                &[&needle, value],
            )?,
            Lookup::Pdf(value) => {
                self.query("look a PDF up", &indexed("f.pdf = $3"), &[&needle, value])?
            }
            Lookup::Events(target) => {
                let target = *target as i64;
                self.query(
                    "look status events up",
                    &indexed("f.target = $3"),
                    &[&needle, &target],
                )?
            }
            Lookup::Statuses => self.query(
                "look status events up",
                &indexed("f.target IS NOT NULL"),
                &[&needle],
            )?,
        };
        let mut found = Vec::new();
        for row in &rows {
            let seq = row.get::<_, i64>(0) as u64;
            match row.get::<_, Option<&str>>(1) {
                None => found.push(seq),
                // Beyond the index: its facts read from the record itself.
                Some(line) => {
                    if let Ok(facts) = crate::registry::facts_of_line(line.as_bytes())
                        && lookup.matches(&facts)
                    {
                        found.push(seq);
                    }
                }
            }
        }
        Ok(found)
    }

    fn head(&self) -> Result<Option<Head>> {
        let rows = self.query(
            "read its head",
            "SELECT seq, hash FROM qujat.heads WHERE registry = $1",
            &[],
        )?;
        Ok(rows.first().map(|row| Head {
            seq: row.get::<_, i64>(0) as u64,
            hash: row.get(1),
        }))
    }

    fn checkpoints(&self) -> Result<Vec<Vec<u8>>> {
        let rows = self.query(
            "read its checkpoints",
            "SELECT text FROM qujat.checkpoints WHERE registry = $1 ORDER BY n",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| row.get::<_, &str>(0).as_bytes().to_vec())
            .collect())
    }

    fn indexed(&self) -> Result<Indexed> {
        let rows = self.query(
            "read how far its index reaches",
            "WITH last AS (
                 SELECT f.seq, f.hash FROM qujat.facts f WHERE f.registry = $1
                 ORDER BY f.seq DESC LIMIT 1
             )
             SELECT l.seq, l.hash,
                    substr(r.line, 10, 64) = encode(l.hash, 'hex')
                    AND (SELECT count(*) FROM qujat.records c
                         WHERE c.registry = $1 AND c.seq <= l.seq) = l.seq,
                    (SELECT b.checkpoints_seen FROM qujat.bookkeeping b WHERE b.registry = $1)
             FROM (SELECT 1) one
             LEFT JOIN last l ON true
             LEFT JOIN qujat.records r ON r.registry = $1 AND r.seq = l.seq",
            &[],
        )?;
        let row = rows.first().context("no row")?;
        let checkpoints = row.get::<_, Option<i64>>(3).unwrap_or(0) as u64;
        let Some(seq) = row.get::<_, Option<i64>>(0) else {
            return Ok(Indexed {
                checkpoints,
                ..Indexed::default()
            });
        };
        if row.get::<_, Option<bool>>(2) != Some(true) {
            return Ok(Indexed {
                checkpoints,
                disagrees: Some(seq as u64),
                ..Indexed::default()
            });
        }
        Ok(Indexed {
            size: seq as u64,
            last: Some(hash_of(row.get::<_, &[u8]>(1))?),
            checkpoints,
            disagrees: None,
        })
    }

    fn tails(&self) -> Result<Vec<(String, u64)>> {
        let rows = self.query(
            "read its number counters",
            &format!(
                "{AGREED} SELECT c.counter, c.tail FROM qujat.counters c, agreed a \
                 WHERE c.registry = $1 AND a.size > 0 ORDER BY c.counter COLLATE \"C\""
            ),
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| (row.get(0), row.get::<_, i64>(1) as u64))
            .collect())
    }

    fn hashes(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let (from, to) = (from as i64, to.min(i64::MAX as u64) as i64);
        let rows = self.query(
            "read record hashes",
            &format!(
                "{AGREED} SELECT f.hash FROM qujat.facts f, agreed a WHERE f.registry = $1 \
                 AND f.seq BETWEEN $2 AND least($3, a.size) ORDER BY f.seq"
            ),
            &[&from, &to],
        )?;
        rows.iter().map(|row| hash_of(row.get(0))).collect()
    }

    fn node(&self, level: u32, index: u64) -> Result<Option<Hash>> {
        let (level, index) = (level as i16, index as i64);
        let rows = self.query(
            "read a Merkle node",
            &format!(
                "{AGREED} SELECT n.hash FROM qujat.nodes n, agreed a WHERE n.registry = $1 \
                 AND a.size > 0 AND n.level = $2 AND n.idx = $3"
            ),
            &[&level, &index],
        )?;
        rows.first().map(|row| hash_of(row.get(0))).transpose()
    }
}
