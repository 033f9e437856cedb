//! Certificates as a verifier judges them: the trust store of CA certificates, the chain from
//! a signer's certificate to one of them, the validity periods on a given date, and
//! revocation per a CRL. Each answer is a sentence a person can act on.

use std::path::Path;

use anyhow::{Context, Result, bail};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::name::Name;

use super::algorithms;
use super::time::SigningTime;

/// The CA certificates a signature must chain to.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub anchors: Vec<Certificate>,
}

impl TrustStore {
    /// Certificates from PEM (any number of `CERTIFICATE` blocks) or one DER certificate.
    pub fn from_bytes(bytes: &[u8]) -> Result<TrustStore> {
        Ok(TrustStore {
            anchors: certificates_from_bytes(bytes)?,
        })
    }

    /// Reads the files at `paths` (PEM or DER each).
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<TrustStore> {
        let mut store = TrustStore::default();
        for path in paths {
            let path = path.as_ref();
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the trust store {}", path.display()))?;
            store.anchors.extend(
                certificates_from_bytes(&bytes)
                    .with_context(|| format!("trust store {}", path.display()))?,
            );
        }
        Ok(store)
    }

    fn contains(&self, cert: &Certificate) -> bool {
        self.anchors.iter().any(|a| a == cert)
    }
}

/// Certificates in PEM or DER.
pub fn certificates_from_bytes(bytes: &[u8]) -> Result<Vec<Certificate>> {
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let certs = Certificate::load_pem_chain(bytes).context("unreadable PEM certificates")?;
        if certs.is_empty() {
            bail!("no certificate in the PEM file");
        }
        Ok(certs)
    } else {
        Ok(vec![
            Certificate::from_der(bytes).context("neither a PEM nor a DER certificate")?,
        ])
    }
}

/// A certificate revocation list (RFC 5280 §5).
#[derive(Debug, Clone)]
pub struct Crl {
    pub list: CertificateList,
}

impl Crl {
    /// A CRL in PEM (`X509 CRL`) or DER.
    pub fn from_bytes(bytes: &[u8]) -> Result<Crl> {
        let list = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            let text = std::str::from_utf8(bytes).context("a PEM CRL is text")?;
            let (label, der) =
                der::pem::decode_vec(text.as_bytes()).context("unreadable PEM CRL")?;
            if label != "X509 CRL" {
                bail!("the PEM block is a {label}, not an X509 CRL");
            }
            CertificateList::from_der(&der)
        } else {
            CertificateList::from_der(bytes)
        }
        .context("not a CRL")?;
        Ok(Crl { list })
    }

    pub fn load(path: &Path) -> Result<Crl> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the CRL {}", path.display()))?;
        Crl::from_bytes(&bytes).with_context(|| format!("CRL {}", path.display()))
    }
}

/// A name as people read it: its common name, or the whole name.
pub fn display_name(name: &Name) -> String {
    common_name(name).unwrap_or_else(|| name.to_string())
}

/// The common name (CN) of a name, if it has one.
pub fn common_name(name: &Name) -> Option<String> {
    name.common_name().ok().flatten().map(String::from)
}

/// A date as people read it (UTC).
pub fn display_time(time: &x509_cert::time::Time) -> String {
    SigningTime::from_x509(time).to_string()
}

/// Whether `cert` was valid at `time`, in words when it was not.
pub fn check_valid_at(cert: &Certificate, time: SigningTime) -> Result<()> {
    let validity = cert.tbs_certificate().validity();
    let t = time.to_duration();
    let from = validity.not_before.to_unix_duration();
    let to = validity.not_after.to_unix_duration();
    let who = display_name(cert.tbs_certificate().subject());
    if t < from {
        bail!(
            "the certificate of «{who}» was not yet valid at {time}: it is valid from {} to {}",
            display_time(&validity.not_before),
            display_time(&validity.not_after)
        );
    }
    if t > to {
        bail!(
            "the certificate of «{who}» had expired at {time}: it was valid from {} to {}",
            display_time(&validity.not_before),
            display_time(&validity.not_after)
        );
    }
    Ok(())
}

