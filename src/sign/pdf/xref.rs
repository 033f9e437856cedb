//! A PDF's cross-reference: where each object is, read from the last update back to the first
//! (ISO 32000-1 §7.5.4–7.5.8). Both kinds are read: the classic table Typst writes, and the
//! cross-reference streams (with object streams) other writers and optimisers produce.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::Read;

use anyhow::{Context, Result, bail};

use super::syntax::{Dict, Object, Parser, Ref};

/// Where an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Free,
    /// At a byte offset in the file.
    InFile {
        offset: usize,
        generation: u16,
    },
    /// The `index`th object of object stream `stream`.
    InStream {
        stream: u32,
        index: usize,
    },
}

/// The kind of cross-reference the last update used; a new update is written in the same kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefKind {
    Table,
    Stream,
}

/// A PDF file's objects, found through its cross-reference.
pub struct Document<'a> {
    pub data: &'a [u8],
    entries: HashMap<u32, Entry>,
    /// The trailer of the last update (for a cross-reference stream, its dictionary).
    pub trailer: Dict,
    /// The offset of the last cross-reference section.
    pub startxref: usize,
    pub kind: XrefKind,
    /// Bytes inflated so far (cross-reference and object streams), against [`INFLATE_BUDGET`].
    inflated: Cell<usize>,
}

/// How many bytes all the streams read from one file may inflate to, together. A hostile file
/// (one uploaded to `qujat serve`) could otherwise name thousands of objects in a stream that
/// inflates to gigabytes, each lookup inflating it again; qujat's own documents inflate to a few
/// kilobytes.
const INFLATE_BUDGET: usize = 16 << 20;

/// Object streams and chains of updates deeper than this are refused as hostile.
const MAX_SECTIONS: usize = 10_000;

