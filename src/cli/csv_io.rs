//! CSV in and out for the command line: a header row, empty field = null; results as one
//! `result` column in shortest round-trip form (integers without a decimal point).

use fusejit::{Column, Scalar};
use std::io::Write;
use std::path::Path;

/// One column read from a CSV file, owned so that bindings can borrow it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedColumn {
    pub name: String,
    pub values: LoadedValues,
    /// LSB-first validity, present only when the column has an empty field.
    pub validity: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadedValues {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

/// Reads every column of `path`. A column whose non-empty fields are all `true`/`false` is
/// bool; one whose non-empty fields are all integers that fit in i64 (`42`, `-7`, `+3`) is
/// i64; every other column must hold numbers (`NaN`, `inf` and `-inf` included) and is f64.
pub fn load_csv(path: &Path) -> Result<Vec<LoadedColumn>, String> {
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
        // read its lines directly instead.
        let text = std::fs::read_to_string(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
        let fields: Vec<String> =
            text.lines().skip(1).map(|line| line.trim().trim_matches('"').to_string()).collect();
        return Ok(vec![parse_column(&shown.to_string(), headers[0].clone(), &fields)?]);
    }
    let mut fields: Vec<Vec<String>> = vec![Vec::new(); headers.len()];
    for record in reader.records() {
        let record = record.map_err(|error| format!("{shown}: {error}"))?;
        for (column, field) in fields.iter_mut().zip(record.iter()) {
            column.push(field.to_string());
        }
    }
    headers
        .into_iter()
        .zip(fields)
        .map(|(name, fields)| parse_column(&shown.to_string(), name, &fields))
        .collect()
}

fn parse_column(file: &str, name: String, fields: &[String]) -> Result<LoadedColumn, String> {
    let has_null = fields.iter().any(String::is_empty);
    let validity = has_null.then(|| {
        let mut bytes = vec![0u8; fields.len().div_ceil(8)];
        for (row, field) in fields.iter().enumerate() {
            if !field.is_empty() {
                bytes[row / 8] |= 1 << (row % 8);
            }
        }
        bytes
    });
    let non_empty = || fields.iter().filter(|field| !field.is_empty());
    let is_bool = non_empty().count() > 0 && non_empty().all(|field| field == "true" || field == "false");
    let is_integer = non_empty().count() > 0 && non_empty().all(|field| parse_integer(field).is_some());
    let values = if is_bool {
        LoadedValues::Bool(fields.iter().map(|field| field == "true").collect())
    } else if is_integer {
        LoadedValues::I64(fields.iter().map(|field| parse_integer(field).unwrap_or(0)).collect())
    } else {
        let mut values = Vec::with_capacity(fields.len());
        for (row, field) in fields.iter().enumerate() {
            if field.is_empty() {
                values.push(0.0);
                continue;
            }
            let value = parse_number(field).ok_or_else(|| {
                // Line numbers count the header as line 1.
                format!("{file}: line {}, column '{name}': '{field}' is not a number", row + 2)
            })?;
            values.push(value);
        }
        LoadedValues::F64(values)
    };
    Ok(LoadedColumn { name, values, validity })
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
