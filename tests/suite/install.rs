//! qujat installed, as an operations team runs it: the binary copied into a prefix of its own
//! (what `cargo install` and the Debian package do), run from a folder that has nothing of the
//! repository, configured only by an `/etc`-style file named by `$QUJAT_CONFIG`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// An installed qujat: `PREFIX/bin/qujat`, an `/etc`-style configuration naming `/var`-style
/// folders, and an unrelated working folder to run it from.
struct Installed {
    root: tempfile::TempDir,
}

impl Installed {
    fn new() -> Installed {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("prefix/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_qujat"), bin.join("qujat")).unwrap();
        let var = root.path().join("var/lib/qujat");
        for folder in ["cases", "output", "registry"] {
            std::fs::create_dir_all(var.join(folder)).unwrap();
        }
        std::fs::create_dir_all(root.path().join("work")).unwrap();
        // No catalogue, templates or fonts: an installed qujat has them built in.
        let config = format!(
            "# /etc/qujat/qujat.toml\n[paths]\ncases = {:?}\noutput = {:?}\nregistry = {:?}\n\n\
             [documents]\nverify_url = \"https://qujat.example.kz/verify\"\n",
            var.join("cases"),
            var.join("output"),
            var.join("registry"),
        );
        std::fs::create_dir_all(root.path().join("etc/qujat")).unwrap();
        std::fs::write(root.path().join("etc/qujat/qujat.toml"), config).unwrap();
        Installed { root }
    }

    fn var(&self) -> PathBuf {
        self.root.path().join("var/lib/qujat")
    }

    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    fn config(&self) -> PathBuf {
        self.root.path().join("etc/qujat/qujat.toml")
    }

    /// Runs the installed binary in the working folder, with `QUJAT_CONFIG` set or not.
    fn run(&self, config: bool, args: &[&str]) -> Run {
        let mut command = Command::new(self.root.path().join("prefix/bin/qujat"));
        command
            .args(args)
            .current_dir(self.work())
            .env_remove("QUJAT_CONFIG");
        if config {
            command.env("QUJAT_CONFIG", self.config());
        }
        let output = command.output().expect("the installed binary runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

#[track_caller]
fn expect_code(run: &Run, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

#[test]
fn an_installed_qujat_runs_batch_verify_export_and_regenerate_from_any_folder() {
    let qujat = Installed::new();
    std::fs::write(
        qujat.var().join("cases/day.xml"),
        cases_file(&[
            media_case("INST-1", "2026-11-19", "Жаңа өмір"),
            media_case("INST-2", "2026-11-20", "Екінші").replace("«Алаш Медиа» ЖШС", "=1+1"),
        ]),
    )
    .unwrap();

    // Without the configuration nothing is guessed: the error says what to do. (Unless this
    // machine has a real /etc/qujat/qujat.toml, which would be found: the lookup's unit tests
    // cover that case with an injected path.)
    if Path::new(qujat::config::SYSTEM).exists() {
        eprintln!(
            "NOTE: {} exists here: the run without configuration is not tried",
            qujat::config::SYSTEM
        );
    } else {
        let bare = qujat.run(false, &["batch", "--today", TODAY]);
        expect_code(&bare, 2);
        bare.expect_stderr("no configuration file");
        bare.expect_stderr("--cases DIR, --out DIR, --registry-dir DIR");
        assert!(
            std::fs::read_dir(qujat.work()).unwrap().next().is_none(),
            "a batch without configuration wrote into the current folder"
        );
    }

    let batch = qujat.run(true, &["batch", "--today", TODAY]);
    expect_code(&batch, 0);
    batch.expect_stderr(&format!(
        "configuration: {} (from $QUJAT_CONFIG)",
        qujat.config().display()
    ));
    batch.expect_stderr(&format!("issued{}2", " ".repeat(19)));
    let out = qujat.var().join("output");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run-report.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["configuration"],
        qujat.config().display().to_string()
    );
    let documents = report["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 2);
    let pdf = out.join(documents[0]["file"].as_str().unwrap());
    let number = documents[0]["number"].as_str().unwrap();

    // The built-in templates and fonts are the repository's: the same versions, the same hash.
    let journal = qujat.var().join("registry/media/journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let record: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let record = &record["record"];
    let bundle = qujat::registry::templates::TemplateBundle::collect(
        &repo().join("templates"),
        "media/certificate.typ",
    )
    .unwrap();
    assert_eq!(record["template"], bundle.version());
    let fonts = qujat::render::Fonts::load(&repo().join("fonts")).unwrap();
    assert_eq!(record["fonts"], fonts.hash);
    assert!(
        qujat
            .var()
            .join(format!("registry/templates/{}.json", bundle.version()))
            .is_file()
    );

    // Someone holding the document checks it.
    let verify = qujat.run(true, &["verify", pdf.to_str().unwrap()]);
    expect_code(&verify, 0);
    assert!(verify.stdout.contains("GENUINE"), "{}", verify.stdout);

    // A clerk's extract, into the working folder.
    let export = qujat.run(
        true,
        &["export", "--registry", "media", "--out", "media.csv"],
    );
    expect_code(&export, 0);
    let csv = std::fs::read_to_string(qujat.work().join("media.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains(",'=1+1 / ТОО «Алаш Медиа»,"), "{csv}");

    // An officer's copy, identical to the registered document.
    let regenerate = qujat.run(
        true,
        &[
            "regenerate",
            "--registry",
            "media",
            "--number",
            number,
            "--out",
            "copy.pdf",
        ],
    );
    expect_code(&regenerate, 0);
    assert!(
        regenerate.stdout.contains("identical"),
        "{}",
        regenerate.stdout
    );
    assert_eq!(
        std::fs::read(qujat.work().join("copy.pdf")).unwrap(),
        std::fs::read(&pdf).unwrap()
    );

    // Registries may also be named on the command line alone, without any configuration.
    let registry = qujat.var().join("registry");
    let check = qujat.run(
        false,
        &[
            "registry",
            "check",
            "--registry-dir",
            registry.to_str().unwrap(),
        ],
    );
    expect_code(&check, 0);
}

#[test]
fn a_current_folder_configuration_comes_before_the_system_one_and_the_option_before_both() {
    let qujat = Installed::new();
    let local = qujat.work().join("qujat.toml");
    std::fs::write(&local, "[documents]\ncreator = \"local\"\n").unwrap();
    let shown = qujat.run(false, &["config"]);
    expect_code(&shown, 0);
    assert!(
        shown
            .stdout
            .starts_with("configuration: qujat.toml (from the current folder)"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("creator    local"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("catalogue  built-in catalogue"),
        "{}",
        shown.stdout
    );

    let shown = qujat.run(true, &["config"]);
    assert!(
        shown.stdout.contains("(from $QUJAT_CONFIG)"),
        "{}",
        shown.stdout
    );
    let registry = qujat.var().join("registry");
    assert!(
        shown
            .stdout
            .contains(&format!("registry   {}", registry.display())),
        "{}",
        shown.stdout
    );

    let config = qujat.config();
    let shown = qujat.run(true, &["--config", local.to_str().unwrap(), "config"]);
    assert!(shown.stdout.contains("(from --config)"), "{}", shown.stdout);

    // A named file that is not there is an error, not a reason to look elsewhere.
    std::fs::remove_file(&config).unwrap();
    let missing = qujat.run(true, &["config"]);
    expect_code(&missing, 2);
    missing.expect_stderr("(named by $QUJAT_CONFIG) does not exist");
}

#[test]
fn the_built_in_files_can_be_written_out_changed_and_used() {
    let qujat = Installed::new();
    let run = qujat.run(false, &["shipped", "--out", "mine"]);
    expect_code(&run, 0);
    let mine = qujat.work().join("mine");
    for (folder, file) in [
        ("catalogue", "services/media-registration.toml"),
        ("templates", "lib/qujat.typ"),
        ("fonts", "LICENSE-Liberation.txt"),
    ] {
        assert_eq!(
            std::fs::read(mine.join(folder).join(file)).unwrap(),
            std::fs::read(repo().join(folder).join(file)).unwrap(),
            "{folder}/{file}"
        );
    }
    // Writing again never overwrites.
    let again = qujat.run(false, &["shipped", "--out", "mine"]);
    expect_code(&again, 2);
    again.expect_stderr("exists already");

    // A catalogue folder named by the configuration is the one read.
    std::fs::write(
        mine.join("catalogue/services/media-registration.toml"),
        "this is not TOML",
    )
    .unwrap();
    std::fs::write(
        qujat.work().join("qujat.toml"),
        "[paths]\ncatalogue = \"mine/catalogue\"\n",
    )
    .unwrap();
    let services = qujat.run(false, &["services"]);
    expect_code(&services, 2);
    services.expect_stderr(&format!(
        "{}",
        Path::new("mine/catalogue/services/media-registration.toml").display()
    ));
}
