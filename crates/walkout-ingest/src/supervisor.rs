//! One supervisor thread per camera (the gst-plugins-rs `fallbacksrc` idea): a typed state
//! machine that starts the camera's pipeline, watches it, and on end of stream, error or "no frame
//! for N seconds" (a frozen server sends neither) tears it down and rebuilds it after a jittered,
//! doubling backoff. A configuration error (a pipeline that cannot be built) fails for good: no
//! retry storm. Frames go to the camera's drop-oldest queue, so a slow consumer never blocks a
//! camera, and one camera's trouble never touches another's thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use walkout_types::{CameraHealth, CameraState};

use crate::queue;
use crate::source::{Frame, IngestError, Source, SourceParams};

/// Why a camera was disconnected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryReason {
    EndOfStream,
    Error(String),
    /// No frame for the watchdog time.
    Stalled,
}

/// Supervisor timing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SupervisorConfig {
    /// No frame for this long means the source is stalled.
    pub watchdog: Duration,
    /// First backoff; doubles up to `backoff_max`, jittered by +-`jitter` (fraction).
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    pub jitter: f64,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        SupervisorConfig {
            watchdog: Duration::from_secs(3),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            jitter: 0.2,
        }
    }
}

/// The doubling backoff with jitter; `attempt` counts from 0.
pub fn backoff(cfg: &SupervisorConfig, attempt: u32, unit_random: f64) -> Duration {
    let base = cfg.backoff_initial.as_secs_f64() * 2f64.powi(attempt.min(30) as i32);
    let capped = base.min(cfg.backoff_max.as_secs_f64());
    let j = 1.0 + cfg.jitter * (2.0 * unit_random.clamp(0.0, 1.0) - 1.0);
    Duration::from_secs_f64((capped * j).max(0.0))
}

/// What a camera's supervisor reports.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraStatus {
    pub camera: String,
    pub state: CameraState,
    pub reason: Option<String>,
    pub frames: u64,
    pub drops: u64,
    pub reconnects: u64,
    /// Frames per second over the last second.
    pub fps: f64,
    pub last_frame: Option<Instant>,
    /// Every state this camera went through, in order (for health and tests).
    pub transitions: Vec<(CameraState, Option<String>)>,
}

impl CameraStatus {
    fn new(camera: &str) -> CameraStatus {
        CameraStatus {
            camera: camera.into(),
            state: CameraState::Connecting,
            reason: None,
            frames: 0,
            drops: 0,
            reconnects: 0,
            fps: 0.0,
            last_frame: None,
            transitions: vec![(CameraState::Connecting, None)],
        }
    }

    /// The health message entry of this camera.
    pub fn health(&self) -> CameraHealth {
        CameraHealth {
            camera: self.camera.clone(),
            state: self.state,
            fps: self.fps,
            frames: self.frames,
            drops: self.drops,
            reconnects: self.reconnects,
            last_frame_age_s: self.last_frame.map(|t| t.elapsed().as_secs_f64()),
            reason: self.reason.clone(),
        }
    }
}

/// A running camera supervisor.
pub struct Supervisor {
    status: Arc<Mutex<CameraStatus>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Supervisor {
    /// Starts supervising `camera`; frames go to `frames`.
    pub fn spawn(
        camera: &str,
        template: &'static str,
        params: SourceParams,
        cfg: SupervisorConfig,
        frames: queue::Sender<Frame>,
    ) -> Supervisor {
        let status = Arc::new(Mutex::new(CameraStatus::new(camera)));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, cam) = (status.clone(), stop.clone(), camera.to_string());
        let thread = std::thread::Builder::new()
            .name(format!("camera {camera}"))
            .spawn(move || run(&cam, template, &params, &cfg, &frames, &s, &st))
            .ok();
        Supervisor {
            status,
            stop,
            thread,
        }
    }

    pub fn status(&self) -> CameraStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops the camera and waits for its thread.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn set_state(status: &Mutex<CameraStatus>, state: CameraState, reason: Option<String>) {
    let mut s = status.lock().unwrap_or_else(|e| e.into_inner());
    if s.state != state || s.reason != reason {
        tracing::info!(camera = %s.camera, from = ?s.state, to = ?state, reason = ?reason, "camera state");
        s.transitions.push((state, reason.clone()));
    }
    s.state = state;
    s.reason = reason;
}

/// Sleeps up to `d`, waking early when asked to stop. Returns false when stopping.
fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(
            Duration::from_millis(20).min(end.saturating_duration_since(Instant::now())),
        );
    }
    !stop.load(Ordering::Relaxed)
}

