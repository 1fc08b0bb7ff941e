//! The public API of SPEC §8: compile, specialise per binding signature, eval, eval_into, and
//! typed errors that name the binding at fault.

use fusejit::{
    Bindings, ColumnMut, ColumnValues, Elem, Engine, EngineConfig, Error, EvalError, Schema, Shape, Type,
    Validity, ValuesMut,
};

#[test]
fn compile_needs_no_declarations_and_types_come_from_bindings() {
    let engine = Engine::new();
    let kernel = engine.compile("x * 2").unwrap();
    assert_eq!(kernel.input_names(), ["x"]);
    let x64 = [1.5, 2.0];
    let x32 = [1.5f32, 2.0];
    let mut b64 = Bindings::new();
    b64.column("x", &x64[..]);
    let mut b32 = Bindings::new();
    b32.column("x", &x32[..]);
    assert_eq!(kernel.eval(&b64).unwrap().values, ColumnValues::F64(vec![3.0, 4.0]));
    assert_eq!(kernel.eval(&b32).unwrap().values, ColumnValues::F32(vec![3.0, 4.0]));
    let mut scalar = Bindings::new();
    scalar.scalar("x", 21.0);
    assert_eq!(kernel.eval(&scalar).unwrap().values, ColumnValues::F64(vec![42.0]));
}

#[test]
fn compile_errors_carry_a_span_and_render_a_caret() {
    let engine = Engine::new();
    let error = engine.compile("dlg(px, 1)").unwrap_err();
    assert_eq!((error.diagnostic.span.start, error.diagnostic.span.end), (0, 3));
    assert_eq!(error.diagnostic.message, "unknown function 'dlg'");
    assert_eq!(error.diagnostic.hint.as_deref(), Some("did you mean 'dlog'?"));
    let rendered = error.render("<program>", false);
    assert!(rendered.contains("dlg(px, 1)\n  │ ^^^"), "{rendered}");
}

