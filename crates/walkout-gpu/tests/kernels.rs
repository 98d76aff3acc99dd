//! Every kernel against its CPU reference, on random and edge-case inputs, on whatever adapter
//! this machine has (Mesa's lavapipe in CI, NVIDIA Vulkan on a GPU server).

use std::sync::Arc;

use walkout_gpu::bev::{self, BevGrid, BevKernel, BevObservation};
use walkout_gpu::preprocess::{
    self, Frame, Job, Letterbox, PixelFormat, PreprocessKernel, TensorSpec,
};
use walkout_gpu::{GpuContext, shaders};

fn ctx() -> Arc<GpuContext> {
    match GpuContext::new() {
        Ok(c) => {
            eprintln!("adapter: {:?} (software: {})", c, c.is_software());
            c
        }
        Err(e) => panic!("no GPU adapter: {e} (CI installs Mesa's lavapipe through scripts/setup)"),
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn f(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 32) as u8).collect()
    }
}

#[test]
fn shaders_validate_with_naga() {
    for (name, src) in shaders::ALL {
        let module = naga::front::wgsl::parse_str(src)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
        let mut validator = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        );
        if let Err(e) = validator.validate(&module) {
            panic!("{name}: {}", e.emit_to_string(src));
        }
    }
}

fn random_obs(rng: &mut Rng, n: usize, grid: &BevGrid) -> Vec<BevObservation> {
    let w = grid.nx as f32 * grid.cell;
    let h = grid.ny as f32 * grid.cell;
    (0..n)
        .map(|_| {
            // A random covariance: sigma 0.05..1 m along a random direction, 0.05..0.3 across.
            let (s1, s2, a) = (
                rng.f(0.05, 1.0),
                rng.f(0.05, 0.3),
                rng.f(0.0, std::f32::consts::PI),
            );
            let (c, s) = (a.cos(), a.sin());
            let (l1, l2) = (1.0 / (s1 * s1), 1.0 / (s2 * s2));
            let info = [
                l1 * c * c + l2 * s * s,
                (l1 - l2) * c * s,
                l1 * s * s + l2 * c * c,
            ];
            BevObservation::new(
                grid.origin_x + rng.f(-0.5, w + 0.5),
                grid.origin_y + rng.f(-0.5, h + 0.5),
                info,
                rng.f(0.3, 1.0),
            )
        })
        .collect()
}

fn assert_grid_close(gpu: &[f32], cpu: &[f32], what: &str) {
    assert_eq!(gpu.len(), cpu.len(), "{what}");
    for (k, (a, b)) in gpu.iter().zip(cpu).enumerate() {
        let tol = 1e-4 * b.abs().max(1e-2);
        assert!((a - b).abs() <= tol, "{what}: cell {k}: GPU {a} vs CPU {b}");
    }
}

#[test]
fn bev_kernels_equal_the_cpu_reference() {
    let ctx = ctx();
    let mut rng = Rng(0x5eed);
    let cases = [
        // (nx, ny, cell, observations)
        (240u32, 720u32, 0.05f32, 300usize),
        (121, 37, 0.1, 60),
        (17, 1, 0.25, 5),
        (1, 1, 0.1, 3),
        (33, 65, 0.1, 0),
    ];
    for (nx, ny, cell, n) in cases {
        let grid = BevGrid {
            origin_x: -3.0,
            origin_y: -9.0,
            cell,
            nx,
            ny,
            radius: 1.0,
        };
        // Camera counts are constant over large regions, as calibration makes them.
        let block_counts: Vec<u64> = (0..64).map(|_| 1 + rng.next() % 7).collect();
        let inv_visible: Vec<f32> = (0..grid.len())
            .map(|k| {
                let (ix, iy) = (k as u32 % nx, k as u32 / nx);
                1.0 / block_counts[((ix / 40 + 7 * (iy / 40)) % 64) as usize] as f32
            })
            .collect();
        let obs = random_obs(&mut rng, n, &grid);
        let mut kernel = BevKernel::new(ctx.clone(), grid, &inv_visible).expect("kernel");
        let peaks = kernel.run(&obs, 0.1).expect("run");
        let gpu = kernel.read_occupancy().expect("readback");
        let cpu = bev::cpu::splat(&grid, &obs);
        assert_eq!(bev::cpu::splat_parallel(&grid, &obs), cpu);
        assert_grid_close(&gpu, &cpu, &format!("{nx}x{ny} grid, {n} observations"));
        // The peak kernel equals the reference on the same grid, and (away from float ties) the
        // peaks of the CPU grid.
        assert_eq!(
            peaks,
            bev::cpu::peaks(&grid, &gpu, &inv_visible, 0.1),
            "{nx}x{ny}: peaks of the GPU grid"
        );
        let cpu_cells: Vec<u32> = bev::cpu::peaks(&grid, &cpu, &inv_visible, 0.1)
            .iter()
            .map(|p| p.cell)
            .collect();
        let gpu_cells: Vec<u32> = peaks.iter().map(|p| p.cell).collect();
        assert_eq!(gpu_cells, cpu_cells, "{nx}x{ny}: peak cells");
        if n == 0 {
            assert!(peaks.is_empty() && gpu.iter().all(|v| *v == 0.0));
        }
    }
}

