//! RFC 9162 (Certificate Transparency v2) Merkle trees over registry records.
//!
//! Each record becomes one leaf. A tree head (size and root) commits to every record up to that
//! size; an inclusion proof shows that one record is under a head, and a consistency proof shows
//! that a later head only appended to an earlier one. Hashing is SHA-256 with the RFC's domain
//! separation (0x00 before leaf data, 0x01 before two child hashes), so a leaf can never be
//! passed off as an inner node, and the roots and proofs match any RFC 6962/9162 implementation.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, an inner node hash or a tree root.
pub type Hash = [u8; 32];

/// The leaf hash of one record, SHA-256(0x00 || data) (RFC 9162 §2.1.1); the 0x00 prefix keeps
/// leaves apart from inner nodes.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The hash of an inner node, SHA-256(0x01 || left || right) (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree, SHA-256 of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// The largest power of two strictly below `n` (`n >= 2`): where RFC 9162 splits a tree of `n`
/// leaves into a left and a right subtree.
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// An append-only Merkle tree over leaf hashes, answering roots and proofs for the whole tree
/// and for every earlier size.
///
/// Besides the leaves it keeps the hash of every complete, aligned subtree (levels 1, 2, …: about
/// one more hash per leaf), updated as leaves are pushed. Any subtree the RFC's recursion asks
/// for is then a chain of at most log₂ n cached hashes, so `push` is amortised O(1), `root` and
/// `root_at` are O(log n) and proofs O(log² n), with no leaf ever hashed twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// The leaf hashes, in order.
    leaves: Vec<Hash>,
    /// `nodes[k - 1][i]` is the root of leaves `i·2^k .. (i+1)·2^k`; only complete subtrees.
    nodes: Vec<Vec<Hash>>,
}

/// The right edge of a tree: the root of each of its complete subtrees, largest first, one per
/// set bit of its size. All a registry's writer needs to append leaves and know the root at
/// any size, in O(log n) memory (a whole [`Tree`] keeps about 64 bytes per leaf).
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    len: u64,
    /// (height, root) of each complete subtree, left to right.
    peaks: Vec<(u32, Hash)>,
}

impl Frontier {
    /// Appends a leaf hash (see [`leaf_hash`]), merging the subtrees it completes.
    pub fn push(&mut self, leaf: Hash) {
        self.push_completing(leaf, |_, _, _| {});
    }

    /// Like [`push`](Self::push), calling `completed(level, index, hash)` for every complete
    /// subtree it closes (leaves `index·2^level .. (index+1)·2^level`), the leaf's own included
    /// (level 0).
    pub fn push_completing(&mut self, leaf: Hash, mut completed: impl FnMut(u32, u64, &Hash)) {
        self.len += 1;
        let (mut height, mut hash) = (0, leaf);
        completed(0, self.len - 1, &hash);
        while let Some(&(left_height, left)) = self.peaks.last() {
            if left_height != height {
                break;
            }
            self.peaks.pop();
            hash = node_hash(&left, &hash);
            height += 1;
            completed(height, (self.len >> height) - 1, &hash);
        }
        self.peaks.push((height, hash));
    }

    /// The frontier of a tree of `len` leaves from its complete subtrees, given by
    /// `subtree(level, index)`: one per set bit of `len`.
    pub fn at<E>(len: u64, subtree: impl Fn(u32, u64) -> Result<Hash, E>) -> Result<Frontier, E> {
        let mut peaks = Vec::new();
        let mut start = 0u64;
        for level in (0..u64::BITS).rev() {
            if len & (1u64 << level) != 0 {
                peaks.push((level, subtree(level, start >> level)?));
                start += 1u64 << level;
            }
        }
        Ok(Frontier { len, peaks })
    }

