//! Digital signatures on issued documents: PAdES baseline B-B signatures added to the PDFs
//! Typst renders, kept so a signed document regenerates byte for byte without its key, and
//! checked the way a court or a bank would check them. See `docs/signing.md`.
//!
//! - [`Signer`]: what signs — the [`SoftwareSigner`] of a PKCS#12 keystore here; a PKCS#11
//!   token or the national certification authority's signing service behind the same trait.
//! - [`sign_pdf`]: appends the signature to a rendered PDF as an incremental update, at the
//!   signing time given (the record's issue date, never the clock): same inputs, same bytes.
//! - [`KeptSignature`]: the appended update, to store beside the registry and re-apply.
//! - [`verify_pdf`]: a report of every check on every signature of a PDF.
//! - [`SigningConfig`]: the `[signing]` section of `qujat.toml`.

pub mod algorithms;
pub mod chain;
pub mod check;
pub mod cms;
pub mod config;
pub mod issue;
pub mod kept;
pub mod keystore;
pub mod pades;
pub mod pdf;
pub mod signer;
pub mod software;
pub mod time;
pub mod verify;

pub use chain::{Crl, TrustStore};
pub use config::{Signers, SigningConfig};
pub use issue::Issuing;
pub use kept::KeptSignature;
pub use keystore::{Password, PasswordSource};
pub use pades::{SignOptions, SignedPdf, sign_pdf};
pub use signer::{DigestAlgorithm, SignatureAlgorithm, Signer, ToSign};
pub use software::SoftwareSigner;
pub use time::SigningTime;
pub use verify::{Report, VerifyOptions, verify_pdf};
