//! Multi-pass plans: a program with reductions becomes a sequence of steps, each a whole pass
//! over the rows, and a last program without reductions.
//!
//! - A **reduce step** reads one operand column and computes every reduction of that operand
//!   in the same pass: `mean(x)` and `std(x)` read `x` once, together.
//! - Each step's operand is itself a program (fused into one native loop by the usual
//!   planner, scans included) over the inputs and earlier steps' results — or just an input
//!   column, which is then read where it lies.
//! - The **last** program is the original with every reduction replaced by an input holding
//!   its result: for `(x - mean(x)) / std(x)`, the loop `(x - m) / s`.
//!
//! Scans (windows, cumulative ops, `ema`) are not split: they run inside the fused loop,
//! carrying their state from block to block (`fuse_loops::Stage::ScanCall`).
//!
//! So `(x - mean(x)) / std(x)` reads `x` twice in all. Steps run in node order, which is a
//! topological order, so a step's operand only needs earlier steps.

use crate::ir::{Builder, Node, NodeId, NodeKind, Program, ReduceOp, Type};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The name of the input that carries stateful node `id`'s result into later programs. It
/// ends in a back quote, which no name in program text can contain, so it never collides.
pub fn result_input_name(id: NodeId) -> String {
    format!("{id}`")
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The column the step reads: this program's result.
    pub operand: Program,
    /// The reductions of the operand, each with the input name and type its result is bound
    /// as in later programs.
    pub reductions: Vec<(ReduceOp, String, Type)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PassPlan {
    pub steps: Vec<Step>,
    pub last: Program,
}

impl Step {
    /// The operand's input name when the operand is an input column read as it is.
    pub fn operand_input(&self) -> Option<&str> {
        match self.operand.node(self.operand.result).kind {
            NodeKind::Input { slot } => Some(&self.operand.inputs[slot as usize].name),
            _ => None,
        }
    }
}

impl PassPlan {
    /// The stages as `--emit ir` shows them, with `plan_of(program, reductions)` the loop plan
    /// text of a program whose result feeds `reductions` (or is written, when empty).
    pub fn to_text(&self, plan_of: impl Fn(&Program, &[ReduceOp]) -> String) -> String {
        let mut out = String::new();
        for (index, step) in self.steps.iter().enumerate() {
            let list: Vec<String> =
                step.reductions.iter().map(|(op, name, _)| format!("{} -> {name}", op.name())).collect();
            let what = format!("reduce [{}]", list.join(", "));
            match step.operand_input() {
                Some(input) => {
                    let _ = writeln!(out, "pass {}: {what} over input `{input}` (read once)", index + 1);
                }
                None => {
                    let _ = writeln!(out, "pass {}: {what} over the result of this fused loop:", index + 1);
                    let ops: Vec<ReduceOp> = step.reductions.iter().map(|(op, _, _)| *op).collect();
                    for line in plan_of(&step.operand, &ops).lines() {
                        let _ = writeln!(out, "  {line}");
                    }
                }
            }
        }
        let _ = writeln!(out, "pass {}: the fused loop:", self.steps.len() + 1);
        for line in plan_of(&self.last, &[]).lines() {
            let _ = writeln!(out, "  {line}");
        }
        out
    }
}

/// Splits `program` at its reductions, or `None` if it has none.
pub fn split(program: &Program) -> Option<PassPlan> {
    if !program.nodes.iter().any(|node| node.kind.is_reduction()) {
        return None;
    }
    // Reductions already computed, by id: the input name and type standing for them.
    let mut replaced: HashMap<NodeId, (String, Type)> = HashMap::new();
    let mut steps: Vec<Step> = Vec::new();
    // Reduce steps by operand node, so reductions of one operand share a step.
    let mut reduce_step_of: HashMap<NodeId, usize> = HashMap::new();
    for (index, node) in program.nodes.iter().enumerate() {
        let id = NodeId(index as u32);
        let name = result_input_name(id);
        if let NodeKind::Reduce { op, arg } = node.kind {
            match reduce_step_of.get(&arg) {
                Some(&step) => steps[step].reductions.push((op, name.clone(), node.ty)),
                None => {
                    reduce_step_of.insert(arg, steps.len());
                    steps.push(Step {
                        operand: extract(program, arg, &replaced),
                        reductions: vec![(op, name.clone(), node.ty)],
                    });
                }
            }
            replaced.insert(id, (name, node.ty));
        }
    }
    Some(PassPlan { steps, last: extract_outputs(program, &program.outputs, &replaced) })
}

/// The sub-program computing `root`, with each node of `replaced` read as an input instead.
pub fn extract(program: &Program, root: NodeId, replaced: &HashMap<NodeId, (String, Type)>) -> Program {
    extract_outputs(program, &[("result".to_string(), root)], replaced)
}

/// The sub-program computing `outputs` (at least one), with each node of `replaced` read as
/// an input instead.
pub fn extract_outputs(
    program: &Program,
    outputs: &[(String, NodeId)],
    replaced: &HashMap<NodeId, (String, Type)>,
) -> Program {
    let root = outputs.iter().map(|(_, id)| *id).max().unwrap_or(program.result);
    let mut needed = vec![false; root.index() + 1];
    for (_, output) in outputs {
        needed[output.index()] = true;
    }
    for index in (0..=root.index()).rev() {
        let id = NodeId(index as u32);
        if needed[index] && !replaced.contains_key(&id) {
            for operand in program.node(id).kind.operands() {
                needed[operand.index()] = true;
            }
        }
    }
    let mut builder = Builder::new();
    let mut remap: Vec<Option<NodeId>> = vec![None; root.index() + 1];
    for index in 0..=root.index() {
        if !needed[index] {
            continue;
        }
        let id = NodeId(index as u32);
        let node = program.node(id);
        let new = if let Some((name, ty)) = replaced.get(&id) {
            builder.input(name, *ty)
        } else if let NodeKind::Input { slot } = node.kind {
            let input = &program.inputs[slot as usize];
            builder.input(&input.name, input.ty)
        } else {
            // Operands of a needed, unreplaced node are needed, so already remapped.
            let kind = node.kind.map_operands(|operand| remap[operand.index()].unwrap_or(operand));
            builder.add(Node { kind, ty: node.ty })
        };
        remap[index] = Some(new);
    }
    builder.finish_outputs(
        outputs.iter().map(|(name, id)| (name.clone(), remap[id.index()].unwrap_or(*id))).collect(),
    )
}
