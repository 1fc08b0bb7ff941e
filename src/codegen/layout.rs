//! The argument block a native kernel reads: one array of 64-bit words, laid out here once so
//! that the translator (which emits the loads), the executor (which fills the words) and
//! `object::argument_image` (which writes them for another machine) agree.
//!
//! ```text
//! word 0..8          ROWS, OUT_VALUES, OUT_VALID_BLOCK, OUT_BITMAP, FIRST_ROW, WRITE_FROM,
//!                    DISCARD, SCAN_RECORDS
//! then per input     data, validity (a scalar's: 0 or 1), validity bit      (InputWord)
//!                    offset, scalar bits or a packed column's data bit offset
//! then per buffer    values, validity, halo in rows                         (BufferWord)
//! then per output    values, bitmap, for each extra output column          (ExtraOutputWord)
//! then per state     a scan's running state; last, the reduction's state
//! ```

use crate::column::ColumnData;
use crate::passes::fuse_loops::LoopPlan;
use crate::types::Scalar;

/// Word 0: the row count `n` of the columns, and the end of the rows the kernel runs: rows
/// `[FIRST_ROW, ROWS)` of whole columns (inputs and outputs are addressed by absolute row).
pub(crate) const ROWS: usize = 0;
/// Word 1: the output values pointer.
pub(crate) const OUT_VALUES: usize = 1;
/// Word 2: a scratch of one byte per block row, for the result's validity before packing.
pub(crate) const OUT_VALID_BLOCK: usize = 2;
/// Word 3: the output validity bitmap pointer (LSB-first, offset 0).
pub(crate) const OUT_BITMAP: usize = 3;
/// Word 4: the row the kernel starts computing at (0 for a whole column). Lags read the real
/// rows before it.
pub(crate) const FIRST_ROW: usize = 4;
/// Word 5: the first row written: rows `[FIRST_ROW, WRITE_FROM)` are a warm-up that fills
/// the lag halos and the scans' states (their results go to `DISCARD`, and they feed no
/// reduction). Blocks end at `WRITE_FROM`, so a block is all warm-up or all written.
pub(crate) const WRITE_FROM: usize = 5;
/// Word 6: scratch for one block of warm-up results, `BLOCK_ROWS` values of 8 bytes (unused
/// when `WRITE_FROM == FIRST_ROW`).
pub(crate) const DISCARD: usize = 6;
/// Word 7: 0, or the address of the recorded scans' records ([`ScanRecord`]): the word
/// [`SCAN_RECORD_MODE`], then one record per recorded scan (`LoopPlan::recorded_scans`: the
/// inline scans in `LoopPlan::inline_scans` order, then the runtime `ema`s).
/// At the first written row (`WRITE_FROM`) the kernel either records each scan's state
/// there (mode 0) or starts each scan from the recorded state (mode 1, a carry-in); after
/// its last row it records each scan's final state. What `engine::speculated_scans` reads
/// and writes to run an `ema` on several threads.
pub(crate) const SCAN_RECORDS: usize = 7;
/// The words before the first input's.
const HEADER_WORDS: usize = 8;

/// Word 0 of the scans' records: 0 to record each scan's state at `WRITE_FROM`, 1 to
/// start each scan there from its `Entry` words.
pub(crate) const SCAN_RECORD_MODE: usize = 0;

/// The words of one recorded scan's record, after [`SCAN_RECORD_MODE`]: its state at the
/// first written row and after the last row, each as the state's bits and whether a row has
/// started it (0 or 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanRecord {
    /// Each `…Value` word is followed by its `…Started` word.
    EntryValue,
    EntryStarted,
    ExitValue,
    ExitStarted,
}
const WORDS_PER_INLINE_SCAN: usize = 4;

impl ScanRecord {
    /// The word of scan `index`'s field in the records.
    pub(crate) fn word(self, index: usize) -> usize {
        let field = match self {
            ScanRecord::EntryValue => 0,
            ScanRecord::EntryStarted => 1,
            ScanRecord::ExitValue => 2,
            ScanRecord::ExitStarted => 3,
        };
        1 + index * WORDS_PER_INLINE_SCAN + field
    }

    /// How many words the records of `scans` recorded scans take.
    pub(crate) fn total_words(scans: usize) -> usize {
        1 + scans * WORDS_PER_INLINE_SCAN
    }
}

/// An input slot's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputWord {
    /// The column's values pointer.
    Data,
    /// The column's validity bitmap pointer (when the plan says it has one); for a scalar,
    /// its validity as 0 or 1 (read when the plan says it can be null).
    Validity,
    /// The bitmap's bit offset.
    Offset,
    /// A scalar's bits (f64 bits, f32 bits zero-extended, or 0/1).
    Scalar,
    /// A bit-packed bool column's bit of row 0. The same word as `Scalar`: an input is a
    /// column or a scalar, never both.
    DataBitOffset,
}
const WORDS_PER_INPUT: usize = 4;

/// A block buffer's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BufferWord {
    /// Its values, `halo + BLOCK_ROWS` rows.
    Values,
    /// Its validity bytes, when the buffer can be null.
    Validity,
    /// The halo in rows actually used: `min(planned halo, n)`.
    Halo,
}
const WORDS_PER_BUFFER: usize = 3;

