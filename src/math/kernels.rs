//! `ln` and `exp` written once, over any [`Lanes`], from the math:
//!
//! - `ln(x)`: table-driven, no division. `x = 2^k·m'`, a 16-entry table gives `1/c` (a
//!   multiple of 1/64 near `1/(1 + j/16)` for the `j/16` nearest `m' − 1`) and `ln c`
//!   (double-double), and `ln x = k·ln2 + ln c + ln(1 + r)` with `r = m'·(1/c) − 1` exact by
//!   one FMA and `|r| ≤ 35/1024`, a polynomial of degree 10 in `r`
//!   (`r + r²·(−1/2 + r·P(r))`, `P` of degree 7), summed so that one rounding dominates
//!   ([`ln_of_positive_normal`]), the exponent and mantissa split off by integer additions
//!   to the bit pattern. Other lanes (below the normal range, +∞, NaN, the largest finite
//!   values), found by one comparison, go through a guarded region (subnormals scaled by
//!   2⁵⁴).
//! - `log2`, `log10` ([`log_base`]): the same reduction, table of `1/c` and series, with
//!   `log_b c` from a table of their own and the series scaled by `log_b e` in double-double.
//! - `log1p` ([`ln_1p`]): `ln`'s table route on `u = fl(1 + x)`, with the rounding error
//!   `e = 1 + x − u` added as `e/u` (by the table's `1/c`, no division) before the last
//!   rounding.
//! - `pow`'s double-double `ln` ([`ln_dd_table`]): the same route with every rounding kept,
//!   its series a Taylor series in `r` to `r¹³`; and its `exp` of a double-double
//!   ([`exp_of_dd_table`]): `exp`'s table route with the argument's low part, over the whole
//!   range by two power-of-two factors.
//! - `exp(x)`: table-driven for `|x| ≤ 704`. `N = round(x·16/ln2)`, a 16-entry table gives
//!   `2^(j/16)` (double-double) for `j = N mod 16`, `r = x − N·ln2/16` (`|r| ≤ ln2/32`), the
//!   Taylor polynomial of degree 7 in `r`, one final rounding, and `2^floor(N/16)` exactly
//!   ([`exp_of_moderate`]). Other lanes go through a guarded region: `k = round(x/ln2)`,
//!   `r = x − k·ln2` (Cody–Waite with a 2-part ln2, FMA), the Taylor polynomial of degree 14
//!   (`|r| ≤ 0.347`: tail below 2⁻⁵⁷) with `1 + r` split exactly so that one rounding
//!   dominates, then `2^k` applied as two exact-or-once-rounded power-of-two
//!   multiplications, so results near overflow and in the subnormal range round once.
//!
//! The operation sequence is the same for every tier and uses FMA everywhere it uses it at
//! all, and table lookups read the same entries on every tier ([`Lanes::lookup`]), which is
//! what makes every tier return identical bits.

use super::dd::{self, Dd};
use super::lanes::{GuardedPath, Lanes, LookupTable, TWO_POW_52, exponent_field_less};

/// ln 2 split so that `k·LN2_HI` is exact for `|k| < 2²⁰`: the high part keeps 21 significant
/// bits (`0x3fe62e42fee00000`), the low part is the rest of ln 2 rounded to f64.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
const TWO_POW_54: f64 = 18_014_398_509_481_984.0;

/// Natural logarithm of every lane. Special cases: ln(1) = +0, ln(±0) = −∞, ln(x<0) = NaN,
/// ln(+∞) = +∞, ln(NaN) = NaN.
///
/// Positive normal lanes take the table route ([`ln_of_positive_normal`]); every other lane
/// (below the normal range, +∞, NaN, and the finite ones above `LN_FOLD·2¹⁰²³`) is
/// recomputed in a guarded region that only runs when some lane of the vector needs it.
#[inline(always)]
pub fn ln<L: Lanes>(x: L) -> L {
    let carried = fold_carry(x);
    let fast = ln_of_positive_normal(carried, Exponent::Normal, None);
    L::if_any::<LnSpecial>(outside_the_table_route(carried), x, fast)
}

/// `x`'s bit pattern plus `FOLD_CARRY`, as integers: what the table route's reduction
/// ([`ln_table_reduce`]) and the test for the lanes it serves ([`outside_the_table_route`])
/// both read, computed once.
#[inline(always)]
fn fold_carry<L: Lanes>(x: L) -> L {
    x.add_bits(L::splat(f64::from_bits(FOLD_CARRY)))
}

/// The lanes the table route does not serve, by one comparison of `carried` ([`fold_carry`]
/// of `x`): as a float it is at least that of f64::MIN_POSITIVE exactly for the positive
/// normal lanes; zeros and subnormals fall below it, negatives turn negative (or tiny), and
/// +∞, NaN and the finite values above `LN_FOLD·2¹⁰²³` carry into a NaN, which fails the
/// comparison.
#[inline(always)]
fn outside_the_table_route<L: Lanes>(carried: L) -> L::Mask {
    carried.below_or_unordered(L::splat(f64::from_bits(f64::MIN_POSITIVE.to_bits() + FOLD_CARRY)))
}

/// `ln` of the lanes [`ln`]'s comparison sends here: each lane by its own case, so that a
/// positive normal lane sharing the vector gets the table route's bits. The guarded path of
/// [`ln`].
struct LnSpecial;
impl GuardedPath for LnSpecial {
    #[inline(always)]
    fn run<L: Lanes>(x: L) -> L {
        let (carried, exponent) = guarded_reduction(x);
        logarithm_specials(x, ln_of_positive_normal(carried, exponent, None))
    }
}

/// The table route's input in a logarithm's guarded region: subnormals scaled into the
/// normal range by 2⁵⁴ (the exponent bias grows by 54), normal lanes as they are, so that
/// one table route serves both (`carried` as [`fold_carry`] gives it, the exponent read from
/// the bits).
#[inline(always)]
fn guarded_reduction<L: Lanes>(x: L) -> (L, Exponent<L>) {
    let below_normal = x.less(L::splat(f64::MIN_POSITIVE));
    let scaled = L::select(below_normal, x.mul(L::splat(TWO_POW_54)), x);
    let offset = L::select(below_normal, L::splat(TWO_POW_52 + 1023.0 + 54.0), L::splat(TWO_POW_52 + 1023.0));
    (fold_carry(scaled), Exponent::FieldLess(offset))
}

/// A logarithm's special cases over `positive` (the table route's result for the positive
/// lanes): −∞ at ±0; negatives (−∞ included) are NaN; +∞ and NaN fail `x < ∞`: `x + x` is
/// +∞ and a quiet NaN.
#[inline(always)]
fn logarithm_specials<L: Lanes>(x: L, positive: L) -> L {
    let zero = L::splat(0.0);
    let result = L::select(x.equal(zero), L::splat(f64::NEG_INFINITY), positive);
    let result = L::select(x.less(zero), L::splat(f64::NAN), result);
    L::select(x.less(L::splat(f64::INFINITY)), result, x.add(x))
}

/// The 16-entry tables of [`ln_of_positive_normal`], entry `j` for the interval of mantissas
/// around `c = 1 + j/16` (one list of tables: [`LookupTable`]).
pub(crate) struct LnTable {
    /// `1/c`: a multiple of 1/64 near `1/(1 + j/16)`, chosen so that `m'·(1/c) − 1` is a
    /// double for every mantissa `m'` of the entry and `|r|` stays small; entry 0 is 1.
    pub inverse_center: [f64; 16],
    /// `−ln(inverse_center)` rounded to a multiple of 2⁻⁴², so that `k·LN2_HI` plus it is
    /// exact for every exponent `k`…
    pub log_center_high: [f64; 16],
    /// …and the rest of `−ln(inverse_center)`, rounded to f64 (about 2⁻⁹⁶ from the truth).
    pub log_center_low: [f64; 16],
}

/// Generated by `ln_table_matches_its_definition` (tests below), which recomputes it from
/// the double-double reference `ln`.
pub(crate) const LN_TABLE: LnTable = LnTable {
    inverse_center: bits_to_f64s([
        0x3ff0_0000_0000_0000,
        0x3fee_0000_0000_0000,
        0x3fec_8000_0000_0000,
        0x3feb_0000_0000_0000,
        0x3fe9_8000_0000_0000,
        0x3fe8_8000_0000_0000,
        0x3fe7_0000_0000_0000,
        0x3fe6_0000_0000_0000,
        0x3fe5_8000_0000_0000,
        0x3fe4_8000_0000_0000,
        0x3fe3_8000_0000_0000,
        0x3fe3_0000_0000_0000,
        0x3fe2_8000_0000_0000,
        0x3fe1_8000_0000_0000,
        0x3fe1_0000_0000_0000,
        0x3fe0_8000_0000_0000,
    ]),
    log_center_high: bits_to_f64s([
        0x0000_0000_0000_0000,
        0x3fb0_8598_b59e_4000,
        0x3fbd_a727_6384_4000,
        0x3fc5_bf40_6b54_4000,
        0x3fcd_1037_f265_6000,
        0x3fd1_178e_8227_e000,
        0x3fd5_22ae_0738_a000,
        0x3fd7_fafa_3bd8_1000,
        0x3fd9_73a3_4313_5000,
        0x3fdc_7ff9_c745_5000,
        0x3fdf_b358_af7a_5000,
        0x3fe0_ae76_e2d0_5800,
        0x3fe1_88ee_40f2_4000,
        0x3fe3_5028_ad9d_9000,
        0x3fe4_3d9f_f2f9_2000,
        0x3fe5_322e_2686_7800,
    ]),
    log_center_low: bits_to_f64s([
        0x0000_0000_0000_0000,
        0xbd17_e5dd_7009_902c,
        0x3d1a_8940_1fa7_1733,
        0xbd12_7023_eb68_981c,
        0xbd08_4a7e_75b6_f6e4,
        0x3d31_ef78_ce2d_07f2,
        0x3d2e_be70_8164_c759,
        0x3d34_6fb7_9bf6_d4cb,
        0x3d3a_b73b_16bf_4984,
        0x3d33_2491_1f56_db29,
        0xbd3d_ef40_b87d_36d9,
        0xbd38_2de5_1de0_6076,
        0xbd3a_ccec_41d5_2e6c,
        0xbd3b_d1f0_1ab6_0655,
        0x3d3e_267b_0b7e_fae1,
        0x3d05_ccc4_5d25_7531,
    ]),
};

