//! One integration-test binary, modules by topic, so the crate links once.

mod action;
mod adapter;
mod cli;
mod completions;
mod examples;
mod export;
mod faults;
mod fuzz;
mod help;
mod hostile;
mod language;
mod local_catalog;
mod man;
mod manifest;
mod names;
mod pacing;
mod prompt;
mod prune;
mod readable;
mod reconcile;
mod saved;
mod sdk_protocol;
mod shipping;
mod support;
mod targets;
mod unattended;
