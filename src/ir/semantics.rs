//! The meaning of every IR operation on one row's values. The interpreter and constant folding
//! both call these functions, so folding can never change a result; native code must match them.
//!
//! `None` is a null. Unless an operation says otherwise, any null operand gives a null.

use super::node::{BinaryOp, UnaryOp};
use crate::math;
use crate::types::Elem;
use crate::types::Scalar;

/// Applies a unary operation. `out` is the node's element type (needed by `Cast`).
pub fn unary(op: UnaryOp, out: Elem, value: Option<Scalar>) -> Option<Scalar> {
    match op {
        UnaryOp::IsNull => return Some(Scalar::Bool(value.is_none())),
        UnaryOp::IsValid => return Some(Scalar::Bool(value.is_some())),
        _ => {}
    }
    let value = value?;
    Some(match (op, value) {
        (UnaryOp::Not, Scalar::Bool(b)) => Scalar::Bool(!b),
        (UnaryOp::Cast, Scalar::F64(v)) => cast(v, out),
        (UnaryOp::Cast, Scalar::F32(v)) => cast(f64::from(v), out),
        (UnaryOp::IsNan | UnaryOp::IsFinite | UnaryOp::IsInf, Scalar::F64(v)) => {
            Scalar::Bool(float_test(op, v))
        }
        (UnaryOp::IsNan | UnaryOp::IsFinite | UnaryOp::IsInf, Scalar::F32(v)) => {
            Scalar::Bool(float_test(op, f64::from(v)))
        }
        (_, Scalar::F64(v)) => Scalar::F64(float_unary_f64(op, v)),
        (_, Scalar::F32(v)) => Scalar::F32(float_unary_f32(op, v)),
        (_, Scalar::Bool(_)) => unreachable!("check rejects {op:?} on bool; the verifier enforces it"),
    })
}

/// A float widened exactly to f64 converts to `out`: f32 by round-to-nearest-even.
fn cast(value: f64, out: Elem) -> Scalar {
    match out {
        Elem::F64 => Scalar::F64(value),
        Elem::F32 => Scalar::F32(value as f32),
        Elem::Bool => unreachable!("casts to bool are rejected by check"),
    }
}

/// `is_nan`, `is_finite`, `is_inf` (an f32 widens exactly, so the test is the same).
fn float_test(op: UnaryOp, v: f64) -> bool {
    match op {
        UnaryOp::IsNan => v.is_nan(),
        UnaryOp::IsFinite => v.is_finite(),
        UnaryOp::IsInf => v.is_infinite(),
        _ => unreachable!("only the float tests"),
    }
}

/// The float unary operations, written once for f64 and f32 (`$ln`/`$exp` are the math
/// runtime's functions of that width). `sign` is NumPy's: 1 above zero, -1 below, +0 for ±0,
/// and the NaN itself for NaN; native code computes it by the same comparisons in this order.
macro_rules! float_unary {
    ($name:ident, $float:ty, $ln:path, $exp:path) => {
        fn $name(op: UnaryOp, v: $float) -> $float {
            match op {
                UnaryOp::Neg => -v,
                UnaryOp::Ln => $ln(v),
                UnaryOp::Exp => $exp(v),
                UnaryOp::Sqrt => v.sqrt(),
                UnaryOp::Abs => v.abs(),
                UnaryOp::Floor => v.floor(),
                UnaryOp::Ceil => v.ceil(),
                UnaryOp::Round => v.round_ties_even(),
                UnaryOp::Trunc => v.trunc(),
                UnaryOp::Sign => {
                    if v > 0.0 {
                        1.0
                    } else if v < 0.0 {
                        -1.0
                    } else if v == 0.0 {
                        0.0
                    } else {
                        v
                    }
                }
                UnaryOp::Not
                | UnaryOp::IsNull
                | UnaryOp::IsValid
                | UnaryOp::Cast
                | UnaryOp::IsNan
                | UnaryOp::IsFinite
                | UnaryOp::IsInf => unreachable!("handled by unary"),
            }
        }
    };
}

float_unary!(float_unary_f64, f64, math::ln_f64, math::exp_f64);
float_unary!(float_unary_f32, f32, math::ln_f32, math::exp_f32);

