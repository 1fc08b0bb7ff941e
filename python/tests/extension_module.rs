//! The extension module exists after the build and exports the entry point Python looks for (`PyInit__native`).
//!
//! Its real tests are the pytest files beside this one; this test makes `cargo test` build
//! the module (the package's library is a dependency of every test of the package).

use std::path::PathBuf;

/// Every extension module file the build left in the target directory (the profile's
/// folder, or its `deps/`).
fn extension_modules() -> Vec<PathBuf> {
    let test_binary = std::env::current_exe().expect("the test knows its own path");
    let deps = test_binary.parent().expect("tests live in the profile's deps/").to_path_buf();
    let profile = deps.parent().expect("deps/ is inside the profile's folder").to_path_buf();
    let prefix = format!("{}_native", std::env::consts::DLL_PREFIX);
    let mut found = Vec::new();
    for folder in [profile, deps] {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && name.ends_with(std::env::consts::DLL_SUFFIX) {
                found.push(entry.path());
            }
        }
    }
    found
}

#[test]
fn the_extension_module_is_built_and_exports_its_entry_point() {
    let modules = extension_modules();
    assert!(
        !modules.is_empty(),
        "no {}_native{} was built",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    for module in modules {
        let bytes = std::fs::read(&module).expect("the module is readable");
        let symbol = b"PyInit__native";
        assert!(
            bytes.windows(symbol.len()).any(|window| window == symbol),
            "{} does not export PyInit__native",
            module.display()
        );
    }
}
