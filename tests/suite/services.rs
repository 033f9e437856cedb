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
            "Ақпараттық жүйенің ақпараттық қауіпсіздік талаптарына және Қазақстан \
             Республикасының аумағында қабылданған стандарттарға сәйкестігі аттестаты",
            "Аттестат соответствия информационной системы требованиям информационной \
             безопасности и принятым на территории Республики Казахстан стандартам",
            "аттестаттық тексеру актісі",
            "Аттестациялық комиссия",
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

/// A text in quotation marks as documents write it: «…», the marks inside made „…“.
fn quoted(text: &str) -> String {
    format!("«{}»", text.replace('«', "„").replace('»', "“"))
}

#[test]
fn refusals_use_the_regulations_terms_name_what_was_refused_cite_norms_and_say_how_to_appeal() {
    let (project, records) = issue_samples("media", "media");
    let refusal = record_of(&records, "MR-2026-0110");
    let text = text_of(&project, refusal);
    assert_says(
        &text,
        &[
            "МЕМЛЕКЕТТІК КӨРСЕТІЛЕТІН ҚЫЗМЕТТІ КӨРСЕТУДЕН БАС ТАРТУ ТУРАЛЫ ДӘЛЕЛДІ ЖАУАП",
            "МОТИВИРОВАННЫЙ ОТВЕТ ОБ ОТКАЗЕ В ОКАЗАНИИ ГОСУДАРСТВЕННОЙ УСЛУГИ",
            "мемлекеттік көрсетілетін қызметті көрсетуден мынадай негіздер бойынша бас \
             тартылғанын хабарлаймыз",
            "сообщаем об отказе в оказании государственной услуги",
            // What was refused: the publication's title.
            "(«Ақтөбе Таймс»)",
            // Each ground with the norm it rests on, in both languages.
            "масс-медиа атауының бұрын есепке қойылған масс-медиа атауымен сәйкес келуі \
             («Масс-медиа туралы» Қазақстан Республикасының 2024 жылғы 19 маусымдағы Заңы)",
            "совпадение названия масс-медиа с названием ранее поставленного на учет масс-медиа \
             (Закон Республики Казахстан от 19 июня 2024 года «О масс-медиа»)",
            "представление услугополучателем неполного пакета документов, предусмотренного \
             правилами оказания государственной услуги (Закон Республики Казахстан от 15 апреля \
             2013 года «О государственных услугах»)",
            // The official's own words after the grounds.
            "Атап айтқанда:",
            "А именно:",
            "Не представлен документ о назначении главного редактора.",
            // Where and within what time to appeal.
            "үш ай ішінде",
            "в течение трех месяцев со дня, когда Вам стало о нем известно",
            "уполномоченный орган по оценке и контролю за качеством оказания государственных услуг",
        ],
    );
    assert!(!text.contains("қызметін көрсетуден"), "{text}");
    assert!(!text.contains("бас тартылатынын"), "{text}");

    // A refusal of a deposit names the objects; of an apostille, the document.
    let (project, records) = issue_samples("depository", "software");
    let refusal = record_of(&records, "DP-2026-0004");
    // (The text extractor puts a space after „, where the font changes.)
    let text = text_of(&project, refusal).replace("„ ", "„");
    for object in refusal["data"]["case"]["objects"].as_array().unwrap() {
        assert_says(
            &text,
            &[
                &quoted(object["name"]["kk"].as_str().unwrap()),
                &quoted(object["name"]["ru"].as_str().unwrap()),
            ],
        );
    }
    let (project, records) = issue_samples("apostille", "apostille");
    let text = text_of(&project, record_of(&records, "AP-2026-0310"));
    assert_says(
        &text,
        &[
            "(2026 жылғы 28 қазандағы № Н-377 архивтік анықтама)",
            "(Архивная справка № Н-377 от 28 октября 2026 года)",
        ],
    );
}

