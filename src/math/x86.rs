//! The SIMD tiers on x86-64: 128-bit (SSE4.1 + FMA), 256-bit (AVX2 + FMA) and 512-bit
//! (AVX-512F), each a [`Lanes`] implementation over `std::arch` intrinsics. No SIMD type
//! crosses an ABI: the block entry points take pointers and a count.

#![cfg(target_arch = "x86_64")]

use super::lanes::{GuardedPath, LaneMemory, Lanes, LookupTable};
use std::arch::x86_64::*;

/// A tier's block function of each math function: an `extern "C"` entry point per function
/// that calls its `#[target_feature]` loop (so the kernel inlines into a loop compiled for the
/// tier's instructions).
macro_rules! tier_blocks {
    (
        $pick:ident, $element:ty, $kernel_of:ident, $block_fn:ty, $lanes:ty, $features:literal;
        $($variant:ident $name:literal $kernel:path => $f32_kernel:path),* $(,)?
    ) => {
        /// The tier's block function of `function` over its element type. Only handed out
        /// for a supported tier (`Isa::block`, `Isa::f32_block`).
        pub(crate) fn $pick(function: super::MathFunction) -> $block_fn {
            match function {
                $(super::MathFunction::$variant => {
                    /// # Safety
                    /// The CPU must have the tier's features; `src`/`dst` valid for `n` elements.
                    #[target_feature(enable = $features)]
                    unsafe fn tier_loop(src: *const $element, dst: *mut $element, n: usize) {
                        let kernel = super::MathFunction::$variant.$kernel_of::<$lanes>();
                        // SAFETY: forwarded from the caller.
                        unsafe { super::run_block::<$lanes, $element>(src, dst, n, kernel) }
                    }
                    /// # Safety
                    /// `src` readable and `dst` writable for `n` elements; only handed out for
                    /// a supported tier.
                    unsafe extern "C" fn entry(src: *const $element, dst: *mut $element, n: usize) {
                        // SAFETY: the tier was checked when this was handed out; the pointers
                        // are forwarded from the caller.
                        unsafe { tier_loop(src, dst, n) }
                    }
                    entry
                })*
            }
        }
    };
}

/// Two f64 lanes in an SSE register.
#[derive(Clone, Copy)]
pub struct Sse(__m128d);

impl LaneMemory for Sse {
    #[inline(always)]
    unsafe fn load(source: *const f64) -> Self {
        // SAFETY: the caller guarantees two readable f64s.
        Sse(unsafe { _mm_loadu_pd(source) })
    }
    #[inline(always)]
    unsafe fn store(self, target: *mut f64) {
        // SAFETY: the caller guarantees two writable f64s.
        unsafe { _mm_storeu_pd(target, self.0) }
    }
}

impl LaneMemory<f32> for Sse {
    #[inline(always)]
    unsafe fn load(source: *const f32) -> Self {
        // SAFETY: the caller guarantees two readable f32s (8 bytes; `_mm_loadl_epi64` reads
        // them unaligned).
        Sse(unsafe { _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(source.cast()))) })
    }
    #[inline(always)]
    unsafe fn store(self, target: *mut f32) {
        // SAFETY: the caller guarantees two writable f32s (8 bytes; `_mm_storel_epi64` writes
        // them unaligned).
        unsafe { _mm_storel_epi64(target.cast(), _mm_castps_si128(_mm_cvtpd_ps(self.0))) }
    }
}

