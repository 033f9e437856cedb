//! The database schema qujat owns (schema `qujat`), its versions, and the roles it grants.
//!
//! `qujat registry init` applies every migration the database lacks, each in the same
//! transaction as its row in `qujat.schema_version`, under a transaction-level advisory lock so
//! that two inits at once apply each migration once; then it makes sure the roles exist and
//! have their grants. Running it again changes nothing. Every other connection only checks the
//! version: a database of another version is refused with what to do.
//!
//! The SQL is docs/registry.md's ("PostgreSQL"); a test keeps the two the same.

use anyhow::{Context, Result, bail};
use postgres::GenericClient;

use super::connect::chain;

/// The schema version this qujat writes and reads.
pub const VERSION: i32 = 1;

/// The advisory lock class of qujat's locks (`'qjt'`): with a registry's id, its writer's lock;
/// with 0, the lock of `registry init`.
pub const LOCK_CLASS: i32 = 0x0071_6a74;

/// Migration `n` is `MIGRATIONS[n - 1]`: what it is, and its SQL.
pub const MIGRATIONS: &[(&str, &str)] = &[("registries, records and their index", V1)];

/// Version 1.
pub const V1: &str = r#"
CREATE TABLE qujat.registries (
    code     text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$'),
    -- the key of the registry's writer lock: pg_advisory_lock(7432820, id)
    id       integer GENERATED ALWAYS AS IDENTITY UNIQUE,
    created  timestamptz NOT NULL DEFAULT now()
);

-- The registry itself: each record as the exact line qujat wrote, {"hash":…,"record":…}.
CREATE TABLE qujat.records (
    registry text   NOT NULL REFERENCES qujat.registries (code),
    seq      bigint NOT NULL CHECK (seq > 0),
    line     text   NOT NULL CHECK (strpos(line, E'\n') = 0),
    PRIMARY KEY (registry, seq)
);

-- The last record a writer finished with: a tripwire for records cut off the end.
CREATE TABLE qujat.heads (
    registry text   PRIMARY KEY REFERENCES qujat.registries (code),
    seq      bigint NOT NULL,
    hash     text   NOT NULL
);

-- Merkle checkpoints, oldest first.
CREATE TABLE qujat.checkpoints (
    registry text   NOT NULL REFERENCES qujat.registries (code),
    n        bigint NOT NULL CHECK (n > 0),
    text     text   NOT NULL,
    PRIMARY KEY (registry, n)
);

-- Template versions and kept signatures, by the SHA-256 of their bytes.
CREATE TABLE qujat.kept (
    kind  text  NOT NULL CHECK (kind IN ('template', 'signature')),
    hash  text  NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    bytes bytea NOT NULL,
    PRIMARY KEY (kind, hash)
);

-- The index (derived: made again from the records when it disagrees with them): what each
-- record verified by a writer is looked up by.
CREATE TABLE qujat.facts (
    registry text   NOT NULL,
    seq      bigint NOT NULL,
    hash     bytea  NOT NULL CHECK (length(hash) = 32),
    service  text,
    case_id  text,
    document text,
    number   text,
    once     text,
    pdf      text,
    target   bigint,
    PRIMARY KEY (registry, seq)
);
CREATE INDEX facts_case   ON qujat.facts (registry, case_id, service, document);
CREATE INDEX facts_number ON qujat.facts (registry, number);
CREATE INDEX facts_pdf    ON qujat.facts (registry, pdf);
CREATE INDEX facts_once   ON qujat.facts (registry, service, document, once) WHERE once IS NOT NULL;
CREATE INDEX facts_target ON qujat.facts (registry, target) WHERE target IS NOT NULL;

-- The last position taken in each number counter, among the indexed records.
CREATE TABLE qujat.counters (
    registry text   NOT NULL,
    counter  text   NOT NULL,
    tail     bigint NOT NULL,
    PRIMARY KEY (registry, counter)
);

-- Complete Merkle subtrees of 256 records and more.
CREATE TABLE qujat.nodes (
    registry text     NOT NULL,
    level    smallint NOT NULL,
    idx      bigint   NOT NULL,
    hash     bytea    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (registry, level, idx)
);

-- How many checkpoints the registry had when a writer last looked.
CREATE TABLE qujat.bookkeeping (
    registry         text   PRIMARY KEY,
    checkpoints_seen bigint NOT NULL
);

-- Records, checkpoints and kept things are never changed nor removed, by anyone: the
-- writer's role has no UPDATE or DELETE on them, and these triggers refuse it to the owner too.
CREATE FUNCTION qujat.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'qujat: % on %.% refused: registries are append-only', TG_OP,
        TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'records are never changed: a status change is a new record (qujat registry set-status)';
END
$$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON qujat.records
    FOR EACH ROW EXECUTE FUNCTION qujat.refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON qujat.records
    FOR EACH STATEMENT EXECUTE FUNCTION qujat.refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON qujat.checkpoints
    FOR EACH ROW EXECUTE FUNCTION qujat.refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON qujat.checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION qujat.refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON qujat.kept
    FOR EACH ROW EXECUTE FUNCTION qujat.refuse_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON qujat.kept
    FOR EACH STATEMENT EXECUTE FUNCTION qujat.refuse_change();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON qujat.registries
    FOR EACH ROW EXECUTE FUNCTION qujat.refuse_change();
"#;

