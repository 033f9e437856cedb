//! Registry records and their line form: canonical JSON, hash-chained.
//!
//! Each journal line is `{"hash":"<h>","record":<r>}` where `<r>` is the record in canonical JSON
//! (keys sorted, no spaces, only integers — what Python's `json.dumps(r, sort_keys=True,
//! separators=(",", ":"), ensure_ascii=False)` writes) and `<h>` is the SHA-256 of those bytes.
//! Each record names the previous record's hash in `prev`, so any edit, deletion or reordering
//! breaks the chain at a record that can be named. Nothing but SHA-256 is needed to check it.

use std::sync::LazyLock;

use memchr::memmem;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::date::Date;

/// The `prev` of the first record of a journal.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const LINE_HEAD: &[u8] = b"{\"hash\":\"";
const LINE_MID: &[u8] = b"\",\"record\":";

pub use crate::digest::{canonical, hash_json, sha256_hex};

/// A registry record: its place in the journal, its link to the previous record, and what it
/// registers.
///
/// Unknown fields are not refused when parsing; [`parse_line`] refuses any record whose bytes
/// are not exactly its canonical form, which catches them and any other rewriting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the journal: 1, 2, 3, … with no gaps.
    pub seq: u64,
    /// The hash of the previous record, or [`GENESIS`].
    pub prev: String,
    #[serde(flatten)]
    pub entry: Entry,
}

/// What a record registers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
// Records are read and written one at a time; boxing documents would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Entry {
    Document(DocumentEntry),
    /// A change of an earlier document's status: it never rewrites the document's record.
    Status(StatusEntry),
}

/// The status of a registered document. Every document starts `active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Active,
    Suspended,
    Revoked,
    Superseded,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Active,
        Status::Suspended,
        Status::Revoked,
        Status::Superseded,
    ];

    /// Whether a document in this status may be given status `next`. Revocation and
    /// supersession are final; a suspension ends by reinstatement (`active`) or one of them.
    pub fn may_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Active, Suspended | Revoked | Superseded) | (Suspended, Active | Revoked | Superseded)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Revoked => "revoked",
            Status::Superseded => "superseded",
        }
    }

    /// The status in Kazakh and Russian, as registry extracts print it.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Status::Active => ("қолданыста", "действует"),
            Status::Suspended => ("тоқтатыла тұрды", "приостановлено"),
            Status::Revoked => ("кері қайтарып алынды", "отозвано"),
            Status::Superseded => ("ауыстырылды", "заменено"),
        }
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                format!("unknown status {text:?} (use active, suspended, revoked or superseded)")
            })
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status event: from `date` on, the document of record `target` has `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusEntry {
    /// The `seq` of the document's record.
    pub target: u64,
    /// The document's number, so that a reader of the journal need not look it up.
    pub number: String,
    pub status: Status,
    /// The day the status takes effect.
    pub date: Date,
    /// Why, in words: the order or decision it follows from.
    pub reason: String,
    /// The number of the document that supersedes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// An issued document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentEntry {
    pub service: String,
    pub case_id: String,
    /// The document kind within the service (`certificate`, `refusal`, …).
    pub document: String,
    /// The number sequence within the registry, and the position in it (1, 2, … gapless).
    pub sequence: String,
    pub n: u64,
    /// The number as written on the document.
    pub number: String,
    /// Numbers the document gives to the items it lists (each deposited object), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemNumber>,
    /// For a document allowed once per value of a field: `<field>=<value>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub once: Option<String>,
    pub issued: Date,
    /// SHA-256 of the case's canonical data: a re-run with different data is caught by it.
    pub case_hash: String,
    /// Everything the template shows, exactly as it was given to it.
    pub data: Json,
    /// SHA-256 of `data`'s canonical JSON: the hash of the registered content.
    pub content: String,
    /// The template version (content hash of its files; kept in `registry/templates/`).
    pub template: String,
    /// SHA-256 over the font files the document was typeset with.
    pub fonts: String,
    /// The typesetting engine and its version.
    pub engine: String,
    pub pdf: PdfEntry,
    /// The payload of the document's QR code: the verification address, the registry, the
    /// number and `content` (see [`crate::qr`]).
    pub qr: String,
    /// Who it was issued to, as extracts show it (copied from `data` at registration, so a
    /// reader of a million records never has to read their data). Absent in records written
    /// before qujat kept it; readers then take it from `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<Holder>,
    /// The document's title in both languages (from `data`, like `holder`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Words>,
    /// The official's digital signature on the PDF, when it was signed (absent in records
    /// written before qujat signed, and when no `[signing]` is configured). `pdf.sha256` is then
    /// the signed file's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureEntry>,
}

