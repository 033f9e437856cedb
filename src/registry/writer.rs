//! A registry opened for writing: locked, verified from the state its last writer verified, its
//! tail known, and what a batch looks up fetched for it.
//!
//! Opening costs what was appended since the last writer verified the registry, not the whole
//! history: the store's index says how far that reaches (its last record and hash), and the head
//! and every checkpoint at or before it are checked against that state (the head's record read
//! back, each checkpoint's root recomputed from the kept Merkle nodes). Only the records after
//! it are read, verified (hash, place, link, numbers, status changes) and indexed. Anything that
//! disagrees makes the writer forget the index and verify the whole journal, as `registry check`
//! does. Tampering inside the verified part that leaves its last record, head and checkpoints
//! alone is `registry check`'s to find.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::chain::Chain;
use super::checkpoint::{self, Checkpoint};
use super::lookups::Lookups;
use super::merkle::{self, Frontier};
use super::note::NoteSigner;
use super::record::{Entry, LineError, Record, StatusEntry, parse_line, to_line};
use super::tree::StoredTree;
use super::{Key, OnceKey, Registered, Status, facts, scan};
use crate::store::{
    Appended, Appender, Facts, Indexed, Indexing, Lookup, NODE_LEVEL, Node, Recovered, Store,
};

/// The largest incomplete record a writer cuts off the end of a journal: more than one write
/// group could leave (64 records of at most a few hundred kilobytes each) is not a crash's.
pub const MAX_TORN: u64 = 64 << 20;

/// What a batch will look up in a registry, fetched in one go before planning.
#[derive(Debug, Default, Clone)]
pub struct Wanted {
    pub keys: Vec<Key>,
    pub onces: Vec<OnceKey>,
    pub numbers: Vec<String>,
}

/// A registry opened for writing.
pub struct Writer {
    pub code: String,
    log: Box<dyn Appender>,
    chain: Chain,
    /// The documents looked up so far and those this writer added, by key, once-only value and
    /// number.
    lookups: Lookups,
    /// Which records the lookups hold.
    looked_up: HashSet<u64>,
    tree: Frontier,
    /// The size of the newest checkpoint, and how many checkpoints writers have seen (more than
    /// there are, when some were removed).
    checkpointed: u64,
    checkpoints: u64,
    /// Records staged since the last flush, and the Merkle nodes they complete.
    staged: Vec<Appended>,
    nodes: Vec<Node>,
    /// What was done to an incomplete record at the journal's end.
    pub recovery: Option<(Recovered, u64)>,
    /// What is worth saying about the registry but does not stop the writer.
    pub notes: Vec<String>,
    /// The key checkpoints are signed with, and their origin (before `/<registry>`).
    signer: Option<(std::sync::Arc<NoteSigner>, String)>,
}

/// `record 7 was` or `records 7–9 were`.
pub fn removed(first: u64, last: u64) -> String {
    if first == last {
        format!("record {first} was")
    } else {
        format!("records {first}–{last} were")
    }
}

impl Writer {
    /// Locks registry `code` of `store` (waiting up to `wait`) and verifies what was appended
    /// since the last writer verified it. Any broken record is a fatal error naming it: a
    /// registry is never "repaired" past its last whole record.
    pub fn open(store: &dyn Store, code: &str, wait: Duration) -> Result<Writer> {
        let mut log = store.appender(code, wait)?;
        let damaged = format!("registry {code:?} ({}) is damaged", log.describe());
        let head = log.head()?;
        let checkpoints =
            checkpoint::parse_all(&log.checkpoints()?).with_context(|| damaged.clone())?;
        let mut notes = Vec::new();
        let mut indexed = log.indexed()?;
        if let Some(listed) = indexed.disagrees {
            notes.push(format!(
                "registry {code}: its index listed {listed} records the journal does not have \
                 as listed (records removed or replaced, or a journal restored from a copy); it \
                 was made again from the journal"
            ));
            log.reset_index()?;
            indexed = Indexed::default();
        }
        if indexed.size > 0
            && let Some(why) = disagreement(log.as_ref(), &indexed, head.as_ref(), &checkpoints)?
        {
            notes.push(format!(
                "registry {code}: its index was made again from the journal ({why})"
            ));
            log.reset_index()?;
            indexed = Indexed::default();
        }
        let mut writer = Writer::resume(code, log, &indexed, notes)?;
        writer.verify_tail(&damaged, head.as_ref(), &checkpoints)?;
        let count = checkpoints.len() as u64;
        if count < indexed.checkpoints {
            writer.notes.push(format!(
                "registry {code}: it has {count} checkpoints, but had {} when a writer last \
                 looked: checkpoints were removed (restore them from a copy; until then \
                 `qujat registry check` names it)",
                indexed.checkpoints
            ));
        }
        // What a writer has seen is remembered, never forgotten: a loss stays a finding.
        writer.checkpoints = count.max(indexed.checkpoints);
        writer.log.set_checkpoints_seen(writer.checkpoints)?;
        writer.checkpointed = checkpoints.last().map_or(0, |c| c.size);
        Ok(writer)
    }

