//! Every optimisation pass keeps every row's value and validity: the reference interpreter
//! over the program after each pass gives the rows it gives over the checked program, for
//! generated programs, the boundary workloads and the lag push-down's own cases. (The
//! differential tests compare native code with the interpreter on the *optimised* program,
//! so a pass that changed the meaning would pass them; this is where it fails.)

mod common;

use common::random_programs::{BOUNDARY_PROGRAMS, BoundaryData, Rng, bind, compare, data, program_for_seed};
use fusejit::internals::compiler::{NodeKind, Program, check, interpret, optimize_with_dumps};
use fusejit::internals::syntax::parse_program;
use fusejit::{Bindings, Elem, Schema, Validity};

/// The checked program of `source` over `bindings` and its form after each pass, or `None`
/// when it does not parse or check (generated programs may not).
fn stages(source: &str, bindings: &Bindings<'_>) -> Option<Vec<(&'static str, Program)>> {
    let mut schema = Schema::new();
    for (name, binding) in bindings.iter() {
        schema.insert(name, binding.ty());
    }
    let checked = check(&parse_program(source).ok()?, &schema).ok()?;
    Some(optimize_with_dumps(checked).unwrap_or_else(|error| panic!("{source}: {error:?}")))
}

fn rows_of(
    program: &Program,
    bindings: &Bindings<'_>,
    rows: usize,
) -> Result<fusejit::Column, fusejit::EvalError> {
    let inputs: Vec<_> =
        program.inputs.iter().map(|input| *bindings.get(&input.name).expect("bound")).collect();
    interpret(program, &inputs, rows)
}

/// `source`'s rows after every pass against its rows as checked; `Ok(false)` when it does not
/// check (or evaluate) at all.
fn every_pass_keeps_the_rows(source: &str, bindings: &Bindings<'_>, rows: usize) -> Result<bool, String> {
    let Some(stages) = stages(source, bindings) else { return Ok(false) };
    let (_, checked) = &stages[0];
    let Ok(want) = rows_of(checked, bindings, rows) else { return Ok(false) };
    for (pass, program) in &stages[1..] {
        let got =
            rows_of(program, bindings, rows).map_err(|error| format!("{source} after {pass}: {error}"))?;
        // `compare` names its sides "native" and "interpreter": here the program after the
        // pass and the checked one.
        compare(source, &got, &want).map_err(|message| format!("after {pass}: {message}"))?;
    }
    Ok(true)
}

#[test]
fn generated_programs_keep_their_rows_through_every_pass() {
    let strategy = common::random_programs::program_strategy();
    let mut evaluated = 0;
    for seed in 0..1500u64 {
        let source = program_for_seed(&strategy, seed);
        let mut rng = Rng(seed | 1);
        let data = data(&mut rng);
        let bindings = bind(&data, &mut rng);
        match every_pass_keeps_the_rows(&source, &bindings, data.rows) {
            Ok(checked) => evaluated += usize::from(checked),
            Err(message) => panic!("{message} (seed {seed})"),
        }
    }
    assert!(evaluated >= 1300, "only {evaluated} of 1500 generated programs evaluated");
}

#[test]
fn boundary_workloads_keep_their_rows_through_every_pass() {
    for rows in [0usize, 1, 63, 64, 65, 513, 1025] {
        let data = BoundaryData::new(rows);
        for with_nulls in [false, true] {
            let bindings = data.bind(with_nulls);
            for source in BOUNDARY_PROGRAMS {
                assert_eq!(
                    every_pass_keeps_the_rows(source, &bindings, rows),
                    Ok(true),
                    "{source} over {rows} rows"
                );
            }
        }
    }
}

/// Lags whose value is computed (not an input).
fn lags_of_computed_values(program: &Program) -> usize {
    let input = |id| matches!(program.node(id).kind, NodeKind::Input { .. });
    program
        .nodes
        .iter()
        .filter(|node| matches!(node.kind, NodeKind::Lag { value, .. } if !input(value)))
        .count()
}

