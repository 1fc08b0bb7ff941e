//! Streaming evaluation for the command line: a row-local or lookback program runs over its
//! input batch by batch — the last `lookback` rows of each batch carried in front of the
//! next, so a lag or window at a batch edge reads the real rows before it — while a writer
//! thread writes the previous batch's results. Memory stays bounded whatever the file's size,
//! and the results are the bits a whole-file run gives.

use super::files::{BatchSource, Sink};
use arrow_array::RecordBatch;
use fusejit::{Bindings, Column, Error, Kernel, Scalar};
use std::sync::mpsc::sync_channel;

/// Results waiting for the writer: bounds memory while letting it run beside the evaluation.
const BATCHES_IN_FLIGHT: usize = 2;

/// Evaluates `kernel` over every batch of `source` (with `scalars` bound) and writes the
/// outputs to `sink`. `lookback` is how many rows before a row its outputs read
/// ([`fusejit::Dependence::Lookback`]). An error leaves the sink unfinished.
pub fn run(
    kernel: &Kernel,
    mut source: BatchSource,
    scalars: &[(String, Scalar)],
    lookback: usize,
    sink: Sink,
    render: &dyn Fn(Error) -> String,
) -> Result<(), String> {
    let (sender, receiver) = sync_channel::<(Vec<(String, Column)>, usize)>(BATCHES_IN_FLIGHT);
    let writer = std::thread::spawn(move || -> Result<(), String> {
        let mut sink = sink;
        for (outputs, skip) in receiver {
            sink.write(outputs, skip)?;
        }
        sink.finish()
    });
    let evaluated = (|| -> Result<(), String> {
        let schema = source.schema().clone();
        let mut history: Option<RecordBatch> = None;
        let mut first = true;
        loop {
            let batch = match source.next_batch()? {
                Some(batch) => batch,
                // An empty input still has a header (or schema) to write.
                None if first => RecordBatch::new_empty(schema.clone()),
                None => break,
            };
            first = false;
            let carried = history.as_ref().map_or(0, RecordBatch::num_rows);
            let input = match history.take() {
                Some(history) if carried > 0 => {
                    arrow_select::concat::concat_batches(&schema, [&history, &batch])
                        .map_err(|error| format!("joining batches: {error}"))?
                }
                _ => batch,
            };
            let mut bindings = Bindings::from_record_batch(&input);
            for (name, value) in scalars {
                bindings.scalar(name.clone(), *value);
            }
            let outputs = kernel.eval_outputs(&bindings).map_err(render)?;
            // The writer stopped (its error is reported when it is joined).
            if sender.send((outputs, carried)).is_err() {
                break;
            }
            let keep = lookback.min(input.num_rows());
            history = Some(input.slice(input.num_rows() - keep, keep));
        }
        source.progress.finish();
        Ok(())
    })();
    drop(sender);
    let written = writer.join().unwrap_or_else(|_| Err("the writer thread failed".to_string()));
    evaluated?;
    written
}
