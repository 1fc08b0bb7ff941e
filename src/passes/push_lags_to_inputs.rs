//! Lag push-down: a lag of cheap row-local arithmetic on inputs is the same arithmetic on
//! lags of the inputs (`lag(px - y, 1)` is `lag(px, 1) - lag(y, 1)`), and a lag of a lag of
//! an input is one lag (`lag(lag(x, 1), 2)` is `lag(x, 3)`).
//!
//! Why: a lag of a computed value makes the native loop keep that value in a buffer with a
//! halo, carried from block to block, and read it back across lane groups a lane at a time;
//! a lag of an input is a load at an offset from the input itself. Recomputing one to
//! `MAX_RECOMPUTED_NODES` cheap operations per row costs less than that round trip — and
//! nothing when the value itself is needed only lagged.
//!
//! Why it is exact: every operation pushed through is *strict* — its row is null when any
//! operand's row is null, and otherwise a function of the operands' rows alone (a conversion
//! that can make a null from a value is still such a function). So for row `r ≥ k`,
//! `op(lag(a, k), lag(b, k))[r] = op(a[r-k], b[r-k]) = lag(op(a, b), k)[r]`, value and validity;
//! for `r < k` a lagged column operand is null, so both sides are null. A node whose value is
//! a column has at least one column operand, and scalars (constants, scalar inputs,
//! reductions) are the same on every row, so they are not lagged. Non-strict operations —
//! Kleene `&&`/`||`, `where`, `fill`, `is_null`/`is_valid` — give a value on a null row and
//! are never pushed through; neither are math functions, divisions and powers, whose second
//! evaluation per row would cost more than the buffer.

use crate::ir::{BinaryOp, Builder, Node, NodeId, NodeKind, Program, Shape, Type, UnaryOp};

/// The most operations one lag may recompute; past it the lag stays a lag of the value. It
/// also bounds `lagged`'s recursion: each level spends one.
pub(crate) const MAX_RECOMPUTED_NODES: usize = 4;

pub fn run(program: &Program) -> Program {
    let mut builder = Builder::with_inputs(program.inputs.clone());
    let mut remap: Vec<NodeId> = Vec::with_capacity(program.nodes.len());
    for node in &program.nodes {
        let kind = node.kind.map_operands(|id| remap[id.index()]);
        let pushed = match kind {
            // A lag of a scalar is a column (null, then the scalar): it stays as it is.
            NodeKind::Lag { value, k } if k > 0 && builder.node(value).ty.shape == Shape::Column => {
                let mut budget = MAX_RECOMPUTED_NODES;
                lagged(&mut builder, value, k, &mut budget)
            }
            _ => None,
        };
        remap.push(pushed.unwrap_or_else(|| builder.add(Node { kind, ..*node })));
    }
    builder.finish_outputs(program.remapped_outputs(|id| remap[id.index()]))
}

/// `lag(id, k)` of a column `id` written with lags of inputs only (a scalar operand met on
/// the way is itself), or `None` when `id` computes something that is not cheap and strict,
/// or needs more than `budget` operations. Nodes added on the way to a `None` are left
/// unread, for `eliminate_dead_nodes`.
fn lagged(builder: &mut Builder, id: NodeId, k: u32, budget: &mut usize) -> Option<NodeId> {
    let node = *builder.node(id);
    if node.ty.shape == Shape::Scalar {
        // An operand the same on every row, beside a column operand: not lagged (see the
        // module's note on why that is exact).
        return Some(id);
    }
    let column = Type { shape: Shape::Column, ..node.ty };
    let kind = match node.kind {
        NodeKind::Input { .. } => NodeKind::Lag { value: id, k },
        NodeKind::Lag { value, k: inner } if matches!(builder.node(value).kind, NodeKind::Input { .. }) => {
            NodeKind::Lag { value, k: inner.checked_add(k)? }
        }
        NodeKind::Unary { op, arg } if is_cheap_and_strict_unary(op) => {
            *budget = budget.checked_sub(1)?;
            NodeKind::Unary { op, arg: lagged(builder, arg, k, budget)? }
        }
        NodeKind::Binary { op, lhs, rhs } if is_cheap_and_strict_binary(op) => {
            *budget = budget.checked_sub(1)?;
            let lhs = lagged(builder, lhs, k, budget)?;
            NodeKind::Binary { op, lhs, rhs: lagged(builder, rhs, k, budget)? }
        }
        NodeKind::Const(_)
        | NodeKind::Unary { .. }
        | NodeKind::Binary { .. }
        | NodeKind::PowI { .. }
        | NodeKind::Where { .. }
        | NodeKind::Fill { .. }
        | NodeKind::Lag { .. }
        | NodeKind::Reduce { .. }
        | NodeKind::Scan { .. } => return None,
    };
    Some(builder.add(Node { kind, ty: column }))
}

/// Null exactly where its operand is, and about as cheap as a load.
fn is_cheap_and_strict_unary(op: UnaryOp) -> bool {
    match op {
        UnaryOp::Neg
        | UnaryOp::Not
        | UnaryOp::Abs
        | UnaryOp::Floor
        | UnaryOp::Ceil
        | UnaryOp::Round
        | UnaryOp::Trunc
        | UnaryOp::Sign
        | UnaryOp::IsNan
        | UnaryOp::IsFinite
        | UnaryOp::IsInf
        | UnaryOp::Cast => true,
        // Not strict: a value for a null row.
        UnaryOp::IsNull | UnaryOp::IsValid => false,
        // Strict, but dearer than keeping the value: a block call or a long latency.
        UnaryOp::Math(_) | UnaryOp::Sqrt => false,
    }
}

/// Null where either operand is, and about as cheap as a load.
fn is_cheap_and_strict_binary(op: BinaryOp) -> bool {
    match op {
        BinaryOp::Add
        | BinaryOp::Sub
        | BinaryOp::Mul
        | BinaryOp::Min
        | BinaryOp::Max
        | BinaryOp::Eq
        | BinaryOp::Ne
        | BinaryOp::Lt
        | BinaryOp::Le
        | BinaryOp::Gt
        | BinaryOp::Ge => true,
        // Not strict: Kleene logic gives false (or true) over a null.
        BinaryOp::And | BinaryOp::Or => false,
        // Strict, but dearer than keeping the value.
        BinaryOp::Div | BinaryOp::FloorDiv | BinaryOp::Mod | BinaryOp::Math(_) => false,
    }
}
