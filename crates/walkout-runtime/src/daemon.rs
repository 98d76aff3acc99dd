//! The daemon: cameras in, tracks and health out. Stages run on their own threads joined by the
//! ingest crate's observable drop-oldest queues:
//!
//! ```text
//! camera supervisors (GStreamer) ─> per-camera queues ─> [detect thread: aligner ─> preprocess
//!   (walkout-gpu: WGSL kernel or its CPU reference) ─> detector] ─> queue ─> [track thread: fuse
//!   ─> track ─> publish tracks] ; the calling thread publishes health every second
//! ```
//!
//! Inputs: the store's live cameras, one video file (benches: as fast as possible or in real
//! time), or a recording directory. Publishing goes to zenoh when a bus is given.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use walkout_bus::{Bus, BusConfig, BusError};
use walkout_eval::Row;
use walkout_fusion::{Fuser, FusionConfig, View};
use walkout_geometry::{Camera, CameraConfig, ConfigError, Occluders, Polygon, StoreConfig};
use walkout_gpu::preprocess::{
    self, ColorMatrix, Job, Letterbox, PixelFormat, PreprocessKernel, TensorSpec,
};
use walkout_gpu::{ComputePath, GpuContext};
use walkout_infer::detect::DetectorConfig;
use walkout_infer::image::Mapping;
use walkout_infer::{Detector, InferError, Manifest, RuntimeConfig};
use walkout_ingest::aligner::{Aligner, AlignerConfig};
use walkout_ingest::queue;
use walkout_ingest::record::{Pace, Player, Repeat};
use walkout_ingest::source::{Frame, FrameFormat, Source, SourceParams, templates};
use walkout_ingest::supervisor::{Supervisor, SupervisorConfig};
use walkout_interact::{Interact, InteractConfig, Output as InteractOutput};

use crate::store_replay::StoreInput;
use walkout_track::{TrackIds, Tracker, TrackerConfig};
use walkout_types::{
    CameraHealth, CameraState, Detection, Event, EventKind, GateMessage, Health, SCHEMA_VERSION,
    ShelfWeight, StageHealth, TrackState, TracksMessage, ViewDetections,
};

use crate::replay::published_track;

/// Where the frames come from.
#[derive(Debug, Clone)]
pub enum DaemonInput {
    /// The store config's cameras (their `source`, or an override by camera id).
    Cameras { sources: HashMap<String, String> },
    /// One video file as the store's only camera: decoded as fast as possible, or in real time.
    Video { path: PathBuf, realtime: bool },
    /// A recording made by `walkoutd record`.
    Recording { dir: PathBuf, realtime: bool },
}

/// Which stages this process runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Role {
    /// Everything in one process.
    #[default]
    All,
    /// Ingest and detection for these cameras (all when empty), publishing per-view detections
    /// on `walkout/<store>/views/<camera>`.
    Edge { cameras: Vec<String> },
    /// Subscribes to every camera's views and runs fusion, tracking and publishing.
    Fusion,
}

impl Role {
    /// Whether this process ingests and detects camera `id`.
    fn runs(&self, id: &str) -> bool {
        match self {
            Role::All => true,
            Role::Edge { cameras } => cameras.is_empty() || cameras.iter().any(|c| c == id),
            Role::Fusion => false,
        }
    }
}

/// One camera's input to a tick: a frame to detect in, or detections an edge already made.
enum Input {
    Frame(Frame),
    Views {
        seq: u64,
        detections: Vec<Detection>,
    },
}

