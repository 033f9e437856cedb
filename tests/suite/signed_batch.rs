//! The batch signs what it issues (issue 16): every sample document signed by its case's
//! official with the test keys of `signing/test/`, checked by pdfsig and pyHanko, its signature
//! kept beside the registry and named by its record; `verify` checks the signature and tells an
//! altered file; `regenerate` gives the signed bytes back with the keystores gone; cases whose
//! official cannot sign are rejected, located; a wrong password stops the batch before it writes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::util::{Project, copy_dir, repo, sha256_hex};

/// The `[signing]` section for a project: the test CA, CRL and password of the repository, and
/// keystores copied into the project (so a test may remove them).
fn signing_section(project: &Project, password_file: &Path) -> String {
    let pki = repo().join("signing/test");
    let keys = project.path().join("keys");
    if !keys.exists() {
        copy_dir(&pki.join("officials"), &keys);
    }
    let officials = std::fs::read_to_string(pki.join("officials.toml")).unwrap();
    let mut section = format!(
        "\n[signing]\ntrust = [{:?}]\ncrl = {:?}\npassword_file = {:?}\n",
        pki.join("ca/root.pem"),
        pki.join("ca/issuing.crl.pem"),
        password_file,
    );
    // The officials' entries, their keystores the project's copies.
    let entries = &officials[officials.find("[[signing.official]]").unwrap()..];
    section.push_str(&entries.replace("signing/test/officials/", "keys/"));
    section
}

/// A project with the sample cases, signing with the test keys.
fn signed_project() -> Project {
    let project = Project::with_samples();
    let section = signing_section(&project, &repo().join("signing/test/PASSWORD"));
    append_config(&project, &section);
    project
}