/// An extra output column's words (`LoopPlan::extra_outputs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExtraOutputWord {
    /// Room for `n` values.
    Values,
    /// Room for `n` bits, when the output can be null.
    Bitmap,
}
const WORDS_PER_EXTRA_OUTPUT: usize = 2;

/// Where each word of one plan's argument block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ArgLayout {
    inputs: usize,
    buffers: usize,
    extra_outputs: usize,
    scans: usize,
    reduces: bool,
}

impl ArgLayout {
    /// The layout of `plan`'s argument block.
    pub(crate) fn of(plan: &LoopPlan) -> ArgLayout {
        ArgLayout {
            inputs: plan.program.inputs.len(),
            buffers: plan.buffers.len(),
            extra_outputs: plan.extra_outputs.len(),
            scans: plan.scans.len(),
            reduces: !plan.reduce_result.is_empty(),
        }
    }

    pub(crate) fn input(&self, slot: usize, word: InputWord) -> usize {
        debug_assert!(slot < self.inputs);
        let field = match word {
            InputWord::Data => 0,
            InputWord::Validity => 1,
            InputWord::Offset => 2,
            InputWord::Scalar | InputWord::DataBitOffset => 3,
        };
        HEADER_WORDS + slot * WORDS_PER_INPUT + field
    }

    pub(crate) fn buffer(&self, index: usize, word: BufferWord) -> usize {
        debug_assert!(index < self.buffers);
        let field = match word {
            BufferWord::Values => 0,
            BufferWord::Validity => 1,
            BufferWord::Halo => 2,
        };
        HEADER_WORDS + self.inputs * WORDS_PER_INPUT + index * WORDS_PER_BUFFER + field
    }

    pub(crate) fn extra_output(&self, index: usize, word: ExtraOutputWord) -> usize {
        debug_assert!(index < self.extra_outputs);
        let field = match word {
            ExtraOutputWord::Values => 0,
            ExtraOutputWord::Bitmap => 1,
        };
        self.first_extra_output() + index * WORDS_PER_EXTRA_OUTPUT + field
    }

    /// The word holding scan `index`'s running state (`LoopPlan::scans` order).
    pub(crate) fn scan_state(&self, index: usize) -> usize {
        debug_assert!(index < self.scans);
        self.first_state() + index
    }

    /// The word holding the reduction's state, for a plan that reduces its result.
    pub(crate) fn reduce_state(&self) -> usize {
        debug_assert!(self.reduces);
        self.first_state() + self.scans
    }

    /// How many words the block has.
    pub(crate) fn total_words(&self) -> usize {
        self.first_state() + self.scans + usize::from(self.reduces)
    }

    fn first_extra_output(&self) -> usize {
        HEADER_WORDS + self.inputs * WORDS_PER_INPUT + self.buffers * WORDS_PER_BUFFER
    }

    fn first_state(&self) -> usize {
        self.first_extra_output() + self.extra_outputs * WORDS_PER_EXTRA_OUTPUT
    }
}

/// A scalar input's argument word: a float's bits, an integer's two's-complement bits
/// (an i32 zero-extended; the kernel reads the low 32 bits), a bool as 0 or 1.
pub(crate) fn scalar_word(scalar: Scalar) -> u64 {
    match scalar {
        Scalar::F64(v) => v.to_bits(),
        Scalar::F32(v) => u64::from(v.to_bits()),
        Scalar::I64(v) => v as u64,
        Scalar::I32(v) => u64::from(v as u32),
        Scalar::Bool(v) => u64::from(v),
    }
}

/// A column's values as the little-endian bytes an object's argument region holds (what the
/// native kernel reads through `InputWord::Data`).
#[cfg(feature = "cross")]
pub(crate) fn column_bytes(data: ColumnData<'_>) -> Vec<u8> {
    match data {
        ColumnData::F64(values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ColumnData::F32(values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ColumnData::I64(values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ColumnData::I32(values) => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ColumnData::Bool(values) => values.iter().map(|&v| u8::from(v)).collect(),
        ColumnData::PackedBool(bits) => bits.bytes().to_vec(),
    }
}

/// A column's `InputWord::DataBitOffset`: the bit of row 0 of packed bools, else 0 (unused).
pub(crate) fn column_bit_offset(data: ColumnData<'_>) -> u64 {
    match data {
        ColumnData::PackedBool(bits) => bits.offset() as u64,
        ColumnData::F64(_)
        | ColumnData::F32(_)
        | ColumnData::I64(_)
        | ColumnData::I32(_)
        | ColumnData::Bool(_) => 0,
    }
}

/// The address of a column's first value (`InputWord::Data`).
pub(crate) fn column_address(data: ColumnData<'_>) -> u64 {
    match data {
        ColumnData::F64(values) => values.as_ptr() as u64,
        ColumnData::F32(values) => values.as_ptr() as u64,
        ColumnData::I64(values) => values.as_ptr() as u64,
        ColumnData::I32(values) => values.as_ptr() as u64,
        ColumnData::Bool(values) => values.as_ptr() as u64,
        ColumnData::PackedBool(bits) => bits.bytes().as_ptr() as u64,
    }
}
