//! Running a multi-pass plan (`passes::split_passes`): each step's operand through its fused
//! native loop (or read where it lies, when it is an input column), the step's reductions or
//! scan by `ir::column_semantics` — the very functions the interpreter calls, in the same row
//! order, so both give the same bits — and last the fused loop of what remains.

use super::{Bindings, Fused, Kernel, MAX_PASS_KERNELS, bindings, has_validity};
use crate::codegen::{self, OutputTarget};
use crate::column::{Binding, Column, ColumnData, ColumnValues, Scalar};
use crate::engine::{ColumnMut, EvalSummary, ValuesMut};
use crate::error::{Error, EvalError};
use crate::interp::from_f64;
use crate::ir::{self, Elem, column_semantics};
use crate::passes::fuse_loops;
use crate::passes::split_passes::{self, PassPlan, Step, StepKind, substitute_nulls};
use std::sync::{Arc, PoisonError};

/// A result of an earlier step, bound by name for the later ones.
enum Produced {
    Column(Column),
    /// `None`: a null reduction (substituted into later programs as a null constant).
    Scalar(Option<Scalar>),
}

/// Work to run over a column's rows given as `Option<f64>` (see `interp::as_f64`).
trait RowsVisitor {
    type Output;
    fn visit(self, rows: usize, get: impl Fn(usize) -> Option<f64>) -> Self::Output;
}

/// Runs `visitor` with a row accessor specialised to `binding`'s element type and validity,
/// so the per-row work inlines.
fn visit_rows<V: RowsVisitor>(binding: &Binding<'_>, rows: usize, visitor: V) -> V::Output {
    let column = match binding {
        Binding::Column(column) => column,
        Binding::Scalar(scalar) => {
            let value = crate::interp::as_f64(Some(*scalar));
            return visitor.visit(rows, move |_| value);
        }
    };
    match (column.data, column.validity) {
        (ColumnData::F64(values), None) => visitor.visit(rows, |row| Some(values[row])),
        (ColumnData::F64(values), Some(validity)) => {
            visitor.visit(rows, move |row| validity.is_valid(row).then(|| values[row]))
        }
        (ColumnData::F32(values), validity) => visitor.visit(rows, move |row| {
            validity.is_none_or(|validity| validity.is_valid(row)).then(|| f64::from(values[row]))
        }),
        (ColumnData::Bool(values), validity) => visitor.visit(rows, move |row| {
            validity.is_none_or(|validity| validity.is_valid(row)).then(|| f64::from(u8::from(values[row])))
        }),
    }
}

struct Reduce<'a>(&'a [ir::ReduceOp]);

impl RowsVisitor for Reduce<'_> {
    type Output = Vec<Option<f64>>;
    fn visit(self, rows: usize, get: impl Fn(usize) -> Option<f64>) -> Self::Output {
        column_semantics::reduce(self.0, rows, get)
    }
}

struct Scan(ir::ScanOp, Elem);

impl RowsVisitor for Scan {
    type Output = Column;
    fn visit(self, rows: usize, get: impl Fn(usize) -> Option<f64>) -> Column {
        scan_column(self.0, self.1, rows, get)
    }
}

