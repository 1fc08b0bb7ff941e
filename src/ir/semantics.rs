//! The meaning of every IR operation on one row's values. The interpreter and constant folding
//! both call these functions, so folding can never change a result; native code must match them.
//!
//! `None` is a null. Unless an operation says otherwise, any null operand gives a null.

use super::node::{BinaryOp, UnaryOp};
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
    if op == UnaryOp::Cast {
        return cast(value, out);
    }
    Some(match (op, value) {
        (UnaryOp::Not, Scalar::Bool(b)) => Scalar::Bool(!b),
        (UnaryOp::IsNan | UnaryOp::IsFinite | UnaryOp::IsInf, Scalar::F64(v)) => {
            Scalar::Bool(float_test(op, v))
        }
        (UnaryOp::IsNan | UnaryOp::IsFinite | UnaryOp::IsInf, Scalar::F32(v)) => {
            Scalar::Bool(float_test(op, f64::from(v)))
        }
        (_, Scalar::F64(v)) => Scalar::F64(float_unary_f64(op, v)),
        (_, Scalar::F32(v)) => Scalar::F32(float_unary_f32(op, v)),
        (_, Scalar::I64(v)) => Scalar::I64(integer_unary(op, v)),
        // i32 arithmetic is i64 arithmetic truncated: the same bits modulo 2³².
        (_, Scalar::I32(v)) => Scalar::I32(integer_unary(op, i64::from(v)) as i32),
        (_, Scalar::Bool(_)) => unreachable!("check rejects {op:?} on bool; the verifier enforces it"),
    })
}

/// The integer unary operations: `-x` and `abs` wrap (`abs(i64::MIN)` is `i64::MIN`, as
/// NumPy's), `sign` is -1, 0 or 1. (The others never reach integers: check converts them to
/// f64 first, or, for the roundings, leaves the integer as it is.) For i32 the caller
/// truncates, which gives the i32 wrapping result since i32::MIN widened negates to 2³¹.
fn integer_unary(op: UnaryOp, v: i64) -> i64 {
    match op {
        UnaryOp::Neg => v.wrapping_neg(),
        UnaryOp::Abs => v.wrapping_abs(),
        UnaryOp::Sign => v.signum(),
        UnaryOp::Math(_)
        | UnaryOp::Sqrt
        | UnaryOp::Floor
        | UnaryOp::Ceil
        | UnaryOp::Round
        | UnaryOp::Trunc
        | UnaryOp::IsNan
        | UnaryOp::IsFinite
        | UnaryOp::IsInf
        | UnaryOp::Not
        | UnaryOp::IsNull
        | UnaryOp::IsValid
        | UnaryOp::Cast => unreachable!("check never applies {op:?} to an integer"),
    }
}

/// 2⁶³ and 2³¹ as f64: the exclusive upper bounds of i64 and i32.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_31: f64 = 2_147_483_648.0;

