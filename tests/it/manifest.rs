//! Manifest parsing and validation, read as a spec.
