//! The vector form of a row loop: `f64x2`/`f32x4`/`i64x2`/`i32x4` lanes, four lane groups per iteration,
//! with validity combined apart (see `validity`).

use super::scalar::int_cc;
use super::{Translator, float_cc};
use crate::ir::{BinaryOp, ConstValue, Elem, NodeId, NodeKind, UnaryOp};
use crate::passes::fuse_loops;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Value, types,
};
use std::collections::HashMap;

/// How the loop reads one operand's validity of a value whose validity it selects
/// (`fuse_loops::ArmValidity`).
#[derive(Debug, Clone)]
pub(super) enum ArmLanes {
    /// The AND of the 0/1 bytes combined before the loop in `slot` (None: no source outside
    /// the loop) and those the loop computed in the same iteration for the earlier selected
    /// values `inside`; valid everywhere when neither.
    Bytes { slot: Option<StackSlot>, inside: Vec<NodeId> },
    /// A scalar's validity flag, the same for every row.
    Scalar(NodeId),
}

/// How a selected value's validity follows from its operands' (`fuse_loops::ValidityChoice`).
#[derive(Debug, Clone)]
pub(super) enum LanesChoice {
    Where { then: ArmLanes, otherwise: ArmLanes },
    Kleene { op: BinaryOp, lhs: ArmLanes, rhs: ArmLanes },
    Fill { value: ArmLanes, fallback: ArmLanes },
}

/// A value whose validity the loop selects (`fuse_loops::SelectedValidity`): how, and the
/// block-sized slot where the loop stores it as 0/1 bytes.
#[derive(Debug, Clone)]
pub(super) struct SelectedLanes {
    pub(super) node: NodeId,
    pub(super) choice: LanesChoice,
    pub(super) slot: StackSlot,
}

impl LanesChoice {
    fn arms(&self) -> [&ArmLanes; 2] {
        match self {
            LanesChoice::Where { then, otherwise } => [then, otherwise],
            LanesChoice::Kleene { lhs, rhs, .. } => [lhs, rhs],
            LanesChoice::Fill { value, fallback } => [value, fallback],
        }
    }
}