const fn bits_to_f64s(bits: [u64; 16]) -> [f64; 16] {
    let mut values = [0.0; 16];
    let mut index = 0;
    while index < 16 {
        values[index] = f64::from_bits(bits[index]);
        index += 1;
    }
    values
}

/// Where the mantissa folds down a binade: at and above `2 − 1/32` it is halved (and the
/// exponent raised), so that the mantissas `m'` the table serves are `[1 − 1/64, 2 − 1/32)`
/// and every `x` within 1/128 of 1 lands in entry 0, whose `c` is exactly 1.
const LN_FOLD: f64 = 2.0 - 1.0 / 32.0;
/// `1.5·2⁵²`: adding it rounds a float to an integer that lands in the low mantissa bits.
const ROUND_MAGIC: f64 = 1.5 * TWO_POW_52;
/// `ln(1 + r) = r + r²·(−1/2 + r·P(r))`: P of degree 7, interpolated at the 8 Chebyshev
/// nodes of `r ∈ [−35/1024, 1/32]` (exact rational arithmetic, then rounded to f64). Its
/// relative error there is below 2⁻⁴⁸ (2⁻⁴⁸·²⁸ measured).
const LN_SERIES: [f64; 8] = [
    f64::from_bits(0x3fd5_5555_5555_5545),
    f64::from_bits(0xbfcf_ffff_ffff_f47c),
    f64::from_bits(0x3fc9_9999_99a8_24f9),
    f64::from_bits(0xbfc5_5555_5704_78af),
    f64::from_bits(0x3fc2_4923_8652_a43b),
    f64::from_bits(0xbfbf_ffe1_4bc5_9a49),
    f64::from_bits(0x3fbc_7e38_2b58_c83f),
    f64::from_bits(0xbfb9_ebb4_d254_1b1b),
];

/// How the table route's reduction ([`ln_table_reduce`]) takes `k` from the exponent field of
/// `t` ([`fold_carry`] of `x`).
#[derive(Clone, Copy)]
enum Exponent<L> {
    /// The field less 1023, by [`Lanes::exponent_less_bias`]: for the lanes the fast route
    /// serves, whose `t` is positive, normal and finite.
    Normal,
    /// 2⁵² plus the field, less this offset (2⁵² + 1023, or 2⁵² + 1023 + 54 for subnormals
    /// scaled by 2⁵⁴), by integer operations on the bits: for the guarded path, whose finite
    /// lanes above `LN_FOLD·2¹⁰²³` carry into a field of all ones (`t` an infinity or NaN
    /// as a float, but `k = 1024` by the bits).
    FieldLess(L),
}

/// `ln(x)` for positive normal finite lanes (other lanes get garbage, never a fault), `x`
/// given as `carried` = [`fold_carry`] of it, its exponent taken as `exponent` says. Both
/// ways give the same exact `k` for every lane the fast route serves, so a lane's bits do
/// not depend on which route computed it.
///
/// `x = 2^k·m'` with `m' ∈ [1 − 1/64, 2 − 1/32)`; `j = round(16·(m' − 1))` picks the entry,
/// and the table gives `1/c` (a multiple of 1/64 near `1/(1 + j/16)`) and `ln c`
/// (double-double). Then `ln x = k·ln2 + ln c + ln(1 + r)` with `r = m'/c − 1`,
/// `|r| ≤ 35/1024`:
/// - `r = m'·(1/c) − 1` by one FMA, exactly: `m'` is a multiple of 2⁻⁵² and `1/c` of 2⁻⁶,
///   and each entry's `1/c` keeps `r` within 53 bits (checked at both ends of every entry's
///   interval by the tests), so no product error needs carrying;
/// - `w = k·LN2_HI + ln c_high` is exact (see [`LnTable`]), `hi = w + r` with its rounding
///   error by Fast2Sum (`|w| ≥ |r|` or `w = 0`, checked for every entry by the tests);
/// - everything small adds into `lo`, and `hi + lo` rounds once.
///
/// Near 1 (entry 0, `k = 0`) `r = x − 1` exactly and `w = 0`: the result is `r + r²·(…)`,
/// accurate relative to itself however close `x` is to 1.
///
/// With `argument_error` (`log1p`'s: `x` stands for `x + e`, `|e| ≤ ulp(x)/2`), `e/x` joins
/// `lo` as `e·2⁻ᵏ·(1/c)·(1 − r + r²)` (`1/(1 + r)` to within `r³`): no division.
#[inline(always)]
fn ln_of_positive_normal<L: Lanes>(carried: L, exponent: Exponent<L>, argument_error: Option<L>) -> L {
    let (k, m, index) = ln_table_reduce(carried, exponent);
    let inverse_center = index.lookup(LookupTable::LnInverseCenter);
    let log_center_high = index.lookup(LookupTable::LnLogCenterHigh);
    let log_center_low = index.lookup(LookupTable::LnLogCenterLow);

    // Exact: `1/c` is a multiple of 1/64 chosen so that `m'·(1/c) − 1` fits a double.
    let r = m.fma(inverse_center, L::splat(-1.0));
    let w = k.fma(L::splat(LN2_HI), log_center_high);
    let hi = w.add(r);
    let hi_error = w.sub(hi).add(r);
    let small = k.fma(L::splat(LN2_LO), log_center_low);
    let small = match argument_error {
        None => small,
        Some(error) => small.add(error_over_argument(error, k, inverse_center, r)),
    };

    let mut series = L::splat(LN_SERIES[7]);
    for &coefficient in LN_SERIES[..7].iter().rev() {
        series = series.fma(r, L::splat(coefficient));
    }
    let q = r.fma(series, L::splat(-0.5));
    let lo = r.mul(r).fma(q, hi_error.add(small));
    hi.add(lo)
}

/// `e/x` for `x = 2^k·m'` as [`ln_of_positive_normal`] reduced it (`r = m'·(1/c) − 1`):
/// `e·2⁻ᵏ·(1/c)·(1 − r + r²)`. `e` is `log1p`'s rounding error of `1 + x`, non-zero only for
/// `k ≥ −1`; beyond `k = 1000` it is dropped (`|e/x| ≤ 2⁻⁵³` there, against a result above
/// 693 whose ULP is 2⁻⁴³), so `2⁻ᵏ` is always a normal power of two.
#[inline(always)]
fn error_over_argument<L: Lanes>(error: L, k: L, inverse_center: L, r: L) -> L {
    let far = k.greater(L::splat(1000.0));
    let error = L::select(far, L::splat(0.0), error);
    let scale = power_of_two(L::splat(0.0).sub(L::select(far, L::splat(1000.0), k)));
    let a = error.mul(scale).mul(inverse_center);
    // a·(1 − r + r²) = a − a·(r − r²)
    let r_less_square = r.fma(L::splat(0.0).sub(r), r);
    a.fma(L::splat(0.0).sub(r_less_square), a)
}

/// `ln(1 + x)`, accurate for tiny `x`: `u + e = 1 + x` exactly (TwoSum), then `ln(u)` by
/// [`ln`]'s table route with `e/u` added before its last rounding. Lanes the table route
/// does not serve (`u` not positive and normal, +∞, NaN, `u` above `LN_FOLD·2¹⁰²³`) take
/// `ln(u)` by [`ln`]'s guarded region, where `e/u` is below 2⁻⁵³ of a result ≥ 709 or `u`
/// is no number; the caller sets the special cases.
#[inline(always)]
pub(crate) fn ln_1p<L: Lanes>(x: L) -> L {
    let sum = dd::add2(L::splat(1.0), x);
    let carried = fold_carry(sum.hi);
    let fast = ln_of_positive_normal(carried, Exponent::Normal, Some(sum.lo));
    L::if_any::<LnOfOnePlusSpecial>(outside_the_table_route(carried), x, fast)
}

/// [`ln_1p`]'s guarded path: `ln(1 + x)` rounded, by [`LnSpecial`].
struct LnOfOnePlusSpecial;
impl GuardedPath for LnOfOnePlusSpecial {
    #[inline(always)]
    fn run<L: Lanes>(x: L) -> L {
        LnSpecial::run(L::splat(1.0).add(x))
    }
}

