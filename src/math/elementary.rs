//! The elementary functions beyond `ln` and `exp`, written once over any [`Lanes`] like them,
//! each within 1 ULP (see `tests/math_accuracy.rs`):
//!
//! - `log2`, `log10`: `ln`'s table route in their base (`kernels::log_base`).
//! - `log1p`: `ln`'s table route on `fl(1 + x)`, that sum's rounding error added back as
//!   `e/u` (`kernels::ln_1p`).
//! - `expm1`: `exp`'s table route with the parts that cancel kept exactly
//!   (`kernels::exp_minus_one_moderate`).
//! - `sinh`, `cosh`, `tanh`: from `expm1` as a double-double (its table route): `sinh =
//!   (expm1|x| − expm1(−|x|))/2`, `cosh = 1 + (expm1|x| + expm1(−|x|))/2`, `tanh = m/(m+2)`
//!   with `m = expm1(2|x|)`; near overflow `e^|x|/2` by `kernels::exp_parts_up_to`.
//! - `pow`: `e^(y·ln|x|)` by `ln`'s and `exp`'s table routes in double-double
//!   (`kernels::ln_dd_table`, `kernels::exp_of_dd_table`).
//! - `atan`, `asin`, `acos`, `cbrt`: SLEEF's u1 algorithms (`xatan_u1`, `xasin_u1`,
//!   `xacos_u1`, `xcbrt_u1`, with their minimax coefficients), in the same double-double steps.
//!
//! Special values follow C99 Annex F. Every operation is an IEEE operation of [`Lanes`], FMA
//! included, so every tier returns the same bits.

// SLEEF's coefficients are kept digit for digit as published; Rust rounds each to the nearest
// f64, as SLEEF's C compiler does.
#![allow(clippy::excessive_precision)]

use super::dd::{self, Dd};
use super::kernels::{self, exp_parts_up_to, power_of_two, scale_by_power_of_two};
use super::lanes::{GuardedPath, Lanes};

const PI: (f64, f64) = (std::f64::consts::PI, 1.224_646_799_147_353_2e-16);
const FRAC_PI_2: (f64, f64) = (std::f64::consts::FRAC_PI_2, 6.123_233_995_736_766e-17);
const SIGN_BIT: f64 = -0.0;

/// `|x|`.
#[inline(always)]
pub(super) fn abs<L: Lanes>(x: L) -> L {
    x.and_bits(L::splat(f64::from_bits(!(1u64 << 63))))
}

/// `x` with its sign flipped where `y` is negative (SLEEF's `mulsign`).
#[inline(always)]
pub(super) fn mul_sign<L: Lanes>(x: L, y: L) -> L {
    x.xor_bits(y.and_bits(L::splat(SIGN_BIT)))
}

/// Base-2 logarithm: `ln`'s table route in base 2 (`kernels::log_base`), exact at powers of
/// two.
#[inline(always)]
pub fn log2<L: Lanes>(x: L) -> L {
    kernels::log_base::<L, kernels::Base2>(x)
}

/// Base-10 logarithm: `ln`'s table route in base 10 (`kernels::log_base`).
#[inline(always)]
pub fn log10<L: Lanes>(x: L) -> L {
    kernels::log_base::<L, kernels::Base10>(x)
}

/// `ln(1 + x)`, accurate for tiny `x`: `u + e = 1 + x` exactly, then `ln(u) + e/u` by
/// `ln`'s table route (`kernels::ln_1p`).
#[inline(always)]
pub fn log1p<L: Lanes>(x: L) -> L {
    let zero = L::splat(0.0);
    let result = kernels::ln_1p(x);
    let result = L::select(x.equal(L::splat(-1.0)), L::splat(f64::NEG_INFINITY), result);
    let result = L::select(x.less(L::splat(-1.0)), L::splat(f64::NAN), result);
    let result = L::select(x.equal(L::splat(f64::INFINITY)), x, result);
    // ±0 (and every x too small to move 1 + x) keep their sign and value.
    let result = L::select(x.equal(zero), x, result);
    L::select(x.is_nan(), x.add(x), result)
}

/// `e^x − 1` as a double-double, for `x` in [−45, 709.78]: `exp`'s table route
/// (`kernels::exp_minus_one_moderate_dd`).
#[inline(always)]
fn expm1_dd<L: Lanes>(x: L) -> Dd<L> {
    kernels::exp_minus_one_moderate_dd(x)
}

