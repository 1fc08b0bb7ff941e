//! Fuzz target: structured programs over the whole language (an AST built with `arbitrary`,
//! rendered to text) on fuzzed data — lengths around block and word boundaries, nulls at any
//! bit offset, hostile values — evaluated natively and by the interpreter, bit for bit.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use arbitrary::Arbitrary;
use fusejit::{Binding, Bindings, ColumnData, ColumnRef, Validity};
use libfuzzer_sys::fuzz_target;

/// Deeper programs add nothing the generator cannot reach by composing shallow ones, and
/// rendering stays far from the parser's nesting limit.
const MAX_DEPTH: usize = 6;

#[derive(Arbitrary, Debug)]
enum NumLeaf {
    X,
    Y,
    X32,
    /// The i64 column `n` and the i32 column `m32`, the i64 scalar `k`.
    N,
    M32,
    K,
    A,
    B32,
    Literal(i16),
    Tenth(i8),
    Special(u8),
    Null,
}

#[derive(Arbitrary, Debug)]
enum Num {
    Leaf(NumLeaf),
    Neg(Box<Num>),
    Unary(u8, Box<Num>),
    /// `f32`, `f64`, `i64`, `i32`.
    Cast(u8, Box<Num>),
    Power(Box<Num>, i8),
    Binary(u8, Box<Num>, Box<Num>),
    /// `min`, `max`, or the two-argument math functions `atan2`, `hypot`, `pow`.
    MinMax(u8, Box<Num>, Box<Num>),
    Clip(Box<Num>, Box<Num>, Box<Num>),
    Lagged(u8, Box<Num>, u16),
    Where(Box<Bool>, Box<Num>, Box<Num>),
    Fill(Box<Num>, Box<Num>),
    Reduce(u8, Box<Num>),
    Moment(bool, Box<Num>, u8),
    Window(u8, Box<Num>, u16),
    Cumulative(u8, Box<Num>),
    Ema(Box<Num>, u8),
}

#[derive(Arbitrary, Debug)]
enum Bool {
    C,
    Flag,
    Literal(Option<bool>),
    Compare(u8, Box<Num>, Box<Num>),
    Logic(u8, Box<Bool>, Box<Bool>),
    Not(Box<Bool>),
    /// `is_null`, `is_valid`, `is_nan`, `is_finite`, `is_inf`.
    Test(u8, Box<Num>),
    Where(Box<Bool>, Box<Bool>, Box<Bool>),
    Fill(Box<Bool>, Box<Bool>),
    AnyAll(bool, Box<Bool>),
    Lagged(Box<Bool>, u16),
}

#[derive(Arbitrary, Debug)]
enum Body {
    Numeric(Num),
    Boolean(Bool),
    /// `t = a; u = t * 2; b + lag(u, 3)`: bindings, statements and shared subexpressions.
    Statements(Num, Num),
    /// `out o0 = ...; out o1 = ...` with an optional final expression.
    Outputs(Vec<Num>, Option<Num>),
}

#[derive(Arbitrary, Debug)]
struct Case {
    body: Body,
    rows: u16,
    seed: u64,
    /// Per column `x`, `y`, `x32`, `c`, `n`, `m32`: none, or a null density and a bit offset.
    validity: [Option<(u8, u8)>; 6],
}

fn pick<'a>(options: &[&'a str], index: impl Into<u64>) -> &'a str {
    options[(index.into() % options.len() as u64) as usize]
}

fn lag_count(k: u16) -> String {
    // Mostly near block and word boundaries, where the halo logic changes.
    pick(&["0", "1", "2", "5", "63", "64", "65", "511", "512", "513", "600", "5000"], k % 12).to_string()
        + if k >= 12 * 256 { "0" } else { "" }
}

