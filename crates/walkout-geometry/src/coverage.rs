//! Floor coverage: which floor cells each camera sees, how many cameras see each cell, and the
//! blind spots (cells seen by fewer than two cameras, where identities can be swapped).
//! The per-cell camera count is also the normalisation map of the fusion stage's occupancy grid.

use glam::{DVec2, DVec3};

use crate::camera::Camera;

/// A simple polygon on the floor (metres), vertices in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub vertices: Vec<DVec2>,
}

impl Polygon {
    pub fn new(vertices: Vec<DVec2>) -> Polygon {
        Polygon { vertices }
    }

    /// Axis-aligned rectangle.
    pub fn rectangle(min: DVec2, max: DVec2) -> Polygon {
        Polygon::new(vec![
            min,
            DVec2::new(max.x, min.y),
            max,
            DVec2::new(min.x, max.y),
        ])
    }

    /// Area in m^2 (absolute value of the shoelace formula).
    pub fn area(&self) -> f64 {
        let n = self.vertices.len();
        (0..n)
            .map(|i| self.vertices[i].perp_dot(self.vertices[(i + 1) % n]))
            .sum::<f64>()
            .abs()
            / 2.0
    }

    /// (min, max) corners of the bounding box.
    pub fn bounds(&self) -> (DVec2, DVec2) {
        self.vertices.iter().fold(
            (DVec2::splat(f64::INFINITY), DVec2::splat(f64::NEG_INFINITY)),
            |(lo, hi), v| (lo.min(*v), hi.max(*v)),
        )
    }

    /// Even-odd point-in-polygon test.
    pub fn contains(&self, p: DVec2) -> bool {
        let n = self.vertices.len();
        let mut inside = false;
        let mut j = n.wrapping_sub(1);
        for i in 0..n {
            let (a, b) = (self.vertices[i], self.vertices[j]);
            if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
                inside = !inside;
            }
            j = i;
        }
        inside
    }
}

/// The eight steps from a grid cell to its neighbours, (dx, dy): the four sides first, then
/// the diagonals.
pub const NEIGHBOURS_8: [(i64, i64); 8] = [
    (1, 0),
    (-1, 0),
    (0, 1),
    (0, -1),
    (1, 1),
    (1, -1),
    (-1, 1),
    (-1, -1),
];

/// A regular grid of square cells over the floor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Floor coordinates of the outer corner of cell (0, 0).
    pub origin: DVec2,
    pub cell_m: f64,
    pub nx: usize,
    pub ny: usize,
}

impl Grid {
    /// The smallest grid of `cell_m` cells that covers the polygon.
    pub fn covering(polygon: &Polygon, cell_m: f64) -> Grid {
        let (lo, hi) = polygon.bounds();
        let n = ((hi - lo) / cell_m).ceil().max(DVec2::ONE);
        Grid {
            origin: lo,
            cell_m,
            nx: n.x as usize,
            ny: n.y as usize,
        }
    }

    pub fn len(&self) -> usize {
        self.nx * self.ny
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Centre of cell (ix, iy).
    pub fn centre(&self, ix: usize, iy: usize) -> DVec2 {
        self.origin + (DVec2::new(ix as f64, iy as f64) + 0.5) * self.cell_m
    }

    /// Cell containing a floor point, if it is on the grid.
    pub fn cell_of(&self, p: DVec2) -> Option<(usize, usize)> {
        let q = (p - self.origin) / self.cell_m;
        (q.x >= 0.0 && q.y >= 0.0 && (q.x as usize) < self.nx && (q.y as usize) < self.ny)
            .then_some((q.x as usize, q.y as usize))
    }

    pub fn cell_area(&self) -> f64 {
        self.cell_m * self.cell_m
    }
}

/// An opaque wall from floor to ceiling, a segment on the floor plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Wall {
    pub id: String,
    pub from: DVec2,
    pub to: DVec2,
}

impl Wall {
    /// Whether the floor-plan segment `a`-`b` crosses this wall (touching an end counts).
    pub fn blocks(&self, a: DVec2, b: DVec2) -> bool {
        let cross = |o: DVec2, p: DVec2, q: DVec2| (p - o).perp_dot(q - o);
        let (c, d) = (self.from, self.to);
        let (d1, d2) = (cross(c, d, a), cross(c, d, b));
        let (d3, d4) = (cross(a, b, c), cross(a, b, d));
        (d1 * d2 <= 0.0) && (d3 * d4 <= 0.0) && !(d1 == 0.0 && d2 == 0.0)
    }
}

