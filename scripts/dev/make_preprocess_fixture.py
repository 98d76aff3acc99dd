#!/usr/bin/env python3
"""Writes the YOLOX-nano input tensor of astronaut.png as a small fixture for walkout-gpu's tests.

Run by a developer, not by CI (needs `pip install numpy pillow 'opencv-python-headless<5'`):
    python3 scripts/dev/make_preprocess_fixture.py [SHARED] [OUT]

The tensor follows ../shared/models/MODELS.md: BGR, 0-255, letterbox scale = min(416/w, 416/h),
content floor(w*scale) x floor(h*scale) at the top-left, pad 114, NCHW float32. The resize is
bilinear with OpenCV's pixel-centre convention (src = (dst + 0.5) * w/new_w - 0.5, edges
replicated) computed in float; cv2.resize(INTER_LINEAR) itself uses 11-bit fixed point, so the
script also reports how far the float tensor is from cv2's (it must stay within 1 grey level).
The fixture keeps 4096 sampled values and per-channel sums, not the 2 MB tensor.
"""
import json
import os
import sys

import cv2
import numpy as np
from PIL import Image

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
out = sys.argv[2] if len(sys.argv) > 2 else "crates/walkout-gpu/tests/fixtures/yolox_astronaut.json"

rgb = np.asarray(Image.open(os.path.join(shared, "data/images/astronaut.png")).convert("RGB")).astype(np.float64)
h, w = rgb.shape[:2]
S = 416
r = min(S / w, S / h)
nw, nh = int(w * r), int(h * r)


def resize_float(img, nw, nh):
    h, w = img.shape[:2]
    sx = (np.arange(nw) + 0.5) * (w / nw) - 0.5
    sy = (np.arange(nh) + 0.5) * (h / nh) - 0.5
    x0 = np.floor(sx)
    y0 = np.floor(sy)
    ax = (sx - x0)[None, :, None]
    ay = (sy - y0)[:, None, None]
    xi0 = np.clip(x0, 0, w - 1).astype(int)
    xi1 = np.clip(x0 + 1, 0, w - 1).astype(int)
    yi0 = np.clip(y0, 0, h - 1).astype(int)
    yi1 = np.clip(y0 + 1, 0, h - 1).astype(int)
    top = img[yi0][:, xi0] * (1 - ax) + img[yi0][:, xi1] * ax
    bot = img[yi1][:, xi0] * (1 - ax) + img[yi1][:, xi1] * ax
    return top * (1 - ay) + bot * ay


resized = resize_float(rgb, nw, nh)
canvas = np.full((S, S, 3), 114.0)
canvas[:nh, :nw] = resized
bgr = canvas[:, :, ::-1]
tensor = np.ascontiguousarray(bgr.transpose(2, 0, 1)).astype(np.float32)  # NCHW without N

cv = cv2.resize(rgb.astype(np.uint8), (nw, nh), interpolation=cv2.INTER_LINEAR).astype(np.float64)
diff = np.abs(cv - resized).max()
assert diff <= 1.0, diff

rng = np.random.default_rng(3)
idx = np.sort(rng.choice(tensor.size, size=4096, replace=False))
flat = tensor.ravel()
fixture = {
    "image": "data/images/astronaut.png",
    "size": [w, h],
    "scale": r,
    "content": [nw, nh],
    "max_abs_diff_vs_cv2_resize": float(diff),
    "channel_sums": [float(tensor[c].astype(np.float64).sum()) for c in range(3)],
    "indices": idx.tolist(),
    "values": [float(v) for v in flat[idx]],
}
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump(fixture, f)
    f.write("\n")
print(f"wrote {out}: {w}x{h} -> {nw}x{nh} (scale {r}), max |float - cv2.resize| = {diff:.3f}")
