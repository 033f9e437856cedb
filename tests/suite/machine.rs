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

/// The samples issued once.
fn issued() -> Project {
    let project = Project::with_samples();
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    project
}

/// One document per line (JSON lines), or the one document printed.
fn documents(stdout: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect()
}

/// Checks that the text `verify` printed for an input says what its JSON answer says.
#[track_caller]
fn text_states(text: &str, answer: &Value) {
    let s = |value: &Value| value.as_str().unwrap().to_string();
    let input = match answer["shown"].as_str().unwrap() {
        "qr" => format!("QR {}", s(&answer["input"])),
        _ => s(&answer["input"]),
    };
    let headline = match (
        answer["verdict"].as_str().unwrap(),
        answer["in_force"] == true,
    ) {
        ("genuine", true) => "GENUINE".to_string(),
        ("genuine", false) => "GENUINE, but NOT IN FORCE".to_string(),
        ("unconfirmed", _) => format!("NOT CONFIRMED — {}", s(&answer["why"])),
        ("disowned", _) => format!("NOT GENUINE — {}", s(&answer["why"])),
        ("altered", _) => format!("ALTERED — {}", s(&answer["why"])),
        ("unknown", _) => format!("UNKNOWN — {}", s(&answer["why"])),
        ("holds", _) => format!("PROOF HOLDS — {}", s(&answer["shows"])),
        ("fails", _) => format!("PROOF FAILS — {}", s(&answer["why"])),
        (other, _) => panic!("verdict {other:?}"),
    };
    let mut expected = vec![format!("{input}: {headline}")];
    let document = &answer["document"];
    if !document.is_null() {
        let holder = &document["holder"];
        expected.extend([
            format!(
                "  registry   {} (record {})",
                s(&document["registry"]),
                document["record"]
            ),
            format!("  number     {}", s(&document["number"])),
            format!(
                "  document   {} — {} / {}",
                s(&document["kind"]),
                s(&document["title"]["kk"]),
                s(&document["title"]["ru"])
            ),
            format!(
                "  service    {}, case {}",
                s(&document["service"]),
                s(&document["case_id"])
            ),
            match holder["kk"] == holder["ru"] {
                true => format!("  holder     {}, {}", s(&holder["kk"]), s(&holder["id"])),
                false => format!(
                    "  holder     {} / {}, {}",
                    s(&holder["kk"]),
                    s(&holder["ru"]),
                    s(&holder["id"])
                ),
            },
            format!(
                "  issued     {}",
                s(&document["issued"])
                    .split('-')
                    .rev()
                    .collect::<Vec<_>>()
                    .join(".")
            ),
            format!("  status     {}", s(&document["status"]["text"])),
        ]);
    }
    for caveat in answer["caveats"].as_array().unwrap() {
        expected.push(format!("  caveat     the registry: {}", s(caveat)));
    }
    for line in expected {
        assert!(
            text.lines().any(|l| l == line),
            "{line:?} is not in the text:\n{text}"
        );
    }
}

