//! Merkle checkpoints: besides its hash chain, every registry is an RFC 9162 Merkle tree whose
//! leaves are its records in order, and each batch ends by appending a checkpoint — the tree's
//! size and root — to the registry's store.
//!
//! A checkpoint published elsewhere (a ministry's website, a letter) lets anyone check offline,
//! with a short proof, that a document's record is in the registry
//! ([`InclusionProof`]), and that a later registry only grew from an earlier one: the roots of
//! all earlier checkpoints must be the roots of the same-sized prefixes of today's tree, which
//! `registry check` recomputes, and which a [`ConsistencyProof`] shows to a third party.
//!
//! A leaf is the record's hash as its journal line gives it (64 hex digits): that hash covers
//! the record's canonical bytes, so the tree covers them too. `leaf = SHA-256(0x00 || hash)`.

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};

use super::merkle::{self, Frontier, Hash, Tree};
use super::record::{Record, sha256_hex};
use super::tree::StoredTree;
use crate::store::{Log, Node};

/// The tree's size and root after a batch, and — when the registry signs its checkpoints — the
/// same as a C2SP signed note (see [`super::note`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub size: u64,
    /// The Merkle tree head (hex).
    pub root: String,
    /// The signed note: origin, size and root, signed by the registry's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Checkpoint {
    /// Its text as a store keeps it: one line of JSON.
    pub fn text(&self) -> String {
        serde_json::to_string(self).expect("checkpoints serialise")
    }

    /// The checkpoint of `size` records with root `root`, signed when a signer is given.
    pub fn new(
        size: u64,
        root: &Hash,
        signer: Option<(&super::note::NoteSigner, &str)>,
    ) -> Result<Checkpoint> {
        let note = signer
            .map(|(signer, origin)| signer.sign(&super::note::checkpoint_text(origin, size, root)))
            .transpose()?;
        Ok(Checkpoint {
            size,
            root: merkle::to_hex(root),
            note,
        })
    }

    /// Whether its signed note holds under `verifier` and says what the checkpoint says.
    pub fn check_signature(&self, verifier: &super::note::NoteVerifier) -> Result<(), String> {
        let Some(note) = &self.note else {
            return Err("it is not signed".to_string());
        };
        let text = verifier.open(note).map_err(|e| format!("{e:#}"))?;
        let (_, size, root) =
            super::note::parse_checkpoint_text(text).map_err(|e| format!("{e:#}"))?;
        if size != self.size || merkle::to_hex(&root) != self.root {
            return Err(format!(
                "its signed note says {size} records with root {}, not what it says",
                merkle::to_hex(&root)
            ));
        }
        Ok(())
    }

    /// A checkpoint as published: a line of JSON as registries keep them, or a signed note
    /// (which `verifier` must have signed).
    pub fn read_published(
        text: &str,
        verifier: Option<&super::note::NoteVerifier>,
    ) -> Result<Checkpoint> {
        let trimmed = text.trim();
        if trimmed.starts_with('{') {
            let line = trimmed
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .context("the checkpoint file is empty")?;
            let checkpoint: Checkpoint = serde_json::from_str(line.trim())
                .context("not a checkpoint ({\"size\":…,\"root\":\"…\"})")?;
            if let (Some(verifier), Some(_)) = (verifier, &checkpoint.note) {
                checkpoint
                    .check_signature(verifier)
                    .map_err(|why| anyhow::anyhow!("its signature: {why}"))?;
            }
            return Ok(checkpoint);
        }
        let verifier = verifier.context(
            "a signed checkpoint needs the registry's public key to be checked (--key FILE, or \
             [checkpoints] verifier in qujat.toml)",
        )?;
        let note = format!("{}\n", text.trim_end_matches('\n'));
        let opened = verifier.open(&note)?;
        let (_, size, root) = super::note::parse_checkpoint_text(opened)?;
        Ok(Checkpoint {
            size,
            root: merkle::to_hex(&root),
            note: Some(note),
        })
    }
}

