//! The test PKI — TEST ONLY, DO NOT USE for anything real: a test root CA, an issuing CA and a
//! key for every official the sample cases name, generated from fixed seeds, so anyone can
//! regenerate exactly the same keys and certificates.
//!
//! ```sh
//! cargo run --example signing_test_pki            # (re)writes signing/test/
//! ```
//!
//! Writes `signing/test/`: `ca/root.pem` (the trust anchor), `ca/issuing.pem`,
//! `ca/issuing.crl.pem` (revoking the "revoked" test official), `officials/*.p12` (password
//! in `PASSWORD`), `officials.toml` (the `[signing]` section mapping the sample officials to
//! their keystores) and a few deliberately bad keys the tests use: an expired certificate, a
//! revoked one, a 1024-bit RSA key, and an official of a rogue CA no one trusts.
//!
//! Keys and certificates are a function of the seeds alone. PKCS#12 files are encrypted with
//! random salts, so a keystore is rewritten only when what it holds changes. The integration
//! tests include this file (`tests/suite/signing.rs`) and check the committed files are what
//! it generates.

#![allow(dead_code)]

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result};
use chacha20::ChaCha20Rng;
use chacha20::rand_core::SeedableRng;
use der::{Decode, Encode, EncodePem};
use sha2::{Digest, Sha256};
use spki::{EncodePublicKey, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder, CrlBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::crl::RevokedCert;
use x509_cert::ext::pkix::crl::CrlNumber;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Every key below derives from this and its label.
const MASTER_SEED: &str = "qujat test PKI 1 — TEST ONLY, DO NOT USE";

/// The password of every test keystore.
pub const PASSWORD: &str = "qujat-test-only";

/// Marks every test certificate.
const ORGANIZATION: &str = "TEST ONLY - DO NOT USE";

/// The officials the sample cases name (`decision.official.name` in cases/sample/).
pub const SAMPLE_OFFICIALS: [&str; 21] = [
    "Асқаров Ерлан Болатұлы",
    "Ахметова Әсел Қайратқызы",
    "Жақсыбеков Руслан Маратұлы",
    "Жақсылықов Ерболат Қанатұлы",
    "Жүнісова Динара Болатқызы",
    "Ибраева Динара Сапарқызы",
    "Ким Олег Вячеславович",
    "Мұқанов Бауыржан Серікұлы",
    "Омаров Данияр Қайратұлы",
    "Омарова Сәуле Ермекқызы",
    "Оспанов Асхат Серікұлы",
    "Сейдахметов Ғалымжан Әбілұлы",
    "Сейітова Гүлнар Маратқызы",
    "Серікбаева Ләззат Бауыржанқызы",
    "Сәрсенов Арман Төлегенұлы",
    "Тұрсынбаева Гүлмира Ерланқызы",
    "Тұрсынов Бақытжан Әлібекұлы",
    "Тұрсынов Нұрлан Ерланұлы",
    "Шевченко Ирина Александровна",
    "Қожахметова Айгерім Бақытқызы",
    "Әбдірахманова Сәуле Қайратқызы",
];

/// A key of the test PKI.
pub enum Key {
    Rsa(rsa::pkcs1v15::SigningKey<Sha256>),
    P256(p256::ecdsa::SigningKey),
}

impl Key {
    fn rsa(label: &str, bits: usize) -> Result<Key> {
        let mut rng = ChaCha20Rng::from_seed(seed(label));
        let key = rsa::PrivateKey::new(&mut rng, bits).context("RSA key generation")?;
        Ok(Key::Rsa(rsa::pkcs1v15::SigningKey::new(key)))
    }

    fn p256(label: &str) -> Result<Key> {
        // A 32-byte string is a valid scalar but with probability 2^-32; try the next on failure.
        for attempt in 0u32.. {
            let bytes = seed(&format!("{label}/{attempt}"));
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&bytes) {
                return Ok(Key::P256(key));
            }
        }
        unreachable!()
    }

    fn public(&self) -> Result<SubjectPublicKeyInfoOwned> {
        let der = match self {
            Key::Rsa(k) => k.as_ref().as_public_key().to_public_key_der()?,
            Key::P256(k) => k.verifying_key().to_public_key_der()?,
        };
        Ok(SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?)
    }

    /// The PKCS#8 DER of the private key.
    pub fn pkcs8(&self) -> Result<Vec<u8>> {
        use rsa::pkcs8::EncodePrivateKey;
        Ok(match self {
            Key::Rsa(k) => k.as_ref().to_pkcs8_der()?.as_bytes().to_vec(),
            Key::P256(k) => p256::SecretKey::from(k).to_pkcs8_der()?.as_bytes().to_vec(),
        })
    }

    fn issue<P: BuilderProfile>(&self, builder: CertificateBuilder<P>) -> Result<Certificate> {
        Ok(match self {
            Key::Rsa(k) => builder.build::<_, rsa::pkcs1v15::Signature>(k)?,
            Key::P256(k) => builder.build::<_, p256::ecdsa::DerSignature>(k)?,
        })
    }
}

