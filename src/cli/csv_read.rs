//! CSV in, fast and correct: the file is cut into chunks at record boundaries (quote-aware),
//! the chunks are parsed into typed columns on every core, in order, and either joined into
//! whole columns or handed out batch by batch for streaming.
//!
//! A header row names the columns; an empty field is a null. A column whose non-empty fields
//! are all `true`/`false` is bool; all integers that fit in i64 (`42`, `-7`, `+3`) is i64; all
//! numbers (`NaN`, `inf` and `-inf` included) is f64; any other column is skipped, with its
//! first field that is not a number as the reason. Quoted fields may hold commas, doubled
//! quotes and line breaks; lines may end in CRLF. In a one-column file an empty line is a null
//! (elsewhere a blank line is skipped, as CSV readers do).

use super::files::{Loaded, LoadedColumn, Skipped};
use arrow_buffer::BooleanBufferBuilder;
use fusejit::{Column, ColumnValues, Elem, Scalar};
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

/// How many bytes of text a chunk holds before it is cut at the last record boundary.
pub const CHUNK_BYTES: usize = 4 << 20;

/// The header of a CSV file and which of its columns are read.
#[derive(Debug)]
struct Layout {
    /// Every column name, in file order.
    names: Vec<String>,
    /// Per file column: its index among the read columns, if read.
    read_as: Vec<Option<usize>>,
    /// The read columns' file indices, in file order.
    read: Vec<usize>,
}

/// One column of one chunk as parsed: its values so far and their validity.
#[derive(Debug)]
struct ColumnChunk {
    values: Parsed,
    valid: BooleanBufferBuilder,
}

/// The values of a column (or a chunk of one), typed by what its fields were so far.
#[derive(Debug)]
enum Parsed {
    /// Only empty fields so far: how many.
    Empty(usize),
    Bool(Vec<bool>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    /// Not a column of numbers or of bools: why, and the chunk line that shows it.
    Rejected {
        line: usize,
        why: String,
    },
}

/// Why a chunk could not be read.
#[derive(Debug)]
enum ChunkError {
    /// A malformed record: its line within the chunk (0-based), and what is wrong.
    Record { line: usize, message: String },
    /// The file could not be read.
    Io(String),
}

/// A chunk parsed: per read column its values, and how many line breaks the chunk holds (so
/// the next chunk knows its first line).
#[derive(Debug)]
struct ParsedChunk {
    columns: Vec<ColumnChunk>,
    lines: usize,
}

impl ColumnChunk {
    fn new(capacity: usize) -> Self {
        ColumnChunk { values: Parsed::Empty(0), valid: BooleanBufferBuilder::new(capacity) }
    }

