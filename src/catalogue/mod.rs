//! The service catalogue: services, their documents, registries, number formats, field rules and
//! issuing authorities, read from `catalogue/*.toml` at start-up and checked before any case is
//! read. Everything that changes by decree lives there, not in code.

mod authority;
mod calendar;
mod deadline;
mod mci;
mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};

pub use authority::{Authorities, AuthorityPeriod};
pub use calendar::{Calendar, Count, Deadline};
pub use deadline::{DeadlineRule, Deadlines};
pub use mci::{Mci, money_view, tenge_text};
pub use schema::{FieldSpec, FieldType, Fields, When};

use crate::numbering::NumberFormat;
use crate::shipped::Files;

/// A text in both languages of a document: Kazakh first, Russian second.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    pub kk: String,
    pub ru: String,
}

/// One allowed value of a choice field, with how documents name it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub kk: String,
    pub ru: String,
    /// A short code that number formats can include (`{code}`), e.g. `Г` for a newspaper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The authority this value stands for, for a service whose provider depends on a field
    /// (the local executive body of a region).
    #[serde(default, skip_serializing)]
    pub authority: Option<String>,
    /// The legal norm a value rests on, as documents cite it: a ground for refusal's point of
    /// the regulations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub norm: Option<Bilingual>,
}

/// The outcome of a refusal: every service issues a reasoned refusal on it.
pub const REFUSED: &str = "refused";

/// The field that names a refusal's grounds by code: a choice set of the service whose values
/// each cite their norm.
pub const GROUNDS: &str = "refusal.grounds";

/// A registry: one append-only journal, holding one or more gapless number sequences.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    #[serde(skip)]
    pub code: String,
    pub name: Bilingual,
    pub sequences: BTreeMap<String, Sequence>,
}

/// A gapless number sequence within a registry and how its numbers are written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sequence {
    pub format: NumberFormat,
    /// The choice field whose value's `code` fills `{code}` in the format.
    #[serde(default)]
    pub code_field: Option<String>,
    /// Whether each code has its own counter (each region numbers its own documents).
    #[serde(default)]
    pub per_code: bool,
}

impl Sequence {
    /// The name of the counter a document with `code` takes its number from: the sequence's
    /// own name, or `<sequence>-<code>` for a sequence counted per code.
    pub fn counter(&self, sequence: &str, code: &str) -> String {
        if self.per_code {
            format!("{sequence}-{code}")
        } else {
            sequence.to_string()
        }
    }
}

/// Numbers for the items of a list field: each item takes the next number of a sequence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Items {
    /// The path of a list field of the service.
    pub list: String,
    /// A sequence of the document's registry.
    pub sequence: String,
}

/// A state duty a service charges, in monthly calculation indices: a whole number (5 MCI for
/// registering a periodical) or a share of one (0.5 MCI for an apostille), kept in hundredths
/// so that sums stay exact.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "DutyFile")]
pub struct Duty {
    hundredths: i64,
    /// The outcomes on which the payment must have been made, when not on every one (its
    /// fields are then optional otherwise: a refusal for not paying has none).
    pub on: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DutyFile {
    mci: f64,
    #[serde(default)]
    on: Option<Vec<String>>,
}

impl TryFrom<DutyFile> for Duty {
    type Error = anyhow::Error;

    fn try_from(file: DutyFile) -> Result<Duty> {
        let hundredths = (file.mci * 100.0).round();
        ensure!(
            hundredths > 0.0 && hundredths < 1e9 && (file.mci * 100.0 - hundredths).abs() < 1e-6,
            "the duty must be a positive number of MCI with at most two decimals, not {}",
            file.mci
        );
        Ok(Duty {
            hundredths: hundredths as i64,
            on: file.on,
        })
    }
}

impl Duty {
    /// The duty in tenge at an MCI of `rate` tenge, rounded to the whole tenge (half a tenge
    /// up), as the Tax Code has sums of tax paid in whole tenge.
    pub fn amount(&self, rate: i64) -> i64 {
        (self.hundredths * rate + 50).div_euclid(100)
    }

    /// The number of MCI when it is whole.
    pub fn whole(&self) -> Option<i64> {
        (self.hundredths % 100 == 0).then_some(self.hundredths / 100)
    }

