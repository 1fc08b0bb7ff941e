//! fusejit in DataFusion SQL: the generic scalar function, registered programs as scalar and
//! window functions, CREATE FUNCTION, plans carried by the codecs, and every planning error,
//! each checked against fusejit's interpreter on the same rows.

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use fusejit_datafusion::{
    FusejitLogicalCodec, FusejitPhysicalCodec, ProgramFunction, register_program, with_fusejit,
};
use std::sync::Arc;

const SYMBOLS: usize = 3;
const ROWS_PER_SYMBOL: usize = 10_000;

/// A deterministic price series per symbol: a random walk, with every 17th price null.
fn price(symbol: usize, ts: usize) -> Option<f64> {
    if (ts * 7 + symbol) % 17 == 3 {
        return None;
    }
    let mut state = (symbol as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ts as u64;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    Some(100.0 + symbol as f64 * 10.0 + (ts as f64 * 0.01).sin() * 5.0 + (state % 1000) as f64 / 1000.0)
}

/// The ticks rows: all symbols interleaved and in a scrambled time order, in batches of
/// 8 192 rows, so that every symbol's rows cross batches and arrive unsorted.
fn ticks_batches() -> (Arc<Schema>, Vec<RecordBatch>) {
    let mut rows: Vec<(usize, usize)> =
        (0..ROWS_PER_SYMBOL).flat_map(|ts| (0..SYMBOLS).map(move |symbol| (symbol, ts))).collect();
    // A fixed permutation: rows in the order of (index * 7919) mod n.
    let n = rows.len();
    let scrambled: Vec<(usize, usize)> = (0..n).map(|index| rows[(index * 7919) % n]).collect();
    rows = scrambled;
    let schema = Arc::new(Schema::new(vec![
        Field::new("sym", DataType::Utf8, false),
        Field::new("ts", DataType::Int64, false),
        Field::new("px", DataType::Float64, true),
        Field::new("qty", DataType::Int64, false),
        Field::new("px32", DataType::Float32, true),
    ]));
    let batches: Vec<RecordBatch> = rows
        .chunks(8192)
        .map(|chunk| {
            let sym = StringArray::from_iter_values(chunk.iter().map(|(symbol, _)| format!("S{symbol}")));
            let ts = Int64Array::from_iter_values(chunk.iter().map(|(_, ts)| *ts as i64));
            let px = Float64Array::from_iter(chunk.iter().map(|(symbol, ts)| price(*symbol, *ts)));
            let qty = Int64Array::from_iter_values(
                chunk.iter().map(|(symbol, ts)| ((ts * 3 + symbol) % 50) as i64 + 1),
            );
            let px32 = Float32Array::from_iter(
                chunk.iter().map(|(symbol, ts)| price(*symbol, *ts).map(|p| p as f32)),
            );
            let columns: Vec<ArrayRef> =
                vec![Arc::new(sym), Arc::new(ts), Arc::new(px), Arc::new(qty), Arc::new(px32)];
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        })
        .collect();
    (schema, batches)
}

/// The ticks table in memory, its batches spread over `partitions` partitions.
fn ticks(ctx: &SessionContext, partitions: usize) {
    let (schema, batches) = ticks_batches();
    // Spread the batches over `partitions` input partitions.
    let mut partitioned = vec![Vec::new(); partitions];
    for (index, batch) in batches.into_iter().enumerate() {
        partitioned[index % partitions].push(batch);
    }
    let table = MemTable::try_new(schema, partitioned).unwrap();
    ctx.register_table("ticks", Arc::new(table)).unwrap();
}

/// The ticks rows as a Parquet dataset of several files in `dir`.
fn write_ticks_parquet(dir: &std::path::Path) {
    let (schema, batches) = ticks_batches();
    for (file, group) in batches.chunks(2).enumerate() {
        let out = std::fs::File::create(dir.join(format!("part-{file}.parquet"))).unwrap();
        let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(out, schema.clone(), None).unwrap();
        for batch in group {
            writer.write(batch).unwrap();
        }
        writer.close().unwrap();
    }
}

fn context(partitions: usize) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions).with_batch_size(8192);
    let ctx = with_fusejit(SessionContext::new_with_config(config));
    ticks(&ctx, partitions);
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> RecordBatch {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let schema = batches.first().map(|batch| batch.schema()).unwrap();
    datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap()
}

