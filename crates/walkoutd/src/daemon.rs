//! `walkoutd run`, `walkoutd demo` and `walkoutd bench`: output and signals around
//! walkout-runtime's daemon.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use glam::DVec2;
use walkout_bus::BusConfig;
use walkout_runtime::daemon::{self, DaemonInput, DaemonOptions, Role, Summary};

use crate::replay::Compute;

#[derive(clap::Args, Clone)]
pub struct BusArgs {
    /// zenoh mode: peer or client (default: the store config's `[bus] mode`, else peer).
    #[arg(long)]
    mode: Option<String>,
    /// zenoh endpoint to listen on (repeatable), e.g. tcp/127.0.0.1:7447; replaces the store
    /// config's `[bus] listen`.
    #[arg(long)]
    listen: Vec<String>,
    /// zenoh endpoint to connect to (repeatable); replaces the store config's `[bus] connect`.
    #[arg(long)]
    connect: Vec<String>,
    /// Turn on zenoh's multicast scouting (off: peers are listed explicitly).
    #[arg(long)]
    scouting: bool,
}

impl BusArgs {
    /// The store config's `[bus]` section with the command line's overrides.
    fn config(&self, config: &Path) -> anyhow::Result<BusConfig> {
        let store = walkout_geometry::StoreConfig::load(config)?;
        let section = store.bus.unwrap_or_default();
        let pick =
            |cli: &Vec<String>, file: Vec<String>| if cli.is_empty() { file } else { cli.clone() };
        Ok(BusConfig {
            mode: self
                .mode
                .clone()
                .or(section.mode)
                .unwrap_or_else(|| "peer".into()),
            listen: pick(&self.listen, section.listen),
            connect: pick(&self.connect, section.connect),
            multicast_scouting: self.scouting || section.multicast_scouting,
        })
    }
}

#[derive(clap::Args, Clone)]
pub struct PipelineArgs {
    /// Where preprocessing and the occupancy grid run.
    #[arg(long, value_enum, default_value_t = Compute::Auto)]
    compute: Compute,
    /// Detector of the model manifest.
    #[arg(long, default_value = "yolox_nano")]
    detector: String,
    /// ONNX Runtime execution provider: cpu, cuda or tensorrt.
    #[arg(long, default_value = "cpu")]
    provider: String,
    /// Threads inside one ONNX operator.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Processing rate, ticks per second [default: 10; the MultiviewX demo: 2, its frame rate].
    #[arg(long)]
    rate: Option<f64>,
}

