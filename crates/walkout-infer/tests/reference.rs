//! walkout-infer against the Python onnxruntime reference (fixtures written by
//! scripts/dev/make_infer_fixtures.py from the real models and images of ../shared):
//! raw outputs within 1e-4, boxes within 0.5 px, embeddings with cosine > 0.9999.

use std::path::PathBuf;

use serde_json::Value;
use walkout_infer::detect::DetectorConfig;
use walkout_infer::embed::cosine;
use walkout_infer::image::RgbImage;
use walkout_infer::{Detector, Embedder, Manifest, RuntimeConfig};

fn fixture(name: &str) -> Value {
    let p = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/fixtures")
    .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("fixture")).expect("json")
}

fn image(rel: &str) -> RgbImage {
    RgbImage::load(&walkout_types::setup::shared_root().join("data").join(rel)).expect("image")
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

#[test]
fn detectors_match_the_reference_raw_outputs_and_boxes() {
    let manifest = Manifest::default_location().expect("manifest");
    let rt = RuntimeConfig::default();
    let expected = fixture("detect.json");
    let mut worst_raw: f64 = 0.0;
    let mut worst_box: f64 = 0.0;
    for name in ["yolox_nano", "picodet_xs_320"] {
        let mut det =
            Detector::load(&manifest, name, &rt, DetectorConfig::default()).expect("load");
        for (rel, per_model) in expected.as_object().expect("images") {
            let img = image(rel);
            let e = &per_model[name];
            let raw = det.raw(&img).expect("raw");
            let row = *raw.shape.last().expect("rank") as usize;
            let rows: Vec<usize> = match e.get("rows") {
                Some(r) => r
                    .as_array()
                    .expect("rows")
                    .iter()
                    .map(|v| v.as_u64().expect("u") as usize)
                    .collect(),
                None => (0..e["raw"].as_array().expect("raw").len()).collect(),
            };
            for (k, want) in rows.iter().zip(e["raw"].as_array().expect("raw")) {
                for (j, w) in want.as_array().expect("row").iter().enumerate() {
                    let got = f64::from(raw.data[k * row + j]);
                    let d = (got - f(w)).abs();
                    worst_raw = worst_raw.max(d);
                    assert!(d <= 1e-4, "{name} {rel} row {k} col {j}: {got} vs {}", f(w));
                }
            }
            let boxes = det.detect(&img).expect("detect");
            let want = e["boxes"].as_array().expect("boxes");
            assert_eq!(boxes.len(), want.len(), "{name} {rel}: {boxes:?}");
            for (b, w) in boxes.iter().zip(want) {
                let w: Vec<f64> = w.as_array().expect("box").iter().map(f).collect();
                for (g, x) in [b.left, b.top, b.width, b.height].iter().zip(&w) {
                    worst_box = worst_box.max((g - x).abs());
                    assert!((g - x).abs() <= 0.5, "{name} {rel}: {b:?} vs {w:?}");
                }
                assert!(
                    (b.score - w[4]).abs() <= 1e-3,
                    "{name} {rel}: {b:?} vs {w:?}"
                );
            }
        }
    }
    println!(
        "worst raw output difference {worst_raw:.2e}, worst box difference {worst_box:.2e} px"
    );
}

#[test]
fn the_astronaut_is_found_and_the_coffee_has_nobody() {
    let manifest = Manifest::default_location().expect("manifest");
    let mut det = Detector::load(
        &manifest,
        "yolox_nano",
        &RuntimeConfig::default(),
        DetectorConfig::default(),
    )
    .expect("load");
    let a = det
        .detect(&image("images/astronaut.png"))
        .expect("astronaut");
    assert!(a.iter().any(|d| d.score > 0.9), "{a:?}");
    let c = det.detect(&image("images/coffee.png")).expect("coffee");
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn embedders_match_the_reference() {
    let manifest = Manifest::default_location().expect("manifest");
    let expected = fixture("embed.json");
    let crops = expected["crops"].as_array().expect("crops");
    for name in ["reid_retail_0248", "osnet_x0_25_msmt17"] {
        let mut emb = Embedder::load(&manifest, name, &RuntimeConfig::default()).expect("load");
        let mut worst: f64 = 1.0;
        for (crop, want) in crops
            .iter()
            .zip(expected[name].as_array().expect("embeddings"))
        {
            let img = image(crop["image"].as_str().expect("image"));
            let b: Vec<f64> = crop["box"].as_array().expect("box").iter().map(f).collect();
            let e = emb.embed(&img, &[[b[0], b[1], b[2], b[3]]]).expect("embed");
            let want: Vec<f32> = want
                .as_array()
                .expect("e")
                .iter()
                .map(|v| f(v) as f32)
                .collect();
            assert_eq!(e[0].len(), want.len());
            let c = cosine(&e[0], &want);
            worst = worst.min(c);
            assert!(c > 0.9999, "{name} {crop}: cosine {c}");
        }
        println!("{name}: lowest cosine to the reference {worst:.6}");
    }
}

#[test]
fn pose_landmarks_and_wrists_match_the_reference() {
    let manifest = Manifest::default_location().expect("manifest");
    let expected = fixture("pose.json");
    let mut pose = walkout_infer::pose::PoseEstimator::load(
        &manifest,
        "pose_landmark_lite",
        &RuntimeConfig::default(),
    )
    .expect("load");
    let img = image(expected["image"].as_str().expect("image"));
    let b: Vec<f64> = expected["box"]
        .as_array()
        .expect("box")
        .iter()
        .map(f)
        .collect();
    let p = pose.estimate(&img, [b[0], b[1], b[2], b[3]]).expect("pose");
    let mut worst: f64 = 0.0;
    for (got, want) in p
        .landmarks
        .iter()
        .zip(expected["landmarks"].as_array().expect("lm"))
    {
        for (g, w) in got.iter().zip(want.as_array().expect("row")) {
            worst = worst.max((f64::from(*g) - f(w)).abs());
        }
    }
    // Landmarks are in crop pixels (0-256) and logits: 1e-3 absolute is 4e-6 relative.
    assert!(worst < 1e-3, "worst landmark difference {worst}");
    for (k, w) in p
        .wrists
        .iter()
        .zip(expected["wrists"].as_array().expect("wrists"))
    {
        let w: Vec<f64> = w.as_array().expect("w").iter().map(f).collect();
        assert!(
            (k.u - w[0]).abs() < 0.5 && (k.v - w[1]).abs() < 0.5,
            "{k:?} vs {w:?}"
        );
        assert!((k.score - w[2]).abs() < 1e-3);
        // Inside the person's box.
        assert!(k.u >= b[0] && k.u <= b[0] + b[2] && k.v >= b[1] && k.v <= b[1] + b[3]);
    }
    println!(
        "pose: worst landmark difference {worst:.2e}; wrists {:?}",
        p.wrists
    );
}
