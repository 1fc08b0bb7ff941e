//! Data files for the command line and the REPL: CSV, Parquet and Arrow IPC (`.arrow`,
//! `.feather`, `.ipc`), in and out, chosen by extension or `--format`, read whole or batch
//! by batch. Columns fusejit cannot read are skipped, and named in an error only if the
//! program reads them.

use super::csv_read::CsvChunks;
use super::csv_write;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrowPrimitiveType, BooleanArray, PrimitiveArray, RecordBatch, RecordBatchReader};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use fusejit::{Column, ColumnValues, Elem};
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

/// One column read from a data file, owned so that bindings can borrow it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedColumn {
    pub name: String,
    pub column: Column,
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

/// How many rows a Parquet or IPC batch holds when streaming.
const BATCH_ROWS: usize = 1 << 16;

/// An input file opened for reading: its readable columns and their types are known, and
/// its rows come whole ([`BatchSource::read_all`]) or batch by batch.
pub struct BatchSource {
    /// The readable columns (name, type), in file order.
    pub columns: Vec<(String, Elem)>,
    /// The columns left out, and why.
    pub skipped: Vec<Skipped>,
    /// The schema of the batches [`BatchSource::next_batch`] returns.
    schema: SchemaRef,
    rows: Rows,
    /// Shows progress on a terminal for a large file.
    pub progress: super::progress::Progress,
}

enum Rows {
    Csv(CsvChunks),
    Parquet(parquet::arrow::arrow_reader::ParquetRecordBatchReader),
    Ipc(arrow_ipc::reader::FileReader<std::io::BufReader<std::fs::File>>),
}

/// Opens `path` in `format`. `only`, when given, names the columns to read (each must exist);
/// `needed`, when given, the columns whose rows will be asked for (CSV parses no other
/// column past its first chunk, Parquet and IPC decode no other): the others are only
/// checked for a notice.
pub fn open(
    path: &Path,
    format: Format,
    only: Option<&[String]>,
    needed: Option<&[String]>,
) -> Result<BatchSource, String> {
    let shown = path.display();
    let progress = super::progress::Progress::for_file(path);
    match format {
        Format::Csv => {
            let chunks = CsvChunks::open(path, only, needed)?;
            let (columns, skipped) = chunks.first_types();
            let fields: Vec<Field> =
                columns.iter().map(|(name, elem)| Field::new(name, elem.arrow_type(), true)).collect();
            Ok(BatchSource {
                columns,
                skipped,
                schema: Arc::new(Schema::new(fields)),
                rows: Rows::Csv(chunks),
                progress,
            })
        }
        Format::Parquet => {
            let file = std::fs::File::open(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
            let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|error| format!("{shown}: {error}"))?;
            let (keep, columns, skipped) = select(path, builder.schema(), only, needed)?;
            let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), keep);
            let reader = builder
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|error| format!("{shown}: {error}"))?;
            let schema = reader.schema();
            Ok(BatchSource { columns, skipped, schema, rows: Rows::Parquet(reader), progress })
        }
        Format::Ipc => {
            let file = std::fs::File::open(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
            let reader = arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)
                .map_err(|error| format!("{shown}: {error}"))?;
            let (keep, columns, skipped) = select(path, &reader.schema(), only, needed)?;
            let file = std::fs::File::open(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
            let schema =
                Arc::new(reader.schema().project(&keep).map_err(|error| format!("{shown}: {error}"))?);
            let reader = arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), Some(keep))
                .map_err(|error| format!("{shown}: {error}"))?;
            Ok(BatchSource { columns, skipped, schema, rows: Rows::Ipc(reader), progress })
        }
    }
}

/// The fields to decode (their indices), the readable ones with their types, the skipped.
type Selection = (Vec<usize>, Vec<(String, Elem)>, Vec<Skipped>);

