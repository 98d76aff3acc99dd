#!/usr/bin/env python3
"""Developer tool (not run by CI): expected outputs of the ONNX models for walkout-infer's tests.

Runs Python onnxruntime on the real models with a preprocessing written out here in numpy, the
same arithmetic walkout-infer does (decode with Pillow to RGB8; bilinear resampling with
half-pixel centres, edge-clamped, no antialiasing, computed in float64; per-model channel order,
scale, mean/std and layout from models/models.toml), and writes small JSON fixtures:

  detect.json  per image and detector: selected raw output rows (YOLOX: the 32 rows of highest
               person score plus 32 evenly spaced rows; PicoDet: all rows of the first image) and
               the final person boxes (x, y, w, h, score in frame pixels)
  embed.json   per ReID model: embeddings (L2-normalised) of five crops
  pose.json    MediaPipe pose landmark lite on the astronaut's YOLOX box (square crop 1.25x the
               longer side, centred): the 39 raw landmarks and the wrists in frame pixels

Usage: python3 scripts/dev/make_infer_fixtures.py SHARED OUT_DIR
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

ort.set_default_logger_severity(3)
SHARED, OUT = sys.argv[1], sys.argv[2]
MODELS = os.path.join(SHARED, "models")

IMAGES = [
    "images/astronaut.png",
    "images/coffee.png",
    "mot17mini/train/MOT17-04-FRCNN/img1/000001.jpg",
    "mot17mini/train/MOT17-09-FRCNN/img1/000001.jpg",
    "mot17mini/train/MOT17-11-FRCNN/img1/000001.jpg",
]
SCORE_THR = 0.3
NMS_IOU = 0.45


def g8(v):
    """A float32 output value to 8 significant digits (the fixture's precision)."""
    return float(f"{float(v):.8g}")


def load(rel):
    return np.asarray(Image.open(os.path.join(SHARED, "data", rel)).convert("RGB"))


def bilinear(img, x0, y0, w, h, out_w, out_h):
    """Samples the region (x0, y0, w, h) of img (H, W, 3 uint8) onto out_h x out_w, float64."""
    H, W = img.shape[:2]
    sx = (x0 + (np.arange(out_w) + 0.5) * (w / out_w) - 0.5).clip(0, W - 1)
    sy = (y0 + (np.arange(out_h) + 0.5) * (h / out_h) - 0.5).clip(0, H - 1)
    x_lo = np.floor(sx).astype(int)
    y_lo = np.floor(sy).astype(int)
    x_hi = np.minimum(x_lo + 1, W - 1)
    y_hi = np.minimum(y_lo + 1, H - 1)
    fx = (sx - x_lo)[None, :, None]
    fy = (sy - y_lo)[:, None, None]
    im = img.astype(np.float64)
    top = im[y_lo][:, x_lo] * (1 - fx) + im[y_lo][:, x_hi] * fx
    bot = im[y_hi][:, x_lo] * (1 - fx) + im[y_hi][:, x_hi] * fx
    return top * (1 - fy) + bot * fy


def normalise(rgb, channels, scale, mean, std, layout):
    x = rgb if channels == "rgb" else rgb[..., ::-1]
    x = (x * scale - np.array(mean)) / np.array(std)
    x = x.astype(np.float32)
    return x.transpose(2, 0, 1)[None] if layout == "nchw" else x[None]


def nms(boxes, scores, iou):
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
        o = inter / (area(boxes[i]) + area(boxes[rest]) - inter)
        order = rest[o <= iou]
    return keep


def yolox(sess, img):
    H, W = img.shape[:2]
    r = min(416 / W, 416 / H)
    nw, nh = int(W * r), int(H * r)
    canvas = np.full((416, 416, 3), 114.0)
    canvas[:nh, :nw] = bilinear(img, 0, 0, W, H, nw, nh)
    x = normalise(canvas, "bgr", 1.0, [0, 0, 0], [1, 1, 1], "nchw")
    out = sess.run(None, {"images": x})[0][0].astype(np.float64)
    grids = []
    for s in (8, 16, 32):
        n = 416 // s
        gy, gx = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        grids.append(np.stack([gx.ravel(), gy.ravel(), np.full(n * n, s)], 1))
    g = np.concatenate(grids).astype(np.float64)
    cx = (out[:, 0] + g[:, 0]) * g[:, 2]
    cy = (out[:, 1] + g[:, 1]) * g[:, 2]
    w = np.exp(out[:, 2]) * g[:, 2]
    h = np.exp(out[:, 3]) * g[:, 2]
    score = out[:, 4] * out[:, 5]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1) / r
    m = score >= SCORE_THR
    idx = np.nonzero(m)[0]
    keep = idx[nms(boxes[idx], score[idx], NMS_IOU)]
    top = np.argsort(-score, kind="stable")[:32]
    spaced = np.arange(0, out.shape[0], out.shape[0] // 32)[:32]
    rows = sorted(set(top.tolist()) | set(spaced.tolist()))
    final = [[float(boxes[k, 0]), float(boxes[k, 1]), float(boxes[k, 2] - boxes[k, 0]),
              float(boxes[k, 3] - boxes[k, 1]), float(score[k])] for k in keep]
    return {"rows": rows, "raw": [[g8(v) for v in out[k]] for k in rows], "boxes": final}


def picodet(sess, img):
    H, W = img.shape[:2]
    x = normalise(bilinear(img, 0, 0, W, H, 320, 320), "rgb", 1 / 255,
                  [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], "nchw")
    sf = np.array([[320 / H, 320 / W]], np.float32)
    dets, count = sess.run(None, {"image": x, "scale_factor": sf})
    n = int(count[0])
    dets = dets[:n].astype(np.float64)
    final = [[float(d[2]), float(d[3]), float(d[4] - d[2]), float(d[5] - d[3]), float(d[1])]
             for d in dets if int(d[0]) == 0 and d[1] >= SCORE_THR]
    final.sort(key=lambda b: -b[4])
    return {"raw": [[g8(v) for v in d] for d in dets[:64]], "boxes": final}


def embed(sess, name, img, box, spec):
    x, y, w, h = box
    out_w, out_h = 128, 256
    rgb = bilinear(img, x, y, w, h, out_w, out_h)
    t = normalise(rgb, *spec)
    inp = sess.get_inputs()[0].name
    e = sess.run(None, {inp: t})[0][0].astype(np.float64)
    return (e / np.linalg.norm(e)).tolist()


def main():
    os.makedirs(OUT, exist_ok=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = lambda f: ort.InferenceSession(os.path.join(MODELS, f), so, providers=["CPUExecutionProvider"])
    yx, pd = sess("yolox_nano.onnx"), sess("picodet_xs_320_postprocessed.onnx")
    detect = {}
    for rel in IMAGES:
        img = load(rel)
        detect[rel] = {"yolox_nano": yolox(yx, img), "picodet_xs_320": picodet(pd, img)}
        print(rel, "yolox", len(detect[rel]["yolox_nano"]["boxes"]), "picodet",
              len(detect[rel]["picodet_xs_320"]["boxes"]))
    json.dump(detect, open(os.path.join(OUT, "detect.json"), "w"))
    # Five crops: people in MOT17-04 and MOT17-11 frame 1 (ground-truth boxes), one cut by the border.
    crops = [
        ("mot17mini/train/MOT17-04-FRCNN/img1/000001.jpg", [1363.0, 569.0, 103.0, 241.0]),
        ("mot17mini/train/MOT17-11-FRCNN/img1/000001.jpg", [867.0, 145.0, 236.0, 635.0]),
        ("mot17mini/train/MOT17-09-FRCNN/img1/000001.jpg", [260.0, 450.0, 102.0, 262.0]),
        ("mot17mini/train/MOT17-05-FRCNN/img1/000001.jpg", [17.0, 150.0, 77.0, 191.0]),
        ("images/astronaut.png", [-20.5, 10.25, 300.0, 500.0]),
    ]
    specs = {
        "reid_retail_0248": ("person-reidentification-retail-0248.onnx",
                             ("bgr", 1.0, [0, 0, 0], [1, 1, 1], "nhwc")),
        "osnet_x0_25_msmt17": ("osnet_x0_25_msmt17.onnx",
                               ("rgb", 1 / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], "nchw")),
    }
    emb = {"crops": [{"image": r, "box": b} for r, b in crops]}
    for name, (f, spec) in specs.items():
        s = sess(f)
        emb[name] = [embed(s, name, load(r), b, spec) for r, b in crops]
    json.dump(emb, open(os.path.join(OUT, "embed.json"), "w"))
    # Pose: the astronaut's detected box.
    img = load("images/astronaut.png")
    x, y, w, h = detect["images/astronaut.png"]["yolox_nano"]["boxes"][0][:4]
    side = 1.25 * max(w, h)
    x0, y0 = x + w / 2 - side / 2, y + h / 2 - side / 2
    t = (bilinear(img, x0, y0, side, side, 256, 256) / 255.0).astype(np.float32)[None]
    ps = sess("pose_landmark_lite.onnx")
    lm = ps.run(None, {"input_1": t})[0][0].astype(np.float64).reshape(39, 5)
    wrists = [[float(lm[i, 0] * side / 256 + x0), float(lm[i, 1] * side / 256 + y0),
               float(1 / (1 + np.exp(-lm[i, 3])))] for i in (15, 16)]
    json.dump({"image": "images/astronaut.png", "box": [x, y, w, h],
               "landmarks": [[g8(v) for v in row] for row in lm], "wrists": wrists},
              open(os.path.join(OUT, "pose.json"), "w"))


if __name__ == "__main__":
    main()
