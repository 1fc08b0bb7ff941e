//! `sin`, `cos` and `tan` over any [`Lanes`], within 1 ULP for every finite argument up to
//! 1.8e308, with one algorithm and the same bits on every tier:
//!
//! - **Reduction** to `x = k·π/2 + r`, `|r| ≤ π/4` (a hair more where `k` rounds), `r` a
//!   double-double. `|x| ≤ 2⁴⁰`: `k = rint(x·2/π)` and `r = x − k·(P₁ + P₂ + P₃)` with π/2 split
//!   into three doubles (161 bits): `x − k·P₁` is exact by one FMA (both are multiples of
//!   `2⁻⁵²` or of `ulp(x)`, and the difference is below 2), `k·P₂` exact by TwoProd, `k·P₃`
//!   rounded; the error is below `k·2⁻¹⁶⁰`, relative to `r` below 2⁻⁶⁰ even for the double
//!   nearest a multiple of π/2. Beyond 2⁴⁰, Payne–Hanek without a table
//!   ([`reduce_huge`]): `x·2/π` modulo 4 from exact products with all 22 double chunks of
//!   2/π, summed exactly in fixed-point levels. Only vectors holding such a lane pay for it
//!   ([`Lanes::if_any`]); each lane's result depends on its own argument only.
//! - **Kernels** (SLEEF's u1 minimax polynomials on `[−π/4, π/4]`): `sin r` and `cos r` as
//!   double-doubles (`xsincos_u1`), the quadrant `k mod 4` picking and signing them; `tan`
//!   from `x = tan(r/2)` in double-double by the double-angle formula (`xtan_u1`). `sin` and `tan` are odd and `cos` even by
//!   construction (the reduction runs on `|x|`).
//! - Specials (C99 Annex F): `sin(±0) = ±0`, `tan(±0) = ±0`, `cos(±0) = 1`; `±∞` and NaN give
//!   NaN; `sin x = tan x = x` below 2⁻²⁸.

// SLEEF's coefficients are kept digit for digit as published.
#![allow(clippy::excessive_precision)]

use super::dd::{self, Dd};
use super::elementary::{abs, floor_small, horner, mul_sign, nearest_integer};
use super::lanes::{GuardedPath, Lanes};

/// Arguments up to this magnitude (2⁴⁰) take the three-part reduction; beyond it, Payne–Hanek.
pub(crate) const FAST_REDUCTION_LIMIT: f64 = 1_099_511_627_776.0;

/// π/2 as three doubles: `P₁ + P₂ + P₃` is within 5.6·10⁻⁵⁰ of π/2.
const PIO2_1: f64 = f64::from_bits(0x3ff9_21fb_5444_2d18);
const PIO2_2: f64 = f64::from_bits(0x3c91_a626_3314_5c07);
const PIO2_3: f64 = f64::from_bits(0xb91f_1976_b7ed_8fbc);
/// π/2 as a double-double.
const FRAC_PI_2: (f64, f64) = (PIO2_1, PIO2_2);

/// `2/π · 2⁶⁰⁰` as 22 doubles, each the nearest double to what the earlier ones leave: their
/// sum is within 2⁻¹²²⁰ of 2/π once scaled back. The scaling keeps the chunks below 2⁻¹⁰²²
/// (down to 2⁻¹¹⁶⁶) normal; the argument is scaled by 2⁻⁶⁰⁰ instead, so each product is
/// unchanged.
const TWO_OVER_PI_CHUNKS: [u64; 22] = [
    0x6564_5f30_6dc9_c883,
    0xe206_b01e_c541_7056,
    0xdea6_447e_493a_d4ce,
    0x5b4e_21c8_20ff_28b2,
    0xd7d5_0851_0ea7_9237,
    0x545b_8e90_9374_b802,
    0xd0fb_6d11_5f62_e6de,
    0xcd88_0f10_a71a_76b3,
    0x4a1c_fba2_08d7_d4bb,
    0xc692_edec_598e_3f65,
    0xc327_4103_7d8c_dc54,
    0x3fcc_c1a9_9cfa_4e42,
    0x3c57_e2ef_7e4a_0ec8,
    0xb89d_a000_87e9_9fc0,
    0xb530_d0ee_74a5_f593,
    0x31bf_6d36_7ecf_27cb,
    0x2e23_6e9e_8c7e_cd3d,
    0xaac0_0ae9_456c_229c,
    0xa734_1a0e_84c2_f8c6,
    0xa3a0_eb5a_da2b_2809,
    0xa040_2770_3951_7bd5,
    0x1c89_8237_e3db_5d60,
];
/// 2⁻⁶⁰⁰: the argument's scaling for [`TWO_OVER_PI_CHUNKS`].
const CHUNK_SCALE: f64 = f64::from_bits((1023 - 600) << 52);

