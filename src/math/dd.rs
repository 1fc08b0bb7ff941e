//! Double-double arithmetic over [`Lanes`]: a value as an unevaluated sum `hi + lo` with
//! `|lo| ≤ ulp(hi)/2`, about 106 bits. The kernels that must be within 1 ULP compute their
//! last, cancelling steps in it and round once at the end. The operations follow SLEEF's
//! `dd.h` (FMA variants): each is a fixed sequence of IEEE operations, so every tier gives
//! the same bits.

use super::lanes::Lanes;

/// `hi + lo`.
#[derive(Clone, Copy)]
pub(crate) struct Dd<L> {
    pub(crate) hi: L,
    pub(crate) lo: L,
}

impl<L: Lanes> Dd<L> {
    /// A double as a double-double.
    #[inline(always)]
    pub(crate) fn from(x: L) -> Self {
        Dd { hi: x, lo: L::splat(0.0) }
    }

    /// A constant given as its two parts.
    #[inline(always)]
    pub(crate) fn constant(hi: f64, lo: f64) -> Self {
        Dd { hi: L::splat(hi), lo: L::splat(lo) }
    }

    /// The double nearest to the value (one rounding).
    #[inline(always)]
    pub(crate) fn value(self) -> L {
        self.hi.add(self.lo)
    }

    /// Renormalises so that `lo` is within half an ulp of `hi`.
    #[inline(always)]
    pub(crate) fn normalize(self) -> Self {
        let s = self.hi.add(self.lo);
        Dd { hi: s, lo: self.hi.sub(s).add(self.lo) }
    }

    /// Both parts times `s` (exact for a power of two without overflow or underflow).
    #[inline(always)]
    pub(crate) fn scale(self, s: L) -> Self {
        Dd { hi: self.hi.mul(s), lo: self.lo.mul(s) }
    }

    #[inline(always)]
    pub(crate) fn neg(self) -> Self {
        let zero = L::splat(0.0);
        Dd { hi: zero.sub(self.hi), lo: zero.sub(self.lo) }
    }

    /// `mask ? a : b`.
    #[inline(always)]
    pub(crate) fn select(mask: L::Mask, a: Self, b: Self) -> Self {
        Dd { hi: L::select(mask, a.hi, b.hi), lo: L::select(mask, a.lo, b.lo) }
    }
}

/// `x + y` exactly, any magnitudes (TwoSum).
#[inline(always)]
pub(crate) fn add2<L: Lanes>(x: L, y: L) -> Dd<L> {
    let s = x.add(y);
    let v = s.sub(x);
    Dd { hi: s, lo: x.sub(s.sub(v)).add(y.sub(v)) }
}

/// `x + y`, any magnitudes.
#[inline(always)]
pub(crate) fn add_dd2<L: Lanes>(x: Dd<L>, y: Dd<L>) -> Dd<L> {
    let s = x.hi.add(y.hi);
    let v = s.sub(x.hi);
    let t = x.hi.sub(s.sub(v)).add(y.hi.sub(v));
    Dd { hi: s, lo: t.add(x.lo.add(y.lo)) }
}

/// `x + y`, `|x| ≥ |y|`.
#[inline(always)]
pub(crate) fn add_dd<L: Lanes>(x: Dd<L>, y: Dd<L>) -> Dd<L> {
    let s = x.hi.add(y.hi);
    Dd { hi: s, lo: x.hi.sub(s).add(y.hi).add(x.lo).add(y.lo) }
}

/// `x + y` for a double `y`, any magnitudes.
#[inline(always)]
pub(crate) fn add_d2<L: Lanes>(x: Dd<L>, y: L) -> Dd<L> {
    let s = x.hi.add(y);
    let v = s.sub(x.hi);
    let w = x.hi.sub(s.sub(v)).add(y.sub(v));
    Dd { hi: s, lo: w.add(x.lo) }
}

/// `x · y` exactly (TwoProd with FMA).
#[inline(always)]
pub(crate) fn mul2<L: Lanes>(x: L, y: L) -> Dd<L> {
    let s = x.mul(y);
    Dd { hi: s, lo: x.fma(y, L::splat(0.0).sub(s)) }
}

/// `x · y`.
#[inline(always)]
pub(crate) fn mul_dd<L: Lanes>(x: Dd<L>, y: Dd<L>) -> Dd<L> {
    let s = x.hi.mul(y.hi);
    let error = x.hi.fma(y.hi, L::splat(0.0).sub(s));
    Dd { hi: s, lo: x.hi.fma(y.lo, x.lo.fma(y.hi, error)) }
}

/// `x · y` for a double `y`.
#[inline(always)]
pub(crate) fn mul_d<L: Lanes>(x: Dd<L>, y: L) -> Dd<L> {
    let s = x.hi.mul(y);
    let error = x.hi.fma(y, L::splat(0.0).sub(s));
    Dd { hi: s, lo: x.lo.fma(y, error) }
}

/// `x²`.
#[inline(always)]
pub(crate) fn square<L: Lanes>(x: Dd<L>) -> Dd<L> {
    let s = x.hi.mul(x.hi);
    let error = x.hi.fma(x.hi, L::splat(0.0).sub(s));
    Dd { hi: s, lo: x.hi.add(x.hi).fma(x.lo, error) }
}

/// `n / d`.
#[inline(always)]
pub(crate) fn div_dd<L: Lanes>(n: Dd<L>, d: Dd<L>) -> Dd<L> {
    let one = L::splat(1.0);
    let t = one.div(d.hi);
    let s = n.hi.mul(t);
    // u = t·n.hi − s; v = 1 − d.hi·t − d.lo·t.
    let u = t.fma(n.hi, L::splat(0.0).sub(s));
    let v = neg_fma(d.lo, t, neg_fma(d.hi, t, one));
    Dd { hi: s, lo: s.fma(v, n.lo.fma(t, u)) }
}

/// `1 / d` for a double `d`.
#[inline(always)]
pub(crate) fn recip<L: Lanes>(d: L) -> Dd<L> {
    let one = L::splat(1.0);
    let s = one.div(d);
    Dd { hi: s, lo: s.mul(neg_fma(d, s, one)) }
}

/// `√d` of a double, as a double-double.
#[inline(always)]
pub(crate) fn sqrt_d<L: Lanes>(d: L) -> Dd<L> {
    // √d = (d + t²)/(2t) to first order around t = fl(√d), with t² exact.
    let t = d.sqrt();
    mul_dd(add_d2(mul2(t, t), d), recip(t)).scale(L::splat(0.5))
}

/// `c − a·b` with one rounding.
#[inline(always)]
pub(crate) fn neg_fma<L: Lanes>(a: L, b: L, c: L) -> L {
    L::splat(0.0).sub(a).fma(b, c)
}

/// `√d` of a double-double.
#[inline(always)]
pub(crate) fn sqrt_dd<L: Lanes>(d: Dd<L>) -> Dd<L> {
    let t = d.hi.add(d.lo).sqrt();
    mul_dd(add_dd2(d, mul2(t, t)), recip(t)).scale(L::splat(0.5))
}