#[test]
fn unknown_names_are_reported_at_eval_with_the_bound_inputs() {
    let kernel = Engine::new().compile("pxx * a").unwrap();
    let px = [1.0];
    let mut bindings = Bindings::new();
    bindings.column("px", &px[..]).scalar("a", 2.0);
    match kernel.eval(&bindings) {
        Err(Error::Compile(error)) => {
            assert_eq!(error.diagnostic.message, "unknown name 'pxx'");
            assert_eq!(error.diagnostic.hint.as_deref(), Some("did you mean 'px'? inputs are: px, a"));
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn eval_errors_name_the_binding() {
    let kernel = Engine::new().compile("x + y").unwrap();
    let x = [1.0, 2.0, 3.0];
    let y = [1.0, 2.0];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]).column("y", &y[..]);
    assert_eq!(
        kernel.eval(&bindings).unwrap_err(),
        Error::Eval(EvalError::LengthMismatch {
            name: "y".into(),
            len: 2,
            expected: 3,
            reference: "x".into()
        })
    );
    let short = [0xffu8];
    let mut bindings = Bindings::new();
    let long: Vec<f64> = (0..9).map(f64::from).collect();
    bindings.column_with_validity("x", &long[..], Validity::new(&short, 0)).scalar("y", 1.0);
    assert_eq!(
        kernel.eval(&bindings).unwrap_err(),
        Error::Eval(EvalError::BitmapTooShort { name: "x".into(), rows: 9, capacity: 8 })
    );
    // An offset past the bitmap's end is too short, not an overflow.
    let mut bindings = Bindings::new();
    bindings.column_with_validity("x", &x[..], Validity::new(&short, usize::MAX)).scalar("y", 1.0);
    assert!(matches!(
        kernel.eval(&bindings),
        Err(Error::Eval(EvalError::BitmapTooShort { capacity: 0, .. }))
    ));
}

#[test]
fn eval_into_writes_caller_buffers() {
    let kernel = Engine::new().compile("lag(x, 1) * 2").unwrap();
    let x = [1.0, 2.0, 3.0];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    let mut values = [f64::NAN; 4];
    let mut validity = [0xffu8];
    let summary = {
        let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
        kernel.eval_into(&bindings, &mut out).unwrap()
    };
    assert_eq!((summary.len, summary.null_count), (3, 1));
    assert_eq!(&values[1..3], &[2.0, 4.0]);
    assert_eq!(validity[0] & 0b111, 0b110);
    let mut small = [0.0; 2];
    let mut out = ColumnMut { values: ValuesMut::F64(&mut small), validity: &mut validity };
    assert!(matches!(
        kernel.eval_into(&bindings, &mut out),
        Err(Error::Eval(EvalError::OutputTooShort { validity: false, len: 2, needed: 3 }))
    ));
    let mut wrong = [0.0f32; 3];
    let mut out = ColumnMut { values: ValuesMut::F32(&mut wrong), validity: &mut validity };
    assert!(matches!(
        kernel.eval_into(&bindings, &mut out),
        Err(Error::Eval(EvalError::OutputType { expected: fusejit::Elem::F64, found: fusejit::Elem::F32 }))
    ));
}

/// `eval_with_type` and `eval_outputs_with_types` give what `eval`, `eval_outputs` and
/// `output_types_of_bindings` give, the shape telling a one-row column from a scalar.
#[test]
fn evaluations_with_types_agree_with_the_separate_questions() {
    let engine = Engine::new();
    let x = [1.5];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    for (program, shape) in [("x * 2", Shape::Column), ("sum(x) * 2", Shape::Scalar)] {
        let kernel = engine.compile(program).unwrap();
        let (ty, column) = kernel.eval_with_type(&bindings).unwrap();
        assert_eq!(ty, Type::new(Elem::F64, shape), "{program}");
        assert_eq!(column.values, ColumnValues::F64(vec![3.0]), "{program}");
    }
    let kernel = engine.compile("out s = sum(x); out n = f32(x); x > 1").unwrap();
    let typed = kernel.eval_outputs_with_types(&bindings).unwrap();
    let separate = kernel.eval_outputs(&bindings).unwrap();
    let types = kernel.output_types_of_bindings(&bindings).unwrap();
    assert_eq!(typed.len(), 3);
    for ((name, ty, column), ((name2, column2), (name3, ty3))) in
        typed.iter().zip(separate.iter().zip(&types))
    {
        assert_eq!((name, ty, column), (name2, ty3, column2));
        assert_eq!(name, name3);
    }
    assert_eq!(typed[0].1, Type::scalar(Elem::F64));
    assert_eq!(typed[1].1, Type::new(Elem::F32, Shape::Column));
    assert_eq!(typed[2].2.values, ColumnValues::Bool(vec![true]));
}

/// `eval_column_into` refuses a result that is a scalar for the bindings' signature, fused
/// or multi-pass, before writing anything; a column result it writes as `eval_into` does,
/// through a single-loop and a multi-pass program alike.
#[test]
fn eval_column_into_refuses_a_scalar_result_without_writing() {
    let engine = Engine::new();
    let x = [1.0, 2.0, 6.0];
    let mut columns = Bindings::new();
    columns.column("x", &x[..]).scalar("a", 2.0);
    let mut scalars = Bindings::new();
    scalars.scalar("x", 3.0).scalar("a", 2.0);
    let cases = [
        // (program, bindings, the column result or None for a scalar result)
        ("x * a", &columns, Some([2.0, 4.0, 12.0])),
        ("x * a", &scalars, None),
        ("mean(x) * a", &columns, None),
        ("x - mean(x)", &columns, Some([-2.0, -1.0, 3.0])),
        ("out m = mean(x); x * a", &columns, Some([2.0, 4.0, 12.0])),
    ];
    for (program, bindings, expected) in cases {
        let kernel = engine.compile(program).unwrap();
        let mut values = [-7.0; 3];
        let mut validity = [0xa5u8];
        let result = kernel.eval_column_into(
            bindings,
            &mut ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity },
        );
        match expected {
            Some(column) => {
                let summary = result.unwrap();
                assert_eq!((summary.len, summary.null_count), (3, 0), "{program}");
                assert_eq!(values, column, "{program}");
                assert_eq!(validity[0] & 0b111, 0b111, "{program}");
            }
            None => {
                assert!(
                    matches!(result, Err(Error::Eval(EvalError::ScalarResult { elem: Elem::F64 }))),
                    "{program}: {result:?}"
                );
                assert_eq!((values, validity), ([-7.0; 3], [0xa5]), "{program}: nothing written");
                // `eval_into` still takes the scalar, into the first value.
                let summary = kernel
                    .eval_into(
                        bindings,
                        &mut ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity },
                    )
                    .unwrap();
                assert_eq!(summary.len, 1, "{program}");
                assert_eq!(values[0], 6.0, "{program}");
            }
        }
    }
    let error = EvalError::ScalarResult { elem: Elem::F32 };
    assert_eq!(error.to_string(), "the result is a f32 scalar; a column output buffer takes a column result");
}