    /// How many leaves it has had.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `MTH` of the leaves pushed: RFC 9162 splits at the largest power of two below the size,
    /// so the root folds the complete subtrees from the right.
    pub fn root(&self) -> Hash {
        match self.peaks.split_last() {
            None => empty_root(),
            Some((&(_, last), rest)) => rest
                .iter()
                .rev()
                .fold(last, |right, (_, left)| node_hash(left, &right)),
        }
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash (see [`leaf_hash`]), completing the subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        self.leaves.push(leaf);
        let mut level = 0;
        let mut len = self.leaves.len();
        // As in a binary counter, each level that now holds an even count closes a pair.
        while len.is_multiple_of(2) {
            let below = self.level(level);
            let parent = node_hash(&below[len - 2], &below[len - 1]);
            if self.nodes.len() == level {
                self.nodes.push(Vec::new());
            }
            self.nodes[level].push(parent);
            len = self.nodes[level].len();
            level += 1;
        }
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The leaf hashes, in order.
    pub fn leaves(&self) -> &[Hash] {
        &self.leaves
    }

    /// The root of the whole tree, `MTH(D[0:n])`; for the empty tree, [`empty_root`].
    pub fn root(&self) -> Hash {
        if self.leaves.is_empty() {
            empty_root()
        } else {
            self.range(0, self.leaves.len())
        }
    }

    /// The root of the tree made of the first `size` leaves, as it was when it had that size;
    /// `None` if the tree has fewer leaves.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        let size = self.size(size)?;
        Some(if size == 0 {
            empty_root()
        } else {
            self.range(0, size)
        })
    }

    /// The audit path `PATH(index, D[0:size])` (RFC 9162 §2.1.3.1): the sibling hashes, bottom
    /// up, that lead from leaf `index` to `root_at(size)`. `None` unless `index < size <= len`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Hash>> {
        let size = self.size(size)?;
        let index = usize::try_from(index).ok().filter(|&i| i < size)?;
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Some(proof)
    }

    /// The consistency proof `PROOF(old_size, D[0:new_size])` (RFC 9162 §2.1.4.1): the hashes
    /// showing that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves;
    /// empty when the sizes are equal. `None` unless `0 < old_size <= new_size <= len`, the RFC
    /// defining no proof from the empty tree.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Option<Vec<Hash>> {
        let new_size = self.size(new_size)?;
        let old_size = usize::try_from(old_size)
            .ok()
            .filter(|&m| 0 < m && m <= new_size)?;
        let mut proof = Vec::new();
        self.subproof(old_size, 0, new_size, true, &mut proof);
        Some(proof)
    }

    /// `size` as an index, if the tree has at least that many leaves.
    fn size(&self, size: u64) -> Option<usize> {
        usize::try_from(size)
            .ok()
            .filter(|&s| s <= self.leaves.len())
    }

    /// The hashes of the complete subtrees of `2^level` leaves, left to right.
    fn level(&self, level: usize) -> &[Hash] {
        match level {
            0 => &self.leaves,
            _ => &self.nodes[level - 1],
        }
    }

    fn range(&self, start: usize, end: usize) -> Hash {
        let Ok(hash) = range(self, start as u64, end as u64);
        hash
    }

    fn path(&self, m: usize, start: usize, end: usize, proof: &mut Vec<Hash>) {
        let Ok(()) = path(self, m as u64, start as u64, end as u64, proof);
    }

    fn subproof(&self, m: usize, start: usize, end: usize, complete: bool, proof: &mut Vec<Hash>) {
        let Ok(()) = subproof(self, m as u64, start as u64, end as u64, complete, proof);
    }
}

/// Where the hashes of complete, aligned subtrees come from: a tree in memory, or a registry's
/// store (which keeps some and computes the rest from its records' hashes).
pub trait Subtrees {
    type Error;
    /// The root of leaves `index·2^level .. (index+1)·2^level`, a complete subtree.
    fn subtree(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

impl Subtrees for Tree {
    type Error = std::convert::Infallible;

    fn subtree(&self, level: u32, index: u64) -> Result<Hash, Self::Error> {
        Ok(self.level(level as usize)[index as usize])
    }
}

/// `MTH(D[start:end])` for `start < end`.
pub fn range<S: Subtrees>(tree: &S, start: u64, end: u64) -> Result<Hash, S::Error> {
    let n = end - start;
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros();
        return tree.subtree(level, start >> level);
    }
    // The left part is complete; only the right part recurses.
    let k = split(n as usize) as u64;
    Ok(node_hash(
        &range(tree, start, start + k)?,
        &range(tree, start + k, end)?,
    ))
}

/// The root of the first `size` leaves (the empty root for none).
pub fn root<S: Subtrees>(tree: &S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        Ok(empty_root())
    } else {
        range(tree, 0, size)
    }
}

