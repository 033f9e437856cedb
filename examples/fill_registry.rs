//! Grows a registry with synthetic records, for measuring commands on large registries
//! (`make bench`, docs/performance.md). Never run it on a real registry.
//!
//! ```sh
//! cargo run --example fill_registry -- REGISTRY_DIR|URL CODE RECORDS
//! ```
//!
//! REGISTRY is a folder of registries (or any place `qujat` takes); the registry CODE is grown
//! to RECORDS records in all.
//!
//! It opens the registry as a writer does (locked, verified; its checkpoints signed with the key
//! the configuration names, as a batch's) and appends records through it, in
//! groups, as a batch would, copied from its last document record: each with its own case id, the next number of the sequence, its own
//! content hash and QR payload, and `"synthetic": true` in its data. The chain, the numbering
//! and the head stay sound, so `registry check`, `export` and `regenerate` of the real records
//! work as on any registry; the synthetic records have no PDFs (`check --files` names them).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use qujat::registry::reader::Reader;
use qujat::registry::{Entry, Record, Writer, hash_json, parse_line, sha256_hex};
use serde_json::json;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root, code, records] = &args[..] else {
        bail!("usage: fill_registry REGISTRY CODE RECORDS");
    };
    let root = std::path::Path::new(root);
    let records: u64 = records.parse().context("RECORDS")?;
    let started = Instant::now();
    let store = qujat::store::open(root)?;
    let reader = Reader::open(store.as_ref(), code)?;
    let mut last = None;
    reader.log().scan(1, &mut |block| {
        for (_, line) in block.lines() {
            if line.ends_with(b"\"type\":\"document\"}}") {
                last = Some(line.to_vec());
            }
        }
        Ok(())
    })?;
    let base = parse_line(&last.context("the registry has no document record to copy")?)?.1;
    let mut writer = Writer::open(store.as_ref(), code, Duration::ZERO)?;
    // Its checkpoints signed as a batch's would be, with the key the configuration names.
    let config = qujat::config::Config::load(None)?;
    if let Some(signer) = config.checkpoint_signer()? {
        writer.sign_checkpoints(std::sync::Arc::new(signer), &config.checkpoint_origin());
    }
    let count = records.saturating_sub(writer.len());
    let Entry::Document(base) = base.entry else {
        unreachable!()
    };
    let prefix = base
        .qr
        .split_once('?')
        .map_or("https://qujat.gov.kz/verify", |(p, _)| p)
        .to_string();
    let mut n = writer
        .sequence_tails()
        .get(&base.sequence)
        .copied()
        .unwrap_or(0);
    let first_n = n + 1;
    for i in 0..count {
        let (seq, prev) = writer.next_link();
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
            prev,
            entry: Entry::Document(doc),
        };
        writer.stage(&record)?;
        if i % 4096 == 4095 {
            writer.flush()?;
        }
    }
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
