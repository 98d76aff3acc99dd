//! `walkoutd calib check`: print a store's camera geometry and coverage, write the coverage PNG.

use std::path::Path;

use anyhow::Context;
use walkout_geometry::coverage::CoverageMap;
use walkout_geometry::render::write_coverage_png;
use walkout_geometry::{Camera, StoreConfig};

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
    let pct = |a: f64| {
        if stats.floor_area_m2 > 0.0 {
            100.0 * a / stats.floor_area_m2
        } else {
            0.0
        }
    };
    println!(
        "floor {:.1} m² (grid {} x {} cells of {} m)",
        stats.floor_area_m2, map.grid.nx, map.grid.ny, map.grid.cell_m
    );
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
        "  blind spots (< 2 cameras): {:.1} m² ({:.1}%); mean cameras per cell {:.2}",
        stats.blind_area_m2,
        pct(stats.blind_area_m2),
        stats.mean_cameras_per_cell
    );
    if let Some(png) = png {
        write_coverage_png(png, &map, &store.floor, &cameras)
            .with_context(|| format!("writing coverage map {}", png.display()))?;
        println!("coverage map written to {}", png.display());
    }
    Ok(())
}
