//! `--role edge` + `--role fusion` as two processes on loopback give the same tracks as
//! `--role all` on the same input (the PETS store, its camera the video file played in real time
//! from its first frame).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use walkout_bus::{Bus, BusConfig};
use walkout_types::TracksMessage;

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

fn walkoutd(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_walkoutd"))
        .arg("run")
        .arg("--config")
        .arg(repo().join("calibration/pets2009-s2l1.toml"))
        .args(["--compute", "cpu", "--threads", "1"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start walkoutd")
}

type Ticks = Arc<Mutex<BTreeMap<u64, TracksMessage>>>;

/// A client session on `endpoint` collecting tracks messages by tick.
fn subscriber(endpoint: &str) -> (Bus, Ticks) {
    let mut last = None;
    for _ in 0..50 {
        match Bus::open(
            "pets2009-s2l1",
            &BusConfig {
                mode: "client".into(),
                connect: vec![endpoint.into()],
                ..Default::default()
            },
        ) {
            Ok(bus) => {
                let ticks: Ticks = Arc::default();
                let t = ticks.clone();
                bus.subscribe::<TracksMessage, _>("tracks", move |_, m| {
                    t.lock().expect("lock").insert(m.seq, m);
                })
                .expect("subscribe");
                return (bus, ticks);
            }
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("cannot connect to {endpoint}: {last:?}");
}

#[test]
fn edge_and_fusion_processes_track_like_one_process() {
    // One process.
    let ep = format!("tcp/127.0.0.1:{}", free_port());
    let mut all = walkoutd(&["--listen", &ep, "--seconds", "9"]);
    let (bus, all_ticks) = subscriber(&ep);
    all.wait().expect("all");
    bus.close();

    // Fusion first (it must see the edge's first frame), then the edge connecting to it.
    let ep = format!("tcp/127.0.0.1:{}", free_port());
    let mut fusion = walkoutd(&["--role", "fusion", "--listen", &ep, "--seconds", "14"]);
    let (bus, split_ticks) = subscriber(&ep);
    std::thread::sleep(Duration::from_secs(1));
    let mut edge = walkoutd(&[
        "--role",
        "edge",
        "--cameras",
        "cam0",
        "--connect",
        &ep,
        "--seconds",
        "9",
    ]);
    assert!(edge.wait().expect("edge").success());
    std::thread::sleep(Duration::from_secs(1));
    let _ = Command::new("kill")
        .args(["-TERM", &fusion.id().to_string()])
        .status();
    assert!(fusion.wait().expect("fusion").success());
    bus.close();

    let a = all_ticks.lock().expect("lock");
    let b = split_ticks.lock().expect("lock");
    let common: Vec<u64> = a.keys().filter(|k| b.contains_key(k)).copied().collect();
    println!(
        "{} ticks in one process, {} split, {} in common",
        a.len(),
        b.len(),
        common.len()
    );
    assert!(common.len() >= 40, "{} common ticks", common.len());
    let mut people = 0;
    for k in common {
        let (x, y) = (&a[&k], &b[&k]);
        assert!(
            (x.time - y.time).abs() < 1e-9,
            "tick {k}: time {} vs {}",
            x.time,
            y.time
        );
        assert_eq!(x.tracks.len(), y.tracks.len(), "tick {k}: {x:?} vs {y:?}");
        for (s, t) in x.tracks.iter().zip(&y.tracks) {
            assert_eq!(s.id, t.id, "tick {k}");
            assert!(
                (s.x - t.x).abs() < 1e-6 && (s.y - t.y).abs() < 1e-6,
                "tick {k}: {s:?} vs {t:?}"
            );
        }
        people += x.tracks.len();
    }
    assert!(people > 0, "the compared ticks hold tracks");
}
