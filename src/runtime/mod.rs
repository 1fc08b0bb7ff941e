//! What compiled code and the interpreter call at run time: the math functions (defined
//! once), the block stubs kernels call, and the callbacks that drive the stateful operations.
//!
//! Architecture Invariant: the runtime knows nothing about the compiler (syntax, check,
//! passes, codegen). It exports plain functions and `extern "C"` block functions that anything
//! may call; the callbacks use `ir::column_semantics`, the definition of the stateful
//! operations, and nothing else of the IR.

pub(crate) mod callbacks;
pub(crate) mod stubs;
