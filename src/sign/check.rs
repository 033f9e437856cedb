//! Checking the signature of a document presented for verification (`qujat verify FILE.pdf`):
//! the PDF's own signature checks ([`verify_pdf`]) at the record's signing time, against the
//! configured trust store and CRL, and that the signer is the official the record names.

use std::fmt;

use anyhow::Result;

use super::chain::{Crl, TrustStore};
use super::config::{SigningConfig, normalize_name};
use super::time::SigningTime;
use super::verify::{CertificateSummary, NO_SIGNATURE, Report, VerifyOptions, verify_pdf};
use crate::registry::DocumentEntry;

/// What signatures are checked against: the configured CA certificates and CRL.
#[derive(Debug, Clone, Default)]
pub struct SignatureTrust {
    pub trust: TrustStore,
    pub crl: Option<Crl>,
}

impl SignatureTrust {
    /// The trust store and CRL of `[signing]` (none configured: an empty store, which trusts
    /// nothing).
    pub fn load(config: Option<&SigningConfig>) -> Result<SignatureTrust> {
        let Some(config) = config else {
            return Ok(SignatureTrust::default());
        };
        Ok(SignatureTrust {
            trust: TrustStore::load(&config.trust)?,
            crl: config.crl.as_deref().map(Crl::load).transpose()?,
        })
    }
}

/// What the signature of a presented PDF says.
#[derive(Debug, Clone)]
pub enum Finding {
    /// The file carries no signature, and its record (if any) names none.
    Unsigned,
    /// Every check holds: what was checked, and the certificate that signed.
    Valid {
        what: String,
        signer: Box<CertificateSummary>,
    },
    /// A check fails; `altered` when the file was changed after it was signed.
    Invalid { altered: bool, why: String },
    /// The file cannot be read as a PDF (its form, or its cross-reference), and no record says
    /// it was signed: nothing shows a signature, nor that one was broken.
    Unreadable(String),
}

impl Finding {
    pub fn is_altered(&self) -> bool {
        matches!(self, Finding::Invalid { altered: true, .. })
    }

    pub fn is_invalid(&self) -> bool {
        matches!(self, Finding::Invalid { .. } | Finding::Unreadable(_))
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Unsigned => write!(f, "none (the document is not signed)"),
            Finding::Valid { what, .. } => write!(f, "VALID — {what}"),
            Finding::Invalid { altered: true, why } => write!(f, "ALTERED — {why}"),
            Finding::Invalid { why, .. } => write!(f, "INVALID — {why}"),
            Finding::Unreadable(why) => write!(f, "CANNOT BE CHECKED — {why}"),
        }
    }
}

/// Checks the signature of `pdf`, registered as `entry` if a record was found for it. Without a
/// record, the time checked is the one the signature claims.
pub fn check(pdf: &[u8], entry: Option<&DocumentEntry>, trust: &SignatureTrust) -> Finding {
    let recorded = entry.and_then(|e| e.signature.as_ref());
    let at = recorded
        .and_then(|s| SigningTime::parse_pdf_date(&s.time))
        .or_else(|| entry.and_then(|e| SigningTime::issue_date(e.issued, 0).ok()));
    let verify_at = |at| {
        verify_pdf(
            pdf,
            &VerifyOptions {
                trust: &trust.trust,
                crl: trust.crl.as_ref(),
                at,
            },
        )
    };
    let report = match at {
        Some(at) => verify_at(at),
        None => {
            // No record: check at the claimed time of the (first) signature.
            let first = verify_at(
                SigningTime::issue_date(crate::date::Date::new(2000, 1, 1).unwrap(), 0)
                    .expect("a valid time"),
            );
            let claimed = first
                .signatures
                .first()
                .and_then(|s| s.claimed_time.as_deref())
                .and_then(SigningTime::parse_pdf_date);
            match claimed {
                Some(at) => verify_at(at),
                None => first,
            }
        }
    };
    let finding = judge(&report, entry);
    // Without trust anchors every chain fails; say what is missing rather than blame the signer.
    match finding {
        Finding::Invalid { altered: false, .. } if trust.trust.anchors.is_empty() => {
            Finding::Invalid {
                altered: false,
                why: "the signer cannot be checked: no CA certificate is configured to trust \
                      ([signing] trust = [...] in the configuration); the signed bytes are \
                      intact"
                    .into(),
            }
        }
        finding => finding,
    }
}

fn judge(report: &Report, entry: Option<&DocumentEntry>) -> Finding {
    let recorded = entry.and_then(|e| e.signature.as_ref());
    if report.signatures.is_empty() && report.problem.as_deref() == Some(NO_SIGNATURE) {
        return match recorded {
            None => Finding::Unsigned,
            Some(_) => Finding::Invalid {
                altered: true,
                why: "its record says it was signed, but the file carries no signature".into(),
            },
        };
    }
    if report.signatures.is_empty()
        && recorded.is_none()
        && let Some(problem) = &report.problem
    {
        return Finding::Unreadable(problem.clone());
    }
    if !report.is_valid() {
        return Finding::Invalid {
            altered: report.problem.is_some() || report.signatures.iter().any(|s| s.is_altered()),
            why: report.summary(),
        };
    }
    let [signature] = report.signatures.as_slice() else {
        return Finding::Invalid {
            altered: true,
            why: format!(
                "it carries {} signatures, qujat signs once: {}",
                report.signatures.len(),
                report.summary()
            ),
        };
    };
    let signer = signature
        .signer
        .as_ref()
        .expect("a valid signature has a signer");
    let name = signer
        .common_name
        .clone()
        .unwrap_or_else(|| signer.subject.clone());
    let mut what = format!(
        "signed by {name} (certificate № {}, valid {} to {}, issued by {}); the signed bytes are the \
         whole file, the chain reaches the trust store, the certificate was valid on the issue \
         date{}",
        signer.serial,
        signer.valid_from,
        signer.valid_to,
        signer.issuer,
        if signature
            .checks
            .iter()
            .any(|c| c.kind == super::verify::CheckKind::Revocation
                && c.outcome == super::verify::Outcome::Passed)
        {
            " and is not on the CRL"
        } else {
            " (no CRL configured: revocation not checked)"
        }
    );
    let Some(entry) = entry else {
        what.push_str("; no record names this file");
        return Finding::Valid {
            what,
            signer: Box::new(signer.clone()),
        };
    };
    let Some(recorded) = recorded else {
        return Finding::Invalid {
            altered: false,
            why: format!("signed by {name}, but its record names no signature"),
        };
    };
    if signer.serial != recorded.serial || signer.subject != recorded.subject {
        return Finding::Invalid {
            altered: false,
            why: format!(
                "signed with the certificate of {} № {}, but its record names the certificate \
                 of {} № {}",
                signer.subject, signer.serial, recorded.subject, recorded.serial
            ),
        };
    }
    let official = entry.data["case"]["decision"]["official"]["name"]
        .as_str()
        .map(normalize_name);
    match official {
        Some(official)
            if Some(&official)
                != signer
                    .common_name
                    .as_ref()
                    .map(|n| normalize_name(n))
                    .as_ref() =>
        {
            Finding::Invalid {
                altered: false,
                why: format!(
                    "signed by {name}, but the official who decided the case is {official}"
                ),
            }
        }
        Some(official) => {
            what.push_str(&format!(
                "; the signer is the record's official, {official}"
            ));
            Finding::Valid {
                what,
                signer: Box::new(signer.clone()),
            }
        }
        None => {
            what.push_str("; the record's data names no official to compare with");
            Finding::Valid {
                what,
                signer: Box::new(signer.clone()),
            }
        }
    }
}
