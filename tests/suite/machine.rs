//! Output for scripts: `qujat services --json` and `qujat batch --json` give the facts the text
//! gives, with the same exit codes, in JSON kept as snapshots (`tests/snapshots/`).

use serde_json::Value;

use crate::snapshot::assert_snapshot;
use crate::util::*;

#[test]
fn services_as_json_state_what_the_text_listing_states() {
    // The built-in catalogue (the repository's, byte for byte), under a configuration that
    // names no folder, so the snapshot holds no path of this machine's.
    let project = Project::new();
    std::fs::write(project.path().join("empty.toml"), "").unwrap();
    let json = project.qujat(&["--config", "empty.toml", "services", "--json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let text = project.qujat(&["--config", "empty.toml", "services"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    let value: Value = serde_json::from_str(&json.stdout).unwrap();
    let services = value["services"].as_array().unwrap();
    assert!(
        text.stdout
            .ends_with(&format!("{} services\n", services.len())),
        "{}",
        text.stdout
    );
    for service in services {
        let code = service["code"].as_str().unwrap();
        // The text's block of this service.
        let block = text
            .stdout
            .split_inclusive('\n')
            .skip_while(|line| line.trim_end() != code)
            .skip(1)
            .take_while(|line| line.starts_with("  "))
            .collect::<String>();
        let mut expected = vec![
            format!("  kk: {}", service["name"]["kk"].as_str().unwrap()),
            format!("  ru: {}", service["name"]["ru"].as_str().unwrap()),
        ];
        let deadlines = service["deadlines"].as_array().unwrap();
        assert!(!deadlines.is_empty(), "{code}: no deadline");
        for rule in deadlines {
            let stages: Vec<String> = rule["stages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|stage| format!("{} {}", stage["days"], stage["count"].as_str().unwrap()))
                .collect();
            expected.push(format!(
                "  deadline for applications from {}: {} days ({}){}",
                rule["from"].as_str().unwrap(),
                stages.join(" + "),
                rule["source"].as_str().unwrap(),
                if rule["unverified"].is_null() {
                    ""
                } else {
                    " [to be checked]"
                }
            ));
        }
        match (
            service["provider"].as_str(),
            service["provider_field"].as_str(),
        ) {
            (Some(provider), _) => expected.push(format!("  provider: {provider}")),
            (None, field) => expected.push(format!(
                "  provider: the authority named by field {}",
                field.unwrap()
            )),
        }
        if let Some(mci) = service["duty_mci"].as_f64() {
            expected.push(format!(
                "  state duty: {mci} MCI{}",
                match service["duty_on"].as_array() {
                    Some(on) => format!(
                        ", paid before {}",
                        on.iter()
                            .map(|o| o.as_str().unwrap())
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                    None => String::new(),
                }
            ));
        }
        for document in service["documents"].as_array().unwrap() {
            let s = |key: &str| document[key].as_str().unwrap().to_string();
            expected.push(format!(
                "  on {}: {} → {} / {}, registry {}, numbered {}{}",
                s("on"),
                s("kind"),
                document["title"]["kk"].as_str().unwrap(),
                document["title"]["ru"].as_str().unwrap(),
                s("registry"),
                s("format"),
                if document["per_code"] == true {
                    " (per code)"
                } else {
                    ""
                }
            ));
            if let Some(items) = document["items"].as_object() {
                expected.push(format!(
                    "    each item of {} numbered {} (sequence {})",
                    items["list"].as_str().unwrap(),
                    items["format"].as_str().unwrap(),
                    items["sequence"].as_str().unwrap()
                ));
            }
        }
        for line in expected {
            assert!(
                block.lines().any(|l| l == line),
                "{code}: {line:?} is not in the text listing:\n{block}"
            );
        }
    }
    assert_eq!(value["catalogue"], "built-in catalogue");
    assert_snapshot("services.json", &json.stdout);
}

/// A project with a case issued, one decided after its term and one rejected for a bad BIN.
fn day_of_cases() -> Project {
    let project = Project::new();
    // Applied for on 02.11.2026: the term (2 + 7 working days) ends on 13.11.2026.
    project.write_case(
        "day.xml",
        &cases_file(&[
            media_case("J-1", "2026-11-12", "Бірінші"),
            media_case("J-2", "2026-11-25", "Кешіккен"),
            media_case("J-3", "2026-11-20", "Қате").replace("100440000004", "100440000005"),
        ]),
    );
    project
}

/// The summary as printed, its moments, report file name and project folder — which vary from
/// run to run — made placeholders.
fn steady(project: &Project, printed: &str, summary: &Value) -> String {
    let mut steady = printed.to_string();
    for key in ["started", "finished"] {
        let moment = summary[key].as_str().unwrap();
        assert_eq!(
            moment.len(),
            "2026-11-25T01:45:12+05:00".len(),
            "{key}: {moment}"
        );
        steady = steady.replace(&format!("\"{moment}\""), "\"<moment>\"");
    }
    let report = summary["report"].as_str().unwrap();
    let folder = project.out().join("run-reports").display().to_string();
    assert!(
        report.starts_with(&format!("{folder}/run-report-")) && report.ends_with(".json"),
        "{report}"
    );
    steady_paths(
        project,
        &steady.replace(report, &format!("{folder}/run-report-<moment>.json")),
    )
}

/// An output with the project's folder, which varies from run to run, as `<project>`.
fn steady_paths(project: &Project, output: &str) -> String {
    output.replace(&project.path().display().to_string(), "<project>")
}

#[test]
fn the_batch_summary_as_json_has_the_facts_and_exit_code_of_the_text() {
    let json_project = day_of_cases();
    let json = json_project.batch(&["--json", "--quiet"]);
    let text_project = day_of_cases();
    let text = text_project.batch(&[]);
    assert_eq!(json.code, 1, "{}", json.stderr);
    assert_eq!(json.code, text.code);
    assert_eq!(json.stderr, "", "--json --quiet writes only the JSON");

    let summary: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(summary["exit_code"], 1);
    let counts = &summary["summary"];
    for (label, key) in [
        ("issued", "issued"),
        ("refused", "refused"),
        ("rejected", "rejected"),
        ("already registered", "already_registered"),
        ("overdue", "overdue"),
    ] {
        let line = format!("  {label:<20}{:>6}", counts[key].as_u64().unwrap());
        text.expect_stderr(&line);
    }
    assert_eq!(counts["issued"], 2);
    assert_eq!(counts["rejected"], 1);
    assert_eq!(counts["overdue"], 1);
    let problem = &summary["rejected"][0]["problems"][0];
    assert_eq!(problem["case_id"], "J-3");
    text.expect_stderr("case \"J-3\": field applicant.bin");
    // The report it names is the one written, with the same counts.
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(
            json_project
                .path()
                .join(summary["report"].as_str().unwrap()),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(report["summary"], summary["summary"]);
    assert_eq!(report["started"], summary["started"]);

    assert_snapshot(
        "batch-summary.json",
        &steady(&json_project, &json.stdout, &summary),
    );

    // A second run: everything registered already, exit 0, in both forms.
    let again = json_project.batch(&["--json"]);
    assert_eq!(
        again.code, 1,
        "the bad case is still there: {}",
        again.stderr
    );
    let summary: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(summary["summary"]["already_registered"], 2);
    assert_eq!(summary["summary"]["issued"], 0);
    assert!(
        !again.stderr.contains("already registered"),
        "with --json the text summary is not printed: {}",
        again.stderr
    );
}

#[test]
fn a_fatal_batch_prints_its_json_with_the_error_and_exits_two() {
    let project = day_of_cases();
    std::fs::write(
        project.path().join("templates/lib/qujat.typ"),
        [0xff, 0xfe, 0x00],
    )
    .unwrap();
    let run = project.batch(&["--json", "--quiet"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(summary["exit_code"], 2);
    let fatal = summary["fatal"].as_str().unwrap();
    assert!(fatal.contains("templates are UTF-8 text"), "{fatal}");
    run.expect_stderr("error: cannot read template file");
}

