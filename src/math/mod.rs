//! The one definition of `ln` and `exp`, used by the interpreter, constant folding and native
//! code: written once over [`lanes::Lanes`] (see [`kernels`]) and compiled for each tier —
//! scalar, 128-bit (SSE4.1+FMA), AVX2+FMA and AVX-512F — and traced ([`trace`]) into plain
//! operations that codegen emits as aarch64 NEON code. Every tier runs the same operations,
//! FMA included, so every tier returns the same bits; ≤ 1 ULP from the true value for every
//! input (see `tests/math_accuracy.rs` and `examples/ulp_sweep.rs`).
//!
//! f32 functions compute in f64 and round once: the f64 result is within 1 f64 ULP, so the
//! f32 result is within 0.5 + 2⁻²⁹ f32 ULP. `ln` and `exp` of f32s have kernels of their
//! own ([`kernels::ln_of_f32`], [`kernels::exp_of_f32`]: the same reductions, shorter
//! series), within 2⁻³⁴ relative before the rounding, so within 0.5 + 2⁻⁹ f32 ULP (0.50028
//! measured for `ln` over every positive f32); every tier gives them the same bits too.

pub(crate) mod dd;
pub(crate) mod elementary;
pub(crate) mod kernels;
pub(crate) mod lanes;
pub mod reference;
pub(crate) mod trace;
pub(crate) mod trigonometric;
// Crate-private on purpose: the lane types execute their tier's instructions from safe
// methods, which is sound only inside the `#[target_feature]` entry points this crate calls
// after detecting the features. No path from outside the crate may name them.
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86;

use crate::error::ConfigError;
use lanes::{LaneMemory, Lanes};

/// Invokes `$callback!($($args)*; Variant "name" kernel => f32_kernel, ...)` with every math
/// function: the one list, from which the enum's methods, every tier's block functions and the
/// runtime function names are all generated. `f32_kernel` computes, from lanes holding f32
/// values, the f64 values to round to f32 once: the f64 kernel itself, or (for `ln` and
/// `exp`) a shorter one accurate enough for an f32 result.
macro_rules! with_math_functions {
    ($callback:ident ! ($($args:tt)*)) => {
        $callback!($($args)*;
            Ln "ln" $crate::math::kernels::ln => $crate::math::kernels::ln_of_f32,
            Exp "exp" $crate::math::kernels::exp => $crate::math::kernels::exp_of_f32,
            Log2 "log2" $crate::math::elementary::log2 => $crate::math::elementary::log2,
            Log10 "log10" $crate::math::elementary::log10 => $crate::math::elementary::log10,
            Log1p "log1p" $crate::math::elementary::log1p => $crate::math::elementary::log1p,
            Expm1 "expm1" $crate::math::elementary::expm1 => $crate::math::elementary::expm1,
            Sinh "sinh" $crate::math::elementary::sinh => $crate::math::elementary::sinh,
            Cosh "cosh" $crate::math::elementary::cosh => $crate::math::elementary::cosh,
            Tanh "tanh" $crate::math::elementary::tanh => $crate::math::elementary::tanh,
            Atan "atan" $crate::math::elementary::atan => $crate::math::elementary::atan,
            Asin "asin" $crate::math::elementary::asin => $crate::math::elementary::asin,
            Acos "acos" $crate::math::elementary::acos => $crate::math::elementary::acos,
            Cbrt "cbrt" $crate::math::elementary::cbrt => $crate::math::elementary::cbrt,
            Sin "sin" $crate::math::trigonometric::sin => $crate::math::trigonometric::sin,
            Cos "cos" $crate::math::trigonometric::cos => $crate::math::trigonometric::cos,
            Tan "tan" $crate::math::trigonometric::tan => $crate::math::trigonometric::tan,
        );
    };
}
// The x86 tiers' block loops (`x86.rs`) take the list too; other hosts only expand it here.
#[cfg(target_arch = "x86_64")]
pub(crate) use with_math_functions;

