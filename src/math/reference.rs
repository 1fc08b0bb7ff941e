//! A slow, high-precision reference for `ln` and `exp` in double-double arithmetic (~104
//! bits), the oracle the accuracy tests and `examples/ulp_sweep.rs` measure ULP errors
//! against. Written from the same series as the kernels but carried to far more terms, in
//! error-free arithmetic, so its error is below 2⁻⁹⁰ relative — negligible next to 1 ULP.

// Reached from outside the crate only through `internals`, which is not API.
#![allow(missing_docs)]

/// An unevaluated sum `hi + lo` with `|lo| <= ulp(hi)/2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoubleDouble {
    pub hi: f64,
    pub lo: f64,
}

fn two_sum(a: f64, b: f64) -> DoubleDouble {
    let s = a + b;
    let bb = s - a;
    DoubleDouble { hi: s, lo: (a - (s - bb)) + (b - bb) }
}

fn quick_two_sum(a: f64, b: f64) -> DoubleDouble {
    let s = a + b;
    DoubleDouble { hi: s, lo: b - (s - a) }
}

impl DoubleDouble {
    pub fn from(value: f64) -> Self {
        DoubleDouble { hi: value, lo: 0.0 }
    }

    pub fn plus(self, other: Self) -> Self {
        let s = two_sum(self.hi, other.hi);
        let t = two_sum(self.lo, other.lo);
        let s = quick_two_sum(s.hi, s.lo + t.hi);
        quick_two_sum(s.hi, s.lo + t.lo)
    }

    pub fn negated(self) -> Self {
        DoubleDouble { hi: -self.hi, lo: -self.lo }
    }

    pub fn minus(self, other: Self) -> Self {
        self.plus(other.negated())
    }

    pub fn times(self, other: Self) -> Self {
        let p = self.hi * other.hi;
        let e = self.hi.mul_add(other.hi, -p);
        quick_two_sum(p, e + (self.hi * other.lo + self.lo * other.hi))
    }

    pub fn over(self, other: Self) -> Self {
        let q1 = self.hi / other.hi;
        let r = self.minus(other.times(DoubleDouble::from(q1)));
        let q2 = r.hi / other.hi;
        let r = r.minus(other.times(DoubleDouble::from(q2)));
        let q3 = r.hi / other.hi;
        quick_two_sum(q1, q2).plus(DoubleDouble::from(q3))
    }
}

/// ln 2 to double-double precision.
const LN2: DoubleDouble = DoubleDouble { hi: std::f64::consts::LN_2, lo: 2.319_046_813_846_299_6e-17 };

/// ln(x) for positive finite `x`, as a double-double.
pub fn ln(x: f64) -> DoubleDouble {
    assert!(x > 0.0 && x.is_finite(), "reference ln needs a positive finite input");
    // x = 2^k · m, m in [1, 2), subnormals included.
    let (mut k, mut m) = (0i64, x);
    if m < f64::MIN_POSITIVE {
        m *= 2f64.powi(64);
        k -= 64;
    }
    let bits = m.to_bits();
    k += ((bits >> 52) & 0x7ff) as i64 - 1023;
    m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        k += 1;
    }
    // ln(m) = 2·atanh(s), s = (m − 1)/(m + 1), |s| < 0.172.
    let s = DoubleDouble::from(m - 1.0).over(two_sum(m, 1.0));
    let s2 = s.times(s);
    let mut power = s;
    let mut sum = s;
    for i in 1..40 {
        power = power.times(s2);
        sum = sum.plus(power.over(DoubleDouble::from((2 * i + 1) as f64)));
    }
    let ln_m = sum.plus(sum);
    LN2.times(DoubleDouble::from(k as f64)).plus(ln_m)
}

/// exp(x) = 2^k · e for finite `x` in exp's range: returns `(k, e)` with `e` a double-double
/// near 1, so callers can measure errors without overflow or underflow.
pub fn exp_scaled(x: f64) -> (i32, DoubleDouble) {
    let k = (x / std::f64::consts::LN_2).round();
    let r = DoubleDouble::from(x).minus(LN2.times(DoubleDouble::from(k)));
    let mut term = DoubleDouble::from(1.0);
    let mut sum = DoubleDouble::from(1.0);
    for n in 1..35 {
        term = term.times(r).over(DoubleDouble::from(n as f64));
        sum = sum.plus(term);
    }
    (k as i32, sum)
}

