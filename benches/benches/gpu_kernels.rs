//! GPU kernels against their CPU references (single thread and rayon): preprocessing of 1, 4 and
//! 8 cameras of 1920x1080 I420 into YOLOX-nano's 416x416 tensor, and the floor occupancy grid +
//! peaks for 7 cameras (WILDTRACK's floor, 40 people) and 32 cameras (30 m store, 200 people).
//! The adapter is printed first (Mesa's lavapipe here: a software rasteriser on 2 cores).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use walkout_benches::Rng;
use walkout_gpu::GpuContext;
use walkout_gpu::bev::{self, BevGrid, BevKernel, BevObservation};
use walkout_gpu::preprocess::{
    self, Frame, Job, Letterbox, PixelFormat, PreprocessKernel, TensorSpec,
};

fn observations(
    rng: &mut Rng,
    grid: &BevGrid,
    people: usize,
    views_per_person: usize,
) -> Vec<BevObservation> {
    let mut out = Vec::new();
    for _ in 0..people {
        let (px, py) = (
            grid.origin_x + rng.range(1.0, f64::from(grid.nx) * f64::from(grid.cell) - 1.0) as f32,
            grid.origin_y + rng.range(1.0, f64::from(grid.ny) * f64::from(grid.cell) - 1.0) as f32,
        );
        for _ in 0..views_per_person {
            let (s1, s2, a) = (
                rng.range(0.05, 0.8) as f32,
                rng.range(0.05, 0.2) as f32,
                rng.range(0.0, std::f64::consts::PI) as f32,
            );
            let (c, s) = (a.cos(), a.sin());
            let (l1, l2) = (1.0 / (s1 * s1), 1.0 / (s2 * s2));
            let info = [
                l1 * c * c + l2 * s * s,
                (l1 - l2) * c * s,
                l1 * s * s + l2 * c * c,
            ];
            out.push(BevObservation::new(
                px + rng.range(-0.1, 0.1) as f32,
                py + rng.range(-0.1, 0.1) as f32,
                info,
                0.8,
            ));
        }
    }
    out
}

fn kernels(c: &mut Criterion) {
    let ctx = match GpuContext::new() {
        Ok(ctx) => {
            eprintln!("adapter: {:?} (software: {})", ctx, ctx.is_software());
            Some(ctx)
        }
        Err(e) => {
            eprintln!("no GPU adapter ({e}): CPU benches only");
            None
        }
    };
    let mut rng = Rng::new(1);
    let spec = TensorSpec::yolox_nano();
    let (w, h) = (1920, 1080);
    let data: Vec<Vec<u8>> = (0..8)
        .map(|_| {
            (0..Frame::packed_len(PixelFormat::I420, w, h))
                .map(|_| (rng.uniform() * 255.0) as u8)
                .collect()
        })
        .collect();
    let mut group = c.benchmark_group("preprocess I420 1920x1080 -> 416x416");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    let mut kernel = ctx
        .as_ref()
        .map(|ctx| PreprocessKernel::new(ctx.clone(), spec));
    for n in [1usize, 4, 8] {
        let frames: Vec<Frame> = data[..n]
            .iter()
            .map(|d| Frame::packed(PixelFormat::I420, w, h, d))
            .collect();
        let jobs: Vec<Job> = (0..n)
            .map(|i| Job::letterbox(i, w, h, &Letterbox::new(w, h, &spec, false)))
            .collect();
        if let Some(k) = kernel.as_mut() {
            group.bench_function(format!("{n} cameras / gpu"), |b| {
                b.iter(|| black_box(k.run(&frames, &jobs).map(|t| t.len())))
            });
            let t = k.last_timings;
            eprintln!(
                "  gpu {n} cameras: upload {:.0} us, dispatch {:.0} us, readback {:.0} us (copy out {:.0} us)",
                t.upload_us, t.dispatch_us, t.readback_us, t.readback_copy_us
            );
            // The daemon's way: one output tensor kept across ticks.
            let mut out = Vec::new();
            group.bench_function(format!("{n} cameras / gpu, output kept"), |b| {
                b.iter(|| black_box(k.run_into(&frames, &jobs, &mut out).map(|()| out.len())))
            });
            let t = k.last_timings;
            eprintln!(
                "  gpu {n} cameras, output kept: upload {:.0} us, dispatch {:.0} us, readback {:.0} us (copy out {:.0} us)",
                t.upload_us, t.dispatch_us, t.readback_us, t.readback_copy_us
            );
        }
        group.bench_function(format!("{n} cameras / cpu"), |b| {
            b.iter(|| black_box(preprocess::cpu::run(&frames, &jobs, &spec).map(|t| t.len())))
        });
        group.bench_function(format!("{n} cameras / cpu rayon"), |b| {
            b.iter(|| {
                black_box(preprocess::cpu::run_parallel(&frames, &jobs, &spec).map(|t| t.len()))
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("floor occupancy + peaks");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    for (name, grid, people, views) in [
        (
            "7 cameras x 40 people, 12x36 m at 0.1 m",
            BevGrid {
                origin_x: -3.5,
                origin_y: -9.5,
                cell: 0.1,
                nx: 130,
                ny: 370,
                radius: 1.0,
            },
            40,
            5,
        ),
        (
            "32 cameras x 200 people, 30x30 m at 0.1 m",
            BevGrid {
                origin_x: -0.5,
                origin_y: -0.5,
                cell: 0.1,
                nx: 310,
                ny: 310,
                radius: 1.0,
            },
            200,
            4,
        ),
    ] {
        let obs = observations(&mut rng, &grid, people, views);
        let inv_visible = vec![0.25f32; grid.len()];
        if let Some(ctx) = &ctx {
            match BevKernel::new(ctx.clone(), grid, &inv_visible) {
                Ok(mut k) => {
                    group.bench_function(format!("{name} / gpu"), |b| {
                        b.iter(|| black_box(k.run(&obs, 0.1).map(|p| p.len())))
                    });
                    let t = k.last_timings;
                    eprintln!(
                        "  gpu {name}: upload {:.0} us, dispatch {:.0} us, readback {:.0} us",
                        t.upload_us, t.dispatch_us, t.readback_us
                    );
                }
                Err(e) => eprintln!("BEV kernel: {e}"),
            }
        }
        group.bench_function(format!("{name} / cpu"), |b| {
            b.iter(|| {
                let occ = bev::cpu::splat(&grid, &obs);
                black_box(bev::cpu::peaks(&grid, &occ, &inv_visible, 0.1).len())
            })
        });
        group.bench_function(format!("{name} / cpu rayon"), |b| {
            b.iter(|| {
                let occ = bev::cpu::splat_parallel(&grid, &obs);
                black_box(bev::cpu::peaks(&grid, &occ, &inv_visible, 0.1).len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
