//! The CSV case format: a header of dotted field paths, one case per row.
//!
//! `applicant.name.kk` fills the Kazakh name of the applicant; `decision.reasons.2.ru` the
//! Russian text of the second reason. Empty cells are absent values. The delimiter is `,`, or
//! `;` when the header uses it (as spreadsheets in Russian and Kazakh locales save).

use std::path::Path;
use std::sync::Arc;

use super::{LineCursor, Node, RawCase, Value};
use crate::problem::{Origin, Pos, Problem};

/// How many parts a column's field path may have: the catalogue's deepest field has four; a
/// deeper path is an error, not a reason to recurse without bound.
const MAX_DEPTH: usize = 8;

/// How many columns a case file may have: a case has a few dozen fields; thousands are not a
/// case, and checking each against the others would cost their square.
const MAX_COLUMNS: usize = 1000;

/// Reads a CSV file, handing each case to `on_case` as soon as its row is read. Returns the
/// file's problems (a bad header, a bad row); no problem rejects rows read before it.
pub(super) fn read(file: &Arc<Path>, text: &str, on_case: &mut dyn FnMut(RawCase)) -> Vec<Problem> {
    let origin = |pos: Option<Pos>| Origin {
        file: file.clone(),
        pos,
    };
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.contains(';') && !first_line.contains(',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());

    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(err) => {
            return vec![Problem::new(
                origin(Some(Pos::Row(1))),
                format!("bad header: {err}"),
            )];
        }
    };
    if headers.len() > MAX_COLUMNS {
        let problem = Problem::new(
            origin(Some(Pos::Row(1))),
            format!(
                "the header has {} columns; a case has at most {MAX_COLUMNS} fields",
                headers.len()
            ),
        );
        return vec![problem];
    }
    let mut paths: Vec<Vec<&str>> = Vec::new();
    let mut header_problems = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        let header = header.trim();
        let path: Vec<&str> = header.split('.').map(str::trim).collect();
        let column = i + 1;
        if path.len() > MAX_DEPTH {
            header_problems.push(
                Problem::new(
                    origin(Some(Pos::Row(1))),
                    format!(
                        "column {column}: a field path of {} parts; case fields are at most \
                         {MAX_DEPTH} deep",
                        path.len()
                    ),
                )
                .field(header.chars().take(60).collect::<String>()),
            );
        } else if header.is_empty() || path.iter().any(|s| s.is_empty()) {
            header_problems.push(Problem::new(
                origin(Some(Pos::Row(1))),
                format!("column {column}: {header:?} is not a field path like applicant.name.kk"),
            ));
        } else if headers.iter().take(i).any(|h| h.trim() == header) {
            header_problems.push(
                Problem::new(
                    origin(Some(Pos::Row(1))),
                    format!("column {column} repeats {header:?}"),
                )
                .field(header),
            );
        }
        paths.push(path);
    }
    // A header of one column with tabs or bars in it was saved with another separator: say
    // that, rather than what is wrong with the one long "field path".
    if paths.len() == 1 && first_line.contains(['\t', '|']) {
        let problem = Problem::new(
            origin(Some(Pos::Row(1))),
            "the header has a single column: case CSV files are separated by ',' or ';'",
        );
        return vec![problem];
    }
    if !header_problems.is_empty() {
        return header_problems;
    }

    let mut problems = Vec::new();
    let mut lines = LineCursor::new(text);
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let pos = err
                    .position()
                    .map(|p| Pos::Row(record_line(&mut lines, text, p.byte())));
                let message = match err.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!(
                        "the row has {len} cells but the header has {expected_len} \
                         (a stray delimiter or quote?)"
                    ),
                    _ => format!("unreadable row: {err}"),
                };
                problems.push(Problem::new(origin(pos), message));
                continue;
            }
        };
        let pos = Pos::Row(record_line(
            &mut lines,
            text,
            record.position().map_or(0, |p| p.byte()),
        ));
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let mut tree = Node {
            pos,
            value: Value::Map(Vec::new()),
        };
        for (path, cell) in paths.iter().zip(record.iter()) {
            if !cell.trim().is_empty() {
                insert(&mut tree, path, cell, pos);
            }
        }
        on_case(RawCase {
            file: file.clone(),
            tree,
        });
    }
    problems
}

/// The line a record starting at `byte` is on. The csv crate places a record at the blank lines
/// before it (and its own line count skips them), so those are stepped over.
fn record_line(lines: &mut LineCursor<'_>, text: &str, byte: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut start = (byte as usize).min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
        start += 1;
    }
    lines.line_at(start)
}

