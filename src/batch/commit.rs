//! Committing rendered documents, in groups: each PDF is written under its name (through a
//! temporary file and a rename) and its record staged; then, for the whole group, the PDFs and
//! their folders are synced — every PDF durable — and only then are the records appended and
//! synced, one write per registry. A record never names a PDF a crash could lose; a crash before the
//! records are durable leaves PDFs without records, which the next run writes again, byte for
//! byte, under the same numbers.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;

use super::report::Issued;
use super::{BatchConfig, Rendered, Report, Setup};
use crate::fsio::{sync_files, write_replacing};
use crate::numbering::Gapless;
use crate::plan::Planned;
use crate::problem::Problem;
use crate::registry::{
    DocumentEntry, Entry, PdfEntry, Record, Status, StatusEntry, Writer, sha256_hex,
};
use crate::render::Profile;
use crate::spool::Spool;
use crate::store::{Kind, Store};

pub(super) struct Committer<'a> {
    setup: &'a Setup,
    config: &'a BatchConfig,
    spool: &'a Spool,
    /// Where signatures are kept.
    store: &'a dyn Store,
    writers: &'a mut BTreeMap<String, Writer>,
    report: &'a mut Report,
    /// Numbers given back by documents that could not be issued: later ones move down, to keep
    /// every counter gapless.
    gapless: Gapless,
    /// The documents of the group being committed (their PDFs, and what the report says of
    /// them once their records are durable).
    group: Vec<(PathBuf, Issued)>,
    /// The group's signatures, kept before its records are appended.
    signatures: Vec<Vec<u8>>,
}

/// How many documents are committed together (one filesystem sync, one journal sync): a crash
/// costs at most this many documents, which the next run issues again identically.
const GROUP: usize = 64;

impl<'a> Committer<'a> {
    pub fn new(
        setup: &'a Setup,
        config: &'a BatchConfig,
        spool: &'a Spool,
        store: &'a dyn Store,
        writers: &'a mut BTreeMap<String, Writer>,
        report: &'a mut Report,
    ) -> Committer<'a> {
        Committer {
            setup,
            config,
            spool,
            store,
            writers,
            report,
            gapless: Gapless::default(),
            group: Vec::new(),
            signatures: Vec::new(),
        }
    }

    /// Makes the group durable: its signatures and PDFs first, then the records naming them.
    pub fn flush(&mut self) -> Result<()> {
        if self.group.is_empty() {
            return Ok(());
        }
        self.store
            .keep_all(Kind::Signature, &std::mem::take(&mut self.signatures))?;
        sync_files(self.group.iter().map(|(path, _)| path.as_path()))?;
        for writer in self.writers.values_mut() {
            writer.flush()?;
        }
        for (_, issued) in self.group.drain(..) {
            self.report.issued(issued)?;
        }
        Ok(())
    }

    /// Commits one document (in number order). Only I/O failures are errors; a document that
    /// cannot be rendered is reported and its number goes to the next one.
    pub fn commit(&mut self, planned: &Planned, rendered: Rendered) -> Result<()> {
        let shift = self.gapless.shift(&planned.registry, &planned.counter);
        let item_shift = planned
            .items
            .first()
            .map_or(0, |i| self.gapless.shift(&planned.registry, &i.sequence));
        let (planned, rendered) = if shift == 0 && item_shift == 0 {
            (Cow::Borrowed(planned), rendered)
        } else {
            let mut moved = planned.clone();
            let first_item = planned.items.first().map_or(0, |i| i.n - item_shift);
            moved.renumber(planned.n - shift, first_item, &self.setup.catalogue);
            let rendered = self.setup.render(&moved, self.config, self.spool)?;
            (Cow::Owned(moved), rendered)
        };
        let pdf = match rendered.pdf {
            Ok(pdf) => pdf,
            Err(err) => {
                self.gapless.give_back(&planned.registry, planned.takes());
                let problem =
                    Problem::new(planned.origin.clone(), format!("cannot be rendered: {err}"))
                        .case(Some(&planned.case_id))
                        .field(format!("document {}", planned.document));
                self.report.reject(planned.origin.clone(), vec![problem])?;
                return Ok(());
            }
        };

        let sha256 = sha256_hex(&pdf);
        let file = planned.file();
        let path = self.config.out.join(&file);
        write_replacing(&path, &pdf)?;
        if let Some(signature) = rendered.keep {
            self.signatures.push(signature);
        }

        let writer = self
            .writers
            .get_mut(&*planned.registry)
            .expect("registries were opened");
        let (seq, prev) = writer.next_link();
        let (_, template) = &self.setup.templates[&*planned.template];
        let meta = planned.pdf_meta(&self.config.creator);
        let record = Record {
            seq,
            prev,
            entry: Entry::Document(DocumentEntry {
                service: planned.service.to_string(),
                case_id: planned.case_id.clone(),
                document: planned.document.to_string(),
                sequence: planned.counter.to_string(),
                n: planned.n,
                number: planned.number.clone(),
                items: planned.items.clone(),
                once: planned.once.clone(),
                issued: planned.issued,
                case_hash: planned.case_hash.clone(),
                content: rendered.content,
                data: serde_json::Value::Null,
                template: template.version.clone(),
                fonts: self.setup.engine.fonts.hash.clone(),
                engine: Profile::CURRENT.name().to_string(),
                pdf: PdfEntry {
                    sha256: sha256.clone(),
                    file: file.clone(),
                    created: meta.created_text(),
                    ident: meta.ident,
                    creator: meta.creator,
                },
                qr: rendered.qr,
                holder: Some(rendered.holder.clone()),
                title: Some(rendered.title),
                signature: rendered.signature,
            }),
        };
        writer.stage_with_data(&record, &rendered.data)?;
        if let Some(number) = &planned.supersedes {
            self.supersede(&planned, &rendered.holder.id, number)?;
        }
        self.group
            .push((path, Issued::of(&planned, &file, &sha256)));
        if self.group.len() >= GROUP {
            self.flush()?;
        }
        Ok(())
    }

    /// Marks the document `planned` replaces superseded, by an appended status event. A number
    /// that names no document of the registry (one issued before qujat kept it) or one that
    /// cannot be superseded is reported, and nothing is appended.
    fn supersede(&mut self, planned: &Planned, holder: &str, number: &str) -> Result<()> {
        let writer = self
            .writers
            .get_mut(&*planned.registry)
            .expect("registries were opened");
        let case = &planned.case_id;
        let holder = Some(holder).filter(|id| !id.is_empty());
        let key = planned.key();
        let earlier =
            match crate::plan::superseded(writer, &key.service, &key.document, holder, number) {
                Ok(Some(earlier)) => earlier,
                Ok(None) => {
                    self.report.warn(format!(
                        "case {case}: № {number}, which {} № {} replaces, is not in registry {} \
                     (issued before qujat kept it?); nothing was marked superseded",
                        key.document, planned.number, planned.registry
                    ))?;
                    return Ok(());
                }
                Err(why) => {
                    self.report.warn(format!(
                        "case {case}: {why}; it was not marked superseded by № {}",
                        planned.number
                    ))?;
                    return Ok(());
                }
            };
        writer.stage_status(StatusEntry {
            target: earlier.seq,
            number: number.to_string(),
            status: Status::Superseded,
            date: planned.issued,
            reason: format!("іс / дело {case}"),
            by: Some(planned.number.clone()),
        })?;
        Ok(())
    }
}
