//! Where a manifest problem is and how it is told: source locations (`file:line:col`, 1-based,
//! columns counted in characters like editors do), diagnostics with a severity, and the error type
//! `load` fails with, which carries every problem found rather than the first.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A place in a manifest file. Lines and columns are 1-based; columns count characters.
///
/// The file's path is shared: a 100k-entry manifest keeps a location per triple, and this makes
/// that one path allocation per file rather than one per triple.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub file: Arc<Path>,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn new(file: impl AsRef<Path>, line: usize, column: usize) -> Self {
        Self {
            file: Arc::from(file.as_ref()),
            line,
            column,
        }
    }

    /// A place in `file`, sharing its path.
    pub fn in_file(file: &Arc<Path>, line: usize, column: usize) -> Self {
        Self {
            file: Arc::clone(file),
            line,
            column,
        }
    }

    /// `file:line:col` as [`Display`](fmt::Display) writes it, read back (a saved plan keeps
    /// locations as text).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.rsplitn(3, ':');
        let column = parts.next()?.parse().ok()?;
        let line = parts.next()?.parse().ok()?;
        Some(Self::new(parts.next()?, line, column))
    }

    /// The start of `file`, for problems that belong to the file as a whole.
    pub fn start_of(file: &Path) -> Self {
        Self::new(file, 1, 1)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem found in the manifest. Messages are lowercase, with literals in backticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// `None` only when there is no file position to point at (a path that cannot be read).
    pub location: Option<Location>,
    pub message: String,
    /// What the user can do about it (a name that is close, the right way to write it), told
    /// after the message in text and in a field of its own in JSON.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(location: Option<Location>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            location,
            message: message.into(),
            hint: None,
        }
    }

    pub fn warning(location: Option<Location>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            location,
            message: message.into(),
            hint: None,
        }
    }

    /// This diagnostic with `hint` (none when `None`).
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "{}: {}", self.severity, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// Why a manifest could not be loaded: every error found, plus the warnings seen on the way (a
/// duplicate is worth knowing about even when something else is wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestErrors {
    pub diagnostics: Vec<Diagnostic>,
}

impl ManifestErrors {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// The errors only, in report order.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.diagnostics {
            writeln!(f, "{diagnostic}")?;
        }
        let count = self.error_count();
        write!(f, "{count} error{}", if count == 1 { "" } else { "s" })
    }
}

impl std::error::Error for ManifestErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_print_like_compilers_do() {
        let at = Location::new("m/a.yaml", 3, 14);
        let errors = ManifestErrors {
            diagnostics: vec![
                Diagnostic::error(Some(at.clone()), "unknown key `artifactz`"),
                Diagnostic::warning(Some(at), "duplicate"),
                Diagnostic::error(None, "cannot read `x`"),
            ],
        };
        assert_eq!(
            errors.to_string(),
            "m/a.yaml:3:14: error: unknown key `artifactz`\n\
             m/a.yaml:3:14: warning: duplicate\n\
             error: cannot read `x`\n\
             2 errors"
        );
    }
}
