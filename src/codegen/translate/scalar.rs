//! The scalar form of a row: reads (inputs, buffers, lags), constants, and every operation
//! on `(value, valid)` pairs, mirroring `ir::semantics` operation for operation.

use super::{Lanes, Pair, Translator, clif_type, elem_size};
use crate::ir::{BinaryOp, ConstValue, Elem, NodeId, NodeKind, ScanOp, UnaryOp};
use crate::math::{BinaryMathFunction, MathFunction};
use crate::passes::fuse_loops::BlockFunction;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value, types};
use std::collections::HashMap;

impl<'p, 'b> Translator<'p, 'b> {
    pub(super) fn constant(&mut self, constant: ConstValue, elem: Elem) -> Pair {
        let zero_valid = self.builder.ins().iconst(types::I8, 0);
        match (constant, elem) {
            (ConstValue::F64(bits), _) => (self.builder.ins().f64const(f64::from_bits(bits)), self.one()),
            (ConstValue::F32(bits), _) => (self.builder.ins().f32const(f32::from_bits(bits)), self.one()),
            (ConstValue::I64(value), _) => (self.builder.ins().iconst(types::I64, value), self.one()),
            // Narrow immediates are given zero-extended, as Cranelift keeps them.
            (ConstValue::I32(value), _) => (self.int_const(types::I32, i64::from(value)), self.one()),
            (ConstValue::Bool(value), _) => {
                (self.builder.ins().iconst(types::I8, i64::from(value)), self.one())
            }
            (ConstValue::Null, Elem::F64) => (self.builder.ins().f64const(0.0), zero_valid),
            (ConstValue::Null, Elem::F32) => (self.builder.ins().f32const(0.0), zero_valid),
            (ConstValue::Null, Elem::I64) => (self.builder.ins().iconst(types::I64, 0), zero_valid),
            (ConstValue::Null, Elem::I32) => (self.builder.ins().iconst(types::I32, 0), zero_valid),
            (ConstValue::Null, Elem::Bool) => (self.builder.ins().iconst(types::I8, 0), zero_valid),
        }
    }

    /// `c ? t : o` with no branch: Cranelift's x86-64 backend selects floats by jumping over
    /// a move, which a condition that flips with the data mispredicts, so floats are selected
    /// as their bits (a `cmov`; `csel` on aarch64). Integers and bools select as they are.
    fn select_without_branch(&mut self, c: Value, t: Value, o: Value) -> Value {
        let ty = self.builder.func.dfg.value_type(t);
        let bits = match ty {
            types::F64 => types::I64,
            types::F32 => types::I32,
            _ => return self.builder.ins().select(c, t, o),
        };
        let (t, o) = (
            self.builder.ins().bitcast(bits, MemFlagsData::new(), t),
            self.builder.ins().bitcast(bits, MemFlagsData::new(), o),
        );
        let chosen = self.builder.ins().select(c, t, o);
        self.builder.ins().bitcast(ty, MemFlagsData::new(), chosen)
    }

    /// An integer constant of type `ty` (i8 to i64); narrow immediates are given
    /// zero-extended, as Cranelift keeps them.
    pub(super) fn int_const(&mut self, ty: types::Type, value: i64) -> Value {
        let bits = ty.bits();
        let masked = if bits >= 64 { value } else { value & ((1i64 << bits) - 1) };
        self.builder.ins().iconst(ty, masked)
    }

    pub(super) fn element_address(&mut self, base: Value, index: Value, size: i64) -> Value {
        let offset = self.builder.ins().imul_imm_s(index, size);
        self.builder.ins().iadd(base, offset)
    }

    /// The address of element `outer + i` of `base`'s, with `outer` invariant in the row loop
    /// (the block's first row, a buffer's halo): `base + outer·size` apart, which Cranelift
    /// hoists out of the loop, so that a row adds only `i·size` (no `outer + i` each row).
    pub(super) fn row_address(&mut self, base: Value, outer: Value, i: Value, size: i64) -> Value {
        let outer_base = self.element_address(base, outer, size);
        self.element_address(outer_base, i, size)
    }

    pub(super) fn store_buffer(&mut self, buffer: usize, id: NodeId, i: Value, (value, valid): Pair) {
        let elem = self.plan.program.node(id).ty.elem;
        let regs = &self.buffers[buffer];
        let (values, validity, halo) = (regs.values, regs.validity, regs.halo);
        let address = self.row_address(values, halo, i, elem_size(elem));
        self.builder.ins().store(self.flags, value, address, 0);
        if let Some(validity) = validity {
            let address = self.row_address(validity, halo, i, 1);
            self.builder.ins().store(self.flags, valid, address, 0);
        }
    }

