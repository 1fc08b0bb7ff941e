//! The typed IR: a hash-consed dataflow DAG of one program, its printer and its verifier.
//!
//! Architecture Invariant: the IR knows nothing about source text or Cranelift. Spans stay in
//! `check`; code generation reads the IR, never the other way round.

// Reached from outside the crate only through `internals`, which is not API.
#![allow(missing_docs)]

pub mod column_semantics;
pub mod node;
pub mod semantics;

pub use crate::types::{Elem, Shape, Type};
pub use node::{BinaryOp, ConstValue, Node, NodeId, NodeKind, ReduceOp, ScanOp, UnaryOp};

use std::collections::HashMap;
use std::fmt::Write as _;

/// One free name of the program, as the bindings must supply it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Input {
    pub name: String,
    pub ty: Type,
}

/// A whole program in IR form: inputs (in order of first use), nodes (topologically ordered),
/// and the node whose value is the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub inputs: Vec<Input>,
    pub nodes: Vec<Node>,
    /// The node `eval` returns: the last of `outputs`.
    pub result: NodeId,
    /// Every output column by name, in program order: `[("result", result)]` for a program
    /// without `out` statements.
    pub outputs: Vec<(String, NodeId)>,
}

impl Program {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn result_type(&self) -> Type {
        self.node(self.result).ty
    }

    /// Which nodes can have a null row, given which input slots can be null (a column with a
    /// bitmap, a scalar bound as possibly null). A column slot past the list counts as
    /// nullable, a scalar one as never null.
    pub fn nullable_nodes(&self, input_nullable: &[bool]) -> Vec<bool> {
        self.nullable_nodes_with(input_nullable, true)
    }

    /// [`nullable_nodes`](Self::nullable_nodes), counting a lag's first rows as nulls or not:
    /// a node nullable only with them has nulls in its first rows alone.
    pub fn nullable_nodes_with(&self, input_nullable: &[bool], lags_introduce_nulls: bool) -> Vec<bool> {
        let mut nullable: Vec<bool> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let of = |id: NodeId| nullable[id.index()];
            let value = match node.kind {
                NodeKind::Input { slot } => {
                    input_nullable.get(slot as usize).copied().unwrap_or(node.ty.shape == Shape::Column)
                }
                NodeKind::Const(value) => value == ConstValue::Null,
                NodeKind::Lag { value, k } => (lags_introduce_nulls && k > 0) || of(value),
                NodeKind::Unary { op: UnaryOp::IsNull | UnaryOp::IsValid, .. } => false,
                NodeKind::Fill { value, fallback } => of(value) && of(fallback),
                // A constant divisor other than zero: null only where an operand is.
                NodeKind::Binary { op: BinaryOp::FloorDiv | BinaryOp::Mod, lhs, rhs }
                    if self.nonzero_integer_constant(rhs) =>
                {
                    of(lhs) || of(rhs)
                }
                kind => {
                    let operands = kind.operands();
                    let operand_elem = operands.first().map(|&id| self.node(id).ty.elem);
                    node.introduces_nulls(operand_elem) || operands.into_iter().any(of)
                }
            };
            nullable.push(value);
        }
        nullable
    }

    /// Whether `id` is an integer constant other than zero, or a lag of one (whose valid
    /// rows hold it).
    fn nonzero_integer_constant(&self, id: NodeId) -> bool {
        self.integer_constant(id).is_some_and(|value| value != 0)
    }

    /// The value of an integer constant `id`, or of a lag of one (whose valid rows hold the
    /// constant), widened to i64. The one answer nullability (a non-zero divisor adds no
    /// nulls) and code generation (a divisor as an immediate) both read.
    pub fn integer_constant(&self, id: NodeId) -> Option<i64> {
        let (base, _) = self.resolve_lags(id);
        match self.node(base).kind {
            NodeKind::Const(ConstValue::I64(value)) => Some(value),
            NodeKind::Const(ConstValue::I32(value)) => Some(i64::from(value)),
            _ => None,
        }
    }

    /// Follows a chain of lags from `id` to the node it reads: `(base, total rows back)`.
    pub fn resolve_lags(&self, mut id: NodeId) -> (NodeId, u64) {
        let mut delta = 0u64;
        while let NodeKind::Lag { value, k } = self.node(id).kind {
            delta += u64::from(k);
            id = value;
        }
        (id, delta)
    }

    /// The program computing only output `index` (its dead nodes left for a pass to drop).
    pub fn select_output(&self, index: usize) -> Program {
        let (name, id) = self.outputs[index].clone();
        Program {
            inputs: self.inputs.clone(),
            nodes: self.nodes.clone(),
            result: id,
            outputs: vec![(name, id)],
        }
    }

    /// The outputs with their nodes mapped through `remap` (for passes that renumber nodes).
    pub fn remapped_outputs(&self, remap: impl Fn(NodeId) -> NodeId) -> Vec<(String, NodeId)> {
        self.outputs.iter().map(|(name, id)| (name.clone(), remap(*id))).collect()
    }

    /// The stable text form shared by tests, `--emit ir` and the REPL's `:ir`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (slot, input) in self.inputs.iter().enumerate() {
            let _ = writeln!(out, "input {slot} `{}`: {}", input.name, input.ty);
        }
        for (index, node) in self.nodes.iter().enumerate() {
            let _ = writeln!(out, "%{index}: {} = {}", node.ty, describe(&node.kind, node.ty, &self.inputs));
        }
        if self.outputs.len() > 1 {
            for (name, id) in &self.outputs {
                let _ = writeln!(out, "output `{name}` {id}");
            }
        }
        let _ = writeln!(out, "result {}", self.result);
        out
    }
}

