//! IR nodes: operations of the dataflow DAG, each typed, each referring to earlier nodes by id.

// Reached from outside the crate only through `internals`, which is not API.
#![allow(missing_docs)]

use crate::math::{BinaryMathFunction, MathFunction};
use crate::types::Scalar;
use crate::types::{Elem, Type};

/// Index of a node in [`super::Program::nodes`].
///
/// Architecture Invariant: a node's operands have smaller ids than the node, so the node list
/// is a topological order and every walk over the IR is a loop, never a recursion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// A constant, stored by bits so that nodes hash and compare exactly (NaN included, -0 != +0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConstValue {
    F64(u64),
    F32(u32),
    I64(i64),
    I32(i32),
    Bool(bool),
    /// A null of the node's type.
    Null,
}

impl ConstValue {
    pub fn from_scalar(value: Option<Scalar>) -> Self {
        match value {
            None => ConstValue::Null,
            Some(Scalar::F64(v)) => ConstValue::F64(v.to_bits()),
            Some(Scalar::F32(v)) => ConstValue::F32(v.to_bits()),
            Some(Scalar::I64(v)) => ConstValue::I64(v),
            Some(Scalar::I32(v)) => ConstValue::I32(v),
            Some(Scalar::Bool(v)) => ConstValue::Bool(v),
        }
    }

    pub fn to_scalar(self) -> Option<Scalar> {
        match self {
            ConstValue::F64(bits) => Some(Scalar::F64(f64::from_bits(bits))),
            ConstValue::F32(bits) => Some(Scalar::F32(f32::from_bits(bits))),
            ConstValue::I64(v) => Some(Scalar::I64(v)),
            ConstValue::I32(v) => Some(Scalar::I32(v)),
            ConstValue::Bool(v) => Some(Scalar::Bool(v)),
            ConstValue::Null => None,
        }
    }

    /// The element type this constant's payload has, or `None` for a null (typed by its node).
    pub fn elem(self) -> Option<Elem> {
        match self {
            ConstValue::F64(_) => Some(Elem::F64),
            ConstValue::F32(_) => Some(Elem::F32),
            ConstValue::I64(_) => Some(Elem::I64),
            ConstValue::I32(_) => Some(Elem::I32),
            ConstValue::Bool(_) => Some(Elem::Bool),
            ConstValue::Null => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Not,
    /// A function of the vectorised math runtime (`ln`, `exp`, ...): one block call per
    /// block in native code.
    Math(MathFunction),
    Sqrt,
    Abs,
    Floor,
    Ceil,
    /// Round half to even (IEEE roundTiesToEven), like NumPy's `round`.
    Round,
    /// Round toward zero.
    Trunc,
    /// -1, +0 or 1 by the sign (NumPy's `sign`: ±0 gives +0, NaN gives NaN).
    Sign,
    /// Float tests giving bool: NaN; neither NaN nor ±inf; ±inf.
    IsNan,
    IsFinite,
    IsInf,
    IsNull,
    IsValid,
    /// Conversion to the node's element type (`f32(x)`, `f64(x)` and implicit promotions).
    Cast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// True division (check makes integer operands f64 first).
    Div,
    /// Floor division `//`: on integers `floor(a / b)`, null for `b == 0`; on floats NumPy's
    /// `floor_divide` (see `semantics::float_floor_divide`).
    FloorDiv,
    /// Modulo `%` with the sign of the divisor (Python's): on integers null for `b == 0`; on
    /// floats NumPy's `remainder`, exact.
    Mod,
    /// IEEE 754-2019 minimum: NaN-propagating, -0 < +0.
    Min,
    /// IEEE 754-2019 maximum: NaN-propagating, -0 < +0.
    Max,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Kleene AND: false wins over null.
    And,
    /// Kleene OR: true wins over null.
    Or,
    /// A two-argument function of the math runtime (`atan2`, `hypot`): one block call per
    /// block in native code.
    Math(BinaryMathFunction),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// The program's `slot`-th input (see [`super::Program::inputs`]).
    Input {
        slot: u32,
    },
    Const(ConstValue),
    Unary {
        op: UnaryOp,
        arg: NodeId,
    },
    Binary {
        op: BinaryOp,
        lhs: NodeId,
        rhs: NodeId,
    },
    /// `base ^ exponent` by repeated multiplication (see `semantics::pow_i` for the order).
    PowI {
        base: NodeId,
        exponent: i32,
    },
    /// Null where `cond` is null, else `then` or `otherwise` (which may be null).
    Where {
        cond: NodeId,
        then: NodeId,
        otherwise: NodeId,
    },
    /// `value` where valid, else `fallback`.
    Fill {
        value: NodeId,
        fallback: NodeId,
    },
    /// `value[i - k]`, null for `i < k`. Always a column.
    Lag {
        value: NodeId,
        k: u32,
    },
    /// A reduction of a column's valid rows to a scalar (see `ir::column_semantics`).
    Reduce {
        op: ReduceOp,
        arg: NodeId,
    },
    /// A column computed down a column with running state: rolling windows, cumulative ops,
    /// `ema` (see `ir::column_semantics`).
    Scan {
        op: ScanOp,
        arg: NodeId,
    },
}

/// A reduction (SPEC §2.4). `ddof` is 0 for the population form, 1 for the sample form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum,
    Mean,
    Var { ddof: u8 },
    Std { ddof: u8 },
    Min,
    Max,
    Count,
    Any,
    All,
}

/// A running computation down a column. Windows are the last `w` rows, the current one
/// included; `alpha` is stored by its bits so that ops hash exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanOp {
    MSum { w: u32 },
    MAvg { w: u32 },
    MStd { w: u32 },
    MMin { w: u32 },
    MMax { w: u32 },
    CumSum,
    CumProd,
    CumMax,
    CumMin,
    Ema { alpha_bits: u64 },
}

