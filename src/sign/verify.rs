//! Checking the signatures of a PDF: that the signed bytes are the whole file but the
//! signature itself, that they are unchanged, that the CMS signature holds, that the signer's
//! certificate chains to the trust store, was valid on the date asked about and is not on the
//! CRL. The answer is a report of checks in words, for `qujat verify` and its JSON.

use anyhow::{Context, Result};
use const_oid::db::rfc5911;
use der::Encode;
use serde::Serialize;
use x509_cert::Certificate;

use super::algorithms;
use super::chain::{self, Crl, Revocation, TrustStore};
use super::cms::{Parsed, SigningCertificateV2};
use super::pdf::{Dict, Document, Object};
use super::signer::DigestAlgorithm;
use super::time::SigningTime;

/// [`Report::problem`] of a PDF without any signature field.
pub const NO_SIGNATURE: &str = "the PDF carries no signature";

/// What the signatures are checked against.
pub struct VerifyOptions<'a> {
    pub trust: &'a TrustStore,
    pub crl: Option<&'a Crl>,
    /// The moment the certificates must have been valid at (the record's issue date).
    pub at: SigningTime,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    /// Not done: nothing to check it with (no CRL), or an earlier failure makes it moot.
    NotChecked,
}

/// What a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// The signature's form: a signature dictionary and a CMS signature one can read.
    Format,
    /// The signed byte range is the whole file but the signature value.
    Coverage,
    /// The signed bytes are unchanged.
    Digest,
    /// The signature value holds for the signer's key.
    Signature,
    /// The signed attributes name the signer's certificate (PAdES).
    SigningCertificate,
    /// The certificate chains to the trust store.
    Chain,
    /// The chain's certificates were valid at the date and may do what they did.
    Validity,
    /// No certificate of the chain is revoked.
    Revocation,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub kind: CheckKind,
    pub outcome: Outcome,
    pub detail: String,
}

/// A certificate as a report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateSummary {
    pub subject: String,
    pub common_name: Option<String>,
    /// The serial number in hexadecimal.
    pub serial: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_to: String,
    pub key: String,
}

impl CertificateSummary {
    pub fn of(cert: &Certificate) -> CertificateSummary {
        let tbs = cert.tbs_certificate();
        CertificateSummary {
            subject: tbs.subject().to_string(),
            common_name: chain::common_name(tbs.subject()),
            serial: hex::encode_upper(tbs.serial_number().as_bytes()),
            issuer: tbs.issuer().to_string(),
            valid_from: chain::display_time(&tbs.validity().not_before),
            valid_to: chain::display_time(&tbs.validity().not_after),
            key: algorithms::key_name(tbs.subject_public_key_info()),
        }
    }
}

/// One signature's checks.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    /// The signature field's name.
    pub field: String,
    pub sub_filter: Option<String>,
    pub signer: Option<CertificateSummary>,
    /// The signing time the signature claims (`/M`).
    pub claimed_time: Option<String>,
    pub checks: Vec<Check>,
}

impl SignatureReport {
    pub fn is_valid(&self) -> bool {
        self.checks.iter().all(|c| c.outcome != Outcome::Failed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Failed)
    }

    /// Whether the document was changed after this signature: bytes outside the signed range
    /// or a digest that does not match.
    pub fn is_altered(&self) -> bool {
        self.failures()
            .any(|c| matches!(c.kind, CheckKind::Coverage | CheckKind::Digest))
    }

    fn check(&mut self, kind: CheckKind, outcome: Outcome, detail: impl Into<String>) {
        self.checks.push(Check {
            kind,
            outcome,
            detail: detail.into(),
        });
    }
}

/// Every signature of a file.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Why the file could not be checked at all, if it could not.
    pub problem: Option<String>,
    pub signatures: Vec<SignatureReport>,
}

impl Report {
    /// Signed, every signature valid, and the last one covering the whole file.
    pub fn is_valid(&self) -> bool {
        self.problem.is_none()
            && !self.signatures.is_empty()
            && self.signatures.iter().all(SignatureReport::is_valid)
    }

