//! The data model shared by the engine, the interpreter and (later) native kernels: borrowed
//! input columns with Arrow-style validity, scalars, and owned result columns.

use crate::types::{Elem, Scalar, Type};

/// An Arrow validity bitmap: bit `offset + i` (LSB-first within each byte) is 1 when row `i` is
/// valid. Borrowed, so an Arrow slice's buffer can be passed as it is.
///
/// ```
/// let bits = [0b1111_1101u8]; // row 1 is null
/// let validity = fusejit::Validity::new(&bits, 0);
/// assert!(validity.is_valid(0) && !validity.is_valid(1));
/// assert_eq!(validity.capacity(), Some(8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity<'a> {
    /// The bitmap's bytes.
    pub bytes: &'a [u8],
    /// The bit of row 0 (an Arrow slice's offset).
    pub offset: usize,
}

impl<'a> Validity<'a> {
    /// The bitmap `bytes` with row 0 at bit `offset`.
    pub fn new(bytes: &'a [u8], offset: usize) -> Self {
        Validity { bytes, offset }
    }

    /// How many rows the bitmap covers; `None` when `offset` is absurdly large.
    pub fn capacity(&self) -> Option<usize> {
        self.bytes.len().checked_mul(8)?.checked_sub(self.offset)
    }

    /// Row `row`'s bit; `false` for a row the bitmap does not cover (past `capacity()`).
    pub fn is_valid(&self, row: usize) -> bool {
        bit_or_false(self.bytes, self.offset, row)
    }

    /// The bits of rows `row .. row + 64`, row `row + j` at bit `j`; 0 for rows the bitmap
    /// does not cover (as [`is_valid`](Self::is_valid) says `false`).
    pub(crate) fn word_at(&self, row: usize) -> u64 {
        let Some(bit) = self.offset.checked_add(row) else { return 0 };
        let first = bit / 8;
        let mut bytes = [0u8; 16];
        if let Some(tail) = self.bytes.get(first..) {
            let take = tail.len().min(9);
            bytes[..take].copy_from_slice(&tail[..take]);
        }
        (u128::from_le_bytes(bytes) >> (bit % 8)) as u64
    }
}

/// Bit `offset + row` of an LSB-first bitmap; `false` past its end (never a panic).
fn bit_or_false(bytes: &[u8], offset: usize, row: usize) -> bool {
    match offset.checked_add(row) {
        Some(bit) if bit / 8 < bytes.len() => arrow_buffer::bit_util::get_bit(bytes, bit),
        _ => false,
    }
}

/// Booleans packed one bit per row, LSB-first, as an Arrow `BooleanArray` holds its values:
/// row `i` is bit `offset + i`. Bound as it is (no expansion to one byte per row); the
/// native kernel reads the bits.
///
/// ```
/// let bits = [0b0000_0101u8]; // rows 0 and 2 are true
/// let flags = fusejit::PackedBools::new(&bits, 0, 3).unwrap();
/// assert_eq!((flags.get(0), flags.get(1), flags.get(2)), (Some(true), Some(false), Some(true)));
/// assert!(fusejit::PackedBools::new(&bits, 6, 3).is_none()); // 9 bits do not fit in one byte
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedBools<'a> {
    bytes: &'a [u8],
    offset: usize,
    len: usize,
}

impl<'a> PackedBools<'a> {
    /// `len` rows starting at bit `offset` of `bytes`; `None` when the bytes hold fewer than
    /// `offset + len` bits.
    pub fn new(bytes: &'a [u8], offset: usize, len: usize) -> Option<Self> {
        let end = offset.checked_add(len)?;
        (end.div_ceil(8) <= bytes.len()).then_some(PackedBools { bytes, offset, len })
    }

    /// The bitmap's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The bit of row 0.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Row `row`'s value, `None` past the end.
    pub fn get(&self, row: usize) -> Option<bool> {
        (row < self.len).then(|| bit_or_false(self.bytes, self.offset, row))
    }
}