/// `expm1(−a) = e^−a − 1` for `a ≥ 0`, taken at `min(a, 45)`: beyond 45 `e^−a` is below
/// 2⁻⁶⁴ of the 1 it is added to, and of the `e^a` beside it in `sinh` and `cosh`.
#[inline(always)]
fn expm1_of_negated<L: Lanes>(a: L) -> Dd<L> {
    let limit = L::splat(45.0);
    expm1_dd(L::splat(0.0).sub(L::select(a.greater(limit), limit, a)))
}

/// `e^r = 1 + p` as a double-double.
#[inline(always)]
fn one_plus<L: Lanes>(p: Dd<L>) -> Dd<L> {
    dd::add_dd2(Dd::from(L::splat(1.0)), p)
}

/// `e^x − 1`, accurate for tiny `x`: `exp`'s table route with the cancelling parts kept
/// exactly (`kernels::exp_minus_one_moderate`).
#[inline(always)]
pub fn expm1<L: Lanes>(x: L) -> L {
    let result = kernels::exp_minus_one_moderate(x);
    // Beyond the table route, e^x − 1 rounds as e^x does (+∞ included); below −45 it rounds
    // to −1.
    let beyond = x.greater(L::splat(kernels::EXP_TABLE_LIMIT));
    let result = L::if_any::<ExpBeyondTheTable>(beyond, x, result);
    let result = L::select(x.less(L::splat(-45.0)), L::splat(-1.0), result);
    let result = L::select(x.equal(L::splat(0.0)), x, result);
    L::select(x.is_nan(), x.add(x), result)
}

/// `expm1`'s guarded path: `e^x`, for the lanes beyond `exp`'s table route, by `exp`'s own
/// guarded route (a guarded region holds no other).
struct ExpBeyondTheTable;
impl GuardedPath for ExpBeyondTheTable {
    #[inline(always)]
    fn run<L: Lanes>(x: L) -> L {
        kernels::exp_of_any(x)
    }
}

/// `sinh`'s and `cosh`'s guarded path: [`half_exp`], for the lanes beyond 709 (rare: a
/// vector without one skips it).
struct HalfExp;
impl GuardedPath for HalfExp {
    #[inline(always)]
    fn run<L: Lanes>(a: L) -> L {
        half_exp(a)
    }
}

/// `e^|x|/2` for `|x|` near overflow (`cosh` and `sinh` beyond 709): one scaling by `2^(k−1)`.
#[inline(always)]
fn half_exp<L: Lanes>(a: L) -> L {
    // e^a/2 overflows only past 710.47: parts up to 711, whose 2^(k−1) the two-factor
    // scaling still carries.
    let (k, p) = exp_parts_up_to(a, 711.0);
    let huge = scale_by_power_of_two(one_plus(p).value(), k.sub(L::splat(1.0)));
    L::select(a.greater(L::splat(711.0)), L::splat(f64::INFINITY), huge)
}

/// Hyperbolic sine: `(expm1(|x|) − expm1(−|x|))/2` in double-double (the two have opposite
/// signs: nothing cancels), the sign of `x`.
#[inline(always)]
pub fn sinh<L: Lanes>(x: L) -> L {
    let a = abs(x);
    let difference = dd::add_dd2(expm1_dd(a), expm1_of_negated(a).neg());
    let result = difference.value().mul(L::splat(0.5));
    let result = L::if_any::<HalfExp>(a.greater(L::splat(709.0)), a, result);
    let result = mul_sign(result, x);
    let result = L::select(x.equal(L::splat(0.0)), x, result);
    L::select(x.is_nan(), x.add(x), result)
}

/// Hyperbolic cosine: `1 + (expm1(|x|) + expm1(−|x|))/2` in double-double (what cancels
/// in the sum is far below the 1's ULP).
#[inline(always)]
pub fn cosh<L: Lanes>(x: L) -> L {
    let a = abs(x);
    let sum = dd::add_dd2(expm1_dd(a), expm1_of_negated(a));
    let result = dd::add_d2(sum.scale(L::splat(0.5)), L::splat(1.0)).value();
    let result = L::if_any::<HalfExp>(a.greater(L::splat(709.0)), a, result);
    L::select(x.is_nan(), x.add(x), result)
}

