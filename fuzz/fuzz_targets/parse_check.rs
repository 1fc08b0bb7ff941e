//! Fuzz target: arbitrary text through the parser and checker; what compiles is evaluated
//! natively and by the interpreter over a few hostile rows, which must agree.
//!
//! Finds: panics, stack overflows and hangs in the front end; diagnostics whose spans do not
//! render; programs the checker accepts but later stages mishandle.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use fusejit::{Bindings, Validity};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let engine = common::engine();
    let kernel = match engine.compile(source) {
        Ok(kernel) => kernel,
        Err(error) => {
            // Every compile error renders, with its caret inside the text.
            let rendered = error.render("<fuzz>", false);
            assert!(rendered.contains("error"), "{source:?}: rendered {rendered:?}");
            return;
        }
    };
    // Bind every input as an f64 column of 67 rows (past a validity word), every third one
    // with nulls at bit offset 5, and compare native code with the interpreter.
    let mut rng = common::Rng(0x9e37_79b9_7f4a_7c15 ^ data.len() as u64);
    let rows = 67;
    let names = kernel.input_names().to_vec();
    let columns: Vec<Vec<f64>> = names.iter().map(|_| (0..rows).map(|_| rng.value()).collect()).collect();
    let bitmaps: Vec<Vec<u8>> = names.iter().map(|_| rng.bitmap(rows, 5, 20)).collect();
    let mut bindings = Bindings::new();
    for (index, name) in names.iter().enumerate() {
        if index % 3 == 2 {
            bindings.column_with_validity(
                name.as_str(),
                &columns[index][..],
                Validity::new(&bitmaps[index], 5),
            );
        } else {
            bindings.column(name.as_str(), &columns[index][..]);
        }
    }
    common::assert_outputs_agree(&format!("{source:?}"), &kernel, &bindings);
});
