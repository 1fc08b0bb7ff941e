//! The loop skeleton: the block loop, each stage's row loop (scalar form), the halo shift,
//! and writing the result and the extra outputs.

use super::vector::{ArmLanes, LanesChoice, SelectedLanes};
use super::{Lanes, Pair, Translator, VECTOR_GROUPS_PER_ITERATION, clif_type, elem_size};
use crate::codegen::layout::{self, BufferWord, ExtraOutputWord};
use crate::codegen::runtime_functions::RuntimeFunction;
use crate::ir::{Elem, NodeId};
use crate::passes::fuse_loops::{ArmValidity, BLOCK_ROWS, Stage, ValidityChoice, VectorForm};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, StackSlot, StackSlotData, StackSlotKind, Value, types};
use std::collections::HashMap;

impl<'p, 'b> Translator<'p, 'b> {
    /// `for i in 0..len { body(i) }`, with `i` an i64.
    pub(super) fn row_loop(&mut self, len: Value, body: impl FnMut(&mut Self, Value)) {
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.stepped_loop(zero, len, 1, body);
    }

    /// `for (i = from; i < end; i += step) { body(i) }`, with `i` an i64.
    ///
    /// Rotated: the test before the first iteration, then at the bottom of each, so that an
    /// iteration takes one branch (back to its top) rather than two (down to the test, back
    /// into the body): a short loop such as `x * a`'s runs a few instructions per lane group.
    pub(super) fn stepped_loop(
        &mut self,
        from: Value,
        end: Value,
        step: i64,
        mut body: impl FnMut(&mut Self, Value),
    ) {
        let body_block = self.builder.create_block();
        let exit = self.builder.create_block();
        self.builder.append_block_param(body_block, types::I64);
        let any = self.builder.ins().icmp(IntCC::SignedLessThan, from, end);
        self.builder.ins().brif(any, body_block, &[from.into()], exit, &[]);
        self.builder.switch_to_block(body_block);
        let i = self.builder.block_params(body_block)[0];
        body(self, i);
        let next = self.builder.ins().iadd_imm_s(i, step);
        let more = self.builder.ins().icmp(IntCC::SignedLessThan, next, end);
        self.builder.ins().brif(more, body_block, &[next.into()], exit, &[]);
        self.builder.switch_to_block(exit);
    }

    /// `if writing { body }` for the current block: what only a written block does (pack
    /// the result's validity, copy extra outputs out, feed the reductions).
    pub(super) fn if_writing(&mut self, body: impl FnOnce(&mut Self)) {
        let (_, writing) = self.block.expect("inside the block loop");
        let then_block = self.builder.create_block();
        let merge = self.builder.create_block();
        self.builder.ins().brif(writing, then_block, &[], merge, &[]);
        self.builder.switch_to_block(then_block);
        body(self);
        self.builder.ins().jump(merge, &[]);
        self.builder.switch_to_block(merge);
    }

