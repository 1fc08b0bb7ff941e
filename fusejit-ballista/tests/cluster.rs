//! A Ballista cluster in this process (scheduler and executor on loopback), whose sessions
//! register no fusejit function: a client registers programs, runs scalar and window queries
//! over a Parquet dataset of several files, and gets what in-process DataFusion and fusejit's
//! interpreter give.

use ballista::prelude::SessionContextExt;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::utils::{default_config_producer, default_session_builder};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;

const SYMBOLS: i64 = 4;
const TICKS: i64 = 6_000;

/// Symbol `s`'s price at tick `t`, null at every 23rd tick.
fn price(s: i64, t: i64) -> Option<f64> {
    (t % 23 != 5)
        .then(|| 50.0 * (s + 1) as f64 + ((t * (s + 3)) % 101) as f64 * 0.07 + (t as f64 * 0.003).cos())
}

/// The ticks as Parquet files of about 3 000 rows each, symbols interleaved in time order.
fn write_dataset(dir: &std::path::Path) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("sym", DataType::Int64, false),
        Field::new("ts", DataType::Int64, false),
        Field::new("px", DataType::Float64, true),
    ]));
    let rows: Vec<(i64, i64)> = (0..TICKS).flat_map(|t| (0..SYMBOLS).map(move |s| (s, t))).collect();
    for (file, chunk) in rows.chunks(3_000).enumerate() {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(chunk.iter().map(|(s, _)| *s))),
            Arc::new(Int64Array::from_iter_values(chunk.iter().map(|(_, t)| *t))),
            Arc::new(Float64Array::from_iter(chunk.iter().map(|(s, t)| price(*s, *t)))),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let out = std::fs::File::create(dir.join(format!("ticks-{file:03}.parquet"))).unwrap();
        let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(out, schema.clone(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }
}