/// The table route's reduction of a positive normal finite `x`, given as `t` =
/// [`fold_carry`] of it (see [`ln_of_positive_normal`]): the exponent `k` as a float, the
/// mantissa `m' ∈ [1 − 1/64, 2 − 1/32)` with `x = 2^k·m'`, and the table index
/// `1.5·2⁵² + round(16·(m' − 1))` for [`Lanes::lookup`].
#[inline(always)]
fn ln_table_reduce<L: Lanes>(t: L, exponent: Exponent<L>) -> (L, L, L) {
    // Adding `FOLD_CARRY` to the bit pattern (as integers) carries into the exponent field
    // exactly when the mantissa is at or above `LN_FOLD`, so
    // the field of `t` is the biased exponent of `x / m'`: `x = 2^k·m'` with `m'` in
    // `[LN_FOLD / 2, LN_FOLD)`, found without a comparison or a selection. (A positive
    // normal finite `x` has bits below `0x7ff0…`, so nothing carries out of the field.)
    // The field as a float: OR it into 2⁵²'s mantissa and subtract 2⁵² and the bias (or
    // the tier's one instruction for the same number, where the field is a normal one).
    let k = match exponent {
        Exponent::Normal => t.exponent_less_bias(),
        Exponent::FieldLess(offset) => exponent_field_less(t, offset),
    };
    // `m' = x / 2^k`: t's mantissa bits, less the carry, on the exponent field of 1 (one
    // integer addition: `FOLD_BASE` is `bits(1) − FOLD_CARRY`).
    let m = t
        .and_bits(L::splat(f64::from_bits(0x000f_ffff_ffff_ffff)))
        .add_bits(L::splat(f64::from_bits(FOLD_BASE)));
    // 1.5·2⁵² + round(16·(m − 1)): the index in the low bits, 0..=15.
    let index = m.fma(L::splat(16.0), L::splat(ROUND_MAGIC - 16.0));
    (k, m, index)
}

/// `log2` and `log10` by [`ln`]'s table route: `log_b x = k·log_b 2 + log_b c + ln(1 +
/// r)·log_b e` with the same reduction, table of `1/c` and series, and a table of `log_b c`
/// per base. No division.
pub(crate) trait LogBase {
    /// `log_b 2` with 21 significant bits, so that `k·EXPONENT_HIGH` is exact for every
    /// exponent `k` (|k| < 2¹¹) and a multiple of 2⁻²² …
    const EXPONENT_HIGH: f64;
    /// … and the rest of `log_b 2`, rounded to f64.
    const EXPONENT_LOW: f64;
    /// `log_b e` rounded to f64 …
    const E_HIGH: f64;
    /// … and the rest of it.
    const E_LOW: f64;
    /// The tables of `log_b c`: a multiple of 2⁻⁴² and the rest.
    const CENTER_HIGH: LookupTable;
    const CENTER_LOW: LookupTable;
}

/// Base 2: the exponent term is `k` itself.
pub(crate) struct Base2;
impl LogBase for Base2 {
    const EXPONENT_HIGH: f64 = 1.0;
    const EXPONENT_LOW: f64 = 0.0;
    const E_HIGH: f64 = std::f64::consts::LOG2_E;
    const E_LOW: f64 = 2.035_527_374_093_103_3e-17;
    const CENTER_HIGH: LookupTable = LookupTable::Log2CenterHigh;
    const CENTER_LOW: LookupTable = LookupTable::Log2CenterLow;
}

/// Base 10.
pub(crate) struct Base10;
impl LogBase for Base10 {
    const EXPONENT_HIGH: f64 = f64::from_bits(LOG10_2_HIGH_BITS);
    const EXPONENT_LOW: f64 = LOG10_2_LOW;
    const E_HIGH: f64 = std::f64::consts::LOG10_E;
    const E_LOW: f64 = 1.098_319_650_216_765e-17;
    const CENTER_HIGH: LookupTable = LookupTable::Log10CenterHigh;
    const CENTER_LOW: LookupTable = LookupTable::Log10CenterLow;
}

/// `log10 2` with its low 32 significand bits cleared (21 significant bits).
const LOG10_2_HIGH_BITS: u64 = std::f64::consts::LOG10_2.to_bits() & !0xffff_ffff;
/// `log10 2 − f64::from_bits(LOG10_2_HIGH_BITS)`, rounded to f64 (checked against the
/// double-double reference by `log_base_constants_split_exactly`).
const LOG10_2_LOW: f64 = 7.508_597_826_552_624e-8;

/// The base-`b` logarithm of every lane, by the table route where [`ln`] takes it and by the
/// same guarded region elsewhere. Special cases as `ln`'s: `log(±0) = −∞`, `log(x<0) = NaN`,
/// `log(+∞) = +∞`, NaN stays NaN.
#[inline(always)]
pub(crate) fn log_base<L: Lanes, B: LogBase>(x: L) -> L {
    let carried = fold_carry(x);
    let fast = log_base_of_positive_normal::<L, B>(carried, Exponent::Normal);
    L::if_any::<LogBaseSpecial<B>>(outside_the_table_route(carried), x, fast)
}

/// [`LnSpecial`] for [`log_base`].
struct LogBaseSpecial<B>(std::marker::PhantomData<B>);
impl<B: LogBase> GuardedPath for LogBaseSpecial<B> {
    #[inline(always)]
    fn run<L: Lanes>(x: L) -> L {
        let (carried, exponent) = guarded_reduction(x);
        logarithm_specials(x, log_base_of_positive_normal::<L, B>(carried, exponent))
    }
}

/// [`ln_of_positive_normal`] in base `b`: with `k`, `m'`, `1/c` and `r` (exact) as there,
/// - `w = k·EXPONENT_HIGH + (log_b c)_high` is exact (both multiples of 2⁻⁴², `|w| < 2¹¹`);
/// - `r·log_b e` is `p + p_error` exactly (`p_error` by one FMA), and `hi = w + p` with its
///   rounding error by TwoSum (no ordering of `|w|` and `|p|` assumed);
/// - everything small adds into `lo` (`k·EXPONENT_LOW`, `(log_b c)_low`, `r·E_LOW` and the
///   series' `r²·q·log_b e`), and `hi + lo` rounds once.
///
/// Exact at the powers of two in base 2 (`r = 0`, `w = k`).
#[inline(always)]
fn log_base_of_positive_normal<L: Lanes, B: LogBase>(carried: L, exponent: Exponent<L>) -> L {
    let (k, m, index) = ln_table_reduce(carried, exponent);
    let inverse_center = index.lookup(LookupTable::LnInverseCenter);
    let center_high = index.lookup(B::CENTER_HIGH);
    let center_low = index.lookup(B::CENTER_LOW);

    let r = m.fma(inverse_center, L::splat(-1.0));
    let w = k.fma(L::splat(B::EXPONENT_HIGH), center_high);
    let e_high = L::splat(B::E_HIGH);
    let p = r.mul(e_high);
    let p_error = r.fma(e_high, L::splat(0.0).sub(p));
    let hi = w.add(p);
    let w_part = hi.sub(p);
    let hi_error = w.sub(w_part).add(p.sub(hi.sub(w_part)));
    let small = k.fma(L::splat(B::EXPONENT_LOW), center_low);

    let mut series = L::splat(LN_SERIES[7]);
    for &coefficient in LN_SERIES[..7].iter().rev() {
        series = series.fma(r, L::splat(coefficient));
    }
    let q = r.fma(series, L::splat(-0.5));
    let linear_low = r.fma(L::splat(B::E_LOW), p_error.add(hi_error).add(small));
    let lo = r.mul(r).fma(q.mul(e_high), linear_low);
    hi.add(lo)
}

/// Sixteen values each split in two, `high + low` (a double-double table): `exp`'s
/// `2^(j/16)`, and `log_b c` of [`log_base_of_positive_normal`] (entry `j` for the same
/// interval as [`LN_TABLE`]'s). One list of tables: [`LookupTable`].
pub(crate) struct SplitTable {
    /// The value rounded (to f64 for `exp`; to a multiple of 2⁻⁴² for `log_b c`)…
    pub high: [f64; 16],
    /// …and the rest of it, rounded to f64.
    pub low: [f64; 16],
}

/// `log2 c` (`−log2(inverse_center)`), generated by `log_base_tables_match_their_definition`
/// (tests below) from the double-double reference `ln` and `log2 e`.
pub(crate) const LOG2_TABLE: SplitTable = SplitTable {
    high: bits_to_f64s([
        0x0000_0000_0000_0000,
        0x3fb7_d604_96cf_c000,
        0x3fc5_63dc_29ff_a000,
        0x3fcf_5fd8_a906_4000,
        0x3fd4_f6fb_b2ce_c000,
        0x3fd8_a898_0abf_c000,
        0x3fde_7df5_fe53_9000,
        0x3fe1_4c56_0fe6_8800,
        0x3fe2_5c0a_0463_c000,
        0x3fe4_8eef_1931_7800,
        0x3fe6_ddfc_2a79_0000,
        0x3fe8_10fa_51bf_6800,
        0x3fe9_4c28_7492_c800,
        0x3feb_dce9_dcc9_6000,
        0x3fed_3381_20a6_e000,
        0x3fee_9452_c8a7_1000,
    ]),
    low: bits_to_f64s([
        0x0000_0000_0000_0000,
        0xbd12_ce63_12eb_b81d,
        0x3d39_6419_0e41_bca7,
        0xbd0c_b6f7_0109_b0f1,
        0x3d36_61e3_93a1_6b95,
        0xbd26_6ccc_ab24_0e90,
        0xbd35_32c4_12ba_94db,
        0x3d37_c407_0507_99bf,
        0xbd25_0520_a377_c7ec,
        0x3d29_0d43_956f_a5d8,
        0xbd3c_e609_16e5_2e91,
        0xbd30_1447_51b3_314f,
        0xbd39_27df_c23d_9780,
        0x3d28_71a7_610e_40bd,
        0xbd33_167c_cc53_8261,
        0x3cf3_c676_4fc8_7b4a,
    ]),
};