    /// One paragraph: the verdict and every failure.
    pub fn summary(&self) -> String {
        if let Some(problem) = &self.problem {
            return problem.clone();
        }
        let mut out = String::new();
        for sig in &self.signatures {
            let signer = sig
                .signer
                .as_ref()
                .map(|s| s.common_name.clone().unwrap_or_else(|| s.subject.clone()))
                .unwrap_or_else(|| "an unknown signer".into());
            if sig.is_valid() {
                out.push_str(&format!("{}: valid signature by {signer}.", sig.field));
            } else {
                let verdict = if sig.is_altered() {
                    "ALTERED after signing"
                } else {
                    "INVALID"
                };
                out.push_str(&format!("{}: {verdict} (signed by {signer}):", sig.field));
                for failure in sig.failures() {
                    out.push_str(&format!(" {};", failure.detail));
                }
            }
            out.push(' ');
        }
        out.trim_end().to_string()
    }
}

/// Checks every signature of `pdf`.
pub fn verify_pdf(pdf: &[u8], options: &VerifyOptions<'_>) -> Report {
    let doc = match Document::parse(pdf) {
        Ok(doc) => doc,
        Err(e) => {
            return Report {
                problem: Some(format!(
                    "the file cannot be read as a PDF ({e:#}): it is damaged or altered"
                )),
                signatures: vec![],
            };
        }
    };
    let fields = match signature_fields(&doc) {
        Ok(fields) => fields,
        Err(e) => {
            return Report {
                problem: Some(format!(
                    "the PDF's form cannot be read ({e:#}): it is damaged or altered"
                )),
                signatures: vec![],
            };
        }
    };
    if fields.is_empty() {
        return Report {
            problem: Some(NO_SIGNATURE.into()),
            signatures: vec![],
        };
    }
    let signatures = fields
        .into_iter()
        .map(|(name, value)| verify_one(&doc, name, value, options))
        .collect();
    Report {
        problem: None,
        signatures,
    }
}

/// The signature fields of the form with a value: (name, the value as written).
fn signature_fields(doc: &Document<'_>) -> Result<Vec<(String, Object)>> {
    let catalog = doc.object(doc.root()?)?;
    let Some(form) = catalog.as_dict().and_then(|c| c.get("AcroForm")) else {
        return Ok(vec![]);
    };
    let form = doc.resolve(form)?;
    let Some(fields) = form.as_dict().and_then(|f| f.get("Fields")) else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    let mut stack: Vec<(Object, String, bool, usize)> = doc
        .resolve(fields)?
        .as_array()
        .unwrap_or_default()
        .iter()
        .map(|f| (f.clone(), String::new(), false, 0))
        .collect();
    stack.reverse();
    let mut visited = 0usize;
    while let Some((field, parent_name, parent_sig, depth)) = stack.pop() {
        visited += 1;
        if depth > 32 || visited > 100_000 {
            anyhow::bail!("the form's field tree is too deep or too large");
        }
        let dict = doc.resolve(&field)?;
        let Some(dict) = dict.as_dict() else { continue };
        let partial = match dict.get("T") {
            Some(Object::String(s)) => text_string(&s.bytes),
            _ => String::new(),
        };
        let name = match (parent_name.is_empty(), partial.is_empty()) {
            (true, _) => partial,
            (false, true) => parent_name,
            (false, false) => format!("{parent_name}.{partial}"),
        };
        // /FT is inheritable.
        let is_sig = match dict.get("FT") {
            Some(ft) => ft.as_name() == Some(b"Sig"),
            None => parent_sig,
        };
        if let Some(kids) = dict.get("Kids") {
            let kids = doc.resolve(kids)?;
            for kid in kids.as_array().unwrap_or_default().iter().rev() {
                stack.push((kid.clone(), name.clone(), is_sig, depth + 1));
            }
        }
        if is_sig && let Some(value) = dict.get("V") {
            out.push((name, value.clone()));
        }
    }
    Ok(out)
}