/// Applies a binary operation. Operands have one element type (check inserts the casts).
pub fn binary(op: BinaryOp, lhs: Option<Scalar>, rhs: Option<Scalar>) -> Option<Scalar> {
    match op {
        BinaryOp::And => return kleene(lhs, rhs, false),
        BinaryOp::Or => return kleene(lhs, rhs, true),
        _ => {}
    }
    let (lhs, rhs) = (lhs?, rhs?);
    Some(match (lhs, rhs) {
        (Scalar::F64(a), Scalar::F64(b)) => float_binary(op, a, b, Scalar::F64),
        (Scalar::F32(a), Scalar::F32(b)) => float_binary(op, a, b, Scalar::F32),
        (Scalar::Bool(a), Scalar::Bool(b)) => match op {
            BinaryOp::Eq => Scalar::Bool(a == b),
            BinaryOp::Ne => Scalar::Bool(a != b),
            _ => unreachable!("check allows only == and != on bools"),
        },
        _ => unreachable!("check makes binary operands one type; the verifier enforces it"),
    })
}

/// Kleene logic: the dominant value (`false` for AND, `true` for OR) wins over null.
fn kleene(lhs: Option<Scalar>, rhs: Option<Scalar>, dominant: bool) -> Option<Scalar> {
    let as_bool = |value: Option<Scalar>| match value {
        Some(Scalar::Bool(b)) => Some(b),
        None => None,
        Some(_) => unreachable!("check allows only bools in logic"),
    };
    match (as_bool(lhs), as_bool(rhs)) {
        (Some(a), _) if a == dominant => Some(Scalar::Bool(dominant)),
        (_, Some(b)) if b == dominant => Some(Scalar::Bool(dominant)),
        (Some(_), Some(_)) => Some(Scalar::Bool(!dominant)),
        _ => None,
    }
}

/// A float type the arithmetic is generic over, so f64 and f32 share one definition.
pub trait Float:
    Copy
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
{
    const ONE: Self;
    fn is_nan(self) -> bool;
    fn is_sign_negative(self) -> bool;
}

impl Float for f64 {
    const ONE: Self = 1.0;
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn is_sign_negative(self) -> bool {
        f64::is_sign_negative(self)
    }
}

impl Float for f32 {
    const ONE: Self = 1.0;
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn is_sign_negative(self) -> bool {
        f32::is_sign_negative(self)
    }
}

fn float_binary<T: Float>(op: BinaryOp, a: T, b: T, wrap: fn(T) -> Scalar) -> Scalar {
    match op {
        BinaryOp::Add => wrap(a + b),
        BinaryOp::Sub => wrap(a - b),
        BinaryOp::Mul => wrap(a * b),
        BinaryOp::Div => wrap(a / b),
        BinaryOp::Min => wrap(minimum(a, b)),
        BinaryOp::Max => wrap(maximum(a, b)),
        // IEEE comparisons: every ordered comparison with NaN is false, != is true.
        BinaryOp::Eq => Scalar::Bool(a == b),
        BinaryOp::Ne => Scalar::Bool(a != b),
        BinaryOp::Lt => Scalar::Bool(a < b),
        BinaryOp::Le => Scalar::Bool(a <= b),
        BinaryOp::Gt => Scalar::Bool(a > b),
        BinaryOp::Ge => Scalar::Bool(a >= b),
        BinaryOp::And | BinaryOp::Or => unreachable!("logic is handled by kleene"),
    }
}

/// IEEE 754-2019 `minimum`: a NaN operand gives that NaN (the left one first); -0 < +0.
pub fn minimum<T: Float>(a: T, b: T) -> T {
    if a.is_nan() {
        a
    } else if b.is_nan() || b < a {
        b
    } else if a < b {
        a
    } else if a.is_sign_negative() {
        // Equal values: only ±0 can differ, and -0 is the smaller.
        a
    } else {
        b
    }
}

/// IEEE 754-2019 `maximum`: a NaN operand gives that NaN (the left one first); +0 > -0.
pub fn maximum<T: Float>(a: T, b: T) -> T {
    if a.is_nan() {
        a
    } else if b.is_nan() || b > a {
        b
    } else if a > b {
        a
    } else if a.is_sign_negative() {
        b
    } else {
        a
    }
}

