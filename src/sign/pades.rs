//! A PAdES baseline B-B signature (ETSI EN 319 142-1) added to a finished PDF as an
//! incremental update — Typst's PDF writer cannot reserve room for a signature, so the
//! signature field, its widget and the signature dictionary are appended after `%%EOF`.
//!
//! The update holds: the signature dictionary (`/SubFilter /ETSI.CAdES.detached`, `/M` the
//! claimed signing time, `/ByteRange` over the whole file but the `/Contents` hex string);
//! an invisible signature field merged with its widget on the last page (flags Print and
//! Locked, an empty appearance stream, as PDF/A-2 wants of every annotation); the catalog with
//! an `/AcroForm` naming the field (`/SigFlags 3`: signed, append only); the last page with the
//! widget in its `/Annots`; and a cross-reference section of the original's kind. Every byte
//! is a function of the original PDF, the signer's certificates and key, and the time given:
//! the same inputs sign to the same file.

use anyhow::{Context, Result, bail};

use super::cms;
use super::pdf::update::{Update, find};
use super::pdf::{Dict, Document, Object, Ref};
use super::signer::Signer;
use super::time::SigningTime;

/// What the signature dictionary says besides the signature.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// The claimed signing time (`/M`): from the record, never the clock.
    pub time: SigningTime,
    /// The signer's name as a reader shows it (`/Name`); verifiers take the signer from the
    /// certificate, this is a courtesy.
    pub name: Option<String>,
    /// Why the document is signed (`/Reason`).
    pub reason: Option<String>,
    /// Where it is signed (`/Location`).
    pub location: Option<String>,
}

impl SignOptions {
    pub fn at(time: SigningTime) -> SignOptions {
        SignOptions {
            time,
            name: None,
            reason: None,
            location: None,
        }
    }
}

/// A signed PDF and where its unsigned original ends in it.
#[derive(Debug, Clone)]
pub struct SignedPdf {
    pub bytes: Vec<u8>,
    pub unsigned_len: usize,
}

/// The width of the `/ByteRange` array as first written: four numbers of up to ten digits
/// each fit, and it is filled in place once offsets are known, padded with spaces.
const BYTE_RANGE_WIDTH: usize = 48;

