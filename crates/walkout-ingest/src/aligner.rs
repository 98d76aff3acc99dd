//! Groups the frames of all cameras into ticks by capture time (the copper-rs `cu_aligner` idea):
//! ticks at the store's processing rate; each tick takes, per camera, the frame closest to the tick
//! time within the alignment window. A tick is emitted as soon as every camera has a frame at or
//! after the tick time (later frames can only be farther from it), or when the stale horizon has passed, with whatever cameras are present: a camera
//! that is late or down never blocks the others. Frames that arrive after their tick was emitted
//! are dropped and counted.

use std::collections::VecDeque;

/// Aligner timing, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignerConfig {
    /// Time between ticks (1 / processing rate).
    pub period_s: f64,
    /// A frame belongs to a tick when |frame time - tick time| <= window.
    pub window_s: f64,
    /// How long after a tick's time the aligner waits for missing cameras.
    pub stale_s: f64,
}

/// One tick: per camera (in the aligner's camera order) its frame, if present.
#[derive(Debug)]
pub struct Tick<T> {
    pub seq: u64,
    pub time_s: f64,
    pub frames: Vec<Option<(f64, T)>>,
}

impl<T> Tick<T> {
    /// Indices of the cameras present in this tick.
    pub fn present(&self) -> Vec<usize> {
        self.frames
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_some())
            .map(|(i, _)| i)
            .collect()
    }
}

/// Counters for health.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AlignerStats {
    pub ticks: u64,
    /// Frames that came after their tick was emitted.
    pub late: u64,
    /// Frames that no tick took (between ticks, or superseded by a closer frame).
    pub unused: u64,
}

pub struct Aligner<T> {
    cfg: AlignerConfig,
    buffers: Vec<VecDeque<(f64, T)>>,
    next_tick: Option<f64>,
    seq: u64,
    pub stats: AlignerStats,
}

impl<T> Aligner<T> {
    pub fn new(cameras: usize, cfg: AlignerConfig) -> Aligner<T> {
        Aligner {
            cfg,
            buffers: (0..cameras).map(|_| VecDeque::new()).collect(),
            next_tick: None,
            seq: 0,
            stats: AlignerStats::default(),
        }
    }

    /// Adds a frame of `camera` captured at `time_s`.
    pub fn push(&mut self, camera: usize, time_s: f64, item: T) {
        let Some(buf) = self.buffers.get_mut(camera) else {
            return;
        };
        let tick = *self.next_tick.get_or_insert(time_s);
        if time_s < tick - self.cfg.window_s {
            self.stats.late += 1;
            return;
        }
        // Keep each buffer ordered by time.
        let at = buf
            .iter()
            .position(|(t, _)| *t > time_s)
            .unwrap_or(buf.len());
        buf.insert(at, (time_s, item));
    }

    /// Changes the camera set (a config reload): new camera `i` takes the buffered frames of old
    /// camera `keep[i]`, or starts empty when `keep[i]` is `None`. Tick numbering and timing go
    /// on; frames of cameras no longer present are dropped and counted as unused.
    pub fn set_cameras(&mut self, keep: &[Option<usize>]) {
        let mut old: Vec<Option<VecDeque<(f64, T)>>> = self.buffers.drain(..).map(Some).collect();
        self.buffers = keep
            .iter()
            .map(|k| k.and_then(|k| old.get_mut(k)?.take()).unwrap_or_default())
            .collect();
        self.stats.unused += old.iter().flatten().map(|b| b.len() as u64).sum::<u64>();
    }

