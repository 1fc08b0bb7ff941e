//! The row operations that need more than one instruction and a thought: conversions between
//! element types, integer `//` and `%` (null for a zero divisor, never a trap), and float `//`
//! and `%` as NumPy's `divmod` with an exact `fmod` — each mirroring `ir::semantics`.

use super::{Pair, Translator, clif_type};
use crate::ir::{BinaryOp, Elem};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};

/// 2⁶³ and 2³¹: the exclusive upper bounds of i64 and i32, as f64.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_31: f64 = 2_147_483_648.0;
/// At or above this quotient `x / y`, `fmod`'s one-step form no longer holds an exact integer.
const TWO_POW_53: f64 = 9_007_199_254_740_992.0;

impl<'p, 'b> Translator<'p, 'b> {
    /// `semantics::cast` of `x` (valid `valid`) from `from` to `to`: a conversion to an
    /// integer that does not fit (or of NaN) is null.
    pub(super) fn cast(&mut self, x: Value, valid: Value, from: Elem, to: Elem) -> Pair {
        match (from, to) {
            (Elem::F32, Elem::F64) => (self.builder.ins().fpromote(types::F64, x), valid),
            (Elem::F64, Elem::F32) => (self.builder.ins().fdemote(types::F32, x), valid),
            // One rounding, straight from the integer.
            (Elem::I64 | Elem::I32, Elem::F64 | Elem::F32) => {
                (self.builder.ins().fcvt_from_sint(clif_type(to), x), valid)
            }
            (Elem::I32, Elem::I64) => (self.builder.ins().sextend(types::I64, x), valid),
            (Elem::I64, Elem::I32) => {
                let narrow = self.builder.ins().ireduce(types::I32, x);
                let back = self.builder.ins().sextend(types::I64, narrow);
                let fits = self.builder.ins().icmp(IntCC::Equal, back, x);
                (narrow, self.builder.ins().band(valid, fits))
            }
            (Elem::F64 | Elem::F32, Elem::I64 | Elem::I32) => {
                // An f32 widens exactly; the bounds are then exact f64 constants.
                let wide = if from == Elem::F32 { self.builder.ins().fpromote(types::F64, x) } else { x };
                let (low, low_cc, high) = if to == Elem::I64 {
                    (-TWO_POW_63, FloatCC::GreaterThanOrEqual, TWO_POW_63)
                } else {
                    (-TWO_POW_31 - 1.0, FloatCC::GreaterThan, TWO_POW_31)
                };
                let low = self.builder.ins().f64const(low);
                let high = self.builder.ins().f64const(high);
                // Both comparisons are false for NaN.
                let above_low = self.builder.ins().fcmp(low_cc, wide, low);
                let below_high = self.builder.ins().fcmp(FloatCC::LessThan, wide, high);
                let fits = self.builder.ins().band(above_low, below_high);
                // Saturating, so nothing traps; where it saturates the row is null anyway.
                let value = self.builder.ins().fcvt_to_sint_sat(clif_type(to), wide);
                (value, self.builder.ins().band(valid, fits))
            }
            (Elem::F64, Elem::F64)
            | (Elem::F32, Elem::F32)
            | (Elem::I64, Elem::I64)
            | (Elem::I32, Elem::I32) => (x, valid),
            (Elem::Bool, _) | (_, Elem::Bool) => unreachable!("check never casts to or from bool"),
        }
    }

    /// Integer `a // b` or `a % b` as `semantics::integer_divmod`:
    /// the divisor is replaced by 1 where it is 0 (the row is null) or -1 (the quotient is
    /// `-a`, wrapping, and the remainder 0), so `sdiv`/`srem` never trap; then the truncated
    /// result is floored.
    pub(super) fn integer_divmod(&mut self, op: BinaryOp, a: Value, b: Value, both: Value) -> Pair {
        let ty = self.builder.func.dfg.value_type(a);
        let one = self.int_const(ty, 1);
        let minus_one = self.int_const(ty, -1);
        let is_zero = self.builder.ins().icmp_imm_s(IntCC::Equal, b, 0);
        let is_minus_one = self.builder.ins().icmp(IntCC::Equal, b, minus_one);
        let replaced = self.builder.ins().bor(is_zero, is_minus_one);
        let divisor = self.builder.ins().select(replaced, one, b);
        let quotient = self.builder.ins().sdiv(a, divisor);
        let negated = self.builder.ins().ineg(a);
        let quotient = self.builder.ins().select(is_minus_one, negated, quotient);
        let remainder = self.builder.ins().srem(a, divisor);
        // Floor: a non-zero remainder whose sign differs from the divisor's moves down by one.
        let nonzero = self.builder.ins().icmp_imm_s(IntCC::NotEqual, remainder, 0);
        let signs = self.builder.ins().bxor(remainder, b);
        let differ = self.builder.ins().icmp_imm_s(IntCC::SignedLessThan, signs, 0);
        let adjust = self.builder.ins().band(nonzero, differ);
        let value = if op == BinaryOp::FloorDiv {
            let lower = self.builder.ins().isub(quotient, one);
            self.builder.ins().select(adjust, lower, quotient)
        } else {
            let moved = self.builder.ins().iadd(remainder, b);
            self.builder.ins().select(adjust, moved, remainder)
        };
        let divisor_ok = self.builder.ins().bxor_imm_s(is_zero, 1);
        (value, self.builder.ins().band(both, divisor_ok))
    }

