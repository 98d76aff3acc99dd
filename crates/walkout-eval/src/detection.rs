//! Image-space detection quality: average precision at an IoU threshold, COCO-style matching
//! (each detection, strongest first, takes the best-overlapping ground-truth box not yet taken),
//! ignore regions (a detection matching only an ignored box is neither true nor false), and the
//! all-point interpolated area under the precision/recall curve.

/// A box `[left, top, width, height]` in pixels.
pub type Bbox = [f64; 4];

/// Intersection over union of two boxes.
pub fn iou(a: &Bbox, b: &Bbox) -> f64 {
    let iw = ((a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0])).max(0.0);
    let ih = ((a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let union = a[2] * a[3] + b[2] * b[3] - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// One image's ground truth: boxes to find, and boxes to ignore.
#[derive(Debug, Clone, Default)]
pub struct ImageTruth {
    pub boxes: Vec<Bbox>,
    pub ignore: Vec<Bbox>,
}

/// Average precision of `detections` (per image: box and score) against `truth` (same image
/// order) at IoU `thr`. Returns (AP, number of ground-truth boxes).
pub fn average_precision(
    detections: &[Vec<(Bbox, f64)>],
    truth: &[ImageTruth],
    thr: f64,
) -> (f64, usize) {
    let npos: usize = truth.iter().map(|t| t.boxes.len()).sum();
    let mut all: Vec<(f64, usize, Bbox)> = detections
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.iter().map(move |(b, s)| (*s, i, *b)))
        .collect();
    // Strongest first; ties keep input order.
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut taken: Vec<Vec<bool>> = truth.iter().map(|t| vec![false; t.boxes.len()]).collect();
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut curve: Vec<(f64, f64)> = Vec::new();
    for (_, i, b) in all {
        let Some(t) = truth.get(i) else { continue };
        let mut best = (thr, None);
        for (j, g) in t.boxes.iter().enumerate() {
            if taken[i][j] {
                continue;
            }
            let o = iou(&b, g);
            if o >= best.0 {
                best = (o, Some(j));
            }
        }
        match best.1 {
            Some(j) => {
                taken[i][j] = true;
                tp += 1;
            }
            None if t.ignore.iter().any(|g| iou(&b, g) >= thr) => continue,
            None => fp += 1,
        }
        curve.push((tp as f64 / npos.max(1) as f64, tp as f64 / (tp + fp) as f64));
    }
    // All-point interpolation: precision made monotone from the right, summed over recall steps.
    let mut ap = 0.0;
    let mut best_prec = 0.0f64;
    for k in (0..curve.len()).rev() {
        best_prec = best_prec.max(curve[k].1);
        let r_before = if k == 0 { 0.0 } else { curve[k - 1].0 };
        if curve[k].0 > r_before {
            ap += (curve[k].0 - r_before) * best_prec;
        }
    }
    (if npos == 0 { 0.0 } else { ap }, npos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_detections_score_one_and_misses_halve_it() {
        let truth = vec![ImageTruth {
            boxes: vec![[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 10.0, 10.0]],
            ignore: vec![[50.0, 0.0, 10.0, 10.0]],
        }];
        let perfect = vec![vec![
            ([0.0, 0.0, 10.0, 10.0], 0.9),
            ([20.0, 0.0, 10.0, 10.0], 0.8),
        ]];
        assert_eq!(average_precision(&perfect, &truth, 0.5), (1.0, 2));
        let one = vec![vec![([0.0, 0.0, 10.0, 10.0], 0.9)]];
        assert!((average_precision(&one, &truth, 0.5).0 - 0.5).abs() < 1e-12);
        // A detection on an ignored box changes nothing; a false positive first costs precision.
        let ignored = vec![vec![
            ([50.0, 0.0, 10.0, 10.0], 0.95),
            ([0.0, 0.0, 10.0, 10.0], 0.9),
            ([20.0, 0.0, 10.0, 10.0], 0.8),
        ]];
        assert_eq!(average_precision(&ignored, &truth, 0.5).0, 1.0);
        let fp_first = vec![vec![
            ([100.0, 0.0, 10.0, 10.0], 0.95),
            ([0.0, 0.0, 10.0, 10.0], 0.9),
            ([20.0, 0.0, 10.0, 10.0], 0.8),
        ]];
        // Precision 1/2 at recall 0.5, 2/3 at recall 1: monotone 2/3 over both steps.
        assert!((average_precision(&fp_first, &truth, 0.5).0 - 2.0 / 3.0).abs() < 1e-12);
    }
}