/// A PDF text string: UTF-16BE with a byte order mark, or (close enough for names) Latin-1.
fn text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn verify_one(
    doc: &Document<'_>,
    field: String,
    value: Object,
    options: &VerifyOptions<'_>,
) -> SignatureReport {
    let mut report = SignatureReport {
        field,
        sub_filter: None,
        signer: None,
        claimed_time: None,
        checks: vec![],
    };
    // The signature dictionary must be written in the file itself, so its /Contents can be
    // found where /ByteRange leaves its gap.
    let sig = match signature_dictionary(doc, &value) {
        Ok(sig) => sig,
        Err(e) => {
            report.check(CheckKind::Format, Outcome::Failed, format!("{e:#}"));
            return report;
        }
    };
    report.sub_filter = sig
        .get("SubFilter")
        .and_then(Object::as_name)
        .map(|n| String::from_utf8_lossy(n).into_owned());
    if let Some(Object::String(m)) = sig.get("M") {
        let text = String::from_utf8_lossy(&m.bytes).into_owned();
        report.claimed_time = Some(
            SigningTime::parse_pdf_date(&text)
                .map(|t| t.to_string())
                .unwrap_or(text),
        );
    }
    let Some(Object::String(contents)) = sig.get("Contents") else {
        report.check(
            CheckKind::Format,
            Outcome::Failed,
            "the signature dictionary has no /Contents string",
        );
        return report;
    };
    let parsed = match Parsed::decode(&contents.bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            report.check(
                CheckKind::Format,
                Outcome::Failed,
                format!("the signature value cannot be read ({e:#}): it was altered or is not a CMS signature"),
            );
            return report;
        }
    };
    let signed_ranges = match coverage(doc, &sig, contents.span.clone()) {
        Ok((ranges, detail)) => {
            report.check(CheckKind::Coverage, Outcome::Passed, detail);
            Some(ranges)
        }
        Err((ranges, detail)) => {
            report.check(CheckKind::Coverage, Outcome::Failed, detail);
            ranges
        }
    };
    cms_checks(doc, &mut report, &parsed, signed_ranges, options);
    report
}

fn signature_dictionary(doc: &Document<'_>, value: &Object) -> Result<Dict> {
    let object = match value {
        Object::Ref(r) => {
            doc.offset_of(*r).with_context(|| {
                format!(
                    "the signature dictionary {r} is not written directly in the file (it is \
                     missing, free or compressed in an object stream), so its signed range \
                     cannot be checked"
                )
            })?;
            doc.object(*r)?
        }
        // A direct dictionary inside the field, itself in the file.
        other => other.clone(),
    };
    object
        .as_dict()
        .cloned()
        .context("the signature field's value is not a signature dictionary")
}

type Ranges = [(usize, usize); 2];

/// Checks `/ByteRange`: two ranges, from the file's start to the `/Contents` string and from
/// its end to the file's end.
fn coverage(
    doc: &Document<'_>,
    sig: &Dict,
    contents: std::ops::Range<usize>,
) -> Result<(Ranges, String), (Option<Ranges>, String)> {
    let len = doc.data.len();
    let numbers: Option<Vec<usize>> = sig
        .get("ByteRange")
        .and_then(Object::as_array)
        .map(|a| {
            a.iter()
                .map(|n| n.as_int().and_then(|n| usize::try_from(n).ok()))
                .collect()
        })
        .unwrap_or(None);
    let Some(numbers) = numbers.filter(|n| n.len() == 4) else {
        return Err((
            None,
            "the signature has no /ByteRange of four numbers: what it signs cannot be told".into(),
        ));
    };
    let (o1, l1, o2, l2) = (numbers[0], numbers[1], numbers[2], numbers[3]);
    let in_file = o1.checked_add(l1).is_some_and(|e| e <= len)
        && o2.checked_add(l2).is_some_and(|e| e <= len);
    if !in_file {
        return Err((
            None,
            format!(
                "the signed byte range [{o1} {l1} {o2} {l2}] reaches past the end of the {len}-byte file"
            ),
        ));
    }
    let ranges = [(o1, o1 + l1), (o2, o2 + l2)];
    if o1 != 0 || o1 + l1 != contents.start || o2 != contents.end {
        return Err((
            Some(ranges),
            format!(
                "the signed byte range [{o1} {l1} {o2} {l2}] does not leave out exactly the \
                 signature value (bytes {}–{}): parts of the file are not signed",
                contents.start, contents.end
            ),
        ));
    }
    if o2 + l2 != len {
        return Err((
            Some(ranges),
            format!(
                "the file was changed after it was signed: {} bytes follow the signed part",
                len - (o2 + l2)
            ),
        ));
    }
    Ok((
        ranges,
        format!("the signature covers the whole file ({len} bytes) except its own value"),
    ))
}

