//! Developer tool: score fusion alone (MODA of candidates) and fusion + tracking on a replay
//! directory, for parameter tuning on the WILDTRACK train split.
//! `cargo run --release -p walkout-runtime --example tune -- CONFIG DIR GT [key=value ...]`

use std::path::PathBuf;

use walkout_fusion::{Fuser, View};
use walkout_geometry::StoreConfig;
use walkout_runtime::replay::{self, ReplayInput, ReplayOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (config, dir, gt) = (
        PathBuf::from(&args[1]),
        PathBuf::from(&args[2]),
        PathBuf::from(&args[3]),
    );
    let points = dir.extension().is_some_and(|e| e == "csv");
    let input = if points {
        ReplayInput::FloorPoints(dir.clone())
    } else {
        ReplayInput::Detections(dir.clone())
    };
    let mut opts = ReplayOptions::new(config.clone(), input, 10.0);
    for kv in &args[4..] {
        let (k, v) = kv.split_once('=').expect("key=value");
        let f: f64 = v.parse().expect("number");
        match k {
            "peak" => opts.fusion.peak_threshold = f,
            "nms" => opts.fusion.nms_radius_m = f,
            "fgate" => opts.fusion.gate_chi2 = f,
            "support" => opts.fusion.min_support_fraction = f,
            "strong" => opts.fusion.strong_views = f as u32,
            "rel" => opts.fusion.pixel_sigma_rel = f,
            "abs" => opts.fusion.pixel_sigma_abs = f,
            "hsig" => opts.fusion.head_height_sigma_m = f,
            "floor" => opts.fusion.floor_sigma_m = f,
            "weak" => opts.fusion.weak_singles = f > 0.0,
            "hsigma" => opts.tracker.height_sigma_m = f,
            "hmin" => opts.tracker.height_min_samples = f as u32,
            "rw" => opts.tracker.report_measurement_weight = f,
            "wbirth" => opts.tracker.weak_birth_hits = f as u32,
            "clear" => opts.fusion.reject_clear_views = f as u32,
            "overlap" => opts.fusion.explain_overlap = f,
            "splat" => opts.fusion.splat_radius_m = f,
            "cell" => opts.fusion.cell_m = f,
            "wgate" => opts.tracker.weak_gate_chi2 = f,
            "la" => opts.tracker.lookahead.ticks = f as usize,
            "lamiss" => opts.tracker.lookahead.miss_cost = f,
            "labirth" => opts.tracker.lookahead.birth_cost = f,
            "lamargin" => opts.tracker.lookahead.margin = f,
            "lagain" => opts.tracker.lookahead.min_gain = f,
            "laalt" => opts.tracker.lookahead.max_alternatives = f as usize,

            "accel" => opts.tracker.accel_sigma = f,
            "v0" => opts.tracker.initial_speed_sigma = f,
            "tgate" => opts.tracker.gate_chi2 = f,
            "hits" => opts.tracker.confirm_hits = f as u32,
            "cviews" => opts.tracker.confirm_views = f as u32,
            "coast" => opts.tracker.max_coast_s = f,
            "tcoast" => opts.tracker.tentative_coast_s = f,
            "rcoast" => opts.report_coast_s = f,
            "rhits" => opts.report_coast_min_hits = f as u32,
            "backfill" => opts.backfill = f > 0.0,
            "bfill" => opts.backward_fill = f > 0.0,
            "gap" => opts.gap_fill = f > 0.0,
            "smooth" => opts.smooth = f > 0.0,
            "smw" => opts.smooth_measurement_weight = f,
            "meas" => opts.tracker.measurement_sigma_m = f,
            "minscore" => opts.fusion.min_score = f,
            "iters" => opts.fusion.refine_iterations = f as u32,
            "hh" => opts.fusion.head_height_m = f,
            _ => panic!("unknown key {k}"),
        }
    }
    let gt_rows = walkout_eval::read_csv(&gt).expect("gt");
    if let Ok(rows) = std::env::var("SCORE") {
        let rows = walkout_eval::read_csv(std::path::Path::new(&rows)).expect("rows");
        println!(
            "scored       : {}",
            walkout_eval::evaluate(&gt_rows, &rows, 0.5)
        );
        return;
    }
    if std::env::var_os("DIAG2").is_some() {
        diag2(&config, &dir, &gt_rows, &opts);
        return;
    }
    if std::env::var_os("DIAG").is_some() {
        diag(&config, &dir, &gt_rows, &opts);
        return;
    }
    if points {
        let r = replay::run(&opts).expect("replay");
        if let Ok(out) = std::env::var("ROWS") {
            replay::write_tracks_csv(std::path::Path::new(&out), &r.rows).expect("rows");
        }
        println!(
            "tracks       : {}",
            walkout_eval::evaluate(&gt_rows, &r.rows, 0.5)
        );
        return;
    }
    // Fusion alone.
    let store = StoreConfig::load(&config).expect("config");
    let (frames, _) = replay::read_detection_dir(&store, &dir).expect("detections");
    let mut fuser = Fuser::new(
        store.cameras().cloned().collect(),
        &store.floor,
        opts.fusion.clone(),
    );
    let (mut strong_rows, mut all_rows) = (Vec::new(), Vec::new());
    let mut id = 0;
    let mut members: Vec<String> = Vec::new();
    for (frame, per_cam) in &frames {
        let views: Vec<View> = View::per_camera(per_cam);
        for c in fuser.fuse(&views) {
            id += 1;
            let row = walkout_eval::Row {
                frame: *frame as i64,
                id,
                x: c.x,
                y: c.y,
            };
            members.push(
                c.detections
                    .iter()
                    .map(|(cam, d)| format!("{cam}:{d}"))
                    .collect::<Vec<_>>()
                    .join(";"),
            );
            if c.strong {
                strong_rows.push(row);
            }
            all_rows.push(row);
        }
    }
    if let Ok(out) = std::env::var("CANDS") {
        let mut text = String::from("frame,id,x,y,strong,members\n");
        for (r, m) in all_rows.iter().zip(&members) {
            let strong = strong_rows.iter().any(|s| s.id == r.id);
            text += &format!(
                "{},{},{:.3},{:.3},{},{}\n",
                r.frame,
                r.id,
                r.x,
                r.y,
                u8::from(strong),
                m
            );
        }
        std::fs::write(out, text).expect("cands");
    }
    let s = walkout_eval::evaluate(&gt_rows, &strong_rows, 0.5);
    println!(
        "fusion strong: MODA {:.3} precision {:.3} recall {:.3} MODP {:.3}",
        s.moda, s.precision, s.recall, s.modp
    );
    let s = walkout_eval::evaluate(&gt_rows, &all_rows, 0.5);
    println!(
        "fusion all   : MODA {:.3} precision {:.3} recall {:.3}",
        s.moda, s.precision, s.recall
    );
    let r = replay::run(&opts).expect("replay");
    if let Ok(out) = std::env::var("ROWS") {
        replay::write_tracks_csv(std::path::Path::new(&out), &r.rows).expect("rows");
    }
    if let Ok(from) = std::env::var("FROM") {
        let from: i64 = from.parse().expect("FROM frame");
        let g: Vec<_> = gt_rows
            .iter()
            .copied()
            .filter(|r| r.frame >= from)
            .collect();
        let p: Vec<_> = r.rows.iter().copied().filter(|r| r.frame >= from).collect();
        println!("from {from}   : {}", walkout_eval::evaluate(&g, &p, 0.5));
    }
    let s = walkout_eval::evaluate(&gt_rows, &r.rows, 0.5);
    println!("tracks       : {s}");
}