    /// [`integer_divmod`](Self::integer_divmod) by a constant `divisor` (of `a`'s type): the
    /// same values, null rows included (`a // 0` is `a`, `a % 0` is 0, both null), with
    /// the divisor an `iconst` at its use, so that Cranelift's e-graph replaces `sdiv` by a
    /// multiplication by a magic number; the remainder is `a − q·d`, and the floor's
    /// correction a sign test of the remainder (the divisor's sign is known).
    pub(super) fn integer_divmod_by_constant(
        &mut self,
        op: BinaryOp,
        a: Value,
        divisor: i64,
        both: Value,
    ) -> Pair {
        let ty = self.builder.func.dfg.value_type(a);
        let zero = self.int_const(ty, 0);
        match divisor {
            0 => {
                let value = if op == BinaryOp::FloorDiv { a } else { zero };
                (value, self.builder.ins().iconst(types::I8, 0))
            }
            // The quotient wraps (`MIN // -1` is MIN); nothing is left over.
            -1 => {
                let value = if op == BinaryOp::FloorDiv { self.builder.ins().ineg(a) } else { zero };
                (value, both)
            }
            _ => {
                let d = self.int_const(ty, divisor);
                let quotient = self.builder.ins().sdiv(a, d);
                let product = self.builder.ins().imul(quotient, d);
                let remainder = self.builder.ins().isub(a, product);
                // A non-zero remainder whose sign differs from the divisor's.
                let cc = if divisor > 0 { IntCC::SignedLessThan } else { IntCC::SignedGreaterThan };
                let adjust = self.builder.ins().icmp(cc, remainder, zero);
                let value = if op == BinaryOp::FloorDiv {
                    let lower = self.builder.ins().iadd_imm_s(quotient, -1);
                    self.builder.ins().select(adjust, lower, quotient)
                } else {
                    let moved = self.builder.ins().iadd(remainder, d);
                    self.builder.ins().select(adjust, moved, remainder)
                };
                (value, both)
            }
        }
    }

