//! Where the server is and how to log in: a `postgres://` or `postgresql://` URL, completed from
//! the environment as libpq completes it (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
//! `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGAPPNAME`, `PGCONNECT_TIMEOUT`, the password
//! file `PGPASSFILE` or `~/.pgpass`), so that an operations team's usual setup works unchanged.
//!
//! A password is never shown: [`Settings::describe`] and [`redact`] leave it out, and no message
//! of this driver prints the URL it was given.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use postgres::config::{Host, SslMode};

use super::tls::{self, Mode};

/// How to connect: the client's configuration, TLS, and what to call the server in messages.
#[derive(Clone)]
pub struct Settings {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    shown: String,
}

/// The parameters of a URL's query that this module reads itself rather than the client: the
/// client knows `disable`, `prefer` and `require` only, and nothing of root certificates.
const OURS: &[&str] = &["sslmode", "sslrootcert", "passfile"];

/// Parameters libpq knows that this driver does not support: refused by name rather than
/// ignored (a client certificate silently not sent would fail later, less clearly).
const UNSUPPORTED: &[&str] = &[
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requiressl",
    "gssencmode",
    "krbsrvname",
    "service",
];

/// The application name a connection gives when none is set: what a second writer is told
/// about the one holding a registry (`pg_stat_activity.application_name`).
fn application_name() -> String {
    let mut name = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes a NUL-terminated name
    // into it (truncated if need be) and touches nothing else.
    let host = unsafe {
        if libc::gethostname(name.as_mut_ptr().cast(), name.len() - 1) == 0 {
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            String::from_utf8_lossy(&name[..end]).into_owned()
        } else {
            "?".to_string()
        }
    };
    format!("qujat pid {} on {host}", std::process::id())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `%XX` escapes of a URL part decoded.
fn percent_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .context("a bad %-escape in the registry URL")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).context("the registry URL is not UTF-8 once decoded")
}

/// Whether `place` names a PostgreSQL server rather than a folder.
pub fn is_url(place: &str) -> bool {
    place.starts_with("postgres://") || place.starts_with("postgresql://")
}

/// `place` with any password left out (`postgres://user:secret@host/db` →
/// `postgres://user@host/db`, and no `password=` parameter): for messages and reports.
pub fn redact(place: &str) -> String {
    let Some((scheme, rest)) = place.split_once("://") else {
        return place.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{user}@{hosts}")
        }
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|p| !p.to_ascii_lowercase().starts_with("password="))
                .collect();
            if kept.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

impl Settings {
    /// The settings of the URL `place`, completed from the environment.
    pub fn parse(place: &str) -> Result<Settings> {
        let shown_place = redact(place);
        let (base, query) = place.split_once('?').unwrap_or((place, ""));
        let mut kept = Vec::new();
        let mut ours = std::collections::HashMap::new();
        for param in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            let key = percent_decode(key)?;
            if UNSUPPORTED.contains(&key.as_str()) {
                bail!(
                    "{shown_place}: the parameter {key:?} is not supported by qujat's PostgreSQL \
                     driver (see docs/registry.md, \"PostgreSQL\")"
                );
            }
            if OURS.contains(&key.as_str()) {
                ours.insert(key, percent_decode(value)?);
            } else {
                kept.push(param);
            }
        }
        let url = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        // The client's own parser: hosts, ports, user, password, database and the rest. Its
        // errors never repeat the URL.
        let mut config = postgres::Config::from_str(&url).map_err(|err| {
            anyhow::anyhow!("{shown_place} is not a PostgreSQL URL qujat can use: {err}")
        })?;
        if config.get_hosts().is_empty() {
            let hosts = env("PGHOST").unwrap_or_else(default_host);
            for host in hosts.split(',') {
                config.host(host);
            }
        }
        if config.get_ports().is_empty()
            && let Some(port) = env("PGPORT")
        {
            for port in port.split(',') {
                config.port(
                    port.parse()
                        .with_context(|| format!("PGPORT={port:?} is not a port"))?,
                );
            }
        }
        if config.get_user().is_none()
            && let Some(user) = env("PGUSER")
        {
            config.user(&user);
        }
        if config.get_dbname().is_none()
            && let Some(db) = env("PGDATABASE")
        {
            config.dbname(&db);
        }
        if config.get_application_name().is_none() {
            config.application_name(&env("PGAPPNAME").unwrap_or_else(application_name));
        }
        if config.get_connect_timeout().is_none() {
            let seconds = match env("PGCONNECT_TIMEOUT") {
                Some(text) => text
                    .parse()
                    .with_context(|| format!("PGCONNECT_TIMEOUT={text:?} is not a number"))?,
                // libpq waits for ever; a nightly batch had better say what is wrong.
                None => 30,
            };
            if seconds > 0 {
                config.connect_timeout(Duration::from_secs(seconds));
            }
        }
        let user = config
            .get_user()
            .map(str::to_string)
            .unwrap_or_else(os_user);
        let dbname = config
            .get_dbname()
            .map(str::to_string)
            .unwrap_or_else(|| user.clone());
        if config.get_password().is_none() {
            if let Some(password) = env("PGPASSWORD") {
                config.password(password);
            } else if let Some(password) = passfile_password(
                ours.get("passfile").map(PathBuf::from),
                &config,
                &dbname,
                &user,
            )? {
                config.password(password);
            }
        }
        let unix = matches!(config.get_hosts().first(), Some(Host::Unix(_)));
        let mode = match ours.get("sslmode").cloned().or_else(|| env("PGSSLMODE")) {
            Some(text) => Mode::parse(&text)?,
            None => Mode::Prefer,
        };
        let rootcert = ours
            .get("sslrootcert")
            .cloned()
            .or_else(|| env("PGSSLROOTCERT"));
        // As libpq: TLS is for TCP; a Unix socket is local and never encrypted.
        let tls = if unix {
            None
        } else {
            tls::connector(mode, rootcert.as_deref())?
        };
        config.ssl_mode(match (&tls, mode) {
            (None, _) => SslMode::Disable,
            (Some(_), Mode::Prefer | Mode::Allow) => SslMode::Prefer,
            (Some(_), _) => SslMode::Require,
        });
        let shown = describe(&config, &user, &dbname);
        Ok(Settings { config, tls, shown })
    }

    /// The server, database and user, for messages: never the password.
    pub fn describe(&self) -> &str {
        &self.shown
    }

    /// A new connection.
    pub fn connect(&self) -> Result<postgres::Client> {
        let connected = match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(postgres::NoTls),
        };
        connected
            .map_err(|err| anyhow::anyhow!("cannot connect to {}: {}", self.shown, chain(&err)))
    }

    /// Asks the server to stop what the connection of `token` is doing (best effort: a server
    /// that cannot be reached has nothing to stop).
    pub fn cancel(&self, token: postgres::CancelToken) {
        let _ = match &self.tls {
            Some(tls) => token.cancel_query(tls.clone()),
            None => token.cancel_query(postgres::NoTls),
        };
    }
}