/// The leaf of a record whose hash (hex) is `hash`.
pub fn leaf(hash: &str) -> Hash {
    merkle::leaf_hash(hash.as_bytes())
}

/// The checkpoints of a store's texts, oldest first; one that is not a checkpoint is an error
/// naming it.
pub fn parse_all(texts: &[Vec<u8>]) -> Result<Vec<Checkpoint>> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            serde_json::from_slice(text)
                .with_context(|| format!("checkpoint {}: not a checkpoint", i + 1))
        })
        .collect()
}

/// The checkpoints of a registry, oldest first.
pub fn load(log: &dyn Log) -> Result<Vec<Checkpoint>> {
    parse_all(&log.checkpoints()?).with_context(|| log.describe())
}

/// What is wrong with `checkpoints` given the tree of the journal as read: each must be the
/// root of the same-sized prefix of the tree, and sizes must grow. A record changed, removed or
/// reordered after a checkpoint was made changes that prefix's root.
pub fn problems(checkpoints: &[Checkpoint], tree: &impl Roots) -> Vec<String> {
    let mut problems = Vec::new();
    let mut last = 0;
    for (i, checkpoint) in checkpoints.iter().enumerate() {
        let line = i + 1;
        if checkpoint.size < last {
            problems.push(format!(
                "checkpoint {line} (size {}) is smaller than the one before it ({last}): \
                 checkpoints only grow",
                checkpoint.size
            ));
        }
        last = checkpoint.size;
        match tree.root_of(checkpoint.size) {
            None => problems.push(format!(
                "checkpoint {line} covers {} records, but the journal has {}: records were \
                 removed",
                checkpoint.size,
                tree.size()
            )),
            Some(root) if merkle::to_hex(&root) != checkpoint.root => problems.push(format!(
                "checkpoint {line} (size {}): the first {} records no longer have its root: \
                 records were changed, removed or reordered after it was made",
                checkpoint.size, checkpoint.size
            )),
            Some(_) => {}
        }
    }
    problems
}

/// What checking checkpoints needs of a tree: its size, and its root at each earlier size.
pub trait Roots {
    fn size(&self) -> u64;
    /// The root of the first `size` leaves; `None` beyond the tree.
    fn root_of(&self, size: u64) -> Option<Hash>;
}

impl Roots for Tree {
    fn size(&self) -> u64 {
        self.len()
    }

    fn root_of(&self, size: u64) -> Option<Hash> {
        self.root_at(size)
    }
}

/// A [`Frontier`] that keeps its roots at the sizes of a registry's checkpoints as it grows,
/// so that a writer checks them in the one pass that reads the journal, without the whole tree.
#[derive(Debug, Default)]
pub struct Watched {
    pub frontier: Frontier,
    roots: std::collections::BTreeMap<u64, Option<Hash>>,
}

impl Watched {
    /// A frontier watching the sizes of `checkpoints`.
    pub fn new(checkpoints: &[Checkpoint]) -> Watched {
        Watched::resume(Frontier::default(), checkpoints)
    }

    /// A frontier going on from `frontier`, watching the sizes of `checkpoints` (those beyond
    /// it).
    pub fn resume(frontier: Frontier, checkpoints: &[Checkpoint]) -> Watched {
        let mut roots: std::collections::BTreeMap<u64, Option<Hash>> =
            checkpoints.iter().map(|c| (c.size, None)).collect();
        if let Some(empty) = roots.get_mut(&0) {
            *empty = Some(merkle::empty_root());
        }
        if let Some(now) = roots.get_mut(&frontier.len()) {
            *now = Some(frontier.root());
        }
        Watched { frontier, roots }
    }

    pub fn push(&mut self, leaf: Hash) {
        self.frontier.push(leaf);
        self.watch();
    }

