//! The reference interpreter's semantics, on hand-computed cases: every function, nulls
//! wherever they can appear, NaN versus null, lags past the end, bitmap bit offsets, f32 typing.

use fusejit::{Bindings, Column, ColumnValues, Engine, Scalar, Validity};

fn run(source: &str, bindings: &Bindings<'_>) -> Column {
    Engine::new().interpret(source, bindings).unwrap_or_else(|error| panic!("{source}: {error}"))
}

fn f64_rows(column: &Column) -> Vec<Option<f64>> {
    column
        .to_options()
        .into_iter()
        .map(|row| match row {
            None => None,
            Some(Scalar::F64(v)) => Some(v),
            Some(other) => panic!("expected f64, got {other:?}"),
        })
        .collect()
}

fn bool_rows(column: &Column) -> Vec<Option<bool>> {
    column
        .to_options()
        .into_iter()
        .map(|row| match row {
            None => None,
            Some(Scalar::Bool(v)) => Some(v),
            Some(other) => panic!("expected bool, got {other:?}"),
        })
        .collect()
}

/// Bit-exact comparison of optional f64 rows (NaN equals NaN, -0 differs from +0).
fn assert_rows_bits(actual: &[Option<f64>], expected: &[Option<f64>]) {
    assert_eq!(actual.len(), expected.len(), "lengths differ: {actual:?} vs {expected:?}");
    for (row, (a, e)) in actual.iter().zip(expected).enumerate() {
        let same = match (a, e) {
            (None, None) => true,
            (Some(a), Some(e)) => a.to_bits() == e.to_bits() || (a.is_nan() && e.is_nan()),
            _ => false,
        };
        assert!(same, "row {row}: {a:?} != {e:?} (all: {actual:?})");
    }
}

fn eval_x(source: &str, x: &[f64]) -> Vec<Option<f64>> {
    let mut bindings = Bindings::new();
    bindings.column("x", x);
    f64_rows(&run(source, &bindings))
}

#[test]
fn elementwise_math_functions() {
    let x = [1.0, 4.0, 0.25, -2.5, 0.0];
    assert_rows_bits(
        &eval_x("sqrt(abs(x))", &x),
        &[Some(1.0), Some(2.0), Some(0.5), Some(2.5f64.sqrt()), Some(0.0)],
    );
    assert_rows_bits(&eval_x("abs(x)", &x), &[Some(1.0), Some(4.0), Some(0.25), Some(2.5), Some(0.0)]);
    assert_rows_bits(&eval_x("-x", &x), &[Some(-1.0), Some(-4.0), Some(-0.25), Some(2.5), Some(-0.0)]);
    let ln: Vec<Option<f64>> = x.iter().map(|v| Some(v.ln())).collect();
    assert_rows_bits(&eval_x("ln(x)", &x), &ln);
    assert_rows_bits(&eval_x("log(x)", &x), &ln);
    let exp: Vec<Option<f64>> = x.iter().map(|v| Some(v.exp())).collect();
    assert_rows_bits(&eval_x("exp(x)", &x), &exp);
}

#[test]
fn rounding_functions_round_ties_to_even() {
    let x = [0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6];
    assert_rows_bits(
        &eval_x("round(x)", &x),
        &[Some(0.0), Some(2.0), Some(2.0), Some(-0.0), Some(-2.0), Some(2.0), Some(-3.0)],
    );
    assert_rows_bits(
        &eval_x("floor(x)", &x),
        &[Some(0.0), Some(1.0), Some(2.0), Some(-1.0), Some(-2.0), Some(2.0), Some(-3.0)],
    );
    assert_rows_bits(
        &eval_x("ceil(x)", &x),
        &[Some(1.0), Some(2.0), Some(3.0), Some(-0.0), Some(-1.0), Some(3.0), Some(-2.0)],
    );
}

#[test]
fn arithmetic_follows_ieee_without_errors() {
    let x = [1.0, 0.0, -1.0, 3.0];
    assert_rows_bits(&eval_x("1 / x", &x), &[Some(1.0), Some(f64::INFINITY), Some(-1.0), Some(1.0 / 3.0)]);
    assert_rows_bits(
        &eval_x("x / 0", &x),
        &[Some(f64::INFINITY), Some(f64::NAN), Some(f64::NEG_INFINITY), Some(f64::INFINITY)],
    );
    assert_rows_bits(&eval_x("x * 2 + 1 - x / 4", &x), &[Some(2.75), Some(1.0), Some(-0.75), Some(6.25)]);
}

