//! Walking distances on the store floor: around shelves and through doors, not through walls.
//! Identity feasibility ("could this shopper have walked here since?") uses them: two points a
//! metre apart on either side of a gondola are several metres apart for a shopper.

use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use glam::DVec2;
use walkout_geometry::StoreConfig;
use walkout_geometry::coverage::Wall;

/// Distance fields cached at most (one per source cell); the cache is emptied when full.
const CACHE_FIELDS: usize = 256;

/// The floor as a grid of walkable cells (8-connected; a shelf's cells are not walkable, and a
/// step that crosses a wall is not taken), with the distance fields asked for so far.
pub struct WalkMap {
    origin: DVec2,
    cell: f64,
    nx: usize,
    ny: usize,
    free: Vec<bool>,
    /// Per cell, a bit per neighbour direction ([`STEPS`]) that a wall blocks.
    walled: Vec<u8>,
    cache: Mutex<HashMap<usize, Arc<Vec<f32>>>>,
}

use walkout_geometry::coverage::NEIGHBOURS_8 as STEPS;

#[derive(PartialEq)]
struct Node(f32, usize);
impl Eq for Node {}
impl PartialOrd for Node {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Node {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // A min-heap on distance.
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

impl WalkMap {
    /// The store's floor at `cell` metres: shelves' footprints and walls are obstacles.
    pub fn new(store: &StoreConfig, cell: f64) -> WalkMap {
        let (lo, hi) = store.floor.bounds();
        let nx = (((hi.x - lo.x) / cell).ceil() as usize).max(1);
        let ny = (((hi.y - lo.y) / cell).ceil() as usize).max(1);
        let centre = |i: usize| {
            lo + DVec2::new(
                ((i % nx) as f64 + 0.5) * cell,
                ((i / nx) as f64 + 0.5) * cell,
            )
        };
        let free: Vec<bool> = (0..nx * ny)
            .map(|i| {
                let c = centre(i);
                store.floor.contains(c)
                    // Bays back to back share an edge: a cell centred on it is shelf too.
                    && !store.shelves.iter().any(|s| {
                        c.x >= s.min.x && c.x <= s.max.x && c.y >= s.min.y && c.y <= s.max.y
                    })
            })
            .collect();
        let walls: &[Wall] = &store.walls;
        let walled = (0..nx * ny)
            .map(|i| {
                let c = centre(i);
                let mut bits = 0u8;
                for (b, (dx, dy)) in STEPS.iter().enumerate() {
                    let n = c + DVec2::new(*dx as f64, *dy as f64) * cell;
                    if walls.iter().any(|w| w.blocks(c, n)) {
                        bits |= 1 << b;
                    }
                }
                bits
            })
            .collect();
        WalkMap {
            origin: lo,
            cell,
            nx,
            ny,
            free,
            walled,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn index(&self, p: DVec2) -> Option<usize> {
        let q = (p - self.origin) / self.cell;
        if q.x < 0.0 || q.y < 0.0 {
            return None;
        }
        let (ix, iy) = (q.x as usize, q.y as usize);
        (ix < self.nx && iy < self.ny).then_some(iy * self.nx + ix)
    }

    /// The walkable cell of `p`, or the nearest walkable one within a metre (a position
    /// measured a little inside a shelf).
    fn free_cell(&self, p: DVec2) -> Option<usize> {
        let r = (1.0 / self.cell).ceil() as i64;
        let (cx, cy) = {
            let q = (p - self.origin) / self.cell;
            (q.x.floor() as i64, q.y.floor() as i64)
        };
        if let Some(i) = self.index(p)
            && self.free[i]
        {
            return Some(i);
        }
        let mut best: Option<(i64, usize)> = None;
        for dy in -r..=r {
            for dx in -r..=r {
                let (x, y) = (cx + dx, cy + dy);
                if x < 0 || y < 0 || x >= self.nx as i64 || y >= self.ny as i64 {
                    continue;
                }
                let i = y as usize * self.nx + x as usize;
                let d = dx * dx + dy * dy;
                if self.free[i] && d <= r * r && best.is_none_or(|b| d < b.0) {
                    best = Some((d, i));
                }
            }
        }
        best.map(|b| b.1)
    }

    /// Walking distance from cell `from` to every cell (infinite where unreachable).
    fn field(&self, from: usize) -> Arc<Vec<f32>> {
        if let Ok(cache) = self.cache.lock()
            && let Some(f) = cache.get(&from)
        {
            return f.clone();
        }
        let mut dist = vec![f32::INFINITY; self.free.len()];
        let mut heap = BinaryHeap::new();
        dist[from] = 0.0;
        heap.push(Node(0.0, from));
        let diag = (self.cell * std::f64::consts::SQRT_2) as f32;
        while let Some(Node(d, i)) = heap.pop() {
            if d > dist[i] {
                continue;
            }
            let (x, y) = ((i % self.nx) as i64, (i / self.nx) as i64);
            for (b, (dx, dy)) in STEPS.iter().enumerate() {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= self.nx as i64 || ny >= self.ny as i64 {
                    continue;
                }
                let n = ny as usize * self.nx + nx as usize;
                if !self.free[n] || self.walled[i] & (1 << b) != 0 {
                    continue;
                }
                // A diagonal step does not cut a shelf's corner.
                if *dx != 0 && *dy != 0 {
                    let a = y as usize * self.nx + nx as usize;
                    let c = ny as usize * self.nx + x as usize;
                    if !self.free[a] || !self.free[c] {
                        continue;
                    }
                }
                let nd = d + if *dx != 0 && *dy != 0 {
                    diag
                } else {
                    self.cell as f32
                };
                if nd < dist[n] {
                    dist[n] = nd;
                    heap.push(Node(nd, n));
                }
            }
        }
        let f = Arc::new(dist);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_FIELDS {
                cache.clear();
            }
            cache.insert(from, f.clone());
        }
        f
    }

    fn centre(&self, i: usize) -> DVec2 {
        self.origin
            + DVec2::new(
                ((i % self.nx) as f64 + 0.5) * self.cell,
                ((i / self.nx) as f64 + 0.5) * self.cell,
            )
    }

    /// Walking distance from `a` to `b`, metres: never less than the straight line, and the
    /// straight line where either point is off the map. Infinite where no walk joins them.
    pub fn distance(&self, a: DVec2, b: DVec2) -> f64 {
        let straight = a.distance(b);
        let (Some(ia), Some(ib)) = (self.free_cell(a), self.free_cell(b)) else {
            return straight;
        };
        let d = f64::from(self.field(ia)[ib]);
        // The grid's path runs between cell centres: allow for where in its cell each end is.
        (d - 1.5 * self.cell).max(straight)
    }

    /// Walking distance from `a` to the nearest walkable point of the rectangle `min`-`max`
    /// where `near` holds (where a shopper can reach into a shelf bay from), metres.
    pub fn distance_to_region(
        &self,
        a: DVec2,
        min: DVec2,
        max: DVec2,
        near: impl Fn(DVec2) -> bool,
    ) -> f64 {
        let Some(ia) = self.free_cell(a) else {
            return (a.clamp(min, max) - a).length();
        };
        let field = self.field(ia);
        let q0 = ((min - self.origin) / self.cell).floor().max(DVec2::ZERO);
        let q1 = ((max - self.origin) / self.cell).ceil().max(DVec2::ZERO);
        let mut best = f64::INFINITY;
        for y in q0.y as usize..(q1.y as usize).min(self.ny) {
            for x in q0.x as usize..(q1.x as usize).min(self.nx) {
                let i = y * self.nx + x;
                if self.free[i] && near(self.centre(i)) {
                    best = best.min(f64::from(field[i]));
                }
            }
        }
        (best - 1.5 * self.cell).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WalkMap {
        let path = std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("../../calibration/sample-store.toml");
        WalkMap::new(&StoreConfig::load(&path).expect("sample store"), 0.2)
    }

    #[test]
    fn walks_go_round_shelves_and_through_doors() {
        let m = sample();
        let p = DVec2::new;
        // Along the front aisle: the straight line, within a cell.
        let d = m.distance(p(2.0, 1.5), p(9.0, 1.5));
        assert!((d - 7.0).abs() < 0.3, "{d}");
        // Across gondola A1 (y 3.0-3.6, x 3.0-8.0) at x = 5.5: round its end, not 1.2 m.
        let d = m.distance(p(5.5, 2.7), p(5.5, 3.9));
        assert!(d > 5.0, "{d}");
        // Into the restroom corridor (x 20-23, y 9.5-11.5, behind the wall at x = 20 with its
        // door at y 10-11): from beside the wall below the corridor, round by the door; at the
        // door, a step.
        let d = m.distance(p(19.7, 9.7), p(20.5, 9.7));
        assert!(d > 0.9, "{d}"); // the straight line, through the wall, is 0.8 m
        let d = m.distance(p(19.5, 10.5), p(20.5, 10.5));
        assert!(d < 1.3, "{d}");
        // To where one reaches into bay A1-2f (its front, y < 3.0): already there, or round
        // the gondola from behind it.
        let (lo, hi) = (p(4.25 - 0.8, 3.0 - 0.8), p(5.5 + 0.8, 3.0));
        let front =
            |c: DVec2| c.y < 3.0 && (c.clamp(p(4.25, 3.0), p(5.5, 3.3)) - c).length() <= 0.8;
        let d = m.distance_to_region(p(5.0, 2.6), lo, hi, front);
        assert!(d < 0.1, "{d}");
        let d = m.distance_to_region(p(5.0, 4.6), lo, hi, front);
        assert!(d > 3.0, "{d}");
    }
}
