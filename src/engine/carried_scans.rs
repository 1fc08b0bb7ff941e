//! `cummax`/`cummin` (and an integer `cumsum`) across threads, exactly: a loop whose only
//! carried state is running extremes or wrapping integer sums runs in two phases. First every
//! range reduces each such scan's operand to its `max`/`min`/wrapping sum (in parallel; an
//! f64 input without nulls by one pass of `column_semantics::extremes_of_valid`, which needs no
//! tree of chunk moments);
//! then each range starts its scans from the combination of all the ranges before it
//! (`ScanState::carry_in`) and runs in parallel as usual. `maximum`, `minimum` and wrapping
//! addition are associative, so the carried state is the one a single thread would have
//! reached, and the result is the same bits.
//!
//! Only loops without lags or windows take this path: their ranges have no warm-up, so the
//! carry into a range is the reduction of exactly the rows before it. A float `cumsum` and
//! `cumprod` are not associative (a compensated running sum even less), so a loop holding
//! one runs on one thread; an `ema` forgets its start, which `speculated_scans` uses.

use super::multi_pass::reduce_column_range;
use super::parallel::Parallelism;
use super::{Fused, Kernel};
use crate::codegen::{Listings, RowRange};
use crate::column::{Binding, ColumnData};
use crate::error::Error;
use crate::ir::column_semantics::{
    ReducePartial, ReduceState, extremes_of_valid, scalar_as_f64, scalar_as_i64,
};
use crate::ir::semantics::{maximum, minimum};
use crate::ir::{NodeKind, ReduceOp, ScanOp, Shape};
use crate::passes::fuse_loops::{self, InputForm, LoopPlan};
use crate::passes::split_passes::extract;
use crate::types::{Elem, Scalar};
use std::collections::HashMap;
use std::sync::Arc;

/// How to find the carry of each scan of one loop plan.
#[derive(Debug)]
pub(super) struct CarryPlan {
    /// One per `LoopPlan::scans` entry (every one is a `cummax` or `cummin`).
    scans: Vec<CarriedScan>,
}

#[derive(Debug)]
struct CarriedScan {
    /// The reduction of a range: `Max` for `cummax`, `Min` for `cummin`, `Sum` (taken
    /// modulo 2⁶⁴) for an integer `cumsum`.
    op: ReduceOp,
    /// The operand's element type.
    elem: Elem,
    operand: Operand,
}

#[derive(Debug)]
enum Operand {
    /// An input column of the loop, by slot: reduced where it lies.
    Input(usize),
    /// A computed column: its own reducing loop, and which slot of the main loop each of
    /// that loop's inputs is.
    Loop { kernel: Arc<Fused>, slots: Vec<usize> },
}

/// Whether `plan` can run its ranges with carried scans: a column result, scans that are
/// all `cummax`/`cummin` of operands holding no scan, and no lag anywhere (so no warm-up).
pub(super) fn eligible(plan: &LoopPlan) -> bool {
    let program = &plan.program;
    if program.result_type().shape != Shape::Column || plan.scans.is_empty() {
        return false;
    }
    // A scan the row loop carries itself (an inline `ema`) starts afresh in every range.
    let scan_nodes = program.nodes.iter().filter(|node| matches!(node.kind, NodeKind::Scan { .. })).count();
    if scan_nodes != plan.scans.len() {
        return false;
    }
    let no_lags = program.nodes.iter().all(|node| !matches!(node.kind, NodeKind::Lag { .. }));
    let extremes = plan.scans.iter().all(|(node, op)| {
        let NodeKind::Scan { arg, .. } = program.node(*node).kind else { return false };
        // Whether a scan feeds the operand (then its carry would need that scan's values).
        let mut feeds = vec![false; arg.index() + 1];
        feeds[arg.index()] = true;
        let mut operand_has_scan = false;
        for index in (0..=arg.index()).rev() {
            if feeds[index] {
                let kind = program.nodes[index].kind;
                operand_has_scan |= matches!(kind, NodeKind::Scan { .. });
                for operand in kind.operands() {
                    feeds[operand.index()] = true;
                }
            }
        }
        let integer = program.node(arg).ty.elem.is_integer();
        let carried = match op {
            ScanOp::CumMax | ScanOp::CumMin => true,
            ScanOp::CumSum => integer,
            _ => false,
        };
        carried && !operand_has_scan
    });
    no_lags && extremes
}

impl Kernel {
    /// The carry plan of an `eligible` loop, compiling a reducing loop for each computed
    /// operand. `None` when an operand has no reducing loop (it cannot happen for an
    /// eligible plan, whose operands are inputs or computed columns).
    pub(super) fn carry_plan(&self, plan: &LoopPlan) -> Result<Option<CarryPlan>, Error> {
        let program = &plan.program;
        let mut scans = Vec::with_capacity(plan.scans.len());
        for (node, op) in &plan.scans {
            let NodeKind::Scan { arg, .. } = program.node(*node).kind else { return Ok(None) };
            let reduce = match op {
                ScanOp::CumMax => ReduceOp::Max,
                ScanOp::CumMin => ReduceOp::Min,
                _ => ReduceOp::Sum,
            };
            let elem = program.node(arg).ty.elem;
            let operand = match program.node(arg).kind {
                NodeKind::Input { slot } => Operand::Input(slot as usize),
                _ => {
                    let sub = extract(program, arg, &HashMap::new());
                    let slots: Vec<usize> = sub
                        .inputs
                        .iter()
                        .map(|input| program.inputs.iter().position(|main| main.name == input.name))
                        .collect::<Option<_>>()
                        .ok_or_else(|| self.internal_error("an operand reads an input its loop lacks"))?;
                    let forms: Vec<InputForm> = slots.iter().map(|&slot| plan.input_forms[slot]).collect();
                    let Some(reducing) = fuse_loops::plan_reduction(&sub, &forms, &[reduce]) else {
                        return Ok(None);
                    };
                    let kernel = self
                        .inner
                        .backend
                        .compile(reducing, Listings::default())
                        .map_err(|error| self.internal_error(error))?;
                    Operand::Loop { kernel: Arc::new(kernel), slots }
                }
            };
            scans.push(CarriedScan { op: reduce, elem, operand });
        }
        Ok(Some(CarryPlan { scans }))
    }
}

