//! The `extern "C"` functions native kernels call, registered by name with the JIT. Pointers and
//! counts only cross the ABI — never SIMD types.

use crate::types::pack_low_bits;

/// Moves `keep` bytes starting at `buffer + skip` to `buffer`: keeps the last rows of a block
/// as the next block's halo.
///
/// # Safety
/// `buffer` must be valid for reading and writing `skip + keep` bytes.
pub unsafe extern "C" fn shift_halo(buffer: *mut u8, skip: usize, keep: usize) {
    // SAFETY: both ranges lie within the caller's `skip + keep` bytes; `copy` allows overlap.
    unsafe { std::ptr::copy(buffer.add(skip), buffer, keep) };
}

/// Packs `len` validity bytes (0 or 1) into the bitmap's bits `start..start + len`.
/// `start` is a multiple of 8 (blocks start on byte boundaries).
///
/// # Safety
/// `bytes` must be valid for reading `len` bytes and `bitmap` for writing
/// `(start + len).div_ceil(8)` bytes.
pub unsafe extern "C" fn pack_validity(bytes: *const u8, bitmap: *mut u8, start: usize, len: usize) {
    debug_assert_eq!(start % 8, 0);
    // SAFETY: the caller guarantees both ranges.
    let (bytes, bitmap) = unsafe {
        (
            std::slice::from_raw_parts(bytes, len),
            std::slice::from_raw_parts_mut(bitmap.add(start / 8), len.div_ceil(8)),
        )
    };
    // 32 rows per step with AVX2: bit 0 of each byte shifted to bit 7 (a 16-bit shift by 7
    // moves nothing else there), gathered by `vpmovmskb`.
    #[cfg(target_arch = "x86_64")]
    let done = if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected.
        unsafe { pack_validity_avx2(bytes, bitmap) }
    } else {
        0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    let (bytes, bitmap) = (&bytes[done..], &mut bitmap[done / 8..]);
    for (chunk, out) in bytes.chunks(8).zip(bitmap.iter_mut()) {
        *out = if let Ok(eight) = <[u8; 8]>::try_from(chunk) {
            pack_low_bits(u64::from_le_bytes(eight))
        } else {
            chunk.iter().enumerate().fold(0u8, |byte, (bit, &valid)| byte | (valid & 1) << bit)
        };
    }
}

/// [`pack_validity`]'s rows 32 at a time, as many as there are whole groups of 32: returns
/// how many rows it packed (a multiple of 32).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pack_validity_avx2(bytes: &[u8], bitmap: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    let mut done = 0;
    for (group, out) in bytes.chunks_exact(32).zip(bitmap.chunks_exact_mut(4)) {
        // SAFETY: `group` is 32 readable bytes.
        let rows = unsafe { _mm256_loadu_si256(group.as_ptr().cast()) };
        let bits = _mm256_movemask_epi8(_mm256_slli_epi16::<7>(rows)) as u32;
        out.copy_from_slice(&bits.to_le_bytes());
        done += 32;
    }
    done
}

/// The validity of block rows `[0, len)` written straight into `bitmap` as bits
/// `start .. start + len`: set where every source is valid at block row `i` (the sources of
/// [`combine_validity`], none of them `SOURCE_BYTES`), else clear, and the last byte's bits
/// past `len` clear, as [`pack_validity`] leaves them. The validity of a result read only from
/// input bitmaps (and reads that are merely in range), 64 rows a word, with no bytes between.
///
/// # Safety
/// `sources` must point to `count` sources, none `SOURCE_BYTES`; every source must be readable
/// at bit `position + i` for `first_valid <= i < len`; `start` is a multiple of 8 and `bitmap`
/// is writable for bytes `start / 8 .. start / 8 + len.div_ceil(8)`.
pub unsafe extern "C" fn combine_validity_bits(
    sources: *const ValiditySource,
    count: usize,
    len: usize,
    bitmap: *mut u8,
    start: usize,
) {
    debug_assert_eq!(start % 8, 0);
    // SAFETY: the caller guarantees both ranges.
    let (sources, bitmap) = unsafe {
        (
            std::slice::from_raw_parts(sources, count),
            std::slice::from_raw_parts_mut(bitmap.add(start / 8), len.div_ceil(8)),
        )
    };
    // Whole words at and after every source's first valid row (most of a block) take the
    // AND of the sources' words, with nothing to mask; the words before them and the last,
    // partial one the general route ([`combined_validity_word`]).
    let whole_from = sources
        .iter()
        .map(|source| usize::try_from(source.first_valid.max(0)).unwrap_or(usize::MAX).div_ceil(64))
        .max()
        .unwrap_or(0);
    let whole = len / 64;
    let (words, last) = bitmap.split_at_mut(whole * 8);
    let (partial, words_from) = words.split_at_mut(whole_from.min(whole) * 8);
    for (word_index, out) in partial.chunks_exact_mut(8).enumerate() {
        // SAFETY: forwarded: rows `64·word_index ..` and 64 more lie before `len`.
        let word = unsafe { combined_validity_word(sources, word_index * 64, 64) };
        out.copy_from_slice(&word.to_le_bytes());
    }
    // The whole words from `whole_from` on: the first bitmap source's words written, each
    // other's ANDed in, a source at a time (a byte-aligned one as bytes); all set when no
    // source is a bitmap.
    let first_row = whole_from.min(whole) * 64;
    let mut written = false;
    for source in sources.iter().filter(|source| source.kind == SOURCE_BITMAP) {
        let bit = usize::try_from(source.position + first_row as i64).expect("a readable bit");
        let base = source.pointer as *const u8;
        if bit.is_multiple_of(8) {
            // SAFETY: rows `first_row .. 64·whole` are at or after the source's first valid
            // row and before `len`, so its bits `bit ..` for as many rows are readable: the
            // bytes `bit / 8 ..` for `words_from.len()` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(base.add(bit / 8), words_from.len()) };
            if written {
                words_from.iter_mut().zip(bytes).for_each(|(out, &byte)| *out &= byte);
            } else {
                words_from.copy_from_slice(bytes);
            }
        } else {
            for (k, out) in words_from.chunks_exact_mut(8).enumerate() {
                // SAFETY: as above, bits `bit + 64·k ..` and 64 more are readable.
                let word = unsafe { read_bitmap_word(base, bit + 64 * k) };
                let word = if written {
                    word & u64::from_le_bytes((&*out).try_into().expect("eight bytes"))
                } else {
                    word
                };
                out.copy_from_slice(&word.to_le_bytes());
            }
        }
        written = true;
    }
    if !written {
        words_from.fill(u8::MAX);
    }
    if !last.is_empty() {
        let i = len / 64 * 64;
        // SAFETY: forwarded: rows `i .. len` lie before `len`.
        let word = unsafe { combined_validity_word(sources, i, len - i) };
        last.copy_from_slice(&word.to_le_bytes()[..last.len()]);
    }
}