// SAFETY (for every method below): these run only inside `#[target_feature(enable =
// "sse4.1,fma")]` entry points, chosen after runtime detection of those features.
impl Lanes for Sse {
    const WIDTH: usize = 2;
    type Mask = __m128d;
    #[inline(always)]
    fn splat(value: f64) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_set1_pd(value) })
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_add_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_sub_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_mul_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn div(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_div_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn fma(self, b: Self, c: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_fmadd_pd(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn and_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_and_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn or_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_or_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn xor_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_xor_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn add_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_castsi128_pd(_mm_add_epi64(_mm_castpd_si128(self.0), _mm_castpd_si128(other.0))) })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_sqrt_pd(self.0) })
    }
    #[inline(always)]
    fn shift_right_52(self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_castsi128_pd(_mm_srli_epi64::<52>(_mm_castpd_si128(self.0))) })
    }
    #[inline(always)]
    fn shift_left_52(self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_castsi128_pd(_mm_slli_epi64::<52>(_mm_castpd_si128(self.0))) })
    }
    #[inline(always)]
    fn less(self, other: Self) -> __m128d {
        // SAFETY: see the impl comment.
        unsafe { _mm_cmplt_pd(self.0, other.0) }
    }
    #[inline(always)]
    fn greater(self, other: Self) -> __m128d {
        // SAFETY: see the impl comment.
        unsafe { _mm_cmpgt_pd(self.0, other.0) }
    }
    #[inline(always)]
    fn equal(self, other: Self) -> __m128d {
        // SAFETY: see the impl comment.
        unsafe { _mm_cmpeq_pd(self.0, other.0) }
    }
    #[inline(always)]
    fn below_or_unordered(self, other: Self) -> __m128d {
        // SAFETY: see the impl comment.
        unsafe { _mm_cmpnge_pd(self.0, other.0) }
    }
    #[inline(always)]
    fn is_nan(self) -> __m128d {
        // SAFETY: see the impl comment.
        unsafe { _mm_cmpunord_pd(self.0, self.0) }
    }
    #[inline(always)]
    fn select(mask: __m128d, a: Self, b: Self) -> Self {
        // SAFETY: see the impl comment.
        Sse(unsafe { _mm_blendv_pd(b.0, a.0, mask) })
    }
    #[inline(always)]
    fn if_any<P: GuardedPath>(mask: __m128d, argument: Self, otherwise: Self) -> Self {
        // SAFETY: see the impl comment.
        if unsafe { _mm_movemask_pd(mask) } != 0 {
            Self::select(mask, P::run(argument), otherwise)
        } else {
            otherwise
        }
    }
    #[inline(always)]
    fn lookup(self, table: LookupTable) -> Self {
        // Two scalar loads: SSE has no variable permute of doubles across 16 entries.
        // SAFETY: see the impl comment.
        unsafe {
            let bits = _mm_castpd_si128(self.0);
            let low = table.entry(_mm_cvtsi128_si64(bits) as u64);
            let high = table.entry(_mm_cvtsi128_si64(_mm_unpackhi_epi64(bits, bits)) as u64);
            Sse(_mm_set_pd(high, low))
        }
    }
}

/// Four f64 lanes in an AVX register.
#[derive(Clone, Copy)]
pub struct Avx2(__m256d);

impl LaneMemory for Avx2 {
    #[inline(always)]
    unsafe fn load(source: *const f64) -> Self {
        // SAFETY: the caller guarantees four readable f64s.
        Avx2(unsafe { _mm256_loadu_pd(source) })
    }
    #[inline(always)]
    unsafe fn store(self, target: *mut f64) {
        // SAFETY: the caller guarantees four writable f64s.
        unsafe { _mm256_storeu_pd(target, self.0) }
    }
}

impl LaneMemory<f32> for Avx2 {
    #[inline(always)]
    unsafe fn load(source: *const f32) -> Self {
        // SAFETY: the caller guarantees four readable f32s.
        Avx2(unsafe { _mm256_cvtps_pd(_mm_loadu_ps(source)) })
    }
    #[inline(always)]
    unsafe fn store(self, target: *mut f32) {
        // SAFETY: the caller guarantees four writable f32s.
        unsafe { _mm_storeu_ps(target, _mm256_cvtpd_ps(self.0)) }
    }
}

// SAFETY (for every method below): these run only inside `#[target_feature(enable =
// "avx2,fma")]` entry points, chosen after runtime detection of those features.
impl Lanes for Avx2 {
    const WIDTH: usize = 4;
    type Mask = __m256d;
    #[inline(always)]
    fn splat(value: f64) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_set1_pd(value) })
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_add_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_sub_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_mul_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn div(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_div_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn fma(self, b: Self, c: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_fmadd_pd(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn and_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_and_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn or_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_or_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn xor_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_xor_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn add_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe {
            _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(self.0), _mm256_castpd_si256(other.0)))
        })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_sqrt_pd(self.0) })
    }
    #[inline(always)]
    fn shift_right_52(self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_castsi256_pd(_mm256_srli_epi64::<52>(_mm256_castpd_si256(self.0))) })
    }
    #[inline(always)]
    fn shift_left_52(self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_castpd_si256(self.0))) })
    }
    #[inline(always)]
    fn less(self, other: Self) -> __m256d {
        // SAFETY: see the impl comment.
        unsafe { _mm256_cmp_pd::<_CMP_LT_OQ>(self.0, other.0) }
    }
    #[inline(always)]
    fn greater(self, other: Self) -> __m256d {
        // SAFETY: see the impl comment.
        unsafe { _mm256_cmp_pd::<_CMP_GT_OQ>(self.0, other.0) }
    }
    #[inline(always)]
    fn equal(self, other: Self) -> __m256d {
        // SAFETY: see the impl comment.
        unsafe { _mm256_cmp_pd::<_CMP_EQ_OQ>(self.0, other.0) }
    }
    #[inline(always)]
    fn below_or_unordered(self, other: Self) -> __m256d {
        // SAFETY: see the impl comment.
        unsafe { _mm256_cmp_pd::<_CMP_NGE_UQ>(self.0, other.0) }
    }
    #[inline(always)]
    fn is_nan(self) -> __m256d {
        // SAFETY: see the impl comment.
        unsafe { _mm256_cmp_pd::<_CMP_UNORD_Q>(self.0, self.0) }
    }
    #[inline(always)]
    fn select(mask: __m256d, a: Self, b: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx2(unsafe { _mm256_blendv_pd(b.0, a.0, mask) })
    }
    #[inline(always)]
    fn if_any<P: GuardedPath>(mask: __m256d, argument: Self, otherwise: Self) -> Self {
        // SAFETY: see the impl comment.
        if unsafe { _mm256_movemask_pd(mask) } != 0 {
            Self::select(mask, P::run(argument), otherwise)
        } else {
            otherwise
        }
    }
    #[inline(always)]
    fn lookup(self, table: LookupTable) -> Self {
        // A gather of the four entries; the index is masked to 0..16 first, so every load is
        // inside the table.
        // SAFETY: see the impl comment; `table.values()` is 16 f64s and every offset is
        // below 16.
        Avx2(unsafe {
            let index = _mm256_and_si256(
                _mm256_castpd_si256(self.0),
                _mm256_set1_epi64x(LookupTable::INDEX_MASK as i64),
            );
            _mm256_i64gather_pd::<8>(table.values().as_ptr(), index)
        })
    }
}

