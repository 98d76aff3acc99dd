//! The daemon survives its cameras: two RTSP cameras (PETS re-encoded to H.264 on the fly by
//! in-process servers), one killed and brought back, or frozen (the server stops sending without
//! closing) and thawed. Tracks keep flowing on zenoh for the healthy camera throughout, and
//! `camera_down` / `camera_up` events are published.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gstreamer::prelude::*;
use walkout_bus::Bus;
use walkout_ingest::rtsp_server::RtspServer;
mod common;

use walkout_runtime::daemon::DaemonInput;
use walkout_types::{Event, EventKind, Health, TracksMessage};

/// The two tests each run two encoders and a daemon: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn pets_server(port: u16) -> RtspServer {
    let video = walkout_types::setup::shared_root().join("data/pets2009/vtest.avi");
    // Paced (identity sync) before the valve, so a closed valve is silence, not a fast run to EOS.
    let launch = format!(
        "( filesrc location=\"{}\" ! decodebin ! videoconvert ! identity sync=true ! valve name=valve ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! rtph264pay name=pay0 pt=96 )",
        video.display()
    );
    RtspServer::start(port, "cam", &launch).expect("RTSP server")
}

/// The PETS store with its camera twice (cam0, cam1).
fn two_camera_config() -> std::path::PathBuf {
    let repo = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..");
    let text =
        std::fs::read_to_string(repo.join("calibration/pets2009-s2l1.toml")).expect("config");
    let (head, cam) = text.split_once("[[cameras]]").expect("a camera");
    let cam1 = cam.replace("id = \"cam0\"", "id = \"cam1\"");
    let out = std::env::temp_dir().join(format!("walkout-two-cams-{}.toml", std::process::id()));
    std::fs::write(&out, format!("{head}[[cameras]]{cam}\n[[cameras]]{cam1}")).expect("write");
    out
}

/// Two PETS cameras on in-process RTSP servers, the daemon on a thread, and a zenoh client
/// collecting its tracks messages (with arrival instants) and events.
struct Rig {
    a: RtspServer,
    /// Camera cam1's server (taken while it is killed).
    b: Option<RtspServer>,
    daemon: common::TestDaemon,
    sub: Bus,
    tracks: Arc<Mutex<Vec<(Instant, TracksMessage)>>>,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Rig {
    fn start() -> Rig {
        let (a, b) = (pets_server(0), pets_server(0));
        let sources = HashMap::from([("cam0".into(), a.url()), ("cam1".into(), b.url())]);
        let daemon = common::start(
            two_camera_config(),
            DaemonInput::Cameras { sources },
            |_| {},
        );
        let sub = daemon.client("pets2009-s2l1");
        let tracks: Arc<Mutex<Vec<(Instant, TracksMessage)>>> = Arc::default();
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let (t, e) = (tracks.clone(), events.clone());
        sub.subscribe::<TracksMessage, _>("tracks", move |_, m| {
            t.lock().expect("lock").push((Instant::now(), m))
        })
        .expect("subscribe tracks");
        sub.subscribe::<Event, _>("events/*", move |_, m| e.lock().expect("lock").push(m))
            .expect("subscribe events");
        Rig {
            a,
            b: Some(b),
            daemon,
            sub,
            tracks,
            events,
        }
    }

    /// Events matching `f`.
    fn count(&self, f: &dyn Fn(&EventKind) -> bool) -> usize {
        self.events
            .lock()
            .expect("lock")
            .iter()
            .filter(|e| f(&e.kind))
            .count()
    }

    /// Stops the daemon (it must have run cleanly) and everything else.
    fn finish(self) -> walkout_runtime::daemon::Summary {
        let summary = self.daemon.finish();
        self.sub.close();
        if let Some(b) = self.b {
            b.stop();
        }
        self.a.stop();
        summary
    }
}

fn wait_for(what: &str, limit: Duration, cond: &dyn Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "{what} not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn is_down(k: &EventKind, cam: &str) -> bool {
    matches!(k, EventKind::CameraDown { camera, .. } if camera == cam)
}

fn is_up(k: &EventKind, cam: &str) -> bool {
    matches!(k, EventKind::CameraUp { camera } if camera == cam)
}

#[test]
fn tracks_keep_flowing_while_a_camera_dies_and_its_events_are_published() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rig = Rig::start();
    let b_port = rig.b.as_ref().expect("cam1 server").port();
    let tracks = rig.tracks.clone();
    let both_seen = || {
        tracks.lock().expect("lock").iter().any(|(_, m)| {
            m.tracks
                .iter()
                .any(|t| t.cameras.contains(&"cam1".to_string()))
                && m.tracks
                    .iter()
                    .any(|t| t.cameras.contains(&"cam0".to_string()))
        })
    };
    wait_for(
        "tracks from both cameras",
        Duration::from_secs(40),
        &both_seen,
    );