async fn query_error(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Err(error) => error.to_string(),
        Ok(frame) => frame.collect().await.expect_err(&format!("'{sql}' should fail")).to_string(),
    }
}

fn f64s(array: &dyn Array) -> Vec<Option<f64>> {
    let array = array.as_any().downcast_ref::<Float64Array>().expect("a DOUBLE column");
    array.iter().collect()
}

fn i64s(array: &dyn Array) -> Vec<i64> {
    array.as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec()
}

/// The same value bit for bit, nulls in the same rows.
fn assert_same(actual: &[Option<f64>], expected: &[Option<f64>], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (row, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(a.map(f64::to_bits), e.map(f64::to_bits), "{what}: row {row}: {a:?} against {e:?}");
    }
}

/// fusejit's interpreter over one symbol's prices in time order.
fn interpret_per_symbol(program: &str, symbol: usize) -> Vec<Option<f64>> {
    let prices: Vec<Option<f64>> = (0..ROWS_PER_SYMBOL).map(|ts| price(symbol, ts)).collect();
    let column = fusejit::Column::from_options(
        fusejit::Elem::F64,
        &prices.iter().map(|p| p.map(fusejit::Scalar::F64)).collect::<Vec<_>>(),
    );
    let mut bindings = fusejit::Bindings::new();
    bindings.bind("px", fusejit::Binding::Column(column.as_column_ref()));
    let result = fusejit::Engine::new().compile(program).unwrap().interpret(&bindings).unwrap();
    result
        .to_options()
        .into_iter()
        .map(|value| {
            value.map(|v| match v {
                fusejit::Scalar::F64(v) => v,
                other => panic!("not f64: {other:?}"),
            })
        })
        .collect()
}

