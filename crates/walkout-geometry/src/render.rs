//! Coverage map picture: floor cells coloured by how many cameras see them, the floor outline,
//! each camera's position, viewing direction and floor footprint.

use std::path::Path;

use glam::{DVec2, DVec3};
use image::{Rgb, RgbImage};

use crate::camera::Camera;
use crate::coverage::{CoverageMap, Polygon};

/// Colour of a floor cell seen by `count` cameras (0 and 1 are blind spots: red, orange).
pub fn count_colour(count: u32) -> Rgb<u8> {
    match count {
        0 => Rgb([150, 25, 25]),
        1 => Rgb([235, 130, 40]),
        2 => Rgb([240, 215, 80]),
        3 => Rgb([170, 215, 110]),
        4 => Rgb([100, 185, 100]),
        5 => Rgb([50, 150, 90]),
        _ => Rgb([20, 110, 70]),
    }
}

const OUTSIDE: Rgb<u8> = Rgb([228, 228, 228]);
const OUTLINE: Rgb<u8> = Rgb([0, 0, 0]);
const CAMERA: Rgb<u8> = Rgb([30, 60, 200]);
const FOOTPRINT: Rgb<u8> = Rgb([60, 90, 220]);

struct Canvas {
    img: RgbImage,
    lo: DVec2,
    px_per_m: f64,
}

impl Canvas {
    /// A blank canvas showing the floor box `lo..hi`, about `size_px` on its longer side.
    fn fit(lo: DVec2, hi: DVec2, size_px: u32, background: Rgb<u8>) -> Canvas {
        let extent = hi - lo;
        let px_per_m = (f64::from(size_px) / extent.max_element()).clamp(2.0, 400.0);
        let (w, h) = (
            (extent.x * px_per_m).ceil() as u32,
            (extent.y * px_per_m).ceil() as u32,
        );
        Canvas {
            img: RgbImage::from_pixel(w.max(1), h.max(1), background),
            lo,
            px_per_m,
        }
    }

    fn to_px(&self, p: DVec2) -> DVec2 {
        // Image y grows downwards; world y grows "up" on the plan.
        let h = f64::from(self.img.height());
        DVec2::new(
            (p.x - self.lo.x) * self.px_per_m,
            h - 1.0 - (p.y - self.lo.y) * self.px_per_m,
        )
    }

    fn put(&mut self, x: i64, y: i64, c: Rgb<u8>) {
        if x >= 0 && y >= 0 && x < i64::from(self.img.width()) && y < i64::from(self.img.height()) {
            self.img.put_pixel(x as u32, y as u32, c);
        }
    }

    fn line(&mut self, a: DVec2, b: DVec2, c: Rgb<u8>, width: i64) {
        let (pa, pb) = (self.to_px(a), self.to_px(b));
        let steps = (pb - pa).abs().max_element().ceil().clamp(1.0, 20_000.0) as usize;
        for i in 0..=steps {
            let p = pa.lerp(pb, i as f64 / steps as f64);
            for dx in -(width / 2)..=(width / 2) {
                for dy in -(width / 2)..=(width / 2) {
                    self.put(p.x.round() as i64 + dx, p.y.round() as i64 + dy, c);
                }
            }
        }
    }

    fn disc(&mut self, centre: DVec2, radius_px: i64, c: Rgb<u8>) {
        let p = self.to_px(centre);
        for dy in -radius_px..=radius_px {
            for dx in -radius_px..=radius_px {
                if dx * dx + dy * dy <= radius_px * radius_px {
                    self.put(p.x.round() as i64 + dx, p.y.round() as i64 + dy, c);
                }
            }
        }
    }
}

/// Floor points of the camera's image border (where they reach the floor), in order.
fn footprint(cam: &Camera) -> Vec<Option<DVec2>> {
    let (w, h) = (
        f64::from(cam.intrinsics.width) - 1.0,
        f64::from(cam.intrinsics.height) - 1.0,
    );
    let n = 32;
    let mut border = Vec::with_capacity(4 * n);
    for i in 0..n {
        let t = i as f64 / n as f64;
        border.push(DVec2::new(t * w, 0.0));
    }
    for i in 0..n {
        let t = i as f64 / n as f64;
        border.push(DVec2::new(w, t * h));
    }
    for i in 0..n {
        let t = i as f64 / n as f64;
        border.push(DVec2::new((1.0 - t) * w, h));
    }
    for i in 0..n {
        let t = i as f64 / n as f64;
        border.push(DVec2::new(0.0, (1.0 - t) * h));
    }
    border
        .into_iter()
        .map(|px| cam.back_project(px, 0.0).ok().map(|p| p.truncate()))
        .collect()
}