fn append_config(project: &Project, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(project.path().join("qujat.toml"))
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// A signed document of a batch, and what its record says.
struct Doc {
    registry: String,
    pdf: PathBuf,
    record: Value,
}

impl Doc {
    fn official(&self) -> &str {
        self.record["data"]["case"]["decision"]["official"]["name"]
            .as_str()
            .unwrap()
    }
}

/// The samples issued once by a signing batch (shared by the tests that only read them).
struct Issued {
    project: Project,
    docs: Vec<Doc>,
}

fn issued() -> &'static Issued {
    static ISSUED: OnceLock<Issued> = OnceLock::new();
    ISSUED.get_or_init(|| {
        let project = signed_project();
        let run = project.batch(&[]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        let docs = docs_of(&project);
        Issued { project, docs }
    })
}

fn docs_of(project: &Project) -> Vec<Doc> {
    let mut docs = Vec::new();
    for registry in project.codes() {
        for record in project.records(&registry) {
            docs.push(Doc {
                pdf: project.out().join(record["pdf"]["file"].as_str().unwrap()),
                registry: registry.clone(),
                record,
            });
        }
    }
    assert!(docs.len() >= 100, "{} sample documents", docs.len());
    docs
}

/// Whether `tool` runs; if not, says which test is skipped and what to install.
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

/// An NSS database trusting the test root, for pdfsig.
fn nss_db() -> &'static Path {
    static DB: OnceLock<tempfile::TempDir> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sql:{}", dir.path().display());
        assert!(
            Command::new("certutil")
                .args(["-N", "-d", &db, "--empty-password"])
                .status()
                .unwrap()
                .success()
        );
        assert!(
            Command::new("certutil")
                .args([
                    "-A",
                    "-d",
                    &db,
                    "-n",
                    "qujat test root",
                    "-t",
                    "C,C,C",
                    "-i"
                ])
                .arg(repo().join("signing/test/ca/root.pem"))
                .status()
                .unwrap()
                .success()
        );
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

#[test]
fn every_document_is_signed_by_its_official_and_its_record_names_the_signature() {
    let issued = issued();
    let store = issued.project.store();
    let mut kinds = std::collections::BTreeSet::new();
    for doc in &issued.docs {
        let at = doc.pdf.display();
        let bytes = std::fs::read(&doc.pdf).unwrap();
        let record = &doc.record;
        let signature = &record["signature"];
        assert!(signature.is_object(), "{at}: no signature in its record");
        // The record's hash is the signed file's; the page shows the certificate that signed.
        assert_eq!(record["pdf"]["sha256"], sha256_hex(&bytes), "{at}");
        assert_eq!(
            record["data"]["signature"]["certificate"], signature["certificate"],
            "{at}"
        );
        assert!(
            signature["subject"]
                .as_str()
                .unwrap()
                .contains(&format!("CN={}", doc.official())),
            "{at}: {signature}"
        );
        assert_eq!(
            signature["time"],
            format!(
                "D:{}120000+05'00'",
                record["issued"].as_str().unwrap().replace('-', "")
            ),
            "{at}: signed at noon of the issue date"
        );
        // The kept signature turns the rendered PDF into the signed one.
        let kept = store
            .kept(
                qujat::store::Kind::Signature,
                signature["kept"].as_str().unwrap(),
            )
            .unwrap()
            .unwrap_or_else(|| panic!("{at}: its signature is not kept"));
        let kept = qujat::sign::KeptSignature::from_bytes(&kept).unwrap();
        let unsigned_len = kept.unsigned_len as usize;
        assert_eq!(
            sha256_hex(&bytes[..unsigned_len]),
            signature["unsigned"].as_str().unwrap(),
            "{at}"
        );
        assert_eq!(kept.apply(&bytes[..unsigned_len]).unwrap(), bytes, "{at}");
        kinds.insert(record["document"].as_str().unwrap().to_string());
    }
    assert!(
        kinds.contains("refusal") && kinds.contains("certificate"),
        "{kinds:?}"
    );
}

#[test]
fn pdfsig_finds_every_issued_document_validly_signed_by_its_records_official() {
    let test = "pdfsig_finds_every_issued_document_validly_signed_by_its_records_official";
    if !have("pdfsig", "Debian poppler-utils", test)
        || !have("certutil", "Debian libnss3-tools", test)
    {
        return;
    }
    for doc in &issued().docs {
        let out = pdfsig(&doc.pdf);
        let at = doc.pdf.display();
        for expected in [
            "Signature Validation: Signature is Valid.",
            "Certificate Validation: Certificate is Trusted.",
            "Total document signed",
            "Signature Type: ETSI.CAdES.detached",
        ] {
            assert!(out.contains(expected), "{at}: no {expected:?} in\n{out}");
        }
        assert!(
            out.contains(&format!(
                "Signer Certificate Common Name: {}",
                doc.official()
            )),
            "{at} is signed by its record's official {}:\n{out}",
            doc.official()
        );
    }
}

#[test]
fn pyhanko_finds_an_issued_certificate_and_refusal_intact_and_trusted() {
    if !have(
        "pyhanko",
        "pip install pyhanko pyhanko-cli",
        "pyhanko_finds_an_issued_certificate_and_refusal_intact_and_trusted",
    ) {
        return;
    }
    let docs = &issued().docs;
    let mut checked = 0;
    for kind in ["certificate", "refusal", "attestat", "apostille"] {
        // Of each kind, one signed with RSA and one with ECDSA where the samples have both.
        let mut keys = std::collections::BTreeSet::new();
        for doc in docs.iter().filter(|d| d.record["document"] == kind) {
            let key = doc.record["data"]["signature"]["key"]
                .as_str()
                .unwrap()
                .to_string();
            if !keys.insert(key) {
                continue;
            }
            let out = Command::new("pyhanko")
                .args(["sign", "validate", "--trust-replace", "--trust"])
                .arg(repo().join("signing/test/ca/root.pem"))
                .args(["--no-revocation-check", "--validation-time"])
                .arg(format!(
                    "{}T12:00:00+05:00",
                    doc.record["issued"].as_str().unwrap()
                ))
                .arg(&doc.pdf)
                .output()
                .unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{}: {text}", doc.pdf.display());
            assert!(
                text.contains("INTACT:TRUSTED,UNTOUCHED"),
                "{}: {text}",
                doc.pdf.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} documents checked");
}

#[test]
fn verify_checks_the_signature_against_the_record_and_names_an_altered_file() {
    let issued = issued();
    let project = &issued.project;
    let doc = issued
        .docs
        .iter()
        .find(|d| d.record["document"] == "certificate")
        .unwrap();
    let path = doc.pdf.to_str().unwrap();
    let run = project.qujat(&["verify", path]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("GENUINE"), "{}", run.stdout);
    assert!(
        run.stdout.contains("signature  VALID — signed by")
            && run.stdout.contains(&format!(
                "the signer is the record's official, {}",
                doc.official()
            )),
        "{}",
        run.stdout
    );

    // One byte of the signed content changed: pdfsig and qujat both say so.
    let mut bytes = std::fs::read(&doc.pdf).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x01;
    let altered = project.path().join("altered.pdf");
    std::fs::write(&altered, &bytes).unwrap();
    let run = project.qujat(&["verify", altered.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("ALTERED"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("the document was altered after signing"),
        "{}",
        run.stdout
    );
    if have(
        "pdfsig",
        "Debian poppler-utils",
        "verify_checks_the_signature",
    ) && have(
        "certutil",
        "Debian libnss3-tools",
        "verify_checks_the_signature",
    ) {
        let out = pdfsig(&altered);
        assert!(!out.contains("Signature is Valid."), "{out}");
        assert!(out.contains("Digest Mismatch"), "{out}");
    }

    // Bytes appended after the signature: named as such.
    let mut appended = std::fs::read(&doc.pdf).unwrap();
    appended.extend_from_slice(b"% appended\n");
    std::fs::write(&altered, &appended).unwrap();
    let run = project.qujat(&["verify", altered.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("ALTERED") && run.stdout.contains("follow the signed part"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_signer_other_than_the_records_official_or_certificate_is_named() {
    // The signature checked against a record that names another official, then another
    // certificate: what a registry edited to disown or reassign a document would say.
    let doc = issued()
        .docs
        .iter()
        .find(|d| d.record["document"] == "refusal")
        .unwrap();
    let bytes = std::fs::read(&doc.pdf).unwrap();
    let pki = repo().join("signing/test");
    let trust = qujat::sign::check::SignatureTrust {
        trust: qujat::sign::TrustStore::load(&[pki.join("ca/root.pem")]).unwrap(),
        crl: Some(qujat::sign::Crl::load(&pki.join("ca/issuing.crl.pem")).unwrap()),
    };
    let entry: qujat::registry::DocumentEntry = serde_json::from_value(doc.record.clone()).unwrap();
    let finding = qujat::sign::check::check(&bytes, Some(&entry), &trust);
    assert!(
        matches!(finding, qujat::sign::check::Finding::Valid { .. }),
        "{finding}"
    );

    let mut other = entry.clone();
    other.data["case"]["decision"]["official"]["name"] = "Ким Олег Вячеславович".into();
    let finding = qujat::sign::check::check(&bytes, Some(&other), &trust).to_string();
    assert!(
        finding.starts_with("INVALID")
            && finding.contains(&format!("signed by {}", doc.official()))
            && finding.contains("the official who decided the case is Ким Олег Вячеславович"),
        "{finding}"
    );

    let mut other = entry.clone();
    other.signature.as_mut().unwrap().serial = "01".into();
    let finding = qujat::sign::check::check(&bytes, Some(&other), &trust).to_string();
    assert!(
        finding.starts_with("INVALID") && finding.contains("but its record names the certificate"),
        "{finding}"
    );
}

#[test]
fn verify_names_an_untrusted_signer() {
    // The configured trust store trusts only a CA that did not issue the test keys.
    let issued = issued();
    let project = &issued.project;
    let doc = issued.docs.first().unwrap();
    let other = project.path().join("other.toml");
    let config = std::fs::read_to_string(project.path().join("qujat.toml"))
        .unwrap()
        .replace(
            &format!("{:?}", repo().join("signing/test/ca/root.pem")),
            &format!("{:?}", repo().join("signing/test/ca/rogue.pem")),
        );
    std::fs::write(&other, config).unwrap();
    let run = project.qujat(&[
        "--config",
        other.to_str().unwrap(),
        "verify",
        doc.pdf.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("signature  INVALID"), "{}", run.stdout);
    assert!(run.stdout.contains("trust"), "{}", run.stdout);
}

#[test]
fn verify_without_a_trust_store_says_the_signer_cannot_be_checked() {
    let issued = issued();
    let project = &issued.project;
    let doc = issued.docs.first().unwrap();
    let config = std::fs::read_to_string(project.path().join("qujat.toml")).unwrap();
    let bare = project.path().join("no-signing.toml");
    std::fs::write(&bare, &config[..config.find("\n[signing]").unwrap()]).unwrap();
    let run = project.qujat(&[
        "--config",
        bare.to_str().unwrap(),
        "verify",
        doc.pdf.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("signature  INVALID — the signer cannot be checked")
            && run.stdout.contains("the signed bytes are intact"),
        "{}",
        run.stdout
    );
}

#[test]
fn regenerate_gives_the_signed_bytes_back_after_the_keystores_are_gone() {
    let project = signed_project();
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_dir_all(project.path().join("keys")).unwrap();
    let docs = docs_of(&project);
    let media: Vec<&Doc> = docs.iter().filter(|d| d.registry == "media").collect();
    let cases: std::collections::BTreeSet<&str> = media
        .iter()
        .map(|d| d.record["case_id"].as_str().unwrap())
        .collect();
    let out = project.path().join("again");
    for case in &cases {
        let run = project.qujat(&[
            "regenerate",
            "--registry",
            "media",
            "--case",
            case,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{case}: {}{}", run.stdout, run.stderr);
    }
    for doc in &media {
        let name = format!("media-{}", doc.pdf.file_name().unwrap().to_string_lossy());
        assert_eq!(
            std::fs::read(out.join(&name)).unwrap(),
            std::fs::read(&doc.pdf).unwrap(),
            "{name} regenerated is not the issued file"
        );
    }
    assert!(media.len() >= 20, "{} media documents", media.len());
}

#[test]
fn the_same_cases_sign_to_the_same_bytes() {
    let first = issued();
    let second = signed_project();
    let run = second.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = docs_of(&second);
    assert_eq!(first.docs.len(), again.len());
    for (a, b) in first.docs.iter().zip(&again) {
        assert_eq!(a.record, b.record);
        assert!(
            std::fs::read(&a.pdf).unwrap() == std::fs::read(&b.pdf).unwrap(),
            "{} differs between two runs",
            a.pdf.display()
        );
    }
    for code in first.project.codes() {
        assert_eq!(
            first.project.journal_bytes(&code),
            second.journal_bytes(&code),
            "registry {code}"
        );
    }
}

#[test]
fn a_case_whose_official_cannot_sign_is_rejected_where_it_is() {
    let project = Project::new();
    let sample =
        std::fs::read_to_string(repo().join("cases/sample/media/MR-2026-0123.xml")).unwrap();
    let official = "Асқаров Ерлан Болатұлы";
    assert!(sample.contains(official), "the sample's official changed");
    // One case whose official has no key, one whose certificate was not valid on its date.
    project.write_case(
        "nokey.xml",
        &sample.replace(official, "Белгісіз Адам Адамұлы"),
    );
    project.write_case(
        "expired.xml",
        &sample.replace("MR-2026-0123", "MR-2026-0923"),
    );
    let section = signing_section(&project, &repo().join("signing/test/PASSWORD"));
    let section = section.replace(
        "keys/asqarov-erlan.p12",
        repo()
            .join("signing/test/special/expired.p12")
            .to_str()
            .unwrap(),
    );
    append_config(&project, &section);
    let run = project.batch(&[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report = run.report(&project);
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    for (file, case, why) in [
        ("cases/nokey.xml", "MR-2026-0123", "has no signing key"),
        ("cases/expired.xml", "MR-2026-0923", "had expired"),
    ] {
        let found = rejected
            .iter()
            .find(|r| r["origin"]["file"] == file)
            .unwrap_or_else(|| panic!("{file} not rejected: {rejected:?}"));
        assert_eq!(found["case_id"], case, "{found}");
        let problem = &found["problems"][0];
        assert_eq!(problem["field"], "decision.official.name", "{found}");
        assert_eq!(problem["origin"]["pos"]["line"], 2, "{found}");
        assert!(problem.to_string().contains(why), "{found}");
        run.expect_stderr(&format!(
            "{file}, line 2: case \"{case}\": field decision.official.name"
        ));
    }
    assert!(project.codes().is_empty() || project.records("media").is_empty());
}

#[test]
fn a_wrong_keystore_password_stops_the_batch_before_it_writes() {
    let project = Project::with_samples();
    let wrong = project.path().join("wrong-password");
    std::fs::write(&wrong, "not the password\n").unwrap();
    let section = signing_section(&project, &wrong);
    append_config(&project, &section);
    let run = project.batch(&[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    run.expect_stderr("wrong keystore password");
    assert!(!run.stderr.contains("not the password"), "{}", run.stderr);
    assert!(!project.out().exists(), "the output folder was made");
    assert!(!project.registry().exists(), "the registry was made");
}

#[test]
fn records_written_before_signing_still_check_and_regenerate_beside_signed_ones() {
    // An unsigned batch, then the same registry with signing on and new cases.
    let project = Project::new();
    let sample =
        std::fs::read_to_string(repo().join("cases/sample/media/MR-2026-0123.xml")).unwrap();
    project.write_case("a.xml", &sample);
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let section = signing_section(&project, &repo().join("signing/test/PASSWORD"));
    append_config(&project, &section);
    project.write_case("b.xml", &sample.replace("MR-2026-0123", "MR-2026-0124"));
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let records = project.records("media");
    assert!(records[0].get("signature").is_none());
    assert!(records.last().unwrap()["signature"].is_object());
    let check = project.qujat(&["registry", "check", "--full", "--files"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let export = project.qujat(&["export", "--registry", "media"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    for record in &records {
        let out = project.path().join("again.pdf");
        let run = project.qujat(&[
            "regenerate",
            "--registry",
            "media",
            "--number",
            record["number"].as_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(project.out().join(record["pdf"]["file"].as_str().unwrap())).unwrap()
        );
        let verify = project.qujat(&["verify", out.to_str().unwrap()]);
        assert!(
            verify.stdout.contains("GENUINE") || verify.stdout.contains("NOT CONFIRMED"),
            "{}",
            verify.stdout
        );
    }
}

#[test]
fn registry_check_names_a_record_whose_kept_signature_is_missing_or_broken() {
    let project = Project::new();
    let sample =
        std::fs::read_to_string(repo().join("cases/sample/media/MR-2026-0123.xml")).unwrap();
    project.write_case("a.xml", &sample);
    let section = signing_section(&project, &repo().join("signing/test/PASSWORD"));
    append_config(&project, &section);
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let record = project.records("media").remove(0);
    let kept = record["signature"]["kept"].as_str().unwrap().to_string();
    let file = project
        .registry()
        .join("signatures")
        .join(format!("{kept}.der"));
    let bytes = std::fs::read(&file).unwrap();

    let check = project.qujat(&["registry", "check", "--full"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("signatures kept: 1"),
        "{}",
        check.stdout
    );

    // Gone: the quick check names the record.
    std::fs::remove_file(&file).unwrap();
    let check = project.qujat(&["registry", "check"]);
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains(&format!(
            "record 1 (certificate № {}): the signature it names ({kept}) is not kept",
            record["number"].as_str().unwrap()
        )),
        "{}",
        check.stdout
    );

    // There, but not the signature it was: only a whole read (`--full`) can tell.
    let mut edited = bytes.clone();
    let last = edited.len() - 1;
    edited[last] ^= 1;
    std::fs::write(&file, &edited).unwrap();
    let quick = project.qujat(&["registry", "check"]);
    assert_eq!(quick.code, 0, "{}{}", quick.stdout, quick.stderr);
    let full = project.qujat(&["registry", "check", "--full"]);
    assert_eq!(full.code, 1, "{}{}", full.stdout, full.stderr);
    assert!(
        full.stdout.contains("record 1 (certificate")
            && full.stdout.contains("does not match its hash"),
        "{}",
        full.stdout
    );

    std::fs::write(&file, &bytes).unwrap();
    let check = project.qujat(&["registry", "check", "--full"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

#[test]
fn serve_checks_an_uploaded_documents_signature_and_names_its_signer() {
    let issued = issued();
    let server = crate::serve::Server::start(&issued.project, &[]);
    let doc = issued
        .docs
        .iter()
        .find(|d| d.record["document"] == "certificate")
        .unwrap();
    let bytes = std::fs::read(&doc.pdf).unwrap();
    let answer = server.upload("document.pdf", &bytes);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.verdict(), "genuine");
    let page = answer.text();
    assert!(page.contains("data-signature=\"valid\""), "{page}");
    assert!(
        page.contains(&format!(
            "Электронная цифровая подпись действительна: документ подписал {}",
            doc.official()
        )),
        "{page}"
    );
    assert!(
        page.contains(doc.record["signature"]["serial"].as_str().unwrap()),
        "{page}"
    );
    let json = server
        .post("/api/v1/verify-pdf", "application/pdf", &bytes)
        .json();
    assert_eq!(json["signature"]["state"], "valid");
    assert_eq!(json["signature"]["signer"]["name"], doc.official());

    // One byte changed inside the signed range: no registry holds the file, and its own
    // signature shows it was changed after signing.
    let mut changed = bytes.clone();
    let at = changed.len() / 3;
    changed[at] ^= 1;
    let answer = server.upload("document.pdf", &changed);
    assert_eq!(answer.verdict(), "altered", "{}", answer.text());
    assert!(answer.text().contains("data-signature=\"altered\""));
    assert!(
        answer
            .text()
            .contains("Документ не подлинный: файл изменён после подписания"),
        "{}",
        answer.text()
    );
    assert!(
        answer
            .text()
            .contains("Электронная цифровая подпись: файл изменён после подписания.")
    );
    let json = server
        .post("/api/v1/verify-pdf", "application/pdf", &changed)
        .json();
    assert_eq!(json["verdict"], "altered");
    assert_eq!(json["signature"]["state"], "altered");
}
