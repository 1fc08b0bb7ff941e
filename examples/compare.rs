//! One run, every contender, side by side: the JIT against the seeds' kernels, the best
//! hand-written Rust, an unfused pipeline, the interpreter and memcpy, on W1–W7 of SPEC §6
//! and on a z-score `(x-mean(x))/std(x)` and a rolling mean `mavg(x,20)` (no seed kernel).
//! Contenders run interleaved on the same data, in an order rotated every repeat, each once
//! untimed and then timed (warm caches), median of repeats.
//!
//! `cargo run --release --example compare -- [--quick] [--rows N,...] [--threads 1,2] [--json PATH]`
//! `--quick`: 1M rows only, fewer repeats. `--rows`: these sizes instead. `--threads`: the JIT once per thread count (default:
//! the engine's default, every core), with each count's speedup over the first.
//! `--json`: also write every measurement as JSON.

#[path = "../benches/baselines/mod.rs"]
mod baselines;

use baselines::{Data, Out, Workload};
use std::hint::black_box;

/// The contenders after the JIT's (one per thread count).
const OTHERS: [&str; 5] = ["best", "seed", "pipeline", "interp", "memcpy"];

/// The command line: `--quick`, `--json PATH`, `--rows N[,N...]`, `--threads N[,N...]`.
struct Arguments {
    quick: bool,
    json_path: Option<String>,
    thread_counts: Vec<Option<usize>>,
    rows_asked: Option<Vec<usize>>,
}

fn parse_arguments() -> Result<Arguments, String> {
    const USAGE: &str = "use --quick, --rows N[,N...], --threads N[,N...] and --json PATH";
    fn numbers(list: &str, what: &str) -> Result<Vec<usize>, String> {
        list.split(',')
            .map(|n| match n.trim().parse() {
                Ok(0) | Err(_) => Err(format!("{what} must be numbers of at least 1, not `{list}`")),
                Ok(n) => Ok(n),
            })
            .collect()
    }
    let mut parsed = Arguments { quick: false, json_path: None, thread_counts: vec![None], rows_asked: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value; {USAGE}"));
        match arg.as_str() {
            "--quick" => parsed.quick = true,
            "--json" => parsed.json_path = Some(value()?),
            "--rows" => parsed.rows_asked = Some(numbers(&value()?, "--rows")?),
            "--threads" => {
                parsed.thread_counts = numbers(&value()?, "--threads")?.into_iter().map(Some).collect()
            }
            other => return Err(format!("unknown argument {other}; {USAGE}")),
        }
    }
    Ok(parsed)
}

