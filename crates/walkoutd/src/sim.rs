//! `walkoutd sim`: a store scenario rendered as sensor data with its ground truth.

use std::path::PathBuf;

use anyhow::Context;
use walkout_sim::{Scenario, SimParams};

#[derive(clap::Args)]
pub struct SimArgs {
    /// Store config with shelves, an entrance, an exit and a blind-spot zone.
    #[arg(long)]
    config: PathBuf,
    /// calm, busy, clothing-change, returns, crowded-shelf, adversarial.
    #[arg(long)]
    scenario: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Shoppers (default per scenario).
    #[arg(long)]
    shoppers: Option<usize>,
    /// Probability that a visible person is missed in a view.
    #[arg(long)]
    p_miss: Option<f64>,
    /// Box edge jitter, pixels.
    #[arg(long)]
    jitter: Option<f64>,
    /// False positives per camera frame.
    #[arg(long)]
    fp_rate: Option<f64>,
    /// Output directory (views/, inputs/, truth/).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: &SimArgs) -> anyhow::Result<()> {
    let store = walkout_geometry::StoreConfig::load(&args.config)?;
    let mut p = SimParams::new(Scenario::parse(&args.scenario)?, args.seed);
    p.shoppers = args.shoppers;
    if let Some(v) = args.p_miss {
        p.p_miss = v;
    }
    if let Some(v) = args.jitter {
        p.jitter_px = v;
    }
    if let Some(v) = args.fp_rate {
        p.fp_rate = v;
    }
    let out = walkout_sim::simulate(&store, &p).context("simulating")?;
    walkout_sim::write(&out, &args.out)?;
    let frames = out.views.values().map(Vec::len).max().unwrap_or(0);
    let dets: usize = out
        .views
        .values()
        .flat_map(|v| v.iter().map(|f| f.detections.len()))
        .sum();
    println!(
        "{} seed {}: {} shoppers, {} frames ({:.0} s), {} cameras, {} detections, {} shelf events, {} clothing changes -> {}",
        args.scenario,
        args.seed,
        out.tokens.len(),
        frames,
        frames as f64 / p.fps,
        out.views.len(),
        dets,
        out.truth_events.len(),
        out.clothing_changes.len(),
        args.out.display()
    );
    Ok(())
}
