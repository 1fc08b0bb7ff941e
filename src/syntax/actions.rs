//! The grammar's actions: small constructors that build AST nodes and enforce the nesting bound.
//!
//! Kept out of the `.lalrpop` file so the grammar reads as a grammar and these are type-checked
//! and tested like any Rust.

use super::ast::{BinaryOp, Expr, ExprKind, MAX_NESTING_DEPTH, Name, UnaryOp};
use super::token::Token;
use crate::diagnostic::Diagnostic;
use crate::diagnostic::Span;
use lalrpop_util::ParseError;

pub type ActionResult<'src, T> = Result<T, ParseError<usize, Token<'src>, Diagnostic>>;

fn node<'src>(kind: ExprKind, span: Span, children_depth: u32) -> ActionResult<'src, Expr> {
    let depth = children_depth + 1;
    if depth > MAX_NESTING_DEPTH {
        return Err(ParseError::User {
            error: Diagnostic::new(span, format!("expression nests deeper than {MAX_NESTING_DEPTH} levels"))
                .with_hint("split it into named steps: `t = ...; t * 2`"),
        });
    }
    Ok(Expr { kind, span, depth })
}

pub fn number<'src>(text: &str, start: usize, end: usize) -> ActionResult<'src, Expr> {
    let span = Span::new(start, end);
    let value: f64 = text.parse().map_err(|_| ParseError::User {
        error: Diagnostic::new(span, format!("'{text}' is not a number")),
    })?;
    if value.is_infinite() {
        return Err(ParseError::User {
            error: Diagnostic::new(span, format!("number literal '{text}' is too large for f64"))
                .with_hint("the largest finite f64 is about 1.8e308"),
        });
    }
    let integer = if text.bytes().all(|b| b.is_ascii_digit()) { text.parse::<u64>().ok() } else { None };
    node(ExprKind::Number { text: text.to_string(), value, integer }, span, 0)
}

pub fn leaf<'src>(kind: ExprKind, start: usize, end: usize) -> ActionResult<'src, Expr> {
    node(kind, Span::new(start, end), 0)
}

pub fn name(text: &str, start: usize, end: usize) -> Name {
    Name { text: text.to_string(), span: Span::new(start, end) }
}

pub fn unary<'src>(op: UnaryOp, operand: Expr, start: usize, end: usize) -> ActionResult<'src, Expr> {
    let depth = operand.depth;
    node(ExprKind::Unary { op, operand: Box::new(operand) }, Span::new(start, end), depth)
}

pub fn binary<'src>(lhs: Expr, op: BinaryOp, rhs: Expr) -> ActionResult<'src, Expr> {
    let span = lhs.span.to(rhs.span);
    let depth = lhs.depth.max(rhs.depth);
    node(ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span, depth)
}

pub fn power<'src>(base: Expr, exponent: Expr) -> ActionResult<'src, Expr> {
    let span = base.span.to(exponent.span);
    let depth = base.depth.max(exponent.depth);
    node(ExprKind::Power { base: Box::new(base), exponent: Box::new(exponent) }, span, depth)
}

pub fn call<'src>(function: Name, args: Vec<Expr>, end: usize) -> ActionResult<'src, Expr> {
    let span = Span::new(function.span.start, end);
    let depth = args.iter().map(|arg| arg.depth).max().unwrap_or(0);
    node(ExprKind::Call { function, args }, span, depth)
}

/// A parenthesised expression keeps its own node but widens its span to the parentheses,
/// so that errors about `(a + b)` underline the whole group.
pub fn parenthesised(mut inner: Expr, start: usize, end: usize) -> Expr {
    inner.span = Span::new(start, end);
    inner
}
