//! The flags of the registry's other users' commands, turned into the commands' arguments, and
//! their outcomes printed (the commands themselves are in `crate::commands`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use crate::commands::export::{self, Filter};
use crate::commands::regenerate::{self, Regenerated};
use crate::commands::verify;
use crate::commands::{check, proof, set_status};
use crate::config::{Config, Folder};
use crate::date::Date;
use crate::exit;
use crate::registry::Status;

use super::json;
use crate::registry::checkpoint::Checkpoint;
use crate::registry::note::NoteVerifier;
use crate::registry::reader::{Found, Reader};
use crate::registry::templates::TemplateStore;
use crate::render::Engine;
use crate::sign::check::SignatureTrust;
use crate::store::Store;

/// Where the registries are: the folder holding one subfolder per registry, or a PostgreSQL
/// database.
#[derive(Debug, Args)]
pub struct RegistryDir {
    /// Folder of the registries, or a postgres:// URL [default: $QUJAT_REGISTRY, else from
    /// the configuration]
    #[arg(long, value_name = "DIR|URL")]
    pub registry_dir: Option<PathBuf>,
}

impl RegistryDir {
    /// Where the registries are.
    fn place(&self, config: &Config) -> Result<PathBuf> {
        registry_place(self.registry_dir.clone(), config)
    }

    /// The store of the registries.
    fn open(&self, config: &Config) -> Result<Box<dyn Store>> {
        crate::store::open(&self.place(config)?)
    }
}

/// Where the registries are: the flag if given, else `QUJAT_REGISTRY` in the environment, else
/// `[paths] registry` of the configuration (a folder relative to the file, or a URL as it is);
/// without a configuration file, an error saying what to give.
pub fn registry_place(flag: Option<PathBuf>, config: &Config) -> Result<PathBuf> {
    if let Some(place) = flag {
        return Ok(place);
    }
    if let Some(place) = std::env::var_os("QUJAT_REGISTRY").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(place));
    }
    let configured = &config.file.paths.registry;
    if crate::store::url(configured).is_some() {
        return Ok(configured.clone());
    }
    config.folder(None, Folder::Registry)
}

/// A checkpoint published outside the registry, to check against, and the key that checks
/// signed checkpoints.
#[derive(Debug, Args)]
pub struct Trusted {
    /// A checkpoint kept outside the registry (a line of its checkpoints, or a signed note, as
    /// published): the registry, or a proof, must agree with it
    #[arg(long, value_name = "FILE")]
    pub trusted_checkpoint: Option<PathBuf>,
    /// The registry's public checkpoint key (`<name>+<hash>+<key>`, from `qujat registry
    /// keygen`) [default: [checkpoints] verifier in qujat.toml]
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

impl Trusted {
    /// The verifier key, from `--key` or the configuration.
    fn verifier(&self, config: &Config) -> Result<Option<NoteVerifier>> {
        match &self.key {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                NoteVerifier::parse(&text)
                    .map(Some)
                    .with_context(|| path.display().to_string())
            }
            None => config.checkpoint_verifier(),
        }
    }

