//! Signing: PAdES signatures on real rendered documents, judged by third-party verifiers
//! (poppler's `pdfsig`, pyHanko) as well as qujat's own; kept signatures that rebuild a signed
//! file without its key; the test PKI is what its generator makes.
//!
//! Tests that need an outside tool skip, saying so on standard error, only when the tool is
//! not installed; `make test` installs them (tests/deps.sh).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use qujat::sign::verify::{CheckKind, Outcome};
use qujat::sign::*;
use serde_json::Value;

use crate::util::*;

#[path = "../../examples/signing_test_pki.rs"]
mod test_pki;

fn pki() -> PathBuf {
    repo().join("signing/test")
}

fn password() -> PasswordSource {
    PasswordSource::File(pki().join("PASSWORD"))
}

fn signer(file: &str) -> SoftwareSigner {
    SoftwareSigner::open(&pki().join(file), &password(), None).unwrap()
}

fn noon(date: &str) -> SigningTime {
    SigningTime::issue_date(date.parse().unwrap(), 300).unwrap()
}

fn trust() -> TrustStore {
    TrustStore::load(&[pki().join("ca/root.pem")]).unwrap()
}

fn crl() -> Crl {
    Crl::load(&pki().join("ca/issuing.crl.pem")).unwrap()
}

fn verify(pdf: &[u8], at: &str) -> Report {
    let trust = trust();
    let crl = crl();
    verify_pdf(
        pdf,
        &VerifyOptions {
            trust: &trust,
            crl: Some(&crl),
            at: noon(at),
        },
    )
}

