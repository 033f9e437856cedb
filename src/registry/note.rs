//! Signed checkpoints: C2SP signed notes (c2sp.org/signed-note) in the tlog-checkpoint form
//! (c2sp.org/tlog-checkpoint), signed with the registry's own Ed25519 key.
//!
//! A checkpoint's note is three lines — the log's origin, the tree size in decimal, the root
//! hash in standard base64 — then a blank line and one signature line per signer: `— <key name>
//! <base64(key hash ‖ signature)>`. The key hash is the first four bytes of SHA-256(key name ‖
//! `\n` ‖ 0x01 ‖ public key). Keys are written as the Go reference implementation
//! (golang.org/x/mod/sumdb/note) writes them: `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`
//! for the signer, `<name>+<hash>+<base64(0x01 ‖ public key)>` for a verifier. Ed25519 is
//! deterministic: the same checkpoint and key always give the same note.
//!
//! Why it matters: whoever can write the registry can recompute every hash and every checkpoint
//! root, but not sign them without the registry's key, which is kept apart from the registry
//! (and from the officials' keys). A checkpoint a ministry published — on a web page, to a
//! witness — pins the history up to it for anyone holding the public key.

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// The em dash that starts a signature line.
const DASH: &str = "\u{2014}";

/// The algorithm byte of Ed25519 keys and signatures.
const ED25519: u8 = 0x01;

/// A key's name: no white space, no `+`, not empty.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace)
}

/// The four-byte hash that identifies a key: SHA-256(name ‖ `\n` ‖ 0x01 ‖ public key).
fn key_hash(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ED25519]);
    hasher.update(public);
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A registry's signing key.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    /// Names the key, never shows it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteSigner({})", self.name)
    }
}

/// A key that checks signed notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    hash: [u8; 4],
    key: VerifyingKey,
}

impl NoteSigner {
    /// Reads a signer key (`PRIVATE+KEY+<name>+<hash>+<base64>`).
    pub fn parse(text: &str) -> Result<NoteSigner> {
        let text = text.trim();
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .context("a signer key starts with PRIVATE+KEY+")?;
        let (name, hash, key) = three(rest)?;
        let bytes = STANDARD
            .decode(key)
            .context("the signer key is not base64")?;
        ensure!(
            bytes.len() == 33 && bytes[0] == ED25519,
            "the signer key is not an Ed25519 key"
        );
        let seed: [u8; 32] = bytes[1..].try_into().expect("32 bytes");
        let key = SigningKey::from_bytes(&seed);
        let signer = NoteSigner {
            name: name.to_string(),
            key,
        };
        ensure!(
            hex::encode(signer.hash()) == hash,
            "the signer key's hash does not match its name and key"
        );
        Ok(signer)
    }

    /// A signer from a 32-byte seed (key generation uses a random one).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<NoteSigner> {
        ensure!(
            valid_name(name),
            "a key name has no spaces and no '+': {name:?}"
        );
        Ok(NoteSigner {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    fn hash(&self) -> [u8; 4] {
        key_hash(&self.name, &self.key.verifying_key().to_bytes())
    }

    /// The key as text, to keep (secret).
    pub fn text(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.hash()),
            STANDARD.encode(bytes)
        )
    }

    /// The verifier key, to publish.
    pub fn verifier(&self) -> NoteVerifier {
        let key = self.key.verifying_key();
        NoteVerifier {
            name: self.name.clone(),
            hash: key_hash(&self.name, &key.to_bytes()),
            key,
        }
    }

    /// Signs `text` (which ends in a newline): the signed note.
    pub fn sign(&self, text: &str) -> Result<String> {
        ensure!(
            text.ends_with('\n') && !text.contains("\n\n"),
            "a note's text ends in a newline and has no blank line"
        );
        let signature = self.key.sign(text.as_bytes());
        let mut bytes = self.hash().to_vec();
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(format!(
            "{text}\n{DASH} {} {}\n",
            self.name,
            STANDARD.encode(bytes)
        ))
    }
}

/// `<name>+<hash>+<key>`.
fn three(text: &str) -> Result<(&str, &str, &str)> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("a key is <name>+<hash>+<key>");
    };
    ensure!(valid_name(name), "a key name has no spaces and no '+'");
    ensure!(
        hash.len() == 8 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "a key hash is 8 lower-case hex digits"
    );
    Ok((name, hash, key))
}

impl NoteVerifier {
    /// Reads a verifier key (`<name>+<hash>+<base64>`).
    pub fn parse(text: &str) -> Result<NoteVerifier> {
        let (name, hash, key) = three(text.trim())?;
        let bytes = STANDARD
            .decode(key)
            .context("the verifier key is not base64")?;
        ensure!(
            bytes.len() == 33 && bytes[0] == ED25519,
            "the verifier key is not an Ed25519 key"
        );
        let public: [u8; 32] = bytes[1..].try_into().expect("32 bytes");
        let key = VerifyingKey::from_bytes(&public).context("not an Ed25519 public key")?;
        let verifier = NoteVerifier {
            name: name.to_string(),
            hash: key_hash(name, &public),
            key,
        };
        ensure!(
            hex::encode(verifier.hash) == hash,
            "the verifier key's hash does not match its name and key"
        );
        Ok(verifier)
    }