    /// Float `a // b` or `a % b`: `semantics::float_divmod` (NumPy's `npy_divmod`) step for
    /// step, in the operands' type, with `fmod` computed exactly (see `fmod_f64`).
    pub(super) fn float_divmod(&mut self, op: BinaryOp, a: Value, b: Value) -> Value {
        let ty = self.builder.func.dfg.value_type(a);
        let constant = |this: &mut Self, value: f64| {
            if ty == types::F32 {
                this.builder.ins().f32const(value as f32)
            } else {
                this.builder.ins().f64const(value)
            }
        };
        // fmod of f32 operands is exact in f64, and so is its narrowing.
        let modulo = if ty == types::F32 {
            let wide_a = self.builder.ins().fpromote(types::F64, a);
            let wide_b = self.builder.ins().fpromote(types::F64, b);
            let wide = self.fmod_f64(wide_a, wide_b);
            self.builder.ins().fdemote(types::F32, wide)
        } else {
            self.fmod_f64(a, b)
        };
        let zero = constant(self, 0.0);
        let one = constant(self, 1.0);
        let half = constant(self, 0.5);
        let quotient_by_zero = self.builder.ins().fdiv(a, b);
        let b_is_zero = self.builder.ins().fcmp(FloatCC::Equal, b, zero);
        // div = (a - mod) / b; a non-zero mod of the wrong sign moves by b, div by -1.
        let difference = self.builder.ins().fsub(a, modulo);
        let div = self.builder.ins().fdiv(difference, b);
        let modulo_nonzero = self.builder.ins().fcmp(FloatCC::NotEqual, modulo, zero);
        let b_negative = self.builder.ins().fcmp(FloatCC::LessThan, b, zero);
        let modulo_negative = self.builder.ins().fcmp(FloatCC::LessThan, modulo, zero);
        let wrong_sign = self.builder.ins().bxor(b_negative, modulo_negative);
        let adjust = self.builder.ins().band(modulo_nonzero, wrong_sign);
        let moved = self.builder.ins().fadd(modulo, b);
        let signed_zero = self.builder.ins().fcopysign(zero, b);
        let kept = self.builder.ins().select(modulo_nonzero, modulo, signed_zero);
        let modulo_result = self.builder.ins().select(adjust, moved, kept);
        let lowered = self.builder.ins().fsub(div, one);
        let div = self.builder.ins().select(adjust, lowered, div);
        if op == BinaryOp::Mod {
            return self.builder.ins().select(b_is_zero, modulo, modulo_result);
        }
        // floor(div), corrected up where div sat more than half above it; a zero div takes
        // the sign of a / b.
        let floor = self.builder.ins().floor(div);
        let above = self.builder.ins().fsub(div, floor);
        let too_low = self.builder.ins().fcmp(FloatCC::GreaterThan, above, half);
        let raised = self.builder.ins().fadd(floor, one);
        let floor = self.builder.ins().select(too_low, raised, floor);
        let div_nonzero = self.builder.ins().fcmp(FloatCC::NotEqual, div, zero);
        let signed_zero = self.builder.ins().fcopysign(zero, quotient_by_zero);
        let floor_div = self.builder.ins().select(div_nonzero, floor, signed_zero);
        self.builder.ins().select(b_is_zero, quotient_by_zero, floor_div)
    }

    /// C's `fmod(a, b)` for f64, exactly: `|a| − n·|b|` for the largest integer `n` keeping it
    /// non-negative, with the sign of `a`; NaN when `a` is ±∞ or NaN or `b` is 0 or NaN, and
    /// `a` when `b` is ±∞.
    ///
    /// With `x = |a|`, `y = |b|` and `q = fl(x / y) < 2⁵³`, `t = trunc(q)` is `trunc(x / y)`
    /// or one more (rounding is monotonic and integers below 2⁵³ are floats), and
    /// `x − t·y` is a float (a multiple of the smaller ulp of x and y, below y in magnitude),
    /// so one FMA computes it exactly; a negative result means t was one too many and adding
    /// `y` back is exact too. A larger quotient is first brought below 2⁵³ by steps of the
    /// same kind against `y·2ᵏ` (a multiple of `y`, so `fmod` by it keeps the remainder by `y`),
    /// each removing at least 51 bits of the exponent gap: at most 42 steps, in a loop only
    /// rows with such quotients enter.
    pub(super) fn fmod_f64(&mut self, a: Value, b: Value) -> Value {
        let x = self.builder.ins().fabs(a);
        let y = self.builder.ins().fabs(b);
        let limit = self.builder.ins().f64const(TWO_POW_53);
        let header = self.builder.create_block();
        let reduce = self.builder.create_block();
        let done = self.builder.create_block();
        self.builder.append_block_param(header, types::F64);
        self.builder.ins().jump(header, &[x.into()]);
        self.builder.switch_to_block(header);
        let current = self.builder.block_params(header)[0];
        let quotient = self.builder.ins().fdiv(current, y);
        // False for NaN and ∞ quotients too: those rows leave at once (their result is
        // decided by the special cases below).
        let huge = self.builder.ins().fcmp(FloatCC::GreaterThanOrEqual, quotient, limit);
        let finite_x = self.finite(current);
        let finite_y = self.finite(y);
        let zero = self.builder.ins().f64const(0.0);
        let nonzero_y = self.builder.ins().fcmp(FloatCC::NotEqual, y, zero);
        let reducible = self.builder.ins().band(huge, finite_x);
        let reducible = self.builder.ins().band(reducible, finite_y);
        let reducible = self.builder.ins().band(reducible, nonzero_y);
        self.builder.ins().brif(reducible, reduce, &[], done, &[]);

        // x / y ≥ 2⁵³ with both finite: reduce x by y·2ᵏ, k = e(x) − e(y) − 51 ≥ 2.
        self.builder.switch_to_block(reduce);
        let exponent_x = self.exponent(current);
        let exponent_y = self.exponent(y);
        let gap = self.builder.ins().isub(exponent_x, exponent_y);
        let k = self.builder.ins().iadd_imm_s(gap, -51);
        // 2ᵏ as two normal powers of two (k ≤ 2046): y·2^k1·2^k2 is exact, and no more than x.
        let k1 = self.builder.ins().sshr_imm_u(k, 1);
        let k2 = self.builder.ins().isub(k, k1);
        let scale1 = self.power_of_two(k1);
        let scale2 = self.power_of_two(k2);
        let scaled = self.builder.ins().fmul(y, scale1);
        let scaled = self.builder.ins().fmul(scaled, scale2);
        let reduced = self.fmod_step(current, scaled);
        self.builder.ins().jump(header, &[reduced.into()]);

        self.builder.switch_to_block(done);
        let remainder = self.fmod_step(current, y);
        // Special cases, as C99 Annex F: x = ±∞ or y = 0 gives NaN (so does a NaN operand,
        // through the arithmetic); y = ±∞ with x finite gives x.
        let infinity = self.f64_infinity();
        let infinite_y = self.builder.ins().fcmp(FloatCC::Equal, y, infinity);
        let remainder = self.builder.ins().select(infinite_y, current, remainder);
        let nan = self.builder.ins().f64const(f64::NAN);
        let zero = self.builder.ins().f64const(0.0);
        let zero_y = self.builder.ins().fcmp(FloatCC::Equal, y, zero);
        let infinite_x = self.builder.ins().fcmp(FloatCC::Equal, current, infinity);
        let invalid = self.builder.ins().bor(zero_y, infinite_x);
        let remainder = self.builder.ins().select(invalid, nan, remainder);
        let operands_nan = self.builder.ins().fadd(a, b);
        let any_nan = self.builder.ins().fcmp(FloatCC::Unordered, a, b);
        let remainder = self.builder.ins().select(any_nan, operands_nan, remainder);
        self.builder.ins().fcopysign(remainder, a)
    }

