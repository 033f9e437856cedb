//! Verifying a journal record by record: each line's hash, its place (`seq`), its link to the
//! previous record (`prev`), that every number sequence goes 1, 2, 3, … without a gap, and that
//! every status event changes an earlier document's status in an allowed way.

use std::collections::{BTreeMap, HashMap};

use super::record::{Entry, GENESIS, LineError, Record, Status, parse_line};

/// What the chain checks of a record: its place, its link, and the numbers it takes or the
/// status it changes.
#[derive(Debug, Clone)]
pub struct Link<'a> {
    pub seq: u64,
    pub prev: &'a str,
    pub entry: LinkEntry<'a>,
}

#[derive(Debug, Clone)]
pub enum LinkEntry<'a> {
    /// The numbers a document takes: (sequence, position), its own and then its items'.
    Document {
        own: (&'a str, u64),
        items: Vec<(&'a str, u64)>,
    },
    Status {
        target: u64,
        status: Status,
    },
}

/// The state of a chain after the records pushed so far.
///
/// A chain either holds every record from the first (a whole-journal check), or is resumed at a
/// record a writer verified before ([`Chain::resume`]): then the status of an earlier document
/// that a new record changes must be made known first ([`Chain::know`]).
#[derive(Debug, Clone)]
pub struct Chain {
    len: u64,
    last_hash: String,
    tails: BTreeMap<String, u64>,
    /// The records before this one are not held (a resumed chain).
    start: u64,
    /// The status in force of each held record's document, by `seq - start - 1` (`None` for
    /// status events).
    statuses: Vec<Option<Status>>,
    /// What is known of records before `start`: the status of a document (`None`: not a
    /// document).
    earlier: HashMap<u64, Option<Status>>,
}

impl Default for Chain {
    fn default() -> Chain {
        Chain {
            len: 0,
            last_hash: GENESIS.to_string(),
            tails: BTreeMap::new(),
            start: 0,
            statuses: Vec::new(),
            earlier: HashMap::new(),
        }
    }
}

/// The first thing wrong with a journal, naming the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("line {line} (record {expected_seq}): {error}")]
    Line {
        line: u64,
        expected_seq: u64,
        error: LineError,
    },
    #[error(
        "line {line}: record {found} stands where record {expected} should (a record was \
         deleted, inserted or moved)"
    )]
    Seq {
        line: u64,
        expected: u64,
        found: u64,
    },
    #[error(
        "line {line} (record {seq}): its prev does not name the record before it (records \
         were reordered or replaced)"
    )]
    Prev { line: u64, seq: u64 },
    #[error(
        "line {line} (record {seq}): number {found} of sequence {sequence:?} follows {tail} \
         (numbers must be gapless)"
    )]
    Gap {
        line: u64,
        seq: u64,
        sequence: String,
        tail: u64,
        found: u64,
    },
    #[error("line {line} (record {seq}): {problem}")]
    Status {
        line: u64,
        seq: u64,
        problem: String,
    },
}

impl ChainError {
    /// The journal line the problem is on.
    pub fn line(&self) -> u64 {
        match self {
            ChainError::Line { line, .. }
            | ChainError::Seq { line, .. }
            | ChainError::Prev { line, .. }
            | ChainError::Gap { line, .. }
            | ChainError::Status { line, .. } => *line,
        }
    }
}

impl Chain {
    /// A chain that goes on after record `len`, whose hash was `last_hash`, with the numbers
    /// `tails` taken: the state a writer verified before.
    pub fn resume(len: u64, last_hash: &str, tails: BTreeMap<String, u64>) -> Chain {
        Chain {
            len,
            last_hash: last_hash.to_string(),
            tails,
            start: len,
            statuses: Vec::new(),
            earlier: HashMap::new(),
        }
    }

    /// Whether the status of record `seq` must be made known ([`Chain::know`]) before a record
    /// changing it can be pushed.
    pub fn needs(&self, seq: u64) -> bool {
        seq <= self.start && !self.earlier.contains_key(&seq)
    }

    /// Makes known the status of record `seq` from before the chain's start (`None`: it is not a
    /// document).
    pub fn know(&mut self, seq: u64, status: Option<Status>) {
        if seq <= self.start {
            self.earlier.insert(seq, status);
        }
    }

    /// Checks record `seq`'s line (without its newline) and, if it is a sound next record, adds
    /// it to the chain.
    pub fn push(&mut self, seq: u64, line: &[u8]) -> Result<Record, ChainError> {
        let (hash, record) = parse_line(line).map_err(|error| self.unreadable(seq, error))?;
        self.push_record(seq, &hash, &record)?;
        Ok(record)
    }

