//! `CREATE FUNCTION … LANGUAGE fusejit AS 'program'`: SQL users define fusejit functions
//! themselves, as a scalar function when the program is row-local and a window function
//! otherwise.

use crate::program::ProgramDefinition;
use crate::{ProgramFunction, program_function};
use async_trait::async_trait;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::context::{FunctionFactory, RegisterFunction, SessionState};
use datafusion::logical_expr::{CreateFunction, Expr};

/// The [`FunctionFactory`] for `LANGUAGE fusejit`.
///
/// ```sql
/// CREATE FUNCTION ann_ret(px DOUBLE) RETURNS DOUBLE LANGUAGE fusejit AS 'dlog(px, 1) * 252';
/// CREATE FUNCTION scaled(DOUBLE, DOUBLE) RETURNS DOUBLE LANGUAGE fusejit AS '($1 - $2) * 2';
/// ```
///
/// Parameters: a parameter named in the declaration is that name in the program; an unnamed
/// one is `$1`, `$2`, … by position (rewritten to the identifiers `_1`, `_2`, … of the same
/// length, so a diagnostic's caret stays under the text as written). Arguments are cast to
/// the declared types, and `RETURNS` must name the type the program gives for them (a struct
/// for a program with `out` statements); it may be left out. A row-local program becomes a
/// scalar function; one with lags, windows, cumulative operations, `ema` or reductions a
/// window function, called as `ann_ret(px) OVER (PARTITION BY sym ORDER BY ts)`.
#[derive(Debug, Default)]
pub struct FusejitFunctionFactory;

#[async_trait]
impl FunctionFactory for FusejitFunctionFactory {
    async fn create(&self, _state: &SessionState, statement: CreateFunction) -> Result<RegisterFunction> {
        let definition = definition_of(statement)?;
        Ok(match program_function(definition)? {
            ProgramFunction::Scalar(function) => RegisterFunction::Scalar(function),
            ProgramFunction::Window(function) => RegisterFunction::Window(function),
        })
    }
}

/// The program definition a `CREATE FUNCTION` statement declares.
fn definition_of(statement: CreateFunction) -> Result<ProgramDefinition> {
    let name = statement.name;
    match &statement.params.language {
        Some(language) if language.value.eq_ignore_ascii_case("fusejit") => {}
        Some(language) => {
            return Err(DataFusionError::Plan(format!(
                "CREATE FUNCTION {name}: language '{}' is not handled here; this session's function factory \
                 handles LANGUAGE fusejit",
                language.value
            )));
        }
        None => {
            return Err(DataFusionError::Plan(format!(
                "CREATE FUNCTION {name}: say LANGUAGE fusejit AS '<program>'"
            )));
        }
    }
    let text = match &statement.params.function_body {
        Some(Expr::Literal(
            ScalarValue::Utf8(Some(text))
            | ScalarValue::LargeUtf8(Some(text))
            | ScalarValue::Utf8View(Some(text)),
            _,
        )) => text.clone(),
        _ => {
            return Err(DataFusionError::Plan(format!(
                "CREATE FUNCTION {name}: the body must be the program as a string, as in AS 'dlog(px, 1) * 252'"
            )));
        }
    };
    let arguments = statement.args.unwrap_or_default();
    let parameters: Vec<String> = arguments
        .iter()
        .enumerate()
        .map(|(index, argument)| match &argument.name {
            Some(name) => name.value.clone(),
            None => format!("_{}", index + 1),
        })
        .collect();
    let argument_types = arguments.iter().map(|argument| argument.data_type.clone()).collect();
    Ok(ProgramDefinition {
        name,
        text: positional_parameters_as_identifiers(&text),
        parameters,
        argument_types: Some(argument_types),
        return_type: statement.return_type,
    })
}

/// `$1`, `$2`, … as `_1`, `_2`, …: the same length, so every span of the program stays where
/// it was. A `$` not followed by a digit is left for the parser to report.
fn positional_parameters_as_identifiers(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    for (index, character) in text.char_indices() {
        let next_is_digit = bytes.get(index + 1).is_some_and(u8::is_ascii_digit);
        out.push(if character == '$' && next_is_digit { '_' } else { character });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::positional_parameters_as_identifiers;

    #[test]
    fn positional_parameters_keep_their_length() {
        assert_eq!(positional_parameters_as_identifiers("($1 - $12) * 2"), "(_1 - _12) * 2");
        assert_eq!(positional_parameters_as_identifiers("x $ 1"), "x $ 1");
        assert_eq!(positional_parameters_as_identifiers("é$2"), "é_2");
    }
}
