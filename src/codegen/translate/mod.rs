//! The per-kernel translator: emits the CLIF of one loop plan.
//!
//! Shape of the generated function `fn(args: *const u64)`:
//! - prologue: load `n`, the pointers of every input, output and buffer, and compute every
//!   scalar node once (loop-invariant);
//! - the block loop: for each block of up to `BLOCK_ROWS` rows, run the plan's stages — fused
//!   row loops and block calls — then keep each lagged buffer's halo for the next block.
//!
//! Every value travels as a pair `(value, valid)`, `valid` an `i8` that is 0 or 1. Where the plan
//! says a node cannot be null, `valid` is the constant 1 and Cranelift folds it away. The row
//! semantics mirror `ir::semantics` operation for operation; the differential tests hold them
//! to the same bits.

use super::layout::{self, ArgLayout, BufferWord, InputWord, ScanRecord};
use super::runtime_functions::{RuntimeFunction, RuntimeRefs};
use crate::ir::{Elem, NodeId, NodeKind, ScanOp, Shape};
use crate::passes::fuse_loops::{LONG_HALO_ROWS, LoopPlan};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Value, types,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use std::collections::HashMap;

mod arithmetic;
mod calls;
mod scalar;
mod skeleton;
mod validity;
mod vector;

use scalar::float_cc;
use vector::{Lanes, VECTOR_GROUPS_PER_ITERATION};

pub(super) type Pair = (Value, Value);

pub(super) struct InputRegs {
    pub(super) data: Value,
    /// For a bit-packed bool column: the bit of row 0 (the values are bits from `data`).
    pub(super) data_bit_offset: Option<Value>,
    pub(super) validity: Option<(Value, Value)>,
}

pub(super) struct BufferRegs {
    pub(super) values: Value,
    pub(super) validity: Option<Value>,
    pub(super) halo: Value,
}

pub struct Translator<'p, 'b> {
    plan: &'p LoopPlan,
    builder: FunctionBuilder<'b>,
    stubs: RuntimeRefs,
    layout: ArgLayout,
    flags: MemFlagsData,
    args: Value,
    rows: Value,
    /// Output pointers, loaded once in the prologue (loads are not hoisted out of loops).
    out_values: Value,
    out_valid_block: Value,
    out_bitmap: Value,
    inputs: Vec<Option<InputRegs>>,
    buffers: Vec<BufferRegs>,
    scalars: HashMap<NodeId, Pair>,
    /// Where each scalar is kept, so each stage reloads it instead of keeping it live across
    /// the block calls (which clobber every float register and force spills inside loops).
    scalar_slots: Vec<(NodeId, StackSlot)>,
    /// Inside the block loop: the block's first row, and whether the block is written (not
    /// warm-up). `reload_invariants` points `out_values` at `DISCARD` for a warm-up block.
    block: Option<(Value, Value)>,
    /// Per buffer, for a long halo (`fuse_loops::LONG_HALO_ROWS`): the stack slot holding
    /// where the current block's rows start in the buffer (the halo's length, plus the rows
    /// of the blocks since the halo last moved). `BufferRegs::halo` is loaded from it.
    halo_cursors: Vec<Option<StackSlot>>,
    /// Per scan computed inside a row loop (`fuse_loops::is_inline_scan`): the stack slot
    /// holding its state between blocks — the last value (bytes 0..8), and whether a row has
    /// started it (byte 8) — and its `ema`'s α and 1 − α (bytes 16..32); while its loop is
    /// emitted, the variables carrying that state from row to row and the constants loaded
    /// before the rows (live only inside the loop, where no call clobbers registers).
    inline_scan_slots: HashMap<NodeId, StackSlot>,
    inline_scans: HashMap<NodeId, InlineScanRegs>,
    /// Where `reload_invariants` keeps a stage's output pointer (see there).
    out_values_slot: StackSlot,
    /// Whether the rows being emitted come after the inline scans' first row: their
    /// recurrence then needs no "started?" choice.
    inline_scans_started: bool,
    /// While a vector loop's block is emitted: the block-sized slot where each `where` with
    /// an arm that can be null stores its selected validity (`fuse_loops::SelectedValidity`),
    /// which `validity_sources` reads for the source `(node, 0)`. Empty elsewhere, where
    /// such a node's validity is its buffer's.
    selected_validity: HashMap<NodeId, StackSlot>,
    /// While a vector loop is emitted: the block-sized slot of 0/1 bytes each bit-packed
    /// bool column it reads (with its lag) was unpacked into (`VectorForm::packed_bools`).
    packed_bool_bytes: HashMap<(NodeId, u64), StackSlot>,
}

