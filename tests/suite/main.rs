//! qujat's integration tests: the real binary run on temporary projects.

mod batch;
mod concurrency;
mod crash;
mod hostile;
mod officer;
mod pg;
mod postgresql;
mod proofs;
mod registry;
mod rendering;
mod services;
mod stress;
mod util;
