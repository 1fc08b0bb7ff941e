//! Running a multi-pass plan (`passes::split_passes`). Each step's reductions run over their
//! operand: in the operand's own fused loop, block by block (`plan_reduction`), or over an
//! input column where it lies. Either way `ir::column_semantics::ReduceState` computes them,
//! the very code the interpreter runs, in the same row order, so both give the same bits.
//! Last comes the fused loop of what remains, which may write several outputs.
//!
//! The loops are compiled on first use and kept in the specialisation's `Passes`, keyed by
//! their place in the plan and by whether any reduction so far came out null: when none did
//! (the usual case), the reductions are scalars that are never null; else every reduction
//! is a scalar that may be null, its validity a flag the loop reads (`Binding::NullScalar`
//! for the null ones), so one loop serves every pattern of null reductions — at most two
//! loops per place. Every other property of a pass program — its inputs' types and
//! bitmaps — is the specialisation's signature, so nothing is rebuilt or re-keyed per
//! evaluation.

use super::carried_scans::CarryPlan;
use super::parallel::{self, Parallelism};
use super::speculated_scans;
use super::{Bindings, Fused, Kernel, input_form};
use crate::codegen::{self, OutputTarget, RowRange};
use crate::column::{Binding, Column, ColumnData, ColumnRef, ColumnValues};
use crate::engine::{ColumnMut, EvalSummary};
use crate::error::{Error, EvalError};
use crate::ir::column_semantics::{ReducePartial, ReduceState};
use crate::ir::{self, Elem, column_semantics};
use crate::passes::fuse_loops::{self, InputForm};
use crate::passes::split_passes::PassPlan;
use crate::types::Scalar;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A program's passes and their loops, compiled on first use.
#[derive(Debug)]
pub(super) struct Passes {
    pub(super) plan: PassPlan,
    /// Each user input's layout in this specialisation's signature, by name.
    input_forms: Vec<(String, InputForm)>,
    loops: Mutex<HashMap<LoopKey, Option<Arc<Fused>>>>,
}

/// Which loop of a `Passes`: its place, and whether it reads reductions that may be null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct LoopKey {
    place: Place,
    /// Some reduction so far came out null: the loop reads every reduction's validity flag.
    nullable_reductions: bool,
}

/// A loop's place in a pass plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Place {
    /// Step `i`'s operand, feeding its reductions.
    Reducing(usize),
    /// Step `i`'s operand, written out (the operand is a lag of an input, which a loop does
    /// not compute, so it cannot feed reductions block by block).
    Operand(usize),
    /// The last program, writing its outputs.
    Last,
    /// Output `i` of the last program alone (one the last loop does not compute).
    Output(usize),
}

/// The results of the steps so far, in step order: `None` for a null reduction.
type Produced = Vec<(String, Option<Scalar>)>;

impl Passes {
    pub(super) fn new(plan: PassPlan, input_forms: Vec<(String, InputForm)>) -> Passes {
        Passes { plan, input_forms, loops: Mutex::new(HashMap::new()) }
    }

