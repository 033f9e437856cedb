//! The command line: clap's structures, turned into checked run configurations before any work
//! starts. Nothing outside this module sees clap. This is also the only place the clock is read
//! (for the run date, when none is given).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::batch::{self, BatchConfig};
use crate::config::Config;
use crate::date::Date;

use crate::exit;

mod registry;
mod serve;

#[derive(Debug, Parser)]
#[command(
    name = "qujat",
    version,
    about = "Issue bilingual official documents for state services and keep their registries",
    after_help = "Exit codes: 0 all done, 1 some input rejected (see the report), 2 fatal error."
)]
pub struct Cli {
    /// Configuration file [default: qujat.toml in the current folder, if there is one]
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
        qujat batch --cases /srv/cases/2026-11-25 --out /srv/documents --registry /srv/registry\n  \
        qujat batch --today 2026-11-25 --jobs 2\n\n\
        Re-running a batch is safe: documents already registered are skipped.\n\
        Exit codes: 0 every case handled, 1 some cases rejected, 2 fatal error.")]
    Batch(BatchArgs),
    /// List the services of the catalogue and the documents they end in
    Services {
        /// Catalogue folder [default: from qujat.toml]
        #[arg(long, value_name = "DIR")]
        catalogue: Option<PathBuf>,
    },
    /// Write synthetic media-registration cases (valid, varied) for stress tests and benchmarks
    #[command(
        after_help = "Example:\n  qujat generate-cases --count 5000 --out bench/out/cases/synthetic.csv"
    )]
    GenerateCases(GenerateArgs),
    /// Typeset a registered document again from its record, and check it is identical
    #[command(after_help = "Examples:\n  \
        qujat regenerate --registry media --number 00017-Г\n  \
        qujat regenerate --registry media --number 00017-Г --out copy.pdf\n  \
        qujat regenerate --case MR-2026-0101 --out /tmp/copies\n\n\
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
        qujat verify --payload 'https://qujat.gov.kz/verify?r=media&n=00001-%D0%93&c=…'\n\n\
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
        double-click (UTF-8 with BOM, semicolon, CRLF, IIN/BIN kept as text). Streamed: any \
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
    /// Folder of case files (XML, CSV), read recursively [default: from qujat.toml]
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// Folder the PDFs are written to [default: from qujat.toml]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Folder of the registries, or a postgres:// URL [default: $QUJAT_REGISTRY, else from
    /// qujat.toml]
    #[arg(long, value_name = "DIR|URL")]
    pub registry: Option<PathBuf>,
    /// Rendering threads [default: the number of CPUs]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// The run date (YYYY-MM-DD): no date in a case may be after it [default: today, at the
    /// configured UTC offset]
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
    /// Where to write the JSON run report [default: OUT/run-report.json]
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Seconds to wait for another batch holding a registry's lock
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    /// Catalogue folder (services, authorities, MCI, calendar) [default: from qujat.toml]
    #[arg(long, value_name = "DIR")]
    pub catalogue: Option<PathBuf>,
    /// Templates folder [default: from qujat.toml]
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Print nothing but errors: no progress, no summary (the run report is written as always)
    #[arg(long, short)]
    pub quiet: bool,
    /// Progress as plain log lines every 10 s even on a terminal (they are the default when
    /// stderr is not a terminal, e.g. under cron)
    #[arg(long, conflicts_with = "quiet")]
    pub log_progress: bool,
}

/// Runs the command and returns the exit code.
pub fn run(cli: Cli) -> Result<i32> {
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
            let catalogue =
                crate::catalogue::Catalogue::load(&config.path(&config.file.paths.catalogue))?;
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
        Command::Services { catalogue } => {
            let dir = catalogue.unwrap_or_else(|| config.path(&config.file.paths.catalogue));
            let catalogue = crate::catalogue::Catalogue::load(&dir)?;
            print!("{}", crate::catalogue::listing(&catalogue));
            Ok(exit::OK)
        }
    }
}

/// Today's date at the configured UTC offset.
fn clock_today(config: &Config) -> Result<Date> {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs() as i64;
    let local = seconds + config.utc_offset_minutes()? * 60;
    Date::from_days(local.div_euclid(86_400)).context("the clock is out of range")
}

fn run_batch(config: &Config, args: BatchArgs) -> Result<i32> {
    let paths = &config.file.paths;
    let today = match &args.today {
        Some(text) => text.parse().with_context(|| format!("--today {text:?}"))?,
        None => clock_today(config)?,
    };
    let jobs = match args.jobs {
        Some(0) => bail!("--jobs must be at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let out = args.out.unwrap_or_else(|| config.path(&paths.output));
    // Written where it really is, and never into a system folder (a link to /etc included).
    let out = crate::fsio::writable_folder("output folder", &out)?;
    let cases = args.cases.unwrap_or_else(|| config.path(&paths.cases));
    if !cases.is_dir() {
        bail!(
            "the cases folder {} does not exist (pass --cases DIR)",
            cases.display()
        );
    }
    let batch = BatchConfig {
        report: args.report.unwrap_or_else(|| out.join("run-report.json")),
        cases,
        out,
        registry: {
            let registry = registry::registry_place(args.registry, config);
            if crate::store::url(&registry).is_none() {
                crate::fsio::writable_folder("registry folder", &registry)?;
            }
            registry
        },
        catalogue: args
            .catalogue
            .unwrap_or_else(|| config.path(&paths.catalogue)),
        templates: args
            .templates
            .unwrap_or_else(|| config.path(&paths.templates)),
        fonts: config.path(&paths.fonts),
        jobs,
        today,
        wait: Duration::from_secs(args.wait),
        creator: config.file.documents.creator.clone(),
        verify_url: config.file.documents.verify_url.clone(),
        checkpoints: config
            .checkpoint_signer()?
            .map(|signer| (std::sync::Arc::new(signer), config.checkpoint_origin())),
        progress: if args.quiet {
            batch::ProgressMode::Quiet
        } else if args.log_progress {
            batch::ProgressMode::Log
        } else {
            batch::ProgressMode::Auto
        },
    };
    let (report, result) = batch::run(&batch);
    let written = crate::fsio::write_atomically_with(&batch.report, |file| report.write_json(file));
    if !args.quiet && (result.is_ok() || report.summary.files > 0) {
        eprint!("{report}");
    }
    match &written {
        Ok(()) if !args.quiet => eprintln!("report: {}", batch.report.display()),
        Ok(()) => {}
        Err(err) => eprintln!("error: the run report could not be written: {err:#}"),
    }
    result?;
    written?;
    Ok(report.exit_code)
}