#[test]
fn min_and_max_propagate_nan_and_order_signed_zeros() {
    let mut bindings = Bindings::new();
    let a = [1.0, f64::NAN, -0.0, 0.0, 5.0];
    let b = [2.0, 1.0, 0.0, -0.0, f64::NAN];
    bindings.column("a", &a[..]).column("b", &b[..]);
    assert_rows_bits(
        &f64_rows(&run("min(a, b)", &bindings)),
        &[Some(1.0), Some(f64::NAN), Some(-0.0), Some(-0.0), Some(f64::NAN)],
    );
    assert_rows_bits(
        &f64_rows(&run("max(a, b)", &bindings)),
        &[Some(2.0), Some(f64::NAN), Some(0.0), Some(0.0), Some(f64::NAN)],
    );
}

#[test]
fn integer_powers_multiply_in_the_documented_order() {
    let x = [2.0, 1.1, -3.0, 0.0];
    let cube: Vec<Option<f64>> = x.iter().map(|&v| Some(v * (v * v))).collect();
    assert_rows_bits(&eval_x("x^3", &x), &cube);
    assert_rows_bits(
        &eval_x("x^-1", &x),
        &[Some(0.5), Some(1.0 / 1.1), Some(-1.0 / 3.0), Some(f64::INFINITY)],
    );
    assert_rows_bits(&eval_x("x^0", &x), &[Some(1.0); 4]);
    assert_rows_bits(&eval_x("-x^2", &x), &[Some(-4.0), Some(-(1.1 * 1.1)), Some(-9.0), Some(-0.0)]);
}

#[test]
fn lag_diff_dlog_and_ret_follow_their_formulas() {
    let x: [f64; 4] = [100.0, 110.0, 99.0, 120.0];
    assert_rows_bits(&eval_x("lag(x, 1)", &x), &[None, Some(100.0), Some(110.0), Some(99.0)]);
    assert_rows_bits(&eval_x("lag(x, 0)", &x), &[Some(100.0), Some(110.0), Some(99.0), Some(120.0)]);
    assert_rows_bits(&eval_x("diff(x, 2)", &x), &[None, None, Some(-1.0), Some(10.0)]);
    let dlog: Vec<Option<f64>> =
        (0..4).map(|i| if i == 0 { None } else { Some(x[i].ln() - x[i - 1].ln()) }).collect();
    assert_rows_bits(&eval_x("dlog(x, 1)", &x), &dlog);
    let ret: Vec<Option<f64>> = (0..4).map(|i| if i < 3 { None } else { Some(x[3] / x[0] - 1.0) }).collect();
    assert_rows_bits(&eval_x("ret(x, 3)", &x), &ret);
}

#[test]
fn lags_of_computed_values_carry_their_nulls() {
    let x: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
    // dlog(x,1) is ln 2 from row 1; its dlog over 5 rows is valid from row 6 on.
    let inner: Vec<Option<f64>> = (0..8usize).map(|i| (i >= 1).then(|| x[i].ln() - x[i - 1].ln())).collect();
    let expected: Vec<Option<f64>> = (0..8usize)
        .map(|i| match (inner[i], i.checked_sub(5).and_then(|j| inner[j])) {
            (Some(a), Some(b)) => Some(a.ln() - b.ln()),
            _ => None,
        })
        .collect();
    assert_eq!(expected.iter().filter(|row| row.is_some()).count(), 2);
    assert_rows_bits(&eval_x("dlog(dlog(x, 1), 5)", &x), &expected);
}

#[test]
fn lags_at_least_the_length_are_all_null() {
    let x = [1.0, 2.0, 3.0];
    assert_rows_bits(&eval_x("lag(x, 3)", &x), &[None, None, None]);
    assert_rows_bits(&eval_x("dlog(x, 7)", &x), &[None, None, None]);
    assert_rows_bits(&eval_x("lag(x, 4294967295)", &x), &[None, None, None]);
    assert_rows_bits(&eval_x("lag(x, 1)", &[]), &[]);
}

