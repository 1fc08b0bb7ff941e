//! A quick side-by-side of the JIT against hand-written kernels on W1–W4 of SPEC §6 at 1M rows:
//! `seed` (the seeds' style: scalar `f64::ln`, two ln per row for dlog, fast and masked paths)
//! and `best` (ln once per row through the same runtime ln block as the JIT, fused).
//! Run: `cargo run --release --example workloads [-- ROWS]`. Prints median ns/row of 15 runs,
//! then the cost of one `eval_into` call on 16 rows (the per-call overhead).

use fusejit::internals::math;
use fusejit::{Bindings, ColumnMut, Engine, ValuesMut};
use std::hint::black_box;
use std::time::Instant;

fn median_ns_per_row(rows: usize, mut run: impl FnMut()) -> f64 {
    run();
    let mut times: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_nanos() as f64 / rows as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The seeds' dlog_scale_add: two scalar ln per row.
fn seed_dlog(out: &mut [f64], x: &[f64], lag: usize, a: f64, b: f64) {
    for i in 0..x.len() {
        out[i] = if i >= lag { (x[i].ln() - x[i - lag].ln()) * a + b } else { f64::NAN };
    }
}

/// The best fused kernel we write by hand: ln once per row, in L1-sized blocks, through the
/// runtime's block function; the lagged ln comes from the previous rows of the ln buffer.
fn best_dlog(out: &mut [f64], x: &[f64], lag: usize, a: f64, b: f64, logs: &mut Vec<f64>) {
    logs.resize(x.len(), 0.0);
    math::ln_f64_block(x, logs);
    for i in 0..x.len() {
        out[i] = if i >= lag { (logs[i] - logs[i - lag]) * a + b } else { f64::NAN };
    }
}

fn main() {
    let rows = match std::env::args().nth(1).map(|arg| arg.parse::<usize>()) {
        None => 1_000_000,
        Some(Ok(rows)) if rows > 0 => rows,
        Some(_) => {
            eprintln!("workloads: the one argument is a row count of at least 1");
            std::process::exit(2)
        }
    };
    let x: Vec<f64> = {
        let mut price = 100.0f64;
        (0..rows)
            .map(|i| {
                price *= 1.0 + ((i as f64 * 0.618).fract() - 0.5) * 0.02;
                price
            })
            .collect()
    };
    let y: Vec<f64> = x.iter().map(|v| v * 0.99).collect();
    let (a, b) = (252.0, 0.5);
    let engine = Engine::new();
    let mut out = vec![0.0; rows];
    let mut validity = vec![0u8; rows.div_ceil(8)];
    let mut logs = Vec::new();
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]).column("y", &y[..]).scalar("a", a).scalar("b", b);

    println!("| workload | rows | jit ns/row | seed ns/row | best ns/row | seed/jit | jit/best |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let workloads: [(&str, &str); 4] =
        [("W1", "ln(x)*a+b"), ("W2", "dlog(x,1)*a+b"), ("W3", "dlog(x,5)*a+b"), ("W4", "(x-y)*a+b")];
    for (name, source) in workloads {
        let kernel = engine.compile(source).expect("compiles");
        let jit = median_ns_per_row(rows, || {
            let mut target = ColumnMut { values: ValuesMut::F64(&mut out), validity: &mut validity };
            black_box(kernel.eval_into(&bindings, &mut target).expect("evaluates"));
        });
        let mut seed_out = vec![0.0; rows];
        let (seed, best) = match name {
            "W1" => (
                median_ns_per_row(rows, || {
                    for (o, v) in seed_out.iter_mut().zip(&x) {
                        *o = v.ln() * a + b;
                    }
                    black_box(&seed_out);
                }),
                median_ns_per_row(rows, || {
                    math::ln_f64_block(&x, &mut seed_out);
                    for o in seed_out.iter_mut() {
                        *o = *o * a + b;
                    }
                    black_box(&seed_out);
                }),
            ),
            "W2" | "W3" => {
                let lag = if name == "W2" { 1 } else { 5 };
                (
                    median_ns_per_row(rows, || seed_dlog(black_box(&mut seed_out), &x, lag, a, b)),
                    median_ns_per_row(rows, || best_dlog(black_box(&mut seed_out), &x, lag, a, b, &mut logs)),
                )
            }
            _ => {
                let fused = median_ns_per_row(rows, || {
                    for ((o, xv), yv) in seed_out.iter_mut().zip(&x).zip(&y) {
                        *o = (xv - yv) * a + b;
                    }
                    black_box(&seed_out);
                });
                (fused, fused)
            }
        };
        println!(
            "| {name} `{source}` | {rows} | {jit:.2} | {seed:.2} | {best:.2} | {:.2} | {:.2} |",
            seed / jit,
            jit / best
        );
    }

    // W6: W3 with 10% nulls; W7: a where. JIT only (the benchmark issue adds their baselines).
    let bits: Vec<u8> = (0..rows.div_ceil(8)).map(|i| if i % 5 == 0 { 0b1110_1111 } else { 0xff }).collect();
    let mut nullable = Bindings::new();
    nullable
        .column_with_validity("x", &x[..], fusejit::Validity::new(&bits, 0))
        .scalar("a", a)
        .scalar("b", b);
    for (name, source, bindings) in
        [("W6", "dlog(x,5)*a+b", &nullable), ("W7", "where(x>y, x-y, 0)*a", &bindings)]
    {
        let kernel = engine.compile(source).expect("compiles");
        let jit = median_ns_per_row(rows, || {
            let mut target = ColumnMut { values: ValuesMut::F64(&mut out), validity: &mut validity };
            black_box(kernel.eval_into(bindings, &mut target).expect("evaluates"));
        });
        println!("| {name} `{source}` | {rows} | {jit:.2} | | | | |");
    }
    // W5: x*a on a 2048x2048 f32 image (4M values), against a plain Rust loop.
    let image: Vec<f32> = (0..2048 * 2048).map(|i| (i % 1000) as f32 * 0.5).collect();
    let mut scaled = vec![0f32; image.len()];
    let mut image_validity = vec![0u8; image.len().div_ceil(8)];
    let mut image_bindings = Bindings::new();
    image_bindings.column("x", &image[..]).scalar("a", 1.5f32);
    let kernel = engine.compile("x*a").expect("compiles");
    let jit = median_ns_per_row(image.len(), || {
        let mut target = ColumnMut { values: ValuesMut::F32(&mut scaled), validity: &mut image_validity };
        black_box(kernel.eval_into(&image_bindings, &mut target).expect("evaluates"));
    });
    let best = median_ns_per_row(image.len(), || {
        for (o, v) in scaled.iter_mut().zip(&image) {
            *o = v * 1.5;
        }
        black_box(&scaled);
    });
    println!("| W5 `x*a` (f32) | {} | {jit:.2} | | {best:.2} | | {:.2} |", image.len(), jit / best);
    // Compile latency: parse to native code, for W3, with nothing cached.
    let cold = Engine::with_config(fusejit::EngineConfig::default().with_cache_capacity(0))
        .expect("a valid engine configuration");
    let compiles = 200;
    let compile_us = median_ns_per_row(compiles, || {
        for _ in 0..compiles {
            let mut schema = fusejit::Schema::new();
            schema
                .insert("x", fusejit::Type::column(fusejit::Elem::F64))
                .insert("a", fusejit::Type::scalar(fusejit::Elem::F64))
                .insert("b", fusejit::Type::scalar(fusejit::Elem::F64));
            black_box(cold.compile_with_schema("dlog(x,5)*a+b", &schema).expect("compiles"));
        }
    }) / 1000.0;
    println!("\ncompile `dlog(x,5)*a+b` to native code: {compile_us:.0} µs");
    let small: Vec<f64> = x[..16].to_vec();
    let mut small_bindings = Bindings::new();
    small_bindings.column("x", &small[..]).scalar("a", a).scalar("b", b);
    let kernel = engine.compile("dlog(x,1)*a+b").expect("compiles");
    let calls = 100_000;
    let per_call = median_ns_per_row(calls, || {
        for _ in 0..calls {
            let mut target =
                ColumnMut { values: ValuesMut::F64(&mut out[..16]), validity: &mut validity[..2] };
            black_box(kernel.eval_into(&small_bindings, &mut target).expect("evaluates"));
        }
    });
    println!("\neval_into of `dlog(x,1)*a+b` on 16 rows: {per_call:.0} ns per call");
}
