//! Replay of recorded detections through fusion and tracking (the `walkoutd replay` command).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use walkout_eval::Row;
use walkout_fusion::{Fuser, FusionConfig, View};
use walkout_geometry::{ConfigError, StoreConfig};
pub use walkout_gpu::ComputePath;
use walkout_gpu::{GpuContext, GpuError};
use walkout_track::{FilterState, Lookahead, TrackIds, Tracker, TrackerConfig};
use walkout_types::{Detection, FloorCandidate, SCHEMA_VERSION, Track, TrackState, TracksMessage};

use crate::mot::{self, InputError};

/// What to replay.
#[derive(Debug, Clone)]
pub enum ReplayInput {
    /// A directory with one MOTChallenge detection file per camera, `<camera id>.txt`.
    Detections(PathBuf),
    /// A floor-point CSV (`frame,x,y[,score]`), already fused.
    FloorPoints(PathBuf),
}

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub config: PathBuf,
    pub input: ReplayInput,
    /// Frame rate mapping frame indices to seconds.
    pub fps: f64,
    pub fusion: FusionConfig,
    pub tracker: TrackerConfig,
    /// Also report occluded (coasting) tracks in the output rows for this long after their last
    /// detection, seconds, once they have at least `report_coast_min_hits` hits (0 disables).
    pub report_coast_s: f64,
    pub report_coast_min_hits: u32,
    /// Write a track's tentative frames once it is confirmed (the CSV is written after the
    /// fact; tracks that never confirm leave no rows). The published messages stay live.
    pub backfill: bool,
    /// When an occluded track is found again, write the frames it coasted through, its
    /// position interpolated between the last detection and the new one (the CSV is written
    /// after the fact; the published messages carry the live prediction).
    pub gap_fill: bool,
    /// Smooth each track after the fact (Rauch-Tung-Striebel over its filter states) before
    /// writing the CSV: a position seen by one camera or coasted through also learns from what
    /// came after. The published messages stay live (filtered).
    pub smooth: bool,
    /// Where fusion's occupancy grid runs (GPU, CPU, or GPU unless the adapter is software).
    pub compute: ComputePath,
    /// Covariance (standard deviation, metres) given to floor points.
    pub floor_point_sigma_m: f64,
}

/// Ticks a replay looks ahead to decide contested associations (the tracks CSV is written
/// after the fact; the daemon decides tick by tick).
pub const DEFAULT_LOOKAHEAD_TICKS: usize = 3;

