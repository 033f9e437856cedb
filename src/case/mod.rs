//! Reading cases: walk a folder, read every XML and CSV file into raw cases.
//!
//! A raw case is a tree of named values, as the file gave them, each with its position. Both
//! formats map onto the same tree (see `docs/cases.md`), so validation has one input shape.
//! A file that cannot be read becomes a problem; the other files are read all the same.
//!
//! Cases are handed on one at a time as they are read ([`Sink`]), so a batch never holds a
//! folder's — or a large file's — raw cases at once.

mod csv;
mod xml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::problem::{Origin, Pos, Problem, shown_path};

/// A value in a raw case: a text, or named children (attributes and elements, CSV path parts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A text, with the language it is marked as being in (`lang="kk"`), if any.
    Text { text: String, lang: Option<String> },
    /// Named children in file order; a name may repeat.
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Text { text, .. } => Some(text),
            Value::Map(_) => None,
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            Value::Text { .. } => &[],
        }
    }

    /// The nodes at a dotted path (`applicant.name`), following every repetition.
    pub fn at_path<'a>(&'a self, path: &str) -> Vec<&'a Node> {
        let mut nodes = vec![self];
        for segment in path.split('.') {
            nodes = nodes
                .into_iter()
                .flat_map(|n| {
                    n.entries()
                        .iter()
                        .filter(|(k, _)| k == segment)
                        .map(|(_, c)| c)
                })
                .collect();
        }
        nodes
    }

    /// The text at a dotted path if there is exactly one, trimmed.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        match self.at_path(path).as_slice() {
            [one] => one.text().map(str::trim).filter(|t| !t.is_empty()),
            _ => None,
        }
    }
}

/// A case as read from a file, before any rule is applied.
#[derive(Debug, Clone)]
pub struct RawCase {
    pub file: Arc<Path>,
    pub tree: Node,
}

impl RawCase {
    pub fn origin(&self) -> Origin {
        Origin {
            file: self.file.clone(),
            pos: Some(self.tree.pos),
        }
    }

    /// The case id as given, for locating problems before the id itself is checked.
    pub fn id(&self) -> Option<&str> {
        self.tree.text_at("id")
    }
}

/// Turns byte offsets into 1-based line numbers. Offsets usually come in increasing order, so
/// the text is scanned once, not once per lookup.
pub(crate) struct LineCursor<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCursor<'a> {
    pub fn new(text: &'a str) -> LineCursor<'a> {
        LineCursor {
            bytes: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    pub fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.bytes.len());
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        self.line += self.bytes[self.offset..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.offset = offset;
        self.line
    }
}

/// What reading a folder of cases produced besides the cases and their problems.
#[derive(Debug, Default)]
pub struct Read {
    /// How many files were read (including those with problems).
    pub files: usize,
    /// Every file and link under the folder that was not read, with why.
    pub skipped: Vec<Skipped>,
    /// What the report should say about files that were read all the same (a name that is not
    /// UTF-8).
    pub warnings: Vec<String>,
}

/// A file, folder or link of the cases folder that was not read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    /// As shown in reports ([`shown_path`]).
    pub file: String,
    pub why: String,
}

/// Where the cases of a folder, and the problems found reading it, go as they are read.
pub trait Sink {
    /// A case of the file being read.
    fn case(&mut self, case: RawCase);
    /// The file being read is done, with the problems of its rows and cases (or of the file as
    /// a whole). `rejected`: it turned out to be unsound as a whole (XML that breaks off),
    /// which rejects the cases already handed over from it as well; the reason is among
    /// `problems`. Also called, with no cases, for a file or link that could not be read at all.
    fn file_done(&mut self, rejected: bool, problems: Vec<Problem>);
}

/// The formats qujat reads, by file extension.
fn format_of(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "xml" => Some("xml"),
        "csv" => Some("csv"),
        _ => None,
    }
}