/// `ColumnValues::zeroed` makes room of the result's type, and `ValuesMut::from` lends it to
/// `eval_into`: the values are `eval`'s, for every element type; room of another type is the
/// usual type error.
#[test]
fn zeroed_column_values_receive_eval_into_results_of_every_type() {
    let engine = Engine::new();
    let x = [1.5, -2.0, 3.25];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    let programs = [
        ("x * 2", Elem::F64),
        ("f32(x)", Elem::F32),
        ("i64(x)", Elem::I64),
        ("i32(x)", Elem::I32),
        ("x > 0", Elem::Bool),
    ];
    for (program, elem) in programs {
        let kernel = engine.compile(program).unwrap();
        let mut values = ColumnValues::zeroed(elem, x.len());
        assert_eq!(values.len(), 3, "{program}");
        let mut validity = [0u8];
        let summary = kernel
            .eval_into(&bindings, &mut ColumnMut { values: (&mut values).into(), validity: &mut validity })
            .unwrap();
        assert_eq!((summary.len, summary.null_count), (3, 0), "{program}");
        assert_eq!(values, kernel.eval(&bindings).unwrap().values, "{program}");
    }
    assert_eq!(ColumnValues::zeroed(Elem::I32, 2), ColumnValues::I32(vec![0, 0]));
    assert_eq!(ColumnValues::zeroed(Elem::Bool, 1), ColumnValues::Bool(vec![false]));
    let mut wrong = ColumnValues::zeroed(Elem::F32, x.len());
    let kernel = engine.compile("x * 2").unwrap();
    assert!(matches!(
        kernel.eval_into(&bindings, &mut ColumnMut { values: (&mut wrong).into(), validity: &mut [0u8] }),
        Err(Error::Eval(EvalError::OutputType { expected: Elem::F64, found: Elem::F32 }))
    ));
}

#[test]
fn compile_with_schema_specialises_eagerly_and_shows_the_ir() {
    let engine =
        Engine::with_config(EngineConfig::default().with_cache_capacity(2).with_verify_generated_code(true))
            .expect("a valid engine configuration");
    let mut schema = Schema::new();
    schema.insert("px", Type::new(Elem::F64, Shape::Column)).insert("a", Type::scalar(Elem::F64));
    let kernel = engine.compile_with_schema("dlog(px, 1) * a", &schema).unwrap();
    let ir = kernel.optimized_ir(&schema).unwrap();
    assert_eq!(ir.matches(" = ln ").count(), 1, "dlog computes ln once:\n{ir}");
    assert!(ir.contains("lag %1, 1"), "{ir}");
    let mut bad = Schema::new();
    bad.insert("px", Type::column(Elem::Bool)).insert("a", Type::scalar(Elem::F64));
    assert!(engine.compile_with_schema("dlog(px, 1) * a", &bad).is_err());
}

#[test]
fn the_cache_returns_working_kernels_past_its_capacity() {
    let engine =
        Engine::with_config(EngineConfig::default().with_cache_capacity(2).with_verify_generated_code(true))
            .expect("a valid engine configuration");
    let none = Bindings::new();
    for round in 0..3 {
        for (source, expected) in [("1 + 1", 2), ("2 * 3", 6), ("10 - 1", 9)] {
            let out = engine.compile(source).unwrap().eval(&none).unwrap();
            assert_eq!(out.values, ColumnValues::I64(vec![expected]), "round {round}");
        }
    }
}

#[test]
fn one_kernel_serves_every_binding_signature_and_keeps_scalars_out_of_the_key() {
    let kernel = Engine::new().compile("x * a + 1").unwrap();
    let x = [1.0, 2.0, 3.0];
    let x32 = [1.0f32, 2.0, 3.0];
    let bits = [0b101u8];
    for a in [2.0, 10.0] {
        let mut plain = Bindings::new();
        plain.column("x", &x[..]).scalar("a", a);
        assert_eq!(
            kernel.eval(&plain).unwrap().values,
            ColumnValues::F64(vec![a + 1.0, 2.0 * a + 1.0, 3.0 * a + 1.0])
        );
        let mut nullable = Bindings::new();
        nullable.column_with_validity("x", &x[..], Validity::new(&bits, 0)).scalar("a", a);
        let out = kernel.eval(&nullable).unwrap();
        assert_eq!(out.to_options()[1], None);
        assert_eq!(out.null_count, 1);
        let mut narrow = Bindings::new();
        narrow.column("x", &x32[..]).scalar("a", a);
        assert_eq!(kernel.eval(&narrow).unwrap().values.elem(), Elem::F32);
    }
}

