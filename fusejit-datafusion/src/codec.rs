//! Extension codecs that carry fusejit functions inside serialised plans (datafusion-proto,
//! as Ballista ships them to executors): a function travels as its program text, parameters
//! and declared types, and the receiving process compiles it itself, so executors need no
//! registration of their own. Everything else goes to the wrapped codec.

use crate::program::ProgramDefinition;
use crate::scalar_function::{FusejitScalarFunction, ProgramScalarFunction};
use crate::window_function::ProgramWindowFunction;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::{DefaultLogicalExtensionCodec, LogicalExtensionCodec};
use datafusion_proto::physical_plan::{
    DefaultPhysicalExtensionCodec, PhysicalExtensionCodec, PhysicalProtoConverterExtension,
};
use std::str::FromStr;
use std::sync::Arc;

/// The first bytes of every function this crate encodes (and the version of the layout).
const MAGIC: &[u8] = b"fusejit-function/1\n";

/// Which function a payload describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Generic,
    Scalar,
    Window,
}

/// Encodes a function: [`MAGIC`], then length-prefixed UTF-8 fields: kind, name, text,
/// parameters (one per line), argument types (one per line, `-` for none declared), return
/// type (empty for none).
fn encode(kind: Kind, definition: Option<&ProgramDefinition>, buf: &mut Vec<u8>) {
    buf.extend_from_slice(MAGIC);
    let kind = match kind {
        Kind::Generic => "generic",
        Kind::Scalar => "scalar",
        Kind::Window => "window",
    };
    let empty = ProgramDefinition {
        name: String::new(),
        text: String::new(),
        parameters: Vec::new(),
        argument_types: None,
        return_type: None,
    };
    let definition = definition.unwrap_or(&empty);
    let argument_types = match &definition.argument_types {
        Some(types) => types.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
        None => "-".to_string(),
    };
    let return_type = definition.return_type.as_ref().map(ToString::to_string).unwrap_or_default();
    let parameters = definition.parameters.join("\n");
    for field in [kind, &definition.name, &definition.text, &parameters, &argument_types, &return_type] {
        buf.extend_from_slice(&(field.len() as u64).to_le_bytes());
        buf.extend_from_slice(field.as_bytes());
    }
}

/// Decodes what [`encode`] wrote; `None` when `buf` is not a fusejit function.
fn decode(buf: &[u8]) -> Option<Result<(Kind, ProgramDefinition)>> {
    let mut rest = buf.strip_prefix(MAGIC)?;
    let corrupt =
        |what: &str| DataFusionError::Internal(format!("corrupt fusejit function in a plan: {what}"));
    let mut fields = Vec::with_capacity(6);
    for _ in 0..6 {
        let Some((length, tail)) = rest.split_first_chunk::<8>() else {
            return Some(Err(corrupt("truncated")));
        };
        let length = u64::from_le_bytes(*length);
        let Some(length) = usize::try_from(length).ok().filter(|length| *length <= tail.len()) else {
            return Some(Err(corrupt("a field longer than the payload")));
        };
        let (field, tail) = tail.split_at(length);
        let Ok(field) = std::str::from_utf8(field) else {
            return Some(Err(corrupt("a field that is not UTF-8")));
        };
        fields.push(field.to_string());
        rest = tail;
    }
    let [kind, name, text, parameters, argument_types, return_type] = <[String; 6]>::try_from(fields).ok()?;
    let kind = match kind.as_str() {
        "generic" => Kind::Generic,
        "scalar" => Kind::Scalar,
        "window" => Kind::Window,
        _ => return Some(Err(corrupt("an unknown kind"))),
    };
    let parse_type =
        |text: &str| DataType::from_str(text).map_err(|error| corrupt(&format!("type '{text}': {error}")));
    let argument_types = match argument_types.as_str() {
        "-" => None,
        "" => Some(Vec::new()),
        types => match types.split('\n').map(parse_type).collect::<Result<Vec<_>>>() {
            Ok(types) => Some(types),
            Err(error) => return Some(Err(error)),
        },
    };
    let return_type = match return_type.as_str() {
        "" => None,
        text => match parse_type(text) {
            Ok(data_type) => Some(data_type),
            Err(error) => return Some(Err(error)),
        },
    };
    let parameters =
        if parameters.is_empty() { Vec::new() } else { parameters.split('\n').map(str::to_string).collect() };
    Some(Ok((kind, ProgramDefinition { name, text, parameters, argument_types, return_type })))
}

/// The payload of a scalar function this crate defines, or `None` for any other.
fn encode_scalar(function: &ScalarUDF, buf: &mut Vec<u8>) -> bool {
    let inner = function.inner();
    if inner.is::<FusejitScalarFunction>() {
        encode(Kind::Generic, None, buf);
    } else if let Some(program) = inner.downcast_ref::<ProgramScalarFunction>() {
        encode(Kind::Scalar, Some(program.definition()), buf);
    } else {
        return false;
    }
    true
}

