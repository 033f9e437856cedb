//! Just enough of PDF to sign a finished file and check a signed one: its objects, its
//! cross-reference, and incremental updates. Nothing here renders or rewrites content.

pub mod syntax;
pub mod update;
pub mod xref;

pub use syntax::{Dict, Object, PdfString, Ref};
pub use xref::{Document, XrefKind};