impl<'p, 'b> Translator<'p, 'b> {
    /// The SIMD form of a row loop (see `VectorForm`): rows `[0, end)` of the block,
    /// `VECTOR_GROUPS_PER_ITERATION` lane groups of `elem`'s width (`f64x2`/`i64x2` or
    /// `f32x4`/`i32x4`) per iteration. Values only: validity is combined apart, but for the
    /// values in `selected`, whose validity the loop computes from their operands' bytes and
    /// their masks once an iteration's groups are done, and stores in their slots.
    /// `lane_masks` holds, for each `fill`, `is_null` and `is_valid` node, the stack slot
    /// where its operand's validity bytes for the block lie (`None`: the operand is never
    /// null).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn vector_loop(
        &mut self,
        nodes: &[NodeId],
        elem: Elem,
        start: Value,
        end: Value,
        writes_result: bool,
        lane_masks: &HashMap<NodeId, Option<StackSlot>>,
        selected: &[SelectedLanes],
    ) {
        let vector = Lanes::of(elem);
        // Splat every scalar the loop reads once, before it, through a stack slot: stored, then
        // loaded back once, and the loop uses that load. A splat value itself is
        // rematerialised (a shuffle) at every use, and a load per use (which folds into the
        // arithmetic) costs a load per use; Cranelift moves no load, so this one stays before
        // the loop and its value stays in a register, or is spilled and reloaded where
        // registers run out (as the loads per use were).
        let mut splats: HashMap<NodeId, Value> = HashMap::new();
        let mut reads: Vec<NodeId> =
            nodes.iter().flat_map(|&id| self.plan.program.node(id).kind.operands()).collect();
        if writes_result {
            reads.push(self.plan.program.result);
        }
        for operand in reads {
            let (base, _) = self.plan.resolve_lags(operand);
            if let Some(&(value, _)) = self.scalars.get(&base)
                && !splats.contains_key(&base)
            {
                let ty = self.node_lanes(base, vector).ty;
                let splat = self.builder.ins().splat(ty, value);
                let data = StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4);
                let slot = self.builder.create_sized_stack_slot(data);
                self.builder.ins().stack_store(types::I64, splat, slot, 0);
                let loaded = self.builder.ins().stack_load(types::I64, ty, slot, 0);
                splats.insert(base, loaded);
            }
        }
        // A float negation flips the sign bits with a mask loaded once from a slot, for the same
        // reason: Cranelift's `fneg` builds its mask at every use (three instructions a group).
        let negates = nodes.iter().any(|&id| {
            let node = self.plan.program.node(id);
            matches!(node.kind, NodeKind::Unary { op: UnaryOp::Neg, .. }) && !node.ty.elem.is_integer()
        });
        let sign_mask = negates.then(|| {
            let int = vector.bits_type();
            let sign_bit = if int.lane_bits() == 64 { i64::MIN } else { i64::from(i32::MIN) };
            let sign = self.int_const(int.lane_type(), sign_bit);
            let mask = self.builder.ins().splat(int, sign);
            let slot =
                self.builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4));
            self.builder.ins().stack_store(types::I64, mask, slot, 0);
            self.builder.ins().stack_load(types::I64, int, slot, 0)
        });
        // A nullable scalar arm's validity as one 0/1 byte a row, built once before the loop
        // through a slot, as the splats are.
        let mut scalar_validity: HashMap<NodeId, Value> = HashMap::new();
        for arm in selected.iter().flat_map(|lanes| lanes.choice.arms()) {
            if let &ArmLanes::Scalar(scalar) = arm
                && !scalar_validity.contains_key(&scalar)
            {
                let (_, valid) = self.scalars[&scalar];
                let bytes = self.builder.ins().splat(types::I8X16, valid);
                let data = StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4);
                let slot = self.builder.create_sized_stack_slot(data);
                self.builder.ins().stack_store(types::I64, bytes, slot, 0);
                let loaded = self.builder.ins().stack_load(types::I64, types::I8X16, slot, 0);
                scalar_validity.insert(scalar, loaded);
            }
        }
        let arm_slots: Vec<StackSlot> = selected
            .iter()
            .flat_map(|lanes| lanes.choice.arms())
            .filter_map(|arm| match arm {
                ArmLanes::Bytes { slot, .. } => *slot,
                ArmLanes::Scalar(_) => None,
            })
            .collect();
        let zero = self.builder.ins().iconst(types::I64, 0);
        let little = little_endian();
        let result = self.plan.program.result;
        let rows_per_iteration = (VECTOR_GROUPS_PER_ITERATION * vector.lanes) as i64;
        // A bool result (a comparison's lane masks) is written a whole iteration at a time.
        let result_elem = self.plan.program.node(result).ty.elem;
        let bool_result = writes_result && result_elem == Elem::Bool;
        self.stepped_loop(zero, end, rows_per_iteration, |this, first| {
            // Each validity slot's bytes for the iteration's rows, loaded once (8 rows of f64
            // or i64 lanes, 16 of f32 or i32: 8 or 16 bytes).
            let mut iteration_validity: HashMap<StackSlot, Value> = HashMap::new();
            for &slot in lane_masks.values().flatten().chain(&arm_slots) {
                if let std::collections::hash_map::Entry::Vacant(entry) = iteration_validity.entry(slot) {
                    entry.insert(this.iteration_validity(slot, vector, first));
                }
            }
            let mut masks = Vec::with_capacity(VECTOR_GROUPS_PER_ITERATION);
            // Each selected value's operand masks (a `where`'s condition; both operands of
            // `and`/`or`), a lane group at a time.
            let mut selections: HashMap<NodeId, [Vec<Value>; 2]> = HashMap::new();
            for group in 0..VECTOR_GROUPS_PER_ITERATION as i64 {
                // The group's rows are `first + group_rows ..`: addresses are computed from
                // `first` once per iteration (shared by the groups), the group's rows an
                // offset in the load or store.
                let i = GroupRows { first, offset: vector.lanes as i64 * group };
                let mut computed: HashMap<NodeId, Value> = HashMap::new();
                for &id in nodes {
                    let kind = this.plan.program.node(id).kind;
                    let value = if let Some(&slot) = lane_masks.get(&id) {
                        let bytes = slot.map(|slot| iteration_validity[&slot]);
                        match kind {
                            NodeKind::Unary { op: UnaryOp::IsValid, .. } => {
                                let null = this.null_lanes(bytes, vector, group);
                                this.builder.ins().bnot(null)
                            }
                            NodeKind::Unary { op: UnaryOp::IsNull, .. } => {
                                this.null_lanes(bytes, vector, group)
                            }
                            NodeKind::Fill { value, fallback } => {
                                let lanes = this.node_lanes(id, vector);
                                let value = this.read_vector(value, vector, start, i, &computed, &splats);
                                let fallback =
                                    this.read_vector(fallback, vector, start, i, &computed, &splats);
                                match bytes {
                                    // Selected bytewise on the comparison's own mask (each lane's
                                    // bytes are equal), which Cranelift emits as one blend.
                                    Some(bytes) => {
                                        let null = this.null_bytes(bytes, vector, group);
                                        let value = this.builder.ins().bitcast(types::I8X16, little, value);
                                        let fallback =
                                            this.builder.ins().bitcast(types::I8X16, little, fallback);
                                        let filled = this.builder.ins().bitselect(null, fallback, value);
                                        this.builder.ins().bitcast(lanes.ty, little, filled)
                                    }
                                    None => value,
                                }
                            }
                            _ => unreachable!("lane masks are planned for fill, is_null and is_valid only"),
                        }
                    } else {
                        let operands: Vec<Value> = kind
                            .operands()
                            .into_iter()
                            .map(|operand| this.read_vector(operand, vector, start, i, &computed, &splats))
                            .collect();
                        if let Some(lanes) = selected.iter().find(|lanes| lanes.node == id) {
                            // The masks its validity depends on, narrowed to bytes once the
                            // iteration's groups are done.
                            let [first, second] = selections.entry(id).or_default();
                            first.push(operands[0]);
                            if let LanesChoice::Kleene { .. } = lanes.choice {
                                second.push(operands[1]);
                            }
                        }
                        this.apply_vector(id, vector, &operands, sign_mask)
                    };
                    if let Some(buffer) = this.plan.buffer_of[id.index()] {
                        let (values, halo) = (this.buffers[buffer].values, this.buffers[buffer].halo);
                        if this.plan.program.node(id).ty.elem == Elem::Bool {
                            // A lane mask kept for later reads (a lag, a later stage, an
                            // output): the group's rows as 0/1 bytes, a byte a row.
                            let (address, offset) = this.group_address(values, halo, i.first, i.offset, 1);
                            this.store_group_mask_as_bools(value, vector, address, offset);
                        } else {
                            let (address, offset) =
                                this.group_address(values, halo, i.first, i.offset, vector.size);
                            this.builder.ins().store(vector_flags(), value, address, offset);
                        }
                    }
                    computed.insert(id, value);
                }
                if writes_result && bool_result {
                    masks.push(this.read_vector(result, vector, start, i, &computed, &splats));
                } else if writes_result && Lanes::of(result_elem).size != vector.size {
                    // A result conversion (f64 ↔ f32): the operand's lanes, converted as stored.
                    let value = this.read_vector(result, vector, start, i, &computed, &splats);
                    this.store_converted(value, vector, result_elem, start, i);
                } else if writes_result {
                    let value = this.read_vector(result, vector, start, i, &computed, &splats);
                    let (address, offset) =
                        this.group_address(this.out_values, start, i.first, i.offset, vector.size);
                    this.builder.ins().store(vector_flags(), value, address, offset);
                }
            }
            if bool_result {
                let (address, offset) = this.group_address(this.out_values, start, first, 0, 1);
                this.store_masks_as_bools(&masks, vector, address, offset);
            }
            // Each selected value's validity for the iteration's rows, in the plan's order (an
            // operand's before its reader's): from its operands' 0/1 bytes and its masks
            // narrowed to a byte a row (all ones where the mask holds).
            let mut computed_validity: HashMap<NodeId, Value> = HashMap::new();
            for lanes in selected {
                let no_masks = [Vec::new(), Vec::new()];
                // (A `fill` is a lane-mask node and records no masks: its choice needs none.)
                let [first_masks, second_masks] = selections.get(&lanes.node).unwrap_or(&no_masks);
                let [a, b] = lanes.choice.arms().map(|arm| {
                    this.arm_bytes(arm, &iteration_validity, &scalar_validity, &computed_validity)
                });
                let validity = match lanes.choice {
                    // The chosen arm's validity, byte by byte on the condition's.
                    LanesChoice::Where { .. } => {
                        let condition = this.masks_as_bytes(first_masks, vector);
                        this.builder.ins().bitselect(condition, a, b)
                    }
                    // Valid where both are, or where a valid operand decides: false for
                    // `and`, true for `or`.
                    LanesChoice::Kleene { op, .. } => {
                        let lhs = this.masks_as_bytes(first_masks, vector);
                        let rhs = this.masks_as_bytes(second_masks, vector);
                        let both = this.builder.ins().band(a, b);
                        let (lhs_decides, rhs_decides) = if op == BinaryOp::And {
                            (this.builder.ins().band_not(a, lhs), this.builder.ins().band_not(b, rhs))
                        } else {
                            (this.builder.ins().band(a, lhs), this.builder.ins().band(b, rhs))
                        };
                        let decided = this.builder.ins().bor(lhs_decides, rhs_decides);
                        this.builder.ins().bor(both, decided)
                    }
                    // Valid where either is.
                    LanesChoice::Fill { .. } => this.builder.ins().bor(a, b),
                };
                computed_validity.insert(lanes.node, validity);
                let slot = this.builder.ins().stack_addr(types::I64, lanes.slot, 0);
                let address = this.builder.ins().iadd(slot, first);
                this.store_iteration_bytes(validity, vector, address, 0);
            }
        });
    }

    /// The 0/1 validity bytes `slot` holds (`combine_validity`'s) for the iteration's rows
    /// from block row `first`, as an `i8x16`: 8 bytes for lanes of 64 bits (the upper half
    /// unused), 16 for lanes of 32.
    fn iteration_validity(&mut self, slot: StackSlot, vector: Lanes, first: Value) -> Value {
        let little = little_endian();
        let address = self.builder.ins().stack_addr(types::I64, slot, 0);
        let address = self.builder.ins().iadd(address, first);
        match VECTOR_GROUPS_PER_ITERATION * vector.lanes {
            8 => {
                let word = self.builder.ins().load(types::I64, vector_flags(), address, 0);
                let words = self.builder.ins().scalar_to_vector(types::I64X2, word);
                self.builder.ins().bitcast(types::I8X16, little, words)
            }
            16 => self.builder.ins().load(types::I8X16, vector_flags(), address, 0),
            _ => unreachable!("an iteration covers 8 rows of 64-bit lanes or 16 of 32-bit"),
        }
    }

    /// Lane group `group`'s null rows as an `i8x16` mask, every byte of a null row's lane all
    /// ones: each row's validity byte copied across its lane (one byte shuffle), compared
    /// with zero. (Of bool bytes, the false rows: `bool_lanes`.)
    fn null_bytes(&mut self, bytes: Value, vector: Lanes, group: i64) -> Value {
        let lane_bytes = 16 / vector.lanes;
        let mut spread = [0u8; 16];
        for (index, byte) in spread.iter_mut().enumerate() {
            *byte = (group as usize * vector.lanes + index / lane_bytes) as u8;
        }
        let spread = self.shuffle_immediate(spread);
        let rows = self.builder.ins().shuffle(bytes, bytes, spread);
        let zero = self.builder.ins().iconst(types::I8, 0);
        let zeros = self.builder.ins().splat(types::I8X16, zero);
        self.builder.ins().icmp(IntCC::Equal, rows, zeros)
    }

    /// Lane group `group`'s null rows as a lane mask of the loop's type (all-ones lanes where
    /// null), from the iteration's validity bytes: each row's byte copied across its lane
    /// (one byte shuffle), compared with zero. No lane is null when the operand is never null
    /// (`bytes` None).
    fn null_lanes(&mut self, bytes: Option<Value>, vector: Lanes, group: i64) -> Value {
        let little = little_endian();
        let int = vector.bits_type();
        let null = match bytes {
            None => {
                let zero = self.int_const(int.lane_type(), 0);
                self.builder.ins().splat(int, zero)
            }
            Some(bytes) => {
                let null = self.null_bytes(bytes, vector, group);
                self.builder.ins().bitcast(int, little, null)
            }
        };
        if vector.elem.is_integer() {
            null
        } else {
            self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), null)
        }
    }

    /// The address of element `outer + first + rows` of `base`'s elements of `size` bytes,
    /// as an address and a byte offset for the load or store, where `outer` is invariant in
    /// the loop (the block's first row, a buffer's halo): `base + outer·size` is computed
    /// apart so that Cranelift hoists it out of the loop, the iteration adds `first·size`
    /// (one address computation per column, shared by the lane groups), and `rows` is the
    /// offset where it fits the offset's 32 bits.
    fn group_address(
        &mut self,
        base: Value,
        outer: Value,
        first: Value,
        rows: i64,
        size: i64,
    ) -> (Value, i32) {
        match rows.checked_mul(size).and_then(|bytes| i32::try_from(bytes).ok()) {
            Some(offset) => (self.row_address(base, outer, first, size), offset),
            None => {
                let index = self.builder.ins().iadd_imm_s(first, rows);
                (self.row_address(base, outer, index, size), 0)
            }
        }
    }

    /// `lanes` rows from block row `i` of a value; the vector plan guarantees every lagged
    /// index is in range.
    pub(super) fn read_vector(
        &mut self,
        node: NodeId,
        vector: Lanes,
        start: Value,
        i: GroupRows,
        computed: &HashMap<NodeId, Value>,
        splats: &HashMap<NodeId, Value>,
    ) -> Value {
        let (base, delta) = self.plan.resolve_lags(node);
        if let Some(&splat) = splats.get(&base) {
            return splat;
        }
        if let (0, Some(&value)) = (delta, computed.get(&base)) {
            return value;
        }
        // `offset ≥ 0` and `delta ≥ 0`: the difference cannot overflow.
        let rows = i.offset - i64::try_from(delta).unwrap_or(i64::MAX);
        // A lag of a value this loop computes, across lane groups: the rows lie in two
        // groups' stores, just made. A load spanning two stores waits until they reach the
        // cache (no store forwards part of itself); loads of a lane (a byte, for bools) each,
        // each within one store, are forwarded.
        let across_groups = delta % vector.lanes as u64 != 0 && computed.contains_key(&base);
        if let Some(&slot) = self.packed_bool_bytes.get(&(base, delta)) {
            // A bit-packed bool column, unpacked before the loop with its lag applied.
            let bytes = self.builder.ins().stack_addr(types::I64, slot, 0);
            let zero = self.builder.ins().iconst(types::I64, 0);
            return self.bool_lanes(bytes, zero, vector, (i.first, i.offset), false);
        }
        let (values, outer) = self
            .values_base(base, start)
            .expect("a vector loop reads columns of a byte or more a row, or buffered values");
        if self.plan.program.node(base).ty.elem == Elem::Bool {
            return self.bool_lanes(values, outer, vector, (i.first, rows), across_groups);
        }
        // A column of half the lanes' width, which only a widening conversion reads
        // (`fuse_loops::is_widening_to_64_bit_lanes`): a lane group's rows fill the low half.
        let narrow = Lanes::of(self.plan.program.node(base).ty.elem);
        let element_size = vector.size.min(narrow.size);
        let (address, offset) = self.group_address(values, outer, i.first, rows, element_size);
        if narrow.size < vector.size {
            // Exactly the group's rows (8 bytes), never past them.
            let rows = self.builder.ins().load(types::I64, vector_flags(), address, offset);
            let wide = self.builder.ins().scalar_to_vector(types::I64X2, rows);
            return self.builder.ins().bitcast(narrow.ty, little_endian(), wide);
        }
        let ty = self.node_lanes(base, vector).ty;
        if across_groups {
            let mut lanes = None;
            for lane in 0..vector.lanes {
                let lane_offset = offset + (lane as i64 * vector.size) as i32;
                let value = self.builder.ins().load(ty.lane_type(), vector_flags(), address, lane_offset);
                lanes = Some(match lanes {
                    None => self.builder.ins().scalar_to_vector(ty, value),
                    Some(lanes) => self.builder.ins().insertlane(lanes, value, lane as u8),
                });
            }
            return lanes.expect("a vector has lanes");
        }
        self.builder.ins().load(ty, vector_flags(), address, offset)
    }

    /// A lane group's rows of bools kept a byte a row (0 or 1) at `bytes` (a bool column,
    /// `fuse_loops::vector_plan` taking no bit-packed one, or a buffer) as a lane mask of the
    /// loop's type: the group's bytes loaded (exactly them), each copied across its lane (one
    /// byte shuffle) and compared with zero. `across_groups`: the rows lie in two lane
    /// groups' stores just made, so each byte is loaded apart (a load spanning two stores
    /// waits for them to reach the cache; a byte within one store is forwarded).
    fn bool_lanes(
        &mut self,
        bytes: Value,
        outer: Value,
        vector: Lanes,
        (first, rows): (Value, i64),
        across_groups: bool,
    ) -> Value {
        let little = little_endian();
        let (address, offset) = self.group_address(bytes, outer, first, rows, 1);
        let bytes = if across_groups {
            let zero = self.builder.ins().iconst(types::I8, 0);
            let mut bytes = self.builder.ins().splat(types::I8X16, zero);
            for lane in 0..vector.lanes {
                let byte = self.builder.ins().load(types::I8, vector_flags(), address, offset + lane as i32);
                bytes = self.builder.ins().insertlane(bytes, byte, lane as u8);
            }
            bytes
        } else {
            let group_bytes = if vector.lanes == 2 { types::I16 } else { types::I32 };
            let bytes = self.builder.ins().load(group_bytes, vector_flags(), address, offset);
            let bytes = self.builder.ins().uextend(types::I64, bytes);
            let bytes = self.builder.ins().scalar_to_vector(types::I64X2, bytes);
            self.builder.ins().bitcast(types::I8X16, little, bytes)
        };
        // The group's bytes are the first: its rows' zero bytes as lane group 0's.
        let is_false = self.null_bytes(bytes, vector, 0);
        let is_true = self.builder.ins().bnot(is_false);
        let mask = self.builder.ins().bitcast(vector.bits_type(), little, is_true);
        if vector.elem.is_integer() {
            mask
        } else {
            self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), mask)
        }
    }

    /// Stores one lane group's mask as its rows' 0/1 bytes at `address + offset` (2 bytes for
    /// 64-bit lanes, 4 for 32-bit): byte 0 of each lane picked out by a shuffle.
    fn store_group_mask_as_bools(&mut self, mask: Value, vector: Lanes, address: Value, offset: i32) {
        let little = little_endian();
        let bytes = self.builder.ins().bitcast(types::I8X16, little, mask);
        let mut pick = [0u8; 16];
        for (lane, byte) in pick.iter_mut().take(vector.lanes).enumerate() {
            *byte = (lane as i64 * vector.size) as u8;
        }
        let pick = self.shuffle_immediate(pick);
        let picked = self.builder.ins().shuffle(bytes, bytes, pick);
        let one = self.builder.ins().iconst(types::I8, 1);
        let ones = self.builder.ins().splat(types::I8X16, one);
        let bools = self.builder.ins().band(picked, ones);
        let vector_type = if vector.lanes == 2 { types::I16X8 } else { types::I32X4 };
        let bools = self.builder.ins().bitcast(vector_type, little, bools);
        let bools = self.builder.ins().extractlane(bools, 0);
        self.builder.ins().store(vector_flags(), bools, address, offset);
    }

    /// The lanes node `id` computes in, of a loop whose lanes are `loop_lanes`: its own type's
    /// (a comparison's, its operands'), of the loop's width; the loop's for a result
    /// conversion (computed in its operand's lanes) and for logic (its masks' type follows
    /// its operands', made one where they differ).
    fn node_lanes(&self, id: NodeId, loop_lanes: Lanes) -> Lanes {
        let node = self.plan.program.node(id);
        let elem = match node.kind {
            NodeKind::Binary { op, lhs, .. } if op.is_comparison() => self.plan.program.node(lhs).ty.elem,
            NodeKind::Unary { op, arg } if fuse_loops::is_float_test(op) => {
                self.plan.program.node(arg).ty.elem
            }
            _ => node.ty.elem,
        };
        match elem {
            Elem::Bool => loop_lanes,
            elem if Lanes::of(elem).size == loop_lanes.size => Lanes::of(elem),
            _ => loop_lanes,
        }
    }

    /// The SIMD form of what the vector plan allows: arithmetic, comparisons (as lane masks)
    /// and `where` on such a mask. `sign_mask`: the sign bits of the lanes, which the loop
    /// loads before its rows when it negates floats.
    pub(super) fn apply_vector(
        &mut self,
        id: NodeId,
        vector: Lanes,
        operands: &[Value],
        sign_mask: Option<Value>,
    ) -> Value {
        let node = *self.plan.program.node(id);
        let vector = self.node_lanes(id, vector);
        // A mask of the other type of the same width (`where(x > y, 1, 0)`), or logic on
        // masks of both: the same bits in this node's type.
        let as_type = |this: &mut Self, value: Value, ty: types::Type| {
            if this.builder.func.dfg.value_type(value) == ty {
                value
            } else {
                this.builder.ins().bitcast(ty, MemFlagsData::new(), value)
            }
        };
        let operands: Vec<Value> = match node.kind {
            NodeKind::Where { .. } => {
                let cond = as_type(self, operands[0], vector.ty);
                vec![cond, operands[1], operands[2]]
            }
            NodeKind::Binary { op, .. } if op.is_logic() => {
                let ty = self.builder.func.dfg.value_type(operands[0]);
                vec![operands[0], as_type(self, operands[1], ty)]
            }
            _ => operands.to_vec(),
        };
        let operands = &operands[..];
        if let NodeKind::Unary { op: UnaryOp::Cast, arg } = node.kind {
            let from = self.plan.program.node(arg).ty.elem;
            match (from, node.ty.elem) {
                // An integer to the float of its width, lane by lane: rounded to nearest
                // (even), as the row form's `as` conversion.
                (from, to) if fuse_loops::is_integer_to_float_of_its_width(from, to) => {
                    return self.builder.ins().fcvt_from_sint(vector.ty, operands[0]);
                }
                // In 64-bit lanes, the low half of a column of half the width (`read_vector`),
                // widened exactly. (In f32 lanes, f32 to f64 is the result conversion.)
                (Elem::F32, Elem::F64) if vector.size == 8 => {
                    return self.builder.ins().fvpromote_low(operands[0]);
                }
                (Elem::I32, Elem::F64) => {
                    let wide = self.builder.ins().swiden_low(operands[0]);
                    return self.builder.ins().fcvt_from_sint(vector.ty, wide);
                }
                (Elem::I32, Elem::I64) => return self.builder.ins().swiden_low(operands[0]),
                // The result conversion (f64 ↔ f32): its operand's lanes, converted when
                // stored.
                _ => return operands[0],
            }
        }
        if vector.elem.is_integer() {
            return self.apply_integer_vector(node.kind, vector, operands);
        }
        match node.kind {
            // The same bits as `fneg` (IEEE negation flips the sign bit, of a NaN too), with the
            // mask loaded before the loop: Cranelift's `fneg` builds it at every use.
            NodeKind::Unary { op: UnaryOp::Neg, .. } => {
                let int = vector.bits_type();
                let mask = sign_mask.expect("a loop that negates floats loads the sign mask first");
                let bits = self.builder.ins().bitcast(int, MemFlagsData::new(), operands[0]);
                let flipped = self.builder.ins().bxor(bits, mask);
                self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), flipped)
            }
            NodeKind::Unary { op: UnaryOp::Abs, .. } => self.builder.ins().fabs(operands[0]),
            NodeKind::Unary { op: UnaryOp::Sqrt, .. } => self.builder.ins().sqrt(operands[0]),
            NodeKind::Unary { op: UnaryOp::Floor, .. } => self.builder.ins().floor(operands[0]),
            NodeKind::Unary { op: UnaryOp::Ceil, .. } => self.builder.ins().ceil(operands[0]),
            NodeKind::Unary { op: UnaryOp::Round, .. } => self.builder.ins().nearest(operands[0]),
            NodeKind::Unary { op: UnaryOp::Trunc, .. } => self.builder.ins().trunc(operands[0]),
            NodeKind::Unary { op: UnaryOp::Sign, .. } => self.sign_vector(operands[0], vector),
            // Float tests as lane masks, as the row form's: NaN is unordered with itself;
            // |x| < ∞ is false for NaN, |x| == ∞ only for ±∞.
            NodeKind::Unary { op: UnaryOp::IsNan, .. } => {
                let mask = self.builder.ins().fcmp(FloatCC::Unordered, operands[0], operands[0]);
                self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), mask)
            }
            NodeKind::Unary { op: op @ (UnaryOp::IsFinite | UnaryOp::IsInf), .. } => {
                let [infinity] = self.float_vector_constants([f64::INFINITY], vector);
                let magnitude = self.builder.ins().fabs(operands[0]);
                let cc = if op == UnaryOp::IsFinite { FloatCC::LessThan } else { FloatCC::Equal };
                let mask = self.builder.ins().fcmp(cc, magnitude, infinity);
                self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), mask)
            }
            NodeKind::Binary { op: BinaryOp::Add, .. } => self.builder.ins().fadd(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Sub, .. } => self.builder.ins().fsub(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Mul, .. } => self.builder.ins().fmul(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Div, .. } => self.builder.ins().fdiv(operands[0], operands[1]),
            NodeKind::Binary { op: op @ (BinaryOp::Min | BinaryOp::Max), lhs, rhs } => {
                let constants = [lhs, rhs].map(|operand| self.constant_not_nan(operand));
                self.min_max_vector(op, vector, [operands[0], operands[1]], constants)
            }
            NodeKind::Binary { op, .. } if op.is_comparison() => {
                // All-ones lanes where true, as the float vector type, for `where` to select with.
                let mask = self.builder.ins().fcmp(float_cc(op), operands[0], operands[1]);
                self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), mask)
            }
            NodeKind::Where { .. } => self.builder.ins().bitselect(operands[0], operands[1], operands[2]),
            // Logic on lane masks, bit by bit (a null operand's lanes are whatever its
            // operands gave; its validity is apart).
            NodeKind::Unary { op: UnaryOp::Not, .. } => self.builder.ins().bnot(operands[0]),
            NodeKind::Binary { op: BinaryOp::And, .. } => self.builder.ins().band(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Or, .. } => self.builder.ins().bor(operands[0], operands[1]),
            NodeKind::PowI { exponent, .. } => {
                let one = match vector.elem {
                    Elem::F32 => self.builder.ins().f32const(1.0),
                    Elem::F64 => self.builder.ins().f64const(1.0),
                    Elem::I64 | Elem::I32 | Elem::Bool => unreachable!("integer lanes are applied apart"),
                };
                let one = self.builder.ins().splat(vector.ty, one);
                self.pow_i_with(operands[0], exponent, one)
            }
            _ => unreachable!("the vector plan admits only arithmetic, comparisons, logic and where"),
        }
    }

    /// NumPy's `sign` of float lanes, as the row form's `sign`: `x > 0 ? 1 : x < 0 ? -1 :
    /// x == 0 ? +0 : x` (a NaN stays itself), three compares and blends, the constants
    /// loaded from the constant pool (which a blend can read in place).
    fn sign_vector(&mut self, x: Value, vector: Lanes) -> Value {
        let [one, minus_one, zero] = self.float_vector_constants([1.0f64, -1.0, 0.0], vector);
        let is_zero = self.builder.ins().fcmp(FloatCC::Equal, x, zero);
        let is_zero = self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), is_zero);
        let zero_or_nan = self.builder.ins().bitselect(is_zero, zero, x);
        let below = self.builder.ins().fcmp(FloatCC::LessThan, x, zero);
        let below = self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), below);
        let not_above = self.builder.ins().bitselect(below, minus_one, zero_or_nan);
        let above = self.builder.ins().fcmp(FloatCC::GreaterThan, x, zero);
        let above = self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), above);
        self.builder.ins().bitselect(above, one, not_above)
    }

    /// Float lanes holding each of `constants` (rounded to f32 for f32 lanes), from the
    /// constant pool (which a blend or compare can read in place).
    fn float_vector_constants<const N: usize>(&mut self, constants: [f64; N], vector: Lanes) -> [Value; N] {
        constants.map(|constant| {
            let mut bytes = Vec::with_capacity(16);
            for _ in 0..vector.lanes {
                match vector.elem {
                    Elem::F64 => bytes.extend_from_slice(&constant.to_le_bytes()),
                    Elem::F32 => bytes.extend_from_slice(&(constant as f32).to_le_bytes()),
                    Elem::I64 | Elem::I32 | Elem::Bool => {
                        unreachable!("float constants for float lanes only")
                    }
                }
            }
            let constant = self.builder.func.dfg.constants.insert(bytes.into());
            self.builder.ins().vconst(vector.ty, constant)
        })
    }

    /// The integer lanes' operations the vector plan admits: wrapping `+ - *`, negation and
    /// `abs`, `sign`, `min`/`max`, powers, comparisons (as lane masks of the same type) and
    /// `where` on them.
    fn apply_integer_vector(&mut self, kind: NodeKind, vector: Lanes, operands: &[Value]) -> Value {
        match kind {
            NodeKind::Unary { op: UnaryOp::Neg, .. } => self.builder.ins().ineg(operands[0]),
            // Wraps: the lanes' `iabs` of MIN is MIN, as `semantics::integer_unary`.
            NodeKind::Unary { op: UnaryOp::Abs, .. } => self.builder.ins().iabs(operands[0]),
            // (x < 0) − (x > 0) of all-ones masks: −1, 0 or 1.
            NodeKind::Unary { op: UnaryOp::Sign, .. } => {
                let zero = self.int_const(vector.ty.lane_type(), 0);
                let zero = self.builder.ins().splat(vector.ty, zero);
                let above = self.builder.ins().icmp(IntCC::SignedGreaterThan, operands[0], zero);
                let below = self.builder.ins().icmp(IntCC::SignedLessThan, operands[0], zero);
                self.builder.ins().isub(below, above)
            }
            NodeKind::Binary { op: BinaryOp::Min, .. } => self.builder.ins().smin(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Max, .. } => self.builder.ins().smax(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Add, .. } => self.builder.ins().iadd(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Sub, .. } => self.builder.ins().isub(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Mul, .. } => self.builder.ins().imul(operands[0], operands[1]),
            // All-ones lanes where true, already of the lane type.
            NodeKind::Binary { op, .. } if op.is_comparison() => {
                self.builder.ins().icmp(int_cc(op), operands[0], operands[1])
            }
            NodeKind::Where { .. } => self.builder.ins().bitselect(operands[0], operands[1], operands[2]),
            NodeKind::Unary { op: UnaryOp::Not, .. } => self.builder.ins().bnot(operands[0]),
            NodeKind::Binary { op: BinaryOp::And, .. } => self.builder.ins().band(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Or, .. } => self.builder.ins().bor(operands[0], operands[1]),
            NodeKind::PowI { exponent, .. } => {
                let one = self.int_const(vector.ty.lane_type(), 1);
                let one = self.builder.ins().splat(vector.ty, one);
                self.pow_i_with(operands[0], exponent, one)
            }
            _ => unreachable!(
                "the vector plan admits only + - *, negation, abs, sign, min, max, powers, comparisons, \
                 logic and where on integers"
            ),
        }
    }

    /// Stores the lane masks (all-ones or zero lanes) of one iteration's lane groups as bools,
    /// one 0/1 byte per row at `address + offset` (8 rows of 64-bit lanes, 16 of 32-bit).
    fn store_masks_as_bools(&mut self, masks: &[Value], vector: Lanes, address: Value, offset: i32) {
        let bools = self.masks_as_bools(masks, vector);
        self.store_iteration_bytes(bools, vector, address, offset);
    }

    /// An operand's validity for the iteration's rows as 0/1 bytes (`ArmLanes`):
    /// `iteration` holds the bytes loaded from each slot, `scalars` each nullable scalar's
    /// flag in every byte, `computed` the bytes computed for earlier selected values.
    fn arm_bytes(
        &mut self,
        arm: &ArmLanes,
        iteration: &HashMap<StackSlot, Value>,
        scalars: &HashMap<NodeId, Value>,
        computed: &HashMap<NodeId, Value>,
    ) -> Value {
        match arm {
            ArmLanes::Scalar(scalar) => scalars[scalar],
            ArmLanes::Bytes { slot, inside } => {
                let mut bytes = slot.map(|slot| iteration[&slot]);
                for node in inside {
                    bytes = Some(match bytes {
                        Some(bytes) => self.builder.ins().band(bytes, computed[node]),
                        None => computed[node],
                    });
                }
                bytes.unwrap_or_else(|| {
                    let one = self.builder.ins().iconst(types::I8, 1);
                    self.builder.ins().splat(types::I8X16, one)
                })
            }
        }
    }

    /// One iteration's lane masks as 0/1 bytes, a row a byte from byte 0.
    fn masks_as_bools(&mut self, masks: &[Value], vector: Lanes) -> Value {
        let bytes = self.masks_as_bytes(masks, vector);
        let one = self.builder.ins().iconst(types::I8, 1);
        let ones = self.builder.ins().splat(types::I8X16, one);
        self.builder.ins().band(bytes, ones)
    }

    /// One iteration's lane masks as a byte mask, a row a byte from byte 0 (all ones where the
    /// row's lane is): byte 0 of each lane picked out by two rounds of shuffles.
    fn masks_as_bytes(&mut self, masks: &[Value], vector: Lanes) -> Value {
        debug_assert_eq!(masks.len(), 4, "four lane groups per iteration");
        let lanes = vector.lanes;
        let little = little_endian();
        let bytes: Vec<Value> =
            masks.iter().map(|&mask| self.builder.ins().bitcast(types::I8X16, little, mask)).collect();
        // Round one: the first byte of every lane of two groups, side by side.
        let mut pick = [0u8; 16];
        for lane in 0..lanes {
            pick[lane] = (lane as i64 * vector.size) as u8;
            pick[lanes + lane] = 16 + (lane as i64 * vector.size) as u8;
        }
        let pairs = self.shuffle_immediate(pick);
        let low = self.builder.ins().shuffle(bytes[0], bytes[1], pairs);
        let high = self.builder.ins().shuffle(bytes[2], bytes[3], pairs);
        // Round two: the two halves' 2·lanes bytes each, one after the other.
        let mut join = [0u8; 16];
        for index in 0..2 * lanes {
            join[index] = index as u8;
            join[2 * lanes + index] = 16 + index as u8;
        }
        let join = self.shuffle_immediate(join);
        self.builder.ins().shuffle(low, high, join)
    }

    /// Stores an iteration's bytes (`masks_as_bools`'): 8 for rows of 64-bit lanes, 16 for
    /// 32-bit.
    fn store_iteration_bytes(&mut self, bytes: Value, vector: Lanes, address: Value, offset: i32) {
        if 4 * vector.lanes == 16 {
            self.builder.ins().store(vector_flags(), bytes, address, offset);
        } else {
            let words = self.builder.ins().bitcast(types::I64X2, little_endian(), bytes);
            let word = self.builder.ins().extractlane(words, 0);
            self.builder.ins().store(vector_flags(), word, address, offset);
        }
    }

    /// Stores lane group `i` converted to the result's float type, from the block's row
    /// `start + i.first + i.offset` of the output:
    /// f64x2 → two f32s (`fvdemote`, the low 8 bytes), f32x4 → four f64s (`fvpromote_low` of
    /// the low and of the high half). IEEE conversions, as the scalar form's.
    fn store_converted(&mut self, value: Value, vector: Lanes, to: Elem, start: Value, i: GroupRows) {
        let little = little_endian();
        match (vector.elem, to) {
            (Elem::F64, Elem::F32) => {
                let narrow = self.builder.ins().fvdemote(value);
                let words = self.builder.ins().bitcast(types::I64X2, little, narrow);
                let word = self.builder.ins().extractlane(words, 0);
                let (address, offset) = self.group_address(self.out_values, start, i.first, i.offset, 4);
                self.builder.ins().store(vector_flags(), word, address, offset);
            }
            (Elem::F32, Elem::F64) => {
                let low = self.builder.ins().fvpromote_low(value);
                let bytes = self.builder.ins().bitcast(types::I8X16, little, value);
                let mut upper = [0u8; 16];
                for (index, byte) in upper.iter_mut().enumerate() {
                    *byte = (8 + index % 8) as u8;
                }
                let upper = self.shuffle_immediate(upper);
                let high_bytes = self.builder.ins().shuffle(bytes, bytes, upper);
                let high = self.builder.ins().bitcast(types::F32X4, little, high_bytes);
                let high = self.builder.ins().fvpromote_low(high);
                let (address, offset) = self.group_address(self.out_values, start, i.first, i.offset, 8);
                let high_offset = offset.checked_add(16).expect("a group's offset is within a block");
                self.builder.ins().store(vector_flags(), low, address, offset);
                self.builder.ins().store(vector_flags(), high, address, high_offset);
            }
            _ => unreachable!("the vector plan converts results between f64 and f32 only"),
        }
    }

    fn shuffle_immediate(&mut self, bytes: [u8; 16]) -> cranelift_codegen::ir::Immediate {
        self.builder.func.dfg.immediates.push(cranelift_codegen::ir::ConstantData::from(&bytes[..]))
    }

    /// Whether `node` (through its lags) is a float constant that is not NaN: a `min`/`max`
    /// operand whose NaN selection can be left out (`max(d, 0)`).
    pub(super) fn constant_not_nan(&self, node: NodeId) -> Option<f64> {
        let (base, _) = self.plan.resolve_lags(node);
        let value = match self.plan.program.node(base).kind {
            NodeKind::Const(ConstValue::F64(bits)) => f64::from_bits(bits),
            // Widened exactly: the sign of a zero and every value are kept.
            NodeKind::Const(ConstValue::F32(bits)) => f64::from(f32::from_bits(bits)),
            _ => return None,
        };
        (!value.is_nan()).then_some(value)
    }

    /// IEEE 754-2019 minimum/maximum lane-wise, exactly as `semantics::minimum`/`maximum` (the
    /// row form takes lane 0 of it: `Translator::min_max`): a NaN operand gives that NaN (the
    /// left first); equal values combine their bits, so that `min(-0, +0) = -0` (OR of the
    /// sign bits) and `max(-0, +0) = +0` (AND). `constants` holds an operand's value where it
    /// is a constant that is not NaN: with one such constant `c` the result is one comparison
    /// and one selection ([`Self::min_max_of_constant`]); otherwise the NaN selection of a
    /// constant operand is left out (it would never pick it). The selections run on the
    /// lanes' bits, where the comparisons' masks are used as they come (not bitcast), so that
    /// Cranelift emits each as one blend.
    pub(super) fn min_max_vector(
        &mut self,
        op: BinaryOp,
        vector: Lanes,
        [a, b]: [Value; 2],
        constants: [Option<f64>; 2],
    ) -> Value {
        let int = vector.bits_type();
        let flags = MemFlagsData::new();
        let a_bits = self.builder.ins().bitcast(int, flags, a);
        let b_bits = self.builder.ins().bitcast(int, flags, b);
        match constants {
            [None, Some(c)] => return self.min_max_of_constant(op, vector, (a, a_bits), (b, b_bits, c)),
            [Some(c), None] => return self.min_max_of_constant(op, vector, (b, b_bits), (a, a_bits, c)),
            _ => {}
        }
        let [a_never_nan, b_never_nan] = constants.map(|constant| constant.is_some());
        let (first_cc, second_cc, combined) = if op == BinaryOp::Min {
            (FloatCC::LessThan, FloatCC::GreaterThan, self.builder.ins().bor(a_bits, b_bits))
        } else {
            (FloatCC::GreaterThan, FloatCC::LessThan, self.builder.ins().band(a_bits, b_bits))
        };
        let a_wins = self.builder.ins().fcmp(first_cc, a, b);
        let b_wins = self.builder.ins().fcmp(second_cc, a, b);
        let ordered = self.builder.ins().bitselect(b_wins, b_bits, combined);
        let mut selected = self.builder.ins().bitselect(a_wins, a_bits, ordered);
        // b's NaN first, then a's over it: a NaN `a` wins, as `semantics::maximum` has it.
        for (operand, bits, never_nan) in [(b, b_bits, b_never_nan), (a, a_bits, a_never_nan)] {
            if !never_nan {
                let nan = self.builder.ins().fcmp(FloatCC::Unordered, operand, operand);
                selected = self.builder.ins().bitselect(nan, bits, selected);
            }
        }
        self.builder.ins().bitcast(vector.ty, flags, selected)
    }

    /// `minimum`/`maximum` of `x` and a constant `c` that is not NaN (in either operand
    /// order: with one NaN at most, the order never matters), as one ordered comparison that
    /// picks `c` and one selection: a NaN `x` fails every ordered comparison and is kept.
    /// `max`: `c` where `x ≤ c` (where `x < c` for `c = −0`, so that `max(+0, −0) = +0`);
    /// `min`: `c` where `x ≥ c` (where `x > c` for `c = +0`, so that `min(−0, +0) = −0`).
    /// Elsewhere equal values have equal bits: only zeros have two.
    fn min_max_of_constant(
        &mut self,
        op: BinaryOp,
        vector: Lanes,
        (x, x_bits): (Value, Value),
        (c, c_bits, value): (Value, Value, f64),
    ) -> Value {
        let picks_c = match op {
            BinaryOp::Max if value == 0.0 && value.is_sign_negative() => FloatCC::LessThan,
            BinaryOp::Max => FloatCC::LessThanOrEqual,
            BinaryOp::Min if value == 0.0 && value.is_sign_positive() => FloatCC::GreaterThan,
            BinaryOp::Min => FloatCC::GreaterThanOrEqual,
            _ => unreachable!("min_max_vector takes min and max only"),
        };
        let mask = self.builder.ins().fcmp(picks_c, x, c);
        let selected = self.builder.ins().bitselect(mask, c_bits, x_bits);
        self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), selected)
    }
}