fn describe(kind: &NodeKind, ty: Type, inputs: &[Input]) -> String {
    match *kind {
        NodeKind::Input { slot } => match inputs.get(slot as usize) {
            Some(input) => format!("input {slot} `{}`", input.name),
            None => format!("input {slot} <missing>"),
        },
        NodeKind::Const(value) => format!("const {}", format_const(value, ty.elem)),
        NodeKind::Unary { op, arg } => format!("{} {arg}", op.name()),
        NodeKind::Binary { op, lhs, rhs } => format!("{} {lhs}, {rhs}", op.name()),
        NodeKind::PowI { base, exponent } => format!("powi {base}, {exponent}"),
        NodeKind::Where { cond, then, otherwise } => format!("where {cond}, {then}, {otherwise}"),
        NodeKind::Fill { value, fallback } => format!("fill {value}, {fallback}"),
        NodeKind::Lag { value, k } => format!("lag {value}, {k}"),
        NodeKind::Reduce { op, arg } => format!("reduce {} {arg}", op.name()),
        NodeKind::Scan { op, arg } => format!("scan {} {arg}", op.name()),
    }
}

/// Constants print in shortest round-trip form, so the text determines the bits.
fn format_const(value: ConstValue, _elem: Elem) -> String {
    match value.to_scalar() {
        None => "null".to_string(),
        Some(scalar) => scalar.to_string(),
    }
}

/// Builds a [`Program`] node by node, sharing structurally equal nodes (hash-consing), so a
/// repeated subexpression — `ln(x)` in `ln(x) + ln(x) * 2` — is one node.
#[derive(Debug, Default)]
pub struct Builder {
    inputs: Vec<Input>,
    nodes: Vec<Node>,
    interned: HashMap<Node, NodeId>,
}

impl Builder {
    pub fn new() -> Self {
        Builder::default()
    }

    /// The slot of the input `name`, adding it on first use.
    pub fn input(&mut self, name: &str, ty: Type) -> NodeId {
        let slot = match self.inputs.iter().position(|input| input.name == name) {
            Some(slot) => slot,
            None => {
                self.inputs.push(Input { name: name.to_string(), ty });
                self.inputs.len() - 1
            }
        };
        let slot = u32::try_from(slot).expect("a program has far fewer than 2^32 inputs");
        self.add(Node { kind: NodeKind::Input { slot }, ty })
    }

