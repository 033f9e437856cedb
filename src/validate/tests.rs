//! Validation rules, against the shipped catalogue.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use serde_json::json;

use super::*;
use crate::case::read_bytes;

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    Catalogue::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue")).unwrap()
});

const BASE: &str = r#"<case id="T-1" service="media-registration">
  <application number="KZ1" date="2026-11-02"/>
  <duty amount="21625" date="2026-11-02" receipt="104410-Б"/>
  <applicant kind="legal" bin="100440000004">
    <name lang="kk">«Алаш» ЖШС</name>
    <name lang="ru">ТОО «Алаш»</name>
    <address>Астана</address>
  </applicant>
  <decision outcome="approved" date="2026-11-20">
    <official position="chairman" name="Асқаров Е. Б."/>
  </decision>
  <application_type>registration</application_type>
  <publication_kind>newspaper</publication_kind>
  <title>Жас Алаш</title>
  <languages>kk ru</languages>
  <periodicity lang="kk">аптасына бір рет</periodicity>
  <periodicity lang="ru">один раз в неделю</periodicity>
  <territory><kk>Қазақстан Республикасы</kk><ru>Республика Казахстан</ru></territory>
  <subject>қоғамдық-саяси</subject>
  <chief_editor>Нұрланова Ә. С.</chief_editor>
  <editorial_address>Астана</editorial_address>
</case>"#;

/// Fonts that print everything but Han ideographs (and draw spaces as nothing).
fn glyphs_but_han(c: char) -> Glyph {
    if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
        Glyph::Missing
    } else if c.is_whitespace() {
        Glyph::Blank
    } else {
        Glyph::Drawn
    }
}

fn check_format(format: &str, text: &str) -> Result<ValidCase, Vec<Problem>> {
    let file: Arc<Path> = Arc::from(Path::new("t.xml"));
    let (cases, problems) = read_bytes(&file, format, text.as_bytes());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(cases.len(), 1);
    let validator = Validator {
        catalogue: &CATALOGUE,
        today: "2026-11-25".parse().unwrap(),
        glyphs: &glyphs_but_han,
    };
    validator.validate(&cases[0])
}

fn check(xml: &str) -> Result<ValidCase, Vec<Problem>> {
    check_format("xml", xml)
}

/// The problems of a case that must be rejected, as (field, message) pairs.
fn problems(xml: &str) -> Vec<(String, String)> {
    check(xml)
        .expect_err("the case must be rejected")
        .into_iter()
        .map(|p| (p.field.unwrap_or_default(), p.message))
        .collect()
}

fn has(problems: &[(String, String)], field: &str, message_part: &str) -> bool {
    problems
        .iter()
        .any(|(f, m)| f == field && m.contains(message_part))
}

#[test]
fn a_valid_case_has_canonical_and_view_forms() {
    let case = check(BASE).unwrap();
    assert_eq!(case.id, "T-1");
    assert_eq!(case.service, "media-registration");
    assert_eq!(case.outcome, "approved");
    assert_eq!(case.decision_date.to_string(), "2026-11-20");
    let c = &case.canonical;
    assert_eq!(c["publication_kind"], "newspaper");
    assert_eq!(c["languages"], json!(["kk", "ru"]));
    assert_eq!(c["decision"]["date"], "2026-11-20");
    assert_eq!(
        c["applicant"]["name"],
        json!({"kk": "«Алаш» ЖШС", "ru": "ТОО «Алаш»"})
    );
    assert_eq!(
        c["applicant"]["address"],
        json!({"kk": "Астана", "ru": "Астана"})
    );
    assert_eq!(c["territory"]["ru"], "Республика Казахстан");
    let v = &case.view;
    assert_eq!(v["publication_kind"]["code"], "Г");
    assert_eq!(
        v["publication_kind"]["ru"],
        "периодическое печатное издание (газета)"
    );
    assert_eq!(v["languages"][1]["kk"], "орыс тілі");
    assert_eq!(v["decision"]["date"]["kk"], "2026 жылғы 20 қарашадағы");
    assert_eq!(v["decision"]["date"]["ru"], "20 ноября 2026 года");
    assert_eq!(
        v["decision"]["official"]["position"]["ru"],
        "Председатель Комитета информации"
    );
}