/// A SIMD type of the vector form: `f64x2` or `f32x4`, 128 bits either way.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lanes {
    /// The element type of a lane.
    pub(super) elem: Elem,
    pub(super) ty: types::Type,
    pub(super) lanes: usize,
    /// Bytes per lane.
    pub(super) size: i64,
}

impl Lanes {
    /// The integer vector of the same lanes: the type of its lane masks and of its bits.
    pub(super) fn bits_type(self) -> types::Type {
        if self.lanes == 2 { types::I64X2 } else { types::I32X4 }
    }

    pub(super) fn of(elem: Elem) -> Lanes {
        match elem {
            Elem::F32 => Lanes { elem, ty: types::F32X4, lanes: 4, size: 4 },
            Elem::F64 => Lanes { elem, ty: types::F64X2, lanes: 2, size: 8 },
            Elem::I64 => Lanes { elem, ty: types::I64X2, lanes: 2, size: 8 },
            Elem::I32 => Lanes { elem, ty: types::I32X4, lanes: 4, size: 4 },
            Elem::Bool => unreachable!("the planner vectorises number loops only (vector_plan)"),
        }
    }
}

/// Lane groups per iteration of a vector loop (8 f64 or 16 f32 rows): measured no slower than
/// 4 groups on W4 (`examples/workloads`), with fewer branches. Rows per iteration must be a
/// power of two.
pub(super) const VECTOR_GROUPS_PER_ITERATION: usize = 4;

/// A lane group's rows in a vector loop's iteration: block rows `first + offset ..`, with
/// `first` the iteration's first row and `offset` (≥ 0) the group's distance from it.
#[derive(Clone, Copy)]
pub(super) struct GroupRows {
    pub(super) first: Value,
    pub(super) offset: i64,
}

/// The flags of a bitcast that changes the lane count, which must name its byte order; every
/// target fusejit runs on is little-endian.
fn little_endian() -> MemFlagsData {
    MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little)
}

/// Vector accesses may be unaligned (lagged reads start anywhere), and never trap: the plan
/// keeps them inside the buffers.
fn vector_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}
