//! Hands in shelves, from wrists seen by the cameras: each wrist's viewing ray is followed to
//! the first shelf bay it enters; where rays from two cameras enter the same bay within `agree_m`
//! of each other and also meet (pass within `agree_m`: the wrist, triangulated) in the bay or at
//! its face (no more than `HAND_OFF_FACE_M` outside it), a hand is in that bay. One camera alone
//! cannot tell a hand in the shelf from a hand in front of it, and two rays through a wrist
//! hanging beside the shelf enter it close together but meet outside. What one camera can tell
//! is a glimpse ([`glimpses`]): a wrist whose ray enters a bay's face high up, above where hands hang,
//! from a person standing before that face.
//!
//! Two views of one person each carry both wrists, and a ray through one wrist in one view can
//! cross a ray through the other wrist in the other view inside a bay while both hands hang at
//! the person's sides. Where the fusion put the two views' boxes in one track, and a ray meets
//! a ray through a wrist of that same person in another view where hands hang, clear of every
//! bay, that wrist is hanging there: its ray says nothing about a hand in a bay
//! ([`hands_and_glimpses`]).

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
    /// Seen by one camera only ([`glimpses`]): where its ray entered the bay, high on its face.
    pub glimpse: bool,
    /// The appearance the boxes carrying its wrists wear, where they agree (one person's):
    /// set by [`settle_by_appearance`].
    pub look: Option<Vec<f32>>,
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

/// Drops the glimpses low on a bay's face (below `min_z`) whose ray could pass a hand hanging
/// at the side of a body whose track holds its detection (`position` of a track id, on the
/// floor): the track's position is the surer one where the glimpse's own box put its feet off.
pub fn drop_hanging(
    reaches: &mut Vec<Reach>,
    cameras: &[Camera],
    position: impl Fn(u64) -> Option<DVec2>,
    min_z: f64,
) {
    reaches.retain(|r| {
        let Some(cam) = r.detections.first().and_then(|d| cameras.get(d.0 as usize)) else {
            return true;
        };
        if !r.glimpse || r.p.z >= min_z {
            return true;
        }
        let o = cam.centre();
        let d = (r.p - o).normalize_or_zero();
        !r.tracks
            .iter()
            .filter_map(|&t| position(t))
            .any(|b| could_hang(o, d, b))
    });
}

/// The hands in shelves at one tick, from every camera's detections (in store camera order),
/// with nothing known of which detections are one person's.
pub fn reach_points(
    cameras: &[Camera],
    shelves: &[Shelf],
    per_camera: &[Vec<Detection>],
    agree_m: f64,
) -> Vec<Reach> {
    let rays = wrist_rays(cameras, shelves, per_camera, agree_m, |_, _| None);
    triangulate(&rays, shelves, agree_m)
}

/// [`reach_points`] and then [`glimpses`], from one pass over the wrists' rays. `body` names the
/// person (a track id) a detection (camera index, detection index) was fused into, where known:
/// a wrist whose ray meets a ray through a wrist of the same person seen by another camera at
/// the height where hands hang, [`HANG_CLEAR_M`] clear of every bay, within `agree_m`, is
/// hanging there, and pairs with no other ray in a bay.
pub fn hands_and_glimpses(
    cameras: &[Camera],
    shelves: &[Shelf],
    per_camera: &[Vec<Detection>],
    agree_m: f64,
    min_z: f64,
    body: impl Fn(u16, u32) -> Option<u64>,
) -> Vec<Reach> {
    let rays = wrist_rays(cameras, shelves, per_camera, agree_m, body);
    let mut out = triangulate(&rays, shelves, agree_m);
    out.extend(glimpses_of(rays, cameras, shelves, per_camera, min_z));
    out
}

