//! The data model shared by the engine, the interpreter and (later) native kernels: borrowed
//! input columns with Arrow-style validity, scalars, and owned result columns.

use crate::ir::Elem;

/// One value of an element type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    F64(f64),
    F32(f32),
    Bool(bool),
}

impl Scalar {
    pub fn elem(self) -> Elem {
        match self {
            Scalar::F64(_) => Elem::F64,
            Scalar::F32(_) => Elem::F32,
            Scalar::Bool(_) => Elem::Bool,
        }
    }
}

/// Rust's `{}` form: shortest round-trip decimal, `inf`, `-inf`, `NaN`; f32 printed as f32.
impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::F64(v) => write!(f, "{v}"),
            Scalar::F32(v) => write!(f, "{v}"),
            Scalar::Bool(v) => write!(f, "{v}"),
        }
    }
}

impl From<f64> for Scalar {
    fn from(value: f64) -> Self {
        Scalar::F64(value)
    }
}

impl From<f32> for Scalar {
    fn from(value: f32) -> Self {
        Scalar::F32(value)
    }
}

impl From<bool> for Scalar {
    fn from(value: bool) -> Self {
        Scalar::Bool(value)
    }
}

/// An Arrow validity bitmap: bit `offset + i` (LSB-first within each byte) is 1 when row `i` is
/// valid. Borrowed, so an Arrow slice's buffer can be passed as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity<'a> {
    pub bytes: &'a [u8],
    pub offset: usize,
}

impl<'a> Validity<'a> {
    pub fn new(bytes: &'a [u8], offset: usize) -> Self {
        Validity { bytes, offset }
    }

    /// How many rows the bitmap covers; `None` when `offset` is absurdly large.
    pub fn capacity(&self) -> Option<usize> {
        self.bytes.len().checked_mul(8)?.checked_sub(self.offset)
    }

    /// Row `row`'s bit. The caller has checked `row < capacity()`.
    pub fn is_valid(&self, row: usize) -> bool {
        let bit = self.offset + row;
        self.bytes[bit / 8] >> (bit % 8) & 1 == 1
    }
}

/// Borrowed column values of one element type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnData<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
    Bool(&'a [bool]),
}

impl ColumnData<'_> {
    pub fn len(&self) -> usize {
        match self {
            ColumnData::F64(values) => values.len(),
            ColumnData::F32(values) => values.len(),
            ColumnData::Bool(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn elem(&self) -> Elem {
        match self {
            ColumnData::F64(_) => Elem::F64,
            ColumnData::F32(_) => Elem::F32,
            ColumnData::Bool(_) => Elem::Bool,
        }
    }

    pub fn get(&self, row: usize) -> Scalar {
        match self {
            ColumnData::F64(values) => Scalar::F64(values[row]),
            ColumnData::F32(values) => Scalar::F32(values[row]),
            ColumnData::Bool(values) => Scalar::Bool(values[row]),
        }
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

impl<'a> From<&'a Vec<bool>> for ColumnData<'a> {
    fn from(values: &'a Vec<bool>) -> Self {
        ColumnData::Bool(values)
    }
}

/// A borrowed input column: values and an optional validity bitmap (absent = all valid).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColumnRef<'a> {
    pub data: ColumnData<'a>,
    pub validity: Option<Validity<'a>>,
}

impl ColumnRef<'_> {
    pub fn len(&self) -> usize {
        self.data.len()
    }

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
pub enum Binding<'a> {
    Column(ColumnRef<'a>),
    Scalar(Scalar),
}

/// Owned result values.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    F64(Vec<f64>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
}

impl ColumnValues {
    pub fn len(&self) -> usize {
        match self {
            ColumnValues::F64(values) => values.len(),
            ColumnValues::F32(values) => values.len(),
            ColumnValues::Bool(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn elem(&self) -> Elem {
        match self {
            ColumnValues::F64(_) => Elem::F64,
            ColumnValues::F32(_) => Elem::F32,
            ColumnValues::Bool(_) => Elem::Bool,
        }
    }
}

/// An owned result column: values, an optional validity bitmap (offset 0, LSB-first; absent
/// means every row is valid) and the number of nulls. Values under null rows are unspecified.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub values: ColumnValues,
    pub validity: Option<Vec<u8>>,
    pub null_count: usize,
}

impl Column {
    /// Builds a column from per-row optional values of one element type; the validity bitmap is
    /// kept only when there is a null. Nulls store a zero (or `false`) value.
    pub fn from_options(elem: Elem, rows: &[Option<Scalar>]) -> Column {
        let null_count = rows.iter().filter(|row| row.is_none()).count();
        let validity = (null_count > 0).then(|| {
            let mut bytes = vec![0u8; rows.len().div_ceil(8)];
            for (row, value) in rows.iter().enumerate() {
                if value.is_some() {
                    bytes[row / 8] |= 1 << (row % 8);
                }
            }
            bytes
        });
        let values = match elem {
            Elem::F64 => ColumnValues::F64(
                rows.iter().map(|row| if let Some(Scalar::F64(v)) = row { *v } else { 0.0 }).collect(),
            ),
            Elem::F32 => ColumnValues::F32(
                rows.iter().map(|row| if let Some(Scalar::F32(v)) = row { *v } else { 0.0 }).collect(),
            ),
            Elem::Bool => {
                ColumnValues::Bool(rows.iter().map(|row| matches!(row, Some(Scalar::Bool(true)))).collect())
            }
        };
        Column { values, validity, null_count }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn elem(&self) -> Elem {
        self.values.elem()
    }

    pub fn is_valid(&self, row: usize) -> bool {
        match &self.validity {
            None => row < self.len(),
            Some(bytes) => row < self.len() && bytes[row / 8] >> (row % 8) & 1 == 1,
        }
    }

    /// Row `row` as an optional scalar (`None` for a null or out of range).
    /// A borrowed view, bindable as an input.
    pub fn as_column_ref(&self) -> ColumnRef<'_> {
        let data = match &self.values {
            ColumnValues::F64(values) => ColumnData::F64(values),
            ColumnValues::F32(values) => ColumnData::F32(values),
            ColumnValues::Bool(values) => ColumnData::Bool(values),
        };
        ColumnRef { data, validity: self.validity.as_deref().map(|bytes| Validity::new(bytes, 0)) }
    }

    pub fn get(&self, row: usize) -> Option<Scalar> {
        if !self.is_valid(row) {
            return None;
        }
        Some(match &self.values {
            ColumnValues::F64(values) => Scalar::F64(values[row]),
            ColumnValues::F32(values) => Scalar::F32(values[row]),
            ColumnValues::Bool(values) => Scalar::Bool(values[row]),
        })
    }

    /// All rows as optional scalars: convenient for tests and printing.
    pub fn to_options(&self) -> Vec<Option<Scalar>> {
        (0..self.len()).map(|row| self.get(row)).collect()
    }
}