#[test]
fn a_refusal_may_name_its_grounds_alone_but_not_nothing() {
    let (project, records) = issue_samples("depository", "software");
    // DP-2026-0011 names its ground by code and adds no words of its own.
    let refusal = record_of(&records, "DP-2026-0011");
    assert!(refusal["data"]["case"]["decision"]["reasons"].is_null());
    let text = text_of(&project, refusal);
    assert_says(
        &text,
        &[
            "услугополучатель не является правообладателем депонируемого объекта или его \
             уполномоченным представителем (Закон Республики Казахстан от 24 ноября 2015 года \
             «Об информатизации»)",
        ],
    );
    assert!(!text.contains("А именно:"), "{text}");
    // Neither grounds nor words: rejected, naming both; a ground the service lacks: rejected.
    let (case, id) = sample_case_containing("depository", r#"grounds="requirements incomplete""#);
    let bare = case
        .replace(&id, "DP-2026-0998")
        .replace(r#"<refusal grounds="requirements incomplete"/>"#, "")
        .replace("<reasons>", "<!--")
        .replace("</reasons>", "-->");
    let unknown = case
        .replace(&id, "DP-2026-0999")
        .replace("requirements incomplete", "requirements same-title");
    let (_, run) = with_extra_case(
        "depository",
        "bad.xml",
        &format!("<cases>{bare}{unknown}</cases>"),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr(
        "case \"DP-2026-0998\": field decision.reasons: is required unless refusal.grounds is \
         given, and neither is",
    );
    run.expect_stderr("case \"DP-2026-0999\": field refusal.grounds: \"same-title\" is not one of");
}

/// Every date view's attributive form ("2026 жылғы 19 қарашадағы") in a record's data.
fn collect_attributive_dates(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if map.contains_key("kk_nominative") => {
            out.push(map["kk"].as_str().unwrap().to_string());
        }
        Value::Object(map) => map.values().for_each(|v| collect_attributive_dates(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_attributive_dates(v, out)),
        _ => {}
    }
}

#[test]
fn dates_stand_alone_in_the_nominative_and_the_attributive_only_before_what_it_qualifies() {
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    let mut checked = 0;
    for entry in std::fs::read_dir(project.registry()).unwrap() {
        let path = entry.unwrap().path();
        if !path.join("journal.jsonl").is_file() {
            continue;
        }
        for record in project.records(path.file_name().unwrap().to_str().unwrap()) {
            // Every date the pipeline wrote in the attributive form: none may end a line (each
            // is bound to the number or noun it qualifies).
            let mut attributive = Vec::new();
            collect_attributive_dates(&record["data"], &mut attributive);
            assert!(!attributive.is_empty());
            let pdf = project.out().join(record["pdf"]["file"].as_str().unwrap());
            let raw = run_tool("pdftotext", &[pdf.to_str().unwrap(), "-"]);
            for line in raw.lines().map(str::trim_end) {
                for date in &attributive {
                    assert!(
                        !line.ends_with(date.as_str())
                            && !line.ends_with(&date.replace(' ', "\u{a0}")),
                        "{}: {date:?} ends a line: {line:?}",
                        pdf.display()
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 108);
    // A certificate's date line: «2026 жылғы 16 қараша»; a letter's number with its date:
    // «2026 жылғы 19 қарашадағы № ШХ-2026/00001» / «№ ШХ-2026/00001 от 19 ноября 2026 года».
    let records = project.records("media");
    let certificate = record_of(&records, "MR-2026-0101");
    let text = text_of(&project, certificate);
    let date = &certificate["data"]["document"]["date"];
    assert_says(
        &text,
        &[
            date["kk_nominative"].as_str().unwrap(),
            date["ru"].as_str().unwrap(),
        ],
    );
    assert!(!text.contains(date["kk"].as_str().unwrap()), "{text}");
    let letter = record_of(&records, "MR-2026-0110");
    let text = text_of(&project, letter);
    let date = &letter["data"]["document"]["date"];
    let number = letter["number"].as_str().unwrap();
    assert_says(
        &text,
        &[
            &format!("{} № {number}", date["kk"].as_str().unwrap()),
            &format!("№ {number} от {}", date["ru"].as_str().unwrap()),
        ],
    );
}

#[test]
fn titles_and_terms_follow_the_regulations() {
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    let text =
        |registry: &str, case: &str| text_of(&project, record_of(&project.records(registry), case));
    // A media certificate's subtitle names the kind registered; the periodicity fits it; a
    // re-registration ends the previous certificate.
    assert_says(
        &text("media", "MR-2026-0101"),
        &[
            "мерзімді баспасөз басылымын есепке қою туралы",
            "о постановке на учет периодического печатного издания",
            "Шығу мерзімділігі",
            "Периодичность выпуска",
        ],
    );
    assert_says(
        &text("media", "MR-2026-0106"),
        &[
            "ақпарат агенттігін есепке қою туралы",
            "о постановке на учет информационного агентства",
        ],
    );
    let online = text("media", "MR-2026-0108");
    assert_says(
        &online,
        &[
            "желілік басылымды есепке қою туралы",
            "о постановке на учет сетевого издания",
            "Жаңарту мерзімділігі",
            "Периодичность обновления",
        ],
    );
    assert!(
        !online.contains("информационного агентства и сетевого издания"),
        "{online}"
    );
    let media = project.records("media");
    let rereg = record_of(&media, "MR-2026-0112");
    let previous = &rereg["data"]["case"]["previous"];
    let number = previous["number"].as_str().unwrap();
    assert_says(
        &text_of(&project, rereg),
        &[
            "мерзімді баспасөз басылымын қайта есепке қою туралы",
            "о переучете периодического печатного издания",
            &format!(
                "{} № {number} куәлік күшін жояды",
                previous["date"]["kk"].as_str().unwrap()
            ),
            &format!(
                "Свидетельство № {number} от {} утрачивает силу",
                previous["date"]["ru"].as_str().unwrap()
            ),
        ],
    );
    // Foreign mass media are accounted (есепке алу).
    assert_says(
        &text("foreign-media", "FM-2026-0207"),
        &[
            "шетелдік бұқаралық ақпарат құралын есепке алу туралы",
            "есепке алынды",
            "об учете иностранного средства массовой информации",
        ],
    );
    // The depository's register, in every footer.
    assert_says(
        &text("software", "DP-2026-0003"),
        &[
            "Қазақстан Республикасы бағдарламалық өнімдерінің тізілімі",
            "Реестр программных продуктов Республики Казахстан",
        ],
    );
    // The decision to eliminate nonconformities cites the inspection's act and the
    // commission's protocol.
    let attestats = project.records("attestats");
    let elimination = record_of(&attestats, "AT-2026-0004");
    let case = &elimination["data"]["case"];
    assert_says(
        &text_of(&project, elimination),
        &[
            "Аттестаттық тексеру актісі",
            "Аттестациялық комиссия хаттамасы",
            "Протокол Аттестационной комиссии",
            &format!(
                "№ {}",
                case["inspection"]["act"]["number"].as_str().unwrap()
            ),
            &format!(
                "№ {}",
                case["commission"]["protocol"]["number"].as_str().unwrap()
            ),
        ],
    );
    // The apostille: who certified, in the instrumental in Russian; its number; the duty paid.
    let apostilles = project.records("apostille");
    let apostille = record_of(&apostilles, "AP-2026-0301");
    let number = apostille["number"].as_str().unwrap();
    assert_says(
        &text_of(&project, apostille),
        &[
            "Кім куәландырды: Қазақстан Республикасы Мәдениет және ақпарат министрлігінің Архив \
             ісі және құжаттама комитеті",
            "Кем: Комитетом архивного дела и документации Министерства культуры и информации",
            &format!("№ {number}"),
            &format!("за № {number}"),
            "Мемлекеттік баж: 2 163 ₸ (0,5 АЕК)",
            "Государственная пошлина: 2 163 ₸ (0,5 МРП)",
        ],
    );
}

#[test]
fn letters_carry_the_executor_and_signatures_the_signers_initial_and_surname() {
    let (project, records) = issue_samples("media", "media");
    let letter = text_of(&project, record_of(&records, "MR-2026-0110"));
    assert_says(
        &letter,
        &[
            "Орынд. / Исп.",
            "Бекова А. Н., тел. +7 (7172) 74-03-15",
            "Г. Сейітова",
        ],
    );
    assert!(!letter.contains("Сейітова Гүлнар Маратқызы"), "{letter}");
    // A certificate is signed alike, and names no executor.
    let certificate = text_of(&project, record_of(&records, "MR-2026-0101"));
    assert!(certificate.contains("Е. Асқаров"), "{certificate}");
    assert!(!certificate.contains("Орынд."), "{certificate}");
}

#[test]
fn quotation_marks_nest_and_never_double() {
    let project = Project::new();
    project.write_case(
        "q.xml",
        &cases_file(&[media_case("Q-1", "2026-11-20", "«Алаш» айнасы")]),
    );
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = pdf_text(&project.out().join("media/certificate-000001.pdf"));
    assert_says(&text, &["«„Алаш“ айнасы»"]);
    for doubled in ["««", "»»"] {
        assert!(!text.contains(doubled), "{text}");
    }
}

/// A media registration decided on `decided`, applied for and paid on `applied`, the duty
/// `paid` tenge.
fn media_case_of(id: &str, applied: &str, decided: &str, paid: u32) -> String {
    media_case(id, decided, "Дала")
        .replace(
            r#"<application number="KZ-{id}" date="2026-11-02"/>"#
                .replace("{id}", id)
                .as_str(),
            &format!(r#"<application number="KZ-{id}" date="{applied}"/>"#),
        )
        .replace(
            &format!(r#"<duty amount="21625" date="2026-11-02" receipt="Б-{id}"/>"#),
            &format!(r#"<duty amount="{paid}" date="{applied}" receipt="Б-{id}"/>"#),
        )
}

#[test]
fn a_case_decided_in_2013_and_one_in_2020_show_the_authority_of_their_own_dates() {
    let project = Project::new();
    // 5 MCI: 1 731 ₸ in 2013, 2 778 ₸ from April 2020.
    project.write_case(
        "old.xml",
        &cases_file(&[
            media_case_of("OLD-2013", "2013-05-06", "2013-05-20", 8655),
            media_case_of("OLD-2020", "2020-06-15", "2020-06-24", 13890),
        ]),
    );
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records = project.records("media");
    let y2013 = text_of(&project, record_of(&records, "OLD-2013"));
    let y2020 = text_of(&project, record_of(&records, "OLD-2020"));
    assert_names(
        &y2013,
        &[
            "Қазақстан Республикасы Мәдениет және ақпарат министрлігінің Ақпарат және мұрағат комитеті",
            "Комитет информации и архивов Министерства культуры и информации Республики Казахстан",
        ],
    );
    assert_names(
        &y2020,
        &[
            "Қазақстан Республикасы Ақпарат және қоғамдық даму министрлігінің Ақпарат комитеті",
            "Комитет информации Министерства информации и общественного развития Республики Казахстан",
        ],
    );
    assert_says(&y2013, &["Астана қаласы", "8 655 ₸"]);
    assert_says(
        &y2020,
        &["Нұр-Сұлтан қаласы", "город Нур-Султан", "13 890 ₸"],
    );
    assert!(!y2013.contains("общественного развития"), "{y2013}");
    // Each is counted by the term in force on its application date: none is known for 2013;
    // 2 + 7 working days from Monday 15 June 2020 end on Friday 26 June.
    assert!(record_of(&records, "OLD-2013")["data"]["deadline"].is_null());
    let deadline = &record_of(&records, "OLD-2020")["data"]["deadline"];
    assert_eq!(deadline["due"]["iso"], "2020-06-26");
    assert!(deadline["source"].as_str().unwrap().contains("№ 101"));
    assert_eq!(run.report(&project)["summary"]["overdue"], 0);
}

#[test]
fn the_sample_deposit_is_in_time_under_the_regulations_term() {
    let (project, records, run) = issue_samples_with_run("depository", "software");
    let report = run.report(&project);
    assert_eq!(report["summary"]["overdue"], 0, "{}", run.stderr);
    // 19 working days from Monday 9 November 2026 end on Friday 4 December.
    let reference = record_of(&records, "DP-2026-0005");
    assert_eq!(
        reference["data"]["case"]["application"]["date"]["iso"],
        "2026-11-09"
    );
    assert_eq!(reference["data"]["deadline"]["due"]["iso"], "2026-12-04");
}

#[test]
fn an_apostille_is_paid_for_and_may_be_refused_for_not_paying() {
    let (case, id) = sample_case_containing("apostille", "AP-2026-0301");
    let without = case.replace(&id, "AP-2026-0997").replace(
        r#"<duty amount="2163" date="2026-11-09" receipt="АП-0004"/>"#,
        "",
    );
    let short = case
        .replace(&id, "AP-2026-0998")
        .replace(r#"amount="2163""#, r#"amount="2000""#);
    let unpaid = without
        .replace("AP-2026-0997", "AP-2026-0999")
        .replace(r#"outcome="approved""#, r#"outcome="refused""#)
        .replace(
            "</decision>",
            "</decision><refusal grounds=\"unpaid-duty\"/>",
        );
    let (project, run) = with_extra_case(
        "apostille",
        "duty.xml",
        &format!("<cases>{without}{short}{unpaid}</cases>"),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr(
        "case \"AP-2026-0997\": field duty.amount: is required when decision.outcome is \
         approved: the service charges a state duty of 0,5 MCI",
    );
    // Sums are written with no-break spaces.
    run.expect_stderr(
        "case \"AP-2026-0998\": field duty.amount: 2\u{a0}000\u{a0}₸ paid; the state duty is \
         0,5 MCI × 4\u{a0}325\u{a0}₸ = 2\u{a0}163\u{a0}₸ on 2026-11-09",
    );
    let records = project.records("apostille");
    let refusal = record_of(&records, "AP-2026-0999");
    assert_says(
        &text_of(&project, refusal),
        &[
            "неуплата государственной пошлины за проставление апостиля (Налоговый кодекс \
             Республики Казахстан от 18 июля 2025 года)",
        ],
    );
}

#[test]
fn the_letterhead_shows_the_authoritys_address_telephone_and_e_mail() {
    let project = Project::new();
    // A catalogue whose archives committee gives its telephone and e-mail.
    let catalogue = project.path().join("catalogue");
    copy_dir(&repo().join("catalogue"), &catalogue);
    let path = catalogue.join("authorities.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let from = text.find("from = \"2023-09-01\"\nbasis = \"Указ Президента Республики Казахстан от 1 сентября 2023 года\"\nunverified = \"the decree's number is to be checked\"").unwrap();
    let at = from + text[from..].find("city = ").unwrap();
    let text = format!(
        "{}address = {{ kk = \"Астана қ., Мәңгілік Ел даңғылы, 8\", ru = \"г. Астана, проспект Мангилик Ел, 8\" }}\nphone = \"+7 (7172) 74-00-00\"\nemail = \"archive@example.kz\"\n{}",
        &text[..at],
        &text[at..]
    );
    std::fs::write(&path, text).unwrap();
    copy_dir(&repo().join("cases/sample/apostille"), &project.cases());
    let run = project.batch(&["--catalogue", catalogue.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records = project.records("apostille");
    let letter = text_of(&project, first_of(&records, "refusal"));
    assert_says(
        &letter,
        &[
            "Астана қ., Мәңгілік Ел даңғылы, 8",
            "г. Астана, проспект Мангилик Ел, 8",
            "тел. +7 (7172) 74-00-00, e-mail: archive@example.kz",
        ],
    );
}