    /// Like [`push`](Self::push), keeping the Merkle nodes a store keeps that the leaf completes.
    pub fn push_completing(&mut self, leaf: Hash, nodes: &mut Vec<Node>) {
        self.frontier.push_completing(leaf, |level, index, hash| {
            super::writer::keep_node(nodes, level, index, hash)
        });
        self.watch();
    }

    fn watch(&mut self) {
        if let Some(root) = self.roots.get_mut(&self.frontier.len()) {
            *root = Some(self.frontier.root());
        }
    }
}

impl Roots for Watched {
    fn size(&self) -> u64 {
        self.frontier.len()
    }

    fn root_of(&self, size: u64) -> Option<Hash> {
        self.roots.get(&size).copied().flatten()
    }
}

/// The Merkle tree of a registry's records as their lines' hashes give it (not re-hashing the
/// records: a proof carries the record, whose hash the verifier computes): the whole journal read.
pub fn tree_of(log: &dyn Log) -> Result<Tree> {
    let mut tree = Tree::new();
    log.scan(1, &mut |block| {
        for (seq, line) in block.lines() {
            let hash = line
                .get(9..73)
                .filter(|_| line.starts_with(b"{\"hash\":\""))
                .and_then(|h| std::str::from_utf8(h).ok())
                .with_context(|| format!("{}, record {seq}: not a record", log.describe()))?;
            tree.push(leaf(hash));
        }
        Ok(())
    })?;
    Ok(tree)
}

/// Proof that a record is leaf `index` of the tree a checkpoint names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    pub registry: String,
    /// The record's canonical text, exactly as hashed: the verifier hashes it itself.
    pub record: String,
    /// The record's place in the tree (`seq - 1`).
    pub index: u64,
    pub checkpoint: Checkpoint,
    /// The audit path, leaf to root (hex).
    pub path: Vec<String>,
}

/// Proof that the tree of checkpoint `new` extends the tree of checkpoint `old`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub registry: String,
    pub old: Checkpoint,
    pub new: Checkpoint,
    pub path: Vec<String>,
}

/// Either proof, as `qujat verify --proof` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "proof", rename_all = "kebab-case")]
pub enum Proof {
    Inclusion(InclusionProof),
    Consistency(ConsistencyProof),
}

/// The inclusion proof of `record` (at `seq`) against the latest checkpoint of `log`: from the
/// kept Merkle nodes when its index covers the checkpoint, else from the whole journal.
pub fn prove_inclusion(log: &dyn Log, seq: u64, record: &Record) -> Result<InclusionProof> {
    let checkpoints = load(log)?;
    let Some(checkpoint) = checkpoints.last() else {
        bail!(
            "registry {} has no checkpoint yet: the next batch makes one",
            log.code()
        );
    };
    ensure!(
        seq <= checkpoint.size,
        "record {seq} is newer than the last checkpoint (size {}): the next batch's checkpoint \
         covers it",
        checkpoint.size
    );
    let indexed = log.indexed()?.size;
    let (root, path) = if checkpoint.size <= indexed {
        let tree = StoredTree::new(log, indexed);
        (
            tree.root(checkpoint.size)?,
            tree.inclusion(seq, checkpoint.size)?,
        )
    } else {
        let tree = tree_of(log)?;
        let root = tree.root_at(checkpoint.size).context(
            "the journal is shorter than its last checkpoint: run `qujat registry check`",
        )?;
        let path = tree
            .inclusion_proof(seq - 1, checkpoint.size)
            .expect("seq is within the checkpoint");
        (root, path)
    };
    ensure!(
        merkle::to_hex(&root) == checkpoint.root,
        "the journal no longer has its last checkpoint's root: run `qujat registry check`"
    );
    Ok(InclusionProof {
        registry: log.code().to_string(),
        record: record.canonical(),
        index: seq - 1,
        checkpoint: checkpoint.clone(),
        path: path.iter().map(merkle::to_hex).collect(),
    })
}

