//! Fusion: turns the optimised IR into a loop plan — one strip-mined loop over blocks of rows,
//! in which every elementwise node between two block calls runs in one fused row loop.
//!
//! The plan decides:
//! - which nodes are scalars, computed once before the loop (loop-invariant);
//! - the stages of each block: fused row loops, separated by block calls for `ln`/`exp`
//!   (the runtime's vector stubs run once per block, never once per row);
//! - which values are kept in a per-block buffer: those a later stage reads, those a block
//!   call reads, and those read through a lag — with a halo of the largest lag, so that a lag
//!   of a computed value (`dlog(dlog(x,1),5)`) reads rows of earlier blocks;
//! - which values can be null (statically, from which inputs carry a bitmap), so that no
//!   validity is computed where none can be false and the result says "all valid".
//!
//! Lags are never materialised: a lagged read of an input reads the input `k` rows back, and a
//! lagged read of a computed value reads its buffer's halo. So each input is read once per row,
//! and `dlog(x,k)` calls `ln` once per row whatever `k` is.

use crate::ir::column_semantics::{REDUCE_GROUP_ROWS, WINDOW_SUM_GROUP_BLOCKS};
use crate::ir::{BinaryOp, Elem, NodeId, NodeKind, Program, ReduceOp, ScanOp, Shape, UnaryOp};
use crate::math::{BinaryMathFunction, MathFunction};
use std::fmt::Write as _;

/// Rows per block: a block's buffers stay in L1 while the stages run over it.
pub const BLOCK_ROWS: usize = 512;

/// Euclid's: `block_alignment`'s least common multiples.
fn greatest_common_divisor(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A buffer whose halo (its longest lag) is longer than this keeps its rows in a segment
/// of [`long_halo_segment`] rows after the halo, moving its last `halo` rows to the front only
/// when the segment is full, instead of after every block: moving a 300 000-row halo per
/// 512-row block cost 4.7 KB of copying per row.
pub const LONG_HALO_ROWS: u64 = BLOCK_ROWS as u64;

/// The rows after the halo of a long-halo buffer ([`LONG_HALO_ROWS`]) whose lags reach back
/// `halo` rows: four halos, and at least 64 blocks, so the halo moves once per ≥ 4·halo rows.
pub const fn long_halo_segment(halo: usize) -> usize {
    let blocks = 64 * BLOCK_ROWS;
    if 4 * halo > blocks { 4 * halo } else { blocks }
}

/// One stage of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// A fused row loop computing these nodes, in order, and its `f64x2` form if it has one.
    Loop { nodes: Vec<NodeId>, vector: Option<VectorForm> },
    /// One runtime call over the whole block: a math function of the node's operands.
    BlockCall { node: NodeId, function: BlockFunction },
    /// One runtime call over the whole block that advances a scan (window, cumulative op,
    /// `ema`) by the block's rows, its running state (`LoopPlan::scans[state]`) carried from
    /// block to block.
    ScanCall { node: NodeId, state: usize },
}

/// The SIMD form of a row loop (`f64x2`, `f32x4`, `i64x2` or `i32x4`): blocks starting at or after `from_row` (the farthest lag the
/// loop reads, so no read is before row 0) compute values two rows per lane group, unrolled,
/// with a scalar tail. Values are computed for every row, null or not; validity is computed
/// apart, a block at a time, by combining the validity of what each value reads. A value
/// that depends on validity (`fill`, `is_null`, `is_valid`) reads its operand's validity as
/// lane masks, combined a block at a time before the loop (`masks`); a value whose validity
/// no AND of sources gives (a `where` with a nullable arm, Kleene logic, a `fill` with a
/// nullable fallback) has it computed in the loop (`selected`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorForm {
    /// The loop's lane type (`f64x2`, `f32x4`, `i64x2` or `i32x4`), that of its first
    /// number: every number it computes or reads has lanes of this width (f64 and i64 mix,
    /// as f32 and i32 do, bridged by comparisons' masks).
    pub elem: Elem,
    pub from_row: u64,
    pub validity: Vec<ValidityTarget>,
    pub masks: Vec<LaneMask>,
    pub selected: Vec<SelectedValidity>,
    /// Each bit-packed bool column the loop reads as lane masks, with its lag (rows back):
    /// its bits unpacked into 0/1 bytes of a block-sized slot before the loop, which the
    /// loop reads as it reads a bool column of a byte a row.
    pub packed_bools: Vec<(NodeId, u64)>,
}

/// The most block-sized validity slots ([`VectorForm::validity_slots`]) the vector forms of
/// one kernel may use: `BLOCK_ROWS` bytes each in the kernel's stack frame, so at most 32 KiB
/// in all — a frame any thread's stack holds (a program of thousands of nullable `where`s
/// would otherwise ask for megabytes). The loops past it run in their row form.
pub const MAX_VECTOR_VALIDITY_SLOTS: usize = 64;

impl VectorForm {
    /// How many block-sized stack slots of validity bytes the loop uses, at most: one per
    /// distinct list of sources its lane masks read, and per selected value its own and one
    /// for each operand's sources.
    pub fn validity_slots(&self) -> usize {
        let mut lists: Vec<&[(NodeId, u64)]> = self.masks.iter().map(|mask| &mask.sources[..]).collect();
        lists.sort();
        lists.dedup();
        lists.len() + 3 * self.selected.len() + self.packed_bools.len()
    }
}

/// A value of a vector loop whose validity is no AND of sources, which the loop therefore
/// computes: a `where` with an arm that can be null (null where its condition is, else where
/// the chosen arm is), Kleene `and`/`or` with an operand that can be null (a valid operand
/// can decide: false for `and`, true for `or`), or a `fill` whose fallback can be null (null
/// where both are). Its operands' validity is read as 0/1 bytes
/// for an iteration's rows — combined before the loop like a [`LaneMask`]'s, ANDed with the
/// bytes the loop computed for an earlier such value of the same row — and the iteration's
/// lane masks narrowed to a byte a row; the result goes to a block-sized slot. The value's
/// validity sources are then `(node, 0)`, which stands for that slot (with the condition's,
/// for a `where`): every validity that reads the value ANDs it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedValidity {
    pub node: NodeId,
    pub choice: ValidityChoice,
}

/// How a [`SelectedValidity`] value's validity follows from its operands'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidityChoice {
    /// `where`: the condition's lanes choose between the arms' validity.
    Where { then: ArmValidity, otherwise: ArmValidity },
    /// `and` (`BinaryOp::And`) or `or`: valid where both operands are, or where a valid one
    /// is false (`and`) or true (`or`).
    Kleene { op: BinaryOp, lhs: ArmValidity, rhs: ArmValidity },
    /// `fill` with a fallback that can be null: valid where either is.
    Fill { value: ArmValidity, fallback: ArmValidity },
}

/// The validity of one operand of a [`SelectedValidity`] value, as the loop reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArmValidity {
    /// The AND of these `(value, rows back)` reads (none: valid wherever the operand is
    /// read): from outside the loop, or `(node, 0)` of an earlier [`SelectedValidity`] value
    /// of the loop (the bytes it computed for the same rows).
    Sources(Vec<(NodeId, u64)>),
    /// A scalar that can be null (a `null` literal, a nullable scalar input or reduction):
    /// its one flag for every row.
    Scalar(NodeId),
}

/// The validity a `fill`, `is_null` or `is_valid` node of a vector loop reads as lane masks:
/// its operand's, the AND of `sources` (`(value, rows back)` pairs from outside the loop;
/// none when the operand is never null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneMask {
    pub node: NodeId,
    pub sources: Vec<(NodeId, u64)>,
}

