//! The commands of the other users of a registry: the officer who needs a document again
//! (`regenerate`) or changes its status (`registry set-status`), the clerk who needs an extract
//! (`export`), anyone who holds a document (`verify`), and the auditor (`registry check`).
//! Only `set-status` writes, under the writer's lock; the others never lock and read a
//! consistent prefix of each journal, so they can run during a batch.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::exit;
use crate::config::{Config, Folder};
use crate::date::Date;
use crate::export::{self, Filter};
use crate::regenerate::{self, Regenerated};
use crate::registry::read::{Found, Reader};
use crate::registry::templates::TemplateStore;
use crate::registry::{Status, StatusEntry, Writer, check};
use crate::render::Engine;
use crate::verify::{self, Verdict};

/// Where the registries are: the folder holding one subfolder per registry.
#[derive(Debug, Args)]
pub struct RegistryDir {
    /// Folder of the registries [default: from the configuration]
    #[arg(long, value_name = "DIR")]
    pub registry_dir: Option<PathBuf>,
}

impl RegistryDir {
    fn resolve(&self, config: &Config) -> Result<PathBuf> {
        config.folder(self.registry_dir.clone(), Folder::Registry)
    }
}

#[derive(Debug, Args)]
pub struct RegenerateArgs {
    /// The registry the document is in (needed with --number)
    #[arg(long, value_name = "CODE")]
    pub registry: Option<String>,
    /// The document's number, as printed on it
    #[arg(
        long,
        value_name = "NUMBER",
        conflicts_with = "case",
        required_unless_present = "case"
    )]
    pub number: Option<String>,
    /// Every document issued for this case id (in --registry only, if given)
    #[arg(long, value_name = "ID")]
    pub case: Option<String>,
    /// Where to write: a folder, or a file name ending in .pdf for a single document
    /// [default: the current folder]
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub out: PathBuf,
    #[command(flatten)]
    pub dir: RegistryDir,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// PDF files to look up by their SHA-256
    #[arg(value_name = "FILE.pdf")]
    pub files: Vec<PathBuf>,
    /// A scanned QR code payload to check (may be given more than once)
    #[arg(long, value_name = "TEXT")]
    pub payload: Vec<String>,
    /// A Merkle proof (from `qujat registry proof`) to check offline, without any registry
    #[arg(long, value_name = "FILE.json")]
    pub proof: Vec<PathBuf>,
    #[command(flatten)]
    pub dir: RegistryDir,
}