#[test]
fn nulls_propagate_and_nan_is_a_value() {
    let x = [1.0, -1.0, 4.0, f64::NAN];
    let validity = [0b1011u8]; // row 2 is null
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], Validity::new(&validity, 0));
    let ln = f64_rows(&run("ln(x) * 2", &bindings));
    assert_rows_bits(&ln, &[Some(0.0), Some(f64::NAN), None, Some(f64::NAN)]);
    assert_eq!(bool_rows(&run("is_null(x)", &bindings)), [Some(false), Some(false), Some(true), Some(false)]);
    assert_eq!(bool_rows(&run("is_valid(x)", &bindings)), [Some(true), Some(true), Some(false), Some(true)]);
    assert_eq!(
        bool_rows(&run("is_null(ln(x))", &bindings)),
        [Some(false), Some(false), Some(true), Some(false)]
    );
    // fill replaces nulls, never NaN.
    assert_rows_bits(
        &f64_rows(&run("fill(x, 0)", &bindings)),
        &[Some(1.0), Some(-1.0), Some(0.0), Some(f64::NAN)],
    );
    let column = run("fill(x, 0)", &bindings);
    assert_eq!(column.null_count, 0);
    assert!(column.validity.is_none(), "no bitmap when nothing is null");
    // Comparisons with a null are null; with NaN they are false (and != is true).
    assert_eq!(bool_rows(&run("x > 0", &bindings)), [Some(true), Some(false), None, Some(false)]);
    assert_eq!(bool_rows(&run("x != x", &bindings)), [Some(false), Some(false), None, Some(true)]);
}

#[test]
fn fill_with_a_column_is_null_only_where_both_are() {
    let x = [1.0, 2.0, 3.0];
    let y = [10.0, 20.0, 30.0];
    let (vx, vy) = ([0b101u8], [0b011u8]);
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], Validity::new(&vx, 0));
    bindings.column_with_validity("y", &y[..], Validity::new(&vy, 0));
    assert_rows_bits(&f64_rows(&run("fill(x, y)", &bindings)), &[Some(1.0), Some(20.0), Some(3.0)]);
    assert_rows_bits(&f64_rows(&run("fill(y, x)", &bindings)), &[Some(10.0), Some(20.0), Some(3.0)]);
    let (vx, vy) = ([0b110u8], [0b110u8]);
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], Validity::new(&vx, 0));
    bindings.column_with_validity("y", &y[..], Validity::new(&vy, 0));
    assert_rows_bits(&f64_rows(&run("fill(x, y)", &bindings)), &[None, Some(2.0), Some(3.0)]);
}

#[test]
fn where_is_null_only_where_the_condition_is() {
    let x = [1.0, 5.0, 3.0, 7.0];
    let y = [2.0, 4.0, 3.0, 9.0];
    let vx = [0b0111u8]; // x[3] null
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], Validity::new(&vx, 0)).column("y", &y[..]);
    // Row 3: the condition x > y is null, so the result is null even though y is valid.
    assert_rows_bits(
        &f64_rows(&run("where(x > y, x, y)", &bindings)),
        &[Some(2.0), Some(5.0), Some(3.0), None],
    );
    // A chosen null side stays null; the unchosen side's null does not matter.
    assert_rows_bits(
        &f64_rows(&run("where(y > 3, x, y)", &bindings)),
        &[Some(2.0), Some(5.0), Some(3.0), None],
    );
    assert_rows_bits(
        &f64_rows(&run("where(y < 3, x, y)", &bindings)),
        &[Some(1.0), Some(4.0), Some(3.0), Some(9.0)],
    );
    assert_rows_bits(
        &f64_rows(&run("where(x > y, null, x)", &bindings)),
        &[Some(1.0), None, Some(3.0), None],
    );
    assert_rows_bits(
        &f64_rows(&run("where(x > y, x - y, 0) * 2", &bindings)),
        &[Some(0.0), Some(2.0), Some(0.0), None],
    );
}