/// Why a file is not read, if it is not: hidden, or not a case file by its name.
fn not_read(name: &std::ffi::OsStr, path: &Path) -> Option<&'static str> {
    if name.as_encoded_bytes().starts_with(b".") {
        Some("hidden (its name starts with \".\"): not read")
    } else if format_of(path).is_none() {
        Some("not a case file: only .xml and .csv files are read")
    } else {
        None
    }
}

/// Reads every `.xml` and `.csv` file under `dir`, recursively, in path order, handing its
/// cases and problems to `sink` as they are read.
///
/// Paths in problems and cases are relative to `dir`'s parent when possible, so reports read
/// `sample/media.xml` rather than a long absolute path, and are shown by [`shown_path`]: a name
/// that is not UTF-8 is read all the same and shown with its odd bytes escaped. Hidden files
/// and folders (a leading `.`) and files of other kinds are not read, and named in
/// [`Read::skipped`]. A symbolic link is followed when it leads to a file inside `dir` that is
/// not read under its own name (so no file is read twice); a link to a file or folder read
/// under its own name is skipped and named; a link that leads outside `dir`, nowhere, or round
/// in a loop is rejected by name.
pub fn read_dir(dir: &Path, sink: &mut dyn Sink) -> Read {
    let mut read = Read::default();
    let display_base = dir.parent().unwrap_or(dir);
    let shown =
        |path: &Path| -> String { shown_path(path.strip_prefix(display_base).unwrap_or(path)) };
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    // The files read, by where they really are, with the name they were read under.
    let mut files_read: HashMap<PathBuf, String> = HashMap::new();
    let mut links: Vec<PathBuf> = Vec::new();
    let mut hidden: Vec<PathBuf> = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let keep = e.depth() == 0 || !e.file_name().as_encoded_bytes().starts_with(b".");
            if !keep {
                hidden.push(e.path().to_path_buf());
            }
            keep
        });
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err.path().unwrap_or(dir);
                // Not walkdir's own message: it names the path as it is, control characters
                // and all.
                let why = match err.io_error() {
                    Some(io) => io.to_string(),
                    None => "a loop of symbolic links".to_string(),
                };
                let problem =
                    Problem::new(shown_origin(&shown(path)), format!("cannot read: {why}"));
                sink.file_done(false, vec![problem]);
                continue;
            }
        };
        let kind = entry.file_type();
        if kind.is_symlink() {
            links.push(entry.path().to_path_buf());
            continue;
        }
        if kind.is_dir() {
            continue;
        }
        let name = shown(entry.path());
        if !kind.is_file() {
            read.skipped.push(Skipped {
                file: name,
                why: "not a regular file (a device, pipe or socket): not read".to_string(),
            });
            continue;
        }
        if let Some(why) = not_read(entry.file_name(), entry.path()) {
            read.skipped.push(Skipped {
                file: name,
                why: why.to_string(),
            });
            continue;
        }
        let real =
            std::fs::canonicalize(entry.path()).unwrap_or_else(|_| entry.path().to_path_buf());
        files_read.insert(real, name.clone());
        read_one(entry.path(), entry.path(), &name, &mut read, sink);
    }
    for path in hidden {
        read.skipped.push(Skipped {
            file: shown(&path),
            why: "hidden (its name starts with \".\"): not read".to_string(),
        });
    }
    for link in links {
        follow(
            &link,
            &shown(&link),
            &root,
            &mut files_read,
            &mut read,
            sink,
        );
    }
    read
}

