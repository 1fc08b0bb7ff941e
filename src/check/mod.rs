//! The second stage: resolves names, checks arities and types against a schema, and lowers the
//! checked program to the IR (there is no separate typed AST: types live on IR nodes).
//!
//! All user-facing compile errors come from `syntax` or from here; later stages only see
//! programs that are well formed, and report anything else as an internal error.
//!
//! Typing (SPEC §2.2, docs/LANGUAGE.md "Types"): literals, scalars and columns broadcast. When
//! numeric operands meet (see `Lowerer::unify`):
//! - floats only: the strongest kind decides — column over scalar parameter over literal —
//!   and among the strongest, `f64` wins over `f32`: `x32 * 2.5` and `x32 * a` stay `f32`,
//!   `x32 + y64` is `f64`;
//! - integers only: `i64` unless every operand is `i32` or an integer literal that fits in
//!   i32 (`x32i + 1` stays `i32`; literals alone are `i64`);
//! - integers and floats: `f64` when an integer is among the strongest (`n * 2.5`, `n + x32`),
//!   else the floats' type (`x32 * 2` stays `f32`).
//!
//! Conversions check, arithmetic wraps: see `ir::semantics`.

pub mod functions;
pub mod structure;

pub use structure::check_structure;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::ir::{
    self, BinaryOp, ConstValue, Elem, Node, NodeId, NodeKind, ReduceOp, ScanOp, Shape, Type, UnaryOp,
};
use crate::math::{BinaryMathFunction, MathFunction};
use crate::syntax::Span;
use crate::syntax::ast::{self, Expr, ExprKind, Program, Statement};
use crate::types::Scalar;
use functions::Function;
use std::collections::HashMap;

/// The types of the names a program may read: what the bindings of one evaluation supply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Schema {
    entries: Vec<(String, Type)>,
}

impl Schema {
    /// An empty schema.
    #[must_use]
    pub fn new() -> Self {
        Schema::default()
    }

    /// Adds or replaces `name`.
    pub fn insert(&mut self, name: impl Into<String>, ty: Type) -> &mut Self {
        let name = name.into();
        match self.entries.iter_mut().find(|(existing, _)| *existing == name) {
            Some(entry) => entry.1 = ty,
            None => self.entries.push((name, ty)),
        }
        self
    }

    /// The type of `name`.
    pub fn get(&self, name: &str) -> Option<Type> {
        self.entries.iter().find(|(existing, _)| existing == name).map(|(_, ty)| *ty)
    }

    /// Every name, in insertion order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| name.as_str())
    }

    /// Every name with its type, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Type)> {
        self.entries.iter().map(|(name, ty)| (name.as_str(), *ty))
    }
}

/// Checks `program` against `schema` and lowers it to IR (before any optimisation pass).
pub fn check(program: &Program, schema: &Schema) -> Result<ir::Program, Diagnostic> {
    check_structure(program)?;
    let mut lowerer = Lowerer { schema, builder: ir::Builder::new(), scope: HashMap::new() };
    let mut outputs: Vec<(String, NodeId)> = Vec::new();
    for statement in &program.statements {
        match statement {
            Statement::Let { name, value, output, .. } => {
                let value = lowerer.expr(value)?;
                if *output {
                    outputs.push((name.text.clone(), lowerer.output(value)?));
                }
                lowerer.scope.insert(name.text.clone(), value);
            }
            Statement::Expr(expr) => {
                let value = lowerer.expr(expr)?;
                outputs.push(("result".to_string(), lowerer.output(value)?));
            }
        }
    }
    // check_structure guarantees the program ends with an expression or an output.
    if outputs.is_empty() {
        return Err(Diagnostic::new(Span::new(0, 0), "internal error: no result expression"));
    }
    Ok(lowerer.builder.finish_outputs(outputs))
}

/// A checked value: its IR node and what typing needs beyond the node's type.
#[derive(Debug, Clone, Copy)]
struct Value {
    node: NodeId,
    ty: Type,
    span: Span,
    /// Computed from literals only: the weakest kind, which adopts the type of what it meets.
    constant: bool,
    /// The `null` literal (or an expression of nulls): it adopts any element type, bool included.
    untyped_null: bool,
    /// An integer literal (or `+ - *` of them) that no cast has typed: its value, so that it
    /// can stay `i32` beside an i32 operand when it fits.
    integer_literal: Option<i64>,
}

