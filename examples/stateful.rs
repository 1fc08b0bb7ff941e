//! The stateful functions (windows, cumulative ops, `ema`) on one thread against the loops
//! that bound them: a plain running sum (`cumsum`'s one dependent add per row), `ema`'s
//! dependent multiply and add, and the hand-written running-sum `mavg` of `examples/compare`.
//! Interleaved, median of the runs, ns per row.
//!
//! `cargo run --release --example stateful -- [--rows N] [--repeats R] [--only TEXT] [--program P]... [--threads N]`
//! (`--only`: the programs containing TEXT; `--program`: time these programs instead, over
//! `x`, `r` and `xn`, with no bound)
use std::hint::black_box;
use std::time::Instant;

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
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 100.0f64;
    let x: Vec<f64> = (0..rows)
        .map(|_| {
            price *= 1.0 + (next() - 0.5) * 0.02;
            price
        })
        .collect();
    let r: Vec<f64> = (0..rows).map(|_| (next() - 0.5) * 1e-6).collect();
    let mut validity = vec![0u8; rows.div_ceil(8)];
    for row in 0..rows {
        if next() >= 0.1 {
            validity[row / 8] |= 1 << (row % 8);
        }
    }
    let engine = fusejit::Engine::with_config(fusejit::EngineConfig::default().with_threads(Some(1)))
        .expect("1 thread");
    let mut bindings = fusejit::Bindings::new();
    bindings.column("x", &x[..]).column("r", &r[..]);
    bindings.column_with_validity("xn", &x[..], fusejit::Validity::new(&validity, 0));
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
        let mut samples = [Vec::new(), Vec::new()];
        for _ in 0..repeats {
            for (contender, times) in samples.iter_mut().enumerate() {
                let mut run = || {
                    if contender == 0 {
                        let mut target = fusejit::ColumnMut {
                            values: fusejit::ValuesMut::F64(&mut out),
                            validity: &mut out_validity,
                        };
                        kernel.eval_into(&bindings, &mut target).expect("evaluates");
                    } else {
                        bound(bound_name, if bound_name == "mul chain" { &r } else { &x }, &mut out);
                    }
                    black_box(&out);
                };
                run();
                let start = Instant::now();
                run();
                times.push(start.elapsed().as_nanos() as f64 / rows as f64);
            }
        }
        let [jit, bounded] = samples.map(|mut times| {
            times.sort_by(f64::total_cmp);
            times[times.len() / 2]
        });
        if bound_name == "-" {
            println!("| `{program}` | {jit:.2} | - | - | - |");
        } else {
            println!("| `{program}` | {jit:.2} | {bounded:.2} | {bound_name} | {:.2} |", jit / bounded);
        }
    }
}
