//! Native code: compiles a loop plan to machine code with Cranelift and runs it.
//!
//! [`Compiler`] is the one owner of Cranelift's reusable state (the ISA, a `codegen::Context`
//! and a `FunctionBuilderContext`). Each kernel gets its own `JITModule`, so that dropping the
//! last handle to a [`NativeKernel`] frees its code (`JITModule::free_memory`).
//! Steps are separate: build CLIF ([`translate`]) → verify (when asked) → compile.
//!
//! Architecture Invariant: codegen reads loop plans and the IR; nothing upstream knows about
//! Cranelift.

pub mod emitted_runtime;
pub mod layout;
pub mod object;
pub mod translate;

use crate::column::{Binding, ColumnData};
use crate::ir::column_semantics::{ReduceState, ScanState};
use crate::ir::{Elem, Shape};
use crate::passes::fuse_loops::{BLOCK_ROWS, LoopPlan};
use crate::runtime::math::{self, Isa};
use crate::runtime::stubs;
use cranelift_codegen::ir::{AbiParam, UserFuncName, types};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, verify_function};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};
use std::sync::Mutex;

/// What a compile can show besides the code itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Listings {
    pub clif: bool,
    pub asm: bool,
}

/// Compiled code for one loop plan, and the texts asked for.
pub struct NativeKernel {
    /// Held only to free the code when the kernel is dropped; never used to compile again.
    module: Mutex<Option<JITModule>>,
    entry: unsafe extern "C" fn(*const u64),
    pub clif: Option<String>,
    pub asm: Option<String>,
}

impl std::fmt::Debug for NativeKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeKernel").field("entry", &(self.entry as *const u8)).finish_non_exhaustive()
    }
}

impl Drop for NativeKernel {
    fn drop(&mut self) {
        let module = self.module.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(module) = module {
            // SAFETY: the kernel is being dropped, so no thread is executing its code (every
            // call borrows the kernel) and its entry pointer is never called again.
            unsafe { module.free_memory() };
        }
    }
}