/// Puts `text` at `path` in the tree, creating the groups on the way.
fn insert(node: &mut Node, path: &[&str], text: &str, pos: Pos) {
    let Value::Map(entries) = &mut node.value else {
        unreachable!("only maps are descended into")
    };
    let (first, rest) = path.split_first().expect("paths are never empty");
    if rest.is_empty() {
        let leaf = Node {
            pos,
            value: Value::Text {
                text: text.to_string(),
                lang: None,
            },
        };
        entries.push((first.to_string(), leaf));
        return;
    }
    let index = match entries
        .iter()
        .position(|(name, n)| name == first && matches!(n.value, Value::Map(_)))
    {
        Some(index) => index,
        None => {
            entries.push((
                first.to_string(),
                Node {
                    pos,
                    value: Value::Map(Vec::new()),
                },
            ));
            entries.len() - 1
        }
    };
    insert(&mut entries[index].1, rest, text, pos);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<RawCase>, Vec<Problem>) {
        let mut cases = Vec::new();
        let problems = read(&Arc::from(Path::new("t.csv")), text, &mut |c| cases.push(c));
        (cases, problems)
    }

    #[test]
    fn paths_become_groups_and_rows_keep_their_lines() {
        let (cases, problems) = parse(
            "id,applicant.name.kk,applicant.name.ru,decision.reasons.1.kk,title\n\
             A-1,«Алаш» ЖШС,ТОО «Алаш»,Себеп,\"Жас, Алаш\"\n\
             \n\
             A-2,X,Y,,\"көп\nжолды\"\n\
             A-3,X,Y,,T\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].tree.pos, Pos::Row(2));
        assert_eq!(
            cases[0].tree.text_at("applicant.name.ru"),
            Some("ТОО «Алаш»")
        );
        assert_eq!(cases[0].tree.text_at("title"), Some("Жас, Алаш"));
        assert_eq!(
            cases[0].tree.text_at("decision.reasons.1.kk"),
            Some("Себеп")
        );
        assert_eq!(cases[1].tree.pos, Pos::Row(4));
        assert!(cases[1].tree.at_path("decision").is_empty());
        assert_eq!(cases[2].tree.pos, Pos::Row(6));
    }

    #[test]
    fn semicolons_are_accepted_as_spreadsheets_write_them() {
        let (cases, problems) = parse("id;title\nA-1;Жас Алаш\n");
        assert!(problems.is_empty());
        assert_eq!(cases[0].tree.text_at("title"), Some("Жас Алаш"));
    }

    #[test]
    fn a_short_row_is_rejected_and_the_rest_read() {
        let (cases, problems) = parse("id,title\nA-1\nA-2,T\n");
        assert_eq!(cases.len(), 1);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].origin.pos, Some(Pos::Row(2)));
        assert!(
            problems[0].message.contains("1 cells"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn a_field_path_too_deep_is_refused_not_recursed_into() {
        // Found by fuzzing (tests/corpus/fuzz/case_csv-deep-path-stack-overflow): a path of
        // thousands of parts overflowed the stack.
        let deep = vec!["a"; 20_000].join(".");
        let (cases, problems) = parse(&format!("id,{deep}\nX-1,v\n"));
        assert!(cases.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("20000 parts"),
            "{}",
            problems[0].message
        );
        let corpus = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/corpus/fuzz/case_csv-deep-path-stack-overflow"),
        )
        .unwrap();
        let (_, problems) = parse(&String::from_utf8_lossy(&corpus));
        assert!(!problems.is_empty());
    }

    #[test]
    fn thousands_of_columns_are_refused_at_once() {
        // Found by fuzzing (tests/corpus/fuzz/case_csv-quadratic-*): checking each column
        // against the others took seconds per hundred thousand.
        for name in [
            "case_csv-quadratic-columns",
            "case_csv-quadratic-dotted-rows",
        ] {
            let corpus = std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/corpus/fuzz")
                    .join(name),
            )
            .unwrap();
            let (cases, problems) = parse(&String::from_utf8_lossy(&corpus));
            assert!(cases.is_empty(), "{name}");
            assert!(
                problems[0].message.contains("columns"),
                "{name}: {problems:?}"
            );
        }
    }

    #[test]
    fn bad_headers_are_located() {
        let (_, problems) = parse("id,,title\nA,B,C\n");
        assert!(problems[0].message.contains("column 2"));
        let (_, problems) = parse("id,title,title\nA,B,C\n");
        assert!(problems[0].message.contains("repeats"));
        let (_, problems) = parse("id\ttitle\nA\tB\n");
        assert!(problems[0].message.contains("single column"));
    }
}
