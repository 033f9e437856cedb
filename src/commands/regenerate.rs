//! `qujat regenerate`: a registered document typeset again from its record alone — the data the
//! template was given, the template version the record names (kept, content-addressed, beside
//! the registry), the recorded QR payload and PDF metadata — and checked against the record's
//! SHA-256. A signed document gets its kept signature back (content-addressed beside the
//! registry too), so it comes out byte for byte without the official's key: regenerating never
//! signs. It never takes a number and never writes to a registry.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::registry::reader::Found;
use crate::registry::templates::TemplateStore;
use crate::registry::{DocumentEntry, canonical, hash_json, sha256_hex};
use crate::render::{Engine, PdfMeta, Profile};

/// A document typeset again.
#[derive(Debug, Clone)]
pub struct Regenerated {
    pub registry: String,
    pub seq: u64,
    pub number: String,
    /// Where the PDF was written (`None` when it could not be typeset).
    pub path: Option<PathBuf>,
    /// The new PDF's SHA-256, and the record's.
    pub sha256: Option<String>,
    pub recorded: String,
    /// Why it differs from the record, or could not be made, when it does or could not.
    pub reasons: Vec<String>,
}

impl Regenerated {
    pub fn is_identical(&self) -> bool {
        self.sha256.as_deref() == Some(self.recorded.as_str())
    }
}

/// The file name a regenerated document is written under: its registry and recorded file name,
/// so two registries' documents never collide.
pub fn file_name(registry: &str, doc: &DocumentEntry) -> String {
    let base = doc.pdf.file.rsplit('/').next().unwrap_or(&doc.pdf.file);
    format!("{registry}-{base}")
}

/// Typesets the document of `found` (a record of registry `registry`) again and writes it to
/// `path`. What stops it (a template version not kept, a record that cannot be rendered) is
/// returned as reasons, not as an error; errors are failures to read or write files.
pub fn regenerate(
    registry: &str,
    found: &Found,
    store: &TemplateStore<'_>,
    engine: &Engine,
    path: &Path,
) -> Result<Regenerated> {
    let doc = found.document();
    let mut result = Regenerated {
        registry: registry.to_string(),
        seq: found.seq,
        number: doc.number.clone(),
        path: None,
        sha256: None,
        recorded: doc.pdf.sha256.clone(),
        reasons: Vec::new(),
    };
    // What has changed since the document was issued, any of which explains different bytes.
    let mut changes = Vec::new();
    if doc.fonts != engine.fonts.hash {
        changes.push(format!(
            "the fonts have changed since it was issued (recorded {}, now {}): put back the font \
             files it was typeset with",
            short(&doc.fonts),
            short(&engine.fonts.hash)
        ));
    }
    // The profile it was issued with: the engine, and the form its QR code took.
    let profile = Profile::named(&doc.engine).unwrap_or_else(|| {
        changes.push(format!(
            "it was typeset by {:?}, which this qujat does not have (it typesets new documents \
             as {:?})",
            doc.engine,
            Profile::CURRENT.name()
        ));
        Profile::CURRENT
    });
    let bundle = match store.load(&doc.template) {
        Ok(bundle) => bundle,
        Err(err) => {
            result.reasons.push(format!(
                "{err:#}: the template it was issued with is gone, so it cannot be reproduced"
            ));
            return Ok(result);
        }
    };
    let template = engine.template(&bundle)?;
    let created = doc
        .pdf
        .created
        .get(..10)
        .and_then(|d| d.parse().ok())
        .with_context(|| {
            format!(
                "record {}: bad pdf.created {:?}",
                found.record.seq, doc.pdf.created
            )
        })?;
    let meta = PdfMeta {
        ident: doc.pdf.ident.clone(),
        created,
        creator: doc.pdf.creator.clone(),
    };
    if meta.created_text() != doc.pdf.created {
        changes.push(format!(
            "its PDF timestamp {:?} is not one qujat writes",
            doc.pdf.created
        ));
    }
    let qr = profile.qr(&doc.qr)?;
    let data = canonical(&doc.data);
    let pdf = match engine.render(&template, data.as_bytes(), &qr, &meta) {
        Ok(pdf) => pdf,
        Err(err) => {
            result.reasons.extend(changes);
            result
                .reasons
                .push(format!("it cannot be typeset any more: {err}"));
            return Ok(result);
        }
    };
    // A signed document: its kept signature appended again, never a new one made.
    let pdf = match &doc.signature {
        None => pdf,
        Some(signature) => {
            match crate::sign::issue::reapply(store.store(), &signature.kept, &pdf) {
                Ok(signed) => signed,
                Err(err) => {
                    changes.push(format!(
                        "its signature cannot be put back ({err:#}){}",
                        if sha256_hex(&pdf) != signature.unsigned {
                            ": the document is typeset differently from when it was signed \
                             (written unsigned)"
                        } else {
                            " (written unsigned)"
                        }
                    ));
                    pdf
                }
            }
        }
    };
    crate::fsio::write_atomically(path, &pdf)?;
    let sha256 = sha256_hex(&pdf);
    result.path = Some(path.to_path_buf());
    if sha256 != doc.pdf.sha256 {
        if doc.data["synthetic"] == serde_json::Value::Bool(true) {
            changes.push(
                "it is a synthetic record (made by examples/fill_registry.rs for benchmarks): \
                 its PDF hash was made up, no PDF was ever issued"
                    .to_string(),
            );
        }
        if changes.is_empty() {
            changes.push(damage(doc).unwrap_or_else(|| {
                "the same data, template version, fonts and engine gave different bytes: this \
                 is a bug in qujat (please report it with the record)"
                    .to_string()
            }));
        }
        result.reasons = changes;
    }
    result.sha256 = Some(sha256);
    Ok(result)
}

/// What is inconsistent within a record, which explains a document that does not come out as
/// registered without any fault of the engine: its data changed after registration (its
/// content hash, which the QR code carries, no longer that of its data).
fn damage(doc: &DocumentEntry) -> Option<String> {
    if hash_json(&doc.data) != doc.content {
        return Some(
            "its record is damaged: its data is not the data it was registered with (the \
             content hash no longer matches it); the registry was changed after issue — run \
             `qujat registry check --full`"
                .to_string(),
        );
    }
    None
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