/// Hyperbolic tangent: `m/(m + 2)` with `m = expm1(2|x|)`; ±1 beyond 22.
#[inline(always)]
pub fn tanh<L: Lanes>(x: L) -> L {
    let a = abs(x);
    let small = L::select(a.greater(L::splat(22.0)), L::splat(22.0), a);
    let m = expm1_dd(small.add(small));
    let result = dd::div_dd(m, dd::add_d2(m, L::splat(2.0))).value();
    let result = L::select(a.greater(L::splat(22.0)), L::splat(1.0), result);
    let result = mul_sign(result, x);
    let result = L::select(x.equal(L::splat(0.0)), x, result);
    L::select(x.is_nan(), x.add(x), result)
}

/// Evaluates `c[0]·t^(n−1) + … + c[n−1]` by Horner's rule with FMA.
#[inline(always)]
pub(super) fn horner<L: Lanes>(t: L, coefficients: &[f64]) -> L {
    let mut u = L::splat(coefficients[0]);
    for &coefficient in &coefficients[1..] {
        u = u.fma(t, L::splat(coefficient));
    }
    u
}

/// SLEEF's `atan2k_u1` minimax coefficients for `atan(s)/s − 1` in `s²`, highest first.
const ATAN: [f64; 20] = [
    1.062_984_841_914_487_466_074_15e-5,
    -0.000_125_620_649_967_286_867_384_336,
    0.000_705_576_642_963_934_123_897_74,
    -0.002_518_656_144_987_133_603_529_99,
    0.006_462_628_990_369_911_723_135_04,
    -0.012_828_133_366_339_903_101_427_4,
    0.020_802_479_992_414_579_790_249_7,
    -0.028_900_234_478_474_031_568_628_9,
    0.035_978_500_503_510_459_085_365_6,
    -0.041_848_579_703_592_507_506_027,
    0.047_084_301_165_328_398_819_376_3,
    -0.052_491_421_058_844_842_106_871_9,
    0.058_794_659_096_958_100_386_043_4,
    -0.066_662_088_477_879_549_719_418_2,
    0.076_922_533_029_620_376_865_409_5,
    -0.090_909_044_277_338_757_478_190_7,
    0.111_111_108_376_896_236_538_123,
    -0.142_857_142_756_268_568_062_339,
    0.199_999_999_997_977_351_284_817,
    -0.333_333_333_333_317_605_173_818,
];

/// Arc tangent (SLEEF `xatan_u1`): `|x| > 1` is reduced by `atan(x) = π/2 − atan(1/x)`, the
/// rest is `s + s·s²·P(s²)` in double-double.
#[inline(always)]
pub fn atan<L: Lanes>(x: L) -> L {
    let one = L::splat(1.0);
    let a = abs(x);
    let beyond_one = one.less(a);
    // s = −1/a and one quarter turn where |x| > 1, else a.
    let numerator = Dd::select(beyond_one, Dd::from(L::splat(-1.0)), Dd::from(a));
    let denominator = Dd::select(beyond_one, Dd::from(a), Dd::from(one));
    let quarter_turns = L::select(beyond_one, one, L::splat(0.0));
    let s = dd::div_dd(numerator, denominator);
    let t = dd::square(s).normalize();
    let u = horner(t.hi, &ATAN);
    let core = dd::add_dd(s, dd::mul_d(dd::mul_dd(s, t), u));
    let turned = dd::add_dd(dd::mul_d(Dd::constant(FRAC_PI_2.0, FRAC_PI_2.1), quarter_turns), core);
    let result = turned.value();
    let result = L::select(a.equal(L::splat(f64::INFINITY)), L::splat(FRAC_PI_2.0), result);
    let result = mul_sign(result, x);
    L::select(x.is_nan(), x.add(x), result)
}

/// SLEEF's `xasin_u1`/`xacos_u1` minimax coefficients for `(asin(x) − x)/x³` in `x²`.
const ASIN: [f64; 12] = [
    0.316_158_765_065_393_462_8e-1,
    -0.158_191_824_332_999_664_3e-1,
    0.192_904_547_726_791_067_4e-1,
    0.660_607_747_627_717_061_0e-2,
    0.121_536_052_557_737_733_1e-1,
    0.138_871_518_450_160_921_8e-1,
    0.173_595_699_122_361_460_4e-1,
    0.223_717_618_193_204_834_1e-1,
    0.303_819_592_803_813_223_7e-1,
    0.446_428_568_137_710_243_8e-1,
    0.750_000_000_037_858_161_1e-1,
    0.166_666_666_666_649_754_3,
];