/// A validity the vector form must produce: a buffered node's (or, for `None`, the result's),
/// as the AND of the validity of `sources` — `(value, rows back)` pairs it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidityTarget {
    pub node: Option<NodeId>,
    pub sources: Vec<(NodeId, u64)>,
}

/// A per-block buffer holding one node's values (and validity bytes when it can be null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buffer {
    pub node: NodeId,
    /// Rows of earlier blocks kept in front of the block (the largest lag read of this node).
    /// At run time the halo is `min(halo, n)`: a lag of `n` rows or more is null everywhere.
    pub halo: u64,
    pub nullable: bool,
}

/// The function of a block call: one or two arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockFunction {
    Unary(MathFunction),
    Binary(BinaryMathFunction),
    /// IEEE division of a float column by a column or a scalar: the result's division, or
    /// one only block calls and scans read, run by a runtime loop with the host's widest
    /// vectors ([`is_wide_block`]).
    Divide,
    /// IEEE square root of a float column, where a division would be a block call
    /// ([`is_wide_block`]).
    SquareRoot,
    /// `(a − c) / d`, `a` a float column and `c`, `d` scalars: a [`BlockFunction::Divide`] by
    /// a scalar whose dividend subtracts a scalar from a column and is read by nothing else
    /// (a z-score's `(x − mean) / std`). The subtraction is folded into the call
    /// ([`centered_dividend`]): no row loop writes the dividend to a buffer for the call to
    /// read back.
    CenteredDivide,
}

impl BlockFunction {
    pub fn name(self) -> &'static str {
        match self {
            BlockFunction::Unary(function) => function.name(),
            BlockFunction::Binary(function) => function.name(),
            BlockFunction::Divide => "div",
            BlockFunction::SquareRoot => "sqrt",
            BlockFunction::CenteredDivide => "cdiv",
        }
    }
}

/// How one input slot's binding is laid out, as far as the loop's reads of it depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct InputForm {
    /// A column binding carries a validity bitmap; a scalar one may be null (the loop reads
    /// its validity flag).
    pub nullable: bool,
    /// A bool column packed one bit per row: the loop reads bits, not bytes.
    pub bit_packed: bool,
}

