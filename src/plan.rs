//! Planning: which documents this batch issues, in which order, under which numbers.
//!
//! Sequential and deterministic: cases are ordered by decision date, then case id (then service
//! and document kind, which only break ties between services sharing an id), and each document
//! takes the next position of its number sequence after the registry's tail. The same inputs and
//! registry always give the same numbers. A document already registered is skipped; one
//! registered with different case data is refused, since a registered document never changes.
//!
//! Planning works on [`Candidate`]s: valid cases reduced, as soon as they are validated, to what
//! ordering and numbering read — a few hundred bytes — with each document's data made then and
//! kept in the [`Spool`] until the document is rendered.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::Result;
use serde_json::{Value as Json, json};

use crate::catalogue::{Catalogue, DocumentSpec, money_view};
use crate::date::Date;
use crate::numbering::{self, Counters};
use crate::problem::{Origin, Problem};
use crate::registry::{ItemNumber, Key, Writer, hash_json};
use crate::render::PdfMeta;
use crate::spool::{DataParts, Spool, Spooled};
use crate::validate::{ValidCase, at_path, date_view};

mod rules;

pub use rules::{ascii_twin, superseded};

/// A valid case as planning needs it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its place among the cases read (reports list cases in reading order).
    pub read: usize,
    pub origin: Origin,
    pub id: String,
    pub service: String,
    pub outcome: String,
    pub decision_date: Date,
    pub application_date: Date,
    /// The last day of the statutory term, if the catalogue knows the term in force on the
    /// application date.
    pub due: Option<Date>,
    pub case_hash: String,
    /// The hash of the case data as given, when putting its texts in normal form C changed
    /// them: a case registered before qujat did so is still the same case.
    pub case_hash_as_given: Option<String>,
    /// The application's number.
    pub application: String,
    /// The applicant's BIN or IIN.
    pub applicant: Option<String>,
    /// The documents its service issues on its outcome, in the catalogue's order.
    pub documents: Vec<Prepared>,
}

/// A document a case may get, prepared when the case is validated.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub kind: String,
    /// For a document allowed once per value of a field: `<field>=<value>`.
    once: Option<String>,
    /// The number the case names as the document this one replaces.
    supersedes: Option<String>,
    /// The code that fills `{code}` in the number format.
    code: String,
    /// How many items it lists, each taking a number.
    items: usize,
    /// What the template will show, without its numbers.
    data: Spooled,
}

impl Prepared {
    /// Adds what planning will look up in the registry for this document of `case` to
    /// `wanted`: its key, its once-only value, the number it replaces.
    pub fn wanted(
        &self,
        case: &Candidate,
        spec: &DocumentSpec,
        wanted: &mut crate::registry::Wanted,
    ) {
        wanted.keys.push(Key {
            service: case.service.clone(),
            case_id: case.id.clone(),
            document: spec.kind.clone(),
        });
        if let Some(value) = &self.once {
            wanted
                .onces
                .push((case.service.clone(), spec.kind.clone(), value.clone()));
        }
        if let Some(number) = &self.supersedes {
            wanted.numbers.push(number.clone());
        }
    }
}

impl Candidate {
    /// Reduces a valid case to a candidate, writing its documents' data to `spool`. A signed
    /// batch gives the signature block of the case's official (`crate::sign::issue::block`),
    /// which every document of the case shows as `signature`.
    pub fn prepare(
        catalogue: &Catalogue,
        case: &ValidCase,
        read: usize,
        spool: &Spool,
        signature: Option<&Json>,
    ) -> Result<Candidate> {
        let service = &catalogue.services[&case.service];
        let applicant = &case.view["applicant"];
        let mut documents = Vec::new();
        for spec in service.documents_on(&case.outcome) {
            let sequence = &catalogue.registries[&spec.registry].sequences[&spec.sequence];
            let code = match &sequence.code_field {
                Some(field) => case.view[field]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                None => String::new(),
            };
            let items = spec.items.as_ref().map_or(0, |items| {
                at_path(&case.view, &items.list)
                    .as_array()
                    .map_or(0, Vec::len)
            });
            let mut data = document_data(catalogue, case, spec);
            if let Some(block) = signature {
                data["signature"] = block.clone();
            }
            documents.push(Prepared {
                kind: spec.kind.clone(),
                once: spec.once_per.as_ref().map(|field| once_value(case, field)),
                supersedes: spec
                    .supersedes
                    .as_ref()
                    .and_then(|field| at_path(&case.view, field).as_str().map(str::to_string)),
                code,
                items,
                data: spool.put(&DataParts::of(&data)?)?,
            });
        }
        Ok(Candidate {
            read,
            origin: case.origin.clone(),
            id: case.id.clone(),
            service: case.service.clone(),
            outcome: case.outcome.clone(),
            decision_date: case.decision_date,
            application_date: case.application_date,
            due: case.due,
            case_hash: hash_json(&case.canonical),
            case_hash_as_given: case.as_given.as_ref().map(hash_json),
            application: at_path(&case.canonical, "application.number")
                .as_str()
                .unwrap_or_default()
                .to_string(),
            applicant: applicant["bin"]
                .as_str()
                .or_else(|| applicant["iin"].as_str())
                .map(str::to_string),
            documents,
        })
    }
}