#[derive(Debug, Args)]
pub struct ProofArgs {
    #[arg(long, value_name = "CODE")]
    pub registry: String,
    /// Prove that the document with this number is in the registry's last checkpoint
    #[arg(long, value_name = "NUMBER", required_unless_present = "since")]
    pub number: Option<String>,
    /// Prove instead that the last checkpoint extends the checkpoint of this size
    #[arg(long, value_name = "SIZE", conflicts_with = "number")]
    pub since: Option<u64>,
    /// Write the proof here [default: standard output]
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub dir: RegistryDir,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The registry to extract
    #[arg(long, value_name = "CODE")]
    pub registry: String,
    /// Documents issued on or after this date (YYYY-MM-DD or DD.MM.YYYY)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Documents issued on or before this date (YYYY-MM-DD or DD.MM.YYYY)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Documents of this service only (see `qujat services`)
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// Documents with this status in force: active, suspended, revoked, superseded
    #[arg(long, value_name = "STATUS")]
    pub status: Option<Status>,
    /// For spreadsheets in a Kazakh or Russian locale: UTF-8 with BOM, `;` between fields
    #[arg(long)]
    pub excel: bool,
    /// The CSV file to write [default: standard output]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub dir: RegistryDir,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Verify every record of the registries and name the first broken one
    #[command(after_help = "Examples:\n  \
        qujat registry check\n  \
        qujat registry check --registry media --files\n  \
        qujat registry check --full\n\n\
        Checks each record's hash, place and link to the one before (an edited, deleted, \
        inserted or moved record is named), gapless numbers, status changes, that the journal \
        was not cut back (head.json), an incomplete last record, and that every template \
        version is kept. With --files, also that every PDF in the output folder matches its \
        record.\n\n\
        Exit codes: 0 sound, 1 damage found (each problem is printed), 2 cannot read.")]
    Check(CheckArgs),
    /// Change a document's status (suspend, revoke, reinstate), as an appended event
    #[command(after_help = "Examples:\n  \
        qujat registry set-status --registry attestats --number 2026-АТ-00004 --status suspended \\\n      \
        --date 2026-11-25 --reason \"Приказ № 17 от 24.11.2026\"\n  \
        qujat registry set-status --registry media --number 00017-Г --status revoked \\\n      \
        --date 2026-11-25 --reason \"Решение суда от 20.11.2026\"\n\n\
        The record of the document is never changed: the event is appended to the registry \
        and `verify`, `export` and `registry check` show the status in force. Suspended \
        documents can be made active again; revoked and superseded ones cannot. Supersession \
        is recorded by the batch when a re-registration is issued.\n\n\
        Exit codes: 0 recorded, 1 not allowed (unknown number, a refusal letter, a final \
        status), 2 fatal (registry locked, damaged or unreadable).")]
    SetStatus(SetStatusArgs),
    /// Write a Merkle proof: a document is in the registry, or the registry only grew
    #[command(after_help = "Examples:\n  \
        qujat registry proof --registry media --number 00017-Г --out proof.json\n  \
        qujat registry proof --registry media --since 25 --out grew.json\n  \
        qujat verify --proof proof.json\n\n\
        Every batch ends with a checkpoint (tree size and root, in \
        registry/<code>/checkpoints.jsonl) of the RFC 9162 Merkle tree of the registry's \
        records. An inclusion proof carries the document's record and the audit path to the \
        last checkpoint's root; a consistency proof shows that the last checkpoint's tree \
        extends an earlier one's. `qujat verify --proof` checks either offline.\n\n\
        Exit codes: 0 written, 2 fatal (unknown number, no checkpoint yet, damaged registry).")]
    Proof(ProofArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check this registry only [default: every registry in the folder]
    #[arg(long, value_name = "CODE")]
    pub registry: Option<String>,
    /// Also check that every document's PDF in the output folder matches its record
    #[arg(long)]
    pub files: bool,
    /// Also read every record whole: its data well-formed and the record in canonical form
    /// (slower: the data of every record is parsed)
    #[arg(long)]
    pub full: bool,
    /// The output folder the PDFs are in [default: from the configuration]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub dir: RegistryDir,
}

#[derive(Debug, Args)]
pub struct SetStatusArgs {
    #[arg(long, value_name = "CODE")]
    pub registry: String,
    /// The document's number, as printed on it
    #[arg(long, value_name = "NUMBER")]
    pub number: String,
    /// The new status: suspended, revoked, or active (to reinstate a suspended document)
    #[arg(long, value_name = "STATUS")]
    pub status: Status,
    /// The day it takes effect (YYYY-MM-DD or DD.MM.YYYY)
    #[arg(long, value_name = "DATE")]
    pub date: String,
    /// The order or decision it follows from
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Seconds to wait for a running batch to release the registry
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    #[command(flatten)]
    pub dir: RegistryDir,
}

/// A date as a user writes it: `2026-11-25` or `25.11.2026`.
fn user_date(option: &str, text: &str) -> Result<Date> {
    let iso = match text.split('.').collect::<Vec<_>>()[..] {
        [d, m, y] if d.len() == 2 && m.len() == 2 && y.len() == 4 => format!("{y}-{m}-{d}"),
        _ => text.to_string(),
    };
    iso.parse()
        .with_context(|| format!("{option} {text:?}: write a date as 2026-11-25 or 25.11.2026"))
}