fn encode_window(function: &WindowUDF, buf: &mut Vec<u8>) -> bool {
    match function.inner().downcast_ref::<ProgramWindowFunction>() {
        Some(program) => {
            encode(Kind::Window, Some(program.definition()), buf);
            true
        }
        None => false,
    }
}

fn decode_scalar(buf: &[u8]) -> Option<Result<Arc<ScalarUDF>>> {
    Some(decode(buf)?.and_then(|(kind, definition)| match kind {
        Kind::Generic => Ok(Arc::new(ScalarUDF::from(FusejitScalarFunction::new()))),
        Kind::Scalar => Ok(Arc::new(ScalarUDF::from(ProgramScalarFunction::new(definition)?))),
        Kind::Window => Err(DataFusionError::Internal(format!(
            "fusejit window function '{}' where a scalar function was expected",
            definition.name
        ))),
    }))
}

fn decode_window(buf: &[u8]) -> Option<Result<Arc<WindowUDF>>> {
    Some(decode(buf)?.and_then(|(kind, definition)| match kind {
        Kind::Window => Ok(Arc::new(WindowUDF::from(ProgramWindowFunction::new(definition)?))),
        _ => Err(DataFusionError::Internal(format!(
            "fusejit scalar function '{}' where a window function was expected",
            definition.name
        ))),
    }))
}

/// The function methods both codecs share: fusejit's functions from and to their payload,
/// any other to the wrapped codec (`self.inner`).
macro_rules! function_methods {
    () => {
        fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
            decode_scalar(buf).unwrap_or_else(|| self.inner.try_decode_udf(name, buf))
        }

        fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
            if encode_scalar(node, buf) { Ok(()) } else { self.inner.try_encode_udf(node, buf) }
        }

        fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
            decode_window(buf).unwrap_or_else(|| self.inner.try_decode_udwf(name, buf))
        }

        fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
            if encode_window(node, buf) { Ok(()) } else { self.inner.try_encode_udwf(node, buf) }
        }
    };
}

/// A [`LogicalExtensionCodec`] that carries fusejit functions and hands everything else to
/// `inner` (Ballista's own codec, in a Ballista session).
#[derive(Debug)]
pub struct FusejitLogicalCodec {
    inner: Arc<dyn LogicalExtensionCodec>,
}

impl FusejitLogicalCodec {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn LogicalExtensionCodec>) -> Self {
        FusejitLogicalCodec { inner }
    }
}

impl Default for FusejitLogicalCodec {
    fn default() -> Self {
        Self::new(Arc::new(DefaultLogicalExtensionCodec {}))
    }
}

impl LogicalExtensionCodec for FusejitLogicalCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner.try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    function_methods!();
}

/// A [`PhysicalExtensionCodec`] that carries fusejit functions and hands everything else to
/// `inner`.
#[derive(Debug)]
pub struct FusejitPhysicalCodec {
    inner: Arc<dyn PhysicalExtensionCodec>,
}

impl FusejitPhysicalCodec {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn PhysicalExtensionCodec>) -> Self {
        FusejitPhysicalCodec { inner }
    }
}

impl Default for FusejitPhysicalCodec {
    fn default() -> Self {
        Self::new(Arc::new(DefaultPhysicalExtensionCodec {}))
    }
}

impl PhysicalExtensionCodec for FusejitPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    function_methods!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_round_trip() {
        let definition = ProgramDefinition {
            name: "ann_ret".to_string(),
            text: "out r = dlog(px, 1); r * 252".to_string(),
            parameters: vec!["px".to_string(), "_2".to_string()],
            argument_types: Some(vec![DataType::Float64, DataType::Int64]),
            return_type: Some(DataType::Float64),
        };
        let mut buf = Vec::new();
        encode(Kind::Window, Some(&definition), &mut buf);
        let (kind, decoded) = decode(&buf).unwrap().unwrap();
        assert_eq!((kind, &decoded), (Kind::Window, &definition));
        let undeclared = ProgramDefinition { argument_types: None, return_type: None, ..definition };
        let mut buf = Vec::new();
        encode(Kind::Scalar, Some(&undeclared), &mut buf);
        assert_eq!(decode(&buf).unwrap().unwrap(), (Kind::Scalar, undeclared));
    }

    #[test]
    fn other_payloads_and_corruption() {
        assert!(decode(b"something else").is_none());
        let mut buf = Vec::new();
        encode(Kind::Generic, None, &mut buf);
        for cut in MAGIC.len()..buf.len() {
            let error = decode(&buf[..cut]).unwrap().unwrap_err();
            assert!(error.to_string().contains("corrupt fusejit function"), "{error}");
        }
        let mut long = MAGIC.to_vec();
        long.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&long).unwrap().unwrap_err().to_string().contains("longer than the payload"));
    }
}
