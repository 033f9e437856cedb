//! The registries as the service reads them: open readers kept per registry and handed out to
//! one request at a time, and the three lookups the service answers (a QR payload, a PDF's
//! SHA-256, an apostille's number and date), each giving `qujat verify`'s verdicts.
//!
//! Readers never lock and see a consistent prefix of their registry; records appended while one
//! is open are seen by it at once (its lookups look past the index). What an open reader keeps —
//! the registry's newest checkpoint and its caveats, which every verdict needs and which cost a
//! read of every checkpoint — it keeps for `refresh` (1 s by default): a reader older than that is
//! dropped and a new one opened, so a new checkpoint, a registry created or restored, or a
//! rebuilt index is seen within that time, without a restart. The list of registries is kept as
//! long, and a registry code from a request is looked for in it before anything is opened, so a
//! request naming no registry never reaches the store.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::commands::verify::{self, Verdict};
use crate::date::Date;
use crate::qr::Payload;
use crate::registry::checkpoint::Checkpoint;
use crate::registry::reader::{Found, Reader};
use crate::registry::tree::BlockCache;
use crate::store::Store;

/// How many idle readers are kept per registry (more are opened while more requests need one at
/// once, and dropped when returned).
const IDLE_PER_REGISTRY: usize = 16;

/// A reader with what it keeps about its registry.
struct Open {
    reader: Reader,
    opened: Instant,
    newest: Option<Checkpoint>,
    caveats: Vec<String>,
}

impl Open {
    fn new(store: &dyn Store, code: &str, cache: Arc<BlockCache>) -> Result<Open> {
        let reader = Reader::open(store, code)?.with_block_cache(cache);
        let newest = reader.checkpoints()?.pop();
        let caveats = reader.caveats()?;
        Ok(Open {
            reader,
            opened: Instant::now(),
            newest,
            caveats,
        })
    }

    /// The verdict on `found`, against the newest checkpoint this reader knows.
    fn judge(&self, found: Found) -> Result<Verdict> {
        let Some(newest) = &self.newest else {
            // No checkpoint at all: vouch says so itself.
            return verify::judge(&self.reader, &found, None);
        };
        let vouch = self.reader.vouch(&found, Some(newest))?;
        verify::verdict(self.reader.into_document(found)?, vouch, || {
            Ok(self.caveats.clone())
        })
    }
}

#[derive(Default)]
struct Pools {
    codes: Vec<String>,
    listed: Option<Instant>,
    idle: HashMap<String, Vec<Open>>,
    /// Each registry's kept Merkle nodes, shared by its readers, kept across their refreshes.
    caches: HashMap<String, Arc<BlockCache>>,
}

/// The registries of one store, read by the service.
pub struct Registries {
    store: Box<dyn Store>,
    /// The output folder the registered PDFs are under.
    output: PathBuf,
    refresh: Duration,
    /// How many blocks of Merkle nodes are kept per registry.
    cache_blocks: usize,
    pools: Mutex<Pools>,
}

/// A reader lent to one request, returned to its pool when dropped.
struct Lease<'a> {
    registries: &'a Registries,
    code: String,
    open: Option<Open>,
}

impl std::ops::Deref for Lease<'_> {
    type Target = Open;
    fn deref(&self) -> &Open {
        self.open
            .as_ref()
            .expect("a lease holds its reader until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(open) = self.open.take() else { return };
        open.reader.log().end_read();
        let mut pools = self
            .registries
            .pools
            .lock()
            .expect("no panic while pooling");
        let idle = pools
            .idle
            .entry(std::mem::take(&mut self.code))
            .or_default();
        if idle.len() < IDLE_PER_REGISTRY {
            idle.push(open);
        }
    }
}

/// A document the service may hand out: its file under the output folder, and the SHA-256 its
/// record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredPdf {
    pub path: PathBuf,
    pub sha256: String,
}

impl Registries {
    /// The registries of `store`, their documents' PDFs under `output`; readers are reused for
    /// `refresh`; the inner Merkle nodes of up to `cache_blocks` blocks of 256 records are kept
    /// per registry (8 KiB each; 0 keeps none).
    pub fn new(
        store: Box<dyn Store>,
        output: &Path,
        refresh: Duration,
        cache_blocks: usize,
    ) -> Registries {
        Registries {
            store,
            output: output.to_path_buf(),
            refresh,
            cache_blocks,
            pools: Mutex::new(Pools::default()),
        }
    }

