//! Element types and shapes of IR values: what every node produces.

/// The element type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Elem {
    F64,
    F32,
    Bool,
}

/// A scalar is one value broadcast over every row; a column has one value per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    Scalar,
    Column,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Type {
    pub elem: Elem,
    pub shape: Shape,
}

impl Elem {
    pub fn name(self) -> &'static str {
        match self {
            Elem::F64 => "f64",
            Elem::F32 => "f32",
            Elem::Bool => "bool",
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Elem::F64 | Elem::F32)
    }
}

impl Type {
    pub fn new(elem: Elem, shape: Shape) -> Self {
        Type { elem, shape }
    }

    pub fn scalar(elem: Elem) -> Self {
        Type { elem, shape: Shape::Scalar }
    }

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
