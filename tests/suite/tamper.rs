//! The registry never says "genuine" or "sound" when it cannot know (issue 21): what an outside
//! auditor did to registries, and what qujat says of each. Every case starts from the samples
//! issued once; the tools used are what a forger has — the files, JSON and SHA-256 — plus
//! qujat's own Merkle code to recompute roots as a careful forger would.

use qujat::registry::merkle::{Tree, leaf_hash, to_hex};
use serde_json::Value;

use crate::util::*;

/// The samples issued once.
fn issued() -> Project {
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    project
}

fn lines(project: &Project, code: &str) -> Vec<String> {
    std::fs::read_to_string(project.journal_path(code))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Writes `records` as the registry's journal with every hash and link recomputed from record
/// `from` on (a forger's rewrite), and returns the new lines.
pub(crate) fn rewrite(
    project: &Project,
    code: &str,
    records: &[Value],
    from: usize,
) -> Vec<String> {
    let old = lines(project, code);
    let mut out = Vec::new();
    let mut prev = "0".repeat(64);
    for (i, record) in records.iter().enumerate() {
        if i + 1 < from {
            out.push(old[i].clone());
            prev = serde_json::from_str::<Value>(&old[i]).unwrap()["hash"]
                .as_str()
                .unwrap()
                .to_string();
            continue;
        }
        let mut record = record.clone();
        record["prev"] = Value::String(prev.clone());
        record["seq"] = Value::from(i as u64 + 1);
        let body = serde_json::to_string(&record).unwrap();
        prev = sha256_hex(body.as_bytes());
        out.push(format!("{{\"hash\":\"{prev}\",\"record\":{body}}}"));
    }
    std::fs::write(project.journal_path(code), out.join("\n") + "\n").unwrap();
    out
}

/// The Merkle root of a journal's first `size` lines.
fn root(lines: &[String], size: usize) -> String {
    let mut tree = Tree::new();
    for line in &lines[..size] {
        let hash = serde_json::from_str::<Value>(line).unwrap()["hash"]
            .as_str()
            .unwrap()
            .to_string();
        tree.push(leaf_hash(hash.as_bytes()));
    }
    to_hex(&tree.root())
}

/// Rewrites the head and every checkpoint to agree with `lines` (a careful forger).
pub(crate) fn rewrite_head_and_checkpoints(project: &Project, code: &str, lines: &[String]) {
    let dir = project.registry().join(code);
    let last: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    std::fs::write(
        dir.join("head.json"),
        format!(
            "{{\"seq\":{},\"hash\":\"{}\"}}\n",
            lines.len(),
            last["hash"].as_str().unwrap()
        ),
    )
    .unwrap();
    let checkpoints: String = std::fs::read_to_string(dir.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let size = serde_json::from_str::<Value>(line).unwrap()["size"]
                .as_u64()
                .unwrap() as usize;
            format!(
                "{{\"size\":{size},\"root\":\"{}\"}}\n",
                root(lines, size.min(lines.len()))
            )
        })
        .collect();
    std::fs::write(dir.join("checkpoints.jsonl"), checkpoints).unwrap();
}

fn check(project: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["registry", "check", "--registry", "media"];
    args.extend_from_slice(extra);
    project.qujat(&args)
}

#[track_caller]
fn says(run: &Run, part: &str) {
    assert!(
        run.stdout.contains(part) || run.stderr.contains(part),
        "{part:?} not in:\n{}{}",
        run.stdout,
        run.stderr
    );
}

fn pdf_of(project: &Project, record: &Value) -> String {
    project
        .out()
        .join(record["pdf"]["file"].as_str().unwrap())
        .to_string_lossy()
        .into_owned()
}

