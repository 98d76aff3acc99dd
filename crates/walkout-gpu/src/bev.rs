//! Floor (bird's-eye view) occupancy kernels: splat floor observations as Gaussians onto a grid,
//! normalise by the number of cameras that see each cell, and find local maxima.

use std::sync::Arc;
use std::time::Instant;

use bytemuck::{Pod, Zeroable};

use crate::{GpuContext, GpuError, KernelTimings, shaders};

/// Squared Mahalanobis radius out to which a Gaussian is splatted (2.5 sigma).
pub const SPLAT_M2: f32 = 6.25;

/// The floor grid: cell (ix, iy) has its centre at `origin + (i + 0.5) * cell`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BevGrid {
    pub origin_x: f32,
    pub origin_y: f32,
    pub cell: f32,
    pub nx: u32,
    pub ny: u32,
    /// No cell farther than this from an observation (in x or in y) receives it, metres.
    pub radius: f32,
}

impl BevGrid {
    pub fn len(&self) -> usize {
        self.nx as usize * self.ny as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One floor observation: position, inverse covariance `[a b; b c]` and weight.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Pod, Zeroable)]
pub struct BevObservation {
    pub x: f32,
    pub y: f32,
    pub a: f32,
    pub b: f32,
    pub c: f32,
    pub weight: f32,
    pub _pad: [f32; 2],
}

impl BevObservation {
    pub fn new(x: f32, y: f32, info: [f32; 3], weight: f32) -> BevObservation {
        BevObservation {
            x,
            y,
            a: info[0],
            b: info[1],
            c: info[2],
            weight,
            _pad: [0.0; 2],
        }
    }
}

/// A local maximum: cell index (row-major) and normalised value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub cell: u32,
    pub value: f32,
}

/// Sorts peaks strongest first, ties by cell index (the order both paths report).
pub fn sort_peaks(peaks: &mut [Peak]) {
    peaks.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.cell.cmp(&b.cell)));
}

/// CPU references of the kernels (same inclusion rule, same tie rule).
pub mod cpu {
    use super::*;

    /// Occupancy: per cell, the sum over observations of `weight * exp(-m2 / 2)` for
    /// `m2 <= 6.25`, `|dx| <= radius`, `|dy| <= radius` at the cell centre.
    pub fn splat(grid: &BevGrid, obs: &[BevObservation]) -> Vec<f32> {
        let mut out = vec![0.0f32; grid.len()];
        for (iy, row) in out.chunks_mut(grid.nx as usize).enumerate() {
            splat_row(grid, obs, iy as u32, row);
        }
        out
    }

    /// [`splat`] with rows in parallel (rayon).
    pub fn splat_parallel(grid: &BevGrid, obs: &[BevObservation]) -> Vec<f32> {
        use rayon::prelude::*;
        let mut out = vec![0.0f32; grid.len()];
        out.par_chunks_mut(grid.nx as usize)
            .enumerate()
            .for_each(|(iy, row)| splat_row(grid, obs, iy as u32, row));
        out
    }

    fn splat_row(grid: &BevGrid, obs: &[BevObservation], iy: u32, row: &mut [f32]) {
        {
            let cy = grid.origin_y + (iy as f32 + 0.5) * grid.cell;
            for ix in 0..grid.nx {
                let cx = grid.origin_x + (ix as f32 + 0.5) * grid.cell;
                let mut sum = 0.0f32;
                for o in obs {
                    let (dx, dy) = (cx - o.x, cy - o.y);
                    if dx.abs() > grid.radius || dy.abs() > grid.radius {
                        continue;
                    }
                    let m2 = o.a * dx * dx + 2.0 * o.b * dx * dy + o.c * dy * dy;
                    if m2 <= SPLAT_M2 {
                        sum += o.weight * (-0.5 * m2).exp();
                    }
                }
                row[ix as usize] = sum;
            }
        }
    }