    /// The trusted checkpoint, checked against the verifier key if it is signed.
    fn read(&self, verifier: Option<&NoteVerifier>) -> Result<Option<Checkpoint>> {
        self.trusted_checkpoint
            .as_ref()
            .map(|path| {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                proof::read_checkpoint(&bytes, verifier).with_context(|| path.display().to_string())
            })
            .transpose()
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
    /// What was regenerated as JSON on standard output: one document, or JSON lines for several (same facts, same exit code)
    #[arg(long)]
    pub json: bool,
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
    /// The verdicts as JSON on standard output: one document for one input, JSON lines for several (same facts, same exit code)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub trusted: Trusted,
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
        qujat registry check --full\n  \
        qujat registry check --json | jq '.registries[] | select(.sound | not)'\n\n\
        Checks each record's hash, place and link to the one before (an edited, deleted, \
        inserted or moved record is named), gapless numbers, status changes, that the journal \
        was not cut back (its head), an incomplete last record, and that every template \
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
        kept beside the registry) of the RFC 9162 Merkle tree of the registry's \
        records. An inclusion proof carries the document's record and the audit path to the \
        last checkpoint's root; a consistency proof shows that the last checkpoint's tree \
        extends an earlier one's. `qujat verify --proof` checks either offline.\n\n\
        Exit codes: 0 written, 2 fatal (unknown number, no checkpoint yet, damaged registry).")]
    Proof(ProofArgs),
    /// Make the key that signs the registries' checkpoints, and print its public half
    #[command(after_help = "Example:\n  \
        qujat registry keygen --name qujat.gov.kz/registry --out /etc/qujat/checkpoints.key \\\n      \
        --public /etc/qujat/checkpoints.pub\n\n\
        The private key goes to a file only the batch's user can read ([checkpoints] key in \
        qujat.toml); publish the public key with the checkpoints, and configure it as \
        [checkpoints] verifier so that `registry check` and `verify` check signatures. Keep \
        it apart from officials' keys. Checkpoints are C2SP signed notes (Ed25519).\n\n\
        Exit codes: 0 written, 2 fatal (the file exists, cannot be written).")]
    Keygen(KeygenArgs),
    /// Create or bring up to date the registries' schema in a PostgreSQL database
    #[command(after_help = "Examples:\n  \
        qujat registry init --registry-dir postgres://qujat_owner@db.ministry.kz/registries\n  \
        QUJAT_REGISTRY=postgresql:///registries qujat registry init\n\n\
        Makes the schema `qujat` (tables, indexes, the triggers that keep records append-only) \
        at the version this qujat needs, applying the migrations the database lacks, and grants \
        the roles qujat_writer and qujat_reader their rights (creating them if it may). Run it \
        as the database's owner; running it again changes nothing. See docs/registry.md, \
        \"PostgreSQL\". A registry folder needs no init.\n\n\
        Exit codes: 0 done, 2 fatal (cannot connect, not allowed, a newer schema).")]
    Init(InitArgs),
    /// Copy every registry from one store to another (files ↔ PostgreSQL), and verify the copy
    #[command(after_help = "Examples:\n  \
        qujat registry migrate --from registry --to postgres://qujat_owner@db.ministry.kz/registries\n  \
        qujat registry migrate --from postgresql:///registries --to /srv/registry-copy\n\n\
        Copies every registry (records byte for byte, head, checkpoints) and every kept \
        template version and signature, each source registry locked while it is copied; then \
        checks the destination as `registry check` does and that its heads and checkpoint \
        roots are the source's. The source must be sound. A destination that holds the same, \
        or an earlier part of it (an interrupted migrate), is completed: running it again is \
        safe. A destination that differs is refused, and nothing is copied.\n\n\
        Exit codes: 0 copied and verified, 2 fatal (a damaged source, a destination that \
        differs, cannot connect or write).")]
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub dir: RegistryDir,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Where the registries are now: a folder or a postgres:// URL
    #[arg(long, value_name = "DIR|URL")]
    pub from: PathBuf,
    /// Where to copy them: a folder or a postgres:// URL
    #[arg(long, value_name = "DIR|URL")]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key's name, as signatures name it (no spaces, no '+'): the log's origin, usually
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Where to write the private key (never overwritten)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Where to write the public key too [default: only printed]
    #[arg(long, value_name = "FILE")]
    pub public: Option<PathBuf>,
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
    /// The findings as one JSON document on standard output (same facts, same exit code)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub trusted: Trusted,
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
    let store = args.dir.open(config)?;
    // The fonts load while the registry is searched.
    let fonts = config.fonts(None);
    let engine = std::thread::spawn(move || Engine::from_files(&fonts));
    let found: Vec<(String, Found)> = match (&args.number, &args.case, &args.registry) {
        (Some(number), _, Some(code)) => {
            let reader = Reader::open(store.as_ref(), code)?;
            let found = reader.by_number(number)?;
            if found.is_empty() {
                let why = format!("registry {code} has no document № {number}");
                return not_found(&args, why);
            }
            found.into_iter().map(|f| (code.clone(), f)).collect()
        }
        (Some(_), _, None) => bail!("--number needs --registry CODE: numbers are per registry"),
        (None, Some(case), registry) => {
            let readers = match registry {
                Some(code) => vec![Reader::open(store.as_ref(), code)?],
                None => Reader::all(store.as_ref())?.0,
            };
            let mut found = Vec::new();
            for reader in &readers {
                for f in reader.by_case(case)? {
                    found.push((reader.code.clone(), f));
                }
            }
            if found.is_empty() {
                let why = format!("no document was issued for case {case:?}");
                return not_found(&args, why);
            }
            found
        }
        (None, None, _) => bail!("give --registry CODE --number NUMBER, or --case ID"),
    };
    let one_file = found.len() == 1 && args.out.extension().is_some_and(|e| e == "pdf");
    let engine = engine
        .join()
        .map_err(|_| anyhow::anyhow!("loading the fonts failed"))??;
    let templates = TemplateStore::new(store.as_ref());
    let printer = json::Printer::new(found.len());
    let mut code = exit::OK;
    for (registry, found) in &found {
        let path = if one_file {
            args.out.clone()
        } else {
            args.out
                .join(regenerate::file_name(registry, found.document()))
        };
        let result = regenerate::regenerate(registry, found, &templates, &engine, &path)?;
        match args.json {
            true => printer.print(&json::RegenerateAnswer::new(&result, found.document()))?,
            false => report_regenerated(&result),
        }
        if !result.is_identical() {
            code = exit::REJECTED;
        }
    }
    Ok(code)
}

