//! `--json` on `verify`, `registry check` and `regenerate`: the facts their text states, as JSON
//! for scripts, with the same exit codes. A verdict, a registry's check or a regenerated document
//! is told the same whichever store holds the registries (files or PostgreSQL): nothing here
//! names a store. Keys are stable; an absent fact is `null`, never a missing key.
//!
//! One answer is printed as one JSON document; several (`verify a.pdf b.pdf`, `regenerate
//! --case` with two documents) as JSON lines, one compact document per line, in the order the
//! text prints them.

use std::io::Write;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::commands::check::RegistryCheck;
use crate::commands::regenerate::Regenerated;
use crate::commands::verify::Verdict;
use crate::date::Date;
use crate::registry::{Document, DocumentEntry, Holder, Status, Words};

/// Prints a command's answers on standard output as they come: one pretty document when it
/// has one to give, JSON lines when it has more. A reader that has gone (a closed pipe) is no
/// error.
pub struct Printer {
    many: bool,
}

impl Printer {
    /// A printer for `count` answers.
    pub fn new(count: usize) -> Printer {
        Printer { many: count > 1 }
    }

    pub fn print(&self, answer: &impl Serialize) -> Result<()> {
        let mut text = match self.many {
            true => serde_json::to_string(answer)?,
            false => serde_json::to_string_pretty(answer)?,
        };
        text.push('\n');
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(err).context("cannot write to standard output")
            }
            _ => Ok(()),
        }
    }
}

/// What `verify` was shown.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shown {
    /// A PDF file, by its SHA-256.
    Pdf,
    /// A scanned QR code's payload.
    Qr,
    /// A Merkle proof file, checked offline.
    Proof,
}

/// `verify`'s answer about one input: the text's `<input>: VERDICT` and the lines under it.
#[derive(Debug, Serialize)]
pub struct VerifyAnswer {
    /// The file as given on the command line, or the payload's text.
    pub input: String,
    pub shown: Shown,
    /// `genuine`, `unconfirmed`, `disowned`, `altered`, `unknown`; for a proof `holds` or
    /// `fails`.
    pub verdict: &'static str,
    /// Genuine and its status active (what exit code 0 says of it); a proof says nothing of
    /// a status, and is never in force.
    pub in_force: bool,
    /// The exit code a verify of this input alone ends with.
    pub exit_code: i32,
    /// Why it is not genuine, or why a proof fails.
    pub why: Option<String>,
    /// What a proof that holds shows.
    pub shows: Option<String>,
    /// The document its record describes (genuine, unconfirmed, disowned).
    pub document: Option<DocumentView>,
    /// The size of the checkpoint whose inclusion proof vouches for it (genuine).
    pub checkpoint: Option<u64>,
    /// What is wrong with the registry besides (genuine).
    pub caveats: Vec<String>,
    /// The document's digital signature, as `verify`'s text shows it (`VALID — …`,
    /// `INVALID — …`), for a signed PDF; absent for payloads, proofs and unsigned documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A registered document, as `verify`'s text shows it (and the hashes that identify it).
#[derive(Debug, Serialize)]
pub struct DocumentView {
    pub registry: String,
    /// Its record's position in the registry, and the record's hash.
    pub record: u64,
    pub record_hash: String,
    pub number: String,
    pub kind: String,
    pub title: Words,
    pub service: String,
    pub case_id: String,
    pub holder: Holder,
    pub issued: Date,
    /// The status in force, and the event that set it (`null` fields while it never changed).
    pub status: StatusView,
    /// The registered PDF's SHA-256, and the content hash its QR code carries.
    pub sha256: String,
    pub content: String,
}

/// A document's status in force: the names the verification service's JSON API uses.
#[derive(Debug, Serialize)]
pub struct StatusView {
    pub status: Status,
    pub since: Option<Date>,
    pub superseded_by: Option<String>,
    pub reason: Option<String>,
    /// As the text says it: `superseded on 24.11.2026 by № 00018-Г (…)`.
    pub text: String,
}

impl DocumentView {
    pub fn new(document: &Document) -> DocumentView {
        let entry = &document.entry;
        let event = document.event.as_ref();
        DocumentView {
            registry: document.registry.clone(),
            record: document.seq,
            record_hash: document.hash.clone(),
            number: entry.number.clone(),
            kind: entry.document.clone(),
            title: entry.title(),
            service: entry.service.clone(),
            case_id: entry.case_id.clone(),
            holder: entry.holder(),
            issued: entry.issued,
            status: StatusView {
                status: document.status,
                since: event.map(|e| e.date),
                superseded_by: event.and_then(|e| e.by.clone()),
                reason: event.map(|e| e.reason.clone()).filter(|r| !r.is_empty()),
                text: document.status_text(),
            },
            sha256: entry.pdf.sha256.clone(),
            content: entry.content.clone(),
        }
    }
}

impl VerifyAnswer {
    /// The answer for `input`, shown as `shown`, judged `verdict`.
    pub fn verdict(input: String, shown: Shown, verdict: &Verdict) -> VerifyAnswer {
        let mut answer = VerifyAnswer {
            input,
            shown,
            verdict: verdict.name(),
            in_force: false,
            exit_code: verdict.exit_code(),
            why: None,
            shows: None,
            document: None,
            checkpoint: None,
            caveats: Vec::new(),
            signature: None,
        };
        match verdict {
            Verdict::Genuine {
                document,
                checkpoint,
                caveats,
            } => {
                answer.in_force = document.in_force();
                answer.document = Some(DocumentView::new(document));
                answer.checkpoint = Some(*checkpoint);
                answer.caveats = caveats.clone();
            }
            Verdict::Unconfirmed { document, why } | Verdict::Disowned { document, why } => {
                answer.document = Some(DocumentView::new(document));
                answer.why = Some(why.clone());
            }
            Verdict::Altered { why } | Verdict::Unknown { why } => answer.why = Some(why.clone()),
        }
        answer
    }