/// [`combine_validity_bits`]'s word of block rows `i .. i + rows` (`rows` ≤ 64) by the
/// general route: each source's rows before its first valid one cleared, its bits read
/// from there on, the bits past `rows` clear.
///
/// # Safety
/// As [`combine_validity_bits`], for rows `i .. i + rows`, all before its `len`.
unsafe fn combined_validity_word(sources: &[ValiditySource], i: usize, rows: usize) -> u64 {
    let mut word = if rows == 64 { u64::MAX } else { (1u64 << rows) - 1 };
    for source in sources {
        debug_assert_ne!(source.kind, SOURCE_BYTES);
        let first = usize::try_from(source.first_valid.max(0)).unwrap_or(usize::MAX);
        if first >= i + rows {
            return 0;
        }
        // Rows before `first` read before row 0: null, and their bits are not read.
        let from = first.max(i);
        word &= !((1u64 << (from - i)) - 1);
        if source.kind == SOURCE_BITMAP {
            let bit = usize::try_from(source.position + from as i64).expect("a readable bit");
            let (count, shift, base) = (i + rows - from, bit % 8, source.pointer as *const u8);
            // Bits `bit .. bit + count` are readable (rows `from .. i + rows` are at or
            // after `first_valid` and before `len`): bytes `bit / 8 ..= (bit + count − 1) / 8`.
            let bits = if count == 64 {
                // SAFETY: bits `bit .. bit + 64` are readable (above).
                unsafe { read_bitmap_word(base, bit) }
            } else {
                let (first_byte, last_byte) = (bit / 8, (bit + count - 1) / 8);
                // SAFETY: bytes `first_byte ..= last_byte` hold the readable bits above.
                let bytes =
                    unsafe { std::slice::from_raw_parts(base.add(first_byte), last_byte - first_byte + 1) };
                let gathered =
                    bytes.iter().enumerate().fold(0u128, |acc, (k, &byte)| acc | u128::from(byte) << (8 * k));
                (gathered >> shift) as u64
            };
            word &= bits << (from - i);
        }
    }
    word
}

/// Bits `bit .. bit + 64` of the bitmap at `base`, bit `bit` in bit 0 (at any bit offset:
/// an Arrow slice's bitmap starts anywhere).
///
/// # Safety
/// Bits `bit .. bit + 64` of `base` must be readable: they span bytes `bit / 8 ..= (bit + 63)
/// / 8`, which is `bit / 8 + 7`, or `bit / 8 + 8` when `bit % 8 > 0` (the only case that reads
/// that ninth byte).
#[inline(always)]
unsafe fn read_bitmap_word(base: *const u8, bit: usize) -> u64 {
    let shift = bit % 8;
    // SAFETY: the caller guarantees bytes `bit / 8 .. bit / 8 + 8`, and the ninth when read.
    unsafe {
        let low = u64::from_le(std::ptr::read_unaligned(base.add(bit / 8).cast::<u64>())) >> shift;
        if shift == 0 { low } else { low | u64::from(*base.add(bit / 8 + 8)) << (64 - shift) }
    }
}

/// Eight bits to eight 0/1 bytes, bit `j` to byte `j`: the byte replicated into every byte,
/// each byte keeping its own bit (a power of two or 0), which adding 0x7f carries into the
/// byte's top bit without touching its neighbour.
fn bits_to_bytes(bits: u8) -> u64 {
    let kept = (u64::from(bits) * 0x0101_0101_0101_0101) & 0x8040_2010_0804_0201;
    ((kept + 0x7f7f_7f7f_7f7f_7f7f) >> 7) & 0x0101_0101_0101_0101
}

/// One validity a kernel combines in [`combine_validity`]: for block row `i`, the read is in
/// range from row `first_valid` on, and then valid where bit (`SOURCE_BITMAP`) or byte
/// (`SOURCE_BYTES`) `position + i` of `pointer` is set, or always (`SOURCE_IN_RANGE`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ValiditySource {
    pub kind: i64,
    pub pointer: i64,
    pub position: i64,
    pub first_valid: i64,
}

pub const SOURCE_BITMAP: i64 = 0;
pub const SOURCE_BYTES: i64 = 1;
pub const SOURCE_IN_RANGE: i64 = 2;

