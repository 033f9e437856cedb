//! The registry readers on arbitrary bytes: journal lines, the files driver's registry folder
//! with or without its SQLite index, `registry check`, and a writer opening a registry.
//!
//! The input is up to four sections separated by the two bytes `\n\x1d` (a newline and ASCII
//! "group separator"):
//!
//! ```text
//! journal.jsonl [ \n\x1d index [ \n\x1d checkpoints.jsonl [ \n\x1d head.json ] ] ]
//! ```
//!
//! 1. Every line of the journal section goes, as it is, through `split_line`, `parse_line`,
//!    `parse_brief`, `parse_for_readers`, `brief::parse` and `facts_of_line`.
//! 2. The journal is then *repaired* so that mutations get past the SHA-256 checks: a line of
//!    record shape (`{"hash":"<64>","record":<body>}`) gets the true hash of its body, and its
//!    `"prev":"<64>"` (from line 2 on) is set to the hash of the line before. Other lines are
//!    kept as they are. Each repaired line goes through step 1 as well.
//! 3. The index section says what `index.sqlite` the registry gets (see [`IndexMode`]): none
//!    (section absent or empty), the section's bytes as they are (first byte even), or the index
//!    a first `Writer::open` made of the journal, after which the journal is changed under it
//!    (truncated, two lines swapped, or grown) and the index itself perhaps edited (rows changed
//!    with SQL, bytes flipped) — first byte odd.
//! 4. The journal, checkpoints and head are written to a registry folder without an index
//!    (`plain/media/`, the answers of reference), and, when the input gives an index, to a second
//!    one with it (`indexed/media/`), under `<tmp>/qujat-fuzz-journal-<pid>/` (on `/dev/shm`
//!    when there is one: writers sync). Both are read with `Reader` (`by_number`, `by_case`,
//!    `by_pdf`, `statuses`, `events`, `vouch`, `caveats`), `checkpoint::load`/`tree_of`/
//!    `problems`, `check::check`, and `Writer::open` + `prefetch` and the writer's lookups.
//!
//! Invariants: no panic, hang or unbounded allocation anywhere; and
//! * `split_line` Ok ⇒ the hash it returns is the SHA-256 of the body it returns;
//! * `parse_line` Ok ⇒ `to_line` of the record gives the line back byte for byte, `parse_brief`
//!   of its body gives the same record with `data` null, `parse_for_readers` agrees,
//!   `brief::parse` reads the same fields, and `facts_of_line` = `facts_of_record`;
//! * lookups (the reader's and the writer's) return only records that match what was looked up;
//! * an index never changes an answer: whatever the indexed folder answers Ok is what the plain
//!   folder answers, where that is Ok (the reader's lookups, statuses, events, vouching, caveats;
//!   the check's counts and problems, but for the two the index is there to give: "checkpoints
//!   … when a writer last looked", "its index, made by an earlier writer, lists …"; the writer's
//!   length, tails, next link and prefetched lookups);
//! * for a journal of canonical records: `check` finds the plain folder sound (ignoring template
//!   versions, which the fuzz folder does not keep, and a missing head) ⇔ `Writer::open` opens
//!   it, and both count the same records; and `check` finds the indexed folder sound ⇒ a writer
//!   opens it too, counting the same.
//!
//! With `QUJAT_FUZZ_STRICT=1`, the check/writer invariant is asserted for every journal, a
//! document of a sound registry must be found by `by_number` without error, and an index must not
//! turn an answer into an error either (see README.md). `QUJAT_FUZZ_DEBUG=1` prints what each
//! step found.
//!
//! The journal is always written ending in a newline: `check` waits 200 ms before calling an
//! incomplete last line damage (a writer may be appending), which would make this target run
//! at 5 executions per second; `Writer::open` would also cut it off (and sync).
#![no_main]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use qujat::commands::check::{self, RegistryCheck};
use qujat::registry::reader::{Found, Reader};
use qujat::registry::{
    Entry, Key, Record, Wanted, Writer, brief, checkpoint, facts_of_line, facts_of_record,
    parse_brief, parse_for_readers, parse_line, sha256_hex, split_line, to_line,
};
use qujat::store::files::Files;

