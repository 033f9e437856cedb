//! Crash safety: a `qujat batch` killed at any instant and run again ends in the same registries
//! and the same files as a run that was never interrupted (DESIGN.md, invariant 5), and a
//! journal whose writes were torn or lost is recovered when that is safe and refused otherwise —
//! never silently "repaired".
//!
//! **Killed batches.** Each trial builds a workload (40 shipped sample cases, every service, and
//! 40–60 synthetic media cases from a per-trial seed) and runs it once uninterrupted in a
//! separate project: that is the reference, and its wall-clock time D bounds the kill instants.
//! The trial then starts the batch on its own copy of the cases and kills it with SIGKILL
//! (`Child::kill` on Unix) after a random delay in [0, D] — sometimes twice in a row — and runs
//! it to completion. Then:
//! `registry check --files` passes; every journal verifies with nothing but JSON and SHA-256;
//! every (service, case, document) is registered once; every number sequence is gapless; the
//! registered (registry, case, document, number) are exactly the reference's; every record's
//! PDF exists with the recorded SHA-256; no temporary file (`.*.tmp`) is left; journals, heads,
//! template store and PDFs are byte-identical to the reference's; and one more run issues
//! nothing and changes no byte.
//!
//! **Torn and lost writes** (seeded too), applied to a finished reference's registry:
//! a last record cut off mid-write is removed loudly and issued again; a record torn inside the
//! journal, or a flipped byte, stops the batch (exit 2) naming the line, and leaves every file as
//! it was; whole records lost at the end are refused when `head.json` vouches for them and issued
//! again, identically, when it does not.
//!
//! **Reproducing.** Everything random comes from one seed, printed at the start of each test and
//! in every failure, with the trial (or case) number:
//!
//! ```sh
//! QUJAT_CRASH_SEED=0x… QUJAT_CRASH_TRIAL=7 cargo test --test suite crash:: -- --nocapture
//! ```
//!
//! `QUJAT_CRASH_SEED` (decimal or 0x-hex; a fixed default, so `make test` is deterministic in
//! what it tries), `QUJAT_CRASH_TRIALS` (default 10; `make crash` runs 50), and
//! `QUJAT_CRASH_TRIAL` (run only that trial / case of each test). The kill instants are wall-clock
//! delays, so the same seed interrupts a batch at roughly, not exactly, the same record.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

/// The seed when `QUJAT_CRASH_SEED` is not set.
const DEFAULT_SEED: u64 = 0x7175_6a61_7420_0001;

/// Kill trials when `QUJAT_CRASH_TRIALS` is not set: the short run of `make test`.
const DEFAULT_TRIALS: u64 = 10;

/// Rendering threads of every batch here.
const JOBS: &str = "2";

/// The sample files every workload starts from: one or two per service, so every registry,
/// XML and CSV, and the re-registration MR-2026-0124 with the certificate it supersedes — 40
/// cases. All 108 samples would make each trial about 1.7 times as long for little more.
const SAMPLE_FILES: &[&str] = &[
    "apostille/2026-11-02_to_24.csv",
    "archive/2026-11-16_to_24.csv",
    "attestation/2026-11-23_to_24.csv",
    "depository/2026-11-16_to_23.csv",
    "e-register/ER-2026-0307.xml",
    "foreign-media/2026-11_shymkent-karaganda.csv",
    "kkm/2026-11-18_to_24.csv",
    "media/2026-11-16_to_20.xml",
    "media/MR-2026-0124.xml",
];

/// The first decision date of synthetic cases: after MR-2026-0101's (2026-11-16), so the
/// sample re-registration MR-2026-0124 still supersedes its certificate 00001-Г and every
/// workload has a status event in `media`.
const SYNTHETIC_FROM: &str = "2026-11-17";

// ---------------------------------------------------------------------------------------------
// Seeds, settings, and what a failure message says.

/// splitmix64: small, deterministic, good enough to choose instants and offsets.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    /// The generator of case `index` of stream `name` under `seed`: independent of the other
    /// cases, so one trial can be re-run alone (`QUJAT_CRASH_TRIAL`).
    fn derive(seed: u64, name: &str, index: u64) -> Rng {
        // FNV-1a of the stream name.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut rng = Rng(seed ^ h ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        self.next() % n
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "between({lo}, {hi})");
        lo + self.below(hi - lo + 1)
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What the environment asks for.
struct Settings {
    seed: u64,
    trials: u64,
    /// Only this trial / case of each test.
    only: Option<u64>,
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            seed: env_u64("QUJAT_CRASH_SEED").unwrap_or(DEFAULT_SEED),
            trials: env_u64("QUJAT_CRASH_TRIALS").unwrap_or(DEFAULT_TRIALS),
            only: env_u64("QUJAT_CRASH_TRIAL"),
        }
    }

    /// The trial or case numbers to run when there are `count` of them.
    fn cases(&self, count: u64) -> Vec<u64> {
        match self.only {
            Some(one) => vec![one],
            None => (0..count).collect(),
        }
    }

    /// How many cases each torn-write test tries: a few in `make test`, more in a long run.
    fn torn_cases(&self) -> u64 {
        (self.trials / 3).clamp(3, 20)
    }

    fn announce(&self, test: &str, count: u64) {
        eprintln!(
            "crash::{test}: seed {:#x}, {} (reproduce: QUJAT_CRASH_SEED={:#x} [QUJAT_CRASH_TRIAL=n] \
             cargo test --test suite crash::{test} -- --nocapture)",
            self.seed,
            match self.only {
                Some(one) => format!("only #{one}"),
                None => format!("{count} case{}", if count == 1 { "" } else { "s" }),
            },
            self.seed,
        );
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim().replace('_', "");
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text:?} is not a number (decimal or 0x-hex)")))
}