/// SLEEF's `xsincos_u1` coefficients: `(sin r − r)/(r³)` in `r²`, highest first.
const SIN: [f64; 6] = [
    1.58938307283228937328511e-10,
    -2.50506943502539773349318e-08,
    2.75573131776846360512547e-06,
    -0.000198412698278911770864914,
    0.0083333333333191845961746,
    -0.166666666666666130709393,
];
/// SLEEF's `xsincos_u1` coefficients: `(cos r − 1)/r²` in `r²`, highest first.
const COS: [f64; 7] = [
    -1.13615350239097429531523e-11,
    2.08757471207040055479366e-09,
    -2.75573144028847567498567e-07,
    2.48015872890001867311915e-05,
    -0.00138888888888714019282329,
    0.0416666666666665519592062,
    -0.5,
];

/// Which function [`trigonometric`] computes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trig {
    Sin,
    Cos,
    Tan,
}

impl Trig {
    /// Every function, at its discriminant (the const parameter of [`OfHuge`]).
    const ALL: [Trig; 3] = [Trig::Sin, Trig::Cos, Trig::Tan];
}
const _: () = assert!(
    matches!(Trig::ALL[Trig::Sin as usize], Trig::Sin)
        && matches!(Trig::ALL[Trig::Cos as usize], Trig::Cos)
        && matches!(Trig::ALL[Trig::Tan as usize], Trig::Tan),
    "Trig::ALL lists each function at its discriminant"
);

/// Sine.
#[inline(always)]
pub fn sin<L: Lanes>(x: L) -> L {
    trigonometric(x, Trig::Sin)
}

/// Cosine.
#[inline(always)]
pub fn cos<L: Lanes>(x: L) -> L {
    trigonometric(x, Trig::Cos)
}

/// Tangent.
#[inline(always)]
pub fn tan<L: Lanes>(x: L) -> L {
    trigonometric(x, Trig::Tan)
}

#[inline(always)]
fn trigonometric<L: Lanes>(x: L, function: Trig) -> L {
    let a = abs(x);
    let (quadrant, r) = reduce(a);
    let result = quadrant_value(function, quadrant, r);
    let huge = a.greater(L::splat(FAST_REDUCTION_LIMIT));
    let result = match function {
        Trig::Sin => L::if_any::<OfHuge<{ Trig::Sin as u8 }>>(huge, a, result),
        Trig::Cos => L::if_any::<OfHuge<{ Trig::Cos as u8 }>>(huge, a, result),
        Trig::Tan => L::if_any::<OfHuge<{ Trig::Tan as u8 }>>(huge, a, result),
    };
    // sin and tan are odd: the sign of x. Below 2⁻²⁸ they round to `x` itself (the next term
    // is `x³/6` or `x³/3`, under a quarter ULP), which also keeps ±0 and the subnormals (whose
    // halving in `tan`'s `r/2` would lose a bit) exact.
    let result = match function {
        Trig::Sin | Trig::Tan => {
            L::select(a.less(L::splat(3.725_290_298_461_914e-9)), x, mul_sign(result, x))
        }
        Trig::Cos => result,
    };
    let result = L::select(a.equal(L::splat(f64::INFINITY)), L::splat(f64::NAN), result);
    L::select(x.is_nan(), x.add(x), result)
}

/// `sin`, `cos` or `tan` (`Trig::ALL[FUNCTION]`) of `a > 2⁴⁰`: a guarded path of
/// [`Lanes::if_any`].
struct OfHuge<const FUNCTION: u8>;
impl<const FUNCTION: u8> GuardedPath for OfHuge<FUNCTION> {
    #[inline(always)]
    fn run<L: Lanes>(a: L) -> L {
        let (quadrant, r) = reduce_huge(a);
        quadrant_value(Trig::ALL[usize::from(FUNCTION)], quadrant, r)
    }
}

/// `a = k·π/2 + r` for `0 ≤ a ≤ 2⁴⁰`: `(k mod 4, r)`.
#[inline(always)]
fn reduce<L: Lanes>(a: L) -> (L, Dd<L>) {
    let k = nearest_integer(a.mul(L::splat(std::f64::consts::FRAC_2_PI)));
    let r = k.fma(L::splat(-PIO2_1), a);
    let p2 = dd::mul2(k, L::splat(-PIO2_2));
    let r = dd::add2(r, p2.hi);
    let r = dd::add_d2(r, p2.lo);
    let r = dd::add_d2(r, k.mul(L::splat(-PIO2_3))).normalize();
    (modulo_4(k), r)
}

