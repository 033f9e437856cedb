//! Signing documents as a batch issues them: which official's key signs a case, what the page
//! shows of that key (the signature block), and the signing of a rendered PDF at the record's
//! issue date, with what the record and the registry keep of it.
//!
//! A case is matched to its key when it is taken in, so a case whose official has no key, or
//! whose certificate is not valid on the decision date, is rejected there, located like every
//! other rejection, before it takes a number. The key's certificate goes into the data the
//! template shows (and the record keeps), so the page, the record and the signature name the
//! same certificate, and regenerating the page needs no key.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use der::Encode;
use serde_json::{Value as Json, json};
use x509_cert::Certificate;

use super::config::{Signers, SigningConfig};
use super::kept::KeptSignature;
use super::pades::{SignOptions, sign_pdf};
use super::signer::Signer;
use super::time::SigningTime;
use super::{algorithms, chain};
use crate::date::Date;
use crate::registry::{SignatureEntry, sha256_hex};
use crate::store::{Kind, Store};

/// The officials' keys, opened, and the ministry's offset from UTC (signing times are noon of
/// the issue date there).
pub struct Issuing {
    signers: Signers,
    offset_minutes: i32,
}

impl std::fmt::Debug for Issuing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuing")
            .field("offset_minutes", &self.offset_minutes)
            .finish_non_exhaustive()
    }
}

/// A rendered PDF, signed.
pub struct Signed {
    pub pdf: Vec<u8>,
    pub kept: KeptSignature,
    /// What the record says of the signature, `kept` not yet filled in (it is the kept
    /// signature's hash once the store has it).
    pub entry: SignatureEntry,
}

/// SHA-256 (hex) of a certificate's DER: how records and pages name it.
pub fn certificate_hash(cert: &Certificate) -> String {
    sha256_hex(&cert.to_der().expect("a parsed certificate encodes"))
}

/// A certificate's serial number as the page shows it: hexadecimal, upper case.
pub fn serial_text(cert: &Certificate) -> String {
    hex::encode_upper(cert.tbs_certificate().serial_number().as_bytes())
}

fn utc_date(time: &x509_cert::time::Time) -> String {
    let days = time.to_unix_duration().as_secs() / 86_400;
    Date::from_days(days as i64).map_or_else(|| "?".into(), Date::dmy)
}

/// What the signature block on the page shows of the signing certificate.
pub fn block(cert: &Certificate) -> Json {
    let tbs = cert.tbs_certificate();
    json!({
        "certificate": certificate_hash(cert),
        "signer": chain::display_name(tbs.subject()),
        "subject": tbs.subject().to_string(),
        "serial": serial_text(cert),
        "issuer": chain::display_name(tbs.issuer()),
        "valid_from": utc_date(&tbs.validity().not_before),
        "valid_to": utc_date(&tbs.validity().not_after),
        "key": algorithms::key_name(tbs.subject_public_key_info()),
    })
}

impl Issuing {
    /// Opens every configured keystore: a wrong password or a missing keystore is an error
    /// here, before a batch writes anything.
    pub fn open(config: &SigningConfig, offset_minutes: i32) -> Result<Issuing> {
        Ok(Issuing {
            signers: config.open_signers()?,
            offset_minutes,
        })
    }

    /// The signing time of a document issued on `date`.
    pub fn time(&self, date: Date) -> Result<SigningTime> {
        SigningTime::issue_date(date, self.offset_minutes)
    }

    /// The signature block of a case decided by official `name` in `position` on `date`, or
    /// why it cannot be signed (no key, or a certificate not valid then).
    pub fn block_for(&self, name: &str, position: Option<&str>, date: Date) -> Result<Json> {
        let signer = self
            .signers
            .for_official(name, position, self.time(date)?)?;
        let cert = signer
            .certificates()
            .first()
            .context("the signer has no certificate")?;
        Ok(block(cert))
    }

    /// The opened signer whose certificate has SHA-256 `hash`.
    fn signer(&self, hash: &str) -> Option<Arc<dyn Signer>> {
        self.signers.find(|cert| certificate_hash(cert) == hash)
    }

    /// Signs `unsigned` (a rendered document whose data shows `block`) with the key of the
    /// certificate `block` names, at noon of `issued`.
    pub fn sign(&self, unsigned: &[u8], block: &Json, issued: Date) -> Result<Signed> {
        let hash = block["certificate"].as_str().unwrap_or_default();
        let Some(signer) = self.signer(hash) else {
            bail!("no configured key has the certificate {hash} the document shows");
        };
        let time = self.time(issued)?;
        let cert = &signer.certificates()[0];
        let mut options = SignOptions::at(time);
        options.name = chain::common_name(cert.tbs_certificate().subject());
        let signed = sign_pdf(unsigned, signer.as_ref(), &options)?;
        let kept = KeptSignature::of(unsigned, &signed.bytes)?;
        Ok(Signed {
            entry: SignatureEntry {
                certificate: hash.to_string(),
                subject: cert.tbs_certificate().subject().to_string(),
                serial: serial_text(cert),
                time: time.pdf_date(),
                kept: String::new(),
                unsigned: sha256_hex(unsigned),
            },
            pdf: signed.bytes,
            kept,
        })
    }
}

impl Signed {
    /// The signature to keep in the store (content-addressed), its hash filled in: the batch
    /// keeps a group's signatures together ([`Store::keep_all`]) before it appends their records.
    pub fn to_keep(&mut self) -> Vec<u8> {
        let bytes = self.kept.to_bytes();
        self.entry.kept = sha256_hex(&bytes);
        bytes
    }
}

/// The signed PDF again from the rendered one and the signature kept in `store` under `hash`.
pub fn reapply(store: &dyn Store, hash: &str, unsigned: &[u8]) -> Result<Vec<u8>> {
    let Some(bytes) = store.kept(Kind::Signature, hash)? else {
        bail!("the kept signature {hash} is not in {}", store.describe());
    };
    KeptSignature::from_bytes(&bytes)
        .with_context(|| format!("the kept signature {hash}"))?
        .apply(unsigned)
}
