//! Arrow in and out without copies (cargo feature `arrow`, on by default): arrow-rs arrays and
//! record batches bind as columns — values and validity borrowed as they are, sliced arrays
//! included — and results come back as Arrow arrays whose buffers are the result's own.
//!
//! Architecture Invariant: only this file names arrow-rs types; the engine sees
//! [`ColumnData`] and [`Validity`], which an Arrow buffer fits without conversion.

use crate::bindings::Bindings;
use crate::check::Schema;
use crate::column::{Binding, Column, ColumnData, ColumnRef, ColumnValues, PackedBools, Validity};
use crate::engine::{Kernel, OutputType};
use crate::error::{Error, EvalError};
use crate::types::{Elem, Type};
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, PrimitiveArray, RecordBatch};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema as ArrowSchema};
use std::sync::Arc;

/// The values of a primitive array as the slice it covers (its offset applied).
fn primitive_values<T: arrow_array::ArrowPrimitiveType>(array: &dyn Array) -> Option<&[T::Native]> {
    array.as_any().downcast_ref::<PrimitiveArray<T>>().map(|array| &array.values()[..])
}

/// `array` as fusejit's borrowed column, or the error naming its type.
fn column_of<'a>(name: &str, array: &'a dyn Array) -> Result<ColumnRef<'a>, EvalError> {
    let unsupported = || EvalError::UnsupportedArrowType {
        name: name.to_string(),
        data_type: array.data_type().to_string(),
    };
    let data = match array.data_type() {
        DataType::Float64 => ColumnData::F64(primitive_values::<Float64Type>(array).ok_or_else(unsupported)?),
        DataType::Float32 => ColumnData::F32(primitive_values::<Float32Type>(array).ok_or_else(unsupported)?),
        DataType::Int64 => ColumnData::I64(primitive_values::<Int64Type>(array).ok_or_else(unsupported)?),
        DataType::Int32 => ColumnData::I32(primitive_values::<Int32Type>(array).ok_or_else(unsupported)?),
        DataType::Boolean => {
            let bits = array.as_any().downcast_ref::<BooleanArray>().ok_or_else(unsupported)?.values();
            // An Arrow array's buffer always covers its offset and length.
            let packed =
                PackedBools::new(bits.values(), bits.offset(), bits.len()).ok_or_else(unsupported)?;
            ColumnData::PackedBool(packed)
        }
        _ => return Err(unsupported()),
    };
    // An all-valid null buffer is dropped: the kernel for columns without validity is faster.
    let validity = array
        .nulls()
        .filter(|nulls| nulls.null_count() > 0)
        .map(|nulls| Validity::new(nulls.inner().values(), nulls.inner().offset()));
    Ok(ColumnRef { data, validity })
}

impl<'a> Bindings<'a> {
    /// Binds an Arrow array as column `name` without copying: its values and its validity
    /// (with the array's offset, so a slice binds as it is). `Float64`, `Float32`, `Int64`,
    /// `Int32` and `Boolean` arrays (bit-packed, read bit by bit by the kernel); any other type
    /// is an error naming it.
    ///
    /// ```
    /// use arrow_array::Float64Array;
    /// let px = Float64Array::from(vec![Some(100.0), None, Some(101.0), Some(99.0)]);
    /// let sliced = px.slice(1, 3);
    /// let mut bindings = fusejit::Bindings::new();
    /// bindings.bind_array("px", &sliced).unwrap();
    /// let result = fusejit::Engine::new().compile("px * 2").unwrap().eval(&bindings).unwrap();
    /// assert_eq!(result.to_options()[..2], [None, Some(fusejit::Scalar::F64(202.0))]);
    /// ```
    pub fn bind_array(
        &mut self,
        name: impl Into<std::borrow::Cow<'a, str>>,
        array: &'a dyn Array,
    ) -> Result<&mut Self, EvalError> {
        let name = name.into();
        let column = column_of(&name, array)?;
        Ok(self.bind(name, Binding::Column(column)))
    }

