//! Errors of loading a scenario: where in which file, which field, what is wrong.

use std::fmt;
use std::path::PathBuf;

/// A scenario that cannot be read or is not valid.
#[derive(Debug)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file cannot be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid RON, or a value is out of range.
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending text (0 when unknown).
        line: usize,
        /// 1-based column.
        col: usize,
        /// Field path, e.g. `channel.bandwidth_hz` (empty for syntax errors).
        field: String,
        /// What was found, what was expected, what is valid.
        message: String,
    },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Io { path, .. } => write!(f, "{}: cannot read", path.display()),
            ScenarioError::Invalid {
                path,
                line,
                col,
                field,
                message,
            } => {
                write!(f, "{}:{line}:{col}: ", path.display())?;
                if field.is_empty() {
                    write!(f, "{message}")
                } else {
                    write!(f, "field `{field}`: {message}")
                }
            }
        }
    }
}

impl std::error::Error for ScenarioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScenarioError::Io { source, .. } => Some(source),
            ScenarioError::Invalid { .. } => None,
        }
    }
}
