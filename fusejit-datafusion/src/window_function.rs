//! fusejit programs as DataFusion window functions, evaluated over whole sorted partitions:
//! `ann_ret(px) OVER (PARTITION BY sym ORDER BY ts)` runs the program once per partition, in
//! the window's order, so lags, windows, cumulative operations, `ema` and reductions see one
//! symbol's rows and never cross into another's, whatever the batches and the repartitioning.

use crate::program::{Argument, CompiledProgram, NamedProgram, ProgramDefinition, coerce_arguments};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{PartitionEvaluator, Signature, WindowUDFImpl};
use datafusion::physical_expr::expressions::Literal;
use std::sync::Arc;

/// A registered program as a window function of its own name (see
/// [`crate::register_program`] and [`crate::FusejitFunctionFactory`]). It ignores the window
/// frame: each row's value is the program's over the whole partition, as for `lag` or
/// `row_number`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ProgramWindowFunction(NamedProgram);

impl ProgramWindowFunction {
    /// The window function of `definition`; an error if the program does not compile.
    pub fn new(definition: ProgramDefinition) -> Result<Self> {
        Ok(Self::from_named(NamedProgram::new(definition)?))
    }

    pub(crate) fn from_named(named: NamedProgram) -> Self {
        ProgramWindowFunction(named)
    }

    /// What the function is: the form a codec carries.
    pub fn definition(&self) -> &ProgramDefinition {
        &self.0.program.definition
    }
}

impl WindowUDFImpl for ProgramWindowFunction {
    fn name(&self) -> &str {
        &self.0.program.definition.name
    }

    fn signature(&self) -> &Signature {
        &self.0.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_arguments(&self.0.program.definition.name, arg_types)
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        // The window API shows no literal values here: every argument plans as a column (a
        // literal's element type, and so the result's, is the same either way).
        let field = self.0.column_return_field(field_args.input_fields())?;
        Ok(Arc::new(field.as_ref().clone().with_name(field_args.name())))
    }

    fn partition_evaluator(&self, args: PartitionEvaluatorArgs) -> Result<Box<dyn PartitionEvaluator>> {
        let literals: Vec<Option<ScalarValue>> = args
            .input_exprs()
            .iter()
            .map(|expr| expr.downcast_ref::<Literal>().map(|literal| literal.value().clone()))
            .collect();
        let return_field = self.0.column_return_field(args.input_fields())?;
        Ok(Box::new(ProgramPartitionEvaluator { program: self.0.program.clone(), literals, return_field }))
    }
}

/// Runs the program over one whole partition.
#[derive(Debug)]
struct ProgramPartitionEvaluator {
    program: Arc<CompiledProgram>,
    /// The value of each argument that is a literal: bound as a fusejit scalar rather than
    /// as the repeated column DataFusion evaluates it to.
    literals: Vec<Option<ScalarValue>>,
    return_field: FieldRef,
}

impl PartitionEvaluator for ProgramPartitionEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let arguments: Vec<Argument> = values
            .iter()
            .enumerate()
            .map(|(index, array)| match self.literals.get(index) {
                Some(Some(value)) => Argument::Scalar(value.clone()),
                _ => Argument::Array(array.clone()),
            })
            .collect();
        self.program.evaluate(&arguments, num_rows, &self.return_field)
    }
}
