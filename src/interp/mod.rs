//! The reference interpreter: a plain, row-at-a-time evaluator of the IR — the oracle that
//! every test compares native code against. Clarity beats speed here: each node's value is a
//! vector of optional scalars, and each row is computed by the `ir::semantics` functions.

use crate::column::{Binding, Column};
use crate::error::EvalError;
use crate::ir::{NodeKind, Program, Shape, column_semantics, semantics};
use crate::types::Scalar;

/// One node's value: a scalar (the same for every row) or one optional value per row.
enum Value {
    Scalar(Option<Scalar>),
    Column(Vec<Option<Scalar>>),
}

impl Value {
    fn at(&self, row: usize) -> Option<Scalar> {
        match self {
            Value::Scalar(value) => *value,
            Value::Column(rows) => rows[row],
        }
    }
}

/// Evaluates `program` over `inputs` (one binding per program input, in slot order), each
/// column having `rows` rows. The result has `rows` rows, or one when it is a scalar.
pub fn evaluate(program: &Program, inputs: &[Binding<'_>], rows: usize) -> Result<Column, EvalError> {
    let mut outputs = evaluate_outputs(program, inputs, rows)?;
    Ok(outputs
        .pop()
        .map(|(_, column)| column)
        .unwrap_or_else(|| Column::from_options(program.result_type().elem, &[])))
}

/// Evaluates every output of `program` (see [`evaluate`]), by name, in program order.
pub fn evaluate_outputs(
    program: &Program,
    inputs: &[Binding<'_>],
    rows: usize,
) -> Result<Vec<(String, Column)>, EvalError> {
    check_inputs(program, inputs, rows)?;
    let mut values: Vec<Value> = Vec::with_capacity(program.nodes.len());
    for node in &program.nodes {
        let value = match node.kind {
            NodeKind::Input { slot } => match inputs[slot as usize] {
                Binding::Scalar(scalar) => Value::Scalar(Some(scalar)),
                Binding::NullScalar(_) => Value::Scalar(None),
                Binding::Column(column) => Value::Column((0..rows).map(|row| column.get(row)).collect()),
            },
            NodeKind::Const(constant) => Value::Scalar(constant.to_scalar()),
            NodeKind::Lag { value, k } => {
                let source = &values[value.index()];
                let k = k as usize;
                Value::Column((0..rows).map(|row| if row >= k { source.at(row - k) } else { None }).collect())
            }
            NodeKind::Reduce { op, arg } => {
                let source = &values[arg.index()];
                let operand = program.node(arg).ty.elem;
                Value::Scalar(column_semantics::reduce(&[op], operand, rows, |row| source.at(row))[0])
            }
            NodeKind::Scan { op, arg } => {
                let source = &values[arg.index()];
                let mut out = vec![None; rows];
                let operand = program.node(arg).ty.elem;
                column_semantics::scan(
                    op,
                    operand,
                    rows,
                    |row| source.at(row),
                    |row, value| out[row] = value,
                );
                Value::Column(out)
            }
            kind => {
                let row_value = |row: usize| {
                    let at = |id: crate::ir::NodeId| values[id.index()].at(row);
                    match kind {
                        NodeKind::Unary { op, arg } => semantics::unary(op, node.ty.elem, at(arg)),
                        NodeKind::Binary { op, lhs, rhs } => semantics::binary(op, at(lhs), at(rhs)),
                        NodeKind::PowI { base, exponent } => semantics::pow_i(at(base), exponent),
                        NodeKind::Where { cond, then, otherwise } => {
                            semantics::choose(at(cond), at(then), at(otherwise))
                        }
                        NodeKind::Fill { value, fallback } => semantics::fill(at(value), at(fallback)),
                        NodeKind::Input { .. }
                        | NodeKind::Const(_)
                        | NodeKind::Lag { .. }
                        | NodeKind::Reduce { .. }
                        | NodeKind::Scan { .. } => unreachable!("handled above"),
                    }
                };
                match node.ty.shape {
                    Shape::Scalar => Value::Scalar(row_value(0)),
                    Shape::Column => Value::Column((0..rows).map(row_value).collect()),
                }
            }
        };
        values.push(value);
    }
    Ok(program
        .outputs
        .iter()
        .map(|(name, id)| {
            let output_rows = match &values[id.index()] {
                Value::Scalar(value) => vec![*value],
                Value::Column(rows) => rows.clone(),
            };
            (name.clone(), Column::from_options(program.node(*id).ty.elem, &output_rows))
        })
        .collect())
}

/// The interpreter trusts nothing: inputs must match the program's declared inputs exactly.
fn check_inputs(program: &Program, inputs: &[Binding<'_>], rows: usize) -> Result<(), EvalError> {
    if inputs.len() != program.inputs.len() {
        return Err(EvalError::Internal {
            message: format!("{} inputs given for {} declared", inputs.len(), program.inputs.len()),
        });
    }
    for (input, binding) in program.inputs.iter().zip(inputs) {
        crate::bindings::check_binding(&input.name, input.ty, binding, rows)?;
    }
    Ok(())
}
