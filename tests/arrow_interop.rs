//! Arrow in and out (feature `arrow`): arrays bind without copies — values and validity at
//! the array's own addresses, slices included — results come back as arrays that took over
//! the result's buffers, and record batches go through `eval_batch`.

#![cfg(feature = "arrow")]

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray,
};
use fusejit::{Binding, Bindings, ColumnData, Engine, Error, EvalError, Scalar, Validity};
use std::sync::Arc;

/// 1M prices with a null every 7th row (from row 2), as an Arrow array.
fn prices() -> Float64Array {
    (0..1_000_000).map(|i| if i % 7 == 2 { None } else { Some(100.0 + (i % 1000) as f64 * 0.01) }).collect()
}

/// The validity of `array`'s rows as a bitmap of our own, from bit 0.
fn own_bitmap(array: &dyn Array) -> Vec<u8> {
    let mut bits = vec![0u8; array.len().div_ceil(8)];
    for row in 0..array.len() {
        if array.is_valid(row) {
            bits[row / 8] |= 1 << (row % 8);
        }
    }
    bits
}

#[test]
fn a_sliced_float64_array_binds_without_copying_and_evaluates_as_its_slice() {
    let array = prices();
    let sliced = array.slice(3, 999_990);
    let mut bindings = Bindings::new();
    bindings.bind_array("px", &sliced).unwrap();
    let Some(Binding::Column(column)) = bindings.get("px") else { panic!("px is a column") };
    let ColumnData::F64(values) = column.data else { panic!("f64 values") };
    // The values and the validity are the array's own memory: no copy.
    assert_eq!(values.as_ptr(), sliced.values().as_ptr());
    assert_eq!(values.as_ptr(), array.values()[3..].as_ptr());
    assert_eq!(values.len(), 999_990);
    let validity = column.validity.expect("the array has nulls");
    let nulls = sliced.nulls().expect("nulls");
    assert_eq!(validity.bytes.as_ptr(), nulls.inner().values().as_ptr());
    assert_eq!(validity.offset, 3);

    // The same rows copied into plain slices with a bitmap of our own give the same bits.
    let copied: Vec<f64> = sliced.values().to_vec();
    let bits = own_bitmap(&sliced);
    let mut plain = Bindings::new();
    plain.column_with_validity("px", &copied[..], Validity::new(&bits, 0));
    let kernel = Engine::new().compile("dlog(px, 1) * 252").unwrap();
    let (from_arrow, from_slices) = (kernel.eval(&bindings).unwrap(), kernel.eval(&plain).unwrap());
    assert_eq!(from_arrow.to_options(), from_slices.to_options());
    assert_eq!(from_arrow.null_count, from_slices.null_count);
    // Row 0 of the slice is row 3 of the array, whose lag is out of the slice: null. Row 6
    // of the slice is array row 9 (array rows 2, 9, 16, … are null).
    assert_eq!(from_arrow.get(0), None);
    assert_eq!(from_arrow.get(6), None);
    let ln = |x: f64| fusejit::MathFunction::Ln.of_f64(x);
    let want = (ln(100.05) - ln(100.04)) * 252.0;
    assert_eq!(from_arrow.get(2), Some(Scalar::F64(want)));
}

#[test]
fn every_numeric_arrow_type_binds_and_an_unsupported_one_is_named() {
    let f32s = Float32Array::from(vec![1.5f32, 2.5, 4.0]);
    let i64s = Int64Array::from(vec![Some(7), None, Some(-9)]);
    let i32s = Int32Array::from(vec![1, 2, 3]).slice(1, 2);
    let mut bindings = Bindings::new();
    bindings.bind_array("a", &f32s).unwrap();
    bindings.bind_array("n", &i64s).unwrap();
    let result = Engine::new().compile("n * 2 + 1").unwrap().eval(&bindings).unwrap();
    assert_eq!(result.to_options(), [Some(Scalar::I64(15)), None, Some(Scalar::I64(-17))]);
    let result = Engine::new().compile("a * 2").unwrap().eval(&bindings).unwrap();
    assert_eq!(result.to_options(), [Some(Scalar::F32(3.0)), Some(Scalar::F32(5.0)), Some(Scalar::F32(8.0))]);
    let mut sliced = Bindings::new();
    sliced.bind_array("k", &i32s).unwrap();
    let result = Engine::new().compile("k + 1").unwrap().eval(&sliced).unwrap();
    assert_eq!(result.to_options(), [Some(Scalar::I32(3)), Some(Scalar::I32(4))]);

    let names = StringArray::from(vec!["a", "b"]);
    let error = Bindings::new().bind_array("sym", &names).map(|_| ()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "column 'sym' is an Arrow Utf8 array; fusejit reads Float64, Float32, Int64, Int32 and Boolean arrays"
    );
    let stamps = arrow_array::TimestampSecondArray::from(vec![1, 2]);
    let error = Bindings::new().bind_array("ts", &stamps).map(|_| ()).unwrap_err();
    assert!(
        matches!(error, EvalError::UnsupportedArrowType { ref data_type, .. } if data_type == "Timestamp(s)")
    );
}

