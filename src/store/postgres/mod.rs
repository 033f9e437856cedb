//! The PostgreSQL driver: every registry, its checkpoints and the kept template versions and
//! signatures in one database, for a ministry whose registries must be read from several
//! machines at once, survive the loss of one (replication, point-in-time recovery, the backups
//! its operations team already runs), and answer its auditors' SQL.
//!
//! ```text
//! qujat.schema_version   the schema's versions, applied by `qujat registry init`
//! qujat.registries       one row per registry (its id keys the writer's advisory lock)
//! qujat.records          (registry, seq, line): each record as the exact line qujat wrote
//! qujat.heads            the last record each registry's last writer left
//! qujat.checkpoints      (registry, n, text): Merkle checkpoints, oldest first
//! qujat.kept             (kind, hash, bytes): template versions, kept signatures
//! qujat.facts, counters, nodes, bookkeeping   the index (derived from the records)
//! ```
//!
//! The records are the files driver's bytes (a line per record, `{"hash":…,"record":…}`), so
//! `SELECT line FROM qujat.records WHERE registry = 'media' ORDER BY seq` is a journal the
//! independent check of docs/registry.md reads as it reads a file. Records, checkpoints and kept
//! things are append-only: the writer role may not change or remove them and triggers refuse it
//! to everyone else; what a superuser does anyway, `registry check` names. Selected by
//! [`super::open`] for a `postgres://` or `postgresql://` URL; see docs/registry.md,
//! "PostgreSQL".

mod appender;
mod connect;
mod lock;
mod log;
mod pool;
pub mod schema;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};

pub use connect::{Settings, is_url, redact};

use self::appender::PgAppender;
use self::connect::chain;
use self::log::PgLog;
use self::pool::Pool;
use super::{Appender, Kind, Listed, Log, Store, valid_code};
use crate::registry::sha256_hex;

/// Registries in a PostgreSQL database.
pub struct Postgres {
    pool: Arc<Pool>,
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Template => "template",
        Kind::Signature => "signature",
    }
}

impl Postgres {
    /// The database the URL `place` names (completed from the `PG*` environment variables),
    /// connected and its schema version checked.
    pub fn open(place: &str) -> Result<Postgres> {
        Postgres::with(Settings::parse(place)?)
    }

    pub fn with(settings: Settings) -> Result<Postgres> {
        Ok(Postgres {
            pool: Arc::new(Pool::open(settings)?),
        })
    }

    fn query(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>> {
        let mut client = self.pool.get()?;
        client
            .query(sql, params)
            .map_err(|err| anyhow::anyhow!("{}: cannot {what}: {}", self.describe(), chain(&err)))
    }
}

impl Store for Postgres {
    fn describe(&self) -> String {
        self.pool.describe().to_string()
    }

    fn registries(&self) -> Result<Vec<Listed>> {
        let rows = self.query(
            "list its registries",
            "SELECT code FROM qujat.registries ORDER BY code COLLATE \"C\"",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| Listed {
                code: row.get(0),
                problem: None,
            })
            .collect())
    }

    fn log(&self, code: &str) -> Result<Option<Box<dyn Log>>> {
        if !valid_code(code) {
            return Ok(None);
        }
        let rows = self.query(
            "look for a registry",
            "SELECT 1 FROM qujat.registries WHERE code = $1",
            &[&code],
        )?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(Box::new(PgLog {
            pool: self.pool.clone(),
            code: code.to_string(),
        })))
    }

    fn appender(&self, code: &str, wait: Duration) -> Result<Box<dyn Appender>> {
        if !valid_code(code) {
            bail!("{code:?} cannot name a registry (letters, digits and '-' only)");
        }
        Ok(Box::new(PgAppender::open(self.pool.clone(), code, wait)?))
    }

    fn keep(&self, kind: Kind, bytes: &[u8]) -> Result<String> {
        let hash = sha256_hex(bytes);
        self.query(
            &format!("keep a {}", kind.name()),
            "INSERT INTO qujat.kept (kind, hash, bytes) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, hash) DO NOTHING",
            &[&kind_name(kind), &hash, &bytes],
        )?;
        Ok(hash)
    }

    fn keep_all(&self, kind: Kind, items: &[Vec<u8>]) -> Result<Vec<String>> {
        // One statement, one transaction, for all of them.
        let hashes: Vec<String> = items.iter().map(|bytes| sha256_hex(bytes)).collect();
        if items.is_empty() {
            return Ok(hashes);
        }
        let kind = kind_name(kind);
        let mut sql = String::from("INSERT INTO qujat.kept (kind, hash, bytes) VALUES ");
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = Vec::new();
        for (i, (hash, bytes)) in hashes.iter().zip(items).enumerate() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3));
            params.push(hash);
            params.push(bytes);
        }
        params.insert(0, &kind);
        sql.push_str(" ON CONFLICT (kind, hash) DO NOTHING");
        self.query(&format!("keep {} {}s", items.len(), kind), &sql, &params)?;
        Ok(hashes)
    }

    fn kept(&self, kind: Kind, hash: &str) -> Result<Option<Vec<u8>>> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let rows = self.query(
            &format!("read a {}", kind.name()),
            "SELECT bytes FROM qujat.kept WHERE kind = $1 AND hash = $2",
            &[&kind_name(kind), &hash],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let bytes: Vec<u8> = row.get(0);
        anyhow::ensure!(
            sha256_hex(&bytes) == hash,
            "{} {hash} in {} does not match its hash (edited?)",
            kind.name(),
            self.describe()
        );
        Ok(Some(bytes))
    }

    fn kept_hashes(&self, kind: Kind) -> Result<Vec<String>> {
        let rows = self.query(
            &format!("list the {}s", kind.name()),
            "SELECT hash FROM qujat.kept WHERE kind = $1 ORDER BY hash",
            &[&kind_name(kind)],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }
}