/// Starts a scheduler and an executor on loopback, both with fusejit's codecs and neither
/// with any fusejit function registered; returns the scheduler's port.
async fn start_cluster() -> u16 {
    let address = ballista_scheduler::standalone::new_standalone_scheduler_with_builder(
        Arc::new(default_session_builder),
        Arc::new(default_config_producer),
        fusejit_ballista::codec(),
    )
    .await
    .unwrap();
    assert!(address.ip().is_loopback(), "the scheduler listens on {address}");
    let url = format!("http://localhost:{}", address.port());
    let scheduler = loop {
        match SchedulerGrpcClient::connect(url.clone()).await {
            Ok(client) => break client,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    };
    ballista_executor::new_standalone_executor(scheduler, 2, fusejit_ballista::codec()).await.unwrap();
    address.port()
}

const PROGRAMS: [(&str, &str); 3] = [
    ("ann_ret", "dlog(px, 1) * 252"),
    ("vol", "mstd(dlog(px, 1), 20) * sqrt(252)"),
    ("scaled", "(px - base) * 2"),
];

const QUERY: &str = "SELECT sym, ts, \
        ann_ret(px) OVER (PARTITION BY sym ORDER BY ts) AS r, \
        vol(px) OVER (PARTITION BY sym ORDER BY ts) AS v, \
        scaled(px, 100.0) AS s, \
        fusejit('ln(x) * a', px, 252.0) AS l \
    FROM ticks ORDER BY sym, ts";

async fn run(ctx: &SessionContext, path: &str) -> RecordBatch {
    ctx.register_parquet("ticks", path, Default::default()).await.unwrap();
    for (name, program) in PROGRAMS {
        fusejit_datafusion::register_program(ctx, name, program).unwrap();
    }
    let batches = ctx.sql(QUERY).await.unwrap().collect().await.unwrap();
    concat_batches(&batches[0].schema(), &batches).unwrap()
}

fn column(batch: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let array = batch.column_by_name(name).unwrap();
    array.as_any().downcast_ref::<Float64Array>().unwrap().iter().collect()
}

/// fusejit's interpreter over symbol `s`'s prices in time order.
fn interpret(program: &str, s: i64) -> Vec<Option<f64>> {
    let prices: Vec<Option<fusejit::Scalar>> =
        (0..TICKS).map(|t| price(s, t).map(fusejit::Scalar::F64)).collect();
    let px = fusejit::Column::from_options(fusejit::Elem::F64, &prices);
    let mut bindings = fusejit::Bindings::new();
    bindings.bind("px", fusejit::Binding::Column(px.as_column_ref())).scalar("base", 100.0);
    let kernel = fusejit::Engine::new().compile(program).unwrap();
    let values = kernel.interpret(&bindings).unwrap().to_options();
    values
        .into_iter()
        .map(|value| match value {
            Some(fusejit::Scalar::F64(v)) => Some(v),
            None => None,
            Some(other) => panic!("{program} gave {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_loopback_cluster_runs_fusejit_functions_it_never_registered() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path());
    let path = dir.path().to_str().unwrap();
    assert!(std::fs::read_dir(dir.path()).unwrap().count() >= 8, "a multi-file dataset");

    let port = start_cluster().await;
    let remote = SessionContext::remote_with_state(
        &format!("df://localhost:{port}"),
        fusejit_ballista::client_state(),
    )
    .await
    .unwrap();
    let remote = fusejit_datafusion::with_fusejit(remote);
    let distributed = run(&remote, path).await;

    let local = fusejit_datafusion::with_fusejit(SessionContext::new_with_config(SessionConfig::new()));
    let in_process = run(&local, path).await;

    assert_eq!(distributed.num_rows(), (SYMBOLS * TICKS) as usize);
    assert_eq!(distributed.columns(), in_process.columns(), "Ballista against in-process DataFusion");

    // Against the interpreter, symbol by symbol: rows are ordered by (sym, ts).
    let per_symbol = TICKS as usize;
    for (name, program) in
        [("r", PROGRAMS[0].1), ("v", PROGRAMS[1].1), ("s", PROGRAMS[2].1), ("l", "ln(px) * 252")]
    {
        let values = column(&distributed, name);
        for s in 0..SYMBOLS {
            let rows = &values[s as usize * per_symbol..(s as usize + 1) * per_symbol];
            let expected = interpret(program, s);
            for (t, (actual, expected)) in rows.iter().zip(&expected).enumerate() {
                assert_eq!(
                    actual.map(f64::to_bits),
                    expected.map(f64::to_bits),
                    "{name}: symbol {s}, tick {t}"
                );
            }
        }
    }
    // Nulls made it through: the first tick of every symbol and every 23rd price.
    let r = column(&distributed, "r");
    assert!(r.iter().filter(|value| value.is_none()).count() >= (SYMBOLS * TICKS / 23) as usize);

    // A planning error from the cluster carries the diagnostic.
    let error = remote.sql("SELECT fusejit('dlg(x, 1)', px) FROM ticks").await.unwrap_err().to_string();
    assert!(error.contains("did you mean 'dlog'?"), "{error}");
}

/// A child process killed when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn spawn(binary: &str, args: &[String]) -> Child {
    let child = std::process::Command::new(binary)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    Child(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scheduler_and_executor_binaries_form_a_cluster() {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path());
    let path = dir.path().to_str().unwrap();
    let (scheduler_port, flight_port, grpc_port) = (free_port(), free_port(), free_port());
    let _scheduler = spawn(
        env!("CARGO_BIN_EXE_fusejit-scheduler"),
        &["--bind".to_string(), format!("127.0.0.1:{scheduler_port}")],
    );
    let _executor = spawn(
        env!("CARGO_BIN_EXE_fusejit-executor"),
        &[
            "--bind".to_string(),
            "127.0.0.1".to_string(),
            "--port".to_string(),
            flight_port.to_string(),
            "--grpc-port".to_string(),
            grpc_port.to_string(),
            "--scheduler".to_string(),
            format!("127.0.0.1:{scheduler_port}"),
        ],
    );
    let local = fusejit_datafusion::with_fusejit(SessionContext::new_with_config(SessionConfig::new()));
    let expected = run(&local, path).await;
    // The processes take a moment to start and to register: retry until the query runs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let distributed = loop {
        let attempt = async || -> datafusion::common::Result<RecordBatch> {
            let state = fusejit_ballista::client_state();
            let remote =
                SessionContext::remote_with_state(&format!("df://127.0.0.1:{scheduler_port}"), state).await?;
            let remote = fusejit_datafusion::with_fusejit(remote);
            remote.register_parquet("ticks", path, Default::default()).await?;
            for (name, program) in PROGRAMS {
                fusejit_datafusion::register_program(&remote, name, program)?;
            }
            let batches = remote.sql(QUERY).await?.collect().await?;
            Ok(concat_batches(&batches[0].schema(), &batches)?)
        };
        match attempt().await {
            Ok(batch) => break batch,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            Err(error) => panic!("the cluster of binaries did not answer in 60 s: {error}"),
        }
    };
    assert_eq!(distributed.columns(), expected.columns());
}