/// Renders the coverage map to an image (about `size_px` on its longer side).
pub fn render_coverage(
    map: &CoverageMap,
    floor: &Polygon,
    cameras: &[&Camera],
    size_px: u32,
) -> RgbImage {
    let (mut lo, mut hi) = floor.bounds();
    for cam in cameras {
        let c = cam.centre().truncate();
        lo = lo.min(c);
        hi = hi.max(c);
    }
    let extent = hi - lo + DVec2::splat(2.0);
    let mut canvas = Canvas::fit(
        lo - DVec2::splat(1.0),
        hi + DVec2::splat(1.0),
        size_px,
        OUTSIDE,
    );

    // Cells: sample each output pixel's floor point.
    for y in 0..canvas.img.height() {
        for x in 0..canvas.img.width() {
            let p = DVec2::new(
                canvas.lo.x + (f64::from(x) + 0.5) / canvas.px_per_m,
                canvas.lo.y + (f64::from(canvas.img.height() - 1 - y) + 0.5) / canvas.px_per_m,
            );
            if let Some((ix, iy)) = map.grid.cell_of(p) {
                let i = iy * map.grid.nx + ix;
                if map.on_floor[i] {
                    canvas.img.put_pixel(x, y, count_colour(map.count(i)));
                }
            }
        }
    }
    // Floor outline.
    let n = floor.vertices.len();
    for i in 0..n {
        canvas.line(floor.vertices[i], floor.vertices[(i + 1) % n], OUTLINE, 2);
    }
    // Cameras: footprint, viewing direction, position.
    for cam in cameras {
        let fp = footprint(cam);
        for i in 0..fp.len() {
            if let (Some(a), Some(b)) = (fp[i], fp[(i + 1) % fp.len()])
                && (a - b).length() < 0.25 * extent.max_element()
            {
                canvas.line(a, b, FOOTPRINT, 0);
            }
        }
        let c = cam.centre();
        let principal = DVec2::new(cam.intrinsics.cx, cam.intrinsics.cy);
        let target = match cam.back_project(principal, 0.0) {
            Ok(p) => p.truncate(),
            Err(_) => {
                let f = cam.forward();
                c.truncate() + DVec3::new(f.x, f.y, 0.0).normalize_or_zero().truncate() * 3.0
            }
        };
        canvas.line(c.truncate(), target, CAMERA, 2);
        canvas.disc(c.truncate(), 6, CAMERA);
        canvas.disc(c.truncate(), 3, Rgb([255, 255, 255]));
    }
    // Legend: swatches for 0, 1, 2, 3, 4, 5, 6+ cameras along the top-left.
    for k in 0..7u32 {
        for y in 4..18 {
            for x in 0..14 {
                canvas.put(i64::from(4 + k * 16 + x), i64::from(y), count_colour(k));
            }
        }
    }
    canvas.img
}

/// Renders and writes the coverage map PNG.
pub fn write_coverage_png(
    path: &Path,
    map: &CoverageMap,
    floor: &Polygon,
    cameras: &[&Camera],
) -> Result<(), image::ImageError> {
    render_coverage(map, floor, cameras, 1200).save(path)
}

/// Renders floor paths (e.g. tracks, one polyline each) over the floor outline: a floor plan of
/// who walked where, about `size_px` on its longer side.
pub fn render_paths(floor: &Polygon, paths: &[Vec<DVec2>], size_px: u32) -> RgbImage {
    let (mut lo, mut hi) = floor.bounds();
    for p in paths.iter().flatten() {
        lo = lo.min(*p);
        hi = hi.max(*p);
    }
    let mut canvas = Canvas::fit(
        lo - DVec2::splat(0.5),
        hi + DVec2::splat(0.5),
        size_px,
        Rgb([250, 250, 250]),
    );
    let n = floor.vertices.len();
    for i in 0..n {
        canvas.line(floor.vertices[i], floor.vertices[(i + 1) % n], OUTLINE, 2);
    }
    for (k, path) in paths.iter().enumerate() {
        // Distinct hues by golden-angle steps.
        let hue = (k as f64 * 137.508) % 360.0;
        let colour = hsv(hue, 0.85, 0.85);
        for pair in path.windows(2) {
            canvas.line(pair[0], pair[1], colour, 1);
        }
        if let Some(last) = path.last() {
            canvas.disc(*last, 4, colour);
        }
    }
    canvas.img
}

fn hsv(h: f64, s: f64, v: f64) -> Rgb<u8> {
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    Rgb([r, g, b].map(|u| ((u + m) * 255.0).round() as u8))
}

/// Renders and writes a floor plan of paths.
pub fn write_paths_png(
    path: &Path,
    floor: &Polygon,
    paths: &[Vec<DVec2>],
) -> Result<(), image::ImageError> {
    render_paths(floor, paths, 1200).save(path)
}
