//! Cameras over RTSP against a real RTSP server started in-process (gstreamer-rtsp-server on
//! 127.0.0.1, port chosen by the OS) streaming an H.264 test pattern: frame rate and timestamps,
//! a server that goes away and comes back, a frozen server, and two cameras where one dies.

use std::time::{Duration, Instant};

use gstreamer::prelude::*;
use walkout_ingest::queue;
use walkout_ingest::rtsp_server::RtspServer;
use walkout_ingest::source::{SourceParams, templates};
use walkout_ingest::supervisor::{CameraStatus, Supervisor, SupervisorConfig};
use walkout_types::{CameraState, TimeSource};

/// The product's in-process RTSP server at `/cam`, with the test's conveniences.
struct Server {
    inner: RtspServer,
    port: u16,
}

impl Server {
    fn start(port: u16) -> Server {
        Self::start_with(
            port,
            "( videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! valve name=valve \
             ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=5 ! rtph264pay name=pay0 pt=96 )",
        )
    }

    fn start_with(port: u16, launch: &str) -> Server {
        let inner = RtspServer::start(port, "cam", launch).expect("RTSP server");
        Server {
            port: inner.port(),
            inner,
        }
    }

    fn url(&self) -> String {
        self.inner.url()
    }

    /// `drop=true` on the served pipeline's valve freezes the stream without closing it.
    fn freeze(&self, frozen: bool) {
        self.inner
            .element("valve")
            .expect("a client is connected")
            .set_property("drop", frozen);
    }

    /// Closes every client and stops listening.
    fn kill(self) {
        self.inner.stop();
    }
}

fn cfg() -> SupervisorConfig {
    SupervisorConfig {
        watchdog: Duration::from_millis(1500),
        backoff_initial: Duration::from_millis(200),
        backoff_max: Duration::from_millis(800),
        jitter: 0.2,
    }
}

fn params(url: String) -> SourceParams {
    SourceParams {
        location: url,
        latency_ms: 100,
        live: true,
    }
}

fn camera(
    name: &str,
    template: &'static str,
    url: String,
    frames: queue::Sender<walkout_ingest::source::Frame>,
) -> Supervisor {
    Supervisor::spawn(name, template, params(url), cfg(), frames)
}

/// Waits until the camera streams, then measures its frame rate over three seconds.
fn measured_fps(sup: &Supervisor) -> f64 {
    wait_for(sup, Duration::from_secs(20), "streaming", |s| s.frames >= 5);
    let before = sup.status().frames;
    std::thread::sleep(Duration::from_secs(3));
    (sup.status().frames - before) as f64 / 3.0
}

