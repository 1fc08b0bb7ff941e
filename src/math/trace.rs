//! A [`Lanes`] implementation that records operations instead of computing them: running the
//! generic `ln`/`exp` kernels on a traced value yields their exact operation sequence, which a
//! code generator can emit for a target this crate is not compiled for (the aarch64 NEON tier
//! is these traces lowered to Cranelift `f64x2` code). The trace is the same algorithm, step
//! for step, as every compiled tier, which is why its results are bit-identical to theirs.
//!
//! Architecture Invariant: this file knows nothing about Cranelift; it produces plain data.

use super::lanes::{GuardedPath, Lanes, LookupTable};
use std::cell::RefCell;

/// One recorded operation. Operands are indices of earlier operations in the same trace.
/// Operations that produce masks (`Less`, `Greater`, `Equal`, `BelowOrUnordered`, `IsNan`) are only ever
/// consumed as the first operand of `Select` or `IfAnyBegin`.
///
/// `IfAnyBegin(mask, otherwise)` … `IfAnyEnd(begin, then)` bracket a guarded region (never
/// nested): the operations between them need only run when some lane of `mask` is set, and
/// `IfAnyEnd`'s value is `mask ? then : otherwise`. Operations after `IfAnyEnd` use nothing
/// recorded inside the region but constants (which an emitter materialises up front, since
/// [`record`] shares one of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TracedOp {
    /// The kernel's argument of this index (0, or 0 and 1 for a two-argument kernel).
    Input(u32),
    /// A constant in every lane, by its bits.
    Constant(u64),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    /// `a * b + c` rounded once.
    Fma(u32, u32, u32),
    AndBits(u32, u32),
    OrBits(u32, u32),
    XorBits(u32, u32),
    /// The bit patterns added as 64-bit integers, wrapping.
    AddBits(u32, u32),
    Sqrt(u32),
    ShiftRight52(u32),
    ShiftLeft52(u32),
    Less(u32, u32),
    Greater(u32, u32),
    Equal(u32, u32),
    /// `!(a >= b)`: true where `a < b` or either is NaN.
    BelowOrUnordered(u32, u32),
    IsNan(u32),
    /// `mask ? a : b`.
    Select(u32, u32, u32),
    /// Opens a guarded region: `(mask, otherwise)`. Its own value is `otherwise`.
    IfAnyBegin(u32, u32),
    /// Closes the region opened at index `begin`: `(begin, then)`; the value is
    /// `mask ? then : otherwise`.
    IfAnyEnd(u32, u32),
    /// `table`'s entry at the low four bits of the operand's bit pattern ([`Lanes::lookup`]).
    Lookup(u32, LookupTable),
}

/// A whole kernel as straight-line code: `ops[result]` is its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub ops: Vec<TracedOp>,
    pub result: u32,
}

thread_local! {
    /// The trace being recorded on this thread; `Some` only inside [`trace`].
    static RECORDING: RefCell<Option<Vec<TracedOp>>> = const { RefCell::new(None) };
}

/// A value inside a kernel being traced: the index of the operation that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traced(u32);

fn record(op: TracedOp) -> Traced {
    RECORDING.with(|recording| {
        let mut recording = recording.borrow_mut();
        // Outside `trace` there is no recording; record into a throwaway one so that a stray
        // call cannot fail (it can only be a bug in this module, and its value is unused).
        let ops = recording.get_or_insert_with(Vec::new);
        // Constants repeat (the kernels splat inline): keep one of each.
        if let TracedOp::Constant(_) = op
            && let Some(index) = ops.iter().position(|existing| *existing == op)
        {
            return Traced(index as u32);
        }
        ops.push(op);
        Traced((ops.len() - 1) as u32)
    })
}

/// Records `kernel` applied to one argument.
pub fn trace(kernel: impl Fn(Traced) -> Traced) -> Trace {
    RECORDING.with(|recording| *recording.borrow_mut() = Some(Vec::new()));
    let input = record(TracedOp::Input(0));
    let result = kernel(input);
    let ops = RECORDING.with(|recording| recording.borrow_mut().take()).unwrap_or_default();
    Trace { ops, result: result.0 }
}

/// Records a two-argument `kernel` applied to inputs 0 and 1.
pub fn trace2(kernel: impl Fn(Traced, Traced) -> Traced) -> Trace {
    RECORDING.with(|recording| *recording.borrow_mut() = Some(Vec::new()));
    let first = record(TracedOp::Input(0));
    let second = record(TracedOp::Input(1));
    let result = kernel(first, second);
    let ops = RECORDING.with(|recording| recording.borrow_mut().take()).unwrap_or_default();
    Trace { ops, result: result.0 }
}

