//! One writer per registry, across machines: a session-level advisory lock on the registry's id
//! (`pg_try_advisory_lock(7432820, id)`), held by the writer's own connection for as long as it
//! writes. The server releases it when that connection ends — dropped, or its process killed —
//! so a crashed batch never leaves a registry locked. A writer that finds it taken polls until
//! `--wait` runs out, then says who holds it: the holder's application name (qujat sets it to
//! its process id and host), database user, address and since when.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::connect::chain;
use super::schema::LOCK_CLASS;

/// How often a waiting writer asks again.
const POLL: Duration = Duration::from_millis(50);

/// Takes the writer lock of registry `code` (id `id`) on `client`'s session, waiting up to
/// `wait`.
pub fn take(
    client: &mut postgres::Client,
    code: &str,
    id: i32,
    wait: Duration,
    place: &str,
) -> Result<()> {
    let started = Instant::now();
    loop {
        let taken: bool = client
            .query_one("SELECT pg_try_advisory_lock($1, $2)", &[&LOCK_CLASS, &id])
            .map_err(|err| {
                anyhow::anyhow!("{place}: cannot lock registry {code}: {}", chain(&err))
            })?
            .get(0);
        if taken {
            return Ok(());
        }
        if started.elapsed() >= wait {
            let holder = holder(client, id)
                .unwrap_or_else(|err| format!("who holds it cannot be read: {}", chain(&err)));
            bail!(
                "registry {code} is being written by another qujat process ({holder}; {place}); \
                 wait for it to finish, or pass --wait SECONDS"
            );
        }
        std::thread::sleep(
            POLL.min(wait.saturating_sub(started.elapsed()))
                .max(Duration::from_millis(1)),
        );
    }
}

/// Gives the lock back (closing the connection would too, a moment later).
pub fn release(client: &mut postgres::Client, id: i32) {
    let _ = client.execute("SELECT pg_advisory_unlock($1, $2)", &[&LOCK_CLASS, &id]);
}

/// Who holds registry `id`'s lock, as the server knows the session.
fn holder(client: &mut postgres::Client, id: i32) -> Result<String, postgres::Error> {
    let rows = client.query(
        "SELECT l.pid, a.application_name, a.usename, host(a.client_addr), a.client_hostname,
                to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC'
         FROM pg_locks l
         LEFT JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 2",
        &[&i64::from(LOCK_CLASS), &i64::from(id)],
    )?;
    let Some(row) = rows.first() else {
        return Ok("it was released just now: try again".to_string());
    };
    let mut parts = Vec::new();
    match row.get::<_, Option<String>>(1).filter(|n| !n.is_empty()) {
        Some(name) => parts.push(format!("held by {name:?}")),
        None => parts.push("held by a session without an application name".to_string()),
    }
    if let Some(user) = row.get::<_, Option<String>>(2) {
        parts.push(format!("database user {user}"));
    }
    match (
        row.get::<_, Option<String>>(4),
        row.get::<_, Option<String>>(3),
    ) {
        (Some(host), _) => parts.push(format!("connected from {host}")),
        (None, Some(addr)) => parts.push(format!("connected from {addr}")),
        (None, None) => {
            parts.push("on a local socket (or its address is not shown to this user)".to_string())
        }
    }
    if let Some(since) = row.get::<_, Option<String>>(5) {
        parts.push(format!("since {since}"));
    }
    parts.push(format!("server process {}", row.get::<_, i32>(0)));
    Ok(parts.join(", "))
}
