//! PDF objects (ISO 32000-1 §7.3) as far as signing needs them: read from a file's bytes and
//! written back. A rewritten dictionary keeps its keys in their order and its numbers as they
//! were written, so what signing rewrites differs from the original only where it must.

use std::fmt;
use std::ops::Range;

use anyhow::{Result, bail};

/// A reference to an indirect object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    pub num: u32,
    pub generation: u16,
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} R", self.num, self.generation)
    }
}

/// A string and where it was written (the bytes between and including its delimiters), so a
/// signature's `/Contents` can be found in the file.
#[derive(Debug, Clone)]
pub struct PdfString {
    pub bytes: Vec<u8>,
    pub hex: bool,
    pub span: Range<usize>,
}

/// Two strings are equal when their bytes are, however and wherever they were written.
impl PartialEq for PdfString {
    fn eq(&self, other: &PdfString) -> bool {
        self.bytes == other.bytes
    }
}

/// A PDF object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Null,
    Bool(bool),
    Int(i64),
    /// A real number, as written.
    Real(String),
    /// A name without its slash, `#xx` escapes decoded.
    Name(Vec<u8>),
    String(PdfString),
    Array(Vec<Object>),
    Dict(Dict),
    Ref(Ref),
}

impl Object {
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(d) => Some(d),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Object::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_ref(&self) -> Option<Ref> {
        match self {
            Object::Ref(r) => Some(*r),
            _ => None,
        }
    }

    pub fn name(name: &str) -> Object {
        Object::Name(name.as_bytes().to_vec())
    }

    /// A literal string (its span is meaningless until written).
    pub fn string(bytes: impl Into<Vec<u8>>) -> Object {
        Object::String(PdfString {
            bytes: bytes.into(),
            hex: false,
            span: 0..0,
        })
    }

    /// A text string: ASCII as itself, anything else as UTF-16BE with a byte order mark
    /// (ISO 32000-1 §7.9.2.2), which every reader shows correctly.
    pub fn text(text: &str) -> Object {
        if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Object::string(text.as_bytes());
        }
        let mut bytes = vec![0xfe, 0xff];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(PdfString {
            bytes,
            hex: true,
            span: 0..0,
        })
    }
}

/// A dictionary, its keys in the order written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dict(pub Vec<(Vec<u8>, Object)>);

impl Dict {
    pub fn get(&self, key: &str) -> Option<&Object> {
        self.0
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// Replaces the value of `key`, or adds it at the end.
    pub fn set(&mut self, key: &str, value: Object) {
        match self.0.iter_mut().find(|(k, _)| k == key.as_bytes()) {
            Some((_, v)) => *v = value,
            None => self.0.push((key.as_bytes().to_vec(), value)),
        }
    }

    pub fn name_is(&self, key: &str, name: &str) -> bool {
        self.get(key).and_then(Object::as_name) == Some(name.as_bytes())
    }
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_whitespace(b) && !is_delimiter(b)
}

/// Nesting deeper than this is refused: no real document comes near it, and a hostile one
/// must not exhaust the stack.
const MAX_DEPTH: usize = 64;

/// A cursor over a PDF's bytes.
pub struct Parser<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Parser<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Parser<'a> {
        Parser { data, pos }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Skips whitespace and comments.
    pub fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(b) = self.peek() {
                    if b == b'\n' || b == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn fail<T>(&self, what: &str) -> Result<T> {
        bail!("PDF syntax error at byte {}: {what}", self.pos)
    }

    /// A run of regular characters (a number or a keyword), not consumed.
    fn peek_token(&self) -> &'a [u8] {
        if self.pos >= self.data.len() {
            return &[];
        }
        let end = self.data[self.pos..]
            .iter()
            .position(|&b| !is_regular(b))
            .map_or(self.data.len(), |n| self.pos + n);
        &self.data[self.pos..end]
    }

    /// Consumes `keyword` (after whitespace) or fails.
    pub fn expect_keyword(&mut self, keyword: &str) -> Result<()> {
        self.skip_space();
        if self.peek_token() == keyword.as_bytes() {
            self.pos += keyword.len();
            Ok(())
        } else {
            self.fail(&format!("expected `{keyword}`"))
        }
    }

    /// Whether `keyword` comes next (after whitespace); consumes it if so.
    pub fn eat_keyword(&mut self, keyword: &str) -> bool {
        self.skip_space();
        if self.peek_token() == keyword.as_bytes() {
            self.pos += keyword.len();
            true
        } else {
            false
        }
    }

    /// A non-negative integer.
    pub fn unsigned(&mut self) -> Result<u64> {
        self.skip_space();
        let token = self.peek_token();
        if token.is_empty() || !token.iter().all(u8::is_ascii_digit) || token.len() > 19 {
            return self.fail("expected a non-negative integer");
        }
        self.pos += token.len();
        Ok(std::str::from_utf8(token)?.parse()?)
    }