/// An inline scan's registers in its loop: the state's variables and its constants.
#[derive(Debug, Clone, Copy)]
pub(super) struct InlineScanRegs {
    pub(super) state: Variable,
    pub(super) started: Variable,
    /// α and 1 − α, loaded from the scan's slot before the rows: a float constant used in
    /// a loop is rematerialised at its use (two instructions each, every row) by Cranelift.
    pub(super) alpha: Value,
    pub(super) complement: Value,
}

pub(super) fn clif_type(elem: Elem) -> types::Type {
    match elem {
        Elem::F64 => types::F64,
        Elem::F32 => types::F32,
        Elem::I64 => types::I64,
        Elem::I32 => types::I32,
        Elem::Bool => types::I8,
    }
}

pub(super) fn elem_size(elem: Elem) -> i64 {
    elem.size() as i64
}

impl<'p, 'b> Translator<'p, 'b> {
    /// Emits the whole function into `builder` (whose function has the `(i64)` signature).
    pub fn translate(
        plan: &'p LoopPlan,
        mut builder: FunctionBuilder<'b>,
        stubs: RuntimeRefs,
        frontend_config: cranelift_codegen::isa::TargetFrontendConfig,
    ) {
        let entry = builder.create_block();
        builder.append_block_params_for_function_params(entry);
        builder.switch_to_block(entry);
        let args = builder.block_params(entry)[0];
        let flags = MemFlagsData::trusted();
        let rows = builder.ins().load(types::I64, flags, args, word(layout::ROWS));
        let out_values = builder.ins().load(types::I64, flags, args, word(layout::OUT_VALUES));
        let out_valid_block = builder.ins().load(types::I64, flags, args, word(layout::OUT_VALID_BLOCK));
        let out_bitmap = builder.ins().load(types::I64, flags, args, word(layout::OUT_BITMAP));
        let out_values_slot =
            builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 3));
        let mut translator = Translator {
            plan,
            builder,
            stubs,
            layout: ArgLayout::of(plan),
            flags,
            args,
            rows,
            out_values,
            out_valid_block,
            out_bitmap,
            inputs: Vec::new(),
            buffers: Vec::new(),
            scalars: HashMap::new(),
            scalar_slots: Vec::new(),
            block: None,
            halo_cursors: Vec::new(),
            inline_scan_slots: HashMap::new(),
            inline_scans: HashMap::new(),
            out_values_slot,
            inline_scans_started: false,
            selected_validity: HashMap::new(),
            packed_bool_bytes: HashMap::new(),
        };
        translator.create_halo_cursors();
        translator.start_inline_scans();
        translator.load_pointers();
        translator.compute_scalars();
        if plan.program.result_type().shape == Shape::Scalar {
            translator.write_scalar_result();
        } else {
            translator.block_loop();
            translator.record_scan_exits();
        }
        translator.builder.ins().return_(&[]);
        translator.builder.seal_all_blocks();
        translator.builder.finalize(frontend_config);
    }

    /// Each inline scan's state slot, before the first row: not started (its value unused).
    fn start_inline_scans(&mut self) {
        let plan = self.plan;
        for (id, op) in plan.inline_scans() {
            let ScanOp::Ema { alpha_bits } = op else {
                unreachable!("fuse_loops puts only an ema in a row loop")
            };
            let data = StackSlotData::new(StackSlotKind::ExplicitSlot, 32, 3);
            let slot = self.builder.create_sized_stack_slot(data);
            let zero = self.builder.ins().f64const(0.0);
            let no = self.builder.ins().iconst(types::I8, 0);
            self.builder.ins().stack_store(types::I64, zero, slot, 0);
            self.builder.ins().stack_store(types::I64, no, slot, 8);
            let alpha = f64::from_bits(alpha_bits);
            let (alpha, complement) =
                (self.builder.ins().f64const(alpha), self.builder.ins().f64const(1.0 - alpha));
            self.builder.ins().stack_store(types::I64, alpha, slot, 16);
            self.builder.ins().stack_store(types::I64, complement, slot, 24);
            self.inline_scan_slots.insert(id, slot);
        }
    }

    /// At the top of a block starting at `start`, for a plan whose scans the kernel records
    /// (`LoopPlan::recorded_scans`) and whose caller passed their records
    /// (`layout::SCAN_RECORDS`): at the first written row, record each scan's state there, or
    /// start each scan from the recorded state (a carry-in), as the records' mode says.
    fn sync_scan_records_at_write_from(&mut self, start: Value, write_from: Value) {
        if self.plan.recorded_scans() == 0 {
            return;
        }
        let records = self.arg(layout::SCAN_RECORDS);
        let at_write_from = self.builder.ins().icmp(IntCC::Equal, start, write_from);
        let passed = self.builder.ins().icmp_imm_u(IntCC::NotEqual, records, 0);
        let sync = self.builder.ins().band(at_write_from, passed);
        let (sync_block, merge) = (self.builder.create_block(), self.builder.create_block());
        self.builder.ins().brif(sync, sync_block, &[], merge, &[]);
        self.builder.switch_to_block(sync_block);
        let mode = self.builder.ins().load(types::I64, self.flags, records, word(layout::SCAN_RECORD_MODE));
        let (carry_in, record) = (self.builder.create_block(), self.builder.create_block());
        self.builder.ins().brif(mode, carry_in, &[], record, &[]);
        let slots = self.ordered_inline_scan_slots();
        self.builder.switch_to_block(carry_in);
        for (index, &slot) in slots.iter().enumerate() {
            let value_word = word(ScanRecord::EntryValue.word(index));
            let started_word = word(ScanRecord::EntryStarted.word(index));
            let value = self.builder.ins().load(types::F64, self.flags, records, value_word);
            let started = self.builder.ins().load(types::I64, self.flags, records, started_word);
            let started = self.builder.ins().icmp_imm_u(IntCC::NotEqual, started, 0);
            self.builder.ins().stack_store(types::I64, value, slot, 0);
            self.builder.ins().stack_store(types::I64, started, slot, 8);
        }
        self.record_runtime_scans(records, ScanRecord::EntryValue, true);
        self.builder.ins().jump(merge, &[]);
        self.builder.switch_to_block(record);
        self.record_inline_scans(records, ScanRecord::EntryValue, ScanRecord::EntryStarted);
        self.record_runtime_scans(records, ScanRecord::EntryValue, false);
        self.builder.ins().jump(merge, &[]);
        self.builder.switch_to_block(merge);
    }

    /// After the last row, for a caller that passed the records: each recorded scan's final
    /// state into them.
    fn record_scan_exits(&mut self) {
        if self.plan.recorded_scans() == 0 {
            return;
        }
        let records = self.arg(layout::SCAN_RECORDS);
        let passed = self.builder.ins().icmp_imm_u(IntCC::NotEqual, records, 0);
        let (record, merge) = (self.builder.create_block(), self.builder.create_block());
        self.builder.ins().brif(passed, record, &[], merge, &[]);
        self.builder.switch_to_block(record);
        self.record_inline_scans(records, ScanRecord::ExitValue, ScanRecord::ExitStarted);
        self.record_runtime_scans(records, ScanRecord::ExitValue, false);
        self.builder.ins().jump(merge, &[]);
        self.builder.switch_to_block(merge);
    }

    /// Each inline scan's state, from its slot into its `value` and `started` record words.
    fn record_inline_scans(&mut self, records: Value, value: ScanRecord, started: ScanRecord) {
        for (index, slot) in self.ordered_inline_scan_slots().into_iter().enumerate() {
            let state = self.builder.ins().stack_load(types::I64, types::F64, slot, 0);
            let is_started = self.builder.ins().stack_load(types::I64, types::I8, slot, 8);
            let is_started = self.builder.ins().uextend(types::I64, is_started);
            self.builder.ins().store(self.flags, state, records, word(value.word(index)));
            self.builder.ins().store(self.flags, is_started, records, word(started.word(index)));
        }
    }

    /// Each runtime scan's state (every one an `ema`: `LoopPlan::records_runtime_scans`) into
    /// its `value` record words and the next, or, for a carry-in, from them, through
    /// `fusejit_record_scan_state`. Their records follow the inline scans'.
    fn record_runtime_scans(&mut self, records: Value, value: ScanRecord, carry_in: bool) {
        if !self.plan.records_runtime_scans() {
            return;
        }
        let inline = self.plan.inline_scans().count();
        let stub = self.stub(RuntimeFunction::RecordScanState);
        let carry_in = self.builder.ins().iconst(types::I64, i64::from(carry_in));
        for index in 0..self.plan.scans.len() {
            let state = self.arg(self.layout.scan_state(index));
            let offset = i64::from(word(value.word(inline + index)));
            let record = self.builder.ins().iadd_imm_s(records, offset);
            self.builder.ins().call(stub, &[state, record, carry_in]);
        }
    }

    /// The inline scans' state slots in `LoopPlan::inline_scans` order (their records').
    fn ordered_inline_scan_slots(&self) -> Vec<StackSlot> {
        self.plan.inline_scans().map(|(id, _)| self.inline_scan_slots[&id]).collect()
    }

    /// Before a loop's rows: its inline scans' states from their slots into variables.
    /// Returns, when the loop has inline scans, whether they are not started yet (i8 0/1).
    fn load_inline_scans(&mut self, nodes: &[NodeId]) -> Option<Value> {
        self.inline_scans.clear();
        let mut not_started = None;
        for id in nodes {
            let Some(&slot) = self.inline_scan_slots.get(id) else { continue };
            let (value, started) =
                (self.builder.declare_var(types::F64), self.builder.declare_var(types::I8));
            let loaded = self.builder.ins().stack_load(types::I64, types::F64, slot, 0);
            self.builder.def_var(value, loaded);
            let loaded = self.builder.ins().stack_load(types::I64, types::I8, slot, 8);
            self.builder.def_var(started, loaded);
            let alpha = self.builder.ins().stack_load(types::I64, types::F64, slot, 16);
            let complement = self.builder.ins().stack_load(types::I64, types::F64, slot, 24);
            self.inline_scans.insert(*id, InlineScanRegs { state: value, started, alpha, complement });
            // Any inline scan not started puts the block on the rows that test it.
            let this_not_started =
                self.builder.ins().icmp_imm_u(cranelift_codegen::ir::condcodes::IntCC::Equal, loaded, 0);
            not_started = Some(match not_started {
                Some(others) => self.builder.ins().bor(others, this_not_started),
                None => this_not_started,
            });
        }
        not_started
    }

    /// After a loop's rows: its inline scans' states back into their slots.
    fn store_inline_scans(&mut self) {
        let scans: Vec<(NodeId, InlineScanRegs)> = self.inline_scans.drain().collect();
        for (id, InlineScanRegs { state: value, started, .. }) in scans {
            let slot = self.inline_scan_slots[&id];
            let value = self.builder.use_var(value);
            self.builder.ins().stack_store(types::I64, value, slot, 0);
            let started = self.builder.use_var(started);
            self.builder.ins().stack_store(types::I64, started, slot, 8);
        }
    }

    fn arg(&mut self, index: usize) -> Value {
        self.builder.ins().load(types::I64, self.flags, self.args, word(index))
    }

    /// Loads every loop-invariant value a stage uses, at the start of the stage: pointers from
    /// the argument block, scalars from their stack slots. Each is then live only within the
    /// stage's row loop, where there is no call, so it stays in a register.
    fn reload_invariants(&mut self) {
        self.out_values = self.arg(layout::OUT_VALUES);
        if let Some((start, writing)) = self.block {
            // A warm-up block's results land in `DISCARD`, addressed by absolute row like the
            // output: `discard − start·size + row·size` for rows `start..start + BLOCK_ROWS`.
            let size = elem_size(self.plan.program.result_type().elem);
            let discard = self.arg(layout::DISCARD);
            let bias = self.builder.ins().imul_imm_s(start, size);
            let discard = self.builder.ins().isub(discard, bias);
            let out_values = self.builder.ins().select(writing, self.out_values, discard);
            // Through a stack slot: Cranelift rematerialises the shift by a constant at each
            // use, which pulls the subtraction and the select after it into the row loops
            // (six instructions a row in a scalar loop); a loaded value is computed once.
            self.builder.ins().stack_store(types::I64, out_values, self.out_values_slot, 0);
            self.out_values = self.builder.ins().stack_load(types::I64, types::I64, self.out_values_slot, 0);
        }
        self.out_valid_block = self.arg(layout::OUT_VALID_BLOCK);
        self.out_bitmap = self.arg(layout::OUT_BITMAP);
        self.load_pointers();
        for index in 0..self.scalar_slots.len() {
            let (id, slot) = self.scalar_slots[index];
            let ty = clif_type(self.plan.program.node(id).ty.elem);
            let value = self.builder.ins().stack_load(types::I64, ty, slot, 0);
            let valid = self.builder.ins().stack_load(types::I64, types::I8, slot, 8);
            self.scalars.insert(id, (value, valid));
        }
    }

    fn load_pointers(&mut self) {
        self.inputs.clear();
        self.buffers.clear();
        let program = &self.plan.program;
        for (slot, input) in program.inputs.iter().enumerate() {
            if input.ty.shape == Shape::Column {
                let data = self.arg(self.layout.input(slot, InputWord::Data));
                let form = self.plan.input_forms[slot];
                let data_bit_offset =
                    form.bit_packed.then(|| self.arg(self.layout.input(slot, InputWord::DataBitOffset)));
                let validity = if form.nullable {
                    let bytes = self.arg(self.layout.input(slot, InputWord::Validity));
                    let offset = self.arg(self.layout.input(slot, InputWord::Offset));
                    Some((bytes, offset))
                } else {
                    None
                };
                self.inputs.push(Some(InputRegs { data, data_bit_offset, validity }));
            } else {
                self.inputs.push(None);
            }
        }
        for (index, buffer) in self.plan.buffers.iter().enumerate() {
            let values = self.arg(self.layout.buffer(index, BufferWord::Values));
            let validity = buffer.nullable.then(|| self.arg(self.layout.buffer(index, BufferWord::Validity)));
            let halo = match self.halo_cursors[index] {
                Some(slot) => self.builder.ins().stack_load(types::I64, types::I64, slot, 0),
                None => self.arg(self.layout.buffer(index, BufferWord::Halo)),
            };
            self.buffers.push(BufferRegs { values, validity, halo });
        }
    }

    /// A cursor slot per long-halo buffer, starting at the halo's length (the first block's
    /// rows follow the halo).
    fn create_halo_cursors(&mut self) {
        for (index, buffer) in self.plan.buffers.iter().enumerate() {
            let cursor = (buffer.halo > LONG_HALO_ROWS).then(|| {
                let slot = self.builder.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8,
                    3,
                ));
                let halo = self.arg(self.layout.buffer(index, BufferWord::Halo));
                self.builder.ins().stack_store(types::I64, halo, slot, 0);
                slot
            });
            self.halo_cursors.push(cursor);
        }
    }

    fn one(&mut self) -> Value {
        self.builder.ins().iconst(types::I8, 1)
    }

    fn compute_scalars(&mut self) {
        for &id in &self.plan.scalars {
            let node = *self.plan.program.node(id);
            let pair = match node.kind {
                NodeKind::Input { slot } => {
                    let bits = self.arg(self.layout.input(slot as usize, InputWord::Scalar));
                    let value = match node.ty.elem {
                        Elem::F64 => self.builder.ins().bitcast(types::F64, MemFlagsData::new(), bits),
                        Elem::F32 => {
                            let narrow = self.builder.ins().ireduce(types::I32, bits);
                            self.builder.ins().bitcast(types::F32, MemFlagsData::new(), narrow)
                        }
                        Elem::I64 => bits,
                        Elem::I32 => self.builder.ins().ireduce(types::I32, bits),
                        Elem::Bool => self.builder.ins().ireduce(types::I8, bits),
                    };
                    let valid = if self.plan.input_forms[slot as usize].nullable {
                        let flag = self.arg(self.layout.input(slot as usize, InputWord::Validity));
                        self.builder.ins().ireduce(types::I8, flag)
                    } else {
                        self.one()
                    };
                    (value, valid)
                }
                NodeKind::Const(constant) => self.constant(constant, node.ty.elem),
                _ => {
                    let operands: Vec<Pair> =
                        node.kind.operands().into_iter().map(|operand| self.scalars[&operand]).collect();
                    self.apply(id, &operands)
                }
            };
            self.scalars.insert(id, pair);
            let slot =
                self.builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 3));
            self.builder.ins().stack_store(types::I64, pair.0, slot, 0);
            self.builder.ins().stack_store(types::I64, pair.1, slot, 8);
            self.scalar_slots.push((id, slot));
        }
    }
}

/// The byte offset of argument word `index`.
pub(super) fn word(index: usize) -> i32 {
    i32::try_from(index * 8).expect("argument blocks are small")
}
