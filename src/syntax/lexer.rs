//! Adapts the logos token stream to the `(start, Token, end)` triples LALRPOP's parser consumes.

use super::token::Token;
use crate::diagnostic::Diagnostic;
use crate::diagnostic::Span;
use logos::Logos;

/// The token stream of one source text.
///
/// Invariant: newlines inside parentheses are dropped, so that `where(c,\n a,\n b)` is one
/// statement; newlines at depth 0 separate statements. Depth never goes below zero: an unmatched
/// `)` is passed through and reported by the parser.
pub struct Lexer<'src> {
    tokens: logos::SpannedIter<'src, Token<'src>>,
    source: &'src str,
    paren_depth: usize,
    /// A token read ahead (to tell the `out` keyword from a name called `out`).
    peeked: Option<(Result<Token<'src>, ()>, std::ops::Range<usize>)>,
}

impl<'src> Lexer<'src> {
    pub fn new(source: &'src str) -> Self {
        Lexer { tokens: Token::lexer(source).spanned(), source, paren_depth: 0, peeked: None }
    }

    /// A lexical error: text that is no token, with its span.
    fn error_at(&self, range: std::ops::Range<usize>) -> Diagnostic {
        let span = Span::new(range.start, range.end);
        let text = &self.source[range];
        if text.starts_with('`') {
            return Diagnostic::new(span, "back-quoted name is empty or not closed on this line")
                .with_hint("write a column name with any characters as `close price`");
        }
        let shown: String = text.chars().next().map(|c| c.escape_debug().to_string()).unwrap_or_default();
        Diagnostic::new(span, format!("unexpected character '{shown}'"))
    }
}

impl<'src> Iterator for Lexer<'src> {
    type Item = Result<(usize, Token<'src>, usize), Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (token, range) = self.peeked.take().or_else(|| self.tokens.next())?;
            let mut token = match token {
                Ok(token) => token,
                Err(()) => return Some(Err(self.error_at(range))),
            };
            // `out` directly followed by a name, outside parentheses, is the output keyword.
            if token == Token::Name("out") && self.paren_depth == 0 {
                self.peeked = self.tokens.next();
                if let Some((Ok(Token::Name(_) | Token::QuotedName(_)), _)) = &self.peeked {
                    token = Token::Out;
                }
            }
            match token {
                Token::LParen => self.paren_depth += 1,
                Token::RParen => self.paren_depth = self.paren_depth.saturating_sub(1),
                Token::Newline if self.paren_depth > 0 => continue,
                _ => {}
            }
            return Some(Ok((range.start, token, range.end)));
        }
    }
}
