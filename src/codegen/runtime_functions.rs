//! The one table of runtime functions a kernel may call: each one's name, signature, the host
//! function the JIT links it to, and whether `emitted_runtime` can emit it as CLIF for an
//! object that runs without this crate. Adding a runtime function means adding a variant
//! here; every `match` below is exhaustive, so the compiler points at each place to fill in.

use crate::math::{BINARY_MATH_FUNCTION_COUNT, BinaryMathFunction, Isa, MATH_FUNCTION_COUNT, MathFunction};
use crate::runtime::{callbacks, stubs};
use cranelift_codegen::ir::{
    AbiParam, ExtFuncData, ExternalName, FuncRef, Function, Signature, UserExternalName, types,
};
use cranelift_codegen::isa::CallConv;

/// A runtime function kernels import by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuntimeFunction {
    /// A math function over an f64 block: `(src, dst, n)`.
    MathF64Block(MathFunction),
    /// A math function over an f32 block: `(src, dst, n)`.
    MathF32Block(MathFunction),
    /// A two-argument math function over f64 blocks: `(a, b, dst, n)`.
    BinaryMathF64Block(BinaryMathFunction),
    /// A two-argument math function over f32 blocks: `(a, b, dst, n)`.
    BinaryMathF32Block(BinaryMathFunction),
    /// Moves a buffer's last `halo` rows to its front: `(buffer, skip, keep)`.
    ShiftHalo,
    /// Packs 0/1 validity bytes into a bitmap: `(bytes, bitmap, start, len)`.
    PackValidity,
    /// ANDs the validity sources of a value: `(sources, count, len, destination)`.
    CombineValidity,
    /// ANDs the validity sources of a result straight into its bitmap:
    /// `(sources, count, len, bitmap, start)`.
    CombineValidityBits,
    /// Advances a scan by a block: `(state, source, destination, validity, len)`.
    ScanBlock,
    /// Advances two independent scans by the same block, interleaved where both are `ema`s:
    /// `(state, source, destination, validity) × 2, len, ahead` (`ahead`: null, or the
    /// bytes the kernel reads next, for the window sums to prefetch while they compute).
    ScanBlockPair,
    /// Feeds a block to reductions: `(state, values, validity, len)`.
    ReduceBlock,
    /// IEEE division of f64 blocks: `(a, b, dst, n)`.
    DivideF64Block,
    /// IEEE division of an f64 block by a scalar: `(a, divisor bits, dst, n)`.
    DivideF64BlockByScalar,
    /// IEEE division of f32 blocks: `(a, b, dst, n)`.
    DivideF32Block,
    /// IEEE division of an f32 block by a scalar: `(a, divisor bits in the low 32, dst, n)`.
    DivideF32BlockByScalar,
    /// `(a − c) / d` of an f64 block, `c` and `d` scalars, two IEEE operations a row:
    /// `(a, c bits, d bits, dst, n)`.
    CenteredDivideF64BlockByScalar,
    /// `(a − c) / d` of an f32 block: `(a, c bits in the low 32, d bits in the low 32, dst, n)`.
    CenteredDivideF32BlockByScalar,
    /// IEEE square root of an f64 block: `(src, dst, n)`.
    SqrtF64Block,
    /// IEEE square root of an f32 block: `(src, dst, n)`.
    SqrtF32Block,
    /// Records an `ema`'s running state into two words, or starts it from them:
    /// `(state, record, carry_in)`.
    RecordScanState,
}

