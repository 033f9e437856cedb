//! The CMS `SignedData` a PAdES signature carries (RFC 5652, ETSI EN 319 122-1 B-B as
//! EN 319 142-1 profiles it for PDF): detached (the PDF is the content), the certificate chain
//! embedded, and three signed attributes — content type, message digest and the ESS
//! signing-certificate-v2 that binds the signer's certificate to the signature. No
//! signing-time attribute: PAdES puts the claimed time in the signature dictionary's `/M`
//! instead (EN 319 142-1 §5.4), and forbids the attribute in baseline signatures.

use anyhow::{Context, Result, bail};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use super::signer::{DigestAlgorithm, Signer, ToSign};

/// `SigningCertificateV2` (RFC 5035 §3): the certificates the signature is bound to.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
    // `policies` is never written and ignored when read.
}

/// `ESSCertIDv2`. The hash algorithm is absent for SHA-256, its DEFAULT, as DER requires.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial`: the issuer as `GeneralNames` and the serial number.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

impl EssCertIdV2 {
    /// The digest algorithm of `cert_hash`.
    pub fn digest_algorithm(&self) -> Option<DigestAlgorithm> {
        match &self.hash_algorithm {
            None => Some(DigestAlgorithm::Sha256),
            Some(alg) => DigestAlgorithm::from_oid(&alg.oid),
        }
    }
}

fn attribute<T: der::Tagged + der::EncodeValue>(
    oid: der::oid::ObjectIdentifier,
    value: T,
) -> Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(Any::encode_from(&value)?)?;
    Ok(Attribute { oid, values })
}

/// The signed attributes of a signature by `cert` over a content whose digest is
/// `message_digest`.
pub fn signed_attributes(
    cert: &Certificate,
    digest: DigestAlgorithm,
    message_digest: &[u8],
) -> Result<SetOfVec<Attribute>> {
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: match digest {
                DigestAlgorithm::Sha256 => None,
                other => Some(other.identifier()),
            },
            cert_hash: OctetString::new(digest.digest(&[&cert.to_der()?]))?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    cert.tbs_certificate().issuer().clone(),
                )],
                serial_number: cert.tbs_certificate().serial_number().clone(),
            }),
        }],
    };
    let mut attrs = SetOfVec::new();
    attrs.insert(attribute(rfc5911::ID_CONTENT_TYPE, rfc5911::ID_DATA)?)?;
    attrs.insert(attribute(
        rfc5911::ID_MESSAGE_DIGEST,
        OctetString::new(message_digest)?,
    )?)?;
    attrs.insert(attribute(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2, ess)?)?;
    Ok(attrs)
}

/// The DER `ContentInfo` of a detached `SignedData` by `signer` over a content whose digest
/// is `message_digest`.
pub fn sign(signer: &dyn Signer, message_digest: &[u8]) -> Result<Vec<u8>> {
    let certs = signer.certificates();
    let cert = certs.first().context("the signer has no certificate")?;
    let algorithm = signer.algorithm();
    let attrs = signed_attributes(cert, algorithm.digest, message_digest)?;
    // RFC 5652 §5.4: the signature covers the DER of the attributes with the SET OF tag.
    let attrs_der = attrs.to_der()?;
    let digest = algorithm.digest.digest(&[&attrs_der]);
    let signature = signer.sign(&ToSign {
        signed_attributes: &attrs_der,
        digest: &digest,
        digest_algorithm: algorithm.digest,
    })?;
    if signature.len() > signer.max_signature_len() {
        bail!(
            "the signer returned a {}-byte signature, more than the {} it announced",
            signature.len(),
            signer.max_signature_len()
        );
    }
    assemble(
        certs,
        algorithm.digest,
        algorithm.identifier,
        attrs,
        signature,
    )
}

/// The length of the longest `ContentInfo` [`sign`] can return for `signer`: the room to
/// reserve before the signature exists. Only the signature's length varies (an ECDSA
/// signature by a few bytes), so this is [`sign`]'s output with a zero digest and a signature
/// of the announced maximum length.
pub fn max_len(signer: &dyn Signer) -> Result<usize> {
    let certs = signer.certificates();
    let cert = certs.first().context("the signer has no certificate")?;
    let algorithm = signer.algorithm();
    let digest_len = algorithm.digest.digest(&[]).len();
    let attrs = signed_attributes(cert, algorithm.digest, &vec![0; digest_len])?;
    let bytes = assemble(
        certs,
        algorithm.digest,
        algorithm.identifier,
        attrs,
        vec![0xff; signer.max_signature_len()],
    )?;
    Ok(bytes.len())
}

fn assemble(
    certs: &[Certificate],
    digest: DigestAlgorithm,
    signature_algorithm: AlgorithmIdentifierOwned,
    attrs: SetOfVec<Attribute>,
    signature: Vec<u8>,
) -> Result<Vec<u8>> {
    let cert = &certs[0];
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate().issuer().clone(),
            serial_number: cert.tbs_certificate().serial_number().clone(),
        }),
        digest_alg: digest.identifier(),
        signed_attrs: Some(attrs),
        signature_algorithm,
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let mut cert_set = SetOfVec::new();
    for cert in certs {
        cert_set.insert(cms::cert::CertificateChoices::Certificate(cert.clone()))?;
    }
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms.insert(digest.identifier())?;
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer_info)?;
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: rfc5911::ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(cert_set)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    };
    let info = ContentInfo {
        content_type: rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    };
    Ok(info.to_der()?)
}

/// A decoded signature: the `SignedData` and the parts a verifier looks at.
pub struct Parsed {
    pub signed_data: SignedData,
    pub certificates: Vec<Certificate>,
}

impl Parsed {
    /// Decodes the DER of a `ContentInfo` holding a `SignedData`; what follows it is ignored.
    pub fn decode(bytes: &[u8]) -> Result<Parsed> {
        // The unused room of a PDF's `/Contents` follows the structure as zero bytes.
        let (info, _) =
            ContentInfo::from_der_partial(bytes).context("the signature is not a CMS structure")?;
        if info.content_type != rfc5911::ID_SIGNED_DATA {
            bail!(
                "the signature is a CMS {} rather than SignedData",
                info.content_type
            );
        }
        let signed_data: SignedData = info
            .content
            .decode_as()
            .context("the signature's SignedData cannot be read")?;
        let certificates = signed_data
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .filter_map(|choice| match choice {
                cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        Ok(Parsed {
            signed_data,
            certificates,
        })
    }
}

/// The value of the signed attribute `oid`, if there is exactly one.
pub fn attribute_value(
    attrs: &SetOfVec<Attribute>,
    oid: der::oid::ObjectIdentifier,
) -> Result<Option<Any>> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() || attr.values.len() != 1 {
        bail!("the signed attribute {oid} appears more than once");
    }
    Ok(attr.values.iter().next().cloned())
}