/// Hands where rays of two cameras meet in a bay (see [`reach_points`]).
fn triangulate(rays: &[Ray], shelves: &[Shelf], agree_m: f64) -> Vec<Reach> {
    // Hands found so far, with the sum of their triangulated points.
    let mut out: Vec<(Reach, DVec3, u32)> = Vec::new();
    for (i, a) in rays.iter().enumerate() {
        for b in &rays[i + 1..] {
            if a.camera == b.camera || a.bay != b.bay || a.entry.distance(b.entry) > agree_m {
                continue;
            }
            // A wrist seen hanging (by a third view, or by one of these two through the
            // person's other wrist) is not in the bay.
            if a.hanging || b.hanging {
                continue;
            }
            // The rays must meet there too: two rays through a wrist hanging beside the bay
            // enter it close together but meet outside it.
            let Some((p, gap)) = closest_approach(a.o, a.d, b.o, b.d) else {
                continue;
            };
            let s = a.bay;
            if gap > agree_m || depth_in_box(p, shelves[s].min, shelves[s].max) < -HAND_OFF_FACE_M {
                continue;
            }
            let dets = [
                (a.camera as u16, a.detection),
                (b.camera as u16, b.detection),
            ];
            match out.iter_mut().find(|(r, sum, n)| {
                r.shelf == s && (*sum / f64::from(*n)).distance(p) < 2.0 * agree_m
            }) {
                Some((r, sum, n)) => {
                    *sum += p;
                    *n += 1;
                    for d in dets {
                        if !r.detections.contains(&d) {
                            r.detections.push(d);
                        }
                    }
                }
                None => out.push((
                    Reach {
                        shelf: s,
                        p,
                        detections: dets.to_vec(),
                        tracks: Vec::new(),
                        glimpse: false,
                        look: None,
                    },
                    p,
                    1,
                )),
            }
        }
    }
    out.into_iter()
        .map(|(mut r, sum, n)| {
            r.p = sum / f64::from(n);
            r.detections.sort_unstable();
            r
        })
        .collect()
}

/// Wrists seen by one camera whose viewing ray enters a bay through its face at `min_z` or
/// higher: a wrist that high before a shelf is reaching up to it (a hand hanging at the body's
/// side is seen lower on the face: rays from the ceiling fall on their way to it). Lower, a
/// wrist whose ray passes nowhere near where its body's hands hang ([`could_hang`]) is reaching
/// into the bay too; seen so by a camera farther than [`LOW_GLIMPSE_RANGE_M`] from where the
/// ray entered, it says where a hand was but not whose (no detections). Where along the ray
/// the hand was is unknown; where it entered the bay is near it. Each is a [`Reach`] with
/// `glimpse` set.
pub fn glimpses(
    cameras: &[Camera],
    shelves: &[Shelf],
    per_camera: &[Vec<Detection>],
    min_z: f64,
) -> Vec<Reach> {
    let rays = wrist_rays(cameras, shelves, per_camera, 0.0, |_, _| None);
    glimpses_of(rays, cameras, shelves, per_camera, min_z)
}

/// The glimpses among `rays` (see [`glimpses`]).
fn glimpses_of(
    rays: Vec<Ray>,
    cameras: &[Camera],
    shelves: &[Shelf],
    per_camera: &[Vec<Detection>],
    min_z: f64,
) -> Vec<Reach> {
    rays.into_iter()
        .filter(|r| {
            let sh = &shelves[r.bay];
            // Through a side face, not down through the top (a ray through the bay's top
            // reaches a wrist beyond it, hidden from this camera).
            if r.entry.z >= sh.max.z - 1e-6 {
                return false;
            }
            let low = r.entry.z < min_z;
            // The person whose box carries the wrist stands before that face, an arm from
            // where the ray entered (not beyond the bay, seen through it). Feet cut by the
            // image border say nowhere.
            let cam = &cameras[r.camera];
            let Some(d) = per_camera[r.camera].get(r.detection as usize) else {
                return false;
            };
            let bottom = d.top + d.height;
            if bottom >= f64::from(cam.intrinsics.height) - 2.0 {
                return false;
            }
            cam.back_project(DVec2::new(d.left + d.width / 2.0, bottom), 0.0)
                .is_ok_and(|foot| {
                    let foot = foot.truncate();
                    before_face(sh.min.truncate(), sh.max.truncate(), foot, r.entry)
                        && foot.distance(r.entry.truncate()) <= GLIMPSE_ARM_M
                        && !(low && could_hang(r.o, r.d, foot))
                })
        })
        .map(|r| Reach {
            shelf: r.bay,
            p: r.entry,
            detections: if r.entry.z < min_z
                && r.o.truncate().distance(r.entry.truncate()) > LOW_GLIMPSE_RANGE_M
            {
                Vec::new()
            } else {
                vec![(r.camera as u16, r.detection)]
            },
            tracks: Vec::new(),
            glimpse: true,
            look: None,
        })
        .collect()
}