fn wait_for(
    sup: &Supervisor,
    limit: Duration,
    what: &str,
    cond: impl Fn(&CameraStatus) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let s = sup.status();
        if cond(&s) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{what} not reached in {limit:?}: {s:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn frames_arrive_at_the_source_rate_with_increasing_timestamps() {
    let server = Server::start(0);
    let (tx, rx) = queue::bounded(256);
    let sup = camera("cam0", templates::RTSP_H264, server.url(), tx);
    let fps = measured_fps(&sup);
    assert!(
        (11.0..=19.0).contains(&fps),
        "{fps} fps from a 15 fps source"
    );
    // Until the first RTCP sender report, capture time is arrival minus latency; from then on
    // it is the server's NTP clock (the same host clock here, so both are close to now).
    let unix_now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64()
    };
    let mut last = f64::NEG_INFINITY;
    // Frames queued while measuring are seconds old: check their order only.
    while let Some(f) = rx.recv_timeout(Duration::from_millis(1)) {
        assert!(f.time_s > last, "time {} after {last}", f.time_s);
        last = f.time_s;
    }
    let (mut n, mut ntp) = (0, Vec::new());
    let start = Instant::now();
    while ntp.len() < 45 && start.elapsed() < Duration::from_secs(15) {
        let Some(f) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        // Increasing within one time source (the switch to NTP may step back by the latency).
        assert!(
            f.time_s > last || (f.time_source == TimeSource::Ntp && ntp.is_empty()),
            "time {} after {last}",
            f.time_s
        );
        assert!(
            (f.time_s - unix_now()).abs() < 1.0,
            "capture time {} ({:?}) is not now {}",
            f.time_s,
            f.time_source,
            unix_now()
        );
        assert_eq!((f.width, f.height), (160, 120));
        match f.time_source {
            TimeSource::Ntp => ntp.push(f.time_s),
            TimeSource::Arrival => assert!(ntp.is_empty(), "back to arrival time after NTP"),
            other => panic!("live camera with time source {other:?}"),
        }
        last = f.time_s;
        n += 1;
    }
    assert!(n >= 40);
    assert!(
        ntp.len() >= 45,
        "{} frames with NTP capture time from RTCP sender reports",
        ntp.len()
    );
    // NTP capture times step by the source's frame interval (1/15 s).
    let mut steps: Vec<f64> = ntp.windows(2).map(|w| w[1] - w[0]).collect();
    steps.sort_by(f64::total_cmp);
    let median = steps[steps.len() / 2];
    assert!(
        (median - 1.0 / 15.0).abs() < 0.005,
        "median NTP step {median} s"
    );
    sup.stop();
    server.kill();
}

#[test]
fn a_killed_server_is_reconnected_within_two_seconds_of_its_return() {
    let server = Server::start(0);
    let port = server.port;
    let (tx, _rx) = queue::bounded(8);
    let sup = camera("cam1", templates::RTSP_H264, server.url(), tx);
    wait_for(&sup, Duration::from_secs(20), "streaming", |s| {
        s.state == CameraState::Streaming && s.frames > 10
    });
    server.kill();
    wait_for(&sup, Duration::from_secs(10), "disconnect noticed", |s| {
        s.state != CameraState::Streaming
    });
    std::thread::sleep(Duration::from_secs(2));
    let frames_during_outage = sup.status().frames;
    let back = Server::start(port);
    let took = wait_for(&sup, Duration::from_secs(10), "frames resume", |s| {
        s.frames > frames_during_outage + 5
    });
    assert!(
        took < Duration::from_secs(2) + Duration::from_millis(1500),
        "reconnect took {took:?}"
    );
    let s = sup.status();
    assert!(s.reconnects >= 1, "{s:?}");
    assert_eq!(s.state, CameraState::Streaming);
    sup.stop();
    back.kill();
}

#[test]
fn a_frozen_server_is_stalled_then_recovers() {
    let server = Server::start(0);
    let (tx, _rx) = queue::bounded(8);
    let sup = camera("cam2", templates::RTSP_H264, server.url(), tx);
    wait_for(&sup, Duration::from_secs(20), "streaming", |s| {
        s.frames > 10
    });
    server.freeze(true);
    let took = wait_for(&sup, Duration::from_secs(10), "stalled", |s| {
        s.transitions
            .iter()
            .any(|(st, _)| *st == CameraState::Stalled)
    });
    assert!(
        took < cfg().watchdog + Duration::from_secs(2),
        "stall detected after {took:?}"
    );
    server.freeze(false);
    let f = sup.status().frames;
    wait_for(&sup, Duration::from_secs(15), "recovered", |s| {
        s.state == CameraState::Streaming && s.frames > f + 5
    });
    sup.stop();
    server.kill();
}

#[test]
fn one_camera_dying_does_not_slow_the_other() {
    let a = Server::start(0);
    let b = Server::start(0);
    let (txa, _ra) = queue::bounded(8);
    let (txb, _rb) = queue::bounded(8);
    let sa = camera("camA", templates::RTSP_H264, a.url(), txa);
    let sb = camera("camB", templates::RTSP_H264, b.url(), txb);
    wait_for(&sa, Duration::from_secs(20), "A streaming", |s| {
        s.frames > 10
    });
    wait_for(&sb, Duration::from_secs(20), "B streaming", |s| {
        s.frames > 10
    });
    b.kill();
    let before = sa.status().frames;
    std::thread::sleep(Duration::from_secs(3));
    let fps = (sa.status().frames - before) as f64 / 3.0;
    assert!(fps >= 11.0, "camera A fell to {fps} fps while B was down");
    assert!(
        sa.status()
            .last_frame
            .is_some_and(|t| t.elapsed() < Duration::from_millis(500))
    );
    assert_ne!(sb.status().state, CameraState::Streaming);
    sa.stop();
    sb.stop();
    a.kill();
}

#[test]
fn unreachable_hosts_and_wrong_paths_back_off_with_a_named_reason() {
    let server = Server::start(0);
    // A closed port on this machine, and a path the server does not serve.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let cases = [
        ("camX", format!("rtsp://127.0.0.1:{closed}/cam")),
        (
            "camY",
            format!("rtsp://127.0.0.1:{}/nosuchpath", server.port),
        ),
    ];
    for (cam, url) in cases {
        let (tx, _rx) = queue::bounded(4);
        let sup = camera(cam, templates::RTSP_H264, url.clone(), tx);
        wait_for(&sup, Duration::from_secs(15), "backing off", |s| {
            s.state == CameraState::BackingOff
        });
        std::thread::sleep(Duration::from_secs(2));
        let s = sup.status();
        assert_eq!(s.frames, 0);
        assert!(
            s.reason.as_deref().is_some_and(|r| r.contains(cam)),
            "{cam} {url}: {s:?}"
        );
        // Jittered doubling backoff (0.2 s up to 0.8 s): a handful of attempts, not a storm.
        assert!(
            s.reconnects <= 6,
            "{cam}: {} reconnects in ~2 s",
            s.reconnects
        );
        sup.stop();
    }
    server.kill();
}

