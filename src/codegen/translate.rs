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

use super::layout::{self, ArgLayout, BufferWord, ExtraOutputWord, InputWord};
use super::runtime_functions::{RuntimeFunction, RuntimeRefs};
use crate::ir::{BinaryOp, ConstValue, Elem, NodeId, NodeKind, Shape, UnaryOp};
use crate::passes::fuse_loops::{BLOCK_ROWS, LoopPlan, Stage, VectorForm};
use crate::runtime::stubs::{SOURCE_BITMAP, SOURCE_BYTES, SOURCE_IN_RANGE};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    FuncRef, InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Value, types,
};
use cranelift_frontend::FunctionBuilder;
use std::collections::HashMap;

type Pair = (Value, Value);

struct InputRegs {
    data: Value,
    validity: Option<(Value, Value)>,
}

struct BufferRegs {
    values: Value,
    validity: Option<Value>,
    halo: Value,
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
}

fn clif_type(elem: Elem) -> types::Type {
    match elem {
        Elem::F64 => types::F64,
        Elem::F32 => types::F32,
        Elem::Bool => types::I8,
    }
}

fn elem_size(elem: Elem) -> i64 {
    match elem {
        Elem::F64 => 8,
        Elem::F32 => 4,
        Elem::Bool => 1,
    }
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
        };
        translator.load_pointers();
        translator.compute_scalars();
        if plan.program.result_type().shape == Shape::Scalar {
            translator.write_scalar_result();
        } else {
            translator.block_loop();
        }
        translator.builder.ins().return_(&[]);
        translator.builder.seal_all_blocks();
        translator.builder.finalize(frontend_config);
    }

    fn arg(&mut self, index: usize) -> Value {
        self.builder.ins().load(types::I64, self.flags, self.args, word(index))
    }

    /// Loads every loop-invariant value a stage uses, at the start of the stage: pointers from
    /// the argument block, scalars from their stack slots. Each is then live only within the
    /// stage's row loop, where there is no call, so it stays in a register.
    fn reload_invariants(&mut self) {
        self.out_values = self.arg(layout::OUT_VALUES);
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
                let validity = if self.plan.input_nullable[slot] {
                    let bytes = self.arg(self.layout.input(slot, InputWord::Validity));
                    let offset = self.arg(self.layout.input(slot, InputWord::Offset));
                    Some((bytes, offset))
                } else {
                    None
                };
                self.inputs.push(Some(InputRegs { data, validity }));
            } else {
                self.inputs.push(None);
            }
        }
        for (index, buffer) in self.plan.buffers.iter().enumerate() {
            let values = self.arg(self.layout.buffer(index, BufferWord::Values));
            let validity = buffer.nullable.then(|| self.arg(self.layout.buffer(index, BufferWord::Validity)));
            let halo = self.arg(self.layout.buffer(index, BufferWord::Halo));
            self.buffers.push(BufferRegs { values, validity, halo });
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
                        Elem::Bool => self.builder.ins().ireduce(types::I8, bits),
                    };
                    (value, self.one())
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

    fn constant(&mut self, constant: ConstValue, elem: Elem) -> Pair {
        let zero_valid = self.builder.ins().iconst(types::I8, 0);
        match (constant, elem) {
            (ConstValue::F64(bits), _) => (self.builder.ins().f64const(f64::from_bits(bits)), self.one()),
            (ConstValue::F32(bits), _) => (self.builder.ins().f32const(f32::from_bits(bits)), self.one()),
            (ConstValue::Bool(value), _) => {
                (self.builder.ins().iconst(types::I8, i64::from(value)), self.one())
            }
            (ConstValue::Null, Elem::F64) => (self.builder.ins().f64const(0.0), zero_valid),
            (ConstValue::Null, Elem::F32) => (self.builder.ins().f32const(0.0), zero_valid),
            (ConstValue::Null, Elem::Bool) => (self.builder.ins().iconst(types::I8, 0), zero_valid),
        }
    }

    /// `for i in 0..len { body(i) }`, with `i` an i64.
    fn row_loop(&mut self, len: Value, body: impl FnMut(&mut Self, Value)) {
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.stepped_loop(zero, len, 1, body);
    }

    /// `for (i = from; i < end; i += step) { body(i) }`, with `i` an i64.
    fn stepped_loop(&mut self, from: Value, end: Value, step: i64, mut body: impl FnMut(&mut Self, Value)) {
        let header = self.builder.create_block();
        let body_block = self.builder.create_block();
        let exit = self.builder.create_block();
        self.builder.append_block_param(header, types::I64);
        self.builder.ins().jump(header, &[from.into()]);
        self.builder.switch_to_block(header);
        let i = self.builder.block_params(header)[0];
        let more = self.builder.ins().icmp(IntCC::SignedLessThan, i, end);
        self.builder.ins().brif(more, body_block, &[], exit, &[]);
        self.builder.switch_to_block(body_block);
        body(self, i);
        let next = self.builder.ins().iadd_imm_s(i, step);
        self.builder.ins().jump(header, &[next.into()]);
        self.builder.switch_to_block(exit);
    }

    fn block_loop(&mut self) {
        let header = self.builder.create_block();
        let body = self.builder.create_block();
        let exit = self.builder.create_block();
        self.builder.append_block_param(header, types::I64);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.ins().jump(header, &[zero.into()]);
        self.builder.switch_to_block(header);
        let start = self.builder.block_params(header)[0];
        let more = self.builder.ins().icmp(IntCC::SignedLessThan, start, self.rows);
        self.builder.ins().brif(more, body, &[], exit, &[]);
        self.builder.switch_to_block(body);
        let remaining = self.builder.ins().isub(self.rows, start);
        let block_rows = self.builder.ins().iconst(types::I64, BLOCK_ROWS as i64);
        let len = self.builder.ins().smin(remaining, block_rows);
        let last = self.plan.stages.len() - 1;
        for (index, stage) in self.plan.stages.iter().enumerate() {
            self.reload_invariants();
            match stage {
                Stage::Loop { nodes, vector } => {
                    let writes_result = index == last && self.plan.reduce_result.is_empty();
                    // A reducing plan's closing loop may have nothing to do.
                    if !nodes.is_empty() || writes_result {
                        self.loop_stage(nodes, vector.as_ref(), start, len, writes_result)
                    }
                }
                Stage::BlockCall { node, op } => self.block_call(*node, *op, start, len),
                Stage::ScanCall { node, state } => self.scan_call(*node, *state, start, len),
            }
        }
        self.reload_invariants();
        self.write_extra_outputs(start, len);
        if !self.plan.reduce_result.is_empty() {
            self.reduce_result_block(len);
        }
        self.shift_halos(len);
        let next = self.builder.ins().iadd(start, len);
        self.builder.ins().jump(header, &[next.into()]);
        self.builder.switch_to_block(exit);
    }

    fn loop_stage(
        &mut self,
        nodes: &[NodeId],
        vector: Option<&VectorForm>,
        start: Value,
        len: Value,
        writes_result: bool,
    ) {
        let result = self.plan.program.result;
        let result_nullable = self.plan.result_nullable();
        // Rows [0, scalar_from) run in f64x2 when the block starts past the farthest lag; the
        // rest (or the whole block) run one at a time.
        let scalar_from = match vector {
            Some(vector) => {
                let from_row = i64::try_from(vector.from_row).unwrap_or(i64::MAX);
                let from_row = self.builder.ins().iconst(types::I64, from_row);
                let eligible = self.builder.ins().icmp(IntCC::SignedGreaterThanOrEqual, start, from_row);
                let rows_per_iteration = (VECTOR_GROUPS_PER_ITERATION * Lanes::of(vector.elem).lanes) as i64;
                let whole_groups = self.builder.ins().band_imm_s(len, -rows_per_iteration);
                let zero = self.builder.ins().iconst(types::I64, 0);
                let vector_end = self.builder.ins().select(eligible, whole_groups, zero);
                self.vector_loop(nodes, vector.elem, start, vector_end, writes_result);
                // The vector rows' validity, a block at a time (the scalar tail does its own).
                for target in &vector.validity {
                    let destination = match target.node {
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
                vector_end
            }
            None => self.builder.ins().iconst(types::I64, 0),
        };
        self.stepped_loop(scalar_from, len, 1, |this, i| {
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
                let row = this.builder.ins().iadd(start, i);
                let elem = this.plan.program.result_type().elem;
                let address = this.element_address(this.out_values, row, elem_size(elem));
                this.builder.ins().store(this.flags, value, address, 0);
                if result_nullable {
                    let address = this.builder.ins().iadd(this.out_valid_block, i);
                    this.builder.ins().store(this.flags, valid, address, 0);
                }
            }
        });
        if writes_result && result_nullable {
            self.builder.ins().call(
                self.stubs.get(RuntimeFunction::PackValidity),
                &[self.out_valid_block, self.out_bitmap, start, len],
            );
        }
    }

    /// The SIMD form of a row loop (see `VectorForm`): rows `[0, end)` of the block,
    /// `VECTOR_GROUPS_PER_ITERATION` lane groups of `f64x2` or `f32x4` per iteration. Values
    /// only: validity is combined apart.
    fn vector_loop(&mut self, nodes: &[NodeId], elem: Elem, start: Value, end: Value, writes_result: bool) {
        let vector = Lanes::of(elem);
        // Splat every scalar the loop reads once, before it, into a stack slot the loop loads
        // from: a splat value itself is rematerialised (a shuffle) at every use, while a load
        // folds into the arithmetic (3.58 instead of 3.82 instructions per row on W4, callgrind).
        let mut splats: HashMap<NodeId, StackSlot> = HashMap::new();
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
                let splat = self.builder.ins().splat(vector.ty, value);
                let data = StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4);
                let slot = self.builder.create_sized_stack_slot(data);
                self.builder.ins().stack_store(types::I64, splat, slot, 0);
                splats.insert(base, slot);
            }
        }
        let zero = self.builder.ins().iconst(types::I64, 0);
        let result = self.plan.program.result;
        let rows_per_iteration = (VECTOR_GROUPS_PER_ITERATION * vector.lanes) as i64;
        self.stepped_loop(zero, end, rows_per_iteration, |this, first| {
            for group in 0..VECTOR_GROUPS_PER_ITERATION as i64 {
                let i = this.builder.ins().iadd_imm_s(first, vector.lanes as i64 * group);
                let mut computed: HashMap<NodeId, Value> = HashMap::new();
                for &id in nodes {
                    let operands: Vec<Value> = this
                        .plan
                        .program
                        .node(id)
                        .kind
                        .operands()
                        .into_iter()
                        .map(|operand| this.read_vector(operand, vector, start, i, &computed, &splats))
                        .collect();
                    let value = this.apply_vector(id, vector, &operands);
                    if let Some(buffer) = this.plan.buffer_of[id.index()] {
                        let (values, halo) = (this.buffers[buffer].values, this.buffers[buffer].halo);
                        let index = this.builder.ins().iadd(halo, i);
                        let address = this.element_address(values, index, vector.size);
                        this.builder.ins().store(vector_flags(), value, address, 0);
                    }
                    computed.insert(id, value);
                }
                if writes_result {
                    let value = this.read_vector(result, vector, start, i, &computed, &splats);
                    let row = this.builder.ins().iadd(start, i);
                    let address = this.element_address(this.out_values, row, vector.size);
                    this.builder.ins().store(vector_flags(), value, address, 0);
                }
            }
        });
    }

    /// `lanes` rows from block row `i` of a value; the vector plan guarantees every lagged
    /// index is in range.
    fn read_vector(
        &mut self,
        node: NodeId,
        vector: Lanes,
        start: Value,
        i: Value,
        computed: &HashMap<NodeId, Value>,
        splats: &HashMap<NodeId, StackSlot>,
    ) -> Value {
        let (base, delta) = self.plan.resolve_lags(node);
        if let Some(&slot) = splats.get(&base) {
            return self.builder.ins().stack_load(types::I64, vector.ty, slot, 0);
        }
        if let (0, Some(&value)) = (delta, computed.get(&base)) {
            return value;
        }
        let delta = i64::try_from(delta).unwrap_or(i64::MAX);
        let address = if let NodeKind::Input { slot } = self.plan.program.node(base).kind {
            let data = self.inputs[slot as usize].as_ref().map(|regs| regs.data).expect("column input");
            let row = self.builder.ins().iadd(start, i);
            let row = self.builder.ins().iadd_imm_s(row, -delta);
            self.element_address(data, row, vector.size)
        } else {
            let buffer =
                self.plan.buffer_of[base.index()].expect("the plan buffers every value read across stages");
            let (values, halo) = (self.buffers[buffer].values, self.buffers[buffer].halo);
            let position = self.builder.ins().iadd(halo, i);
            let position = self.builder.ins().iadd_imm_s(position, -delta);
            self.element_address(values, position, vector.size)
        };
        self.builder.ins().load(vector.ty, vector_flags(), address, 0)
    }

    /// The SIMD form of what the vector plan allows: arithmetic, comparisons (as lane masks)
    /// and `where` on such a mask.
    fn apply_vector(&mut self, id: NodeId, vector: Lanes, operands: &[Value]) -> Value {
        let node = *self.plan.program.node(id);
        match node.kind {
            NodeKind::Unary { op: UnaryOp::Neg, .. } => self.builder.ins().fneg(operands[0]),
            NodeKind::Unary { op: UnaryOp::Abs, .. } => self.builder.ins().fabs(operands[0]),
            NodeKind::Unary { op: UnaryOp::Sqrt, .. } => self.builder.ins().sqrt(operands[0]),
            NodeKind::Unary { op: UnaryOp::Floor, .. } => self.builder.ins().floor(operands[0]),
            NodeKind::Unary { op: UnaryOp::Ceil, .. } => self.builder.ins().ceil(operands[0]),
            NodeKind::Unary { op: UnaryOp::Round, .. } => self.builder.ins().nearest(operands[0]),
            NodeKind::Binary { op: BinaryOp::Add, .. } => self.builder.ins().fadd(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Sub, .. } => self.builder.ins().fsub(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Mul, .. } => self.builder.ins().fmul(operands[0], operands[1]),
            NodeKind::Binary { op: BinaryOp::Div, .. } => self.builder.ins().fdiv(operands[0], operands[1]),
            NodeKind::Binary { op: op @ (BinaryOp::Min | BinaryOp::Max), .. } => {
                self.min_max_vector(op, vector, operands[0], operands[1])
            }
            NodeKind::Binary { op, .. } if op.is_comparison() => {
                // All-ones lanes where true, as the float vector type, for `where` to select with.
                let mask = self.builder.ins().fcmp(float_cc(op), operands[0], operands[1]);
                self.builder.ins().bitcast(vector.ty, MemFlagsData::new(), mask)
            }
            NodeKind::Where { .. } => self.builder.ins().bitselect(operands[0], operands[1], operands[2]),
            NodeKind::PowI { exponent, .. } => {
                let one = match vector.ty {
                    types::F32X4 => self.builder.ins().f32const(1.0),
                    _ => self.builder.ins().f64const(1.0),
                };
                let one = self.builder.ins().splat(vector.ty, one);
                self.pow_i_with(operands[0], exponent, one)
            }
            _ => unreachable!("the vector plan admits only arithmetic, comparisons and where"),
        }
    }

    /// Writes the validity of block rows `[0, len)` as 0/1 bytes to `destination`: the AND of
    /// `sources` (`(value, rows back)` reads), through the runtime's `combine_validity`.
    fn combine_validity(&mut self, sources: &[(NodeId, u64)], start: Value, len: Value, destination: Value) {
        let size = u32::try_from(32 * sources.len().max(1)).expect("few sources");
        let slot =
            self.builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
        for (index, &(base, delta)) in sources.iter().enumerate() {
            let delta = self.builder.ins().iconst(types::I64, i64::try_from(delta).unwrap_or(i64::MAX));
            let first_valid = self.builder.ins().isub(delta, start);
            let (kind, pointer, position) = match self.plan.program.node(base).kind {
                // Never null itself: valid wherever the read is in range.
                _ if !self.plan.nullable[base.index()] => {
                    let zero = self.builder.ins().iconst(types::I64, 0);
                    (SOURCE_IN_RANGE, zero, zero)
                }
                NodeKind::Input { slot } => {
                    let regs = self.inputs[slot as usize].as_ref().expect("column input");
                    let (bytes, offset) = regs.validity.expect("a validity source has a bitmap");
                    let position = self.builder.ins().iadd(offset, start);
                    let position = self.builder.ins().isub(position, delta);
                    (SOURCE_BITMAP, bytes, position)
                }
                _ => {
                    let buffer = self.plan.buffer_of[base.index()].expect("validity sources are buffered");
                    let regs = &self.buffers[buffer];
                    let (validity, halo) = (regs.validity.expect("a validity source is nullable"), regs.halo);
                    let position = self.builder.ins().isub(halo, delta);
                    (SOURCE_BYTES, validity, position)
                }
            };
            let kind = self.builder.ins().iconst(types::I64, kind);
            let offset = i32::try_from(index * 32).expect("few sources");
            for (field, value) in [kind, pointer, position, first_valid].into_iter().enumerate() {
                self.builder.ins().stack_store(types::I64, value, slot, offset + 8 * field as i32);
            }
        }
        let address = self.builder.ins().stack_addr(types::I64, slot, 0);
        let count = self.builder.ins().iconst(types::I64, sources.len() as i64);
        self.builder
            .ins()
            .call(self.stubs.get(RuntimeFunction::CombineValidity), &[address, count, len, destination]);
    }

    fn element_address(&mut self, base: Value, index: Value, size: i64) -> Value {
        let offset = self.builder.ins().imul_imm_s(index, size);
        self.builder.ins().iadd(base, offset)
    }

    fn store_buffer(&mut self, buffer: usize, id: NodeId, i: Value, (value, valid): Pair) {
        let elem = self.plan.program.node(id).ty.elem;
        let regs = &self.buffers[buffer];
        let (values, validity, halo) = (regs.values, regs.validity, regs.halo);
        let index = self.builder.ins().iadd(halo, i);
        let address = self.element_address(values, index, elem_size(elem));
        self.builder.ins().store(self.flags, value, address, 0);
        if let Some(validity) = validity {
            let address = self.builder.ins().iadd(validity, index);
            self.builder.ins().store(self.flags, valid, address, 0);
        }
    }

    /// The value of `node` at block row `i`, `delta` rows back.
    fn read(
        &mut self,
        node: NodeId,
        delta: u64,
        start: Value,
        i: Value,
        computed: &HashMap<NodeId, Pair>,
    ) -> Pair {
        let (base, lagged) = self.plan.resolve_lags(node);
        let delta = delta + lagged;
        if let (0, Some(pair)) = (delta, computed.get(&base)) {
            return *pair;
        }
        // A read `delta` rows back is valid only from row `delta` on; before it, the index is
        // clamped to 0 so that nothing outside the buffers is ever touched.
        let row = self.builder.ins().iadd(start, i);
        let in_range = if delta > 0 {
            let delta_value = self.builder.ins().iconst(types::I64, i64::try_from(delta).unwrap_or(i64::MAX));
            Some((self.builder.ins().icmp(IntCC::SignedGreaterThanOrEqual, row, delta_value), delta_value))
        } else {
            None
        };
        let base_node = *self.plan.program.node(base);
        let elem = base_node.ty.elem;
        let (value, valid) = if let Some(pair) = self.scalars.get(&base) {
            *pair
        } else if let NodeKind::Input { slot } = base_node.kind {
            let (data, validity) = {
                let regs = self.inputs[slot as usize].as_ref().expect("column inputs have registers");
                (regs.data, regs.validity)
            };
            let source_row = self.back(row, in_range);
            let address = self.element_address(data, source_row, elem_size(elem));
            let value = self.builder.ins().load(clif_type(elem), self.flags, address, 0);
            let valid = match validity {
                Some((bytes, offset)) => self.bit(bytes, offset, source_row),
                None => self.one(),
            };
            (value, valid)
        } else {
            let buffer =
                self.plan.buffer_of[base.index()].expect("the plan buffers every value read across stages");
            let regs = &self.buffers[buffer];
            let (values, validity, halo) = (regs.values, regs.validity, regs.halo);
            let position = self.builder.ins().iadd(halo, i);
            let position = self.back(position, in_range);
            let address = self.element_address(values, position, elem_size(elem));
            let mut value = self.builder.ins().load(clif_type(elem), self.flags, address, 0);
            if elem == Elem::Bool {
                // A clamped read may land on scratch that held another type: keep bools 0 or 1,
                // since a bool output byte must never be anything else.
                value = self.builder.ins().band_imm_s(value, 1);
            }
            let valid = match validity {
                Some(validity) => {
                    let address = self.builder.ins().iadd(validity, position);
                    self.builder.ins().load(types::I8, self.flags, address, 0)
                }
                None => self.one(),
            };
            (value, valid)
        };
        match in_range {
            Some((in_range, _)) => (value, self.builder.ins().band(valid, in_range)),
            None => (value, valid),
        }
    }

    /// `index - delta` when in range, else 0 (a safe place to read a value that is null anyway).
    fn back(&mut self, index: Value, in_range: Option<(Value, Value)>) -> Value {
        match in_range {
            None => index,
            Some((in_range, delta)) => {
                let back = self.builder.ins().isub(index, delta);
                let zero = self.builder.ins().iconst(types::I64, 0);
                self.builder.ins().select(in_range, back, zero)
            }
        }
    }

    /// Bit `offset + row` of an LSB-first bitmap, as an i8 0 or 1.
    fn bit(&mut self, bytes: Value, offset: Value, row: Value) -> Value {
        let position = self.builder.ins().iadd(offset, row);
        let byte_index = self.builder.ins().ushr_imm_s(position, 3);
        let address = self.builder.ins().iadd(bytes, byte_index);
        let byte = self.builder.ins().load(types::I8, self.flags, address, 0);
        let shift = self.builder.ins().band_imm_s(position, 7);
        let shift = self.builder.ins().ireduce(types::I8, shift);
        let shifted = self.builder.ins().ushr(byte, shift);
        self.builder.ins().band_imm_s(shifted, 1)
    }

    fn block_call(&mut self, node: NodeId, op: UnaryOp, start: Value, len: Value) {
        let (source, destination) = self.block_operand(node, start, len);
        let elem = self.plan.program.node(node).ty.elem;
        let stub = self.math_stub(op, elem);
        self.builder.ins().call(stub, &[source, destination, len]);
    }

    /// Advances scan `state` by the block: the operand's values and validity are laid out as
    /// for a block call, then the runtime updates values and validity in the node's buffer.
    fn scan_call(&mut self, node: NodeId, state: usize, start: Value, len: Value) {
        let (source, destination) = self.block_operand(node, start, len);
        let buffer = self.plan.buffer_of[node.index()].expect("a scan's output has a buffer");
        let regs = &self.buffers[buffer];
        let (validity, halo) = (regs.validity, regs.halo);
        let validity = match validity {
            Some(validity) => self.builder.ins().iadd(validity, halo),
            None => self.builder.ins().iconst(types::I64, 0),
        };
        let state = self.arg(self.layout.scan_state(state));
        let stub = self.stubs.get(RuntimeFunction::ScanBlock);
        self.builder.ins().call(stub, &[state, source, destination, validity, len]);
    }

    /// Lays out the operand of a block call (`ln`, `exp`, a scan) for node `node`: its
    /// validity combined into the node's buffer (when the node can be null), its values read
    /// where they lie or copied into the node's buffer. Returns (source, destination) value
    /// pointers for the block's first row.
    fn block_operand(&mut self, node: NodeId, start: Value, len: Value) -> (Value, Value) {
        let elem = self.plan.program.node(node).ty.elem;
        let size = elem_size(elem);
        let operand = self.plan.program.node(node).kind.operands()[0];
        let buffer = self.plan.buffer_of[node.index()].expect("a block call's output has a buffer");
        let (destination, halo) = (self.buffers[buffer].values, self.buffers[buffer].halo);
        let destination = self.element_address(destination, halo, size);
        let (base, delta) = self.plan.resolve_lags(operand);
        let direct_source = if delta != 0 {
            None
        } else if let NodeKind::Input { slot } = self.plan.program.node(base).kind {
            let data = self.inputs[slot as usize].as_ref().map(|regs| regs.data);
            data.map(|data| self.element_address(data, start, size))
        } else {
            self.plan.buffer_of[base.index()].map(|source| {
                let (values, halo) = (self.buffers[source].values, self.buffers[source].halo);
                self.element_address(values, halo, size)
            })
        };
        let nullable = self.plan.nullable[node.index()];
        let needs_copy = direct_source.is_none();
        // The validity of a column read is combined a block at a time; a scalar's (only a
        // lagged scalar can be null here) goes through the row loop.
        let base_is_column = self.plan.program.node(base).ty.shape == Shape::Column;
        if nullable && base_is_column {
            let validity = self.buffers[buffer].validity.expect("a nullable buffer has validity");
            let destination = self.builder.ins().iadd(validity, halo);
            self.combine_validity(&[(base, delta)], start, len, destination);
        }
        if needs_copy || (nullable && !base_is_column) {
            let empty = HashMap::new();
            self.row_loop(len, |this, i| {
                let (value, valid) = this.read(operand, 0, start, i, &empty);
                let regs = &this.buffers[buffer];
                let (values, validity, halo) = (regs.values, regs.validity, regs.halo);
                let index = this.builder.ins().iadd(halo, i);
                if needs_copy {
                    let address = this.element_address(values, index, size);
                    this.builder.ins().store(this.flags, value, address, 0);
                }
                if let (Some(validity), false) = (validity, base_is_column) {
                    let address = this.builder.ins().iadd(validity, index);
                    this.builder.ins().store(this.flags, valid, address, 0);
                }
            });
        }
        (direct_source.unwrap_or(destination), destination)
    }

    fn math_stub(&self, op: UnaryOp, elem: Elem) -> FuncRef {
        match (op, elem) {
            (UnaryOp::Ln, Elem::F32) => self.stubs.get(RuntimeFunction::LnF32Block),
            (UnaryOp::Exp, Elem::F32) => self.stubs.get(RuntimeFunction::ExpF32Block),
            (UnaryOp::Ln, _) => self.stubs.get(RuntimeFunction::LnF64Block),
            _ => self.stubs.get(RuntimeFunction::ExpF64Block),
        }
    }

    /// Copies each extra output's block rows out of its buffer into its column (and packs its
    /// validity), once per block.
    fn write_extra_outputs(&mut self, start: Value, len: Value) {
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
                self.builder
                    .ins()
                    .call(self.stubs.get(RuntimeFunction::PackValidity), &[block, bitmap, start, len]);
            }
        }
    }

    /// Feeds the block's result rows (from its buffer) to the reductions' running state.
    fn reduce_result_block(&mut self, len: Value) {
        let result = self.plan.program.result;
        let buffer = self.plan.buffer_of[result.index()].expect("a reduced result is buffered");
        let regs = &self.buffers[buffer];
        let (values, validity, halo) = (regs.values, regs.validity, regs.halo);
        let size = elem_size(self.plan.program.node(result).ty.elem);
        let values = self.element_address(values, halo, size);
        let validity = match validity {
            Some(validity) => self.builder.ins().iadd(validity, halo),
            None => self.builder.ins().iconst(types::I64, 0),
        };
        let state = self.arg(self.layout.reduce_state());
        let stub = self.stubs.get(RuntimeFunction::ReduceBlock);
        self.builder.ins().call(stub, &[state, values, validity, len]);
    }

    fn shift_halos(&mut self, len: Value) {
        for index in 0..self.buffers.len() {
            if self.plan.buffers[index].halo == 0 {
                continue;
            }
            let elem = self.plan.program.node(self.plan.buffers[index].node).ty.elem;
            let size = elem_size(elem);
            let regs = &self.buffers[index];
            let (values, validity, halo) = (regs.values, regs.validity, regs.halo);
            let skip = self.builder.ins().imul_imm_s(len, size);
            let keep = self.builder.ins().imul_imm_s(halo, size);
            self.builder.ins().call(self.stubs.get(RuntimeFunction::ShiftHalo), &[values, skip, keep]);
            if let Some(validity) = validity {
                self.builder.ins().call(self.stubs.get(RuntimeFunction::ShiftHalo), &[validity, len, halo]);
            }
        }
    }

    fn write_scalar_result(&mut self) {
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
            self.builder
                .ins()
                .call(self.stubs.get(RuntimeFunction::PackValidity), &[block, bitmap, zero, one]);
        }
    }

    /// One row of node `id`, from its operands' `(value, valid)` pairs, as `ir::semantics`.
    fn apply(&mut self, id: NodeId, operands: &[Pair]) -> Pair {
        let node = *self.plan.program.node(id);
        let elem = node.ty.elem;
        match node.kind {
            NodeKind::Unary { op, .. } => {
                let (x, valid) = operands[0];
                let value = match op {
                    UnaryOp::Neg => self.builder.ins().fneg(x),
                    UnaryOp::Abs => self.builder.ins().fabs(x),
                    UnaryOp::Sqrt => self.builder.ins().sqrt(x),
                    UnaryOp::Floor => self.builder.ins().floor(x),
                    UnaryOp::Ceil => self.builder.ins().ceil(x),
                    UnaryOp::Round => self.builder.ins().nearest(x),
                    UnaryOp::Not => self.builder.ins().bxor_imm_s(x, 1),
                    UnaryOp::Cast => match elem {
                        Elem::F64 => self.builder.ins().fpromote(types::F64, x),
                        _ => self.builder.ins().fdemote(types::F32, x),
                    },
                    UnaryOp::IsNull => {
                        let value = self.builder.ins().bxor_imm_s(valid, 1);
                        return (value, self.one());
                    }
                    UnaryOp::IsValid => return (valid, self.one()),
                    UnaryOp::Ln | UnaryOp::Exp => return self.scalar_math(op, elem, x, valid),
                };
                (value, valid)
            }
            NodeKind::Binary { op, .. } => self.binary(op, operands[0], operands[1]),
            NodeKind::PowI { exponent, .. } => {
                let (x, valid) = operands[0];
                (self.pow_i(x, exponent, elem), valid)
            }
            NodeKind::Where { .. } => {
                let [(c, vc), (t, vt), (o, vo)] = [operands[0], operands[1], operands[2]];
                let value = self.builder.ins().select(c, t, o);
                let chosen = self.builder.ins().select(c, vt, vo);
                (value, self.builder.ins().band(vc, chosen))
            }
            NodeKind::Fill { .. } => {
                let [(v, vv), (f, vf)] = [operands[0], operands[1]];
                let value = self.builder.ins().select(vv, v, f);
                (value, self.builder.ins().bor(vv, vf))
            }
            NodeKind::Input { .. } | NodeKind::Const(_) | NodeKind::Lag { .. } => {
                unreachable!("the plan never applies inputs, constants or lags: they are read")
            }
            NodeKind::Reduce { .. } | NodeKind::Scan { .. } => {
                unreachable!("the engine computes stateful nodes in passes before this plan")
            }
        }
    }

    /// `ln`/`exp` of a scalar, once, through the block stub on a one-element stack slot.
    fn scalar_math(&mut self, op: UnaryOp, elem: Elem, x: Value, valid: Value) -> Pair {
        let size = elem_size(elem) as u32;
        let slot =
            self.builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
        self.builder.ins().stack_store(types::I64, x, slot, 0);
        let address = self.builder.ins().stack_addr(types::I64, slot, 0);
        let one = self.builder.ins().iconst(types::I64, 1);
        let stub = self.math_stub(op, elem);
        self.builder.ins().call(stub, &[address, address, one]);
        (self.builder.ins().stack_load(types::I64, clif_type(elem), slot, 0), valid)
    }

    fn binary(&mut self, op: BinaryOp, (a, va): Pair, (b, vb): Pair) -> Pair {
        let both = self.builder.ins().band(va, vb);
        let is_bool = self.builder.func.dfg.value_type(a) == types::I8;
        let value = match op {
            BinaryOp::Add => self.builder.ins().fadd(a, b),
            BinaryOp::Sub => self.builder.ins().fsub(a, b),
            BinaryOp::Mul => self.builder.ins().fmul(a, b),
            BinaryOp::Div => self.builder.ins().fdiv(a, b),
            BinaryOp::Min | BinaryOp::Max => return (self.min_max(op, a, b), both),
            BinaryOp::Eq | BinaryOp::Ne if is_bool => {
                self.builder.ins().icmp(if op == BinaryOp::Eq { IntCC::Equal } else { IntCC::NotEqual }, a, b)
            }
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                self.builder.ins().fcmp(float_cc(op), a, b)
            }
            BinaryOp::And | BinaryOp::Or => return self.kleene(op, (a, va), (b, vb)),
        };
        (value, both)
    }

    /// Kleene logic on 0/1 bytes: the dominant value (false for AND, true for OR) of a valid
    /// operand decides, whatever the other one is.
    fn kleene(&mut self, op: BinaryOp, (a, va): Pair, (b, vb): Pair) -> Pair {
        let both = self.builder.ins().band(va, vb);
        if op == BinaryOp::And {
            let value = self.builder.ins().band(a, b);
            let a_false = self.builder.ins().bxor_imm_s(a, 1);
            let a_decides = self.builder.ins().band(va, a_false);
            let b_false = self.builder.ins().bxor_imm_s(b, 1);
            let b_decides = self.builder.ins().band(vb, b_false);
            let decided = self.builder.ins().bor(a_decides, b_decides);
            (value, self.builder.ins().bor(both, decided))
        } else {
            let value = self.builder.ins().bor(a, b);
            let a_decides = self.builder.ins().band(va, a);
            let b_decides = self.builder.ins().band(vb, b);
            let decided = self.builder.ins().bor(a_decides, b_decides);
            (value, self.builder.ins().bor(both, decided))
        }
    }

    /// IEEE 754-2019 minimum/maximum exactly as `semantics::minimum`/`maximum`: a NaN operand
    /// gives that NaN (the left first); equal values combine their bits, so that
    /// `min(-0, +0) = -0` (OR of the sign bits) and `max(-0, +0) = +0` (AND).
    fn min_max(&mut self, op: BinaryOp, a: Value, b: Value) -> Value {
        let float = self.builder.func.dfg.value_type(a);
        let int = if float == types::F64 { types::I64 } else { types::I32 };
        let a_bits = self.builder.ins().bitcast(int, MemFlagsData::new(), a);
        let b_bits = self.builder.ins().bitcast(int, MemFlagsData::new(), b);
        let (first_cc, second_cc, combined) = if op == BinaryOp::Min {
            (FloatCC::LessThan, FloatCC::GreaterThan, self.builder.ins().bor(a_bits, b_bits))
        } else {
            (FloatCC::GreaterThan, FloatCC::LessThan, self.builder.ins().band(a_bits, b_bits))
        };
        let combined = self.builder.ins().bitcast(float, MemFlagsData::new(), combined);
        // equal (or ±0): combined bits; b beyond a: b; a beyond b: a.
        let a_wins = self.builder.ins().fcmp(first_cc, a, b);
        let b_wins = self.builder.ins().fcmp(second_cc, a, b);
        let ordered = self.builder.ins().select(b_wins, b, combined);
        let ordered = self.builder.ins().select(a_wins, a, ordered);
        let b_nan = self.builder.ins().fcmp(FloatCC::Unordered, b, b);
        let with_b_nan = self.builder.ins().select(b_nan, b, ordered);
        let a_nan = self.builder.ins().fcmp(FloatCC::Unordered, a, a);
        self.builder.ins().select(a_nan, a, with_b_nan)
    }

    /// `min_max` lane-wise: the same selections as the scalar form, with lane masks.
    fn min_max_vector(&mut self, op: BinaryOp, vector: Lanes, a: Value, b: Value) -> Value {
        let int = if vector.ty == types::F32X4 { types::I32X4 } else { types::I64X2 };
        let flags = MemFlagsData::new();
        let a_bits = self.builder.ins().bitcast(int, flags, a);
        let b_bits = self.builder.ins().bitcast(int, flags, b);
        let (first_cc, second_cc, combined) = if op == BinaryOp::Min {
            (FloatCC::LessThan, FloatCC::GreaterThan, self.builder.ins().bor(a_bits, b_bits))
        } else {
            (FloatCC::GreaterThan, FloatCC::LessThan, self.builder.ins().band(a_bits, b_bits))
        };
        let combined = self.builder.ins().bitcast(vector.ty, flags, combined);
        let mask = |this: &mut Self, cc, x, y| {
            let lanes = this.builder.ins().fcmp(cc, x, y);
            this.builder.ins().bitcast(vector.ty, flags, lanes)
        };
        let a_wins = mask(self, first_cc, a, b);
        let b_wins = mask(self, second_cc, a, b);
        let b_nan = mask(self, FloatCC::Unordered, b, b);
        let a_nan = mask(self, FloatCC::Unordered, a, a);
        let ordered = self.builder.ins().bitselect(b_wins, b, combined);
        let ordered = self.builder.ins().bitselect(a_wins, a, ordered);
        let with_b_nan = self.builder.ins().bitselect(b_nan, b, ordered);
        self.builder.ins().bitselect(a_nan, a, with_b_nan)
    }

    /// The multiplications of `ir::semantics::pow_i_float`, in its order (the interpreter's
    /// order is the definition), unrolled for the constant exponent.
    fn pow_i(&mut self, x: Value, exponent: i32, elem: Elem) -> Value {
        let one = match elem {
            Elem::F32 => self.builder.ins().f32const(1.0),
            _ => self.builder.ins().f64const(1.0),
        };
        self.pow_i_with(x, exponent, one)
    }

    /// `pow_i` for scalars and vectors alike; `one` is 1 of `x`'s type.
    fn pow_i_with(&mut self, x: Value, exponent: i32, one: Value) -> Value {
        let mut remaining = exponent.unsigned_abs();
        let mut square = x;
        let mut product: Option<Value> = None;
        while remaining != 0 {
            if remaining & 1 == 1 {
                product = Some(match product {
                    None => square,
                    Some(p) => self.builder.ins().fmul(p, square),
                });
            }
            remaining >>= 1;
            if remaining != 0 {
                square = self.builder.ins().fmul(square, square);
            }
        }
        let magnitude = product.unwrap_or(one);
        if exponent < 0 { self.builder.ins().fdiv(one, magnitude) } else { magnitude }
    }
}

