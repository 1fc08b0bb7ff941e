//! Bindings: what one evaluation reads — borrowed columns (with optional validity) and scalars
//! by name — and the checks that make them safe to read.

use crate::column::{Binding, ColumnData, ColumnRef, Validity};
use crate::error::EvalError;
use crate::types::Type;
use crate::types::{Elem, Scalar};
use std::borrow::Cow;

/// Named inputs of one evaluation. Borrowed: no column is copied.
///
/// ```
/// let px = [100.0, 101.0, 99.5];
/// let mut bindings = fusejit::Bindings::new();
/// bindings.column("px", &px[..]).scalar("a", 252.0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Bindings<'a> {
    /// Borrowed names cost no allocation: a binding such as Python's lends the names it
    /// keeps for the whole call.
    entries: Vec<(Cow<'a, str>, Binding<'a>)>,
    /// Columns of a record batch left unbound because fusejit cannot read their Arrow type:
    /// (name, type). A program that reads one gets an error naming the type.
    pub(crate) unsupported: Vec<(String, String)>,
}

impl<'a> Bindings<'a> {
    /// No bindings yet.
    #[must_use]
    pub fn new() -> Self {
        Bindings::default()
    }

    /// No bindings yet, with room for `names` of them.
    #[must_use]
    pub fn with_capacity(names: usize) -> Self {
        Bindings { entries: Vec::with_capacity(names), unsupported: Vec::new() }
    }

    /// Binds `name` to any binding, replacing an earlier one of the same name. A borrowed
    /// name is kept borrowed (no copy); an owned `String` is kept as it is.
    pub fn bind(&mut self, name: impl Into<Cow<'a, str>>, binding: Binding<'a>) -> &mut Self {
        let name = name.into();
        match self.entries.iter_mut().find(|(existing, _)| *existing == name) {
            Some(entry) => entry.1 = binding,
            None => self.entries.push((name, binding)),
        }
        self
    }

    /// Binds a column with every row valid.
    pub fn column(&mut self, name: impl Into<Cow<'a, str>>, data: impl Into<ColumnData<'a>>) -> &mut Self {
        self.bind(name, Binding::Column(ColumnRef { data: data.into(), validity: None }))
    }

    /// Binds a column with an Arrow validity bitmap (bytes plus a bit offset).
    pub fn column_with_validity(
        &mut self,
        name: impl Into<Cow<'a, str>>,
        data: impl Into<ColumnData<'a>>,
        validity: Validity<'a>,
    ) -> &mut Self {
        self.bind(name, Binding::Column(ColumnRef { data: data.into(), validity: Some(validity) }))
    }

    /// Binds a scalar that broadcasts over every row. Changing its value never recompiles.
    pub fn scalar(&mut self, name: impl Into<Cow<'a, str>>, value: impl Into<Scalar>) -> &mut Self {
        self.bind(name, Binding::Scalar(value.into()))
    }

    /// Binds a null scalar of element type `elem`: its name has type `elem` (a scalar), and
    /// every row that reads it is null. A kernel keeps one specialisation for the null and
    /// one for the valid binding of a name, so alternating them never recompiles.
    pub fn null_scalar(&mut self, name: impl Into<Cow<'a, str>>, elem: Elem) -> &mut Self {
        self.bind(name, Binding::NullScalar(elem))
    }

    /// The error for a program input with no binding: the Arrow type when a record batch had
    /// a column of that name fusejit cannot read, else "no binding".
    pub(crate) fn missing(&self, name: &str) -> EvalError {
        match self.unsupported.iter().find(|(unsupported, _)| unsupported == name) {
            Some((_, data_type)) => {
                EvalError::UnsupportedArrowType { name: name.to_string(), data_type: data_type.clone() }
            }
            None => EvalError::MissingBinding { name: name.to_string() },
        }
    }

    /// What `name` is bound to.
    pub fn get(&self, name: &str) -> Option<&Binding<'a>> {
        self.entries.iter().find(|(existing, _)| existing == name).map(|(_, binding)| binding)
    }

    /// Every binding with its name, in the order first bound.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Binding<'a>)> {
        self.entries.iter().map(|(name, binding)| (name.as_ref(), binding))
    }
}

/// Checks that `binding` has type `ty`, `rows` rows (if a column) and a bitmap covering them.
pub fn check_binding(name: &str, ty: Type, binding: &Binding<'_>, rows: usize) -> Result<(), EvalError> {
    let found = binding.ty();
    if found != ty {
        return Err(EvalError::WrongType { name: name.to_string(), expected: ty, found });
    }
    if let Binding::Column(column) = binding {
        if column.len() != rows {
            return Err(EvalError::LengthMismatch {
                name: name.to_string(),
                len: column.len(),
                expected: rows,
                reference: "the others".to_string(),
            });
        }
        check_validity(name, column, rows)?;
    }
    Ok(())
}

fn check_validity(name: &str, column: &ColumnRef<'_>, rows: usize) -> Result<(), EvalError> {
    if let Some(validity) = column.validity {
        let capacity = validity.capacity().unwrap_or(0);
        if capacity < rows {
            return Err(EvalError::BitmapTooShort { name: name.to_string(), rows, capacity });
        }
    }
    Ok(())
}

/// The row count of an evaluation: the common length of the columns it reads (the first one
/// read is the reference a mismatch is reported against), or 1 when it reads no column.
/// `bound` holds each name's binding, in `names`' order.
pub fn row_count<'r, 'b: 'r>(
    names: &[String],
    bound: impl IntoIterator<Item = Option<&'r Binding<'b>>>,
) -> Result<usize, EvalError> {
    let mut reference: Option<(&str, usize)> = None;
    for (name, binding) in names.iter().zip(bound) {
        if let Some(Binding::Column(column)) = binding {
            match reference {
                None => reference = Some((name, column.len())),
                Some((first, rows)) if column.len() != rows => {
                    return Err(EvalError::LengthMismatch {
                        name: name.clone(),
                        len: column.len(),
                        expected: rows,
                        reference: first.to_string(),
                    });
                }
                Some(_) => {}
            }
            check_validity(name, column, column.len())?;
        }
    }
    Ok(reference.map_or(1, |(_, rows)| rows))
}