/// Whether `subject` carries a verifiable signature by `issuer`.
fn issued_by(subject: &Certificate, issuer: &Certificate) -> Result<(), String> {
    if subject.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return Err("names differ".into());
    }
    let tbs = subject
        .tbs_certificate()
        .to_der()
        .map_err(|e| e.to_string())?;
    let signature = subject
        .signature()
        .as_bytes()
        .ok_or("the certificate's signature has unused bits")?;
    algorithms::verify(
        issuer.tbs_certificate().subject_public_key_info(),
        subject.signature_algorithm(),
        None,
        &tbs,
        signature,
    )
}

/// The chain from `signer` to a trust anchor, through `others` (the certificates the
/// signature carries), each link's signature checked: `[signer, …, anchor]`.
pub fn build_path(
    signer: &Certificate,
    others: &[Certificate],
    trust: &TrustStore,
) -> Result<Vec<Certificate>, String> {
    let mut path = vec![signer.clone()];
    // Longer chains than this exist nowhere in practice; a loop must end.
    for _ in 0..8 {
        let current = path.last().expect("the path starts with the signer");
        if trust.contains(current) {
            return Ok(path);
        }
        let issuer_name = current.tbs_certificate().issuer();
        let mut mismatch = None;
        let anchor = trust.anchors.iter().find(|a| match issued_by(current, a) {
            Ok(()) => true,
            Err(why) => {
                if a.tbs_certificate().subject() == issuer_name {
                    mismatch = Some(why);
                }
                false
            }
        });
        if let Some(anchor) = anchor {
            path.push(anchor.clone());
            return Ok(path);
        }
        if let Some(why) = mismatch {
            return Err(format!(
                "the certificate of «{}» names «{}» of the trust store as its issuer, but its \
                 signature does not verify with that CA's key ({why}): it is forged or altered",
                display_name(current.tbs_certificate().subject()),
                display_name(issuer_name)
            ));
        }
        let next = others
            .iter()
            .filter(|c| !path.contains(c))
            .find(|c| issued_by(current, c).is_ok());
        match next {
            Some(next) => path.push(next.clone()),
            None => {
                return Err(format!(
                    "the certificate of «{}» was issued by «{}», which is not in the trust store \
                     and not among the certificates the signature carries (or its key does not \
                     verify the certificate)",
                    display_name(current.tbs_certificate().subject()),
                    display_name(issuer_name)
                ));
            }
        }
    }
    Err("the certificate chain is longer than 8 certificates".into())
}

/// What each certificate of a checked path may do: the signer's may sign documents, the
/// others are CAs that may sign certificates. Problems in words.
pub fn check_usages(path: &[Certificate]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, cert) in path.iter().enumerate() {
        let who = display_name(cert.tbs_certificate().subject());
        let usage = cert.tbs_certificate().get_extension::<KeyUsage>();
        let usage = match usage {
            Ok(usage) => usage.map(|(_, u)| u),
            Err(_) => {
                problems.push(format!(
                    "the key usage of «{who}»'s certificate is unreadable"
                ));
                continue;
            }
        };
        if i == 0 {
            if let Some(usage) = usage
                && !usage.digital_signature()
                && !usage.non_repudiation()
            {
                problems.push(format!(
                    "the certificate of «{who}» does not allow signing documents (its key \
                     usage has neither digitalSignature nor nonRepudiation)"
                ));
            }
        } else {
            let ca = cert
                .tbs_certificate()
                .get_extension::<BasicConstraints>()
                .ok()
                .flatten()
                .is_some_and(|(_, bc)| bc.ca);
            if !ca {
                problems.push(format!(
                    "«{who}» issued a certificate of the chain but is not a CA (no basic \
                     constraints with cA true)"
                ));
            }
            if let Some(usage) = usage
                && !usage.key_cert_sign()
            {
                problems.push(format!(
                    "«{who}» issued a certificate of the chain but its key usage does not \
                     allow signing certificates"
                ));
            }
        }
    }
    problems
}

/// What a CRL says of a path.
pub enum Revocation {
    /// None of the path's certificates the CRL covers is on it.
    NotRevoked { issuer: String, this_update: String },
    /// A certificate is on it, revoked on or before the date checked.
    Revoked(String),
    /// A certificate is on it, revoked after the date checked (a signature made before
    /// stays valid).
    RevokedLater(String),
    /// The CRL cannot answer for this path.
    Unusable(String),
}