impl PipelineArgs {
    fn apply(&self, o: &mut DaemonOptions) -> anyhow::Result<()> {
        o.compute = self.compute.path();
        o.detector = self.detector.clone();
        o.runtime.provider = self.provider.parse()?;
        o.runtime.intra_threads = self.threads;
        let rate = self.rate.unwrap_or(10.0);
        anyhow::ensure!(
            rate.is_finite() && rate > 0.0,
            "--rate must be a positive number of ticks per second, got {rate}"
        );
        o.rate_hz = rate;
        Ok(())
    }
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Store config (TOML).
    #[arg(long)]
    config: PathBuf,
    /// `all`: every stage in this process; `edge`: ingest and detection for --cameras,
    /// publishing per-view detections on walkout/<store>/views/<camera>; `fusion`: subscribes to
    /// the views and runs fusion, tracking and publishing.
    #[arg(long, default_value = "all", value_parser = ["all", "edge", "fusion"])]
    role: String,
    /// With --role edge: the cameras this process runs (comma-separated ids; default all).
    #[arg(long, value_delimiter = ',')]
    cameras: Vec<String>,
    /// Stop after this many seconds (default: until SIGTERM/SIGINT).
    #[arg(long)]
    seconds: Option<f64>,
    #[command(flatten)]
    bus: BusArgs,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Store config of the demo: PETS 2009 S2L1 (one camera, served over RTSP), or
    /// calibration/multiviewx.toml (the MultiviewX sample: 6 cameras, their 10 frames encoded to
    /// video at start).
    #[arg(long, default_value = "calibration/pets2009-s2l1.toml")]
    config: PathBuf,
    /// How long to run, seconds [default: the video's length: PETS about 80 s at its 10 fps,
    /// MultiviewX 5 s at 2 fps].
    #[arg(long)]
    seconds: Option<f64>,
    /// Floor plan of the tracks, written at the end.
    #[arg(long, default_value = "demo-tracks.png")]
    png: PathBuf,
    #[command(flatten)]
    bus: BusArgs,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Store config (TOML).
    #[arg(long)]
    config: PathBuf,
    /// A video file played as the store's (first) camera.
    #[arg(long, conflicts_with = "recording")]
    video: Option<PathBuf>,
    /// A recording directory made by `walkoutd record`.
    #[arg(long)]
    recording: Option<PathBuf>,
    /// At the recorded rate instead of as fast as possible.
    #[arg(long)]
    realtime: bool,
    /// Ground truth CSV (`frame,id,x,y`, frame = 0-based video frame index) to score against.
    #[arg(long)]
    gt: Option<PathBuf>,
    /// Match threshold for scoring, metres.
    #[arg(long, default_value_t = 1.0)]
    thr: f64,
    /// Write the tracks (`frame,id,x,y`, frame = 0-based video frame index).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

/// A stop flag raised by SIGTERM or SIGINT.
fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.clone()).context("installing a signal handler")?;
    }
    Ok(stop)
}

fn line(s: &Summary) -> String {
    let cams: Vec<String> = s
        .cameras
        .iter()
        .map(|c| format!("{} {:?} {:.0} fps", c.camera, c.state, c.fps))
        .collect();
    let stage = |name: &str| {
        s.stages
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, st)| st.percentiles())
            .unwrap_or((0.0, 0.0))
    };
    let (d50, _) = stage("detect");
    let (e50, e99) = stage("end_to_end");
    format!(
        "[{:5.1} s] {} | {} tracks | detect p50 {d50:.0} ms | end-to-end p50 {e50:.0} / p99 {e99:.0} ms | ticks {}",
        s.elapsed_s,
        cams.join(", "),
        s.live_tracks,
        s.ticks
    )
}

fn report(s: &Summary, video_s: Option<f64>) {
    println!(
        "store {}: {} ticks in {:.1} s",
        s.store, s.ticks, s.elapsed_s
    );
    for (name, st) in &s.stages {
        let (p50, p99) = st.percentiles();
        println!(
            "  stage {name:<11} p50 {p50:7.2} ms  p99 {p99:7.2} ms  processed {}  dropped {}",
            st.processed, st.dropped
        );
    }
    for c in &s.cameras {
        println!(
            "  camera {}: {} frames, {} dropped, {} reconnects",
            c.camera, c.frames, c.drops, c.reconnects
        );
    }
    println!(
        "  throughput {:.1} ticks/s; {} tracks started; peak RSS {:.0} MiB",
        s.ticks as f64 / s.elapsed_s.max(1e-9),
        s.tracks_started,
        daemon::peak_rss_mib().unwrap_or(0.0)
    );
    if s.reloads + s.reload_errors > 0 {
        println!(
            "  config reloads: {} applied, {} refused",
            s.reloads, s.reload_errors
        );
    }
    if let Some(v) = video_s {
        println!(
            "  real-time factor {:.2} ({:.1} s of video in {:.1} s)",
            v / s.elapsed_s.max(1e-9),
            v,
            s.elapsed_s
        );
    }
}

/// Paths of the tracks for the floor plan.
fn paths(rows: &[walkout_eval::Row]) -> Vec<Vec<DVec2>> {
    let mut by: std::collections::BTreeMap<i64, Vec<(i64, DVec2)>> = Default::default();
    for r in rows {
        by.entry(r.id)
            .or_default()
            .push((r.frame, DVec2::new(r.x, r.y)));
    }
    by.into_values()
        .map(|mut v| {
            v.sort_by_key(|p| p.0);
            v.into_iter().map(|p| p.1).collect()
        })
        .collect()
}

