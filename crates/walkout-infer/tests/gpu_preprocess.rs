//! The detector fed by walkout-gpu's preprocessing (the daemon's path for decoded frames): the
//! astronaut as an I420 frame (BT.601, as a decoder would emit it), preprocessed by the WGSL
//! kernel (lavapipe here) and by its CPU reference, gives the same person as the RGB path.

use walkout_gpu::GpuContext;
use walkout_gpu::preprocess::{
    self, ColorMatrix, Frame, Job, Letterbox, PixelFormat, PreprocessKernel, TensorSpec,
};
use walkout_infer::detect::DetectorConfig;
use walkout_infer::image::{Mapping, RgbImage};
use walkout_infer::{Detector, Manifest, RuntimeConfig};

/// RGB -> I420 (BT.601 limited range), chroma averaged over 2x2 blocks.
fn to_i420(img: &RgbImage) -> Vec<u8> {
    let (w, h) = (img.width as usize, img.height as usize);
    let px = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        [0, 1, 2].map(|c| f64::from(img.data[i + c]))
    };
    let mut out = vec![0u8; w * h + 2 * (w / 2) * (h / 2)];
    for y in 0..h {
        for x in 0..w {
            let [r, g, b] = px(x, y);
            out[y * w + x] = (16.0 + 0.257 * r + 0.504 * g + 0.098 * b).round() as u8;
        }
    }
    let (cw, ch) = (w / 2, h / 2);
    for y in 0..ch {
        for x in 0..cw {
            let mut acc = [0.0; 3];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let p = px(2 * x + dx, 2 * y + dy);
                (0..3).for_each(|c| acc[c] += p[c] / 4.0);
            }
            let [r, g, b] = acc;
            out[w * h + y * cw + x] = (128.0 - 0.148 * r - 0.291 * g + 0.439 * b).round() as u8;
            out[w * h + cw * ch + y * cw + x] =
                (128.0 + 0.439 * r - 0.368 * g - 0.071 * b).round() as u8;
        }
    }
    out
}

#[test]
fn gpu_preprocessed_i420_frames_detect_like_the_rgb_path() {
    let img =
        RgbImage::load(&walkout_types::setup::shared_root().join("data/images/astronaut.png"))
            .expect("image");
    let manifest = Manifest::default_location().expect("manifest");
    let mut det = Detector::load(
        &manifest,
        "yolox_nano",
        &RuntimeConfig::default(),
        DetectorConfig::default(),
    )
    .expect("detector");
    let reference = det.detect(&img).expect("rgb path");
    assert_eq!(reference.len(), 1);

    let i420 = to_i420(&img);
    let frame = Frame::packed(PixelFormat::I420, img.width, img.height, &i420);
    let spec = TensorSpec {
        color: ColorMatrix::Bt601,
        ..TensorSpec::yolox_nano()
    };
    let lb = Letterbox::new(img.width, img.height, &spec, false);
    let jobs = [Job::letterbox(0, img.width, img.height, &lb)];
    let mapping = Mapping {
        scale_x: f64::from(lb.scale),
        scale_y: f64::from(lb.scale),
        offset_x: f64::from(lb.offset_x),
        offset_y: f64::from(lb.offset_y),
    };
    let mut tensors = vec![(
        "cpu reference",
        preprocess::cpu::run(&[frame], &jobs, &spec).expect("cpu"),
    )];
    match GpuContext::new() {
        Ok(ctx) => {
            let mut k = PreprocessKernel::new(ctx, spec);
            tensors.push(("wgpu kernel", k.run(&[frame], &jobs).expect("gpu")));
        }
        Err(e) => println!("no wgpu adapter ({e}); CPU reference only"),
    }
    let r = &reference[0];
    for (what, t) in tensors {
        let boxes = det.detect_prepared(t, &mapping).expect("prepared");
        println!("{what}: {boxes:?} (RGB path {r:?})");
        assert_eq!(boxes.len(), 1, "{what}: {boxes:?}");
        let b = &boxes[0];
        for (g, e) in [
            (b.left, r.left),
            (b.top, r.top),
            (b.width, r.width),
            (b.height, r.height),
        ] {
            assert!((g - e).abs() < 2.0, "{what}: {b:?} vs {r:?}");
        }
        assert!(
            (b.score - r.score).abs() < 0.03 && b.score > 0.85,
            "{what}: {b:?} vs {r:?}"
        );
    }
    // A tensor of the wrong size is a named error.
    let err = det
        .detect_prepared(vec![0.0; 10], &mapping)
        .expect_err("size");
    assert!(err.to_string().contains("yolox_nano"), "{err}");
}