/// Who signed a document, when, and where the signature is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureEntry {
    /// SHA-256 of the signing certificate (DER).
    pub certificate: String,
    /// Its subject and serial number (hexadecimal), as a reader of the record needs them.
    pub subject: String,
    pub serial: String,
    /// The signing time the signature claims (a PDF date: noon of the issue date, ministry time).
    pub time: String,
    /// SHA-256 of the kept signature (the PDF's incremental update, kept content-addressed
    /// beside the registry), which turns the rendered PDF into the signed one.
    pub kept: String,
    /// SHA-256 of the PDF as rendered, before the signature was appended.
    pub unsigned: String,
}

/// The holder of a document: IIN or BIN (empty when the case has neither), name in Kazakh and
/// Russian.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub id: String,
    pub kk: String,
    pub ru: String,
}

/// A text in Kazakh and Russian.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    pub kk: String,
    pub ru: String,
}

impl DocumentEntry {
    /// The holder: the recorded one, or for older records the one `data` names.
    pub fn holder(&self) -> Holder {
        self.holder.clone().unwrap_or_else(|| holder_of(&self.data))
    }

    /// The title: the recorded one, or for older records the one `data` names.
    pub fn title(&self) -> Words {
        self.title.clone().unwrap_or_else(|| title_of(&self.data))
    }
}

fn text_at(data: &Json, path: &[&str]) -> String {
    path.iter()
        .fold(data, |value, key| &value[key])
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The holder a document's data names: the applicant.
pub fn holder_of(data: &Json) -> Holder {
    let applicant = &data["case"]["applicant"];
    Holder {
        id: applicant["bin"]
            .as_str()
            .or_else(|| applicant["iin"].as_str())
            .unwrap_or_default()
            .to_string(),
        kk: text_at(applicant, &["name", "kk"]),
        ru: text_at(applicant, &["name", "ru"]),
    }
}

/// The title a document's data gives it.
pub fn title_of(data: &Json) -> Words {
    Words {
        kk: text_at(data, &["document", "title", "kk"]),
        ru: text_at(data, &["document", "title", "ru"]),
    }
}

/// A number a document gives to one item it lists, from another sequence of its registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemNumber {
    pub sequence: String,
    pub n: u64,
    pub number: String,
}

/// The rendered PDF, and the metadata it was rendered with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdfEntry {
    pub sha256: String,
    /// Path relative to the output folder.
    pub file: String,
    /// The PDF document identifier's seed.
    pub ident: String,
    /// The creation timestamp written into the PDF (the issue date, midnight UTC).
    pub created: String,
    pub creator: String,
}

impl Record {
    /// The record as canonical JSON (the hashed bytes).
    pub fn canonical(&self) -> String {
        canonical(&serde_json::to_value(self).expect("records always serialise"))
    }

    pub fn document(&self) -> Option<&DocumentEntry> {
        match &self.entry {
            Entry::Document(document) => Some(document),
            Entry::Status(_) => None,
        }
    }

    pub fn status(&self) -> Option<&StatusEntry> {
        match &self.entry {
            Entry::Status(status) => Some(status),
            Entry::Document(_) => None,
        }
    }
}

/// A record together with its hash, as one journal line (with its trailing newline).
pub fn to_line(record: &Record) -> (String, String) {
    let body = record.canonical();
    let hash = sha256_hex(body.as_bytes());
    (format!("{{\"hash\":\"{hash}\",\"record\":{body}}}\n"), hash)
}