/// Converts `value` to `out`:
/// - to a float: exact where the float holds the value, else rounded to nearest (even);
/// - float to integer: toward zero, null for NaN, ±∞ and values outside the integer type;
/// - integer to integer: exact, null where the value does not fit (i64 to i32).
///
/// So a conversion never invents a value; arithmetic wraps, conversions do not.
pub fn cast(value: Scalar, out: Elem) -> Option<Scalar> {
    let float = |v: f64| -> Option<Scalar> {
        Some(match out {
            Elem::F64 => Scalar::F64(v),
            Elem::F32 => Scalar::F32(v as f32),
            // `v > -2⁶³ - 1` is `v >= -2⁶³` in f64; `as` truncates toward zero.
            Elem::I64 => {
                if !(-TWO_POW_63..TWO_POW_63).contains(&v) {
                    return None;
                }
                Scalar::I64(v as i64)
            }
            Elem::I32 => {
                if !(v > -TWO_POW_31 - 1.0 && v < TWO_POW_31) {
                    return None;
                }
                Scalar::I32(v as i32)
            }
            Elem::Bool => unreachable!("casts to bool are rejected by check"),
        })
    };
    let integer = |v: i64| -> Option<Scalar> {
        Some(match out {
            Elem::F64 => Scalar::F64(v as f64),
            // One rounding, straight from the integer (not through f64).
            Elem::F32 => Scalar::F32(v as f32),
            Elem::I64 => Scalar::I64(v),
            Elem::I32 => Scalar::I32(i32::try_from(v).ok()?),
            Elem::Bool => unreachable!("casts to bool are rejected by check"),
        })
    };
    match value {
        // An f32 widens to f64 exactly, so one rule serves both.
        Scalar::F64(v) => float(v),
        Scalar::F32(v) => float(f64::from(v)),
        Scalar::I64(v) => integer(v),
        Scalar::I32(v) => integer(i64::from(v)),
        Scalar::Bool(_) => unreachable!("casts from bool are rejected by check"),
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
    ($name:ident, $float:ty, $of:ident) => {
        fn $name(op: UnaryOp, v: $float) -> $float {
            match op {
                UnaryOp::Neg => -v,
                UnaryOp::Math(function) => function.$of(v),
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

float_unary!(float_unary_f64, f64, of_f64);
float_unary!(float_unary_f32, f32, of_f32);

/// Applies a binary operation. Operands have one element type (check inserts the casts).
pub fn binary(op: BinaryOp, lhs: Option<Scalar>, rhs: Option<Scalar>) -> Option<Scalar> {
    match op {
        BinaryOp::And => return kleene(lhs, rhs, false),
        BinaryOp::Or => return kleene(lhs, rhs, true),
        _ => {}
    }
    let (lhs, rhs) = (lhs?, rhs?);
    if let BinaryOp::Math(function) = op {
        return Some(match (lhs, rhs) {
            (Scalar::F64(a), Scalar::F64(b)) => Scalar::F64(function.of_f64(a, b)),
            (Scalar::F32(a), Scalar::F32(b)) => Scalar::F32(function.of_f32(a, b)),
            _ => unreachable!("check gives math functions float operands of one type"),
        });
    }
    Some(match (lhs, rhs) {
        (Scalar::F64(a), Scalar::F64(b)) => float_binary(op, a, b, Scalar::F64),
        (Scalar::F32(a), Scalar::F32(b)) => float_binary(op, a, b, Scalar::F32),
        (Scalar::I64(a), Scalar::I64(b)) => integer_binary(op, a, b, Scalar::I64)?,
        (Scalar::I32(a), Scalar::I32(b)) => {
            integer_binary(op, i64::from(a), i64::from(b), |v| Scalar::I32(v as i32))?
        }
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
    const ZERO: Self;
    const HALF: Self;
    const ONE: Self;
    fn is_nan(self) -> bool;
    fn is_sign_negative(self) -> bool;
    /// C's `fmod`: `a − b·trunc(a/b)` exactly (the result is always representable).
    fn fmod(self, b: Self) -> Self;
    fn floor(self) -> Self;
    fn copysign(self, sign: Self) -> Self;
}

macro_rules! impl_float {
    ($float:ty) => {
        impl Float for $float {
            const ZERO: Self = 0.0;
            const HALF: Self = 0.5;
            const ONE: Self = 1.0;
            fn is_nan(self) -> bool {
                <$float>::is_nan(self)
            }
            fn is_sign_negative(self) -> bool {
                <$float>::is_sign_negative(self)
            }
            fn fmod(self, b: Self) -> Self {
                // Rust's `%` on floats is C's fmod: exact.
                self % b
            }
            fn floor(self) -> Self {
                <$float>::floor(self)
            }
            fn copysign(self, sign: Self) -> Self {
                <$float>::copysign(self, sign)
            }
        }
    };
}

impl_float!(f64);
impl_float!(f32);

/// Integer arithmetic: `+ - *` wrap; `//` and `%` are floored (Python's: the remainder takes
/// the divisor's sign) and null for a zero divisor; `MIN // -1` wraps to `MIN` and
/// `MIN % -1` is 0. Operands of i32 arrive widened and results are truncated by `wrap`, which
/// gives the i32 result (for `//` and `%` the widened result is the exact one, and only
/// `i32::MIN // -1` needs the truncation to wrap).
fn integer_binary(op: BinaryOp, a: i64, b: i64, wrap: fn(i64) -> Scalar) -> Option<Scalar> {
    Some(match op {
        BinaryOp::Add => wrap(a.wrapping_add(b)),
        BinaryOp::Sub => wrap(a.wrapping_sub(b)),
        BinaryOp::Mul => wrap(a.wrapping_mul(b)),
        BinaryOp::FloorDiv => wrap(integer_divmod(a, b)?.0),
        BinaryOp::Mod => wrap(integer_divmod(a, b)?.1),
        BinaryOp::Min => wrap(a.min(b)),
        BinaryOp::Max => wrap(a.max(b)),
        BinaryOp::Eq => Scalar::Bool(a == b),
        BinaryOp::Ne => Scalar::Bool(a != b),
        BinaryOp::Lt => Scalar::Bool(a < b),
        BinaryOp::Le => Scalar::Bool(a <= b),
        BinaryOp::Gt => Scalar::Bool(a > b),
        BinaryOp::Ge => Scalar::Bool(a >= b),
        BinaryOp::Div | BinaryOp::Math(_) => unreachable!("check makes the operands of / and math floats"),
        BinaryOp::And | BinaryOp::Or => unreachable!("logic is handled by kleene"),
    })
}

/// `(a // b, a % b)` floored, as Python's `divmod`: the remainder takes the sign of `b` (or
/// is 0) and `a == q·b + r`; `None` for `b == 0`; `i64::MIN // -1` wraps to `i64::MIN`. The
/// truncated quotient and remainder move down by one divisor where the remainder's sign
/// differs from the divisor's (the remainder then stays within `b`, so nothing overflows).
pub fn integer_divmod(a: i64, b: i64) -> Option<(i64, i64)> {
    if b == 0 {
        return None;
    }
    let (quotient, remainder) = (a.wrapping_div(b), a.wrapping_rem(b));
    Some(if remainder != 0 && (remainder < 0) != (b < 0) {
        (quotient - 1, remainder + b)
    } else {
        (quotient, remainder)
    })
}

/// NumPy's `divmod` of floats (`npy_divmod`), exactly: the remainder from `fmod` (exact),
/// moved to the divisor's sign; the quotient `(a − mod)/b` rounded to the nearest integer
/// below, corrected when rounding left it half an integer off. Division by zero gives
/// NumPy's results: `a // 0` is `a / 0` (±∞ or NaN) and `a % 0` is NaN.
pub fn float_divmod<T: Float>(a: T, b: T) -> (T, T) {
    let modulo = a.fmod(b);
    if b == T::ZERO {
        return (a / b, modulo);
    }
    let mut div = (a - modulo) / b;
    let mut modulo = modulo;
    if modulo != T::ZERO {
        if (b < T::ZERO) != (modulo < T::ZERO) {
            modulo = modulo + b;
            div = div - T::ONE;
        }
    } else {
        modulo = T::ZERO.copysign(b);
    }
    let floor_div = if div != T::ZERO {
        let floor = div.floor();
        if div - floor > T::HALF { floor + T::ONE } else { floor }
    } else {
        T::ZERO.copysign(a / b)
    };
    (floor_div, modulo)
}

fn float_binary<T: Float>(op: BinaryOp, a: T, b: T, wrap: fn(T) -> Scalar) -> Scalar {
    match op {
        BinaryOp::Add => wrap(a + b),
        BinaryOp::Sub => wrap(a - b),
        BinaryOp::Mul => wrap(a * b),
        BinaryOp::Div => wrap(a / b),
        BinaryOp::FloorDiv => wrap(float_divmod(a, b).0),
        BinaryOp::Mod => wrap(float_divmod(a, b).1),
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
        BinaryOp::Math(_) => unreachable!("math functions are handled by binary"),
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
///
/// On integers the exponent is never negative (check makes the base f64 then, as Python
/// does) and the products wrap; any order of wrapping products gives the same bits.
pub fn pow_i(base: Option<Scalar>, exponent: i32) -> Option<Scalar> {
    Some(match base? {
        Scalar::F64(x) => Scalar::F64(pow_i_float(x, exponent)),
        Scalar::F32(x) => Scalar::F32(pow_i_float(x, exponent)),
        Scalar::I64(x) => Scalar::I64(x.wrapping_pow(exponent.unsigned_abs())),
        Scalar::I32(x) => Scalar::I32(x.wrapping_pow(exponent.unsigned_abs())),
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
