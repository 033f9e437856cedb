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

/// Writes `bytes` to `path` through a temporary file renamed into place, without waiting for the
/// disk: a reader never sees a partial file, and [`sync_filesystem`] later makes a whole group of
/// such files durable at once (a batch does this before the records naming them are written).
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

/// Makes everything written to the filesystem holding `dir` durable — file contents, new names
/// and renames — in one call (`syncfs`), rather than one sync per file.
pub fn sync_filesystem(dir: &Path) -> Result<()> {
    let folder =
        std::fs::File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs only reads the descriptor, which `folder` keeps open for the call.
        if unsafe { libc::syncfs(folder.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot sync the filesystem of {}", dir.display()));
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        // Without syncfs, sync the folder itself; file contents were synced by the caller.
        folder
            .sync_all()
            .with_context(|| format!("cannot sync {}", dir.display()))
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