impl InputForm {
    /// Every slot of `forms` as nullable or not.
    pub fn nullable_slots(forms: &[InputForm]) -> Vec<bool> {
        forms.iter().map(|form| form.nullable).collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoopPlan {
    pub program: Program,
    /// Per input slot: how its binding is laid out.
    pub input_forms: Vec<InputForm>,
    /// Per node: whether any row of it can be null.
    pub nullable: Vec<bool>,
    /// Scalar nodes, computed once before the loop, in order.
    pub scalars: Vec<NodeId>,
    pub stages: Vec<Stage>,
    pub buffers: Vec<Buffer>,
    /// Per node: its buffer's index in `buffers`, if it has one.
    pub buffer_of: Vec<Option<usize>>,
    /// Per node: for a two-argument block call, the buffer its second operand is copied
    /// into when it cannot be read where it lies (a lag, a scalar).
    pub second_operand_buffer: Vec<Option<usize>>,
    /// The program's other output columns that this loop writes too, besides the result:
    /// computed (buffered) nodes, copied from their block buffers at the end of each block.
    /// Empty for a scalar result; outputs that are inputs, lags or scalars are not here.
    pub extra_outputs: Vec<NodeId>,
    /// The scan nodes, in the order of their running states (`Stage::ScanCall::state`).
    pub scans: Vec<(NodeId, ScanOp)>,
    /// When not empty, the result is not written: each block of it (from its buffer) feeds
    /// these reductions instead (the first pass of a multi-pass plan, `plan_reduction`).
    pub reduce_result: Vec<ReduceOp>,
    /// The result is a block call's or a scan's output that nothing else reads: the call
    /// writes its values straight into the output column, and the last loop, which has
    /// nothing to compute, writes only the result's validity (when it can be null).
    pub result_in_place: bool,
}

impl LoopPlan {
    pub fn result_nullable(&self) -> bool {
        self.nullable[self.program.result.index()]
    }

    /// The rows that every block of the kernel's loop but a range's first starts on a
    /// multiple of (absolute rows, as the windows' blocks are): four windows of each
    /// `msum`/`mavg`/`mstd` scan and one of each `mmin`/`mmax` (their least common multiple),
    /// so that a block call feeds whole four-block groups (`column_semantics::window_sum_groups`)
    /// and whole extreme blocks, never a window block cut by the call's edges, whose rows go
    /// one at a time; and a multiple of 8, so that a written block still starts on a bitmap
    /// byte (`runtime::stubs::pack_validity`). A loop that feeds reductions aligns to their
    /// groups of whole chunks too (`REDUCE_GROUP_ROWS`, a block) where its windows allow:
    /// a range's edges are multiples of 64 rows only, and a block fed from elsewhere
    /// reduces chunk by chunk. None without a window or a reduction, or where the windows'
    /// multiple is longer than a block.
    pub fn block_alignment(&self) -> Option<usize> {
        const BITMAP_BYTE_ROWS: usize = 8;
        let lcm = |a: usize, b: usize| a / greatest_common_divisor(a, b) * b;
        let mut alignment: Option<usize> = None;
        for &(_, op) in &self.scans {
            let group = match op {
                ScanOp::MSum { w } | ScanOp::MAvg { w } | ScanOp::MStd { w } => {
                    (w as usize).checked_mul(WINDOW_SUM_GROUP_BLOCKS)
                }
                ScanOp::MMin { w } | ScanOp::MMax { w } => Some(w as usize),
                ScanOp::CumSum | ScanOp::CumProd | ScanOp::CumMax | ScanOp::CumMin | ScanOp::Ema { .. } => {
                    continue;
                }
            };
            let group = group.filter(|&rows| rows > 0 && rows <= BLOCK_ROWS)?;
            let merged = lcm(alignment.unwrap_or(BITMAP_BYTE_ROWS), group);
            if merged > BLOCK_ROWS {
                return None;
            }
            alignment = Some(merged);
        }
        if !self.reduce_result.is_empty() {
            let merged = lcm(alignment.unwrap_or(BITMAP_BYTE_ROWS), REDUCE_GROUP_ROWS);
            if merged <= BLOCK_ROWS {
                alignment = Some(merged);
            }
        }
        alignment
    }

    /// Whether the kernel records its runtime scans' states too (`layout::SCAN_RECORDS`, after
    /// the inline scans' records, in [`LoopPlan::scans`] order): when there are some and
    /// every one is an `ema`, whose state is one value (`engine::speculated_scans`).
    pub fn records_runtime_scans(&self) -> bool {
        !self.scans.is_empty() && self.scans.iter().all(|(_, op)| matches!(op, ScanOp::Ema { .. }))
    }

    /// How many scans the kernel's records hold: its inline scans, then its runtime scans
    /// when [`LoopPlan::records_runtime_scans`].
    pub fn recorded_scans(&self) -> usize {
        let runtime = if self.records_runtime_scans() { self.scans.len() } else { 0 };
        self.inline_scans().count() + runtime
    }

    /// The scans computed inside row loops ([`is_inline_scan`]), in stage order: the order of
    /// their state slots in the kernel and of their records (`layout::SCAN_RECORDS`).
    pub fn inline_scans(&self) -> impl Iterator<Item = (NodeId, ScanOp)> + '_ {
        self.stages
            .iter()
            .filter_map(|stage| match stage {
                Stage::Loop { nodes, .. } => Some(nodes),
                Stage::BlockCall { .. } | Stage::ScanCall { .. } => None,
            })
            .flatten()
            .filter_map(|&id| match self.program.node(id).kind {
                NodeKind::Scan { op, .. } => Some((id, op)),
                _ => None,
            })
    }

    /// For a division that runs as a block call ([`BlockFunction::Divide`]) by an unlagged
    /// scalar: that scalar, which the call takes by value (no buffer of copies).
    pub fn divides_by_scalar(&self, node: NodeId) -> Option<NodeId> {
        let is_division_call =
            self.stages.contains(&Stage::BlockCall { node, function: BlockFunction::Divide });
        let NodeKind::Binary { op: BinaryOp::Div, rhs, .. } = self.program.node(node).kind else {
            return None;
        };
        (is_division_call && self.program.node(rhs).ty.shape == Shape::Scalar).then_some(rhs)
    }

    /// For a [`BlockFunction::CenteredDivide`] call at `node`: the column `a`, the subtrahend
    /// `c` and the divisor `d` of its `(a − c) / d`.
    pub fn centered_division(&self, node: NodeId) -> Option<[NodeId; 3]> {
        let is_call =
            self.stages.contains(&Stage::BlockCall { node, function: BlockFunction::CenteredDivide });
        is_call.then(|| centered_parts(&self.program, node)).flatten()
    }

    /// Follows a chain of lags to the value it reads: `(base, total rows back)`.
    pub fn resolve_lags(&self, node: NodeId) -> (NodeId, u64) {
        self.program.resolve_lags(node)
    }

    /// The stable text form (`--emit ir`, the REPL's `:ir`, fusion snapshots).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "loop over blocks of {BLOCK_ROWS} rows");
        for (slot, input) in self.program.inputs.iter().enumerate() {
            let form = self.input_forms.get(slot).copied().unwrap_or_default();
            let packed = if form.bit_packed { " bit-packed" } else { "" };
            let nullable = if form.nullable { " with validity" } else { "" };
            let _ = writeln!(out, "input {slot} `{}`: {}{packed}{nullable}", input.name, input.ty);
        }
        if !self.scalars.is_empty() {
            let list: Vec<String> = self.scalars.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "before the loop: {}", list.join(" "));
        }
        for (index, stage) in self.stages.iter().enumerate() {
            match stage {
                Stage::Loop { nodes, vector } => {
                    let list: Vec<String> = nodes.iter().map(ToString::to_string).collect();
                    let form = match vector {
                        Some(vector) => {
                            format!(", {} from row {}", vector_type_name(vector.elem), vector.from_row)
                        }
                        None => String::new(),
                    };
                    let _ = writeln!(out, "stage {index}: fused row loop [{}]{form}", list.join(" "));
                    let sources_text = |sources: &[(NodeId, u64)]| {
                        let sources: Vec<String> = sources
                            .iter()
                            .map(
                                |(node, back)| {
                                    if *back == 0 { node.to_string() } else { format!("{node}[-{back}]") }
                                },
                            )
                            .collect();
                        if sources.is_empty() { "all".to_string() } else { sources.join(" & ") }
                    };
                    for &packed in vector.iter().flat_map(|vector| &vector.packed_bools) {
                        let _ = writeln!(
                            out,
                            "  {} bools of {} unpacked into bytes before the loop",
                            vector_type_name(vector_elem(vector)),
                            sources_text(&[packed])
                        );
                    }
                    for mask in vector.iter().flat_map(|vector| &vector.masks) {
                        let _ = writeln!(
                            out,
                            "  {} lane mask for {} = {}",
                            vector_type_name(vector_elem(vector)),
                            mask.node,
                            sources_text(&mask.sources)
                        );
                    }
                    for selected in vector.iter().flat_map(|vector| &vector.selected) {
                        let arm_text = |arm: &ArmValidity| match arm {
                            ArmValidity::Sources(sources) => sources_text(sources),
                            ArmValidity::Scalar(scalar) => format!("{scalar} (scalar)"),
                        };
                        let how = match &selected.choice {
                            ValidityChoice::Where { then, otherwise } => {
                                format!("from {} or {}", arm_text(then), arm_text(otherwise))
                            }
                            ValidityChoice::Kleene { op, lhs, rhs } => {
                                format!("as {} of {} and {}", op.name(), arm_text(lhs), arm_text(rhs))
                            }
                            ValidityChoice::Fill { value, fallback } => {
                                format!("as fill of {} by {}", arm_text(value), arm_text(fallback))
                            }
                        };
                        let _ = writeln!(
                            out,
                            "  {} validity of {} selected in the loop {how}",
                            vector_type_name(vector_elem(vector)),
                            selected.node,
                        );
                    }
                    for target in vector.iter().flat_map(|vector| &vector.validity) {
                        let name = target.node.map_or("result".to_string(), |node| node.to_string());
                        let _ = writeln!(
                            out,
                            "  {} validity of {name} = {}",
                            vector_type_name(vector_elem(vector)),
                            sources_text(&target.sources)
                        );
                    }
                }
                Stage::BlockCall { node, function } => {
                    let _ = writeln!(out, "stage {index}: block call {} -> {node}", function.name());
                }
                Stage::ScanCall { node, state } => {
                    let name = self.scans[*state].1.name();
                    let _ = writeln!(
                        out,
                        "stage {index}: block call scan {name} (running state {state}) -> {node}"
                    );
                }
            }
        }
        let result = self.program.result;
        let validity = if self.result_nullable() { "with validity" } else { "all valid" };
        if self.result_in_place {
            let _ = writeln!(out, "result {result} ({validity}) written in place by its block call");
        } else if self.reduce_result.is_empty() {
            let _ = writeln!(out, "result {result} ({validity})");
        } else {
            let list: Vec<String> = self.reduce_result.iter().map(|op| op.name()).collect();
            let _ = writeln!(
                out,
                "result {result} ({validity}) not written: each block feeds [{}]",
                list.join(", ")
            );
        }
        for node in &self.extra_outputs {
            let validity = if self.nullable[node.index()] { "with validity" } else { "all valid" };
            let _ = writeln!(out, "also writes output {node} ({validity}) from its buffer");
        }
        for (index, buffer) in self.buffers.iter().enumerate() {
            if self.second_operand_buffer[buffer.node.index()] == Some(index) {
                let _ = writeln!(out, "buffer {}: its second operand", buffer.node);
                continue;
            }
            let nullable = if buffer.nullable { " with validity" } else { "" };
            let _ = writeln!(out, "buffer {}: halo {}{nullable}", buffer.node, buffer.halo);
        }
        out.push_str("nodes:\n");
        for line in self.program.to_text().lines().filter(|line| line.starts_with('%')) {
            let _ = writeln!(out, "  {line}");
        }
        out
    }
}

/// Each node's block call, if it runs as one, decided from the last node back: whether a
/// division or a square root does depends on its readers' calls, and readers come after
/// what they read.
fn block_calls(program: &Program, nullable: &[bool]) -> Vec<Option<BlockFunction>> {
    let mut readers: Vec<Vec<NodeId>> = vec![Vec::new(); program.nodes.len()];
    for (index, node) in program.nodes.iter().enumerate() {
        for operand in node.kind.operands() {
            readers[operand.index()].push(NodeId(index as u32));
        }
    }
    let mut calls: Vec<Option<BlockFunction>> = vec![None; program.nodes.len()];
    for index in (0..program.nodes.len()).rev() {
        let node = NodeId(index as u32);
        if program.node(node).ty.shape != Shape::Column {
            continue;
        }
        let wide = |first: NodeId| is_wide_block(program, nullable, node, first, &readers[index], &calls);
        calls[index] = match program.node(node).kind {
            NodeKind::Unary { op: UnaryOp::Math(function), .. } => Some(BlockFunction::Unary(function)),
            NodeKind::Binary { op: BinaryOp::Math(function), .. } => Some(BlockFunction::Binary(function)),
            NodeKind::Binary { op: BinaryOp::Div, lhs, .. } if wide(lhs) => {
                if centered_dividend(program, nullable, node, &readers[lhs.index()]) {
                    Some(BlockFunction::CenteredDivide)
                } else {
                    Some(BlockFunction::Divide)
                }
            }
            NodeKind::Unary { op: UnaryOp::Sqrt, arg } if wide(arg) => {
                // Its operand's question assumes this square root is a call.
                calls[index] = Some(BlockFunction::SquareRoot);
                is_written_by_a_call(program, nullable, arg, &readers, &calls)
                    .then_some(BlockFunction::SquareRoot)
            }
            _ => None,
        };
    }
    calls
}

