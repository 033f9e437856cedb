//! Reading registries without their lock: what `verify`, `export`, `regenerate`, `serve` and
//! `registry check` see while a batch may be writing. A reader sees a consistent prefix of each
//! registry — a record being appended is seen whole or not at all — and never blocks the writer.
//!
//! Lookups go through the store's index; each record found is read and checked (its hash, its
//! place, and that it is what was looked for), so an index that lags or lies costs time, never a
//! wrong answer. Whether a record is part of the registry's verified history — linked to its
//! neighbours and included in a checkpoint — is a separate, explicit question
//! ([`Reader::vouch`]): a record can hash correctly and still be one the chain disowns.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};

use super::checkpoint::{self, Checkpoint};
use super::merkle;
use super::record::{
    DocumentEntry, GENESIS, Record, StatusEntry, parse_brief, parse_line, split_line,
};
use super::tree::StoredTree;
use crate::store::{Listed, Log, Lookup, Store};

/// One registry, opened for reading.
pub struct Reader {
    pub code: String,
    log: Box<dyn Log>,
    /// Where inclusion proofs keep the inner nodes of complete blocks (a service's readers).
    cache: Option<std::sync::Arc<super::tree::BlockCache>>,
}

/// A record found in a registry.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its position (equal to its `seq`: a record found elsewhere is not returned).
    pub seq: u64,
    pub hash: String,
    pub record: Record,
}

impl Found {
    /// The document the record registers (every finder but [`Reader::events`] finds only
    /// documents).
    pub fn document(&self) -> &DocumentEntry {
        self.record
            .document()
            .expect("finders return document records")
    }
}

/// Whether a record belongs to its registry's verified history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vouch {
    /// Linked to its neighbours and included in the checkpoint of `size` records, whose root is
    /// `root`.
    Verified { size: u64, root: String },
    /// Linked to its neighbours, but newer than any checkpoint (a batch still running, or one
    /// that stopped before its checkpoint).
    Unconfirmed(String),
    /// The registry's history does not hold it as it stands: why.
    Disowned(String),
}

