//! Binding an Arrow array costs nothing: evaluates `dlog(px,1)*252` over a 1M-row
//! `Float64Array` with nulls, sliced at offset 3, bound with `bind_array` (no copy), and over
//! the same rows as a plain slice with a bitmap, interleaved; prints ns/row for each. Then
//! what packing a bool result into an Arrow `BooleanArray` adds to `px > 100`.
//!
//! `cargo run --release --example arrow_binding`

use arrow_array::{Array, Float64Array};
use fusejit::{Bindings, Engine, Validity};
use std::time::Instant;

fn main() {
    let rows = 1_000_003;
    let array: Float64Array =
        (0..rows).map(|i| if i % 7 == 2 { None } else { Some(100.0 + (i % 1000) as f64 * 0.01) }).collect();
    let sliced = array.slice(3, rows - 3);
    let copied: Vec<f64> = sliced.values().to_vec();
    let mut bits = vec![0u8; copied.len().div_ceil(8)];
    for row in 0..copied.len() {
        if sliced.is_valid(row) {
            bits[row / 8] |= 1 << (row % 8);
        }
    }
    let mut from_arrow = Bindings::new();
    from_arrow.bind_array("px", &sliced).expect("a Float64Array binds");
    let mut from_slice = Bindings::new();
    from_slice.column_with_validity("px", &copied[..], Validity::new(&bits, 0));
    let kernel = Engine::new().compile("dlog(px, 1) * 252").expect("compiles");
    let (mut arrow_best, mut slice_best) = (f64::MAX, f64::MAX);
    for _ in 0..30 {
        for (bindings, best) in [(&from_arrow, &mut arrow_best), (&from_slice, &mut slice_best)] {
            let start = Instant::now();
            let result = kernel.eval(bindings).expect("evaluates");
            let ns = start.elapsed().as_nanos() as f64 / copied.len() as f64;
            assert_eq!(result.len(), copied.len());
            *best = best.min(ns);
        }
    }
    println!("rows: {}, best of 30 each, interleaved", copied.len());
    println!("Float64Array sliced at 3, bind_array: {arrow_best:.3} ns/row");
    println!("&[f64] + own bitmap:                 {slice_best:.3} ns/row");
    println!("ratio arrow/slice: {:.3}", arrow_best / slice_best);

    let compare = Engine::new().compile("px > 100.5").expect("compiles");
    let (mut eval_best, mut pack_best) = (f64::MAX, f64::MAX);
    for _ in 0..30 {
        let start = Instant::now();
        let result = compare.eval(&from_arrow).expect("evaluates");
        let evaluated = start.elapsed().as_nanos() as f64 / copied.len() as f64;
        let start = Instant::now();
        let array = result.into_array();
        let packed = start.elapsed().as_nanos() as f64 / copied.len() as f64;
        assert_eq!(array.len(), copied.len());
        eval_best = eval_best.min(evaluated);
        pack_best = pack_best.min(packed);
    }
    println!("px > 100.5: eval {eval_best:.3} ns/row, into_array (bit-packing) {pack_best:.3} ns/row");
}
