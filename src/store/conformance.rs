//! The storage conformance suite: what every driver must do, checked through the storage
//! interface alone. Each driver's tests call [`run`] with a way to make an empty store (and, where
//! the driver can, to leave an incomplete record at a registry's end, as a crash would); the
//! PostgreSQL driver's tests run the very same checks against a real server.
//!
//! Not behind `cfg(test)`: the integration tests of other drivers call it.

use std::time::Duration;

use anyhow::{Context, Result, ensure};

use super::{Appended, Head, Indexing, Kind, Lookup, NODE_LEVEL, Node, Recovered, Store};
use crate::registry::{
    DocumentEntry, Entry, GENESIS, PdfEntry, Record, Status, StatusEntry, to_line,
};

/// What a driver's tests give the suite.
pub struct Driver<'a> {
    /// A new, empty store.
    pub make: &'a dyn Fn() -> Box<dyn Store>,
    /// Leaves `bytes` after the last whole record of registry `code` of `store`, as a crash in
    /// the middle of an append would: `None` when the driver cannot be made to (a database
    /// commits whole transactions).
    pub tear: Option<&'a Tear<'a>>,
}

/// Leaves bytes after the last whole record of a registry (see [`Driver::tear`]).
pub type Tear<'a> = dyn Fn(&dyn Store, &str, &[u8]) + 'a;

/// A record of the suite: document `seq` of case `C-<seq % 7>` (so cases have several
/// documents), numbered in counter `certificate`, or every fifth a status event suspending the
/// document before it.
fn record(seq: u64, prev: &str) -> Record {
    let entry = if seq.is_multiple_of(5) {
        Entry::Status(StatusEntry {
            target: seq - 1,
            number: format!("N-{}", seq - 1),
            status: Status::Suspended,
            date: "2026-11-25".parse().expect("a date"),
            reason: "Приказ № 1".into(),
            by: None,
        })
    } else {
        Entry::Document(DocumentEntry {
            service: "svc".into(),
            case_id: format!("C-{}", seq % 7),
            document: format!("doc-{seq}"),
            sequence: "certificate".into(),
            n: seq - seq / 5,
            number: format!("N-{seq}"),
            items: Vec::new(),
            once: seq.is_multiple_of(3).then(|| format!("system={}", seq % 2)),
            issued: "2026-11-20".parse().expect("a date"),
            case_hash: crate::registry::sha256_hex(b"case"),
            data: serde_json::json!({"title": format!("Тақырып {seq}")}),
            content: String::new(),
            template: crate::registry::sha256_hex(b"template"),
            fonts: crate::registry::sha256_hex(b"fonts"),
            engine: "test".into(),
            pdf: PdfEntry {
                sha256: crate::registry::sha256_hex(seq.to_string().as_bytes()),
                file: format!("svc/{seq}.pdf"),
                ident: format!("qujat:svc/{seq}"),
                created: "2026-11-20T00:00:00Z".into(),
                creator: "qujat".into(),
            },
            qr: String::new(),
            holder: None,
            title: None,
            signature: None,
        })
    };
    Record {
        seq,
        prev: prev.to_string(),
        entry,
    }
}

/// Records `from..=to` of the suite, as a writer would append them, after the record whose hash
/// is `prev`.
fn records(from: u64, to: u64, prev: &mut String) -> Vec<Appended> {
    (from..=to)
        .map(|seq| {
            let record = record(seq, prev);
            let (mut line, hash) = to_line(&record);
            line.pop();
            *prev = hash.clone();
            Appended {
                seq,
                line: line.into_bytes(),
                facts: crate::registry::facts_of_record(&record, &hash),
            }
        })
        .collect()
}

/// What indexing records already in the log gives a driver.
fn indexing(appended: &[Appended]) -> Vec<Indexing> {
    appended
        .iter()
        .map(|a| Indexing {
            seq: a.seq,
            len: a.line.len() as u64,
            facts: a.facts.clone(),
        })
        .collect()
}

fn hash_of(appended: &Appended) -> [u8; 32] {
    appended.facts.hash
}

