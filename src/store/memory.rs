//! A store in memory: registries that live as long as the value. For tests, and as the plainest
//! statement of what a driver must do (it passes the same [`super::conformance`] suite as the
//! others).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{
    Appended, Appender, Block, Hash, Head, Indexed, Indexing, Kind, Listed, Log, Lookup, Node,
    Recovered, ScanEnd, Store, Stored, What, valid_code,
};

/// Registries in memory. Clones share them.
#[derive(Clone, Default)]
pub struct Memory {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    unlocked: Condvar,
}

#[derive(Default)]
struct State {
    registries: BTreeMap<String, Registry>,
    kept: HashMap<(Kind, String), Vec<u8>>,
    /// Which appender holds each registry's lock.
    locks: HashMap<String, u64>,
    next_holder: u64,
}

#[derive(Default, Clone)]
struct Registry {
    lines: Vec<Vec<u8>>,
    /// The facts of records `1..=facts.len()`: the index.
    facts: Vec<super::Facts>,
    torn: Vec<u8>,
    head: Option<Head>,
    checkpoints: Vec<Vec<u8>>,
    checkpoints_seen: u64,
    nodes: HashMap<(u32, u64), Hash>,
    /// Torn bytes cut off, kept.
    quarantined: Vec<Vec<u8>>,
}

impl Memory {
    pub fn new() -> Memory {
        Memory::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .expect("no panic while holding the store")
    }

    /// Leaves `bytes` at the end of registry `code` as an incomplete record, as a crash in the
    /// middle of an append would (for tests).
    pub fn tear(&self, code: &str, bytes: &[u8]) {
        let mut state = self.state();
        let registry = state.registries.entry(code.to_string()).or_default();
        registry.torn = bytes.to_vec();
    }

    /// Replaces the line of record `seq` of registry `code` (for tamper tests).
    pub fn overwrite(&self, code: &str, seq: u64, line: &[u8]) {
        let mut state = self.state();
        let registry = state.registries.get_mut(code).expect("a registry");
        registry.lines[(seq - 1) as usize] = line.to_vec();
    }
}

impl Store for Memory {
    fn describe(&self) -> String {
        "registries in memory".to_string()
    }

    fn registries(&self) -> Result<Vec<Listed>> {
        Ok(self
            .state()
            .registries
            .keys()
            .map(|code| Listed {
                code: code.clone(),
                problem: None,
            })
            .collect())
    }

    fn log(&self, code: &str) -> Result<Option<Box<dyn Log>>> {
        if !self.state().registries.contains_key(code) {
            return Ok(None);
        }
        Ok(Some(Box::new(MemoryLog {
            store: self.clone(),
            code: code.to_string(),
        })))
    }

    fn appender(&self, code: &str, wait: Duration) -> Result<Box<dyn Appender>> {
        if !valid_code(code) {
            bail!("{code:?} cannot name a registry (letters, digits and '-' only)");
        }
        let started = Instant::now();
        let mut state = self.state();
        while state.locks.contains_key(code) {
            let left = wait.saturating_sub(started.elapsed());
            if left.is_zero() {
                bail!(
                    "registry {code} is being written by another writer (in this process); wait \
                     for it to finish, or pass --wait SECONDS"
                );
            }
            state = self
                .shared
                .unlocked
                .wait_timeout(state, left)
                .expect("no panic while holding the store")
                .0;
        }
        state.next_holder += 1;
        let holder = state.next_holder;
        state.locks.insert(code.to_string(), holder);
        state.registries.entry(code.to_string()).or_default();
        drop(state);
        Ok(Box::new(MemoryAppender {
            log: MemoryLog {
                store: self.clone(),
                code: code.to_string(),
            },
        }))
    }

    fn keep(&self, kind: Kind, bytes: &[u8]) -> Result<String> {
        let hash = crate::registry::sha256_hex(bytes);
        self.state()
            .kept
            .entry((kind, hash.clone()))
            .or_insert_with(|| bytes.to_vec());
        Ok(hash)
    }