    /// Binds every column of `batch` by its field name, without copying. A column of a type
    /// fusejit does not read is left unbound, and a program that reads it gets an error
    /// naming the type (a batch may carry a string key beside the numbers a program uses).
    pub fn from_record_batch(batch: &'a RecordBatch) -> Bindings<'a> {
        let mut bindings = Bindings::with_capacity(batch.num_columns());
        for (field, array) in batch.schema_ref().fields().iter().zip(batch.columns()) {
            match column_of(field.name(), array.as_ref()) {
                Ok(column) => {
                    bindings.bind(field.name().as_str(), Binding::Column(column));
                }
                Err(_) => bindings.unsupported.push((field.name().clone(), array.data_type().to_string())),
            }
        }
        bindings
    }
}

impl Column {
    /// The column as an Arrow array, taking over its buffers: the values `Vec` becomes the
    /// array's buffer without a copy, and the validity becomes a [`NullBuffer`] only when
    /// there is a null. Booleans are bit-packed, as Arrow stores them.
    ///
    /// ```
    /// use arrow_array::{Array, Float64Array};
    /// let x = [1.0, 4.0];
    /// let mut bindings = fusejit::Bindings::new();
    /// bindings.column("x", &x[..]);
    /// let result = fusejit::Engine::new().compile("sqrt(x)").unwrap().eval(&bindings).unwrap();
    /// let array = result.into_array();
    /// let array = array.as_any().downcast_ref::<Float64Array>().unwrap();
    /// assert_eq!(array.values().to_vec(), [1.0, 2.0]);
    /// assert_eq!(array.null_count(), 0);
    /// ```
    pub fn into_array(self) -> ArrayRef {
        let rows = self.len();
        let nulls = match self.validity {
            Some(bytes) if self.null_count > 0 => {
                Some(NullBuffer::new(BooleanBuffer::new(Buffer::from_vec(bytes), 0, rows)))
            }
            _ => None,
        };
        match self.values {
            ColumnValues::F64(values) => {
                Arc::new(PrimitiveArray::<Float64Type>::new(ScalarBuffer::from(values), nulls))
            }
            ColumnValues::F32(values) => {
                Arc::new(PrimitiveArray::<Float32Type>::new(ScalarBuffer::from(values), nulls))
            }
            ColumnValues::I64(values) => {
                Arc::new(PrimitiveArray::<Int64Type>::new(ScalarBuffer::from(values), nulls))
            }
            ColumnValues::I32(values) => {
                Arc::new(PrimitiveArray::<Int32Type>::new(ScalarBuffer::from(values), nulls))
            }
            ColumnValues::Bool(values) => {
                let bits = BooleanBuffer::new(Buffer::from_vec(pack_bools(&values)), 0, rows);
                Arc::new(BooleanArray::new(bits, nulls))
            }
        }
    }
}

/// `values` packed one bit per row, LSB-first: eight rows per multiply (each bool is one
/// byte, 0 or 1; the multiply gathers the eight low bits into the top byte).
fn pack_bools(values: &[bool]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(values.len().div_ceil(8));
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        let word =
            chunk.iter().enumerate().fold(0u64, |word, (i, &value)| word | u64::from(value) << (8 * i));
        bytes.push(crate::types::pack_low_bits(word));
    }
    if !rest.is_empty() {
        bytes.push(rest.iter().enumerate().fold(0u8, |byte, (i, &value)| byte | u8::from(value) << i));
    }
    bytes
}

impl Elem {
    /// The element type of an Arrow type fusejit reads (`Float64`, `Float32`, `Int64`,
    /// `Int32`, `Boolean`); `None` for any other.
    ///
    /// ```
    /// use arrow_schema::DataType;
    /// assert_eq!(fusejit::Elem::from_arrow(&DataType::Int32), Some(fusejit::Elem::I32));
    /// assert_eq!(fusejit::Elem::from_arrow(&DataType::Utf8), None);
    /// ```
    pub fn from_arrow(data_type: &DataType) -> Option<Elem> {
        match data_type {
            DataType::Float64 => Some(Elem::F64),
            DataType::Float32 => Some(Elem::F32),
            DataType::Int64 => Some(Elem::I64),
            DataType::Int32 => Some(Elem::I32),
            DataType::Boolean => Some(Elem::Bool),
            _ => None,
        }
    }

    /// The Arrow type of a column of this element type.
    pub fn arrow_type(self) -> DataType {
        match self {
            Elem::F64 => DataType::Float64,
            Elem::F32 => DataType::Float32,
            Elem::I64 => DataType::Int64,
            Elem::I32 => DataType::Int32,
            Elem::Bool => DataType::Boolean,
        }
    }
}

