//! Planning: which documents this batch issues, in which order, under which numbers.
//!
//! Sequential and deterministic: cases are ordered by decision date, then case id (then service
//! and document kind, which only break ties between services sharing an id), and each document
//! takes the next position of its number sequence after the registry's tail. The same inputs and
//! registry always give the same numbers. A document already registered is skipped; one
//! registered with different case data is refused, since a registered document never changes.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::catalogue::{Catalogue, DocumentSpec, money_view};
use crate::date::Date;
use crate::problem::{Origin, Problem};
use crate::registry::{
    Holder, ItemNumber, Key, Registered, Status, Words, Writer, canonical, hash_json, holder_of,
    sha256_hex, title_of,
};
use crate::render::PdfMeta;
use crate::validate::{ValidCase, at_path, date_view};

/// A document to issue, with its number.
#[derive(Debug, Clone)]
pub struct Planned {
    pub key: Key,
    pub origin: Origin,
    pub outcome: String,
    pub registry: String,
    /// The catalogue sequence its number format comes from.
    pub sequence: String,
    /// The counter it takes its number from: the sequence, or `<sequence>-<code>` for a
    /// sequence counted per code.
    pub counter: String,
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
    pub template: String,
    /// What the template shows, as canonical JSON text — the bytes the template reads and the
    /// record keeps (compact: a batch holds every planned document); `document.number` and
    /// `document.items` are kept in step with the numbers.
    data: Box<str>,
    /// Who the document is issued to, and its title (from the data).
    pub holder: Holder,
    pub title: Words,
    /// The code that fills `{code}` in the number format.
    code: String,
}

impl Planned {
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

    /// What the template shows, as canonical JSON.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The hash of the registered content: SHA-256 of the canonical data.
    pub fn content(&self) -> String {
        sha256_hex(self.data.as_bytes())
    }

    /// The payload of the document's QR code under the verification address `prefix`.
    pub fn qr(&self, prefix: &str) -> String {
        crate::qr::Payload {
            registry: self.registry.clone(),
            number: self.number.clone(),
            content: self.content(),
        }
        .text(prefix)
    }

    /// The counters this document takes numbers from, with how many it takes from each.
    pub fn takes(&self) -> Vec<(String, u64)> {
        let mut takes = vec![(self.counter.clone(), 1)];
        if let Some(first) = self.items.first() {
            takes.push((first.sequence.clone(), self.items.len() as u64));
        }
        takes
    }

    /// Moves the document to position `n` of its counter and its items to positions from
    /// `first_item` on (after an earlier document could not be issued), renumbering them.
    pub fn renumber(&mut self, n: u64, first_item: u64, catalogue: &Catalogue) {
        self.set_numbers(n, first_item, catalogue);
        let mut data: Json = serde_json::from_str(&self.data).expect("planned data is JSON");
        self.number_data(&mut data);
        self.data = canonical(&data).into();
    }

    /// Gives the document position `n` and its items positions from `first_item` on.
    fn set_numbers(&mut self, n: u64, first_item: u64, catalogue: &Catalogue) {
        let registry = &catalogue.registries[&self.registry];
        let year = self.issued.year();
        self.n = n;
        self.number = registry.sequences[&self.sequence]
            .format
            .format(n, year, &self.code);
        for (i, item) in self.items.iter_mut().enumerate() {
            item.n = first_item + i as u64;
            item.number = registry.sequences[&item.sequence]
                .format
                .format(item.n, year, "");
        }
    }

    /// Writes the document's numbers into its data.
    fn number_data(&self, data: &mut Json) {
        data["document"]["number"] = json!(self.number);
        data["document"]["items"] = self
            .items
            .iter()
            .map(|item| json!({ "n": item.n, "number": item.number }))
            .collect();
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

/// The data every template receives.
fn document_data(catalogue: &Catalogue, case: &ValidCase, spec: &DocumentSpec) -> Json {
    let service = &catalogue.services[&case.service];
    let registry = &catalogue.registries[&spec.registry];
    let authority = catalogue
        .authorities
        .in_force(&case.authority, case.decision_date)
        .expect("validation found the authority in force");
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
        "authority": { "name": authority.name, "city": authority.city },
        "deadline": {
            "days": service.deadline.days,
            "count": service.deadline.count,
            "due": date_view(case.due),
        },
        "case": case.view,
    });
    if let Some(path) = &service.subject {
        data["subject"] = match at_path(&case.view, path) {
            Json::String(text) => json!({ "kk": text, "ru": text }),
            other => other.clone(),
        };
    }
    if let Some(duty) = service.duty {
        let paid_on = at_path(&case.canonical, "duty.date")
            .as_str()
            .and_then(|d| d.parse().ok())
            .expect("validation checked the duty's date");
        let mci = catalogue
            .mci
            .on(paid_on)
            .expect("validation found the MCI in force");
        data["duty"] = json!({
            "mci": duty.mci,
            "rate": money_view(mci),
            "amount": money_view(mci * duty.mci),
        });
    }
    data
}

