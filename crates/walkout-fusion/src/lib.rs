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

use glam::{DMat2, DVec2, DVec3};
use walkout_geometry::Camera;
use walkout_geometry::coverage::{CoverageMap, Grid, Polygon};
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
    /// Occupancy peak threshold (fraction of the cameras that see the spot).
    pub peak_threshold: f64,
    /// Peaks closer than this are one person, metres.
    pub nms_radius_m: f64,
    /// Mahalanobis gate (squared) for gathering a view's observation into a peak.
    pub gate_chi2: f64,
    /// A candidate needs at least `ceil(fraction * visible cameras)` supporting views.
    pub min_support_fraction: f64,
    /// Candidates with at least this many views (or all the views there are) are strong.
    pub strong_views: u32,
    /// Observations farther than this outside the floor polygon's bounding box are dropped.
    pub floor_margin_m: f64,
    /// Emit unclaimed single observations as weak candidates.
    pub weak_singles: bool,
}

impl Default for FusionConfig {
    fn default() -> Self {
        FusionConfig {
            cell_m: 0.05,
            head_height_m: 1.7,
            head_height_sigma_m: 0.12,
            pixel_sigma_rel: 0.03,
            pixel_sigma_abs: 1.5,
            floor_sigma_m: 0.08,
            border_px: 2.0,
            min_score: 0.0,
            peak_threshold: 0.2,
            nms_radius_m: 0.2,
            gate_chi2: 9.21,
            min_support_fraction: 0.25,
            strong_views: 2,
            floor_margin_m: 0.5,
            weak_singles: true,
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

/// A box turned into a floor observation.
#[derive(Debug, Clone)]
struct Obs {
    camera: usize,
    p: DVec2,
    cov: DMat2,
    info: DMat2,
    score: f64,
    /// Pixel of the head (top centre) when the top is not truncated.
    head_px: Option<DVec2>,
    embedding: Option<Vec<f32>>,
}

/// Per-tick counters, for health and tuning.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FusionStats {
    pub detections: usize,
    pub observations: usize,
    pub peaks: usize,
    pub candidates: usize,
    pub weak: usize,
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
    touched: Vec<u32>,
    obs: Vec<Obs>,
    pub last_stats: FusionStats,
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
            touched: Vec::new(),
            obs: Vec::new(),
            last_stats: FusionStats::default(),
        }
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

    /// The occupancy grid of the last tick (normalised), row-major.
    pub fn occupancy(&self) -> &[f32] {
        &self.occupancy
    }

    /// Fuses one tick of detections into floor candidates.
    pub fn fuse(&mut self, views: &[View]) -> Vec<FloorCandidate> {
        let mut stats = FusionStats::default();
        self.observe(views, &mut stats);
        self.splat();
        let peaks = self.peaks();
        stats.peaks = peaks.len();
        let out = self.gather(&peaks, &mut stats);
        self.last_stats = stats;
        out
    }

    fn observe(&mut self, views: &[View], stats: &mut FusionStats) {
        self.obs.clear();
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
            for d in view.detections {
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
                let head_px = (!cut_top).then_some(DVec2::new(u, d.top));
                let est = if !cut_bottom {
                    back_project(cam, DVec2::new(u, d.top + d.height), 0.0, px_cov, 0.0)
                } else if let Some(hp) = head_px {
                    back_project(cam, hp, c.head_height_m, px_cov, c.head_height_sigma_m)
                } else {
                    None
                };
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
                    p,
                    cov,
                    info: cov.inverse(),
                    score: d.score,
                    head_px,
                    embedding: d.embedding.clone(),
                });
            }
        }
        stats.observations = self.obs.len();
    }

    fn splat(&mut self) {
        for &i in &self.touched {
            self.occupancy[i as usize] = 0.0;
        }
        self.touched.clear();
        let g = self.grid;
        for o in &self.obs {
            // Gaussian footprint clipped at 2.5 sigma (and 3 m).
            let rx = (2.5 * o.cov.x_axis.x.sqrt()).min(3.0);
            let ry = (2.5 * o.cov.y_axis.y.sqrt()).min(3.0);
            let x0 = (((o.p.x - rx - g.origin.x) / g.cell_m).floor().max(0.0)) as usize;
            let y0 = (((o.p.y - ry - g.origin.y) / g.cell_m).floor().max(0.0)) as usize;
            let x1 = ((((o.p.x + rx - g.origin.x) / g.cell_m).ceil()) as usize).min(g.nx);
            let y1 = ((((o.p.y + ry - g.origin.y) / g.cell_m).ceil()) as usize).min(g.ny);
            let (a, b, cc) = (o.info.x_axis.x, o.info.x_axis.y, o.info.y_axis.y);
            let weight = o.score.clamp(0.0, 1.0);
            for iy in y0..y1 {
                let dy = g.origin.y + (iy as f64 + 0.5) * g.cell_m - o.p.y;
                let row = iy * g.nx;
                for ix in x0..x1 {
                    let dx = g.origin.x + (ix as f64 + 0.5) * g.cell_m - o.p.x;
                    let m2 = a * dx * dx + 2.0 * b * dx * dy + cc * dy * dy;
                    if m2 > 6.25 {
                        continue;
                    }
                    let k = row + ix;
                    if self.occupancy[k] == 0.0 {
                        self.touched.push(k as u32);
                    }
                    self.occupancy[k] +=
                        ((weight * (-0.5 * m2).exp()) as f32) * self.inv_visible[k];
                }
            }
        }
    }

    /// 3x3 local maxima above the threshold, strongest first, then distance NMS.
    fn peaks(&self) -> Vec<(DVec2, f32)> {
        let g = self.grid;
        let thr = self.config.peak_threshold as f32;
        let mut peaks: Vec<(DVec2, f32)> = Vec::new();
        for &k in &self.touched {
            let k = k as usize;
            let v = self.occupancy[k];
            if v < thr {
                continue;
            }
            let (ix, iy) = (k % g.nx, k / g.nx);
            let mut is_max = true;
            'n: for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    if dx == 0 && dy == 0 {
                        continue;
                    }
                    let (nx, ny) = (ix as i64 + dx, iy as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= g.nx as i64 || ny >= g.ny as i64 {
                        continue;
                    }
                    let nv = self.occupancy[ny as usize * g.nx + nx as usize];
                    // Ties resolve towards the lower index so a plateau gives one peak.
                    if nv > v || (nv == v && ((ny as usize) * g.nx + nx as usize) < k) {
                        is_max = false;
                        break 'n;
                    }
                }
            }
            if is_max {
                peaks.push((g.centre(ix, iy), v));
            }
        }
        peaks.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(a.0.x.total_cmp(&b.0.x))
                .then(a.0.y.total_cmp(&b.0.y))
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
                let visible = self.visible_at(o.p).max(1);
                let mut cand = self.candidate(&[i], f64::from(self.inv_visible_at(o.p)), visible);
                cand.strong = false;
                out.push(cand);
                stats.weak += 1;
            }
        }
        out
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

    /// Information-weighted least squares over the member observations, and head height.
    fn candidate(&self, members: &[usize], score: f64, visible: u32) -> FloorCandidate {
        let (p, cov) = self.weighted_mean(members);
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
        FloorCandidate {
            x: p.x,
            y: p.y,
            cov: [cov.x_axis.x, cov.x_axis.y, cov.y_axis.y],
            height_m,
            score: score.min(1.0),
            views,
            visible,
            strong: views >= self.config.strong_views.min(visible),
            cameras,
            embedding,
        }
    }
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