impl Lanes for Traced {
    const WIDTH: usize = 1;
    type Mask = Traced;

    fn splat(value: f64) -> Self {
        record(TracedOp::Constant(value.to_bits()))
    }
    fn add(self, other: Self) -> Self {
        record(TracedOp::Add(self.0, other.0))
    }
    fn sub(self, other: Self) -> Self {
        record(TracedOp::Sub(self.0, other.0))
    }
    fn mul(self, other: Self) -> Self {
        record(TracedOp::Mul(self.0, other.0))
    }
    fn div(self, other: Self) -> Self {
        record(TracedOp::Div(self.0, other.0))
    }
    fn fma(self, b: Self, c: Self) -> Self {
        record(TracedOp::Fma(self.0, b.0, c.0))
    }
    fn and_bits(self, other: Self) -> Self {
        record(TracedOp::AndBits(self.0, other.0))
    }
    fn or_bits(self, other: Self) -> Self {
        record(TracedOp::OrBits(self.0, other.0))
    }
    fn xor_bits(self, other: Self) -> Self {
        record(TracedOp::XorBits(self.0, other.0))
    }
    fn add_bits(self, other: Self) -> Self {
        record(TracedOp::AddBits(self.0, other.0))
    }
    fn sqrt(self) -> Self {
        record(TracedOp::Sqrt(self.0))
    }
    fn shift_right_52(self) -> Self {
        record(TracedOp::ShiftRight52(self.0))
    }
    fn shift_left_52(self) -> Self {
        record(TracedOp::ShiftLeft52(self.0))
    }
    fn less(self, other: Self) -> Self {
        record(TracedOp::Less(self.0, other.0))
    }
    fn greater(self, other: Self) -> Self {
        record(TracedOp::Greater(self.0, other.0))
    }
    fn below_or_unordered(self, other: Self) -> Self {
        record(TracedOp::BelowOrUnordered(self.0, other.0))
    }
    fn equal(self, other: Self) -> Self {
        record(TracedOp::Equal(self.0, other.0))
    }
    fn is_nan(self) -> Self {
        record(TracedOp::IsNan(self.0))
    }
    fn select(mask: Self, a: Self, b: Self) -> Self {
        record(TracedOp::Select(mask.0, a.0, b.0))
    }
    fn if_any<P: GuardedPath>(mask: Self, argument: Self, otherwise: Self) -> Self {
        let begin = record(TracedOp::IfAnyBegin(mask.0, otherwise.0));
        let then = P::run(argument);
        record(TracedOp::IfAnyEnd(begin.0, then.0))
    }
    fn lookup(self, table: LookupTable) -> Self {
        record(TracedOp::Lookup(self.0, table))
    }
}