    /// The codes of the registries the store holds now (as of at most `refresh` ago).
    pub fn codes(&self) -> Result<Vec<String>> {
        {
            let pools = self.pools.lock().expect("no panic while pooling");
            if pools.listed.is_some_and(|at| at.elapsed() < self.refresh) {
                return Ok(pools.codes.clone());
            }
        }
        self.list()
    }

    /// Whether the store holds registry `code` (as of at most `refresh` ago).
    fn holds(&self, code: &str) -> Result<bool> {
        {
            let pools = self.pools.lock().expect("no panic while pooling");
            if pools.listed.is_some_and(|at| at.elapsed() < self.refresh) {
                return Ok(pools.codes.iter().any(|c| c == code));
            }
        }
        Ok(self.list()?.iter().any(|c| c == code))
    }

    /// Lists the registries again.
    fn list(&self) -> Result<Vec<String>> {
        let codes: Vec<String> = self
            .store
            .registries()?
            .into_iter()
            .filter(|listed| listed.problem.is_none())
            .map(|listed| listed.code)
            .collect();
        let mut pools = self.pools.lock().expect("no panic while pooling");
        pools.codes = codes.clone();
        pools.listed = Some(Instant::now());
        Ok(codes)
    }

    /// Whether every registry can be read, and read through its index (for `/healthz`): how
    /// many there are, or what is wrong. A registry whose index cannot be used still gives right
    /// answers, but reads its whole journal for each, which a registry of millions of records
    /// cannot afford (a reader without the right to create the index's SQLite -shm file, when no
    /// writer has it open, is one such case).
    pub fn healthy(&self) -> Result<usize> {
        let listed = self.store.registries()?;
        if let Some(broken) = listed.iter().find(|l| l.problem.is_some()) {
            anyhow::bail!(
                "registry {} cannot be read: {}",
                broken.code,
                broken.problem.as_deref().unwrap_or_default()
            );
        }
        for listed in &listed {
            let Some(open) = self.lease(&listed.code)? else {
                continue;
            };
            let log = open.reader.log();
            let written = log.head()?.map_or(0, |head| head.seq);
            if written > 0 && log.indexed()?.size == 0 {
                anyhow::bail!(
                    "registry {}: its index cannot be used, so every lookup reads the whole \
                     registry (can this user create files beside the index?)",
                    listed.code
                );
            }
        }
        Ok(listed.len())
    }