    /// One exact step `x − trunc(x / y)·y` (corrected by `+y` when it went below zero), for
    /// `x ≥ 0`, `y > 0` finite and `x / y < 2⁵³`.
    fn fmod_step(&mut self, x: Value, y: Value) -> Value {
        let quotient = self.builder.ins().fdiv(x, y);
        let whole = self.builder.ins().trunc(quotient);
        let negated = self.builder.ins().fneg(whole);
        let remainder = self.builder.ins().fma(negated, y, x);
        let zero = self.builder.ins().f64const(0.0);
        let below = self.builder.ins().fcmp(FloatCC::LessThan, remainder, zero);
        let raised = self.builder.ins().fadd(remainder, y);
        self.builder.ins().select(below, raised, remainder)
    }

    /// Whether an f64 is neither ±∞ nor NaN.
    fn finite(&mut self, x: Value) -> Value {
        let magnitude = self.builder.ins().fabs(x);
        let infinity = self.f64_infinity();
        self.builder.ins().fcmp(FloatCC::LessThan, magnitude, infinity)
    }

    fn f64_infinity(&mut self) -> Value {
        self.builder.ins().f64const(f64::INFINITY)
    }

    /// The binary exponent `floor(log2 x)` of a positive finite f64, as an i64; subnormals
    /// are scaled by 2⁶⁴ first so their exponent is exact too.
    fn exponent(&mut self, x: Value) -> Value {
        let smallest_normal = self.builder.ins().f64const(f64::MIN_POSITIVE);
        let subnormal = self.builder.ins().fcmp(FloatCC::LessThan, x, smallest_normal);
        let factor = self.builder.ins().f64const(18_446_744_073_709_551_616.0);
        let scaled = self.builder.ins().fmul(x, factor);
        let normal = self.builder.ins().select(subnormal, scaled, x);
        let bits = self.builder.ins().bitcast(types::I64, MemFlagsData::new(), normal);
        let biased = self.builder.ins().ushr_imm_u(bits, 52);
        let unbiased = self.builder.ins().iadd_imm_s(biased, -1023);
        let correction = self.builder.ins().iconst(types::I64, 64);
        let zero = self.builder.ins().iconst(types::I64, 0);
        let correction = self.builder.ins().select(subnormal, correction, zero);
        self.builder.ins().isub(unbiased, correction)
    }

    /// 2ᵏ as an f64 for an i64 `k` in the normal exponent range [-1022, 1023].
    fn power_of_two(&mut self, k: Value) -> Value {
        let biased = self.builder.ins().iadd_imm_s(k, 1023);
        let bits = self.builder.ins().ishl_imm_u(biased, 52);
        self.builder.ins().bitcast(types::F64, MemFlagsData::new(), bits)
    }
}