    /// The number of MCI as documents write it: `5`, `0,5`, `1,25`.
    /// The duty in monthly calculation indices.
    pub fn mci(&self) -> f64 {
        self.hundredths as f64 / 100.0
    }

    pub fn mci_text(&self) -> String {
        let (whole, cents) = (self.hundredths / 100, self.hundredths % 100);
        match cents {
            0 => whole.to_string(),
            c if c % 10 == 0 => format!("{whole},{}", c / 10),
            c => format!("{whole},{c:02}"),
        }
    }
}

/// A document a service can end in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSpec {
    #[serde(skip)]
    pub kind: String,
    /// The decision outcome that produces this document (`approved`, `refused`, or an outcome of
    /// the service's own such as `nonconformities`).
    pub on: String,
    pub title: Bilingual,
    /// Path of the main template file, relative to the templates folder.
    pub template: String,
    pub registry: String,
    pub sequence: String,
    /// Numbers for each item of a list, besides the document's own.
    #[serde(default)]
    pub items: Option<Items>,
    /// A field whose value may have this document at most once (a decision allowed once per
    /// application).
    #[serde(default)]
    pub once_per: Option<String>,
    /// A field naming an earlier document of the same kind and registry that this one replaces
    /// (a re-registration's previous certificate): when this one is issued, that one is
    /// marked superseded.
    #[serde(default)]
    pub supersedes: Option<String>,
}

/// A state service and the rules its cases follow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    #[serde(skip)]
    pub code: String,
    pub name: Bilingual,
    pub legal_basis: Bilingual,
    /// The authority (see `authorities.toml`) that provides the service and signs its documents.
    #[serde(default)]
    pub provider: Option<String>,
    /// Or: a choice field whose value names the authority (the region's executive body).
    #[serde(default)]
    pub provider_field: Option<String>,
    /// The statutory terms by the date they took effect, each counted from the application
    /// date.
    pub deadlines: Deadlines,
    #[serde(default)]
    pub duty: Option<Duty>,
    /// The field that names what an application is about (a title, a system's name), which
    /// letters such as a refusal cite.
    #[serde(default)]
    pub subject: Option<String>,
    /// How a decision of this service other than an approval is appealed, when it differs
    /// from the catalogue's common wording.
    #[serde(default)]
    pub appeal: Option<Bilingual>,
    pub fields: Fields,
    pub documents: BTreeMap<String, DocumentSpec>,
    /// The catalogue file it was read from.
    #[serde(skip)]
    pub file: PathBuf,
}

impl Service {
    /// The documents a decision with this outcome produces, in a fixed order.
    pub fn documents_on<'a>(&'a self, outcome: &'a str) -> impl Iterator<Item = &'a DocumentSpec> {
        self.documents.values().filter(move |d| d.on == outcome)
    }

    /// The outcomes a decision of this service can have.
    pub fn outcomes(&self) -> BTreeSet<&str> {
        self.documents.values().map(|d| d.on.as_str()).collect()
    }
}

/// One file of the catalogue: `common.toml` or a file of `services/`. Each may define choice
/// sets, registries and services; only `common.toml` has the common fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesFile {
    #[serde(default)]
    common: Option<CommonFile>,
    #[serde(default)]
    choice_sets: BTreeMap<String, BTreeMap<String, Choice>>,
    #[serde(default)]
    registries: BTreeMap<String, Registry>,
    #[serde(default)]
    services: BTreeMap<String, Service>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonFile {
    fields: Fields,
    appeal: Bilingual,
}

/// The whole catalogue, checked for internal consistency.
#[derive(Debug)]
pub struct Catalogue {
    /// Fields every case has, whatever its service (identity, applicant, decision).
    pub common: Fields,
    /// How a decision other than an approval is appealed: where and within what time.
    pub appeal: Bilingual,
    pub choice_sets: BTreeMap<String, BTreeMap<String, Choice>>,
    pub registries: BTreeMap<String, Registry>,
    pub services: BTreeMap<String, Service>,
    pub authorities: Authorities,
    pub mci: Mci,
    pub calendar: Calendar,
    /// The folder it was read from.
    pub dir: PathBuf,
}

/// Reads and parses one TOML file of the catalogue, naming it in any error.
fn read_toml<T: for<'de> Deserialize<'de>>(files: &Files, relative: &str) -> Result<T> {
    let path = files.show(relative);
    let text = files
        .read_string(relative)
        .with_context(|| format!("cannot read catalogue file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid catalogue file {}", path.display()))
}

