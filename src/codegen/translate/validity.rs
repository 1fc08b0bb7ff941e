//! Validity: reading input bitmap bits, and combining a value's validity sources for a whole
//! block through the runtime's `combine_validity` (into bytes) or `combine_validity_bits`
//! (into the output bitmap).

use super::Translator;
use crate::codegen::runtime_functions::RuntimeFunction;
use crate::ir::{NodeId, NodeKind};
use crate::runtime::stubs::{SOURCE_BITMAP, SOURCE_BYTES, SOURCE_IN_RANGE};
use cranelift_codegen::ir::{InstBuilder, StackSlot, StackSlotData, StackSlotKind, Value, types};

impl<'p, 'b> Translator<'p, 'b> {
    /// Writes the validity of block rows `[0, len)` as 0/1 bytes to `destination`: the AND of
    /// `sources` (`(value, rows back)` reads), through the runtime's `combine_validity`.
    pub(super) fn combine_validity(
        &mut self,
        sources: &[(NodeId, u64)],
        start: Value,
        len: Value,
        destination: Value,
    ) {
        let (address, count) = self.validity_sources(sources, start);
        self.call_combine_validity(address, count, len, destination);
    }

    fn call_combine_validity(&mut self, address: Value, count: Value, len: Value, destination: Value) {
        let stub = self.stub(RuntimeFunction::CombineValidity);
        self.builder.ins().call(stub, &[address, count, len, destination]);
    }

    /// Unpacks the values of bit-packed bool column `column`, `rows_back` rows back, for
    /// block rows `[0, len)` into 0/1 bytes at `destination` (0 where the read lies before
    /// the column's first row, which its validity makes null), through the runtime's
    /// `combine_validity` with the column's value bits as its one bitmap.
    pub(super) fn unpack_bools(
        &mut self,
        column: NodeId,
        rows_back: u64,
        start: Value,
        len: Value,
        destination: Value,
    ) {
        let NodeKind::Input { slot } = self.plan.program.node(column).kind else {
            unreachable!("the vector plan unpacks bool input columns only")
        };
        let regs = self.inputs[slot as usize].as_ref().expect("column input");
        let (bytes, bit_offset) = (regs.data, regs.data_bit_offset.expect("a bit-packed column"));
        let sources = self.source_slot(1);
        let (delta, first_valid) = self.read_range(rows_back, start);
        let position = self.bit_position(bit_offset, start, delta);
        self.store_source(sources, 0, SOURCE_BITMAP, [bytes, position, first_valid]);
        let address = self.builder.ins().stack_addr(types::I64, sources, 0);
        let count = self.builder.ins().iconst(types::I64, 1);
        self.call_combine_validity(address, count, len, destination);
    }

    /// Writes the validity of block rows `[0, len)` straight into the output bitmap's bits
    /// from row `start` on: the AND of `sources`, every one an input or never null (no block
    /// buffer's bytes), through the runtime's `combine_validity_bits`.
    pub(super) fn combine_validity_bits(&mut self, sources: &[(NodeId, u64)], start: Value, len: Value) {
        let (address, count) = self.validity_sources(sources, start);
        let (bitmap, call) = (self.out_bitmap, self.stub(RuntimeFunction::CombineValidityBits));
        self.builder.ins().call(call, &[address, count, len, bitmap, start]);
    }

    /// Whether every source is an input's bitmap or never null: validity
    /// [`combine_validity_bits`](Self::combine_validity_bits) can read.
    pub(super) fn sources_are_bits(&self, sources: &[(NodeId, u64)]) -> bool {
        sources.iter().all(|&(base, _)| {
            !self.plan.nullable[base.index()]
                || matches!(self.plan.program.node(base).kind, NodeKind::Input { .. })
        })
    }

