//! The library in ten lines: compile `dlog(px, 1) * 252` once, evaluate it over a column with a
//! null, and print the rows. Run with `cargo run --release --example quickstart`.

use fusejit::{Bindings, Engine, Validity};

fn main() -> Result<(), fusejit::Error> {
    let engine = Engine::new();
    let kernel = engine.compile("dlog(px, 1) * 252")?;
    let px = [100.0, 101.0, 0.0, 99.5, 100.25];
    let validity = [0b1_1011u8]; // row 2 is null
    let mut bindings = Bindings::new();
    bindings.column_with_validity("px", &px[..], Validity::new(&validity, 0));
    let out = kernel.eval(&bindings)?;
    println!("{} rows, {} null", out.len(), out.null_count);
    for (row, value) in out.to_options().iter().enumerate() {
        match value {
            Some(value) => println!("{row}: {value}"),
            None => println!("{row}: null"),
        }
    }
    Ok(())
}
