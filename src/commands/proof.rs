//! `qujat registry proof` and `qujat verify --proof`: Merkle proofs that a document is in a
//! registry, or that a registry only grew, written from the registry and checked offline.

use anyhow::{Context, Result, bail};

use crate::registry::checkpoint::{self, Checkpoint, Proof};
use crate::registry::note::NoteVerifier;
use crate::registry::reader::Reader;

/// The inclusion proof of the document numbered `number` against the registry's newest
/// checkpoint.
pub fn of_document(reader: &Reader, number: &str) -> Result<Proof> {
    let found = reader.by_number(number)?;
    let [found] = &found[..] else {
        bail!(
            "registry {} has {} documents numbered {number:?}",
            reader.code,
            found.len()
        );
    };
    Ok(Proof::Inclusion(checkpoint::prove_inclusion(
        reader.log(),
        found.seq,
        &found.record,
    )?))
}

/// The consistency proof from the registry's checkpoint of size `since` to its newest.
pub fn of_growth(reader: &Reader, since: u64) -> Result<Proof> {
    Ok(Proof::Consistency(checkpoint::prove_consistency(
        reader.log(),
        since,
    )?))
}

/// Reads a published checkpoint from a file: a line of JSON as a registry keeps them (a line of
/// its checkpoints, or the `checkpoint` of a proof), or a signed note, which `verifier` must
/// have signed.
pub fn read_checkpoint(bytes: &[u8], verifier: Option<&NoteVerifier>) -> Result<Checkpoint> {
    let text = std::str::from_utf8(bytes).context("a checkpoint is text")?;
    Checkpoint::read_published(text, verifier)
}

/// Checks a proof offline: `Ok(what)` when it holds, `Err(why)` when it does not. With
/// `trusted`, the proof must start from that checkpoint (an inclusion proof's checkpoint, a
/// consistency proof's older one: the one held from before), not merely the one it carries;
/// with `verifier`, every checkpoint the proof carries must be signed by that key.
pub fn check(
    text: &[u8],
    trusted: Option<&Checkpoint>,
    verifier: Option<&NoteVerifier>,
) -> Result<String, String> {
    let proof: Proof =
        serde_json::from_slice(text).map_err(|err| format!("not a qujat proof: {err}"))?;
    let (against, carried) = match &proof {
        Proof::Inclusion(p) => (&p.checkpoint, vec![&p.checkpoint]),
        Proof::Consistency(p) => (&p.old, vec![&p.old, &p.new]),
    };
    if let Some(verifier) = verifier {
        for checkpoint in carried {
            checkpoint.check_signature(verifier).map_err(|why| {
                format!(
                    "its checkpoint of size {} is not the registry's: {why}",
                    checkpoint.size
                )
            })?;
        }
    }
    if let Some(trusted) = trusted
        && (against.size, &against.root) != (trusted.size, &trusted.root)
    {
        return Err(format!(
            "it starts from the checkpoint of size {} (root {}), not the trusted one of size {} \
             (root {})",
            against.size, against.root, trusted.size, trusted.root
        ));
    }
    match &proof {
        Proof::Inclusion(p) => checkpoint::verify_inclusion(p)
            .map(|record| {
                let what = record.document().map_or_else(
                    || "a status event".to_string(),
                    |d| format!("{} № {} (case {})", d.document, d.number, d.case_id),
                );
                format!(
                    "record {} of registry {}, {what}, is in the tree of size {} with root {}{}",
                    record.seq,
                    p.registry,
                    p.checkpoint.size,
                    p.checkpoint.root,
                    if trusted.is_some() {
                        " (the trusted checkpoint)"
                    } else {
                        ""
                    }
                )
            })
            .map_err(|e| format!("{e:#}")),
        Proof::Consistency(p) => checkpoint::verify_consistency(p)
            .map(|()| {
                format!(
                    "registry {}: the tree of size {} (root {}) extends the tree of size {} \
                     (root {}): it only grew",
                    p.registry, p.new.size, p.new.root, p.old.size, p.old.root
                )
            })
            .map_err(|e| format!("{e:#}")),
    }
}