    /// The value of `node` at block row `i`, `delta` rows back.
    pub(super) fn read(
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
            let (data, data_bit_offset, validity) = {
                let regs = self.inputs[slot as usize].as_ref().expect("column inputs have registers");
                (regs.data, regs.data_bit_offset, regs.validity)
            };
            let source_row = self.back(row, in_range);
            let value = match data_bit_offset {
                Some(offset) => self.bit(data, offset, source_row),
                None => {
                    let address = match in_range {
                        None => self.row_address(data, start, i, elem_size(elem)),
                        Some(_) => self.element_address(data, source_row, elem_size(elem)),
                    };
                    self.builder.ins().load(clif_type(elem), self.flags, address, 0)
                }
            };
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
            // Unlagged, from the block's base in the buffer (hoisted); lagged, at the clamped
            // position, which the validity byte shares.
            let (address, validity_address) = match in_range {
                None => (
                    self.row_address(values, halo, i, elem_size(elem)),
                    validity.map(|validity| self.row_address(validity, halo, i, 1)),
                ),
                Some(_) => {
                    let position = self.builder.ins().iadd(halo, i);
                    let position = self.back(position, in_range);
                    (
                        self.element_address(values, position, elem_size(elem)),
                        validity.map(|validity| self.builder.ins().iadd(validity, position)),
                    )
                }
            };
            let mut value = self.builder.ins().load(clif_type(elem), self.flags, address, 0);
            if elem == Elem::Bool {
                // A clamped read may land on scratch that held another type: keep bools 0 or 1,
                // since a bool output byte must never be anything else.
                value = self.builder.ins().band_imm_s(value, 1);
            }
            let valid = match validity_address {
                Some(address) => self.builder.ins().load(types::I8, self.flags, address, 0),
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
    pub(super) fn back(&mut self, index: Value, in_range: Option<(Value, Value)>) -> Value {
        match in_range {
            None => index,
            Some((in_range, delta)) => {
                let back = self.builder.ins().isub(index, delta);
                let zero = self.builder.ins().iconst(types::I64, 0);
                self.builder.ins().select(in_range, back, zero)
            }
        }
    }

    /// One row of node `id`, from its operands' `(value, valid)` pairs, as `ir::semantics`.
    pub(super) fn apply(&mut self, id: NodeId, operands: &[Pair]) -> Pair {
        let node = *self.plan.program.node(id);
        let elem = node.ty.elem;
        match node.kind {
            NodeKind::Unary { op, arg } => {
                let (x, valid) = operands[0];
                let operand_elem = self.plan.program.node(arg).ty.elem;
                let integer = operand_elem.is_integer();
                let value = match op {
                    UnaryOp::Neg if integer => self.builder.ins().ineg(x),
                    UnaryOp::Neg => self.builder.ins().fneg(x),
                    // Wraps: iabs(MIN) is MIN, as `semantics::integer_unary`.
                    UnaryOp::Abs if integer => self.builder.ins().iabs(x),
                    UnaryOp::Abs => self.builder.ins().fabs(x),
                    UnaryOp::Sqrt => self.builder.ins().sqrt(x),
                    UnaryOp::Floor => self.builder.ins().floor(x),
                    UnaryOp::Ceil => self.builder.ins().ceil(x),
                    UnaryOp::Round => self.builder.ins().nearest(x),
                    UnaryOp::Trunc => self.builder.ins().trunc(x),
                    UnaryOp::Sign => self.sign(x, elem),
                    UnaryOp::IsNan => self.builder.ins().fcmp(FloatCC::Unordered, x, x),
                    UnaryOp::IsFinite | UnaryOp::IsInf => {
                        let infinity = match operand_elem {
                            Elem::F64 => self.builder.ins().f64const(f64::INFINITY),
                            Elem::F32 => self.builder.ins().f32const(f32::INFINITY),
                            Elem::I64 | Elem::I32 | Elem::Bool => {
                                unreachable!("check tests only floats (integers are converted first)")
                            }
                        };
                        let magnitude = self.builder.ins().fabs(x);
                        // |x| < inf is false for NaN (unordered); |x| == inf only for ±inf.
                        let cc = if op == UnaryOp::IsFinite { FloatCC::LessThan } else { FloatCC::Equal };
                        self.builder.ins().fcmp(cc, magnitude, infinity)
                    }
                    UnaryOp::Not => self.builder.ins().bxor_imm_s(x, 1),
                    UnaryOp::Cast => return self.cast(x, valid, operand_elem, elem),
                    UnaryOp::IsNull => {
                        let value = self.builder.ins().bxor_imm_s(valid, 1);
                        return (value, self.one());
                    }
                    UnaryOp::IsValid => return (valid, self.one()),
                    UnaryOp::Math(function) => return self.scalar_math(function, elem, x, valid),
                };
                (value, valid)
            }
            NodeKind::Binary { op: op @ (BinaryOp::Min | BinaryOp::Max), lhs, rhs }
                if matches!(self.plan.program.node(lhs).ty.elem, Elem::F64 | Elem::F32) =>
            {
                let [(a, va), (b, vb)] = [operands[0], operands[1]];
                let constants = [lhs, rhs].map(|operand| self.constant_not_nan(operand));
                (self.min_max(op, a, b, constants), self.builder.ins().band(va, vb))
            }
            // A constant divisor, seen by Cranelift as one: its e-graph turns the division into
            // a multiplication by a magic number (Hacker's Delight), two hardware divisions a
            // row fewer.
            NodeKind::Binary { op: op @ (BinaryOp::FloorDiv | BinaryOp::Mod), rhs, .. }
                if let Some(divisor) = self.plan.program.integer_constant(rhs) =>
            {
                let [(a, va), (_, vb)] = [operands[0], operands[1]];
                let both = self.builder.ins().band(va, vb);
                self.integer_divmod_by_constant(op, a, divisor, both)
            }
            NodeKind::Binary { op, lhs, .. } => {
                let operand_elem = self.plan.program.node(lhs).ty.elem;
                self.binary(op, operand_elem, operands[0], operands[1])
            }
            NodeKind::PowI { exponent, .. } => {
                let (x, valid) = operands[0];
                (self.pow_i(x, exponent, elem), valid)
            }
            NodeKind::Where { .. } => {
                let [(c, vc), (t, vt), (o, vo)] = [operands[0], operands[1], operands[2]];
                let value = self.select_without_branch(c, t, o);
                let chosen = self.builder.ins().select(c, vt, vo);
                (value, self.builder.ins().band(vc, chosen))
            }
            NodeKind::Fill { .. } => {
                let [(v, vv), (f, vf)] = [operands[0], operands[1]];
                let value = self.select_without_branch(vv, v, f);
                (value, self.builder.ins().bor(vv, vf))
            }
            NodeKind::Input { .. } | NodeKind::Const(_) | NodeKind::Lag { .. } => {
                unreachable!("the plan never applies inputs, constants or lags: they are read")
            }
            // An `ema` in the row loop (`fuse_loops::is_inline_scan`): `cumulative_step`'s
            // `α·x + (1−α)·s` from its first valid row on (which starts it at x), its state
            // kept over null rows; the same operations in the same order, so the same bits.
            NodeKind::Scan { op: ScanOp::Ema { .. }, .. } => {
                let regs = *self.inline_scans.get(&id).expect("an inline scan has its state");
                let [(x, valid)] = [operands[0]];
                let s = self.builder.use_var(regs.state);
                let scaled_x = self.builder.ins().fmul(regs.alpha, x);
                let scaled_s = self.builder.ins().fmul(regs.complement, s);
                let stepped = self.builder.ins().fadd(scaled_x, scaled_s);
                let next = if self.inline_scans_started {
                    // Started stays set: the loop carries no flag.
                    stepped
                } else {
                    let is_started = self.builder.use_var(regs.started);
                    let now_started = self.builder.ins().bor(is_started, valid);
                    self.builder.def_var(regs.started, now_started);
                    self.builder.ins().select(is_started, stepped, x)
                };
                let next = self.builder.ins().select(valid, next, s);
                self.builder.def_var(regs.state, next);
                (next, valid)
            }
            NodeKind::Reduce { .. } | NodeKind::Scan { .. } => {
                unreachable!("the engine computes stateful nodes in passes before this plan")
            }
        }
    }

    /// `ln`/`exp` of a scalar, once, through the block stub on a one-element stack slot.
    pub(super) fn scalar_math(&mut self, function: MathFunction, elem: Elem, x: Value, valid: Value) -> Pair {
        let size = elem_size(elem) as u32;
        let slot =
            self.builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
        self.builder.ins().stack_store(types::I64, x, slot, 0);
        let address = self.builder.ins().stack_addr(types::I64, slot, 0);
        let one = self.builder.ins().iconst(types::I64, 1);
        let stub = self.math_stub(BlockFunction::Unary(function), elem);
        self.builder.ins().call(stub, &[address, address, one]);
        (self.builder.ins().stack_load(types::I64, clif_type(elem), slot, 0), valid)
    }

    /// A two-argument math function of scalars, once, through the block stub on one-element
    /// stack slots (the planner makes column nodes block calls).
    pub(super) fn scalar_math2(
        &mut self,
        function: BinaryMathFunction,
        elem: Elem,
        a: Value,
        b: Value,
    ) -> Value {
        let size = elem_size(elem) as u32;
        let slot_of = |this: &mut Self, value: Value| {
            let slot = this.builder.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                size,
                3,
            ));
            this.builder.ins().stack_store(types::I64, value, slot, 0);
            (slot, this.builder.ins().stack_addr(types::I64, slot, 0))
        };
        let (slot, a_address) = slot_of(self, a);
        let (_, b_address) = slot_of(self, b);
        let one = self.builder.ins().iconst(types::I64, 1);
        let stub = self.math_stub(BlockFunction::Binary(function), elem);
        self.builder.ins().call(stub, &[a_address, b_address, a_address, one]);
        self.builder.ins().stack_load(types::I64, clif_type(elem), slot, 0)
    }