#[test]
fn real_footage_re_encoded_on_the_fly_arrives_at_its_rate() {
    // PETS 2009 S2L1 View_001 (7 fps footage, 10 fps in its header), played in real time.
    let video = walkout_types::setup::shared_root().join("data/pets2009/vtest.avi");
    assert!(
        video.is_file(),
        "{} missing: run scripts/setup",
        video.display()
    );
    let launch = format!(
        "( filesrc location=\"{}\" ! decodebin ! videoconvert ! videoscale ! video/x-raw,width=384,height=288 \
         ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! rtph264pay name=pay0 pt=96 )",
        video.display()
    );
    let server = Server::start_with(0, &launch);
    let (tx, rx) = queue::bounded(256);
    let sup = camera("pets", templates::RTSP_H264, server.url(), tx);
    let fps = measured_fps(&sup);
    assert!(
        (7.0..=13.0).contains(&fps),
        "{fps} fps from a 10 fps stream"
    );
    let mut last = f64::NEG_INFINITY;
    while let Some(f) = rx.recv_timeout(Duration::from_millis(10)) {
        assert_eq!((f.width, f.height), (384, 288));
        assert!(f.time_s > last);
        last = f.time_s;
    }
    sup.stop();
    server.kill();
}

#[test]
fn an_h265_camera_streams_through_its_template() {
    let server = Server::start_with(
        0,
        "( videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 \
         ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=5 ! rtph265pay name=pay0 pt=96 )",
    );
    let (tx, rx) = queue::bounded(64);
    let sup = camera("h265", templates::RTSP_H265, server.url(), tx);
    wait_for(&sup, Duration::from_secs(20), "streaming", |s| {
        s.frames >= 10
    });
    let f = rx.recv_timeout(Duration::from_secs(1)).expect("a frame");
    assert_eq!((f.width, f.height), (160, 120));
    sup.stop();
    server.kill();
}

#[test]
fn an_audio_only_stream_fails_as_not_video_without_retrying() {
    let server = Server::start_with(
        0,
        "( audiotestsrc is-live=true ! audio/x-raw,rate=8000,channels=1 ! rtpL16pay name=pay0 pt=96 )",
    );
    let (tx, _rx) = queue::bounded(4);
    let sup = camera("camA", templates::RTSP_H264, server.url(), tx);
    wait_for(&sup, Duration::from_secs(15), "failed", |s| {
        s.state == CameraState::Failed
    });
    std::thread::sleep(Duration::from_secs(1));
    let s = sup.status();
    assert_eq!(s.state, CameraState::Failed);
    assert_eq!((s.frames, s.reconnects), (0, 0), "no retry storm: {s:?}");
    let reason = s.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("camA") && reason.contains("no video") && reason.contains("audio"),
        "{reason}"
    );
    sup.stop();
    server.kill();
}

