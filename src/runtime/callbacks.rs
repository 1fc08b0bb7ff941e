//! The runtime functions through which JIT code drives the stateful operations, once per
//! block: `fusejit_scan_block` advances a window, cumulative op or `ema`
//! (`ir::column_semantics::ScanState`), and `fusejit_reduce_block` feeds reductions
//! (`ReduceState`). The executor creates their states for each call and puts their addresses
//! in the argument block.

use crate::ir::column_semantics::{FloatScanState, PrefetchAhead, ReduceState, ScanState};
use crate::types::Elem;

/// A scan's running state as a kernel sees it: the state and the element type of the values
/// (the operand's, which is the scan's).
pub(crate) struct ScanCallState {
    pub(crate) scan: ScanState,
    pub(crate) elem: Elem,
}

/// `fusejit_scan_block`: advances a scan by one block. Values are of the state's element
/// type, `source` may equal `destination` (each row is read before it is
/// written), and `validity` — one 0/1 byte per row, or null when nothing can be null — holds
/// the operand's validity on entry and the result's on return.
///
/// # Safety
/// `state` points to a live `ScanCallState` no other thread uses; `source` is readable and
/// `destination` writable for `len` values of its element type; `validity`, unless null, is
/// readable and writable for `len` bytes.
pub(crate) unsafe extern "C" fn scan_block(
    state: *mut ScanCallState,
    source: *const u8,
    destination: *mut u8,
    validity: *mut u8,
    len: usize,
) {
    // SAFETY: the caller guarantees a live, unshared state.
    let state = unsafe { &mut *state };
    if let ScanState::Float(scan) = &mut state.scan {
        // SAFETY: as this function's contract states.
        unsafe { float_scan_block(scan, state.elem, source, destination, validity, len) };
        return;
    }
    // Results go to a local chunk first and are copied out after: writes through the raw
    // destination pointer could alias the state as far as the optimiser knows, and would
    // keep the running values out of registers.
    const CHUNK: usize = 256;
    let mut integers = [0i64; CHUNK];
    let mut valid = [false; CHUNK];
    let mut done = 0;
    while done < len {
        let count = (len - done).min(CHUNK);
        let is_valid = |i: usize| {
            // SAFETY: `validity` is readable for `len` bytes and `done + i < len`.
            validity.is_null() || (unsafe { *validity.add(done + i) } & 1) == 1
        };
        match (&mut state.scan, state.elem) {
            (ScanState::Integer(scan), Elem::I64) => {
                let source = source.cast::<i64>();
                // SAFETY: `source` is readable for `len` i64s and `done + i < len`.
                let get = |i: usize| is_valid(i).then(|| unsafe { source.add(done + i).read_unaligned() });
                scan.feed(count, get, |i, value: Option<i64>| {
                    integers[i] = value.unwrap_or(0);
                    valid[i] = value.is_some();
                });
                for (i, value) in integers[..count].iter().enumerate() {
                    // SAFETY: `destination` is writable for `len` i64s and `done + i < len`.
                    unsafe { destination.cast::<i64>().add(done + i).write_unaligned(*value) };
                }
            }
            (ScanState::Integer(scan), Elem::I32) => {
                let source = source.cast::<i32>();
                let get = |i: usize| {
                    // SAFETY: `source` is readable for `len` i32s and `done + i < len`.
                    is_valid(i).then(|| i64::from(unsafe { source.add(done + i).read_unaligned() }))
                };
                scan.feed(count, get, |i, value: Option<i64>| {
                    integers[i] = value.unwrap_or(0);
                    valid[i] = value.is_some();
                });
                for (i, value) in integers[..count].iter().enumerate() {
                    // SAFETY: `destination` is writable for `len` i32s and `done + i < len`. The
                    // truncation is the i32 result (see `column_semantics`).
                    unsafe { destination.cast::<i32>().add(done + i).write_unaligned(*value as i32) };
                }
            }
            (ScanState::Float(_), _) | (ScanState::Integer(_), Elem::F64 | Elem::F32 | Elem::Bool) => {
                unreachable!(
                    "float scans return above; the executor creates the state for the scan's element type"
                )
            }
        }
        if !validity.is_null() {
            for (i, &is_valid) in valid[..count].iter().enumerate() {
                // SAFETY: `validity` is writable for `len` bytes and `done + i < len`.
                unsafe { *validity.add(done + i) = u8::from(is_valid) };
            }
        }
        done += count;
    }
}

