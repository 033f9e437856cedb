//! Grows a registry with synthetic records, for measuring commands on large registries
//! (`make bench`, docs/performance.md). Never run it on a real registry.
//!
//! ```sh
//! cargo run --example fill_registry -- REGISTRY_DIR CODE COUNT
//! ```
//!
//! It takes the registry's writer lock, verifies it, and appends COUNT records copied from its
//! last document record: each with its own case id, the next number of the sequence, its own
//! content hash and QR payload, and `"synthetic": true` in its data. The chain, the numbering
//! and the head stay sound, so `registry check`, `export` and `regenerate` of the real records
//! work as on any registry; the synthetic records have no PDFs (`check --files` names them).

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qujat::registry::read::Reader;
use qujat::registry::{Entry, Record, Writer, hash_json, sha256_hex};
use serde_json::json;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root, code, count] = &args[..] else {
        bail!("usage: fill_registry REGISTRY_DIR CODE COUNT");
    };
    let root = std::path::Path::new(root);
    let count: u64 = count.parse().context("COUNT")?;
    let started = Instant::now();
    let base = Reader::open(root, code)?
        .find(
            |line| line.ends_with(b"\"type\":\"document\"}}"),
            |r| r.document().is_some(),
        )?
        .pop()
        .context("the registry has no document record to copy")?
        .record;
    let mut writer = Writer::open(root, code, Duration::ZERO)?;
    let Entry::Document(base) = base.entry else {
        unreachable!()
    };
    let prefix = base
        .qr
        .split_once('?')
        .map_or("https://qujat.gov.kz/verify", |(p, _)| p)
        .to_string();
    let journal = writer_journal(root, code);
    let mut file = std::fs::OpenOptions::new().append(true).open(&journal)?;
    let mut n = writer
        .sequence_tails()
        .get(&base.sequence)
        .copied()
        .unwrap_or(0);
    let first_n = n + 1;
    let (mut seq, mut prev) = writer.next_link();
    let mut buffer = Vec::with_capacity(8 << 20);
    for i in 0..count {
        n += 1;
        let mut doc = base.clone();
        let case_id = format!("SYN-{seq:08}");
        doc.case_id = case_id.clone();
        doc.n = n;
        doc.number = format!("{n:07}-SYN");
        doc.data["case"]["id"] = json!(case_id);
        doc.data["case"]["title"] = json!(format!("Синтетикалық басылым {i}"));
        doc.data["document"]["number"] = json!(doc.number);
        doc.data["synthetic"] = json!(true);
        doc.case_hash = sha256_hex(case_id.as_bytes());
        doc.content = hash_json(&doc.data);
        doc.pdf.file = format!("{code}/{}-{n:06}.pdf", doc.sequence);
        doc.pdf.ident = format!("qujat:{code}/{}/{n}", doc.sequence);
        doc.pdf.sha256 = sha256_hex(doc.pdf.ident.as_bytes());
        doc.qr = qujat::qr::Payload {
            registry: code.clone(),
            number: doc.number.clone(),
            content: doc.content.clone(),
        }
        .text(&prefix);
        doc.items.clear();
        doc.once = None;
        let record = Record {
            seq,
            prev: prev.clone(),
            entry: Entry::Document(doc),
        };
        let (line, hash) = qujat::registry::to_line(&record);
        buffer.extend_from_slice(line.as_bytes());
        if buffer.len() > (8 << 20) {
            file.write_all(&buffer)?;
            buffer.clear();
        }
        prev = hash;
        seq += 1;
    }
    file.write_all(&buffer)?;
    file.sync_all()?;
    drop(writer);
    // Re-open to verify what was written and record the head.
    writer = Writer::open(root, code, Duration::ZERO)?;
    writer.write_head()?;
    eprintln!(
        "registry {code}: {} records ({count} synthetic added) in {:.1} s",
        writer.len(),
        started.elapsed().as_secs_f64()
    );
    // For scripts (bench/registry.py): how big it is, and numbers to look up.
    let number = |n: u64| format!("{n:07}-SYN");
    println!(
        "{}",
        json!({
            "records": writer.len(),
            "middle_number": number(first_n + count / 2),
            "last_number": number(n),
        })
    );
    Ok(())
}

fn writer_journal(root: &std::path::Path, code: &str) -> std::path::PathBuf {
    qujat::registry::registry_dir(root, code).join("journal.jsonl")
}