/// Borrowed column values of one element type.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ColumnData<'a> {
    /// 64-bit floats.
    F64(&'a [f64]),
    /// 32-bit floats.
    F32(&'a [f32]),
    /// 64-bit integers.
    I64(&'a [i64]),
    /// 32-bit integers.
    I32(&'a [i32]),
    /// Booleans, one byte each.
    Bool(&'a [bool]),
    /// Booleans, one bit each (an Arrow `BooleanArray`'s values).
    PackedBool(PackedBools<'a>),
}

impl ColumnData<'_> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::F64(values) => values.len(),
            ColumnData::F32(values) => values.len(),
            ColumnData::I64(values) => values.len(),
            ColumnData::I32(values) => values.len(),
            ColumnData::Bool(values) => values.len(),
            ColumnData::PackedBool(bits) => bits.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type (both bool forms are `bool`).
    pub fn elem(&self) -> Elem {
        match self {
            ColumnData::F64(_) => Elem::F64,
            ColumnData::F32(_) => Elem::F32,
            ColumnData::I64(_) => Elem::I64,
            ColumnData::I32(_) => Elem::I32,
            ColumnData::Bool(_) | ColumnData::PackedBool(_) => Elem::Bool,
        }
    }

    /// Whether the values are bools packed one bit per row.
    pub fn is_bit_packed(&self) -> bool {
        matches!(self, ColumnData::PackedBool(_))
    }

    /// Row `row`'s value. Panics when `row >= len()`, as slice indexing does.
    pub fn get(&self, row: usize) -> Scalar {
        match self {
            ColumnData::F64(values) => Scalar::F64(values[row]),
            ColumnData::F32(values) => Scalar::F32(values[row]),
            ColumnData::I64(values) => Scalar::I64(values[row]),
            ColumnData::I32(values) => Scalar::I32(values[row]),
            ColumnData::Bool(values) => Scalar::Bool(values[row]),
            ColumnData::PackedBool(bits) => {
                Scalar::Bool(bits.get(row).expect("row within the packed bools, as slice indexing"))
            }
        }
    }
}

impl<'a> From<PackedBools<'a>> for ColumnData<'a> {
    fn from(bits: PackedBools<'a>) -> Self {
        ColumnData::PackedBool(bits)
    }
}

impl<'a> From<&'a [f64]> for ColumnData<'a> {
    fn from(values: &'a [f64]) -> Self {
        ColumnData::F64(values)
    }
}

impl<'a> From<&'a [f32]> for ColumnData<'a> {
    fn from(values: &'a [f32]) -> Self {
        ColumnData::F32(values)
    }
}

impl<'a> From<&'a [i64]> for ColumnData<'a> {
    fn from(values: &'a [i64]) -> Self {
        ColumnData::I64(values)
    }
}

impl<'a> From<&'a [i32]> for ColumnData<'a> {
    fn from(values: &'a [i32]) -> Self {
        ColumnData::I32(values)
    }
}

impl<'a> From<&'a [bool]> for ColumnData<'a> {
    fn from(values: &'a [bool]) -> Self {
        ColumnData::Bool(values)
    }
}

impl<'a> From<&'a Vec<f64>> for ColumnData<'a> {
    fn from(values: &'a Vec<f64>) -> Self {
        ColumnData::F64(values)
    }
}

impl<'a> From<&'a Vec<f32>> for ColumnData<'a> {
    fn from(values: &'a Vec<f32>) -> Self {
        ColumnData::F32(values)
    }
}

impl<'a> From<&'a Vec<i64>> for ColumnData<'a> {
    fn from(values: &'a Vec<i64>) -> Self {
        ColumnData::I64(values)
    }
}

impl<'a> From<&'a Vec<i32>> for ColumnData<'a> {
    fn from(values: &'a Vec<i32>) -> Self {
        ColumnData::I32(values)
    }
}

impl<'a> From<&'a Vec<bool>> for ColumnData<'a> {
    fn from(values: &'a Vec<bool>) -> Self {
        ColumnData::Bool(values)
    }
}

