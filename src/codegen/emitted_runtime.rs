//! The runtime functions a kernel calls, emitted as Cranelift IR for objects that run without
//! this crate's Rust runtime (the aarch64 objects of [`super::object`]).
//!
//! - every math function over f64 and f32 blocks: the generic kernels of `math::kernels`,
//!   traced ([`crate::math::trace`]) and emitted as `f64x2` code — the 128-bit
//!   (NEON on aarch64) tier. Operation for operation the same algorithm as every compiled
//!   tier, so the bits are the same. The tables a kernel looks up are written into stack
//!   slots at the function's entry (an object brings no data of its own).
//! - `shift_halo`, `pack_validity`, `combine_validity`, `combine_validity_bits`: plain loops
//!   with the semantics of their Rust versions in `runtime::stubs`.
//!
//! Each function has the name and signature of its `runtime_functions` entry, so a
//! kernel links against these exactly as the JIT links it against the Rust ones.

use super::CodegenError;
use super::runtime_functions::RuntimeFunction;
use crate::math::lanes::LookupTable;
use crate::math::trace::{Trace, Traced, TracedOp, trace, trace2};
use crate::runtime::stubs::{SOURCE_BYTES, SOURCE_IN_RANGE};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Value, types,
};
use cranelift_frontend::FunctionBuilder;

/// Emits the body of `function` into `builder`, whose function has the function's signature.
/// Fails for a function kept on the host (`RuntimeFunction::is_emitted` is false).
pub(crate) fn emit(
    function: RuntimeFunction,
    mut builder: FunctionBuilder<'_>,
    frontend_config: cranelift_codegen::isa::TargetFrontendConfig,
) -> Result<(), CodegenError> {
    let entry = builder.create_block();
    builder.append_block_params_for_function_params(entry);
    builder.switch_to_block(entry);
    let params = builder.block_params(entry).to_vec();
    match function {
        RuntimeFunction::MathF64Block(function) => {
            math_block(&mut builder, &trace(|x: Traced| function.apply(x)), &params, types::F64)
        }
        RuntimeFunction::MathF32Block(function) => {
            math_block(&mut builder, &trace(|x: Traced| function.apply_f32(x)), &params, types::F32)
        }
        RuntimeFunction::BinaryMathF64Block(function) => math_block(
            &mut builder,
            &trace2(|a: Traced, b: Traced| function.apply(a, b)),
            &params,
            types::F64,
        ),
        RuntimeFunction::BinaryMathF32Block(function) => math_block(
            &mut builder,
            &trace2(|a: Traced, b: Traced| function.apply(a, b)),
            &params,
            types::F32,
        ),
        RuntimeFunction::ShiftHalo => shift_halo(&mut builder, &params),
        RuntimeFunction::PackValidity => pack_validity(&mut builder, &params),
        RuntimeFunction::CombineValidity => combine_validity(&mut builder, &params),
        RuntimeFunction::CombineValidityBits => combine_validity_bits(&mut builder, &params),
        RuntimeFunction::DivideF64Block => divide_block(&mut builder, &params, types::F64, false),
        RuntimeFunction::DivideF64BlockByScalar => divide_block(&mut builder, &params, types::F64, true),
        RuntimeFunction::DivideF32Block => divide_block(&mut builder, &params, types::F32, false),
        RuntimeFunction::DivideF32BlockByScalar => divide_block(&mut builder, &params, types::F32, true),
        RuntimeFunction::SqrtF64Block => sqrt_block(&mut builder, &params, types::F64),
        RuntimeFunction::SqrtF32Block => sqrt_block(&mut builder, &params, types::F32),
        RuntimeFunction::CenteredDivideF64BlockByScalar => {
            centered_divide_block(&mut builder, &params, types::F64)
        }
        RuntimeFunction::CenteredDivideF32BlockByScalar => {
            centered_divide_block(&mut builder, &params, types::F32)
        }
        RuntimeFunction::ScanBlock
        | RuntimeFunction::ReduceBlock
        | RuntimeFunction::ScanBlockPair
        | RuntimeFunction::RecordScanState => {
            return Err(CodegenError::Unsupported("scan and reduction callbacks as emitted code"));
        }
    }
    builder.ins().return_(&[]);
    builder.seal_all_blocks();
    builder.finalize(frontend_config);
    Ok(())
}

