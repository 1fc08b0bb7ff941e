//! A fusejit program as DataFusion sees it: its text, the parameters its arguments bind to,
//! the Arrow field it returns for given argument fields, and its evaluation over arrays.
//!
//! Architecture Invariant: this is the only file that calls fusejit's evaluation; the UDF
//! files ask it for fields and results, and hold no kernel of their own.

use datafusion::arrow::array::{Array, ArrayRef, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{Signature, Volatility};
use fusejit::{Bindings, Dependence, Elem, Engine, EngineConfig, Kernel, Scalar, Schema, Shape, Type};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

/// One engine for the process: compiled programs and their native specialisations are
/// cached by text, so every UDF, every partition and every decoded plan of the same program
/// shares one compilation. It evaluates on the calling thread: DataFusion already runs one
/// task per partition on every core.
static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    Engine::with_config(EngineConfig::default().with_threads(Some(1)))
        .expect("one thread is a valid configuration")
});

/// The engine every fusejit function of this crate compiles with.
pub(crate) fn engine() -> &'static Engine {
    &ENGINE
}

/// What a fusejit function is, in the form a codec carries to another process: its SQL
/// name, the program text, the name each argument binds to, and the argument and return
/// types a `CREATE FUNCTION` declared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProgramDefinition {
    /// The function's name in SQL.
    pub name: String,
    /// The fusejit program, as written.
    pub text: String,
    /// The input name argument `i` binds to. For [`crate::register_program`] these are the
    /// program's inputs in order of first use; for `CREATE FUNCTION`, the declared parameter
    /// names (`_1`, `_2`, … where the declaration names none: see [`crate::FusejitFunctionFactory`]).
    pub parameters: Vec<String>,
    /// The declared argument types (`CREATE FUNCTION f(DOUBLE, BIGINT)`): arguments are cast
    /// to them. `None`: any type fusejit reads, with integer and float types of other widths
    /// coerced (see [`coerced_type`]).
    pub argument_types: Option<Vec<DataType>>,
    /// The declared return type, checked against the program's at planning time.
    pub return_type: Option<DataType>,
}

/// A [`ProgramDefinition`] compiled: what a UDF holds.
#[derive(Debug, Clone)]
pub(crate) struct CompiledProgram {
    pub definition: ProgramDefinition,
    pub kernel: Kernel,
}

impl CompiledProgram {
    /// Compiles `definition`: a syntax or name error is a planning error with fusejit's
    /// rendered diagnostic; so is a program input that no parameter names.
    pub fn new(definition: ProgramDefinition) -> Result<CompiledProgram> {
        let kernel = compile(&definition.name, &definition.text)?;
        if let Some(missing) =
            kernel.input_names().iter().find(|input| !definition.parameters.contains(input))
        {
            return Err(DataFusionError::Plan(format!(
                "fusejit function '{}' reads '{missing}', which is not one of its parameters ({}); \
                 name the parameters in the declaration, or write $1, $2, … for unnamed ones",
                definition.name,
                definition.parameters.join(", ")
            )));
        }
        if let Some(types) = &definition.argument_types
            && types.len() != definition.parameters.len()
        {
            return Err(DataFusionError::Plan(format!(
                "fusejit function '{}' declares {} argument types for {} parameters",
                definition.name,
                types.len(),
                definition.parameters.len()
            )));
        }
        Ok(CompiledProgram { definition, kernel })
    }

    /// The fusejit schema of arguments of `types`, arguments that are known literals (`Some`
    /// and not null) as scalars.
    fn schema(&self, types: &[DataType], literals: &[bool]) -> Result<Schema> {
        check_argument_count(&self.definition.name, &self.definition.parameters, types.len())?;
        let mut schema = Schema::new();
        for (index, (parameter, data_type)) in self.definition.parameters.iter().zip(types).enumerate() {
            let elem = elem_of(&self.definition.name, parameter, data_type)?;
            let shape =
                if literals.get(index).copied().unwrap_or(false) { Shape::Scalar } else { Shape::Column };
            schema.insert(parameter.clone(), Type::new(elem, shape));
        }
        Ok(schema)
    }

    /// How far the program's rows reach, for arguments of `types`.
    pub fn dependence(&self, types: &[DataType]) -> Result<Dependence> {
        let schema = self.schema(types, &[])?;
        self.kernel.dependence(&schema).map_err(|error| compile_error(&self.definition.name, &error))
    }

