//! Running a compiled kernel: `NativeKernel` (the code, the plan it was compiled from, and
//! the module it frees on drop), the argument block it fills by `ArgLayout`, and the
//! per-thread scratch its block buffers live in.

use super::layout::{self, ArgLayout, BufferWord, ExtraOutputWord, InputWord};
use crate::column::Binding;
use crate::ir::column_semantics::{ReduceState, ScanState};
use crate::passes::fuse_loops::{BLOCK_ROWS, Buffer, LoopPlan};
use crate::runtime::callbacks::{ReduceCallState, ScanCallState};
use crate::types::{Elem, Scalar};
use cranelift_jit::JITModule;
use std::sync::Mutex;

/// Compiled code for one loop plan, and the texts asked for.
pub(crate) struct NativeKernel {
    /// The plan the code was compiled from: the only plan it may run.
    plan: LoopPlan,
    /// Held only to free the code when the kernel is dropped; never used to compile again.
    module: Mutex<Option<JITModule>>,
    entry: unsafe extern "C" fn(*const u64),
    pub(crate) clif: Option<String>,
    pub(crate) asm: Option<String>,
}

impl std::fmt::Debug for NativeKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeKernel").field("entry", &(self.entry as *const u8)).finish_non_exhaustive()
    }
}

impl Drop for NativeKernel {
    fn drop(&mut self) {
        let module = self.module.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(module) = module {
            // SAFETY: the kernel is being dropped, so no thread is executing its code (every
            // call borrows the kernel) and its entry pointer is never called again.
            unsafe { module.free_memory() };
        }
    }
}

/// Where a native kernel writes its result.
pub(crate) struct OutputTarget<'a> {
    /// Room for at least `len` values of the result's element type.
    pub(crate) values: *mut u8,
    /// Room for at least `len.div_ceil(8)` bytes.
    pub(crate) bitmap: &'a mut [u8],
}

