//! Walking paths on the store floor: a grid over the floor polygon with shelves (inflated by a
//! body's clearance) and walls blocked, A* between free cells, paths shortened by line of sight.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use glam::DVec2;
use walkout_geometry::{Polygon, Shelf, Wall};

/// Clearance kept from shelves and walls, metres.
const CLEARANCE_M: f64 = 0.3;

pub struct NavGrid {
    origin: DVec2,
    cell: f64,
    nx: usize,
    ny: usize,
    free: Vec<bool>,
}

fn segment_distance(p: DVec2, a: DVec2, b: DVec2) -> f64 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_squared().max(1e-12)).clamp(0.0, 1.0);
    p.distance(a + ab * t)
}

impl NavGrid {
    pub fn new(floor: &Polygon, shelves: &[Shelf], walls: &[Wall], cell: f64) -> NavGrid {
        let (lo, hi) = floor.bounds();
        let nx = ((hi.x - lo.x) / cell).ceil() as usize;
        let ny = ((hi.y - lo.y) / cell).ceil() as usize;
        let mut free = vec![false; nx * ny];
        for iy in 0..ny {
            for ix in 0..nx {
                let c = lo + DVec2::new((ix as f64 + 0.5) * cell, (iy as f64 + 0.5) * cell);
                // Keep off the floor's edge too: test points around the body.
                let on_floor = [
                    (0.0, 0.0),
                    (0.25, 0.0),
                    (-0.25, 0.0),
                    (0.0, 0.25),
                    (0.0, -0.25),
                ]
                .iter()
                .all(|(dx, dy)| floor.contains(c + DVec2::new(*dx, *dy)));
                let near_shelf = shelves.iter().any(|s| {
                    c.x > s.min.x - CLEARANCE_M
                        && c.x < s.max.x + CLEARANCE_M
                        && c.y > s.min.y - CLEARANCE_M
                        && c.y < s.max.y + CLEARANCE_M
                });
                let near_wall = walls
                    .iter()
                    .any(|w| segment_distance(c, w.from, w.to) < CLEARANCE_M);
                free[iy * nx + ix] = on_floor && !near_shelf && !near_wall;
            }
        }
        NavGrid {
            origin: lo,
            cell,
            nx,
            ny,
            free,
        }
    }

    fn centre(&self, i: usize) -> DVec2 {
        self.origin
            + DVec2::new(
                ((i % self.nx) as f64 + 0.5) * self.cell,
                ((i / self.nx) as f64 + 0.5) * self.cell,
            )
    }

    /// The free cell nearest `p`.
    fn nearest_free(&self, p: DVec2) -> Option<usize> {
        (0..self.free.len())
            .filter(|&i| self.free[i])
            .min_by(|&a, &b| {
                self.centre(a)
                    .distance_squared(p)
                    .total_cmp(&self.centre(b).distance_squared(p))
            })
    }

    /// Whether the straight walk from `a` to `b` stays on free cells.
    pub fn line_free(&self, a: DVec2, b: DVec2) -> bool {
        let n = (a.distance(b) / (self.cell * 0.5)).ceil() as usize + 1;
        (0..=n).all(|k| {
            let p = a.lerp(b, k as f64 / n as f64);
            let ix = ((p.x - self.origin.x) / self.cell).floor();
            let iy = ((p.y - self.origin.y) / self.cell).floor();
            ix >= 0.0
                && iy >= 0.0
                && (ix as usize) < self.nx
                && (iy as usize) < self.ny
                && self.free[iy as usize * self.nx + ix as usize]
        })
    }

    /// A walkable path from `a` to `b` (both snapped to free cells), as corner points.
    pub fn path(&self, a: DVec2, b: DVec2) -> Option<Vec<DVec2>> {
        let (s, g) = (self.nearest_free(a)?, self.nearest_free(b)?);
        let h = |i: usize| (self.centre(i).distance(self.centre(g)) * 1000.0) as u64;
        let mut cost = vec![u64::MAX; self.free.len()];
        let mut from = vec![usize::MAX; self.free.len()];
        let mut open = BinaryHeap::new();
        cost[s] = 0;
        open.push(Reverse((h(s), s)));
        while let Some(Reverse((_, i))) = open.pop() {
            if i == g {
                break;
            }
            let (ix, iy) = ((i % self.nx) as i64, (i / self.nx) as i64);
            for (dx, dy) in walkout_geometry::coverage::NEIGHBOURS_8 {
                let (jx, jy) = (ix + dx, iy + dy);
                if jx < 0 || jy < 0 || jx >= self.nx as i64 || jy >= self.ny as i64 {
                    continue;
                }
                let j = jy as usize * self.nx + jx as usize;
                // No corner cutting.
                let side_a = iy as usize * self.nx + jx as usize;
                let side_b = jy as usize * self.nx + ix as usize;
                if !self.free[j] || !self.free[side_a] || !self.free[side_b] {
                    continue;
                }
                let step = if dx != 0 && dy != 0 { 1414 } else { 1000 };
                let c = cost[i] + step;
                if c < cost[j] {
                    cost[j] = c;
                    from[j] = i;
                    open.push(Reverse((c + h(j), j)));
                }
            }
        }
        if cost[g] == u64::MAX {
            return None;
        }
        let mut cells = vec![g];
        while let Some(&last) = cells.last() {
            if last == s {
                break;
            }
            cells.push(from[last]);
        }
        cells.reverse();
        // Shorten by line of sight.
        let pts: Vec<DVec2> = cells.iter().map(|&i| self.centre(i)).collect();
        let mut out = vec![pts[0]];
        let mut k = 0;
        while k + 1 < pts.len() {
            let mut far = k + 1;
            while far + 1 < pts.len() && self.line_free(pts[k], pts[far + 1]) {
                far += 1;
            }
            out.push(pts[far]);
            k = far;
        }
        Some(out)
    }
}