impl Catalogue {
    /// Reads the catalogue folder — `common.toml`, every `services/*.toml`, `authorities.toml`,
    /// `mci.toml`, `calendar.toml` — and checks every cross-reference.
    pub fn load(dir: &Path) -> Result<Catalogue> {
        Catalogue::load_from(&Files::Dir(dir.to_path_buf()))
    }

    /// Reads the catalogue from a folder or the built-in copy, as [`Catalogue::load`].
    pub fn load_from(files: &Files) -> Result<Catalogue> {
        let common_path = files.show("common.toml");
        let common: ServicesFile = read_toml(files, "common.toml")?;
        let Some((common_fields, appeal)) = common
            .common
            .as_ref()
            .map(|c| (c.fields.clone(), c.appeal.clone()))
        else {
            bail!("{}: [common.fields] is missing", common_path.display());
        };
        let mut catalogue = Catalogue {
            common: common_fields,
            appeal,
            choice_sets: BTreeMap::new(),
            registries: BTreeMap::new(),
            services: BTreeMap::new(),
            authorities: Authorities::from_file(read_toml(files, "authorities.toml")?)
                .with_context(|| format!("in {}", files.show("authorities.toml").display()))?,
            mci: Mci::from_file(read_toml(files, "mci.toml")?)
                .with_context(|| format!("in {}", files.show("mci.toml").display()))?,
            calendar: Calendar::from_file(read_toml(files, "calendar.toml")?)
                .with_context(|| format!("in {}", files.show("calendar.toml").display()))?,
            dir: files.path(),
        };
        catalogue.merge(common, &common_path)?;
        let names: Vec<String> = files
            .list("services")
            .with_context(|| {
                format!(
                    "cannot read catalogue folder {}",
                    files.show("services").display()
                )
            })?
            .into_iter()
            .filter(|name| Path::new(name).extension().is_some_and(|e| e == "toml"))
            .collect();
        ensure!(
            !names.is_empty(),
            "{} holds no service (*.toml)",
            files.show("services").display()
        );
        for name in names {
            let relative = format!("services/{name}");
            let path = files.show(&relative);
            let file: ServicesFile = read_toml(files, &relative)?;
            ensure!(
                file.common.is_none(),
                "{}: [common] belongs in common.toml",
                path.display()
            );
            catalogue.merge(file, &path)?;
        }
        catalogue
            .check()
            .with_context(|| format!("inconsistent catalogue in {}", files.describe()))?;
        Ok(catalogue)
    }

