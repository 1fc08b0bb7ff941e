//! Integer columns and the arithmetic operators `//` and `%`, on hand-computed cases: each
//! program runs in the interpreter and as native code, and both must give the stated values
//! (overflow wraps, division by zero is null, remainders take the divisor's sign, promotions
//! follow docs/LANGUAGE.md, conversions never invent a value, float `%` is NumPy's, exactly).

use fusejit::{Bindings, Column, ColumnValues, Elem, Engine, Scalar, Validity};

/// Runs `source` in the interpreter and natively; asserts they agree bit for bit and returns
/// the result.
fn run(source: &str, bindings: &Bindings<'_>) -> Column {
    let engine = Engine::new();
    let interpreted = engine.interpret(source, bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
    let kernel = engine.compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
    let native = kernel.eval(bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
    assert_eq!(native.elem(), interpreted.elem(), "{source}: element type");
    let (native_rows, interpreted_rows) = (native.to_options(), interpreted.to_options());
    for (row, (a, b)) in native_rows.iter().zip(&interpreted_rows).enumerate() {
        let same = match (a, b) {
            (Some(Scalar::F64(a)), Some(Scalar::F64(b))) => {
                a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan()
            }
            (Some(Scalar::F32(a)), Some(Scalar::F32(b))) => {
                a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan()
            }
            (a, b) => a == b,
        };
        assert!(same, "{source}: row {row}: native {a:?}, interpreter {b:?}");
    }
    assert_eq!(native_rows.len(), interpreted_rows.len(), "{source}: length");
    interpreted
}

/// The rows of a column of one element type (`pick` takes the value out of its scalar, or
/// says it is of another type); panics on a row of another type.
fn rows<T>(column: &Column, pick: fn(Scalar) -> Option<T>) -> Vec<Option<T>> {
    column
        .to_options()
        .into_iter()
        .map(|row| row.map(|value| pick(value).unwrap_or_else(|| panic!("unexpected element {value:?}"))))
        .collect()
}

fn i64_rows(column: &Column) -> Vec<Option<i64>> {
    rows(column, |value| if let Scalar::I64(v) = value { Some(v) } else { None })
}

fn i32_rows(column: &Column) -> Vec<Option<i32>> {
    rows(column, |value| if let Scalar::I32(v) = value { Some(v) } else { None })
}

/// f64 rows compared by bits (so -0 differs from +0; NaN equals NaN).
fn assert_f64_bits(column: &Column, expected: &[Option<f64>], what: &str) {
    let rows: Vec<Option<f64>> =
        rows(column, |value| if let Scalar::F64(v) = value { Some(v) } else { None });
    assert_eq!(rows.len(), expected.len(), "{what}: length");
    for (row, (got, want)) in rows.iter().zip(expected).enumerate() {
        let same = match (got, want) {
            (None, None) => true,
            (Some(a), Some(b)) => a.to_bits() == b.to_bits() || a.is_nan() && b.is_nan(),
            _ => false,
        };
        assert!(same, "{what}: row {row}: got {got:?}, want {want:?}");
    }
}

#[test]
fn integer_arithmetic_wraps_and_floors() {
    let a = [7i64, -7, 7, -7, i64::MIN, i64::MAX, 0, 5];
    let b = [3i64, 3, -3, -3, -1, 2, 4, 0];
    let mut bindings = Bindings::new();
    bindings.column("a", &a[..]).column("b", &b[..]);
    assert_eq!(
        i64_rows(&run("a % b", &bindings)),
        [Some(1), Some(2), Some(-2), Some(-1), Some(0), Some(1), Some(0), None]
    );
    assert_eq!(
        i64_rows(&run("a // b", &bindings)),
        [Some(2), Some(-3), Some(-3), Some(2), Some(i64::MIN), Some(i64::MAX / 2), Some(0), None]
    );
    // `//` and `%` agree: a == (a // b) * b + a % b wherever b != 0 (with wrapping).
    assert_eq!(
        i64_rows(&run("(a // b) * b + a % b - a", &bindings)),
        [Some(0), Some(0), Some(0), Some(0), Some(0), Some(0), Some(0), None]
    );
    assert_eq!(i64_rows(&run("a + 1", &bindings))[5], Some(i64::MIN));
    assert_eq!(i64_rows(&run("a * 2", &bindings))[5], Some(-2));
    assert_eq!(i64_rows(&run("-a", &bindings))[4], Some(i64::MIN));
    assert_eq!(i64_rows(&run("abs(a)", &bindings))[4], Some(i64::MIN));
    assert_eq!(i64_rows(&run("abs(a)", &bindings))[1], Some(7));
    assert_eq!(
        i64_rows(&run("sign(a)", &bindings)),
        [Some(1), Some(-1), Some(1), Some(-1), Some(-1), Some(1), Some(0), Some(1)]
    );
    assert_eq!(i64_rows(&run("a ^ 2", &bindings))[0..2], [Some(49), Some(49)]);
    assert_eq!(i64_rows(&run("a ^ 0", &bindings))[6], Some(1));
    // True division of integers is f64.
    assert_f64_bits(&run("7 / 2", &bindings), &[Some(3.5)], "7 / 2");
    assert_f64_bits(
        &run("a / b", &bindings).clone(),
        &[
            Some(7.0 / 3.0),
            Some(-7.0 / 3.0),
            Some(-7.0 / 3.0),
            Some(7.0 / 3.0),
            Some(9_223_372_036_854_775_808.0),
            Some(4_611_686_018_427_387_904.0),
            Some(0.0),
            Some(f64::INFINITY),
        ],
        "a / b",
    );
    // A negative power of an integer is a float, as in Python.
    assert_f64_bits(&run("2 ^ -2", &bindings), &[Some(0.25)], "2 ^ -2");
    // Comparisons are exact on integers beyond 2^53.
    assert_eq!(
        run("i64(9007199254740993) > i64(9007199254740992)", &bindings).to_options(),
        [Some(Scalar::Bool(true))]
    );
}

#[test]
fn i32_arithmetic_wraps_at_32_bits() {
    let m = [i32::MAX, i32::MIN, -7, 100];
    let d = [1i32, -1, 2, 0];
    let mut bindings = Bindings::new();
    bindings.column("m", &m[..]).column("d", &d[..]);
    assert_eq!(i32_rows(&run("m + 1", &bindings)), [Some(i32::MIN), Some(i32::MIN + 1), Some(-6), Some(101)]);
    assert_eq!(i32_rows(&run("m * m", &bindings))[2], Some(49));
    assert_eq!(i32_rows(&run("m * m", &bindings))[0], Some(1));
    assert_eq!(i32_rows(&run("m // d", &bindings)), [Some(i32::MAX), Some(i32::MIN), Some(-4), None]);
    assert_eq!(i32_rows(&run("m % d", &bindings)), [Some(0), Some(0), Some(1), None]);
    assert_eq!(i32_rows(&run("-m", &bindings))[1], Some(i32::MIN));
    assert_eq!(i32_rows(&run("abs(m)", &bindings))[1], Some(i32::MIN));
}

#[test]
fn promotions_follow_the_documented_table() {
    let n = [1i64, 2];
    let m = [3i32, 4];
    let x = [0.5, 1.5];
    let x32 = [0.5f32, 1.5];
    let mut bindings = Bindings::new();
    bindings
        .column("n", &n[..])
        .column("m", &m[..])
        .column("x", &x[..])
        .column("x32", &x32[..])
        .scalar("k", 10i64)
        .scalar("a", 2.0);
    let elem = |source: &str| run(source, &bindings).elem();
    assert_eq!(elem("m + 1"), Elem::I32, "an integer literal that fits keeps i32");
    assert_eq!(elem("m + 3000000000"), Elem::I64, "a literal beyond i32 widens");
    assert_eq!(elem("m + n"), Elem::I64);
    assert_eq!(elem("m + k"), Elem::I64, "an i64 scalar widens an i32 column");
    assert_eq!(elem("n * 2.5"), Elem::F64);
    assert_eq!(elem("n * a"), Elem::F64);
    assert_eq!(elem("n + x"), Elem::F64);
    assert_eq!(elem("m * x32"), Elem::F64, "f32 cannot hold every integer");
    assert_eq!(elem("x32 * 2"), Elem::F32, "a weaker integer adopts the float column's type");
    assert_eq!(elem("1 + 2"), Elem::I64);
    assert_eq!(elem("1 + 2.0"), Elem::F64);
    assert_eq!(elem("n / 2"), Elem::F64);
    assert_eq!(elem("m // 2"), Elem::I32);
    assert_eq!(elem("count(x)"), Elem::I64);
    assert_eq!(elem("sum(m)"), Elem::I64, "an i32 sums to i64");
    assert_eq!(elem("min(m)"), Elem::I32);
    assert_eq!(elem("mean(m)"), Elem::F64);
    assert_eq!(elem("cumsum(m)"), Elem::I32);
    assert_eq!(elem("mavg(m, 2)"), Elem::F64);
    assert_eq!(elem("where(x > 1, n, 0)"), Elem::I64);
    assert_eq!(elem("floor(n)"), Elem::I64, "rounding an integer keeps it");
    assert_eq!(elem("sqrt(n)"), Elem::F64);
    assert_eq!(i32_rows(&run("m + 1", &bindings)), [Some(4), Some(5)]);
    assert_f64_bits(&run("n + x", &bindings), &[Some(1.5), Some(3.5)], "n + x");
}

#[test]
fn conversions_to_integers_are_null_where_the_value_does_not_fit() {
    let x = [-2.7, 2.7, f64::NAN, f64::INFINITY, 9.3e18, -9_223_372_036_854_775_808.0, 3e9, -0.0];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    assert_eq!(
        i64_rows(&run("i64(x)", &bindings)),
        [Some(-2), Some(2), None, None, None, Some(i64::MIN), Some(3_000_000_000), Some(0)]
    );
    assert_eq!(
        i32_rows(&run("i32(x)", &bindings)),
        [Some(-2), Some(2), None, None, None, None, None, Some(0)]
    );
    // i32 bounds: -2147483648.9 truncates into range, 2147483648 does not.
    assert_eq!(i32_rows(&run("i32(-2147483648.9)", &bindings)), [Some(i32::MIN)]);
    assert_eq!(i32_rows(&run("i32(2147483648.0)", &bindings)), [None]);
    let n = [i64::MAX, -5, i64::from(i32::MIN) - 1, 16_777_217];
    let mut bindings = Bindings::new();
    bindings.column("n", &n[..]);
    assert_eq!(i32_rows(&run("i32(n)", &bindings)), [None, Some(-5), None, Some(16_777_217)]);
    // To floats: rounded once, to nearest even, straight from the integer.
    assert_eq!(run("f32(n)", &bindings).to_options()[3], Some(Scalar::F32(16_777_216.0)));
    assert_f64_bits(
        &run("f64(n)", &bindings),
        &[Some(9_223_372_036_854_775_808.0), Some(-5.0), Some(-2_147_483_649.0), Some(16_777_217.0)],
        "f64(n)",
    );
}

#[test]
fn integer_reductions_are_exact_and_overflow_to_null() {
    let n = [i64::MAX, 1, -1, 0];
    let validity = [0b0111u8];
    let big = [i64::MAX, 1];
    let m = [i32::MAX, i32::MAX, i32::MIN];
    let mut bindings = Bindings::new();
    bindings
        .column_with_validity("n", &n[..], Validity::new(&validity, 0))
        .column("big", &big[..])
        .column("m", &m[..]);
    // MAX + 1 - 1 fits although the running sum passes MAX: accumulated in i128.
    assert_eq!(i64_rows(&run("sum(n)", &bindings)), [Some(i64::MAX)]);
    assert_eq!(i64_rows(&run("sum(big)", &bindings)), [None], "a sum beyond i64 is null");
    assert_eq!(i64_rows(&run("sum(m)", &bindings)), [Some(i64::from(i32::MAX) - 1)]);
    assert_eq!(i64_rows(&run("count(n)", &bindings)), [Some(3)]);
    assert_eq!(i64_rows(&run("min(n) + 0", &bindings)), [Some(-1)]);
    assert_eq!(i64_rows(&run("max(n)", &bindings)), [Some(i64::MAX)]);
    assert_eq!(i32_rows(&run("min(m)", &bindings)), [Some(i32::MIN)]);
    // mean converts to f64 first, exactly as the f64 mean of the converted values.
    assert_f64_bits(
        &run("mean(m)", &bindings),
        &[Some((2.0 * 2_147_483_647.0 - 2_147_483_648.0) / 3.0)],
        "mean(m)",
    );
    assert_f64_bits(&run("mean(m) - mean(f64(m))", &bindings), &[Some(0.0)], "mean(m) - mean(f64(m))");
    // Cumulative sums and window sums wrap like +; nulls are skipped.
    assert_eq!(
        i64_rows(&run("cumsum(n)", &bindings)),
        [Some(i64::MAX), Some(i64::MIN), Some(i64::MAX), None]
    );
    assert_eq!(i64_rows(&run("msum(n, 2)", &bindings)), [Some(i64::MAX), Some(i64::MIN), Some(0), Some(-1)]);
    assert_eq!(i32_rows(&run("cumsum(m)", &bindings)), [Some(i32::MAX), Some(-2), Some(i32::MAX - 1)]);
    assert_eq!(i64_rows(&run("cummin(n)", &bindings)), [Some(i64::MAX), Some(1), Some(-1), None]);
    assert_eq!(i64_rows(&run("mmax(n, 2)", &bindings)), [Some(i64::MAX), Some(i64::MAX), Some(1), Some(-1)]);
    assert_eq!(i64_rows(&run("cumprod(big)", &bindings)), [Some(i64::MAX), Some(i64::MAX)]);
    assert_eq!(i64_rows(&run("diff(big, 1)", &bindings)), [None, Some(i64::MIN + 2)]);
}

#[test]
fn float_floor_division_and_modulo_are_numpys() {
    // (a, b, a % b, a // b) as NumPy's remainder and floor_divide give them.
    let cases: &[(f64, f64, f64, f64)] = &[
        (7.5, 2.0, 1.5, 3.0),
        (-7.5, 2.0, 0.5, -4.0),
        (7.5, -2.0, -0.5, -4.0),
        (-7.5, -2.0, -1.5, 3.0),
        (-0.0, 5.0, 0.0, -0.0),
        (0.0, -5.0, -0.0, -0.0),
        (6.0, 3.0, 0.0, 2.0),
        (-6.0, 3.0, 0.0, -2.0),
        (5.0, f64::INFINITY, 5.0, 0.0),
        (-5.0, f64::INFINITY, f64::INFINITY, -1.0),
        (5.0, 0.0, f64::NAN, f64::INFINITY),
        (-5.0, 0.0, f64::NAN, f64::NEG_INFINITY),
        (0.0, 0.0, f64::NAN, f64::NAN),
        (f64::INFINITY, 3.0, f64::NAN, f64::NAN),
        (f64::NAN, 3.0, f64::NAN, f64::NAN),
        (3.0, f64::NAN, f64::NAN, f64::NAN),
        (1.0, 0.1, 0.09999999999999995, 9.0),
    ];
    let a: Vec<f64> = cases.iter().map(|case| case.0).collect();
    let b: Vec<f64> = cases.iter().map(|case| case.1).collect();
    let mut bindings = Bindings::new();
    bindings.column("a", &a[..]).column("b", &b[..]);
    let modulo: Vec<Option<f64>> = cases.iter().map(|case| Some(case.2)).collect();
    let floor_div: Vec<Option<f64>> = cases.iter().map(|case| Some(case.3)).collect();
    assert_f64_bits(&run("a % b", &bindings), &modulo, "a % b");
    assert_f64_bits(&run("a // b", &bindings), &floor_div, "a // b");
}

/// `fmod` is exact for every pair, including quotients far beyond 2^53 (the reduction loop)
/// and subnormals: the remainder equals Rust's `%` (C's fmod) bit for bit, moved to the
/// divisor's sign as NumPy does.
#[test]
fn float_modulo_is_exact_for_huge_quotients_and_subnormals() {
    let values = [
        1e300,
        -1e300,
        f64::MAX,
        3.0,
        0.1,
        -7.25,
        1e-300,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        1.5e-310,
        123_456_789.0,
        9_007_199_254_740_993.0,
        1e22,
        -1e16,
        0.7,
    ];
    let mut a = Vec::new();
    let mut b = Vec::new();
    for &x in &values {
        for &y in &values {
            a.push(x);
            b.push(y);
        }
    }
    let mut bindings = Bindings::new();
    bindings.column("a", &a[..]).column("b", &b[..]);
    let expected: Vec<Option<f64>> = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| {
            let r = x % y;
            Some(if r != 0.0 && (r < 0.0) != (y < 0.0) {
                r + y
            } else if r == 0.0 {
                0.0f64.copysign(y)
            } else {
                r
            })
        })
        .collect();
    assert_f64_bits(&run("a % b", &bindings), &expected, "a % b");
    // f32 operands: exact too (computed in f64, narrowed exactly).
    let a32: Vec<f32> = vec![1e30, -3.5, 1e-40, 7.0];
    let b32: Vec<f32> = vec![3.0, 2.0, 3e-45, -1e-30];
    let mut bindings = Bindings::new();
    bindings.column("a", &a32[..]).column("b", &b32[..]);
    let column = run("a % b", &bindings);
    assert_eq!(column.elem(), Elem::F32);
    let ColumnValues::F32(got) = &column.values else { panic!("f32 result") };
    for (index, (&x, &y)) in a32.iter().zip(&b32).enumerate() {
        let r = x % y;
        let want = if r != 0.0 && (r < 0.0) != (y < 0.0) {
            r + y
        } else if r == 0.0 {
            0.0f32.copysign(y)
        } else {
            r
        };
        assert_eq!(got[index].to_bits(), want.to_bits(), "{x} % {y}");
    }
}

#[test]
fn integer_literals_are_integers_where_the_operation_keeps_them() {
    let none = Bindings::new();
    assert_eq!(run("2 ^ 10", &none).values, ColumnValues::I64(vec![1024]));
    assert_eq!(run("7 // 2 + 7 % 2", &none).values, ColumnValues::I64(vec![4]));
    assert_eq!(run("9223372036854775807 + 1", &none).values, ColumnValues::I64(vec![i64::MIN]));
    // Digits beyond i64 are an f64 literal.
    assert_eq!(run("99999999999999999999", &none).values, ColumnValues::F64(vec![1e20]));
    assert_eq!(run("5 // 0", &none).to_options(), [None]);
    assert_eq!(run("i32(3000000000)", &none).to_options(), [None]);
}