/// `push_lags_to_inputs` rewrites the lags of cheap strict arithmetic and keeps the others,
/// over nulls, NaN, ±0, ±inf, wrapping integers, a null scalar and a reduction.
#[test]
fn lags_of_cheap_strict_arithmetic_and_only_those_push_to_the_inputs() {
    const ROWS: usize = 11;
    let px = [1.5, -0.0, f64::NAN, 4.0, f64::INFINITY, -2.5, 7.0, 0.0, -1e300, 3.25, 2.0];
    let y = [0.5, 1.0, 2.0, -0.0, 3.0, f64::NEG_INFINITY, 1e300, 5.0, 6.0, -7.0, 0.25];
    let n = [i64::MAX, 1, -3, i64::MIN, 0, 5, -1, 9, 2, i64::MAX - 1, 4];
    let m = [i32::MIN, 2, 3, -4, i32::MAX, 0, 7, -8, 9, 10, 1];
    let x32 = [1.5f32, f32::NAN, -0.0, 3.0, 4.5, f32::NEG_INFINITY, 6.0, 7.25, -8.0, 9.0, 0.5];
    let c = [true, false, true, true, false, false, true, false, true, true, false];
    let (px_valid, c_valid) = ([0b1110_1101u8, 0b0000_0110], [0b0111_1011u8, 0b0000_0011]);
    let bindings_of = |len: usize| {
        let mut bindings = Bindings::new();
        bindings
            .column_with_validity("px", &px[..len], Validity::new(&px_valid, 0))
            .column("y", &y[..len])
            .column("n", &n[..len])
            .column("m", &m[..len])
            .column("x32", &x32[..len])
            .column_with_validity("c", &c[..len], Validity::new(&c_valid, 0))
            .scalar("a", 2.5)
            .null_scalar("z", Elem::F64);
        bindings
    };
    let pushed = [
        "diff(px - y, 1)",
        "lag(px - y, 3)",
        "lag(-abs(px * a), 2)",
        "lag(lag(px, 1), 2) + lag(y, 1)",
        "where(lag(n > 0, 1), 1.0, 0.0)",
        "lag(n * 3 - m, 2)",
        "lag(f64(m) + px, 1)",
        "lag(sign(px) * y, 2)",
        "lag(is_nan(px), 1)",
        "lag(!c, 1)",
        "lag(min(px, y) - max(px, a), 1)",
        "lag(x32 * 2 + f32(1), 1)",
        "lag(px - mean(px), 1)",
        "lag(px + z, 1)",
        "lag(floor(px) - ceil(y), 4)",
        "lag(px - y, 20)",
    ];
    let kept = [
        "lag(ln(px), 1)",
        "lag(px / y, 1)",
        "lag(fill(px, 0.0), 1)",
        "lag(a, 1)",
        "lag(c && px > y, 1)",
        "lag(is_null(px), 1)",
        "lag(((px - y) * 2 + 1) * 3 - y, 1)",
        "lag(mavg(px, 3) - y, 1)",
    ];
    let pass_index = |stages: &[(&str, Program)]| {
        stages.iter().position(|(name, _)| *name == "push_lags_to_inputs").expect("the pass runs")
    };
    for (sources, pushes) in [(&pushed[..], true), (&kept[..], false)] {
        for source in sources {
            let stages = stages(source, &bindings_of(ROWS)).expect("checks");
            let index = pass_index(&stages);
            let (before, after) = (&stages[index - 1].1, &stages[index].1);
            if pushes {
                assert!(lags_of_computed_values(before) > 0, "{source}:\n{}", before.to_text());
                assert_eq!(lags_of_computed_values(after), 0, "{source}:\n{}", after.to_text());
            } else {
                assert_eq!(after.to_text(), before.to_text(), "{source}");
            }
            for len in [1, 2, 5, ROWS] {
                assert_eq!(
                    every_pass_keeps_the_rows(source, &bindings_of(len), len),
                    Ok(true),
                    "{source} over {len}"
                );
            }
        }
    }
    // A lag of a lag of an input is one lag, unless the sum of the two overflows.
    for (source, combined) in [("lag(lag(px, 3), 4)", true), ("lag(lag(px, 4000000000), 4000000000)", false)]
    {
        let stages = stages(source, &bindings_of(ROWS)).expect("checks");
        let after = &stages[pass_index(&stages)].1;
        assert_eq!(lags_of_computed_values(after), usize::from(!combined), "{source}");
        let seven = after.nodes.iter().any(|node| matches!(node.kind, NodeKind::Lag { k: 7, .. }));
        assert_eq!(seven, combined, "{source}");
    }
}
