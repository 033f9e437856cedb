//! A temporary qujat project to run the real binary in, and readers for what it leaves behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The run date every test uses, so results never depend on the day the tests run.
pub const TODAY: &str = "2026-11-25";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A project folder: the shipped catalogue and fonts, its own templates folder (so a test may
/// edit a template), cases, output and registry.
pub struct Project {
    pub dir: tempfile::TempDir,
    /// Where its registries are.
    pub place: Place,
}

/// Where a project's registries are: the folder `registry/` in it, or a PostgreSQL database of
/// its own.
pub enum Place {
    Files,
    Postgres(crate::pg::Database),
}

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Fails, showing what was printed, unless standard error contains `part`.
    #[track_caller]
    pub fn expect_stderr(&self, part: &str) {
        assert!(
            self.stderr.contains(part),
            "{part:?} not in:\n{}",
            self.stderr
        );
    }

    /// The run report as JSON.
    pub fn report(&self, project: &Project) -> Value {
        let text =
            std::fs::read_to_string(project.out().join("run-report.json")).expect("a run report");
        serde_json::from_str(&text).unwrap()
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl Project {
    /// A project with no cases yet.
    pub fn new() -> Project {
        Project::at(Place::Files)
    }

    /// A project with no cases yet, its registries at `place`.
    pub fn at(place: Place) -> Project {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("templates"), &dir.path().join("templates"));
        std::fs::create_dir_all(dir.path().join("cases")).unwrap();
        let registry = match &place {
            Place::Files => "registry".to_string(),
            Place::Postgres(db) => db.url.clone(),
        };
        let config = format!(
            "[paths]\ncases = \"cases\"\noutput = \"output\"\nregistry = {registry:?}\n\
             catalogue = {:?}\ntemplates = \"templates\"\nfonts = {:?}\n",
            repo().join("catalogue"),
            repo().join("fonts"),
        );
        std::fs::write(dir.path().join("qujat.toml"), config).unwrap();
        Project { dir, place }
    }

    /// A project whose cases are the shipped samples.
    pub fn with_samples() -> Project {
        Project::with_samples_at(Place::Files)
    }

    /// A project whose cases are the shipped samples, its registries at `place`.
    pub fn with_samples_at(place: Place) -> Project {
        let project = Project::at(place);
        copy_dir(&repo().join("cases/sample"), &project.cases());
        project
    }

    /// A project of the same kind as this one (files, or a database of its own), no cases yet.
    pub fn like(&self) -> Project {
        match &self.place {
            Place::Files => Project::new(),
            Place::Postgres(_) => Project::at(Place::Postgres(
                crate::pg::server("Project::like")
                    .expect("a server, as the project being copied had")
                    .database(),
            )),
        }
    }

    /// Where the registries are, as qujat is told: the folder, or the database's URL.
    pub fn registry_place(&self) -> String {
        match &self.place {
            Place::Files => self.registry().display().to_string(),
            Place::Postgres(db) => db.url.clone(),
        }
    }

    /// The database of a project in PostgreSQL.
    pub fn database(&self) -> Option<&crate::pg::Database> {
        match &self.place {
            Place::Files => None,
            Place::Postgres(db) => Some(db),
        }
    }

    /// A registry's records as a journal (each line and its newline), wherever they are: the
    /// file, or the rows read with SQL; empty if there is none.
    pub fn journal_bytes(&self, registry: &str) -> Vec<u8> {
        match &self.place {
            Place::Files => std::fs::read(self.journal_path(registry)).unwrap_or_default(),
            Place::Postgres(db) => db.journal(registry),
        }
    }

    /// The codes of the registries there are (for files, folders with a journal).
    pub fn codes(&self) -> Vec<String> {
        match &self.place {
            Place::Files => {
                let Ok(entries) = std::fs::read_dir(self.registry()) else {
                    return Vec::new();
                };
                let mut codes: Vec<String> = entries
                    .filter_map(Result::ok)
                    .filter(|e| e.path().join("journal.jsonl").is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                codes.sort();
                codes
            }
            Place::Postgres(db) => db.codes(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cases(&self) -> PathBuf {
        self.path().join("cases")
    }

    pub fn out(&self) -> PathBuf {
        self.path().join("output")
    }

    pub fn registry(&self) -> PathBuf {
        self.path().join("registry")
    }

    /// The project's registries, as the library opens them.
    pub fn store(&self) -> Box<dyn qujat::store::Store> {
        qujat::store::open(std::path::Path::new(&self.registry_place())).unwrap()
    }

    pub fn journal_path(&self, registry: &str) -> PathBuf {
        self.registry().join(registry).join("journal.jsonl")
    }

    pub fn write_case(&self, name: &str, content: &str) {
        let path = self.cases().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// Runs `qujat <args>` in the project folder.
    pub fn qujat(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_qujat"))
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("the binary runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs a batch on the project's cases with the fixed run date.
    pub fn batch(&self, extra: &[&str]) -> Run {
        let mut args = vec!["batch", "--today", TODAY];
        args.extend_from_slice(extra);
        self.qujat(&args)
    }

    /// Every record of a registry's journal: documents and status events.
    pub fn journal(&self, registry: &str) -> Vec<Value> {
        let text = String::from_utf8(self.journal_bytes(registry)).unwrap();
        text.lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap()["record"].clone())
            .collect()
    }

    /// The document records of a registry's journal.
    pub fn records(&self, registry: &str) -> Vec<Value> {
        self.journal(registry)
            .into_iter()
            .filter(|r| r["type"] == "document")
            .collect()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks a journal the way an outside verifier would, with nothing but JSON and SHA-256 (none
/// of qujat's registry code): each line's hash is the SHA-256 of its record's canonical JSON,
/// each record names the previous one's hash, `seq` counts 1, 2, 3….
pub fn verify_independently(journal: &Path) -> usize {
    verify_text_independently(&std::fs::read_to_string(journal).unwrap())
}

/// [`verify_independently`] of a journal's text (a file's, or rows read with SQL).
pub fn verify_text_independently(text: &str) -> usize {
    let mut prev = "0".repeat(64);
    let mut count = 0;
    for (i, line) in text.lines().enumerate() {
        let value: Value = serde_json::from_str(line).unwrap();
        let record = &value["record"];
        let canonical = serde_json::to_string(record).unwrap();
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            value["hash"].as_str().unwrap(),
            "line {}",
            i + 1
        );
        assert_eq!(record["prev"].as_str().unwrap(), prev, "line {}", i + 1);
        assert_eq!(record["seq"].as_u64().unwrap(), i as u64 + 1);
        prev = value["hash"].as_str().unwrap().to_string();
        count += 1;
    }
    count
}

/// The text of a PDF, with runs of white space made single spaces.
pub fn pdf_text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One valid media-registration case in XML, with the given id, decision date and title.
pub fn media_case(id: &str, decided: &str, title: &str) -> String {
    format!(
        r#"<case id="{id}" service="media-registration">
  <application number="KZ-{id}" date="2026-11-02"/>
  <duty amount="21625" date="2026-11-02" receipt="Б-{id}"/>
  <applicant kind="legal" bin="100440000004">
    <name lang="kk">«Алаш Медиа» ЖШС</name>
    <name lang="ru">ТОО «Алаш Медиа»</name>
    <address lang="kk">Астана қ., Абай даңғылы, 10</address>
    <address lang="ru">г. Астана, проспект Абая, 10</address>
  </applicant>
  <decision outcome="approved" date="{decided}">
    <official position="chairman" name="Асқаров Ерлан Болатұлы"/>
  </decision>
  <application_type>registration</application_type>
  <publication_kind>newspaper</publication_kind>
  <title>{title}</title>
  <languages>kk ru</languages>
  <periodicity lang="kk">аптасына бір рет</periodicity>
  <periodicity lang="ru">один раз в неделю</periodicity>
  <territory lang="kk">Қазақстан Республикасы</territory>
  <territory lang="ru">Республика Казахстан</territory>
  <subject lang="kk">қоғамдық-саяси</subject>
  <subject lang="ru">общественно-политическая</subject>
  <chief_editor>Нұрланова Әйгерім Серікқызы</chief_editor>
  <editorial_address lang="kk">Астана қ., Абай даңғылы, 10</editorial_address>
  <editorial_address lang="ru">г. Астана, проспект Абая, 10</editorial_address>
</case>
"#
    )
}

/// Cases wrapped in a `<cases>` file.
pub fn cases_file(cases: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<cases>\n{}</cases>\n",
        cases.concat()
    )
}

/// Runs a command-line tool the layout tests need (pdftoppm and pdftotext from poppler-utils,
/// zbarimg from zbar-tools; `tests/deps.sh` installs them) and returns its standard output,
/// failing with what to install when it is missing.
pub fn run_tool(name: &str, args: &[&str]) -> String {
    let output = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "{name} cannot be run ({err}): install poppler-utils and zbar-tools (tests/deps.sh)"
            )
        });
    assert!(
        output.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The text of each page of a PDF, as `pdftotext -layout` lays it out.
pub fn pdf_pages(path: &Path) -> Vec<String> {
    let text = run_tool("pdftotext", &["-layout", path.to_str().unwrap(), "-"]);
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    // pdftotext ends every page with a form feed.
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// A word of a PDF page and where it runs across the page, in points from its left edge.
#[derive(Debug, Clone)]
pub struct Word {
    pub page: usize,
    pub x0: f64,
    pub x1: f64,
    pub text: String,
}

/// Every word of a PDF with its page (from 1) and horizontal extent, as `pdftotext -bbox` finds
/// them.
pub fn pdf_words(path: &Path) -> Vec<Word> {
    let html = run_tool("pdftotext", &["-bbox", path.to_str().unwrap(), "-"]);
    let attr = |tag: &str, name: &str| -> f64 {
        let at = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[at..at + tag[at..].find('"').unwrap()].parse().unwrap()
    };
    let mut words = Vec::new();
    let mut page = 0;
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            page += 1;
        } else if let Some(rest) = line.strip_prefix("<word ") {
            let (tag, text) = rest.split_once('>').unwrap();
            let text = text.trim_end_matches("</word>");
            words.push(Word {
                page,
                x0: attr(tag, "xMin"),
                x1: attr(tag, "xMax"),
                text: text
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            });
        }
    }
    words
}
