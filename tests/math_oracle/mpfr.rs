//! A second, faster oracle for `examples/ulp_sweep.rs --oracle mpfr` (cargo feature
//! `mpfr-oracle`): GNU MPFR — correctly rounded, Payne–Hanek reduction for trig at any
//! magnitude — through the system's `libmpfr.so.6` and a hand-written FFI (no build script,
//! no headers needed). Fast enough for 10⁷ samples per range; `math_oracle`'s astro-float
//! stays the oracle of the tests, so the two check each other.

use fusejit::{BinaryMathFunction, MathFunction};
use std::os::raw::{c_int, c_long};

/// `__mpfr_struct` on LP64 targets: precision, sign, exponent, limb pointer.
#[repr(C)]
struct RawMpfr {
    precision: c_long,
    sign: c_int,
    exponent: c_long,
    limbs: *mut u64,
}

type Unary = unsafe extern "C" fn(*mut RawMpfr, *const RawMpfr, c_int) -> c_int;
type Binary = unsafe extern "C" fn(*mut RawMpfr, *const RawMpfr, *const RawMpfr, c_int) -> c_int;

#[link(name = "libmpfr.so.6", kind = "dylib", modifiers = "+verbatim")]
unsafe extern "C" {
    fn mpfr_init2(x: *mut RawMpfr, precision: c_long);
    fn mpfr_clear(x: *mut RawMpfr);
    fn mpfr_set_d(rop: *mut RawMpfr, op: f64, rnd: c_int) -> c_int;
    fn mpfr_get_d(op: *const RawMpfr, rnd: c_int) -> f64;
    fn mpfr_get_exp(op: *const RawMpfr) -> c_long;
    fn mpfr_nan_p(op: *const RawMpfr) -> c_int;
    fn mpfr_inf_p(op: *const RawMpfr) -> c_int;
    fn mpfr_zero_p(op: *const RawMpfr) -> c_int;
    fn mpfr_sub(rop: *mut RawMpfr, a: *const RawMpfr, b: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_mul_2si(rop: *mut RawMpfr, op: *const RawMpfr, exponent: c_long, rnd: c_int) -> c_int;
    fn mpfr_log(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_exp(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_log2(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_log10(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_log1p(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_expm1(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_sinh(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_cosh(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_tanh(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_atan(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_asin(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_acos(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_cbrt(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_sin(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_cos(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_tan(rop: *mut RawMpfr, op: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_atan2(rop: *mut RawMpfr, y: *const RawMpfr, x: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_hypot(rop: *mut RawMpfr, x: *const RawMpfr, y: *const RawMpfr, rnd: c_int) -> c_int;
    fn mpfr_pow(rop: *mut RawMpfr, x: *const RawMpfr, y: *const RawMpfr, rnd: c_int) -> c_int;
}

/// Round to nearest.
const RNDN: c_int = 0;

/// An initialised MPFR number, cleared on drop.
struct Number(Box<RawMpfr>);

impl Number {
    fn new(precision: c_long) -> Number {
        let mut raw = Box::new(RawMpfr { precision: 0, sign: 0, exponent: 0, limbs: std::ptr::null_mut() });
        // SAFETY: `raw` is a writable `__mpfr_struct`; MPFR initialises it.
        unsafe { mpfr_init2(&mut *raw, precision) };
        Number(raw)
    }
    fn ptr(&self) -> *const RawMpfr {
        &*self.0
    }
    fn ptr_mut(&mut self) -> *mut RawMpfr {
        &mut *self.0
    }
    fn set(&mut self, value: f64) {
        // SAFETY: an initialised number; a 64-bit one holds every f64 exactly.
        unsafe { mpfr_set_d(self.ptr_mut(), value, RNDN) };
    }
}

impl Drop for Number {
    fn drop(&mut self) {
        // SAFETY: initialised by `new`, cleared once.
        unsafe { mpfr_clear(self.ptr_mut()) };
    }
}

/// One thread's numbers: the arguments, the exact value (128 bits) and the difference.
pub struct Mpfr {
    a: Number,
    b: Number,
    exact: Number,
    computed: Number,
    difference: Number,
}

impl Default for Mpfr {
    fn default() -> Self {
        Mpfr {
            a: Number::new(64),
            b: Number::new(64),
            exact: Number::new(128),
            computed: Number::new(64),
            difference: Number::new(256),
        }
    }
}

fn unary(function: MathFunction) -> Unary {
    match function {
        MathFunction::Ln => mpfr_log,
        MathFunction::Exp => mpfr_exp,
        MathFunction::Log2 => mpfr_log2,
        MathFunction::Log10 => mpfr_log10,
        MathFunction::Log1p => mpfr_log1p,
        MathFunction::Expm1 => mpfr_expm1,
        MathFunction::Sinh => mpfr_sinh,
        MathFunction::Cosh => mpfr_cosh,
        MathFunction::Tanh => mpfr_tanh,
        MathFunction::Atan => mpfr_atan,
        MathFunction::Asin => mpfr_asin,
        MathFunction::Acos => mpfr_acos,
        MathFunction::Cbrt => mpfr_cbrt,
        MathFunction::Sin => mpfr_sin,
        MathFunction::Cos => mpfr_cos,
        MathFunction::Tan => mpfr_tan,
        other => panic!("no MPFR function for {other:?}"),
    }
}

fn binary(function: BinaryMathFunction) -> Binary {
    match function {
        BinaryMathFunction::Atan2 => mpfr_atan2,
        BinaryMathFunction::Hypot => mpfr_hypot,
        BinaryMathFunction::Pow => mpfr_pow,
        other => panic!("no MPFR function for {other:?}"),
    }
}

impl Mpfr {
    /// The error of `computed` = `function(x)` in ULPs of the exact value.
    pub fn ulp_error(&mut self, function: MathFunction, x: f64, computed: f64) -> f64 {
        self.a.set(x);
        // SAFETY: initialised numbers; MPFR reads `a` and writes `exact`.
        unsafe { unary(function)(self.exact.ptr_mut(), self.a.ptr(), RNDN) };
        self.error_of(computed)
    }

    /// The error of `computed` = `function(a, b)` in ULPs of the exact value.
    pub fn ulp_error_binary(&mut self, function: BinaryMathFunction, a: f64, b: f64, computed: f64) -> f64 {
        self.a.set(a);
        self.b.set(b);
        // SAFETY: initialised numbers; MPFR reads `a`, `b` and writes `exact`.
        unsafe { binary(function)(self.exact.ptr_mut(), self.a.ptr(), self.b.ptr(), RNDN) };
        self.error_of(computed)
    }

    /// `|computed − exact|` over the f64 spacing at `exact` (subnormal spacing at least);
    /// specials must match exactly (∞ where the exact value rounds beyond the largest double).
    fn error_of(&mut self, computed: f64) -> f64 {
        let exact = self.exact.ptr();
        // SAFETY (every call below): initialised numbers, read or written as MPFR documents.
        unsafe {
            if mpfr_nan_p(exact) != 0 {
                return if computed.is_nan() { 0.0 } else { f64::INFINITY };
            }
            let rounded = mpfr_get_d(exact, RNDN);
            if computed.is_nan() {
                return f64::INFINITY;
            }
            if mpfr_inf_p(exact) != 0 || mpfr_zero_p(exact) != 0 || computed.is_infinite() {
                return if rounded == computed { 0.0 } else { f64::INFINITY };
            }
            let ulp_exponent = (mpfr_get_exp(exact) - 53).max(-1074);
            self.computed.set(computed);
            mpfr_sub(self.difference.ptr_mut(), self.computed.ptr(), exact, RNDN);
            mpfr_mul_2si(self.difference.ptr_mut(), self.difference.ptr(), -ulp_exponent, RNDN);
            mpfr_get_d(self.difference.ptr(), RNDN).abs()
        }
    }
}