#[test]
fn a_recording_survives_an_outage_and_replays_its_frames_and_times() {
    use walkout_ingest::record::{self, Pace, Player, RecordParams, Recorder, Repeat};
    let server = Server::start(0);
    let port = server.port;
    let dir = std::env::temp_dir().join(format!("walkout-rec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rec = Recorder::spawn(
        "cam0",
        record::record_templates::RTSP_H264,
        RecordParams {
            location: server.url(),
            latency_ms: 100,
            segment: Duration::from_secs(1),
            dir: dir.join("cam0"),
        },
        cfg(),
    )
    .expect("recorder");
    std::thread::sleep(Duration::from_secs(4));
    server.kill();
    std::thread::sleep(Duration::from_secs(2));
    let server = Server::start(port);
    std::thread::sleep(Duration::from_secs(4));
    let status = rec.stop();
    server.kill();
    let segments = record::read_segments(&dir.join("cam0")).expect("index");
    let recorded: u64 = segments.iter().map(|s| s.frames).sum();
    println!("{status:?}\n{segments:#?}");
    // One outage: a handful of backed-off attempts while the server is down, not a storm.
    assert!((1..=6).contains(&status.reconnects), "{status:?}");
    assert!(segments.len() >= 4, "1 s segments over ~8 s: {segments:?}");
    assert!(
        (80..=150).contains(&recorded),
        "{recorded} frames recorded in ~8 s of 15 fps"
    );
    // The outage is a gap of about 2 s between consecutive segments.
    let gaps: Vec<f64> = segments
        .windows(2)
        .map(|w| w[1].start_unix_s - (w[0].start_unix_s + w[0].duration_s))
        .collect();
    assert!(
        gaps.iter().any(|&g| g > 1.0),
        "no gap for the outage: {gaps:?}"
    );
    assert!(gaps.iter().filter(|&&g| g > 0.5).count() == 1, "{gaps:?}");

    // Replayed as fast as possible: the same frames, at the recorded times.
    let (tx, rx) = queue::bounded(16);
    let player = Player::start(
        &dir,
        &["cam0".to_string()],
        vec![tx],
        Pace::Fast,
        Repeat::Once,
    )
    .expect("play");
    let mut times = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Some(f) => {
                assert_eq!(f.time_source, TimeSource::Pts);
                times.push(f.time_s);
            }
            None if rx.is_finished() => break,
            None => {}
        }
    }
    let sent = player.join();
    assert_eq!(sent.len(), 1);
    let sent = *sent[0].as_ref().expect("replay ok");
    assert_eq!(sent, times.len() as u64);
    let diff = (sent as f64 - recorded as f64).abs() / recorded as f64;
    assert!(diff <= 0.01, "replayed {sent} of {recorded} frames");
    // Every segment's first and last frames replay at its recorded times (within a frame).
    let interval = 1.0 / 15.0;
    let mut k = 0;
    for s in &segments {
        let seg = &times[k..k + s.frames as usize];
        assert!(
            (seg[0] - s.start_unix_s).abs() < interval,
            "{s:?}: {}",
            seg[0]
        );
        let last = seg[seg.len() - 1];
        assert!(
            (last - (s.start_unix_s + s.duration_s)).abs() < interval,
            "{s:?}: {last}"
        );
        assert!(seg.windows(2).all(|w| w[1] > w[0]));
        k += s.frames as usize;
    }

    // Played over and over, time keeps increasing: pass 2 starts one span (+0.1 s) later.
    let (tx, rx) = queue::bounded(16);
    let player = Player::start(
        &dir,
        &["cam0".to_string()],
        vec![tx],
        Pace::Fast,
        Repeat::Forever,
    )
    .expect("play");
    let mut looped = Vec::new();
    while looped.len() < times.len() + 5 {
        if let Some(f) = rx.recv_timeout(Duration::from_millis(500)) {
            looped.push(f.time_s);
        }
    }
    drop(player);
    assert!(
        looped.windows(2).all(|w| w[1] > w[0]),
        "time goes back between passes"
    );
    let span_all = segments
        .last()
        .map_or(0.0, |s| s.start_unix_s + s.duration_s)
        - segments[0].start_unix_s;
    let second = looped[times.len()] - looped[0];
    assert!(
        (second - (span_all + 0.1)).abs() < 1e-6,
        "pass 2 starts {second} s after pass 1"
    );

    // In real time the replay takes as long as the recording spanned, outage included.
    let span = segments
        .last()
        .map_or(0.0, |s| s.start_unix_s + s.duration_s)
        - segments[0].start_unix_s;
    let (tx, rx) = queue::bounded(16);
    let start = Instant::now();
    let player = Player::start(
        &dir,
        &["cam0".to_string()],
        vec![tx],
        Pace::RealTime,
        Repeat::Once,
    )
    .expect("play");
    let mut n = 0;
    while !rx.is_finished() || rx.recv_timeout(Duration::from_millis(1)).is_some() {
        if rx.recv_timeout(Duration::from_millis(50)).is_some() {
            n += 1;
        }
    }
    let took = start.elapsed().as_secs_f64();
    let _ = player.join();
    assert!(n as f64 >= recorded as f64 * 0.99, "{n} of {recorded}");
    assert!(
        (took - span).abs() < 0.15 * span + 0.3,
        "real-time replay took {took:.2} s for a {span:.2} s recording"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