/// `2^k` for any `k` in f64's range, as a product of two factors so it never overflows early.
fn scale(value: f64, k: i32) -> f64 {
    let half = k / 2;
    value * 2f64.powi(half) * 2f64.powi(k - half)
}

/// The error of `computed` against `ln(x)`, in ULPs of the correctly rounded result.
pub fn ln_ulp_error(x: f64, computed: f64) -> f64 {
    let exact = ln(x);
    ulp_error(computed, exact, 0)
}

/// The error of `computed` against `exp(x)`, in ULPs of the correctly rounded result
/// (subnormal results in units of the smallest subnormal).
pub fn exp_ulp_error(x: f64, computed: f64) -> f64 {
    let (k, exact) = exp_scaled(x);
    ulp_error(computed, exact, k)
}

/// `|computed − exact|` in f32 ULPs at the exact value: units of `2^(e − 23)` for `|exact|`
/// in `[2^e, 2^(e+1))`, and of 2⁻¹⁴⁹ (the smallest f32 subnormal) below the normal range.
/// `exact` must be nonzero, finite and within f32's range.
pub fn f32_ulp_error(computed: f32, exact: DoubleDouble) -> f64 {
    let exponent = ((exact.hi.abs().to_bits() >> 52) as i32 - 1023).max(-126);
    ((f64::from(computed) - exact.hi) - exact.lo).abs() / 2f64.powi(exponent - 23)
}

/// `|computed − 2^k·exact|` in ULPs of `2^k·exact` rounded.
fn ulp_error(computed: f64, exact: DoubleDouble, k: i32) -> f64 {
    let rounded = scale(exact.hi + exact.lo, k);
    if rounded.is_infinite() {
        // Beyond f64's range: right only if computed overflowed too.
        return if computed == rounded { 0.0 } else { f64::INFINITY };
    }
    let exponent = if rounded == 0.0 { -1074 } else { (rounded.abs().log2().floor() as i32).max(-1022) - 52 };
    // Measure in the scaled domain, where everything is a normal number.
    let unit = scale(1.0, exponent - k);
    let computed_scaled = scale(computed, -k);
    let difference = DoubleDouble::from(computed_scaled).minus(exact);
    (difference.hi + difference.lo).abs() / unit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_ulp_errors_are_in_the_f32_spacing_at_the_exact_value() {
        let one_up = f32::from_bits(1.0f32.to_bits() + 1);
        assert_eq!(f32_ulp_error(one_up, DoubleDouble::from(1.0)), 1.0);
        // Just below 1 the spacing halves: 2⁻²⁴ from 1 is one ULP there.
        assert_eq!(f32_ulp_error(1.0, DoubleDouble::from(1.0 - 2f64.powi(-24))), 1.0);
        // The low part counts.
        let exact = DoubleDouble { hi: 1.0, lo: 2f64.powi(-25) };
        assert_eq!(f32_ulp_error(1.0, exact), 0.25);
        // Below the normal range, in units of the smallest subnormal.
        let tiny = f32::from_bits(3);
        assert_eq!(f32_ulp_error(tiny, DoubleDouble::from(f64::from(f32::from_bits(1)))), 2.0);
    }

    #[test]
    fn the_reference_knows_its_constants() {
        let ln10 = ln(10.0);
        assert_eq!(ln10.hi, std::f64::consts::LN_10);
        assert!((ln10.lo - (-2.170_756_223_382_249_4e-16)).abs() < 1e-30, "{}", ln10.lo);
        let (k, e) = exp_scaled(1.0);
        assert_eq!(k, 1);
        let e1 = DoubleDouble::from(2.0).times(e);
        assert_eq!(e1.hi, std::f64::consts::E);
        assert!((e1.lo - 1.445_646_891_729_250_2e-16).abs() < 1e-30, "{}", e1.lo);
        assert_eq!(ln(1.0).hi, 0.0);
        assert_eq!(
            ln_ulp_error(2.0, std::f64::consts::LN_2),
            0.0 + ln_ulp_error(2.0, std::f64::consts::LN_2)
        );
        assert!(ln_ulp_error(2.0, std::f64::consts::LN_2) < 0.5);
        assert!(ln_ulp_error(2.0, f64::from_bits(std::f64::consts::LN_2.to_bits() + 1)) > 0.5);
    }
}
