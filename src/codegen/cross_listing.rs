//! `--emit clif|asm --target aarch64`: the CLIF and machine code of a plan compiled for
//! another target with the same translator, listed and never run.

use super::runtime_functions::{import_all_as_user_names, name_call_targets};
use super::{CodegenError, object, translate};
use crate::passes::fuse_loops::LoopPlan;
use cranelift_codegen::ir::{AbiParam, Function, Signature, UserFuncName, types};
use cranelift_codegen::{Context, verify_function};
use cranelift_frontend::FunctionBuilderContext;

/// The CLIF and machine code of `plan` compiled for another target (`aarch64`, or any
/// target triple Cranelift was built for), without running it. Call targets are named
/// (`fusejit_ln_f64_block`).
pub(crate) fn cross_listing(plan: &LoopPlan, target: &str) -> Result<(String, String), CodegenError> {
    let isa = object::target_isa(target)?;
    let call_conv = isa.default_call_conv();
    let mut signature = Signature::new(call_conv);
    signature.params.push(AbiParam::new(types::I64));
    let mut function = Function::with_name_signature(UserFuncName::user(0, 0), signature);
    let refs = import_all_as_user_names(call_conv);
    let mut builder_context = FunctionBuilderContext::new();
    let builder = cranelift_frontend::FunctionBuilder::new(&mut function, &mut builder_context);
    translate::Translator::translate(plan, builder, refs, isa.frontend_config());
    verify_function(&function, isa.as_ref()).map_err(|errors| CodegenError::Verifier(errors.to_string()))?;
    let clif = function.display().to_string();
    let mut context = Context::for_function(function);
    context.set_disasm(true);
    let compiled = context
        .compile(isa.as_ref(), &mut cranelift_codegen::control::ControlPlane::default())
        .map_err(|error| CodegenError::Module(format!("compile for {target}: {:?}", error.inner)))?;
    let vcode = compiled.vcode.clone().unwrap_or_default();
    let mut asm = format!("; {} code\n", isa.triple());
    asm.push_str(&name_call_targets(&vcode, &context.func));
    Ok((clif, asm))
}