    /// NumPy's `sign` as `ir::semantics` computes it: `x > 0 ? 1 : x < 0 ? -1 : x == 0 ? +0 : x`
    /// for floats, and `x` clamped to [-1, 1] for integers.
    pub(super) fn sign(&mut self, x: Value, elem: Elem) -> Value {
        let [one, minus_one, zero] = match elem {
            Elem::F64 => [1.0, -1.0, 0.0].map(|c| self.builder.ins().f64const(c)),
            Elem::F32 => [1.0f32, -1.0, 0.0].map(|c| self.builder.ins().f32const(c)),
            Elem::I64 | Elem::I32 => {
                let ty = clif_type(elem);
                let one = self.int_const(ty, 1);
                let minus_one = self.int_const(ty, -1);
                let at_most_one = self.builder.ins().smin(x, one);
                return self.builder.ins().smax(at_most_one, minus_one);
            }
            Elem::Bool => unreachable!("check takes the sign of numbers only"),
        };
        let is_zero = self.builder.ins().fcmp(FloatCC::Equal, x, zero);
        let zero_or_nan = self.builder.ins().select(is_zero, zero, x);
        let below = self.builder.ins().fcmp(FloatCC::LessThan, x, zero);
        let not_above = self.builder.ins().select(below, minus_one, zero_or_nan);
        let above = self.builder.ins().fcmp(FloatCC::GreaterThan, x, zero);
        self.builder.ins().select(above, one, not_above)
    }

