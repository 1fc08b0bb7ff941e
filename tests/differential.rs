//! Differential tests: random programs over the whole language, on random data with random
//! null densities, bit offsets and lengths — native code must equal the reference interpreter
//! on every row: the same validity, and on valid rows the same bits (any NaN equals any NaN,
//! since NaN payloads are not part of the language's semantics).

mod common;

use common::random_programs::{
    BOUNDARY_PROGRAMS, BoundaryData, Rng, bind, compare, data, multi_output_strategy, program_for_seed,
    program_strategy,
};
use fusejit::{Bindings, Engine, EngineConfig};
use proptest::prelude::*;

/// Whether a generated case evaluated (both sides gave columns) or was rejected by both alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Evaluated,
    RejectedByBoth,
}

/// `source` over data made from `seed`: native code against the interpreter.
fn run_case(engine: &Engine, source: &str, seed: u64) -> Result<Outcome, String> {
    let mut rng = Rng(seed | 1);
    let data = data(&mut rng);
    let bindings = bind(&data, &mut rng);
    let kernel = engine.compile(source).map_err(|error| format!("{source}: {error}"))?;
    let reference = match kernel.interpret(&bindings) {
        Ok(column) => column,
        // Programs that do not type-check are fine to generate; both paths must agree on that.
        Err(error) => {
            return match kernel.eval(&bindings) {
                Err(native_error) if native_error == error => Ok(Outcome::RejectedByBoth),
                other => Err(format!("{source}: interpreter failed with {error}, native gave {other:?}")),
            };
        }
    };
    let native = kernel.eval(&bindings).map_err(|error| format!("{source}: native failed: {error}"))?;
    compare(source, &native, &reference)
        .map_err(|message| format!("{message} (rows {}, seed {seed})", data.rows))?;
    // The same program split into ranges of 64 rows and up, on 2, 3 or 7 threads.
    let (parallel, threads) = parallel_engine(seed);
    let kernel = parallel.compile(source).map_err(|error| format!("{source}: {error}"))?;
    let split =
        kernel.eval(&bindings).map_err(|error| format!("{source}: {threads} threads failed: {error}"))?;
    compare(source, &split, &native)
        .map_err(|message| format!("{threads} threads: {message} (rows {}, seed {seed})", data.rows))?;
    Ok(Outcome::Evaluated)
}

/// An engine on 2, 3 or 7 threads (by `seed`) that splits columns into ranges as short as
/// 64 rows, so that range edges fall inside lags, windows and reduction chunks.
fn parallel_engine(seed: u64) -> (Engine, usize) {
    let threads = [2, 3, 7][(seed % 3) as usize];
    let config = EngineConfig::default()
        .with_cache_capacity(64)
        .with_verify_generated_code(true)
        .with_threads(Some(threads))
        .with_min_rows_per_thread(64);
    (Engine::with_config(config).expect("a valid engine configuration"), threads)
}

/// A program with several outputs (`out` statements sharing bindings and reductions), and
/// sometimes a final expression: every output must equal the interpreter's.
fn run_multi_output_case(engine: &Engine, source: &str, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed | 1);
    let data = data(&mut rng);
    let bindings = bind(&data, &mut rng);
    let kernel = engine.compile(source).map_err(|error| format!("{source}: {error}"))?;
    let reference = match kernel.interpret_outputs(&bindings) {
        Ok(columns) => columns,
        Err(error) => {
            return match kernel.eval_outputs(&bindings) {
                Err(native_error) if native_error == error => Ok(()),
                other => Err(format!("{source}: interpreter failed with {error}, native gave {other:?}")),
            };
        }
    };
    let native =
        kernel.eval_outputs(&bindings).map_err(|error| format!("{source}: native failed: {error}"))?;
    if native.len() != reference.len() {
        return Err(format!("{source}: {} outputs vs {}", native.len(), reference.len()));
    }
    for ((name, column), (reference_name, reference_column)) in native.iter().zip(&reference) {
        if name != reference_name {
            return Err(format!("{source}: output {name} vs {reference_name}"));
        }
        compare(source, column, reference_column)
            .map_err(|message| format!("output {name}: {message} (rows {}, seed {seed})", data.rows))?;
    }
    let (parallel, threads) = parallel_engine(seed);
    let kernel = parallel.compile(source).map_err(|error| format!("{source}: {error}"))?;
    let split = kernel
        .eval_outputs(&bindings)
        .map_err(|error| format!("{source}: {threads} threads failed: {error}"))?;
    for ((name, column), (_, single)) in split.iter().zip(&native) {
        compare(source, column, single).map_err(|message| {
            format!("{threads} threads, output {name}: {message} (rows {}, seed {seed})", data.rows)
        })?;
    }
    Ok(())
}

/// A one-thread engine: the native side every other is compared with.
fn engine() -> Engine {
    let config = EngineConfig::default().with_cache_capacity(64).with_verify_generated_code(true);
    Engine::with_config(config.with_threads(Some(1))).expect("a valid engine configuration")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn multi_output_programs_equal_the_interpreter(source in multi_output_strategy(), seed in any::<u64>()) {
        let engine = engine();
        if let Err(message) = run_multi_output_case(&engine, &source, seed) {
            prop_assert!(false, "{}", message);
        }
    }

    #[test]
    fn native_code_equals_the_interpreter(source in program_strategy(), seed in any::<u64>()) {
        let engine = engine();
        if let Err(message) = run_case(&engine, &source, seed) {
            prop_assert!(false, "{}", message);
        }
    }
}

