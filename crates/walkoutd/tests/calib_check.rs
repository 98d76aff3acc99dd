//! `walkoutd calib check`: the sample stores pass and write a coverage PNG; malformed configs exit
//! non-zero with a message that names the problem, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

fn walkoutd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_walkoutd"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("walkoutd runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("walkout-calib-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn sample_stores_pass_and_write_a_png() {
    let dir = scratch("samples");
    for store in ["wildtrack", "multiviewx", "pets2009-s2l1"] {
        let png = dir.join(format!("{store}.png"));
        let config = format!("calibration/{store}.toml");
        let out = walkoutd(&[
            "calib",
            "check",
            "--config",
            &config,
            "--png",
            png.to_str().expect("utf-8"),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{store}: exit {:?}\n{stdout}\n{stderr}",
            out.status
        );
        assert!(
            stdout.contains("config valid") && stdout.contains("blind spots"),
            "{store}: {stdout}"
        );
        let bytes = std::fs::read(&png).expect("PNG written");
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 2000,
            "{store}: not a PNG"
        );
    }
}

/// The sample store's cameras see a person standing anywhere a shopper can go (outside the
/// declared blind spot) from at least two views, shelves hiding: what calib check reports
/// counts shelves and the cameras' near field, not only whether the floor point is in view.
#[test]
fn the_sample_store_sees_every_shopper_from_two_cameras() {
    let out = walkoutd(&[
        "calib",
        "check",
        "--config",
        "calibration/sample-store.toml",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .skip_while(|l| !l.starts_with("a person 1.7 m tall"))
        .find(|l| l.contains("outside the declared blind spots"))
        .unwrap_or_else(|| panic!("no person coverage in\n{stdout}"));
    let undeclared: f64 = line
        .split(" m² of it outside")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("unreadable: {line}"));
    assert!(
        undeclared < 1.0,
        "{undeclared} m² seen by < 2 cameras: {line}"
    );
}

const VALID: &str = r#"
[store]
id = "test"
floor = [[0.0, 0.0], [10.0, 0.0], [10.0, 8.0], [0.0, 8.0]]
coverage_cell_m = 0.25

[[cameras]]
id = "cam0"
width = 1280
height = 720
[cameras.intrinsics]
model = "pinhole"
fx = 900.0
fy = 900.0
cx = 640.0
cy = 360.0
distortion = [-0.1, 0.01, 0.0, 0.0, 0.0]
[cameras.pose.world_from_camera]
rotation = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]
translation = [5.0, -2.0, 3.0]
"#;

fn check_config(dir: &Path, name: &str, text: &str) -> Output {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write config");
    walkoutd(&["calib", "check", "--config", path.to_str().expect("utf-8")])
}

