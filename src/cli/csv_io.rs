//! CSV in and out for the command line: a header row, empty field = null; results as one
//! `result` column in shortest round-trip form (integers without a decimal point).

use super::files::{Loaded, Skipped, column_with_validity};
use fusejit::{Column, ColumnValues, Scalar};
use std::io::Write;
use std::path::Path;

/// One column read from a data file, owned so that bindings can borrow it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedColumn {
    pub name: String,
    pub column: Column,
}

/// One column's fields as read: their bytes back to back, and where each ends (one
/// allocation per column, not a `String` per cell).
#[derive(Debug, Default)]
struct RawColumn {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl RawColumn {
    fn push(&mut self, field: &[u8]) {
        self.bytes.extend_from_slice(field.trim_ascii());
        self.ends.push(self.bytes.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Each field, trimmed; a field that is not UTF-8 reads as U+FFFD (and so is not a number).
    fn fields(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| String::from_utf8_lossy(&self.bytes[start..end]))
    }
}

/// Reads every column of `path`. A column whose non-empty fields are all `true`/`false` is
/// bool; one whose non-empty fields are all integers that fit in i64 (`42`, `-7`, `+3`) is
/// i64; a column of numbers (`NaN`, `inf` and `-inf` included) is f64; any other column is
/// skipped, with the first field that is not a number as the reason. Quoted fields may hold
/// commas, quotes (doubled) and line breaks; lines may end in CRLF.
pub fn load_csv(path: &Path) -> Result<Loaded, String> {
    let shown = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|error| format!("cannot read {shown}: {error}"))?;
    let headers: Vec<String> =
        reader.headers().map_err(|error| format!("{shown}: {error}"))?.iter().map(str::to_string).collect();
    if let Some(duplicate) = headers.iter().enumerate().find(|(i, name)| headers[..*i].contains(name)) {
        return Err(format!("{shown}: column '{}' appears twice in the header", duplicate.1));
    }
    if headers.len() == 1 {
        // A one-column file writes a null as an empty line, which CSV readers skip as blank:
        // its records are read here, one field each.
        let text = std::fs::read(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
        let column = one_column_records(&text).map_err(|error| format!("{shown}: {error}"))?;
        let mut loaded = Loaded::default();
        loaded.add(headers[0].clone(), parse_column(&column));
        return Ok(loaded);
    }
    let mut columns: Vec<RawColumn> = headers.iter().map(|_| RawColumn::default()).collect();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(|error| format!("{shown}: {error}"))? {
        for (column, field) in columns.iter_mut().zip(record.iter()) {
            column.push(field);
        }
    }
    let mut loaded = Loaded::default();
    for (name, column) in headers.into_iter().zip(columns) {
        loaded.add(name, parse_column(&column));
    }
    Ok(loaded)
}

impl Loaded {
    /// Adds column `name`, or records why it is skipped.
    fn add(&mut self, name: String, parsed: Result<Column, String>) {
        match parsed {
            Ok(column) => self.columns.push(LoadedColumn { name, column }),
            Err(reason) => self.skipped.push(Skipped { name, reason }),
        }
    }
}

/// The data records of a one-column CSV text (the header record skipped), one field each:
/// an empty line is an empty field (a null); a quoted field may hold anything, quotes
/// doubled; `\r\n` ends a line as `\n` does; a final line break ends the last record.
fn one_column_records(text: &[u8]) -> Result<RawColumn, String> {
    let mut column = RawColumn::default();
    let mut field = Vec::new();
    let mut position = 0;
    let mut line = 1;
    let mut first = true;
    while position < text.len() {
        field.clear();
        let start_line = line;
        let rest = &text[position..];
        let leading = rest.iter().take_while(|&&byte| byte == b' ' || byte == b'\t').count();
        if rest.get(leading) == Some(&b'"') {
            // Quoted: up to the quote not doubled, then only blanks before the line break.
            let mut at = position + leading + 1;
            loop {
                match text.get(at) {
                    None => return Err(format!("line {start_line}: a quoted field is not closed")),
                    Some(b'"') if text.get(at + 1) == Some(&b'"') => {
                        field.push(b'"');
                        at += 2;
                    }
                    Some(b'"') => {
                        at += 1;
                        break;
                    }
                    Some(&byte) => {
                        line += usize::from(byte == b'\n');
                        field.push(byte);
                        at += 1;
                    }
                }
            }
            let end =
                text[at..].iter().position(|&byte| byte == b'\n').map_or(text.len(), |offset| at + offset);
            if !text[at..end].trim_ascii().is_empty() {
                return Err(format!("line {line}: characters after a quoted field"));
            }
            position = end + 1;
        } else {
            let end =
                rest.iter().position(|&byte| byte == b'\n').map_or(text.len(), |offset| position + offset);
            let content = text[position..end].strip_suffix(b"\r").unwrap_or(&text[position..end]);
            if content.contains(&b',') {
                return Err(format!("line {line}: a record has more fields than the header's one"));
            }
            field.extend_from_slice(content);
            position = end + 1;
        }
        line += 1;
        if !std::mem::take(&mut first) {
            column.push(&field);
        }
    }
    Ok(column)
}

/// The column of a CSV column's fields (an empty field is a null), or why it is not a column
/// of numbers or bools.
fn parse_column(column: &RawColumn) -> Result<Column, String> {
    let rows = column.len();
    // Each test stops at its first counterexample; only the chosen parse reads every field.
    let non_empty = || column.fields().filter(|field| !field.is_empty());
    let has_value = non_empty().next().is_some();
    let is_bool = has_value && non_empty().all(|field| field == "true" || field == "false");
    let is_integer = has_value && non_empty().all(|field| parse_integer(&field).is_some());
    let values = if is_bool {
        ColumnValues::Bool(column.fields().map(|field| field == "true").collect())
    } else if is_integer {
        ColumnValues::I64(column.fields().map(|field| parse_integer(&field).unwrap_or(0)).collect())
    } else {
        let mut values = Vec::with_capacity(rows);
        for (row, field) in column.fields().enumerate() {
            if field.is_empty() {
                values.push(0.0);
                continue;
            }
            let value = parse_number(&field).ok_or_else(|| {
                // Line numbers count the header as line 1 (a quoted line break aside).
                format!("line {}: '{field}' is not a number", row + 2)
            })?;
            values.push(value);
        }
        ColumnValues::F64(values)
    };
    Ok(column_with_validity(values, column.fields().map(|field| !field.is_empty())))
}

/// A number as Rust parses it (`1e-3`, `NaN`, `inf`, `-inf`, `+2`).
pub fn parse_number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok()
}

/// An integer literal that fits in i64: an optional sign, then digits only.
pub fn parse_integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok()
}