impl ReduceOp {
    /// The element type of this reduction of an operand of type `operand` (one table, used
    /// by `check` to type the node and by the semantics to type the value): `sum` of an
    /// integer is i64 (exact), `count` is i64, `any`/`all` are bool, the rest keep the type.
    pub fn result_elem(self, operand: Elem) -> Elem {
        match self {
            ReduceOp::Sum => match operand {
                Elem::I64 | Elem::I32 => Elem::I64,
                Elem::F64 | Elem::F32 | Elem::Bool => operand,
            },
            ReduceOp::Count => Elem::I64,
            ReduceOp::Any | ReduceOp::All => Elem::Bool,
            ReduceOp::Mean | ReduceOp::Var { .. } | ReduceOp::Std { .. } | ReduceOp::Min | ReduceOp::Max => {
                operand
            }
        }
    }

    /// Whether an integer operand is converted to f64 first: the reductions whose value is a
    /// float (they then compute exactly as the f64 versions do).
    pub fn takes_integers_as_f64(self) -> bool {
        match self {
            ReduceOp::Mean | ReduceOp::Var { .. } | ReduceOp::Std { .. } => true,
            ReduceOp::Sum
            | ReduceOp::Min
            | ReduceOp::Max
            | ReduceOp::Count
            | ReduceOp::Any
            | ReduceOp::All => false,
        }
    }

    pub fn name(self) -> String {
        match self {
            ReduceOp::Sum => "sum".into(),
            ReduceOp::Mean => "mean".into(),
            ReduceOp::Var { ddof } => format!("var[ddof={ddof}]"),
            ReduceOp::Std { ddof } => format!("std[ddof={ddof}]"),
            ReduceOp::Min => "min".into(),
            ReduceOp::Max => "max".into(),
            ReduceOp::Count => "count".into(),
            ReduceOp::Any => "any".into(),
            ReduceOp::All => "all".into(),
        }
    }
}

impl ScanOp {
    /// The element type of this scan of an operand of type `operand`: always the operand's
    /// (integer operands of the float-valued scans are converted to f64 first).
    pub fn result_elem(self, operand: Elem) -> Elem {
        operand
    }

    /// Whether an integer operand is converted to f64 first: `mavg`, `mstd`, `ema`.
    pub fn takes_integers_as_f64(self) -> bool {
        match self {
            ScanOp::MAvg { .. } | ScanOp::MStd { .. } | ScanOp::Ema { .. } => true,
            ScanOp::MSum { .. }
            | ScanOp::MMin { .. }
            | ScanOp::MMax { .. }
            | ScanOp::CumSum
            | ScanOp::CumProd
            | ScanOp::CumMax
            | ScanOp::CumMin => false,
        }
    }

    /// How many rows before a row its value reads, when that is bounded and the value is the
    /// same bits whatever row the evaluation starts at: `mmin`/`mmax` (exact) read `w − 1`.
    /// `None` for the rest: cumulative ops and `ema` read every earlier row, and
    /// `msum`/`mavg`/`mstd` restart their running sums at fixed rows, so a later start would
    /// not reproduce the whole column's bits.
    pub fn lookback(self) -> Option<u64> {
        match self {
            ScanOp::MMin { w } | ScanOp::MMax { w } => Some(u64::from(w.saturating_sub(1))),
            ScanOp::MSum { .. }
            | ScanOp::MAvg { .. }
            | ScanOp::MStd { .. }
            | ScanOp::CumSum
            | ScanOp::CumProd
            | ScanOp::CumMax
            | ScanOp::CumMin
            | ScanOp::Ema { .. } => None,
        }
    }

    /// How many rows before row `r` a state resumed there ([`ScanState::resume_at`]) must be
    /// fed to give the whole column's bits from row `r` on; `None` when only the whole
    /// prefix will do. `mmin`/`mmax` (and an integer `msum`) see exactly the window's `w − 1`
    /// rows. A float `msum`/`mavg` adds a suffix of the previous `w`-row block (fixed by row
    /// index) to a prefix of the current one, and `mstd` recomputes its moments from the
    /// window at the end of every such block and updates them in between: both are exact once
    /// fed from the start of the block before the current one, at most `2w − 1` rows back.
    /// Cumulative ops and `ema` carry their state from row 0.
    ///
    /// [`ScanState::resume_at`]: super::column_semantics::ScanState::resume_at
    pub fn warm_up(self) -> Option<u64> {
        match self {
            ScanOp::MMin { w } | ScanOp::MMax { w } => Some(u64::from(w.saturating_sub(1))),
            ScanOp::MSum { w } | ScanOp::MAvg { w } | ScanOp::MStd { w } => {
                Some((2 * u64::from(w)).saturating_sub(1))
            }
            ScanOp::CumSum | ScanOp::CumProd | ScanOp::CumMax | ScanOp::CumMin | ScanOp::Ema { .. } => None,
        }
    }

