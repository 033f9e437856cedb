//! The nightly batch: parse → validate → plan → render → commit → report.
//!
//! Parsing and validation never stop the batch: every bad file or case becomes a located
//! rejection. Numbering is sequential; only rendering runs in parallel; commits happen in
//! number order, each PDF written atomically before its record is appended and made durable.

mod commit;
mod intake;
mod progress;
mod report;
pub mod workers;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

pub use progress::ProgressMode;
pub use report::{Rejection, Report, Summary};

use crate::case;
use crate::catalogue::Catalogue;
use crate::date::Date;
use crate::plan::{self, Planned};
use crate::registry::templates::{TemplateBundle, TemplateStore};
use crate::registry::{
    Holder, Status, StatusEntry, Words, Writer, holder_of, sha256_hex, title_of,
};
use crate::render::{Engine, Profile, RenderError, Template};
use crate::shipped::Files;
use crate::spool::Spool;
use crate::store::Recovered;
use crate::validate::Validator;

/// Everything a batch run needs, resolved and checked by the command line.
#[derive(Debug, Clone)]
pub struct BatchConfig {
    pub cases: PathBuf,
    pub out: PathBuf,
    pub registry: PathBuf,
    /// Where the catalogue, templates and fonts are read from (a folder, or the built-in copy).
    pub catalogue: Files,
    pub templates: Files,
    pub fonts: Files,
    /// Rendering threads.
    pub jobs: usize,
    /// The run date: no date in a case may be after it. Never written into a document.
    pub today: Date,
    /// How long to wait for another writer's lock on a registry.
    pub wait: Duration,
    /// The PDF `/Creator` of new documents.
    pub creator: String,
    /// The verification address new documents' QR codes point to.
    pub verify_url: String,
    /// How progress is shown.
    pub progress: ProgressMode,
    /// The key the registries' checkpoints are signed with, and their origin.
    pub checkpoints: Option<(std::sync::Arc<crate::registry::note::NoteSigner>, String)>,
    /// The officials' signing keys, opened: every document is signed. `None`: none is.
    pub signing: Option<std::sync::Arc<crate::sign::Issuing>>,
}

/// How many documents are rendered between two evictions of Typst's caches: without eviction,
/// memory grows with every document and parallel throughput halves. Measured on 2 cores
/// (docs/performance.md): every 64 a batch peaked at 165–190 MB, every 16 at 75–110 MB, every 8
/// at 76–87 MB (2,000 and 20,000 documents), at the same speed: the documents share nothing
/// worth caching, and the engine's peaks between evictions are what a batch's memory is.
pub const EVICT_EVERY: usize = 8;

/// The shared, read-only setup of a run: catalogue, engine, and the templates the catalogue uses.
pub struct Setup {
    pub catalogue: Catalogue,
    pub engine: Engine,
    /// Template versions by main path, ready to render.
    pub templates: HashMap<String, (TemplateBundle, Template)>,
}

impl Setup {
    pub fn load(catalogue: &Files, templates: &Files, fonts: &Files) -> Result<Setup> {
        let catalogue = Catalogue::load_from(catalogue)?;
        let engine = Engine::from_files(fonts)?;
        let mut prepared = HashMap::new();
        let paths: BTreeSet<&str> = catalogue
            .services
            .values()
            .flat_map(|s| s.documents.values().map(|d| d.template.as_str()))
            .collect();
        for path in paths {
            let bundle = TemplateBundle::collect_from(templates, path)?;
            let template = engine.template(&bundle)?;
            prepared.insert(path.to_string(), (bundle, template));
        }
        Ok(Setup {
            catalogue,
            engine,
            templates: prepared,
        })
    }