/// `out[i] = 1` where every source is valid at block row `i`, else 0, for `i < len`: the
/// validity of a value computed in `f64x2`, a block at a time (64 rows of a bitmap per word).
///
/// # Safety
/// `sources` must point to `count` sources; `out` must be writable for `len` bytes; every
/// source must be readable at `position + i` for `first_valid <= i < len`.
pub unsafe extern "C" fn combine_validity(
    sources: *const ValiditySource,
    count: usize,
    len: usize,
    out: *mut u8,
) {
    // SAFETY: the caller guarantees both ranges.
    let (sources, out) =
        unsafe { (std::slice::from_raw_parts(sources, count), std::slice::from_raw_parts_mut(out, len)) };
    out.fill(1);
    let avx2 = has_avx2();
    for source in sources {
        let first = usize::try_from(source.first_valid.max(0)).unwrap_or(usize::MAX).min(len);
        out[..first].fill(0);
        let base = source.pointer as *const u8;
        if source.kind == SOURCE_IN_RANGE {
            continue;
        }
        if source.kind == SOURCE_BYTES {
            // SAFETY: bytes position + i are readable for first_valid <= i < len.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    base.offset((source.position + first as i64) as isize),
                    len - first,
                )
            };
            for (valid, byte) in out[first..].iter_mut().zip(bytes) {
                *valid &= byte & 1;
            }
        } else {
            let mut i = first;
            while i < len {
                let bit = (source.position + i as i64) as usize;
                if i + 64 <= len {
                    // 64 rows at once, at any bit offset (an Arrow slice's bitmap starts
                    // anywhere); all-valid words skip the loop.
                    // SAFETY: bits bit..bit+64 are readable (rows i..i+64 are in range).
                    let word = unsafe { read_bitmap_word(base, bit) };
                    if word != u64::MAX {
                        and_word_into_bytes(&mut out[i..i + 64], word, avx2);
                    }
                    i += 64;
                } else {
                    // SAFETY: bit `bit` is readable (row i is in range).
                    *out.get_mut(i).expect("i < len") &= unsafe { *base.add(bit / 8) } >> (bit % 8) & 1;
                    i += 1;
                }
            }
        }
    }
}

/// Whether this CPU has AVX2, asked once per call of a stub rather than once per word.
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// ANDs the 64 bits of `word` into the 64 validity bytes `out` (0 or 1 each), bit `j` into
/// byte `j`: with AVX2 (`avx2`, from [`has_avx2`]) 32 bytes an instruction, else eight at a
/// time by [`bits_to_bytes`].
fn and_word_into_bytes(out: &mut [u8], word: u64, avx2: bool) {
    debug_assert_eq!(out.len(), 64);
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: the caller asked `has_avx2`, which detected AVX2.
        return unsafe { and_word_into_bytes_avx2(out, word) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = avx2;
    and_word_into_bytes_by_eights(out, word);
}

/// [`and_word_into_bytes`] on any CPU: eight bytes at a time by [`bits_to_bytes`].
fn and_word_into_bytes_by_eights(out: &mut [u8], word: u64) {
    for (k, eight) in out.chunks_exact_mut(8).enumerate() {
        let bytes = u64::from_le_bytes((&*eight).try_into().expect("eight bytes"));
        let anded = bytes & bits_to_bytes((word >> (8 * k)) as u8);
        eight.copy_from_slice(&anded.to_le_bytes());
    }
}

/// [`and_word_into_bytes`] with AVX2: each 32-bit half broadcast, every byte given the
/// byte of the half that holds its bit (`vpshufb` within each 128-bit lane), that bit kept by
/// an AND with its power of two, and the result, zero or that power, turned into 0 or 1 by
/// an unsigned minimum with 1.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn and_word_into_bytes_avx2(out: &mut [u8], word: u64) {
    use std::arch::x86_64::*;
    // Lane 0 (bytes 0..16) takes the half's bytes 0 and 1, lane 1 (bytes 16..32) its bytes 2
    // and 3, each eight times; the broadcast put the half's four bytes in every lane.
    let spread = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
    );
    let bit_of_byte = _mm256_set1_epi64x(0x8040_2010_0804_0201_u64 as i64);
    let one = _mm256_set1_epi8(1);
    for (half, bytes) in out.chunks_exact_mut(32).enumerate() {
        let bits = _mm256_set1_epi32((word >> (32 * half)) as u32 as i32);
        let kept = _mm256_and_si256(_mm256_shuffle_epi8(bits, spread), bit_of_byte);
        let valid = _mm256_min_epu8(kept, one);
        // SAFETY: `bytes` is 32 bytes, readable and writable; unaligned access is allowed.
        unsafe {
            let old = _mm256_loadu_si256(bytes.as_ptr().cast());
            _mm256_storeu_si256(bytes.as_mut_ptr().cast(), _mm256_and_si256(old, valid));
        }
    }
}

/// The libm functions Cranelift may emit as libcalls when the ISA lacks an instruction
/// (`floor`, `ceil`, `nearest`, `trunc`, `fma` without SSE4.1/FMA). Registered so that no
/// libcall is ever unresolved; each is the exact IEEE operation.
pub extern "C" fn floor_f64(x: f64) -> f64 {
    x.floor()
}
pub extern "C" fn floor_f32(x: f32) -> f32 {
    x.floor()
}
pub extern "C" fn ceil_f64(x: f64) -> f64 {
    x.ceil()
}
pub extern "C" fn ceil_f32(x: f32) -> f32 {
    x.ceil()
}
pub extern "C" fn trunc_f64(x: f64) -> f64 {
    x.trunc()
}
pub extern "C" fn trunc_f32(x: f32) -> f32 {
    x.trunc()
}
pub extern "C" fn nearest_f64(x: f64) -> f64 {
    x.round_ties_even()
}
pub extern "C" fn nearest_f32(x: f32) -> f32 {
    x.round_ties_even()
}
pub extern "C" fn fma_f64(a: f64, b: f64, c: f64) -> f64 {
    a.mul_add(b, c)
}
pub extern "C" fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}

