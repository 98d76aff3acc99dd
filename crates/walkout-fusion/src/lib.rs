//! Multi-view fusion: all cameras' person boxes at one tick -> fused floor candidates.
//!
//! 1. Each box becomes a floor observation: its foot point (bottom centre) back-projected to the
//!    floor, or, when the bottom is cut by the image border, its head point (top centre)
//!    back-projected to the nominal head-height plane. The observation's 2x2 floor covariance
//!    follows from the pixel noise (proportional to the box height) through the projection
//!    Jacobian, so far detections are long ellipses. A box cut on the left or right gets a wide
//!    horizontal pixel variance, so truncation does not pull positions.
//! 2. Observations are splatted as Gaussians onto a floor grid; each cell is divided by the number
//!    of cameras that see it (from calibration), so the grid reads "fraction of the cameras that
//!    can see this spot and see someone here".
//! 3. Peaks: 3x3 local maxima above a threshold, then non-maximum suppression by distance.
//! 4. Each peak (strongest first) gathers at most one observation per camera (the nearest in
//!    Mahalanobis distance, within a gate); position = information-weighted least squares over
//!    the gathered views; head height from the views whose head is visible.
//! 5. Candidates supported by too few of the cameras that can see their spot are dropped.
//!    Observations no peak gathered become weak single-view candidates (they may update existing
//!    tracks, never start one).

use std::sync::Arc;

use glam::{DMat2, DMat3, DVec2, DVec3};
use walkout_geometry::Camera;
use walkout_geometry::coverage::{CoverageMap, Grid, Occluders, Polygon};
use walkout_gpu::bev::{BevGrid, BevKernel, BevObservation, Peak, sort_peaks};
use walkout_gpu::{ComputePath, GpuContext, GpuError};
use walkout_types::{Detection, FloorCandidate};

/// Fusion parameters (defaults tuned on the WILDTRACK train split).
#[derive(Debug, Clone, PartialEq)]
pub struct FusionConfig {
    /// Floor grid cell, metres.
    pub cell_m: f64,
    /// Nominal head height for back-projecting head points, metres, and its spread.
    pub head_height_m: f64,
    pub head_height_sigma_m: f64,
    /// Pixel noise of box edges: `rel * box height + abs` (standard deviation, pixels).
    pub pixel_sigma_rel: f64,
    pub pixel_sigma_abs: f64,
    /// Isotropic floor noise added to every observation (body width), metres.
    pub floor_sigma_m: f64,
    /// A box edge within this many pixels of the image border is truncated.
    pub border_px: f64,
    /// Boxes below this detector score are ignored.
    pub min_score: f64,
    /// Largest distance from an observation at which it is splatted, metres (the long tails of
    /// far views add little to peaks but cost time; gathering uses the full covariance).
    pub splat_radius_m: f64,
    /// Occupancy peak threshold (fraction of the cameras that see the spot).
    pub peak_threshold: f64,
    /// Peaks closer than this are one person, metres.
    pub nms_radius_m: f64,
    /// Mahalanobis gate (squared) for gathering a view's observation into a peak.
    pub gate_chi2: f64,
    /// A candidate needs at least `ceil(fraction * visible cameras)` supporting views.
    pub min_support_fraction: f64,
    /// Candidates with at least this many views (or all the views there are, but never fewer
    /// than `min_strong_views`) are strong.
    pub strong_views: u32,
    pub min_strong_views: u32,
    /// Observations farther than this outside the floor polygon's bounding box are dropped.
    pub floor_margin_m: f64,
    /// Emit unclaimed single observations as weak candidates.
    pub weak_singles: bool,
    /// Negative evidence: a single-view observation is dropped when at least this many other
    /// cameras see its floor spot clearly (the box a person there would make in that camera
    /// overlaps no detection, so nothing hides them) and detect nobody (0 disables).
    pub reject_clear_views: u32,
    /// Fraction of the expected box that must be covered by a detection to explain a miss.
    pub explain_overlap: f64,
    /// Body size used to predict boxes: height and width, metres.
    pub body_height_m: f64,
    pub body_width_m: f64,
    /// Box model: a box's horizontal centre is the projection of the body's axis at mid-height
    /// (not of the feet: seen from above at an angle the two differ by a few per cent of the
    /// box height), and each candidate's position and height are refined by Gauss-Newton over
    /// its views' box centres, bottoms (feet) and tops (head), with `head_height_m` /
    /// `head_height_sigma_m` as the prior on the height. 0 iterations: information-weighted
    /// mean of the foot points only.
    pub refine_iterations: u32,
}