    // Camera B's server dies (the rig gets a new one on the same port later).
    rig.b.take().expect("cam1 server").stop();
    let killed = Instant::now();
    wait_for("camera_down for cam1", Duration::from_secs(10), &|| {
        rig.count(&|k| is_down(k, "cam1")) >= 1
    });
    std::thread::sleep(Duration::from_secs(3));
    // Tracks kept flowing from camera A during the outage: ticks at about the processing rate.
    let during: Vec<TracksMessage> = tracks
        .lock()
        .expect("lock")
        .iter()
        .filter(|(at, _)| *at > killed + Duration::from_secs(1))
        .map(|(_, m)| m.clone())
        .collect();
    let span = killed.elapsed().as_secs_f64() - 1.0;
    println!(
        "{} tracks messages in the {span:.1} s after the outage began",
        during.len()
    );
    assert!(
        during.len() as f64 >= 5.0 * span,
        "{} messages in {span:.1} s",
        during.len()
    );
    assert!(during.iter().any(|m| {
        m.tracks
            .iter()
            .any(|t| t.cameras == vec!["cam0".to_string()])
    }));

    // It comes back on the same port: camera_up.
    rig.b = Some(pets_server(b_port));
    wait_for("camera_up for cam1", Duration::from_secs(25), &|| {
        rig.count(&|k| is_up(k, "cam1")) >= 1
    });
    wait_for("tracks from cam1 again", Duration::from_secs(20), &|| {
        tracks
            .lock()
            .expect("lock")
            .iter()
            .rev()
            .take(50)
            .any(|(_, m)| {
                m.tracks
                    .iter()
                    .any(|t| t.cameras.contains(&"cam1".to_string()))
            })
    });
    println!(
        "events: {:?}",
        rig.events
            .lock()
            .expect("lock")
            .iter()
            .map(|e| e.kind.key())
            .collect::<Vec<_>>()
    );
    let summary = rig.finish();
    assert!(summary.ticks > 50);
}

#[test]
fn a_frozen_camera_is_reported_down_and_up_while_tracks_keep_flowing() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rig = Rig::start();
    let tracks = rig.tracks.clone();
    let valve = |drop: bool| {
        rig.b
            .as_ref()
            .and_then(|b| b.element("valve"))
            .expect("valve")
            .set_property("drop", drop)
    };
    wait_for("tracks messages", Duration::from_secs(40), &|| {
        tracks.lock().expect("lock").len() > 20
    });
    // Freeze cam1's server: no EOS, no error, just silence -> stalled after the 3 s watchdog.
    valve(true);
    let frozen = Instant::now();
    wait_for(
        "camera_down for the frozen cam1",
        Duration::from_secs(10),
        &|| rig.count(&|k| is_down(k, "cam1")) >= 1,
    );
    let after = frozen.elapsed().as_secs_f64();
    let flowed = tracks
        .lock()
        .expect("lock")
        .iter()
        .filter(|(t, _)| *t > frozen + Duration::from_secs(1))
        .count();
    println!("frozen cam1 reported down after {after:.1} s; {flowed} tracks messages meanwhile");
    assert!(
        flowed as f64 >= 5.0 * (after - 1.0),
        "tracks stopped during the freeze"
    );
    valve(false);
    wait_for("camera_up after the thaw", Duration::from_secs(30), &|| {
        rig.count(&|k| is_up(k, "cam1")) >= 1
    });
    assert_eq!(
        rig.count(&|k| is_down(k, "cam0")),
        0,
        "the healthy camera was never down"
    );
    rig.finish();
}

/// The PETS store with one camera per (id, RTSP URL), the sources written into the config.
fn config_with(path: &std::path::Path, cameras: &[(&str, String)]) {
    let repo = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..");
    let text =
        std::fs::read_to_string(repo.join("calibration/pets2009-s2l1.toml")).expect("config");
    let (head, cam) = text.split_once("[[cameras]]").expect("a camera");
    let mut out = head.to_string();
    for (id, url) in cameras {
        let c = cam
            .replace("id = \"cam0\"", &format!("id = \"{id}\""))
            .replace(
                "source = \"${WALKOUT_SHARED}/data/pets2009/vtest.avi\"",
                &format!("source = \"{url}\""),
            );
        out.push_str(&format!("[[cameras]]{c}\n"));
    }
    std::fs::write(path, out).expect("write config");
}

