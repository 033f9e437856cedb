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
mod pg;
mod postgresql;
mod proofs;
mod registry;
mod rendering;
mod serve;
mod serve_browser;
mod serve_hostile;
mod services;
mod signed_batch;
mod signing;
mod snapshot;
mod stress;
mod tamper;
mod util;
