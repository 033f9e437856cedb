//! The other users of a registry: regenerate, verify (files and QR codes), registry check,
//! status over time, CSV extracts.

use qujat::registry::reader::Reader;
use qujat::registry::templates::TemplateStore;
use qujat::registry::{DocumentEntry, canonical};
use qujat::render::{Engine, Profile};

use crate::util::*;

/// A project with the samples issued.
fn issued() -> Project {
    let project = Project::with_samples();
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    project
}

fn document(project: &Project, registry: &str, case: &str) -> DocumentEntry {
    let store = project.store();
    let reader = Reader::open(store.as_ref(), registry).unwrap();
    let found = reader.by_case(case).unwrap();
    found[0].document().clone()
}

#[test]
fn every_document_regenerates_to_its_recorded_sha256_even_after_its_template_changed() {
    let project = issued();
    // One document of every template, in a fresh process each time.
    let mut templates = std::collections::BTreeMap::new();
    let codes = project.store().registries().unwrap();
    for code in codes.into_iter().map(|listed| listed.code) {
        for record in project.records(&code) {
            if record["type"] == "document" {
                templates
                    .entry(record["data"]["document"]["kind"].to_string() + &code)
                    .or_insert((code.clone(), record));
            }
        }
    }
    assert!(templates.len() >= 11, "{}", templates.len());
    // The template is edited after the documents were issued: regeneration still uses the
    // version each record names.
    let lib = project.path().join("templates/lib/qujat.typ");
    let edited = std::fs::read_to_string(&lib)
        .unwrap()
        .replace("М.О. / М.П.", "М.О.");
    std::fs::write(&lib, edited).unwrap();
    for (code, record) in templates.values() {
        let number = record["number"].as_str().unwrap();
        let out = project.path().join("copies");
        let run = project.qujat(&[
            "regenerate",
            "--registry",
            code,
            "--number",
            number,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{code} {number}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("identical"), "{}", run.stdout);
        let file = record["pdf"]["file"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap();
        let copy = std::fs::read(out.join(format!("{code}-{file}"))).unwrap();
        assert_eq!(sha256_hex(&copy), record["pdf"]["sha256"].as_str().unwrap());
    }
    // A new document is issued with the edited template, whose version is kept beside the old.
    project.write_case(
        "later.xml",
        &cases_file(&[media_case("LATER-1", "2026-11-25", "Кейінгі")]),
    );
    assert_eq!(project.batch(&[]).code, 0);
    let old = document(&project, "media", "MR-2026-0101").template;
    let new = document(&project, "media", "LATER-1").template;
    assert_ne!(old, new);
    let registries = project.store();
    let store = TemplateStore::new(registries.as_ref());
    assert!(store.load(&old).is_ok() && store.load(&new).is_ok());
    let run = project.qujat(&["regenerate", "--case", "MR-2026-0101", "--out", "x.pdf"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let text = pdf_text(&project.path().join("x.pdf"));
    assert!(text.contains("М.О. / М.П."), "the old version was used");
}

#[test]
fn regenerate_says_why_when_it_cannot_reproduce_and_never_writes_the_registry() {
    let project = issued();
    let doc = document(&project, "kkm", "KKM-2026-0001");
    let before = std::fs::read(project.journal_path("kkm")).unwrap();
    std::fs::remove_file(
        project
            .registry()
            .join(format!("templates/{}.json", doc.template)),
    )
    .unwrap();
    let run = project.qujat(&["regenerate", "--registry", "kkm", "--number", &doc.number]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("NOT regenerated") && run.stdout.contains("is not kept"),
        "{}",
        run.stdout
    );
    let run = project.qujat(&["regenerate", "--registry", "kkm", "--number", "no-such"]);
    assert_eq!(run.code, 1);
    run.expect_stderr("registry kkm has no document № no-such");
    let run = project.qujat(&["regenerate", "--registry", "nope", "--number", "1"]);
    assert_eq!(run.code, 2);
    run.expect_stderr("there is no registry \"nope\"");
    assert_eq!(std::fs::read(project.journal_path("kkm")).unwrap(), before);
}

#[test]
fn verify_names_the_record_of_an_issued_pdf_and_calls_an_altered_one_unknown() {
    let project = issued();
    let doc = document(&project, "attestats", "AT-2026-0009");
    let path = project.out().join(&doc.pdf.file);
    let run = project.qujat(&["verify", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for part in [
        "GENUINE",
        "registry   attestats",
        &format!("number     {}", doc.number),
        "document   attestat",
        "issued     23.11.2026",
        "status     active",
    ] {
        assert!(run.stdout.contains(part), "{part:?} not in {}", run.stdout);
    }
    // One byte changed.
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    let altered = project.path().join("altered.pdf");
    std::fs::write(&altered, bytes).unwrap();
    let run = project.qujat(&["verify", altered.to_str().unwrap(), path.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("altered.pdf: UNKNOWN"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_qr_code_on_a_document_decodes_to_a_payload_that_verify_accepts() {
    let project = issued();
    let doc = document(&project, "software", "DP-2026-0003");
    // Lay the document out as registered and rasterise its first page at ~290 dpi.
    let engine = Engine::new(&repo().join("fonts")).unwrap();
    let registries = project.store();
    let bundle = TemplateStore::new(registries.as_ref())
        .load(&doc.template)
        .unwrap();
    let template = engine.template(&bundle).unwrap();
    let profile = Profile::named(&doc.engine).unwrap();
    assert_eq!(profile, Profile::CURRENT);
    let qr = profile.qr(&doc.qr).unwrap();
    let laid_out = engine
        .compile(&template, canonical(&doc.data).as_bytes(), &qr)
        .unwrap();
    let options = typst_render::RenderOptions {
        pixel_per_pt: 4.0.into(),
        ..Default::default()
    };
    let pixmap = typst_render::render(&laid_out.pages()[0], &options);
    let (width, data) = (pixmap.width() as usize, pixmap.data());
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, pixmap.height() as usize, |x, y| {
            let px = &data[(y * width + x) * 4..][..4];
            // Premultiplied RGBA over white.
            let luma = (px[0] as u32 * 3 + px[1] as u32 * 6 + px[2] as u32) / 10;
            (luma + 255 - px[3] as u32).min(255) as u8
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, payload) = grids[0].decode().unwrap();
    assert_eq!(payload, doc.qr);
    assert!(payload.starts_with("https://qujat.gov.kz/verify?r=software&n="));
    // The current profile writes the hash in upper case (an alphanumeric segment of the code).
    assert!(payload.ends_with(&format!("&c={}", doc.content.to_ascii_uppercase())));

    let run = project.qujat(&["verify", "--payload", &payload]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(&format!("number     {}", doc.number)));
    // The same number with other content, and a number the registry does not have.
    let forged = payload.replace(&doc.content.to_ascii_uppercase(), &"0".repeat(64));
    let run = project.qujat(&["verify", "--payload", &forged]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("other content"), "{}", run.stdout);
    let run = project.qujat(&["verify", "--payload", "hello"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("not a qujat QR payload"),
        "{}",
        run.stdout
    );
}

/// Runs the samples, replaces the media journal's text with `damage` of it, and returns
/// `registry check`, which must have found the damage.
fn check_after(damage: impl FnOnce(&str) -> String) -> Run {
    let project = issued();
    assert_eq!(project.qujat(&["registry", "check", "--files"]).code, 0);
    let path = project.journal_path("media");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, damage(&text)).unwrap();
    let run = project.qujat(&["registry", "check"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("media: ") && run.stdout.contains("DAMAGED"));
    run
}

/// A damage done to the journal's lines.
fn lines(damage: impl FnOnce(&mut Vec<&str>)) -> impl FnOnce(&str) -> String {
    move |text| {
        let mut lines: Vec<&str> = text.lines().collect();
        damage(&mut lines);
        lines.join("\n") + "\n"
    }
}

#[track_caller]
fn says(run: &Run, part: &str) {
    assert!(
        run.stdout.contains(part),
        "{part:?} not in:\n{}",
        run.stdout
    );
}

#[test]
fn registry_check_names_an_edited_a_deleted_a_moved_and_a_removed_record() {
    let run = check_after(|text| {
        let third = text.lines().nth(2).unwrap();
        text.replace(third, &third.replacen("MR-2026-01", "MR-2026-09", 1))
    });
    says(
        &run,
        "line 3 (record 3): its content does not match its hash",
    );
    let run = check_after(lines(|lines| {
        lines.remove(5);
    }));
    says(&run, "line 6: record 7 stands where record 6 should");
    let run = check_after(lines(|lines| lines.swap(8, 9)));
    says(&run, "line 9: record 10 stands where record 9 should");
    // The last two records cut off at a line end: the chain alone is sound, the head is not.
    let run = check_after(lines(|lines| lines.truncate(lines.len() - 2)));
    says(&run, "records 24–25 were removed");
    // The last record cut off in the middle.
    let run = check_after(|text| text[..text.len() - 300].to_string());
    says(&run, "line 25 (record 25) is incomplete");
}

#[test]
fn registry_check_finds_a_pdf_that_does_not_match_its_record() {
    let project = issued();
    let doc = document(&project, "archive", "AR-2026-0208");
    std::fs::write(project.out().join(&doc.pdf.file), b"%PDF-1.7 replaced").unwrap();
    let run = project.qujat(&["registry", "check"]);
    assert_eq!(run.code, 0, "without --files, PDFs are not read");
    let run = project.qujat(&["registry", "check", "--files"]);
    assert_eq!(run.code, 1);
    says(&run, &format!("({} № {})", doc.document, doc.number));
    says(&run, "does not match the record's SHA-256");
}

#[test]
fn a_re_registration_supersedes_the_earlier_certificate_in_verify_and_export() {
    let project = issued();
    let earlier = document(&project, "media", "MR-2026-0101");
    let later = document(&project, "media", "MR-2026-0124");
    let path = project.out().join(&earlier.pdf.file);
    let run = project.qujat(&["verify", path.to_str().unwrap()]);
    assert_eq!(run.code, 3, "genuine, not in force: {}", run.stdout);
    says(&run, "GENUINE, but NOT IN FORCE");
    says(
        &run,
        &format!("status     superseded on 24.11.2026 by № {}", later.number),
    );
    let run = project.qujat(&["export", "--registry", "media"]);
    assert_eq!(run.code, 0);
    let row = run
        .stdout
        .lines()
        .find(|l| l.contains("MR-2026-0101"))
        .unwrap();
    assert!(
        row.contains("ауыстырылды / заменено,24.11.2026,іс / дело MR-2026-0124"),
        "{row}"
    );
    let run = project.qujat(&["export", "--registry", "media", "--status", "superseded"]);
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
    // The record of the earlier certificate was not touched: the change is an appended event.
    let records = project.journal("media");
    assert_eq!(records[0]["case_id"], "MR-2026-0101");
    let event = records.iter().find(|r| r["type"] == "status").unwrap();
    assert_eq!(event["target"], 1);
    assert_eq!(event["by"], later.number.as_str());
    // A second re-registration of the superseded certificate is refused, naming the field.
    let second = std::fs::read_to_string(project.cases().join("media/MR-2026-0124.xml"))
        .unwrap()
        .replace("MR-2026-0124", "MR-2026-0125");
    project.write_case("media/MR-2026-0125.xml", &second);
    let run = project.batch(&[]);
    assert_eq!(run.code, 1);
    run.expect_stderr("case \"MR-2026-0125\"");
    run.expect_stderr("previous.number");
    run.expect_stderr("is superseded: it cannot be replaced");
}

#[test]
fn suspension_reinstatement_and_revocation_are_appended_events() {
    let project = issued();
    let doc = document(&project, "attestats", "AT-2026-0009");
    let set = |status: &str, date: &str| {
        project.qujat(&[
            "registry",
            "set-status",
            "--registry",
            "attestats",
            "--number",
            &doc.number,
            "--status",
            status,
            "--date",
            date,
            "--reason",
            "Приказ № 17",
        ])
    };
    let path = project.out().join(&doc.pdf.file);
    let verify = || project.qujat(&["verify", path.to_str().unwrap()]);
    assert_eq!(set("suspended", "2026-11-25").code, 0);
    says(
        &verify(),
        "status     suspended on 25.11.2026 (Приказ № 17)",
    );
    assert_eq!(set("active", "26.11.2026").code, 0);
    assert_eq!(verify().code, 0);
    assert_eq!(set("revoked", "2026-11-27").code, 0);
    says(&verify(), "status     revoked on 27.11.2026");
    // Revocation is final.
    let run = set("active", "2026-11-28");
    assert_eq!(run.code, 1);
    run.expect_stderr("is revoked; it cannot become active");
    // A refusal letter has no status to change.
    let refusal = project
        .records("media")
        .into_iter()
        .find(|r| r["document"] == "refusal")
        .unwrap();
    let run = project.qujat(&[
        "registry",
        "set-status",
        "--registry",
        "media",
        "--number",
        refusal["number"].as_str().unwrap(),
        "--status",
        "revoked",
        "--date",
        "2026-11-25",
        "--reason",
        "x",
    ]);
    assert_eq!(run.code, 1);
    run.expect_stderr("is a refusal letter");
    let run = project.qujat(&["export", "--registry", "attestats", "--status", "revoked"]);
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("кері қайтарып алынды / отозвано,27.11.2026,Приказ № 17")
    );
    let run = project.qujat(&["registry", "check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    says(
        &run,
        "attestats: 15 records: 12 documents (11 active, 1 revoked), 3 status events",
    );
}

/// Reads a CSV file as a spreadsheet in a Russian or Kazakh locale opens it by double-click:
/// UTF-8 only when it starts with a byte order mark, Windows-1251 otherwise; the list separator
/// `;` between fields.
fn open_as_spreadsheet(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = match bytes.strip_prefix("\u{feff}".as_bytes()) {
        Some(utf8) => String::from_utf8(utf8.to_vec()).unwrap(),
        None => bytes
            .iter()
            .map(|&b| if b < 0x80 { b as char } else { cp1251(b) })
            .collect(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The Windows-1251 letters (enough to show what a file without a BOM turns into).
fn cp1251(b: u8) -> char {
    match b {
        0xC0..=0xFF => char::from_u32(0x410 + (b - 0xC0) as u32).unwrap(),
        _ => '?',
    }
}

#[test]
fn an_excel_extract_opens_with_its_cyrillic_intact_and_filters_by_date() {
    let project = issued();
    let run = project.qujat(&[
        "export",
        "--registry",
        "media",
        "--excel",
        "--from",
        "17.11.2026",
        "--to",
        "2026-11-20",
        "--out",
        "media.csv",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bytes = std::fs::read(project.path().join("media.csv")).unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()));
    assert!(String::from_utf8_lossy(&bytes).contains("\r\n"));
    let rows = open_as_spreadsheet(&bytes);
    assert_eq!(rows[0][2], "Нөмірі / Номер");
    assert_eq!(rows[0].len(), 13);
    let issued: Vec<&str> = rows[1..].iter().map(|r| r[8].as_str()).collect();
    assert!(!issued.is_empty());
    assert!(
        issued
            .iter()
            .all(|d| ["17", "18", "19", "20"].contains(&&d[..2]) && d.ends_with(".11.2026")),
        "{issued:?}"
    );
    let li = rows.iter().find(|r| r[5] == "MR-2026-0103").unwrap();
    assert_eq!(li[6], "Ли Виктор Сергеевич");
    assert_eq!(li[7], "=\"780512344105\"", "an IIN stays text");
    assert_eq!(li[9], "қолданыста / действует");
    // Without --excel: plain UTF-8 CSV, which the same spreadsheet would garble.
    let run = project.qujat(&["export", "--registry", "media"]);
    let garbled = open_as_spreadsheet(run.stdout.as_bytes());
    assert!(!garbled[0].concat().contains("Номер"));
    let rows: Vec<_> = run.stdout.lines().collect();
    assert_eq!(rows.len(), 1 + 24);
    assert!(rows[0].starts_with("Тізілім / Реестр,Жазба / Запись,"));
}
