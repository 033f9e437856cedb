//! Snapshot files of text outputs, under `tests/snapshots/`: a test compares what it got with
//! the kept file, and `SNAPSHOTS=overwrite` rewrites the file instead — never silently.

use crate::util::repo;

/// Fails unless `actual` is the content of `tests/snapshots/<name>`, showing the first line
/// that differs; with `SNAPSHOTS=overwrite`, writes it there.
#[track_caller]
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = repo().join("tests/snapshots").join(name);
    if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    if kept == actual {
        return;
    }
    let line = kept
        .lines()
        .zip(actual.lines())
        .position(|(k, a)| k != a)
        .unwrap_or_else(|| kept.lines().count().min(actual.lines().count()));
    panic!(
        "tests/snapshots/{name} differs from the output at line {}:\n  kept: {:?}\n  got:  {:?}\n\
         If the new output is right, run SNAPSHOTS=overwrite cargo test --test suite and review \
         the change with git diff.\nThe whole output:\n{actual}",
        line + 1,
        kept.lines().nth(line).unwrap_or("<end>"),
        actual.lines().nth(line).unwrap_or("<end>"),
    );
}