/// A generator that drifts into programs that fail to type-check would make the differential
/// test vacuous (both sides failing alike counts as agreement): most cases must evaluate.
#[test]
fn most_generated_programs_evaluate() {
    let engine = engine();
    let strategy = program_strategy();
    let cases = 1500u64;
    let mut rejected = Vec::new();
    for seed in 0..cases {
        let source = program_for_seed(&strategy, seed);
        match run_case(&engine, &source, seed) {
            Ok(Outcome::Evaluated) => {}
            Ok(Outcome::RejectedByBoth) => rejected.push(source),
            Err(message) => panic!("{message}"),
        }
    }
    let evaluated = cases - rejected.len() as u64;
    assert!(
        evaluated * 100 >= cases * 90,
        "only {evaluated} of {cases} generated programs evaluate; rejected, e.g.:\n{}",
        rejected.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// The workloads of SPEC §6 and the programs of the fusion snapshots (`tests/data/fusion`), at
/// every boundary length, with and without nulls.
#[test]
fn workloads_equal_the_interpreter_at_block_boundaries() {
    let engine = engine();
    // Besides the elementwise programs: reductions, windows and outputs at the same lengths.
    let stateful = [
        "(x - mean(x)) / std(x, 1)",
        "mavg(x, 20) * a + msum(y, 600) - mstd(w, 513)",
        "cumsum(x) - ema(y, 0.1) + mmin(x, 64) + mean(ln(x))",
        "out m = x * 2\nout c = cummax(y)\nm - c",
        // Independent scans side by side advance in one call: two emas interleaved (over
        // the same and over different operands), any other pair one after the other; an
        // ema of an ema is not paired.
        "ema(x, 2/13) - ema(x, 2/27)",
        "ema(x * 2, 0.1) / ema(y, 0.3) + ema(ema(y, 0.5), 0.2)",
        "cumsum(x) + cummax(y) - ema(w, 0.05)",
        // Scheduled (`schedule_scans`): the second ema's operand is computed before the
        // first ema, the two emas are one call, the arithmetic after them one loop.
        "d = diff(x, 1); up = ema(max(d, 0), 1/14); down = ema(max(-d, 0), 1/14); 100 - 100 / (1 + up / down)",
        "(x - mavg(x, 20)) / mstd(x, 20) + cumsum(y * 2) - x * 3",
        // Blocks cut to start on multiples of the windows' groups (240, 512 and 120 rows):
        // a range's first block shorter, the others 480, 512 and 480 rows.
        "msum(x, 20) - mavg(y, 30) * mstd(w, 20)",
        "mstd(x, 128) + 1",
        "mmax(x, 20) - mmin(y, 3) * 2",
        // Cheap operands in the emas' row loop (a lag inside a block, a lag past it), and an
        // ema of a block call's result carried in the row loop over its buffer.
        "ema(x - lag(x, 1), 0.1) * 2 + ema(ln(y) * 3, 0.2)",
        "ema(-lag(y, 700), 0.3) - ema(y * 2 + 1, 0.05)",
        // Started at row 0, its operand null at row 2 (y[2] < 104.9 reads lag(y, 3)): the
        // state is kept over that row.
        "ema(where(y < 104.9, lag(y, 3), y), 0.2)",
        // Lags of inputs longer than a range: read from the inputs before the range, with no
        // warm-up (the ranges split however long the lag), beside windows and carries.
        "x - lag(x, 3000) + lag(lag(y, 100), 1000) * 2",
        "mavg(lag(x, 5000), 20) - lag(w, 65) + lag(ln(y), 2)",
        "cummax(lag(x, 2000)) - lag(y, 40000)",
    ];
    let programs: Vec<&str> = BOUNDARY_PROGRAMS.iter().copied().chain(stateful).collect();
    for rows in [0usize, 1, 63, 64, 65, 511, 512, 513, 1024, 1025, 3000] {
        let data = BoundaryData::new(rows);
        for with_nulls in [false, true] {
            let bindings = data.bind(with_nulls);
            for &source in &programs {
                let kernel = engine.compile(source).unwrap();
                let native = kernel.eval(&bindings).unwrap();
                let reference = kernel.interpret(&bindings).unwrap();
                if let Err(message) = compare(source, &native, &reference) {
                    panic!("{message} (rows {rows}, nulls {with_nulls})");
                }
            }
        }
    }
}

/// Every workload, boundary program and stateful program gives the same bits on 1, 2, 3 and
/// 7 threads, with ranges as short as 64 rows (edges inside lags, windows and reduction
/// chunks) and as the default threshold splits them, through `eval`, `eval_into` and
/// `eval_outputs`.
#[test]
fn every_thread_count_gives_the_same_bits() {
    let stateful = [
        "(x - mean(x)) / std(x, 1)",
        "mavg(x, 20) * a + msum(y, 600) - mstd(w, 513)",
        "mmax(dlog(x, 1), 70) - mmin(lag(y, 3), 5) + mstd(dlog(x, 1), 20)",
        "cumsum(x) - ema(y, 0.1) + mmin(x, 64) + mean(ln(x))",
        "cummax(x) + cummin(lag(y, 1))",
        // Carried across ranges in two phases (no lag in the loop).
        "x - cummax(x)",
        "cummin(ln(x) * 2) + cummax(where(y > 100, y, null)) - cummax(w)",
        // Integer running sums wrap, which is associative: carried too (and past 2⁶³ here).
        "cumsum(i64(x * 1e15)) + i64(cumsum(i32(y)))",
        "sum(x) + var(dlog(x, 1)) + min(w) + max(lag(x, 100)) + count(x)",
        "out m = x * 2\nout c = mavg(y, 7)\nm - c + std(x)",
        "ema(x, 2/13) - ema(x, 2/27)",
        "ema(x * 2, 0.1) / ema(y, 0.3) + ema(ema(y, 0.5), 0.2)",
        // An `ema` the row loop carries beside a `cummax` that ranges could carry: the loop
        // must not be split into ranges (the `ema` would restart in each).
        "cummax(y) - ema(y, 0.1)",
        "ema(lag(y, 2), 0.2) * 2 + where(ema(y, 0.05) > y, 1.0, -1.0)",
        "d = diff(x, 1); up = ema(max(d, 0), 1/14); down = ema(max(-d, 0), 1/14); 100 - 100 / (1 + up / down)",
        "(x - mavg(x, 20)) / mstd(x, 20) + cumsum(y * 2) - x * 3",
        // Blocks cut to start on multiples of the windows' groups (240, 512 and 120 rows):
        // a range's first block shorter, the others 480, 512 and 480 rows.
        "msum(x, 20) - mavg(y, 30) * mstd(w, 20)",
        "mstd(x, 128) + 1",
        "mmax(x, 20) - mmin(y, 3) * 2",
        // Cheap operands in the emas' row loop (a lag inside a block, a lag past it), and an
        // ema of a block call's result carried in the row loop over its buffer.
        "ema(x - lag(x, 1), 0.1) * 2 + ema(ln(y) * 3, 0.2)",
        "ema(-lag(y, 700), 0.3) - ema(y * 2 + 1, 0.05)",
        // Started at row 0, its operand null at row 2 (y[2] < 104.9 reads lag(y, 3)): the
        // state is kept over that row.
        "ema(where(y < 104.9, lag(y, 3), y), 0.2)",
        // Lags of inputs longer than a range: read from the inputs before the range, with no
        // warm-up (the ranges split however long the lag), beside windows and carries.
        "x - lag(x, 3000) + lag(lag(y, 100), 1000) * 2",
        "mavg(lag(x, 5000), 20) - lag(w, 65) + lag(ln(y), 2)",
        "cummax(lag(x, 2000)) - lag(y, 40000)",
    ];
    let programs: Vec<&str> = BOUNDARY_PROGRAMS.iter().copied().chain(stateful).collect();
    let engines: Vec<(String, Engine)> = [(1, 64), (2, 64), (3, 64), (7, 64), (2, 32_768), (7, 1000)]
        .into_iter()
        .map(|(threads, min_rows)| {
            let config = EngineConfig::default()
                .with_verify_generated_code(true)
                .with_threads(Some(threads))
                .with_min_rows_per_thread(min_rows);
            (format!("{threads} threads of >= {min_rows} rows"), Engine::with_config(config).unwrap())
        })
        .collect();
    for rows in [64usize, 700, 4097, 70_000] {
        let data = BoundaryData::new(rows);
        for with_nulls in [false, true] {
            let bindings = data.bind(with_nulls);
            for &source in &programs {
                let one = engines[0].1.compile(source).unwrap();
                let reference = one.eval(&bindings).unwrap();
                let reference_outputs = one.eval_outputs(&bindings).unwrap();
                if rows <= 4097 {
                    let interpreted = one.interpret(&bindings).unwrap();
                    compare(source, &reference, &interpreted).unwrap_or_else(|m| panic!("{m} (rows {rows})"));
                }
                for (name, engine) in &engines[1..] {
                    let kernel = engine.compile(source).unwrap();
                    let context =
                        |message: String| format!("{name}: {message} (rows {rows}, nulls {with_nulls})");
                    let got = kernel.eval(&bindings).unwrap();
                    compare(source, &got, &reference).unwrap_or_else(|m| panic!("{}", context(m)));
                    for ((output, got), (_, want)) in
                        kernel.eval_outputs(&bindings).unwrap().iter().zip(&reference_outputs)
                    {
                        compare(source, got, want)
                            .unwrap_or_else(|m| panic!("{}", context(format!("{output}: {m}"))));
                    }
                    if let fusejit::ColumnValues::F64(want) = &reference.values {
                        let len = want.len();
                        let mut values = vec![f64::NAN; len];
                        let mut validity = vec![0u8; len.div_ceil(8)];
                        let mut out = fusejit::ColumnMut {
                            values: fusejit::ValuesMut::F64(&mut values),
                            validity: &mut validity,
                        };
                        let summary = kernel.eval_into(&bindings, &mut out).unwrap();
                        assert_eq!(
                            summary.null_count,
                            reference.null_count,
                            "{}",
                            context("null count".into())
                        );
                        for row in 0..len {
                            let valid = validity[row / 8] >> (row % 8) & 1 == 1;
                            assert_eq!(
                                valid,
                                reference.is_valid(row),
                                "{}",
                                context(format!("validity of row {row}"))
                            );
                            if valid {
                                let same = values[row].to_bits() == want[row].to_bits()
                                    || (values[row].is_nan() && want[row].is_nan());
                                assert!(
                                    same,
                                    "{}",
                                    context(format!("eval_into row {row}: {} vs {}", values[row], want[row]))
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Regression: a lagged bool read before row 0 is clamped onto scratch that an earlier kernel
/// on this thread filled with f64 bits. Its value is unused (the row is null) but flows into
/// `true || …`, whose output byte must still be exactly 0 or 1.
#[test]
fn bool_outputs_are_always_zero_or_one_bytes() {
    let engine = engine();
    let x: Vec<f64> = (0..1025).map(|i| 1.5 + f64::from(i)).collect();
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    // Leaves f64 values of ln(x) in this thread's scratch, where the next kernel's buffer lives.
    engine.compile("dlog(x, 1) * 3").unwrap().eval(&bindings).unwrap();
    let out = engine.compile("true || lag(x > 2, 5000)").unwrap().eval(&bindings).unwrap();
    let fusejit::ColumnValues::Bool(values) = &out.values else { panic!("a bool result") };
    // SAFETY: reading the bytes of a bool slice as u8 is always defined.
    let bytes = unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), values.len()) };
    assert!(bytes.iter().all(|&byte| byte == 1), "bool bytes other than 1: {:?}", &bytes[..8]);
    assert_eq!(out.null_count, 0);
}

/// Lags of computed values longer than a block keep their rows in a segment after the halo
/// that fills block by block, the halo moving to the front only when the segment is full: over
/// 600 000 rows the segments (32 768 rows) fill many times, with nulls, on one thread and split
/// over 2, 3 and 7 (ranges of their own, whose 5 000-row warm-ups leave the blocks off the
/// segment's 512-row grid, so a segment can end inside a block). Engines that verify their
/// code also check that nothing was written past a buffer's scratch.
#[test]
fn long_halos_moving_once_a_segment_give_the_interpreters_result() {
    let rows = 600_000usize;
    let x: Vec<f64> = (0..rows).map(|i| 1.0 + (i % 977) as f64 * 0.5).collect();
    let bits: Vec<u8> = (0..rows.div_ceil(8)).map(|i| if i % 7 == 3 { 0b1110_1111 } else { 0xff }).collect();
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], fusejit::Validity::new(&bits, 0));
    let source = "lag(ln(x), 600) * 2 + lag(x * 3, 5000) - lag(sqrt(x), 513)";
    let reference = engine().compile(source).unwrap().interpret(&bindings).unwrap();
    let mut engines = vec![engine()];
    engines.extend((0..3).map(|seed| parallel_engine(seed).0));
    for engine in &engines {
        let native = engine.compile(source).unwrap().eval(&bindings).unwrap();
        compare(source, &native, &reference)
            .unwrap_or_else(|message| panic!("{} threads: {message}", engine.threads()));
    }
}

/// A lag of a computed value far longer than a block: the halo holds 300 000 rows of ln(x).
#[test]
fn a_halo_of_300_000_rows_gives_the_interpreters_result() {
    let engine = engine();
    let x: Vec<f64> = (0..400_000).map(|i| 1.0 + (i % 977) as f64).collect();
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    let kernel = engine.compile("dlog(x, 300000) + lag(ln(x) * 2, 299999)").unwrap();
    let native = kernel.eval(&bindings).unwrap();
    let reference = kernel.interpret(&bindings).unwrap();
    assert_eq!(native.null_count, 300_000);
    compare("dlog(x, 300000)", &native, &reference).unwrap();
}

/// Kernels calling the traced math tier (Cranelift's `f64x2` code of the generic kernels, the
/// tier aarch64 hosts run) equal the interpreter too: 500 fixed seeds of the generator.
#[test]
fn kernels_on_the_traced_math_tier_equal_the_interpreter() {
    let engine = Engine::with_config(
        EngineConfig::default()
            .with_cache_capacity(64)
            .with_verify_generated_code(true)
            .with_isa(Some(fusejit::Isa::Traced)),
    )
    .expect("the traced tier compiles for this host");
    assert_eq!(engine.isa(), fusejit::Isa::Traced);
    let strategy = program_strategy();
    for seed in 1..=500u64 {
        let source = program_for_seed(&strategy, seed);
        if let Err(message) = run_case(&engine, &source, seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)) {
            panic!("{message}");
        }
    }
}

/// A result that is a division or a square root, or one read only by math functions' block
/// calls and scans, runs as a block call into the runtime's division or square-root loop
/// (AVX2 where the CPU has it, row by row in its tail), a division by a scalar of a column
/// less a scalar (`(x − mean(x)) / std(x)`) with the subtraction folded into the call: the
/// same bits as the interpreter's and as Rust's, for every length around the loop's 8- and
/// 16-row steps and the 512-row blocks, with zeros of both signs, infinities, NaNs,
/// subnormals and negative numbers as operands, by a column, a scalar, a computed value and
/// a reduction, f64 and f32, on one and on 3 threads.
#[test]
fn divisions_and_square_roots_run_as_block_calls_and_equal_the_interpreter() {
    let specials = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE / 8.0,
        f64::MAX,
        1.0,
        -3.0,
        1e-300,
        7.5e300,
    ];
    let mut rng = Rng(0x5eed_d1f1);
    let mut value = |row: usize| {
        if row.is_multiple_of(5) {
            specials[(row / 5) % specials.len()]
        } else {
            (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 2e3 - 1e3
        }
    };
    let x: Vec<f64> = (0..1601).map(&mut value).collect();
    // The divisor column meets every special against every other (`specials.len()` is
    // coprime to the 7 this walks by).
    let y: Vec<f64> = (0..1601)
        .map(
            |row: usize| {
                if row.is_multiple_of(3) { specials[(row * 7) % specials.len()] } else { value(row) }
            },
        )
        .collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    // Rows 0, 3 and 6 of every eight null.
    let xn_validity: Vec<u8> = (0..1601usize.div_ceil(8)).map(|_| 0b1011_0110).collect();
    // (program, the wide block calls its plan has)
    let programs: [(&str, &[&str]); 52] = [
        ("x / y", &["div"]),
        ("x / s", &["div"]),
        ("x / -0.0", &["div"]),
        ("(x - y) / 3", &["div"]),
        ("ln(abs(x)) / y", &["div"]),
        ("(x - mean(x)) / std(x)", &["cdiv"]),
        ("x32 / y32", &["div"]),
        ("x32 / s32", &["div"]),
        ("(x32 - mean(x32)) / std(x32)", &["cdiv"]),
        // A reduced quotient: the block call writes its buffer, which the reduction reads.
        ("sum(x / y) + x", &["div"]),
        ("x - mean(x32 / 3)", &["div"]),
        // Read only by block calls and scans: the call writes the buffer they read.
        ("exp(x / 100)", &["div"]),
        ("ln(x / s) * 2", &["div"]),
        ("msum(x / y, 5)", &["div"]),
        ("cumsum(x32 / y32)", &["div"]),
        ("pow(x / y, 2.5) + mean(exp(x / 1000))", &["div"]),
        ("x / lag(y, 3)", &[]),
        ("x / y + 1", &[]),
        ("s / x", &[]),
        // Read by a row loop as well, or through a lag: it stays in the row loop.
        ("exp(x / 100 + 1)", &[]),
        ("exp(x / y) + x / y", &[]),
        ("lag(x / y, 2)", &[]),
        ("ln(xn / 3)", &[]),
        // Square roots, where divisions would be block calls.
        ("sqrt(x)", &["sqrt"]),
        ("sqrt(x * y)", &[]),
        // Over a division that is not a call (a scalar dividend; read by a row loop too).
        ("sqrt(s / x)", &[]),
        ("exp(sqrt(x / y)) + x / y", &[]),
        ("exp(sqrt(ln(x))) + msum(sqrt(cumsum(x)), 3)", &["sqrt"]),
        ("sqrt(x32)", &["sqrt"]),
        ("exp(sqrt(x) / 8)", &["div", "sqrt"]),
        ("sqrt(x / y)", &["div", "sqrt"]),
        ("sqrt(sqrt(x)) + 1", &[]),
        ("mavg(sqrt(x32), 3) + sum(sqrt(x))", &["sqrt"]),
        ("sqrt(x) + 1", &[]),
        ("sqrt(lag(x, 2))", &[]),
        ("lag(sqrt(x), 2)", &[]),
        ("sqrt(xn)", &[]),
        // Centred divisions: a column less a scalar, by a scalar, the dividend read by the
        // division alone: one call subtracts and divides.
        ("(x - 1.5) / 2.5", &["cdiv"]),
        ("(x - s) / s", &["cdiv"]),
        ("(x32 - s32) / s32", &["cdiv"]),
        ("(x - min(x)) / (max(x) - min(x))", &["cdiv"]),
        ("(ln(abs(x)) - 1) / 3", &["cdiv"]),
        ("exp((x - 1) / 3)", &["cdiv"]),
        ("(cumsum(x) - 1) / 4", &["cdiv"]),
        ("sqrt((x - 1) / 3)", &["cdiv", "sqrt"]),
        // Not folded: the dividend read elsewhere too, a lag (null in its first row), a column subtrahend or
        // divisor, a scalar less a column, nulls.
        ("exp((x - 1) / 3) + exp(x - 1)", &["div"]),
        ("(lag(x, 1) - 1) / 3", &[]),
        ("(x - 1) / y", &["div"]),
        ("(1 - x) / 3", &["div"]),
        ("(x - 1) / 3 + 1", &[]),
        ("(xn - 1) / 3", &[]),
        ("lag((x - 1) / 3, 1)", &[]),
    ];
    let (single, threaded) = verified_engines();
    for rows in [0, 1, 7, 8, 9, 15, 16, 17, 511, 512, 513, 1024 + 23, 1601] {
        let mut bindings = Bindings::new();
        bindings
            .column("x", &x[..rows])
            .column("y", &y[..rows])
            .column("x32", &x32[..rows])
            .column("y32", &y32[..rows])
            .column_with_validity("xn", &x[..rows], fusejit::Validity::new(&xn_validity, 0))
            .scalar("s", -7.25)
            .scalar("s32", 3.5f32);
        for (source, block_calls) in programs {
            let kernel = single.compile(source).unwrap();
            let plan = kernel.plan_text(&bindings).unwrap();
            for name in ["div", "sqrt", "cdiv"] {
                let expected = block_calls.contains(&name);
                assert_eq!(plan.contains(&format!("block call {name} ")), expected, "{source}:\n{plan}");
            }
            assert_native_equals_interpreter((&kernel, &threaded), source, &bindings, rows);
        }
        // And against Rust's `/`, `-` and `sqrt` directly, row by row.
        let quotient = single.compile("x / y").unwrap().eval(&bindings).unwrap();
        let root = single.compile("sqrt(x)").unwrap().eval(&bindings).unwrap();
        let centered = single.compile("(x - 0.1) / s").unwrap().eval(&bindings).unwrap();
        for row in 0..rows {
            let expected = (x[row] - 0.1) / -7.25;
            match centered.get(row) {
                Some(fusejit::Scalar::F64(got)) => assert!(
                    got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
                    "(x - 0.1) / s: row {row}"
                ),
                other => panic!("(x - 0.1) / s: row {row}: {other:?}"),
            }
            match root.get(row) {
                Some(fusejit::Scalar::F64(got)) => {
                    let expected = x[row].sqrt();
                    assert!(
                        got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
                        "sqrt: row {row}"
                    )
                }
                other => panic!("sqrt: row {row}: {other:?}"),
            }
            let expected = x[row] / y[row];
            match quotient.get(row) {
                Some(fusejit::Scalar::F64(got)) => {
                    assert!(
                        got.to_bits() == expected.to_bits() || (got.is_nan() && expected.is_nan()),
                        "row {row}"
                    )
                }
                other => panic!("row {row}: {other:?}"),
            }
        }
    }
}

/// `min`/`max` of a column and a constant compile to one comparison and one selection; they
/// give the interpreter's bits (IEEE 754-2019 `minimum`/`maximum`) for zeros of both signs
/// against constants of both signs, in either operand order, for NaNs, infinities, the
/// constant itself and values about it, f64 and f32, in the vector loop, in the row loop (an
/// inline `ema`'s operand, a lag's first rows, nulls), on one and on 3 threads.
#[test]
fn min_and_max_of_a_constant_equal_the_interpreter() {
    let specials =
        [0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 3.0, -2.5, 2.9999, 1e-310, -1e-310];
    let x: Vec<f64> = (0..1100usize)
        .map(|row| match row % 3 {
            0 => specials[(row / 3) % specials.len()],
            _ => ((row * 37) % 101) as f64 / 10.0 - 5.0,
        })
        .collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let validity: Vec<u8> = (0..1100usize.div_ceil(8)).map(|_| 0b1101_1011).collect();
    let constants = ["0", "-0.0", "3", "-2.5", "1/0", "-1/0"];
    let mut programs = Vec::new();
    for c in constants {
        for op in ["max", "min"] {
            programs.push(format!("{op}(x, {c})"));
            programs.push(format!("{op}({c}, x)"));
            programs.push(format!("{op}(x32, f32({c}))"));
            programs.push(format!("{op}(f32({c}), x32)"));
            programs.push(format!("ema({op}(x, {c}), 0.5)"));
            programs.push(format!("{op}(lag(x, 1), {c}) + 1"));
            programs.push(format!("{op}({c}, xn)"));
        }
    }
    let (single, threaded) = verified_engines();
    for rows in [1, 7, 17, 513, 1100] {
        let mut bindings = Bindings::new();
        bindings.column("x", &x[..rows]).column("x32", &x32[..rows]).column_with_validity(
            "xn",
            &x[..rows],
            fusejit::Validity::new(&validity, 0),
        );
        for source in &programs {
            let kernel = single.compile(source).unwrap();
            assert_native_equals_interpreter((&kernel, &threaded), source, &bindings, rows);
        }
    }
    // And the zeros' signs directly: `max(-0, +0) = +0`, `min(+0, -0) = -0`.
    let zeros = [-0.0, 0.0];
    let mut bindings = Bindings::new();
    bindings.column("x", &zeros[..]);
    for (source, expected) in [
        ("max(x, 0)", [0.0, 0.0]),
        ("max(x, -0.0)", [-0.0, 0.0]),
        ("min(x, 0)", [-0.0, 0.0]),
        ("min(x, -0.0)", [-0.0, -0.0]),
    ] {
        let result = single.compile(source).unwrap().eval(&bindings).unwrap();
        for (row, want) in expected.into_iter().enumerate() {
            match result.get(row) {
                Some(fusejit::Scalar::F64(got)) => {
                    assert_eq!(got.to_bits(), f64::to_bits(want), "{source}: row {row}")
                }
                other => panic!("{source}: row {row}: {other:?}"),
            }
        }
    }
}

/// An engine that verifies its generated code, and one that also splits from 64 rows a
/// thread on 3 threads.
fn verified_engines() -> (Engine, Engine) {
    let single = Engine::with_config(EngineConfig::default().with_verify_generated_code(true)).unwrap();
    let threaded = Engine::with_config(
        EngineConfig::default()
            .with_verify_generated_code(true)
            .with_threads(Some(3))
            .with_min_rows_per_thread(64),
    )
    .unwrap();
    (single, threaded)
}

/// `kernel`'s native result, and that of `source` compiled by `threaded`, equal the
/// interpreter's bit for bit (a panic naming the row count otherwise).
fn assert_native_equals_interpreter(
    (kernel, threaded): (&fusejit::Kernel, &Engine),
    source: &str,
    bindings: &Bindings<'_>,
    rows: usize,
) {
    let reference = kernel.interpret(bindings).unwrap();
    let native = kernel.eval(bindings).unwrap();
    compare(source, &native, &reference).unwrap_or_else(|message| panic!("{rows} rows: {message}"));
    let split = threaded.compile(source).unwrap().eval(bindings).unwrap();
    compare(source, &split, &reference).unwrap_or_else(|message| panic!("3 threads, {rows} rows: {message}"));
}

/// A bitmap of `rows` rows from bit `offset`, valid where `valid(row)`.
fn bitmap_where(rows: usize, offset: usize, valid: impl Fn(usize) -> bool) -> Vec<u8> {
    let mut bits = vec![0u8; (rows + offset).div_ceil(8)];
    for row in (0..rows).filter(|&row| valid(row)) {
        bits[(row + offset) / 8] |= 1 << ((row + offset) % 8);
    }
    bits
}

/// Each program over `bindings`: its plan holds `in_plan` (the form under test), and native
/// code on one thread and on three gives the interpreter's column; with `nulls`, the result
/// has both nulls and values.
fn assert_programs_equal_the_interpreter(
    bindings: &Bindings<'_>,
    programs: &[&str],
    in_plan: &[&str],
    nulls: bool,
) {
    let engine = engine();
    let (parallel, _) = parallel_engine(1);
    for &source in programs {
        let kernel = engine.compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
        let plan = kernel.plan_text(bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        assert!(in_plan.iter().any(|text| plan.contains(text)), "{source}: none of {in_plan:?} in\n{plan}");
        let reference = kernel.interpret(bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        let native = kernel.eval(bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        compare(source, &native, &reference).unwrap_or_else(|message| panic!("{message}"));
        if nulls {
            assert!(
                native.null_count > 0 && native.null_count < native.len(),
                "{source}: nulls and values both"
            );
        }
        let split = parallel.compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
        let split = split.eval(bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        compare(source, &split, &native).unwrap_or_else(|message| panic!("three threads: {message}"));
    }
}

/// A `where` with an arm that can be null, Kleene `and`/`or` with an operand that can be
/// null and `fill` with a fallback that can be null, which the vector loop runs by selecting
/// their validity from their operands' (`fuse_loops::SelectedValidity`): every lane type, a
/// `null` arm, a null scalar arm, a condition that can be null, a lag of the `where`, two of
/// them in one loop, logic nested in logic and in a `where`'s condition, a bool result, a
/// fill by a lag of itself and by a null scalar, over whole blocks and a tail,
/// with bitmaps at offsets that are not byte-aligned — native code equal to the interpreter
/// row by row, on one thread and on three. Each program's plan must show the selection, so
/// that the vector form is what is tested.
#[test]
fn selected_validity_equals_the_interpreter_in_the_vector_loop() {
    let rows = 1037;
    let signed = |i: usize| ((i * 7919) % 201) as f64 - 100.0;
    let y: Vec<f64> = (0..rows).map(|i| signed(i) / 50.0).collect();
    let x: Vec<f64> = (0..rows).map(|i| signed(i + 13) / 7.0).collect();
    let z: Vec<f64> = (0..rows).map(|i| signed(i + 29) * 1.5).collect();
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let k: Vec<i64> = (0..rows).map(|i| signed(i) as i64).collect();
    let n: Vec<i64> = (0..rows).map(|i| signed(i + 5) as i64 * 1000).collect();
    let k32: Vec<i32> = k.iter().map(|&v| v as i32).collect();
    let m32: Vec<i32> = n.iter().map(|&v| v as i32).collect();
    let x_bits = bitmap_where(rows, 3, |row| row % 3 != 0);
    let z_bits = bitmap_where(rows, 5, |row| row % 5 != 1 && !(400..470).contains(&row));
    let every_seventh = bitmap_where(rows, 1, |row| row % 7 != 2);
    let mut bindings = Bindings::new();
    bindings
        .column("y", &y[..])
        .column_with_validity("x", &x[..], fusejit::Validity::new(&x_bits, 3))
        .column_with_validity("z", &z[..], fusejit::Validity::new(&z_bits, 5))
        .column("y32", &y32[..])
        .column_with_validity("x32", &x32[..], fusejit::Validity::new(&every_seventh, 1))
        .column("k", &k[..])
        .column_with_validity("n", &n[..], fusejit::Validity::new(&every_seventh, 1))
        .column("k32", &k32[..])
        .column_with_validity("m32", &m32[..], fusejit::Validity::new(&x_bits, 3))
        .null_scalar("e", fusejit::Elem::F64);
    let programs = [
        "where(y > 0, x, 0.0)",
        "where(y > 1, null, y) * 2",
        "where(x > y, x, z) + 1",
        "where(y > 0, e, x)",
        "w = where(y > 0, x, z); w - lag(w, 2)",
        "where(y > 0, x, z) + where(y < 0.5, z, x)",
        "where(y32 > 0, x32, y32)",
        "where(k > 0, n, k)",
        "where(k32 > 0, m32, k32 * 2)",
        "x > 0 && z < 1",
        "x > 0 || !(z > 1)",
        "where(x > 0 && y > 0, x, 0.0)",
        "where((x > 0 && y > 0) || z < -1, y, 0.0)",
        "where(y > 0 && y < 1, x, z)",
        "is_null(x) || z > 0",
        "x32 > 0 && y32 < 0.5",
        "n > 0 || k < 0",
        "m32 < 0 && !(k32 > 50)",
        "where(y > 0, where(y > 1, x, z), y)",
        "where(x > 1 || z > 1, where(y < 0, e, z), x) + 1",
        "fill(x, z)",
        "fill(x, lag(x, 1)) * 2",
        "fill(z, e) + y",
        "where(fill(x, z) > 0, y, z)",
        "fill(x32, lag(x32, 3))",
        "fill(n, lag(n, 7))",
        "fill(m32, lag(m32, 1)) + k32",
    ];
    assert_programs_equal_the_interpreter(&bindings, &programs, &["selected in the loop"], true);
}

/// Floats and integers of one width in one vector loop, bridged by masks: a float
/// comparison choosing integers (`where(x > y, 1, 0)`), an integer one choosing floats, logic
/// on masks of both types, with nulls on either side, i64 with f64 and i32 with f32 — the
/// interpreter's bits row by row, on one thread and three, and the plan in its vector form.
#[test]
fn floats_and_integers_of_one_width_share_a_vector_loop() {
    let rows = 1029;
    let wave = |i: usize, shift: usize| (((i + shift) * 7919) % 201) as f64 - 100.0;
    let x: Vec<f64> = (0..rows).map(|i| wave(i, 3) / 9.0).collect();
    let y: Vec<f64> = (0..rows).map(|i| wave(i, 11) / 13.0).collect();
    let n: Vec<i64> = (0..rows).map(|i| wave(i, 5) as i64 * 3).collect();
    let k: Vec<i64> = (0..rows).map(|i| wave(i, 17) as i64).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let m32: Vec<i32> = n.iter().map(|&v| v as i32).collect();
    let k32: Vec<i32> = k.iter().map(|&v| v as i32).collect();
    let thirds = bitmap_where(rows, 2, |row| row % 3 != 1);
    let sevenths = bitmap_where(rows, 6, |row| row % 7 != 4 && !(300..340).contains(&row));
    let mut bindings = Bindings::new();
    bindings
        .column_with_validity("x", &x[..], fusejit::Validity::new(&thirds, 2))
        .column("y", &y[..])
        .column_with_validity("n", &n[..], fusejit::Validity::new(&sevenths, 6))
        .column("k", &k[..])
        .column_with_validity("x32", &x32[..], fusejit::Validity::new(&sevenths, 6))
        .column("y32", &y32[..])
        .column_with_validity("m32", &m32[..], fusejit::Validity::new(&thirds, 2))
        .column("k32", &k32[..]);
    let programs = [
        "where(x > y, 1, 0)",
        "where(y > 0, n, k) * 2",
        "where(n > 0, x, y)",
        "where(x > y && n > 0, 1.5, -1.5)",
        "x > y || n < 0",
        "where(x > 0, n * 2 + k, -n)",
        "where(y32 > 0, m32, k32)",
        "where(k32 > 3 || x32 < 0, x32, y32) * 2",
        "fill(where(y > 0, k, -k), 7) + k",
    ];
    assert_programs_equal_the_interpreter(&bindings, &programs, &["x2 from row", "x4 from row"], false);
}

/// An integer converts to the float of its width lane by lane in the vector loop (i64 to f64,
/// i32 to f32): values past the float's exact range round to nearest, ties to even, as the
/// interpreter's conversion does; the extremes, zero and negatives; nulls on the integer side
/// and on the float side — the interpreter's bits, and the plan in its vector form.
#[test]
fn integers_convert_to_floats_of_their_width_in_the_vector_loop() {
    let rows = 1030;
    let two_53 = 1i64 << 53;
    let wide = [i64::MIN, i64::MAX, two_53 + 1, two_53 + 3, -(two_53 + 1), 0, -7, 1 << 62, (1 << 62) + 513];
    let two_24 = 1i32 << 24;
    let narrow = [i32::MIN, i32::MAX, two_24 + 1, two_24 + 3, -(two_24 + 1), 0, -7, 1 << 30, (1 << 30) + 65];
    let big: Vec<i64> = (0..rows).map(|i| wide[i % wide.len()] / if i % 4 == 0 { 1 } else { 3 }).collect();
    let big32: Vec<i32> =
        (0..rows).map(|i| narrow[i % narrow.len()] / if i % 4 == 0 { 1 } else { 3 }).collect();
    let x: Vec<f64> = (0..rows).map(|i| (i as f64 - 500.0) / 7.0).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let fifths = bitmap_where(rows, 3, |row| row % 5 != 2);
    let mut bindings = Bindings::new();
    bindings
        .column_with_validity("big", &big[..], fusejit::Validity::new(&fifths, 3))
        .column("big32", &big32[..])
        .column_with_validity("x", &x[..], fusejit::Validity::new(&fifths, 3))
        .column("x32", &x32[..]);
    let programs = [
        "f64(big)",
        "x * big",
        "big + 0.5",
        "where(big > 0, f64(big), x) * 2",
        "where(x > 0, big, -big) * 1.5",
        "f32(big32)",
        "f32(big32) * x32",
        "where(big32 < 0, f32(big32), x32) + 1",
    ];
    assert_programs_equal_the_interpreter(&bindings, &programs, &["x2 from row", "x4 from row"], false);
}

/// An f32 or i32 column widened in a loop of 64-bit lanes (`x32 + y`, `n32 * x`, `n32 + k`),
/// read two rows a lane group: every f32 (NaN, infinities, subnormals, −0) and every i32
/// (the extremes) exactly, lagged, null where it is, and a narrow value an earlier stage
/// computed — the interpreter's bits, and the plan in its vector form.
#[test]
fn half_width_columns_widen_in_a_loop_of_64_bit_lanes() {
    let rows = 1031;
    let specials32 =
        [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 1e-45, -3.5, f32::MAX, 16777217.0, 0.1];
    let x32: Vec<f32> =
        (0..rows).map(|i| specials32[i % specials32.len()] * if i % 5 == 0 { 1.0 } else { 0.75 }).collect();
    let extremes = [i32::MIN, i32::MAX, 0, -1, 16777217, -16777219, 1 << 30];
    let n32: Vec<i32> =
        (0..rows).map(|i| extremes[i % extremes.len()] / if i % 3 == 0 { 1 } else { 7 }).collect();
    let y: Vec<f64> = (0..rows).map(|i| (i as f64 - 400.0) / 3.0).collect();
    let k: Vec<i64> = (0..rows).map(|i| (i as i64 - 600) * 1_000_000_007).collect();
    let ninths = bitmap_where(rows, 5, |row| row % 9 != 4);
    let mut bindings = Bindings::new();
    bindings
        .column_with_validity("x32", &x32[..], fusejit::Validity::new(&ninths, 5))
        .column("n32", &n32[..])
        .column("y", &y[..])
        .column("k", &k[..]);
    let programs = [
        "x32 + y",
        "f64(x32) * 2",
        "n32 * y",
        "f64(n32)",
        "n32 + k",
        "i64(n32) * 3 - k",
        "lag(x32, 3) - y",
        "where(y > 0, n32, k) + 1",
        "where(f64(x32) > 0, y, f64(n32))",
        "f64(ln(x32)) + y",
    ];
    assert_programs_equal_the_interpreter(&bindings, &programs, &["f64x2 from row", "i64x2 from row"], false);
}

/// Float tests (`is_nan`, `is_finite`, `is_inf`) as lane masks — results, `where`
/// conditions, operands of logic — over NaN, ±∞, ±0, subnormals and the largest finite
/// values of f64 and f32; and integer `abs`, `sign`, `min`, `max` in i64 and i32 lanes over
/// the extremes (`abs` of MIN wraps to MIN); nulls on either side — the interpreter's bits,
/// and the plan in its vector form.
#[test]
fn float_tests_and_integer_abs_sign_min_max_in_the_vector_loop() {
    let rows = 1027;
    let specials =
        [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 5e-324, f64::MAX, -f64::MAX, 2.5, -1e-300];
    let x: Vec<f64> = (0..rows).map(|i| specials[(i * 7) % specials.len()]).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let extremes = [i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1, -(1 << 40), 1 << 40];
    let n: Vec<i64> = (0..rows).map(|i| extremes[(i * 5) % extremes.len()]).collect();
    let k: Vec<i64> = (0..rows).map(|i| extremes[(i * 3 + 1) % extremes.len()]).collect();
    let extremes32 = [i32::MIN, i32::MAX, 0, -1, 1, i32::MIN + 1, -(1 << 20), 1 << 20];
    let m32: Vec<i32> = (0..rows).map(|i| extremes32[(i * 5) % extremes32.len()]).collect();
    let sixths = bitmap_where(rows, 1, |row| row % 6 != 3);
    let mut bindings = Bindings::new();
    bindings
        .column_with_validity("x", &x[..], fusejit::Validity::new(&sixths, 1))
        .column("x32", &x32[..])
        .column("n", &n[..])
        .column_with_validity("k", &k[..], fusejit::Validity::new(&sixths, 1))
        .column("m32", &m32[..]);
    let programs = [
        "is_nan(x)",
        "is_finite(x32)",
        "!is_inf(x)",
        "where(is_nan(x), 0.0, x) * 2",
        "where(is_finite(x32) && x32 > 0, x32, -1)",
        "is_inf(x) || is_nan(x)",
        "abs(n)",
        "abs(k) - sign(n)",
        "sign(k) * 3",
        "min(n, k)",
        "max(n, 0) + min(k, -5)",
        "abs(m32) + sign(m32)",
        "max(m32, -7) - min(m32, 7)",
        "where(n > 0, abs(k), max(n, k))",
    ];
    assert_programs_equal_the_interpreter(&bindings, &programs, &["x2 from row", "x4 from row"], false);
}

/// A bool column read as lane masks in the vector loop: a `where`'s condition, logic's
/// operand (Kleene, over a nullable bool column), negated, lagged, in f64, f32, i64 and i32
/// lanes, and in a loop of bools alone; of a byte a row and bit-packed (unpacked into bytes
/// before the loop, at a bit offset) — the interpreter's bits, and the plan in its vector
/// form.
#[test]
fn bool_columns_are_lane_masks_in_the_vector_loop() {
    let rows = 1033;
    let c: Vec<bool> = (0..rows).map(|i| (i * 7919) % 13 < 6).collect();
    let d: Vec<bool> = (0..rows).map(|i| (i * 104_729) % 5 < 2).collect();
    let x: Vec<f64> = (0..rows).map(|i| (i as f64 - 500.0) / 7.0).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let n: Vec<i64> = (0..rows).map(|i| i as i64 * 3 - 1000).collect();
    let m32: Vec<i32> = n.iter().map(|&v| v as i32).collect();
    let elevenths = bitmap_where(rows, 4, |row| row % 11 != 7);
    let programs = [
        "where(c, x, -x)",
        "where(c && x > 0, x, 0.0)",
        "where(!c || d, x * 2, 1.0)",
        "where(lag(c, 3), x, lag(x, 1))",
        "c || x > 10",
        "where(c, x32, 1) * 2",
        "where(d, n, -n) + 1",
        "where(c && m32 > 0, m32, 7)",
    ];
    let mut bindings = Bindings::new();
    bindings
        .column("c", &c[..])
        .column_with_validity("d", &d[..], fusejit::Validity::new(&elevenths, 4))
        .column("x", &x[..])
        .column("x32", &x32[..])
        .column("n", &n[..])
        .column("m32", &m32[..]);
    assert_programs_equal_the_interpreter(&bindings, &programs, &["x2 from row", "x4 from row"], false);
    // Bools alone: lane masks in i32x4 lanes, four rows an operation.
    let bool_programs = ["!c", "c && d", "c || !d", "!(c && lag(d, 3))", "c && !lag(c, 1)"];
    assert_programs_equal_the_interpreter(&bindings, &bool_programs, &["i32x4 from row"], false);
    // And those of them the vector loop does not take (a `where` or `fill` of bools, bool
    // comparisons, `is_null`): the row loop's bits as before.
    let row_programs =
        ["where(c, d, !d)", "fill(d, c)", "where(d, null, c)", "c == d", "c != lag(c, 1)", "is_null(d) || c"];
    assert_programs_equal_the_interpreter(&bindings, &row_programs, &["row"], false);
    let packed_bytes = |values: &[bool], offset: usize| {
        let mut bytes = vec![0u8; (values.len() + offset).div_ceil(8)];
        for (row, &value) in values.iter().enumerate() {
            bytes[(row + offset) / 8] |= u8::from(value) << ((row + offset) % 8);
        }
        bytes
    };
    let (c_bytes, d_bytes) = (packed_bytes(&c, 5), packed_bytes(&d, 0));
    let mut packed = Bindings::new();
    packed
        .column("c", fusejit::PackedBools::new(&c_bytes, 5, rows).expect("covers every row"))
        .column_with_validity(
            "d",
            fusejit::PackedBools::new(&d_bytes, 0, rows).expect("covers every row"),
            fusejit::Validity::new(&elevenths, 4),
        )
        .column("x", &x[..])
        .column("x32", &x32[..])
        .column("n", &n[..])
        .column("m32", &m32[..]);
    assert_programs_equal_the_interpreter(&packed, &programs, &["x2 from row", "x4 from row"], false);
    assert_programs_equal_the_interpreter(&packed, &bool_programs, &["i32x4 from row"], false);
    assert_programs_equal_the_interpreter(&packed, &row_programs, &["row"], false);
}

/// A lane mask kept in a buffer as bytes, a byte a row, by the vector loop: lagged in the
/// same loop (a crossover `f && !lag(f, 1)`), an extra output, read by a later stage, over
/// nullable operands and in f32 lanes — the interpreter's bits for every output, and the
/// plan in its vector form.
#[test]
fn buffered_lane_masks_are_bytes_in_the_vector_loop() {
    let rows = 1035;
    let x: Vec<f64> = (0..rows).map(|i| 100.0 + ((i * 7919) % 97) as f64 / 9.0).collect();
    let y: Vec<f64> = (0..rows).map(|i| 100.0 + ((i * 104_729) % 89) as f64 / 8.0).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    let tenths = bitmap_where(rows, 2, |row| row % 10 != 6);
    let mut bindings = Bindings::new();
    bindings
        .column("x", &x[..])
        .column_with_validity("y", &y[..], fusejit::Validity::new(&tenths, 2))
        .column("x32", &x32[..])
        .column("y32", &y32[..]);
    let programs = [
        "f = x > 105; f && !lag(f, 1)",
        "f = x > y; where(lag(f, 3), x, y)",
        "s = is_nan(y / (x - 100)); out flag = s; where(s, 0.0, y)",
        "a = x > 104 && y < 105; out both = a; where(a, 1, 0) + where(lag(a, 2), 10, 0)",
        "g = mavg(x, 3) > x; where(g || lag(g, 1), x, -x)",
        "f = x > y; out f2 = !f; where(f, x, y)",
        "h = x32 > y32; out up = h; where(lag(h, 5), x32, y32)",
    ];
    let engine = engine();
    let (parallel, _) = parallel_engine(1);
    for source in programs {
        let kernel = engine.compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
        let plan = kernel.plan_text(&bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        assert!(
            plan.contains("x2 from row") || plan.contains("x4 from row"),
            "{source}: no vector form in\n{plan}"
        );
        let reference =
            kernel.interpret_outputs(&bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        let split = parallel.compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
        for native in [kernel.eval_outputs(&bindings), split.eval_outputs(&bindings)] {
            let native = native.unwrap_or_else(|error| panic!("{source}: {error}"));
            assert_eq!(native.len(), reference.len(), "{source}: one column per output");
            for ((name, native), (_, reference)) in native.iter().zip(&reference) {
                compare(&format!("{source} [{name}]"), native, reference)
                    .unwrap_or_else(|message| panic!("{message}"));
            }
        }
    }
}

/// `sign` in the vector loop (three compares and blends): zeros of both signs to +0, NaN to
/// itself, infinities and subnormals to ±1, for f64 and f32 lanes, over whole iterations and a
/// tail — the interpreter's bits row by row, and the plan in its vector form.
#[test]
fn sign_in_the_vector_loop_equals_the_interpreter() {
    let specials = [f64::NAN, -0.0, 0.0, 5e-324, -5e-324, f64::INFINITY, f64::NEG_INFINITY, 2.5, -7.0, 1e300];
    let x: Vec<f64> =
        (0..1003).map(|i| specials[i % specials.len()] * if i % 3 == 0 { 1.0 } else { 0.5 }).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]).column("x32", &x32[..]);
    let engine = engine();
    for source in ["sign(x)", "sign(x * 2) + 1", "sign(x32)", "sign(x32 - 1)"] {
        let kernel = engine.compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
        let plan = kernel.plan_text(&bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        assert!(
            plan.contains("x2 from row") || plan.contains("x4 from row"),
            "{source}: no vector form in\n{plan}"
        );
        let reference = kernel.interpret(&bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        let native = kernel.eval(&bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        compare(source, &native, &reference).unwrap_or_else(|message| panic!("{message}"));
    }
}

/// Integer `//` and `%` by a constant divide by a multiplication (Cranelift's magic numbers,
/// the divisor an `iconst` at its use) and are null only where an operand is; they give the
/// interpreter's values (floored, `MIN // -1` wrapping, `// 0` null) for every kind of
/// divisor — powers of two, odd, negative, ±1, 0, the extremes — over i64 and i32 columns
/// holding the extremes, values about multiples of the divisor and nulls, in the row loop
/// and after a lag, on one and on 3 threads.
#[test]
fn integer_division_by_a_constant_equals_the_interpreter() {
    let specials =
        [i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1, 0, 1, -1, 2, -2, 59, 60, 61, -59, -60, -61];
    let n: Vec<i64> = (0..1100i64)
        .map(|row| match row % 4 {
            0 => specials[(row as usize / 4) % specials.len()],
            1 => row * 7919 - 4_000_000,
            2 => (row - 550) * 60 + (row % 3) - 1,
            _ => -(row * row * 1_000_003),
        })
        .collect();
    let n32: Vec<i32> = n.iter().map(|&v| v as i32).collect();
    let validity: Vec<u8> = (0..1100usize.div_ceil(8)).map(|_| 0b1011_1101).collect();
    let divisors = [
        "1",
        "-1",
        "0",
        "2",
        "8",
        "-8",
        "7",
        "-7",
        "60",
        "86400",
        "-86400",
        "1000000007",
        "9223372036854775807",
        "(-9223372036854775807 - 1)",
    ];
    let divisors32 = ["1", "-1", "0", "2", "-16", "7", "-7", "60", "2147483647", "(-2147483647 - 1)"];
    let mut programs = Vec::new();
    for d in divisors {
        programs.push(format!("n // {d}"));
        programs.push(format!("n % {d}"));
        programs.push(format!("nn // {d} + nn % {d}"));
        programs.push(format!("lag(n, 3) % {d}"));
    }
    for d in divisors32 {
        programs.push(format!("n32 // i32({d})"));
        programs.push(format!("n32 % i32({d})"));
    }
    // A divisor the program computes from constants is folded to one.
    programs.push("n // (3 * 20) - n % (100 - 40)".to_string());
    let (single, threaded) = verified_engines();
    for rows in [1, 7, 17, 513, 1100] {
        let mut bindings = Bindings::new();
        bindings.column("n", &n[..rows]).column("n32", &n32[..rows]).column_with_validity(
            "nn",
            &n[..rows],
            fusejit::Validity::new(&validity, 0),
        );
        for source in &programs {
            let kernel = single.compile(source).unwrap();
            assert_native_equals_interpreter((&kernel, &threaded), source, &bindings, rows);
        }
    }
    // And the values themselves: floored towards −∞, the remainder taking the divisor's sign.
    let values = [-7i64, -1, 0, 6, 7, 59, -60, -61, i64::MIN];
    let mut bindings = Bindings::new();
    bindings.column("n", &values[..]);
    for (source, expected) in [
        ("n // 60", [-1, -1, 0, 0, 0, 0, -1, -2, -153_722_867_280_912_931]),
        ("n % 60", [53, 59, 0, 6, 7, 59, 0, 59, 52]),
        ("n // -7", [1, 0, 0, -1, -1, -9, 8, 8, 1_317_624_576_693_539_401]),
        ("n % -7", [0, -1, 0, -1, 0, -4, -4, -5, -1]),
        ("n // -1", [7, 1, 0, -6, -7, -59, 60, 61, i64::MIN]),
    ] {
        let result = single.compile(source).unwrap().eval(&bindings).unwrap();
        assert_eq!(result.null_count, 0, "{source}");
        for (row, want) in expected.into_iter().enumerate() {
            assert_eq!(result.get(row), Some(fusejit::Scalar::I64(want)), "{source}: row {row}");
        }
    }
    let by_zero = single.compile("n // 0 + n % 0").unwrap().eval(&bindings).unwrap();
    assert_eq!(by_zero.null_count, values.len());
}
