//! Row-local fusejit programs as DataFusion scalar functions: the generic
//! `fusejit('program', args…)` and one function per registered program.
//!
//! A scalar function sees one batch at a time, in no guaranteed order, so only programs whose
//! row `i` depends on row `i` alone ([`Dependence::RowLocal`]) plan as one; anything else is a
//! planning error that points at the window form.

use crate::program::{
    Argument, CompiledProgram, NamedProgram, ProgramDefinition, coerce_arguments, compile, probe_types,
};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use fusejit::Dependence;

/// The generic scalar function `fusejit(program, args…)`: `program` is a string literal, and
/// the other arguments bind to the program's inputs in order of first use, so
/// `fusejit('(x-y)*a+b', price, fair, 2.0, 0.5)` binds `x = price`, `y = fair`, `a = 2.0`,
/// `b = 0.5`. A literal argument binds as a fusejit scalar (not repeated per row). The return
/// type comes from the program at planning time; a program with `out` statements returns a
/// struct with one field per output.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FusejitScalarFunction {
    signature: Signature,
}

/// The generic function's SQL name.
pub const GENERIC_FUNCTION_NAME: &str = "fusejit";

impl FusejitScalarFunction {
    /// The function, to register with `SessionContext::register_udf(ScalarUDF::from(...))`.
    pub fn new() -> Self {
        FusejitScalarFunction { signature: Signature::user_defined(Volatility::Immutable) }
    }

    /// The program of a call: its first argument, a string literal.
    fn program(text: Option<&ScalarValue>) -> Result<CompiledProgram> {
        let text = match text {
            Some(
                ScalarValue::Utf8(Some(text))
                | ScalarValue::LargeUtf8(Some(text))
                | ScalarValue::Utf8View(Some(text)),
            ) => text,
            _ => {
                return Err(DataFusionError::Plan(
                    "the first argument of fusejit(program, args…) must be the program as a string literal, \
                     as in fusejit('(x-y)*a+b', x, y, 2.0, 0.5)"
                        .to_string(),
                ));
            }
        };
        let kernel = compile(GENERIC_FUNCTION_NAME, text)?;
        CompiledProgram::new(ProgramDefinition {
            name: GENERIC_FUNCTION_NAME.to_string(),
            text: text.clone(),
            parameters: kernel.input_names().to_vec(),
            argument_types: None,
            return_type: None,
        })
    }
}

impl Default for FusejitScalarFunction {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for FusejitScalarFunction {
    fn name(&self) -> &str {
        GENERIC_FUNCTION_NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let Some((first, rest)) = arg_types.split_first() else {
            return Err(DataFusionError::Plan(
                "fusejit(program, args…) needs the program as its first argument".to_string(),
            ));
        };
        if !matches!(first, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
            return Err(DataFusionError::Plan(format!(
                "the first argument of fusejit(program, args…) must be the program as a string literal, not {first}"
            )));
        }
        let mut types = vec![first.clone()];
        types.extend(coerce_arguments(GENERIC_FUNCTION_NAME, rest)?);
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Err(DataFusionError::Internal("fusejit's return type comes from return_field_from_args".to_string()))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let program = Self::program(args.scalar_arguments.first().copied().flatten())?;
        let (_, fields) = args.arg_fields.split_first().expect("coerce_types checked the program argument");
        let literals: Vec<bool> = args.scalar_arguments[1..]
            .iter()
            .map(|literal| literal.is_some_and(|value| !value.is_null()))
            .collect();
        let types: Vec<DataType> = fields.iter().map(|field| field.data_type().clone()).collect();
        require_row_local(&program, &types)?;
        program.return_field(fields, &literals)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let text = match args.args.first() {
            Some(ColumnarValue::Scalar(value)) => Some(value),
            _ => None,
        };
        let program = Self::program(text)?;
        let arguments: Vec<Argument> = args.args[1..].iter().map(argument_of).collect();
        let array = program.evaluate(&arguments, args.number_rows, &args.return_field)?;
        Ok(ColumnarValue::Array(array))
    }
}

/// A registered row-local program as a scalar function of its own name
/// (see [`crate::register_program`] and [`crate::FusejitFunctionFactory`]).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ProgramScalarFunction(NamedProgram);

impl ProgramScalarFunction {
    /// The scalar function of `definition`; an error if the program does not compile or is
    /// not row-local for its declared types (or for `DOUBLE` arguments where none are
    /// declared).
    pub fn new(definition: ProgramDefinition) -> Result<Self> {
        let named = NamedProgram::new(definition)?;
        require_row_local(&named.program, &probe_types(&named.program.definition))?;
        Ok(ProgramScalarFunction(named))
    }

    /// The scalar function of a program already known to be row-local.
    pub(crate) fn from_row_local(named: NamedProgram) -> Self {
        ProgramScalarFunction(named)
    }

    /// What the function is: the form a codec carries.
    pub fn definition(&self) -> &ProgramDefinition {
        &self.0.program.definition
    }
}

impl ScalarUDFImpl for ProgramScalarFunction {
    fn name(&self) -> &str {
        &self.0.program.definition.name
    }

    fn signature(&self) -> &Signature {
        &self.0.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_arguments(&self.0.program.definition.name, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Err(DataFusionError::Internal("fusejit's return type comes from return_field_from_args".to_string()))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let literals: Vec<bool> = args
            .scalar_arguments
            .iter()
            .map(|literal| literal.is_some_and(|value| !value.is_null()))
            .collect();
        self.0.program.return_field(args.arg_fields, &literals)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arguments: Vec<Argument> = args.args.iter().map(argument_of).collect();
        let array = self.0.program.evaluate(&arguments, args.number_rows, &args.return_field)?;
        Ok(ColumnarValue::Array(array))
    }
}

fn argument_of(value: &ColumnarValue) -> Argument {
    match value {
        ColumnarValue::Array(array) => Argument::Array(array.clone()),
        ColumnarValue::Scalar(value) => Argument::Scalar(value.clone()),
    }
}

/// A planning error unless the program is row-local for arguments of `types`.
fn require_row_local(program: &CompiledProgram, types: &[DataType]) -> Result<()> {
    let reach = match program.dependence(types)? {
        Dependence::RowLocal => return Ok(()),
        Dependence::Lookback(rows) => {
            format!("reads up to {rows} earlier row{}", if rows == 1 { "" } else { "s" })
        }
        _ => "depends on the whole column".to_string(),
    };
    Err(DataFusionError::Plan(format!(
        "fusejit program '{}' {reach}, but a scalar function sees one batch at a time in no fixed order; \
         register it (fusejit_datafusion::register_program, or CREATE FUNCTION … LANGUAGE fusejit) and call it \
         as a window function: name(args) OVER (PARTITION BY … ORDER BY …)",
        program.definition.text
    )))
}
