//! Person boxes as a detector would report them: a body (a vertical cylinder from the floor to
//! the head) sampled at points, each point kept when it projects into the image, in front of the
//! camera, and no shelf box, wall or nearer person hides it; the box spans the visible points.
//! Then misses, edge jitter, false positives; embeddings from the outfit with noise; wrists.

use glam::{DVec2, DVec3};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use walkout_geometry::coverage::{PERSON_RADIUS_M, PersonView};
use walkout_geometry::{Camera, Occluders, StoreConfig};
use walkout_types::{Detection, Keypoint};

use crate::{SimParams, gauss};

/// A person in the store at one frame.
pub struct Body<'a> {
    pub id: usize,
    pub pos: DVec2,
    pub height_m: f64,
    pub appearance: &'a [f32],
    /// A hand reaching into a shelf, when one is.
    pub reach: Option<DVec3>,
    /// Which way the body faces (unit vector on the floor): idle hands hang at its sides.
    pub facing: DVec2,
}

pub struct Renderer {
    cameras: Vec<Camera>,
    occluders: Occluders,
    p_miss: f64,
    jitter: f64,
    fp_rate: f64,
    noise: f64,
    dim: usize,
}

pub(crate) fn unit_vector(rng: &mut ChaCha8Rng, dim: usize) -> Vec<f32> {
    let v: Vec<f64> = (0..dim.max(1)).map(|_| gauss(rng)).collect();
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
    v.into_iter().map(|x| (x / n) as f32).collect()
}

struct Projected {
    id: usize,
    depth: f64,
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Renderer {
    pub fn new(store: &StoreConfig, p: &SimParams) -> Renderer {
        Renderer {
            cameras: store.cameras().cloned().collect(),
            occluders: store.occluders(),
            p_miss: p.p_miss,
            jitter: p.jitter_px,
            fp_rate: p.fp_rate,
            noise: p.embed_noise,
            dim: p.embed_dim,
        }
    }

    /// Every camera's detections of `bodies` at one frame.
    pub fn render(
        &mut self,
        bodies: &[Body],
        rng: &mut ChaCha8Rng,
    ) -> Vec<(String, Vec<Detection>)> {
        let mut out = Vec::with_capacity(self.cameras.len());
        for cam in &self.cameras {
            let centre = cam.centre();
            let mut boxes: Vec<Projected> = Vec::new();
            for b in bodies {
                // Points hidden by nothing count wherever they project: a body cut by the
                // image border is detected (its box ends at the border) when enough of it is
                // in the image and what is in the image is mostly unhidden.
                let view = PersonView::of(cam, b.pos, b.height_m, &self.occluders);
                if !view.seen() {
                    continue;
                }
                let pts = view.clear_px;
                let (wmax, hmax) = (
                    f64::from(cam.intrinsics.width) - 1.0,
                    f64::from(cam.intrinsics.height) - 1.0,
                );
                let (mut l, mut t, mut r, mut bt) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for p in &pts {
                    l = l.min(p.x);
                    r = r.max(p.x);
                    t = t.min(p.y);
                    bt = bt.max(p.y);
                }
                let (l, t, r, bt) = (
                    l.clamp(0.0, wmax),
                    t.clamp(0.0, hmax),
                    r.clamp(0.0, wmax),
                    bt.clamp(0.0, hmax),
                );
                boxes.push(Projected {
                    id: b.id,
                    depth: centre.truncate().distance(b.pos),
                    left: l,
                    top: t,
                    right: r,
                    bottom: bt,
                });
            }
            // Nearer people hide farther ones: a box mostly covered by one nearer box is lost.
            boxes.sort_by(|a, b| a.depth.total_cmp(&b.depth));
            let mut kept: Vec<&Projected> = Vec::new();
            for b in &boxes {
                let area = (b.right - b.left).max(1.0) * (b.bottom - b.top).max(1.0);
                let hidden = kept.iter().any(|n| {
                    let w = (b.right.min(n.right) - b.left.max(n.left)).max(0.0);
                    let h = (b.bottom.min(n.bottom) - b.top.max(n.top)).max(0.0);
                    w * h / area > 0.7
                });
                if !hidden {
                    kept.push(b);
                }
            }
            let (wmax, hmax) = (
                f64::from(cam.intrinsics.width) - 1.0,
                f64::from(cam.intrinsics.height) - 1.0,
            );
            let mut dets = Vec::new();
            for b in kept {
                if rng.gen_bool(self.p_miss.clamp(0.0, 1.0)) {
                    continue;
                }
                // Edge jitter; an edge at the image border stays there (the detector's box is
                // cut by the border too).
                let j = |rng: &mut ChaCha8Rng, v: f64, max: f64| {
                    let n = self.jitter * gauss(rng);
                    if v <= 0.0 || v >= max {
                        v
                    } else {
                        (v + n).clamp(0.0, max)
                    }
                };
                let left = j(rng, b.left, wmax);
                let right = j(rng, b.right, wmax);
                let top = j(rng, b.top, hmax);
                let bottom = j(rng, b.bottom, hmax);
                if right - left < 2.0 || bottom - top < 4.0 {
                    continue;
                }
                let body = bodies.iter().find(|x| x.id == b.id);
                let embedding = body.map(|x| {
                    let noise = unit_vector(rng, x.appearance.len());
                    let v: Vec<f64> = x
                        .appearance
                        .iter()
                        .zip(&noise)
                        .map(|(a, n)| f64::from(*a) + self.noise * f64::from(*n))
                        .collect();
                    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
                    v.into_iter().map(|x| (x / n) as f32).collect()
                });
                let mut wrists = Vec::new();
                if let Some(x) = body {
                    let hands: Vec<DVec3> = match x.reach {
                        Some(h) => vec![h],
                        None => {
                            let dir = x.facing;
                            let side = DVec2::new(-dir.y, dir.x) * (PERSON_RADIUS_M + 0.05);
                            [-1.0, 1.0]
                                .iter()
                                .map(|s| {
                                    let q = x.pos + side * *s;
                                    DVec3::new(q.x, q.y, 0.45 * x.height_m)
                                })
                                .collect()
                        }
                    };
                    for h in hands {
                        if let Some(px) = cam.project(h).filter(|p| cam.intrinsics.contains(*p)) {
                            wrists.push(Keypoint {
                                u: px.x + self.jitter * gauss(rng) * 0.5,
                                v: px.y + self.jitter * gauss(rng) * 0.5,
                                score: 0.8,
                            });
                        }
                    }
                }
                dets.push(Detection {
                    left,
                    top,
                    width: right - left,
                    height: bottom - top,
                    score: rng.gen_range(0.55..0.95),
                    embedding,
                    wrists,
                });
            }
            // False positives: person-sized boxes anywhere, low scores.
            // Poisson count (Knuth).
            let (limit, mut n_fp, mut prod) = ((-self.fp_rate).exp(), 0, rng.r#gen::<f64>());
            while prod > limit && n_fp < 10 {
                n_fp += 1;
                prod *= rng.r#gen::<f64>();
            }
            for _ in 0..n_fp {
                let h = rng.gen_range(60.0..300.0);
                let w = h * rng.gen_range(0.3..0.45);
                let left = rng.gen_range(0.0..(wmax - w).max(1.0));
                let top = rng.gen_range(0.0..(hmax - h).max(1.0));
                dets.push(Detection {
                    left,
                    top,
                    width: w,
                    height: h,
                    score: rng.gen_range(0.3..0.6),
                    embedding: Some(unit_vector(rng, self.dim)),
                    wrists: Vec::new(),
                });
            }
            out.push((cam.id.clone(), dets));
        }
        out
    }
}
