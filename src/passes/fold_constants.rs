//! Constant folding: IEEE-exact evaluation of constant subexpressions, removal of no-ops, and
//! a `where` on a null test written as the `fill` it is.
//!
//! Only what gives the same bits at run time is folded: every fold calls `ir::semantics`, the
//! very functions the interpreter runs (and native code must match), including `ln`/`exp`
//! through the runtime's single definition. No algebraic identity that could change a bit
//! (`x + 0` is not `x` for `x = -0`; `x * 1` is not `x` for a signalling NaN) is applied.

use crate::ir::{Builder, ConstValue, Node, NodeId, NodeKind, Program, Shape, UnaryOp, semantics};

pub fn run(program: &Program) -> Program {
    let mut builder = Builder::with_inputs(program.inputs.clone());
    let mut remap: Vec<NodeId> = Vec::with_capacity(program.nodes.len());
    for node in &program.nodes {
        let kind = node.kind.map_operands(|id| remap[id.index()]);
        let kind = null_test_as_fill(&builder, kind).unwrap_or(kind);
        let folded = fold(&builder, kind, node.ty.elem).map(|value| builder.constant(value, node.ty));
        let id = folded
            .or_else(|| simplify(&builder, kind, node))
            .unwrap_or_else(|| builder.add(Node { kind, ..*node }));
        remap.push(id);
    }
    builder.finish_outputs(program.remapped_outputs(|id| remap[id.index()]))
}

fn constant_of(builder: &Builder, id: NodeId) -> Option<ConstValue> {
    match builder.node(id).kind {
        NodeKind::Const(value) => Some(value),
        _ => None,
    }
}

/// The constant this node evaluates to, when all its operands are constants.
fn fold(builder: &Builder, kind: NodeKind, elem: crate::ir::Elem) -> Option<ConstValue> {
    let value = |id| constant_of(builder, id).map(ConstValue::to_scalar);
    let result = match kind {
        NodeKind::Unary { op, arg } => semantics::unary(op, elem, value(arg)?),
        NodeKind::Binary { op, lhs, rhs } => semantics::binary(op, value(lhs)?, value(rhs)?),
        NodeKind::PowI { base, exponent } => semantics::pow_i(value(base)?, exponent),
        NodeKind::Where { cond, then, otherwise } => {
            semantics::choose(value(cond)?, value(then)?, value(otherwise)?)
        }
        NodeKind::Fill { value: x, fallback } => semantics::fill(value(x)?, value(fallback)?),
        // A lag of a constant is a column (null at the start); inputs and constants stay.
        // Reductions and scans read columns, which are never constants.
        NodeKind::Lag { .. }
        | NodeKind::Input { .. }
        | NodeKind::Const(_)
        | NodeKind::Reduce { .. }
        | NodeKind::Scan { .. } => return None,
    };
    Some(ConstValue::from_scalar(result))
}

/// A node that is exactly one of its operands: `lag(x, 0)` of a column, `where` on a constant
/// non-null condition, `fill` of a constant non-null value — when the types agree exactly.
fn simplify(builder: &Builder, kind: NodeKind, node: &Node) -> Option<NodeId> {
    let same_type = |id: NodeId| (builder.node(id).ty == node.ty).then_some(id);
    match kind {
        NodeKind::Lag { value, k: 0 } if node.ty.shape == Shape::Column => same_type(value),
        NodeKind::Where { cond, then, otherwise } => match constant_of(builder, cond)? {
            ConstValue::Bool(true) => same_type(then),
            ConstValue::Bool(false) => same_type(otherwise),
            _ => None,
        },
        NodeKind::Fill { value, .. } => match constant_of(builder, value)? {
            ConstValue::Null => None,
            _ => same_type(value),
        },
        _ => None,
    }
}

/// `where(is_null(x), v, x)` and `where(is_valid(x), x, v)` as `fill(x, v)`: row by row the
/// same value and the same validity (the condition is never null; where `x` is null both give
/// `v`, else `x`), so the bits cannot differ. The arm must be `x` itself — not a conversion of
/// it — so that the `fill` has the `where`'s type. The `fill` is the form the vector loops
/// read as lane masks (`fuse_loops`); the `where`, whose arm can be null, runs a row at a time.
fn null_test_as_fill(builder: &Builder, kind: NodeKind) -> Option<NodeKind> {
    let NodeKind::Where { cond, then, otherwise } = kind else { return None };
    let NodeKind::Unary { op, arg } = builder.node(cond).kind else { return None };
    match op {
        UnaryOp::IsNull if otherwise == arg => Some(NodeKind::Fill { value: arg, fallback: then }),
        UnaryOp::IsValid if then == arg => Some(NodeKind::Fill { value: arg, fallback: otherwise }),
        _ => None,
    }
}
