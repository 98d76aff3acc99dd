//! Ground-plane multi-object tracking metrics, computed exactly as the reference tools do:
//!
//! - CLEAR MOT (MOTA, MOTP, ID switches, FP, FN) and IDF1/IDP/IDR as py-motmetrics 1.4 computes them
//!   with a Euclidean distance gate of `thr` metres (pairs farther than `thr` cannot match);
//! - HOTA, DetA, AssA, LocA as TrackEval computes them from the similarity `max(0, 1 - d / (2 thr))`,
//!   averaged over alpha = 0.05 .. 0.95;
//! - MODA, MODP (detection only, per-frame optimal assignment gated at `thr`, MODP = mean(1 - d/thr)),
//!   as reported on WILDTRACK/MultiviewX.
//!
//! Assignments use `lsap`, a port of SciPy's `linear_sum_assignment`, so ties break as in the
//! Python tools. Cross-checked against `../shared/tools/ground_plane_eval.py` in this crate's tests.

pub mod detection;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

/// One object (ground truth or prediction) at one frame, floor coordinates in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub frame: i64,
    pub id: i64,
    pub x: f64,
    pub y: f64,
}

impl Row {
    pub fn new(frame: i64, id: i64, x: f64, y: f64) -> Row {
        Row { frame, id, x, y }
    }
}

/// All metrics of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scores {
    pub mota: f64,
    /// Mean distance of matched pairs, metres (motmetrics' MOTP).
    pub motp: f64,
    pub idf1: f64,
    pub idp: f64,
    pub idr: f64,
    pub id_switches: u64,
    pub false_positives: u64,
    pub misses: u64,
    pub matches: u64,
    pub num_objects: u64,
    pub num_predictions: u64,
    pub hota: f64,
    pub deta: f64,
    pub assa: f64,
    pub loca: f64,
    pub moda: f64,
    pub modp: f64,
    pub precision: f64,
    pub recall: f64,
}

impl fmt::Display for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MOTA {:.3} IDF1 {:.3} MOTP(m) {:.3} IDsw {} FP {} FN {} | HOTA {:.3} DetA {:.3} AssA {:.3} LocA {:.3} | \
             MODA {:.3} MODP {:.3} precision {:.3} recall {:.3}",
            self.mota,
            self.idf1,
            self.motp,
            self.id_switches,
            self.false_positives,
            self.misses,
            self.hota,
            self.deta,
            self.assa,
            self.loca,
            self.moda,
            self.modp,
            self.precision,
            self.recall
        )
    }
}

/// Errors reading a `frame,id,x,y` CSV.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("{path}: cannot read")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
}

/// Reads a CSV with a header naming `frame`, `id` (or `personID`), `x` (or `x_m`), `y` (or `y_m`);
/// other columns are ignored.
pub fn read_csv(path: &Path) -> Result<Vec<Row>, CsvError> {
    let text = std::fs::read_to_string(path).map_err(|source| CsvError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_csv(&path.display().to_string(), &text)
}

pub fn parse_csv(name: &str, text: &str) -> Result<Vec<Row>, CsvError> {
    let err = |line: usize, message: String| CsvError::Parse {
        path: name.to_string(),
        line,
        message,
    };
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(err(
            1,
            "empty file: expected a header `frame,id,x,y`".into(),
        ));
    };
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let find = |names: &[&str]| cols.iter().position(|c| names.contains(c));
    let (Some(fi), Some(ii), Some(xi), Some(yi)) = (
        find(&["frame"]),
        find(&["id", "personID"]),
        find(&["x", "x_m"]),
        find(&["y", "y_m"]),
    ) else {
        return Err(err(
            1,
            format!("header `{header}` must name frame, id, x and y"),
        ));
    };
    let mut rows = Vec::new();
    for (n, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let num = |i: usize, what: &str| -> Result<f64, CsvError> {
            let s = fields
                .get(i)
                .ok_or_else(|| err(n + 1, format!("missing column `{what}`")))?;
            let v: f64 = s
                .parse()
                .map_err(|_| err(n + 1, format!("`{what}` = `{s}` is not a number")))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(err(n + 1, format!("`{what}` = `{s}` is not finite")))
            }
        };
        let int = |i: usize, what: &str| -> Result<i64, CsvError> {
            let v = num(i, what)?;
            if v.fract() == 0.0 && v.abs() < 9e15 {
                Ok(v as i64)
            } else {
                Err(err(n + 1, format!("`{what}` = {v} is not an integer")))
            }
        };
        rows.push(Row {
            frame: int(fi, "frame")?,
            id: int(ii, "id")?,
            x: num(xi, "x")?,
            y: num(yi, "y")?,
        });
    }
    Ok(rows)
}

