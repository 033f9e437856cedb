//! Rendering: Typst embedded as a library turns a template version and a document's data into
//! PDF/A-2b bytes.
//!
//! The data reaches the template as data — the fixed virtual file `/case.json`, which templates
//! read with `json(sys.inputs.data)` — never as markup; the document's QR code is the fixed
//! virtual file `sys.inputs.qr` (`/qr.png`, or `/qr.svg` for documents of the first
//! [`Profile`]), its modules printed as wide as `sys.inputs.qr-module-mm` says where the
//! profile gives it.
//! Everything that could vary between two renderings is fixed: fonts come from the fonts folder
//! only, `today()` is unavailable, and the PDF's identifier, timestamp and creator come from the
//! registry record. The same inputs give the same bytes, in any process.

pub mod bundle;
mod fonts;
mod world;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use typst::diag::{Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Dict, IntoValue, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

pub use fonts::Fonts;
use world::DocumentWorld;

use crate::date::Date;
use crate::qr::{self, Payload};
use crate::shipped::Files;
pub use bundle::TemplateBundle;

/// The virtual path of the document's data.
pub const DATA_PATH: &str = "/case.json";

/// How a record is typeset besides its template: the engine, and the form of the QR code the
/// pipeline hands the template — its image, the payload's encoding and its printed size. A
/// record names its profile (its `engine` field), and a document is always typeset again with
/// the profile it was issued with, so changing the profile of new documents never changes an
/// old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// `typst 0.15.1`: the QR code as an SVG path of unit squares (`/qr.svg`, [`qr::svg`]).
    /// The first documents' profile; its QR code costs the engine about a fifth of a
    /// document's typesetting.
    TypstSvgQr,
    /// `typst 0.15.1, qr png`: the QR code as a 1-bit PNG, one pixel per module (`/qr.png`,
    /// [`qr::png`]): a few hundred bytes the PDF embeds as a tiny image.
    TypstPngQr,
    /// `typst 0.15.1, qr png segmented, 0.6 mm modules`: the payload with its hash in upper
    /// case ([`Payload::text_upper`]), coded in alphanumeric and byte segments
    /// ([`qr::png_segmented`]), each module printed [`QR_MODULE_MM`] wide: a code an office
    /// scanner or a fax at 200 dpi reads.
    TypstPngQrSegmented,
}

impl Profile {
    /// The profile of new documents.
    pub const CURRENT: Profile = Profile::TypstPngQrSegmented;
    /// Every profile this qujat can typeset with, oldest first.
    pub const ALL: [Profile; 3] = [
        Profile::TypstSvgQr,
        Profile::TypstPngQr,
        Profile::TypstPngQrSegmented,
    ];