impl Default for FusionConfig {
    fn default() -> Self {
        FusionConfig {
            cell_m: 0.1,
            head_height_m: 1.8,
            head_height_sigma_m: 0.12,
            pixel_sigma_rel: 0.03,
            pixel_sigma_abs: 4.0,
            floor_sigma_m: 0.08,
            border_px: 2.0,
            min_score: 0.0,
            splat_radius_m: 1.0,
            peak_threshold: 0.1,
            nms_radius_m: 0.2,
            gate_chi2: 9.21,
            min_support_fraction: 0.25,
            strong_views: 2,
            min_strong_views: 1,
            floor_margin_m: 0.5,
            weak_singles: true,
            reject_clear_views: 1,
            explain_overlap: 0.3,
            body_height_m: 1.7,
            body_width_m: 0.55,
            refine_iterations: 3,
        }
    }
}

/// One camera's boxes at this tick.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// Index of the camera in the fuser's camera list.
    pub camera: usize,
    pub detections: &'a [Detection],
}

impl<'a> View<'a> {
    /// One view per camera from per-camera detection lists (camera index = position).
    pub fn per_camera(detections: &'a [Vec<Detection>]) -> Vec<View<'a>> {
        detections
            .iter()
            .enumerate()
            .map(|(camera, detections)| View { camera, detections })
            .collect()
    }
}

/// A box turned into a floor observation.
#[derive(Debug, Clone)]
struct Obs {
    camera: usize,
    /// Index in the camera's detection list.
    detection: u32,
    p: DVec2,
    cov: DMat2,
    info: DMat2,
    score: f64,
    /// Pixel of the head (top centre) when the top is not truncated.
    head_px: Option<DVec2>,
    embedding: Option<Vec<f32>>,
    /// The box, for the box-model refinement.
    bx: BoxObs,
}

/// What a box says about the body, with the pixel noise of each edge; an edge cut by the
/// image border (or feet hidden by a shelf) says nothing.
#[derive(Debug, Clone, Copy)]
struct BoxObs {
    centre_u: f64,
    bottom: f64,
    top: f64,
    sigma_u: f64,
    sigma_v: f64,
    centre_ok: bool,
    bottom_ok: bool,
    top_ok: bool,
}

/// Per-tick counters, for health and tuning.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FusionStats {
    pub detections: usize,
    pub observations: usize,
    pub peaks: usize,
    pub candidates: usize,
    pub weak: usize,
    /// Single-view observations dropped on negative evidence.
    pub rejected: usize,
    /// Time spent observing, splatting, finding peaks and gathering, microseconds.
    pub phase_us: [f64; 4],
}

/// The fusion stage for one store. Buffers are reused across ticks.
pub struct Fuser {
    cameras: Vec<Camera>,
    config: FusionConfig,
    grid: Grid,
    /// Cameras that see each cell (at least 1 to avoid division by zero).
    inv_visible: Vec<f32>,
    visible: Vec<u8>,
    occupancy: Vec<f32>,
    /// Tiles of TILE x TILE cells written this tick (only those are scanned and cleared).
    tile_dirty: Vec<bool>,
    dirty_tiles: Vec<u32>,
    tiles_x: usize,
    /// The GPU kernels, when fusion runs on the GPU.
    gpu: Option<BevKernel>,
    obs: Vec<Obs>,
    /// This tick's boxes per camera: [left, top, right, bottom].
    boxes: Vec<Vec<[f64; 4]>>,
    pub last_stats: FusionStats,
    occluders: Occluders,
}

impl Fuser {
    /// Builds the fuser: precomputes the grid and the per-cell camera visibility.
    pub fn new(cameras: Vec<Camera>, floor: &Polygon, config: FusionConfig) -> Fuser {
        let (lo, hi) = floor.bounds();
        let margin = DVec2::splat(config.floor_margin_m);
        let area = Polygon::rectangle(lo - margin, hi + margin);
        let refs: Vec<&Camera> = cameras.iter().collect();
        let coverage = CoverageMap::compute(&refs, &area, config.cell_m, 0.0);
        let visible: Vec<u8> = coverage
            .masks
            .iter()
            .map(|m| m.count_ones().min(255) as u8)
            .collect();
        let inv_visible = visible.iter().map(|&v| 1.0 / f32::from(v.max(1))).collect();
        let n = coverage.grid.len();
        Fuser {
            cameras,
            config,
            grid: coverage.grid,
            inv_visible,
            visible,
            occupancy: vec![0.0; n],
            tile_dirty: vec![
                false;
                coverage.grid.nx.div_ceil(TILE) * coverage.grid.ny.div_ceil(TILE)
            ],
            dirty_tiles: Vec::new(),
            tiles_x: coverage.grid.nx.div_ceil(TILE),
            gpu: None,
            obs: Vec::new(),
            boxes: Vec::new(),
            last_stats: FusionStats::default(),
            occluders: Occluders::default(),
        }
    }

