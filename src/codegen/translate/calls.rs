//! Block calls: a math function over a block, a scan's block, feeding a reduction, each through
//! the runtime functions the kernel imports.

use super::{Translator, elem_size};
use crate::codegen::runtime_functions::RuntimeFunction;
use crate::ir::{Elem, NodeId, NodeKind, Shape};
use crate::math::MathFunction;
use cranelift_codegen::ir::{FuncRef, InstBuilder, Value, types};
use std::collections::HashMap;

impl<'p, 'b> Translator<'p, 'b> {
    pub(super) fn block_call(&mut self, node: NodeId, function: MathFunction, start: Value, len: Value) {
        let (source, destination) = self.block_operand(node, start, len);
        let elem = self.plan.program.node(node).ty.elem;
        let stub = self.math_stub(function, elem);
        self.builder.ins().call(stub, &[source, destination, len]);
    }

    /// Advances scan `state` by the block: the operand's values and validity are laid out as
    /// for a block call, then the runtime updates values and validity in the node's buffer.
    pub(super) fn scan_call(&mut self, node: NodeId, state: usize, start: Value, len: Value) {
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
    pub(super) fn block_operand(&mut self, node: NodeId, start: Value, len: Value) -> (Value, Value) {
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

    pub(super) fn math_stub(&self, function: MathFunction, elem: Elem) -> FuncRef {
        let runtime = match elem {
            Elem::F32 => RuntimeFunction::MathF32Block(function),
            Elem::F64 => RuntimeFunction::MathF64Block(function),
            Elem::I64 | Elem::I32 | Elem::Bool => {
                unreachable!("check converts integers to f64 for math functions and rejects bools")
            }
        };
        self.stubs.get(runtime)
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
        let stub = self.stubs.get(RuntimeFunction::ReduceBlock);
        self.builder.ins().call(stub, &[state, values, validity, len]);
    }
}
