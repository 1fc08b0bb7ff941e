//! Optimisation passes over the IR, run as one ordered pipeline with the verifier after each.
//!
//! Order, and why:
//! 1. `fold_constants` — evaluates nodes whose operands are all constants (with the same
//!    `ir::semantics` functions the interpreter uses, so folding never changes a bit) and drops
//!    no-op nodes (`lag(x, 0)` of a column). It runs first so later passes see fewer nodes.
//! 2. `push_lags_to_inputs` — rewrites a lag of cheap arithmetic on inputs as that arithmetic
//!    on lagged inputs, so that the loop reads the inputs at an offset instead of buffering a
//!    computed value. It runs after folding, which has turned constant operands into the
//!    constants it leaves unlagged, and before dead-node elimination, which drops the values
//!    that were computed only to be lagged.
//! 3. `eliminate_dead_nodes` — folding and push-down leave nodes nothing reads; removing them
//!    before the schedule means every later stage (fusion, codegen, the interpreter) touches
//!    only live values.
//! 4. `schedule_scans` — orders the live nodes so that the scans' operands are computed in one
//!    loop and the scans run side by side; it adds and removes nothing, so it runs last, on
//!    the nodes that remain, and its order is the one `fuse_loops` cuts into stages.
//!
//! After them, a program with reductions or scans is cut into passes over the rows
//! (`split_passes`, whose programs each verify), and `fuse_loops` plans the native loop of each
//! elementwise program. Neither is an IR-to-IR pass: `fuse_loops`' output is a `LoopPlan`,
//! which depends on the bindings' validity as well.

pub mod fold_constants;
pub mod push_lags_to_inputs;
pub mod eliminate_dead_nodes;
pub mod schedule_scans;
pub mod split_passes;
pub mod fuse_loops;

use crate::ir::{self, VerifyError};

/// A pass: a function from a verified program to a program that must verify again.
pub type Pass = fn(&ir::Program) -> ir::Program;

/// The passes in the order they run, with the names the IR dumps use.
pub const PIPELINE: &[(&str, Pass)] = &[
    ("fold_constants", fold_constants::run),
    ("push_lags_to_inputs", push_lags_to_inputs::run),
    ("eliminate_dead_nodes", eliminate_dead_nodes::run),
    ("schedule_scans", schedule_scans::run),
];

/// Runs every pass in order, verifying after each; the verifier failing is a compiler bug.
pub fn optimize(program: ir::Program) -> Result<ir::Program, VerifyError> {
    ir::verify(&program)?;
    let mut program = program;
    for (name, pass) in PIPELINE {
        program = pass(&program);
        ir::verify(&program).map_err(|error| VerifyError {
            node: error.node,
            message: format!("after {name}: {}", error.message),
        })?;
    }
    Ok(program)
}

/// The program after each pass, named, for tests and `--emit ir` style dumps.
pub fn optimize_with_dumps(program: ir::Program) -> Result<Vec<(&'static str, ir::Program)>, VerifyError> {
    ir::verify(&program)?;
    let mut stages = vec![("check", program)];
    for (name, pass) in PIPELINE {
        let next = pass(&stages.last().expect("stages starts non-empty").1);
        ir::verify(&next)?;
        stages.push((name, next));
    }
    Ok(stages)
}