    /// The block loop over rows `[FIRST_ROW, ROWS)`: blocks of `BLOCK_ROWS` rows, the last
    /// warm-up block cut short at `WRITE_FROM`.
    pub(super) fn block_loop(&mut self) {
        let header = self.builder.create_block();
        let body = self.builder.create_block();
        let exit = self.builder.create_block();
        self.builder.append_block_param(header, types::I64);
        let first = self.arg(layout::FIRST_ROW);
        self.builder.ins().jump(header, &[first.into()]);
        self.builder.switch_to_block(header);
        let start = self.builder.block_params(header)[0];
        let more = self.builder.ins().icmp(IntCC::SignedLessThan, start, self.rows);
        self.builder.ins().brif(more, body, &[], exit, &[]);
        self.builder.switch_to_block(body);
        let write_from = self.arg(layout::WRITE_FROM);
        let writing = self.builder.ins().icmp(IntCC::SignedGreaterThanOrEqual, start, write_from);
        let end = self.builder.ins().select(writing, self.rows, write_from);
        let remaining = self.builder.ins().isub(end, start);
        let len = match self.plan.block_alignment() {
            None => {
                let block_rows = self.builder.ins().iconst(types::I64, BLOCK_ROWS as i64);
                self.builder.ins().smin(remaining, block_rows)
            }
            // `start` (from `FIRST_ROW`, a row: never negative) is `phase` rows past a multiple
            // of `alignment`; the block ends `aligned_rows - phase` rows on, on a multiple: it
            // holds 1 ..= BLOCK_ROWS rows, and every later block starts on a multiple.
            Some(alignment) => {
                let alignment = alignment as i64;
                let phase = self.builder.ins().urem_imm_u(start, alignment);
                let aligned_rows =
                    self.builder.ins().iconst(types::I64, BLOCK_ROWS as i64 / alignment * alignment);
                let to_boundary = self.builder.ins().isub(aligned_rows, phase);
                self.builder.ins().smin(remaining, to_boundary)
            }
        };
        self.sync_scan_records_at_write_from(start, write_from);
        self.block = Some((start, writing));
        let last = self.plan.stages.len() - 1;
        let mut paired = false;
        for (index, stage) in self.plan.stages.iter().enumerate() {
            if std::mem::take(&mut paired) {
                continue;
            }
            self.reload_invariants();
            // Two scans in a row, the second not reading the first: one call advances both
            // (interleaved where both are `ema`s, whose chains then overlap).
            if let (Stage::ScanCall { node, state }, Some(Stage::ScanCall { node: next, state: next_state })) =
                (stage, self.plan.stages.get(index + 1))
                && self
                    .plan
                    .program
                    .node(*next)
                    .kind
                    .operands()
                    .iter()
                    .all(|&operand| self.plan.resolve_lags(operand).0 != *node)
            {
                self.scan_call_pair([(*node, *state), (*next, *next_state)], start, len);
                paired = true;
                continue;
            }
            match stage {
                Stage::Loop { nodes, vector } => {
                    let writes_result = index == last && self.plan.reduce_result.is_empty();
                    // A reducing plan's closing loop may have nothing to do.
                    if !nodes.is_empty() || writes_result {
                        self.loop_stage(nodes, vector.as_ref(), start, len, writes_result)
                    }
                }
                Stage::BlockCall { node, function } => self.block_call(*node, *function, start, len),
                Stage::ScanCall { node, state } => self.scan_call(*node, *state, start, len),
            }
        }
        self.reload_invariants();
        if !self.plan.extra_outputs.is_empty() || !self.plan.reduce_result.is_empty() {
            self.if_writing(|this| {
                this.write_extra_outputs(start, len);
                if !this.plan.reduce_result.is_empty() {
                    this.reduce_result_block(len);
                }
            });
        }
        self.shift_halos(len);
        let next = self.builder.ins().iadd(start, len);
        self.builder.ins().jump(header, &[next.into()]);
        self.builder.switch_to_block(exit);
        self.block = None;
    }

