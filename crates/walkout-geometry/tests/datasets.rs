//! Real calibrations against real annotations: WILDTRACK, MultiviewX and PETS 2009 (shared data,
//! found through walkout_types::setup; `scripts/setup` records where it is).

use std::path::{Path, PathBuf};

use glam::{DVec2, DVec3};
use serde_json::Value;
use walkout_geometry::StoreConfig;
use walkout_types::setup::shared_root;

fn repo() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

fn shared(rel: &str) -> PathBuf {
    let p = shared_root().join(rel);
    assert!(
        p.exists(),
        "shared data {} not found: set WALKOUT_SHARED or run scripts/setup (see README)",
        p.display()
    );
    p
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median distance between each annotated floor position's projection and its box's bottom centre.
fn annotation_errors(
    store: &StoreConfig,
    dir: &Path,
    position: impl Fn(u64) -> DVec2,
) -> (Vec<f64>, usize) {
    let mut errors = Vec::new();
    let mut files = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("annotations dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let text = std::fs::read_to_string(entry.path()).expect("annotation file");
        let people: Value = serde_json::from_str(&text).expect("annotation JSON");
        files += 1;
        for person in people.as_array().expect("list") {
            let pos = position(person["positionID"].as_u64().expect("positionID"));
            for view in person["views"].as_array().expect("views") {
                let xmin = view["xmin"].as_f64().expect("xmin");
                if xmin < 0.0 && view["xmax"].as_f64() == Some(-1.0) {
                    continue;
                }
                let k = view["viewNum"].as_u64().expect("viewNum") as usize;
                let (xmax, ymax) = (
                    view["xmax"].as_f64().expect("xmax"),
                    view["ymax"].as_f64().expect("ymax"),
                );
                let bottom = DVec2::new((xmin + xmax) / 2.0, ymax);
                let cam = &store.cameras[k].camera;
                let Some(px) = cam.project(DVec3::new(pos.x, pos.y, 0.0)) else {
                    errors.push(f64::INFINITY);
                    continue;
                };
                errors.push((px - bottom).length());
            }
        }
    }
    (errors, files)
}

#[test]
fn wildtrack_positions_project_onto_box_bottoms() {
    let store =
        StoreConfig::load(&repo().join("calibration/wildtrack.toml")).expect("wildtrack.toml");
    assert_eq!(store.cameras.len(), 7);
    let (errors, files) = annotation_errors(
        &store,
        &shared("data/wildtrack/annotations_positions"),
        |id| {
            DVec2::new(
                -3.0 + 0.025 * (id % 480) as f64,
                -9.0 + 0.025 * (id / 480) as f64,
            )
        },
    );
    let m = median(errors.clone());
    println!(
        "WILDTRACK: {} boxes in {files} frames, median error {m:.2} px",
        errors.len()
    );
    assert!(files >= 350 && errors.len() > 10_000);
    assert!(m < 8.0, "median reprojection error {m} px");
}

#[test]
fn multiviewx_positions_project_onto_box_bottoms() {
    let store =
        StoreConfig::load(&repo().join("calibration/multiviewx.toml")).expect("multiviewx.toml");
    assert_eq!(store.cameras.len(), 6);
    let (errors, files) = annotation_errors(
        &store,
        &shared("data/multiviewx/annotations_positions"),
        |id| DVec2::new((id % 1000) as f64 / 40.0, (id / 1000) as f64 / 40.0),
    );
    let m = median(errors.clone());
    println!(
        "MultiviewX: {} boxes in {files} frames, median error {m:.2} px",
        errors.len()
    );
    assert!(files >= 10 && errors.len() > 500);
    assert!(m < 9.0, "median reprojection error {m} px");
}

#[test]
fn pets_view_001_matches_an_independent_tsai_implementation() {
    let store =
        StoreConfig::load(&repo().join("calibration/pets2009-s2l1.toml")).expect("pets toml");
    let cam = &store.cameras[0].camera;
    let c = cam.centre();
    println!("PETS View_001 centre {c:?}");
    assert!(
        (c - DVec3::new(-28.94, -19.53, 7.07)).length() < 0.05,
        "centre {c:?}"
    );
    let floor = cam
        .back_project(DVec2::new(384.0, 288.0), 0.0)
        .expect("image centre reaches the floor");
    println!("PETS View_001 image centre -> floor {floor:?}");
    assert!(
        (floor.truncate() - DVec2::new(-9.33, -6.96)).length() < 0.05,
        "floor point {floor:?}"
    );
}

#[test]
fn pets_inline_numbers_equal_an_import_of_the_original_file() {
    let inline =
        StoreConfig::load(&repo().join("calibration/pets2009-s2l1.toml")).expect("pets toml");
    let text = format!(
        "[store]\nid = \"p\"\nfloor = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]\n[[cameras]]\nid = \"cam0\"\n\
         [cameras.calibration]\nformat = \"tsai\"\nfile = \"{}\"\nunits = \"mm\"\n",
        shared("data/pets2009/calibration/View_001.xml").display()
    );
    let imported = StoreConfig::from_toml(Path::new("import.toml"), &text).expect("import");
    let (a, b) = (&inline.cameras[0].camera, &imported.cameras[0].camera);
    assert_eq!(
        (a.intrinsics.width, a.intrinsics.height),
        (b.intrinsics.width, b.intrinsics.height)
    );
    assert!((a.centre() - b.centre()).length() < 1e-9);
    for px in [
        DVec2::new(10.0, 20.0),
        DVec2::new(384.0, 288.0),
        DVec2::new(700.0, 560.0),
    ] {
        let (pa, pb) = (
            a.back_project(px, 0.0).expect("a"),
            b.back_project(px, 0.0).expect("b"),
        );
        assert!((pa - pb).length() < 1e-9, "{pa:?} vs {pb:?}");
    }
}

#[test]
fn sample_store_coverage_is_sane() {
    use walkout_geometry::coverage::CoverageMap;
    let store =
        StoreConfig::load(&repo().join("calibration/wildtrack.toml")).expect("wildtrack.toml");
    let cams: Vec<_> = store.cameras().collect();
    let map = CoverageMap::compute(&cams, &store.floor, 0.25, 0.0);
    let stats = map.stats();
    assert!((stats.floor_area_m2 - 432.0).abs() < 1.0);
    // Every annotated WILDTRACK position is seen by at least one camera.
    assert!(stats.area_seen_by_at_least_m2[1] > 0.99 * stats.floor_area_m2);
    assert!(stats.blind_area_m2 < 0.1 * stats.floor_area_m2);
    // Monotone: seen by >= k+1 is never more than seen by >= k.
    for w in stats.area_seen_by_at_least_m2.windows(2) {
        assert!(w[1] <= w[0]);
    }
    // A point far off the floor is seen by nobody; the centre of the area by several.
    assert_eq!(map.count_at(DVec2::new(100.0, 100.0)), 0);
    assert!(map.count_at(DVec2::new(3.0, 9.0)) >= 3);
}
