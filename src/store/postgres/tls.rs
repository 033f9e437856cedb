//! TLS to the server, as libpq's `sslmode` says, with rustls (pure Rust, no OpenSSL to match
//! on the machine; the `ring` provider, which builds with a C compiler alone).
//!
//! - `disable`: plain TCP.
//! - `prefer` (the default) and `require`: encrypted (`prefer` falls back to plain TCP when the
//!   server offers no TLS); the server's certificate is checked only when a root certificate is
//!   given (`sslrootcert`, `PGSSLROOTCERT`) or `~/.postgresql/root.crt` exists — then as
//!   `verify-ca`, as libpq does.
//! - `verify-ca`: the certificate must chain to a trusted root; its name is not checked.
//! - `verify-full`: chain and name (the host connected to) both.
//!
//! Trusted roots: the `sslrootcert` file (PEM), or with `sslrootcert=system` — or when none is
//! given and `~/.postgresql/root.crt` does not exist — the system's store.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    pub fn parse(text: &str) -> Result<Mode> {
        Ok(match text {
            "disable" => Mode::Disable,
            // libpq's `allow` tries plain TCP first; encrypted when the server insists is what
            // `prefer` does from the other side, and safer.
            "allow" => Mode::Allow,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => bail!(
                "sslmode {other:?}: give disable, allow, prefer, require, verify-ca or verify-full"
            ),
        })
    }
}

/// ring's algorithms. rustls 0.23.48 deprecates them for lacking post-quantum key exchange,
/// which aws-lc-rs has but which a PostgreSQL server (OpenSSL) does not offer by default either;
/// aws-lc-rs would bring cmake and a longer build to every machine that builds qujat.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The connector for `mode` (`None`: no TLS), trusting the roots `rootcert` names.
pub fn connector(mode: Mode, rootcert: Option<&str>) -> Result<Option<MakeRustlsConnect>> {
    let home_root = std::env::var_os("HOME")
        .map(|home| std::path::Path::new(&home).join(".postgresql/root.crt"))
        .filter(|path| path.is_file());
    let verify = match mode {
        Mode::Disable => return Ok(None),
        Mode::Allow | Mode::Prefer | Mode::Require if rootcert.is_none() && home_root.is_none() => {
            None
        }
        Mode::Allow | Mode::Prefer | Mode::Require | Mode::VerifyCa => Some(false),
        Mode::VerifyFull => Some(true),
    };
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        None => Arc::new(Unverified(provider())),
        Some(names) => {
            let roots = roots(rootcert, home_root.as_deref())?;
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .context("cannot set up TLS certificate verification")?;
            if names {
                webpki as Arc<dyn ServerCertVerifier>
            } else {
                Arc::new(ChainOnly(webpki))
            }
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// The trusted roots: the file given, or the system's.
fn roots(rootcert: Option<&str>, home_root: Option<&std::path::Path>) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let file = match rootcert {
        Some("system") => None,
        Some(path) => Some(std::path::PathBuf::from(path)),
        None => home_root.map(std::path::Path::to_path_buf),
    };
    match file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(&path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|err| anyhow::anyhow!("{err:?}"))
                .with_context(|| {
                    format!("cannot read root certificates from {}", path.display())
                })?;
            for cert in certs {
                store.add(cert).with_context(|| {
                    format!("a root certificate in {} cannot be used", path.display())
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A system store may hold certificates webpki cannot use; the others serve.
                let _ = store.add(cert);
            }
        }
    }
    if store.is_empty() {
        bail!(
            "no trusted root certificate to verify the server with: give sslrootcert=FILE in the \
             URL (or PGSSLROOTCERT)"
        );
    }
    Ok(store)
}

/// Encryption without authentication (`prefer`, `require` without a root certificate): any
/// certificate is taken, the handshake's signatures are still checked.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain as webpki checks it, any name.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