    /// Renders a planned document with the batch's creator and verification address, turning
    /// a panic inside the engine into an error, and signs it when the batch signs (on the
    /// calling thread: the render threads sign, not rayon's); the signature is kept with its
    /// group ([`commit::Committer::flush`]). The outer error is the spool failing (fatal); the
    /// document's own failure is in [`Rendered::pdf`].
    pub fn render(
        &self,
        planned: &Planned,
        config: &BatchConfig,
        spool: &Spool,
    ) -> Result<Rendered> {
        let (_, template) = &self.templates[&*planned.template];
        let data = planned.data(spool)?;
        let content = sha256_hex(data.as_bytes());
        let qr = planned.qr(&config.verify_url, &content);
        let meta = planned.pdf_meta(&config.creator);
        let pdf = Profile::CURRENT
            .qr(&qr)
            .map_err(|err| RenderError(format!("{err:#}")))
            .and_then(|image| {
                std::panic::catch_unwind(AssertUnwindSafe(|| {
                    self.engine.render(template, data.as_bytes(), &image, &meta)
                }))
                .unwrap_or_else(|panic| {
                    let message = panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("unknown panic");
                    Err(RenderError(format!(
                        "the typesetting engine failed: {message}"
                    )))
                })
            });
        // Who it is issued to and its title are in the data (the record keeps them too, for
        // extracts); reading them back here keeps them out of memory until now.
        let shown: serde_json::Value = serde_json::from_str(&data)?;
        let mut signature = None;
        let mut keep = None;
        let pdf = match (pdf, &config.signing) {
            (Ok(unsigned), Some(signing)) if !shown["signature"].is_null() => {
                match signing.sign(&unsigned, &shown["signature"], planned.issued) {
                    Ok(mut signed) => {
                        keep = Some(signed.to_keep());
                        signature = Some(signed.entry);
                        Ok(signed.pdf)
                    }
                    Err(err) => Err(RenderError(format!("cannot be signed: {err:#}"))),
                }
            }
            (pdf, _) => pdf,
        };
        Ok(Rendered {
            holder: holder_of(&shown),
            title: title_of(&shown),
            data,
            content,
            qr,
            pdf,
            signature,
            keep,
        })
    }
}

/// A planned document typeset: the data it shows (canonical JSON, numbers filled in), the
/// hash of that registered content, the QR payload, its holder and title, and the PDF — or why
/// there is none.
pub struct Rendered {
    pub data: String,
    pub content: String,
    pub qr: String,
    pub holder: Holder,
    pub title: Words,
    /// The PDF, signed when the batch signs.
    pub pdf: Result<Vec<u8>, RenderError>,
    /// What the record says of its signature.
    pub signature: Option<crate::registry::SignatureEntry>,
    /// The signature to keep before the record is appended (its hash is `signature.kept`).
    pub keep: Option<Vec<u8>>,
}

/// Runs a batch. Everything it did is in the report, also when a fatal error (the registry
/// cannot be read or written, the catalogue is broken) stopped it; that error is returned too.
pub fn run(config: &BatchConfig) -> (Report, Result<()>) {
    let mut report = Report::new(config);
    let result = run_into(config, &mut report);
    if let Err(err) = &result {
        report.fatal(format!("{err:#}"));
    }
    (report, result)
}