/// The value of a once-only field in a case's canonical data, as `<field>=<value>`.
/// The registered document numbered `number` that a new document of `service` and kind
/// `document`, held by `holder`, would supersede: `Ok(None)` when the registry has no such
/// document (issued before qujat kept it, or later in this batch), `Err(why)` when it may not be
/// superseded — it belongs to someone else, or it is revoked or superseded already.
pub fn superseded(
    writer: &Writer,
    service: &str,
    document: &str,
    holder: Option<&str>,
    number: &str,
) -> Result<Option<Registered>, String> {
    let Some((_, earlier)) = writer
        .find_number(number)
        .into_iter()
        .find(|(key, _)| key.service == service && key.document == document)
    else {
        return Ok(None);
    };
    if earlier.holder.as_deref() != holder {
        return Err(format!(
            "№ {number} (case {}) was issued to {}, not to this applicant ({})",
            earlier.case_id,
            earlier.holder.as_deref().unwrap_or("?"),
            holder.unwrap_or("?")
        ));
    }
    match writer.status_of(earlier.seq) {
        Some(status) if !status.may_become(Status::Superseded) => {
            Err(format!("№ {number} is {status}"))
        }
        _ => Ok(Some(earlier.clone())),
    }
}

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
    mut cases: Vec<ValidCase>,
    writers: &BTreeMap<String, Writer>,
) -> Plan {
    cases.sort_by(|a, b| {
        (a.decision_date, &a.id, &a.service).cmp(&(b.decision_date, &b.id, &b.service))
    });
    let mut tails: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (code, writer) in writers {
        for (counter, tail) in writer.sequence_tails() {
            tails.insert((code.clone(), counter.clone()), *tail);
        }
    }
    // Once-only documents planned in this batch, with the case that takes each.
    let mut once_planned: BTreeMap<(String, String, String), (String, Origin)> = BTreeMap::new();
    let mut plan = Plan::default();
    for case in cases {
        let service = &catalogue.services[&case.service];
        let case_hash = hash_json(&case.canonical);
        let mut documents = Vec::new();
        let mut problems = Vec::new();
        let refuse =
            |message: String| Problem::new(case.origin.clone(), message).case(Some(&case.id));
        for spec in service.documents_on(&case.outcome) {
            let key = Key {
                service: case.service.clone(),
                case_id: case.id.clone(),
                document: spec.kind.clone(),
            };
            let writer = &writers[&spec.registry];
            if let Some(registered) = writer.registered(&key) {
                if registered.case_hash == case_hash {
                    let lost_supersession = spec
                        .supersedes
                        .as_ref()
                        .and_then(|field| at_path(&case.view, field).as_str())
                        .and_then(|number| {
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
            let once = spec.once_per.as_ref().map(|field| once_value(&case, field));
            if let (Some(value), Some(field)) = (&once, &spec.once_per) {
                let once_key = (case.service.clone(), spec.kind.clone(), value.clone());
                let earlier = writer
                    .registered_once(&once_key)
                    .map(|r| format!("№ {} of {} (case {})", r.number, r.issued, r.case_id))
                    .or_else(|| {
                        once_planned
                            .get(&once_key)
                            .map(|(id, origin)| format!("case {id} at {origin}, in this batch"))
                    });
                if let Some(earlier) = earlier {
                    let shown = value.split_once('=').map_or(value.as_str(), |(_, v)| v);
                    problems.push(
                        refuse(format!(
                            "{} is allowed once per {field}, and {field} {shown} already has one: {earlier}",
                            spec.title.ru
                        ))
                        .field(field.clone()),
                    );
                    continue;
                }
            }
            let supersedes = spec
                .supersedes
                .as_ref()
                .and_then(|field| at_path(&case.view, field).as_str().map(|n| (field, n)));
            if let Some((field, number)) = supersedes {
                let applicant = &case.view["applicant"];
                let holder = applicant["bin"]
                    .as_str()
                    .or_else(|| applicant["iin"].as_str());
                if let Err(why) = superseded(writer, &case.service, &spec.kind, holder, number) {
                    problems.push(
                        refuse(format!("{} {why}: it cannot be replaced", spec.title.ru))
                            .field(field.clone()),
                    );
                    continue;
                }
            }
            let supersedes = supersedes.map(|(_, number)| number.to_string());
            let sequence = &catalogue.registries[&spec.registry].sequences[&spec.sequence];
            let code = match &sequence.code_field {
                Some(field) => case.view[field]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                None => String::new(),
            };
            let counter = sequence.counter(&spec.sequence, &code);
            let items = match &spec.items {
                Some(items) => {
                    let count = at_path(&case.view, &items.list)
                        .as_array()
                        .map_or(0, Vec::len);
                    vec![
                        ItemNumber {
                            sequence: items.sequence.clone(),
                            n: 0,
                            number: String::new(),
                        };
                        count
                    ]
                }
                None => Vec::new(),
            };
            documents.push((key, spec, code, counter, items, once, supersedes));
        }
        if !problems.is_empty() {
            plan.refused.push((case.origin.clone(), problems));
            continue;
        }
        for (key, spec, code, counter, items, once, supersedes) in documents {
            if let Some(value) = &once {
                let once_key = (case.service.clone(), spec.kind.clone(), value.clone());
                once_planned.insert(once_key, (case.id.clone(), case.origin.clone()));
            }
            let mut take = |counter: &str, count: u64| {
                let tail = tails
                    .entry((spec.registry.clone(), counter.to_string()))
                    .or_insert(0);
                let first = *tail + 1;
                *tail += count;
                first
            };
            let n = take(&counter, 1);
            let first_item = match items.first() {
                Some(item) => take(&item.sequence, items.len() as u64),
                None => 0,
            };
            let mut planned = Planned {
                key,
                origin: case.origin.clone(),
                outcome: case.outcome.clone(),
                registry: spec.registry.clone(),
                sequence: spec.sequence.clone(),
                counter,
                n,
                number: String::new(),
                items,
                once,
                supersedes,
                issued: case.decision_date,
                case_hash: case_hash.clone(),
                template: spec.template.clone(),
                data: Box::default(),
                holder: holder_of(&Json::Null),
                title: title_of(&Json::Null),
                code,
            };
            planned.set_numbers(n, first_item, catalogue);
            let mut data = document_data(catalogue, &case, spec);
            planned.number_data(&mut data);
            planned.holder = holder_of(&data);
            planned.title = title_of(&data);
            planned.data = canonical(&data).into();
            plan.documents.push(planned);
        }
    }
    plan
}
