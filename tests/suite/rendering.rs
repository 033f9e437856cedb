//! Rendering: deterministic bytes, data that never becomes markup, templates that preview with
//! their sample data, and a document that cannot be rendered losing nothing but itself.

use crate::util::*;

#[test]
fn the_same_case_in_two_processes_gives_the_same_bytes_as_registered() {
    let one = Project::new();
    let two = Project::new();
    for project in [&one, &two] {
        project.write_case(
            "a.xml",
            &cases_file(&[media_case("D-1", "2026-11-20", "Дала")]),
        );
        assert_eq!(project.batch(&["--jobs", "1"]).code, 0);
    }
    let pdf_one = std::fs::read(one.out().join("media/certificate-000001.pdf")).unwrap();
    let pdf_two = std::fs::read(two.out().join("media/certificate-000001.pdf")).unwrap();
    assert_eq!(sha256_hex(&pdf_one), sha256_hex(&pdf_two));
    assert_eq!(
        sha256_hex(&pdf_one),
        one.records("media")[0]["pdf"]["sha256"].as_str().unwrap()
    );
    // Nothing in the PDF comes from the clock: its dates are the issue date.
    let text = String::from_utf8_lossy(&pdf_one);
    assert!(
        text.contains("D:20261120000000"),
        "creation date from the record"
    );
    assert!(
        !text.contains("D:2026112500") && !text.contains("Typst 0."),
        "no run date or engine version"
    );
}

#[test]
fn markup_in_every_text_field_prints_literally() {
    let markup = r##"#panic("x") ] [ \ $ * @ <a> _ `raw` = #set text(red) // /* "##;
    let escaped = quick_xml::escape::escape(markup).into_owned();
    let case = media_case("M-1", "2026-11-20", &escaped)
        .replace("«Алаш Медиа» ЖШС", &escaped)
        .replace("ТОО «Алаш Медиа»", &escaped)
        .replace("аптасына бір рет", &escaped)
        .replace("один раз в неделю", &escaped)
        .replace("Нұрланова Әйгерім Серікқызы", &escaped)
        .replace("Асқаров Ерлан Болатұлы", &escaped);
    let project = Project::new();
    project.write_case("m.xml", &cases_file(&[case]));
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = pdf_text(&project.out().join("media/certificate-000001.pdf"));
    let literal = markup.split_whitespace().collect::<Vec<_>>().join(" ");
    // Title, owner (twice), periodicity (twice), editor (twice) and signer.
    assert!(text.matches(&literal).count() >= 8, "{text}");
}

#[test]
fn template_samples_are_what_the_pipeline_gives_templates() {
    // The typst CLI previews a template with the sample JSON beside it; keep those samples
    // equal to real data. `SNAPSHOTS=overwrite make test` rewrites them.
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    let samples = [
        (
            "media",
            "MR-2026-0118",
            "templates/media/certificate.sample.json",
        ),
        (
            "media",
            "MR-2026-0121",
            "templates/common/refusal.sample.json",
        ),
        (
            "foreign-media",
            "FM-2026-0201",
            "templates/foreign-media/reference.sample.json",
        ),
        (
            "e-register",
            "ER-2026-0301",
            "templates/e-register/certificate.sample.json",
        ),
        (
            "software",
            "DP-2026-0003",
            "templates/depository/reference.sample.json",
        ),
        (
            "kkm",
            "KKM-2026-0001",
            "templates/kkm/conclusion.sample.json",
        ),
        ("kkm", "KKM-2026-0003", "templates/kkm/refusal.sample.json"),
        (
            "attestats",
            "AT-2026-0009",
            "templates/attestation/attestat.sample.json",
        ),
        (
            "attestats",
            "AT-2026-0004",
            "templates/attestation/elimination.sample.json",
        ),
        (
            "archive",
            "AR-2026-0208",
            "templates/archive/reference.sample.json",
        ),
        (
            "apostille",
            "AP-2026-0301",
            "templates/apostille/apostille.sample.json",
        ),
    ];
    // Every template but the shared library has its sample.
    for entry in walkdir::WalkDir::new(repo().join("templates")) {
        let path = entry.unwrap().into_path();
        let relative = path
            .strip_prefix(repo())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if relative.ends_with(".typ") && !relative.starts_with("templates/lib/") {
            let sample = relative.replace(".typ", ".sample.json");
            assert!(
                samples.iter().any(|(_, _, s)| *s == sample),
                "{relative} has no sample in this test"
            );
        }
    }
    for (registry, case, sample) in samples {
        let records = project.records(registry);
        let record = records
            .iter()
            .find(|r| r["case_id"] == case)
            .unwrap_or_else(|| panic!("no record of {case} in {registry}"));
        let data = serde_json::to_string_pretty(&record["data"]).unwrap() + "\n";
        let path = repo().join(sample);
        if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
            std::fs::write(&path, &data).unwrap();
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            kept == data,
            "{sample} is out of date: run SNAPSHOTS=overwrite make test"
        );
    }
    // The QR code previews show: the media certificate's.
    let records = project.records("media");
    let certificate = records
        .iter()
        .find(|r| r["case_id"] == "MR-2026-0118")
        .unwrap();
    let png = qujat::qr::png(certificate["qr"].as_str().unwrap()).unwrap();
    let path = repo().join("templates/qr.sample.png");
    if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
        std::fs::write(&path, &png).unwrap();
    }
    assert!(
        std::fs::read(&path).unwrap_or_default() == png,
        "templates/qr.sample.png is out of date: run SNAPSHOTS=overwrite make test"
    );
}

