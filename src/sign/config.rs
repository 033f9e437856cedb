//! The `[signing]` section of `qujat.toml`: which keystore signs for which official, where
//! the keystores' passwords come from, and what verification trusts.
//!
//! ```toml
//! [signing]
//! trust = ["signing/ca.pem"]          # CA certificates signatures must chain to (PEM or DER)
//! crl = "signing/ca.crl"              # optional: a CRL `verify` consults
//! password_env = "QUJAT_KEYSTORE_PASSWORD"   # default password source: a variable…
//! # password_file = "/etc/qujat/keystore-password"   # …or a file (one of the two)
//!
//! [[signing.official]]
//! name = "Асқаров Ерлан Болатұлы"     # as cases name the signing official
//! keystore = "keys/askarov.p12"
//!
//! [[signing.official]]
//! name = "Әбдірахманова Сәуле Қайратқызы"
//! position = "deputy-chairman"        # only when one person signs in two positions with two keys
//! keystore = "keys/abdirakhmanova-committee.p12"
//! password_file = "/etc/qujat/abdirakhmanova"   # this keystore's own password
//! alias = "signing"                   # only when the keystore holds several keys
//! ```
//!
//! Cases name the official by `decision.official.name` and `decision.official.position`; a
//! key is found by the name (spaces collapsed), an entry with a position winning for that
//! position over one without.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::chain;
use super::keystore::PasswordSource;
use super::signer::Signer;
use super::software::SoftwareSigner;
use super::time::SigningTime;

/// `[signing]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningFile {
    #[serde(default)]
    pub trust: Vec<PathBuf>,
    pub crl: Option<PathBuf>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    #[serde(default, rename = "official")]
    pub officials: Vec<OfficialFile>,
}

/// One `[[signing.official]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialFile {
    pub name: String,
    pub position: Option<String>,
    pub keystore: PathBuf,
    pub alias: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
}

/// An official's key, paths resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialKey {
    pub name: String,
    pub position: Option<String>,
    pub keystore: PathBuf,
    pub alias: Option<String>,
    pub password: PasswordSource,
}

/// `[signing]`, checked and resolved against the configuration file's folder.
#[derive(Debug, Clone, Default)]
pub struct SigningConfig {
    pub trust: Vec<PathBuf>,
    pub crl: Option<PathBuf>,
    pub officials: Vec<OfficialKey>,
}

/// Names compare with runs of whitespace collapsed, so a stray double space in a case file
/// does not leave an official without a key.
pub fn normalize_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn password_source(
    env: &Option<String>,
    file: &Option<PathBuf>,
    base: &Path,
) -> Result<Option<PasswordSource>, &'static str> {
    match (env, file) {
        (Some(_), Some(_)) => Err("gives both password_env and password_file; give one"),
        (Some(name), None) if name.trim().is_empty() => Err("has an empty password_env"),
        (Some(name), None) => Ok(Some(PasswordSource::Env(name.clone()))),
        (None, Some(path)) => Ok(Some(PasswordSource::File(base.join(path)))),
        (None, None) => Ok(None),
    }
}

impl SigningConfig {
    /// Checks `file` and resolves its paths against `base`, reporting every problem at once.
    pub fn resolve(file: &SigningFile, base: &Path) -> Result<SigningConfig> {
        let mut problems = Vec::new();
        let default = match password_source(&file.password_env, &file.password_file, base) {
            Ok(source) => source,
            Err(why) => {
                problems.push(format!("[signing] {why}"));
                None
            }
        };
        let mut officials = Vec::new();
        let mut seen = HashSet::new();
        for (i, official) in file.officials.iter().enumerate() {
            let name = normalize_name(&official.name);
            let at = format!("[[signing.official]] #{} ({:?})", i + 1, official.name);
            if name.is_empty() {
                problems.push(format!("{at} has an empty name"));
                continue;
            }
            let position = official
                .position
                .as_ref()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty());
            if !seen.insert((name.clone(), position.clone())) {
                problems.push(format!(
                    "{at} repeats an official{} already given a key",
                    position
                        .as_ref()
                        .map(|p| format!(" in position {p:?}"))
                        .unwrap_or_default()
                ));
                continue;
            }
            let password =
                match password_source(&official.password_env, &official.password_file, base) {
                    Ok(Some(source)) => source,
                    Ok(None) => match &default {
                        Some(source) => source.clone(),
                        None => {
                            problems.push(format!(
                                "{at} has no password source: give password_env or password_file \
                             here or in [signing]"
                            ));
                            continue;
                        }
                    },
                    Err(why) => {
                        problems.push(format!("{at} {why}"));
                        continue;
                    }
                };
            officials.push(OfficialKey {
                name,
                position,
                keystore: base.join(&official.keystore),
                alias: official.alias.clone(),
                password,
            });
        }
        if !problems.is_empty() {
            bail!("invalid [signing] configuration: {}", problems.join("; "));
        }
        Ok(SigningConfig {
            trust: file.trust.iter().map(|p| base.join(p)).collect(),
            crl: file.crl.as_ref().map(|p| base.join(p)),
            officials,
        })
    }

    /// Reads the `[signing]` section of a `qujat.toml` text (other sections are not looked
    /// at), resolving paths against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<SigningConfig> {
        #[derive(Deserialize)]
        struct Whole {
            #[serde(default)]
            signing: SigningFile,
        }
        let whole: Whole = toml::from_str(text).context("invalid [signing] section")?;
        SigningConfig::resolve(&whole.signing, base)
    }

    /// The key of the official `name` in `position`.
    pub fn key_for(&self, name: &str, position: Option<&str>) -> Option<&OfficialKey> {
        let name = normalize_name(name);
        let exact = self
            .officials
            .iter()
            .find(|o| o.name == name && o.position.is_some() && o.position.as_deref() == position);
        exact.or_else(|| {
            self.officials
                .iter()
                .find(|o| o.name == name && o.position.is_none())
        })
    }

    /// Opens every official's keystore, so a wrong password or a missing file stops a batch
    /// before anything is written.
    pub fn open_signers(&self) -> Result<Signers> {
        let mut signers = Vec::with_capacity(self.officials.len());
        for official in &self.officials {
            let signer = SoftwareSigner::open(
                &official.keystore,
                &official.password,
                official.alias.as_deref(),
            )
            .with_context(|| format!("the signing key of {}", official.name))?;
            signers.push((official.clone(), Arc::new(signer) as Arc<dyn Signer>));
        }
        Ok(Signers {
            config: self.clone(),
            signers,
        })
    }
}