/// Runs every check; the first failure is an error naming it.
pub fn run(driver: &Driver<'_>) -> Result<()> {
    empty_store_has_no_registries(driver).context("an empty store")?;
    appends_are_read_back_whole_and_in_order(driver).context("appending and reading")?;
    lookups_find_every_record_that_matches(driver).context("lookups")?;
    one_writer_at_a_time(driver).context("the writer's lock")?;
    head_checkpoints_and_kept_things(driver).context("head, checkpoints, kept things")?;
    an_index_reset_is_made_again(driver).context("resetting the index")?;
    if let Some(tear) = driver.tear {
        torn_records_are_completed_or_cut(driver, tear).context("an incomplete record")?;
    }
    Ok(())
}

fn empty_store_has_no_registries(driver: &Driver<'_>) -> Result<()> {
    let store = (driver.make)();
    ensure!(store.registries()?.is_empty(), "it lists registries");
    ensure!(store.log("media")?.is_none(), "it has registry media");
    ensure!(
        store.appender("../etc", Duration::ZERO).is_err(),
        "it lets `../etc` name a registry"
    );
    ensure!(
        store.kept(Kind::Template, &"0".repeat(64))?.is_none(),
        "it keeps a template it was never given"
    );
    Ok(())
}

fn appends_are_read_back_whole_and_in_order(driver: &Driver<'_>) -> Result<()> {
    let store = (driver.make)();
    let mut prev = GENESIS.to_string();
    let first = records(1, 300, &mut prev);
    let second = records(301, 700, &mut prev);
    {
        let mut appender = store.appender("media", Duration::ZERO)?;
        appender.append(&first, &[])?;
        ensure!(
            appender.indexed()?.size == 300,
            "the index lags its appends"
        );
        appender.append(&second, &[])?;
    }
    let listed = store.registries()?;
    ensure!(
        listed.len() == 1 && listed[0].code == "media" && listed[0].problem.is_none(),
        "it lists {listed:?}"
    );
    let log = store.log("media")?.context("no registry media")?;
    let all: Vec<&Appended> = first.iter().chain(&second).collect();
    for from in [1, 2, 299, 300, 301, 700, 701, 800] {
        let mut seen = Vec::new();
        let end = log.scan(from, &mut |block| {
            for (seq, line) in block.lines() {
                seen.push((seq, line.to_vec()));
            }
            Ok(())
        })?;
        let expected: Vec<(u64, Vec<u8>)> = all
            .iter()
            .filter(|a| a.seq >= from)
            .map(|a| (a.seq, a.line.clone()))
            .collect();
        ensure!(seen == expected, "a scan from {from} saw other records");
        ensure!(
            end.last == 700 && end.torn == 0,
            "a scan from {from} ended at {end:?}"
        );
    }
    let read = log.read(&[700, 1, 350, 900, 0])?;
    let positions: Vec<u64> = read.iter().map(|s| s.seq).collect();
    ensure!(positions == [700, 1, 350], "read {positions:?}");
    for stored in &read {
        ensure!(
            stored.line == all[(stored.seq - 1) as usize].line,
            "record {} read back changed",
            stored.seq
        );
    }
    let indexed = log.indexed()?;
    ensure!(
        indexed.size == 700 && indexed.last == Some(hash_of(all[699])),
        "indexed {indexed:?}"
    );
    let hashes = log.hashes(299, 302)?;
    ensure!(
        hashes == all[298..302].iter().map(|a| hash_of(a)).collect::<Vec<_>>(),
        "hashes 299–302"
    );
    let tails = log.tails()?;
    ensure!(
        tails == [("certificate".to_string(), 700 - 700 / 5)],
        "tails {tails:?}"
    );
    // An append that does not follow is refused and changes nothing.
    let mut appender = store.appender("media", Duration::ZERO)?;
    let mut other = GENESIS.to_string();
    ensure!(
        appender.append(&records(5, 5, &mut other), &[]).is_err(),
        "it appended record 5 after record 700"
    );
    ensure!(
        appender.indexed()?.size == 700,
        "a refused append changed it"
    );
    Ok(())
}