    /// The error for journal line `line`, which is not a readable record, standing where the
    /// next record should.
    pub fn unreadable(&self, line: u64, error: LineError) -> ChainError {
        ChainError::Line {
            line,
            expected_seq: self.len + 1,
            error,
        }
    }

    /// Checks that `record`, read from journal line `line` with hash `hash` (already checked
    /// against its bytes), is the sound next record, and if so adds it. Nothing changes when it
    /// is not. Its `data` is not looked at: a record read with [`super::parse_brief`] will do.
    pub fn push_record(
        &mut self,
        line: u64,
        hash: &str,
        record: &Record,
    ) -> Result<(), ChainError> {
        let entry = match &record.entry {
            Entry::Document(doc) => LinkEntry::Document {
                own: (doc.sequence.as_str(), doc.n),
                items: doc
                    .items
                    .iter()
                    .map(|i| (i.sequence.as_str(), i.n))
                    .collect(),
            },
            Entry::Status(event) => LinkEntry::Status {
                target: event.target,
                status: event.status,
            },
        };
        self.push_link(
            line,
            hash,
            &Link {
                seq: record.seq,
                prev: &record.prev,
                entry,
            },
        )
    }

    /// Checks that the record `link` describes, read from journal line `line` with hash `hash`
    /// (already checked against its bytes), is the sound next record, and if so adds it.
    /// Nothing changes when it is not.
    pub fn push_link(&mut self, line: u64, hash: &str, link: &Link<'_>) -> Result<(), ChainError> {
        let expected_seq = self.len + 1;
        if link.seq != expected_seq {
            return Err(ChainError::Seq {
                line,
                expected: expected_seq,
                found: link.seq,
            });
        }
        if link.prev != self.last_hash {
            return Err(ChainError::Prev {
                line,
                seq: link.seq,
            });
        }
        let (own, items) = match &link.entry {
            LinkEntry::Document { own, items } => (own, items),
            LinkEntry::Status { target, status } => {
                self.change_status(line, link.seq, *target, *status)?;
                self.statuses.push(None);
                self.len = link.seq;
                self.set_last_hash(hash);
                return Ok(());
            }
        };
        let gap = |sequence: &str, tail: u64, found: u64| ChainError::Gap {
            line,
            seq: link.seq,
            sequence: sequence.to_string(),
            tail,
            found,
        };
        let tail_of = |tails: &BTreeMap<String, u64>, sequence: &str| {
            tails.get(sequence).copied().unwrap_or(0)
        };
        if items.is_empty() {
            // Nearly every document: one number, checked and taken with nothing to collect.
            let (sequence, n) = *own;
            let tail = tail_of(&self.tails, sequence);
            if n != tail + 1 {
                return Err(gap(sequence, tail, n));
            }
            self.take(sequence, n);
        } else {
            // Check every number before taking any, so a refused record changes nothing.
            let mut taken: Vec<(&str, u64)> = Vec::with_capacity(items.len() + 1);
            for &(sequence, n) in std::iter::once(own).chain(items) {
                let tail = taken
                    .iter()
                    .rev()
                    .find(|(s, _)| *s == sequence)
                    .map(|(_, n)| *n)
                    .unwrap_or_else(|| tail_of(&self.tails, sequence));
                if n != tail + 1 {
                    return Err(gap(sequence, tail, n));
                }
                taken.push((sequence, n));
            }
            for (sequence, n) in taken {
                self.take(sequence, n);
            }
        }
        self.statuses.push(Some(Status::Active));
        self.len = link.seq;
        self.set_last_hash(hash);
        Ok(())
    }

    /// Makes `n` the last position taken in `sequence`.
    fn take(&mut self, sequence: &str, n: u64) {
        match self.tails.get_mut(sequence) {
            Some(tail) => *tail = n,
            None => {
                self.tails.insert(sequence.to_string(), n);
            }
        }
    }

    /// Keeps `hash` as the last record's, in the string already there: one string for a
    /// whole journal, not one per record.
    fn set_last_hash(&mut self, hash: &str) {
        self.last_hash.clear();
        self.last_hash.push_str(hash);
    }

