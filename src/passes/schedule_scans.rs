//! Scan scheduling: orders the nodes so that the scans' operands are computed first, each scan
//! runs as soon as its operand is ready, and the nodes that feed no scan come after them.
//!
//! `fuse_loops` cuts the node order into stages: a row loop for a run of elementwise nodes, a
//! block call for each scan. In the order a program is written, elementwise nodes sit between
//! the scans (`up = ema(max(d, 0), a); down = ema(max(-d, 0), a)` puts `-d` and its `max`
//! after the first `ema`), so each scan splits the loop in two and scans that could run
//! side by side — one call for two `ema`s, their chains interleaved — do not meet. Here the
//! nodes are re-emitted in a stable topological order whose ready nodes are taken by class:
//!
//! 1. a node other than a scan that some scan depends on (elementwise nodes join the loop
//!    before the scans; inputs, constants and reductions are read, wherever they stand);
//! 2. a scan (consecutive scans become one call);
//! 3. any other node (after the scans: one loop, reading the scans' results).
//!
//! and, within a class, in program order. A program without scans keeps its order. No node
//! is added, removed or changed: every value is computed from the same operands, so the
//! results are the same bits; only the stages' cut moves.

use crate::ir::{Builder, Node, NodeId, NodeKind, Program};
use std::collections::BTreeSet;

/// Which nodes some scan reads, directly or through other nodes (a scan read by a scan
/// included; `run` classes scans apart first).
fn read_by_a_scan(program: &Program) -> Vec<bool> {
    let mut read = vec![false; program.nodes.len()];
    // Users follow their operands: one reverse pass sees every user before its operands.
    for index in (0..program.nodes.len()).rev() {
        let node = &program.nodes[index];
        if read[index] || matches!(node.kind, NodeKind::Scan { .. }) {
            for operand in node.kind.operands() {
                read[operand.index()] = true;
            }
        }
    }
    read
}

pub fn run(program: &Program) -> Program {
    let count = program.nodes.len();
    if !program.nodes.iter().any(|node| matches!(node.kind, NodeKind::Scan { .. })) {
        return program.clone();
    }
    let read = read_by_a_scan(program);
    let class_of = |index: usize| match program.nodes[index].kind {
        NodeKind::Scan { .. } => 1,
        _ if read[index] => 0,
        _ => 2,
    };
    // Each node's distinct operands not yet emitted, and each node's users.
    let mut waiting = vec![0usize; count];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (index, node) in program.nodes.iter().enumerate() {
        let mut operands: Vec<usize> = node.kind.operands().iter().map(|id| id.index()).collect();
        operands.sort_unstable();
        operands.dedup();
        waiting[index] = operands.len();
        for operand in operands {
            users[operand].push(index);
        }
    }
    let mut ready: [BTreeSet<usize>; 3] = Default::default();
    for (index, &left) in waiting.iter().enumerate() {
        if left == 0 {
            ready[class_of(index)].insert(index);
        }
    }
    let mut builder = Builder::with_inputs(program.inputs.clone());
    let mut remap: Vec<Option<NodeId>> = vec![None; count];
    while let Some(index) = ready.iter_mut().find_map(|class| class.pop_first()) {
        let node = &program.nodes[index];
        let kind = node.kind.map_operands(|id| remap[id.index()].expect("operands are emitted before users"));
        remap[index] = Some(builder.add(Node { kind, ..*node }));
        for &user in &users[index] {
            waiting[user] -= 1;
            if waiting[user] == 0 {
                ready[class_of(user)].insert(user);
            }
        }
    }
    builder.finish_outputs(program.remapped_outputs(|id| remap[id.index()].expect("every node is emitted")))
}