    /// A writer going on from the verified state `indexed`.
    fn resume(
        code: &str,
        log: Box<dyn Appender>,
        indexed: &Indexed,
        notes: Vec<String>,
    ) -> Result<Writer> {
        let last_hash = indexed
            .last
            .map_or_else(|| super::GENESIS.to_string(), hex::encode);
        let tails: BTreeMap<String, u64> = log.tails()?.into_iter().collect();
        let tree = StoredTree::new(log.as_ref(), indexed.size).frontier(indexed.size)?;
        Ok(Writer {
            code: code.to_string(),
            chain: Chain::resume(indexed.size, &last_hash, tails),
            log,
            lookups: Lookups::default(),
            looked_up: HashSet::new(),
            tree,
            checkpointed: 0,
            checkpoints: 0,
            staged: Vec::new(),
            nodes: Vec::new(),
            recovery: None,
            notes,
            signer: None,
        })
    }

    /// Reads, verifies and indexes every record after the verified state (the one verified
    /// scan), checking the head and the checkpoints that fall among them; then deals with an
    /// incomplete last record.
    fn verify_tail(
        &mut self,
        damaged: &str,
        head: Option<&crate::store::Head>,
        checkpoints: &[Checkpoint],
    ) -> Result<()> {
        let start = scan::Start {
            chain: std::mem::take(&mut self.chain),
            tree: self.tree.clone(),
        };
        let options = scan::Options {
            full: false,
            head: head.cloned(),
            checkpoints: checkpoints.to_vec(),
            trusted: None,
            nodes: true,
        };
        let mut sink = Indexer {
            log: self.log.as_ref(),
            pending: Vec::new(),
        };
        let outcome = scan::scan(self.log.as_ref(), start, &options, &mut sink)?;
        if let Some(broken) = outcome.broken {
            return Err(anyhow::Error::new(broken).context(damaged.to_string()));
        }
        self.chain = outcome.chain;
        self.tree = outcome.tree;
        // The incomplete last record, now that the journal before it is known to be sound: a
        // whole record missing only its end of line is completed; anything else is cut off and
        // kept aside — unless the head names records that are not there, which is damage, left
        // as found.
        let torn = self.log.torn()?;
        let whole = if torn.is_empty() {
            None
        } else {
            self.whole_record(&torn)
        };
        let len = self.chain.len() + u64::from(whole.is_some());
        if let Some(problem) = scan::head_problem("it", len, head) {
            bail!("{damaged}: {problem}");
        }
        if let Some(problem) = outcome.problems.first() {
            bail!("{damaged}: {problem}");
        }
        if torn.is_empty() {
            return Ok(());
        }
        let size = torn.len() as u64;
        if whole.is_none() && size > MAX_TORN {
            bail!(
                "{damaged}: it ends in {size} bytes that are not a whole record, more than any \
                 write of qujat leaves; nothing was changed: move them aside by hand (keep them: \
                 they may be evidence) and run again"
            );
        }
        let recovered = self.log.recover(whole.is_some())?;
        if let Some((hash, record, facts)) = whole {
            let mut nodes = Vec::new();
            self.chain.push_record(record.seq, &hash, &record)?;
            self.tree
                .push_completing(checkpoint::leaf(&hash), |level, index, hash| {
                    keep_node(&mut nodes, level, index, hash)
                });
            self.log.index(
                &[Indexing {
                    seq: record.seq,
                    len: size,
                    facts,
                }],
                &nodes,
            )?;
        }
        self.recovery = recovered.map(|recovered| (recovered, size));
        Ok(())
    }

    /// The incomplete record at the journal's end, if it is a whole record that follows the
    /// chain and is only missing its end of line.
    fn whole_record(&self, torn: &[u8]) -> Option<(String, Record, crate::store::Facts)> {
        let (hash, record) = parse_line(torn).ok()?;
        let mut chain = self.chain.clone();
        if let Entry::Status(event) = &record.entry
            && chain.needs(event.target)
        {
            chain.know(
                event.target,
                scan::stored_status(self.log.as_ref(), event.target, self.chain.len() + 1).ok()?,
            );
        }
        chain
            .push_record(self.chain.len() + 1, &hash, &record)
            .ok()?;
        let facts = facts::of_record(&record, &hash);
        Some((hash, record, facts))
    }

