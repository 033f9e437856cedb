//! The registry journal: verifiable from outside, tamper-evident, recovered after a torn write.

use crate::util::*;

#[test]
fn the_journal_verifies_with_nothing_but_json_and_sha256() {
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    assert_eq!(verify_independently(&project.journal_path("media")), 25);

    let records = project.records("media");
    let first = &records[0];
    for field in [
        "case_hash",
        "content",
        "data",
        "template",
        "fonts",
        "engine",
        "pdf",
        "prev",
        "number",
        "n",
        "sequence",
    ] {
        assert!(!first[field].is_null(), "record lacks {field}");
    }
    assert_eq!(first["type"], "document");
    assert_eq!(first["data"]["case"]["id"], first["case_id"]);
    // The PDF on disk is the one the record names.
    let pdf = std::fs::read(project.out().join(first["pdf"]["file"].as_str().unwrap())).unwrap();
    assert_eq!(sha256_hex(&pdf), first["pdf"]["sha256"].as_str().unwrap());
    // The template version it names is kept beside the registry, content-addressed.
    let version = first["template"].as_str().unwrap();
    let kept = std::fs::read(project.registry().join(format!("templates/{version}.json"))).unwrap();
    assert_eq!(sha256_hex(&kept), version);
}

/// Runs the samples, applies `damage` to the journal's lines, and returns the next batch's run.
fn after_damage(damage: impl FnOnce(&mut Vec<String>)) -> (Project, Run) {
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    let path = project.journal_path("media");
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    damage(&mut lines);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    project.write_case(
        "more.xml",
        &cases_file(&[media_case("NEW-1", "2026-11-24", "Жаңа")]),
    );
    let run = project.batch(&[]);
    (project, run)
}

#[test]
fn an_edited_record_stops_the_next_batch_and_is_named() {
    let (project, run) = after_damage(|lines| lines[6] = lines[6].replace("00007-ИА", "00077-ИА"));
    assert_eq!(run.code, 2);
    run.expect_stderr("registry \"media\"");
    run.expect_stderr("line 7 (record 7): its content does not match its hash (edited?)");
    assert_eq!(
        project.journal("media").len(),
        25,
        "nothing was appended to a damaged registry"
    );
}

#[test]
fn a_deleted_record_is_named() {
    let (_, run) = after_damage(|lines| {
        lines.remove(4);
    });
    assert_eq!(run.code, 2);
    run.expect_stderr("line 5: record 6 stands where record 5 should");
}

#[test]
fn a_swapped_pair_is_named() {
    let (_, run) = after_damage(|lines| lines.swap(9, 10));
    assert_eq!(run.code, 2);
    run.expect_stderr("line 10: record 11 stands where record 10 should");
}

#[test]
fn a_torn_last_write_is_recovered_loudly_and_the_batch_goes_on() {
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    let path = project.journal_path("media");
    let mut bytes = std::fs::read(&path).unwrap();
    let whole = bytes.len();
    bytes.extend_from_slice(b"{\"hash\":\"3f2a");
    std::fs::write(&path, &bytes).unwrap();

    project.write_case(
        "more.xml",
        &cases_file(&[media_case("NEW-1", "2026-11-24", "Жаңа")]),
    );
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.expect_stderr("warning: registry media: the last write was cut off");
    run.expect_stderr(&format!(
        "removed 13 bytes of an incomplete record, keeping {whole} bytes"
    ));
    let report = run.report(&project);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(verify_independently(&path), 26);
}
