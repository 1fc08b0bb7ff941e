//! The trivial programs against what bounds them: each program's time over that of the
//! plain loop doing the same work with nothing around it — a copy of the column (`memcpy`)
//! for data movement, or the project's `ln`/`exp` block over the column for a math call.
//! A fused loop adds little to such programs, so a ratio well above 1.1 points at a slow path
//! in the plan. Interleaved, median of the runs, ns per row, one thread.
//!
//! `cargo run --release --example trivial -- [--rows N] [--repeats R]`
#[path = "../benches/baselines/mod.rs"]
mod baselines;

use fusejit::internals::math;
use std::hint::black_box;

/// (program, its floor, the output element type).
const PROGRAMS: [(&str, &str, &str); 20] = [
    ("x", "memcpy", "f64"),
    ("-x", "memcpy", "f64"),
    ("x * 2", "memcpy", "f64"),
    ("abs(x)", "memcpy", "f64"),
    ("lag(x, 1)", "memcpy", "f64"),
    ("lag(x, 300)", "memcpy", "f64"),
    ("x > 100", "memcpy", "bool"),
    ("f32(x)", "memcpy", "f32"),
    ("f64(x32)", "memcpy", "f64"),
    ("fill(xn, 0)", "memcpy", "f64"),
    ("is_null(xn)", "memcpy", "bool"),
    ("xn", "memcpy", "f64"),
    ("where(x > 100, xn, 0.0)", "memcpy", "f64"),
    ("xn > 100 && x < 105", "memcpy", "bool"),
    ("fill(xn, lag(xn, 1))", "memcpy", "f64"),
    ("sign(x - 100)", "memcpy", "f64"),
    ("ln(x)", "ln block", "f64"),
    ("exp(x / 100)", "exp block", "f64"),
    ("ln(x) * 252 + 0.5", "ln block", "f64"),
    ("sqrt(x)", "memcpy", "f64"),
];

/// `--rows N` and `--repeats R`, each at least 1.
fn parse_arguments() -> Result<(usize, usize), String> {
    const USAGE: &str = "use --rows N and --repeats R";
    let mut args = std::env::args().skip(1);
    let (mut rows, mut repeats) = (1_000_000usize, 21usize);
    while let Some(arg) = args.next() {
        let count = args
            .next()
            .and_then(|value| value.parse().ok())
            .filter(|&count: &usize| count > 0)
            .ok_or_else(|| format!("{arg} needs a count of at least 1; {USAGE}"));
        match arg.as_str() {
            "--rows" => rows = count?,
            "--repeats" => repeats = count?,
            other => return Err(format!("unknown argument {other}; {USAGE}")),
        }
    }
    Ok((rows, repeats))
}

fn main() {
    let (rows, repeats) = parse_arguments().unwrap_or_else(|message| {
        eprintln!("trivial: {message}");
        std::process::exit(2)
    });
    let x: Vec<f64> = (0..rows).map(|i| 100.0 + (i as f64 * 0.001).sin() * 10.0).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let scaled: Vec<f64> = x.iter().map(|v| v / 100.0).collect();
    let validity: Vec<u8> = (0..rows.div_ceil(8)).map(|i| if i % 10 == 3 { 0xef } else { 0xff }).collect();
    let engine = fusejit::Engine::with_config(fusejit::EngineConfig::default().with_threads(Some(1)))
        .expect("1 thread");
    let mut bindings = fusejit::Bindings::new();
    bindings.column("x", &x[..]).column("x32", &x32[..]);
    bindings.column_with_validity("xn", &x[..], fusejit::Validity::new(&validity, 0));
    let mut out = vec![0.0f64; rows];
    let mut out32 = vec![0.0f32; rows];
    let mut out_bool = vec![false; rows];
    let mut out_validity = vec![0u8; rows.div_ceil(8)];
    println!("{rows} rows, 1 thread, median of {repeats} interleaved runs; ns per row\n");
    println!("| program | jit | floor | floor's loop | jit/floor |");
    println!("| --- | --- | --- | --- | --- |");
    for (program, floor, output) in PROGRAMS {
        let kernel = engine.compile(program).expect("compiles");
        let medians = baselines::interleaved_medians(2, repeats, |contender| {
            if contender == 0 {
                let values = match output {
                    "f32" => fusejit::ValuesMut::F32(&mut out32),
                    "bool" => fusejit::ValuesMut::Bool(&mut out_bool),
                    _ => fusejit::ValuesMut::F64(&mut out),
                };
                let mut target = fusejit::ColumnMut { values, validity: &mut out_validity };
                kernel.eval_into(&bindings, &mut target).expect("evaluates");
            } else {
                match floor {
                    "ln block" => math::ln_f64_block(&x, &mut out),
                    "exp block" => math::exp_f64_block(&scaled, &mut out),
                    _ => out.copy_from_slice(&x),
                }
            }
            black_box((&out, &out32, &out_bool));
            rows
        });
        let (jit, bound) = (medians[0], medians[1]);
        println!("| `{program}` | {jit:.2} | {bound:.2} | {floor} | {:.2} |", jit / bound);
    }
}