/// Memory the runtime functions touch is the caller's, valid by their contracts; any
/// alignment.
fn memory() -> MemFlagsData {
    MemFlagsData::new()
}

/// `for i in start..end { body(i) }`, leaving the builder after the loop.
fn for_range(
    builder: &mut FunctionBuilder<'_>,
    start: Value,
    end: Value,
    mut body: impl FnMut(&mut FunctionBuilder<'_>, Value),
) {
    let counter = builder.declare_var(types::I64);
    builder.def_var(counter, start);
    let header = builder.create_block();
    let body_block = builder.create_block();
    let exit = builder.create_block();
    builder.ins().jump(header, &[]);
    builder.switch_to_block(header);
    let i = builder.use_var(counter);
    let more = builder.ins().icmp(IntCC::UnsignedLessThan, i, end);
    builder.ins().brif(more, body_block, &[], exit, &[]);
    builder.switch_to_block(body_block);
    body(builder, i);
    let next = builder.ins().iadd_imm_u(i, 1);
    builder.def_var(counter, next);
    builder.ins().jump(header, &[]);
    builder.switch_to_block(exit);
}

/// The lookup tables a trace reads, each written into a stack slot of its own once at the
/// function's entry: an object file's function has no other memory it can count on, and 16
/// stores per table per call cost nothing beside a block of rows.
struct TableSlots(Vec<(LookupTable, StackSlot)>);

impl TableSlots {
    /// Emits the slots and stores for every table `trace` looks up, where the builder is.
    fn lay_out(builder: &mut FunctionBuilder<'_>, trace: &Trace) -> TableSlots {
        let mut slots: Vec<(LookupTable, StackSlot)> = Vec::new();
        for op in &trace.ops {
            if let TracedOp::Lookup(_, table) = *op
                && !slots.iter().any(|(laid_out, _)| *laid_out == table)
            {
                let values = table.values();
                let size = (values.len() * 8) as u32;
                let slot =
                    builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
                for (index, &value) in values.iter().enumerate() {
                    let constant = builder.ins().f64const(value);
                    builder.ins().stack_store(types::I64, constant, slot, (index * 8) as i32);
                }
                slots.push((table, slot));
            }
        }
        TableSlots(slots)
    }

    fn slot(&self, table: LookupTable) -> StackSlot {
        self.0
            .iter()
            .find(|(laid_out, _)| *laid_out == table)
            .map(|(_, slot)| *slot)
            .unwrap_or_else(|| unreachable!("every table the trace looks up was laid out"))
    }
}

/// Emits `trace` applied to the `f64x2` values `inputs` (one per traced input), its tables in
/// `tables`.
fn emit_trace(
    builder: &mut FunctionBuilder<'_>,
    trace: &Trace,
    tables: &TableSlots,
    inputs: &[Value],
) -> Value {
    let mut values: Vec<Value> = Vec::with_capacity(trace.ops.len());
    let as_bits = |builder: &mut FunctionBuilder<'_>, value: Value| {
        builder.ins().bitcast(types::I64X2, memory(), value)
    };
    let as_float = |builder: &mut FunctionBuilder<'_>, value: Value| {
        builder.ins().bitcast(types::F64X2, memory(), value)
    };
    // Constants first: the trace shares one of each, so a constant first recorded inside a
    // guarded region may be used after it, where only values of a dominating block are
    // visible.
    let constants: Vec<Option<Value>> = trace
        .ops
        .iter()
        .map(|op| match *op {
            TracedOp::Constant(bits) => {
                let scalar = builder.ins().f64const(f64::from_bits(bits));
                Some(builder.ins().splat(types::F64X2, scalar))
            }
            _ => None,
        })
        .collect();
    // The open guarded region: its join block, mask and `otherwise` value.
    let mut guarded: Option<(cranelift_codegen::ir::Block, Value, Value)> = None;
    for (index, op) in trace.ops.iter().enumerate() {
        let v = |index: u32| values[index as usize];
        let value = match *op {
            TracedOp::Input(index) => inputs[index as usize],
            TracedOp::Constant(_) => constants[index].unwrap_or_else(|| unreachable!("emitted above")),
            TracedOp::Add(a, b) => builder.ins().fadd(v(a), v(b)),
            TracedOp::Sub(a, b) => builder.ins().fsub(v(a), v(b)),
            TracedOp::Mul(a, b) => builder.ins().fmul(v(a), v(b)),
            TracedOp::Div(a, b) => builder.ins().fdiv(v(a), v(b)),
            TracedOp::Fma(a, b, c) => builder.ins().fma(v(a), v(b), v(c)),
            TracedOp::AndBits(a, b)
            | TracedOp::OrBits(a, b)
            | TracedOp::XorBits(a, b)
            | TracedOp::AddBits(a, b) => {
                let (a_bits, b_bits) = (as_bits(builder, v(a)), as_bits(builder, v(b)));
                let bits = match op {
                    TracedOp::AndBits(..) => builder.ins().band(a_bits, b_bits),
                    TracedOp::OrBits(..) => builder.ins().bor(a_bits, b_bits),
                    TracedOp::XorBits(..) => builder.ins().bxor(a_bits, b_bits),
                    _ => builder.ins().iadd(a_bits, b_bits),
                };
                as_float(builder, bits)
            }
            TracedOp::Sqrt(a) => builder.ins().sqrt(v(a)),
            TracedOp::ShiftRight52(a) | TracedOp::ShiftLeft52(a) => {
                let bits = as_bits(builder, v(a));
                let shifted = if matches!(op, TracedOp::ShiftRight52(_)) {
                    builder.ins().ushr_imm_u(bits, 52)
                } else {
                    builder.ins().ishl_imm_u(bits, 52)
                };
                as_float(builder, shifted)
            }
            // Masks are kept as f64x2 bit patterns (all ones or all zeros per lane), the form
            // `bitselect` takes.
            TracedOp::Less(a, b) | TracedOp::Greater(a, b) | TracedOp::Equal(a, b) => {
                let condition = match op {
                    TracedOp::Less(..) => FloatCC::LessThan,
                    TracedOp::Greater(..) => FloatCC::GreaterThan,
                    _ => FloatCC::Equal,
                };
                let mask = builder.ins().fcmp(condition, v(a), v(b));
                as_float(builder, mask)
            }
            // `!(a >= b)`: aarch64 has no vector form of the unordered comparison.
            TracedOp::BelowOrUnordered(a, b) => {
                let at_least = builder.ins().fcmp(FloatCC::GreaterThanOrEqual, v(a), v(b));
                let mask = builder.ins().bnot(at_least);
                as_float(builder, mask)
            }
            TracedOp::IsNan(a) => {
                let mask = builder.ins().fcmp(FloatCC::Unordered, v(a), v(a));
                as_float(builder, mask)
            }
            TracedOp::Select(mask, a, b) => builder.ins().bitselect(v(mask), v(a), v(b)),
            // `brif any(mask), region, join(otherwise)`; the region ends with
            // `jump join(mask ? then : otherwise)`.
            TracedOp::IfAnyBegin(mask, otherwise) => {
                let mask_bits = as_bits(builder, v(mask));
                let any = builder.ins().vany_true(mask_bits);
                let region = builder.create_block();
                let join = builder.create_block();
                builder.append_block_param(join, types::F64X2);
                builder.ins().brif(any, region, &[], join, &[v(otherwise).into()]);
                builder.switch_to_block(region);
                guarded = Some((join, v(mask), v(otherwise)));
                v(otherwise)
            }
            TracedOp::IfAnyEnd(_, then) => {
                let (join, mask, otherwise) =
                    guarded.take().unwrap_or_else(|| unreachable!("the trace opened a region"));
                let merged = builder.ins().bitselect(mask, v(then), otherwise);
                builder.ins().jump(join, &[merged.into()]);
                builder.switch_to_block(join);
                builder.block_params(join)[0]
            }
            // Each lane's low four bits index the table's slot: two scalar loads, in bounds
            // whatever the bits (the index is masked).
            TracedOp::Lookup(a, table) => {
                let bits = as_bits(builder, v(a));
                let base = builder.ins().stack_addr(types::I64, tables.slot(table), 0);
                let mut entry = |lane: u8| {
                    let lane_bits = builder.ins().extractlane(bits, lane);
                    let index = builder.ins().band_imm_u(lane_bits, LookupTable::INDEX_MASK as i64);
                    let offset = builder.ins().ishl_imm_u(index, 3);
                    let address = builder.ins().iadd(base, offset);
                    builder.ins().load(types::F64, memory(), address, 0)
                };
                let (low, high) = (entry(0), entry(1));
                let vector = builder.ins().scalar_to_vector(types::F64X2, low);
                builder.ins().insertlane(vector, high, 1)
            }
        };
        values.push(value);
    }
    values[trace.result as usize]
}

