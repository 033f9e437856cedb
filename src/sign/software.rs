//! The signer that holds its key in memory, read from a PKCS#12 keystore: RSA of 2048 bits or
//! more (PKCS#1 v1.5, SHA-256) or ECDSA on P-256 (SHA-256, nonces per RFC 6979). Both are
//! deterministic — the same key and message give the same signature — and neither reads a
//! random source, so signing never breaks qujat's same-inputs-same-bytes rule.

use std::path::Path;

use anyhow::{Context, Result, bail};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::traits::PublicKeyParts;
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;

use super::keystore::{self, KeystoreContents, Password, PasswordSource};
use super::signer::{SignatureAlgorithm, Signer, ToSign};

/// RSA keys shorter than this are refused (NIST SP 800-131A; the floor).
pub const MIN_RSA_BITS: usize = 2048;

enum Key {
    Rsa(rsa::pkcs1v15::SigningKey<sha2::Sha256>),
    P256(p256::ecdsa::SigningKey),
}

/// A key and its certificate chain, in memory.
pub struct SoftwareSigner {
    key: Key,
    certificates: Vec<Certificate>,
}

impl std::fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let subject = self
            .certificates
            .first()
            .map(|c| c.tbs_certificate().subject().to_string());
        f.debug_struct("SoftwareSigner")
            .field("subject", &subject)
            .finish_non_exhaustive()
    }
}

impl SoftwareSigner {
    /// A signer from a PKCS#8 private key and certificates: the one whose public key is the
    /// key's becomes the signer's, the others are ordered as its chain.
    pub fn new(key_pkcs8: &[u8], certificates: Vec<Certificate>) -> Result<SoftwareSigner> {
        let info = rsa::pkcs8::PrivateKeyInfoRef::from_der(key_pkcs8)
            .context("the private key is not PKCS#8")?;
        let oid = info.algorithm.oid;
        let (key, public) = match oid {
            rfc5912::RSA_ENCRYPTION => {
                let key = rsa::PrivateKey::from_pkcs8_der(key_pkcs8)
                    .context("unreadable RSA private key")?;
                let bits = key.size() * 8;
                if bits < MIN_RSA_BITS {
                    bail!("the RSA key has {bits} bits; at least {MIN_RSA_BITS} are required");
                }
                let public = key.as_public_key().to_public_key_der()?;
                (Key::Rsa(rsa::pkcs1v15::SigningKey::new(key)), public)
            }
            rfc5912::ID_EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
                if curve != Some(rfc5912::SECP_256_R_1) {
                    bail!(
                        "the EC key is on curve {}; only P-256 (secp256r1) is supported",
                        curve.map_or("(unnamed)".into(), |c| c.to_string())
                    );
                }
                let key = p256::SecretKey::from_pkcs8_der(key_pkcs8)
                    .context("unreadable P-256 private key")?;
                let public = key.public_key().to_public_key_der()?;
                (Key::P256(p256::ecdsa::SigningKey::from(key)), public)
            }
            other => bail!(
                "keys of algorithm {other} are not supported (RSA of {MIN_RSA_BITS} bits or more, \
                 and ECDSA P-256 are)"
            ),
        };
        let public = SubjectPublicKeyInfoOwned::from_der(public.as_bytes())?;
        let certificates = order_chain(certificates, &public)?;
        Ok(SoftwareSigner { key, certificates })
    }

    /// A signer from a PKCS#12 keystore's bytes.
    pub fn from_pkcs12(bytes: &[u8], password: &Password, alias: Option<&str>) -> Result<Self> {
        let KeystoreContents {
            key_pkcs8,
            certificates,
        } = keystore::read_pkcs12(bytes, password, alias)?;
        SoftwareSigner::new(&key_pkcs8, certificates)
    }

    /// A signer from the keystore file at `path`, its password read from `password`.
    pub fn open(path: &Path, password: &PasswordSource, alias: Option<&str>) -> Result<Self> {
        let KeystoreContents {
            key_pkcs8,
            certificates,
        } = keystore::open(path, password, alias)?;
        SoftwareSigner::new(&key_pkcs8, certificates)
            .with_context(|| format!("keystore {}", path.display()))
    }
}

/// The certificate of `public` first, then its issuers as far as they are present.
fn order_chain(
    certificates: Vec<Certificate>,
    public: &SubjectPublicKeyInfoOwned,
) -> Result<Vec<Certificate>> {
    // The key's bits and algorithm decide; how a writer encoded absent parameters does not.
    let same_key = |c: &Certificate| {
        let spki = c.tbs_certificate().subject_public_key_info();
        spki.algorithm.oid == public.algorithm.oid
            && spki.subject_public_key == public.subject_public_key
    };
    let (mine, mut others): (Vec<_>, Vec<_>) = certificates.into_iter().partition(same_key);
    let Some(mine) = mine.into_iter().next() else {
        bail!("no certificate of the keystore belongs to its private key");
    };
    let mut chain = vec![mine];
    loop {
        let last = chain.last().expect("not empty");
        if last.tbs_certificate().issuer() == last.tbs_certificate().subject() {
            break;
        }
        let issuer = last.tbs_certificate().issuer().clone();
        match others
            .iter()
            .position(|c| *c.tbs_certificate().subject() == issuer)
        {
            Some(i) => chain.push(others.remove(i)),
            None => break,
        }
    }
    Ok(chain)
}

impl Signer for SoftwareSigner {
    fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key {
            Key::Rsa(_) => SignatureAlgorithm::rsa_pkcs1_sha256(),
            Key::P256(_) => SignatureAlgorithm::ecdsa_sha256(),
        }
    }

    fn max_signature_len(&self) -> usize {
        match &self.key {
            Key::Rsa(key) => key.as_ref().size(),
            // SEQUENCE { INTEGER r, INTEGER s }, each up to 33 bytes with a sign byte.
            Key::P256(_) => 72,
        }
    }

    fn sign(&self, request: &ToSign<'_>) -> Result<Vec<u8>> {
        Ok(match &self.key {
            // Both hash the message with SHA-256 themselves; RSA's exponentiation is
            // constant-time in rsa 0.10 without blinding, which would need a random source.
            Key::Rsa(key) => key.try_sign(request.signed_attributes)?.to_vec(),
            Key::P256(key) => {
                let signature: p256::ecdsa::DerSignature =
                    key.try_sign(request.signed_attributes)?;
                signature.as_bytes().to_vec()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::signature::Verifier;

    #[test]
    fn ecdsa_nonces_are_rfc_6979_deterministic() {
        // RFC 6979 A.2.5: P-256, SHA-256, message "sample".
        let x = hex::decode("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721")
            .unwrap();
        let key = p256::ecdsa::SigningKey::from_slice(&x).unwrap();
        let signature: p256::ecdsa::Signature = key.sign(b"sample");
        assert_eq!(
            hex::encode_upper(signature.r().to_bytes()),
            "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
        );
        assert_eq!(
            hex::encode_upper(signature.s().to_bytes()),
            "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
        );
        key.verifying_key().verify(b"sample", &signature).unwrap();
    }
}