/// Whether division `node`'s dividend (read by `lhs_readers`) folds into its call as a
/// [`BlockFunction::CenteredDivide`]: the divisor is a scalar, and the dividend a column less
/// a scalar (`a − c`, `a` a column that is not a lag: an input read where it lies or a value
/// in its buffer), of the division's type, never null, read by this division alone (no other
/// node, no lag, no output). Nothing else needs the dividend's values then, so no stage
/// computes it.
fn centered_dividend(program: &Program, nullable: &[bool], node: NodeId, lhs_readers: &[NodeId]) -> bool {
    let Some([column, subtrahend, divisor]) = centered_parts(program, node) else { return false };
    let lhs = program.node(node).kind.operands()[0];
    let elem = program.node(node).ty.elem;
    program.node(divisor).ty.shape == Shape::Scalar
        && program.node(subtrahend).ty.shape == Shape::Scalar
        && program.node(column).ty.shape == Shape::Column
        && !matches!(program.node(column).kind, NodeKind::Lag { .. })
        && [program.node(lhs).ty.elem, program.node(column).ty.elem, program.node(subtrahend).ty.elem]
            .iter()
            .all(|&operand| operand == elem)
        && !nullable[lhs.index()]
        && lhs_readers == [node]
        && !program.outputs.iter().any(|(_, output)| *output == lhs)
}

/// The `[a, c, d]` of a division `(a − c) / d` (whatever its plan): `None` for another node.
fn centered_parts(program: &Program, node: NodeId) -> Option<[NodeId; 3]> {
    let NodeKind::Binary { op: BinaryOp::Div, lhs, rhs } = program.node(node).kind else { return None };
    let NodeKind::Binary { op: BinaryOp::Sub, lhs: column, rhs: subtrahend } = program.node(lhs).kind else {
        return None;
    };
    Some([column, subtrahend, rhs])
}

/// What stage `stage` reads: a loop's nodes' operands, a call's node's operands (a centred
/// division's `a`, `c` and `d`, its dividend folded in).
fn stage_reads(program: &Program, stage: &Stage) -> Vec<NodeId> {
    match stage {
        Stage::Loop { nodes, .. } => {
            nodes.iter().flat_map(|node| program.node(*node).kind.operands()).collect()
        }
        Stage::BlockCall { node, function: BlockFunction::CenteredDivide } => {
            centered_parts(program, *node).expect("a centred division divides a difference").to_vec()
        }
        Stage::BlockCall { node, .. } | Stage::ScanCall { node, .. } => program.node(*node).kind.operands(),
    }
}

/// Whether a square root's operand `node` is an input or what a block call or a scan writes
/// (a division only if it is a call itself, given `calls` of every node after it): a block
/// call over the buffer of a row loop's value measured slower than the row loop in most
/// runs (`sqrt(x * r)`, docs/PERFORMANCE.md, "Divisions that block calls read, and square
/// roots at four lanes"), where over an input it takes half the time.
fn is_written_by_a_call(
    program: &Program,
    nullable: &[bool],
    node: NodeId,
    readers: &[Vec<NodeId>],
    calls: &[Option<BlockFunction>],
) -> bool {
    match program.node(node).kind {
        NodeKind::Input { .. }
        | NodeKind::Unary { op: UnaryOp::Math(_), .. }
        | NodeKind::Binary { op: BinaryOp::Math(_), .. }
        | NodeKind::Scan { .. } => true,
        NodeKind::Binary { op: BinaryOp::Div, lhs, .. } => {
            is_wide_block(program, nullable, node, lhs, &readers[node.index()], calls)
        }
        _ => false,
    }
}

/// Whether an IEEE division or square root `node` (first operand `first`, read by
/// `readers`) runs as a block call ([`BlockFunction::Divide`], [`BlockFunction::SquareRoot`])
/// rather than in a fused row loop: a float column never null whose first operand is a
/// column, that is either the program's result and nothing else reads it (no node, no lag,
/// no other output), or a value read only by block calls and scans, each of which reads a
/// computed operand from its buffer a block at a time — the value is written to that buffer
/// whether a row loop or a block call computes it, so the call adds no pass (`exp(x / 100)`,
/// `msum(x / y, 20)`, `sqrt(x) / 3`). Cranelift's x86-64 loops divide (and take square
/// roots of) two f64 lanes an instruction, a runtime loop compiled for AVX2 four (eight f32),
/// and IEEE division and square root are correctly rounded, so the bits are the same.
///
/// A result that can be null would have its validity combined into a buffer (row by row,
/// for a scalar divisor) and then packed apart from the call, where the row loop makes one
/// pass: measured slower for `xn/3` and `(xn-mean(xn))/std(xn)`. A value that a row loop, a
/// lag or an output reads stays in the row loop: a pass over a buffer to read it back
/// measured about what the wider division saves (docs/PERFORMANCE.md, "A result's division
/// at four lanes").
fn is_wide_block(
    program: &Program,
    nullable: &[bool],
    node: NodeId,
    first: NodeId,
    readers: &[NodeId],
    calls: &[Option<BlockFunction>],
) -> bool {
    let is_float = matches!(program.node(node).ty.elem, Elem::F64 | Elem::F32);
    let read_as_a_block = if node == program.result {
        !is_read_elsewhere(program, node)
    } else {
        let is_call = |reader: &NodeId| {
            calls[reader.index()].is_some() || matches!(program.node(*reader).kind, NodeKind::Scan { .. })
        };
        !readers.is_empty()
            && readers.iter().all(is_call)
            && !program.outputs.iter().any(|(_, output)| *output == node)
    };
    is_float && !nullable[node.index()] && program.node(first).ty.shape == Shape::Column && read_as_a_block
}

/// Whether a node (directly or through lags) or another output than the result reads `node`.
fn is_read_elsewhere(program: &Program, node: NodeId) -> bool {
    let read_by_a_node = program.nodes.iter().any(|other| {
        other.kind.operands().into_iter().any(|operand| program.resolve_lags(operand).0 == node)
    });
    let others = &program.outputs[..program.outputs.len().saturating_sub(1)];
    read_by_a_node || others.iter().any(|(_, output)| *output == node)
}

/// Plans `program` for bindings laid out as `input_forms` says (per input slot; a slot past
/// its end is planned as nullable and not bit-packed, the conservative reading).
pub fn plan(program: &Program, input_forms: &[InputForm]) -> LoopPlan {
    plan_with(program, input_forms, &[])
}

/// Plans `program` so that its result, a computed column, is reduced block by block by `ops`
/// instead of written: a multi-pass plan's first pass without materialising the operand.
/// `None` when the result is not computed by the loop (an input or a lag of one).
pub fn plan_reduction(program: &Program, input_forms: &[InputForm], ops: &[ReduceOp]) -> Option<LoopPlan> {
    let result = program.node(program.result);
    let computed = result.ty.shape == Shape::Column
        && !matches!(result.kind, NodeKind::Input { .. } | NodeKind::Lag { .. });
    (computed && !ops.is_empty()).then(|| plan_with(program, input_forms, ops))
}

