//! The commands of the other users of a registry, each in its own file: the officer who needs a
//! document again ([`regenerate`]) or changes its status ([`set_status`]), the clerk who needs an
//! extract ([`export`]), anyone who holds a document ([`verify`]), and the auditor ([`check`],
//! [`proof`]), and the operations team moving registries between stores ([`migrate`]). Only
//! `set-status` and `migrate` write, under the writer's lock; the others never lock and read
//! a consistent prefix of each registry, so they can run during a batch. The command line
//! (`crate::cli`) turns flags into their arguments and prints their outcomes.

pub mod check;
pub mod export;
pub mod migrate;
pub mod proof;
pub mod regenerate;
pub mod set_status;
pub mod verify;
