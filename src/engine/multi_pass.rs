//! Running a multi-pass plan (`passes::split_passes`): each step's operand through its fused
//! native loop (or read where it lies, when it is an input column), the step's reductions or
//! scan by `ir::column_semantics` — the very functions the interpreter calls, in the same row
//! order, so both give the same bits — and last the fused loop of what remains.

use super::{Bindings, Fused, Kernel, MAX_PASS_KERNELS, bindings, has_validity};
use crate::codegen;
use crate::column::{Binding, Column, ColumnData, ColumnValues, Scalar, Validity};
use crate::engine::{ColumnMut, EvalSummary, ValuesMut};
use crate::error::{Error, EvalError};
use crate::interp::from_f64;
use crate::ir::{self, Elem, column_semantics};
use crate::passes::fuse_loops;
use crate::passes::split_passes::{PassPlan, StepKind, substitute_nulls};
use std::sync::{Arc, PoisonError};

/// A result of an earlier step, bound by name for the later ones.
enum Produced {
    Column(Column),
    /// `None`: a null reduction (substituted into later programs as a null constant).
    Scalar(Option<Scalar>),
}

/// Calls `body` with a fast row accessor for `binding`'s values as f64 (see
/// `interp::as_f64`): one monomorphic closure per element type and validity.
fn with_rows<R>(binding: &Binding<'_>, body: impl FnOnce(&dyn Fn(usize) -> Option<f64>) -> R) -> R {
    let Binding::Column(column) = binding else {
        let value = match binding {
            Binding::Scalar(scalar) => crate::interp::as_f64(Some(*scalar)),
            Binding::Column(_) => None,
        };
        return body(&move |_| value);
    };
    let valid = |row: usize| column.validity.is_none_or(|validity: Validity<'_>| validity.is_valid(row));
    match column.data {
        ColumnData::F64(values) => body(&|row| valid(row).then(|| values[row])),
        ColumnData::F32(values) => body(&|row| valid(row).then(|| f64::from(values[row]))),
        ColumnData::Bool(values) => body(&|row| valid(row).then(|| f64::from(u8::from(values[row])))),
    }
}

impl Kernel {
    pub(super) fn eval_passes(
        &self,
        passes: &PassPlan,
        user: &Bindings<'_>,
        rows: usize,
    ) -> Result<Column, Error> {
        let mut produced: Vec<(String, Produced)> = Vec::new();
        for step in &passes.steps {
            let operand_column;
            let all = combined(user, &produced);
            let operand = match step.operand_input() {
                Some(name) => {
                    *all.get(name).ok_or_else(|| EvalError::MissingBinding { name: name.to_string() })?
                }
                None => {
                    operand_column = self.run_program(&step.operand, &all, &null_names(&produced), rows)?;
                    Binding::Column(operand_column.as_column_ref())
                }
            };
            match &step.kind {
                StepKind::Reduce { ops } => {
                    let kinds: Vec<ir::ReduceOp> = ops.iter().map(|(op, _, _)| *op).collect();
                    let values = with_rows(&operand, |get| column_semantics::reduce(&kinds, rows, get));
                    let results: Vec<(String, Produced)> = ops
                        .iter()
                        .zip(values)
                        .map(|((_, name, ty), value)| {
                            (name.clone(), Produced::Scalar(value.map(|value| from_f64(ty.elem, value))))
                        })
                        .collect();
                    drop(all);
                    produced.extend(results);
                }
                StepKind::Scan { op, name, ty } => {
                    let column = with_rows(&operand, |get| scan_column(*op, ty.elem, rows, get));
                    drop(all);
                    produced.push((name.clone(), Produced::Column(column)));
                }
            }
        }
        let all = combined(user, &produced);
        self.run_program(&passes.last, &all, &null_names(&produced), rows)
    }

    /// Runs an elementwise pass program through its fused loop, compiling it on first use.
    pub(super) fn run_program(
        &self,
        program: &ir::Program,
        all: &Bindings<'_>,
        nulls: &[String],
        rows: usize,
    ) -> Result<Column, Error> {
        let substituted;
        let program = if nulls.iter().any(|name| program.inputs.iter().any(|input| input.name == *name)) {
            substituted = crate::passes::optimize(substitute_nulls(program, nulls))
                .map_err(|error| self.internal_error(error.to_string()))?;
            &substituted
        } else {
            program
        };
        let mut inputs: Vec<Binding<'_>> = Vec::with_capacity(program.inputs.len());
        for input in &program.inputs {
            let binding = *all
                .get(&input.name)
                .ok_or_else(|| EvalError::MissingBinding { name: input.name.clone() })?;
            bindings::check_binding(&input.name, input.ty, &binding, rows)?;
            inputs.push(binding);
        }
        let validity: Vec<bool> = inputs.iter().map(has_validity).collect();
        let key = (program.to_text(), validity);
        let found = self.inner.pass_kernels.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
        let fused = match found {
            Some(fused) => fused,
            None => {
                let plan = fuse_loops::plan(program, &key.1);
                let native = self
                    .inner
                    .backend
                    .compile(&plan, codegen::Listings::default())
                    .map_err(|message| self.internal_error(message))?;
                let fused = Arc::new(Fused { plan, native });
                let mut cache = self.inner.pass_kernels.lock().unwrap_or_else(PoisonError::into_inner);
                if cache.len() >= MAX_PASS_KERNELS {
                    cache.clear();
                }
                cache.insert(key, fused.clone());
                fused
            }
        };
        Ok(run_to_column(&fused, &inputs, rows))
    }
}

/// The reductions that came out null, by input name.
fn null_names(produced: &[(String, Produced)]) -> Vec<String> {
    produced
        .iter()
        .filter(|(_, value)| matches!(value, Produced::Scalar(None)))
        .map(|(name, _)| name.clone())
        .collect()
}

/// The user's bindings plus every result produced so far (null scalars left out: they are
/// substituted as constants).
fn combined<'a>(user: &Bindings<'a>, produced: &'a [(String, Produced)]) -> Bindings<'a> {
    let mut all = Bindings::new();
    for (name, binding) in user.iter() {
        all.bind(name, *binding);
    }
    for (name, value) in produced {
        match value {
            Produced::Column(column) => {
                all.bind(name.clone(), Binding::Column(column.as_column_ref()));
            }
            Produced::Scalar(Some(scalar)) => {
                all.scalar(name.clone(), *scalar);
            }
            Produced::Scalar(None) => {}
        }
    }
    all
}

/// A scan's result column, of element type `elem`, with a bitmap when any row is null.
fn scan_column(op: ir::ScanOp, elem: Elem, rows: usize, get: &dyn Fn(usize) -> Option<f64>) -> Column {
    let mut bitmap = vec![0u8; rows.div_ceil(8)];
    let mut nulls = 0;
    let mut f64_values = Vec::new();
    let mut f32_values = Vec::new();
    match elem {
        Elem::F32 => f32_values.resize(rows, 0.0f32),
        _ => f64_values.resize(rows, 0.0f64),
    }
    column_semantics::scan(op, rows, get, |row, value| match value {
        Some(value) => {
            bitmap[row / 8] |= 1 << (row % 8);
            match elem {
                Elem::F32 => f32_values[row] = value as f32,
                _ => f64_values[row] = value,
            }
        }
        None => nulls += 1,
    });
    let values = match elem {
        Elem::F32 => ColumnValues::F32(f32_values),
        _ => ColumnValues::F64(f64_values),
    };
    Column { values, validity: (nulls > 0).then_some(bitmap), null_count: nulls }
}

/// Runs one fused loop into a new column.
pub(super) fn run_to_column(fused: &Fused, inputs: &[Binding<'_>], rows: usize) -> Column {
    let len = if codegen::result_is_scalar(&fused.plan) { 1 } else { rows };
    let nullable = fused.plan.result_nullable();
    let mut bitmap = vec![0u8; if nullable { len.div_ceil(8) } else { 0 }];
    let elem = fused.plan.program.result_type().elem;
    let values = match elem {
        Elem::F64 => ColumnValues::F64(super::run_into_vec(fused, inputs, rows, len, &mut bitmap)),
        Elem::F32 => ColumnValues::F32(super::run_into_vec(fused, inputs, rows, len, &mut bitmap)),
        Elem::Bool => ColumnValues::Bool(super::run_into_vec(fused, inputs, rows, len, &mut bitmap)),
    };
    let null_count = if nullable { len - super::count_valid(&bitmap, len) } else { 0 };
    let validity = (null_count > 0).then_some(bitmap);
    Column { values, validity, null_count }
}

/// Copies a computed column into caller-provided buffers (`eval_into` of a multi-pass plan).
pub(super) fn copy_into(column: &Column, out: &mut ColumnMut<'_>) -> Result<EvalSummary, Error> {
    let len = column.len();
    let output_error = |message: String| -> Error { EvalError::Output { message }.into() };
    if out.validity.len() < len.div_ceil(8) {
        return Err(output_error(format!(
            "validity has {} bytes, the result needs {}",
            out.validity.len(),
            len.div_ceil(8)
        )));
    }
    let room = match &out.values {
        ValuesMut::F64(values) => values.len(),
        ValuesMut::F32(values) => values.len(),
        ValuesMut::Bool(values) => values.len(),
    };
    if room < len {
        return Err(output_error(format!("values hold {room} rows, the result has {len}")));
    }
    match (&column.values, &mut out.values) {
        (ColumnValues::F64(from), ValuesMut::F64(to)) => to[..len].copy_from_slice(from),
        (ColumnValues::F32(from), ValuesMut::F32(to)) => to[..len].copy_from_slice(from),
        (ColumnValues::Bool(from), ValuesMut::Bool(to)) => to[..len].copy_from_slice(from),
        (_, found) => {
            let found = match found {
                ValuesMut::F64(_) => Elem::F64,
                ValuesMut::F32(_) => Elem::F32,
                ValuesMut::Bool(_) => Elem::Bool,
            };
            return Err(output_error(format!("values are {found}, the result is {}", column.elem())));
        }
    }
    for row in 0..len {
        let bit = 1u8 << (row % 8);
        if column.is_valid(row) {
            out.validity[row / 8] |= bit;
        } else {
            out.validity[row / 8] &= !bit;
        }
    }
    Ok(EvalSummary { len, null_count: column.null_count })
}
