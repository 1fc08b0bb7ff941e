//! Running a compiled kernel: `NativeKernel` (the code, the plan it was compiled from, and
//! the module it frees on drop), the argument block it fills by `ArgLayout` for one range of
//! rows, and the per-thread scratch its block buffers live in.

use super::layout::{self, ArgLayout, BufferWord, ExtraOutputWord, InputWord, ScanRecord};
use crate::column::Binding;
use crate::ir::column_semantics::{CHUNK_ROWS, ReducePartial, ReduceState, ScanState};
use crate::passes::fuse_loops::{BLOCK_ROWS, Buffer, LONG_HALO_ROWS, LoopPlan, long_halo_segment};
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
    /// Check after each call that the code wrote nothing past its scratch buffers (a canary
    /// word after each region): set when the compiler verifies its code (tests).
    check_scratch: bool,
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

/// Where a native kernel writes one output: addresses only, so that threads running
/// disjoint row ranges of one kernel can each hold a copy. What may be written through them
/// is [`NativeKernel::run`]'s contract.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutputTarget {
    /// Room for the output's values (of the node's element type).
    pub(crate) values: *mut u8,
    /// Room for its validity bits (LSB-first, offset 0), `bitmap_len` bytes; unused (and may
    /// be dangling) when the output cannot be null.
    pub(crate) bitmap: *mut u8,
    pub(crate) bitmap_len: usize,
}

// SAFETY: an `OutputTarget` is two addresses and a length; it dereferences nothing itself.
// Whoever writes through it from several threads (`run` over disjoint row ranges whose
// edges are multiples of 64 rows, so no two threads touch one value or one bitmap byte)
// holds the exclusive borrow of the memory for the whole parallel run.
unsafe impl Send for OutputTarget {}
// SAFETY: as for `Send`: shared references to it give only the addresses.
unsafe impl Sync for OutputTarget {}

impl OutputTarget {
    /// A target over `values` (a typed column's buffer as bytes) and `bitmap`.
    pub(crate) fn new(values: *mut u8, bitmap: &mut [u8]) -> OutputTarget {
        OutputTarget { values, bitmap: bitmap.as_mut_ptr(), bitmap_len: bitmap.len() }
    }
}

/// The rows one kernel call runs: a warm-up `[warm_from, first)` whose results are dropped
/// (it fills lag halos and scan states with the real rows before `first`), then
/// `[first, last)`, written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowRange {
    pub(crate) warm_from: usize,
    pub(crate) first: usize,
    pub(crate) last: usize,
}

impl RowRange {
    /// Every row of a column of `rows` rows.
    pub(crate) fn whole(rows: usize) -> RowRange {
        RowRange { warm_from: 0, first: 0, last: rows }
    }
}

/// Per-thread memory a kernel call needs, reused across calls so that evaluation allocates
/// nothing once warmed up: the argument block, and the block buffers.
#[derive(Default)]
struct Scratch {
    words: Vec<u64>,
    buffers: Vec<u64>,
}

