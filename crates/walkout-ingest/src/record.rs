//! Recording cameras to segmented MKV without decoding, and replaying a recording as the cameras
//! of a store.
//!
//! Layout of a recording directory: one folder per camera id holding `seg-NNNNN.mkv` files and
//! `segments.csv` (`file,start_unix_s,frames,duration_s`): the capture time of each segment's first
//! frame on the store clock (Unix seconds), its frame count and the span from its first to its
//! last frame. A camera outage ends a segment; the next starts after the reconnect, so the outage
//! is a gap between segments' times. Within a segment, frame times are the stream's PTS.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use walkout_types::{CameraState, TimeSource};

use crate::queue;
use crate::source::{Frame, IngestError, Source, SourceParams, templates};
use crate::supervisor::{SupervisorConfig, backoff};

/// Recording templates embedded from `pipelines/`.
pub mod record_templates {
    pub const FILE: &str = include_str!("../../../pipelines/record-file.pipeline");
    pub const RTSP_H264: &str = include_str!("../../../pipelines/record-rtsp-h264.pipeline");
    pub const RTSP_H265: &str = include_str!("../../../pipelines/record-rtsp-h265.pipeline");

    /// The recording template matching a camera's live template name (or source URL).
    pub fn for_camera(pipeline: Option<&str>, source: &str) -> &'static str {
        match pipeline {
            Some("rtsp-h265") => RTSP_H265,
            Some("rtsp-h264") => RTSP_H264,
            Some("file") => FILE,
            _ if source.starts_with("rtsp://") || source.starts_with("rtsps://") => RTSP_H264,
            _ => FILE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("recording {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("recording {path}, line {line}: {message}")]
    Index {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("recording {dir}: no segments for camera {camera}")]
    Empty { dir: PathBuf, camera: String },
}

/// One recorded segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub file: String,
    pub start_unix_s: f64,
    pub frames: u64,
    pub duration_s: f64,
}

const INDEX: &str = "segments.csv";

/// Reads a camera folder's `segments.csv`.
pub fn read_segments(dir: &Path) -> Result<Vec<Segment>, RecordError> {
    let path = dir.join(INDEX);
    let text = std::fs::read_to_string(&path).map_err(|source| RecordError::Io {
        path: path.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| RecordError::Index {
            path: path.clone(),
            line: i + 1,
            message,
        };
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 4 {
            return Err(bad(format!(
                "expected 4 fields file,start_unix_s,frames,duration_s, found {}",
                f.len()
            )));
        }
        let num = |k: usize, name: &str| {
            f[k].trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(format!("{name} `{}` is not a non-negative number", f[k])))
        };
        out.push(Segment {
            file: f[0].trim().to_string(),
            start_unix_s: num(1, "start_unix_s")?,
            frames: num(2, "frames")? as u64,
            duration_s: num(3, "duration_s")?,
        });
    }
    Ok(out)
}

/// Parameters of one camera's recorder.
#[derive(Debug, Clone)]
pub struct RecordParams {
    pub location: String,
    pub latency_ms: u32,
    /// Longest segment.
    pub segment: Duration,
    /// The camera's folder in the recording.
    pub dir: PathBuf,
}

/// What a recorder reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordStatus {
    pub state: Option<CameraState>,
    pub reason: Option<String>,
    pub frames: u64,
    pub segments: u64,
    pub reconnects: u64,
}

/// Frames seen entering the muxer in the current segment series: (PTS ns, Unix time of the
/// frame), and the segments opened so far (running time ns at opening, file name).
#[derive(Default)]
struct Progress {
    frames: Vec<(u64, f64)>,
    opened: Vec<(u64, String)>,
}

