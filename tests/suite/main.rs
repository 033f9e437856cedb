//! qujat's integration tests: the real binary run on temporary projects.

mod batch;
mod concurrency;
mod crash;
mod hostile;
mod install;
mod officer;
mod proofs;
mod registry;
mod rendering;
mod services;
mod stress;
mod util;
