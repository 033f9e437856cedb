//! A located problem with an input: which file, where in it, which case and which field.
//!
//! Every rejection the batch reports is one of these, so a clerk can go straight to the line.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A place in an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pos {
    /// A line of an XML file (1-based).
    Line(u64),
    /// A record of a CSV file, by the line it starts on (1-based, the header is line 1).
    Row(u64),
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pos::Line(n) => write!(f, "line {n}"),
            Pos::Row(n) => write!(f, "row at line {n}"),
        }
    }
}

/// A file and, where known, the place in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// The file as shown ([`shown_path`]), shared by every origin in the file: a batch holds
    /// one per case.
    #[serde(serialize_with = "serialize_path")]
    pub file: Arc<Path>,
    pub pos: Option<Pos>,
}

/// A path as reports and messages show it: as it is when it is UTF-8; otherwise each byte that
/// is not part of a UTF-8 character written `\xCF` (a Windows share mounted without a UTF-8
/// character set gives Cyrillic names in Windows-1251), so two such names stay two names and an
/// operator can find the file by its bytes. Control characters, which a name may hold too, are
/// written as escapes ([`printable`]), so no name can send a terminal an escape sequence.
pub fn shown_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let mut shown = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        shown.push_str(&printable(chunk.valid()));
        for byte in chunk.invalid() {
            shown.push_str(&format!("\\x{byte:02X}"));
        }
    }
    shown
}

/// `text` with its control characters written as escapes (`\x1B`, `\u{85}`): what a summary
/// prints to a terminal never moves its cursor or changes its colours.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if c.is_ascii_control() => shown.push_str(&format!("\\x{:02X}", c as u32)),
            c if c.is_control() => shown.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => shown.push(c),
        }
    }
    shown.into()
}

/// What a path that is not UTF-8 would read as in Windows-1251, for the message that names it
/// (a hint to the operator, never used to read anything): `None` when the path is UTF-8 or a
/// byte is not a Cyrillic letter in that code page.
pub fn windows_1251_reading(path: &Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    if std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    bytes
        .iter()
        .map(|&b| match b {
            0x00..=0x7F => Some(b as char),
            // А..я are 0xC0..=0xFF in Windows-1251, in alphabetical order; Ё and ё stand apart.
            0xC0..=0xFF => char::from_u32(0x0410 + u32::from(b - 0xC0)),
            0xA8 => Some('Ё'),
            0xB8 => Some('ё'),
            _ => None,
        })
        .collect()
}

/// Writes a path as text even when it is not UTF-8 (serde's own refuses, and with it the whole
/// report): origins are made from [`shown_path`], so this only guards against one that is not.
fn serialize_path<S: serde::Serializer>(
    path: &Arc<Path>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&shown_path(path))
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", shown_path(&self.file))?;
        if let Some(pos) = self.pos {
            write!(f, ", {pos}")?;
        }
        Ok(())
    }
}

/// One thing wrong with an input, located as precisely as it can be.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    pub origin: Origin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(origin: Origin, message: impl Into<String>) -> Problem {
        Problem {
            origin,
            case_id: None,
            field: None,
            message: message.into(),
        }
    }

    pub fn case(mut self, id: Option<&str>) -> Problem {
        self.case_id = id.map(str::to_string);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Problem {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(id) = &self.case_id {
            write!(f, ": case {id:?}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field {}", printable(field))?;
        }
        // Messages quote values with their escapes; this is for anything quoted from a file.
        write!(f, ": {}", printable(&self.message))
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    #[test]
    fn a_name_that_is_not_utf8_is_shown_by_its_bytes() {
        // «Заявки.csv» in Windows-1251, in a folder with a UTF-8 name.
        let path =
            Path::new("cases/Қазан").join(OsStr::from_bytes(b"\xC7\xE0\xFF\xE2\xEA\xE8.csv"));
        assert_eq!(
            shown_path(&path),
            "cases/Қазан/\\xC7\\xE0\\xFF\\xE2\\xEA\\xE8.csv"
        );
        // Its UTF-8 folder name is no Windows-1251 text: the hint is for a name alone.
        assert_eq!(windows_1251_reading(&path), None);
        let name = Path::new(OsStr::from_bytes(b"\xC7\xE0\xFF\xE2\xEA\xE8 \xA8\xB8.csv"));
        assert_eq!(windows_1251_reading(name).as_deref(), Some("Заявки Ёё.csv"));
        assert_eq!(windows_1251_reading(Path::new("Заявки.csv")), None);
        assert_eq!(
            shown_path(Path::new("cases/Заявки.csv")),
            "cases/Заявки.csv"
        );
        // Shown, not refused: an origin in such a file serialises.
        let origin = Origin {
            file: Arc::from(path.as_path()),
            pos: Some(Pos::Row(3)),
        };
        let json = serde_json::to_string(&origin).unwrap();
        assert_eq!(
            json,
            r#"{"file":"cases/Қазан/\\xC7\\xE0\\xFF\\xE2\\xEA\\xE8.csv","pos":{"row":3}}"#
        );
    }
}