/// Every official's signer, opened.
pub struct Signers {
    config: SigningConfig,
    signers: Vec<(OfficialKey, Arc<dyn Signer>)>,
}

impl Signers {
    /// The opened signer whose own certificate satisfies `matches`.
    pub fn find(
        &self,
        matches: impl Fn(&x509_cert::Certificate) -> bool,
    ) -> Option<Arc<dyn Signer>> {
        self.signers
            .iter()
            .map(|(_, signer)| signer)
            .find(|signer| signer.certificates().first().is_some_and(&matches))
            .cloned()
    }

    /// The signer of official `name` in `position` for a document signed at `time`: an error
    /// in words when the official has no key or the key's certificate is not valid then.
    pub fn for_official(
        &self,
        name: &str,
        position: Option<&str>,
        time: SigningTime,
    ) -> Result<Arc<dyn Signer>> {
        let Some(key) = self.config.key_for(name, position) else {
            bail!("the official {name:?} has no signing key in the [signing] configuration");
        };
        let signer = self
            .signers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, s)| Arc::clone(s))
            .expect("every configured key was opened");
        let cert = signer
            .certificates()
            .first()
            .context("the signer has no certificate")?;
        chain::check_valid_at(cert, time)
            .with_context(|| format!("the signing key of {name} ({})", key.keystore.display()))?;
        Ok(signer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SigningConfig> {
        SigningConfig::parse(text, Path::new("/etc/qujat"))
    }

    #[test]
    fn officials_map_to_keystores_with_inherited_passwords() {
        let config = parse(
            r#"
[paths]
output = "elsewhere"

[signing]
trust = ["ca.pem"]
password_env = "QUJAT_KEYSTORE_PASSWORD"

[[signing.official]]
name = "Асқаров  Ерлан Болатұлы"
keystore = "keys/askarov.p12"

[[signing.official]]
name = "Әбдірахманова Сәуле Қайратқызы"
keystore = "keys/a-director.p12"

[[signing.official]]
name = "Әбдірахманова Сәуле Қайратқызы"
position = "deputy-chairman"
keystore = "keys/a-committee.p12"
password_file = "secret/a"
"#,
        )
        .unwrap();
        assert_eq!(config.trust, vec![PathBuf::from("/etc/qujat/ca.pem")]);
        let askarov = config
            .key_for("Асқаров Ерлан Болатұлы", Some("chairman"))
            .unwrap();
        assert_eq!(
            askarov.keystore,
            PathBuf::from("/etc/qujat/keys/askarov.p12")
        );
        assert_eq!(
            askarov.password,
            PasswordSource::Env("QUJAT_KEYSTORE_PASSWORD".into())
        );
        let a = "Әбдірахманова Сәуле Қайратқызы";
        assert_eq!(
            config.key_for(a, Some("deputy-chairman")).unwrap().keystore,
            PathBuf::from("/etc/qujat/keys/a-committee.p12")
        );
        assert_eq!(
            config.key_for(a, Some("deputy-chairman")).unwrap().password,
            PasswordSource::File("/etc/qujat/secret/a".into())
        );
        assert_eq!(
            config.key_for(a, Some("director")).unwrap().keystore,
            PathBuf::from("/etc/qujat/keys/a-director.p12")
        );
        assert!(config.key_for("Ким Олег Вячеславович", None).is_none());
    }

    #[test]
    fn every_problem_is_reported_together() {
        let err = parse(
            r#"
[signing]
[[signing.official]]
name = "A"
keystore = "a.p12"

[[signing.official]]
name = "B"
keystore = "b.p12"
password_env = "X"
password_file = "y"

[[signing.official]]
name = "B"
keystore = "b2.p12"
password_env = "X"
"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("#1 (\"A\") has no password source"), "{err}");
        assert!(err.contains("#2 (\"B\") gives both"), "{err}");
        assert!(err.contains("#3 (\"B\") repeats an official"), "{err}");
    }

    #[test]
    fn typos_are_refused() {
        let err = parse("[signing]\npasword_env = \"X\"\n").unwrap_err();
        assert!(format!("{err:#}").contains("pasword_env"), "{err:#}");
        let err = parse("[[signing.official]]\nname = \"A\"\nkeystor = \"a.p12\"\n").unwrap_err();
        assert!(format!("{err:#}").contains("keystor"), "{err:#}");
    }

    #[test]
    fn no_section_means_no_officials() {
        let config = parse("[paths]\ncases = \"c\"\n").unwrap();
        assert!(config.officials.is_empty() && config.trust.is_empty());
    }
}