/// The shared step of `asin`/`acos`: for `|x| < 1/2` the argument itself, else
/// `√((1 − |x|)/2)` (as a double-double), with `x2` its square; and `u = P(x2)·x2·x`.
#[inline(always)]
fn arcsine_core<L: Lanes>(x: L) -> (L::Mask, Dd<L>, L) {
    let a = abs(x);
    let half = L::splat(0.5);
    let small = a.less(half);
    let x2 = L::select(small, x.mul(x), L::splat(1.0).sub(a).mul(half));
    let root = Dd::select(small, Dd::from(a), dd::sqrt_d(x2));
    let root = Dd::select(a.equal(L::splat(1.0)), Dd::from(L::splat(0.0)), root);
    let u = horner(x2, &ASIN).mul(x2.mul(root.hi));
    (small, root, u)
}

/// Arc sine (SLEEF `xasin_u1`): `x + x³P(x²)` below 1/2, else `π/2 − 2·asin(√((1−|x|)/2))`.
#[inline(always)]
pub fn asin<L: Lanes>(x: L) -> L {
    let (small, root, u) = arcsine_core(x);
    let quarter = Dd::constant(PI.0 / 4.0, PI.1 / 4.0);
    let y = dd::add_d2(dd::add_dd2(quarter, root.neg()), L::splat(0.0).sub(u));
    let result = L::select(small, u.add(root.hi), y.value().mul(L::splat(2.0)));
    let result = mul_sign(result, x);
    // |x| > 1 (and NaN) give NaN, as the square root of a negative does.
    let result = L::select(abs(x).greater(L::splat(1.0)), L::splat(f64::NAN), result);
    L::select(x.is_nan(), x.add(x), result)
}

/// Arc cosine (SLEEF `xacos_u1`): `π/2 − asin(x)` below 1/2, else `2·asin(√((1−|x|)/2))`,
/// reflected to `π − …` for negative `x`.
#[inline(always)]
pub fn acos<L: Lanes>(x: L) -> L {
    let (small, root, u) = arcsine_core(x);
    let half_pi = Dd::constant(PI.0 / 2.0, PI.1 / 2.0);
    let near = dd::add_dd2(half_pi, dd::add2(mul_sign(root.hi, x), mul_sign(u, x)).neg());
    let far = dd::add_d2(root, u).scale(L::splat(2.0));
    let y = Dd::select(small, near, far);
    let negative_far =
        L::select(small, L::splat(0.0), L::select(x.less(L::splat(0.0)), L::splat(1.0), L::splat(0.0)));
    let reflected = dd::add_dd2(Dd::constant(PI.0, PI.1), y.neg());
    let y = Dd::select(negative_far.equal(L::splat(1.0)), reflected, y);
    let result = y.value();
    let result = L::select(abs(x).greater(L::splat(1.0)), L::splat(f64::NAN), result);
    L::select(x.is_nan(), x.add(x), result)
}