/// A document to issue, with its number.
///
/// Planning holds every planned document, so the names that many documents share (service,
/// kind, registry, …) are shared, not copied; from then until it is rendered a planned document
/// waits in the spool.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Planned {
    /// What is registered: the service, the case and the kind of document ([`Planned::key`]).
    pub service: Arc<str>,
    pub case_id: String,
    pub document: Arc<str>,
    pub origin: Origin,
    pub outcome: Arc<str>,
    pub registry: Arc<str>,
    /// The catalogue sequence its number format comes from.
    pub sequence: Arc<str>,
    /// The counter it takes its number from: the sequence, or `<sequence>-<code>` for a
    /// sequence counted per code.
    pub counter: Arc<str>,
    /// Position in the counter.
    pub n: u64,
    pub number: String,
    /// Numbers of the items it lists, consecutive in their own sequence.
    pub items: Vec<ItemNumber>,
    /// For a document allowed once per value of a field: `<field>=<value>`.
    pub once: Option<String>,
    /// The number of the earlier document this one replaces, if it names one.
    pub supersedes: Option<String>,
    pub issued: Date,
    pub case_hash: String,
    /// The template's path (its version is looked up from it).
    pub template: Arc<str>,
    /// What the template shows, without its numbers: [`Planned::data`] fills them in.
    data: Spooled,
    /// The code that fills `{code}` in the number format.
    code: String,
}

impl Planned {
    /// What is registered: at most once per registry.
    pub fn key(&self) -> Key {
        Key {
            service: self.service.to_string(),
            case_id: self.case_id.clone(),
            document: self.document.to_string(),
        }
    }

    /// The PDF's path within the output folder: names made from the registry place only, so
    /// nothing from a case ever reaches a file name.
    pub fn file(&self) -> String {
        format!("{}/{}-{:06}.pdf", self.registry, self.counter, self.n)
    }

    /// A stable identifier of the document, from which the PDF's ID is derived.
    pub fn ident(&self) -> String {
        format!("qujat:{}/{}/{}", self.registry, self.counter, self.n)
    }

    /// The PDF metadata that comes from the record: identifier, creation date, creator.
    pub fn pdf_meta(&self, creator: &str) -> PdfMeta {
        PdfMeta {
            ident: self.ident(),
            created: self.issued,
            creator: creator.to_string(),
        }
    }

    /// What the template shows, as canonical JSON with the document's numbers: the bytes the
    /// template reads and the record keeps, whose SHA-256 is the registered content.
    pub fn data(&self, spool: &Spool) -> Result<String> {
        let items: Json = self
            .items
            .iter()
            .map(|item| json!({ "n": item.n, "number": item.number }))
            .collect();
        spool.data(&self.data, &items, &self.number)
    }

    /// The payload of the document's QR code under the verification address `prefix`, for the
    /// registered content `content` (the SHA-256 of [`Planned::data`]), in the encoding of the
    /// profile new documents are typeset with.
    pub fn qr(&self, prefix: &str, content: &str) -> String {
        let payload = crate::qr::Payload {
            registry: self.registry.to_string(),
            number: self.number.clone(),
            content: content.to_string(),
        };
        crate::render::Profile::CURRENT.payload(&payload, prefix)
    }

    /// The counters this document takes numbers from, with how many it takes from each.
    pub fn takes(&self) -> Vec<(String, u64)> {
        let mut takes = vec![(self.counter.to_string(), 1)];
        if let Some(first) = self.items.first() {
            takes.push((first.sequence.clone(), self.items.len() as u64));
        }
        takes
    }

