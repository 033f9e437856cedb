//! Issuing authorities and their signing positions, with the periods their names were in force.
//!
//! Ministries and committees are renamed by decree; a document shows the name in force on its
//! issue date, so every name an authority ever had is kept with the date it took effect.

use std::collections::BTreeMap;

use anyhow::{Result, ensure};
use serde::Deserialize;

use super::Bilingual;
use crate::date::Date;

/// One authority's name, seat and positions from a date until the next period begins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorityPeriod {
    /// The first day this name was in force.
    pub from: Date,
    pub name: Bilingual,
    /// The city that appears on documents ("Астана қаласы" / "город Астана").
    pub city: Bilingual,
    /// The decree or order that gave this name, for the record.
    #[serde(default)]
    pub basis: Option<String>,
    /// Where the basis and the name can be read, when not in the basis itself.
    #[serde(default)]
    pub source: Option<String>,
    /// What of this period is still to be checked against an official text.
    #[serde(default)]
    pub unverified: Option<String>,
    /// The postal address on its letterhead.
    #[serde(default)]
    pub address: Option<Bilingual>,
    /// The telephone and e-mail on its letterhead.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Its name after "certified by" (field 7 of an apostille): Russian puts it in the
    /// instrumental case ("Кем: Комитетом …").
    #[serde(default)]
    pub by: Option<Bilingual>,
    /// Signing positions by code.
    pub positions: BTreeMap<String, Bilingual>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuthorityFile {
    periods: Vec<AuthorityPeriod>,
}

/// All authorities by code, each with its periods in date order.
#[derive(Debug)]
pub struct Authorities(BTreeMap<String, Vec<AuthorityPeriod>>);

impl Authorities {
    pub(super) fn from_file(file: BTreeMap<String, AuthorityFile>) -> Result<Authorities> {
        let mut all = BTreeMap::new();
        for (code, authority) in file {
            let periods = authority.periods;
            ensure!(!periods.is_empty(), "authority {code:?} has no periods");
            for pair in periods.windows(2) {
                ensure!(
                    pair[0].from < pair[1].from,
                    "authority {code:?}: periods must be in date order ({} then {})",
                    pair[0].from,
                    pair[1].from
                );
            }
            for period in &periods {
                ensure!(
                    !period.positions.is_empty(),
                    "authority {code:?} from {} has no signing positions",
                    period.from
                );
            }
            all.insert(code, periods);
        }
        Ok(Authorities(all))
    }

    pub fn contains(&self, code: &str) -> bool {
        self.0.contains_key(code)
    }

    /// The name and positions of authority `code` in force on `date`, if it existed then.
    pub fn in_force(&self, code: &str, date: Date) -> Option<&AuthorityPeriod> {
        self.0.get(code)?.iter().rev().find(|p| p.from <= date)
    }

    /// Every period of authority `code`, oldest first.
    pub fn periods(&self, code: &str) -> &[AuthorityPeriod] {
        self.0.get(code).map(Vec::as_slice).unwrap_or_default()
    }
}
