//! The daemon end to end: `walkoutd run` on the PETS store (its camera a real video file), a
//! separate Python process on the bus (the eclipse-zenoh client) receiving tracks every tick and
//! health every second, all valid against the committed JSON Schema, a `state` query answered;
//! SIGTERM ends it with status 0 within 5 s.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn a_separate_python_client_receives_valid_tracks_and_health_and_sigterm_exits_cleanly() {
    let python = walkout_types::setup::locations()
        .python
        .clone()
        .expect("WALKOUT_PYTHON (run scripts/setup)");
    let port = free_port();
    let endpoint = format!("tcp/127.0.0.1:{port}");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_walkoutd"))
        .args(["run", "--config"])
        .arg(repo().join("calibration/pets2009-s2l1.toml"))
        .args(["--listen", &endpoint, "--compute", "cpu", "--threads", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start walkoutd");
    std::thread::sleep(Duration::from_secs(3));
    // SIGHUP reloads the config (unchanged here): the daemon goes on (the signal's default
    // action would end it), and the ticks the client sees stay consecutive.
    let hup = Command::new("kill")
        .args(["-HUP", &daemon.id().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(hup.success());
    let probe = Command::new(&python)
        .arg(
            PathBuf::from(
                std::env::var_os("CARGO_MANIFEST_DIR")
                    .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
            )
            .join("tests/python/zenoh_probe.py"),
        )
        .args([&endpoint, "pets2009-s2l1"])
        .arg(repo().join("docs/schema"))
        .arg("6")
        .output()
        .expect("run the Python zenoh client");
    let stderr = String::from_utf8_lossy(&probe.stderr);
    assert!(probe.status.success(), "probe failed: {stderr}");
    let out: serde_json::Value = serde_json::from_slice(&probe.stdout)
        .unwrap_or_else(|e| panic!("probe output: {e}: {stderr}"));
    println!("{out}");
    assert_eq!(out["errors"].as_array().map(Vec::len), Some(0), "{out}");
    // Ticks at 10 Hz of video time, decoded faster than real time: tens of messages in 6 s, none
    // skipped, and people in them.
    assert!(out["tracks"].as_u64().unwrap_or(0) >= 30, "{out}");
    assert_eq!(out["tick_seqs_consecutive"], true, "{out}");
    assert!(
        out["tracks_with_people"].as_u64().unwrap_or(0) >= 10,
        "{out}"
    );
    // Health every second.
    let gaps: Vec<f64> = out["health_gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter_map(|g| g.as_f64())
        .collect();
    assert!(gaps.len() >= 4, "{out}");
    assert!(gaps.iter().all(|g| (0.7..=1.5).contains(g)), "{out}");
    let keys: Vec<&str> = out["state_keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    assert!(
        keys.contains(&"walkout/pets2009-s2l1/state/tracks")
            && keys.contains(&"walkout/pets2009-s2l1/state/health"),
        "{out}"
    );
    // SIGTERM: a clean exit within 5 s.
    let t = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = loop {
        if let Some(s) = daemon.try_wait().expect("wait") {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    println!(
        "exited {status} {:.2} s after SIGTERM",
        t.elapsed().as_secs_f64()
    );
    assert!(status.success(), "{status}");
    let mut report = String::new();
    std::io::Read::read_to_string(&mut daemon.stdout.take().expect("stdout"), &mut report)
        .expect("read the report");
    assert!(
        report.contains("config reloads: 1 applied, 0 refused"),
        "{report}"
    );
}

#[test]
fn bad_config_and_unreachable_zenoh_endpoint_and_missing_model_are_named_errors() {
    let bin = env!("CARGO_BIN_EXE_walkoutd");
    let run = |args: &[&str]| {
        let o = Command::new(bin).args(args).output().expect("run");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let cfg = repo().join("calibration/pets2009-s2l1.toml");
    let cfg = cfg.to_str().expect("utf-8 path");
    // A config that does not exist.
    let (code, err) = run(&[
        "run",
        "--config",
        "/nonexistent/store.toml",
        "--seconds",
        "1",
    ]);
    assert_eq!(code, Some(78), "{err}");
    assert!(err.contains("/nonexistent/store.toml"), "{err}");
    // A zenoh endpoint nobody listens on, as a client: named, non-zero, no panic.
    let port = free_port();
    let ep = format!("tcp/127.0.0.1:{port}");
    let (code, err) = run(&[
        "run",
        "--config",
        cfg,
        "--mode",
        "client",
        "--connect",
        &ep,
        "--seconds",
        "2",
    ]);
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("zenoh") && err.contains(&ep), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // A detector the manifest does not have.
    let (code, err) = run(&[
        "run",
        "--config",
        cfg,
        "--detector",
        "yolov99",
        "--seconds",
        "1",
    ]);
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains("yolov99") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn the_multiviewx_demo_runs_six_cameras_and_scores_against_the_annotations() {
    let png = std::env::temp_dir().join(format!("walkout-mvx-{}.png", std::process::id()));
    let port = free_port();
    let o = Command::new(env!("CARGO_BIN_EXE_walkoutd"))
        .args(["demo", "--config"])
        .arg(repo().join("calibration/multiviewx.toml"))
        .args(["--compute", "cpu", "--threads", "1"])
        .args(["--listen", &format!("tcp/127.0.0.1:{port}")])
        .arg("--png")
        .arg(&png)
        .output()
        .expect("run the demo");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    println!("{out}");
    // Six cameras, each with its 10 frames decoded (the looped video may start a second pass).
    for k in 0..6 {
        let line = out
            .lines()
            .find(|l| l.contains(&format!("camera cam{k}: ")))
            .unwrap_or_else(|| panic!("cam{k} missing: {out}"));
        let frames: u64 = line
            .split_whitespace()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .expect("frame count");
        assert!(frames >= 10, "{line}");
    }
    // Fused over six views and scored against the sample's ground truth (10 frames at 2 fps:
    // tracks need a few frames to confirm, so recall is bounded).
    let scored = out
        .lines()
        .find(|l| l.contains("scored at 0.5 m against its annotations"))
        .expect("scores");
    let value = |name: &str| -> f64 {
        scored
            .split(&format!("{name} "))
            .nth(1)
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {scored}"))
    };
    assert!(value("MODA") >= 0.5, "{scored}");
    assert!(value("precision") >= 0.85, "{scored}");
    assert!(png.is_file());
    let _ = std::fs::remove_file(&png);
}