fn seed(label: &str) -> [u8; 32] {
    Sha256::digest(format!("{MASTER_SEED}/{label}").as_bytes()).into()
}

/// A positive 16-byte serial number derived from the label.
fn serial(label: &str) -> Result<SerialNumber> {
    let mut bytes = seed(&format!("serial/{label}"))[..16].to_vec();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x10;
    Ok(SerialNumber::new(&bytes)?)
}

fn time(text: &str) -> Result<Time> {
    // YYYY-MM-DDTHH:MM:SSZ
    let date: qujat::date::Date = text[..10].parse()?;
    let hms: Vec<u64> = text[11..19]
        .split(':')
        .map(|p| p.parse())
        .collect::<Result<_, _>>()?;
    let secs = date.to_days() as u64 * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    Ok(Time::try_from(
        std::time::UNIX_EPOCH + Duration::from_secs(secs),
    )?)
}

fn validity(from: &str, to: &str) -> Result<Validity> {
    Ok(Validity::new(time(from)?, time(to)?))
}

/// The profile of every test certificate: a CA or a signing official.
struct Profile {
    subject: Name,
    issuer: Option<Name>,
    ca: bool,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, subject: &Name) -> Name {
        self.issuer.clone().unwrap_or_else(|| subject.clone())
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut extensions: Vec<Extension> = Vec::new();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        let issuer_ski = SubjectKeyIdentifier::try_from(issuer_spk)?;
        extensions.push(
            AuthorityKeyIdentifier {
                key_identifier: Some(issuer_ski.0.clone()),
                ..Default::default()
            }
            .to_extension(tbs.subject(), &extensions)?,
        );
        extensions.push(ski.to_extension(tbs.subject(), &extensions)?);
        let usage = if self.ca {
            extensions.push(
                BasicConstraints {
                    ca: true,
                    path_len_constraint: if self.issuer.is_some() { Some(0) } else { None },
                }
                .to_extension(tbs.subject(), &extensions)?,
            );
            KeyUsages::KeyCertSign | KeyUsages::CRLSign
        } else {
            KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
        };
        extensions.push(KeyUsage(usage).to_extension(tbs.subject(), &extensions)?);
        Ok(extensions)
    }
}

fn name(common_name: &str) -> Result<Name> {
    // RFC 4514 escapes for the few characters names could carry.
    let escaped = common_name.replace('\\', "\\\\").replace(',', "\\,");
    Ok(Name::from_str(&format!(
        "CN={escaped},OU=qujat test PKI,O={ORGANIZATION},C=KZ"
    ))?)
}

/// A certification authority of the test PKI.
pub struct Ca {
    pub key: Key,
    pub cert: Certificate,
}

impl Ca {
    fn root(label: &str, common_name: &str, key: Key) -> Result<Ca> {
        let profile = Profile {
            subject: name(common_name)?,
            issuer: None,
            ca: true,
        };
        let builder = CertificateBuilder::new(
            profile,
            serial(label)?,
            validity("2020-01-01T00:00:00Z", "2045-12-31T23:59:59Z")?,
            key.public()?,
        )?;
        let cert = key.issue(builder)?;
        Ok(Ca { key, cert })
    }

    fn issue(
        &self,
        label: &str,
        common_name: &str,
        key: &Key,
        ca: bool,
        (from, to): (&str, &str),
    ) -> Result<Certificate> {
        let profile = Profile {
            subject: name(common_name)?,
            issuer: Some(self.cert.tbs_certificate().subject().clone()),
            ca,
        };
        let builder =
            CertificateBuilder::new(profile, serial(label)?, validity(from, to)?, key.public()?)?;
        self.key.issue(builder)
    }
}

/// A signing key of the test PKI and its chain (the key's certificate first).
pub struct Official {
    pub name: String,
    pub file: String,
    pub key: Key,
    pub chain: Vec<Certificate>,
}