/// Nothing was found for what `regenerate` was asked: said on standard error, and with
/// `--json` as an answer too.
fn not_found(args: &RegenerateArgs, why: String) -> Result<i32> {
    eprintln!("error: {why}");
    if args.json {
        json::Printer::new(1).print(&json::RegenerateAnswer::not_found(
            args.registry.as_deref(),
            args.number.as_deref(),
            args.case.as_deref(),
            why,
        ))?;
    }
    Ok(exit::REJECTED)
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
    let verifier = args.trusted.verifier(config)?;
    let trusted = args.trusted.read(verifier.as_ref())?;
    let printer = json::Printer::new(args.proof.len() + args.files.len() + args.payload.len());
    let mut proofs_fail = false;
    for path in &args.proof {
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let outcome = proof::check(&text, trusted.as_ref(), verifier.as_ref());
        proofs_fail |= outcome.is_err();
        match (&outcome, args.json) {
            (_, true) => printer.print(&json::VerifyAnswer::proof(
                path.display().to_string(),
                &outcome,
            ))?,
            (Ok(what), false) => println!("{}: PROOF HOLDS — {what}", path.display()),
            (Err(why), false) => println!("{}: PROOF FAILS — {why}", path.display()),
        }
    }
    let mut code = if proofs_fail {
        exit::REJECTED
    } else {
        exit::OK
    };
    if args.files.is_empty() && args.payload.is_empty() {
        return Ok(code);
    }
    let store = args.dir.open(config)?;
    let signature_trust = if args.files.is_empty() {
        SignatureTrust::default()
    } else {
        SignatureTrust::load(config.signing()?.as_ref())?
    };
    let mut verdicts = Vec::new();
    for file in &args.files {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let verdict = verify::verify_bytes(store.as_ref(), &bytes, trusted.as_ref())?;
        let (verdict, shown) = verify::with_signature(verdict, &bytes, &signature_trust);
        verdicts.push((json::Shown::Pdf, file.display().to_string(), verdict, shown));
    }
    for payload in &args.payload {
        verdicts.push((
            json::Shown::Qr,
            payload.clone(),
            verify::verify_payload(store.as_ref(), payload, trusted.as_ref())?,
            None,
        ));
    }
    for (shown, input, verdict, finding) in verdicts {
        code = worse(code, verdict.exit_code());
        if let Some(finding) = &finding
            && finding.is_invalid()
        {
            code = worse(code, exit::REJECTED);
        }
        match (args.json, shown) {
            (true, _) => {
                let mut answer = json::VerifyAnswer::verdict(input, shown, &verdict);
                if let Some(finding) = &finding {
                    answer.signature = Some(finding.to_string());
                    if finding.is_invalid() {
                        answer.exit_code = worse(answer.exit_code, exit::REJECTED);
                    }
                }
                printer.print(&answer)?
            }
            (false, json::Shown::Qr) => print!("QR {input}: {verdict}"),
            (false, _) => print!("{input}: {verdict}"),
        }
        if let (false, Some(finding)) = (args.json, &finding) {
            println!("  signature  {finding}");
        }
    }
    Ok(code)
}

