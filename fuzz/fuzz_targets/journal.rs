//! The registry readers on arbitrary bytes.
//!
//! The input is up to four sections separated by the two bytes `\n\x1d` (a newline and ASCII
//! "group separator"):
//!
//! ```text
//! journal.jsonl [ \n\x1d index.tsv [ \n\x1d checkpoints.jsonl [ \n\x1d head.json ] ] ]
//! ```
//!
//! 1. Every line of the journal section goes, as it is, through `split_line`, `parse_line`,
//!    `parse_brief` and `parse_for_readers` (of its body) and `brief::parse` (what `registry
//!    check` reads).
//! 2. The journal is then *repaired* so that mutations get past the SHA-256 checks: a line of
//!    record shape (`{"hash":"<64>","record":<body>}`) gets the true hash of its body, and its
//!    `"prev":"<64>"` (from line 2 on) is set to the hash of the line before. Other lines are
//!    kept as they are. Each repaired line goes through step 1 as well.
//! 3. The repaired journal (always ending in a newline: see below), and the other sections when
//!    present, are written to a registry folder `<tmp>/qujat-fuzz-journal-<pid>/media/`, which
//!    is read by `Reader` (`by_number`, `by_case`, `by_pdf`, `statuses`, `scan`), `Index`,
//!    `checkpoint::load`/`tree_of`/`problems`, `check::check`, and `Writer::open` and its
//!    lookups. One folder per process, rewritten each run: no temp-dir churn.
//!
//! Invariants: no panic, hang or unbounded allocation anywhere; and
//! * `split_line` Ok ⇒ the hash it returns is the SHA-256 of the body it returns;
//! * `parse_line` Ok ⇒ `to_line` of the record gives the line back byte for byte, `parse_brief`
//!   of its body gives the same record with `data` null, `parse_for_readers` agrees, and
//!   `brief::parse` reads the same fields (and `index::brief_line` = `index::line`);
//! * lookups return only records that match what was looked up;
//! * for a journal of canonical records: `check` finds the registry sound (ignoring missing
//!   template versions, which the fuzz folder does not keep) ⇒ `Writer::open` opens it, and both
//!   count the same records.
//!
//! With `QUJAT_FUZZ_STRICT=1`, the last invariant is asserted for every journal, and also: `check`
//! sound ⇒ every document record is found by `Reader::by_number` without error. Both fail today
//! (README.md, finding F1 "check-accepts-what-writer-refuses"); `QUJAT_FUZZ_DEBUG=1` prints what
//! `check` found and how each line parses.
//!
//! The journal is always written ending in a newline: `check` waits 200 ms before calling an
//! incomplete last line damage (a writer may be appending), which would make this target run
//! at 5 executions per second; `Writer::open` would also truncate (and fsync) it.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use qujat::registry::check::check;
use qujat::registry::index::Index;
use qujat::registry::read::Reader;
use qujat::registry::{
    Entry, Record, Writer, brief, checkpoint, parse_brief, parse_for_readers, parse_line,
    sha256_hex, split_line, to_line,
};

const SEPARATOR: &[u8] = b"\n\x1d";
const LINE_HEAD: &[u8] = b"{\"hash\":\"";
const LINE_MID: &[u8] = b"\",\"record\":";
const CODE: &str = "media";

fuzz_target!(|data: &[u8]| {
    let mut sections = split_sections(data);
    sections.resize(4, None);
    let journal = sections[0].unwrap_or_default();

    let repaired = repair(journal);
    let mut canonical = true;
    // Repair keeps the lines (one for one); a line it left alone is read once.
    for (raw, line) in lines(journal).zip(lines(&repaired)) {
        if raw != line {
            check_line(raw);
        }
        canonical &= check_line(line);
    }
    check_files(&repaired, canonical, sections[1], sections[2], sections[3]);
});

