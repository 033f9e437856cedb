//! Builds the catalogue, templates and fonts that ship with qujat into its binary (see
//! `src/shipped.rs`), so an installed `qujat` needs no repository and no share folder.
//!
//! Every regular file under `catalogue/`, `templates/` and `fonts/` is included as it is, with
//! no exceptions: a template's version is the hash of its files, and the built-in copy must give
//! the very version the same folder on disk gives. Cargo reruns this script when anything under
//! those folders changes (a directory given to `rerun-if-changed` is scanned whole).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const TREES: [(&str, &str); 3] = [
    ("CATALOGUE", "catalogue"),
    ("TEMPLATES", "templates"),
    ("FONTS", "fonts"),
];

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut code = String::new();
    for (name, folder) in TREES {
        println!("cargo:rerun-if-changed={folder}");
        let dir = root.join(folder);
        let mut files = Vec::new();
        collect(&dir, &dir, &mut files);
        files.sort();
        assert!(!files.is_empty(), "{} holds no files", dir.display());
        writeln!(
            code,
            "/// The shipped `{folder}/` folder.\n\
             pub static {name}: Tree = Tree {{ name: {folder:?}, files: &["
        )
        .unwrap();
        for relative in files {
            let path = dir.join(&relative);
            writeln!(code, "    ({relative:?}, include_bytes!({path:?})),").unwrap();
        }
        code.push_str("] };\n");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("shipped.rs"), code).expect("OUT_DIR is writable");
}

/// Every regular file under `dir` (not following symbolic links, as the template collector
/// does not), as `/`-separated paths relative to `root`.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let kind = entry.file_type().expect("a file type");
        let path = entry.path();
        if kind.is_dir() {
            collect(root, &path, files);
        } else if kind.is_file() {
            let relative = path.strip_prefix(root).expect("under the root");
            let relative = relative
                .to_str()
                .unwrap_or_else(|| panic!("{} is not a UTF-8 name", path.display()))
                .replace('\\', "/");
            files.push(relative);
        }
    }
}
