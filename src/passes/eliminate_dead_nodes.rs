//! Dead-node elimination: keeps only the nodes the outputs depend on, renumbered in order.
//!
//! Inputs keep their slots even when no live node reads them, so bindings line up with the
//! program the user wrote; a dead input costs nothing at run time.

use crate::ir::{Builder, Node, NodeId, Program};

pub fn run(program: &Program) -> Program {
    // Walk backwards from the result: operands precede users, so one reverse pass marks all.
    let mut live = vec![false; program.nodes.len()];
    for (_, output) in &program.outputs {
        live[output.index()] = true;
    }
    for index in (0..program.nodes.len()).rev() {
        if live[index] {
            for operand in program.nodes[index].kind.operands() {
                live[operand.index()] = true;
            }
        }
    }
    let mut builder = Builder::with_inputs(program.inputs.clone());
    let mut remap: Vec<Option<NodeId>> = vec![None; program.nodes.len()];
    for (index, node) in program.nodes.iter().enumerate() {
        if live[index] {
            let kind = node.kind.map_operands(|id| remap[id.index()].expect("live operands are kept"));
            remap[index] = Some(builder.add(Node { kind, ..*node }));
        }
    }
    builder.finish_outputs(program.remapped_outputs(|id| remap[id.index()].expect("outputs are live")))
}
