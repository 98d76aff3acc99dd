//! Fusion on a synthetic room: four ceiling cameras at the corners of a 10 m x 10 m floor, people
//! rendered as the boxes a detector would give.

use glam::{DMat3, DVec2, DVec3};
use walkout_fusion::{Fuser, FusionConfig, View};
use walkout_geometry::coverage::Polygon;
use walkout_geometry::{Camera, Intrinsics, LensModel, Pose};
use walkout_types::Detection;

fn camera(id: &str, centre: DVec3, target: DVec3) -> Camera {
    let fwd = (target - centre).normalize();
    let right = fwd.cross(DVec3::Z).normalize();
    let down = fwd.cross(right);
    let world_from_camera = Pose {
        rotation: DMat3::from_cols(right, down, fwd),
        translation: centre,
    };
    let intr = Intrinsics {
        width: 1280,
        height: 720,
        fx: 700.0,
        fy: 700.0,
        cx: 640.0,
        cy: 360.0,
        lens: LensModel::NONE,
    };
    Camera::new(id, intr, world_from_camera.inverse())
}

fn room() -> (Vec<Camera>, Polygon) {
    let t = DVec3::new(5.0, 5.0, 0.0);
    let cams = vec![
        camera("c0", DVec3::new(0.0, 0.0, 3.0), t),
        camera("c1", DVec3::new(10.0, 0.0, 3.0), t),
        camera("c2", DVec3::new(10.0, 10.0, 3.0), t),
        camera("c3", DVec3::new(0.0, 10.0, 3.0), t),
    ];
    (cams, Polygon::rectangle(DVec2::ZERO, DVec2::splat(10.0)))
}

/// The box of a person standing at `p` (height 1.75 m, width 0.45 m), clipped to the image:
/// from the feet up to the head, as wide as the body at both ends (seen at an angle, the
/// head is not straight above the feet in the image).
fn person_box(cam: &Camera, p: DVec2) -> Option<Detection> {
    let foot = cam.project(DVec3::new(p.x, p.y, 0.0))?;
    let head = cam.project(DVec3::new(p.x, p.y, 1.75))?;
    let half = |z: f64| {
        let d = cam
            .camera_from_world
            .transform_point(DVec3::new(p.x, p.y, z))
            .z;
        0.5 * 0.45 * cam.intrinsics.fx / d
    };
    let (l, t, r, b) = (
        (foot.x - half(0.0)).min(head.x - half(1.75)),
        head.y,
        (foot.x + half(0.0)).max(head.x + half(1.75)),
        foot.y,
    );
    let (iw, ih) = (
        f64::from(cam.intrinsics.width) - 1.0,
        f64::from(cam.intrinsics.height) - 1.0,
    );
    let (l, t, r, b) = (l.max(0.0), t.max(0.0), r.min(iw), b.min(ih));
    (r > l + 2.0 && b > t + 2.0).then_some(Detection {
        left: l,
        top: t,
        width: r - l,
        height: b - t,
        score: 0.9,
        embedding: None,
        wrists: Vec::new(),
    })
}

fn fuse(people: &[DVec2], skip: &[(usize, usize)]) -> Vec<walkout_types::FloorCandidate> {
    fuse_with(people, skip, FusionConfig::default())
}

fn fuse_with(
    people: &[DVec2],
    skip: &[(usize, usize)],
    config: FusionConfig,
) -> Vec<walkout_types::FloorCandidate> {
    let (cams, floor) = room();
    let boxes: Vec<Vec<Detection>> = cams
        .iter()
        .enumerate()
        .map(|(k, cam)| {
            people
                .iter()
                .enumerate()
                .filter(|(i, _)| !skip.contains(&(k, *i)))
                .filter_map(|(_, p)| person_box(cam, *p))
                .collect()
        })
        .collect();
    let mut fuser = Fuser::new(cams, &floor, config);
    let views: Vec<View> = View::per_camera(&boxes);
    fuser.fuse(&views)
}