    /// Signs the checkpoints this writer appends with `signer`, their origin `origin/<code>`.
    pub fn sign_checkpoints(&mut self, signer: std::sync::Arc<NoteSigner>, origin: &str) {
        self.signer = Some((signer, origin.to_string()));
    }

    /// Fetches what a batch will look up, so that planning reads memory only.
    pub fn prefetch(&mut self, wanted: &Wanted) -> Result<()> {
        let mut seqs = Vec::new();
        for key in &wanted.keys {
            seqs.extend(self.log.find(&Lookup::Key {
                service: &key.service,
                case_id: &key.case_id,
                document: &key.document,
            })?);
        }
        for (service, document, value) in &wanted.onces {
            seqs.extend(self.log.find(&Lookup::Once {
                service,
                document,
                value,
            })?);
        }
        for number in &wanted.numbers {
            seqs.extend(self.log.find(&Lookup::Number(number))?);
        }
        let found = self.take_in(&seqs)?;
        // A document found by its number: what is registered under its key now, and its status.
        let mut keys = Vec::new();
        for record in &found {
            if let Some(doc) = record.document() {
                keys.extend(self.log.find(&Lookup::Key {
                    service: &doc.service,
                    case_id: &doc.case_id,
                    document: &doc.document,
                })?);
            }
        }
        self.take_in(&keys)?;
        Ok(())
    }

    /// Reads the document records at `seqs` not taken in yet into the lookups, with their
    /// status in force; returns them.
    fn take_in(&mut self, seqs: &[u64]) -> Result<Vec<Record>> {
        let mut new: Vec<u64> = seqs
            .iter()
            .copied()
            .filter(|seq| *seq <= self.chain.len() && !self.looked_up.contains(seq))
            .collect();
        new.sort_unstable();
        new.dedup();
        let mut records = Vec::new();
        let damaged = || {
            format!(
                "registry {:?} ({}) is damaged",
                self.code,
                self.log.describe()
            )
        };
        for stored in self.log.read(&new)? {
            // Every record read is checked: what a lookup touches is never trusted unread.
            let (hash, record) = parse_line(&stored.line)
                .map_err(|error| crate::registry::ChainError::Line {
                    line: stored.seq,
                    expected_seq: stored.seq,
                    error,
                })
                .with_context(damaged)?;
            if record.seq != stored.seq {
                return Err(anyhow::Error::new(crate::registry::ChainError::Seq {
                    line: stored.seq,
                    expected: stored.seq,
                    found: record.seq,
                }))
                .with_context(damaged);
            }
            if let Some(registered) = self.log.hashes(stored.seq, stored.seq)?.first()
                && hex::encode(registered) != hash
            {
                bail!(
                    "{}: line {} (record {}): not the record that was registered there (its hash \
                     was recomputed after an edit?)",
                    damaged(),
                    stored.seq,
                    stored.seq
                );
            }
            if record.document().is_none() {
                continue;
            }
            self.looked_up.insert(record.seq);
            if self.chain.needs(record.seq) {
                let status =
                    scan::stored_status(self.log.as_ref(), record.seq, self.chain.len() + 1)?;
                self.chain.know(record.seq, status);
            }
            self.lookups.add(&record);
            records.push(record);
        }
        Ok(records)
    }

    /// Records the journal's last record as the head and appends a Merkle checkpoint of every
    /// record: called when a batch is done with the registry. Staged records are made durable
    /// first.
    pub fn write_head(&mut self) -> Result<()> {
        self.flush()?;
        if self.chain.is_empty() {
            return Ok(());
        }
        let head = crate::store::Head {
            seq: self.chain.len(),
            hash: self.chain.last_hash().to_string(),
        };
        self.log.write_head(&head)?;
        if self.tree.len() > self.checkpointed {
            let origin = self
                .signer
                .as_ref()
                .map(|(_, origin)| format!("{origin}/{}", self.code));
            let signer = self
                .signer
                .as_ref()
                .zip(origin.as_deref())
                .map(|((signer, _), origin)| (&**signer, origin));
            let checkpoint = Checkpoint::new(self.tree.len(), &self.tree.root(), signer)?;
            self.log.append_checkpoint(checkpoint.text().as_bytes())?;
            self.checkpointed = checkpoint.size;
            self.checkpoints += 1;
            self.log.set_checkpoints_seen(self.checkpoints)?;
        }
        Ok(())
    }

