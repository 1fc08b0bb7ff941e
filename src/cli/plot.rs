//! `:plot`: a column as a line chart — in the terminal with Unicode braille (2×4 dots a
//! character), or as an SVG file. Nulls and non-finite values are gaps in the line.

use std::fmt::Write as _;

/// The finite range of `values`, or `None` when there is no finite value.
fn range(values: &[Option<f64>]) -> Option<(f64, f64)> {
    let mut finite = values.iter().flatten().copied().filter(|value| value.is_finite());
    let first = finite.next()?;
    Some(finite.fold((first, first), |(low, high), value| (low.min(value), high.max(value))))
}

/// The runs of consecutive finite values, as `(row, value)` points.
fn segments(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut segments: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut current: Vec<(usize, f64)> = Vec::new();
    for (row, value) in values.iter().enumerate() {
        match value {
            Some(value) if value.is_finite() => current.push((row, *value)),
            _ => {
                if !current.is_empty() {
                    segments.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

/// A dot canvas of `width × height` dots, drawn as braille characters.
struct Canvas {
    width: usize,
    height: usize,
    dots: Vec<bool>,
}

impl Canvas {
    fn new(columns: usize, rows: usize) -> Canvas {
        Canvas { width: columns * 2, height: rows * 4, dots: vec![false; columns * 2 * rows * 4] }
    }

    fn set(&mut self, x: usize, y: usize) {
        if x < self.width && y < self.height {
            self.dots[y * self.width + x] = true;
        }
    }

    /// A straight line of dots between two points (Bresenham).
    fn line(&mut self, from: (usize, usize), to: (usize, usize)) {
        let (mut x, mut y) = (from.0 as i64, from.1 as i64);
        let (x1, y1) = (to.0 as i64, to.1 as i64);
        let (dx, dy) = ((x1 - x).abs(), -(y1 - y).abs());
        let (sx, sy) = (if x < x1 { 1 } else { -1 }, if y < y1 { 1 } else { -1 });
        let mut error = dx + dy;
        loop {
            self.set(x as usize, y as usize);
            if x == x1 && y == y1 {
                break;
            }
            let twice = 2 * error;
            if twice >= dy {
                error += dy;
                x += sx;
            }
            if twice <= dx {
                error += dx;
                y += sy;
            }
        }
    }

    /// Row `row` of braille characters.
    fn text_row(&self, row: usize) -> String {
        // Bit of dot (dx, dy) within a character, Unicode's braille order.
        const BITS: [[u32; 4]; 2] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]];
        (0..self.width / 2)
            .map(|column| {
                let mut bits = 0;
                for (dx, column_bits) in BITS.iter().enumerate() {
                    for (dy, bit) in column_bits.iter().enumerate() {
                        if self.dots[(row * 4 + dy) * self.width + column * 2 + dx] {
                            bits |= bit;
                        }
                    }
                }
                char::from_u32(0x2800 + bits).unwrap_or(' ')
            })
            .collect()
    }
}

/// The chart of `values` in `columns × rows` characters of plot area, with the largest and
/// smallest value labelled on the left and the row range below.
pub fn braille(values: &[Option<f64>], columns: usize, rows: usize) -> String {
    let Some((low, high)) = range(values) else {
        return "nothing to plot: no finite value\n".to_string();
    };
    let (columns, rows) = (columns.max(2), rows.max(2));
    let mut canvas = Canvas::new(columns, rows);
    let (width, height) = (canvas.width, canvas.height);
    let x_of = |row: usize| row * (width - 1) / values.len().saturating_sub(1).max(1);
    let span = if high > low { high - low } else { 1.0 };
    let y_of = |value: f64| (((high - value) / span) * (height - 1) as f64).round() as usize;
    for segment in segments(values) {
        let points: Vec<(usize, usize)> =
            segment.iter().map(|&(row, value)| (x_of(row), y_of(value))).collect();
        canvas.set(points[0].0, points[0].1);
        for pair in points.windows(2) {
            canvas.line(pair[0], pair[1]);
        }
    }
    let (top, bottom) = (format!("{high}"), format!("{low}"));
    let margin = top.len().max(bottom.len());
    let mut out = String::new();
    for row in 0..rows {
        let label = if row == 0 {
            top.as_str()
        } else if row == rows - 1 {
            bottom.as_str()
        } else {
            ""
        };
        let _ = writeln!(out, "{label:>margin$} ┤{}", canvas.text_row(row));
    }
    let _ = writeln!(out, "{:>margin$}  rows 0..{}", "", values.len());
    out
}

/// The chart of `values` as an SVG document (800×300), one polyline per run of finite values.
pub fn svg(values: &[Option<f64>], title: &str) -> String {
    let (width, height, pad) = (800.0, 300.0, 40.0);
    let (low, high) = range(values).unwrap_or((0.0, 1.0));
    let span = if high > low { high - low } else { 1.0 };
    let last = values.len().saturating_sub(1).max(1) as f64;
    let x_of = |row: usize| pad + row as f64 / last * (width - 2.0 * pad);
    let y_of = |value: f64| pad + (high - value) / span * (height - 2.0 * pad);
    let escaped = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{pad}\" y=\"24\" font-family=\"sans-serif\" font-size=\"14\">{escaped}</text>\n\
         <text x=\"4\" y=\"{pad}\" font-family=\"sans-serif\" font-size=\"10\">{high}</text>\n\
         <text x=\"4\" y=\"{}\" font-family=\"sans-serif\" font-size=\"10\">{low}</text>\n",
        height - pad
    );
    for segment in segments(values) {
        let points: Vec<String> =
            segment.iter().map(|&(row, value)| format!("{:.2},{:.2}", x_of(row), y_of(value))).collect();
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"steelblue\" stroke-width=\"1\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rising_line_with_a_gap_draws_two_runs_of_dots_and_labels() {
        let values = [Some(0.0), Some(1.0), None, Some(3.0), Some(4.0)];
        let chart = braille(&values, 5, 2);
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("4 ┤"), "{chart}");
        assert!(lines[1].starts_with("0 ┤"), "{chart}");
        assert_eq!(lines[2].trim(), "rows 0..5");
        // The lowest value is the bottom-left dot (bit 0x40 of the first character).
        let first = lines[1].chars().nth(3).expect("a character");
        assert_eq!((u32::from(first) - 0x2800) & 0x40, 0x40, "{chart}");
        // Nothing finite: a message, not a panic.
        assert_eq!(braille(&[None, Some(f64::NAN)], 10, 3), "nothing to plot: no finite value\n");
        assert!(braille(&[Some(1.0)], 10, 3).contains('┤'));
    }

    #[test]
    fn svg_has_one_polyline_per_run_and_escapes_the_title() {
        let values = [Some(1.0), Some(2.0), None, Some(3.0)];
        let document = svg(&values, "x < 3 & y");
        assert_eq!(document.matches("<polyline").count(), 2);
        assert!(document.contains("x &lt; 3 &amp; y"));
        assert!(document.starts_with("<svg") && document.ends_with("</svg>\n"));
    }
}