thread_local! {
    // Each thread that runs kernels keeps one: the callers' threads and the evaluation
    // pool's workers (a fixed set), each at most `MAX_RETAINED_SCRATCH_WORDS` between calls.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl NativeKernel {
    pub(super) fn new(
        plan: LoopPlan,
        module: JITModule,
        entry: unsafe extern "C" fn(*const u64),
        clif: Option<String>,
        asm: Option<String>,
        check_scratch: bool,
    ) -> NativeKernel {
        NativeKernel { plan, module: Mutex::new(Some(module)), entry, clif, asm, check_scratch }
    }

    /// Whether its runs are checked (tests, the fuzzer): no write past its scratch, and, by
    /// the engine, every result row written.
    pub(crate) fn checks_writes(&self) -> bool {
        self.check_scratch
    }

    /// The plan this kernel runs.
    pub(crate) fn plan(&self) -> &LoopPlan {
        &self.plan
    }

    /// Runs the kernel over rows `range` of `inputs` (in slot order, columns of `rows` rows),
    /// writing the result's rows `[range.first, range.last)` (or its one value, for a scalar
    /// result, whose range must be the whole column).
    ///
    /// # Safety
    /// The caller has checked, for [`NativeKernel::plan`], that every input binding has the
    /// planned type, that every column has `rows` values, that a column's validity is present
    /// exactly when the plan says so and covers `offset + rows` bits, and that `out.values`
    /// has room for `len` values of the result's element type (`rows`, or 1 for a scalar
    /// result). `extra_outputs` holds one target per `plan.extra_outputs` node, each with
    /// room for `rows` values of that node's type. No other thread reads or writes the rows
    /// `[range.first, range.last)` of any output during the call, nor (for the bitmaps) their
    /// bytes: ranges run at once must be disjoint with edges on multiples of 64 rows.
    ///
    /// `carries` is empty, or holds one entry per `plan.scans` entry: `Some(value)` for a
    /// `cummax`/`cummin` whose running extreme starts at `value` (the reduction of every row
    /// before `range.warm_from`; see `ScanState::carry_in`).
    pub(crate) unsafe fn run(
        &self,
        inputs: &[Binding<'_>],
        rows: usize,
        range: RowRange,
        out: OutputTarget,
        extra_outputs: &[OutputTarget],
        carries: &[Option<Option<Scalar>>],
    ) {
        let plan = &self.plan;
        let len = if super::result_is_scalar(plan) {
            assert_eq!(range, RowRange::whole(rows), "run: a scalar result is computed once");
            1
        } else {
            rows
        };
        self.assert_output_targets(rows, len, out, extra_outputs);
        assert!(carries.is_empty() || carries.len() == plan.scans.len(), "run: a carry per scan");
        // SAFETY: forwarded from the caller; no reduction state, so `call` asserts the plan
        // does not reduce.
        unsafe {
            self.call(inputs, rows, range, (out, extra_outputs), CallStates { carries, ..CallStates::NONE })
        }
    }

    /// [`NativeKernel::run`] for a plan whose scans the kernel records
    /// (`LoopPlan::recorded_scans`), with their records (`layout::SCAN_RECORDS`;
    /// [`ScanRecord::total_words`] words): when
    /// the mode word is 0 the kernel writes each scan's state at `range.first` into the entry
    /// words, when it is 1 it starts each scan there from them; either way it writes each
    /// scan's state after `range.last − 1` into the exit words. `range` must hold a written
    /// row (`first < last`) for the entry words to be read or written.
    ///
    /// # Safety
    /// As [`NativeKernel::run`].
    pub(crate) unsafe fn run_with_scan_records(
        &self,
        (inputs, rows): (&[Binding<'_>], usize),
        range: RowRange,
        (out, extra_outputs): (OutputTarget, &[OutputTarget]),
        records: &mut [u64],
    ) {
        let plan = &self.plan;
        assert!(!super::result_is_scalar(plan), "run: recorded scans feed a column result");
        self.assert_output_targets(rows, rows, out, extra_outputs);
        assert_eq!(
            records.len(),
            ScanRecord::total_words(plan.recorded_scans()),
            "run: one record per recorded scan"
        );
        let states = CallStates { scan_records: Some(records), ..CallStates::NONE };
        // SAFETY: forwarded from the caller; `records` has a record per recorded scan, which
        // is all the kernel reads or writes through it, and is borrowed mutably for the call.
        unsafe { self.call(inputs, rows, range, (out, extra_outputs), states) }
    }

    /// The cheap contracts on a run's outputs: one target per extra output, the result's
    /// bitmap covering its `len` values and each extra output's its `rows`, where they can be
    /// null.
    fn assert_output_targets(
        &self,
        rows: usize,
        len: usize,
        out: OutputTarget,
        extra_outputs: &[OutputTarget],
    ) {
        let plan = &self.plan;
        assert_eq!(extra_outputs.len(), plan.extra_outputs.len(), "run: one target per extra output");
        if plan.result_nullable() {
            assert!(out.bitmap_len >= len.div_ceil(8), "run: the result bitmap covers every row");
        }
        for (target, &node) in extra_outputs.iter().zip(&plan.extra_outputs) {
            if plan.nullable[node.index()] {
                assert!(target.bitmap_len >= rows.div_ceil(8), "run: an output bitmap covers every row");
            }
        }
    }

    /// Runs a `plan_reduction` plan over rows `range`: its result feeds its reductions block
    /// by block (rows from `range.first`, a multiple of 64) and is written nowhere. Returns
    /// what the range contributes, to be absorbed in row order ([`ReduceState::absorb`]).
    ///
    /// # Safety
    /// As [`NativeKernel::run`] for the inputs.
    pub(crate) unsafe fn run_reduction(
        &self,
        inputs: &[Binding<'_>],
        rows: usize,
        range: RowRange,
    ) -> ReducePartial {
        let plan = &self.plan;
        // `call` asserts that the plan reduces (a state is passed exactly for such a plan).
        assert!(plan.extra_outputs.is_empty(), "run_reduction: a reducing plan writes no output");
        assert!(range.first.is_multiple_of(CHUNK_ROWS), "run_reduction: ranges start at whole chunks");
        let elem = plan.program.result_type().elem;
        let mut reduce = ReduceState::new(&plan.reduce_result, elem);
        reduce.resume_at(range.first);
        let mut state = ReduceCallState { reduce, elem };
        let out = OutputTarget { values: std::ptr::null_mut(), bitmap: std::ptr::null_mut(), bitmap_len: 0 };
        // SAFETY: forwarded from the caller; a reducing plan never writes `out` (it has no
        // result stage write and no extra outputs), and `state` outlives the call.
        unsafe {
            self.call(
                inputs,
                rows,
                range,
                (out, &[]),
                CallStates { reduce: Some(&mut state), ..CallStates::NONE },
            )
        };
        state.reduce.into_partial()
    }

    /// # Safety
    /// As [`NativeKernel::run`]; `reduce` is present exactly when the plan reduces its result;
    /// `scan_records`, when present, holds a record per recorded scan.
    unsafe fn call(
        &self,
        inputs: &[Binding<'_>],
        rows: usize,
        range: RowRange,
        (out, extra_outputs): (OutputTarget, &[OutputTarget]),
        CallStates { carries, reduce, scan_records }: CallStates<'_>,
    ) {
        let plan = &self.plan;
        assert_eq!(inputs.len(), plan.program.inputs.len(), "one binding per input slot");
        assert!(
            range.warm_from <= range.first && range.first <= range.last && range.last <= rows,
            "call: a range within the column"
        );
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
            // scans); the kernel carries it from block to block. A range that starts later
            // resumes it where its warm-up starts.
            // (A loop, not a `collect`: most plans have no scan, and then this is free.)
            let mut scan_states: Vec<ScanCallState> = Vec::new();
            for (index, (node, op)) in plan.scans.iter().enumerate() {
                let elem = plan.program.node(*node).ty.elem;
                let mut scan = ScanState::new(*op, elem);
                scan.resume_at(range.warm_from);
                if let Some(Some(carry)) = carries.get(index) {
                    scan.carry_in(*carry);
                }
                scan_states.push(ScanCallState { scan, elem });
            }
            for (index, state) in scan_states.iter_mut().enumerate() {
                words[layout.scan_state(index)] = std::ptr::from_mut(state) as u64;
            }
            for (index, extra) in extra_outputs.iter().enumerate().take(plan.extra_outputs.len()) {
                words[layout.extra_output(index, ExtraOutputWord::Values)] = extra.values as u64;
                words[layout.extra_output(index, ExtraOutputWord::Bitmap)] = extra.bitmap as u64;
            }
            if let Some(records) = scan_records {
                words[layout::SCAN_RECORDS] = records.as_mut_ptr() as u64;
            }
            words[layout::ROWS] = range.last as u64;
            words[layout::FIRST_ROW] = range.warm_from as u64;
            words[layout::WRITE_FROM] = range.first as u64;
            words[layout::OUT_VALUES] = out.values as u64;
            words[layout::OUT_BITMAP] = out.bitmap as u64;
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
                        words[layout.input(slot, InputWord::Validity)] = 1;
                    }
                    Binding::NullScalar(_) => {
                        words[layout.input(slot, InputWord::Scalar)] = 0;
                        words[layout.input(slot, InputWord::Validity)] = 0;
                    }
                }
            }
            let total = scratch_words(plan, range.last);
            if buffers.len() < total {
                buffers.resize(total, 0);
            }
            let base = buffers.as_mut_ptr();
            words[layout::OUT_VALID_BLOCK] = base as u64;
            // SAFETY: `DISCARD_WORDS` words follow the validity block within `total`.
            words[layout::DISCARD] = unsafe { base.add(BLOCK_ROWS.div_ceil(8)) } as u64;
            let mut next = BLOCK_ROWS.div_ceil(8) + DISCARD_WORDS;
            let mut canaries = Vec::new();
            for (index, buffer) in plan.buffers.iter().enumerate() {
                let (halo, values, validity) = buffer_region(plan, buffer, range.last);
                // Each region is followed by a canary word (`scratch_words` counts them).
                // SAFETY: `next + values + validity + 2 <= total`, all within the scratch just
                // sized.
                let (values_ptr, validity_ptr) = unsafe { (base.add(next), base.add(next + values + 1)) };
                if self.check_scratch {
                    for canary in [next + values, next + values + 1 + validity] {
                        buffers[canary] = SCRATCH_CANARY;
                        canaries.push((index, canary));
                    }
                }
                next += values + validity + 2;
                words[layout.buffer(index, BufferWord::Values)] = values_ptr as u64;
                words[layout.buffer(index, BufferWord::Validity)] = validity_ptr as u64;
                words[layout.buffer(index, BufferWord::Halo)] = halo as u64;
            }
            // SAFETY: the caller guarantees inputs and outputs match the plan and that no
            // other thread touches the rows written; the scratch regions are sized for
            // `halo + BLOCK_ROWS` rows each and the discard block for `BLOCK_ROWS` values,
            // which is all the code touches; the code lives as long as `self`.
            unsafe { (self.entry)(words.as_ptr()) };
            for (index, canary) in canaries {
                // A bug in the generated code, found by tests (`check_scratch`), never by input.
                assert_eq!(buffers[canary], SCRATCH_CANARY, "the kernel wrote past buffer {index}'s scratch");
            }
            // A long lag over a huge column can need a large halo; do not keep that much
            // memory per thread after the call.
            if buffers.len() > MAX_RETAINED_SCRATCH_WORDS {
                *buffers = Vec::new();
            }
        });
    }
}

