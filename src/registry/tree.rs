//! A registry's Merkle tree as its store keeps it: the complete subtrees of
//! [`NODE_LEVEL`](crate::store::NODE_LEVEL) and up are kept by the store's index, smaller ones are
//! computed from the records' hashes (at most a few hundred). Roots and proofs at any size then
//! cost a few dozen reads, not the whole registry.

use anyhow::{Context, Result, bail};

use super::merkle::{self, Frontier, Hash, Subtrees};
use crate::store::{Log, NODE_LEVEL};

/// The tree of the indexed records of `log`.
pub struct StoredTree<'a> {
    log: &'a dyn Log,
    /// How many records are indexed: no subtree beyond them is asked for.
    size: u64,
}

impl<'a> StoredTree<'a> {
    pub fn new(log: &'a dyn Log, size: u64) -> StoredTree<'a> {
        StoredTree { log, size }
    }

    /// The root of the first `size` records.
    pub fn root(&self, size: u64) -> Result<Hash> {
        self.within(size)?;
        merkle::root(self, size)
    }

    /// The right edge of the first `size` records' tree.
    pub fn frontier(&self, size: u64) -> Result<Frontier> {
        self.within(size)?;
        Frontier::at(size, |level, index| self.subtree(level, index))
    }

    /// The audit path of record `seq` in the tree of `size` records.
    pub fn inclusion(&self, seq: u64, size: u64) -> Result<Vec<Hash>> {
        self.within(size)?;
        anyhow::ensure!(
            0 < seq && seq <= size,
            "record {seq} is not among the first {size}"
        );
        merkle::inclusion_path(self, seq - 1, size)
    }

    /// The consistency proof from `old` records to `new`.
    pub fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.within(new)?;
        anyhow::ensure!(
            0 < old && old <= new,
            "no consistency proof from {old} to {new}"
        );
        merkle::consistency_path(self, old, new)
    }

    fn within(&self, size: u64) -> Result<()> {
        if size > self.size {
            bail!(
                "{}: its index covers {} records, not {size}",
                self.log.describe(),
                self.size
            );
        }
        Ok(())
    }
}

impl Subtrees for StoredTree<'_> {
    type Error = anyhow::Error;

    fn subtree(&self, level: u32, index: u64) -> Result<Hash> {
        if level >= NODE_LEVEL {
            return self.log.node(level, index)?.with_context(|| {
                format!(
                    "{}: its index lacks the Merkle node ({level}, {index})",
                    self.log.describe()
                )
            });
        }
        let first = (index << level) + 1;
        let last = (index + 1) << level;
        let hashes = self.log.hashes(first, last)?;
        if hashes.len() as u64 != last - first + 1 {
            bail!(
                "{}: its index lacks records {first}–{last}",
                self.log.describe()
            );
        }
        let mut frontier = Frontier::default();
        for hash in hashes {
            frontier.push(super::checkpoint::leaf(&hex::encode(hash)));
        }
        Ok(frontier.root())
    }
}