    /// A reader of registry `code`, if the store holds it.
    fn lease(&self, code: &str) -> Result<Option<Lease<'_>>> {
        if !self.holds(code)? {
            return Ok(None);
        }
        let (pooled, cache) = {
            let mut pools = self.pools.lock().expect("no panic while pooling");
            let cache = pools
                .caches
                .entry(code.to_string())
                .or_insert_with(|| Arc::new(BlockCache::new(self.cache_blocks)))
                .clone();
            let idle = pools.idle.entry(code.to_string()).or_default();
            // The freshest are last; stale ones are dropped.
            let mut pooled = None;
            while let Some(open) = idle.pop() {
                if open.opened.elapsed() < self.refresh {
                    pooled = Some(open);
                    break;
                }
            }
            (pooled, cache)
        };
        let open = match pooled {
            Some(open) => open,
            None => match Open::new(self.store.as_ref(), code, cache) {
                Ok(open) => open,
                // Listed a moment ago, gone now (a registry moved away): not held.
                Err(_) if !self.store.registries()?.iter().any(|l| l.code == code) => {
                    return Ok(None);
                }
                Err(err) => return Err(err),
            },
        };
        // One snapshot of the index for the whole request (ended when the lease is dropped).
        open.reader.log().begin_read()?;
        Ok(Some(Lease {
            registries: self,
            code: code.to_string(),
            open: Some(open),
        }))
    }

    /// The verdict on a scanned QR payload, and the registered PDF when the document is genuine.
    pub fn payload(&self, payload: &Payload) -> Result<(Verdict, Option<RegisteredPdf>)> {
        let Some(open) = self.lease(&payload.registry)? else {
            return Ok((
                Verdict::Unknown {
                    why: format!("there is no registry {:?}", payload.registry),
                },
                None,
            ));
        };
        let mut found = open.reader.by_number(&payload.number)?;
        let at = match verify::matching(&found, payload) {
            Ok(one) => found
                .iter()
                .position(|f| std::ptr::eq(f, one))
                .expect("the match is one of them"),
            Err(verdict) => return Ok((verdict, None)),
        };
        let found = found.swap_remove(at);
        let file = found.document().pdf.clone();
        let verdict = open.judge(found)?;
        let pdf = match &verdict {
            Verdict::Genuine { .. } => self.registered_pdf(&file),
            _ => None,
        };
        Ok((verdict, pdf))
    }

    /// The verdict on a PDF by its SHA-256 (hex), looked up in every registry.
    pub fn pdf(&self, sha256: &str) -> Result<Verdict> {
        for code in self.codes()? {
            let Some(open) = self.lease(&code)? else {
                continue;
            };
            if let Some(found) = open.reader.by_pdf(sha256)?.into_iter().next() {
                return open.judge(found);
            }
        }
        Ok(Verdict::Unknown {
            why: format!("no registry holds a document with SHA-256 {sha256}"),
        })
    }

    /// The apostille numbered `number` and dated `date` in the apostille register (`registry`),
    /// with its verdict; `None` unless both match (a number alone, or with another date, reveals
    /// nothing).
    pub fn apostille(&self, registry: &str, number: &str, date: Date) -> Result<Option<Verdict>> {
        let Some(open) = self.lease(registry)? else {
            return Ok(None);
        };
        let found = open.reader.by_number(number)?;
        let Some(found) = found.into_iter().find(|f| {
            let doc = f.document();
            doc.document == "apostille" && doc.issued == date
        }) else {
            return Ok(None);
        };
        open.judge(found).map(Some)
    }

    /// The registered PDF a record names, if its file is where the record says (see
    /// [`pdf_path`]).
    fn registered_pdf(&self, pdf: &crate::registry::PdfEntry) -> Option<RegisteredPdf> {
        pdf_path(&self.output, &pdf.file).map(|path| RegisteredPdf {
            path,
            sha256: pdf.sha256.clone(),
        })
    }
}

/// Where a record's PDF (`file`, relative to the output folder) is: only a relative path of
/// plain names (no `..`, no root, no NUL) is followed, and what it leads to must be a regular
/// file inside the output folder once links are resolved. Nothing from a request is ever part of
/// `file`: it comes from a registered record.
pub fn pdf_path(output: &Path, file: &str) -> Option<PathBuf> {
    let relative = Path::new(file);
    if file.is_empty()
        || file.contains('\0')
        || !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let root = output.canonicalize().ok()?;
    let path = root.join(relative).canonicalize().ok()?;
    (path.starts_with(&root) && path.is_file()).then_some(path)
}

/// Reads a registered PDF and checks it is the one registered (a file replaced on disk is never
/// handed out as the registered document).
pub fn read_registered(pdf: &RegisteredPdf) -> Result<Option<Vec<u8>>> {
    let bytes = std::fs::read(&pdf.path).context("cannot read a registered PDF")?;
    Ok((crate::registry::sha256_hex(&bytes) == pdf.sha256).then_some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_records_pdf_is_followed_only_inside_the_output_folder() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("output");
        std::fs::create_dir_all(output.join("media")).unwrap();
        std::fs::write(output.join("media/certificate-000001.pdf"), b"%PDF-").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"secret").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("secret.txt"),
            output.join("media/linked.pdf"),
        )
        .unwrap();
        std::os::unix::fs::symlink(dir.path(), output.join("up")).unwrap();
        assert_eq!(
            pdf_path(&output, "media/certificate-000001.pdf"),
            Some(
                output
                    .canonicalize()
                    .unwrap()
                    .join("media/certificate-000001.pdf")
            )
        );
        for bad in [
            "",
            "media",
            "../secret.txt",
            "media/../../secret.txt",
            "/etc/passwd",
            "media/linked.pdf",
            "up/secret.txt",
            "media/certificate-000001.pdf\0",
            "media/missing.pdf",
            "./media/certificate-000001.pdf/..",
        ] {
            assert_eq!(pdf_path(&output, bad), None, "{bad:?}");
        }
    }
}