/// Appends `PATH(m, D[start:end])`, `m` counted from `start`.
pub fn path<S: Subtrees>(
    tree: &S,
    m: u64,
    start: u64,
    end: u64,
    proof: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if n == 1 {
        return Ok(());
    }
    let k = split(n as usize) as u64;
    if m < k {
        path(tree, m, start, start + k, proof)?;
        proof.push(range(tree, start + k, end)?);
    } else {
        path(tree, m - k, start + k, end, proof)?;
        proof.push(range(tree, start, start + k)?);
    }
    Ok(())
}

/// Appends `SUBPROOF(m, D[start:end], complete)`.
pub fn subproof<S: Subtrees>(
    tree: &S,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    proof: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if m == n {
        if !complete {
            proof.push(range(tree, start, end)?);
        }
        return Ok(());
    }
    let k = split(n as usize) as u64;
    if m <= k {
        subproof(tree, m, start, start + k, complete, proof)?;
        proof.push(range(tree, start + k, end)?);
    } else {
        subproof(tree, m - k, start + k, end, false, proof)?;
        proof.push(range(tree, start, start + k)?);
    }
    Ok(())
}

/// The audit path of leaf `index` in the tree of `size` leaves; `index < size`.
pub fn inclusion_path<S: Subtrees>(tree: &S, index: u64, size: u64) -> Result<Vec<Hash>, S::Error> {
    let mut proof = Vec::new();
    path(tree, index, 0, size, &mut proof)?;
    Ok(proof)
}

/// The consistency proof from `old` to `new` leaves; `0 < old <= new`.
pub fn consistency_path<S: Subtrees>(tree: &S, old: u64, new: u64) -> Result<Vec<Hash>, S::Error> {
    let mut proof = Vec::new();
    subproof(tree, old, 0, new, true, &mut proof)?;
    Ok(proof)
}

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size, so no such leaf can be in the tree.
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange {
        /// The index asked about.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof has more or fewer hashes than the sizes (and index) call for.
    #[error("proof has {got} hashes where {expected} are needed")]
    WrongProofLength {
        /// How many hashes the proof should have.
        expected: usize,
        /// How many it has.
        got: usize,
    },
    /// The inclusion proof leads to a root other than the one given.
    #[error("inclusion proof leads to a different root than the one given")]
    RootMismatch,
    /// The old tree is larger than the new one: a log only grows.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizeDecreased {
        /// The old tree size.
        old_size: u64,
        /// The new tree size.
        new_size: u64,
    },
    /// RFC 9162 defines consistency proofs only from a tree with at least one leaf.
    #[error("consistency proof needs an old tree with at least one leaf")]
    EmptyOldTree,
    /// The consistency proof does not rebuild the old root.
    #[error("consistency proof does not lead to the old root")]
    OldRootMismatch,
    /// The consistency proof does not rebuild the new root.
    #[error("consistency proof does not lead to the new root")]
    NewRootMismatch,
    /// Two heads of the same size, yet different roots: the log forked.
    #[error("two trees of {size} leaves have different roots")]
    RootsDiffer {
        /// The size of both trees.
        size: u64,
    },
}