#[test]
fn a_reload_adds_and_removes_cameras_without_restarting_the_others() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (a, b, c) = (pets_server(0), pets_server(0), pets_server(0));
    let config = std::env::temp_dir().join(format!("walkout-reload-{}.toml", std::process::id()));
    config_with(&config, &[("cam0", a.url()), ("cam1", b.url())]);
    let reload = Arc::new(AtomicBool::new(false));
    let daemon = common::start(
        config.clone(),
        DaemonInput::Cameras {
            sources: HashMap::new(),
        },
        |o| o.reload = reload.clone(),
    );
    let sub = daemon.client("pets2009-s2l1");
    let tracks: Arc<Mutex<Vec<(Instant, TracksMessage)>>> = Arc::default();
    let health: Arc<Mutex<Vec<(Instant, Health)>>> = Arc::default();
    let (t, h) = (tracks.clone(), health.clone());
    sub.subscribe::<TracksMessage, _>("tracks", move |_, m| {
        t.lock().expect("lock").push((Instant::now(), m))
    })
    .expect("subscribe tracks");
    sub.subscribe::<Health, _>("health", move |_, m| {
        h.lock().expect("lock").push((Instant::now(), m))
    })
    .expect("subscribe health");
    let seen = |cam: &str, since: Instant| {
        tracks.lock().expect("lock").iter().any(|(at, m)| {
            *at > since && m.tracks.iter().any(|t| t.cameras.iter().any(|c| c == cam))
        })
    };
    let t0 = Instant::now();
    wait_for(
        "tracks from cam0 and cam1",
        Duration::from_secs(40),
        &|| seen("cam0", t0) && seen("cam1", t0),
    );
    wait_for("health", Duration::from_secs(5), &|| {
        health
            .lock()
            .expect("lock")
            .iter()
            .any(|(_, h)| h.cameras.iter().any(|c| c.camera == "cam0" && c.frames > 0))
    });
    let cam0_before = health
        .lock()
        .expect("lock")
        .last()
        .and_then(|(_, h)| h.cameras.iter().find(|c| c.camera == "cam0").cloned())
        .expect("cam0 in health");

    // cam1 removed, cam2 added, cam0 untouched; then SIGHUP's flag.
    config_with(&config, &[("cam0", a.url()), ("cam2", c.url())]);
    let reloaded = Instant::now();
    reload.store(true, std::sync::atomic::Ordering::Relaxed);
    let ids_of = |h: &Health| {
        h.cameras
            .iter()
            .map(|c| c.camera.clone())
            .collect::<Vec<_>>()
    };
    wait_for("health with cam0 and cam2", Duration::from_secs(5), &|| {
        health
            .lock()
            .expect("lock")
            .iter()
            .any(|(at, h)| *at > reloaded && ids_of(h) == ["cam0", "cam2"])
    });
    wait_for("tracks from cam2", Duration::from_secs(30), &|| {
        seen("cam2", reloaded)
    });
    std::thread::sleep(Duration::from_secs(2));
    // No cam1 tracks once the tracks of the old set have passed (a tick in flight at most).
    let late_cam1 = tracks.lock().expect("lock").iter().any(|(at, m)| {
        *at > reloaded + Duration::from_secs(1)
            && m.tracks
                .iter()
                .any(|t| t.cameras.iter().any(|c| c == "cam1"))
    });
    assert!(!late_cam1, "cam1 still seen after it was removed");
    // cam0 was never restarted: no reconnects, its frame count went on from where it was.
    let cam0_after = health
        .lock()
        .expect("lock")
        .last()
        .and_then(|(_, h)| h.cameras.iter().find(|c| c.camera == "cam0").cloned())
        .expect("cam0 in health");
    println!(
        "cam0 before: {} frames, {} reconnects; after: {} frames, {} reconnects",
        cam0_before.frames, cam0_before.reconnects, cam0_after.frames, cam0_after.reconnects
    );
    assert_eq!(cam0_after.reconnects, 0);
    assert_eq!(cam0_after.state, walkout_types::CameraState::Streaming);
    assert!(cam0_after.frames > cam0_before.frames);
    // A restarted camera would count from 0 again: cam0's count never went down.
    let cam0_counts: Vec<u64> = health
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|(_, h)| h.cameras.iter().find(|c| c.camera == "cam0"))
        .map(|c| c.frames)
        .collect();
    assert!(
        cam0_counts.windows(2).all(|w| w[1] >= w[0]),
        "{cam0_counts:?}"
    );
    // The tracker went on: a track id of the last message before the reload is still published.
    let (before, after): (Vec<_>, Vec<_>) = tracks
        .lock()
        .expect("lock")
        .iter()
        .map(|(at, m)| (*at, m.tracks.iter().map(|t| t.id).collect::<Vec<_>>()))
        .partition(|(at, _)| *at < reloaded);
    // (A tick can see nobody: the ids of the last five messages before it.)
    assert!(!before.is_empty(), "tracks before");
    let last_ids: Vec<u64> = before
        .iter()
        .rev()
        .take(5)
        .flat_map(|(_, ids)| ids.iter().copied())
        .collect();
    assert!(
        after
            .iter()
            .take(10)
            .any(|(_, ids)| ids.iter().any(|id| last_ids.contains(id))),
        "no track survived the reload: {last_ids:?} then {:?}",
        after.iter().take(10).map(|(_, i)| i).collect::<Vec<_>>()
    );

    // A config that does not load is refused whole: the running cameras go on.
    std::fs::write(&config, "this is = = not toml").expect("write");
    let refused = Instant::now();
    reload.store(true, std::sync::atomic::Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(3));
    assert!(seen("cam2", refused + Duration::from_secs(1)));
    assert!(seen("cam0", refused) || seen("cam2", refused));

    let summary = daemon.finish();
    assert_eq!((summary.reloads, summary.reload_errors), (1, 1));
    sub.close();
    for s in [a, b, c] {
        s.stop();
    }
    let _ = std::fs::remove_file(&config);
}
