//! The random program and data generator the differential tests share (native vs
//! interpreter, `tests/differential.rs`; aarch64 vs x86-64, `tests/aarch64.rs`), and the
//! row-by-row comparison both use. Programs come from a proptest `Strategy` over an AST
//! (`Num`, `Bool`), so a failure shrinks to a minimal program; data from a seeded generator.

use fusejit::{Bindings, Column as ResultColumn, Elem, Scalar, Validity};
use proptest::prelude::*;

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

/// A numeric expression of the language, as the generator builds it: proptest shrinks a
/// failing program node by node to a minimal one.
#[derive(Debug, Clone)]
pub enum Num {
    /// A column (`x`, `y`, `z`, `x32`, the integer columns `n` and `m32`), a scalar (`a`,
    /// `b32`, the integer `k`), a literal (integer or float) or `null`.
    Leaf(&'static str),
    Neg(Box<Num>),
    /// `ln`, `exp`, `sqrt`, `abs`, `floor`, `ceil`, `round`, `trunc`, `sign`, a cast
    /// `f32`/`f64`/`i64`/`i32`, or one of the other math functions (`log2` … `cbrt`).
    Unary(&'static str, Box<Num>),
    /// `(base)^n` with a literal integer exponent.
    Power(Box<Num>, &'static str),
    /// `+ - * / // %`.
    Binary(&'static str, Box<Num>, Box<Num>),
    /// Elementwise `min`/`max`, or the two-argument math functions `atan2`/`hypot`.
    MinMax(&'static str, Box<Num>, Box<Num>),
    /// `clip(x, lo, hi)`.
    Clip(Box<Num>, Box<Num>, Box<Num>),
    /// `lag`, `diff`, `dlog`, `ret` of a column by a literal count.
    Lagged(&'static str, Column, &'static str),
    Where(Box<Bool>, Box<Num>, Box<Num>),
    Fill(Box<Num>, Box<Num>),
    /// `exp(n / 100)`: `exp` of values small enough not to overflow.
    SmallExp(Box<Num>),
    /// `sum mean var std min max count cumsum cumprod cummax cummin` of a column.
    Reduce(&'static str, Column),
    /// `var(x, 1)` or `std(x, 1)`.
    SampleMoment(&'static str, Column),
    /// `msum mavg mstd mmin mmax` of a column over a literal window.
    Window(&'static str, Column, &'static str),
    /// `ema(x, alpha)`.
    Ema(Column, &'static str),
}

/// An operand that is sure to be a column: the functions that work down the rows reject a
/// scalar, and a generator that makes many such programs tests little.
#[derive(Debug, Clone)]
pub struct Column(Box<Num>, &'static str);

/// A boolean expression.
#[derive(Debug, Clone)]
pub enum Bool {
    /// `c`, `flag`, `true`, `false` or `null`.
    Leaf(&'static str),
    Compare(&'static str, Box<Num>, Box<Num>),
    Logic(&'static str, Box<Bool>, Box<Bool>),
    Not(Box<Bool>),
    /// `is_null`, `is_valid`, `is_nan`, `is_finite` or `is_inf`.
    Test(&'static str, Box<Num>),
    Where(Box<Bool>, Box<Bool>, Box<Bool>),
    Fill(Box<Bool>, Box<Bool>),
    /// `any(b && c)`, `all(b && c)`.
    AnyAll(&'static str, Box<Bool>),
    /// `lag(b || c, k)`.
    Lag(Box<Bool>, &'static str),
}

fn mentions_a_column(num: &Num) -> bool {
    match num {
        Num::Leaf(name) => COLUMNS.contains(name),
        Num::Neg(a) | Num::Unary(_, a) | Num::Power(a, _) | Num::SmallExp(a) => mentions_a_column(a),
        Num::Binary(_, a, b) | Num::MinMax(_, a, b) | Num::Fill(a, b) => {
            mentions_a_column(a) || mentions_a_column(b)
        }
        Num::Clip(a, lo, hi) => mentions_a_column(a) || mentions_a_column(lo) || mentions_a_column(hi),
        Num::Where(_, a, b) => mentions_a_column(a) || mentions_a_column(b),
        Num::Lagged(..) | Num::Window(..) | Num::Ema(..) => true,
        Num::Reduce(op, _) => op.starts_with("cum"),
        Num::SampleMoment(..) => false,
    }
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if mentions_a_column(&self.0) {
            write!(f, "{}", self.0)
        } else {
            write!(f, "({} + {})", self.0, self.1)
        }
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Num::Leaf(leaf) => write!(f, "{leaf}"),
            Num::Neg(a) => write!(f, "-{a}"),
            Num::Unary(name, a) => write!(f, "{name}({a})"),
            Num::Power(a, n) => write!(f, "({a})^{n}"),
            Num::Binary(op, a, b) => write!(f, "({a} {op} {b})"),
            Num::MinMax(name, a, b) => write!(f, "{name}({a}, {b})"),
            Num::Clip(a, lo, hi) => write!(f, "clip({a}, {lo}, {hi})"),
            Num::Lagged(name, a, k) => write!(f, "{name}({a}, {k})"),
            Num::Where(c, a, b) => write!(f, "where({c}, {a}, {b})"),
            Num::Fill(a, b) => write!(f, "fill({a}, {b})"),
            Num::SmallExp(a) => write!(f, "exp({a} / 100)"),
            Num::Reduce(name, a) => write!(f, "{name}({a})"),
            Num::SampleMoment(name, a) => write!(f, "{name}({a}, 1)"),
            Num::Window(name, a, w) => write!(f, "{name}({a}, {w})"),
            Num::Ema(a, alpha) => write!(f, "ema({a}, {alpha})"),
        }
    }
}

impl std::fmt::Display for Bool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bool::Leaf(leaf) => write!(f, "{leaf}"),
            Bool::Compare(op, a, b) => write!(f, "({a} {op} {b})"),
            Bool::Logic(op, a, b) => write!(f, "({a} {op} {b})"),
            Bool::Not(a) => write!(f, "!{a}"),
            Bool::Test(name, a) => write!(f, "{name}({a})"),
            Bool::Where(c, a, b) => write!(f, "where({c}, {a}, {b})"),
            Bool::Fill(a, b) => write!(f, "fill({a}, {b})"),
            Bool::AnyAll(name, a) => write!(f, "{name}({a} && c)"),
            Bool::Lag(a, k) => write!(f, "lag({a} || c, {k})"),
        }
    }
}

fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> + Clone {
    proptest::sample::select(items)
}

const NUM_LEAVES: &[&str] = &[
    "x",
    "y",
    "z",
    "x32",
    "a",
    "b32",
    "2.5",
    "0",
    "-0.0",
    "3",
    "1e308",
    "0.1",
    "null",
    "x",
    "y",
    "x32",
    "n",
    "m32",
    "k",
    "n",
    "m32",
    "-1",
    "2147483647",
];
const COLUMNS: &[&str] = &["x", "y", "z", "x32", "n", "m32"];

fn column_of(num: impl Strategy<Value = Num>) -> impl Strategy<Value = Column> {
    (num, one_of(COLUMNS)).prop_map(|(num, column)| Column(Box::new(num), column))
}

/// Booleans over numeric operands drawn from `num`, nested up to `depth`.
fn boolean_over(num: BoxedStrategy<Num>, depth: u32) -> BoxedStrategy<Bool> {
    let leaf = one_of(&["c", "flag", "true", "false", "null", "c"]).prop_map(Bool::Leaf);
    let compare = (one_of(&["<", "<=", ">", ">=", "==", "!="]), num.clone(), num.clone())
        .prop_map(|(op, a, b)| Bool::Compare(op, Box::new(a), Box::new(b)));
    let test = (one_of(&["is_null", "is_valid", "is_nan", "is_finite", "is_inf"]), num)
        .prop_map(|(name, a)| Bool::Test(name, Box::new(a)));
    prop_oneof![2 => leaf, 3 => compare, 1 => test]
        .prop_recursive(depth, 16, 3, |inner| {
            prop_oneof![
                (one_of(&["&&", "||", "==", "!="]), inner.clone(), inner.clone())
                    .prop_map(|(op, a, b)| Bool::Logic(op, Box::new(a), Box::new(b))),
                inner.clone().prop_map(|a| Bool::Not(Box::new(a))),
                (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| Bool::Where(
                    Box::new(c),
                    Box::new(a),
                    Box::new(b)
                )),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Bool::Fill(Box::new(a), Box::new(b))),
                (one_of(&["any", "all"]), inner.clone())
                    .prop_map(|(name, a)| Bool::AnyAll(name, Box::new(a))),
                (inner, one_of(LAGS)).prop_map(|(a, k)| Bool::Lag(Box::new(a), k)),
            ]
        })
        .boxed()
}

/// Numeric expressions over the whole language, nested up to `depth`.
pub fn numeric_strategy(depth: u32) -> BoxedStrategy<Num> {
    numeric_nodes(depth, true)
}

/// Numeric expressions without reductions, windows, cumulative ops or `ema`: what an object
/// for another target compiles today (`tests/aarch64.rs`).
pub fn elementwise_strategy(depth: u32) -> BoxedStrategy<Num> {
    numeric_nodes(depth, false)
}

fn numeric_nodes(depth: u32, stateful: bool) -> BoxedStrategy<Num> {
    let leaf = one_of(NUM_LEAVES).prop_map(Num::Leaf);
    leaf.prop_recursive(depth, 24, 3, move |inner| {
        let b = || boxed_num(inner.clone());
        let flat = inner.clone().boxed();
        let elementwise = prop_oneof![
            1 => b().prop_map(Num::Neg),
            1 => (one_of(&["ln", "log", "exp", "sqrt", "abs", "floor", "ceil", "round", "trunc", "sign", "f32", "f64", "i64", "i32"]), b())
                .prop_map(|(name, a)| Num::Unary(name, a)),
            1 => (one_of(&["log2", "log10", "log1p", "expm1", "sinh", "cosh", "tanh", "atan", "asin", "acos", "cbrt", "sin", "cos", "tan"]), b())
                .prop_map(|(name, a)| Num::Unary(name, a)),
            1 => (b(), one_of(&["0", "1", "2", "3", "5", "-1", "-2", "7"])).prop_map(|(a, n)| Num::Power(a, n)),
            3 => (one_of(&["+", "-", "*", "/", "//", "%"]), b(), b()).prop_map(|(op, a, c)| Num::Binary(op, a, c)),
            1 => (one_of(&["min", "max", "atan2", "hypot", "pow"]), b(), b()).prop_map(|(name, a, c)| Num::MinMax(name, a, c)),
            1 => (b(), b(), b()).prop_map(|(a, lo, hi)| Num::Clip(a, lo, hi)),
            2 => (one_of(&["lag", "diff", "dlog", "ret"]), column_of(flat.clone()), one_of(LAGS))
                .prop_map(|(name, a, k)| Num::Lagged(name, a, k)),
            1 => (boolean_over(flat.clone(), 1), b(), b()).prop_map(|(c, a, d)| Num::Where(Box::new(c), a, d)),
            1 => (b(), b()).prop_map(|(a, c)| Num::Fill(a, c)),
            1 => b().prop_map(Num::SmallExp),
        ];
        if !stateful {
            return elementwise.boxed();
        }
        prop_oneof![
            10 => elementwise,
            1 => (
                one_of(&["sum", "mean", "var", "std", "min", "max", "count", "cumsum", "cumprod", "cummax", "cummin"]),
                column_of(flat.clone())
            )
                .prop_map(|(name, a)| Num::Reduce(name, a)),
            1 => (one_of(&["var", "std"]), column_of(flat.clone())).prop_map(|(name, a)| Num::SampleMoment(name, a)),
            1 => (one_of(&["msum", "mavg", "mstd", "mmin", "mmax"]), column_of(flat.clone()), one_of(&["1", "2", "3", "20", "64", "513"]))
                .prop_map(|(name, a, w)| Num::Window(name, a, w)),
            1 => (column_of(flat), one_of(&["0.3", "1", "0.05"])).prop_map(|(a, alpha)| Num::Ema(a, alpha)),
        ]
        .boxed()
    })
    .boxed()
}

fn boxed_num(inner: BoxedStrategy<Num>) -> impl Strategy<Value = Box<Num>> {
    inner.prop_map(Box::new)
}

/// A whole program: mostly numeric, sometimes boolean, sometimes with bindings and statements
/// (`t = …; u = t * 2; … + lag(u, 3)`) that exercise shared subexpressions.
pub fn program_strategy() -> BoxedStrategy<String> {
    let numeric = numeric_strategy(4);
    let boolean = boolean_over(numeric_strategy(2), 3);
    prop_oneof![
        6 => numeric.clone().prop_map(|n| n.to_string()),
        2 => boolean.clone().prop_map(|b| b.to_string()),
        1 => (numeric_strategy(2), numeric).prop_map(|(bound, body)| format!("t = {bound}\nu = t * 2; {body} + lag(u, 3)")),
        1 => (numeric_strategy(2), boolean).prop_map(|(bound, body)| format!("t = {bound}\nu = t * 2; {body} && u > t")),
    ]
    .boxed()
}

/// An elementwise program (numeric or boolean), for targets that compile no scan or reduction.
pub fn elementwise_program_strategy() -> BoxedStrategy<String> {
    prop_oneof![
        4 => elementwise_strategy(4).prop_map(|n| n.to_string()),
        1 => boolean_over(elementwise_strategy(2), 3).prop_map(|b| b.to_string()),
    ]
    .boxed()
}

/// A program with several outputs sharing a binding `r` and reductions, and sometimes a final
/// expression.
pub fn multi_output_strategy() -> BoxedStrategy<String> {
    let output = (numeric_strategy(2), proptest::bool::ANY, one_of(&["lag", "msum"]));
    (numeric_strategy(2), proptest::collection::vec(output, 1..=3), proptest::bool::ANY)
        .prop_map(|(bound, outputs, last)| {
            // `r` reads `z`, so it is a column whatever the generator makes.
            let mut source = format!("r = {bound} + z\n");
            for (index, (body, plus, function)) in outputs.iter().enumerate() {
                let body = if *plus { format!("{body} + r") } else { format!("{function}(r, 3) * {body}") };
                source.push_str(&format!("out o{index} = {body}\n"));
            }
            if last {
                source.push_str("r - mean(r) + o0");
            }
            source
        })
        .boxed()
}

/// The program proptest's generator makes from `seed`, the same on every run: for the tests
/// that go through a fixed list of seeds (the traced tier, the aarch64 corpus).
pub fn program_for_seed(strategy: &BoxedStrategy<String>, seed: u64) -> String {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    strategy.new_tree(&mut runner).expect("the strategies never reject").current()
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

/// An integer value of the kinds that break integer code: 0 and -1 (division), the extremes
/// (overflow), and ordinary values.
pub fn integer(rng: &mut Rng) -> i64 {
    match rng.below(16) {
        0 => 0,
        1 => -1,
        2 => i64::MIN,
        3 => i64::MAX,
        4 => i64::from(i32::MIN),
        5 => i64::from(i32::MAX),
        6 => rng.next() as i64,
        7 => -(rng.below(1000) as i64),
        _ => rng.below(100_000) as i64,
    }
}

pub struct Data {
    pub rows: usize,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub z: Vec<f64>,
    pub x32: Vec<f32>,
    pub n: Vec<i64>,
    pub m32: Vec<i32>,
    pub c: Vec<bool>,
    /// `c` packed one bit per row from bit `rows % 8` (an Arrow `BooleanArray` slice's form).
    pub c_packed: (Vec<u8>, usize),
    pub bitmaps: Vec<(Vec<u8>, usize)>,
}

/// `values` packed LSB-first from bit `offset`.
pub fn pack_bools(values: &[bool], offset: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; (offset + values.len()).div_ceil(8)];
    for (row, &value) in values.iter().enumerate() {
        if value {
            let bit = offset + row;
            bytes[bit / 8] |= 1 << (bit % 8);
        }
    }
    bytes
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
    let n = (0..rows).map(|_| integer(rng)).collect();
    // Wrapping to i32 keeps the extremes extreme.
    let m32 = (0..rows).map(|_| integer(rng) as i32).collect();
    let c: Vec<bool> = (0..rows).map(|_| rng.chance(50)).collect();
    let bitmaps = (0..6).map(|_| bitmap(rng, rows)).collect();
    let c_packed = (pack_bools(&c, rows % 8), rows % 8);
    Data { rows, x, y, z, x32, n, m32, c, c_packed, bitmaps }
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
        (Some(Scalar::I64(a)), Some(Scalar::I64(b))) => a == b,
        (Some(Scalar::I32(a)), Some(Scalar::I32(b))) => a == b,
        (Some(Scalar::Bool(a)), Some(Scalar::Bool(b))) => a == b,
        _ => false,
    }
}

pub fn compare(source: &str, native: &ResultColumn, reference: &ResultColumn) -> Result<(), String> {
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
/// all-valid and the nullable code paths run), `z` without, `x32` and `c` with, `n` either way,
/// `m32` with, four scalars (`a` and `k` now and then null).
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
    if rng.chance(50) {
        bindings.column("n", &data.n[..]);
    } else {
        bindings.column_with_validity("n", &data.n[..], validity(4));
    }
    bindings
        .column("z", &data.z[..])
        .column_with_validity("x32", &data.x32[..], validity(2))
        .column_with_validity("m32", &data.m32[..], validity(5))
        .scalar("b32", 0.5f32)
        .scalar("flag", true);
    // `a` and `k` are null now and then: their readers are null, their loops read a flag.
    if rng.chance(15) {
        bindings.null_scalar("a", Elem::F64);
    } else {
        bindings.scalar("a", 252.0);
    }
    if rng.chance(15) {
        bindings.null_scalar("k", Elem::I64);
    } else {
        bindings.scalar("k", 7i64);
    }
    // The bool column as bytes or bit-packed: the kernel reads either.
    if rng.chance(50) {
        bindings.column_with_validity("c", &data.c[..], validity(3));
    } else {
        let packed = fusejit::PackedBools::new(&data.c_packed.0, data.c_packed.1, data.rows)
            .expect("the packed bytes cover every row");
        bindings.column_with_validity("c", packed, validity(3));
    }
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
    // Lags of cheap arithmetic read the inputs at an offset (`push_lags_to_inputs`), across
    // blocks and ranges; a long lag of a dear value keeps its halo.
    "lag(lag(ln(x), 300), 300) + diff(x - y, 700)",
    "d = diff(x - y, 1); where(lag(x > y, 2), d, -d) + lag(w * a, 3)",
    "exp(lag(x, 3) / 1000) + ln(lag(y, 600))",
    "r = ln(x) * 2; s = r + y; where(s > 0, s, r) - lag(r, 3)",
    "exp(a / 100) * ln(a) + x",
    "where(w > 100, w - 100, 0) * a + lag(w, 2)",
    "where(x > y, x - y, 0) * a + lag(x, 3)",
    "ln(w) + exp(w / 1000)",
    "exp(x - 100) + exp(-x) + ln(x - 99)",
    // A division as the result: a block call into the runtime's division loop.
    "(x - y) / a",
    "x / y",
    "w / b",
    // Square roots and divisions as block calls: results, and values only a math block reads.
    "sqrt(x)",
    "sqrt(w)",
    "exp(sqrt(y))",
    "ln(x / y)",
    // Centred divisions: a column less a scalar, by a scalar, in one call.
    "(x - a) / b",
    "(w - 100) / 4",
    // Trig with ordinary, huge (Payne–Hanek) and mixed vectors: x·1.0995e10 straddles 2⁴⁰.
    "sin(x) + cos(x * 1e200) * tan(x * 1.0995e10) + sin(w * 1e30)",
    // Loops that only copy the result out, a lane group at a time: a block call's result, an
    // input, a lag, an f32 block call.
    "ln(x)",
    "x",
    "lag(y, 3)",
    "exp(w / 100)",
    // Bool results of comparisons, written from lane masks a whole iteration at a time: 8 rows
    // of f64 lanes, 16 of f32, a lagged operand.
    "x > y",
    "w <= 100",
    "lag(x, 2) * a >= y * a",
    // A float conversion as the result, converted as stored: f64 lanes to f32, f32 to f64.
    "f32(x - y)",
    "f32(ln(x) * a)",
    "f64(w * 2)",
    "f64(lag(w, 3))",
    // Float tests as lane masks: a `where`'s condition, logic's operand, a bool result.
    "where(is_nan(x / y), 0.0, x) + where(is_finite(w) && w > 100, 1.0, 2.0)",
    "is_inf(exp(x)) || is_nan(y)",
    // An f32 column widened as a loop of f64 lanes reads it, two rows a lane group.
    "w + x",
    "lag(w, 3) * y - x",
    // Validity as lane masks: `fill` and `is_null`/`is_valid` in the vector loop, their
    // operand's validity from an input bitmap (lagged too), from a computed buffer, or none.
    "fill(x, a)",
    "is_null(x)",
    "is_valid(lag(x, 3))",
    "where(is_null(x), y, a) + fill(x * 2, y)",
    "fill(lag(ln(x), 2), a) - x",
    "fill(w * 2, w) + f32(a)",
    // A `fill` of bools is a value, not a lane mask: the scalar form.
    "where(fill(x > y, is_null(x)), 1.0, y)",
    // A `where` of bools that a later stage reads (from its buffer) is a value too: it once
    // went into the vector loop and was stored as 16-byte lanes into a byte-per-row buffer.
    "w = where(y > 100, y > 101, y < 99); ln(y) + where(w, 1.0, 2.0)",
    "w = where(x > y, is_null(x), is_valid(y)); exp(y / 100) + where(w, 1.0, 2.0)",
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