/// `k mod 4` of an integer-valued `k` with `|k| < 2⁵¹`, in {0, 1, 2, 3}.
#[inline(always)]
fn modulo_4<L: Lanes>(k: L) -> L {
    k.sub(L::splat(4.0).mul(floor_small(k.mul(L::splat(0.25)))))
}

/// `v` reduced modulo 8 into [−4, 4], exactly; 0 (≡ `v` modulo 4) from 2⁵⁴ on, where every
/// double is a multiple of 4. Below 2⁵⁴, `v + 1.5·2⁵⁵` lies in [2⁵⁵, 2⁵⁶), whose spacing is 8.
#[inline(always)]
fn reduce_modulo_8<L: Lanes>(v: L) -> L {
    let magic = L::splat(1.5 * 36_028_797_018_963_968.0);
    let nearest_multiple = v.add(magic).sub(magic);
    L::select(abs(v).less(L::splat(18_014_398_509_481_984.0)), v.sub(nearest_multiple), L::splat(0.0))
}

/// `(v` rounded to a multiple of `2^q`, the rest`)` for `magic = 1.5·2^(52+q)` and
/// `|v| < 2^(51+q)`: both exact.
#[inline(always)]
fn split_at<L: Lanes>(v: L, magic: f64) -> (L, L) {
    let magic = L::splat(magic);
    let high = v.add(magic).sub(magic);
    (high, v.sub(high))
}

/// Payne–Hanek for `2⁴⁰ < a < ∞`: `(k mod 4, r)` with `a = k·π/2 + r`.
///
/// `a·2/π = Σ a·Cᵢ` over the chunks; each product is exact as a TwoProd pair, and each half is
/// replaced by its residue modulo 8 in [−4, 4] (exact, [`reduce_modulo_8`]), which keeps the
/// sum's residue modulo 4. The 44 residues are then summed exactly: each is cut at 2⁻⁴⁰,
/// 2⁻⁸⁰ and 2⁻¹²⁰ into pieces that are multiples of those powers, and each level's pieces
/// add up without rounding (at most 44 · 2⁴³ units of the level, below 2⁵³). Only the last
/// level (below 2⁻¹²⁰) rounds. The integer nearest to the first level is `k` modulo 4; the
/// fraction `f`, at most 1/2 in size, is then the exact sum of a few doubles, gathered as a
/// double-double whose error is below 2⁻¹⁰⁵·|f| + 2⁻¹⁶⁶, and `r = f·π/2`.
#[inline(always)]
fn reduce_huge<L: Lanes>(a: L) -> (L, Dd<L>) {
    let zero = L::splat(0.0);
    let scaled = a.mul(L::splat(CHUNK_SCALE));
    let (mut level_40, mut level_80, mut level_120, mut rest) = (zero, zero, zero, zero);
    for chunk in TWO_OVER_PI_CHUNKS {
        let product = dd::mul2(scaled, L::splat(f64::from_bits(chunk)));
        for half in [product.hi, product.lo] {
            let residue = reduce_modulo_8(half);
            let (piece_40, below_40) = split_at(residue, 1.5 * 4096.0);
            let (piece_80, below_80) = split_at(below_40, 1.5 * 3.725_290_298_461_914e-9);
            let (piece_120, below_120) = split_at(below_80, 1.5 * 3.388_131_789_017_201_4e-21);
            level_40 = level_40.add(piece_40);
            level_80 = level_80.add(piece_80);
            level_120 = level_120.add(piece_120);
            rest = rest.add(below_120);
        }
    }
    let k = nearest_integer(level_40);
    let f = dd::add2(level_40.sub(k), level_80);
    let f = dd::add_d2(f, level_120);
    let f = dd::add_d2(f, rest).normalize();
    // Normalized like the three-part reduction's `r`: the kernels evaluate their polynomial
    // in `r.hi` alone, which is accurate only when `r.hi` is `r` rounded.
    let r = dd::mul_dd(f, Dd::constant(FRAC_PI_2.0, FRAC_PI_2.1)).normalize();
    (modulo_4(k), r)
}