fn write_png(config: &Path, png: &Path, rows: &[walkout_eval::Row]) -> anyhow::Result<()> {
    let store = walkout_geometry::StoreConfig::load(config)?;
    walkout_geometry::render::write_paths_png(png, &store.floor, &paths(rows))
        .with_context(|| format!("writing {}", png.display()))
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let stop = stop_on_signals()?;
    let mut o = DaemonOptions::new(
        args.config.clone(),
        DaemonInput::Cameras {
            sources: HashMap::new(),
        },
    );
    args.pipeline.apply(&mut o)?;
    o.bus = Some(args.bus.config(&args.config)?);
    o.seconds = args.seconds;
    // SIGHUP: reload the store config (cameras added, removed or changed; the others go on).
    signal_hook::flag::register(signal_hook::consts::SIGHUP, o.reload.clone())
        .context("installing the SIGHUP handler")?;
    o.role = match args.role.as_str() {
        "edge" => Role::Edge {
            cameras: args.cameras.clone(),
        },
        "fusion" => Role::Fusion,
        _ => Role::All,
    };
    if !args.cameras.is_empty() && args.role != "edge" {
        anyhow::bail!("--cameras applies to --role edge only");
    }
    // systemd: READY once the cameras are started (the first progress report), WATCHDOG only
    // while ticks advance (a stuck pipeline stops the pings and systemd restarts us).
    let notifier = crate::notify::Notifier::from_env();
    let (mut ready, mut last_ticks) = (false, None);
    let mut reloads = (0, 0);
    let s = daemon::run(&o, stop, |s| {
        eprintln!("{}", line(s));
        if !ready {
            notifier.send("READY=1\nSTATUS=cameras started");
            ready = true;
        }
        if (s.reloads, s.reload_errors) != reloads {
            reloads = (s.reloads, s.reload_errors);
            notifier.send(&format!(
                "STATUS=config reloads: {} applied, {} refused (see the log)",
                s.reloads, s.reload_errors
            ));
        }
        if last_ticks.is_none_or(|t| s.ticks > t) {
            notifier.send(&format!(
                "WATCHDOG=1\nSTATUS={} ticks, {} tracks",
                s.ticks, s.live_tracks
            ));
        }
        last_ticks = Some(s.ticks);
    })
    .with_context(|| format!("running {}", args.config.display()))?;
    notifier.send("STOPPING=1");
    report(&s, None);
    Ok(())
}