#[test]
fn a_document_that_cannot_be_rendered_is_rejected_and_later_numbers_close_the_gap() {
    let project = Project::new();
    // A template that fails for one title only, as a template bug would.
    let path = project.path().join("templates/media/certificate.typ");
    let template = std::fs::read_to_string(&path).unwrap();
    let failing = template.replace(
        "#show: paper.with(data)",
        "#if case.title == \"Сынақ\" { panic(\"broken for this one\") }\n#show: paper.with(data)",
    );
    assert_ne!(failing, template);
    std::fs::write(&path, failing).unwrap();
    project.write_case(
        "a.xml",
        &cases_file(&[
            media_case("R-1", "2026-11-18", "Бірінші"),
            media_case("R-2", "2026-11-19", "Сынақ"),
            media_case("R-3", "2026-11-20", "Үшінші"),
            media_case("R-4", "2026-11-21", "Төртінші"),
        ]),
    );
    let run = project.batch(&["--jobs", "2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.expect_stderr(
        "case \"R-2\": field document certificate: cannot be rendered: media/certificate.typ:",
    );
    run.expect_stderr("broken for this one");
    let records = project.records("media");
    let issued: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["case_id"].as_str().unwrap(),
                r["number"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        issued,
        [("R-1", "00001-Г"), ("R-3", "00002-Г"), ("R-4", "00003-Г")]
    );
    // The moved documents show their final numbers.
    assert!(pdf_text(&project.out().join("media/certificate-000002.pdf")).contains("№ 00002-Г"));
    assert!(!project.out().join("media/certificate-000004.pdf").exists());
    verify_independently(&project.journal_path("media"));
}

#[test]
fn a_long_refusal_flows_across_pages_with_every_reason_and_the_signature_at_the_end() {
    let project = Project::new();
    let reasons: String = (1..=12)
        .map(|i| {
            let kk = format!("{i}-негіз. ")
                + &"Ұсынылған құжаттарда сәйкессіздік анықталды. ".repeat(12);
            let ru = format!("Основание {i}. ")
                + &"В представленных документах выявлено несоответствие. ".repeat(12);
            format!("<reason><kk>{kk}</kk><ru>{ru}</ru></reason>")
        })
        .collect();
    let case = media_case("LONG-1", "2026-11-20", "Ұзақ").replace(
        "<decision outcome=\"approved\" date=\"2026-11-20\">",
        &format!("<decision outcome=\"refused\" date=\"2026-11-20\"><reasons>{reasons}</reasons>"),
    );
    project.write_case("long.xml", &case);
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = pdf_text(&project.out().join("media/outgoing-000001.pdf"));
    // The footer counts pages; the last reason and the signature are on the last page.
    let pages = (2..=9)
        .rev()
        .find(|n| text.contains(&format!("{n} / {n}")))
        .expect("several pages");
    assert!(pages >= 3, "{pages} pages");
    assert!(text.contains("Основание 12."), "{text}");
    let last_page = text.find(&format!("{} / {pages}", pages - 1)).unwrap();
    assert!(text[last_page..].contains("Асқаров Ерлан Болатұлы"));
}
