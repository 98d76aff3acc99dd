//! The Rust metrics equal those of ../shared/tools/ground_plane_eval.py (py-motmetrics 1.4 +
//! TrackEval 1.3) on committed fixture pairs (scripts/dev/make_eval_fixtures.py made them).

use std::collections::HashMap;
use std::path::PathBuf;

use walkout_eval::{evaluate, read_csv};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/fixtures")
    .join(name)
}

fn expected() -> HashMap<String, HashMap<String, f64>> {
    let text = std::fs::read_to_string(fixture("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json holds numbers per fixture")
}

#[test]
fn metrics_equal_the_python_reference() {
    let all = expected();
    assert_eq!(all.len(), 2, "two fixture pairs");
    for (name, want) in &all {
        let gt = read_csv(&fixture(&format!("{name}_gt.csv"))).expect("gt");
        let pred = read_csv(&fixture(&format!("{name}_pred.csv"))).expect("pred");
        let s = evaluate(&gt, &pred, want["thr"]);
        println!("{name}: {s}");
        let got = [
            ("mota", s.mota),
            ("motp", s.motp),
            ("idf1", s.idf1),
            ("idp", s.idp),
            ("idr", s.idr),
            ("id_switches", s.id_switches as f64),
            ("false_positives", s.false_positives as f64),
            ("misses", s.misses as f64),
            ("hota", s.hota),
            ("deta", s.deta),
            ("assa", s.assa),
            ("loca", s.loca),
            ("trackeval_mota", s.mota),
            ("trackeval_idf1", s.idf1),
            ("moda", s.moda),
            ("modp", s.modp),
            ("precision", s.precision),
            ("recall", s.recall),
        ];
        for (k, v) in got {
            let w = want[k];
            assert!((v - w).abs() < 1e-3, "{name}: {k} = {v}, Python says {w}");
        }
    }
}
