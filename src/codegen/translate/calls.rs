//! Block calls: a math function over a block, a scan's block, feeding a reduction, each through
//! the runtime functions the kernel imports.

use super::{InputRegs, Translator, elem_size};
use crate::codegen::runtime_functions::RuntimeFunction;
use crate::ir::column_semantics::PrefetchAhead;
use crate::ir::{Elem, NodeId, NodeKind, Shape};
use crate::passes::fuse_loops::BlockFunction;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value, types};
use std::collections::HashMap;

/// The input columns' bytes (rows times their elements' sizes) from which a kernel lists the
/// next block's reads for the window sums to prefetch (`next_block_reads`): twice a 1 MiB L2.
/// Smaller columns stay in the L2 between calls, where the prefetch gains nothing and costs
/// its instructions (PERFORMANCE.md, "The next block's lines asked for during the window
/// sums' groups").
const PREFETCH_FROM_BYTES: i64 = 2 << 20;

impl<'p, 'b> Translator<'p, 'b> {
    pub(super) fn block_call(&mut self, node: NodeId, function: BlockFunction, start: Value, len: Value) {
        if function == BlockFunction::CenteredDivide {
            return self.centered_division_call(node, start, len);
        }
        let (mut sources, destination) = self.block_operands(node, start, len);
        let elem = self.plan.program.node(node).ty.elem;
        let by_scalar = self.plan.divides_by_scalar(node);
        if let Some(divisor) = by_scalar {
            // The divisor's bits, in the low bits of an `i64` (its validity, when it can be
            // null, went into the node's validity with `block_operands`).
            let bits = self.scalar_bits(divisor, elem);
            sources.push(bits);
        }
        // `(sources…, destination, len)`: one source per argument.
        let arguments: Vec<Value> = sources.into_iter().chain([destination, len]).collect();
        let stub = match function {
            BlockFunction::Divide => self.stub(match (elem, by_scalar.is_some()) {
                (Elem::F64, false) => RuntimeFunction::DivideF64Block,
                (Elem::F64, true) => RuntimeFunction::DivideF64BlockByScalar,
                (Elem::F32, false) => RuntimeFunction::DivideF32Block,
                (Elem::F32, true) => RuntimeFunction::DivideF32BlockByScalar,
                (Elem::I64 | Elem::I32 | Elem::Bool, _) => {
                    unreachable!("the plan divides floats only in block calls")
                }
            }),
            BlockFunction::SquareRoot => self.stub(match elem {
                Elem::F64 => RuntimeFunction::SqrtF64Block,
                Elem::F32 => RuntimeFunction::SqrtF32Block,
                Elem::I64 | Elem::I32 | Elem::Bool => {
                    unreachable!("the plan takes square roots of floats only")
                }
            }),
            BlockFunction::Unary(_) | BlockFunction::Binary(_) => self.math_stub(function, elem),
            BlockFunction::CenteredDivide => unreachable!("centred divisions return above"),
        };
        self.builder.ins().call(stub, &arguments);
    }

    /// The bits of scalar node `scalar`'s value, computed before the loop, in the low bits of
    /// an `i64`: how a division block takes its scalars by value.
    fn scalar_bits(&mut self, scalar: NodeId, elem: Elem) -> Value {
        let (value, _) = self.scalars[&scalar];
        match elem {
            Elem::F32 => {
                let bits = self.builder.ins().bitcast(types::I32, MemFlagsData::new(), value);
                self.builder.ins().uextend(types::I64, bits)
            }
            _ => self.builder.ins().bitcast(types::I64, MemFlagsData::new(), value),
        }
    }

    /// A centred division `(a − c) / d` ([`BlockFunction::CenteredDivide`]) over the block:
    /// `a` read where it lies (an input) or from its buffer, `c` and `d` by value, never null
    /// (the plan folds only such divisions), into the node's buffer or straight into the
    /// output when the result is written in place.
    fn centered_division_call(&mut self, node: NodeId, start: Value, len: Value) {
        let elem = self.plan.program.node(node).ty.elem;
        let size = elem_size(elem);
        let [column, subtrahend, divisor] =
            self.plan.centered_division(node).expect("the plan made this node a centred division");
        let source = self
            .values_where_they_lie(column, start, size)
            .expect("the plan folds a column read where it lies: an input or a buffered value");
        let destination = self.call_destination(node, start, size);
        let (subtrahend, divisor) = (self.scalar_bits(subtrahend, elem), self.scalar_bits(divisor, elem));
        let stub = self.stub(match elem {
            Elem::F64 => RuntimeFunction::CenteredDivideF64BlockByScalar,
            Elem::F32 => RuntimeFunction::CenteredDivideF32BlockByScalar,
            Elem::I64 | Elem::I32 | Elem::Bool => unreachable!("the plan divides floats only in block calls"),
        });
        self.builder.ins().call(stub, &[source, subtrahend, divisor, destination, len]);
    }

