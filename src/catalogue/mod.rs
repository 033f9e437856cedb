//! The service catalogue: services, their documents, registries, number formats, field rules and
//! issuing authorities, read from `catalogue/*.toml` at start-up and checked before any case is
//! read. Everything that changes by decree lives there, not in code.

mod authority;
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};

pub use authority::{Authorities, AuthorityPeriod};
pub use schema::{FieldSpec, FieldType, Fields, When};

use crate::numbering::NumberFormat;

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
}

/// What a decision says about an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Approved,
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Approved => "approved",
            Outcome::Refused => "refused",
        }
    }
}

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
}

/// A document a service can end in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSpec {
    #[serde(skip)]
    pub kind: String,
    /// The decision outcome that produces this document.
    pub on: Outcome,
    pub title: Bilingual,
    /// Path of the main template file, relative to the templates folder.
    pub template: String,
    pub registry: String,
    pub sequence: String,
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
    pub provider: String,
    pub fields: Fields,
    pub documents: BTreeMap<String, DocumentSpec>,
}

impl Service {
    /// The documents a decision with this outcome produces, in a fixed order.
    pub fn documents_on(&self, outcome: Outcome) -> impl Iterator<Item = &DocumentSpec> {
        self.documents.values().filter(move |d| d.on == outcome)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesFile {
    common: CommonFile,
    choice_sets: BTreeMap<String, BTreeMap<String, Choice>>,
    registries: BTreeMap<String, Registry>,
    services: BTreeMap<String, Service>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonFile {
    fields: Fields,
}

/// The whole catalogue, checked for internal consistency.
#[derive(Debug)]
pub struct Catalogue {
    /// Fields every case has, whatever its service (identity, applicant, decision).
    pub common: Fields,
    pub choice_sets: BTreeMap<String, BTreeMap<String, Choice>>,
    pub registries: BTreeMap<String, Registry>,
    pub services: BTreeMap<String, Service>,
    pub authorities: Authorities,
    /// The folder it was read from.
    pub dir: PathBuf,
}

/// Reads and parses one TOML file of the catalogue, naming it in any error.
fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read catalogue file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid catalogue file {}", path.display()))
}

impl Catalogue {
    /// Reads `services.toml` and `authorities.toml` from `dir` and checks every cross-reference.
    pub fn load(dir: &Path) -> Result<Catalogue> {
        let services: ServicesFile = read_toml(&dir.join("services.toml"))?;
        let authorities = Authorities::from_file(read_toml(&dir.join("authorities.toml"))?)
            .with_context(|| format!("in {}", dir.join("authorities.toml").display()))?;
        let mut catalogue = Catalogue {
            common: services.common.fields,
            choice_sets: services.choice_sets,
            registries: services.registries,
            services: services.services,
            authorities,
            dir: dir.to_path_buf(),
        };
        for (code, registry) in &mut catalogue.registries {
            registry.code = code.clone();
        }
        for (code, service) in &mut catalogue.services {
            service.code = code.clone();
            for (kind, document) in &mut service.documents {
                document.kind = kind.clone();
            }
        }
        catalogue
            .check()
            .with_context(|| format!("inconsistent catalogue in {}", dir.display()))?;
        Ok(catalogue)
    }

    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.get(code)
    }

    pub fn registry(&self, code: &str) -> Option<&Registry> {
        self.registries.get(code)
    }

    fn check(&self) -> Result<()> {
        for name in ["id", "service", "decision.outcome", "decision.date"] {
            ensure!(
                self.common.get(name).is_some_and(|f| f.required),
                "common field {name:?} must be defined and required"
            );
        }
        ensure!(
            self.common.get("decision.outcome").map(|f| f.kind) == Some(FieldType::Outcome),
            "common field \"decision.outcome\" must have type \"outcome\""
        );
        ensure!(
            self.common.get("decision.date").map(|f| f.kind) == Some(FieldType::Date),
            "common field \"decision.date\" must have type \"date\""
        );
        self.common
            .check(&self.common, &self.choice_sets)
            .context("in [common.fields]")?;
        for service in self.services.values() {
            self.check_service(service)
                .with_context(|| format!("in service {:?}", service.code))?;
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
        ensure!(
            self.authorities.contains(&service.provider),
            "provider {:?} is not in authorities.toml",
            service.provider
        );
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
        for outcome in [Outcome::Approved, Outcome::Refused] {
            ensure!(
                service.documents_on(outcome).next().is_some(),
                "no document is issued when an application is {}",
                outcome.as_str()
            );
        }
        for document in service.documents.values() {
            let Some(registry) = self.registries.get(&document.registry) else {
                bail!(
                    "document {:?}: registry {:?} is not defined",
                    document.kind,
                    document.registry
                );
            };
            let Some(sequence) = registry.sequences.get(&document.sequence) else {
                bail!(
                    "document {:?}: registry {:?} has no sequence {:?}",
                    document.kind,
                    document.registry,
                    document.sequence
                );
            };
            if sequence.format.uses_code() {
                let Some(field) = &sequence.code_field else {
                    bail!(
                        "sequence {:?} of registry {:?} uses {{code}} but names no code_field",
                        document.sequence,
                        document.registry
                    );
                };
                let Some(spec) = service.fields.get(field) else {
                    bail!(
                        "document {:?}: its number needs the code of field {field:?}, \
                         which this service does not have",
                        document.kind
                    );
                };
                ensure!(
                    spec.required && spec.kind == FieldType::Choice,
                    "document {:?}: code field {field:?} must be a required choice",
                    document.kind
                );
                let set = &self.choice_sets[spec.set.as_deref().unwrap_or_default()];
                for (value, choice) in set {
                    ensure!(
                        choice.code.is_some(),
                        "choice {value:?} of field {field:?} has no code for document numbers"
                    );
                }
            }
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
        for document in service.documents.values() {
            let _ = writeln!(
                out,
                "  {} → {} / {} (on {}), registry {}, sequence {}",
                document.kind,
                document.title.kk,
                document.title.ru,
                document.on.as_str(),
                document.registry,
                document.sequence,
            );
        }
    }
    let _ = writeln!(out, "{} services", catalogue.services.len());
    out
}