#[test]
fn verify_as_json_gives_each_input_the_verdict_and_exit_code_of_the_text() {
    let project = issued();
    let records = project.records("media");
    let file = |i: usize| format!("output/{}", records[i]["pdf"]["file"].as_str().unwrap());
    let qr = |i: usize| records[i]["qr"].as_str().unwrap().to_string();
    // One byte of an issued PDF changed.
    let mut bytes = std::fs::read(project.path().join(file(1))).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(project.path().join("altered.pdf"), bytes).unwrap();
    // A proof that holds, and the same proof with its path's first hash changed.
    let number = records[1]["number"].as_str().unwrap();
    let proof = project.qujat(&[
        "registry",
        "proof",
        "--registry",
        "media",
        "--number",
        number,
    ]);
    assert_eq!(proof.code, 0, "{}", proof.stderr);
    std::fs::write(project.path().join("proof.json"), &proof.stdout).unwrap();
    let mut bad: Value = serde_json::from_str(&proof.stdout).unwrap();
    bad["path"][0] = Value::String("0".repeat(64));
    std::fs::write(project.path().join("bad-proof.json"), bad.to_string()).unwrap();
    // A QR code of document 2 with document 1's content hash: the number is there, altered.
    let content = |i: usize| records[i]["content"].as_str().unwrap().to_uppercase();
    let forged = qr(1).replace(&content(1), &content(0));
    let unknown = qr(1).replace("n=00002", "n=00099");

    // Each input alone, as (arguments, verdict, exit code).
    let inputs: Vec<(Vec<String>, &str, i32)> = vec![
        (vec![file(1)], "genuine", 0),
        (vec![file(0)], "genuine", 3), // superseded by MR-2026-0124's certificate
        (vec!["altered.pdf".into()], "unknown", 1),
        (vec!["--payload".into(), qr(1)], "genuine", 0),
        (vec!["--payload".into(), forged], "altered", 1),
        (vec!["--payload".into(), unknown], "unknown", 1),
        (vec!["--proof".into(), "proof.json".into()], "holds", 0),
        (vec!["--proof".into(), "bad-proof.json".into()], "fails", 1),
    ];
    let mut all = vec!["verify".to_string()];
    for (args, verdict, code) in &inputs {
        let mut command = vec!["verify"];
        command.extend(args.iter().map(String::as_str));
        let text = project.qujat(&command);
        command.push("--json");
        let json = project.qujat(&command);
        assert_eq!(text.code, *code, "{args:?}: {}{}", text.stdout, text.stderr);
        assert_eq!(json.code, text.code, "{args:?}: {}", json.stderr);
        let answer: Value = serde_json::from_str(&json.stdout)
            .unwrap_or_else(|err| panic!("{args:?}: {err}: {}", json.stdout));
        assert_eq!(answer["verdict"], *verdict, "{args:?}: {}", json.stdout);
        assert_eq!(answer["exit_code"], *code);
        assert_eq!(answer["in_force"], *code == 0 && *verdict == "genuine");
        text_states(&text.stdout, &answer);
        all.extend(args.iter().cloned());
    }

    // All at once: JSON lines in the text's order (proofs, files, QR codes), the worst code.
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let text = project.qujat(&all);
    let mut with_json = all.clone();
    with_json.push("--json");
    let json = project.qujat(&with_json);
    assert_eq!(text.code, 1, "{}", text.stdout);
    assert_eq!(json.code, text.code);
    assert_eq!(json.stdout.lines().count(), inputs.len(), "{}", json.stdout);
    let answers = documents(&json.stdout);
    let order = [6, 7, 0, 1, 2, 3, 4, 5];
    for (answer, i) in answers.iter().zip(order) {
        assert_eq!(answer["verdict"], inputs[i].1, "{answer}");
        assert_eq!(answer["exit_code"], inputs[i].2, "{answer}");
        text_states(&text.stdout, answer);
    }
    assert_snapshot("verify.jsonl", &steady_paths(&project, &json.stdout));
}

/// Checks that `registry check`'s text says what its JSON says of every registry.
#[track_caller]
fn check_text_states(text: &str, answer: &Value) {
    for registry in answer["registries"].as_array().unwrap() {
        let code = registry["registry"].as_str().unwrap();
        let verdict = if registry["sound"] == true {
            "sound"
        } else {
            "DAMAGED"
        };
        let headline = text
            .lines()
            .find(|line| line.starts_with(&format!("{code}: ")))
            .unwrap_or_else(|| panic!("no block for {code} in:\n{text}"));
        assert!(headline.ends_with(&format!(" — {verdict}")), "{headline}");
        if registry["readable"] == true {
            let statuses = registry["statuses"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(status, count)| format!("{count} {status}"))
                .collect::<Vec<_>>()
                .join(", ");
            assert!(
                headline.starts_with(&format!(
                    "{code}: {} records: {} documents ({}), {} status events",
                    registry["records"],
                    registry["documents"],
                    if statuses.is_empty() {
                        "none".into()
                    } else {
                        statuses
                    },
                    registry["events"]
                )),
                "{headline}\n{registry}"
            );
            let checkpoints = registry["checkpoints"].as_u64().unwrap();
            assert_eq!(
                headline.contains(&format!("; {checkpoints} checkpoints")),
                checkpoints > 0,
                "{headline}"
            );
        } else {
            assert!(headline.ends_with("cannot be read — DAMAGED"), "{headline}");
        }
        let block: Vec<&str> = text
            .lines()
            .skip_while(|line| *line != headline)
            .skip(1)
            .take_while(|line| line.starts_with("  "))
            .collect();
        let mut expected: Vec<String> = Vec::new();
        for (key, label) in [("problems", "problem"), ("notes", "note")] {
            for item in registry[key].as_array().unwrap() {
                expected.push(format!("  {label}: {}", item.as_str().unwrap()));
            }
        }
        for orphan in registry["orphans"].as_array().unwrap() {
            expected.push(format!(
                "  orphan: {} (no record names it)",
                orphan.as_str().unwrap()
            ));
        }
        if registry["readable"] == true {
            expected.push(format!("  basis: {}", registry["basis"].as_str().unwrap()));
        }
        assert_eq!(block, expected, "{code}");
    }
}