    /// Local maxima of `occupancy * inv_visible` at or above `threshold`, sorted.
    pub fn peaks(
        grid: &BevGrid,
        occupancy: &[f32],
        inv_visible: &[f32],
        threshold: f32,
    ) -> Vec<Peak> {
        let (nx, ny) = (grid.nx as usize, grid.ny as usize);
        let norm = |k: usize| occupancy[k] * inv_visible[k];
        let mut out = Vec::new();
        for iy in 0..ny {
            for ix in 0..nx {
                let k = iy * nx + ix;
                if occupancy[k] < threshold {
                    continue;
                }
                let v = norm(k);
                if v < threshold {
                    continue;
                }
                let mut is_max = true;
                'n: for yy in iy.saturating_sub(1)..(iy + 2).min(ny) {
                    for xx in ix.saturating_sub(1)..(ix + 2).min(nx) {
                        let nk = yy * nx + xx;
                        if nk == k {
                            continue;
                        }
                        let nv = norm(nk);
                        if nv > v || (nv == v && nk < k) {
                            is_max = false;
                            break 'n;
                        }
                    }
                }
                if is_max {
                    out.push(Peak {
                        cell: k as u32,
                        value: v,
                    });
                }
            }
        }
        sort_peaks(&mut out);
        out
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GridUniform {
    origin_x: f32,
    origin_y: f32,
    cell: f32,
    radius: f32,
    nx: u32,
    ny: u32,
    count: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PeakUniform {
    nx: u32,
    ny: u32,
    capacity: u32,
    threshold: f32,
}

/// Most peaks one tick can report.
pub const PEAK_CAPACITY: u32 = 16384;

/// The BEV kernels with their persistent buffers (allocated once; the observation buffer grows
/// only when a tick brings more observations than ever before).
pub struct BevKernel {
    ctx: Arc<GpuContext>,
    grid: BevGrid,
    splat: wgpu::ComputePipeline,
    peaks: wgpu::ComputePipeline,
    grid_buf: wgpu::Buffer,
    peak_params: wgpu::Buffer,
    obs_buf: wgpu::Buffer,
    obs_capacity: usize,
    occupancy: wgpu::Buffer,
    inv_visible: wgpu::Buffer,
    peak_buf: wgpu::Buffer,
    count_buf: wgpu::Buffer,
    staging: wgpu::Buffer,
    splat_group: wgpu::BindGroup,
    peak_group: wgpu::BindGroup,
    pub last_timings: KernelTimings,
}

impl BevKernel {
    /// Builds the kernels for a grid; `inv_visible` is 1 / (cameras that see the cell, at least 1).
    pub fn new(
        ctx: Arc<GpuContext>,
        grid: BevGrid,
        inv_visible: &[f32],
    ) -> Result<BevKernel, GpuError> {
        if inv_visible.len() != grid.len() || grid.is_empty() {
            return Err(GpuError::Input(format!(
                "visibility map has {} cells, the grid {}",
                inv_visible.len(),
                grid.len()
            )));
        }
        use wgpu::BufferUsages as U;
        let cells = grid.len() as u64 * 4;
        let splat = ctx.pipeline("bev_splat", shaders::BEV_SPLAT, "splat");
        let peaks = ctx.pipeline("bev_peaks", shaders::BEV_PEAKS, "peaks_main");
        let grid_buf = ctx.buffer("bev grid", 32, U::UNIFORM | U::COPY_DST);
        let peak_params = ctx.buffer("bev peak params", 16, U::UNIFORM | U::COPY_DST);
        let occupancy = ctx.buffer("bev occupancy", cells, U::STORAGE | U::COPY_SRC);
        let inv_buf = ctx.buffer("bev inv visible", cells, U::STORAGE | U::COPY_DST);
        ctx.queue
            .write_buffer(&inv_buf, 0, bytemuck::cast_slice(inv_visible));
        let peak_buf = ctx.buffer(
            "bev peaks",
            u64::from(PEAK_CAPACITY) * 8,
            U::STORAGE | U::COPY_SRC,
        );
        let count_buf = ctx.buffer("bev peak count", 4, U::STORAGE | U::COPY_SRC | U::COPY_DST);
        let staging = ctx.buffer(
            "bev staging",
            cells.max(u64::from(PEAK_CAPACITY) * 8),
            U::MAP_READ | U::COPY_DST,
        );
        let obs_capacity = 1024;
        let obs_buf = ctx.buffer(
            "bev observations",
            obs_capacity as u64 * 32,
            U::STORAGE | U::COPY_DST,
        );
        let (splat_group, peak_group) = Self::bind(
            &ctx,
            &splat,
            &peaks,
            &grid_buf,
            &obs_buf,
            &occupancy,
            &peak_params,
            &inv_buf,
            &peak_buf,
            &count_buf,
        );
        Ok(BevKernel {
            ctx,
            grid,
            splat,
            peaks,
            grid_buf,
            peak_params,
            obs_buf,
            obs_capacity,
            occupancy,
            inv_visible: inv_buf,
            peak_buf,
            count_buf,
            staging,
            splat_group,
            peak_group,
            last_timings: KernelTimings::default(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn bind(
        ctx: &GpuContext,
        splat: &wgpu::ComputePipeline,
        peaks: &wgpu::ComputePipeline,
        grid_buf: &wgpu::Buffer,
        obs_buf: &wgpu::Buffer,
        occupancy: &wgpu::Buffer,
        peak_params: &wgpu::Buffer,
        inv_buf: &wgpu::Buffer,
        peak_buf: &wgpu::Buffer,
        count_buf: &wgpu::Buffer,
    ) -> (wgpu::BindGroup, wgpu::BindGroup) {
        fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
            wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            }
        }
        let splat_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("bev splat"),
            layout: &splat.get_bind_group_layout(0),
            entries: &[entry(0, grid_buf), entry(1, obs_buf), entry(2, occupancy)],
        });
        let peak_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("bev peaks"),
            layout: &peaks.get_bind_group_layout(0),
            entries: &[
                entry(0, peak_params),
                entry(1, occupancy),
                entry(2, inv_buf),
                entry(3, peak_buf),
                entry(4, count_buf),
            ],
        });
        (splat_group, peak_group)
    }