/// Looks up the path's certificates on `crl`, after checking the CRL's own signature.
pub fn check_crl(crl: &Crl, path: &[Certificate], at: SigningTime) -> Revocation {
    let tbs = &crl.list.tbs_cert_list;
    let crl_issuer = display_name(&tbs.issuer);
    // The CRL covers the certificates its issuer issued: a link `cert ← issuer` of the path.
    let Some((covered, issuer)) = path
        .windows(2)
        .map(|w| (&w[0], &w[1]))
        .find(|(_, issuer)| issuer.tbs_certificate().subject() == &tbs.issuer)
    else {
        return Revocation::Unusable(format!(
            "the CRL given is issued by «{crl_issuer}», which issued no certificate of this \
             signature's chain: revocation could not be checked"
        ));
    };
    let signed = match tbs.to_der() {
        Ok(der) => der,
        Err(e) => return Revocation::Unusable(format!("the CRL cannot be re-encoded: {e}")),
    };
    let Some(signature) = crl.list.signature.as_bytes() else {
        return Revocation::Unusable("the CRL's signature is malformed".into());
    };
    if let Err(why) = algorithms::verify(
        issuer.tbs_certificate().subject_public_key_info(),
        &crl.list.signature_algorithm,
        None,
        &signed,
        signature,
    ) {
        return Revocation::Unusable(format!(
            "the CRL claims to be «{crl_issuer}»'s but its signature does not verify with that \
             CA's key ({why}): it cannot be trusted"
        ));
    }
    let serial = covered.tbs_certificate().serial_number();
    let who = display_name(covered.tbs_certificate().subject());
    let entry = tbs
        .revoked_certificates
        .iter()
        .flatten()
        .find(|r| r.serial_number == *serial);
    match entry {
        None => Revocation::NotRevoked {
            issuer: crl_issuer,
            this_update: display_time(&tbs.this_update),
        },
        Some(entry) => {
            let when = SigningTime::from_x509(&entry.revocation_date);
            if when.unix_seconds() <= at.unix_seconds() {
                Revocation::Revoked(format!(
                    "the certificate of «{who}» (serial {serial}) was revoked on {when}, \
                     before {at}: the signature is not valid"
                ))
            } else {
                Revocation::RevokedLater(format!(
                    "the certificate of «{who}» was revoked on {when}, after {at}"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;

    fn test_pki() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("signing/test")
    }

    #[test]
    fn trust_stores_and_crls_read_as_pem_or_der() {
        let pem = std::fs::read(test_pki().join("ca/root.pem")).unwrap();
        let from_pem = TrustStore::from_bytes(&pem).unwrap();
        let der = from_pem.anchors[0].to_der().unwrap();
        let from_der = TrustStore::from_bytes(&der).unwrap();
        assert_eq!(from_pem.anchors, from_der.anchors);
        let both = [
            pem.clone(),
            std::fs::read(test_pki().join("ca/issuing.pem")).unwrap(),
        ];
        assert_eq!(
            TrustStore::from_bytes(&both.concat())
                .unwrap()
                .anchors
                .len(),
            2
        );

        let crl = Crl::load(&test_pki().join("ca/issuing.crl.pem")).unwrap();
        let again = Crl::from_bytes(&crl.list.to_der().unwrap()).unwrap();
        assert_eq!(again.list, crl.list);
        assert!(
            Crl::from_bytes(&pem)
                .unwrap_err()
                .to_string()
                .contains("not an X509 CRL")
        );
        assert!(TrustStore::from_bytes(b"junk").is_err());
    }

    #[test]
    fn names_read_as_people_read_them() {
        let pem = std::fs::read(test_pki().join("ca/root.pem")).unwrap();
        let root = &TrustStore::from_bytes(&pem).unwrap().anchors[0];
        assert_eq!(
            display_name(root.tbs_certificate().subject()),
            "QUJAT TEST ROOT CA - TEST ONLY"
        );
        let at = SigningTime::issue_date("2019-06-01".parse().unwrap(), 300).unwrap();
        let err = check_valid_at(root, at).unwrap_err().to_string();
        assert!(
            err.contains("not yet valid") && err.contains("2020-01-01"),
            "{err}"
        );
    }
}
