//! The library's typed errors: compile errors carry a span and render with the source
//! underlined; evaluation errors name the binding at fault.

use crate::diagnostic::Diagnostic;
use crate::types::{Elem, Shape, Type};
use std::sync::Arc;

/// A program that does not compile: the diagnostic plus the source it points into.
///
/// ```
/// let error = fusejit::Engine::new().compile("ln(x").unwrap_err();
/// assert_eq!(error.diagnostic.span, fusejit::Span::new(4, 4));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct CompileError {
    /// What is wrong and where.
    pub diagnostic: Diagnostic,
    /// The program's text, for rendering.
    pub source: Arc<str>,
}

impl CompileError {
    /// A compile error of `source`.
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
#[non_exhaustive]
#[must_use]
#[allow(missing_docs)] // the fields are named for what they hold; each variant says what they mean
pub enum EvalError {
    /// The program reads `name` but nothing is bound to it.
    MissingBinding { name: String },
    /// `name` is bound to a value of type `found`, but the evaluation needs `expected`.
    WrongType { name: String, expected: Type, found: Type },
    /// Column `name` has `len` rows but column `reference` has `expected`.
    LengthMismatch { name: String, len: usize, expected: usize, reference: String },
    /// Column `name`'s validity bitmap covers `capacity` rows (after its bit offset), fewer than `rows`.
    BitmapTooShort { name: String, rows: usize, capacity: usize },
    /// An `eval_into` values buffer holds `found` values, but the result is `expected`.
    OutputType { expected: Elem, found: Elem },
    /// An `eval_into` buffer is too short: the values hold `len` rows, or the validity `len`
    /// bytes (`validity` true), where the result needs `needed`.
    OutputTooShort { validity: bool, len: usize, needed: usize },
    /// `eval_column_into` was asked to write a result that is a scalar (of type `elem`)
    /// into a buffer that stands for a column; nothing was written.
    ScalarResult { elem: Elem },
    /// Column `name` is an Arrow array of a type fusejit does not read (`data_type`, as Arrow
    /// prints it).
    UnsupportedArrowType { name: String, data_type: String },
    /// Inputs given by position ([`crate::Specialized`]) number `found`, but the program reads
    /// `expected` names.
    InputCount { expected: usize, found: usize },
    /// A compiler invariant failed: always a bug in fusejit, never in the caller's program.
    Internal { message: String },
}

/// `a f64 column`, `a bool scalar`.
fn describe(ty: Type) -> String {
    match ty.shape {
        Shape::Scalar => format!("a {} scalar", ty.elem),
        Shape::Column => format!("a {} column", ty.elem),
    }
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::MissingBinding { name } => write!(f, "no binding for input '{name}'"),
            EvalError::WrongType { name, expected, found } => {
                write!(
                    f,
                    "binding '{name}' is {}, but the kernel expects {}",
                    describe(*found),
                    describe(*expected)
                )
            }
            EvalError::LengthMismatch { name, len, expected, reference } => write!(
                f,
                "column '{name}' has {len} rows, but column '{reference}' has {expected}; all columns must have the same length"
            ),
            EvalError::BitmapTooShort { name, rows, capacity } => write!(
                f,
                "the validity bitmap of column '{name}' covers {capacity} rows after its bit offset, but the column has {rows}"
            ),
            EvalError::OutputType { expected, found } => {
                write!(f, "output buffer: values are {found}, the result is {expected}")
            }
            EvalError::OutputTooShort { validity: true, len, needed } => {
                write!(f, "output buffer: validity has {len} bytes, the result needs {needed}")
            }
            EvalError::OutputTooShort { validity: false, len, needed } => {
                write!(f, "output buffer: values hold {len} rows, the result has {needed}")
            }
            EvalError::ScalarResult { elem } => {
                write!(f, "the result is a {elem} scalar; a column output buffer takes a column result")
            }
            EvalError::UnsupportedArrowType { name, data_type } => write!(
                f,
                "column '{name}' is an Arrow {data_type} array; fusejit reads Float64, Float32, Int64, Int32 and Boolean arrays"
            ),
            EvalError::InputCount { expected, found } => write!(
                f,
                "{found} inputs given by position, but the program reads {expected} names (one input per name, in the kernel's order of input names)"
            ),
            EvalError::Internal { message } => write!(f, "internal error (a bug in fusejit): {message}"),
        }
    }
}