    /// Declares inputs up front (passes re-emitting a program keep the slots as they were).
    pub fn with_inputs(inputs: Vec<Input>) -> Self {
        Builder { inputs, ..Builder::default() }
    }

    pub fn add(&mut self, node: Node) -> NodeId {
        if let Some(&id) = self.interned.get(&node) {
            return id;
        }
        let id = NodeId(u32::try_from(self.nodes.len()).expect("a program has far fewer than 2^32 nodes"));
        self.nodes.push(node);
        self.interned.insert(node, id);
        id
    }

    pub fn constant(&mut self, value: ConstValue, ty: Type) -> NodeId {
        self.add(Node { kind: NodeKind::Const(value), ty })
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// A program with these outputs (at least one); the last is its result.
    pub fn finish_outputs(self, outputs: Vec<(String, NodeId)>) -> Program {
        let result = outputs.last().map_or(NodeId(0), |(_, id)| *id);
        Program { inputs: self.inputs, nodes: self.nodes, result, outputs }
    }
}

/// An IR invariant that does not hold: always a compiler bug, never a user error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    pub node: Option<NodeId>,
    pub message: String,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.node {
            Some(node) => write!(f, "IR verifier: {node}: {}", self.message),
            None => write!(f, "IR verifier: {}", self.message),
        }
    }
}

