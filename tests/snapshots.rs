//! Tests as data: each `tests/data/<stage>/<case>.fj` program is run through a stage and its
//! output compared with `<case>.expected` beside it by expect-test. `UPDATE_EXPECT=1 cargo
//! test --release --test snapshots` rewrites the expected files; review the diff before
//! committing.
//!
//! Stages: `parse` (the AST with spans), `lower` (the IR after checking and after each pass),
//! `fusion` (the fused loop plan), `errors` (the rendered diagnostic, caret and hint included).
//! A program's first line may declare its inputs: `# inputs: px: f64[]?, a: f64, flag: bool[]`,
//! where `?` marks a column that carries a validity bitmap.

use fusejit::{Elem, Schema, Shape, Type};
use std::path::{Path, PathBuf};

fn data_dir(stage: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(stage)
}

fn cases(stage: &str) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(data_dir(stage))
        .expect("the stage directory exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "fj"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in tests/data/{stage}");
    cases
}

/// Compares every case's actual output with its expected file through expect-test
/// (`UPDATE_EXPECT=1` rewrites them: review the diff before committing). The first case that
/// differs fails with a diff of the two.
fn check_stage(stage: &str, run: impl Fn(&str) -> String) {
    for case in cases(stage) {
        let source = std::fs::read_to_string(&case).expect("readable case");
        let actual = run(&source);
        expect_test::expect_file![case.with_extension("expected")].assert_eq(&actual);
    }
}

/// Reads `# inputs: name: type, ...` from the first line.
fn schema_of(source: &str) -> Schema {
    declarations(source).0
}

/// The schema and the names of the columns declared with a validity bitmap (`f64[]?`).
fn declarations(source: &str) -> (Schema, Vec<String>, Vec<String>) {
    let mut schema = Schema::new();
    let mut with_validity = Vec::new();
    let mut bit_packed = Vec::new();
    let Some(declaration) = source.lines().next().and_then(|line| line.strip_prefix("# inputs:")) else {
        return (schema, with_validity, bit_packed);
    };
    for entry in declaration.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        let (name, ty) = entry.split_once(':').expect("name: type");
        let ty = ty.trim();
        let ty = match ty.strip_suffix('?') {
            Some(ty) => {
                with_validity.push(name.trim().to_string());
                ty
            }
            None => ty,
        };
        let (elem, shape) = match ty.strip_suffix("[]") {
            Some(elem) => (elem, Shape::Column),
            None => (ty, Shape::Scalar),
        };
        let elem = match elem {
            "bits" => {
                bit_packed.push(name.trim().to_string());
                Elem::Bool
            }
            "f64" => Elem::F64,
            "f32" => Elem::F32,
            "i64" => Elem::I64,
            "i32" => Elem::I32,
            "bool" => Elem::Bool,
            other => panic!("unknown element type {other}"),
        };
        schema.insert(name.trim(), Type::new(elem, shape));
    }
    (schema, with_validity, bit_packed)
}

#[test]
fn parse_snapshots() {
    check_stage("parse", |source| match fusejit::internals::syntax::parse_program(source) {
        Ok(program) => program.to_sexpr(),
        Err(diagnostic) => format!("error: {diagnostic}\n"),
    });
}

#[test]
fn lower_snapshots() {
    check_stage("lower", |source| {
        let engine = fusejit::Engine::new();
        let kernel = match engine.compile(source) {
            Ok(kernel) => kernel,
            Err(error) => return error.render("case.fj", false),
        };
        match kernel.ir_text(&schema_of(source)) {
            Ok(text) => text,
            Err(error) => error.render("case.fj", false),
        }
    });
}

#[test]
fn fusion_snapshots() {
    check_stage("fusion", |source| {
        let (schema, with_validity, bit_packed) = declarations(source);
        let ast = fusejit::internals::syntax::parse_program(source).expect("fusion cases parse");
        let program = fusejit::internals::compiler::check(&ast, &schema).expect("fusion cases check");
        let program = fusejit::internals::compiler::optimize(program).expect("the IR verifies");
        // Inputs carrying earlier passes' results: columns are planned as nullable.
        let plan = |program: &fusejit::internals::compiler::Program,
                    reductions: &[fusejit::internals::compiler::ReduceOp]| {
            let forms: Vec<fusejit::internals::compiler::InputForm> = program
                .inputs
                .iter()
                .map(|input| fusejit::internals::compiler::InputForm {
                    nullable: with_validity.contains(&input.name)
                        || (input.name.ends_with('`') && input.ty.shape == Shape::Column),
                    bit_packed: bit_packed.contains(&input.name),
                })
                .collect();
            fusejit::internals::compiler::plan_reduction(program, &forms, reductions)
                .unwrap_or_else(|| fusejit::internals::compiler::plan(program, &forms))
                .to_text()
        };
        match fusejit::internals::compiler::split(&program) {
            Some(passes) => passes.to_text(plan),
            None => plan(&program, &[]),
        }
    });
}

#[test]
fn error_snapshots() {
    check_stage("errors", |source| {
        let engine = fusejit::Engine::new();
        let outcome =
            engine.compile(source).and_then(|kernel| kernel.ir_text(&schema_of(source)).map(|_| kernel));
        match outcome {
            Ok(_) => "compiled without error\n".to_string(),
            Err(error) => error.render("case.fj", false),
        }
    });
}