/// The functions after the math blocks, in index order.
const OTHERS: [RuntimeFunction; 16] = [
    RuntimeFunction::ShiftHalo,
    RuntimeFunction::PackValidity,
    RuntimeFunction::CombineValidity,
    RuntimeFunction::ScanBlock,
    RuntimeFunction::ReduceBlock,
    RuntimeFunction::ScanBlockPair,
    RuntimeFunction::CombineValidityBits,
    RuntimeFunction::DivideF64Block,
    RuntimeFunction::DivideF64BlockByScalar,
    RuntimeFunction::DivideF32Block,
    RuntimeFunction::DivideF32BlockByScalar,
    RuntimeFunction::SqrtF64Block,
    RuntimeFunction::SqrtF32Block,
    RuntimeFunction::CenteredDivideF64BlockByScalar,
    RuntimeFunction::CenteredDivideF32BlockByScalar,
    RuntimeFunction::RecordScanState,
];

/// How many runtime functions there are: f64 and f32 blocks of every math function and every
/// two-argument one, then [`OTHERS`].
pub(crate) const COUNT: usize = 2 * MATH_FUNCTION_COUNT + 2 * BINARY_MATH_FUNCTION_COUNT + OTHERS.len();

impl RuntimeFunction {
    /// Every runtime function, in index order.
    pub(crate) fn all() -> impl Iterator<Item = RuntimeFunction> {
        let f64_blocks = MathFunction::ALL.iter().map(|&f| RuntimeFunction::MathF64Block(f));
        let f32_blocks = MathFunction::ALL.iter().map(|&f| RuntimeFunction::MathF32Block(f));
        let binary_f64 = BinaryMathFunction::ALL.iter().map(|&f| RuntimeFunction::BinaryMathF64Block(f));
        let binary_f32 = BinaryMathFunction::ALL.iter().map(|&f| RuntimeFunction::BinaryMathF32Block(f));
        f64_blocks.chain(f32_blocks).chain(binary_f64).chain(binary_f32).chain(OTHERS)
    }