const SEPARATOR: &[u8] = b"\n\x1d";
const LINE_HEAD: &[u8] = b"{\"hash\":\"";
const LINE_MID: &[u8] = b"\",\"record\":";
const CODE: &str = "media";
/// The files of a registry folder this target writes or a writer leaves.
const INDEX: &str = "index.sqlite";

fuzz_target!(|data: &[u8]| {
    let sections = split_sections(data);
    let journal = sections[0];
    let repaired = repair(journal);
    let mut canonical = true;
    // Repair keeps the lines (one for one); a line it left alone is read once.
    for (raw, line) in lines(journal).zip(lines(&repaired)) {
        if raw != line {
            check_line(raw);
        }
        canonical &= check_line(line);
    }
    // The checkpoints section ends in the newline the separator after it began with.
    let checkpoints = sections.get(2).map(|c| {
        let mut c = c.to_vec();
        if sections.len() > 3 {
            c.push(b'\n');
        }
        c
    });
    let head = sections.get(3).copied();
    let mode = IndexMode::of(sections.get(1).copied());
    check_folders(&repaired, canonical, mode, checkpoints.as_deref(), head);
});

/// The sections of the input (the separators taken out): journal, index, checkpoints, head, as
/// many as there are.
fn split_sections(data: &[u8]) -> Vec<&[u8]> {
    let mut sections = Vec::new();
    let mut rest = data;
    while sections.len() < 3 {
        match find(rest, SEPARATOR) {
            Some(at) => {
                sections.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    sections.push(rest);
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

/// Lines joined into a journal, each ending in a newline.
fn join(lines: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
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
    let facts = facts_of_line(line);
    let Some(body) = body_of(line) else {
        let _ = split_line(line);
        assert!(facts.is_err(), "facts_of_line reads a line of no record shape");
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
        Err(_) => {
            assert!(facts.is_err(), "facts_of_line reads a line whose hash is wrong");
            return false;
        }
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
    if let Some(doc) = record.document() {
        let _ = (doc.holder(), doc.title());
    }
    // What `registry check` and the index read of a canonical record is what the record says.
    assert_eq!(
        facts.expect("facts_of_line refuses a canonical record"),
        facts_of_record(&record, &hash),
        "facts_of_line and facts_of_record differ on a canonical record"
    );
    let brief = short.expect("brief::parse refuses a canonical record");
    assert_eq!(brief.seq, record.seq);
    assert_eq!(brief.prev, record.prev);
    match &record.entry {
        Entry::Document(doc) => {
            assert!(brief.is_document());
            assert_eq!(brief.number(), doc.number);
            assert_eq!(brief.pdf_sha256(), doc.pdf.sha256);
            assert_eq!(brief.service.as_deref(), Some(doc.service.as_str()));
            assert_eq!(brief.case_id.as_deref(), Some(doc.case_id.as_str()));
            assert_eq!(brief.document.as_deref(), Some(doc.document.as_str()));
            assert_eq!(brief.once.as_deref(), doc.once.as_deref());
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

/// What `index.sqlite` the indexed folder gets, from the index section: absent or empty, none
/// (and only the plain folder is read); first byte even, the rest of the section's bytes as
/// they are; first byte odd, the index a writer makes (see [`Plan`]).
#[derive(Debug)]
enum IndexMode<'a> {
    Absent,
    Bytes(&'a [u8]),
    Writer(Plan<'a>),
}

/// How the index a writer made is then made stale or damaged. The first byte `f` of the index
/// section: `f & 2` the writer also writes its head and checkpoint (as a batch ends); bits 2–3
/// what is done to the journal after the writer indexed it ([`Change`]); `f & 16` the journal is
/// repaired again after that (hashes and links redone, so a swap is not seen by its links). The
/// next two bytes choose lines for the change; the rest are edits of the index: 4 bytes each,
/// `[op, a, b, c]`, `op` odd a change of one row with SQL (table `op >> 1`, row `a`, column
/// `b`, how `c`), even a byte of the file XORed (at `a + 256 b`, with `c`).
#[derive(Debug)]
struct Plan<'a> {
    head: bool,
    change: Change,
    repair: bool,
    edits: &'a [u8],
}

impl Plan<'_> {
    /// Whether the index is edited where a writer trusts it unconfirmed: its lookups, counters,
    /// Merkle nodes, meta data, record hashes, or any byte of the file.
    fn lies(&self) -> bool {
        self.edits
            .chunks_exact(4)
            .any(|e| e[0] & 1 == 0 || (e[0] >> 1) as usize % TABLES.len() != 0 || e[2] % 4 == 3)
    }
}

#[derive(Debug, Clone, Copy)]
enum Change {
    /// The journal as the writer saw it.
    Keep,
    /// The writer saw only its first lines (byte 1 mod lines + 1): the index lags.
    Grow(u8),
    /// Cut back to its first lines (byte 1 mod lines), as a restored copy or a rollback is.
    Truncate(u8),
    /// Two of its lines swapped (bytes 1 and 2 mod lines).
    Swap(u8, u8),
}

impl<'a> IndexMode<'a> {
    fn of(section: Option<&'a [u8]>) -> IndexMode<'a> {
        let Some((&flag, rest)) = section.and_then(|s| s.split_first()) else {
            return IndexMode::Absent;
        };
        if flag & 1 == 0 {
            return IndexMode::Bytes(rest);
        }
        let a = rest.first().copied().unwrap_or(0);
        let b = rest.get(1).copied().unwrap_or(0);
        IndexMode::Writer(Plan {
            head: flag & 2 != 0,
            change: match (flag >> 2) & 3 {
                0 => Change::Keep,
                1 => Change::Grow(a),
                2 => Change::Truncate(a),
                _ => Change::Swap(a, b),
            },
            repair: flag & 16 != 0,
            edits: rest.get(2..).unwrap_or_default(),
        })
    }
}

fn debug() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("QUJAT_FUZZ_DEBUG").is_some())
}

fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("QUJAT_FUZZ_STRICT").is_some())
}

/// The folder of this process's two registry folders (`plain/`, `indexed/`), created once; on
/// `/dev/shm` when there is one, since a writer syncs what it writes.
fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let tmp = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        tmp.join(format!("qujat-fuzz-journal-{}", std::process::id()))
    })
}

/// Empties the registry folder `<root>/media` (whatever a writer left in it: index, lock,
/// quarantine) and writes the journal, checkpoints and head given.
fn fresh(root: &Path, journal: &[u8], checkpoints: Option<&[u8]>, head: Option<&[u8]>) {
    let dir = root.join(CODE);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => panic!("cannot empty {}: {err}", dir.display()),
    }
    std::fs::create_dir_all(&dir).expect("cannot create the fuzz registry folder");
    write(&dir.join("journal.jsonl"), journal);
    if let Some(checkpoints) = checkpoints {
        write(&dir.join("checkpoints.jsonl"), checkpoints);
    }
    if let Some(head) = head {
        write(&dir.join("head.json"), head);
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
}

fn read_if_any(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// Makes the indexed folder's index as `plan` says: a writer opens the journal (or its first
/// lines) in `root`, which it indexes; the journal is then changed under it and the index
/// edited. Returns the journal as changed, and the head and checkpoints the writer left.
fn writer_made(
    root: &Path,
    repaired: &[u8],
    plan: &Plan<'_>,
) -> (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>) {
    let all: Vec<&[u8]> = lines(repaired).collect();
    let n = all.len();
    let seen = match plan.change {
        Change::Grow(a) => join(&all[..a as usize % (n + 1)]),
        _ => repaired.to_vec(),
    };
    fresh(root, &seen, None, None);
    match Writer::open(&Files::new(root), CODE, Duration::ZERO) {
        Ok(mut writer) => {
            if plan.head {
                let _ = writer.write_head();
            }
        }
        Err(err) if debug() => eprintln!("index writer: {err:#}"),
        Err(_) => {}
    }
    let changed = match plan.change {
        Change::Keep | Change::Grow(_) => repaired.to_vec(),
        Change::Truncate(a) if n > 0 => join(&all[..a as usize % n]),
        Change::Truncate(_) => Vec::new(),
        Change::Swap(a, b) if n > 0 => {
            let mut swapped = all.clone();
            swapped.swap(a as usize % n, b as usize % n);
            join(&swapped)
        }
        Change::Swap(..) => Vec::new(),
    };
    let changed = if plan.repair {
        repair(&changed)
    } else {
        changed
    };
    let dir = root.join(CODE);
    edit_index(&dir.join(INDEX), plan.edits);
    (
        changed,
        read_if_any(&dir.join("head.json")),
        read_if_any(&dir.join("checkpoints.jsonl")),
    )
}

/// The index's tables, their columns, and the columns that identify a row.
const TABLES: [(&str, &[&str], &[&str]); 5] = [
    ("records", &["seq", "offset", "len", "hash"], &["seq"]),
    ("lookups", &["k", "seq"], &["k", "seq"]),
    ("counters", &["counter", "tail"], &["counter"]),
    ("nodes", &["level", "idx", "hash"], &["level", "idx"]),
    ("meta", &["name", "value"], &["name"]),
];

/// Edits the index at `path` (see [`Plan`]): rows with SQL first, then bytes of the file.
fn edit_index(path: &Path, edits: &[u8]) {
    let edits: Vec<[u8; 4]> = edits
        .chunks_exact(4)
        .map(|e| e.try_into().expect("4 bytes"))
        .collect();
    if edits.is_empty() || !path.is_file() {
        return;
    }
    if edits.iter().any(|e| e[0] & 1 == 1) {
        // Closing the connection moves what it wrote from the WAL into the file.
        if let Ok(conn) = rusqlite::Connection::open(path) {
            for edit in edits.iter().filter(|e| e[0] & 1 == 1) {
                let result = edit_row(&conn, *edit);
                if debug() {
                    eprintln!("index edit {edit:?}: {result:?}");
                }
            }
        }
    }
    if edits.iter().any(|e| e[0] & 1 == 0) {
        let mut bytes = std::fs::read(path).expect("the index was just written");
        if bytes.is_empty() {
            return;
        }
        for edit in edits.iter().filter(|e| e[0] & 1 == 0) {
            let at = u16::from_le_bytes([edit[1], edit[2]]) as usize % bytes.len();
            bytes[at] ^= if edit[3] == 0 { 0xff } else { edit[3] };
        }
        write(path, &bytes);
    }
}

/// Changes, deletes or copies one row of the index: table `op >> 1`, its row `row` in order,
/// column `column`; `how` says what becomes of the value (`0`: the row is deleted; `11`: a copy
/// of the row with the value changed is added).
fn edit_row(conn: &rusqlite::Connection, [op, row, column, how]: [u8; 4]) -> rusqlite::Result<()> {
    use rusqlite::types::Value;
    let (table, columns, key) = TABLES[(op >> 1) as usize % TABLES.len()];
    let count: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
    if count == 0 {
        return Ok(());
    }
    let values: Vec<Value> = conn.query_row(
        &format!(
            "SELECT {} FROM {table} ORDER BY {} LIMIT 1 OFFSET ?1",
            columns.join(", "),
            key.join(", ")
        ),
        [row as i64 % count],
        |r| (0..columns.len()).map(|i| r.get::<_, Value>(i)).collect(),
    )?;
    let which: Vec<Value> = key
        .iter()
        .map(|k| values[columns.iter().position(|c| c == k).expect("a key column")].clone())
        .collect();
    let condition = key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} = ?{}", i + 2))
        .collect::<Vec<_>>()
        .join(" AND ");
    let at = column as usize % columns.len();
    let changed = match values[at].clone() {
        Value::Integer(v) => Value::Integer(match how % 12 {
            1 => v.wrapping_add(1),
            2 => v.wrapping_sub(1),
            3 => 0,
            4 => -1,
            5 => i64::MAX,
            6 => i64::MIN,
            7 => 1 << 40,
            8 => v.wrapping_mul(2),
            9 => v.wrapping_add(256),
            _ => v ^ (1 << (how >> 2)),
        }),
        Value::Blob(mut blob) => {
            match how % 3 {
                0 => {
                    blob.pop();
                }
                _ if blob.is_empty() => blob.push(how),
                _ => {
                    let i = how as usize % blob.len();
                    blob[i] ^= 1 << (how >> 5);
                }
            }
            Value::Blob(blob)
        }
        Value::Text(mut text) => {
            if how % 2 == 0 {
                text.pop();
            } else {
                text.push('x');
            }
            Value::Text(text)
        }
        Value::Null | Value::Real(_) => Value::Integer(how as i64),
    };
    match how % 12 {
        0 => {
            let mut params = vec![Value::Null];
            params.extend(which);
            conn.execute(
                &format!("DELETE FROM {table} WHERE ?1 IS NULL AND {condition}"),
                rusqlite::params_from_iter(params),
            )?;
        }
        11 => {
            let mut row = values.clone();
            row[at] = changed;
            let slots: Vec<String> = (1..=row.len()).map(|i| format!("?{i}")).collect();
            conn.execute(
                &format!(
                    "INSERT OR REPLACE INTO {table} ({}) VALUES ({})",
                    columns.join(", "),
                    slots.join(", ")
                ),
                rusqlite::params_from_iter(row),
            )?;
        }
        _ => {
            let mut params = vec![changed];
            params.extend(which);
            conn.execute(
                &format!(
                    "UPDATE OR REPLACE {table} SET {} = ?1 WHERE {condition}",
                    columns[at]
                ),
                rusqlite::params_from_iter(params),
            )?;
        }
    }
    Ok(())
}

/// What is looked up: the numbers, cases, PDFs, keys and once-only values of the first
/// documents, the targets of the first status events, and a number no record has.
#[derive(Debug, Default)]
struct Needles {
    numbers: Vec<String>,
    cases: Vec<String>,
    pdfs: Vec<String>,
    keys: Vec<Key>,
    onces: Vec<(String, String, String)>,
    targets: Vec<u64>,
}

fn needles(journal: &[u8]) -> Needles {
    let mut needles = Needles::default();
    let mut documents = 0;
    // Two documents and one status event at most: every lookup of the plain folder reads the
    // whole journal, and the target must stay fast.
    for line in lines(journal) {
        let Some(record) = body_of(line).and_then(|b| parse_brief(b).ok()) else {
            continue;
        };
        match &record.entry {
            Entry::Document(doc) if documents < 2 => {
                documents += 1;
                needles.numbers.push(doc.number.clone());
                needles.cases.push(doc.case_id.clone());
                needles.pdfs.push(doc.pdf.sha256.clone());
                needles.keys.push(Key {
                    service: doc.service.clone(),
                    case_id: doc.case_id.clone(),
                    document: doc.document.clone(),
                });
                if let Some(once) = &doc.once {
                    needles
                        .onces
                        .push((doc.service.clone(), doc.document.clone(), once.clone()));
                }
            }
            Entry::Status(event) if needles.targets.is_empty() => {
                needles.targets.push(event.target);
                needles.numbers.push(event.number.clone());
            }
            _ => {}
        }
        if documents == 2 && !needles.targets.is_empty() {
            break;
        }
    }
    needles.numbers.push("00001-Г".into());
    needles.numbers.dedup();
    needles
}

/// One answer, comparable between the two folders: what was asked, and what was found (the
/// records' positions and hashes), or the answer's text, or the error.
type Answer = (String, Result<Said, String>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Said {
    Found(Vec<(u64, String)>),
    Text(String),
}

/// `text` with the folder `root` named `<root>`: the two folders' answers compared.
fn unrooted(text: &str, root: &Path) -> String {
    text.replace(&root.display().to_string(), "<root>")
}

/// Asks the registry in `root` everything a reader can be asked about `needles`, checking that
/// what is found is what was looked for.
fn ask_reader(root: &Path, needles: &Needles) -> Vec<Answer> {
    ask_reader_rooted(root, needles)
        .into_iter()
        .map(|(asked, answer)| {
            let answer = match answer {
                Ok(Said::Text(text)) => Ok(Said::Text(unrooted(&text, root))),
                Ok(found) => Ok(found),
                Err(text) => Err(unrooted(&text, root)),
            };
            (asked, answer)
        })
        .collect()
}

fn ask_reader_rooted(root: &Path, needles: &Needles) -> Vec<Answer> {
    let store = Files::new(root);
    let reader = match Reader::open(&store, CODE) {
        Ok(reader) => reader,
        Err(err) => return vec![("open".into(), Err(format!("{err:#}")))],
    };
    let mut answers = Vec::new();
    let mut found_all: Vec<Found> = Vec::new();
    let mut answer = |asked: String, found: anyhow::Result<Vec<Found>>, is: &dyn Fn(&Found) -> bool| {
        let found = found.map_err(|e| format!("{e:#}"));
        if let Ok(found) = &found {
            for f in found {
                assert!(is(f), "{asked} found what was not asked for: {f:?}");
                assert_eq!(f.seq, f.record.seq, "{asked} found a record out of place");
                found_all.push(f.clone());
            }
        }
        let shown = found.map(|found| {
            Said::Found(found.iter().map(|f| (f.seq, f.hash.clone())).collect())
        });
        answers.push((asked, shown));
    };
    for number in &needles.numbers {
        answer(
            format!("by_number({number:?})"),
            reader.by_number(number),
            &|f| f.document().number == *number,
        );
    }
    for case_id in &needles.cases {
        answer(
            format!("by_case({case_id:?})"),
            reader.by_case(case_id),
            &|f| f.document().case_id == *case_id,
        );
    }
    for sha in &needles.pdfs {
        answer(
            format!("by_pdf({sha:?})"),
            reader.by_pdf(sha),
            &|f| f.document().pdf.sha256 == *sha,
        );
    }
    let mut targets: Vec<u64> = needles.targets.clone();
    targets.extend(found_all.iter().map(|f| f.seq));
    targets.sort_unstable();
    targets.dedup();
    for target in targets {
        let events = reader.events(target).map_err(|e| format!("{e:#}"));
        if let Ok(events) = &events {
            assert!(
                events.iter().all(|e| e.target == target),
                "events({target}) found another document's: {events:?}"
            );
        }
        answers.push((
            format!("events({target})"),
            events.map(|e| Said::Text(format!("{e:?}"))),
        ));
    }
    let statuses = reader.statuses().map(|s| {
        let sorted: BTreeMap<_, _> = s.into_iter().collect();
        for (target, event) in &sorted {
            assert_eq!(*target, event.target, "statuses files an event elsewhere");
        }
        Said::Text(format!("{sorted:?}"))
    });
    answers.push(("statuses".into(), statuses.map_err(|e| format!("{e:#}"))));
    found_all.sort_by_key(|f| f.seq);
    found_all.dedup_by_key(|f| f.seq);
    for found in &found_all {
        answers.push((
            format!("vouch({})", found.seq),
            reader
                .vouch(found, None)
                .map(|v| Said::Text(format!("{v:?}")))
                .map_err(|e| format!("{e:#}")),
        ));
        answers.push((
            format!("document({})", found.seq),
            reader
                .document(found)
                .map(|d| Said::Text(format!("{:?} {:?}", d.status, d.event)))
                .map_err(|e| format!("{e:#}")),
        ));
    }
    // The tripwire only an index keeps (how many checkpoints a writer saw) is the index's to
    // give.
    let caveats = reader.caveats().map(|c| {
        Said::Text(format!(
            "{:?}",
            c.into_iter()
                .filter(|c| !c.contains("when a writer last looked"))
                .collect::<Vec<_>>()
        ))
    });
    answers.push(("caveats".into(), caveats.map_err(|e| format!("{e:#}"))));
    if let Ok(checkpoints) = checkpoint::load(reader.log())
        && let Ok(tree) = checkpoint::tree_of(reader.log())
    {
        let problems = checkpoint::problems(&checkpoints, &tree);
        answers.push((
            "checkpoint problems".into(),
            Ok(Said::Text(format!("{problems:?}"))),
        ));
    }
    answers
}

/// Whether a problem of `check` is one only an index can give: the tripwires it keeps.
fn from_index(problem: &str) -> bool {
    problem.contains("when a writer last looked") || problem.contains("its index, made by an")
}

/// Whether `check` finds the registry sound as far as a writer can tell: the fuzz folder keeps
/// no template versions, and a writer does not need a head.
fn sound(checked: &RegistryCheck) -> bool {
    checked
        .problems
        .iter()
        .all(|p| p.contains("is not kept") || p.contains("but no head"))
}

fn run_check(root: &Path) -> anyhow::Result<RegistryCheck> {
    let store = Files::new(root);
    let reader = Reader::open(&store, CODE)?;
    let mut checked = check::check(&store, &reader, &check::Options::default())?;
    for text in checked.problems.iter_mut().chain(&mut checked.notes) {
        *text = unrooted(text, root);
    }
    if debug() {
        eprintln!("check {}: {checked}", root.display());
    }
    Ok(checked)
}

/// What a writer that opened the registry in `root` says, after prefetching `needles`: its
/// length, next link, tails and what it looked up.
/// What a writer saw: how many records it opened with (or why it did not open), and what it
/// said after prefetching.
struct WriterSaw {
    opened: Result<u64, String>,
    said: Result<String, String>,
}

fn ask_writer(root: &Path, needles: &Needles) -> WriterSaw {
    let error = |err: anyhow::Error| unrooted(&format!("{err:#}"), root);
    match Writer::open(&Files::new(root), CODE, Duration::ZERO) {
        Ok(mut writer) => WriterSaw {
            opened: Ok(writer.len()),
            said: ask_opened(&mut writer, needles).map_err(error),
        },
        Err(err) => {
            let err = error(err);
            WriterSaw {
                opened: Err(err.clone()),
                said: Err(err),
            }
        }
    }
}

fn ask_opened(writer: &mut Writer, needles: &Needles) -> anyhow::Result<String> {
    let wanted = Wanted {
        keys: needles.keys.clone(),
        onces: needles.onces.clone(),
        numbers: needles.numbers.clone(),
    };
    writer.prefetch(&wanted)?;
    let mut said = format!(
        "{} records, next {:?}, tails {:?}",
        writer.len(),
        writer.next_link(),
        writer.sequence_tails()
    );
    // The documents the writer looked up, whose status it knows (it knows no other's but
    // those of the records it verified).
    let mut seqs = Vec::new();
    for number in &needles.numbers {
        let found = writer.find_number(number);
        for (_, registered) in &found {
            assert_eq!(&registered.number, number, "find_number found another number");
            assert!(registered.seq >= 1 && registered.seq <= writer.len());
            seqs.push(registered.seq);
        }
        said += &format!("; number {number:?}: {found:?}");
    }
    for key in &needles.keys {
        let found = writer.registered(key);
        if let Some(registered) = &found {
            assert_eq!(registered.case_id, key.case_id, "registered found another case");
            seqs.push(registered.seq);
        }
        said += &format!("; key {key:?}: {found:?}");
    }
    for once in &needles.onces {
        let found = writer.registered_once(once);
        seqs.extend(found.as_ref().map(|r| r.seq));
        said += &format!("; once {once:?}: {found:?}");
    }
    seqs.sort_unstable();
    seqs.dedup();
    for seq in seqs {
        said += &format!("; status {seq}: {:?}", writer.status_of(seq));
    }
    Ok(said)
}

fn check_folders(
    repaired: &[u8],
    canonical: bool,
    mode: IndexMode<'_>,
    checkpoints: Option<&[u8]>,
    head: Option<&[u8]>,
) {
    let plain = base().join("plain");
    let indexed = base().join("indexed");
    let mut checkpoints = checkpoints.map(<[u8]>::to_vec);
    let mut head = head.map(<[u8]>::to_vec);
    // The index the indexed folder gets (`None`: no indexed folder; `Some(None)`: no file).
    let (journal, index) = match &mode {
        IndexMode::Absent => (repaired.to_vec(), None),
        IndexMode::Bytes(bytes) => (repaired.to_vec(), Some(Some(bytes.to_vec()))),
        IndexMode::Writer(plan) => {
            let (changed, left_head, left_checkpoints) = writer_made(&indexed, repaired, plan);
            // The sections, when given, replace what the writer left.
            checkpoints = checkpoints.or(left_checkpoints);
            head = head.or(left_head);
            (changed, Some(read_if_any(&indexed.join(CODE).join(INDEX))))
        }
    };
    fresh(&plain, &journal, checkpoints.as_deref(), head.as_deref());
    if let Some(index) = &index {
        fresh(&indexed, &journal, checkpoints.as_deref(), head.as_deref());
        if let Some(bytes) = index {
            write(&indexed.join(CODE).join(INDEX), bytes);
        }
    }
    let with_index = index.is_some();
    // An index edited in what a writer takes from it unconfirmed (see README.md): only what is
    // confirmed is compared.
    let lies = match &mode {
        IndexMode::Writer(plan) => plan.lies(),
        _ => false,
    };
    let needles = needles(&journal);
    if debug() {
        eprintln!("mode {mode:?}; needles {needles:?}");
    }

    let plain_answers = ask_reader(&plain, &needles);
    if with_index {
        let indexed_answers = ask_reader(&indexed, &needles);
        assert_eq!(plain_answers.len(), indexed_answers.len());
        for ((asked, without), (_, with)) in plain_answers.iter().zip(&indexed_answers) {
            if debug() {
                eprintln!("{asked}: {without:?} / with the index: {with:?}");
            }
            match (without, with) {
                (Ok(without), Ok(with)) if strict() || !lies => assert_eq!(
                    without, with,
                    "{asked}: the index changed the answer ({mode:?})"
                ),
                // What a lying index finds is still only what is there.
                (Ok(Said::Found(without)), Ok(Said::Found(with))) => {
                    for found in with {
                        assert!(
                            without.contains(found),
                            "{asked}: the index found {found:?} besides {without:?} ({mode:?})"
                        );
                    }
                }
                (Ok(without), Err(err)) if strict() || !lies => {
                    panic!("{asked}: {without:?} without the index, an error with it: {err}")
                }
                _ => {}
            }
        }
    }

    let plain_check = run_check(&plain);
    let indexed_check = with_index.then(|| run_check(&indexed));
    if let (Ok(without), Some(Ok(with))) = (&plain_check, &indexed_check) {
        let problems: Vec<&String> = with.problems.iter().filter(|p| !from_index(p)).collect();
        assert_eq!(
            (without.records, without.documents, without.events),
            (with.records, with.documents, with.events),
            "check counts differently with the index"
        );
        assert_eq!(&without.statuses, &with.statuses);
        assert_eq!(
            without.problems.iter().collect::<Vec<_>>(),
            problems,
            "check finds other problems with the index"
        );
    }

    let plain_writer = ask_writer(&plain, &needles);
    if debug() {
        eprintln!("writer: {:?} {:?}", plain_writer.opened, plain_writer.said);
    }
    // `check` returns an error (rather than a problem) only for what it cannot read: a head it
    // cannot parse, for instance; a writer refuses that too.
    if let Ok(checked) = &plain_check
        && (canonical || strict())
    {
        match (&plain_writer.opened, sound(checked)) {
            (Ok(records), true) => {
                assert_eq!(*records, checked.records, "check and Writer::open count differently")
            }
            (Err(err), true) => {
                panic!("check finds the registry sound, but Writer::open refuses it: {err}")
            }
            (Ok(_), false) => panic!("Writer::open opens a registry check finds damaged: {checked}"),
            (Err(_), false) => {}
        }
        if strict() && sound(checked) {
            let store = Files::new(&plain);
            let reader = Reader::open(&store, CODE).expect("just read");
            for number in &needles.numbers[..needles.numbers.len() - 1] {
                if let Err(err) = reader.by_number(number) {
                    panic!("check finds the registry sound, but by_number({number:?}) fails: {err:#}");
                }
            }
        }
    }
    if !with_index {
        return;
    }
    let indexed_writer = ask_writer(&indexed, &needles);
    if debug() {
        eprintln!(
            "writer with the index: {:?} {:?}",
            indexed_writer.opened, indexed_writer.said
        );
    }
    if let Some(Ok(checked)) = &indexed_check
        && (canonical || strict())
        && sound(checked)
    {
        match &indexed_writer.opened {
            Ok(records) => assert_eq!(
                *records, checked.records,
                "check and Writer::open count differently with the index"
            ),
            Err(err) => {
                panic!("check finds the indexed registry sound, but a writer refuses it: {err}")
            }
        }
    }
    match (&plain_writer.opened, &indexed_writer.opened) {
        (Ok(without), Ok(with)) => assert_eq!(
            without, with,
            "a writer counts differently with the index ({mode:?})"
        ),
        // The index let a writer go on from what an earlier writer verified: the damage must be
        // inside that part, where `check` finds it.
        (Err(_), Ok(_)) => {
            if let Ok(checked) = &plain_check {
                assert!(
                    !sound(checked),
                    "a writer opens the registry only with its index, and check finds it sound"
                );
            }
        }
        (Ok(_), Err(err)) if strict() || !lies => {
            panic!("a writer opens the registry without its index, not with it: {err}")
        }
        _ => {}
    }
    match (&plain_writer.said, &indexed_writer.said) {
        (Ok(without), Ok(with)) if strict() || !lies => assert_eq!(
            without, with,
            "a writer sees the registry differently with the index ({mode:?})"
        ),
        (Ok(_), Err(err)) if strict() => {
            panic!("a writer prefetches without the index, not with it: {err}")
        }
        _ => {}
    }
}
