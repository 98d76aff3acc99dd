//! Detection and re-identification quality on the real MOT17-mini frames of ../shared.
//!
//! AP50 protocol (MOT17's own annotation fields): positives are pedestrians (class 1, consider
//! flag 1) at least half visible; less visible pedestrians and the distractor classes (person on
//! vehicle 2, static person 7, distractor 8, reflection 12) are ignore regions; COCO-style
//! matching, all-point interpolation. With it the Python reference scores YOLOX-nano 0.551.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use walkout_eval::detection::{ImageTruth, average_precision};
use walkout_infer::detect::DetectorConfig;
use walkout_infer::embed::cosine;
use walkout_infer::image::RgbImage;
use walkout_infer::{Detector, Embedder, Manifest, RuntimeConfig};

/// One ground-truth row of MOT17: frame, id, box, consider flag, class, visibility.
struct GtRow {
    frame: u32,
    id: u32,
    bbox: [f64; 4],
    consider: bool,
    class: u32,
    visibility: f64,
}

fn sequences() -> Vec<PathBuf> {
    let root = walkout_types::setup::shared_root().join("data/mot17mini/train");
    let mut seqs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("mot17mini")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    seqs.sort();
    seqs
}

fn frames(seq: &Path) -> Vec<(u32, PathBuf)> {
    let mut f: Vec<(u32, PathBuf)> = std::fs::read_dir(seq.join("img1"))
        .expect("img1")
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| Some((p.file_stem()?.to_str()?.parse().ok()?, p)))
        .collect();
    f.sort();
    f
}

fn ground_truth(seq: &Path) -> Vec<GtRow> {
    std::fs::read_to_string(seq.join("gt/gt.txt"))
        .expect("gt")
        .lines()
        .filter_map(|l| {
            let v: Vec<f64> = l
                .split(',')
                .map(|x| x.trim().parse().ok())
                .collect::<Option<_>>()?;
            Some(GtRow {
                frame: v[0] as u32,
                id: v[1] as u32,
                bbox: [v[2], v[3], v[4], v[5]],
                consider: v[6] == 1.0,
                class: v[7] as u32,
                visibility: v[8],
            })
        })
        .collect()
}

#[test]
fn yolox_nano_reaches_the_reference_ap50_on_mot17_mini() {
    let manifest = Manifest::default_location().expect("manifest");
    let cfg = DetectorConfig {
        score_threshold: 0.01,
        nms_iou: None,
    };
    let mut det =
        Detector::load(&manifest, "yolox_nano", &RuntimeConfig::default(), cfg).expect("load");
    let (mut dets, mut truth) = (Vec::new(), Vec::new());
    for seq in sequences() {
        let gt = ground_truth(&seq);
        for (frame, path) in frames(&seq) {
            let img = RgbImage::load(&path).expect("frame");
            let boxes = det.detect(&img).expect("detect");
            dets.push(
                boxes
                    .iter()
                    .map(|d| ([d.left, d.top, d.width, d.height], d.score))
                    .collect(),
            );
            let mut t = ImageTruth::default();
            for r in gt.iter().filter(|r| r.frame == frame) {
                let pedestrian = r.class == 1 && r.consider;
                if pedestrian && r.visibility >= 0.5 {
                    t.boxes.push(r.bbox);
                } else if r.class == 1 || matches!(r.class, 2 | 7 | 8 | 12) {
                    t.ignore.push(r.bbox);
                }
            }
            truth.push(t);
        }
    }
    assert_eq!(dets.len(), 39, "39 MOT17-mini frames");
    let (ap, npos) = average_precision(&dets, &truth, 0.5);
    println!("YOLOX-nano AP50 on MOT17-mini: {ap:.4} ({npos} pedestrians, 39 frames)");
    assert!(ap >= 0.54, "AP50 {ap}");
}

/// Same-person pairs must score above different-person pairs: AUC, and rank-1 across frames.
#[test]
fn reid_models_separate_identities_across_frames() {
    let manifest = Manifest::default_location().expect("manifest");
    // Crops: per sequence, pedestrians at least 70% visible and 80 px tall, in every frame.
    let mut crops: Vec<(usize, u32, u32, [f64; 4], PathBuf)> = Vec::new();
    for (s, seq) in sequences().iter().enumerate() {
        let gt = ground_truth(seq);
        for (frame, path) in frames(seq) {
            for r in gt.iter().filter(|r| {
                r.frame == frame
                    && r.class == 1
                    && r.consider
                    && r.visibility >= 0.7
                    && r.bbox[3] >= 80.0
            }) {
                crops.push((s, r.id, frame, r.bbox, path.clone()));
            }
        }
    }
    for name in ["reid_retail_0248", "osnet_x0_25_msmt17"] {
        let mut emb = Embedder::load(&manifest, name, &RuntimeConfig::default()).expect("load");
        let mut by_image: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
        for (i, c) in crops.iter().enumerate() {
            by_image.entry(c.4.clone()).or_default().push(i);
        }
        let mut e: Vec<Vec<f32>> = vec![Vec::new(); crops.len()];
        for (path, idx) in &by_image {
            let img = RgbImage::load(path).expect("frame");
            let boxes: Vec<[f64; 4]> = idx.iter().map(|&i| crops[i].3).collect();
            for (k, v) in idx.iter().zip(emb.embed(&img, &boxes).expect("embed")) {
                e[*k] = v;
            }
        }
        // Pairs across different frames of one sequence.
        let (mut same, mut diff) = (Vec::new(), Vec::new());
        let (mut hits, mut queries) = (0, 0);
        for i in 0..crops.len() {
            let mut best: Option<(f64, u32)> = None;
            let mut has_match = false;
            for j in 0..crops.len() {
                let (a, b) = (&crops[i], &crops[j]);
                if a.0 != b.0 || a.2 == b.2 {
                    continue;
                }
                let c = cosine(&e[i], &e[j]);
                if j > i {
                    if a.1 == b.1 {
                        same.push(c)
                    } else {
                        diff.push(c)
                    }
                }
                has_match |= a.1 == b.1;
                if best.is_none_or(|(bc, _)| c > bc) {
                    best = Some((c, b.1));
                }
            }
            if has_match {
                queries += 1;
                hits += usize::from(best.is_some_and(|(_, id)| id == crops[i].1));
            }
        }
        // AUC = P(same > different), by sorting.
        diff.sort_by(f64::total_cmp);
        let mut wins = 0.0;
        for s in &same {
            let below = diff.partition_point(|d| d < s);
            let ties = diff[below..].partition_point(|d| d <= s);
            wins += below as f64 + 0.5 * ties as f64;
        }
        let auc = wins / (same.len() as f64 * diff.len() as f64);
        let rank1 = hits as f64 / queries as f64;
        println!(
            "{name}: {} crops, {} same / {} different pairs, AUC {auc:.4}, rank-1 {rank1:.3} ({queries} queries)",
            crops.len(),
            same.len(),
            diff.len()
        );
        assert!(auc >= 0.9, "{name}: AUC {auc}");
    }
}
