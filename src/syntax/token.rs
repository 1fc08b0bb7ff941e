//! The lexical tokens of the fusejit language, recognised by a logos-generated DFA.

use logos::Logos;

/// One token of source text. Borrowed payloads point into the source, so lexing allocates nothing.
///
/// Newlines are tokens because they separate statements; the lexer adapter
/// ([`crate::syntax::lexer::Lexer`]) drops the ones inside parentheses so a call may span lines.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(skip r"#[^\n]*")]
pub enum Token<'src> {
    /// `3`, `2.5`, `1e-3`, `.5`, `1.`: the text is kept so that `check` can tell integer literals
    /// (lag counts, exponents) from float ones.
    #[regex(r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?", |lex| lex.slice())]
    #[regex(r"\.[0-9]+([eE][+-]?[0-9]+)?", |lex| lex.slice())]
    Number(&'src str),
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Name(&'src str),
    /// `` `close price` ``: the payload excludes the back quotes.
    #[regex(r"`[^`\n]+`", |lex| { let text = lex.slice(); &text[1..text.len() - 1] })]
    QuotedName(&'src str),
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("null")]
    Null,
    #[token("||")]
    OrOr,
    #[token("&&")]
    AndAnd,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Less,
    #[token("<=")]
    LessEq,
    #[token(">")]
    Greater,
    #[token(">=")]
    GreaterEq,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("//")]
    SlashSlash,
    #[token("%")]
    Percent,
    #[token("**")]
    StarStar,
    #[token("!")]
    Bang,
    #[token("^")]
    Caret,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(",")]
    Comma,
    #[token(";")]
    Semicolon,
    #[token("=")]
    Assign,
    /// `out` before a name (`out vol = ...`): made by the lexer adapter, which looks one token
    /// ahead, so `out` elsewhere stays an ordinary name.
    Out,
    #[token("\n")]
    Newline,
}

impl std::fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Token::Number(text) | Token::Name(text) => return write!(f, "'{text}'"),
            Token::QuotedName(text) => return write!(f, "'`{text}`'"),
            Token::True => "true",
            Token::False => "false",
            Token::Null => "null",
            Token::OrOr => "||",
            Token::AndAnd => "&&",
            Token::EqEq => "==",
            Token::NotEq => "!=",
            Token::Less => "<",
            Token::LessEq => "<=",
            Token::Greater => ">",
            Token::GreaterEq => ">=",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Star => "*",
            Token::Slash => "/",
            Token::SlashSlash => "//",
            Token::Percent => "%",
            Token::StarStar => "**",
            Token::Bang => "!",
            Token::Caret => "^",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::Comma => ",",
            Token::Semicolon => ";",
            Token::Assign => "=",
            Token::Out => "out",
            Token::Newline => return f.write_str("end of line"),
        };
        write!(f, "'{text}'")
    }
}