    pub(super) fn loop_stage(
        &mut self,
        nodes: &[NodeId],
        vector: Option<&VectorForm>,
        start: Value,
        len: Value,
        writes_result: bool,
    ) {
        let result = self.plan.program.result;
        let result_nullable = self.plan.result_nullable();
        if writes_result && self.plan.result_in_place {
            // The call wrote the values; its validity, in its buffer, is packed into the
            // output's bitmap.
            debug_assert!(nodes.is_empty(), "a result written in place ends with an empty loop");
            if result_nullable {
                self.combine_validity(&[(result, 0)], start, len, self.out_valid_block);
                self.pack_result_validity(start, len);
            }
            return;
        }
        // A result whose validity reads only input bitmaps (or nothing that can be null) has it
        // written straight into the output bitmap in a block that runs the vector form: there
        // every lag reads in range, so the AND of the sources is every row's validity, the
        // scalar tail's too, and no bytes are packed. (A block before the farthest lag runs
        // the scalar form, whose bytes are packed as before.)
        let result_bits = match vector {
            Some(vector) if writes_result && result_nullable => vector
                .validity
                .iter()
                .find(|target| target.node.is_none())
                .filter(|target| self.sources_are_bits(&target.sources))
                .map(|target| target.sources.clone()),
            _ => None,
        };
        // Rows [0, scalar_from) run in f64x2 when the block starts past the farthest lag; the
        // rest (or the whole block) run one at a time.
        let mut vector_block = None;
        let scalar_from = match vector {
            Some(vector) => {
                let from_row = i64::try_from(vector.from_row).unwrap_or(i64::MAX);
                let from_row = self.builder.ins().iconst(types::I64, from_row);
                let eligible = self.builder.ins().icmp(IntCC::SignedGreaterThanOrEqual, start, from_row);
                vector_block = Some(eligible);
                let rows_per_iteration = (VECTOR_GROUPS_PER_ITERATION * Lanes::of(vector.elem).lanes) as i64;
                let whole_groups = self.builder.ins().band_imm_s(len, -rows_per_iteration);
                let zero = self.builder.ins().iconst(types::I64, 0);
                let vector_end = self.builder.ins().select(eligible, whole_groups, zero);
                // The lane masks' validity, a block at a time, before the loop reads them: 0/1
                // bytes in a block-sized stack slot per distinct list of sources (none for an
                // operand never null).
                let mut masks = HashMap::new();
                let mut combined: HashMap<Vec<(NodeId, u64)>, StackSlot> = HashMap::new();
                for mask in &vector.masks {
                    let slot =
                        self.combined_validity_slot(&mut combined, mask.sources.clone(), start, vector_end);
                    masks.insert(mask.node, slot);
                }
                // The operands of each value whose validity the loop selects, combined the
                // same way (but for the selected values the loop computes before them), and
                // the slot it stores its validity in.
                let mut selected = Vec::new();
                for choice in &vector.selected {
                    let mut arm_lanes = |this: &mut Self, arm: &ArmValidity| match arm {
                        ArmValidity::Sources(sources) => {
                            let is_inside = |source: &NodeId| this.selected_validity.contains_key(source);
                            let inside: Vec<NodeId> =
                                sources.iter().map(|&(source, _)| source).filter(is_inside).collect();
                            let outside: Vec<(NodeId, u64)> =
                                sources.iter().copied().filter(|(source, _)| !is_inside(source)).collect();
                            let slot = this.combined_validity_slot(&mut combined, outside, start, vector_end);
                            ArmLanes::Bytes { slot, inside }
                        }
                        ArmValidity::Scalar(scalar) => ArmLanes::Scalar(*scalar),
                    };
                    let lanes = match &choice.choice {
                        ValidityChoice::Where { then, otherwise } => LanesChoice::Where {
                            then: arm_lanes(self, then),
                            otherwise: arm_lanes(self, otherwise),
                        },
                        ValidityChoice::Kleene { op, lhs, rhs } => LanesChoice::Kleene {
                            op: *op,
                            lhs: arm_lanes(self, lhs),
                            rhs: arm_lanes(self, rhs),
                        },
                        ValidityChoice::Fill { value, fallback } => LanesChoice::Fill {
                            value: arm_lanes(self, value),
                            fallback: arm_lanes(self, fallback),
                        },
                    };
                    let slot = self.block_bytes_slot();
                    self.selected_validity.insert(choice.node, slot);
                    selected.push(SelectedLanes { node: choice.node, choice: lanes, slot });
                }
                // Each bit-packed bool column the loop reads, unpacked into bytes for the rows
                // it runs (its lag applied), which the loop reads as a bool column's.
                for &(column, rows_back) in &vector.packed_bools {
                    let slot = self.block_bytes_slot();
                    let destination = self.builder.ins().stack_addr(types::I64, slot, 0);
                    self.unpack_bools(column, rows_back, start, vector_end, destination);
                    self.packed_bool_bytes.insert((column, rows_back), slot);
                }
                self.vector_loop(nodes, vector.elem, start, vector_end, writes_result, &masks, &selected);
                self.packed_bool_bytes.clear();
                // The vector rows' validity, a block at a time (the scalar tail does its own).
                for target in &vector.validity {
                    let destination = match target.node {
                        None if result_bits.is_some() => continue,
                        None => self.out_valid_block,
                        Some(node) => {
                            let buffer =
                                self.plan.buffer_of[node.index()].expect("validity targets are buffered");
                            let regs = &self.buffers[buffer];
                            let validity = regs.validity.expect("validity targets are nullable");
                            let halo = regs.halo;
                            self.builder.ins().iadd(validity, halo)
                        }
                    };
                    self.combine_validity(&target.sources, start, vector_end, destination);
                }
                self.selected_validity.clear();
                vector_end
            }
            None => self.builder.ins().iconst(types::I64, 0),
        };
        let mut row_body = |this: &mut Self, i: Value| {
            let mut computed: HashMap<NodeId, Pair> = HashMap::new();
            for &id in nodes {
                let operands: Vec<Pair> = this
                    .plan
                    .program
                    .node(id)
                    .kind
                    .operands()
                    .into_iter()
                    .map(|operand| this.read(operand, 0, start, i, &computed))
                    .collect();
                let pair = this.apply(id, &operands);
                if let Some(buffer) = this.plan.buffer_of[id.index()] {
                    this.store_buffer(buffer, id, i, pair);
                }
                computed.insert(id, pair);
            }
            if writes_result {
                let (value, valid) = this.read(result, 0, start, i, &computed);
                let elem = this.plan.program.result_type().elem;
                let address = this.row_address(this.out_values, start, i, elem_size(elem));
                this.builder.ins().store(this.flags, value, address, 0);
                if result_nullable {
                    let address = this.builder.ins().iadd(this.out_valid_block, i);
                    this.builder.ins().store(this.flags, valid, address, 0);
                }
            }
        };
        if let Some(not_started) = self.load_inline_scans(nodes) {
            // A block that starts with the inline scans not started yet (the first: their
            // operands are null at most in the first rows) runs rows that test it; every
            // other block's recurrence has no such choice on its chain.
            let (starting, started, merge) =
                (self.builder.create_block(), self.builder.create_block(), self.builder.create_block());
            self.builder.ins().brif(not_started, starting, &[], started, &[]);
            self.builder.switch_to_block(starting);
            self.inline_scans_started = false;
            self.stepped_loop(scalar_from, len, 1, &mut row_body);
            self.builder.ins().jump(merge, &[]);
            self.builder.switch_to_block(started);
            self.inline_scans_started = true;
            self.stepped_loop(scalar_from, len, 1, &mut row_body);
            self.builder.ins().jump(merge, &[]);
            self.builder.switch_to_block(merge);
        } else {
            self.stepped_loop(scalar_from, len, 1, &mut row_body);
        }
        self.store_inline_scans();
        match (result_bits, vector_block) {
            (Some(sources), Some(vector_block)) => self.if_writing(|this| {
                this.if_else(
                    vector_block,
                    |this| this.combine_validity_bits(&sources, start, len),
                    |this| this.call_pack_validity(start, len),
                )
            }),
            _ if writes_result && result_nullable => self.pack_result_validity(start, len),
            _ => {}
        }
    }