/// Follows a symbolic link of the cases folder `root`, by the rule of [`read_dir`].
fn follow(
    link: &Path,
    name: &str,
    root: &Path,
    files_read: &mut HashMap<PathBuf, String>,
    read: &mut Read,
    sink: &mut dyn Sink,
) {
    let reject = |sink: &mut dyn Sink, message: String| {
        sink.file_done(false, vec![Problem::new(shown_origin(name), message)]);
    };
    let target = match std::fs::canonicalize(link) {
        Ok(target) => target,
        Err(err) => {
            let to = std::fs::read_link(link)
                .map(|t| shown_path(&t))
                .unwrap_or_default();
            let message = format!(
                "a symbolic link to {to:?} that leads nowhere (a missing file, or a loop: {err}); \
                 not read"
            );
            return reject(sink, message);
        }
    };
    let Ok(inside) = target.strip_prefix(root) else {
        let message = format!(
            "a symbolic link to {}, outside the cases folder; not followed (copy the file into \
             the folder instead)",
            shown_path(&target)
        );
        return reject(sink, message);
    };
    let hidden_inside = inside
        .components()
        .any(|c| c.as_os_str().as_encoded_bytes().starts_with(b"."));
    let skip = |read: &mut Read, why: String| {
        read.skipped.push(Skipped {
            file: name.to_string(),
            why,
        })
    };
    if target.is_dir() {
        let why = if hidden_inside {
            "a symbolic link to a hidden folder of the cases folder: not followed".to_string()
        } else {
            format!(
                "a symbolic link to the folder {}, whose files are read under their own names",
                shown_path(inside)
            )
        };
        return skip(read, why);
    }
    if !target.is_file() {
        return skip(
            read,
            "a symbolic link to something that is not a file: not read".into(),
        );
    }
    if let Some(first) = files_read.get(&target) {
        let why = format!("a symbolic link to {first}, which is read under that name");
        return skip(read, why);
    }
    if format_of(link).is_none() {
        let why = "a symbolic link whose name is not a case file's (.xml, .csv): not read";
        return skip(read, why.to_string());
    }
    files_read.insert(target.clone(), name.to_string());
    read_one(&target, link, name, read, sink);
}

/// An origin in a file as shown, with no position.
fn shown_origin(name: &str) -> Origin {
    Origin {
        file: Arc::from(Path::new(name)),
        pos: None,
    }
}

/// Reads the case file at `path` into `sink`, under the name `name` (shown from `named`: the
/// file's own path, or the link's that led to it).
fn read_one(path: &Path, named: &Path, name: &str, read: &mut Read, sink: &mut dyn Sink) {
    read.files += 1;
    if named.to_str().is_none() {
        let base = named.file_name().map(Path::new).unwrap_or(named);
        let reading = crate::problem::windows_1251_reading(base)
            .map(|text| format!(" (in Windows-1251 it would read {text:?})"))
            .unwrap_or_default();
        read.warnings.push(format!(
            "{name}: the file name is not UTF-8{reading}; the file was read, and is named here \
             with the bytes that are not UTF-8 written as \\xNN"
        ));
    }
    let file: Arc<Path> = Arc::from(Path::new(name));
    // By the name it is read under: a link's, when a link led to it.
    let format = format_of(named).unwrap_or("csv");
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            let problem = Problem::new(shown_origin(name), format!("cannot read: {err}"));
            sink.file_done(false, vec![problem]);
            return;
        }
    };
    match read_file(&file, format, &bytes, &mut |case| sink.case(case)) {
        Ok(problems) => sink.file_done(false, problems),
        Err(problems) => sink.file_done(true, problems),
    }
}

/// Reads one file's bytes as the given format, handing each case to `on_case` as it is read.
/// `Ok` holds the problems of single rows and cases; `Err` means the file is rejected as a
/// whole, the cases handed over included, and says why.
pub fn read_file(
    file: &Arc<Path>,
    format: &str,
    bytes: &[u8],
    on_case: &mut dyn FnMut(RawCase),
) -> Result<Vec<Problem>, Vec<Problem>> {
    let origin = || Origin {
        file: file.clone(),
        pos: None,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(vec![Problem::new(origin(), "the file is empty")]);
    }
    if let Some(what) = utf16(bytes) {
        let message = format!(
            "the file is {what}, not UTF-8 (a spreadsheet's \"Unicode Text\"?); save it as \
             \"CSV UTF-8\" instead"
        );
        return Ok(vec![Problem::new(origin(), message)]);
    }
    if let Some(what) = binary(bytes) {
        let message = format!("the file is binary ({what}), not a case file");
        return Ok(vec![Problem::new(origin(), message)]);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => return Ok(vec![Problem::new(origin(), not_utf8(format, bytes, err))]),
    };
    // A stray NUL or other control character in a value is left to validation, which names its
    // case and field; a file with many of them was refused as binary above.
    match format {
        "xml" => xml::read(file, text, on_case).map_err(|problem| vec![problem]),
        _ => Ok(csv::read(file, text, on_case)),
    }
}

