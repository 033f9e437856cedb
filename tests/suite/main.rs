//! qujat's integration tests: the real binary run on temporary projects.

mod batch;
mod officer;
mod registry;
mod rendering;
mod services;
mod stress;
mod util;