    /// How many loops are compiled and kept.
    pub(super) fn loop_count(&self) -> usize {
        self.loops.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// `ops` over an input column where it lies, split into row ranges on the pool.
fn reduce_binding(
    binding: &Binding<'_>,
    rows: usize,
    ops: &[ir::ReduceOp],
    parallelism: Parallelism,
) -> Vec<Option<Scalar>> {
    let column = match binding {
        Binding::Column(column) => column,
        Binding::Scalar(scalar) => {
            let value = *scalar;
            return column_semantics::reduce(ops, value.elem(), rows, move |_| Some(value));
        }
        Binding::NullScalar(elem) => return column_semantics::reduce(ops, *elem, rows, |_| None),
    };
    let ranges = parallelism.ranges(rows, Some(0), parallel::Cost::REDUCE_COLUMN);
    let partials = parallelism.run(&ranges, |range| reduce_column_range(column, range, ops));
    let elem = column.data.elem();
    let mut state = ReduceState::new(ops, elem);
    for partial in partials {
        state.absorb(partial);
    }
    state.finish(ops, elem)
}

/// What rows `range` of `column` contribute to `ops`, with a row accessor specialised to the
/// column's element type and validity, so the per-row work inlines.
pub(super) fn reduce_column_range(
    column: &ColumnRef<'_>,
    range: RowRange,
    ops: &[ir::ReduceOp],
) -> ReducePartial {
    let (first, len) = (range.first, range.last - range.first);
    let elem = column.data.elem();
    let valid = |i: usize| column.validity.is_none_or(|validity| validity.is_valid(first + i));
    let mut state = ReduceState::new(ops, elem);
    state.resume_at(first);
    match (&mut state, column.data, column.validity) {
        (ReduceState::Float(state), ColumnData::F64(values), None) => {
            state.feed_valid(&values[first..first + len])
        }
        (ReduceState::Float(state), ColumnData::F64(values), Some(validity)) => {
            state.feed_compacting(&values[first..first + len], |i| validity.word_at(first + i))
        }
        (ReduceState::Float(state), ColumnData::F32(values), None) => {
            state.feed_valid_f32(&values[first..first + len])
        }
        (ReduceState::Float(state), ColumnData::F32(values), _) => {
            state.feed(len, |i| valid(i).then(|| f64::from(values[first + i])))
        }
        (ReduceState::Float(state), ColumnData::Bool(values), _) => {
            state.feed(len, |i| valid(i).then(|| f64::from(u8::from(values[first + i]))))
        }
        (ReduceState::Float(state), ColumnData::PackedBool(bits), _) => {
            state.feed(len, |i| valid(i).then(|| f64::from(u8::from(bits.get(first + i) == Some(true)))))
        }
        (ReduceState::Integer(state), ColumnData::I64(values), None) => {
            state.feed_valid(&values[first..first + len])
        }
        (ReduceState::Integer(state), ColumnData::I32(values), None) => {
            state.feed_valid(&values[first..first + len])
        }
        (ReduceState::Integer(state), ColumnData::I64(values), _) => {
            state.feed(len, |i| valid(i).then(|| values[first + i]))
        }
        (ReduceState::Integer(state), ColumnData::I32(values), _) => {
            state.feed(len, |i| valid(i).then(|| i64::from(values[first + i])))
        }
        (ReduceState::Float(_), ColumnData::I64(_) | ColumnData::I32(_), _)
        | (
            ReduceState::Integer(_),
            ColumnData::F64(_) | ColumnData::F32(_) | ColumnData::Bool(_) | ColumnData::PackedBool(_),
            _,
        ) => {
            unreachable!("ReduceState::new picks the state for the column's element type")
        }
    }
    state.into_partial()
}

/// A pass program's input `name` of element type `elem`: a reduction's value from
/// `produced` (a null scalar when it came out null), else the user's binding.
fn input_binding<'b>(
    name: &str,
    elem: Elem,
    user: &Bindings<'b>,
    produced: &Produced,
) -> Result<Binding<'b>, Error> {
    if let Some((_, value)) = produced.iter().find(|(produced_name, _)| produced_name == name) {
        return Ok(value.map_or(Binding::NullScalar(elem), Binding::Scalar));
    }
    Ok(*user.get(name).ok_or_else(|| user.missing(name))?)
}

impl Kernel {
    /// The results of every step, in step order.
    fn run_steps(&self, passes: &Passes, user: &Bindings<'_>, rows: usize) -> Result<Produced, Error> {
        let mut produced: Produced = Vec::new();
        for (index, step) in passes.plan.steps.iter().enumerate() {
            let kinds: Vec<ir::ReduceOp> = step.reductions.iter().map(|(op, _, _)| *op).collect();
            let parallelism = self.parallelism;
            let values = match step.operand_input() {
                Some(name) => {
                    let elem = step.operand.result_type().elem;
                    reduce_binding(&input_binding(name, elem, user, &produced)?, rows, &kinds, parallelism)
                }
                None => {
                    let reducing =
                        self.pass_loop(passes, Place::Reducing(index), &step.operand, &produced, &kinds)?;
                    match reducing {
                        Some(fused) => {
                            let inputs = loop_inputs(&fused, user, &produced, rows)?;
                            // SAFETY: `loop_inputs` checked every input against the plan's
                            // program, and the plan reduces its result (`plan_reduction`).
                            unsafe { reduce_in_ranges(&fused, &inputs, rows, parallelism) }
                        }
                        // The operand is a lag of an input: write it out, then reduce it.
                        None => {
                            let fused =
                                self.writing_loop(passes, Place::Operand(index), &step.operand, &produced)?;
                            let inputs = loop_inputs(&fused, user, &produced, rows)?;
                            let column = run_to_column(&fused, &inputs, rows, parallelism, None);
                            reduce_binding(
                                &Binding::Column(column.as_column_ref()),
                                rows,
                                &kinds,
                                parallelism,
                            )
                        }
                    }
                }
            };
            produced.extend(
                step.reductions.iter().zip(values).map(|((_, name, _), value)| (name.clone(), value)),
            );
        }
        Ok(produced)
    }