fn frame_bytes(rng: &mut Rng, format: PixelFormat, w: u32, h: u32) -> Vec<u8> {
    rng.bytes(Frame::packed_len(format, w, h))
}

fn assert_tensor_close(gpu: &[f32], cpu: &[f32], what: &str) {
    assert_eq!(gpu.len(), cpu.len(), "{what}");
    let worst = gpu
        .iter()
        .zip(cpu)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-4, "{what}: worst |GPU - CPU| = {worst}");
}

#[test]
fn preprocess_and_crops_equal_the_cpu_reference() {
    let ctx = ctx();
    let mut rng = Rng(42);
    let specs = [
        TensorSpec::yolox_nano(),
        TensorSpec::picodet_xs(),
        TensorSpec::reid_retail_0248(),
        TensorSpec::osnet_x0_25(),
    ];
    // Odd sizes, a 1-pixel frame, frames smaller than the model input, a big frame.
    let sizes = [(1u32, 1u32), (3, 5), (77, 33), (641, 359), (1920, 1080)];
    for spec in specs {
        let mut kernel = PreprocessKernel::new(ctx.clone(), spec);
        for format in [PixelFormat::I420, PixelFormat::Nv12, PixelFormat::Rgba] {
            let data: Vec<Vec<u8>> = sizes
                .iter()
                .map(|&(w, h)| frame_bytes(&mut rng, format, w, h))
                .collect();
            let frames: Vec<Frame> = sizes
                .iter()
                .zip(&data)
                .map(|(&(w, h), d)| Frame::packed(format, w, h, d))
                .collect();
            // Letterbox every frame (centred and top-left), plus crops inside, across and outside.
            let mut jobs: Vec<Job> = Vec::new();
            for (i, &(w, h)) in sizes.iter().enumerate() {
                jobs.push(Job::letterbox(
                    i,
                    w,
                    h,
                    &Letterbox::new(w, h, &spec, i % 2 == 0),
                ));
            }
            let (w, h) = (sizes[3].0 as f32, sizes[3].1 as f32);
            for (l, t, bw, bh) in [
                (10.5, 20.25, 40.0, 90.0),
                (-15.0, -30.0, 50.0, 120.0),
                (w - 20.0, h - 60.0, 45.0, 100.0),
                (w + 5.0, 0.0, 30.0, 60.0),
            ] {
                jobs.push(Job::crop(3, l, t, bw, bh, &spec));
            }
            let gpu = kernel.run(&frames, &jobs).expect("gpu run");
            let cpu = preprocess::cpu::run(&frames, &jobs, &spec).expect("cpu run");
            assert_eq!(
                preprocess::cpu::run_parallel(&frames, &jobs, &spec).expect("rayon run"),
                cpu
            );
            assert_tensor_close(
                &gpu,
                &cpu,
                &format!(
                    "{format:?} into {}x{} (nhwc {})",
                    spec.width, spec.height, spec.nhwc
                ),
            );
            let t = kernel.last_timings;
            eprintln!(
                "{format:?} {} jobs -> {}x{}: upload {:.0} us, dispatch {:.0} us, readback {:.0} us (copy out {:.0} us)",
                jobs.len(),
                spec.width,
                spec.height,
                t.upload_us,
                t.dispatch_us,
                t.readback_us,
                t.readback_copy_us
            );
        }
        // An empty batch is empty.
        assert!(kernel.run(&[], &[]).expect("empty").is_empty());
    }
}

#[test]
fn a_crop_outside_the_frame_is_all_padding() {
    let ctx = ctx();
    let spec = TensorSpec {
        pad: 7.0,
        ..TensorSpec::reid_retail_0248()
    };
    let data = vec![200u8; Frame::packed_len(PixelFormat::Rgba, 64, 48)];
    let frames = [Frame::packed(PixelFormat::Rgba, 64, 48, &data)];
    let jobs = [Job::crop(0, 100.0, 100.0, 20.0, 40.0, &spec)];
    let mut kernel = PreprocessKernel::new(ctx, spec);
    let out = kernel.run(&frames, &jobs).expect("run");
    assert!(out.iter().all(|v| *v == 7.0));
}