/// The owner of Cranelift's reusable state.
pub struct Compiler {
    isa: OwnedTargetIsa,
    /// The tier of the `ln`/`exp` block functions compiled kernels call.
    math: Isa,
    context: Context,
    builder_context: FunctionBuilderContext,
    /// Run Cranelift's verifier on every function (tests and debug builds; ~40 µs a kernel).
    pub verify: bool,
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
    pub fn for_host(math: Isa) -> Result<Compiler, String> {
        let mut flags = settings::builder();
        let set = |flags: &mut settings::Builder, name: &str, value: &str| {
            flags.set(name, value).map_err(|error| format!("cranelift setting {name}: {error}"))
        };
        set(&mut flags, "opt_level", "speed")?;
        set(&mut flags, "is_pic", "false")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "enable_verifier", "false")?;
        let isa_builder = cranelift_native::builder().map_err(|error| format!("host ISA: {error}"))?;
        let isa =
            isa_builder.finish(settings::Flags::new(flags)).map_err(|error| format!("host ISA: {error}"))?;
        Ok(Compiler {
            isa,
            math,
            context: Context::new(),
            builder_context: FunctionBuilderContext::new(),
            verify: cfg!(debug_assertions),
        })
    }

    pub fn isa_name(&self) -> String {
        format!("{} {}", self.isa.triple(), self.isa.name())
    }

    /// Compiles `plan`. A panic inside Cranelift is caught and reported as an error.
    pub fn compile(&mut self, plan: &LoopPlan, listings: Listings) -> Result<NativeKernel, String> {
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.compile_inner(plan, listings)));
        match outcome {
            Ok(result) => result,
            Err(panic) => {
                // The contexts may hold a half-built function: start the next compile clean.
                self.context = Context::new();
                self.builder_context = FunctionBuilderContext::new();
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_else(|| "unknown panic".to_string());
                Err(format!("cranelift panicked: {message}"))
            }
        }
    }

    fn compile_inner(&mut self, plan: &LoopPlan, listings: Listings) -> Result<NativeKernel, String> {
        let mut jit_builder = JITBuilder::with_isa(self.isa.clone(), default_libcall_names());
        for (name, pointer) in stubs::symbols() {
            jit_builder.symbol(name, pointer);
        }
        let (ln, exp) = self.math.f64_blocks();
        jit_builder.symbol("fusejit_scan_block", scan_block as *const u8);
        jit_builder.symbol("fusejit_reduce_block", reduce_block as *const u8);
        jit_builder.symbol("fusejit_ln_f64_block", ln as *const u8);
        jit_builder.symbol("fusejit_exp_f64_block", exp as *const u8);
        let mut module = JITModule::new(jit_builder);
        let call_conv = self.isa.default_call_conv();
        let error = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");

        let block_signature = translate::block_stub_signature(call_conv);
        let pack_signature = translate::pack_validity_signature(call_conv);
        let mut declare = |name: &str, signature: &cranelift_codegen::ir::Signature| {
            module.declare_function(name, Linkage::Import, signature).map_err(|e| error("declare stub", &e))
        };
        let ln_f64 = declare("fusejit_ln_f64_block", &block_signature)?;
        let exp_f64 = declare("fusejit_exp_f64_block", &block_signature)?;
        let ln_f32 = declare("fusejit_ln_f32_block", &block_signature)?;
        let exp_f32 = declare("fusejit_exp_f32_block", &block_signature)?;
        let shift_halo = declare("fusejit_shift_halo", &block_signature)?;
        let pack_validity = declare("fusejit_pack_validity", &pack_signature)?;
        let combine_validity = declare("fusejit_combine_validity", &pack_signature)?;
        let scan_block_id = declare("fusejit_scan_block", &translate::scan_block_signature(call_conv))?;
        let reduce_block_id = declare("fusejit_reduce_block", &pack_signature)?;

        let mut signature = module.make_signature();
        signature.params.push(AbiParam::new(types::I64));
        let kernel_id = module
            .declare_function("fusejit_kernel", Linkage::Local, &signature)
            .map_err(|e| error("declare kernel", &e))?;

        self.context.clear();
        self.context.func.signature = signature;
        self.context.func.name = UserFuncName::user(0, kernel_id.as_u32());
        {
            let mut import = |id| module.declare_func_in_func(id, &mut self.context.func);
            let stubs = translate::StubRefs {
                ln_f64: import(ln_f64),
                exp_f64: import(exp_f64),
                ln_f32: import(ln_f32),
                exp_f32: import(exp_f32),
                shift_halo: import(shift_halo),
                pack_validity: import(pack_validity),
                combine_validity: import(combine_validity),
                scan_block: Some(import(scan_block_id)),
                reduce_block: Some(import(reduce_block_id)),
            };
            let builder =
                cranelift_frontend::FunctionBuilder::new(&mut self.context.func, &mut self.builder_context);
            translate::Translator::translate(plan, builder, stubs, self.isa.frontend_config());
        }
        if self.verify {
            verify_function(&self.context.func, self.isa.as_ref())
                .map_err(|errors| format!("cranelift verifier: {errors}"))?;
        }
        let clif = listings.clif.then(|| self.context.func.display().to_string());
        self.context.set_disasm(listings.asm);
        module.define_function(kernel_id, &mut self.context).map_err(|e| format!("compile: {e:?}"))?;
        let asm = if listings.asm {
            self.context.compiled_code().and_then(|code| code.vcode.clone())
        } else {
            None
        };
        module.clear_context(&mut self.context);
        module.finalize_definitions().map_err(|e| error("finalize", &e))?;
        let code = module.get_finalized_function(kernel_id);
        // SAFETY: `code` is the finalized entry of a function declared with the signature
        // `fn(i64)` in the host's default calling convention, which is `extern "C"` on every
        // host Cranelift supports; the module that owns it lives as long as the NativeKernel.
        let entry = unsafe { std::mem::transmute::<*const u8, unsafe extern "C" fn(*const u64)>(code) };
        Ok(NativeKernel { module: Mutex::new(Some(module)), entry, clif, asm })
    }
}

