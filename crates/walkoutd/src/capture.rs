//! `walkoutd record` and `walkoutd ingest`: output for the capture jobs of walkout-runtime.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use walkout_runtime::capture::{self, IngestInput};

#[derive(clap::Args)]
pub struct RecordArgs {
    /// Store config (TOML): every camera with a `source` is recorded.
    #[arg(long)]
    config: PathBuf,
    /// Output directory: one folder per camera id with segments and `segments.csv`.
    #[arg(long)]
    out: PathBuf,
    /// How long to record, seconds.
    #[arg(long)]
    seconds: f64,
    /// Longest segment, seconds (segments split at keyframes).
    #[arg(long, default_value_t = 60.0)]
    segment: f64,
}

#[derive(clap::Args)]
pub struct IngestArgs {
    /// Store config (TOML); its cameras are the sources unless --recording or --video is given.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Replay this recording (made by `walkoutd record`) as the store's cameras.
    #[arg(long, conflicts_with = "video")]
    recording: Option<PathBuf>,
    /// With --recording: at the recorded rate on one shared clock (default: as fast as possible).
    #[arg(long)]
    realtime: bool,
    /// With --recording: play it over and over (soak tests; stop with --seconds).
    #[arg(long = "loop", requires = "recording")]
    repeat: bool,
    /// Decode one video file as fast as possible (the decode bench).
    #[arg(long)]
    video: Option<PathBuf>,
    /// Stop after this many seconds.
    #[arg(long)]
    seconds: Option<f64>,
}

/// CPU time of this process so far (user + system), from `/proc/self/stat` (Linux; its tick is
/// the fixed USER_HZ of 100 per second). Zero where unavailable.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return Duration::ZERO;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |k: usize| f.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Resident set size of this process, KiB (Linux).
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn record(args: &RecordArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.seconds.is_finite() && args.seconds > 0.0,
        "--seconds must be a positive number of seconds, got {}",
        args.seconds
    );
    anyhow::ensure!(
        args.segment.is_finite() && args.segment >= 1.0,
        "--segment must be at least 1 second, got {}",
        args.segment
    );
    let statuses = capture::record(
        &args.config,
        &args.out,
        args.seconds,
        Duration::from_secs_f64(args.segment),
        |t, now| {
            let line: Vec<String> = now
                .iter()
                .map(|(id, s)| match s.state {
                    Some(st) => format!("{id} {st:?}"),
                    None => format!("{id} starting"),
                })
                .collect();
            eprintln!("[{t:5.1} s] {}", line.join(" | "));
        },
    )
    .with_context(|| format!("recording {}", args.config.display()))?;
    for (id, s) in &statuses {
        println!(
            "{id}: {} frames in {} segments, {} reconnects -> {}",
            s.frames,
            s.segments,
            s.reconnects,
            args.out.join(id).display()
        );
    }
    Ok(())
}

pub fn ingest(args: &IngestArgs) -> anyhow::Result<()> {
    let input = match (&args.recording, &args.video) {
        (Some(dir), _) => IngestInput::Recording {
            dir: dir.clone(),
            realtime: args.realtime,
            repeat: args.repeat,
        },
        (None, Some(v)) => IngestInput::Video(v.clone()),
        (None, None) => IngestInput::Cameras,
    };
    let (wall0, cpu0) = (Instant::now(), cpu_time());
    let sums = capture::ingest(args.config.as_deref(), &input, args.seconds, |t, s| {
        let line: Vec<String> = s
            .iter()
            .map(|c| format!("{} {} frames", c.camera, c.frames))
            .collect();
        let rss = rss_kib().map_or(String::new(), |k| {
            format!(" | RSS {:.1} MiB", k as f64 / 1024.0)
        });
        eprintln!("[{t:5.1} s] {}{rss}", line.join(" | "));
    })
    .context("ingest")?;
    let wall = wall0.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu0).as_secs_f64();
    let total: u64 = sums.iter().map(|s| s.frames).sum();
    if let Some(rss) = rss_kib() {
        println!("resident memory at the end: {:.1} MiB", rss as f64 / 1024.0);
    }
    for s in &sums {
        println!(
            "{}: {} frames {}x{}, {:.1} fps, {} dropped",
            s.camera,
            s.frames,
            s.width,
            s.height,
            s.frames as f64 / wall,
            s.drops
        );
    }
    println!(
        "total: {total} frames in {wall:.2} s = {:.1} fps; CPU {cpu:.2} s = {:.0}% of one core ({:.0}% per stream)",
        total as f64 / wall,
        100.0 * cpu / wall,
        100.0 * cpu / wall / sums.len().max(1) as f64
    );
    Ok(())
}
