//! Differential tests: random programs over the whole language, on random data with random
//! null densities, bit offsets and lengths — native code must equal the reference interpreter
//! on every row: the same validity, and on valid rows the same bits (any NaN equals any NaN,
//! since NaN payloads are not part of the language's semantics).

use fusejit::{Bindings, Column, Engine, EngineConfig, Scalar, Validity};
use proptest::prelude::*;

/// A small deterministic generator (xorshift64*), seeded by proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const LAGS: &[&str] = &["0", "1", "2", "5", "63", "64", "65", "511", "512", "513", "600", "5000"];

fn numeric(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.chance(20) {
        return rng
            .pick(&[
                "x", "y", "z", "x32", "a", "b32", "2.5", "0", "-0", "3", "1e308", "0.1", "null", "x", "y",
                "x32",
            ])
            .to_string();
    }
    let d = depth - 1;
    match rng.below(13) {
        0 => format!("-{}", numeric(rng, d)),
        1 => format!(
            "{}({})",
            rng.pick(&["ln", "log", "exp", "sqrt", "abs", "floor", "ceil", "round"]),
            numeric(rng, d)
        ),
        2 => format!("{}({})", rng.pick(&["f32", "f64"]), numeric(rng, d)),
        3 => format!("({})^{}", numeric(rng, d), rng.pick(&["0", "1", "2", "3", "5", "-1", "-2", "7"])),
        4..=6 => format!("({} {} {})", numeric(rng, d), rng.pick(&["+", "-", "*", "/"]), numeric(rng, d)),
        7 => format!("{}({}, {})", rng.pick(&["min", "max"]), numeric(rng, d), numeric(rng, d)),
        8 | 9 => {
            format!("{}({}, {})", rng.pick(&["lag", "diff", "dlog", "ret"]), numeric(rng, d), rng.pick(LAGS))
        }
        10 => format!("where({}, {}, {})", boolean(rng, d), numeric(rng, d), numeric(rng, d)),
        11 => format!("fill({}, {})", numeric(rng, d), numeric(rng, d)),
        _ => format!("exp({} / 100)", numeric(rng, d)),
    }
}

fn boolean(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.chance(20) {
        return rng.pick(&["c", "flag", "true", "false", "null", "c"]).to_string();
    }
    let d = depth - 1;
    match rng.below(9) {
        0..=2 => format!(
            "({} {} {})",
            numeric(rng, d),
            rng.pick(&["<", "<=", ">", ">=", "==", "!="]),
            numeric(rng, d)
        ),
        3 => format!("({} {} {})", boolean(rng, d), rng.pick(&["&&", "||", "==", "!="]), boolean(rng, d)),
        4 => format!("!{}", boolean(rng, d)),
        5 => format!("{}({})", rng.pick(&["is_null", "is_valid"]), numeric(rng, d)),
        6 => format!("where({}, {}, {})", boolean(rng, d), boolean(rng, d), boolean(rng, d)),
        7 => format!("fill({}, {})", boolean(rng, d), boolean(rng, d)),
        _ => format!("lag({}, {})", boolean(rng, d), rng.pick(LAGS)),
    }
}

fn program(rng: &mut Rng) -> String {
    let depth = 1 + rng.below(4);
    let is_numeric = rng.chance(80);
    let body = if is_numeric { numeric(rng, depth) } else { boolean(rng, depth) };
    if rng.chance(25) {
        // Exercise bindings, statements and shared subexpressions.
        let bound = numeric(rng, depth.min(2));
        let last = if is_numeric { format!("{body} + lag(u, 3)") } else { format!("{body} && u > t") };
        format!("t = {bound}\nu = t * 2; {last}")
    } else {
        body
    }
}

const LENGTHS: &[usize] = &[0, 1, 2, 7, 8, 63, 64, 65, 511, 512, 513, 1023, 1024, 1025, 1536, 4999];

fn value(rng: &mut Rng) -> f64 {
    match rng.below(20) {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => -0.0,
        3 => 0.0,
        4 => -(rng.below(1000) as f64) / 7.0,
        5 => f64::MIN_POSITIVE / 4.0,
        6 => 1e300,
        _ => 50.0 + (rng.below(1_000_000) as f64) / 997.0,
    }
}

struct Data {
    rows: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    x32: Vec<f32>,
    c: Vec<bool>,
    bitmaps: Vec<(Vec<u8>, usize)>,
}

fn bitmap(rng: &mut Rng, rows: usize) -> (Vec<u8>, usize) {
    let offset = rng.below(8);
    let density = [0, 10, 90, 100][rng.below(4)];
    let mut bytes = vec![0u8; (offset + rows).div_ceil(8) + rng.below(2)];
    for row in 0..rows {
        if !rng.chance(density) {
            let bit = offset + row;
            bytes[bit / 8] |= 1 << (bit % 8);
        }
    }
    (bytes, offset)
}

fn data(rng: &mut Rng) -> Data {
    let rows = if rng.chance(70) { LENGTHS[rng.below(LENGTHS.len())] } else { rng.below(5000) };
    let x = (0..rows).map(|_| value(rng)).collect();
    let y = (0..rows).map(|_| value(rng)).collect();
    let z = (0..rows).map(|_| value(rng)).collect();
    let x32 = (0..rows).map(|_| value(rng) as f32).collect();
    let c = (0..rows).map(|_| rng.chance(50)).collect();
    let bitmaps = (0..4).map(|_| bitmap(rng, rows)).collect();
    Data { rows, x, y, z, x32, c, bitmaps }
}