/// `log10 c`, generated the same way from `log10 e`.
pub(crate) const LOG10_TABLE: SplitTable = SplitTable {
    high: bits_to_f64s([
        0x0000_0000_0000_0000,
        0x3f9c_b38f_ccd9_0000,
        0x3fa9_c197_abf0_0000,
        0x3fb2_e3a7_40b7_8000,
        0x3fb9_3e7d_e0fc_4000,
        0x3fbd_b11e_d766_c000,
        0x3fc2_5ba8_215b_0000,
        0x3fc4_d43f_8275_a000,
        0x3fc6_1b69_3998_4000,
        0x3fc8_c134_3769_6000,
        0x3fcb_88e6_7cf9_8000,
        0x3fcc_fa8e_765c_c000,
        0x3fce_7612_4046_c000,
        0x3fd0_c671_1d6a_c000,
        0x3fd1_94b3_bdef_7000,
        0x3fd2_691e_cc29_f000,
    ]),
    low: bits_to_f64s([
        0x0000_0000_0000_0000,
        0xbd30_0925_a535_ae72,
        0x3d1b_adcf_3d6e_4566,
        0x3cad_2885_6068_9912,
        0xbcf8_0743_4065_05e6,
        0xbd34_0bcd_23c3_e44c,
        0xbd30_07bf_2d8b_f07a,
        0x3d22_0ca9_a2bc_c728,
        0xbd3f_70dc_69c5_72da,
        0xbd35_9c29_94d3_4d69,
        0xbd2a_01b9_bb0e_bf1b,
        0xbd22_386a_d8b8_19b8,
        0xbd38_1a1e_23fe_0fb6,
        0xbd24_2d6a_e59e_7d9c,
        0xbd31_881d_6fbd_ee94,
        0x3cf0_9ca5_4daa_e9f9,
    ]),
};

/// `2⁵²` less the mantissa bits of `LN_FOLD / 2` (`1 − 1/64`, the smallest `m'`): see
/// [`ln_table_reduce`].
const FOLD_CARRY: u64 = (1 << 52) - ((LN_FOLD / 2.0).to_bits() & 0x000f_ffff_ffff_ffff);
/// What t's mantissa bits are added to for `m'`: `bits(1) − FOLD_CARRY` (see
/// [`ln_table_reduce`]).
const FOLD_BASE: u64 = 1.0f64.to_bits() - FOLD_CARRY;

/// `ln(1 + r) = r + r²·(−1/2 + r·P(r))` to the accuracy an f32 result needs: P of degree 3,
/// interpolated at the 4 Chebyshev nodes of `r ∈ [−35/1024, 1/32]` (exact rational
/// arithmetic, then rounded to f64). Relative error below 2⁻³⁵ there
/// (`ln_of_f32_series_is_within_its_stated_error`).
const LN_OF_F32_SERIES: [f64; 4] = [
    f64::from_bits(0x3fd5_5555_3f97_b525),
    f64::from_bits(0xbfcf_fffc_1625_52f8),
    f64::from_bits(0x3fc9_9e90_e5dd_d15b),
    f64::from_bits(0xbfc5_7545_83d4_6ccc),
];

/// Natural logarithm of lanes that hold f32 values (widened exactly), to be rounded to f32
/// once: the table route of [`ln`] without the terms only an f64 result needs. The same
/// reduction and table (`1/c` and the high part of `ln c`, whose error is below 2⁻⁴³), `r =
/// m'·(1/c) − 1` exactly, and a series of degree 6; the f64 result is
/// within 2⁻³⁴ of `ln x` relative, so the f32 result is within 0.5 + 2⁻⁹ f32 ULP; measured,
/// 0.50028 at most over every positive f32 (`examples/ulp_sweep.rs --function ln_f32`;
/// `tests/math_accuracy.rs` checks every 1021st against 0.5 + 2⁻¹²). Every positive f32,
/// subnormals included, is a normal f64, so no lane needs the guarded path below the normal
/// range; ±0 → −∞, negatives → NaN, +∞ → +∞, NaN → NaN.
#[inline(always)]
pub fn ln_of_f32<L: Lanes>(x: L) -> L {
    let carried = fold_carry(x);
    let (k, m, index) = ln_table_reduce(carried, Exponent::Normal);
    let inverse_center = index.lookup(LookupTable::LnInverseCenter);
    let log_center_high = index.lookup(LookupTable::LnLogCenterHigh);
    let r = m.fma(inverse_center, L::splat(-1.0));
    let w = k.fma(L::splat(std::f64::consts::LN_2), log_center_high);
    let mut series = L::splat(LN_OF_F32_SERIES[3]);
    for &coefficient in LN_OF_F32_SERIES[..3].iter().rev() {
        series = series.fma(r, L::splat(coefficient));
    }
    let q = r.fma(series, L::splat(-0.5));
    let fast = w.add(r.mul(r).fma(q, r));
    // Every positive finite f32 is a normal f64 that the table route serves; `ln`'s one
    // comparison finds the rest (zeros, negatives, +∞, NaN), which are rare.
    L::if_any::<LnOfF32Special>(outside_the_table_route(carried), x, fast)
}

/// The lanes of [`ln_of_f32`] outside the table route: ±0 → −∞, negatives → NaN, +∞ and NaN
/// → `x + x` (+∞ and a quiet NaN).
struct LnOfF32Special;
impl GuardedPath for LnOfF32Special {
    #[inline(always)]
    fn run<L: Lanes>(x: L) -> L {
        let zero = L::splat(0.0);
        let below = L::select(x.equal(zero), L::splat(f64::NEG_INFINITY), L::splat(f64::NAN));
        L::select(x.less(L::splat(f64::INFINITY)), below, x.add(x))
    }
}

/// `1/3` as f64 and the rest of it: `pow`'s `ln` keeps `r/3` exact.
const THIRD_HIGH: f64 = 1.0 / 3.0;
const THIRD_LOW: f64 = 1.850_371_707_708_594e-17;
/// `ln(1 + r) = r + r²·q`, `q = −1/2 + r/3 + r²·P(r)`: the Taylor coefficients of `P`,
/// `(−1)^(i+1)/(i + 4)` for `r^i`, i = 0..=9. For `|r| ≤ 35/1024` the first term left out,
/// `r¹²/14`, is below 2⁻⁶² (of `q`, which is about 1/2).
const LN_TAYLOR_TAIL: [f64; 10] = [
    -1.0 / 4.0,
    1.0 / 5.0,
    -1.0 / 6.0,
    1.0 / 7.0,
    -1.0 / 8.0,
    1.0 / 9.0,
    -1.0 / 10.0,
    1.0 / 11.0,
    -1.0 / 12.0,
    1.0 / 13.0,
];

/// `ln x` of a positive finite `x` (subnormals and the largest values included; other lanes
/// get garbage, never a fault) as a double-double good to about 2⁻⁷⁰ absolute and 2⁻⁶⁴
/// relative: what `pow` needs, whose `y·ln x` may reach 745 with `|y|` up to 10⁵. [`ln`]'s
/// table route (the guarded region's reduction, for every lane), with every step that rounds
/// kept: `w + r` by TwoSum, `k·ln2_low + (ln c)_low` by TwoSum, `r²` exactly, and
/// `q = −1/2 + r/3 + r²·P(r)` as a double-double (`r/3` exact by one FMA), `r²·q` by a
/// double-double product. No division.
#[inline(always)]
pub(crate) fn ln_dd_table<L: Lanes>(x: L) -> Dd<L> {
    let (carried, exponent) = guarded_reduction(x);
    let (k, m, index) = ln_table_reduce(carried, exponent);
    let inverse_center = index.lookup(LookupTable::LnInverseCenter);
    let log_center_high = index.lookup(LookupTable::LnLogCenterHigh);
    let log_center_low = index.lookup(LookupTable::LnLogCenterLow);
    let r = m.fma(inverse_center, L::splat(-1.0));
    let w = k.fma(L::splat(LN2_HI), log_center_high);

    let mut tail = L::splat(LN_TAYLOR_TAIL[9]);
    for &coefficient in LN_TAYLOR_TAIL[..9].iter().rev() {
        tail = tail.fma(r, L::splat(coefficient));
    }
    let third = r.mul(L::splat(THIRD_HIGH));
    let third_error = r.fma(L::splat(THIRD_HIGH), L::splat(0.0).sub(third));
    let rest = r.fma(L::splat(THIRD_LOW), r.mul(r).mul(tail));
    // −1/2 + r/3 by Fast2Sum (|r/3| < 1/2), the small terms in the low part.
    let q_high = L::splat(-0.5).add(third);
    let q_low = L::splat(-0.5).sub(q_high).add(third).add(third_error.add(rest));
    let series = dd::mul_dd(dd::mul2(r, r), Dd { hi: q_high, lo: q_low });

    let head = dd::add2(w, r);
    let head = dd::add_d2(head, k.fma(L::splat(LN2_LO), log_center_low));
    dd::add_dd2(head, series)
}