impl ReplayOptions {
    pub fn new(config: PathBuf, input: ReplayInput, fps: f64) -> ReplayOptions {
        ReplayOptions {
            config,
            input,
            fps,
            fusion: FusionConfig::default(),
            tracker: TrackerConfig {
                lookahead: Lookahead {
                    ticks: DEFAULT_LOOKAHEAD_TICKS,
                    ..Lookahead::default()
                },
                ..TrackerConfig::default()
            },
            report_coast_s: 0.0,
            report_coast_min_hits: 4,
            backfill: true,
            gap_fill: true,
            smooth: true,
            floor_point_sigma_m: 0.1,
            compute: ComputePath::Auto,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{dir}: cannot list the detections directory")]
    ListDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{dir}: no detection file for camera `{camera}` (expected {expected})")]
    MissingCamera {
        dir: PathBuf,
        camera: String,
        expected: PathBuf,
    },
    #[error("{path}: `{camera}` is not a camera of the store config {config} (cameras: {known})")]
    UnknownCamera {
        path: PathBuf,
        camera: String,
        config: PathBuf,
        known: String,
    },
    #[error("GPU: {0}")]
    Gpu(#[from] GpuError),
    #[error("--fps must be a positive number, got {0}")]
    Fps(f64),
    #[error(transparent)]
    Store(#[from] crate::store_replay::JsonlError),
    #[error("{path}: cannot read or write")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The outcome of a replay.
#[derive(Debug, Clone)]
pub struct ReplayResult {
    /// `frame,id,x,y` rows of confirmed tracks, per input frame with detections.
    pub rows: Vec<Row>,
    /// The tracks message of every processed frame, as the daemon would publish it.
    pub messages: Vec<TracksMessage>,
    pub frames: usize,
    pub detections: usize,
    pub tracks_started: u64,
    /// Wall time of fusion + tracking per frame, microseconds (sorted).
    pub tick_us: Vec<f64>,
    /// Where fusion ran.
    pub compute: ComputePath,
}

type Frames = BTreeMap<u64, Vec<Vec<Detection>>>;

/// Reads the per-camera detection files of `dir` for the store's cameras.
pub fn read_detection_dir(store: &StoreConfig, dir: &Path) -> Result<(Frames, usize), ReplayError> {
    let ncam = store.cameras.len();
    let entries = std::fs::read_dir(dir).map_err(|source| ReplayError::ListDir {
        dir: dir.to_path_buf(),
        source,
    })?;
    let known: Vec<&str> = store.cameras.iter().map(|c| c.camera.id.as_str()).collect();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if !known.contains(&stem.as_str()) {
            return Err(ReplayError::UnknownCamera {
                path,
                camera: stem,
                config: store.path.clone(),
                known: known.join(", "),
            });
        }
    }
    let mut frames: Frames = BTreeMap::new();
    let mut total = 0;
    for (k, cam) in store.cameras.iter().enumerate() {
        let path = dir.join(format!("{}.txt", cam.camera.id));
        if !path.is_file() {
            return Err(ReplayError::MissingCamera {
                dir: dir.to_path_buf(),
                camera: cam.camera.id.clone(),
                expected: path,
            });
        }
        for d in mot::read_mot_detections(&path)? {
            frames
                .entry(d.frame)
                .or_insert_with(|| vec![Vec::new(); ncam])[k]
                .push(d.detection);
            total += 1;
        }
    }
    Ok((frames, total))
}

/// A tracker track as the tracks message publishes it (`camera_ids` by camera index).
pub fn published_track(t: &walkout_track::Track, camera_ids: &[String]) -> Track {
    Track {
        id: t.id,
        shopper: None,
        x: t.position[0],
        y: t.position[1],
        height: t.height_m,
        vx: t.x[2],
        vy: t.x[3],
        state: t.state,
        confidence: t.confidence,
        cameras: t
            .cameras
            .iter()
            .filter_map(|&c| camera_ids.get(usize::from(c)).cloned())
            .collect(),
    }
}

/// Runs the replay.
pub fn run(opts: &ReplayOptions) -> Result<ReplayResult, ReplayError> {
    if !(opts.fps.is_finite() && opts.fps > 0.0) {
        return Err(ReplayError::Fps(opts.fps));
    }
    let store = StoreConfig::load(&opts.config)?;
    let camera_ids: Vec<String> = store.cameras.iter().map(|c| c.camera.id.clone()).collect();
    let ids = TrackIds::new();
    let mut tracker = Tracker::new(opts.tracker.clone(), ids.clone());
    let mut result = ReplayResult {
        rows: Vec::new(),
        messages: Vec::new(),
        frames: 0,
        detections: 0,
        tracks_started: 0,
        tick_us: Vec::new(),
        compute: ComputePath::Cpu,
    };
    // Rows of tentative tracks wait here until the track is confirmed (backfill).
    let mut pending: HashMap<u64, Vec<Row>> = HashMap::new();
    // Per track: its last written row, and the frames it has coasted through since (gap fill).
    let mut last_row: HashMap<u64, Row> = HashMap::new();
    let mut coasted: HashMap<u64, Vec<i64>> = HashMap::new();
    // Per track: its filter state at every tick it lived (smoothing).
    let mut states: HashMap<u64, Vec<(i64, FilterState)>> = HashMap::new();
    let mut emit = |frame: u64, seq: u64, tracker: &Tracker, result: &mut ReplayResult| {
        let time = frame as f64 / opts.fps;
        if opts.smooth {
            for t in tracker.tracks() {
                states
                    .entry(t.id)
                    .or_default()
                    .push((frame as i64, t.filter_state(time)));
            }
        }
        let reported = |t: &walkout_track::Track| match t.state {
            TrackState::Confirmed => true,
            TrackState::Occluded => {
                opts.report_coast_s > 0.0
                    && t.hits >= opts.report_coast_min_hits
                    && time - t.last_seen <= opts.report_coast_s + 1e-9
            }
            _ => false,
        };
        let tracks: Vec<Track> = tracker
            .tracks()
            .iter()
            .filter(|t| reported(t))
            .map(|t| published_track(t, &camera_ids))
            .collect();
        if opts.backfill {
            for t in tracker
                .tracks()
                .iter()
                .filter(|t| t.state == TrackState::Tentative && t.updated)
            {
                pending.entry(t.id).or_default().push(Row {
                    frame: frame as i64,
                    id: t.id as i64,
                    x: t.position[0],
                    y: t.position[1],
                });
            }
            for t in tracker.ended() {
                pending.remove(&t.id);
            }
        }
        if opts.gap_fill {
            for t in tracker.tracks() {
                if t.state == TrackState::Occluded
                    && last_row.contains_key(&t.id)
                    && !tracks.iter().any(|r| r.id == t.id)
                {
                    coasted.entry(t.id).or_default().push(frame as i64);
                }
            }
            for t in tracker.ended() {
                coasted.remove(&t.id);
                last_row.remove(&t.id);
            }
        }
        for t in &tracks {
            if let Some(rows) = pending.remove(&t.id) {
                result.rows.extend(rows);
            }
            let row = Row {
                frame: frame as i64,
                id: t.id as i64,
                x: t.x,
                y: t.y,
            };
            if let (Some(gap), Some(a)) = (coasted.remove(&t.id), last_row.get(&t.id))
                && t.state == TrackState::Confirmed
            {
                let span = (row.frame - a.frame) as f64;
                for f in gap {
                    let w = (f - a.frame) as f64 / span;
                    result.rows.push(Row {
                        frame: f,
                        id: row.id,
                        x: a.x + w * (row.x - a.x),
                        y: a.y + w * (row.y - a.y),
                    });
                }
            }
            if opts.gap_fill {
                last_row.insert(t.id, row);
            }
            result.rows.push(row);
        }
        result.messages.push(TracksMessage {
            schema: SCHEMA_VERSION,
            store: store.id.clone(),
            seq,
            time,
            tracks,
        });
    };
    match &opts.input {
        ReplayInput::Detections(dir) => {
            let (frames, total) = read_detection_dir(&store, dir)?;
            result.detections = total;
            let cameras = store.cameras().cloned().collect();
            let mut fuser = Fuser::new(cameras, &store.floor, opts.fusion.clone())
                .with_occluders(store.occluders());
            let ctx = match opts.compute {
                ComputePath::Cpu => None,
                ComputePath::Gpu => Some(GpuContext::new()?),
                ComputePath::Auto => GpuContext::new()
                    .inspect_err(
                        |e| tracing::info!(error = %e, "no GPU adapter; fusion runs on the CPU"),
                    )
                    .ok(),
            };
            result.compute = fuser.set_compute(opts.compute, ctx)?;
            // Fusion runs ahead of tracking by the tracker's lookahead.
            let lag = opts.tracker.lookahead.ticks;
            let mut ahead: VecDeque<(u64, f64, Vec<FloorCandidate>, f64)> = VecDeque::new();
            let mut next = frames.iter();
            let mut seq = 0u64;
            loop {
                while ahead.len() <= lag {
                    let Some((frame, per_cam)) = next.next() else {
                        break;
                    };
                    let start = Instant::now();
                    let views: Vec<View> = View::per_camera(per_cam);
                    let candidates = fuser.fuse(&views);
                    let us = start.elapsed().as_secs_f64() * 1e6;
                    ahead.push_back((*frame, *frame as f64 / opts.fps, candidates, us));
                }
                let Some((frame, time, candidates, fuse_us)) = ahead.pop_front() else {
                    break;
                };
                let start = Instant::now();
                track_tick(&mut tracker, time, &candidates, &ahead);
                result
                    .tick_us
                    .push(fuse_us + start.elapsed().as_secs_f64() * 1e6);
                emit(frame, seq, &tracker, &mut result);
                seq += 1;
            }
            result.frames = frames.len();
        }
        ReplayInput::FloorPoints(path) => {
            let points = mot::read_floor_points(path)?;
            result.detections = points.len();
            let s2 = opts.floor_point_sigma_m * opts.floor_point_sigma_m;
            let mut by_frame: BTreeMap<u64, Vec<FloorCandidate>> = BTreeMap::new();
            for p in points {
                by_frame.entry(p.frame).or_default().push(FloorCandidate {
                    x: p.x,
                    y: p.y,
                    cov: [s2, 0.0, s2],
                    height_m: None,
                    score: p.score,
                    views: 1,
                    visible: 1,
                    strong: true,
                    cameras: Vec::new(),
                    detections: Vec::new(),
                    embedding: None,
                });
            }
            let ticks: Vec<(u64, f64, Vec<FloorCandidate>, f64)> = by_frame
                .into_iter()
                .map(|(frame, cands)| (frame, frame as f64 / opts.fps, cands, 0.0))
                .collect();
            let lag = opts.tracker.lookahead.ticks;
            for (seq, (frame, time, cands, _)) in ticks.iter().enumerate() {
                let start = Instant::now();
                let end = (seq + 1 + lag).min(ticks.len());
                let future: VecDeque<_> = ticks[seq + 1..end].iter().cloned().collect();
                track_tick(&mut tracker, *time, cands, &future);
                result.tick_us.push(start.elapsed().as_secs_f64() * 1e6);
                emit(*frame, seq as u64, &tracker, &mut result);
            }
            result.frames = ticks.len();
        }
    }
    result.tracks_started = ids.next() - 1;
    if opts.smooth {
        let mut smoothed: HashMap<(i64, i64), [f64; 4]> = HashMap::new();
        for (id, st) in &states {
            let filter: Vec<FilterState> = st.iter().map(|s| s.1).collect();
            let out = walkout_track::smooth(&filter, opts.tracker.accel_sigma);
            for ((frame, _), x) in st.iter().zip(out) {
                smoothed.insert((*frame, *id as i64), x);
            }
        }
        for r in &mut result.rows {
            if let Some(x) = smoothed.get(&(r.frame, r.id)) {
                (r.x, r.y) = (x[0], x[1]);
            }
        }
    }
    result.rows.sort_by_key(|r| (r.frame, r.id));
    result.tick_us.sort_by(f64::total_cmp);
    Ok(result)
}

/// One tracker tick, lagged when ticks ahead are given.
fn track_tick(
    tracker: &mut Tracker,
    time: f64,
    candidates: &[FloorCandidate],
    ahead: &VecDeque<(u64, f64, Vec<FloorCandidate>, f64)>,
) {
    if ahead.is_empty() {
        tracker.update(time, candidates);
    } else {
        let future: Vec<(f64, &[FloorCandidate])> =
            ahead.iter().map(|a| (a.1, a.2.as_slice())).collect();
        tracker.update_lagged(time, candidates, &future);
    }
}

/// Writes `frame,id,x,y` rows.
pub fn write_tracks_csv(path: &Path, rows: &[Row]) -> Result<(), ReplayError> {
    let werr = |source| ReplayError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(werr)?);
    writeln!(f, "frame,id,x,y").map_err(werr)?;
    for r in rows {
        writeln!(f, "{},{},{:.4},{:.4}", r.frame, r.id, r.x, r.y).map_err(werr)?;
    }
    f.flush().map_err(werr)
}

/// Writes one JSON message per line.
pub fn write_jsonl(path: &Path, messages: &[TracksMessage]) -> Result<(), ReplayError> {
    let werr = |source| ReplayError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(werr)?);
    for m in messages {
        let line = serde_json::to_string(m).map_err(|e| werr(std::io::Error::other(e)))?;
        writeln!(f, "{line}").map_err(werr)?;
    }
    f.flush().map_err(werr)
}