fn plan_with(program: &Program, input_forms: &[InputForm], reduce_result: &[ReduceOp]) -> LoopPlan {
    let count = program.nodes.len();
    let mut input_forms = input_forms.to_vec();
    input_forms.truncate(program.inputs.len());
    // A slot past the list: a column with a bitmap, a scalar never null.
    for input in &program.inputs[input_forms.len()..] {
        input_forms.push(InputForm { nullable: input.ty.shape == Shape::Column, bit_packed: false });
    }
    let nullable = program.nullable_nodes(&InputForm::nullable_slots(&input_forms));
    // Which nodes have nulls beyond the first rows that lags leave null.
    let nulls_past_lags = program.nullable_nodes_with(&InputForm::nullable_slots(&input_forms), false);
    let block_calls = block_calls(program, &nullable);
    // The dividends folded into centred-division calls: computed by no stage.
    let mut folded = vec![false; count];
    for (index, call) in block_calls.iter().enumerate() {
        if *call == Some(BlockFunction::CenteredDivide)
            && let NodeKind::Binary { lhs, .. } = program.nodes[index].kind
        {
            folded[lhs.index()] = true;
        }
    }
    let mut scalars = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut stage_of: Vec<Option<usize>> = vec![None; count];
    let mut current: Vec<NodeId> = Vec::new();
    let mut scans: Vec<(NodeId, ScanOp)> = Vec::new();
    // Whether `current` is a loop of inline scans (and the cheap nodes after them), which runs
    // one row at a time.
    let mut scan_loop = false;
    for (index, node) in program.nodes.iter().enumerate() {
        let id = NodeId(index as u32);
        match (node.ty.shape, node.kind) {
            (Shape::Scalar, _) => scalars.push(id),
            // Inputs are read in place and lags are reads of other nodes: neither is computed.
            (Shape::Column, NodeKind::Input { .. } | NodeKind::Lag { .. }) => {}
            (Shape::Column, _) if folded[index] => {}
            // An inline scan starts a loop of its own (what precedes it keeps its vector form,
            // unless it is a short run of cheap nodes that joins) that goes on while the nodes
            // after it are cheap one row at a time.
            (Shape::Column, NodeKind::Scan { .. }) if is_inline_scan(program, &nulls_past_lags, id) => {
                // A short loop of cheap nodes before it (the scan's operand: `x - lag(x, 1)`)
                // joins the scan loop, where its work hides under the recurrence's latency,
                // rather than run as a loop of its own and hand over a buffer. (`min`/`max`
                // do not: RSI's two, each a few selections a row, made its loop of two
                // `ema`s bound by instructions rather than by the recurrences.)
                let joins = current.len() <= MAX_NODES_JOINING_A_SCAN_LOOP
                    && current.iter().all(|&node| is_cheap_in_scan_loop(program, node));
                if !scan_loop && !current.is_empty() && !joins {
                    stages.push(Stage::Loop { nodes: std::mem::take(&mut current), vector: None });
                }
                scan_loop = true;
                stage_of[index] = Some(stages.len());
                current.push(id);
            }
            (Shape::Column, kind)
                if scan_loop
                    && !matches!(kind, NodeKind::Scan { .. })
                    && !is_cheap_in_scan_loop(program, id) =>
            {
                stages.push(Stage::Loop { nodes: std::mem::take(&mut current), vector: None });
                scan_loop = false;
                if let Some(op) = block_calls[index] {
                    stage_of[index] = Some(stages.len());
                    stages.push(Stage::BlockCall { node: id, function: op });
                } else {
                    stage_of[index] = Some(stages.len());
                    current.push(id);
                }
            }
            (Shape::Column, NodeKind::Scan { op, .. }) => {
                if !current.is_empty() {
                    stages.push(Stage::Loop { nodes: std::mem::take(&mut current), vector: None });
                }
                scan_loop = false;
                stage_of[index] = Some(stages.len());
                stages.push(Stage::ScanCall { node: id, state: scans.len() });
                scans.push((id, op));
            }
            (Shape::Column, _) => {
                if let Some(op) = block_calls[index] {
                    if !current.is_empty() {
                        stages.push(Stage::Loop { nodes: std::mem::take(&mut current), vector: None });
                    }
                    scan_loop = false;
                    stage_of[index] = Some(stages.len());
                    stages.push(Stage::BlockCall { node: id, function: op });
                } else {
                    stage_of[index] = Some(stages.len());
                    current.push(id);
                }
            }
        }
    }
    // The last stage is always a row loop: it writes the result.
    stages.push(Stage::Loop { nodes: current, vector: None });
    let last_stage = stages.len() - 1;

    // A computed node needs a buffer when something reads it from another stage, through a
    // lag, or as a block call's source; the halo is the farthest lag read.
    let mut halo: Vec<Option<u64>> = vec![None; count];
    let mut need = |base: NodeId, delta: u64, reader_stage: usize, reader_is_call: bool| {
        if let Some(base_stage) = stage_of[base.index()]
            && (delta > 0 || base_stage != reader_stage || reader_is_call)
        {
            let entry = halo[base.index()].get_or_insert(0);
            *entry = (*entry).max(delta);
        }
    };
    for (stage_index, stage) in stages.iter().enumerate() {
        let is_call = !matches!(stage, Stage::Loop { .. });
        for operand in stage_reads(program, stage) {
            let (base, delta) = program.resolve_lags(operand);
            need(base, delta, stage_index, is_call);
        }
    }
    let (base, delta) = program.resolve_lags(program.result);
    need(base, delta, last_stage, false);
    // A block call's output always lands in its buffer.
    for stage in &stages {
        if let Stage::BlockCall { node, .. } | Stage::ScanCall { node, .. } = stage {
            halo[node.index()].get_or_insert(0);
        }
    }
    // A reduced result is read from its buffer, a block at a time.
    if !reduce_result.is_empty() {
        halo[program.result.index()].get_or_insert(0);
    }
    // Other outputs that the loop computes are copied out of their buffers.
    let mut extra_outputs = Vec::new();
    if program.result_type().shape == Shape::Column {
        for (_, output) in &program.outputs[..program.outputs.len().saturating_sub(1)] {
            if stage_of[output.index()].is_some() && !extra_outputs.contains(output) {
                halo[output.index()].get_or_insert(0);
                extra_outputs.push(*output);
            }
        }
    }
    // The vector forms' block-sized validity slots live in the kernel's stack frame, one per
    // list of sources and per selected value: past `MAX_VECTOR_VALIDITY_SLOTS` in a kernel, a
    // loop keeps its row form, so that no program makes a frame too large for a thread's stack.
    let mut validity_slots = 0;
    for (index, stage) in stages.iter_mut().enumerate() {
        if let Stage::Loop { nodes, vector } = stage {
            let buffered = |id: NodeId| halo[id.index()].is_some();
            let writes_result = index == last_stage && reduce_result.is_empty();
            *vector = vector_plan(program, &input_forms, &nullable, &buffered, nodes, writes_result).filter(
                |form| {
                    validity_slots += form.validity_slots();
                    validity_slots <= MAX_VECTOR_VALIDITY_SLOTS
                },
            );
        }
    }
    let mut buffers = Vec::new();
    let mut buffer_of = vec![None; count];
    for (index, halo) in halo.iter().enumerate() {
        if let Some(halo) = halo {
            buffer_of[index] = Some(buffers.len());
            buffers.push(Buffer { node: NodeId(index as u32), halo: *halo, nullable: nullable[index] });
        }
    }
    // Room for a two-argument call's second operand, a block's worth (values only: the
    // call's validity is combined into its own buffer), where it cannot be read where it
    // lies: a lag (of an input or a computed node) or a scalar. An input column or a computed
    // node (buffered above, as a call's source) is read in place.
    let mut second_operand_buffer = vec![None; count];
    for stage in &stages {
        if let Stage::BlockCall {
            node,
            function: function @ (BlockFunction::Binary(_) | BlockFunction::Divide),
        } = stage
        {
            let (base, delta) = program.resolve_lags(program.node(*node).kind.operands()[1]);
            // A division passes an unlagged scalar divisor by value (`divides_by_scalar`).
            let by_value = *function == BlockFunction::Divide && delta == 0;
            if delta > 0 || (program.node(base).ty.shape == Shape::Scalar && !by_value) {
                second_operand_buffer[node.index()] = Some(buffers.len());
                buffers.push(Buffer { node: *node, halo: 0, nullable: false });
            }
        }
    }
    // The result written in place: a call's output, read by nothing else (no lag, no other
    // node, no other output), whose plan ends with a loop that would only copy it out.
    let result = program.result;
    let result_in_place = reduce_result.is_empty()
        && program.result_type().shape == Shape::Column
        && !is_read_elsewhere(program, result)
        && halo[result.index()] == Some(0)
        && matches!(stages.last(), Some(Stage::Loop { nodes, .. }) if nodes.is_empty())
        && stages.iter().any(|stage| {
            matches!(stage, Stage::BlockCall { node, .. } | Stage::ScanCall { node, .. } if *node == result)
        });
    if result_in_place && let Some(Stage::Loop { vector, .. }) = stages.last_mut() {
        *vector = None;
    }
    LoopPlan {
        program: program.clone(),
        input_forms,
        nullable,
        scalars,
        stages,
        buffers,
        buffer_of,
        second_operand_buffer,
        extra_outputs,
        scans,
        reduce_result: reduce_result.to_vec(),
        result_in_place,
    }
}