fn num(expr: &Num, depth: usize) -> String {
    if depth >= MAX_DEPTH {
        return "x".into();
    }
    let d = depth + 1;
    match expr {
        Num::Leaf(leaf) => match leaf {
            NumLeaf::X => "x".into(),
            NumLeaf::Y => "y".into(),
            NumLeaf::X32 => "x32".into(),
            NumLeaf::N => "n".into(),
            NumLeaf::M32 => "m32".into(),
            NumLeaf::K => "k".into(),
            NumLeaf::A => "a".into(),
            NumLeaf::B32 => "b32".into(),
            NumLeaf::Literal(v) => format!("({v})"),
            NumLeaf::Tenth(v) => format!("({}.{})", v / 10, (v % 10).abs()),
            NumLeaf::Special(s) => pick(&["1e308", "-0", "0.1", "1e-310", "2.5", "3"], *s).into(),
            NumLeaf::Null => "null".into(),
        },
        Num::Neg(a) => format!("-{}", num(a, d)),
        Num::Unary(f, a) => {
            format!(
                "{}({})",
                pick(
                    &[
                        "ln", "log", "exp", "sqrt", "abs", "floor", "ceil", "round", "trunc", "sign", "log2",
                        "log10", "log1p", "expm1", "sinh", "cosh", "tanh", "atan", "asin", "acos", "cbrt",
                        "sin", "cos", "tan",
                    ],
                    *f
                ),
                num(a, d)
            )
        }
        Num::Cast(to, a) => format!("{}({})", pick(&["f32", "f64", "i64", "i32"], *to), num(a, d)),
        Num::Power(a, n) => format!("({})^{}", num(a, d), n % 9),
        Num::Binary(op, a, b) => {
            format!("({} {} {})", num(a, d), pick(&["+", "-", "*", "/", "//", "%"], *op), num(b, d))
        }
        Num::MinMax(function, a, b) => {
            format!(
                "{}({}, {})",
                pick(&["min", "max", "atan2", "hypot", "pow"], *function),
                num(a, d),
                num(b, d)
            )
        }
        Num::Clip(a, lo, hi) => format!("clip({}, {}, {})", num(a, d), num(lo, d), num(hi, d)),
        Num::Lagged(f, a, k) => {
            format!("{}({}, {})", pick(&["lag", "diff", "dlog", "ret"], *f), num(a, d), lag_count(*k))
        }
        Num::Where(c, a, b) => format!("where({}, {}, {})", boolean(c, d), num(a, d), num(b, d)),
        Num::Fill(a, b) => format!("fill({}, {})", num(a, d), num(b, d)),
        Num::Reduce(f, a) => {
            format!("{}({})", pick(&["sum", "mean", "var", "std", "min", "max", "count"], *f), num(a, d))
        }
        Num::Moment(is_var, a, ddof) => {
            format!("{}({}, {})", if *is_var { "var" } else { "std" }, num(a, d), ddof % 2)
        }
        Num::Window(f, a, w) => format!(
            "{}({}, {})",
            pick(&["msum", "mavg", "mstd", "mmin", "mmax"], *f),
            num(a, d),
            pick(&["1", "2", "3", "20", "64", "513", "4294967295"], *w)
        ),
        Num::Cumulative(f, a) => {
            format!("{}({})", pick(&["cumsum", "cumprod", "cummax", "cummin"], *f), num(a, d))
        }
        Num::Ema(a, alpha) => format!("ema({}, {})", num(a, d), pick(&["0.3", "1", "0.05", "0.5"], *alpha)),
    }
}