    /// Shelves and walls that hide people: a camera counts for a floor cell only when its line
    /// of sight to a person's middle there is clear, and a single view is dropped on negative
    /// evidence only by cameras whose view of the whole body is clear. Call before
    /// [`Fuser::set_compute`].
    pub fn with_occluders(mut self, occluders: Occluders) -> Fuser {
        if occluders.is_empty() {
            return self;
        }
        let mid = 0.5 * self.config.body_height_m;
        let g = self.grid;
        for iy in 0..g.ny {
            for ix in 0..g.nx {
                let i = iy * g.nx + ix;
                if self.visible[i] == 0 {
                    continue;
                }
                let c = g.centre(ix, iy);
                let p = DVec3::new(c.x, c.y, mid);
                let n = self
                    .cameras
                    .iter()
                    .filter(|cam| cam.sees(DVec3::new(c.x, c.y, 0.0)))
                    .filter(|cam| !occluders.blocks(cam.centre(), p))
                    .count();
                self.visible[i] = n.min(255) as u8;
                self.inv_visible[i] = 1.0 / n.max(1) as f32;
            }
        }
        self.occluders = occluders;
        self
    }

    /// Chooses where the occupancy grid and its peaks are computed: `Gpu` uses `ctx`; `Auto`
    /// uses it unless it is a software adapter; `Cpu` never does. Logs the choice.
    pub fn set_compute(
        &mut self,
        requested: ComputePath,
        ctx: Option<Arc<GpuContext>>,
    ) -> Result<ComputePath, GpuError> {
        let path = match (&ctx, requested) {
            (_, ComputePath::Cpu) | (None, ComputePath::Auto) => ComputePath::Cpu,
            (None, ComputePath::Gpu) => {
                return Err(GpuError::NoAdapter {
                    found: "none given".into(),
                });
            }
            (Some(c), r) => c.resolve(r),
        };
        self.gpu = match (path, ctx) {
            (ComputePath::Gpu, Some(ctx)) => {
                let g = &self.grid;
                let grid = BevGrid {
                    origin_x: g.origin.x as f32,
                    origin_y: g.origin.y as f32,
                    cell: g.cell_m as f32,
                    nx: g.nx as u32,
                    ny: g.ny as u32,
                    radius: self.config.splat_radius_m as f32,
                };
                tracing::info!(adapter = %ctx.info.name, "fusion occupancy grid on the GPU");
                Some(BevKernel::new(ctx, grid, &self.inv_visible)?)
            }
            _ => {
                tracing::info!("fusion occupancy grid on the CPU");
                None
            }
        };
        Ok(path)
    }

    /// Whether the occupancy grid runs on the GPU.
    pub fn on_gpu(&self) -> bool {
        self.gpu.is_some()
    }

    pub fn cameras(&self) -> &[Camera] {
        &self.cameras
    }

