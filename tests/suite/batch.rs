//! The nightly batch as a scheduler runs it: samples, re-runs, rejections, numbering, exit codes.

use crate::util::*;

#[test]
fn the_samples_issue_one_pdf_per_case_with_both_languages_intact() {
    let project = Project::with_samples();
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report(&project);
    let summary = &report["summary"];
    // 24 media cases and 12 for each of the seven other services.
    assert_eq!(summary["cases"], 108);
    assert_eq!(summary["issued"], 82);
    assert_eq!(summary["refused"], 26);
    assert_eq!(summary["rejected"], 0);
    run.expect_stderr("issued                  82");
    // Ten samples were decided after the statutory term in force on their application date
    // (five media registrations under the 2020 rules' 2 + 7 working days); they are issued,
    // and listed.
    assert_eq!(summary["overdue"], 10);
    let overdue = report["overdue"].as_array().unwrap();
    let late = overdue
        .iter()
        .find(|o| o["case_id"] == "AT-2026-0009")
        .unwrap();
    assert_eq!(late["applied"], "2026-10-20");
    // Attestation: 30 calendar days.
    assert_eq!(late["due"], "2026-11-19");
    assert_eq!(late["decided"], "2026-11-23");
    assert_eq!(late["days_late"], 4);
    run.expect_stderr("case AT-2026-0009 (attestation) applied 2026-10-20, due 2026-11-19, decided 2026-11-23 (4 days late)");

    let pdfs: Vec<_> = walkdir::WalkDir::new(project.out())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "pdf"))
        .collect();
    assert_eq!(pdfs.len(), 108);

    // MR-2026-0118 is a re-registration of a Uyghur, Kazakh and Russian newspaper.
    let document = report["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["case_id"] == "MR-2026-0118")
        .unwrap();
    assert_eq!(document["number"], "00015-Г");
    let text = pdf_text(&project.out().join(document["file"].as_str().unwrap()));
    for expected in [
        "КУӘЛІК",
        "СВИДЕТЕЛЬСТВО",
        "№ 00015-Г",
        // The date standing alone, in the Kazakh form that stands alone.
        "2026 жылғы 24 қараша 24 ноября 2026 года",
        "24 ноября 2026 года",
        "«Uyghur Awazi»",
        "ұйғыр тілі, қазақ тілі, орыс тілі",
        "уйгурский язык, казахский язык, русский язык",
        "қайта есепке қойылды",
        "прошло переучет",
        "«Ұйғыр авази» жауапкершілігі шектеулі серіктестігі, БСН 981140051518",
        "2003 жылғы 15 қаңтардағы № 3781-Г",
        "№ 3781-Г от 15 января 2003 года",
        "ҚАЗАҚСТАН РЕСПУБЛИКАСЫ МӘДЕНИЕТ ЖӘНЕ АҚПАРАТ МИНИСТРЛІГІНІҢ АҚПАРАТ КОМИТЕТІ",
        "Председатель Комитета информации",
        // The signer as signatures show him: initial and surname.
        "Е. Асқаров",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(
        text.find("КУӘЛІК").unwrap() < text.find("СВИДЕТЕЛЬСТВО").unwrap(),
        "Kazakh comes first"
    );
}

#[test]
fn a_refusal_letter_carries_its_reasons_and_outgoing_number() {
    let project = Project::with_samples();
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report(&project);
    let refusal = report["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["case_id"] == "MR-2026-0121")
        .unwrap();
    assert_eq!(refusal["document"], "refusal");
    assert_eq!(refusal["number"], "ШХ-2026/00005");
    let text = pdf_text(&project.out().join(refusal["file"].as_str().unwrap()));
    for expected in [
        // The regulations' term for a refusal, and the outgoing number with its date.
        "МЕМЛЕКЕТТІК КӨРСЕТІЛЕТІН ҚЫЗМЕТТІ КӨРСЕТУДЕН БАС ТАРТУ ТУРАЛЫ ДӘЛЕЛДІ ЖАУАП",
        "МОТИВИРОВАННЫЙ ОТВЕТ ОБ ОТКАЗЕ В ОКАЗАНИИ ГОСУДАРСТВЕННОЙ УСЛУГИ",
        "2026 жылғы 24 қарашадағы № ШХ-2026/00005",
        "№ ШХ-2026/00005 от 24 ноября 2026 года",
        "24 ноября 2026 года",
        "Сіздің 2026 жылғы 16 қарашадағы № KZ07N0104652 өтінішіңізді",
        "Рассмотрев Ваше заявление № KZ07N0104652 от 16 ноября 2026 года",
        "Бас редактор ретінде заңда белгіленген талаптарға сәйкес келмейтін тұлға көрсетілген.",
        "Не представлены копии учредительных документов заявителя.",
        "Председатель Комитета информации",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn a_second_run_registers_nothing_new_and_exits_zero() {
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    let journal = std::fs::read(project.journal_path("media")).unwrap();
    let pdf = std::fs::read(project.out().join("media/certificate-000001.pdf")).unwrap();

    let again = project.batch(&[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let report = again.report(&project);
    assert_eq!(report["summary"]["already_registered"], 108);
    assert_eq!(report["summary"]["issued"], 0);
    assert_eq!(report["documents"].as_array().unwrap().len(), 0);
    assert_eq!(
        std::fs::read(project.journal_path("media")).unwrap(),
        journal
    );
    assert_eq!(
        std::fs::read(project.out().join("media/certificate-000001.pdf")).unwrap(),
        pdf
    );
}

#[test]
fn a_rejected_case_is_located_and_the_rest_are_issued() {
    let project = Project::new();
    let bad = media_case("BAD-1", "2026-11-20", "Жаман").replace("100440000004", "100440000005");
    let cases = [
        media_case("GOOD-1", "2026-11-20", "Бірінші"),
        bad,
        media_case("GOOD-2", "2026-11-20", "Екінші"),
    ];
    project.write_case("day.xml", &cases_file(&cases));
    project.write_case("broken.xml", "<cases><case id=\"X\">");
    let run = project.batch(&[]);
    assert_eq!(
        run.code, 1,
        "rejections change the exit code: {}",
        run.stderr
    );
    let report = run.report(&project);
    assert_eq!(report["summary"]["issued"], 2);
    assert_eq!(report["summary"]["rejected"], 2);
    assert_eq!(report["exit_code"], 1);
    let rejected = report["rejected"].as_array().unwrap();
    let bin = rejected.iter().find(|r| r["case_id"] == "BAD-1").unwrap();
    let problem = &bin["problems"][0];
    assert_eq!(problem["field"], "applicant.bin");
    assert_eq!(problem["origin"]["file"], "cases/day.xml");
    assert_eq!(problem["origin"]["pos"]["line"], 32);
    run.expect_stderr("cases/day.xml, line 32: case \"BAD-1\": field applicant.bin: BIN \"100440000005\" check digit is 5, expected 4");
    assert!(
        rejected
            .iter()
            .any(|r| r["origin"]["file"] == "cases/broken.xml")
    );
    assert_eq!(project.records("media").len(), 2);
}

#[test]
fn numbers_follow_decision_date_then_case_id_and_continue_without_gaps() {
    let project = Project::new();
    // Files are read in name order, but numbering must not depend on it.
    project.write_case(
        "a.xml",
        &cases_file(&[
            media_case("C-3", "2026-11-19", "Үш"),
            media_case("C-9", "2026-11-18", "Тоғыз"),
        ]),
    );
    project.write_case(
        "b/b.xml",
        &cases_file(&[
            media_case("C-1", "2026-11-19", "Бір"),
            media_case("C-5", "2026-11-17", "Бес"),
        ]),
    );
    assert_eq!(project.batch(&[]).code, 0);
    let numbers = |project: &Project| -> Vec<(String, String)> {
        project
            .records("media")
            .iter()
            .map(|r| {
                (
                    r["case_id"].as_str().unwrap().to_string(),
                    r["number"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let first = numbers(&project);
    assert_eq!(
        first,
        [
            ("C-5", "00001-Г"),
            ("C-9", "00002-Г"),
            ("C-1", "00003-Г"),
            ("C-3", "00004-Г")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );

    // The same inputs in another registry give the same numbers.
    let twin = Project::new();
    twin.write_case(
        "z.xml",
        &cases_file(&[
            media_case("C-1", "2026-11-19", "Бір"),
            media_case("C-3", "2026-11-19", "Үш"),
            media_case("C-5", "2026-11-17", "Бес"),
            media_case("C-9", "2026-11-18", "Тоғыз"),
        ]),
    );
    assert_eq!(twin.batch(&[]).code, 0);
    assert_eq!(numbers(&twin), first);

    // A later batch continues where the registry ends, even for an earlier decision date.
    project.write_case(
        "c.xml",
        &cases_file(&[media_case("C-0", "2026-11-03", "Нөл")]),
    );
    assert_eq!(project.batch(&[]).code, 0);
    let records = project.records("media");
    assert_eq!(records.len(), 5);
    assert_eq!(records[4]["case_id"], "C-0");
    assert_eq!(records[4]["number"], "00005-Г");
    let ns: Vec<u64> = records.iter().map(|r| r["n"].as_u64().unwrap()).collect();
    assert_eq!(ns, [1, 2, 3, 4, 5]);
}

#[test]
fn a_registered_case_sent_again_with_other_data_is_refused() {
    let project = Project::new();
    project.write_case(
        "a.xml",
        &cases_file(&[media_case("C-1", "2026-11-19", "Бір")]),
    );
    assert_eq!(project.batch(&[]).code, 0);
    project.write_case(
        "a.xml",
        &cases_file(&[media_case("C-1", "2026-11-19", "Басқа атау")]),
    );
    let run = project.batch(&[]);
    assert_eq!(run.code, 1);
    run.expect_stderr("№ 00001-Г was issued for this case on 2026-11-19 from different data");
    assert_eq!(project.records("media").len(), 1);
}

#[test]
fn the_same_case_twice_in_a_batch_is_refused_in_both_places() {
    let project = Project::new();
    project.write_case(
        "a.xml",
        &cases_file(&[media_case("C-1", "2026-11-19", "Бір")]),
    );
    project.write_case(
        "b.xml",
        &cases_file(&[media_case("C-1", "2026-11-19", "Бір")]),
    );
    let run = project.batch(&[]);
    assert_eq!(run.code, 1);
    let report = run.report(&project);
    assert_eq!(report["summary"]["rejected"], 2);
    run.expect_stderr("also given at cases/b.xml, line 3");
    assert!(project.records("media").is_empty());
}

#[test]
fn fatal_errors_exit_two_and_print_their_chain() {
    let project = Project::new();
    let run = project.batch(&["--cases", "no-such-folder"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: the cases folder no-such-folder does not exist"),
        "{}",
        run.stderr
    );

    std::fs::write(
        project.path().join("qujat.toml"),
        "[paths]\ncases = \"cases\"\ncatalogue = \"nowhere\"\n",
    )
    .unwrap();
    project.write_case(
        "a.xml",
        &cases_file(&[media_case("C-1", "2026-11-19", "Бір")]),
    );
    let run = project.batch(&[]);
    assert_eq!(run.code, 2);
    run.expect_stderr("error: cannot read catalogue file nowhere/common.toml");
    run.expect_stderr("caused by: No such file or directory");
}

#[test]
fn services_are_listed() {
    let project = Project::new();
    let run = project.qujat(&["services"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("media-registration"));
    assert!(run.stdout.contains("certificate → Куәлік / Свидетельство"));
}