    /// The passes, then the last loop's result as a new column.
    pub(super) fn eval_passes(
        &self,
        passes: &Passes,
        user: &Bindings<'_>,
        rows: usize,
    ) -> Result<Column, Error> {
        let produced = self.run_steps(passes, user, rows)?;
        let fused = self.writing_loop(passes, Place::Last, &passes.plan.last, &produced)?;
        let inputs = loop_inputs(&fused, user, &produced, rows)?;
        Ok(run_to_column(&fused, &inputs, rows, self.parallelism, None))
    }

    /// As `eval_passes`, with the last loop writing into the caller's buffers.
    pub(super) fn eval_passes_into(
        &self,
        passes: &Passes,
        user: &Bindings<'_>,
        rows: usize,
        out: &mut ColumnMut<'_>,
    ) -> Result<EvalSummary, Error> {
        let produced = self.run_steps(passes, user, rows)?;
        let fused = self.writing_loop(passes, Place::Last, &passes.plan.last, &produced)?;
        let inputs = loop_inputs(&fused, user, &produced, rows)?;
        super::run_fused_into(&fused, &inputs, rows, out, self.parallelism, None)
    }

    /// Every output of the last program: the passes once, then one fused loop that writes the
    /// result and every other output it computes; an output that is an input, a lag or a
    /// scalar runs as its own small program.
    pub(super) fn eval_all_outputs(
        &self,
        passes: &Passes,
        user: &Bindings<'_>,
        rows: usize,
    ) -> Result<Vec<(String, Column)>, Error> {
        let produced = self.run_steps(passes, user, rows)?;
        let fused = self.writing_loop(passes, Place::Last, &passes.plan.last, &produced)?;
        let parallelism = self.parallelism;
        let (result, extras) =
            run_to_columns(&fused, &loop_inputs(&fused, user, &produced, rows)?, rows, parallelism, None);
        // The loop's program may have had null reductions substituted: its outputs line up
        // with the last program's one for one.
        let program = &fused.plan().program;
        let mut columns = Vec::with_capacity(program.outputs.len());
        for (index, (name, node)) in program.outputs.iter().enumerate() {
            let column = if *node == program.result {
                result.clone()
            } else if let Some(extra) = fused.plan().extra_outputs.iter().position(|extra| extra == node) {
                extras[extra].clone()
            } else {
                let single = crate::passes::eliminate_dead_nodes::run(&program.select_output(index));
                let alone = self.writing_loop(passes, Place::Output(index), &single, &produced)?;
                run_to_column(&alone, &loop_inputs(&alone, user, &produced, rows)?, rows, parallelism, None)
            };
            columns.push((name.clone(), column));
        }
        Ok(columns)
    }

    /// The loop at `place` that writes `program`'s outputs.
    fn writing_loop(
        &self,
        passes: &Passes,
        place: Place,
        program: &ir::Program,
        produced: &Produced,
    ) -> Result<Arc<Fused>, Error> {
        // Without reductions to feed, every program has a loop plan.
        self.pass_loop(passes, place, program, produced, &[])?
            .ok_or_else(|| self.internal_error("no loop plan").into())
    }