/// The two-argument math functions: `$callback!($($args)*; Variant "name" kernel, ...)`, as
/// [`with_math_functions`].
macro_rules! with_binary_math_functions {
    ($callback:ident ! ($($args:tt)*)) => {
        $callback!($($args)*;
            Atan2 "atan2" $crate::math::elementary::atan2,
            Hypot "hypot" $crate::math::elementary::hypot,
            Pow "pow" $crate::math::elementary::pow,
        );
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use with_binary_math_functions;

/// A two-argument function of the vectorised math runtime, with the same guarantees as
/// [`MathFunction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BinaryMathFunction {
    /// `atan2(y, x)`: the angle of the point (x, y), in [−π, π].
    Atan2,
    /// `hypot(x, y)`: √(x² + y²) without overflow or underflow in between.
    Hypot,
    /// `pow(x, y)`: `x` raised to any real `y`.
    Pow,
}

macro_rules! binary_math_function_methods {
    (; $($variant:ident $name:literal $kernel:path),* $(,)?) => {
        impl BinaryMathFunction {
            /// Every two-argument math function, in declaration order.
            pub const ALL: &'static [BinaryMathFunction] = &[$(BinaryMathFunction::$variant),*];

            /// The function's name in the language.
            pub fn name(self) -> &'static str {
                match self {
                    $(BinaryMathFunction::$variant => $name,)*
                }
            }

            /// The symbol of its f64 block runtime function.
            pub(crate) fn f64_block_symbol(self) -> &'static str {
                match self {
                    $(BinaryMathFunction::$variant => concat!("fusejit_", $name, "_f64_block"),)*
                }
            }

            /// The symbol of its f32 block runtime function.
            pub(crate) fn f32_block_symbol(self) -> &'static str {
                match self {
                    $(BinaryMathFunction::$variant => concat!("fusejit_", $name, "_f32_block"),)*
                }
            }

            /// The generic kernel applied to vectors of lanes.
            #[inline(always)]
            pub(crate) fn apply<L: Lanes>(self, a: L, b: L) -> L {
                match self {
                    $(BinaryMathFunction::$variant => $kernel(a, b),)*
                }
            }

            /// The scalar tier's block function.
            fn scalar_block(self) -> BinaryBlockFn {
                match self {
                    $(BinaryMathFunction::$variant => {
                        /// # Safety
                        /// `a` and `b` readable and `dst` writable for `n` f64s.
                        unsafe extern "C" fn entry(a: *const f64, b: *const f64, dst: *mut f64, n: usize) {
                            // SAFETY: forwarded from the caller.
                            unsafe { $crate::math::run_block2::<f64, f64>(a, b, dst, n, $kernel) }
                        }
                        entry
                    })*
                }
            }

            /// The scalar tier's f32 block function.
            fn scalar_f32_block(self) -> F32BinaryBlockFn {
                match self {
                    $(BinaryMathFunction::$variant => {
                        /// # Safety
                        /// `a` and `b` readable and `dst` writable for `n` f32s.
                        unsafe extern "C" fn entry(a: *const f32, b: *const f32, dst: *mut f32, n: usize) {
                            // SAFETY: forwarded from the caller.
                            unsafe { $crate::math::run_block2::<f64, f32>(a, b, dst, n, $kernel) }
                        }
                        entry
                    })*
                }
            }
        }
    };
}
with_binary_math_functions!(binary_math_function_methods!());

/// How many two-argument math functions there are.
pub(crate) const BINARY_MATH_FUNCTION_COUNT: usize = BinaryMathFunction::ALL.len();

impl BinaryMathFunction {
    /// Its position in [`BinaryMathFunction::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The function of two f64s (the scalar tier).
    pub fn of_f64(self, a: f64, b: f64) -> f64 {
        self.apply(a, b)
    }

    /// The function of two f32s: computed in f64, rounded once.
    pub fn of_f32(self, a: f32, b: f32) -> f32 {
        self.apply(f64::from(a), f64::from(b)) as f32
    }
}

/// A two-argument block function: `dst[i] = f(a[i], b[i])` for `i < n`; `dst` may equal `a`
/// or `b`.
pub type BinaryBlockFn = unsafe extern "C" fn(a: *const f64, b: *const f64, dst: *mut f64, n: usize);

/// [`BinaryBlockFn`] over f32s: each pair computed in f64 and rounded once.
pub type F32BinaryBlockFn = unsafe extern "C" fn(a: *const f32, b: *const f32, dst: *mut f32, n: usize);