/// `where` on a null test of one of its arms (which the optimizer runs as `fill`): the other
/// arm where the value is null, the value elsewhere, whatever that arm holds (a number, a
/// null, a column with nulls of its own) — in the interpreter and in native code alike.
#[test]
fn where_on_a_null_test_takes_the_other_arm_exactly_where_the_value_is_null() {
    let x = [1.5, -0.0, 3.0, f64::NAN, 5.0];
    let y = [10.0, 20.0, 30.0, 40.0, 50.0];
    let (vx, vy) = ([0b11010u8], [0b01101u8]); // x null at rows 0, 2; y null at rows 1, 4
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], Validity::new(&vx, 0));
    bindings.column_with_validity("y", &y[..], Validity::new(&vy, 0));
    bindings.scalar("a", 0.25).null_scalar("n", fusejit::Elem::F64);
    let cases: [(&str, [Option<f64>; 5]); 5] = [
        ("where(is_null(x), a, x)", [Some(0.25), Some(-0.0), Some(0.25), Some(f64::NAN), Some(5.0)]),
        ("where(is_valid(x), x, a)", [Some(0.25), Some(-0.0), Some(0.25), Some(f64::NAN), Some(5.0)]),
        ("where(is_null(x), y, x)", [Some(10.0), Some(-0.0), Some(30.0), Some(f64::NAN), Some(5.0)]),
        ("where(is_valid(y), y, x)", [Some(10.0), Some(-0.0), Some(30.0), Some(40.0), Some(5.0)]),
        ("where(is_null(x), n, x) * 2", [None, Some(-0.0), None, Some(f64::NAN), Some(10.0)]),
    ];
    let engine = Engine::new();
    for (source, expected) in cases {
        assert_rows_bits(&f64_rows(&run(source, &bindings)), &expected);
        let native = engine.compile(source).unwrap_or_else(|error| panic!("{source}: {error}"));
        let column = native.eval(&bindings).unwrap_or_else(|error| panic!("{source}: {error}"));
        assert_rows_bits(&f64_rows(&column), &expected);
    }
}

#[test]
fn logic_is_kleene_three_valued() {
    let c = [true, true, true, false, false, false, true, false, true];
    let d = [true, false, true, true, false, true, false, false, false];
    // c: rows 6,7,8 null; d: rows 2,5,8 null. `null && false` is false, `null || false` null.
    let vc = [0b0011_1111u8, 0];
    let vd = [0b1101_1011u8, 0];
    let mut bindings = Bindings::new();
    bindings.column_with_validity("c", &c[..], Validity::new(&vc, 0));
    bindings.column_with_validity("d", &d[..], Validity::new(&vd, 0));
    let and = bool_rows(&run("c && d", &bindings));
    assert_eq!(
        and,
        [
            Some(true),
            Some(false),
            None,
            Some(false),
            Some(false),
            Some(false),
            Some(false),
            Some(false),
            None
        ]
    );
    let or = bool_rows(&run("c || d", &bindings));
    assert_eq!(or, [Some(true), Some(true), Some(true), Some(true), Some(false), None, None, None, None]);
    assert_eq!(
        bool_rows(&run("!c", &bindings))[..7],
        [Some(false), Some(false), Some(false), Some(true), Some(true), Some(true), None]
    );
    assert_eq!(bool_rows(&run("c == d", &bindings))[..4], [Some(true), Some(false), None, Some(false)]);
}

#[test]
fn bitmaps_with_offsets_zero_to_seven_and_odd_lengths() {
    for offset in 0..8 {
        for len in [0usize, 1, 7, 8, 9, 13, 63, 64, 65] {
            let x: Vec<f64> = (0..len).map(|i| i as f64).collect();
            // Row i is valid unless i % 3 == 1, stored starting at bit `offset`.
            let mut bytes = vec![0u8; (offset + len).div_ceil(8)];
            for i in (0..len).filter(|i| i % 3 != 1) {
                let bit = offset + i;
                bytes[bit / 8] |= 1 << (bit % 8);
            }
            let mut bindings = Bindings::new();
            bindings.column_with_validity("x", &x[..], Validity::new(&bytes, offset));
            let out = f64_rows(&run("x * 2 + lag(x, 1) * 0", &bindings));
            let expected: Vec<Option<f64>> = (0..len)
                .map(|i| (i % 3 != 1 && i >= 1 && (i - 1) % 3 != 1).then_some(i as f64 * 2.0))
                .collect();
            assert_rows_bits(&out, &expected);
            let column = run("x", &bindings);
            assert_eq!(
                column.null_count,
                (0..len).filter(|i| i % 3 == 1).count(),
                "offset {offset} len {len}"
            );
        }
    }
}

