//! Fuzz target: hostile bindings through the public API — columns of different lengths,
//! bitmaps too short or at huge bit offsets, a name bound as a column of another type or as a
//! scalar, missing names, and `eval_into` buffers of the wrong type or size. Each call must
//! return a result or an error, never panic or touch memory outside what it was given; a
//! result must equal the interpreter's.

#![no_main]

#[path = "../common/mod.rs"]
mod common;

use arbitrary::Arbitrary;
use fusejit::{Binding, Bindings, ColumnMut, Validity, ValuesMut};
use libfuzzer_sys::fuzz_target;

const PROGRAMS: &[&str] = &[
    "dlog(x, 1) * a + b",
    "(x - y) * a + b",
    "where(x > y, x - y, 0) * a",
    "(x - mean(x)) / std(x)",
    "mstd(dlog(x, 1), 20)",
    "lag(x, 600) + cumsum(y)",
    "out p = x * a; out q = msum(y, 3)",
    "x && y",
    "sum(x)",
    "ln(x) + exp(y / 100)",
    "x // y + x % b",
    "i32(x) * a + sum(y)",
];

#[derive(Arbitrary, Debug)]
enum Value {
    F64 { rows: u16, validity: Option<(u16, u64)> },
    F32 { rows: u16, validity: Option<(u16, u64)> },
    Bool { rows: u16, validity: Option<(u16, u64)> },
    I64 { rows: u16, validity: Option<(u16, u64)> },
    I32 { rows: u16, validity: Option<(u16, u64)> },
    ScalarF64(f64),
    ScalarI64(i64),
    ScalarF32(f32),
    ScalarBool(bool),
    Missing,
}

#[derive(Arbitrary, Debug)]
enum Output {
    F64(u16, u16),
    F32(u16, u16),
    Bool(u16, u16),
    I64(u16, u16),
    I32(u16, u16),
}

#[derive(Arbitrary, Debug)]
struct Case {
    program: u8,
    x: Value,
    y: Value,
    a: Value,
    b: Value,
    /// A second evaluation with other bindings, so a cached specialisation meets new types.
    again: Option<(Value, Value)>,
    output: Option<Output>,
    seed: u64,
}

/// Owned storage for one binding, so that `Bindings` can borrow it.
enum Stored {
    F64(Vec<f64>, Option<(Vec<u8>, usize)>),
    F32(Vec<f32>, Option<(Vec<u8>, usize)>),
    Bool(Vec<bool>, Option<(Vec<u8>, usize)>),
    I64(Vec<i64>, Option<(Vec<u8>, usize)>),
    I32(Vec<i32>, Option<(Vec<u8>, usize)>),
    ScalarF64(f64),
    ScalarI64(i64),
    ScalarF32(f32),
    ScalarBool(bool),
    Missing,
}

/// A bitmap of `bytes` bytes (any length: maybe too short for the rows) at any bit offset,
/// up to `usize::MAX`, where `offset + rows` overflows.
fn bitmap(rng: &mut common::Rng, spec: Option<(u16, u64)>) -> Option<(Vec<u8>, usize)> {
    spec.map(|(bytes, offset)| {
        let bytes = (0..usize::from(bytes % 300)).map(|_| rng.next() as u8).collect();
        let offset = match offset % 4 {
            0 => (offset >> 2) as usize % 16,
            1 => usize::MAX - (offset >> 2) as usize % 16,
            _ => (offset >> 2) as usize,
        };
        (bytes, offset)
    })
}

fn store(value: &Value, rng: &mut common::Rng) -> Stored {
    let rows = |rows: &u16| usize::from(*rows % 1500);
    match value {
        Value::F64 { rows: n, validity } => {
            Stored::F64((0..rows(n)).map(|_| rng.value()).collect(), bitmap(rng, *validity))
        }
        Value::F32 { rows: n, validity } => {
            Stored::F32((0..rows(n)).map(|_| rng.value() as f32).collect(), bitmap(rng, *validity))
        }
        Value::Bool { rows: n, validity } => {
            Stored::Bool((0..rows(n)).map(|_| rng.next().is_multiple_of(2)).collect(), bitmap(rng, *validity))
        }
        Value::I64 { rows: n, validity } => {
            Stored::I64((0..rows(n)).map(|_| rng.integer()).collect(), bitmap(rng, *validity))
        }
        Value::I32 { rows: n, validity } => {
            Stored::I32((0..rows(n)).map(|_| rng.integer() as i32).collect(), bitmap(rng, *validity))
        }
        Value::ScalarF64(v) => Stored::ScalarF64(*v),
        Value::ScalarI64(v) => Stored::ScalarI64(*v),
        Value::ScalarF32(v) => Stored::ScalarF32(*v),
        Value::ScalarBool(v) => Stored::ScalarBool(*v),
        Value::Missing => Stored::Missing,
    }
}