/// `(src…, dst, n)` — one source per traced input (`ln`: one, `atan2`: two), of `element`
/// (F64 or F32): `dst[i] = f(src…[i])` for `i < n`, two rows at a time in the two f64 lanes;
/// an odd last row goes through the same vector code in lane 0. f32 rows are widened to f64
/// and each result rounded once, as the Rust runtime's f32 blocks do.
fn math_block(builder: &mut FunctionBuilder<'_>, trace: &Trace, params: &[Value], element: types::Type) {
    let (sources, rest) = params.split_at(params.len() - 2);
    let (dst, n) = (rest[0], rest[1]);
    let size = i64::from(element.bytes());
    let tables = TableSlots::lay_out(builder, trace);
    let pairs = builder.ins().ushr_imm_u(n, 1);
    let zero = builder.ins().iconst(types::I64, 0);
    for_range(builder, zero, pairs, |builder, pair| {
        let offset = builder.ins().imul_imm_u(pair, 2 * size);
        let inputs: Vec<Value> = sources
            .iter()
            .map(|&source| {
                let from = builder.ins().iadd(source, offset);
                load_pair(builder, element, from)
            })
            .collect();
        let to = builder.ins().iadd(dst, offset);
        let y = emit_trace(builder, trace, &tables, &inputs);
        store_pair(builder, element, y, to);
    });
    let odd = builder.ins().band_imm_u(n, 1);
    let tail = builder.create_block();
    let done = builder.create_block();
    builder.ins().brif(odd, tail, &[], done, &[]);
    builder.switch_to_block(tail);
    let offset = builder.ins().imul_imm_u(pairs, 2 * size);
    let inputs: Vec<Value> = sources
        .iter()
        .map(|&source| {
            let from = builder.ins().iadd(source, offset);
            let x = builder.ins().load(element, memory(), from, 0);
            let x = if element == types::F32 { builder.ins().fpromote(types::F64, x) } else { x };
            builder.ins().splat(types::F64X2, x)
        })
        .collect();
    let to = builder.ins().iadd(dst, offset);
    let y = emit_trace(builder, trace, &tables, &inputs);
    let y = builder.ins().extractlane(y, 0);
    let y = if element == types::F32 { builder.ins().fdemote(types::F32, y) } else { y };
    builder.ins().store(memory(), y, to, 0);
    builder.ins().jump(done, &[]);
    builder.switch_to_block(done);
}

