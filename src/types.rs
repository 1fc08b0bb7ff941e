//! The value types every stage shares: element types, shapes, types and single values. A
//! leaf: it depends on nothing else in the crate, and everything may depend on it.

/// The element type of a value. More will come (integers): match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Elem {
    /// 64-bit IEEE float.
    F64,
    /// 32-bit IEEE float.
    F32,
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
    /// `f64`, `f32` or `bool`, as the language writes it.
    pub fn name(self) -> &'static str {
        match self {
            Elem::F64 => "f64",
            Elem::F32 => "f32",
            Elem::Bool => "bool",
        }
    }

    /// Whether it is a floating-point type.
    pub fn is_float(self) -> bool {
        matches!(self, Elem::F64 | Elem::F32)
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
    /// A boolean.
    Bool(bool),
}

impl Scalar {
    /// Its element type.
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
