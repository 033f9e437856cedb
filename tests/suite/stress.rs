//! Thousands of documents in one process: no crash, every one registered, numbers gapless.

use crate::util::*;

#[test]
fn three_thousand_documents_in_one_process() {
    let project = Project::new();
    let generated = project.qujat(&[
        "generate-cases",
        "--count",
        "3000",
        "--seed",
        "7",
        "--to",
        "2026-11-24",
        "--out",
        "cases/synthetic.csv",
    ]);
    assert_eq!(generated.code, 0, "{}", generated.stderr);
    let run = project.batch(&["--jobs", "2"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report(&project);
    let summary = &report["summary"];
    assert_eq!(summary["cases"], 3000);
    assert_eq!(summary["rejected"], 0);
    assert_eq!(
        summary["issued"].as_u64().unwrap() + summary["refused"].as_u64().unwrap(),
        3000
    );

    assert_eq!(verify_independently(&project.journal_path("media")), 3000);
    let records = project.records("media");
    for sequence in ["certificate", "outgoing"] {
        let ns: Vec<u64> = records
            .iter()
            .filter(|r| r["sequence"] == sequence)
            .map(|r| r["n"].as_u64().unwrap())
            .collect();
        assert!(!ns.is_empty());
        assert_eq!(
            ns,
            (1..=ns.len() as u64).collect::<Vec<_>>(),
            "{sequence} numbers are gapless"
        );
    }
    // The report lists every document as registered, in order (a list far larger than the
    // part of it a batch keeps in memory).
    let listed: Vec<(&str, &str)> = report["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["number"].as_str().unwrap(), d["sha256"].as_str().unwrap()))
        .collect();
    let registered: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r.get("pdf").is_some())
        .map(|r| {
            (
                r["number"].as_str().unwrap(),
                r["pdf"]["sha256"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 3000);
    assert_eq!(listed, registered);
    // Spot-check files against their records.
    for record in records.iter().step_by(250) {
        let pdf =
            std::fs::read(project.out().join(record["pdf"]["file"].as_str().unwrap())).unwrap();
        assert_eq!(sha256_hex(&pdf), record["pdf"]["sha256"].as_str().unwrap());
    }
}
