//! `qujat verify`: is this document genuine, and is it in force? A PDF is looked up by its
//! SHA-256 in every registry; a scanned QR payload by its registry and number, and its content
//! hash compared with the record's. A document is called genuine only when its record is part of
//! the registry's verified history: linked to its neighbours and included, by an inclusion proof,
//! in the registry's newest checkpoint (or in a trusted checkpoint given). The same verdicts
//! serve `qujat serve`.

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::qr::Payload;
use crate::registry::checkpoint::Checkpoint;
use crate::registry::reader::{Found, Reader, Vouch};
use crate::registry::{Document, sha256_hex};
use crate::store::Store;

/// The answer about one document.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Registered, its record in the verified history: the document, with its status in force,
    /// the checkpoint that includes it, and what is known to be wrong with the registry besides.
    Genuine {
        document: Box<Document>,
        checkpoint: u64,
        caveats: Vec<String>,
    },
    /// Registered, its record intact and linked, but not yet in a checkpoint: not vouched for.
    Unconfirmed {
        document: Box<Document>,
        why: String,
    },
    /// A record names it, but the registry's history does not hold that record as it stands.
    Disowned {
        document: Box<Document>,
        why: String,
    },
    /// The number exists, but with other content: the document was altered.
    Altered { why: String },
    /// Not registered anywhere, or not as presented.
    Unknown { why: String },
}

impl Verdict {
    /// The verdict's name, as `qujat verify --json`, the verification service's JSON API and
    /// its metrics name it.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Genuine { .. } => "genuine",
            Verdict::Unconfirmed { .. } => "unconfirmed",
            Verdict::Disowned { .. } => "disowned",
            Verdict::Altered { .. } => "altered",
            Verdict::Unknown { .. } => "unknown",
        }
    }

    /// The exit code of a verify that got only this verdict.
    pub fn exit_code(&self) -> i32 {
        match self {
            Verdict::Genuine { document, .. } if document.in_force() => crate::exit::OK,
            Verdict::Genuine { .. } => crate::exit::NOT_IN_FORCE,
            _ => crate::exit::REJECTED,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Genuine {
                document, caveats, ..
            } => {
                writeln!(
                    f,
                    "GENUINE{}",
                    if document.in_force() {
                        ""
                    } else {
                        ", but NOT IN FORCE"
                    }
                )?;
                write!(f, "{document}")?;
                for caveat in caveats {
                    writeln!(f, "  caveat     the registry: {caveat}")?;
                }
                Ok(())
            }
            Verdict::Unconfirmed { document, why } => {
                writeln!(f, "NOT CONFIRMED — {why}")?;
                write!(f, "{document}")
            }
            Verdict::Disowned { document, why } => {
                writeln!(f, "NOT GENUINE — {why}")?;
                write!(f, "{document}")
            }
            Verdict::Altered { why } => writeln!(f, "ALTERED — {why}"),
            Verdict::Unknown { why } => writeln!(f, "UNKNOWN — {why}"),
        }
    }
}

/// The verdict on `found` in `reader`'s registry: genuine only if its record is in the verified
/// history (see [`Reader::vouch`]).
pub fn judge(reader: &Reader, found: &Found, trusted: Option<&Checkpoint>) -> Result<Verdict> {
    verdict(
        reader.document(found)?,
        reader.vouch(found, trusted)?,
        || reader.caveats(),
    )
}

/// The verdict on a registered document given what [`Reader::vouch`] said of its record;
/// `caveats` (what is wrong with the registry besides) is asked for only when it is genuine. A
/// long-running reader (`qujat serve`) gives the caveats it keeps instead of reading them again.
pub fn verdict(
    document: Document,
    vouch: Vouch,
    caveats: impl FnOnce() -> Result<Vec<String>>,
) -> Result<Verdict> {
    let document = Box::new(document);
    Ok(match vouch {
        Vouch::Verified { size, .. } => Verdict::Genuine {
            document,
            checkpoint: size,
            caveats: caveats()?,
        },
        Vouch::Unconfirmed(why) => Verdict::Unconfirmed { document, why },
        Vouch::Disowned(why) => Verdict::Disowned { document, why },
    })
}