    /// Applies a status event of record `seq` to the document of record `target`.
    fn change_status(
        &mut self,
        line: u64,
        seq: u64,
        target: u64,
        next: Status,
    ) -> Result<(), ChainError> {
        let problem = |problem: String| ChainError::Status { line, seq, problem };
        let held = target
            .checked_sub(self.start + 1)
            .and_then(|i| usize::try_from(i).ok());
        let current = match held {
            Some(i) => self.statuses.get(i).copied(),
            None if target == 0 => None,
            None => match self.earlier.get(&target) {
                Some(known) => Some(*known),
                None => {
                    return Err(problem(format!(
                        "changes the status of record {target}, whose status was not looked up \
                         (a bug in qujat)"
                    )));
                }
            },
        };
        let current = current
            .ok_or_else(|| {
                problem(format!(
                    "changes the status of record {target}, which is not an earlier record"
                ))
            })?
            .ok_or_else(|| {
                problem(format!(
                    "changes the status of record {target}, which is not a document"
                ))
            })?;
        if !current.may_become(next) {
            return Err(problem(format!(
                "makes record {target} {next}, but it is {current} (not allowed)"
            )));
        }
        match held {
            Some(i) => self.statuses[i] = Some(next),
            None => {
                self.earlier.insert(target, Some(next));
            }
        }
        Ok(())
    }

    /// The status in force of the document of record `seq`, if it is a document's record (and
    /// held, or made known).
    pub fn status_of(&self, seq: u64) -> Option<Status> {
        if seq <= self.start {
            return self.earlier.get(&seq).copied().flatten();
        }
        let index = usize::try_from(seq - self.start - 1).ok()?;
        self.statuses.get(index).copied().flatten()
    }

    /// Makes room for `records` more records.
    pub fn reserve(&mut self, records: usize) {
        self.statuses.reserve_exact(records);
    }

