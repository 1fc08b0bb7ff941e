//! The `extern "C"` functions native kernels call, registered by name with the JIT. Pointers and
//! counts only cross the ABI — never SIMD types.

use super::math;

/// `dst[i] = ln(src[i])` for `i < n`. `src` and `dst` may be the same pointer.
///
/// # Safety
/// `src` must be valid for reading and `dst` for writing `n` f64s.
pub unsafe extern "C" fn ln_f64_block(src: *const f64, dst: *mut f64, n: usize) {
    for i in 0..n {
        // SAFETY: the caller guarantees both ranges hold n elements; element-wise in-place
        // use reads src[i] before writing dst[i].
        unsafe { *dst.add(i) = math::ln_f64(*src.add(i)) };
    }
}

/// `dst[i] = exp(src[i])` for `i < n`.
///
/// # Safety
/// As [`ln_f64_block`].
pub unsafe extern "C" fn exp_f64_block(src: *const f64, dst: *mut f64, n: usize) {
    for i in 0..n {
        // SAFETY: as in ln_f64_block.
        unsafe { *dst.add(i) = math::exp_f64(*src.add(i)) };
    }
}

/// `dst[i] = ln(src[i])` for `i < n`, in f32.
///
/// # Safety
/// `src` must be valid for reading and `dst` for writing `n` f32s.
pub unsafe extern "C" fn ln_f32_block(src: *const f32, dst: *mut f32, n: usize) {
    for i in 0..n {
        // SAFETY: as in ln_f64_block.
        unsafe { *dst.add(i) = math::ln_f32(*src.add(i)) };
    }
}

/// `dst[i] = exp(src[i])` for `i < n`, in f32.
///
/// # Safety
/// As [`ln_f32_block`].
pub unsafe extern "C" fn exp_f32_block(src: *const f32, dst: *mut f32, n: usize) {
    for i in 0..n {
        // SAFETY: as in ln_f64_block.
        unsafe { *dst.add(i) = math::exp_f32(*src.add(i)) };
    }
}

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
    for chunk in 0..len.div_ceil(8) {
        let mut byte = 0u8;
        for bit in 0..8.min(len - chunk * 8) {
            // SAFETY: chunk * 8 + bit < len.
            byte |= (unsafe { *bytes.add(chunk * 8 + bit) } & 1) << bit;
        }
        // SAFETY: start / 8 + chunk < (start + len).div_ceil(8).
        unsafe { *bitmap.add(start / 8 + chunk) = byte };
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

/// Every stub by the name generated code imports it under.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("fusejit_ln_f64_block", ln_f64_block as *const u8),
        ("fusejit_exp_f64_block", exp_f64_block as *const u8),
        ("fusejit_ln_f32_block", ln_f32_block as *const u8),
        ("fusejit_exp_f32_block", exp_f32_block as *const u8),
        ("fusejit_shift_halo", shift_halo as *const u8),
        ("fusejit_pack_validity", pack_validity as *const u8),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_validity_packs_lsb_first_and_handles_tails() {
        let bytes = [1u8, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1];
        let mut bitmap = [0xffu8; 4];
        // SAFETY: 11 bytes readable; bits 8..19 need bytes 1 and 2 of a 4-byte bitmap.
        unsafe { pack_validity(bytes.as_ptr(), bitmap.as_mut_ptr(), 8, bytes.len()) };
        assert_eq!(bitmap, [0xff, 0b1000_1101, 0b101, 0xff]);
    }

    #[test]
    fn shift_halo_keeps_the_last_rows() {
        let mut buffer = [1u8, 2, 3, 4, 5, 6];
        // SAFETY: skip + keep = 6 bytes, the buffer's length.
        unsafe { shift_halo(buffer.as_mut_ptr(), 4, 2) };
        assert_eq!(&buffer[..2], &[5, 6]);
    }
}