/// The libm functions Cranelift may emit as libcalls (rounding without SSE4.1, `fma` without
/// FMA), by the names Cranelift calls them, so that no libcall is ever unresolved. The
/// runtime functions kernels import by name are in `codegen::runtime_functions`.
pub(crate) fn libcall_symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("floor", floor_f64 as *const u8),
        ("floorf", floor_f32 as *const u8),
        ("ceil", ceil_f64 as *const u8),
        ("ceilf", ceil_f32 as *const u8),
        ("trunc", trunc_f64 as *const u8),
        ("truncf", trunc_f32 as *const u8),
        ("nearbyint", nearest_f64 as *const u8),
        ("nearbyintf", nearest_f32 as *const u8),
        ("fma", fma_f64 as *const u8),
        ("fmaf", fma_f32 as *const u8),
    ]
}

/// `dst[i] = a[i] / b[i]` for `i < len`. IEEE division is correctly rounded, so every way of
/// running it gives the same bits: this one divides four lanes an instruction with AVX2,
/// where Cranelift's x86-64 loops divide two.
///
/// # Safety
/// `a` and `b` must be valid for reading `len` values and `dst` for writing them; `dst` may
/// be `a` (in place) and overlaps neither otherwise.
pub unsafe extern "C" fn divide_f64_block(a: *const f64, b: *const f64, dst: *mut f64, len: usize) {
    // SAFETY: the caller's guarantees are `divide_block`'s.
    unsafe { divide_block::<f64>(a, None, Divisor::Column(b), dst, len) }
}

/// `dst[i] = a[i] / divisor` for `i < len`, `divisor` given by its bits ([`divide_f64_block`]).
///
/// # Safety
/// As for [`divide_f64_block`], without `b`.
pub unsafe extern "C" fn divide_f64_block_by_scalar(a: *const f64, divisor: u64, dst: *mut f64, len: usize) {
    // SAFETY: the caller's guarantees are `divide_block`'s.
    unsafe { divide_block::<f64>(a, None, Divisor::Scalar(f64::from_bits(divisor)), dst, len) }
}

/// `dst[i] = (a[i] − subtrahend) / divisor` for `i < len`, both scalars given by their bits:
/// a z-score's `(x − mean) / std` in one pass. Two IEEE operations a row, each correctly
/// rounded, so the bits of a row loop that subtracts and then divides ([`divide_f64_block`]).
///
/// # Safety
/// As for [`divide_f64_block`], without `b`.
pub unsafe extern "C" fn centered_divide_f64_block_by_scalar(
    a: *const f64,
    subtrahend: u64,
    divisor: u64,
    dst: *mut f64,
    len: usize,
) {
    let (subtrahend, divisor) = (f64::from_bits(subtrahend), f64::from_bits(divisor));
    // SAFETY: the caller's guarantees are `divide_block`'s.
    unsafe { divide_block::<f64>(a, Some(subtrahend), Divisor::Scalar(divisor), dst, len) }
}

/// [`divide_f64_block`] over f32 values (eight lanes an AVX2 instruction).
///
/// # Safety
/// As for [`divide_f64_block`].
pub unsafe extern "C" fn divide_f32_block(a: *const f32, b: *const f32, dst: *mut f32, len: usize) {
    // SAFETY: the caller's guarantees are `divide_block`'s.
    unsafe { divide_block::<f32>(a, None, Divisor::Column(b), dst, len) }
}

/// [`divide_f64_block_by_scalar`] over f32 values: the divisor's bits are the low 32.
///
/// # Safety
/// As for [`divide_f64_block`], without `b`.
pub unsafe extern "C" fn divide_f32_block_by_scalar(a: *const f32, divisor: u64, dst: *mut f32, len: usize) {
    let divisor = f32::from_bits(divisor as u32);
    // SAFETY: the caller's guarantees are `divide_block`'s.
    unsafe { divide_block::<f32>(a, None, Divisor::Scalar(divisor), dst, len) }
}

/// [`centered_divide_f64_block_by_scalar`] over f32 values: each scalar's bits are the low
/// 32 of its word.
///
/// # Safety
/// As for [`divide_f64_block`], without `b`.
pub unsafe extern "C" fn centered_divide_f32_block_by_scalar(
    a: *const f32,
    subtrahend: u64,
    divisor: u64,
    dst: *mut f32,
    len: usize,
) {
    let (subtrahend, divisor) = (f32::from_bits(subtrahend as u32), f32::from_bits(divisor as u32));
    // SAFETY: the caller's guarantees are `divide_block`'s.
    unsafe { divide_block::<f32>(a, Some(subtrahend), Divisor::Scalar(divisor), dst, len) }
}

/// Where a division block's divisors come from.
#[derive(Clone, Copy)]
enum Divisor<T> {
    /// One per row, `len` of them from this pointer.
    Column(*const T),
    Scalar(T),
}

impl<T: Copy> Divisor<T> {
    /// Row `i`'s divisor.
    ///
    /// # Safety
    /// For a column, row `i` must be readable.
    #[inline(always)]
    unsafe fn row(self, i: usize) -> T {
        match self {
            // SAFETY: the caller guarantees the row.
            Divisor::Column(b) => unsafe { b.add(i).read() },
            Divisor::Scalar(divisor) => divisor,
        }
    }
}

/// The values a division block divides: what each CPU's loop needs of them.
trait DivisionLanes: Copy + std::ops::Sub<Output = Self> + std::ops::Div<Output = Self> {
    /// Divides the rows of whole AVX2 steps (two registers: 8 f64s, 16 f32s) from row 0, each
    /// less `subtrahend` first when there is one, and returns how many rows that was; each
    /// step's rows are loaded before any is stored, so `dst` may be `a`.
    ///
    /// # Safety
    /// As for [`divide_f64_block`], on a CPU with AVX2.
    #[cfg(target_arch = "x86_64")]
    unsafe fn divide_avx2(
        a: *const Self,
        subtrahend: Option<Self>,
        divisor: Divisor<Self>,
        dst: *mut Self,
        len: usize,
    ) -> usize;
}

