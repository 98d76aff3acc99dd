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
#[command(group(clap::ArgGroup::new("input").required(true).args(["detections", "ground_points", "views"])))]
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
    /// Recorded per-view messages (`<camera id>.jsonl` of walkout/<store>/views/<camera>
    /// payloads): the fusion role with shoppers, interactions and carts.
    #[arg(long)]
    views: Option<PathBuf>,
    /// With --views: `gates.jsonl` and `shelves.jsonl` input messages.
    #[arg(long, requires = "views")]
    inputs: Option<PathBuf>,
    /// With --views: the events published (JSONL).
    #[arg(long, requires = "views")]
    events: Option<PathBuf>,
    /// With --views: each payment token's final cart, `{token: {sku: quantity}}`.
    #[arg(long, requires = "views")]
    carts: Option<PathBuf>,
    /// With --views: a simulation's `truth/` directory to score identity, events and carts.
    #[arg(long, requires = "views")]
    truth: Option<PathBuf>,
    /// Frame rate: time = frame / fps (detections and floor points; views carry their time).
    #[arg(long, default_value_t = 10.0)]
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
    /// it confirms, no interpolated rows through an occlusion once a track is found again, no
    /// rows from tracking the input backwards, and associations decided tick by tick (as
    /// `--lookahead 0`).
    #[arg(long)]
    live: bool,
    /// Ticks to look ahead before deciding a contested association (a track with two
    /// candidates in its gate, or a candidate in two tracks' gates): both choices are played
    /// forward and the one that explains the following ticks better is kept. 0 decides tick by
    /// tick, as the daemon does. Detections and floor points only.
    #[arg(long, default_value_t = replay::DEFAULT_LOOKAHEAD_TICKS)]
    lookahead: usize,
}

pub fn run(args: &ReplayArgs) -> anyhow::Result<()> {
    if let Some(views) = &args.views {
        return run_store(args, views);
    }
    let input = match (&args.detections, &args.ground_points) {
        (Some(dir), _) => ReplayInput::Detections(dir.clone()),
        (None, Some(file)) => ReplayInput::FloorPoints(file.clone()),
        (None, None) => anyhow::bail!("give --detections DIR or --ground-points FILE"),
    };
    let mut opts = ReplayOptions::new(args.config.clone(), input, args.fps);
    opts.backfill = !args.live;
    opts.gap_fill = !args.live;
    opts.backward_fill = !args.live;
    opts.tracker.lookahead.ticks = if args.live { 0 } else { args.lookahead };
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

fn run_store(args: &ReplayArgs, views: &std::path::Path) -> anyhow::Result<()> {
    use walkout_runtime::store_replay;
    let mut opts = store_replay::StoreReplayOptions::new(args.config.clone(), views.to_path_buf());
    opts.inputs = args.inputs.clone();
    let r = store_replay::run(&opts)?;
    replay::write_tracks_csv(&args.out, &r.rows)?;
    if let Some(path) = &args.events {
        let text: String = r
            .events
            .iter()
            .map(|e| serde_json::to_string(e).map(|s| s + "\n"))
            .collect::<Result<_, _>>()?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.carts {
        let carts: std::collections::BTreeMap<_, _> = r
            .final_carts
            .iter()
            .map(|(t, (items, _))| (t, items))
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&carts)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let ambiguous = r.events.iter().filter(|e| e.ambiguous.is_some()).count();
    println!(
        "{} frames: {} track rows, {} events ({} ambiguous), {} shoppers",
        r.frames,
        r.rows.len(),
        r.events.len(),
        ambiguous,
        r.final_carts.len()
    );
    if let Some(truth) = &args.truth {
        let s = store_replay::score(&r, truth, args.fps)?;
        println!(
            "identity: IDF1 {:.3} MOTA {:.3} by shopper; clothing changes {} (alone {}, identity kept {}) | events: precision {:.3} recall {:.3} ({} right of {} predicted, {} true), {} ambiguous ({} resolved, {} right) | carts: {}/{} exact, {} silently wrong",
            s.idf1,
            s.mota,
            s.clothing_changes,
            s.alone_changes,
            s.alone_changes_kept,
            s.precision(),
            s.recall(),
            s.events_tp,
            s.events_predicted,
            s.events_truth,
            s.ambiguous_events,
            s.ambiguous_resolved,
            s.ambiguous_resolved_right,
            s.carts_exact,
            s.carts,
            s.carts_silently_wrong
        );
    }
    Ok(())
}
