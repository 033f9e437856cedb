//! Exit codes, as documented in the README: every command maps its outcome to one of these.

/// Everything asked for was done.
pub const OK: i32 = 0;
/// Done, but some input was rejected (see the report), or the answer is no.
pub const REJECTED: i32 = 1;
/// Nothing trustworthy was done: configuration, registry or I/O failure.
pub const FATAL: i32 = 2;
/// `verify`: every document is genuine, but some is not in force (suspended, revoked,
/// superseded).
pub const NOT_IN_FORCE: i32 = 3;
