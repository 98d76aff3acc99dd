//! Diagnoses fusion and tracking on a simulation directory (`walkoutd sim --out DIR`): per truth
//! person, how many candidates lie near them per frame, and where tracks are born and end.
//! `cargo run --release -p walkout-runtime --example store_diag -- CONFIG DIR`

use std::collections::BTreeMap;

use walkout_fusion::{Fuser, View};
use walkout_geometry::StoreConfig;
use walkout_runtime::store_replay::StoreReplayOptions;
use walkout_track::{TrackIds, Tracker};
use walkout_types::{Detection, TrackState, ViewDetections};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (config, dir) = (
        std::path::PathBuf::from(&args[1]),
        std::path::PathBuf::from(&args[2]),
    );
    let store = StoreConfig::load(&config).expect("config");
    let opts = StoreReplayOptions::new(config.clone(), dir.join("views"));
    let ncam = store.cameras.len();
    let mut frames: BTreeMap<u64, (f64, Vec<Vec<Detection>>)> = BTreeMap::new();
    for (c, cam) in store.cameras.iter().enumerate() {
        let text =
            std::fs::read_to_string(dir.join("views").join(format!("{}.jsonl", cam.camera.id)))
                .expect("views");
        for l in text.lines() {
            let v: ViewDetections = serde_json::from_str(l).expect("json");
            frames
                .entry(v.frame)
                .or_insert_with(|| (v.time, vec![Vec::new(); ncam]))
                .1[c] = v.detections;
        }
    }
    let gt = walkout_eval::read_csv(&dir.join("truth/tracks.csv")).expect("gt");
    let mut gt_by_frame: BTreeMap<i64, Vec<(i64, f64, f64)>> = BTreeMap::new();
    for r in &gt {
        gt_by_frame
            .entry(r.frame)
            .or_default()
            .push((r.id, r.x, r.y));
    }
    let mut fuser = Fuser::new(
        store.cameras().cloned().collect(),
        &store.floor,
        opts.fusion.clone(),
    )
    .with_occluders(store.occluders());
    let mut tracker = Tracker::new(opts.tracker.clone(), TrackIds::new());
    let mut known: BTreeMap<u64, f64> = BTreeMap::new();
    let (mut zero, mut one, mut two, mut total) = (0, 0, 0, 0);
    for (frame, (time, per)) in &frames {
        let cands = fuser.fuse(&View::per_camera(per));
        let people = gt_by_frame
            .get(&(*frame as i64))
            .cloned()
            .unwrap_or_default();
        for (_, x, y) in &people {
            let near = cands
                .iter()
                .filter(|c| (c.x - x).hypot(c.y - y) < 0.75)
                .count();
            total += 1;
            match near {
                0 => zero += 1,
                1 => one += 1,
                _ => two += 1,
            }
        }
        if std::env::var("FRAME")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            == Some(*frame)
        {
            println!("frame {frame}: truth {people:?}");
            for c in &cands {
                println!(
                    "  candidate ({:.2}, {:.2}) views {} visible {} strong {} cameras {:?} height {:?}",
                    c.x, c.y, c.views, c.visible, c.strong, c.cameras, c.height_m
                );
            }
            for (k, dets) in per.iter().enumerate() {
                let cam = &fuser.cameras()[k];
                for d in dets {
                    let foot = cam
                        .back_project(
                            glam::DVec2::new(d.left + d.width / 2.0, d.top + d.height),
                            0.0,
                        )
                        .ok();
                    let head = cam
                        .back_project(glam::DVec2::new(d.left + d.width / 2.0, d.top), 1.7)
                        .ok();
                    println!(
                        "  cam{k}: box l {:.0} t {:.0} w {:.0} h {:.0} foot {:?} head@1.7 {:?}",
                        d.left,
                        d.top,
                        d.width,
                        d.height,
                        foot.map(|p| (
                            (p.x * 100.0).round() / 100.0,
                            (p.y * 100.0).round() / 100.0
                        )),
                        head.map(|p| (
                            (p.x * 100.0).round() / 100.0,
                            (p.y * 100.0).round() / 100.0
                        )),
                    );
                }
            }
        }
        tracker.update(*time, &cands);
        for t in tracker.tracks() {
            if t.state == TrackState::Confirmed && !known.contains_key(&t.id) {
                known.insert(t.id, *time);
                let nearest = people
                    .iter()
                    .map(|(id, x, y)| (id, (t.position[0] - x).hypot(t.position[1] - y)))
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                let others: Vec<(u64, f64)> = tracker
                    .tracks()
                    .iter()
                    .filter(|o| o.id != t.id && o.state != TrackState::Tentative)
                    .map(|o| (o.id, (o.x[0] - t.x[0]).hypot(o.x[1] - t.x[1])))
                    .filter(|(_, d)| *d < 1.5)
                    .collect();
                println!(
                    "t {time:6.1} track {:3} confirmed at ({:5.2}, {:5.2}) nearest truth {:?}; other tracks within 1.5 m: {:?}; candidates {} (strong {})",
                    t.id,
                    t.position[0],
                    t.position[1],
                    nearest,
                    others,
                    cands.len(),
                    cands.iter().filter(|c| c.strong).count()
                );
            }
        }
    }
    println!(
        "person-frames {total}: no candidate within 0.75 m {zero}, one {one}, two or more {two}"
    );
}
