//! The random program and data generator the differential tests share (native vs
//! interpreter, `tests/differential.rs`; aarch64 vs x86-64, `tests/aarch64.rs`), and the
//! row-by-row comparison both use.

use fusejit::{Bindings, Column, Scalar, Validity};

/// A small deterministic generator (xorshift64*), seeded by proptest.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

pub const LAGS: &[&str] = &["0", "1", "2", "5", "63", "64", "65", "511", "512", "513", "600", "5000"];

pub fn numeric(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.chance(20) {
        return rng
            .pick(&[
                "x", "y", "z", "x32", "a", "b32", "2.5", "0", "-0", "3", "1e308", "0.1", "null", "x", "y",
                "x32",
            ])
            .to_string();
    }
    let d = depth - 1;
    match rng.below(17) {
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
            format!("{}({}, {})", rng.pick(&["lag", "diff", "dlog", "ret"]), column(rng, d), rng.pick(LAGS))
        }
        10 => format!("where({}, {}, {})", boolean(rng, d), numeric(rng, d), numeric(rng, d)),
        11 => format!("fill({}, {})", numeric(rng, d), numeric(rng, d)),
        12 => format!("exp({} / 100)", numeric(rng, d)),
        13 => format!(
            "{}({})",
            rng.pick(&[
                "sum", "mean", "var", "std", "min", "max", "count", "cumsum", "cumprod", "cummax", "cummin"
            ]),
            column(rng, d)
        ),
        14 => format!("{}({}, 1)", rng.pick(&["var", "std"]), column(rng, d)),
        15 => format!(
            "{}({}, {})",
            rng.pick(&["msum", "mavg", "mstd", "mmin", "mmax"]),
            column(rng, d),
            rng.pick(&["1", "2", "3", "20", "64", "513"])
        ),
        _ => format!("ema({}, {})", column(rng, d), rng.pick(&["0.3", "1", "0.05"])),
    }
}

/// A numeric operand that is sure to be a column, for the functions that work down the rows
/// (lags, windows, cumulative ops, reductions): a scalar operand is a type error, and a
/// generator that makes many of them tests little.
fn column(rng: &mut Rng, depth: usize) -> String {
    let operand = numeric(rng, depth);
    if ["x", "y", "z", "x32"].contains(&operand.as_str())
        || operand.contains('x')
        || operand.contains('y')
        || operand.contains('z')
    {
        operand
    } else {
        format!("({operand} + {})", rng.pick(&["x", "y", "z", "x32"]))
    }
}

pub fn boolean(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.chance(20) {
        return rng.pick(&["c", "flag", "true", "false", "null", "c"]).to_string();
    }
    let d = depth - 1;
    match rng.below(10) {
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
        8 => format!("{}({} && c)", rng.pick(&["any", "all"]), boolean(rng, d)),
        _ => format!("lag({} || c, {})", boolean(rng, d), rng.pick(LAGS)),
    }
}

pub fn program(rng: &mut Rng) -> String {
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

pub const LENGTHS: &[usize] = &[0, 1, 2, 7, 8, 63, 64, 65, 511, 512, 513, 1023, 1024, 1025, 1536, 4999];

pub fn value(rng: &mut Rng) -> f64 {
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

pub struct Data {
    pub rows: usize,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub z: Vec<f64>,
    pub x32: Vec<f32>,
    pub c: Vec<bool>,
    pub bitmaps: Vec<(Vec<u8>, usize)>,
}

pub fn bitmap(rng: &mut Rng, rows: usize) -> (Vec<u8>, usize) {
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

pub fn data(rng: &mut Rng) -> Data {
    let rows = if rng.chance(70) { LENGTHS[rng.below(LENGTHS.len())] } else { rng.below(5000) };
    let x = (0..rows).map(|_| value(rng)).collect();
    let y = (0..rows).map(|_| value(rng)).collect();
    let z = (0..rows).map(|_| value(rng)).collect();
    let x32 = (0..rows).map(|_| value(rng) as f32).collect();
    let c = (0..rows).map(|_| rng.chance(50)).collect();
    let bitmaps = (0..4).map(|_| bitmap(rng, rows)).collect();
    Data { rows, x, y, z, x32, c, bitmaps }
}

pub fn same(a: Option<Scalar>, b: Option<Scalar>) -> bool {
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

pub fn compare(source: &str, native: &Column, reference: &Column) -> Result<(), String> {
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

/// Binds a case's data: `x` and `y` with a bitmap or without (half the time each, so both the
/// all-valid and the nullable code paths run), `z` without, `x32` and `c` with, three scalars.
pub fn bind<'d>(data: &'d Data, rng: &mut Rng) -> Bindings<'d> {
    let mut bindings = Bindings::new();
    let validity = |index: usize| Validity::new(&data.bitmaps[index].0, data.bitmaps[index].1);
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
    bindings
}

/// The SPEC §6 workloads and the fusion snapshots' programs, over `BoundaryData`'s columns:
/// elementwise programs that every backend (the JIT, aarch64 objects) compiles.
pub const BOUNDARY_PROGRAMS: &[&str] = &[
    "ln(x)*a+b",
    "dlog(x,1)*a+b",
    "dlog(x,5)*a+b",
    "(x-y)*a+b",
    "w * a",
    "where(x>y, x-y, 0)*a",
    "dlog(dlog(x,1),5)",
    "r = dlog(x, 1); where(abs(r) > 0.1, null, r) * 252",
    "lag(lag(x, 300), 300) + diff(y, 1000)",
    "exp(lag(x, 3) / 1000) + ln(lag(y, 600))",
    "r = ln(x) * 2; s = r + y; where(s > 0, s, r) - lag(r, 3)",
    "exp(a / 100) * ln(a) + x",
    "where(w > 100, w - 100, 0) * a + lag(w, 2)",
    "where(x > y, x - y, 0) * a + lag(x, 3)",
    "ln(w) + exp(w / 1000)",
    "exp(x - 100) + exp(-x) + ln(x - 99)",
];

/// Smooth price-like columns for the workload tests at block boundaries: `x` and `y` near 100,
/// `w` = `x` as f32, and a bitmap with a null every 40 rows (bit 6 of every fifth byte).
pub struct BoundaryData {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub w: Vec<f32>,
    pub bits: Vec<u8>,
}

impl BoundaryData {
    pub fn new(rows: usize) -> BoundaryData {
        let x: Vec<f64> = (0..rows).map(|i| 100.0 + (i as f64 * 0.37).sin() * 5.0).collect();
        let y = (0..rows).map(|i| 100.0 + (i as f64 * 0.11).cos() * 5.0).collect();
        let w = x.iter().map(|&v| v as f32).collect();
        let bits = (0..rows.div_ceil(8) + 1).map(|i| if i % 5 == 0 { 0b1011_1111 } else { 0xff }).collect();
        BoundaryData { x, y, w, bits }
    }

    /// `x` (with the bitmap at bit offset 3 when `with_nulls`), `y`, `w`, and scalars `a`, `b`.
    pub fn bind(&self, with_nulls: bool) -> Bindings<'_> {
        let mut bindings = Bindings::new();
        if with_nulls {
            bindings.column_with_validity("x", &self.x[..], Validity::new(&self.bits, 3));
        } else {
            bindings.column("x", &self.x[..]);
        }
        bindings.column("y", &self.y[..]).column("w", &self.w[..]).scalar("a", 252.0).scalar("b", 0.5);
        bindings
    }
}