/// A function of the vectorised math runtime: written once over a generic vector of lanes, compiled
/// for every tier, traced for aarch64, ≤ 1 ULP for every input (see `tests/math_accuracy.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MathFunction {
    /// Natural logarithm.
    Ln,
    /// e raised to the argument.
    Exp,
    /// Base-2 logarithm.
    Log2,
    /// Base-10 logarithm.
    Log10,
    /// `ln(1 + x)`, accurate for tiny `x`.
    Log1p,
    /// `e^x − 1`, accurate for tiny `x`.
    Expm1,
    /// Hyperbolic sine.
    Sinh,
    /// Hyperbolic cosine.
    Cosh,
    /// Hyperbolic tangent.
    Tanh,
    /// Arc tangent, in (−π/2, π/2).
    Atan,
    /// Arc sine, in [−π/2, π/2].
    Asin,
    /// Arc cosine, in [0, π].
    Acos,
    /// Cube root.
    Cbrt,
    /// Sine (radians), with an exact argument reduction at every magnitude.
    Sin,
    /// Cosine (radians), with an exact argument reduction at every magnitude.
    Cos,
    /// Tangent (radians), with an exact argument reduction at every magnitude.
    Tan,
}

macro_rules! math_function_methods {
    (; $($variant:ident $name:literal $kernel:path => $f32_kernel:path),* $(,)?) => {
        impl MathFunction {
            /// Every math function, in declaration order (`index` is the position here).
            pub const ALL: &'static [MathFunction] = &[$(MathFunction::$variant),*];

            /// The function's name in the language.
            pub fn name(self) -> &'static str {
                match self {
                    $(MathFunction::$variant => $name,)*
                }
            }

            /// The symbol of its f64 block runtime function.
            pub(crate) fn f64_block_symbol(self) -> &'static str {
                match self {
                    $(MathFunction::$variant => concat!("fusejit_", $name, "_f64_block"),)*
                }
            }

            /// The symbol of its f32 block runtime function.
            pub(crate) fn f32_block_symbol(self) -> &'static str {
                match self {
                    $(MathFunction::$variant => concat!("fusejit_", $name, "_f32_block"),)*
                }
            }

            /// The generic kernel applied to one vector of lanes (any tier, or a trace).
            #[inline(always)]
            pub(crate) fn apply<L: Lanes>(self, x: L) -> L {
                match self {
                    $(MathFunction::$variant => $kernel(x),)*
                }
            }

            /// The generic kernel of f32 arguments (lanes holding f32 values, exactly),
            /// applied to one vector of lanes; its lanes are to be rounded to f32 once.
            #[inline(always)]
            pub(crate) fn apply_f32<L: Lanes>(self, x: L) -> L {
                match self {
                    $(MathFunction::$variant => $f32_kernel(x),)*
                }
            }

            /// [`MathFunction::apply`] as a function, for the x86 tiers' f64 block loops.
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            pub(crate) fn kernel<L: Lanes>(self) -> fn(L) -> L {
                match self {
                    $(MathFunction::$variant => $kernel,)*
                }
            }

            /// [`MathFunction::apply_f32`] as a function, for the x86 tiers' f32 block loops.
            #[cfg(target_arch = "x86_64")]
            #[inline(always)]
            pub(crate) fn f32_kernel<L: Lanes>(self) -> fn(L) -> L {
                match self {
                    $(MathFunction::$variant => $f32_kernel,)*
                }
            }

            /// The scalar tier's block function.
            fn scalar_block(self) -> BlockFn {
                match self {
                    $(MathFunction::$variant => {
                        /// # Safety
                        /// `src` readable and `dst` writable for `n` f64s.
                        unsafe extern "C" fn entry(src: *const f64, dst: *mut f64, n: usize) {
                            // SAFETY: forwarded from the caller.
                            unsafe { $crate::math::run_block::<f64, f64>(src, dst, n, $kernel) }
                        }
                        entry
                    })*
                }
            }

            /// The scalar tier's f32 block function.
            fn scalar_f32_block(self) -> F32BlockFn {
                match self {
                    $(MathFunction::$variant => {
                        /// # Safety
                        /// `src` readable and `dst` writable for `n` f32s.
                        unsafe extern "C" fn entry(src: *const f32, dst: *mut f32, n: usize) {
                            // SAFETY: forwarded from the caller.
                            unsafe { $crate::math::run_block::<f64, f32>(src, dst, n, $f32_kernel) }
                        }
                        entry
                    })*
                }
            }
        }
    };
}
with_math_functions!(math_function_methods!());

