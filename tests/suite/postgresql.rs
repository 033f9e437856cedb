//! Registries in PostgreSQL (docs/registry.md, "PostgreSQL"), against a real server
//! ([`crate::pg`]): the storage conformance suite; the schema and its roles; the same records,
//! bytes and answers as the files driver; tamper evidence for rows changed by hand in SQL;
//! migration between files and PostgreSQL; TLS and passwords. The crash harness and the
//! concurrency tests run against PostgreSQL too (crash.rs, concurrency.rs).

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;

use crate::pg::{self, Database, Server};
use crate::util::*;

/// The server, or the test is skipped (said loudly).
macro_rules! server {
    ($test:expr) => {
        match pg::server($test) {
            Some(server) => server,
            None => return,
        }
    };
}

#[test]
fn the_conformance_suite_passes_against_postgresql() {
    let server = server!("postgresql::the_conformance_suite_passes_against_postgresql");
    let databases: Mutex<Vec<Database>> = Mutex::new(Vec::new());
    let make = || -> Box<dyn qujat::store::Store> {
        let db = server.database();
        let store = qujat::store::postgres::Postgres::open(&db.url).unwrap();
        databases.lock().unwrap().push(db);
        Box::new(store)
    };
    qujat::store::conformance::run(&qujat::store::conformance::Driver {
        make: &make,
        // A database commits whole transactions: there is no incomplete record to make.
        tear: None,
    })
    .unwrap_or_else(|err| panic!("{err:#}"));
}

/// `qujat <args>` in `dir` with `env` added.
fn qujat_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_qujat"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn registry_init_makes_a_versioned_schema_once_and_the_roles_can_only_append() {
    let server = server!("postgresql::registry_init");
    let db = server.empty_database();
    let project = Project::at(Place::Files);
    // Before init: the batch says what to do.
    let run = project.batch(&["--registry", &db.url]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    run.expect_stderr("holds no qujat registries yet: run `qujat registry init");
    // Init, twice: the second changes nothing.
    let init = project.qujat(&["registry", "init", "--registry-dir", &db.url]);
    assert_eq!(init.code, 0, "{}{}", init.stdout, init.stderr);
    assert!(
        init.stdout.contains("from version 0 to 1"),
        "{}",
        init.stdout
    );
    assert!(
        init.stdout
            .contains("qujat_writer and qujat_reader have their rights")
    );
    let again = project.qujat(&["registry", "init", "--registry-dir", &db.url]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("at version 1 already: nothing to do"),
        "{}",
        again.stdout
    );
    let mut admin = db.client();
    let versions: Vec<i32> = admin
        .query("SELECT version FROM qujat.schema_version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, [1]);
    // The SQL of docs/registry.md is the SQL init runs.
    let docs = std::fs::read_to_string(repo().join("docs/registry.md")).unwrap();
    for sql in [
        qujat::store::postgres::schema::V1,
        qujat::store::postgres::schema::ROLES,
    ] {
        assert!(
            docs.contains(sql.trim()),
            "docs/registry.md does not show the SQL of the schema as init runs it:\n{sql}"
        );
    }

    // A writer and a reader, as a DBA makes them (login roles in qujat's groups).
    let writer = format!("{}_writer", db.name);
    let reader = format!("{}_reader", db.name);
    admin
        .batch_execute(&format!(
            "CREATE ROLE {writer} LOGIN IN ROLE qujat_writer; \
             CREATE ROLE {reader} LOGIN IN ROLE qujat_reader;"
        ))
        .unwrap();
    let as_role = |role: &str| db.url.replacen("postgres@", &format!("{role}@"), 1);
    project.write_case(
        "media.xml",
        &cases_file(&[media_case("PG-1", "2026-11-20", "Алаш")]),
    );
    let run = project.batch(&["--registry", &as_role(&writer)]);
    assert_eq!(
        run.code, 0,
        "the writer role cannot run a batch:\n{}",
        run.stderr
    );
    let run = project.qujat(&["registry", "check", "--registry-dir", &as_role(&reader)]);
    assert_eq!(
        run.code, 0,
        "the reader role cannot check:\n{}{}",
        run.stdout, run.stderr
    );
    let run = project.qujat(&[
        "export",
        "--registry",
        "media",
        "--registry-dir",
        &as_role(&reader),
    ]);
    assert_eq!(
        run.code, 0,
        "the reader role cannot export:\n{}",
        run.stderr
    );
    // The reader cannot write; the writer cannot change or remove a record; nor can the owner,
    // short of turning the triggers off.
    let run = project.batch(&["--registry", &as_role(&reader)]);
    assert_eq!(run.code, 2);
    run.expect_stderr("permission denied");
    let mut as_writer = server.client(&as_role(&writer));
    for sql in [
        "UPDATE qujat.records SET line = line",
        "DELETE FROM qujat.records",
        "TRUNCATE qujat.records",
        "DELETE FROM qujat.checkpoints",
        "UPDATE qujat.kept SET bytes = ''",
    ] {
        let err = as_writer.batch_execute(sql).unwrap_err();
        assert!(
            err.to_string().contains("permission denied")
                || format!("{err:?}").contains("permission denied"),
            "the writer role may {sql}: {err:?}"
        );
    }
    for sql in [
        "UPDATE qujat.records SET line = line",
        "DELETE FROM qujat.records",
        "TRUNCATE qujat.records CASCADE",
        "UPDATE qujat.checkpoints SET text = text",
        "DELETE FROM qujat.kept",
    ] {
        let err = admin.batch_execute(sql).unwrap_err();
        assert!(
            format!("{err:?}").contains("registries are append-only"),
            "the owner may {sql}: {err:?}"
        );
    }
    drop(as_writer);
    drop(admin);
    drop(db);
    let mut admin = server.client(&server.admin);
    admin
        .batch_execute(&format!("DROP ROLE {writer}; DROP ROLE {reader};"))
        .unwrap();
}

/// Every file under `dir`, by path from it, with its bytes' SHA-256.
fn files_under(dir: &Path) -> std::collections::BTreeMap<String, String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        // Run reports (each named for the moment its run began) say when, not what.
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            !(name.starts_with("run-report") && name.ends_with(".json"))
        })
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                sha256_hex(&std::fs::read(e.path()).unwrap()),
            )
        })
        .collect()
}

