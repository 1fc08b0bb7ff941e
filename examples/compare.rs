//! One run, every contender, side by side: the JIT against the seeds' kernels, the best
//! hand-written Rust, an unfused pipeline, the interpreter and memcpy, on W1–W7 of SPEC §6
//! and on a z-score `(x-mean(x))/std(x)` and a rolling mean `mavg(x,20)` (no seed kernel).
//! Contenders run interleaved on the same data (warm caches), median of repeats.
//!
//! `cargo run --release --example compare -- [--quick] [--json PATH]`
//! `--quick`: 1M rows only, fewer repeats. `--json`: also write every measurement as JSON.

#[path = "../benches/baselines/mod.rs"]
mod baselines;

use baselines::{Data, Out, Workload};
use std::hint::black_box;
use std::time::Instant;

const CONTENDERS: [&str; 6] = ["jit", "best", "seed", "pipeline", "interp", "memcpy"];

fn main() {
    let mut quick = false;
    let mut json_path: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => json_path = Some(args.next().expect("--json PATH")),
            other => panic!("unknown argument {other}; use --quick and --json PATH"),
        }
    }
    let sizes: &[usize] = if quick { &[1_000_000] } else { &[1_000, 65_536, 1_000_000, 4_000_000] };
    let repeats = if quick { 7 } else { 21 };
    let engine = fusejit::Engine::new();
    println!("math tier: {}; median of {repeats} interleaved runs; ns per row\n", engine.isa().name());
    println!("| workload | rows | jit | best | seed | pipeline | interp | memcpy | jit/best | seed/jit |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut records = Vec::new();
    for &rows in sizes {
        let data = Data::new(rows);
        let mut out = Out::new(rows);
        for workload in Workload::ALL {
            let kernel = engine.compile(workload.source()).expect("compiles");
            let bindings = baselines::bindings(workload, &data);
            // The interpreter is ~100x slower: fewer rows keep a full run short.
            let interp_rows = rows.min(65_536);
            let interp_data = Data::new(interp_rows);
            let interp_bindings = baselines::bindings(workload, &interp_data);
            let mut samples: Vec<Vec<f64>> = vec![Vec::new(); CONTENDERS.len()];
            for _ in 0..repeats {
                for (index, contender) in CONTENDERS.iter().enumerate() {
                    let start = Instant::now();
                    let measured_rows = match *contender {
                        "jit" => {
                            baselines::jit(&kernel, &bindings, workload, &mut out);
                            rows
                        }
                        "best" => {
                            baselines::best(workload, &data, &mut out);
                            rows
                        }
                        "seed" => {
                            baselines::seed(workload, &data, &mut out);
                            rows
                        }
                        "pipeline" => {
                            baselines::pipeline(workload, &data, &mut out);
                            rows
                        }
                        "interp" => {
                            black_box(kernel.interpret(&interp_bindings).expect("interprets"));
                            interp_rows
                        }
                        _ => {
                            baselines::memcpy(workload, &data, &mut out);
                            rows
                        }
                    };
                    black_box(&out.f64s);
                    samples[index].push(start.elapsed().as_nanos() as f64 / measured_rows as f64);
                }
            }
            let medians: Vec<f64> = samples
                .iter_mut()
                .map(|times| {
                    times.sort_by(f64::total_cmp);
                    times[times.len() / 2]
                })
                .collect();
            let (jit, best, seed) = (medians[0], medians[1], medians[2]);
            let has_seed = workload.has_seed();
            let cells: Vec<String> = medians
                .iter()
                .zip(CONTENDERS)
                .map(
                    |(ns, contender)| {
                        if contender == "seed" && !has_seed { "-".into() } else { format!("{ns:.2}") }
                    },
                )
                .collect();
            let seed_ratio = if has_seed { format!("{:.2}", seed / jit) } else { "-".into() };
            println!(
                "| {} `{}` | {rows} | {} | {:.2} | {seed_ratio} |",
                workload.name(),
                workload.source(),
                cells.join(" | "),
                jit / best,
            );
            for (contender, ns) in CONTENDERS.iter().zip(&medians) {
                if *contender == "seed" && !has_seed {
                    continue;
                }
                records.push(format!(
                    "{{\"workload\":\"{}\",\"rows\":{rows},\"contender\":\"{contender}\",\"ns_per_row\":{ns:.4}}}",
                    workload.name()
                ));
            }
        }
    }
    if let Some(path) = json_path {
        std::fs::write(&path, format!("[{}]\n", records.join(",\n"))).expect("writable JSON path");
        println!("\nwrote {} measurements to {path}", records.len());
    }
}
