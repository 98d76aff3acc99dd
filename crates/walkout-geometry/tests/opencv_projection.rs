//! Projection equals OpenCV's (vectors from scripts/dev/make_projection_vectors.py, made with
//! cv2.projectPoints and cv2.fisheye.projectPoints) and back-projection round-trips.

use glam::{DVec2, DVec3};
use serde_json::Value;
use walkout_geometry::{Camera, Intrinsics, LensModel, Pose};

fn vectors() -> Value {
    let text = include_str!("fixtures/opencv_projection.json");
    serde_json::from_str(text).expect("fixture is JSON")
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn camera(case: &Value, fisheye: bool) -> Camera {
    let k = nums(&case["K"]);
    let d = nums(&case["dist"]);
    let lens = if fisheye {
        LensModel::Fisheye {
            k1: d[0],
            k2: d[1],
            k3: d[2],
            k4: d[3],
        }
    } else {
        LensModel::Pinhole {
            k1: d[0],
            k2: d[1],
            p1: d[2],
            p2: d[3],
            k3: d[4],
        }
    };
    let intr = Intrinsics {
        width: case["width"].as_u64().expect("width") as u32,
        height: case["height"].as_u64().expect("height") as u32,
        fx: k[0],
        fy: k[4],
        cx: k[2],
        cy: k[5],
        lens,
    };
    let r = nums(&case["rvec"]);
    let t = nums(&case["tvec"]);
    Camera::new(
        "cv",
        intr,
        Pose::from_rvec_tvec(DVec3::new(r[0], r[1], r[2]), DVec3::new(t[0], t[1], t[2])),
    )
}

fn check(kind: &str, fisheye: bool) {
    let all = vectors();
    let cases = all[kind].as_array().expect("cases");
    assert!(cases.len() >= 8);
    let (mut worst_px, mut worst_m, mut n) = (0.0f64, 0.0f64, 0);
    for case in cases {
        let cam = camera(case, fisheye);
        let points = case["points"].as_array().expect("points");
        let pixels = case["pixels"].as_array().expect("pixels");
        for (p, px) in points.iter().zip(pixels) {
            let p = nums(p);
            let p = DVec3::new(p[0], p[1], p[2]);
            let px = nums(px);
            let expected = DVec2::new(px[0], px[1]);
            let got = cam.project(p).expect("point in front of the camera");
            let err = (got - expected).length();
            assert!(
                err < 1e-6,
                "{kind}: {p:?} projects to {got:?}, OpenCV says {expected:?} ({err:e} px)"
            );
            let back = cam.back_project(expected, p.z).expect("back-projects");
            let err_m = (back - p).length();
            assert!(
                err_m < 1e-5,
                "{kind}: pixel {expected:?} back to {back:?}, expected {p:?} ({err_m:e} m)"
            );
            worst_px = worst_px.max(err);
            worst_m = worst_m.max(err_m);
            n += 1;
        }
    }
    println!(
        "{kind}: {n} points, worst projection error {worst_px:.3e} px, worst round trip {worst_m:.3e} m"
    );
}

#[test]
fn pinhole_matches_cv2_project_points() {
    check("pinhole", false);
}

#[test]
fn fisheye_matches_cv2_fisheye_project_points() {
    check("fisheye", true);
}