#[test]
fn a_sliced_boolean_array_binds_bit_packed_without_copying() {
    let rows = 100_010;
    let flags: BooleanArray =
        (0..rows).map(|i| if i % 11 == 5 { None } else { Some(i % 3 == 0 || i % 5 == 1) }).collect();
    let x: Float64Array = (0..rows).map(|i| Some(i as f64)).collect();
    // Offset 3: row 0 of the slice is bit 3 of the first byte, not a byte boundary.
    let (flags, x) = (flags.slice(3, 100_000), x.slice(3, 100_000));
    let mut bindings = Bindings::new();
    bindings.bind_array("flag", &flags).unwrap().bind_array("x", &x).unwrap();
    let Some(Binding::Column(column)) = bindings.get("flag") else { panic!("flag is a column") };
    let ColumnData::PackedBool(bits) = column.data else { panic!("bit-packed bools") };
    assert_eq!(bits.bytes().as_ptr(), flags.values().values().as_ptr());
    assert_eq!((bits.offset(), bits.len()), (3, 100_000));
    let validity = column.validity.expect("the flags have nulls");
    assert_eq!(validity.bytes.as_ptr(), flags.nulls().unwrap().inner().values().as_ptr());

    // The same rows expanded to one byte per row, with a bitmap of our own.
    let expanded: Vec<bool> = (0..flags.len()).map(|row| flags.values().value(row)).collect();
    let valid_bits = own_bitmap(&flags);
    let mut plain = Bindings::new();
    plain.column_with_validity("flag", &expanded[..], Validity::new(&valid_bits, 0));
    plain.column("x", x.values().as_ref());
    let engine = Engine::new();
    for source in [
        "where(flag, x, -x)",
        "flag && !lag(flag, 1)",
        "flag",
        "where(lag(flag, 2), x * 2, 0.5) + 1",
        "any(flag)",
        "count(flag)",
        "sum(where(flag, x, 0))",
        "out f = flag; x * 3",
    ] {
        let kernel = engine.compile(source).unwrap();
        // Rows as options: values under nulls are unspecified.
        let rows = |outputs: Vec<(String, fusejit::Column)>| -> Vec<(String, Vec<Option<Scalar>>)> {
            outputs.into_iter().map(|(name, column)| (name, column.to_options())).collect()
        };
        let packed = rows(kernel.eval_outputs(&bindings).unwrap());
        assert!(packed == rows(kernel.eval_outputs(&plain).unwrap()), "{source}: packed vs bytes");
        assert!(packed == rows(kernel.interpret_outputs(&bindings).unwrap()), "{source}: JIT vs interpreter");
    }
    // Values, row by row: slice row r is array row r + 3.
    let result = engine.compile("where(flag, x, -x)").unwrap().eval(&bindings).unwrap();
    for row in [0, 1, 2, 5, 7, 12, 99_999] {
        let i = row + 3;
        let want = if i % 11 == 5 {
            None
        } else if i % 3 == 0 || i % 5 == 1 {
            Some(Scalar::F64(i as f64))
        } else {
            Some(Scalar::F64(-(i as f64)))
        };
        assert_eq!(result.get(row), want, "row {row}");
    }
    // A record batch's Boolean column binds the same way, and a bool result leaves as one.
    let batch = RecordBatch::try_from_iter([("flag", Arc::new(flags.clone()) as ArrayRef)]).unwrap();
    let out = engine.compile("!flag").unwrap().eval_batch(&batch).unwrap();
    let negated = out.column(0).as_any().downcast_ref::<BooleanArray>().unwrap();
    assert_eq!(negated.len(), 100_000);
    for row in 0..negated.len() {
        assert_eq!(negated.is_valid(row), flags.is_valid(row), "row {row}");
        if flags.is_valid(row) {
            assert_eq!(negated.value(row), !flags.value(row), "row {row}");
        }
    }
}

#[test]
fn a_record_batch_binds_by_name_and_evaluates_to_a_record_batch() {
    let px: ArrayRef = Arc::new(Float64Array::from(vec![100.0, 110.0, 99.0, 99.0]));
    let sym: ArrayRef = Arc::new(StringArray::from(vec!["a", "a", "a", "a"]));
    let volume: ArrayRef = Arc::new(Int64Array::from(vec![Some(10), Some(20), None, Some(40)]));
    let batch = RecordBatch::try_from_iter([("sym", sym), ("px", px), ("volume", volume)]).unwrap();
    let engine = Engine::new();
    // The string column is skipped; the program does not read it.
    let kernel = engine.compile("out notional = px * volume; dlog(px, 1)").unwrap();
    let out = kernel.eval_batch(&batch).unwrap();
    assert_eq!(out.num_columns(), 2);
    assert_eq!(out.schema().field(0).name(), "notional");
    assert_eq!(out.schema().field(1).name(), "result");
    let notional = out.column(0).as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(notional.values().to_vec(), [1000.0, 2200.0, 0.0, 3960.0]);
    assert!(notional.is_null(2) && notional.null_count() == 1);
    let result = out.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
    assert!(result.is_null(0));
    let ln = |x: f64| fusejit::MathFunction::Ln.of_f64(x);
    assert_eq!(result.value(1), ln(110.0) - ln(100.0));
    assert_eq!(result.value(3), 0.0);
    // A program that reads the string column gets an error that names its type.
    let error = engine.compile("sym * 2").unwrap().eval_batch(&batch).unwrap_err();
    assert_eq!(
        error,
        Error::Eval(EvalError::UnsupportedArrowType { name: "sym".into(), data_type: "Utf8".into() })
    );
}