/// The function of `k·π/2 + r` for the quadrant `q = k mod 4`.
#[inline(always)]
fn quadrant_value<L: Lanes>(function: Trig, q: L, r: Dd<L>) -> L {
    let half = q.mul(L::splat(0.5));
    let odd = floor_small(half).less(half);
    let negative_zero = L::splat(-0.0);
    let zero = L::splat(0.0);
    match function {
        // sin: q = 0 → sin r, 1 → cos r, 2 → −sin r, 3 → −cos r.
        Trig::Sin => {
            let (sine, cosine) = sin_cos(r);
            let value = Dd::select(odd, cosine, sine).value();
            value.xor_bits(L::select(q.greater(L::splat(1.5)), negative_zero, zero))
        }
        // cos: q = 0 → cos r, 1 → −sin r, 2 → −cos r, 3 → sin r.
        Trig::Cos => {
            let (sine, cosine) = sin_cos(r);
            let value = Dd::select(odd, sine, cosine).value();
            let negative = L::select(q.greater(L::splat(0.5)), negative_zero, zero);
            let negative = L::select(q.greater(L::splat(2.5)), zero, negative);
            value.xor_bits(negative)
        }
        // tan: with `x = tan(r/2)`, even q → 2x/(1 − x²), odd q → −1/tan r = (x² − 1)/(2x).
        Trig::Tan => {
            let (x, y) = tan_half_parts(r);
            let numerator = Dd::select(odd, y.neg(), x);
            let denominator = Dd::select(odd, x, y);
            dd::div_dd(numerator, denominator).value()
        }
    }
}

/// SLEEF's `xtan_u1` coefficients: `(tan t − t − t³/3)/t⁵` in `t²`, highest first.
const TAN: [f64; 8] = [
    0.3245098826639276316e-3,
    0.5619219738114323735e-3,
    0.1460781502402784494e-2,
    0.3591611540792499519e-2,
    0.8863268409563113126e-2,
    0.2186948728185535498e-1,
    0.5396825399517272970e-1,
    0.1333333333330500581e+0,
];

/// SLEEF's `xtan_u1` kernel for `|r| ≲ π/4`: `x = tan(r/2)` as a double-double, returned as
/// `(−2x, x² − 1)`, whose quotient is `tan r` (the double-angle formula).
#[inline(always)]
fn tan_half_parts<L: Lanes>(r: Dd<L>) -> (Dd<L>, Dd<L>) {
    let t = r.scale(L::splat(0.5));
    let s = dd::square(t);
    let u = horner(s.hi, &TAN).fma(s.hi, L::splat(0.3333333333333343695));
    let x = dd::add_dd2(t, dd::mul_d(dd::mul_dd(s, t), u));
    let y = dd::add_d2(dd::square(x), L::splat(-1.0));
    (x.scale(L::splat(-2.0)), y)
}

/// `(sin r, cos r)` as double-doubles for `|r| ≲ π/4` (SLEEF's `xsincos_u1`, with the low
/// part of `r²` kept in `cos`).
#[inline(always)]
fn sin_cos<L: Lanes>(r: Dd<L>) -> (Dd<L>, Dd<L>) {
    let s = dd::square(r);
    let u = horner(s.hi, &SIN).mul(s.hi.mul(r.hi));
    let sine = dd::add_d2(r, u);
    let u = horner(s.hi, &COS);
    let cosine = dd::add_d2(dd::mul_d(s, u), L::splat(1.0));
    (sine, cosine)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where both reductions apply (below 2⁴⁰), they agree: the same quadrant and the same
    /// remainder to far beyond the 53 bits kept, so the Payne–Hanek path is as exact as the
    /// three-part one (whose error bound is simple) wherever the two can be compared.
    #[test]
    fn both_reductions_agree_where_both_apply() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut worst = 0.0f64;
        for i in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let low = 1.0f64.to_bits();
            let a = f64::from_bits(low + state % (FAST_REDUCTION_LIMIT.to_bits() - low));
            // Also the doubles nearest multiples of π/2, where the remainder is smallest.
            let a = if i % 2 == 0 { a } else { (a / PIO2_1).round() * PIO2_1 };
            let (q_fast, r_fast) = reduce(a);
            let (q_huge, r_huge) = reduce_huge(a);
            if q_fast != q_huge {
                // Only a remainder at ±π/4 may round into either quadrant.
                assert!((r_fast.hi.abs() - std::f64::consts::FRAC_PI_4).abs() < 1e-9, "{a}");
                continue;
            }
            let difference = (r_fast.hi - r_huge.hi) + (r_fast.lo - r_huge.lo);
            worst = worst.max((difference / r_fast.hi).abs());
        }
        assert!(worst < 2f64.powi(-95), "relative difference {worst:e}");
    }
}
