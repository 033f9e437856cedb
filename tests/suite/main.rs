//! qujat's integration tests: the real binary run on temporary projects.

mod batch;
mod concurrency;
mod crash;
mod extracts;
mod golden;
mod hostile;
mod install;
mod machine;
mod officer;
mod operations;
mod proofs;
mod registry;
mod rendering;
mod services;
mod snapshot;
mod stress;
mod util;