/// `(a, b, dst, n)`: `dst[i] = a[i] / b[i]` for `i < n`, of `element` (F64 or F32); with
/// `by_scalar`, `b` holds the divisor's bits (an f32's in the low 32) instead. Row by row:
/// IEEE division is correctly rounded, so these are the host runtime's bits.
fn divide_block(builder: &mut FunctionBuilder<'_>, params: &[Value], element: types::Type, by_scalar: bool) {
    let (a, b, dst, n) = (params[0], params[1], params[2], params[3]);
    let size = i64::from(element.bytes());
    let scalar = by_scalar.then(|| {
        let bits = if element == types::F32 { builder.ins().ireduce(types::I32, b) } else { b };
        builder.ins().bitcast(element, memory(), bits)
    });
    let zero = builder.ins().iconst(types::I64, 0);
    for_range(builder, zero, n, |builder, i| {
        let offset = builder.ins().imul_imm_u(i, size);
        let from = builder.ins().iadd(a, offset);
        let dividend = builder.ins().load(element, memory(), from, 0);
        let divisor = match scalar {
            Some(divisor) => divisor,
            None => {
                let from = builder.ins().iadd(b, offset);
                builder.ins().load(element, memory(), from, 0)
            }
        };
        let quotient = builder.ins().fdiv(dividend, divisor);
        let to = builder.ins().iadd(dst, offset);
        builder.ins().store(memory(), quotient, to, 0);
    });
}