    /// The next tick, if it is complete or stale at `now_s` (the store clock).
    pub fn poll(&mut self, now_s: f64) -> Option<Tick<T>> {
        let tick = self.next_tick?;
        // A camera is settled for this tick once it has a frame at or after the tick time
        // (frames come in time order, so any later one would be farther from the tick); a frame
        // inside the window before it counts too: ticks are phased by the first frame, and a
        // camera whose clock then shifts (arrival time -> RTCP/NTP time) would otherwise make
        // every tick wait one frame interval for the next frame.
        let settle = tick - self.cfg.window_s;
        let complete = self
            .buffers
            .iter()
            .all(|b| b.back().is_some_and(|(t, _)| *t >= settle));
        if !complete && now_s < tick + self.cfg.stale_s {
            return None;
        }
        let mut frames = Vec::with_capacity(self.buffers.len());
        for buf in &mut self.buffers {
            // Frames too old for this tick are unused.
            while buf
                .front()
                .is_some_and(|(t, _)| *t < tick - self.cfg.window_s)
            {
                buf.pop_front();
                self.stats.unused += 1;
            }
            let best = buf
                .iter()
                .enumerate()
                .filter(|(_, (t, _))| (t - tick).abs() <= self.cfg.window_s)
                .min_by(|a, b| (a.1.0 - tick).abs().total_cmp(&(b.1.0 - tick).abs()))
                .map(|(i, _)| i);
            frames.push(best.and_then(|i| {
                // Frames before the chosen one are superseded.
                for _ in 0..i {
                    buf.pop_front();
                    self.stats.unused += 1;
                }
                buf.pop_front()
            }));
        }
        let out = Tick {
            seq: self.seq,
            time_s: tick,
            frames,
        };
        self.seq += 1;
        self.stats.ticks += 1;
        self.next_tick = Some(tick + self.cfg.period_s);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AlignerConfig {
        AlignerConfig {
            period_s: 1.0 / 15.0,
            window_s: 0.02,
            stale_s: 0.2,
        }
    }

    #[test]
    fn cameras_with_offsets_and_jitter_form_complete_ticks() {
        let mut a = Aligner::new(3, cfg());
        let mut ticks = Vec::new();
        for k in 0..60 {
            let base = k as f64 / 15.0;
            for cam in 0..3 {
                let jitter = ((k * 7 + cam * 3) % 5) as f64 * 0.002 - 0.004;
                a.push(cam, base + cam as f64 * 0.005 + jitter, (cam, k));
            }
            while let Some(t) = a.poll(base) {
                ticks.push(t);
            }
        }
        assert!(ticks.len() >= 58, "{}", ticks.len());
        for t in &ticks {
            assert_eq!(t.present(), vec![0, 1, 2], "tick {} at {}", t.seq, t.time_s);
            // All frames of a tick are the same frame number.
            let ks: Vec<usize> = t.frames.iter().flatten().map(|(_, (_, k))| *k).collect();
            assert!(ks.windows(2).all(|w| w[0] == w[1]), "{ks:?}");
        }
        assert_eq!(a.stats.late, 0);
    }

    #[test]
    fn a_camera_that_stops_never_blocks_the_others() {
        let mut a = Aligner::new(2, cfg());
        let mut ticks = Vec::new();
        for k in 0..30 {
            let t = k as f64 / 15.0;
            a.push(0, t, k);
            if k < 10 {
                a.push(1, t, k);
            }
            while let Some(tick) = a.poll(t) {
                ticks.push(tick);
            }
        }
        // Camera 1 stopped at frame 10: later ticks still come (after the stale horizon), with
        // camera 0 only, and at most stale/period ticks behind real time.
        assert!(ticks.len() >= 30 - 4, "{}", ticks.len());
        assert!(ticks.iter().skip(12).all(|t| t.present() == vec![0]));
        assert!(ticks.iter().take(9).all(|t| t.present() == vec![0, 1]));
    }

    #[test]
    fn a_camera_set_change_keeps_ticking_and_moves_buffered_frames() {
        let mut a = Aligner::new(2, cfg());
        a.push(0, 0.0, "a0");
        a.push(1, 0.0, "b0");
        let t0 = a.poll(0.0).expect("tick 0");
        assert_eq!(t0.present(), vec![0, 1]);
        let p = 1.0 / 15.0;
        a.push(0, p, "a1");
        a.push(1, p, "b1");
        // Camera 0 is removed, camera 1 stays (now index 0), a new camera joins (index 1).
        a.set_cameras(&[Some(1), None]);
        assert_eq!(a.stats.unused, 1);
        a.push(1, p, "c1");
        let t1 = a.poll(p).expect("tick 1");
        assert_eq!(t1.seq, 1);
        assert!((t1.time_s - p).abs() < 1e-9);
        let items: Vec<&str> = t1.frames.iter().flatten().map(|(_, x)| *x).collect();
        assert_eq!(items, vec!["b1", "c1"]);
    }

    #[test]
    fn late_frames_are_dropped_and_counted() {
        let mut a = Aligner::new(2, cfg());
        a.push(0, 0.0, 0);
        a.push(1, 0.0, 0);
        a.push(0, 0.07, 1);
        a.push(1, 0.07, 1);
        assert!(a.poll(0.0).is_some());
        // A frame for the tick already emitted arrives now.
        a.push(1, -0.05, 99);
        assert_eq!(a.stats.late, 1);
    }
}