/// Eight f64 lanes in an AVX-512 register.
#[derive(Clone, Copy)]
pub struct Avx512(__m512d);

impl LaneMemory for Avx512 {
    #[inline(always)]
    unsafe fn load(source: *const f64) -> Self {
        // SAFETY: the caller guarantees eight readable f64s.
        Avx512(unsafe { _mm512_loadu_pd(source) })
    }
    #[inline(always)]
    unsafe fn store(self, target: *mut f64) {
        // SAFETY: the caller guarantees eight writable f64s.
        unsafe { _mm512_storeu_pd(target, self.0) }
    }
}

impl LaneMemory<f32> for Avx512 {
    #[inline(always)]
    unsafe fn load(source: *const f32) -> Self {
        // SAFETY: the caller guarantees eight readable f32s.
        Avx512(unsafe { _mm512_cvtps_pd(_mm256_loadu_ps(source)) })
    }
    #[inline(always)]
    unsafe fn store(self, target: *mut f32) {
        // SAFETY: the caller guarantees eight writable f32s.
        unsafe { _mm256_storeu_ps(target, _mm512_cvtpd_ps(self.0)) }
    }
}

// SAFETY (for every method below): these run only inside `#[target_feature(enable =
// "avx512f")]` entry points, chosen after runtime detection of AVX-512F.
impl Lanes for Avx512 {
    const WIDTH: usize = 8;
    type Mask = __mmask8;
    #[inline(always)]
    fn splat(value: f64) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_set1_pd(value) })
    }
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_add_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_sub_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_mul_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn div(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_div_pd(self.0, other.0) })
    }
    #[inline(always)]
    fn fma(self, b: Self, c: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_fmadd_pd(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn and_bits(self, other: Self) -> Self {
        // AVX-512F has no `and_pd` (that is DQ): go through the integer form.
        // SAFETY: see the impl comment.
        Avx512(unsafe {
            _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(self.0), _mm512_castpd_si512(other.0)))
        })
    }
    #[inline(always)]
    fn or_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe {
            _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(self.0), _mm512_castpd_si512(other.0)))
        })
    }
    #[inline(always)]
    fn xor_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe {
            _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(self.0), _mm512_castpd_si512(other.0)))
        })
    }
    #[inline(always)]
    fn add_bits(self, other: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe {
            _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(self.0), _mm512_castpd_si512(other.0)))
        })
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_sqrt_pd(self.0) })
    }
    #[inline(always)]
    fn shift_right_52(self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_castsi512_pd(_mm512_srli_epi64::<52>(_mm512_castpd_si512(self.0))) })
    }
    #[inline(always)]
    fn shift_left_52(self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_castsi512_pd(_mm512_slli_epi64::<52>(_mm512_castpd_si512(self.0))) })
    }
    #[inline(always)]
    fn exponent_less_bias(self) -> Self {
        // `vgetexppd`: `floor(log2 |x|)` as a float, for a normal `x` its exponent field less
        // 1023 exactly, as the default's three operations give it.
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_getexp_pd(self.0) })
    }
    #[inline(always)]
    fn less(self, other: Self) -> __mmask8 {
        // SAFETY: see the impl comment.
        unsafe { _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, other.0) }
    }
    #[inline(always)]
    fn greater(self, other: Self) -> __mmask8 {
        // SAFETY: see the impl comment.
        unsafe { _mm512_cmp_pd_mask::<_CMP_GT_OQ>(self.0, other.0) }
    }
    #[inline(always)]
    fn equal(self, other: Self) -> __mmask8 {
        // SAFETY: see the impl comment.
        unsafe { _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(self.0, other.0) }
    }
    #[inline(always)]
    fn below_or_unordered(self, other: Self) -> __mmask8 {
        // SAFETY: see the impl comment.
        unsafe { _mm512_cmp_pd_mask::<_CMP_NGE_UQ>(self.0, other.0) }
    }
    #[inline(always)]
    fn is_nan(self) -> __mmask8 {
        // SAFETY: see the impl comment.
        unsafe { _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(self.0, self.0) }
    }
    #[inline(always)]
    fn select(mask: __mmask8, a: Self, b: Self) -> Self {
        // SAFETY: see the impl comment.
        Avx512(unsafe { _mm512_mask_blend_pd(mask, b.0, a.0) })
    }
    #[inline(always)]
    fn if_any<P: GuardedPath>(mask: __mmask8, argument: Self, otherwise: Self) -> Self {
        if mask != 0 { Self::select(mask, P::run(argument), otherwise) } else { otherwise }
    }
    #[inline(always)]
    fn lookup(self, table: LookupTable) -> Self {
        // The 16 entries in two registers; `vpermt2pd` reads the low four bits of each index
        // lane (bit 3 picks the register). The loads are of a static and hoist out of loops.
        const _: () = assert!(LookupTable::ENTRIES == 16, "vpermt2pd indexes two registers of eight");
        let values = table.values();
        // SAFETY: see the impl comment; `values` is 16 f64s, read as two groups of eight.
        Avx512(unsafe {
            let low = _mm512_loadu_pd(values.as_ptr());
            let high = _mm512_loadu_pd(values.as_ptr().add(8));
            _mm512_permutex2var_pd(low, _mm512_castpd_si512(self.0), high)
        })
    }
}

