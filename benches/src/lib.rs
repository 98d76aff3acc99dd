//! Synthetic scenes for benches: people walking on a store floor, seen by real or synthetic
//! cameras as the boxes a detector would give (projection of a 1.5-1.9 m tall body).

use std::path::Path;

use glam::{DVec2, DVec3};
use walkout_geometry::{Camera, StoreConfig};
use walkout_types::Detection;

/// A small deterministic random generator (xorshift), so benches need no extra dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
}

/// A person walking on the floor.
#[derive(Debug, Clone, Copy)]
pub struct Walker {
    pub p: DVec2,
    pub v: DVec2,
    pub height_m: f64,
}

/// `n` walkers inside the floor's bounding box (shrunk by 1 m).
pub fn walkers(store: &StoreConfig, n: usize, rng: &mut Rng) -> Vec<Walker> {
    let (lo, hi) = store.floor.bounds();
    (0..n)
        .map(|_| {
            let a = rng.range(0.0, std::f64::consts::TAU);
            Walker {
                p: DVec2::new(
                    rng.range(lo.x + 1.0, hi.x - 1.0),
                    rng.range(lo.y + 1.0, hi.y - 1.0),
                ),
                v: DVec2::new(a.cos(), a.sin()) * rng.range(0.3, 1.5),
                height_m: rng.range(1.5, 1.9),
            }
        })
        .collect()
}

/// Moves walkers by `dt` seconds, bouncing off the floor's bounding box.
pub fn step(store: &StoreConfig, people: &mut [Walker], dt: f64) {
    let (lo, hi) = store.floor.bounds();
    for w in people {
        w.p += w.v * dt;
        if w.p.x < lo.x + 0.5 || w.p.x > hi.x - 0.5 {
            w.v.x = -w.v.x;
        }
        if w.p.y < lo.y + 0.5 || w.p.y > hi.y - 0.5 {
            w.v.y = -w.v.y;
        }
    }
}

/// The boxes each camera sees of the walkers (no occlusion, small jitter).
pub fn boxes(cameras: &[&Camera], people: &[Walker], rng: &mut Rng) -> Vec<Vec<Detection>> {
    cameras
        .iter()
        .map(|cam| {
            people
                .iter()
                .filter_map(|w| {
                    let foot = cam.project(DVec3::new(w.p.x, w.p.y, 0.0))?;
                    let head = cam.project(DVec3::new(w.p.x, w.p.y, w.height_m))?;
                    if !cam.intrinsics.contains(foot) || !cam.intrinsics.contains(head) {
                        return None;
                    }
                    let h = (foot - head).length() * (1.0 + rng.range(-0.02, 0.02));
                    let w_px = 0.35 * h;
                    let u = foot.x + rng.range(-0.01, 0.01) * h;
                    Some(Detection {
                        left: u - w_px / 2.0,
                        top: foot.y - h,
                        width: w_px,
                        height: h,
                        score: rng.range(0.5, 1.0),
                        embedding: None,
                        wrists: Vec::new(),
                    })
                })
                .collect()
        })
        .collect()
}

/// A synthetic square store with `n` ceiling cameras on a grid, 5 m up, pitched down 55-75
/// degrees, looking in varied directions.
pub fn grid_store(n: usize, side_m: f64) -> StoreConfig {
    let toml = grid_store_toml(n, side_m);
    match StoreConfig::from_toml(Path::new("grid-store.toml"), &toml) {
        Ok(s) => s,
        Err(e) => panic!("synthetic store is valid: {e}"),
    }
}

/// The store config text of [`grid_store`].
pub fn grid_store_toml(n: usize, side_m: f64) -> String {
    let cols = (n as f64).sqrt().ceil() as usize;
    let rows = n.div_ceil(cols);
    let mut toml = format!(
        "[store]\nid = \"grid\"\nfloor = [[0.0, 0.0], [{s}, 0.0], [{s}, {s}], [0.0, {s}]]\ncoverage_cell_m = 0.25\n",
        s = side_m
    );
    for k in 0..n {
        let (r, c) = (k / cols, k % cols);
        let centre = DVec3::new(
            (c as f64 + 0.5) * side_m / cols as f64,
            (r as f64 + 0.5) * side_m / rows as f64,
            5.0,
        );
        let yaw = k as f64 * 2.399; // golden angle: varied directions
        let pitch = (55.0 + 10.0 * (k % 3) as f64).to_radians();
        let fwd = DVec3::new(
            yaw.cos() * pitch.cos(),
            yaw.sin() * pitch.cos(),
            -pitch.sin(),
        );
        let right = fwd.cross(DVec3::Z).normalize();
        let down = fwd.cross(right);
        // world_from_camera rotation: columns are the camera axes in the world; rows written out.
        let m = [right, down, fwd];
        let row = |i: usize| format!("[{}, {}, {}]", m[0][i], m[1][i], m[2][i]);
        toml.push_str(&format!(
            "\n[[cameras]]\nid = \"cam{k}\"\nwidth = 1920\nheight = 1080\n[cameras.intrinsics]\nmodel = \"pinhole\"\n\
             fx = 800.0\nfy = 800.0\ncx = 960.0\ncy = 540.0\n[cameras.pose.world_from_camera]\n\
             rotation = [{}, {}, {}]\ntranslation = [{}, {}, {}]\n",
            row(0),
            row(1),
            row(2),
            centre.x,
            centre.y,
            centre.z
        ));
    }
    toml
}
