//! Hands in shelves, from wrists seen by the cameras: each wrist's viewing ray is followed to
//! the first shelf bay it enters; where two or more cameras put a wrist on the same bay within
//! `agree_m` of each other, a hand is at that bay (one camera alone cannot tell a hand in the
//! shelf from a hand in front of it).

use glam::{DVec2, DVec3};
use walkout_geometry::coverage::ray_box_entry;
use walkout_geometry::{Camera, Shelf};
use walkout_types::Detection;

/// A hand at a shelf bay: the bay's index in the store config and the point, metres.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    pub shelf: usize,
    pub p: DVec3,
    /// The person detections whose wrists put it there: (camera index, detection index).
    pub detections: Vec<(u16, u32)>,
    /// The tracks those detections were fused into ([`attribute`]): whose hand it is.
    pub tracks: Vec<u64>,
}

/// Names the tracks whose detections carried each hand: `tracks` gives, per track, the
/// detections that updated it at this tick. Where the hand's detections were fused into
/// several tracks (in a crowd one view's box may join a neighbour), the hand is named by the
/// tracks that hold most of them.
pub fn attribute<'a>(
    reaches: &mut [Reach],
    tracks: impl IntoIterator<Item = (u64, &'a [(u16, u32)])> + Clone,
) {
    for r in reaches {
        r.tracks.clear();
        let mut most = 0;
        for (id, dets) in tracks.clone() {
            let n = r.detections.iter().filter(|d| dets.contains(d)).count();
            if n > most {
                most = n;
                r.tracks.clear();
            }
            if n > 0 && n == most {
                r.tracks.push(id);
            }
        }
    }
}

/// The hands in shelves at one tick, from every camera's detections (in store camera order).
pub fn reach_points(
    cameras: &[Camera],
    shelves: &[Shelf],
    per_camera: &[Vec<Detection>],
    agree_m: f64,
) -> Vec<Reach> {
    // (camera, shelf, point, detection) of every wrist ray's first bay.
    let mut hits: Vec<(usize, usize, DVec3, u32)> = Vec::new();
    for (c, (cam, dets)) in cameras.iter().zip(per_camera).enumerate() {
        let o = cam.centre();
        for (n, w) in dets
            .iter()
            .enumerate()
            .flat_map(|(n, d)| d.wrists.iter().map(move |w| (n as u32, w)))
        {
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
                hits.push((c, s, o + dir * t, n));
            }
        }
    }
    let mut out: Vec<Reach> = Vec::new();
    for (i, &(ci, si, pi, ni)) in hits.iter().enumerate() {
        let agreeing: Vec<(usize, DVec3, u32)> = hits
            .iter()
            .enumerate()
            .filter(|(j, (cj, sj, pj, _))| {
                *j != i && *cj != ci && *sj == si && pj.distance(pi) < agree_m
            })
            .map(|(_, &(c, _, p, n))| (c, p, n))
            .collect();
        if agreeing.is_empty() {
            continue;
        }
        let p = (pi + agreeing.iter().map(|a| a.1).sum::<DVec3>()) / (1 + agreeing.len()) as f64;
        let mut detections: Vec<(u16, u32)> = std::iter::once((ci as u16, ni))
            .chain(agreeing.iter().map(|&(c, _, n)| (c as u16, n)))
            .collect();
        detections.sort_unstable();
        detections.dedup();
        match out
            .iter_mut()
            .find(|r| r.shelf == si && r.p.distance(p) < agree_m)
        {
            Some(r) => {
                for d in detections {
                    if !r.detections.contains(&d) {
                        r.detections.push(d);
                    }
                }
            }
            None => out.push(Reach {
                shelf: si,
                p,
                detections,
                tracks: Vec::new(),
            }),
        }
    }
    out
}