fn lookups_find_every_record_that_matches(driver: &Driver<'_>) -> Result<()> {
    let store = (driver.make)();
    let mut prev = GENESIS.to_string();
    let appended = records(1, 60, &mut prev);
    let _ = &mut prev;
    let mut appender = store.appender("media", Duration::ZERO)?;
    appender.append(&appended, &[])?;
    // The last twenty in the log but not indexed: lookups must still see them.
    appender.reset_index()?;
    appender.index(&indexing(&appended[..40]), &[])?;
    drop(appender);
    let log = store.log("media")?.context("no registry media")?;
    let check = |lookup: Lookup<'_>, all: &[Appended]| -> Result<()> {
        let mut found = log.find(&lookup)?;
        found.sort_unstable();
        found.dedup();
        let expected: Vec<u64> = all
            .iter()
            .filter(|a| lookup.matches(&a.facts))
            .map(|a| a.seq)
            .collect();
        // A driver may find more (the caller confirms), never less.
        for seq in &expected {
            ensure!(found.contains(seq), "{lookup:?} missed record {seq}");
        }
        Ok(())
    };
    for a in &appended {
        for lookup in Lookup::all_of(&a.facts) {
            check(lookup, &appended)?;
        }
    }
    check(Lookup::Number("N-999"), &appended)?;
    ensure!(
        log.find(&Lookup::Number("N-999"))?.is_empty(),
        "it found a number no record has"
    );
    Ok(())
}

fn one_writer_at_a_time(driver: &Driver<'_>) -> Result<()> {
    let store = (driver.make)();
    let first = store.appender("media", Duration::ZERO)?;
    let refused = store.appender("media", Duration::from_millis(100));
    ensure!(refused.is_err(), "a second writer got the lock");
    let message = format!("{:#}", refused.err().expect("an error"));
    ensure!(
        message.contains("--wait"),
        "a locked registry's message does not say what to do: {message}"
    );
    // Another registry is not locked.
    drop(store.appender("kkm", Duration::ZERO)?);
    // A writer waiting gets the lock once the first lets go.
    std::thread::scope(|scope| -> Result<()> {
        let waiting = scope.spawn(|| store.appender("media", Duration::from_secs(20)).map(drop));
        std::thread::sleep(Duration::from_millis(200));
        drop(first);
        waiting.join().expect("no panic")?;
        Ok(())
    })?;
    // A reader never waits for the writer.
    let _writer = store.appender("media", Duration::ZERO)?;
    let log = store.log("media")?.context("no registry media")?;
    log.scan(1, &mut |_| Ok(()))?;
    Ok(())
}

