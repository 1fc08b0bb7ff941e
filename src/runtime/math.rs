//! The one definition of `ln` and `exp` used by the interpreter, constant folding and native code.
//!
//! Every place that computes a logarithm or exponential calls these, so the reference
//! interpreter and the compiled kernels agree bit for bit. For now they are the platform's
//! correctly-rounded-in-practice `f64::ln`/`f64::exp`; the math-runtime issue replaces them with
//! the project's own vectorised ≤1 ULP implementations and their block stubs.

/// Natural logarithm of one f64.
#[inline]
pub fn ln_f64(x: f64) -> f64 {
    x.ln()
}

/// e raised to one f64.
#[inline]
pub fn exp_f64(x: f64) -> f64 {
    x.exp()
}

/// Natural logarithm of one f32, computed in f32.
#[inline]
pub fn ln_f32(x: f32) -> f32 {
    x.ln()
}

/// e raised to one f32, computed in f32.
#[inline]
pub fn exp_f32(x: f32) -> f32 {
    x.exp()
}

/// Block form: `dst[i] = ln(src[i])` for every `i`. Native kernels call this once per block.
pub fn ln_f64_block(src: &[f64], dst: &mut [f64]) {
    for (out, &x) in dst.iter_mut().zip(src) {
        *out = ln_f64(x);
    }
}

/// Block form: `dst[i] = exp(src[i])` for every `i`.
pub fn exp_f64_block(src: &[f64], dst: &mut [f64]) {
    for (out, &x) in dst.iter_mut().zip(src) {
        *out = exp_f64(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_cases_are_exact() {
        assert_eq!(ln_f64(1.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(ln_f64(0.0), f64::NEG_INFINITY);
        assert_eq!(ln_f64(-0.0), f64::NEG_INFINITY);
        assert!(ln_f64(-1.0).is_nan());
        assert_eq!(ln_f64(f64::INFINITY), f64::INFINITY);
        assert!(ln_f64(f64::NAN).is_nan());
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_f64(1000.0), f64::INFINITY);
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(ln_f32(1.0), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn block_forms_match_the_scalar_forms() {
        let src = [0.5, 1.0, 2.0, 10.0, 1e-300];
        let mut dst = [0.0; 5];
        ln_f64_block(&src, &mut dst);
        for (x, y) in src.iter().zip(dst) {
            assert_eq!(ln_f64(*x).to_bits(), y.to_bits());
        }
        exp_f64_block(&src, &mut dst);
        for (x, y) in src.iter().zip(dst) {
            assert_eq!(exp_f64(*x).to_bits(), y.to_bits());
        }
    }
}