/// Which fields of `schema` to decode (their indices), the readable ones with their types,
/// and the skipped ones: `only` and `needed` as [`open`] takes them.
fn select(
    path: &Path,
    schema: &Schema,
    only: Option<&[String]>,
    needed: Option<&[String]>,
) -> Result<Selection, String> {
    if let Some(only) = only
        && let Some(missing) = only.iter().find(|name| schema.field_with_name(name).is_err())
    {
        return Err(format!("{}: no column '{missing}' (--columns)", path.display()));
    }
    let (mut keep, mut columns, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for (index, field) in schema.fields().iter().enumerate() {
        let name = field.name();
        if only.is_some_and(|only| !only.contains(name)) {
            continue;
        }
        match Elem::from_arrow(field.data_type()) {
            Some(elem) if needed.is_none_or(|needed| needed.contains(name)) => {
                keep.push(index);
                columns.push((name.clone(), elem));
            }
            Some(_) => {}
            None => {
                let reason =
                    format!("an Arrow {} column; fusejit reads numbers and bools", field.data_type());
                skipped.push(Skipped { name: name.clone(), reason });
            }
        }
    }
    Ok((keep, columns, skipped))
}

impl BatchSource {
    /// The schema of the batches [`BatchSource::next_batch`] returns.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The next batch of rows, `None` after the last.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>, String> {
        let batch = match &mut self.rows {
            Rows::Csv(chunks) => {
                let Some(loaded) = chunks.next_batch(&self.columns)? else { return Ok(None) };
                self.progress.set(chunks.bytes_read());
                let arrays = loaded.columns.into_iter().map(|column| column.column.into_array()).collect();
                RecordBatch::try_new(self.schema.clone(), arrays).map_err(|error| error.to_string())?
            }
            Rows::Parquet(reader) => match reader.next() {
                None => return Ok(None),
                Some(batch) => batch.map_err(|error| error.to_string())?,
            },
            Rows::Ipc(reader) => match reader.next() {
                None => return Ok(None),
                Some(batch) => batch.map_err(|error| error.to_string())?,
            },
        };
        if !matches!(self.rows, Rows::Csv(_)) {
            self.progress.advance(batch.get_array_memory_size() as u64);
        }
        Ok(Some(batch))
    }

    /// Every remaining row as whole columns (a CSV column's type is then what all its
    /// fields agree on).
    pub fn read_all(mut self) -> Result<Loaded, String> {
        if let Rows::Csv(chunks) = self.rows {
            let progress = self.progress;
            let mut loaded = chunks.read_all(&|bytes| progress.set(bytes))?;
            progress.finish();
            loaded.skipped.splice(0..0, self.skipped);
            return Ok(loaded);
        }
        let mut batches = Vec::new();
        while let Some(batch) = self.next_batch()? {
            batches.push(batch);
        }
        self.progress.finish();
        let mut loaded = columns_of_batches(&self.schema, &batches);
        loaded.skipped.splice(0..0, self.skipped);
        Ok(loaded)
    }
}

/// Reads `path` in `format` whole; `only`, when given, names the columns to read (each must
/// exist).
pub fn load(path: &Path, format: Format, only: Option<&[String]>) -> Result<Loaded, String> {
    open(path, format, only, None)?.read_all()
}