/// Where a failure happened and what was done before it, for every assertion message.
struct Ctx {
    test: &'static str,
    seed: u64,
    case: u64,
    steps: Vec<String>,
}

impl Ctx {
    fn new(test: &'static str, seed: u64, case: u64) -> Ctx {
        Ctx {
            test,
            seed,
            case,
            steps: Vec::new(),
        }
    }

    fn step(&mut self, what: impl Into<String>) {
        self.steps.push(what.into());
    }
}

impl fmt::Display for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[crash::{} seed {:#x} #{}: {}] (reproduce: QUJAT_CRASH_SEED={:#x} QUJAT_CRASH_TRIAL={} \
             cargo test --test suite crash::{} -- --nocapture)",
            self.test,
            self.seed,
            self.case,
            self.steps.join("; "),
            self.seed,
            self.case,
            self.test,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Workloads, runs, kills.

/// A project holding [`SAMPLE_FILES`] and `count` synthetic media cases (no run yet), its
/// registries at `place`.
fn workload(rng: &mut Rng, count: u64, place: Place) -> Project {
    let project = Project::at(place);
    for file in SAMPLE_FILES {
        let to = project.cases().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join("cases/sample").join(file), to).unwrap();
    }
    let seed = rng.below(1 << 32).to_string();
    let count = count.to_string();
    let run = project.qujat(&[
        "generate-cases",
        "--count",
        &count,
        "--seed",
        &seed,
        "--from",
        SYNTHETIC_FROM,
        "--to",
        TODAY,
        "--out",
        "cases/synthetic.csv",
    ]);
    assert_eq!(
        run.code, 0,
        "generate-cases --count {count} --seed {seed} failed:\n{}",
        run.stderr
    );
    project
}

/// A fresh project with `from`'s cases, its registries in the same kind of place, and, with
/// `state`, everything it issued (files only: the torn-write tests work on files).
fn copy_of(from: &Project, state: bool) -> Project {
    let project = from.like();
    copy_dir(&from.cases(), &project.cases());
    if state {
        assert!(project.database().is_none(), "copying a database's state");
        copy_dir(&from.out(), &project.out());
        copy_dir(&from.registry(), &project.registry());
    }
    project
}

/// One uninterrupted run of a workload: what every crashed run must end in.
struct Reference {
    project: Project,
    /// How long the batch took: kill instants are drawn from [0, duration].
    duration: Duration,
    code: i32,
    files: Snapshot,
    /// Records per registry.
    records: BTreeMap<String, usize>,
}

impl Reference {
    fn run(cases: &Project) -> Reference {
        let project = copy_of(cases, false);
        let started = Instant::now();
        let run = project.batch(&["--jobs", JOBS]);
        let duration = started.elapsed();
        assert!(
            run.code == 0 || run.code == 1,
            "the uninterrupted reference batch failed ({}):\n{}",
            run.code,
            run.stderr
        );
        let mut records = BTreeMap::new();
        for code in registries(&project) {
            let text = String::from_utf8(project.journal_bytes(&code)).unwrap();
            if let Err(problem) = chain_problem(&text) {
                panic!("the reference's journal {code} does not verify: {problem}");
            }
            records.insert(code, text.lines().count());
        }
        let files = snapshot(&project);
        Reference {
            project,
            duration,
            code: run.code,
            files,
            records,
        }
    }

    fn journal(&self, code: &str) -> Vec<u8> {
        self.project.journal_bytes(code)
    }

    fn total_records(&self) -> usize {
        self.records.values().sum()
    }
}

/// How a batch that was to be killed ended.
enum Ended {
    Killed,
    /// It finished before the kill, with this exit code.
    Exited(i32),
}

/// Starts a batch and kills it (SIGKILL) `after` the start, unless it has finished by then.
fn run_and_kill(project: &Project, after: Duration) -> Ended {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qujat"))
        .args(["batch", "--today", TODAY, "--jobs", JOBS])
        .current_dir(project.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Ended::Exited(status.code().unwrap_or(-1));
        }
        let elapsed = started.elapsed();
        if elapsed >= after {
            break;
        }
        std::thread::sleep((after - elapsed).min(Duration::from_millis(2)));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if status.signal().is_some() {
            return Ended::Killed;
        }
    }
    Ended::Exited(status.code().unwrap_or(-1))
}

// ---------------------------------------------------------------------------------------------
// What a project holds.

/// Every file of `registry/` and `output/` but the run report, by path from the project folder,
/// with its SHA-256 (for registries in PostgreSQL, what the database holds as pseudo-files:
/// [`crate::pg::Database::snapshot`]). Not the registries' indexes (`index.sqlite*`): derived data, which a re-run
/// makes again and which need not be byte-identical to say the same (every check and lookup
/// reads through them); nor what a writer kept aside (`quarantine/`), which the torn-write
/// tests look at themselves.
type Snapshot = BTreeMap<String, String>;

