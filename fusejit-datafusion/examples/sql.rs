//! fusejit in DataFusion SQL, start to finish: a ticks table, the generic scalar function, a
//! registered window program, and CREATE FUNCTION. Run with
//! `cargo run --release -p fusejit-datafusion --example sql`.

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::common::Result;
use datafusion::prelude::SessionContext;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<()> {
    let ctx = fusejit_datafusion::with_fusejit(SessionContext::new());

    // Two symbols, five ticks each, one price missing.
    let sym: ArrayRef = Arc::new(StringArray::from(vec!["A", "B", "A", "B", "A", "B", "A", "B", "A", "B"]));
    let ts: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]));
    let px: ArrayRef = Arc::new(Float64Array::from(vec![
        Some(100.0),
        Some(50.0),
        Some(101.0),
        Some(50.5),
        None,
        Some(51.0),
        Some(102.5),
        Some(50.8),
        Some(103.0),
        Some(51.2),
    ]));
    let batch = RecordBatch::try_from_iter([("sym", sym), ("ts", ts), ("px", px)])?;
    ctx.register_batch("ticks", batch)?;

    // A row-local program as the generic scalar function: arguments bind to x, a, b.
    ctx.sql("SELECT sym, ts, fusejit('ln(x) * a + b', px, 252.0, 0.5) AS scaled FROM ticks ORDER BY sym, ts")
        .await?
        .show()
        .await?;

    // A program with a lag, registered as a window function: per symbol, in time order.
    fusejit_datafusion::register_program(&ctx, "ann_ret", "dlog(px, 1) * 252")?;
    ctx.sql("SELECT sym, ts, ann_ret(px) OVER (PARTITION BY sym ORDER BY ts) AS ann_ret FROM ticks ORDER BY sym, ts")
        .await?
        .show()
        .await?;

    // The same, defined in SQL; and a program with two outputs, as a struct.
    ctx.sql("CREATE FUNCTION moves(px DOUBLE) LANGUAGE fusejit AS 'out up = diff(px, 1) > 0; cumsum(fill(diff(px, 1), 0))'")
        .await?;
    ctx.sql("SELECT sym, ts, moves(px) OVER (PARTITION BY sym ORDER BY ts) AS m FROM ticks ORDER BY sym, ts")
        .await?
        .show()
        .await?;

    // A mistake shows fusejit's diagnostic.
    let error = ctx.sql("SELECT fusejit('dlg(x, 1)', px) FROM ticks").await.unwrap_err();
    println!("{error}");
    Ok(())
}