/// How many math functions there are.
pub(crate) const MATH_FUNCTION_COUNT: usize = MathFunction::ALL.len();

impl MathFunction {
    /// Its position in [`MathFunction::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The function of one f64 (the scalar tier): what the interpreter and constant folding use.
    pub fn of_f64(self, x: f64) -> f64 {
        self.apply(x)
    }

    /// The function of one f32: computed in f64 by its f32 kernel, rounded once.
    pub fn of_f32(self, x: f32) -> f32 {
        self.apply_f32(f64::from(x)) as f32
    }
}

/// Natural logarithm of one f64 (the scalar tier).
#[inline]
pub fn ln_f64(x: f64) -> f64 {
    kernels::ln(x)
}

/// e raised to one f64 (the scalar tier).
#[inline]
pub fn exp_f64(x: f64) -> f64 {
    kernels::exp(x)
}

/// Natural logarithm of one f32: computed in f64 by the f32 kernel (`kernels::ln_of_f32`),
/// rounded once.
#[inline]
pub fn ln_f32(x: f32) -> f32 {
    kernels::ln_of_f32(f64::from(x)) as f32
}

/// e raised to one f32: computed in f64 by the f32 kernel (`kernels::exp_of_f32`), rounded
/// once.
#[inline]
pub fn exp_f32(x: f32) -> f32 {
    kernels::exp_of_f32(f64::from(x)) as f32
}

/// Applies `function` to `n` elements, `L::WIDTH` at a time; the tail goes through the same
/// arithmetic on a padded copy, so every element gets the bits any tier would give it. Over
/// f32 elements the lanes are the f64 values of the elements, and each result is rounded
/// once ([`LaneMemory`]).
///
/// # Safety
/// `src` readable and `dst` writable for `n` elements (they may be the same pointer); on a
/// SIMD tier the caller runs with the tier's CPU features.
#[inline(always)]
pub(crate) unsafe fn run_block<L: LaneMemory<E>, E: Copy + From<f32>>(
    src: *const E,
    dst: *mut E,
    n: usize,
    function: fn(L) -> L,
) {
    let whole = n - n % L::WIDTH;
    let mut i = 0;
    while i < whole {
        // SAFETY: i + WIDTH <= n.
        unsafe { function(L::load(src.add(i))).store(dst.add(i)) };
        i += L::WIDTH;
    }
    if whole < n {
        let mut padded = [E::from(1.0); 8];
        let rest = n - whole;
        // SAFETY: `rest` < WIDTH <= 8 elements remain from `whole`.
        unsafe {
            std::ptr::copy_nonoverlapping(src.add(whole), padded.as_mut_ptr(), rest);
            function(L::load(padded.as_ptr())).store(padded.as_mut_ptr());
            std::ptr::copy_nonoverlapping(padded.as_ptr(), dst.add(whole), rest);
        }
    }
}

/// [`run_block`] for a two-argument function.
///
/// # Safety
/// `a` and `b` readable and `dst` writable for `n` elements (`dst` may equal either); on a
/// SIMD tier the caller runs with the tier's CPU features.
#[inline(always)]
pub(crate) unsafe fn run_block2<L: LaneMemory<E>, E: Copy + From<f32>>(
    a: *const E,
    b: *const E,
    dst: *mut E,
    n: usize,
    function: fn(L, L) -> L,
) {
    let whole = n - n % L::WIDTH;
    let mut i = 0;
    while i < whole {
        // SAFETY: i + WIDTH <= n.
        unsafe { function(L::load(a.add(i)), L::load(b.add(i))).store(dst.add(i)) };
        i += L::WIDTH;
    }
    if whole < n {
        let (mut padded_a, mut padded_b) = ([E::from(1.0); 8], [E::from(1.0); 8]);
        let rest = n - whole;
        // SAFETY: `rest` < WIDTH <= 8 elements remain from `whole`.
        unsafe {
            std::ptr::copy_nonoverlapping(a.add(whole), padded_a.as_mut_ptr(), rest);
            std::ptr::copy_nonoverlapping(b.add(whole), padded_b.as_mut_ptr(), rest);
            function(L::load(padded_a.as_ptr()), L::load(padded_b.as_ptr())).store(padded_a.as_mut_ptr());
            std::ptr::copy_nonoverlapping(padded_a.as_ptr(), dst.add(whole), rest);
        }
    }
}