/// `base ^ exponent` by binary powering: scanning the exponent's bits from the lowest, the
/// running square is multiplied into the product, starting from the first set bit (so `x^1 = x`,
/// `x^2 = x*x`, `x^3 = x*(x*x)`, `x^4 = (x*x)*(x*x)`). `x^0 = 1` for every x, NaN included, as
/// IEEE `pown`. A negative exponent gives `1 / x^|n|`.
pub fn pow_i(base: Option<Scalar>, exponent: i32) -> Option<Scalar> {
    Some(match base? {
        Scalar::F64(x) => Scalar::F64(pow_i_float(x, exponent)),
        Scalar::F32(x) => Scalar::F32(pow_i_float(x, exponent)),
        Scalar::Bool(_) => unreachable!("check rejects ^ on bool"),
    })
}

pub fn pow_i_float<T: Float>(x: T, exponent: i32) -> T {
    let mut remaining = exponent.unsigned_abs();
    let mut square = x;
    let mut product: Option<T> = None;
    while remaining != 0 {
        if remaining & 1 == 1 {
            product = Some(match product {
                None => square,
                Some(p) => p * square,
            });
        }
        remaining >>= 1;
        if remaining != 0 {
            square = square * square;
        }
    }
    let magnitude = product.unwrap_or(T::ONE);
    if exponent < 0 { T::ONE / magnitude } else { magnitude }
}

/// `where(c, a, b)`: null where `c` is null, else the chosen side as it is (possibly null).
pub fn choose(cond: Option<Scalar>, then: Option<Scalar>, otherwise: Option<Scalar>) -> Option<Scalar> {
    match cond? {
        Scalar::Bool(true) => then,
        Scalar::Bool(false) => otherwise,
        _ => unreachable!("check requires a bool condition"),
    }
}

/// `fill(x, v)`: `x` where valid, else `v`.
pub fn fill(value: Option<Scalar>, fallback: Option<Scalar>) -> Option<Scalar> {
    value.or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_and_maximum_follow_ieee_2019() {
        assert!(minimum(f64::NAN, 1.0).is_nan());
        assert!(minimum(1.0, f64::NAN).is_nan());
        assert!(maximum(1.0, f64::NAN).is_nan());
        assert_eq!(minimum(-0.0f64, 0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(minimum(0.0f64, -0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(maximum(-0.0f64, 0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(maximum(0.0f64, -0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(minimum(2.0, 3.0), 2.0);
        assert_eq!(maximum(2.0, 3.0), 3.0);
    }

    #[test]
    fn pow_i_uses_the_documented_order() {
        assert_eq!(pow_i_float(3.0f64, 0), 1.0);
        assert_eq!(pow_i_float(f64::NAN, 0), 1.0);
        assert_eq!(pow_i_float(3.0f64, 1), 3.0);
        assert_eq!(pow_i_float(3.0f64, 5), 243.0);
        assert_eq!(pow_i_float(2.0f64, -2), 0.25);
        let x = 1.1f64;
        assert_eq!(pow_i_float(x, 3).to_bits(), (x * (x * x)).to_bits());
        assert_eq!(pow_i_float(x, 4).to_bits(), ((x * x) * (x * x)).to_bits());
        assert_eq!(pow_i_float(2.0f64, i32::MIN), 0.0);
    }

    #[test]
    fn kleene_logic_lets_the_dominant_value_win_over_null() {
        let t = Some(Scalar::Bool(true));
        let f = Some(Scalar::Bool(false));
        assert_eq!(binary(BinaryOp::And, f, None), f);
        assert_eq!(binary(BinaryOp::And, None, f), f);
        assert_eq!(binary(BinaryOp::And, t, None), None);
        assert_eq!(binary(BinaryOp::Or, t, None), t);
        assert_eq!(binary(BinaryOp::Or, None, t), t);
        assert_eq!(binary(BinaryOp::Or, f, None), None);
        assert_eq!(binary(BinaryOp::Or, f, f), f);
        assert_eq!(binary(BinaryOp::And, t, t), t);
    }
}
