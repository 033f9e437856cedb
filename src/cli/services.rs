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
                "deadline": {
                    "days": service.deadline.days,
                    "count": match service.deadline.count {
                        Count::Working => "working",
                        Count::Calendar => "calendar",
                    },
                },
                "duty_mci": service.duty.map(|d| d.mci),
                "documents": documents,
            })
        })
        .collect();
    json!({
        "catalogue": source,
        "services": services,
    })
}
