//! The questions a query engine asks about a program before any data exists: the type and
//! nullability of each output ([`Kernel::output_types`]) and how far its rows reach into other
//! rows ([`Kernel::dependence`]), so it knows whether and how it may split rows into batches.

use super::Kernel;
use crate::check::Schema;
use crate::error::CompileError;
use crate::ir::{NodeKind, Program};
use crate::types::Type;

/// How the rows of a program's outputs depend on input rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dependence {
    /// Row `i` of every output depends only on row `i` of the inputs: any split into batches
    /// gives the same result.
    RowLocal,
    /// Row `i` depends on rows `i − rows ..= i` (lags, `diff`, `dlog`, `ret`, `mmin`, `mmax`):
    /// a batch evaluated with the `rows` rows before it as history gives the whole column's
    /// bits for its own rows.
    Lookback(u64),
    /// Outputs depend on the whole column: reductions, cumulative operations, `ema`, and
    /// `msum`/`mavg`/`mstd` (whose running sums restart at fixed row positions, so a batch
    /// with history would not reproduce the whole column's bits).
    WholeColumn,
}

/// One output of a program: its name, type (a scalar for a reduction) and whether it can
/// hold a null.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutputType {
    /// `result`, or the name of an `out` statement.
    pub name: String,
    /// Element type and shape.
    pub ty: Type,
    /// Whether a row can be null given which inputs can be. Conservative: a reduction of a
    /// nullable column counts as nullable even where it never is (`count`).
    pub nullable: bool,
}

impl Kernel {
    /// The type and nullability of each output (each `out` statement in order, then
    /// `result`) for inputs of the types in `schema`, of which those named in
    /// `nullable_inputs` may hold nulls.
    ///
    /// ```
    /// use fusejit::{Elem, Schema, Type};
    /// let kernel = fusejit::Engine::new().compile("out r = dlog(px, 1); r * 252 > 0").unwrap();
    /// let mut schema = Schema::new();
    /// schema.insert("px", Type::column(Elem::F64));
    /// let outputs = kernel.output_types(&schema, &[]).unwrap();
    /// assert_eq!((outputs[0].name.as_str(), outputs[0].ty, outputs[0].nullable), ("r", Type::column(Elem::F64), true));
    /// assert_eq!(outputs[1].ty, Type::column(Elem::Bool));
    /// ```
    pub fn output_types(
        &self,
        schema: &Schema,
        nullable_inputs: &[&str],
    ) -> Result<Vec<OutputType>, CompileError> {
        Ok(output_types_of(&self.lowered(schema)?, nullable_inputs))
    }

    /// How far the outputs' rows reach into other rows, for inputs of the types in `schema`
    /// (the structure does not depend on them, but the program must type-check).
    ///
    /// ```
    /// use fusejit::{Dependence, Elem, Schema, Type};
    /// let engine = fusejit::Engine::new();
    /// let mut schema = Schema::new();
    /// schema.insert("x", Type::column(Elem::F64));
    /// let dependence = |source: &str| engine.compile(source).unwrap().dependence(&schema).unwrap();
    /// assert_eq!(dependence("ln(x) * 2"), Dependence::RowLocal);
    /// assert_eq!(dependence("dlog(lag(x, 3), 2)"), Dependence::Lookback(5));
    /// assert_eq!(dependence("mmax(diff(x, 1), 20)"), Dependence::Lookback(20));
    /// assert_eq!(dependence("x - mean(x)"), Dependence::WholeColumn);
    /// ```
    pub fn dependence(&self, schema: &Schema) -> Result<Dependence, CompileError> {
        Ok(program_dependence(&self.lowered(schema)?))
    }
}

/// The type and nullability of each output of `program` (optimised, as the evaluation runs
/// it), with the inputs named in `nullable_inputs` nullable.
pub(super) fn output_types_of(program: &Program, nullable_inputs: &[&str]) -> Vec<OutputType> {
    let input_nullable: Vec<bool> =
        program.inputs.iter().map(|input| nullable_inputs.contains(&input.name.as_str())).collect();
    let nullable = program.nullable_nodes(&input_nullable);
    program
        .outputs
        .iter()
        .map(|(name, id)| OutputType {
            name: name.clone(),
            ty: program.node(*id).ty,
            nullable: nullable[id.index()],
        })
        .collect()
}

/// The dependence of `program`: each node's lookback (`None` for the whole column) from its
/// operands', the largest over the outputs.
fn program_dependence(program: &Program) -> Dependence {
    let mut lookback: Vec<Option<u64>> = Vec::with_capacity(program.nodes.len());
    for node in &program.nodes {
        let of = |id: crate::ir::NodeId| lookback[id.index()];
        let value = match node.kind {
            NodeKind::Input { .. } | NodeKind::Const(_) => Some(0),
            NodeKind::Lag { value, k } => of(value).map(|rows| rows + u64::from(k)),
            NodeKind::Reduce { .. } => None,
            NodeKind::Scan { op, arg } => op.lookback().and_then(|rows| of(arg).map(|before| before + rows)),
            kind => kind.operands().into_iter().try_fold(0u64, |most, id| of(id).map(|rows| most.max(rows))),
        };
        lookback.push(value);
    }
    let most = program
        .outputs
        .iter()
        .try_fold(0u64, |most, (_, id)| lookback[id.index()].map(|rows| most.max(rows)));
    match most {
        None => Dependence::WholeColumn,
        Some(0) => Dependence::RowLocal,
        Some(rows) => Dependence::Lookback(rows),
    }
}
