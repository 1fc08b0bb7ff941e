use std::time::Instant;
fn main() {
    let x: Vec<f64> = (0..16).map(|i| 100.0 + i as f64).collect();
    let engine = fusejit::Engine::new();
    for src in ["(x-y)*2", "(x-mean(x))/std(x)", "mavg(x,4)", "mean(ln(x))*x", "out a = x*2\nout b = x+1"] {
        let k = engine.compile(src).unwrap();
        let mut b = fusejit::Bindings::new();
        b.column("x", &x[..]).column("y", &x[..]);
        let mut out = vec![0.0; 16];
        let mut validity = vec![0u8; 2];
        let n = 20000;
        for _ in 0..100 {
            let mut t =
                fusejit::ColumnMut { values: fusejit::ValuesMut::F64(&mut out), validity: &mut validity };
            let _ = k.eval_into(&b, &mut t);
            let _ = k.eval_outputs(&b);
        }
        let t0 = Instant::now();
        for _ in 0..n {
            let mut t =
                fusejit::ColumnMut { values: fusejit::ValuesMut::F64(&mut out), validity: &mut validity };
            let _ = k.eval_into(&b, &mut t);
        }
        let a = t0.elapsed().as_nanos() as f64 / n as f64;
        let t0 = Instant::now();
        for _ in 0..n {
            let _ = k.eval_outputs(&b).unwrap();
        }
        println!(
            "{src:?}: eval_into {a:.0} ns, eval_outputs {:.0} ns",
            t0.elapsed().as_nanos() as f64 / n as f64
        );
    }
}