    pub fn config(&self) -> &FusionConfig {
        &self.config
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Cameras that see the floor cell at `p` (0 off the grid).
    pub fn visible_at(&self, p: DVec2) -> u32 {
        self.grid.cell_of(p).map_or(0, |(ix, iy)| {
            u32::from(self.visible[iy * self.grid.nx + ix])
        })
    }

    /// The occupancy grid of the last tick, row-major: sums of the splatted Gaussians, before
    /// division by the per-cell camera count ([`Fuser::visible_counts`]).
    pub fn occupancy(&self) -> &[f32] {
        &self.occupancy
    }

    /// Cameras that see each grid cell, row-major.
    pub fn visible_counts(&self) -> &[u8] {
        &self.visible
    }

    /// Fuses one tick of detections into floor candidates.
    pub fn fuse(&mut self, views: &[View]) -> Vec<FloorCandidate> {
        let mut stats = FusionStats::default();
        let t0 = std::time::Instant::now();
        self.observe(views, &mut stats);
        let t1 = std::time::Instant::now();
        let gpu_peaks = match self.gpu.as_mut() {
            Some(kernel) => {
                let obs: Vec<BevObservation> = self
                    .obs
                    .iter()
                    .map(|o| {
                        BevObservation::new(
                            o.p.x as f32,
                            o.p.y as f32,
                            [
                                o.info.x_axis.x as f32,
                                o.info.x_axis.y as f32,
                                o.info.y_axis.y as f32,
                            ],
                            o.score.clamp(0.0, 1.0) as f32,
                        )
                    })
                    .collect();
                match kernel.run(&obs, self.config.peak_threshold as f32) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tracing::warn!(error = %e, "GPU fusion failed; this tick runs on the CPU");
                        None
                    }
                }
            }
            None => None,
        };
        if gpu_peaks.is_none() {
            self.splat();
        }
        let t2 = std::time::Instant::now();
        let peaks = match gpu_peaks {
            Some(p) => self.nms(&p),
            None => self.peaks(),
        };
        stats.peaks = peaks.len();
        let t3 = std::time::Instant::now();
        let out = self.gather(&peaks, &mut stats);
        let t4 = std::time::Instant::now();
        stats.phase_us = [t1 - t0, t2 - t1, t3 - t2, t4 - t3].map(|d| d.as_secs_f64() * 1e6);
        self.last_stats = stats;
        out
    }

    fn observe(&mut self, views: &[View], stats: &mut FusionStats) {
        self.obs.clear();
        self.boxes.resize(self.cameras.len(), Vec::new());
        self.boxes.iter_mut().for_each(Vec::clear);
        for view in views {
            if let Some(b) = self.boxes.get_mut(view.camera) {
                b.extend(
                    view.detections
                        .iter()
                        .map(|d| [d.left, d.top, d.left + d.width, d.top + d.height]),
                );
            }
        }
        let c = &self.config;
        let (lo, hi) = (
            self.grid.origin,
            self.grid.origin
                + DVec2::new(self.grid.nx as f64, self.grid.ny as f64) * self.grid.cell_m,
        );
        for view in views {
            let Some(cam) = self.cameras.get(view.camera) else {
                continue;
            };
            let (w, h) = (
                f64::from(cam.intrinsics.width),
                f64::from(cam.intrinsics.height),
            );
            for (n, d) in view.detections.iter().enumerate() {
                stats.detections += 1;
                if !(d.width > 0.0 && d.height > 0.0 && d.score >= c.min_score) {
                    continue;
                }
                let cut_left = d.left <= c.border_px;
                let cut_right = d.left + d.width >= w - 1.0 - c.border_px;
                let cut_top = d.top <= c.border_px;
                let cut_bottom = d.top + d.height >= h - 1.0 - c.border_px;
                let sigma = c.pixel_sigma_rel * d.height + c.pixel_sigma_abs;
                // Horizontal centre noise is about half the vertical edge noise; a box cut at
                // the side has an unknown centre: give it the spread of a body's width.
                let sx = if cut_left || cut_right {
                    (0.2 * d.height).max(0.5 * sigma)
                } else {
                    0.5 * sigma
                };
                let px_cov = DMat2::from_diagonal(DVec2::new(sx * sx, sigma * sigma));
                let u = d.left + d.width / 2.0;
                let bottom = d.top + d.height;
                let head_px = (!cut_top).then_some(DVec2::new(u, d.top));
                let foot = (!cut_bottom)
                    .then(|| back_project(cam, DVec2::new(u, bottom), 0.0, px_cov, 0.0))
                    .flatten()
                    // The box centre is the body's axis at mid-height: the feet are where the
                    // axis meets the floor, a little to the side when seen at an angle.
                    .map(|foot| {
                        if c.refine_iterations == 0 || cut_left || cut_right {
                            return foot;
                        }
                        let p = foot.0.extend(0.0);
                        let mid = DVec3::new(p.x, p.y, 0.5 * c.head_height_m);
                        match (cam.project(p), cam.project(mid)) {
                            (Some(a), Some(b)) => {
                                let u_foot = u - (b.x - a.x);
                                back_project(cam, DVec2::new(u_foot, bottom), 0.0, px_cov, 0.0)
                                    .unwrap_or(foot)
                            }
                            _ => foot,
                        }
                    })
                    // A box whose bottom is a shelf's edge (the feet hidden behind it): the
                    // floor point seen there lies behind the shelf, so use the head.
                    .filter(|(p, _)| {
                        self.occluders.is_empty()
                            || !self
                                .occluders
                                .blocks(cam.centre(), DVec3::new(p.x, p.y, 0.05))
                    });
                let est = if foot.is_some() {
                    foot
                } else if let Some(hp) = head_px {
                    back_project(cam, hp, c.head_height_m, px_cov, c.head_height_sigma_m)
                } else {
                    None
                };
                let feet_seen = foot.is_some();
                let Some((p, cov)) = est else { continue };
                if p.x < lo.x || p.y < lo.y || p.x >= hi.x || p.y >= hi.y {
                    continue;
                }
                let cov = cov + DMat2::IDENTITY * (c.floor_sigma_m * c.floor_sigma_m);
                let det = cov.determinant();
                if !(det.is_finite() && det > 0.0) {
                    continue;
                }
                self.obs.push(Obs {
                    camera: view.camera,
                    detection: n as u32,
                    p,
                    cov,
                    info: cov.inverse(),
                    score: d.score,
                    head_px,
                    embedding: d.embedding.clone(),
                    bx: BoxObs {
                        centre_u: u,
                        bottom,
                        top: d.top,
                        sigma_u: sx,
                        sigma_v: sigma,
                        centre_ok: !(cut_left || cut_right),
                        bottom_ok: feet_seen,
                        top_ok: !cut_top,
                    },
                });
            }
        }
        stats.observations = self.obs.len();
    }

    fn splat(&mut self) {
        for &t in &self.dirty_tiles {
            for k in tile_rows(&self.grid, self.tiles_x, t as usize) {
                self.occupancy[k].fill(0.0);
            }
            self.tile_dirty[t as usize] = false;
        }
        self.dirty_tiles.clear();
        let g = self.grid;
        let c = &self.config;
        const R2: f64 = 6.25; // splat out to 2.5 sigma
        for o in &self.obs {
            let (a, b, cc) = (o.info.x_axis.x, o.info.x_axis.y, o.info.y_axis.y);
            let weight = o.score.clamp(0.0, 1.0);
            // Extent of the ellipse m^2 <= R2 (capped at 3 m).
            let ry = (R2 * o.cov.y_axis.y).sqrt().min(c.splat_radius_m);
            // Cells whose centre lies inside the ellipse and within the radius (the rule the
            // GPU kernel applies per cell).
            let Some((y0, y1)) = centre_range(o.p.y - ry, o.p.y + ry, g.origin.y, g.cell_m, g.ny)
            else {
                continue;
            };
            for iy in y0..y1 {
                let dy = g.origin.y + (iy as f64 + 0.5) * g.cell_m - o.p.y;
                // Row span: a dx^2 + 2 b dx dy + c dy^2 <= R2.
                let disc = b * b * dy * dy - a * (cc * dy * dy - R2);
                if disc < 0.0 {
                    continue;
                }
                let root = disc.sqrt();
                let (dx0, dx1) = (
                    ((-b * dy - root) / a).max(-c.splat_radius_m),
                    ((-b * dy + root) / a).min(c.splat_radius_m),
                );
                let Some((x0, x1)) =
                    centre_range(o.p.x + dx0, o.p.x + dx1, g.origin.x, g.cell_m, g.nx)
                else {
                    continue;
                };
                let row = iy * g.nx;
                if x0 >= x1 {
                    continue;
                }
                // Gaussian along the row by recurrence (no exp per cell): with step h,
                // m2(dx + h) - m2(dx) = a (2 dx h + h^2) + 2 b dy h, growing by 2 a h^2 a step.
                let h = g.cell_m;
                let dx = g.origin.x + (x0 as f64 + 0.5) * h - o.p.x;
                let m2 = a * dx * dx + 2.0 * b * dx * dy + cc * dy * dy;
                let mut val = weight * (-0.5 * m2).exp();
                let mut ratio = (-0.5 * (a * (2.0 * dx * h + h * h) + 2.0 * b * dy * h)).exp();
                let q = (-a * h * h).exp();
                for tx in x0 / TILE..=(x1 - 1) / TILE {
                    let t = (iy / TILE) * self.tiles_x + tx;
                    if !self.tile_dirty[t] {
                        self.tile_dirty[t] = true;
                        self.dirty_tiles.push(t as u32);
                    }
                }
                for cell in &mut self.occupancy[row + x0..row + x1] {
                    *cell += val as f32;
                    val *= ratio;
                    ratio *= q;
                }
            }
        }
    }

    /// Whether cell (ix, iy) with normalised value `v` is a 3x3 local maximum (ties resolve
    /// towards the lower index, so a plateau gives one peak).
    fn is_local_max(&self, ix: usize, iy: usize, v: f32) -> bool {
        let g = &self.grid;
        let k = iy * g.nx + ix;
        for ny in iy.saturating_sub(1)..(iy + 2).min(g.ny) {
            for nx in ix.saturating_sub(1)..(ix + 2).min(g.nx) {
                let nk = ny * g.nx + nx;
                if nk == k {
                    continue;
                }
                let nv = self.occupancy[nk] * self.inv_visible[nk];
                if nv > v || (nv == v && nk < k) {
                    return false;
                }
            }
        }
        true
    }

    /// 3x3 local maxima above the threshold, strongest first, then distance NMS.
    fn peaks(&self) -> Vec<(DVec2, f32)> {
        let g = self.grid;
        let thr = self.config.peak_threshold as f32;
        let mut peaks: Vec<Peak> = Vec::new();
        let norm = |k: usize| self.occupancy[k] * self.inv_visible[k];
        for &t in &self.dirty_tiles {
            let (tx, ty) = (t as usize % self.tiles_x, t as usize / self.tiles_x);
            for iy in ty * TILE..((ty + 1) * TILE).min(g.ny) {
                let row = iy * g.nx;
                for ix in tx * TILE..((tx + 1) * TILE).min(g.nx) {
                    let k = row + ix;
                    // The normalised value never exceeds the raw sum: most cells stop here.
                    if self.occupancy[k] < thr {
                        continue;
                    }
                    let v = norm(k);
                    if v >= thr && self.is_local_max(ix, iy, v) {
                        peaks.push(Peak {
                            cell: k as u32,
                            value: v,
                        });
                    }
                }
            }
        }
        sort_peaks(&mut peaks);
        self.nms(&peaks)
    }

    /// Peak cells -> floor positions, dropping peaks within `nms_radius_m` of a stronger one.
    fn nms(&self, peaks: &[Peak]) -> Vec<(DVec2, f32)> {
        let g = self.grid;
        let peaks = peaks.iter().map(|p| {
            (
                g.centre(p.cell as usize % g.nx, p.cell as usize / g.nx),
                p.value,
            )
        });
        let r2 = self.config.nms_radius_m * self.config.nms_radius_m;
        let mut kept: Vec<(DVec2, f32)> = Vec::with_capacity(peaks.len());
        for p in peaks {
            if kept.iter().all(|q| (q.0 - p.0).length_squared() > r2) {
                kept.push(p);
            }
        }
        kept
    }

    /// Diagnostics: evidence at `p` from all of the last tick's observations, the number of
    /// supporting cameras and the number of cameras that see `p`.
    pub fn evidence_at(&self, p: DVec2) -> (f64, usize, u32) {
        let (s, m) = self.evidence(p, &vec![false; self.obs.len()]);
        (s, m.len(), self.visible_at(p))
    }

    /// Evidence for a person at `p` from the unused observations: per camera the best kernel
    /// value (score-weighted), summed, divided by the cameras that see `p`; and the members.
    fn evidence(&self, p: DVec2, used: &[bool]) -> (f64, Vec<usize>) {
        let ncam = self.cameras.len();
        let mut best: Vec<Option<(usize, f64)>> = vec![None; ncam];
        for (i, o) in self.obs.iter().enumerate() {
            if used[i] {
                continue;
            }
            let d = p - o.p;
            let m2 = d.dot(o.info * d);
            if m2 > self.config.gate_chi2 {
                continue;
            }
            let v = o.score.clamp(0.0, 1.0) * (-0.5 * m2).exp();
            if best[o.camera].is_none_or(|(_, b)| v > b) {
                best[o.camera] = Some((i, v));
            }
        }
        let sum: f64 = best.iter().flatten().map(|(_, v)| v).sum();
        let members = best.iter().flatten().map(|&(i, _)| i).collect();
        (sum * f64::from(self.inv_visible_at(p)), members)
    }

    /// Greedy extraction: the strongest peak (re-scored against the observations still unused,
    /// so ghosts made of already explained observations fade) takes at most one observation per
    /// camera; its position is refined by weighted least squares.
    fn gather(&self, peaks: &[(DVec2, f32)], stats: &mut FusionStats) -> Vec<FloorCandidate> {
        use std::cmp::Ordering;
        use std::collections::BinaryHeap;
        #[derive(PartialEq)]
        struct Item(f64, usize);
        impl Eq for Item {}
        impl PartialOrd for Item {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for Item {
            fn cmp(&self, other: &Self) -> Ordering {
                self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
            }
        }
        let c = &self.config;
        let mut used = vec![false; self.obs.len()];
        let mut heap: BinaryHeap<Item> = peaks
            .iter()
            .enumerate()
            .map(|(i, p)| Item(f64::from(p.1), i))
            .collect();
        let mut out = Vec::new();
        while let Some(Item(_, k)) = heap.pop() {
            let pos = peaks[k].0;
            let (score, members) = self.evidence(pos, &used);
            if score < c.peak_threshold || members.is_empty() {
                continue;
            }
            if heap.peek().is_some_and(|next| score < next.0 - 1e-9) {
                heap.push(Item(score, k));
                continue;
            }
            let visible = self.visible_at(pos).max(1);
            let needed = ((c.min_support_fraction * f64::from(visible)).ceil() as u32).max(1);
            if (members.len() as u32) < needed {
                continue;
            }
            if let [single] = members[..]
                && c.reject_clear_views > 0
                && self.clear_views(self.obs[single].p, &[self.obs[single].camera])
                    > c.reject_clear_views
            {
                continue;
            }
            for &i in &members {
                used[i] = true;
            }
            out.push(self.candidate(&members, score, visible));
        }
        stats.candidates = out.len();
        if c.weak_singles {
            for (i, o) in self.obs.iter().enumerate() {
                if used[i] {
                    continue;
                }
                if c.reject_clear_views > 0
                    && self.clear_views(o.p, &[o.camera]) >= c.reject_clear_views
                {
                    stats.rejected += 1;
                    continue;
                }
                let visible = self.visible_at(o.p).max(1);
                let mut cand = self.candidate(&[i], f64::from(self.inv_visible_at(o.p)), visible);
                cand.strong = false;
                out.push(cand);
                stats.weak += 1;
            }
        }
        out
    }

    /// Cameras other than `except` that would see a person standing at `p` fully inside their
    /// image, with no detection covering the box that person would make: a clear view of an
    /// empty spot.
    fn clear_views(&self, p: DVec2, except: &[usize]) -> u32 {
        let c = &self.config;
        let mut clear = 0;
        for (j, cam) in self.cameras.iter().enumerate() {
            if except.contains(&j) {
                continue;
            }
            let (Some(foot), Some(head)) = (
                cam.project(DVec3::new(p.x, p.y, 0.0)),
                cam.project(DVec3::new(p.x, p.y, c.body_height_m)),
            ) else {
                continue;
            };
            // A view through a shelf or a wall is no evidence of an empty spot.
            if !self.occluders.is_empty()
                && [0.1, 0.5, 0.9].iter().any(|f| {
                    self.occluders
                        .blocks(cam.centre(), DVec3::new(p.x, p.y, f * c.body_height_m))
                })
            {
                continue;
            }
            let h = (foot - head).length();
            let w = h * c.body_width_m / c.body_height_m;
            let u = 0.5 * (foot.x + head.x);
            let b = [
                u - w / 2.0,
                head.y.min(foot.y),
                u + w / 2.0,
                head.y.max(foot.y),
            ];
            let (iw, ih) = (
                f64::from(cam.intrinsics.width),
                f64::from(cam.intrinsics.height),
            );
            if h < 4.0 || b[0] < 0.0 || b[1] < 0.0 || b[2] > iw || b[3] > ih {
                continue;
            }
            let area = (b[2] - b[0]) * (b[3] - b[1]);
            let explained = self.boxes[j].iter().any(|d| {
                let ox = (b[2].min(d[2]) - b[0].max(d[0])).max(0.0);
                let oy = (b[3].min(d[3]) - b[1].max(d[1])).max(0.0);
                ox * oy >= c.explain_overlap * area
            });
            if !explained {
                clear += 1;
            }
        }
        clear
    }

    /// Information-weighted mean and covariance of member observations.
    fn weighted_mean(&self, members: &[usize]) -> (DVec2, DMat2) {
        let mut info = DMat2::ZERO;
        let mut acc = DVec2::ZERO;
        for &i in members {
            let o = &self.obs[i];
            info += o.info;
            acc += o.info * o.p;
        }
        let cov = info.inverse();
        (cov * acc, cov)
    }

    fn inv_visible_at(&self, p: DVec2) -> f32 {
        self.grid
            .cell_of(p)
            .map_or(1.0, |(ix, iy)| self.inv_visible[iy * self.grid.nx + ix])
    }

    /// Gauss-Newton over (x, y, height) from `p`: each member box's centre is the projection of
    /// the body's axis at mid-height, its bottom that of the feet, its top that of the head;
    /// the nominal head height is the prior. `None` when the steps do not settle.
    fn refine(&self, members: &[usize], p: DVec2) -> Option<(DVec2, f64, usize)> {
        let c = &self.config;
        let (h0, sh) = (c.head_height_m, c.head_height_sigma_m.max(1e-3));
        let mut th = DVec3::new(p.x, p.y, h0);
        let mut tops = 0;
        for _ in 0..c.refine_iterations {
            let mut a = DMat3::ZERO;
            let mut b = DVec3::ZERO;
            let mut add = |j: DVec3, r: f64, sigma: f64| {
                let w = 1.0 / (sigma * sigma);
                a += DMat3::from_cols(j * j.x, j * j.y, j * j.z) * w;
                b += j * (r * w);
            };
            add(DVec3::Z, h0 - th.z, sh);
            tops = 0;
            for &i in members {
                let o = &self.obs[i];
                let cam = &self.cameras[o.camera];
                let bx = o.bx;
                if bx.bottom_ok {
                    let (q, j) = cam.project_with_jacobian(DVec3::new(th.x, th.y, 0.0))?;
                    add(DVec3::new(j[0].y, j[1].y, 0.0), bx.bottom - q.y, bx.sigma_v);
                }
                if bx.centre_ok {
                    let (q, j) = cam.project_with_jacobian(DVec3::new(th.x, th.y, 0.5 * th.z))?;
                    add(
                        DVec3::new(j[0].x, j[1].x, 0.5 * j[2].x),
                        bx.centre_u - q.x,
                        bx.sigma_u,
                    );
                }
                if bx.top_ok {
                    let (q, j) = cam.project_with_jacobian(th)?;
                    add(DVec3::new(j[0].y, j[1].y, j[2].y), bx.top - q.y, bx.sigma_v);
                    tops += 1;
                }
            }
            if a.determinant().abs() < 1e-18 {
                return None;
            }
            let step = a.inverse() * b;
            if !step.is_finite() {
                return None;
            }
            th += step;
            if step.truncate().length() < 1e-3 {
                break;
            }
        }
        ((th.truncate() - p).length() < 1.0 && (0.5..=2.5).contains(&th.z)).then_some((
            th.truncate(),
            th.z,
            tops,
        ))
    }

    /// Information-weighted least squares over the member observations, and head height.
    fn candidate(&self, members: &[usize], score: f64, visible: u32) -> FloorCandidate {
        let (p, cov) = self.weighted_mean(members);
        let refined = (self.config.refine_iterations > 0)
            .then(|| self.refine(members, p))
            .flatten();
        let p = refined.map_or(p, |r| r.0);
        let mut heights: Vec<f64> = members
            .iter()
            .filter_map(|&i| {
                let o = &self.obs[i];
                head_height(&self.cameras[o.camera], o.head_px?, p)
            })
            .filter(|h| (0.8..=2.5).contains(h))
            .collect();
        heights.sort_by(f64::total_cmp);
        let height_m = (!heights.is_empty()).then(|| heights[heights.len() / 2]);
        let views = members.len() as u32;
        let embedding = mean_embedding(
            members
                .iter()
                .filter_map(|&i| self.obs[i].embedding.as_deref()),
        );
        let mut cameras: Vec<u16> = members.iter().map(|&i| self.obs[i].camera as u16).collect();
        cameras.sort_unstable();
        let mut detections: Vec<(u16, u32)> = members
            .iter()
            .map(|&i| (self.obs[i].camera as u16, self.obs[i].detection))
            .collect();
        detections.sort_unstable();
        FloorCandidate {
            x: p.x,
            y: p.y,
            cov: [cov.x_axis.x, cov.x_axis.y, cov.y_axis.y],
            height_m,
            score: score.min(1.0),
            views,
            visible,
            strong: views
                >= self
                    .config
                    .strong_views
                    .min(visible)
                    .max(self.config.min_strong_views),
            cameras,
            detections,
            embedding,
        }
    }
}

