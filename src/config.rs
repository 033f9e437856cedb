//! The deployment's configuration file (`qujat.toml`): where things are, and the few settings
//! that are the ministry's to choose. Paths in it are relative to the file's own folder.
//!
//! The file is looked up as `--config FILE`, then `$QUJAT_CONFIG`, then `./qujat.toml`, then
//! `/etc/qujat/qujat.toml` ([`locate`]); a command says which it used. Without one, nothing is
//! guessed: the folders a command needs (cases, output, registries) must be given as options,
//! and the catalogue, templates and fonts are the copies built into qujat ([`crate::shipped`]).

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::shipped::{self, Files};

/// The environment variable naming the configuration file.
pub const ENV: &str = "QUJAT_CONFIG";
/// The configuration file of the current folder.
pub const LOCAL: &str = "qujat.toml";
/// The system-wide configuration file (the Debian package installs it).
pub const SYSTEM: &str = "/etc/qujat/qujat.toml";

/// `qujat.toml`, every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigFile {
    pub paths: PathsFile,
    pub documents: DocumentsFile,
    pub run: RunFile,
    pub checkpoints: CheckpointsFile,
    /// The officials' signing keys (`docs/signing.md`); without it, documents are not signed.
    pub signing: Option<crate::sign::config::SigningFile>,
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

/// `[paths]`: the folders, relative to the configuration file's folder. The working folders
/// default to folders beside the file; the catalogue, templates and fonts to the copies built
/// into qujat.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathsFile {
    pub cases: PathBuf,
    pub output: PathBuf,
    pub registry: PathBuf,
    pub catalogue: Option<PathBuf>,
    pub templates: Option<PathBuf>,
    pub fonts: Option<PathBuf>,
}

impl Default for PathsFile {
    fn default() -> PathsFile {
        PathsFile {
            cases: "cases".into(),
            output: "output".into(),
            registry: "registry".into(),
            catalogue: None,
            templates: None,
            fonts: None,
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

/// How the configuration file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// `--config FILE`.
    Option,
    /// `$QUJAT_CONFIG`.
    Environment,
    /// `qujat.toml` in the current folder.
    CurrentFolder,
    /// `/etc/qujat/qujat.toml`.
    System,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Found::Option => "--config",
            Found::Environment => "$QUJAT_CONFIG",
            Found::CurrentFolder => "the current folder",
            Found::System => "the system configuration",
        })
    }
}

/// Where a configuration file is looked for, in order.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// `--config FILE`: must exist.
    pub option: Option<PathBuf>,
    /// `$QUJAT_CONFIG` (unset or empty: not looked at): must exist.
    pub environment: Option<OsString>,
    /// `qujat.toml` of the current folder, if it exists.
    pub local: PathBuf,
    /// `/etc/qujat/qujat.toml`, if it exists.
    pub system: PathBuf,
}

impl Lookup {
    /// The lookup of this process: the option, the environment, the usual two places.
    pub fn of_process(option: Option<&Path>) -> Lookup {
        Lookup {
            option: option.map(Path::to_path_buf),
            environment: std::env::var_os(ENV),
            local: PathBuf::from(LOCAL),
            system: PathBuf::from(SYSTEM),
        }
    }
}

/// The configuration file to use, and how it was found: none is an answer (commands then need
/// their folders as options), but a file named by `--config` or `$QUJAT_CONFIG` that does not
/// exist is an error, never a reason to look further.
pub fn locate(lookup: &Lookup) -> Result<Option<(PathBuf, Found)>> {
    if let Some(path) = &lookup.option {
        if !path.is_file() {
            bail!(
                "the configuration file {} (--config) does not exist",
                path.display()
            );
        }
        return Ok(Some((path.clone(), Found::Option)));
    }
    if let Some(path) = lookup.environment.as_ref().filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!(
                "the configuration file {} (named by ${ENV}) does not exist",
                path.display()
            );
        }
        return Ok(Some((path, Found::Environment)));
    }
    for (path, found) in [
        (&lookup.local, Found::CurrentFolder),
        (&lookup.system, Found::System),
    ] {
        if path.is_file() {
            return Ok(Some((path.clone(), found)));
        }
    }
    Ok(None)
}

/// The configuration with every path resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: ConfigFile,
    /// The folder relative paths start from.
    pub base: PathBuf,
    /// The file read, and how it was found; none: no configuration file.
    pub source: Option<(PathBuf, Found)>,
}

/// What to do when there is no configuration file, for errors that need one.
const NO_CONFIGURATION: &str = "no configuration file: none given by --config or $QUJAT_CONFIG, \
    and neither ./qujat.toml nor /etc/qujat/qujat.toml exists";

