//! Kept signatures: what regenerating a signed document needs once the key is gone.
//!
//! A signature is an incremental update appended to the rendered PDF, so the signed file is
//! the rendered file followed by the update. Keeping the whole update — not just the CMS
//! bytes — means regeneration depends on nothing of how this version of qujat lays an update
//! out: a document signed years ago by an older qujat is rebuilt from its own bytes. The
//! update is a few kilobytes (the certificate chain dominates).
//!
//! The kept form is self-describing text then bytes:
//!
//! ```text
//! qujat kept signature 1
//! unsigned-sha256 <hex>
//! unsigned-length <n>
//! update-length <m>
//!
//! <m bytes of update>
//! ```

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::pdf::Document;

const MAGIC: &str = "qujat kept signature 1";

/// The part of a signed PDF that its unsigned original does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptSignature {
    /// The SHA-256 of the unsigned PDF it applies to.
    pub unsigned_sha256: [u8; 32],
    pub unsigned_len: u64,
    /// The appended update, signature included.
    pub update: Vec<u8>,
}

impl KeptSignature {
    /// What `signed` adds to `unsigned`, which must be its prefix.
    pub fn of(unsigned: &[u8], signed: &[u8]) -> Result<KeptSignature> {
        if !signed.starts_with(unsigned) || signed.len() == unsigned.len() {
            bail!("the signed PDF does not extend the unsigned one");
        }
        Ok(KeptSignature {
            unsigned_sha256: Sha256::digest(unsigned).into(),
            unsigned_len: unsigned.len() as u64,
            update: signed[unsigned.len()..].to_vec(),
        })
    }

    /// The last update of `signed` (the signature qujat appended), found without the
    /// unsigned original: the update's cross-reference points back (`/Prev`) to the original's,
    /// the original ends with the `%%EOF` after it, and qujat's update begins with one line feed.
    pub fn extract(signed: &[u8]) -> Result<KeptSignature> {
        let doc = Document::parse(signed).context("cannot read the signed PDF")?;
        let prev = doc
            .trailer
            .get("Prev")
            .and_then(|p| p.as_int())
            .and_then(|p| usize::try_from(p).ok())
            .context("the PDF has a single revision: it carries no appended signature")?;
        let eof = prev
            + memchr::memmem::find(signed.get(prev..).unwrap_or_default(), b"%%EOF")
                .context("the original revision has no %%EOF")?
            + b"%%EOF".len();
        // The original's own line ending (if any) precedes the update's single line feed.
        let mut end = eof;
        while matches!(signed.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        if end == eof || signed[end - 1] != b'\n' {
            bail!("the last update does not begin as qujat writes one");
        }
        let boundary = end - 1;
        let unsigned = &signed[..boundary];
        // The prefix must be a whole PDF whose cross-reference is the one the update continues.
        let original = Document::parse(unsigned)
            .context("the part before the last update is not a complete PDF")?;
        if original.startxref != prev {
            bail!("the last update does not continue the revision before it");
        }
        KeptSignature::of(unsigned, signed)
    }

    /// The signed PDF again: `unsigned` (which must be the very file the signature was made
    /// for) followed by the kept update. No key is needed.
    pub fn apply(&self, unsigned: &[u8]) -> Result<Vec<u8>> {
        if unsigned.len() as u64 != self.unsigned_len
            || <[u8; 32]>::from(Sha256::digest(unsigned)) != self.unsigned_sha256
        {
            bail!(
                "the kept signature belongs to another rendering: it was made for a {}-byte PDF \
                 with SHA-256 {}, this one has {} bytes and SHA-256 {}",
                self.unsigned_len,
                hex::encode(self.unsigned_sha256),
                unsigned.len(),
                hex::encode(Sha256::digest(unsigned))
            );
        }
        let mut out = Vec::with_capacity(unsigned.len() + self.update.len());
        out.extend_from_slice(unsigned);
        out.extend_from_slice(&self.update);
        Ok(out)
    }

    /// The kept form's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{MAGIC}\nunsigned-sha256 {}\nunsigned-length {}\nupdate-length {}\n\n",
            hex::encode(self.unsigned_sha256),
            self.unsigned_len,
            self.update.len()
        )
        .into_bytes();
        out.extend_from_slice(&self.update);
        out
    }

    /// Reads the kept form.
    pub fn from_bytes(bytes: &[u8]) -> Result<KeptSignature> {
        let header_end =
            memchr::memmem::find(bytes, b"\n\n").context("not a kept signature: no header")?;
        let header = std::str::from_utf8(&bytes[..header_end])
            .context("not a kept signature: the header is not text")?;
        let mut lines = header.lines();
        if lines.next() != Some(MAGIC) {
            bail!("not a kept signature (it does not begin with `{MAGIC}`)");
        }
        let mut field = |name: &str| -> Result<&str> {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(' '))
                .with_context(|| format!("kept signature: expected `{name}`"))
        };
        let sha: [u8; 32] = hex::decode(field("unsigned-sha256")?)
            .ok()
            .and_then(|v| v.try_into().ok())
            .context("kept signature: bad unsigned-sha256")?;
        let unsigned_len = field("unsigned-length")?
            .parse()
            .context("kept signature: bad unsigned-length")?;
        let update_len: usize = field("update-length")?
            .parse()
            .context("kept signature: bad update-length")?;
        let update = &bytes[header_end + 2..];
        if update.len() != update_len {
            bail!(
                "kept signature: the update has {} bytes, the header says {update_len}",
                update.len()
            );
        }
        Ok(KeptSignature {
            unsigned_sha256: sha,
            unsigned_len,
            update: update.to_vec(),
        })
    }
}