/// Checks every structural and typing invariant of the IR. Run after lowering and after each pass.
pub fn verify(program: &Program) -> Result<(), VerifyError> {
    let fail = |index: usize, message: String| VerifyError { node: Some(NodeId(index as u32)), message };
    for (index, node) in program.nodes.iter().enumerate() {
        for operand in node.kind.operands() {
            if operand.index() >= index {
                return Err(fail(index, format!("operand {operand} does not precede its user")));
            }
        }
        let operand_ty = |id: NodeId| program.nodes[id.index()].ty;
        let ty = node.ty;
        let shape_of = |ids: &[NodeId]| {
            if ids.iter().any(|&id| operand_ty(id).shape == Shape::Column) {
                Shape::Column
            } else {
                Shape::Scalar
            }
        };
        let expect = |ok: bool, what: &str| if ok { Ok(()) } else { Err(fail(index, what.to_string())) };
        match node.kind {
            NodeKind::Input { slot } => {
                let input =
                    program.inputs.get(slot as usize).ok_or_else(|| fail(index, "no such input".into()))?;
                expect(input.ty == ty, "input node type differs from its declaration")?;
            }
            NodeKind::Const(value) => {
                expect(ty.shape == Shape::Scalar, "constants are scalars")?;
                if let Some(elem) = value.elem() {
                    expect(elem == ty.elem, "constant payload differs from its type")?;
                }
            }
            NodeKind::Unary { op, arg } => {
                let arg_ty = operand_ty(arg);
                expect(ty.shape == arg_ty.shape, "unary op changes shape")?;
                match op {
                    UnaryOp::Not => {
                        expect(arg_ty.elem == Elem::Bool && ty.elem == Elem::Bool, "not needs bool")?
                    }
                    UnaryOp::IsNull | UnaryOp::IsValid => {
                        expect(ty.elem == Elem::Bool, "is_null gives bool")?
                    }
                    UnaryOp::IsNan | UnaryOp::IsFinite | UnaryOp::IsInf => {
                        expect(arg_ty.elem.is_float() && ty.elem == Elem::Bool, "float tests give bool")?
                    }
                    UnaryOp::Cast => {
                        expect(arg_ty.elem.is_numeric() && ty.elem.is_numeric(), "cast between numbers only")?
                    }
                    UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign => {
                        expect(arg_ty.elem.is_numeric() && ty.elem == arg_ty.elem, "sign ops need numbers")?
                    }
                    UnaryOp::Math(_)
                    | UnaryOp::Sqrt
                    | UnaryOp::Floor
                    | UnaryOp::Ceil
                    | UnaryOp::Round
                    | UnaryOp::Trunc => {
                        expect(arg_ty.elem.is_float() && ty.elem == arg_ty.elem, "float op needs floats")?
                    }
                }
            }
            NodeKind::Binary { op, lhs, rhs } => {
                let (l, r) = (operand_ty(lhs), operand_ty(rhs));
                expect(l.elem == r.elem, "binary operands differ in element type")?;
                expect(ty.shape == shape_of(&[lhs, rhs]), "binary result shape is not the broadcast")?;
                if op.is_logic() {
                    expect(l.elem == Elem::Bool && ty.elem == Elem::Bool, "logic needs bool")?;
                } else if op.is_comparison() {
                    expect(ty.elem == Elem::Bool, "comparison gives bool")?;
                    if !matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
                        expect(l.elem.is_numeric(), "ordering needs numbers")?;
                    }
                } else if matches!(op, BinaryOp::Div | BinaryOp::Math(_)) {
                    expect(l.elem.is_float() && ty.elem == l.elem, "true division needs floats")?;
                } else {
                    expect(l.elem.is_numeric() && ty.elem == l.elem, "arithmetic needs numbers")?;
                }
            }
            NodeKind::PowI { base, exponent } => {
                let base_ty = operand_ty(base);
                expect(base_ty.elem.is_numeric() && base_ty == ty, "powi keeps its number type")?;
                expect(exponent >= 0 || base_ty.elem.is_float(), "integers have no negative powers")?;
            }
            NodeKind::Where { cond, then, otherwise } => {
                expect(operand_ty(cond).elem == Elem::Bool, "where condition must be bool")?;
                expect(
                    operand_ty(then).elem == ty.elem && operand_ty(otherwise).elem == ty.elem,
                    "where arms",
                )?;
                expect(ty.shape == shape_of(&[cond, then, otherwise]), "where shape is not the broadcast")?;
            }
            NodeKind::Fill { value, fallback } => {
                expect(
                    operand_ty(value).elem == ty.elem && operand_ty(fallback).elem == ty.elem,
                    "fill types",
                )?;
                expect(ty.shape == shape_of(&[value, fallback]), "fill shape is not the broadcast")?;
            }
            NodeKind::Lag { value, .. } => {
                expect(ty.shape == Shape::Column && ty.elem == operand_ty(value).elem, "lag gives a column")?;
            }
            NodeKind::Reduce { op, arg } => {
                let arg_ty = operand_ty(arg);
                expect(
                    arg_ty.shape == Shape::Column && ty.shape == Shape::Scalar,
                    "reduce: column to scalar",
                )?;
                let operand_ok = match op {
                    ReduceOp::Any | ReduceOp::All => arg_ty.elem == Elem::Bool,
                    ReduceOp::Count => true,
                    ReduceOp::Mean | ReduceOp::Var { .. } | ReduceOp::Std { .. } => arg_ty.elem.is_float(),
                    ReduceOp::Sum | ReduceOp::Min | ReduceOp::Max => arg_ty.elem.is_numeric(),
                };
                expect(operand_ok && ty.elem == op.result_elem(arg_ty.elem), "reduce element types")?;
            }
            NodeKind::Scan { op, arg } => {
                let arg_ty = operand_ty(arg);
                let operand_ok = if op.takes_integers_as_f64() {
                    arg_ty.elem.is_float()
                } else {
                    arg_ty.elem.is_numeric()
                };
                expect(
                    arg_ty.shape == Shape::Column
                        && operand_ok
                        && ty == Type::column(op.result_elem(arg_ty.elem)),
                    "scan element types",
                )?;
            }
        }
    }
    if program.result.index() >= program.nodes.len() {
        return Err(VerifyError { node: None, message: format!("result {} does not exist", program.result) });
    }
    if program.outputs.last().map(|(_, id)| *id) != Some(program.result)
        || program.outputs.iter().any(|(_, id)| id.index() >= program.nodes.len())
    {
        return Err(VerifyError {
            node: None,
            message: "outputs do not exist or do not end with the result".into(),
        });
    }
    Ok(())
}