/// [`DivisionLanes`] for one float type: its lanes per AVX2 register and its intrinsics.
macro_rules! division_lanes {
    ($float:ty, $lanes:literal, $load:ident, $splat:ident, $subtract:ident, $divide:ident, $store:ident) => {
        impl DivisionLanes for $float {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn divide_avx2(
                a: *const $float,
                subtrahend: Option<$float>,
                divisor: Divisor<$float>,
                dst: *mut $float,
                len: usize,
            ) -> usize {
                use std::arch::x86_64::*;
                let whole = len - len % (2 * $lanes);
                for i in (0..whole).step_by(2 * $lanes) {
                    // SAFETY: rows `i..i + 2·lanes` are below `len`: readable at `a` and the
                    // divisor, writable at `dst`.
                    unsafe {
                        let (mut low, mut high) = ($load(a.add(i)), $load(a.add(i + $lanes)));
                        if let Some(subtrahend) = subtrahend {
                            (low, high) =
                                ($subtract(low, $splat(subtrahend)), $subtract(high, $splat(subtrahend)));
                        }
                        let (divisor_low, divisor_high) = match divisor {
                            Divisor::Column(b) => ($load(b.add(i)), $load(b.add(i + $lanes))),
                            Divisor::Scalar(d) => ($splat(d), $splat(d)),
                        };
                        $store(dst.add(i), $divide(low, divisor_low));
                        $store(dst.add(i + $lanes), $divide(high, divisor_high));
                    }
                }
                whole
            }
        }
    };
}

division_lanes!(f64, 4, _mm256_loadu_pd, _mm256_set1_pd, _mm256_sub_pd, _mm256_div_pd, _mm256_storeu_pd);
division_lanes!(f32, 8, _mm256_loadu_ps, _mm256_set1_ps, _mm256_sub_ps, _mm256_div_ps, _mm256_storeu_ps);

/// The division blocks' loop: whole AVX2 steps where the CPU has AVX2, then the rest row by
/// row ([`divide_rows_from`]).
///
/// # Safety
/// As for [`divide_f64_block`].
#[inline(always)]
unsafe fn divide_block<T: DivisionLanes>(
    a: *const T,
    subtrahend: Option<T>,
    divisor: Divisor<T>,
    dst: *mut T,
    len: usize,
) {
    #[cfg(target_arch = "x86_64")]
    let done = if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected; the caller's guarantees are `divide_avx2`'s.
        unsafe { T::divide_avx2(a, subtrahend, divisor, dst, len) }
    } else {
        0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    // SAFETY: the caller's guarantees, and `done ≤ len`.
    unsafe { divide_rows_from(done, a, subtrahend, divisor, dst, len) }
}

/// `dst[i] = (a[i] − subtrahend) / divisor[i]` (without a subtrahend, `a[i] / divisor[i]`)
/// for `i` in `first..len`, row by row (so `dst` may be `a`).
///
/// # Safety
/// As for [`divide_f64_block`].
#[inline(always)]
unsafe fn divide_rows_from<T: DivisionLanes>(
    first: usize,
    a: *const T,
    subtrahend: Option<T>,
    divisor: Divisor<T>,
    dst: *mut T,
    len: usize,
) {
    for i in first..len {
        // SAFETY: row `i` is below `len`.
        unsafe {
            let dividend = a.add(i).read();
            let dividend = match subtrahend {
                Some(subtrahend) => dividend - subtrahend,
                None => dividend,
            };
            dst.add(i).write(dividend / divisor.row(i));
        }
    }
}

/// `dst[i] = √src[i]` for `i < len`. IEEE square root is correctly rounded, so every way of
/// running it gives the same bits: this one takes four lanes an instruction with AVX2, where
/// Cranelift's x86-64 loops take two.
///
/// # Safety
/// `src` must be valid for reading `len` values and `dst` for writing them; `dst` may be
/// `src` (in place) and does not overlap it otherwise.
pub unsafe extern "C" fn sqrt_f64_block(src: *const f64, dst: *mut f64, len: usize) {
    // SAFETY: the caller's guarantees are `sqrt_block`'s.
    unsafe { sqrt_block::<f64>(src, dst, len) }
}

/// [`sqrt_f64_block`] over f32 values (eight lanes an AVX2 instruction).
///
/// # Safety
/// As for [`sqrt_f64_block`].
pub unsafe extern "C" fn sqrt_f32_block(src: *const f32, dst: *mut f32, len: usize) {
    // SAFETY: the caller's guarantees are `sqrt_block`'s.
    unsafe { sqrt_block::<f32>(src, dst, len) }
}

/// The values a square-root block takes: what each CPU's loop needs of them.
trait SquareRootLanes: Copy {
    /// IEEE square root, as the row loop's `sqrt`.
    fn sqrt(self) -> Self;

    /// Takes the square roots of the rows of whole AVX2 steps (two registers: 8 f64s, 16
    /// f32s) from row 0 and returns how many rows that was; each step's rows are loaded
    /// before any is stored, so `dst` may be `src`.
    ///
    /// # Safety
    /// As for [`sqrt_f64_block`], on a CPU with AVX2.
    #[cfg(target_arch = "x86_64")]
    unsafe fn sqrt_avx2(src: *const Self, dst: *mut Self, len: usize) -> usize;
}

