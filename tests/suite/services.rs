//! Every service of the catalogue, on its own sample cases: what it issues, how its registry
//! numbers it, what its documents say in both languages, and the rules peculiar to it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::util::*;

/// A project holding only the sample cases of one service's folder.
fn service_project(dir: &str) -> Project {
    let project = Project::new();
    copy_dir(
        &repo().join("cases/sample").join(dir),
        &project.cases().join(dir),
    );
    project
}

/// Runs a service's samples, checks every case was issued and every journal verifies, and
/// returns the project with the records of `registry`.
fn issue_samples(dir: &str, registry: &str) -> (Project, Vec<Value>) {
    let (project, records, _) = issue_samples_with_run(dir, registry);
    (project, records)
}

/// [`issue_samples`], with what the run printed.
fn issue_samples_with_run(dir: &str, registry: &str) -> (Project, Vec<Value>, Run) {
    let project = service_project(dir);
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records = project.records(registry);
    assert!(
        records.len() >= 10,
        "{} records in {registry}",
        records.len()
    );
    assert_eq!(
        verify_independently(&project.journal_path(registry)),
        project.journal(registry).len()
    );
    assert_gapless(&records);
    (project, records, run)
}

/// Every counter of a journal (documents' own and their items') runs 1, 2, 3… in record order.
#[track_caller]
fn assert_gapless(records: &[Value]) {
    let mut tails: BTreeMap<String, u64> = BTreeMap::new();
    for record in records {
        let items = record["items"].as_array().cloned().unwrap_or_default();
        let numbers = std::iter::once((&record["sequence"], &record["n"]))
            .chain(items.iter().map(|i| (&i["sequence"], &i["n"])))
            .map(|(s, n)| (s.as_str().unwrap().to_string(), n.as_u64().unwrap()))
            .collect::<Vec<_>>();
        for (counter, n) in numbers {
            let tail = tails.entry(counter.clone()).or_insert(0);
            assert_eq!(
                n,
                *tail + 1,
                "counter {counter} in record {}",
                record["seq"]
            );
            *tail = n;
        }
    }
}

/// How many documents of each kind the records hold.
fn kinds(records: &[Value]) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for record in records {
        *kinds
            .entry(record["document"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    kinds
}

/// Fails unless the records hold at least the given number of documents of each kind.
#[track_caller]
fn assert_at_least(records: &[Value], expected: &[(&str, usize)]) {
    let kinds = kinds(records);
    for (kind, least) in expected {
        assert!(
            kinds.get(*kind).copied().unwrap_or(0) >= *least,
            "{kinds:?}"
        );
    }
}

/// The first record of a document kind.
#[track_caller]
fn first_of<'a>(records: &'a [Value], kind: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["document"] == kind)
        .unwrap_or_else(|| panic!("no {kind} among the records"))
}

/// The record of a case's document.
#[track_caller]
fn record_of<'a>(records: &'a [Value], case_id: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["case_id"] == case_id)
        .unwrap_or_else(|| panic!("no record for case {case_id}"))
}

/// The text of a record's PDF.
fn text_of(project: &Project, record: &Value) -> String {
    pdf_text(&project.out().join(record["pdf"]["file"].as_str().unwrap()))
}

/// Fails unless `text` contains each of `parts`.
#[track_caller]
fn assert_says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
}

/// Fails unless `text` names each of `names` (letterheads print them in capitals).
#[track_caller]
fn assert_names(text: &str, names: &[&str]) {
    let lower = text.to_lowercase();
    for name in names {
        assert!(
            lower.contains(&name.to_lowercase()),
            "{name:?} not in:\n{text}"
        );
    }
}

/// Runs one extra case file next to a service's samples; returns the run.
fn with_extra_case(dir: &str, name: &str, xml: &str) -> (Project, Run) {
    let project = service_project(dir);
    project.write_case(&format!("{dir}/{name}"), xml);
    let run = project.batch(&[]);
    (project, run)
}