/// An error and its causes on one line (the client's errors keep the server's message in
/// their source).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// The login name of the user running qujat: libpq's default user.
fn os_user() -> String {
    env("USER")
        .or_else(|| env("LOGNAME"))
        .unwrap_or_else(|| "postgres".to_string())
}

/// Where libpq looks when no host is given: Debian's socket folder, then /tmp, then TCP.
fn default_host() -> String {
    for dir in ["/var/run/postgresql", "/tmp"] {
        if Path::new(dir).join(".s.PGSQL.5432").exists() {
            return dir.to_string();
        }
    }
    "localhost".to_string()
}

fn describe(config: &postgres::Config, user: &str, dbname: &str) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{} (socket, port {port})", dir.display()),
            }
        })
        .collect();
    format!(
        "PostgreSQL database {dbname:?} on {} as {user}",
        hosts.join(", ")
    )
}

/// The password the password file gives for this connection, as libpq reads it: lines
/// `host:port:database:user:password`, `*` matching anything, `\` escaping `:` and `\`; a Unix
/// socket matches `localhost`; a file others may read is ignored, as libpq ignores it.
fn passfile_password(
    given: Option<PathBuf>,
    config: &postgres::Config,
    dbname: &str,
    user: &str,
) -> Result<Option<String>> {
    let path = match given.or_else(|| env("PGPASSFILE").map(PathBuf::from)) {
        Some(path) => path,
        None => match env("HOME") {
            Some(home) => Path::new(&home).join(".pgpass"),
            None => return Ok(None),
        },
    };
    let Ok(meta) = std::fs::metadata(&path) else {
        return Ok(None);
    };
    {
        use std::os::unix::fs::PermissionsExt as _;
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: password file {} is readable by others (chmod 0600 it): ignored",
                path.display()
            );
            return Ok(None);
        }
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the password file {}", path.display()))?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(_)) | None => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_passfile_line(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if matches(&fields[0], &host)
            && matches(&fields[1], &port)
            && matches(&fields[2], dbname)
            && matches(&fields[3], user)
        {
            return Ok(Some(fields[4..].join(":")));
        }
    }
    Ok(None)
}

fn split_passfile_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("a field").push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("a field").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_shown() {
        for (place, shown) in [
            (
                "postgres://batch:s3cr%40t@db.example:5433/registry",
                "postgres://batch@db.example:5433/registry",
            ),
            (
                "postgresql://u:p@h/db?password=x&sslmode=verify-full",
                "postgresql://u@h/db?sslmode=verify-full",
            ),
            ("postgresql://h/db?PASSWORD=x", "postgresql://h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("registry", "registry"),
        ] {
            assert_eq!(redact(place), shown, "{place}");
        }
        let settings =
            Settings::parse("postgres://batch:s3cret@db.example:5433/registry?sslmode=disable")
                .unwrap();
        assert!(
            !settings.describe().contains("s3cret"),
            "{}",
            settings.describe()
        );
        assert_eq!(
            settings.describe(),
            "PostgreSQL database \"registry\" on db.example:5433 as batch"
        );
    }

    #[test]
    fn unsupported_and_bad_parameters_are_refused_by_name() {
        let err = Settings::parse("postgres://u:pw@h/db?sslcert=/x")
            .err()
            .unwrap();
        assert!(
            format!("{err:#}").contains("\"sslcert\" is not supported"),
            "{err:#}"
        );
        assert!(!format!("{err:#}").contains("pw@"), "{err:#}");
        let err = Settings::parse("postgres://u:pw@h/db?sslmode=sometimes")
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("sslmode"), "{err:#}");
        let err = Settings::parse("postgres://u:pw@h/db?bogus=1")
            .err()
            .unwrap();
        assert!(!format!("{err:#}").contains("pw"), "{err:#}");
    }

    #[test]
    fn a_unix_socket_is_never_encrypted() {
        let settings =
            Settings::parse("postgresql://u@/db?host=/tmp/sock&sslmode=verify-full").unwrap();
        assert!(settings.tls.is_none());
        assert_eq!(settings.config.get_ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn password_file_lines_follow_libpq() {
        assert_eq!(
            split_passfile_line(r"db\:1:*:reg:batch:pa\:ss\\w"),
            ["db:1", "*", "reg", "batch", "pa:ss\\w"]
        );
    }
}