/// Whether scan `id` runs inside a row loop, its running state a value the loop carries from
/// row to row: an `ema` of f64s null at most in the first rows a lag leaves null
/// (`nulls_past_lags`, `Program::nullable_nodes_with`), whether its operand is an input, a
/// value computed in an earlier stage (read from its buffer) or one computed in the same loop
/// (the cheap nodes that join it: `MAX_NODES_JOINING_A_SCAN_LOOP`). Its one dependent
/// multiply-add a row is its whole cost, which the loop's other work (another `ema`, the
/// arithmetic after it) overlaps; as a block call it would add a pass over a buffer and keep
/// other scans' chains apart. (Over nulls anywhere, keeping the state across a null row would
/// put a data-dependent choice on that chain: such an `ema` stays a block call.) A loop
/// holding one has no vector form (the recurrence is row by row); on several threads its
/// ranges start their `ema`s afresh over a long warm-up and are checked in row order
/// (`engine::speculated_scans`).
pub fn is_inline_scan(program: &Program, nulls_past_lags: &[bool], id: NodeId) -> bool {
    let node = program.node(id);
    match node.kind {
        NodeKind::Scan { op: ScanOp::Ema { .. }, arg } => {
            node.ty.elem == Elem::F64
                && program.node(arg).ty.elem == Elem::F64
                && !nulls_past_lags[arg.index()]
        }
        _ => false,
    }
}

/// The most nodes of a loop that may join the inline scans after it (each one
/// `is_cheap_in_scan_loop`): a few operations a row hide under an `ema`'s dependent
/// multiply-add; a long expression keeps its vector loop.
const MAX_NODES_JOINING_A_SCAN_LOOP: usize = 6;

/// Whether node `id` costs little one row at a time, so that it may follow inline scans in
/// their loop rather than wait for a loop of its own: `+ − ×`, negation, comparisons and
/// `where` — not divisions, square roots, `min`/`max` or casts, which run better in a vector
/// loop over the scans' buffers.
fn is_cheap_in_scan_loop(program: &Program, id: NodeId) -> bool {
    match program.node(id).kind {
        NodeKind::Binary { op, .. } => {
            matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul) || op.is_comparison()
        }
        NodeKind::Unary { op: UnaryOp::Neg, .. } | NodeKind::Where { .. } => true,
        _ => false,
    }
}

/// Whether `op` is a test of a float's class (`is_nan`, `is_finite`, `is_inf`): a bool of a
/// float, which the vector loop computes as a lane mask in its operand's lanes.
pub(crate) fn is_float_test(op: UnaryOp) -> bool {
    matches!(op, UnaryOp::IsNan | UnaryOp::IsFinite | UnaryOp::IsInf)
}

/// Whether a cast from `from` to `to` is one the vector loop converts lane by lane: i64 to
/// f64 or i32 to f32 (the lanes keep their width).
pub(crate) fn is_integer_to_float_of_its_width(from: Elem, to: Elem) -> bool {
    matches!((from, to), (Elem::I64, Elem::F64) | (Elem::I32, Elem::F32))
}

/// Whether a cast from `from` to `to` is one the vector loop of 64-bit lanes applies to a
/// column of 32-bit values read two rows a lane group: f32 or i32 to f64, i32 to i64 (all
/// exact, never null).
pub(crate) fn is_widening_to_64_bit_lanes(from: Elem, to: Elem) -> bool {
    matches!((from, to), (Elem::F32 | Elem::I32, Elem::F64) | (Elem::I32, Elem::I64))
}

pub fn vector_type_name(elem: Elem) -> &'static str {
    match elem {
        Elem::F64 => "f64x2",
        Elem::F32 => "f32x4",
        Elem::I64 => "i64x2",
        Elem::I32 => "i32x4",
        Elem::Bool => "bool",
    }
}

fn vector_elem(vector: &Option<VectorForm>) -> Elem {
    vector.as_ref().map_or(Elem::F64, |vector| vector.elem)
}

