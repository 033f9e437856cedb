//! Template versions, addressed by content and kept beside the registry for good.
//!
//! A template version is its main file plus every file of the shared `lib/` folder, as one
//! canonical JSON bundle; its SHA-256 is the version a record names. The bundle is stored as
//! `registry/templates/<hash>.json` before the first record naming it is appended, so a document
//! issued under an old ministry name can always be rendered again with that name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};

use super::record::{canonical, sha256_hex};
use crate::fsio::write_atomically;
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

/// The store of template versions under a registry root.
#[derive(Debug, Clone)]
pub struct TemplateStore {
    dir: PathBuf,
}

impl TemplateStore {
    pub fn new(registry_root: &Path) -> TemplateStore {
        TemplateStore {
            dir: registry_root.join("templates"),
        }
    }

    fn path(&self, version: &str) -> PathBuf {
        self.dir.join(format!("{version}.json"))
    }

    /// Keeps a version if it is not kept yet, durably, and returns its hash.
    pub fn keep(&self, bundle: &TemplateBundle) -> Result<String> {
        let text = bundle.canonical();
        let version = sha256_hex(text.as_bytes());
        let path = self.path(&version);
        if path.exists() {
            return Ok(version);
        }
        write_atomically(&path, text.as_bytes())?;
        Ok(version)
    }

    /// Loads a kept version, checking its content still has its hash.
    pub fn load(&self, version: &str) -> Result<TemplateBundle> {
        ensure!(
            version.len() == 64 && version.bytes().all(|b| b.is_ascii_hexdigit()),
            "{version:?} is not a template version"
        );
        let path = self.path(version);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                bail!(
                    "template version {version} is not kept in {}",
                    self.dir.display()
                )
            }
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", path.display())),
        };
        ensure!(
            sha256_hex(text.as_bytes()) == version,
            "template version file {} does not match its hash (edited?)",
            path.display()
        );
        serde_json::from_str(&text).with_context(|| format!("cannot read {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_content_addressed_and_kept() {
        let templates = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(templates.path().join("lib")).unwrap();
        std::fs::create_dir_all(templates.path().join("media")).unwrap();
        std::fs::write(templates.path().join("lib/a.typ"), "#let a = 1").unwrap();
        std::fs::write(templates.path().join("media/c.typ"), "v1").unwrap();
        std::fs::write(templates.path().join("media/other.typ"), "not part of c").unwrap();
        let v1 = TemplateBundle::collect(templates.path(), "media/c.typ").unwrap();
        assert_eq!(
            v1.files.keys().collect::<Vec<_>>(),
            ["lib/a.typ", "media/c.typ"]
        );

        let registry = tempfile::tempdir().unwrap();
        let store = TemplateStore::new(registry.path());
        let h1 = store.keep(&v1).unwrap();
        assert_eq!(h1, v1.version());

        std::fs::write(templates.path().join("media/c.typ"), "v2").unwrap();
        let v2 = TemplateBundle::collect(templates.path(), "media/c.typ").unwrap();
        let h2 = store.keep(&v2).unwrap();
        assert_ne!(h1, h2);
        assert_eq!(store.load(&h1).unwrap(), v1);
        assert_eq!(store.load(&h2).unwrap(), v2);

        std::fs::write(registry.path().join(format!("templates/{h1}.json")), "{}").unwrap();
        assert!(
            store
                .load(&h1)
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
        assert!(
            store
                .load(&"0".repeat(64))
                .unwrap_err()
                .to_string()
                .contains("not kept")
        );
    }
}
