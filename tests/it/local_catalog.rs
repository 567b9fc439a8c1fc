//! The local catalog, over raw HTTP: validation and semantics operation by operation.