/// Cube root (SLEEF `xcbrt_u1`): `x = d·2^e` with `d ∈ [0.5, 1)`; `d^(−1/3)` by a polynomial
/// and Newton steps, `cbrt(d) = d·(d^(−1/3))²` in double-double, times `2^(e/3)` split into
/// an exact power of two and one of 1, 2^(1/3), 2^(2/3) (as double-doubles).
#[inline(always)]
pub fn cbrt<L: Lanes>(x: L) -> L {
    let zero = L::splat(0.0);
    let one = L::splat(1.0);
    let a = abs(x);
    // a = d·2^e with d in [0.5, 1): the exponent and mantissa from the bits (subnormals scaled).
    let subnormal = a.less(L::splat(f64::MIN_POSITIVE));
    let scaled = L::select(subnormal, a.mul(L::splat(18_014_398_509_481_984.0)), a);
    let bias = L::select(subnormal, L::splat(1022.0 + 54.0), L::splat(1022.0));
    let exponent_bits = scaled.shift_right_52().and_bits(L::splat(f64::from_bits(0x7ff)));
    let two_pow_52 = L::splat(4_503_599_627_370_496.0);
    let e = exponent_bits.or_bits(two_pow_52).sub(two_pow_52).sub(bias);
    let d = scaled.and_bits(L::splat(f64::from_bits(0x000f_ffff_ffff_ffff))).or_bits(L::splat(0.5));
    // e = 3·q + re with re in {0, 1, 2}: t = e + 6144 is positive, so truncation is floor.
    let t = e.add(L::splat(6144.0));
    let q = floor_small(t.mul(L::splat(1.0 / 3.0)));
    let re = t.sub(q.mul(L::splat(3.0)));
    let q2 = Dd::select(
        re.equal(one),
        Dd::constant(1.259_921_049_894_873_190_7, -2.589_933_375_300_506_917_7e-17),
        Dd::select(
            re.equal(L::splat(2.0)),
            Dd::constant(1.587_401_051_968_199_583_4, -1.086_900_819_419_782_298_6e-16),
            Dd::from(one),
        ),
    );
    let mut y = L::splat(-0.640_245_898_480_692_909_870_982);
    for coefficient in [
        2.961_551_030_200_395_118_185_95,
        -5.733_530_609_229_478_436_361_66,
        6.039_903_689_894_587_479_614_07,
        -3.858_419_355_104_449_888_216_32,
        2.230_727_530_249_660_972_572_2,
    ] {
        y = y.fma(d, L::splat(coefficient));
    }
    // One Newton step for d^(−1/3): y −= (d·y⁴ − y)/3.
    let y4 = y.mul(y).mul(y.mul(y));
    let y = y.sub(d.fma(y4, L::splat(0.0).sub(y)).mul(L::splat(1.0 / 3.0)));
    let z = y;
    let u = dd::mul_d(dd::mul_dd(dd::mul2(y, y), dd::mul2(y, y)), d);
    let u = dd::add_d2(u, L::splat(0.0).sub(y));
    let correction = L::splat(-2.0 / 3.0).mul(u.value()).mul(z);
    let v = dd::add_d2(dd::mul2(z, z), correction);
    let v = dd::mul_dd(dd::mul_d(v, d), q2);
    let result = v.value().mul(power_of_two(q.sub(L::splat(2048.0))));
    let result = mul_sign(result, x);
    let result = L::select(a.equal(L::splat(f64::INFINITY)), x, result);
    let result = L::select(a.equal(zero), x, result);
    L::select(x.is_nan(), x.add(x), result)
}

/// `v` rounded to the nearest integer (ties to even) for `|v| < 2⁵¹`: adding and subtracting
/// 1.5·2⁵² leaves no fraction bits, exactly, for either sign.
#[inline(always)]
pub(super) fn nearest_integer<L: Lanes>(v: L) -> L {
    let magic = L::splat(6_755_399_441_055_744.0);
    v.add(magic).sub(magic)
}

/// `floor(v)` for `|v| < 2⁵¹`: the nearest integer, stepped down where that went up.
#[inline(always)]
pub(super) fn floor_small<L: Lanes>(v: L) -> L {
    let rounded = nearest_integer(v);
    L::select(rounded.greater(v), rounded.sub(L::splat(1.0)), rounded)
}

/// `atan2(y, x)` for `y ≥ 0` as a double-double (SLEEF's `atan2k_u1`): the quadrant from the
/// signs and the larger of |x| and y, then `s + s·s²·P(s²)` of `s = min/max` (with sign).
#[inline(always)]
fn atan2_core<L: Lanes>(y: L, x: L) -> Dd<L> {
    let zero = L::splat(0.0);
    let negative_x = x.less(zero);
    let quarter_turns = L::select(negative_x, L::splat(-2.0), zero);
    let x = abs(x);
    let y_beyond = x.less(y);
    let quarter_turns = L::select(y_beyond, quarter_turns.add(L::splat(1.0)), quarter_turns);
    let numerator = Dd::select(y_beyond, Dd::from(zero.sub(x)), Dd::from(y));
    let denominator = Dd::select(y_beyond, Dd::from(y), Dd::from(x));
    let s = dd::div_dd(numerator, denominator);
    let t = dd::square(s).normalize();
    let u = horner(t.hi, &ATAN);
    let core = dd::add_dd(s, dd::mul_d(dd::mul_dd(s, t), u));
    dd::add_dd(dd::mul_d(Dd::constant(FRAC_PI_2.0, FRAC_PI_2.1), quarter_turns), core)
}

/// `copysign(m, d)`-like for an infinite `d`: `m` with `d`'s sign bit ORed in where `d` is
/// ±∞, else +0 (SLEEF's `visinf2`).
#[inline(always)]
fn where_infinite<L: Lanes>(d: L, m: L) -> L {
    let sign_or_m = d.and_bits(L::splat(SIGN_BIT)).or_bits(m);
    L::select(abs(d).equal(L::splat(f64::INFINITY)), sign_or_m, L::splat(0.0))
}