fn main() {
    let Arguments { quick, json_path, thread_counts, rows_asked } =
        parse_arguments().unwrap_or_else(|message| {
            eprintln!("compare: {message}");
            std::process::exit(2)
        });
    let default_sizes: &[usize] = if quick { &[1_000_000] } else { &[1_000, 65_536, 1_000_000, 4_000_000] };
    let sizes: &[usize] = rows_asked.as_deref().unwrap_or(default_sizes);
    let repeats = if quick { 7 } else { 21 };
    let engine = fusejit::Engine::new();
    let threads: Vec<usize> =
        thread_counts.iter().map(|threads| threads.unwrap_or_else(|| engine.threads())).collect();
    let jit_names: Vec<String> = threads.iter().map(|threads| format!("jit {threads}t")).collect();
    let contenders: Vec<String> =
        jit_names.iter().cloned().chain(OTHERS.iter().map(|name| name.to_string())).collect();
    let jits = threads.len();
    println!("math tier: {}; median of {repeats} interleaved runs; ns per row\n", engine.isa().name());
    let speedups: Vec<String> =
        jit_names[1..].iter().map(|name| format!("{} / {name}", jit_names[0])).collect();
    let header: Vec<String> = contenders
        .iter()
        .cloned()
        .chain(["jit/best".to_string(), "seed/jit".to_string()])
        .chain(speedups.iter().cloned())
        .collect();
    println!("| workload | rows | {} |", header.join(" | "));
    println!("| --- | --- |{}", " --- |".repeat(header.len()));
    let mut records = Vec::new();
    for &rows in sizes {
        let data = Data::new(rows);
        let mut out = Out::new(rows);
        for workload in Workload::ALL {
            // One compiled kernel, a handle per thread count: the same code on every count.
            let compiled = engine.compile(workload.source()).expect("compiles");
            let kernels: Vec<fusejit::Kernel> = threads
                .iter()
                .map(|&count| compiled.with_threads(count).expect("a valid thread count"))
                .collect();
            let bindings = baselines::bindings(workload, &data);
            // The interpreter is ~100x slower: fewer rows keep a full run short.
            let interp_rows = rows.min(65_536);
            let interp_data = Data::new(interp_rows);
            let interp_bindings = baselines::bindings(workload, &interp_data);
            let medians = baselines::interleaved_medians(contenders.len(), repeats, |index| {
                if index < jits {
                    baselines::jit(&kernels[index], &bindings, workload, &mut out);
                    return rows;
                }
                match contenders[index].as_str() {
                    "best" => baselines::best(workload, &data, &mut out),
                    "seed" => baselines::seed(workload, &data, &mut out),
                    "pipeline" => baselines::pipeline(workload, &data, &mut out),
                    "interp" => {
                        black_box(kernels[0].interpret(&interp_bindings).expect("interprets"));
                        return interp_rows;
                    }
                    _ => baselines::memcpy(workload, &data, &mut out),
                }
                black_box(&out.f64s);
                rows
            });
            let (jit, best, seed) = (medians[0], medians[jits], medians[jits + 1]);
            let has_seed = workload.has_seed();
            let mut cells: Vec<String> = medians
                .iter()
                .zip(&contenders)
                .map(
                    |(ns, contender)| {
                        if contender == "seed" && !has_seed { "-".into() } else { format!("{ns:.2}") }
                    },
                )
                .collect();
            cells.push(format!("{:.2}", jit / best));
            cells.push(if has_seed { format!("{:.2}", seed / jit) } else { "-".into() });
            cells.extend(medians[1..jits].iter().map(|ns| format!("{:.2}", jit / ns)));
            println!("| {} `{}` | {rows} | {} |", workload.name(), workload.source(), cells.join(" | "));
            for (contender, ns) in contenders.iter().zip(&medians) {
                if contender == "seed" && !has_seed {
                    continue;
                }
                records.push(format!(
                    "{{\"workload\":\"{}\",\"rows\":{rows},\"contender\":\"{contender}\",\"ns_per_row\":{ns:.4}}}",
                    workload.name()
                ));
            }
        }
    }
    // The corpus: the JIT on each thread count and the interpreter (the Python peers are in
    // benches/peers/peers.py, under the same names).
    let corpus_contenders: Vec<String> = jit_names.iter().cloned().chain(["interp".to_string()]).collect();
    println!("\n| corpus program | rows | {} |", corpus_contenders.join(" | "));
    println!("| --- | --- |{}", " --- |".repeat(corpus_contenders.len()));
    for &rows in sizes {
        let data = Data::new(rows);
        let mut out = Out::new(rows);
        let interp_rows = rows.min(65_536);
        let interp_data = Data::new(interp_rows);
        for (name, program) in baselines::CORPUS {
            let compiled = engine.compile(program).expect("the corpus compiles");
            let kernels: Vec<fusejit::Kernel> = threads
                .iter()
                .map(|&count| compiled.with_threads(count).expect("a valid thread count"))
                .collect();
            let bindings = baselines::corpus_bindings(&data);
            let interp_bindings = baselines::corpus_bindings(&interp_data);
            let medians = baselines::interleaved_medians(corpus_contenders.len(), repeats, |index| {
                if index < jits {
                    baselines::corpus_jit(&kernels[index], &bindings, name, &mut out);
                    black_box(&out.f64s);
                    rows
                } else {
                    black_box(kernels[0].interpret(&interp_bindings).expect("interprets"));
                    interp_rows
                }
            });
            let cells: Vec<String> = medians.iter().map(|ns| format!("{ns:.2}")).collect();
            println!("| {name} `{program}` | {rows} | {} |", cells.join(" | "));
            for (contender, ns) in corpus_contenders.iter().zip(&medians) {
                records.push(format!(
                    "{{\"workload\":\"{name}\",\"rows\":{rows},\"contender\":\"{contender}\",\"ns_per_row\":{ns:.4}}}"
                ));
            }
        }
    }
    if let Some(path) = json_path {
        std::fs::write(&path, format!("[{}]\n", records.join(",\n"))).expect("writable JSON path");
        println!("\nwrote {} measurements to {path}", records.len());
    }
}
