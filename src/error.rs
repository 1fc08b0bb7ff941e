//! The library's typed errors: compile errors carry a span and render with the source
//! underlined; evaluation errors name the binding at fault.

use crate::diagnostic::Diagnostic;
use std::sync::Arc;

/// A program that does not compile: the diagnostic plus the source it points into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub diagnostic: Diagnostic,
    pub source: Arc<str>,
}

impl CompileError {
    pub fn new(diagnostic: Diagnostic, source: impl Into<Arc<str>>) -> Self {
        CompileError { diagnostic, source: source.into() }
    }

    /// The rendered diagnostic with the offending text underlined (`^^^`), as the CLI prints it.
    pub fn render(&self, file_name: &str, color: bool) -> String {
        self.diagnostic.render(file_name, &self.source, color)
    }
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.diagnostic)
    }
}

impl std::error::Error for CompileError {}

/// Bindings that do not fit the program, or output buffers that do not fit the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// The program reads `name` but nothing is bound to it.
    MissingBinding { name: String },
    /// `name` is bound to a value of another type than the one the kernel was compiled for.
    WrongType { name: String, expected: String, found: String },
    /// Column `name` has `len` rows but column `reference` has `expected`.
    LengthMismatch { name: String, len: usize, expected: usize, reference: String },
    /// Column `name`'s validity bitmap covers `capacity` rows (after its bit offset), fewer than `rows`.
    BitmapTooShort { name: String, rows: usize, capacity: usize },
    /// An `eval_into` output buffer is too small or of the wrong type.
    Output { message: String },
    /// A compiler invariant failed: always a bug in fusejit, never in the caller's program.
    Internal { message: String },
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::MissingBinding { name } => write!(f, "no binding for input '{name}'"),
            EvalError::WrongType { name, expected, found } => {
                write!(f, "binding '{name}' is {found}, but the kernel expects {expected}")
            }
            EvalError::LengthMismatch { name, len, expected, reference } => write!(
                f,
                "column '{name}' has {len} rows, but column '{reference}' has {expected}; all columns must have the same length"
            ),
            EvalError::BitmapTooShort { name, rows, capacity } => write!(
                f,
                "the validity bitmap of column '{name}' covers {capacity} rows after its bit offset, but the column has {rows}"
            ),
            EvalError::Output { message } => write!(f, "output buffer: {message}"),
            EvalError::Internal { message } => write!(f, "internal error (a bug in fusejit): {message}"),
        }
    }
}

impl std::error::Error for EvalError {}

/// Any error of `eval`: the program did not compile for these bindings, or the bindings are wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    Compile(CompileError),
    Eval(EvalError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Compile(error) => write!(f, "{error}"),
            Error::Eval(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<CompileError> for Error {
    fn from(error: CompileError) -> Self {
        Error::Compile(error)
    }
}

impl From<EvalError> for Error {
    fn from(error: EvalError) -> Self {
        Error::Eval(error)
    }
}
