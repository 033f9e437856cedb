//! What a writer looks registered documents up by — key, once-only value, number — kept
//! compactly: a writer holds every document of its registry, a few hundred thousand after some
//! years, so each takes one flat entry (about 150 bytes) with its names shared, and the tables
//! that find it hold 64-bit hashes and entry numbers, not copies of strings.
//!
//! Lookups return owned [`Key`]s and [`Registered`]s, made when asked for. A later record under
//! the same key (or once-only value, or sequence and number) takes the place of the earlier one,
//! as an insertion into a map would.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::record::Record;
use super::{Key, OnceKey, Registered};
use crate::date::Date;

#[derive(Default)]
pub(super) struct Lookups {
    /// Service names, document kinds and sequence names, each kept once.
    names: Vec<Box<str>>,
    name_ids: HashMap<Box<str>, u32>,
    docs: Vec<Doc>,
    by_key: Table,
    by_once: Table,
    by_number: Table,
}

/// One registered document.
struct Doc {
    seq: u64,
    issued: Date,
    service: u32,
    document: u32,
    sequence: u32,
    case_hash: CaseHash,
    case_id: Box<str>,
    number: Box<str>,
    /// The holder's IIN or BIN.
    holder: Option<Box<str>>,
    /// For a document allowed once per value of a field: `<field>=<value>`.
    once: Option<Box<str>>,
}

/// A case hash: 32 bytes when it is SHA-256 in lower-case hex, as qujat writes it; the text as
/// it stands otherwise (so nothing read is ever changed).
enum CaseHash {
    Sha256([u8; 32]),
    Text(Box<str>),
}

impl CaseHash {
    fn of(text: &str) -> CaseHash {
        let mut bytes = [0u8; 32];
        let lower = text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match hex::decode_to_slice(text, &mut bytes) {
            Ok(()) if lower => CaseHash::Sha256(bytes),
            _ => CaseHash::Text(text.into()),
        }
    }

    fn text(&self) -> String {
        match self {
            CaseHash::Sha256(bytes) => hex::encode(bytes),
            CaseHash::Text(text) => text.to_string(),
        }
    }
}

/// Entries by the hash of what finds them; an entry is confirmed against the document itself,
/// so two keys with the same hash are told apart.
#[derive(Default)]
struct Table(HashMap<u64, Slot>);

enum Slot {
    One(u32),
    Many(Vec<u32>),
}

impl Table {
    /// The entry under `hash` for which `is` holds.
    fn find(&self, hash: u64, is: impl Fn(u32) -> bool) -> Option<u32> {
        match self.0.get(&hash)? {
            Slot::One(doc) => is(*doc).then_some(*doc),
            Slot::Many(docs) => docs.iter().copied().find(|&doc| is(doc)),
        }
    }

    /// Files `doc` under `hash`, in the place of the entry for which `same` holds.
    fn put(&mut self, hash: u64, doc: u32, same: impl Fn(u32) -> bool) {
        match self.0.get_mut(&hash) {
            None => {
                self.0.insert(hash, Slot::One(doc));
            }
            Some(slot) => match slot {
                Slot::One(other) => {
                    let other = *other;
                    *slot = if same(other) {
                        Slot::One(doc)
                    } else {
                        Slot::Many(vec![other, doc])
                    };
                }
                Slot::Many(docs) => match docs.iter_mut().find(|d| same(**d)) {
                    Some(place) => *place = doc,
                    None => docs.push(doc),
                },
            },
        }
    }

    /// Every entry under `hash`.
    fn all(&self, hash: u64) -> &[u32] {
        match self.0.get(&hash) {
            None => &[],
            Some(Slot::One(doc)) => std::slice::from_ref(doc),
            Some(Slot::Many(docs)) => docs,
        }
    }
}