    /// The key as text, to publish.
    pub fn text(&self) -> String {
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(&self.key.to_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.hash),
            STANDARD.encode(bytes)
        )
    }

    /// The text of `note` if this key signed it; why not otherwise.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str> {
        let at = note
            .rfind("\n\n")
            .context("a signed note has a blank line before its signatures")?;
        let (text, signatures) = (&note[..at + 1], &note[at + 2..]);
        ensure!(
            !text.contains("\n\n") && signatures.ends_with('\n'),
            "not a signed note"
        );
        for line in signatures.lines() {
            let Some(rest) = line.strip_prefix(&format!("{DASH} ")) else {
                bail!("a signature line starts with an em dash and a space");
            };
            let Some((name, signature)) = rest.split_once(' ') else {
                bail!("a signature line is the key's name and the signature");
            };
            if name != self.name {
                continue;
            }
            let bytes = STANDARD
                .decode(signature)
                .context("a signature is base64")?;
            if bytes.len() != 68 || bytes[..4] != self.hash {
                continue;
            }
            let signature = ed25519_dalek::Signature::from_slice(&bytes[4..])
                .context("not an Ed25519 signature")?;
            return self
                .key
                .verify(text.as_bytes(), &signature)
                .map(|()| text)
                .map_err(|_| anyhow::anyhow!("the signature of {} does not hold", self.name));
        }
        bail!("it is not signed by the key {}", self.name)
    }
}

/// The text of a checkpoint note: origin, tree size, root (tlog-checkpoint).
pub fn checkpoint_text(origin: &str, size: u64, root: &[u8; 32]) -> String {
    format!("{origin}\n{size}\n{}\n", STANDARD.encode(root))
}

/// What a checkpoint note's text says: (origin, size, root).
pub fn parse_checkpoint_text(text: &str) -> Result<(String, u64, [u8; 32])> {
    let mut lines = text.lines();
    let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
        bail!("a checkpoint is its origin, tree size and root hash, one a line");
    };
    let size = size
        .parse()
        .context("a checkpoint's tree size is a number")?;
    let root: [u8; 32] = STANDARD
        .decode(root)
        .ok()
        .and_then(|r| r.try_into().ok())
        .context("a checkpoint's root is 32 bytes in base64")?;
    Ok((origin.to_string(), size, root))
}

/// A random seed for a new key, from the operating system (key generation only: never on the
/// path from a case to a document).
pub fn random_seed() -> Result<[u8; 32]> {
    use std::io::Read as _;
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .context("cannot read /dev/urandom")?;
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Go reference implementation (golang.org/x/mod/sumdb/note).
    const SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIGNED: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn the_reference_example_signs_and_verifies_byte_for_byte() {
        let signer = NoteSigner::parse(SKEY).unwrap();
        assert_eq!(signer.text(), SKEY);
        assert_eq!(signer.verifier().text(), VKEY);
        assert_eq!(signer.sign(TEXT).unwrap(), SIGNED);
        let verifier = NoteVerifier::parse(VKEY).unwrap();
        assert_eq!(verifier.open(SIGNED).unwrap(), TEXT);
    }

    #[test]
    fn altered_notes_and_other_keys_are_refused() {
        let verifier = NoteVerifier::parse(VKEY).unwrap();
        let altered = SIGNED.replacen("problem,", "problem;", 1);
        assert!(verifier.open(&altered).is_err());
        let other = NoteSigner::from_seed("PeterNeumann", [7; 32]).unwrap();
        let forged = other.sign(TEXT).unwrap();
        assert!(
            verifier.open(&forged).is_err(),
            "another key of the same name"
        );
        assert!(NoteVerifier::parse(&VKEY.replace("c74f20a3", "c74f20a4")).is_err());
        assert!(NoteSigner::parse(&SKEY.replace('A', "B")).is_err());
    }

    #[test]
    fn a_checkpoint_text_reads_back() {
        let root = [9u8; 32];
        let text = checkpoint_text("qujat.gov.kz/registry/media", 1025, &root);
        assert_eq!(
            parse_checkpoint_text(&text).unwrap(),
            ("qujat.gov.kz/registry/media".to_string(), 1025, root)
        );
        let signer = NoteSigner::from_seed("qujat.gov.kz/registry", [3; 32]).unwrap();
        let note = signer.sign(&text).unwrap();
        assert_eq!(signer.verifier().open(&note).unwrap(), text);
        assert_eq!(signer.sign(&text).unwrap(), note, "deterministic");
    }
}
