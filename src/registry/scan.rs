//! The one verified scan of a registry's history, for every reader that needs all of it (a
//! writer catching up, `registry check`, `export`): each record's hash and form, its place, its
//! link to the record before it, gapless numbers, allowed status changes, the head its last writer
//! left, and the Merkle checkpoints — checked once, in one pass, and handed to a [`Sink`].
//!
//! How the bytes are read stays inside: the store hands over blocks of whole records (the files
//! driver maps the journal, the next block mapped while this one is checked); here each block is
//! cut into pieces that are hashed (two records at a time) and read briefly in parallel, along
//! with whatever the sink does per record ([`Prepare`]); the chain is then checked in order and
//! each record handed to the sink — the consuming of one block overlapping the hashing of the
//! next. The model is ripgrep's `Sink`: the searcher owns reading, the sink sees results.

use anyhow::{Context, Result};

use super::brief::{self, Brief, OwnedLink};
use super::chain::{Chain, ChainError};
use super::checkpoint::{self, Checkpoint, Watched};
use super::merkle::{Frontier, Hash};
use super::record::{LineError, parse_line, split_lines};
use crate::store::{Head, Log, Lookup, Node};

/// A record whose hash and form checked, as the parallel part of a scan sees it.
pub struct Seen<'a> {
    /// The record's hash (hex), checked against its bytes.
    pub hash: &'a str,
    /// Its line, and the hashed record bytes within it.
    pub line: &'a [u8],
    pub body: &'a [u8],
    /// Its fields but `data`.
    pub brief: &'a Brief<'a>,
}

/// A record the chain accepted, as the sink is given it, in order.
pub struct Verified<'a> {
    pub seq: u64,
    pub link: &'a OwnedLink,
    /// Its line's length (without the newline).
    pub len: u64,
}

/// The part of a sink that works on records in parallel, before the chain is checked.
pub trait Prepare: Sync {
    type Item: Send;
    /// What one thread reuses from record to record (buffers).
    type Scratch: Default;
    /// What the sink takes from one record; an error makes the record broken.
    fn prepare(
        &self,
        scratch: &mut Self::Scratch,
        seen: &Seen<'_>,
    ) -> Result<Self::Item, LineError>;
}

/// What consumes a verified scan: records in order, each with what was prepared of it.
pub trait Sink {
    type Prepare: Prepare;
    /// The parallel part, shared by the threads that read records.
    fn preparer(&self) -> Self::Prepare;
    /// Each record the chain accepted, in order.
    fn record(
        &mut self,
        record: &Verified<'_>,
        item: <Self::Prepare as Prepare>::Item,
    ) -> Result<()>;
    /// Called at every block's end: a writer indexes what it has verified.
    fn block_done(&mut self, _nodes: &mut Vec<Node>) -> Result<()> {
        Ok(())
    }
}

/// A sink that takes nothing: the scan's own checks only.
pub struct Nothing;

impl Prepare for Nothing {
    type Item = ();
    type Scratch = ();
    fn prepare(&self, _: &mut (), _: &Seen<'_>) -> Result<(), LineError> {
        Ok(())
    }
}

impl Sink for Nothing {
    type Prepare = Nothing;
    fn preparer(&self) -> Nothing {
        Nothing
    }
    fn record(&mut self, _: &Verified<'_>, _: ()) -> Result<()> {
        Ok(())
    }
}

/// What a scan checks besides the records.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also read every record whole: its data well-formed, the record in canonical form, its
    /// content hash that of its data and its QR payload naming it.
    pub full: bool,
    /// The head its last writer left, and its checkpoints.
    pub head: Option<Head>,
    pub checkpoints: Vec<Checkpoint>,
    /// A checkpoint published outside the registry, which its records must also match.
    pub trusted: Option<Checkpoint>,
    /// Keep the Merkle nodes a store keeps, as records complete them.
    pub nodes: bool,
}

/// Where a scan begins: at the first record, or going on from a state a writer verified.
#[derive(Default)]
pub struct Start {
    pub chain: Chain,
    pub tree: Frontier,
}

/// What a scan found.
pub struct Outcome {
    /// The chain after the last sound record.
    pub chain: Chain,
    /// The Merkle tree's right edge after it.
    pub tree: Frontier,
    /// The first broken record, where the scan stopped.
    pub broken: Option<ChainError>,
    /// What is wrong besides: the head, the checkpoints.
    pub problems: Vec<String>,
    /// How many checkpoints were checked against the records.
    pub checkpoints: u64,
    /// The length of an incomplete record at the end (a write under way, or cut off).
    pub torn: u64,
}