fn head_checkpoints_and_kept_things(driver: &Driver<'_>) -> Result<()> {
    let store = (driver.make)();
    let mut prev = GENESIS.to_string();
    let appended = records(1, 600, &mut prev);
    let nodes: Vec<Node> = (0..2)
        .map(|index| Node {
            level: NODE_LEVEL,
            index,
            hash: [index as u8 + 1; 32],
        })
        .collect();
    let mut appender = store.appender("media", Duration::ZERO)?;
    appender.append(&appended, &nodes)?;
    let head = Head {
        seq: 600,
        hash: hex::encode(hash_of(&appended[599])),
    };
    appender.write_head(&head)?;
    appender.append_checkpoint(br#"{"size":600,"root":"aa"}"#)?;
    appender.append_checkpoint(br#"{"size":700,"root":"bb"}"#)?;
    appender.set_checkpoints_seen(2)?;
    drop(appender);
    let log = store.log("media")?.context("no registry media")?;
    ensure!(log.head()? == Some(head), "the head read back changed");
    ensure!(
        log.checkpoints()?
            == [
                br#"{"size":600,"root":"aa"}"#.to_vec(),
                br#"{"size":700,"root":"bb"}"#.to_vec()
            ],
        "the checkpoints read back changed"
    );
    ensure!(log.indexed()?.checkpoints == 2, "checkpoints seen");
    ensure!(
        log.node(NODE_LEVEL, 1)? == Some([2; 32]) && log.node(NODE_LEVEL, 2)?.is_none(),
        "nodes read back changed"
    );
    let bytes = "{\"files\":{},\"main\":\"x\"}".as_bytes();
    let hash = store.keep(Kind::Template, bytes)?;
    ensure!(
        hash == crate::registry::sha256_hex(bytes),
        "kept under another name"
    );
    ensure!(
        store.keep(Kind::Template, bytes)? == hash,
        "kept twice differently"
    );
    ensure!(
        store.kept(Kind::Template, &hash)?.as_deref() == Some(bytes),
        "the kept template read back changed"
    );
    ensure!(
        store.kept(Kind::Signature, &hash)?.is_none(),
        "kinds share one place"
    );
    let signature = store.keep(Kind::Signature, b"\x30\x03\x02\x01\x07")?;
    // Kept together: the same names as one by one, one of them kept already.
    let group = vec![
        b"\x30\x03\x02\x01\x08".to_vec(),
        b"\x30\x03\x02\x01\x07".to_vec(),
        b"\x30\x03\x02\x01\x09".to_vec(),
    ];
    let hashes = store.keep_all(Kind::Signature, &group)?;
    ensure!(
        hashes
            == group
                .iter()
                .map(|bytes| crate::registry::sha256_hex(bytes))
                .collect::<Vec<_>>()
            && hashes[1] == signature,
        "kept together under other names"
    );
    for (hash, bytes) in hashes.iter().zip(&group) {
        ensure!(
            store.kept(Kind::Signature, hash)?.as_ref() == Some(bytes),
            "a signature kept together read back changed"
        );
    }
    ensure!(
        store.keep_all(Kind::Signature, &[])?.is_empty(),
        "nothing kept gives no names"
    );
    let mut signatures = hashes.clone();
    signatures.sort();
    ensure!(
        store.kept_hashes(Kind::Template)? == [hash.clone()]
            && store.kept_hashes(Kind::Signature)? == signatures,
        "the kept things listed are not those kept"
    );
    Ok(())
}

fn an_index_reset_is_made_again(driver: &Driver<'_>) -> Result<()> {
    let store = (driver.make)();
    let mut prev = GENESIS.to_string();
    let appended = records(1, 30, &mut prev);
    let mut appender = store.appender("media", Duration::ZERO)?;
    appender.append(&appended, &[])?;
    appender.reset_index()?;
    ensure!(
        appender.indexed()?.size == 0,
        "a reset index still covers records"
    );
    // Lookups still see every record (read from the log itself).
    ensure!(
        appender.find(&Lookup::Number("N-7"))? == [7],
        "a lookup after a reset missed a record"
    );
    // Indexed again, as a writer does after verifying them.
    let indexing = indexing(&appended);
    appender.index(&indexing[..10], &[])?;
    ensure!(appender.indexed()?.size == 10, "indexing ten");
    ensure!(
        appender.index(&indexing[11..12], &[]).is_err(),
        "it indexed record 12 after record 10"
    );
    appender.index(&indexing[10..], &[])?;
    ensure!(
        appender.indexed()?.last == Some(hash_of(&appended[29])),
        "the index made again ends elsewhere"
    );
    Ok(())
}

fn torn_records_are_completed_or_cut(driver: &Driver<'_>, tear: &Tear<'_>) -> Result<()> {
    let store = (driver.make)();
    let mut prev = GENESIS.to_string();
    let appended = records(1, 12, &mut prev);
    let mut appender = store.appender("media", Duration::ZERO)?;
    appender.append(&appended[..10], &[])?;
    drop(appender);
    // Part of record 11: cut off, its bytes kept.
    tear(store.as_ref(), "media", &appended[10].line[..50]);
    let log = store.log("media")?.context("no registry media")?;
    let end = log.scan(1, &mut |_| Ok(()))?;
    ensure!(end.last == 10 && end.torn == 50, "a scan saw {end:?}");
    let mut appender = store.appender("media", Duration::ZERO)?;
    ensure!(appender.torn()? == appended[10].line[..50], "torn bytes");
    ensure!(
        appender.append(&appended[10..11], &[]).is_err(),
        "it appended after an incomplete record"
    );
    match appender.recover(false)? {
        Some(Recovered::Cut { kept, .. }) => ensure!(!kept.is_empty(), "not said where kept"),
        other => anyhow::bail!("recovering a torn record did {other:?}"),
    }
    ensure!(appender.torn()?.is_empty(), "still torn");
    ensure!(appender.recover(false)?.is_none(), "recovered twice");
    appender.append(&appended[10..11], &[])?;
    drop(appender);
    // Record 12 whole but for its newline: completed.
    tear(store.as_ref(), "media", &appended[11].line);
    let mut appender = store.appender("media", Duration::ZERO)?;
    ensure!(
        appender.recover(true)? == Some(Recovered::Completed),
        "completing a whole record"
    );
    let read = appender.read(&[12])?;
    ensure!(
        read.first().map(|s| &s.line) == Some(&appended[11].line),
        "the completed record read back changed"
    );
    Ok(())
}
