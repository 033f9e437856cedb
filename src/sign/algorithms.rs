//! Checking a signature value with a public key: RSA PKCS#1 v1.5 and ECDSA on P-256, over
//! SHA-256, SHA-384 or SHA-512 — what certificates, CRLs and qujat's CMS signatures use.
//! A failure is a sentence for the report, not an error code.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Encode;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::hazmat::PrehashVerifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use super::signer::DigestAlgorithm;

/// What a signature algorithm identifier says.
fn split(
    algorithm: &ObjectIdentifier,
    digest_hint: Option<DigestAlgorithm>,
) -> Option<(Kind, DigestAlgorithm)> {
    Some(match *algorithm {
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => (Kind::Rsa, DigestAlgorithm::Sha256),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => (Kind::Rsa, DigestAlgorithm::Sha384),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => (Kind::Rsa, DigestAlgorithm::Sha512),
        // CMS allows the bare key algorithm with the hash named by digestAlgorithm.
        rfc5912::RSA_ENCRYPTION => (Kind::Rsa, digest_hint?),
        rfc5912::ECDSA_WITH_SHA_256 => (Kind::Ecdsa, DigestAlgorithm::Sha256),
        rfc5912::ECDSA_WITH_SHA_384 => (Kind::Ecdsa, DigestAlgorithm::Sha384),
        rfc5912::ECDSA_WITH_SHA_512 => (Kind::Ecdsa, DigestAlgorithm::Sha512),
        rfc5912::ID_EC_PUBLIC_KEY => (Kind::Ecdsa, digest_hint?),
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rsa,
    Ecdsa,
}

/// A readable name of a signature algorithm.
pub fn name(algorithm: &ObjectIdentifier, digest_hint: Option<DigestAlgorithm>) -> String {
    match split(algorithm, digest_hint) {
        Some((Kind::Rsa, d)) => format!("RSA PKCS#1 v1.5 with {}", d.name()),
        Some((Kind::Ecdsa, d)) => format!("ECDSA with {}", d.name()),
        None => format!("algorithm {algorithm}"),
    }
}

/// A readable description of a public key: `RSA 2048-bit`, `ECDSA P-256`.
pub fn key_name(spki: &SubjectPublicKeyInfoOwned) -> String {
    match spki.algorithm.oid {
        rfc5912::RSA_ENCRYPTION => match spki
            .to_der()
            .ok()
            .and_then(|der| rsa::PublicKey::from_public_key_der(&der).ok())
        {
            Some(key) => format!("RSA {}-bit", rsa::traits::PublicKeyParts::size(&key) * 8),
            None => "RSA (unreadable key)".into(),
        },
        rfc5912::ID_EC_PUBLIC_KEY if is_p256(spki) => "ECDSA P-256".into(),
        rfc5912::ID_EC_PUBLIC_KEY => "ECDSA on another curve".into(),
        other => format!("key algorithm {other}"),
    }
}

fn is_p256(spki: &SubjectPublicKeyInfoOwned) -> bool {
    spki.algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        == Some(rfc5912::SECP_256_R_1)
}

/// Checks that `signature` is `key`'s signature over `message` under `algorithm`
/// (`digest_hint`: the hash, for identifiers that name only the key's algorithm).
pub fn verify(
    key: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    digest_hint: Option<DigestAlgorithm>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let Some((kind, digest)) = split(&algorithm.oid, digest_hint) else {
        return Err(format!(
            "the signature algorithm {} is not one this verifier knows (RSA PKCS#1 v1.5 and \
             ECDSA with SHA-2)",
            algorithm.oid
        ));
    };
    let hashed = digest.digest(&[message]);
    match kind {
        Kind::Rsa => {
            if key.algorithm.oid != rfc5912::RSA_ENCRYPTION {
                return Err(format!(
                    "an RSA signature, but the key is {}",
                    key_name(key)
                ));
            }
            let der = key
                .to_der()
                .map_err(|e| format!("unreadable RSA key: {e}"))?;
            let public = rsa::PublicKey::from_public_key_der(&der)
                .map_err(|e| format!("unreadable RSA key: {e}"))?;
            let signature = rsa::pkcs1v15::Signature::try_from(signature)
                .map_err(|_| "the RSA signature is malformed".to_string())?;
            let checked = match digest {
                DigestAlgorithm::Sha256 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public)
                    .verify_prehash(&hashed, &signature),
                DigestAlgorithm::Sha384 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(public)
                    .verify_prehash(&hashed, &signature),
                DigestAlgorithm::Sha512 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(public)
                    .verify_prehash(&hashed, &signature),
            };
            checked.map_err(|_| "the signature does not match the key".to_string())
        }
        Kind::Ecdsa => {
            if key.algorithm.oid != rfc5912::ID_EC_PUBLIC_KEY || !is_p256(key) {
                return Err(format!(
                    "an ECDSA signature by a key this verifier cannot use ({}; P-256 is supported)",
                    key_name(key)
                ));
            }
            let public =
                p256::ecdsa::VerifyingKey::from_sec1_bytes(key.subject_public_key.raw_bytes())
                    .map_err(|_| "unreadable P-256 key".to_string())?;
            let signature = p256::ecdsa::Signature::from_der(signature)
                .map_err(|_| "the ECDSA signature is malformed".to_string())?;
            public
                .verify_prehash(&hashed, &signature)
                .map_err(|_| "the signature does not match the key".to_string())
        }
    }
}