    fn kept(&self, kind: Kind, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.state().kept.get(&(kind, hash.to_string())).cloned())
    }

    fn kept_hashes(&self, kind: Kind) -> Result<Vec<String>> {
        let mut hashes: Vec<String> = self
            .state()
            .kept
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, hash)| hash.clone())
            .collect();
        hashes.sort();
        Ok(hashes)
    }
}

struct MemoryLog {
    store: Memory,
    code: String,
}

impl MemoryLog {
    fn with<T>(&self, f: impl FnOnce(&Registry) -> T) -> T {
        let state = self.store.state();
        f(&state.registries[&self.code])
    }

    fn with_mut<T>(&self, f: impl FnOnce(&mut Registry) -> T) -> T {
        let mut state = self.store.state();
        f(state
            .registries
            .get_mut(&self.code)
            .expect("an appender's registry exists"))
    }
}

impl Log for MemoryLog {
    fn code(&self) -> &str {
        &self.code
    }

    fn describe(&self) -> String {
        format!("registry {} (in memory)", self.code)
    }

    fn scan(
        &self,
        from: u64,
        each: &mut (dyn FnMut(Block<'_>) -> Result<()> + Send),
    ) -> Result<ScanEnd> {
        // A snapshot: what a writer appends meanwhile is not seen.
        let (lines, torn) = self.with(|r| (r.lines.clone(), r.torn.len() as u64));
        let from = from.max(1);
        let mut first = from;
        for chunk in lines
            .get((from - 1) as usize..)
            .unwrap_or_default()
            .chunks(256)
        {
            let mut text = Vec::new();
            for line in chunk {
                text.extend_from_slice(line);
                text.push(b'\n');
            }
            each(Block { first, text: &text })?;
            first += chunk.len() as u64;
        }
        Ok(ScanEnd {
            last: lines.len() as u64,
            torn,
        })
    }

    fn read(&self, seqs: &[u64]) -> Result<Vec<Stored>> {
        Ok(self.with(|r| {
            seqs.iter()
                .filter_map(|&seq| {
                    let line = r.lines.get(seq.checked_sub(1)? as usize)?;
                    Some(Stored {
                        seq,
                        line: line.clone(),
                    })
                })
                .collect()
        }))
    }

    fn find(&self, lookup: &Lookup<'_>) -> Result<Vec<u64>> {
        self.with(|r| {
            let mut found: Vec<u64> = r
                .facts
                .iter()
                .enumerate()
                .filter(|(_, facts)| lookup.matches(facts))
                .map(|(i, _)| i as u64 + 1)
                .collect();
            // Records beyond the index: their facts are read from the records themselves.
            for (i, line) in r.lines.iter().enumerate().skip(r.facts.len()) {
                if let Ok(facts) = crate::registry::facts_of_line(line)
                    && lookup.matches(&facts)
                {
                    found.push(i as u64 + 1);
                }
            }
            Ok(found)
        })
    }

    fn head(&self) -> Result<Option<Head>> {
        Ok(self.with(|r| r.head.clone()))
    }

    fn checkpoints(&self) -> Result<Vec<Vec<u8>>> {
        Ok(self.with(|r| r.checkpoints.clone()))
    }

    fn indexed(&self) -> Result<Indexed> {
        Ok(self.with(|r| Indexed {
            size: r.facts.len() as u64,
            last: r.facts.last().map(|f| f.hash),
            checkpoints: r.checkpoints_seen,
            disagrees: None,
        }))
    }

    fn tails(&self) -> Result<Vec<(String, u64)>> {
        Ok(self.with(|r| {
            let mut tails: BTreeMap<String, u64> = BTreeMap::new();
            for facts in &r.facts {
                if let What::Document { counters, .. } = &facts.what {
                    for (counter, n) in counters {
                        let tail = tails.entry(counter.clone()).or_default();
                        *tail = (*tail).max(*n);
                    }
                }
            }
            tails.into_iter().collect()
        }))
    }

    fn hashes(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        Ok(self.with(|r| {
            (from.max(1)..=to)
                .filter_map(|seq| r.facts.get((seq - 1) as usize).map(|f| f.hash))
                .collect()
        }))
    }

    fn node(&self, level: u32, index: u64) -> Result<Option<Hash>> {
        Ok(self.with(|r| r.nodes.get(&(level, index)).copied()))
    }
}

struct MemoryAppender {
    log: MemoryLog,
}

impl Drop for MemoryAppender {
    fn drop(&mut self) {
        let mut state = self.log.store.state();
        state.locks.remove(&self.log.code);
        drop(state);
        self.log.store.shared.unlocked.notify_all();
    }
}

log_through_field!(MemoryAppender);

impl Appender for MemoryAppender {
    fn torn(&self) -> Result<Vec<u8>> {
        Ok(self.log.with(|r| r.torn.clone()))
    }

    fn recover(&mut self, complete: bool) -> Result<Option<Recovered>> {
        Ok(self.log.with_mut(|r| {
            if r.torn.is_empty() {
                return None;
            }
            let torn = std::mem::take(&mut r.torn);
            if complete {
                r.lines.push(torn);
                return Some(Recovered::Completed);
            }
            r.quarantined.push(torn);
            Some(Recovered::Cut {
                whole: r.lines.iter().map(|l| l.len() as u64 + 1).sum(),
                kept: format!("kept in memory as piece {}", r.quarantined.len()),
            })
        }))
    }

    fn append(&mut self, records: &[Appended], nodes: &[Node]) -> Result<()> {
        self.log.with_mut(|r| {
            if !r.torn.is_empty() {
                bail!(
                    "registry {}: recover its incomplete record first",
                    self.log.code
                );
            }
            for (i, record) in records.iter().enumerate() {
                let expected = r.lines.len() as u64 + 1 + i as u64;
                if record.seq != expected {
                    bail!("record {} appended where {expected} goes", record.seq);
                }
            }
            r.lines.extend(records.iter().map(|a| a.line.clone()));
            Ok(())
        })?;
        let indexing: Vec<Indexing> = records
            .iter()
            .map(|a| Indexing {
                seq: a.seq,
                len: a.line.len() as u64,
                facts: a.facts.clone(),
            })
            .collect();
        self.index(&indexing, nodes)
    }

    fn index(&self, records: &[Indexing], nodes: &[Node]) -> Result<()> {
        self.log.with_mut(|r| {
            for record in records {
                let expected = r.facts.len() as u64 + 1;
                if record.seq != expected || record.seq > r.lines.len() as u64 {
                    bail!("record {} indexed where {expected} goes", record.seq);
                }
                r.facts.push(record.facts.clone());
            }
            for node in nodes {
                r.nodes.insert((node.level, node.index), node.hash);
            }
            Ok(())
        })
    }

    fn reset_index(&mut self) -> Result<()> {
        self.log.with_mut(|r| {
            r.facts.clear();
            r.nodes.clear();
            r.checkpoints_seen = 0;
        });
        Ok(())
    }

    fn set_checkpoints_seen(&mut self, count: u64) -> Result<()> {
        self.log.with_mut(|r| r.checkpoints_seen = count);
        Ok(())
    }

    fn write_head(&mut self, head: &Head) -> Result<()> {
        self.log.with_mut(|r| r.head = Some(head.clone()));
        Ok(())
    }

    fn append_checkpoint(&mut self, text: &[u8]) -> Result<()> {
        self.log.with_mut(|r| r.checkpoints.push(text.to_vec()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_driver_passes_the_conformance_suite() {
        let tear = |store: &dyn Store, code: &str, bytes: &[u8]| {
            // The suite hands back the store it made: a `Memory`.
            let memory = MEMORY.with(|m| m.borrow().clone()).expect("made here");
            let _ = store;
            memory.tear(code, bytes);
        };
        let make = || -> Box<dyn Store> {
            let memory = Memory::new();
            MEMORY.with(|m| *m.borrow_mut() = Some(memory.clone()));
            Box::new(memory)
        };
        super::super::conformance::run(&super::super::conformance::Driver {
            make: &make,
            tear: Some(&tear),
        })
        .unwrap();
    }

    thread_local! {
        static MEMORY: std::cell::RefCell<Option<Memory>> = const { std::cell::RefCell::new(None) };
    }
}