/// [`SquareRootLanes`] for one float type: its lanes per AVX2 register and its intrinsics.
macro_rules! square_root_lanes {
    ($float:ty, $lanes:literal, $load:ident, $sqrt:ident, $store:ident) => {
        impl SquareRootLanes for $float {
            fn sqrt(self) -> Self {
                <$float>::sqrt(self)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn sqrt_avx2(src: *const $float, dst: *mut $float, len: usize) -> usize {
                use std::arch::x86_64::*;
                let whole = len - len % (2 * $lanes);
                for i in (0..whole).step_by(2 * $lanes) {
                    // SAFETY: rows `i..i + 2·lanes` are below `len`: readable at `src`,
                    // writable at `dst`.
                    unsafe {
                        let (low, high) = ($load(src.add(i)), $load(src.add(i + $lanes)));
                        $store(dst.add(i), $sqrt(low));
                        $store(dst.add(i + $lanes), $sqrt(high));
                    }
                }
                whole
            }
        }
    };
}

square_root_lanes!(f64, 4, _mm256_loadu_pd, _mm256_sqrt_pd, _mm256_storeu_pd);
square_root_lanes!(f32, 8, _mm256_loadu_ps, _mm256_sqrt_ps, _mm256_storeu_ps);

/// The square-root blocks' loop: whole AVX2 steps where the CPU has AVX2, then the rest row
/// by row ([`sqrt_rows_from`]).
///
/// # Safety
/// As for [`sqrt_f64_block`].
#[inline(always)]
unsafe fn sqrt_block<T: SquareRootLanes>(src: *const T, dst: *mut T, len: usize) {
    #[cfg(target_arch = "x86_64")]
    let done = if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was just detected; the caller's guarantees are `sqrt_avx2`'s.
        unsafe { T::sqrt_avx2(src, dst, len) }
    } else {
        0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    // SAFETY: the caller's guarantees, and `done ≤ len`.
    unsafe { sqrt_rows_from(done, src, dst, len) }
}

/// `dst[i] = √src[i]` for `i` in `first..len`, row by row (so `dst` may be `src`).
///
/// # Safety
/// As for [`sqrt_f64_block`].
#[inline(always)]
unsafe fn sqrt_rows_from<T: SquareRootLanes>(first: usize, src: *const T, dst: *mut T, len: usize) {
    for i in first..len {
        // SAFETY: row `i` is below `len`.
        unsafe {
            dst.add(i).write(src.add(i).read().sqrt());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every division block, in place and not, by a column and by a scalar, with and without
    /// a subtrahend (the centred division), on the CPU's path and the portable one, for
    /// every length up to three steps of 16: the bits of Rust's `/` (after its `-`) in every
    /// row, and nothing written past `len`.
    #[test]
    fn division_blocks_give_rust_division_bits_in_every_row() {
        let specials = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 5e-324, -2.5, 1e308, 3.0];
        let a: Vec<f64> =
            (0..48).map(|i| if i % 2 == 0 { specials[i % 9] } else { i as f64 * 1.37 - 20.0 }).collect();
        let b: Vec<f64> =
            (0..48).map(|i| if i % 3 == 0 { specials[(i / 3) % 9] } else { 7.0 - i as f64 * 0.61 }).collect();
        let same64 = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        let same32 = |x: f32, y: f32| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        // A subtrahend whose subtraction rounds (0.1), −0 (which keeps a −0 dividend −0), and
        // an infinity (∞ − ∞ is NaN).
        let subtrahends = [None, Some(0.1), Some(-0.0), Some(f64::INFINITY)];
        for len in 0..48 {
            for divisor in [Divisor::Column(b.as_ptr()), Divisor::Scalar(-0.0), Divisor::Scalar(0.3)] {
                for subtrahend in subtrahends {
                    let dividend = |row: usize| subtrahend.map_or(a[row], |c| a[row] - c);
                    let expected = |row: usize| match divisor {
                        Divisor::Column(_) => dividend(row) / b[row],
                        Divisor::Scalar(d) => dividend(row) / d,
                    };
                    let mut out = vec![42.0; 48];
                    let mut in_place = a.clone();
                    let mut portable = vec![42.0; 48];
                    // SAFETY: every pointer covers 48 ≥ `len` values; `in_place` is both `a`
                    // and `dst`.
                    unsafe {
                        match (divisor, subtrahend) {
                            (Divisor::Column(b), None) => {
                                divide_f64_block(a.as_ptr(), b, out.as_mut_ptr(), len)
                            }
                            (Divisor::Scalar(d), None) => {
                                divide_f64_block_by_scalar(a.as_ptr(), d.to_bits(), out.as_mut_ptr(), len)
                            }
                            (Divisor::Scalar(d), Some(c)) => centered_divide_f64_block_by_scalar(
                                a.as_ptr(),
                                c.to_bits(),
                                d.to_bits(),
                                out.as_mut_ptr(),
                                len,
                            ),
                            // No runtime function: the loop itself.
                            (Divisor::Column(_), Some(_)) => {
                                divide_block::<f64>(a.as_ptr(), subtrahend, divisor, out.as_mut_ptr(), len)
                            }
                        }
                        divide_block::<f64>(
                            in_place.as_ptr(),
                            subtrahend,
                            divisor,
                            in_place.as_mut_ptr(),
                            len,
                        );
                        divide_rows_from(0, a.as_ptr(), subtrahend, divisor, portable.as_mut_ptr(), len);
                    }
                    for row in 0..48 {
                        let want = if row < len { expected(row) } else { 42.0 };
                        assert!(same64(out[row], want), "len {len} row {row} less {subtrahend:?}");
                        assert!(
                            same64(portable[row], want),
                            "portable: len {len} row {row} less {subtrahend:?}"
                        );
                        assert!(
                            same64(in_place[row], if row < len { want } else { a[row] }),
                            "in place: len {len} row {row} less {subtrahend:?}"
                        );
                    }
                    let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
                    let b32: Vec<f32> = b.iter().map(|&v| v as f32).collect();
                    let mut out32 = vec![42.0f32; 48];
                    // The upper halves of the scalars' words are not theirs.
                    let word = |value: f64| u64::from((value as f32).to_bits()) | 0xdead_beef << 32;
                    // SAFETY: as above.
                    unsafe {
                        match (divisor, subtrahend) {
                            (Divisor::Column(_), None) => {
                                divide_f32_block(a32.as_ptr(), b32.as_ptr(), out32.as_mut_ptr(), len)
                            }
                            (Divisor::Scalar(d), None) => {
                                divide_f32_block_by_scalar(a32.as_ptr(), word(d), out32.as_mut_ptr(), len)
                            }
                            (Divisor::Scalar(d), Some(c)) => centered_divide_f32_block_by_scalar(
                                a32.as_ptr(),
                                word(c),
                                word(d),
                                out32.as_mut_ptr(),
                                len,
                            ),
                            (Divisor::Column(_), Some(_)) => continue,
                        }
                    }
                    for row in 0..48 {
                        let dividend = subtrahend.map_or(a32[row], |c| a32[row] - c as f32);
                        let want = match (row < len, divisor) {
                            (false, _) => 42.0,
                            (true, Divisor::Column(_)) => dividend / b32[row],
                            (true, Divisor::Scalar(d)) => dividend / d as f32,
                        };
                        assert!(same32(out32[row], want), "f32: len {len} row {row} less {subtrahend:?}");
                    }
                }
            }
        }
    }

    /// Both square-root blocks, in place and not, on the CPU's path and the portable one, for
    /// every length up to three steps of 16: Rust's `sqrt` bits in every row (negative
    /// numbers, −0, infinities, NaN, subnormals among them), and nothing written past `len`.
    #[test]
    fn square_root_blocks_give_rust_sqrt_bits_in_every_row() {
        let specials = [0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, 5e-324, -2.5, 1e308, 2.0];
        let a: Vec<f64> =
            (0..48).map(|i| if i % 2 == 0 { specials[i % 9] } else { i as f64 * 1.37 - 20.0 }).collect();
        let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
        let same64 = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        let same32 = |x: f32, y: f32| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        for len in 0..48 {
            let (mut out, mut in_place, mut portable) = (vec![42.0; 48], a.clone(), vec![42.0; 48]);
            let (mut out32, mut in_place32) = (vec![42.0f32; 48], a32.clone());
            // SAFETY: every pointer covers 48 ≥ `len` values; an in-place buffer is both
            // `src` and `dst`.
            unsafe {
                sqrt_f64_block(a.as_ptr(), out.as_mut_ptr(), len);
                sqrt_f64_block(in_place.as_ptr(), in_place.as_mut_ptr(), len);
                sqrt_rows_from(0, a.as_ptr(), portable.as_mut_ptr(), len);
                sqrt_f32_block(a32.as_ptr(), out32.as_mut_ptr(), len);
                sqrt_f32_block(in_place32.as_ptr(), in_place32.as_mut_ptr(), len);
            }
            for row in 0..48 {
                let want = if row < len { a[row].sqrt() } else { 42.0 };
                assert!(same64(out[row], want), "len {len} row {row}");
                assert!(same64(portable[row], want), "portable: len {len} row {row}");
                assert!(
                    same64(in_place[row], if row < len { want } else { a[row] }),
                    "in place: len {len} row {row}"
                );
                let want32 = if row < len { a32[row].sqrt() } else { 42.0 };
                assert!(same32(out32[row], want32), "f32: len {len} row {row}");
                let kept32 = if row < len { want32 } else { a32[row] };
                assert!(same32(in_place32[row], kept32), "f32 in place: len {len} row {row}");
            }
        }
    }

    /// `bits_to_bytes` for every byte: bit `j` of the input is byte `j` of the output.
    #[test]
    fn bits_expand_to_bytes() {
        for bits in 0..=255u8 {
            let expected = u64::from_le_bytes(std::array::from_fn(|j| (bits >> j) & 1));
            assert_eq!(bits_to_bytes(bits), expected, "{bits:#010b}");
        }
    }

    /// `pack_validity` over many rows (the 32-row steps, then the rest) packs bit 0 of each
    /// byte, whatever its other bits, and leaves the bitmap's other bytes alone.
    #[test]
    fn pack_validity_packs_long_runs_by_bit_zero() {
        for len in [0usize, 7, 31, 32, 33, 64, 100, 512] {
            let bytes: Vec<u8> = (0..len).map(|i| ((i * 7 + i / 5) % 3) as u8 | 0b1010_0110).collect();
            let mut bitmap = vec![0x5au8; 2 + len.div_ceil(8) + 2];
            // SAFETY: `len` bytes readable; bits 16..16 + len lie within the bitmap.
            unsafe { pack_validity(bytes.as_ptr(), bitmap.as_mut_ptr(), 16, len) };
            for (row, byte) in bytes.iter().enumerate() {
                let bit = (bitmap[2 + row / 8] >> (row % 8)) & 1;
                assert_eq!(bit, byte & 1, "row {row} of {len}");
            }
            assert_eq!(&bitmap[..2], &[0x5a, 0x5a], "{len} rows");
            assert!(bitmap[2 + len.div_ceil(8)..].iter().all(|&b| b == 0x5a), "{len} rows");
        }
    }

    #[test]
    fn pack_validity_packs_lsb_first_and_handles_tails() {
        let bytes = [1u8, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1];
        let mut bitmap = [0xffu8; 4];
        // SAFETY: 11 bytes readable; bits 8..19 need bytes 1 and 2 of a 4-byte bitmap.
        unsafe { pack_validity(bytes.as_ptr(), bitmap.as_mut_ptr(), 8, bytes.len()) };
        assert_eq!(bitmap, [0xff, 0b1000_1101, 0b101, 0xff]);
    }

    #[test]
    fn combine_validity_ands_bitmaps_and_bytes_from_their_first_valid_row() {
        let bitmap: Vec<u8> = (0..40u8).map(|i| if i == 9 { 0b1111_0111 } else { 0xff }).collect();
        let bytes: Vec<u8> = (0..200).map(|i| u8::from(i % 50 != 7)).collect();
        let sources = [
            ValiditySource {
                kind: SOURCE_BITMAP,
                pointer: bitmap.as_ptr() as i64,
                position: 5,
                first_valid: 2,
            },
            ValiditySource {
                kind: SOURCE_BYTES,
                pointer: bytes.as_ptr() as i64,
                position: 3,
                first_valid: 0,
            },
        ];
        let mut out = vec![9u8; 150];
        // SAFETY: bits 5..155 and bytes 3..153 are within the buffers.
        unsafe { combine_validity(sources.as_ptr(), sources.len(), out.len(), out.as_mut_ptr()) };
        for (i, &valid) in out.iter().enumerate() {
            let bit = 5 + i;
            let expected = i >= 2 && bitmap[bit / 8] >> (bit % 8) & 1 == 1 && bytes[3 + i] == 1;
            assert_eq!(valid, u8::from(expected), "row {i}");
        }
        // A word-aligned start takes the 64-row path.
        let aligned = [ValiditySource {
            kind: SOURCE_BITMAP,
            pointer: bitmap.as_ptr() as i64,
            position: 64,
            first_valid: 0,
        }];
        let mut out = vec![9u8; 128];
        // SAFETY: bits 64..192 are within the bitmap.
        unsafe { combine_validity(aligned.as_ptr(), 1, out.len(), out.as_mut_ptr()) };
        assert_eq!(out.iter().filter(|&&v| v == 0).count(), 1);
        assert_eq!(out[11], 0, "bit 75 is row 11 from bit 64");
    }

    /// `and_word_into_bytes` (AVX2 where the CPU has it) and its fallback clear exactly the
    /// bytes whose bit is clear and keep the others as they were, for words of every shape.
    #[test]
    fn a_words_bits_and_into_validity_bytes_bit_j_to_byte_j() {
        let words =
            [0u64, u64::MAX, 1, 1 << 63, 0x8000_0001_0000_8001, 0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];
        let routes: [fn(&mut [u8], u64); 2] =
            [|out, word| and_word_into_bytes(out, word, has_avx2()), and_word_into_bytes_by_eights];
        for (route, and_word) in routes.into_iter().enumerate() {
            for &word in &words {
                for start in [[1u8; 64], std::array::from_fn(|j| u8::from(j % 3 != 0))] {
                    let mut bytes = start;
                    and_word(&mut bytes, word);
                    let expected: Vec<u8> = (0..64).map(|j| start[j] & (word >> j & 1) as u8).collect();
                    assert_eq!(bytes.to_vec(), expected, "route {route}, word {word:#x}");
                }
            }
        }
    }

    /// `combine_validity_bits` writes the bits `combine_validity` then `pack_validity` write:
    /// bitmap sources at every bit offset, in-range sources, first valid rows before, inside
    /// and past the block, block lengths around the 64-row words; the bitmap's other bytes
    /// are left alone.
    #[test]
    fn combine_validity_bits_equals_combine_then_pack() {
        let bitmap: Vec<u8> =
            (0..200u32).map(|i| (i.wrapping_mul(0x9e37_79b9) >> 13) as u8 | (i % 5) as u8).collect();
        let other: Vec<u8> = (0..200u32).map(|i| !((i * 37 % 251) as u8 & 0x11)).collect();
        for len in [1usize, 7, 8, 63, 64, 65, 127, 128, 200, 511, 512] {
            for position in [0i64, 1, 3, 7, 8, 13, 64, 71] {
                for first_valid in [-5i64, 0, 1, 9, 63, 64, 70, 600] {
                    let sources = [
                        ValiditySource {
                            kind: SOURCE_BITMAP,
                            pointer: bitmap.as_ptr() as i64,
                            position,
                            first_valid,
                        },
                        ValiditySource {
                            kind: SOURCE_IN_RANGE,
                            pointer: 0,
                            position: 0,
                            first_valid: first_valid + 3,
                        },
                        ValiditySource {
                            kind: SOURCE_BITMAP,
                            pointer: other.as_ptr() as i64,
                            position: position + 5,
                            first_valid: 0,
                        },
                    ];
                    // Every source; the range alone; none; the two bitmaps (each written
                    // first or ANDed in, at the offsets above, byte-aligned or not).
                    let subsets: [&[ValiditySource]; 4] =
                        [&sources, &sources[1..2], &[], &[sources[0], sources[2]]];
                    for (subset_index, subset) in subsets.into_iter().enumerate() {
                        let mut bytes = vec![7u8; len];
                        let mut expected = vec![0x5au8; 2 + len.div_ceil(8) + 2];
                        let mut got = expected.clone();
                        // SAFETY: bits up to 71 + 5 + 512 lie within the 1600-bit bitmaps;
                        // `len` bytes are writable; bits 16 .. 16 + len lie within both outputs.
                        unsafe {
                            combine_validity(subset.as_ptr(), subset.len(), len, bytes.as_mut_ptr());
                            pack_validity(bytes.as_ptr(), expected.as_mut_ptr(), 16, len);
                            combine_validity_bits(subset.as_ptr(), subset.len(), len, got.as_mut_ptr(), 16);
                        }
                        assert_eq!(
                            got, expected,
                            "len {len}, position {position}, first valid {first_valid}, subset {subset_index}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn shift_halo_keeps_the_last_rows() {
        let mut buffer = [1u8, 2, 3, 4, 5, 6];
        // SAFETY: skip + keep = 6 bytes, the buffer's length.
        unsafe { shift_halo(buffer.as_mut_ptr(), 4, 2) };
        assert_eq!(&buffer[..2], &[5, 6]);
    }
}
