//! What signs: the one interface between qujat and a key, wherever the key lives — a PKCS#12
//! file ([`super::SoftwareSigner`]), a hardware token reached through PKCS#11, or a signing
//! service of the national certification authority (docs/signing.md shows both plug-ins).
//!
//! qujat builds everything of the signature but the signature value: the PDF's digest, the
//! CMS signed attributes, the certificate chain's place in the CMS, the PDF update. A signer
//! only names its certificates and algorithm and signs the signed attributes it is handed —
//! the smallest request a token or a remote service can answer, and the same for both.

use anyhow::{Result, bail};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Encode;
use der::asn1::{OctetString, UintRef};
use sha2::Digest;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

/// The hash a signature is made over (RFC 5754 / FIPS 180-4). A GOST signer would add
/// Streebog here (RustCrypto's `streebog` crate) with its OID; nothing else in qujat depends
/// on which hash it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgorithm {
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            DigestAlgorithm::Sha256 => rfc5912::ID_SHA_256,
            DigestAlgorithm::Sha384 => rfc5912::ID_SHA_384,
            DigestAlgorithm::Sha512 => rfc5912::ID_SHA_512,
        }
    }

    pub fn from_oid(oid: &ObjectIdentifier) -> Option<DigestAlgorithm> {
        [
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ]
        .into_iter()
        .find(|d| d.oid() == *oid)
    }

    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// The CMS `AlgorithmIdentifier` (parameters absent, as RFC 5754 §2 prefers).
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }

    /// The digest of the concatenation of `parts`.
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut d = D::new();
            for part in parts {
                d.update(part);
            }
            d.finalize().to_vec()
        }
        match self {
            DigestAlgorithm::Sha256 => run::<sha2::Sha256>(parts),
            DigestAlgorithm::Sha384 => run::<sha2::Sha384>(parts),
            DigestAlgorithm::Sha512 => run::<sha2::Sha512>(parts),
        }
    }
}

/// How a signer signs: the hash it signs over and the CMS `signatureAlgorithm` it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureAlgorithm {
    pub digest: DigestAlgorithm,
    pub identifier: AlgorithmIdentifierOwned,
}

impl SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`sha256WithRSAEncryption`, RFC 4055; NULL parameters
    /// as RFC 4055 §5 requires).
    pub fn rsa_pkcs1_sha256() -> SignatureAlgorithm {
        SignatureAlgorithm {
            digest: DigestAlgorithm::Sha256,
            identifier: AlgorithmIdentifierOwned {
                oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
                parameters: Some(der::asn1::Null.into()),
            },
        }
    }

    /// ECDSA with SHA-256 (`ecdsa-with-SHA256`, RFC 5758; parameters absent).
    pub fn ecdsa_sha256() -> SignatureAlgorithm {
        SignatureAlgorithm {
            digest: DigestAlgorithm::Sha256,
            identifier: AlgorithmIdentifierOwned {
                oid: rfc5912::ECDSA_WITH_SHA_256,
                parameters: None,
            },
        }
    }
}

/// What a signer is asked to sign.
pub struct ToSign<'a> {
    /// The DER of the CMS signed attributes (RFC 5652 §5.4: the `SET OF` with its own tag):
    /// the message for a signer that hashes (PKCS#11 `CKM_SHA256_RSA_PKCS`, a service taking
    /// data).
    pub signed_attributes: &'a [u8],
    /// Their digest under the signer's digest algorithm: for a signer that takes a hash
    /// (PKCS#11 `CKM_ECDSA`, a service taking a hash).
    pub digest: &'a [u8],
    /// The digest algorithm of `digest`.
    pub digest_algorithm: DigestAlgorithm,
}

impl ToSign<'_> {
    /// The DER `DigestInfo` of the digest (RFC 8017 §9.2): what a raw RSA PKCS#1 v1.5
    /// mechanism (PKCS#11 `CKM_RSA_PKCS`) expects to be handed.
    pub fn digest_info(&self) -> Result<Vec<u8>> {
        #[derive(der::Sequence)]
        struct DigestInfo {
            algorithm: AlgorithmIdentifierOwned,
            digest: OctetString,
        }
        let info = DigestInfo {
            algorithm: AlgorithmIdentifierOwned {
                oid: self.digest_algorithm.oid(),
                parameters: Some(der::asn1::Null.into()),
            },
            digest: OctetString::new(self.digest)?,
        };
        Ok(info.to_der()?)
    }
}

/// A key that signs for one official.
///
/// Implementations must be deterministic (RSA PKCS#1 v1.5, ECDSA per RFC 6979, GOST with a
/// deterministic nonce) for qujat's rule that the same record gives the same bytes; a signer
/// whose signatures vary still yields valid documents, but regenerating one then relies on
/// its kept signature ([`super::KeptSignature`]) alone.
pub trait Signer: Send + Sync {
    /// The signer's certificate first, then the certificates that issued it, towards the
    /// root (the root may be left out: verifiers take it from their trust store).
    fn certificates(&self) -> &[Certificate];

    /// The algorithm of the signatures [`Signer::sign`] returns.
    fn algorithm(&self) -> SignatureAlgorithm;

    /// The longest signature this signer can return, in bytes: the room reserved for the
    /// signature in the PDF is computed from it, before signing.
    fn max_signature_len(&self) -> usize;

    /// Signs. The result is the CMS `SignatureValue`: for RSA the PKCS#1 v1.5 signature, for
    /// ECDSA the DER `Ecdsa-Sig-Value` ([`ecdsa_der_from_raw`] converts a token's raw r‖s).
    fn sign(&self, request: &ToSign<'_>) -> Result<Vec<u8>>;
}

/// The DER `Ecdsa-Sig-Value` (RFC 5480 §2.2.3: `SEQUENCE { r INTEGER, s INTEGER }`) of a raw
/// ECDSA signature `r‖s`, as PKCS#11 tokens return it.
pub fn ecdsa_der_from_raw(raw: &[u8]) -> Result<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        bail!(
            "a raw ECDSA signature has two halves of equal length, not {} bytes",
            raw.len()
        );
    }
    #[derive(der::Sequence)]
    struct EcdsaSig<'a> {
        r: UintRef<'a>,
        s: UintRef<'a>,
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let sig = EcdsaSig {
        r: UintRef::new(r)?,
        s: UintRef::new(s)?,
    };
    Ok(sig.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_info_is_the_rfc_8017_prefix_and_the_hash() {
        let digest = DigestAlgorithm::Sha256.digest(&[b"abc"]);
        let request = ToSign {
            signed_attributes: b"abc",
            digest: &digest,
            digest_algorithm: DigestAlgorithm::Sha256,
        };
        let info = request.digest_info().unwrap();
        // RFC 8017 §9.2, note 1: the fixed SHA-256 prefix.
        let prefix = hex::decode("3031300d060960864801650304020105000420").unwrap();
        assert_eq!(&info[..prefix.len()], &prefix[..]);
        assert_eq!(&info[prefix.len()..], &digest[..]);
    }

    #[test]
    fn raw_ecdsa_signatures_become_der() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a leading zero in DER
        raw[63] = 1;
        let der = ecdsa_der_from_raw(&raw).unwrap();
        assert_eq!(der[0], 0x30);
        assert_eq!(&der[2..5], &[0x02, 33, 0x00]);
        // s = 1, leading zeros stripped.
        assert_eq!(&der[der.len() - 3..], &[0x02, 1, 1]);
        assert!(ecdsa_der_from_raw(&[1, 2, 3]).is_err());
    }
}