    /// The symbol kernels import it under.
    pub(crate) fn name(self) -> &'static str {
        match self {
            RuntimeFunction::MathF64Block(function) => function.f64_block_symbol(),
            RuntimeFunction::MathF32Block(function) => function.f32_block_symbol(),
            RuntimeFunction::BinaryMathF64Block(function) => function.f64_block_symbol(),
            RuntimeFunction::BinaryMathF32Block(function) => function.f32_block_symbol(),
            RuntimeFunction::ShiftHalo => "fusejit_shift_halo",
            RuntimeFunction::PackValidity => "fusejit_pack_validity",
            RuntimeFunction::CombineValidity => "fusejit_combine_validity",
            RuntimeFunction::CombineValidityBits => "fusejit_combine_validity_bits",
            RuntimeFunction::ScanBlock => "fusejit_scan_block",
            RuntimeFunction::ReduceBlock => "fusejit_reduce_block",
            RuntimeFunction::ScanBlockPair => "fusejit_scan_block_pair",
            RuntimeFunction::DivideF64Block => "fusejit_divide_f64_block",
            RuntimeFunction::DivideF64BlockByScalar => "fusejit_divide_f64_block_by_scalar",
            RuntimeFunction::DivideF32Block => "fusejit_divide_f32_block",
            RuntimeFunction::DivideF32BlockByScalar => "fusejit_divide_f32_block_by_scalar",
            RuntimeFunction::SqrtF64Block => "fusejit_sqrt_f64_block",
            RuntimeFunction::SqrtF32Block => "fusejit_sqrt_f32_block",
            RuntimeFunction::CenteredDivideF64BlockByScalar => "fusejit_centered_divide_f64_block_by_scalar",
            RuntimeFunction::CenteredDivideF32BlockByScalar => "fusejit_centered_divide_f32_block_by_scalar",
            RuntimeFunction::RecordScanState => "fusejit_record_scan_state",
        }
    }

    /// Its position in [`RuntimeFunction::all`].
    pub(crate) fn index(self) -> usize {
        let binary = 2 * MATH_FUNCTION_COUNT;
        let others = binary + 2 * BINARY_MATH_FUNCTION_COUNT;
        match self {
            RuntimeFunction::MathF64Block(function) => function.index(),
            RuntimeFunction::MathF32Block(function) => MATH_FUNCTION_COUNT + function.index(),
            RuntimeFunction::BinaryMathF64Block(function) => binary + function.index(),
            RuntimeFunction::BinaryMathF32Block(function) => {
                binary + BINARY_MATH_FUNCTION_COUNT + function.index()
            }
            RuntimeFunction::ShiftHalo => others,
            RuntimeFunction::PackValidity => others + 1,
            RuntimeFunction::CombineValidity => others + 2,
            RuntimeFunction::ScanBlock => others + 3,
            RuntimeFunction::ReduceBlock => others + 4,
            RuntimeFunction::ScanBlockPair => others + 5,
            RuntimeFunction::CombineValidityBits => others + 6,
            RuntimeFunction::DivideF64Block => others + 7,
            RuntimeFunction::DivideF64BlockByScalar => others + 8,
            RuntimeFunction::DivideF32Block => others + 9,
            RuntimeFunction::DivideF32BlockByScalar => others + 10,
            RuntimeFunction::SqrtF64Block => others + 11,
            RuntimeFunction::SqrtF32Block => others + 12,
            RuntimeFunction::CenteredDivideF64BlockByScalar => others + 13,
            RuntimeFunction::CenteredDivideF32BlockByScalar => others + 14,
            RuntimeFunction::RecordScanState => others + 15,
        }
    }

    /// Its signature: every parameter is a pointer or a count, passed as an `i64`.
    pub(crate) fn signature(self, call_conv: CallConv) -> Signature {
        let params = match self {
            RuntimeFunction::MathF64Block(_)
            | RuntimeFunction::MathF32Block(_)
            | RuntimeFunction::ShiftHalo
            | RuntimeFunction::SqrtF64Block
            | RuntimeFunction::SqrtF32Block
            | RuntimeFunction::RecordScanState => 3,
            RuntimeFunction::BinaryMathF64Block(_)
            | RuntimeFunction::BinaryMathF32Block(_)
            | RuntimeFunction::PackValidity
            | RuntimeFunction::CombineValidity
            | RuntimeFunction::ReduceBlock
            | RuntimeFunction::DivideF64Block
            | RuntimeFunction::DivideF64BlockByScalar
            | RuntimeFunction::DivideF32Block
            | RuntimeFunction::DivideF32BlockByScalar => 4,
            RuntimeFunction::ScanBlock
            | RuntimeFunction::CombineValidityBits
            | RuntimeFunction::CenteredDivideF64BlockByScalar
            | RuntimeFunction::CenteredDivideF32BlockByScalar => 5,
            RuntimeFunction::ScanBlockPair => 10,
        };
        let mut signature = Signature::new(call_conv);
        signature.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), params));
        signature
    }

    /// The host function the JIT links it to, for kernels calling the `math` tier.
    pub(crate) fn host_address(self, math: Isa) -> *const u8 {
        match self {
            RuntimeFunction::MathF64Block(function) => math.block_or_scalar(function) as *const u8,
            RuntimeFunction::MathF32Block(function) => math.f32_block_or_scalar(function) as *const u8,
            RuntimeFunction::BinaryMathF64Block(function) => {
                math.binary_block_or_scalar(function) as *const u8
            }
            RuntimeFunction::BinaryMathF32Block(function) => {
                math.f32_binary_block_or_scalar(function) as *const u8
            }
            RuntimeFunction::ShiftHalo => stubs::shift_halo as *const u8,
            RuntimeFunction::PackValidity => stubs::pack_validity as *const u8,
            RuntimeFunction::CombineValidity => stubs::combine_validity as *const u8,
            RuntimeFunction::CombineValidityBits => stubs::combine_validity_bits as *const u8,
            RuntimeFunction::ScanBlock => callbacks::scan_block as *const u8,
            RuntimeFunction::ReduceBlock => callbacks::reduce_block as *const u8,
            RuntimeFunction::ScanBlockPair => callbacks::scan_block_pair as *const u8,
            RuntimeFunction::DivideF64Block => stubs::divide_f64_block as *const u8,
            RuntimeFunction::DivideF64BlockByScalar => stubs::divide_f64_block_by_scalar as *const u8,
            RuntimeFunction::DivideF32Block => stubs::divide_f32_block as *const u8,
            RuntimeFunction::DivideF32BlockByScalar => stubs::divide_f32_block_by_scalar as *const u8,
            RuntimeFunction::SqrtF64Block => stubs::sqrt_f64_block as *const u8,
            RuntimeFunction::SqrtF32Block => stubs::sqrt_f32_block as *const u8,
            RuntimeFunction::CenteredDivideF64BlockByScalar => {
                stubs::centered_divide_f64_block_by_scalar as *const u8
            }
            RuntimeFunction::CenteredDivideF32BlockByScalar => {
                stubs::centered_divide_f32_block_by_scalar as *const u8
            }
            RuntimeFunction::RecordScanState => callbacks::record_scan_state as *const u8,
        }
    }

    /// Whether `emitted_runtime` can emit it, so that an object for another target contains
    /// it. Scans and reductions keep their state in Rust and stay on the host for now.
    #[cfg(feature = "cross")]
    pub(crate) fn is_emitted(self) -> bool {
        match self {
            RuntimeFunction::MathF64Block(_)
            | RuntimeFunction::MathF32Block(_)
            | RuntimeFunction::BinaryMathF64Block(_)
            | RuntimeFunction::BinaryMathF32Block(_)
            | RuntimeFunction::ShiftHalo
            | RuntimeFunction::PackValidity
            | RuntimeFunction::CombineValidity
            | RuntimeFunction::CombineValidityBits
            | RuntimeFunction::DivideF64Block
            | RuntimeFunction::DivideF64BlockByScalar
            | RuntimeFunction::DivideF32Block
            | RuntimeFunction::DivideF32BlockByScalar
            | RuntimeFunction::SqrtF64Block
            | RuntimeFunction::SqrtF32Block
            | RuntimeFunction::CenteredDivideF64BlockByScalar
            | RuntimeFunction::CenteredDivideF32BlockByScalar => true,
            RuntimeFunction::ScanBlock
            | RuntimeFunction::ReduceBlock
            | RuntimeFunction::ScanBlockPair
            | RuntimeFunction::RecordScanState => false,
        }
    }
}