pub fn run_regenerate(config: &Config, args: RegenerateArgs) -> Result<i32> {
    let root = args.dir.resolve(config)?;
    // The fonts load while the journal is searched.
    let fonts = config.fonts(None);
    let engine = std::thread::spawn(move || Engine::from_files(&fonts));
    let found: Vec<(String, Found)> = match (&args.number, &args.case, &args.registry) {
        (Some(number), _, Some(code)) => {
            let reader = Reader::open(&root, code)?;
            let found = reader.by_number(number)?;
            if found.is_empty() {
                eprintln!("error: registry {code} has no document № {number}");
                return Ok(exit::REJECTED);
            }
            found.into_iter().map(|f| (code.clone(), f)).collect()
        }
        (Some(_), _, None) => bail!("--number needs --registry CODE: numbers are per registry"),
        (None, Some(case), registry) => {
            let readers = match registry {
                Some(code) => vec![Reader::open(&root, code)?],
                None => Reader::all(&root)?,
            };
            let mut found = Vec::new();
            for reader in &readers {
                for f in reader.by_case(case)? {
                    found.push((reader.code.clone(), f));
                }
            }
            if found.is_empty() {
                eprintln!("error: no document was issued for case {case:?}");
                return Ok(exit::REJECTED);
            }
            found
        }
        (None, None, _) => bail!("give --registry CODE --number NUMBER, or --case ID"),
    };
    let one_file = found.len() == 1 && args.out.extension().is_some_and(|e| e == "pdf");
    let engine = engine
        .join()
        .map_err(|_| anyhow::anyhow!("loading the fonts failed"))??;
    let store = TemplateStore::new(&root);
    let mut code = exit::OK;
    for (registry, found) in &found {
        let path = if one_file {
            args.out.clone()
        } else {
            args.out
                .join(regenerate::file_name(registry, found.document()))
        };
        let result = regenerate::regenerate(registry, found, &store, &engine, &path)?;
        report_regenerated(&result);
        if !result.is_identical() {
            code = exit::REJECTED;
        }
    }
    Ok(code)
}

fn report_regenerated(result: &Regenerated) {
    let place = format!(
        "{} № {} (record {})",
        result.registry, result.number, result.seq
    );
    match (&result.path, result.is_identical()) {
        (Some(path), true) => println!(
            "{place}: {} — identical to the registered document (SHA-256 {})",
            path.display(),
            result.recorded
        ),
        (Some(path), false) => {
            println!(
                "{place}: {} — DIFFERS from the registered document (SHA-256 {}, registered {})",
                path.display(),
                result.sha256.as_deref().unwrap_or("?"),
                result.recorded
            );
        }
        (None, _) => println!("{place}: NOT regenerated"),
    }
    for reason in &result.reasons {
        println!("  because {reason}");
    }
}

pub fn run_verify(config: &Config, args: VerifyArgs) -> Result<i32> {
    if args.files.is_empty() && args.payload.is_empty() && args.proof.is_empty() {
        bail!("give PDF files to verify, --payload TEXT or --proof FILE");
    }
    // Proofs are checked offline: only documents and payloads need the registries.
    let root = if args.files.is_empty() && args.payload.is_empty() {
        PathBuf::new()
    } else {
        args.dir.resolve(config)?
    };
    let mut proofs_fail = false;
    for path in &args.proof {
        match verify_proof(path)? {
            Ok(what) => println!("{}: PROOF HOLDS — {what}", path.display()),
            Err(why) => {
                proofs_fail = true;
                println!("{}: PROOF FAILS — {why}", path.display());
            }
        }
    }
    let mut verdicts = Vec::new();
    for file in &args.files {
        verdicts.push((
            file.display().to_string(),
            verify::verify_file(&root, file)?,
        ));
    }
    for payload in &args.payload {
        verdicts.push((
            format!("QR {payload}"),
            verify::verify_payload(&root, payload)?,
        ));
    }
    let (mut unknown, mut not_in_force) = (false, false);
    for (what, verdict) in &verdicts {
        match verdict {
            Verdict::Genuine(view) => {
                let in_force = view.status == Status::Active;
                not_in_force |= !in_force;
                println!(
                    "{what}: GENUINE{}",
                    if in_force { "" } else { ", but NOT IN FORCE" }
                );
                print!("{view}");
            }
            Verdict::Unknown(why) => {
                unknown = true;
                println!("{what}: UNKNOWN — {why}");
            }
        }
    }
    Ok(if unknown || proofs_fail {
        exit::REJECTED
    } else if not_in_force {
        exit::NOT_IN_FORCE
    } else {
        exit::OK
    })
}