    /// `num generation obj`: the header of an indirect object.
    pub fn object_header(&mut self) -> Result<Ref> {
        let num = self.unsigned()?;
        let generation = self.unsigned()?;
        self.expect_keyword("obj")?;
        match (u32::try_from(num), u16::try_from(generation)) {
            (Ok(num), Ok(generation)) => Ok(Ref { num, generation }),
            _ => self.fail("object number out of range"),
        }
    }

    pub fn object(&mut self) -> Result<Object> {
        self.object_at_depth(0)
    }

    fn object_at_depth(&mut self, depth: usize) -> Result<Object> {
        if depth > MAX_DEPTH {
            return self.fail("objects nested too deeply");
        }
        self.skip_space();
        let Some(b) = self.peek() else {
            return self.fail("unexpected end of file");
        };
        match b {
            b'/' => self.name().map(Object::Name),
            b'(' => self.literal_string(),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                let mut dict = Dict::default();
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some(b'>') if self.data.get(self.pos + 1) == Some(&b'>') => {
                            self.pos += 2;
                            return Ok(Object::Dict(dict));
                        }
                        Some(b'/') => {
                            let key = self.name()?;
                            let value = self.object_at_depth(depth + 1)?;
                            // A later duplicate would be ambiguous; the first one counts,
                            // as in most readers.
                            if dict.0.iter().all(|(k, _)| *k != key) {
                                dict.0.push((key, value));
                            }
                        }
                        _ => return self.fail("expected a name or `>>` in a dictionary"),
                    }
                }
            }
            b'<' => self.hex_string(),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        return Ok(Object::Array(items));
                    }
                    items.push(self.object_at_depth(depth + 1)?);
                }
            }
            _ => self.number_or_keyword(),
        }
    }

    fn name(&mut self) -> Result<Vec<u8>> {
        self.pos += 1; // the slash
        let mut name = Vec::new();
        while let Some(b) = self.peek() {
            if !is_regular(b) {
                break;
            }
            if b == b'#' {
                let hex = self.data.get(self.pos + 1..self.pos + 3);
                match hex.and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
                    Some(byte) => {
                        name.push(byte);
                        self.pos += 3;
                        continue;
                    }
                    None => return self.fail("bad #xx escape in a name"),
                }
            }
            name.push(b);
            self.pos += 1;
        }
        Ok(name)
    }

    fn literal_string(&mut self) -> Result<Object> {
        let start = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        let mut depth = 1usize;
        loop {
            let Some(b) = self.peek() else {
                return self.fail("unterminated string");
            };
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    bytes.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    bytes.push(b);
                }
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return self.fail("unterminated string");
                    };
                    self.pos += 1;
                    match e {
                        b'n' => bytes.push(b'\n'),
                        b'r' => bytes.push(b'\r'),
                        b't' => bytes.push(b'\t'),
                        b'b' => bytes.push(8),
                        b'f' => bytes.push(12),
                        b'0'..=b'7' => {
                            let mut value = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        value = value * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            bytes.push(value as u8);
                        }
                        // A backslash before an end of line continues the string.
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => bytes.push(other),
                    }
                }
                // An end of line in a string reads as a line feed.
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    bytes.push(b'\n');
                }
                _ => bytes.push(b),
            }
        }
        Ok(Object::String(PdfString {
            bytes,
            hex: false,
            span: start..self.pos,
        }))
    }

    fn hex_string(&mut self) -> Result<Object> {
        let start = self.pos;
        self.pos += 1;
        let mut bytes = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let Some(b) = self.peek() else {
                return self.fail("unterminated hexadecimal string");
            };
            self.pos += 1;
            let digit = match b {
                b'>' => break,
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ if is_whitespace(b) => continue,
                _ => return self.fail("bad character in a hexadecimal string"),
            };
            match high.take() {
                Some(h) => bytes.push(h << 4 | digit),
                None => high = Some(digit),
            }
        }
        if let Some(h) = high {
            bytes.push(h << 4);
        }
        Ok(Object::String(PdfString {
            bytes,
            hex: true,
            span: start..self.pos,
        }))
    }

    fn number_or_keyword(&mut self) -> Result<Object> {
        let token = self.peek_token();
        if token.is_empty() {
            return self.fail("unexpected delimiter");
        }
        match token {
            b"true" => {
                self.pos += 4;
                return Ok(Object::Bool(true));
            }
            b"false" => {
                self.pos += 5;
                return Ok(Object::Bool(false));
            }
            b"null" => {
                self.pos += 4;
                return Ok(Object::Null);
            }
            _ => {}
        }
        let text = std::str::from_utf8(token).unwrap_or("");
        let is_number = !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'));
        if !is_number {
            return self.fail(&format!(
                "unexpected `{}`",
                String::from_utf8_lossy(&token[..token.len().min(20)])
            ));
        }
        self.pos += token.len();
        if text.contains('.') {
            return Ok(Object::Real(text.to_string()));
        }
        let Ok(value) = text.parse::<i64>() else {
            return self.fail("integer out of range");
        };
        // `num generation R` is a reference.
        if value >= 0 {
            let save = self.pos;
            self.skip_space();
            let generation = self.peek_token();
            if !generation.is_empty()
                && generation.len() <= 5
                && generation.iter().all(u8::is_ascii_digit)
            {
                let gen_value: u32 = std::str::from_utf8(generation)?.parse()?;
                self.pos += generation.len();
                self.skip_space();
                if self.peek_token() == b"R" && value <= i64::from(u32::MAX) && gen_value <= 65535 {
                    self.pos += 1;
                    return Ok(Object::Ref(Ref {
                        num: value as u32,
                        generation: gen_value as u16,
                    }));
                }
            }
            self.pos = save;
        }
        Ok(Object::Int(value))
    }
}

