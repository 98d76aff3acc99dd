#!/usr/bin/env python3
"""Writes OpenCV projection test vectors for walkout-geometry's tests.

Run by a developer, not by CI (needs `pip install 'opencv-python-headless<5' numpy`):
    python3 scripts/dev/make_projection_vectors.py crates/walkout-geometry/tests/fixtures/opencv_projection.json

For random cameras (pinhole with 5 distortion coefficients, and fisheye with 4) looking down at a
floor from a few metres up, and random world points in front of them, records what
cv2.projectPoints / cv2.fisheye.projectPoints give. The Rust tests must reproduce the pixels to 1e-6
px and back-project them onto the plane z = point.z to 1e-5 m.
"""
import json
import sys

import cv2
import numpy as np

rng = np.random.default_rng(20261126)


def look_down_pose():
    """camera_from_world (rvec, tvec) of a camera 2-8 m up, pitched down 25-75 degrees."""
    centre = np.array([rng.uniform(-10, 10), rng.uniform(-10, 10), rng.uniform(2, 8)])
    yaw = rng.uniform(-np.pi, np.pi)
    pitch = np.radians(rng.uniform(25, 75))
    roll = np.radians(rng.uniform(-8, 8))
    forward = np.array([np.cos(yaw) * np.cos(pitch), np.sin(yaw) * np.cos(pitch), -np.sin(pitch)])
    right = np.cross(forward, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    # Roll about the optical axis.
    c, s = np.cos(roll), np.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    world_from_camera = np.stack([right, down, forward], axis=1)
    camera_from_world = world_from_camera.T
    rvec, _ = cv2.Rodrigues(camera_from_world)
    tvec = -camera_from_world @ centre
    return rvec.ravel(), tvec, camera_from_world


def points_in_view(camera_from_world, tvec, max_n):
    """World points in front of the camera with normalised radius <= max_n."""
    pts = []
    while len(pts) < 20:
        z = rng.uniform(1.0, 20.0)
        n = rng.uniform(-max_n, max_n, size=2)
        if np.linalg.norm(n) > max_n:
            continue
        p_cam = np.array([n[0] * z, n[1] * z, z])
        p_world = camera_from_world.T @ (p_cam - tvec)
        pts.append(p_world)
    return np.array(pts)


def camera_matrix(w, h):
    fx = rng.uniform(400, 1500)
    fy = fx * rng.uniform(0.97, 1.03)
    return np.array([[fx, 0, w / 2 + rng.uniform(-30, 30)], [0, fy, h / 2 + rng.uniform(-30, 30)], [0, 0, 1.0]])


def main(out):
    w, h = 1280, 720
    result = {"generator": "cv2 " + cv2.__version__, "pinhole": [], "fisheye": []}
    for _ in range(8):
        rvec, tvec, r = look_down_pose()
        k = camera_matrix(w, h)
        dist = np.array([rng.uniform(-0.3, 0.1), rng.uniform(-0.05, 0.1), rng.uniform(-0.002, 0.002),
                         rng.uniform(-0.002, 0.002), rng.uniform(-0.01, 0.01)])
        pts = points_in_view(r, tvec, 0.7)
        px, _ = cv2.projectPoints(pts, rvec, tvec, k, dist)
        result["pinhole"].append({"width": w, "height": h, "K": k.ravel().tolist(), "dist": dist.tolist(),
                                  "rvec": rvec.tolist(), "tvec": tvec.tolist(), "points": pts.tolist(),
                                  "pixels": px.reshape(-1, 2).tolist()})
    for _ in range(8):
        rvec, tvec, r = look_down_pose()
        k = camera_matrix(w, h)
        d = rng.uniform(-0.05, 0.05, size=4)
        pts = points_in_view(r, tvec, 1.5)
        px, _ = cv2.fisheye.projectPoints(pts.reshape(-1, 1, 3), rvec.reshape(3, 1), tvec.reshape(3, 1), k, d)
        result["fisheye"].append({"width": w, "height": h, "K": k.ravel().tolist(), "dist": d.tolist(),
                                  "rvec": rvec.tolist(), "tvec": tvec.tolist(), "points": pts.tolist(),
                                  "pixels": px.reshape(-1, 2).tolist()})
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"wrote {out}: {len(result['pinhole'])} pinhole + {len(result['fisheye'])} fisheye cameras x 20 points")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "crates/walkout-geometry/tests/fixtures/opencv_projection.json")
