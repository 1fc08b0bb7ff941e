//! What compiled code and the interpreter call at run time: the math functions, defined once.
//!
//! Architecture Invariant: the runtime knows nothing about the compiler; it exports plain
//! functions (and, from the codegen issue on, `extern "C"` block stubs) that anything may call.

pub mod math;
pub mod stubs;