    pub fn name(self) -> String {
        match self {
            ScanOp::MSum { w } => format!("msum[{w}]"),
            ScanOp::MAvg { w } => format!("mavg[{w}]"),
            ScanOp::MStd { w } => format!("mstd[{w}]"),
            ScanOp::MMin { w } => format!("mmin[{w}]"),
            ScanOp::MMax { w } => format!("mmax[{w}]"),
            ScanOp::CumSum => "cumsum".into(),
            ScanOp::CumProd => "cumprod".into(),
            ScanOp::CumMax => "cummax".into(),
            ScanOp::CumMin => "cummin".into(),
            ScanOp::Ema { alpha_bits } => format!("ema[{}]", f64::from_bits(alpha_bits)),
        }
    }
}

impl NodeKind {
    /// The operands, in order.
    pub fn operands(&self) -> Vec<NodeId> {
        match *self {
            NodeKind::Input { .. } | NodeKind::Const(_) => Vec::new(),
            NodeKind::Unary { arg, .. } => vec![arg],
            NodeKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            NodeKind::PowI { base, .. } => vec![base],
            NodeKind::Where { cond, then, otherwise } => vec![cond, then, otherwise],
            NodeKind::Fill { value, fallback } => vec![value, fallback],
            NodeKind::Lag { value, .. } => vec![value],
            NodeKind::Reduce { arg, .. } | NodeKind::Scan { arg, .. } => vec![arg],
        }
    }

    /// The same operation with each operand replaced through `map`.
    pub fn map_operands(&self, mut map: impl FnMut(NodeId) -> NodeId) -> NodeKind {
        match *self {
            NodeKind::Input { .. } | NodeKind::Const(_) => *self,
            NodeKind::Unary { op, arg } => NodeKind::Unary { op, arg: map(arg) },
            NodeKind::Binary { op, lhs, rhs } => NodeKind::Binary { op, lhs: map(lhs), rhs: map(rhs) },
            NodeKind::PowI { base, exponent } => NodeKind::PowI { base: map(base), exponent },
            NodeKind::Where { cond, then, otherwise } => {
                NodeKind::Where { cond: map(cond), then: map(then), otherwise: map(otherwise) }
            }
            NodeKind::Fill { value, fallback } => {
                NodeKind::Fill { value: map(value), fallback: map(fallback) }
            }
            NodeKind::Lag { value, k } => NodeKind::Lag { value: map(value), k },
            NodeKind::Reduce { op, arg } => NodeKind::Reduce { op, arg: map(arg) },
            NodeKind::Scan { op, arg } => NodeKind::Scan { op, arg: map(arg) },
        }
    }

    /// Whether this node needs the whole column before its value exists: a reduction, which
    /// multi-pass plans split at. (A scan carries state down the rows inside the fused loop.)
    pub fn is_reduction(&self) -> bool {
        matches!(self, NodeKind::Reduce { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Node {
    pub kind: NodeKind,
    pub ty: Type,
}

impl Node {
    /// Whether this node can be null on a row where every operand is valid (`operand_elem`
    /// is its first operand's element type): a conversion to an integer type that may not
    /// hold the value (from a float, or i64 to i32), and integer `//` and `%` (a zero
    /// divisor). Everything else is null exactly where an operand is, or never.
    pub fn introduces_nulls(&self, operand_elem: Option<Elem>) -> bool {
        match self.kind {
            NodeKind::Unary { op: UnaryOp::Cast, .. } => matches!(
                (operand_elem, self.ty.elem),
                (Some(Elem::F64 | Elem::F32), Elem::I64 | Elem::I32) | (Some(Elem::I64), Elem::I32)
            ),
            NodeKind::Binary { op: BinaryOp::FloorDiv | BinaryOp::Mod, .. } => self.ty.elem.is_integer(),
            _ => false,
        }
    }
}

impl UnaryOp {
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Not => "not",
            UnaryOp::Math(function) => function.name(),
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Abs => "abs",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Round => "round",
            UnaryOp::Trunc => "trunc",
            UnaryOp::Sign => "sign",
            UnaryOp::IsNan => "is_nan",
            UnaryOp::IsFinite => "is_finite",
            UnaryOp::IsInf => "is_inf",
            UnaryOp::IsNull => "is_null",
            UnaryOp::IsValid => "is_valid",
            UnaryOp::Cast => "cast",
        }
    }
}

impl BinaryOp {
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::FloorDiv => "floordiv",
            BinaryOp::Mod => "mod",
            BinaryOp::Min => "min",
            BinaryOp::Max => "max",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Math(function) => function.name(),
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }

    pub fn is_logic(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }
}