/// Evaluates a trace on one f64 with the scalar tier's operations: the check that a trace
/// is the kernel it was recorded from.
#[cfg(test)]
pub fn evaluate(trace: &Trace, x: f64) -> f64 {
    let mut values: Vec<f64> = Vec::with_capacity(trace.ops.len());
    let mut masks: Vec<bool> = Vec::with_capacity(trace.ops.len());
    for op in &trace.ops {
        let v = |index: u32| values[index as usize];
        let (value, mask) = match *op {
            TracedOp::Input(_) => (x, false),
            TracedOp::Constant(bits) => (f64::from_bits(bits), false),
            TracedOp::Add(a, b) => (v(a).add(v(b)), false),
            TracedOp::Sub(a, b) => (v(a).sub(v(b)), false),
            TracedOp::Mul(a, b) => (v(a).mul(v(b)), false),
            TracedOp::Div(a, b) => (v(a).div(v(b)), false),
            TracedOp::Fma(a, b, c) => (v(a).fma(v(b), v(c)), false),
            TracedOp::AndBits(a, b) => (v(a).and_bits(v(b)), false),
            TracedOp::OrBits(a, b) => (v(a).or_bits(v(b)), false),
            TracedOp::XorBits(a, b) => (v(a).xor_bits(v(b)), false),
            TracedOp::AddBits(a, b) => (v(a).add_bits(v(b)), false),
            TracedOp::Sqrt(a) => (v(a).sqrt(), false),
            TracedOp::ShiftRight52(a) => (v(a).shift_right_52(), false),
            TracedOp::ShiftLeft52(a) => (v(a).shift_left_52(), false),
            TracedOp::Less(a, b) => (0.0, v(a).less(v(b))),
            TracedOp::Greater(a, b) => (0.0, v(a).greater(v(b))),
            TracedOp::Equal(a, b) => (0.0, v(a).equal(v(b))),
            TracedOp::BelowOrUnordered(a, b) => (0.0, v(a).below_or_unordered(v(b))),
            TracedOp::IsNan(a) => (0.0, v(a).is_nan()),
            TracedOp::Select(m, a, b) => (if masks[m as usize] { v(a) } else { v(b) }, false),
            TracedOp::IfAnyBegin(_, otherwise) => (v(otherwise), false),
            TracedOp::IfAnyEnd(begin, then) => match trace.ops[begin as usize] {
                TracedOp::IfAnyBegin(m, otherwise) => {
                    (if masks[m as usize] { v(then) } else { v(otherwise) }, false)
                }
                _ => unreachable!("IfAnyEnd names its IfAnyBegin"),
            },
            TracedOp::Lookup(a, table) => (v(a).lookup(table), false),
        };
        values.push(value);
        masks.push(mask);
    }
    values[trace.result as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::kernels;

    #[test]
    fn traced_kernels_evaluate_to_the_scalar_tiers_bits() {
        let ln = trace(kernels::ln::<Traced>);
        let exp = trace(kernels::exp::<Traced>);
        // The traces are straight-line code of a plausible size, with constants shared.
        assert!(ln.ops.len() > 40 && ln.ops.len() < 120, "{}", ln.ops.len());
        assert!(exp.ops.len() > 40 && exp.ops.len() < 120, "{}", exp.ops.len());
        let samples = [
            0.0,
            -0.0,
            1.0,
            2.0,
            0.5,
            1e-310,
            f64::MIN_POSITIVE,
            1e300,
            -3.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            709.9,
            -745.5,
            123.456,
        ];
        for x in samples {
            let (want_ln, got_ln) = (kernels::ln(x), evaluate(&ln, x));
            assert!(want_ln.to_bits() == got_ln.to_bits() || want_ln.is_nan() && got_ln.is_nan(), "ln({x})");
            let (want_exp, got_exp) = (kernels::exp(x), evaluate(&exp, x));
            assert!(
                want_exp.to_bits() == got_exp.to_bits() || want_exp.is_nan() && got_exp.is_nan(),
                "exp({x})"
            );
        }
        assert_eq!(evaluate(&ln, 1.0).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn a_guarded_region_is_recorded_once_and_evaluates_to_the_scalar_tiers_bits() {
        use crate::math::trigonometric;
        let sin = trace(trigonometric::sin::<Traced>);
        let begins: Vec<usize> =
            (0..sin.ops.len()).filter(|&i| matches!(sin.ops[i], TracedOp::IfAnyBegin(..))).collect();
        let ends: Vec<usize> =
            (0..sin.ops.len()).filter(|&i| matches!(sin.ops[i], TracedOp::IfAnyEnd(..))).collect();
        assert_eq!(begins.len(), 1);
        assert_eq!(ends.len(), 1);
        assert_eq!(sin.ops[ends[0]], TracedOp::IfAnyEnd(begins[0] as u32, ends[0] as u32 - 1));
        // Nothing after the region uses a value from inside it but constants.
        for op in &sin.ops[ends[0] + 1..] {
            let operands: Vec<u32> = match *op {
                TracedOp::Add(a, b) | TracedOp::Sub(a, b) | TracedOp::Mul(a, b) | TracedOp::Div(a, b) => {
                    vec![a, b]
                }
                TracedOp::Select(m, a, b) | TracedOp::Fma(m, a, b) => vec![m, a, b],
                _ => vec![],
            };
            for operand in operands {
                let inside = (begins[0] as u32..ends[0] as u32).contains(&operand);
                assert!(!inside || matches!(sin.ops[operand as usize], TracedOp::Constant(_)), "{op:?}");
            }
        }
        for x in [0.0, -0.0, 0.5, -3.0, 1e-310, 7e9, 1.5e12, -1e22, 1e300, f64::INFINITY, f64::NAN] {
            let (want, got) = (trigonometric::sin(x), evaluate(&sin, x));
            assert!(want.to_bits() == got.to_bits() || want.is_nan() && got.is_nan(), "sin({x})");
        }
    }
}