/// Whether a line of sight from `a` to `b` (floor plan) crosses any wall.
pub fn walls_block(walls: &[Wall], a: DVec2, b: DVec2) -> bool {
    walls.iter().any(|w| w.blocks(a, b))
}

/// What hides people from cameras: boxes (shelves) and walls (floor to ceiling).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Occluders {
    /// Axis-aligned boxes: (min, max) corners, metres.
    pub boxes: Vec<(DVec3, DVec3)>,
    pub walls: Vec<Wall>,
}

impl Occluders {
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty() && self.walls.is_empty()
    }

    /// Whether the straight line from `a` to `b` passes through a box or crosses a wall.
    pub fn blocks(&self, a: DVec3, b: DVec3) -> bool {
        walls_block(&self.walls, a.truncate(), b.truncate())
            || self
                .boxes
                .iter()
                .any(|(min, max)| segment_hits_box(a, b, *min, *max))
    }

    /// Whether walking straight from `a` to `b` on the floor goes through a box (shrunk by
    /// `margin` on each side, so that skirting a corner is not) or a wall. A box that holds
    /// either end (a position measured inside a shelf) says nothing.
    pub fn blocks_walk(&self, a: DVec2, b: DVec2, margin: f64) -> bool {
        walls_block(&self.walls, a, b)
            || self.boxes.iter().any(|(min, max)| {
                let (lo, hi) = (min.truncate() + margin, max.truncate() - margin);
                let inside = |p: DVec2| p.x > lo.x && p.y > lo.y && p.x < hi.x && p.y < hi.y;
                lo.x < hi.x
                    && lo.y < hi.y
                    && !inside(a)
                    && !inside(b)
                    && segment_hits_box(
                        a.extend(0.5),
                        b.extend(0.5),
                        lo.extend(0.0),
                        hi.extend(1.0),
                    )
            })
    }
}

/// Whether the segment `a`-`b` passes through the axis-aligned box `min`-`max`.
pub fn segment_hits_box(a: DVec3, b: DVec3, min: DVec3, max: DVec3) -> bool {
    ray_box_entry(a, b - a, min, max, 1.0).is_some()
}

/// Where the ray `o + t d`, `0 <= t <= t_max`, enters the axis-aligned box `min`-`max` (slab
/// test): the smallest such `t`, if the ray meets the box.
pub fn ray_box_entry(o: DVec3, d: DVec3, min: DVec3, max: DVec3, t_max: f64) -> Option<f64> {
    let (mut t0, mut t1) = (0.0f64, t_max);
    for k in 0..3 {
        if d[k].abs() < 1e-12 {
            if o[k] < min[k] || o[k] > max[k] {
                return None;
            }
        } else {
            let (mut lo, mut hi) = ((min[k] - o[k]) / d[k], (max[k] - o[k]) / d[k]);
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            t0 = t0.max(lo);
            t1 = t1.min(hi);
            if t0 > t1 {
                return None;
            }
        }
    }
    Some(t0)
}

/// Which cameras see each floor cell.
#[derive(Debug, Clone)]
pub struct CoverageMap {
    pub grid: Grid,
    /// Per cell (row-major, `iy * nx + ix`): whether its centre lies on the store floor.
    pub on_floor: Vec<bool>,
    /// Per cell: bit `k` set when camera `k` sees the cell centre.
    pub masks: Vec<u64>,
    /// Camera ids, in bit order.
    pub cameras: Vec<String>,
}

/// Coverage figures of a store.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageStats {
    pub floor_area_m2: f64,
    /// Area seen by at least k cameras, k = 0..=cameras.
    pub area_seen_by_at_least_m2: Vec<f64>,
    /// Floor area seen by fewer than two cameras.
    pub blind_area_m2: f64,
    /// Floor area seen by each camera.
    pub per_camera_m2: Vec<f64>,
    pub mean_cameras_per_cell: f64,
}

impl CoverageMap {
    /// Computes which cameras see each floor cell at height `height_m` (0 for the floor).
    /// At most 64 cameras.
    pub fn compute(
        cameras: &[&Camera],
        floor: &Polygon,
        cell_m: f64,
        height_m: f64,
    ) -> CoverageMap {
        Self::compute_with_walls(cameras, floor, cell_m, height_m, &[])
    }