impl<'a> Document<'a> {
    /// Reads the cross-reference of `data`.
    pub fn parse(data: &'a [u8]) -> Result<Document<'a>> {
        if !data.starts_with(b"%PDF-") {
            bail!("not a PDF file (it does not begin with %PDF-)");
        }
        let startxref = find_startxref(data)?;
        let mut doc = Document {
            data,
            entries: HashMap::new(),
            trailer: Dict::default(),
            startxref,
            kind: XrefKind::Table,
            inflated: Cell::new(0),
        };
        let mut seen = HashSet::new();
        let mut next = Some(startxref);
        let mut first = true;
        while let Some(offset) = next {
            if !seen.insert(offset) || seen.len() > MAX_SECTIONS {
                bail!("the cross-reference sections of the PDF loop (offset {offset})");
            }
            let (trailer, kind) = doc
                .read_section(offset)
                .with_context(|| format!("cross-reference section at byte {offset}"))?;
            next = match trailer.get("Prev") {
                Some(prev) => Some(offset_value(prev).context("/Prev")?),
                None => None,
            };
            if first {
                doc.trailer = trailer;
                doc.kind = kind;
                first = false;
            }
        }
        Ok(doc)
    }

    /// Reads one section, adding the entries not already known (later updates win), and
    /// returns its trailer.
    fn read_section(&mut self, offset: usize) -> Result<(Dict, XrefKind)> {
        let mut parser = Parser::new(self.data, offset);
        if parser.eat_keyword("xref") {
            let trailer = self.read_table(&mut parser)?;
            // A hybrid file's trailer also points at a stream, read before the /Prev chain.
            if let Some(stm) = trailer.get("XRefStm") {
                let stm = offset_value(stm).context("/XRefStm")?;
                self.read_stream_section(stm)?;
            }
            Ok((trailer, XrefKind::Table))
        } else {
            Ok((self.read_stream_section(offset)?, XrefKind::Stream))
        }
    }

    fn read_table(&mut self, parser: &mut Parser<'_>) -> Result<Dict> {
        loop {
            if parser.eat_keyword("trailer") {
                return match parser.object()? {
                    Object::Dict(d) => Ok(d),
                    _ => bail!("the trailer is not a dictionary"),
                };
            }
            let start = parser.unsigned()?;
            let count = parser.unsigned()?;
            for i in 0..count {
                let offset = parser.unsigned()?;
                let generation = parser.unsigned()?;
                let num = u32::try_from(start + i).context("object number out of range")?;
                let entry = if parser.eat_keyword("n") {
                    Entry::InFile {
                        offset: usize::try_from(offset)?,
                        generation: u16::try_from(generation)?,
                    }
                } else if parser.eat_keyword("f") {
                    Entry::Free
                } else {
                    bail!("bad cross-reference entry for object {num}");
                };
                self.entries.entry(num).or_insert(entry);
            }
        }
    }

    fn read_stream_section(&mut self, offset: usize) -> Result<Dict> {
        let (_, object, data) = self.indirect_at(offset)?;
        let Object::Dict(dict) = object else {
            bail!("expected a cross-reference stream");
        };
        if !dict.name_is("Type", "XRef") {
            bail!("expected `xref` or a cross-reference stream");
        }
        let data = data.context("the cross-reference stream has no data")?;
        let data = self.decode(&dict, &data)?;
        let widths: Vec<usize> = dict
            .get("W")
            .and_then(Object::as_array)
            .context("/W")?
            .iter()
            .map(|w| w.as_int().and_then(|w| usize::try_from(w).ok()))
            .collect::<Option<_>>()
            .context("/W")?;
        if widths.len() != 3 || widths.iter().any(|&w| w > 8) {
            bail!("bad /W in a cross-reference stream");
        }
        let size = dict.get("Size").and_then(Object::as_int).context("/Size")?;
        let index: Vec<i64> = match dict.get("Index") {
            Some(index) => index
                .as_array()
                .context("/Index")?
                .iter()
                .map(Object::as_int)
                .collect::<Option<_>>()
                .context("/Index")?,
            None => vec![0, size],
        };
        let row = widths.iter().sum::<usize>();
        let mut at = 0;
        for pair in index.chunks(2) {
            let [start, count] = pair else {
                bail!("odd /Index");
            };
            for i in 0..*count {
                let fields = data
                    .get(at..at + row)
                    .context("the cross-reference stream is shorter than its /Index")?;
                at += row;
                let mut values = [0u64; 3];
                let mut pos = 0;
                for (v, &w) in values.iter_mut().zip(&widths) {
                    *v = fields[pos..pos + w]
                        .iter()
                        .fold(0, |acc, &b| acc << 8 | u64::from(b));
                    pos += w;
                }
                // A missing type field means type 1.
                let kind = if widths[0] == 0 { 1 } else { values[0] };
                let num = u32::try_from(start + i).context("object number out of range")?;
                let entry = match kind {
                    0 => Entry::Free,
                    1 => Entry::InFile {
                        offset: usize::try_from(values[1])?,
                        generation: u16::try_from(values[2]).unwrap_or(0),
                    },
                    2 => Entry::InStream {
                        stream: u32::try_from(values[1])?,
                        index: usize::try_from(values[2])?,
                    },
                    // Unknown types are null references (§7.5.8.3).
                    _ => Entry::Free,
                };
                self.entries.entry(num).or_insert(entry);
            }
        }
        Ok(dict)
    }

    /// The indirect object at `offset`: its reference, value and raw stream data.
    pub fn indirect_at(&self, offset: usize) -> Result<(Ref, Object, Option<Vec<u8>>)> {
        if offset >= self.data.len() {
            bail!("offset {offset} is past the end of the file");
        }
        let mut parser = Parser::new(self.data, offset);
        let r = parser.object_header()?;
        let object = parser.object()?;
        let mut stream = None;
        if let Object::Dict(dict) = &object
            && parser.eat_keyword("stream")
        {
            // The keyword is followed by CRLF or LF (§7.3.8.1).
            let mut start = parser.pos;
            if self.data.get(start) == Some(&b'\r') {
                start += 1;
            }
            if self.data.get(start) == Some(&b'\n') {
                start += 1;
            }
            let length = match dict.get("Length") {
                Some(Object::Int(n)) => usize::try_from(*n).ok(),
                Some(Object::Ref(length)) if *length != r => self
                    .object(*length)?
                    .as_int()
                    .and_then(|n| n.try_into().ok()),
                _ => None,
            }
            .context("a stream without a usable /Length")?;
            let end = start
                .checked_add(length)
                .filter(|&end| end <= self.data.len())
                .context("a stream runs past the end of the file")?;
            stream = Some(self.data[start..end].to_vec());
        }
        Ok((r, object, stream))
    }

    /// The byte offset of object `num`, if it is written directly in the file.
    /// A stream's data decoded, within what is left of the file's [`INFLATE_BUDGET`].
    fn decode(&self, dict: &Dict, raw: &[u8]) -> Result<Vec<u8>> {
        let left = INFLATE_BUDGET - self.inflated.get();
        let data = decode_stream(dict, raw, left)?;
        self.inflated.set(self.inflated.get() + data.len());
        Ok(data)
    }

    pub fn offset_of(&self, r: Ref) -> Option<usize> {
        match self.entries.get(&r.num)? {
            Entry::InFile { offset, generation } if *generation == r.generation => Some(*offset),
            _ => None,
        }
    }

    /// Object `r`'s value (a missing or free object is `null`, as the standard says).
    pub fn object(&self, r: Ref) -> Result<Object> {
        self.object_depth(r, 0)
    }

    fn object_depth(&self, r: Ref, depth: usize) -> Result<Object> {
        if depth > 8 {
            bail!("object {r} is nested in object streams too deeply");
        }
        match self.entries.get(&r.num).copied() {
            None | Some(Entry::Free) => Ok(Object::Null),
            Some(Entry::InFile { offset, generation }) => {
                if generation != r.generation {
                    return Ok(Object::Null);
                }
                let (found, object, _) = self
                    .indirect_at(offset)
                    .with_context(|| format!("object {r} at byte {offset}"))?;
                if found != r {
                    bail!(
                        "the cross-reference says object {r} is at byte {offset}, but {found} is there"
                    );
                }
                Ok(object)
            }
            Some(Entry::InStream { stream, index }) => {
                let stream_ref = Ref {
                    num: stream,
                    generation: 0,
                };
                let offset = self
                    .offset_of(stream_ref)
                    .with_context(|| format!("object stream {stream_ref} of object {r}"))?;
                let (_, dict, data) = self.indirect_at(offset)?;
                let dict = dict.as_dict().context("an object stream is not a stream")?;
                let data = self.decode(dict, &data.context("object stream without data")?)?;
                let n = dict.get("N").and_then(Object::as_int).context("/N")?;
                let first = dict
                    .get("First")
                    .and_then(Object::as_int)
                    .and_then(|f| usize::try_from(f).ok())
                    .context("/First")?;
                let mut header = Parser::new(&data, 0);
                for i in 0..n {
                    let num = header.unsigned()?;
                    let at = usize::try_from(header.unsigned()?)?;
                    if i as usize == index {
                        if num != u64::from(r.num) {
                            bail!("object stream {stream} does not hold object {r}");
                        }
                        return Parser::new(&data, first + at).object();
                    }
                }
                bail!("object stream {stream} has no object {index}")
            }
        }
    }

    /// `object` itself, or what it refers to.
    pub fn resolve(&self, object: &Object) -> Result<Object> {
        match object {
            Object::Ref(r) => self.object(*r),
            other => Ok(other.clone()),
        }
    }

    /// The trailer's `/Size`: one more than the highest object number.
    pub fn size(&self) -> Result<u32> {
        let size = self
            .trailer
            .get("Size")
            .and_then(Object::as_int)
            .context("the trailer has no /Size")?;
        let size = u32::try_from(size).context("bad /Size")?;
        // A writer may understate /Size; new objects must not collide with existing ones.
        let highest = self.entries.keys().max().map_or(0, |&n| n + 1);
        Ok(size.max(highest))
    }

    /// The document catalog's reference.
    pub fn root(&self) -> Result<Ref> {
        self.trailer
            .get("Root")
            .and_then(Object::as_ref)
            .context("the trailer names no document catalog (/Root)")
    }

    /// The document's pages in order.
    pub fn pages(&self) -> Result<Vec<Ref>> {
        let catalog = self.object(self.root()?)?;
        let pages = catalog
            .as_dict()
            .and_then(|c| c.get("Pages"))
            .and_then(Object::as_ref)
            .context("the catalog has no /Pages")?;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.collect_pages(pages, &mut out, &mut seen, 0)?;
        Ok(out)
    }

    fn collect_pages(
        &self,
        node: Ref,
        out: &mut Vec<Ref>,
        seen: &mut HashSet<Ref>,
        depth: usize,
    ) -> Result<()> {
        if !seen.insert(node) || depth > 64 {
            bail!("the page tree loops at {node}");
        }
        let object = self.object(node)?;
        let dict = object
            .as_dict()
            .context("a page tree node is not a dictionary")?;
        if dict.name_is("Type", "Page") {
            out.push(node);
            return Ok(());
        }
        let kids = self.resolve(dict.get("Kids").context("a page tree node has no /Kids")?)?;
        for kid in kids.as_array().context("/Kids is not an array")? {
            let kid = kid.as_ref().context("a page tree kid is not a reference")?;
            self.collect_pages(kid, out, seen, depth + 1)?;
        }
        Ok(())
    }
}

/// Finds the offset after the last `startxref`.
fn find_startxref(data: &[u8]) -> Result<usize> {
    // The standard puts it in the last 1024 bytes; allow trailing junk a little further.
    let tail_start = data.len().saturating_sub(4096);
    let tail = &data[tail_start..];
    let at = memchr::memmem::rfind(tail, b"startxref")
        .context("no `startxref` at the end of the PDF: the file is truncated or not a PDF")?;
    let mut parser = Parser::new(data, tail_start + at + b"startxref".len());
    let offset = parser.unsigned().context("the number after `startxref`")?;
    usize::try_from(offset).context("startxref out of range")
}

fn offset_value(object: &Object) -> Result<usize> {
    object
        .as_int()
        .and_then(|n| usize::try_from(n).ok())
        .context("expected a byte offset")
}

/// A stream's data with its filters undone: none or FlateDecode, with or without PNG
/// predictors — what cross-reference and object streams use.
pub fn decode_stream(dict: &Dict, raw: &[u8], limit: usize) -> Result<Vec<u8>> {
    let filters: Vec<Vec<u8>> = match dict.get("Filter") {
        None => vec![],
        Some(Object::Name(n)) => vec![n.clone()],
        Some(Object::Array(a)) => a
            .iter()
            .map(|f| f.as_name().map(<[u8]>::to_vec))
            .collect::<Option<_>>()
            .context("bad /Filter")?,
        Some(_) => bail!("bad /Filter"),
    };
    let mut data = raw.to_vec();
    for (i, filter) in filters.iter().enumerate() {
        if filter != b"FlateDecode" {
            bail!(
                "stream filter /{} is not supported here",
                String::from_utf8_lossy(filter)
            );
        }
        let mut inflated = Vec::new();
        // Hostile input could inflate without bound; cross-reference data is small.
        flate2::read::ZlibDecoder::new(&data[..])
            .take(limit as u64 + 1)
            .read_to_end(&mut inflated)
            .context("cannot inflate a stream")?;
        if inflated.len() > limit {
            bail!(
                "its compressed streams inflate to more than {} MiB: refused as hostile",
                INFLATE_BUDGET >> 20
            );
        }
        data = inflated;
        let parms = match dict.get("DecodeParms") {
            Some(Object::Array(a)) => a.get(i).and_then(Object::as_dict).cloned(),
            Some(Object::Dict(d)) => Some(d.clone()),
            _ => None,
        };
        if let Some(parms) = parms {
            data = unpredict(&parms, data)?;
        }
    }
    Ok(data)
}

/// Undoes PNG predictors (§7.4.4.4), the only ones cross-reference streams use.
fn unpredict(parms: &Dict, data: Vec<u8>) -> Result<Vec<u8>> {
    let predictor = parms.get("Predictor").and_then(Object::as_int).unwrap_or(1);
    if predictor < 10 {
        if predictor == 1 {
            return Ok(data);
        }
        bail!("TIFF predictors are not supported here");
    }
    let columns = parms
        .get("Columns")
        .and_then(Object::as_int)
        .unwrap_or(1)
        .clamp(1, 1 << 20) as usize;
    let mut out = Vec::with_capacity(data.len());
    let mut previous = vec![0u8; columns];
    for row in data.chunks(columns + 1) {
        if row.len() != columns + 1 {
            bail!("a predicted stream's last row is short");
        }
        let mut current = row[1..].to_vec();
        match row[0] {
            0 => {}
            1 => {
                for i in 1..columns {
                    current[i] = current[i].wrapping_add(current[i - 1]);
                }
            }
            2 => {
                for i in 0..columns {
                    current[i] = current[i].wrapping_add(previous[i]);
                }
            }
            3 => {
                for i in 0..columns {
                    let left = if i > 0 { current[i - 1] } else { 0 };
                    current[i] = current[i]
                        .wrapping_add(((u16::from(left) + u16::from(previous[i])) / 2) as u8);
                }
            }
            4 => {
                for i in 0..columns {
                    let left = if i > 0 { i16::from(current[i - 1]) } else { 0 };
                    let up = i16::from(previous[i]);
                    let up_left = if i > 0 { i16::from(previous[i - 1]) } else { 0 };
                    let p = left + up - up_left;
                    let (pa, pb, pc) = ((p - left).abs(), (p - up).abs(), (p - up_left).abs());
                    let pred = if pa <= pb && pa <= pc {
                        left
                    } else if pb <= pc {
                        up
                    } else {
                        up_left
                    };
                    current[i] = current[i].wrapping_add(pred as u8);
                }
            }
            other => bail!("unknown PNG predictor {other}"),
        }
        out.extend_from_slice(&current);
        previous = current;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-object PDF with a classic table, offsets computed.
    pub(crate) fn tiny_pdf() -> Vec<u8> {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offsets = vec![];
        let objects = [
            "<</Type/Catalog/Pages 2 0 R>>",
            "<</Type/Pages/Count 1/Kids[3 0 R]>>",
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>",
        ];
        for (i, body) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(b"xref\n0 4\n0000000000 65535 f \n");
        for o in offsets {
            pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<</Size 4/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF").as_bytes(),
        );
        pdf
    }

    #[test]
    fn a_classic_table_is_read() {
        let pdf = tiny_pdf();
        let doc = Document::parse(&pdf).unwrap();
        assert_eq!(doc.kind, XrefKind::Table);
        assert_eq!(doc.size().unwrap(), 4);
        assert_eq!(
            doc.pages().unwrap(),
            vec![Ref {
                num: 3,
                generation: 0
            }]
        );
        assert_eq!(
            doc.object(Ref {
                num: 9,
                generation: 0
            })
            .unwrap(),
            Object::Null
        );
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let pdf = tiny_pdf();
        for cut in [10, pdf.len() / 2, pdf.len() - 8] {
            let _ = Document::parse(&pdf[..cut]);
        }
        let mut bad = pdf.clone();
        let at = memchr::memmem::rfind(&bad, b"startxref\n").unwrap() + 10;
        bad[at] = b'9';
        assert!(Document::parse(&bad).is_err() || Document::parse(&bad).unwrap().pages().is_err());
        assert!(Document::parse(b"hello").is_err());
    }

    #[test]
    fn png_up_predictor() {
        let mut parms = Dict::default();
        parms.set("Predictor", Object::Int(12));
        parms.set("Columns", Object::Int(2));
        let out = unpredict(&parms, vec![2, 1, 2, 2, 1, 1]).unwrap();
        assert_eq!(out, vec![1, 2, 2, 3]);
    }
}
