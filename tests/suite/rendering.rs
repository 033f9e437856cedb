//! Rendering: deterministic bytes, data that never becomes markup, templates that preview with
//! their sample data, a document that cannot be rendered losing nothing but itself, a QR code
//! that a 200-dpi scan decodes, and layouts that hold with the longest inputs.

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
    let png = qujat::render::Profile::CURRENT
        .qr(certificate["qr"].as_str().unwrap())
        .unwrap()
        .bytes;
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
    // The signer as a signature shows him: initial and surname.
    assert!(
        text[last_page..].contains("Е. Асқаров"),
        "{}",
        &text[last_page..]
    );
}

/// The first document of each (service, document kind) of a project's registries.
fn one_of_each_kind(project: &Project) -> Vec<serde_json::Value> {
    let mut seen = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(project.registry()).unwrap() {
        let path = entry.unwrap().path();
        if !path.join("journal.jsonl").is_file() {
            continue;
        }
        for record in project.records(path.file_name().unwrap().to_str().unwrap()) {
            let key = (
                record["service"].as_str().unwrap().to_string(),
                record["document"].as_str().unwrap().to_string(),
            );
            seen.entry(key).or_insert(record);
        }
    }
    seen.into_values().collect()
}

#[test]
fn zbar_decodes_the_qr_code_of_every_document_kind_from_a_200_dpi_scan_of_its_first_page() {
    // An office scanner or a fax gives 200 dpi: the whole first page at that resolution, as
    // pdftoppm renders it (anti-aliased), must give zbar the registered payload.
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    let records = one_of_each_kind(&project);
    assert_eq!(records.len(), 17, "every document kind of the samples");
    let scans = tempfile::tempdir().unwrap();
    for record in records {
        let file = record["pdf"]["file"].as_str().unwrap();
        assert_eq!(record["engine"], qujat::render::Profile::CURRENT.name());
        let prefix = scans.path().join(file.replace('/', "_"));
        let prefix = prefix.to_str().unwrap();
        let pdf = project.out().join(file);
        run_tool(
            "pdftoppm",
            &[
                "-r",
                "200",
                "-f",
                "1",
                "-l",
                "1",
                "-png",
                pdf.to_str().unwrap(),
                prefix,
            ],
        );
        let png = format!("{prefix}-1.png");
        let read = run_tool(
            "zbarimg",
            &["--raw", "-q", "-Sdisable", "-Sqrcode.enable", &png],
        );
        assert_eq!(read.trim_end(), record["qr"].as_str().unwrap(), "{file}");
    }
}

/// Words of a record's document that its last page may show besides its body: the footer (the
/// registry's name, the QR caption, the number and the page count) and the signature block (the
/// position, the signer, the caption of the line, the seal's place, the executor).
fn furniture(record: &serde_json::Value) -> std::collections::BTreeSet<String> {
    let data = &record["data"];
    let official = &data["case"]["decision"]["official"];
    let executor = &data["case"]["decision"]["executor"];
    let name: Vec<&str> = official["name"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect();
    let mut texts = vec![
        data["registry"]["name"]["kk"].as_str().unwrap().to_string(),
        data["registry"]["name"]["ru"].as_str().unwrap().to_string(),
        official["position"]["kk"].as_str().unwrap().to_string(),
        official["position"]["ru"].as_str().unwrap().to_string(),
        format!("{}. {}", name[1].chars().next().unwrap(), name[0]),
        official["name"].as_str().unwrap().to_string(),
        "Түпнұсқалығын QR-код арқылы тексеруге болады / Подлинность проверяется по QR-коду".into(),
        "№ қолы / подпись М.О. / М.П. Орынд. / Исп.: тел.".into(),
        record["number"].as_str().unwrap().to_string(),
    ];
    if let Some(who) = executor["name"].as_str() {
        texts.push(who.to_string());
    }
    let mut words = std::collections::BTreeSet::new();
    for text in texts {
        for word in text.split_whitespace() {
            words.insert(word.to_string());
            // A long name wraps at its hyphens.
            words.extend(word.split_inclusive('-').map(str::to_string));
        }
    }
    words
}

/// Whether a token is a word (has a letter) that the furniture does not hold.
fn is_body_word(token: &str, furniture: &std::collections::BTreeSet<String>) -> bool {
    token.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && !furniture.contains(token)
        && !token.starts_with(|c: char| c.is_ascii_digit())
}

#[test]
fn long_inputs_of_every_kind_keep_a_signature_with_the_body_rows_whole_and_text_in_its_frame() {
    // tests/corpus/long: every document kind with its fields at the catalogue's limits (or
    // longer than any real case): long names, positions, reasons, objects, nonconformities.
    let project = Project::new();
    copy_dir(&repo().join("tests/corpus/long"), &project.cases());
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records = one_of_each_kind(&project);
    assert_eq!(records.len(), 17, "every document kind of the long corpus");
    // The page's text area: 30 mm from the left, 15 mm from the right of A4 (595.28 pt); a
    // line's last punctuation may hang 3 pt into the margin.
    let mm = 72.0 / 25.4;
    let (left, right) = (30.0 * mm - 0.5, 595.28 - 15.0 * mm + 3.0);
    for record in &records {
        let file = record["pdf"]["file"].as_str().unwrap();
        let pdf = project.out().join(file);
        let pages = pdf_pages(&pdf);
        let furniture = furniture(record);
        // The last page holds more than the signature block and the footer.
        let last = pages.last().unwrap();
        let body: Vec<&str> = last
            .lines()
            .filter(|line| line.split_whitespace().any(|w| is_body_word(w, &furniture)))
            .collect();
        assert!(
            !body.is_empty(),
            "{file}: the last of {} pages holds only the signature block:\n{last}",
            pages.len()
        );
        // No word runs out of the text area, on any page.
        for word in pdf_words(&pdf) {
            assert!(
                word.x0 >= left && word.x1 <= right,
                "{file}, page {}: {:?} runs from {:.1} to {:.1} pt, out of {left:.1}..{right:.1}",
                word.page,
                word.text,
                word.x0,
                word.x1
            );
        }
        if record["document"] == "apostille" {
            assert_eq!(pages.len(), 1, "{file}: an apostille is one page");
        } else {
            assert!(pages.len() >= 2, "{file}: the long input should need pages");
        }
    }
    // The depository's table of twenty objects breaks between rows, its header on every page
    // it runs onto, and each object's deposit number on the page of its name.
    let reference = records
        .iter()
        .find(|r| r["service"] == "depository" && r["document"] == "reference")
        .unwrap();
    let pages = pdf_pages(
        &project
            .out()
            .join(reference["pdf"]["file"].as_str().unwrap()),
    );
    let items = reference["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    let mut table_pages = std::collections::BTreeSet::new();
    for item in items {
        let number = item["number"].as_str().unwrap();
        let page = pages
            .iter()
            .position(|p| p.contains(number))
            .unwrap_or_else(|| panic!("{number} is on no page"));
        table_pages.insert(page);
        let after = &pages[page][pages[page].find(number).unwrap()..];
        assert!(
            after.contains("Қазақстан Республикасының цифрлық"),
            "{number}: its name is not on its page"
        );
    }
    assert!(table_pages.len() >= 3, "{table_pages:?}");
    for page in table_pages {
        assert!(
            pages[page].contains("Вид, наименование, контрольная сумма объекта"),
            "page {} of the table lacks its header",
            page + 1
        );
    }
}