#[test]
fn the_valid_template_passes() {
    let dir = scratch("valid");
    let out = check_config(&dir, "valid", VALID);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn malformed_configs_are_named_errors_not_panics() {
    let dir = scratch("bad");
    std::fs::write(
        dir.join("garbage.xml"),
        "<opencv_storage><camera_matrix>1 2 x</camera_matrix></opencv_storage>",
    )
    .expect("write");
    let wildtrack =
        std::fs::read_to_string(repo().join("calibration/wildtrack.toml")).expect("wildtrack.toml");
    let shared = walkout_types::setup::shared_root().display().to_string();
    let wildtrack = wildtrack.replace("${WALKOUT_SHARED}", &shared);
    let garbage = dir.join("garbage.xml").display().to_string();
    // (name, config text, substrings the error must contain)
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("missing-key", VALID.replace("id = \"test\"\n", ""), vec!["missing field `id`"]),
        ("wrong-type", VALID.replace("fx = 900.0", "fx = \"wide\""), vec!["invalid type", "fx"]),
        ("nan", VALID.replace("fx = 900.0", "fx = nan"), vec!["cameras[0].intrinsics.fx", "positive number"]),
        ("negative-focal", VALID.replace("fy = 900.0", "fy = -900.0"), vec!["cameras[0].intrinsics.fy"]),
        (
            "singular-rotation",
            VALID.replace("[0.0, -1.0, 0.0]]", "[0.0, 0.0, 0.0]]"),
            vec!["cameras[0].pose.world_from_camera.rotation", "not a rotation matrix"],
        ),
        (
            "reflection",
            VALID.replace("[[1.0, 0.0, 0.0]", "[[-1.0, 0.0, 0.0]"),
            vec!["world_from_camera.rotation", "det = -1"],
        ),
        ("unknown-model", VALID.replace("model = \"pinhole\"", "model = \"orthographic\""), vec!["unknown variant `orthographic`", "pinhole"]),
        ("unknown-key", VALID.replace("width = 1280", "width = 1280\nzoom = 2"), vec!["unknown field `zoom`"]),
        (
            "distortion-count",
            VALID.replace("distortion = [-0.1, 0.01, 0.0, 0.0, 0.0]", "distortion = [-0.1, 0.01, 0.0]"),
            vec!["cameras[0].intrinsics.distortion", "found 3"],
        ),
        ("floor-too-small", VALID.replace("[10.0, 8.0], [0.0, 8.0]", ""), vec!["store.floor", "at least 3"]),
        ("duplicate-camera", format!("{VALID}\n{}", &VALID[VALID.find("[[cameras]]").expect("camera")..]), vec!["camera id `cam0` is used twice"]),
        ("below-floor", VALID.replace("translation = [5.0, -2.0, 3.0]", "translation = [5.0, -2.0, -3.0]"), vec!["cameras[0]", "above the floor"]),
        ("bad-id", VALID.replace("id = \"cam0\"", "id = \"cam 0/x\""), vec!["cameras[0].id", "not a valid id"]),
        ("toml-syntax", VALID.replace("[store]", "[store"), vec!["TOML parse error"]),
        (
            "missing-calibration-file",
            wildtrack.replace("intr_CVLab1.xml", "intr_CVLab9.xml"),
            vec!["cameras[0].calibration.intrinsics", "intr_CVLab9.xml", "cannot read"],
        ),
        ("unknown-units", wildtrack.replacen("units = \"cm\"", "units = \"inches\"", 1), vec!["unknown variant `inches`", "cm"]),
        ("wrong-units", wildtrack.replacen("units = \"cm\"", "units = \"m\"", 1), vec!["cameras[0]", "implausible", "units"]),
        (
            "corrupt-calibration-file",
            wildtrack.replacen(
                &format!("{shared}/data/wildtrack/calibrations/intrinsic_zero/intr_CVLab1.xml"),
                &garbage,
                1,
            ),
            vec!["garbage.xml", "camera_matrix", "`x` is not a number"],
        ),
        ("undefined-variable", VALID.replace("[[cameras]]", "[[cameras]]\nsource = \"${NO_SUCH_VAR_X}/a.mp4\""), vec!["cameras[0].source", "NO_SUCH_VAR_X"]),
        ("rvec-without-tvec", VALID.replace(
            "[cameras.pose.world_from_camera]\nrotation = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]\ntranslation = [5.0, -2.0, 3.0]",
            "[cameras.pose]\nrvec = [0.1, 0.2, 0.3]",
        ), vec!["cameras[0].pose.tvec", "missing"]),
    ];
    assert!(cases.len() >= 10);
    for (name, text, expected) in cases {
        assert_ne!(text, VALID, "{name}: the mutation did not apply");
        let out = check_config(&dir, name, &text);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(78),
            "{name}: expected exit 78 (config error)\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: panicked\n{stderr}");
        assert!(
            stderr.contains(&format!("{name}.toml")),
            "{name}: message does not name the file\n{stderr}"
        );
        for e in expected {
            assert!(stderr.contains(e), "{name}: message lacks `{e}`\n{stderr}");
        }
    }
}

#[test]
fn a_missing_config_file_is_named() {
    let out = walkoutd(&["calib", "check", "--config", "/nonexistent/store.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("/nonexistent/store.toml") && stderr.contains("cannot read"),
        "{stderr}"
    );
}