fn run_into(config: &BatchConfig, report: &mut Report) -> Result<()> {
    let setup = Setup::load(&config.catalogue, &config.templates, &config.fonts)?;
    let catalogue = &setup.catalogue;
    // The planned documents' data waits here until rendered, not in memory.
    let spool = Spool::new(&config.out)?;

    // Parse and validate, case by case as the files are read.
    let glyphs = crate::validate::Glyphs::new(&setup.engine.fonts.fonts);
    let glyph_of = |c: char| glyphs.of(c);
    let validator = Validator {
        catalogue,
        today: config.today,
        glyphs: &glyph_of,
    };
    let mut intake = intake::Intake::new(catalogue, &validator, &spool, &config.out)
        .signed_by(config.signing.as_deref());
    let read = case::read_dir(&config.cases, &mut intake);
    let taken = intake.finish()?;
    report.summary.files = read.files;
    report.skipped(read.skipped);
    for warning in read.warnings {
        report.warn(warning)?;
    }
    report.summary.cases = taken.cases;
    taken
        .rejected
        .for_each(|origin, problems| report.reject(origin, problems))?;
    let valid = taken.candidates;
    report.record_overdue(&valid)?;
    // The raw and validated cases are gone; what they took goes back before rendering.
    crate::memory::give_back();

    // Lock and read every registry these cases go to, in name order.
    let registries: BTreeSet<&str> = valid
        .iter()
        .flat_map(|c| {
            catalogue.services[&c.service]
                .documents_on(&c.outcome)
                .map(|d| d.registry.as_str())
        })
        .collect();
    let store = crate::store::open(&config.registry)?;
    let mut writers = BTreeMap::new();
    crate::fsio::remove_stale_temporaries(&config.out);
    for code in registries {
        let mut writer = Writer::open(store.as_ref(), code, config.wait)?;
        if let Some((signer, origin)) = &config.checkpoints {
            writer.sign_checkpoints(signer.clone(), origin);
        }
        // Holding the lock, no live writer has temporary files here: any are a crash's.
        crate::fsio::remove_stale_temporaries(&config.out.join(code));
        match &writer.recovery {
            Some((Recovered::Cut { whole, kept }, bytes)) => {
                report.warn(format!(
                    "registry {code}: the last write was cut off (a crash?); removed {bytes} \
                     bytes of an incomplete record, keeping {whole} bytes of whole records"
                ))?;
                report.kept_aside(report::KeptAside {
                    registry: code.to_string(),
                    bytes: *bytes,
                    file: kept.clone(),
                });
            }
            Some((Recovered::Completed, _)) => report.warn(format!(
                "registry {code}: its last record was written whole but for its end of line (a \
                 crash?); the end of line was added"
            ))?,
            None => {}
        }
        for note in writer.notes.drain(..) {
            report.warn(note)?;
        }
        writers.insert(code.to_string(), writer);
    }
    // What planning looks up, fetched from each registry in one go.
    let mut wanted: BTreeMap<&str, crate::registry::Wanted> = BTreeMap::new();
    for case in &valid {
        let service = &catalogue.services[&case.service];
        for (spec, prepared) in service.documents_on(&case.outcome).zip(&case.documents) {
            prepared.wanted(
                case,
                spec,
                wanted.entry(spec.registry.as_str()).or_default(),
            );
        }
        // A lookalike id is refused when its all-ASCII twin is registered (plan's rules).
        if let Some(twin) = crate::plan::ascii_twin(&case.id) {
            for spec in service.documents.values() {
                if writers.contains_key(&spec.registry) {
                    wanted.entry(spec.registry.as_str()).or_default().keys.push(
                        crate::registry::Key {
                            service: case.service.clone(),
                            case_id: twin.clone(),
                            document: spec.kind.clone(),
                        },
                    );
                }
            }
        }
    }
    for (code, wanted) in &wanted {
        writers
            .get_mut(*code)
            .expect("registries were opened")
            .prefetch(wanted)?;
    }

    // Plan.
    let plan = plan::plan(catalogue, valid, &writers);
    for (origin, problems) in plan.refused {
        report.reject(origin, problems)?;
    }
    report.record_already(&plan.already)?;
    for already in &plan.already {
        let Some((target, number)) = &already.lost_supersession else {
            continue;
        };
        let writer = writers
            .get_mut(&already.registry)
            .expect("registries were opened");
        writer.stage_status(StatusEntry {
            target: *target,
            number: number.clone(),
            status: Status::Superseded,
            date: already.issued,
            reason: format!("іс / дело {}", already.key.case_id),
            by: Some(already.number.clone()),
        })?;
        report.warn(format!(
            "registry {}: № {} replaces № {number}, but the event marking № {number} superseded \
             was missing (lost with an interrupted run); it is appended now",
            already.registry, already.number
        ))?;
    }

    // Keep every template version before any record names it.
    let templates = TemplateStore::new(store.as_ref());
    let used: BTreeSet<&str> = plan.documents.iter().map(|d| &*d.template).collect();
    for path in used {
        templates.keep(&setup.templates[path].0)?;
    }

    // Room in each registry's writer for what it will take in.
    let mut planned_in = BTreeMap::<&str, usize>::new();
    for planned in &plan.documents {
        *planned_in.entry(&planned.registry).or_default() += 1;
    }
    for (code, documents) in planned_in {
        writers
            .get_mut(code)
            .expect("registries were opened")
            .reserve(documents);
    }

    // The planned documents wait in the spool until rendered; memory keeps where each one is.
    let count = plan.documents.len() as u64;
    // Not `into_iter().map().collect()`: that would reuse the planned documents' allocation,
    // twenty times the size needed, for the whole batch.
    let mut waiting = Vec::with_capacity(plan.documents.len());
    for planned in plan.documents {
        waiting.push(spool.put_value(&planned)?);
    }
    crate::memory::give_back();

    // Render in parallel, commit in order.
    let mut committer =
        commit::Committer::new(&setup, config, &spool, store.as_ref(), &mut writers, report);
    let mut progress = progress::Progress::new(config.progress, count);
    let rendered = std::sync::atomic::AtomicUsize::new(0);
    workers::ordered(
        waiting,
        config.jobs,
        config.jobs * 8,
        |at| -> Result<(Planned, Rendered)> {
            let planned: Planned = spool.value(at)?;
            let result = setup.render(&planned, config, &spool)?;
            let count = rendered.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if count.is_multiple_of(EVICT_EVERY) || result.pdf.is_err() {
                typst::comemo::evict(0);
            }
            Ok((planned, result))
        },
        |_, result| {
            progress.inc();
            let (planned, rendered) = result?;
            committer.commit(&planned, rendered)
        },
    )
    .and_then(|()| committer.flush())
    .context("the batch stopped before every document was committed")?;
    progress.finish();
    typst::comemo::evict(0);
    for writer in writers.values_mut() {
        writer.write_head()?;
    }
    Ok(())
}