#[test]
fn multi_pass_programs_evaluate_into_caller_buffers_and_check_them() {
    let engine = Engine::new();
    let x = [1.0, 2.0, 3.0, 4.0, 10.0];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    // A final scan goes straight into the buffers; a reduction feeds an elementwise loop.
    for (source, want) in [
        ("mavg(x, 2)", [1.0, 1.5, 2.5, 3.5, 7.0]),
        ("x - mean(x)", [-3.0, -2.0, -1.0, 0.0, 6.0]),
        ("cumsum(x) * 2", [2.0, 6.0, 12.0, 20.0, 40.0]),
    ] {
        let kernel = engine.compile(source).unwrap();
        let mut values = [f64::NAN; 5];
        let mut validity = [0u8; 1];
        let summary = kernel
            .eval_into(
                &bindings,
                &mut ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity },
            )
            .unwrap();
        assert_eq!((summary.len, summary.null_count), (5, 0), "{source}");
        assert_eq!(values, want, "{source}");
        assert_eq!(validity[0] & 0x1f, 0x1f, "{source}");
        // Too little room, or the wrong type, is an error, not a write past the end.
        let mut short = [0.0; 4];
        let error = kernel
            .eval_into(
                &bindings,
                &mut ColumnMut { values: ValuesMut::F64(&mut short), validity: &mut validity },
            )
            .unwrap_err();
        assert!(error.to_string().contains("values hold 4 rows"), "{source}: {error}");
        let mut wrong = [0.0f32; 5];
        let error = kernel
            .eval_into(
                &bindings,
                &mut ColumnMut { values: ValuesMut::F32(&mut wrong), validity: &mut validity },
            )
            .unwrap_err();
        assert!(error.to_string().contains("values are f32"), "{source}: {error}");
    }
}

#[test]
fn eval_outputs_gives_every_output_by_name_in_order() {
    let engine = Engine::new();
    let x = [1.0, 2.0, 4.0];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    let kernel = engine.compile("out double = x * 2\nout total = sum(x)\nout same = x\nx - mean(x)").unwrap();
    let outputs = kernel.eval_outputs(&bindings).unwrap();
    let names: Vec<&str> = outputs.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["double", "total", "same", "result"]);
    let values = |index: usize| -> Vec<Option<f64>> {
        let column = &outputs[index].1;
        (0..column.len())
            .map(|row| {
                column.get(row).map(|v| match v {
                    fusejit::Scalar::F64(v) => v,
                    _ => f64::NAN,
                })
            })
            .collect()
    };
    assert_eq!(values(0), [Some(2.0), Some(4.0), Some(8.0)]);
    assert_eq!(values(1), [Some(7.0)]);
    assert_eq!(values(2), [Some(1.0), Some(2.0), Some(4.0)]);
    assert_eq!(values(3), [Some(1.0 - 7.0 / 3.0), Some(2.0 - 7.0 / 3.0), Some(4.0 - 7.0 / 3.0)]);
    assert_eq!(kernel.interpret_outputs(&bindings).unwrap(), outputs);
    // `eval` gives the last output.
    assert_eq!(kernel.eval(&bindings).unwrap(), outputs[3].1);
}