    /// Every registered document numbered `number`, in any sequence, in journal order (among
    /// those prefetched and added).
    pub fn find_number(&self, number: &str) -> Vec<(Key, Registered)> {
        self.lookups.find_number(number)
    }

    /// The status in force of the document of record `seq` (prefetched or added).
    pub fn status_of(&self, seq: u64) -> Option<Status> {
        self.chain.status_of(seq)
    }

    /// The registered document under `key`, if any (prefetched or added).
    pub fn registered(&self, key: &Key) -> Option<Registered> {
        self.lookups.registered(key)
    }

    /// The document registered under a once-only key, if any (prefetched or added).
    pub fn registered_once(&self, key: &OnceKey) -> Option<Registered> {
        self.lookups.registered_once(key)
    }

    /// The last position used in each number sequence.
    pub fn sequence_tails(&self) -> &BTreeMap<String, u64> {
        self.chain.sequence_tails()
    }

    /// The `seq` and `prev` the next record must have.
    pub fn next_link(&self) -> (u64, String) {
        (self.chain.len() + 1, self.chain.last_hash().to_string())
    }

    /// Adds one record (its `seq` and `prev` must be [`next_link`](Self::next_link)) to the
    /// chain and stages its line; it reaches the store, durably, at the next
    /// [`flush`](Self::flush). The chain refuses a record that does not follow, and then nothing
    /// is staged.
    pub fn stage(&mut self, record: &Record) -> Result<()> {
        let (line, hash) = to_line(record);
        self.stage_line(record, line, hash)
    }

    /// Like [`stage`](Self::stage), for a document whose data is given as canonical JSON text
    /// (and left `null` in `record`).
    pub fn stage_with_data(&mut self, record: &Record, data: &str) -> Result<()> {
        let (line, hash) = super::to_line_with_data(record, data);
        self.stage_line(record, line, hash)
    }

    fn stage_line(&mut self, record: &Record, mut line: String, hash: String) -> Result<()> {
        if let Entry::Status(event) = &record.entry
            && self.chain.needs(event.target)
        {
            let status = scan::stored_status(self.log.as_ref(), event.target, record.seq)?;
            self.chain.know(event.target, status);
        }
        self.chain
            .push_record(self.chain.len() + 1, &hash, record)
            .context("refusing to append a record that breaks the chain")?;
        line.pop();
        let nodes = &mut self.nodes;
        self.tree
            .push_completing(checkpoint::leaf(&hash), |level, index, hash| {
                keep_node(nodes, level, index, hash)
            });
        self.staged.push(Appended {
            seq: record.seq,
            facts: facts::of_record(record, &hash),
            line: line.into_bytes(),
        });
        if record.document().is_some() {
            self.looked_up.insert(record.seq);
            self.lookups.add(record);
        }
        Ok(())
    }

    /// Writes the staged records to the store and makes them durable (one write, one sync for
    /// all of them), then indexes them.
    pub fn flush(&mut self) -> Result<()> {
        if self.staged.is_empty() {
            return Ok(());
        }
        self.log.append(&self.staged, &self.nodes)?;
        self.staged.clear();
        self.nodes.clear();
        Ok(())
    }

    /// Appends one record and makes it durable.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        self.stage(record)?;
        self.flush()
    }

    /// Appends a status event for the document of record `target`; the chain refuses a change
    /// that is not allowed (a revoked document made active again, …).
    pub fn append_status(&mut self, event: StatusEntry) -> Result<Record> {
        let record = self.stage_status(event)?;
        self.flush()?;
        Ok(record)
    }

    /// Stages a status event, as [`append_status`](Self::append_status) appends it.
    pub fn stage_status(&mut self, event: StatusEntry) -> Result<Record> {
        let (seq, prev) = self.next_link();
        let record = Record {
            seq,
            prev,
            entry: Entry::Status(event),
        };
        self.stage(&record)?;
        Ok(record)
    }

    /// Makes room for `records` more records, so that registering them never copies what the
    /// writer holds: a batch calls it with the number of documents it plans to issue.
    pub fn reserve(&mut self, records: usize) {
        self.lookups.reserve(records);
        self.chain.reserve(records);
    }

    /// How many records the registry holds.
    pub fn len(&self) -> u64 {
        self.chain.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chain.len() == 0
    }
}