/// The roles and what they may do: the writer (`qujat batch`, `registry set-status`) appends
/// and keeps its index; the reader (`serve`, `export`, `verify`, `regenerate`, `registry
/// check`) reads. Applied by every `registry init` (granting is idempotent).
pub const ROLES: &str = r#"
GRANT USAGE ON SCHEMA qujat TO qujat_writer, qujat_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA qujat TO qujat_writer, qujat_reader;
GRANT INSERT ON qujat.registries, qujat.records, qujat.checkpoints, qujat.kept TO qujat_writer;
GRANT INSERT, UPDATE ON qujat.heads TO qujat_writer;
GRANT INSERT, UPDATE, DELETE ON qujat.facts, qujat.counters, qujat.nodes, qujat.bookkeeping
    TO qujat_writer;
REVOKE UPDATE, DELETE, TRUNCATE ON qujat.registries, qujat.records, qujat.checkpoints, qujat.kept
    FROM qujat_writer, qujat_reader, PUBLIC;
"#;

/// Creates a role unless it exists (roles belong to the whole server; two inits of two
/// databases may race to create them).
fn create_role(name: &str) -> String {
    format!(
        "DO $$ BEGIN CREATE ROLE {name} NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
}

/// The schema version of the database, `None` when it has no qujat schema.
fn version(client: &mut impl GenericClient) -> Result<Option<i32>, postgres::Error> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('qujat.schema_version') IS NOT NULL",
            &[],
        )?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client.query_one("SELECT max(version) FROM qujat.schema_version", &[])?;
    Ok(row.get::<_, Option<i32>>(0))
}

/// Refuses a database whose schema is not this qujat's.
pub fn check_version(client: &mut postgres::Client, place: &str) -> Result<()> {
    let found = version(client).map_err(|err| {
        anyhow::anyhow!(
            "{place}: cannot read qujat's schema version: {}",
            chain(&err)
        )
    })?;
    match found {
        Some(VERSION) => Ok(()),
        None | Some(0) => bail!(
            "{place} holds no qujat registries yet: run `qujat registry init --registry-dir URL` \
             (as the database's owner) first"
        ),
        Some(v) if v < VERSION => bail!(
            "{place} has qujat's schema version {v}; this qujat needs {VERSION}: run `qujat \
             registry init --registry-dir URL` (as the database's owner) to migrate it"
        ),
        Some(v) => bail!(
            "{place} has qujat's schema version {v}, made by a newer qujat (this one knows up to \
             {VERSION}): use that qujat"
        ),
    }
}

/// What `registry init` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initialised {
    /// The version found (0: none).
    pub from: i32,
    pub to: i32,
    /// Whether the roles exist and were granted their rights, or why not.
    pub roles: Result<(), String>,
}

/// Brings the database to [`VERSION`] and grants the roles; idempotent.
pub fn init(client: &mut postgres::Client, place: &str) -> Result<Initialised> {
    let fail = |what: &str, err: postgres::Error| {
        anyhow::anyhow!("{place}: cannot {what}: {}", chain(&err))
    };
    let encoding: String = client
        .query_one("SHOW server_encoding", &[])
        .map_err(|e| fail("read the server's encoding", e))?
        .get(0);
    if encoding != "UTF8" {
        bail!(
            "{place}: the database's encoding is {encoding}: qujat keeps its records' text byte for \
             byte only in a UTF8 database (CREATE DATABASE … ENCODING 'UTF8')"
        );
    }
    let mut tx = client
        .transaction()
        .map_err(|e| fail("begin a transaction", e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_CLASS])
        .map_err(|e| fail("take the lock of `registry init`", e))?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS qujat;
         CREATE TABLE IF NOT EXISTS qujat.schema_version (
             version     integer PRIMARY KEY,
             description text NOT NULL,
             applied     timestamptz NOT NULL DEFAULT now()
         );",
    )
    .map_err(|e| fail("create the schema qujat", e))?;
    let from = version(&mut tx)
        .map_err(|e| fail("read the schema version", e))?
        .unwrap_or(0);
    if from > VERSION {
        bail!(
            "{place} has qujat's schema version {from}, made by a newer qujat (this one knows up \
             to {VERSION}): nothing was changed"
        );
    }
    for (n, (description, sql)) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let n = n as i32 + 1;
        tx.batch_execute(sql)
            .map_err(|e| fail(&format!("apply schema version {n} ({description})"), e))?;
        tx.execute(
            "INSERT INTO qujat.schema_version (version, description) VALUES ($1, $2)",
            &[&n, description],
        )
        .map_err(|e| fail("record the schema version", e))?;
    }
    tx.commit().map_err(|e| fail("commit the schema", e))?;
    let roles = grant(client).map_err(|err| chain(&err));
    Ok(Initialised {
        from,
        to: VERSION,
        roles,
    })
}

/// Makes the roles if they are missing, and grants them their rights.
fn grant(client: &mut postgres::Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    for role in ["qujat_writer", "qujat_reader"] {
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)",
                &[&role],
            )?
            .get(0);
        if !exists {
            tx.batch_execute(&create_role(role))?;
        }
    }
    tx.batch_execute(ROLES)?;
    tx.commit()
}

/// Runs `init` on a fresh connection of `settings`, with a context naming the place.
pub fn init_at(settings: &super::connect::Settings) -> Result<Initialised> {
    let mut client = settings.connect()?;
    init(&mut client, settings.describe())
        .with_context(|| format!("`registry init` of {}", settings.describe()))
}
