//! Numbering: where a document's number is chosen, how it is written, and how every counter stays
//! gapless when a document cannot be issued.
//!
//! - **Chosen** in planning, in order (cases sorted by decision date, then case id): each document
//!   takes the next position of its counter after the registry's tail ([`Counters`]); a document
//!   listing items (deposited objects) also takes one position per item in the items' counter.
//! - **Written** by the sequence's format from the catalogue ([`NumberFormat`], [`number`]): the
//!   position, the issue year, the code of a choice.
//! - **Kept gapless** at commit ([`Gapless`]): when a planned document cannot be rendered, its
//!   positions are given back and every later document of the same counters moves down by as
//!   many — and is typeset again with its new number, since the number is printed on it.

mod format;

use std::collections::{BTreeMap, HashMap};

pub use format::{FormatError, NumberFormat};

use crate::catalogue::Catalogue;
use crate::registry::ItemNumber;

/// The number of position `n` of sequence `sequence` of registry `registry`, for a document
/// issued in `year` with choice code `code`.
pub fn number(
    catalogue: &Catalogue,
    registry: &str,
    sequence: &str,
    n: u64,
    year: i32,
    code: &str,
) -> String {
    catalogue.registries[registry].sequences[sequence]
        .format
        .format(n, year, code)
}

/// The numbers of items listed from position `first` on of their sequence.
pub fn items(
    catalogue: &Catalogue,
    registry: &str,
    items: &mut [ItemNumber],
    first: u64,
    year: i32,
) {
    for (i, item) in items.iter_mut().enumerate() {
        item.n = first + i as u64;
        item.number = number(catalogue, registry, &item.sequence, item.n, year, "");
    }
}

/// The last position taken in every counter of the registries a batch writes: what the next
/// document of each takes from.
#[derive(Debug, Default)]
pub struct Counters {
    tails: BTreeMap<(String, String), u64>,
}

impl Counters {
    /// Counters at the registries' tails: `(registry, counter) → last position taken`.
    pub fn at(tails: impl IntoIterator<Item = ((String, String), u64)>) -> Counters {
        Counters {
            tails: tails.into_iter().collect(),
        }
    }

    /// Takes `count` positions of `counter` in `registry`; returns the first.
    pub fn take(&mut self, registry: &str, counter: &str, count: u64) -> u64 {
        let tail = self
            .tails
            .entry((registry.to_string(), counter.to_string()))
            .or_insert(0);
        let first = *tail + 1;
        *tail += count;
        first
    }
}

/// How many positions of each counter were given back by documents that could not be issued:
/// every later document of those counters moves down by as many.
#[derive(Debug, Default)]
pub struct Gapless {
    given_back: HashMap<(String, String), u64>,
}

impl Gapless {
    /// The positions of `takes` (counter, how many) in `registry` were not used.
    pub fn give_back(&mut self, registry: &str, takes: Vec<(String, u64)>) {
        for (counter, count) in takes {
            *self
                .given_back
                .entry((registry.to_string(), counter))
                .or_default() += count;
        }
    }

    /// How far a document of `counter` in `registry` moves down.
    pub fn shift(&self, registry: &str, counter: &str) -> u64 {
        self.given_back
            .get(&(registry.to_string(), counter.to_string()))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_go_on_from_the_tails_and_apart_per_registry_and_counter() {
        let mut counters = Counters::at([(("media".into(), "certificate".into()), 16)]);
        assert_eq!(counters.take("media", "certificate", 1), 17);
        assert_eq!(counters.take("media", "certificate", 1), 18);
        assert_eq!(counters.take("media", "outgoing", 1), 1);
        assert_eq!(counters.take("software", "deposit", 3), 1);
        assert_eq!(counters.take("software", "deposit", 2), 4);
    }

    #[test]
    fn given_back_positions_move_later_documents_down() {
        let mut gapless = Gapless::default();
        assert_eq!(gapless.shift("media", "certificate"), 0);
        gapless.give_back("media", vec![("certificate".into(), 1)]);
        gapless.give_back(
            "software",
            vec![("reference".into(), 1), ("deposit".into(), 3)],
        );
        gapless.give_back("media", vec![("certificate".into(), 1)]);
        assert_eq!(gapless.shift("media", "certificate"), 2);
        assert_eq!(gapless.shift("software", "deposit"), 3);
        assert_eq!(gapless.shift("media", "outgoing"), 0);
    }
}