/// Stops a scan at a broken record (already noted).
#[derive(Debug)]
struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped at a broken record")
    }
}

impl std::error::Error for Stopped {}

/// Scans `log` from `start` on, checking everything [`Options`] asks for (the head only for the
/// record it names: whether records after the scan's end were removed is [`head_problem`]'s to
/// say, once an incomplete last record is dealt with), and hands every sound record to `sink`.
/// Checkpoints before `start` are not checked. Stops at the first broken record (in
/// [`Outcome::broken`]); errors are failures to read, or the sink's.
pub fn scan<S: Sink + Send>(
    log: &dyn Log,
    start: Start,
    options: &Options,
    sink: &mut S,
) -> Result<Outcome> {
    use rayon::prelude::*;
    let prepare = sink.preparer();
    let Start { mut chain, tree } = start;
    let first = chain.len() + 1;
    let watched: Vec<Checkpoint> = options
        .checkpoints
        .iter()
        .filter(|c| c.size >= tree.len())
        .cloned()
        .collect();
    let mut roots = Watched::resume(
        tree,
        &watched
            .iter()
            .chain(&options.trusted)
            .cloned()
            .collect::<Vec<_>>(),
    );
    let mut broken = None;
    let mut problems = Vec::new();
    let mut nodes = Vec::new();
    let code = log.code().to_string();
    // Each record's work, done in parallel: hash, brief, leaf, the sink's preparation.
    let map = |text: &[u8]| -> Vec<(u64, Result<Prepared<_>, LineError>)> {
        let lines: Vec<&[u8]> = text
            .split_inclusive(|&b| b == b'\n')
            .map(|l| &l[..l.len() - 1])
            .collect();
        let mut scratch = Vec::new();
        let mut sink_scratch = <S::Prepare as Prepare>::Scratch::default();
        lines
            .iter()
            .zip(split_lines(lines.iter().copied()))
            .map(|(line, split)| {
                let prepared = split.and_then(|(hash, body)| {
                    if options.full {
                        full_check(&code, line)?;
                    }
                    let brief = brief::parse(body, &mut scratch)?;
                    if brief.is_document() && brief.holder.is_none() {
                        // Written before records carried their holder: read whole, as a
                        // writer does.
                        super::parse_for_readers(body)?;
                    }
                    let seen = Seen {
                        hash,
                        line,
                        body,
                        brief: &brief,
                    };
                    Ok(Prepared {
                        link: OwnedLink::of(&brief, hash),
                        leaf: checkpoint::leaf(hash),
                        item: prepare.prepare(&mut sink_scratch, &seen)?,
                    })
                });
                (line.len() as u64, prepared)
            })
            .collect()
    };
    let pieces_per_block = rayon::current_num_threads() * 8;
    // The results of the block read last, waiting to be checked in order.
    let mut pending: Option<(u64, Pieces<_>)> = None;
    let mut consume = |first: u64, pieces: Pieces<_>| {
        for (seq, (len, prepared)) in (first..).zip(pieces.into_iter().flatten()) {
            let prepared = match prepared {
                Ok(prepared) => prepared,
                Err(error) => {
                    broken = Some(chain.unreadable(seq, error));
                    return Err(anyhow::Error::new(Stopped));
                }
            };
            let link = prepared.link.link();
            if let super::chain::LinkEntry::Status { target, .. } = link.entry
                && chain.needs(target)
            {
                chain.know(target, stored_status(log, target, seq)?);
            }
            if let Err(error) = chain.push_link(seq, prepared.link.hash.as_str(), &link) {
                broken = Some(error);
                return Err(anyhow::Error::new(Stopped));
            }
            if let Some(head) = &options.head
                && head.seq == seq
                && head.hash != prepared.link.hash.as_str()
            {
                problems.push(format!(
                    "record {seq}: not the record the last writer left (the head names another \
                     hash): records were replaced"
                ));
            }
            if options.nodes {
                roots.push_completing(prepared.leaf, &mut nodes);
            } else {
                roots.push(prepared.leaf);
            }
            sink.record(
                &Verified {
                    seq,
                    link: &prepared.link,
                    len,
                },
                prepared.item,
            )?;
        }
        sink.block_done(&mut nodes)?;
        Ok(())
    };
    let scanned = log.scan(first, &mut |block| {
        let text = block.text;
        let pieces = pieces(text, pieces_per_block);
        let (done, mapped) = rayon::join(
            || match pending.take() {
                Some((first, results)) => consume(first, results),
                None => Ok(()),
            },
            || pieces.into_par_iter().map(&map).collect::<Vec<_>>(),
        );
        done?;
        pending = Some((block.first, mapped));
        Ok(())
    });
    let scanned = scanned.and_then(|end| {
        if let Some((first, results)) = pending.take() {
            consume(first, results)?;
        }
        Ok(end)
    });
    let torn = match scanned {
        Ok(end) => end.torn,
        Err(err) if err.is::<Stopped>() => 0,
        Err(err) => return Err(err),
    };
    let mut checked = 0;
    if broken.is_none() {
        problems.extend(checkpoint::problems(&watched, &roots));
        checked = watched.len() as u64;
        if let Some(trusted) = &options.trusted {
            for problem in checkpoint::problems(std::slice::from_ref(trusted), &roots) {
                let why = problem
                    .split_once(": ")
                    .map_or(problem.as_str(), |(_, why)| why);
                problems.push(format!(
                    "the trusted checkpoint (size {}, root {}) is not this registry's: {why}",
                    trusted.size, trusted.root
                ));
            }
        }
    }
    Ok(Outcome {
        chain,
        tree: roots.frontier,
        broken,
        problems,
        checkpoints: checked,
        torn,
    })
}

