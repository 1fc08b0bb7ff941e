//! CSV out: columns side by side under a header row, null as an empty field, numbers in
//! shortest round-trip form exactly as Rust's `Display` writes them (integers without a
//! decimal point), formatted on every core for large outputs.

use fusejit::{Column, ColumnValues};
use std::io::Write;
use std::ops::Range;

/// Rows formatted per piece of work: large enough to amortise a thread, small enough that
/// the formatted text of a piece stays small.
const ROWS_PER_PIECE: usize = 1 << 18;

/// Writes the header row of `names`, each quoted when it must be.
pub fn write_header(out: &mut dyn Write, names: &[&str]) -> std::io::Result<()> {
    let header: Vec<String> = names.iter().map(|name| quote_field(name)).collect();
    writeln!(out, "{}", header.join(","))
}

/// Writes columns side by side as CSV: one header field per column, null as an empty field —
/// so one nullable column prints a null as an empty line. A shorter column (a scalar output:
/// one row) leaves its later fields empty.
pub fn write_columns(out: &mut dyn Write, columns: &[(String, Column)]) -> std::io::Result<()> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    write_header(out, &names)?;
    let columns: Vec<&Column> = columns.iter().map(|(_, column)| column).collect();
    let rows = columns.iter().map(|column| column.len()).max().unwrap_or(0);
    write_rows(out, &columns, 0..rows)
}

/// Writes rows `rows` of `columns` (no header), formatting pieces of them on every core.
pub fn write_rows(out: &mut dyn Write, columns: &[&Column], rows: Range<usize>) -> std::io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |count| count.get()).clamp(1, 8);
    let mut start = rows.start;
    let mut texts: Vec<Vec<u8>> = vec![Vec::new(); threads];
    while start < rows.end {
        let pieces: Vec<Range<usize>> = (0..threads)
            .map(|piece| {
                let first = (start + piece * ROWS_PER_PIECE).min(rows.end);
                first..(first + ROWS_PER_PIECE).min(rows.end)
            })
            .filter(|piece| !piece.is_empty())
            .collect();
        if pieces.len() == 1 {
            texts[0].clear();
            format_rows(columns, pieces[0].clone(), &mut texts[0]);
        } else {
            std::thread::scope(|scope| {
                for (piece, text) in pieces.iter().zip(texts.iter_mut()) {
                    scope.spawn(move || {
                        text.clear();
                        format_rows(columns, piece.clone(), text);
                    });
                }
            });
        }
        for text in &texts[..pieces.len()] {
            out.write_all(text)?;
        }
        start = pieces.last().map_or(rows.end, |piece| piece.end);
    }
    Ok(())
}

/// Appends rows `rows` of `columns` as CSV lines to `text`.
pub fn format_rows(columns: &[&Column], rows: Range<usize>, text: &mut Vec<u8>) {
    let mut floats = ryu::Buffer::new();
    let mut integers = itoa::Buffer::new();
    for row in rows {
        for (index, column) in columns.iter().enumerate() {
            if index > 0 {
                text.push(b',');
            }
            if row >= column.len() || !column.is_valid(row) {
                continue;
            }
            match &column.values {
                ColumnValues::F64(values) => push_f64(text, values[row], &mut floats),
                ColumnValues::F32(values) => push_f32(text, values[row]),
                ColumnValues::I64(values) => text.extend_from_slice(integers.format(values[row]).as_bytes()),
                ColumnValues::I32(values) => text.extend_from_slice(integers.format(values[row]).as_bytes()),
                ColumnValues::Bool(values) => {
                    text.extend_from_slice(if values[row] { b"true" } else { b"false" });
                }
                // `ColumnValues` may grow: a new kind prints through `Display`.
                other => {
                    if let Some(value) = other.get(row) {
                        text.extend_from_slice(value.to_string().as_bytes());
                    }
                }
            }
        }
        text.push(b'\n');
    }
}

/// `value` as `Display` writes it (shortest round trip, no exponent), through `ryu` where
/// the two agree: ryu's form without its `.0`, or `Display` for what ryu writes with an
/// exponent, for NaN and infinities, and where two shortest forms may tie.
fn push_f64(text: &mut Vec<u8>, value: f64, buffer: &mut ryu::Buffer) {
    if value.is_finite() && !shortest_may_tie(value) {
        let shortest = buffer.format_finite(value).as_bytes();
        if !shortest.contains(&b'e') {
            text.extend_from_slice(shortest.strip_suffix(b".0").unwrap_or(shortest));
            return;
        }
    }
    let _ = write!(text, "{value}");
}

/// Whether two shortest decimal forms of `value` can be equally near it, where ryu (ties to
/// even) and `Display` (ties away) choose differently. A tie at `n` digits needs the exact
/// value to have `n + 1 ≤ 18` significant digits: for `value = m·2^e` (`m` odd) that is
/// `m·5^-e < 10^18` when `e < 0`; an integer has no tie below 2^53 (it prints exactly).
/// True for few values besides short binary fractions (f32 conversions, `k/1024`).
fn shortest_may_tie(value: f64) -> bool {
    let bits = value.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mut mantissa, mut exponent) =
        if biased == 0 { (fraction, -1074) } else { (fraction | (1 << 52), biased - 1075) };
    if mantissa == 0 {
        return false;
    }
    let zeros = mantissa.trailing_zeros();
    mantissa >>= zeros;
    exponent += zeros as i32;
    if exponent >= 0 {
        return value.abs() >= 9_007_199_254_740_992.0;
    }
    let Ok(power) = u32::try_from(-exponent) else { return false };
    power <= 25 && u128::from(mantissa) * 5u128.pow(power) < 10u128.pow(18)
}

/// `value` as `Display` writes an f32. Not through ryu: on an exact tie between two
/// shortest forms the two choose differently for f32 (2567984.25 prints as `2567984.3`).
fn push_f32(text: &mut Vec<u8>, value: f32) {
    let _ = write!(text, "{value}");
}

/// A CSV field, quoted (with doubled quotes) when it holds a comma, quote or line break.
fn quote_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ryu's shortest digits, trimmed, are `Display`'s: checked on hard cases and a sweep.
    #[test]
    fn numbers_print_exactly_as_display_prints_them() {
        let mut buffer = ryu::Buffer::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut samples: Vec<f64> = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.3,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            1e-5,
            1e-6,
            1e-7,
            123456789.125,
            4.611686018427388e18,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            252.0,
            0.5,
            100.0,
        ];
        for _ in 0..300_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            samples.push(f64::from_bits(state));
            samples.push((state % 1_000_000) as f64 / 1000.0);
            samples.push((state % (1 << 30)) as f64 / 1024.0);
            samples.push(f64::from(f32::from_bits(state as u32)));
        }
        for value in samples {
            let mut text = Vec::new();
            push_f64(&mut text, value, &mut buffer);
            assert_eq!(String::from_utf8(text).unwrap(), value.to_string(), "{value:e}");
        }
    }
}
