//! No input may panic, overflow the stack or read out of bounds: random text, random token
//! soups, absurd nesting, huge literals and lags all give a result or an error.

use fusejit::{Bindings, Engine, Error, Validity};
use proptest::prelude::*;

/// Compiles and evaluates `source` over a fixed set of bindings; any outcome but a panic is fine.
fn compile_and_run(source: &str) -> Result<usize, Error> {
    let x = [1.0, 2.5, -3.0, 0.0, f64::NAN, 7.0, 8.0, 9.0, 10.0];
    let y = [0.5f32, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let c = [true, false, true, false, true, false, true, false, true];
    let validity = [0b1011_0111u8, 0b1];
    let mut bindings = Bindings::new();
    bindings
        .column_with_validity("x", &x[..], Validity::new(&validity, 0))
        .column("y", &y[..])
        .column("c", &c[..])
        .scalar("a", 252.0)
        .scalar("b", 0.5f32);
    let kernel = Engine::new().compile(source)?;
    let out = kernel.eval(&bindings)?;
    assert!(out.len() == 9 || out.len() == 1, "{source}: {} rows", out.len());
    assert_eq!(out.null_count, (0..out.len()).filter(|&row| !out.is_valid(row)).count());
    Ok(out.len())
}

const TOKENS: &[&str] = &[
    "x",
    "y",
    "c",
    "a",
    "b",
    "zz",
    "`x`",
    "1",
    "0",
    "2.5",
    ".5",
    "1e3",
    "1e999",
    "4294967296",
    "true",
    "false",
    "null",
    "+",
    "-",
    "*",
    "/",
    "^",
    "!",
    "&&",
    "||",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "(",
    ")",
    ",",
    ";",
    "\n",
    "=",
    "ln",
    "log",
    "exp",
    "sqrt",
    "abs",
    "floor",
    "ceil",
    "round",
    "min",
    "max",
    "where",
    "lag",
    "diff",
    "dlog",
    "ret",
    "fill",
    "is_null",
    "is_valid",
    "f32",
    "f64",
    "sum",
    "mean",
    "var",
    "std",
    "count",
    "any",
    "all",
    "msum",
    "mavg",
    "mstd",
    "mmin",
    "mmax",
    "cumsum",
    "cumprod",
    "cummax",
    "cummin",
    "ema",
    "out",
    "0.5",
    "#",
    "`",
    "$",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(source in "\\PC{0,60}") {
        let _ = compile_and_run(&source);
    }

    #[test]
    fn random_token_soups_never_panic(indices in proptest::collection::vec(0..TOKENS.len(), 0..40)) {
        let source: Vec<&str> = indices.iter().map(|&i| TOKENS[i]).collect();
        let _ = compile_and_run(&source.join(" "));
    }

    #[test]
    fn random_ascii_never_panics(source in "[ -~\n]{0,80}") {
        let _ = compile_and_run(&source);
    }
}

fn assert_compile_error(source: &str, message_part: &str) {
    match Engine::new().compile(source) {
        Err(error) => assert!(
            error.diagnostic.message.contains(message_part),
            "expected '{message_part}' in '{}'",
            error.diagnostic.message
        ),
        Ok(_) => panic!("expected an error for a {}-byte program", source.len()),
    }
}

#[test]
fn nesting_100_000_deep_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    assert_compile_error(&format!("{}x{}", "ln(".repeat(depth), ")".repeat(depth)), "nests deeper");
    assert_compile_error(&format!("{}x", "-".repeat(depth)), "nests deeper");
    assert_compile_error(&format!("{}x", "!".repeat(depth)), "nests deeper");
    assert_compile_error(&format!("x{}", "^2".repeat(depth)), "nests deeper");
    assert_compile_error(&vec!["x"; depth].join(" + "), "nests deeper");
    assert_compile_error(&format!("{}x{}", "(".repeat(depth), ")".repeat(depth - 1)), "unexpected");
}

#[test]
fn parentheses_alone_do_not_count_as_nesting() {
    // Redundant parentheses add no AST node, so a deep but flat group compiles.
    let out = compile_and_run(&format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000)));
    assert_eq!(out.ok(), Some(9));
}

#[test]
fn nesting_just_under_the_limit_compiles_and_runs() {
    let source = format!("{}x{}", "abs(".repeat(200), ")".repeat(200));
    assert_eq!(compile_and_run(&source).ok(), Some(9));
    let long_sum = vec!["x"; 200].join(" + ");
    assert_eq!(compile_and_run(&long_sum).ok(), Some(9));
}