    /// How many records the chain holds.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The hash of the last record ([`GENESIS`] when empty).
    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }

    /// The last position used in each number sequence.
    pub fn sequence_tails(&self) -> &BTreeMap<String, u64> {
        &self.tails
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::{Entry, to_line};
    use super::*;
    use crate::registry::{DocumentEntry, ItemNumber};

    /// Lines of a sound chain of `n` sample records, each changed by `edit` (given its `seq`)
    /// before it is hashed and linked.
    fn chain_of(n: u64, mut edit: impl FnMut(u64, &mut DocumentEntry)) -> Vec<String> {
        let mut prev = GENESIS.to_string();
        let mut lines = Vec::new();
        for seq in 1..=n {
            let mut record = super::super::record::tests::sample(seq, &prev);
            let Entry::Document(doc) = &mut record.entry else {
                unreachable!()
            };
            edit(seq, doc);
            let (line, hash) = to_line(&record);
            prev = hash;
            lines.push(line.trim_end().to_string());
        }
        lines
    }

    fn records(n: u64) -> Vec<String> {
        chain_of(n, |seq, doc| {
            // Two sequences interleaved: certificates on odd records, letters on even ones.
            if seq % 2 == 0 {
                doc.sequence = "outgoing".into();
            }
            doc.n = seq.div_ceil(2);
        })
    }

    fn verify(lines: &[String]) -> Result<Chain, ChainError> {
        let mut chain = Chain::default();
        for (i, text) in lines.iter().enumerate() {
            chain.push(i as u64 + 1, text.as_bytes())?;
        }
        Ok(chain)
    }

    #[test]
    fn a_sound_chain_verifies() {
        let chain = verify(&records(6)).unwrap();
        assert_eq!(chain.len(), 6);
        assert_eq!(chain.sequence_tails()["certificate"], 3);
        assert_eq!(chain.sequence_tails()["outgoing"], 3);
    }

    #[test]
    fn an_edited_record_is_named() {
        let mut lines = records(6);
        lines[3] = lines[3].replace("MR-4", "MR-9");
        let err = verify(&lines).unwrap_err();
        assert!(
            matches!(
                err,
                ChainError::Line {
                    line: 4,
                    error: LineError::Hash,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_deleted_record_is_named() {
        let mut lines = records(6);
        lines.remove(2);
        assert_eq!(
            verify(&lines).unwrap_err(),
            ChainError::Seq {
                line: 3,
                expected: 3,
                found: 4
            }
        );
    }

    #[test]
    fn a_swapped_pair_is_named() {
        let mut lines = records(6);
        lines.swap(1, 2);
        assert_eq!(
            verify(&lines).unwrap_err(),
            ChainError::Seq {
                line: 2,
                expected: 2,
                found: 3
            }
        );
    }

    #[test]
    fn a_record_rehashed_after_an_edit_still_breaks_the_link() {
        // Someone edits record 3 and recomputes its own hash: record 4's prev no longer matches.
        let mut lines = records(6);
        let (_, mut record) = parse_line(lines[2].as_bytes()).unwrap();
        let Entry::Document(doc) = &mut record.entry else {
            unreachable!()
        };
        doc.number = "99999-Г".into();
        lines[2] = to_line(&record).0.trim_end().to_string();
        assert_eq!(
            verify(&lines).unwrap_err(),
            ChainError::Prev { line: 4, seq: 4 }
        );
    }

    #[test]
    fn a_gap_in_numbers_is_named() {
        let lines = chain_of(2, |seq, doc| doc.n = [1, 3][seq as usize - 1]);
        assert!(matches!(
            verify(&lines).unwrap_err(),
            ChainError::Gap {
                line: 2,
                tail: 1,
                found: 3,
                ..
            }
        ));
    }

    /// Records whose items take `items[i]` numbers each from sequence `deposit`, starting at
    /// the given positions.
    fn with_items(starts: &[(u64, u64)]) -> Vec<String> {
        chain_of(starts.len() as u64, |seq, doc| {
            let (first, count) = starts[seq as usize - 1];
            doc.items = (first..first + count)
                .map(|n| ItemNumber {
                    sequence: "deposit".into(),
                    n,
                    number: format!("2026-Д-{n:06}"),
                })
                .collect();
        })
    }

    #[test]
    fn item_numbers_are_gapless_in_their_own_sequence() {
        let chain = verify(&with_items(&[(1, 3), (4, 1), (5, 2)])).unwrap();
        assert_eq!(chain.sequence_tails()["deposit"], 6);
        assert_eq!(chain.sequence_tails()["certificate"], 3);
        assert!(matches!(
            verify(&with_items(&[(1, 3), (5, 1)])).unwrap_err(),
            ChainError::Gap { line: 2, tail: 3, found: 5, ref sequence, .. } if sequence == "deposit"
        ));
        // Items inside one record must be consecutive too.
        let mut lines = with_items(&[(1, 2)]);
        lines[0] = {
            let (_, mut record) = parse_line(lines[0].as_bytes()).unwrap();
            let Entry::Document(doc) = &mut record.entry else {
                unreachable!()
            };
            doc.items[1].n = 3;
            to_line(&record).0.trim_end().to_string()
        };
        assert!(matches!(
            verify(&lines).unwrap_err(),
            ChainError::Gap {
                line: 1,
                tail: 1,
                found: 3,
                ..
            }
        ));
    }

    /// `lines` followed by status events `(target, status)`, each linked to the one before.
    fn with_events(mut lines: Vec<String>, events: &[(u64, Status)]) -> Vec<String> {
        use super::super::record::{Record, StatusEntry};
        for &(target, status) in events {
            let (prev, record) = parse_line(lines.last().unwrap().as_bytes()).unwrap();
            let event = Record {
                seq: record.seq + 1,
                prev,
                entry: Entry::Status(StatusEntry {
                    target,
                    number: format!("{target:05}-Г"),
                    status,
                    date: "2026-11-24".parse().unwrap(),
                    reason: "order No. 7".into(),
                    by: None,
                }),
            };
            lines.push(to_line(&event).0.trim_end().to_string());
        }
        lines
    }

    #[test]
    fn status_events_change_earlier_documents_in_allowed_ways() {
        let lines = with_events(
            records(4),
            &[
                (1, Status::Suspended),
                (1, Status::Active),
                (2, Status::Superseded),
                (3, Status::Revoked),
            ],
        );
        let chain = verify(&lines).unwrap();
        assert_eq!(chain.len(), 8);
        assert_eq!(chain.status_of(1), Some(Status::Active));
        assert_eq!(chain.status_of(2), Some(Status::Superseded));
        assert_eq!(chain.status_of(3), Some(Status::Revoked));
        assert_eq!(chain.status_of(4), Some(Status::Active));
        assert_eq!(chain.status_of(5), None, "a status event has no status");
        // Status events take no numbers.
        assert_eq!(chain.sequence_tails()["certificate"], 2);
    }

    #[test]
    fn a_status_event_that_is_not_allowed_is_named() {
        for (events, needle) in [
            (
                vec![(3, Status::Revoked), (3, Status::Active)],
                "it is revoked",
            ),
            (
                vec![(2, Status::Superseded), (2, Status::Suspended)],
                "it is superseded",
            ),
            (vec![(1, Status::Active)], "it is active"),
            (vec![(9, Status::Revoked)], "not an earlier record"),
            (
                vec![(1, Status::Revoked), (5, Status::Revoked)],
                "not a document",
            ),
        ] {
            let lines = with_events(records(4), &events);
            let err = verify(&lines).unwrap_err();
            let line = 4 + events.len() as u64;
            assert!(
                matches!(&err, ChainError::Status { line: l, .. } if *l == line),
                "{events:?}: {err}"
            );
            assert!(err.to_string().contains(needle), "{events:?}: {err}");
        }
    }
}
