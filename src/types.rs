//! The value types every stage shares: element types, shapes, types and single values. A
//! leaf: it depends on nothing else in the crate, and everything may depend on it.

/// The element type of a value. More may come: outside the crate, match with a wildcard arm
/// (inside it, every `match` on `Elem` is exhaustive, so a new type fails to compile until
/// every stage handles it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Elem {
    /// 64-bit IEEE float.
    F64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit two's-complement integer; arithmetic wraps.
    I64,
    /// 32-bit two's-complement integer; arithmetic wraps.
    I32,
    /// Boolean.
    Bool,
}

/// A scalar is one value broadcast over every row; a column has one value per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// One value for every row.
    Scalar,
    /// One value per row.
    Column,
}

/// The type of a value: its element type and shape. Prints as `f64` or `f64[]`.
///
/// ```
/// use fusejit::{Elem, Type};
/// assert_eq!(Type::column(Elem::F32).to_string(), "f32[]");
/// assert_eq!(Type::scalar(Elem::Bool).to_string(), "bool");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Type {
    /// The element type.
    pub elem: Elem,
    /// Scalar or column.
    pub shape: Shape,
}

impl Elem {
    /// `f64`, `f32`, `i64`, `i32` or `bool`, as the language writes it.
    pub fn name(self) -> &'static str {
        match self {
            Elem::F64 => "f64",
            Elem::F32 => "f32",
            Elem::I64 => "i64",
            Elem::I32 => "i32",
            Elem::Bool => "bool",
        }
    }

    /// Whether it is a floating-point type.
    pub fn is_float(self) -> bool {
        match self {
            Elem::F64 | Elem::F32 => true,
            Elem::I64 | Elem::I32 | Elem::Bool => false,
        }
    }

    /// Whether it is an integer type.
    pub fn is_integer(self) -> bool {
        match self {
            Elem::I64 | Elem::I32 => true,
            Elem::F64 | Elem::F32 | Elem::Bool => false,
        }
    }

    /// Whether it is a number (a float or an integer), i.e. not `bool`.
    pub fn is_numeric(self) -> bool {
        self.is_float() || self.is_integer()
    }

    /// Bytes per value in a column.
    pub fn size(self) -> usize {
        match self {
            Elem::F64 | Elem::I64 => 8,
            Elem::F32 | Elem::I32 => 4,
            Elem::Bool => 1,
        }
    }
}

impl Type {
    /// A type of this element type and shape.
    pub fn new(elem: Elem, shape: Shape) -> Self {
        Type { elem, shape }
    }

    /// A scalar of `elem`.
    pub fn scalar(elem: Elem) -> Self {
        Type { elem, shape: Shape::Scalar }
    }

    /// A column of `elem`.
    pub fn column(elem: Elem) -> Self {
        Type { elem, shape: Shape::Column }
    }
}

impl std::fmt::Display for Elem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `f64` for a scalar, `f64[]` for a column.
impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.shape {
            Shape::Scalar => write!(f, "{}", self.elem),
            Shape::Column => write!(f, "{}[]", self.elem),
        }
    }
}

/// One value of an element type.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Scalar {
    /// A 64-bit float.
    F64(f64),
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit integer.
    I32(i32),
    /// A boolean.
    Bool(bool),
}

impl Scalar {
    /// Its element type.
    pub fn elem(self) -> Elem {
        match self {
            Scalar::F64(_) => Elem::F64,
            Scalar::F32(_) => Elem::F32,
            Scalar::I64(_) => Elem::I64,
            Scalar::I32(_) => Elem::I32,
            Scalar::Bool(_) => Elem::Bool,
        }
    }
}

/// Rust's `{}` form: shortest round-trip decimal, `inf`, `-inf`, `NaN`; f32 printed as f32;
/// integers without a decimal point.
impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::F64(v) => write!(f, "{v}"),
            Scalar::F32(v) => write!(f, "{v}"),
            Scalar::I64(v) => write!(f, "{v}"),
            Scalar::I32(v) => write!(f, "{v}"),
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

impl From<i64> for Scalar {
    fn from(value: i64) -> Self {
        Scalar::I64(value)
    }
}

impl From<i32> for Scalar {
    fn from(value: i32) -> Self {
        Scalar::I32(value)
    }
}

impl From<bool> for Scalar {
    fn from(value: bool) -> Self {
        Scalar::Bool(value)
    }
}

/// Bit 0 of each of eight bytes (little-endian in `eight`; their other bits ignored) as one
/// byte, byte `j` to bit `j`: eight 0/1 bool or validity bytes as a bitmap byte. The multiply
/// gathers the masked low bits into the top byte (each lands on its own bit: no carries).
#[inline(always)]
pub(crate) fn pack_low_bits(eight: u64) -> u8 {
    ((eight & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

/// Whether every one of a block's 0/1 validity bytes (bit 0 of each, its other bits
/// ignored, as [`pack_low_bits`] reads them) marks its row valid: the test that sends a
/// block with a validity buffer but no null down a scan's all-valid path.
///
/// Eight bytes a word, ANDed without an early exit (a block is tested whole, and a test that
/// stopped at the first null byte would go a byte at a time), so that the loop vectorises.
#[inline]
pub(crate) fn every_row_valid(validity: &[u8]) -> bool {
    const LOW_BITS: u64 = 0x0101_0101_0101_0101;
    let mut words = validity.chunks_exact(8);
    let all = words
        .by_ref()
        .fold(u64::MAX, |all, word| all & u64::from_le_bytes(word.try_into().expect("eight bytes")));
    all & LOW_BITS == LOW_BITS && words.remainder().iter().all(|valid| valid & 1 == 1)
}

#[cfg(test)]
mod tests {
    use super::every_row_valid;

    /// Bit 0 of each byte decides, whatever the other bits; a null byte anywhere — in the
    /// words or in the tail past the last whole word — makes the block not all valid.
    #[test]
    fn every_row_valid_reads_bit_zero_of_every_byte() {
        for len in [0usize, 1, 7, 8, 9, 63, 64, 65, 512] {
            let valid: Vec<u8> = (0..len).map(|i| if i % 3 == 0 { 0xff } else { 1 }).collect();
            assert!(every_row_valid(&valid), "len {len}");
            for null_at in 0..len {
                let mut one_null = valid.clone();
                // Bit 0 clear, other bits set: still null.
                one_null[null_at] = 0xfe;
                assert!(!every_row_valid(&one_null), "len {len}, null at {null_at}");
            }
        }
    }
}