/// Per-thread memory a kernel call needs, reused across calls so that evaluation allocates
/// nothing once warmed up: the argument block, and the block buffers.
#[derive(Default)]
struct Scratch {
    words: Vec<u64>,
    buffers: Vec<u64>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl NativeKernel {
    pub(super) fn new(
        plan: LoopPlan,
        module: JITModule,
        entry: unsafe extern "C" fn(*const u64),
        clif: Option<String>,
        asm: Option<String>,
    ) -> NativeKernel {
        NativeKernel { plan, module: Mutex::new(Some(module)), entry, clif, asm }
    }

    /// The plan this kernel runs.
    pub(crate) fn plan(&self) -> &LoopPlan {
        &self.plan
    }

    /// Runs the kernel over `inputs` (in slot order) with `rows` rows, writing `len` results
    /// (`rows`, or 1 for a scalar result).
    ///
    /// # Safety
    /// The caller has checked, for [`NativeKernel::plan`], that every input binding has the
    /// planned type, that every column has `rows` values, that a column's validity is present
    /// exactly when the plan says so and covers `offset + rows` bits, and that `out.values`
    /// has room for `len` values of the result's element type. `extra_outputs` holds one
    /// target per `plan.extra_outputs` node, each with room for `rows` values of that node's
    /// type and, when the node is nullable, `rows` bits.
    pub(crate) unsafe fn run(
        &self,
        inputs: &[Binding<'_>],
        rows: usize,
        out: OutputTarget<'_>,
        extra_outputs: &mut [OutputTarget<'_>],
    ) {
        let plan = &self.plan;
        assert_eq!(extra_outputs.len(), plan.extra_outputs.len(), "run: one target per extra output");
        let len = if super::result_is_scalar(plan) { 1 } else { rows };
        if plan.result_nullable() {
            assert!(out.bitmap.len() >= len.div_ceil(8), "run: the result bitmap covers every row");
        }
        for (target, &node) in extra_outputs.iter().zip(&plan.extra_outputs) {
            if plan.nullable[node.index()] {
                assert!(target.bitmap.len() >= rows.div_ceil(8), "run: an output bitmap covers every row");
            }
        }
        // SAFETY: forwarded from the caller; no reduction state, so `call` asserts the plan
        // does not reduce.
        unsafe { self.call(inputs, rows, out, extra_outputs, None) }
    }

    /// Runs a `plan_reduction` plan: its result feeds its reductions block by block and is
    /// written nowhere. Returns the reductions' values (`ReduceState::finish`).
    ///
    /// # Safety
    /// As [`NativeKernel::run`] for the inputs.
    pub(crate) unsafe fn run_reduction(&self, inputs: &[Binding<'_>], rows: usize) -> Vec<Option<Scalar>> {
        let plan = &self.plan;
        // `call` asserts that the plan reduces (a state is passed exactly for such a plan).
        assert!(plan.extra_outputs.is_empty(), "run_reduction: a reducing plan writes no output");
        let elem = plan.program.result_type().elem;
        let mut state = ReduceCallState { reduce: ReduceState::new(&plan.reduce_result, elem), elem };
        let out = OutputTarget { values: std::ptr::null_mut(), bitmap: &mut [] };
        // SAFETY: forwarded from the caller; a reducing plan never writes `out` (it has no
        // result stage write and no extra outputs), and `state` outlives the call.
        unsafe { self.call(inputs, rows, out, &mut [], Some(&mut state)) };
        state.reduce.finish(&plan.reduce_result, elem)
    }

    /// # Safety
    /// As [`NativeKernel::run`]; `reduce` is present exactly when the plan reduces its result.
    unsafe fn call(
        &self,
        inputs: &[Binding<'_>],
        rows: usize,
        out: OutputTarget<'_>,
        extra_outputs: &mut [OutputTarget<'_>],
        reduce: Option<&mut ReduceCallState>,
    ) {
        let plan = &self.plan;
        assert_eq!(inputs.len(), plan.program.inputs.len(), "one binding per input slot");
        let layout = ArgLayout::of(plan);
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let Scratch { words, buffers } = &mut *scratch;
            words.clear();
            words.resize(layout.total_words(), 0);
            assert_eq!(
                reduce.is_some(),
                !plan.reduce_result.is_empty(),
                "a reduction state exactly for a reducing plan"
            );
            if let Some(reduce) = reduce {
                words[layout.reduce_state()] = std::ptr::from_mut(reduce) as u64;
            }
            // Each scan's running state lives for this call (allocated only by programs with
            // scans); the kernel carries it from block to block.
            let mut scan_states: Vec<ScanCallState> = plan
                .scans
                .iter()
                .map(|(node, op)| ScanCallState {
                    scan: ScanState::new(*op, plan.program.node(*node).ty.elem),
                    elem: plan.program.node(*node).ty.elem,
                })
                .collect();
            for (index, state) in scan_states.iter_mut().enumerate() {
                words[layout.scan_state(index)] = std::ptr::from_mut(state) as u64;
            }
            for (index, extra) in extra_outputs.iter_mut().enumerate().take(plan.extra_outputs.len()) {
                words[layout.extra_output(index, ExtraOutputWord::Values)] = extra.values as u64;
                words[layout.extra_output(index, ExtraOutputWord::Bitmap)] = extra.bitmap.as_mut_ptr() as u64;
            }
            words[layout::ROWS] = rows as u64;
            words[layout::OUT_VALUES] = out.values as u64;
            words[layout::OUT_BITMAP] = out.bitmap.as_mut_ptr() as u64;
            for (slot, binding) in inputs.iter().enumerate() {
                match binding {
                    Binding::Column(column) => {
                        words[layout.input(slot, InputWord::Data)] = layout::column_address(column.data);
                        words[layout.input(slot, InputWord::DataBitOffset)] =
                            layout::column_bit_offset(column.data);
                        if let Some(validity) = column.validity {
                            words[layout.input(slot, InputWord::Validity)] = validity.bytes.as_ptr() as u64;
                            words[layout.input(slot, InputWord::Offset)] = validity.offset as u64;
                        }
                    }
                    Binding::Scalar(scalar) => {
                        words[layout.input(slot, InputWord::Scalar)] = layout::scalar_word(*scalar);
                    }
                }
            }
            let total = scratch_words(plan, rows);
            if buffers.len() < total {
                buffers.resize(total, 0);
            }
            let base = buffers.as_mut_ptr();
            words[layout::OUT_VALID_BLOCK] = base as u64;
            let mut next = BLOCK_ROWS.div_ceil(8);
            for (index, buffer) in plan.buffers.iter().enumerate() {
                let (halo, values, validity) = buffer_region(plan, buffer, rows);
                // SAFETY: `next + values + validity <= total`, all within the scratch just sized.
                let (values_ptr, validity_ptr) = unsafe { (base.add(next), base.add(next + values)) };
                next += values + validity;
                words[layout.buffer(index, BufferWord::Values)] = values_ptr as u64;
                words[layout.buffer(index, BufferWord::Validity)] = validity_ptr as u64;
                words[layout.buffer(index, BufferWord::Halo)] = halo as u64;
            }
            // SAFETY: the caller guarantees inputs and outputs match the plan; the scratch
            // regions are sized for `halo + BLOCK_ROWS` rows each, which is all the code
            // touches; the code lives as long as `self`.
            unsafe { (self.entry)(words.as_ptr()) };
            // A long lag over a huge column can need a large halo; do not keep that much
            // memory per thread after the call.
            if buffers.len() > MAX_RETAINED_SCRATCH_WORDS {
                *buffers = Vec::new();
            }
        });
    }
}

/// One buffer's scratch for a call over `rows` rows: the halo actually used
/// (`min(planned halo, rows)`), then the words of its values and of its validity bytes, each
/// `halo + BLOCK_ROWS` rows (validity only if the buffer can be null).
pub(super) fn buffer_region(plan: &LoopPlan, buffer: &Buffer, rows: usize) -> (usize, usize, usize) {
    let halo = (buffer.halo as usize).min(rows);
    let elem = plan.program.node(buffer.node).ty.elem;
    let values = ((halo + BLOCK_ROWS) * element_size(elem)).div_ceil(8);
    let validity = if buffer.nullable { (halo + BLOCK_ROWS).div_ceil(8) } else { 0 };
    (halo, values, validity)
}

/// The scratch a call needs, in u64 words (8-byte aligned regions): one validity byte per
/// block row for the result first, then each buffer's region ([`buffer_region`]).
pub(super) fn scratch_words(plan: &LoopPlan, rows: usize) -> usize {
    BLOCK_ROWS.div_ceil(8)
        + plan
            .buffers
            .iter()
            .map(|buffer| {
                let (_, values, validity) = buffer_region(plan, buffer, rows);
                values + validity
            })
            .sum::<usize>()
}

/// Scratch above this many words (32 MiB) is freed after the call instead of kept for reuse.
const MAX_RETAINED_SCRATCH_WORDS: usize = 4 << 20;

pub(super) fn element_size(elem: Elem) -> usize {
    elem.size()
}