/// One kernel, one signature, reductions that come out null on some evaluations and not on
/// others: each evaluation gets the loop for its own pattern of null reductions.
#[test]
fn null_and_valid_reductions_alternate_on_one_kernel() {
    let engine = Engine::new();
    let kernel = engine.compile("out d = x - mean(x)\nout s = x * 2\nd + std(x)").unwrap();
    let x = [1.0, 3.0];
    let (valid, none) = ([0b11u8], [0b00u8]);
    for round in 0..3 {
        let all_null = round == 1;
        let mut bindings = Bindings::new();
        bindings.column_with_validity("x", &x[..], Validity::new(if all_null { &none } else { &valid }, 0));
        // Values under null rows are unspecified: compare rows as options.
        let rows = |outputs: Vec<(String, fusejit::Column)>| -> Vec<(String, Vec<Option<fusejit::Scalar>>)> {
            outputs.into_iter().map(|(name, column)| (name, column.to_options())).collect()
        };
        let outputs = kernel.eval_outputs(&bindings).unwrap();
        assert_eq!(
            rows(outputs.clone()),
            rows(kernel.interpret_outputs(&bindings).unwrap()),
            "round {round}"
        );
        let result = kernel.eval(&bindings).unwrap();
        assert_eq!(result.to_options(), outputs[2].1.to_options(), "round {round}");
        if all_null {
            assert_eq!(result.null_count, 2);
        } else {
            assert_eq!(result.values, ColumnValues::F64(vec![0.0, 2.0]), "round {round}");
        }
    }
}

/// A scalar bound as null (`Bindings::null_scalar`, SQL's typed NULL): every row reading it is
/// null, `fill`/`is_null`/`where` see through it as the language says, a block call with it as
/// an operand is null, and a reduction of it is the reduction of no rows. Each is checked by
/// hand and against the interpreter; the null and the valid binding of a name are two
/// specialisations of one kernel.
#[test]
fn null_scalars_bind_as_null_in_every_position() {
    let engine = Engine::new();
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
    let mut null_a = Bindings::new();
    null_a.column("x", &x[..]).null_scalar("a", Elem::F64);
    let mut valid_a = Bindings::new();
    valid_a.column("x", &x[..]).scalar("a", 2.0);
    let options = |values: &[Option<f64>]| -> Vec<Option<fusejit::Scalar>> {
        values.iter().map(|value| value.map(fusejit::Scalar::F64)).collect()
    };
    let cases: &[(&str, Vec<Option<f64>>)] = &[
        ("x * a + 1", vec![None; 10]),
        ("fill(a, 0.5) * x", x.iter().map(|v| Some(v * 0.5)).collect()),
        ("where(is_null(a), x, -x)", x.iter().map(|v| Some(*v)).collect()),
        ("where(x > 4, a, x)", x.iter().map(|v| (*v <= 4.0).then_some(*v)).collect()),
        ("pow(x, a)", vec![None; 10]),
        ("ln(x) + lag(a, 2)", vec![None; 10]),
        ("x - mean(x) + fill(a, 1.0)", x.iter().map(|v| Some(v - 5.5 + 1.0)).collect()),
        ("x + fill(mean(x * a), 100.0)", x.iter().map(|v| Some(v + 100.0)).collect()),
        ("x + sum(x * a)", x.iter().map(|v| Some(v + 0.0)).collect()),
        ("x + count(x * a)", x.iter().map(|v| Some(v + 0.0)).collect()),
    ];
    for (source, expected) in cases {
        let kernel = engine.compile(source).unwrap();
        let native = kernel.eval(&null_a).unwrap();
        let reference = kernel.interpret(&null_a).unwrap();
        assert_eq!(native.to_options(), reference.to_options(), "{source}");
        let close = native.to_options().iter().zip(&options(expected)).all(|(got, want)| match (got, want) {
            (Some(fusejit::Scalar::F64(got)), Some(fusejit::Scalar::F64(want))) => (got - want).abs() < 1e-12,
            (None, None) => true,
            _ => false,
        });
        assert!(close, "{source}: {:?} vs {expected:?}", native.to_options());
        // The valid binding runs its own specialisation and agrees with the interpreter too.
        let valid = kernel.eval(&valid_a).unwrap();
        assert_eq!(valid.to_options(), kernel.interpret(&valid_a).unwrap().to_options(), "{source}");
        assert_eq!(kernel.specialization_count(), 2, "{source}");
    }
    // A program that is only scalars gives one null row.
    let scalar = engine.compile("a * 2 + 1").unwrap().eval(&null_a).unwrap();
    assert_eq!((scalar.len(), scalar.null_count), (1, 1));
    // Its type is its element type's: a null i64 scalar does not bind where an f64 one did.
    let kernel = engine.compile("x * a").unwrap();
    kernel.eval(&null_a).unwrap();
    let mut null_i64 = Bindings::new();
    null_i64.column("x", &x[..]).null_scalar("a", Elem::I64);
    let i64_result = kernel.eval(&null_i64).unwrap();
    assert_eq!((i64_result.values.elem(), i64_result.null_count), (Elem::F64, 10));
}