    /// Adds one field (already trimmed), read on chunk line `line`.
    fn push(&mut self, field: &[u8], line: usize) {
        if field.is_empty() {
            self.valid.append(false);
            match &mut self.values {
                Parsed::Empty(count) => *count += 1,
                Parsed::Bool(values) => values.push(false),
                Parsed::I64(values) => values.push(0),
                Parsed::F64(values) => values.push(0.0),
                Parsed::Rejected { .. } => {}
            }
            return;
        }
        self.valid.append(true);
        match &mut self.values {
            Parsed::Empty(count) => {
                let count = *count;
                self.values = if field == b"true" || field == b"false" {
                    let mut values = vec![false; count];
                    values.push(field == b"true");
                    Parsed::Bool(values)
                } else if let Some(value) = parse_integer_bytes(field) {
                    let mut values = vec![0; count];
                    values.push(value);
                    Parsed::I64(values)
                } else if let Some(value) = parse_number_bytes(field) {
                    let mut values = vec![0.0; count];
                    values.push(value);
                    Parsed::F64(values)
                } else {
                    not_a_number(field, line)
                };
            }
            Parsed::Bool(values) => match field {
                b"true" => values.push(true),
                b"false" => values.push(false),
                _ => {
                    let why = format!("'{}' is not true or false", String::from_utf8_lossy(field));
                    self.values = Parsed::Rejected { line, why };
                }
            },
            Parsed::I64(values) => {
                if let Some(value) = parse_integer_bytes(field) {
                    values.push(value);
                } else if let Some(value) = parse_number_bytes(field) {
                    // A number that is not an integer: the column is f64 after all. An i64
                    // converts to the f64 its digits parse to (both round to nearest).
                    let mut floats: Vec<f64> = values.iter().map(|&v| v as f64).collect();
                    floats.push(value);
                    self.values = Parsed::F64(floats);
                } else {
                    self.values = not_a_number(field, line);
                }
            }
            Parsed::F64(values) => match parse_number_bytes(field) {
                Some(value) => values.push(value),
                None => self.values = not_a_number(field, line),
            },
            Parsed::Rejected { .. } => {}
        }
    }
}

fn not_a_number(field: &[u8], line: usize) -> Parsed {
    Parsed::Rejected { line, why: format!("'{}' is not a number", String::from_utf8_lossy(field)) }
}

/// An integer literal that fits in i64: an optional sign, then ASCII digits only.
fn parse_integer_bytes(field: &[u8]) -> Option<i64> {
    let (negative, digits) = match field.first()? {
        b'-' => (true, &field[1..]),
        b'+' => (false, &field[1..]),
        _ => (false, field),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate negatively so that i64::MIN fits.
    let mut value: i64 = 0;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_sub(i64::from(digit))?;
    }
    if negative { Some(value) } else { value.checked_neg() }
}

/// A number as Rust parses it (`1e-3`, `NaN`, `inf`, `-inf`, `+2`).
fn parse_number_bytes(field: &[u8]) -> Option<f64> {
    std::str::from_utf8(field).ok()?.parse::<f64>().ok()
}

/// A number as Rust parses it (`1e-3`, `NaN`, `inf`, `-inf`, `+2`).
pub fn parse_number(text: &str) -> Option<f64> {
    parse_number_bytes(text.as_bytes())
}

/// A scalar as `--set` and `:set` take it: `true`/`false`, an integer (i64), or a number (f64).
pub fn parse_scalar(text: &str) -> Option<Scalar> {
    match text {
        "true" => Some(Scalar::Bool(true)),
        "false" => Some(Scalar::Bool(false)),
        _ => parse_integer_bytes(text.as_bytes())
            .map(Scalar::I64)
            .or_else(|| parse_number(text).map(Scalar::F64)),
    }
}

/// The end of the last complete record of `text` (just past its line break), outside quotes;
/// `None` when no record ends in it.
fn last_record_end(text: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', text).is_none() {
        return memchr::memrchr(b'\n', text).map(|at| at + 1);
    }
    let mut quoted = false;
    let mut end = None;
    for (at, &byte) in text.iter().enumerate() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => end = Some(at + 1),
            _ => {}
        }
    }
    end
}

/// The end of the first record of `text` (just past its line break), outside quotes, or the
/// end of the text.
fn first_record_end(text: &[u8]) -> usize {
    let mut quoted = false;
    for (at, &byte) in text.iter().enumerate() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return at + 1,
            _ => {}
        }
    }
    text.len()
}

/// Reads `path` in chunks that end at record boundaries.
struct ChunkReader {
    file: std::fs::File,
    carry: Vec<u8>,
    done: bool,
    /// Bytes read so far (for progress).
    read: Arc<std::sync::atomic::AtomicU64>,
}

impl ChunkReader {
    /// The next chunk: whole records, the last one's line break included (the file's last
    /// record may have none).
    fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut chunk = std::mem::take(&mut self.carry);
        loop {
            if self.done {
                return Ok((!chunk.is_empty()).then_some(chunk));
            }
            let start = chunk.len();
            chunk.resize(start + CHUNK_BYTES, 0);
            let mut filled = start;
            while filled < chunk.len() {
                match self.file.read(&mut chunk[filled..]) {
                    Ok(0) => {
                        self.done = true;
                        break;
                    }
                    Ok(count) => filled += count,
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(error) => return Err(error),
                }
            }
            chunk.truncate(filled);
            self.read.fetch_add((filled - start) as u64, std::sync::atomic::Ordering::Relaxed);
            if self.done {
                continue;
            }
            // Only the newly read part can hold the last record end (the carry had none).
            if let Some(end) = last_record_end(&chunk) {
                self.carry = chunk[end..].to_vec();
                chunk.truncate(end);
                return Ok(Some(chunk));
            }
        }
    }
}

