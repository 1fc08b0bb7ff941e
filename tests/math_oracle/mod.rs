//! The oracle of the math accuracy checks (`tests/math_functions_accuracy.rs`,
//! `examples/ulp_sweep.rs`): each function's value from astro-float at 256 bits — an
//! arbitrary-precision library that shares nothing with fusejit — the error of an f64 in
//! ULPs of it, and the input ranges each function is swept over.

#![allow(dead_code)] // each includer uses a part

use astro_float::{BigFloat, Consts, RoundingMode, Sign};
use fusejit::MathFunction;

/// Working precision of the oracle: far beyond the 53 bits compared.
const PRECISION: usize = 256;
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in the bit patterns between two positive bounds: every exponent equally often.
    pub fn bits_between(&mut self, low: f64, high: f64) -> f64 {
        f64::from_bits(low.to_bits() + self.next() % (high.to_bits() - low.to_bits()))
    }
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
    pub fn signed(&mut self, x: f64) -> f64 {
        if self.next() & 1 == 1 { -x } else { x }
    }
}

/// `x` exactly. (astro-float 0.9 converts subnormals to half their value, so they are scaled
/// into the normal range and back: exact both ways.)
pub fn big(x: f64) -> BigFloat {
    if x != 0.0 && x.abs() < f64::MIN_POSITIVE {
        let scale = 18_446_744_073_709_551_616.0; // 2^64
        let scaled = BigFloat::from_f64(x * scale, PRECISION);
        return scaled.div(&BigFloat::from_f64(scale, PRECISION), PRECISION, RoundingMode::None);
    }
    BigFloat::from_f64(x, PRECISION)
}

/// The value of `function` at `x` to 256 bits. For tiny arguments of `log1p`/`expm1` the
/// series is used (`1 + x` would need thousands of bits to be exact).
pub fn exact(function: MathFunction, x: f64, consts: &mut Consts) -> BigFloat {
    let rm = RoundingMode::ToEven;
    let p = PRECISION;
    let b = big(x);
    match function {
        MathFunction::Log2 => b.log2(p, rm, consts),
        MathFunction::Log10 => b.log10(p, rm, consts),
        MathFunction::Log1p if x.abs() < 1e-20 => {
            // x − x²/2 + x³/3: the next term is below 2⁻¹⁸⁰ relative.
            let x2 = b.mul(&b, p, rm);
            let x3 = x2.mul(&b, p, rm);
            b.sub(&x2.div(&big(2.0), p, rm), p, rm).add(&x3.div(&big(3.0), p, rm), p, rm)
        }
        MathFunction::Log1p => b.add(&big(1.0), 2 * p, RoundingMode::None).ln(p, rm, consts),
        MathFunction::Expm1 if x.abs() < 1e-20 => {
            let x2 = b.mul(&b, p, rm);
            let x3 = x2.mul(&b, p, rm);
            b.add(&x2.div(&big(2.0), p, rm), p, rm).add(&x3.div(&big(6.0), p, rm), p, rm)
        }
        MathFunction::Expm1 => b.exp(2 * p, rm, consts).sub(&big(1.0), p, rm),
        MathFunction::Sinh => b.sinh(p, rm, consts),
        MathFunction::Cosh => b.cosh(p, rm, consts),
        MathFunction::Tanh => b.tanh(p, rm, consts),
        MathFunction::Atan => b.atan(p, rm, consts),
        MathFunction::Asin => b.asin(p, rm, consts),
        MathFunction::Acos => b.acos(p, rm, consts),
        MathFunction::Cbrt => b.cbrt(p, rm),
        MathFunction::Sin | MathFunction::Cos | MathFunction::Tan => trigonometric(function, &b, consts),
        other => panic!("no oracle for {other:?}"),
    }
}

/// `sin`, `cos` or `tan` of `b` (any finite double): reduced by π/2 at 1 536 bits — enough for
/// 2¹⁰²⁴ with 500 bits to spare, whatever astro-float does inside — then the function of the
/// remainder at 256 bits, picked and signed by the quadrant.
fn trigonometric(function: MathFunction, b: &BigFloat, consts: &mut Consts) -> BigFloat {
    let (rm, p, wide) = (RoundingMode::ToEven, PRECISION, 1536);
    let half_pi = consts.pi(wide, rm).div(&big(2.0), wide, rm);
    let k = b.div(&half_pi, wide, rm).add(&big(0.5), wide, rm).floor();
    let r = b.sub(&k.mul(&half_pi, wide, rm), wide, rm);
    let quadrant = k.sub(&k.div(&big(4.0), wide, rm).floor().mul(&big(4.0), wide, rm), wide, rm);
    let (sine, cosine) = (r.sin(p, rm, consts), r.cos(p, rm, consts));
    match (function, to_f64(&quadrant) as u8) {
        (MathFunction::Sin, 0) | (MathFunction::Cos, 3) => sine,
        (MathFunction::Sin, 1) | (MathFunction::Cos, 0) => cosine,
        (MathFunction::Sin, 2) | (MathFunction::Cos, 1) => sine.neg(),
        (MathFunction::Sin, 3) | (MathFunction::Cos, 2) => cosine.neg(),
        (MathFunction::Tan, 0 | 2) => sine.div(&cosine, p, rm),
        (MathFunction::Tan, 1 | 3) => cosine.div(&sine, p, rm).neg(),
        other => panic!("no quadrant {other:?}"),
    }
}