impl Kernel {
    /// The Arrow field of each output (each `out` statement, then `result`) that
    /// [`Kernel::eval_batch`] returns for batches of `schema`, known before any data exists:
    /// inputs are `schema`'s fields by name, nullable as the fields say. A field of a type
    /// fusejit does not read is an error only if the program reads it.
    ///
    /// ```
    /// use arrow_schema::{DataType, Field, Schema};
    /// let schema = Schema::new(vec![
    ///     Field::new("sym", DataType::Utf8, false),
    ///     Field::new("px", DataType::Float64, false),
    /// ]);
    /// let kernel = fusejit::Engine::new().compile("px * 2 > 100").unwrap();
    /// let fields = kernel.output_fields(&schema).unwrap();
    /// assert_eq!(fields, [Field::new("result", DataType::Boolean, false)]);
    /// ```
    pub fn output_fields(&self, schema: &ArrowSchema) -> Result<Vec<Field>, Error> {
        let mut types = Schema::new();
        let mut nullable: Vec<&str> = Vec::new();
        for field in schema.fields() {
            match Elem::from_arrow(field.data_type()) {
                Some(elem) => {
                    types.insert(field.name().clone(), Type::column(elem));
                    if field.is_nullable() {
                        nullable.push(field.name());
                    }
                }
                None if self.input_names().contains(field.name()) => {
                    let data_type = field.data_type().to_string();
                    return Err(
                        EvalError::UnsupportedArrowType { name: field.name().clone(), data_type }.into()
                    );
                }
                None => {}
            }
        }
        Ok(self.output_types(&types, &nullable)?.into_iter().map(field_of).collect())
    }

    /// Evaluates on the columns of `batch` (bound by name, without copying) and returns one
    /// column per output — each `out` statement, then `result` — as a record batch whose
    /// schema is [`Kernel::output_fields`]. A scalar output (a reduction) is repeated on every
    /// row, as a query engine's projection would.
    ///
    /// ```
    /// use arrow_array::{Float64Array, RecordBatch};
    /// use std::sync::Arc;
    /// let px = Arc::new(Float64Array::from(vec![100.0, 110.0, 99.0]));
    /// let batch = RecordBatch::try_from_iter([("px", px as _)]).unwrap();
    /// let kernel = fusejit::Engine::new().compile("out m = max(px); px / lag(px, 1) - 1").unwrap();
    /// let out = kernel.eval_batch(&batch).unwrap();
    /// assert_eq!(out.schema().field(0).name(), "m");
    /// assert_eq!(out.schema().field(1).name(), "result");
    /// assert_eq!(out.num_rows(), 3);
    /// ```
    pub fn eval_batch(&self, batch: &RecordBatch) -> Result<RecordBatch, Error> {
        let bindings = Bindings::from_record_batch(batch);
        let schema = batch.schema_ref();
        let nullable: Vec<&str> = schema
            .fields()
            .iter()
            .filter(|field| field.is_nullable())
            .map(|field| field.name().as_str())
            .collect();
        // The types come from the program the evaluation compiled: no second lowering per batch.
        let outputs = self.eval_outputs_typed(&bindings, &nullable)?;
        let rows = batch.num_rows();
        let mut fields = Vec::with_capacity(outputs.len());
        let mut columns = Vec::with_capacity(outputs.len());
        for (output, column) in outputs {
            let column = if column.len() == 1 && rows != 1 { broadcast(&column, rows) } else { column };
            fields.push(field_of(output));
            columns.push(column.into_array());
        }
        RecordBatch::try_new(Arc::new(ArrowSchema::new(fields)), columns).map_err(|error| {
            EvalError::Internal { message: format!("building the result batch: {error}") }.into()
        })
    }
}

/// The Arrow field of an output.
fn field_of(output: OutputType) -> Field {
    Field::new(output.name, output.ty.elem.arrow_type(), output.nullable)
}

/// A one-row column repeated `rows` times.
fn broadcast(column: &Column, rows: usize) -> Column {
    Column::from_options(column.elem(), &vec![column.get(0); rows])
}

#[cfg(test)]
mod tests {
    #[test]
    fn bools_pack_lsb_first_eight_at_a_time() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for len in [0usize, 1, 7, 8, 9, 63, 64, 65, 1000] {
            let values: Vec<bool> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state & 1 == 1
                })
                .collect();
            let packed = super::pack_bools(&values);
            assert_eq!(packed.len(), len.div_ceil(8));
            for (row, &value) in values.iter().enumerate() {
                assert_eq!(packed[row / 8] >> (row % 8) & 1 == 1, value, "len {len} row {row}");
            }
        }
    }
}