/// Like [`to_line`], for a record whose `data` is given as canonical JSON text (and is `null`
/// in `record`): the text is put in `data`'s place, so the data is not serialised again.
pub fn to_line_with_data(record: &Record, data: &str) -> (String, String) {
    let with_null = record.canonical();
    let body = match data_span(with_null.as_bytes()) {
        Some((start, end)) if &with_null[start..end] == "null" => {
            format!("{}{data}{}", &with_null[..start], &with_null[end..])
        }
        _ => with_null,
    };
    let hash = sha256_hex(body.as_bytes());
    (format!("{{\"hash\":\"{hash}\",\"record\":{body}}}\n"), hash)
}

/// Why a journal line is not a well-formed record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("not a record line ({0})")]
    Shape(&'static str),
    #[error("its content does not match its hash (edited?)")]
    Hash,
    #[error("unreadable record: {0}")]
    Json(String),
    #[error("not in canonical form (rewritten by a tool?)")]
    NotCanonical,
    /// What a whole read finds inconsistent within a record (`registry check --full`).
    #[error("{0}")]
    Content(String),
}

/// Splits a line (without its newline) into its hash and the hashed record bytes, checking the
/// hash. Cheap: it parses nothing.
pub fn split_line(line: &[u8]) -> Result<(&str, &[u8]), LineError> {
    let (hash, body) = split_shape(line)?;
    check_digest(hash, &Sha256::digest(body).into())?;
    Ok((hash, body))
}

/// [`split_line`] of each of `lines`, in order: the same results, the hashes computed two at a
/// time (see [`super::sha256x2`]), for readers of whole journals.
pub fn split_lines<'a>(
    lines: impl IntoIterator<Item = &'a [u8]>,
) -> Vec<Result<(&'a str, &'a [u8]), LineError>> {
    let mut split: Vec<_> = lines.into_iter().map(split_shape).collect();
    let shaped: Vec<usize> = (0..split.len()).filter(|&i| split[i].is_ok()).collect();
    let body = |split: &[Result<(&str, &'a [u8]), LineError>], i: usize| {
        split[i]
            .as_ref()
            .map(|(_, body)| *body)
            .expect("a line of the right shape")
    };
    let check = |split: &mut [Result<(&'a str, &'a [u8]), LineError>], i: usize, digest| {
        if let Ok((hash, _)) = split[i]
            && let Err(err) = check_digest(hash, &digest)
        {
            split[i] = Err(err);
        }
    };
    for pair in shaped.chunks(2) {
        match *pair {
            [a, b] => {
                let [digest_a, digest_b] =
                    super::sha256x2::digest_pair(body(&split, a), body(&split, b));
                check(&mut split, a, digest_a);
                check(&mut split, b, digest_b);
            }
            [a] => {
                let digest = Sha256::digest(body(&split, a)).into();
                check(&mut split, a, digest);
            }
            _ => unreachable!("chunks of two"),
        }
    }
    split
}

/// Splits a line into its hash and the hashed record bytes, the hash not yet checked.
fn split_shape(line: &[u8]) -> Result<(&str, &[u8]), LineError> {
    let rest = line
        .strip_prefix(LINE_HEAD)
        .ok_or(LineError::Shape("must start with {\"hash\":\""))?;
    if rest.len() < 64 + LINE_MID.len() + 1 {
        return Err(LineError::Shape("too short"));
    }
    let (hash, rest) = rest.split_at(64);
    let hash = std::str::from_utf8(hash)
        .ok()
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
        .ok_or(LineError::Shape("hash must be 64 lower-case hex digits"))?;
    let body = rest
        .strip_prefix(LINE_MID)
        .and_then(|r| r.strip_suffix(b"}"))
        .ok_or(LineError::Shape("must be {\"hash\":…,\"record\":…}"))?;
    Ok((hash, body))
}

/// Whether `digest` is the one `hash` (hex) names. Compared as text on the stack: a million
/// lines need no million strings.
fn check_digest(hash: &str, digest: &[u8; 32]) -> Result<(), LineError> {
    let mut hex = [0u8; 64];
    hex::encode_to_slice(digest, &mut hex).expect("64 hex digits hold a SHA-256");
    if hex != hash.as_bytes() {
        return Err(LineError::Hash);
    }
    Ok(())
}

/// Where a document record's `data` value lies in its body: after the first `,"data":` and
/// before the last `,"document":"`. Keys are sorted, so `data` follows `case_hash`, `case_id` and
/// `content` (strings, in which `"` is always escaped) and is followed by `document`, whose
/// string value no key inside `data` can imitate after it.
pub(super) fn data_span(body: &[u8]) -> Option<(usize, usize)> {
    static DATA: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(b",\"data\":"));
    let start = DATA.find(body)? + DATA.needle().len();
    let end = last_document_key(body)?;
    (start < end).then_some((start, end))
}

