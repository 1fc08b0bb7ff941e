//! The front end's first stage: source text to AST (logos lexer + LALRPOP grammar), with spans.
//!
//! Architecture Invariant: syntax knows nothing about types, the IR or code generation; its only
//! output is [`ast::Program`] or a [`Diagnostic`].

pub mod actions;
pub mod ast;
pub mod lexer;
pub mod token;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_parens, unused_imports, dead_code)]
    grammar,
    "/fusejit.rs"
);

pub use crate::diagnostic::Span;

use crate::diagnostic::Diagnostic;
use lalrpop_util::ParseError;
use token::Token;

/// Parses a whole program. Errors stop at the first one: a syntax error leaves no reliable tree.
pub fn parse_program(source: &str) -> Result<ast::Program, Diagnostic> {
    let lexer = lexer::Lexer::new(source);
    match grammar::ProgramParser::new().parse(lexer) {
        Ok(statements) => Ok(ast::Program { statements }),
        Err(error) => Err(convert_parse_error(error, source)),
    }
}

fn convert_parse_error(error: ParseError<usize, Token<'_>, Diagnostic>, source: &str) -> Diagnostic {
    match error {
        ParseError::User { error } => error,
        ParseError::InvalidToken { location } => {
            Diagnostic::new(Span::new(location, next_char_end(source, location)), "invalid token")
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let diagnostic = Diagnostic::new(Span::new(location, location), "unexpected end of input");
            match describe_expected(&expected) {
                Some(hint) => diagnostic.with_hint(hint),
                None => diagnostic,
            }
        }
        ParseError::UnrecognizedToken { token: (start, token, end), expected } => {
            // A newline is shown as a point at the end of its line, not as a two-line span.
            let span = if token == Token::Newline { Span::new(start, start) } else { Span::new(start, end) };
            let diagnostic = Diagnostic::new(span, format!("unexpected {token}"));
            if is_comparison(token) && !expected.iter().any(|e| e == "\"(\"") {
                return diagnostic.with_hint("comparisons do not chain; write `(a < b) && (b < c)`");
            }
            if token == Token::Assign {
                return diagnostic
                    .with_hint("`=` binds a name at the start of a statement; compare with `==`");
            }
            if starts_expression(token) && expected.iter().any(|e| e == "\";\"") {
                return diagnostic.with_hint("separate statements with ';' or a new line");
            }
            match describe_expected(&expected) {
                Some(hint) => diagnostic.with_hint(hint),
                None => diagnostic,
            }
        }
        ParseError::ExtraToken { token: (start, token, end) } => {
            Diagnostic::new(Span::new(start, end), format!("unexpected {token}"))
        }
    }
}

fn next_char_end(source: &str, location: usize) -> usize {
    source.get(location..).and_then(|rest| rest.chars().next()).map_or(location, |c| location + c.len_utf8())
}

fn is_comparison(token: Token<'_>) -> bool {
    matches!(
        token,
        Token::EqEq | Token::NotEq | Token::Less | Token::LessEq | Token::Greater | Token::GreaterEq
    )
}

fn starts_expression(token: Token<'_>) -> bool {
    matches!(
        token,
        Token::Number(_)
            | Token::Name(_)
            | Token::QuotedName(_)
            | Token::True
            | Token::False
            | Token::Null
            | Token::LParen
            | Token::Bang
    )
}

/// Turns LALRPOP's list of expected terminals into one short hint.
fn describe_expected(expected: &[String]) -> Option<String> {
    if expected.iter().any(|e| e == "\"name\"" || e == "\"number\"") {
        return Some("expected an expression".to_string());
    }
    let shown: Vec<String> = expected
        .iter()
        .map(|e| e.trim_matches('"').replace("\\\"", "\""))
        .map(|e| if e == "newline" { "end of line".to_string() } else { format!("'{e}'") })
        .collect();
    match shown.len() {
        0 => None,
        1 => Some(format!("expected {}", shown[0])),
        _ => Some(format!("expected one of {}", shown.join(", "))),
    }
}
