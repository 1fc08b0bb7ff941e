//! Kernels compiled for another target into a relocatable object (`cranelift-object`), with
//! the runtime functions they call emitted into the same object ([`super::emitted_runtime`]):
//! an aarch64 `.o` that a C harness links and runs under qemu, no Rust runtime needed.
//!
//! [`ArgumentImage`] is the other half: the argument block a kernel reads, described with
//! addresses as (region, offset) so that a harness on the other machine can allocate the
//! regions, patch the addresses in and call the kernel exactly as [`super::NativeKernel::run`]
//! calls it here.

// Reached from outside the crate only through `internals`, which is not API.
#![allow(missing_docs)]

use super::executor::{DISCARD_WORDS, buffer_region, element_size, scratch_words};
use super::layout::{self, ArgLayout, BufferWord, InputWord};
use super::runtime_functions::{RuntimeFunction, RuntimeImport, RuntimeRefs};
use super::{CodegenError, emitted_runtime, translate};
use crate::column::Binding;
use crate::passes::fuse_loops::LoopPlan;
use crate::types::Elem;
use cranelift_codegen::Context;
use cranelift_codegen::ir::{AbiParam, UserExternalName, UserFuncName, types};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use cranelift_object::{ObjectBuilder, ObjectModule};

/// The ISA for a target named by triple, or `aarch64` for `aarch64-unknown-linux-gnu`, with
/// its baseline features (NEON is baseline on aarch64).
pub fn target_isa(target: &str) -> Result<OwnedTargetIsa, CodegenError> {
    let triple_text = if target == "aarch64" { "aarch64-unknown-linux-gnu" } else { target };
    let triple: target_lexicon::Triple = triple_text
        .parse()
        .map_err(|error| CodegenError::Setup(format!("unknown target '{target}': {error}")))?;
    let mut flags = settings::builder();
    for (name, value) in [("opt_level", "speed"), ("is_pic", "false"), ("enable_verifier", "false")] {
        flags
            .set(name, value)
            .map_err(|error| CodegenError::Setup(format!("cranelift setting {name}: {error}")))?;
    }
    cranelift_codegen::isa::lookup(triple)
        .map_err(|error| CodegenError::Setup(format!("target '{target}' is not supported: {error}")))?
        .finish(settings::Flags::new(flags))
        .map_err(|error| CodegenError::Setup(format!("target '{target}': {error}")))
}

/// An object file being built for another target: the runtime functions, then any number of
/// kernels, each exported under its own name with the signature `void name(const uint64_t *)`.
pub struct CrossObject {
    module: ObjectModule,
    /// The runtime functions the object defines, by [`RuntimeFunction::index`].
    runtime: Vec<Option<FuncId>>,
    context: Context,
    builder_context: FunctionBuilderContext,
}

impl std::fmt::Debug for CrossObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossObject").field("isa", &self.module.isa().triple()).finish_non_exhaustive()
    }
}

impl CrossObject {
    /// A new object for `target` (see [`target_isa`]) holding the runtime functions.
    pub fn new(target: &str) -> Result<CrossObject, CodegenError> {
        let isa = target_isa(target)?;
        let builder = ObjectBuilder::new(isa, "fusejit", default_libcall_names())
            .map_err(|error| CodegenError::Setup(format!("object for {target}: {error}")))?;
        let mut object = CrossObject {
            module: ObjectModule::new(builder),
            runtime: Vec::new(),
            context: Context::new(),
            builder_context: FunctionBuilderContext::new(),
        };
        let call_conv = object.module.isa().default_call_conv();
        // The runtime functions an object defines: those `emitted_runtime` emits (scans and
        // reductions stay on the host for now; `add_kernel` refuses them).
        for function in RuntimeFunction::all() {
            if !function.is_emitted() {
                object.runtime.push(None);
                continue;
            }
            let name = function.name();
            let signature = function.signature(call_conv);
            let id = object
                .module
                .declare_function(name, Linkage::Local, &signature)
                .map_err(|error| CodegenError::Module(format!("declare {name}: {error}")))?;
            object.context.clear();
            object.context.func.signature = signature;
            object.context.func.name = UserFuncName::user(0, id.as_u32());
            let frontend_config = object.module.isa().frontend_config();
            emitted_runtime::emit(
                function,
                FunctionBuilder::new(&mut object.context.func, &mut object.builder_context),
                frontend_config,
            )?;
            object.define(id, name)?;
            object.runtime.push(Some(id));
        }
        Ok(object)
    }

    /// Verifies the function in the context and compiles it into the object as `id`.
    fn define(&mut self, id: FuncId, name: &str) -> Result<(), CodegenError> {
        cranelift_codegen::verify_function(&self.context.func, self.module.isa())
            .map_err(|errors| CodegenError::Verifier(format!("{name}: {errors}")))?;
        self.module
            .define_function(id, &mut self.context)
            .map_err(|error| CodegenError::Module(format!("compile {name}: {error:?}")))?;
        self.module.clear_context(&mut self.context);
        Ok(())
    }

    /// Whether an object can hold `plan`: not yet one with scans, reductions or extra outputs,
    /// whose runtime functions keep their state in Rust.
    pub fn supports(plan: &LoopPlan) -> bool {
        plan.scans.is_empty() && plan.extra_outputs.is_empty() && plan.reduce_result.is_empty()
    }