/// `e^z` of a double-double `z` by [`exp_of_moderate`]'s table route over the whole range:
/// `z` clamped to `[−780, 720]` (beyond it the result is 0 or +∞ anyway), `r = z − N·ln2/16`
/// with `z`'s low part and its own rounding error kept, and `2^m` applied as two
/// power-of-two factors ([`scale_by_power_of_two`]), so that results near overflow and in
/// the subnormal range round as `exp`'s guarded route does. NaN → NaN.
#[inline(always)]
pub(crate) fn exp_of_dd_table<L: Lanes>(z: Dd<L>) -> L {
    let (low, high) = (L::splat(-780.0), L::splat(720.0));
    let zero = L::splat(0.0);
    let hi = L::select(z.hi.less(low), low, L::select(z.hi.greater(high), high, z.hi));
    let lo = L::select(z.hi.less(low), zero, L::select(z.hi.greater(high), zero, z.lo));
    let shifted = hi.fma(L::splat(SIXTEEN_OVER_LN2), L::splat(ROUND_MAGIC));
    let n = shifted.sub(L::splat(ROUND_MAGIC));
    let r_high = n.fma(L::splat(-LN2_HI / 16.0), hi);
    let reduced = dd::add2(r_high, n.fma(L::splat(-LN2_LO / 16.0), lo));
    let (r, c) = (reduced.hi, reduced.lo);
    let mut q = L::splat(EXP_TAYLOR[5]);
    for &coefficient in EXP_TAYLOR[..5].iter().rev() {
        q = q.fma(r, L::splat(coefficient));
    }
    let p = r.mul(r).fma(q, r);
    let power_high = shifted.lookup(LookupTable::ExpPowerHigh);
    let power_low = shifted.lookup(LookupTable::ExpPowerLow);
    let s = power_high.add(power_high.fma(p.add(c), power_low));
    // m = floor(N/16): N/16 − 15/32 is exact and within 15/32 of it.
    let magic = L::splat(ROUND_MAGIC);
    let m = n.fma(L::splat(1.0 / 16.0), L::splat(-15.0 / 32.0)).add(magic).sub(magic);
    scale_by_power_of_two(s, m)
}

/// `e^x = 2^k·(1 + p)` for `x` clamped to `[EXP_LOW, high]` (`high` at most 711, where `k`
/// is still within what [`scale_by_power_of_two`] carries): `k` integral and `p = e^r − 1`
/// for `|r| ≤ ln2/2`, as a normalised double-double accurate relative to `p` itself: the
/// polynomial's error is about 2⁻⁵³ of its term `≈ r²/2`. (`sinh` and `cosh` near overflow.)
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
///
/// Lanes with `|x| ≤ EXP_TABLE_LIMIT` take the table route ([`exp_of_moderate`]); the others
/// (results near overflow or below the normal range, ±∞, NaN) are recomputed by
/// [`exp_of_any`] in a guarded region that only runs when some lane of the vector needs it.
#[inline(always)]
pub fn exp<L: Lanes>(x: L) -> L {
    let fast = exp_of_moderate(x);
    let magnitude = x.and_bits(L::splat(f64::from_bits(0x7fff_ffff_ffff_ffff)));
    // `!(EXP_TABLE_LIMIT ≥ |x|)`: beyond the limit, or NaN, in one comparison.
    let special = L::splat(EXP_TABLE_LIMIT).below_or_unordered(magnitude);
    L::if_any::<ExpOfAny>(special, x, fast)
}

/// Above this magnitude `exp` leaves the table route: within it, `2^m` for the route's
/// `m = floor(N/16)` (`|m| ≤ 1016`) is normal and `s·2^m` is normal and exact.
pub(crate) const EXP_TABLE_LIMIT: f64 = 704.0;
/// 16/ln 2, the scale of the table route's `N = round(x·16/ln2)`.
const SIXTEEN_OVER_LN2: f64 = 16.0 * std::f64::consts::LOG2_E;

/// `e^x` for lanes with `|x| ≤ EXP_TABLE_LIMIT` (other lanes get garbage, never a fault).
///
/// `N = round(x·16/ln2)` (by the 1.5·2⁵² trick, its low four bits the table index
/// `j = N mod 16`), `m = floor(N/16)`, and `e^x = 2^m · 2^(j/16) · e^r` with
/// `r = x − N·ln2/16`, `|r| ≤ ln2/32 + 2⁻²²`:
/// - `x − N·LN2_HI/16` is exact (`N·LN2_HI/16` is a multiple of 2⁻³⁶ of at most 46 bits, and
///   the difference is a multiple of `ulp(x)` below 2⁻⁵·⁵, or `x` itself when `N = 0`);
///   `r` subtracts `N·LN2_LO/16` with one rounding;
/// - `e^r − 1 = r + r²·q(r)`, `q` the Taylor polynomial to `r⁵/7!` (tail below 2⁻⁵⁹);
/// - `2^(j/16) = T_high + T_low` from the table, and `s = T_high + (T_high·p + T_low)`
///   rounds once at the end (the terms dropped or rounded before it are each below 2⁻⁵⁸
///   relative);
/// - `2^m` is built from its bits and `s·2^m` is exact (`s ∈ [2^(−1/32), 2^(31/32))`).
#[inline(always)]
fn exp_of_moderate<L: Lanes>(x: L) -> L {
    let shifted = x.fma(L::splat(SIXTEEN_OVER_LN2), L::splat(ROUND_MAGIC));
    let n = shifted.sub(L::splat(ROUND_MAGIC));
    let r_high = n.fma(L::splat(-LN2_HI / 16.0), x);
    let r = n.fma(L::splat(-LN2_LO / 16.0), r_high);
    let mut q = L::splat(EXP_TAYLOR[5]);
    for &coefficient in EXP_TAYLOR[..5].iter().rev() {
        q = q.fma(r, L::splat(coefficient));
    }
    let p = r.mul(r).fma(q, r);
    let power_high = shifted.lookup(LookupTable::ExpPowerHigh);
    let power_low = shifted.lookup(LookupTable::ExpPowerLow);
    let s = power_high.add(power_high.fma(p, power_low));
    // m + 1023 is 1..=2046 here.
    s.mul(power_of_two_of_table_exponent(n))
}

/// `2^m` for the table route's `N = 16·m + j` (`n`, a float), from the bits: `N/16 − 15/32`
/// is exact and within 15/32 of m; rounded by adding 1.5·2⁵² + 1023, it leaves m + 1023 in
/// the low bits, which the shift makes the exponent. Valid while `m + 1023` is in 1..=2046.
#[inline(always)]
fn power_of_two_of_table_exponent<L: Lanes>(n: L) -> L {
    let biased = n.fma(L::splat(1.0 / 16.0), L::splat(-15.0 / 32.0)).add(L::splat(ROUND_MAGIC + 1023.0));
    biased.shift_left_52()
}

/// `e^x − 1` for lanes with `−45 ≤ x ≤ 709.78` (where `m + 1023` is 958 to 2046) by
/// [`exp_of_moderate`]'s table route; other lanes get garbage, never a fault (`expm1` takes
/// `exp`'s wide route beyond `EXP_TABLE_LIMIT` and −1 below −45; `sinh` and `cosh` their
/// `e^|x|/2` beyond 709). `e^x − 1 =
/// 2^m·(T_high + T_low)·(1 + p) − 1` with every part that can cancel kept exactly:
/// - `r = x − N·ln2/16` as `r + c` (TwoSum of the exact `x − N·ln2_high/16` and the rounded
///   `−N·ln2_low/16`, whose own error is below 2⁻⁷⁵);
/// - `p = e^r − 1 = r + r²·q` as `p_high + p_low` (Fast2Sum: `|r²·q| < |r|`), `q` the Taylor
///   polynomial to `r⁶/8!` (tail below 2⁻⁵⁸ of `p`);
/// - `A = 2^m·T_high` (exact), `A − 1` and `A·p_high` each as exact double-doubles, their
///   high parts summed by TwoSum;
/// - the rest — `A·(p_low + c)`, `2^m·T_low·(1 + p_high)` and the three rounding errors — is
///   small beside the result and rounds once into it.
///
/// Near 0 (`N = 0`: `A = 1`, `r = x`) this is `r + r²·q` rounded once, accurate relative to
/// itself however small `x` is.
#[inline(always)]
pub(crate) fn exp_minus_one_moderate<L: Lanes>(x: L) -> L {
    exp_minus_one_moderate_dd(x).value()
}

/// [`exp_minus_one_moderate`] before its last rounding: `hi + lo` with `|lo|` about an ULP
/// of `hi` at most, good to about 2⁻⁵⁸ relative (`sinh`, `cosh` and `tanh` build on it).
#[inline(always)]
pub(crate) fn exp_minus_one_moderate_dd<L: Lanes>(x: L) -> Dd<L> {
    let shifted = x.fma(L::splat(SIXTEEN_OVER_LN2), L::splat(ROUND_MAGIC));
    let n = shifted.sub(L::splat(ROUND_MAGIC));
    let r_high = n.fma(L::splat(-LN2_HI / 16.0), x);
    let reduced = dd::add2(r_high, n.mul(L::splat(-LN2_LO / 16.0)));
    let (r, c) = (reduced.hi, reduced.lo);
    let mut q = L::splat(EXP_TAYLOR[6]);
    for &coefficient in EXP_TAYLOR[..6].iter().rev() {
        q = q.fma(r, L::splat(coefficient));
    }
    let t = r.mul(r).mul(q);
    let p_high = r.add(t);
    let p_low = r.sub(p_high).add(t);
    // m + 1023 is 958..=2046 here.
    let scale = power_of_two_of_table_exponent(n);
    let a = shifted.lookup(LookupTable::ExpPowerHigh).mul(scale);
    let a_low = shifted.lookup(LookupTable::ExpPowerLow).mul(scale);
    let less_one = dd::add2(a, L::splat(-1.0));
    let product = dd::mul2(a, p_high);
    let head = dd::add2(less_one.hi, product.hi);
    let errors = product.lo.add(less_one.lo).add(head.lo);
    let rest = a.fma(p_low.add(c), a_low.fma(p_high, a_low)).add(errors);
    Dd { hi: head.hi, lo: rest }
}

