//! The world one document is compiled in: a template version's sources, the document's data and
//! QR code at fixed paths, the shipped fonts, and no clock, packages or file system.

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, World};

use super::{Engine, Template};

pub(super) struct DocumentWorld<'a> {
    pub engine: &'a Engine,
    pub template: &'a Template,
    /// The standard library of the document's profile.
    pub library: &'a LazyHash<Library>,
    pub data: Bytes,
    /// Where the QR code is in the document's profile, and its bytes.
    pub qr_id: FileId,
    pub qr: Bytes,
}

impl DocumentWorld<'_> {
    pub fn source_of(&self, id: FileId) -> Option<&Source> {
        self.template.sources.get(&id)
    }

    fn not_found(id: FileId) -> FileError {
        FileError::NotFound(id.vpath().get_without_slash().into())
    }
}

impl World for DocumentWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.engine.fonts.book
    }

    fn main(&self) -> FileId {
        self.template.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.source_of(id)
            .cloned()
            .ok_or_else(|| Self::not_found(id))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.engine.data_id {
            return Ok(self.data.clone());
        }
        if id == self.qr_id {
            return Ok(self.qr.clone());
        }
        match self.source_of(id) {
            Some(source) => Ok(Bytes::from_string(source.clone())),
            None => Err(Self::not_found(id)),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.engine.fonts.fonts.get(index).cloned()
    }

    /// Documents carry their dates in their data; the clock is never read.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