/// The SIMD form of a row loop, if it has one. Every number of the loop (and every number
/// it reads) has one lane width (f64 or i64, f32 or i32); every node is arithmetic, an
/// integer converted to the float of its width, a comparison or logic on comparisons
/// feeding a `where` of the same loop (or its bool result), such a `where`, or a `fill` — so
/// a value is null exactly where something it reads is, and validity can be combined apart,
/// but for the values whose validity the loop selects and stores for the others to read
/// (`SelectedValidity`). Scalars read are never null, but for such a value's operand.
/// Validity targets are the nullable nodes kept in buffers, and the result.
fn vector_plan(
    program: &Program,
    input_forms: &[InputForm],
    nullable: &[bool],
    buffered: &dyn Fn(NodeId) -> bool,
    nodes: &[NodeId],
    writes_result: bool,
) -> Option<VectorForm> {
    // The loop's lane type: its first number type (bools ride along as lane masks):
    // f64x2, f32x4, i64x2 or i32x4. A loop mixing lane widths has no vector form.
    // A float conversion that is the loop's result, f64 ↔ f32: converted as it is stored, so
    // the loop computes in its operand's lanes.
    let result_conversion = |id: NodeId| {
        let node = program.node(id);
        match node.kind {
            NodeKind::Unary { op: UnaryOp::Cast, arg }
                if writes_result && id == program.result && !buffered(id) =>
            {
                let from = program.node(arg).ty.elem;
                matches!((from, node.ty.elem), (Elem::F64, Elem::F32) | (Elem::F32, Elem::F64)).then_some(arg)
            }
            _ => None,
        }
    };
    // A comparison's lanes are its operands', a result conversion's, `is_null`'s and
    // `is_valid`'s their operand's.
    let mut lane_types = nodes.iter().filter_map(|&id| {
        let node = program.node(id);
        let elem = match node.kind {
            NodeKind::Binary { op, lhs, .. } if op.is_comparison() => program.node(lhs).ty.elem,
            NodeKind::Unary { op: UnaryOp::IsNull | UnaryOp::IsValid, arg } => program.node(arg).ty.elem,
            NodeKind::Unary { op, arg } if is_float_test(op) => program.node(arg).ty.elem,
            _ => match result_conversion(id) {
                Some(arg) => program.node(arg).ty.elem,
                None => node.ty.elem,
            },
        };
        match elem {
            Elem::F64 | Elem::F32 | Elem::I64 | Elem::I32 => Some(elem),
            Elem::Bool => None,
        }
    });
    let elem = match lane_types.next() {
        Some(elem) => elem,
        // A loop that only copies the result out (a block call's, a scan's, an input, a lag):
        // the result's lanes, so the copy runs a lane group at a time.
        None if nodes.is_empty() && writes_result => match program.node(program.result).ty.elem {
            elem @ (Elem::F64 | Elem::F32 | Elem::I64 | Elem::I32) => elem,
            Elem::Bool => return None,
        },
        // Bools alone (`!f`, `f && g`): lane masks of the narrowest lanes, four rows an
        // operation; whether each node has a vector form is asked below as for any loop.
        None if !nodes.is_empty() => Elem::I32,
        None => return None,
    };
    // Floats and integers of one width share the lanes' geometry (f64x2 with i64x2, f32x4
    // with i32x4): a comparison of one type can choose between values of the other
    // (`where(x > y, 1, 0)`), its mask the same lanes, and an integer converts to the float
    // of its width lane by lane (`px * vol` with an i64 `vol`). Other casts are no vector
    // operation, but the result's f64 ↔ f32 conversion.
    let lane_width = |elem: Elem| match elem {
        Elem::F64 | Elem::I64 => 8,
        Elem::F32 | Elem::I32 => 4,
        Elem::Bool => 0,
    };
    let same_lanes = |other: Elem| lane_width(other) == lane_width(elem);
    if lane_types.any(|other| !same_lanes(other)) {
        return None;
    }
    // A bool input column, which the loop reads as lane masks, a lane group's bytes at a
    // time: of a byte a row where it lies, bit-packed from bytes unpacked before the loop
    // (`VectorForm::packed_bools`).
    let is_bool_column = |id: NodeId| {
        let node = program.node(id);
        matches!(node.kind, NodeKind::Input { .. })
            && node.ty.elem == Elem::Bool
            && node.ty.shape == Shape::Column
    };
    let is_bit_packed = |id: NodeId| match program.node(id).kind {
        NodeKind::Input { slot } => input_forms.get(slot as usize).is_some_and(|form| form.bit_packed),
        _ => false,
    };
    // A bool read as lane masks: a mask this loop computes (for the same row), a bool
    // column, or a bool value kept in a buffer (a byte a row: a lagged mask of this loop, a
    // value of an earlier stage).
    let is_mask_read = |base: NodeId, delta: u64| {
        (nodes.contains(&base) && delta == 0) || is_bool_column(base) || buffered(base)
    };
    let farthest = std::cell::Cell::new(0u64);
    // For each node of the loop: the (value, rows back) reads its validity is the AND of.
    let mut sources: std::collections::HashMap<NodeId, Vec<(NodeId, u64)>> = std::collections::HashMap::new();
    // `widening`: the read of a conversion to 64-bit lanes (`is_widening_to_64_bit_lanes`),
    // which may read a column of half the loop's width from outside the loop, two rows a
    // lane group.
    let read_as = |operand: NodeId,
                   sources: &std::collections::HashMap<NodeId, Vec<(NodeId, u64)>>,
                   widening: bool| {
        let (base, delta) = program.resolve_lags(operand);
        let base_node = program.node(base);
        if base_node.ty.elem == Elem::Bool && !is_mask_read(base, delta) {
            return None;
        }
        let is_result_conversion = nodes.contains(&base) && delta == 0 && result_conversion(base).is_some();
        let is_half_width_column = widening
            && base_node.ty.shape == Shape::Column
            && !nodes.contains(&base)
            && 2 * lane_width(base_node.ty.elem) == lane_width(elem);
        if (!same_lanes(base_node.ty.elem)
            && base_node.ty.elem != Elem::Bool
            && !is_result_conversion
            && !is_half_width_column)
            || (base_node.ty.shape == Shape::Scalar && nullable[base.index()])
        {
            return None;
        }
        farthest.set(farthest.get().max(delta));
        Some(match sources.get(&base) {
            Some(inner) if delta == 0 => inner.clone(),
            _ if nullable[base.index()] && base_node.ty.shape == Shape::Column => vec![(base, delta)],
            _ => Vec::new(),
        })
    };
    let read = |operand: NodeId, sources: &std::collections::HashMap<NodeId, Vec<(NodeId, u64)>>| {
        read_as(operand, sources, false)
    };
    // Whether a bool node of this loop lives as a lane mask: a comparison of numbers, a
    // float test (`is_nan`, `is_finite`, `is_inf`), `is_null`/`is_valid` (their lanes from
    // the operand's validity), or logic on them.
    let is_loop_mask = |id: NodeId| {
        nodes.contains(&id)
            && match program.node(id).kind {
                NodeKind::Binary { op, .. } => op.is_comparison() || op.is_logic(),
                NodeKind::Unary { op: UnaryOp::IsNull | UnaryOp::IsValid | UnaryOp::Not, .. } => true,
                NodeKind::Unary { op, .. } => is_float_test(op),
                _ => false,
            }
    };
    // What a `where` chooses on and logic combines: a lane mask of the loop, or bools of a
    // byte a row read as one (a bool column, a buffered bool value, lagged too).
    let is_mask_operand = |id: NodeId| {
        let (base, delta) = program.resolve_lags(id);
        is_loop_mask(id)
            || (program.node(base).ty.elem == Elem::Bool
                && !(nodes.contains(&base) && delta == 0)
                && is_mask_read(base, delta))
    };
    let mut masks: Vec<LaneMask> = Vec::new();
    let mut selected: Vec<SelectedValidity> = Vec::new();
    let union = |lists: Vec<Vec<(NodeId, u64)>>| {
        let mut all: Vec<(NodeId, u64)> = Vec::new();
        for source in lists.into_iter().flatten() {
            if !all.contains(&source) {
                all.push(source);
            }
        }
        all
    };
    // The validity of an operand of a value whose validity the loop selects: a nullable
    // scalar's flag, or its sources, each from outside the loop or an earlier such value's
    // bytes for the same row. None where neither (the loop then has no vector form).
    macro_rules! arm {
        ($operand:expr) => {{
            let operand: NodeId = $operand;
            let (base, delta) = program.resolve_lags(operand);
            let base_node = program.node(base);
            if base_node.ty.shape == Shape::Scalar && nullable[base.index()] {
                (delta == 0 && same_lanes(base_node.ty.elem)).then_some(ArmValidity::Scalar(base))
            } else {
                read(operand, &sources).and_then(|arm_sources| {
                    let readable = arm_sources.iter().all(|&(source, back)| {
                        !nodes.contains(&source)
                            || (back == 0
                                && selected.iter().any(|earlier: &SelectedValidity| earlier.node == source))
                    });
                    readable.then_some(ArmValidity::Sources(arm_sources))
                })
            }
        }};
    }
    for &id in nodes {
        let node = program.node(id);
        // Integer lanes take fewer operations than float ones (below).
        let integer = node.ty.elem.is_integer();
        let mine = match node.kind {
            NodeKind::Unary { op: UnaryOp::Cast, arg } if result_conversion(id).is_some() => {
                if program.node(arg).ty.elem != elem {
                    return None;
                }
                union(vec![read(arg, &sources)?])
            }
            // An integer to the float of its width: exact or rounded once to nearest, never
            // null (LANGUAGE.md), so null where its operand is.
            NodeKind::Unary { op: UnaryOp::Cast, arg }
                if is_integer_to_float_of_its_width(program.node(arg).ty.elem, node.ty.elem) =>
            {
                union(vec![read(arg, &sources)?])
            }
            // An f32 or i32 column widened exactly to the loop's f64 (or an i32 to its i64):
            // read two rows a lane group and converted as it is loaded (`x32 + y`).
            NodeKind::Unary { op: UnaryOp::Cast, arg }
                if is_widening_to_64_bit_lanes(program.node(arg).ty.elem, node.ty.elem) =>
            {
                union(vec![read_as(arg, &sources, true)?])
            }
            // Integer lanes: wrapping + - *, negation and `abs`, `sign`, `min`/`max` (what
            // every target's SIMD unit has, or a compare and blend); `//`, `%` (null for a
            // zero divisor) and conversions to other integers stay in the scalar form.
            NodeKind::Unary { op: UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign, arg }
            | NodeKind::PowI { base: arg, .. }
                if integer =>
            {
                union(vec![read(arg, &sources)?])
            }
            NodeKind::Binary {
                op: BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Min | BinaryOp::Max,
                lhs,
                rhs,
            } if integer => union(vec![read(lhs, &sources)?, read(rhs, &sources)?]),
            NodeKind::Unary {
                op:
                    UnaryOp::Neg
                    | UnaryOp::Abs
                    | UnaryOp::Sqrt
                    | UnaryOp::Floor
                    | UnaryOp::Ceil
                    | UnaryOp::Round
                    | UnaryOp::Trunc
                    | UnaryOp::Sign,
                arg,
            }
            | NodeKind::PowI { base: arg, .. }
                if !integer =>
            {
                union(vec![read(arg, &sources)?])
            }
            NodeKind::Binary {
                op:
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Min | BinaryOp::Max,
                lhs,
                rhs,
            } if !integer => union(vec![read(lhs, &sources)?, read(rhs, &sources)?]),
            // A comparison lives only as a lane mask: for a `where` of this loop, or as the
            // loop's bool result (written out as bytes, a lane group's masks at a time).
            NodeKind::Binary { op, lhs, rhs }
                if op.is_comparison() && same_lanes(program.node(lhs).ty.elem) =>
            {
                union(vec![read(lhs, &sources)?, read(rhs, &sources)?])
            }
            // A float test lives only as a lane mask, as a comparison does; null where its
            // operand is.
            NodeKind::Unary { op, arg } if is_float_test(op) && same_lanes(program.node(arg).ty.elem) => {
                union(vec![read(arg, &sources)?])
            }
            // Validity as lanes: never null themselves; their operand's validity is read as a
            // lane mask, combined before the loop (so its sources must lie outside it).
            NodeKind::Unary { op: UnaryOp::IsNull | UnaryOp::IsValid, arg } => {
                if buffered(id) {
                    return None;
                }
                masks.push(LaneMask { node: id, sources: read(arg, &sources)? });
                Vec::new()
            }
            // `fill` of numbers: the value's lanes where it is valid, the fallback's elsewhere.
            // With a fallback never null it is never null; else null where both are, which
            // the loop selects (`SelectedValidity`). (A `fill` of bools is a value, not a lane
            // mask: the scalar form.)
            NodeKind::Fill { value, fallback } => {
                if !same_lanes(node.ty.elem) {
                    return None;
                }
                let value_sources = read(value, &sources)?;
                masks.push(LaneMask { node: id, sources: value_sources.clone() });
                match arm!(fallback)? {
                    ArmValidity::Sources(fallback) if fallback.is_empty() => Vec::new(),
                    fallback => {
                        let value = ArmValidity::Sources(value_sources);
                        selected.push(SelectedValidity {
                            node: id,
                            choice: ValidityChoice::Fill { value, fallback },
                        });
                        vec![(id, 0)]
                    }
                }
            }
            // A `where` of numbers on a lane mask. (A `where` of bools would be a mask that no
            // lane store can write: a bool buffer holds a byte per row.) With arms never null
            // it is null where its condition is; else its validity is selected in the loop
            // (`SelectedValidity`).
            NodeKind::Where { cond, then, otherwise } => {
                if node.ty.elem == Elem::Bool || !is_mask_operand(cond) {
                    return None;
                }
                let arms = [arm!(then)?, arm!(otherwise)?];
                let cond_sources = read(cond, &sources)?;
                match arms {
                    // Both arms null exactly where the same reads are: no choice to make.
                    [ArmValidity::Sources(then), ArmValidity::Sources(otherwise)]
                        if then.iter().all(|source| otherwise.contains(source))
                            && otherwise.iter().all(|source| then.contains(source)) =>
                    {
                        union(vec![cond_sources, then])
                    }
                    [then, otherwise] => {
                        selected.push(SelectedValidity {
                            node: id,
                            choice: ValidityChoice::Where { then, otherwise },
                        });
                        union(vec![cond_sources, vec![(id, 0)]])
                    }
                }
            }
            // Logic on lane masks of this loop: bitwise on the masks, never stored (a bool
            // buffer holds a byte a row). `not` is null where its operand is; `and`/`or` of
            // operands that can be null select their validity in the loop (Kleene logic: a
            // valid operand can decide over a null one).
            NodeKind::Unary { op: UnaryOp::Not, arg } if is_mask_operand(arg) => read(arg, &sources)?,
            NodeKind::Binary { op, lhs, rhs }
                if op.is_logic() && is_mask_operand(lhs) && is_mask_operand(rhs) =>
            {
                match [arm!(lhs)?, arm!(rhs)?] {
                    [ArmValidity::Sources(lhs), ArmValidity::Sources(rhs)]
                        if lhs.is_empty() && rhs.is_empty() =>
                    {
                        Vec::new()
                    }
                    [lhs, rhs] => {
                        selected.push(SelectedValidity {
                            node: id,
                            choice: ValidityChoice::Kleene { op, lhs, rhs },
                        });
                        vec![(id, 0)]
                    }
                }
            }
            _ => return None,
        };
        if !same_lanes(node.ty.elem) && node.ty.elem != Elem::Bool && result_conversion(id).is_none() {
            return None;
        }
        sources.insert(id, mine);
    }
    let mut validity = Vec::new();
    for &id in nodes {
        if buffered(id) && nullable[id.index()] {
            validity.push(ValidityTarget { node: Some(id), sources: sources[&id].clone() });
        }
    }
    if masks.iter().flat_map(|mask| &mask.sources).any(|(source, _)| nodes.contains(source)) {
        return None;
    }
    if writes_result {
        let result = program.node(program.result);
        let is_conversion = nodes.contains(&program.result) && result_conversion(program.result).is_some();
        let mask_result = result.ty.elem == Elem::Bool && is_loop_mask(program.result);
        if !(same_lanes(result.ty.elem) || mask_result || is_conversion) {
            return None;
        }
        let result_sources = read(program.result, &sources)?;
        if nullable[program.result.index()] {
            validity.push(ValidityTarget { node: None, sources: result_sources });
        }
    }
    // Each bit-packed bool column whose values the loop reads (not `is_null`'s, `is_valid`'s
    // operand: its validity only), with each lag: unpacked into bytes before the loop.
    let mut packed_bools: Vec<(NodeId, u64)> = Vec::new();
    for &id in nodes {
        if let NodeKind::Unary { op: UnaryOp::IsNull | UnaryOp::IsValid, .. } = program.node(id).kind {
            continue;
        }
        for operand in program.node(id).kind.operands() {
            let read = program.resolve_lags(operand);
            if is_bit_packed(read.0) && !packed_bools.contains(&read) {
                packed_bools.push(read);
            }
        }
    }
    Some(VectorForm { elem, from_row: farthest.get(), validity, masks, selected, packed_bools })
}