pub fn run_export(config: &Config, args: ExportArgs) -> Result<i32> {
    let root = args.dir.resolve(config)?;
    let filter = Filter {
        from: args
            .from
            .as_deref()
            .map(|d| user_date("--from", d))
            .transpose()?,
        to: args
            .to
            .as_deref()
            .map(|d| user_date("--to", d))
            .transpose()?,
        service: args.service.clone(),
        status: args.status,
    };
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to < from
    {
        bail!("--to {to} is before --from {from}");
    }
    let reader = Reader::open(&root, &args.registry)?;
    let rows = match &args.out {
        None => export::export(&reader, &filter, args.excel, std::io::stdout())?,
        Some(path) => crate::fsio::write_atomically_with(path, |file| {
            crate::fsio::syncing_ahead(file, |out| {
                export::export(&reader, &filter, args.excel, out)
            })
        })?,
    };
    eprintln!(
        "{rows} documents of registry {}{}",
        args.registry,
        args.out
            .as_ref()
            .map(|p| format!(" written to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(exit::OK)
}

pub fn run_registry(config: &Config, command: RegistryCommand) -> Result<i32> {
    match command {
        RegistryCommand::Check(args) => run_check(config, args),
        RegistryCommand::SetStatus(args) => run_set_status(config, args),
        RegistryCommand::Proof(args) => run_proof(config, args),
    }
}

fn run_proof(config: &Config, args: ProofArgs) -> Result<i32> {
    use crate::registry::checkpoint::{self, Proof};
    let root = args.dir.resolve(config)?;
    let reader = Reader::open(&root, &args.registry)?;
    let proof = match (&args.number, args.since) {
        (Some(number), _) => {
            let found = reader.by_number(number)?;
            let [found] = &found[..] else {
                bail!(
                    "registry {} has {} documents numbered {number:?}",
                    args.registry,
                    found.len()
                );
            };
            Proof::Inclusion(checkpoint::prove_inclusion(
                &reader,
                found.record.seq,
                &found.record,
            )?)
        }
        (None, Some(since)) => Proof::Consistency(checkpoint::prove_consistency(&reader, since)?),
        (None, None) => bail!("give --number NUMBER or --since SIZE"),
    };
    let text = serde_json::to_string_pretty(&proof).expect("proofs serialise") + "\n";
    match &args.out {
        Some(path) => crate::fsio::write_atomically(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(exit::OK)
}

/// Checks a proof file offline: `Ok(Ok(what))` when it holds, `Ok(Err(why))` when it does not.
fn verify_proof(path: &Path) -> Result<std::result::Result<String, String>> {
    use crate::registry::checkpoint::{self, Proof};
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let proof: Proof = match serde_json::from_slice(&text) {
        Ok(proof) => proof,
        Err(err) => return Ok(Err(format!("not a qujat proof: {err}"))),
    };
    Ok(match &proof {
        Proof::Inclusion(p) => checkpoint::verify_inclusion(p)
            .map(|record| {
                let what = record.document().map_or_else(
                    || "a status event".to_string(),
                    |d| format!("{} № {} (case {})", d.document, d.number, d.case_id),
                );
                format!(
                    "record {} of registry {}, {what}, is in the tree of size {} with root {}",
                    record.seq, p.registry, p.checkpoint.size, p.checkpoint.root
                )
            })
            .map_err(|e| format!("{e:#}")),
        Proof::Consistency(p) => checkpoint::verify_consistency(p)
            .map(|()| {
                format!(
                    "registry {}: the tree of size {} (root {}) extends the tree of size {} \
                     (root {}): it only grew",
                    p.registry, p.new.size, p.new.root, p.old.size, p.old.root
                )
            })
            .map_err(|e| format!("{e:#}")),
    })
}

fn run_check(config: &Config, args: CheckArgs) -> Result<i32> {
    let root = args.dir.resolve(config)?;
    let readers = match &args.registry {
        Some(code) => vec![Reader::open(&root, code)?],
        None => Reader::all(&root)?,
    };
    if readers.is_empty() {
        bail!("there are no registries in {}", root.display());
    }
    let out = match args.files {
        true => Some(config.folder(args.out.clone(), Folder::Output)?),
        false => None,
    };
    let mut sound = true;
    for reader in &readers {
        let result = check::check_with(&root, reader, out.as_deref(), args.full)?;
        sound &= result.is_sound();
        print!("{result}");
    }
    Ok(if sound { exit::OK } else { exit::REJECTED })
}

fn run_set_status(config: &Config, args: SetStatusArgs) -> Result<i32> {
    let root = args.dir.resolve(config)?;
    let date = user_date("--date", &args.date)?;
    if args.status == Status::Superseded {
        eprintln!(
            "error: a document is superseded only by the document that replaces it: issue the \
             re-registration through `qujat batch`"
        );
        return Ok(exit::REJECTED);
    }
    if args.reason.trim().is_empty() {
        bail!("--reason must name the order or decision the change follows from");
    }
    Reader::open(&root, &args.registry)?;
    let mut writer = Writer::open(&root, &args.registry, Duration::from_secs(args.wait))?;
    let found = writer.find_number(&args.number);
    let (key, registered) = match found.as_slice() {
        [] => {
            eprintln!(
                "error: registry {} has no document № {}",
                args.registry, args.number
            );
            return Ok(exit::REJECTED);
        }
        [one] => one.clone(),
        _ => bail!(
            "registry {} has several documents № {}; this cannot be resolved by number",
            args.registry,
            args.number
        ),
    };
    let catalogue = crate::catalogue::Catalogue::load_from(&config.catalogue(None))?;
    let on = catalogue
        .services
        .get(&key.service)
        .and_then(|s| s.documents.get(&key.document))
        .map(|d| d.on.as_str());
    if on == Some(crate::catalogue::REFUSED) {
        eprintln!(
            "error: № {} is a refusal letter ({} of {}); only issued documents can be suspended \
             or revoked",
            args.number, key.document, key.service
        );
        return Ok(exit::REJECTED);
    }
    let target = registered.seq;
    let current = writer.status_of(target).unwrap_or(Status::Active);
    if !current.may_become(args.status) {
        eprintln!(
            "error: № {} is {current}; it cannot become {}",
            args.number, args.status
        );
        return Ok(exit::REJECTED);
    }
    if date < registered.issued {
        bail!(
            "--date {date} is before the document was issued ({})",
            registered.issued
        );
    }
    let record = writer.append_status(StatusEntry {
        target,
        number: args.number.clone(),
        status: args.status,
        date,
        reason: args.reason.trim().to_string(),
        by: None,
    })?;
    writer.write_head()?;
    println!(
        "registry {}: № {} (record {target}) is {} from {} (record {})",
        args.registry,
        args.number,
        args.status,
        date.dmy(),
        record.seq
    );
    let _ = std::io::stdout().flush();
    Ok(exit::OK)
}