/// Compiles the traced `ln`/`exp` block functions (`emitted_runtime`, `f64x2`) for the host
/// once and installs them as the `traced` math tier. Their code lives for the rest of the
/// process (the module is leaked on purpose: installed function pointers never dangle).
/// Fails where the host's Cranelift backend cannot compile them (x86-64 without FMA).
pub fn install_traced_math() -> Result<(), String> {
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(compile_traced_math).clone()
}

fn compile_traced_math() -> Result<(), String> {
    use emitted_runtime::RuntimeFunction;
    let outcome = std::panic::catch_unwind(|| -> Result<(), String> {
        let mut compiler = Compiler::for_host(Isa::Scalar)?;
        let module_builder = JITBuilder::with_isa(compiler.isa.clone(), default_libcall_names());
        let mut module = JITModule::new(module_builder);
        let call_conv = compiler.isa.default_call_conv();
        let signature = translate::block_stub_signature(call_conv);
        let mut ids = Vec::new();
        for (function, name) in [
            (RuntimeFunction::LnF64Block, "fusejit_traced_ln"),
            (RuntimeFunction::ExpF64Block, "fusejit_traced_exp"),
        ] {
            let id = module
                .declare_function(name, Linkage::Local, &signature)
                .map_err(|error| format!("declare {name}: {error}"))?;
            compiler.context.clear();
            compiler.context.func.signature = signature.clone();
            compiler.context.func.name = UserFuncName::user(0, id.as_u32());
            let builder = cranelift_frontend::FunctionBuilder::new(
                &mut compiler.context.func,
                &mut compiler.builder_context,
            );
            emitted_runtime::emit(function, builder, compiler.isa.frontend_config());
            verify_function(&compiler.context.func, compiler.isa.as_ref())
                .map_err(|errors| format!("cranelift verifier on {name}: {errors}"))?;
            module
                .define_function(id, &mut compiler.context)
                .map_err(|error| format!("compile {name}: {error:?}"))?;
            module.clear_context(&mut compiler.context);
            ids.push(id);
        }
        module.finalize_definitions().map_err(|error| format!("finalize: {error}"))?;
        // SAFETY: each pointer is the finalized entry of a function declared with the block
        // signature `fn(i64, i64, i64)` in the host's default calling convention (`extern
        // "C"`), which is `BlockFn`'s ABI for pointers and a `usize`; the module is leaked
        // below, so the code lives as long as the process.
        let (ln, exp) = unsafe {
            (
                std::mem::transmute::<*const u8, math::BlockFn>(module.get_finalized_function(ids[0])),
                std::mem::transmute::<*const u8, math::BlockFn>(module.get_finalized_function(ids[1])),
            )
        };
        std::mem::forget(module);
        math::install_traced_blocks(ln, exp);
        Ok(())
    });
    outcome.unwrap_or_else(|_| Err("cranelift panicked compiling the traced math".into()))
}

/// The names of the runtime functions a kernel imports, in the order `StubRefs` lists them.
const STUB_NAMES: [&str; 9] = [
    "fusejit_ln_f64_block",
    "fusejit_exp_f64_block",
    "fusejit_ln_f32_block",
    "fusejit_exp_f32_block",
    "fusejit_shift_halo",
    "fusejit_pack_validity",
    "fusejit_combine_validity",
    "fusejit_scan_block",
    "fusejit_reduce_block",
];