/// `atan2(y, x)` (SLEEF `xatan2_u1`), C99 Annex F's special values: `atan2(±0, −0) = ±π`,
/// `atan2(±0, +0) = ±0`, `atan2(±∞, ±∞) = ±π/4` or `±3π/4`, NaN if either is NaN.
#[inline(always)]
pub fn atan2<L: Lanes>(y: L, x: L) -> L {
    let zero = L::splat(0.0);
    let half_pi = L::splat(FRAC_PI_2.0);
    // Tiny x: scale both by 2^53 (the ratio is what matters) so 1/x stays finite.
    let tiny = abs(x).less(L::splat(5.562_684_646_268_008_398_4e-309));
    let scale = L::splat(9_007_199_254_740_992.0);
    let x = L::select(tiny, x.mul(scale), x);
    let y = L::select(tiny, y.mul(scale), y);
    let r = atan2_core(abs(y), x).value();
    let r = mul_sign(r, x);
    // |y/x| below 2⁻²⁸ with x > 0: atan2 is y/x to well within half an ULP (the next term is
    // (y/x)³/3), and one correctly rounded division keeps subnormal results exact, where the
    // double-double steps would round twice.
    let quotient = y.div(x);
    let tiny_quotient = abs(quotient).less(L::splat(3.725_290_298_461_914e-9));
    let r = L::select(x.greater(zero), L::select(tiny_quotient, abs(quotient), r), r);
    let x_infinite_or_zero = L::select(abs(x).equal(L::splat(f64::INFINITY)), L::splat(1.0), zero);
    let x_infinite_or_zero = L::select(x.equal(zero), L::splat(1.0), x_infinite_or_zero);
    let r = L::select(
        x_infinite_or_zero.equal(L::splat(1.0)),
        half_pi.sub(where_infinite(x, mul_sign(half_pi, x))),
        r,
    );
    let r = L::select(
        abs(y).equal(L::splat(f64::INFINITY)),
        half_pi.sub(where_infinite(x, mul_sign(L::splat(FRAC_PI_2.0 / 2.0), x))),
        r,
    );
    // y = ±0: 0 for x ≥ +0, π for x ≤ −0 (the sign of y is applied below).
    // The sign bit as ±1 (−0 is negative here, as C99 wants).
    let x_sign = L::splat(1.0).or_bits(x.and_bits(L::splat(SIGN_BIT)));
    let pi_if_negative = L::select(x_sign.less(zero), L::splat(PI.0), zero);
    let r = L::select(y.equal(zero), pi_if_negative, r);
    let r = mul_sign(r, y);
    let r = L::select(x.is_nan(), x.add(x), r);
    L::select(y.is_nan(), y.add(y), r)
}

/// `√(x² + y²)` (SLEEF `xhypot_u05`): `max·√(1 + (min/max)²)` in double-double, inputs below
/// 2⁻⁵⁰⁰ scaled by 2⁶⁰⁰ first and the result back; ∞ if either is ±∞ (even with a NaN), else
/// NaN if either is NaN.
#[inline(always)]
pub fn hypot<L: Lanes>(x: L, y: L) -> L {
    let x = abs(x);
    let y = abs(y);
    let min = L::select(x.less(y), x, y);
    let max = L::select(x.less(y), y, x);
    // Below 2⁻⁵⁰⁰ both are scaled by 2⁶⁰⁰ (exactly) and the result back by 2⁻⁶⁰⁰: unscaled,
    // the double-double's low parts would underflow and cost up to half an ULP.
    let small = max.less(L::splat(f64::from_bits((1023 - 500) << 52)));
    let n = L::select(small, min.mul(L::splat(f64::from_bits((1023 + 600) << 52))), min);
    let d = L::select(small, max.mul(L::splat(f64::from_bits((1023 + 600) << 52))), max);
    let t = dd::div_dd(Dd::from(n), Dd::from(d));
    let t = dd::mul_d(dd::sqrt_dd(dd::add_d2(dd::square(t), L::splat(1.0))), d);
    let result = t.value();
    let result = L::select(small, result.mul(L::splat(f64::from_bits((1023 - 600) << 52))), result);
    let result = L::select(result.is_nan(), L::splat(f64::INFINITY), result);
    let result = L::select(min.equal(L::splat(0.0)), max, result);
    let nan = L::select(x.is_nan(), x.add(x), y.add(y));
    let any_nan = L::select(x.is_nan(), L::splat(1.0), L::select(y.is_nan(), L::splat(1.0), L::splat(0.0)));
    let result = L::select(any_nan.equal(L::splat(1.0)), nan, result);
    let infinite = L::select(
        x.equal(L::splat(f64::INFINITY)),
        L::splat(1.0),
        L::select(y.equal(L::splat(f64::INFINITY)), L::splat(1.0), L::splat(0.0)),
    );
    L::select(infinite.equal(L::splat(1.0)), L::splat(f64::INFINITY), result)
}