/// How to import one runtime function into a function: the external name it links by, its
/// signature, and whether it is colocated (what `Module::declare_func_in_func` gives).
pub(crate) struct RuntimeImport {
    pub name: UserExternalName,
    pub signature: Signature,
    pub colocated: bool,
}

/// The runtime functions a function being translated may call, by
/// [`RuntimeFunction::index`], each imported into it on first use: a kernel declares only the
/// functions it calls (every declared signature costs its ABI computation at compile time).
/// `None` for one the module does not provide (an object has no scan or reduction
/// callbacks).
pub(crate) struct RuntimeRefs {
    imports: Vec<Option<RuntimeImport>>,
    refs: [Option<FuncRef>; COUNT],
}

impl RuntimeRefs {
    /// The functions `describe` gives an import for.
    pub(crate) fn new(mut describe: impl FnMut(RuntimeFunction) -> Option<RuntimeImport>) -> RuntimeRefs {
        RuntimeRefs { imports: RuntimeFunction::all().map(&mut describe).collect(), refs: [None; COUNT] }
    }

    /// The reference to call `function` through from `func`, imported into it the first time.
    /// The planner never puts a scan or reduction into a plan compiled where their callbacks
    /// are absent (`CrossObject::add_kernel` refuses such plans), so a missing one is a
    /// compiler bug, caught as a panic by `Compiler::compile`.
    pub(crate) fn get(&mut self, func: &mut Function, function: RuntimeFunction) -> FuncRef {
        let index = function.index();
        if let Some(reference) = self.refs[index] {
            return reference;
        }
        let import = self.imports[index]
            .as_ref()
            .unwrap_or_else(|| panic!("runtime function {} is not imported here", function.name()));
        let signature = func.import_signature(import.signature.clone());
        let name = func.declare_imported_user_function(import.name.clone());
        let reference = func.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: import.colocated,
            patchable: false,
        });
        self.refs[index] = Some(reference);
        reference
    }
}