    pub fn grid(&self) -> &BevGrid {
        &self.grid
    }

    /// Splats the observations and finds the peaks at or above `threshold` (sorted).
    pub fn run(&mut self, obs: &[BevObservation], threshold: f32) -> Result<Vec<Peak>, GpuError> {
        let t0 = Instant::now();
        if obs.len() > self.obs_capacity {
            // Grow (rare: only when a tick brings more observations than any before).
            self.obs_capacity = obs.len().next_power_of_two();
            self.obs_buf = self.ctx.buffer(
                "bev observations",
                self.obs_capacity as u64 * 32,
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            );
            let (s, p) = Self::bind(
                &self.ctx,
                &self.splat,
                &self.peaks,
                &self.grid_buf,
                &self.obs_buf,
                &self.occupancy,
                &self.peak_params,
                &self.inv_visible,
                &self.peak_buf,
                &self.count_buf,
            );
            self.splat_group = s;
            self.peak_group = p;
        }
        let g = &self.grid;
        let q = &self.ctx.queue;
        q.write_buffer(
            &self.grid_buf,
            0,
            bytemuck::bytes_of(&GridUniform {
                origin_x: g.origin_x,
                origin_y: g.origin_y,
                cell: g.cell,
                radius: g.radius,
                nx: g.nx,
                ny: g.ny,
                count: obs.len() as u32,
                _pad: 0,
            }),
        );
        q.write_buffer(
            &self.peak_params,
            0,
            bytemuck::bytes_of(&PeakUniform {
                nx: g.nx,
                ny: g.ny,
                capacity: PEAK_CAPACITY,
                threshold,
            }),
        );
        if !obs.is_empty() {
            q.write_buffer(&self.obs_buf, 0, bytemuck::cast_slice(obs));
        }
        q.write_buffer(&self.count_buf, 0, bytemuck::bytes_of(&0u32));
        let t1 = Instant::now();
        let mut enc = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("bev") });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("bev"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.splat);
            pass.set_bind_group(0, &self.splat_group, &[]);
            pass.dispatch_workgroups(g.nx.div_ceil(16), g.ny.div_ceil(16), 1);
            pass.set_pipeline(&self.peaks);
            pass.set_bind_group(0, &self.peak_group, &[]);
            pass.dispatch_workgroups(g.nx.div_ceil(16), g.ny.div_ceil(16), 1);
        }
        self.ctx.queue.submit([enc.finish()]);
        self.ctx
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let t2 = Instant::now();
        let count_bytes = self.ctx.read(&self.count_buf, &self.staging, 4)?;
        let count = u32::from_le_bytes([
            count_bytes[0],
            count_bytes[1],
            count_bytes[2],
            count_bytes[3],
        ])
        .min(PEAK_CAPACITY);
        let raw = self
            .ctx
            .read(&self.peak_buf, &self.staging, u64::from(count) * 8)?;
        let mut peaks: Vec<Peak> = raw
            .chunks_exact(8)
            .map(|c| Peak {
                cell: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                value: f32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        sort_peaks(&mut peaks);
        let t3 = Instant::now();
        self.last_timings = KernelTimings {
            upload_us: (t1 - t0).as_secs_f64() * 1e6,
            dispatch_us: (t2 - t1).as_secs_f64() * 1e6,
            readback_us: (t3 - t2).as_secs_f64() * 1e6,
            ..KernelTimings::default()
        };
        Ok(peaks)
    }

    /// Reads back the occupancy grid of the last run (tests, debugging).
    pub fn read_occupancy(&self) -> Result<Vec<f32>, GpuError> {
        let mut out = vec![0f32; self.grid.len()];
        self.ctx
            .read_into(&self.occupancy, &self.staging, &mut out)?;
        Ok(out)
    }
}
