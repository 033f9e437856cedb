//! `qujat services --json`: the facts the text listing ([`crate::catalogue::listing`]) shows,
//! as one JSON document for scripts. Keys are stable; absent facts are `null`, never missing.

use serde_json::{Value, json};

use crate::catalogue::{Catalogue, Count};

/// The catalogue's services, their documents, registries, number formats and deadlines.
pub fn json(catalogue: &Catalogue, source: &str) -> Value {
    let services: Vec<Value> = catalogue
        .services
        .values()
        .map(|service| {
            let documents: Vec<Value> = service
                .documents
                .values()
                .map(|document| {
                    let registry = &catalogue.registries[&document.registry];
                    let sequence = &registry.sequences[&document.sequence];
                    let items = document.items.as_ref().map(|items| {
                        json!({
                            "list": items.list,
                            "sequence": items.sequence,
                            "format": registry.sequences[&items.sequence].format.to_string(),
                        })
                    });
                    json!({
                        "kind": document.kind,
                        "on": document.on,
                        "title": {"kk": document.title.kk, "ru": document.title.ru},
                        "template": document.template,
                        "registry": document.registry,
                        "sequence": document.sequence,
                        "format": sequence.format.to_string(),
                        "per_code": sequence.per_code,
                        "items": items,
                        "once_per": document.once_per,
                        "supersedes": document.supersedes,
                    })
                })
                .collect();
            json!({
                "code": service.code,
                "name": {"kk": service.name.kk, "ru": service.name.ru},
                "provider": service.provider,
                "provider_field": service.provider_field,
                "deadlines": service
                    .deadlines
                    .rules()
                    .iter()
                    .map(|rule| {
                        json!({
                            "from": rule.from,
                            "stages": rule
                                .stages
                                .iter()
                                .map(|stage| json!({
                                    "days": stage.days,
                                    "count": match stage.count {
                                        Count::Working => "working",
                                        Count::Calendar => "calendar",
                                    },
                                }))
                                .collect::<Vec<_>>(),
                            "source": rule.source,
                            "unverified": rule.unverified,
                        })
                    })
                    .collect::<Vec<_>>(),
                "duty_mci": service.duty.as_ref().map(|d| d.mci()),
                "duty_on": service.duty.as_ref().and_then(|d| d.on.clone()),
                "documents": documents,
            })
        })
        .collect();
    json!({
        "catalogue": source,
        "services": services,
    })
}