/// A borrowed input column: values and an optional validity bitmap (absent = all valid).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnRef<'a> {
    /// The values.
    pub data: ColumnData<'a>,
    /// Which rows are valid; `None` when every row is.
    pub validity: Option<Validity<'a>>,
}

impl ColumnRef<'_> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `row`, or `None` when it is null. The engine has checked lengths and bitmap sizes.
    pub fn get(&self, row: usize) -> Option<Scalar> {
        match self.validity {
            Some(validity) if !validity.is_valid(row) => None,
            _ => Some(self.data.get(row)),
        }
    }
}

/// What a name is bound to for one evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Binding<'a> {
    /// A column: one value per row.
    Column(ColumnRef<'a>),
    /// One value for every row.
    Scalar(Scalar),
    /// A scalar of this element type that is null (SQL's typed `NULL`): every row reading it
    /// is null, as the language's null propagation says.
    NullScalar(Elem),
}

impl Binding<'_> {
    /// The type a program sees for this binding: a column or a scalar of its element type.
    pub fn ty(&self) -> Type {
        match self {
            Binding::Column(column) => Type::column(column.data.elem()),
            Binding::Scalar(scalar) => Type::scalar(scalar.elem()),
            Binding::NullScalar(elem) => Type::scalar(*elem),
        }
    }
}

/// Owned result values.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ColumnValues {
    /// 64-bit floats.
    F64(Vec<f64>),
    /// 32-bit floats.
    F32(Vec<f32>),
    /// 64-bit integers.
    I64(Vec<i64>),
    /// 32-bit integers.
    I32(Vec<i32>),
    /// Booleans.
    Bool(Vec<bool>),
}

impl ColumnValues {
    /// `rows` zeros (`false` for bools) of element type `elem`: room for a result of that
    /// type, which `Kernel::eval_into` writes through `ValuesMut::from(&mut values)`.
    pub fn zeroed(elem: Elem, rows: usize) -> ColumnValues {
        match elem {
            Elem::F64 => ColumnValues::F64(vec![0.0; rows]),
            Elem::F32 => ColumnValues::F32(vec![0.0; rows]),
            Elem::I64 => ColumnValues::I64(vec![0; rows]),
            Elem::I32 => ColumnValues::I32(vec![0; rows]),
            Elem::Bool => ColumnValues::Bool(vec![false; rows]),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::F64(values) => values.len(),
            ColumnValues::F32(values) => values.len(),
            ColumnValues::I64(values) => values.len(),
            ColumnValues::I32(values) => values.len(),
            ColumnValues::Bool(values) => values.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A borrowed view of the values, bindable as an input column.
    pub fn as_data(&self) -> ColumnData<'_> {
        match self {
            ColumnValues::F64(values) => ColumnData::F64(values),
            ColumnValues::F32(values) => ColumnData::F32(values),
            ColumnValues::I64(values) => ColumnData::I64(values),
            ColumnValues::I32(values) => ColumnData::I32(values),
            ColumnValues::Bool(values) => ColumnData::Bool(values),
        }
    }

    /// Row `row`'s value, or `None` past the end (validity is the column's business).
    pub fn get(&self, row: usize) -> Option<Scalar> {
        match self {
            ColumnValues::F64(values) => values.get(row).map(|v| Scalar::F64(*v)),
            ColumnValues::F32(values) => values.get(row).map(|v| Scalar::F32(*v)),
            ColumnValues::I64(values) => values.get(row).map(|v| Scalar::I64(*v)),
            ColumnValues::I32(values) => values.get(row).map(|v| Scalar::I32(*v)),
            ColumnValues::Bool(values) => values.get(row).map(|v| Scalar::Bool(*v)),
        }
    }

    /// The element type.
    pub fn elem(&self) -> Elem {
        match self {
            ColumnValues::F64(_) => Elem::F64,
            ColumnValues::F32(_) => Elem::F32,
            ColumnValues::I64(_) => Elem::I64,
            ColumnValues::I32(_) => Elem::I32,
            ColumnValues::Bool(_) => Elem::Bool,
        }
    }
}

/// An owned result column: values, an optional validity bitmap (offset 0, LSB-first; absent
/// means every row is valid) and the number of nulls. Values under null rows are unspecified.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The values, one per row.
    pub values: ColumnValues,
    /// The validity bitmap; `None` when no row is null.
    pub validity: Option<Vec<u8>>,
    /// How many rows are null.
    pub null_count: usize,
}