/// Reads one file's bytes as the given format: its cases (none if the file is rejected as a
/// whole) and its problems.
pub fn read_bytes(file: &Arc<Path>, format: &str, bytes: &[u8]) -> (Vec<RawCase>, Vec<Problem>) {
    let mut cases = Vec::new();
    match read_file(file, format, bytes, &mut |case| cases.push(case)) {
        Ok(problems) => (cases, problems),
        Err(problems) => (Vec::new(), problems),
    }
}

/// Names UTF-16, by its byte-order mark or by the NULs every other byte of ASCII text has.
fn utf16(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\xFF\xFE") {
        return Some("UTF-16 (little-endian)");
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Some("UTF-16 (big-endian)");
    }
    let head = &bytes[..bytes.len().min(64) & !1];
    let zeros = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let half = head.len() / 2;
    if half >= 8 && zeros(1) * 4 >= half * 3 && zeros(0) == 0 {
        return Some("UTF-16 (little-endian)");
    }
    if half >= 8 && zeros(0) * 4 >= half * 3 && zeros(1) == 0 {
        return Some("UTF-16 (big-endian)");
    }
    None
}

/// Names a binary file: a format known by its first bytes, or too many control bytes to be text.
fn binary(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a ZIP archive, such as an .xlsx workbook"),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "an .xls workbook"),
        (b"%PDF-", "a PDF"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"\x1F\x8B", "a gzip archive"),
    ];
    if let Some((_, what)) = MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Some(what);
    }
    // Text has line breaks and tabs, and hardly any other control bytes.
    let head = &bytes[..bytes.len().min(8192)];
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    (controls * 32 > head.len()).then_some("it holds control bytes no text has")
}

/// Explains a file that is not UTF-8, naming the likely encoding.
fn not_utf8(format: &str, bytes: &[u8], err: std::str::Utf8Error) -> String {
    let at = err.valid_up_to();
    let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
    // Cyrillic in Windows-1251 is 0xC0..=0xFF; in UTF-8 such bytes only start multi-byte sequences.
    let cyrillic_1251 = bytes.iter().filter(|&&b| b >= 0xC0).count();
    let hint = match (cyrillic_1251 > 0, format) {
        (true, "csv") => {
            " (it looks like Windows-1251, as spreadsheets in Russian or Kazakh locales save \
             \"CSV\"; save it as \"CSV UTF-8\" instead)"
        }
        (true, _) => " (it looks like Windows-1251; only UTF-8 is read: save it as UTF-8)",
        (false, _) => "",
    };
    format!("the file is not UTF-8: invalid byte at line {line}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_binary_files_are_rejected_by_name() {
        let file: Arc<Path> = Arc::from(Path::new("x.csv"));
        let (cases, problems) = read_bytes(&file, "csv", b"  \n ");
        assert!(cases.is_empty());
        assert_eq!(problems[0].message, "the file is empty");
        let (_, problems) = read_bytes(&file, "csv", b"id,service\n\0\x01\x02");
        assert!(problems[0].message.contains("binary"));
    }

    #[test]
    fn windows_1251_is_named() {
        let file: Arc<Path> = Arc::from(Path::new("x.csv"));
        // "id,Алаш" with the Cyrillic in Windows-1251.
        let (_, problems) = read_bytes(&file, "csv", b"id,service\nA1,\xC0\xEB\xE0\xF8\n");
        assert!(
            problems[0].message.contains("Windows-1251"),
            "{}",
            problems[0].message
        );
        assert!(
            problems[0].message.contains("line 2"),
            "{}",
            problems[0].message
        );
    }
}