impl CarryPlan {
    /// For each range, the carry of each scan: the `max`/`min` of its operand over every row
    /// before the range (`Some(None)` when none of them is valid).
    ///
    /// # Safety
    /// `inputs` are the loop's inputs, checked against its plan as for `NativeKernel::run`.
    pub(super) unsafe fn carries(
        &self,
        inputs: &[Binding<'_>],
        rows: usize,
        ranges: &[RowRange],
        parallelism: Parallelism,
    ) -> Vec<Vec<Option<Option<Scalar>>>> {
        // Each range's own extremes, in parallel; the last range's carries into nothing.
        let before_last = &ranges[..ranges.len().saturating_sub(1)];
        let extremes: Vec<Vec<Option<Scalar>>> = parallelism.run(before_last, |range| {
            self.scans
                .iter()
                .map(|scan| {
                    let mut state = ReduceState::new(&[scan.op], scan.elem);
                    // An f64 input without nulls: its extreme in one pass (the same value the
                    // reduction state's tree of chunks gives, without building it).
                    if let (Operand::Input(slot), ReduceOp::Max | ReduceOp::Min) = (&scan.operand, scan.op)
                        && let Binding::Column(column) = &inputs[*slot]
                        && let (ColumnData::F64(values), None) = (column.data, column.validity)
                    {
                        let extremes = extremes_of_valid(&values[range.first..range.last]);
                        let is_max = scan.op == ReduceOp::Max;
                        return extremes.map(|(min, max)| Scalar::F64(if is_max { max } else { min }));
                    }
                    let partial = match &scan.operand {
                        Operand::Input(slot) => match &inputs[*slot] {
                            Binding::Column(column) => reduce_column_range(column, range, &[scan.op]),
                            Binding::Scalar(_) | Binding::NullScalar(_) => {
                                unreachable!("a scan's operand is a column")
                            }
                        },
                        Operand::Loop { kernel, slots } => {
                            let operand_inputs: Vec<Binding<'_>> =
                                slots.iter().map(|&slot| inputs[slot]).collect();
                            // SAFETY: the operand loop's inputs are the main loop's, checked
                            // against the same signature (its forms are the main loop's).
                            unsafe { kernel.run_reduction(&operand_inputs, rows, range) }
                        }
                    };
                    if scan.op == ReduceOp::Sum {
                        // The wrapping sum, not `sum`'s checked one (null when it overflows).
                        return match partial {
                            ReducePartial::Integer(sum) => sum.wrapping_sum().map(Scalar::I64),
                            ReducePartial::Float(_) => unreachable!("only integer sums are carried"),
                        };
                    }
                    state.absorb(partial);
                    state.finish(&[scan.op], scan.elem).pop().flatten()
                })
                .collect()
        });
        // The carry into each range: the extreme of the ranges before it, in row order.
        let mut carry: Vec<Option<Scalar>> = vec![None; self.scans.len()];
        let mut carries = Vec::with_capacity(ranges.len());
        for range_extremes in extremes {
            carries.push(carry.iter().map(|value| Some(*value)).collect());
            for ((so_far, value), scan) in carry.iter_mut().zip(range_extremes).zip(&self.scans) {
                *so_far = combine(scan.op, *so_far, value);
            }
        }
        if !ranges.is_empty() {
            carries.push(carry.iter().map(|value| Some(*value)).collect());
        }
        carries
    }
}

/// Two partial states in row order (`None`: no valid row), by the semantics of the scans:
/// `maximum`/`minimum` on floats (f32 and bool widened, as the scans take them), `max`/`min`
/// and wrapping `+` on integers.
fn combine(op: ReduceOp, a: Option<Scalar>, b: Option<Scalar>) -> Option<Scalar> {
    let (a, b) = match (a, b) {
        (None, value) | (value, None) => return value,
        (Some(a), Some(b)) => (a, b),
    };
    let integer = matches!(a, Scalar::I64(_) | Scalar::I32(_));
    Some(match (integer, op) {
        (_, ReduceOp::Sum) => Scalar::I64(scalar_as_i64(a).wrapping_add(scalar_as_i64(b))),
        (true, ReduceOp::Max) => Scalar::I64(scalar_as_i64(a).max(scalar_as_i64(b))),
        (true, _) => Scalar::I64(scalar_as_i64(a).min(scalar_as_i64(b))),
        (false, ReduceOp::Max) => Scalar::F64(maximum(scalar_as_f64(a), scalar_as_f64(b))),
        (false, _) => Scalar::F64(minimum(scalar_as_f64(a), scalar_as_f64(b))),
    })
}