/// A tier of the vectorised `ln`/`exp`, widest first. Every tier gives the same bits; only
/// speed differs.
///
/// ```
/// let isa = fusejit::Isa::best();
/// assert!(isa.is_supported());
/// assert_eq!(fusejit::Isa::parse(isa.name()).unwrap(), Some(isa));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// AVX-512F: eight f64 lanes.
    Avx512,
    /// AVX2 with FMA: four f64 lanes.
    Avx2,
    /// SSE4.1 with FMA: two f64 lanes.
    Sse,
    /// The generic kernels traced (the `math::trace` module) and compiled by Cranelift as `f64x2` code for
    /// the host: the 128-bit tier where no hand-compiled one exists (NEON on aarch64).
    /// Supported once codegen has installed it (`codegen::install_traced_math`).
    Traced,
    /// One value at a time (`f64::mul_add` for FMA): what the interpreter and constant folding use.
    Scalar,
}

/// The traced tier's block functions, compiled by codegen: unary ones by
/// `MathFunction::index`, two-argument ones by `BinaryMathFunction::index`.
pub(crate) struct TracedBlocks {
    pub f64: [BlockFn; MATH_FUNCTION_COUNT],
    pub f32: [F32BlockFn; MATH_FUNCTION_COUNT],
    pub binary_f64: [BinaryBlockFn; BINARY_MATH_FUNCTION_COUNT],
    pub binary_f32: [F32BinaryBlockFn; BINARY_MATH_FUNCTION_COUNT],
}

/// The traced tier's block functions, installed once.
static TRACED_BLOCKS: std::sync::OnceLock<TracedBlocks> = std::sync::OnceLock::new();

/// Installs the traced tier's block functions; the first install wins.
///
/// # Safety
/// Each must be callable on this CPU for the rest of the process, with its type's contract
/// (`BlockFn`, `F32BlockFn`, `BinaryBlockFn`, `F32BinaryBlockFn`): given its sources readable
/// and `dst` writable for `n` elements, it writes `dst[i]` as its function of the sources'
/// `i`th elements (an f32 one: of its f32 kernel, rounded once) and touches nothing else.
/// Kernels call them from JIT code.
pub(crate) unsafe fn install_traced_blocks(blocks: TracedBlocks) {
    let _ = TRACED_BLOCKS.set(blocks);
}

/// `$isa`'s block function of `$function`, one of the four kinds (f64 or f32, one or two
/// arguments): the x86 tiers' from `x86::$avx512` etc., the traced tier's from its installed
/// [`TracedBlocks`]' `$traced` table, the scalar tier's from `$function.$scalar()`. The
/// tiers' one dispatch, whatever the kind.
macro_rules! tier_block {
    ($isa:expr, $function:expr, $avx512:ident, $avx2:ident, $sse:ident, $traced:ident, $scalar:ident) => {
        match $isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => x86::$avx512($function),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => x86::$avx2($function),
            #[cfg(target_arch = "x86_64")]
            Isa::Sse => x86::$sse($function),
            // Never supported off x86-64, so never reached: the scalar tier gives the same bits.
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx512 | Isa::Avx2 | Isa::Sse => $function.$scalar(),
            // Every tier gives the same bits, so the scalar tier stands in until installed.
            Isa::Traced => match TRACED_BLOCKS.get() {
                Some(blocks) => blocks.$traced[$function.index()],
                None => $function.$scalar(),
            },
            Isa::Scalar => $function.$scalar(),
        }
    };
}

