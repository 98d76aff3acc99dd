//! Hands in shelves, from wrists seen by the cameras: each wrist's viewing ray is followed to
//! the first shelf bay it enters; where two or more cameras put a wrist on the same bay within
//! `agree_m` of each other, a hand is at that bay (one camera alone cannot tell a hand in the
//! shelf from a hand in front of it).

use glam::{DVec2, DVec3};
use walkout_geometry::coverage::ray_box_entry;
use walkout_geometry::{Camera, Shelf};
use walkout_types::Detection;

/// A hand at a shelf bay: the bay's index in the store config and the point, metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reach {
    pub shelf: usize,
    pub p: DVec3,
}

/// The hands in shelves at one tick, from every camera's detections (in store camera order).
pub fn reach_points(
    cameras: &[Camera],
    shelves: &[Shelf],
    per_camera: &[Vec<Detection>],
    agree_m: f64,
) -> Vec<Reach> {
    // (camera, shelf, point) of every wrist ray's first bay.
    let mut hits: Vec<(usize, usize, DVec3)> = Vec::new();
    for (c, (cam, dets)) in cameras.iter().zip(per_camera).enumerate() {
        let o = cam.centre();
        for w in dets.iter().flat_map(|d| &d.wrists) {
            let Ok(dir) = cam.ray(DVec2::new(w.u, w.v)) else {
                continue;
            };
            let first = shelves
                .iter()
                .enumerate()
                .filter_map(|(s, sh)| {
                    ray_box_entry(o, dir, sh.min, sh.max, f64::INFINITY).map(|t| (s, t))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((s, t)) = first {
                hits.push((c, s, o + dir * t));
            }
        }
    }
    let mut out: Vec<Reach> = Vec::new();
    for (i, &(ci, si, pi)) in hits.iter().enumerate() {
        let agreeing: Vec<DVec3> = hits
            .iter()
            .enumerate()
            .filter(|(j, (cj, sj, pj))| {
                *j != i && *cj != ci && *sj == si && pj.distance(pi) < agree_m
            })
            .map(|(_, (_, _, p))| *p)
            .collect();
        if agreeing.is_empty() {
            continue;
        }
        let p = (pi + agreeing.iter().sum::<DVec3>()) / (1 + agreeing.len()) as f64;
        if !out
            .iter()
            .any(|r| r.shelf == si && r.p.distance(p) < agree_m)
        {
            out.push(Reach { shelf: si, p });
        }
    }
    out
}
