//! `walkoutd calib check`: print a store's camera geometry and coverage, write the coverage PNG.

use std::path::Path;

use anyhow::Context;
use glam::DVec2;
use walkout_geometry::coverage::{CoverageMap, CoverageStats};
use walkout_geometry::render::write_coverage_png;
use walkout_geometry::{Camera, StoreConfig, ZoneKind};

/// The person whose visibility `calib check` maps where shelves stand, metres.
const PERSON_HEIGHT_M: f64 = 1.7;

pub fn check(config: &Path, png: Option<&Path>) -> anyhow::Result<()> {
    let store = StoreConfig::load(config)?;
    let cameras: Vec<&Camera> = store.cameras().collect();
    let map = CoverageMap::compute_with_walls(
        &cameras,
        &store.floor,
        store.coverage_cell_m,
        0.0,
        &store.walls,
    );
    let stats = map.stats();

    println!(
        "store {} ({}): {} camera(s), config valid",
        store.id,
        store.name.as_deref().unwrap_or("unnamed"),
        cameras.len()
    );
    println!(
        "{:<10} {:>26} {:>8} {:>14} {:>11} {:>6}  source",
        "camera", "position x, y, z (m)", "height", "fov h x v (°)", "floor (m²)", "model"
    );
    for (k, cc) in store.cameras.iter().enumerate() {
        let cam = &cc.camera;
        let c = cam.centre();
        let fov = cam
            .field_of_view_deg()
            .map_or_else(|| "n/a".to_string(), |(h, v)| format!("{h:.1} x {v:.1}"));
        println!(
            "{:<10} {:>26} {:>8.2} {:>14} {:>11.1} {:>6}  {}",
            cam.id,
            format!("{:.2}, {:.2}, {:.2}", c.x, c.y, c.z),
            c.z,
            fov,
            stats.per_camera_m2[k],
            cam.intrinsics.lens.name(),
            cc.source.as_deref().unwrap_or("-"),
        );
    }
    println!(
        "floor {:.1} m² (grid {} x {} cells of {} m)",
        stats.floor_area_m2, map.grid.nx, map.grid.ny, map.grid.cell_m
    );
    print_seen_by(&stats, "; ");
    // Where shelves stand, what matters is whether a camera sees a person standing there, not
    // the floor point: shelves hide bodies, and a camera's near field cuts them off.
    let occluders = store.occluders();
    if !store.shelves.is_empty() {
        let people = CoverageMap::people(
            &cameras,
            &store.floor,
            store.coverage_cell_m,
            PERSON_HEIGHT_M,
            &occluders,
        );
        let ps = people.stats();
        let cell = people.grid.cell_area();
        let declared = |p| {
            store
                .zones
                .iter()
                .any(|z| z.kind == ZoneKind::BlindSpot && z.polygon.contains(p))
        };
        let undeclared_cells: Vec<DVec2> = (0..people.grid.ny)
            .flat_map(|iy| (0..people.grid.nx).map(move |ix| (ix, iy)))
            .filter(|&(ix, iy)| {
                let i = iy * people.grid.nx + ix;
                people.on_floor[i] && people.count(i) < 2 && !declared(people.grid.centre(ix, iy))
            })
            .map(|(ix, iy)| people.grid.centre(ix, iy))
            .collect();
        let undeclared = undeclared_cells.len() as f64 * cell;
        println!(
            "a person {PERSON_HEIGHT_M} m tall, shelves and walls hiding, on the {:.1} m² not under shelves:",
            ps.floor_area_m2
        );
        print_seen_by(
            &ps,
            &format!(", {undeclared:.1} m² of it outside the declared blind spots; "),
        );
        // Where the undeclared blind spots are: the square metres that hold most of them.
        let mut squares: std::collections::BTreeMap<(i64, i64), usize> = Default::default();
        for c in &undeclared_cells {
            *squares
                .entry((c.x.floor() as i64, c.y.floor() as i64))
                .or_default() += 1;
        }
        let mut squares: Vec<_> = squares.into_iter().collect();
        squares.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for ((x, y), n) in squares.iter().take(5) {
            println!(
                "    undeclared blind spot in x {x}..{} m, y {y}..{} m: {:.2} m²",
                x + 1,
                y + 1,
                *n as f64 * cell
            );
        }
        // A declared blind spot is where identities may be swapped unseen: a camera that sees
        // into it contradicts the config (or the blind spot was declared in vain).
        for z in store.zones.iter().filter(|z| z.kind == ZoneKind::BlindSpot) {
            let mut seen_by = vec![0usize; cameras.len()];
            for iy in 0..people.grid.ny {
                for ix in 0..people.grid.nx {
                    let i = iy * people.grid.nx + ix;
                    if people.on_floor[i] && z.polygon.contains(people.grid.centre(ix, iy)) {
                        for (k, n) in seen_by.iter_mut().enumerate() {
                            *n += usize::from(people.masks[i] & (1 << k) != 0);
                        }
                    }
                }
            }
            let area = (0..people.grid.len())
                .filter(|&i| {
                    let (ix, iy) = (i % people.grid.nx, i / people.grid.nx);
                    people.on_floor[i] && z.polygon.contains(people.grid.centre(ix, iy))
                })
                .count() as f64
                * cell;
            let seeing: Vec<String> = seen_by
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{} {:.1} m²", cameras[k].id, *n as f64 * cell))
                .collect();
            if seeing.is_empty() {
                println!(
                    "  blind spot {} ({area:.1} m²): no camera sees a person in it",
                    z.id
                );
            } else {
                println!(
                    "  blind spot {} ({area:.1} m²): cameras see a person in part of it: {}",
                    z.id,
                    seeing.join(", ")
                );
            }
        }
    }
    if let Some(png) = png {
        write_coverage_png(png, &map, &store.floor, &cameras)
            .with_context(|| format!("writing coverage map {}", png.display()))?;
        println!("coverage map written to {}", png.display());
    }
    Ok(())
}

/// `stats` as lines "seen by >= k camera(s)" (k = 1..4) and the blind spots (`note` between
/// their area and the mean cameras per cell).
fn print_seen_by(stats: &CoverageStats, note: &str) {
    let pct = |a: f64| {
        if stats.floor_area_m2 > 0.0 {
            100.0 * a / stats.floor_area_m2
        } else {
            0.0
        }
    };
    for (k, a) in stats
        .area_seen_by_at_least_m2
        .iter()
        .enumerate()
        .skip(1)
        .take(4)
    {
        println!("  seen by >= {k} camera(s): {a:>9.1} m² ({:5.1}%)", pct(*a));
    }
    println!(
        "  blind spots (< 2 cameras): {:.1} m² ({:.1}%){note}mean cameras per cell {:.2}",
        stats.blind_area_m2,
        pct(stats.blind_area_m2),
        stats.mean_cameras_per_cell
    );
}