/// Everything the generator makes.
pub struct Pki {
    pub root: Ca,
    pub issuing: Ca,
    pub rogue: Ca,
    pub officials: Vec<Official>,
    /// Deliberately bad keys: expired, revoked, weak, rogue.
    pub special: Vec<Official>,
    pub crl: Vec<u8>,
}

/// The validity of the sample officials' certificates: from 2026, before the sample cases'
/// decisions (November 2026), to 2045 — longer than a real certificate's, because poppler's
/// `pdfsig` checks certificates at the current time and the tests must not expire.
const OFFICIAL_VALIDITY: (&str, &str) = ("2026-01-01T00:00:00Z", "2045-12-31T23:59:59Z");

/// When the revoked test official's certificate was revoked.
pub const REVOKED_ON: &str = "2026-11-10T00:00:00Z";

pub fn generate() -> Result<Pki> {
    let root = Ca::root(
        "root",
        "QUJAT TEST ROOT CA - TEST ONLY",
        Key::rsa("root", 2048)?,
    )?;
    let issuing_key = Key::p256("issuing")?;
    let issuing_cert = root.issue(
        "issuing",
        "QUJAT TEST ISSUING CA - TEST ONLY",
        &issuing_key,
        true,
        ("2021-01-01T00:00:00Z", "2040-12-31T23:59:59Z"),
    )?;
    let issuing = Ca {
        key: issuing_key,
        cert: issuing_cert,
    };
    let mut officials = Vec::new();
    for (i, official) in SAMPLE_OFFICIALS.iter().enumerate() {
        let label = format!("official/{official}");
        // Half the officials sign with RSA, half with P-256, so both run on every sample batch.
        let key = if i % 2 == 0 {
            Key::rsa(&label, 2048)?
        } else {
            Key::p256(&label)?
        };
        let cert = issuing.issue(&label, official, &key, false, OFFICIAL_VALIDITY)?;
        officials.push(Official {
            name: official.to_string(),
            file: format!("officials/{}.p12", slug(official)),
            key,
            chain: vec![cert, issuing.cert.clone(), root.cert.clone()],
        });
    }

    let mut special = Vec::new();
    let mut add =
        |name: &str, file: &str, key: Key, ca: &Ca, validity: (&str, &str)| -> Result<()> {
            let cert = ca.issue(&format!("special/{file}"), name, &key, false, validity)?;
            let mut chain = vec![cert, ca.cert.clone()];
            if ca.cert != root.cert
                && ca.cert.tbs_certificate().issuer() == root.cert.tbs_certificate().subject()
            {
                chain.push(root.cert.clone());
            }
            special.push(Official {
                name: name.to_string(),
                file: format!("special/{file}.p12"),
                key,
                chain,
            });
            Ok(())
        };
    add(
        "Expired Official (TEST)",
        "expired",
        Key::p256("special/expired")?,
        &issuing,
        ("2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z"),
    )?;
    add(
        "Revoked Official (TEST)",
        "revoked",
        Key::rsa("special/revoked", 2048)?,
        &issuing,
        OFFICIAL_VALIDITY,
    )?;
    add(
        "Weak Key Official (TEST)",
        "weak-rsa1024",
        Key::rsa("special/weak", 1024)?,
        &issuing,
        OFFICIAL_VALIDITY,
    )?;
    let rogue = Ca::root(
        "rogue",
        "QUJAT TEST ROGUE CA - NOT TRUSTED",
        Key::p256("rogue")?,
    )?;
    // Same name as a sample official, but issued by a CA nobody trusts.
    add(
        SAMPLE_OFFICIALS[0],
        "rogue",
        Key::p256("special/rogue")?,
        &rogue,
        OFFICIAL_VALIDITY,
    )?;

    let revoked = &special[1].chain[0];
    let crl = CrlBuilder::new_with_this_update(
        &issuing.cert,
        CrlNumber::from(der::asn1::Uint::new(&[1])?),
        time("2026-11-20T00:00:00Z")?,
    )?
    .with_next_update(Some(time("2026-12-20T00:00:00Z")?))
    .with_certificates(std::iter::once(RevokedCert {
        serial_number: revoked.tbs_certificate().serial_number().clone(),
        revocation_date: time(REVOKED_ON)?,
        crl_entry_extensions: None,
    }));
    let crl = match &issuing.key {
        Key::P256(k) => crl.build::<_, p256::ecdsa::DerSignature>(k)?,
        Key::Rsa(k) => crl.build::<_, rsa::pkcs1v15::Signature>(k)?,
    };

    Ok(Pki {
        root,
        issuing,
        rogue,
        officials,
        special,
        crl: crl.to_der()?,
    })
}