/// `e^x` of lanes that hold f32 values (widened exactly), to be rounded to f32 once: the
/// table route of [`exp_of_moderate`] without the terms only an f64 result needs. `x` is
/// first clamped to `[−110, 100]`, which changes no f32 result (`e^100` is above `f32::MAX`,
/// `e^−110` below half the smallest f32 subnormal) and keeps every lane on the table route
/// (`|m| ≤ 159`), so no guarded path runs. Then `r = x − N·ln2/16` in one FMA with `ln2/16`
/// rounded (2⁻⁴⁷ off for `|N| ≤ 2539`), `e^r − 1` by its Taylor polynomial of degree 4
/// (2⁻³⁴·⁵ off for `|r| ≤ ln2/32`), `2^(j/16)` from the high table only (2⁻⁵³), one FMA for
/// `s` and the exact `2^m`: within 2⁻³⁴ relative, so the f32 result is within 0.5 + 2⁻⁹ f32
/// ULP. NaN → NaN, +∞ → +∞, −∞ → 0.
#[inline(always)]
pub fn exp_of_f32<L: Lanes>(x: L) -> L {
    let (high, low) = (L::splat(100.0), L::splat(-110.0));
    let clamped = L::select(x.greater(high), high, x);
    let clamped = L::select(clamped.less(low), low, clamped);
    let shifted = clamped.fma(L::splat(SIXTEEN_OVER_LN2), L::splat(ROUND_MAGIC));
    let n = shifted.sub(L::splat(ROUND_MAGIC));
    let r = n.fma(L::splat(-std::f64::consts::LN_2 / 16.0), clamped);
    let q = L::splat(EXP_TAYLOR[2]).fma(r, L::splat(EXP_TAYLOR[1])).fma(r, L::splat(EXP_TAYLOR[0]));
    let p = r.mul(r).fma(q, r);
    let power = shifted.lookup(LookupTable::ExpPowerHigh);
    let s = power.fma(p, power);
    // m + 1023 is 864..=1167 here.
    let result = s.mul(power_of_two_of_table_exponent(n));
    L::select(x.is_nan(), x.add(x), result)
}

/// `2^(j/16)` split into two doubles, both correctly rounded (computed with 200-bit decimal
/// arithmetic; `exp_table_matches_its_definition` checks them against the double-double
/// reference).
pub(crate) const EXP_TABLE: SplitTable = SplitTable {
    high: bits_to_f64s([
        0x3ff0000000000000,
        0x3ff0b5586cf9890f,
        0x3ff172b83c7d517b,
        0x3ff2387a6e756238,
        0x3ff306fe0a31b715,
        0x3ff3dea64c123422,
        0x3ff4bfdad5362a27,
        0x3ff5ab07dd485429,
        0x3ff6a09e667f3bcd,
        0x3ff7a11473eb0187,
        0x3ff8ace5422aa0db,
        0x3ff9c49182a3f090,
        0x3ffae89f995ad3ad,
        0x3ffc199bdd85529c,
        0x3ffd5818dcfba487,
        0x3ffea4afa2a490da,
    ]),
    low: bits_to_f64s([
        0x0000000000000000,
        0x3c98a62e4adc610b,
        0xbc819041b9d78a76,
        0x3c99b07eb6c70573,
        0x3c86f46ad23182e4,
        0x3c8ada0911f09ebc,
        0x3c7d4397afec42e2,
        0x3c96324c054647ad,
        0xbc9bdd3413b26456,
        0xbc841577ee04992f,
        0x3c96e9f156864b27,
        0x3c7c7c46b071f2be,
        0x3c97a1cd345dcc81,
        0x3c811065895048dd,
        0x3c82ed02d75b3707,
        0xbc9e9c23179c2893,
    ]),
};

/// e raised to every lane by the wide-range route: `k = round(x/ln2)`, `|r| ≤ ln2/2`, a
/// degree-14 polynomial, and `2^k` applied in two steps so that results near overflow and
/// in the subnormal range round once. The guarded path of [`exp`].
struct ExpOfAny;
impl GuardedPath for ExpOfAny {
    #[inline(always)]
    fn run<L: Lanes>(x: L) -> L {
        // NaN: `x + x`, a quiet NaN.
        L::select(x.is_nan(), x.add(x), exp_of_any(x))
    }
}

#[inline(always)]
pub(crate) fn exp_of_any<L: Lanes>(x: L) -> L {
    let ExpReduction { k, r, c, q } = exp_reduce(x, EXP_HIGH);
    // exp(r) + c = 1 + r + (r²·q + c). 1 + r is split exactly (Fast2Sum: |r| < 1), so the
    // only rounding of consequence is the last addition.
    let t = r.mul(r).fma(q, c);
    let one = L::splat(1.0);
    let sum = one.add(r);
    let error = one.sub(sum).add(r);
    let p = sum.add(error.add(t));
    scale_by_power_of_two(p, k)
}