    /// Where column `node`'s values for the block's first row lie, for a block call to read
    /// them in place: an input's rows (not a bit-packed one: block calls take numbers, never
    /// bits) or the node's buffer after its halo. `None` when it has neither (a scalar).
    fn values_where_they_lie(&mut self, node: NodeId, start: Value, size: i64) -> Option<Value> {
        let (values, outer) = self.values_base(node, start)?;
        Some(self.element_address(values, outer, size))
    }

    /// The pointer to column `node`'s values and the rows before block row 0 it holds (the
    /// block's first row for an input, the halo for a buffer), as `element_address` and
    /// `group_address` take them: an input's rows (not a bit-packed one: those are read bit
    /// by bit, or unpacked first) or the node's buffer. `None` when it has neither (a scalar).
    pub(super) fn values_base(&self, node: NodeId, start: Value) -> Option<(Value, Value)> {
        if let NodeKind::Input { slot } = self.plan.program.node(node).kind {
            let regs = self.inputs[slot as usize].as_ref().filter(|regs| regs.data_bit_offset.is_none());
            return regs.map(|regs| (regs.data, start));
        }
        self.plan.buffer_of[node.index()]
            .map(|buffer| (self.buffers[buffer].values, self.buffers[buffer].halo))
    }

    /// Where block call `node` writes the block's first row: its buffer (after the halo), or
    /// straight into the output's rows of the block (the discard block's while warming up)
    /// when the result is written in place.
    fn call_destination(&mut self, node: NodeId, start: Value, size: i64) -> Value {
        if self.plan.result_in_place && node == self.plan.program.result {
            return self.element_address(self.out_values, start, size);
        }
        let buffer = self.plan.buffer_of[node.index()].expect("a block call's output has a buffer");
        let (values, halo) = (self.buffers[buffer].values, self.buffers[buffer].halo);
        self.element_address(values, halo, size)
    }

    /// Advances scan `state` by the block: the operand's values and validity are laid out as
    /// for a block call, then the runtime updates values and validity in the node's buffer.
    pub(super) fn scan_call(&mut self, node: NodeId, state: usize, start: Value, len: Value) {
        let arguments = self.scan_arguments(node, state, start, len);
        let stub = self.stub(RuntimeFunction::ScanBlock);
        self.builder.ins().call(stub, &[arguments.as_slice(), &[len]].concat());
    }

    /// Advances two independent scans by the block in one call (`fusejit_scan_block_pair`),
    /// each laid out as [`scan_call`](Self::scan_call) lays out one.
    pub(super) fn scan_call_pair(&mut self, scans: [(NodeId, usize); 2], start: Value, len: Value) {
        let [(first, first_state), (second, second_state)] = scans;
        let first = self.scan_arguments(first, first_state, start, len);
        let second = self.scan_arguments(second, second_state, start, len);
        let ahead = self.next_block_reads(start, len);
        let stub = self.stub(RuntimeFunction::ScanBlockPair);
        self.builder.ins().call(stub, &[first.as_slice(), &second, &[len, ahead]].concat());
    }

