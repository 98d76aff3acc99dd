//! Camera capture jobs on a store config: recording every camera to segmented MKV, and running
//! the ingest path alone (live cameras, a recording, or one video file) to measure it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use walkout_geometry::{ConfigError, StoreConfig};
use walkout_ingest::queue;
use walkout_ingest::record::{self, Pace, Player, RecordParams, RecordStatus, Recorder, Repeat};
use walkout_ingest::source::{Frame, IngestError, Source, SourceParams, templates};
use walkout_ingest::supervisor::{Supervisor, SupervisorConfig};

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{config}: camera {camera} has no `source` to record from")]
    NoSource { config: PathBuf, camera: String },
    #[error(transparent)]
    Record(#[from] record::RecordError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

/// Default latency of live cameras, milliseconds.
pub const LIVE_LATENCY_MS: u32 = 200;

/// Records every camera of `config` into `out/<camera id>/` for `seconds`; returns each
/// camera's final status. `progress` is called about once a second.
pub fn record(
    config: &Path,
    out: &Path,
    seconds: f64,
    segment: Duration,
    mut progress: impl FnMut(f64, &[(String, RecordStatus)]),
) -> Result<Vec<(String, RecordStatus)>, CaptureError> {
    let store = StoreConfig::load(config)?;
    let mut recorders = Vec::new();
    for cam in &store.cameras {
        let id = cam.camera.id.clone();
        let source = cam.source.clone().ok_or_else(|| CaptureError::NoSource {
            config: config.to_path_buf(),
            camera: id.clone(),
        })?;
        let template = record::record_templates::for_camera(cam.pipeline.as_deref(), &source);
        let params = RecordParams {
            location: source,
            latency_ms: LIVE_LATENCY_MS,
            segment,
            dir: out.join(&id),
        };
        recorders.push((
            id.clone(),
            Recorder::spawn(&id, template, params, SupervisorConfig::default())?,
        ));
    }
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds {
        std::thread::sleep(Duration::from_secs(1).min(Duration::from_secs_f64(
            (seconds - start.elapsed().as_secs_f64()).max(0.0),
        )));
        let now: Vec<(String, RecordStatus)> = recorders
            .iter()
            .map(|(id, r)| (id.clone(), r.status()))
            .collect();
        progress(start.elapsed().as_secs_f64(), &now);
        // File sources end by themselves; a config error ends a camera for good.
        let done = |s: &RecordStatus| {
            matches!(
                s.state,
                Some(walkout_types::CameraState::Finished | walkout_types::CameraState::Failed)
            )
        };
        if now.iter().all(|(_, s)| done(s)) {
            break;
        }
    }
    Ok(recorders
        .into_iter()
        .map(|(id, r)| (id, r.stop()))
        .collect())
}

/// What an ingest run measured for one camera.
#[derive(Debug, Clone, Default)]
pub struct IngestSummary {
    pub camera: String,
    pub frames: u64,
    pub drops: u64,
    pub width: u32,
    pub height: u32,
}

/// Where an ingest run takes its frames from.
#[derive(Debug, Clone)]
pub enum IngestInput {
    /// The store config's cameras, live.
    Cameras,
    /// A recording directory made by `record`.
    Recording {
        dir: PathBuf,
        realtime: bool,
        /// Play it over and over (soak tests; stop with `seconds`).
        repeat: bool,
    },
    /// One video file, decoded as fast as possible (the decode bench).
    Video(PathBuf),
}

/// Runs the ingest path alone (decode to I420/NV12 frames, no detection) and counts frames.
/// Stops after `seconds` (live cameras, real-time recordings) or at the end of the input.
pub fn ingest(
    config: Option<&Path>,
    input: &IngestInput,
    seconds: Option<f64>,
    mut progress: impl FnMut(f64, &[IngestSummary]),
) -> Result<Vec<IngestSummary>, CaptureError> {
    let start = Instant::now();
    let deadline = |s: &Instant| seconds.is_some_and(|limit| s.elapsed().as_secs_f64() >= limit);
    if let IngestInput::Video(path) = input {
        let params = SourceParams {
            location: path.to_string_lossy().to_string(),
            latency_ms: 0,
            live: false,
        };
        let mut src = Source::start("video", templates::FILE, &params)?;
        let mut sum = IngestSummary {
            camera: "video".into(),
            ..Default::default()
        };
        let mut last_report = Instant::now();
        while !deadline(&start) {
            match src.next_frame(Duration::from_millis(500))? {
                Some(f) => {
                    count(&mut sum, &f);
                }
                None if src.is_eos() => break,
                None => {}
            }
            if last_report.elapsed() >= Duration::from_secs(1) {
                last_report = Instant::now();
                progress(start.elapsed().as_secs_f64(), std::slice::from_ref(&sum));
            }
        }
        return Ok(vec![sum]);
    }
    let config = config.ok_or_else(|| CaptureError::NoSource {
        config: PathBuf::new(),
        camera: "(no store config given)".into(),
    })?;
    let store = StoreConfig::load(config)?;
    let ids: Vec<String> = store.cameras.iter().map(|c| c.camera.id.clone()).collect();
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for _ in &ids {
        let (tx, rx) = queue::bounded::<Frame>(8);
        senders.push(tx);
        receivers.push(rx);
    }
    let mut sums: Vec<IngestSummary> = ids
        .iter()
        .map(|id| IngestSummary {
            camera: id.clone(),
            ..Default::default()
        })
        .collect();
    let mut supervisors = Vec::new();
    let mut player = None;
    match input {
        IngestInput::Cameras => {
            for (cam, tx) in store.cameras.iter().zip(senders) {
                let id = &cam.camera.id;
                let source = cam.source.clone().ok_or_else(|| CaptureError::NoSource {
                    config: config.to_path_buf(),
                    camera: id.clone(),
                })?;
                let (template, params) =
                    templates::for_camera(cam.pipeline.as_deref(), source, LIVE_LATENCY_MS);
                supervisors.push(Supervisor::spawn(
                    id,
                    template,
                    params,
                    SupervisorConfig::default(),
                    tx,
                ));
            }
        }
        IngestInput::Recording {
            dir,
            realtime,
            repeat,
        } => {
            let pace = if *realtime {
                Pace::RealTime
            } else {
                Pace::Fast
            };
            let repeat = if *repeat {
                Repeat::Forever
            } else {
                Repeat::Once
            };
            player = Some(Player::start(dir, &ids, senders, pace, repeat)?);
        }
        IngestInput::Video(_) => {}
    }
    let mut last_report = Instant::now();
    loop {
        let mut any = false;
        for (rx, sum) in receivers.iter().zip(sums.iter_mut()) {
            while let Some(f) = rx.recv_timeout(Duration::ZERO) {
                count(sum, &f);
                any = true;
            }
            sum.drops = rx.stats().dropped;
        }
        if last_report.elapsed() >= Duration::from_secs(1) {
            last_report = Instant::now();
            progress(start.elapsed().as_secs_f64(), &sums);
        }
        if deadline(&start) {
            break;
        }
        if player.is_some() && receivers.iter().all(|r| r.is_finished()) {
            break;
        }
        if !any {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    for s in supervisors {
        s.stop();
    }
    if let Some(p) = player {
        let finished = receivers.iter().all(|r| r.is_finished());
        if finished {
            for r in p.join() {
                r?;
            }
        }
        // Otherwise dropping the player stops it (a time limit cut a replay short).
    }
    Ok(sums)
}

fn count(sum: &mut IngestSummary, f: &Frame) {
    sum.frames += 1;
    sum.width = f.width;
    sum.height = f.height;
}
