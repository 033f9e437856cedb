//! PKCS#12 keystores (`.p12`, as Kazakhstan's national certification authority hands keys
//! out) and their passwords. A password comes from an environment variable or a file —
//! never from the command line, where `ps` shows it to every user — and no message ever
//! contains one.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use der::Decode;
use x509_cert::Certificate;
use zeroize::Zeroizing;

/// A keystore password, wiped from memory when dropped and never printed.
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(text: impl Into<String>) -> Password {
        Password(Zeroizing::new(text.into()))
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Where a keystore's password is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// An environment variable, by name.
    Env(String),
    /// A file: its content, less one final line ending.
    File(PathBuf),
}

impl fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::Env(name) => write!(f, "environment variable {name}"),
            PasswordSource::File(path) => write!(f, "password file {}", path.display()),
        }
    }
}

impl PasswordSource {
    pub fn read(&self) -> Result<Password> {
        match self {
            PasswordSource::Env(name) => match std::env::var(name) {
                Ok(value) => Ok(Password::new(value)),
                Err(std::env::VarError::NotPresent) => {
                    bail!("the keystore password's environment variable {name} is not set")
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    bail!("the environment variable {name} is not valid UTF-8")
                }
            },
            PasswordSource::File(path) => {
                let bytes = Zeroizing::new(std::fs::read(path).with_context(|| {
                    format!("cannot read the password file {}", path.display())
                })?);
                let text = std::str::from_utf8(&bytes).with_context(|| {
                    format!("the password file {} is not UTF-8 text", path.display())
                })?;
                // Editors end files with a line feed; it is not part of the password.
                let text = text
                    .strip_suffix("\r\n")
                    .or_else(|| text.strip_suffix('\n'))
                    .unwrap_or(text);
                Ok(Password::new(text))
            }
        }
    }
}

/// What a keystore holds for signing: the private key (PKCS#8 DER) and every certificate.
pub struct KeystoreContents {
    pub key_pkcs8: Zeroizing<Vec<u8>>,
    pub certificates: Vec<Certificate>,
}

/// Opens a PKCS#12 keystore. With several keys, `alias` (the key's friendly name) chooses one.
pub fn read_pkcs12(
    bytes: &[u8],
    password: &Password,
    alias: Option<&str>,
) -> Result<KeystoreContents> {
    use p12_keystore::error::Error as P12Error;
    let archive = match p12_keystore::Pkcs12Archive::from_pkcs12(bytes, password.as_str()) {
        Ok(archive) => archive,
        // The integrity MAC, or with none the decryption's padding, fails with a wrong
        // password; a corrupt file fails earlier, in its structure.
        Err(P12Error::MacError(_) | P12Error::UnpadError) => {
            bail!("wrong keystore password (the keystore's integrity check fails with it)")
        }
        Err(P12Error::DerError(e)) => {
            bail!("not a PKCS#12 keystore, or a damaged one ({e})")
        }
        Err(e) => bail!("cannot open the keystore: {e}"),
    };
    let keys: Vec<_> = match alias {
        Some(alias) => archive
            .keys
            .iter()
            .filter(|k| k.friendly_name.as_deref() == Some(alias))
            .collect(),
        None => archive.keys.iter().collect(),
    };
    let key = match keys.as_slice() {
        [key] => key,
        [] if alias.is_some() => bail!(
            "the keystore has no private key named {:?} (it has {})",
            alias.unwrap_or_default(),
            names(&archive)
        ),
        [] => bail!("the keystore holds no private key"),
        _ => bail!(
            "the keystore holds {} private keys ({}); name the one to sign with (alias)",
            keys.len(),
            names(&archive)
        ),
    };
    let mut certificates = Vec::new();
    for bag in &archive.certs {
        let cert = Certificate::from_der(bag.cert.as_der())
            .context("the keystore holds an unreadable certificate")?;
        if !certificates.contains(&cert) {
            certificates.push(cert);
        }
    }
    Ok(KeystoreContents {
        key_pkcs8: Zeroizing::new(key.key.as_der().to_vec()),
        certificates,
    })
}

fn names(archive: &p12_keystore::Pkcs12Archive) -> String {
    let names: Vec<String> = archive
        .keys
        .iter()
        .map(|k| format!("{:?}", k.friendly_name.as_deref().unwrap_or("(unnamed)")))
        .collect();
    names.join(", ")
}

/// Reads the keystore file at `path` with the password from `source`.
pub fn open(path: &Path, source: &PasswordSource, alias: Option<&str>) -> Result<KeystoreContents> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the keystore {}", path.display()))?;
    let password = source.read()?;
    read_pkcs12(&bytes, &password, alias)
        .with_context(|| format!("keystore {} (password from the {source})", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_file_loses_its_final_line_ending_only() {
        let dir = tempfile::tempdir().unwrap();
        for (written, read) in [
            ("secret\n", "secret"),
            ("secret\r\n", "secret"),
            ("secret", "secret"),
            (" two words \n\n", " two words \n"),
        ] {
            let path = dir.path().join("p");
            std::fs::write(&path, written).unwrap();
            let password = PasswordSource::File(path).read().unwrap();
            assert_eq!(password.as_str(), read);
        }
    }

    #[test]
    fn a_password_from_the_environment_and_never_in_debug_output() {
        // PATH is set wherever tests run; setting a variable would race other threads.
        let password = PasswordSource::Env("PATH".into()).read().unwrap();
        assert_eq!(password.as_str(), std::env::var("PATH").unwrap());
        assert_eq!(format!("{password:?}"), "Password(…)");
        let err = PasswordSource::Env("QUJAT_SURELY_UNSET".into())
            .read()
            .unwrap_err();
        assert!(err.to_string().contains("QUJAT_SURELY_UNSET is not set"));
        let err = PasswordSource::File("/nonexistent/pw".into())
            .read()
            .unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/pw"));
    }

    #[test]
    fn garbage_is_not_a_keystore() {
        let Err(err) = read_pkcs12(b"not a keystore", &Password::new("x"), None) else {
            panic!("garbage opened as a keystore");
        };
        assert!(err.to_string().contains("not a PKCS#12 keystore"), "{err}");
    }
}