/// A (finite, small) big float as an f64: its top mantissa word scaled.
pub fn to_f64(value: &BigFloat) -> f64 {
    if value.is_zero() {
        return 0.0;
    }
    let (words, _, sign, exponent, _) = value.as_raw_parts().expect("a finite number");
    let top = *words.last().expect("a mantissa word") as f64 / 18_446_744_073_709_551_616.0;
    let magnitude = top * 2f64.powi(exponent);
    if sign == Sign::Neg { -magnitude } else { magnitude }
}

/// `|computed − exact|` in ULPs of the exact value (the f64 spacing at it, subnormal spacing
/// at least). astro-float keeps mantissas in [0.5, 1), so a value with exponent `e` lies in
/// [2^(e−1), 2^e) where doubles are 2^(e−53) apart.
pub fn ulp_error(computed: f64, exact: &BigFloat) -> f64 {
    if exact.is_zero() {
        return if computed == 0.0 { 0.0 } else { f64::INFINITY };
    }
    let exponent = exact.exponent().expect("a finite value");
    let ulp = 2f64.powi((exponent - 53).max(-1074));
    let difference = big(computed).sub(exact, PRECISION, RoundingMode::ToEven);
    (to_f64(&difference) / ulp).abs()
}

pub type Range = (&'static str, fn(&mut Rng) -> f64);

pub fn ranges(function: MathFunction) -> Vec<Range> {
    let all_positive: Range = ("all positive exponents", |r| r.bits_between(f64::MIN_POSITIVE, f64::MAX));
    let subnormals: Range = ("subnormals", |r| r.bits_between(5e-324, f64::MIN_POSITIVE));
    let tiny: Range = ("±[1e-300, 1e-5]", |r| {
        let x = r.bits_between(1e-300, 1e-5);
        r.signed(x)
    });
    match function {
        MathFunction::Log2 | MathFunction::Log10 => {
            vec![
                all_positive,
                ("[0.5, 2]", |r| r.uniform(0.5, 2.0)),
                ("1 ± 1e-3", |r| r.uniform(0.999, 1.001)),
                subnormals,
            ]
        }
        MathFunction::Log1p => vec![
            ("(-1, -0.5)", |r| r.uniform(-0.999_999, -0.5)),
            ("[-0.5, 1]", |r| r.uniform(-0.5, 1.0)),
            tiny,
            ("[1e-5, 1e300]", |r| r.bits_between(1e-5, 1e300)),
        ],
        MathFunction::Expm1 => {
            vec![
                ("[-1, 1]", |r| r.uniform(-1.0, 1.0)),
                tiny,
                ("[-45, 700]", |r| r.uniform(-45.0, 700.0)),
                // Where the table route hands over to `exp`'s guarded one, and to −1.
                ("near overflow", |r| r.uniform(700.0, 709.78)),
                ("[-50, -40]", |r| r.uniform(-50.0, -40.0)),
            ]
        }
        MathFunction::Sinh | MathFunction::Cosh => vec![
            ("[-1, 1]", |r| r.uniform(-1.0, 1.0)),
            tiny,
            ("[-710, 710]", |r| r.uniform(-710.0, 710.0)),
            ("near overflow", |r| {
                let x = r.uniform(708.0, 710.47);
                r.signed(x)
            }),
        ],
        MathFunction::Tanh => {
            vec![("[-1, 1]", |r| r.uniform(-1.0, 1.0)), tiny, ("[-25, 25]", |r| r.uniform(-25.0, 25.0))]
        }
        MathFunction::Atan => vec![
            ("all exponents, both signs", |r| {
                let x = r.bits_between(5e-324, f64::MAX);
                r.signed(x)
            }),
            ("[-2, 2]", |r| r.uniform(-2.0, 2.0)),
        ],
        MathFunction::Asin | MathFunction::Acos => vec![
            ("[-1, 1]", |r| r.uniform(-1.0, 1.0)),
            ("±[0.49, 0.51]", |r| {
                let x = r.uniform(0.49, 0.51);
                r.signed(x)
            }),
            ("within 1e-6 of ±1", |r| {
                let x = 1.0 - r.bits_between(1e-300, 1e-6);
                r.signed(x)
            }),
            tiny,
        ],
        MathFunction::Cbrt => vec![
            ("all exponents, both signs", |r| {
                let x = r.bits_between(5e-324, f64::MAX);
                r.signed(x)
            }),
            ("[-8, 8]", |r| r.uniform(-8.0, 8.0)),
        ],
        MathFunction::Sin | MathFunction::Cos | MathFunction::Tan => vec![
            ("[-π/4, π/4]", |r| r.uniform(-std::f64::consts::FRAC_PI_4, std::f64::consts::FRAC_PI_4)),
            ("[-100, 100]", |r| r.uniform(-100.0, 100.0)),
            ("±[100, 2^40]", |r| {
                let x = r.bits_between(100.0, 1_099_511_627_776.0);
                r.signed(x)
            }),
            ("±(2^40, 1.8e308]: Payne-Hanek", |r| {
                let x = r.bits_between(1_099_511_627_776.0, f64::MAX);
                r.signed(x)
            }),
            ("within 2 ULP of k·π/2, k < 2^20", |r| {
                let k = (1 + r.next() % ((1 << 20) - 1)) as f64;
                let x = f64::from_bits((k * std::f64::consts::FRAC_PI_2).to_bits() + r.next() % 5 - 2);
                r.signed(x)
            }),
            tiny,
            subnormals,
        ],
        other => panic!("no ranges for {other:?}"),
    }
}

pub const FUNCTIONS: [MathFunction; 14] = [
    MathFunction::Log2,
    MathFunction::Log10,
    MathFunction::Log1p,
    MathFunction::Expm1,
    MathFunction::Sinh,
    MathFunction::Cosh,
    MathFunction::Tanh,
    MathFunction::Atan,
    MathFunction::Asin,
    MathFunction::Acos,
    MathFunction::Cbrt,
    MathFunction::Sin,
    MathFunction::Cos,
    MathFunction::Tan,
];

/// `atan2(y, x)` and `hypot(x, y)` exactly, from astro-float at 256 bits.
pub fn exact_binary(
    function: fusejit::BinaryMathFunction,
    a: f64,
    b: f64,
    consts: &mut astro_float::Consts,
) -> astro_float::BigFloat {
    use astro_float::RoundingMode;
    let p = 256;
    let rm = RoundingMode::ToEven;
    let (a_big, b_big) = (big(a), big(b));
    match function {
        fusejit::BinaryMathFunction::Atan2 => {
            // atan(y/x), moved by ±π for x < 0 (y and x are never both zero here).
            let angle = a_big.div(&b_big, p, rm).atan(p, rm, consts);
            if b < 0.0 {
                let pi = consts.pi(p, rm);
                if a < 0.0 { angle.sub(&pi, p, rm) } else { angle.add(&pi, p, rm) }
            } else {
                angle
            }
        }
        fusejit::BinaryMathFunction::Pow => {
            // |a|^b (the ranges keep a > 0).
            a_big.pow(&b_big, p, rm, consts)
        }
        fusejit::BinaryMathFunction::Hypot => {
            let squares = a_big.mul(&a_big, p, rm).add(&b_big.mul(&b_big, p, rm), p, rm);
            squares.sqrt(p, rm)
        }
        other => panic!("no oracle for {other:?}"),
    }
}

/// A range of argument pairs: its name and how to draw each argument.
pub type BinaryRange = (&'static str, fn(&mut Rng) -> f64, fn(&mut Rng) -> f64);

/// The ranges a two-argument function is swept over.
pub fn binary_ranges(function: fusejit::BinaryMathFunction) -> Vec<BinaryRange> {
    match function {
        fusejit::BinaryMathFunction::Pow => vec![
            ("x in [0.01, 100], y in [-150, 150]", |r| r.uniform(0.01, 100.0), |r| r.uniform(-150.0, 150.0)),
            ("x any exponent, y in [-1, 1]", |r| r.bits_between(5e-324, f64::MAX), |r| r.uniform(-1.0, 1.0)),
            (
                "x within 1e-3 of 1, y in ±[1, 1e5]",
                |r| r.uniform(0.999, 1.001),
                |r| {
                    let y = r.uniform(1.0, 1e5);
                    r.signed(y)
                },
            ),
            // `ln x` up to 0.073 times a large `y`: `y·ln x` up to ±653, where the absolute
            // error of `ln x` is what counts (the entries either side of 1's).
            (
                "x in [0.93, 1.07], y in ±[1e3, 9e3]",
                |r| r.uniform(0.93, 1.07),
                |r| {
                    let y = r.uniform(1e3, 9e3);
                    r.signed(y)
                },
            ),
            // Results from 1e-375 to 1e-180: the subnormal range and either side of it.
            ("x in [1e-5, 1e-3], y in [60, 75]", |r| r.uniform(1e-5, 1e-3), |r| r.uniform(60.0, 75.0)),
        ],
        _ => vec![
            ("[-10, 10]²", |r| r.uniform(-10.0, 10.0), |r| r.uniform(-10.0, 10.0)),
            ("all exponents, both signs", all_signed, all_signed),
            ("near the subnormals", near_subnormal, near_subnormal),
        ],
    }
}

fn all_signed(r: &mut Rng) -> f64 {
    let x = r.bits_between(5e-324, f64::MAX);
    r.signed(x)
}

fn near_subnormal(r: &mut Rng) -> f64 {
    let x = r.bits_between(1e-320, 1e-290);
    r.signed(x)
}
