//! Field rules as data: each field of a case is named by its dotted path (`applicant.bin`) and
//! has a type, whether it is required, and when it applies.

use std::collections::BTreeMap;

use anyhow::{Result, bail, ensure};
use serde::Deserialize;

use super::{Bilingual, Choice};

/// The type of a field's value, which decides how it is read, checked and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    /// A text shown as given in both languages (a proper name, a title, a number).
    Text,
    /// A text given in Kazakh and Russian (or once, for both).
    Bilingual,
    /// One value from a choice set.
    Choice,
    /// One or more distinct values from a choice set.
    Choices,
    /// A calendar date, never after the run date.
    Date,
    /// An individual identification number with a valid check digit.
    Iin,
    /// A business identification number with a valid check digit.
    Bin,
    /// A whole number.
    Integer,
    /// A sum of money in whole tenge.
    Money,
    /// A list of items, each with its own fields.
    List,
    /// A position of the signing authority in force on the decision date.
    Position,
    /// The decision: one of the outcomes on which the service issues a document.
    Outcome,
}

/// The condition under which a field applies: another field's value is one of a set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    pub field: String,
    #[serde(rename = "in")]
    pub one_of: Vec<String>,
}

/// The rules of one field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Must be present and non-empty whenever the field applies.
    #[serde(default)]
    pub required: bool,
    /// A field whose presence makes this required one optional: a refusal's own words
    /// (`decision.reasons`) may be left out when it names its grounds (`refusal.grounds`).
    #[serde(default)]
    pub unless: Option<String>,
    /// The field applies only when this holds; otherwise it must be absent.
    #[serde(default)]
    pub when: Option<When>,
    /// The choice set of a `choice` or `choices` field.
    #[serde(default)]
    pub set: Option<String>,
    /// Longest text allowed, in characters (per language for bilingual texts).
    #[serde(default)]
    pub max_len: Option<usize>,
    /// Whether the text may hold line breaks.
    #[serde(default)]
    pub multiline: bool,
    /// For a date (an integer): the path of a date (an integer) field this one may not precede
    /// (be less than).
    #[serde(default)]
    pub not_before: Option<String>,
    /// Bounds of an integer, or of a list's length.
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// The fields of each item of a list whose items are records.
    #[serde(default)]
    pub fields: Option<Fields>,
    /// The rules of each item of a list whose items are single values.
    #[serde(default)]
    pub item: Option<Box<FieldSpec>>,
    /// How documents and error messages name the field.
    #[serde(default)]
    pub label: Option<Bilingual>,
}

/// The default longest text, in characters: a long address or reason fits, a pasted file does not.
pub const DEFAULT_MAX_LEN: usize = 2000;

impl FieldSpec {
    pub fn max_len(&self) -> usize {
        self.max_len.unwrap_or(DEFAULT_MAX_LEN)
    }
}

/// The fields of a case (or of a list item), by dotted path.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Fields(BTreeMap<String, FieldSpec>);

impl Fields {
    pub fn get(&self, path: &str) -> Option<&FieldSpec> {
        self.0.get(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldSpec)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Whether `path` names a group of fields here (`applicant` for `applicant.bin`).
    pub fn is_prefix_of(&self, path: &str) -> bool {
        self.0.keys().any(|k| {
            k.len() > path.len() && k.starts_with(path) && k.as_bytes()[path.len()] == b'.'
        })
    }

    /// Checks the rules refer to things that exist. `common` holds the fields every case has,
    /// which a service's `when` and `not_before` may refer to.
    pub(super) fn check(
        &self,
        common: &Fields,
        sets: &BTreeMap<String, BTreeMap<String, Choice>>,
    ) -> Result<()> {
        let lookup = |path: &str| self.get(path).or_else(|| common.get(path));
        for (path, spec) in self.iter() {
            ensure!(
                !path.is_empty()
                    && path.split('.').all(|s| {
                        !s.is_empty()
                            && s.bytes()
                                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
                            && !s.bytes().all(|b| b.is_ascii_digit())
                    }),
                "field path {path:?} must be dotted lower-case words (a-z, 0-9, _)"
            );
            ensure!(
                !matches!(path.rsplit('.').next(), Some("kk" | "ru")),
                "field path {path:?} may not end in a language code"
            );
            ensure!(
                !self.is_prefix_of(path),
                "field {path:?} is also a group of other fields"
            );
            let has_set = matches!(spec.kind, FieldType::Choice | FieldType::Choices);
            match (&spec.set, has_set) {
                (Some(set), true) => ensure!(
                    sets.contains_key(set),
                    "field {path:?}: choice set {set:?} is not defined"
                ),
                (None, true) => bail!("field {path:?}: a choice needs a `set`"),
                (Some(_), false) => bail!("field {path:?}: only choices have a `set`"),
                (None, false) => {}
            }
            match (&spec.fields, &spec.item, spec.kind) {
                (Some(items), None, FieldType::List) => items.check(&Fields::default(), sets)?,
                (None, Some(item), FieldType::List) => {
                    ensure!(
                        !matches!(item.kind, FieldType::List) && item.when.is_none(),
                        "field {path:?}: a list's `item` must be a single value"
                    );
                    let mut single = BTreeMap::new();
                    single.insert("item".to_string(), (**item).clone());
                    Fields(single).check(&Fields::default(), sets)?;
                }
                (_, _, FieldType::List) => {
                    bail!("field {path:?}: a list needs either item `fields` or an `item`")
                }
                (None, None, _) => {}
                _ => bail!("field {path:?}: only lists have `fields` or `item`"),
            }
            if let Some(when) = &spec.when {
                let Some(target) = lookup(&when.field) else {
                    bail!(
                        "field {path:?}: `when` refers to unknown field {:?}",
                        when.field
                    );
                };
                ensure!(
                    matches!(target.kind, FieldType::Choice | FieldType::Outcome),
                    "field {path:?}: `when` must test a choice or the outcome"
                );
                if let Some(set) = &target.set {
                    for value in &when.one_of {
                        ensure!(
                            sets[set].contains_key(value),
                            "field {path:?}: `when` tests for {value:?}, which set {set:?} lacks"
                        );
                    }
                }
            }
            if let Some(other) = &spec.not_before {
                ensure!(
                    matches!(spec.kind, FieldType::Date | FieldType::Integer),
                    "field {path:?}: only dates and integers have `not_before`"
                );
                ensure!(
                    lookup(other).is_some_and(|f| f.kind == spec.kind),
                    "field {path:?}: `not_before` must name a field of the same type, not {other:?}"
                );
            }
            ensure!(
                spec.unless.is_none() || spec.required,
                "field {path:?}: `unless` makes sense only for a required field"
            );
            if let (Some(min), Some(max)) = (spec.min, spec.max) {
                ensure!(min <= max, "field {path:?}: min is above max");
            }
        }
        Ok(())
    }
}