    /// `op` on integers, as `semantics::integer_binary`: `+ - *` wrap, comparisons are
    /// signed, and `//`/`%` are null for a zero divisor (see `modulo`).
    fn integer_binary(&mut self, op: BinaryOp, (a, va): Pair, (b, vb): Pair) -> Pair {
        let both = self.builder.ins().band(va, vb);
        let value = match op {
            BinaryOp::Add => self.builder.ins().iadd(a, b),
            BinaryOp::Sub => self.builder.ins().isub(a, b),
            BinaryOp::Mul => self.builder.ins().imul(a, b),
            BinaryOp::Min => self.builder.ins().smin(a, b),
            BinaryOp::Max => self.builder.ins().smax(a, b),
            BinaryOp::FloorDiv | BinaryOp::Mod => return self.integer_divmod(op, a, b, both),
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                self.builder.ins().icmp(int_cc(op), a, b)
            }
            BinaryOp::Div | BinaryOp::Math(_) => {
                unreachable!("check makes the operands of / and math floats")
            }
            BinaryOp::And | BinaryOp::Or => unreachable!("check allows logic on bools only"),
        };
        (value, both)
    }

    /// `op` on operands of element type `operand_elem` (both operands have it: check makes
    /// them one type and the verifier enforces it).
    pub(super) fn binary(&mut self, op: BinaryOp, operand_elem: Elem, (a, va): Pair, (b, vb): Pair) -> Pair {
        let both = self.builder.ins().band(va, vb);
        let is_bool = match operand_elem {
            Elem::Bool => true,
            Elem::F64 | Elem::F32 => false,
            Elem::I64 | Elem::I32 => return self.integer_binary(op, (a, va), (b, vb)),
        };
        let value = match op {
            BinaryOp::Math(function) => return (self.scalar_math2(function, operand_elem, a, b), both),
            BinaryOp::FloorDiv | BinaryOp::Mod => self.float_divmod(op, a, b),
            BinaryOp::Add => self.builder.ins().fadd(a, b),
            BinaryOp::Sub => self.builder.ins().fsub(a, b),
            BinaryOp::Mul => self.builder.ins().fmul(a, b),
            BinaryOp::Div => self.builder.ins().fdiv(a, b),
            BinaryOp::Min | BinaryOp::Max => {
                unreachable!("`apply` takes float min/max (knowing their constants); check rejects bool ones")
            }
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
    pub(super) fn kleene(&mut self, op: BinaryOp, (a, va): Pair, (b, vb): Pair) -> Pair {
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

    /// `min`/`max` of one row: lane 0 of [`Self::min_max_vector`] (`constants` as there),
    /// blends in the float registers, where choosing the bits with `cmov`s took each operand
    /// to an integer register and back, on the path of an inline `ema`'s operand.
    pub(super) fn min_max(&mut self, op: BinaryOp, a: Value, b: Value, constants: [Option<f64>; 2]) -> Value {
        let elem = if self.builder.func.dfg.value_type(a) == types::F64 { Elem::F64 } else { Elem::F32 };
        let vector = Lanes::of(elem);
        // Splatted (one instruction) rather than moved into a zeroed vector (two): only lane
        // 0 is read.
        let a = self.builder.ins().splat(vector.ty, a);
        let b = self.builder.ins().splat(vector.ty, b);
        let lanes = self.min_max_vector(op, vector, [a, b], constants);
        self.builder.ins().extractlane(lanes, 0)
    }

    /// The multiplications of `ir::semantics::pow_i_float`, in its order (the interpreter's
    /// order is the definition), unrolled for the constant exponent.
    pub(super) fn pow_i(&mut self, x: Value, exponent: i32, elem: Elem) -> Value {
        let one = match elem {
            Elem::F32 => self.builder.ins().f32const(1.0),
            Elem::F64 => self.builder.ins().f64const(1.0),
            Elem::I64 => self.builder.ins().iconst(types::I64, 1),
            Elem::I32 => self.builder.ins().iconst(types::I32, 1),
            Elem::Bool => unreachable!("check raises only numbers to a power"),
        };
        self.pow_i_with(x, exponent, one)
    }

    /// `pow_i` for scalars and vectors alike; `one` is 1 of `x`'s type. Integer products wrap
    /// (check never gives an integer a negative exponent).
    pub(super) fn pow_i_with(&mut self, x: Value, exponent: i32, one: Value) -> Value {
        let integer = self.builder.func.dfg.value_type(x).lane_type().is_int();
        let mut remaining = exponent.unsigned_abs();
        let mut square = x;
        let mut product: Option<Value> = None;
        while remaining != 0 {
            if remaining & 1 == 1 {
                product = Some(match product {
                    None => square,
                    Some(p) if integer => self.builder.ins().imul(p, square),
                    Some(p) => self.builder.ins().fmul(p, square),
                });
            }
            remaining >>= 1;
            if remaining != 0 {
                square = if integer {
                    self.builder.ins().imul(square, square)
                } else {
                    self.builder.ins().fmul(square, square)
                };
            }
        }
        let magnitude = product.unwrap_or(one);
        if exponent < 0 { self.builder.ins().fdiv(one, magnitude) } else { magnitude }
    }
}

/// The signed integer comparison of each comparison operator.
pub(super) fn int_cc(op: BinaryOp) -> IntCC {
    match op {
        BinaryOp::Eq => IntCC::Equal,
        BinaryOp::Ne => IntCC::NotEqual,
        BinaryOp::Lt => IntCC::SignedLessThan,
        BinaryOp::Le => IntCC::SignedLessThanOrEqual,
        BinaryOp::Gt => IntCC::SignedGreaterThan,
        _ => IntCC::SignedGreaterThanOrEqual,
    }
}

/// The IEEE comparison of each comparison operator (NaN: all false but `!=`).
pub(super) fn float_cc(op: BinaryOp) -> FloatCC {
    match op {
        BinaryOp::Eq => FloatCC::Equal,
        BinaryOp::Ne => FloatCC::NotEqual,
        BinaryOp::Lt => FloatCC::LessThan,
        BinaryOp::Le => FloatCC::LessThanOrEqual,
        BinaryOp::Gt => FloatCC::GreaterThan,
        _ => FloatCC::GreaterThanOrEqual,
    }
}