/// Where the last `,"document":"` in `body` starts. A search backwards from the end would be
/// the plain way, but memchr's reverse search has no SIMD prefilter, and the key is usually
/// within the last kilobyte or two (`data` comes before it, the record's own short fields
/// after it). So the last 2 KiB are searched forwards, then a window four times as wide, and so
/// on: the last match in a window that has one is the last match of all (one starting before
/// the window starts before it, and none inside is missed: the needle cannot overlap itself).
fn last_document_key(body: &[u8]) -> Option<usize> {
    static DOCUMENT: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(b",\"document\":\""));
    let mut window = 2048;
    loop {
        let from = body.len().saturating_sub(window);
        if let Some(found) = DOCUMENT.find_iter(&body[from..]).last() {
            return Some(from + found);
        }
        if from == 0 {
            return None;
        }
        window *= 4;
    }
}

/// Reads a record's body (hashed bytes, as [`split_line`] gives them) without its `data`: every
/// other field, typed, with `data` left `null`. For readers of whole journals — a check, an
/// extract — that need the fields and not the megabytes of data; what `data` holds is covered by
/// the record's hash all the same.
pub fn parse_brief(body: &[u8]) -> Result<Record, LineError> {
    let parsed = match data_span(body) {
        Some((start, end)) => {
            let mut brief = Vec::with_capacity(start + 4 + body.len() - end);
            brief.extend_from_slice(&body[..start]);
            brief.extend_from_slice(b"null");
            brief.extend_from_slice(&body[end..]);
            serde_json::from_slice(&brief)
        }
        None => serde_json::from_slice(body),
    };
    parsed.map_err(|e| LineError::Json(e.to_string()))
}

/// Reads a line fully: hash, record, and that the record is in canonical form.
pub fn parse_line(line: &[u8]) -> Result<(String, Record), LineError> {
    let (hash, body) = split_line(line)?;
    let mut record: Record =
        serde_json::from_slice(body).map_err(|e| LineError::Json(e.to_string()))?;
    if !is_canonical(&mut record, body) {
        return Err(LineError::NotCanonical);
    }
    Ok((hash.to_string(), record))
}

