//! The kit's one error type: loading the VTEX files or the overlay, or starting a fake.

use std::fmt;

/// What went wrong, in a sentence that names the file, pointer or address involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The kit's result type.
pub type Result<T> = std::result::Result<T, Error>;
