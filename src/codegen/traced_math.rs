//! Installs the traced math tier: every generic math kernel traced and emitted as
//! `f64x2` CLIF (`emitted_runtime`), compiled for the host once per process.

use super::compiler::Compiler;
use super::runtime_functions::RuntimeFunction;
use super::{CodegenError, emitted_runtime};
use crate::math::{
    self, BINARY_MATH_FUNCTION_COUNT, BinaryMathFunction, Isa, MATH_FUNCTION_COUNT, MathFunction,
};
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
        for &function in MathFunction::ALL {
            ids.push(compile(
                RuntimeFunction::MathF64Block(function),
                format!("fusejit_traced_{}", function.name()),
            )?);
        }
        let mut binary_ids = Vec::new();
        for &function in BinaryMathFunction::ALL {
            let name = format!("fusejit_traced_{}", function.name());
            binary_ids.push(compile(RuntimeFunction::BinaryMathF64Block(function), name)?);
        }
        module.finalize_definitions().map_err(|error| CodegenError::Module(format!("finalize: {error}")))?;
        let blocks: [math::BlockFn; MATH_FUNCTION_COUNT] = std::array::from_fn(|index| {
            // SAFETY: each pointer is the finalized entry of a function declared with the block
            // signature `fn(i64, i64, i64)` in the host's default calling convention (`extern
            // "C"`), which is `BlockFn`'s ABI for pointers and a `usize`; the module is leaked
            // below, so the code lives as long as the process.
            unsafe {
                std::mem::transmute::<*const u8, math::BlockFn>(module.get_finalized_function(ids[index]))
            }
        });
        let binary_blocks: [math::BinaryBlockFn; BINARY_MATH_FUNCTION_COUNT] = std::array::from_fn(|index| {
            // SAFETY: as above, for functions declared with the two-argument block signature
            // `fn(i64, i64, i64, i64)`, which is `BinaryBlockFn`'s ABI.
            unsafe {
                std::mem::transmute::<*const u8, math::BinaryBlockFn>(
                    module.get_finalized_function(binary_ids[index]),
                )
            }
        });
        std::mem::forget(module);
        // SAFETY: both were compiled for this host just above by its own Cranelift backend
        // (so they use only instructions it has), their code is never freed, and they are the
        // emitted block functions, which read `n` f64s from `src` and write `n` to `dst`.
        unsafe { math::install_traced_blocks(blocks) };
        // SAFETY: as above, for the two-argument block functions.
        unsafe { math::install_traced_binary_blocks(binary_blocks) };
        Ok(())
    });
    outcome.unwrap_or_else(|panic| Err(CodegenError::Panic(super::panic_message(&panic))))
}
