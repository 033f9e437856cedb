//! `qujat registry migrate --from A --to B`: every registry of one store copied into another
//! (files → PostgreSQL when a ministry outgrows one machine, PostgreSQL → files for an offline
//! copy), byte for byte, and the copy verified.
//!
//! In order: the source is checked as `registry check` checks it (a damaged source is refused:
//! a copy would carry the damage under a new roof); the destination is compared with it — each
//! of its registries must hold the same records, or the first part of them (an interrupted
//! migrate), with no head or checkpoint the source lacks, and no registry the source has not —
//! and refused, with nothing copied, if it differs; then the kept template versions and
//! signatures are copied (before any record naming them), and each registry's missing records
//! (with their index and the Merkle nodes they complete), checkpoints and head, its source
//! locked meanwhile so that no batch writes to it. Last, each copied registry is checked in the
//! destination, and its head and newest checkpoint compared with the source's.

use std::fmt;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::check;
use crate::registry::checkpoint::{self, Checkpoint};
use crate::registry::merkle::Frontier;
use crate::registry::reader::Reader;
use crate::store::{Appended, Head, Kind, NODE_LEVEL, Node, Store};

/// Records appended to the destination at a time (one transaction, one sync).
const GROUP: usize = 4096;

/// What was copied.
#[derive(Debug, Default)]
pub struct Migrated {
    pub from: String,
    pub to: String,
    pub registries: Vec<Copied>,
    /// Kept template versions and signatures: how many there are, how many were copied.
    pub templates: (usize, usize),
    pub signatures: (usize, usize),
}

/// One registry copied.
#[derive(Debug)]
pub struct Copied {
    pub code: String,
    pub records: u64,
    /// Records the destination lacked (the others it had already, the same).
    pub copied: u64,
    pub head: Option<Head>,
    pub checkpoints: usize,
    pub newest: Option<Checkpoint>,
}

impl fmt::Display for Migrated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "from {}\nto   {}", self.from, self.to)?;
        for r in &self.registries {
            write!(
                f,
                "{}: {} records ({} copied), {} checkpoints",
                r.code, r.records, r.copied, r.checkpoints
            )?;
            if let Some(c) = &r.newest {
                write!(f, ", newest of {} records, root {}", c.size, c.root)?;
            }
            if let Some(head) = &r.head {
                write!(f, ", head {} {}", head.seq, head.hash)?;
            }
            writeln!(f, " — the same in both, verified")?;
        }
        writeln!(
            f,
            "template versions: {} ({} copied); kept signatures: {} ({} copied)",
            self.templates.0, self.templates.1, self.signatures.0, self.signatures.1
        )
    }
}

/// A registry's records as the destination has them: how many, and each line's SHA-256.
struct Existing {
    lines: Vec<[u8; 32]>,
}

/// Copies every registry of `from` into `to` and verifies the copy; `progress` is told what is
/// being done.
pub fn migrate(
    from: &dyn Store,
    to: &dyn Store,
    progress: &mut dyn FnMut(String),
) -> Result<Migrated> {
    let mut migrated = Migrated {
        from: from.describe(),
        to: to.describe(),
        ..Migrated::default()
    };
    let (readers, broken) = Reader::all(from)?;
    if let Some(listed) = broken.first() {
        bail!(
            "registry {} of {} cannot be read ({}): nothing was copied",
            listed.code,
            from.describe(),
            listed.problem.as_deref().unwrap_or("?")
        );
    }
    // The source, checked whole.
    for reader in &readers {
        progress(format!("checking registry {} in the source", reader.code));
        let checked = check::check(from, reader, &check::Options::default())?;
        if !checked.is_sound() {
            bail!(
                "registry {} of {} is damaged, so it is not copied (nothing was): {}",
                reader.code,
                from.describe(),
                checked.problems.join("; ")
            );
        }
    }
    // The destination, compared.
    let codes: Vec<&str> = readers.iter().map(|r| r.code.as_str()).collect();
    for listed in to.registries()? {
        if !codes.contains(&listed.code.as_str()) {
            bail!(
                "{} holds registry {}, which {} has not: refusing to migrate into a \
                 destination that differs (nothing was copied)",
                to.describe(),
                listed.code,
                from.describe()
            );
        }
    }
    let mut existing = Vec::new();
    for reader in &readers {
        existing.push(compare(to, reader)?);
    }
    // Kept things first: no record in the destination names a template it lacks.
    migrated.templates = copy_kept(from, to, Kind::Template)?;
    migrated.signatures = copy_kept(from, to, Kind::Signature)?;
    for (reader, existing) in readers.iter().zip(&existing) {
        progress(format!("copying registry {}", reader.code));
        migrated
            .registries
            .push(copy(from, to, &reader.code, existing.lines.len() as u64)?);
    }
    // The copy, checked as `registry check` checks it, and compared with the source.
    for copied in &migrated.registries {
        progress(format!(
            "checking registry {} in the destination",
            copied.code
        ));
        let reader = Reader::open(to, &copied.code)?;
        let checked = check::check(to, &reader, &check::Options::default())?;
        if !checked.is_sound() {
            bail!(
                "the copy of registry {} in {} does not check: {}",
                copied.code,
                to.describe(),
                checked.problems.join("; ")
            );
        }
        let head = reader.log().head()?;
        let newest = checkpoint::load(reader.log())?.pop();
        if head != copied.head || newest != copied.newest || checked.records != copied.records {
            bail!(
                "the copy of registry {} in {} ends elsewhere than the source: {} records, head \
                 {:?}, newest checkpoint {:?}; the source {} records, head {:?}, newest \
                 checkpoint {:?}",
                copied.code,
                to.describe(),
                checked.records,
                head,
                newest,
                copied.records,
                copied.head,
                copied.newest
            );
        }
    }
    Ok(migrated)
}

