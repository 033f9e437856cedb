//! An incremental update (ISO 32000-1 §7.5.6): new and changed objects appended after the
//! original's `%%EOF`, with a cross-reference section of the original's kind that points back
//! to the original's through `/Prev`. The original bytes are never touched, which is what lets
//! a signature be added to a finished PDF and the unsigned file be recovered from the signed one.

use anyhow::{Context, Result};

use super::syntax::{self, Dict, Object, Ref};
use super::xref::{Document, XrefKind};

/// The objects of an update, in the order they are written.
#[derive(Default)]
pub struct Update {
    objects: Vec<(Ref, Vec<u8>)>,
}

/// An update written out: its bytes, and where each object begins in them.
pub struct Written {
    pub bytes: Vec<u8>,
    pub offsets: Vec<(Ref, usize)>,
}

impl Update {
    /// Adds object `r` with `body`, the bytes between `obj` and `endobj`.
    pub fn add(&mut self, r: Ref, body: Vec<u8>) {
        self.objects.push((r, body));
    }

    /// Adds object `r` with value `object`.
    pub fn add_object(&mut self, r: Ref, object: &Object) {
        let mut body = Vec::new();
        syntax::write(&mut body, object);
        self.add(r, body);
    }

    /// Writes the update for `doc`, whose file is `doc.data`; `start` is where the update's
    /// bytes will begin in the new file (the original's length). `next_free` is the first
    /// object number not used by the original or this update (for the cross-reference stream).
    pub fn write(self, doc: &Document<'_>, next_free: u32) -> Result<Written> {
        let start = doc.data.len();
        let mut out = Vec::new();
        // Always one line feed first, whatever the original ends with (Typst's ends right after
        // `%%EOF`): the update's objects begin on a line of their own, and the original's end
        // can be told from the update's start (see `KeptSignature::extract`).
        out.push(b'\n');
        let mut offsets = Vec::with_capacity(self.objects.len() + 1);
        for (r, body) in &self.objects {
            offsets.push((*r, start + out.len()));
            out.extend_from_slice(format!("{} {} obj\n", r.num, r.generation).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let prev = Object::Int(doc.startxref as i64);
        let xref_offset = start + out.len();
        let mut trailer = Dict::default();
        match doc.kind {
            XrefKind::Table => {
                trailer.set("Size", Object::Int(i64::from(next_free)));
                copy_trailer_keys(doc, &mut trailer);
                trailer.set("Prev", prev);
                out.extend_from_slice(b"xref\n");
                for run in runs(&offsets) {
                    out.extend_from_slice(format!("{} {}\n", run[0].0.num, run.len()).as_bytes());
                    for (r, offset) in run {
                        // Each entry is exactly 20 bytes, ending in space and line feed.
                        out.extend_from_slice(
                            format!("{offset:010} {:05} n \n", r.generation).as_bytes(),
                        );
                    }
                }
                out.extend_from_slice(b"trailer\n");
                syntax::write_dict(&mut out, &trailer);
                out.push(b'\n');
            }
            XrefKind::Stream => {
                let own = Ref {
                    num: next_free,
                    generation: 0,
                };
                offsets.push((own, xref_offset));
                let width = bytes_needed(xref_offset as u64).max(4);
                let mut rows = Vec::new();
                let mut index = Vec::new();
                for run in runs(&offsets) {
                    index.push(Object::Int(i64::from(run[0].0.num)));
                    index.push(Object::Int(run.len() as i64));
                    for (r, offset) in run {
                        rows.push(1u8);
                        rows.extend_from_slice(&(offset as u64).to_be_bytes()[8 - width..]);
                        rows.extend_from_slice(&r.generation.to_be_bytes());
                    }
                }
                trailer.set("Type", Object::name("XRef"));
                trailer.set("Size", Object::Int(i64::from(next_free) + 1));
                copy_trailer_keys(doc, &mut trailer);
                trailer.set("Prev", prev);
                trailer.set(
                    "W",
                    Object::Array(vec![
                        Object::Int(1),
                        Object::Int(width as i64),
                        Object::Int(2),
                    ]),
                );
                trailer.set("Index", Object::Array(index));
                trailer.set("Length", Object::Int(rows.len() as i64));
                out.extend_from_slice(format!("{} 0 obj\n", own.num).as_bytes());
                syntax::write_dict(&mut out, &trailer);
                out.extend_from_slice(b"\nstream\n");
                out.extend_from_slice(&rows);
                out.extend_from_slice(b"\nendstream\nendobj\n");
            }
        }
        out.extend_from_slice(format!("startxref\n{xref_offset}\n%%EOF\n").as_bytes());
        Ok(Written {
            bytes: out,
            offsets,
        })
    }
}

/// The keys an update's trailer repeats from the last one: the catalog, the document
/// information and the file identifier, both of whose parts stay as they were so the update
/// changes no identity (and PDF/A's `/ID` rule holds).
fn copy_trailer_keys(doc: &Document<'_>, trailer: &mut Dict) {
    for key in ["Root", "Info", "ID"] {
        if let Some(value) = doc.trailer.get(key) {
            trailer.set(key, value.clone());
        }
    }
}

/// Runs of consecutive object numbers, sorted, as cross-reference subsections want them.
fn runs(offsets: &[(Ref, usize)]) -> Vec<Vec<(Ref, usize)>> {
    let mut sorted = offsets.to_vec();
    sorted.sort_by_key(|(r, _)| r.num);
    let mut runs: Vec<Vec<(Ref, usize)>> = Vec::new();
    for entry in sorted {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|(r, _)| r.num + 1 == entry.0.num) => {
                run.push(entry)
            }
            _ => runs.push(vec![entry]),
        }
    }
    runs
}

fn bytes_needed(value: u64) -> usize {
    (8 - value.leading_zeros() as usize / 8).max(1)
}

/// The position of `needle` in an update's bytes, for a placeholder written there.
pub fn find(bytes: &[u8], needle: &[u8]) -> Result<usize> {
    memchr::memmem::find(bytes, needle).context("a placeholder is missing from the update")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsections_group_consecutive_numbers() {
        let r = |num| Ref { num, generation: 0 };
        let groups = runs(&[(r(7), 1), (r(3), 2), (r(5), 3), (r(6), 4)]);
        let nums: Vec<Vec<u32>> = groups
            .iter()
            .map(|g| g.iter().map(|(r, _)| r.num).collect())
            .collect();
        assert_eq!(nums, vec![vec![3], vec![5, 6, 7]]);
    }

    #[test]
    fn offsets_take_the_bytes_they_need() {
        assert_eq!(bytes_needed(0), 1);
        assert_eq!(bytes_needed(255), 1);
        assert_eq!(bytes_needed(256), 2);
        assert_eq!(bytes_needed(1 << 32), 5);
    }
}
