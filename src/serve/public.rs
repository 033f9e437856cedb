//! What the public may learn of a verdict, by what the asker has shown: the one place that
//! decides which of a record's fields leave the service (the pages and the JSON API both show an
//! [`Answer`], nothing else).
//!
//! - **The content hash** (a QR code) **or the PDF itself** proves possession of the document:
//!   the answer names its kind, number, issue date, issuing authority, status and holder, the
//!   holder's IIN masked (`9801********`; a BIN, a legal entity's public registration number, in
//!   full) — and, for the QR code, a link to download the registered PDF.
//! - **A number with the wrong content hash** reveals only that the number exists (the issue
//!   asks for "not genuine: the number exists, the content differs"): registry and number, nothing
//!   of the document.
//! - **An apostille's number and date** (the apostille register) reveal the apostille's own ten
//!   fields, as the e-Registers of the Apostille Convention show them — never its applicant.
//! - A record the registry's verified history does not hold (disowned) shows nothing but that.

use serde::Serialize;
use serde_json::Value as Json;

use crate::commands::verify::Verdict;
use crate::registry::{Document, Status, Words};
use crate::sign::check::Finding;

/// What the asker showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// A QR payload: the content hash.
    ContentHash,
    /// The PDF's bytes.
    Pdf,
    /// An apostille's number and date.
    ApostilleNumberAndDate,
}

/// The answer the public gets.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// `qujat verify`'s verdict: genuine, unconfirmed, disowned, altered, unknown.
    pub verdict: &'static str,
    /// Whether the document is genuine and in force (false for every other verdict).
    pub in_force: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The status in force (genuine and unconfirmed documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apostille: Option<ApostilleView>,
    /// The size of the registry checkpoint that includes the record (genuine documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<u64>,
    /// What is known to be wrong with the registry besides this record.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
    /// Where to download the registered PDF (genuine documents asked for by their QR code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download: Option<String>,
    /// The PDF signature's verdict (uploads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureView>,
}

/// A document's status in force.
#[derive(Debug, Clone, Serialize)]
pub struct StatusView {
    /// active, suspended, revoked or superseded.
    pub status: Status,
    /// The day the status took effect (none while it was never changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The number of the document that superseded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a holder of the document may see of it.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    /// The document kind within its service (`certificate`, `refusal`, …) and its title.
    pub kind: String,
    pub title: Words,
    pub service: String,
    /// The issue date (YYYY-MM-DD).
    pub issued: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<Words>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_name: Option<Words>,
    pub holder: HolderView,
}

#[derive(Debug, Clone, Serialize)]
pub struct HolderView {
    pub name: Words,
    /// `iin` (masked), `bin` (in full), or absent when the case had neither.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// An apostille's fields (Hague Convention of 5 October 1961, the model's ten).
#[derive(Debug, Clone, Serialize)]
pub struct ApostilleView {
    /// 2. signed by; 3. acting in the capacity of; 4. bears the seal/stamp of.
    pub signed_by: String,
    pub capacity: Words,
    pub seal_of: Words,
    /// 5. at; 6. the (YYYY-MM-DD); 7. by; 8. No.
    pub place: Words,
    pub date: String,
    pub authority: Words,
    pub number: String,
    /// 10. signature: the official who signed the apostille.
    pub official: String,
    pub official_position: Words,
    /// The public document it is put on: kind, number, date (YYYY-MM-DD).
    pub public_document: PublicDocumentView,
}

#[derive(Debug, Clone, Serialize)]
pub struct PublicDocumentView {
    pub kind: Words,
    pub number: String,
    pub date: String,
}

/// What an uploaded PDF's own digital signature says (`qujat verify FILE.pdf`'s check): its
/// signed bytes, chain to the configured trust store, validity on the issue date, the CRL, and
/// that the signer is the official of the record the file was found by.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureView {
    /// `valid`; `altered` (changed after it was signed); `invalid` (another check fails);
    /// `unchecked` (intact, but no CA certificate is configured to check the signer against);
    /// `unsigned` (the file carries none, nor does its record name one); `unreadable` (the file
    /// cannot be read as a PDF, so nothing can be said of a signature).
    pub state: &'static str,
    /// What was checked, or what fails (English, as `qujat verify` says it).
    pub why: String,
    /// The certificate that signed (a valid signature only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<SignerView>,
}

/// The signing certificate, as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SignerView {
    pub name: String,
    /// The serial number in hexadecimal.
    pub serial: String,
    pub valid_from: String,
    pub valid_to: String,
    pub issuer: String,
}

impl SignatureView {
    /// The view of a file no registry holds whose own signature shows it was changed after it
    /// was signed (`why`: the verdict's words).
    pub fn altered(why: &str) -> SignatureView {
        SignatureView {
            state: "altered",
            why: why.to_string(),
            signer: None,
        }
    }