fn bind<'a>(bindings: &mut Bindings<'a>, name: &'a str, stored: &'a Stored) {
    let validity = |bitmap: &'a Option<(Vec<u8>, usize)>| bitmap.as_ref().map(|(b, o)| Validity::new(b, *o));
    match stored {
        Stored::F64(values, bitmap) => match validity(bitmap) {
            Some(v) => bindings.column_with_validity(name, &values[..], v),
            None => bindings.column(name, &values[..]),
        },
        Stored::F32(values, bitmap) => match validity(bitmap) {
            Some(v) => bindings.column_with_validity(name, &values[..], v),
            None => bindings.column(name, &values[..]),
        },
        Stored::Bool(values, bitmap) => match validity(bitmap) {
            Some(v) => bindings.column_with_validity(name, &values[..], v),
            None => bindings.column(name, &values[..]),
        },
        Stored::I64(values, bitmap) => match validity(bitmap) {
            Some(v) => bindings.column_with_validity(name, &values[..], v),
            None => bindings.column(name, &values[..]),
        },
        Stored::I32(values, bitmap) => match validity(bitmap) {
            Some(v) => bindings.column_with_validity(name, &values[..], v),
            None => bindings.column(name, &values[..]),
        },
        Stored::ScalarF64(v) => bindings.scalar(name, *v),
        Stored::ScalarI64(v) => bindings.scalar(name, *v),
        Stored::ScalarF32(v) => bindings.scalar(name, *v),
        Stored::ScalarBool(v) => bindings.scalar(name, *v),
        Stored::Missing => bindings,
    };
}

fn evaluate(
    kernel: &fusejit::Kernel,
    bindings: &Bindings<'_>,
    output: &Option<Output>,
    specialized_from: Option<&fusejit::Specialized>,
) {
    common::assert_outputs_agree(kernel.source(), kernel, bindings);
    if let Some(output) = output {
        // Any size and type: too small or mistyped must be an error, large enough must work.
        let (len, validity_len) = match output {
            Output::F64(len, bits)
            | Output::F32(len, bits)
            | Output::I64(len, bits)
            | Output::I32(len, bits)
            | Output::Bool(len, bits) => (usize::from(*len % 1600), usize::from(*bits % 210)),
        };
        let (mut f64s, mut f32s, mut i64s, mut i32s, mut bools) =
            (vec![0.0; len], vec![0.0f32; len], vec![0i64; len], vec![0i32; len], vec![false; len]);
        let mut validity = vec![0u8; validity_len];
        macro_rules! values {
            () => {
                match output {
                    Output::F64(..) => ValuesMut::F64(&mut f64s[..]),
                    Output::F32(..) => ValuesMut::F32(&mut f32s[..]),
                    Output::I64(..) => ValuesMut::I64(&mut i64s[..]),
                    Output::I32(..) => ValuesMut::I32(&mut i32s[..]),
                    Output::Bool(..) => ValuesMut::Bool(&mut bools[..]),
                }
            };
        }
        let mut out = ColumnMut { values: values!(), validity: &mut validity[..] };
        if let Ok(summary) = kernel.eval_into(bindings, &mut out) {
            let reference = kernel.interpret(bindings).expect("eval_into succeeded, so the interpreter must");
            assert_eq!(summary.len, reference.len(), "{}: eval_into length", kernel.source());
            assert_eq!(summary.null_count, reference.null_count, "{}: eval_into null count", kernel.source());
        }
        // The same inputs by position, through a specialisation made from them and through
        // one made from other inputs (`specialized_from`), into the same buffers.
        let positional = by_position(kernel, bindings);
        let mut named = Bindings::new();
        for (name, binding) in kernel.input_names().iter().zip(&positional) {
            named.bind(name.as_str(), *binding);
        }
        for specialized in
            [kernel.specialized(&positional).ok(), specialized_from.cloned()].into_iter().flatten()
        {
            let mut out = ColumnMut { values: values!(), validity: &mut validity[..] };
            if let Ok(summary) = specialized.eval_column_into(&positional, &mut out) {
                let reference =
                    kernel.interpret(&named).expect("eval_column_into succeeded, so the interpreter must");
                assert_eq!(summary.len, reference.len(), "{}: by position, length", kernel.source());
                assert_eq!(
                    summary.null_count,
                    reference.null_count,
                    "{}: by position, nulls",
                    kernel.source()
                );
            }
        }
    }
}

/// The kernel's inputs by position: each input name's binding, a missing one as a null f64
/// scalar (so that the positions stay the kernel's).
fn by_position<'b>(kernel: &fusejit::Kernel, bindings: &Bindings<'b>) -> Vec<Binding<'b>> {
    let missing = Binding::NullScalar(fusejit::Elem::F64);
    kernel.input_names().iter().map(|name| bindings.get(name).copied().unwrap_or(missing)).collect()
}

fuzz_target!(|case: Case| {
    let source = PROGRAMS[usize::from(case.program) % PROGRAMS.len()];
    let kernel = common::engine().compile(source).expect("the fixed programs compile");
    let mut rng = common::Rng(case.seed | 1);
    let stored: Vec<Stored> =
        [&case.x, &case.y, &case.a, &case.b].iter().map(|v| store(v, &mut rng)).collect();
    let mut bindings = Bindings::new();
    for (name, stored) in ["x", "y", "a", "b"].iter().zip(&stored) {
        bind(&mut bindings, name, stored);
    }
    evaluate(&kernel, &bindings, &case.output, None);
    let specialized = kernel.specialized(&by_position(&kernel, &bindings)).ok();
    if let Some((x, y)) = &case.again {
        let stored_again = [store(x, &mut rng), store(y, &mut rng)];
        let mut bindings = Bindings::new();
        bind(&mut bindings, "x", &stored_again[0]);
        bind(&mut bindings, "y", &stored_again[1]);
        bind(&mut bindings, "a", &stored[2]);
        bind(&mut bindings, "b", &stored[3]);
        evaluate(&kernel, &bindings, &case.output, specialized.as_ref());
    }
});
