//! One integration-test binary, modules by topic, so the crate links once.

mod local_catalog;
mod manifest;
