//! A registry's Merkle tree as its store keeps it: the complete subtrees of
//! [`NODE_LEVEL`](crate::store::NODE_LEVEL) and up are kept by the store's index, smaller ones are
//! computed from the records' hashes (at most a few hundred). Roots and proofs at any size then
//! cost a few dozen reads, not the whole registry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};

use super::merkle::{self, Frontier, Hash, Subtrees};
use crate::store::{Log, NODE_LEVEL};

/// The tree of the indexed records of `log`.
pub struct StoredTree<'a> {
    log: &'a dyn Log,
    /// How many records are indexed: no subtree beyond them is asked for.
    size: u64,
    cache: Option<&'a BlockCache>,
}

/// The inner nodes of complete blocks of `2^NODE_LEVEL` records (levels 1 to `NODE_LEVEL − 1`,
/// 254 hashes, 8 KiB a block), which a store does not keep and an inclusion proof otherwise
/// computes from the block's record hashes: about a thousand SHA-256 compressions a proof. For
/// a service answering many proofs (`qujat serve`); bounded (`capacity` blocks, an arbitrary one
/// dropped when full).
///
/// A complete block never changes in an append-only registry, so its nodes can be kept. If the
/// registry was replaced behind the service (a restore), kept nodes are wrong: a proof using them
/// then fails, and [`crate::registry::reader::Reader::vouch`] forgets the cache and proves again
/// without it, so the cache can delay an answer but never change it.
pub struct BlockCache {
    capacity: usize,
    blocks: Mutex<HashMap<u64, Arc<[Hash]>>>,
}

impl BlockCache {
    pub fn new(capacity: usize) -> BlockCache {
        BlockCache {
            capacity,
            blocks: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, block: u64) -> Option<Arc<[Hash]>> {
        self.blocks
            .lock()
            .expect("no panic while caching")
            .get(&block)
            .cloned()
    }

    pub(crate) fn put(&self, block: u64, nodes: Arc<[Hash]>) {
        if self.capacity == 0 {
            return;
        }
        let mut blocks = self.blocks.lock().expect("no panic while caching");
        if blocks.len() >= self.capacity
            && let Some(&any) = blocks.keys().next()
        {
            blocks.remove(&any);
        }
        blocks.insert(block, nodes);
    }

    /// Forgets every block.
    pub fn clear(&self) {
        self.blocks.lock().expect("no panic while caching").clear();
    }

    pub fn len(&self) -> usize {
        self.blocks.lock().expect("no panic while caching").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where the node (`level`, `index`) of a block's inner levels (1 to `NODE_LEVEL − 1`) is in
/// [`block_nodes`]' array: level 1's nodes first, then level 2's, and so on.
fn slot(level: u32, index: u64) -> usize {
    let before: usize = (1..level).map(|l| 1usize << (NODE_LEVEL - l)).sum();
    before + (index & ((1 << (NODE_LEVEL - level)) - 1)) as usize
}

/// The inner nodes of a block from its records' hashes.
fn block_nodes(hashes: &[[u8; 32]]) -> Arc<[Hash]> {
    let mut level: Vec<Hash> = hashes
        .iter()
        .map(|hash| {
            let mut hex = [0u8; 64];
            hex::encode_to_slice(hash, &mut hex).expect("64 digits for 32 bytes");
            merkle::leaf_hash(&hex)
        })
        .collect();
    let mut nodes = Vec::with_capacity((1 << NODE_LEVEL) - 2);
    for _ in 1..NODE_LEVEL {
        level = level
            .chunks(2)
            .map(|pair| merkle::node_hash(&pair[0], &pair[1]))
            .collect();
        nodes.extend_from_slice(&level);
    }
    nodes.into()
}

impl<'a> StoredTree<'a> {
    pub fn new(log: &'a dyn Log, size: u64) -> StoredTree<'a> {
        StoredTree {
            log,
            size,
            cache: None,
        }
    }

    /// The same tree, the inner nodes of complete blocks taken from and kept in `cache`.
    pub fn with_cache(self, cache: Option<&'a BlockCache>) -> StoredTree<'a> {
        StoredTree { cache, ..self }
    }

    /// The inner node (`level`, `index`), `0 < level < NODE_LEVEL`, of a complete block, from
    /// the cache or computed and kept there; `None` without a cache or for the last, incomplete
    /// block.
    fn cached(&self, level: u32, index: u64) -> Result<Option<Hash>> {
        let Some(cache) = self.cache.filter(|cache| cache.capacity > 0) else {
            return Ok(None);
        };
        let block = index >> (NODE_LEVEL - level);
        if (block + 1) << NODE_LEVEL > self.size {
            return Ok(None);
        }
        if let Some(nodes) = cache.get(block) {
            return Ok(Some(nodes[slot(level, index)]));
        }
        let first = (block << NODE_LEVEL) + 1;
        let last = (block + 1) << NODE_LEVEL;
        let hashes = self.log.hashes(first, last)?;
        if hashes.len() as u64 != last - first + 1 {
            bail!(
                "{}: its index lacks records {first}–{last}",
                self.log.describe()
            );
        }
        let nodes = block_nodes(&hashes);
        let node = nodes[slot(level, index)];
        cache.put(block, nodes);
        Ok(Some(node))
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
        if level > 0
            && level < NODE_LEVEL
            && let Some(node) = self.cached(level, index)?
        {
            return Ok(node);
        }
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
            let mut hex = [0u8; 64];
            hex::encode_to_slice(hash, &mut hex).expect("64 digits for 32 bytes");
            frontier.push(merkle::leaf_hash(&hex));
        }
        Ok(frontier.root())
    }
}
