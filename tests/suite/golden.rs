//! The engine's bytes, pinned: three reference documents typeset from frozen inputs
//! (`tests/golden/`) under every engine profile must keep the SHA-256 recorded in
//! `tests/golden/hashes.txt`. A crate update, a font change or a change to the rendering code that
//! alters one byte fails here, before any registered document fails to regenerate.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use qujat::registry::templates::TemplateBundle;
use qujat::render::{Engine, PdfMeta, Profile};
use qujat::shipped::{self, Files};

use crate::util::*;

/// The reference documents: name, template main file, data file, QR payload.
const DOCUMENTS: [(&str, &str, &str, &str); 3] = [
    (
        "refusal",
        "common/refusal.typ",
        "refusal.json",
        "https://qujat.gov.kz/verify?r=media&n=%D0%A8%D0%A5-2026%2F00003&c=\
         3c1e5ad1a0c7b8e9f2d4a6b8c0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8",
    ),
    (
        "certificate",
        "media/certificate.typ",
        "certificate.json",
        "https://qujat.gov.kz/verify?r=media&n=00017-%D0%93&c=\
         9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ),
    (
        "apostille",
        "apostille/apostille.typ",
        "apostille.json",
        "https://qujat.gov.kz/verify?r=apostille&n=2026-000004&c=\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
];

const HASHES: &str = "tests/golden/hashes.txt";

/// `document profile` → SHA-256, as recorded.
fn recorded() -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(repo().join(HASHES)).unwrap_or_default();
    let mut hashes = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        // `<sha256> <document> <profile name, which has spaces>`
        let mut parts = line.splitn(3, ' ');
        let (Some(hash), Some(document), Some(profile)) =
            (parts.next(), parts.next(), parts.next())
        else {
            panic!("{HASHES}: bad line {line:?}");
        };
        hashes.insert(
            (document.to_string(), profile.to_string()),
            hash.to_string(),
        );
    }
    hashes
}

#[test]
fn reference_documents_keep_their_bytes_under_every_engine_profile() {
    let engine = Engine::from_files(&Files::BuiltIn(&shipped::FONTS)).unwrap();
    let templates = Files::Dir(repo().join("tests/golden/templates"));
    let recorded = recorded();
    let overwrite = std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite");
    let (mut failures, mut added) = (Vec::new(), String::new());
    for (name, main, data, payload) in DOCUMENTS {
        let bundle = TemplateBundle::collect_from(&templates, main).unwrap();
        let template = engine.template(&bundle).unwrap();
        let data = std::fs::read(repo().join("tests/golden/data").join(data)).unwrap();
        let meta = PdfMeta {
            ident: format!("qujat:golden/{name}"),
            created: "2026-11-20".parse().unwrap(),
            creator: "qujat".into(),
        };
        for profile in Profile::ALL {
            let qr = profile.qr(payload).unwrap();
            let pdf = engine
                .render(&template, &data, &qr, &meta)
                .unwrap_or_else(|e| panic!("{name} under {:?}: {e}", profile.name()));
            // Typeset twice in one process: the engine's caches change nothing.
            let again = engine.render(&template, &data, &qr, &meta).unwrap();
            assert_eq!(
                sha256_hex(&pdf),
                sha256_hex(&again),
                "{name}: not deterministic"
            );
            let hash = sha256_hex(&pdf);
            match recorded.get(&(name.to_string(), profile.name().to_string())) {
                Some(kept) if *kept == hash => {}
                Some(kept) => failures.push(format!(
                    "{name} under engine profile {:?} is now {hash}, recorded as {kept}",
                    profile.name()
                )),
                None if overwrite => {
                    let _ = writeln!(added, "{hash} {name} {}", profile.name());
                }
                None => failures.push(format!(
                    "{name} under engine profile {:?} has no recorded hash (it would be {hash}): \
                     run SNAPSHOTS=overwrite cargo test --test suite golden:: to record it",
                    profile.name()
                )),
            }
        }
    }
    for (document, profile) in recorded.keys() {
        if Profile::named(profile).is_none() {
            failures.push(format!(
                "{HASHES} records {document} under engine profile {profile:?}, which this qujat \
                 no longer has: documents issued under it could not be regenerated"
            ));
        }
    }
    if !added.is_empty() {
        let path = repo().join(HASHES);
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&added);
        std::fs::write(&path, text).unwrap();
    }
    assert!(
        failures.is_empty(),
        "the engine's bytes changed:\n  {}\n\n\
         A crate that decides a document's bytes (Cargo.lock; the engine crates are pinned in \
         Cargo.toml), the fonts or the rendering code changed what documents already issued \
         under these profiles look like, byte for byte: they would no longer regenerate. Do not \
         re-record these hashes. Revert the change — or, for a deliberate engine upgrade, record \
         a new engine label instead: a new Profile in src/render/mod.rs (e.g. \"typst 0.16.0, qr \
         png\") made current, then SNAPSHOTS=overwrite cargo test --test suite golden:: appends \
         its hashes (tests/golden/README.md, docs/operations.md).",
        failures.join("\n  ")
    );
}