/// [`scan_block`] for a float scan, run over slices: where they lie when the operand and the
/// result are separate aligned f64 buffers, else a chunk at a time, the operand copied into
/// a local array (it may be the destination, unaligned, or f32), the scan run over slices
/// ([`FloatScanState::feed_slices`], each op its own loop, an all-valid block without any
/// validity handling), the results copied out.
///
/// # Safety
/// As [`scan_block`]'s, with `elem` F64 or F32.
unsafe fn float_scan_block(
    scan: &mut FloatScanState,
    elem: Elem,
    source: *const u8,
    destination: *mut u8,
    validity: *mut u8,
    len: usize,
) {
    let bytes = len * std::mem::size_of::<f64>();
    let aligned = |address: usize| address.is_multiple_of(std::mem::align_of::<f64>());
    let (from, to) = (source as usize, destination as usize);
    if elem == Elem::F64 && aligned(from) && aligned(to) && (from + bytes <= to || to + bytes <= from) {
        // The usual case: separate, aligned buffers, scanned where they lie.
        // SAFETY: `source` is readable and `destination` writable for `len` f64s, both
        // aligned, and the two ranges do not overlap; `validity`, unless null, is a buffer of
        // its own, readable and writable for `len` bytes. No other reference to any of them
        // lives during the call.
        let (values, out, validity) = unsafe {
            (
                std::slice::from_raw_parts(source.cast::<f64>(), len),
                std::slice::from_raw_parts_mut(destination.cast::<f64>(), len),
                (!validity.is_null()).then(|| std::slice::from_raw_parts_mut(validity, len)),
            )
        };
        scan.feed_slices(values, validity, out);
        return;
    }
    const CHUNK: usize = 256;
    let mut input = [0.0f64; CHUNK];
    let mut output = [0.0f64; CHUNK];
    let mut done = 0;
    while done < len {
        let count = (len - done).min(CHUNK);
        match elem {
            Elem::F64 => {
                // SAFETY: `source` is readable for `len` f64s and `done + count <= len`; `input`
                // is a local array, so the ranges do not overlap.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        source.add(done * 8),
                        input.as_mut_ptr().cast::<u8>(),
                        count * 8,
                    )
                };
            }
            Elem::F32 => {
                for (i, value) in input[..count].iter_mut().enumerate() {
                    // SAFETY: `source` is readable for `len` f32s and `done + i < len`.
                    *value = f64::from(unsafe { source.cast::<f32>().add(done + i).read_unaligned() });
                }
            }
            Elem::I64 | Elem::I32 | Elem::Bool => {
                unreachable!("the executor creates a float state for float operands only")
            }
        }
        let chunk_validity = (!validity.is_null()).then(|| {
            // SAFETY: `validity` is readable and writable for `len` bytes, `done + count <=
            // len`, and it is a buffer of its own: no other reference to it lives meanwhile.
            unsafe { std::slice::from_raw_parts_mut(validity.add(done), count) }
        });
        scan.feed_slices(&input[..count], chunk_validity, &mut output[..count]);
        match elem {
            Elem::F64 => {
                // SAFETY: `destination` is writable for `len` f64s and `done + count <= len`;
                // `output` is a local array, so the ranges do not overlap.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        output.as_ptr().cast::<u8>(),
                        destination.add(done * 8),
                        count * 8,
                    )
                };
            }
            _ => {
                for (i, value) in output[..count].iter().enumerate() {
                    // SAFETY: `destination` is writable for `len` f32s and `done + i < len`;
                    // an f32 scan's result is rounded once, here.
                    unsafe { destination.cast::<f32>().add(done + i).write_unaligned(*value as f32) };
                }
            }
        }
        done += count;
    }
}