    /// Adds one file's definitions, refusing a name defined twice.
    fn merge(&mut self, file: ServicesFile, path: &Path) -> Result<()> {
        fn add<T>(
            into: &mut BTreeMap<String, T>,
            from: BTreeMap<String, T>,
            what: &str,
            path: &Path,
        ) -> Result<()> {
            for (name, value) in from {
                ensure!(
                    !into.contains_key(&name),
                    "{}: {what} {name:?} is already defined in another catalogue file",
                    path.display()
                );
                into.insert(name, value);
            }
            Ok(())
        }
        add(&mut self.choice_sets, file.choice_sets, "choice set", path)?;
        let mut registries = file.registries;
        for (code, registry) in &mut registries {
            registry.code = code.clone();
        }
        add(&mut self.registries, registries, "registry", path)?;
        let mut services = file.services;
        for (code, service) in &mut services {
            service.code = code.clone();
            service.file = path.to_path_buf();
            for (kind, document) in &mut service.documents {
                document.kind = kind.clone();
            }
        }
        add(&mut self.services, services, "service", path)
    }

    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.get(code)
    }

    pub fn registry(&self, code: &str) -> Option<&Registry> {
        self.registries.get(code)
    }

    /// The authority that issues a case's documents: the service's provider, or the authority
    /// of the choice its `provider_field` holds (`value` is that field's raw value).
    pub fn provider_code<'a>(
        &'a self,
        service: &'a Service,
        value: Option<&str>,
    ) -> Option<&'a str> {
        match (&service.provider, &service.provider_field) {
            (Some(code), _) => Some(code),
            (None, Some(field)) => {
                let set = service.fields.get(field)?.set.as_deref()?;
                self.choice_sets[set].get(value?)?.authority.as_deref()
            }
            (None, None) => None,
        }
    }

    fn check(&self) -> Result<()> {
        for name in [
            "id",
            "service",
            "decision.outcome",
            "decision.date",
            "application.date",
        ] {
            ensure!(
                self.common
                    .get(name)
                    .is_some_and(|f| f.required && f.when.is_none()),
                "common field {name:?} must be defined and always required"
            );
        }
        ensure!(
            self.common.get("decision.outcome").map(|f| f.kind) == Some(FieldType::Outcome),
            "common field \"decision.outcome\" must have type \"outcome\""
        );
        for name in ["decision.date", "application.date"] {
            ensure!(
                self.common.get(name).map(|f| f.kind) == Some(FieldType::Date),
                "common field {name:?} must have type \"date\""
            );
        }
        self.common
            .check(&self.common, &self.choice_sets)
            .context("in [common.fields]")?;
        for (path, spec) in self.common.iter() {
            if let Some(when) = spec.when.as_ref().filter(|w| w.field == "decision.outcome") {
                ensure!(
                    when.one_of.iter().all(|o| o == REFUSED),
                    "common field {path:?}: only \"{REFUSED}\" is an outcome of every service"
                );
            }
        }
        for service in self.services.values() {
            self.check_service(service).with_context(|| {
                format!("in service {:?} ({})", service.code, service.file.display())
            })?;
        }
        for registry in self.registries.values() {
            ensure!(
                !registry.sequences.is_empty(),
                "registry {:?} has no number sequence",
                registry.code
            );
        }
        Ok(())
    }

    fn check_service(&self, service: &Service) -> Result<()> {
        match (&service.provider, &service.provider_field) {
            (Some(provider), None) => ensure!(
                self.authorities.contains(provider),
                "provider {provider:?} is not in authorities.toml"
            ),
            (None, Some(field)) => {
                let spec = self.required_choice(service, field, "provider_field")?;
                for (value, choice) in &self.choice_sets[spec.set.as_deref().unwrap_or_default()] {
                    let Some(authority) = &choice.authority else {
                        bail!("provider_field {field:?}: choice {value:?} names no authority");
                    };
                    ensure!(
                        self.authorities.contains(authority),
                        "choice {value:?} of {field:?}: authority {authority:?} is not in \
                         authorities.toml"
                    );
                }
            }
            _ => bail!("give exactly one of `provider` and `provider_field`"),
        }
        for path in service.fields.paths() {
            ensure!(
                self.common.get(path).is_none() && !self.common.is_prefix_of(path),
                "field {path:?} clashes with a common field"
            );
        }
        service
            .fields
            .check(&self.common, &self.choice_sets)
            .context("in its fields")?;
        let outcomes = service.outcomes();
        ensure!(
            outcomes.contains(REFUSED) && outcomes.len() >= 2,
            "it must issue a document when an application is refused, and on at least one \
             other outcome"
        );
        for outcome in &outcomes {
            ensure!(
                !outcome.is_empty() && outcome.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "outcome {outcome:?} must be lower-case words joined by '-'"
            );
        }
        for (path, spec) in service.fields.iter() {
            if let Some(when) = spec.when.as_ref().filter(|w| w.field == "decision.outcome") {
                for value in &when.one_of {
                    ensure!(
                        outcomes.contains(value.as_str()),
                        "field {path:?}: `when` tests for outcome {value:?}, on which no \
                         document is issued"
                    );
                }
            }
        }
        if let Some(subject) = &service.subject {
            ensure!(
                service.fields.get(subject).is_some_and(|f| f.required
                    && f.when.is_none()
                    && matches!(f.kind, FieldType::Text | FieldType::Bilingual)),
                "subject {subject:?} must be a text or bilingual field that is always required"
            );
        }
        if let Some(duty) = &service.duty {
            for (path, kind) in [
                ("duty.amount", FieldType::Money),
                ("duty.date", FieldType::Date),
            ] {
                let spec = service.fields.get(path);
                ensure!(
                    spec.is_some_and(|f| f.kind == kind && f.when.is_none()),
                    "a service with a duty needs a field {path:?} of type {kind:?} (without `when`)"
                );
                // Required always, or on the outcomes the duty names: a refusal may be one for
                // not paying, and a refusal of an application that was paid may still say so.
                ensure!(
                    spec.is_some_and(|f| f.required) != duty.on.is_some(),
                    "{path:?}: give either `required = true`, or the duty's `on` (the outcomes \
                     on which it must have been paid), not both"
                );
            }
            let outcomes = service.outcomes();
            for outcome in duty.on.iter().flatten() {
                ensure!(
                    outcomes.contains(outcome.as_str()),
                    "the duty's `on` names {outcome:?}, on which no document is issued"
                );
            }
        }
        if let Some(grounds) = service.fields.get(GROUNDS) {
            let set = grounds.set.as_deref().unwrap_or_default();
            ensure!(
                grounds.kind == FieldType::Choices
                    && grounds
                        .when
                        .as_ref()
                        .is_some_and(|w| w.field == "decision.outcome"),
                "{GROUNDS:?} must be a choices field that applies on refusal outcomes"
            );
            for (code, choice) in &self.choice_sets[set] {
                ensure!(
                    choice.norm.is_some(),
                    "ground for refusal {code:?} of set {set:?} cites no norm"
                );
            }
        }
        for (path, spec) in self.common.iter().chain(service.fields.iter()) {
            if let Some(other) = &spec.unless {
                ensure!(
                    self.common.get(other).is_some() || service.fields.get(other).is_some(),
                    "field {path:?}: `unless` names {other:?}, which is not a field of this service"
                );
            }
        }
        for document in service.documents.values() {
            self.check_document(service, document)
                .with_context(|| format!("in document {:?}", document.kind))?;
        }
        Ok(())
    }

    /// The spec of `field`, which must be a required choice that always applies.
    fn required_choice<'a>(
        &self,
        service: &'a Service,
        field: &str,
        what: &str,
    ) -> Result<&'a FieldSpec> {
        let Some(spec) = service.fields.get(field) else {
            bail!("{what} {field:?} is not a field of this service");
        };
        ensure!(
            spec.required && spec.when.is_none() && spec.kind == FieldType::Choice,
            "{what} {field:?} must be a choice that is always required"
        );
        Ok(spec)
    }

    fn check_document(&self, service: &Service, document: &DocumentSpec) -> Result<()> {
        let Some(registry) = self.registries.get(&document.registry) else {
            bail!("registry {:?} is not defined", document.registry);
        };
        let sequence_of = |name: &str| {
            registry.sequences.get(name).with_context(|| {
                format!("registry {:?} has no sequence {name:?}", document.registry)
            })
        };
        let sequence = sequence_of(&document.sequence)?;
        if sequence.format.uses_code() || sequence.per_code {
            let Some(field) = &sequence.code_field else {
                bail!(
                    "sequence {:?} uses codes but names no code_field",
                    document.sequence
                );
            };
            let spec = self.required_choice(service, field, "code_field")?;
            for (value, choice) in &self.choice_sets[spec.set.as_deref().unwrap_or_default()] {
                let Some(code) = &choice.code else {
                    bail!("choice {value:?} of field {field:?} has no code for document numbers");
                };
                ensure!(
                    !sequence.per_code
                        || (!code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric())),
                    "choice {value:?} of {field:?}: code {code:?} names a counter and a file, \
                     so it must be Latin letters and digits"
                );
            }
        }
        if let Some(items) = &document.items {
            let items_sequence = sequence_of(&items.sequence)?;
            ensure!(
                !items_sequence.format.uses_code() && !items_sequence.per_code,
                "sequence {:?} numbers items, so it cannot use codes",
                items.sequence
            );
            ensure!(
                items.sequence != document.sequence,
                "items must be numbered from another sequence than the document's own"
            );
            ensure!(
                service
                    .fields
                    .get(&items.list)
                    .is_some_and(|f| f.kind == FieldType::List && f.required),
                "items {:?} must be a required list field of the service",
                items.list
            );
        }
        if let Some(field) = &document.once_per {
            ensure!(
                self.common
                    .get(field)
                    .or_else(|| service.fields.get(field))
                    .is_some_and(|f| f.required && f.when.is_none() && f.kind != FieldType::List),
                "once_per {field:?} must be a single field that is always required"
            );
        }
        if let Some(field) = &document.supersedes {
            ensure!(
                service
                    .fields
                    .get(field)
                    .is_some_and(|f| f.kind == FieldType::Text),
                "supersedes {field:?} must be a text field of the service (the earlier number)"
            );
        }
        Ok(())
    }
}