/// Whether `body` is `record`'s canonical form, as [`Record::canonical`] would write it. A
/// document's `data`, most of its record, is compared where it stands rather than copied into a
/// second tree with the rest: the record is written with `data` left `null`, and the body must be
/// that text with the canonical `data` in the `null`'s place (as [`to_line_with_data`] writes
/// it). `record` is as given afterwards.
fn is_canonical(record: &mut Record, body: &[u8]) -> bool {
    let Entry::Document(document) = &mut record.entry else {
        return record.canonical().as_bytes() == body;
    };
    let data = std::mem::take(&mut document.data);
    let without = record.canonical();
    let same = match (data_span(without.as_bytes()), data_span(body)) {
        (Some((start, end)), Some((body_start, body_end))) => {
            without.as_bytes()[..start] == body[..body_start]
                && without.as_bytes()[end..] == body[body_end..]
                && canonical(&data).as_bytes() == &body[body_start..body_end]
        }
        _ => false,
    };
    if let Entry::Document(document) = &mut record.entry {
        document.data = data;
    }
    same
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn sample(seq: u64, prev: &str) -> Record {
        Record {
            seq,
            prev: prev.to_string(),
            entry: Entry::Document(DocumentEntry {
                service: "media-registration".into(),
                case_id: format!("MR-{seq}"),
                document: "certificate".into(),
                sequence: "certificate".into(),
                n: seq,
                number: format!("{seq:05}-Г"),
                items: Vec::new(),
                once: None,
                issued: "2026-11-20".parse().unwrap(),
                case_hash: sha256_hex(b"case"),
                data: json!({"title": "Жас Алаш \"#]\n", "b": [1, 2], "a": {"z": 1, "y": "ү"}}),
                content: sha256_hex(b"data"),
                template: sha256_hex(b"template"),
                fonts: sha256_hex(b"fonts"),
                engine: "typst 0.15.1".into(),
                pdf: PdfEntry {
                    sha256: sha256_hex(b"pdf"),
                    file: "media/certificate-000001.pdf".into(),
                    ident: "media/certificate/1".into(),
                    created: "2026-11-20T00:00:00Z".into(),
                    creator: "qujat".into(),
                },
                qr: format!("https://qujat.gov.kz/verify?r=media&n={seq:05}-%D0%93"),
                holder: None,
                title: None,
                signature: None,
            }),
        }
    }

    #[test]
    fn a_line_made_with_data_text_is_the_line_of_the_record_with_that_data() {
        let full = sample(4, GENESIS);
        let Entry::Document(doc) = &full.entry else {
            unreachable!()
        };
        let text = canonical(&doc.data);
        let mut without = full.clone();
        let Entry::Document(doc) = &mut without.entry else {
            unreachable!()
        };
        doc.data = Json::Null;
        assert_eq!(to_line_with_data(&without, &text), to_line(&full));
    }

    #[test]
    fn lines_split_together_split_as_each_alone() {
        let lines: Vec<String> = (1..=7)
            .map(|seq| to_line(&sample(seq, GENESIS)).0.trim_end().to_string())
            .collect();
        let mut mixed: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        mixed[1] = lines[1].replace("MR-2", "MR-9").into_bytes(); // edited
        mixed[2] = b"garbage".to_vec(); // not a record line
        mixed[4] = lines[4].replace("\"seq\":5", "\"seq\": 5").into_bytes(); // re-spaced
        for count in 0..=mixed.len() {
            let some: Vec<&[u8]> = mixed[..count].iter().map(Vec::as_slice).collect();
            let alone: Vec<_> = some.iter().map(|line| split_line(line)).collect();
            assert_eq!(split_lines(some.iter().copied()), alone, "{count} lines");
        }
        let split = split_lines(mixed.iter().map(Vec::as_slice));
        assert_eq!(split[1], Err(LineError::Hash));
        assert!(matches!(split[2], Err(LineError::Shape(_))));
        assert_eq!(split[4], Err(LineError::Hash));
        assert!(split[6].is_ok());
    }

    #[test]
    fn the_last_document_key_is_found_as_a_search_backwards_finds_it() {
        // Bodies made of pieces that resemble the key, of every size around the windows.
        let pieces: [&[u8]; 6] = [
            b",\"document\":\"",
            b"document",
            b",\"",
            b"\":\"",
            b"x",
            b"\xd0\x93",
        ];
        let mut seed = 7u64;
        let mut next = move |below: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % below
        };
        for case in 0..400 {
            let mut body = Vec::new();
            let target = [10, 1900, 2100, 8300, 33000, 70000][case % 6] + next(200);
            while body.len() < target {
                // The key itself only now and then, so that most windows lack it.
                let piece = next(pieces.len() * 40);
                body.extend_from_slice(if piece == 0 {
                    pieces[0]
                } else {
                    pieces[1 + piece % 5]
                });
            }
            assert_eq!(
                last_document_key(&body),
                memmem::rfind(&body, b",\"document\":\""),
                "case {case}"
            );
        }
    }

    #[test]
    fn a_signed_record_round_trips_and_an_unsigned_one_has_no_signature_key() {
        let unsigned = sample(1, GENESIS);
        assert!(!unsigned.canonical().contains("\"signature\""));
        let mut signed = unsigned.clone();
        let Entry::Document(doc) = &mut signed.entry else {
            unreachable!()
        };
        doc.signature = Some(SignatureEntry {
            certificate: sha256_hex(b"cert"),
            subject: "CN=Асқаров Ерлан Болатұлы,O=TEST ONLY - DO NOT USE,C=KZ".into(),
            serial: "512EDA4E".into(),
            time: "D:20261116120000+05'00'".into(),
            kept: sha256_hex(b"kept"),
            unsigned: sha256_hex(b"unsigned"),
        });
        let (line, _) = to_line(&signed);
        let (_, parsed) = parse_line(line.trim_end().as_bytes()).unwrap();
        assert_eq!(parsed, signed);
    }

    #[test]
    fn a_line_round_trips_and_its_hash_is_of_the_record_bytes() {
        let record = sample(1, GENESIS);
        let (line, hash) = to_line(&record);
        assert!(line.ends_with("}\n"));
        assert_eq!(line.matches('\n').count(), 1, "one line per record");
        let (parsed_hash, parsed) = parse_line(line.trim_end().as_bytes()).unwrap();
        assert_eq!(parsed_hash, hash);
        assert_eq!(parsed, record);
        assert_eq!(hash, sha256_hex(record.canonical().as_bytes()));
    }

    #[test]
    fn canonical_form_sorts_keys_at_every_level() {
        let text = sample(1, GENESIS).canonical();
        assert!(text.starts_with("{\"case_hash\":"), "{text}");
        assert!(
            text.contains("\"a\":{\"y\":\"ү\",\"z\":1},\"b\":[1,2]"),
            "{text}"
        );
        assert!(!text.contains(": ") && !text.contains(", "));
    }

    #[test]
    fn any_edit_is_caught() {
        let (line, _) = to_line(&sample(1, GENESIS));
        let line = line.trim_end();
        let edited = line.replace("00001-Г", "00002-Г");
        assert_eq!(parse_line(edited.as_bytes()).unwrap_err(), LineError::Hash);
        let spaced = line.replacen("\"seq\":1", "\"seq\": 1", 1);
        assert_eq!(parse_line(spaced.as_bytes()).unwrap_err(), LineError::Hash);
        assert_eq!(
            parse_line(&line.as_bytes()[..line.len() - 1]).unwrap_err(),
            LineError::Hash
        );
        assert!(matches!(parse_line(b"garbage"), Err(LineError::Shape(_))));
    }

    #[test]
    fn a_rehashed_but_reformatted_record_is_not_canonical() {
        let record = sample(1, GENESIS);
        let pretty = serde_json::to_string_pretty(&serde_json::to_value(&record).unwrap()).unwrap();
        let pretty = pretty.replace('\n', "");
        let line = format!(
            "{{\"hash\":\"{}\",\"record\":{pretty}}}",
            sha256_hex(pretty.as_bytes())
        );
        assert_eq!(
            parse_line(line.as_bytes()).unwrap_err(),
            LineError::NotCanonical
        );
    }

    /// Every way a rehashed body can differ from the canonical form is refused, in `data` and
    /// around it: the check that compares `data` in place says what writing it whole says.
    #[test]
    fn a_rehashed_body_is_canonical_only_as_written() {
        let record = sample(1, GENESIS);
        let body = record.canonical();
        let line = |body: &str| {
            format!(
                "{{\"hash\":\"{}\",\"record\":{body}}}",
                sha256_hex(body.as_bytes())
            )
        };
        let (_, parsed) = parse_line(line(&body).as_bytes()).unwrap();
        assert_eq!(parsed, record);
        for (what, changed) in [
            (
                "a space in data",
                body.replacen("\"b\":[1,2]", "\"b\":[1, 2]", 1),
            ),
            (
                "data's keys unsorted",
                body.replacen("\"y\":\"ү\",\"z\":1", "\"z\":1,\"y\":\"ү\"", 1),
            ),
            (
                "an escape written another way",
                body.replacen("\"ү\"", "\"\\u04af\"", 1),
            ),
            (
                "a field it does not have",
                body.replacen("\"case_hash\"", "\"extra\":1,\"case_hash\"", 1),
            ),
            (
                "a null it leaves out",
                body.replacen("\"case_hash\"", "\"once\":null,\"case_hash\"", 1),
            ),
            (
                "a space after data",
                body.replacen(",\"document\":", ", \"document\":", 1),
            ),
            (
                "a space before data",
                body.replacen(",\"data\":", ", \"data\":", 1),
            ),
        ] {
            assert_ne!(changed, body, "{what}: the edit applies");
            assert!(
                matches!(
                    parse_line(line(&changed).as_bytes()),
                    Err(LineError::NotCanonical | LineError::Json(_))
                ),
                "{what}: {changed}"
            );
        }
    }
}