/// `(a, c, d, dst, n)`: `dst[i] = (a[i] − c) / d` for `i < n`, of `element` (F64 or F32), `c`
/// and `d` scalars given by their bits (an f32's in the low 32). Row by row: two IEEE
/// operations, each correctly rounded, so these are the host runtime's bits.
fn centered_divide_block(builder: &mut FunctionBuilder<'_>, params: &[Value], element: types::Type) {
    let (a, subtrahend, divisor, dst, n) = (params[0], params[1], params[2], params[3], params[4]);
    let size = i64::from(element.bytes());
    let mut scalar = |bits: Value| {
        let bits = if element == types::F32 { builder.ins().ireduce(types::I32, bits) } else { bits };
        builder.ins().bitcast(element, memory(), bits)
    };
    let (subtrahend, divisor) = (scalar(subtrahend), scalar(divisor));
    let zero = builder.ins().iconst(types::I64, 0);
    for_range(builder, zero, n, |builder, i| {
        let offset = builder.ins().imul_imm_u(i, size);
        let from = builder.ins().iadd(a, offset);
        let value = builder.ins().load(element, memory(), from, 0);
        let centered = builder.ins().fsub(value, subtrahend);
        let quotient = builder.ins().fdiv(centered, divisor);
        let to = builder.ins().iadd(dst, offset);
        builder.ins().store(memory(), quotient, to, 0);
    });
}

/// `(src, dst, n)`: `dst[i] = √src[i]` for `i < n`, of `element` (F64 or F32). Row by row:
/// IEEE square root is correctly rounded, so these are the host runtime's bits.
fn sqrt_block(builder: &mut FunctionBuilder<'_>, params: &[Value], element: types::Type) {
    let (src, dst, n) = (params[0], params[1], params[2]);
    let size = i64::from(element.bytes());
    let zero = builder.ins().iconst(types::I64, 0);
    for_range(builder, zero, n, |builder, i| {
        let offset = builder.ins().imul_imm_u(i, size);
        let from = builder.ins().iadd(src, offset);
        let value = builder.ins().load(element, memory(), from, 0);
        let root = builder.ins().sqrt(value);
        let to = builder.ins().iadd(dst, offset);
        builder.ins().store(memory(), root, to, 0);
    });
}

/// Two adjacent elements at `address` as the two f64 lanes: f32s loaded as one 64-bit word
/// and widened exactly (`fvpromote_low`).
fn load_pair(builder: &mut FunctionBuilder<'_>, element: types::Type, address: Value) -> Value {
    if element == types::F64 {
        return builder.ins().load(types::F64X2, memory(), address, 0);
    }
    let word = builder.ins().load(types::I64, memory(), address, 0);
    let words = builder.ins().scalar_to_vector(types::I64X2, word);
    let floats = builder.ins().bitcast(types::F32X4, lanes_little_endian(), words);
    builder.ins().fvpromote_low(floats)
}