    /// The loop at `place` for `program` — writing its outputs, or when `reduce` is not
    /// empty, feeding its result to those reductions (`None` if it cannot) — compiled on first
    /// use with never-null reductions, or with reductions that may be null when one of
    /// `produced` is.
    fn pass_loop(
        &self,
        passes: &Passes,
        place: Place,
        program: &ir::Program,
        produced: &Produced,
        reduce: &[ir::ReduceOp],
    ) -> Result<Option<Arc<Fused>>, Error> {
        let nullable_reductions = produced.iter().any(|(_, value)| value.is_none());
        let key = LoopKey { place, nullable_reductions };
        if let Some(found) = passes.loops.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(found.clone());
        }
        // The user's columns have the signature's layouts; a reduction is a scalar, read with
        // its validity flag when any may be null.
        let forms: Vec<InputForm> = program
            .inputs
            .iter()
            .map(|input| {
                let form = passes.input_forms.iter().find(|(name, _)| *name == input.name);
                form.map_or(InputForm { nullable: nullable_reductions, bit_packed: false }, |(_, form)| *form)
            })
            .collect();
        let plan = if reduce.is_empty() {
            Some(fuse_loops::plan(program, &forms))
        } else {
            fuse_loops::plan_reduction(program, &forms, reduce)
        };
        let fused = match plan {
            Some(plan) => {
                let native = self
                    .inner
                    .backend
                    .compile(plan, codegen::Listings::default())
                    .map_err(|error| self.internal_error(error))?;
                Some(Arc::new(native))
            }
            None => None,
        };
        // At most two keys per place, and the places are the plan's: the map stays small.
        passes.loops.lock().unwrap_or_else(PoisonError::into_inner).insert(key, fused.clone());
        Ok(fused)
    }
}

/// A loop's inputs in slot order, each checked against the loop's program.
fn loop_inputs<'b>(
    fused: &Fused,
    user: &Bindings<'b>,
    produced: &Produced,
    rows: usize,
) -> Result<Vec<Binding<'b>>, Error> {
    let mut inputs = Vec::with_capacity(fused.plan().program.inputs.len());
    for (slot, input) in fused.plan().program.inputs.iter().enumerate() {
        let binding = input_binding(&input.name, input.ty.elem, user, produced)?;
        crate::bindings::check_binding(&input.name, input.ty, &binding, rows)?;
        let form = fused.plan().input_forms[slot];
        // A valid scalar also fits a slot that may be null: the executor writes its flag as 1.
        let fits = input_form(&binding) == form || (matches!(binding, Binding::Scalar(_)) && form.nullable);
        if !fits {
            return Err(EvalError::Internal {
                message: format!("the layout of '{}' differs from the plan", input.name),
            }
            .into());
        }
        inputs.push(binding);
    }
    Ok(inputs)
}

/// An output column a kernel fills: values allocated but not zeroed, and a bitmap when it
/// can be null.
///
/// Not zeroed because a run writes every row (Architecture Invariant: a kernel writes every
/// result row of the range it runs, null rows included); zeroing cost as much as the loop
/// of a cheap program (a `memset` of the heap memory glibc reuses). When a kernel checks its
/// writes (tests, the fuzzer), `run_to_columns` runs it twice over buffers filled with two
/// different bytes and asserts that no row kept its filling in both.
struct OutputBuffer {
    values: ColumnValues,
    bitmap: Vec<u8>,
    nullable: bool,
    len: usize,
}

impl OutputBuffer {
    /// Room for `len` values, filled with `filling` bytes when given (to find the rows a run
    /// leaves unwritten), else left as the allocator gives it.
    fn new(elem: Elem, len: usize, nullable: bool, filling: Option<u8>) -> OutputBuffer {
        let values = match elem {
            Elem::F64 => ColumnValues::F64(Vec::with_capacity(len)),
            Elem::F32 => ColumnValues::F32(Vec::with_capacity(len)),
            Elem::I64 => ColumnValues::I64(Vec::with_capacity(len)),
            Elem::I32 => ColumnValues::I32(Vec::with_capacity(len)),
            Elem::Bool => ColumnValues::Bool(Vec::with_capacity(len)),
        };
        let bitmap = vec![0u8; if nullable { len.div_ceil(8) } else { 0 }];
        let mut buffer = OutputBuffer { values, bitmap, nullable, len };
        if let Some(byte) = filling {
            let (pointer, bytes) = buffer.allocation();
            // SAFETY: the allocation has room for `len` values, `bytes` bytes (`allocation`),
            // and nothing else refers to it yet.
            unsafe { pointer.write_bytes(byte, bytes) };
        }
        buffer
    }

    /// The values' allocation and the bytes of its `len` values.
    fn allocation(&mut self) -> (*mut u8, usize) {
        match &mut self.values {
            ColumnValues::F64(values) => (values.as_mut_ptr().cast::<u8>(), self.len * 8),
            ColumnValues::F32(values) => (values.as_mut_ptr().cast::<u8>(), self.len * 4),
            ColumnValues::I64(values) => (values.as_mut_ptr().cast::<u8>(), self.len * 8),
            ColumnValues::I32(values) => (values.as_mut_ptr().cast::<u8>(), self.len * 4),
            ColumnValues::Bool(values) => (values.as_mut_ptr().cast::<u8>(), self.len),
        }
    }

