//! The argument block a native kernel reads: one array of 64-bit words, laid out here once so
//! that the translator (which emits the loads) and the executor (which fills the words) agree.

/// Word 0: the row count `n`.
pub const ROWS: usize = 0;
/// Word 1: the output values pointer.
pub const OUT_VALUES: usize = 1;
/// Word 2: a scratch of one byte per block row, for the result's validity before packing.
pub const OUT_VALID_BLOCK: usize = 2;
/// Word 3: the output validity bitmap pointer (LSB-first, offset 0).
pub const OUT_BITMAP: usize = 3;
/// First word of the inputs: four words per input slot.
pub const INPUTS: usize = 4;
pub const WORDS_PER_INPUT: usize = 4;
/// Within an input's words: data pointer, validity pointer, validity bit offset, scalar bits.
pub const INPUT_DATA: usize = 0;
pub const INPUT_VALIDITY: usize = 1;
pub const INPUT_OFFSET: usize = 2;
pub const INPUT_SCALAR: usize = 3;
/// Within a buffer's three words (after all inputs): values pointer, validity pointer, and the
/// halo in rows actually used (`min(planned halo, n)`).
pub const WORDS_PER_BUFFER: usize = 3;
pub const BUFFER_VALUES: usize = 0;
pub const BUFFER_VALIDITY: usize = 1;
pub const BUFFER_HALO: usize = 2;

pub fn input_word(slot: usize, field: usize) -> usize {
    INPUTS + slot * WORDS_PER_INPUT + field
}

pub fn buffer_word(inputs: usize, buffer: usize, field: usize) -> usize {
    INPUTS + inputs * WORDS_PER_INPUT + buffer * WORDS_PER_BUFFER + field
}

/// After the buffers, two words per extra output column (`LoopPlan::extra_outputs`): its
/// values pointer and its bitmap pointer.
pub const WORDS_PER_EXTRA_OUTPUT: usize = 2;
pub const EXTRA_VALUES: usize = 0;
pub const EXTRA_BITMAP: usize = 1;

pub fn extra_output_word(inputs: usize, buffers: usize, output: usize, field: usize) -> usize {
    INPUTS + inputs * WORDS_PER_INPUT + buffers * WORDS_PER_BUFFER + output * WORDS_PER_EXTRA_OUTPUT + field
}

/// After the extra outputs, one word per scan: its running state's address.
pub fn scan_state_word(inputs: usize, buffers: usize, extra_outputs: usize, scan: usize) -> usize {
    INPUTS
        + inputs * WORDS_PER_INPUT
        + buffers * WORDS_PER_BUFFER
        + extra_outputs * WORDS_PER_EXTRA_OUTPUT
        + scan
}

pub fn total_words(inputs: usize, buffers: usize, extra_outputs: usize, scans: usize) -> usize {
    scan_state_word(inputs, buffers, extra_outputs, scans)
}
