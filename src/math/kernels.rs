//! `ln` and `exp` written once, over any [`Lanes`], from the math:
//!
//! - `ln(x)`: `x = 2^k·m` with `m ∈ [√2/2, √2)`, `f = m − 1`, `s = f/(2+f)`, and
//!   `ln(1+f) = 2·atanh(s) = f − s·(f − R)` where `R = Σ 2z^i/(2i+1)`, `z = s²` (the atanh
//!   series; `|s| ≤ 0.1716`, so ten terms leave a tail below 2⁻⁶⁰). It is evaluated as
//!   `k·ln2_hi − ((f²/2 − (s·(f²/2 + R) + k·ln2_lo)) − f)` so that the large terms add last.
//!   Subnormals are scaled by 2⁵⁴ first.
//! - `exp(x)`: `k = round(x/ln2)`, `r = x − k·ln2` (Cody–Waite with a 2-part ln2, FMA), the
//!   Taylor polynomial of degree 14 (`|r| ≤ 0.347`: tail below 2⁻⁵⁷) with `1 + r` split
//!   exactly so that one rounding dominates, then `2^k` applied as
//!   two exact-or-once-rounded power-of-two multiplications, so results near overflow and in
//!   the subnormal range round once.
//!
//! The operation sequence is the same for every tier and uses FMA everywhere it uses it at
//! all, which is what makes every tier return identical bits.

use super::dd::{self, Dd};
use super::lanes::Lanes;

/// ln 2 split so that `k·LN2_HI` is exact for `|k| < 2²⁰`: the high part keeps 21 significant
/// bits (`0x3fe62e42fee00000`), the low part is the rest of ln 2 rounded to f64.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// The atanh series coefficients 2/(2i+1), i = 1..=10.
const ATANH: [f64; 10] = [
    2.0 / 3.0,
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
];
const TWO_POW_52: f64 = 4_503_599_627_370_496.0;
const TWO_POW_54: f64 = 18_014_398_509_481_984.0;

/// Natural logarithm of every lane. Special cases: ln(1) = +0, ln(±0) = −∞, ln(x<0) = NaN,
/// ln(+∞) = +∞, ln(NaN) = NaN.
#[inline(always)]
pub fn ln<L: Lanes>(x: L) -> L {
    let zero = L::splat(0.0);
    let (k, f) = ln_reduce(x);
    let s = f.div(L::splat(2.0).add(f));
    let z = s.mul(s);
    let mut series = L::splat(ATANH[9]);
    for &coefficient in ATANH[..9].iter().rev() {
        series = series.fma(z, L::splat(coefficient));
    }
    let r = z.mul(series);
    let half_f_squared = L::splat(0.5).mul(f).mul(f);
    let tail = s.mul(half_f_squared.add(r)).add(k.mul(L::splat(LN2_LO)));
    let result = k.mul(L::splat(LN2_HI)).sub(half_f_squared.sub(tail).sub(f));

    let result = L::select(x.equal(zero), L::splat(f64::NEG_INFINITY), result);
    let result = L::select(x.less(zero), L::splat(f64::NAN), result);
    let result = L::select(x.equal(L::splat(f64::INFINITY)), x, result);
    L::select(x.is_nan(), x.add(x), result)
}

/// `x = 2^k·(1 + f)` with `1 + f ∈ [√2/2, √2)`, for a positive finite `x` (subnormals
/// included), as floats: `f` is exact (`m − 1` by Sterbenz). Other inputs give garbage the
/// callers replace by their special cases.
#[inline(always)]
pub(crate) fn ln_reduce<L: Lanes>(x: L) -> (L, L) {
    let zero = L::splat(0.0);
    // Subnormals: scale into the normal range and remember the 54 binades.
    let subnormal = x.less(L::splat(f64::MIN_POSITIVE));
    let scaled = L::select(subnormal, x.mul(L::splat(TWO_POW_54)), x);
    let bias = L::select(subnormal, L::splat(1023.0 + 54.0), L::splat(1023.0));
    // Exponent as a float: OR the 11 exponent bits into 2^52's mantissa, subtract 2^52.
    let exponent_bits = scaled.shift_right_52().and_bits(L::splat(f64::from_bits(0x7ff)));
    let exponent = exponent_bits.or_bits(L::splat(TWO_POW_52)).sub(L::splat(TWO_POW_52));
    // m in [1, 2): the mantissa with a zero exponent.
    let mantissa = scaled.and_bits(L::splat(f64::from_bits(0x000f_ffff_ffff_ffff))).or_bits(L::splat(1.0));
    // Fold m into [√2/2, √2).
    let big = mantissa.greater(L::splat(std::f64::consts::SQRT_2));
    let m = L::select(big, mantissa.mul(L::splat(0.5)), mantissa);
    let k = exponent.sub(bias).add(L::select(big, L::splat(1.0), zero));
    (k, m.sub(L::splat(1.0)))
}

/// `ln(1 + f)` for `f` from [`ln_reduce`], as a double-double accurate to about 2⁻⁵⁷
/// relative: the same atanh series as `ln`, with `f − f²/2` kept exactly.
#[inline(always)]
pub(crate) fn ln_1p_reduced<L: Lanes>(f: L) -> Dd<L> {
    let s = f.div(L::splat(2.0).add(f));
    let z = s.mul(s);
    let mut series = L::splat(ATANH[9]);
    for &coefficient in ATANH[..9].iter().rev() {
        series = series.fma(z, L::splat(coefficient));
    }
    let r = z.mul(series);
    // ln(1+f) = f − f²/2 + s·(f²/2 + R): the first two exactly, the last (≈ f³/4) rounded.
    let half_f_squared = dd::mul2(f, f).scale(L::splat(0.5));
    let t = s.mul(half_f_squared.hi.add(r));
    let head = dd::add2(f, L::splat(0.0).sub(half_f_squared.hi));
    Dd { hi: head.hi, lo: head.lo.sub(half_f_squared.lo).add(t) }.normalize()
}