impl Reader {
    /// Opens registry `code` of `store`; it must exist.
    pub fn open(store: &dyn Store, code: &str) -> Result<Reader> {
        match store.log(code)? {
            Some(log) => Ok(Reader {
                code: code.to_string(),
                log,
                cache: None,
            }),
            None => {
                let known: Vec<String> = store
                    .registries()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|l| l.code)
                    .collect();
                bail!(
                    "there is no registry {code:?} in {} (registries there: {})",
                    store.describe(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
        }
    }

    /// Every readable registry of `store`, and those it lists that cannot be read.
    pub fn all(store: &dyn Store) -> Result<(Vec<Reader>, Vec<Listed>)> {
        let mut readers = Vec::new();
        let mut broken = Vec::new();
        for listed in store.registries()? {
            if listed.problem.is_some() {
                broken.push(listed);
                continue;
            }
            match store.log(&listed.code) {
                Ok(Some(log)) => readers.push(Reader {
                    code: listed.code,
                    log,
                    cache: None,
                }),
                Ok(None) => {}
                Err(err) => broken.push(Listed {
                    code: listed.code,
                    problem: Some(format!("{err:#}")),
                }),
            }
        }
        Ok((readers, broken))
    }

    pub fn log(&self) -> &dyn Log {
        self.log.as_ref()
    }

    /// Where its records are, for messages.
    pub fn describe(&self) -> String {
        self.log.describe()
    }

    /// The records at `seqs` that `keep` accepts, each checked: its hash, and that it is the
    /// record of its position.
    fn read_checked(
        &self,
        seqs: &[u64],
        mut keep: impl FnMut(&Record) -> bool,
    ) -> Result<Vec<Found>> {
        let mut seqs = seqs.to_vec();
        seqs.sort_unstable();
        seqs.dedup();
        let mut found = Vec::new();
        for stored in self.log.read(&seqs)? {
            let (hash, record) = parse_line(&stored.line)
                .with_context(|| format!("{}, record {}", self.log.describe(), stored.seq))?;
            if record.seq != stored.seq {
                bail!(
                    "{}: record {} stands where record {} should (run `qujat registry check`)",
                    self.log.describe(),
                    record.seq,
                    stored.seq
                );
            }
            if keep(&record) {
                found.push(Found {
                    seq: stored.seq,
                    hash,
                    record,
                });
            }
        }
        Ok(found)
    }

    /// The documents numbered `number` (one, unless two sequences write numbers alike).
    pub fn by_number(&self, number: &str) -> Result<Vec<Found>> {
        let seqs = self.log.find(&Lookup::Number(number))?;
        self.read_checked(&seqs, |r| r.document().is_some_and(|d| d.number == number))
    }

    /// The documents issued for case `case_id`.
    pub fn by_case(&self, case_id: &str) -> Result<Vec<Found>> {
        let seqs = self.log.find(&Lookup::Case(case_id))?;
        self.read_checked(&seqs, |r| {
            r.document().is_some_and(|d| d.case_id == case_id)
        })
    }

    /// The documents whose PDF has SHA-256 `sha256` (hex).
    pub fn by_pdf(&self, sha256: &str) -> Result<Vec<Found>> {
        let seqs = self.log.find(&Lookup::Pdf(sha256))?;
        self.read_checked(&seqs, |r| {
            r.document().is_some_and(|d| d.pdf.sha256 == sha256)
        })
    }

    /// The same reader, its inclusion proofs keeping the inner nodes of complete blocks in
    /// `cache` (shared by a service's readers of this registry).
    pub fn with_block_cache(mut self, cache: std::sync::Arc<super::tree::BlockCache>) -> Reader {
        self.cache = Some(cache);
        self
    }

    /// The document `found` is, with its status in force, `found` moved into it rather than
    /// copied (its data is most of a record).
    pub fn into_document(&self, found: Found) -> Result<super::Document> {
        let status = self.status_event(found.seq)?;
        let crate::registry::Entry::Document(entry) = found.record.entry else {
            anyhow::bail!("finders return document records");
        };
        Ok(super::Document::new(
            &self.code,
            found.seq,
            &found.hash,
            entry,
            status,
        ))
    }

    /// The document `found` is, with its status in force.
    pub fn document(&self, found: &Found) -> Result<super::Document> {
        Ok(super::Document::new(
            &self.code,
            found.seq,
            &found.hash,
            found.document().clone(),
            self.status_event(found.seq)?,
        ))
    }

    /// The status events of the document at `seq`, in order.
    pub fn events(&self, seq: u64) -> Result<Vec<StatusEntry>> {
        let seqs = self.log.find(&Lookup::Events(seq))?;
        Ok(self
            .read_checked(&seqs, |r| r.status().is_some_and(|e| e.target == seq))?
            .into_iter()
            .filter_map(|f| f.record.status().cloned())
            .collect())
    }

    /// The last status event of the document at `seq`, if its status ever changed.
    pub fn status_event(&self, seq: u64) -> Result<Option<StatusEntry>> {
        Ok(self.events(seq)?.pop())
    }

    /// The last status event of every document whose status ever changed, by the position of
    /// the document's record (status events are few: they are looked up, not scanned for).
    pub fn statuses(&self) -> Result<HashMap<u64, StatusEntry>> {
        let seqs = self.log.find(&Lookup::Statuses)?;
        let mut statuses = HashMap::new();
        for found in self.read_checked(&seqs, |r| r.status().is_some())? {
            let event = found.record.status().expect("kept status events only");
            statuses.insert(event.target, event.clone());
        }
        Ok(statuses)
    }

    /// The checkpoints of the registry, oldest first.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        checkpoint::load(self.log.as_ref())
    }

    /// Whether `found` belongs to the registry's verified history: its `prev` names the record
    /// before it, the record after it (if any) names it, and it is included in the checkpoint
    /// `trusted` (by default the newest the registry has) by an inclusion proof checked against
    /// that checkpoint's root.
    pub fn vouch(&self, found: &Found, trusted: Option<&Checkpoint>) -> Result<Vouch> {
        let seq = found.seq;
        let neighbours = self.log.read(&[seq.saturating_sub(1), seq + 1])?;
        let hash_at = |at: u64| {
            neighbours
                .iter()
                .find(|s| s.seq == at)
                .map(|s| split_line(&s.line).map(|(hash, _)| hash.to_string()))
        };
        if seq > 1 {
            match hash_at(seq - 1) {
                Some(Ok(hash)) if hash == found.record.prev => {}
                Some(Ok(_)) => {
                    return Ok(Vouch::Disowned(format!(
                        "its record ({seq}) does not name the record before it: the registry \
                         was changed around it (run `qujat registry check`)"
                    )));
                }
                _ => {
                    return Ok(Vouch::Disowned(format!(
                        "the record before its record ({seq}) cannot be read: the registry is \
                         damaged (run `qujat registry check`)"
                    )));
                }
            }
        } else if found.record.prev != GENESIS {
            return Ok(Vouch::Disowned(
                "its record is the first, but names a record before it".to_string(),
            ));
        }
        if let Some(next) = neighbours.iter().find(|s| s.seq == seq + 1) {
            // Only its link is needed: its hash checked, its fields read without its data.
            let names_it = split_line(&next.line)
                .and_then(|(_, body)| parse_brief(body))
                .map(|record| record.prev == found.hash)
                .unwrap_or(false);
            if !names_it {
                return Ok(Vouch::Disowned(format!(
                    "the record after its record ({seq}) does not name it: its record was \
                     changed after it was registered (run `qujat registry check`)"
                )));
            }
        }
        let newest;
        let checkpoint = match trusted {
            Some(trusted) => trusted,
            None => match self.checkpoints()?.pop() {
                Some(last) => {
                    newest = last;
                    &newest
                }
                None => {
                    return Ok(Vouch::Unconfirmed(
                        "the registry has no checkpoint yet".to_string(),
                    ));
                }
            },
        };
        if seq > checkpoint.size {
            return Ok(Vouch::Unconfirmed(format!(
                "it is newer than the checkpoint of {} records (the batch that issued it has not \
                 finished)",
                checkpoint.size
            )));
        }
        let indexed = self.log.indexed()?.size;
        let leaf = checkpoint::leaf(&found.hash);
        if checkpoint.size <= indexed
            && let Some(cache) = &self.cache
        {
            // Nodes kept from another history (a registry restored behind the service) make a
            // sound record's proof fail: then the proof is made again without them.
            let cached = StoredTree::new(self.log.as_ref(), indexed)
                .with_cache(Some(cache))
                .inclusion(seq, checkpoint.size);
            if let (Ok(path), Some(root)) = (&cached, merkle::from_hex(&checkpoint.root))
                && merkle::verify_inclusion(&leaf, seq - 1, checkpoint.size, path, &root).is_ok()
            {
                return Ok(Vouch::Verified {
                    size: checkpoint.size,
                    root: checkpoint.root.clone(),
                });
            }
            cache.clear();
        }
        let path = if checkpoint.size <= indexed {
            StoredTree::new(self.log.as_ref(), indexed).inclusion(seq, checkpoint.size)
        } else {
            checkpoint::tree_of(self.log.as_ref()).and_then(|tree| {
                tree.inclusion_proof(seq - 1, checkpoint.size)
                    .context("the registry is shorter than its checkpoint")
            })
        };
        let path = match path {
            Ok(path) => path,
            Err(err) => {
                return Ok(Vouch::Disowned(format!(
                    "its inclusion in the checkpoint of {} records cannot be shown: {err:#}",
                    checkpoint.size
                )));
            }
        };
        let Some(root) = merkle::from_hex(&checkpoint.root) else {
            return Ok(Vouch::Disowned(format!(
                "the checkpoint of {} records has no readable root",
                checkpoint.size
            )));
        };
        match merkle::verify_inclusion(&leaf, seq - 1, checkpoint.size, &path, &root) {
            Ok(()) => Ok(Vouch::Verified {
                size: checkpoint.size,
                root: checkpoint.root.clone(),
            }),
            Err(_) => Ok(Vouch::Disowned(format!(
                "its record is not the one the checkpoint of {} records includes: it was \
                 changed after that checkpoint (run `qujat registry check`)",
                checkpoint.size
            ))),
        }
    }

    /// What a quick look finds wrong with the registry as a whole, besides any one record: a
    /// missing head, a head its journal does not have, fewer checkpoints than a writer saw.
    pub fn caveats(&self) -> Result<Vec<String>> {
        let mut caveats = Vec::new();
        let head = self.log.head()?;
        let indexed = self.log.indexed()?;
        let checkpoints = self.log.checkpoints()?.len() as u64;
        match head {
            None => caveats
                .push("it has no head: records cut off its end could not be noticed".to_string()),
            Some(head) => {
                let stored = self.log.read(&[head.seq])?;
                let hash = stored
                    .first()
                    .and_then(|s| split_line(&s.line).ok())
                    .map(|(hash, _)| hash.to_string());
                if hash.as_deref() != Some(head.hash.as_str()) {
                    caveats.push(format!(
                        "its head names record {} with a hash the registry does not have \
                         there: records were removed or replaced",
                        head.seq
                    ));
                }
            }
        }
        if checkpoints < indexed.checkpoints {
            caveats.push(format!(
                "it has {checkpoints} checkpoints, but had {} when a writer last looked",
                indexed.checkpoints
            ));
        }
        Ok(caveats)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::registry::record::tests::sample;
    use crate::registry::tree::{BlockCache, StoredTree};
    use crate::registry::writer::Writer;
    use crate::store::memory::Memory;

    /// A registry of `n` sample records, checkpointed.
    fn registry(n: u64) -> Memory {
        let store = Memory::new();
        let mut writer = Writer::open(&store, "media", Duration::ZERO).unwrap();
        for _ in 0..n {
            let (seq, prev) = writer.next_link();
            writer.stage(&sample(seq, &prev)).unwrap();
        }
        writer.write_head().unwrap();
        store
    }

    #[test]
    fn proofs_through_the_block_cache_are_the_proofs_without_it() {
        let store = registry(700);
        let reader = Reader::open(&store, "media").unwrap();
        let log = reader.log();
        let indexed = log.indexed().unwrap().size;
        assert_eq!(indexed, 700);
        let cache = BlockCache::new(16);
        for size in [1, 255, 256, 257, 512, 699, 700] {
            for seq in (1..=size).step_by(7).chain([size]) {
                let plain = StoredTree::new(log, indexed).inclusion(seq, size).unwrap();
                let cached = StoredTree::new(log, indexed)
                    .with_cache(Some(&cache))
                    .inclusion(seq, size)
                    .unwrap();
                assert_eq!(plain, cached, "record {seq} in {size}");
            }
        }
        // Blocks 0 and 1 are complete; block 2 (records 513–768) is not, and is never kept.
        assert_eq!(cache.len(), 2);
        // A cache of no blocks keeps none, and proves as without one.
        let none = BlockCache::new(0);
        for seq in [1, 300, 700] {
            assert_eq!(
                StoredTree::new(log, indexed).inclusion(seq, 700).unwrap(),
                StoredTree::new(log, indexed)
                    .with_cache(Some(&none))
                    .inclusion(seq, 700)
                    .unwrap()
            );
        }
        assert!(none.is_empty());
    }

    #[test]
    fn nodes_kept_from_another_history_delay_an_answer_but_never_change_it() {
        let store = registry(600);
        let cache = Arc::new(BlockCache::new(16));
        // What a registry restored behind the service leaves: nodes of other records.
        cache.put(0, vec![[7u8; 32]; 254].into());
        let reader = Reader::open(&store, "media")
            .unwrap()
            .with_block_cache(cache.clone());
        for number in ["00005-Г", "00300-Г", "00600-Г"] {
            let found = reader.by_number(number).unwrap().remove(0);
            assert!(
                matches!(
                    reader.vouch(&found, None).unwrap(),
                    Vouch::Verified { size: 600, .. }
                ),
                "{number}"
            );
        }
        // The wrong block was forgotten and the right one kept instead.
        let found = reader.by_number("00005-Г").unwrap().remove(0);
        assert!(matches!(
            reader.vouch(&found, None).unwrap(),
            Vouch::Verified { .. }
        ));
        assert!(!cache.is_empty());
    }
}