#[test]
fn results_become_arrays_that_own_the_results_buffers() {
    let x = [1.0, -4.0, 9.0];
    let mut bindings = Bindings::new();
    bindings.column("x", &x[..]);
    let column = Engine::new().compile("sqrt(x)").unwrap().eval(&bindings).unwrap();
    let fusejit::ColumnValues::F64(values) = &column.values else { panic!("f64") };
    let address = values.as_ptr();
    let array = column.into_array();
    let array = array.as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(array.values().as_ptr(), address, "the values Vec became the array's buffer");
    assert_eq!(array.null_count(), 0);
    assert!(array.nulls().is_none());

    let column = Engine::new().compile("where(x > 0, x, null) > 2").unwrap().eval(&bindings).unwrap();
    let array = column.into_array();
    let array = array.as_any().downcast_ref::<BooleanArray>().unwrap();
    assert_eq!(array.len(), 3);
    assert!(!array.value(0) && array.is_null(1) && array.value(2));
    let n = Int64Array::from(vec![Some(3), None]);
    let mut bindings = Bindings::new();
    bindings.bind_array("n", &n).unwrap();
    let array = Engine::new().compile("n // 2").unwrap().eval(&bindings).unwrap().into_array();
    let array = array.as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!((array.value(0), array.is_null(1)), (1, true));
}

#[test]
fn an_engine_learns_output_fields_and_dependence_before_any_data() {
    use arrow_schema::{DataType, Field, Schema};
    use fusejit::{Dependence, Elem, Type};
    let schema = Schema::new(vec![
        Field::new("sym", DataType::Utf8, false),
        Field::new("px", DataType::Float64, false),
        Field::new("volume", DataType::Int64, true),
    ]);
    let engine = Engine::new();
    let fields = |source: &str| engine.compile(source).unwrap().output_fields(&schema);
    assert_eq!(fields("px * 2").unwrap(), [Field::new("result", DataType::Float64, false)]);
    // A nullable input, a lag and a division make nullable outputs; integers stay integers.
    assert_eq!(
        fields("out v = volume + 1; out r = dlog(px, 1); px // 0").unwrap(),
        [
            Field::new("v", DataType::Int64, true),
            Field::new("r", DataType::Float64, true),
            Field::new("result", DataType::Float64, false),
        ]
    );
    // Conservative: a reduction of a nullable column counts as nullable.
    assert_eq!(fields("count(volume)").unwrap(), [Field::new("result", DataType::Int64, true)]);
    assert_eq!(fields("count(px)").unwrap(), [Field::new("result", DataType::Int64, false)]);
    assert_eq!(
        fields("sym + px").unwrap_err(),
        Error::Eval(EvalError::UnsupportedArrowType { name: "sym".into(), data_type: "Utf8".into() })
    );

    let mut types = fusejit::Schema::new();
    types.insert("x", Type::column(Elem::F64)).insert("a", Type::scalar(Elem::F64));
    let dependence = |source: &str| engine.compile(source).unwrap().dependence(&types).unwrap();
    assert_eq!(dependence("(x - a) * 2"), Dependence::RowLocal);
    assert_eq!(dependence("lag(x, 0) + a"), Dependence::RowLocal);
    assert_eq!(dependence("r = dlog(x, 1); where(abs(r) > 0.1, null, r) * 252"), Dependence::Lookback(1));
    assert_eq!(dependence("diff(x, 3) + lag(lag(x, 2), 5)"), Dependence::Lookback(7));
    assert_eq!(dependence("mmin(lag(x, 2), 10)"), Dependence::Lookback(11));
    for whole in ["sum(x)", "x - mean(x)", "cumsum(x)", "ema(x, 0.5)", "mavg(x, 5)", "mstd(x, 5)"] {
        assert_eq!(dependence(whole), Dependence::WholeColumn, "{whole}");
    }
}

#[test]
fn eval_batch_repeats_a_scalar_output_on_every_row_and_matches_output_fields() {
    let px: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0), Some(6.0)]));
    let batch = RecordBatch::try_from_iter_with_nullable([("px", px, true)]).unwrap();
    let kernel = Engine::new().compile("out total = sum(px); px / total").unwrap();
    let out = kernel.eval_batch(&batch).unwrap();
    let fields: Vec<arrow_schema::Field> =
        out.schema().fields().iter().map(|field| field.as_ref().clone()).collect();
    assert_eq!(fields, kernel.output_fields(&batch.schema()).unwrap());
    let total = out.column(0).as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(total.values().to_vec(), [10.0; 4]);
    let share = out.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!((share.value(0), share.is_null(1), share.value(3)), (0.1, true, 0.6));
}