/// Parses the records of `chunk` (whole records, starting outside quotes) into the read
/// columns. Errors name the line within the chunk (0-based) and say what is wrong.
fn parse_chunk(chunk: &[u8], layout: &Layout) -> Result<ParsedChunk, ChunkError> {
    let lines = memchr::memchr_iter(b'\n', chunk).count();
    let mut columns: Vec<ColumnChunk> = layout.read.iter().map(|_| ColumnChunk::new(lines + 1)).collect();
    let width = layout.names.len();
    if memchr::memchr(b'"', chunk).is_none() {
        parse_unquoted(chunk, layout, width, &mut columns)?;
    } else if width == 1 {
        parse_one_quoted_column(chunk, &mut columns)?;
    } else {
        parse_quoted(chunk, layout, width, &mut columns)?;
    }
    Ok(ParsedChunk { columns, lines })
}

/// Records without quotes: lines split at commas, fields trimmed.
fn parse_unquoted(
    chunk: &[u8],
    layout: &Layout,
    width: usize,
    columns: &mut [ColumnChunk],
) -> Result<usize, ChunkError> {
    let mut rows = 0;
    let mut start = 0;
    let mut line = 0;
    while start < chunk.len() {
        let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |offset| start + offset);
        let record = &chunk[start..end];
        let record = record.strip_suffix(b"\r").unwrap_or(record);
        start = end + 1;
        line += 1;
        if width == 1 {
            if memchr::memchr(b',', record).is_some() {
                let message = "a record has more fields than the header's one".to_string();
                return Err(ChunkError::Record { line: line - 1, message });
            }
            if let Some(column) = columns.first_mut() {
                column.push(record.trim_ascii(), line - 1);
            }
            rows += 1;
            continue;
        }
        if record.trim_ascii().is_empty() {
            continue;
        }
        let mut field_index = 0;
        let mut field_start = 0;
        for at in memchr::memchr_iter(b',', record).chain(std::iter::once(record.len())) {
            if field_index < width
                && let Some(read) = layout.read_as[field_index]
            {
                columns[read].push(record[field_start..at].trim_ascii(), line - 1);
            }
            field_index += 1;
            field_start = at + 1;
        }
        if field_index != width {
            let message = format!("a record has {field_index} fields, the header has {width}");
            return Err(ChunkError::Record { line: line - 1, message });
        }
        rows += 1;
    }
    Ok(rows)
}

/// Records with quotes, through the `csv` crate (quotes, doubled quotes, line breaks).
fn parse_quoted(
    chunk: &[u8],
    layout: &Layout,
    width: usize,
    columns: &mut [ColumnChunk],
) -> Result<usize, ChunkError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).trim(csv::Trim::All).from_reader(chunk);
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    loop {
        let line = reader.position().line().saturating_sub(1) as usize;
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(rows),
            Ok(true) => {}
            Err(error) => return Err(ChunkError::Record { line, message: error.to_string() }),
        }
        let line = record.position().map_or(line, |position| position.line().saturating_sub(1) as usize);
        if record.len() != width {
            let message = format!("a record has {} fields, the header has {width}", record.len());
            return Err(ChunkError::Record { line, message });
        }
        for (read, &index) in layout.read.iter().enumerate() {
            columns[read].push(&record[index], line);
        }
        rows += 1;
    }
}