/// The first `<case>` of a service's XML samples that contains `marker`, and its id.
fn sample_case_containing(dir: &str, marker: &str) -> (String, String) {
    for entry in walkdir::WalkDir::new(repo().join("cases/sample").join(dir)) {
        let path = entry.unwrap().into_path();
        if path.extension().is_none_or(|x| x != "xml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let Some(at) = text.find(marker) else {
            continue;
        };
        let start = text[..at]
            .rfind("<case ")
            .expect("the marker is inside a case");
        let end = start + text[start..].find("</case>").unwrap() + "</case>".len();
        let case = text[start..end].to_string();
        let id = case
            .split("id=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        return (case.clone(), id.to_string());
    }
    panic!("no XML sample of {dir} contains {marker:?}");
}

/// A sample case file's text with some replacements made.
fn sample_with(path: &str, replacements: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(repo().join("cases/sample").join(path)).unwrap();
    for (from, to) in replacements {
        assert!(text.contains(from), "{from:?} not in {path}");
        text = text.replacen(from, to, 1);
    }
    text
}

#[test]
fn qujat_services_lists_the_eight_services() {
    let project = Project::new();
    let run = project.qujat(&["services"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.ends_with("8 services\n"), "{}", run.stdout);
    for code in [
        "media-registration",
        "foreign-media",
        "depository",
        "e-register",
        "kkm-conclusion",
        "attestation",
        "archival-reference",
        "apostille",
    ] {
        assert!(
            run.stdout.lines().any(|l| l == code),
            "{code} missing:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("state duty: 5 MCI"));
    assert!(run.stdout.contains("at most once per application.number"));
}

#[test]
fn foreign_media_references_are_issued_and_numbered_per_region() {
    let (project, records) = issue_samples("foreign-media", "foreign-media");
    assert_at_least(&records, &[("reference", 8), ("refusal", 2)]);
    // Each region has its own counter, starting at 1.
    let regions: BTreeMap<&str, Vec<u64>> = records
        .iter()
        .filter(|r| r["document"] == "reference")
        .fold(BTreeMap::new(), |mut m, r| {
            m.entry(r["sequence"].as_str().unwrap())
                .or_default()
                .push(r["n"].as_u64().unwrap());
            m
        });
    assert!(regions.len() >= 3, "{regions:?}");
    for (counter, ns) in &regions {
        assert!(counter.starts_with("reference-"), "{counter}");
        assert_eq!(ns, &(1..=ns.len() as u64).collect::<Vec<_>>(), "{counter}");
    }
    // The issuing authority is the region's.
    let almaty = record_of(&records, "FM-2026-0207");
    assert_eq!(almaty["number"], "ALA-2026/0004");
    let text = text_of(&project, almaty);
    assert_says(
        &text,
        &["АНЫҚТАМА", "СПРАВКА", "Deutsche Welle", "ALA-2026/0004"],
    );
    assert_names(
        &text,
        &[
            "Алматы қаласының Қоғамдық даму басқармасы",
            "Управление общественного развития города Алматы",
        ],
    );
}

#[test]
fn foreign_media_rules_are_applied() {
    let xml = sample_with(
        "foreign-media/FM-2026-0207.xml",
        &[
            ("FM-2026-0207", "FM-2026-0999"),
            ("<region>almaty</region>", "<region>atyrau</region>"),
        ],
    );
    let (project, run) = with_extra_case("foreign-media", "bad.xml", &xml);
    assert_eq!(run.code, 1);
    run.expect_stderr("foreign-media/bad.xml, line");
    run.expect_stderr("case \"FM-2026-0999\": field region: \"atyrau\" is not one of");
    assert!(
        !project
            .records("foreign-media")
            .iter()
            .any(|r| r["case_id"] == "FM-2026-0999")
    );
}

#[test]
fn a_deposit_of_three_objects_gets_one_reference_and_three_consecutive_deposit_numbers() {
    let (project, records) = issue_samples("depository", "software");
    let three = record_of(&records, "DP-2026-0003");
    assert_eq!(three["document"], "reference");
    let items = three["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let ns: Vec<u64> = items.iter().map(|i| i["n"].as_u64().unwrap()).collect();
    assert_eq!(ns, vec![ns[0], ns[0] + 1, ns[0] + 2]);
    assert!(items.iter().all(|i| i["sequence"] == "deposit"));
    // Only one document for the case: the deposit numbers are not documents.
    assert_eq!(
        records
            .iter()
            .filter(|r| r["case_id"] == "DP-2026-0003")
            .count(),
        1
    );
    let text = text_of(&project, three);
    let numbers: Vec<&str> = items
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers[0], format!("2026-Д-{:06}", ns[0]));
    assert_says(&text, &numbers);
    assert_says(
        &text,
        &[
            "АНЫҚТАМА",
            "СПРАВКА",
            "Өңірлік ситуациялық орталық",
            "Региональный ситуационный центр",
        ],
    );
    // Every approved reference lists as many deposit numbers as the case has objects.
    let total: usize = records
        .iter()
        .map(|r| r["items"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(total >= 9, "{total} deposit numbers");
}

#[test]
fn depository_rules_are_applied() {
    let xml = sample_with(
        "depository/DP-2026-0004.xml",
        &[
            ("DP-2026-0004", "DP-2026-0999"),
            ("<kind>software_product</kind>", "<kind>firmware</kind>"),
        ],
    );
    let (_, run) = with_extra_case("depository", "bad.xml", &xml);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr("case \"DP-2026-0999\": field objects.1.kind: \"firmware\" is not one of");
}

#[test]
fn e_register_certificates_carry_their_registration_number() {
    let (project, records) = issue_samples("e-register", "e-register");
    let record = record_of(&records, "ER-2026-0307");
    let number = record["number"].as_str().unwrap();
    assert!(number.starts_with("ГР-2026-"), "{number}");
    let text = text_of(&project, record);
    assert_says(&text, &[number, "КУӘЛІК", "СВИДЕТЕЛЬСТВО", "Туркестан"]);
    assert_names(
        &text,
        &[
            "Жасанды интеллект және цифрлық даму министрлігі",
            "Министерство искусственного интеллекта и цифрового развития",
        ],
    );
}

#[test]
fn e_register_rules_are_applied() {
    let xml = sample_with(
        "e-register/ER-2026-0307.xml",
        &[
            ("ER-2026-0307", "ER-2026-0999"),
            ("<class>third</class>", "<class>fourth</class>"),
        ],
    )
    .replace("<object_name>", "<!--")
    .replace("</object_name>", "-->");
    let (project, run) = with_extra_case("e-register", "bad.xml", &xml);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr("e-register/bad.xml, line 2: case \"ER-2026-0999\": field object_name: is required but missing or empty");
    run.expect_stderr("case \"ER-2026-0999\": field class: \"fourth\" is not one of");
    assert!(
        !project
            .records("e-register")
            .iter()
            .any(|r| r["case_id"] == "ER-2026-0999")
    );
}

#[test]
fn a_document_shows_the_authority_in_force_on_its_date() {
    // The ministry was renamed on 18 September 2025: a decision of the 17th shows the old name,
    // one of the 19th the new one.
    // Two applications: one application gets one certificate.
    let case = |id: &str, application: &str, decided: &str| {
        sample_with(
            "e-register/ER-2026-0307.xml",
            &[
                ("ER-2026-0307", id),
                ("KZ64R0311187", application),
                (r#"date="2026-11-06""#, r#"date="2025-09-08""#),
                (r#"date="2026-11-19""#, &format!(r#"date="{decided}""#)),
                ("<commissioning_date>20.05.2026</commissioning_date>", ""),
            ],
        )
    };
    let project = Project::new();
    project.write_case(
        "before.xml",
        &case("ER-2025-0001", "KZ64R0311101", "2025-09-17"),
    );
    project.write_case(
        "after.xml",
        &case("ER-2025-0002", "KZ64R0311102", "2025-09-19"),
    );
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records = project.records("e-register");
    let before = text_of(&project, record_of(&records, "ER-2025-0001"));
    let after = text_of(&project, record_of(&records, "ER-2025-0002"));
    let old_kk = "Цифрлық даму, инновациялар және аэроғарыш өнеркәсібі министрлігі";
    let old_ru = "Министерство цифрового развития, инноваций и аэрокосмической промышленности";
    let new_kk = "Жасанды интеллект және цифрлық даму министрлігі";
    let new_ru = "Министерство искусственного интеллекта и цифрового развития";
    assert_names(&before, &[old_kk, old_ru]);
    assert_names(&after, &[new_kk, new_ru]);
    for (text, not) in [(&before, [new_kk, new_ru]), (&after, [old_kk, old_ru])] {
        for name in not {
            assert!(
                !text.to_lowercase().contains(&name.to_lowercase()),
                "{name:?} in {text}"
            );
        }
    }
}

#[test]
fn kkm_conclusions_cite_the_act_and_refusals_list_its_findings() {
    let (project, records) = issue_samples("kkm", "kkm");
    assert_at_least(&records, &[("conclusion", 5), ("refusal", 3)]);
    let conclusion = first_of(&records, "conclusion");
    let act = &conclusion["data"]["case"]["act"];
    let text = text_of(&project, conclusion);
    assert_says(
        &text,
        &[
            "ҚОРЫТЫНДЫ",
            "ЗАКЛЮЧЕНИЕ",
            act["number"].as_str().unwrap(),
            act["date"]["ru"].as_str().unwrap(),
        ],
    );
    let refusal = first_of(&records, "refusal");
    let case = &refusal["data"]["case"];
    let text = text_of(&project, refusal);
    assert_says(&text, &[case["act"]["number"].as_str().unwrap()]);
    for finding in case["act"]["findings"].as_array().unwrap() {
        // The first words of each finding, in both languages.
        for lang in ["kk", "ru"] {
            let start: String = finding[lang]
                .as_str()
                .unwrap()
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            assert_says(&text, &[&start]);
        }
    }
}

#[test]
fn a_kkm_refusal_needs_the_acts_findings() {
    let (case, id) = sample_case_containing("kkm", "<findings>");
    let without = case
        .replace(&id, "KKM-2026-0999")
        .replace("<findings>", "<!--")
        .replace("</findings>", "-->");
    let (_, run) = with_extra_case("kkm", "bad.xml", &without);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr(
        "case \"KKM-2026-0999\": field act.findings: is required but missing or empty",
    );
}

#[test]
fn attestation_issues_attestats_elimination_decisions_and_refusals() {
    let (project, records) = issue_samples("attestation", "attestats");
    assert_at_least(
        &records,
        &[("attestat", 3), ("elimination", 3), ("refusal", 2)],
    );
    let elimination = record_of(&records, "AT-2026-0004");
    assert_eq!(elimination["document"], "elimination");
    assert_eq!(elimination["once"], "application.number=KZ52A0007731");
    let text = text_of(&project, elimination);
    assert_says(
        &text,
        &[
            "0398/26",
            "EduNet Kazakhstan",
            "Mektep Online",
            "СӘЙКЕССІЗДІКТЕРДІ ЖОЮ ТУРАЛЫ ШЕШІМ",
            "РЕШЕНИЕ ОБ УСТРАНЕНИИ НЕСООТВЕТСТВИЙ",
        ],
    );
    // The attestat on the same application, after the nonconformities were eliminated.
    let attestat = record_of(&records, "AT-2026-0009");
    assert_eq!(attestat["document"], "attestat");
    let case = &attestat["data"]["case"];
    let text = text_of(&project, attestat);
    assert_says(
        &text,
        &[
            "АТТЕСТАТ",
            "ақпараттық жүйенің ақпараттық қауіпсіздік талаптарына сәйкестігі туралы",
            "о соответствии информационной системы требованиям информационной безопасности",
            attestat["number"].as_str().unwrap(),
            case["inspection"]["act"]["number"].as_str().unwrap(),
            case["commission"]["protocol"]["number"].as_str().unwrap(),
        ],
    );
}

#[test]
fn a_second_elimination_decision_for_one_application_is_rejected() {
    let second = sample_with(
        "attestation/AT-2026-0004.xml",
        &[
            ("AT-2026-0004", "AT-2026-0098"),
            (r#"date="2026-11-03""#, r#"date="2026-11-20""#),
        ],
    );
    // In the same batch as the first.
    let (project, run) = with_extra_case("attestation", "second.xml", &second);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr(
        "attestation/second.xml, line 5: case \"AT-2026-0098\": field application.number:",
    );
    run.expect_stderr(
        "is allowed once per application.number, and application.number KZ52A0007731 already has \
         one: case AT-2026-0004 at cases/attestation/AT-2026-0004.xml, line 5, in this batch",
    );
    assert!(
        !project
            .records("attestats")
            .iter()
            .any(|r| r["case_id"] == "AT-2026-0098")
    );

    // In a later batch, against the registry.
    let later = sample_with(
        "attestation/AT-2026-0004.xml",
        &[
            ("AT-2026-0004", "AT-2026-0099"),
            (r#"date="2026-11-03""#, r#"date="2026-11-24""#),
        ],
    );
    std::fs::remove_file(project.cases().join("attestation/second.xml")).unwrap();
    project.write_case("attestation/later.xml", &later);
    let run = project.batch(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr(
        "attestation/later.xml, line 5: case \"AT-2026-0099\": field application.number:",
    );
    run.expect_stderr("already has one: № ШЖ-2026/0001 of 2026-11-03 (case AT-2026-0004)");
    let report = run.report(&project);
    assert_eq!(report["summary"]["rejected"], 1);
}

#[test]
fn archival_references_are_issued_with_their_archival_cipher() {
    let (project, records, run) = issue_samples_with_run("archive", "archive");
    assert_at_least(&records, &[("reference", 8), ("refusal", 2)]);
    let reference = first_of(&records, "reference");
    let case = &reference["data"]["case"];
    let text = text_of(&project, reference);
    assert_says(
        &text,
        &[
            "АРХИВТІК АНЫҚТАМА",
            "АРХИВНАЯ СПРАВКА",
            reference["number"].as_str().unwrap(),
            case["person"]["name"].as_str().unwrap(),
        ],
    );
    // The term is 15 calendar days: the report lists the sample decided later.
    run.expect_stderr(
        "case AR-2026-0209 (archival-reference) applied 2026-10-27, due 2026-11-11, decided \
         2026-11-16 (5 days late)",
    );
}

#[test]
fn an_approved_archival_reference_needs_its_content() {
    let project = service_project("archive");
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (case, id) = sample_case_containing("archive", r#"outcome="approved""#);
    let without = case
        .replace(&id, "AR-2026-0999")
        .replace("<content", "<!--content")
        .replace("</content>", "</content-->");
    project.write_case("archive/bad.xml", &without);
    let reversed = case.replace(&id, "AR-2026-0998").replace(
        r#"<period from="1979" to="1991"/>"#,
        r#"<period from="1991" to="1979"/>"#,
    );
    assert_ne!(
        reversed,
        case.replace(&id, "AR-2026-0998"),
        "the first sample's period changed"
    );
    project.write_case("archive/reversed.xml", &reversed);
    let run = project.batch(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr("case \"AR-2026-0999\": field content: is required but missing or empty");
    run.expect_stderr(
        "case \"AR-2026-0998\": field period.to: 1979 is less than period.from (1991)",
    );
}

#[test]
fn apostilles_have_the_ten_hague_fields_in_order() {
    let (project, records) = issue_samples("apostille", "apostille");
    assert_at_least(&records, &[("apostille", 8), ("refusal", 2)]);
    let apostille = first_of(&records, "apostille");
    let text = text_of(&project, apostille);
    assert_says(
        &text,
        &[
            "Convention de La Haye du 5 octobre 1961",
            apostille["number"].as_str().unwrap(),
        ],
    );
    let case = &apostille["data"]["case"];
    assert_says(
        &text,
        &[case["public_document"]["signer"].as_str().unwrap()],
    );
    // The ten numbered fields, in order.
    let mut from = 0;
    for n in 1..=10 {
        let mark = format!("{n}.");
        let at = text[from..]
            .find(&mark)
            .unwrap_or_else(|| panic!("field {n} not found after byte {from}:\n{text}"));
        from += at + mark.len();
    }
}

#[test]
fn an_apostille_needs_the_signer_of_the_public_document() {
    let xml = sample_with(
        "apostille/2026-11-09_to_20.xml",
        &[(r#" signer="Тұрсынов Бақытжан Әлібекұлы""#, "")],
    );
    let project = Project::new();
    project.write_case("apostille/2026-11-09_to_20.xml", &xml);
    let run = project.batch(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr("field public_document.signer: is required but missing or empty");
    // The other cases of the file are issued.
    assert!(project.records("apostille").len() >= 4);
}

#[test]
fn media_registration_certificates_show_the_state_duty_paid() {
    let (project, records) = issue_samples("media", "media");
    let certificate = first_of(&records, "certificate");
    let text = text_of(&project, certificate);
    // 5 MCI at 4,325 ₸ (2026), written with no-break spaces.
    // (The text extractor turns the no-break spaces into plain ones.)
    assert_says(&text, &["21 625 ₸", "5 АЕК", "5 МРП"]);
}

#[test]
fn every_sample_is_issued_and_every_document_kind_appears() {
    let project = Project::with_samples();
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut seen = BTreeMap::<(String, String), usize>::new();
    for entry in std::fs::read_dir(project.registry()).unwrap() {
        let path = entry.unwrap().path();
        let journal = path.join("journal.jsonl");
        if !journal.is_file() {
            continue;
        }
        let code = path.file_name().unwrap().to_str().unwrap().to_string();
        for record in project.records(&code) {
            *seen
                .entry((
                    record["service"].as_str().unwrap().to_string(),
                    record["document"].as_str().unwrap().to_string(),
                ))
                .or_default() += 1;
        }
    }
    let catalogue_kinds = [
        ("media-registration", "certificate"),
        ("foreign-media", "reference"),
        ("depository", "reference"),
        ("e-register", "certificate"),
        ("kkm-conclusion", "conclusion"),
        ("attestation", "attestat"),
        ("attestation", "elimination"),
        ("archival-reference", "reference"),
        ("apostille", "apostille"),
    ];
    for (service, document) in catalogue_kinds {
        assert!(
            seen.contains_key(&(service.to_string(), document.to_string())),
            "no {document} of {service}: {seen:?}"
        );
        assert!(
            seen.contains_key(&(service.to_string(), "refusal".to_string())),
            "no refusal of {service}"
        );
    }
    let per_service = seen
        .iter()
        .fold(BTreeMap::<&str, usize>::new(), |mut m, ((s, _), n)| {
            *m.entry(s.as_str()).or_default() += n;
            m
        });
    for (service, n) in &per_service {
        assert!(*n >= 10, "{service}: {n} documents");
    }
    assert_eq!(per_service.len(), 8);
}