#[test]
fn f32_columns_stay_f32_with_literals_and_scalars() {
    let x32 = [1.5f32, 0.1, -2.0];
    let y64 = [1.0f64, 2.0, 3.0];
    let mut bindings = Bindings::new();
    bindings.column("x32", &x32[..]).column("y", &y64[..]).scalar("a", 0.1f64);
    let scaled = run("x32 * 2.5", &bindings);
    assert_eq!(scaled.values, ColumnValues::F32(vec![3.75, 0.1f32 * 2.5, -5.0]));
    let with_scalar = run("x32 * a", &bindings);
    assert_eq!(with_scalar.values, ColumnValues::F32(vec![1.5 * 0.1f32, 0.1f32 * 0.1f32, -2.0 * 0.1f32]));
    let promoted = run("x32 + y", &bindings);
    assert_eq!(promoted.values, ColumnValues::F64(vec![2.5, f64::from(0.1f32) + 2.0, 1.0]));
    let cast = run("f64(x32)", &bindings);
    assert_eq!(cast.values, ColumnValues::F64(x32.iter().map(|&v| f64::from(v)).collect()));
    let narrowed = run("f32(y) / 3", &bindings);
    assert_eq!(narrowed.values, ColumnValues::F32(vec![1.0 / 3.0f32, 2.0 / 3.0f32, 1.0]));
    let ln32 = run("ln(x32)", &bindings);
    assert_eq!(ln32.values.elem(), fusejit::Elem::F32);
}

#[test]
fn scalar_programs_give_one_row_and_lags_of_scalars_broadcast() {
    let engine = Engine::new();
    let none = Bindings::new();
    // Integer literals add as integers; a float literal makes the sum f64.
    let three = engine.interpret("1 + 2", &none).unwrap();
    assert_eq!(three.values, ColumnValues::I64(vec![3]));
    let three = engine.interpret("1 + 2.0", &none).unwrap();
    assert_eq!(three.values, ColumnValues::F64(vec![3.0]));
    let mut bindings = Bindings::new();
    let x = [1.0, 2.0, 3.0];
    bindings.column("x", &x[..]).scalar("a", 252.0).scalar("flag", true);
    assert_eq!(engine.interpret("a * 2", &bindings).unwrap().values, ColumnValues::F64(vec![504.0]));
    assert_rows_bits(
        &f64_rows(&engine.interpret("x * 0 + lag(a, 1)", &bindings).unwrap()),
        &[None, Some(252.0), Some(252.0)],
    );
    assert_eq!(
        bool_rows(&engine.interpret("flag && x > 1", &bindings).unwrap()),
        [Some(false), Some(true), Some(true)]
    );
    let null = engine.interpret("null", &none).unwrap();
    assert_eq!((null.len(), null.null_count), (1, 1));
}

#[test]
fn bindings_shadow_inputs_and_share_values() {
    let x = [4.0, 9.0];
    let validity = [0b10u8];
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], Validity::new(&validity, 0));
    let out = f64_rows(&run("x = fill(x, 1); r = sqrt(x); r * r + r", &bindings));
    assert_rows_bits(&out, &[Some(2.0), Some(12.0)]);
}

