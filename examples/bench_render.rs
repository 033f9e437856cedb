//! The engine's limit for a registry's documents (`make bench`, docs/performance.md).
//!
//! ```sh
//! cargo run --release --example bench_render -- --registry DIR [--code media] [--jobs N]
//! cargo run --release --example bench_render -- --registry DIR --export DIR --templates DIR
//! ```
//!
//! Renders every document record of registry `--code` again, in process, with qujat's renderer
//! alone: the data, template version, QR payload and PDF metadata come from the records, loaded
//! before the clock starts; nothing is parsed, validated, numbered, hashed or written while it
//! runs. `--jobs` dedicated threads take documents from a shared counter and evict Typst's
//! caches as often as `qujat batch` does — the same engine use, minus the pipeline. Prints
//! `{"documents": N, "seconds": S, "jobs": J}`.
//!
//! With `--export`, it renders nothing and writes the same documents for the Python peer
//! (`bench/peer.py`) instead: a copy of the templates folder, each document's data and QR code
//! as files beside it, and `manifest.json` listing them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use qujat::registry::reader::Reader;
use qujat::registry::templates::TemplateStore;
use qujat::registry::{DocumentEntry, canonical};
use qujat::render::{Engine, PdfMeta, Profile, Template};

/// How many documents are rendered between two evictions of Typst's caches: as in a batch.
const EVICT_EVERY: usize = qujat::batch::EVICT_EVERY;

struct Args {
    registry: PathBuf,
    code: String,
    jobs: usize,
    fonts: PathBuf,
    export: Option<PathBuf>,
    templates: PathBuf,
}

fn args() -> Result<Args> {
    let mut args = Args {
        registry: PathBuf::new(),
        code: "media".into(),
        jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        fonts: "fonts".into(),
        export: None,
        templates: "templates".into(),
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || {
            given
                .next()
                .with_context(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--registry" => args.registry = value()?.into(),
            "--code" => args.code = value()?,
            "--jobs" => args.jobs = value()?.parse().context("--jobs")?,
            "--fonts" => args.fonts = value()?.into(),
            "--export" => args.export = Some(value()?.into()),
            "--templates" => args.templates = value()?.into(),
            _ => bail!(
                "unknown argument {flag}; usage: bench_render --registry DIR [--code CODE] \
                 [--jobs N] [--fonts DIR] [--export DIR --templates DIR]"
            ),
        }
    }
    if args.registry.as_os_str().is_empty() {
        bail!("--registry DIR is required");
    }
    Ok(args)
}

/// One document as the renderer takes it.
struct Job {
    template: String,
    data: String,
    qr: String,
    profile: Profile,
    meta: PdfMeta,
}

fn job(doc: &DocumentEntry) -> Result<Job> {
    let created = doc
        .pdf
        .created
        .get(..10)
        .and_then(|d| d.parse().ok())
        .with_context(|| format!("bad pdf.created {:?}", doc.pdf.created))?;
    let profile =
        Profile::named(&doc.engine).with_context(|| format!("unknown engine {:?}", doc.engine))?;
    Ok(Job {
        template: doc.template.clone(),
        data: canonical(&doc.data),
        qr: doc.qr.clone(),
        profile,
        meta: PdfMeta {
            ident: doc.pdf.ident.clone(),
            created,
            creator: doc.pdf.creator.clone(),
        },
    })
}

fn main() -> Result<()> {
    // As `qujat` itself does (src/main.rs).
    qujat::memory::use_small_pages();
    let args = args()?;
    let registries = qujat::store::open(&args.registry)?;
    let reader = Reader::open(registries.as_ref(), &args.code)?;
    let mut jobs = Vec::new();
    let mut records = Vec::new();
    reader.log().scan(1, &mut |block| {
        for (_, line) in block.lines() {
            records.push(qujat::registry::parse_line(line)?.1);
        }
        Ok(())
    })?;
    for record in &records {
        if let Some(doc) = record.document() {
            jobs.push(job(doc)?);
        }
    }
    let store = TemplateStore::new(registries.as_ref());
    if let Some(dir) = &args.export {
        return export(&jobs, &store, &args.templates, dir);
    }

    let engine = Engine::new(&args.fonts)?;
    let mut templates: HashMap<String, Template> = HashMap::new();
    for job in &jobs {
        if !templates.contains_key(&job.template) {
            let bundle = store.load(&job.template)?;
            templates.insert(job.template.clone(), engine.template(&bundle)?);
        }
    }

    let evict_every: usize = std::env::var("EVICT_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(EVICT_EVERY);
    let evict_age: usize = std::env::var("EVICT_AGE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..args.jobs.max(1))
            .map(|_| {
                let (jobs, next, engine, templates) = (&jobs, &next, &engine, &templates);
                std::thread::Builder::new()
                    .stack_size(16 << 20)
                    .spawn_scoped(scope, move || {
                        let mut failures = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(job) = jobs.get(i) else { break };
                            let rendered = job
                                .profile
                                .qr(&job.qr)
                                .map_err(|e| e.to_string())
                                .and_then(|qr| {
                                    engine
                                        .render(
                                            &templates[&job.template],
                                            job.data.as_bytes(),
                                            &qr,
                                            &job.meta,
                                        )
                                        .map_err(|e| e.to_string())
                                });
                            if let Err(err) = rendered {
                                failures.push(format!("document {}: {err}", job.meta.ident));
                            }
                            if (i + 1).is_multiple_of(evict_every) {
                                typst::comemo::evict(evict_age);
                            }
                        }
                        failures
                    })
                    .expect("a worker thread starts")
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker does not panic"))
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    if !failures.is_empty() {
        bail!(
            "{} documents failed: {}",
            failures.len(),
            failures.join("; ")
        );
    }
    println!(
        "{}",
        serde_json::json!({"documents": jobs.len(), "seconds": seconds, "jobs": args.jobs})
    );
    Ok(())
}

/// Writes the documents for the Python peer: `DIR/root` (templates, `data/`, `qr/`) and
/// `DIR/manifest.json`.
fn export(jobs: &[Job], store: &TemplateStore, templates: &Path, dir: &Path) -> Result<()> {
    let root = dir.join("root");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    for entry in walkdir::WalkDir::new(templates) {
        let entry = entry?;
        let to = root.join(entry.path().strip_prefix(templates)?);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to)?;
        } else {
            std::fs::copy(entry.path(), &to)?;
        }
    }
    std::fs::create_dir_all(root.join("data"))?;
    std::fs::create_dir_all(root.join("qr"))?;
    let mut mains = HashMap::new();
    let mut documents = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let main = match mains.get(&job.template) {
            Some(main) => main,
            None => {
                let bundle = store.load(&job.template)?;
                mains.entry(job.template.clone()).or_insert(bundle.main)
            }
        };
        let image = job.profile.qr(&job.qr)?;
        let extension = job.profile.qr_path().rsplit('.').next().unwrap_or_default();
        let data = format!("/data/{:06}.json", i + 1);
        let qr = format!("/qr/{:06}.{extension}", i + 1);
        std::fs::write(root.join(&data[1..]), &job.data)?;
        std::fs::write(root.join(&qr[1..]), &image.bytes)?;
        documents.push(serde_json::json!({"template": format!("/{main}"), "data": data, "qr": qr}));
    }
    let root = std::path::absolute(&root)?;
    let manifest = serde_json::json!({"root": root, "documents": documents});
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    eprintln!(
        "wrote {} documents for the peer to {}",
        jobs.len(),
        dir.display()
    );
    Ok(())
}