/// Regression (found by the evaluation-rate check of the differential generator): a column of
/// typeless nulls (`lag(null, k)` and what derives from it) coerced to a type was built as a
/// column-shaped constant, which the IR verifier rejects as an internal compiler error.
#[test]
fn lags_of_typeless_nulls_are_typed_null_columns() {
    let engine = Engine::new();
    let x = [1.0, 2.0, 3.0];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    let all_null = engine.compile("x + where(lag(null, 1), 1, 2)").unwrap().eval(&bindings).unwrap();
    assert_eq!((all_null.len(), all_null.null_count), (3, 3));
    let counted = engine.compile("count(f32(diff(null, 5))) + x").unwrap().eval(&bindings).unwrap();
    assert_eq!(
        counted.to_options(),
        vec![
            Some(fusejit::Scalar::F64(1.0)),
            Some(fusejit::Scalar::F64(2.0)),
            Some(fusejit::Scalar::F64(3.0))
        ]
    );
    let minus = engine.compile("x - lag(null, 1)").unwrap();
    assert_eq!(minus.eval(&bindings).unwrap().null_count, 3);
    assert_eq!(minus.interpret(&bindings).unwrap().null_count, 3);
}

/// The public data types answer "null" for rows a bitmap does not cover, instead of indexing
/// past it: both are built from public fields, so safe code can hand them any bitmap.
#[test]
fn validity_and_column_answer_null_past_their_bitmap() {
    let bits = [0xffu8];
    let validity = fusejit::Validity::new(&bits, 3);
    assert!(validity.is_valid(4));
    assert!(!validity.is_valid(5), "bit 8 is past the one byte");
    assert!(!fusejit::Validity::new(&bits, usize::MAX).is_valid(2), "offset + row overflows");
    let column = fusejit::Column {
        values: fusejit::ColumnValues::F64(vec![1.0; 20]),
        validity: Some(vec![0xff]),
        null_count: 0,
    };
    assert!(column.is_valid(7));
    assert!(!column.is_valid(8), "the bitmap covers 8 of the 20 rows");
    assert_eq!(column.get(12), None);
    assert_eq!(column.get(20), None, "past the last row");
}

/// Positional inputs (`Kernel::input_names` order) for `inputs`, given by name.
fn by_position<'a>(
    kernel: &fusejit::Kernel,
    inputs: &[(&str, fusejit::Binding<'a>)],
) -> Vec<fusejit::Binding<'a>> {
    kernel
        .input_names()
        .iter()
        .map(|name| inputs.iter().find(|(bound, _)| bound == name).expect("every name bound").1)
        .collect()
}

/// A result's valid values as bits (0 in null rows) and its validity bits.
type ValidBits = (Vec<u64>, Vec<u8>);