    fn target(&mut self) -> OutputTarget {
        let (values, _) = self.allocation();
        OutputTarget::new(values, &mut self.bitmap)
    }

    /// The first row that kept `filling` here and `other_filling` in `other`, the same output
    /// of a second run: a row neither run wrote. Both buffers were filled in `new`.
    fn unwritten_row(&mut self, filling: u8, other: &mut OutputBuffer, other_filling: u8) -> Option<usize> {
        let ((pointer, bytes), (other_pointer, _)) = (self.allocation(), other.allocation());
        let width = bytes.checked_div(self.len).unwrap_or(1);
        // SAFETY: each allocation's `bytes` bytes were all written, by `new`'s filling and then
        // by a run, and are read as plain bytes; the two buffers are distinct allocations.
        let (here, there) = unsafe {
            (std::slice::from_raw_parts(pointer, bytes), std::slice::from_raw_parts(other_pointer, bytes))
        };
        here.chunks(width).zip(there.chunks(width)).position(|(here, there)| {
            here.iter().all(|&byte| byte == filling) && there.iter().all(|&byte| byte == other_filling)
        })
    }

    /// The column, once a run has written every row.
    fn finish(mut self) -> Column {
        let len = self.len;
        // SAFETY: each allocation has room for `len` values (`new`), and the run `target`'s
        // pointer was given to wrote every one of them (the invariant above, asserted whenever
        // the kernel checks its writes), a bool as 0 or 1.
        unsafe {
            match &mut self.values {
                ColumnValues::F64(values) => values.set_len(len),
                ColumnValues::F32(values) => values.set_len(len),
                ColumnValues::I64(values) => values.set_len(len),
                ColumnValues::I32(values) => values.set_len(len),
                ColumnValues::Bool(values) => values.set_len(len),
            }
        }
        let null_count = if self.nullable { len - super::count_valid(&self.bitmap, len) } else { 0 };
        Column { values: self.values, validity: (null_count > 0).then_some(self.bitmap), null_count }
    }
}

