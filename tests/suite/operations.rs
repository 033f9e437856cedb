//! What an operations team relies on besides the documents: a run report kept per run with the
//! run's start and end, log lines stamped with the time when nobody watches a terminal, shell
//! completions and manual pages, and one vocabulary of options.

use std::process::Command;

use serde_json::Value;

use crate::util::*;

fn one_case(project: &Project, id: &str) {
    project.write_case(
        &format!("{id}.xml"),
        &cases_file(&[media_case(id, "2026-11-19", "Күнделік")]),
    );
}

/// Whether `text` begins with an RFC 3339 moment at a whole-minute offset and a space.
fn stamped(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 26
        && text.is_char_boundary(26)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && matches!(b[19], b'+' | b'-')
        && b[22] == b':'
        && b[25] == b' '
        && [
            0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24,
        ]
        .iter()
        .all(|&i| b[i].is_ascii_digit())
}

#[test]
fn every_run_keeps_its_report_and_run_report_json_links_to_the_latest() {
    let project = Project::new();
    one_case(&project, "OPS-1");
    let first = project.batch(&[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    one_case(&project, "OPS-2");
    let second = project.batch(&[]);
    assert_eq!(second.code, 0, "{}", second.stderr);

    let dir = project.out().join("run-reports");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    for name in &names {
        // run-report-2026-12-06-07-20-26.json, or …-2.json for a run in the same second.
        let stamp = name
            .strip_prefix("run-report-")
            .and_then(|n| n.strip_suffix(".json"))
            .unwrap_or_else(|| panic!("{name}"));
        assert!(
            stamp.len() >= 19 && stamp[..19].bytes().filter(|b| *b == b'-').count() == 5,
            "{name}"
        );
    }
    let link = project.out().join("run-report.json");
    let target = std::fs::read_link(&link).expect("run-report.json is a link");
    assert!(target.is_relative(), "{}", target.display());
    // The latest: the second run's, which issued OPS-2 and found OPS-1 registered.
    let latest: Value = serde_json::from_str(&std::fs::read_to_string(&link).unwrap()).unwrap();
    assert_eq!(latest["summary"]["issued"], 1);
    assert_eq!(latest["summary"]["already_registered"], 1);
    // The output folder as the batch resolved it: absolute.
    second.expect_stderr(&format!(
        "report: {}",
        project.out().join(&target).display()
    ));
    let mut moments = Vec::new();
    for name in &names {
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        let (started, finished) = (
            report["started"].as_str().unwrap().to_string(),
            report["finished"].as_str().unwrap().to_string(),
        );
        assert!(stamped(&format!("{started} ")), "{started}");
        assert!(started <= finished, "{started} > {finished}");
        // The name is the start, at the configured offset (+05:00).
        assert!(started.ends_with("+05:00"), "{started}");
        let name_stamp = format!("{}-{}", &started[..10], started[11..19].replace(':', "-"));
        assert!(name.contains(&name_stamp), "{name} vs {started}");
        assert_eq!(report["configuration"], "qujat.toml");
        moments.push(started);
    }
    assert!(moments[0] <= moments[1]);

    // --report FILE writes there and nowhere else.
    let third = project.batch(&["--report", "mine.json"]);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(project.path().join("mine.json").is_file());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    assert_eq!(std::fs::read_link(&link).unwrap(), target);
}

#[test]
fn log_lines_carry_the_time_when_standard_error_is_not_a_terminal() {
    let project = Project::new();
    one_case(&project, "OPS-3");
    // The test reads standard error through a pipe, as cron or a systemd unit would.
    let run = project.batch(&["--log-progress"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(lines.len() >= 8, "{}", run.stderr);
    for line in &lines {
        assert!(stamped(line), "not stamped: {line:?}");
    }
    assert!(
        lines[0].ends_with("qujat batch: 1 documents to issue"),
        "{}",
        lines[0]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("configuration: qujat.toml (from the current folder)")),
        "{}",
        run.stderr
    );
}

#[test]
fn completions_are_valid_shell_and_know_every_command() {
    let project = Project::new();
    let run = project.qujat(&["completions", "bash"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for command in [
        "batch",
        "verify",
        "export",
        "regenerate",
        "registry",
        "services",
        "config",
    ] {
        assert!(run.stdout.contains(command), "{command} missing");
    }
    assert!(run.stdout.contains("--registry-dir"));
    let script = project.path().join("qujat.bash");
    std::fs::write(&script, &run.stdout).unwrap();
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let run = project.qujat(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains("registry-dir"), "{shell}");
    }
}

#[test]
fn manual_pages_are_written_for_every_command() {
    let project = Project::new();
    let run = project.qujat(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH qujat 1"), "{}", run.stdout);
    assert!(
        run.stdout.contains("QUJAT_CONFIG"),
        "the lookup is in the page"
    );
    let run = project.qujat(&["man", "--out", "man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for page in [
        "qujat.1",
        "qujat-batch.1",
        "qujat-export.1",
        "qujat-registry-check.1",
        "qujat-config.1",
    ] {
        let text = std::fs::read_to_string(project.path().join("man").join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
    }
    // The page renders, if groff is here to render it.
    if let Ok(out) = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbou"])
        .arg(project.path().join("man/qujat-batch.1"))
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("registry-dir"), "{text}");
    }
}

#[test]
fn the_registry_folder_is_registry_dir_everywhere_and_batch_keeps_its_old_name_hidden() {
    let project = Project::new();
    for command in [
        &["batch"][..],
        &["regenerate"],
        &["verify"],
        &["export"],
        &["registry", "check"],
        &["registry", "set-status"],
        &["registry", "proof"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let help = project.qujat(&args);
        assert_eq!(help.code, 0, "{command:?}: {}", help.stderr);
        assert!(
            help.stdout.contains("--registry-dir <DIR|URL>"),
            "{command:?}:\n{}",
            help.stdout
        );
        // The options' lines (the examples below them name registries by code too).
        for line in help.stdout.lines().map(str::trim_start) {
            if line.starts_with("--registry ") {
                assert!(
                    line.starts_with("--registry <CODE>"),
                    "{command:?}: --registry takes a registry's code:\n{}",
                    help.stdout
                );
            }
        }
    }
    let help = project.qujat(&["batch", "--help"]);
    assert!(!help.stdout.contains("--registry <"), "{}", help.stdout);
    // The old spelling still works.
    one_case(&project, "OPS-4");
    let run = project.batch(&["--registry", "elsewhere"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        project
            .path()
            .join("elsewhere/media/journal.jsonl")
            .is_file()
    );
}