fn snapshot(project: &Project) -> Snapshot {
    let mut files = project
        .database()
        .map(|db| db.snapshot())
        .unwrap_or_default();
    for root in [project.registry(), project.out()] {
        for entry in walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
        {
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.path().strip_prefix(project.path()).unwrap();
            // The run reports say when each run started; the rest must be the same bytes.
            if path == Path::new("output/run-report.json") || path.starts_with("output/run-reports")
            {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            if name.starts_with("index.sqlite")
                || path.components().any(|c| c.as_os_str() == "quarantine")
            {
                continue;
            }
            let bytes = std::fs::read(entry.path()).unwrap();
            files.insert(path.to_string_lossy().into_owned(), sha256_hex(&bytes));
        }
    }
    files
}

/// What differs between two snapshots (at most a dozen lines).
fn snapshot_differences(expected: &Snapshot, actual: &Snapshot) -> Vec<String> {
    let mut differences = Vec::new();
    for (path, hash) in expected {
        match actual.get(path) {
            None => differences.push(format!("missing {path}")),
            Some(other) if other != hash => differences.push(format!("different {path}")),
            Some(_) => {}
        }
    }
    for path in actual.keys().filter(|p| !expected.contains_key(*p)) {
        differences.push(format!("extra {path}"));
    }
    let count = differences.len();
    if count > 12 {
        differences.truncate(12);
        differences.push(format!("… {} more", count - 12));
    }
    differences
}

/// Temporary files (`.NAME.PID.tmp`) under the output and registry folders.
fn temporary_files(project: &Project) -> Vec<String> {
    let mut found = Vec::new();
    for root in [project.out(), project.registry()] {
        for entry in walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
        {
            let name = entry.file_name().to_string_lossy();
            if entry.file_type().is_file() && name.starts_with('.') && name.ends_with(".tmp") {
                let path = entry.path().strip_prefix(project.path()).unwrap();
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// The registries (folders with a journal, or a database's registries) of a project, by code.
fn registries(project: &Project) -> Vec<String> {
    project.codes()
}

/// Records in all journals (whole lines).
fn count_records(project: &Project) -> usize {
    registries(project)
        .iter()
        .map(|code| {
            let bytes = project.journal_bytes(code);
            bytes.iter().filter(|&&b| b == b'\n').count()
        })
        .sum()
}

/// The journal checked with nothing but JSON and SHA-256, as docs/registry.md shows: each
/// line's hash is that of its record's canonical JSON, `seq` counts 1, 2, 3…, `prev` chains.
/// Returns how many records, or the first problem.
fn chain_problem(text: &str) -> Result<usize, String> {
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the last line is incomplete".into());
    }
    let mut prev = "0".repeat(64);
    let mut count = 0;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let value: Value =
            serde_json::from_str(line).map_err(|err| format!("line {n}: not JSON ({err})"))?;
        let record = &value["record"];
        let hash = value["hash"].as_str().unwrap_or_default();
        if sha256_hex(serde_json::to_string(record).unwrap().as_bytes()) != hash {
            return Err(format!("line {n}: the record does not match its hash"));
        }
        if record["seq"].as_u64() != Some(n as u64) {
            return Err(format!("line {n}: seq is {}", record["seq"]));
        }
        if record["prev"].as_str() != Some(prev.as_str()) {
            return Err(format!("line {n}: the chain is broken"));
        }
        prev = hash.to_string();
        count = n;
    }
    Ok(count)
}

/// One line of a journal, described for a message.
fn describe(line: &str) -> String {
    let Ok(value) = serde_json::from_str::<Value>(line) else {
        return format!("not JSON: {:?}…", line.chars().take(60).collect::<String>());
    };
    let r = &value["record"];
    if r["type"] == "status" {
        format!(
            "record {}: status event, record {} (№ {}) {}",
            r["seq"], r["target"], r["number"], r["status"]
        )
    } else {
        format!(
            "record {}: {} {} of case {}, № {}",
            r["seq"], r["service"], r["document"], r["case_id"], r["number"]
        )
    }
}

/// Where a journal first differs from the reference's.
fn journal_difference(expected: &[u8], actual: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let actual = String::from_utf8_lossy(actual);
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) => {
                return format!(
                    "line {}: the reference has {}, this run {}",
                    i + 1,
                    describe(x),
                    describe(y)
                );
            }
            (Some(x), None) => {
                return format!(
                    "{} lines instead of {}; the first missing is {}",
                    a.len(),
                    e.len(),
                    describe(x)
                );
            }
            (None, Some(y)) => {
                return format!(
                    "{} lines instead of {}; the first extra is {}",
                    a.len(),
                    e.len(),
                    describe(y)
                );
            }
            (None, None) => unreachable!(),
        }
    }
    "the same lines, but not the same bytes (line ends?)".into()
}

/// The document records of a registry's journal, parsed.
fn documents(ctx: &Ctx, project: &Project, code: &str) -> Vec<Value> {
    let text = String::from_utf8(project.journal_bytes(code)).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|err| panic!("{ctx}: {code} line {}: not JSON: {err}", i + 1))
        })
        .map(|v| v["record"].clone())
        .filter(|r| r["type"] == "document")
        .collect()
}

/// Number sequences of a registry that are not 1, 2, 3, …: documents' own numbers and the
/// numbers of their items (deposit numbers). Every workload here starts from empty registries.
fn gaps(records: &[Value]) -> Vec<String> {
    let mut by_sequence: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in records {
        let mut push = |sequence: &Value, n: &Value| {
            by_sequence
                .entry(sequence.as_str().unwrap_or("?").to_string())
                .or_default()
                .push(n.as_u64().unwrap_or(0));
        };
        push(&r["sequence"], &r["n"]);
        for item in r["items"].as_array().into_iter().flatten() {
            push(&item["sequence"], &item["n"]);
        }
    }
    let mut problems = Vec::new();
    for (sequence, mut ns) in by_sequence {
        ns.sort_unstable();
        if ns != (1..=ns.len() as u64).collect::<Vec<_>>() {
            problems.push(format!("sequence {sequence}: n = {ns:?}"));
        }
    }
    problems
}

/// What was registered: (registry, case, document, number).
type Registered = BTreeSet<(String, String, String, String)>;