    /// Compiles `plan` into the object, exported as `name`.
    pub fn add_kernel(&mut self, name: &str, plan: &LoopPlan) -> Result<(), CodegenError> {
        if !CrossObject::supports(plan) {
            return Err(CodegenError::Unsupported("scans, reductions and extra outputs in objects"));
        }
        let mut signature = self.module.make_signature();
        signature.params.push(AbiParam::new(types::I64));
        let id = self
            .module
            .declare_function(name, Linkage::Export, &signature)
            .map_err(|error| CodegenError::Module(format!("declare {name}: {error}")))?;
        self.context.clear();
        self.context.func.signature = signature;
        self.context.func.name = UserFuncName::user(0, id.as_u32());
        let (module, runtime) = (&self.module, &self.runtime);
        let stubs = RuntimeRefs::new(|function| {
            runtime[function.index()].map(|id| {
                let declaration = module.declarations().get_function_decl(id);
                RuntimeImport {
                    name: UserExternalName::new(0, id.as_u32()),
                    signature: declaration.signature.clone(),
                    colocated: declaration.linkage.is_final(),
                }
            })
        });
        let frontend_config = self.module.isa().frontend_config();
        let builder = FunctionBuilder::new(&mut self.context.func, &mut self.builder_context);
        translate::Translator::translate(plan, builder, stubs, frontend_config);
        self.define(id, name)
    }

    /// The object file's bytes (ELF for a Linux triple).
    pub fn finish(self) -> Result<Vec<u8>, CodegenError> {
        self.module.finish().emit().map_err(|error| CodegenError::Module(format!("write object: {error}")))
    }
}

/// One word of an argument block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentWord {
    Value(u64),
    /// The address of byte `offset` of region `region`.
    Address {
        region: usize,
        offset: usize,
    },
}

/// An argument block with its memory: what a harness needs to call a kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgumentImage {
    pub words: Vec<ArgumentWord>,
    /// Each region's initial bytes; a harness allocates each 16-byte aligned.
    pub regions: Vec<Vec<u8>>,
    /// The region the result's values are written to, `result_len` values of `result_elem`.
    pub output_values: usize,
    /// The region the result's validity bitmap is written to (empty if it cannot be null).
    pub output_bitmap: usize,
    pub result_len: usize,
    pub result_elem: Elem,
    pub result_nullable: bool,
}

/// The argument block [`super::NativeKernel::run`] builds for these inputs, as an image.
/// `inputs` are in slot order and checked against the plan, as for `run`.
pub(crate) fn argument_image(
    plan: &LoopPlan,
    inputs: &[Binding<'_>],
    rows: usize,
    len: usize,
) -> ArgumentImage {
    let layout = ArgLayout::of(plan);
    let mut words = vec![ArgumentWord::Value(0); layout.total_words()];
    let mut regions: Vec<Vec<u8>> = Vec::new();
    let mut region = |bytes: Vec<u8>| {
        regions.push(bytes);
        ArgumentWord::Address { region: regions.len() - 1, offset: 0 }
    };
    let result_elem = plan.program.result_type().elem;
    let result_nullable = plan.result_nullable();
    words[layout::ROWS] = ArgumentWord::Value(rows as u64);
    words[layout::OUT_VALUES] = region(vec![0; len * element_size(result_elem)]);
    words[layout::OUT_BITMAP] = region(vec![0; if result_nullable { len.div_ceil(8) } else { 0 }]);
    for (slot, binding) in inputs.iter().enumerate() {
        match binding {
            Binding::Column(column) => {
                words[layout.input(slot, InputWord::Data)] = region(layout::column_bytes(column.data));
                words[layout.input(slot, InputWord::DataBitOffset)] =
                    ArgumentWord::Value(layout::column_bit_offset(column.data));
                if let Some(validity) = column.validity {
                    words[layout.input(slot, InputWord::Validity)] = region(validity.bytes.to_vec());
                    words[layout.input(slot, InputWord::Offset)] =
                        ArgumentWord::Value(validity.offset as u64);
                }
            }
            Binding::Scalar(scalar) => {
                words[layout.input(slot, InputWord::Scalar)] =
                    ArgumentWord::Value(layout::scalar_word(*scalar));
                words[layout.input(slot, InputWord::Validity)] = ArgumentWord::Value(1);
            }
            Binding::NullScalar(_) => {
                words[layout.input(slot, InputWord::Scalar)] = ArgumentWord::Value(0);
                words[layout.input(slot, InputWord::Validity)] = ArgumentWord::Value(0);
            }
        }
    }
    // The scratch: one region laid out as `run` lays out its per-thread buffer.
    let scratch = regions.len();
    regions.push(vec![0; scratch_words(plan, rows) * 8]);
    words[layout::OUT_VALID_BLOCK] = ArgumentWord::Address { region: scratch, offset: 0 };
    // The whole column: FIRST_ROW and WRITE_FROM stay 0, so DISCARD is never written.
    let validity_block = crate::passes::fuse_loops::BLOCK_ROWS.div_ceil(8);
    words[layout::DISCARD] = ArgumentWord::Address { region: scratch, offset: validity_block * 8 };
    let mut next = validity_block + DISCARD_WORDS;
    for (index, buffer) in plan.buffers.iter().enumerate() {
        let (halo, values, validity) = buffer_region(plan, buffer, rows);
        words[layout.buffer(index, BufferWord::Values)] =
            ArgumentWord::Address { region: scratch, offset: next * 8 };
        words[layout.buffer(index, BufferWord::Validity)] =
            ArgumentWord::Address { region: scratch, offset: (next + values) * 8 };
        words[layout.buffer(index, BufferWord::Halo)] = ArgumentWord::Value(halo as u64);
        next += values + validity;
    }
    ArgumentImage {
        words,
        regions,
        output_values: 0,
        output_bitmap: 1,
        result_len: len,
        result_elem,
        result_nullable,
    }
}
