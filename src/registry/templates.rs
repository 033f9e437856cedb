//! Template versions, addressed by content and kept beside the registry for good.
//!
//! A template version is its main file plus every file of the shared `lib/` folder, as one
//! canonical JSON bundle; its SHA-256 is the version a record names. The bundle is kept in the
//! registry store before the first record naming it is appended, so a document issued under an
//! old ministry name can always be rendered again with that name.

use anyhow::{Context, Result, bail, ensure};

pub use crate::render::bundle::{LIB_DIR, TemplateBundle};
use crate::store::{Kind, Store};

/// The template versions kept in a registry store.
#[derive(Clone, Copy)]
pub struct TemplateStore<'a> {
    store: &'a dyn Store,
}

impl<'a> TemplateStore<'a> {
    pub fn new(store: &'a dyn Store) -> TemplateStore<'a> {
        TemplateStore { store }
    }

    /// The store the versions are kept in (signatures are kept there too).
    pub fn store(&self) -> &'a dyn Store {
        self.store
    }

    /// Keeps a version if it is not kept yet, durably, and returns its hash.
    pub fn keep(&self, bundle: &TemplateBundle) -> Result<String> {
        self.store
            .keep(Kind::Template, bundle.canonical().as_bytes())
    }

    /// Loads a kept version, checking its content still has its hash.
    pub fn load(&self, version: &str) -> Result<TemplateBundle> {
        ensure!(
            version.len() == 64 && version.bytes().all(|b| b.is_ascii_hexdigit()),
            "{version:?} is not a template version"
        );
        let Some(bytes) = self.store.kept(Kind::Template, version)? else {
            bail!(
                "template version {version} is not kept in {}",
                self.store.describe()
            );
        };
        serde_json::from_slice(&bytes)
            .with_context(|| format!("template version {version} cannot be read"))
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
        let files = crate::store::files::Files::new(registry.path());
        let store = TemplateStore::new(&files);
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