/// Of two exit codes, the one that says less is well: 1 (no) over 3 (not in force) over 0.
fn worse(a: i32, b: i32) -> i32 {
    let rank = |code| match code {
        exit::OK => 0,
        exit::NOT_IN_FORCE => 1,
        _ => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

pub fn run_export(config: &Config, args: ExportArgs) -> Result<i32> {
    let store = args.dir.open(config)?;
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
    let reader = Reader::open(store.as_ref(), &args.registry)?;
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
        RegistryCommand::Keygen(args) => run_keygen(args),
        RegistryCommand::Init(args) => run_init(config, args),
        RegistryCommand::Migrate(args) => run_migrate(args),
    }
}

fn run_init(config: &Config, args: InitArgs) -> Result<i32> {
    let place = args.dir.place(config)?;
    let Some(url) = crate::store::url(&place) else {
        println!(
            "{}: a registry folder needs no init (the first batch makes its registries)",
            place.display()
        );
        return Ok(exit::OK);
    };
    let settings = crate::store::postgres::Settings::parse(url)?;
    let done = crate::store::postgres::schema::init_at(&settings)?;
    if done.from == done.to {
        println!(
            "{}: qujat's schema is at version {} already: nothing to do",
            settings.describe(),
            done.to
        );
    } else {
        println!(
            "{}: qujat's schema brought from version {} to {}",
            settings.describe(),
            done.from,
            done.to
        );
    }
    match &done.roles {
        Ok(()) => println!("roles qujat_writer and qujat_reader have their rights"),
        Err(why) => eprintln!(
            "warning: the roles qujat_writer and qujat_reader were not granted their rights \
             ({why}): a superuser can run the grants of docs/registry.md"
        ),
    }
    Ok(exit::OK)
}

fn run_migrate(args: MigrateArgs) -> Result<i32> {
    let from = crate::store::open(&args.from)?;
    if let Some(url) = crate::store::url(&args.to) {
        // A database is given its schema first, as `registry init` gives it.
        crate::store::postgres::schema::init_at(&crate::store::postgres::Settings::parse(url)?)?;
    }
    let to = crate::store::open(&args.to)?;
    let migrated = crate::commands::migrate::migrate(from.as_ref(), to.as_ref(), &mut |line| {
        eprintln!("{line}")
    })?;
    print!("{migrated}");
    Ok(exit::OK)
}

fn run_keygen(args: KeygenArgs) -> Result<i32> {
    use crate::registry::note::{NoteSigner, random_seed};
    use std::os::unix::fs::OpenOptionsExt as _;
    let signer = NoteSigner::from_seed(&args.name, random_seed()?)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.out)
        .with_context(|| {
            format!(
                "cannot create {} (it is never overwritten)",
                args.out.display()
            )
        })?;
    file.write_all(format!("{}\n", signer.text()).as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let public = signer.verifier().text();
    if let Some(path) = &args.public {
        crate::fsio::write_atomically(path, format!("{public}\n").as_bytes())?;
    }
    println!("{public}");
    Ok(exit::OK)
}

fn run_proof(config: &Config, args: ProofArgs) -> Result<i32> {
    let store = args.dir.open(config)?;
    let reader = Reader::open(store.as_ref(), &args.registry)?;
    let proof = match (&args.number, args.since) {
        (Some(number), _) => proof::of_document(&reader, number)?,
        (None, Some(since)) => proof::of_growth(&reader, since)?,
        (None, None) => bail!("give --number NUMBER or --since SIZE"),
    };
    let text = serde_json::to_string_pretty(&proof).expect("proofs serialise") + "\n";
    match &args.out {
        Some(path) => crate::fsio::write_atomically(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(exit::OK)
}

fn run_check(config: &Config, args: CheckArgs) -> Result<i32> {
    let store = args.dir.open(config)?;
    let (readers, broken) = match &args.registry {
        Some(code) => (vec![Reader::open(store.as_ref(), code)?], Vec::new()),
        None => Reader::all(store.as_ref())?,
    };
    if readers.is_empty() && broken.is_empty() {
        bail!("there are no registries in {}", store.describe());
    }
    let verifier = args.trusted.verifier(config)?;
    let options = check::Options {
        full: args.full,
        files: match args.files {
            true => Some(config.folder(args.out.clone(), Folder::Output)?),
            false => None,
        },
        trusted: args.trusted.read(verifier.as_ref())?,
        verifier,
    };
    let mut sound = broken.is_empty();
    let mut answers = Vec::new();
    for listed in &broken {
        let problem = listed.problem.as_deref().unwrap_or("unknown");
        match args.json {
            true => answers.push(json::RegistryAnswer::unreadable(&listed.code, problem)),
            false => println!(
                "{}: cannot be read — DAMAGED\n  problem: {problem}",
                listed.code
            ),
        }
    }
    for reader in &readers {
        let result = check::check(store.as_ref(), reader, &options)?;
        sound &= result.is_sound();
        match args.json {
            true => answers.push(json::RegistryAnswer::checked(result)),
            false => print!("{result}"),
        }
    }
    let code = if sound { exit::OK } else { exit::REJECTED };
    if args.json {
        json::Printer::new(1).print(&json::CheckAnswer {
            sound,
            exit_code: code,
            registries: answers,
        })?;
    }
    Ok(code)
}

fn run_set_status(config: &Config, args: SetStatusArgs) -> Result<i32> {
    let store = args.dir.open(config)?;
    let change = set_status::Change {
        registry: args.registry.clone(),
        number: args.number.clone(),
        status: args.status,
        date: user_date("--date", &args.date)?,
        reason: args.reason.clone(),
        wait: Duration::from_secs(args.wait),
        checkpoints: config
            .checkpoint_signer()?
            .map(|signer| (std::sync::Arc::new(signer), config.checkpoint_origin())),
    };
    let catalogue = crate::catalogue::Catalogue::load_from(&config.catalogue(None))?;
    match set_status::set_status(store.as_ref(), &catalogue, &change)? {
        set_status::Outcome::Refused(why) => {
            eprintln!("error: {why}");
            Ok(exit::REJECTED)
        }
        set_status::Outcome::Done { event, target } => {
            println!(
                "registry {}: № {} (record {target}) is {} from {} (record {})",
                change.registry,
                change.number,
                change.status,
                change.date.dmy(),
                event.seq
            );
            let _ = std::io::stdout().flush();
            Ok(exit::OK)
        }
    }
}