fn same(a: Option<Scalar>, b: Option<Scalar>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Scalar::F64(a)), Some(Scalar::F64(b))) => {
            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
        }
        (Some(Scalar::F32(a)), Some(Scalar::F32(b))) => {
            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
        }
        (Some(Scalar::Bool(a)), Some(Scalar::Bool(b))) => a == b,
        _ => false,
    }
}

fn compare(source: &str, native: &Column, reference: &Column) -> Result<(), String> {
    if native.len() != reference.len() || native.elem() != reference.elem() {
        return Err(format!(
            "shape differs: {} {} vs {} {}",
            native.len(),
            native.elem(),
            reference.len(),
            reference.elem()
        ));
    }
    if native.null_count != reference.null_count {
        return Err(format!("null count {} vs {}", native.null_count, reference.null_count));
    }
    for row in 0..native.len() {
        if !same(native.get(row), reference.get(row)) {
            return Err(format!(
                "{source}: row {row}: native {:?} vs interpreter {:?}",
                native.get(row),
                reference.get(row)
            ));
        }
    }
    Ok(())
}

fn run_case(engine: &Engine, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed | 1);
    let source = program(&mut rng);
    let data = data(&mut rng);
    let mut bindings = Bindings::new();
    let validity = |index: usize| Validity::new(&data.bitmaps[index].0, data.bitmaps[index].1);
    // Columns without bitmaps half the time: those take the all-valid and f64x2 paths.
    for (index, (name, values)) in [("x", &data.x), ("y", &data.y)].into_iter().enumerate() {
        if rng.chance(50) {
            bindings.column(name, &values[..]);
        } else {
            bindings.column_with_validity(name, &values[..], validity(index));
        }
    }
    bindings
        .column("z", &data.z[..])
        .column_with_validity("x32", &data.x32[..], validity(2))
        .column_with_validity("c", &data.c[..], validity(3))
        .scalar("a", 252.0)
        .scalar("b32", 0.5f32)
        .scalar("flag", true);
    let kernel = engine.compile(&source).map_err(|error| format!("{source}: {error}"))?;
    let reference = match kernel.interpret(&bindings) {
        Ok(column) => column,
        // Programs that do not type-check are fine to generate; both paths must agree on that.
        Err(error) => {
            return match kernel.eval(&bindings) {
                Err(native_error) if native_error == error => Ok(()),
                other => Err(format!("{source}: interpreter failed with {error}, native gave {other:?}")),
            };
        }
    };
    let native = kernel.eval(&bindings).map_err(|error| format!("{source}: native failed: {error}"))?;
    compare(&source, &native, &reference)
        .map_err(|message| format!("{message} (rows {}, seed {seed})", data.rows))
}

fn engine() -> Engine {
    Engine::with_config(EngineConfig {
        cache_capacity: 64,
        verify_generated_code: true,
        ..EngineConfig::default()
    })
    .expect("a valid engine configuration")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn native_code_equals_the_interpreter(seed in any::<u64>()) {
        let engine = engine();
        if let Err(message) = run_case(&engine, seed) {
            prop_assert!(false, "{}", message);
        }
    }
}

/// The workloads of SPEC §6 and the programs of the fusion snapshots (`tests/data/fusion`), at
/// every boundary length, with and without nulls.
#[test]
fn workloads_equal_the_interpreter_at_block_boundaries() {
    let engine = engine();
    let programs = [
        "ln(x)*a+b",
        "dlog(x,1)*a+b",
        "dlog(x,5)*a+b",
        "(x-y)*a+b",
        "where(x>y, x-y, 0)*a",
        "dlog(dlog(x,1),5)",
        "r = dlog(x, 1); where(abs(r) > 0.1, null, r) * 252",
        "lag(lag(x, 300), 300) + diff(y, 1000)",
        "exp(lag(x, 3) / 1000) + ln(lag(y, 600))",
        "r = ln(x) * 2; s = r + y; where(s > 0, s, r) - lag(r, 3)",
        "exp(a / 100) * ln(a) + x",
        "w * a",
        "where(w > 100, w - 100, 0) * a + lag(w, 2)",
        "where(x > y, x - y, 0) * a + lag(x, 3)",
    ];
    for rows in [0usize, 1, 63, 64, 65, 511, 512, 513, 1024, 1025, 3000] {
        let x: Vec<f64> = (0..rows).map(|i| 100.0 + (i as f64 * 0.37).sin() * 5.0).collect();
        let y: Vec<f64> = (0..rows).map(|i| 100.0 + (i as f64 * 0.11).cos() * 5.0).collect();
        let w: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let bits: Vec<u8> =
            (0..rows.div_ceil(8) + 1).map(|i| if i % 5 == 0 { 0b1011_1111 } else { 0xff }).collect();
        for with_nulls in [false, true] {
            let mut bindings = Bindings::new();
            if with_nulls {
                bindings.column_with_validity("x", &x[..], Validity::new(&bits, 3));
            } else {
                bindings.column("x", &x[..]);
            }
            bindings.column("y", &y[..]).column("w", &w[..]).scalar("a", 252.0).scalar("b", 0.5);
            for source in programs {
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

/// A lag of a computed value far longer than a block: the halo holds 300 000 rows of ln(x)
/// and is shifted every block.
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