impl std::error::Error for EvalError {}

/// Any error of `eval`: the program did not compile for these bindings, or the bindings are wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub enum Error {
    /// The program does not type-check against the bindings' types.
    Compile(CompileError),
    /// The bindings or output buffers do not fit.
    Eval(EvalError),
}

impl Error {
    /// The message as the CLI prints it: a compile error with the program's line and the
    /// problem underlined (`^^^`) and its hint; an evaluation error on one line.
    ///
    /// ```
    /// let kernel = fusejit::Engine::new().compile("x + y").unwrap();
    /// let (x, y) = ([1.0, 2.0], [1.0, 2.0, 3.0]);
    /// let mut bindings = fusejit::Bindings::new();
    /// bindings.column("x", &x[..]).column("y", &y[..]);
    /// let error = kernel.eval(&bindings).unwrap_err();
    /// assert!(error.render("<program>", false).starts_with("error: column 'y' has 3 rows"));
    ///
    /// let error = kernel.eval(&fusejit::Bindings::new()).unwrap_err();
    /// assert!(error.render("<program>", false).contains("1 │ x + y"));
    /// ```
    pub fn render(&self, file_name: &str, color: bool) -> String {
        match self {
            Error::Compile(error) => error.render(file_name, color),
            Error::Eval(error) => format!("error: {error}"),
        }
    }
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

/// An engine configuration that cannot be used on this machine.
///
/// ```
/// let error = fusejit::Isa::parse("avx9000").unwrap_err();
/// assert!(error.to_string().contains("unknown ISA tier 'avx9000'"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub enum ConfigError {
    /// A math tier name that is not `auto`, `avx512`, `avx2`, `sse`, `traced` or `scalar`;
    /// `from_environment` when it came from `FUSEJIT_ISA`.
    UnknownIsa {
        /// The name given.
        name: String,
        /// Whether it came from the `FUSEJIT_ISA` environment variable.
        from_environment: bool,
    },
    /// The math tier exists, but this CPU cannot run it.
    UnsupportedIsa {
        /// The tier's name.
        name: &'static str,
    },
    /// The traced math tier could not be compiled for this host.
    TracedMath {
        /// Why.
        message: String,
    },
    /// A thread count that is not a whole number from 1 to [`MAX_THREADS`]; `from_environment`
    /// when it came from `FUSEJIT_THREADS`.
    ///
    /// [`MAX_THREADS`]: crate::EngineConfig::MAX_THREADS
    Threads {
        /// The text given.
        text: String,
        /// Whether it came from the `FUSEJIT_THREADS` environment variable.
        from_environment: bool,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::UnknownIsa { name, from_environment } => {
                if *from_environment {
                    write!(f, "FUSEJIT_ISA: ")?;
                }
                write!(f, "unknown ISA tier '{name}'; expected auto, avx512, avx2, sse, traced or scalar")
            }
            ConfigError::UnsupportedIsa { name } => {
                write!(f, "this CPU does not support the '{name}' math tier")
            }
            ConfigError::TracedMath { message } => write!(f, "the traced math tier: {message}"),
            ConfigError::Threads { text, from_environment } => {
                if *from_environment {
                    write!(f, "FUSEJIT_THREADS: ")?;
                }
                write!(
                    f,
                    "'{text}' is not a thread count; expected a whole number from 1 to {}",
                    crate::EngineConfig::MAX_THREADS
                )
            }
        }
    }
}

impl std::error::Error for ConfigError {}
