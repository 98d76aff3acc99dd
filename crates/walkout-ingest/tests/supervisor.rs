//! The camera supervisor on real GStreamer sources: end of stream -> reconnect, a frozen source
//! -> stalled, a configuration error -> failed without retries, a slow consumer -> drops.

use std::time::{Duration, Instant};

use walkout_ingest::queue;
use walkout_ingest::source::{SourceParams, templates};
use walkout_ingest::supervisor::{Supervisor, SupervisorConfig};
use walkout_types::CameraState;

fn fast() -> SupervisorConfig {
    SupervisorConfig {
        watchdog: Duration::from_millis(1500),
        backoff_initial: Duration::from_millis(200),
        backoff_max: Duration::from_secs(1),
        jitter: 0.2,
    }
}

fn wait_for(
    sup: &Supervisor,
    limit: Duration,
    what: &str,
    cond: impl Fn(&walkout_ingest::supervisor::CameraStatus) -> bool,
) {
    let start = Instant::now();
    loop {
        let s = sup.status();
        if cond(&s) {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{what} not reached in {limit:?}: {s:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A short H.264 Matroska clip (10 frames), made with GStreamer.
fn short_clip() -> String {
    use gstreamer::prelude::*;
    walkout_ingest::source::init().expect("gst");
    let path = std::env::temp_dir().join(format!("walkout-clip-{}.mkv", std::process::id()));
    let desc = format!(
        "videotestsrc num-buffers=10 ! video/x-raw,width=64,height=48,framerate=30/1 ! x264enc ! matroskamux ! filesink location={}",
        path.display()
    );
    let p = gstreamer::parse::launch(&desc).expect("encoder pipeline");
    p.set_state(gstreamer::State::Playing).expect("play");
    let bus = p.bus().expect("bus");
    bus.timed_pop_filtered(
        gstreamer::ClockTime::from_seconds(20),
        &[gstreamer::MessageType::Eos, gstreamer::MessageType::Error],
    )
    .expect("clip written");
    p.set_state(gstreamer::State::Null).expect("stop");
    path.display().to_string()
}

#[test]
fn end_of_stream_reconnects_and_frames_resume() {
    let (tx, rx) = queue::bounded(64);
    let params = SourceParams {
        location: short_clip(),
        latency_ms: 0,
        live: false,
    };
    let sup = Supervisor::spawn("cam0", templates::FILE, params, fast(), tx);
    wait_for(&sup, Duration::from_secs(20), "two reconnects", |s| {
        s.reconnects >= 2 && s.frames >= 30
    });
    let s = sup.status();
    assert!(
        s.transitions
            .iter()
            .any(|(st, r)| *st == CameraState::BackingOff && r.as_deref() == Some("end of stream"))
    );
    assert!(
        s.transitions
            .iter()
            .any(|(st, _)| *st == CameraState::Streaming)
    );
    let mut seqs = Vec::new();
    while let Some(f) = rx.recv_timeout(Duration::from_millis(10)) {
        seqs.push(f.seq);
    }
    // Every reconnect restarts the stream at frame 0.
    assert!(seqs.iter().filter(|s| **s == 0).count() >= 2, "{seqs:?}");
    sup.stop();
}

#[test]
fn a_frozen_source_is_detected_as_stalled() {
    let (tx, _rx) = queue::bounded(4);
    // One frame, then nothing for ten seconds (and no end of stream).
    let template = "videotestsrc is-live=true ! video/x-raw,format=I420,width=64,height=48,framerate=1/10 ! appsink name=sink sync=false max-buffers={max_buffers} drop={drop}";
    let params = SourceParams {
        location: String::new(),
        latency_ms: 0,
        live: true,
    };
    let start = Instant::now();
    let sup = Supervisor::spawn("cam1", template, params, fast(), tx);
    wait_for(&sup, Duration::from_secs(8), "stalled", |s| {
        s.transitions
            .iter()
            .any(|(st, _)| *st == CameraState::Stalled)
    });
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1400) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert!(sup.status().frames >= 1);
    sup.stop();
}

#[test]
fn a_configuration_error_fails_without_retrying() {
    let (tx, _rx) = queue::bounded(4);
    let params = SourceParams {
        location: "x".into(),
        latency_ms: 0,
        live: true,
    };
    let sup = Supervisor::spawn("cam2", "nosuchsrc ! appsink name=sink", params, fast(), tx);
    wait_for(&sup, Duration::from_secs(5), "failed", |s| {
        s.state == CameraState::Failed
    });
    std::thread::sleep(Duration::from_millis(800));
    let s = sup.status();
    assert_eq!(s.state, CameraState::Failed);
    assert_eq!(s.reconnects, 0, "a configuration error must not be retried");
    assert!(
        s.reason.as_deref().is_some_and(|r| r.contains("cam2")),
        "{s:?}"
    );
    let h = s.health();
    assert_eq!(h.state, CameraState::Failed);
    sup.stop();
}

#[test]
fn a_slow_consumer_costs_drops_not_latency() {
    let (tx, rx) = queue::bounded(2);
    let template = "videotestsrc is-live=true ! video/x-raw,format=I420,width=64,height=48,framerate=30/1 ! appsink name=sink sync=false max-buffers={max_buffers} drop={drop}";
    let params = SourceParams {
        location: String::new(),
        latency_ms: 0,
        live: true,
    };
    let sup = Supervisor::spawn("cam3", template, params, fast(), tx);
    wait_for(&sup, Duration::from_secs(10), "frames flowing", |s| {
        s.frames >= 20
    });
    let s = sup.status();
    // Nobody read: the queue holds the 2 newest frames, the rest were dropped and counted.
    assert_eq!(rx.stats().depth, 2);
    assert!(s.drops >= s.frames - 2, "{s:?}");
    assert!(rx.stats().oldest_age < Duration::from_millis(500));
    assert!(s.fps > 10.0, "{s:?}");
    sup.stop();
}
