//! `walkoutd detect` and `walkoutd embed` on real images and models.

use std::process::Command;

fn walkoutd(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_walkoutd"))
        .args(args)
        .output()
        .expect("run walkoutd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn image(name: &str) -> String {
    walkout_types::setup::shared_root()
        .join("data/images")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn detect_json_finds_the_astronaut_with_both_detectors() {
    for model in ["yolox_nano", "picodet_xs_320"] {
        let (code, out, err) = walkoutd(&[
            "detect",
            "--image",
            &image("astronaut.png"),
            "--model",
            model,
            "--json",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let persons = v["persons"].as_array().expect("persons");
        assert_eq!(persons.len(), 1, "{model}: {out}");
        assert!(
            persons[0]["score"].as_f64().expect("score") > 0.8,
            "{model}: {out}"
        );
        assert!(
            persons[0]["height"].as_f64().expect("h") > 400.0,
            "{model}: {out}"
        );
    }
}

#[test]
fn embed_prints_a_unit_vector_and_bad_input_is_named() {
    let (code, out, err) = walkoutd(&[
        "embed",
        "--image",
        &image("astronaut.png"),
        "--box",
        "10,20,350,480",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let e: Vec<f64> = v["embedding"]
        .as_array()
        .expect("e")
        .iter()
        .map(|x| x.as_f64().expect("f"))
        .collect();
    assert_eq!(e.len(), 512);
    assert!((e.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-4);
    let (code, _, err) = walkoutd(&[
        "embed",
        "--image",
        &image("astronaut.png"),
        "--box",
        "1,2,3",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--box"), "{err}");
    let (code, _, err) = walkoutd(&["detect", "--image", "/etc/hostname"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("/etc/hostname") && err.contains("not a PNG or JPEG"),
        "{err}"
    );
}

#[test]
fn detect_with_wrists_places_both_wrists_inside_the_person() {
    let (code, out, err) = walkoutd(&[
        "detect",
        "--image",
        &image("astronaut.png"),
        "--wrists",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let p = &v["persons"][0];
    let wrists = p["wrists"].as_array().expect("wrists");
    assert_eq!(wrists.len(), 2, "{out}");
    let (l, t) = (
        p["left"].as_f64().expect("l"),
        p["top"].as_f64().expect("t"),
    );
    let (w, h) = (
        p["width"].as_f64().expect("w"),
        p["height"].as_f64().expect("h"),
    );
    for k in wrists {
        let (u, v) = (k["u"].as_f64().expect("u"), k["v"].as_f64().expect("v"));
        assert!(u > l && u < l + w && v > t && v < t + h, "{out}");
        assert!(k["score"].as_f64().expect("score") > 0.5, "{out}");
    }
}
