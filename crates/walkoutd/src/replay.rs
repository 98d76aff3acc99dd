//! `walkoutd replay`: recorded detections -> tracks CSV / published messages, optionally scored.

use std::path::PathBuf;

use anyhow::Context;
use walkout_runtime::replay::{self, ComputePath, ReplayInput, ReplayOptions};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Compute {
    Auto,
    Gpu,
    Cpu,
}

impl Compute {
    pub fn path(self) -> ComputePath {
        match self {
            Compute::Auto => ComputePath::Auto,
            Compute::Gpu => ComputePath::Gpu,
            Compute::Cpu => ComputePath::Cpu,
        }
    }
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["detections", "ground_points"])))]
pub struct ReplayArgs {
    /// Store config (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Directory with one MOTChallenge detection file per camera, named `<camera id>.txt`.
    #[arg(long)]
    detections: Option<PathBuf>,
    /// Already fused floor points: CSV with header `frame,x,y[,score]`, metres.
    #[arg(long)]
    ground_points: Option<PathBuf>,
    /// Frame rate: time = frame / fps.
    #[arg(long)]
    fps: f64,
    /// Output tracks CSV (`frame,id,x,y`, metres).
    #[arg(long)]
    out: PathBuf,
    /// Also write the tracks messages the daemon would publish, one JSON per line.
    #[arg(long)]
    jsonl: Option<PathBuf>,
    /// Ground truth CSV (`frame,id,x,y`) to score the tracks against.
    #[arg(long)]
    gt: Option<PathBuf>,
    /// Where fusion's occupancy grid runs: `auto` (the GPU unless the only adapter is a
    /// software one), `gpu` or `cpu`.
    #[arg(long, value_enum, default_value_t = Compute::Auto)]
    compute: Compute,
    /// Match threshold for scoring, metres.
    #[arg(long, default_value_t = 0.5)]
    thr: f64,
    /// Write only what the daemon publishes live: no rows for a track's tentative frames once
    /// it confirms, and no interpolated rows through an occlusion once a track is found again.
    #[arg(long)]
    live: bool,
}

pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    let input = match (&args.detections, &args.ground_points) {
        (Some(dir), _) => ReplayInput::Detections(dir.clone()),
        (None, Some(file)) => ReplayInput::FloorPoints(file.clone()),
        (None, None) => anyhow::bail!("give --detections DIR or --ground-points FILE"),
    };
    let mut opts = ReplayOptions::new(args.config.clone(), input, args.fps);
    opts.backfill = !args.live;
    opts.gap_fill = !args.live;
    opts.compute = match args.compute {
        Compute::Auto => ComputePath::Auto,
        Compute::Gpu => ComputePath::Gpu,
        Compute::Cpu => ComputePath::Cpu,
    };
    let result = replay::run(&opts)?;
    replay::write_tracks_csv(&args.out, &result.rows)?;
    if let Some(path) = &args.jsonl {
        replay::write_jsonl(path, &result.messages)?;
    }
    let pct = |q: f64| {
        let v = &result.tick_us;
        if v.is_empty() {
            0.0
        } else {
            v[((v.len() - 1) as f64 * q).round() as usize]
        }
    };
    println!(
        "replayed {} frames, {} detections: {} tracks started, {} rows -> {}",
        result.frames,
        result.detections,
        result.tracks_started,
        result.rows.len(),
        args.out.display()
    );
    println!(
        "fuse + track per frame: p50 {:.0} us, p99 {:.0} us",
        pct(0.5),
        pct(0.99)
    );
    if let Some(gt) = &args.gt {
        let gt_rows = walkout_eval::read_csv(gt)
            .with_context(|| format!("reading ground truth {}", gt.display()))?;
        let scores = walkout_eval::evaluate(&gt_rows, &result.rows, args.thr);
        println!(
            "scored at {} m against {}: {scores}",
            args.thr,
            gt.display()
        );
    }
    Ok(())
}