impl Kernel {
    /// The results of every step of `passes`, by input name.
    fn run_steps(
        &self,
        steps: &[Step],
        user: &Bindings<'_>,
        rows: usize,
    ) -> Result<Vec<(String, Produced)>, Error> {
        let mut produced: Vec<(String, Produced)> = Vec::new();
        for step in steps {
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
                    let values = visit_rows(&operand, rows, Reduce(&kinds));
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
                    let column = visit_rows(&operand, rows, Scan(*op, ty.elem));
                    drop(all);
                    produced.push((name.clone(), Produced::Column(column)));
                }
            }
        }
        Ok(produced)
    }

    pub(super) fn eval_passes(
        &self,
        passes: &PassPlan,
        user: &Bindings<'_>,
        rows: usize,
    ) -> Result<Column, Error> {
        let mut produced = self.run_steps(&passes.steps, user, rows)?;
        // The result is one step's column as it is (`mavg(x, 20)`): hand it over.
        if let Some(name) = bare_input(&passes.last)
            && let Some(index) = produced.iter().position(|(produced_name, value)| {
                produced_name == name && matches!(value, Produced::Column(_))
            })
            && let (_, Produced::Column(column)) = produced.swap_remove(index)
        {
            return Ok(column);
        }
        let all = combined(user, &produced);
        self.run_program(&passes.last, &all, &null_names(&produced), rows)
    }

    /// As `eval_passes`, with the last loop writing into the caller's buffers.
    pub(super) fn eval_passes_into(
        &self,
        passes: &PassPlan,
        user: &Bindings<'_>,
        rows: usize,
        out: &mut ColumnMut<'_>,
    ) -> Result<EvalSummary, Error> {
        // The result is the last step's scan as it is (`mavg(x, 20)`): scan straight into
        // the caller's buffers.
        if let Some((last_step, earlier)) = passes.steps.split_last()
            && let StepKind::Scan { op, name, ty } = &last_step.kind
            && bare_input(&passes.last) == Some(name.as_str())
        {
            let produced = self.run_steps(earlier, user, rows)?;
            let all = combined(user, &produced);
            let operand_column;
            let operand = match last_step.operand_input() {
                Some(input) => {
                    *all.get(input).ok_or_else(|| EvalError::MissingBinding { name: input.to_string() })?
                }
                None => {
                    operand_column =
                        self.run_program(&last_step.operand, &all, &null_names(&produced), rows)?;
                    Binding::Column(operand_column.as_column_ref())
                }
            };
            return visit_rows(&operand, rows, ScanInto { op: *op, elem: ty.elem, out });
        }
        let produced = self.run_steps(&passes.steps, user, rows)?;
        let all = combined(user, &produced);
        let (fused, inputs) = self.compiled_program(&passes.last, &all, &null_names(&produced), rows)?;
        super::run_fused_into(&fused, &inputs, rows, out)
    }

    /// Every output of a multi-output `program`: the passes once, then one fused loop that
    /// writes the result and every other output it computes; an output that is an input, a
    /// lag or a scalar runs as its own small program.
    pub(super) fn eval_all_outputs(
        &self,
        program: &ir::Program,
        user: &Bindings<'_>,
        rows: usize,
    ) -> Result<Vec<(String, Column)>, Error> {
        let split = split_passes::split(program);
        let produced = match &split {
            Some(passes) => self.run_steps(&passes.steps, user, rows)?,
            None => Vec::new(),
        };
        let last = split.as_ref().map_or(program, |passes| &passes.last);
        let all = combined(user, &produced);
        let nulls = null_names(&produced);
        let (fused, inputs) = self.compiled_program(last, &all, &nulls, rows)?;
        let (result, extras) = run_to_columns(&fused, &inputs, rows);
        // The loop's program may have had null reductions substituted: its outputs line up
        // with `last`'s one for one.
        let loop_outputs = &fused.plan.program.outputs;
        let mut columns = Vec::with_capacity(loop_outputs.len());
        for (index, (name, node)) in loop_outputs.iter().enumerate() {
            let column = if *node == fused.plan.program.result {
                result.clone()
            } else if let Some(extra) = fused.plan.extra_outputs.iter().position(|extra| extra == node) {
                extras[extra].clone()
            } else {
                let single =
                    crate::passes::eliminate_dead_nodes::run(&fused.plan.program.select_output(index));
                self.run_program(&single, &all, &nulls, rows)?
            };
            columns.push((name.clone(), column));
        }
        Ok(columns)
    }

    /// Runs an elementwise pass program through its fused loop, compiling it on first use.
    pub(super) fn run_program(
        &self,
        program: &ir::Program,
        all: &Bindings<'_>,
        nulls: &[String],
        rows: usize,
    ) -> Result<Column, Error> {
        let (fused, inputs) = self.compiled_program(program, all, nulls, rows)?;
        Ok(run_to_column(&fused, &inputs, rows))
    }

    /// The fused loop of an elementwise pass program (compiled on first use) and its inputs
    /// in slot order, checked.
    fn compiled_program<'b>(
        &self,
        program: &ir::Program,
        all: &Bindings<'b>,
        nulls: &[String],
        rows: usize,
    ) -> Result<(Arc<Fused>, Vec<Binding<'b>>), Error> {
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
        Ok((fused, inputs))
    }
}