    /// As [`CoverageMap::compute`], with opaque walls hiding what lies behind them.
    pub fn compute_with_walls(
        cameras: &[&Camera],
        floor: &Polygon,
        cell_m: f64,
        height_m: f64,
        walls: &[Wall],
    ) -> CoverageMap {
        let centres: Vec<DVec2> = cameras.iter().map(|c| c.centre().truncate()).collect();
        Self::build(
            cameras,
            floor,
            cell_m,
            |_| true,
            |k, cam, c| {
                cam.sees(DVec3::new(c.x, c.y, height_m)) && !walls_block(walls, centres[k], c)
            },
        )
    }

    /// Which cameras see a person `person_height_m` tall standing at each floor cell: enough
    /// of the body in the image and mostly unhidden by shelves and walls ([`PersonView`]).
    /// This is what fusion and tracking get from a spot, where [`CoverageMap::compute`] only
    /// says whether the floor point is in the image. Nobody stands inside a shelf: its
    /// footprint is not floor here. At most 64 cameras.
    pub fn people(
        cameras: &[&Camera],
        floor: &Polygon,
        cell_m: f64,
        person_height_m: f64,
        occluders: &Occluders,
    ) -> CoverageMap {
        let standing = |c: DVec2| {
            !occluders
                .boxes
                .iter()
                .any(|(mn, mx)| c.x > mn.x && c.x < mx.x && c.y > mn.y && c.y < mx.y)
        };
        Self::build(cameras, floor, cell_m, standing, |_, cam, c| {
            PersonView::of(cam, c, person_height_m, occluders).seen()
        })
    }

    /// The map over `floor`'s grid: a cell is floor where its centre is in `floor` and
    /// `standing` holds, and camera `k` sees it where `sees(k, camera, centre)` does.
    fn build(
        cameras: &[&Camera],
        floor: &Polygon,
        cell_m: f64,
        standing: impl Fn(DVec2) -> bool,
        sees: impl Fn(usize, &Camera, DVec2) -> bool,
    ) -> CoverageMap {
        let grid = Grid::covering(floor, cell_m);
        let mut on_floor = Vec::with_capacity(grid.len());
        let mut masks = Vec::with_capacity(grid.len());
        for iy in 0..grid.ny {
            for ix in 0..grid.nx {
                let c = grid.centre(ix, iy);
                let inside = floor.contains(c) && standing(c);
                on_floor.push(inside);
                masks.push(
                    cameras
                        .iter()
                        .take(64)
                        .enumerate()
                        .filter(|(k, cam)| sees(*k, cam, c))
                        .fold(0u64, |m, (k, _)| m | (1 << k)),
                );
            }
        }
        CoverageMap {
            grid,
            on_floor,
            masks,
            cameras: cameras.iter().map(|c| c.id.clone()).collect(),
        }
    }

    /// Number of cameras that see cell `i`.
    pub fn count(&self, i: usize) -> u32 {
        self.masks[i].count_ones()
    }

    /// Number of cameras that see the floor point `p` (0 off the grid).
    pub fn count_at(&self, p: DVec2) -> u32 {
        self.grid
            .cell_of(p)
            .map_or(0, |(ix, iy)| self.count(iy * self.grid.nx + ix))
    }

    pub fn stats(&self) -> CoverageStats {
        let a = self.grid.cell_area();
        let n = self.cameras.len();
        let mut at_least = vec![0.0; n + 1];
        let mut per_camera = vec![0.0; n];
        let mut floor_cells = 0usize;
        let mut blind = 0.0;
        let mut total_count = 0u64;
        for (i, &mask) in self.masks.iter().enumerate() {
            if !self.on_floor[i] {
                continue;
            }
            floor_cells += 1;
            let c = mask.count_ones() as usize;
            total_count += c as u64;
            for v in at_least.iter_mut().take(c.min(n) + 1) {
                *v += a;
            }
            if c < 2 {
                blind += a;
            }
            for (k, v) in per_camera.iter_mut().enumerate() {
                if mask & (1 << k) != 0 {
                    *v += a;
                }
            }
        }
        CoverageStats {
            floor_area_m2: floor_cells as f64 * a,
            area_seen_by_at_least_m2: at_least,
            blind_area_m2: blind,
            per_camera_m2: per_camera,
            mean_cameras_per_cell: if floor_cells == 0 {
                0.0
            } else {
                total_count as f64 / floor_cells as f64
            },
        }
    }
}

/// Body radius of a standing person, metres (the cylinder [`PersonView`] samples).
pub const PERSON_RADIUS_M: f64 = 0.22;
/// Fraction of a body's sample points in the image that must be unhidden for a camera to see
/// the person ...
pub const PERSON_MIN_VISIBLE: f64 = 0.6;
/// ... and the fraction of them that must be in the image.
pub const PERSON_MIN_IN_IMAGE: f64 = 0.4;