/// Runs the same command in both projects; both must give the same exit code and output.
fn same_answer(files: &Project, pg: &Project, args: &[&str]) -> Run {
    let a = files.qujat(args);
    let b = pg.qujat(args);
    assert_eq!(
        (a.code, &a.stdout),
        (b.code, &b.stdout),
        "`qujat {}` answers differently on files and on PostgreSQL:\nfiles: {}{}\npostgres: {}{}",
        args.join(" "),
        a.stdout,
        a.stderr,
        b.stdout,
        b.stderr
    );
    a
}

#[test]
fn a_batch_into_postgresql_gives_the_same_records_bytes_and_answers_as_into_files() {
    let server = server!("postgresql::a_batch_into_postgresql_gives_the_same_answers");
    let files = Project::with_samples();
    let pg = Project::with_samples_at(Place::Postgres(server.database()));
    let (a, b) = (files.batch(&[]), pg.batch(&[]));
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(b.code, 0, "{}", b.stderr);
    // The same report, but for where the registries are and the moments the runs began and
    // ended.
    let (mut ra, mut rb) = (a.report(&files), b.report(&pg));
    for report in [&mut ra, &mut rb] {
        for key in ["registry", "output", "started", "finished"] {
            report.as_object_mut().unwrap().remove(key);
        }
    }
    assert_eq!(ra, rb, "the run reports differ");
    // The same records, byte for byte; the same PDFs; the same heads, checkpoints, templates.
    let codes = files.codes();
    assert_eq!(codes.len(), 8);
    assert_eq!(pg.codes(), codes);
    for code in &codes {
        assert!(
            files.journal_bytes(code) == pg.journal_bytes(code),
            "registry {code}: the records in PostgreSQL are not the journal's bytes"
        );
    }
    assert_eq!(
        files_under(&files.out()),
        files_under(&pg.out()),
        "the PDFs differ"
    );
    let db = pg.database().unwrap();
    let mut client = db.client();
    for code in &codes {
        let head: Value = serde_json::from_slice(
            &std::fs::read(files.registry().join(code).join("head.json")).unwrap(),
        )
        .unwrap();
        let row = client
            .query_one(
                "SELECT seq, hash FROM qujat.heads WHERE registry = $1",
                &[code],
            )
            .unwrap();
        assert_eq!(head["seq"], row.get::<_, i64>(0));
        assert_eq!(head["hash"], row.get::<_, String>(1));
        let checkpoints =
            std::fs::read_to_string(files.registry().join(code).join("checkpoints.jsonl")).unwrap();
        let rows: Vec<String> = client
            .query(
                "SELECT text FROM qujat.checkpoints WHERE registry = $1 ORDER BY n",
                &[code],
            )
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0) + "\n")
            .collect();
        assert_eq!(checkpoints, rows.concat(), "registry {code}: checkpoints");
    }
    for (name, hash) in files_under(&files.registry().join("templates")) {
        let bytes: Vec<u8> = client
            .query_one(
                "SELECT bytes FROM qujat.kept WHERE kind = 'template' AND hash = $1",
                &[&name.trim_end_matches(".json")],
            )
            .unwrap()
            .get(0);
        assert_eq!(sha256_hex(&bytes), hash);
    }

    // The same answers from every reader.
    let check = same_answer(&files, &pg, &["registry", "check", "--files"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
    same_answer(&files, &pg, &["registry", "check", "--full"]);
    // Scripts read the same JSON whichever store holds the registries.
    same_answer(&files, &pg, &["registry", "check", "--files", "--json"]);
    for code in &codes {
        same_answer(&files, &pg, &["export", "--registry", code]);
        same_answer(&files, &pg, &["export", "--registry", code, "--excel"]);
    }
    same_answer(
        &files,
        &pg,
        &["export", "--registry", "media", "--status", "superseded"],
    );
    let records = files.records("media");
    let first = &records[0];
    let number = first["number"].as_str().unwrap();
    let pdf = first["pdf"]["file"].as_str().unwrap();
    let run = same_answer(&files, &pg, &["verify", &format!("output/{pdf}")]);
    assert_eq!(run.code, 3, "{}", run.stdout); // superseded by MR-2026-0124's certificate
    same_answer(
        &files,
        &pg,
        &["verify", "--payload", first["qr"].as_str().unwrap()],
    );
    let run = same_answer(
        &files,
        &pg,
        &[
            "verify",
            "--json",
            &format!("output/{pdf}"),
            "--payload",
            first["qr"].as_str().unwrap(),
        ],
    );
    assert_eq!(
        (run.code, run.stdout.lines().count()),
        (3, 2),
        "{}",
        run.stdout
    );
    let run = same_answer(
        &files,
        &pg,
        &[
            "regenerate",
            "--registry",
            "media",
            "--number",
            number,
            "--out",
            "copy.pdf",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        std::fs::read(pg.path().join("copy.pdf")).unwrap(),
        std::fs::read(pg.out().join(pdf)).unwrap(),
        "the document regenerated from PostgreSQL is not the one issued"
    );
    same_answer(
        &files,
        &pg,
        &["regenerate", "--case", "MR-2026-0124", "--out", "copies"],
    );
    same_answer(
        &files,
        &pg,
        &[
            "regenerate",
            "--case",
            "MR-2026-0124",
            "--out",
            "copies",
            "--json",
        ],
    );
    same_answer(
        &files,
        &pg,
        &[
            "registry",
            "proof",
            "--registry",
            "media",
            "--number",
            number,
        ],
    );
    // Running again registers nothing, in both.
    let (a, b) = (files.batch(&[]), pg.batch(&[]));
    assert_eq!((a.code, b.code), (0, 0));
    assert_eq!(
        a.report(&files)["summary"],
        b.report(&pg)["summary"],
        "the second runs differ"
    );
    assert_eq!(b.report(&pg)["summary"]["issued"], 0);

    // The independent check of docs/registry.md, on an extract made with psql.
    independent_python_check(db, "media", 25);
}

/// Extracts registry `code` with psql and runs docs/registry.md's Python check on it.
fn independent_python_check(db: &Database, code: &str, records: usize) {
    let have = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("psql") || !have("python3") {
        eprintln!("SKIPPED the Python check of a psql extract: psql or python3 is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("journal.jsonl");
    let out = Command::new("psql")
        .args([
            &db.url,
            "-X",
            "-A",
            "-t",
            "-c",
            &format!("SELECT line FROM qujat.records WHERE registry = '{code}' ORDER BY seq"),
            "-o",
            extract.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = std::fs::read_to_string(repo().join("docs/registry.md")).unwrap();
    let start = docs
        .find("```python\nimport hashlib, json")
        .expect("the Python check in docs/registry.md");
    let script = &docs[start + "```python\n".len()..];
    let script = &script[..script.find("```").unwrap()];
    let script = script.replace("registry/media/journal.jsonl", extract.to_str().unwrap());
    let run = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        format!("ok, {records} records")
    );
}

/// The samples issued into a database of their own, and that database copied for each
/// tampering (CREATE DATABASE … TEMPLATE).
fn issued_in_postgresql(server: &Server) -> Project {
    let project = Project::with_samples_at(Place::Postgres(server.database()));
    let run = project.batch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    project
}

#[test]
fn a_row_changed_deleted_or_reordered_in_sql_is_named_by_registry_check() {
    let server = server!("postgresql::a_row_changed_deleted_or_reordered_in_sql");
    let project = issued_in_postgresql(server);
    let db = project.database().unwrap();
    let line = |seq: i64| -> String {
        db.client()
            .query_one(
                "SELECT line FROM qujat.records WHERE registry = 'media' AND seq = $1",
                &[&seq],
            )
            .unwrap()
            .get(0)
    };
    let (line10, line11) = (line(10), line(11));
    let cases: Vec<(String, &str, Vec<String>)> = vec![
        (
            "UPDATE qujat.records SET line = replace(line, '00007-ИА', '00077-ИА') \
             WHERE registry = 'media' AND seq = 7"
                .into(),
            "edited",
            vec!["line 7 (record 7): its content does not match its hash (edited?)".into()],
        ),
        (
            "DELETE FROM qujat.records WHERE registry = 'media' AND seq = 5".into(),
            "deleted",
            vec!["line 5: record 6 stands where record 5 should".into()],
        ),
        (
            format!(
                "UPDATE qujat.records SET line = CASE seq WHEN 10 THEN {} ELSE {} END \
                 WHERE registry = 'media' AND seq IN (10, 11)",
                quote(&line11),
                quote(&line10)
            ),
            "swapped",
            vec!["line 10: record 11 stands where record 10 should".into()],
        ),
        (
            "UPDATE qujat.records SET seq = seq + 1000 WHERE registry = 'media' AND seq IN (10, 11); \
             UPDATE qujat.records SET seq = 1021 - seq WHERE registry = 'media' AND seq > 1000"
                .into(),
            "renumbered",
            vec!["line 10: record 11 stands where record 10 should".into()],
        ),
        (
            "DELETE FROM qujat.records WHERE registry = 'media' AND seq > 22".into(),
            "cut back",
            vec!["ends at record 22, but its last writer left 25 records".into()],
        ),
    ];
    for (sql, what, names) in cases {
        let copy = Project::with_samples_at(Place::Postgres(db.copy()));
        copy.database().unwrap().tamper(&sql);
        let check = copy.qujat(&["registry", "check"]);
        assert_eq!(
            check.code, 1,
            "a record {what} in SQL went unnoticed:\n{}",
            check.stdout
        );
        for name in &names {
            assert!(
                squeeze(&check.stdout).contains(name),
                "a record {what} in SQL: `registry check` does not say {name:?}:\n{}",
                check.stdout
            );
        }
        assert!(check.stdout.contains("media: "), "{}", check.stdout);
        // And the next batch refuses to write to it.
        copy.write_case(
            "more.xml",
            &cases_file(&[media_case("NEW-1", "2026-11-24", "Жаңа")]),
        );
        let run = copy.batch(&[]);
        assert_eq!(
            run.code, 2,
            "a batch wrote to a registry {what} in SQL:\n{}",
            run.stderr
        );
        run.expect_stderr("registry \"media\"");
        run.expect_stderr("is damaged");
    }
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[test]
fn migrate_files_to_postgresql_and_back_gives_byte_identical_registries() {
    let server = server!("postgresql::migrate_files_to_postgresql_and_back");
    let project = Project::with_samples();
    assert_eq!(project.batch(&[]).code, 0);
    let set = project.qujat(&[
        "registry",
        "set-status",
        "--registry",
        "media",
        "--number",
        "00002-Г",
        "--status",
        "suspended",
        "--date",
        "2026-11-25",
        "--reason",
        "Приказ № 3",
    ]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let db = server.empty_database();
    let registry = project.registry().display().to_string();
    // Into an empty database (given its schema on the way).
    let run = project.qujat(&["registry", "migrate", "--from", &registry, "--to", &db.url]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("media: 26 records (26 copied)"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("postgres@"),
        "the URL is shown whole: {}",
        run.stdout
    );
    // Again: nothing to copy, and it says so.
    let again = project.qujat(&["registry", "migrate", "--from", &registry, "--to", &db.url]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("media: 26 records (0 copied)"),
        "{}",
        again.stdout
    );
    // The same answers from the copy.
    let check = |place: &str| {
        let run = project.qujat(&["registry", "check", "--files", "--registry-dir", place]);
        assert_eq!(run.code, 0, "{}", run.stdout);
        run.stdout
    };
    assert_eq!(check(&registry), check(&db.url));
    // And back into files: the same bytes.
    let back = tempfile::tempdir().unwrap();
    let back_dir = back.path().join("registry");
    let run = project.qujat(&[
        "registry",
        "migrate",
        "--from",
        &db.url,
        "--to",
        back_dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let without_index = |dir: &Path| {
        let mut files = files_under(dir);
        files.retain(|name, _| !name.contains("index.sqlite") && !name.ends_with("writer.lock"));
        files
    };
    let (original, returned) = (without_index(&project.registry()), without_index(&back_dir));
    assert!(original.keys().any(|k| k.ends_with("journal.jsonl")));
    assert_eq!(
        original, returned,
        "files → PostgreSQL → files changed bytes"
    );

    // A destination that differs is refused, and nothing is copied into it.
    let other = Project::with_samples_at(Place::Files);
    std::fs::remove_file(other.cases().join("media/MR-2026-0124.xml")).unwrap();
    assert_eq!(other.batch(&[]).code, 0);
    let differing = server.empty_database();
    let into =
        |from: &str, to: &str| project.qujat(&["registry", "migrate", "--from", from, "--to", to]);
    assert_eq!(
        into(&other.registry().display().to_string(), &differing.url).code,
        0
    );
    let before = differing.snapshot();
    let run = into(&registry, &differing.url);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    run.expect_stderr("differs from the source");
    assert_eq!(
        differing.snapshot(),
        before,
        "a refused migrate changed the destination"
    );
    // A destination holding the first part of the source (an earlier copy) is completed.
    let earlier = Project::with_samples();
    assert_eq!(earlier.batch(&[]).code, 0);
    let partial = server.empty_database();
    assert_eq!(
        into(&earlier.registry().display().to_string(), &partial.url).code,
        0
    );
    let run = into(&registry, &partial.url);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("media: 26 records (1 copied)"),
        "{}",
        run.stdout
    );
    assert_eq!(partial.snapshot(), db.snapshot());
}

#[test]
fn the_registry_place_comes_from_the_flag_the_environment_or_qujat_toml() {
    let server = server!("postgresql::the_registry_place");
    let db = server.database();
    let project = Project::new();
    project.write_case(
        "media.xml",
        &cases_file(&[media_case("ENV-1", "2026-11-20", "Орда")]),
    );
    let run = qujat_in(
        project.path(),
        &["batch", "--today", TODAY],
        &[("QUJAT_REGISTRY", db.url.as_str())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!project.registry().exists(), "QUJAT_REGISTRY was not used");
    assert_eq!(db.codes(), ["media"]);
    let run = qujat_in(
        project.path(),
        &["export", "--registry", "media"],
        &[("QUJAT_REGISTRY", db.url.as_str())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("ENV-1"), "{}", run.stdout);
    // The flag wins over the environment.
    let run = qujat_in(
        project.path(),
        &["registry", "check", "--registry-dir", "registry"],
        &[("QUJAT_REGISTRY", db.url.as_str())],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    run.expect_stderr("there are no registries in the registry folder registry");
}

#[test]
fn passwords_and_tls_follow_libpq_and_a_password_is_never_shown() {
    let server = server!("postgresql::passwords_and_tls");
    let Some(tcp) = &server.tcp else {
        eprintln!("SKIPPED passwords_and_tls: the server takes no TCP logins");
        return;
    };
    let db = server.database();
    let role = format!("{}_login", db.name);
    // The group whose members tests/pg.sh lets in over TLS only (roles are the server's: made
    // once, by whichever test gets there first).
    let _ = server.client(&server.admin).batch_execute(
        "DO $$ BEGIN CREATE ROLE qujat_test_tls_only NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
    );
    let secret = "s3cret-Пароль";
    let mut admin = db.client();
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{secret}' IN ROLE qujat_writer"
        ))
        .unwrap();
    let port = tcp.rsplit(':').next().unwrap();
    let project = Project::new();
    project.write_case(
        "media.xml",
        &cases_file(&[media_case("TLS-1", "2026-11-20", "Дала")]),
    );
    let encoded = "s3cret-%D0%9F%D0%B0%D1%80%D0%BE%D0%BB%D1%8C";
    let base = format!("postgresql://{role}@localhost:{port}/{}", db.name);
    // A wrong password: refused, and no password in any message.
    let wrong = format!(
        "postgresql://{role}:not-it@localhost:{port}/{}?sslmode=disable",
        db.name
    );
    let run = project.batch(&["--registry", &wrong]);
    assert_eq!(run.code, 2);
    run.expect_stderr("password authentication failed");
    assert!(!run.stderr.contains("not-it"), "{}", run.stderr);
    // The password in the URL, in PGPASSWORD, in a password file.
    let in_url = format!(
        "postgresql://{role}:{encoded}@localhost:{port}/{}?sslmode=disable",
        db.name
    );
    let run = project.batch(&["--registry", &in_url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = std::fs::read_to_string(project.out().join("run-report.json")).unwrap();
    for shown in [&run.stderr, &run.stdout, &report] {
        assert!(!shown.contains("s3cret"), "the password is shown: {shown}");
    }
    assert!(
        report.contains(&format!("postgresql://{role}@localhost:{port}/")),
        "{report}"
    );
    let check = |url: &str, env: &[(&str, &str)]| {
        qujat_in(
            project.path(),
            &["registry", "check", "--registry-dir", url],
            env,
        )
    };
    let run = check(
        &format!("{base}?sslmode=disable"),
        &[("PGPASSWORD", secret)],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let passfile = project.path().join("pgpass");
    std::fs::write(&passfile, format!("localhost:{port}:*:{role}:{secret}\n")).unwrap();
    let mut permissions = std::fs::metadata(&passfile).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
    std::fs::set_permissions(&passfile, permissions).unwrap();
    let run = check(
        &format!("{base}?sslmode=disable"),
        &[("PGPASSFILE", passfile.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // TLS: verified against the server's certificate (made for localhost).
    let Some(cert) = &server.cert else {
        eprintln!("SKIPPED the TLS part of passwords_and_tls: the server has no certificate");
        return;
    };
    let env = [("PGPASSWORD", secret)];
    let run = check(
        &format!("{base}?sslmode=verify-full&sslrootcert={cert}"),
        &env,
    );
    assert_eq!(run.code, 0, "verify-full: {}{}", run.stdout, run.stderr);
    let by_address = format!(
        "postgresql://{role}@127.0.0.1:{port}/{}?sslmode=verify-full&sslrootcert={cert}",
        db.name
    );
    let run = check(&by_address, &env);
    assert_eq!(
        run.code, 2,
        "a certificate for localhost passed for 127.0.0.1"
    );
    run.expect_stderr("not valid for name");
    let run = check(&by_address.replace("verify-full", "verify-ca"), &env);
    assert_eq!(run.code, 0, "verify-ca: {}{}", run.stdout, run.stderr);
    let run = check(&format!("{base}?sslmode=require"), &env);
    assert_eq!(run.code, 0, "require: {}{}", run.stdout, run.stderr);
    // A root the server's certificate does not chain to.
    let other = project.path().join("other.crt");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=other",
        ])
        .arg("-keyout")
        .arg(project.path().join("other.key"))
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(made.status.success());
    let run = check(
        &format!("{base}?sslmode=verify-ca&sslrootcert={}", other.display()),
        &env,
    );
    assert_eq!(
        run.code, 2,
        "a server certificate no trusted root signed passed"
    );
    // The role may log in over TLS only (tests/pg.sh: `hostnossl … +qujat_test_tls_only
    // reject`): what passed above was encrypted, and plain TCP is turned away.
    admin
        .batch_execute(&format!("GRANT qujat_test_tls_only TO {role}"))
        .unwrap();
    let run = check(&format!("{base}?sslmode=require"), &env);
    assert_eq!(
        run.code, 0,
        "require, TLS only: {}{}",
        run.stdout, run.stderr
    );
    let run = check(&format!("{base}?sslmode=disable"), &env);
    assert_eq!(run.code, 2, "a TLS-only role logged in without TLS");
    drop(admin);
    drop(db);
    let _ = server
        .client(&server.admin)
        .batch_execute(&format!("DROP ROLE {role}"));
}