/// The catalogue as `qujat services` prints it.
pub fn listing(catalogue: &Catalogue) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for service in catalogue.services.values() {
        let _ = writeln!(out, "{}", service.code);
        let _ = writeln!(out, "  kk: {}", service.name.kk);
        let _ = writeln!(out, "  ru: {}", service.name.ru);
        let provider = match (&service.provider, &service.provider_field) {
            (Some(code), _) => code.clone(),
            (_, field) => format!(
                "the authority named by field {}",
                field.as_deref().unwrap_or_default()
            ),
        };
        let _ = writeln!(out, "  provider: {provider}");
        for rule in service.deadlines.rules() {
            let _ = writeln!(
                out,
                "  deadline for applications from {}: {} ({}){}",
                rule.from,
                rule.describe(),
                rule.source,
                if rule.unverified.is_some() {
                    " [to be checked]"
                } else {
                    ""
                }
            );
        }
        if let Some(duty) = &service.duty {
            let _ = writeln!(
                out,
                "  state duty: {} MCI{}",
                duty.mci_text().replace(',', "."),
                duty.on
                    .as_ref()
                    .map(|on| format!(", paid before {}", on.join(" or ")))
                    .unwrap_or_default()
            );
        }
        for document in service.documents.values() {
            let registry = &catalogue.registries[&document.registry];
            let sequence = &registry.sequences[&document.sequence];
            let _ = writeln!(
                out,
                "  on {}: {} → {} / {}, registry {}, numbered {}{}",
                document.on,
                document.kind,
                document.title.kk,
                document.title.ru,
                document.registry,
                sequence.format,
                if sequence.per_code { " (per code)" } else { "" },
            );
            if let Some(items) = &document.items {
                let format = &registry.sequences[&items.sequence].format;
                let _ = writeln!(
                    out,
                    "    each item of {} numbered {format} (sequence {})",
                    items.list, items.sequence
                );
            }
            if let Some(field) = &document.once_per {
                let _ = writeln!(out, "    at most once per {field}");
            }
            if let Some(field) = &document.supersedes {
                let _ = writeln!(
                    out,
                    "    supersedes the {} numbered by {field}",
                    document.kind
                );
            }
        }
    }
    let _ = writeln!(out, "{} services", catalogue.services.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duty(text: &str) -> Result<Duty> {
        #[derive(Deserialize)]
        struct File {
            duty: Duty,
        }
        Ok(toml::from_str::<File>(text)?.duty)
    }

    #[test]
    fn a_duty_in_a_share_of_the_mci_is_exact_and_rounded_to_the_tenge() {
        let half = duty("duty = { mci = 0.5, on = [\"approved\"] }").unwrap();
        // Half of 4 325 ₸ is 2 162.5 ₸: 2 163 ₸, half a tenge rounded up; of 3 450 ₸, 1 725 ₸.
        assert_eq!(half.amount(4325), 2163);
        assert_eq!(half.amount(3450), 1725);
        assert_eq!(half.mci_text(), "0,5");
        assert_eq!(half.whole(), None);
        assert_eq!(half.on.as_deref(), Some(&["approved".to_string()][..]));
        let five = duty("duty = { mci = 5 }").unwrap();
        assert_eq!(five.amount(4325), 21625);
        assert_eq!((five.mci_text(), five.whole()), ("5".to_string(), Some(5)));
        assert_eq!(duty("duty = { mci = 1.25 }").unwrap().mci_text(), "1,25");
        for bad in [
            "duty = { mci = 0 }",
            "duty = { mci = -1 }",
            "duty = { mci = 0.125 }",
        ] {
            assert!(duty(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_shipped_catalogue_cites_a_norm_for_every_ground_of_refusal() {
        let catalogue =
            Catalogue::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue")).unwrap();
        for service in catalogue.services.values() {
            let grounds = service
                .fields
                .get(GROUNDS)
                .unwrap_or_else(|| panic!("{} names no grounds for refusal", service.code));
            let set = &catalogue.choice_sets[grounds.set.as_deref().unwrap()];
            assert!(set.len() >= 3, "{}", service.code);
            assert!(set.values().all(|g| g.norm.is_some()));
        }
        // The apostille's duty is half an MCI, paid before an apostille is put.
        let apostille = catalogue.services["apostille"].duty.as_ref().unwrap();
        assert_eq!(apostille.mci_text(), "0,5");
    }
}