/// What one camera sees of a person standing at a floor point: a vertical cylinder from the
/// floor to the head, sampled at 8 heights x 3 points across (as the camera sees it), each point
/// in the image or not, hidden by a shelf box or a wall or not. A detector finds the person when
/// enough of the body is in the image and what is in the image is mostly unhidden
/// ([`PersonView::seen`]); the unhidden points give the box it reports.
#[derive(Clone, Debug, Default)]
pub struct PersonView {
    /// Sample points.
    pub total: usize,
    /// Sample points that project into the image.
    pub in_image: usize,
    /// Of those, the ones no occluder hides.
    pub in_image_clear: usize,
    /// Pixels of the unhidden points in front of the camera (in the image or not).
    pub clear_px: Vec<DVec2>,
}

impl PersonView {
    pub fn of(camera: &Camera, pos: DVec2, height_m: f64, occluders: &Occluders) -> PersonView {
        let centre = camera.centre();
        let dir = (pos - centre.truncate()).normalize_or_zero();
        let side = DVec2::new(-dir.y, dir.x) * PERSON_RADIUS_M;
        let mut v = PersonView::default();
        for k in 0..8 {
            let z = height_m * (k as f64 / 7.0);
            for s in [-1.0, 0.0, 1.0] {
                v.total += 1;
                let q = pos + side * s;
                let p = DVec3::new(q.x, q.y, z);
                let Some(px) = camera.project(p) else {
                    continue;
                };
                let clear = !occluders.blocks(centre, p);
                if camera.intrinsics.contains(px) {
                    v.in_image += 1;
                    v.in_image_clear += usize::from(clear);
                }
                if clear {
                    v.clear_px.push(px);
                }
            }
        }
        v
    }