/// Reductions over the valid rows (LANGUAGE.md, "Reductions"): the empty and all-null cases,
/// the sample forms, f32 and bool operands, and a reduction broadcast into a column.
#[test]
fn reductions_skip_nulls_and_define_their_empty_results() {
    let x = [2.0, 99.0, 4.0, 9.0];
    let validity = [0b1101u8]; // row 1 is null
    let all_null = [0u8];
    let c = [true, false, true, true];
    let x32 = [1.5f32, 2.5, 3.0, 4.0];
    let mut bindings = Bindings::new();
    bindings
        .column_with_validity("x", &x[..], Validity::new(&validity, 0))
        .column_with_validity("n", &x[..], Validity::new(&all_null, 0))
        .column_with_validity("c", &c[..], Validity::new(&validity, 0))
        .column("x32", &x32[..]);
    let one = |source: &str| f64_rows(&run(source, &bindings));
    // Valid rows: 2, 4, 9. Mean 5; squared deviations 9, 1, 16.
    assert_rows_bits(&one("sum(x)"), &[Some(15.0)]);
    assert_rows_bits(&one("mean(x)"), &[Some(5.0)]);
    assert_rows_bits(&one("var(x)"), &[Some(26.0 / 3.0)]);
    assert_rows_bits(&one("var(x, 1)"), &[Some(13.0)]);
    assert_rows_bits(&one("std(x, 1)"), &[Some(13f64.sqrt())]);
    assert_rows_bits(&one("min(x) + max(x) * 10"), &[Some(92.0)]);
    // count is an i64.
    assert_eq!(run("count(x) + count(c)", &bindings).values, ColumnValues::I64(vec![6]));
    // No valid row: sum and count are 0, the others null.
    assert_rows_bits(&one("sum(n)"), &[Some(0.0)]);
    assert_eq!(run("count(n)", &bindings).values, ColumnValues::I64(vec![0]));
    for source in ["mean(n)", "var(n)", "std(n, 1)", "min(n)", "max(n)"] {
        assert_rows_bits(&one(source), &[None]);
    }
    // One valid row has no sample variance.
    assert_rows_bits(&one("var(where(x > 8, x, null), 1)"), &[None]);
    assert_eq!(bool_rows(&run("any(c && false)", &bindings)), [Some(false)]);
    assert_eq!(bool_rows(&run("all(c)", &bindings)), [Some(true)]);
    assert_eq!(bool_rows(&run("all(is_null(n))", &bindings)), [Some(true)]);
    // An f32 operand is summed in f64 and rounded once.
    assert_eq!(run("sum(x32)", &bindings).values, ColumnValues::F32(vec![11.0]));
    // A null reduction broadcast into a column makes every row null.
    assert_rows_bits(&f64_rows(&run("x - mean(n)", &bindings)), &[None, None, None, None]);
    assert_rows_bits(&f64_rows(&run("x - mean(x)", &bindings)), &[Some(-3.0), None, Some(-1.0), Some(4.0)]);
}

/// Windows, cumulative ops and ema (LANGUAGE.md): partial windows, skipped nulls, and state
/// carried over null rows.
#[test]
fn windows_cumulative_ops_and_ema_follow_the_documented_rules() {
    let x = [1.0, 99.0, 3.0, -0.0, 0.0, 6.0];
    let validity = [0b11_1101u8]; // row 1 is null
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], Validity::new(&validity, 0));
    let rows = |source: &str| f64_rows(&run(source, &bindings));
    assert_rows_bits(
        &rows("msum(x, 2)"),
        &[Some(1.0), Some(1.0), Some(3.0), Some(3.0), Some(0.0), Some(6.0)],
    );
    assert_rows_bits(
        &rows("mavg(x, 3)"),
        &[Some(1.0), Some(1.0), Some(2.0), Some(1.5), Some(1.0), Some(2.0)],
    );
    // A window of one null row is null.
    assert_rows_bits(&rows("msum(x, 1)"), &[Some(1.0), None, Some(3.0), Some(-0.0), Some(0.0), Some(6.0)]);
    // -0 is below +0 and stays the minimum while it is in the window.
    assert_rows_bits(
        &rows("mmin(x, 2)"),
        &[Some(1.0), Some(1.0), Some(3.0), Some(-0.0), Some(-0.0), Some(0.0)],
    );
    assert_rows_bits(
        &rows("mstd(x, 2)"),
        &[Some(0.0), Some(0.0), Some(0.0), Some(1.5), Some(0.0), Some(3.0)],
    );
    assert_rows_bits(&rows("cumsum(x)"), &[Some(1.0), None, Some(4.0), Some(4.0), Some(4.0), Some(10.0)]);
    assert_rows_bits(&rows("cummax(x)"), &[Some(1.0), None, Some(3.0), Some(3.0), Some(3.0), Some(6.0)]);
    assert_rows_bits(
        &rows("cumprod(x + 1)"),
        &[Some(2.0), None, Some(8.0), Some(8.0), Some(8.0), Some(56.0)],
    );
    // ema starts at the first valid value: s = 0.5·x + 0.5·s at each valid row.
    assert_rows_bits(&rows("ema(x, 0.5)"), &[Some(1.0), None, Some(2.0), Some(1.0), Some(0.5), Some(3.25)]);
    // alpha may be arithmetic on numbers, evaluated in f64 (MACD's `2/13`).
    assert_rows_bits(&rows("ema(x, 1/2)"), &rows("ema(x, 0.5)"));
    assert_rows_bits(&rows("ema(x, -(3 - 4) * 2 / 4)"), &rows("ema(x, 0.5)"));
    assert_rows_bits(&rows("ema(x, 2/13)"), &rows("ema(x, 0.15384615384615385)"));
    assert_ne!(rows("ema(x, 2/13)"), rows("ema(x, 0.15)"));
}