fn hash_of(parts: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

impl Lookups {
    fn name(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 4 billion names");
        self.names.push(text.into());
        self.name_ids.insert(text.into(), id);
        id
    }

    /// Makes room for `documents` more, so that taking them in never copies what is held.
    pub fn reserve(&mut self, documents: usize) {
        self.docs.reserve_exact(documents);
        self.by_key.0.reserve(documents);
        self.by_number.0.reserve(documents);
    }

    fn doc(&self, doc: u32) -> &Doc {
        &self.docs[doc as usize]
    }

    fn name_of(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// Takes in the document a record registers (a status event registers none).
    pub fn add(&mut self, record: &Record) {
        let Some(entry) = record.document() else {
            return;
        };
        let doc = Doc {
            seq: record.seq,
            issued: entry.issued,
            service: self.name(&entry.service),
            document: self.name(&entry.document),
            sequence: self.name(&entry.sequence),
            case_hash: CaseHash::of(&entry.case_hash),
            case_id: entry.case_id.as_str().into(),
            number: entry.number.as_str().into(),
            holder: Some(entry.holder().id)
                .filter(|id| !id.is_empty())
                .map(String::into_boxed_str),
            once: entry.once.as_deref().map(Box::from),
        };
        let at = u32::try_from(self.docs.len()).expect("fewer than 4 billion documents");
        let key = hash_of(&[&entry.service, &entry.case_id, &entry.document]);
        // Filed by the number alone, so that every sequence's document with a number is found
        // at once; told apart by their sequence.
        let number = hash_of(&[&entry.number]);
        let once = doc
            .once
            .as_deref()
            .map(|value| hash_of(&[&entry.service, &entry.document, value]));
        self.docs.push(doc);
        let new = &self.docs[at as usize];
        let (docs, by_key, by_once, by_number) = (
            &self.docs,
            &mut self.by_key,
            &mut self.by_once,
            &mut self.by_number,
        );
        by_key.put(key, at, |other| same_key(&docs[other as usize], new));
        by_number.put(number, at, |other| {
            let other = &docs[other as usize];
            other.sequence == new.sequence && other.number == new.number
        });
        if let Some(once) = once {
            by_once.put(once, at, |other| {
                let other = &docs[other as usize];
                other.service == new.service
                    && other.document == new.document
                    && other.once == new.once
            });
        }
    }

    /// The document registered under `key`, if any.
    pub fn registered(&self, key: &Key) -> Option<Registered> {
        let found = self.find_key(key)?;
        Some(self.registered_at(found))
    }

    fn find_key(&self, key: &Key) -> Option<u32> {
        let hash = hash_of(&[&key.service, &key.case_id, &key.document]);
        self.by_key.find(hash, |doc| {
            let doc = self.doc(doc);
            *doc.case_id == *key.case_id
                && self.name_of(doc.service) == key.service
                && self.name_of(doc.document) == key.document
        })
    }

    /// The document registered under a once-only key, if any.
    pub fn registered_once(&self, (service, document, value): &OnceKey) -> Option<Registered> {
        let hash = hash_of(&[service, document, value]);
        let found = self.by_once.find(hash, |doc| {
            let doc = self.doc(doc);
            doc.once.as_deref() == Some(value.as_str())
                && self.name_of(doc.service) == service
                && self.name_of(doc.document) == document
        })?;
        Some(self.registered_at(found))
    }

    /// Every registered document numbered `number`, in any sequence, in journal order: the key
    /// of the document that took the number, and what is registered under that key now.
    pub fn find_number(&self, number: &str) -> Vec<(Key, Registered)> {
        let mut found: Vec<(Key, Registered)> = self
            .by_number
            .all(hash_of(&[number]))
            .iter()
            .copied()
            .filter(|&doc| *self.doc(doc).number == *number)
            .filter_map(|doc| {
                let key = self.key_of(doc);
                let registered = self.registered_at(self.find_key(&key)?);
                Some((key, registered))
            })
            .collect();
        found.sort_by_key(|(_, r)| r.seq);
        found
    }

    fn key_of(&self, doc: u32) -> Key {
        let doc = self.doc(doc);
        Key {
            service: self.name_of(doc.service).to_string(),
            case_id: doc.case_id.to_string(),
            document: self.name_of(doc.document).to_string(),
        }
    }

    fn registered_at(&self, doc: u32) -> Registered {
        let doc = self.doc(doc);
        Registered {
            number: doc.number.to_string(),
            issued: doc.issued,
            case_hash: doc.case_hash.text(),
            seq: doc.seq,
            case_id: doc.case_id.to_string(),
            holder: doc.holder.as_deref().map(str::to_string),
        }
    }
}

fn same_key(a: &Doc, b: &Doc) -> bool {
    a.service == b.service && a.document == b.document && a.case_id == b.case_id
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::registry::record::{DocumentEntry, Entry, Holder, PdfEntry};

    fn record(seq: u64, case: &str, number: &str, once: Option<&str>) -> Record {
        Record {
            seq,
            prev: String::new(),
            entry: Entry::Document(DocumentEntry {
                service: "attestation".into(),
                case_id: case.into(),
                document: "attestat".into(),
                // Two sequences, so that one number is found in both.
                sequence: if seq.is_multiple_of(3) {
                    "outgoing"
                } else {
                    "attestat"
                }
                .into(),
                n: seq,
                number: number.into(),
                items: Vec::new(),
                once: once.map(str::to_string),
                issued: "2026-11-20".parse().unwrap(),
                case_hash: format!("{seq:064x}"),
                content: String::new(),
                data: serde_json::Value::Null,
                template: String::new(),
                fonts: String::new(),
                engine: String::new(),
                pdf: PdfEntry {
                    sha256: String::new(),
                    file: String::new(),
                    ident: String::new(),
                    created: String::new(),
                    creator: String::new(),
                },
                qr: String::new(),
                holder: Some(Holder {
                    id: format!("9801400{seq:05}"),
                    kk: String::new(),
                    ru: String::new(),
                }),
                title: None,
                signature: None,
            }),
        }
    }

    fn key(case: &str) -> Key {
        Key {
            service: "attestation".into(),
            case_id: case.into(),
            document: "attestat".into(),
        }
    }

    /// What the maps the lookups replace would answer, for comparison.
    #[derive(Default)]
    struct Maps {
        index: HashMap<Key, Registered>,
        once: HashMap<OnceKey, Registered>,
        numbers: BTreeMap<(String, String), Key>,
    }

    impl Maps {
        fn add(&mut self, record: &Record) {
            let doc = record.document().unwrap();
            let registered = Registered {
                number: doc.number.clone(),
                issued: doc.issued,
                case_hash: doc.case_hash.clone(),
                seq: record.seq,
                case_id: doc.case_id.clone(),
                holder: doc.holder.as_ref().map(|h| h.id.clone()),
            };
            if let Some(value) = &doc.once {
                let once = (doc.service.clone(), doc.document.clone(), value.clone());
                self.once.insert(once, registered.clone());
            }
            let key = key(&doc.case_id);
            self.numbers
                .insert((doc.sequence.clone(), doc.number.clone()), key.clone());
            self.index.insert(key, registered);
        }
    }

    #[test]
    fn lookups_answer_as_maps_of_every_record_would() {
        let mut lookups = Lookups::default();
        let mut maps = Maps::default();
        // Cases A-0 … A-499, some registered again (a later record takes the key's place),
        // some numbers given twice (in one sequence or in both), a few once-only values shared.
        for seq in 1..=700u64 {
            let case = format!("A-{}", seq % 500);
            let number = format!("{:05}", seq % 650);
            let once = (seq % 7 == 0).then(|| format!("system={}", seq % 21));
            let record = record(seq, &case, &number, once.as_deref());
            lookups.add(&record);
            maps.add(&record);
        }
        for i in 0..520 {
            let key = key(&format!("A-{i}"));
            assert_eq!(
                lookups.registered(&key),
                maps.index.get(&key).cloned(),
                "{key:?}"
            );
        }
        for i in 0..25 {
            let once = (
                "attestation".into(),
                "attestat".into(),
                format!("system={i}"),
            );
            assert_eq!(
                lookups.registered_once(&once),
                maps.once.get(&once).cloned()
            );
        }
        for n in 0..660 {
            let number = format!("{n:05}");
            let mut expected: Vec<(Key, Registered)> = maps
                .numbers
                .iter()
                .filter(|((_, num), _)| *num == number)
                .map(|(_, key)| (key.clone(), maps.index[key].clone()))
                .collect();
            expected.sort_by_key(|(_, r)| r.seq);
            assert_eq!(lookups.find_number(&number), expected, "{number}");
        }
        let other = Key {
            service: "media-registration".into(),
            ..key("A-1")
        };
        assert_eq!(lookups.registered(&other), None);
    }

    #[test]
    fn case_hashes_come_back_as_they_were_written() {
        for text in [&"ab".repeat(32), "not hex", &"AB".repeat(32), ""] {
            assert_eq!(CaseHash::of(text).text(), *text);
        }
        assert!(matches!(
            CaseHash::of(&"0f".repeat(32)),
            CaseHash::Sha256(_)
        ));
    }

    #[test]
    fn colliding_hashes_are_told_apart() {
        let mut table = Table::default();
        let docs = ["x", "y", "z"];
        for (i, _) in docs.iter().enumerate() {
            table.put(7, i as u32, |other| docs[other as usize] == docs[i]);
        }
        for (i, name) in docs.iter().enumerate() {
            assert_eq!(table.find(7, |d| docs[d as usize] == *name), Some(i as u32));
        }
        // Putting "y" again replaces its entry.
        table.put(7, 1, |other| docs[other as usize] == "y");
        assert_eq!(table.all(7), [0, 1, 2]);
        assert_eq!(table.find(8, |_| true), None);
    }
}
