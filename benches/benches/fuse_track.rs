//! Fusion + tracking of one tick: 7 cameras x 40 people on WILDTRACK's real calibration, and
//! 32 cameras x 200 people on a synthetic 40 m x 40 m store.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use walkout_benches::{Rng, boxes, grid_store, step, walkers};
use walkout_fusion::{Fuser, FusionConfig, View};
use walkout_geometry::{Camera, StoreConfig};
use walkout_track::{TrackIds, Tracker, TrackerConfig};

fn bench_store(c: &mut Criterion, name: &str, store: &StoreConfig, people: usize) {
    let mut rng = Rng::new(7);
    let cams: Vec<&Camera> = store.cameras().collect();
    let mut fuser = Fuser::new(
        cams.iter().map(|c| (*c).clone()).collect(),
        &store.floor,
        FusionConfig::default(),
    );
    let mut tracker = Tracker::new(TrackerConfig::default(), TrackIds::new());
    let mut crowd = walkers(store, people, &mut rng);
    // A recorded sequence of 50 ticks at 10 Hz, replayed in a loop (box generation not timed).
    let ticks: Vec<Vec<Vec<walkout_types::Detection>>> = (0..50)
        .map(|_| {
            step(store, &mut crowd, 0.1);
            boxes(&cams, &crowd, &mut rng)
        })
        .collect();
    let per_tick = ticks
        .iter()
        .map(|t| t.iter().map(Vec::len).sum::<usize>())
        .sum::<usize>()
        / ticks.len();
    eprintln!("{name}: {per_tick} boxes per tick on average");
    let mut phases = [0.0; 4];
    for (k, tick) in ticks.iter().enumerate() {
        let views: Vec<View> = View::per_camera(tick);
        let cands = fuser.fuse(&views);
        for (a, b) in phases.iter_mut().zip(fuser.last_stats.phase_us) {
            *a += b / ticks.len() as f64;
        }
        tracker.update(k as f64 * 0.1, &cands);
    }
    eprintln!("{name}: fusion phases (observe, splat, peaks, gather) {phases:.0?} us");
    let mut t = 0usize;
    c.bench_function(name, |b| {
        b.iter(|| {
            let tick = &ticks[t % ticks.len()];
            let views: Vec<View> = View::per_camera(tick);
            let cands = fuser.fuse(&views);
            tracker.update(t as f64 * 0.1, &cands);
            t += 1;
            black_box(tracker.tracks().len())
        })
    });
}

fn fuse_track(c: &mut Criterion) {
    let wildtrack = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../calibration/wildtrack.toml");
    match StoreConfig::load(&wildtrack) {
        Ok(store) => bench_store(
            c,
            "fuse+track 7 cameras x 40 people (WILDTRACK)",
            &store,
            40,
        ),
        Err(e) => eprintln!("skipping the WILDTRACK bench: {e}"),
    }
    let big = grid_store(32, 30.0);
    bench_store(
        c,
        "fuse+track 32 cameras x 200 people (synthetic 30 m store)",
        &big,
        200,
    );
}

criterion_group!(benches, fuse_track);
criterion_main!(benches);
