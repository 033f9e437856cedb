//! The deployment's configuration file (`qujat.toml`): where things are, and the few settings
//! that are the ministry's to choose. Paths in it are relative to the file's own folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// `qujat.toml`, every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigFile {
    pub paths: PathsFile,
    pub documents: DocumentsFile,
    pub run: RunFile,
    pub checkpoints: CheckpointsFile,
}

/// How registries sign their checkpoints (C2SP signed notes, Ed25519), and which key checks them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointsFile {
    /// The registries' signing key (`PRIVATE+KEY+…`, from `qujat registry keygen`): a file only
    /// the batch's user can read. Without it, checkpoints are written unsigned.
    pub key: Option<PathBuf>,
    /// The public (verifier) key that `registry check` and `verify` check signatures with.
    pub verifier: Option<PathBuf>,
    /// The origin line of checkpoints, before `/<registry>` [default: the host of verify_url,
    /// then `/registry`].
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathsFile {
    pub cases: PathBuf,
    pub output: PathBuf,
    pub registry: PathBuf,
    pub catalogue: PathBuf,
    pub templates: PathBuf,
    pub fonts: PathBuf,
}

impl Default for PathsFile {
    fn default() -> PathsFile {
        PathsFile {
            cases: "cases/sample".into(),
            output: "output".into(),
            registry: "registry".into(),
            catalogue: "catalogue".into(),
            templates: "templates".into(),
            fonts: "fonts".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentsFile {
    /// The PDF `/Creator` of new documents (recorded with each, so changing it never changes
    /// a registered document).
    pub creator: String,
    /// The verification address new documents' QR codes point to (recorded with each).
    pub verify_url: String,
}

impl Default for DocumentsFile {
    fn default() -> DocumentsFile {
        DocumentsFile {
            creator: "qujat".into(),
            verify_url: "https://qujat.gov.kz/verify".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunFile {
    /// The offset from UTC of the ministry's clock, which decides the run date when none is
    /// given: Kazakhstan keeps UTC+5 since 1 March 2024.
    pub utc_offset: String,
}

impl Default for RunFile {
    fn default() -> RunFile {
        RunFile {
            utc_offset: "+05:00".into(),
        }
    }
}

/// The configuration with every path resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: ConfigFile,
    /// The folder relative paths start from.
    pub base: PathBuf,
}

impl Config {
    /// Reads `path`; if it is the default `qujat.toml` and does not exist, uses the defaults
    /// relative to the current folder.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let (path, explicit) = match path {
            Some(path) => (path.to_path_buf(), true),
            None => (PathBuf::from("qujat.toml"), false),
        };
        // Empty for the current folder, so paths print as `cases/sample`, not `./cases/sample`.
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let file = toml::from_str(&text)
                    .with_context(|| format!("invalid configuration file {}", path.display()))?;
                Ok(Config { file, base })
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(Config {
                file: ConfigFile::default(),
                base,
            }),
            Err(err) => Err(err).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// A configured path, relative to the configuration file.
    pub fn path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base.join(path)
        }
    }

    /// The key that signs checkpoints, read from its file, if one is configured.
    pub fn checkpoint_signer(&self) -> Result<Option<crate::registry::note::NoteSigner>> {
        let Some(path) = &self.file.checkpoints.key else {
            return Ok(None);
        };
        let path = self.path(path);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the checkpoint key {}", path.display()))?;
        crate::registry::note::NoteSigner::parse(&text)
            .map(Some)
            .with_context(|| format!("the checkpoint key {}", path.display()))
    }

    /// The key that checks checkpoint signatures, if one is configured.
    pub fn checkpoint_verifier(&self) -> Result<Option<crate::registry::note::NoteVerifier>> {
        let Some(path) = &self.file.checkpoints.verifier else {
            return Ok(None);
        };
        let path = self.path(path);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("cannot read the checkpoint verifier key {}", path.display())
        })?;
        crate::registry::note::NoteVerifier::parse(&text)
            .map(Some)
            .with_context(|| format!("the checkpoint verifier key {}", path.display()))
    }

    /// The origin line of checkpoints, without the registry.
    pub fn checkpoint_origin(&self) -> String {
        self.file.checkpoints.origin.clone().unwrap_or_else(|| {
            let url = &self.file.documents.verify_url;
            let host = url
                .split_once("://")
                .map_or(url.as_str(), |(_, rest)| rest)
                .split(['/', '?'])
                .next()
                .unwrap_or_default();
            format!("{host}/registry")
        })
    }

    /// The UTC offset in minutes.
    pub fn utc_offset_minutes(&self) -> Result<i64> {
        parse_offset(&self.file.run.utc_offset)
    }
}

/// Parses `+05:00` / `-03:30` into minutes.
pub fn parse_offset(text: &str) -> Result<i64> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 6
        && matches!(bytes[0], b'+' | b'-')
        && bytes[3] == b':'
        && [1, 2, 4, 5].iter().all(|&i| bytes[i].is_ascii_digit());
    if !well_formed {
        bail!("utc_offset {text:?} must look like +05:00");
    }
    let hours: i64 = text[1..3].parse()?;
    let minutes: i64 = text[4..6].parse()?;
    if hours > 14 || minutes > 59 {
        bail!("utc_offset {text:?} is out of range");
    }
    let total = hours * 60 + minutes;
    Ok(if bytes[0] == b'-' { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+05:00").unwrap(), 300);
        assert_eq!(parse_offset("-03:30").unwrap(), -210);
        assert!(parse_offset("5").is_err());
        assert!(parse_offset("+25:00").is_err());
    }
}