/// What the destination holds of `reader`'s registry, refused if it is not a first part of the
/// source (records, checkpoints) with the source's head or none.
fn compare(to: &dyn Store, reader: &Reader) -> Result<Existing> {
    let code = &reader.code;
    let Some(there) = to.log(code)? else {
        return Ok(Existing { lines: Vec::new() });
    };
    let refuse = |why: String| -> anyhow::Error {
        anyhow::anyhow!(
            "registry {code} in {} differs from the source ({why}): refusing to migrate into it \
             (nothing was copied); give an empty destination",
            to.describe()
        )
    };
    let mut lines = Vec::new();
    let end = there.scan(1, &mut |block| {
        lines.extend(
            block
                .lines()
                .map(|(_, line)| <[u8; 32]>::from(Sha256::digest(line))),
        );
        Ok(())
    })?;
    if end.torn > 0 {
        return Err(refuse("it ends in an incomplete record".to_string()));
    }
    let mut seen = 0u64;
    let mut first_difference = None;
    reader.log().scan(1, &mut |block| {
        for (seq, line) in block.lines() {
            if seq > lines.len() as u64 {
                return Ok(());
            }
            seen = seq;
            if first_difference.is_none()
                && <[u8; 32]>::from(Sha256::digest(line)) != lines[seq as usize - 1]
            {
                first_difference = Some(seq);
            }
        }
        Ok(())
    })?;
    if let Some(seq) = first_difference {
        return Err(refuse(format!("record {seq} is not the source's")));
    }
    if seen < lines.len() as u64 {
        return Err(refuse(format!(
            "it has {} records, the source {seen}",
            lines.len()
        )));
    }
    let (ours, theirs) = (reader.log().checkpoints()?, there.checkpoints()?);
    if theirs.len() > ours.len() || ours[..theirs.len()] != theirs[..] {
        return Err(refuse("its checkpoints are not the source's".to_string()));
    }
    // Its head: the source's, or that of an earlier copy (a record it holds, as the source
    // has it).
    if let Some(head) = there.head()?
        && Some(&head) != reader.log().head()?.as_ref()
    {
        let named = (head.seq <= lines.len() as u64)
            .then(|| reader.log().read(&[head.seq]))
            .transpose()?
            .and_then(|read| read.into_iter().next())
            .and_then(|stored| {
                crate::registry::split_line(&stored.line)
                    .ok()
                    .map(|(hash, _)| hash.to_string())
            });
        if named.as_deref() != Some(head.hash.as_str()) {
            return Err(refuse(format!(
                "its head names record {} {}, which the source does not have",
                head.seq, head.hash
            )));
        }
    }
    Ok(Existing { lines })
}

/// Copies every kept thing of `kind` the destination lacks: (how many there are, copied).
fn copy_kept(from: &dyn Store, to: &dyn Store, kind: Kind) -> Result<(usize, usize)> {
    let hashes = from.kept_hashes(kind)?;
    let mut copied = 0;
    for hash in &hashes {
        let bytes = from
            .kept(kind, hash)?
            .with_context(|| format!("{} {hash} is listed but not kept", kind.name()))?;
        if to.kept(kind, hash)?.is_none() {
            to.keep(kind, &bytes)?;
            copied += 1;
        }
    }
    Ok((hashes.len(), copied))
}

/// Copies registry `code` from `from` into `to`, which holds its first `have` records already.
fn copy(from: &dyn Store, to: &dyn Store, code: &str, have: u64) -> Result<Copied> {
    // Both locked: no batch writes to either while the copy is made.
    let source = from.appender(code, Duration::ZERO).with_context(|| {
        format!(
            "registry {code} of {} cannot be locked for the copy",
            from.describe()
        )
    })?;
    let mut destination = to.appender(code, Duration::ZERO)?;
    let mut tree = Frontier::default();
    let mut group: Vec<Appended> = Vec::with_capacity(GROUP);
    let mut nodes: Vec<Node> = Vec::new();
    let mut records = 0u64;
    let mut flush = |group: &mut Vec<Appended>, nodes: &mut Vec<Node>| -> Result<()> {
        if !group.is_empty() {
            destination.append(group, nodes)?;
            group.clear();
            nodes.clear();
        }
        Ok(())
    };
    source.scan(1, &mut |block| {
        for (seq, line) in block.lines() {
            records = seq;
            let facts = crate::registry::facts_of_line(line)
                .with_context(|| format!("registry {code}, record {seq}"))?;
            let leaf = checkpoint::leaf(&hex::encode(facts.hash));
            if seq <= have {
                tree.push(leaf);
                continue;
            }
            tree.push_completing(leaf, |level, index, hash| {
                if level >= NODE_LEVEL {
                    nodes.push(Node {
                        level,
                        index,
                        hash: *hash,
                    });
                }
            });
            group.push(Appended {
                seq,
                line: line.to_vec(),
                facts,
            });
            if group.len() >= GROUP {
                flush(&mut group, &mut nodes)?;
            }
        }
        Ok(())
    })?;
    flush(&mut group, &mut nodes)?;
    let texts = source.checkpoints()?;
    let already = destination.checkpoints()?.len();
    for text in &texts[already..] {
        destination.append_checkpoint(text)?;
    }
    destination.set_checkpoints_seen(texts.len() as u64)?;
    let head = source.head()?;
    if let Some(head) = &head {
        destination.write_head(head)?;
    }
    let newest = checkpoint::parse_all(&texts)?.pop();
    Ok(Copied {
        code: code.to_string(),
        records,
        copied: records.saturating_sub(have),
        head,
        checkpoints: texts.len(),
        newest,
    })
}
