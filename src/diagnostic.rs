//! User-facing compile diagnostics: a span, a one-line message, an optional hint, and the renderer.

use codespan_reporting::diagnostic::{Diagnostic as CodespanDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor::WriteColor};

/// A half-open byte range `start..end` of the program's source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The bytes `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    /// As a `Range`, to slice the source with.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// One compile error. Every user-facing error of the front end is one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where in the source the problem is; rendered as `^^^` under that text.
    pub span: Span,
    /// One line, lower case, no trailing period: `unknown function 'dlg'`.
    pub message: String,
    /// What to do about it, when we know: `did you mean 'dlog'?`.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `span` without a hint.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diagnostic { span, message: message.into(), hint: None }
    }

    /// The same diagnostic with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Renders with the source line and the span underlined, in the style of rustc.
    /// `color` writes ANSI colours (for a terminal); tests and pipes use `false`.
    pub fn render(&self, file_name: &str, source: &str, color: bool) -> String {
        let mut buffer =
            if color { term::termcolor::Buffer::ansi() } else { term::termcolor::Buffer::no_color() };
        self.render_to(file_name, source, &mut buffer);
        String::from_utf8_lossy(buffer.as_slice()).into_owned()
    }

    fn render_to(&self, file_name: &str, source: &str, writer: &mut dyn WriteColor) {
        let file = SimpleFile::new(file_name, source);
        // A span past the end (a lexer or parser bug) must not make rendering fail: clamp it.
        let end = self.span.end.min(source.len());
        let start = self.span.start.min(end);
        let mut diagnostic = CodespanDiagnostic::error()
            .with_message(&self.message)
            .with_labels(vec![Label::primary((), start..end)]);
        if let Some(hint) = &self.hint {
            diagnostic = diagnostic.with_notes(vec![format!("hint: {hint}")]);
        }
        let config = term::Config::default();
        if term::emit(writer, &config, &file, &diagnostic).is_err() {
            // Rendering can only fail on a span that is not on a char boundary; fall back to text.
            let _ = writeln!(writer, "error: {} (at bytes {})", self.message, self.span);
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at {})", self.message, self.span)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// The closest candidate by edit distance, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wrong.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(wrong, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over chars; both inputs are short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("dlg", "dlog"), 1);
        assert_eq!(edit_distance("dlog", "dlog"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn did_you_mean_picks_the_closest_plausible_name() {
        assert_eq!(did_you_mean("dlg", ["dlog", "lag", "ln"]), Some("dlog"));
        assert_eq!(did_you_mean("pxx", ["px", "a"]), Some("px"));
        assert_eq!(did_you_mean("zzzzzz", ["px", "a"]), None);
    }
}