pub fn demo(args: &DemoArgs) -> anyhow::Result<()> {
    let stop = stop_on_signals()?;
    // The default config is relative to the checkout, wherever the command runs from.
    let config = match &walkout_types::setup::locations().repo {
        Some(repo) if args.config.is_relative() && !args.config.exists() => repo.join(&args.config),
        _ => args.config.clone(),
    };
    let loc = walkout_types::setup::locations();
    let store = walkout_geometry::StoreConfig::load(&config)?;
    let mut server = None;
    let mut demo_dir = None;
    let sources = if walkout_runtime::demo::is_multiviewx(&store) {
        // The MultiviewX sample: each camera's stills encoded to a video, played in real time.
        let dir = std::env::temp_dir().join(format!("walkout-demo-{}", std::process::id()));
        let sources = walkout_runtime::demo::multiviewx_sources(&loc.shared, &store, &dir)
            .context("encoding the MultiviewX sample's frames")?;
        eprintln!(
            "MultiviewX: {} cameras, 10 frames each at {} fps, encoded to {}",
            sources.len(),
            walkout_runtime::demo::MULTIVIEWX_FPS,
            dir.display()
        );
        demo_dir = Some(dir);
        sources
    } else {
        let video = loc
            .demo_video
            .clone()
            .unwrap_or_else(|| loc.shared.join("data/pets2009/vtest.avi"));
        anyhow::ensure!(
            video.is_file(),
            "the demo video {} is missing: run scripts/setup (it fetches it when ../shared is absent)",
            video.display()
        );
        // The PETS video served as a live H.264 RTSP camera, in real time, from this process.
        let launch = format!(
            "( filesrc location=\"{}\" ! decodebin ! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! rtph264pay name=pay0 pt=96 )",
            video.display()
        );
        let rtsp = walkout_ingest::rtsp_server::RtspServer::start(0, "pets", &launch)
            .context("starting the demo's RTSP server")?;
        eprintln!("serving {} as {}", video.display(), rtsp.url());
        let first = store.cameras.first().map(|c| c.camera.id.clone());
        let sources = HashMap::from([(first.unwrap_or_else(|| "cam0".into()), rtsp.url())]);
        server = Some(rtsp);
        sources
    };
    let multiviewx = walkout_runtime::demo::is_multiviewx(&store);
    let mut o = DaemonOptions::new(config.clone(), DaemonInput::Cameras { sources });
    args.pipeline.apply(&mut o)?;
    if multiviewx && args.pipeline.rate.is_none() {
        o.rate_hz = f64::from(walkout_runtime::demo::MULTIVIEWX_FPS);
    }
    o.bus = Some(args.bus.config(&config)?);
    o.seconds = Some(args.seconds.unwrap_or(if multiviewx { 5.0 } else { 80.0 }));
    let s = daemon::run(&o, stop, |s| println!("{}", line(s)))
        .with_context(|| format!("running the demo store {}", config.display()))?;
    if let Some(server) = server {
        server.stop();
    }
    report(&s, None);
    write_png(&config, &args.png, &s.rows)?;
    println!(
        "floor plan of {} tracks -> {}",
        paths(&s.rows).len(),
        args.png.display()
    );
    if multiviewx {
        let gt = walkout_runtime::demo::multiviewx_ground_truth(&loc.shared)
            .map_err(|e| anyhow::anyhow!("reading the MultiviewX ground truth: {e}"))?;
        // Only the frames the demo reached are scored.
        let last = s.rows.iter().map(|r| r.frame).max().unwrap_or(-1);
        let gt: Vec<_> = gt.into_iter().filter(|r| r.frame <= last).collect();
        let scores = walkout_eval::evaluate(&gt, &s.rows, 0.5);
        println!("MultiviewX frames 0-{last} scored at 0.5 m against its annotations: {scores}");
    }
    if let Some(dir) = demo_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(())
}

pub fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    let stop = stop_on_signals()?;
    let input = match (&args.video, &args.recording) {
        (Some(v), _) => DaemonInput::Video {
            path: v.clone(),
            realtime: args.realtime,
        },
        (None, Some(d)) => DaemonInput::Recording {
            dir: d.clone(),
            realtime: args.realtime,
        },
        (None, None) => anyhow::bail!("give --video FILE or --recording DIR"),
    };
    let mut o = DaemonOptions::new(args.config.clone(), input);
    args.pipeline.apply(&mut o)?;
    let s = daemon::run(&o, stop, |s| eprintln!("{}", line(s)))
        .with_context(|| format!("bench on {}", args.config.display()))?;
    // Video time covered: ticks at the processing rate.
    report(&s, Some(s.ticks as f64 / o.rate_hz));
    if let Some(out) = &args.out {
        walkout_runtime::replay::write_tracks_csv(out, &s.rows)?;
        println!("tracks -> {}", out.display());
    }
    if let Some(gt) = &args.gt {
        let gt_rows = walkout_eval::read_csv(gt)?;
        let scores = walkout_eval::evaluate(&gt_rows, &s.rows, args.thr);
        println!(
            "scored at {} m against {}: {scores}",
            args.thr,
            gt.display()
        );
    }
    Ok(())
}