/// Indices `[first, end)` of the cells (of size `cell`, from `origin`, `n` of them) whose centres
/// lie in `[lo, hi]`.
fn centre_range(lo: f64, hi: f64, origin: f64, cell: f64, n: usize) -> Option<(usize, usize)> {
    let first = ((lo - origin) / cell - 0.5).ceil().max(0.0);
    let last = ((hi - origin) / cell - 0.5).floor();
    if last < first || last < 0.0 {
        return None;
    }
    let (first, end) = (first as usize, (last as usize + 1).min(n));
    (first < end).then_some((first, end))
}

/// Side of the dirty-tracking tiles of the occupancy grid, cells.
const TILE: usize = 16;

/// The occupancy index ranges (one per grid row) of tile `t`.
fn tile_rows(
    g: &Grid,
    tiles_x: usize,
    t: usize,
) -> impl Iterator<Item = std::ops::Range<usize>> + use<> {
    let (tx, ty) = (t % tiles_x, t / tiles_x);
    let (x0, x1) = (tx * TILE, ((tx + 1) * TILE).min(g.nx));
    let nx = g.nx;
    (ty * TILE..((ty + 1) * TILE).min(g.ny)).map(move |iy| iy * nx + x0..iy * nx + x1)
}

/// Back-projects a pixel with pixel covariance onto the plane z = h; `height_sigma` adds the
/// uncertainty of the plane's height along the ray.
fn back_project(
    cam: &Camera,
    px: DVec2,
    h: f64,
    px_cov: DMat2,
    height_sigma: f64,
) -> Option<(DVec2, DMat2)> {
    let p = cam.back_project(px, h).ok()?;
    let j = cam.projection_jacobian_xy(p)?;
    let det = j.determinant();
    if !det.is_finite() || det.abs() < 1e-12 {
        return None;
    }
    let jb = j.inverse();
    let mut cov = jb * px_cov * jb.transpose();
    if height_sigma > 0.0 {
        // Moving the plane by dz moves the point along the ray by (d_xy / d_z) dz.
        let dir: DVec3 = (p - cam.centre()).normalize();
        if dir.z.abs() > 1e-6 {
            let dz = DVec2::new(dir.x / dir.z, dir.y / dir.z);
            cov += DMat2::from_cols(dz * dz.x, dz * dz.y) * (height_sigma * height_sigma);
        }
    }
    Some((p.truncate(), cov))
}

/// Height above the floor at which the head pixel's ray passes over the floor point `p`.
fn head_height(cam: &Camera, head_px: DVec2, p: DVec2) -> Option<f64> {
    let dir = cam.ray(head_px).ok()?;
    let o = cam.centre();
    let dxy = dir.truncate();
    let n2 = dxy.length_squared();
    if n2 < 1e-12 {
        return None;
    }
    let t = (p - o.truncate()).dot(dxy) / n2;
    (t > 0.0).then_some(o.z + t * dir.z)
}

fn mean_embedding<'a>(mut embs: impl Iterator<Item = &'a [f32]>) -> Option<Vec<f32>> {
    let first = embs.next()?;
    let mut acc: Vec<f32> = first.to_vec();
    for e in embs {
        if e.len() == acc.len() {
            acc.iter_mut().zip(e).for_each(|(a, b)| *a += b);
        }
    }
    let norm = acc.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        acc.iter_mut().for_each(|v| *v /= norm);
    }
    Some(acc)
}