#[test]
fn bad_frames_are_errors() {
    let ctx = ctx();
    let spec = TensorSpec::yolox_nano();
    let data = vec![0u8; 10];
    let frames = [Frame::packed(PixelFormat::I420, 64, 48, &data)];
    let mut kernel = PreprocessKernel::new(ctx, spec);
    let err = kernel.run(
        &frames,
        &[Job::letterbox(
            0,
            64,
            48,
            &Letterbox::new(64, 48, &spec, false),
        )],
    );
    assert!(err.is_err_and(|e| e.to_string().contains("needs")));
    let err = preprocess::cpu::run(
        &frames,
        &[Job::letterbox(
            1,
            64,
            48,
            &Letterbox::new(64, 48, &spec, false),
        )],
        &spec,
    );
    assert!(err.is_err());
}

#[test]
fn yolox_tensor_of_astronaut_matches_the_python_reference() {
    #[derive(serde::Deserialize)]
    struct Fixture {
        image: String,
        content: [u32; 2],
        channel_sums: [f64; 3],
        indices: Vec<usize>,
        values: Vec<f32>,
    }
    let text = include_str!("fixtures/yolox_astronaut.json");
    let fx: Fixture = serde_json::from_str(text).expect("fixture");
    let path = walkout_types::setup::shared_root().join(&fx.image);
    let img = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgba8();
    let (w, h) = img.dimensions();
    let spec = TensorSpec::yolox_nano();
    let lb = Letterbox::new(w, h, &spec, false);
    assert_eq!([lb.content_w, lb.content_h], fx.content);
    let frames = [Frame::packed(PixelFormat::Rgba, w, h, img.as_raw())];
    let jobs = [Job::letterbox(0, w, h, &lb)];
    let cpu = preprocess::cpu::run(&frames, &jobs, &spec).expect("cpu");
    let mut kernel = PreprocessKernel::new(ctx(), spec);
    let gpu = kernel.run(&frames, &jobs).expect("gpu");
    for (name, t) in [("cpu", &cpu), ("gpu", &gpu)] {
        // f32 sample coordinates are exact to ~1e-5 px, so at the sharpest edges values may
        // differ by up to ~0.01 grey levels from Python's float64 (cv2.resize itself differs
        // by 0.77); on average far less.
        let mut sum_abs = 0.0f64;
        for (&i, &v) in fx.indices.iter().zip(&fx.values) {
            assert!(
                (t[i] - v).abs() < 0.01,
                "{name}: element {i} = {} vs Python {v}",
                t[i]
            );
            sum_abs += f64::from((t[i] - v).abs());
        }
        let mean_abs = sum_abs / fx.indices.len() as f64;
        assert!(mean_abs < 1e-4, "{name}: mean |diff| {mean_abs}");
        let plane = (spec.width * spec.height) as usize;
        for c in 0..3 {
            let sum: f64 = t[c * plane..(c + 1) * plane]
                .iter()
                .map(|&v| f64::from(v))
                .sum();
            assert!(
                (sum - fx.channel_sums[c]).abs() / fx.channel_sums[c] < 1e-5,
                "{name}: channel {c} sum {sum}"
            );
        }
    }
}

#[test]
fn ten_thousand_ticks_allocate_no_gpu_buffers_after_warm_up() {
    let ctx = ctx();
    let mut rng = Rng(9);
    let spec = TensorSpec {
        width: 32,
        height: 32,
        ..TensorSpec::yolox_nano()
    };
    let grid = BevGrid {
        origin_x: 0.0,
        origin_y: 0.0,
        cell: 0.25,
        nx: 24,
        ny: 16,
        radius: 1.0,
    };
    let inv_visible = vec![0.5f32; grid.len()];
    let mut pre = PreprocessKernel::new(ctx.clone(), spec);
    let mut bevk = BevKernel::new(ctx.clone(), grid, &inv_visible).expect("bev");
    let data: Vec<Vec<u8>> = (0..4)
        .map(|_| frame_bytes(&mut rng, PixelFormat::I420, 64, 48))
        .collect();
    let frames: Vec<Frame> = data
        .iter()
        .map(|d| Frame::packed(PixelFormat::I420, 64, 48, d))
        .collect();
    let jobs: Vec<Job> = (0..4)
        .map(|i| Job::letterbox(i, 64, 48, &Letterbox::new(64, 48, &spec, false)))
        .collect();
    let obs = random_obs(&mut rng, 40, &grid);
    // Warm-up: the largest tick first.
    pre.run(&frames, &jobs).expect("warm-up");
    bevk.run(&obs, 0.1).expect("warm-up");
    let after_warm_up = ctx.buffers_created();
    for tick in 0..10_000usize {
        let n = 1 + tick % 4;
        pre.run(&frames[..n], &jobs[..n]).expect("preprocess");
        bevk.run(&obs[..tick % 40], 0.1).expect("bev");
    }
    assert_eq!(
        ctx.buffers_created(),
        after_warm_up,
        "GPU buffers were created on the hot path"
    );
}