/// The two f64 lanes stored as two adjacent elements at `address`: for f32, each rounded once
/// (`fvdemote`) and the two stored as one 64-bit word.
fn store_pair(builder: &mut FunctionBuilder<'_>, element: types::Type, pair: Value, address: Value) {
    if element == types::F64 {
        builder.ins().store(memory(), pair, address, 0);
        return;
    }
    let floats = builder.ins().fvdemote(pair);
    let words = builder.ins().bitcast(types::I64X2, lanes_little_endian(), floats);
    let word = builder.ins().extractlane(words, 0);
    builder.ins().store(memory(), word, address, 0);
}

/// A vector bitcast that reinterprets lanes in memory order (little-endian on every target
/// this crate emits for), so that lane 0 of the f32x4 is the low half of lane 0 of the i64x2.
fn lanes_little_endian() -> MemFlagsData {
    MemFlagsData::new().with_endianness(cranelift_codegen::ir::Endianness::Little)
}

/// `(buffer, skip, keep)`: moves `keep` bytes from `buffer + skip` down to `buffer`. A
/// forward byte copy is a correct move when the destination is below the source.
fn shift_halo(builder: &mut FunctionBuilder<'_>, params: &[Value]) {
    let (buffer, skip, keep) = (params[0], params[1], params[2]);
    let source = builder.ins().iadd(buffer, skip);
    let zero = builder.ins().iconst(types::I64, 0);
    for_range(builder, zero, keep, |builder, i| {
        let from = builder.ins().iadd(source, i);
        let to = builder.ins().iadd(buffer, i);
        let byte = builder.ins().load(types::I8, memory(), from, 0);
        builder.ins().store(memory(), byte, to, 0);
    });
}

/// `(bytes, bitmap, start, len)`: packs `len` 0/1 bytes into bits `start..start + len`
/// (`start` a multiple of 8), LSB first; the last byte's unused bits are written as 0.
fn pack_validity(builder: &mut FunctionBuilder<'_>, params: &[Value]) {
    let (bytes, bitmap, start, len) = (params[0], params[1], params[2], params[3]);
    let first_byte = builder.ins().ushr_imm_u(start, 3);
    let base = builder.ins().iadd(bitmap, first_byte);
    let len_plus_7 = builder.ins().iadd_imm_u(len, 7);
    let out_bytes = builder.ins().ushr_imm_u(len_plus_7, 3);
    let zero = builder.ins().iconst(types::I64, 0);
    for_range(builder, zero, out_bytes, |builder, index| {
        let row0 = builder.ins().imul_imm_u(index, 8);
        let left = builder.ins().isub(len, row0);
        let eight = builder.ins().iconst(types::I64, 8);
        let count = builder.ins().umin(left, eight);
        let accumulator = builder.declare_var(types::I64);
        let zero = builder.ins().iconst(types::I64, 0);
        builder.def_var(accumulator, zero);
        for_range(builder, zero, count, |builder, bit| {
            let row = builder.ins().iadd(row0, bit);
            let from = builder.ins().iadd(bytes, row);
            let byte = builder.ins().uload8(types::I64, memory(), from, 0);
            let valid = builder.ins().band_imm_u(byte, 1);
            let shifted = builder.ins().ishl(valid, bit);
            let sum = builder.use_var(accumulator);
            let sum = builder.ins().bor(sum, shifted);
            builder.def_var(accumulator, sum);
        });
        let packed = builder.use_var(accumulator);
        let packed = builder.ins().ireduce(types::I8, packed);
        let to = builder.ins().iadd(base, index);
        builder.ins().store(memory(), packed, to, 0);
    });
}

