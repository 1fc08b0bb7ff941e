//! Installs the traced math tier: every generic math kernel traced and emitted as
//! `f64x2` CLIF (`emitted_runtime`), compiled for the host once per process.

use super::compiler::Compiler;
use super::runtime_functions::RuntimeFunction;
use super::{CodegenError, emitted_runtime};
use crate::math::{self, BinaryMathFunction, Isa, MathFunction};
use cranelift_codegen::ir::UserFuncName;
use cranelift_codegen::verify_function;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};

/// Compiles the traced `ln`/`exp` block functions (`emitted_runtime`, `f64x2`) for the host
/// once and installs them as the `traced` math tier. Their code lives for the rest of the
/// process (the module is leaked on purpose: installed function pointers never dangle).
/// Fails where the host's Cranelift backend cannot compile them (x86-64 without FMA).
pub(crate) fn install_traced_math() -> Result<(), CodegenError> {
    static INSTALLED: std::sync::OnceLock<Result<(), CodegenError>> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(compile_traced_math).clone()
}

fn compile_traced_math() -> Result<(), CodegenError> {
    let outcome = std::panic::catch_unwind(|| -> Result<(), CodegenError> {
        let mut compiler = Compiler::for_host(Isa::Scalar)?;
        let module_builder = JITBuilder::with_isa(compiler.isa.clone(), default_libcall_names());
        let mut module = JITModule::new(module_builder);
        let call_conv = compiler.isa.default_call_conv();
        let mut compile = |function: RuntimeFunction, name: String| -> Result<FuncId, CodegenError> {
            let signature = function.signature(call_conv);
            let id = module
                .declare_function(&name, Linkage::Local, &signature)
                .map_err(|error| CodegenError::Module(format!("declare {name}: {error}")))?;
            compiler.context.clear();
            compiler.context.func.signature = signature;
            compiler.context.func.name = UserFuncName::user(0, id.as_u32());
            let builder = cranelift_frontend::FunctionBuilder::new(
                &mut compiler.context.func,
                &mut compiler.builder_context,
            );
            emitted_runtime::emit(function, builder, compiler.isa.frontend_config())?;
            verify_function(&compiler.context.func, compiler.isa.as_ref())
                .map_err(|errors| CodegenError::Verifier(format!("{name}: {errors}")))?;
            module
                .define_function(id, &mut compiler.context)
                .map_err(|error| CodegenError::Module(format!("compile {name}: {error:?}")))?;
            module.clear_context(&mut compiler.context);
            Ok(id)
        };
        let mut ids = Vec::new();
        let mut f32_ids = Vec::new();
        for &function in MathFunction::ALL {
            let name = format!("fusejit_traced_{}", function.name());
            ids.push(compile(RuntimeFunction::MathF64Block(function), name.clone())?);
            f32_ids.push(compile(RuntimeFunction::MathF32Block(function), format!("{name}_f32"))?);
        }
        let mut binary_ids = Vec::new();
        let mut binary_f32_ids = Vec::new();
        for &function in BinaryMathFunction::ALL {
            let name = format!("fusejit_traced_{}", function.name());
            binary_ids.push(compile(RuntimeFunction::BinaryMathF64Block(function), name.clone())?);
            binary_f32_ids
                .push(compile(RuntimeFunction::BinaryMathF32Block(function), format!("{name}_f32"))?);
        }
        module.finalize_definitions().map_err(|error| CodegenError::Module(format!("finalize: {error}")))?;
        let address = |id: FuncId| module.get_finalized_function(id);
        // Each pointer (the four transmutes below) is the finalized entry of a function
        // declared with its runtime function's signature — pointers and a count, each an
        // `i64`, in the host's default calling convention (`extern "C"`) — which is the ABI
        // of the block type it becomes; the module is leaked below, so the code lives as long
        // as the process.
        let blocks = math::TracedBlocks {
            f64: std::array::from_fn(|index| {
                // SAFETY: as said above, for `BlockFn`.
                unsafe { std::mem::transmute::<*const u8, math::BlockFn>(address(ids[index])) }
            }),
            f32: std::array::from_fn(|index| {
                // SAFETY: as said above, for `F32BlockFn`.
                unsafe { std::mem::transmute::<*const u8, math::F32BlockFn>(address(f32_ids[index])) }
            }),
            binary_f64: std::array::from_fn(|index| {
                // SAFETY: as said above, for `BinaryBlockFn`.
                unsafe { std::mem::transmute::<*const u8, math::BinaryBlockFn>(address(binary_ids[index])) }
            }),
            binary_f32: std::array::from_fn(|index| {
                // SAFETY: as said above, for `F32BinaryBlockFn`.
                unsafe {
                    std::mem::transmute::<*const u8, math::F32BinaryBlockFn>(address(binary_f32_ids[index]))
                }
            }),
        };
        std::mem::forget(module);
        // SAFETY: all were compiled for this host just above by its own Cranelift backend (so
        // they use only instructions it has), their code is never freed, and they are the
        // emitted block functions, which read `n` elements from each source and write `n` to
        // `dst`.
        unsafe { math::install_traced_blocks(blocks) };
        Ok(())
    });
    outcome.unwrap_or_else(|panic| Err(CodegenError::Panic(super::panic_message(&panic))))
}
