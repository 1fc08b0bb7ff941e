//! What a second thread can gain on this machine, without fusejit: a streaming loop
//! `b[i] = a[i]*2 + 1` over 256 MB columns (bound by memory), and the same over 64 KB columns
//! that stay in cache (bound by compute), each on 1 and on 2 threads, median of 9 runs.
//! Memory-bound workloads (W4, W5, W7 at millions of rows) cannot scale past the first.
//!
//! `cargo run --release --example memory_bandwidth`
use std::time::Instant;

fn stream(a: &[f64], b: &mut [f64], repeats: usize) {
    for _ in 0..repeats {
        for (out, &x) in b.iter_mut().zip(a) {
            *out = x * 2.0 + 1.0;
        }
        std::hint::black_box(&mut *b);
    }
}

fn measure(rows: usize, repeats: usize, threads: usize) -> f64 {
    let a: Vec<f64> = (0..rows).map(|i| i as f64).collect();
    let mut b = vec![0.0; rows];
    let mut samples = Vec::new();
    for _ in 0..9 {
        let start = Instant::now();
        std::thread::scope(|scope| {
            let per = rows.div_ceil(threads);
            for (a, b) in a.chunks(per).zip(b.chunks_mut(per)) {
                scope.spawn(move || stream(a, b, repeats));
            }
        });
        samples.push(start.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    // Bytes moved per second: one read and one write per row.
    (rows * repeats * 16) as f64 / samples[4] / 1e9
}

fn main() {
    println!("| columns | 1 thread GB/s | 2 threads GB/s | 2 / 1 |");
    println!("| --- | --- | --- | --- |");
    for (label, rows, repeats) in [("2 × 256 MB (memory)", 32 << 20, 2), ("2 × 64 KB (cache)", 8 << 10, 8192)]
    {
        let (one, two) = (measure(rows, repeats, 1), measure(rows, repeats, 2));
        println!("| {label} | {one:.1} | {two:.1} | {:.2} |", two / one);
    }
}