    /// `sources` as the runtime's `ValiditySource` array, in a stack slot for this block:
    /// its address and the count.
    fn validity_sources(&mut self, sources: &[(NodeId, u64)], start: Value) -> (Value, Value) {
        let slot = self.source_slot(sources.len());
        for (index, &(base, rows_back)) in sources.iter().enumerate() {
            let (delta, first_valid) = self.read_range(rows_back, start);
            let (kind, pointer, position) = match self.plan.program.node(base).kind {
                // Never null itself: valid wherever the read is in range.
                _ if !self.plan.nullable[base.index()] => {
                    let zero = self.builder.ins().iconst(types::I64, 0);
                    (SOURCE_IN_RANGE, zero, zero)
                }
                // A `where` whose validity the vector loop just selected, read in its row:
                // the loop's bytes for the block (`SelectedValidity`).
                _ if rows_back == 0 && self.selected_validity.contains_key(&base) => {
                    let slot = self.selected_validity[&base];
                    let bytes = self.builder.ins().stack_addr(types::I64, slot, 0);
                    let zero = self.builder.ins().iconst(types::I64, 0);
                    (SOURCE_BYTES, bytes, zero)
                }
                NodeKind::Input { slot } => {
                    let regs = self.inputs[slot as usize].as_ref().expect("column input");
                    let (bytes, offset) = regs.validity.expect("a validity source has a bitmap");
                    (SOURCE_BITMAP, bytes, self.bit_position(offset, start, delta))
                }
                _ => {
                    let buffer = self.plan.buffer_of[base.index()].expect("validity sources are buffered");
                    let regs = &self.buffers[buffer];
                    let (validity, halo) = (regs.validity.expect("a validity source is nullable"), regs.halo);
                    let position = self.builder.ins().isub(halo, delta);
                    (SOURCE_BYTES, validity, position)
                }
            };
            self.store_source(slot, index, kind, [pointer, position, first_valid]);
        }
        let address = self.builder.ins().stack_addr(types::I64, slot, 0);
        let count = self.builder.ins().iconst(types::I64, sources.len() as i64);
        (address, count)
    }

    /// A stack slot for `count` entries of the runtime's `ValiditySource` array (32 bytes
    /// each), for this block.
    fn source_slot(&mut self, count: usize) -> StackSlot {
        let size = u32::try_from(32 * count.max(1)).expect("few sources");
        self.builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3))
    }

    /// A read `rows_back` rows back from block row 0 of the block at `start`: the lag as a
    /// value, and the first block row whose read lies in the column (`rows_back − start`).
    fn read_range(&mut self, rows_back: u64, start: Value) -> (Value, Value) {
        let delta = self.builder.ins().iconst(types::I64, i64::try_from(rows_back).unwrap_or(i64::MAX));
        let first_valid = self.builder.ins().isub(delta, start);
        (delta, first_valid)
    }

    /// The bit of a bitmap at bit `offset` that block row 0 reads `delta` rows back.
    fn bit_position(&mut self, offset: Value, start: Value, delta: Value) -> Value {
        let position = self.builder.ins().iadd(offset, start);
        self.builder.ins().isub(position, delta)
    }

    /// Entry `index` of the `ValiditySource` array in `slot`: its kind, then its pointer,
    /// position and first valid row.
    fn store_source(
        &mut self,
        slot: StackSlot,
        index: usize,
        kind: i64,
        [pointer, position, first_valid]: [Value; 3],
    ) {
        let kind = self.builder.ins().iconst(types::I64, kind);
        let offset = i32::try_from(index * 32).expect("few sources");
        for (field, value) in [kind, pointer, position, first_valid].into_iter().enumerate() {
            self.builder.ins().stack_store(types::I64, value, slot, offset + 8 * field as i32);
        }
    }

    /// Bit `offset + row` of an LSB-first bitmap, as an i8 0 or 1.
    pub(super) fn bit(&mut self, bytes: Value, offset: Value, row: Value) -> Value {
        let position = self.builder.ins().iadd(offset, row);
        let byte_index = self.builder.ins().ushr_imm_s(position, 3);
        let address = self.builder.ins().iadd(bytes, byte_index);
        let byte = self.builder.ins().load(types::I8, self.flags, address, 0);
        let shift = self.builder.ins().band_imm_s(position, 7);
        let shift = self.builder.ins().ireduce(types::I8, shift);
        let shifted = self.builder.ins().ushr(byte, shift);
        self.builder.ins().band_imm_s(shifted, 1)
    }
}