    /// Moves the document to position `n` of its counter and its items to positions from
    /// `first_item` on (after an earlier document could not be issued), renumbering them.
    pub fn renumber(&mut self, n: u64, first_item: u64, catalogue: &Catalogue) {
        self.set_numbers(n, first_item, catalogue);
    }

    /// Gives the document position `n` and its items positions from `first_item` on.
    fn set_numbers(&mut self, n: u64, first_item: u64, catalogue: &Catalogue) {
        let year = self.issued.year();
        self.n = n;
        self.number = numbering::number(
            catalogue,
            &self.registry,
            &self.sequence,
            n,
            year,
            &self.code,
        );
        numbering::items(catalogue, &self.registry, &mut self.items, first_item, year);
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
    /// The record and number of the document it replaces, when the event marking that one
    /// superseded is missing (lost with an interrupted commit): the batch appends it now.
    pub lost_supersession: Option<(u64, String)>,
}

/// What planning decided.
#[derive(Debug, Default)]
pub struct Plan {
    pub documents: Vec<Planned>,
    pub already: Vec<Already>,
    /// Cases that cannot be issued, with why.
    pub refused: Vec<(Origin, Vec<Problem>)>,
}

/// The data every template receives, with empty numbers (`document.number` and
/// `document.items` are filled in when the document is rendered).
fn document_data(catalogue: &Catalogue, case: &ValidCase, spec: &DocumentSpec) -> Json {
    let service = &catalogue.services[&case.service];
    let registry = &catalogue.registries[&spec.registry];
    let authority = catalogue
        .authorities
        .in_force(&case.authority, case.decision_date)
        .expect("validation found the authority in force");
    let mut shown_authority = json!({ "name": authority.name, "city": authority.city });
    // Contacts and the "certified by" form where the catalogue has them (records before these
    // existed lack them, and keep regenerating as they were).
    for (key, value) in [
        ("address", authority.address.as_ref().map(|a| json!(a))),
        ("phone", authority.phone.as_ref().map(|p| json!(p))),
        ("email", authority.email.as_ref().map(|e| json!(e))),
        ("by", authority.by.as_ref().map(|b| json!(b))),
    ] {
        if let Some(value) = value {
            shown_authority[key] = value;
        }
    }
    let mut data = json!({
        "document": {
            "kind": spec.kind,
            "title": spec.title,
            "number": "",
            "items": [],
            "date": date_view(case.decision_date),
        },
        "service": {
            "code": service.code,
            "name": service.name,
            "legal_basis": service.legal_basis,
        },
        "registry": { "code": registry.code, "name": registry.name },
        "authority": shown_authority,
        "case": case.view,
    });
    if let (Some(rule), Some(due)) = (service.deadlines.in_force(case.application_date), case.due) {
        data["deadline"] = json!({
            "stages": rule.stages,
            "due": date_view(due),
            "source": rule.source,
        });
    }
    if spec.on != "approved" {
        data["appeal"] = json!(service.appeal.as_ref().unwrap_or(&catalogue.appeal));
    }
    if let Some(path) = &service.subject {
        data["subject"] = match at_path(&case.view, path) {
            Json::String(text) => json!({ "kk": text, "ru": text }),
            other => other.clone(),
        };
    }
    // A payment, where one was given: a service may not require it on a refusal.
    let paid_on = at_path(&case.canonical, "duty.date")
        .as_str()
        .and_then(|d| d.parse().ok());
    if let (Some(duty), Some(paid_on)) = (&service.duty, paid_on) {
        let mci = catalogue
            .mci
            .on(paid_on)
            .expect("validation found the MCI in force");
        data["duty"] = json!({
            "mci_text": duty.mci_text(),
            "rate": money_view(mci),
            "amount": money_view(duty.amount(mci)),
        });
        if let Some(whole) = duty.whole() {
            data["duty"]["mci"] = json!(whole);
        }
    }
    data
}

/// The value of a once-only field in a case's canonical data, as `<field>=<value>`.
fn once_value(case: &ValidCase, field: &str) -> String {
    let text = match at_path(&case.canonical, field) {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!("{field}={text}")
}

/// Plans the documents of `cases` against the registries' current state.
pub fn plan(
    catalogue: &Catalogue,
    mut cases: Vec<Candidate>,
    writers: &BTreeMap<String, Writer>,
) -> Plan {
    cases.sort_by(|a, b| {
        (a.decision_date, &a.id, &a.service).cmp(&(b.decision_date, &b.id, &b.service))
    });
    let mut counters = Counters::at(writers.iter().flat_map(|(code, writer)| {
        writer
            .sequence_tails()
            .iter()
            .map(|(counter, tail)| ((code.clone(), counter.clone()), *tail))
    }));
    // What this batch planned before each case, for the rules to ask as they ask the registry.
    let mut earlier = rules::Earlier::default();
    let mut plan = Plan::default();
    let mut names: HashMap<String, Arc<str>> = HashMap::new();
    let mut name = |text: &str| -> Arc<str> {
        match names.get(text) {
            Some(shared) => shared.clone(),
            None => names.entry(text.to_string()).or_insert(text.into()).clone(),
        }
    };
    // Every document of a batch is held until it is rendered: no room to spare.
    plan.documents
        .reserve_exact(cases.iter().map(|c| c.documents.len()).sum());
    for case in cases {
        let service = &catalogue.services[&case.service];
        if let Some(problem) = rules::lookalike_registered(writers, service, &case) {
            plan.refused.push((case.origin.clone(), vec![problem]));
            continue;
        }
        let mut documents = Vec::new();
        let mut problems = Vec::new();
        let refuse =
            |message: String| Problem::new(case.origin.clone(), message).case(Some(&case.id));
        let specs = service.documents_on(&case.outcome);
        for (spec, prepared) in specs.zip(&case.documents) {
            let key = Key {
                service: case.service.clone(),
                case_id: case.id.clone(),
                document: spec.kind.clone(),
            };
            let writer = &writers[&spec.registry];
            if let Some(registered) = writer.registered(&key) {
                let same = registered.case_hash == case.case_hash
                    || case.case_hash_as_given.as_ref() == Some(&registered.case_hash);
                if same {
                    let lost_supersession = prepared.supersedes.as_deref().and_then(|number| {
                        let holder = registered.holder.as_deref();
                        superseded(writer, &case.service, &spec.kind, holder, number)
                            .ok()
                            .flatten()
                            .filter(|earlier| earlier.seq < registered.seq)
                            .map(|earlier| (earlier.seq, number.to_string()))
                    });
                    plan.already.push(Already {
                        key,
                        origin: case.origin.clone(),
                        registry: spec.registry.clone(),
                        number: registered.number.clone(),
                        issued: registered.issued,
                        lost_supersession,
                    });
                } else {
                    problems.push(refuse(format!(
                        "{} № {} was issued for this case on {} from different data; a \
                         registered document never changes (a change needs a new application)",
                        spec.title.ru, registered.number, registered.issued
                    )));
                }
                continue;
            }
            if let Some(problem) = earlier.refusal(writer, &case, spec, prepared) {
                problems.push(problem);
                continue;
            }
            let counter = catalogue.registries[&spec.registry].sequences[&spec.sequence]
                .counter(&spec.sequence, &prepared.code);
            documents.push((key, spec, prepared, counter));
        }
        if !problems.is_empty() {
            plan.refused.push((case.origin.clone(), problems));
            continue;
        }
        for (key, spec, prepared, counter) in documents {
            let n = counters.take(&spec.registry, &counter, 1);
            let items = match &spec.items {
                Some(items) if prepared.items > 0 => vec![
                    ItemNumber {
                        sequence: items.sequence.clone(),
                        n: 0,
                        number: String::new(),
                    };
                    prepared.items
                ],
                _ => Vec::new(),
            };
            let first_item = match items.first() {
                Some(item) => counters.take(&spec.registry, &item.sequence, items.len() as u64),
                None => 0,
            };
            let mut planned = Planned {
                service: name(&key.service),
                case_id: key.case_id,
                document: name(&key.document),
                origin: case.origin.clone(),
                outcome: name(&case.outcome),
                registry: name(&spec.registry),
                sequence: name(&spec.sequence),
                counter: name(&counter),
                n,
                number: String::new(),
                items,
                once: prepared.once.clone(),
                supersedes: prepared.supersedes.clone(),
                issued: case.decision_date,
                case_hash: case.case_hash.clone(),
                template: name(&spec.template),
                data: prepared.data,
                code: prepared.code.clone(),
            };
            planned.set_numbers(n, first_item, catalogue);
            earlier.planned(&case, spec, prepared, &planned.number);
            plan.documents.push(planned);
        }
    }
    plan
}