impl Input {
    fn seq(&self) -> u64 {
        match self {
            Input::Frame(f) => f.seq,
            Input::Views { seq, .. } => *seq,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DaemonOptions {
    pub config: PathBuf,
    pub input: DaemonInput,
    /// zenoh; `None` publishes nothing (benches).
    pub bus: Option<BusConfig>,
    pub compute: ComputePath,
    pub runtime: RuntimeConfig,
    pub detector: String,
    pub score_threshold: f64,
    /// Processing rate, ticks per second.
    pub rate_hz: f64,
    pub fusion: FusionConfig,
    pub tracker: TrackerConfig,
    /// Stop after this long (wall clock).
    pub seconds: Option<f64>,
    pub role: Role,
    /// Raised (by SIGHUP) to reload the store config: cameras added, removed or changed
    /// without restarting the others. The daemon lowers it when it has acted.
    pub reload: Arc<AtomicBool>,
}

impl DaemonOptions {
    pub fn new(config: PathBuf, input: DaemonInput) -> DaemonOptions {
        DaemonOptions {
            config,
            input,
            bus: None,
            compute: ComputePath::Auto,
            runtime: RuntimeConfig::default(),
            detector: "yolox_nano".into(),
            score_threshold: 0.3,
            rate_hz: 10.0,
            fusion: FusionConfig::default(),
            tracker: TrackerConfig::default(),
            seconds: None,
            role: Role::All,
            reload: Arc::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{config}: camera {camera} has no `source` (and none was given)")]
    NoSource { config: PathBuf, camera: String },
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Record(#[from] walkout_ingest::record::RecordError),
    #[error("{0}")]
    Stage(String),
}

/// Latency samples of one stage (a sliding window) and its counters.
#[derive(Debug, Default, Clone)]
pub struct StageStats {
    pub samples_ms: Vec<f64>,
    pub processed: u64,
    pub dropped: u64,
}

impl StageStats {
    fn push(&mut self, ms: f64) {
        self.processed += 1;
        self.samples_ms.push(ms);
        if self.samples_ms.len() > 2000 {
            self.samples_ms.drain(..1000);
        }
    }

    /// (p50, p99) in milliseconds.
    pub fn percentiles(&self) -> (f64, f64) {
        let mut v = self.samples_ms.clone();
        if v.is_empty() {
            return (0.0, 0.0);
        }
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        (at(0.5), at(0.99))
    }
}

/// What a run did; also what the per-second callback sees.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub store: String,
    pub elapsed_s: f64,
    pub ticks: u64,
    /// Per camera: frames, drops.
    pub cameras: Vec<CameraHealth>,
    /// Stages: ingest->detect queue + preprocess + detect; fuse + track + publish; end to end.
    pub stages: Vec<(String, StageStats)>,
    pub live_tracks: usize,
    pub tracks_started: u64,
    /// Confirmed tracks per tick: frame (video frame index of the tick), id, x, y.
    pub rows: Vec<Row>,
    pub events: u64,
    /// Config reloads applied (SIGHUP) and refused.
    pub reloads: u64,
    pub reload_errors: u64,
    /// Per payment token: (cart items, pending items) when the run ended (in-process only).
    pub carts: FinalCarts,
}

/// Per payment token: (cart items, pending items).
pub type FinalCarts = std::collections::BTreeMap<
    String,
    (
        std::collections::BTreeMap<String, u32>,
        std::collections::BTreeMap<String, u32>,
    ),
>;

/// One tick's detections on their way to fusion.
struct Detected {
    seq: u64,
    time_s: f64,
    /// Frame index of the tick (the first present camera's frame number).
    frame: u64,
    per_camera: Vec<Vec<Detection>>,
    /// The camera set `per_camera` is in.
    layout: Arc<Layout>,
    started: Instant,
}

/// Converts an ingest frame to walkout-gpu's frame (repacking when the planes are not
/// contiguous as walkout-gpu expects).
fn gpu_frame(f: &Frame) -> (PixelFormat, Vec<u8>, u32, u32) {
    let format = match f.format {
        FrameFormat::I420 => PixelFormat::I420,
        FrameFormat::Nv12 => PixelFormat::Nv12,
    };
    let (w, h) = (f.width as usize, f.height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let y_stride = f.strides.first().copied().unwrap_or(f.width) as usize;
    let c_stride = f.strides.get(1).copied().unwrap_or(f.width / 2) as usize;
    let packed_offsets = match format {
        PixelFormat::I420 => [0, y_stride * h, y_stride * h + c_stride * ch],
        _ => [0, y_stride * h, 0],
    };
    let planes = if format == PixelFormat::I420 { 3 } else { 2 };
    if f.offsets
        .iter()
        .take(planes)
        .copied()
        .eq(packed_offsets.iter().take(planes).copied())
    {
        return (format, f.data.clone(), y_stride as u32, c_stride as u32);
    }
    // Repack plane by plane.
    let mut out = Vec::with_capacity(w * h + 2 * cw * ch);
    let row = |plane: usize, stride: usize, rows: usize, bytes: usize, out: &mut Vec<u8>| {
        let off = f.offsets.get(plane).copied().unwrap_or(0);
        for r in 0..rows {
            let s = off + r * stride;
            out.extend_from_slice(f.data.get(s..s + bytes).unwrap_or(&[]));
        }
    };
    row(0, y_stride, h, w, &mut out);
    match format {
        PixelFormat::I420 => {
            row(1, c_stride, ch, cw, &mut out);
            row(2, c_stride, ch, cw, &mut out);
            (format, out, w as u32, cw as u32)
        }
        _ => {
            row(1, c_stride, ch, 2 * cw, &mut out);
            (format, out, w as u32, 2 * cw as u32)
        }
    }
}

/// The preprocessing of the detect stage: the WGSL kernel on a GPU, else the CPU reference.
struct Prep {
    spec: TensorSpec,
    kernel: Option<PreprocessKernel>,
    stretch: bool,
}

impl Prep {
    fn new(model: &walkout_infer::ModelSpec, compute: ComputePath) -> Prep {
        let spec = TensorSpec {
            width: model.size[0],
            height: model.size[1],
            nhwc: model.layout == walkout_infer::manifest::Layout::Nhwc,
            bgr: model.channels == walkout_infer::manifest::Channels::Bgr,
            scale: model.scale as f32,
            mean: model.mean.map(|v| v as f32),
            std: model.std.map(|v| v as f32),
            pad: model.pad as f32,
            color: ColorMatrix::default(),
        };
        let kernel = if compute == ComputePath::Cpu {
            None
        } else {
            match GpuContext::new() {
                Ok(ctx) if ctx.resolve(compute) == ComputePath::Gpu => {
                    tracing::info!(adapter = %ctx.info.name, "preprocessing on the GPU");
                    Some(PreprocessKernel::new(ctx, spec))
                }
                Ok(_) => {
                    tracing::info!("only a software GPU adapter: preprocessing on the CPU");
                    None
                }
                Err(e) if compute == ComputePath::Gpu => {
                    tracing::warn!(error = %e, "no GPU for preprocessing; using the CPU");
                    None
                }
                Err(_) => None,
            }
        };
        Prep {
            spec,
            kernel,
            stretch: model.resize == walkout_infer::manifest::Resize::Stretch,
        }
    }

    fn run(&mut self, f: &Frame) -> Result<(Vec<f32>, Mapping), String> {
        let (format, data, stride, chroma_stride) = gpu_frame(f);
        let frame = preprocess::Frame {
            format,
            width: f.width,
            height: f.height,
            stride,
            chroma_stride,
            data: &data,
        };
        // Decoders tag SD video BT.601 and HD BT.709.
        let mut spec = self.spec;
        spec.color = if f.height <= 576 {
            ColorMatrix::Bt601
        } else {
            ColorMatrix::Bt709
        };
        let (job, mapping) = if self.stretch {
            let job = Job::crop(0, 0.0, 0.0, f.width as f32, f.height as f32, &spec);
            let m = Mapping {
                scale_x: f64::from(spec.width) / f64::from(f.width),
                scale_y: f64::from(spec.height) / f64::from(f.height),
                offset_x: 0.0,
                offset_y: 0.0,
            };
            (job, m)
        } else {
            let lb = Letterbox::new(f.width, f.height, &spec, false);
            let m = Mapping {
                scale_x: f64::from(lb.scale),
                scale_y: f64::from(lb.scale),
                offset_x: f64::from(lb.offset_x),
                offset_y: f64::from(lb.offset_y),
            };
            (Job::letterbox(0, f.width, f.height, &lb), m)
        };
        let tensor = match &mut self.kernel {
            Some(k) if k.spec().color == spec.color => k.run(&[frame], &[job]),
            Some(k) => {
                // The kernel's colour matrix is fixed at creation: rebuild for this stream.
                let ctx = k.context();
                *k = PreprocessKernel::new(ctx, spec);
                k.run(&[frame], &[job])
            }
            None => preprocess::cpu::run_parallel(&[frame], &[job], &spec),
        }
        .map_err(|e| format!("camera {}: preprocessing: {e}", f.camera))?;
        Ok((tensor, mapping))
    }
}

/// Feeds one video file into a queue (fast: waits for room, never drops; real time: by PTS).
fn spawn_video(
    path: PathBuf,
    camera: String,
    realtime: bool,
    repeat: bool,
    tx: queue::Sender<Frame>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Result<u64, String>> {
    std::thread::spawn(move || {
        let r = play_video(&path, &camera, realtime, repeat, &tx, &stop);
        tx.close();
        r
    })
}

/// Decodes a video file into `tx`; `repeat` plays it over and over, each pass continuing the
/// previous one's time so that time only moves forward.
fn play_video(
    path: &std::path::Path,
    camera: &str,
    realtime: bool,
    repeat: bool,
    tx: &queue::Sender<Frame>,
    stop: &AtomicBool,
) -> Result<u64, String> {
    let params = SourceParams {
        location: path.to_string_lossy().to_string(),
        latency_ms: 0,
        live: false,
    };
    let start = Instant::now();
    let (mut n, mut offset) = (0u64, 0.0f64);
    loop {
        let mut src = Source::start(camera, templates::FILE, &params).map_err(|e| e.to_string())?;
        let (mut last_pts, mut step) = (0.0f64, 0.1f64);
        while !stop.load(Ordering::Relaxed) {
            let next = src
                .next_frame(Duration::from_millis(500))
                .map_err(|e| e.to_string())?;
            let Some(mut f) = next else {
                if src.is_eos() {
                    break;
                }
                continue;
            };
            if f.pts_s > last_pts {
                step = f.pts_s - last_pts;
            }
            last_pts = f.pts_s;
            f.pts_s += offset;
            f.time_s = f.pts_s;
            if realtime {
                let due = start + Duration::from_secs_f64(f.pts_s.max(0.0));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            } else {
                while tx.stats().depth >= tx.stats().capacity && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            tx.send(f);
            n += 1;
        }
        offset += last_pts + step;
        if !repeat || stop.load(Ordering::Relaxed) {
            return Ok(n);
        }
    }
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident memory of this process so far, MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    peak_rss_kib().map(|k| k as f64 / 1024.0)
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Runs the daemon until `stop` is set, the time limit passes, or a file input ends. Calls
/// `each_second` with the running summary about once a second.
pub fn run(
    opts: &DaemonOptions,
    stop: Arc<AtomicBool>,
    mut each_second: impl FnMut(&Summary),
) -> Result<Summary, DaemonError> {
    let store = StoreConfig::load(&opts.config)?;
    let camera_ids: Vec<String> = store.cameras.iter().map(|c| c.camera.id.clone()).collect();
    let manifest = Manifest::default_location()?;
    let model = manifest.get(&opts.detector)?.clone();
    let mut detector = Detector::load(
        &manifest,
        &opts.detector,
        &opts.runtime,
        DetectorConfig {
            score_threshold: opts.score_threshold,
            nms_iou: None,
        },
    )?;
    let bus = match &opts.bus {
        Some(cfg) => Some(Arc::new(Bus::open(&store.id, cfg)?)),
        None => None,
    };

    // Cameras: one slot each, with its queue, feed and health bookkeeping.
    let mut slots: Vec<Slot> = Vec::new();
    let mut new_receivers: Vec<queue::Receiver<Frame>> = Vec::new();
    let mut feeders = Vec::new();
    let mut player = None;
    match &opts.input {
        DaemonInput::Cameras { sources } => {
            for cam in &store.cameras {
                let (slot, rx) = start_camera(opts, sources, cam)?;
                slots.push(slot);
                new_receivers.push(rx);
            }
        }
        DaemonInput::Video { path, realtime } => {
            for (k, id) in camera_ids.iter().enumerate() {
                let (slot, rx) = Slot::other(id, String::new());
                if k == 0 {
                    feeders.push(spawn_video(
                        path.clone(),
                        id.clone(),
                        *realtime,
                        false,
                        slot.tx.clone(),
                        stop.clone(),
                    ));
                } else {
                    slot.tx.close();
                }
                slots.push(slot);
                new_receivers.push(rx);
            }
        }
        DaemonInput::Recording { dir, realtime } => {
            let pace = if *realtime {
                Pace::RealTime
            } else {
                Pace::Fast
            };
            let mut txs = Vec::new();
            for id in &camera_ids {
                let (slot, rx) = Slot::other(id, String::new());
                txs.push(slot.tx.clone());
                slots.push(slot);
                new_receivers.push(rx);
            }
            player = Some(Player::start(dir, &camera_ids, txs, pace, Repeat::Once)?);
        }
    }
    let mut layout = Arc::new(Layout {
        generation: 0,
        ids: camera_ids.clone(),
        cameras: store.cameras().cloned().collect(),
        floor: store.floor.clone(),
        occluders: store.occluders(),
        frames_in: slots.iter().map(|s| s.frames_in.clone()).collect(),
    });
    let (rewire_tx, rewire_rx) = std::sync::mpsc::channel::<Rewire>();
    let receivers: Vec<Option<queue::Receiver<Frame>>> =
        new_receivers.into_iter().map(Some).collect();

    let stats: Arc<Mutex<Vec<(String, StageStats)>>> = Arc::new(Mutex::new(vec![
        ("detect".into(), StageStats::default()),
        ("track".into(), StageStats::default()),
        ("end_to_end".into(), StageStats::default()),
    ]));
    let (det_tx, det_rx) = queue::bounded::<Detected>(4);
    let track_queue = det_tx.clone();
    let ticks = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // Files and recordings are not live: stages wait for room instead of dropping.
    let live = matches!(opts.input, DaemonInput::Cameras { .. })
        || matches!(
            opts.input,
            DaemonInput::Video { realtime: true, .. }
                | DaemonInput::Recording { realtime: true, .. }
        );
    // Live cameras never finish: the daemon runs until stopped (a reload may bring cameras).
    let ends = !matches!(opts.input, DaemonInput::Cameras { .. }) && opts.role != Role::Fusion;

    // Fusion: every camera's views from the bus, in arrival order (matched to the camera set by id).
    let (views_tx, views_rx) = queue::bounded::<ViewDetections>(256);
    if opts.role == Role::Fusion {
        let bus = bus
            .as_ref()
            .ok_or_else(|| DaemonError::Stage("--role fusion needs the bus (zenoh)".into()))?;
        bus.subscribe::<ViewDetections, _>("views/*", move |_, v| {
            views_tx.send(v);
        })?;
    } else {
        views_tx.close();
    }
    let role = opts.role.clone();
    let edge_bus = bus.clone();
    let edge_store = store.id.clone();

    // Detect stage.
    let detect_thread = {
        let (stats, stop, ticks) = (stats.clone(), stop.clone(), ticks.clone());
        let mut layout = layout.clone();
        let mut receivers = receivers;
        let period = 1.0 / opts.rate_hz.max(0.1);
        let compute = opts.compute;
        std::thread::Builder::new()
            .name("detect".into())
            .spawn(move || -> Result<(), String> {
                let mut prep = Prep::new(&model, compute);
                let mut aligner: Aligner<Input> = Aligner::new(
                    layout.ids.len(),
                    AlignerConfig {
                        period_s: period,
                        window_s: period / 2.0,
                        stale_s: 0.5,
                    },
                );
                let mut latest = f64::NEG_INFINITY;
                // Arrival instants by (camera id, frame number), for end-to-end latency.
                let mut arrived: HashMap<(String, u64), Instant> = HashMap::new();
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    // A reload: the new camera set, kept cameras keep their queues and frames.
                    while let Ok(rw) = rewire_rx.try_recv() {
                        let mut fresh = rw.receivers;
                        let keep: Vec<Option<usize>> = rw
                            .layout
                            .ids
                            .iter()
                            .map(|id| {
                                if fresh.contains_key(id) {
                                    None
                                } else {
                                    layout.ids.iter().position(|o| o == id)
                                }
                            })
                            .collect();
                        receivers = rw
                            .layout
                            .ids
                            .iter()
                            .zip(&keep)
                            .map(|(id, k)| match k {
                                Some(k) => receivers.get_mut(*k).and_then(Option::take),
                                None => fresh.remove(id),
                            })
                            .collect();
                        aligner.set_cameras(&keep);
                        layout = rw.layout;
                    }
                    let mut any = false;
                    for (c, rx) in receivers.iter().enumerate() {
                        let Some(rx) = rx else { continue };
                        while let Some(f) = rx.recv_timeout(Duration::ZERO) {
                            any = true;
                            layout.frames_in[c].fetch_add(1, Ordering::Relaxed);
                            if let Role::Edge { .. } = role {
                                // Edge: detect and publish every frame as it comes.
                                let t0 = Instant::now();
                                let (tensor, mapping) = prep.run(&f)?;
                                let detections = detector
                                    .detect_prepared(tensor, &mapping)
                                    .map_err(|e| e.to_string())?;
                                let view = ViewDetections {
                                    schema: SCHEMA_VERSION,
                                    store: edge_store.clone(),
                                    camera: layout.ids[c].clone(),
                                    frame: f.seq,
                                    time: f.time_s,
                                    time_source: f.time_source,
                                    detections,
                                };
                                if let Some(bus) = &edge_bus
                                    && let Err(e) =
                                        bus.put(&format!("views/{}", view.camera), &view)
                                {
                                    tracing::warn!(error = %e, "publishing views");
                                }
                                stats.lock().unwrap_or_else(|e| e.into_inner())[0]
                                    .1
                                    .push(t0.elapsed().as_secs_f64() * 1e3);
                                ticks.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                            latest = latest.max(f.time_s);
                            arrived.insert((layout.ids[c].clone(), f.seq), Instant::now());
                            aligner.push(c, f.time_s, Input::Frame(f));
                        }
                    }
                    while let Some(v) = views_rx.recv_timeout(Duration::ZERO) {
                        any = true;
                        let Some(c) = layout.ids.iter().position(|id| *id == v.camera) else {
                            continue;
                        };
                        layout.frames_in[c].fetch_add(1, Ordering::Relaxed);
                        latest = latest.max(v.time);
                        arrived.insert((v.camera.clone(), v.frame), Instant::now());
                        aligner.push(
                            c,
                            v.time,
                            Input::Views {
                                seq: v.frame,
                                detections: v.detections,
                            },
                        );
                    }
                    let finished = ends
                        && receivers
                            .iter()
                            .all(|r| r.as_ref().is_none_or(|r| r.is_finished()));
                    // Files end: flush the aligner just past the last frame.
                    let now = if finished { latest + period } else { latest };
                    while let Some(tick) = aligner.poll(now) {
                        let (tick_seq, tick_time) = (tick.seq, tick.time_s);
                        let started = tick
                            .frames
                            .iter()
                            .enumerate()
                            .filter_map(|(c, f)| {
                                f.as_ref().and_then(|(_, fr)| {
                                    arrived.remove(&(layout.ids[c].clone(), fr.seq()))
                                })
                            })
                            .min()
                            .unwrap_or_else(Instant::now);
                        let t_tick = Instant::now();
                        let mut per_camera = vec![Vec::new(); layout.ids.len()];
                        let mut frame_index = None;
                        for (c, slot) in tick.frames.into_iter().enumerate() {
                            let Some((_, input)) = slot else { continue };
                            frame_index.get_or_insert(input.seq());
                            per_camera[c] = match input {
                                Input::Frame(f) => {
                                    let (tensor, mapping) = prep.run(&f)?;
                                    detector
                                        .detect_prepared(tensor, &mapping)
                                        .map_err(|e| e.to_string())?
                                }
                                Input::Views { detections, .. } => detections,
                            };
                        }
                        stats.lock().unwrap_or_else(|e| e.into_inner())[0]
                            .1
                            .push(t_tick.elapsed().as_secs_f64() * 1e3);
                        ticks.fetch_add(1, Ordering::Relaxed);
                        if !live {
                            while det_tx.stats().depth >= det_tx.stats().capacity
                                && !stop.load(Ordering::Relaxed)
                            {
                                std::thread::sleep(Duration::from_micros(200));
                            }
                        }
                        let dropped = det_tx
                            .send(Detected {
                                seq: tick_seq,
                                time_s: tick_time,
                                frame: frame_index.unwrap_or(tick_seq),
                                per_camera,
                                layout: layout.clone(),
                                started,
                            })
                            .is_some();
                        if dropped {
                            stats.lock().unwrap_or_else(|e| e.into_inner())[0].1.dropped += 1;
                        }
                    }
                    arrived.retain(|_, t| t.elapsed() < Duration::from_secs(10));
                    if finished {
                        break;
                    }
                    if !any {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                det_tx.close();
                Ok(())
            })
            .map_err(|e| DaemonError::Stage(format!("cannot start the detect thread: {e}")))?
    };

    // Gate and shelf inputs from the bus (fusion and all-in-one roles).
    let (inputs_tx, inputs_rx) = std::sync::mpsc::channel::<(f64, StoreInput)>();
    if let Some(bus) = &bus
        && !matches!(opts.role, Role::Edge { .. })
    {
        let tx = inputs_tx.clone();
        bus.subscribe::<GateMessage, _>("gates/*", move |_, g| {
            let _ = tx.send((g.time, StoreInput::Gate(g)));
        })?;
        let tx = inputs_tx;
        bus.subscribe::<ShelfWeight, _>("shelves/*/weight", move |_, w| {
            let _ = tx.send((w.time, StoreInput::Weight(w)));
        })?;
    }
    let event_ids = Arc::new(AtomicU64::new(0));
    let final_carts: Arc<Mutex<FinalCarts>> = Arc::default();

    // Track stage.
    let rows = Arc::new(Mutex::new(Vec::new()));
    let live_tracks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let track_ids = TrackIds::new();
    let track_thread = {
        let (stats, rows, bus, live_tracks, ids) = (
            stats.clone(),
            rows.clone(),
            bus.clone(),
            live_tracks.clone(),
            track_ids.clone(),
        );
        // A store with shelves runs the store profile (as `walkoutd replay --views` does).
        let (fusion, tracker_cfg) = if store.shelves.is_empty() {
            (opts.fusion.clone(), opts.tracker.clone())
        } else {
            crate::store_replay::store_profile()
        };
        let store_id = store.id.clone();
        let compute = opts.compute;
        let first = layout.clone();
        let mut interact = (!matches!(opts.role, Role::Edge { .. })).then(|| {
            Interact::new(&store, InteractConfig::default()).with_event_ids(event_ids.clone())
        });
        let carts_out = final_carts.clone();
        let shelves = store.shelves.clone();
        std::thread::Builder::new()
            .name("track".into())
            .spawn(move || -> Result<(), String> {
                let gpu = if compute != ComputePath::Cpu {
                    GpuContext::new().ok()
                } else {
                    None
                };
                let new_fuser = |l: &Layout| {
                    let mut fuser = Fuser::new(l.cameras.clone(), &l.floor, fusion.clone())
                        .with_occluders(l.occluders.clone());
                    if let Some(ctx) = &gpu {
                        let _ = fuser.set_compute(compute, Some(ctx.clone()));
                    }
                    fuser
                };
                let mut fuser = new_fuser(&first);
                let mut generation = first.generation;
                // The tracker outlives reloads: tracks keep their ids across a camera change.
                let mut tracker = Tracker::new(tracker_cfg, ids);
                if let Some(p) = crate::store_replay::walkable(&first.occluders) {
                    tracker = tracker.with_passable(p);
                }
                // Gate and shelf inputs, applied in time order up to each tick's time.
                let mut pending: Vec<(f64, StoreInput)> = Vec::new();
                // The latest cart of every shopper, for the `state/carts` query.
                let current = std::cell::RefCell::new(std::collections::BTreeMap::new());
                let publish = |outs: Vec<InteractOutput>| {
                    let Some(bus) = &bus else { return };
                    for o in outs {
                        match o {
                            InteractOutput::Event(e) => {
                                let _ = bus.put(&format!("events/{}", e.kind.key()), &e);
                            }
                            InteractOutput::Cart(c) => {
                                let _ = bus.put(&format!("carts/{}", c.shopper), &c);
                                let mut current = current.borrow_mut();
                                current.insert(c.shopper.clone(), c);
                                bus.set_state("carts", &*current);
                            }
                        }
                    }
                };
                loop {
                    let Some(d) = det_rx.recv_timeout(Duration::from_millis(100)) else {
                        if det_rx.is_finished() {
                            break;
                        }
                        continue;
                    };
                    if let Some(it) = interact.as_mut() {
                        pending.extend(inputs_rx.try_iter());
                        pending.sort_by(|a, b| a.0.total_cmp(&b.0));
                        let due = pending.partition_point(|(t, _)| *t <= d.time_s);
                        for (_, input) in pending.drain(..due) {
                            publish(input.apply(it));
                        }
                    }
                    let t0 = Instant::now();
                    if d.layout.generation != generation {
                        fuser = new_fuser(&d.layout);
                        generation = d.layout.generation;
                    }
                    let views = View::per_camera(&d.per_camera);
                    let cands = fuser.fuse(&views);
                    tracker.update(d.time_s, &cands);
                    let confirmed: Vec<_> = tracker
                        .tracks()
                        .iter()
                        .filter(|t| t.state == TrackState::Confirmed)
                        .collect();
                    live_tracks.store(confirmed.len(), Ordering::Relaxed);
                    if let Some(it) = interact.as_mut() {
                        it.reach(
                            d.time_s,
                            &crate::store_replay::hands(
                                &d.layout.cameras,
                                &shelves,
                                &d.per_camera,
                                &tracker,
                            ),
                        );
                        let obs = crate::store_replay::track_obs(&tracker);
                        publish(it.tick(d.time_s, &obs));
                    }
                    let msg = TracksMessage {
                        schema: SCHEMA_VERSION,
                        store: store_id.clone(),
                        seq: d.seq,
                        time: d.time_s,
                        tracks: confirmed
                            .iter()
                            .map(|t| {
                                let mut p = published_track(t, &d.layout.ids);
                                p.shopper = interact
                                    .as_ref()
                                    .and_then(|it| it.shopper_id(t.id).cloned());
                                p
                            })
                            .collect(),
                    };
                    {
                        let mut r = rows.lock().unwrap_or_else(|e| e.into_inner());
                        r.extend(msg.tracks.iter().map(|t| Row {
                            frame: d.frame as i64,
                            id: t.id as i64,
                            x: t.x,
                            y: t.y,
                        }));
                    }
                    if let Some(bus) = &bus {
                        if let Err(e) = bus.put("tracks", &msg) {
                            tracing::warn!(error = %e, "publishing tracks");
                        }
                        bus.set_state("tracks", &msg);
                    }
                    let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
                    s[1].1.push(t0.elapsed().as_secs_f64() * 1e3);
                    s[2].1.push(d.started.elapsed().as_secs_f64() * 1e3);
                }
                if let Some(it) = interact.as_mut() {
                    pending.extend(inputs_rx.try_iter());
                    pending.sort_by(|a, b| a.0.total_cmp(&b.0));
                    for (_, input) in pending.drain(..) {
                        publish(input.apply(it));
                    }
                    publish(it.finish());
                    *carts_out.lock().unwrap_or_else(|e| e.into_inner()) = it.carts_by_token();
                }
                Ok(())
            })
            .map_err(|e| DaemonError::Stage(format!("cannot start the track thread: {e}")))?
    };

    // Health, camera events, reloads, time limit.
    let start = Instant::now();
    let mut last_health = Instant::now();
    let mut summary = Summary {
        store: store.id.clone(),
        ..Default::default()
    };
    let mut store = store;
    loop {
        let done = detect_thread.is_finished() && track_thread.is_finished();
        let timed_out = opts
            .seconds
            .is_some_and(|s| start.elapsed().as_secs_f64() >= s);
        if done || timed_out || stop.load(Ordering::Relaxed) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        if opts.reload.swap(false, Ordering::Relaxed) {
            match reload(opts, &store, &mut slots, &layout) {
                Ok(Some((next, new_store, rewire))) => {
                    layout = next;
                    store = new_store;
                    summary.reloads += 1;
                    // The detect thread picks the new set up at its next loop.
                    let _ = rewire_tx.send(rewire);
                }
                Ok(None) => summary.reloads += 1,
                Err(e) => {
                    summary.reload_errors += 1;
                    tracing::error!(error = %e, "reload refused; the running config stays");
                }
            }
            // Publish the new camera set at once.
            last_health = start - Duration::from_secs(2);
        }
        if last_health.elapsed() < Duration::from_secs(1) {
            continue;
        }
        last_health = Instant::now();
        summary.cameras = slots.iter_mut().map(Slot::health).collect();
        summary.elapsed_s = start.elapsed().as_secs_f64();
        summary.ticks = ticks.load(Ordering::Relaxed);
        summary.stages = stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
        summary.live_tracks = live_tracks.load(Ordering::Relaxed);
        if let Some(bus) = &bus {
            for (slot, c) in slots.iter_mut().zip(&summary.cameras) {
                for kind in slot.transitions(c) {
                    let ev = Event {
                        schema: SCHEMA_VERSION,
                        store: store.id.clone(),
                        id: event_ids.fetch_add(1, Ordering::Relaxed) + 1,
                        time: unix_now(),
                        kind,
                        ambiguous: None,
                        corrects: None,
                    };
                    let _ = bus.put(&format!("events/{}", ev.kind.key()), &ev);
                    summary.events += 1;
                }
            }
            let txs: Vec<_> = slots.iter().map(|s| s.tx.clone()).collect();
            let health = health_message(
                &store.id,
                start,
                &summary,
                &det_tx_stats(&stats),
                &queue_health(&txs, &track_queue),
            );
            if let Err(e) = bus.put("health", &health) {
                tracing::warn!(error = %e, "publishing health");
            }
            bus.set_state("health", &health);
        }
        each_second(&summary);
    }
    summary.cameras = slots.iter_mut().map(Slot::health).collect();
    // Shut down: sources first, then drain the stages.
    stop.store(true, Ordering::Relaxed);
    let txs: Vec<_> = slots.iter().map(|s| s.tx.clone()).collect();
    for s in slots.drain(..) {
        s.stop();
    }
    drop(player);
    for f in feeders {
        let _ = f.join();
    }
    let det = detect_thread
        .join()
        .map_err(|_| DaemonError::Stage("the detect thread panicked".into()))?;
    let trk = track_thread
        .join()
        .map_err(|_| DaemonError::Stage("the track thread panicked".into()))?;
    summary.elapsed_s = start.elapsed().as_secs_f64();
    summary.ticks = ticks.load(Ordering::Relaxed);
    summary.stages = stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for (k, c) in summary.cameras.iter_mut().enumerate() {
        if let Some(n) = layout.frames_in.get(k) {
            c.frames = c.frames.max(n.load(Ordering::Relaxed));
        }
    }
    summary.tracks_started = track_ids.next() - 1;
    summary.carts = std::mem::take(&mut *final_carts.lock().unwrap_or_else(|e| e.into_inner()));
    summary.rows = std::mem::take(&mut *rows.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(bus) = bus {
        // A final health message, then close.
        let health = health_message(
            &store.id,
            start,
            &summary,
            &det_tx_stats(&stats),
            &queue_health(&txs, &track_queue),
        );
        let _ = bus.put("health", &health);
        if let Ok(bus) = Arc::try_unwrap(bus) {
            bus.close();
        }
    }
    det.map_err(DaemonError::Stage)?;
    trk.map_err(DaemonError::Stage)?;
    Ok(summary)
}

/// The camera set the stages work with; replaced whole on a reload (next generation).
struct Layout {
    generation: u64,
    ids: Vec<String>,
    cameras: Vec<Camera>,
    floor: Polygon,
    occluders: Occluders,
    /// Frames taken from each camera's queue.
    frames_in: Vec<Arc<AtomicU64>>,
}

/// A reload as the detect thread receives it: the new set, and queues for the cameras that
/// are new or changed (the others keep theirs).
struct Rewire {
    layout: Arc<Layout>,
    receivers: HashMap<String, queue::Receiver<Frame>>,
}

/// What feeds a camera's queue.
enum Feed {
    /// A live stream under a supervisor (reconnects, health).
    Supervised(Supervisor),
    /// A file played in real time, looped, with its own stop flag.
    File {
        stop: Arc<AtomicBool>,
        handle: std::thread::JoinHandle<Result<u64, String>>,
    },
    /// A video, a recording's player, the bus (fusion) or another edge's camera.
    Other,
}

/// One camera of the running set.
struct Slot {
    id: String,
    /// The camera's config entry and resolved source: a reload restarts it when this changes.
    fingerprint: String,
    tx: queue::Sender<Frame>,
    frames_in: Arc<AtomicU64>,
    feed: Feed,
    was_up: Option<bool>,
    last_reconnects: u64,
    last_count: u64,
}

impl Slot {
    fn other(id: &str, fingerprint: String) -> (Slot, queue::Receiver<Frame>) {
        let (tx, rx) = queue::bounded::<Frame>(4);
        let slot = Slot {
            id: id.to_string(),
            fingerprint,
            tx,
            frames_in: Arc::default(),
            feed: Feed::Other,
            was_up: None,
            last_reconnects: 0,
            last_count: 0,
        };
        (slot, rx)
    }

    /// This camera's health entry (supervised cameras report their own; others are counted).
    fn health(&mut self) -> CameraHealth {
        if let Feed::Supervised(s) = &self.feed {
            return s.status().health();
        }
        let n = self.frames_in.load(Ordering::Relaxed);
        let fps = n.saturating_sub(self.last_count) as f64;
        self.last_count = n;
        CameraHealth {
            camera: self.id.clone(),
            state: CameraState::Streaming,
            fps,
            frames: n,
            drops: 0,
            reconnects: 0,
            last_frame_age_s: None,
            reason: None,
        }
    }

    /// camera_down / camera_up since the last check. A reconnect between two checks is an
    /// outage too, however short.
    fn transitions(&mut self, c: &CameraHealth) -> Vec<EventKind> {
        let up = c.state == CameraState::Streaming;
        let bounced = c.reconnects > self.last_reconnects;
        self.last_reconnects = c.reconnects;
        let mut kinds = Vec::new();
        if self.was_up == Some(true) && (!up || bounced) {
            kinds.push(EventKind::CameraDown {
                camera: c.camera.clone(),
                reason: c.reason.clone().unwrap_or_else(|| {
                    if up {
                        "reconnected".into()
                    } else {
                        format!("{:?}", c.state)
                    }
                }),
            });
        }
        if up && (self.was_up == Some(false) || (self.was_up == Some(true) && bounced)) {
            kinds.push(EventKind::CameraUp {
                camera: c.camera.clone(),
            });
        }
        if up || self.was_up.is_some() {
            self.was_up = Some(up);
        }
        kinds
    }

    fn stop(self) {
        match self.feed {
            Feed::Supervised(s) => s.stop(),
            Feed::File { stop, handle } => {
                stop.store(true, Ordering::Relaxed);
                let _ = handle.join();
            }
            Feed::Other => {}
        }
        self.tx.close();
    }
}

/// Starts one configured camera (a supervised stream, or a file played in real time and
/// looped); a camera this process does not own (another edge's, or fusion) gets a closed queue.
fn start_camera(
    opts: &DaemonOptions,
    sources: &HashMap<String, String>,
    cam: &CameraConfig,
) -> Result<(Slot, queue::Receiver<Frame>), DaemonError> {
    let id = &cam.camera.id;
    let mine = opts.role.runs(id);
    let source = sources.get(id).cloned().or_else(|| cam.source.clone());
    let (mut slot, rx) = Slot::other(id, format!("{cam:?} {source:?}"));
    if !mine {
        slot.tx.close();
        return Ok((slot, rx));
    }
    let source = source.ok_or_else(|| DaemonError::NoSource {
        config: opts.config.clone(),
        camera: id.clone(),
    })?;
    let (template, params) = templates::for_camera(
        cam.pipeline.as_deref(),
        source,
        crate::capture::LIVE_LATENCY_MS,
    );
    slot.feed = if params.live {
        Feed::Supervised(Supervisor::spawn(
            id,
            template,
            params,
            SupervisorConfig::default(),
            slot.tx.clone(),
        ))
    } else {
        // A file as a camera: played at its own rate, over and over.
        let stop = Arc::new(AtomicBool::new(false));
        let handle = spawn_video(
            PathBuf::from(&params.location),
            id.clone(),
            true,
            true,
            slot.tx.clone(),
            stop.clone(),
        );
        Feed::File { stop, handle }
    };
    Ok((slot, rx))
}

/// SIGHUP: reads the store config again and applies its camera changes. Removed cameras stop,
/// added ones start, changed ones (calibration, source, pipeline) restart; the others, their
/// queues and the tracker go on untouched. A config that does not load is refused whole (the
/// running one stays). `Ok(None)`: nothing to change.
#[allow(clippy::type_complexity)]
fn reload(
    opts: &DaemonOptions,
    running: &StoreConfig,
    slots: &mut Vec<Slot>,
    layout: &Arc<Layout>,
) -> Result<Option<(Arc<Layout>, StoreConfig, Rewire)>, DaemonError> {
    let DaemonInput::Cameras { sources } = &opts.input else {
        tracing::warn!(
            "reload ignored: the input is a video or a recording, not the config's cameras"
        );
        return Ok(None);
    };
    let store = StoreConfig::load(&opts.config)?;
    if store.id != running.id {
        return Err(DaemonError::Stage(format!(
            "{}: the store id changed ({} -> {}); that needs a restart",
            opts.config.display(),
            running.id,
            store.id
        )));
    }
    // Every camera this process runs needs a source: check before touching the running set.
    for cam in &store.cameras {
        let id = &cam.camera.id;
        if opts.role.runs(id) && cam.source.is_none() && !sources.contains_key(id) {
            return Err(DaemonError::NoSource {
                config: opts.config.clone(),
                camera: id.clone(),
            });
        }
    }
    let mut old: Vec<Option<Slot>> = slots.drain(..).map(Some).collect();
    let mut receivers = HashMap::new();
    let (mut added, mut changed, mut kept) = (Vec::new(), Vec::new(), 0usize);
    for cam in &store.cameras {
        let id = &cam.camera.id;
        let source = sources.get(id).cloned().or_else(|| cam.source.clone());
        let fingerprint = format!("{cam:?} {source:?}");
        let at = old
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.id == *id));
        if let Some(k) = at
            && old[k]
                .as_ref()
                .is_some_and(|s| s.fingerprint == fingerprint)
            && let Some(slot) = old[k].take()
        {
            slots.push(slot);
            kept += 1;
            continue;
        }
        if let Some(k) = at
            && let Some(slot) = old[k].take()
        {
            slot.stop();
            changed.push(id.clone());
        } else {
            added.push(id.clone());
        }
        let (slot, rx) = start_camera(opts, sources, cam)?;
        receivers.insert(id.clone(), rx);
        slots.push(slot);
    }
    let removed: Vec<String> = old.iter().flatten().map(|s| s.id.clone()).collect();
    for s in old.into_iter().flatten() {
        s.stop();
    }
    tracing::info!(
        ?added,
        ?removed,
        ?changed,
        kept,
        "config reloaded from {}",
        opts.config.display()
    );
    let ids: Vec<String> = slots.iter().map(|s| s.id.clone()).collect();
    if added.is_empty() && removed.is_empty() && changed.is_empty() && store.floor == running.floor
    {
        return Ok(None);
    }
    let next = Arc::new(Layout {
        generation: layout.generation + 1,
        ids,
        cameras: store.cameras().cloned().collect(),
        floor: store.floor.clone(),
        occluders: store.occluders(),
        frames_in: slots.iter().map(|s| s.frames_in.clone()).collect(),
    });
    let rewire = Rewire {
        layout: next.clone(),
        receivers,
    };
    Ok(Some((next, store, rewire)))
}

/// Depth and oldest age of each stage's input queue: the camera queues feed `detect`, the
/// detections queue feeds `track`.
fn queue_health<'a>(
    cameras: &[queue::Sender<Frame>],
    track: &queue::Sender<Detected>,
) -> Vec<(&'a str, usize, Duration)> {
    let cam = cameras
        .iter()
        .map(|q| q.stats())
        .fold((0, Duration::ZERO), |acc, s| {
            (acc.0 + s.depth, acc.1.max(s.oldest_age))
        });
    let t = track.stats();
    vec![("detect", cam.0, cam.1), ("track", t.depth, t.oldest_age)]
}

fn det_tx_stats(stats: &Arc<Mutex<Vec<(String, StageStats)>>>) -> Vec<(String, StageStats)> {
    stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

fn health_message(
    store: &str,
    start: Instant,
    s: &Summary,
    stages: &[(String, StageStats)],
    queues: &[(&str, usize, Duration)],
) -> Health {
    Health {
        schema: SCHEMA_VERSION,
        store: store.into(),
        time: unix_now(),
        uptime_s: start.elapsed().as_secs_f64(),
        cameras: s.cameras.clone(),
        stages: stages
            .iter()
            .map(|(name, st)| {
                let (p50, p99) = st.percentiles();
                let (depth, age) = queues
                    .iter()
                    .find(|q| q.0 == name)
                    .map_or((0, Duration::ZERO), |q| (q.1, q.2));
                StageHealth {
                    stage: name.clone(),
                    latency_p50_ms: p50,
                    latency_p99_ms: p99,
                    queue_depth: depth as u64,
                    queue_oldest_age_ms: age.as_secs_f64() * 1e3,
                    processed: st.processed,
                    dropped: st.dropped,
                }
            })
            .collect(),
    }
}
