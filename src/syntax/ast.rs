//! The abstract syntax tree: what the parser builds, with a byte span on every node.

// Reached from outside the crate only through `internals`, which is not API.
#![allow(missing_docs)]

use crate::diagnostic::Span;

/// A whole program: statements in source order. The last one is the result expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `name = expr`, or `out name = expr` (`output`): an output column of the program,
    /// also bound as `name` for the statements after it.
    Let { name: Name, value: Expr, span: Span, output: bool },
    /// A bare expression; only the last statement may be one (checked by `check`).
    Expr(Expr),
}

impl Statement {
    pub fn span(&self) -> Span {
        match self {
            Statement::Let { span, .. } => *span,
            Statement::Expr(expr) => expr.span,
        }
    }
}

/// A name as written (plain or back-quoted); `text` excludes the back quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Height of this subtree (a leaf is 1). The parser refuses trees deeper than
    /// [`MAX_NESTING_DEPTH`], so every later recursive walk is bounded.
    pub depth: u32,
}

/// The deepest expression tree the parser accepts. Every stage after parsing recurses over the
/// tree, so this bound is what keeps 100 000 nested parentheses from overflowing the stack.
pub const MAX_NESTING_DEPTH: u32 = 256;

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number literal. `integer` is its value when it is written with digits only and fits
    /// in a `u64`; lag counts and exponents must be such literals.
    Number {
        text: String,
        value: f64,
        integer: Option<u64>,
    },
    Bool(bool),
    Null,
    Name(String),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `base ^ exponent`; `check` requires the exponent to be an integer literal, maybe negated.
    Power {
        base: Box<Expr>,
        exponent: Box<Expr>,
    },
    Call {
        function: Name,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    /// `//`
    FloorDiv,
    /// `%`
    Mod,
}

impl UnaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Not => "!",
        }
    }
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::FloorDiv => "//",
            BinaryOp::Mod => "%",
        }
    }
}

impl Program {
    /// A stable S-expression print with spans, for parse snapshots.
    pub fn to_sexpr(&self) -> String {
        let mut out = String::new();
        for statement in &self.statements {
            match statement {
                Statement::Let { name, value, span, output } => {
                    let keyword = if *output { "out" } else { "let" };
                    out.push_str(&format!(
                        "({keyword}@{span} {}@{} {})\n",
                        name.text,
                        name.span,
                        value.to_sexpr()
                    ));
                }
                Statement::Expr(expr) => {
                    out.push_str(&expr.to_sexpr());
                    out.push('\n');
                }
            }
        }
        out
    }
}

impl Expr {
    pub fn to_sexpr(&self) -> String {
        let span = self.span;
        match &self.kind {
            ExprKind::Number { text, .. } => format!("{text}@{span}"),
            ExprKind::Bool(value) => format!("{value}@{span}"),
            ExprKind::Null => format!("null@{span}"),
            ExprKind::Name(name) => format!("`{name}`@{span}"),
            ExprKind::Unary { op, operand } => format!("({}@{span} {})", op.symbol(), operand.to_sexpr()),
            ExprKind::Binary { op, lhs, rhs } => {
                format!("({}@{span} {} {})", op.symbol(), lhs.to_sexpr(), rhs.to_sexpr())
            }
            ExprKind::Power { base, exponent } => {
                format!("(^@{span} {} {})", base.to_sexpr(), exponent.to_sexpr())
            }
            ExprKind::Call { function, args } => {
                let mut out = format!("(call@{span} {}", function.text);
                for arg in args {
                    out.push(' ');
                    out.push_str(&arg.to_sexpr());
                }
                out.push(')');
                out
            }
        }
    }
}