/// How far from a camera (on the floor plane) a wrist seen low on a bay's face may enter it and
/// its glimpse name whose it was, metres: farther off, people standing one behind the other are
/// one box to the camera, fused into either's track.
pub const LOW_GLIMPSE_RANGE_M: f64 = 8.0;
/// How far from its body's axis (on the floor plane) a wrist hanging at the body's side may be
/// seen, metres (the hand beside the hip, 0.3 m out, and the error of the feet's position).
pub const HANG_R_M: f64 = 0.42;
/// Between which heights a hanging wrist is, metres (adults' hips, with a margin).
pub const HANG_Z_M: (f64, f64) = (0.55, 1.05);

/// Whether a wrist on the viewing ray from `o` along `d` could hang at the side of a body
/// standing at `foot` (on the floor): the ray passes within [`HANG_R_M`] of the body's axis
/// somewhere between the heights of [`HANG_Z_M`]. A ray that does not fall could pass
/// anywhere: it could.
pub fn could_hang(o: DVec3, d: DVec3, foot: DVec2) -> bool {
    if d.z > -1e-9 {
        return true;
    }
    let a = (o + d * ((HANG_Z_M.1 - o.z) / d.z)).truncate();
    let b = (o + d * ((HANG_Z_M.0 - o.z) / d.z)).truncate();
    let ab = b - a;
    let t = ((foot - a).dot(ab) / ab.length_squared().max(1e-12)).clamp(0.0, 1.0);
    (a + ab * t).distance(foot) <= HANG_R_M
}

/// How far from the feet of its person a glimpsed hand may enter a bay, metres (an arm reaching
/// diagonally into a bay from beside its end, and the feet's error along the viewing ray).
pub const GLIMPSE_ARM_M: f64 = 1.0;

/// Whether a body at `b` (on the floor) stands outside the bay `min`..`max` (its floor
/// footprint), before the face that `p` lies on (within 1 cm of it).
pub fn before_face(min: DVec2, max: DVec2, b: DVec2, p: DVec3) -> bool {
    const ON: f64 = 0.01;
    ((p.y - min.y).abs() < ON && b.y < min.y)
        || ((p.y - max.y).abs() < ON && b.y > max.y)
        || ((p.x - min.x).abs() < ON && b.x < min.x)
        || ((p.x - max.x).abs() < ON && b.x > max.x)
}

/// How far clear of every bay (on the floor plane) two rays through one person's wrists must
/// meet for a hanging wrist to explain them, metres: a hand's width (a hand hanging against a
/// bay's face is in the same place as one reaching into it).
pub const HANG_CLEAR_M: f64 = 0.1;

/// A wrist's viewing ray and the first bay it enters, where; `hanging` where the same wrist is
/// seen hanging by another camera (see [`hands_and_glimpses`]).
struct Ray {
    camera: usize,
    detection: u32,
    o: DVec3,
    d: DVec3,
    bay: usize,
    entry: DVec3,
    hanging: bool,
}