/// Optimal assignment (SciPy semantics) on a dense row-major cost matrix with only finite values.
fn assign(nr: usize, nc: usize, cost: &Vec<f64>) -> Vec<(usize, usize)> {
    match lsap::solve(nr, nc, cost, false) {
        Ok((r, c)) => r.into_iter().zip(c).collect(),
        Err(_) => Vec::new(),
    }
}

/// motmetrics' `add_expensive_edges`: replace non-finite costs with a constant no optimum uses.
fn with_expensive_edges(nr: usize, nc: usize, cost: &[f64]) -> Vec<f64> {
    let finite: Vec<f64> = cost.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() == cost.len() {
        return cost.to_vec();
    }
    if finite.is_empty() {
        return vec![0.0; cost.len()];
    }
    let r = nr.min(nc) as f64;
    let c = finite.iter().fold(0.0f64, |m, v| m.max(v.abs())) + 1.0;
    let large = 2.0 * r * c + 1.0;
    cost.iter()
        .map(|v| if v.is_finite() { *v } else { large })
        .collect()
}

struct Frame<'a> {
    gt: Vec<&'a Row>,
    pred: Vec<&'a Row>,
    /// Row-major gt x pred distances.
    dist: Vec<f64>,
}

fn frames<'a>(gt: &'a [Row], pred: &'a [Row]) -> Vec<Frame<'a>> {
    let mut by_frame: BTreeMap<i64, (Vec<&Row>, Vec<&Row>)> = BTreeMap::new();
    for r in gt {
        by_frame.entry(r.frame).or_default().0.push(r);
    }
    for r in pred {
        by_frame.entry(r.frame).or_default().1.push(r);
    }
    by_frame
        .into_values()
        .map(|(g, p)| {
            let mut dist = Vec::with_capacity(g.len() * p.len());
            for a in &g {
                for b in &p {
                    dist.push(((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt());
                }
            }
            Frame {
                gt: g,
                pred: p,
                dist,
            }
        })
        .collect()
}

/// Dense index of each distinct id, in ascending id order (as `np.unique`).
fn id_index<'a>(rows: impl Iterator<Item = &'a Row>) -> HashMap<i64, usize> {
    let mut ids: Vec<i64> = rows.map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect()
}

/// Evaluates predictions against ground truth with a match threshold of `thr` metres.
pub fn evaluate(gt: &[Row], pred: &[Row], thr: f64) -> Scores {
    let frames = frames(gt, pred);
    let mut s = Scores {
        num_objects: gt.len() as u64,
        num_predictions: pred.len() as u64,
        ..Scores::default()
    };
    clear_and_identity(&frames, thr, gt.len(), pred.len(), &mut s);
    hota(&frames, gt, pred, thr, &mut s);
    moda(&frames, thr, &mut s);
    s
}

fn clear_and_identity(frames: &[Frame], thr: f64, n_gt: usize, n_pred: usize, s: &mut Scores) {
    let mut m: HashMap<i64, i64> = HashMap::new();
    let mut dist_sum = 0.0;
    let mut tps: HashMap<(i64, i64), u64> = HashMap::new();
    for f in frames {
        let (no, nh) = (f.gt.len(), f.pred.len());
        let mut d: Vec<f64> = f
            .dist
            .iter()
            .map(|&v| if v <= thr { v } else { f64::NAN })
            .collect();
        for i in 0..no {
            for j in 0..nh {
                if d[i * nh + j].is_finite() {
                    *tps.entry((f.gt[i].id, f.pred[j].id)).or_default() += 1;
                }
            }
        }
        let mut o_masked = vec![false; no];
        let mut h_masked = vec![false; nh];
        if no * nh > 0 {
            // 1. Carry forward established correspondences.
            for i in 0..no {
                let Some(&hprev) = m.get(&f.gt[i].id) else {
                    continue;
                };
                let Some(j) = (0..nh).find(|&j| !h_masked[j] && f.pred[j].id == hprev) else {
                    continue;
                };
                if d[i * nh + j].is_finite() {
                    o_masked[i] = true;
                    h_masked[j] = true;
                    s.matches += 1;
                    dist_sum += d[i * nh + j];
                }
            }
            for i in 0..no {
                for j in 0..nh {
                    if o_masked[i] || h_masked[j] {
                        d[i * nh + j] = f64::NAN;
                    }
                }
            }
            // 2. Optimal assignment of the rest.
            let cost = with_expensive_edges(no, nh, &d);
            for (i, j) in assign(no, nh, &cost) {
                let v = d[i * nh + j];
                if !v.is_finite() {
                    continue;
                }
                let (o, h) = (f.gt[i].id, f.pred[j].id);
                if m.get(&o).is_some_and(|&prev| prev != h) {
                    s.id_switches += 1;
                } else {
                    s.matches += 1;
                }
                dist_sum += v;
                o_masked[i] = true;
                h_masked[j] = true;
                m.insert(o, h);
            }
        }
        s.misses += o_masked.iter().filter(|x| !**x).count() as u64;
        s.false_positives += h_masked.iter().filter(|x| !**x).count() as u64;
    }
    let detections = s.matches + s.id_switches;
    s.mota = if n_gt == 0 {
        f64::NAN
    } else {
        1.0 - (s.misses + s.false_positives + s.id_switches) as f64 / n_gt as f64
    };
    s.motp = if detections == 0 {
        f64::NAN
    } else {
        dist_sum / detections as f64
    };

    // Identity: the gt <-> prediction id matching that maximises the frames they agree on.
    let gi = id_index(frames.iter().flat_map(|f| f.gt.iter().copied()));
    let pi = id_index(frames.iter().flat_map(|f| f.pred.iter().copied()));
    let (ng, np) = (gi.len(), pi.len());
    let mut idtp = 0.0;
    if ng > 0 && np > 0 {
        let mut cost = vec![0.0; ng * np];
        for ((o, h), n) in &tps {
            cost[gi[o] * np + pi[h]] = -(*n as f64);
        }
        idtp = assign(ng, np, &cost)
            .iter()
            .map(|&(r, c)| -cost[r * np + c])
            .sum();
    }
    s.idp = if n_pred == 0 {
        0.0
    } else {
        idtp / n_pred as f64
    };
    s.idr = if n_gt == 0 { 0.0 } else { idtp / n_gt as f64 };
    s.idf1 = if n_gt + n_pred == 0 {
        0.0
    } else {
        2.0 * idtp / (n_gt + n_pred) as f64
    };
}

fn hota(frames: &[Frame], gt: &[Row], pred: &[Row], thr: f64, s: &mut Scores) {
    let alphas: Vec<f64> = (1..=19).map(|k| 0.05 * f64::from(k)).collect();
    let na = alphas.len();
    if pred.is_empty() || gt.is_empty() {
        // TrackEval: all FN (or all FP), LocA 1, AssA 0.
        s.hota = 0.0;
        s.deta = 0.0;
        s.assa = 0.0;
        s.loca = 1.0;
        return;
    }
    let gi = id_index(gt.iter());
    let pi = id_index(pred.iter());
    let (ng, np) = (gi.len(), pi.len());
    let sims: Vec<Vec<f64>> = frames
        .iter()
        .map(|f| {
            f.dist
                .iter()
                .map(|d| (1.0 - d / (2.0 * thr)).clamp(0.0, 1.0))
                .collect()
        })
        .collect();
    let mut potential = vec![0.0; ng * np];
    let mut gt_count = vec![0.0; ng];
    let mut pr_count = vec![0.0; np];
    for (f, sim) in frames.iter().zip(&sims) {
        let (no, nh) = (f.gt.len(), f.pred.len());
        let col_sum: Vec<f64> = (0..nh)
            .map(|j| (0..no).map(|i| sim[i * nh + j]).sum())
            .collect();
        let row_sum: Vec<f64> = (0..no)
            .map(|i| sim[i * nh..(i + 1) * nh].iter().sum())
            .collect();
        for i in 0..no {
            for j in 0..nh {
                let denom = col_sum[j] + row_sum[i] - sim[i * nh + j];
                if denom > f64::EPSILON {
                    potential[gi[&f.gt[i].id] * np + pi[&f.pred[j].id]] += sim[i * nh + j] / denom;
                }
            }
        }
        for r in &f.gt {
            gt_count[gi[&r.id]] += 1.0;
        }
        for r in &f.pred {
            pr_count[pi[&r.id]] += 1.0;
        }
    }
    let mut global = vec![0.0; ng * np];
    for g in 0..ng {
        for p in 0..np {
            let k = g * np + p;
            global[k] = potential[k] / (gt_count[g] + pr_count[p] - potential[k]);
        }
    }
    let mut tp = vec![0.0; na];
    let mut fn_ = vec![0.0; na];
    let mut fp = vec![0.0; na];
    let mut loca = vec![0.0; na];
    let mut matches: Vec<HashMap<(usize, usize), f64>> = vec![HashMap::new(); na];
    for (f, sim) in frames.iter().zip(&sims) {
        let (no, nh) = (f.gt.len(), f.pred.len());
        if no == 0 {
            fp.iter_mut().for_each(|v| *v += nh as f64);
            continue;
        }
        if nh == 0 {
            fn_.iter_mut().for_each(|v| *v += no as f64);
            continue;
        }
        let gidx: Vec<usize> = f.gt.iter().map(|r| gi[&r.id]).collect();
        let pidx: Vec<usize> = f.pred.iter().map(|r| pi[&r.id]).collect();
        let mut neg_score = vec![0.0; no * nh];
        for i in 0..no {
            for j in 0..nh {
                neg_score[i * nh + j] = -(global[gidx[i] * np + pidx[j]] * sim[i * nh + j]);
            }
        }
        let pairs = assign(no, nh, &neg_score);
        for (a, alpha) in alphas.iter().enumerate() {
            let matched: Vec<&(usize, usize)> = pairs
                .iter()
                .filter(|(i, j)| sim[i * nh + j] >= alpha - f64::EPSILON)
                .collect();
            let n = matched.len() as f64;
            tp[a] += n;
            fn_[a] += no as f64 - n;
            fp[a] += nh as f64 - n;
            for &&(i, j) in &matched {
                loca[a] += sim[i * nh + j];
                *matches[a].entry((gidx[i], pidx[j])).or_default() += 1.0;
            }
        }
    }
    let (mut hota, mut deta, mut assa, mut loc) = (0.0, 0.0, 0.0, 0.0);
    for a in 0..na {
        let mut ass = 0.0;
        for (&(g, p), &c) in &matches[a] {
            ass += c * c / (gt_count[g] + pr_count[p] - c).max(1.0);
        }
        let ass_a = ass / tp[a].max(1.0);
        let det_a = tp[a] / (tp[a] + fn_[a] + fp[a]).max(1.0);
        hota += (det_a * ass_a).sqrt();
        deta += det_a;
        assa += ass_a;
        loc += loca[a].max(1e-10) / tp[a].max(1e-10);
    }
    let n = na as f64;
    s.hota = hota / n;
    s.deta = deta / n;
    s.assa = assa / n;
    s.loca = loc / n;
}

fn moda(frames: &[Frame], thr: f64, s: &mut Scores) {
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    let mut modp_sum = 0.0;
    for f in frames {
        let (no, nh) = (f.gt.len(), f.pred.len());
        let mut m = 0u64;
        if no > 0 && nh > 0 {
            let cost: Vec<f64> = f
                .dist
                .iter()
                .map(|&d| if d <= thr { d } else { 1e6 })
                .collect();
            for (i, j) in assign(no, nh, &cost) {
                if cost[i * nh + j] <= thr {
                    m += 1;
                    modp_sum += 1.0 - f.dist[i * nh + j] / thr;
                }
            }
        }
        tp += m;
        fp += nh as u64 - m;
        fn_ += no as u64 - m;
    }
    s.moda = 1.0 - (fp + fn_) as f64 / (tp + fn_).max(1) as f64;
    s.modp = modp_sum / tp.max(1) as f64;
    s.precision = tp as f64 / (tp + fp).max(1) as f64;
    s.recall = tp as f64 / (tp + fn_).max(1) as f64;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(frame: i64, id: i64, x: f64, y: f64) -> Row {
        Row::new(frame, id, x, y)
    }

    #[test]
    fn perfect_tracking_scores_one() {
        let gt: Vec<Row> = (0..10)
            .flat_map(|f| (0..3).map(move |i| row(f, i, i as f64 * 2.0, f as f64 * 0.1)))
            .collect();
        let s = evaluate(&gt, &gt, 0.5);
        assert_eq!((s.mota, s.idf1, s.moda, s.motp), (1.0, 1.0, 1.0, 0.0));
        assert!((s.hota - 1.0).abs() < 1e-12, "{s}");
        assert_eq!(s.id_switches, 0);
    }

    #[test]
    fn an_id_switch_is_counted_once() {
        // Two people; the prediction swaps their ids half way.
        let mut gt = Vec::new();
        let mut pred = Vec::new();
        for f in 0..10 {
            gt.push(row(f, 1, 0.0, f as f64));
            gt.push(row(f, 2, 5.0, f as f64));
            let (a, b) = if f < 5 { (10, 20) } else { (20, 10) };
            pred.push(row(f, a, 0.1, f as f64));
            pred.push(row(f, b, 5.1, f as f64));
        }
        let s = evaluate(&gt, &pred, 0.5);
        assert_eq!(s.id_switches, 2);
        assert!((s.mota - (1.0 - 2.0 / 20.0)).abs() < 1e-12);
        assert!((s.motp - 0.1).abs() < 1e-12);
        assert!((s.idf1 - 0.5).abs() < 1e-12, "{s}");
        assert_eq!(s.moda, 1.0);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = parse_csv("t.csv", "frame,id,x,y\n0,1,2.0,3.0\n1,x,2,3\n").expect_err("bad id");
        assert!(e.to_string().starts_with("t.csv:3:"), "{e}");
        let rows =
            parse_csv("t.csv", "frame,personID,x_m,y_m,n_views\n5,7,1.5,2.5,3\n").expect("ok");
        assert_eq!(rows, vec![row(5, 7, 1.5, 2.5)]);
    }
}