    /// A block-sized stack slot of bytes: validity for a block's rows, one byte a row.
    fn block_bytes_slot(&mut self) -> StackSlot {
        let size = u32::try_from(BLOCK_ROWS).expect("a block fits a stack slot");
        self.builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 4))
    }

    /// The slot holding the AND of `sources`' validity for block rows `[0, vector_end)`,
    /// combined into a new one the first time a list is asked for (`combined` remembers
    /// them for the block); None for no sources (never null).
    fn combined_validity_slot(
        &mut self,
        combined: &mut HashMap<Vec<(NodeId, u64)>, StackSlot>,
        sources: Vec<(NodeId, u64)>,
        start: Value,
        vector_end: Value,
    ) -> Option<StackSlot> {
        if sources.is_empty() {
            return None;
        }
        if let Some(&slot) = combined.get(&sources) {
            return Some(slot);
        }
        let slot = self.block_bytes_slot();
        let destination = self.builder.ins().stack_addr(types::I64, slot, 0);
        self.combine_validity(&sources, start, vector_end, destination);
        combined.insert(sources, slot);
        Some(slot)
    }

    /// `then` where `condition` holds, else `otherwise`.
    fn if_else(&mut self, condition: Value, then: impl FnOnce(&mut Self), otherwise: impl FnOnce(&mut Self)) {
        let (then_block, else_block, merge) =
            (self.builder.create_block(), self.builder.create_block(), self.builder.create_block());
        self.builder.ins().brif(condition, then_block, &[], else_block, &[]);
        self.builder.switch_to_block(then_block);
        then(self);
        self.builder.ins().jump(merge, &[]);
        self.builder.switch_to_block(else_block);
        otherwise(self);
        self.builder.ins().jump(merge, &[]);
        self.builder.switch_to_block(merge);
    }

    /// Packs the block's result validity bytes into the output bitmap (not while warming up).
    fn pack_result_validity(&mut self, start: Value, len: Value) {
        self.if_writing(|this| this.call_pack_validity(start, len));
    }

    fn call_pack_validity(&mut self, start: Value, len: Value) {
        let pack = self.stub(RuntimeFunction::PackValidity);
        self.builder.ins().call(pack, &[self.out_valid_block, self.out_bitmap, start, len]);
    }

    /// Copies each extra output's block rows out of its buffer into its column (and packs its
    /// validity), once per block.
    pub(super) fn write_extra_outputs(&mut self, start: Value, len: Value) {
        for (index, &node) in self.plan.extra_outputs.iter().enumerate() {
            let buffer = self.plan.buffer_of[node.index()].expect("extra outputs are buffered");
            let elem = self.plan.program.node(node).ty.elem;
            let size = elem_size(elem);
            let values = self.arg(self.layout.extra_output(index, ExtraOutputWord::Values));
            let regs = &self.buffers[buffer];
            let (buffer_values, buffer_validity, halo) = (regs.values, regs.validity, regs.halo);
            let ty = clif_type(elem);
            self.row_loop(len, |this, i| {
                let from_index = this.builder.ins().iadd(halo, i);
                let from = this.element_address(buffer_values, from_index, size);
                let value = this.builder.ins().load(ty, this.flags, from, 0);
                // Bools leave as exactly 0 or 1 (as every bool load from a buffer does).
                let value = if elem == Elem::Bool { this.builder.ins().band_imm_s(value, 1) } else { value };
                let row = this.builder.ins().iadd(start, i);
                let to = this.element_address(values, row, size);
                this.builder.ins().store(this.flags, value, to, 0);
            });
            if let Some(validity) = buffer_validity {
                let bitmap = self.arg(self.layout.extra_output(index, ExtraOutputWord::Bitmap));
                let block = self.builder.ins().iadd(validity, halo);
                let stub = self.stub(RuntimeFunction::PackValidity);
                self.builder.ins().call(stub, &[block, bitmap, start, len]);
            }
        }
    }

    pub(super) fn shift_halos(&mut self, len: Value) {
        for index in 0..self.buffers.len() {
            if self.plan.buffers[index].halo == 0 {
                continue;
            }
            let elem = self.plan.program.node(self.plan.buffers[index].node).ty.elem;
            let size = elem_size(elem);
            if let Some(slot) = self.halo_cursors[index] {
                self.advance_long_halo(index, slot, size, len);
                continue;
            }
            let regs = &self.buffers[index];
            let (values, validity, halo) = (regs.values, regs.validity, regs.halo);
            let skip = self.builder.ins().imul_imm_s(len, size);
            let keep = self.builder.ins().imul_imm_s(halo, size);
            let stub = self.stub(RuntimeFunction::ShiftHalo);
            self.builder.ins().call(stub, &[values, skip, keep]);
            if let Some(validity) = validity {
                let stub = self.stub(RuntimeFunction::ShiftHalo);
                self.builder.ins().call(stub, &[validity, len, halo]);
            }
        }
    }

    /// After a block, a long-halo buffer's cursor moves past the block's rows; when the next
    /// block would not fit in the segment (`fuse_loops::long_halo_segment`), the last `halo`
    /// rows move to the front and the cursor returns to `halo`. Invariant: cursor ≥ halo and
    /// cursor + BLOCK_ROWS ≤ halo + segment, the rows `executor::buffer_region` allocates.
    fn advance_long_halo(&mut self, index: usize, slot: StackSlot, size: i64, len: Value) {
        let regs = &self.buffers[index];
        let (values, validity, cursor) = (regs.values, regs.validity, regs.halo);
        let halo = self.arg(self.layout.buffer(index, BufferWord::Halo));
        let next = self.builder.ins().iadd(cursor, len);
        // segment = max(64·BLOCK_ROWS, 4·halo), as `long_halo_segment` computes it.
        let blocks = self.builder.ins().iconst(types::I64, (64 * BLOCK_ROWS) as i64);
        let four_halos = self.builder.ins().imul_imm_s(halo, 4);
        let segment = self.builder.ins().smax(blocks, four_halos);
        let capacity = self.builder.ins().iadd(halo, segment);
        let next_end = self.builder.ins().iadd_imm_s(next, BLOCK_ROWS as i64);
        let full = self.builder.ins().icmp(IntCC::SignedGreaterThan, next_end, capacity);
        let move_block = self.builder.create_block();
        let done = self.builder.create_block();
        self.builder.ins().stack_store(types::I64, next, slot, 0);
        self.builder.ins().brif(full, move_block, &[], done, &[]);
        self.builder.switch_to_block(move_block);
        let skip_rows = self.builder.ins().isub(next, halo);
        let skip = self.builder.ins().imul_imm_s(skip_rows, size);
        let keep = self.builder.ins().imul_imm_s(halo, size);
        let stub = self.stub(RuntimeFunction::ShiftHalo);
        self.builder.ins().call(stub, &[values, skip, keep]);
        if let Some(validity) = validity {
            let stub = self.stub(RuntimeFunction::ShiftHalo);
            self.builder.ins().call(stub, &[validity, skip_rows, halo]);
        }
        self.builder.ins().stack_store(types::I64, halo, slot, 0);
        self.builder.ins().jump(done, &[]);
        self.builder.switch_to_block(done);
    }

    pub(super) fn write_scalar_result(&mut self) {
        let result = self.plan.program.result;
        let (value, valid) = self.scalars[&result];
        let out = self.out_values;
        self.builder.ins().store(self.flags, value, out, 0);
        if self.plan.result_nullable() {
            let block = self.out_valid_block;
            self.builder.ins().store(self.flags, valid, block, 0);
            let bitmap = self.out_bitmap;
            let zero = self.builder.ins().iconst(types::I64, 0);
            let one = self.builder.ins().iconst(types::I64, 1);
            let stub = self.stub(RuntimeFunction::PackValidity);
            self.builder.ins().call(stub, &[block, bitmap, zero, one]);
        }
    }
}