    /// Whether a detector can find the person in this view.
    pub fn seen(&self) -> bool {
        self.total > 0
            && self.in_image as f64 >= PERSON_MIN_IN_IMAGE * self.total as f64
            && self.in_image_clear as f64 >= PERSON_MIN_VISIBLE * self.in_image as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_area_and_containment() {
        let sq = Polygon::rectangle(DVec2::new(0.0, 0.0), DVec2::new(4.0, 3.0));
        assert_eq!(sq.area(), 12.0);
        assert!(sq.contains(DVec2::new(1.0, 1.0)));
        assert!(!sq.contains(DVec2::new(5.0, 1.0)));
        // L shape: the notch is outside.
        let l = Polygon::new(
            [
                (0.0, 0.0),
                (4.0, 0.0),
                (4.0, 1.0),
                (1.0, 1.0),
                (1.0, 4.0),
                (0.0, 4.0),
            ]
            .iter()
            .map(|&(x, y)| DVec2::new(x, y))
            .collect(),
        );
        assert_eq!(l.area(), 7.0);
        assert!(l.contains(DVec2::new(0.5, 3.0)));
        assert!(!l.contains(DVec2::new(3.0, 3.0)));
    }

    #[test]
    fn walls_block_lines_of_sight_that_cross_them() {
        let w = Wall {
            id: "w".into(),
            from: DVec2::new(0.0, 0.0),
            to: DVec2::new(0.0, 2.0),
        };
        assert!(w.blocks(DVec2::new(-1.0, 1.0), DVec2::new(1.0, 1.0)));
        assert!(!w.blocks(DVec2::new(-1.0, 3.0), DVec2::new(1.0, 3.0)));
        assert!(!w.blocks(DVec2::new(1.0, 0.0), DVec2::new(1.0, 2.0)));
        // Along the wall's own line but beyond its end.
        assert!(!w.blocks(DVec2::new(0.0, 3.0), DVec2::new(0.0, 4.0)));
    }

    #[test]
    fn boxes_block_segments_through_them_only() {
        let o = Occluders {
            boxes: vec![(DVec3::new(0.0, 0.0, 0.0), DVec3::new(1.0, 1.0, 1.5))],
            walls: Vec::new(),
        };
        let cam = DVec3::new(-2.0, 0.5, 3.0);
        // Behind the box, low: hidden; high above it: seen.
        assert!(o.blocks(cam, DVec3::new(2.0, 0.5, 0.5)));
        assert!(!o.blocks(cam, DVec3::new(2.0, 0.5, 2.9)));
        // Beside it.
        assert!(!o.blocks(cam, DVec3::new(2.0, 3.0, 0.5)));
    }

    #[test]
    fn grid_cells_round_trip() {
        let g = Grid::covering(
            &Polygon::rectangle(DVec2::new(-3.0, -9.0), DVec2::new(9.0, 27.0)),
            0.5,
        );
        assert_eq!((g.nx, g.ny), (24, 72));
        let c = g.centre(5, 7);
        assert_eq!(g.cell_of(c), Some((5, 7)));
        assert_eq!(g.cell_of(DVec2::new(-4.0, 0.0)), None);
    }

    #[test]
    fn walking_through_a_shelf_or_a_wall_is_blocked_and_skirting_a_corner_is_not() {
        let occ = Occluders {
            boxes: vec![(DVec3::new(2.0, 2.0, 0.0), DVec3::new(6.0, 2.6, 1.8))],
            walls: vec![Wall {
                id: "w".into(),
                from: DVec2::new(10.0, 0.0),
                to: DVec2::new(10.0, 5.0),
            }],
        };
        let p = DVec2::new;
        // Straight across the gondola.
        assert!(occ.blocks_walk(p(4.0, 1.5), p(4.0, 3.1), 0.1));
        // Along its face, and round its corner within the margin.
        assert!(!occ.blocks_walk(p(1.0, 1.9), p(7.0, 1.9), 0.1));
        assert!(!occ.blocks_walk(p(1.9, 1.5), p(2.05, 3.0), 0.1));
        // A position measured a little inside the shelf says nothing.
        assert!(!occ.blocks_walk(p(4.0, 2.3), p(4.0, 3.5), 0.1));
        // Through the wall, and past its end.
        assert!(occ.blocks_walk(p(9.0, 1.0), p(11.0, 1.0), 0.1));
        assert!(!occ.blocks_walk(p(9.0, 6.0), p(11.0, 6.0), 0.1));
    }

    fn camera_at_minus_5() -> Camera {
        use crate::camera::{Intrinsics, LensModel, Pose};
        use glam::DMat3;
        let intr = Intrinsics {
            width: 1280,
            height: 720,
            fx: 700.0,
            fy: 700.0,
            cx: 639.5,
            cy: 359.5,
            lens: LensModel::NONE,
        };
        // 3 m up at (0, -5), looking down-forward along +y.
        let look = DVec3::new(0.0, 1.0, -0.45).normalize();
        let right = DVec3::X;
        let down = look.cross(right).normalize();
        let rot = DMat3::from_cols(right, down, look).transpose();
        let centre = DVec3::new(0.0, -5.0, 3.0);
        let pose = Pose {
            rotation: rot,
            translation: -(rot * centre),
        };
        Camera::new("c", intr, pose)
    }

    #[test]
    fn a_person_is_seen_in_the_open_and_not_behind_a_shelf_or_below_the_camera() {
        let cam = camera_at_minus_5();
        let shelf = Occluders {
            boxes: vec![(DVec3::new(-2.0, 1.0, 0.0), DVec3::new(2.0, 1.6, 1.8))],
            walls: Vec::new(),
        };
        let open = PersonView::of(&cam, DVec2::new(0.0, 0.0), 1.7, &shelf);
        assert!(open.seen(), "{open:?}");
        assert_eq!(open.in_image_clear, open.in_image);
        // Right behind the gondola only the head clears it.
        let behind = PersonView::of(&cam, DVec2::new(0.0, 2.2), 1.7, &shelf);
        assert!(behind.in_image >= behind.total / 2, "{behind:?}");
        assert!(!behind.seen(), "{behind:?}");
        // The same spot with nothing in the way.
        assert!(PersonView::of(&cam, DVec2::new(0.0, 2.2), 1.7, &Occluders::default()).seen());
        // Straight below the camera: out of the image.
        let below = PersonView::of(&cam, DVec2::new(0.0, -4.8), 1.7, &shelf);
        assert!(!below.seen(), "{below:?}");
        // The map: the spot behind the shelf is seen by no camera, the open floor by this one,
        // and the shelf's footprint is not floor anyone stands on.
        let floor = Polygon::rectangle(DVec2::new(-3.0, -1.0), DVec2::new(3.0, 4.0));
        let map = CoverageMap::people(&[&cam], &floor, 0.2, 1.7, &shelf);
        assert_eq!(map.count_at(DVec2::new(0.0, 0.0)), 1);
        assert_eq!(map.count_at(DVec2::new(0.0, 2.2)), 0);
        let (ix, iy) = map.grid.cell_of(DVec2::new(0.0, 1.3)).expect("on the grid");
        assert!(!map.on_floor[iy * map.grid.nx + ix]);
    }
}