/// `trunc`, `sign`, `clip` and the float tests on the values where they differ from their
/// neighbours: ±0, halves, NaN, ±inf, and a null row (bit 5 cleared).
#[test]
fn trunc_sign_clip_and_float_tests() {
    let x = [-2.5, -0.5, -0.0, 0.0, 0.7, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 9.0];
    let bits = [0b1101_1111u8, 0b1];
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], Validity::new(&bits, 0));
    let f64s = |source: &str| f64_rows(&run(source, &bindings));
    let bools = |source: &str| bool_rows(&run(source, &bindings));
    let nan = f64::NAN;
    assert_rows_bits(
        &f64s("trunc(x)"),
        &[
            Some(-2.0),
            Some(-0.0),
            Some(-0.0),
            Some(0.0),
            Some(0.0),
            None,
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            Some(9.0),
        ],
    );
    // NumPy: sign(-0.0) is +0, sign(nan) is nan.
    assert_rows_bits(
        &f64s("sign(x)"),
        &[Some(-1.0), Some(-1.0), Some(0.0), Some(0.0), Some(1.0), None, Some(1.0), Some(-1.0), Some(1.0)],
    );
    assert_rows_bits(&f64s("sign(f64(null) + x)"), &[None; 9]);
    assert_rows_bits(
        &f64s("sign(x * 0 + 0/0)"),
        &[Some(nan), Some(nan), Some(nan), Some(nan), Some(nan), None, Some(nan), Some(nan), Some(nan)],
    );
    // clip(x, -1, 1) = min(max(x, -1), 1): -0 stays -0, NaN stays NaN; lo > hi gives hi.
    assert_rows_bits(
        &f64s("clip(x, -1, 1)"),
        &[Some(-1.0), Some(-0.5), Some(-0.0), Some(0.0), Some(0.7), None, Some(1.0), Some(-1.0), Some(1.0)],
    );
    assert_rows_bits(&f64s("clip(x, 3, 2)")[..1], &[Some(2.0)]);
    assert_rows_bits(&f64s("clip(0/0, 0, 1) + x * 0")[..1], &[Some(nan)]);
    // One letter per row: T true, F false, . null.
    let pattern = |source: &str| -> String {
        bools(source)
            .iter()
            .map(|row| match row {
                Some(true) => 'T',
                Some(false) => 'F',
                None => '.',
            })
            .collect()
    };
    assert_eq!(pattern("is_nan(x)"), "FFFFF.FFF");
    assert_eq!(bools("is_nan(x * 0)")[6], Some(true), "inf * 0 is NaN");
    assert_eq!(pattern("is_finite(x)"), "TTTTT.FFT");
    assert_eq!(pattern("is_inf(x)"), "FFFFF.TTF");
    // A NaN value is not null: is_nan of NaN is true, is_null of NaN is false.
    assert_eq!(bools("is_nan(0/0 + x * 0)")[0], Some(true));
    assert_eq!(bools("is_null(0/0 + x * 0)")[0], Some(false));
    // f32 columns: the tests see the f32 value; trunc and sign stay f32.
    let x32 = [-1.5f32, f32::NAN];
    let mut bindings32 = Bindings::new();
    bindings32.column("y", &x32[..]);
    let column = run("trunc(y) + sign(y)", &bindings32);
    assert_eq!(column.to_options()[0], Some(Scalar::F32(-2.0)));
    assert_eq!(bool_rows(&run("is_nan(y)", &bindings32)), [Some(false), Some(true)]);
}
