//! Checks that need no types: statement layout, name resolution order, function names and
//! arities, and the compile-time literals (lag counts, exponents). Runs at `Engine::compile`.

use super::functions::{self, FunctionInfo, NOT_YET_SUPPORTED};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::syntax::Span;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Program, Statement, UnaryOp};
use std::collections::HashMap;

/// The largest lag count: row indices are at most `u32::MAX` apart in a lag.
pub const MAX_LAG: u64 = u32::MAX as u64;

/// The names the program reads from its inputs, in order of first use.
pub fn check_structure(program: &Program) -> Result<Vec<String>, Diagnostic> {
    let Some(last) = program.statements.len().checked_sub(1) else {
        return Err(Diagnostic::new(Span::new(0, 0), "empty program")
            .with_hint("write an expression, e.g. `dlog(px, 1) * 252`"));
    };
    // Where each name is first bound: a use in an earlier statement is an error, a use inside
    // the value of that first binding reads the input of the same name (`px = fill(px, 0)`).
    let mut first_binding: HashMap<&str, usize> = HashMap::new();
    for (index, statement) in program.statements.iter().enumerate() {
        if let Statement::Let { name, .. } = statement {
            first_binding.entry(name.text.as_str()).or_insert(index);
        }
    }
    let mut walker = Walker { first_binding: &first_binding, statement: 0, free_names: Vec::new() };
    let mut outputs: Vec<&str> = Vec::new();
    for (index, statement) in program.statements.iter().enumerate() {
        walker.statement = index;
        match statement {
            Statement::Let { value, name, output: true, .. } => {
                let output_name = name.text.as_str();
                let final_expression = matches!(program.statements[last], Statement::Expr(_));
                if outputs.contains(&output_name) || (output_name == "result" && final_expression) {
                    return Err(Diagnostic::new(
                        name.span,
                        format!("output '{output_name}' is defined twice"),
                    )
                    .with_hint("each output names one column; the final expression is named `result`"));
                }
                outputs.push(output_name);
                walker.expr(value)?;
            }
            Statement::Let { value, span, name, output: false } => {
                if index == last {
                    return Err(Diagnostic::new(*span, "the program ends with a binding, not a result")
                        .with_hint(format!(
                            "add the result expression, e.g. `{}` on a new line, or write `out {} = ...`",
                            name.text, name.text
                        )));
                }
                walker.expr(value)?;
            }
            Statement::Expr(expr) => {
                if index != last {
                    return Err(Diagnostic::new(
                        expr.span,
                        "only the last statement may be a bare expression",
                    )
                    .with_hint("bind it with `name = ...`, or remove it"));
                }
                walker.expr(expr)?;
            }
        }
    }
    Ok(walker.free_names)
}

struct Walker<'a> {
    first_binding: &'a HashMap<&'a str, usize>,
    statement: usize,
    free_names: Vec<String>,
}

impl Walker<'_> {
    fn expr(&mut self, expr: &Expr) -> Result<(), Diagnostic> {
        match &expr.kind {
            ExprKind::Number { .. } | ExprKind::Bool(_) | ExprKind::Null => Ok(()),
            ExprKind::Name(name) => {
                match self.first_binding.get(name.as_str()) {
                    Some(&bound) if bound < self.statement => {}
                    Some(&bound) if bound > self.statement => {
                        return Err(Diagnostic::new(
                            expr.span,
                            format!("'{name}' is used before it is bound"),
                        )
                        .with_hint(format!("move `{name} = ...` above its first use")));
                    }
                    _ => {
                        if !self.free_names.contains(name) {
                            self.free_names.push(name.clone());
                        }
                    }
                }
                Ok(())
            }
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs)?;
                self.expr(rhs)
            }
            // An integer literal exponent is repeated multiplication; any other is `pow`.
            ExprKind::Power { base, exponent } => {
                self.expr(base)?;
                match exponent_literal(exponent) {
                    Ok(_) => Ok(()),
                    Err(_) => self.expr(exponent),
                }
            }
            ExprKind::Call { function, args } => {
                let info = resolve_function(&function.text, function.span, self.first_binding)?;
                if args.len() < info.required || args.len() > info.params.len() {
                    let count = args.len();
                    let plural = if info.params.len() == 1 { "" } else { "s" };
                    let given =
                        if count == 1 { "1 was given".to_string() } else { format!("{count} were given") };
                    return Err(Diagnostic::new(
                        expr.span,
                        format!("'{}' takes {} argument{plural}, but {given}", info.name, info.arity_text()),
                    )
                    .with_hint(format!("usage: {}", info.usage())));
                }
                for (index, arg) in args.iter().enumerate() {
                    if info.is_lag_count(index) {
                        lag_count_literal(arg)?;
                    } else if info.is_window_length(index) {
                        window_length_literal(arg)?;
                    } else if info.is_number_literal(index) {
                        number_literal(arg, info)?;
                    } else {
                        self.expr(arg)?;
                    }
                }
                Ok(())
            }
        }
    }
}