/// Right-shifts `fn_` and `sn` together until `fn_` is odd or zero.
fn shift_until_odd_or_zero(fn_: &mut u64, sn: &mut u64) {
    while *fn_ != 0 && *fn_ & 1 == 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// How many hashes `PATH(index, D[0:size])` has: the RFC 9162 §2.1.3.2 loop run without hashing.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let (mut fn_, mut sn) = (index, size - 1);
    let mut len = 0;
    while sn != 0 {
        if fn_ & 1 == 1 || fn_ == sn {
            shift_until_odd_or_zero(&mut fn_, &mut sn);
        }
        fn_ >>= 1;
        sn >>= 1;
        len += 1;
    }
    len
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves whose root is `root`, given
/// the audit path `proof`, by the algorithm of RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // 1. The leaf must be in the tree.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let wrong_length = || ProofError::WrongProofLength {
        expected: inclusion_proof_len(index, size),
        got: proof.len(),
    };
    // 2., 3.
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    // 4.
    for p in proof {
        if sn == 0 {
            return Err(wrong_length());
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            shift_until_odd_or_zero(&mut fn_, &mut sn);
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    if sn != 0 {
        return Err(wrong_length());
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// How many hashes `PROOF(old_size, D[0:new_size])` has for `0 < old_size < new_size`: the
/// RFC 9162 §2.1.4.2 loop run without hashing.
fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // The path starts with one hash, which the verifier supplies itself (the old root) when
    // the old size is a power of two.
    let mut len = usize::from(!old_size.is_power_of_two());
    while sn != 0 {
        if fn_ & 1 == 1 || fn_ == sn {
            shift_until_odd_or_zero(&mut fn_, &mut sn);
        }
        fn_ >>= 1;
        sn >>= 1;
        len += 1;
    }
    len
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root`, given the consistency proof `proof`, by the
/// algorithm of RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots; an old
/// size of zero is refused, as the RFC defines no proof from the empty tree.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizeDecreased { old_size, new_size });
    }
    if old_size == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        if old_root != new_root {
            return Err(ProofError::RootsDiffer { size: old_size });
        }
        return Ok(());
    }
    let wrong_length = || ProofError::WrongProofLength {
        expected: consistency_proof_len(old_size, new_size),
        got: proof.len(),
    };
    // 1.
    if proof.is_empty() {
        return Err(wrong_length());
    }
    // 2. With an old size that is a power of two, the path starts with the old root.
    let (first, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (&proof[0], &proof[1..])
    };
    // 3., 4.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    let (mut fr, mut sr) = (*first, *first);
    // 6.
    for c in rest {
        if sn == 0 {
            return Err(wrong_length());
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            shift_until_odd_or_zero(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7.
    if sn != 0 {
        return Err(wrong_length());
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::NewRootMismatch);
    }
    Ok(())
}

/// A hash as 64 lowercase hex digits, the form tree heads and proofs are written in.
pub fn to_hex(h: &Hash) -> String {
    hex::encode(h)
}

/// Reads a hash from exactly 64 hex digits (either case); `None` for anything else.
pub fn from_hex(s: &str) -> Option<Hash> {
    let mut h = [0; 32];
    hex::decode_to_slice(s, &mut h).ok()?;
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The certificate-transparency test leaves (RFC 6962 reference suite), as hex.
    const CT_LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    /// MTH of the first `i` of `CT_LEAVES`, indexed by tree size (0 is the empty tree).
    const CT_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// (index, size, PATH) from certificate-transparency-go `merkle_verifier_test.go`
    /// (there 1-based leaf numbers; here 0-based indices).
    const CT_INCLUSION: [(u64, u64, &[&str]); 4] = [
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];

    /// (old size, new size, PROOF) from the same file.
    const CT_CONSISTENCY: [(u64, u64, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];

    fn h(s: &str) -> Hash {
        from_hex(s).expect("test vector is 64 hex digits")
    }

    fn hs(list: &[&str]) -> Vec<Hash> {
        list.iter().map(|s| h(s)).collect()
    }

    fn ct_tree() -> Tree {
        let mut tree = Tree::new();
        for leaf in CT_LEAVES {
            tree.push(leaf_hash(&hex::decode(leaf).unwrap()));
        }
        tree
    }

    /// A tree of `n` distinct leaves.
    fn tree_of(n: u64) -> Tree {
        let mut tree = Tree::new();
        for i in 0..n {
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
        tree
    }

    // Reference implementations, transcribed literally from RFC 9162 §2.1.1, §2.1.3.1 and
    // §2.1.4.1 over slices of leaf hashes, to check the tree's cached-level computations.

    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn ref_mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => Sha256::digest(b"").into(),
            1 => d[0],
            n => {
                let k = split(n);
                node_hash(&ref_mth(&d[..k]), &ref_mth(&d[k..]))
            }
        }
    }

    fn ref_path(m: usize, d: &[Hash]) -> Vec<Hash> {
        let n = d.len();
        if n == 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = ref_path(m, &d[..k]);
            p.push(ref_mth(&d[k..]));
            p
        } else {
            let mut p = ref_path(m - k, &d[k..]);
            p.push(ref_mth(&d[..k]));
            p
        }
    }

    fn ref_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { Vec::new() } else { vec![ref_mth(d)] };
        }
        let k = split(n);
        if m <= k {
            let mut p = ref_subproof(m, &d[..k], b);
            p.push(ref_mth(&d[k..]));
            p
        } else {
            let mut p = ref_subproof(m - k, &d[k..], false);
            p.push(ref_mth(&d[..k]));
            p
        }
    }

    fn flip(h: &Hash) -> Hash {
        let mut h = *h;
        h[31] ^= 1;
        h
    }

    #[test]
    fn leaf_and_node_hashes_use_domain_prefixes() {
        assert_eq!(leaf_hash(b""), h(CT_ROOTS[1]));
        assert_eq!(node_hash(&leaf_hash(b""), &leaf_hash(&[0])), h(CT_ROOTS[2]));
        let mut prefixed = vec![0u8];
        prefixed.extend_from_slice(b"record");
        assert_eq!(
            leaf_hash(b"record"),
            <Hash>::from(Sha256::digest(&prefixed))
        );
        // A leaf over the 64 bytes of two hashes differs from the node over them.
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        assert_ne!(leaf_hash(&[a, b].concat()), node_hash(&a, &b));
    }

    #[test]
    fn empty_tree() {
        let tree = Tree::new();
        assert_eq!(tree.len(), 0);
        assert!(tree.is_empty());
        assert_eq!(tree.root(), h(CT_ROOTS[0]));
        assert_eq!(empty_root(), h(CT_ROOTS[0]));
        assert_eq!(tree.root_at(0), Some(h(CT_ROOTS[0])));
        assert_eq!(tree.root_at(1), None);
        assert_eq!(tree.inclusion_proof(0, 0), None);
        assert_eq!(tree.consistency_proof(0, 0), None);
        assert_eq!(Tree::default(), tree);
    }

    #[test]
    fn known_answer_roots() {
        let mut tree = Tree::new();
        assert_eq!(tree.root(), h(CT_ROOTS[0]));
        for (i, leaf) in CT_LEAVES.iter().enumerate() {
            tree.push(leaf_hash(&hex::decode(leaf).unwrap()));
            assert_eq!(tree.len(), i as u64 + 1);
            assert_eq!(
                to_hex(&tree.root()),
                CT_ROOTS[i + 1],
                "root of size {}",
                i + 1
            );
        }
        for (size, root) in CT_ROOTS.iter().enumerate() {
            assert_eq!(tree.root_at(size as u64), Some(h(root)), "root_at({size})");
        }
        assert_eq!(tree.root_at(9), None);
    }

    #[test]
    fn known_answer_inclusion_proofs() {
        let tree = ct_tree();
        for (index, size, path) in CT_INCLUSION {
            let want = hs(path);
            assert_eq!(tree.inclusion_proof(index, size), Some(want.clone()));
            let leaf = tree.leaves()[index as usize];
            let root = h(CT_ROOTS[size as usize]);
            assert_eq!(verify_inclusion(&leaf, index, size, &want, &root), Ok(()));
        }
    }

    #[test]
    fn known_answer_consistency_proofs() {
        let tree = ct_tree();
        for (old, new, path) in CT_CONSISTENCY {
            let want = hs(path);
            assert_eq!(tree.consistency_proof(old, new), Some(want.clone()));
            let (old_root, new_root) = (h(CT_ROOTS[old as usize]), h(CT_ROOTS[new as usize]));
            assert_eq!(
                verify_consistency(old, new, &old_root, &new_root, &want),
                Ok(())
            );
        }
    }

    #[test]
    fn a_frontier_has_the_roots_of_the_whole_tree() {
        let mut tree = Tree::new();
        let mut frontier = Frontier::default();
        assert_eq!(frontier.root(), empty_root());
        for i in 0..300u64 {
            let leaf = leaf_hash(&i.to_le_bytes());
            tree.push(leaf);
            frontier.push(leaf);
            assert_eq!(frontier.len(), tree.len(), "size after {} pushes", i + 1);
            assert_eq!(frontier.root(), tree.root(), "root after {} pushes", i + 1);
            // One hash per complete subtree: the set bits of the size.
            assert_eq!(frontier.peaks.len() as u32, frontier.len().count_ones());
        }
        for (n, root) in CT_ROOTS.iter().enumerate().skip(1) {
            let mut frontier = Frontier::default();
            for leaf in &CT_LEAVES[..n] {
                frontier.push(leaf_hash(&hex::decode(leaf).unwrap()));
            }
            assert_eq!(to_hex(&frontier.root()), *root, "CT root of {n} leaves");
        }
    }

    #[test]
    fn roots_and_proofs_match_the_rfc_recursion() {
        let mut tree = Tree::new();
        let mut leaves = Vec::new();
        for i in 0..300u64 {
            let leaf = leaf_hash(&i.to_le_bytes());
            tree.push(leaf);
            leaves.push(leaf);
            assert_eq!(tree.root(), ref_mth(&leaves), "root after {} pushes", i + 1);
        }
        assert_eq!(tree.leaves(), &leaves[..]);
        for n in 0..=300 {
            assert_eq!(
                tree.root_at(n as u64),
                Some(ref_mth(&leaves[..n])),
                "root_at({n})"
            );
        }
        for n in 1..=70 {
            for m in 0..n {
                let got = tree.inclusion_proof(m as u64, n as u64);
                assert_eq!(got, Some(ref_path(m, &leaves[..n])), "PATH({m}, {n})");
            }
            for m in 1..=n {
                let got = tree.consistency_proof(m as u64, n as u64);
                assert_eq!(
                    got,
                    Some(ref_subproof(m, &leaves[..n], true)),
                    "PROOF({m}, {n})"
                );
            }
        }
    }

    #[test]
    fn every_inclusion_proof_up_to_64_verifies_and_tampering_fails() {
        let tree = tree_of(64);
        for size in 1..=64u64 {
            let root = tree.root_at(size).unwrap();
            for index in 0..size {
                let leaf = tree.leaves()[index as usize];
                let proof = tree.inclusion_proof(index, size).unwrap();
                let verify = |leaf: &Hash, index: u64, proof: &[Hash]| {
                    verify_inclusion(leaf, index, size, proof, &root)
                };
                assert_eq!(verify(&leaf, index, &proof), Ok(()), "{index} in {size}");

                // Altered leaf.
                assert_eq!(
                    verify(&flip(&leaf), index, &proof),
                    Err(ProofError::RootMismatch)
                );
                // Any other index, in or out of range.
                for other in 0..=size {
                    if other != index {
                        assert!(
                            verify(&leaf, other, &proof).is_err(),
                            "{index}->{other}/{size}"
                        );
                    }
                }
                assert_eq!(
                    verify(&leaf, size, &proof),
                    Err(ProofError::IndexOutOfRange { index: size, size })
                );
                // Each proof element flipped.
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i]);
                    assert_eq!(verify(&leaf, index, &bad), Err(ProofError::RootMismatch));
                }
                // An element dropped (from either end) or added (at either end).
                let expected = proof.len();
                let wrong_len = |got: usize| Err(ProofError::WrongProofLength { expected, got });
                if !proof.is_empty() {
                    assert_eq!(verify(&leaf, index, &proof[1..]), wrong_len(expected - 1));
                    assert_eq!(
                        verify(&leaf, index, &proof[..expected - 1]),
                        wrong_len(expected - 1)
                    );
                }
                let mut longer = proof.clone();
                longer.push(root);
                assert_eq!(verify(&leaf, index, &longer), wrong_len(expected + 1));
                longer.rotate_right(1);
                assert_eq!(verify(&leaf, index, &longer), wrong_len(expected + 1));
                // The wrong root, and the right proof against a different tree size.
                assert_eq!(
                    verify_inclusion(&leaf, index, size, &proof, &flip(&root)),
                    Err(ProofError::RootMismatch)
                );
                if size > 1 {
                    let r = tree.root_at(size - 1).unwrap();
                    assert!(verify_inclusion(&leaf, index, size - 1, &proof, &r).is_err());
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_up_to_64_verifies_and_tampering_fails() {
        let tree = tree_of(64);
        for new in 1..=64u64 {
            let new_root = tree.root_at(new).unwrap();
            for old in 1..=new {
                let old_root = tree.root_at(old).unwrap();
                let proof = tree.consistency_proof(old, new).unwrap();
                assert_eq!(proof.is_empty(), old == new);
                let verify = |old_root: &Hash, new_root: &Hash, proof: &[Hash]| {
                    verify_consistency(old, new, old_root, new_root, proof)
                };
                assert_eq!(
                    verify(&old_root, &new_root, &proof),
                    Ok(()),
                    "{old} -> {new}"
                );

                // Tampered roots.
                assert!(verify(&flip(&old_root), &new_root, &proof).is_err());
                assert!(verify(&old_root, &flip(&new_root), &proof).is_err());
                if old != new {
                    assert!(
                        verify(&new_root, &old_root, &proof).is_err(),
                        "swapped roots"
                    );
                    assert_eq!(
                        verify(&old_root, &flip(&new_root), &proof),
                        Err(ProofError::NewRootMismatch)
                    );
                } else {
                    assert_eq!(
                        verify(&old_root, &flip(&new_root), &proof),
                        Err(ProofError::RootsDiffer { size: old })
                    );
                }
                // Each proof element flipped.
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i]);
                    assert!(
                        verify(&old_root, &new_root, &bad).is_err(),
                        "{old}->{new} #{i}"
                    );
                }
                // An element dropped or added.
                let expected = proof.len();
                let wrong_len = |got: usize| Err(ProofError::WrongProofLength { expected, got });
                if !proof.is_empty() {
                    assert_eq!(
                        verify(&old_root, &new_root, &proof[1..]),
                        wrong_len(expected - 1)
                    );
                    assert_eq!(
                        verify(&old_root, &new_root, &proof[..expected - 1]),
                        wrong_len(expected - 1)
                    );
                }
                let mut longer = proof.clone();
                longer.push(old_root);
                assert_eq!(
                    verify(&old_root, &new_root, &longer),
                    wrong_len(expected + 1)
                );
                longer.rotate_right(1);
                assert_eq!(
                    verify(&old_root, &new_root, &longer),
                    wrong_len(expected + 1)
                );
                // The same proof does not vouch for other old sizes.
                for other in 1..=new {
                    if other != old {
                        let r = tree.root_at(other).unwrap();
                        assert!(
                            verify_consistency(other, new, &r, &new_root, &proof).is_err(),
                            "{old}->{other} into {new}"
                        );
                        assert!(
                            verify_consistency(other, new, &old_root, &new_root, &proof).is_err()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn consistency_rejects_bad_sizes() {
        let tree = tree_of(8);
        let (r4, r8) = (tree.root_at(4).unwrap(), tree.root_at(8).unwrap());
        assert_eq!(
            verify_consistency(8, 4, &r8, &r4, &[]),
            Err(ProofError::SizeDecreased {
                old_size: 8,
                new_size: 4
            })
        );
        assert_eq!(
            verify_consistency(0, 8, &empty_root(), &r8, &[]),
            Err(ProofError::EmptyOldTree)
        );
        assert_eq!(
            verify_consistency(4, 4, &r4, &r4, &[r4]),
            Err(ProofError::WrongProofLength {
                expected: 0,
                got: 1
            })
        );
        assert_eq!(
            verify_consistency(4, 8, &r4, &r8, &[]),
            Err(ProofError::WrongProofLength {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(tree.consistency_proof(0, 8), None);
        assert_eq!(tree.consistency_proof(5, 4), None);
        assert_eq!(tree.consistency_proof(4, 9), None);
        assert_eq!(tree.inclusion_proof(8, 8), None);
        assert_eq!(tree.inclusion_proof(0, 9), None);
        assert_eq!(
            verify_inclusion(&r4, 0, 0, &[], &empty_root()),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
    }

    #[test]
    fn errors_read_as_english() {
        let e = ProofError::WrongProofLength {
            expected: 3,
            got: 2,
        };
        assert_eq!(e.to_string(), "proof has 2 hashes where 3 are needed");
        let e = ProofError::IndexOutOfRange { index: 9, size: 8 };
        assert_eq!(e.to_string(), "leaf index 9 is outside a tree of 8 leaves");
    }

    #[test]
    fn hex_round_trip() {
        let root = h(CT_ROOTS[8]);
        assert_eq!(to_hex(&root), CT_ROOTS[8]);
        assert_eq!(from_hex(&CT_ROOTS[8].to_uppercase()), Some(root));
        assert_eq!(from_hex(""), None);
        assert_eq!(from_hex(&CT_ROOTS[8][..62]), None);
        assert_eq!(from_hex(&format!("{}00", CT_ROOTS[8])), None);
        assert_eq!(from_hex(&CT_ROOTS[8].replace('5', "g")), None);
        assert_eq!(from_hex(&format!(" {}", &CT_ROOTS[8][1..])), None);
    }
}