/// Keeps a completed Merkle node if it is of a level the store keeps.
pub(super) fn keep_node(nodes: &mut Vec<Node>, level: u32, index: u64, hash: &merkle::Hash) {
    if level >= NODE_LEVEL {
        nodes.push(Node {
            level,
            index,
            hash: *hash,
        });
    }
}

/// The sink of a writer's scan: indexes each block's records once the chain has accepted them.
struct Indexer<'a> {
    log: &'a dyn Appender,
    pending: Vec<Indexing>,
}

/// A writer's scan prepares each record's facts in parallel.
struct FactsOf;

impl scan::Prepare for FactsOf {
    type Item = Facts;
    type Scratch = ();
    fn prepare(&self, _: &mut (), seen: &scan::Seen<'_>) -> Result<Facts, LineError> {
        Ok(facts::of_brief(seen.brief, seen.hash))
    }
}

impl scan::Sink for Indexer<'_> {
    type Prepare = FactsOf;

    fn preparer(&self) -> FactsOf {
        FactsOf
    }

    fn record(&mut self, record: &scan::Verified<'_>, facts: Facts) -> Result<()> {
        self.pending.push(Indexing {
            seq: record.seq,
            len: record.len,
            facts,
        });
        Ok(())
    }

    fn block_done(&mut self, nodes: &mut Vec<Node>) -> Result<()> {
        if !self.pending.is_empty() || !nodes.is_empty() {
            self.log.index(&self.pending, nodes)?;
            self.pending.clear();
            nodes.clear();
        }
        Ok(())
    }
}

/// Why the verified state `indexed` cannot be trusted, if it cannot: the head names a record
/// at or before it that is not there, or a checkpoint at or before it has another root.
fn disagreement(
    log: &dyn Appender,
    indexed: &Indexed,
    head: Option<&crate::store::Head>,
    checkpoints: &[Checkpoint],
) -> Result<Option<String>> {
    if let Some(head) = head
        && head.seq <= indexed.size
    {
        let stored = log.read(&[head.seq])?;
        let hash = stored
            .first()
            .and_then(|s| super::record::split_line(&s.line).ok())
            .map(|(hash, _)| hash.to_string());
        if hash.as_deref() != Some(head.hash.as_str()) {
            return Ok(Some(format!(
                "record {} is not the one the head names",
                head.seq
            )));
        }
    }
    let tree = StoredTree::new(log, indexed.size);
    for checkpoint in checkpoints.iter().filter(|c| c.size <= indexed.size) {
        match tree.root(checkpoint.size) {
            Ok(root) if merkle::to_hex(&root) == checkpoint.root => {}
            Ok(_) => {
                return Ok(Some(format!(
                    "the checkpoint of size {} does not have the index's root",
                    checkpoint.size
                )));
            }
            Err(err) => return Ok(Some(format!("{err:#}"))),
        }
    }
    Ok(None)
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Writer({}, {} records)", self.code, self.chain.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::files::Files;

    /// Found by fuzzing (tests/corpus/fuzz/journal-index-lags-status-events: three documents,
    /// the first suspended, then revoked): an index behind its journal, as a crash between a
    /// journal's sync and its index's commit leaves it, made a writer take the status a later
    /// event sets for the status before it, and refuse a sound registry ("makes record 1
    /// suspended, but it is revoked"). However far the index lags, a writer opens the registry
    /// and knows the status in force.
    #[test]
    fn a_writer_opens_a_sound_registry_however_far_its_index_lags() {
        let input = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/corpus/fuzz/journal-index-lags-status-events"),
        )
        .unwrap();
        // A fuzz input: the journal is its first section.
        let journal = match memchr::memmem::find(&input, b"\n\x1d") {
            Some(end) => &input[..end + 1],
            None => &input[..],
        };
        let lines: Vec<&[u8]> = journal.split_inclusive(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 5, "three documents and two status events");
        for indexed in 0..=lines.len() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("media/journal.jsonl");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, lines[..indexed].concat()).unwrap();
            let store = Files::new(dir.path());
            drop(Writer::open(&store, "media", Duration::ZERO).unwrap());
            std::fs::write(&path, journal).unwrap();
            let mut writer = Writer::open(&store, "media", Duration::ZERO)
                .unwrap_or_else(|err| panic!("index of {indexed} records: {err:#}"));
            assert_eq!(writer.len(), 5);
            writer
                .prefetch(&Wanted {
                    numbers: vec!["00001-Г".to_string()],
                    ..Wanted::default()
                })
                .unwrap();
            assert_eq!(
                writer.status_of(1),
                Some(Status::Revoked),
                "index of {indexed} records"
            );
        }
    }
}