/// The states one kernel call starts from or writes, besides its rows: the carries of its
/// `cummax`/`cummin` scans (empty, or one per `plan.scans` entry), its reduction's state
/// (exactly for a reducing plan) and its recorded scans' records.
struct CallStates<'a> {
    carries: &'a [Option<Option<Scalar>>],
    reduce: Option<&'a mut ReduceCallState>,
    scan_records: Option<&'a mut [u64]>,
}

impl CallStates<'_> {
    const NONE: CallStates<'static> = CallStates { carries: &[], reduce: None, scan_records: None };
}

/// The warm-up blocks' results: one block of values of up to 8 bytes.
pub(super) const DISCARD_WORDS: usize = BLOCK_ROWS;

/// One buffer's scratch for a call over `rows` rows: the halo actually used
/// (`min(planned halo, rows)`), then the words of its values and of its validity bytes, each
/// `halo + BLOCK_ROWS` rows, or `halo + long_halo_segment(halo)` for a long halo (validity
/// only if the buffer can be null).
pub(super) fn buffer_region(plan: &LoopPlan, buffer: &Buffer, rows: usize) -> (usize, usize, usize) {
    let halo = (buffer.halo as usize).min(rows);
    let elem = plan.program.node(buffer.node).ty.elem;
    // A long halo is followed by a segment of rows that fills block by block (the kernel
    // moves the halo back only when the next block would not fit); a short one by one block.
    let after = if buffer.halo > LONG_HALO_ROWS { long_halo_segment(halo) } else { BLOCK_ROWS };
    let values = ((halo + after) * element_size(elem)).div_ceil(8);
    let validity = if buffer.nullable { (halo + after).div_ceil(8) } else { 0 };
    (halo, values, validity)
}

/// The scratch a call needs, in u64 words (8-byte aligned regions): one validity byte per
/// block row for the result first, then each buffer's region ([`buffer_region`]), its values
/// and its validity each followed by a canary word.
pub(super) fn scratch_words(plan: &LoopPlan, rows: usize) -> usize {
    BLOCK_ROWS.div_ceil(8)
        + DISCARD_WORDS
        + plan
            .buffers
            .iter()
            .map(|buffer| {
                let (_, values, validity) = buffer_region(plan, buffer, rows);
                values + validity + 2
            })
            .sum::<usize>()
}

/// The word after each scratch region, checked after a call when `check_scratch` is set.
const SCRATCH_CANARY: u64 = 0xfeed_f00d_dead_beef;

/// Scratch above this many words (1 MiB) is freed after the call instead of kept for reuse:
/// what a thread keeps between calls is bounded (a program's block buffers take 4 KiB each;
/// only very long lags need more, and then allocate per call).
const MAX_RETAINED_SCRATCH_WORDS: usize = 1 << 17;

pub(super) fn element_size(elem: Elem) -> usize {
    elem.size()
}