/// The consistency proof from the checkpoint of size `old` to the latest checkpoint.
pub fn prove_consistency(log: &dyn Log, old: u64) -> Result<ConsistencyProof> {
    let checkpoints = load(log)?;
    let (Some(old), Some(new)) = (
        checkpoints.iter().find(|c| c.size == old),
        checkpoints.last(),
    ) else {
        bail!(
            "registry {} has no checkpoint of size {old} (sizes: {})",
            log.code(),
            checkpoints
                .iter()
                .map(|c| c.size.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let tree = tree_of(log)?;
    let problems = problems(&checkpoints, &tree);
    ensure!(problems.is_empty(), "{}", problems.join("; "));
    let path = tree
        .consistency_proof(old.size, new.size)
        .context("the old checkpoint must not be empty")?;
    Ok(ConsistencyProof {
        registry: log.code().to_string(),
        old: old.clone(),
        new: new.clone(),
        path: path.iter().map(merkle::to_hex).collect(),
    })
}

fn hashes(path: &[String]) -> Result<Vec<Hash>> {
    path.iter()
        .map(|h| merkle::from_hex(h).with_context(|| format!("{h:?} is not a SHA-256 in hex")))
        .collect()
}

fn root_of(checkpoint: &Checkpoint) -> Result<Hash> {
    merkle::from_hex(&checkpoint.root).context("the checkpoint's root is not a SHA-256 in hex")
}

/// Checks an inclusion proof offline; returns the record it proves.
pub fn verify_inclusion(proof: &InclusionProof) -> Result<Record> {
    let hash = sha256_hex(proof.record.as_bytes());
    merkle::verify_inclusion(
        &leaf(&hash),
        proof.index,
        proof.checkpoint.size,
        &hashes(&proof.path)?,
        &root_of(&proof.checkpoint)?,
    )
    .context("the record is not in the tree of the checkpoint (altered record or proof)")?;
    let record: Record =
        serde_json::from_str(&proof.record).context("the proven record is not a record")?;
    ensure!(
        record.seq == proof.index + 1,
        "the record says it is record {}, the proof places it at {}",
        record.seq,
        proof.index + 1
    );
    Ok(record)
}

/// Checks a consistency proof offline.
pub fn verify_consistency(proof: &ConsistencyProof) -> Result<()> {
    merkle::verify_consistency(
        proof.old.size,
        proof.new.size,
        &root_of(&proof.old)?,
        &root_of(&proof.new)?,
        &hashes(&proof.path)?,
    )
    .context("the new checkpoint's tree does not extend the old one's")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watched_frontier_finds_what_the_whole_tree_finds() {
        let leaves: Vec<Hash> = (0..40u64).map(|i| leaf(&format!("{i:064x}"))).collect();
        let mut tree = Tree::new();
        for leaf in &leaves {
            tree.push(*leaf);
        }
        let good = |size: u64| Checkpoint {
            size,
            root: merkle::to_hex(&tree.root_at(size).unwrap()),
            note: None,
        };
        let sets = [
            vec![good(0), good(1), good(17), good(32), good(40)],
            // A root that is not the prefix's, one beyond the journal, and one that shrinks.
            vec![
                good(5),
                Checkpoint {
                    size: 9,
                    root: good(8).root,
                    note: None,
                },
                good(31),
                Checkpoint {
                    size: 41,
                    root: good(40).root,
                    note: None,
                },
                good(3),
            ],
            vec![],
        ];
        for checkpoints in &sets {
            let mut watched = Watched::new(checkpoints);
            for leaf in &leaves {
                watched.push(*leaf);
            }
            assert_eq!(watched.frontier.root(), tree.root());
            assert_eq!(
                problems(checkpoints, &watched),
                problems(checkpoints, &tree),
                "{checkpoints:?}"
            );
        }
        // The second set has its three problems.
        let mut watched = Watched::new(&sets[1]);
        for leaf in &leaves {
            watched.push(*leaf);
        }
        assert_eq!(problems(&sets[1], &watched).len(), 3);
    }
}
