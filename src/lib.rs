//! qujat: turns approved and refused applications for Kazakhstan's state services in the
//! information and informatization sphere into bilingual official documents, numbered and entered
//! into hash-chained registries. See `README.md` and `../shared/DESIGN.md`.
//!
//! The stages, one type each: [`case::RawCase`] → [`validate::ValidCase`] → [`plan::Planned`] →
//! rendered PDF bytes → [`registry::Record`]; [`batch::run`] drives them.

pub mod batch;
pub mod case;
pub mod catalogue;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod date;
pub mod digest;
pub mod exit;
pub mod fsio;
pub mod iin;
pub mod log;
pub mod memory;
pub mod numbering;
pub mod plan;
pub mod problem;
pub mod qr;
pub mod registry;
pub mod render;
pub mod serve;
pub mod shipped;
pub mod sign;
pub mod spool;
pub mod store;
pub mod synth;
pub mod validate;

/// Every binary built on qujat (the command line, the benchmarks) allocates with mimalloc: the
/// typesetting engine allocates and frees millions of small objects per second from several
/// threads at once, which the system allocator serves slower. Not under the fuzzers, whose
/// sanitizers watch the system allocator.
#[cfg(not(fuzzing))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