/// `fusejit_scan_block_pair`: advances two independent scans by the same block, each
/// argument as [`scan_block`]'s. Two started `ema`s, or two `msum`/`mavg`s of one window
/// length at one offset, over separate, aligned f64 buffers with every row of the block valid
/// (no validity, or bytes that say so) run interleaved ([`FloatScanState::feed_ema_pair`],
/// [`FloatScanState::feed_window_sum_pair`]); any other pair runs one scan after the other.
/// `ahead`, when not null, lists the bytes the kernel reads next — a count `n`, then `n`
/// pairs of an address and a length — which the window sums ask the CPU for while they
/// compute ([`PrefetchAhead`]).
///
/// # Safety
/// As [`scan_block`]'s, for each of the two scans; the two states are distinct, and neither
/// scan's destination is the other's source or destination. `ahead` is null or readable for
/// `1 + 2·n` u64 words, `n` its first (any address and length: they are only prefetched).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "C" fn scan_block_pair(
    first: *mut ScanCallState,
    first_source: *const u8,
    first_destination: *mut u8,
    first_validity: *mut u8,
    second: *mut ScanCallState,
    second_source: *const u8,
    second_destination: *mut u8,
    second_validity: *mut u8,
    len: usize,
    ahead: *const u64,
) {
    let bytes = len * std::mem::size_of::<f64>();
    let separate_and_aligned = |source: *const u8, destination: *mut u8| {
        let (from, to) = (source as usize, destination as usize);
        from.is_multiple_of(8) && to.is_multiple_of(8) && (from + bytes <= to || to + bytes <= from)
    };
    // SAFETY: the caller guarantees two live, distinct, unshared states.
    let (first_state, second_state) = unsafe { (&mut *first, &mut *second) };
    if let (ScanState::Float(a), ScanState::Float(b)) = (&mut first_state.scan, &mut second_state.scan)
        && first_state.elem == Elem::F64
        && second_state.elem == Elem::F64
        // SAFETY: each validity, when not null, is readable for `len` bytes (the contract).
        && unsafe { all_valid(first_validity, len) && all_valid(second_validity, len) }
        && separate_and_aligned(first_source, first_destination)
        && separate_and_aligned(second_source, second_destination)
    {
        // SAFETY: each source is readable and each destination writable for `len` aligned
        // f64s; a source never overlaps its own destination (just checked) nor the other
        // scan's destination (the caller's contract); no other reference to them lives now.
        let (a_in, a_out, b_in, b_out) = unsafe {
            (
                std::slice::from_raw_parts(first_source.cast::<f64>(), len),
                std::slice::from_raw_parts_mut(first_destination.cast::<f64>(), len),
                std::slice::from_raw_parts(second_source.cast::<f64>(), len),
                std::slice::from_raw_parts_mut(second_destination.cast::<f64>(), len),
            )
        };
        // SAFETY: `ahead` is null or holds its count and pairs (the contract).
        let mut ahead = unsafe { prefetch_ahead(ahead) };
        if FloatScanState::feed_ema_pair(a, b, (a_in, a_out), (b_in, b_out))
            || FloatScanState::feed_window_sum_pair(a, b, (a_in, a_out), (b_in, b_out), &mut ahead)
        {
            for validity in [first_validity, second_validity] {
                if !validity.is_null() {
                    // SAFETY: a validity that is not null is writable for `len` bytes, a
                    // buffer of its own (the contract); every result is valid: 0/1 bytes.
                    unsafe { std::slice::from_raw_parts_mut(validity, len) }.fill(1);
                }
            }
            return;
        }
    }
    // SAFETY: as this function's contract states, for each scan in turn.
    unsafe {
        scan_block(first, first_source, first_destination, first_validity, len);
        scan_block(second, second_source, second_destination, second_validity, len);
    }
}

/// The [`PrefetchAhead`] a kernel's list describes: null for none, else a count `n` and `n`
/// pairs of an address and a length (past [`PrefetchAhead::MAX_RANGES`] ignored).
///
/// # Safety
/// `list` is null or readable for `1 + 2·min(n, MAX_RANGES)` u64 words, `n` its first.
unsafe fn prefetch_ahead(list: *const u64) -> PrefetchAhead {
    if list.is_null() {
        return PrefetchAhead::none();
    }
    // SAFETY: a list that is not null starts with its count (the contract).
    let count = (unsafe { list.read_unaligned() } as usize).min(PrefetchAhead::MAX_RANGES);
    let mut ranges = [(0usize, 0usize); PrefetchAhead::MAX_RANGES];
    for (index, range) in ranges[..count].iter_mut().enumerate() {
        // SAFETY: words `1 + 2·index` and `2 + 2·index` lie within the `1 + 2·count` words
        // the contract makes readable.
        *range = unsafe {
            (
                list.add(1 + 2 * index).read_unaligned() as usize,
                list.add(2 + 2 * index).read_unaligned() as usize,
            )
        };
    }
    PrefetchAhead::new(&ranges[..count])
}