#[test]
fn huge_literals_and_lags_give_errors_or_correct_results() {
    assert_compile_error("1e999", "too large");
    assert_compile_error("lag(x, 4294967296)", "too large");
    // An exponent beyond i32 is not repeated multiplication but the general power.
    assert_eq!(compile_and_run("x^2147483648").ok(), Some(9));
    assert_eq!(compile_and_run("1e308 * 10").ok(), Some(1));
    assert_eq!(compile_and_run("lag(x, 4294967295)").ok(), Some(9));
    assert_eq!(compile_and_run("x^2147483647 + x^-2147483648").ok(), Some(9));
    assert_eq!(compile_and_run("99999999999999999999999 + 1").ok(), Some(1));
    // Windows far longer than the column cost the column's length, not the window's.
    assert_compile_error("msum(x, 4294967296)", "too large");
    assert_compile_error("mavg(x, 0)", "empty");
    for source in [
        "msum(x, 4294967295)",
        "mavg(x, 4294967295) + mstd(y, 4294967295)",
        "mmin(x, 4294967295) - mmax(y, 4000000000)",
    ] {
        assert_eq!(compile_and_run(source).ok(), Some(9), "{source}");
    }
    let kernel = Engine::new().compile("msum(x, 4294967295)").unwrap();
    let x = [1.0, 2.0, 3.0];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    assert_eq!(kernel.eval(&bindings).unwrap(), kernel.interpret(&bindings).unwrap());
    assert_eq!(kernel.eval(&bindings).unwrap().values, fusejit::ColumnValues::F64(vec![1.0, 3.0, 6.0]));
}

#[test]
fn kernels_are_send_and_sync_and_evaluate_from_many_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<fusejit::Kernel>();
    assert_send_sync::<Engine>();
    let kernel = Engine::new().compile("dlog(x, 1) * a + b").unwrap();
    let x: Vec<f64> = (1..=1000).map(f64::from).collect();
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let kernel = kernel.clone();
                let x = &x;
                scope.spawn(move || {
                    let mut bindings = Bindings::new();
                    bindings.column("x", &x[..]).scalar("a", 252.0).scalar("b", 0.5);
                    kernel.eval(&bindings).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    assert!(results.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(results[0].null_count, 1);
}

/// Thousands of values whose validity the vector loop selects (each a block of bytes in the
/// kernel's frame) and of distinct lane masks: the plan keeps the frame small
/// (`fuse_loops::MAX_VECTOR_VALIDITY_SLOTS`), so the kernel runs on a thread with a 1 MiB
/// stack, and gives the interpreter's column.
#[test]
fn thousands_of_selected_validities_fit_a_small_thread_stack() {
    let wheres: Vec<String> =
        (1..6000).map(|i| format!("a{i} = where(y > {}, a{}, z)", i % 7, i - 1)).collect();
    let fills: Vec<String> = (1..3000).map(|i| format!("b{i} = b{} + fill(lag(x, {i}), 1)", i - 1)).collect();
    let sources = [
        format!("a0 = where(y > 0, x, z); {}; a5999 * 2", wheres.join("; ")),
        format!("b0 = x; {}; b2999", fills.join("; ")),
    ];
    let rows: usize = 4000;
    let x: Vec<f64> = (0..rows).map(|i| i as f64 * 0.5).collect();
    let y: Vec<f64> = (0..rows).map(|i| (i as f64).sin() * 8.0).collect();
    let x_bits: Vec<u8> =
        (0..rows.div_ceil(8)).map(|i| if i % 3 == 0 { 0b1011_0110 } else { 0xff }).collect();
    let z_bits: Vec<u8> =
        (0..rows.div_ceil(8)).map(|i| if i % 5 == 0 { 0b0111_1101 } else { 0xff }).collect();
    for source in sources {
        let (x, y, x_bits, z_bits) = (x.clone(), y.clone(), x_bits.clone(), z_bits.clone());
        let worker = std::thread::Builder::new().stack_size(1 << 20).spawn(move || {
            let mut bindings = Bindings::new();
            bindings
                .column_with_validity("x", &x[..], Validity::new(&x_bits, 0))
                .column("y", &y[..])
                .column_with_validity("z", &x[..], Validity::new(&z_bits, 0));
            let engine = Engine::with_config(fusejit::EngineConfig::default().with_threads(Some(1))).unwrap();
            let kernel = engine.compile(&source).unwrap();
            (kernel.eval(&bindings).unwrap(), kernel.interpret(&bindings).unwrap())
        });
        let (native, reference) = worker.expect("a thread").join().expect("no stack overflow");
        assert_eq!((native.len(), native.null_count), (reference.len(), reference.null_count));
        assert!(native.null_count > 0);
        let (fusejit::ColumnValues::F64(got), fusejit::ColumnValues::F64(expected)) =
            (&native.values, &reference.values)
        else {
            panic!("f64 columns");
        };
        for row in 0..rows {
            assert_eq!(native.is_valid(row), reference.is_valid(row), "row {row}");
            if native.is_valid(row) {
                assert_eq!(got[row].to_bits(), expected[row].to_bits(), "row {row}");
            }
        }
    }
}