fn outcome(report: &Report, kind: CheckKind) -> (Outcome, String) {
    let check = report.signatures[0]
        .checks
        .iter()
        .find(|c| c.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} check in {report:#?}"));
    (check.outcome, check.detail.clone())
}

/// Whether `tool` runs; if not, says on standard error (past the test harness's capture)
/// which test is skipped and how to install what is missing.
fn have(tool: &str, install: &str, test: &str) -> bool {
    let found = Command::new(tool)
        .arg(if tool == "pyhanko" { "--version" } else { "-v" })
        .output()
        .is_ok();
    if !found {
        let _ = writeln!(
            std::io::stderr().lock(),
            "SKIPPED {test}: `{tool}` is not installed ({install})"
        );
    }
    found
}

/// A rendered sample document and what its record says.
struct Doc {
    pdf: PathBuf,
    official: String,
    issued: String,
    kind: String,
}

/// The shipped sample cases, rendered once by the real binary.
struct Rendered {
    /// Kept alive: the documents are in its folder.
    _project: Project,
    docs: Vec<Doc>,
}

fn rendered() -> &'static Rendered {
    static RENDERED: OnceLock<Rendered> = OnceLock::new();
    RENDERED.get_or_init(|| {
        let project = Project::with_samples();
        let run = project.batch(&[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut docs = Vec::new();
        for entry in std::fs::read_dir(project.registry()).unwrap() {
            let registry = entry.unwrap().file_name().to_string_lossy().into_owned();
            for record in project.records(&registry) {
                let official = record["data"]["case"]["decision"]["official"]["name"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no official in the record of {}", record["case_id"]))
                    .to_string();
                docs.push(Doc {
                    pdf: project.out().join(record["pdf"]["file"].as_str().unwrap()),
                    official,
                    issued: record["issued"].as_str().unwrap().to_string(),
                    kind: record["document"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
        docs.sort_by(|a, b| a.pdf.cmp(&b.pdf));
        assert!(docs.len() >= 100, "{} sample documents", docs.len());
        Rendered {
            _project: project,
            docs,
        }
    })
}

/// The test keys of the sample officials, by the `[signing]` section the generator writes.
fn officials() -> &'static (SigningConfig, Signers) {
    static OFFICIALS: OnceLock<(SigningConfig, Signers)> = OnceLock::new();
    OFFICIALS.get_or_init(|| {
        let text = std::fs::read_to_string(pki().join("officials.toml")).unwrap();
        let config = SigningConfig::parse(&text, &repo()).unwrap();
        let signers = config.open_signers().unwrap();
        (config, signers)
    })
}

/// Signs a rendered sample document with its official's test key at its issue date.
fn sign_doc(doc: &Doc) -> (Vec<u8>, SignedPdf) {
    let unsigned = std::fs::read(&doc.pdf).unwrap();
    let time = noon(&doc.issued);
    let signer = officials()
        .1
        .for_official(&doc.official, None, time)
        .unwrap();
    let mut options = SignOptions::at(time);
    options.name = Some(doc.official.clone());
    let signed = sign_pdf(&unsigned, signer.as_ref(), &options).unwrap();
    (unsigned, signed)
}

/// An NSS database trusting the test root, for pdfsig.
fn nss_db() -> &'static Path {
    static DB: OnceLock<tempfile::TempDir> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sql:{}", dir.path().display());
        let status = Command::new("certutil")
            .args(["-N", "-d", &db, "--empty-password"])
            .status()
            .unwrap();
        assert!(status.success());
        let root = pki().join("ca/root.pem");
        let status = Command::new("certutil")
            .args([
                "-A",
                "-d",
                &db,
                "-n",
                "qujat test root",
                "-t",
                "C,C,C",
                "-i",
            ])
            .arg(&root)
            .status()
            .unwrap();
        assert!(status.success());
        dir
    })
    .path()
}

fn pdfsig(path: &Path) -> String {
    let out = Command::new("pdfsig")
        .arg("-nssdir")
        .arg(format!("sql:{}", nss_db().display()))
        .arg(path)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn pyhanko(path: &Path, at: &str) -> (bool, String) {
    let out = Command::new("pyhanko")
        .args(["sign", "validate", "--trust-replace", "--trust"])
        .arg(pki().join("ca/root.pem"))
        .args(["--no-revocation-check", "--validation-time", at])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn tools_for_pdfsig(test: &str) -> bool {
    have("pdfsig", "Debian poppler-utils", test) && have("certutil", "Debian libnss3-tools", test)
}

#[test]
fn the_test_pki_is_what_its_generator_makes() {
    let generated = test_pki::generate().unwrap();
    for (path, bytes) in test_pki::plain_files(&generated).unwrap() {
        let committed = std::fs::read(pki().join(&path)).unwrap();
        assert!(
            committed == bytes,
            "signing/test/{path} differs from the generator's: run `cargo run --example \
             signing_test_pki`"
        );
    }
    for official in generated.officials.iter().chain(&generated.special) {
        assert!(
            test_pki::keystore_holds(&pki().join(&official.file), official).unwrap(),
            "signing/test/{} does not hold what the generator makes",
            official.file
        );
    }
    // Marked as test material, every one of them.
    for cert in [&generated.root.cert, &generated.issuing.cert] {
        assert!(
            cert.tbs_certificate()
                .subject()
                .to_string()
                .contains("TEST ONLY")
        );
    }
}

#[test]
fn every_sample_official_has_a_test_key_valid_on_the_decision_date() {
    let docs = &rendered().docs;
    let (_, signers) = officials();
    for doc in docs {
        signers
            .for_official(&doc.official, None, noon(&doc.issued))
            .unwrap_or_else(|e| panic!("{}: {e:#}", doc.pdf.display()));
    }
    // Half the officials sign with each algorithm, so the samples exercise both.
    let algorithms: std::collections::HashSet<String> = docs
        .iter()
        .map(|d| {
            let s = signers
                .for_official(&d.official, None, noon(&d.issued))
                .unwrap();
            format!("{:?}", s.algorithm().identifier.oid)
        })
        .collect();
    assert_eq!(algorithms.len(), 2);
}

#[test]
fn pdfsig_finds_every_sample_document_validly_signed_by_its_official() {
    if !tools_for_pdfsig("pdfsig_finds_every_sample_document_validly_signed_by_its_official") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for (i, doc) in rendered().docs.iter().enumerate() {
        let (_, signed) = sign_doc(doc);
        let path = dir.path().join(format!("{i}.pdf"));
        std::fs::write(&path, &signed.bytes).unwrap();
        let out = pdfsig(&path);
        let at = doc.pdf.display();
        assert!(
            out.contains("Signature Validation: Signature is Valid."),
            "{at}:\n{out}"
        );
        assert!(
            out.contains("Certificate Validation: Certificate is Trusted."),
            "{at}:\n{out}"
        );
        assert!(out.contains("Total document signed"), "{at}:\n{out}");
        assert!(
            out.contains("Signature Type: ETSI.CAdES.detached"),
            "{at}:\n{out}"
        );
        assert!(
            out.contains(&format!("Signer Certificate Common Name: {}", doc.official)),
            "{at} is signed by its official {}:\n{out}",
            doc.official
        );
        // qujat's own verifier agrees.
        let report = verify(&signed.bytes, &doc.issued);
        assert!(report.is_valid(), "{at}: {}", report.summary());
        kinds.insert(doc.kind.clone());
    }
    assert!(kinds.iter().any(|k| k.contains("refusal")), "{kinds:?}");
}

#[test]
fn pyhanko_finds_signed_documents_intact_and_trusted() {
    if !have(
        "pyhanko",
        "pip install pyhanko pyhanko-cli",
        "pyhanko_finds_signed_documents_intact_and_trusted",
    ) {
        return;
    }
    let docs = &rendered().docs;
    let (config, signers) = officials();
    // A certificate and a refusal, and each signature algorithm.
    let mut picked: Vec<&Doc> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for doc in docs {
        let signer = signers
            .for_official(&doc.official, None, noon(&doc.issued))
            .unwrap();
        let key = (
            doc.kind.contains("refusal"),
            format!("{:?}", signer.algorithm().identifier.oid),
        );
        if seen.insert(key) {
            picked.push(doc);
        }
    }
    assert_eq!(picked.len(), 4, "{}", config.officials.len());
    let dir = tempfile::tempdir().unwrap();
    for (i, doc) in picked.into_iter().enumerate() {
        let (_, signed) = sign_doc(doc);
        let path = dir.path().join(format!("{i}.pdf"));
        std::fs::write(&path, &signed.bytes).unwrap();
        let (ok, out) = pyhanko(&path, &format!("{}T12:00:00+05:00", doc.issued));
        assert!(ok, "{}:\n{out}", doc.pdf.display());
        assert!(
            out.contains(":INTACT:TRUSTED,UNTOUCHED"),
            "{}:\n{out}",
            doc.pdf.display()
        );
    }
}

#[test]
fn one_byte_changed_is_caught_by_pdfsig_pyhanko_and_qujat() {
    let doc = &rendered().docs[0];
    let (unsigned, signed) = sign_doc(doc);
    let mut altered = signed.bytes.clone();
    altered[unsigned.len() / 2] ^= 0x01;

    let report = verify(&altered, &doc.issued);
    assert!(!report.is_valid());
    assert!(report.signatures[0].is_altered(), "{}", report.summary());
    let (digest, why) = outcome(&report, CheckKind::Digest);
    assert_eq!(digest, Outcome::Failed);
    assert!(why.contains("altered after signing"), "{why}");
    assert!(report.summary().contains("ALTERED"), "{}", report.summary());
    // The signature value itself still holds: it is the document that changed.
    assert_eq!(outcome(&report, CheckKind::Signature).0, Outcome::Passed);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("altered.pdf");
    std::fs::write(&path, &altered).unwrap();
    if tools_for_pdfsig("one_byte_changed_is_caught_by_pdfsig_pyhanko_and_qujat") {
        let out = pdfsig(&path);
        assert!(!out.contains("Signature is Valid"), "{out}");
        assert!(out.contains("Digest Mismatch"), "{out}");
    }
    if have(
        "pyhanko",
        "pip install pyhanko pyhanko-cli",
        "one_byte_changed_is_caught_by_pdfsig_pyhanko_and_qujat",
    ) {
        let (ok, out) = pyhanko(&path, &format!("{}T12:00:00+05:00", doc.issued));
        assert!(!ok && out.contains(":INVALID"), "{out}");
    }
}

#[test]
fn bytes_added_after_signing_are_named() {
    let doc = &rendered().docs[1];
    let (_, signed) = sign_doc(doc);
    let mut longer = signed.bytes.clone();
    longer.extend_from_slice(b"\n% appended\n");
    let report = verify(&longer, &doc.issued);
    let (coverage, why) = outcome(&report, CheckKind::Coverage);
    assert_eq!(coverage, Outcome::Failed);
    assert!(why.contains("12 bytes follow the signed part"), "{why}");
    assert!(report.signatures[0].is_altered());
}

#[test]
fn a_forged_signature_value_is_caught() {
    let doc = &rendered().docs[2];
    let (_, signed) = sign_doc(doc);
    // The CMS ends with the signature value; its last non-zero hex digit is in it.
    let gap_end = {
        let text = String::from_utf8_lossy(&signed.bytes[signed.unsigned_len..]).into_owned();
        let at = text.find("/ByteRange [").unwrap() + "/ByteRange [".len();
        let numbers: Vec<usize> = text[at..]
            .split(']')
            .next()
            .unwrap()
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        numbers[2]
    };
    let hex_end = gap_end - 1; // the '>'
    let last = (0..hex_end)
        .rev()
        .find(|&i| signed.bytes[i] != b'0')
        .unwrap();
    let mut forged = signed.bytes.clone();
    forged[last] = if forged[last] == b'1' { b'2' } else { b'1' };
    let report = verify(&forged, &doc.issued);
    assert!(!report.is_valid());
    let (sig, why) = outcome(&report, CheckKind::Signature);
    assert_eq!(sig, Outcome::Failed, "{}", report.summary());
    assert!(why.contains("does not hold"), "{why}");
    assert_eq!(outcome(&report, CheckKind::Digest).0, Outcome::Passed);
    if tools_for_pdfsig("a_forged_signature_value_is_caught") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forged.pdf");
        std::fs::write(&path, &forged).unwrap();
        let out = pdfsig(&path);
        assert!(!out.contains("Signature is Valid"), "{out}");
    }
}

#[test]
fn signing_is_deterministic_and_a_kept_signature_rebuilds_the_file_without_the_key() {
    let doc = &rendered().docs[3];
    let unsigned = std::fs::read(&doc.pdf).unwrap();
    // A keystore that will be gone when the document is rebuilt.
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = officials();
    let key = config.key_for(&doc.official, None).unwrap();
    let keystore = dir.path().join("official.p12");
    std::fs::copy(&key.keystore, &keystore).unwrap();
    let time = noon(&doc.issued);
    let sign = || {
        let signer = SoftwareSigner::open(&keystore, &password(), None).unwrap();
        sign_pdf(&unsigned, &signer, &SignOptions::at(time)).unwrap()
    };
    let first = sign();
    let second = sign();
    assert!(
        first.bytes == second.bytes,
        "same input, key and time: same bytes"
    );
    assert_eq!(first.unsigned_len, unsigned.len());
    assert!(
        first.bytes.starts_with(&unsigned),
        "the rendered bytes are untouched"
    );

    let kept = KeptSignature::extract(&first.bytes).unwrap();
    assert_eq!(kept, KeptSignature::of(&unsigned, &first.bytes).unwrap());
    let stored = kept.to_bytes();
    std::fs::remove_file(&keystore).unwrap();

    // Rendered again (the renderer is byte-for-byte reproducible), and the kept bytes applied.
    let again = std::fs::read(&doc.pdf).unwrap();
    let rebuilt = KeptSignature::from_bytes(&stored)
        .unwrap()
        .apply(&again)
        .unwrap();
    assert!(rebuilt == first.bytes, "byte for byte, with no key");
    assert!(verify(&rebuilt, &doc.issued).is_valid());

    // A kept signature never lands on another rendering.
    let other = std::fs::read(&rendered().docs[4].pdf).unwrap();
    let err = kept.apply(&other).unwrap_err().to_string();
    assert!(err.contains("another rendering"), "{err}");
    // Nor does a damaged kept form read.
    let mut damaged = stored.clone();
    damaged.pop();
    assert!(KeptSignature::from_bytes(&damaged).is_err());
}

#[test]
fn a_pdf_with_a_cross_reference_stream_is_signed_with_one() {
    let test = "a_pdf_with_a_cross_reference_stream_is_signed_with_one";
    if !have("qpdf", "Debian qpdf", test) {
        return;
    }
    let doc = &rendered().docs[5];
    let dir = tempfile::tempdir().unwrap();
    let compressed = dir.path().join("objstm.pdf");
    let status = Command::new("qpdf")
        .args(["--object-streams=generate"])
        .arg(&doc.pdf)
        .arg(&compressed)
        .status()
        .unwrap();
    assert!(status.success());
    let unsigned = std::fs::read(&compressed).unwrap();
    assert!(memchr::memmem::find(&unsigned, b"/ObjStm").is_some());
    let time = noon(&doc.issued);
    let signer = officials()
        .1
        .for_official(&doc.official, None, time)
        .unwrap();
    let signed = sign_pdf(&unsigned, signer.as_ref(), &SignOptions::at(time)).unwrap();
    let update = &signed.bytes[signed.unsigned_len..];
    assert!(memchr::memmem::find(update, b"/Type /XRef").is_some());
    assert!(memchr::memmem::find(update, b"\nxref\n").is_none());
    assert!(verify(&signed.bytes, &doc.issued).is_valid());
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &signed.bytes).unwrap();
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    if tools_for_pdfsig(test) {
        let out = pdfsig(&path);
        assert!(out.contains("Signature is Valid"), "{out}");
        assert!(out.contains("Total document signed"), "{out}");
    }
    if have("pyhanko", "pip install pyhanko pyhanko-cli", test) {
        let (ok, out) = pyhanko(&path, &format!("{}T12:00:00+05:00", doc.issued));
        assert!(ok && out.contains(":INTACT:TRUSTED"), "{out}");
    }
}

#[test]
fn qpdf_finds_a_signed_document_well_formed() {
    if !have(
        "qpdf",
        "Debian qpdf",
        "qpdf_finds_a_signed_document_well_formed",
    ) {
        return;
    }
    let (_, signed) = sign_doc(&rendered().docs[6]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.pdf");
    std::fs::write(&path, &signed.bytes).unwrap();
    let check = Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{out}");
    assert!(out.contains("No syntax or stream encoding errors"), "{out}");
}

#[test]
fn an_expired_certificate_cannot_sign_and_does_not_verify() {
    let expired = signer("special/expired.p12");
    let doc = &rendered().docs[0];
    let unsigned = std::fs::read(&doc.pdf).unwrap();
    let err = sign_pdf(&unsigned, &expired, &SignOptions::at(noon("2026-11-24"))).unwrap_err();
    assert!(format!("{err:#}").contains("had expired"), "{err:#}");
    // Signed while it was valid, checked on a later issue date.
    let signed = sign_pdf(&unsigned, &expired, &SignOptions::at(noon("2024-06-03"))).unwrap();
    assert!(verify(&signed.bytes, "2024-06-03").is_valid());
    let report = verify(&signed.bytes, "2026-11-24");
    let (validity, why) = outcome(&report, CheckKind::Validity);
    assert_eq!(validity, Outcome::Failed);
    assert!(
        why.contains("had expired") && why.contains("2024-12-31"),
        "{why}"
    );
    assert!(!report.signatures[0].is_altered());
    // pdfsig judges a certificate at the current time, hence the test officials' long validity.
    if tools_for_pdfsig("an_expired_certificate_cannot_sign_and_does_not_verify") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("expired.pdf");
        std::fs::write(&path, &signed.bytes).unwrap();
        let out = pdfsig(&path);
        assert!(out.contains("Signature is Valid"), "{out}");
        assert!(out.contains("Certificate has Expired"), "{out}");
    }
}

#[test]
fn a_revoked_certificate_fails_after_its_revocation_only() {
    let revoked = signer("special/revoked.p12");
    let unsigned = std::fs::read(&rendered().docs[0].pdf).unwrap();
    let after = sign_pdf(&unsigned, &revoked, &SignOptions::at(noon("2026-11-24"))).unwrap();
    let report = verify(&after.bytes, "2026-11-24");
    let (revocation, why) = outcome(&report, CheckKind::Revocation);
    assert_eq!(revocation, Outcome::Failed);
    assert!(why.contains("revoked on 2026-11-10"), "{why}");
    let before = sign_pdf(&unsigned, &revoked, &SignOptions::at(noon("2026-11-05"))).unwrap();
    let report = verify(&before.bytes, "2026-11-05");
    assert!(report.is_valid(), "{}", report.summary());
    // Without a CRL, revocation is not checked, and the report says so.
    let trust = trust();
    let report = verify_pdf(
        &after.bytes,
        &VerifyOptions {
            trust: &trust,
            crl: None,
            at: noon("2026-11-24"),
        },
    );
    assert_eq!(
        outcome(&report, CheckKind::Revocation),
        (Outcome::NotChecked, "not checked: no CRL was given".into())
    );
}

#[test]
fn a_certificate_from_an_untrusted_ca_is_named_untrusted() {
    // The rogue key bears a sample official's name, from a CA outside the trust store.
    let rogue = signer("special/rogue.p12");
    let unsigned = std::fs::read(&rendered().docs[0].pdf).unwrap();
    let signed = sign_pdf(&unsigned, &rogue, &SignOptions::at(noon("2026-11-24"))).unwrap();
    let report = verify(&signed.bytes, "2026-11-24");
    let (chain, why) = outcome(&report, CheckKind::Chain);
    assert_eq!(chain, Outcome::Failed);
    assert!(
        why.contains("QUJAT TEST ROGUE CA") && why.contains("not in the trust store"),
        "{why}"
    );
    assert_eq!(outcome(&report, CheckKind::Signature).0, Outcome::Passed);
    if tools_for_pdfsig("a_certificate_from_an_untrusted_ca_is_named_untrusted") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rogue.pdf");
        std::fs::write(&path, &signed.bytes).unwrap();
        let out = pdfsig(&path);
        assert!(out.contains("Signature is Valid"), "{out}");
        assert!(!out.contains("Certificate is Trusted."), "{out}");
    }
}

#[test]
fn weak_keys_wrong_passwords_and_unsigned_files_get_clear_errors() {
    let err = SoftwareSigner::open(&pki().join("special/weak-rsa1024.p12"), &password(), None)
        .unwrap_err();
    assert!(format!("{err:#}").contains("1024 bits"), "{err:#}");

    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "not-the-password-XYZZY\n").unwrap();
    let keystore = pki().join("officials/asqarov-erlan.p12");
    let err = SoftwareSigner::open(&keystore, &PasswordSource::File(wrong), None).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("wrong keystore password"), "{text}");
    assert!(text.contains("asqarov-erlan.p12"), "{text}");
    assert!(!text.contains("XYZZY"), "a password never shows: {text}");

    let err = SoftwareSigner::open(
        &keystore,
        &PasswordSource::Env("QUJAT_TEST_SURELY_UNSET_VARIABLE".into()),
        None,
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("QUJAT_TEST_SURELY_UNSET_VARIABLE is not set"));

    let unsigned = std::fs::read(&rendered().docs[0].pdf).unwrap();
    let report = verify(&unsigned, "2026-11-24");
    assert!(!report.is_valid());
    assert_eq!(report.summary(), "the PDF carries no signature");
    let report = verify(b"%PDF-1.7\ngarbage", "2026-11-24");
    assert!(
        report.summary().contains("cannot be read as a PDF"),
        "{}",
        report.summary()
    );
}

/// Keystores as OpenSSL writes them (modern PBES2/AES and legacy 3DES/RC2), the way other
/// tools hand keys out, open and sign.
#[test]
fn keystores_written_by_openssl_open_and_sign() {
    if !have(
        "openssl",
        "Debian openssl",
        "keystores_written_by_openssl_open_and_sign",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pass = std::fs::read_to_string(pki().join("PASSWORD")).unwrap();
    let bytes = std::fs::read(pki().join("officials/akhmetova-asel.p12")).unwrap();
    let contents =
        qujat::sign::keystore::read_pkcs12(&bytes, &Password::new(pass.trim_end()), None).unwrap();
    let key_der = dir.path().join("key.der");
    std::fs::write(&key_der, &*contents.key_pkcs8).unwrap();
    let key_pem = dir.path().join("key.pem");
    assert!(
        Command::new("openssl")
            .args(["pkey", "-inform", "DER", "-in"])
            .arg(&key_der)
            .arg("-out")
            .arg(&key_pem)
            .status()
            .unwrap()
            .success()
    );
    let certs = dir.path().join("certs.pem");
    let mut pem = String::new();
    for cert in &contents.certificates {
        use der::EncodePem;
        pem.push_str(&cert.to_pem(der::pem::LineEnding::LF).unwrap());
    }
    std::fs::write(&certs, pem).unwrap();
    let unsigned = std::fs::read(&rendered().docs[0].pdf).unwrap();
    for legacy in [false, true] {
        let out = dir.path().join(format!("openssl-{legacy}.p12"));
        let mut cmd = Command::new("openssl");
        cmd.args(["pkcs12", "-export", "-inkey"])
            .arg(&key_pem)
            .arg("-in")
            .arg(&certs)
            .args(["-passout", "pass:openssl-made"])
            .arg("-out")
            .arg(&out);
        if legacy {
            cmd.arg("-legacy");
        }
        let status = cmd.output().unwrap();
        if legacy && !status.status.success() {
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED the legacy keystore: this OpenSSL lacks its legacy provider"
            );
            continue;
        }
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let signer = SoftwareSigner::from_pkcs12(
            &std::fs::read(&out).unwrap(),
            &Password::new("openssl-made"),
            None,
        )
        .unwrap();
        assert_eq!(signer.certificates().len(), 3, "the chain comes along");
        let signed = sign_pdf(&unsigned, &signer, &SignOptions::at(noon("2026-11-24"))).unwrap();
        assert!(verify(&signed.bytes, "2026-11-24").is_valid());
    }
}

#[test]
fn the_signature_dictionary_is_pades_b_b() {
    let (unsigned, signed) = sign_doc(&rendered().docs[0]);
    let update = String::from_utf8_lossy(&signed.bytes[unsigned.len()..]).into_owned();
    for part in [
        "/Type /Sig",
        "/Filter /Adobe.PPKLite",
        "/SubFilter /ETSI.CAdES.detached",
        "/M (D:",
        "/FT /Sig",
        "/F 132",
        "/SigFlags 3",
        "/AcroForm",
        "/Annots",
    ] {
        assert!(update.contains(part), "{part} missing from the update");
    }
    // The identity, metadata and PDF/A output intent of the original stay.
    let doc = qujat::sign::pdf::Document::parse(&signed.bytes).unwrap();
    let original = qujat::sign::pdf::Document::parse(&unsigned).unwrap();
    assert_eq!(doc.trailer.get("ID"), original.trailer.get("ID"));
    assert_eq!(doc.trailer.get("Info"), original.trailer.get("Info"));
    let catalog = doc.object(doc.root().unwrap()).unwrap();
    let catalog = catalog.as_dict().unwrap();
    let before = original.object(original.root().unwrap()).unwrap();
    for key in [
        "Metadata",
        "OutputIntents",
        "Pages",
        "StructTreeRoot",
        "Lang",
    ] {
        assert_eq!(
            catalog.get(key),
            before.as_dict().unwrap().get(key),
            "{key}"
        );
    }
    // No signing-time attribute (PAdES puts the time in /M), and a signing-certificate-v2.
    let report = verify(&signed.bytes, &rendered().docs[0].issued);
    assert_eq!(
        outcome(&report, CheckKind::SigningCertificate).0,
        Outcome::Passed
    );
    assert_eq!(
        report.signatures[0].claimed_time.as_deref(),
        Some(format!("{} 12:00:00 +05:00", rendered().docs[0].issued).as_str())
    );
}

/// The report is what `qujat verify` will print and serve as JSON.
#[test]
fn the_report_names_the_signer_in_json() {
    let doc = &rendered().docs[0];
    let (_, signed) = sign_doc(doc);
    let report = verify(&signed.bytes, &doc.issued);
    let json: Value = serde_json::to_value(&report).unwrap();
    let signer = &json["signatures"][0]["signer"];
    assert_eq!(signer["common_name"], doc.official.as_str());
    assert!(
        signer["issuer"]
            .as_str()
            .unwrap()
            .contains("QUJAT TEST ISSUING CA")
    );
    assert!(signer["serial"].as_str().unwrap().len() >= 32);
    assert_eq!(signer["valid_from"], "2026-01-01 00:00:00 UTC");
    assert!(
        json["signatures"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["outcome"] == "passed")
    );
}
