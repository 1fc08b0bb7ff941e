//! Data files for the command line and the REPL: CSV, Parquet and Arrow IPC (`.arrow`,
//! `.feather`, `.ipc`), in and out, chosen by extension or `--format`. Columns fusejit
//! cannot read are skipped, and named in an error only if the program reads them.

use super::csv_io::{self, LoadedColumn};
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrowPrimitiveType, BooleanArray, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use fusejit::{Column, ColumnValues};
use std::path::Path;
use std::sync::Arc;

/// A data file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row; an empty field is a null.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC file format (Feather v2).
    Ipc,
}

impl Format {
    /// `forced`, else the format `path`'s extension names: `.parquet`/`.pq`, `.arrow`,
    /// `.feather` or `.ipc`; any other (or none) is CSV, as before these formats existed.
    pub fn of(path: &Path, forced: Option<Format>) -> Format {
        if let Some(format) = forced {
            return format;
        }
        let extension = path.extension().and_then(|extension| extension.to_str()).unwrap_or("");
        match extension.to_ascii_lowercase().as_str() {
            "parquet" | "pq" => Format::Parquet,
            "arrow" | "feather" | "ipc" => Format::Ipc,
            _ => Format::Csv,
        }
    }
}

/// A column left out of a load, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// The columns of one file: those fusejit reads, and those it skipped.
#[derive(Debug, Default)]
pub struct Loaded {
    pub columns: Vec<LoadedColumn>,
    pub skipped: Vec<Skipped>,
}

/// Reads `path` in `format`; `only`, when given, names the columns to read (each must exist).
pub fn load(path: &Path, format: Format, only: Option<&[String]>) -> Result<Loaded, String> {
    let shown = path.display();
    let mut loaded = match format {
        Format::Csv => csv_io::load_csv(path)?,
        Format::Parquet => {
            let file = std::fs::File::open(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
            let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|error| format!("{shown}: {error}"))?;
            let schema = builder.schema().clone();
            let reader = builder.build().map_err(|error| format!("{shown}: {error}"))?;
            let batches: Vec<RecordBatch> =
                reader.collect::<Result<_, _>>().map_err(|error| format!("{shown}: {error}"))?;
            columns_of_batches(&schema, &batches)
        }
        Format::Ipc => {
            let file = std::fs::File::open(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
            let reader = arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)
                .map_err(|error| format!("{shown}: {error}"))?;
            let schema = reader.schema();
            let batches: Vec<RecordBatch> =
                reader.collect::<Result<_, _>>().map_err(|error| format!("{shown}: {error}"))?;
            columns_of_batches(&schema, &batches)
        }
    };
    if let Some(only) = only {
        for name in only {
            let known = loaded.columns.iter().any(|column| column.name == *name)
                || loaded.skipped.iter().any(|skipped| skipped.name == *name);
            if !known {
                return Err(format!("{shown}: no column '{name}' (--columns)"));
            }
        }
        loaded.columns.retain(|column| only.contains(&column.name));
        loaded.skipped.retain(|skipped| only.contains(&skipped.name));
    }
    Ok(loaded)
}

/// Every column of `batches` concatenated: f64, f32, i64, i32 and bool columns with their
/// nulls; the rest skipped with their Arrow type as the reason.
fn columns_of_batches(schema: &SchemaRef, batches: &[RecordBatch]) -> Loaded {
    let mut loaded = Loaded::default();
    for (index, field) in schema.fields().iter().enumerate() {
        let arrays: Vec<&dyn Array> = batches.iter().map(|batch| batch.column(index).as_ref()).collect();
        let values = match field.data_type() {
            DataType::Float64 => ColumnValues::F64(primitive_values::<Float64Type>(&arrays)),
            DataType::Float32 => ColumnValues::F32(primitive_values::<Float32Type>(&arrays)),
            DataType::Int64 => ColumnValues::I64(primitive_values::<Int64Type>(&arrays)),
            DataType::Int32 => ColumnValues::I32(primitive_values::<Int32Type>(&arrays)),
            DataType::Boolean => ColumnValues::Bool(
                arrays
                    .iter()
                    .filter_map(|array| array.as_any().downcast_ref::<BooleanArray>())
                    .flat_map(|array| array.values().iter())
                    .collect(),
            ),
            other => {
                let reason = format!("an Arrow {other} column; fusejit reads numbers and bools");
                loaded.skipped.push(Skipped { name: field.name().clone(), reason });
                continue;
            }
        };
        let column = if arrays.iter().all(|array| array.null_count() == 0) {
            Column { values, validity: None, null_count: 0 }
        } else {
            let valid = arrays.iter().flat_map(|array| (0..array.len()).map(|row| array.is_valid(row)));
            column_with_validity(values, valid)
        };
        loaded.columns.push(LoadedColumn { name: field.name().clone(), column });
    }
    loaded
}