/// The IEEE comparison of each comparison operator (NaN: all false but `!=`).
fn float_cc(op: BinaryOp) -> FloatCC {
    match op {
        BinaryOp::Eq => FloatCC::Equal,
        BinaryOp::Ne => FloatCC::NotEqual,
        BinaryOp::Lt => FloatCC::LessThan,
        BinaryOp::Le => FloatCC::LessThanOrEqual,
        BinaryOp::Gt => FloatCC::GreaterThan,
        _ => FloatCC::GreaterThanOrEqual,
    }
}

/// A SIMD type of the vector form: `f64x2` or `f32x4`, 128 bits either way.
#[derive(Debug, Clone, Copy)]
struct Lanes {
    ty: types::Type,
    lanes: usize,
    /// Bytes per lane.
    size: i64,
}

impl Lanes {
    fn of(elem: Elem) -> Lanes {
        match elem {
            Elem::F32 => Lanes { ty: types::F32X4, lanes: 4, size: 4 },
            _ => Lanes { ty: types::F64X2, lanes: 2, size: 8 },
        }
    }
}

/// Lane groups per iteration of a vector loop (8 f64 or 16 f32 rows). On W4, 8 rows ran at
/// 0.54 ns/row against 0.54–0.56 for 4 (`examples/workloads`): no slower, fewer branches.
/// Rows per iteration must be a power of two.
const VECTOR_GROUPS_PER_ITERATION: usize = 4;

/// Vector accesses may be unaligned (lagged reads start anywhere), and never trap: the plan
/// keeps them inside the buffers.
fn vector_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

fn word(index: usize) -> i32 {
    i32::try_from(index * 8).expect("argument blocks are small")
}