/// The records of a one-column chunk with quotes, one field each: an empty line is an empty
/// field (a null); a quoted field may hold anything, quotes doubled; `\r\n` ends a line as
/// `\n` does.
fn parse_one_quoted_column(text: &[u8], columns: &mut [ColumnChunk]) -> Result<usize, ChunkError> {
    let mut field = Vec::new();
    let mut position = 0;
    let mut line = 0;
    let mut rows = 0;
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
                    None => {
                        let message = "a quoted field is not closed".to_string();
                        return Err(ChunkError::Record { line: start_line, message });
                    }
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
            let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |offset| at + offset);
            if !text[at..end].trim_ascii().is_empty() {
                let message = "characters after a quoted field".to_string();
                return Err(ChunkError::Record { line, message });
            }
            position = end + 1;
        } else {
            let end = memchr::memchr(b'\n', rest).map_or(text.len(), |offset| position + offset);
            let content = text[position..end].strip_suffix(b"\r").unwrap_or(&text[position..end]);
            if content.contains(&b',') {
                let message = "a record has more fields than the header's one".to_string();
                return Err(ChunkError::Record { line, message });
            }
            field.extend_from_slice(content);
            position = end + 1;
        }
        line += 1;
        if let Some(column) = columns.first_mut() {
            column.push(field.trim_ascii(), start_line);
        }
        rows += 1;
    }
    Ok(rows)
}

/// A CSV file being read: its header, its first chunk parsed (every column, for types and
/// notices), and the later chunks parsed on worker threads (the needed columns only),
/// handed out in file order.
pub struct CsvChunks {
    path: String,
    /// The first chunk, the needed columns only, until it is handed out.
    first: Option<ParsedChunk>,
    /// The file line of the first chunk's first row.
    first_data_line: usize,
    /// The needed columns (name, type by the first chunk or `None` when rejected there).
    first_types: Vec<(String, Result<Option<Elem>, String>)>,
    /// Columns read in the first chunk only (not needed) that are not numbers or bools.
    unneeded_skipped: Vec<Skipped>,
    results: Receiver<(usize, Result<ParsedChunk, ChunkError>)>,
    /// Chunks parsed ahead of the one wanted next, by index.
    pending: std::collections::BTreeMap<usize, Result<ParsedChunk, ChunkError>>,
    next: usize,
    /// The file's line of the next chunk's first line (the header is line 1).
    next_line: usize,
    bytes_read: Arc<std::sync::atomic::AtomicU64>,
}

/// How many chunks may wait between the reader, the parsers and the consumer: bounds memory.
const CHUNKS_IN_FLIGHT: usize = 4;

impl CsvChunks {
    /// Opens `path`, reads its header and first chunk, and starts reading and parsing the
    /// rest. `only`, when given, names the columns to read at all (each must exist); `needed`,
    /// the columns parsed past the first chunk (default: all read).
    pub fn open(
        path: &Path,
        only: Option<&[String]>,
        needed: Option<&[String]>,
    ) -> Result<CsvChunks, String> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
        let bytes_read = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut reader = ChunkReader { file, carry: Vec::new(), done: false, read: bytes_read.clone() };
        let first = reader.next_chunk().map_err(|error| format!("cannot read {shown}: {error}"))?;
        let first = first.unwrap_or_default();
        let header_end = first_record_end(&first);
        // The first data line: after every line the header spans (quoted breaks included).
        let first_data_line = (1 + memchr::memchr_iter(b'\n', &first[..header_end]).count()).max(2);
        let names = header_names(&first[..header_end]).map_err(|error| format!("{shown}: {error}"))?;
        if let Some(duplicate) = names.iter().enumerate().find(|(i, name)| names[..*i].contains(name)) {
            return Err(format!("{shown}: column '{}' appears twice in the header", duplicate.1));
        }
        if let Some(only) = only
            && let Some(missing) = only.iter().find(|name| !names.contains(name))
        {
            return Err(format!("{shown}: no column '{missing}' (--columns)"));
        }
        let read_all =
            Arc::new(layout(&names, |name| only.is_none_or(|only| only.contains(&name.to_string()))));
        let is_needed = |name: &str| {
            only.is_none_or(|only| only.iter().any(|o| o == name))
                && needed.is_none_or(|needed| needed.iter().any(|n| n == name))
        };
        let read_needed = Arc::new(layout(&names, is_needed));

