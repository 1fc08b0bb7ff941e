//! Native code: compiles a loop plan to machine code with Cranelift and runs it.
//!
//! - [`compiler`]: `Compiler`, the one owner of Cranelift's reusable state (the ISA, a
//!   `codegen::Context` and a `FunctionBuilderContext`). Steps are separate: build CLIF
//!   ([`translate`]) → verify (when asked) → compile.
//! - [`executor`]: `NativeKernel`, which owns its plan and its `JITModule` (freed on drop), and
//!   runs by filling the argument block ([`layout`]) and the per-thread scratch.
//! - [`runtime_functions`]: the one table of the runtime functions kernels import.
//! - [`traced_math`]: the traced `ln`/`exp` compiled for the host as the `traced` tier.
//! - [`cross_listing`] and [`object`] (feature `cross`): the same plan for another target,
//!   listed or written to a relocatable object, with [`emitted_runtime`]'s CLIF runtime.
//!
//! Architecture Invariant: codegen reads loop plans and the IR; nothing upstream knows about
//! Cranelift.

pub(crate) mod compiler;
#[cfg(feature = "cross")]
pub(crate) mod cross_listing;
pub(crate) mod emitted_runtime;
pub(crate) mod executor;
pub(crate) mod layout;
#[cfg(feature = "cross")]
pub(crate) mod object;
pub(crate) mod runtime_functions;
pub(crate) mod traced_math;
pub(crate) mod translate;

pub(crate) use compiler::Compiler;
#[cfg(feature = "cross")]
pub(crate) use cross_listing::cross_listing;
pub(crate) use executor::{NativeKernel, OutputTarget, RowRange};
pub(crate) use traced_math::install_traced_math;

use crate::passes::fuse_loops::LoopPlan;
use crate::types::Shape;

/// What a compile can show besides the code itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Listings {
    pub(crate) clif: bool,
    pub(crate) asm: bool,
}

/// Why code generation failed. Every one is a bug in fusejit or an unsupported host, never
/// the user's program: the checker has accepted it by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodegenError {
    /// The host or target ISA could not be set up (an unsupported CPU or triple).
    Setup(String),
    /// Cranelift's verifier rejected the generated function.
    Verifier(String),
    /// Declaring, defining, linking or emitting a function failed.
    Module(String),
    /// The plan asks for something this target cannot run yet.
    Unsupported(&'static str),
    /// Cranelift panicked (caught; the compiler's state was reset).
    Panic(String),
}

impl std::fmt::Display for CodegenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodegenError::Setup(message) => write!(f, "code generator setup: {message}"),
            CodegenError::Verifier(message) => write!(f, "cranelift verifier: {message}"),
            CodegenError::Module(message) => write!(f, "{message}"),
            CodegenError::Unsupported(what) => write!(f, "not supported yet: {what}"),
            CodegenError::Panic(message) => write!(f, "cranelift panicked: {message}"),
        }
    }
}

impl std::error::Error for CodegenError {}

/// The message of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Whether the plan's result is a scalar (one output row).
pub(crate) fn result_is_scalar(plan: &LoopPlan) -> bool {
    plan.program.result_type().shape == Shape::Scalar
}