/// What is wrong when a registry of `len` records has the head `head`: records it names were
/// removed. `it` is how the message names the registry (`it`, `the journal`).
pub fn head_problem(it: &str, len: u64, head: Option<&Head>) -> Option<String> {
    let head = head.filter(|head| len < head.seq)?;
    Some(format!(
        "{it} ends at record {len}, but its last writer left {} records (its head): {} \
         removed",
        head.seq,
        super::writer::removed(len + 1, head.seq)
    ))
}

/// A block's records as the parallel part prepared them, in pieces, each with its line length.
type Pieces<T> = Vec<Vec<(u64, Result<Prepared<T>, LineError>)>>;

struct Prepared<T> {
    link: OwnedLink,
    leaf: Hash,
    item: T,
}

/// Cuts whole lines into about `count` pieces of whole lines.
fn pieces(lines: &[u8], count: usize) -> Vec<&[u8]> {
    let size = lines.len().div_ceil(count.max(1)).max(1);
    let mut pieces = Vec::with_capacity(count);
    let mut start = 0;
    while start < lines.len() {
        let cut = (start + size).min(lines.len()) - 1;
        let end = memchr::memchr(b'\n', &lines[cut..]).map_or(lines.len(), |i| cut + i + 1);
        pieces.push(&lines[start..end]);
        start = end;
    }
    pieces
}

/// A whole read of a record: its data well-formed, the record canonical, its `content` the hash
/// of its data, and its QR payload naming its registry, number and content.
fn full_check(code: &str, line: &[u8]) -> Result<(), LineError> {
    let (_, record) = parse_line(line)?;
    let Some(doc) = record.document() else {
        return Ok(());
    };
    if super::hash_json(&doc.data) != doc.content {
        return Err(LineError::Content(
            "its content hash is not the hash of its data (its data or content was changed)"
                .to_string(),
        ));
    }
    match crate::qr::Payload::parse(&doc.qr) {
        Ok(payload)
            if payload.registry == code
                && payload.number == doc.number
                && payload.content == doc.content => {}
        Ok(_) => {
            return Err(LineError::Content(
                "its QR payload names another registry, number or content".to_string(),
            ));
        }
        Err(err) => {
            return Err(LineError::Content(format!(
                "its QR payload cannot be read: {err:#}"
            )));
        }
    }
    Ok(())
}

/// The status in force of the document at `seq` as the store has it before position `before`
/// (`None`: no document there): its record read, and its status events before `before`. A
/// resumed chain asks it for the status its first record changing the document starts from:
/// events at or after that record are the chain's own to apply (a writer catching up with a
/// journal its index lags behind finds them in the store already).
pub fn stored_status(log: &dyn Log, seq: u64, before: u64) -> Result<Option<super::Status>> {
    let stored = log.read(&[seq])?;
    let Some(stored) = stored.first() else {
        return Ok(None);
    };
    let Ok(facts) = super::facts::of_line(&stored.line) else {
        return Ok(None);
    };
    if !matches!(facts.what, crate::store::What::Document { .. }) {
        return Ok(None);
    }
    let mut events = log.find(&Lookup::Events(seq))?;
    events.retain(|&event| event < before);
    let mut status = super::Status::Active;
    for stored in log.read(&events)? {
        let (_, record) = parse_line(&stored.line)
            .with_context(|| format!("{}, record {}", log.describe(), stored.seq))?;
        if let Some(event) = record.status()
            && event.target == seq
        {
            status = event.status;
        }
    }
    Ok(Some(status))
}
