//! fusejit functions against DataFusion's own SQL for the same result, interleaved, medians:
//! per-symbol annualised log returns over ticks as a window function, and row-local
//! arithmetic as a scalar function. Run with
//! `cargo run --release -p fusejit-datafusion --example sql_bench -- [--rows N] [--symbols S] [--runs R]`.

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::Result;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{SortExpr, col};
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;
use std::time::Instant;

fn argument(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1))
        .map(|value| value.parse().expect("a number"))
        .unwrap_or(default)
}

/// Ticks in time order, symbols interleaved: `sym`, `ts`, `px`, and `x`, `y` for the
/// row-local programs. With `sorted`, the same rows ordered by (sym, ts), declared so.
fn ticks(rows: usize, symbols: usize, sorted: bool) -> (Arc<Schema>, Vec<RecordBatch>) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("sym", DataType::Int64, false),
        Field::new("ts", DataType::Int64, false),
        Field::new("px", DataType::Float64, false),
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
    ]));
    let per_symbol = rows / symbols;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let order: Vec<(usize, usize)> = if sorted {
        (0..symbols).flat_map(|s| (0..per_symbol).map(move |t| (s, t))).collect()
    } else {
        (0..per_symbol).flat_map(|t| (0..symbols).map(move |s| (s, t))).collect()
    };
    let batches = order
        .chunks(8192)
        .map(|chunk| {
            let sym = Int64Array::from_iter_values(chunk.iter().map(|(s, _)| *s as i64));
            let ts = Int64Array::from_iter_values(chunk.iter().map(|(_, t)| *t as i64));
            let px = Float64Array::from_iter_values(
                chunk.iter().map(|(s, t)| 100.0 + *s as f64 + (*t as f64 * 0.001).sin() * 10.0 + next()),
            );
            let x = Float64Array::from_iter_values(chunk.iter().map(|_| 1.0 + next() * 100.0));
            let y = Float64Array::from_iter_values(chunk.iter().map(|_| next() * 100.0));
            let columns: Vec<ArrayRef> =
                vec![Arc::new(sym), Arc::new(ts), Arc::new(px), Arc::new(x), Arc::new(y)];
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        })
        .collect();
    (schema, batches)
}

async fn context(rows: usize, symbols: usize, sorted: bool) -> Result<SessionContext> {
    // Over input sorted by (sym, ts) and declared so, a window need not repartition and
    // re-sort: without repartitioning, DataFusion keeps the order and drops the sort.
    let config = SessionConfig::new()
        .set_bool("datafusion.optimizer.repartition_windows", !sorted)
        .set_bool("datafusion.optimizer.repartition_sorts", !sorted)
        .set_bool("datafusion.optimizer.repartition_file_scans", !sorted)
        .set_bool("datafusion.optimizer.prefer_existing_sort", sorted);
    let ctx = fusejit_datafusion::with_fusejit(SessionContext::new_with_config(config));
    let (schema, batches) = ticks(rows, symbols, sorted);
    let partitions = ctx.state().config().target_partitions();
    let mut partitioned = vec![Vec::new(); if sorted { 1 } else { partitions }];
    let count = partitioned.len();
    for (index, batch) in batches.into_iter().enumerate() {
        partitioned[index % count].push(batch);
    }
    let mut table = MemTable::try_new(schema, partitioned)?;
    if sorted {
        table = table.with_sort_order(vec![vec![
            SortExpr::new(col("sym"), true, false),
            SortExpr::new(col("ts"), true, false),
        ]]);
    }
    ctx.register_table("ticks", Arc::new(table))?;
    fusejit_datafusion::register_program(&ctx, "ann_ret", "dlog(px, 1) * 252")?;
    Ok(ctx)
}

/// Seconds to run `sql` to the last batch.
async fn time(ctx: &SessionContext, sql: &str) -> Result<(f64, usize)> {
    let start = Instant::now();
    let batches = ctx.sql(sql).await?.collect().await?;
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    Ok((start.elapsed().as_secs_f64(), rows))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() -> Result<()> {
    let rows = argument("--rows", 10_000_000);
    let symbols = argument("--symbols", 100);
    let runs = argument("--runs", 5);
    if std::env::args().any(|arg| arg == "--explain") {
        for sorted in [false, true] {
            let ctx = context(rows, symbols, sorted).await?;
            for sql in [
                "EXPLAIN ANALYZE SELECT sym, ts, ann_ret(px) OVER (PARTITION BY sym ORDER BY ts) FROM ticks",
                "EXPLAIN ANALYZE SELECT sym, ts, (ln(px) - lag(ln(px), 1) OVER (PARTITION BY sym ORDER BY ts)) * 252 FROM ticks",
            ] {
                ctx.sql(sql).await?.show().await?;
            }
        }
        return Ok(());
    }
    println!(
        "{rows} rows, {symbols} symbols, {runs} interleaved runs, median ms; ratio = DataFusion SQL / fusejit"
    );
    println!("| query | input | fusejit | DataFusion SQL | ratio |");
    println!("| --- | --- | --- | --- | --- |");
    let pairs = [
        (
            "per-symbol dlog(px,1)*252 (window)",
            "SELECT sym, ts, ann_ret(px) OVER (PARTITION BY sym ORDER BY ts) FROM ticks",
            "SELECT sym, ts, (ln(px) - lag(ln(px), 1) OVER (PARTITION BY sym ORDER BY ts)) * 252 FROM ticks",
        ),
        (
            "(x-y)*a+b (scalar)",
            "SELECT fusejit('(x - y) * a + b', x, y, 2.0, 0.5) FROM ticks",
            "SELECT (x - y) * 2.0 + 0.5 FROM ticks",
        ),
        (
            "ln(x)*a+b (scalar)",
            "SELECT fusejit('ln(x) * a + b', x, 252.0, 0.5) FROM ticks",
            "SELECT ln(x) * 252.0 + 0.5 FROM ticks",
        ),
        (
            "where(x>y, x-y, 0)*a (scalar)",
            "SELECT fusejit('where(x > y, x - y, 0) * a', x, y, 3.0) FROM ticks",
            "SELECT CASE WHEN x > y THEN x - y ELSE 0 END * 3.0 FROM ticks",
        ),
    ];
    for sorted in [false, true] {
        let ctx = context(rows, symbols, sorted).await?;
        let input = if sorted { "sorted by (sym, ts), declared" } else { "time order, unsorted" };
        for (name, ours, theirs) in pairs {
            if sorted && !name.contains("window") {
                continue;
            }
            let (mut fusejit, mut datafusion) = (Vec::new(), Vec::new());
            // One warm-up of each (compilation, allocation), then interleaved runs.
            let (_, ours_rows) = time(&ctx, ours).await?;
            let (_, theirs_rows) = time(&ctx, theirs).await?;
            assert_eq!(ours_rows, theirs_rows);
            for _ in 0..runs {
                fusejit.push(time(&ctx, ours).await?.0);
                datafusion.push(time(&ctx, theirs).await?.0);
            }
            let (ours, theirs) = (median(fusejit) * 1e3, median(datafusion) * 1e3);
            println!("| {name} | {input} | {ours:.1} | {theirs:.1} | {:.2} |", theirs / ours);
        }
    }
    Ok(())
}