/// Looks a PDF up by its SHA-256 in every registry of `store`.
pub fn verify_file(
    store: &dyn Store,
    path: &Path,
    trusted: Option<&Checkpoint>,
) -> Result<Verdict> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    verify_bytes(store, &bytes, trusted)
}

/// Looks a PDF's bytes up by their SHA-256 in every registry of `store`.
pub fn verify_bytes(
    store: &dyn Store,
    bytes: &[u8],
    trusted: Option<&Checkpoint>,
) -> Result<Verdict> {
    let sha256 = sha256_hex(bytes);
    let (readers, _) = Reader::all(store)?;
    for reader in &readers {
        if let Some(found) = reader.by_pdf(&sha256)?.first() {
            return judge(reader, found, trusted);
        }
    }
    Ok(Verdict::Unknown {
        why: format!(
            "no registry in {} holds a document with SHA-256 {sha256}: it was altered, or not \
             issued here",
            store.describe()
        ),
    })
}

/// A presented PDF's verdict together with its signature's. The signature is checked against
/// the record the file was found by, or alone when none was: a file no registry holds whose own
/// signature shows it was changed after it was signed is ALTERED, not UNKNOWN. There is no
/// finding when it would add nothing: the verdict is ALTERED already, or the file carries no
/// signature and its record names none (issued before qujat signed).
pub fn with_signature(
    verdict: Verdict,
    pdf: &[u8],
    trust: &crate::sign::check::SignatureTrust,
) -> (Verdict, Option<crate::sign::check::Finding>) {
    use crate::sign::check::{self, Finding};
    let entry = match &verdict {
        Verdict::Genuine { document, .. }
        | Verdict::Unconfirmed { document, .. }
        | Verdict::Disowned { document, .. } => Some(&document.entry),
        _ => None,
    };
    let finding = check::check(pdf, entry, trust);
    let verdict = match (&finding, entry) {
        (Finding::Invalid { altered: true, why }, None) => Verdict::Altered {
            why: format!(
                "no registry holds this file, and its own signature shows it was changed after \
                 it was signed: {why}"
            ),
        },
        _ => verdict,
    };
    match (&verdict, finding) {
        (Verdict::Altered { .. }, _) | (_, Finding::Unsigned) => (verdict, None),
        (_, finding) => (verdict, Some(finding)),
    }
}

/// Checks a scanned QR payload: the registry must hold the number, with the same content hash.
pub fn verify_payload(
    store: &dyn Store,
    text: &str,
    trusted: Option<&Checkpoint>,
) -> Result<Verdict> {
    let payload = match Payload::parse(text) {
        Ok(payload) => payload,
        Err(err) => {
            return Ok(Verdict::Unknown {
                why: format!("{err:#}"),
            });
        }
    };
    let reader = match Reader::open(store, &payload.registry) {
        Ok(reader) => reader,
        Err(err) => {
            return Ok(Verdict::Unknown {
                why: format!("{err:#}"),
            });
        }
    };
    let found = reader.by_number(&payload.number)?;
    match matching(&found, &payload) {
        Ok(found) => judge(&reader, found, trusted),
        Err(verdict) => Ok(verdict),
    }
}

/// Which of the documents a registry holds under a payload's number (`found`, from
/// [`Reader::by_number`]) the payload names: the one with its content hash, or else the verdict —
/// unknown when the number is not there, altered when it is, with other content.
pub fn matching<'a>(found: &'a [Found], payload: &Payload) -> Result<&'a Found, Verdict> {
    if let Some(found) = found
        .iter()
        .find(|f| f.document().content == payload.content)
    {
        return Ok(found);
    }
    Err(if found.is_empty() {
        Verdict::Unknown {
            why: format!(
                "registry {} has no document № {}",
                payload.registry, payload.number
            ),
        }
    } else {
        Verdict::Altered {
            why: format!(
                "registry {} has № {}, but with other content than this QR code names: \
                 the document was altered",
                payload.registry, payload.number
            ),
        }
    })
}