    /// The field the function returns for arguments `fields` (of which those flagged in
    /// `literals` are non-null literals): the one output's type, or a struct with a field per
    /// output (each `out` statement, then `result`) for a program with several. Checks the
    /// declared return type.
    pub fn return_field(&self, fields: &[FieldRef], literals: &[bool]) -> Result<FieldRef> {
        let types: Vec<DataType> = fields.iter().map(|field| field.data_type().clone()).collect();
        let schema = self.schema(&types, literals)?;
        let nullable: Vec<&str> = self
            .definition
            .parameters
            .iter()
            .zip(fields)
            .filter(|(_, field)| field.is_nullable())
            .map(|(parameter, _)| parameter.as_str())
            .collect();
        let outputs = self
            .kernel
            .output_types(&schema, &nullable)
            .map_err(|error| compile_error(&self.definition.name, &error))?;
        let field = if let [output] = &outputs[..] {
            Field::new(&self.definition.name, output.ty.elem.arrow_type(), output.nullable)
        } else {
            let fields: Fields = outputs
                .iter()
                .map(|output| Field::new(&output.name, output.ty.elem.arrow_type(), output.nullable))
                .collect();
            // The struct itself is never null: each output carries its own nulls.
            Field::new(&self.definition.name, DataType::Struct(fields), false)
        };
        if let Some(declared) = &self.definition.return_type
            && declared != field.data_type()
        {
            return Err(DataFusionError::Plan(format!(
                "fusejit function '{}' is declared to return {declared}, but its program returns {} \
                 for arguments ({})",
                self.definition.name,
                field.data_type(),
                types.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(Arc::new(field))
    }

    /// Evaluates the program over `rows` rows of `arguments` (arrays of `rows` rows, or
    /// scalars, which bind as fusejit scalars without being repeated; a null scalar binds as
    /// a column of nulls) into an array of `rows` rows of the planned `return_field` (from
    /// [`Self::return_field`]).
    pub fn evaluate(&self, arguments: &[Argument], rows: usize, return_field: &Field) -> Result<ArrayRef> {
        let name = &self.definition.name;
        check_argument_count(name, &self.definition.parameters, arguments.len())?;
        // Null scalars become arrays first, so that the bindings can borrow them.
        let null_arrays: Vec<Option<ArrayRef>> = arguments
            .iter()
            .map(|argument| match argument {
                Argument::Scalar(value) if value.is_null() => value.to_array_of_size(rows).map(Some),
                _ => Ok(None),
            })
            .collect::<Result<_>>()?;
        let mut bindings = Bindings::new();
        for ((parameter, argument), null_array) in
            self.definition.parameters.iter().zip(arguments).zip(&null_arrays)
        {
            if !self.kernel.input_names().contains(parameter) {
                continue;
            }
            match (argument, null_array) {
                (_, Some(array)) => bind_array(&mut bindings, name, parameter, array.as_ref())?,
                (Argument::Array(array), None) => bind_array(&mut bindings, name, parameter, array.as_ref())?,
                (Argument::Scalar(value), None) => {
                    bindings.scalar(parameter.clone(), scalar_of(name, parameter, value)?);
                }
            }
        }
        let outputs = self.kernel.eval_outputs(&bindings).map_err(|error| {
            DataFusionError::Execution(format!("fusejit function '{name}': {}", error.render(name, false)))
        })?;
        let mut arrays = Vec::with_capacity(outputs.len());
        for (_, column) in outputs {
            let array = column.into_array();
            // A program over scalars only gives one row: the same value on every row.
            arrays.push(if array.len() == 1 && rows != 1 { repeat(&array, rows)? } else { array });
        }
        if let DataType::Struct(fields) = return_field.data_type()
            && fields.len() == arrays.len()
        {
            return Ok(Arc::new(StructArray::try_new(fields.clone(), arrays, None)?));
        }
        if let [array] = &arrays[..]
            && array.data_type() == return_field.data_type()
        {
            return Ok(array.clone());
        }
        Err(DataFusionError::Internal(format!(
            "fusejit function '{name}': planned {}, evaluated {}",
            return_field.data_type(),
            arrays.iter().map(|array| array.data_type().to_string()).collect::<Vec<_>>().join(", ")
        )))
    }
}

/// A compiled program and the signature a UDF of it declares, equal and hashed by its
/// definition (DataFusion compares functions): what the scalar and window UDFs of a named
/// program hold.
#[derive(Debug)]
pub(crate) struct NamedProgram {
    pub program: Arc<CompiledProgram>,
    pub signature: Signature,
    /// [`CompiledProgram::return_field`] for all-column arguments, by argument fields: a
    /// window function needs it for every partition's evaluator, and working it out
    /// type-checks and lowers the program.
    column_return_fields: Mutex<Vec<(Vec<FieldRef>, FieldRef)>>,
}

impl NamedProgram {
    /// Compiles `definition`; the signature takes exactly the declared argument types, or any
    /// that [`coerced_type`] widens.
    pub fn new(definition: ProgramDefinition) -> Result<NamedProgram> {
        let program = CompiledProgram::new(definition)?;
        let signature = match &program.definition.argument_types {
            Some(types) => Signature::exact(types.clone(), Volatility::Immutable),
            None => Signature::user_defined(Volatility::Immutable),
        };
        Ok(NamedProgram { program: Arc::new(program), signature, column_return_fields: Mutex::default() })
    }

    /// The return field for arguments `fields`, all planned as columns; worked out once per
    /// distinct argument fields.
    pub fn column_return_field(&self, fields: &[FieldRef]) -> Result<FieldRef> {
        let mut known = self.column_return_fields.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, field)) = known.iter().find(|(key, _)| key[..] == *fields) {
            return Ok(field.clone());
        }
        let field = self.program.return_field(fields, &[])?;
        known.push((fields.to_vec(), field.clone()));
        Ok(field)
    }
}

impl PartialEq for NamedProgram {
    fn eq(&self, other: &Self) -> bool {
        self.program.definition == other.program.definition
    }
}

impl Eq for NamedProgram {}

impl Hash for NamedProgram {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.program.definition.hash(state);
    }
}

/// The argument types a registration decides its form with: the declared ones, else `DOUBLE`
/// for every parameter (a program's structure does not depend on its types).
pub(crate) fn probe_types(definition: &ProgramDefinition) -> Vec<DataType> {
    definition.argument_types.clone().unwrap_or_else(|| vec![DataType::Float64; definition.parameters.len()])
}

/// One argument value at evaluation time.
#[derive(Debug, Clone)]
pub(crate) enum Argument {
    Array(ArrayRef),
    Scalar(ScalarValue),
}

fn check_argument_count(name: &str, parameters: &[String], given: usize) -> Result<()> {
    if parameters.len() == given {
        return Ok(());
    }
    Err(DataFusionError::Plan(format!(
        "fusejit function '{name}' takes {} argument{} ({}), {given} given",
        parameters.len(),
        if parameters.len() == 1 { "" } else { "s" },
        parameters.join(", ")
    )))
}

/// Compiles `text` with the shared engine; a compile error is a planning error carrying the
/// rendered diagnostic (the program underlined, the hint).
pub(crate) fn compile(name: &str, text: &str) -> Result<Kernel> {
    engine().compile(text).map_err(|error| compile_error(name, &error))
}

fn compile_error(name: &str, error: &fusejit::CompileError) -> DataFusionError {
    DataFusionError::Plan(format!("fusejit function '{name}':\n{}", error.render(name, false)))
}

/// The type an argument of `data_type` is given to fusejit as: the five types it reads as
/// they are, narrower integers widened to `Int32`, `UInt32` to `Int64`, and `UInt64`,
/// `Float16`, decimals and `Null` to `Float64`. `None` for anything else (strings, dates…).
pub fn coerced_type(data_type: &DataType) -> Option<DataType> {
    Some(match data_type {
        DataType::Float64 | DataType::Float32 | DataType::Int64 | DataType::Int32 | DataType::Boolean => {
            data_type.clone()
        }
        DataType::Int8 | DataType::Int16 | DataType::UInt8 | DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::UInt64
        | DataType::Float16
        | DataType::Null
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => DataType::Float64,
        _ => return None,
    })
}

/// [`coerced_type`] of each argument type, or the planning error naming the first that
/// fusejit cannot read.
pub(crate) fn coerce_arguments(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    types
        .iter()
        .enumerate()
        .map(|(index, data_type)| {
            coerced_type(data_type).ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "fusejit function '{name}': argument {} has type {data_type}; fusejit reads \
                     numbers and booleans (DOUBLE, FLOAT, BIGINT, INT, BOOLEAN and types that widen to them)",
                    index + 1
                ))
            })
        })
        .collect()
}

