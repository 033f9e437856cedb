//! Planning: which documents this batch issues, in which order, under which numbers.
//!
//! Sequential and deterministic: cases are ordered by decision date, then case id (then service
//! and document kind, which only break ties between services sharing an id), and each document
//! takes the next position of its number sequence after the registry's tail. The same inputs and
//! registry always give the same numbers. A document already registered is skipped; one
//! registered with different case data is refused, since a registered document never changes.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::catalogue::{Catalogue, DocumentSpec, Outcome};
use crate::date::Date;
use crate::problem::{Origin, Problem};
use crate::registry::{Key, Writer, hash_json};
use crate::render::PdfMeta;
use crate::validate::{ValidCase, date_view};

/// A document to issue, with its number.
#[derive(Debug, Clone)]
pub struct Planned {
    pub key: Key,
    pub origin: Origin,
    pub outcome: Outcome,
    pub registry: String,
    pub sequence: String,
    /// Position in the sequence.
    pub n: u64,
    pub number: String,
    pub issued: Date,
    pub case_hash: String,
    /// The template's path (its version is looked up from it).
    pub template: String,
    /// What the template shows; `document.number` is kept in step with `number`.
    pub data: Json,
    /// The code that fills `{code}` in the number format.
    code: String,
}

impl Planned {
    /// The PDF's path within the output folder: names made from the registry place only, so
    /// nothing from a case ever reaches a file name.
    pub fn file(&self) -> String {
        format!("{}/{}-{:06}.pdf", self.registry, self.sequence, self.n)
    }

    /// A stable identifier of the document, from which the PDF's ID is derived.
    pub fn ident(&self) -> String {
        format!("qujat:{}/{}/{}", self.registry, self.sequence, self.n)
    }

    /// The PDF metadata that comes from the record: identifier, creation date, creator.
    pub fn pdf_meta(&self, creator: &str) -> PdfMeta {
        PdfMeta {
            ident: self.ident(),
            created: self.issued,
            creator: creator.to_string(),
        }
    }

    /// Moves the document to position `n` of its sequence (after an earlier document of the
    /// sequence could not be issued), renumbering it.
    pub fn renumber(&mut self, n: u64, catalogue: &Catalogue) {
        self.n = n;
        let format = &catalogue.registries[&self.registry].sequences[&self.sequence].format;
        self.number = format.format(n, self.issued.year(), &self.code);
        self.data["document"]["number"] = json!(self.number);
    }
}

/// A document found registered already.
#[derive(Debug, Clone)]
pub struct Already {
    pub key: Key,
    pub origin: Origin,
    pub registry: String,
    pub number: String,
    pub issued: Date,
}

/// What planning decided.
#[derive(Debug, Default)]
pub struct Plan {
    pub documents: Vec<Planned>,
    pub already: Vec<Already>,
    /// Cases that cannot be issued, with why.
    pub refused: Vec<(Origin, Vec<Problem>)>,
}

/// The data every template receives.
fn document_data(
    catalogue: &Catalogue,
    case: &ValidCase,
    spec: &DocumentSpec,
    number: &str,
) -> Json {
    let service = &catalogue.services[&case.service];
    let registry = &catalogue.registries[&spec.registry];
    let authority = catalogue
        .authorities
        .in_force(&service.provider, case.decision_date)
        .expect("validation found the authority in force");
    json!({
        "document": {
            "kind": spec.kind,
            "title": spec.title,
            "number": number,
            "date": date_view(case.decision_date),
        },
        "service": {
            "code": service.code,
            "name": service.name,
            "legal_basis": service.legal_basis,
        },
        "registry": { "code": registry.code, "name": registry.name },
        "authority": { "name": authority.name, "city": authority.city },
        "case": case.view,
    })
}

/// Plans the documents of `cases` against the registries' current state.
pub fn plan(
    catalogue: &Catalogue,
    mut cases: Vec<ValidCase>,
    writers: &BTreeMap<String, Writer>,
) -> Plan {
    cases.sort_by(|a, b| {
        (a.decision_date, &a.id, &a.service).cmp(&(b.decision_date, &b.id, &b.service))
    });
    let mut tails: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (code, writer) in writers {
        for (sequence, tail) in writer.sequence_tails() {
            tails.insert((code.clone(), sequence.clone()), *tail);
        }
    }
    let mut plan = Plan::default();
    for case in cases {
        let service = &catalogue.services[&case.service];
        let case_hash = hash_json(&case.canonical);
        let mut documents = Vec::new();
        let mut problems = Vec::new();
        for spec in service.documents_on(case.outcome) {
            let key = Key {
                service: case.service.clone(),
                case_id: case.id.clone(),
                document: spec.kind.clone(),
            };
            let writer = &writers[&spec.registry];
            if let Some(registered) = writer.registered(&key) {
                if registered.case_hash == case_hash {
                    plan.already.push(Already {
                        key,
                        origin: case.origin.clone(),
                        registry: spec.registry.clone(),
                        number: registered.number.clone(),
                        issued: registered.issued,
                    });
                } else {
                    problems.push(
                        Problem::new(
                            case.origin.clone(),
                            format!(
                                "{} № {} was issued for this case on {} from different data; a \
                                 registered document never changes (a change needs a new application)",
                                spec.title.ru, registered.number, registered.issued
                            ),
                        )
                        .case(Some(&case.id)),
                    );
                }
                continue;
            }
            let sequence = &catalogue.registries[&spec.registry].sequences[&spec.sequence];
            let code = match &sequence.code_field {
                Some(field) => case.view[field]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                None => String::new(),
            };
            documents.push((key, spec, code));
        }
        if !problems.is_empty() {
            plan.refused.push((case.origin.clone(), problems));
            continue;
        }
        for (key, spec, code) in documents {
            let tail = tails
                .entry((spec.registry.clone(), spec.sequence.clone()))
                .or_insert(0);
            *tail += 1;
            let mut planned = Planned {
                key,
                origin: case.origin.clone(),
                outcome: case.outcome,
                registry: spec.registry.clone(),
                sequence: spec.sequence.clone(),
                n: *tail,
                number: String::new(),
                issued: case.decision_date,
                case_hash: case_hash.clone(),
                template: spec.template.clone(),
                data: document_data(catalogue, &case, spec, ""),
                code,
            };
            planned.renumber(*tail, catalogue);
            plan.documents.push(planned);
        }
    }
    plan
}