fn run(
    camera: &str,
    template: &'static str,
    params: &SourceParams,
    cfg: &SupervisorConfig,
    frames: &queue::Sender<Frame>,
    status: &Mutex<CameraStatus>,
    stop: &AtomicBool,
) {
    let mut attempt = 0u32;
    // A small deterministic jitter source (no shared RNG between cameras).
    let mut seed = camera.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    while !stop.load(Ordering::Relaxed) {
        set_state(status, CameraState::Connecting, None);
        let reason = match Source::start(camera, template, params) {
            Err(
                e @ (IngestError::Build { .. }
                | IngestError::NotPipeline { .. }
                | IngestError::NoSink { .. }
                | IngestError::Init(_)),
            ) => {
                // The configuration is wrong: retrying cannot help.
                set_state(status, CameraState::Failed, Some(e.to_string()));
                return;
            }
            Ok(mut source) => match stream(&mut source, cfg, frames, status, stop, &mut attempt) {
                // A URL that serves no video is a configuration error too.
                Err(e @ IngestError::NotVideo { .. }) => {
                    set_state(status, CameraState::Failed, Some(e.to_string()));
                    return;
                }
                Err(e) => RetryReason::Error(e.to_string()),
                Ok(reason) => reason,
            },
            Err(e @ IngestError::NotVideo { .. }) => {
                // The configuration is wrong: retrying cannot help.
                set_state(status, CameraState::Failed, Some(e.to_string()));
                return;
            }
            Err(e) => RetryReason::Error(e.to_string()),
        };
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let state = if reason == RetryReason::Stalled {
            CameraState::Stalled
        } else {
            CameraState::BackingOff
        };
        let text = match &reason {
            RetryReason::EndOfStream => "end of stream".to_string(),
            RetryReason::Stalled => format!("no frame for {:.1} s", cfg.watchdog.as_secs_f64()),
            RetryReason::Error(e) => e.clone(),
        };
        set_state(status, state, Some(text.clone()));
        let wait = backoff(cfg, attempt, random());
        attempt = attempt.saturating_add(1);
        set_state(status, CameraState::BackingOff, Some(text));
        if !pause(wait, stop) {
            break;
        }
        status.lock().unwrap_or_else(|e| e.into_inner()).reconnects += 1;
    }
}

/// Pulls frames until the stream ends, fails or stalls (or until asked to stop).
fn stream(
    source: &mut Source,
    cfg: &SupervisorConfig,
    frames: &queue::Sender<Frame>,
    status: &Mutex<CameraStatus>,
    stop: &AtomicBool,
    attempt: &mut u32,
) -> Result<RetryReason, IngestError> {
    let mut last = Instant::now();
    let mut window: Vec<Instant> = Vec::new();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(RetryReason::EndOfStream);
        }
        match source.next_frame(Duration::from_millis(100)) {
            Ok(Some(frame)) => {
                let now = Instant::now();
                last = now;
                *attempt = 0;
                window.push(now);
                window.retain(|t| now.duration_since(*t) <= Duration::from_secs(1));
                let dropped = frames.send(frame).is_some();
                let mut s = status.lock().unwrap_or_else(|e| e.into_inner());
                s.frames += 1;
                s.drops += u64::from(dropped);
                s.fps = window.len() as f64;
                s.last_frame = Some(now);
                drop(s);
                set_state(status, CameraState::Streaming, None);
            }
            Ok(None) if source.is_eos() => return Ok(RetryReason::EndOfStream),
            Ok(None) => {
                if last.elapsed() >= cfg.watchdog {
                    return Ok(RetryReason::Stalled);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_bounded_jitter() {
        let cfg = SupervisorConfig::default();
        let mid = |a| backoff(&cfg, a, 0.5).as_secs_f64();
        assert_eq!(
            [mid(0), mid(1), mid(2), mid(3), mid(4), mid(10)],
            [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
        );
        assert!((backoff(&cfg, 0, 0.0).as_secs_f64() - 0.4).abs() < 1e-9);
        assert!((backoff(&cfg, 0, 1.0).as_secs_f64() - 0.6).abs() < 1e-9);
    }
}