/// `fusejit_record_scan_state`: an `ema`'s running state and `record`'s two words — the
/// value's bits and whether a row has started it (0 or 1), as any recorded scan's record
/// (`codegen::layout::ScanRecord`). With `carry_in` 0 the state is written into the
/// words; otherwise the state becomes what the words say. A scan that is not an `ema` is left
/// alone and records the impossible "started" word 2, which matches no other record.
///
/// # Safety
/// `state` points to a live `ScanCallState` no other thread uses; `record` is readable and
/// writable for two u64 words.
pub(crate) unsafe extern "C" fn record_scan_state(
    state: *mut ScanCallState,
    record: *mut u64,
    carry_in: u64,
) {
    // SAFETY: the caller guarantees a live, unshared state and two words at `record`.
    let (state, words) = unsafe { (&mut *state, std::slice::from_raw_parts_mut(record, 2)) };
    if carry_in != 0 {
        let value = (words[1] != 0).then(|| f64::from_bits(words[0]));
        state.scan.set_ema(value);
        return;
    }
    match state.scan.ema() {
        Some(value) => {
            words[0] = value.unwrap_or(0.0).to_bits();
            words[1] = u64::from(value.is_some());
        }
        None => words.copy_from_slice(&[0, 2]),
    }
}

/// Whether a scan's validity bytes (none: every row valid) mark every one of `len` rows valid;
/// such a block's results are all valid too, which its bytes already say.
///
/// # Safety
/// `validity` is null or readable for `len` bytes.
unsafe fn all_valid(validity: *const u8, len: usize) -> bool {
    // SAFETY: as the caller guarantees.
    validity.is_null() || crate::types::every_row_valid(unsafe { std::slice::from_raw_parts(validity, len) })
}

/// A reduction's running state as a kernel sees it, with the element type of the values.
pub(crate) struct ReduceCallState {
    pub(crate) reduce: ReduceState,
    pub(crate) elem: Elem,
}

/// The validity of the first 64 rows of `bytes` (bit 0 of each byte; rows past its end
/// null) as a word, row `j` at bit `j`: eight bytes at a time.
fn validity_word(bytes: &[u8]) -> u64 {
    let mut word = 0u64;
    for (k, eight) in bytes.chunks(8).take(8).enumerate() {
        let mut padded = [0u8; 8];
        padded[..eight.len()].copy_from_slice(eight);
        word |= u64::from(crate::types::pack_low_bits(u64::from_le_bytes(padded))) << (8 * k);
    }
    word
}