    /// The bytes of the next block's rows of the kernel's first input columns (at most
    /// `PrefetchAhead::MAX_RANGES`, bit-packed ones left out), listed in a stack slot as
    /// `fusejit_scan_block_pair`'s `ahead` takes them: a count, then an address and a length
    /// each; null when the kernel reads no such column, or when those columns hold fewer than
    /// [`PREFETCH_FROM_BYTES`] (then they come from the L2 anyway). The next block is taken to
    /// be as long as this one, cut at the last row: the lines are only prefetched, so a guess
    /// costs at most a few wasted requests.
    fn next_block_reads(&mut self, start: Value, len: Value) -> Value {
        let columns: Vec<(Value, i64)> = self
            .inputs
            .iter()
            .zip(&self.plan.program.inputs)
            .filter_map(|(regs, input)| match regs {
                Some(InputRegs { data, data_bit_offset: None, .. }) => {
                    Some((*data, elem_size(input.ty.elem)))
                }
                _ => None,
            })
            .take(PrefetchAhead::MAX_RANGES)
            .collect();
        if columns.is_empty() {
            return self.builder.ins().iconst(types::I64, 0);
        }
        let row_bytes: i64 = columns.iter().map(|&(_, size)| size).sum();
        let slot = self.builder.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 + 16 * columns.len() as u32,
            3,
        ));
        let next = self.builder.ins().iadd(start, len);
        let left = self.builder.ins().isub(self.rows, next);
        let zero = self.builder.ins().iconst(types::I64, 0);
        let left = self.builder.ins().smax(left, zero);
        let rows = self.builder.ins().smin(left, len);
        let count = self.builder.ins().iconst(types::I64, columns.len() as i64);
        self.builder.ins().stack_store(types::I64, count, slot, 0);
        for (index, (data, size)) in columns.into_iter().enumerate() {
            let address = self.element_address(data, next, size);
            let bytes = self.builder.ins().imul_imm_s(rows, size);
            let offset = 8 + 16 * index as i32;
            self.builder.ins().stack_store(types::I64, address, slot, offset);
            self.builder.ins().stack_store(types::I64, bytes, slot, offset + 8);
        }
        let list = self.builder.ins().stack_addr(types::I64, slot, 0);
        let row_bytes = self.builder.ins().iconst(types::I64, row_bytes);
        let column_bytes = self.builder.ins().imul(self.rows, row_bytes);
        let large =
            self.builder.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, column_bytes, PREFETCH_FROM_BYTES);
        self.builder.ins().select(large, list, zero)
    }

    /// A scan's `(state, source, destination, validity)` for the block, its operand laid out
    /// by [`block_operands`](Self::block_operands); validity is null when the scan cannot be.
    fn scan_arguments(&mut self, node: NodeId, state: usize, start: Value, len: Value) -> [Value; 4] {
        let (sources, destination) = self.block_operands(node, start, len);
        let buffer = self.plan.buffer_of[node.index()].expect("a scan's output has a buffer");
        let regs = &self.buffers[buffer];
        let (validity, halo) = (regs.validity, regs.halo);
        let validity = match validity {
            Some(validity) => self.builder.ins().iadd(validity, halo),
            None => self.builder.ins().iconst(types::I64, 0),
        };
        let state = self.arg(self.layout.scan_state(state));
        [state, sources[0], destination, validity]
    }

    /// Lays out the operands of a block call (a math function, a scan) for node `node`: their
    /// validity combined into the node's buffer (when the node can be null), their values read
    /// where they lie or copied — the first operand into the node's own buffer (the call then
    /// runs in place), the second into its `second_operand_buffer`. Returns the operands'
    /// value pointers and the destination's, for the block's first row.
    pub(super) fn block_operands(&mut self, node: NodeId, start: Value, len: Value) -> (Vec<Value>, Value) {
        let elem = self.plan.program.node(node).ty.elem;
        let size = elem_size(elem);
        let operands = self.plan.program.node(node).kind.operands();
        let buffer = self.plan.buffer_of[node.index()].expect("a block call's output has a buffer");
        let halo = self.buffers[buffer].halo;
        let destination = self.call_destination(node, start, size);
        // Per operand: where its values are read from, and the buffer they are copied into
        // first when they cannot be read where they lie (a lag, a scalar).
        let mut sources = Vec::with_capacity(operands.len());
        let mut copies: Vec<(usize, usize)> = Vec::new();
        let divisor_by_value = self.plan.divides_by_scalar(node);
        for (index, &operand) in operands.iter().enumerate() {
            if index == 1 && divisor_by_value.is_some() {
                continue;
            }
            let (base, delta) = self.plan.resolve_lags(operand);
            let direct_source = if delta != 0 { None } else { self.values_where_they_lie(base, start, size) };
            match direct_source {
                Some(pointer) => sources.push(pointer),
                None => {
                    let target = if index == 0 {
                        buffer
                    } else {
                        self.plan.second_operand_buffer[node.index()]
                            .expect("a two-argument call has a buffer for its second operand")
                    };
                    let (values, target_halo) = (self.buffers[target].values, self.buffers[target].halo);
                    sources.push(self.element_address(values, target_halo, size));
                    copies.push((index, target));
                }
            }
        }
        let nullable = self.plan.nullable[node.index()];
        // The validity of column reads is combined a block at a time; where an operand is a
        // scalar (only a lagged scalar can be null here), every operand's goes through the
        // row loop below.
        let is_column = |this: &Self, operand: NodeId| {
            let (base, _) = this.plan.resolve_lags(operand);
            this.plan.program.node(base).ty.shape == Shape::Column
        };
        let row_validity = nullable && operands.iter().any(|&operand| !is_column(self, operand));
        if nullable && !row_validity {
            let validity = self.buffers[buffer].validity.expect("a nullable buffer has validity");
            let destination = self.builder.ins().iadd(validity, halo);
            let column_sources: Vec<(NodeId, u64)> =
                operands.iter().map(|&operand| self.plan.resolve_lags(operand)).collect();
            self.combine_validity(&column_sources, start, len, destination);
        }
        if !copies.is_empty() || row_validity {
            let empty = HashMap::new();
            self.row_loop(len, |this, i| {
                let mut all_valid: Option<Value> = None;
                for (index, &operand) in operands.iter().enumerate() {
                    let copy = copies.iter().find(|(copied, _)| *copied == index).map(|(_, target)| *target);
                    if copy.is_none() && !row_validity {
                        continue;
                    }
                    let (value, valid) = this.read(operand, 0, start, i, &empty);
                    if let Some(target) = copy {
                        let (values, target_halo) = (this.buffers[target].values, this.buffers[target].halo);
                        let position = this.builder.ins().iadd(target_halo, i);
                        let address = this.element_address(values, position, size);
                        this.builder.ins().store(this.flags, value, address, 0);
                    }
                    all_valid = Some(match all_valid {
                        None => valid,
                        Some(so_far) => this.builder.ins().band(so_far, valid),
                    });
                }
                if let (true, Some(valid)) = (row_validity, all_valid) {
                    let regs = &this.buffers[buffer];
                    let (validity, halo) =
                        (regs.validity.expect("a nullable buffer has validity"), regs.halo);
                    let position = this.builder.ins().iadd(halo, i);
                    let address = this.builder.ins().iadd(validity, position);
                    this.builder.ins().store(this.flags, valid, address, 0);
                }
            });
        }
        (sources, destination)
    }

    /// The runtime block function of a math function over `elem` values.
    pub(super) fn math_stub(&mut self, function: BlockFunction, elem: Elem) -> FuncRef {
        let runtime = match (function, elem) {
            (BlockFunction::Unary(function), Elem::F64) => RuntimeFunction::MathF64Block(function),
            (BlockFunction::Unary(function), Elem::F32) => RuntimeFunction::MathF32Block(function),
            (BlockFunction::Binary(function), Elem::F64) => RuntimeFunction::BinaryMathF64Block(function),
            (BlockFunction::Binary(function), Elem::F32) => RuntimeFunction::BinaryMathF32Block(function),
            (BlockFunction::Divide, _) => unreachable!("divisions call the `Divide…Block` runtime functions"),
            (BlockFunction::SquareRoot, _) => {
                unreachable!("square roots call the `Sqrt…Block` runtime functions")
            }
            (BlockFunction::CenteredDivide, _) => {
                unreachable!("centred divisions call the `CenteredDivide…Block` runtime functions")
            }
            (_, Elem::I64 | Elem::I32 | Elem::Bool) => {
                unreachable!("check converts integers to f64 for math functions and rejects bools")
            }
        };
        self.stub(runtime)
    }

    /// The reference to call runtime function `function` through, imported on first use.
    pub(super) fn stub(&mut self, function: RuntimeFunction) -> FuncRef {
        self.stubs.get(self.builder.func, function)
    }

    /// Feeds the block's result rows (from its buffer) to the reductions' running state.
    pub(super) fn reduce_result_block(&mut self, len: Value) {
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
        let stub = self.stub(RuntimeFunction::ReduceBlock);
        self.builder.ins().call(stub, &[state, values, validity, len]);
    }
}
