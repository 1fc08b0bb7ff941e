//! fusejit programs inside Apache DataFusion: scalar and window functions, `CREATE FUNCTION
//! … LANGUAGE fusejit`, and extension codecs that carry programs to Ballista executors.
//!
//! ```no_run
//! # async fn example() -> datafusion::common::Result<()> {
//! use datafusion::prelude::SessionContext;
//! let ctx = fusejit_datafusion::with_fusejit(SessionContext::new());
//! // Row-local programs: the generic scalar function, arguments bound in order of first use.
//! ctx.sql("SELECT fusejit('(x - y) * a + b', px, fair, 2.0, 0.5) FROM ticks").await?;
//! // Programs that read other rows: a named window function over sorted partitions.
//! fusejit_datafusion::register_program(&ctx, "ann_ret", "dlog(px, 1) * 252")?;
//! ctx.sql("SELECT sym, ts, ann_ret(px) OVER (PARTITION BY sym ORDER BY ts) FROM ticks").await?;
//! // Or in SQL itself.
//! ctx.sql("CREATE FUNCTION vol(px DOUBLE) RETURNS DOUBLE LANGUAGE fusejit AS 'mstd(dlog(px, 1), 20)'").await?;
//! # Ok(()) }
//! ```
//!
//! Which form a program takes follows [`fusejit::Kernel::dependence`]: a row-local program is
//! a scalar function (DataFusion calls it per batch, in any order); any other is a window
//! function evaluated once per whole partition in the window's order, so its lags and windows
//! never cross partitions or depend on batch boundaries. A program with `out` statements
//! returns a struct with a field per output (each `out`, then `result`).
//!
//! Errors are DataFusion errors carrying fusejit's rendered diagnostic: planning errors for
//! programs that do not compile or type-check, execution errors for evaluation.

#![warn(missing_docs)]

mod codec;
mod function_factory;
mod program;
mod scalar_function;
mod window_function;

pub use codec::{FusejitLogicalCodec, FusejitPhysicalCodec};
pub use function_factory::FusejitFunctionFactory;
pub use program::{ProgramDefinition, coerced_type};
pub use scalar_function::{FusejitScalarFunction, GENERIC_FUNCTION_NAME, ProgramScalarFunction};
pub use window_function::ProgramWindowFunction;

use datafusion::common::Result;
use datafusion::logical_expr::{ScalarUDF, WindowUDF};
use datafusion::prelude::SessionContext;
use fusejit::Dependence;
use std::sync::Arc;

/// A program as the DataFusion function it becomes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProgramFunction {
    /// A row-local program: a scalar function.
    Scalar(Arc<ScalarUDF>),
    /// A program that reads other rows: a window function over whole partitions.
    Window(Arc<WindowUDF>),
}

/// The function `definition` describes: scalar if its program is row-local (for its
/// declared argument types, else for `DOUBLE` arguments), window otherwise.
pub fn program_function(definition: ProgramDefinition) -> Result<ProgramFunction> {
    let named = program::NamedProgram::new(definition)?;
    let types = program::probe_types(&named.program.definition);
    Ok(match named.program.dependence(&types)? {
        Dependence::RowLocal => {
            ProgramFunction::Scalar(Arc::new(ScalarUDF::from(ProgramScalarFunction::from_row_local(named))))
        }
        _ => ProgramFunction::Window(Arc::new(WindowUDF::from(ProgramWindowFunction::from_named(named)))),
    })
}

/// Registers `program` in `ctx` as the function `name`, its arguments bound to the
/// program's inputs in order of first use (`register_program(ctx, "spread", "(x - y) * a")`
/// gives `spread(x, y, a)`), as a scalar or window function (see [`program_function`]).
pub fn register_program(ctx: &SessionContext, name: &str, program: &str) -> Result<ProgramFunction> {
    let kernel = program::compile(name, program)?;
    let function = program_function(ProgramDefinition {
        name: name.to_string(),
        text: program.to_string(),
        parameters: kernel.input_names().to_vec(),
        argument_types: None,
        return_type: None,
    })?;
    match &function {
        ProgramFunction::Scalar(udf) => ctx.register_udf(udf.as_ref().clone()),
        ProgramFunction::Window(udwf) => ctx.register_udwf(udwf.as_ref().clone()),
    }
    Ok(function)
}

/// `ctx` with the generic `fusejit(program, args…)` scalar function registered and
/// `CREATE FUNCTION … LANGUAGE fusejit` handled ([`FusejitFunctionFactory`]).
pub fn with_fusejit(ctx: SessionContext) -> SessionContext {
    ctx.register_udf(ScalarUDF::from(FusejitScalarFunction::new()));
    ctx.with_function_factory(Arc::new(FusejitFunctionFactory))
}