        // The first chunk: every read column, so that unneeded ones still get their notice.
        let mut parsed = parse_chunk(&first[header_end..], &read_all).map_err(|error| match error {
            ChunkError::Record { line, message } => {
                format!("{shown}: line {}: {message}", first_data_line + line)
            }
            ChunkError::Io(message) => message,
        })?;
        let mut first_types = Vec::new();
        let mut unneeded_skipped = Vec::new();
        let mut needed_columns = Vec::new();
        for (column, &index) in std::mem::take(&mut parsed.columns).into_iter().zip(&read_all.read) {
            let name = names[index].clone();
            let elem = match &column.values {
                Parsed::Empty(_) | Parsed::F64(_) => Ok(Some(Elem::F64)),
                Parsed::Bool(_) => Ok(Some(Elem::Bool)),
                Parsed::I64(_) => Ok(Some(Elem::I64)),
                Parsed::Rejected { line, why } => Err(format!("line {}: {why}", first_data_line + line)),
            };
            if is_needed(&name) {
                first_types.push((name, elem));
                needed_columns.push(column);
            } else if let Err(reason) = elem {
                unneeded_skipped.push(Skipped { name, reason });
            }
        }
        let first_chunk_lines = parsed.lines;
        let first_chunk = ParsedChunk { columns: needed_columns, lines: first_chunk_lines };

        let workers = std::thread::available_parallelism().map_or(1, |count| count.get()).clamp(1, 8);
        let (chunk_sender, chunk_receiver) = sync_channel::<(usize, Vec<u8>)>(CHUNKS_IN_FLIGHT);
        let (result_sender, results) = sync_channel(CHUNKS_IN_FLIGHT + workers);
        let reader_shown = shown.clone();
        let reader_results = result_sender.clone();
        std::thread::spawn(move || read_chunks(reader, &chunk_sender, &reader_results, &reader_shown));
        let chunk_receiver = Arc::new(Mutex::new(chunk_receiver));
        for _ in 0..workers {
            let (chunks, results, layout) =
                (chunk_receiver.clone(), result_sender.clone(), read_needed.clone());
            std::thread::spawn(move || parse_chunks(&chunks, &results, &layout));
        }
        Ok(CsvChunks {
            path: shown,
            first: Some(first_chunk),
            first_data_line,
            first_types,
            unneeded_skipped,
            results,
            pending: std::collections::BTreeMap::new(),
            next: 0,
            next_line: first_data_line + first_chunk_lines,
            bytes_read,
        })
    }

    /// The needed columns with their types as the first chunk shows them (a column of empty
    /// fields there is f64), and the columns skipped: not numbers or bools in the first chunk.
    pub fn first_types(&self) -> (Vec<(String, Elem)>, Vec<Skipped>) {
        let mut columns = Vec::new();
        let mut skipped = self.unneeded_skipped.clone();
        for (name, elem) in &self.first_types {
            match elem {
                Ok(Some(elem)) => columns.push((name.clone(), *elem)),
                Ok(None) => {}
                Err(reason) => skipped.push(Skipped { name: name.clone(), reason: reason.clone() }),
            }
        }
        (columns, skipped)
    }

    /// How many bytes of the file have been read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The next chunk in file order with its first line, or `None` after the last; an error
    /// names the file and the line.
    fn next_chunk(&mut self) -> Result<Option<(ParsedChunk, usize)>, String> {
        if let Some(first) = self.first.take() {
            return Ok(Some((first, self.first_data_line)));
        }
        let chunk = loop {
            if let Some(chunk) = self.pending.remove(&self.next) {
                break chunk;
            }
            match self.results.recv() {
                Ok((index, chunk)) => {
                    self.pending.insert(index, chunk);
                }
                // Every sender is gone: no chunk is left.
                Err(_) => return Ok(None),
            }
        };
        let first_line = self.next_line;
        self.next += 1;
        match chunk {
            Ok(chunk) => {
                self.next_line += chunk.lines;
                Ok(Some((chunk, first_line)))
            }
            Err(ChunkError::Record { line, message }) => {
                Err(format!("{}: line {}: {message}", self.path, first_line + line))
            }
            Err(ChunkError::Io(message)) => Err(message),
        }
    }

    /// Reads every chunk and joins them into whole columns: a column's type is what all its
    /// fields agree on (integers in one chunk and decimals in another make an f64 column).
    /// `progress` hears the bytes read after each chunk.
    pub fn read_all(mut self, progress: &dyn Fn(u64)) -> Result<Loaded, String> {
        let mut chunks = Vec::new();
        while let Some(chunk) = self.next_chunk()? {
            chunks.push(chunk);
            progress(self.bytes_read());
        }
        // Per column, its chunks in order (moved, not copied: a lone chunk becomes the column).
        let mut parts: Vec<Vec<(ColumnChunk, usize)>> = self.first_types.iter().map(|_| Vec::new()).collect();
        for (chunk, first_line) in chunks {
            for (column, part) in parts.iter_mut().zip(chunk.columns) {
                column.push((part, first_line));
            }
        }
        let mut loaded = Loaded { columns: Vec::new(), skipped: self.unneeded_skipped.clone() };
        for ((name, _), parts) in self.first_types.iter().zip(parts) {
            match join_column(parts, None) {
                Ok(column) => loaded.columns.push(LoadedColumn { name: name.clone(), column }),
                Err(reason) => loaded.skipped.push(Skipped { name: name.clone(), reason }),
            }
        }
        Ok(loaded)
    }

    /// The next batch of rows of `columns` (the types the first chunk gave them, fixed for
    /// the whole file): `None` after the last. A field that does not fit its column's type is
    /// an error naming the line.
    pub fn next_batch(&mut self, columns: &[(String, Elem)]) -> Result<Option<Loaded>, String> {
        let Some((chunk, line)) = self.next_chunk()? else { return Ok(None) };
        let mut loaded = Loaded::default();
        for ((name, _), part) in self.first_types.iter().zip(chunk.columns) {
            let Some((_, elem)) = columns.iter().find(|(wanted, _)| wanted == name) else { continue };
            match join_column(vec![(part, line)], Some(*elem)) {
                Ok(column) => loaded.columns.push(LoadedColumn { name: name.clone(), column }),
                Err(reason) => {
                    return Err(format!(
                        "{}: column '{name}' was read as {elem} from its first rows, but {reason} \
                         (--no-stream reads the whole file first and types columns by every row)",
                        self.path
                    ));
                }
            }
        }
        Ok(Some(loaded))
    }
}

