//! The stateful functions (windows, cumulative ops, `ema`) on one thread against the loops
//! that bound them: a plain running sum (`cumsum`'s one dependent add per row), `ema`'s
//! dependent multiply and add, and the hand-written running-sum `mavg` of `examples/compare`.
//! Interleaved, median of the runs, ns per row.
//!
//! `cargo run --release --example stateful -- [--rows N] [--repeats R] [--only TEXT] [--program P]... [--threads N]`
//! (`--only`: the programs containing TEXT; `--program`: time these programs instead, over
//! `x`, `r`, `xn` and `x32` (`x` as f32), with no bound; a program's result may be any type)
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

/// The command line, or what is wrong with it.
struct Options {
    rows: usize,
    repeats: usize,
    only: Option<String>,
    programs: Vec<String>,
    threads: usize,
}

const USAGE: &str = "usage: stateful [--rows N] [--repeats R] [--only TEXT] [--program P]... [--threads N]";

fn options() -> Result<Options, String> {
    let mut options = Options { rows: 1_000_000, repeats: 15, only: None, programs: Vec::new(), threads: 1 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        let count = |text: String| -> Result<usize, String> {
            text.parse().ok().filter(|&n| n > 0).ok_or_else(|| format!("{arg}: not a positive count: {text}"))
        };
        match arg.as_str() {
            "--rows" => options.rows = count(value()?)?,
            "--repeats" => options.repeats = count(value()?)?,
            "--threads" => options.threads = count(value()?)?,
            "--only" => options.only = Some(value()?),
            "--program" => options.programs.push(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

fn main() {
    let options = options().unwrap_or_else(|message| {
        eprintln!("stateful: {message}\n{USAGE}");
        std::process::exit(2)
    });
    if let Err(message) = run(&options) {
        eprintln!("stateful: {message}");
        std::process::exit(1);
    }
}

fn run(options: &Options) -> Result<(), String> {
    let Options { rows, repeats, ref only, programs: ref extra, threads } = *options;
    // `examples/compare`'s data: `x` a positive random walk, `xn` it with 10% nulls, `r`
    // small returns (`y/x − 1`, scaled) for `cumprod(1 + r)`, `x32` it as f32.
    let data = baselines::Data::new(rows);
    let (x, validity) = (&data.x, &data.validity);
    let r: Vec<f64> = data.x.iter().zip(&data.y).map(|(x, y)| (y / x - 1.0) * 1e-4).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    // Integer volumes (1 to 1000, i64 and i32), for programs that mix them with prices.
    let vol: Vec<i64> = (0..rows as i64).map(|i| (i * 7919) % 1000 + 1).collect();
    let vol32: Vec<i32> = vol.iter().map(|&v| v as i32).collect();
    // A bool column of a byte a row, true on a third of the rows, and the same bits packed
    // (Arrow's layout) as `flag_bits`.
    let flag: Vec<bool> = (0..rows).map(|i| (i * 7919) % 3 == 0).collect();
    let mut flag_bytes = vec![0u8; rows.div_ceil(8)];
    for (row, _) in flag.iter().enumerate().filter(|(_, set)| **set) {
        flag_bytes[row / 8] |= 1 << (row % 8);
    }
    let flag_bits =
        fusejit::PackedBools::new(&flag_bytes, 0, rows).ok_or("the packed flags cover every row")?;
    let engine = fusejit::Engine::with_config(fusejit::EngineConfig::default().with_threads(Some(threads)))
        .map_err(|error| format!("--threads {threads}: {error}"))?;
    let mut bindings = fusejit::Bindings::new();
    bindings.column("x", &x[..]).column("r", &r[..]).column("x32", &x32[..]);
    bindings.column("vol", &vol[..]).column("vol32", &vol32[..]).column("flag", &flag[..]);
    bindings.column("flag_bits", flag_bits);
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
        let kernel = engine.compile(program).map_err(|error| format!("{program}: {error}"))?;
        let result_type =
            match kernel.output_types_of_bindings(&bindings).map_err(|error| error.to_string())?[..] {
                [(_, result_type)] => result_type,
                _ => return Err(format!("{program}: times programs of one result")),
            };
        if result_type.shape != fusejit::Shape::Column {
            return Err(format!("{program}: the result is a scalar, not a column"));
        }
        // Room for the result, reused across runs.
        let mut result = fusejit::ColumnValues::zeroed(result_type.elem, rows);
        let mut failure = None;
        let medians = baselines::interleaved_medians(2, repeats, |contender| {
            if contender == 0 {
                let mut target =
                    fusejit::ColumnMut { values: (&mut result).into(), validity: &mut out_validity };
                if let Err(error) = kernel.eval_into(&bindings, &mut target) {
                    failure.get_or_insert(format!("{program}: {error}"));
                }
            } else {
                bound(bound_name, if bound_name == "mul chain" { &r } else { x }, &mut out);
            }
            black_box((&out, &result));
            rows
        });
        if let Some(failure) = failure {
            return Err(failure);
        }
        let (jit, bounded) = (medians[0], medians[1]);
        if bound_name == "-" {
            println!("| `{program}` | {jit:.2} | - | - | - |");
        } else {
            println!("| `{program}` | {jit:.2} | {bounded:.2} | {bound_name} | {:.2} |", jit / bounded);
        }
    }
    Ok(())
}