/// A running recorder: one camera's compressed stream into segments, reconnected with backoff.
pub struct Recorder {
    status: Arc<Mutex<RecordStatus>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    pub fn spawn(
        camera: &str,
        template: &'static str,
        params: RecordParams,
        cfg: SupervisorConfig,
    ) -> Result<Recorder, RecordError> {
        std::fs::create_dir_all(&params.dir).map_err(|source| RecordError::Io {
            path: params.dir.clone(),
            source,
        })?;
        let index = params.dir.join(INDEX);
        std::fs::write(&index, "file,start_unix_s,frames,duration_s\n").map_err(|source| {
            RecordError::Io {
                path: index.clone(),
                source,
            }
        })?;
        let status = Arc::new(Mutex::new(RecordStatus::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, cam) = (status.clone(), stop.clone(), camera.to_string());
        let thread = std::thread::Builder::new()
            .name(format!("record {camera}"))
            .spawn(move || record_loop(&cam, template, &params, &cfg, &s, &st))
            .ok();
        Ok(Recorder {
            status,
            stop,
            thread,
        })
    }

    pub fn status(&self) -> RecordStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Finishes the current segment cleanly and stops.
    pub fn stop(mut self) -> RecordStatus {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.status()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn set(status: &Mutex<RecordStatus>, camera: &str, state: CameraState, reason: Option<String>) {
    let mut s = status.lock().unwrap_or_else(|e| e.into_inner());
    if s.state != Some(state) || s.reason != reason {
        tracing::info!(camera, ?state, ?reason, "recorder state");
    }
    s.state = Some(state);
    s.reason = reason;
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn record_loop(
    camera: &str,
    template: &'static str,
    params: &RecordParams,
    cfg: &SupervisorConfig,
    status: &Mutex<RecordStatus>,
    stop: &AtomicBool,
) {
    let next_index = AtomicU64::new(0);
    let mut attempt = 0u32;
    let mut seed = camera.bytes().fold(0x51_7cc1_b727_220au64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let from_file = !template.trim_start().starts_with("rtspsrc");
    while !stop.load(Ordering::Relaxed) {
        set(status, camera, CameraState::Connecting, None);
        let reason = match record_once(camera, template, params, cfg, status, stop, &next_index) {
            Ok((None, _)) => break,
            // A file is recorded once: its end is the end of the recording.
            Ok((Some(_), frames)) if from_file && frames > 0 => {
                set(
                    status,
                    camera,
                    CameraState::Finished,
                    Some("end of file".into()),
                );
                return;
            }
            Ok((Some(reason), frames)) => {
                // Only a connection that delivered frames resets the backoff.
                if frames > 0 {
                    attempt = 0;
                }
                reason
            }
            Err(e @ (IngestError::Build { .. } | IngestError::NotPipeline { .. })) => {
                set(status, camera, CameraState::Failed, Some(e.to_string()));
                return;
            }
            Err(e) => e.to_string(),
        };
        if stop.load(Ordering::Relaxed) {
            break;
        }
        set(status, camera, CameraState::BackingOff, Some(reason));
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = backoff(cfg, attempt, (seed >> 11) as f64 / (1u64 << 53) as f64);
        attempt = attempt.saturating_add(1);
        let end = Instant::now() + wait;
        while Instant::now() < end && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
        status.lock().unwrap_or_else(|e| e.into_inner()).reconnects += 1;
    }
}

/// One connection: records until stopped (`None`), or until the stream ends, fails or stalls
/// (`Some(reason)`); also returns the frames recorded. Its segments are indexed at the end.
fn record_once(
    camera: &str,
    template: &str,
    params: &RecordParams,
    cfg: &SupervisorConfig,
    status: &Mutex<RecordStatus>,
    stop: &AtomicBool,
    next_index: &AtomicU64,
) -> Result<(Option<String>, u64), IngestError> {
    crate::source::init()?;
    let start_index = next_index.load(Ordering::Relaxed);
    let description = template
        .trim()
        .replace("{location}", &params.location.replace('"', "\\\""))
        .replace("{latency_ms}", &params.latency_ms.to_string())
        .replace(
            "{out}",
            &params
                .dir
                .join("seg-%05d.mkv")
                .to_string_lossy()
                .replace('"', "\\\""),
        )
        .replace("{segment_ns}", &params.segment.as_nanos().to_string())
        .replace("{start_index}", &start_index.to_string());
    let pipeline = crate::source::launch(camera, &description)?;
    let rec = pipeline.by_name("rec").ok_or_else(|| IngestError::NoSink {
        camera: camera.into(),
    })?;
    let progress = Arc::new(Mutex::new(Progress::default()));
    let live = description.starts_with("rtspsrc");
    let started_unix = unix_now();
    // Count frames entering the muxer (its sink pads appear when the parser links).
    let watch = {
        let progress = progress.clone();
        move |pad: &gst::Pad| {
            let progress = progress.clone();
            pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
                if let Some(pts) = info.buffer().and_then(|b| b.pts()) {
                    let now = if live { unix_now() } else { 0.0 };
                    progress
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .frames
                        .push((pts.nseconds(), now));
                }
                gst::PadProbeReturn::Ok
            });
        }
    };
    for pad in rec.sink_pads() {
        watch(&pad);
    }
    rec.connect_pad_added(move |_, pad| {
        if pad.direction() == gst::PadDirection::Sink {
            watch(pad);
        }
    });
    let bus = pipeline.bus().ok_or_else(|| IngestError::NoSink {
        camera: camera.into(),
    })?;
    if let Err(e) = pipeline.set_state(gst::State::Playing) {
        let _ = pipeline.set_state(gst::State::Null);
        return Err(IngestError::Start {
            camera: camera.into(),
            source: e,
        });
    }
    set(status, camera, CameraState::Streaming, None);
    let index = params.dir.join(INDEX);
    let mut last_count = 0usize;
    let mut last_progress = Instant::now();
    let mut finishing: Option<Instant> = None;
    let outcome: Option<String> = loop {
        if finishing.is_none() && stop.load(Ordering::Relaxed) {
            pipeline.send_event(gst::event::Eos::new());
            finishing = Some(Instant::now());
        }
        if finishing.is_some_and(|t| t.elapsed() > Duration::from_secs(3)) {
            break None;
        }
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(50)) else {
            let n = progress
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .frames
                .len();
            if n != last_count {
                last_count = n;
                last_progress = Instant::now();
            } else if finishing.is_none() && last_progress.elapsed() >= cfg.watchdog {
                break Some(format!("no frame for {:.1} s", cfg.watchdog.as_secs_f64()));
            }
            continue;
        };
        match msg.view() {
            gst::MessageView::Eos(_) => {
                break if finishing.is_some() {
                    None
                } else {
                    Some("end of stream".into())
                };
            }
            gst::MessageView::Error(err) => {
                break Some(format!(
                    "camera {camera}: {}: {}",
                    msg.src()
                        .map(|s| s.path_string().to_string())
                        .unwrap_or_default(),
                    err.error()
                ));
            }
            gst::MessageView::Element(el) => {
                let Some(s) = el.structure() else { continue };
                let location = s.get::<String>("location").ok();
                let running = s
                    .get::<gst::ClockTime>("running-time")
                    .map_or(0, |t| t.nseconds());
                if s.name() == "splitmuxsink-fragment-opened"
                    && let Some(loc) = location
                {
                    let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
                    p.opened.push((running, loc));
                    next_index.store(start_index + p.opened.len() as u64, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    };
    let _ = pipeline.set_state(gst::State::Null);
    // Index every segment of this connection from the frames that entered the muxer.
    let p = std::mem::take(&mut *progress.lock().unwrap_or_else(|e| e.into_inner()));
    let mut rows = String::new();
    let mut segments = 0;
    let mut frames_total = 0;
    for (k, (open_rt, loc)) in p.opened.iter().enumerate() {
        let end_rt = p.opened.get(k + 1).map_or(u64::MAX, |n| n.0);
        let frames: Vec<&(u64, f64)> = p
            .frames
            .iter()
            .filter(|(pts, _)| *pts >= *open_rt && *pts < end_rt)
            .collect();
        let (Some(first), Some(last)) = (frames.first(), frames.last()) else {
            let _ = std::fs::remove_file(loc);
            continue;
        };
        // Live: the arrival time of the segment's first frame; files: PTS from the start.
        let start = if live {
            first.1
        } else {
            started_unix + first.0 as f64 / 1e9
        };
        let file = Path::new(loc)
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        rows.push_str(&format!(
            "{file},{start:.6},{},{:.6}\n",
            frames.len(),
            (last.0.saturating_sub(first.0)) as f64 / 1e9
        ));
        segments += 1;
        frames_total += frames.len() as u64;
    }
    use std::io::Write;
    let written = std::fs::OpenOptions::new()
        .append(true)
        .open(&index)
        .and_then(|mut f| f.write_all(rows.as_bytes()));
    if let Err(e) = written {
        tracing::error!(camera, path = %index.display(), error = %e, "cannot write the segment index");
    }
    let mut s = status.lock().unwrap_or_else(|e| e.into_inner());
    s.segments += segments;
    s.frames += frames_total;
    Ok((outcome, p.frames.len() as u64))
}

/// How a recording is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// At the recorded rate, all cameras against one shared clock, so they stay in sync and
    /// outages replay as gaps.
    RealTime,
    /// As fast as the decoders go (benches); frames still carry their recorded times.
    Fast,
}

/// How often a recording is played: once, or over and over (soak tests), each pass's times
/// shifted by the recording's span so time keeps increasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    Once,
    Forever,
}

/// A recording directory played back as the cameras of a store: one thread per camera decodes
/// its segments in order (the `file` template) and sends frames, stamped with their recorded
/// capture times (`TimeSource::Pts`), to the camera's queue.
pub struct Player {
    threads: Vec<JoinHandle<Result<u64, IngestError>>>,
    stop: Arc<AtomicBool>,
}

impl Player {
    /// Starts replaying `cameras` (ids; each a folder of `dir`) into `queues` (same order).
    pub fn start(
        dir: &Path,
        cameras: &[String],
        queues: Vec<queue::Sender<Frame>>,
        pace: Pace,
        repeat: Repeat,
    ) -> Result<Player, RecordError> {
        let mut plans = Vec::new();
        for camera in cameras {
            let folder = dir.join(camera);
            let segments = read_segments(&folder)?;
            if segments.is_empty() {
                return Err(RecordError::Empty {
                    dir: dir.to_path_buf(),
                    camera: camera.clone(),
                });
            }
            plans.push((camera.clone(), folder, segments));
        }
        // The shared clock: the recording's earliest frame plays at `origin`.
        let t0 = plans
            .iter()
            .flat_map(|p| p.2.iter().map(|s| s.start_unix_s))
            .fold(f64::INFINITY, f64::min);
        let t1 = plans
            .iter()
            .flat_map(|p| p.2.iter().map(|s| s.start_unix_s + s.duration_s))
            .fold(f64::NEG_INFINITY, f64::max);
        // One pass lasts the span plus a frame interval's worth of slack.
        let pass_s = (t1 - t0).max(0.0) + 0.1;
        let origin = Instant::now() + Duration::from_millis(200);
        let stop = Arc::new(AtomicBool::new(false));
        let threads = plans
            .into_iter()
            .zip(queues)
            .map(|((camera, folder, segments), tx)| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut sent = 0;
                    let mut pass = 0u32;
                    let r = loop {
                        let shift = f64::from(pass) * pass_s;
                        match play_camera(
                            &camera, &folder, &segments, &tx, pace, t0, origin, shift, &stop,
                        ) {
                            Ok(n) => sent += n,
                            Err(e) => break Err(e),
                        }
                        pass += 1;
                        if repeat == Repeat::Once || stop.load(Ordering::Relaxed) {
                            break Ok(sent);
                        }
                    };
                    tx.close();
                    r
                })
            })
            .collect();
        Ok(Player { threads, stop })
    }

    /// Waits for every camera to finish; frames sent per camera.
    pub fn join(self) -> Vec<Result<u64, IngestError>> {
        let mut me = self;
        std::mem::take(&mut me.threads)
            .into_iter()
            .map(|t| {
                t.join().unwrap_or_else(|_| {
                    Err(IngestError::Format {
                        camera: "?".into(),
                        message: "replay thread panicked".into(),
                    })
                })
            })
            .collect()
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn play_camera(
    camera: &str,
    folder: &Path,
    segments: &[Segment],
    tx: &queue::Sender<Frame>,
    pace: Pace,
    t0: f64,
    origin: Instant,
    shift: f64,
    stop: &AtomicBool,
) -> Result<u64, IngestError> {
    let mut sent = 0u64;
    for seg in segments {
        let params = SourceParams {
            location: folder.join(&seg.file).to_string_lossy().to_string(),
            latency_ms: 0,
            live: false,
        };
        let mut source = Source::start(camera, templates::FILE, &params)?;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(sent);
            }
            match source.next_frame(Duration::from_millis(500))? {
                Some(mut frame) => {
                    frame.time_s = seg.start_unix_s + frame.pts_s + shift;
                    frame.time_source = TimeSource::Pts;
                    if pace == Pace::RealTime {
                        let due = origin + Duration::from_secs_f64((frame.time_s - t0).max(0.0));
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        }
                    }
                    if pace == Pace::Fast {
                        // Never drop in fast mode: wait for room.
                        while tx.stats().depth >= tx.stats().capacity
                            && !stop.load(Ordering::Relaxed)
                        {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                    tx.send(frame);
                    sent += 1;
                }
                None if source.is_eos() => break,
                None => {}
            }
        }
    }
    Ok(sent)
}
