//! A template version as the renderer takes it: its main file plus every file of the shared
//! `lib/` folder, as one canonical JSON bundle whose SHA-256 is the version records name.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::digest::{canonical, sha256_hex};

/// The folder of the templates every version may use (imports reach it as `/lib/…`).
pub const LIB_DIR: &str = "lib";

/// One template version: its files by path relative to the templates folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBundle {
    /// The main file, e.g. `media/certificate.typ`.
    pub main: String,
    /// Every file of the version: the main file and the shared library.
    pub files: BTreeMap<String, String>,
}

impl TemplateBundle {
    /// Collects template `main` from the templates folder `dir`.
    pub fn collect(dir: &Path, main: &str) -> Result<TemplateBundle> {
        let mut files = BTreeMap::new();
        let main_path = dir.join(main);
        let text = std::fs::read_to_string(&main_path)
            .with_context(|| format!("cannot read template {}", main_path.display()))?;
        files.insert(main.to_string(), text);
        let lib = dir.join(LIB_DIR);
        if lib.is_dir() {
            for entry in walkdir::WalkDir::new(&lib).sort_by_file_name() {
                let entry = entry.with_context(|| format!("cannot read {}", lib.display()))?;
                if !entry.file_type().is_file() {
                    continue;
                }
                let relative = entry
                    .path()
                    .strip_prefix(dir)
                    .expect("under the templates folder");
                let name = relative
                    .to_str()
                    .with_context(|| {
                        format!("template file name {} is not UTF-8", relative.display())
                    })?
                    .replace('\\', "/");
                let text = std::fs::read_to_string(entry.path()).with_context(|| {
                    format!(
                        "cannot read template file {} (templates are UTF-8 text)",
                        entry.path().display()
                    )
                })?;
                files.insert(name, text);
            }
        }
        Ok(TemplateBundle {
            main: main.to_string(),
            files,
        })
    }

    /// The bundle's canonical JSON, whose SHA-256 is its version.
    pub fn canonical(&self) -> String {
        canonical(&serde_json::to_value(self).expect("bundles always serialise"))
    }

    pub fn version(&self) -> String {
        sha256_hex(self.canonical().as_bytes())
    }
}
