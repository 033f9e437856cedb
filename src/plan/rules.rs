//! The rules that decide whether a case may have a document, the same whatever night it comes
//! in: a document allowed once per value of a field, one document of a kind per application,
//! the document a re-registration replaces (its holder, and whether it may still be replaced),
//! and a case id that looks like a registered one.
//!
//! Each rule asks two things the same question: the registry (what earlier nights registered,
//! through the [`Writer`]'s lookups) and [`Earlier`] (what this batch planned before the case,
//! in planning order). So a batch decides each case as if every case planned before it had
//! been registered on a night of its own: two cases give the same outcomes in one batch as in
//! two. What the registry cannot be asked (it records no application number except as a
//! once-only value), only the batch answers: see docs/decisions.md.

use std::collections::HashMap;

use super::{Candidate, Prepared};
use crate::catalogue::{DocumentSpec, Service};
use crate::problem::{Origin, Problem};
use crate::registry::{Key, Registered, Status, Writer};

/// A case of this batch, where it was read.
#[derive(Debug, Clone)]
struct Place {
    case_id: String,
    origin: Origin,
}

impl Place {
    fn of(case: &Candidate) -> Place {
        Place {
            case_id: case.id.clone(),
            origin: case.origin.clone(),
        }
    }
}

/// A document this batch planned, as the registry will know it.
#[derive(Debug)]
struct Doc {
    service: String,
    kind: String,
    holder: Option<String>,
    place: Place,
}

/// What this batch planned so far, for the rules to ask as they ask the registry.
#[derive(Debug, Default)]
pub(super) struct Earlier {
    /// Documents planned, by registry and number.
    numbers: HashMap<(String, String), Vec<Doc>>,
    /// Documents this batch replaces, registered or planned, by registry, service, kind and
    /// number: the number of the document that replaces each, and its case.
    replaced: HashMap<(String, String, String, String), (String, Place)>,
    /// Once-only values taken: service, kind, `<field>=<value>`.
    once: HashMap<(String, String, String), Place>,
    /// Applications that have a document of a kind: service, kind, the TR39 skeleton of the
    /// application number (so a Cyrillic К in `KZ07…` is the same application), with the
    /// number as written.
    applications: HashMap<(String, String, String), (String, Place)>,
}

/// The skeleton two strings share when they look the same (Unicode TR39).
fn skeleton(text: &str) -> String {
    unicode_security::skeleton(text).collect()
}

impl Earlier {
    /// Why `case` may not have the document `spec` (prepared as `prepared`) in the registry
    /// of `writer`, if it may not: the first rule it breaks, as a problem at its field.
    pub(super) fn refusal(
        &self,
        writer: &Writer,
        case: &Candidate,
        spec: &DocumentSpec,
        prepared: &Prepared,
    ) -> Option<Problem> {
        let refuse = |field: &str, message: String| {
            Some(
                Problem::new(case.origin.clone(), message)
                    .case(Some(&case.id))
                    .field(field),
            )
        };
        let title = &spec.title.ru;
        if let (Some(value), Some(field)) = (&prepared.once, &spec.once_per) {
            let once_key = (case.service.clone(), spec.kind.clone(), value.clone());
            let earlier = writer
                .registered_once(&once_key)
                .map(|r| format!("№ {} of {} (case {})", r.number, r.issued, r.case_id))
                .or_else(|| {
                    let place = self.once.get(&once_key)?;
                    Some(format!(
                        "case {} at {}, in this batch",
                        place.case_id, place.origin
                    ))
                });
            if let Some(earlier) = earlier {
                let shown = value.split_once('=').map_or(value.as_str(), |(_, v)| v);
                return refuse(
                    field,
                    format!(
                        "{title} is allowed once per {field}, and {field} {shown} already has \
                         one: {earlier}"
                    ),
                );
            }
        }
        let application = (
            case.service.clone(),
            spec.kind.clone(),
            skeleton(&case.application),
        );
        if let Some((written, place)) = self.applications.get(&application) {
            let alike = if *written == case.application {
                String::new()
            } else {
                format!(" (written {written:?} there, alike but for lookalike characters)")
            };
            return refuse(
                "application.number",
                format!(
                    "{title} is issued once per application, and application {} already has \
                     one: case {} at {}, in this batch{alike}",
                    case.application, place.case_id, place.origin
                ),
            );
        }
        if let (Some(number), Some(field)) = (&prepared.supersedes, &spec.supersedes)
            && let Err(why) = self.replaceable(writer, case, spec, number)
        {
            return refuse(field, format!("{title} {why}: it cannot be replaced"));
        }
        None
    }

