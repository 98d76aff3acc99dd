//! `walkoutd replay`: end to end through the CLI, and named errors for malformed inputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

fn fixture() -> PathBuf {
    repo().join("crates/walkout-runtime/tests/fixtures/wildtrack-small")
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("walkout-replay-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

fn replay(dir: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "replay".to_string(),
        "--config".into(),
        "calibration/wildtrack.toml".into(),
        "--detections".into(),
        dir.display().to_string(),
        "--fps".into(),
        "10".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(env!("CARGO_BIN_EXE_walkoutd"))
        .args(&args)
        .current_dir(repo())
        .output()
        .expect("runs")
}

#[test]
fn replay_writes_tracks_jsonl_and_scores() {
    let dir = scratch("ok");
    let out = dir.join("tracks.csv");
    let jsonl = dir.join("tracks.jsonl");
    let gt = fixture().join("gt.csv");
    let o = replay(
        &fixture(),
        &out,
        &[
            "--jsonl",
            jsonl.to_str().expect("utf-8"),
            "--gt",
            gt.to_str().expect("utf-8"),
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("MOTA")
            && stdout.contains("IDF1")
            && stdout.contains("HOTA")
            && stdout.contains("MODA")
    );
    let csv = std::fs::read_to_string(&out).expect("csv");
    assert!(csv.starts_with("frame,id,x,y\n") && csv.lines().count() > 1000);
    let lines = std::fs::read_to_string(&jsonl).expect("jsonl");
    assert_eq!(lines.lines().count(), 100);
    let first: serde_json::Value =
        serde_json::from_str(lines.lines().next().expect("line")).expect("json");
    assert_eq!(first["schema"], 1);
    assert_eq!(first["store"], "wildtrack");
}

fn copy_fixture(dir: &Path) {
    for k in 0..7 {
        std::fs::copy(
            fixture().join(format!("cam{k}.txt")),
            dir.join(format!("cam{k}.txt")),
        )
        .expect("copy");
    }
}

#[test]
fn malformed_detection_files_are_named_errors() {
    type Mutation = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Mutation, Vec<&str>)> = vec![
        (
            "text",
            Box::new(|d: &Path| append(d, "cam3.txt", "600,-1,abc,2,3,4,0.9\n")),
            vec!["cam3.txt:", "`abc` is not a number"],
        ),
        (
            "negative",
            Box::new(|d: &Path| append(d, "cam1.txt", "600,-1,1,2,-30,4,0.9\n")),
            vec!["cam1.txt:", "must be positive"],
        ),
        (
            "nan",
            Box::new(|d: &Path| append(d, "cam2.txt", "600,-1,1,2,3,4,nan\n")),
            vec!["cam2.txt:", "finite"],
        ),
        (
            "order",
            Box::new(|d: &Path| append(d, "cam0.txt", "5,-1,1,2,3,4,0.9\n")),
            vec!["cam0.txt:", "must not decrease"],
        ),
        (
            "missing",
            Box::new(|d: &Path| std::fs::remove_file(d.join("cam6.txt")).expect("rm")),
            vec!["no detection file for camera `cam6`"],
        ),
        (
            "unknown",
            Box::new(|d: &Path| append(d, "cam9.txt", "")),
            vec!["cam9.txt", "`cam9` is not a camera"],
        ),
    ];
    for (name, mutate, expected) in cases {
        let dir = scratch(name);
        copy_fixture(&dir);
        mutate(&dir);
        let o = replay(&dir, &dir.join("out.csv"), &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name}: expected failure");
        assert!(!stderr.contains("panicked"), "{name}: panicked\n{stderr}");
        for e in expected {
            assert!(stderr.contains(e), "{name}: lacks `{e}`\n{stderr}");
        }
    }
}

#[test]
fn an_empty_camera_file_is_a_camera_that_saw_nobody() {
    let dir = scratch("empty");
    copy_fixture(&dir);
    std::fs::write(dir.join("cam4.txt"), "").expect("truncate");
    let o = replay(&dir, &dir.join("out.csv"), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn append(dir: &Path, file: &str, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(file))
        .expect("open");
    f.write_all(text.as_bytes()).expect("append");
}