fn cms_checks(
    doc: &Document<'_>,
    report: &mut SignatureReport,
    parsed: &Parsed,
    ranges: Option<Ranges>,
    options: &VerifyOptions<'_>,
) {
    let sd = &parsed.signed_data;
    let infos: Vec<_> = sd.signer_infos.0.iter().collect();
    let Some(info) = infos.first().copied() else {
        report.check(
            CheckKind::Format,
            Outcome::Failed,
            "the CMS signature has no signer",
        );
        return;
    };
    if infos.len() > 1 {
        report.check(
            CheckKind::Format,
            Outcome::Failed,
            format!(
                "the CMS signature has {} signers; a PDF signature has one",
                infos.len()
            ),
        );
    }
    if sd.encap_content_info.econtent_type != rfc5911::ID_DATA
        || sd.encap_content_info.econtent.is_some()
    {
        report.check(
            CheckKind::Format,
            Outcome::Failed,
            "the CMS signature is not a detached signature of data, as PDF signatures are",
        );
    }
    let signer_cert = parsed.certificates.iter().find(|c| match &info.sid {
        cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(ias) => {
            c.tbs_certificate().issuer() == &ias.issuer
                && c.tbs_certificate().serial_number() == &ias.serial_number
        }
        cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(ski) => c
            .tbs_certificate()
            .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, own)| own == *ski),
    });
    let Some(signer_cert) = signer_cert else {
        report.check(
            CheckKind::Format,
            Outcome::Failed,
            "the signer's certificate is not in the signature",
        );
        return;
    };
    report.signer = Some(CertificateSummary::of(signer_cert));

    let Some(digest_alg) = DigestAlgorithm::from_oid(&info.digest_alg.oid) else {
        report.check(
            CheckKind::Digest,
            Outcome::Failed,
            format!(
                "the digest algorithm {} is not supported",
                info.digest_alg.oid
            ),
        );
        return;
    };
    let Some(attrs) = &info.signed_attrs else {
        report.check(
            CheckKind::Format,
            Outcome::Failed,
            "the CMS signature has no signed attributes, as PAdES requires",
        );
        return;
    };

    // The digest of the signed bytes against the message-digest attribute.
    let claimed = super::cms::attribute_value(attrs, rfc5911::ID_MESSAGE_DIGEST)
        .ok()
        .flatten()
        .and_then(|v| v.decode_as::<der::asn1::OctetString>().ok());
    match (ranges, claimed) {
        (_, None) => report.check(
            CheckKind::Digest,
            Outcome::Failed,
            "the signature has no message-digest attribute: what it signs cannot be told",
        ),
        (None, Some(_)) => report.check(
            CheckKind::Digest,
            Outcome::NotChecked,
            "not checked: the signed byte range is unusable",
        ),
        (Some([(a0, a1), (b0, b1)]), Some(claimed)) => {
            let actual = digest_alg.digest(&[&doc.data[a0..a1], &doc.data[b0..b1]]);
            if actual == claimed.as_bytes() {
                report.check(
                    CheckKind::Digest,
                    Outcome::Passed,
                    format!(
                        "the signed bytes are unchanged ({} matches)",
                        digest_alg.name()
                    ),
                );
            } else {
                report.check(
                    CheckKind::Digest,
                    Outcome::Failed,
                    format!(
                        "the document was altered after signing: the {} of the signed bytes is \
                         {}…, the signature was made over {}…",
                        digest_alg.name(),
                        &hex::encode(&actual)[..16],
                        &hex::encode(claimed.as_bytes())[..16.min(2 * claimed.as_bytes().len())]
                    ),
                );
            }
        }
    }
    let content_type = super::cms::attribute_value(attrs, rfc5911::ID_CONTENT_TYPE)
        .ok()
        .flatten()
        .and_then(|v| v.decode_as::<der::oid::ObjectIdentifier>().ok());
    if content_type != Some(rfc5911::ID_DATA) {
        report.check(
            CheckKind::Format,
            Outcome::Failed,
            "the signed content-type attribute is missing or is not id-data",
        );
    }

    // The signature value over the signed attributes.
    match attrs.to_der() {
        Ok(signed) => match algorithms::verify(
            signer_cert.tbs_certificate().subject_public_key_info(),
            &info.signature_algorithm,
            Some(digest_alg),
            &signed,
            info.signature.as_bytes(),
        ) {
            Ok(()) => report.check(
                CheckKind::Signature,
                Outcome::Passed,
                format!(
                    "the signature value holds for the signer's key ({}, {})",
                    algorithms::key_name(signer_cert.tbs_certificate().subject_public_key_info()),
                    algorithms::name(&info.signature_algorithm.oid, Some(digest_alg))
                ),
            ),
            Err(why) => report.check(
                CheckKind::Signature,
                Outcome::Failed,
                format!(
                    "the signature value does not hold ({why}): the signature or the \
                     certificate in it was altered"
                ),
            ),
        },
        Err(e) => report.check(
            CheckKind::Signature,
            Outcome::Failed,
            format!("the signed attributes cannot be re-encoded: {e}"),
        ),
    }

    signing_certificate_check(report, attrs, signer_cert);

    // The chain, its validity, its revocation.
    let path = match chain::build_path(signer_cert, &parsed.certificates, options.trust) {
        Ok(path) => {
            let names: Vec<String> = path
                .iter()
                .map(|c| format!("«{}»", chain::display_name(c.tbs_certificate().subject())))
                .collect();
            report.check(
                CheckKind::Chain,
                Outcome::Passed,
                format!(
                    "the certificate chains to the trust store: {}",
                    names.join(" issued by ")
                ),
            );
            path
        }
        Err(why) => {
            report.check(CheckKind::Chain, Outcome::Failed, why);
            report.check(
                CheckKind::Validity,
                Outcome::NotChecked,
                "not checked: the chain is not trusted",
            );
            report.check(
                CheckKind::Revocation,
                Outcome::NotChecked,
                "not checked: the chain is not trusted",
            );
            return;
        }
    };
    let mut problems: Vec<String> = path
        .iter()
        .filter_map(|c| {
            chain::check_valid_at(c, options.at)
                .err()
                .map(|e| e.to_string())
        })
        .collect();
    problems.extend(chain::check_usages(&path));
    if problems.is_empty() {
        report.check(
            CheckKind::Validity,
            Outcome::Passed,
            format!("every certificate of the chain was valid at {}", options.at),
        );
    } else {
        report.check(CheckKind::Validity, Outcome::Failed, problems.join("; "));
    }
    match options.crl {
        None => report.check(
            CheckKind::Revocation,
            Outcome::NotChecked,
            "not checked: no CRL was given",
        ),
        Some(crl) => match chain::check_crl(crl, &path, options.at) {
            Revocation::NotRevoked {
                issuer,
                this_update,
            } => report.check(
                CheckKind::Revocation,
                Outcome::Passed,
                format!("not on the CRL of «{issuer}» issued {this_update}"),
            ),
            Revocation::RevokedLater(detail) => {
                report.check(CheckKind::Revocation, Outcome::Passed, detail)
            }
            Revocation::Revoked(detail) => {
                report.check(CheckKind::Revocation, Outcome::Failed, detail)
            }
            Revocation::Unusable(detail) => {
                report.check(CheckKind::Revocation, Outcome::Failed, detail)
            }
        },
    }
}

