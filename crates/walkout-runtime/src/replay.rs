//! Replay of recorded detections through fusion and tracking (the `walkoutd replay` command).

use std::collections::{BTreeMap, HashMap};
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
    /// ... and, where two views or more measured a track at a tick, how far its smoothed
    /// position is then moved towards that measurement (0..1; as the live position is by the
    /// tracker's `report_measurement_weight`: the motion model that keeps association stable
    /// lags turns at 2-10 Hz; one view's measurement is a long ellipse and moves nothing).
    pub smooth_measurement_weight: f64,
    /// Where fusion's occupancy grid runs (GPU, CPU, or GPU unless the adapter is software).
    pub compute: ComputePath,
    /// Covariance (standard deviation, metres) given to floor points.
    pub floor_point_sigma_m: f64,
    /// Also track the input backwards and extend each track's start back with the rows of the
    /// backward track that follows it there (the CSV is written after the fact; the
    /// published messages stay live).
    pub backward_fill: bool,
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
            smooth_measurement_weight: 0.3,
            floor_point_sigma_m: 0.1,
            backward_fill: true,
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

/// One input tick: its frame index, time (seconds), fused candidates and the microseconds
/// fusion took.
struct Tick {
    frame: u64,
    time: f64,
    candidates: Vec<FloorCandidate>,
    fuse_us: f64,
}

/// What one pass of the tracker over the ticks wrote.
struct Pass {
    rows: Vec<Row>,
    messages: Vec<TracksMessage>,
    /// Tracking time per tick, microseconds, in tick order.
    track_us: Vec<f64>,
}

/// Runs the replay.
pub fn run(opts: &ReplayOptions) -> Result<ReplayResult, ReplayError> {
    if !(opts.fps.is_finite() && opts.fps > 0.0) {
        return Err(ReplayError::Fps(opts.fps));
    }
    let store = StoreConfig::load(&opts.config)?;
    let camera_ids: Vec<String> = store.cameras.iter().map(|c| c.camera.id.clone()).collect();
    let mut result = ReplayResult {
        rows: Vec::new(),
        messages: Vec::new(),
        frames: 0,
        detections: 0,
        tracks_started: 0,
        tick_us: Vec::new(),
        compute: ComputePath::Cpu,
    };
    let ticks: Vec<Tick> = match &opts.input {
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
            frames
                .iter()
                .map(|(frame, per_cam)| {
                    let start = Instant::now();
                    let views: Vec<View> = View::per_camera(per_cam);
                    let candidates = fuser.fuse(&views);
                    Tick {
                        frame: *frame,
                        time: *frame as f64 / opts.fps,
                        candidates,
                        fuse_us: start.elapsed().as_secs_f64() * 1e6,
                    }
                })
                .collect()
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
            by_frame
                .into_iter()
                .map(|(frame, candidates)| Tick {
                    frame,
                    time: frame as f64 / opts.fps,
                    candidates,
                    fuse_us: 0.0,
                })
                .collect()
        }
    };
    result.frames = ticks.len();
    let ids = TrackIds::new();
    let forward = track_pass(opts, &store.id, &camera_ids, ticks.iter(), &ids, |t| t);
    result.tick_us = ticks
        .iter()
        .zip(&forward.track_us)
        .map(|(t, us)| t.fuse_us + us)
        .collect();
    result.messages = forward.messages;
    result.rows = forward.rows;
    result.tracks_started = ids.next() - 1;
    if opts.backward_fill && !ticks.is_empty() {
        let last = ticks[ticks.len() - 1].time;
        let backward = track_pass(
            opts,
            &store.id,
            &camera_ids,
            ticks.iter().rev(),
            &TrackIds::new(),
            |t| last - t,
        );
        let order: Vec<i64> = ticks.iter().map(|t| t.frame as i64).collect();
        extend_from_backward(&mut result.rows, &backward.rows, &order);
    }
    result.rows.sort_by_key(|r| (r.frame, r.id));
    result.tick_us.sort_by(f64::total_cmp);
    Ok(result)
}