#[test]
fn an_edited_record_with_its_own_hash_recomputed_is_never_called_genuine() {
    let project = issued();
    let records = project.journal("media");
    let original = records[4].clone();
    let pdf = pdf_of(&project, &original);
    // The holder's name changed, the record's own hash recomputed; the next record's link left.
    let mut forged = original.clone();
    forged["holder"]["ru"] = Value::String("ТОО «Подставное лицо»".into());
    let mut text = lines(&project, "media");
    let body = serde_json::to_string(&forged).unwrap();
    text[4] = format!(
        "{{\"hash\":\"{}\",\"record\":{body}}}",
        sha256_hex(body.as_bytes())
    );
    std::fs::write(project.journal_path("media"), text.join("\n") + "\n").unwrap();

    let run = check(&project, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(
        &run,
        "line 6 (record 6): its prev does not name the record before it",
    );
    let run = project.qujat(&["verify", &pdf]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(!run.stdout.contains(": GENUINE"), "{}", run.stdout);
    says(&run, "NOT GENUINE");
    says(&run, "the record after its record (5) does not name it");
    // The QR code of the document: the same.
    let run = project.qujat(&["verify", "--payload", original["qr"].as_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(!run.stdout.contains(": GENUINE"), "{}", run.stdout);
}

#[test]
fn a_history_rewritten_from_an_edit_on_is_not_genuine_against_its_old_checkpoint() {
    let project = issued();
    let mut records = project.journal("media");
    let pdf = pdf_of(&project, &records[4]);
    records[4]["holder"]["ru"] = Value::String("ТОО «Подставное лицо»".into());
    // Every later record re-linked, the head rewritten — the checkpoints left as published.
    let text = rewrite(&project, "media", &records, 5);
    let dir = project.registry().join("media");
    let last: Value = serde_json::from_str(text.last().unwrap()).unwrap();
    std::fs::write(
        dir.join("head.json"),
        format!(
            "{{\"seq\":{},\"hash\":\"{}\"}}\n",
            text.len(),
            last["hash"].as_str().unwrap()
        ),
    )
    .unwrap();
    let run = project.qujat(&["verify", &pdf]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(&run, "NOT GENUINE");
    says(&run, "not the one the checkpoint of 25 records includes");
}

#[test]
fn content_that_is_not_the_hash_of_the_data_is_found_by_a_full_check_and_named_by_regenerate() {
    let project = issued();
    let mut records = project.journal("media");
    let number = records[2]["number"].as_str().unwrap().to_string();
    records[2]["data"]["case"]["title"] = Value::String("Басқа атау".into());
    // Every hash, the head and every checkpoint recomputed: only the content gives it away.
    let text = rewrite(&project, "media", &records, 3);
    rewrite_head_and_checkpoints(&project, "media", &text);
    std::fs::remove_file(project.registry().join("media/index.sqlite")).unwrap();
    let quick = check(&project, &[]);
    assert!(!quick.stdout.contains("content hash"), "{}", quick.stdout);
    let full = check(&project, &["--full"]);
    assert_eq!(full.code, 1, "{}", full.stdout);
    says(
        &full,
        "line 3 (record 3): its content hash is not the hash of its data",
    );
    let run = project.qujat(&["regenerate", "--registry", "media", "--number", &number]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(&run, "its record is damaged");
    assert!(!run.stdout.contains("bug in qujat"), "{}", run.stdout);
}

#[test]
fn a_deleted_head_is_a_finding() {
    let project = issued();
    std::fs::remove_file(project.registry().join("media/head.json")).unwrap();
    let run = check(&project, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(
        &run,
        "no head, which every batch writes before its checkpoint",
    );
}

#[test]
fn a_head_set_back_is_a_finding() {
    let project = issued();
    let text = lines(&project, "media");
    let hash = serde_json::from_str::<Value>(&text[19]).unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(
        project.registry().join("media/head.json"),
        format!("{{\"seq\":20,\"hash\":\"{hash}\"}}\n"),
    )
    .unwrap();
    let run = check(&project, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(&run, "the head was set back");
}

#[test]
fn deleted_checkpoints_are_a_finding() {
    for whole_file in [false, true] {
        let project = issued();
        // A second batch, so that there are two checkpoints.
        project.write_case(
            "later.xml",
            &cases_file(&[media_case("LATER-1", "2026-11-24", "Кейінгі")]),
        );
        assert_eq!(project.batch(&[]).code, 0);
        let path = project.registry().join("media/checkpoints.jsonl");
        if whole_file {
            std::fs::remove_file(&path).unwrap();
        } else {
            let text = std::fs::read_to_string(&path).unwrap();
            let kept: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
            std::fs::write(&path, kept).unwrap();
        }
        let run = check(&project, &[]);
        assert_eq!(run.code, 1, "{}", run.stdout);
        says(&run, "checkpoints were removed");
        // The next batch says so too, and goes on.
        let run = project.batch(&[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        says(&run, "checkpoints were removed");
    }
}

#[test]
fn a_well_formed_forged_record_appended_is_not_vouched_for() {
    let project = issued();
    let mut records = project.journal("media");
    // A copy of the last certificate under a new case and number, chained properly.
    let mut forged = records
        .iter()
        .rev()
        .find(|r| r["type"] == "document" && r["document"] == "certificate")
        .unwrap()
        .clone();
    forged["case_id"] = Value::String("FORGED-1".into());
    forged["number"] = Value::String("99999-Г".into());
    let next = records
        .iter()
        .filter(|r| r["sequence"] == "certificate")
        .filter_map(|r| r["n"].as_u64())
        .max()
        .unwrap()
        + 1;
    forged["n"] = Value::from(next);
    forged["pdf"]["sha256"] = Value::String(sha256_hex(b"a forged document"));
    records.push(forged);
    rewrite(&project, "media", &records, records.len());
    let run = check(&project, &[]);
    assert_eq!(run.code, 0, "its chain holds: {}", run.stdout);
    says(&run, "record 26 is covered by no checkpoint yet");
    says(&run, "basis:");
    let store = project.store();
    let reader = qujat::registry::reader::Reader::open(store.as_ref(), "media").unwrap();
    let found = reader.by_number("99999-Г").unwrap();
    assert_eq!(found.len(), 1);
    let verdict = qujat::commands::verify::judge(&reader, &found[0], None).unwrap();
    assert!(
        matches!(
            verdict,
            qujat::commands::verify::Verdict::Unconfirmed { .. }
        ),
        "{verdict}"
    );
    assert_eq!(verdict.exit_code(), 1);
}

#[test]
fn records_rolled_back_with_their_head_and_checkpoints_are_caught_by_the_index_or_a_trusted_checkpoint()
 {
    let project = issued();
    // A checkpoint published after the first batch (a copy kept outside the registry).
    let published = project.path().join("published.json");
    std::fs::copy(
        project.registry().join("media/checkpoints.jsonl"),
        &published,
    )
    .unwrap();
    project.write_case(
        "later.xml",
        &cases_file(&[
            media_case("LATER-1", "2026-11-24", "Кейінгі"),
            media_case("LATER-2", "2026-11-24", "Тағы"),
        ]),
    );
    assert_eq!(project.batch(&[]).code, 0);
    let published_later = project.path().join("published-later.json");
    let checkpoints =
        std::fs::read_to_string(project.registry().join("media/checkpoints.jsonl")).unwrap();
    std::fs::write(&published_later, checkpoints.lines().last().unwrap()).unwrap();
    // Roll back the second batch: its records, head and checkpoint.
    let text = lines(&project, "media");
    let kept = &text[..25];
    std::fs::write(project.journal_path("media"), kept.join("\n") + "\n").unwrap();
    let dir = project.registry().join("media");
    let last: Value = serde_json::from_str(kept.last().unwrap()).unwrap();
    std::fs::write(
        dir.join("head.json"),
        format!(
            "{{\"seq\":25,\"hash\":\"{}\"}}\n",
            last["hash"].as_str().unwrap()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("checkpoints.jsonl"),
        checkpoints.lines().next().unwrap().to_string() + "\n",
    )
    .unwrap();
    // The index, made by the writer of the second batch, still lists its records.
    let run = check(&project, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(&run, "records were removed or replaced");
    // A forger who also deletes the index: the registry alone cannot tell, and says so.
    std::fs::remove_file(dir.join("index.sqlite")).unwrap();
    let run = check(&project, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    says(&run, "pass --trusted-checkpoint FILE");
    // Against the checkpoint published after the second batch: caught.
    let run = check(
        &project,
        &["--trusted-checkpoint", published_later.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(&run, "the trusted checkpoint");
    // Against the one published after the first: sound, and the verdict says what it rests on.
    let run = check(
        &project,
        &["--trusted-checkpoint", published.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    says(&run, "against the trusted checkpoint given");
}

#[test]
fn a_proof_is_checked_against_a_trusted_checkpoint_not_the_one_it_carries() {
    let project = issued();
    let proof = project.path().join("proof.json");
    let run = project.qujat(&[
        "registry",
        "proof",
        "--registry",
        "media",
        "--number",
        "00001-Г",
        "--out",
        proof.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let published = project.path().join("published.json");
    std::fs::copy(
        project.registry().join("media/checkpoints.jsonl"),
        &published,
    )
    .unwrap();
    let run = project.qujat(&[
        "verify",
        "--proof",
        proof.to_str().unwrap(),
        "--trusted-checkpoint",
        published.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    says(&run, "(the trusted checkpoint)");
    // Another checkpoint trusted: the proof, consistent in itself, is refused.
    let other = project.path().join("other.json");
    std::fs::write(
        &other,
        format!("{{\"size\":25,\"root\":\"{}\"}}\n", "ab".repeat(32)),
    )
    .unwrap();
    let run = project.qujat(&[
        "verify",
        "--proof",
        proof.to_str().unwrap(),
        "--trusted-checkpoint",
        other.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(&run, "not the trusted one");
}

#[test]
fn a_whole_last_record_missing_only_its_end_of_line_is_kept() {
    let project = issued();
    let path = project.journal_path("media");
    let before = std::fs::read(&path).unwrap();
    // Remove the last newline, and the head and checkpoints (as if the batch died there).
    std::fs::write(&path, &before[..before.len() - 1]).unwrap();
    let dir = project.registry().join("media");
    std::fs::remove_file(dir.join("head.json")).unwrap();
    std::fs::remove_file(dir.join("checkpoints.jsonl")).unwrap();
    std::fs::remove_file(dir.join("index.sqlite")).unwrap();
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    says(
        &run,
        "its last record was written whole but for its end of line",
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the record was kept, not re-issued"
    );
}

#[test]
fn a_tail_larger_than_any_write_is_refused_and_left_as_it_is() {
    let project = issued();
    let path = project.journal_path("media");
    let mut bytes = std::fs::read(&path).unwrap();
    let whole = bytes.len();
    bytes.extend(std::iter::repeat_n(b'x', 100 << 20));
    std::fs::write(&path, &bytes).unwrap();
    let run = project.batch(&[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    says(
        &run,
        "more than any write of qujat leaves; nothing was changed",
    );
    let after = std::fs::metadata(&path).unwrap().len() as usize;
    assert_eq!(after, whole + (100 << 20), "the tail is still there");
}

#[test]
fn a_torn_tail_is_kept_aside_and_named_in_the_report() {
    let project = issued();
    let path = project.journal_path("media");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"hash\":\"3f2a");
    std::fs::write(&path, &bytes).unwrap();
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report(&project);
    let kept = report["kept_aside"][0]["file"].as_str().unwrap();
    assert_eq!(
        std::fs::read(project.path().join(kept)).unwrap(),
        b"{\"hash\":\"3f2a"
    );
    says(
        &run,
        "kept aside: registry media: the 13 bytes cut off its end are kept in",
    );
}

#[test]
fn registries_in_a_form_that_cannot_be_read_are_named_and_a_batch_stops_before_rendering() {
    for (what, damage) in [
        ("is not a folder", 0),
        ("is a folder, not a file", 1),
        ("is not a regular file", 2),
    ] {
        let project = issued();
        let registry = project.registry();
        let dir = registry.join("kkm");
        std::fs::remove_dir_all(&dir).unwrap();
        match damage {
            0 => std::fs::write(&dir, b"").unwrap(),
            1 => std::fs::create_dir_all(dir.join("journal.jsonl")).unwrap(),
            _ => {
                std::fs::create_dir_all(&dir).unwrap();
                std::os::unix::fs::symlink("/dev/zero", dir.join("journal.jsonl")).unwrap();
            }
        }
        let run = project.qujat(&["registry", "check"]);
        assert_eq!(run.code, 1, "{what}: {}", run.stdout);
        says(&run, "kkm: cannot be read — DAMAGED");
        says(&run, what);
        // A batch that would write to it stops before it renders anything.
        let pdfs = |project: &Project| {
            walkdir::WalkDir::new(project.out())
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "pdf"))
                .count()
        };
        let before = pdfs(&project);
        project.write_case(
            "later.xml",
            &cases_file(&[media_case("LATER-1", "2026-11-24", "Кейінгі")]),
        );
        let run = project.batch(&[]);
        assert_eq!(run.code, 2, "{what}: {}", run.stderr);
        says(&run, "registry kkm cannot be written");
        assert_eq!(pdfs(&project), before, "{what}: a PDF was rendered");
        assert_eq!(
            project.records("media").len(),
            24,
            "{what}: media was written"
        );
    }
}

#[test]
fn orphan_pdfs_are_listed_by_a_check_of_the_files() {
    let project = issued();
    let orphan = project.out().join("media/certificate-000099.pdf");
    std::fs::write(&orphan, b"%PDF-1.7 left by a killed batch").unwrap();
    let run = check(&project, &["--files"]);
    says(
        &run,
        "orphan: media/certificate-000099.pdf (no record names it)",
    );
    assert_eq!(
        run.code, 0,
        "an orphan is not damage to the registry: {}",
        run.stdout
    );
}

#[test]
fn an_output_folder_that_leads_to_a_system_folder_is_refused_and_the_real_one_named() {
    let project = Project::with_samples();
    let link = project.path().join("documents");
    std::os::unix::fs::symlink("/etc", &link).unwrap();
    let run = project.batch(&["--out", link.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    says(&run, "is /etc, a system folder");
    // A link to a folder of its own is followed, and the summary names where it leads.
    let real = project.path().join("real-output");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let run = project.batch(&["--out", link.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    says(
        &run,
        &format!(
            "output: {}",
            std::fs::canonicalize(&real).unwrap().display()
        ),
    );
}

/// A project whose registries sign their checkpoints with a key of its own; returns the public
/// key's file.
fn signing(project: &Project) -> std::path::PathBuf {
    let key = project.path().join("checkpoints.key");
    let public = project.path().join("checkpoints.pub");
    let run = project.qujat(&[
        "registry",
        "keygen",
        "--name",
        "test.example/registry",
        "--out",
        key.to_str().unwrap(),
        "--public",
        public.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = project.path().join("qujat.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[checkpoints]\nkey = \"checkpoints.key\"\nverifier = \"checkpoints.pub\"\n");
    std::fs::write(&config, text).unwrap();
    public
}

#[test]
fn a_history_rewritten_with_its_checkpoints_is_exposed_by_a_signed_checkpoint_kept_before() {
    let project = Project::with_samples();
    let public = signing(&project);
    assert_eq!(project.batch(&[]).code, 0);
    let checkpoints = project.registry().join("media/checkpoints.jsonl");
    let first: Value =
        serde_json::from_str(std::fs::read_to_string(&checkpoints).unwrap().trim()).unwrap();
    let note = first["note"].as_str().expect("a signed note");
    assert!(
        note.starts_with("qujat.gov.kz/registry/media\n25\n"),
        "{note}"
    );
    assert!(
        note.contains("\n\n\u{2014} test.example/registry "),
        "{note}"
    );
    // The note as published, kept outside the registry.
    let kept = project.path().join("published.note");
    std::fs::write(&kept, note).unwrap();
    let run = check(&project, &[]);
    assert_eq!(run.code, 0, "signed and sound: {}", run.stdout);
    project.write_case(
        "later.xml",
        &cases_file(&[media_case("LATER-1", "2026-11-24", "Кейінгі")]),
    );
    assert_eq!(project.batch(&[]).code, 0);

    // A consistent rewrite: record 3 changed, every hash, the head and every checkpoint's root
    // recomputed. The forger has no key: the notes are left as they were.
    let mut records = project.journal("media");
    records[2]["holder"]["ru"] = Value::String("ТОО «Подставное лицо»".into());
    let text = rewrite(&project, "media", &records, 3);
    rewrite_head_and_checkpoints_keeping(&project, "media", &text);
    std::fs::remove_file(project.registry().join("media/index.sqlite")).unwrap();
    let run = check(&project, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(
        &run,
        "is not signed by the registry's key test.example/registry",
    );
    // And against the note kept before, with the public key: the registry no longer extends it.
    let since = project.path().join("grew.json");
    let run = project.qujat(&[
        "registry",
        "proof",
        "--registry",
        "media",
        "--since",
        "25",
        "--out",
        since.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = project.qujat(&[
        "verify",
        "--proof",
        since.to_str().unwrap(),
        "--trusted-checkpoint",
        kept.to_str().unwrap(),
        "--key",
        public.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(&run, "PROOF FAILS");
    let run = check(&project, &["--trusted-checkpoint", kept.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    says(&run, "the trusted checkpoint (size 25");
}

/// Rewrites the head and every checkpoint's size and root to agree with `lines`, leaving each
/// checkpoint's signed note as it was (a forger without the key).
fn rewrite_head_and_checkpoints_keeping(project: &Project, code: &str, lines: &[String]) {
    let dir = project.registry().join(code);
    let notes: Vec<Option<String>> = std::fs::read_to_string(dir.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["note"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    rewrite_head_and_checkpoints(project, code, lines);
    let text: String = std::fs::read_to_string(dir.join("checkpoints.jsonl"))
        .unwrap()
        .lines()
        .zip(notes)
        .map(|(line, note)| {
            let mut value: Value = serde_json::from_str(line).unwrap();
            if let Some(note) = note {
                value["note"] = Value::String(note);
            }
            format!("{value}\n")
        })
        .collect();
    std::fs::write(dir.join("checkpoints.jsonl"), text).unwrap();
}