impl Column {
    /// Builds a column from per-row optional values of one element type; the validity bitmap is
    /// kept only when there is a null. Nulls store a zero (or `false`) value.
    pub fn from_options(elem: Elem, rows: &[Option<Scalar>]) -> Column {
        let null_count = rows.iter().filter(|row| row.is_none()).count();
        let validity = (null_count > 0).then(|| {
            let mut bits = arrow_buffer::BooleanBufferBuilder::new(rows.len());
            for row in rows {
                bits.append(row.is_some());
            }
            bits.as_slice().to_vec()
        });
        let values = match elem {
            Elem::F64 => ColumnValues::F64(
                rows.iter().map(|row| if let Some(Scalar::F64(v)) = row { *v } else { 0.0 }).collect(),
            ),
            Elem::F32 => ColumnValues::F32(
                rows.iter().map(|row| if let Some(Scalar::F32(v)) = row { *v } else { 0.0 }).collect(),
            ),
            Elem::I64 => ColumnValues::I64(
                rows.iter().map(|row| if let Some(Scalar::I64(v)) = row { *v } else { 0 }).collect(),
            ),
            Elem::I32 => ColumnValues::I32(
                rows.iter().map(|row| if let Some(Scalar::I32(v)) = row { *v } else { 0 }).collect(),
            ),
            Elem::Bool => {
                ColumnValues::Bool(rows.iter().map(|row| matches!(row, Some(Scalar::Bool(true)))).collect())
            }
        };
        Column { values, validity, null_count }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The element type.
    pub fn elem(&self) -> Elem {
        self.values.elem()
    }

    /// Whether row `row` exists and is not null (a bitmap too short for the row says null).
    pub fn is_valid(&self, row: usize) -> bool {
        match &self.validity {
            None => row < self.len(),
            Some(bytes) => row < self.len() && bit_or_false(bytes, 0, row),
        }
    }

    /// A borrowed view, bindable as an input.
    pub fn as_column_ref(&self) -> ColumnRef<'_> {
        ColumnRef {
            data: self.values.as_data(),
            validity: self.validity.as_deref().map(|bytes| Validity::new(bytes, 0)),
        }
    }

    /// Row `row` as an optional scalar (`None` for a null or out of range).
    pub fn get(&self, row: usize) -> Option<Scalar> {
        if !self.is_valid(row) {
            return None;
        }
        self.values.get(row)
    }

    /// All rows as optional scalars: convenient for tests and printing.
    pub fn to_options(&self) -> Vec<Option<Scalar>> {
        (0..self.len()).map(|row| self.get(row)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Validity;

    /// `word_at` is 64 `is_valid` bits, at every offset and row, past the end included.
    #[test]
    fn validity_words_are_the_rows_bits() {
        let bytes: Vec<u8> = (0..20u32).map(|i| (i.wrapping_mul(0x9d) ^ 0x5a) as u8).collect();
        for offset in [0usize, 1, 7, 8, 13] {
            let validity = Validity::new(&bytes, offset);
            for row in [0usize, 1, 5, 63, 64, 70, 100, 150, 159, 160, 200, usize::MAX - 3] {
                let expected = (0..64)
                    .fold(0u64, |word, j| word | (u64::from(validity.is_valid(row.saturating_add(j))) << j));
                assert_eq!(validity.word_at(row), expected, "offset {offset}, row {row}");
            }
        }
    }
}