/// Every column of `batches` concatenated: f64, f32, i64, i32 and bool columns with their
/// nulls; the rest skipped with their Arrow type as the reason.
pub fn columns_of_batches(schema: &SchemaRef, batches: &[RecordBatch]) -> Loaded {
    let mut loaded = Loaded::default();
    for (index, field) in schema.fields().iter().enumerate() {
        let arrays: Vec<&dyn Array> = batches
            .iter()
            .filter_map(|batch| batch.columns().get(index))
            .map(|array| array.as_ref())
            .collect();
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

/// `values` as a column whose row `i` is valid where the `i`-th of `valid` is true (rows
/// past its end are null); the bitmap (LSB-first, from bit 0) kept only when some row is null.
pub fn column_with_validity(values: ColumnValues, valid: impl Iterator<Item = bool>) -> Column {
    let rows = values.len();
    let mut bits = arrow_buffer::BooleanBufferBuilder::new(rows);
    for valid in valid.take(rows) {
        bits.append(valid);
    }
    bits.append_n(rows - bits.len(), false);
    column_with_bitmap(values, bits.as_slice())
}

/// `values` with the validity bitmap `valid` (LSB-first from bit 0, at least one bit per
/// row), kept only when some row is null.
pub fn column_with_bitmap(values: ColumnValues, valid: &[u8]) -> Column {
    let rows = values.len();
    let set = arrow_buffer::bit_chunk_iterator::UnalignedBitChunk::new(valid, 0, rows).count_ones();
    let null_count = rows - set;
    Column { values, validity: (null_count > 0).then(|| valid[..rows.div_ceil(8)].to_vec()), null_count }
}

/// Writes `outputs` to `path` in `format`: one column each; a one-row output (a reduction)
/// beside longer ones is repeated on every row in Parquet and IPC (CSV leaves its later
/// fields empty).
pub fn save(path: &Path, format: Format, outputs: Vec<(String, Column)>) -> Result<(), String> {
    let mut sink = Sink::create(path, format)?;
    sink.write(outputs, 0)?;
    sink.finish()
}

/// An output file being written batch by batch.
pub enum Sink {
    Csv {
        out: Box<dyn std::io::Write + Send>,
        header: bool,
        shown: String,
    },
    Parquet {
        writer: Option<parquet::arrow::ArrowWriter<std::fs::File>>,
        file: Option<std::fs::File>,
        shown: String,
    },
    Ipc {
        writer: Option<arrow_ipc::writer::FileWriter<std::io::BufWriter<std::fs::File>>>,
        file: Option<std::fs::File>,
        shown: String,
    },
}

impl Sink {
    /// Creates `path` for writing `format`.
    pub fn create(path: &Path, format: Format) -> Result<Sink, String> {
        let shown = path.display().to_string();
        let file = std::fs::File::create(path).map_err(|error| format!("cannot write {shown}: {error}"))?;
        Ok(match format {
            Format::Csv => Sink::Csv {
                out: Box::new(std::io::BufWriter::with_capacity(1 << 20, file)),
                header: false,
                shown,
            },
            Format::Parquet => Sink::Parquet { writer: None, file: Some(file), shown },
            Format::Ipc => Sink::Ipc { writer: None, file: Some(file), shown },
        })
    }

    /// CSV on standard output.
    pub fn stdout() -> Sink {
        let out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
        Sink::Csv { out: Box::new(out), header: false, shown: "standard output".to_string() }
    }

    /// Appends rows `skip..` of `outputs` (the header or schema comes from the first call).
    pub fn write(&mut self, outputs: Vec<(String, Column)>, skip: usize) -> Result<(), String> {
        match self {
            Sink::Csv { out, header, shown } => {
                let cannot = |error: std::io::Error| format!("cannot write {shown}: {error}");
                if !*header {
                    let names: Vec<&str> = outputs.iter().map(|(name, _)| name.as_str()).collect();
                    csv_write::write_header(out, &names).map_err(cannot)?;
                    *header = true;
                }
                let columns: Vec<&Column> = outputs.iter().map(|(_, column)| column).collect();
                let rows = columns.iter().map(|column| column.len()).max().unwrap_or(0);
                csv_write::write_rows(out, &columns, skip.min(rows)..rows).map_err(cannot)
            }
            Sink::Parquet { writer, file, shown } => {
                let batch =
                    record_batch(outputs, skip).map_err(|error| format!("cannot write {shown}: {error}"))?;
                if writer.is_none() {
                    let file = file.take().ok_or_else(|| format!("cannot write {shown}: closed"))?;
                    let created = parquet::arrow::ArrowWriter::try_new(
                        file,
                        batch.schema(),
                        Some(parquet_properties(&batch.schema())),
                    )
                    .map_err(|error| format!("cannot write {shown}: {error}"))?;
                    *writer = Some(created);
                }
                let writer = writer.as_mut().ok_or_else(|| format!("cannot write {shown}: closed"))?;
                writer.write(&batch).map_err(|error| format!("cannot write {shown}: {error}"))
            }
            Sink::Ipc { writer, file, shown } => {
                let batch =
                    record_batch(outputs, skip).map_err(|error| format!("cannot write {shown}: {error}"))?;
                if writer.is_none() {
                    let file = file.take().ok_or_else(|| format!("cannot write {shown}: closed"))?;
                    let created = arrow_ipc::writer::FileWriter::try_new(
                        std::io::BufWriter::new(file),
                        &batch.schema(),
                    )
                    .map_err(|error| format!("cannot write {shown}: {error}"))?;
                    *writer = Some(created);
                }
                let writer = writer.as_mut().ok_or_else(|| format!("cannot write {shown}: closed"))?;
                writer.write(&batch).map_err(|error| format!("cannot write {shown}: {error}"))
            }
        }
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> Result<(), String> {
        match self {
            Sink::Csv { mut out, shown, .. } => out.flush().or_else(|error| {
                // A closed pipe (`fusejit ... | head`) is not an error of ours.
                if error.kind() == std::io::ErrorKind::BrokenPipe {
                    Ok(())
                } else {
                    Err(format!("cannot write {shown}: {error}"))
                }
            }),
            Sink::Parquet { writer, shown, .. } => match writer {
                Some(writer) => {
                    writer.close().map(|_| ()).map_err(|error| format!("cannot write {shown}: {error}"))
                }
                None => Ok(()),
            },
            Sink::Ipc { writer, shown, .. } => match writer {
                Some(mut writer) => writer.finish().map_err(|error| format!("cannot write {shown}: {error}")),
                None => Ok(()),
            },
        }
    }
}

/// Parquet writer settings: floats without dictionary encoding (results of arithmetic are
/// rarely repeated: the dictionary is built, found too large and dropped, at a cost), the
/// other columns with it.
fn parquet_properties(schema: &Schema) -> parquet::file::properties::WriterProperties {
    let mut properties = parquet::file::properties::WriterProperties::builder();
    for field in schema.fields() {
        if matches!(field.data_type(), DataType::Float64 | DataType::Float32) {
            let path = parquet::schema::types::ColumnPath::from(field.name().as_str());
            properties = properties.set_column_dictionary_enabled(path, false);
        }
    }
    properties.build()
}

/// Rows `skip..` of the outputs as one record batch, one-row outputs repeated to the
/// longest's length. Every field is nullable, so that batches of one stream share a schema.
fn record_batch(
    outputs: Vec<(String, Column)>,
    skip: usize,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
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
        let skip = skip.min(array.len());
        let array = array.slice(skip, array.len() - skip);
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}
