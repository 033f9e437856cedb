//! What signing costs per document (docs/signing.md): every PDF under a folder signed with a
//! test RSA 2048 key and a test ECDSA P-256 key, then verified.
//!
//! ```sh
//! target/debug/qujat batch --cases cases/sample --out /tmp/bench/out --registry /tmp/bench/reg
//! cargo run --release --example bench_sign -- --pdfs /tmp/bench/out [--rounds 3]
//! ```
//!
//! Keystores are opened before the clock starts (as a batch opens them once); each timed
//! signature includes parsing the PDF, building the update and the CMS, hashing the file and
//! the private-key operation. Prints one JSON object: milliseconds per document for each key and
//! for verification — wall clock and the thread's CPU time, which a busy machine inflates far
//! less — and the bytes a kept signature takes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use qujat::sign::{
    Crl, KeptSignature, PasswordSource, SignOptions, Signer, SigningTime, SoftwareSigner,
    TrustStore, VerifyOptions, sign_pdf, verify_pdf,
};

/// The CPU time this thread has used, in milliseconds.
fn cpu_ms() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6
}

fn pdfs(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).with_context(|| p.display().to_string()))
        .collect()
}

fn main() -> Result<()> {
    let mut dir = PathBuf::from("output");
    let mut rounds = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--pdfs" => dir = args.next().context("--pdfs DIR")?.into(),
            "--rounds" => rounds = args.next().context("--rounds N")?.parse()?,
            _ => bail!("usage: bench_sign [--pdfs DIR] [--rounds N]"),
        }
    }
    let docs = pdfs(&dir)?;
    if docs.is_empty() {
        bail!("no PDF under {}: run a batch first", dir.display());
    }
    let pki = Path::new(env!("CARGO_MANIFEST_DIR")).join("signing/test");
    let password = PasswordSource::File(pki.join("PASSWORD"));
    // Asqarov's test key is RSA 2048, Akhmetova's P-256 (signing/test/officials.toml).
    let rsa = SoftwareSigner::open(&pki.join("officials/asqarov-erlan.p12"), &password, None)?;
    let p256 = SoftwareSigner::open(&pki.join("officials/akhmetova-asel.p12"), &password, None)?;
    let time = SigningTime::issue_date("2026-11-24".parse()?, 300)?;
    let options = SignOptions::at(time);

    let mut results = serde_json::Map::new();
    let mut signed_rsa = Vec::new();
    for (name, signer) in [("rsa2048", &rsa as &dyn Signer), ("p256", &p256)] {
        let start = Instant::now();
        let cpu = cpu_ms();
        let mut last = Vec::new();
        for _ in 0..rounds {
            last = docs
                .iter()
                .map(|pdf| sign_pdf(pdf, signer, &options).map(|s| s.bytes))
                .collect::<Result<Vec<_>>>()?;
        }
        let n = (rounds * docs.len()) as f64;
        let ms = start.elapsed().as_secs_f64() * 1000.0 / n;
        results.insert(format!("{name}_ms_per_document"), ms.into());
        results.insert(
            format!("{name}_cpu_ms_per_document"),
            ((cpu_ms() - cpu) / n).into(),
        );
        if name == "rsa2048" {
            signed_rsa = last;
        }
    }

    let trust = TrustStore::load(&[pki.join("ca/root.pem")])?;
    let crl = Crl::load(&pki.join("ca/issuing.crl.pem"))?;
    let verify = VerifyOptions {
        trust: &trust,
        crl: Some(&crl),
        at: time,
    };
    let start = Instant::now();
    let cpu = cpu_ms();
    for signed in &signed_rsa {
        if !verify_pdf(signed, &verify).is_valid() {
            bail!("a benchmark signature does not verify");
        }
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / signed_rsa.len() as f64;
    results.insert("verify_ms_per_document".into(), ms.into());
    results.insert(
        "verify_cpu_ms_per_document".into(),
        ((cpu_ms() - cpu) / signed_rsa.len() as f64).into(),
    );

    let kept: usize = signed_rsa
        .iter()
        .map(|s| KeptSignature::extract(s).map(|k| k.to_bytes().len()))
        .sum::<Result<usize>>()?;
    results.insert("documents".into(), docs.len().into());
    results.insert("rounds".into(), rounds.into());
    results.insert(
        "kept_signature_bytes_per_document".into(),
        (kept / signed_rsa.len()).into(),
    );
    results.insert(
        "unsigned_bytes_per_document".into(),
        (docs.iter().map(Vec::len).sum::<usize>() / docs.len()).into(),
    );
    println!("{}", serde_json::Value::Object(results));
    Ok(())
}