/// PAdES B-B binds the signer's certificate with signing-certificate-v2; a plain
/// `adbe.pkcs7.detached` signature need not.
fn signing_certificate_check(
    report: &mut SignatureReport,
    attrs: &der::asn1::SetOfVec<x509_cert::attr::Attribute>,
    signer_cert: &Certificate,
) {
    let pades = report.sub_filter.as_deref() == Some("ETSI.CAdES.detached");
    let value = match super::cms::attribute_value(attrs, rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2) {
        Ok(value) => value,
        Err(e) => {
            report.check(
                CheckKind::SigningCertificate,
                Outcome::Failed,
                e.to_string(),
            );
            return;
        }
    };
    let Some(value) = value else {
        if pades {
            report.check(
                CheckKind::SigningCertificate,
                Outcome::Failed,
                "the signature lacks the signing-certificate-v2 attribute PAdES requires",
            );
        }
        return;
    };
    let Ok(ess) = value.decode_as::<SigningCertificateV2>() else {
        report.check(
            CheckKind::SigningCertificate,
            Outcome::Failed,
            "the signing-certificate-v2 attribute cannot be read",
        );
        return;
    };
    let Some(first) = ess.certs.first() else {
        report.check(
            CheckKind::SigningCertificate,
            Outcome::Failed,
            "the signing-certificate-v2 attribute names no certificate",
        );
        return;
    };
    let matches = first.digest_algorithm().is_some_and(|d| {
        signer_cert
            .to_der()
            .is_ok_and(|der| d.digest(&[&der]) == first.cert_hash.as_bytes())
    }) && first
        .issuer_serial
        .as_ref()
        .is_none_or(|is| is.serial_number == *signer_cert.tbs_certificate().serial_number());
    if matches {
        report.check(
            CheckKind::SigningCertificate,
            Outcome::Passed,
            "the signed attributes name the signer's certificate (signing-certificate-v2)",
        );
    } else {
        report.check(
            CheckKind::SigningCertificate,
            Outcome::Failed,
            "the signing-certificate-v2 attribute names another certificate than the one \
             that signed: the certificate was substituted",
        );
    }
}