/// A scalar as `--set` and `:set` take it: `true`/`false`, an integer (i64), or a number (f64).
pub fn parse_scalar(text: &str) -> Option<Scalar> {
    match text {
        "true" => Some(Scalar::Bool(true)),
        "false" => Some(Scalar::Bool(false)),
        _ => parse_integer(text).map(Scalar::I64).or_else(|| parse_number(text).map(Scalar::F64)),
    }
}

/// Writes columns side by side as CSV: one header field per column (quoted when it must
/// be), null as an empty field — so one nullable column prints a null as an empty line. A
/// shorter column (a scalar output: one row) leaves its later fields empty.
pub fn write_columns(out: &mut dyn Write, columns: &[(String, Column)]) -> std::io::Result<()> {
    let header: Vec<String> = columns.iter().map(|(name, _)| quote_field(name)).collect();
    writeln!(out, "{}", header.join(","))?;
    let rows = columns.iter().map(|(_, column)| column.len()).max().unwrap_or(0);
    let mut line = String::new();
    for row in 0..rows {
        line.clear();
        for (index, (_, column)) in columns.iter().enumerate() {
            if index > 0 {
                line.push(',');
            }
            if let Some(value) = (row < column.len()).then(|| column.get(row)).flatten() {
                line.push_str(&value.to_string());
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// A CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break.
fn quote_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
