//! Inference on the real models (ONNX Runtime, provider from WALKOUT_PROVIDER: cpu by default,
//! cuda/tensorrt on a GPU server; threads from WALKOUT_THREADS, default 1): per-frame detector
//! latency (YOLOX-nano, PicoDet-XS; preprocessing, run and decode, on a 1920x1080 MOT17 frame)
//! and per-crop embedder latency at batch 1, 8 and 32 (OSNet takes batches; Intel retail-0248
//! runs crop by crop).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use walkout_infer::detect::DetectorConfig;
use walkout_infer::image::RgbImage;
use walkout_infer::{Detector, Embedder, Manifest, RuntimeConfig};

fn runtime() -> RuntimeConfig {
    RuntimeConfig {
        provider: std::env::var("WALKOUT_PROVIDER")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or_default(),
        intra_threads: std::env::var("WALKOUT_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(1),
        ..Default::default()
    }
}

fn frame() -> RgbImage {
    let p = walkout_types::setup::shared_root()
        .join("data/mot17mini/train/MOT17-04-FRCNN/img1/000001.jpg");
    RgbImage::load(&p).expect("MOT17 frame (is WALKOUT_SHARED set?)")
}

fn detectors(c: &mut Criterion) {
    let manifest = Manifest::default_location().expect("manifest");
    let img = frame();
    let mut g = c.benchmark_group("detect_1080p_frame");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for name in ["yolox_nano", "picodet_xs_320"] {
        let mut det = Detector::load(&manifest, name, &runtime(), DetectorConfig::default())
            .expect("detector");
        g.bench_function(name, |b| {
            b.iter(|| black_box(det.detect(&img).expect("detect")))
        });
    }
    g.finish();
}

fn embedders(c: &mut Criterion) {
    let manifest = Manifest::default_location().expect("manifest");
    let img = frame();
    let mut g = c.benchmark_group("embed_crops");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for name in ["osnet_x0_25_msmt17", "reid_retail_0248"] {
        let mut emb = Embedder::load(&manifest, name, &runtime()).expect("embedder");
        for batch in [1usize, 8, 32] {
            let boxes: Vec<[f64; 4]> = (0..batch)
                .map(|i| [100.0 + 50.0 * i as f64, 400.0, 90.0, 230.0])
                .collect();
            g.throughput(Throughput::Elements(batch as u64));
            g.bench_with_input(BenchmarkId::new(name, batch), &boxes, |b, boxes| {
                b.iter(|| black_box(emb.embed(&img, boxes).expect("embed")))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, detectors, embedders);
criterion_main!(benches);