/// The sections of the input: journal, index, checkpoints, head (`None` when absent).
fn split_sections(data: &[u8]) -> Vec<Option<&[u8]>> {
    let mut sections = Vec::new();
    let mut rest = data;
    while sections.len() < 3 {
        match find(rest, SEPARATOR) {
            Some(at) => {
                // The separator's newline ends the section's last line.
                sections.push(Some(&rest[..at + 1]));
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    sections.push(Some(rest));
    sections
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The lines of a section, without their newlines (a last line without one included).
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    text.split(|&b| b == b'\n')
        .filter(move |_| !text.is_empty())
}

/// The body of a line of record shape, whatever its hash says.
fn body_of(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(LINE_HEAD)?;
    rest.get(64..)?.strip_prefix(LINE_MID)?.strip_suffix(b"}")
}

/// Gives each line of record shape the hash of its body and (from line 2 on) a `prev` naming the
/// line before; ends the journal with a newline.
fn repair(journal: &[u8]) -> Vec<u8> {
    const PREV: &[u8] = b"\"prev\":\"";
    let mut out = Vec::with_capacity(journal.len() + 1);
    let mut last_hash: Option<String> = None;
    for line in lines(journal) {
        let Some(body) = body_of(line) else {
            out.extend_from_slice(line);
            out.push(b'\n');
            last_hash = line
                .get(LINE_HEAD.len()..LINE_HEAD.len() + 64)
                .filter(|_| line.starts_with(LINE_HEAD))
                .and_then(|h| std::str::from_utf8(h).ok())
                .map(str::to_string);
            continue;
        };
        let mut body = body.to_vec();
        if let (Some(prev), Some(at)) = (&last_hash, find(&body, PREV)) {
            let start = at + PREV.len();
            if body.get(start + 64) == Some(&b'"') {
                body[start..start + 64].copy_from_slice(prev.as_bytes());
            }
        }
        let hash = sha256_hex(&body);
        out.extend_from_slice(LINE_HEAD);
        out.extend_from_slice(hash.as_bytes());
        out.extend_from_slice(LINE_MID);
        out.extend_from_slice(&body);
        out.extend_from_slice(b"}\n");
        last_hash = Some(hash);
    }
    out
}

/// The record as `parse_brief` reads it: without its data.
fn brief(record: &Record) -> Record {
    let mut record = record.clone();
    if let Entry::Document(doc) = &mut record.entry {
        doc.data = serde_json::Value::Null;
    }
    record
}

/// The pure line readers, and how they must agree. Whether the line is a canonical record.
fn check_line(line: &[u8]) -> bool {
    let Some(body) = body_of(line) else {
        let _ = split_line(line);
        return false;
    };
    let briefly = parse_brief(body);
    let for_readers = match &briefly {
        Ok(_) => parse_for_readers(body).ok(),
        Err(_) => None,
    };
    let mut scratch = Vec::new();
    let short = brief::parse(body, &mut scratch);
    if let Ok(short) = &short {
        let _ = (short.link(), short.number(), short.pdf_sha256());
    }
    match split_line(line) {
        Ok((hash, split_body)) => {
            assert_eq!(split_body, body);
            assert_eq!(
                sha256_hex(body),
                hash,
                "split_line returned a body its hash is not of"
            );
        }
        Err(_) => return false,
    }
    let Ok((hash, record)) = parse_line(line) else {
        return false;
    };
    let (again, again_hash) = to_line(&record);
    assert_eq!(
        again.as_bytes(),
        [line, b"\n"].concat(),
        "a canonical line does not round-trip"
    );
    assert_eq!(again_hash, hash);
    let briefly = briefly.expect("parse_brief refuses a canonical record");
    assert_eq!(
        briefly,
        brief(&record),
        "parse_brief reads a canonical record differently"
    );
    let for_readers = for_readers.expect("parse_for_readers refuses a canonical record");
    match record.document() {
        Some(doc) if doc.holder.is_none() => assert_eq!(for_readers, record),
        _ => assert_eq!(for_readers, brief(&record)),
    }
    let index_line = qujat::registry::index::line(&record, 0, line.len() as u64);
    if let Some(doc) = record.document() {
        let _ = (doc.holder(), doc.title());
    }
    // What `registry check` reads of a canonical record is what the record says.
    let brief = short.expect("brief::parse refuses a canonical record");
    assert_eq!(brief.seq, record.seq);
    assert_eq!(brief.prev, record.prev);
    assert_eq!(
        qujat::registry::index::brief_line(&brief, 0, line.len() as u64),
        index_line,
        "brief::parse and parse_line index a canonical record differently"
    );
    match &record.entry {
        Entry::Document(doc) => {
            assert!(brief.is_document());
            assert_eq!(brief.number(), doc.number);
            assert_eq!(brief.sequence.as_deref(), Some(doc.sequence.as_str()));
            assert_eq!(brief.n, Some(doc.n));
            assert_eq!(brief.template.as_deref(), Some(doc.template.as_str()));
            assert_eq!(brief.issued, Some(doc.issued));
            let items: Vec<_> = brief
                .items
                .iter()
                .map(|i| (i.sequence.to_string(), i.n))
                .collect();
            let expected: Vec<_> = doc
                .items
                .iter()
                .map(|i| (i.sequence.clone(), i.n))
                .collect();
            assert_eq!(items, expected);
        }
        Entry::Status(event) => {
            assert!(!brief.is_document());
            assert_eq!(
                (brief.target, brief.status),
                (Some(event.target), Some(event.status))
            );
        }
    }
    true
}

fn debug() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("QUJAT_FUZZ_DEBUG").is_some())
}

fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("QUJAT_FUZZ_STRICT").is_some())
}

/// The registry folder of this process (created once).
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("qujat-fuzz-journal-{}", std::process::id()));
        std::fs::create_dir_all(root.join(CODE)).expect("cannot create the fuzz registry folder");
        root
    })
}

fn write_or_remove(path: &Path, contents: Option<&[u8]>) {
    match contents {
        Some(bytes) => std::fs::write(path, bytes).expect("cannot write the fuzz registry"),
        None => match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => panic!("cannot remove {}: {err}", path.display()),
        },
    }
}