#[test]
fn registry_check_as_json_has_the_findings_and_exit_code_of_the_text() {
    let project = issued();
    let both = |extra: &[&str]| {
        let mut args = vec!["registry", "check"];
        args.extend_from_slice(extra);
        let text = project.qujat(&args);
        args.push("--json");
        let json = project.qujat(&args);
        assert_eq!(json.code, text.code, "{}{}", json.stdout, json.stderr);
        let answer: Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(answer["exit_code"], text.code);
        assert_eq!(answer["sound"], text.code == 0);
        check_text_states(&text.stdout, &answer);
        (text.code, answer, json.stdout)
    };
    let (code, answer, _) = both(&["--files"]);
    assert_eq!(code, 0);
    let registries = answer["registries"].as_array().unwrap();
    assert_eq!(registries.len(), project.codes().len());
    assert!(
        registries
            .iter()
            .all(|r| r["sound"] == true && r["files"] == r["documents"])
    );

    // An edited record, a journal removed (its head left behind) and a PDF no record names.
    let path = project.journal_path("media");
    let text = std::fs::read_to_string(&path).unwrap();
    let third = text.lines().nth(2).unwrap();
    std::fs::write(
        &path,
        text.replace(third, &third.replacen("MR-2026-01", "MR-2026-09", 1)),
    )
    .unwrap();
    std::fs::remove_file(project.journal_path("kkm")).unwrap();
    std::fs::write(project.out().join("archive/stray.pdf"), b"%PDF-1.7").unwrap();
    let (code, answer, json) = both(&["--files"]);
    assert_eq!(code, 1);
    let of = |code: &str| {
        registries_of(&answer)
            .into_iter()
            .find(|r| r["registry"] == code)
            .unwrap()
    };
    assert_eq!(of("kkm")["readable"], false);
    assert!(
        of("kkm")["problems"][0]
            .as_str()
            .unwrap()
            .contains("it has no journal (journal.jsonl) but has head.json")
    );
    assert_eq!(of("media")["sound"], false);
    assert!(
        of("media")["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("line 3 (record 3): its content does not match its hash"),
        "{}",
        of("media")
    );
    assert_eq!(of("archive")["sound"], true);
    assert_eq!(of("archive")["orphans"][0], "archive/stray.pdf");
    assert_snapshot("registry-check.json", &steady_paths(&project, &json));
}

fn registries_of(answer: &Value) -> Vec<Value> {
    answer["registries"].as_array().unwrap().clone()
}

#[test]
fn regenerate_as_json_has_the_outcome_and_exit_code_of_the_text() {
    let project = issued();
    // Case MR-2026-0102 issued in a second registry too, so that it has two documents.
    let archive = project.cases().join("archive/2026-11-16_to_24.csv");
    let text = std::fs::read_to_string(&archive).unwrap();
    std::fs::write(&archive, text.replace("AR-2026-0208", "MR-2026-0102")).unwrap();
    assert_eq!(project.batch(&[]).code, 0);
    let both = |args: &[&str]| {
        let mut args = [&["regenerate"], args].concat();
        let text = project.qujat(&args);
        args.push("--json");
        let json = project.qujat(&args);
        assert_eq!(
            json.code, text.code,
            "{args:?}: {}{}",
            json.stdout, json.stderr
        );
        let answers = documents(&json.stdout);
        for answer in &answers {
            assert_eq!(
                answer["exit_code"],
                if answer["outcome"] == "identical" {
                    0
                } else {
                    1
                }
            );
            let s = |key: &str| answer[key].as_str().unwrap_or("?").to_string();
            let place = format!(
                "{} № {} (record {})",
                s("registry"),
                s("number"),
                answer["record"]
            );
            let headline = match answer["outcome"].as_str().unwrap() {
                "identical" => format!(
                    "{place}: {} — identical to the registered document (SHA-256 {})",
                    s("path"),
                    s("recorded")
                ),
                "differs" => format!(
                    "{place}: {} — DIFFERS from the registered document (SHA-256 {}, registered {})",
                    s("path"),
                    s("sha256"),
                    s("recorded")
                ),
                "not-regenerated" => format!("{place}: NOT regenerated"),
                "not-found" => {
                    text.expect_stderr(&format!(
                        "error: {}",
                        answer["reasons"][0].as_str().unwrap()
                    ));
                    continue;
                }
                other => panic!("outcome {other:?}"),
            };
            let block: Vec<&str> = text
                .stdout
                .lines()
                .skip_while(|line| *line != headline)
                .take_while(|line| *line == headline || line.starts_with("  because "))
                .collect();
            assert!(!block.is_empty(), "{headline:?} not in:\n{}", text.stdout);
            let reasons: Vec<String> = answer["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| format!("  because {}", r.as_str().unwrap()))
                .collect();
            assert_eq!(block[1..], reasons, "{}", text.stdout);
        }
        (json.code, answers, json.stdout)
    };

    let (code, answers, one) = both(&[
        "--registry",
        "media",
        "--number",
        "00002-Г",
        "--out",
        "copy.pdf",
    ]);
    assert_eq!((code, answers.len()), (0, 1));
    assert_eq!(answers[0]["outcome"], "identical");
    assert_eq!(answers[0]["sha256"], answers[0]["recorded"]);
    assert_eq!(
        sha256_hex(&std::fs::read(project.path().join("copy.pdf")).unwrap()),
        answers[0]["sha256"].as_str().unwrap()
    );
    let (code, answers, many) = both(&["--case", "MR-2026-0102", "--out", "copies"]);
    assert_eq!((code, answers.len()), (0, 2), "{many}");
    assert_eq!(many.lines().count(), 2, "JSON lines: {many}");
    let registries: Vec<&str> = answers
        .iter()
        .map(|a| a["registry"].as_str().unwrap())
        .collect();
    assert_eq!(registries, ["archive", "media"]);
    let (code, answers, _) = both(&["--registry", "media", "--number", "00099-Г"]);
    assert_eq!((code, answers.len()), (1, 1));
    assert_eq!(answers[0]["outcome"], "not-found");

    // A record whose data was changed and every hash recomputed: it does not come out as
    // registered, and the reason says the record is damaged.
    let mut records = project.journal("media");
    records[2]["data"]["case"]["title"] = Value::String("Басқа атау".into());
    let lines = crate::tamper::rewrite(&project, "media", &records, 3);
    crate::tamper::rewrite_head_and_checkpoints(&project, "media", &lines);
    std::fs::remove_file(project.registry().join("media/index.sqlite")).unwrap();
    let number = records[2]["number"].as_str().unwrap();
    let (code, answers, differs) = both(&[
        "--registry",
        "media",
        "--number",
        number,
        "--out",
        "third.pdf",
    ]);
    assert_eq!(code, 1);
    assert_eq!(answers[0]["outcome"], "differs");
    assert!(
        answers[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("its record is damaged"),
        "{differs}"
    );
    // The template version it names removed: not regenerated.
    let template = records[3]["template"].as_str().unwrap();
    std::fs::remove_file(
        project
            .registry()
            .join(format!("templates/{template}.json")),
    )
    .unwrap();
    let number = records[3]["number"].as_str().unwrap();
    let (code, answers, gone) = both(&["--registry", "media", "--number", number]);
    assert_eq!(code, 1);
    assert_eq!(answers[0]["outcome"], "not-regenerated");
    assert!(answers[0]["path"].is_null());
    // The four outputs as printed, one after the other.
    assert_snapshot(
        "regenerate.txt",
        &steady_paths(&project, &[one, many, differs, gone].concat()),
    );
}