fn diag(
    config: &std::path::Path,
    dir: &std::path::Path,
    gt: &[walkout_eval::Row],
    opts: &ReplayOptions,
) {
    let store = StoreConfig::load(config).expect("config");
    let (frames, _) = replay::read_detection_dir(&store, dir).expect("detections");
    let mut f = opts.fusion.clone();
    f.peak_threshold = 1e9;
    let mut fuser = Fuser::new(store.cameras().cloned().collect(), &store.floor, f);
    let mut per_cam: Vec<Vec<(f64, f64)>> = vec![Vec::new(); store.cameras.len()];
    let mut support_hist = [0usize; 8];
    let mut miss: std::collections::BTreeMap<String, usize> = Default::default();
    let mut shown = 0;
    for (frame, dets) in &frames {
        let views: Vec<View> = View::per_camera(dets);
        let g: Vec<&walkout_eval::Row> = gt.iter().filter(|r| r.frame == *frame as i64).collect();
        let mut fz = Fuser::new(
            store.cameras().cloned().collect(),
            &store.floor,
            opts.fusion.clone(),
        );
        let strong: Vec<_> = fz.fuse(&views).into_iter().filter(|c| c.strong).collect();
        for r in &g {
            if strong.iter().any(|c| (c.x - r.x).hypot(c.y - r.y) < 0.5) {
                continue;
            }
            let (e, n, vis) = fz.evidence_at(glam::DVec2::new(r.x, r.y));
            let near = strong
                .iter()
                .filter(|c| (c.x - r.x).hypot(c.y - r.y) < 1.0)
                .count();
            let key = (if n < 2 {
                "n<2"
            } else if e < opts.fusion.peak_threshold {
                "weak-evidence"
            } else if near > 0 {
                "strong-nearby"
            } else {
                "no-peak"
            })
            .to_string();
            *miss.entry(key).or_insert(0usize) += 1;
            if n >= 2 && e >= opts.fusion.peak_threshold && near == 0 && shown < 5 {
                shown += 1;
                println!(
                    "miss at ({:.2},{:.2}) evidence {e:.2} members {n} vis {vis}",
                    r.x, r.y
                );
            }
        }
        let cands = fuser.fuse(&views);
        for r in &g {
            let mut cams = std::collections::HashSet::new();
            for c in &cands {
                let (ex, ey) = (r.x - c.x, r.y - c.y);
                let det = c.cov[0] * c.cov[2] - c.cov[1] * c.cov[1];
                let m2 = (c.cov[2] * ex * ex - 2.0 * c.cov[1] * ex * ey + c.cov[0] * ey * ey) / det;
                if m2 < 9.21 {
                    cams.insert(c.cameras[0]);
                }
            }
            support_hist[cams.len().min(7)] += 1;
        }
        for c in cands {
            let (mut best, mut bm) = (f64::INFINITY, f64::INFINITY);
            let det = c.cov[0] * c.cov[2] - c.cov[1] * c.cov[1];
            for r in &g {
                let (ex, ey) = (r.x - c.x, r.y - c.y);
                let d = ex.hypot(ey);
                let m2 = (c.cov[2] * ex * ex - 2.0 * c.cov[1] * ex * ey + c.cov[0] * ey * ey) / det;
                if d < best {
                    best = d;
                    bm = m2;
                }
            }
            per_cam[c.cameras[0] as usize].push((best, bm));
        }
    }
    println!("missed GT people: {miss:?}");
    println!("GT people by number of cameras with an observation gating them: {support_hist:?}");
    for (k, v) in per_cam.iter_mut().enumerate() {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = v.len();
        let within = |t: f64| v.iter().filter(|x| x.0 < t).count() as f64 / n as f64;
        let mut m: Vec<f64> = v.iter().filter(|x| x.0 < 1.0).map(|x| x.1).collect();
        m.sort_by(f64::total_cmp);
        println!(
            "cam{k}: {n} obs, median dist {:.2} m, <0.3 m {:.2}, <0.5 m {:.2}, <1 m {:.2}; Mahalanobis^2 of near ones: median {:.1}, p90 {:.1}",
            v[n / 2].0,
            within(0.3),
            within(0.5),
            within(1.0),
            m[m.len() / 2],
            m[m.len() * 9 / 10]
        );
    }
}

