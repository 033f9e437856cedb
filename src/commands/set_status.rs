//! `qujat registry set-status`: an officer suspends, revokes or reinstates a document, as a
//! status event appended under the writer's lock. The document's record is never changed.

use std::time::Duration;

use anyhow::{Result, bail};

use crate::catalogue::Catalogue;
use crate::date::Date;
use crate::registry::{Record, Status, StatusEntry, Wanted, Writer};
use crate::store::Store;

/// What an officer asks.
#[derive(Debug, Clone)]
pub struct Change {
    pub registry: String,
    pub number: String,
    pub status: Status,
    pub date: Date,
    pub reason: String,
    pub wait: Duration,
    /// The key the registry's checkpoints are signed with, and their origin.
    pub checkpoints: Option<(std::sync::Arc<crate::registry::note::NoteSigner>, String)>,
}

/// What came of it.
#[derive(Debug)]
pub enum Outcome {
    /// Recorded: the event's record, and the document's.
    Done { event: Box<Record>, target: u64 },
    /// Not allowed, and why (nothing was written).
    Refused(String),
}

/// Appends the status change, if it is allowed.
pub fn set_status(store: &dyn Store, catalogue: &Catalogue, change: &Change) -> Result<Outcome> {
    if change.status == Status::Superseded {
        return Ok(Outcome::Refused(
            "a document is superseded only by the document that replaces it: issue the \
             re-registration through `qujat batch`"
                .to_string(),
        ));
    }
    if change.reason.trim().is_empty() {
        bail!("--reason must name the order or decision the change follows from");
    }
    crate::registry::reader::Reader::open(store, &change.registry)?;
    let mut writer = Writer::open(store, &change.registry, change.wait)?;
    if let Some((signer, origin)) = &change.checkpoints {
        writer.sign_checkpoints(signer.clone(), origin);
    }
    writer.prefetch(&Wanted {
        numbers: vec![change.number.clone()],
        ..Wanted::default()
    })?;
    let found = writer.find_number(&change.number);
    let (key, registered) = match found.as_slice() {
        [] => {
            return Ok(Outcome::Refused(format!(
                "registry {} has no document № {}",
                change.registry, change.number
            )));
        }
        [one] => one.clone(),
        _ => bail!(
            "registry {} has several documents № {}; this cannot be resolved by number",
            change.registry,
            change.number
        ),
    };
    let on = catalogue
        .services
        .get(&key.service)
        .and_then(|s| s.documents.get(&key.document))
        .map(|d| d.on.as_str());
    if on == Some(crate::catalogue::REFUSED) {
        return Ok(Outcome::Refused(format!(
            "№ {} is a refusal letter ({} of {}); only issued documents can be suspended or \
             revoked",
            change.number, key.document, key.service
        )));
    }
    let target = registered.seq;
    let current = writer.status_of(target).unwrap_or(Status::Active);
    if !current.may_become(change.status) {
        return Ok(Outcome::Refused(format!(
            "№ {} is {current}; it cannot become {}",
            change.number, change.status
        )));
    }
    if change.date < registered.issued {
        bail!(
            "--date {} is before the document was issued ({})",
            change.date,
            registered.issued
        );
    }
    let event = writer.append_status(StatusEntry {
        target,
        number: change.number.clone(),
        status: change.status,
        date: change.date,
        reason: change.reason.trim().to_string(),
        by: None,
    })?;
    writer.write_head()?;
    Ok(Outcome::Done {
        event: Box::new(event),
        target,
    })
}
