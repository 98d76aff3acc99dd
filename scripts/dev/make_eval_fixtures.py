#!/usr/bin/env python3
"""Writes fixture pairs (ground truth, prediction) and the numbers ../shared/tools/ground_plane_eval.py
gives for them, for walkout-eval's cross-check test.

Run by a developer, not by CI (needs `pip install motmetrics trackeval scipy pandas numpy`):
    python3 scripts/dev/make_eval_fixtures.py [SHARED] [OUT]
defaults: SHARED = ../shared, OUT = crates/walkout-eval/tests/fixtures
"""
import json
import os
import sys

import numpy as np

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
out = sys.argv[2] if len(sys.argv) > 2 else "crates/walkout-eval/tests/fixtures"
sys.path.insert(0, os.path.join(shared, "tools"))
import ground_plane_eval as gpe  # noqa: E402

rng = np.random.default_rng(7)


def save(path, rows):
    np.savetxt(path, rows, fmt=["%d", "%d", "%.4f", "%.4f"], delimiter=",", header="frame,id,x,y", comments="")


def noisy_tracker(gt):
    """10 cm noise, 5 % misses, 10 % of tracks split, ~1 false positive per frame, one id swap."""
    pr = gt.copy()
    pr[:, 2:4] += rng.normal(0, 0.10, size=(len(pr), 2))
    pr = pr[rng.random(len(pr)) > 0.05]
    ids = np.unique(pr[:, 1])
    for i in rng.choice(ids, size=max(1, len(ids) // 10), replace=False):
        rows = np.where(pr[:, 1] == i)[0]
        pr[rows[len(rows) // 2:], 1] = 100000 + i
    fps = []
    for f in np.unique(gt[:, 0]):
        for _ in range(rng.poisson(1.0)):
            fps.append((f, -1, rng.uniform(-3, 9), rng.uniform(-9, 27)))
    fp = np.array(fps).reshape(-1, 4)
    fp[:, 1] = 200000 + np.arange(len(fp))
    # swap two ids from the middle on
    a, b = ids[0], ids[1]
    mid = np.median(pr[:, 0])
    sel_a = (pr[:, 1] == a) & (pr[:, 0] > mid)
    sel_b = (pr[:, 1] == b) & (pr[:, 0] > mid)
    pr[sel_a, 1], pr[sel_b, 1] = b, a
    return np.concatenate([pr, fp])


def metrics(gt, pr, thr):
    mm_s = gpe.motmetrics_scores(gt, pr, thr)
    te = gpe.trackeval_scores(gt, pr, thr)
    md = gpe.moda_modp(gt, pr, thr)
    return {"thr": thr, "mota": mm_s["mota"], "motp": mm_s["motp"], "idf1": mm_s["idf1"], "idp": mm_s["idp"],
            "idr": mm_s["idr"], "id_switches": int(mm_s["num_switches"]),
            "false_positives": int(mm_s["num_false_positives"]), "misses": int(mm_s["num_misses"]),
            "hota": te["HOTA"], "deta": te["DetA"], "assa": te["AssA"], "loca": te["LocA"],
            "trackeval_mota": te["MOTA"], "trackeval_idf1": te["IDF1"],
            "moda": md["MODA"], "modp": md["MODP"], "precision": md["precision"], "recall": md["recall"]}


def main():
    os.makedirs(out, exist_ok=True)
    expected = {}
    # 1. WILDTRACK ground truth (first 80 annotated frames) against a noisy tracker.
    gt_all = gpe.load(os.path.join(shared, "data/wildtrack/gt_ground_plane_train.csv"))
    gt = gt_all[gt_all[:, 0] < 400]
    pr = noisy_tracker(gt)
    save(os.path.join(out, "wildtrack_gt.csv"), gt)
    save(os.path.join(out, "wildtrack_pred.csv"), pr)
    gt, pr = gpe.load(os.path.join(out, "wildtrack_gt.csv")), gpe.load(os.path.join(out, "wildtrack_pred.csv"))
    expected["wildtrack"] = metrics(gt, pr, 0.5)
    # 2. Crossing walkers: near-ties, swaps, empty frames on either side, a 1 m threshold.
    rows_g, rows_p = [], []
    for f in range(40):
        for k in range(4):
            x = k * 1.0 + (0.03 * f if k % 2 == 0 else -0.03 * f)
            y = 0.1 * f + 0.2 * k
            if not (10 <= f < 13 and k == 2):
                rows_g.append((f, k + 1, x, y))
            if rng.random() > 0.1 and not (20 <= f < 22):
                pid = k + 1 if f < 25 else (k + 1) % 4 + 1
                rows_p.append((f, 50 + pid, x + rng.normal(0, 0.2), y + rng.normal(0, 0.2)))
        if f % 7 == 0:
            rows_p.append((f, 900 + f, rng.uniform(0, 4), rng.uniform(0, 4)))
    rows_p.append((45, 999, 1.0, 1.0))
    save(os.path.join(out, "crossing_gt.csv"), np.array(rows_g))
    save(os.path.join(out, "crossing_pred.csv"), np.array(rows_p))
    gt, pr = gpe.load(os.path.join(out, "crossing_gt.csv")), gpe.load(os.path.join(out, "crossing_pred.csv"))
    expected["crossing"] = metrics(gt, pr, 1.0)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    for k, v in expected.items():
        print(k, {n: round(x, 4) for n, x in v.items()})


if __name__ == "__main__":
    main()