fn boolean(expr: &Bool, depth: usize) -> String {
    if depth >= MAX_DEPTH {
        return "c".into();
    }
    let d = depth + 1;
    match expr {
        Bool::C => "c".into(),
        Bool::Flag => "flag".into(),
        Bool::Literal(v) => v.map_or("null".into(), |v| v.to_string()),
        Bool::Compare(op, a, b) => {
            format!("({} {} {})", num(a, d), pick(&["<", "<=", ">", ">=", "==", "!="], *op), num(b, d))
        }
        Bool::Logic(op, a, b) => {
            format!("({} {} {})", boolean(a, d), pick(&["&&", "||", "==", "!="], *op), boolean(b, d))
        }
        Bool::Not(a) => format!("!{}", boolean(a, d)),
        Bool::Test(test, a) => {
            format!(
                "{}({})",
                pick(&["is_null", "is_valid", "is_nan", "is_finite", "is_inf"], *test),
                num(a, d)
            )
        }
        Bool::Where(c, a, b) => format!("where({}, {}, {})", boolean(c, d), boolean(a, d), boolean(b, d)),
        Bool::Fill(a, b) => format!("fill({}, {})", boolean(a, d), boolean(b, d)),
        Bool::AnyAll(is_any, a) => format!("{}({})", if *is_any { "any" } else { "all" }, boolean(a, d)),
        Bool::Lagged(a, k) => format!("lag({}, {})", boolean(a, d), lag_count(*k)),
    }
}

fn render(body: &Body) -> String {
    match body {
        Body::Numeric(n) => num(n, 0),
        Body::Boolean(b) => boolean(b, 0),
        Body::Statements(bound, last) => {
            format!("t = {}\nu = t * 2; {} + lag(u, 3)", num(bound, 2), num(last, 1))
        }
        Body::Outputs(outputs, last) => {
            let mut source = String::from("r = x + y\n");
            for (index, output) in outputs.iter().take(4).enumerate() {
                source.push_str(&format!("out o{index} = {} + r\n", num(output, 1)));
            }
            if let Some(last) = last {
                source.push_str(&num(last, 1));
            } else if outputs.is_empty() {
                source.push('r');
            }
            source
        }
    }
}

fuzz_target!(|case: Case| {
    let source = render(&case.body);
    // Around every block (512) and validity word (64) boundary, and a little past two blocks.
    let rows = usize::from(case.rows % 1100);
    let mut rng = common::Rng(case.seed | 1);
    let x: Vec<f64> = (0..rows).map(|_| rng.value()).collect();
    let y: Vec<f64> = (0..rows).map(|_| rng.value()).collect();
    let x32: Vec<f32> = (0..rows).map(|_| rng.value() as f32).collect();
    let c: Vec<bool> = (0..rows).map(|_| rng.next().is_multiple_of(2)).collect();
    let n: Vec<i64> = (0..rows).map(|_| rng.integer()).collect();
    let m32: Vec<i32> = (0..rows).map(|_| rng.integer() as i32).collect();
    let bitmaps: Vec<Option<(Vec<u8>, usize)>> = case
        .validity
        .iter()
        .map(|spec| {
            spec.map(|(density, offset)| {
                let offset = usize::from(offset % 8);
                (rng.bitmap(rows, offset, u64::from(density) % 101), offset)
            })
        })
        .collect();
    let validity =
        |index: usize| bitmaps[index].as_ref().map(|(bytes, offset)| Validity::new(bytes, *offset));
    let mut bindings = Bindings::new();
    let columns: [(&str, ColumnData<'_>); 6] = [
        ("x", (&x[..]).into()),
        ("y", (&y[..]).into()),
        ("x32", (&x32[..]).into()),
        ("c", (&c[..]).into()),
        ("n", (&n[..]).into()),
        ("m32", (&m32[..]).into()),
    ];
    for (index, (name, data)) in columns.into_iter().enumerate() {
        bindings.bind(name, Binding::Column(ColumnRef { data, validity: validity(index) }));
    }
    bindings.scalar("a", 252.0).scalar("b32", 0.5f32).scalar("k", 7i64).scalar("flag", true);

    let kernel = match common::engine().compile(&source) {
        Ok(kernel) => kernel,
        // The renderer above only writes programs the grammar accepts and the checker's
        // structure rules allow; a compile error here is a generator or checker bug.
        Err(error) => panic!("{source:?} does not compile: {error}"),
    };
    common::assert_outputs_agree(&format!("{source:?}"), &kernel, &bindings);
});