/// [`tier_blocks`] for the two-argument functions.
macro_rules! tier_binary_blocks {
    (
        $pick:ident, $element:ty, $block_fn:ty, $lanes:ty, $features:literal;
        $($variant:ident $name:literal $kernel:path),* $(,)?
    ) => {
        /// The tier's block function of a two-argument `function` over its element type.
        /// Only handed out for a supported tier (`Isa::binary_block`, `Isa::f32_binary_block`).
        pub(crate) fn $pick(function: super::BinaryMathFunction) -> $block_fn {
            match function {
                $(super::BinaryMathFunction::$variant => {
                    /// # Safety
                    /// The CPU must have the tier's features; `a`, `b`, `dst` valid for `n`
                    /// elements.
                    #[target_feature(enable = $features)]
                    unsafe fn tier_loop(a: *const $element, b: *const $element, dst: *mut $element, n: usize) {
                        // SAFETY: forwarded from the caller.
                        unsafe { super::run_block2::<$lanes, $element>(a, b, dst, n, $kernel) }
                    }
                    /// # Safety
                    /// `a`, `b` readable and `dst` writable for `n` elements; only handed out
                    /// for a supported tier.
                    unsafe extern "C" fn entry(a: *const $element, b: *const $element, dst: *mut $element, n: usize) {
                        // SAFETY: the tier was checked when this was handed out; the pointers
                        // are forwarded from the caller.
                        unsafe { tier_loop(a, b, dst, n) }
                    }
                    entry
                })*
            }
        }
    };
}

/// Every tier's block functions, over f64 and over f32 (widened and rounded in the loop).
macro_rules! tier_block_sets {
    ($(($lanes:ty, $features:literal, $f64:ident, $f32:ident, $binary_f64:ident, $binary_f32:ident)),* $(,)?) => {
        $(
            super::with_math_functions!(tier_blocks!($f64, f64, kernel, super::BlockFn, $lanes, $features));
            super::with_math_functions!(tier_blocks!(
                $f32, f32, f32_kernel, super::F32BlockFn, $lanes, $features
            ));
            super::with_binary_math_functions!(tier_binary_blocks!(
                $binary_f64, f64, super::BinaryBlockFn, $lanes, $features
            ));
            super::with_binary_math_functions!(tier_binary_blocks!(
                $binary_f32, f32, super::F32BinaryBlockFn, $lanes, $features
            ));
        )*
    };
}

tier_block_sets!(
    (Sse, "sse4.1,fma", sse_block, sse_f32_block, sse_binary_block, sse_f32_binary_block),
    (Avx2, "avx2,fma", avx2_block, avx2_f32_block, avx2_binary_block, avx2_f32_binary_block),
    (Avx512, "avx512f", avx512_block, avx512_f32_block, avx512_binary_block, avx512_f32_binary_block),
);
