//! A template version as the renderer takes it: its main file plus every file of the shared
//! `lib/` folder, as one canonical JSON bundle whose SHA-256 is the version records name.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::digest::{canonical, sha256_hex};
use crate::shipped::Files;

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
        TemplateBundle::collect_from(&Files::Dir(dir.to_path_buf()), main)
    }

    /// Collects template `main` from a templates folder or the built-in copy: the same files
    /// give the same bundle, and so the same version, wherever they are read from.
    pub fn collect_from(templates: &Files, main: &str) -> Result<TemplateBundle> {
        let mut files = BTreeMap::new();
        let text = templates
            .read_string(main)
            .with_context(|| format!("cannot read template {}", templates.show(main).display()))?;
        files.insert(main.to_string(), text);
        for name in templates.walk(LIB_DIR)? {
            let text = templates.read_string(&name).with_context(|| {
                format!(
                    "cannot read template file {} (templates are UTF-8 text)",
                    templates.show(&name).display()
                )
            })?;
            files.insert(name, text);
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