fn resolve_function(
    name: &str,
    span: Span,
    bound: &HashMap<&str, usize>,
) -> Result<&'static FunctionInfo, Diagnostic> {
    if let Some(info) = functions::lookup(name) {
        return Ok(info);
    }
    let error = Diagnostic::new(span, format!("unknown function '{name}'"));
    if NOT_YET_SUPPORTED.contains(&name) {
        let hint = "it is planned with the other numexpr functions (see docs/LANGUAGE.md)";
        return Err(Diagnostic::new(span, format!("function '{name}' is not supported yet")).with_hint(hint));
    }
    if bound.contains_key(name) {
        return Err(error.with_hint(format!("'{name}' is a name bound in this program, not a function")));
    }
    match did_you_mean(name, functions::FUNCTIONS.iter().map(|info| info.name)) {
        Some(suggestion) => Err(error.with_hint(format!("did you mean '{suggestion}'?"))),
        None => {
            let names: Vec<&str> = functions::FUNCTIONS.iter().map(|info| info.name).collect();
            Err(error.with_hint(format!("functions are: {}", names.join(", "))))
        }
    }
}

/// A lag count: a non-negative integer literal of at most [`MAX_LAG`].
pub fn lag_count_literal(arg: &Expr) -> Result<u32, Diagnostic> {
    let error = || Diagnostic::new(arg.span, "the lag count must be a non-negative integer literal");
    match &arg.kind {
        ExprKind::Number { integer: Some(k), .. } if *k <= MAX_LAG => Ok(*k as u32),
        ExprKind::Number { text, integer: _, .. } if text.bytes().all(|b| b.is_ascii_digit()) => {
            Err(Diagnostic::new(arg.span, format!("lag count {text} is too large"))
                .with_hint(format!("at most {MAX_LAG}; a lag at least the column length gives all nulls")))
        }
        ExprKind::Number { .. } => Err(error().with_hint("k counts rows: write `1`, not `1.0`")),
        ExprKind::Unary { op: UnaryOp::Neg, .. } => {
            Err(error().with_hint("k looks back k rows; a negative lag (a lead) is not supported"))
        }
        _ => Err(error().with_hint("k must be known when the program compiles, e.g. `dlog(px, 5)`")),
    }
}

/// A window length: an integer literal from 1 to `MAX_LAG`.
pub fn window_length_literal(arg: &Expr) -> Result<u32, Diagnostic> {
    match &arg.kind {
        ExprKind::Number { integer: Some(w), .. } if *w >= 1 && *w <= MAX_LAG => Ok(*w as u32),
        ExprKind::Number { integer: Some(0), .. } => {
            Err(Diagnostic::new(arg.span, "a window of 0 rows is empty")
                .with_hint("the window is the last w rows, the current one included: w is at least 1"))
        }
        ExprKind::Number { text, integer: Some(_), .. } => {
            Err(Diagnostic::new(arg.span, format!("window length {text} is too large"))
                .with_hint(format!("at most {MAX_LAG}; a window as long as the column is a cumulative op")))
        }
        _ => Err(Diagnostic::new(arg.span, "the window length must be a positive integer literal")
            .with_hint("w counts rows and must be known when the program compiles, e.g. `mavg(px, 20)`")),
    }
}