/// The CLIF and machine code of `plan` compiled for another target (`aarch64`, or any
/// target triple Cranelift was built for), without running it: `--emit clif|asm --target`.
/// Runtime functions appear as `userextname0..8` in `STUB_NAMES` order (listed on top).
pub fn cross_listing(plan: &LoopPlan, target: &str) -> Result<(String, String), String> {
    use cranelift_codegen::ir::{ExtFuncData, ExternalName, Function, Signature, UserExternalName};
    let isa = object::target_isa(target)?;
    let call_conv = isa.default_call_conv();
    let mut signature = Signature::new(call_conv);
    signature.params.push(AbiParam::new(types::I64));
    let mut function = Function::with_name_signature(UserFuncName::user(0, 0), signature);
    let mut refs = Vec::new();
    for (index, name) in STUB_NAMES.iter().enumerate() {
        let four_words = ["fusejit_pack_validity", "fusejit_combine_validity", "fusejit_reduce_block"];
        let stub_signature = if four_words.contains(name) {
            translate::pack_validity_signature(call_conv)
        } else if *name == "fusejit_scan_block" {
            translate::scan_block_signature(call_conv)
        } else {
            translate::block_stub_signature(call_conv)
        };
        let signature = function.import_signature(stub_signature);
        let user = function.declare_imported_user_function(UserExternalName::new(1, index as u32));
        refs.push(function.import_function(ExtFuncData {
            name: ExternalName::user(user),
            signature,
            colocated: false,
            patchable: false,
        }));
    }
    let stubs = translate::StubRefs {
        ln_f64: refs[0],
        exp_f64: refs[1],
        ln_f32: refs[2],
        exp_f32: refs[3],
        shift_halo: refs[4],
        pack_validity: refs[5],
        combine_validity: refs[6],
        scan_block: Some(refs[7]),
        reduce_block: Some(refs[8]),
    };
    let mut builder_context = FunctionBuilderContext::new();
    let builder = cranelift_frontend::FunctionBuilder::new(&mut function, &mut builder_context);
    translate::Translator::translate(plan, builder, stubs, isa.frontend_config());
    verify_function(&function, isa.as_ref()).map_err(|errors| format!("cranelift verifier: {errors}"))?;
    let clif = function.display().to_string();
    let mut context = Context::for_function(function);
    context.set_disasm(true);
    let compiled = context
        .compile(isa.as_ref(), &mut cranelift_codegen::control::ControlPlane::default())
        .map_err(|error| format!("compile for {target}: {:?}", error.inner))?;
    let mut asm = format!("; {} code; runtime functions:", isa.triple());
    for (index, name) in STUB_NAMES.iter().enumerate() {
        asm.push_str(&format!(" userextname{index} = {name};"));
    }
    asm.push('\n');
    asm.push_str(compiled.vcode.as_deref().unwrap_or(""));
    Ok((clif, asm))
}

/// Where a native kernel writes its result.
pub struct OutputTarget<'a> {
    /// Room for at least `len` values of the result's element type.
    pub values: *mut u8,
    /// Room for at least `len.div_ceil(8)` bytes.
    pub bitmap: &'a mut [u8],
}

