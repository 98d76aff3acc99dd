//! Bad models and bad images give named errors, never a panic.

use std::path::{Path, PathBuf};

use walkout_infer::detect::DetectorConfig;
use walkout_infer::image::RgbImage;
use walkout_infer::manifest::EMBEDDED;
use walkout_infer::model::sha256_hex;
use walkout_infer::{Detector, Embedder, InferError, Manifest, RuntimeConfig};

const YOLOX_SHA: &str = "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14";

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("walkout-infer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn real_models() -> PathBuf {
    Manifest::default_location().expect("manifest").dir
}

fn manifest(dir: &Path, text: &str) -> Manifest {
    Manifest::parse(text, Path::new("test-models.toml"), dir).expect("manifest parses")
}

fn load_yolox(m: &Manifest) -> Result<Detector, InferError> {
    Detector::load(
        m,
        "yolox_nano",
        &RuntimeConfig::default(),
        DetectorConfig::default(),
    )
}

#[test]
fn a_truncated_model_fails_its_checksum_and_then_its_load() {
    let dir = scratch("trunc");
    let bytes = std::fs::read(real_models().join("yolox_nano.onnx")).expect("model");
    std::fs::write(dir.join("yolox_nano.onnx"), &bytes[..bytes.len() / 2]).expect("write");
    let err = load_yolox(&manifest(&dir, EMBEDDED)).expect_err("truncated");
    let msg = err.to_string();
    assert!(matches!(err, InferError::Checksum { .. }), "{msg}");
    assert!(
        msg.contains("yolox_nano") && msg.contains(YOLOX_SHA),
        "{msg}"
    );
    // Even with a manifest that names the truncated file's checksum, ONNX Runtime refuses it.
    let text = EMBEDDED.replacen(YOLOX_SHA, &sha256_hex(&bytes[..bytes.len() / 2]), 1);
    let err = load_yolox(&manifest(&dir, &text)).expect_err("corrupt");
    assert!(matches!(err, InferError::ModelLoad { .. }), "{err}");
    assert!(err.to_string().contains("yolox_nano.onnx"), "{err}");
}

#[test]
fn a_different_file_under_the_name_fails_its_checksum() {
    let dir = scratch("sha");
    std::fs::copy(
        real_models().join("osnet_x0_25_msmt17.onnx"),
        dir.join("yolox_nano.onnx"),
    )
    .expect("copy");
    let err = load_yolox(&manifest(&dir, EMBEDDED)).expect_err("wrong file");
    assert!(matches!(err, InferError::Checksum { .. }), "{err}");
}

#[test]
fn a_contract_that_does_not_match_the_graph_is_a_named_error() {
    // The manifest claims 320x320 for YOLOX-nano (whose graph takes 416x416).
    let text = EMBEDDED.replacen("size = [416, 416]", "size = [320, 320]", 1);
    let err = load_yolox(&manifest(&real_models(), &text)).expect_err("contract");
    let msg = err.to_string();
    assert!(matches!(err, InferError::Contract { .. }), "{msg}");
    assert!(
        msg.contains("yolox_nano") && msg.contains("416") && msg.contains("320"),
        "{msg}"
    );
    // A wrong input name, and a wrong embedding size.
    let text = EMBEDDED.replacen("input = \"images\"", "input = \"image\"", 1);
    let err = load_yolox(&manifest(&real_models(), &text)).expect_err("input name");
    assert!(err.to_string().contains("no input named `image`"), "{err}");
    let text = EMBEDDED.replacen("embedding_dim = 512", "embedding_dim = 256", 1);
    let err = Embedder::load(
        &manifest(&real_models(), &text),
        "osnet_x0_25_msmt17",
        &RuntimeConfig::default(),
    )
    .expect_err("dim");
    assert!(err.to_string().contains("embedding size"), "{err}");
}

#[test]
fn a_missing_model_file_and_an_unknown_model_are_named() {
    let dir = scratch("missing");
    let err = load_yolox(&manifest(&dir, EMBEDDED)).expect_err("missing");
    assert!(matches!(err, InferError::ModelFile { .. }), "{err}");
    assert!(err.to_string().contains("yolox_nano.onnx"), "{err}");
    let err = Detector::load(
        &manifest(&dir, EMBEDDED),
        "yolov99",
        &RuntimeConfig::default(),
        DetectorConfig::default(),
    )
    .expect_err("unknown");
    assert!(
        err.to_string().contains("yolov99") && err.to_string().contains("yolox_nano"),
        "{err}"
    );
}

#[test]
fn files_that_are_not_images_are_named_errors() {
    let dir = scratch("img");
    let cases: [(&str, &[u8]); 4] = [
        ("text.png", b"this is not an image"),
        ("empty.jpg", b""),
        (
            "truncated.jpg",
            &[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F'],
        ),
        (
            "garbage.jpg",
            &[0xff, 0xd8, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0xff, 0xd9],
        ),
    ];
    for (name, bytes) in cases {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        let err = RgbImage::load(&p).expect_err(name);
        assert!(matches!(err, InferError::Image { .. }), "{name}: {err}");
        assert!(err.to_string().contains(name), "{err}");
    }
    let err = RgbImage::load(&dir.join("nope.png")).expect_err("missing");
    assert!(err.to_string().contains("nope.png"), "{err}");
}
