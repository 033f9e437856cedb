//! Two batches at once, and readers during a batch: one writer per registry, readers see whole
//! records only — a consistent prefix — and never wait.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pg;
use crate::util::{Place, Project, TODAY, verify_text_independently};

/// A project with enough synthetic media cases that a batch runs for a while.
fn busy_project(count: &str, place: Place) -> Project {
    let project = Project::at(place);
    let run = project.qujat(&[
        "generate-cases",
        "--count",
        count,
        "--seed",
        "11",
        "--from",
        "2026-11-02",
        "--to",
        "2026-11-20",
        "--out",
        "cases/synthetic.csv",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    project
}

fn start_batch(project: &Project, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_qujat"))
        .args(["batch", "--today", TODAY, "--quiet"])
        .args(extra)
        .current_dir(project.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs")
}

/// Waits until the batch has appended its first records.
fn wait_for_records(project: &Project, child: &mut Child) {
    let started = Instant::now();
    while project.journal_bytes("media").is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before writing anything"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no records after 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_batch_is_refused_or_waits_and_records_never_interleave() {
    second_batch_is_refused_or_waits(Place::Files);
}

#[test]
fn a_second_batch_is_refused_or_waits_in_postgresql() {
    if let Some(server) = pg::server("a_second_batch_is_refused_or_waits_in_postgresql") {
        second_batch_is_refused_or_waits(Place::Postgres(server.database()));
    }
}

#[test]
fn readers_during_a_batch_see_a_growing_sound_prefix() {
    readers_see_a_growing_sound_prefix(Place::Files);
}

#[test]
fn readers_during_a_batch_in_postgresql_see_a_growing_sound_prefix() {
    if let Some(server) = pg::server("readers_during_a_batch_in_postgresql") {
        readers_see_a_growing_sound_prefix(Place::Postgres(server.database()));
    }
}

fn second_batch_is_refused_or_waits(place: Place) {
    let project = busy_project("300", place);
    let mut first = start_batch(&project, &[]);
    wait_for_records(&project, &mut first);

    // Without waiting: refused at once, with a message that says what to do.
    let second = project.batch(&["--quiet"]);
    assert_eq!(second.code, 2, "{}", second.stderr);
    second.expect_stderr("is being written by another qujat process");
    second.expect_stderr("--wait");
    if project.database().is_some() {
        // Who holds it, as the server knows the first batch's session.
        second.expect_stderr(&format!("held by \"qujat pid {}", first.id()));
    }

    // Waiting: it runs after the first one, and finds everything already registered.
    let waiting = start_batch(&project, &["--wait", "300"]);
    assert!(first.wait().unwrap().code().unwrap() <= 1);
    let waited = waiting.wait_with_output().unwrap();
    assert!(
        waited.status.code().unwrap() <= 1,
        "{}",
        String::from_utf8_lossy(&waited.stderr)
    );
    let report = std::fs::read_to_string(project.out().join("run-report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(
        report["summary"]["issued"], 0,
        "the second batch issued nothing"
    );
    assert_eq!(report["summary"]["already_registered"], 300);

    // One chain, every record once.
    let journal = String::from_utf8(project.journal_bytes("media")).unwrap();
    assert_eq!(verify_text_independently(&journal), 300);
    let check = project.qujat(&["registry", "check", "--files"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
}

fn readers_see_a_growing_sound_prefix(place: Place) {
    let project = busy_project("300", place);
    let mut batch = start_batch(&project, &[]);
    wait_for_records(&project, &mut batch);
    let mut rows_seen = Vec::new();
    let mut checks = 0;
    while batch.try_wait().unwrap().is_none() {
        let check = project.qujat(&["registry", "check", "--registry", "media"]);
        assert_eq!(check.code, 0, "a check during a batch: {}", check.stdout);
        checks += 1;
        let export = project.qujat(&["export", "--registry", "media"]);
        assert_eq!(
            export.code, 0,
            "an export during a batch: {}",
            export.stderr
        );
        // Header plus one row per document: whole records only, never fewer than before.
        let rows = export.stdout.lines().count() - 1;
        assert!(rows_seen.last().is_none_or(|&last| rows >= last));
        rows_seen.push(rows);
        if let Some(number) = export
            .stdout
            .lines()
            .nth(1)
            .and_then(|l| l.split(',').nth(2))
        {
            let regenerate = project.qujat(&[
                "regenerate",
                "--registry",
                "media",
                "--number",
                number,
                "--out",
                "copy.pdf",
            ]);
            assert_eq!(
                regenerate.code, 0,
                "{}{}",
                regenerate.stdout, regenerate.stderr
            );
        }
    }
    assert!(batch.wait().unwrap().code().unwrap() <= 1);
    assert!(checks > 0, "no reader ran during the batch");
    let last = project.qujat(&["export", "--registry", "media"]);
    let rows = last.stdout.lines().count() - 1;
    assert!(rows >= *rows_seen.last().unwrap());
}
