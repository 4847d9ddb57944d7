//! The hubbub binary's library half: configuration, start-up wiring and the CLI
//! commands, so integration tests drive exactly what `main` runs.
//!
//! May depend on every hubbub crate; nothing depends on it.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod operators;
pub mod progress;
pub mod startup;
pub mod telemetry;
pub mod transfer;
