//! The command line: clap's structures, turned into checked run configurations before any work
//! starts. Nothing outside this module sees clap. The clock is read here (through
//! [`crate::clock`]) for the run date when none is given and for the run report's moments.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::batch::{self, BatchConfig, Report};
use crate::clock::Moment;
use crate::config::{Config, Folder};
use crate::date::Date;
use crate::shipped::{self, Files};

use crate::exit;

mod json;
mod registry;
mod serve;
mod services;

#[derive(Debug, Parser)]
#[command(
    name = "qujat",
    version,
    about = "Issue bilingual official documents for state services and keep their registries",
    after_help = "Configuration: --config FILE, else $QUJAT_CONFIG, else ./qujat.toml, else \
        /etc/qujat/qujat.toml (`qujat config` shows which is used and where every folder is). \
        Without one, give the folders as options; the catalogue, templates and fonts are built \
        in.\n\n\
        Exit codes: 0 all done, 1 some input rejected (see the report), 2 fatal error."
)]
pub struct Cli {
    /// Configuration file [default: $QUJAT_CONFIG, ./qujat.toml, /etc/qujat/qujat.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the nightly batch: read cases, issue documents, register them
    #[command(after_help = "Examples:\n  \
        qujat batch\n  \
        qujat batch --cases /srv/cases/2026-11-25 --out /srv/documents --registry-dir /srv/registry\n  \
        qujat batch --today 2026-11-25 --jobs 2\n  \
        qujat batch --quiet --json > summary.json\n\n\
        Re-running a batch is safe: documents already registered are skipped. Each run's \
        report is kept as OUT/run-reports/run-report-DATE-TIME.json, and OUT/run-report.json \
        links to the latest.\n\
        Exit codes: 0 every case handled, 1 some cases rejected, 2 fatal error.")]
    Batch(BatchArgs),
    /// List the services of the catalogue and the documents they end in
    #[command(after_help = "Examples:\n  \
        qujat services\n  \
        qujat services --json | jq '.services[].code'\n  \
        qujat services --catalogue /etc/qujat/catalogue")]
    Services(ServicesArgs),
    /// Write synthetic media-registration cases (valid, varied) for stress tests and benchmarks
    #[command(
        after_help = "Example:\n  qujat generate-cases --count 5000 --out bench/out/cases/synthetic.csv"
    )]
    GenerateCases(GenerateArgs),
    /// Typeset a registered document again from its record, and check it is identical
    #[command(after_help = "Examples:\n  \
        qujat regenerate --registry media --number 00017-Г\n  \
        qujat regenerate --registry media --number 00017-Г --out copy.pdf\n  \
        qujat regenerate --case MR-2026-0101 --out /tmp/copies\n  \
        qujat regenerate --case MR-2026-0101 --out /tmp/copies --json | jq -r .outcome\n\n\
        Uses the template version the record names (kept in the registry folder), the fonts \
        folder and the record's data; writes the PDF and compares its SHA-256 with the \
        record's. Never takes a number, never writes to a registry.\n\n\
        Exit codes: 0 every document identical to the registered one, 1 not found or not \
        identical (the reason is printed), 2 fatal.")]
    Regenerate(registry::RegenerateArgs),
    /// Check documents: PDF files by their SHA-256, or scanned QR code payloads
    #[command(after_help = "Examples:\n  \
        qujat verify output/media/certificate-000001.pdf\n  \
        qujat verify ~/Downloads/*.pdf\n  \
        qujat verify --payload 'https://qujat.gov.kz/verify?r=media&n=00001-%D0%93&c=…'\n  \
        qujat verify --json ~/Downloads/*.pdf | jq -r '.verdict + \" \" + .input'\n\n\
        Prints the registry, number, holder, document kind, issue date and the status in \
        force of each, or UNKNOWN for a file no registry holds (altered, or not issued here).\n\n\
        Exit codes: 0 all genuine and in force, 1 some unknown or altered, 2 fatal, 3 all \
        genuine but some not in force (suspended, revoked or superseded).")]
    Verify(registry::VerifyArgs),
    /// Write a registry extract as CSV: one row per document, with its status in force
    #[command(after_help = "Examples:\n  \
        qujat export --registry media --out media.csv\n  \
        qujat export --registry media --from 01.11.2026 --to 30.11.2026 --excel --out november.csv\n  \
        qujat export --registry attestats --status revoked\n\n\
        Headers are in Kazakh and Russian, dates DD.MM.YYYY. Without --excel: UTF-8, comma, \
        LF. With --excel: what Excel or LibreOffice in a Kazakh or Russian locale opens by \
        double-click (UTF-8 with BOM, semicolon, CRLF, IIN/BIN kept as text). In both, a \
        field a spreadsheet would take for a formula (starting with =, +, -, @, a tab or a \
        carriage return) is written with a leading ' so that it shows as text. Streamed: any \
        size of registry.\n\n\
        Exit codes: 0 written, 2 fatal (unknown registry, damaged registry, cannot write).")]
    Export(registry::ExportArgs),
    /// Check the registries, or change a document's status
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Answer the QR codes' address: the verification pages, PDF upload, apostille register, JSON API
    #[command(after_help = "Examples:\n  \
        qujat serve\n  \
        qujat serve --listen 127.0.0.1:8080 --registry-dir /var/lib/qujat/registry --out /var/lib/qujat/output\n  \
        qujat serve --listen 127.0.0.1:8080 --trust-x-forwarded-for --max-connections-per-client 0\n\n\
        Then open the QR code's address with its host replaced by --listen's, e.g. \
        http://127.0.0.1:8080/verify?r=media&n=…&c=…\n\
        Pages: /verify (the QR codes), /upload, /apostille; JSON: /api/v1/verify, \
        /api/v1/verify-pdf, /api/v1/apostille; /healthz, /metrics. Read-only: never takes a \
        registry's lock; sees new records at once and new checkpoints within a second. \
        See docs/serve.md.\n\n\
        Exit codes: 0 stopped by SIGTERM or SIGINT, 2 fatal (cannot listen, registries unreadable).")]
    Serve(serve::ServeArgs),
    /// Show the configuration file in use and where every folder is
    #[command(after_help = "Examples:\n  \
        qujat config\n  \
        QUJAT_CONFIG=/srv/qujat/qujat.toml qujat config\n\n\
        The configuration file is --config FILE, else $QUJAT_CONFIG, else ./qujat.toml, else \
        /etc/qujat/qujat.toml. Paths in it are relative to the file's folder. A minimal one:\n\n  \
        [paths]\n  \
        cases = \"/var/lib/qujat/cases\"\n  \
        output = \"/var/lib/qujat/output\"\n  \
        registry = \"/var/lib/qujat/registry\"\n\n\
        catalogue, templates and fonts may name folders too (`qujat shipped --out DIR` writes \
        the built-in ones to start from); unset, the copies built into qujat are used.")]
    Config,
    /// Write the catalogue, templates and fonts built into qujat to a folder, to change them
    #[command(after_help = "Example:\n  \
        qujat shipped --out /etc/qujat\n\n\
        Writes DIR/catalogue, DIR/templates and DIR/fonts (never over an existing file). Point \
        [paths] catalogue, templates or fonts of the configuration at them to use them.")]
    Shipped(ShippedArgs),
    /// Print a shell completion script
    #[command(after_help = "Examples:\n  \
        qujat completions bash > /etc/bash_completion.d/qujat\n  \
        qujat completions zsh > \"${fpath[1]}/_qujat\"\n  \
        qujat completions fish > ~/.config/fish/completions/qujat.fish")]
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command to a folder
    #[command(after_help = "Examples:\n  \
        qujat man | man -l -\n  \
        qujat man --out /usr/local/share/man/man1")]
    Man {
        /// Write qujat.1 and a page per command (qujat-batch.1, …) here
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ServicesArgs {
    /// Catalogue folder [default: from the configuration, else built in]
    #[arg(long, value_name = "DIR")]
    pub catalogue: Option<PathBuf>,
    /// One JSON document on standard output instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShippedArgs {
    /// The folder to write catalogue/, templates/ and fonts/ into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many cases
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    /// Seed: the same seed gives the same cases
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Case id prefix
    #[arg(long, default_value = "SYN")]
    pub prefix: String,
    /// First decision date
    #[arg(long, default_value = "2026-01-05")]
    pub from: String,
    /// Last decision date
    #[arg(long, default_value = "2026-11-20")]
    pub to: String,
    /// The CSV file to write
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Folder of case files (XML, CSV), read recursively [default: from the configuration]
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// Folder the PDFs and run reports are written to [default: from the configuration]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folder of the registries, or a postgres:// URL [default: $QUJAT_REGISTRY, else from the
    /// configuration]
    // `--registry DIR` was its name before every command said `--registry-dir`.
    #[arg(long, value_name = "DIR|URL", alias = "registry")]
    pub registry_dir: Option<PathBuf>,
    /// Rendering threads [default: the number of CPUs]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// The run date (YYYY-MM-DD): no date in a case may be after it [default: today, at the
    /// configured UTC offset]
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
    /// Write the JSON run report here (and nowhere else) [default: kept per run under
    /// OUT/run-reports/, with OUT/run-report.json linking to the latest]
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Seconds to wait for another batch holding a registry's lock
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    /// Catalogue folder (services, authorities, MCI, calendar) [default: from the
    /// configuration, else built in]
    #[arg(long, value_name = "DIR")]
    pub catalogue: Option<PathBuf>,
    /// Templates folder [default: from the configuration, else built in]
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Fonts folder [default: from the configuration, else built in]
    #[arg(long, value_name = "DIR")]
    pub fonts: Option<PathBuf>,
    /// Print nothing but errors: no progress, no summary (the run report is written as always)
    #[arg(long, short)]
    pub quiet: bool,
    /// Progress as plain log lines every 10 s even on a terminal (they are the default when
    /// stderr is not a terminal, e.g. under cron, each line stamped with the time)
    #[arg(long, conflicts_with = "quiet")]
    pub log_progress: bool,
    /// Print the summary as one JSON document on standard output instead of text on standard
    /// error (same facts, same exit code)
    #[arg(long)]
    pub json: bool,
}

/// Runs the command and returns the exit code.
pub fn run(cli: Cli) -> Result<i32> {
    if matches!(
        cli.command,
        Command::Services(_)
            | Command::Config
            | Command::Completions { .. }
            | Command::Man { .. }
            | Command::Verify(_)
            | Command::Export(_)
            | Command::Regenerate(_)
            | Command::Registry(_)
    ) {
        end_quietly_on_a_closed_pipe();
    }
    // Commands that need no configuration do not read one (a broken one must not stop them).
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "qujat", &mut std::io::stdout());
            return Ok(exit::OK);
        }
        Command::Man { out } => return write_man(out.as_deref()),
        Command::Shipped(args) => {
            for tree in [&shipped::CATALOGUE, &shipped::TEMPLATES, &shipped::FONTS] {
                let to = args.out.join(tree.name);
                let count = Files::BuiltIn(tree).write_to(&to)?;
                eprintln!("wrote {count} files to {}", to.display());
            }
            return Ok(exit::OK);
        }
        _ => {}
    }
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Batch(args) => run_batch(&config, args),
        Command::GenerateCases(args) => {
            let from: Date = args
                .from
                .parse()
                .with_context(|| format!("--from {:?}", args.from))?;
            let to: Date = args
                .to
                .parse()
                .with_context(|| format!("--to {:?}", args.to))?;
            if to < from {
                bail!("--to {to} is before --from {from}");
            }
            let catalogue = crate::catalogue::Catalogue::load_from(&config.catalogue(None))?;
            let service = catalogue
                .service("media-registration")
                .context("the catalogue has no service media-registration")?;
            let share = service.duty.clone();
            if let Some(missing) = [from, to]
                .into_iter()
                .find(|d| catalogue.mci.on(d.add_days(-60).unwrap_or(*d)).is_none())
            {
                bail!("mci.toml has no value for the weeks before {missing}");
            }
            let duty = |date: Date| {
                share
                    .as_ref()
                    .map_or(0, |d| d.amount(catalogue.mci.on(date).unwrap_or_default()))
            };
            let csv = crate::synth::media_cases_csv(
                args.count,
                args.seed,
                &args.prefix,
                (from, to),
                duty,
            );
            crate::fsio::write_atomically(&args.out, csv.as_bytes())?;
            eprintln!("wrote {} cases to {}", args.count, args.out.display());
            Ok(exit::OK)
        }
        Command::Regenerate(args) => registry::run_regenerate(&config, args),
        Command::Verify(args) => registry::run_verify(&config, args),
        Command::Export(args) => registry::run_export(&config, args),
        Command::Registry(command) => registry::run_registry(&config, command),
        Command::Serve(args) => serve::run_serve(&config, args),
        Command::Services(args) => {
            let files = config.catalogue(args.catalogue);
            let catalogue = crate::catalogue::Catalogue::load_from(&files)?;
            if args.json {
                print_json(&services::json(&catalogue, &files.describe()))?;
            } else {
                print!("{}", crate::catalogue::listing(&catalogue));
            }
            Ok(exit::OK)
        }
        Command::Config => {
            print!("{}", show_config(&config));
            Ok(exit::OK)
        }
        Command::Completions { .. } | Command::Man { .. } | Command::Shipped(_) => {
            unreachable!("handled above")
        }
    }
}

/// Lets a command whose output is read by another (`qujat services | head`) end as Unix tools
/// do when the reader stops reading — silently, by SIGPIPE — instead of panicking on the failed
/// write. Not for the batch: it writes files, and must reach its end whoever reads its log.
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of a signal, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Prints `value` as pretty JSON on standard output. A reader that has gone (a closed pipe) is
/// no error: for the batch, whose work is done by then, the run report has it all.
fn print_json(value: &impl serde::Serialize) -> Result<()> {
    use std::io::Write;
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(err).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}

/// What `qujat config` prints: the file, and every folder as a command would resolve it.
fn show_config(config: &Config) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{}", config.describe());
    for (name, folder) in [
        ("cases", Folder::Cases),
        ("output", Folder::Output),
        ("registry", Folder::Registry),
    ] {
        let shown = match config.folder(None, folder) {
            Ok(path) => path.display().to_string(),
            Err(_) => format!("not set (give {})", folder_option(folder)),
        };
        let _ = writeln!(out, "{name:<10} {shown}");
    }
    for (name, files) in [
        ("catalogue", config.catalogue(None)),
        ("templates", config.templates(None)),
        ("fonts", config.fonts(None)),
    ] {
        let _ = writeln!(out, "{name:<10} {}", files.describe());
    }
    let file = &config.file;
    let _ = writeln!(out, "creator    {}", file.documents.creator);
    let _ = writeln!(out, "verify_url {}", file.documents.verify_url);
    let _ = writeln!(out, "utc_offset {}", file.run.utc_offset);
    out
}

fn folder_option(folder: Folder) -> &'static str {
    match folder {
        Folder::Cases => "--cases DIR",
        Folder::Output => "--out DIR",
        Folder::Registry => "--registry-dir DIR",
    }
}

/// `qujat man`: the main page on standard output, or every page into a folder.
fn write_man(out: Option<&Path>) -> Result<i32> {
    let command = Cli::command();
    match out {
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout())?,
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the manual pages to {}", dir.display()))?;
            eprintln!("wrote the manual pages to {}", dir.display());
        }
    }
    Ok(exit::OK)
}

/// Where a batch's run report goes.
enum ReportTo {
    /// `--report FILE`: there, and nowhere else.
    File(PathBuf),
    /// Kept per run in OUT/run-reports/, OUT/run-report.json linking to the latest.
    Kept(PathBuf),
}

fn run_batch(config: &Config, args: BatchArgs) -> Result<i32> {
    let offset = config.utc_offset_minutes()?;
    let started = Moment::now(offset)?;
    crate::log::init(offset);
    let today = match &args.today {
        Some(text) => text.parse().with_context(|| format!("--today {text:?}"))?,
        None => started.date(),
    };
    let jobs = match args.jobs {
        Some(0) => bail!("--jobs must be at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    if config.source.is_none() {
        let missing: Vec<&str> = [
            (args.cases.is_none(), "--cases DIR"),
            (args.out.is_none(), "--out DIR"),
            (
                args.registry_dir.is_none() && std::env::var_os("QUJAT_REGISTRY").is_none(),
                "--registry-dir DIR",
            ),
        ]
        .into_iter()
        .filter_map(|(missing, option)| missing.then_some(option))
        .collect();
        if !missing.is_empty() {
            bail!(
                "no configuration file (none given by --config or $QUJAT_CONFIG, and neither \
                 ./qujat.toml nor /etc/qujat/qujat.toml exists): give {}, or write a \
                 configuration file (see `qujat config --help`)",
                missing.join(", ")
            );
        }
    }
    // Every keystore is opened first: a wrong password stops the batch before it writes
    // anything, even a folder.
    let signing = match config.signing()? {
        Some(signing) => Some(std::sync::Arc::new(
            crate::sign::Issuing::open(&signing, offset as i32)
                .context("the officials' signing keys cannot be opened")?,
        )),
        None => None,
    };
    // Written where it really is, and never into a system folder (a link to /etc included).
    let out =
        crate::fsio::writable_folder("output folder", &config.folder(args.out, Folder::Output)?)?;
    let cases = config.folder(args.cases, Folder::Cases)?;
    if !cases.is_dir() {
        bail!(
            "the cases folder {} does not exist (pass --cases DIR)",
            cases.display()
        );
    }
    let report_to = match args.report {
        Some(path) => ReportTo::File(path),
        None => ReportTo::Kept(out.clone()),
    };
    let batch = BatchConfig {
        cases,
        out,
        registry: {
            let registry = registry::registry_place(args.registry_dir, config)?;
            if crate::store::url(&registry).is_none() {
                crate::fsio::writable_folder("registry folder", &registry)?;
            }
            registry
        },
        catalogue: config.catalogue(args.catalogue),
        templates: config.templates(args.templates),
        fonts: config.fonts(args.fonts),
        jobs,
        today,
        wait: Duration::from_secs(args.wait),
        creator: config.file.documents.creator.clone(),
        verify_url: config.file.documents.verify_url.clone(),
        checkpoints: config
            .checkpoint_signer()?
            .map(|signer| (std::sync::Arc::new(signer), config.checkpoint_origin())),
        signing,
        progress: if args.quiet {
            batch::ProgressMode::Quiet
        } else if args.log_progress {
            batch::ProgressMode::Log
        } else {
            batch::ProgressMode::Auto
        },
    };
    let (mut report, result) = batch::run(&batch);
    let finished = Moment::now(offset)?;
    report.started = Some(started.rfc3339());
    report.finished = Some(finished.rfc3339());
    report.configuration = config.file_path().map(|p| p.display().to_string());
    let written = write_report(&report, &report_to, started);
    let shown = written.as_ref().ok().map(|p| p.display().to_string());
    if args.json {
        print_json(&report.summary_json(shown.as_deref()))?;
    } else if !args.quiet && (result.is_ok() || report.summary.files > 0) {
        crate::log::lines(&report);
    }
    match &written {
        Ok(path) if !args.quiet && !args.json => crate::log::lines(format_args!(
            "{}\nreport: {}",
            config.describe(),
            path.display()
        )),
        Ok(_) => {}
        Err(err) => eprintln!("error: the run report could not be written: {err:#}"),
    }
    result?;
    written?;
    Ok(report.exit_code)
}

/// Writes the run report where `to` says; returns the file written.
fn write_report(report: &Report, to: &ReportTo, started: Moment) -> Result<PathBuf> {
    match to {
        ReportTo::File(path) => {
            crate::fsio::write_atomically_with(path, |file| report.write_json(file))?;
            Ok(path.clone())
        }
        ReportTo::Kept(out) => {
            let dir = out.join(REPORTS_DIR);
            let path = reserve_report_name(&dir, &started.file_stamp())?;
            crate::fsio::write_atomically_with(&path, |file| report.write_json(file))?;
            let name = path.file_name().expect("a file name");
            link_latest(&out.join(LATEST), &Path::new(REPORTS_DIR).join(name))?;
            Ok(path)
        }
    }
}

/// The folder of the output folder the run reports are kept in.
const REPORTS_DIR: &str = "run-reports";
/// The link to the latest run report, in the output folder.
const LATEST: &str = "run-report.json";

/// Creates `run-report-STAMP.json` in `dir`, or `run-report-STAMP-2.json`… if a run that
/// started in the same second has it, so two runs never share a report.
fn reserve_report_name(dir: &Path, stamp: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for n in 1.. {
        let name = match n {
            1 => format!("run-report-{stamp}.json"),
            n => format!("run-report-{stamp}-{n}.json"),
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("cannot create {}", path.display()));
            }
        }
    }
    unreachable!("some name is free")
}

/// Points `link` at `target` (relative to the link's folder), replacing what was there in one
/// step: a reader sees the previous report or this one, never no report.
fn link_latest(link: &Path, target: &Path) -> Result<()> {
    let dir = link.parent().expect("the link is in the output folder");
    let temporary = dir.join(format!(".run-report.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, &temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    #[cfg(not(unix))]
    std::fs::copy(dir.join(target), &temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    std::fs::rename(&temporary, link)
        .with_context(|| format!("cannot replace {}", link.display()))?;
    Ok(())
}
