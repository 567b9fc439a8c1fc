//! One integration-test binary, modules by topic, so the crate links once.

mod adapter;
mod cli;
mod local_catalog;
mod manifest;
mod reconcile;
mod support;