/// Writes `object` in PDF syntax.
pub fn write(out: &mut Vec<u8>, object: &Object) {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(r.as_bytes()),
        Object::Name(name) => write_name(out, name),
        Object::String(s) if s.hex => {
            out.push(b'<');
            out.extend_from_slice(hex::encode_upper(&s.bytes).as_bytes());
            out.push(b'>');
        }
        Object::String(s) => {
            out.push(b'(');
            for &b in &s.bytes {
                match b {
                    b'(' | b')' | b'\\' => {
                        out.push(b'\\');
                        out.push(b);
                    }
                    0x20..=0x7e => out.push(b),
                    _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
                }
            }
            out.push(b')');
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write(out, item);
            }
            out.push(b']');
        }
        Object::Dict(dict) => write_dict(out, dict),
        Object::Ref(r) => out.extend_from_slice(r.to_string().as_bytes()),
    }
}

pub fn write_dict(out: &mut Vec<u8>, dict: &Dict) {
    out.extend_from_slice(b"<<");
    for (i, (key, value)) in dict.0.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_name(out, key);
        out.push(b' ');
        write(out, value);
    }
    out.extend_from_slice(b">>");
}

fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        if b == b'#' || !(0x21..=0x7e).contains(&b) || is_delimiter(b) {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Object {
        Parser::new(text.as_bytes(), 0).object().unwrap()
    }

    fn round_trip(text: &str) -> String {
        let mut out = Vec::new();
        write(&mut out, &parse(text));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dictionaries_keep_their_order_and_numbers() {
        assert_eq!(
            round_trip("<</Type/Page/MediaBox[0 0 595.2756 841.8898]/Parent 1 0 R/Lang(kk)>>"),
            "<</Type /Page /MediaBox [0 0 595.2756 841.8898] /Parent 1 0 R /Lang (kk)>>"
        );
    }

    #[test]
    fn references_and_integers_are_told_apart() {
        assert_eq!(
            parse("[1 0 R 2 3 4 0 R]"),
            Object::Array(vec![
                Object::Ref(Ref {
                    num: 1,
                    generation: 0
                }),
                Object::Int(2),
                Object::Int(3),
                Object::Ref(Ref {
                    num: 4,
                    generation: 0
                }),
            ])
        );
        assert_eq!(parse("12"), Object::Int(12));
    }

    #[test]
    fn strings_decode_escapes_and_remember_where_they_were() {
        let Object::String(s) = parse(
            r"(a\(b\)\\\101
c(d))",
        ) else {
            panic!()
        };
        assert_eq!(s.bytes, b"a(b)\\A\nc(d)");
        assert!(!s.hex);
        let text = b"   <48 65 6c6C6>";
        let Object::String(s) = Parser::new(text, 0).object().unwrap() else {
            panic!()
        };
        assert_eq!(s.bytes, b"Hell`");
        assert_eq!(s.span, 3..text.len());
    }

    #[test]
    fn names_escape_what_they_must() {
        assert_eq!(parse("/A#20B"), Object::Name(b"A B".to_vec()));
        assert_eq!(round_trip("/A#20B#23"), "/A#20B#23");
        assert_eq!(round_trip("/ETSI.CAdES.detached"), "/ETSI.CAdES.detached");
    }

    #[test]
    fn text_strings_use_utf16_beyond_ascii() {
        let mut out = Vec::new();
        write(&mut out, &Object::text("Әб"));
        assert_eq!(out, b"<FEFF04D80431>");
        out.clear();
        write(&mut out, &Object::text("a(b)"));
        assert_eq!(out, b"(a\\(b\\))");
    }

    #[test]
    fn hostile_nesting_is_refused_not_overflowed() {
        let deep = "[".repeat(100_000);
        assert!(Parser::new(deep.as_bytes(), 0).object().is_err());
        assert!(Parser::new(b"<</A", 0).object().is_err());
        assert!(Parser::new(b"(abc", 0).object().is_err());
    }
}