/// Every runtime function, to be imported on use as `userextname{index}` (for listings).
#[cfg(feature = "cross")]
pub(crate) fn import_all_as_user_names(call_conv: CallConv) -> RuntimeRefs {
    RuntimeRefs::new(|runtime| {
        Some(RuntimeImport {
            name: UserExternalName::new(1, runtime.index() as u32),
            signature: runtime.signature(call_conv),
            colocated: false,
        })
    })
}

/// Cranelift's disassembly of `function` with its call targets named: every
/// `userextname{N}` becomes the runtime function it refers to (`fusejit_ln_f64_block`), and an
/// indirect `call *%reg` whose register was loaded with a runtime function's address gets
/// `; fusejit_…` after it. Both kernels and cross listings declare runtime functions with a
/// user name whose index is the function's [`RuntimeFunction::index`] (the host compiler
/// declares them first, in [`RuntimeFunction::all`] order, so their `FuncId`s are exactly that).
pub(crate) fn name_call_targets(vcode: &str, function: &Function) -> String {
    let names: Vec<Option<&'static str>> = function
        .params
        .user_named_funcs()
        .values()
        .map(|name| RuntimeFunction::all().nth(name.index as usize).map(RuntimeFunction::name))
        .collect();
    let mut loaded: Vec<(String, &'static str)> = Vec::new();
    let mut listing = String::with_capacity(vcode.len() + 256);
    for line in vcode.lines() {
        let mut renamed = String::with_capacity(line.len());
        let mut rest = line;
        let mut named = None;
        while let Some(at) = rest.find("userextname") {
            renamed.push_str(&rest[..at]);
            let after = &rest[at + "userextname".len()..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let name =
                after[..digits].parse::<usize>().ok().and_then(|index| names.get(index).copied().flatten());
            match name {
                Some(name) => {
                    renamed.push_str(name);
                    named = Some(name);
                }
                None => renamed.push_str(&rest[at..at + "userextname".len() + digits]),
            }
            rest = &after[digits..];
        }
        renamed.push_str(rest);
        let trimmed = renamed.trim_start();
        if let (Some(name), Some(operands)) = (named, trimmed.strip_prefix("load_ext_name")) {
            let operands = operands.strip_prefix("_far").unwrap_or(operands);
            // x86-64 lists `name+0, %rax`, aarch64 `x1, name+0`: the register is the other one.
            if let Some(register) = operands
                .split(',')
                .map(str::trim)
                .find(|operand| !operand.is_empty() && !operand.contains(name))
            {
                loaded.retain(|(held, _)| held != register);
                loaded.push((register.to_string(), name));
            }
        } else if let Some(target) = trimmed
            .strip_prefix("call")
            .and_then(|target| target.trim().strip_prefix('*'))
            .or_else(|| trimmed.strip_prefix("blr"))
            .map(str::trim)
            && let Some((_, name)) = loaded.iter().find(|(held, _)| held == target)
        {
            renamed.push_str("  ; ");
            renamed.push_str(name);
        }
        listing.push_str(&renamed);
        listing.push('\n');
    }
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_positions_in_all_and_names_are_distinct() {
        for (position, function) in RuntimeFunction::all().enumerate() {
            assert_eq!(function.index(), position);
        }
        assert_eq!(RuntimeFunction::all().count(), COUNT);
        let mut names: Vec<&str> = RuntimeFunction::all().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COUNT);
    }
}
