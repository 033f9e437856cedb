//! Merkle checkpoints: every batch appends one; an inclusion proof of a document verifies offline
//! and fails for a tampered record; a consistency proof shows a registry only grew; a history
//! rewritten with a sound hash chain is still caught by the checkpoints.

use serde_json::Value;

use crate::util::{Project, cases_file, media_case, sha256_hex};

fn checkpoints(project: &Project, registry: &str) -> Vec<Value> {
    let path = project.registry().join(registry).join("checkpoints.jsonl");
    std::fs::read_to_string(path)
        .expect("a checkpoints file")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn prove(project: &Project, args: &[&str], out: &str) -> std::path::PathBuf {
    let path = project.path().join(out);
    let mut all = vec!["registry", "proof", "--registry", "media"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", path.to_str().unwrap()]);
    let run = project.qujat(&all);
    assert_eq!(run.code, 0, "registry proof failed: {}", run.stderr);
    path
}

fn verify_proof(project: &Project, path: &std::path::Path) -> crate::util::Run {
    project.qujat(&["verify", "--proof", path.to_str().unwrap()])
}

#[test]
fn a_documents_inclusion_proof_verifies_and_a_tampered_one_fails() {
    let project = Project::with_samples();
    assert!(project.batch(&[]).code <= 1);
    let records = project.journal("media").len() as u64;
    let made = checkpoints(&project, "media");
    assert_eq!(made.len(), 1, "one batch, one checkpoint");
    assert_eq!(made[0]["size"], records);

    let proof = prove(&project, &["--number", "00001-Г"], "proof.json");
    let run = verify_proof(&project, &proof);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("PROOF HOLDS"), "{}", run.stdout);
    assert!(run.stdout.contains("00001-Г"), "{}", run.stdout);

    // The same proof with the record's holder changed.
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    let record = json["record"]
        .as_str()
        .unwrap()
        .replacen("Ертіс", "Ертic", 1);
    assert_ne!(
        record,
        json["record"].as_str().unwrap(),
        "the sample holder is in the record"
    );
    json["record"] = Value::String(record);
    let tampered = project.path().join("tampered.json");
    std::fs::write(&tampered, json.to_string()).unwrap();
    let run = verify_proof(&project, &tampered);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("PROOF FAILS"), "{}", run.stdout);

    // A proof against a root that is not the checkpoint's fails too.
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    json["checkpoint"]["root"] = Value::String("0".repeat(64));
    std::fs::write(&tampered, json.to_string()).unwrap();
    assert_eq!(verify_proof(&project, &tampered).code, 1);
}

#[test]
fn checkpoints_show_the_registry_only_grew_and_catch_a_rewritten_history() {
    let project = Project::with_samples();
    assert!(project.batch(&[]).code <= 1);
    let first = checkpoints(&project, "media")[0]["size"].as_u64().unwrap();
    project.write_case(
        "later.xml",
        &cases_file(&[media_case("MR-2026-0950", "2026-11-24", "Жаңа Заман")]),
    );
    assert!(project.batch(&[]).code <= 1);
    let made = checkpoints(&project, "media");
    assert_eq!(made.len(), 2, "a second batch adds a second checkpoint");
    assert!(made[1]["size"].as_u64().unwrap() > first);

    let grew = prove(&project, &["--since", &first.to_string()], "grew.json");
    let run = verify_proof(&project, &grew);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("only grew"), "{}", run.stdout);

    // Rewrite history: change the first record and re-hash the whole chain after it, so the
    // chain itself is sound again. Only the checkpoints can tell.
    let path = project.journal_path("media");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut prev = "0".repeat(64);
    let mut rewritten = String::new();
    for (i, line) in text.lines().enumerate() {
        let mut record: Value = serde_json::from_str(line).unwrap();
        let mut body = record["record"].take();
        body["prev"] = Value::String(prev.clone());
        if i == 0 {
            body["case_id"] = Value::String("MR-2026-REWRITTEN".into());
        }
        let canonical = serde_json::to_string(&body).unwrap();
        prev = sha256_hex(canonical.as_bytes());
        rewritten.push_str(&format!("{{\"hash\":\"{prev}\",\"record\":{canonical}}}\n"));
    }
    std::fs::write(&path, rewritten).unwrap();
    std::fs::write(
        project.registry().join("media/head.json"),
        format!("{{\"seq\":{},\"hash\":\"{prev}\"}}\n", text.lines().count()),
    )
    .unwrap();
    let run = project.qujat(&["registry", "check", "--registry", "media"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("checkpoint 1") && run.stdout.contains("no longer have its root"),
        "{}",
        run.stdout
    );
    // And the next batch refuses to write to it.
    project.write_case(
        "even-later.xml",
        &cases_file(&[media_case("MR-2026-0951", "2026-11-24", "Тағы бір")]),
    );
    let run = project.batch(&[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.expect_stderr("no longer have its root");
}

#[test]
fn a_full_check_reads_every_record_whole() {
    let project = Project::with_samples();
    assert!(project.batch(&[]).code <= 1);
    // Rewrite the last record non-canonically (a space after a colon) and re-hash it; with the
    // head and checkpoints gone, only reading it whole can tell.
    let path = project.journal_path("media");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines.pop().unwrap();
    let body = last
        .strip_prefix(&last[..last.find("\"record\":").unwrap() + 9])
        .and_then(|b| b.strip_suffix('}'))
        .unwrap()
        .replacen("\"seq\":", "\"seq\": ", 1);
    let hash = sha256_hex(body.as_bytes());
    lines.push(format!("{{\"hash\":\"{hash}\",\"record\":{body}}}"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    for file in ["head.json", "checkpoints.jsonl"] {
        std::fs::remove_file(project.registry().join("media").join(file)).unwrap();
    }
    let quick = project.qujat(&["registry", "check", "--registry", "media"]);
    // The quick check does not read records whole: it cannot see the rewriting itself. What
    // it does see (issue 21) is that checkpoints were removed, and that the index, made when
    // the record was written, lists another record there.
    assert!(
        !quick.stdout.contains("not in canonical form"),
        "{}",
        quick.stdout
    );
    assert!(
        quick.stdout.contains("checkpoints were removed"),
        "{}",
        quick.stdout
    );
    let full = project.qujat(&["registry", "check", "--registry", "media", "--full"]);
    assert_eq!(full.code, 1, "{}", full.stdout);
    assert!(
        full.stdout.contains(&format!("line {}", lines.len()))
            && full.stdout.contains("not in canonical form"),
        "{}",
        full.stdout
    );
}