/// The layout reading the columns `wanted` accepts.
fn layout(names: &[String], wanted: impl Fn(&str) -> bool) -> Layout {
    let mut read = Vec::new();
    let mut read_as = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        if wanted(name) {
            read_as.push(Some(read.len()));
            read.push(index);
        } else {
            read_as.push(None);
        }
    }
    Layout { names: names.to_vec(), read_as, read }
}

/// The header record's names, unquoted and trimmed.
fn header_names(header: &[u8]) -> Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).trim(csv::Trim::All).from_reader(header);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Ok(record.iter().map(str::to_string).collect()),
        Ok(false) => Err("the file is empty: a CSV file starts with a header row".to_string()),
        Err(error) => Err(format!("line 1: {error}")),
    }
}

/// The reader thread: chunks in file order to the parsers, and each chunk's line count.
fn read_chunks(
    mut reader: ChunkReader,
    chunks: &SyncSender<(usize, Vec<u8>)>,
    results: &SyncSender<(usize, Result<ParsedChunk, ChunkError>)>,
    shown: &str,
) {
    let mut index = 0;
    loop {
        match reader.next_chunk() {
            Ok(Some(chunk)) => {
                // A consumer that stopped early drops the receivers: stop reading.
                if chunks.send((index, chunk)).is_err() {
                    return;
                }
                index += 1;
            }
            Ok(None) => return,
            Err(error) => {
                let _ = results.send((index, Err(ChunkError::Io(format!("cannot read {shown}: {error}")))));
                return;
            }
        }
    }
}