impl Value {
    /// Typing strength: literal < scalar parameter < column.
    fn strength(&self) -> u8 {
        match (self.ty.shape, self.constant) {
            (Shape::Column, _) => 2,
            (Shape::Scalar, false) => 1,
            (Shape::Scalar, true) => 0,
        }
    }
}

struct Lowerer<'a> {
    schema: &'a Schema,
    builder: ir::Builder,
    scope: HashMap<String, Value>,
}

fn broadcast(values: &[Value]) -> Shape {
    if values.iter().any(|value| value.ty.shape == Shape::Column) { Shape::Column } else { Shape::Scalar }
}

impl Lowerer<'_> {
    fn expr(&mut self, expr: &Expr) -> Result<Value, Diagnostic> {
        let span = expr.span;
        match &expr.kind {
            // Digits only, within i64: an integer literal; anything else (a point, an exponent,
            // or more digits than i64 holds) is an f64 literal.
            ExprKind::Number { value, integer, .. } => match integer.and_then(|v| i64::try_from(v).ok()) {
                Some(integer) => {
                    let mut value = self.constant(Some(Scalar::I64(integer)), Elem::I64, span);
                    value.integer_literal = Some(integer);
                    Ok(value)
                }
                None => Ok(self.constant(Some(Scalar::F64(*value)), Elem::F64, span)),
            },
            ExprKind::Bool(value) => Ok(self.constant(Some(Scalar::Bool(*value)), Elem::Bool, span)),
            ExprKind::Null => {
                let mut value = self.constant(None, Elem::F64, span);
                value.untyped_null = true;
                Ok(value)
            }
            ExprKind::Name(name) => self.name(name, span),
            ExprKind::Unary { op: ast::UnaryOp::Neg, operand } => {
                let operand = self.expr(operand)?;
                let operand = self.numeric(operand, "-")?;
                let mut negated = self.unary(UnaryOp::Neg, operand, operand.ty.elem, span);
                negated.integer_literal = operand.integer_literal.map(i64::wrapping_neg);
                Ok(negated)
            }
            ExprKind::Unary { op: ast::UnaryOp::Not, operand } => {
                let operand = self.expr(operand)?;
                let operand = self.logical(operand, "!")?;
                Ok(self.unary(UnaryOp::Not, operand, Elem::Bool, span))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let lhs = self.expr(lhs)?;
                let rhs = self.expr(rhs)?;
                self.binary(*op, lhs, rhs, span)
            }
            ExprKind::Power { base, exponent } => match structure::exponent_literal(exponent) {
                // An integer literal exponent: repeated multiplication (`semantics::pow_i`).
                Ok(n) => {
                    let base = self.expr(base)?;
                    let mut base = self.numeric(base, "^")?;
                    // An integer to a negative power is a float, as in Python (`2 ^ -1` is 0.5).
                    if n < 0 && base.ty.elem.is_integer() {
                        base = self.coerce(base, Elem::F64);
                    }
                    Ok(self.derived(NodeKind::PowI { base: base.node, exponent: n }, base.ty, &[base], span))
                }
                // Any other exponent: the math runtime's `pow`, a float.
                Err(_) => {
                    let mut operands = [self.expr(base)?, self.expr(exponent)?];
                    let mut elem = self.unify_numeric(&mut operands, "^")?;
                    if elem.is_integer() {
                        operands = operands.map(|operand| self.coerce(operand, Elem::F64));
                        elem = Elem::F64;
                    }
                    Ok(self.binary_node(BinaryOp::Math(BinaryMathFunction::Pow), operands, elem, span))
                }
            },
            ExprKind::Call { function, args } => self.call(&function.text, args, span),
        }
    }

    fn constant(&mut self, value: Option<Scalar>, elem: Elem, span: Span) -> Value {
        let ty = Type::scalar(elem);
        let node = self.builder.constant(ConstValue::from_scalar(value), ty);
        Value { node, ty, span, constant: true, untyped_null: false, integer_literal: None }
    }

    fn name(&mut self, name: &str, span: Span) -> Result<Value, Diagnostic> {
        if let Some(value) = self.scope.get(name) {
            return Ok(Value { span, ..*value });
        }
        if let Some(ty) = self.schema.get(name) {
            let node = self.builder.input(name, ty);
            return Ok(Value { node, ty, span, constant: false, untyped_null: false, integer_literal: None });
        }
        let mut known: Vec<&str> = self.schema.names().collect();
        known.extend(self.scope.keys().map(String::as_str));
        let error = Diagnostic::new(span, format!("unknown name '{name}'"));
        let inputs: Vec<&str> = self.schema.names().collect();
        let listing = if inputs.is_empty() {
            "no inputs are bound".to_string()
        } else {
            format!("inputs are: {}", inputs.join(", "))
        };
        Err(match did_you_mean(name, known) {
            Some(suggestion) => error.with_hint(format!("did you mean '{suggestion}'? {listing}")),
            None => error.with_hint(listing),
        })
    }

    /// Adds a node whose result is derived from `operands`: constant-ness and untyped-null-ness
    /// carry over when every operand has them.
    fn derived(&mut self, kind: NodeKind, ty: Type, operands: &[Value], span: Span) -> Value {
        let node = self.builder.add(Node { kind, ty });
        Value {
            node,
            ty,
            span,
            constant: operands.iter().all(|value| value.constant),
            untyped_null: operands.iter().all(|value| value.untyped_null),
            integer_literal: None,
        }
    }

    fn unary(&mut self, op: UnaryOp, operand: Value, elem: Elem, span: Span) -> Value {
        let ty = Type::new(elem, operand.ty.shape);
        self.derived(NodeKind::Unary { op, arg: operand.node }, ty, &[operand], span)
    }

    /// Converts `value` to element type `elem` (a retyped null for the `null` literal).
    fn coerce(&mut self, value: Value, elem: Elem) -> Value {
        if value.ty.elem == elem {
            return value;
        }
        if value.untyped_null {
            let ty = Type::new(elem, value.ty.shape);
            let null = self.builder.constant(ConstValue::Null, Type::scalar(elem));
            // A constant is a scalar. A column of typeless nulls (`lag(null, 1)`, and what is
            // derived from it) is null on every row: as a typed column, the lag of a typed null.
            let node = match value.ty.shape {
                Shape::Scalar => null,
                Shape::Column => self.builder.add(Node { kind: NodeKind::Lag { value: null, k: 1 }, ty }),
            };
            return Value { node, ty, ..value };
        }
        let ty = Type::new(elem, value.ty.shape);
        let node =
            self.builder.add(Node { kind: NodeKind::Unary { op: UnaryOp::Cast, arg: value.node }, ty });
        Value { node, ty, integer_literal: None, ..value }
    }

    /// An integer converted to f64 (for the operations whose value is a float); other
    /// values as they are.
    fn float_if_integer(&mut self, value: Value) -> Value {
        if value.ty.elem.is_integer() { self.coerce(value, Elem::F64) } else { value }
    }

    /// A single numeric operand (a typed null becomes an f64 null).
    fn numeric(&mut self, value: Value, what: &str) -> Result<Value, Diagnostic> {
        if value.untyped_null {
            return Ok(self.coerce(value, Elem::F64));
        }
        if value.ty.elem == Elem::Bool {
            let hint = if ["<", "<=", ">", ">="].contains(&what) {
                "bools are not ordered; compare them with == or !="
            } else {
                "arithmetic on bools is not allowed; use where(c, 1, 0) to get a number"
            };
            return Err(Diagnostic::new(value.span, format!("'{what}' needs a number, but this is bool"))
                .with_hint(hint));
        }
        Ok(value)
    }

    fn logical(&mut self, value: Value, what: &str) -> Result<Value, Diagnostic> {
        if value.untyped_null {
            return Ok(self.coerce(value, Elem::Bool));
        }
        if value.ty.elem != Elem::Bool {
            return Err(Diagnostic::new(
                value.span,
                format!("'{what}' needs a bool, but this is {}", value.ty.elem),
            )
            .with_hint("logic works on conditions; compare first, e.g. `x > 0`"));
        }
        Ok(value)
    }

    /// Brings numeric operands to one element type (see the module docs for the rule).
    fn unify_numeric(&mut self, values: &mut [Value], what: &str) -> Result<Elem, Diagnostic> {
        for value in values.iter_mut() {
            *value = self.numeric(*value, what)?;
        }
        Ok(self.unify(values))
    }

    /// Operands that may be numbers or bools (where's arms, fill): all bool, or all numbers.
    fn unify_any(&mut self, values: &mut [Value], what: &str) -> Result<Elem, Diagnostic> {
        let typed: Vec<&Value> = values.iter().filter(|value| !value.untyped_null).collect();
        if typed.iter().any(|value| value.ty.elem == Elem::Bool) {
            if let Some(number) = typed.iter().find(|value| value.ty.elem != Elem::Bool) {
                return Err(Diagnostic::new(
                    number.span,
                    format!(
                        "'{what}' needs operands of one type, but this is {} and another is bool",
                        number.ty.elem
                    ),
                )
                .with_hint("make both numbers with where(c, 1, 0), or both bools by comparing the number"));
            }
            for value in values.iter_mut() {
                *value = self.coerce(*value, Elem::Bool);
            }
            return Ok(Elem::Bool);
        }
        self.unify_numeric(values, what)
    }

    /// The element type numeric operands meet at (the module docs state the rule), with each
    /// operand converted to it.
    fn unify(&mut self, values: &mut [Value]) -> Elem {
        let typed: Vec<Value> = values.iter().copied().filter(|value| !value.untyped_null).collect();
        let elem = match typed.iter().map(Value::strength).max() {
            None => Elem::F64,
            Some(strength) => {
                let strongest = || typed.iter().filter(|value| value.strength() == strength);
                let any_float = typed.iter().any(|value| value.ty.elem.is_float());
                let any_integer = typed.iter().any(|value| value.ty.elem.is_integer());
                let floats_type = if strongest().any(|value| value.ty.elem == Elem::F64) {
                    Elem::F64
                } else if strongest().any(|value| value.ty.elem == Elem::F32) {
                    Elem::F32
                } else {
                    // The strongest are integers: a weaker float makes the result f64.
                    Elem::F64
                };
                if !any_integer {
                    floats_type
                } else if any_float {
                    if strongest().any(|value| value.ty.elem.is_integer()) { Elem::F64 } else { floats_type }
                } else {
                    let fits_i32 = |value: &Value| {
                        value.integer_literal.is_some_and(|literal| i32::try_from(literal).is_ok())
                    };
                    let all_literals = typed.iter().all(|value| value.integer_literal.is_some());
                    let needs_i64 = typed.iter().any(|value| value.ty.elem == Elem::I64 && !fits_i32(value));
                    if all_literals || needs_i64 { Elem::I64 } else { Elem::I32 }
                }
            }
        };
        for value in values.iter_mut() {
            *value = self.coerce(*value, elem);
        }
        elem
    }

    fn binary(&mut self, op: ast::BinaryOp, lhs: Value, rhs: Value, span: Span) -> Result<Value, Diagnostic> {
        use ast::BinaryOp as A;
        let symbol = op.symbol();
        let mut operands = [lhs, rhs];
        let (ir_op, elem) = match op {
            A::Or | A::And => {
                operands[0] = self.logical(lhs, symbol)?;
                operands[1] = self.logical(rhs, symbol)?;
                (if op == A::Or { BinaryOp::Or } else { BinaryOp::And }, Elem::Bool)
            }
            A::Eq | A::Ne => {
                self.unify_any(&mut operands, symbol)?;
                (if op == A::Eq { BinaryOp::Eq } else { BinaryOp::Ne }, Elem::Bool)
            }
            A::Lt | A::Le | A::Gt | A::Ge => {
                self.unify_numeric(&mut operands, symbol)?;
                let ir_op = match op {
                    A::Lt => BinaryOp::Lt,
                    A::Le => BinaryOp::Le,
                    A::Gt => BinaryOp::Gt,
                    _ => BinaryOp::Ge,
                };
                (ir_op, Elem::Bool)
            }
            A::Add | A::Sub | A::Mul | A::FloorDiv | A::Mod => {
                let elem = self.unify_numeric(&mut operands, symbol)?;
                let ir_op = match op {
                    A::Add => BinaryOp::Add,
                    A::Sub => BinaryOp::Sub,
                    A::Mul => BinaryOp::Mul,
                    A::FloorDiv => BinaryOp::FloorDiv,
                    _ => BinaryOp::Mod,
                };
                (ir_op, elem)
            }
            // True division: integers are divided as f64, as NumPy and Polars do.
            A::Div => {
                let elem = self.unify_numeric(&mut operands, symbol)?;
                if elem.is_integer() {
                    operands = operands.map(|operand| self.coerce(operand, Elem::F64));
                    (BinaryOp::Div, Elem::F64)
                } else {
                    (BinaryOp::Div, elem)
                }
            }
        };
        let mut value = self.binary_node(ir_op, operands, elem, span);
        // Integer literals combined by + - * stay literals, with their (wrapping) value.
        if let [Some(a), Some(b)] = operands.map(|operand| operand.integer_literal) {
            value.integer_literal = match ir_op {
                BinaryOp::Add => Some(a.wrapping_add(b)),
                BinaryOp::Sub => Some(a.wrapping_sub(b)),
                BinaryOp::Mul => Some(a.wrapping_mul(b)),
                _ => None,
            };
        }
        Ok(value)
    }

    fn binary_node(&mut self, op: BinaryOp, operands: [Value; 2], elem: Elem, span: Span) -> Value {
        let ty = Type::new(elem, broadcast(&operands));
        let kind = NodeKind::Binary { op, lhs: operands[0].node, rhs: operands[1].node };
        self.derived(kind, ty, &operands, span)
    }

    fn lag(&mut self, value: Value, k: u32, span: Span) -> Value {
        let ty = Type::column(value.ty.elem);
        let mut lagged = self.derived(NodeKind::Lag { value: value.node, k }, ty, &[value], span);
        // A lag introduces nulls at the start: it is never a literal.
        lagged.constant = false;
        lagged
    }

    /// An output's node (a typeless `null` becomes an f64 null).
    fn output(&mut self, value: Value) -> Result<NodeId, Diagnostic> {
        let value = if value.untyped_null { self.coerce(value, Elem::F64) } else { value };
        Ok(value.node)
    }

    /// The operand of a reduction or scan: a column (a whole column is what they consume).
    fn column_operand(&mut self, arg: &Expr, name: &str) -> Result<Value, Diagnostic> {
        let value = self.expr(arg)?;
        if value.ty.shape != Shape::Column {
            return Err(Diagnostic::new(
                value.span,
                format!("'{name}' needs a column, but this is a scalar"),
            )
            .with_hint(format!(
                "'{name}' works down the rows of a column; this operand depends on no column"
            )));
        }
        Ok(value)
    }

    fn reduce(&mut self, op: ReduceOp, arg: &Expr, name: &str, span: Span) -> Result<Value, Diagnostic> {
        let x = self.column_operand(arg, name)?;
        let x = match op {
            ReduceOp::Any | ReduceOp::All => self.logical(x, name)?,
            ReduceOp::Count => x,
            ReduceOp::Sum
            | ReduceOp::Mean
            | ReduceOp::Var { .. }
            | ReduceOp::Std { .. }
            | ReduceOp::Min
            | ReduceOp::Max => {
                let x = self.numeric(x, name)?;
                if op.takes_integers_as_f64() { self.float_if_integer(x) } else { x }
            }
        };
        let elem = op.result_elem(x.ty.elem);
        let mut value = self.derived(NodeKind::Reduce { op, arg: x.node }, Type::scalar(elem), &[x], span);
        (value.constant, value.untyped_null) = (false, false);
        Ok(value)
    }

    fn scan(&mut self, op: ScanOp, arg: &Expr, name: &str, span: Span) -> Result<Value, Diagnostic> {
        let x = self.column_operand(arg, name)?;
        let x = self.numeric(x, name)?;
        let x = if op.takes_integers_as_f64() { self.float_if_integer(x) } else { x };
        let ty = Type::new(op.result_elem(x.ty.elem), x.ty.shape);
        let mut value = self.derived(NodeKind::Scan { op, arg: x.node }, ty, &[x], span);
        (value.constant, value.untyped_null) = (false, false);
        Ok(value)
    }

    fn call(&mut self, name: &str, args: &[Expr], span: Span) -> Result<Value, Diagnostic> {
        // check_structure has verified the function exists and the arity matches.
        let info = functions::lookup(name)
            .ok_or_else(|| Diagnostic::new(span, format!("internal error: unknown function '{name}'")))?;
        let arity_error = || Diagnostic::new(span, format!("internal error: arity of '{name}'"));
        if args.len() < info.required || args.len() > info.params.len() {
            return Err(arity_error());
        }
        let unary_float = |function| match function {
            Function::Math(function) => Some(UnaryOp::Math(function)),
            Function::Sqrt => Some(UnaryOp::Sqrt),
            Function::Abs => Some(UnaryOp::Abs),
            Function::Floor => Some(UnaryOp::Floor),
            Function::Ceil => Some(UnaryOp::Ceil),
            Function::Round => Some(UnaryOp::Round),
            Function::Trunc => Some(UnaryOp::Trunc),
            Function::Sign => Some(UnaryOp::Sign),
            _ => None,
        };
        let float_test = |function| match function {
            Function::IsNan => Some(UnaryOp::IsNan),
            Function::IsFinite => Some(UnaryOp::IsFinite),
            Function::IsInf => Some(UnaryOp::IsInf),
            _ => None,
        };
        if let Some(op) = float_test(info.function) {
            let x = self.expr(&args[0])?;
            let x = self.numeric(x, name)?;
            // An integer is never NaN or infinite; as f64 the tests say so (and keep nulls).
            let x = self.float_if_integer(x);
            return Ok(self.unary(op, x, Elem::Bool, span));
        }
        if let Some(op) = unary_float(info.function) {
            let x = self.expr(&args[0])?;
            let x = self.numeric(x, name)?;
            let x = match (op, x.ty.elem.is_integer()) {
                // Rounding an integer leaves it as it is.
                (UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round | UnaryOp::Trunc, true) => {
                    return Ok(Value { span, ..x });
                }
                (UnaryOp::Math(_) | UnaryOp::Sqrt, true) => self.coerce(x, Elem::F64),
                _ => x,
            };
            return Ok(self.unary(op, x, x.ty.elem, span));
        }
        match info.function {
            Function::Min | Function::Max if args.len() == 1 => {
                let op = if info.function == Function::Min { ReduceOp::Min } else { ReduceOp::Max };
                self.reduce(op, &args[0], name, span)
            }
            Function::Sum => self.reduce(ReduceOp::Sum, &args[0], name, span),
            Function::Mean => self.reduce(ReduceOp::Mean, &args[0], name, span),
            Function::Count => self.reduce(ReduceOp::Count, &args[0], name, span),
            Function::Any => self.reduce(ReduceOp::Any, &args[0], name, span),
            Function::All => self.reduce(ReduceOp::All, &args[0], name, span),
            Function::Var | Function::Std => {
                let ddof = match args.get(1) {
                    Some(arg) => structure::number_literal(arg, info)? as u8,
                    None => 0,
                };
                let op = if info.function == Function::Var {
                    ReduceOp::Var { ddof }
                } else {
                    ReduceOp::Std { ddof }
                };
                self.reduce(op, &args[0], name, span)
            }
            Function::MSum | Function::MAvg | Function::MStd | Function::MMin | Function::MMax => {
                let w = structure::window_length_literal(&args[1])?;
                let op = match info.function {
                    Function::MSum => ScanOp::MSum { w },
                    Function::MAvg => ScanOp::MAvg { w },
                    Function::MStd => ScanOp::MStd { w },
                    Function::MMin => ScanOp::MMin { w },
                    _ => ScanOp::MMax { w },
                };
                self.scan(op, &args[0], name, span)
            }
            Function::CumSum => self.scan(ScanOp::CumSum, &args[0], name, span),
            Function::CumProd => self.scan(ScanOp::CumProd, &args[0], name, span),
            Function::CumMax => self.scan(ScanOp::CumMax, &args[0], name, span),
            Function::CumMin => self.scan(ScanOp::CumMin, &args[0], name, span),
            Function::Ema => {
                let alpha = structure::number_literal(&args[1], info)?;
                self.scan(ScanOp::Ema { alpha_bits: alpha.to_bits() }, &args[0], name, span)
            }
            // clip(x, lo, hi) = min(max(x, lo), hi), as NumPy's clip: NaN propagates, and
            // lo > hi gives hi.
            Function::Clip => {
                let mut operands = [self.expr(&args[0])?, self.expr(&args[1])?, self.expr(&args[2])?];
                let elem = self.unify_numeric(&mut operands, name)?;
                let at_least = self.binary_node(BinaryOp::Max, [operands[0], operands[1]], elem, span);
                Ok(self.binary_node(BinaryOp::Min, [at_least, operands[2]], elem, span))
            }
            // The two-argument math functions: numbers meet as for arithmetic; integers are
            // converted to f64 (the functions' values are floats).
            Function::Math2(function) => {
                let mut operands = [self.expr(&args[0])?, self.expr(&args[1])?];
                let mut elem = self.unify_numeric(&mut operands, name)?;
                if elem.is_integer() {
                    operands = operands.map(|operand| self.coerce(operand, Elem::F64));
                    elem = Elem::F64;
                }
                Ok(self.binary_node(BinaryOp::Math(function), operands, elem, span))
            }
            Function::Min | Function::Max => {
                let mut operands = [self.expr(&args[0])?, self.expr(&args[1])?];
                let elem = self.unify_numeric(&mut operands, name)?;
                let op = if info.function == Function::Min { BinaryOp::Min } else { BinaryOp::Max };
                Ok(self.binary_node(op, operands, elem, span))
            }
            Function::Where => {
                let cond = self.expr(&args[0])?;
                let cond = self.logical(cond, "where")?;
                let mut arms = [self.expr(&args[1])?, self.expr(&args[2])?];
                let elem = self.unify_any(&mut arms, name)?;
                let all = [cond, arms[0], arms[1]];
                let ty = Type::new(elem, broadcast(&all));
                let kind = NodeKind::Where { cond: cond.node, then: arms[0].node, otherwise: arms[1].node };
                let mut value = self.derived(kind, ty, &all, span);
                value.untyped_null = arms.iter().all(|arm| arm.untyped_null);
                Ok(value)
            }
            Function::Fill => {
                let mut operands = [self.expr(&args[0])?, self.expr(&args[1])?];
                let elem = self.unify_any(&mut operands, name)?;
                let ty = Type::new(elem, broadcast(&operands));
                let kind = NodeKind::Fill { value: operands[0].node, fallback: operands[1].node };
                Ok(self.derived(kind, ty, &operands, span))
            }
            Function::IsNull | Function::IsValid => {
                let x = self.expr(&args[0])?;
                let op = if info.function == Function::IsNull { UnaryOp::IsNull } else { UnaryOp::IsValid };
                let mut value = self.unary(op, x, Elem::Bool, span);
                value.untyped_null = false;
                Ok(value)
            }
            Function::F32 | Function::F64 | Function::I64 | Function::I32 => {
                let x = self.expr(&args[0])?;
                let x = self.numeric(x, name)?;
                let elem = match info.function {
                    Function::F32 => Elem::F32,
                    Function::F64 => Elem::F64,
                    Function::I64 => Elem::I64,
                    _ => Elem::I32,
                };
                let mut value = self.coerce(x, elem);
                value.span = span;
                // An explicit cast fixes the type even of a null.
                value.untyped_null = false;
                Ok(value)
            }
            Function::Lag | Function::Diff | Function::Dlog | Function::Ret => {
                let k = structure::lag_count_literal(&args[1])?;
                let x = self.expr(&args[0])?;
                if info.function == Function::Lag {
                    return Ok(self.lag(x, k, span));
                }
                let x = self.numeric(x, name)?;
                // dlog and ret are float-valued: an integer column is divided as f64.
                let x = if info.function == Function::Diff { x } else { self.float_if_integer(x) };
                let elem = x.ty.elem;
                Ok(match info.function {
                    // diff(x, k) = x - lag(x, k)
                    Function::Diff => {
                        let lagged = self.lag(x, k, span);
                        self.binary_node(BinaryOp::Sub, [x, lagged], elem, span)
                    }
                    // dlog(x, k) = ln(x) - lag(ln(x), k): ln is one node, computed once per row.
                    Function::Dlog => {
                        let ln = self.unary(UnaryOp::Math(MathFunction::Ln), x, elem, span);
                        let lagged = self.lag(ln, k, span);
                        self.binary_node(BinaryOp::Sub, [ln, lagged], elem, span)
                    }
                    // ret(x, k) = x / lag(x, k) - 1
                    _ => {
                        let lagged = self.lag(x, k, span);
                        let ratio = self.binary_node(BinaryOp::Div, [x, lagged], elem, span);
                        let one = match elem {
                            Elem::F32 => self.constant(Some(Scalar::F32(1.0)), Elem::F32, span),
                            Elem::F64 => self.constant(Some(Scalar::F64(1.0)), Elem::F64, span),
                            Elem::I64 | Elem::I32 | Elem::Bool => {
                                unreachable!("ret's operand was made a float above")
                            }
                        };
                        self.binary_node(BinaryOp::Sub, [ratio, one], elem, span)
                    }
                })
            }
            _ => Err(arity_error()),
        }
    }
}
