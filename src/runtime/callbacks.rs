//! The runtime functions through which JIT code drives the stateful operations, once per
//! block: `fusejit_scan_block` advances a window, cumulative op or `ema`
//! (`ir::column_semantics::ScanState`), and `fusejit_reduce_block` feeds reductions
//! (`ReduceState`). The executor creates their states for each call and puts their addresses
//! in the argument block.

use crate::ir::column_semantics::{ReduceState, ScanState};
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
    // Results go to a local chunk first and are copied out after: writes through the raw
    // destination pointer could alias the state as far as the optimiser knows, and would
    // keep the running sums out of registers.
    const CHUNK: usize = 256;
    let mut values = [0.0f64; CHUNK];
    let mut integers = [0i64; CHUNK];
    let mut valid = [false; CHUNK];
    let mut done = 0;
    while done < len {
        let count = (len - done).min(CHUNK);
        let is_valid = |i: usize| {
            // SAFETY: `validity` is readable for `len` bytes and `done + i < len`.
            validity.is_null() || (unsafe { *validity.add(done + i) } & 1) == 1
        };
        let put = |i: usize, value: Option<f64>| {
            values[i] = value.unwrap_or(0.0);
            valid[i] = value.is_some();
        };
        match (&mut state.scan, state.elem, validity.is_null()) {
            (ScanState::Float(scan), Elem::F32, _) => {
                let source = source.cast::<f32>();
                let get = |i: usize| {
                    is_valid(i).then(|| {
                        // SAFETY: `source` is readable for `len` f32s and `done + i < len`.
                        f64::from(unsafe { source.add(done + i).read_unaligned() })
                    })
                };
                scan.feed(count, get, put);
                for (i, value) in values[..count].iter().enumerate() {
                    // SAFETY: `destination` is writable for `len` f32s and `done + i < len`.
                    unsafe { destination.cast::<f32>().add(done + i).write_unaligned(*value as f32) };
                }
            }
            (ScanState::Float(scan), Elem::F64, true) => {
                // Every row valid: a closure that always answers `Some` lets the optimiser drop
                // the null handling from the scan's inner loop.
                let source = source.cast::<f64>();
                // SAFETY: `source` is readable for `len` f64s and `done + i < len`.
                let get = |i: usize| Some(unsafe { source.add(done + i).read_unaligned() });
                scan.feed(count, get, |i, value: Option<f64>| values[i] = value.unwrap_or(0.0));
                // SAFETY: as below.
                unsafe {
                    std::ptr::copy_nonoverlapping(values.as_ptr(), destination.cast::<f64>().add(done), count)
                };
            }
            (ScanState::Float(scan), Elem::F64, false) => {
                let source = source.cast::<f64>();
                // SAFETY: `source` is readable for `len` f64s and `done + i < len`.
                let get = |i: usize| is_valid(i).then(|| unsafe { source.add(done + i).read_unaligned() });
                scan.feed(count, get, put);
                // SAFETY: `destination` is writable for `len` f64s and `done + count <= len`;
                // `values` is a local array, so the ranges do not overlap.
                unsafe {
                    std::ptr::copy_nonoverlapping(values.as_ptr(), destination.cast::<f64>().add(done), count)
                };
            }
            (ScanState::Integer(scan), Elem::I64, _) => {
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
            (ScanState::Integer(scan), Elem::I32, _) => {
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
            (ScanState::Float(_), Elem::I64 | Elem::I32 | Elem::Bool, _)
            | (ScanState::Integer(_), Elem::F64 | Elem::F32 | Elem::Bool, _) => {
                unreachable!(
                    "the executor creates the state for the scan's element type; check allows no bool scan"
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

/// A reduction's running state as a kernel sees it, with the element type of the values.
pub(crate) struct ReduceCallState {
    pub(crate) reduce: ReduceState,
    pub(crate) elem: Elem,
}

/// `fusejit_reduce_block`: feeds one block of values (of the state's element type) to a set of reductions; `validity` is one 0/1 byte per row, or null when all rows
/// are valid.
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
        (ReduceState::Float(reduce), Elem::F32) => {
            let values = values.cast::<f32>();
            // SAFETY: `values` is readable for `len` f32s and `i < len`.
            reduce.feed(len, |i| is_valid(i).then(|| f64::from(unsafe { values.add(i).read_unaligned() })));
        }
        (ReduceState::Float(reduce), Elem::Bool) => {
            // SAFETY: `values` is readable for `len` bytes and `i < len`.
            reduce.feed(len, |i| is_valid(i).then(|| f64::from(unsafe { *values.add(i) } & 1)));
        }
        (ReduceState::Float(reduce), Elem::F64) => {
            let values = values.cast::<f64>();
            // SAFETY: `values` is readable for `len` f64s and `i < len`.
            reduce.feed(len, |i| is_valid(i).then(|| unsafe { values.add(i).read_unaligned() }));
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
