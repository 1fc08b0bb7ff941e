//! [`Specialized`]: a kernel fixed to one binding signature, evaluating inputs given by position — for callers that evaluate many times with inputs of the same types and layouts.

use super::{ColumnMut, EvalSummary, Form, Kernel, Signature, Specialization};
use crate::bindings::{self, Bindings};
use crate::column::Binding;
use crate::error::{Error, EvalError};
use crate::types::Type;
use std::sync::Arc;

/// A [`Kernel`] with one binding signature resolved: the input types and column layouts
/// its specialisation was compiled for. Inputs come by position — one per name of
/// [`Kernel::input_names`], in that order — so an evaluation looks up no names and finds no
/// specialisation: it checks the inputs against the signature and runs. This is the call a
/// loop over small batches wants (the Python package's short calls use it).
///
/// Inputs of another signature still evaluate, through the kernel as
/// [`Kernel::eval_column_into`] would (compiling their specialisation if needed).
///
/// ```
/// use fusejit::{Binding, ColumnData, ColumnMut, ColumnRef, Engine, Scalar, ValuesMut};
/// let kernel = Engine::new().compile("(x - y) * a").unwrap();
/// assert_eq!(kernel.input_names(), ["x", "y", "a"]);
/// let (x, y) = ([3.0, 5.0], [1.0, 1.0]);
/// let column = |values| Binding::Column(ColumnRef { data: ColumnData::F64(values), validity: None });
/// let inputs = [column(&x[..]), column(&y[..]), Binding::Scalar(Scalar::F64(10.0))];
/// let specialized = kernel.specialized(&inputs).unwrap();
/// let (mut values, mut validity) = ([0.0; 2], [0u8; 1]);
/// let mut out = ColumnMut { values: ValuesMut::F64(&mut values), validity: &mut validity };
/// specialized.eval_column_into(&inputs, &mut out).unwrap();
/// assert_eq!(values, [20.0, 40.0]);
/// ```
#[derive(Debug, Clone)]
pub struct Specialized {
    kernel: Kernel,
    signature: Arc<Signature>,
    spec: Arc<Specialization>,
    /// Whether the specialisation is one fused loop whose input slots are the kernel's input
    /// names in order: then an evaluation runs it on the positional inputs as they are.
    direct: bool,
}

impl Kernel {
    /// The specialisation for `inputs` — one per name of [`Kernel::input_names`], in that
    /// order — compiled now if it was not yet.
    pub fn specialized(&self, inputs: &[Binding<'_>]) -> Result<Specialized, Error> {
        let bindings = self.bindings_by_name(inputs)?;
        let signature = self.signature(&bindings)?;
        let spec = self.specialization(&signature)?;
        let in_order = spec.input_name_indices.len() == self.inner.input_names.len()
            && spec.input_name_indices.iter().enumerate().all(|(slot, index)| *index == Some(slot));
        let direct = matches!(spec.form, Form::Fused(_)) && in_order;
        Ok(Specialized { kernel: self.clone(), signature: Arc::new(signature), spec, direct })
    }

    /// Positional inputs bound to the kernel's input names.
    fn bindings_by_name<'r, 'b: 'r>(&'r self, inputs: &[Binding<'b>]) -> Result<Bindings<'r>, Error> {
        let names = &self.inner.input_names;
        if inputs.len() != names.len() {
            return Err(EvalError::InputCount { expected: names.len(), found: inputs.len() }.into());
        }
        let mut bindings = Bindings::with_capacity(names.len());
        for (name, binding) in names.iter().zip(inputs) {
            bindings.bind(name.as_str(), *binding);
        }
        Ok(bindings)
    }
}

impl Specialized {
    /// The result's type for this signature (a column or a scalar), as
    /// [`Kernel::output_types_of_bindings`] gives it for the last output.
    pub fn result_type(&self) -> Type {
        self.spec.program.result_type()
    }

    /// Whether `inputs` (by position) have this signature: the same type for every input, and
    /// the same layout (validity bitmap or none, bit-packed or not) for every column.
    pub fn matches(&self, inputs: &[Binding<'_>]) -> bool {
        self.signature.matches(inputs.iter().map(Some))
    }

    /// [`Kernel::eval_column_into`] for inputs by position: a result that is a scalar is
    /// refused before anything is written, and every column is checked for length and
    /// bitmap as there.
    pub fn eval_column_into(
        &self,
        inputs: &[Binding<'_>],
        out: &mut ColumnMut<'_>,
    ) -> Result<EvalSummary, Error> {
        let kernel = &self.kernel;
        if !(self.direct && self.matches(inputs)) {
            return kernel.eval_column_into(&kernel.bindings_by_name(inputs)?, out);
        }
        // The slots are the inputs in order (`direct`), of the types and layouts the plan was
        // made for (`matches`); what is left to check is that the columns have one length
        // and bitmaps covering it, which `row_count` does. A fused loop reads no bindings
        // by name (`direct`), so it gets none.
        let rows = bindings::row_count(&kernel.inner.input_names, inputs.iter().map(Some))?;
        super::refuse_scalar_result(&self.spec)?;
        kernel.eval_prepared_into(&self.spec, inputs, &Bindings::new(), rows, out)
    }
}
