//! fusejit: compiles small array expressions over named columns into one fused loop.
//!
//! An [`Engine`] compiles a program's text into a [`Kernel`]; the kernel evaluates over
//! [`Bindings`] — borrowed columns with optional Arrow-style validity, and scalars — into an
//! owned [`Column`], or into caller buffers ([`Kernel::eval_into`]). Each binding signature
//! (input types, which columns carry validity) compiles once to native code with Cranelift.
//! [`Kernel::interpret`] runs the reference interpreter on the same program: the same bits.
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
//!
//! Errors render with the program underlined:
//!
//! ```
//! let error = fusejit::Engine::new().compile("dlg(px, 1)").unwrap_err();
//! assert!(error.render("<program>", false).contains("did you mean 'dlog'?"));
//! ```
//!
//! The compiler's stages are private. The pipeline, one module per stage in reading order:
//! `syntax` → `check` → `ir` → `passes` → `codegen` → `runtime` → `engine`, with `interp`
//! beside them as the reference evaluator; see `docs/ARCHITECTURE.md`.
//!
//! # Features
//! - `cli` (default): the `fusejit` binary (clap, rustyline, csv). A library user can turn
//!   the default features off: `cargo build --no-default-features --lib` pulls none of them.
//! - `cross` (default): code for other targets (`Kernel::cross_listing`, `--emit … --target
//!   aarch64`): Cranelift's aarch64 backend and object writer.
//!
//! # Safety of the math tiers
//! The SIMD lane types that run AVX-512, AVX2 or SSE4.1 instructions are private to the
//! crate: only entry points that checked the CPU's features call them. No safe code outside
//! the crate can reach them:
//!
//! ```compile_fail,E0603
//! // The x86 tiers' module, and the math module that holds it, are crate-private: naming a
//! // lane type from outside is a privacy error. (Made public, this would compile and call
//! // AVX-512 code from safe code on any CPU: the test would then fail.)
//! use fusejit::math::lanes::Lanes;
//! let _ = fusejit::math::kernels::ln(fusejit::math::x86::Avx512::splat(2.0));
//! ```
//!
//! ```compile_fail,E0603
//! // Nor does the test-only `internals` module lead to them.
//! use fusejit::internals::math::x86::Avx512;
//! ```
//!
//! (Stable rustdoc does not check the error code; the code above fails only for privacy, as
//! the public call below shows the same shape compiling.)
//!
//! ```
//! let _ = fusejit::internals::math::ln_f64(1.0);
//! ```

#![warn(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub(crate) mod syntax;
pub(crate) mod check;
pub(crate) mod ir;
pub(crate) mod passes;
pub(crate) mod codegen;
pub(crate) mod runtime;
pub(crate) mod engine;
pub(crate) mod interp;
#[cfg(feature = "arrow")]
pub(crate) mod arrow;

pub(crate) mod bindings;
pub(crate) mod column;
pub(crate) mod diagnostic;
pub(crate) mod error;
pub(crate) mod math;
pub(crate) mod types;

pub use bindings::Bindings;
pub use check::Schema;
pub use column::{Binding, Column, ColumnData, ColumnRef, ColumnValues, PackedBools, Validity};
pub use diagnostic::{Diagnostic, Span};
pub use engine::{
    ColumnMut, Dependence, Engine, EngineConfig, EvalSummary, Kernel, OutputType, Specialized, ValuesMut,
};
pub use error::{CompileError, ConfigError, Error, EvalError};
pub use math::{BinaryMathFunction, Isa, MathFunction};
pub use types::{Elem, Scalar, Shape, Type};

/// The names of every built-in function, aliases included (`log` for `ln`): for completion
/// and help texts.
///
/// ```
/// assert!(fusejit::function_names().any(|name| name == "dlog"));
/// ```
pub fn function_names() -> impl Iterator<Item = &'static str> {
    check::functions::FUNCTIONS.iter().map(|info| info.name)
}

/// Not part of the API: what the tests, benchmarks, examples, fuzz targets and the binary
/// reach into. It may change in any release without notice.
#[doc(hidden)]
pub mod internals {
    /// The math runtime: the scalar functions, the tiers' block functions, the reference.
    pub mod math {
        pub use crate::math::{
            BinaryBlockFn, BlockFn, F32BinaryBlockFn, F32BlockFn, exp_f32, exp_f64, exp_f64_block, ln_f32,
            ln_f64, ln_f64_block, reference,
        };
    }

    /// The front end, for the REPL (which splits `name = expr`) and parse snapshots.
    pub mod syntax {
        pub use crate::syntax::ast;
        pub use crate::syntax::parse_program;
    }

    /// The middle: checking, the IR, the passes and the loop planner, for the snapshot tests;
    /// the reference interpreter over any stage's program, for the passes' tests.
    pub mod compiler {
        pub use crate::check::check;
        pub use crate::interp::evaluate as interpret;
        pub use crate::ir::{NodeKind, Program, ReduceOp};
        pub use crate::passes::fuse_loops::{InputForm, plan, plan_reduction};
        pub use crate::passes::split_passes::split;
        pub use crate::passes::{optimize, optimize_with_dumps};
    }

    /// Code for other targets, for `tests/aarch64.rs`.
    #[cfg(feature = "cross")]
    pub mod cross {
        pub use crate::codegen::CodegenError;
        pub use crate::codegen::object::{ArgumentImage, ArgumentWord, CrossObject};
    }

    /// Compiles and installs the traced math tier (`Isa::Traced`) for this process.
    pub fn install_traced_math() -> Result<(), String> {
        crate::codegen::install_traced_math().map_err(|error| error.to_string())
    }
}