/// What `exp` and [`exp_parts_up_to`] share, for `x` clamped to `[EXP_LOW, high]`:
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::reference;

    /// Entry `j`'s `1/c`: 1 for entry 0; else the multiple of 1/64 that keeps the largest
    /// `|r| = |m'·(1/c) − 1|` over the entry's mantissas smallest, among those for which `r`
    /// is exact for every such `m'` (see `ln_table_keeps_r_small_and_r_exact`: below 2⁻⁵ for
    /// an odd multiple, 2⁻⁴ for an odd multiple of 1/32, …), the smaller one on a tie.
    fn inverse_center_of_entry(j: usize) -> f64 {
        if j == 0 {
            return 1.0;
        }
        let (low_end, high_end) = entry_interval(j);
        let mut best: Option<(f64, f64)> = None;
        for numerator in 32u32..=128 {
            let inverse = f64::from(numerator) / 64.0;
            let largest = [low_end, high_end]
                .map(|end| end.mul_add(inverse, -1.0).abs())
                .into_iter()
                .fold(0.0, f64::max);
            let limit = 2f64.powi(numerator.trailing_zeros() as i32 - 5);
            if largest < limit && best.is_none_or(|(smallest, _)| largest < smallest) {
                best = Some((largest, inverse));
            }
        }
        best.expect("some multiple of 1/64 serves every entry").1
    }

    /// The ends of entry `j`'s interval of mantissas `m'`: `c ± 1/32` with `c = 1 + j/16`,
    /// from `1 − 1/64` for entry 0, below `LN_FOLD` for the last (ties at an interval's ends
    /// may index either neighbour).
    fn entry_interval(j: usize) -> (f64, f64) {
        let center = 1.0 + j as f64 / 16.0;
        let low_end = if j == 0 { 1.0 - 1.0 / 64.0 } else { center - 1.0 / 32.0 };
        // `m' < LN_FOLD`: the last entry's interval ends just below it.
        let high_end = (center + 1.0 / 32.0).min(f64::from_bits(LN_FOLD.to_bits() - 1));
        (low_end, high_end)
    }

    /// `LN_TABLE` from its definition: `1/c` by `inverse_center_of_entry`, `−ln(1/c)` from the
    /// double-double reference split at 2⁻⁴². On a mismatch it prints the table to paste.
    #[test]
    fn ln_table_matches_its_definition() {
        let mut inverse_center = [0u64; 16];
        let mut log_center_high = [0u64; 16];
        let mut log_center_low = [0u64; 16];
        for j in 0..16 {
            let inverse = inverse_center_of_entry(j);
            let log_center = reference::ln(inverse).negated();
            let scale = (1u64 << 42) as f64;
            // `+ 0.0`: entry 0's −ln(1) is −0 from the negation; the table stores +0.
            let high = (log_center.hi * scale).round() / scale + 0.0;
            let low = (log_center.hi - high) + log_center.lo + 0.0;
            inverse_center[j] = inverse.to_bits();
            log_center_high[j] = high.to_bits();
            log_center_low[j] = low.to_bits();
        }
        let table = |values: &[f64; 16]| values.map(f64::to_bits);
        let generated = [inverse_center, log_center_high, log_center_low];
        let stored = [
            table(&LN_TABLE.inverse_center),
            table(&LN_TABLE.log_center_high),
            table(&LN_TABLE.log_center_low),
        ];
        assert_eq!(
            stored,
            generated,
            "regenerated LN_TABLE:\n{}",
            generated.map(|column| column.map(|bits| format!("{bits:#018x}")).join(", ")).join("\n")
        );
        assert_eq!(LN_TABLE.inverse_center[0], 1.0);
        assert_eq!((LN_TABLE.log_center_high[0], LN_TABLE.log_center_low[0]), (0.0, 0.0));
    }

    /// `LOG2_TABLE` and `LOG10_TABLE` from their definition: `−ln(1/c)·log_b e` from the
    /// double-double reference (`1/c` from `LN_TABLE`), split at 2⁻⁴² as `LN_TABLE`'s.
    #[test]
    fn log_base_tables_match_their_definition() {
        let log2_e = reference::DoubleDouble { hi: std::f64::consts::LOG2_E, lo: Base2::E_LOW };
        let log10_e = reference::DoubleDouble { hi: std::f64::consts::LOG10_E, lo: Base10::E_LOW };
        for (name, log_e, table) in
            [("LOG2_TABLE", log2_e, &LOG2_TABLE), ("LOG10_TABLE", log10_e, &LOG10_TABLE)]
        {
            let mut high = [0u64; 16];
            let mut low = [0u64; 16];
            for j in 0..16 {
                let log_center = reference::ln(LN_TABLE.inverse_center[j]).negated().times(log_e);
                let scale = (1u64 << 42) as f64;
                let rounded = (log_center.hi * scale).round() / scale + 0.0;
                high[j] = rounded.to_bits();
                low[j] = ((log_center.hi - rounded) + log_center.lo + 0.0).to_bits();
            }
            let stored = [table.high.map(f64::to_bits), table.low.map(f64::to_bits)];
            assert_eq!(
                stored,
                [high, low],
                "regenerated {name}:\n{}",
                [high, low].map(|column| column.map(|bits| format!("{bits:#018x}")).join(", ")).join("\n")
            );
        }
    }

    /// The constants `log_base_of_positive_normal`'s exactness and accuracy rest on: each
    /// `log_b 2` split with a high part of 21 significant bits whose products with every
    /// exponent are exact, and `log_b e`'s parts, against the double-double reference.
    #[test]
    fn log_base_constants_split_exactly() {
        let ln2 = reference::ln(2.0);
        let ln10 = reference::ln(10.0);
        let one = reference::DoubleDouble::from(1.0);
        // log10 2 = ln 2 / ln 10 and log_b e = 1 / ln b, to about 2⁻¹⁰⁰.
        let log10_2 = ln2.over(ln10);
        assert_eq!(Base10::EXPONENT_HIGH.to_bits() & 0xffff_ffff, 0);
        let rest = log10_2.minus(reference::DoubleDouble::from(Base10::EXPONENT_HIGH));
        assert_eq!(Base10::EXPONENT_LOW, rest.hi + rest.lo, "LOG10_2_LOW: {:e}", rest.hi + rest.lo);
        for (base, e_high, e_low) in
            [(ln2, Base2::E_HIGH, Base2::E_LOW), (ln10, Base10::E_HIGH, Base10::E_LOW)]
        {
            // The reference's quotient is good to about 2⁻¹⁰⁴ relative: the low part to a
            // few units of its last place.
            let log_e = one.over(base);
            assert_eq!(log_e.hi, e_high);
            assert!((log_e.lo - e_low).abs() <= e_high * 2f64.powi(-100), "{e_low:e}: {:e}", log_e.lo);
        }
        // Every exponent the kernel meets (subnormals scaled by 2⁵⁴ included) times the high
        // parts is exact, and so is its sum with any table entry.
        for k in -1076i32..=1024 {
            let k = f64::from(k);
            for (high, table) in [(Base2::EXPONENT_HIGH, &LOG2_TABLE), (Base10::EXPONENT_HIGH, &LOG10_TABLE)]
            {
                for &center in &table.high {
                    let w = k.mul_add(high, center);
                    let exact = reference::DoubleDouble::from(k)
                        .times(reference::DoubleDouble::from(high))
                        .plus(reference::DoubleDouble::from(center));
                    assert_eq!((w, 0.0), (exact.hi, exact.lo), "k = {k}");
                }
            }
        }
    }

    /// The preconditions `ln_of_positive_normal`'s exactness rests on, entry by entry, at the
    /// ends of each entry's interval of `m'` (`|r|` is largest at an end).
    #[test]
    fn ln_table_keeps_r_small_and_r_exact() {
        for j in 0..16 {
            let inverse = LN_TABLE.inverse_center[j];
            let (low_end, high_end) = entry_interval(j);
            // The index the kernel computes at both ends of the interval is j or a neighbour.
            for end in [low_end, high_end] {
                let index = end.mul_add(16.0, ROUND_MAGIC - 16.0).to_bits() & 15;
                assert!(index.abs_diff(j as u64) <= 1, "entry {j}: end {end} indexes {index}");
                let r = end.mul_add(inverse, -1.0);
                assert!(r.abs() <= 35.0 / 1024.0, "entry {j}: |r| = {r} at {end}");
                // r exact: `m'·(1/c) − 1 = N·2⁻⁵⁸` (m' a multiple of 2⁻⁵², 1/c of 2⁻⁶) and N
                // fits 53 bits once its trailing zeros go. Entry 0 (1/c = 1): `m' − 1`, exact.
                if j > 0 {
                    let mantissa = i128::from(end.to_bits() & 0x000f_ffff_ffff_ffff | 1 << 52);
                    let numerator = (inverse * 64.0) as i128;
                    assert_eq!((inverse * 64.0).fract(), 0.0, "entry {j}: 1/c = {inverse}");
                    let exact = mantissa * numerator - (1i128 << 58);
                    let odd = exact >> exact.trailing_zeros().min(127);
                    assert!(odd.unsigned_abs() < 1 << 53, "entry {j}: r inexact at {end}");
                    assert_eq!(r, exact as f64 / 2f64.powi(58), "entry {j} at {end}");
                }
                // Fast2Sum of w + r: |w| ≥ |r| for k = 0 (w = ln c) and k = −1 (w = ln c − ln 2),
                // or w = 0 (entry 0, k = 0).
                let r = r.abs();
                let log_center = LN_TABLE.log_center_high[j];
                assert!(j == 0 || log_center.abs() >= r, "entry {j}, k = 0");
                assert!((log_center - LN2_HI).abs() >= r, "entry {j}, k = -1");
            }
            // k·LN2_HI + ln c_high exact for every exponent: ln c_high is a multiple of 2⁻⁴².
            let scaled = LN_TABLE.log_center_high[j] * (1u64 << 42) as f64;
            assert_eq!(scaled, scaled.round(), "entry {j}");
            for k in [-1074.0, -1.0, 1.0, 1023.0] {
                let w = f64::mul_add(k, LN2_HI, LN_TABLE.log_center_high[j]);
                assert_eq!(w - k * LN2_HI, LN_TABLE.log_center_high[j], "entry {j}, k = {k}");
            }
        }
    }

    #[test]
    fn ln_reduction_splits_every_positive_normal_into_exponent_and_folded_mantissa() {
        // `x = 2^k·m'` exactly with `m'` in `[LN_FOLD / 2, LN_FOLD)`, for mantissas at and
        // around the fold and both ends of the binade, in every binade; and the subnormal
        // route's bias: a subnormal scaled by 2⁵⁴ reduces to its own `k` and `m'`.
        let fold_bits = LN_FOLD.to_bits() & 0x000f_ffff_ffff_ffff;
        let mantissas =
            [0, 1, 2, fold_bits - 2, fold_bits - 1, fold_bits, fold_bits + 1, (1 << 52) - 1, 1 << 51];
        let low = LN_FOLD / 2.0;
        for exponent in 1..=2046u64 {
            for mantissa in mantissas {
                let x = f64::from_bits(exponent << 52 | mantissa);
                let (k, m, index) = ln_table_reduce(fold_carry(x), Exponent::FieldLess(TWO_POW_52 + 1023.0));
                assert!((low..LN_FOLD).contains(&m), "{x:e}: m' = {m}");
                let folded = mantissa >= fold_bits;
                assert_eq!(k, exponent as f64 - 1023.0 + f64::from(u8::from(folded)), "{x:e}");
                // 2^k·m' rebuilt in two exact steps (2^k alone may overflow or underflow).
                assert_eq!(m * 2f64.powi(k as i32 / 2) * 2f64.powi(k as i32 - k as i32 / 2), x, "{x:e}");
                assert_eq!(index.to_bits() & 15, (m.mul_add(16.0, -16.0)).round() as u64 & 15, "{x:e}");
            }
        }
        for bits in [1u64, 2, 3, 1 << 20, (1 << 52) - 1, 0x000f_8000_0000_0000] {
            let subnormal = f64::from_bits(bits);
            let scaled = fold_carry(subnormal * TWO_POW_54);
            let (k, m, _) = ln_table_reduce(scaled, Exponent::FieldLess(TWO_POW_52 + 1023.0 + 54.0));
            let (k_scaled, m_scaled, _) = ln_table_reduce(scaled, Exponent::FieldLess(TWO_POW_52 + 1023.0));
            assert_eq!((k, m), (k_scaled - 54.0, m_scaled), "{subnormal:e}");
            assert!((low..LN_FOLD).contains(&m) && k < -1021.0, "{subnormal:e}: {k} {m}");
        }
    }

    /// `Σ_{n=first}^{32} (−1)^(n+1)·r^(n−first)/n` in double-double: `ln(1 + r)`'s Taylor series
    /// from its term of degree `first`, divided by `r^first` (the terms it leaves out
    /// are below 2⁻¹⁵⁰ of it for `|r| ≤ 1/32`).
    fn log_series_from(
        first: u32,
        r: crate::math::reference::DoubleDouble,
    ) -> crate::math::reference::DoubleDouble {
        use crate::math::reference::DoubleDouble;
        let mut series = DoubleDouble::from(0.0);
        for n in (first..=32).rev() {
            let sign = if n % 2 == 1 { 1.0 } else { -1.0 };
            series = series.times(r).plus(DoubleDouble::from(sign).over(DoubleDouble::from(f64::from(n))));
        }
        series
    }

    /// `LN_SERIES` is as good as its comment says: against `P(r) = Σ_{n≥3} (−1)^(n+1)·
    /// r^(n−3)/n` (30 terms in double-double: the tail is far below 2⁻¹⁰⁰ for |r| ≤ 1/32),
    /// the polynomial with its f64 coefficients, also evaluated in double-double, is within
    /// 2⁻⁴⁸ relative on 4001 points of `[−35/1024, 1/32]`. A mistyped coefficient fails it.
    #[test]
    fn ln_series_is_within_its_stated_error() {
        use crate::math::reference::DoubleDouble;
        let mut worst = 0.0f64;
        for step in 0..=4000 {
            let r = -35.0 / 1024.0 + (1.0 / 32.0 + 35.0 / 1024.0) * (f64::from(step) / 4000.0);
            let r_dd = DoubleDouble::from(r);
            let truth = log_series_from(3, r_dd);
            let mut polynomial = DoubleDouble::from(0.0);
            for &coefficient in LN_SERIES.iter().rev() {
                polynomial = polynomial.times(r_dd).plus(DoubleDouble::from(coefficient));
            }
            worst = worst.max((polynomial.minus(truth).hi / truth.hi).abs());
        }
        assert!(worst < 2f64.powi(-48), "worst relative error 2^{:.2}", worst.log2());
        assert!(worst > 0.0, "the polynomial is not the series: its error shows");
    }

    /// The f32 kernel's series: `r + r²·(−1/2 + r·P(r))` against `ln(1 + r)` (its Taylor
    /// series in double-double), relative, over the reduced range.
    #[test]
    fn ln_of_f32_series_is_within_its_stated_error() {
        use crate::math::reference::DoubleDouble;
        let mut worst = 0.0f64;
        for step in 0..=4000 {
            let r = -35.0 / 1024.0 + (1.0 / 32.0 + 35.0 / 1024.0) * (f64::from(step) / 4000.0);
            if r == 0.0 {
                continue;
            }
            let r_dd = DoubleDouble::from(r);
            let truth = log_series_from(1, r_dd).times(r_dd);
            let mut polynomial = DoubleDouble::from(0.0);
            for &coefficient in LN_OF_F32_SERIES.iter().rev() {
                polynomial = polynomial.times(r_dd).plus(DoubleDouble::from(coefficient));
            }
            let approximation =
                r_dd.plus(r_dd.times(r_dd).times(DoubleDouble::from(-0.5).plus(r_dd.times(polynomial))));
            worst = worst.max((approximation.minus(truth).hi / truth.hi).abs());
        }
        assert!(worst < 2f64.powi(-35), "worst relative error 2^{:.2}", worst.log2());
        assert!(worst > 2f64.powi(-40), "the polynomial is not the series: its error shows");
    }

    /// Values the new `ln` must get exactly (correctly rounded by construction or by
    /// definition) on the scalar tier: every tier returns the same bits (the tier tests).
    #[test]
    fn ln_exact_cases_and_specials() {
        assert_eq!(ln(1.0f64).to_bits(), 0.0f64.to_bits());
        assert_eq!(ln(std::f64::consts::E), 1.0);
        assert_eq!(ln(2.0f64), std::f64::consts::LN_2);
        assert_eq!(ln(0.0f64), f64::NEG_INFINITY);
        assert_eq!(ln(-0.0f64), f64::NEG_INFINITY);
        assert!(ln(-1.0f64).is_nan());
        assert!(ln(f64::NEG_INFINITY).is_nan());
        assert!(ln(f64::NAN).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert_eq!(ln(f64::MIN_POSITIVE), -708.3964185322641);
        assert_eq!(ln(f64::from_bits(1)), -744.4400719213812);
        assert_eq!(ln(f64::MAX), 709.782712893384);
        // Next to 1: ln(1 + d) = d − d²/2 rounds to d − d²/2 for tiny d.
        let d = 2f64.powi(-30);
        assert_eq!(ln(1.0 + d), d - d * d / 2.0);
        assert_eq!(ln(1.0 - d), -d - d * d / 2.0);
    }

    /// `EXP_TABLE` is `2^(j/16)` split: the high part correctly rounded and the two parts
    /// within 2⁻¹⁰² of the reference (relative); entry 0 exactly 1 and 0.
    #[test]
    fn exp_table_matches_its_definition() {
        use reference::DoubleDouble as D;
        for j in 0..16 {
            let truth = power_of_two_sixteenth(j);
            let (high, low) = (EXP_TABLE.high[j], EXP_TABLE.low[j]);
            assert_eq!(high, truth.hi + truth.lo, "entry {j}: the high part is 2^({j}/16) rounded");
            let rest = truth.minus(D::from(high)).minus(D::from(low));
            assert!(
                (rest.hi + rest.lo).abs() <= high * 2f64.powi(-102),
                "entry {j}: the parts are {:e} from 2^({j}/16)",
                rest.hi + rest.lo
            );
            assert!(low.abs() <= high * 2f64.powi(-53), "entry {j}: the low part is below half an ulp");
        }
        assert_eq!((EXP_TABLE.high[0], EXP_TABLE.low[0]), (1.0, 0.0));
    }

    /// The preconditions of `exp_of_moderate`'s exactness: over the whole table range
    /// (`|x| ≤ EXP_TABLE_LIMIT`) `N` stays within 2¹⁴ (so `N·LN2_HI/16` is exact), `m + 1023`
    /// within 1..=2046, `x − N·LN2_HI/16` is exact and `|r| ≤ ln2/32 + 2⁻²²`; and the
    /// index and `m` the kernel derives agree with `N`.
    #[test]
    fn exp_reduction_is_exact_over_the_table_range() {
        let mut samples: Vec<f64> = vec![0.0, -0.0, 1e-300, -1e-300, 0.0216, -0.0217, 1.0, -1.0];
        samples.extend([
            EXP_TABLE_LIMIT,
            -EXP_TABLE_LIMIT,
            703.99,
            -703.99,
            0.5 * std::f64::consts::LN_2 / 16.0,
        ]);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            // Uniform over the range, and log-uniform magnitudes down to 2⁻⁶⁰.
            samples.push((unit * 2.0 - 1.0) * EXP_TABLE_LIMIT);
            let magnitude = 2f64.powf(-60.0 + unit * 69.4);
            samples.push(if state & 1 == 0 { magnitude } else { -magnitude });
        }
        for x in samples {
            let shifted = x.mul_add(SIXTEEN_OVER_LN2, ROUND_MAGIC);
            let n = shifted - ROUND_MAGIC;
            assert!(n.abs() < 16384.0, "N = {n} for {x}");
            let product = n * (LN2_HI / 16.0);
            assert_eq!(n.mul_add(LN2_HI / 16.0, -product), 0.0, "N·LN2_HI/16 exact for {x}");
            let r_high = n.mul_add(-LN2_HI / 16.0, x);
            // Exact: TwoSum of x and −N·LN2_HI/16 has no rounding error, and its sum is r_high.
            let sum = x - product;
            let back = sum - x;
            let error = (x - (sum - back)) + (-product - back);
            assert_eq!((sum, error), (r_high, 0.0), "x − N·LN2_HI/16 exact for {x}");
            let r = n.mul_add(-LN2_LO / 16.0, r_high);
            assert!(r.abs() <= std::f64::consts::LN_2 / 32.0 + 2f64.powi(-22), "r = {r} for {x}");
            let m = (n / 16.0).floor();
            let biased = n.mul_add(1.0 / 16.0, -15.0 / 32.0) + (ROUND_MAGIC + 1023.0);
            assert_eq!(biased.to_bits() & 0xfff, (m + 1023.0) as u64, "m for {x}");
            assert!((1.0..=2046.0).contains(&(m + 1023.0)), "m = {m} for {x}");
            assert_eq!(shifted.to_bits() & 15, n.rem_euclid(16.0) as u64, "the index for {x}");
        }
    }

    /// `exp` at exact and special points, and where the two routes meet.
    #[test]
    fn exp_exact_cases_and_specials() {
        assert_eq!(exp(0.0f64), 1.0);
        assert_eq!(exp(-0.0f64), 1.0);
        assert_eq!(exp(1.0f64), std::f64::consts::E);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(1e-300f64), 1.0);
        assert_eq!(exp(-1e-300f64), 1.0);
        assert_eq!(exp(2f64.powi(-30)), 1.0 + 2f64.powi(-30));
        assert_eq!(exp(710.0f64), f64::INFINITY);
        assert_eq!(exp(-746.0f64), 0.0);
        // Either side of the table route's limit, within 1 ULP of the reference.
        for x in [703.5, 704.0, 704.5, -703.5, -704.0, -704.5, 709.7, -708.5, -745.0] {
            let error = reference::exp_ulp_error(x, exp(x));
            assert!(error <= 0.6, "exp({x}) is {error} ULP off");
        }
    }

    /// `2^(j/16)` as a double-double from the reference `ln`: one Newton step from the
    /// f64 `exp2`, `y·(1 + (j·ln2/16 − ln y))`, exact to far below 2⁻¹⁰⁰.
    fn power_of_two_sixteenth(j: usize) -> reference::DoubleDouble {
        use reference::DoubleDouble as D;
        let ln2 = reference::ln(2.0);
        let target = ln2.times(D::from(j as f64)).times(D::from(1.0 / 16.0));
        let y = (j as f64 / 16.0).exp2();
        let delta = target.minus(reference::ln(y));
        D::from(y).plus(D::from(y).times(delta))
    }
}