/// The input a program merely passes on, if it is that.
fn bare_input(program: &ir::Program) -> Option<&str> {
    match program.node(program.result).kind {
        ir::NodeKind::Input { slot } => Some(&program.inputs[slot as usize].name),
        _ => None,
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

/// A scan written straight into caller-provided buffers (checked for type and room).
struct ScanInto<'o, 'b> {
    op: ir::ScanOp,
    elem: Elem,
    out: &'o mut ColumnMut<'b>,
}

impl RowsVisitor for ScanInto<'_, '_> {
    type Output = Result<EvalSummary, Error>;
    fn visit(self, rows: usize, get: impl Fn(usize) -> Option<f64>) -> Self::Output {
        let ScanInto { op, elem, out } = self;
        let output_error = |message: String| -> Error { EvalError::Output { message }.into() };
        let bytes = rows.div_ceil(8);
        if out.validity.len() < bytes {
            return Err(output_error(format!(
                "validity has {} bytes, the result needs {bytes}",
                out.validity.len()
            )));
        }
        // Rows' bits are set or cleared one at a time; bits past `rows` stay as they were.
        let validity = &mut *out.validity;
        let mut nulls = 0;
        let mut mark = |row: usize, valid: bool| {
            let bit = 1u8 << (row % 8);
            if valid {
                validity[row / 8] |= bit;
            } else {
                validity[row / 8] &= !bit;
                nulls += 1;
            }
        };
        match (&mut out.values, elem) {
            (ValuesMut::F64(values), Elem::F64) if values.len() >= rows => {
                column_semantics::scan(op, rows, get, |row, value| {
                    mark(row, value.is_some());
                    values[row] = value.unwrap_or(0.0);
                });
            }
            (ValuesMut::F32(values), Elem::F32) if values.len() >= rows => {
                column_semantics::scan(op, rows, get, |row, value| {
                    mark(row, value.is_some());
                    values[row] = value.map_or(0.0, |value| value as f32);
                });
            }
            (values, _) => {
                let (found, room) = match values {
                    ValuesMut::F64(values) => (Elem::F64, values.len()),
                    ValuesMut::F32(values) => (Elem::F32, values.len()),
                    ValuesMut::Bool(values) => (Elem::Bool, values.len()),
                };
                return Err(output_error(if found != elem {
                    format!("values are {found}, the result is {elem}")
                } else {
                    format!("values hold {room} rows, the result has {rows}")
                }));
            }
        }
        Ok(EvalSummary { len: rows, null_count: nulls })
    }
}

/// A scan's result column, of element type `elem`, with a bitmap when any row is null.
fn scan_column(op: ir::ScanOp, elem: Elem, rows: usize, get: impl Fn(usize) -> Option<f64>) -> Column {
    let mut bitmap = vec![0u8; rows.div_ceil(8)];
    let mut nulls = 0;
    let values = match elem {
        Elem::F32 => {
            let mut values = vec![0.0f32; rows];
            column_semantics::scan(op, rows, get, |row, value| match value {
                Some(value) => {
                    bitmap[row / 8] |= 1 << (row % 8);
                    values[row] = value as f32;
                }
                None => nulls += 1,
            });
            ColumnValues::F32(values)
        }
        _ => {
            let mut values = vec![0.0f64; rows];
            column_semantics::scan(op, rows, get, |row, value| match value {
                Some(value) => {
                    bitmap[row / 8] |= 1 << (row % 8);
                    values[row] = value;
                }
                None => nulls += 1,
            });
            ColumnValues::F64(values)
        }
    };
    Column { values, validity: (nulls > 0).then_some(bitmap), null_count: nulls }
}

/// An output column a kernel fills: zeroed values (no value the kernel might skip is ever
/// uninitialised memory) and a bitmap when it can be null.
struct OutputBuffer {
    values: ColumnValues,
    bitmap: Vec<u8>,
    nullable: bool,
    len: usize,
}

impl OutputBuffer {
    fn new(elem: Elem, len: usize, nullable: bool) -> OutputBuffer {
        let values = match elem {
            Elem::F64 => ColumnValues::F64(vec![0.0; len]),
            Elem::F32 => ColumnValues::F32(vec![0.0; len]),
            Elem::Bool => ColumnValues::Bool(vec![false; len]),
        };
        OutputBuffer { values, bitmap: vec![0u8; if nullable { len.div_ceil(8) } else { 0 }], nullable, len }
    }

    fn target(&mut self) -> OutputTarget<'_> {
        let values = match &mut self.values {
            ColumnValues::F64(values) => values.as_mut_ptr().cast::<u8>(),
            ColumnValues::F32(values) => values.as_mut_ptr().cast::<u8>(),
            ColumnValues::Bool(values) => values.as_mut_ptr().cast::<u8>(),
        };
        OutputTarget { values, bitmap: &mut self.bitmap }
    }

    fn finish(self) -> Column {
        let null_count =
            if self.nullable { self.len - super::count_valid(&self.bitmap, self.len) } else { 0 };
        Column { values: self.values, validity: (null_count > 0).then_some(self.bitmap), null_count }
    }
}

/// Runs one fused loop into new columns: its result, and each of `plan.extra_outputs`.
pub(super) fn run_to_columns(fused: &Fused, inputs: &[Binding<'_>], rows: usize) -> (Column, Vec<Column>) {
    let plan = &fused.plan;
    let len = if codegen::result_is_scalar(plan) { 1 } else { rows };
    let mut result = OutputBuffer::new(plan.program.result_type().elem, len, plan.result_nullable());
    let mut extras: Vec<OutputBuffer> = plan
        .extra_outputs
        .iter()
        .map(|node| OutputBuffer::new(plan.program.node(*node).ty.elem, rows, plan.nullable[node.index()]))
        .collect();
    let mut targets: Vec<OutputTarget<'_>> = extras.iter_mut().map(OutputBuffer::target).collect();
    // SAFETY: the inputs were checked against the plan (`prepare` or `compiled_program`); the
    // result buffer holds `len` values of the result's type and `len` bits when nullable; one
    // target per extra output holds `rows` values of its node's type and `rows` bits when
    // that node is nullable.
    unsafe { fused.native.run(plan, inputs, rows, result.target(), &mut targets) };
    drop(targets);
    (result.finish(), extras.into_iter().map(OutputBuffer::finish).collect())
}

/// Runs one fused loop into a new column (its result).
pub(super) fn run_to_column(fused: &Fused, inputs: &[Binding<'_>], rows: usize) -> Column {
    run_to_columns(fused, inputs, rows).0
}
