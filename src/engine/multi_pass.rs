//! Running a multi-pass plan (`passes::split_passes`). Each step's reductions run over their
//! operand: in the operand's own fused loop, block by block (`plan_reduction`), or over an
//! input column where it lies. Either way `ir::column_semantics::ReduceState` computes them,
//! the very code the interpreter runs, in the same row order, so both give the same bits.
//! Last comes the fused loop of what remains, which may write several outputs.

use super::{Bindings, Fused, Kernel, MAX_PASS_KERNELS, bindings, has_validity};
use crate::codegen::{self, OutputTarget};
use crate::column::{Binding, Column, ColumnData, ColumnValues, Scalar};
use crate::engine::{ColumnMut, EvalSummary};
use crate::error::{Error, EvalError};
use crate::interp::from_f64;
use crate::ir::{self, Elem, column_semantics};
use crate::passes::fuse_loops;
use crate::passes::split_passes::{self, PassPlan, Step, substitute_nulls};
use std::sync::{Arc, PoisonError};

/// The results of the steps so far, by input name: `None` for a null reduction (substituted
/// into later programs as a null constant, since scalar bindings cannot be null).
type Produced = Vec<(String, Option<Scalar>)>;

/// `ops` over an input column where it lies, with a row accessor specialised to the column's
/// element type and validity (values as `interp::as_f64` gives them), so the per-row work
/// inlines.
fn reduce_binding(binding: &Binding<'_>, rows: usize, ops: &[ir::ReduceOp]) -> Vec<Option<f64>> {
    let column = match binding {
        Binding::Column(column) => column,
        Binding::Scalar(scalar) => {
            let value = crate::interp::as_f64(Some(*scalar));
            return column_semantics::reduce(ops, rows, move |_| value);
        }
    };
    match (column.data, column.validity) {
        (ColumnData::F64(values), None) => column_semantics::reduce(ops, rows, |row| Some(values[row])),
        (ColumnData::F64(values), Some(validity)) => {
            column_semantics::reduce(ops, rows, move |row| validity.is_valid(row).then(|| values[row]))
        }
        (ColumnData::F32(values), validity) => column_semantics::reduce(ops, rows, move |row| {
            validity.is_none_or(|validity| validity.is_valid(row)).then(|| f64::from(values[row]))
        }),
        (ColumnData::Bool(values), validity) => column_semantics::reduce(ops, rows, move |row| {
            validity.is_none_or(|validity| validity.is_valid(row)).then(|| f64::from(u8::from(values[row])))
        }),
    }
}

impl Kernel {
    /// The results of every step of `passes`, by input name.
    fn run_steps(&self, steps: &[Step], user: &Bindings<'_>, rows: usize) -> Result<Produced, Error> {
        let mut produced: Produced = Vec::new();
        for step in steps {
            let kinds: Vec<ir::ReduceOp> = step.reductions.iter().map(|(op, _, _)| *op).collect();
            let all = combined(user, &produced);
            let nulls = null_names(&produced);
            let values = match step.operand_input() {
                Some(name) => {
                    let operand =
                        *all.get(name).ok_or_else(|| EvalError::MissingBinding { name: name.to_string() })?;
                    reduce_binding(&operand, rows, &kinds)
                }
                None => match self.reduce_in_loop(&step.operand, &all, &nulls, rows, &kinds)? {
                    Some(values) => values,
                    // The operand is a lag of an input: materialise it, then reduce.
                    None => {
                        let column = self.run_program(&step.operand, &all, &nulls, rows)?;
                        reduce_binding(&Binding::Column(column.as_column_ref()), rows, &kinds)
                    }
                },
            };
            let results: Produced = step
                .reductions
                .iter()
                .zip(values)
                .map(|((_, name, ty), value)| (name.clone(), value.map(|value| from_f64(ty.elem, value))))
                .collect();
            drop(all);
            produced.extend(results);
        }
        Ok(produced)
    }

    pub(super) fn eval_passes(
        &self,
        passes: &PassPlan,
        user: &Bindings<'_>,
        rows: usize,
    ) -> Result<Column, Error> {
        let produced = self.run_steps(&passes.steps, user, rows)?;
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
        let (fused, inputs) = self.compiled_loop(program, all, nulls, rows, &[])?;
        // Without reductions to feed, every program has a loop plan.
        let fused = fused.ok_or_else(|| self.internal_error("no loop plan".into()))?;
        Ok((fused, inputs))
    }

    /// Reduces `program`'s result by `ops` inside its fused loop, without writing the result;
    /// `None` when the result is not computed by the loop (the caller materialises it then).
    fn reduce_in_loop(
        &self,
        program: &ir::Program,
        all: &Bindings<'_>,
        nulls: &[String],
        rows: usize,
        ops: &[ir::ReduceOp],
    ) -> Result<Option<Vec<Option<f64>>>, Error> {
        let (fused, inputs) = self.compiled_loop(program, all, nulls, rows, ops)?;
        // SAFETY: `compiled_loop` checked every input against the program the plan was made
        // from, and the plan reduces its result (`plan_reduction`).
        Ok(fused.map(|fused| unsafe { fused.native.run_reduction(&fused.plan, &inputs, rows) }))
    }

    /// The fused loop of a pass program (compiled on first use), writing its result — or,
    /// when `reduce` is not empty, feeding it to those reductions (`None` if it cannot) — and
    /// the program's inputs in slot order, checked.
    fn compiled_loop<'b>(
        &self,
        program: &ir::Program,
        all: &Bindings<'b>,
        nulls: &[String],
        rows: usize,
        reduce: &[ir::ReduceOp],
    ) -> Result<(Option<Arc<Fused>>, Vec<Binding<'b>>), Error> {
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
        let reduce_names: Vec<String> = reduce.iter().map(|op| op.name()).collect();
        let key = (format!("reduce [{}]\n{}", reduce_names.join(", "), program.to_text()), validity);
        let found = self.inner.pass_kernels.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
        let fused = match found {
            Some(fused) => fused,
            None => {
                let plan = if reduce.is_empty() {
                    fuse_loops::plan(program, &key.1)
                } else {
                    match fuse_loops::plan_reduction(program, &key.1, reduce) {
                        Some(plan) => plan,
                        None => return Ok((None, inputs)),
                    }
                };
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
        Ok((Some(fused), inputs))
    }
}

/// The reductions that came out null, by input name.
fn null_names(produced: &Produced) -> Vec<String> {
    produced.iter().filter(|(_, value)| value.is_none()).map(|(name, _)| name.clone()).collect()
}

/// The user's bindings plus every result produced so far (null scalars left out: they are
/// substituted as constants).
fn combined<'a>(user: &Bindings<'a>, produced: &Produced) -> Bindings<'a> {
    let mut all = Bindings::new();
    for (name, binding) in user.iter() {
        all.bind(name, *binding);
    }
    for (name, value) in produced {
        if let Some(scalar) = value {
            all.scalar(name.clone(), *scalar);
        }
    }
    all
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