    /// The answer for a proof file: it holds (`what` it shows) or fails (`why`).
    pub fn proof(input: String, outcome: &Result<String, String>) -> VerifyAnswer {
        let (verdict, exit_code) = match outcome {
            Ok(_) => ("holds", crate::exit::OK),
            Err(_) => ("fails", crate::exit::REJECTED),
        };
        VerifyAnswer {
            input,
            shown: Shown::Proof,
            verdict,
            in_force: false,
            exit_code,
            why: outcome.as_ref().err().cloned(),
            shows: outcome.as_ref().ok().cloned(),
            document: None,
            checkpoint: None,
            caveats: Vec::new(),
            signature: None,
        }
    }
}

/// `registry check`'s answer: every registry's findings and the verdict on them all.
#[derive(Debug, Serialize)]
pub struct CheckAnswer {
    /// No registry has a problem (exit code 0).
    pub sound: bool,
    pub exit_code: i32,
    /// In the order the text prints them: those that cannot be read, then the others by code.
    pub registries: Vec<RegistryAnswer>,
}

/// One registry's findings: what the text's block of it states.
#[derive(Debug, Serialize)]
pub struct RegistryAnswer {
    pub registry: String,
    /// It could be opened at all (when not, `problems` says why and nothing else was checked).
    pub readable: bool,
    pub sound: bool,
    /// Whole records read and found sound (up to the first broken one), of which documents and
    /// status events.
    pub records: u64,
    pub documents: u64,
    pub events: u64,
    /// Documents by the status in force.
    pub statuses: std::collections::BTreeMap<&'static str, u64>,
    /// Checkpoints, and PDFs compared with their records (with `--files`).
    pub checkpoints: u64,
    pub files: u64,
    /// What is wrong, each naming the record, file or version; what is worth knowing but not
    /// wrong; PDFs no record names (with `--files`); what the verdict rests on.
    pub problems: Vec<String>,
    pub notes: Vec<String>,
    pub orphans: Vec<String>,
    pub basis: String,
}

impl RegistryAnswer {
    pub fn checked(check: RegistryCheck) -> RegistryAnswer {
        RegistryAnswer {
            sound: check.is_sound(),
            readable: true,
            registry: check.registry,
            records: check.records,
            documents: check.documents,
            events: check.events,
            statuses: check.statuses,
            checkpoints: check.checkpoints,
            files: check.files,
            problems: check.problems,
            notes: check.notes,
            orphans: check.orphans,
            basis: check.basis,
        }
    }

    /// A registry that cannot be opened, and why.
    pub fn unreadable(registry: &str, problem: &str) -> RegistryAnswer {
        RegistryAnswer {
            readable: false,
            ..RegistryAnswer::checked(RegistryCheck {
                registry: registry.to_string(),
                problems: vec![problem.to_string()],
                basis: "nothing: it cannot be read".to_string(),
                ..RegistryCheck::default()
            })
        }
    }
}

/// What `regenerate` did with one document, or that it found none.
#[derive(Debug, Serialize)]
pub struct RegenerateAnswer {
    /// `identical`, `differs`, `not-regenerated` (it could not be typeset), `not-found`.
    pub outcome: &'static str,
    pub exit_code: i32,
    pub registry: Option<String>,
    pub number: Option<String>,
    /// The document's kind, its record, and the case it was issued for (or the case asked
    /// for, when none was found).
    pub kind: Option<String>,
    pub record: Option<u64>,
    pub case_id: Option<String>,
    /// Where the PDF was written.
    pub path: Option<String>,
    /// The new PDF's SHA-256, and the one its record holds.
    pub sha256: Option<String>,
    pub recorded: Option<String>,
    /// Why it differs or was not regenerated, or why nothing was found.
    pub reasons: Vec<String>,
}

impl RegenerateAnswer {
    /// The answer for `result`, a document of `entry`.
    pub fn new(result: &Regenerated, entry: &DocumentEntry) -> RegenerateAnswer {
        let outcome = match (&result.path, result.is_identical()) {
            (Some(_), true) => "identical",
            (Some(_), false) => "differs",
            (None, _) => "not-regenerated",
        };
        RegenerateAnswer {
            outcome,
            exit_code: if result.is_identical() {
                crate::exit::OK
            } else {
                crate::exit::REJECTED
            },
            registry: Some(result.registry.clone()),
            number: Some(result.number.clone()),
            kind: Some(entry.document.clone()),
            record: Some(result.seq),
            case_id: Some(entry.case_id.clone()),
            path: result.path.as_ref().map(|p| p.display().to_string()),
            sha256: result.sha256.clone(),
            recorded: Some(result.recorded.clone()),
            reasons: result.reasons.clone(),
        }
    }

    /// Nothing was found for what was asked: `registry` № `number`, or case `case_id`.
    pub fn not_found(
        registry: Option<&str>,
        number: Option<&str>,
        case_id: Option<&str>,
        why: String,
    ) -> RegenerateAnswer {
        RegenerateAnswer {
            outcome: "not-found",
            exit_code: crate::exit::REJECTED,
            registry: registry.map(str::to_string),
            number: number.map(str::to_string),
            kind: None,
            record: None,
            case_id: case_id.map(str::to_string),
            path: None,
            sha256: None,
            recorded: None,
            reasons: vec![why],
        }
    }
}