/// A file name from a Kazakh or Russian name: surname and first name, transliterated.
pub fn slug(name: &str) -> String {
    let latin: String = name
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'а' | 'ә' => "a",
            'б' => "b",
            'в' => "v",
            'г' | 'ғ' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' | 'і' => "i",
            'к' => "k",
            'қ' => "q",
            'л' => "l",
            'м' => "m",
            'н' | 'ң' => "n",
            'о' | 'ө' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' | 'ұ' | 'ү' => "u",
            'ф' => "f",
            'х' => "kh",
            'һ' => "h",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            'ъ' | 'ь' => "",
            ' ' => " ",
            _ => "",
        })
        .collect();
    latin
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join("-")
}

/// The PKCS#12 keystore of `official`, encrypted with [`PASSWORD`].
pub fn keystore(official: &Official) -> Result<Vec<u8>> {
    let key = p12_keystore::PrivateKey::from_der(&official.key.pkcs8()?)?;
    let certs = official
        .chain
        .iter()
        .map(|c| Ok(p12_keystore::Certificate::from_der(&c.to_der()?)?))
        .collect::<Result<Vec<_>>>()?;
    let local_key_id = Sha256::digest(official.chain[0].to_der()?)[..20].to_vec();
    let chain = p12_keystore::PrivateKeyChain::new(local_key_id, key, certs);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        &slug(&official.name),
        p12_keystore::KeyStoreEntry::PrivateKeyChain(chain),
    );
    Ok(store.writer(PASSWORD).write()?)
}

/// The `[signing]` section mapping the sample officials to their test keystores, paths
/// relative to the repository (where `qujat.toml` is).
pub fn officials_toml(pki: &Pki) -> String {
    let mut out = String::from(
        "# TEST ONLY - DO NOT USE. The [signing] section for the sample officials' test keys,\n\
         # made by `cargo run --example signing_test_pki` (see signing/test/README.md).\n\n\
         [signing]\n\
         trust = [\"signing/test/ca/root.pem\"]\n\
         crl = \"signing/test/ca/issuing.crl.pem\"\n\
         password_file = \"signing/test/PASSWORD\"\n",
    );
    for official in &pki.officials {
        out.push_str(&format!(
            "\n[[signing.official]]\nname = \"{}\"\nkeystore = \"signing/test/{}\"\n",
            official.name, official.file
        ));
    }
    out
}

fn pem(label: &str, der: &[u8]) -> Result<String> {
    Ok(der::pem::encode_string(
        label,
        der::pem::LineEnding::LF,
        der,
    )?)
}

/// Every file of `signing/test/` but the keystores, as (path, bytes).
pub fn plain_files(pki: &Pki) -> Result<Vec<(String, Vec<u8>)>> {
    Ok(vec![
        ("PASSWORD".into(), format!("{PASSWORD}\n").into_bytes()),
        (
            "ca/root.pem".into(),
            pki.root.cert.to_pem(der::pem::LineEnding::LF)?.into_bytes(),
        ),
        (
            "ca/issuing.pem".into(),
            pki.issuing
                .cert
                .to_pem(der::pem::LineEnding::LF)?
                .into_bytes(),
        ),
        (
            "ca/rogue.pem".into(),
            pki.rogue
                .cert
                .to_pem(der::pem::LineEnding::LF)?
                .into_bytes(),
        ),
        (
            "ca/issuing.crl.pem".into(),
            pem("X509 CRL", &pki.crl)?.into_bytes(),
        ),
        ("officials.toml".into(), officials_toml(pki).into_bytes()),
    ])
}

/// Whether the keystore at `path` already holds `official`'s key and chain.
pub fn keystore_holds(path: &Path, official: &Official) -> Result<bool> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(false);
    };
    let password = qujat::sign::Password::new(PASSWORD);
    let contents = qujat::sign::keystore::read_pkcs12(&bytes, &password, None)?;
    Ok(*contents.key_pkcs8 == official.key.pkcs8()? && contents.certificates == official.chain)
}

fn main() -> Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("signing/test");
    let pki = generate()?;
    for (path, bytes) in plain_files(&pki)? {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a folder"))?;
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    for official in pki.officials.iter().chain(&pki.special) {
        let path = dir.join(&official.file);
        if keystore_holds(&path, official).unwrap_or(false) {
            continue;
        }
        std::fs::create_dir_all(path.parent().expect("a folder"))?;
        std::fs::write(&path, keystore(official)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!(
        "signing/test/ is up to date: {} officials",
        pki.officials.len()
    );
    Ok(())
}
