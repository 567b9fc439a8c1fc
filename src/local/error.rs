//! The local catalog's own error type, for the functions a library user calls (seeds and
//! starting the server): a caller matches on what went wrong instead of on `anyhow` text. Inside
//! the module, checks keep building their messages with context as they go; the message chain is
//! folded into the variant at the public boundary.

use std::path::PathBuf;

/// Why a local catalog could not be seeded or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// A seed that does not parse, or names things inconsistently (a dangling reference, a
    /// duplicate id, an unknown key). The message says where.
    #[error("{0}")]
    InvalidSeed(String),
    /// A seed file that cannot be read.
    #[error("cannot read catalog seed `{}`", path.display())]
    ReadSeed {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The server could not start: the address is taken, or the embedded model is broken.
    #[error("{0}")]
    Start(String),
}

impl LocalError {
    pub(crate) fn seed(error: anyhow::Error) -> Self {
        LocalError::InvalidSeed(format!("{error:#}"))
    }

    pub(crate) fn start(error: anyhow::Error) -> Self {
        LocalError::Start(format!("{error:#}"))
    }
}