/// Signs `pdf` with `signer`.
pub fn sign_pdf(pdf: &[u8], signer: &dyn Signer, options: &SignOptions) -> Result<SignedPdf> {
    let cert = signer
        .certificates()
        .first()
        .context("the signer has no certificate")?;
    super::chain::check_valid_at(cert, options.time)
        .context("the signer's certificate cannot sign at the signing time")?;
    let doc = Document::parse(pdf).context("cannot read the PDF to sign")?;
    if doc.trailer.get("Encrypt").is_some() {
        // The update's strings would have to be encrypted too; qujat's PDFs never are.
        bail!("the PDF is encrypted, and signing encrypted PDFs is not supported");
    }
    let catalog_ref = doc.root()?;
    let mut catalog = doc
        .object(catalog_ref)?
        .as_dict()
        .cloned()
        .context("the document catalog is not a dictionary")?;
    let page_ref = *doc.pages()?.last().context("the PDF has no page")?;
    let mut page = doc
        .object(page_ref)?
        .as_dict()
        .cloned()
        .context("the last page is not a dictionary")?;

    let first_new = doc.size()?;
    let new_ref = |i: u32| Ref {
        num: first_new + i,
        generation: 0,
    };
    let (sig_ref, field_ref, appearance_ref) = (new_ref(0), new_ref(1), new_ref(2));
    let next_free = first_new + 3;

    let mut update = Update::default();

    // The catalog's form: a new one, or the existing one with the field added.
    let field_name;
    match catalog.get("AcroForm").cloned() {
        None => {
            field_name = "Signature1".to_string();
            let mut form = Dict::default();
            form.set("Fields", Object::Array(vec![Object::Ref(field_ref)]));
            form.set("SigFlags", Object::Int(3));
            catalog.set("AcroForm", Object::Dict(form));
        }
        Some(Object::Dict(mut form)) => {
            field_name = free_field_name(&doc, &form)?;
            add_to_array(&doc, &mut form, "Fields", field_ref, &mut update)?;
            form.set("SigFlags", Object::Int(3));
            catalog.set("AcroForm", Object::Dict(form));
        }
        Some(Object::Ref(form_ref)) => {
            let mut form = doc
                .object(form_ref)?
                .as_dict()
                .cloned()
                .context("/AcroForm is not a dictionary")?;
            field_name = free_field_name(&doc, &form)?;
            add_to_array(&doc, &mut form, "Fields", field_ref, &mut update)?;
            form.set("SigFlags", Object::Int(3));
            update.add_object(form_ref, &Object::Dict(form));
        }
        Some(_) => bail!("/AcroForm is neither a dictionary nor a reference"),
    }
    update.add_object(catalog_ref, &Object::Dict(catalog));

    add_to_array(&doc, &mut page, "Annots", field_ref, &mut update)?;
    update.add_object(page_ref, &Object::Dict(page));

    // The signature dictionary, written by hand: its two placeholders are filled in place.
    let reserved = cms::max_len(signer)?;
    let mut sig = Dict::default();
    sig.set("Type", Object::name("Sig"));
    sig.set("Filter", Object::name("Adobe.PPKLite"));
    sig.set("SubFilter", Object::name("ETSI.CAdES.detached"));
    sig.set("M", Object::string(options.time.pdf_date()));
    for (key, value) in [
        ("Name", &options.name),
        ("Reason", &options.reason),
        ("Location", &options.location),
    ] {
        if let Some(value) = value {
            sig.set(key, Object::text(value));
        }
    }
    let mut body = Vec::new();
    super::pdf::syntax::write_dict(&mut body, &sig);
    body.truncate(body.len() - 2); // reopen the dictionary
    body.extend_from_slice(b" /ByteRange ");
    body.extend_from_slice(format!("{:<BYTE_RANGE_WIDTH$}", "[0 0 0 0]").as_bytes());
    body.extend_from_slice(b" /Contents <");
    body.resize(body.len() + 2 * reserved, b'0');
    body.extend_from_slice(b">>>");
    update.add(sig_ref, body);

    let mut widget = Dict::default();
    widget.set("Type", Object::name("Annot"));
    widget.set("Subtype", Object::name("Widget"));
    widget.set("FT", Object::name("Sig"));
    widget.set("T", Object::text(&field_name));
    widget.set("V", Object::Ref(sig_ref));
    // Print (4) + Locked (128): PDF/A-2 §6.3.2 wants Print set, Hidden and NoView clear.
    widget.set("F", Object::Int(132));
    widget.set("Rect", zero_rect());
    widget.set("P", Object::Ref(page_ref));
    let mut appearance = Dict::default();
    appearance.set("N", Object::Ref(appearance_ref));
    widget.set("AP", Object::Dict(appearance));
    update.add_object(field_ref, &Object::Dict(widget));

    // PDF/A-2 §6.3.3: every widget has a normal appearance, even an invisible one.
    let mut form = Dict::default();
    form.set("Type", Object::name("XObject"));
    form.set("Subtype", Object::name("Form"));
    form.set("BBox", zero_rect());
    form.set("Length", Object::Int(0));
    let mut body = Vec::new();
    super::pdf::syntax::write_dict(&mut body, &form);
    body.extend_from_slice(b"\nstream\n\nendstream");
    update.add(appearance_ref, body);

    let written = update.write(&doc, next_free)?;
    let sig_at = written
        .offsets
        .iter()
        .find(|(r, _)| *r == sig_ref)
        .map(|(_, at)| at - pdf.len())
        .context("the signature dictionary is missing from the update")?;
    let mut out = Vec::with_capacity(pdf.len() + written.bytes.len());
    out.extend_from_slice(pdf);
    out.extend_from_slice(&written.bytes);

    let in_sig = &written.bytes[sig_at..];
    let range_at = pdf.len() + sig_at + find(in_sig, b"/ByteRange ")? + b"/ByteRange ".len();
    let contents_at = pdf.len() + sig_at + find(in_sig, b"/Contents <")? + b"/Contents ".len();
    let gap_end = contents_at + 2 * reserved + 2;
    let byte_range = format!("[0 {contents_at} {gap_end} {}]", out.len() - gap_end);
    if byte_range.len() > BYTE_RANGE_WIDTH {
        bail!("the PDF is too large to sign ({} bytes)", out.len());
    }
    out[range_at..range_at + byte_range.len()].copy_from_slice(byte_range.as_bytes());

    let digest = signer
        .algorithm()
        .digest
        .digest(&[&out[..contents_at], &out[gap_end..]]);
    let signature = cms::sign(signer, &digest)?;
    if signature.len() > reserved {
        bail!(
            "the signature takes {} bytes, more than the {reserved} reserved",
            signature.len()
        );
    }
    let hex = hex::encode_upper(&signature);
    out[contents_at + 1..contents_at + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(SignedPdf {
        bytes: out,
        unsigned_len: pdf.len(),
    })
}

fn zero_rect() -> Object {
    Object::Array(vec![Object::Int(0); 4])
}

/// A field name no top-level field of `form` has yet: `Signature1`, `Signature2`, …
fn free_field_name(doc: &Document<'_>, form: &Dict) -> Result<String> {
    let mut taken = Vec::new();
    if let Some(fields) = form.get("Fields") {
        for field in doc.resolve(fields)?.as_array().unwrap_or_default() {
            if let Some(Object::String(name)) =
                doc.resolve(field)?.as_dict().and_then(|f| f.get("T"))
            {
                taken.push(name.bytes.clone());
            }
        }
    }
    Ok((1..)
        .map(|i| format!("Signature{i}"))
        .find(|name| !taken.contains(&name.as_bytes().to_vec()))
        .expect("an unbounded range has a free name"))
}

/// Appends `item` to the array `dict[key]`: direct, or an indirect array rewritten in the
/// update, or a new one.
fn add_to_array(
    doc: &Document<'_>,
    dict: &mut Dict,
    key: &str,
    item: Ref,
    update: &mut Update,
) -> Result<()> {
    match dict.get(key).cloned() {
        None | Some(Object::Null) => dict.set(key, Object::Array(vec![Object::Ref(item)])),
        Some(Object::Array(mut items)) => {
            items.push(Object::Ref(item));
            dict.set(key, Object::Array(items));
        }
        Some(Object::Ref(array_ref)) => match doc.object(array_ref)? {
            Object::Array(mut items) => {
                items.push(Object::Ref(item));
                update.add_object(array_ref, &Object::Array(items));
            }
            Object::Null => dict.set(key, Object::Array(vec![Object::Ref(item)])),
            _ => bail!("/{key} refers to something that is not an array"),
        },
        Some(_) => bail!("/{key} is not an array"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::verify::{CheckKind, Outcome, VerifyOptions, verify_pdf};
    use crate::sign::{PasswordSource, SoftwareSigner, TrustStore};

    fn test_pki() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("signing/test")
    }

    fn signer() -> SoftwareSigner {
        let pki = test_pki();
        SoftwareSigner::open(
            &pki.join("officials/akhmetova-asel.p12"),
            &PasswordSource::File(pki.join("PASSWORD")),
            None,
        )
        .unwrap()
    }

    /// A one-page PDF whose form, field list and page annotations are indirect objects and
    /// which already has a (text) field named `Signature1`.
    fn pdf_with_a_form() -> Vec<u8> {
        let objects = [
            "<</Type/Catalog/Pages 2 0 R/AcroForm 4 0 R>>",
            "<</Type/Pages/Count 1/Kids[3 0 R]>>",
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]/Annots 6 0 R>>",
            "<</Fields 5 0 R/DA(/Helv 0 Tf 0 g)>>",
            "[7 0 R]",
            "[7 0 R]",
            "<</Type/Annot/Subtype/Widget/FT/Tx/T(Signature1)/Rect[0 0 10 10]/P 3 0 R/F 4>>",
        ];
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offsets = vec![];
        for (i, body) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for o in offsets {
            pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<</Size 8/Root 1 0 R/ID[<01><02>]>>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        pdf
    }

    fn verify(pdf: &[u8]) -> crate::sign::Report {
        let trust = TrustStore::load(&[test_pki().join("ca/root.pem")]).unwrap();
        verify_pdf(
            pdf,
            &VerifyOptions {
                trust: &trust,
                crl: None,
                at: time(),
            },
        )
    }

    fn time() -> SigningTime {
        SigningTime::issue_date("2026-11-24".parse().unwrap(), 300).unwrap()
    }

    #[test]
    fn an_existing_form_and_indirect_arrays_get_the_field_added() {
        let pdf = pdf_with_a_form();
        let signed = sign_pdf(&pdf, &signer(), &SignOptions::at(time())).unwrap();
        let doc = Document::parse(&signed.bytes).unwrap();
        // The indirect arrays were rewritten, keeping what they held.
        let fields = doc
            .object(Ref {
                num: 5,
                generation: 0,
            })
            .unwrap();
        assert_eq!(fields.as_array().unwrap().len(), 2);
        let annots = doc
            .object(Ref {
                num: 6,
                generation: 0,
            })
            .unwrap();
        assert_eq!(annots.as_array().unwrap().len(), 2);
        let form = doc
            .object(Ref {
                num: 4,
                generation: 0,
            })
            .unwrap();
        assert_eq!(
            form.as_dict().unwrap().get("SigFlags"),
            Some(&Object::Int(3))
        );
        assert!(form.as_dict().unwrap().get("DA").is_some());
        let report = verify(&signed.bytes);
        assert!(report.is_valid(), "{}", report.summary());
        assert_eq!(report.signatures[0].field, "Signature2");
    }

    #[test]
    fn a_second_signature_leaves_the_first_one_covering_less_than_the_file() {
        let pdf = pdf_with_a_form();
        let once = sign_pdf(&pdf, &signer(), &SignOptions::at(time())).unwrap();
        let twice = sign_pdf(&once.bytes, &signer(), &SignOptions::at(time())).unwrap();
        let report = verify(&twice.bytes);
        assert_eq!(report.signatures.len(), 2);
        let first = &report.signatures[0];
        let coverage = first
            .checks
            .iter()
            .find(|c| c.kind == CheckKind::Coverage)
            .unwrap();
        assert_eq!(coverage.outcome, Outcome::Failed);
        assert!(coverage.detail.contains("follow the signed part"));
        assert!(report.signatures[1].is_valid(), "{}", report.summary());
        assert_eq!(report.signatures[1].field, "Signature3");
    }

    #[test]
    fn text_is_not_a_pdf_to_sign() {
        let err = sign_pdf(b"hello", &signer(), &SignOptions::at(time())).unwrap_err();
        assert!(format!("{err:#}").contains("not a PDF"), "{err:#}");
    }
}