impl Config {
    /// Finds and reads the configuration file of this process (see [`locate`]).
    pub fn load(option: Option<&Path>) -> Result<Config> {
        Config::load_with(&Lookup::of_process(option))
    }

    /// Finds and reads the configuration file as `lookup` says.
    pub fn load_with(lookup: &Lookup) -> Result<Config> {
        let Some((path, found)) = locate(lookup)? else {
            return Ok(Config {
                file: ConfigFile::default(),
                base: PathBuf::new(),
                source: None,
            });
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let file = toml::from_str(&text)
            .with_context(|| format!("invalid configuration file {}", path.display()))?;
        // Empty for the current folder, so paths print as `cases`, not `./cases`.
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Config {
            file,
            base,
            source: Some((path, found)),
        })
    }

    /// The configuration file read, if one was.
    pub fn file_path(&self) -> Option<&Path> {
        self.source.as_ref().map(|(path, _)| path.as_path())
    }

    /// `configuration: /etc/qujat/qujat.toml (the system configuration)`, or that there is none.
    pub fn describe(&self) -> String {
        match &self.source {
            Some((path, found)) => format!("configuration: {} (from {found})", path.display()),
            None => "configuration: none (folders from the command line)".into(),
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

    /// The `[signing]` section, checked and its paths resolved, if there is one.
    pub fn signing(&self) -> Result<Option<crate::sign::SigningConfig>> {
        let Some(file) = &self.file.signing else {
            return Ok(None);
        };
        let base = if self.base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.base
        };
        crate::sign::SigningConfig::resolve(file, base)
            .map(Some)
            .context("the [signing] section of the configuration")
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

    /// A working folder: `given` by an option, else the configured one; without a
    /// configuration file, an error saying what to give.
    pub fn folder(&self, given: Option<PathBuf>, key: Folder) -> Result<PathBuf> {
        if let Some(path) = given {
            return Ok(path);
        }
        if self.source.is_none() {
            bail!(
                "{NO_CONFIGURATION}: give the {} folder with {}, or write a configuration file \
                 (see `qujat config --help`)",
                key.what(),
                key.option()
            );
        }
        let paths = &self.file.paths;
        Ok(self.path(match key {
            Folder::Cases => &paths.cases,
            Folder::Output => &paths.output,
            Folder::Registry => &paths.registry,
        }))
    }

    /// Where the catalogue is read from: `given`, the configured folder, or the built-in copy.
    pub fn catalogue(&self, given: Option<PathBuf>) -> Files {
        self.files(given, &self.file.paths.catalogue, &shipped::CATALOGUE)
    }

    /// Where the templates are read from: `given`, the configured folder, or the built-in copy.
    pub fn templates(&self, given: Option<PathBuf>) -> Files {
        self.files(given, &self.file.paths.templates, &shipped::TEMPLATES)
    }

    /// Where the fonts are read from: `given`, the configured folder, or the built-in copy.
    pub fn fonts(&self, given: Option<PathBuf>) -> Files {
        self.files(given, &self.file.paths.fonts, &shipped::FONTS)
    }

    fn files(
        &self,
        given: Option<PathBuf>,
        configured: &Option<PathBuf>,
        built_in: &'static shipped::Tree,
    ) -> Files {
        match (given, configured) {
            (Some(dir), _) => Files::Dir(dir),
            (None, Some(dir)) => Files::Dir(self.path(dir)),
            (None, None) => Files::BuiltIn(built_in),
        }
    }

    /// The UTC offset in minutes.
    pub fn utc_offset_minutes(&self) -> Result<i64> {
        parse_offset(&self.file.run.utc_offset)
    }
}

/// A working folder a command may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    Cases,
    Output,
    Registry,
}

impl Folder {
    fn what(self) -> &'static str {
        match self {
            Folder::Cases => "cases",
            Folder::Output => "output",
            Folder::Registry => "registry",
        }
    }

    fn option(self) -> &'static str {
        match self {
            Folder::Cases => "--cases DIR",
            Folder::Output => "--out DIR",
            Folder::Registry => "--registry-dir DIR",
        }
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

