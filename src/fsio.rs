//! Writing files so that a crash leaves either the old file or the new one, never a torn one.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` through a temporary file in the same folder, made durable before
/// it is renamed into place, and the folder made durable after.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_with(path, |file| Ok(file.write_all(bytes)?))
}

/// Like [`write_atomically`], for content streamed by `write` into the temporary file: a failed
/// write never leaves a partial file under `path`.
pub fn write_atomically_with<T>(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<T>,
) -> Result<T> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path
        .file_name()
        .context("a file path has a file name")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> Result<T> {
        let mut file = std::fs::File::create(&tmp)?;
        let value = write(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(value)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// How much a [`SyncAhead`] lets be written before it has the written part made durable.
const SYNC_AHEAD: u64 = 64 << 20;

/// Runs `write` on `file` through a [`SyncAhead`]: for a file of hundreds of megabytes (a
/// registry extract), the sync before it is renamed into place then waits for its last part
/// only, the rest having been made durable while it was written.
pub fn syncing_ahead<T>(
    file: &mut std::fs::File,
    write: impl FnOnce(&mut SyncAhead<'_>) -> Result<T>,
) -> Result<T> {
    let syncer = file.try_clone().context("cannot open the file twice")?;
    let (ask, asked) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::scope(|scope| {
        let background = scope.spawn(move || asked.iter().try_for_each(|()| syncer.sync_data()));
        let mut out = SyncAhead {
            file,
            ask,
            unsynced: 0,
        };
        let written = write(&mut out);
        drop(out);
        let synced = background.join().expect("syncing does not panic");
        let value = written?;
        synced.context("cannot sync what was written")?;
        Ok(value)
    })
}

/// A file being written that every [`SYNC_AHEAD`] bytes asks a background thread to make what
/// it holds durable (`fdatasync`), without waiting for it.
pub struct SyncAhead<'a> {
    file: &'a mut std::fs::File,
    ask: std::sync::mpsc::SyncSender<()>,
    /// Bytes written since the last sync was asked for.
    unsynced: u64,
}

impl Write for SyncAhead<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(bytes)?;
        self.unsynced += written as u64;
        // While a sync is still under way the request waits for a later write.
        if self.unsynced >= SYNC_AHEAD && self.ask.try_send(()).is_ok() {
            self.unsynced = 0;
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes `bytes` to `path` through a temporary file renamed into place, without waiting for the
/// disk: a reader never sees a partial file, and [`sync_files`] later makes a whole group of such
/// files durable (a batch does this before the records naming them are written).
pub fn write_replacing(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .context("a file path has a file name")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Makes files written with [`write_replacing`] durable, contents and names: each file's data,
/// then each folder holding them once. Only these files are waited for — not whatever else the
/// machine is writing, as `syncfs` would.
pub fn sync_files<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    let mut folders = std::collections::BTreeSet::new();
    for path in paths {
        std::fs::File::open(path)
            .and_then(|file| file.sync_data())
            .with_context(|| format!("cannot sync {}", path.display()))?;
        if let Some(dir) = path.parent() {
            folders.insert(dir.to_path_buf());
        }
    }
    for dir in folders {
        std::fs::File::open(&dir)
            .and_then(|folder| folder.sync_all())
            .with_context(|| format!("cannot sync {}", dir.display()))?;
    }
    Ok(())
}

/// Removes the temporary files (`.<name>.<pid>.tmp`) that processes no longer running left in
/// `dir` — a write a crash interrupted. A live process's files are left alone (on systems
/// without `/proc`, every process counts as live). Failures are ignored: this is tidying.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|n| n.rsplit_once('.'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let running = pid == std::process::id()
            || !Path::new("/proc/self").exists()
            || Path::new(&format!("/proc/{pid}")).exists();
        if !running {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_leaving_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/doc.pdf");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}

/// Folders qujat never writes documents or registries into, nor under: the system's own.
const SYSTEM: [&str; 13] = [
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys",
    "/usr", "/var/run",
];

/// Folders qujat never writes into directly (a folder of its own under them is fine).
const SHARED: [&str; 6] = ["/", "/home", "/tmp", "/var", "/var/lib", "/root"];

/// The folder `dir` resolves to — links followed, as far as it exists — refused when that is a
/// system folder: a misconfigured output or registry folder (or a link to one) must not have
/// documents written into `/etc`. `what` names it in the message.
pub fn writable_folder(what: &str, dir: &Path) -> Result<std::path::PathBuf> {
    // Resolve the longest part that exists; what does not exist yet is created under it.
    let mut existing = dir.to_path_buf();
    let mut rest = Vec::new();
    let resolved = loop {
        match std::fs::canonicalize(&existing) {
            Ok(resolved) => break resolved,
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = if parent.as_os_str().is_empty() {
                        std::path::PathBuf::from(".")
                    } else {
                        parent.to_path_buf()
                    };
                }
                _ => break std::env::current_dir()?.join(dir),
            },
        }
    };
    let resolved = rest
        .into_iter()
        .rev()
        .fold(resolved, |p, name| p.join(name));
    let system = SYSTEM
        .iter()
        .any(|s| resolved == Path::new(s) || resolved.starts_with(s))
        || SHARED.iter().any(|s| resolved == Path::new(s));
    if system {
        anyhow::bail!(
            "the {what} {} is {}, a system folder: qujat does not write there (check qujat.toml \
             and the links on the way)",
            dir.display(),
            resolved.display()
        );
    }
    Ok(resolved)
}

#[cfg(test)]
mod folder_tests {
    use super::*;

    #[test]
    fn system_folders_are_refused_however_they_are_reached() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("out");
        std::os::unix::fs::symlink("/etc", &link).unwrap();
        let err = writable_folder("output folder", &link).unwrap_err();
        assert!(
            err.to_string().contains("is /etc, a system folder"),
            "{err}"
        );
        assert!(writable_folder("output folder", &link.join("new")).is_err());
        for refused in ["/", "/usr/share/x", "/tmp", "/var"] {
            assert!(
                writable_folder("output folder", Path::new(refused)).is_err(),
                "{refused}"
            );
        }
        let fine = dir.path().join("a/b");
        assert_eq!(
            writable_folder("output folder", &fine).unwrap(),
            std::fs::canonicalize(dir.path()).unwrap().join("a/b")
        );
    }
}