#[test]
fn people_seen_by_several_cameras_are_found_where_they_stand() {
    let people = [
        DVec2::new(3.0, 4.0),
        DVec2::new(6.5, 6.0),
        DVec2::new(5.0, 2.5),
        DVec2::new(7.5, 3.0),
    ];
    let cands = fuse(&people, &[]);
    let strong: Vec<_> = cands.iter().filter(|c| c.strong).collect();
    assert_eq!(strong.len(), people.len(), "{cands:?}");
    for p in people {
        let c = strong
            .iter()
            .min_by(|a, b| {
                (a.x - p.x)
                    .hypot(a.y - p.y)
                    .total_cmp(&(b.x - p.x).hypot(b.y - p.y))
            })
            .expect("a candidate");
        let err = (c.x - p.x).hypot(c.y - p.y);
        assert!(err < 0.05, "person at {p:?}: candidate {c:?} ({err} m)");
        assert!(c.views >= 3, "{c:?}");
        let h = c.height_m.expect("head height");
        assert!((h - 1.75).abs() < 0.05, "head height {h}");
    }
}

#[test]
fn the_box_model_places_people_by_their_body_axis() {
    // Near the room's edges the cameras see people at steep angles: the box centre (the body
    // at mid-height) lies well to the side of the feet.
    let people = [
        DVec2::new(1.5, 8.0),
        DVec2::new(8.5, 1.5),
        DVec2::new(2.0, 2.5),
    ];
    let worst = |config: FusionConfig| {
        let cands = fuse_with(&people, &[], config);
        people
            .iter()
            .map(|p| {
                cands
                    .iter()
                    .filter(|c| c.strong)
                    .map(|c| (c.x - p.x).hypot(c.y - p.y))
                    .fold(f64::INFINITY, f64::min)
            })
            .fold(0.0, f64::max)
    };
    let refined = worst(FusionConfig::default());
    let feet_only = worst(FusionConfig {
        refine_iterations: 0,
        ..FusionConfig::default()
    });
    assert!(refined < 0.03, "box model: worst error {refined} m");
    assert!(
        feet_only > 2.0 * refined,
        "feet only {feet_only} m vs box model {refined} m"
    );
}

#[test]
fn a_box_cut_by_the_image_border_does_not_pull_the_position() {
    // Close to camera c0: its box is cut at the bottom of c0's image.
    let p = DVec2::new(1.2, 1.2);
    let (cams, _) = room();
    let b = person_box(&cams[0], p).expect("c0 sees the head");
    assert!(
        b.top + b.height >= 718.0,
        "the test needs a box cut at the bottom: {b:?}"
    );
    let with = fuse(&[p], &[]);
    let best = with
        .iter()
        .filter(|c| c.strong)
        .map(|c| (c.x - p.x).hypot(c.y - p.y))
        .fold(f64::INFINITY, f64::min);
    assert!(
        best < 0.1,
        "with the truncated view the person is {best} m off: {with:?}"
    );
}

#[test]
fn a_lone_false_detection_in_a_clear_spot_is_dropped_but_an_occluded_person_is_kept() {
    let (cams, floor) = room();
    // A box in c0 at a spot the other cameras see clearly, with nobody there.
    let ghost = person_box(&cams[0], DVec2::new(5.0, 5.0)).expect("visible");
    let mut fuser = Fuser::new(cams.clone(), &floor, FusionConfig::default());
    let empty: Vec<Detection> = Vec::new();
    let views = [
        View {
            camera: 0,
            detections: std::slice::from_ref(&ghost),
        },
        View {
            camera: 1,
            detections: &empty,
        },
        View {
            camera: 2,
            detections: &empty,
        },
        View {
            camera: 3,
            detections: &empty,
        },
    ];
    assert!(fuser.fuse(&views).is_empty(), "the ghost survived");
    // The same single view, but the spot is hidden in the other cameras by someone else's box
    // (an occluder standing in front): the observation is kept as a weak candidate.
    let occluders: Vec<Vec<Detection>> = (1..4)
        .map(|k| {
            person_box(&cams[k], DVec2::new(5.0, 5.0))
                .into_iter()
                .collect()
        })
        .collect();
    let views = [
        View {
            camera: 0,
            detections: std::slice::from_ref(&ghost),
        },
        View {
            camera: 1,
            detections: &occluders[0],
        },
        View {
            camera: 2,
            detections: &occluders[1],
        },
        View {
            camera: 3,
            detections: &occluders[2],
        },
    ];
    let cands = fuser.fuse(&views);
    assert!(!cands.is_empty());
}