    /// The view of `finding` (none: the file and its record carry no signature); `trusting`
    /// is whether any CA certificate is configured.
    pub fn of(finding: Option<&Finding>, trusting: bool) -> SignatureView {
        let Some(finding) = finding else {
            return SignatureView {
                state: "unsigned",
                why: "the file carries no digital signature, and no record names one".into(),
                signer: None,
            };
        };
        let state = match finding {
            Finding::Unsigned => "unsigned",
            Finding::Valid { .. } => "valid",
            Finding::Invalid { altered: true, .. } => "altered",
            Finding::Invalid { .. } if !trusting => "unchecked",
            Finding::Invalid { .. } => "invalid",
            Finding::Unreadable(_) => "unreadable",
        };
        let (why, signer) = match finding {
            Finding::Unsigned => (finding.to_string(), None),
            Finding::Valid { what, signer } => (
                what.clone(),
                Some(SignerView {
                    name: signer
                        .common_name
                        .clone()
                        .unwrap_or_else(|| signer.subject.clone()),
                    serial: signer.serial.clone(),
                    valid_from: signer.valid_from.clone(),
                    valid_to: signer.valid_to.clone(),
                    issuer: signer.issuer.clone(),
                }),
            ),
            Finding::Invalid { why, .. } | Finding::Unreadable(why) => (why.clone(), None),
        };
        SignatureView { state, why, signer }
    }
}

/// The verdict's name, as `qujat verify --json` and the metrics name it.
pub fn verdict_name(verdict: &Verdict) -> &'static str {
    verdict.name()
}

impl Answer {
    /// The answer to someone who showed `shown`, asking about `registry` № `number` (what they
    /// asked, echoed when nothing was found).
    pub fn new(verdict: &Verdict, shown: Shown, asked: Option<(&str, &str)>) -> Answer {
        let mut answer = Answer {
            verdict: verdict_name(verdict),
            in_force: false,
            registry: asked.map(|(r, _)| r.to_string()),
            number: asked.map(|(_, n)| n.to_string()),
            status: None,
            document: None,
            apostille: None,
            checkpoint: None,
            caveats: Vec::new(),
            download: None,
            signature: None,
        };
        let (document, checkpoint, caveats) = match verdict {
            Verdict::Genuine {
                document,
                checkpoint,
                caveats,
            } => (document, Some(*checkpoint), caveats.clone()),
            Verdict::Unconfirmed { document, .. } => (document, None, Vec::new()),
            Verdict::Disowned { document, .. } => {
                answer.registry = Some(document.registry.clone());
                answer.number = Some(document.entry.number.clone());
                return answer;
            }
            Verdict::Altered { .. } | Verdict::Unknown { .. } => return answer,
        };
        answer.registry = Some(document.registry.clone());
        answer.number = Some(document.entry.number.clone());
        answer.in_force = checkpoint.is_some() && document.in_force();
        answer.checkpoint = checkpoint;
        answer.caveats = caveats;
        answer.status = Some(status_view(document));
        match shown {
            Shown::ContentHash | Shown::Pdf => answer.document = Some(document_view(document)),
            Shown::ApostilleNumberAndDate => answer.apostille = apostille_view(document),
        }
        answer
    }
}

fn status_view(document: &Document) -> StatusView {
    StatusView {
        status: document.status,
        since: document.event.as_ref().map(|e| e.date.to_string()),
        superseded_by: document.event.as_ref().and_then(|e| e.by.clone()),
        reason: document
            .event
            .as_ref()
            .map(|e| e.reason.clone())
            .filter(|r| !r.is_empty()),
    }
}

fn words(value: &Json) -> Option<Words> {
    let kk = value["kk"].as_str()?;
    let ru = value["ru"].as_str()?;
    Some(Words {
        kk: kk.to_string(),
        ru: ru.to_string(),
    })
}

fn text(value: &Json) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn document_view(document: &Document) -> DocumentView {
    let entry = &document.entry;
    let holder = entry.holder();
    let applicant = &entry.data["case"]["applicant"];
    let (id_kind, id) = if holder.id.is_empty() {
        (None, None)
    } else if applicant["bin"].is_string() {
        (Some("bin"), Some(holder.id.clone()))
    } else {
        (Some("iin"), Some(mask_iin(&holder.id)))
    };
    DocumentView {
        kind: entry.document.clone(),
        title: entry.title(),
        service: entry.service.clone(),
        issued: entry.issued.to_string(),
        authority: words(&entry.data["authority"]["name"]),
        registry_name: words(&entry.data["registry"]["name"]),
        holder: HolderView {
            name: Words {
                kk: holder.kk,
                ru: holder.ru,
            },
            id_kind,
            id,
        },
    }
}

fn apostille_view(document: &Document) -> Option<ApostilleView> {
    let data = &document.entry.data;
    let pd = &data["case"]["public_document"];
    let official = &data["case"]["decision"]["official"];
    Some(ApostilleView {
        signed_by: text(&pd["signer"]),
        capacity: words(&pd["capacity"])?,
        seal_of: words(&pd["seal"])?,
        place: words(&data["authority"]["city"])?,
        date: document.entry.issued.to_string(),
        authority: words(&data["authority"]["name"])?,
        number: document.entry.number.clone(),
        official: text(&official["name"]),
        official_position: words(&official["position"])?,
        public_document: PublicDocumentView {
            kind: words(&pd["kind"])?,
            number: text(&pd["number"]),
            date: text(&pd["date"]["iso"]),
        },
    })
}

/// An IIN with all but its first four digits hidden: `980115300123` → `9801********`. The first
/// four are the birth year and month, which a name already all but gives away; the rest (day,
/// century and sex, serial, check digit) identify the person.
pub fn mask_iin(iin: &str) -> String {
    let shown: String = iin.chars().take(4).collect();
    let hidden = iin.chars().count().saturating_sub(4);
    format!("{shown}{}", "*".repeat(hidden))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iin_keeps_only_its_first_four_digits() {
        assert_eq!(mask_iin("980115300123"), "9801********");
        assert_eq!(mask_iin("12"), "12");
        assert_eq!(mask_iin(""), "");
    }
}