fn registered(ctx: &Ctx, project: &Project) -> Registered {
    let mut set = BTreeSet::new();
    for code in registries(project) {
        for r in documents(ctx, project, &code) {
            set.insert((
                code.clone(),
                r["case_id"].as_str().unwrap_or_default().to_string(),
                r["document"].as_str().unwrap_or_default().to_string(),
                r["number"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    set
}

/// Standard error with runs of white space made single spaces, for matching messages.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// The checks.

/// Everything a batch that ran to completion must leave: a sound registry, the reference's
/// documents with the reference's numbers, their PDFs, nothing else — the same bytes.
fn assert_same_as_reference(ctx: &Ctx, project: &Project, reference: &Reference) {
    let check = project.qujat(&["registry", "check", "--files"]);
    assert_eq!(
        check.code, 0,
        "{ctx}: `qujat registry check --files` did not find the registries sound:\n{}{}",
        check.stdout, check.stderr
    );

    let temporary = temporary_files(project);
    assert!(
        temporary.is_empty(),
        "{ctx}: temporary files were left behind after the completing run: {temporary:?}"
    );

    let codes = registries(project);
    let expected_codes: Vec<String> = reference.records.keys().cloned().collect();
    assert_eq!(
        codes, expected_codes,
        "{ctx}: not the reference's registries"
    );

    for code in &codes {
        let text = String::from_utf8(project.journal_bytes(code)).unwrap();
        if let Err(problem) = chain_problem(&text) {
            panic!("{ctx}: journal {code} does not verify independently: {problem}");
        }
        let records = documents(ctx, project, code);
        let mut seen = BTreeMap::new();
        for r in &records {
            let key = (
                r["service"].to_string(),
                r["case_id"].to_string(),
                r["document"].to_string(),
            );
            *seen.entry(key).or_insert(0) += 1;
        }
        let twice: Vec<_> = seen.iter().filter(|&(_, &count)| count > 1).collect();
        assert!(
            twice.is_empty(),
            "{ctx}: registry {code} registers a document more than once: {twice:?}"
        );
        let gaps = gaps(&records);
        assert!(
            gaps.is_empty(),
            "{ctx}: registry {code} has gaps in its numbers: {gaps:?}"
        );
        for r in &records {
            let file = r["pdf"]["file"].as_str().unwrap_or_default();
            let path = project.out().join(file);
            let bytes = std::fs::read(&path).unwrap_or_else(|err| {
                panic!(
                    "{ctx}: registry {code}, № {}: its PDF {file} cannot be read: {err}",
                    r["number"]
                )
            });
            assert_eq!(
                sha256_hex(&bytes),
                r["pdf"]["sha256"].as_str().unwrap_or_default(),
                "{ctx}: registry {code}, № {}: {file} is not the PDF its record names",
                r["number"]
            );
        }
    }

    let expected = registered(ctx, &reference.project);
    let actual = registered(ctx, project);
    if expected != actual {
        let missing: Vec<_> = expected.difference(&actual).take(8).collect();
        let extra: Vec<_> = actual.difference(&expected).take(8).collect();
        panic!(
            "{ctx}: not the documents and numbers of the uninterrupted run \
             ({} registered, {} expected); missing {missing:?}; not expected {extra:?}",
            actual.len(),
            expected.len()
        );
    }

    for code in &codes {
        let expected = reference.journal(code);
        let actual = project.journal_bytes(code);
        assert!(
            expected == actual,
            "{ctx}: journal {code} is not byte-identical to the uninterrupted run's: {}",
            journal_difference(&expected, &actual)
        );
    }

    let files = snapshot(project);
    let differences = snapshot_differences(&reference.files, &files);
    assert!(
        differences.is_empty(),
        "{ctx}: the registry and output folders differ from the uninterrupted run's: {differences:?}"
    );
}

/// One more batch issues nothing and changes no file.
fn assert_rerun_changes_nothing(ctx: &Ctx, project: &Project, reference: &Reference) {
    let before = snapshot(project);
    let run = project.batch(&["--jobs", JOBS]);
    assert_eq!(
        run.code, reference.code,
        "{ctx}: the run after completion exited {} (the uninterrupted run {}):\n{}",
        run.code, reference.code, run.stderr
    );
    let summary = &run.report(project)["summary"];
    assert_eq!(
        (summary["issued"].as_u64(), summary["refused"].as_u64()),
        (Some(0), Some(0)),
        "{ctx}: the run after completion issued documents again: {summary}"
    );
    let differences = snapshot_differences(&before, &snapshot(project));
    assert!(
        differences.is_empty(),
        "{ctx}: the run after completion changed files: {differences:?}"
    );
}

/// A batch that must refuse a damaged registry: exit 2, the registry and line named, and no
/// file of the registry or output folders changed.
fn assert_refused_untouched(ctx: &Ctx, project: &Project, code: &str, names: &[String]) {
    let before = snapshot(project);
    let run = project.batch(&["--jobs", JOBS]);
    let stderr = squeezed(&run.stderr);
    assert_eq!(
        run.code, 2,
        "{ctx}: a damaged registry {code} was not refused:\n{}",
        run.stderr
    );
    for part in [format!("registry \"{code}\""), "is damaged".to_string()]
        .iter()
        .chain(names)
    {
        assert!(
            stderr.contains(part.as_str()),
            "{ctx}: the refusal does not say {part:?}:\n{}",
            run.stderr
        );
    }
    let differences = snapshot_differences(&before, &snapshot(project));
    assert!(
        differences.is_empty(),
        "{ctx}: the refused batch changed files (a damaged registry must be left as it was \
         found, never repaired): {differences:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Killed batches.

/// What the kills of a run interrupted, for the closing summary.
#[derive(Default)]
struct Tally {
    before_any_record: usize,
    mid_batch: usize,
    finished_first: usize,
    temporary_left: usize,
}

/// One trial of the killed batches, its registries where `place` puts them.
fn kill_trial(
    settings: &Settings,
    test: &'static str,
    trial: u64,
    tally: &mut Tally,
    place: &dyn Fn() -> Place,
) {
    let mut rng = Rng::derive(settings.seed, "kill", trial);
    let mut ctx = Ctx::new(test, settings.seed, trial);
    let count = rng.between(40, 60);
    let project = workload(&mut rng, count, place());
    let reference = Reference::run(&project);
    let total = reference.total_records();
    ctx.step(format!(
        "{count} synthetic cases; uninterrupted batch D = {} ms, {total} records",
        reference.duration.as_millis()
    ));

    let kills = if rng.percent(30) { 2 } else { 1 };
    for _ in 0..kills {
        // A fraction of D rather than a number of milliseconds, so that a re-run of the same
        // seed on a busier or quieter machine kills at about the same point of the batch.
        let fraction = rng.below(1_000_001) as f64 / 1e6;
        let delay = reference.duration.mul_f64(fraction);
        let at = format!(
            "{:.1} ms ({:.1}% of D)",
            delay.as_secs_f64() * 1e3,
            fraction * 100.0
        );
        match run_and_kill(&project, delay) {
            Ended::Killed => {
                let records = count_records(&project);
                let temporary = temporary_files(&project);
                if records == 0 {
                    tally.before_any_record += 1;
                } else {
                    tally.mid_batch += 1;
                }
                if !temporary.is_empty() {
                    tally.temporary_left += 1;
                }
                ctx.step(format!(
                    "killed at {at} with {records}/{total} records{}",
                    if temporary.is_empty() {
                        String::new()
                    } else {
                        format!(" and {temporary:?}")
                    }
                ));
            }
            Ended::Exited(code) => {
                tally.finished_first += 1;
                ctx.step(format!("finished (exit {code}) before the kill at {at}"));
                assert!(
                    code == 0 || code == 1,
                    "{ctx}: a batch exited {code} on its own"
                );
            }
        }
    }

    let run = project.batch(&["--jobs", JOBS]);
    ctx.step(format!("completing run exited {}", run.code));
    assert!(
        run.code == 0 || run.code == 1,
        "{ctx}: the completing run failed:\n{}",
        run.stderr
    );
    assert_eq!(
        run.code, reference.code,
        "{ctx}: the completing run's exit code is not the uninterrupted run's:\n{}",
        run.stderr
    );
    eprintln!("{ctx}");
    assert_same_as_reference(&ctx, &project, &reference);
    assert_rerun_changes_nothing(&ctx, &project, &reference);
}

#[test]
fn killed_batches_rerun_to_the_same_registries_and_files() {
    killed_batches("killed_batches", &|| Place::Files);
}

/// The same trials (the same seeds, so the same workloads and kill instants) with the
/// registries in PostgreSQL: a batch killed at any instant leaves whole transactions, and the
/// completing run ends in the same records, heads, checkpoints, template versions and PDFs.
#[test]
fn killed_batches_in_postgresql_rerun_to_the_same_registries_and_files() {
    let Some(server) = crate::pg::server("crash::killed_batches_in_postgresql") else {
        return;
    };
    killed_batches("killed_batches_in_postgresql", &|| {
        Place::Postgres(server.database())
    });
}

fn killed_batches(test: &'static str, place: &dyn Fn() -> Place) {
    let settings = Settings::from_env();
    settings.announce(test, settings.trials);
    let started = Instant::now();
    let mut tally = Tally::default();
    let trials = settings.cases(settings.trials);
    for &trial in &trials {
        kill_trial(&settings, test, trial, &mut tally, place);
    }
    eprintln!(
        "crash::{test}: {} trials in {:.1} s; kills before any record {}, after some {}, \
         too late (the batch had finished) {}; kills that left a temporary file {}",
        trials.len(),
        started.elapsed().as_secs_f64(),
        tally.before_any_record,
        tally.mid_batch,
        tally.finished_first,
        tally.temporary_left,
    );
}

// ---------------------------------------------------------------------------------------------
// Torn and lost writes.

/// Byte ranges of a journal's lines, without their `\n`: `(start, end)` with `bytes[end] == b'\n'`.
fn line_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            spans.push((start, i));
            start = i + 1;
        }
    }
    assert_eq!(start, bytes.len(), "a reference journal ends in a newline");
    spans
}

/// The hash of line `seq` (1-based) of a journal.
fn hash_of(bytes: &[u8], seq: usize) -> String {
    let (start, end) = line_spans(bytes)[seq - 1];
    let value: Value = serde_json::from_slice(&bytes[start..end]).unwrap();
    value["hash"].as_str().unwrap().to_string()
}

/// Makes a registry's end-of-batch files say what an earlier batch that finished with record
/// `seq` left (0: no batch ever finished): the state a crash in a later batch leaves behind.
/// A batch writes them only when it is done, in this order: `head.json` (that record's `seq` and
/// hash), then a Merkle checkpoint of every record (`checkpoints.jsonl`, only if the registry
/// grew). Checkpoints beyond `seq` are dropped; none is made for `seq` itself, as if that
/// earlier batch had stopped between the two — a state the design allows, and the only one a
/// test can make without computing Merkle roots.
fn roll_back_to_batch_end(project: &Project, code: &str, journal: &[u8], seq: usize) {
    let dir = project.registry().join(code);
    let head = dir.join("head.json");
    if seq == 0 {
        let _ = std::fs::remove_file(head);
    } else {
        let text = format!("{{\"seq\":{seq},\"hash\":\"{}\"}}\n", hash_of(journal, seq));
        std::fs::write(head, text).unwrap();
    }
    let checkpoints = dir.join("checkpoints.jsonl");
    if let Ok(text) = std::fs::read_to_string(&checkpoints) {
        let kept: String = text
            .lines()
            .filter(|line| {
                let value: Value = serde_json::from_str(line).unwrap();
                value["size"]
                    .as_u64()
                    .is_some_and(|size| size <= seq as u64)
            })
            .map(|line| format!("{line}\n"))
            .collect();
        if kept.is_empty() {
            std::fs::remove_file(&checkpoints).unwrap();
        } else {
            std::fs::write(&checkpoints, kept).unwrap();
        }
    }
}

/// The reference of a torn-write test: the sample files and 20 synthetic cases, run once.
fn torn_reference(settings: &Settings, test: &str) -> Reference {
    let mut rng = Rng::derive(settings.seed, test, u64::MAX);
    let cases = workload(&mut rng, 20, Place::Files);
    Reference::run(&cases)
}

/// A registry of the reference with at least `min` records.
fn pick_registry(rng: &mut Rng, reference: &Reference, min: usize) -> String {
    let codes: Vec<String> = reference
        .records
        .iter()
        .filter(|&(_, &n)| n >= min)
        .map(|(code, _)| code.clone())
        .collect();
    rng.pick(&codes).clone()
}

#[test]
fn torn_last_record_is_cut_off_loudly_and_issued_again() {
    let settings = Settings::from_env();
    let test = "torn_last_record";
    settings.announce(test, settings.torn_cases());
    let reference = torn_reference(&settings, test);
    for case in settings.cases(settings.torn_cases()) {
        let mut rng = Rng::derive(settings.seed, test, case);
        let mut ctx = Ctx::new(test, settings.seed, case);
        let code = pick_registry(&mut rng, &reference, 1);
        let journal = reference.journal(&code);
        let spans = line_spans(&journal);
        let (start, end) = *spans.last().unwrap();
        // Keep at least one byte of the last line, and lose at least its newline.
        let cut = rng.between(start as u64 + 1, end as u64) as usize;
        // The crash came in a batch that began after an earlier one finished with record
        // `head` (0: no batch ever finished), so head.json and the checkpoints are behind the
        // torn record.
        let head = rng.below(spans.len() as u64) as usize;
        ctx.step(format!(
            "{code}: cut at byte {cut} of {} (inside record {}), head.json at record {head}",
            journal.len(),
            spans.len()
        ));
        let project = copy_of(&reference.project, true);
        std::fs::write(project.journal_path(&code), &journal[..cut]).unwrap();
        roll_back_to_batch_end(&project, &code, &journal, head);

        let run = project.batch(&["--jobs", JOBS]);
        assert_eq!(
            run.code, reference.code,
            "{ctx}: the batch after a torn last write did not go on:\n{}",
            run.stderr
        );
        // A cut that lost only the end of line leaves a whole record: it is kept (issue 21).
        let warning = if cut == end {
            format!(
                "registry {code}: its last record was written whole but for its end of line (a \
                 crash?); the end of line was added"
            )
        } else {
            format!(
                "registry {code}: the last write was cut off (a crash?); removed {} bytes of an \
                 incomplete record, keeping {start} bytes of whole records",
                cut - start
            )
        };
        if cut != end {
            // The bytes cut off are kept aside, named in the report.
            let kept = run.report(&project)["kept_aside"][0]["file"]
                .as_str()
                .map(std::path::PathBuf::from);
            assert_eq!(
                kept.as_deref()
                    .map(|p| std::fs::read(project.path().join(p)).unwrap()),
                Some(journal[start..cut].to_vec()),
                "{ctx}: the bytes cut off were not kept aside, as the report says"
            );
        }
        assert!(
            squeezed(&run.stderr).contains(&format!("warning: {warning}")),
            "{ctx}: standard error does not say {warning:?}:\n{}",
            run.stderr
        );
        let warnings = run.report(&project)["warnings"].clone();
        assert!(
            warnings
                .as_array()
                .is_some_and(|w| w.iter().any(|w| w.as_str() == Some(warning.as_str()))),
            "{ctx}: the run report's warnings do not say {warning:?}: {warnings}"
        );
        assert_same_as_reference(&ctx, &project, &reference);
    }
}

#[test]
fn torn_record_the_head_names_is_refused_as_removed() {
    // The head is written after every record of a batch was made durable, so a last record it
    // names cannot have been cut off by a crash: its loss is damage. The batch must refuse it
    // (exit 2) naming the removed record and leave the journal as it found it, the incomplete
    // line included — cutting it off would destroy the evidence and then refuse anyway.
    let settings = Settings::from_env();
    let test = "torn_record_the_head_names";
    settings.announce(test, settings.torn_cases());
    let reference = torn_reference(&settings, test);
    for case in settings.cases(settings.torn_cases()) {
        let mut rng = Rng::derive(settings.seed, test, case);
        let mut ctx = Ctx::new(test, settings.seed, case);
        let code = pick_registry(&mut rng, &reference, 1);
        let journal = reference.journal(&code);
        let spans = line_spans(&journal);
        let n = spans.len();
        let (start, end) = spans[n - 1];
        // Inside the record: one that lost only its end of line is whole, and kept (issue 21;
        // tests/suite/tamper.rs).
        let cut = rng.between(start as u64 + 1, end as u64 - 1) as usize;
        ctx.step(format!(
            "{code}: cut at byte {cut} of {} (inside record {n}), head.json and checkpoint still at record {n}",
            journal.len()
        ));
        let project = copy_of(&reference.project, true);
        std::fs::write(project.journal_path(&code), &journal[..cut]).unwrap();
        let names = [format!(
            "it ends at record {}, but its last writer left {n} records",
            n - 1
        )];
        assert_refused_untouched(&ctx, &project, &code, &names);
    }
}

#[test]
fn interior_damage_is_refused_and_left_as_it_is() {
    let settings = Settings::from_env();
    let test = "interior_damage";
    settings.announce(test, settings.torn_cases());
    let reference = torn_reference(&settings, test);
    for case in settings.cases(settings.torn_cases()) {
        let mut rng = Rng::derive(settings.seed, test, case);
        let mut ctx = Ctx::new(test, settings.seed, case);
        let code = pick_registry(&mut rng, &reference, 2);
        let mut journal = reference.journal(&code);
        let spans = line_spans(&journal);
        let kind = rng.below(3);
        // Torn records have later whole lines after them; a flipped byte may be anywhere.
        let last = if kind == 2 {
            spans.len()
        } else {
            spans.len() - 1
        };
        let line = rng.below(last as u64) as usize;
        let (start, end) = spans[line];
        match kind {
            0 | 1 => {
                // A write torn inside the journal and later records appended after it: the
                // record's tail is missing, with (0) or without (1) its newline.
                let cut = rng.between(start as u64 + 1, end as u64 - 1) as usize;
                let resume = if kind == 0 { end } else { end + 1 };
                journal.drain(cut..resume);
                ctx.step(format!(
                    "{code}: record {} torn at byte {} of its {} and {}",
                    line + 1,
                    cut - start,
                    end - start,
                    if kind == 0 {
                        "its newline kept"
                    } else {
                        "run into the next line"
                    }
                ));
            }
            _ => {
                let at = rng.between(start as u64, end as u64 - 1) as usize;
                let mut bit = rng.below(8);
                while journal[at] ^ (1 << bit) == b'\n' {
                    bit = (bit + 1) % 8;
                }
                journal[at] ^= 1 << bit;
                ctx.step(format!(
                    "{code}: bit {bit} of byte {} of record {} flipped",
                    at - start,
                    line + 1
                ));
            }
        }
        let project = copy_of(&reference.project, true);
        std::fs::write(project.journal_path(&code), &journal).unwrap();
        let names = [format!("line {} ", line + 1)];
        assert_refused_untouched(&ctx, &project, &code, &names);
    }
}

#[test]
fn lost_records_the_head_names_are_refused_as_removed() {
    // "Writes never fsynced" cut the journal back at a record boundary. A crash can only lose
    // records the head does not name yet (the head is written after they were made durable);
    // records the head names that are gone were removed by something else, and the chain alone
    // cannot show it. The batch must refuse (exit 2), naming the removed records, and leave the
    // journal as it is.
    let settings = Settings::from_env();
    let test = "lost_records_the_head_names";
    settings.announce(test, settings.torn_cases());
    let reference = torn_reference(&settings, test);
    for case in settings.cases(settings.torn_cases()) {
        let mut rng = Rng::derive(settings.seed, test, case);
        let mut ctx = Ctx::new(test, settings.seed, case);
        let code = pick_registry(&mut rng, &reference, 1);
        let journal = reference.journal(&code);
        let spans = line_spans(&journal);
        let n = spans.len();
        let keep = rng.below(n as u64) as usize;
        let cut = if keep == 0 { 0 } else { spans[keep - 1].1 + 1 };
        ctx.step(format!(
            "{code}: cut back to {keep} of {n} records, head.json and checkpoint still at record {n}"
        ));
        let project = copy_of(&reference.project, true);
        std::fs::write(project.journal_path(&code), &journal[..cut]).unwrap();
        let names = [format!(
            "it ends at record {keep}, but its last writer left {n} records"
        )];
        assert_refused_untouched(&ctx, &project, &code, &names);
    }
}

#[test]
fn lost_records_before_the_head_are_issued_again_identically() {
    // The same loss when the crash came before the batch wrote its head: head.json (and the
    // checkpoints) name a record at or before the cut, or there is none, and the lost records'
    // PDFs may be lost too. Nothing shows damage, so the next batch must issue the lost documents again, with
    // the same numbers, the same records and the same PDF bytes.
    let settings = Settings::from_env();
    let test = "lost_records_before_the_head";
    settings.announce(test, settings.torn_cases());
    let reference = torn_reference(&settings, test);
    for case in settings.cases(settings.torn_cases()) {
        let mut rng = Rng::derive(settings.seed, test, case);
        let mut ctx = Ctx::new(test, settings.seed, case);
        let code = pick_registry(&mut rng, &reference, 1);
        let journal = reference.journal(&code);
        let spans = line_spans(&journal);
        let n = spans.len();
        let keep = rng.below(n as u64) as usize;
        let cut = if keep == 0 { 0 } else { spans[keep - 1].1 + 1 };
        let head = rng.between(0, keep as u64) as usize;
        let project = copy_of(&reference.project, true);
        std::fs::write(project.journal_path(&code), &journal[..cut]).unwrap();
        roll_back_to_batch_end(&project, &code, &journal, head);
        let mut lost_documents = 0;
        let mut lost_pdfs = Vec::new();
        for &(start, end) in &spans[keep..] {
            let record =
                serde_json::from_slice::<Value>(&journal[start..end]).unwrap()["record"].clone();
            if record["type"] != "document" {
                continue;
            }
            lost_documents += 1;
            if rng.percent(50) {
                let file = record["pdf"]["file"].as_str().unwrap().to_string();
                std::fs::remove_file(project.out().join(&file)).unwrap();
                lost_pdfs.push(file);
            }
        }
        ctx.step(format!(
            "{code}: cut back to {keep} of {n} records, head.json at record {head}, \
             PDFs lost too: {lost_pdfs:?}"
        ));

        let run = project.batch(&["--jobs", JOBS]);
        assert_eq!(
            run.code, reference.code,
            "{ctx}: the batch after lost writes did not go on:\n{}",
            run.stderr
        );
        let summary = &run.report(&project)["summary"];
        let issued =
            summary["issued"].as_u64().unwrap_or(0) + summary["refused"].as_u64().unwrap_or(0);
        assert_eq!(
            issued, lost_documents,
            "{ctx}: {lost_documents} documents were lost, but the batch issued {issued}: {summary}"
        );
        assert_same_as_reference(&ctx, &project, &reference);
    }
}

#[test]
fn lost_supersession_is_recorded_by_the_next_run() {
    // A re-registration's certificate is appended, then the status event marking the earlier
    // certificate superseded. A crash between the two appends (head.json and checkpoint not yet
    // written) leaves
    // the new certificate registered without the event; the next run skips the certificate as
    // registered already — and must still append the event, or the replaced certificate stays
    // "active" for good.
    let settings = Settings::from_env();
    let test = "lost_supersession";
    settings.announce(test, 1);
    let reference = torn_reference(&settings, test);
    let ctx = {
        let mut ctx = Ctx::new(test, settings.seed, 0);
        ctx.step(
            "media: cut back to just before each status event, head.json and checkpoints removed",
        );
        ctx
    };
    let journal = reference.journal("media");
    let spans = line_spans(&journal);
    let events: Vec<usize> = spans
        .iter()
        .enumerate()
        .filter(|(_, (start, end))| {
            let value: Value = serde_json::from_slice(&journal[*start..*end]).unwrap();
            value["record"]["type"] == "status"
        })
        .map(|(i, _)| i)
        .collect();
    assert!(
        !events.is_empty(),
        "{ctx}: the workload has no status event (MR-2026-0124 supersedes 00001-Г)"
    );
    for line in events {
        let project = copy_of(&reference.project, true);
        std::fs::write(project.journal_path("media"), &journal[..spans[line].0]).unwrap();
        roll_back_to_batch_end(&project, "media", &journal, 0);
        let run = project.batch(&["--jobs", JOBS]);
        assert_eq!(run.code, reference.code, "{ctx}:\n{}", run.stderr);
        let (start, end) = spans[line];
        let lost: Value = serde_json::from_slice(&journal[start..end]).unwrap();
        let lost = &lost["record"];
        let text = std::fs::read_to_string(project.journal_path("media")).unwrap();
        let found = text.lines().any(|l| {
            let r = &serde_json::from_str::<Value>(l).unwrap()["record"];
            r["type"] == "status"
                && ["target", "number", "status", "by", "date"]
                    .iter()
                    .all(|k| r[k] == lost[k])
        });
        assert!(
            found,
            "{ctx}: the lost {} was not appended again: certificate № {} stays active though \
             № {} replaced it",
            describe(std::str::from_utf8(&journal[start..end]).unwrap()),
            lost["number"],
            lost["by"]
        );
        assert_same_as_reference(&ctx, &project, &reference);
    }
}

#[test]
fn stale_temporary_files_of_a_killed_batch_are_removed() {
    // A batch killed while it writes a PDF or head.json leaves the temporary file it was
    // writing, `.NAME.PID.tmp`, beside the file it was meant to become. Kills at random instants
    // hit that window only now and then; here it is made on purpose: the last document of a
    // registry lost with its record and head, its PDF half-written under a temporary name. The
    // run that completes the work issues it again — and must not leave the dead batch's
    // temporary files behind.
    let settings = Settings::from_env();
    let test = "stale_temporary_files";
    settings.announce(test, 1);
    let reference = torn_reference(&settings, test);
    let mut rng = Rng::derive(settings.seed, test, 0);
    let mut ctx = Ctx::new(test, settings.seed, 0);
    let last_document = |code: &String| {
        let journal = reference.journal(code);
        let (start, end) = *line_spans(&journal).last().unwrap();
        let value: Value = serde_json::from_slice(&journal[start..end]).unwrap();
        (value["record"]["type"] == "document").then(|| (start, value["record"].clone()))
    };
    let codes: Vec<String> = reference
        .records
        .keys()
        .filter(|code| last_document(code).is_some())
        .cloned()
        .collect();
    let code = rng.pick(&codes).clone();
    let (start, record) = last_document(&code).unwrap();
    let journal = reference.journal(&code);

    let project = copy_of(&reference.project, true);
    std::fs::write(project.journal_path(&code), &journal[..start]).unwrap();
    roll_back_to_batch_end(&project, &code, &journal, 0);
    let file = record["pdf"]["file"].as_str().unwrap();
    let pdf = project.out().join(file);
    let bytes = std::fs::read(&pdf).unwrap();
    std::fs::remove_file(&pdf).unwrap();
    let dead = 4_194_303; // a process id no live process has
    let name = pdf.file_name().unwrap().to_string_lossy().into_owned();
    let partial = pdf.with_file_name(format!(".{name}.{dead}.tmp"));
    std::fs::write(&partial, &bytes[..bytes.len() / 2]).unwrap();
    let head = project
        .registry()
        .join(&code)
        .join(format!(".head.json.{dead}.tmp"));
    std::fs::write(&head, "{\"seq\":").unwrap();
    ctx.step(format!(
        "{code}: its last record (№ {}) lost with head.json and checkpoints, its PDF half-written \
         as {} and head.json as {}",
        record["number"],
        partial.strip_prefix(project.path()).unwrap().display(),
        head.strip_prefix(project.path()).unwrap().display()
    ));

    let run = project.batch(&["--jobs", JOBS]);
    assert_eq!(run.code, reference.code, "{ctx}:\n{}", run.stderr);
    assert_same_as_reference(&ctx, &project, &reference);
}