/// Per-thread memory a kernel call needs, reused across calls so that evaluation allocates
/// nothing once warmed up: the argument block, and the block buffers.
#[derive(Default)]
struct Scratch {
    words: Vec<u64>,
    buffers: Vec<u64>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl NativeKernel {
    /// Runs the kernel over `inputs` (in slot order) with `rows` rows, writing `len` results
    /// (`rows`, or 1 for a scalar result).
    ///
    /// # Safety
    /// The caller has checked, for this kernel's plan, that every input binding has the
    /// planned type, that every column has `rows` values, that a column's validity is present
    /// exactly when the plan says so and covers `offset + rows` bits, and that `out.values`
    /// has room for `len` values of the result's element type. `extra_outputs` holds one
    /// target per `plan.extra_outputs` node, each with room for `rows` values of that node's
    /// type and, when the node is nullable, `rows` bits.
    pub unsafe fn run(
        &self,
        plan: &LoopPlan,
        inputs: &[Binding<'_>],
        rows: usize,
        out: OutputTarget<'_>,
        extra_outputs: &mut [OutputTarget<'_>],
    ) {
        // SAFETY: forwarded from the caller; no reduction state for a plan that writes.
        unsafe { self.call(plan, inputs, rows, out, extra_outputs, None) }
    }

    /// Runs a `plan_reduction` plan: its result feeds its reductions block by block and is
    /// written nowhere. Returns the reductions' values (`ReduceState::finish`).
    ///
    /// # Safety
    /// As [`NativeKernel::run`] for the inputs; the plan must reduce its result.
    pub unsafe fn run_reduction(
        &self,
        plan: &LoopPlan,
        inputs: &[Binding<'_>],
        rows: usize,
    ) -> Vec<Option<f64>> {
        let elem = plan.program.result_type().elem;
        let mut state = ReduceCallState { reduce: ReduceState::new(&plan.reduce_result), elem };
        let out = OutputTarget { values: std::ptr::null_mut(), bitmap: &mut [] };
        // SAFETY: forwarded from the caller; a reducing plan never writes `out` (it has no
        // result stage write and no extra outputs), and `state` outlives the call.
        unsafe { self.call(plan, inputs, rows, out, &mut [], Some(&mut state)) };
        state.reduce.finish()
    }

    /// # Safety
    /// As [`NativeKernel::run`]; `reduce` is present exactly when the plan reduces its result.
    unsafe fn call(
        &self,
        plan: &LoopPlan,
        inputs: &[Binding<'_>],
        rows: usize,
        out: OutputTarget<'_>,
        extra_outputs: &mut [OutputTarget<'_>],
        reduce: Option<&mut ReduceCallState>,
    ) {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let Scratch { words, buffers } = &mut *scratch;
            let input_count = plan.program.inputs.len();
            words.clear();
            let extra_count = plan.extra_outputs.len();
            let state_words = plan.scans.len() + usize::from(reduce.is_some());
            words.resize(layout::total_words(input_count, plan.buffers.len(), extra_count, state_words), 0);
            if let Some(reduce) = reduce {
                words[layout::scan_state_word(
                    input_count,
                    plan.buffers.len(),
                    extra_count,
                    plan.scans.len(),
                )] = std::ptr::from_mut(reduce) as u64;
            }
            // Each scan's running state lives for this call (allocated only by programs with
            // scans); the kernel carries it from block to block.
            let mut scan_states: Vec<ScanCallState> = plan
                .scans
                .iter()
                .map(|(node, op)| ScanCallState {
                    scan: ScanState::new(*op),
                    elem: plan.program.node(*node).ty.elem,
                })
                .collect();
            for (index, state) in scan_states.iter_mut().enumerate() {
                words[layout::scan_state_word(input_count, plan.buffers.len(), extra_count, index)] =
                    std::ptr::from_mut(state) as u64;
            }
            for (index, extra) in extra_outputs.iter_mut().enumerate().take(plan.extra_outputs.len()) {
                let word = |field| layout::extra_output_word(input_count, plan.buffers.len(), index, field);
                words[word(layout::EXTRA_VALUES)] = extra.values as u64;
                words[word(layout::EXTRA_BITMAP)] = extra.bitmap.as_mut_ptr() as u64;
            }
            words[layout::ROWS] = rows as u64;
            words[layout::OUT_VALUES] = out.values as u64;
            words[layout::OUT_BITMAP] = out.bitmap.as_mut_ptr() as u64;
            for (slot, binding) in inputs.iter().enumerate() {
                match binding {
                    Binding::Column(column) => {
                        words[layout::input_word(slot, layout::INPUT_DATA)] = match column.data {
                            ColumnData::F64(values) => values.as_ptr() as u64,
                            ColumnData::F32(values) => values.as_ptr() as u64,
                            ColumnData::Bool(values) => values.as_ptr() as u64,
                        };
                        if let Some(validity) = column.validity {
                            words[layout::input_word(slot, layout::INPUT_VALIDITY)] =
                                validity.bytes.as_ptr() as u64;
                            words[layout::input_word(slot, layout::INPUT_OFFSET)] = validity.offset as u64;
                        }
                    }
                    Binding::Scalar(scalar) => {
                        words[layout::input_word(slot, layout::INPUT_SCALAR)] = match scalar {
                            crate::column::Scalar::F64(v) => v.to_bits(),
                            crate::column::Scalar::F32(v) => u64::from(v.to_bits()),
                            crate::column::Scalar::Bool(v) => u64::from(*v),
                        };
                    }
                }
            }
            let total = scratch_words(plan, rows);
            if buffers.len() < total {
                buffers.resize(total, 0);
            }
            let base = buffers.as_mut_ptr();
            words[layout::OUT_VALID_BLOCK] = base as u64;
            let mut next = BLOCK_ROWS.div_ceil(8);
            for (index, buffer) in plan.buffers.iter().enumerate() {
                let (halo, values, validity) = buffer_region(plan, buffer, rows);
                // SAFETY: `next + values + validity <= total`, all within the scratch just sized.
                let (values_ptr, validity_ptr) = unsafe { (base.add(next), base.add(next + values)) };
                next += values + validity;
                words[layout::buffer_word(input_count, index, layout::BUFFER_VALUES)] = values_ptr as u64;
                words[layout::buffer_word(input_count, index, layout::BUFFER_VALIDITY)] = validity_ptr as u64;
                words[layout::buffer_word(input_count, index, layout::BUFFER_HALO)] = halo as u64;
            }
            // SAFETY: the caller guarantees inputs and outputs match the plan; the scratch
            // regions are sized for `halo + BLOCK_ROWS` rows each, which is all the code
            // touches; the code lives as long as `self`.
            unsafe { (self.entry)(words.as_ptr()) };
            // A long lag over a huge column can need a large halo; do not keep that much
            // memory per thread after the call.
            if buffers.len() > MAX_RETAINED_SCRATCH_WORDS {
                *buffers = Vec::new();
            }
        });
    }
}

/// One buffer's scratch for a call over `rows` rows: the halo actually used
/// (`min(planned halo, rows)`), then the words of its values and of its validity bytes, each
/// `halo + BLOCK_ROWS` rows (validity only if the buffer can be null).
fn buffer_region(
    plan: &LoopPlan,
    buffer: &crate::passes::fuse_loops::Buffer,
    rows: usize,
) -> (usize, usize, usize) {
    let halo = (buffer.halo as usize).min(rows);
    let elem = plan.program.node(buffer.node).ty.elem;
    let values = ((halo + BLOCK_ROWS) * element_size(elem)).div_ceil(8);
    let validity = if buffer.nullable { (halo + BLOCK_ROWS).div_ceil(8) } else { 0 };
    (halo, values, validity)
}

/// The scratch a call needs, in u64 words (8-byte aligned regions): one validity byte per
/// block row for the result first, then each buffer's region ([`buffer_region`]).
fn scratch_words(plan: &LoopPlan, rows: usize) -> usize {
    BLOCK_ROWS.div_ceil(8)
        + plan
            .buffers
            .iter()
            .map(|buffer| {
                let (_, values, validity) = buffer_region(plan, buffer, rows);
                values + validity
            })
            .sum::<usize>()
}

/// A scan's running state as a kernel sees it: the state and the element type of the values
/// (the operand's, which is the scan's).
struct ScanCallState {
    scan: ScanState,
    elem: Elem,
}

/// `fusejit_scan_block`: advances a scan by one block. Values are `f64` or `f32` (by the
/// state's element type), `source` may equal `destination` (each row is read before it is
/// written), and `validity` — one 0/1 byte per row, or null when nothing can be null — holds
/// the operand's validity on entry and the result's on return.
///
/// # Safety
/// `state` points to a live `ScanCallState` no other thread uses; `source` is readable and
/// `destination` writable for `len` values of its element type; `validity`, unless null, is
/// readable and writable for `len` bytes.
unsafe extern "C" fn scan_block(
    state: *mut ScanCallState,
    source: *const u8,
    destination: *mut u8,
    validity: *mut u8,
    len: usize,
) {
    // SAFETY: the caller guarantees a live, unshared state.
    let state = unsafe { &mut *state };
    // Results go to a local chunk first and are copied out after: writes through the raw
    // destination pointer could alias the state as far as the optimiser knows, and would
    // keep the running sums out of registers.
    const CHUNK: usize = 256;
    let mut values = [0.0f64; CHUNK];
    let mut valid = [false; CHUNK];
    let mut done = 0;
    while done < len {
        let count = (len - done).min(CHUNK);
        let is_valid = |i: usize| {
            // SAFETY: `validity` is readable for `len` bytes and `done + i < len`.
            validity.is_null() || (unsafe { *validity.add(done + i) } & 1) == 1
        };
        let put = |i: usize, value: Option<f64>| {
            values[i] = value.unwrap_or(0.0);
            valid[i] = value.is_some();
        };
        match (state.elem, validity.is_null()) {
            (Elem::F32, _) => {
                let source = source.cast::<f32>();
                // SAFETY: `source` is readable for `len` f32s and `done + i < len`.
                let get = |i: usize| {
                    is_valid(i).then(|| f64::from(unsafe { source.add(done + i).read_unaligned() }))
                };
                state.scan.feed(count, get, put);
                for (i, value) in values[..count].iter().enumerate() {
                    // SAFETY: `destination` is writable for `len` f32s and `done + i < len`.
                    unsafe { destination.cast::<f32>().add(done + i).write_unaligned(*value as f32) };
                }
            }
            (_, true) => {
                // Every row valid: a closure that always answers `Some` lets the optimiser drop
                // the null handling from the scan's inner loop.
                let source = source.cast::<f64>();
                // SAFETY: `source` is readable for `len` f64s and `done + i < len`.
                let get = |i: usize| Some(unsafe { source.add(done + i).read_unaligned() });
                state.scan.feed(count, get, |i, value: Option<f64>| values[i] = value.unwrap_or(0.0));
                // SAFETY: as below.
                unsafe {
                    std::ptr::copy_nonoverlapping(values.as_ptr(), destination.cast::<f64>().add(done), count)
                };
            }
            (_, false) => {
                let source = source.cast::<f64>();
                // SAFETY: `source` is readable for `len` f64s and `done + i < len`.
                let get = |i: usize| is_valid(i).then(|| unsafe { source.add(done + i).read_unaligned() });
                state.scan.feed(count, get, put);
                // SAFETY: `destination` is writable for `len` f64s and `done + count <= len`;
                // `values` is a local array, so the ranges do not overlap.
                unsafe {
                    std::ptr::copy_nonoverlapping(values.as_ptr(), destination.cast::<f64>().add(done), count)
                };
            }
        }
        if !validity.is_null() {
            for (i, &is_valid) in valid[..count].iter().enumerate() {
                // SAFETY: `validity` is writable for `len` bytes and `done + i < len`.
                unsafe { *validity.add(done + i) = u8::from(is_valid) };
            }
        }
        done += count;
    }
}

/// A reduction's running state as a kernel sees it, with the element type of the values.
struct ReduceCallState {
    reduce: ReduceState,
    elem: Elem,
}

/// `fusejit_reduce_block`: feeds one block of values (`f64` or `f32` by the state's element
/// type) to a set of reductions; `validity` is one 0/1 byte per row, or null when all rows
/// are valid.
///
/// # Safety
/// `state` points to a live `ReduceCallState` no other thread uses; `values` is readable for
/// `len` values of its element type; `validity`, unless null, is readable for `len` bytes.
unsafe extern "C" fn reduce_block(
    state: *mut ReduceCallState,
    values: *const u8,
    validity: *const u8,
    len: usize,
) {
    // SAFETY: the caller guarantees a live, unshared state.
    let state = unsafe { &mut *state };
    let is_valid = |i: usize| {
        // SAFETY: `validity` is readable for `len` bytes and `i < len`.
        validity.is_null() || (unsafe { *validity.add(i) } & 1) == 1
    };
    match state.elem {
        Elem::F32 => {
            let values = values.cast::<f32>();
            // SAFETY: `values` is readable for `len` f32s and `i < len`.
            state
                .reduce
                .feed(len, |i| is_valid(i).then(|| f64::from(unsafe { values.add(i).read_unaligned() })));
        }
        Elem::Bool => {
            // SAFETY: `values` is readable for `len` bytes and `i < len`.
            state.reduce.feed(len, |i| is_valid(i).then(|| f64::from(unsafe { *values.add(i) } & 1)));
        }
        Elem::F64 => {
            let values = values.cast::<f64>();
            // SAFETY: `values` is readable for `len` f64s and `i < len`.
            state.reduce.feed(len, |i| is_valid(i).then(|| unsafe { values.add(i).read_unaligned() }));
        }
    }
}

/// Scratch above this many words (32 MiB) is freed after the call instead of kept for reuse.
const MAX_RETAINED_SCRATCH_WORDS: usize = 4 << 20;

fn element_size(elem: Elem) -> usize {
    match elem {
        Elem::F64 => 8,
        Elem::F32 => 4,
        Elem::Bool => 1,
    }
}

/// Whether the plan's result is a scalar (one output row).
pub fn result_is_scalar(plan: &LoopPlan) -> bool {
    plan.program.result_type().shape == Shape::Scalar
}