impl Isa {
    /// Every tier, widest first.
    pub const ALL: [Isa; 5] = [Isa::Avx512, Isa::Avx2, Isa::Sse, Isa::Traced, Isa::Scalar];

    /// The tier's name, as `--isa` and `FUSEJIT_ISA` take it.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Sse => "sse",
            Isa::Traced => "traced",
            Isa::Scalar => "scalar",
        }
    }

    /// `avx512`, `avx2`, `sse`, `traced`, `scalar` (or `auto` for `None`).
    pub fn parse(text: &str) -> Result<Option<Isa>, ConfigError> {
        match text {
            "auto" => Ok(None),
            other => {
                Isa::ALL.into_iter().find(|isa| isa.name() == other).map(Some).ok_or_else(|| {
                    ConfigError::UnknownIsa { name: other.to_string(), from_environment: false }
                })
            }
        }
    }

    /// Whether this CPU can run the tier.
    pub fn is_supported(self) -> bool {
        if self == Isa::Traced {
            return TRACED_BLOCKS.get().is_some();
        }
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
                Isa::Avx2 => {
                    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
                }
                Isa::Sse => {
                    std::arch::is_x86_feature_detected!("sse4.1")
                        && std::arch::is_x86_feature_detected!("fma")
                }
                Isa::Traced | Isa::Scalar => true,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Isa::Scalar
        }
    }

    /// The widest tier this CPU supports.
    pub fn best() -> Isa {
        Isa::ALL.into_iter().find(|isa| isa.is_supported()).unwrap_or(Isa::Scalar)
    }

    /// The tier to use: `requested` if given, else `FUSEJIT_ISA` if set, else the best.
    /// Forcing a tier the CPU lacks is an error.
    pub fn select(requested: Option<Isa>) -> Result<Isa, ConfigError> {
        let requested = match requested {
            Some(isa) => Some(isa),
            None => match std::env::var("FUSEJIT_ISA") {
                Ok(text) => Isa::parse(text.trim()).map_err(|error| match error {
                    ConfigError::UnknownIsa { name, .. } => {
                        ConfigError::UnknownIsa { name, from_environment: true }
                    }
                    other => other,
                })?,
                Err(_) => None,
            },
        };
        match requested {
            None => Ok(Isa::best()),
            Some(isa) if isa.is_supported() => Ok(isa),
            Some(isa) => Err(ConfigError::UnsupportedIsa { name: isa.name() }),
        }
    }

    /// The tier's block function of `function` over f64, as an `extern "C"` entry point for
    /// native code; `None` when this CPU cannot run the tier, so that no safe call hands out
    /// code the CPU lacks the instructions for.
    pub fn block(self, function: MathFunction) -> Option<BlockFn> {
        self.is_supported().then(|| self.block_unchecked(function))
    }

    /// [`Isa::block`] of a tier already checked, or the scalar tier's (the same bits) where it
    /// is not supported.
    pub(crate) fn block_or_scalar(self, function: MathFunction) -> BlockFn {
        self.block(function).unwrap_or_else(|| function.scalar_block())
    }

    /// The widest tier's block function: `best()` is supported by construction, so it is
    /// handed out without checking again (the f32 stubs ask once per block).
    pub(crate) fn best_block(function: MathFunction) -> BlockFn {
        Isa::best().block_unchecked(function)
    }

    /// The tier's block function of a two-argument `function`, as [`Isa::block`].
    pub fn binary_block(self, function: BinaryMathFunction) -> Option<BinaryBlockFn> {
        self.is_supported().then(|| self.binary_block_unchecked(function))
    }

    /// [`Isa::binary_block`], or the scalar tier's where the tier is not supported.
    pub(crate) fn binary_block_or_scalar(self, function: BinaryMathFunction) -> BinaryBlockFn {
        self.binary_block(function).unwrap_or_else(|| function.scalar_block())
    }

    /// The tier's block function of `function` over f32: the f32 kernel on the elements
    /// widened to f64, each result rounded once, in the tier's own loop. `None` when this CPU
    /// cannot run the tier, as [`Isa::block`].
    pub fn f32_block(self, function: MathFunction) -> Option<F32BlockFn> {
        self.is_supported().then(|| self.f32_block_unchecked(function))
    }

    /// [`Isa::f32_block`], or the scalar tier's (the same bits) where the tier is not supported.
    pub(crate) fn f32_block_or_scalar(self, function: MathFunction) -> F32BlockFn {
        self.f32_block(function).unwrap_or_else(|| function.scalar_f32_block())
    }

    fn f32_block_unchecked(self, function: MathFunction) -> F32BlockFn {
        tier_block!(self, function, avx512_f32_block, avx2_f32_block, sse_f32_block, f32, scalar_f32_block)
    }

    /// The tier's block function of a two-argument `function` over f32, as
    /// [`Isa::f32_block`].
    pub fn f32_binary_block(self, function: BinaryMathFunction) -> Option<F32BinaryBlockFn> {
        self.is_supported().then(|| self.f32_binary_block_unchecked(function))
    }

    /// [`Isa::f32_binary_block`], or the scalar tier's where the tier is not supported.
    pub(crate) fn f32_binary_block_or_scalar(self, function: BinaryMathFunction) -> F32BinaryBlockFn {
        self.f32_binary_block(function).unwrap_or_else(|| function.scalar_f32_block())
    }

    fn f32_binary_block_unchecked(self, function: BinaryMathFunction) -> F32BinaryBlockFn {
        tier_block!(
            self,
            function,
            avx512_f32_binary_block,
            avx2_f32_binary_block,
            sse_f32_binary_block,
            binary_f32,
            scalar_f32_block
        )
    }

    fn binary_block_unchecked(self, function: BinaryMathFunction) -> BinaryBlockFn {
        tier_block!(
            self,
            function,
            avx512_binary_block,
            avx2_binary_block,
            sse_binary_block,
            binary_f64,
            scalar_block
        )
    }

    fn block_unchecked(self, function: MathFunction) -> BlockFn {
        tier_block!(self, function, avx512_block, avx2_block, sse_block, f64, scalar_block)
    }
}