/// `(sources, count, len, out)`: `out[i] = 1` where every `ValiditySource` is valid at block
/// row `i` (see `runtime::stubs::combine_validity`), else 0.
fn combine_validity(builder: &mut FunctionBuilder<'_>, params: &[Value]) {
    let (sources, count, len, out) = (params[0], params[1], params[2], params[3]);
    let zero = builder.ins().iconst(types::I64, 0);
    for_range(builder, zero, len, |builder, i| {
        let to = builder.ins().iadd(out, i);
        let one = builder.ins().iconst(types::I8, 1);
        builder.ins().store(memory(), one, to, 0);
    });
    for_range(builder, zero, count, |builder, index| {
        let offset = builder.ins().imul_imm_u(index, 32);
        let source = builder.ins().iadd(sources, offset);
        let kind = builder.ins().load(types::I64, memory(), source, 0);
        let pointer = builder.ins().load(types::I64, memory(), source, 8);
        let position = builder.ins().load(types::I64, memory(), source, 16);
        let first_valid = builder.ins().load(types::I64, memory(), source, 24);
        let zero = builder.ins().iconst(types::I64, 0);
        let first = builder.ins().smax(first_valid, zero);
        let first = builder.ins().umin(first, len);
        for_range(builder, zero, first, |builder, i| {
            let to = builder.ins().iadd(out, i);
            let nothing = builder.ins().iconst(types::I8, 0);
            builder.ins().store(memory(), nothing, to, 0);
        });
        let bytes_block = builder.create_block();
        let not_bytes = builder.create_block();
        let bits_block = builder.create_block();
        let next_source = builder.create_block();
        let is_bytes = builder.ins().icmp_imm_s(IntCC::Equal, kind, SOURCE_BYTES);
        builder.ins().brif(is_bytes, bytes_block, &[], not_bytes, &[]);

        builder.switch_to_block(bytes_block);
        let base = builder.ins().iadd(pointer, position);
        for_range(builder, first, len, |builder, i| {
            let from = builder.ins().iadd(base, i);
            let byte = builder.ins().load(types::I8, memory(), from, 0);
            and_into(builder, out, i, byte);
        });
        builder.ins().jump(next_source, &[]);

        builder.switch_to_block(not_bytes);
        let in_range = builder.ins().icmp_imm_s(IntCC::Equal, kind, SOURCE_IN_RANGE);
        builder.ins().brif(in_range, next_source, &[], bits_block, &[]);

        builder.switch_to_block(bits_block);
        for_range(builder, first, len, |builder, i| {
            let bit = builder.ins().iadd(position, i);
            let byte_index = builder.ins().ushr_imm_u(bit, 3);
            let from = builder.ins().iadd(pointer, byte_index);
            let byte = builder.ins().uload8(types::I64, memory(), from, 0);
            let shift = builder.ins().band_imm_u(bit, 7);
            let shifted = builder.ins().ushr(byte, shift);
            let shifted = builder.ins().ireduce(types::I8, shifted);
            and_into(builder, out, i, shifted);
        });
        builder.ins().jump(next_source, &[]);
        builder.switch_to_block(next_source);
    });
}

/// `(sources, count, len, bitmap, start)`: [`combine_validity`] into a block of bytes on the
/// stack, then [`pack_validity`] of them into the bitmap — the same bits as the Rust
/// version's words.
fn combine_validity_bits(builder: &mut FunctionBuilder<'_>, params: &[Value]) {
    let (sources, count, len, bitmap, start) = (params[0], params[1], params[2], params[3], params[4]);
    let size = u32::try_from(crate::passes::fuse_loops::BLOCK_ROWS).expect("a block fits a stack slot");
    let slot = builder.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, 3));
    let bytes = builder.ins().stack_addr(types::I64, slot, 0);
    combine_validity(builder, &[sources, count, len, bytes]);
    pack_validity(builder, &[bytes, bitmap, start, len]);
}

/// `out[i] &= value & 1`.
fn and_into(builder: &mut FunctionBuilder<'_>, out: Value, i: Value, value: Value) {
    let to = builder.ins().iadd(out, i);
    let old = builder.ins().load(types::I8, memory(), to, 0);
    let bit = builder.ins().band_imm_u(value, 1);
    let new = builder.ins().band(old, bit);
    builder.ins().store(memory(), new, to, 0);
}
