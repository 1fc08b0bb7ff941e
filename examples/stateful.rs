//! The stateful functions (windows, cumulative ops, `ema`) on one thread against the loops
//! that bound them: a plain running sum (`cumsum`'s one dependent add per row), `ema`'s
//! dependent multiply and add, and the hand-written running-sum `mavg` of `examples/compare`.
//! Interleaved, median of the runs, ns per row.
//!
//! `cargo run --release --example stateful -- [--rows N] [--repeats R] [--only TEXT] [--program P]... [--threads N]`
//! (`--only`: the programs containing TEXT; `--program`: time these programs instead, over
//! `x`, `r` and `xn`, with no bound)
#[path = "../benches/baselines/mod.rs"]
mod baselines;

use std::hint::black_box;

/// The programs, with the bound each is measured against (a name in `bound`).
const PROGRAMS: [(&str, &str); 14] = [
    ("msum(x, 20)", "running sum"),
    ("mavg(x, 20)", "running mean"),
    ("mstd(x, 20)", "-"),
    ("mmax(x, 20)", "-"),
    ("mmin(x, 20)", "-"),
    ("cumsum(x)", "add chain"),
    ("cumprod(1 + r)", "mul chain"),
    ("cummax(x)", "-"),
    ("ema(x, 0.1)", "mul+add chain"),
    ("mavg(xn, 20)", "running mean"),
    ("cumsum(xn)", "add chain"),
    ("ema(xn, 0.1)", "mul+add chain"),
    ("mstd(dlog(x, 1), 20)", "-"),
    ("x/cummax(x) - 1", "-"),
];

fn bound(name: &str, x: &[f64], out: &mut [f64]) {
    match name {
        "add chain" => {
            let mut sum = 0.0;
            for (o, &v) in out.iter_mut().zip(x) {
                sum += v;
                *o = sum;
            }
        }
        "mul chain" => {
            let mut product = 1.0;
            for (o, &v) in out.iter_mut().zip(x) {
                product *= 1.0 + v * 1e-9;
                *o = product;
            }
        }
        "mul+add chain" => {
            let (alpha, keep) = (0.1, 0.9);
            let mut s = x[0];
            for (o, &v) in out.iter_mut().zip(x) {
                s = alpha * v + keep * s;
                *o = s;
            }
        }
        "running sum" | "running mean" => {
            let w = 20;
            let mut sum = 0.0;
            let mean = name == "running mean";
            for i in 0..x.len() {
                sum += x[i];
                if i >= w {
                    sum -= x[i - w];
                }
                let count = (i + 1).min(w) as f64;
                out[i] = if mean { sum / count } else { sum };
            }
        }
        _ => {}
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut rows, mut repeats, mut only) = (1_000_000usize, 15usize, None);
    let mut extra: Vec<String> = Vec::new();
    let mut threads = 1usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rows" => rows = args.next().and_then(|v| v.parse().ok()).expect("--rows N"),
            "--repeats" => repeats = args.next().and_then(|v| v.parse().ok()).expect("--repeats R"),
            "--only" => only = Some(args.next().expect("--only TEXT")),
            "--program" => extra.push(args.next().expect("--program TEXT")),
            "--threads" => threads = args.next().and_then(|v| v.parse().ok()).expect("--threads N"),
            other => panic!("unknown argument {other}; use --rows N, --repeats R and --only TEXT"),
        }
    }
    // `examples/compare`'s data: `x` a positive random walk, `xn` it with 10% nulls, and `r`
    // small returns (`y/x − 1`, scaled) for `cumprod(1 + r)`.
    let data = baselines::Data::new(rows);
    let (x, validity) = (&data.x, &data.validity);
    let r: Vec<f64> = data.x.iter().zip(&data.y).map(|(x, y)| (y / x - 1.0) * 1e-4).collect();
    let engine = fusejit::Engine::with_config(fusejit::EngineConfig::default().with_threads(Some(threads)))
        .expect("--threads N: 1 to EngineConfig::MAX_THREADS");
    let mut bindings = fusejit::Bindings::new();
    bindings.column("x", &x[..]).column("r", &r[..]);
    bindings.column_with_validity("xn", &x[..], fusejit::Validity::new(validity, 0));
    let mut out = vec![0.0f64; rows];
    let mut out_validity = vec![0u8; rows.div_ceil(8)];
    println!("{rows} rows, {threads} thread(s), median of {repeats} interleaved runs; ns per row\n");
    println!("| program | jit | bound | bound's loop | jit/bound |");
    println!("| --- | --- | --- | --- | --- |");
    let programs: Vec<(&str, &str)> = if extra.is_empty() {
        PROGRAMS.to_vec()
    } else {
        extra.iter().map(|program| (program.as_str(), "-")).collect()
    };
    for (program, bound_name) in programs {
        if only.as_ref().is_some_and(|only| !program.contains(only.as_str())) {
            continue;
        }
        let kernel = engine.compile(program).expect("compiles");
        let medians = baselines::interleaved_medians(2, repeats, |contender| {
            if contender == 0 {
                let mut target = fusejit::ColumnMut {
                    values: fusejit::ValuesMut::F64(&mut out),
                    validity: &mut out_validity,
                };
                kernel.eval_into(&bindings, &mut target).expect("evaluates");
            } else {
                bound(bound_name, if bound_name == "mul chain" { &r } else { x }, &mut out);
            }
            black_box(&out);
            rows
        });
        let (jit, bounded) = (medians[0], medians[1]);
        if bound_name == "-" {
            println!("| `{program}` | {jit:.2} | - | - | - |");
        } else {
            println!("| `{program}` | {jit:.2} | {bounded:.2} | {bound_name} | {:.2} |", jit / bounded);
        }
    }
}
