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
mod serve;
mod serve_browser;
mod serve_hostile;
mod services;
mod signing;
mod stress;
mod tamper;
mod util;