/// `(values, validity)` of `eval_column_into` by name, and of `Specialized::eval_column_into`
/// by position, into buffers first filled with a sentinel.
fn both_ways(
    kernel: &fusejit::Kernel,
    specialized: &fusejit::Specialized,
    inputs: &[(&str, fusejit::Binding<'_>)],
) -> [Result<ValidBits, Error>; 2] {
    let mut bindings = Bindings::new();
    for (name, binding) in inputs {
        bindings.bind(*name, *binding);
    }
    let positional = by_position(kernel, inputs);
    let run = |by_name: bool| {
        let mut values = vec![-7.0; 6];
        let mut validity = vec![0u8; 1];
        let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
        let summary = if by_name {
            kernel.eval_column_into(&bindings, &mut out)
        } else {
            specialized.eval_column_into(&positional, &mut out)
        }?;
        // Rows past the result, bits past its validity and values of null rows are not the
        // result's.
        let bits = validity[0] & ((1u16 << summary.len) - 1) as u8;
        let valid_values =
            (0..summary.len).map(|row| if bits >> row & 1 == 1 { values[row].to_bits() } else { 0 });
        Ok((valid_values.collect(), vec![bits]))
    };
    [run(true), run(false)]
}

/// A specialisation evaluates positional inputs as its kernel evaluates the same inputs by
/// name — the same bits and nulls, for fused and multi-pass programs, for inputs of its own
/// signature and of others — and refuses what the kernel refuses, writing nothing.
#[test]
fn specialized_kernels_evaluate_positional_inputs_as_the_kernel_does_by_name() {
    use fusejit::{Binding, ColumnData, ColumnRef, Scalar};
    let engine = Engine::new();
    let x = [1.0, -2.0, 3.5, 4.0, 5.0];
    let x32 = [1.0f32, -2.0, 3.5, 4.0, 5.0];
    let y = [0.5, 1.0, 1.5, 2.0, 2.5];
    let short = [0.5, 1.0];
    let valid = [0b10111u8];
    let column = |data| Binding::Column(ColumnRef { data, validity: None });
    let f64s = |values: &'static [f64]| column(ColumnData::F64(values));
    let x = Box::leak(Box::new(x));
    let y = Box::leak(Box::new(y));
    let signatures: Vec<Vec<(&str, Binding<'_>)>> = vec![
        vec![("x", f64s(&x[..])), ("y", f64s(&y[..])), ("a", Binding::Scalar(Scalar::F64(2.0)))],
        vec![
            (
                "x",
                Binding::Column(ColumnRef {
                    data: ColumnData::F64(&x[..]),
                    validity: Some(Validity::new(&valid, 0)),
                }),
            ),
            ("y", f64s(&y[..])),
            ("a", Binding::Scalar(Scalar::F64(-3.0))),
        ],
        vec![
            ("x", column(ColumnData::F32(&x32[..]))),
            ("y", f64s(&y[..])),
            ("a", Binding::Scalar(Scalar::F64(0.25))),
        ],
        vec![("x", f64s(&x[..])), ("y", f64s(&y[..])), ("a", Binding::NullScalar(Elem::F64))],
    ];
    for source in [
        "(x - y) * a",
        "dlog(x - y + 10, 1) * a",
        "where(x > y, x, y) + a",
        "lag(x, 2) * a + y",
        "(x - mean(x)) * a + y",
        "where(false, x, y) * a",
    ] {
        let kernel = engine.compile(source).unwrap();
        let specialized = kernel.specialized(&by_position(&kernel, &signatures[0])).unwrap();
        assert!(specialized.matches(&by_position(&kernel, &signatures[0])), "{source}");
        assert_eq!(specialized.result_type(), Type::column(Elem::F64), "{source}");
        assert!(!specialized.matches(&by_position(&kernel, &signatures[1])), "{source}");
        for inputs in &signatures {
            let [named, positional] = both_ways(&kernel, &specialized, inputs);
            let named = named.unwrap_or_else(|error| panic!("{source}: {error}"));
            assert_eq!(positional.unwrap(), named, "{source}");
        }
        // The errors of the kernel, before anything is written.
        let mut mismatched = signatures[0].clone();
        mismatched[1].1 = f64s(Box::leak(Box::new(short)));
        let [named, positional] = both_ways(&kernel, &specialized, &mismatched);
        assert!(matches!(named, Err(Error::Eval(EvalError::LengthMismatch { .. }))), "{source}");
        assert!(matches!(positional, Err(Error::Eval(EvalError::LengthMismatch { .. }))), "{source}");
        let positional = by_position(&kernel, &signatures[0]);
        let mut values = [-7.0; 5];
        let mut validity = [0u8; 1];
        let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
        let error = specialized.eval_column_into(&positional[1..], &mut out).unwrap_err();
        assert!(
            matches!(error, Error::Eval(EvalError::InputCount { expected: 3, found: 2 })),
            "{source}: {error}"
        );
        assert!(error.to_string().contains("2 inputs given by position"), "{error}");
        assert!(matches!(
            kernel.specialized(&positional[1..]),
            Err(Error::Eval(EvalError::InputCount { expected: 3, found: 2 }))
        ));
        assert_eq!(values, [-7.0; 5], "{source}: an error writes nothing");
    }
    // A scalar result is refused, as by `eval_column_into`.
    let kernel = engine.compile("sum(x) * a").unwrap();
    let positional = by_position(&kernel, &signatures[0]);
    let specialized = kernel.specialized(&positional).unwrap();
    assert_eq!(specialized.result_type(), Type::scalar(Elem::F64));
    let mut values = [-7.0; 5];
    let mut validity = [0u8; 1];
    let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
    assert!(matches!(
        specialized.eval_column_into(&positional, &mut out),
        Err(Error::Eval(EvalError::ScalarResult { elem: Elem::F64 }))
    ));
    assert_eq!(values, [-7.0; 5]);
}
