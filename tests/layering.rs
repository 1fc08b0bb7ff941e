//! The layering the architecture doc promises, checked on the source: which top-level module
//! may name which (`crate::module` paths and `super::` from a module's root), and that the
//! modules form no cycle. A new dependency that breaks a layer fails here, not in review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every top-level module of the library, and the modules it may depend on.
const ALLOWED: &[(&str, &[&str])] = &[
    ("types", &[]),
    ("diagnostic", &[]),
    ("error", &["diagnostic", "types"]),
    ("syntax", &["diagnostic"]),
    ("column", &["types"]),
    ("bindings", &["column", "types", "error"]),
    ("check", &["syntax", "diagnostic", "ir", "types", "column", "math"]),
    ("ir", &["types", "column", "math"]),
    ("passes", &["ir", "types", "math"]),
    ("math", &["error"]),
    ("runtime", &["types", "ir", "math"]),
    ("codegen", &["passes", "ir", "runtime", "math", "types", "column"]),
    ("interp", &["ir", "column", "bindings", "types", "error", "math"]),
    (
        "engine",
        &[
            "syntax",
            "check",
            "ir",
            "passes",
            "codegen",
            "runtime",
            "math",
            "interp",
            "bindings",
            "column",
            "diagnostic",
            "error",
            "types",
        ],
    ),
    // Arrow at the edge: it binds into the engine's data model and calls the API, and nothing
    // inside names it.
    ("arrow", &["bindings", "check", "column", "engine", "error", "types"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/codegen/translate.rs` → `codegen`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main" && name != "cli").then(|| name.to_string())
}

/// The top-level modules a file names as `crate::name`.
fn dependencies(text: &str, modules: &BTreeSet<&str>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if modules.contains(name.as_str()) {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn modules_depend_only_on_their_allowed_layers_and_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules: BTreeSet<&str> = ALLOWED.iter().map(|(name, _)| *name).collect();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut violations = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else { continue };
        assert!(modules.contains(module.as_str()), "{}: module '{module}' is not in ALLOWED", file.display());
        let text = std::fs::read_to_string(file).expect("readable file");
        for dependency in dependencies(&text, &modules) {
            if dependency == module {
                continue;
            }
            if !allowed[module.as_str()].contains(&dependency.as_str()) {
                violations.push(format!("{} ({module}) uses crate::{dependency}", file.display()));
            }
            graph.entry(module.clone()).or_default().insert(dependency);
        }
    }
    assert!(violations.is_empty(), "layering violations:\n{}", violations.join("\n"));
    // No cycle: repeatedly remove modules that depend on nothing left.
    let mut remaining: BTreeSet<String> = modules.iter().map(|m| m.to_string()).collect();
    loop {
        let leaves: Vec<String> = remaining
            .iter()
            .filter(|m| graph.get(*m).is_none_or(|deps| deps.iter().all(|d| !remaining.contains(d))))
            .cloned()
            .collect();
        if leaves.is_empty() {
            break;
        }
        for leaf in leaves {
            remaining.remove(&leaf);
        }
    }
    assert!(remaining.is_empty(), "modules in a cycle: {remaining:?}; graph: {graph:?}");
    // The check can fail: the graph really has edges (a parser that found nothing would pass).
    assert!(graph.get("engine").is_some_and(|deps| deps.contains("codegen")), "{graph:?}");
    assert!(graph.get("interp").is_some_and(|deps| deps.contains("bindings")), "{graph:?}");
}