/// Rows of a `sym, ts, value` result in symbol-then-time order, as (symbol, values).
fn per_symbol(batch: &RecordBatch) -> Vec<Vec<Option<f64>>> {
    let sym = batch.column(0).as_any().downcast_ref::<StringArray>().unwrap();
    let ts = i64s(batch.column(1).as_ref());
    let values = f64s(batch.column(2).as_ref());
    let mut out = vec![vec![None; ROWS_PER_SYMBOL]; SYMBOLS];
    let mut seen = vec![vec![false; ROWS_PER_SYMBOL]; SYMBOLS];
    for row in 0..batch.num_rows() {
        let symbol: usize = sym.value(row)[1..].parse().unwrap();
        out[symbol][ts[row] as usize] = values[row];
        seen[symbol][ts[row] as usize] = true;
    }
    assert!(seen.iter().flatten().all(|&seen| seen), "every row comes back once");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_functions_run_per_sorted_partition_across_batches_and_repartitioning() {
    for partitions in [1, 4] {
        let ctx = context(partitions);
        let program = "dlog(px, 1) * 252";
        assert!(matches!(register_program(&ctx, "ann_ret", program).unwrap(), ProgramFunction::Window(_)));
        let batch =
            query(&ctx, "SELECT sym, ts, ann_ret(px) OVER (PARTITION BY sym ORDER BY ts) AS r FROM ticks")
                .await;
        assert_eq!(batch.num_rows(), SYMBOLS * ROWS_PER_SYMBOL);
        assert!(batch.schema().field(2).is_nullable());
        for (symbol, values) in per_symbol(&batch).iter().enumerate() {
            assert_same(
                values,
                &interpret_per_symbol(program, symbol),
                &format!("{partitions} partitions, S{symbol}"),
            );
            // The first row of each symbol has no previous price: the lag never crosses symbols.
            assert_eq!(values[0], None);
        }
        // Windows, cumulative operations, ema and reductions, each over its own symbol only.
        for program in
            ["mstd(dlog(px, 1), 20)", "cumsum(fill(px, 0))", "ema(px, 2/13) - ema(px, 2/27)", "px - mean(px)"]
        {
            register_program(&ctx, "f", program).unwrap();
            let batch =
                query(&ctx, "SELECT sym, ts, f(px) OVER (PARTITION BY sym ORDER BY ts) FROM ticks").await;
            for (symbol, values) in per_symbol(&batch).iter().enumerate() {
                assert_same(values, &interpret_per_symbol(program, symbol), &format!("{program}, S{symbol}"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scalar_functions_match_the_interpreter_over_batches_with_nulls() {
    let ctx = context(2);
    let batch = query(&ctx, "SELECT sym, ts, fusejit('ln(x) * a + b', px, 252.0, 0.5) FROM ticks").await;
    assert_eq!(batch.schema().field(2).data_type(), &DataType::Float64);
    let expected: Vec<Vec<Option<f64>>> = (0..SYMBOLS)
        .map(|symbol| {
            (0..ROWS_PER_SYMBOL)
                .map(|ts| price(symbol, ts).map(|p| fusejit::internals::math::ln_f64(p) * 252.0 + 0.5))
                .collect()
        })
        .collect();
    for (symbol, values) in per_symbol(&batch).iter().enumerate() {
        assert_same(values, &expected[symbol], &format!("S{symbol}"));
        assert!(values.iter().filter(|value| value.is_none()).count() > ROWS_PER_SYMBOL / 20);
    }
    // A registered row-local program is a scalar function of its own name.
    assert!(matches!(register_program(&ctx, "spread", "(x - y) * a").unwrap(), ProgramFunction::Scalar(_)));
    let batch = query(&ctx, "SELECT spread(px, 100.0, 2.0) AS s, px FROM ticks").await;
    let (s, px) = (f64s(batch.column(0).as_ref()), f64s(batch.column(1).as_ref()));
    let expected: Vec<Option<f64>> = px.iter().map(|p| p.map(|p| (p - 100.0) * 2.0)).collect();
    assert_same(&s, &expected, "spread");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integers_and_f32_coerce_and_booleans_come_back() {
    let ctx = context(2);
    // An integer column in a generic call is read as fusejit's i64; f32 as f32.
    let batch =
        query(&ctx, "SELECT fusejit('q * 2', qty), qty, fusejit('p * 2', px32), px32 FROM ticks").await;
    assert_eq!(batch.schema().field(0).data_type(), &DataType::Int64);
    let doubled: Vec<i64> = i64s(batch.column(1).as_ref()).iter().map(|q| q * 2).collect();
    assert_eq!(i64s(batch.column(0).as_ref()), doubled);
    assert_eq!(batch.schema().field(2).data_type(), &DataType::Float32);
    let p32 = batch.column(3).as_any().downcast_ref::<Float32Array>().unwrap();
    let r32 = batch.column(2).as_any().downcast_ref::<Float32Array>().unwrap();
    for row in 0..batch.num_rows() {
        assert_eq!(r32.is_null(row), p32.is_null(row));
        if p32.is_valid(row) {
            assert_eq!(r32.value(row), p32.value(row) * 2.0);
        }
    }
    // Declared DOUBLE parameters: DataFusion casts BIGINT and FLOAT arguments to them.
    ctx.sql("CREATE FUNCTION half(x DOUBLE) RETURNS DOUBLE LANGUAGE fusejit AS 'x / 2'").await.unwrap();
    let batch = query(&ctx, "SELECT half(qty), qty, half(px32), px32 FROM ticks").await;
    let halves: Vec<Option<f64>> =
        i64s(batch.column(1).as_ref()).iter().map(|q| Some(*q as f64 / 2.0)).collect();
    assert_same(&f64s(batch.column(0).as_ref()), &halves, "half(qty)");
    let p32 = batch.column(3).as_any().downcast_ref::<Float32Array>().unwrap();
    let expected: Vec<Option<f64>> = p32.iter().map(|p| p.map(|p| p as f64 / 2.0)).collect();
    assert_same(&f64s(batch.column(2).as_ref()), &expected, "half(px32)");
    // A comparison gives a BOOLEAN column.
    let batch = query(&ctx, "SELECT fusejit('x > 105', px), px FROM ticks").await;
    let flags = batch.column(0).as_any().downcast_ref::<BooleanArray>().unwrap();
    let px = f64s(batch.column(1).as_ref());
    for (row, p) in px.iter().enumerate() {
        assert_eq!(flags.is_valid(row).then(|| flags.value(row)), p.map(|p| p > 105.0), "row {row}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn programs_with_several_outputs_return_structs() {
    let ctx = context(1);
    let batch =
        query(&ctx, "SELECT fusejit('out r = x * 2; out flag = x > 105; r + 1', px) AS s, px FROM ticks")
            .await;
    let DataType::Struct(fields) = batch.schema().field(0).data_type().clone() else { panic!("a struct") };
    let names: Vec<&str> = fields.iter().map(|field| field.name().as_str()).collect();
    assert_eq!(names, ["r", "flag", "result"]);
    // The struct is never null; its fields are where px is.
    assert!(!batch.schema().field(0).is_nullable());
    assert!(fields.iter().all(|field| field.is_nullable()));
    let s = batch.column(0).as_any().downcast_ref::<StructArray>().unwrap();
    let px = f64s(batch.column(1).as_ref());
    let r: Vec<Option<f64>> = px.iter().map(|p| p.map(|p| p * 2.0)).collect();
    let result: Vec<Option<f64>> = px.iter().map(|p| p.map(|p| p * 2.0 + 1.0)).collect();
    assert_same(&f64s(s.column(0).as_ref()), &r, "r");
    assert_same(&f64s(s.column(2).as_ref()), &result, "result");
    // A field by name, in SQL.
    let batch = query(&ctx, "SELECT fusejit('out r = x * 2; r + 1', px)['r'] FROM ticks").await;
    assert_same(&f64s(batch.column(0).as_ref()), &r, "['r']");
    // A window program with several outputs.
    register_program(&ctx, "two", "out prev = lag(px, 1); px - prev").unwrap();
    let batch =
        query(&ctx, "SELECT sym, ts, two(px) OVER (PARTITION BY sym ORDER BY ts)['result'] FROM ticks").await;
    for (symbol, values) in per_symbol(&batch).iter().enumerate() {
        assert_same(values, &interpret_per_symbol("px - lag(px, 1)", symbol), &format!("two, S{symbol}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_function_picks_the_form_and_names_parameters() {
    let ctx = context(2);
    ctx.sql("CREATE FUNCTION scaled(DOUBLE, DOUBLE) RETURNS DOUBLE LANGUAGE fusejit AS '($1 - $2) * 2'")
        .await
        .unwrap();
    let batch = query(&ctx, "SELECT scaled(px, 100.0), px FROM ticks").await;
    let expected: Vec<Option<f64>> =
        f64s(batch.column(1).as_ref()).iter().map(|p| p.map(|p| (p - 100.0) * 2.0)).collect();
    assert_same(&f64s(batch.column(0).as_ref()), &expected, "scaled");
    ctx.sql("CREATE FUNCTION vol(px DOUBLE) RETURNS DOUBLE LANGUAGE fusejit AS 'mstd(dlog(px, 1), 20) * sqrt(252)'")
        .await
        .unwrap();
    let batch = query(&ctx, "SELECT sym, ts, vol(px) OVER (PARTITION BY sym ORDER BY ts) FROM ticks").await;
    for (symbol, values) in per_symbol(&batch).iter().enumerate() {
        assert_same(
            values,
            &interpret_per_symbol("mstd(dlog(px, 1), 20) * sqrt(252)", symbol),
            &format!("vol S{symbol}"),
        );
    }
    // RETURNS may be left out.
    ctx.sql("CREATE FUNCTION up(x DOUBLE) LANGUAGE fusejit AS 'x > 105'").await.unwrap();
    let batch = query(&ctx, "SELECT up(px) FROM ticks").await;
    assert_eq!(batch.schema().field(0).data_type(), &DataType::Boolean);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planning_errors_carry_the_diagnostic() {
    let ctx = context(1);
    let error = query_error(&ctx, "SELECT fusejit('dlog(px, 1)', px) FROM ticks").await;
    assert!(error.contains("reads up to 1 earlier row") && error.contains("OVER (PARTITION BY"), "{error}");
    let error = query_error(&ctx, "SELECT fusejit('x - mean(x)', px) FROM ticks").await;
    assert!(error.contains("depends on the whole column"), "{error}");
    let error = query_error(&ctx, "SELECT fusejit('dlg(px, 1)', px) FROM ticks").await;
    assert!(error.contains("did you mean 'dlog'?") && error.contains('^'), "{error}");
    let error = query_error(&ctx, "SELECT fusejit('(x - y) * 2', px) FROM ticks").await;
    assert!(error.contains("takes 2 arguments (x, y), 1 given"), "{error}");
    let error = query_error(&ctx, "SELECT fusejit('x * 2', sym) FROM ticks").await;
    assert!(error.contains("argument 1 has type Utf8"), "{error}");
    let error = query_error(&ctx, "SELECT fusejit(sym, px) FROM ticks").await;
    assert!(error.contains("program as a string literal"), "{error}");
    let error = query_error(&ctx, "SELECT fusejit('x && true', px) FROM ticks").await;
    assert!(error.contains("fusejit function 'fusejit'") && error.contains('^'), "{error}");
    let error = query_error(&ctx, "CREATE FUNCTION f(x DOUBLE) RETURNS DOUBLE LANGUAGE python AS 'x'").await;
    assert!(error.contains("LANGUAGE fusejit"), "{error}");
    let error =
        query_error(&ctx, "CREATE FUNCTION f(x DOUBLE) RETURNS DOUBLE LANGUAGE fusejit AS 'y * 2'").await;
    assert!(error.contains("reads 'y', which is not one of its parameters (x)"), "{error}");
    ctx.sql("CREATE FUNCTION g(x DOUBLE) RETURNS BIGINT LANGUAGE fusejit AS 'x * 2'").await.unwrap();
    let error = query_error(&ctx, "SELECT g(px) FROM ticks").await;
    assert!(error.contains("declared to return Int64, but its program returns Float64"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_carry_programs_to_a_context_that_never_registered_them() {
    use datafusion_proto::bytes::{
        logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
        physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
    };
    let dir = tempfile::tempdir().unwrap();
    write_ticks_parquet(dir.path());
    let path = dir.path().to_str().unwrap();
    let ctx = with_fusejit(SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2)));
    ctx.register_parquet("ticks", path, Default::default()).await.unwrap();
    register_program(&ctx, "ann_ret", "dlog(px, 1) * 252").unwrap();
    register_program(&ctx, "spread", "(x - y) * a").unwrap();
    let sql = "SELECT sym, ts, ann_ret(px) OVER (PARTITION BY sym ORDER BY ts), spread(px, 100.0, 2.0), \
               fusejit('x * 3', px) FROM ticks ORDER BY sym, ts";
    let expected = query(&ctx, sql).await;

    // A context with the table but none of the functions: the plans bring them.
    let bare = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    bare.register_parquet("ticks", path, Default::default()).await.unwrap();
    let logical = ctx.sql(sql).await.unwrap().into_optimized_plan().unwrap();
    // The Parquet table travels through DataFusion's Parquet codec, the functions through ours.
    let parquet = Arc::new(datafusion_proto::logical_plan::file_formats::ParquetLogicalExtensionCodec {});
    let logical_codec = FusejitLogicalCodec::new(parquet);
    let bytes = logical_plan_to_bytes_with_extension_codec(&logical, &logical_codec).unwrap();
    let decoded =
        logical_plan_from_bytes_with_extension_codec(&bytes, &bare.task_ctx(), &logical_codec).unwrap();
    let batches = bare.execute_logical_plan(decoded).await.unwrap().collect().await.unwrap();
    let actual = datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(actual.columns(), expected.columns(), "logical plan through the codec");

    let physical = ctx.sql(sql).await.unwrap().create_physical_plan().await.unwrap();
    let physical_codec = FusejitPhysicalCodec::default();
    let bytes = physical_plan_to_bytes_with_extension_codec(physical, &physical_codec).unwrap();
    let decoded =
        physical_plan_from_bytes_with_extension_codec(&bytes, &bare.task_ctx(), &physical_codec).unwrap();
    let batches = datafusion::physical_plan::collect(decoded, bare.task_ctx()).await.unwrap();
    let actual = datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(actual.columns(), expected.columns(), "physical plan through the codec");
}