fn elem_of(name: &str, parameter: &str, data_type: &DataType) -> Result<Elem> {
    Elem::from_arrow(data_type).ok_or_else(|| {
        DataFusionError::Plan(format!(
            "fusejit function '{name}': parameter '{parameter}' has type {data_type}, which fusejit does not read"
        ))
    })
}

fn bind_array<'a>(
    bindings: &mut Bindings<'a>,
    name: &str,
    parameter: &str,
    array: &'a dyn Array,
) -> Result<()> {
    bindings.bind_array(parameter.to_string(), array).map_err(|error| {
        DataFusionError::Execution(format!("fusejit function '{name}', parameter '{parameter}': {error}"))
    })?;
    Ok(())
}

fn scalar_of(name: &str, parameter: &str, value: &ScalarValue) -> Result<Scalar> {
    Ok(match value {
        ScalarValue::Float64(Some(value)) => Scalar::F64(*value),
        ScalarValue::Float32(Some(value)) => Scalar::F32(*value),
        ScalarValue::Int64(Some(value)) => Scalar::I64(*value),
        ScalarValue::Int32(Some(value)) => Scalar::I32(*value),
        ScalarValue::Boolean(Some(value)) => Scalar::Bool(*value),
        other => {
            return Err(DataFusionError::Execution(format!(
                "fusejit function '{name}', parameter '{parameter}': a literal of type {} (coercion should have widened it)",
                other.data_type()
            )));
        }
    })
}

/// `array`'s one row repeated `rows` times.
fn repeat(array: &ArrayRef, rows: usize) -> Result<ArrayRef> {
    ScalarValue::try_from_array(array.as_ref(), 0)?.to_array_of_size(rows)
}