    /// Whether the document numbered `number` may be replaced by `case`'s document of kind
    /// `spec`: `Err(why)` when it belongs to someone else or is no longer in force, in the
    /// registry or in this batch; `Ok` also when neither knows it (issued before qujat kept
    /// it, or later in this batch: the batch warns when it commits).
    fn replaceable(
        &self,
        writer: &Writer,
        case: &Candidate,
        spec: &DocumentSpec,
        number: &str,
    ) -> Result<(), String> {
        let holder = case.applicant.as_deref();
        let registered = superseded(writer, &case.service, &spec.kind, holder, number)?;
        let planned = self
            .numbers
            .get(&(spec.registry.clone(), number.to_string()))
            .and_then(|docs| {
                docs.iter()
                    .find(|d| d.service == case.service && d.kind == spec.kind)
            });
        if registered.is_none()
            && let Some(doc) = planned
            && doc.holder.as_deref() != holder
        {
            return Err(format!(
                "№ {number} (case {}, at {}, in this batch) is issued to {}, not to this \
                 applicant ({})",
                doc.place.case_id,
                doc.place.origin,
                doc.holder.as_deref().unwrap_or("?"),
                holder.unwrap_or("?")
            ));
        }
        // A number neither knows is not marked replaced, on any night: nothing to refuse.
        let known = registered.is_some() || planned.is_some();
        let key = replaced_key(spec, &case.service, number);
        if known && let Some((by, place)) = self.replaced.get(&key) {
            return Err(format!(
                "№ {number} is replaced already, by № {by} of case {} at {}, in this batch",
                place.case_id, place.origin
            ));
        }
        Ok(())
    }

    /// Takes note of `case`'s document of kind `spec`, planned as `number`.
    pub(super) fn planned(
        &mut self,
        case: &Candidate,
        spec: &DocumentSpec,
        prepared: &Prepared,
        number: &str,
    ) {
        let place = Place::of(case);
        self.numbers
            .entry((spec.registry.clone(), number.to_string()))
            .or_default()
            .push(Doc {
                service: case.service.clone(),
                kind: spec.kind.clone(),
                holder: case.applicant.clone(),
                place: place.clone(),
            });
        if let Some(value) = &prepared.once {
            let key = (case.service.clone(), spec.kind.clone(), value.clone());
            self.once.insert(key, place.clone());
        }
        let application = (
            case.service.clone(),
            spec.kind.clone(),
            skeleton(&case.application),
        );
        self.applications
            .entry(application)
            .or_insert_with(|| (case.application.clone(), place.clone()));
        if let Some(replaced) = &prepared.supersedes {
            let key = replaced_key(spec, &case.service, replaced);
            self.replaced.insert(key, (number.to_string(), place));
        }
    }
}

fn replaced_key(
    spec: &DocumentSpec,
    service: &str,
    number: &str,
) -> (String, String, String, String) {
    (
        spec.registry.clone(),
        service.to_string(),
        spec.kind.clone(),
        number.to_string(),
    )
}

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
        _ => Ok(Some(earlier)),
    }
}

/// A case id written in another alphabet's lookalike letters of a registered case's id
/// (Cyrillic `МR-…` for `MR-…`): the problem that refuses it. Mixed-script ids are refused by
/// validation, so the registered id is looked up as the all-ASCII id that looks the same.
pub(super) fn lookalike_registered(
    writers: &std::collections::BTreeMap<String, Writer>,
    service: &Service,
    case: &Candidate,
) -> Option<Problem> {
    let twin = ascii_twin(&case.id)?;
    for spec in service.documents.values() {
        let Some(writer) = writers.get(&spec.registry) else {
            continue;
        };
        let key = Key {
            service: case.service.clone(),
            case_id: twin.clone(),
            document: spec.kind.clone(),
        };
        if let Some(registered) = writer.registered(&key) {
            let problem = Problem::new(
                case.origin.clone(),
                format!(
                    "the case id looks the same as case id {twin:?}, whose {} № {} was \
                     registered on {}: the ids differ only in lookalike characters",
                    spec.title.ru, registered.number, registered.issued
                ),
            )
            .case(Some(&case.id))
            .field("id");
            return Some(problem);
        }
    }
    None
}

/// The all-ASCII string that looks like `id`, when `id` is not ASCII and every character of it
/// that is not has an ASCII lookalike (Unicode TR39 confusables).
pub fn ascii_twin(id: &str) -> Option<String> {
    if id.is_ascii() {
        return None;
    }
    let mut twin = String::with_capacity(id.len());
    for c in id.chars() {
        if c.is_ascii() {
            twin.push(c);
            continue;
        }
        let mut buffer = [0; 4];
        let mut alike = unicode_security::skeleton(c.encode_utf8(&mut buffer));
        match (alike.next(), alike.next()) {
            (Some(a), None) if a.is_ascii() => twin.push(a),
            _ => return None,
        }
    }
    Some(twin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cyrillic_lookalike_id_has_an_ascii_twin() {
        assert_eq!(
            ascii_twin("\u{41C}R-2026-0107").as_deref(),
            Some("MR-2026-0107")
        );
        assert_eq!(ascii_twin("\u{41C}\u{420}-1").as_deref(), Some("MP-1"));
        assert_eq!(ascii_twin("MR-2026-0107"), None);
        // Д has no Latin lookalike: no twin to look up.
        assert_eq!(ascii_twin("Д-1"), None);
    }

    #[test]
    fn skeletons_make_lookalike_application_numbers_one() {
        assert_eq!(skeleton("KZ07N0104519"), skeleton("\u{41A}Z07N0104519"));
        assert_ne!(skeleton("KZ07N0104519"), skeleton("KZ07N0104518"));
    }
}
