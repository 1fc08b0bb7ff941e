//! fusejit: compiles small array expressions over named columns into one fused loop.
//!
//! The pipeline, one module per stage in reading order:
//! [`syntax`] → [`check`] → [`ir`] → [`passes`] → [`codegen`] → [`runtime`] → [`engine`], with [`interp`]
//! beside them as the reference evaluator. See `docs/ARCHITECTURE.md`.
//!
//! ```
//! let engine = fusejit::Engine::new();
//! let kernel = engine.compile("dlog(px, 1) * 252").unwrap();
//! let px = [100.0, 101.0, 100.5];
//! let mut bindings = fusejit::Bindings::new();
//! bindings.column("px", &px[..]);
//! let out = kernel.eval(&bindings).unwrap();
//! assert_eq!(out.len(), 3);
//! assert_eq!(out.null_count, 1); // the first row has no previous price
//! ```

pub mod syntax;
pub mod check;
pub mod ir;
pub mod passes;
pub mod codegen;
pub mod runtime;
pub mod engine;
pub mod interp;

pub mod column;
pub mod diagnostic;
pub mod error;

pub use check::Schema;
pub use column::{Binding, Column, ColumnData, ColumnRef, ColumnValues, Scalar, Validity};
pub use diagnostic::Diagnostic;
pub use engine::{Bindings, ColumnMut, Engine, EngineConfig, EvalSummary, Kernel, ValuesMut};
pub use error::{CompileError, Error, EvalError};
pub use ir::{Elem, Shape, Type};
pub use runtime::math::Isa;
