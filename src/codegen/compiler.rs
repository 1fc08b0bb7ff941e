//! `Compiler`: the one owner of Cranelift's reusable state for the host, which compiles loop
//! plans into `NativeKernel`s in three separate steps — build CLIF (`translate`), verify
//! (when asked), compile and link against the runtime (`JITBuilder::symbol`).

use super::executor::NativeKernel;
use super::runtime_functions::{RuntimeFunction, RuntimeImport, RuntimeRefs};
use super::{CodegenError, Listings, translate};
use crate::math::Isa;
use crate::passes::fuse_loops::LoopPlan;
use crate::runtime::stubs;
use cranelift_codegen::ir::{AbiParam, UserExternalName, UserFuncName, types};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, verify_function};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};

/// The owner of Cranelift's reusable state: the host ISA, a `codegen::Context` and a
/// `FunctionBuilderContext`, reused by every kernel it compiles.
pub(crate) struct Compiler {
    pub(super) isa: OwnedTargetIsa,
    /// The tier of the `ln`/`exp` block functions compiled kernels call.
    math: Isa,
    pub(super) context: Context,
    pub(super) builder_context: FunctionBuilderContext,
    /// Run Cranelift's verifier on every function (tests and debug builds; tens of µs a kernel).
    pub(crate) verify: bool,
}

impl std::fmt::Debug for Compiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiler")
            .field("isa", &self.isa.name())
            .field("math", &self.math)
            .field("verify", &self.verify)
            .finish()
    }
}

impl Compiler {
    /// A compiler for the host ISA, with the host's features (`cranelift-native`), whose
    /// kernels call the `math` tier's block functions.
    pub(crate) fn for_host(math: Isa) -> Result<Compiler, CodegenError> {
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, name: &str, value: &str| {
            flags
                .set(name, value)
                .map_err(|error| CodegenError::Setup(format!("cranelift setting {name}: {error}")))
        };
        set(&mut flags, "opt_level", "speed")?;
        set(&mut flags, "is_pic", "false")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "enable_verifier", "false")?;
        let isa_builder =
            cranelift_native::builder().map_err(|error| CodegenError::Setup(format!("host ISA: {error}")))?;
        let isa = isa_builder
            .finish(settings::Flags::new(flags))
            .map_err(|error| CodegenError::Setup(format!("host ISA: {error}")))?;
        Ok(Compiler {
            isa,
            math,
            context: Context::new(),
            builder_context: FunctionBuilderContext::new(),
            verify: cfg!(debug_assertions),
        })
    }

    /// Compiles `plan`; the kernel keeps the plan, so it can only ever run the plan it was
    /// compiled from. A panic inside Cranelift is caught and reported as an error.
    pub(crate) fn compile(
        &mut self,
        plan: LoopPlan,
        listings: Listings,
    ) -> Result<NativeKernel, CodegenError> {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.compile_inner(&plan, listings)));
        match outcome {
            Ok(result) => {
                let (module, entry, clif, asm) = result?;
                Ok(NativeKernel::new(plan, module, entry, clif, asm, self.verify))
            }
            Err(panic) => {
                // The contexts may hold a half-built function: start the next compile clean.
                self.context = Context::new();
                self.builder_context = FunctionBuilderContext::new();
                Err(CodegenError::Panic(super::panic_message(&panic)))
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn compile_inner(
        &mut self,
        plan: &LoopPlan,
        listings: Listings,
    ) -> Result<(JITModule, unsafe extern "C" fn(*const u64), Option<String>, Option<String>), CodegenError>
    {
        let mut jit_builder = JITBuilder::with_isa(self.isa.clone(), default_libcall_names());
        for (name, address) in stubs::libcall_symbols() {
            jit_builder.symbol(name, address);
        }
        for function in RuntimeFunction::all() {
            jit_builder.symbol(function.name(), function.host_address(self.math));
        }
        let mut module = JITModule::new(jit_builder);
        let call_conv = self.isa.default_call_conv();
        let mut imports = Vec::with_capacity(super::runtime_functions::COUNT);
        for function in RuntimeFunction::all() {
            let id = module
                .declare_function(function.name(), Linkage::Import, &function.signature(call_conv))
                .map_err(|error| CodegenError::Module(format!("declare {}: {error}", function.name())))?;
            imports.push(id);
        }
        let mut signature = module.make_signature();
        signature.params.push(AbiParam::new(types::I64));
        let kernel_id = module
            .declare_function("fusejit_kernel", Linkage::Local, &signature)
            .map_err(|error| CodegenError::Module(format!("declare kernel: {error}")))?;

        self.context.clear();
        self.context.func.signature = signature;
        self.context.func.name = UserFuncName::user(0, kernel_id.as_u32());
        {
            let refs = RuntimeRefs::new(|function| {
                Some(RuntimeImport {
                    name: UserExternalName::new(0, imports[function.index()].as_u32()),
                    signature: function.signature(call_conv),
                    colocated: false,
                })
            });
            let builder =
                cranelift_frontend::FunctionBuilder::new(&mut self.context.func, &mut self.builder_context);
            translate::Translator::translate(plan, builder, refs, self.isa.frontend_config());
        }
        if self.verify {
            verify_function(&self.context.func, self.isa.as_ref())
                .map_err(|errors| CodegenError::Verifier(errors.to_string()))?;
        }
        let clif = listings.clif.then(|| self.context.func.display().to_string());
        self.context.set_disasm(listings.asm);
        module
            .define_function(kernel_id, &mut self.context)
            .map_err(|error| CodegenError::Module(format!("compile: {error:?}")))?;
        let asm = if listings.asm {
            let vcode = self.context.compiled_code().and_then(|code| code.vcode.as_deref());
            vcode.map(|vcode| super::runtime_functions::name_call_targets(vcode, &self.context.func))
        } else {
            None
        };
        module.clear_context(&mut self.context);
        module.finalize_definitions().map_err(|error| CodegenError::Module(format!("finalize: {error}")))?;
        let code = module.get_finalized_function(kernel_id);
        // SAFETY: `code` is the finalized entry of a function declared with the signature
        // `fn(i64)` in the host's default calling convention, which is `extern "C"` on every
        // host Cranelift supports; the module that owns it moves into the NativeKernel that
        // holds the pointer, and frees it only when that kernel drops.
        let entry = unsafe { std::mem::transmute::<*const u8, unsafe extern "C" fn(*const u64)>(code) };
        Ok((module, entry, clif, asm))
    }
}