/// Every wrist's viewing ray that enters a bay, each marked `hanging` where it meets, within
/// `agree_m`, a ray through a wrist of the same person (`body`) seen by another camera where
/// hands hang, [`HANG_CLEAR_M`] clear of every bay.
fn wrist_rays(
    cameras: &[Camera],
    shelves: &[Shelf],
    per_camera: &[Vec<Detection>],
    agree_m: f64,
    body: impl Fn(u16, u32) -> Option<u64>,
) -> Vec<Ray> {
    // Every wrist's ray, in a bay or not: (camera, origin, direction, person).
    let mut wrists: Vec<(usize, DVec3, DVec3, Option<u64>)> = Vec::new();
    let mut rays: Vec<Ray> = Vec::new();
    for (c, (cam, dets)) in cameras.iter().zip(per_camera).enumerate() {
        let o = cam.centre();
        for (n, w) in dets
            .iter()
            .enumerate()
            .flat_map(|(n, d)| d.wrists.iter().map(move |w| (n as u32, w)))
        {
            let Ok(d) = cam.ray(DVec2::new(w.u, w.v)) else {
                continue;
            };
            wrists.push((c, o, d, body(c as u16, n)));
            let first = shelves
                .iter()
                .enumerate()
                .filter_map(|(s, sh)| {
                    ray_box_entry(o, d, sh.min, sh.max, f64::INFINITY).map(|t| (s, t))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((bay, t)) = first {
                rays.push(Ray {
                    camera: c,
                    detection: n,
                    o,
                    d,
                    bay,
                    entry: o + d * t,
                    hanging: false,
                });
            }
        }
    }
    let hangs = |p: DVec3| {
        (HANG_Z_M.0..=HANG_Z_M.1).contains(&p.z)
            && shelves
                .iter()
                .all(|s| depth_in_box(p, s.min, s.max) < -HANG_CLEAR_M)
    };
    for r in &mut rays {
        let Some(me) = body(r.camera as u16, r.detection) else {
            continue;
        };
        r.hanging = wrists.iter().any(|&(c, o, d, whose)| {
            c != r.camera
                && whose == Some(me)
                && closest_approach(r.o, r.d, o, d)
                    .is_some_and(|(p, gap)| gap <= agree_m && hangs(p))
        });
    }
    rays
}

/// Where two rays (origins `o1`, `o2`, directions `d1`, `d2`) come nearest each other in front
/// of both origins: the midpoint of that closest approach and its length. `None` for
/// (nearly) parallel rays or a meeting behind either origin.
fn closest_approach(o1: DVec3, d1: DVec3, o2: DVec3, d2: DVec3) -> Option<(DVec3, f64)> {
    let w = o1 - o2;
    let (a, b, c) = (d1.dot(d1), d1.dot(d2), d2.dot(d2));
    let (d, e) = (d1.dot(w), d2.dot(w));
    let denom = a * c - b * b;
    if denom <= 1e-9 * a * c {
        return None;
    }
    let s = (b * e - c * d) / denom;
    let t = (a * e - b * d) / denom;
    if s <= 0.0 || t <= 0.0 {
        return None;
    }
    let (p, q) = (o1 + d1 * s, o2 + d2 * t);
    Some(((p + q) / 2.0, p.distance(q)))
}

/// How far outside a bay's faces a triangulated wrist may be and still be in it, metres (a
/// hand taking an item reaches the face; one hanging beside the shelf is farther off).
pub const HAND_OFF_FACE_M: f64 = 0.03;

/// How far `p` is inside the box `min`..`max` on the floor plane (from the nearest side face;
/// negative outside it).
fn depth_in_box(p: DVec3, min: DVec3, max: DVec3) -> f64 {
    (p.x - min.x)
        .min(max.x - p.x)
        .min(p.y - min.y)
        .min(max.y - p.y)
}

/// The mean appearance of the boxes carrying a hand's wrists, where every two of them are
/// alike (`OUTFIT_SAME`): one person's.
fn agreed_look(r: &Reach, per_camera: &[Vec<Detection>]) -> Option<Vec<f32>> {
    let boxes: Vec<&[f32]> = r
        .detections
        .iter()
        .filter_map(|&(c, i)| {
            per_camera
                .get(usize::from(c))
                .and_then(|v| v.get(i as usize))
                .and_then(|d| d.embedding.as_deref())
        })
        .collect();
    let first = boxes.first()?;
    if boxes.iter().any(|b| b.len() != first.len())
        || boxes.iter().enumerate().any(|(i, a)| {
            boxes[i + 1..]
                .iter()
                .any(|b| crate::cosine(a, b) < crate::OUTFIT_SAME)
        })
    {
        return None;
    }
    let mut m = vec![0.0f32; first.len()];
    for b in &boxes {
        for (x, y) in m.iter_mut().zip(b.iter()) {
            *x += y;
        }
    }
    let n = m.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    Some(m.into_iter().map(|x| x / n).collect())
}

/// A track as [`settle_by_appearance`] weighs it: id, floor position (metres) where it is
/// confirmed at this tick, and appearance.
pub type TrackLook<'a> = (u64, Option<DVec2>, Option<&'a [f32]>);

/// Names each hand by the person whose appearance the boxes carrying its wrists wear: the box
/// that carries a wrist is the reaching person's own, whichever neighbour the fusion gave it to
/// (in a crowd one view's box may join a neighbour's track, so a hand is named by two tracks,
/// by the wrong one, or by none). The candidates are the tracks already named and the
/// confirmed ones standing within `near_m` of the hand on the floor. Where every box with an embedding is
/// more like one candidate's appearance than like any other's, by `margin` in cosine
/// similarity, and all of them name the same candidate, the hand is that candidate's alone.
/// Otherwise (no embeddings, a candidate with no appearance yet, boxes of two people, or too
/// close to call) the hand stays as [`attribute`] named it.
pub fn settle_by_appearance(
    reaches: &mut [Reach],
    per_camera: &[Vec<Detection>],
    tracks: &[TrackLook<'_>],
    near_m: f64,
    margin: f64,
) {
    for r in reaches.iter_mut() {
        r.look = agreed_look(r, per_camera);
        let mut cands: Vec<(u64, &[f32])> = Vec::new();
        let mut blind = false;
        for &(id, at, look) in tracks {
            let near = at.is_some_and(|at| at.distance(r.p.truncate()) < near_m);
            if !r.tracks.contains(&id) && !near {
                continue;
            }
            match look {
                Some(e) => cands.push((id, e)),
                None => blind = true,
            }
        }
        if blind || cands.len() < 2 {
            continue;
        }
        let mut named = None;
        for &(c, i) in &r.detections {
            let Some(b) = per_camera
                .get(usize::from(c))
                .and_then(|v| v.get(i as usize))
                .and_then(|d| d.embedding.as_deref())
            else {
                continue;
            };
            let (mut best, mut best_s, mut second_s) = (0, f64::NEG_INFINITY, f64::NEG_INFINITY);
            for &(id, e) in &cands {
                let s = crate::cosine(b, e);
                if s > best_s {
                    (best, best_s, second_s) = (id, s, best_s);
                } else if s > second_s {
                    second_s = s;
                }
            }
            if best_s - second_s < margin || named.is_some_and(|n| n != best) {
                named = None;
                break;
            }
            named = Some(best);
        }
        if let Some(id) = named {
            r.tracks = vec![id];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_rays_meet_where_they_cross_and_parallel_ones_do_not() {
        let x = DVec3::new(1.0, 2.0, 0.5);
        let (o1, o2) = (DVec3::new(0.0, 0.0, 3.0), DVec3::new(4.0, 0.0, 3.0));
        let (p, gap) =
            closest_approach(o1, (x - o1).normalize(), o2, (x - o2).normalize()).expect("meet");
        assert!(p.distance(x) < 1e-9 && gap < 1e-9, "{p} {gap}");
        // Offset one ray by 5 cm across both: they pass 5 cm apart, the midpoint between.
        let o3 = o2 + DVec3::new(0.0, 0.0, 0.05);
        let d = (x - o2).normalize();
        let (_, gap) = closest_approach(o1, (x - o1).normalize(), o3, d).expect("near");
        assert!(gap > 0.01 && gap <= 0.05 + 1e-9, "{gap}");
        assert!(closest_approach(o1, d, o2, d).is_none());
        // Meeting behind a camera is no meeting.
        assert!(closest_approach(o1, (o1 - x).normalize(), o2, (x - o2).normalize()).is_none());
        let b = (DVec3::ZERO, DVec3::new(2.0, 1.0, 2.0));
        assert!((depth_in_box(DVec3::new(1.0, 0.1, 0.5), b.0, b.1) - 0.1).abs() < 1e-12);
        assert!((depth_in_box(DVec3::new(2.5, 0.5, 0.5), b.0, b.1) + 0.5).abs() < 1e-12);
    }

    /// An outfit: unit vector `i` of 8, with a little of the next one.
    fn look(i: usize) -> Vec<f32> {
        let mut v = vec![0.0f32; 8];
        v[i] = 0.95;
        v[(i + 1) % 8] = 0.312_25;
        v
    }

    fn boxed(look: Option<Vec<f32>>) -> Detection {
        Detection {
            left: 0.0,
            top: 0.0,
            width: 10.0,
            height: 30.0,
            score: 0.9,
            embedding: look,
            wrists: Vec::new(),
        }
    }

    fn hand(tracks: Vec<u64>) -> Reach {
        Reach {
            shelf: 0,
            p: DVec3::new(1.0, 1.0, 1.0),
            detections: vec![(0, 0), (1, 0)],
            tracks,
            glimpse: false,
            look: None,
        }
    }

    #[test]
    fn a_hand_is_named_by_the_appearance_its_wrist_boxes_wear() {
        let (a, b, c) = (look(0), look(2), look(4));
        assert!(crate::cosine(&a, &b) < 0.5 && crate::cosine(&a, &c) < 0.5);
        let here = Some(DVec2::new(1.3, 1.0));
        let far = Some(DVec2::new(3.0, 1.0));
        let tracks: Vec<TrackLook<'_>> =
            vec![(1, here, Some(&a)), (2, here, Some(&b)), (3, far, Some(&c))];
        let wearing = |x: &[f32], y: &[f32]| {
            vec![vec![boxed(Some(x.to_vec()))], vec![boxed(Some(y.to_vec()))]]
        };
        // Fused into both neighbours' tracks; both boxes wear 2's outfit: 2's hand.
        let mut r = vec![hand(vec![1, 2])];
        settle_by_appearance(&mut r, &wearing(&b, &b), &tracks, 1.0, 0.3);
        assert_eq!(r[0].tracks, vec![2]);
        let worn = r[0].look.as_deref().expect("one person's boxes");
        assert!(crate::cosine(worn, &b) > 0.999, "{worn:?}");
        // Fused into 1 alone, but both boxes wear 2's outfit and 2 stands within reach.
        let mut r = vec![hand(vec![1])];
        settle_by_appearance(&mut r, &wearing(&b, &b), &tracks, 1.0, 0.3);
        assert_eq!(r[0].tracks, vec![2]);
        // Fused into nobody: the one near whose outfit both boxes wear.
        let mut r = vec![hand(vec![])];
        settle_by_appearance(&mut r, &wearing(&a, &a), &tracks, 1.0, 0.3);
        assert_eq!(r[0].tracks, vec![1]);
        // 3 stands 2 m away: never a candidate though the boxes wear its outfit.
        let mut r = vec![hand(vec![1, 2])];
        settle_by_appearance(&mut r, &wearing(&c, &c), &tracks, 1.0, 0.3);
        assert_eq!(r[0].tracks, vec![1, 2]);
        // The two boxes are of two people: left as fused.
        let mut r = vec![hand(vec![1, 2])];
        settle_by_appearance(&mut r, &wearing(&a, &b), &tracks, 1.0, 0.3);
        assert_eq!(r[0].tracks, vec![1, 2]);
        assert!(r[0].look.is_none(), "two people's boxes wear no one look");
        // A box wearing a blend of both outfits is too close to call.
        let mix: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let mut r = vec![hand(vec![1, 2])];
        settle_by_appearance(&mut r, &wearing(&mix, &b), &tracks, 1.0, 0.3);
        assert_eq!(r[0].tracks, vec![1, 2]);
        // A candidate with no appearance yet: nothing is weighed.
        let blind: Vec<TrackLook<'_>> = vec![(1, here, Some(&a)), (2, here, None)];
        let mut r = vec![hand(vec![1, 2])];
        settle_by_appearance(&mut r, &wearing(&a, &a), &blind, 1.0, 0.3);
        assert_eq!(r[0].tracks, vec![1, 2]);
        // No embeddings at all (no embedder ran): left as fused.
        let mut r = vec![hand(vec![1, 2])];
        settle_by_appearance(
            &mut r,
            &[vec![boxed(None)], vec![boxed(None)]],
            &tracks,
            1.0,
            0.3,
        );
        assert_eq!(r[0].tracks, vec![1, 2]);
    }
}