/// `1` where `mask` holds, else `0`: masks combined as numbers (`and` is a product).
#[inline(always)]
fn flag<L: Lanes>(mask: L::Mask) -> L {
    L::select(mask, L::splat(1.0), L::splat(0.0))
}

/// `trunc(v)`: toward zero; values of 2⁵² and beyond are integers already.
#[inline(always)]
fn trunc<L: Lanes>(v: L) -> L {
    let a = abs(v);
    let whole = floor_small(L::select(a.less(L::splat(4_503_599_627_370_496.0)), a, L::splat(0.0)));
    let whole = L::select(a.less(L::splat(4_503_599_627_370_496.0)), whole, a);
    mul_sign(whole, v)
}

/// `x^y`: `e^(y·ln|x|)` with `ln|x|` and the product in double-double (`ln`'s and `exp`'s
/// table routes: `kernels::ln_dd_table`, `kernels::exp_of_dd_table`), the sign from `y`'s
/// parity for negative `x` (SLEEF's `xpow` steps), and C99 Annex F's special values (`x^±0 = 1` and
/// `1^y = 1` even for NaN, `(−1)^±∞ = 1`, `(±0)^y` and `(±∞)^y` by `y`'s sign and parity,
/// a negative `x` to a non-integer `y` is NaN).
#[inline(always)]
pub fn pow<L: Lanes>(x: L, y: L) -> L {
    let zero = L::splat(0.0);
    let one = L::splat(1.0);
    let infinity = L::splat(f64::INFINITY);
    let y_is_integer: L = flag(trunc(y).equal(y));
    let half = y.mul(L::splat(0.5));
    let half_is_integer: L = flag(trunc(half).equal(half));
    let y_is_odd = y_is_integer.mul(one.sub(half_is_integer));
    let d = dd::mul_d(kernels::ln_dd_table(abs(x)), y);
    let result = kernels::exp_of_dd_table(d);
    let result = L::select(d.hi.greater(L::splat(709.782_712_893_384)), infinity, result);
    // A negative base: the sign of an odd integer power, NaN for a non-integer one.
    let sign = L::select(y_is_odd.equal(one), L::splat(-1.0), one);
    let sign = L::select(y_is_integer.equal(one), sign, L::splat(f64::NAN));
    let result = result.mul(L::select(x.greater(zero), one, sign));
    // y = ±∞: 0, 1 or ∞ by whether |x| is below, at or above 1 (mirrored for −∞).
    let efx = mul_sign(abs(x).sub(one), y);
    let at_infinity = L::select(efx.less(zero), zero, L::select(efx.equal(zero), one, infinity));
    let result = L::select(abs(y).equal(infinity), at_infinity, result);
    // x = ±0 or ±∞: 0 or ∞ by y's sign (reversed for 0), with x's sign for an odd y.
    let x_zero: L = flag(x.equal(zero));
    let y_negative: L = flag(L::splat(1.0).or_bits(y.and_bits(L::splat(SIGN_BIT))).less(zero));
    let reversed = x_zero.add(y_negative).sub(x_zero.mul(y_negative).mul(L::splat(2.0)));
    let magnitude = L::select(reversed.equal(one), zero, infinity);
    let edge = mul_sign(magnitude, L::select(y_is_odd.equal(one), x, one));
    let x_edge = L::select(abs(x).equal(infinity), one, x_zero);
    let result = L::select(x_edge.equal(one), edge, result);
    let result = L::select(x.is_nan(), x.add(x), result);
    let result = L::select(y.is_nan(), y.add(y), result);
    L::select(y.equal(zero), one, L::select(x.equal(one), one, result))
}