/// A parser thread: parses chunks until the reader is done.
fn parse_chunks(
    chunks: &Mutex<Receiver<(usize, Vec<u8>)>>,
    results: &SyncSender<(usize, Result<ParsedChunk, ChunkError>)>,
    layout: &Layout,
) {
    loop {
        let next = chunks.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((index, chunk)) = next else { return };
        if results.send((index, parse_chunk(&chunk, layout))).is_err() {
            return;
        }
    }
}

/// Joins a column's chunks into one column of the type they agree on (or of `want`, when
/// given: then a chunk that does not fit is an error), or says why it is not a column of
/// numbers or bools. The first chunk's values are taken over, the others appended.
fn join_column(parts: Vec<(ColumnChunk, usize)>, want: Option<Elem>) -> Result<Column, String> {
    let mut elem: Option<Elem> = want;
    if want.is_none() {
        for (part, first_line) in &parts {
            let found = match &part.values {
                Parsed::Empty(_) => continue,
                Parsed::Bool(_) => Elem::Bool,
                Parsed::I64(_) => Elem::I64,
                Parsed::F64(_) => Elem::F64,
                Parsed::Rejected { line, why } => return Err(format!("line {}: {why}", first_line + line)),
            };
            elem = Some(match (elem, found) {
                (None, found) => found,
                (Some(Elem::I64), Elem::F64) | (Some(Elem::F64), Elem::I64) => Elem::F64,
                (Some(known), found) if known == found => known,
                // Bools beside numbers: the first field of the later kind is the reason.
                (Some(_), _) => return Err(mixed_reason(&part.values, *first_line)),
            });
        }
    }
    let rows: usize = parts.iter().map(|(part, _)| part.valid.len()).sum();
    let mut valid = BooleanBufferBuilder::new(rows);
    for (part, _) in &parts {
        valid.append_packed_range(0..part.valid.len(), part.valid.as_slice());
    }
    // A column of empty fields only is an f64 column of nulls.
    let values = match elem.unwrap_or(Elem::F64) {
        Elem::Bool => ColumnValues::Bool(join_values(parts, rows, |values| match values {
            Parsed::Bool(values) => Ok(values),
            other => Err(other),
        })?),
        Elem::I64 => ColumnValues::I64(join_values(parts, rows, |values| match values {
            Parsed::I64(values) => Ok(values),
            other => Err(other),
        })?),
        // f64, and any type a CSV field never has.
        _ => ColumnValues::F64(join_values(parts, rows, |values| match values {
            Parsed::F64(values) => Ok(values),
            Parsed::I64(values) => Ok(values.into_iter().map(|v| v as f64).collect()),
            other => Err(other),
        })?),
    };
    Ok(super::files::column_with_bitmap(values, valid.as_slice()))
}

/// The values of every part, in order, as `T`s: `of` turns a part's values into `T`s or
/// hands them back when they do not fit; empty parts are defaults (their rows are null).
/// The first part's vector is taken over, not copied.
fn join_values<T: Clone + Default>(
    parts: Vec<(ColumnChunk, usize)>,
    rows: usize,
    of: impl Fn(Parsed) -> Result<Vec<T>, Parsed>,
) -> Result<Vec<T>, String> {
    let mut joined: Vec<T> = Vec::new();
    for (part, first_line) in parts {
        let values = match part.values {
            Parsed::Empty(count) => vec![T::default(); count],
            values => of(values).map_err(|values| mixed_reason(&values, first_line))?,
        };
        if joined.is_empty() {
            joined = values;
            joined.reserve(rows - joined.len());
        } else {
            joined.extend(values);
        }
    }
    Ok(joined)
}

/// Why a chunk does not fit the column's type: what its rows hold.
fn mixed_reason(values: &Parsed, first_line: usize) -> String {
    match values {
        Parsed::Rejected { line, why } => format!("line {}: {why}", first_line + line),
        Parsed::Bool(_) => format!("the rows from line {first_line} hold true/false"),
        Parsed::I64(_) => format!("the rows from line {first_line} hold integers"),
        Parsed::F64(_) => format!("the rows from line {first_line} hold numbers that are not integers"),
        Parsed::Empty(_) => format!("the rows from line {first_line} are empty"),
    }
}