/// `e^x = 2^k·(1 + p)` for `x` clamped to exp's range: `k` integral and `p = e^r − 1` for
/// `|r| ≤ ln2/2`, as a normalised double-double accurate relative to `p` itself (so `expm1`
/// of a tiny argument keeps every bit): the polynomial's error is about 2⁻⁵³ of its term
/// `≈ r²/2`.
#[inline(always)]
pub(crate) fn exp_parts<L: Lanes>(x: L) -> (L, Dd<L>) {
    exp_parts_up_to(x, EXP_HIGH)
}

/// [`exp_parts`] with `x` clamped to `[EXP_LOW, high]` instead (`high` at most 711, where
/// `k` is still within what [`scale_by_power_of_two`] carries).
#[inline(always)]
pub(crate) fn exp_parts_up_to<L: Lanes>(x: L, high: f64) -> (L, Dd<L>) {
    let ExpReduction { k, r, c, q } = exp_reduce(x, high);
    // r² exactly, so the polynomial term's error is the polynomial's own.
    let r_squared = dd::mul2(r, r);
    let t = r_squared.hi.fma(q, r_squared.lo.mul(q));
    // e^r − 1 = (r + c) + t: r + c is exact as a double-double (c is the rounding error of
    // r), and t is added with its own rounding error kept.
    (k, dd::add_d2(Dd { hi: r, lo: c }, t))
}

/// `p·2^k` for an integral `k` in `[-1100, 1100]`: `2^k1·2^k2` with `k1 = floor(k/2)`, both
/// normal, so `p·2^k1` is exact and the second multiplication rounds once (into the
/// subnormal range or to ±∞ as it must).
#[inline(always)]
pub(crate) fn scale_by_power_of_two<L: Lanes>(p: L, k: L) -> L {
    let magic = L::splat(1.5 * TWO_POW_52);
    let k1 = k.mul(L::splat(0.5)).fma(L::splat(1.0), magic).sub(magic);
    let k1 = L::select(k1.greater(k.mul(L::splat(0.5))), k1.sub(L::splat(1.0)), k1);
    let k2 = k.sub(k1);
    p.mul(power_of_two(k1)).mul(power_of_two(k2))
}

/// 1/k! for k = 2..=14: the Taylor coefficients of `(exp(r) − 1 − r)/r²`.
const EXP_TAYLOR: [f64; 13] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
    1.0 / 87_178_291_200.0,
];
/// exp's argument is clamped to this range first: beyond it the result is 0 or +∞ anyway, and
/// inside it `k` stays within what two power-of-two factors can carry.
const EXP_LOW: f64 = -746.0;
const EXP_HIGH: f64 = 710.0;

/// e raised to every lane. Overflow gives +∞, underflow 0 or the correctly placed subnormal,
/// exp(−∞) = 0, exp(NaN) = NaN.
#[inline(always)]
pub fn exp<L: Lanes>(x: L) -> L {
    let ExpReduction { k, r, c, q } = exp_reduce(x, EXP_HIGH);
    // exp(r) + c = 1 + r + (r²·q + c). 1 + r is split exactly (Fast2Sum: |r| < 1), so the
    // only rounding of consequence is the last addition.
    let t = r.mul(r).fma(q, c);
    let one = L::splat(1.0);
    let sum = one.add(r);
    let error = one.sub(sum).add(r);
    let p = sum.add(error.add(t));
    let result = scale_by_power_of_two(p, k);
    L::select(x.is_nan(), x.add(x), result)
}

/// What `exp` and [`exp_parts`] share, for `x` clamped to `[EXP_LOW, high]`:
/// `k = round(x/ln2)` (by the 1.5·2⁵² trick); `r = x − k·ln2` from `k·LN2_HI` (exact, and so
/// is its subtraction from x) and `k·LN2_LO`, rounded, with `c` its rounding error (TwoSum,
/// exact); and `q = (e^r − 1 − r)/r²`, the Taylor polynomial of degree 12 in `r`.
struct ExpReduction<L> {
    k: L,
    r: L,
    c: L,
    q: L,
}

#[inline(always)]
fn exp_reduce<L: Lanes>(x: L, high: f64) -> ExpReduction<L> {
    let low = L::splat(EXP_LOW);
    let high = L::splat(high);
    let clamped = L::select(x.less(low), low, L::select(x.greater(high), high, x));
    let magic = L::splat(1.5 * TWO_POW_52);
    let k = clamped.fma(L::splat(std::f64::consts::LOG2_E), magic).sub(magic);
    let r_hi = k.mul(L::splat(-LN2_HI)).add(clamped);
    let r_lo = k.mul(L::splat(-LN2_LO));
    let r = r_hi.add(r_lo);
    let r_hi_part = r.sub(r_lo);
    let c = r_hi.sub(r_hi_part).add(r_lo.sub(r.sub(r_hi_part)));
    let mut q = L::splat(EXP_TAYLOR[12]);
    for &coefficient in EXP_TAYLOR[..12].iter().rev() {
        q = q.fma(r, L::splat(coefficient));
    }
    ExpReduction { k, r, c, q }
}

/// 2^k for an integral `k` in the normal exponent range, built from its bits.
#[inline(always)]
pub(crate) fn power_of_two<L: Lanes>(k: L) -> L {
    // k + 1023 + 2^52 holds the biased exponent in its low mantissa bits.
    let biased = k.add(L::splat(1023.0 + TWO_POW_52));
    biased.shift_left_52()
}