/// A block function: `dst[i] = f(src[i])` for `i < n`; `src` and `dst` may be equal.
pub type BlockFn = unsafe extern "C" fn(src: *const f64, dst: *mut f64, n: usize);

/// [`BlockFn`] over f32s: each element computed in f64 and rounded once.
pub type F32BlockFn = unsafe extern "C" fn(src: *const f32, dst: *mut f32, n: usize);

/// Block form over slices with the best tier (for Rust callers and the hand-written baselines).
pub fn ln_f64_block(src: &[f64], dst: &mut [f64]) {
    let n = src.len().min(dst.len());
    let ln = Isa::best_block(MathFunction::Ln);
    // SAFETY: both slices hold at least n elements; the tier is supported.
    unsafe { ln(src.as_ptr(), dst.as_mut_ptr(), n) }
}

/// Block form over slices with the best tier.
pub fn exp_f64_block(src: &[f64], dst: &mut [f64]) {
    let n = src.len().min(dst.len());
    let exp = Isa::best_block(MathFunction::Exp);
    // SAFETY: both slices hold at least n elements; the tier is supported.
    unsafe { exp(src.as_ptr(), dst.as_mut_ptr(), n) }
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
        assert!(ln_f64(f64::NEG_INFINITY).is_nan());
        assert_eq!(ln_f64(f64::INFINITY), f64::INFINITY);
        assert!(ln_f64(f64::NAN).is_nan());
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_f64(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp_f64(1000.0), f64::INFINITY);
        assert_eq!(exp_f64(-1000.0), 0.0);
        assert_eq!(exp_f64(0.0), 1.0);
        assert!(exp_f64(f64::NAN).is_nan());
        assert_eq!(ln_f32(1.0), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn block_functions_are_handed_out_only_for_supported_tiers() {
        // In this unit-test process nothing installs the traced tier, so it is unsupported.
        assert!(!Isa::Traced.is_supported());
        assert!(Isa::Traced.block(MathFunction::Ln).is_none());
        for isa in Isa::ALL {
            for &function in MathFunction::ALL {
                assert_eq!(isa.block(function).is_some(), isa.is_supported(), "{isa:?}");
            }
        }
        assert!(Isa::Scalar.block(MathFunction::Exp).is_some());
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