/// A constant argument, checked for its function: `ema`'s alpha in (0, 1], `var`/`std`'s
/// ddof 0 or 1. The argument is a number literal or arithmetic on number literals
/// (`2/13`, `1 - 0.9`, `-(1)`), evaluated in f64 as a row would evaluate it.
pub fn number_literal(arg: &Expr, info: &FunctionInfo) -> Result<f64, Diagnostic> {
    let value = constant_number(arg);
    let is_ema = info.function == functions::Function::Ema;
    let (rule, hint) = if is_ema {
        (
            "ema's alpha must be a constant in (0, 1]",
            "a number or arithmetic on numbers, e.g. `ema(px, 0.1)` or `ema(px, 2/13)`: each row weighs alpha",
        )
    } else {
        ("ddof must be 0 (population) or 1 (sample)", "e.g. `std(x, 1)` for the sample standard deviation")
    };
    match value {
        Some(alpha) if is_ema && alpha > 0.0 && alpha <= 1.0 => Ok(alpha),
        Some(ddof) if !is_ema && (ddof == 0.0 || ddof == 1.0) => Ok(ddof),
        Some(value) if is_ema => Err(Diagnostic::new(arg.span, rule)
            .with_hint(format!("it is {value}; alpha is the weight of each new row, so 0 < alpha ≤ 1"))),
        _ => Err(Diagnostic::new(arg.span, rule).with_hint(hint)),
    }
}

/// The value of an expression made only of number literals, unary minus and `+ - * /`, or
/// None. Recursion is bounded by the parser's nesting limit.
fn constant_number(expr: &Expr) -> Option<f64> {
    match &expr.kind {
        ExprKind::Number { value, .. } => Some(*value),
        ExprKind::Unary { op: UnaryOp::Neg, operand } => constant_number(operand).map(|value| -value),
        ExprKind::Binary { op, lhs, rhs } => {
            let (lhs, rhs) = (constant_number(lhs)?, constant_number(rhs)?);
            match op {
                BinaryOp::Add => Some(lhs + rhs),
                BinaryOp::Sub => Some(lhs - rhs),
                BinaryOp::Mul => Some(lhs * rhs),
                BinaryOp::Div => Some(lhs / rhs),
                BinaryOp::Or
                | BinaryOp::And
                | BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::FloorDiv
                | BinaryOp::Mod => None,
            }
        }
        ExprKind::Unary { op: UnaryOp::Not, .. }
        | ExprKind::Bool(_)
        | ExprKind::Null
        | ExprKind::Name(_)
        | ExprKind::Power { .. }
        | ExprKind::Call { .. } => None,
    }
}

/// An exponent: an integer literal, possibly negated, that fits in an `i32`.
pub fn exponent_literal(exponent: &Expr) -> Result<i32, Diagnostic> {
    let error = || {
        Diagnostic::new(exponent.span, "the exponent must be an integer literal, like `x^2` or `x^-1`")
            .with_hint("a general power is not supported yet; write exp(y * ln(x))")
    };
    let (negative, literal) = match &exponent.kind {
        ExprKind::Unary { op: UnaryOp::Neg, operand } => (true, operand.as_ref()),
        _ => (false, exponent),
    };
    let ExprKind::Number { integer, text, .. } = &literal.kind else { return Err(error()) };
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    let magnitude = integer.map(i64::try_from).and_then(Result::ok);
    let value = magnitude.map(|m| if negative { -m } else { m }).and_then(|v| i32::try_from(v).ok());
    value.ok_or_else(|| {
        Diagnostic::new(
            exponent.span,
            format!("exponent {}{text} is too large", if negative { "-" } else { "" }),
        )
        .with_hint("exponents must fit in 32 bits")
    })
}