/// The values of primitive arrays of type `T`, one after another.
fn primitive_values<T: ArrowPrimitiveType>(arrays: &[&dyn Array]) -> Vec<T::Native> {
    let mut values = Vec::with_capacity(arrays.iter().map(|array| array.len()).sum());
    for array in arrays {
        if let Some(array) = array.as_any().downcast_ref::<PrimitiveArray<T>>() {
            values.extend_from_slice(array.values());
        }
    }
    values
}

/// `values` as a column whose row `i` is valid where the `i`-th of `valid` is true; the
/// bitmap (LSB-first, from bit 0) kept only when some row is null.
pub fn column_with_validity(values: ColumnValues, valid: impl Iterator<Item = bool>) -> Column {
    let rows = values.len();
    let mut bits = arrow_buffer::BooleanBufferBuilder::new(rows);
    for valid in valid.take(rows) {
        bits.append(valid);
    }
    bits.append_n(rows - bits.len(), false);
    let null_count = rows
        - arrow_buffer::bit_chunk_iterator::UnalignedBitChunk::new(bits.as_slice(), 0, rows).count_ones();
    Column { values, validity: (null_count > 0).then(|| bits.as_slice().to_vec()), null_count }
}

/// Writes `outputs` to `path` in `format`: one column each; a one-row output (a reduction)
/// beside longer ones is repeated on every row in Parquet and IPC (CSV leaves its later
/// fields empty).
pub fn save(path: &Path, format: Format, outputs: Vec<(String, Column)>) -> Result<(), String> {
    let shown = path.display();
    let cannot = |error: &dyn std::fmt::Display| format!("cannot write {shown}: {error}");
    let file = std::fs::File::create(path).map_err(|error| cannot(&error))?;
    match format {
        Format::Csv => {
            let mut out = std::io::BufWriter::new(file);
            csv_io::write_columns(&mut out, &outputs)
                .and_then(|()| std::io::Write::flush(&mut out))
                .map_err(|error| cannot(&error))
        }
        Format::Parquet => {
            let batch = record_batch(outputs).map_err(|error| cannot(&error))?;
            let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
                .map_err(|error| cannot(&error))?;
            writer.write(&batch).map_err(|error| cannot(&error))?;
            writer.close().map(|_| ()).map_err(|error| cannot(&error))
        }
        Format::Ipc => {
            let batch = record_batch(outputs).map_err(|error| cannot(&error))?;
            let mut writer =
                arrow_ipc::writer::FileWriter::try_new(std::io::BufWriter::new(file), &batch.schema())
                    .map_err(|error| cannot(&error))?;
            writer.write(&batch).map_err(|error| cannot(&error))?;
            writer.finish().map_err(|error| cannot(&error))
        }
    }
}

/// The outputs as one record batch, one-row outputs repeated to the longest's length.
fn record_batch(outputs: Vec<(String, Column)>) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let rows = outputs.iter().map(|(_, column)| column.len()).max().unwrap_or(0);
    let mut fields = Vec::with_capacity(outputs.len());
    let mut arrays = Vec::with_capacity(outputs.len());
    for (name, column) in outputs {
        let column = if column.len() == 1 && rows != 1 {
            Column::from_options(column.elem(), &vec![column.get(0); rows])
        } else {
            column
        };
        let array = column.into_array();
        fields.push(arrow_schema::Field::new(name, array.data_type().clone(), array.null_count() > 0));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}