/// Runs one fused loop into new columns: its result, and each of `plan.extra_outputs`.
pub(super) fn run_to_columns(
    fused: &Fused,
    inputs: &[Binding<'_>],
    rows: usize,
    parallelism: Parallelism,
    carry: Option<&CarryPlan>,
) -> (Column, Vec<Column>) {
    let plan = fused.plan();
    let len = if codegen::result_is_scalar(plan) { 1 } else { rows };
    let run = |filling: Option<u8>| {
        let mut result =
            OutputBuffer::new(plan.program.result_type().elem, len, plan.result_nullable(), filling);
        let mut extras: Vec<OutputBuffer> = plan
            .extra_outputs
            .iter()
            .map(|node| {
                OutputBuffer::new(
                    plan.program.node(*node).ty.elem,
                    rows,
                    plan.nullable[node.index()],
                    filling,
                )
            })
            .collect();
        let targets: Vec<OutputTarget> = extras.iter_mut().map(OutputBuffer::target).collect();
        // SAFETY: the inputs were checked against the plan (`prepare` or `loop_inputs`); the
        // result buffer holds `len` values of the result's type and `len` bits when nullable;
        // one target per extra output holds `rows` values of its node's type and `rows` bits
        // when that node is nullable; the buffers are borrowed mutably here until the run
        // returns.
        unsafe { run_in_ranges(fused, inputs, rows, result.target(), &targets, parallelism, carry) };
        (result, extras)
    };
    if !fused.checks_writes() {
        let (result, extras) = run(None);
        return (result.finish(), extras.into_iter().map(OutputBuffer::finish).collect());
    }
    const FILLING: u8 = 0xA5;
    const OTHER_FILLING: u8 = 0x5A;
    let (mut result, mut extras) = run(Some(FILLING));
    let (mut again, mut again_extras) = run(Some(OTHER_FILLING));
    // A bug in the generated code or a runtime stub, found by tests, never by input.
    assert_eq!(result.unwritten_row(FILLING, &mut again, OTHER_FILLING), None, "a result row left unwritten");
    for (index, (extra, again)) in extras.iter_mut().zip(&mut again_extras).enumerate() {
        assert_eq!(
            extra.unwritten_row(FILLING, again, OTHER_FILLING),
            None,
            "extra output {index}: a row left unwritten"
        );
    }
    (result.finish(), extras.into_iter().map(OutputBuffer::finish).collect())
}

/// Runs one fused loop into a new column (its result).
pub(super) fn run_to_column(
    fused: &Fused,
    inputs: &[Binding<'_>],
    rows: usize,
    parallelism: Parallelism,
    carry: Option<&CarryPlan>,
) -> Column {
    run_to_columns(fused, inputs, rows, parallelism, carry).0
}

/// Runs one fused loop over every row, split into ranges on the pool where the loop allows
/// (`parallel::warm_up`), or, for a loop whose carried state is `cummax`/`cummin`, in two
/// phases when `carry` is given (`carried_scans`).
///
/// # Safety
/// As [`Fused::run`] over the whole column, with `out` and `extra_outputs` exclusively the
/// caller's for the duration; `carry` was made for this loop's plan.
pub(super) unsafe fn run_in_ranges(
    fused: &Fused,
    inputs: &[Binding<'_>],
    rows: usize,
    out: OutputTarget,
    extra_outputs: &[OutputTarget],
    parallelism: Parallelism,
    carry: Option<&CarryPlan>,
) {
    let plan = fused.plan();
    let cost = parallelism.may_split(rows).then(|| parallel::Cost::of(plan));
    let Some(cost) = cost.filter(|cost| parallelism.splits(rows, *cost)) else {
        // The common short evaluation: no range list.
        // SAFETY: forwarded from the caller; one range, the whole column.
        unsafe { fused.run(inputs, rows, RowRange::whole(rows), out, extra_outputs, &[]) };
        return;
    };
    let warm_up = parallel::warm_up(&plan.program);
    if warm_up.is_none()
        && let Some(carry) = carry
    {
        let ranges = parallelism.ranges(rows, Some(0), cost);
        if ranges.len() > 1 {
            // SAFETY: forwarded from the caller.
            let carries = unsafe { carry.carries(inputs, rows, &ranges, parallelism) };
            parallelism.run(&ranges, |range| {
                let index = ranges.partition_point(|other| other.first < range.first);
                // SAFETY: as below; `carries[index]` holds one carry per scan of this plan.
                unsafe { fused.run(inputs, rows, range, out, extra_outputs, &carries[index]) }
            });
            return;
        }
    }
    if warm_up.is_none()
        && let Some(speculative_warm_up) = speculated_scans::warm_up(plan)
    {
        let ranges = parallelism.ranges(rows, Some(speculative_warm_up), cost);
        if ranges.len() > 1 {
            // SAFETY: forwarded from the caller; the ranges are disjoint with edges on 64-row
            // multiples (`Parallelism::ranges`).
            unsafe { speculated_scans::run(fused, inputs, rows, &ranges, out, extra_outputs, parallelism) };
            return;
        }
    }
    let ranges = parallelism.ranges(rows, warm_up, cost);
    parallelism.run(&ranges, |range| {
        // SAFETY: forwarded from the caller; the ranges are disjoint with edges on 64-row
        // multiples (`Parallelism::ranges`), so the runs write disjoint rows and bytes.
        unsafe { fused.run(inputs, rows, range, out, extra_outputs, &[]) }
    });
}

/// Runs a reducing loop (`plan_reduction`) over every row, split into ranges on the pool, and
/// absorbs the ranges' partial reductions in row order.
///
/// # Safety
/// As [`Fused::run_reduction`].
unsafe fn reduce_in_ranges(
    fused: &Fused,
    inputs: &[Binding<'_>],
    rows: usize,
    parallelism: Parallelism,
) -> Vec<Option<Scalar>> {
    let plan = fused.plan();
    let ranges = parallelism.ranges(rows, parallel::warm_up(&plan.program), parallel::Cost::of(plan));
    // SAFETY: forwarded from the caller.
    let partials = parallelism.run(&ranges, |range| unsafe { fused.run_reduction(inputs, rows, range) });
    let elem = plan.program.result_type().elem;
    let mut state = ReduceState::new(&plan.reduce_result, elem);
    for partial in partials {
        state.absorb(partial);
    }
    state.finish(&plan.reduce_result, elem)
}
