//! A PostgreSQL server for the tests, and a database of its own for each test (so tests run in
//! parallel): the server `QUJAT_TEST_PG` names (`make test` starts a throwaway cluster with
//! tests/pg.sh and sets it), or else one this test binary starts itself with `tests/pg.sh serve`
//! and that stops when the binary exits. Where there is none, each test that needs one says so
//! loudly and is skipped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::util::repo;

/// The server.
pub struct Server {
    /// A URL of a superuser, on its `postgres` database.
    pub admin: String,
    /// `127.0.0.1:PORT` where it takes password logins (and TLS, with `cert`), if it does.
    pub tcp: Option<String>,
    /// The server's certificate (self-signed, for `localhost`).
    pub cert: Option<String>,
    /// The `tests/pg.sh serve` keeping it, if this binary started it.
    _serving: Option<std::sync::Mutex<Child>>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

fn find() -> Result<Server, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(admin) = env("QUJAT_TEST_PG") {
        return Ok(Server {
            admin,
            tcp: env("QUJAT_TEST_PG_TCP"),
            cert: env("QUJAT_TEST_PG_CERT"),
            _serving: None,
        });
    }
    if let Some(why) = env("QUJAT_TEST_PG_SKIPPED") {
        return Err(why);
    }
    let mut child = Command::new(repo().join("tests/pg.sh"))
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| format!("tests/pg.sh cannot be run: {err}"))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .map_err(|err| format!("tests/pg.sh serve: {err}"))?;
    let mut parts = line.split_whitespace();
    let Some(admin) = parts.next().map(str::to_string) else {
        let _ = child.wait();
        return Err("tests/pg.sh could not start a server (see above)".to_string());
    };
    Ok(Server {
        admin,
        tcp: parts.next().map(str::to_string),
        cert: parts.next().map(str::to_string),
        _serving: Some(std::sync::Mutex::new(child)),
    })
}

/// The server, or `None` after saying loudly that the test calling is skipped.
pub fn server(test: &str) -> Option<&'static Server> {
    match SERVER.get_or_init(find) {
        Ok(server) => Some(server),
        Err(why) => {
            eprintln!(
                "SKIPPED {test}: no PostgreSQL server ({why}); `make test` starts one \
                 (tests/pg.sh), or set QUJAT_TEST_PG=postgres://…"
            );
            None
        }
    }
}

/// A database of its own, with qujat's schema, dropped at the end.
pub struct Database {
    pub name: String,
    /// Its URL, as a superuser.
    pub url: String,
    admin: String,
}

static COUNT: AtomicU64 = AtomicU64::new(0);

/// `url` with the database `name` instead of its own.
pub fn with_db(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (scheme, rest) = base.split_once("://").expect("a URL");
    let authority = rest.split('/').next().unwrap_or_default();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{scheme}://{authority}/{name}{query}")
}

impl Server {
    /// A new, empty database (no qujat schema).
    pub fn empty_database(&self) -> Database {
        let name = format!(
            "qujat_test_{}_{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = self.client(&self.admin);
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
            ))
            .expect("CREATE DATABASE");
        Database {
            url: with_db(&self.admin, &name),
            name,
            admin: self.admin.clone(),
        }
    }

    /// A new database with qujat's schema (as `qujat registry init` makes it).
    pub fn database(&self) -> Database {
        let db = self.empty_database();
        let settings = qujat::store::postgres::Settings::parse(&db.url).unwrap();
        qujat::store::postgres::schema::init_at(&settings).unwrap();
        db
    }

    pub fn client(&self, url: &str) -> postgres::Client {
        postgres::Client::connect(url, postgres::NoTls).unwrap_or_else(|err| panic!("{url}: {err}"))
    }
}

impl Database {
    /// A copy of it, as it is now (`CREATE DATABASE … TEMPLATE`: nobody may be connected).
    pub fn copy(&self) -> Database {
        let name = format!(
            "qujat_test_{}_{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = postgres::Client::connect(&self.admin, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {}", self.name))
            .expect("CREATE DATABASE … TEMPLATE");
        Database {
            url: with_db(&self.admin, &name),
            name,
            admin: self.admin.clone(),
        }
    }

    /// A superuser's connection to it.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls)
            .unwrap_or_else(|err| panic!("{}: {err}", self.url))
    }

    /// The records of registry `code` as a journal: each line and a newline, in order — what
    /// `psql -At -c "SELECT line … ORDER BY seq"` prints.
    pub fn journal(&self, code: &str) -> Vec<u8> {
        let mut text = Vec::new();
        for row in self
            .client()
            .query(
                "SELECT line FROM qujat.records WHERE registry = $1 ORDER BY seq",
                &[&code],
            )
            .unwrap()
        {
            text.extend_from_slice(row.get::<_, &str>(0).as_bytes());
            text.push(b'\n');
        }
        text
    }

    /// The registries it has, by code.
    pub fn codes(&self) -> Vec<String> {
        self.client()
            .query(
                "SELECT code FROM qujat.registries ORDER BY code COLLATE \"C\"",
                &[],
            )
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect()
    }

    /// Runs SQL as a superuser with the append-only triggers off, as someone tampering with the
    /// registry by hand would.
    pub fn tamper(&self, sql: &str) {
        let mut client = self.client();
        client
            .batch_execute(&format!(
                "SET session_replication_role = replica; {sql}; SET session_replication_role = origin"
            ))
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl Database {
    /// What the database holds, as pseudo-files with the SHA-256 of their content, for
    /// comparing two databases as two registry folders are compared: each registry's journal,
    /// head and checkpoints, and each kept thing.
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, String> {
        let sha = |bytes: &[u8]| crate::util::sha256_hex(bytes);
        let mut files = std::collections::BTreeMap::new();
        let mut client = self.client();
        for code in self.codes() {
            files.insert(
                format!("registry/{code}/journal"),
                sha(&self.journal(&code)),
            );
            for row in client
                .query(
                    "SELECT seq, hash FROM qujat.heads WHERE registry = $1",
                    &[&code],
                )
                .unwrap()
            {
                let head = format!("{} {}", row.get::<_, i64>(0), row.get::<_, String>(1));
                files.insert(format!("registry/{code}/head"), sha(head.as_bytes()));
            }
            let checkpoints: Vec<String> = client
                .query(
                    "SELECT text FROM qujat.checkpoints WHERE registry = $1 ORDER BY n",
                    &[&code],
                )
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect();
            if !checkpoints.is_empty() {
                files.insert(
                    format!("registry/{code}/checkpoints"),
                    sha(checkpoints.join("\n").as_bytes()),
                );
            }
        }
        for row in client
            .query("SELECT kind, hash, bytes FROM qujat.kept", &[])
            .unwrap()
        {
            files.insert(
                format!(
                    "registry/{}s/{}",
                    row.get::<_, String>(0),
                    row.get::<_, String>(1)
                ),
                sha(row.get::<_, &[u8]>(2)),
            );
        }
        files
    }
}