/// `fusejit_reduce_block`: feeds one block of values (of the state's element type) to a set
/// of reductions; `validity` is one 0/1 byte per row, or null when all rows are valid.
///
/// # Safety
/// `state` points to a live `ReduceCallState` no other thread uses; `values` is readable for
/// `len` values of its element type; `validity`, unless null, is readable for `len` bytes.
pub(crate) unsafe extern "C" fn reduce_block(
    state: *mut ReduceCallState,
    values: *const u8,
    validity: *const u8,
    len: usize,
) {
    // SAFETY: the caller guarantees a live, unshared state.
    let state = unsafe { &mut *state };
    let is_valid = |i: usize| {
        // SAFETY: `validity` is readable for `len` bytes and `i < len`.
        validity.is_null() || (unsafe { *validity.add(i) } & 1) == 1
    };
    match (&mut state.reduce, state.elem) {
        // All valid: whole chunks summed where they lie (`feed_valid`), when the values can
        // be a slice (they are aligned; a kernel's blocks and Rust slices always are).
        (ReduceState::Float(reduce), Elem::F64)
            if validity.is_null() && !values.is_null() && values.cast::<f64>().is_aligned() =>
        {
            // SAFETY: `values` is non-null, aligned and readable for `len` f64s.
            reduce.feed_valid(unsafe { std::slice::from_raw_parts(values.cast::<f64>(), len) });
        }
        (ReduceState::Float(reduce), Elem::F32)
            if validity.is_null() && !values.is_null() && values.cast::<f32>().is_aligned() =>
        {
            // SAFETY: `values` is non-null, aligned and readable for `len` f32s.
            reduce.feed_valid_f32(unsafe { std::slice::from_raw_parts(values.cast::<f32>(), len) });
        }
        (ReduceState::Float(reduce), Elem::F32) => {
            let values = values.cast::<f32>();
            // SAFETY: `values` is readable for `len` f32s and `i < len`.
            reduce.feed(len, |i| is_valid(i).then(|| f64::from(unsafe { values.add(i).read_unaligned() })));
        }
        (ReduceState::Float(reduce), Elem::Bool) => {
            // SAFETY: `values` is readable for `len` bytes and `i < len`.
            reduce.feed(len, |i| is_valid(i).then(|| f64::from(unsafe { *values.add(i) } & 1)));
        }
        (ReduceState::Float(reduce), Elem::F64)
            if !validity.is_null() && !values.is_null() && values.cast::<f64>().is_aligned() =>
        {
            // SAFETY: `validity` is non-null and readable for `len` bytes.
            let validity = unsafe { std::slice::from_raw_parts(validity, len) };
            // SAFETY: `values` is non-null, aligned and readable for `len` f64s.
            let values = unsafe { std::slice::from_raw_parts(values.cast::<f64>(), len) };
            reduce.feed_compacting(values, |i| validity_word(&validity[i..]));
        }
        (ReduceState::Float(reduce), Elem::F64) => {
            let values = values.cast::<f64>();
            // SAFETY: `values` is readable for `len` f64s and `i < len`.
            reduce.feed(len, |i| is_valid(i).then(|| unsafe { values.add(i).read_unaligned() }));
        }
        (ReduceState::Integer(reduce), Elem::I64)
            if validity.is_null() && !values.is_null() && values.cast::<i64>().is_aligned() =>
        {
            // SAFETY: `values` is non-null, aligned and readable for `len` i64s.
            reduce.feed_valid(unsafe { std::slice::from_raw_parts(values.cast::<i64>(), len) });
        }
        (ReduceState::Integer(reduce), Elem::I32)
            if validity.is_null() && !values.is_null() && values.cast::<i32>().is_aligned() =>
        {
            // SAFETY: `values` is non-null, aligned and readable for `len` i32s.
            reduce.feed_valid(unsafe { std::slice::from_raw_parts(values.cast::<i32>(), len) });
        }
        (ReduceState::Integer(reduce), Elem::I64) => {
            let values = values.cast::<i64>();
            // SAFETY: `values` is readable for `len` i64s and `i < len`.
            reduce.feed(len, |i| is_valid(i).then(|| unsafe { values.add(i).read_unaligned() }));
        }
        (ReduceState::Integer(reduce), Elem::I32) => {
            let values = values.cast::<i32>();
            // SAFETY: `values` is readable for `len` i32s and `i < len`.
            reduce.feed(len, |i| is_valid(i).then(|| i64::from(unsafe { values.add(i).read_unaligned() })));
        }
        (ReduceState::Float(_), Elem::I64 | Elem::I32)
        | (ReduceState::Integer(_), Elem::F64 | Elem::F32 | Elem::Bool) => {
            unreachable!("the executor creates the state for the operand's element type")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{PrefetchAhead, prefetch_ahead, validity_word};

    /// A kernel's list (a count, then an address and a length each) gives the schedule of
    /// those ranges; null gives none, and ranges past `MAX_RANGES` are not read.
    #[test]
    fn a_kernels_list_of_next_reads_becomes_their_schedule() {
        // SAFETY: null is a list the contract accepts.
        assert_eq!(unsafe { prefetch_ahead(std::ptr::null()) }, PrefetchAhead::none());
        let two: [u64; 5] = [2, 1 << 20, 3840, 1 << 24, 136];
        // SAFETY: `two` holds its count and both pairs.
        let got = unsafe { prefetch_ahead(two.as_ptr()) };
        assert_eq!(got, PrefetchAhead::new(&[(1 << 20, 3840), (1 << 24, 136)]));
        // A count above MAX_RANGES reads only MAX_RANGES pairs (the list holds just those).
        let mut many = vec![9u64];
        for range in 1..=PrefetchAhead::MAX_RANGES as u64 {
            many.extend([range << 12, 64]);
        }
        // SAFETY: `many` holds 1 + 2·MAX_RANGES words, all that is read of a longer count.
        let got = unsafe { prefetch_ahead(many.as_ptr()) };
        let ranges: Vec<(usize, usize)> = (1..=PrefetchAhead::MAX_RANGES).map(|r| (r << 12, 64)).collect();
        assert_eq!(got, PrefetchAhead::new(&ranges));
        assert_ne!(got, PrefetchAhead::none());
    }

    /// `validity_word` packs bit 0 of each byte (other bits ignored), for every length.
    #[test]
    fn validity_bytes_pack_into_words() {
        let bytes: Vec<u8> = (0..70u32).map(|i| ((i * 37 + i / 3) % 5) as u8 | 0xa6).collect();
        for len in [0usize, 1, 7, 8, 9, 63, 64, 70] {
            let expected = (0..len.min(64)).fold(0u64, |word, j| word | (u64::from(bytes[j] & 1) << j));
            assert_eq!(validity_word(&bytes[..len]), expected, "{len} bytes");
        }
    }
}
