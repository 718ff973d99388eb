//! An error with its causes, on one line.

use std::error::Error;
use std::fmt;

/// Displays an error and each of its sources, joined by `": "`: every
/// error of mmsoak's libraries names its own failure only (`cannot read
/// FILE`), and its source says why (`No such file or directory`).
///
/// ```
/// use mmsoak_core::{input, ErrorChain};
/// let err = input::read_document("/nonexistent/EDGE_REPORT.json".as_ref(), 1024).unwrap_err();
/// assert_eq!(err.to_string(), "cannot read /nonexistent/EDGE_REPORT.json");
/// assert_eq!(
///     ErrorChain(&err).to_string(),
///     "cannot read /nonexistent/EDGE_REPORT.json: No such file or directory (os error 2)"
/// );
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
    }
}