/// What to look up: the numbers, case ids and PDF hashes the records name (a few), or made-up
/// ones.
fn needles(journal: &[u8]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut numbers, mut cases, mut pdfs) = (Vec::new(), Vec::new(), Vec::new());
    for line in lines(journal) {
        let Some(record) = body_of(line).and_then(|b| parse_brief(b).ok()) else {
            continue;
        };
        match &record.entry {
            Entry::Document(doc) => {
                numbers.push(doc.number.clone());
                cases.push(doc.case_id.clone());
                pdfs.push(doc.pdf.sha256.clone());
            }
            Entry::Status(event) => numbers.push(event.number.clone()),
        }
        if !numbers.is_empty() && !cases.is_empty() {
            break;
        }
    }
    // One of each found in the journal (the first record's, usually), and one made up: every
    // lookup scans the journal, and the target must stay fast.
    for list in [&mut numbers, &mut cases, &mut pdfs] {
        list.truncate(1);
    }
    numbers.push("00001-Г".into());
    (numbers, cases, pdfs)
}

fn check_files(
    journal: &[u8],
    canonical: bool,
    index: Option<&[u8]>,
    checkpoints: Option<&[u8]>,
    head: Option<&[u8]>,
) {
    let root = root();
    let dir = root.join(CODE);
    write_or_remove(&dir.join("journal.jsonl"), Some(journal));
    write_or_remove(&qujat::registry::index::path(&dir), index);
    write_or_remove(&checkpoint::path(&dir), checkpoints);
    write_or_remove(&dir.join("head.json"), head);
    let (numbers, cases, pdfs) = needles(journal);

    let reader = Reader::open(root, CODE).expect("the journal was just written");
    for number in &numbers {
        if let Ok(found) = reader.by_number(number) {
            for f in &found {
                assert_eq!(
                    &f.document().number,
                    number,
                    "by_number found another number"
                );
            }
        }
    }
    for case_id in &cases {
        if let Ok(found) = reader.by_case(case_id) {
            for f in &found {
                assert_eq!(&f.document().case_id, case_id, "by_case found another case");
            }
        }
    }
    for sha in &pdfs {
        if let Ok(found) = reader.by_pdf(sha) {
            for f in &found {
                assert_eq!(&f.document().pdf.sha256, sha, "by_pdf found another PDF");
            }
        }
    }
    let _ = reader.statuses();
    let mut scanned = 0u64;
    let _ = reader.scan(|_, _| {
        scanned += 1;
        Ok(())
    });

    if let Ok(Some(index)) = Index::load(&dir) {
        let _ = index.last().map(|place| place.end());
        for number in &numbers {
            let _ = index.documents(number);
        }
        for sha in &pdfs {
            let _ = index.pdfs(sha);
        }
        let _ = index.status_events();
    }
    let loaded = checkpoint::load(&dir);
    if let (Ok(checkpoints), Ok(tree)) = (&loaded, checkpoint::tree_of(&reader)) {
        let _ = checkpoint::problems(checkpoints, &tree);
    }

    // `check` returns an error (rather than a problem) for a head.json or checkpoints.jsonl it
    // cannot parse; that is its documented contract ("only failures to read are errors").
    let Ok(checked) = check(root, &reader, None) else {
        let _ = Writer::open(root, CODE, Duration::ZERO);
        return;
    };
    if debug() {
        eprintln!("check: {checked}");
        for line in lines(journal) {
            if let Some(body) = body_of(line) {
                eprintln!("brief: {:?}", parse_brief(body));
                eprintln!("readers: {:?}", parse_for_readers(body));
            }
        }
    }
    let sound = checked
        .problems
        .iter()
        .all(|p| p.contains("cannot be regenerated"));

    let writer = Writer::open(root, CODE, Duration::ZERO);
    // Only for journals of canonical records: for others `check` and the writer are known to
    // disagree (README.md, finding "check-accepts-what-writer-refuses"); STRICT asserts it anyway.
    if sound && (canonical || strict()) {
        let writer = writer.as_ref().unwrap_or_else(|err| {
            panic!("check finds the registry sound, but Writer::open refuses it: {err:#}")
        });
        assert_eq!(
            writer.len(),
            checked.records,
            "check and Writer::open count differently"
        );
        if strict() {
            for line in lines(journal) {
                let Some(doc) = body_of(line)
                    .and_then(|b| parse_brief(b).ok())
                    .and_then(|r| r.document().map(|d| d.number.clone()))
                else {
                    continue;
                };
                if let Err(err) = reader.by_number(&doc) {
                    panic!("check finds the registry sound, but by_number({doc:?}) fails: {err:#}");
                }
            }
        }
    }
    if let Ok(writer) = &writer {
        for number in &numbers {
            if let Some((_, registered)) = writer.by_number("certificate", number) {
                assert_eq!(&registered.number, number);
            }
            for (_, registered) in writer.find_number(number) {
                assert_eq!(&registered.number, number);
            }
        }
        for seq in 0..=writer.len() + 1 {
            let _ = writer.status_of(seq);
        }
        let _ = (writer.sequence_tails(), writer.next_link());
    }
}
