//! What the two case-reader targets check (included by `case_xml.rs` and `case_csv.rs`).
//!
//! `read_bytes` must not panic, hang or allocate without bound (libFuzzer's -timeout and
//! -rss_limit_mb/-malloc_limit_mb catch the last two), and what it returns must be located:
//!
//! * every `Problem` names the file it was read from (`origin.file`) and has a message;
//! * every `RawCase` names the file too;
//! * every position (of a problem, a case, any node of a case's tree) is of the format's kind
//!   (`Pos::Line` for XML, `Pos::Row` for CSV) and lies within the file: 1 ≤ n ≤ its line count.

use std::path::Path;
use std::sync::Arc;

use qujat::case::{Node, RawCase, read_bytes};
use qujat::problem::{Pos, Problem};

pub fn check(format: &str, name: &str, bytes: &[u8]) {
    let file: Arc<Path> = Arc::from(Path::new(name));
    let (cases, problems) = read_bytes(&file, format, bytes);
    // Line numbers are counted in the bytes as given (a BOM does not change them).
    let lines = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let pos_ok = |pos: Pos| match (format, pos) {
        ("xml", Pos::Line(n)) | ("csv", Pos::Row(n)) => (1..=lines).contains(&n),
        _ => false,
    };
    for problem in &problems {
        check_problem(problem, &file, &pos_ok);
    }
    for case in &cases {
        check_case(case, &file, &pos_ok);
    }
}

fn check_problem(problem: &Problem, file: &Arc<Path>, pos_ok: &impl Fn(Pos) -> bool) {
    assert_eq!(
        problem.origin.file.as_path(),
        &**file,
        "a problem does not name its file: {problem:?}"
    );
    assert!(
        !problem.message.is_empty(),
        "a problem without a message: {problem:?}"
    );
    if let Some(pos) = problem.origin.pos {
        assert!(
            pos_ok(pos),
            "a problem placed outside the file: {problem:?}"
        );
    }
}

fn check_case(case: &RawCase, file: &Arc<Path>, pos_ok: &impl Fn(Pos) -> bool) {
    assert_eq!(&*case.file, &**file, "a case does not name its file");
    assert_eq!(case.origin().file.as_path(), &**file);
    check_node(&case.tree, pos_ok);
    // The accessors validation uses must not panic either.
    let _ = case.id();
    let _ = case.tree.text_at("applicant.name.kk");
}

/// Every node of a tree (iteratively: CSV paths make trees as deep as a header has dots).
fn check_node(root: &Node, pos_ok: &impl Fn(Pos) -> bool) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        assert!(
            pos_ok(node.pos),
            "a node placed outside the file: {:?}",
            node.pos
        );
        stack.extend(node.entries().iter().map(|(_, child)| child));
    }
}