#[test]
fn bad_bin_is_located_by_line_and_field() {
    let xml = BASE.replace("100440000004", "100440000005");
    let errors = check(&xml).unwrap_err();
    assert_eq!(errors.len(), 1);
    let problem = &errors[0];
    assert_eq!(problem.field.as_deref(), Some("applicant.bin"));
    assert_eq!(problem.case_id.as_deref(), Some("T-1"));
    assert_eq!(problem.origin.pos, Some(crate::problem::Pos::Line(4)));
    assert!(
        problem.message.contains("check digit is 5, expected 4"),
        "{}",
        problem.message
    );
    assert_eq!(
        problem.to_string(),
        "t.xml, line 4: case \"T-1\": field applicant.bin: BIN \"100440000005\" check digit is 5, expected 4"
    );
}

#[test]
fn every_problem_of_a_case_is_reported_together() {
    let xml = BASE
        .replace("100440000004", "1004400000")
        .replace("<publication_kind>newspaper", "<publication_kind>tabloid")
        .replace(r#"date="2026-11-20""#, r#"date="2026-11-31""#)
        .replace("<chief_editor>Нұрланова Ә. С.</chief_editor>", "");
    let found = problems(&xml);
    assert!(has(&found, "applicant.bin", "12 digits"), "{found:?}");
    assert!(
        has(&found, "publication_kind", "\"tabloid\" is not one of"),
        "{found:?}"
    );
    assert!(
        has(&found, "decision.date", "not a day of the calendar"),
        "{found:?}"
    );
    assert!(has(&found, "chief_editor", "required"), "{found:?}");
    assert_eq!(found.len(), 4, "{found:?}");
}

#[test]
fn dates_in_the_future_or_out_of_order_are_rejected() {
    let future = BASE.replace(
        r#"outcome="approved" date="2026-11-20""#,
        r#"outcome="approved" date="2026-11-26""#,
    );
    assert!(has(&problems(&future), "decision.date", "in the future"));
    let before = BASE.replace(r#"date="2026-11-02""#, r#"date="2026-11-21""#);
    assert!(has(
        &problems(&before),
        "decision.date",
        "is before application.date"
    ));
    let dotted = BASE.replace(r#"date="2026-11-02""#, r#"date="02.11.2026""#);
    assert_eq!(
        check(&dotted).unwrap().canonical["application"]["date"],
        "2026-11-02"
    );
}

#[test]
fn conditional_fields_are_required_when_they_apply_and_refused_otherwise() {
    let online = BASE.replace("<publication_kind>newspaper", "<publication_kind>online");
    assert!(has(&problems(&online), "website", "required"));
    let with_site = online.replace("</case>", "<website>https://x.kz</website></case>");
    assert_eq!(
        check(&with_site).unwrap().canonical["website"],
        "https://x.kz"
    );
    let print_with_site = BASE.replace("</case>", "<website>https://x.kz</website></case>");
    assert!(has(
        &problems(&print_with_site),
        "website",
        "only given when publication_kind is online"
    ));

    let individual = BASE.replace(r#"kind="legal""#, r#"kind="individual""#);
    let found = problems(&individual);
    assert!(has(&found, "applicant.iin", "required"), "{found:?}");
    assert!(
        has(
            &found,
            "applicant.bin",
            "only given when applicant.kind is legal"
        ),
        "{found:?}"
    );
}

#[test]
fn a_refusal_needs_reasons_in_both_languages() {
    let refused = BASE.replace(r#"outcome="approved""#, r#"outcome="refused""#);
    assert!(has(&problems(&refused), "decision.reasons", "required"));
    let one_language = refused.replace(
        "</decision>",
        "<reasons><reason><kk>Себеп</kk></reason></reasons></decision>",
    );
    assert!(has(
        &problems(&one_language),
        "decision.reasons.1",
        "not the Russian"
    ));
    let good = refused.replace(
        "</decision>",
        "<reasons><reason><kk>Бір</kk><ru>Один</ru></reason><reason>Екі / Два</reason></reasons></decision>",
    );
    let case = check(&good).unwrap();
    assert_eq!(case.outcome, "refused");
    assert_eq!(
        case.canonical["decision"]["reasons"],
        json!([{"kk": "Бір", "ru": "Один"}, {"kk": "Екі / Два", "ru": "Екі / Два"}])
    );
    let approved_with_reasons = BASE.replace(
        "</decision>",
        "<reasons><reason>Бір</reason></reasons></decision>",
    );
    assert!(has(
        &problems(&approved_with_reasons),
        "decision.reasons",
        "only given when decision.outcome is refused"
    ));
}

#[test]
fn unknown_fields_services_positions_and_values_are_named() {
    let typo = BASE.replace("<title>", "<titel>x</titel><title>");
    assert!(has(
        &problems(&typo),
        "titel",
        "not a field of this service"
    ));
    let nested = BASE.replace(
        "<address>Астана</address>",
        "<address>Астана</address><phone>1</phone>",
    );
    assert!(has(&problems(&nested), "applicant.phone", "not a field"));
    let service = BASE.replace("media-registration", "media-registraton");
    assert!(has(
        &problems(&service),
        "service",
        "unknown service \"media-registraton\""
    ));
    let position = BASE.replace(r#"position="chairman""#, r#"position="minister""#);
    assert!(has(
        &problems(&position),
        "decision.official.position",
        "not a signing position"
    ));
    let language = BASE.replace("<languages>kk ru", "<languages>kk fr");
    assert!(has(
        &problems(&language),
        "languages",
        "\"fr\" is not one of"
    ));
    let twice = BASE.replace("<languages>kk ru", "<languages>kk ru kk");
    assert!(has(&problems(&twice), "languages", "listed twice"));
}

#[test]
fn texts_documents_cannot_show_are_refused() {
    let control = BASE.replace("<title>Жас Алаш", "<title>Жас\u{7}Алаш");
    assert!(has(
        &problems(&control),
        "title",
        "control character U+0007"
    ));
    let newline = BASE.replace("<title>Жас Алаш", "<title>Жас\nАлаш");
    assert!(has(&problems(&newline), "title", "a line break"));
    let override_ = BASE.replace("<title>Жас Алаш", "<title>Жас \u{202E}шалА");
    assert!(has(
        &problems(&override_),
        "title",
        "the invisible character U+202E"
    ));
    let han = BASE.replace("<title>Жас Алаш", "<title>Жас 中 Алаш");
    assert!(has(&problems(&han), "title", "U+4E2D"));
    let long = BASE.replace("<title>Жас Алаш", &format!("<title>{}", "ә".repeat(301)));
    assert!(has(
        &problems(&long),
        "title",
        "301 characters long; at most 300"
    ));
    let megabyte = BASE.replace(
        "<subject>қоғамдық-саяси",
        &format!("<subject>{}", "x".repeat(1 << 20)),
    );
    assert!(has(
        &problems(&megabyte),
        "subject.kk",
        "1048576 characters long"
    ));
}

#[test]
fn texts_are_judged_by_unicode_properties() {
    let title = |text: &str| BASE.replace("<title>Жас Алаш", &format!("<title>Жас{text}Алаш"));
    for (text, says) in [
        ("\u{2028}", "U+2028, a line or paragraph separator"),
        ("\u{2029}", "U+2029, a line or paragraph separator"),
        ("\u{34F}", "the invisible character U+034F"),
        ("\u{3164}", "the invisible character U+3164"),
        ("\u{E000}", "the private-use character U+E000"),
        (" \u{301}", "the combining mark U+0301 with no letter"),
    ] {
        assert!(has(&problems(&title(text)), "title", says), "{text:?}");
    }
    // Only spaces, an invisible letter and a combining accent: no title at all.
    let blank = BASE.replace("<title>Жас Алаш", "<title>  \u{3164} \u{301} ");
    assert!(has(&problems(&blank), "title", "missing or empty"));
    // A field with the same in a bilingual group: its Kazakh text is absent.
    let name = BASE.replace(
        "<name lang=\"kk\">«Алаш» ЖШС</name>",
        "<name lang=\"kk\">\u{200B}\u{2003}</name>",
    );
    assert!(has(&problems(&name), "applicant.name.kk", "U+200B"));
}

#[test]
fn texts_are_composed_and_the_case_as_given_is_kept_for_its_hash() {
    let decomposed = BASE.replace("<title>Жас Алаш", "<title>Жаи\u{306}ық");
    let valid = check(&decomposed).unwrap();
    assert_eq!(valid.canonical["title"], "Жайық");
    let as_given = valid.as_given.expect("normalising changed the title");
    assert_eq!(as_given["title"], "Жаи\u{306}ық");
    let mut composed = as_given.clone();
    composed["title"] = json!("Жайық");
    assert_eq!(composed, valid.canonical, "only the title differs");
    // Composed already: nothing kept beside it.
    assert!(check(BASE).unwrap().as_given.is_none());
    // A case id is a key: never changed, refused when not composed.
    let id = BASE.replace("id=\"T-1\"", "id=\"Т-и\u{306}\"");
    assert!(has(&problems(&id), "id", "normal form C"));
}

#[test]
fn a_case_id_is_written_in_one_script() {
    let mixed = BASE.replace("id=\"T-1\"", "id=\"\u{41C}R-2026-0107\"");
    assert!(has(
        &problems(&mixed),
        "id",
        "mixes the letters of several scripts (Cyrillic М, Latin R)"
    ));
    for id in [
        "МР-2026-0107",
        "MR-2026-0107",
        "ДЕЛО-15/Б".replace('/', "-").as_str(),
    ] {
        let one = BASE.replace("id=\"T-1\"", &format!("id=\"{id}\""));
        assert!(check(&one).is_ok(), "{id}: {:?}", problems(&one));
    }
}

#[test]
fn markup_is_just_text() {
    let markup = r##"#panic("x") ] [ \ $ * @ <a> _ ` #set text(red)"##;
    let xml = BASE.replace(
        "<title>Жас Алаш",
        &format!("<title>{}", quick_xml::escape::escape(markup)),
    );
    assert_eq!(check(&xml).unwrap().canonical["title"], markup);
}

#[test]
fn csv_numbered_columns_make_lists() {
    let csv = "id,service,application.number,application.date,applicant.kind,applicant.iin,\
applicant.name,applicant.address.kk,applicant.address.ru,decision.outcome,decision.date,\
decision.official.position,decision.official.name,decision.reasons.2.kk,decision.reasons.2.ru,\
decision.reasons.1.kk,decision.reasons.1.ru,application_type,publication_kind,title,languages,\
periodicity,territory,subject,chief_editor,editorial_address,duty.amount,duty.date,duty.receipt\n\
C-1,media-registration,KZ2,2026-11-01,individual,850314300003,Омаров Д.,Алматы,г. Алматы,refused,\
2026-11-20,deputy-chairman,Сейітова Г.,Екінші,Второе,Бірінші,Первое,registration,magazine,Т,\"kk,ru\",\
айына бір рет,ҚР,танымдық,Омаров Д.,Алматы,21 625,01.11.2026,Б-17\n";
    let case = check_format("csv", csv).unwrap();
    assert_eq!(
        case.canonical["decision"]["reasons"],
        json!([{"kk": "Бірінші", "ru": "Первое"}, {"kk": "Екінші", "ru": "Второе"}])
    );
    assert_eq!(case.canonical["applicant"]["iin"], "850314300003");
    assert_eq!(
        case.view["decision"]["official"]["position"]["kk"],
        "Ақпарат комитеті төрағасының орынбасары"
    );
}

#[test]
fn the_authority_in_force_on_the_decision_date_is_used() {
    // The Information Committee's history starts on 12 March 2010.
    let old = BASE
        .replace(r#"date="2026-11-02""#, r#"date="2010-01-04""#)
        .replace(
            r#"outcome="approved" date="2026-11-20""#,
            r#"outcome="approved" date="2010-03-11""#,
        );
    assert!(has(
        &problems(&old),
        "decision.date",
        "no authority \"info-committee\" was in force on 2010-03-11"
    ));
    let first = old.replace(r#"date="2010-03-11""#, r#"date="2010-03-12""#);
    let case = check(&first).unwrap();
    assert_eq!(case.authority, "info-committee");
}

#[test]
fn the_examples_in_the_format_documentation_are_valid() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cases.md"))
        .unwrap();
    let validator = Validator {
        catalogue: &CATALOGUE,
        today: "2026-11-25".parse().unwrap(),
        glyphs: &glyphs_but_han,
    };
    let mut checked = 0;
    for (format, fence) in [("xml", "```xml\n<?xml"), ("csv", "```csv\n")] {
        let start = doc.find(fence).unwrap() + "```".len() + format.len() + 1;
        let end = start + doc[start..].find("```").unwrap();
        let file: Arc<Path> = Arc::from(Path::new("docs/cases.md"));
        let (cases, problems) = read_bytes(&file, format, &doc.as_bytes()[start..end]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cases.len(), 2);
        for case in &cases {
            validator
                .validate(case)
                .unwrap_or_else(|p| panic!("{format} example: {p:?}"));
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}

#[test]
fn the_state_duty_must_be_paid_in_full_at_the_mci_of_the_day_of_payment() {
    // 5 MCI: 21,625 ₸ in 2026 (4,325 ₸), 19,660 ₸ in 2025 (3,932 ₸).
    let case = check(BASE).unwrap();
    assert_eq!(case.view["duty"]["amount"]["text"], "21\u{a0}625\u{a0}₸");
    let in_2025 = BASE.replace(
        r#"<duty amount="21625" date="2026-11-02""#,
        r#"<duty amount="19 660" date="2025-12-30""#,
    );
    assert_eq!(check(&in_2025).unwrap().canonical["duty"]["amount"], 19660);
    let short = BASE.replace(r#"amount="21625""#, r#"amount="19660""#);
    let found = problems(&short);
    assert!(
        has(
            &found,
            "duty.amount",
            "19\u{a0}660\u{a0}₸ paid; the state duty is 5 MCI × 4\u{a0}325\u{a0}₸ = 21\u{a0}625\u{a0}₸"
        ),
        "{found:?}"
    );
    let unpaid = BASE.replace(
        r#"<duty amount="21625" date="2026-11-02" receipt="104410-Б"/>"#,
        "",
    );
    let found = problems(&unpaid);
    assert!(has(&found, "duty.amount", "required"), "{found:?}");
    assert!(has(&found, "duty.date", "required"), "{found:?}");
    // mci.toml starts in 2010.
    let too_early = BASE.replace(
        r#"date="2026-11-02" receipt"#,
        r#"date="2009-12-31" receipt"#,
    );
    assert!(has(
        &problems(&too_early),
        "duty.date",
        "no monthly calculation index for 2009-12-31"
    ));
    let not_money = BASE.replace(r#"amount="21625""#, r#"amount="21625.50""#);
    assert!(has(
        &problems(&not_money),
        "duty.amount",
        "not a sum in whole tenge"
    ));
}

#[test]
fn an_outcome_must_be_one_the_service_issues_a_document_on() {
    let xml = BASE.replace(r#"outcome="approved""#, r#"outcome="nonconformities""#);
    let found = problems(&xml);
    assert!(
        has(
            &found,
            "decision.outcome",
            "\"nonconformities\" is not a decision of this service (approved, refused)"
        ),
        "{found:?}"
    );
}

#[test]
fn the_due_date_counts_working_days_from_the_application() {
    // Media registration under the 2020 rules: 2 working days to check the documents, from
    // Monday 2 November 2026 to Wednesday 4, then 7 working days to decide, to Friday 13.
    let case = check(BASE).unwrap();
    assert_eq!(case.due, Some("2026-11-13".parse().unwrap()));
    assert_eq!(case.application_date, "2026-11-02".parse().unwrap());
    assert_eq!(case.authority, "info-committee");
}