/// The tracker over `ticks` (in the order given, at the times `time_of` maps theirs to):
/// the rows of the tracks CSV (backfilled, gap-filled and smoothed as `opts` asks) and the
/// messages published at each tick.
fn track_pass<'a>(
    opts: &ReplayOptions,
    store_id: &str,
    camera_ids: &[String],
    ticks: impl Iterator<Item = &'a Tick> + Clone,
    ids: &TrackIds,
    time_of: impl Fn(f64) -> f64,
) -> Pass {
    let mut tracker = Tracker::new(opts.tracker.clone(), ids.clone());
    let mut pass = Pass {
        rows: Vec::new(),
        messages: Vec::new(),
        track_us: Vec::new(),
    };
    // Rows of tentative tracks wait here until the track is confirmed (backfill).
    let mut pending: HashMap<u64, Vec<Row>> = HashMap::new();
    // Per track: its last written row, and the frames it has coasted through since (gap fill).
    let mut last_row: HashMap<u64, Row> = HashMap::new();
    let mut coasted: HashMap<u64, Vec<i64>> = HashMap::new();
    // Per track: its filter state at every tick it lived (smoothing).
    let mut states: HashMap<u64, Vec<(i64, FilterState)>> = HashMap::new();
    // Per (frame, track): where the candidate that updated it then was, when two views or
    // more saw it.
    let mut seen_at: HashMap<(i64, i64), [f64; 2]> = HashMap::new();
    let lag = opts.tracker.lookahead.ticks;
    let mut ahead = ticks.clone().skip(1);
    for (seq, tick) in ticks.enumerate() {
        let time = time_of(tick.time);
        let future: Vec<(f64, &[FloorCandidate])> = ahead
            .clone()
            .take(lag)
            .map(|t| (time_of(t.time), t.candidates.as_slice()))
            .collect();
        ahead.next();
        let start = Instant::now();
        if future.is_empty() {
            tracker.update(time, &tick.candidates);
        } else {
            tracker.update_lagged(time, &tick.candidates, &future);
        }
        pass.track_us.push(start.elapsed().as_secs_f64() * 1e6);
        let frame = tick.frame;
        if opts.smooth {
            for t in tracker
                .tracks()
                .iter()
                .filter(|t| t.updated && t.cameras.len() >= 2)
            {
                seen_at.insert((frame as i64, t.id as i64), t.seen_at);
            }
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
            .map(|t| published_track(t, camera_ids))
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
                pass.rows.extend(rows);
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
                    pass.rows.push(Row {
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
            pass.rows.push(row);
        }
        pass.messages.push(TracksMessage {
            schema: SCHEMA_VERSION,
            store: store_id.to_string(),
            seq: seq as u64,
            time: tick.time,
            tracks,
        });
    }
    if opts.smooth {
        let mut smoothed: HashMap<(i64, i64), [f64; 4]> = HashMap::new();
        for (id, st) in &states {
            let filter: Vec<FilterState> = st.iter().map(|s| s.1).collect();
            let out = walkout_track::smooth(&filter, opts.tracker.accel_sigma);
            for ((frame, _), x) in st.iter().zip(out) {
                smoothed.insert((*frame, *id as i64), x);
            }
        }
        for r in &mut pass.rows {
            if let Some(x) = smoothed.get(&(r.frame, r.id)) {
                (r.x, r.y) = (x[0], x[1]);
                // As live: towards the measurement of that tick (a smooth motion model lags
                // turns), where several views placed it (one view's is a long ellipse).
                if let Some(m) = seen_at.get(&(r.frame, r.id)) {
                    let w = opts.smooth_measurement_weight.clamp(0.0, 1.0);
                    r.x += w * (m[0] - r.x);
                    r.y += w * (m[1] - r.y);
                }
            }
        }
    }
    pass
}

/// Tracks are born only where two views agree, so a person walking in seen by one camera is
/// tracked from the tick a second camera sees them; played backwards, the same person is
/// already tracked there and the single views keep them. Each forward track whose first
/// `BACKWARD_MATCH_ROWS` rows (two at least) a backward track follows within `BACKWARD_MATCH_M` on average
/// takes that backward track's rows before its start, tick by tick back while no other track is
/// within `BACKWARD_DUPLICATE_M` there. (Extending track ends the same way gained nothing on
/// WILDTRACK: the forward tracker keeps single views of a track it already has.) `order`:
/// every input frame, in time order.
fn extend_from_backward(rows: &mut Vec<Row>, backward: &[Row], order: &[i64]) {
    const BACKWARD_MATCH_ROWS: usize = 3;
    const BACKWARD_MATCH_M: f64 = 0.3;
    const BACKWARD_DUPLICATE_M: f64 = 0.5;
    let by_track = |rows: &[Row]| {
        let mut m: BTreeMap<i64, BTreeMap<i64, [f64; 2]>> = BTreeMap::new();
        for r in rows {
            m.entry(r.id).or_default().insert(r.frame, [r.x, r.y]);
        }
        m
    };
    let forward = by_track(rows);
    let backward = by_track(backward);
    let mut at_frame: HashMap<i64, Vec<[f64; 2]>> = HashMap::new();
    for r in rows.iter() {
        at_frame.entry(r.frame).or_default().push([r.x, r.y]);
    }
    let index: HashMap<i64, usize> = order.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    let dist = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
    let mut added = Vec::new();
    for (&id, track) in &forward {
        let first: Vec<(i64, [f64; 2])> = track
            .iter()
            .take(BACKWARD_MATCH_ROWS)
            .map(|(f, p)| (*f, *p))
            .collect();
        // A track of one row has no course to follow.
        let Some(&(start, _)) = first.first().filter(|_| first.len() >= 2) else {
            continue;
        };
        let need = 2;
        let follows = backward
            .values()
            .filter_map(|b| {
                let d: Vec<f64> = first
                    .iter()
                    .filter_map(|(f, p)| Some(dist(*p, *b.get(f)?)))
                    .collect();
                let mean = d.iter().sum::<f64>() / d.len().max(1) as f64;
                (d.len() >= need && mean < BACKWARD_MATCH_M).then_some((mean, b))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let (Some((_, b)), Some(&at)) = (follows, index.get(&start)) else {
            continue;
        };
        for &f in order[..at].iter().rev() {
            let Some(&p) = b.get(&f) else {
                break;
            };
            let others = at_frame.entry(f).or_default();
            if others.iter().any(|q| dist(*q, p) < BACKWARD_DUPLICATE_M) {
                break;
            }
            others.push(p);
            added.push(Row {
                frame: f,
                id,
                x: p[0],
                y: p[1],
            });
        }
    }
    rows.extend(added);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_track_takes_the_backward_track_that_follows_it_back_to_where_it_meets_another() {
        let order: Vec<i64> = (0..12).map(|k| 5 * k).collect();
        // Forward: track 1 walks along x from frame 25 on; track 2 stands at (0.6, 0.2) at
        // frame 5 only.
        let mut rows: Vec<Row> = (5..12)
            .map(|k| Row::new(5 * k, 1, 0.5 * k as f64, 0.0))
            .collect();
        rows.push(Row::new(5, 2, 0.6, 0.2));
        // Backward: track 7 follows track 1 (within 5 cm) and goes on back to frame 0; track 8
        // runs 1 m beside it.
        let mut backward: Vec<Row> = (0..12)
            .map(|k| Row::new(5 * k, 7, 0.5 * k as f64 + 0.05, 0.0))
            .collect();
        backward.extend((0..12).map(|k| Row::new(5 * k, 8, 0.5 * k as f64, 1.0)));
        extend_from_backward(&mut rows, &backward, &order);
        let mut added: Vec<(i64, i64)> = rows[8..].iter().map(|r| (r.frame, r.id)).collect();
        added.sort_unstable();
        // Frames 20, 15, 10 back; at frame 5 track 2 stands 0.2 m from the backward track's
        // row: that is someone else's place, so the extension stops. Track 2, one row, has no
        // course to follow and is not extended.
        assert_eq!(added, vec![(10, 1), (15, 1), (20, 1)]);
        assert!(
            rows[8..].iter().all(|r| r.y == 0.0),
            "rows of the track that follows"
        );
    }
}