    /// A lookup in folder `dir`, where `local` and `system` may exist, given nothing.
    fn lookup(dir: &Path) -> Lookup {
        Lookup {
            option: None,
            environment: None,
            local: dir.join("cwd/qujat.toml"),
            system: dir.join("etc/qujat/qujat.toml"),
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_system_file_is_the_last_resort_and_none_is_an_answer() {
        let dir = tempfile::tempdir().unwrap();
        let look = lookup(dir.path());
        assert_eq!(locate(&look).unwrap(), None);
        let config = Config::load_with(&look).unwrap();
        assert!(config.source.is_none());
        let err = config
            .folder(None, Folder::Registry)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no configuration file"), "{err}");
        assert!(err.contains("--registry-dir DIR"), "{err}");
        // Given folders need no configuration; the shipped files are built in.
        assert_eq!(
            config.folder(Some("r".into()), Folder::Registry).unwrap(),
            Path::new("r")
        );
        assert!(matches!(config.catalogue(None), Files::BuiltIn(_)));

        write(
            &look.system,
            "[paths]\nregistry = \"/var/lib/qujat/registry\"\n",
        );
        assert_eq!(
            locate(&look).unwrap(),
            Some((look.system.clone(), Found::System))
        );
        let config = Config::load_with(&look).unwrap();
        assert_eq!(
            config.folder(None, Folder::Registry).unwrap(),
            Path::new("/var/lib/qujat/registry")
        );
        // Relative paths are relative to the file; unset ones are beside it.
        assert_eq!(
            config.folder(None, Folder::Output).unwrap(),
            dir.path().join("etc/qujat/output")
        );
        assert!(
            config
                .describe()
                .contains("(from the system configuration)")
        );

        // The current folder's file comes before it.
        write(&look.local, "[paths]\ncatalogue = \"catalogue\"\n");
        let config = Config::load_with(&look).unwrap();
        assert_eq!(
            config.source,
            Some((look.local.clone(), Found::CurrentFolder))
        );
        match config.catalogue(None) {
            Files::Dir(path) => assert_eq!(path, dir.path().join("cwd/catalogue")),
            other => panic!("{other:?}"),
        }
        // An option names a folder over the configuration.
        match config.catalogue(Some("mine".into())) {
            Files::Dir(path) => assert_eq!(path, Path::new("mine")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_option_comes_first_then_the_environment_and_either_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let mut look = lookup(dir.path());
        write(&look.local, "");
        write(&look.system, "");
        let named = dir.path().join("named.toml");
        write(&named, "");

        look.environment = Some(named.clone().into_os_string());
        assert_eq!(
            locate(&look).unwrap(),
            Some((named.clone(), Found::Environment))
        );
        // Set but empty is unset.
        look.environment = Some(OsString::new());
        assert_eq!(locate(&look).unwrap().unwrap().1, Found::CurrentFolder);

        look.environment = Some(dir.path().join("missing.toml").into_os_string());
        let err = locate(&look).unwrap_err().to_string();
        assert!(
            err.contains("missing.toml (named by $QUJAT_CONFIG) does not exist"),
            "{err}"
        );

        look.option = Some(named.clone());
        assert_eq!(locate(&look).unwrap(), Some((named, Found::Option)));
        look.option = Some(dir.path().join("other.toml"));
        let err = locate(&look).unwrap_err().to_string();
        assert!(
            err.contains("other.toml (--config) does not exist"),
            "{err}"
        );
    }

    #[test]
    fn a_misspelt_key_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut look = lookup(dir.path());
        let path = dir.path().join("q.toml");
        write(&path, "[paths]\nregistyr = \"r\"\n");
        look.option = Some(path);
        let err = format!("{:#}", Config::load_with(&look).unwrap_err());
        assert!(
            err.contains("invalid configuration file") && err.contains("q.toml"),
            "{err}"
        );
        assert!(err.contains("registyr"), "{err}");
    }

    #[test]
    fn the_packaged_system_configuration_is_valid_and_names_var_lib_qujat() {
        let dir = tempfile::tempdir().unwrap();
        let mut look = lookup(dir.path());
        look.option = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/qujat.toml"));
        let config = Config::load_with(&look).unwrap();
        for (folder, path) in [
            (Folder::Cases, "/var/lib/qujat/cases"),
            (Folder::Output, "/var/lib/qujat/output"),
            (Folder::Registry, "/var/lib/qujat/registry"),
        ] {
            assert_eq!(config.folder(None, folder).unwrap(), Path::new(path));
        }
        assert!(matches!(config.catalogue(None), Files::BuiltIn(_)));
        assert!(matches!(config.templates(None), Files::BuiltIn(_)));
        assert!(matches!(config.fonts(None), Files::BuiltIn(_)));
        assert_eq!(config.utc_offset_minutes().unwrap(), 300);
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+05:00").unwrap(), 300);
        assert_eq!(parse_offset("-03:30").unwrap(), -210);
        assert!(parse_offset("5").is_err());
        assert!(parse_offset("+25:00").is_err());
    }
}