    /// The name records carry in `engine`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::TypstSvgQr => "typst 0.15.1",
            Profile::TypstPngQr => "typst 0.15.1, qr png",
            Profile::TypstPngQrSegmented => "typst 0.15.1, qr png segmented, 0.6 mm modules",
        }
    }

    /// The profile a record's `engine` names, if this qujat has it.
    pub fn named(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The virtual path of the QR code image (its extension tells the engine its format).
    pub fn qr_path(self) -> &'static str {
        match self {
            Profile::TypstSvgQr => "/qr.svg",
            Profile::TypstPngQr | Profile::TypstPngQrSegmented => "/qr.png",
        }
    }

    /// How wide the template prints each module of the code, in millimetres
    /// (`sys.inputs.qr-module-mm`), where the profile says; templates of the earlier profiles
    /// print the whole code 15 mm wide on their own.
    pub fn qr_module_mm(self) -> Option<f64> {
        match self {
            Profile::TypstSvgQr | Profile::TypstPngQr => None,
            Profile::TypstPngQrSegmented => Some(QR_MODULE_MM),
        }
    }

    /// The QR payload of a document, in this profile's encoding.
    pub fn payload(self, payload: &Payload, prefix: &str) -> String {
        match self {
            Profile::TypstSvgQr | Profile::TypstPngQr => payload.text(prefix),
            Profile::TypstPngQrSegmented => payload.text_upper(prefix),
        }
    }

    /// The QR code image of `payload` in this profile's form.
    pub fn qr(self, payload: &str) -> Result<QrImage> {
        let bytes = match self {
            Profile::TypstSvgQr => qr::svg(payload)?.into_bytes(),
            Profile::TypstPngQr => qr::png(payload)?,
            Profile::TypstPngQrSegmented => qr::png_segmented(payload)?,
        };
        Ok(QrImage {
            profile: self,
            bytes,
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The printed width of a module of the QR code of [`Profile::TypstPngQrSegmented`], in
/// millimetres: 4.7 pixels at 200 dpi. Measured with zbar on the first page of every sample
/// document rendered by pdftoppm (docs/registry.md): all decode at 170 and 200 dpi, and with
/// `-mono` (a fax's 1-bit image); at 0.55 mm all decode at 200 dpi and none at 170; at 0.48 mm
/// (3.8 pixels) one in 108 at 200 dpi. The code is then 29.4 mm wide for a version 6 payload (a
/// media certificate) and 31.8 mm for version 7 (the longest numbers, with Cyrillic letters).
const QR_MODULE_MM: f64 = 0.6;

/// A document's QR code image, in the form of the profile it is typeset with.
#[derive(Debug, Clone)]
pub struct QrImage {
    pub profile: Profile,
    pub bytes: Vec<u8>,
}

/// What is shared by every rendering: the standard library and the fonts.
pub struct Engine {
    /// The standard library of each profile: they differ in `sys.inputs.qr` and
    /// `qr-module-mm`.
    libraries: [LazyHash<Library>; Profile::ALL.len()],
    pub fonts: Fonts,
    data_id: FileId,
    /// The QR code's file in each profile.
    qr_ids: [FileId; Profile::ALL.len()],
}

/// A template version ready to render: its sources parsed once.
pub struct Template {
    pub version: String,
    main: FileId,
    sources: HashMap<FileId, Source>,
}

/// The PDF metadata that comes from the record rather than the clock.
#[derive(Debug, Clone)]
pub struct PdfMeta {
    /// A stable identifier of the document (its registry place); the PDF's ID is derived from it.
    pub ident: String,
    /// The creation date written into the PDF.
    pub created: Date,
    pub creator: String,
}

impl PdfMeta {
    /// The creation timestamp as recorded: the date at midnight UTC.
    pub fn created_text(&self) -> String {
        format!("{}T00:00:00Z", self.created)
    }
}

/// Why a document could not be rendered: the template's diagnostics, located.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

fn file_id(path: &str) -> Result<FileId> {
    let vpath =
        VirtualPath::new(path).map_err(|e| anyhow::anyhow!("bad template path {path:?}: {e:?}"))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

impl Engine {
    pub fn new(fonts_dir: &Path) -> Result<Engine> {
        Engine::with_fonts(Fonts::load(fonts_dir)?)
    }

    /// An engine with fonts from a folder or the built-in copy.
    pub fn from_files(fonts: &Files) -> Result<Engine> {
        Engine::with_fonts(Fonts::load_from(fonts)?)
    }

    fn with_fonts(fonts: Fonts) -> Result<Engine> {
        let library = |profile: Profile| {
            let mut inputs = Dict::new();
            inputs.insert("data".into(), DATA_PATH.into_value());
            inputs.insert("qr".into(), profile.qr_path().into_value());
            if let Some(mm) = profile.qr_module_mm() {
                inputs.insert("qr-module-mm".into(), mm.into_value());
            }
            LazyHash::new(Library::builder().with_inputs(inputs).build())
        };
        let mut qr_ids = [file_id(DATA_PATH)?; Profile::ALL.len()];
        for (id, profile) in qr_ids.iter_mut().zip(Profile::ALL) {
            *id = file_id(profile.qr_path())?;
        }
        Ok(Engine {
            libraries: Profile::ALL.map(library),
            fonts,
            data_id: file_id(DATA_PATH)?,
            qr_ids,
        })
    }

    /// Prepares a template version for rendering.
    pub fn template(&self, bundle: &TemplateBundle) -> Result<Template> {
        let mut sources = HashMap::new();
        let mut main = None;
        for (path, text) in &bundle.files {
            let id = file_id(&format!("/{path}"))?;
            if *path == bundle.main {
                main = Some(id);
            }
            sources.insert(id, Source::new(id, text.clone()));
        }
        let main = main.ok_or_else(|| {
            anyhow::anyhow!("template bundle lacks its main file {}", bundle.main)
        })?;
        Ok(Template {
            version: bundle.version(),
            main,
            sources,
        })
    }

    /// Lays out one document: `data` is the JSON the template reads, `qr` its QR code.
    pub fn compile(
        &self,
        template: &Template,
        data: &[u8],
        qr: &QrImage,
    ) -> Result<PagedDocument, RenderError> {
        compile_in(&self.world(template, data, qr))
    }

    fn world<'a>(&'a self, template: &'a Template, data: &[u8], qr: &QrImage) -> DocumentWorld<'a> {
        let profile = qr.profile.index();
        DocumentWorld {
            engine: self,
            template,
            library: &self.libraries[profile],
            data: Bytes::new(data.to_vec()),
            qr_id: self.qr_ids[profile],
            qr: Bytes::new(qr.bytes.clone()),
        }
    }

    /// Renders one document: `data` is the JSON the template reads, `qr` its QR code, in the
    /// form of the profile the document is typeset with.
    pub fn render(
        &self,
        template: &Template,
        data: &[u8],
        qr: &QrImage,
        meta: &PdfMeta,
    ) -> Result<Vec<u8>, RenderError> {
        let world = self.world(template, data, qr);
        let document = compile_in(&world)?;
        let created = Datetime::from_ymd_hms(
            meta.created.year(),
            meta.created.month(),
            meta.created.day(),
            0,
            0,
            0,
        )
        .ok_or_else(|| RenderError(format!("{} cannot be a PDF timestamp", meta.created)))?;
        let options = PdfOptions {
            ident: Smart::Custom(meta.ident.clone()),
            creator: Smart::Custom(Some(meta.creator.clone())),
            timestamp: Some(Timestamp::new_utc(created)),
            standards: PdfStandards::new(&[PdfStandard::A_2b])
                .map_err(|e| RenderError(format!("PDF/A-2b: {}", e.message())))?,
            ..PdfOptions::default()
        };
        typst_pdf::pdf(&document, &options).map_err(|diags| RenderError(describe(&world, &diags)))
    }

    /// Whether the fonts can print `c`.
    pub fn covers(&self, c: char) -> bool {
        self.fonts.covers(c)
    }
}

fn compile_in(world: &DocumentWorld<'_>) -> Result<PagedDocument, RenderError> {
    typst::compile::<PagedDocument>(world)
        .output
        .map_err(|diags| RenderError(describe(world, &diags)))
}

/// Writes diagnostics as `file:line: message` lines.
fn describe(world: &DocumentWorld<'_>, diags: &[SourceDiagnostic]) -> String {
    let mut out = String::new();
    for diag in diags.iter().filter(|d| d.severity == Severity::Error) {
        if !out.is_empty() {
            out.push_str("; ");
        }
        match diag.span.id() {
            Some(id) => {
                let path = id.vpath().get_without_slash().to_string();
                let line = world
                    .range(diag.span)
                    .and_then(|r| {
                        world
                            .source_of(id)
                            .and_then(|s| s.lines().byte_to_line(r.start))
                    })
                    .map(|l| format!(":{}", l + 1))
                    .unwrap_or_default();
                let _ = write!(out, "{path}{line}: {}", diag.message);
            }
            None => out.push_str(&diag.message),
        }
        for hint in &diag.hints {
            let _ = write!(out, " (hint: {})", hint.v);
        }
    }
    out
}