/// Where the tracker's misses and false positives come from.
pub fn diag2(
    config: &std::path::Path,
    dir: &std::path::Path,
    gt: &[walkout_eval::Row],
    opts: &ReplayOptions,
) {
    use walkout_types::TrackState;
    let store = StoreConfig::load(config).expect("config");
    let (frames, _) = replay::read_detection_dir(&store, dir).expect("detections");
    let mut fuser = Fuser::new(
        store.cameras().cloned().collect(),
        &store.floor,
        opts.fusion.clone(),
    );
    let mut tracker =
        walkout_track::Tracker::new(opts.tracker.clone(), walkout_track::TrackIds::new());
    let mut fnc: std::collections::BTreeMap<String, usize> = Default::default();
    let nviews: std::collections::HashMap<(i64, i64), u32> = std::env::var("VIEWS")
        .ok()
        .map(|p| {
            std::fs::read_to_string(p)
                .expect("views")
                .lines()
                .skip(1)
                .map(|l| {
                    let v: Vec<i64> = l.split(',').map(|x| x.parse().expect("int")).collect();
                    ((v[0], v[1]), v[2] as u32)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut fpc: std::collections::BTreeMap<&str, usize> = Default::default();
    for (frame, dets) in &frames {
        let views: Vec<View> = View::per_camera(dets);
        let cands = fuser.fuse(&views);
        tracker.update(*frame as f64 / 10.0, &cands);
        let g: Vec<&walkout_eval::Row> = gt.iter().filter(|r| r.frame == *frame as i64).collect();
        let out: Vec<_> = tracker
            .tracks()
            .iter()
            .filter(|t| t.state == TrackState::Confirmed)
            .collect();
        for r in &g {
            let d = |t: &&walkout_track::Track| (t.x[0] - r.x).hypot(t.x[1] - r.y);
            if out.iter().any(|t| d(t) < 0.5) {
                continue;
            }
            let near_any = tracker
                .tracks()
                .iter()
                .filter(|t| d(t) < 0.5)
                .map(|t| t.state)
                .next();
            let near_cand = cands
                .iter()
                .filter(|c| (c.x - r.x).hypot(c.y - r.y) < 0.5)
                .map(|c| c.strong)
                .max();
            let k = match (near_any, near_cand) {
                (Some(TrackState::Tentative), _) => "tentative track",
                (Some(TrackState::Occluded), Some(_)) => "occluded track, candidate near",
                (Some(TrackState::Occluded), None) => "occluded track, no candidate",
                (Some(_), _) => "other",
                (None, Some(true)) => "no track, strong cand",
                (None, Some(false)) => "no track, weak cand",
                (None, None) => {
                    if out.iter().any(|t| d(t) < 1.0) {
                        "output track 0.5-1 m away"
                    } else {
                        "no track, no cand"
                    }
                }
            };
            let nv = nviews.get(&(r.frame, r.id)).copied().unwrap_or(9).min(3);
            *fnc.entry(format!("v{nv} {k}")).or_default() += 1;
        }
        for t in &out {
            let dmin = g
                .iter()
                .map(|r| (t.x[0] - r.x).hypot(t.x[1] - r.y))
                .fold(f64::INFINITY, f64::min);
            let k = if dmin < 0.5 {
                continue;
            } else if dmin < 1.0 {
                if t.hits <= 2 {
                    "0.5-1 m, young track"
                } else if t.cameras.len() >= 2 {
                    "0.5-1 m, multi-view update"
                } else {
                    "0.5-1 m, single-view update"
                }
            } else {
                "ghost > 1 m"
            };
            *fpc.entry(k).or_default() += 1;
        }
    }
    for (k, v) in &fnc {
        println!("FN {k}: {v}");
    }
    println!("FP causes: {fpc:?}");
}
