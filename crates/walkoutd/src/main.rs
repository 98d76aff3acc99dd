//! `walkoutd`: the walkout daemon and its engineering commands. This binary only parses the
//! command line and prints results; the work lives in the library crates.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod calib;
mod capture;
mod daemon;
mod infer;
mod notify;
mod replay;
mod sim;

/// Exit status for an invalid store config (sysexits EX_CONFIG).
const EXIT_CONFIG: u8 = 78;

#[derive(Parser)]
#[command(
    name = "walkoutd",
    version,
    about = "walkout: multi-camera person tracking for checkout-free stores"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The daemon: the store's cameras through detection, fusion and tracking to zenoh.
    Run(daemon::RunArgs),
    /// The embedded default: PETS 2009 S2L1 served over RTSP in real time through the whole
    /// pipeline, a line per second, a floor plan of the tracks at the end.
    Demo(daemon::DemoArgs),
    /// Recorded footage through the whole pipeline: per-stage latency, throughput, accuracy.
    Bench(daemon::BenchArgs),
    /// Replay recorded detections through fusion and tracking; write tracks (and score them).
    Replay(replay::ReplayArgs),
    /// Record every camera of a store to segmented MKV (no decoding), surviving outages.
    Record(capture::RecordArgs),
    /// Detect persons in one image with a detector of the model manifest.
    Detect(infer::DetectArgs),
    /// Appearance embedding of one person box in an image.
    Embed(infer::EmbedArgs),
    /// Run the ingest path alone (cameras, a recording or a video file) and report frame rates
    /// and CPU use.
    Ingest(capture::IngestArgs),
    /// Simulate a store scenario: per-view detections, gate and shelf inputs, ground truth.
    Sim(sim::SimArgs),
    /// Store calibration tools.
    Calib {
        #[command(subcommand)]
        command: CalibCommand,
    },
}

#[derive(Subcommand)]
enum CalibCommand {
    /// Validate a store config: per-camera geometry, floor coverage and blind spots.
    Check {
        /// Store config (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Write the coverage map (floor cells coloured by camera count) to this PNG.
        #[arg(long)]
        png: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay::run(&args),
        Command::Run(args) => daemon::run(&args),
        Command::Demo(args) => daemon::demo(&args),
        Command::Bench(args) => daemon::bench(&args),
        Command::Record(args) => capture::record(&args),
        Command::Ingest(args) => capture::ingest(&args),
        Command::Detect(args) => infer::detect(&args),
        Command::Embed(args) => infer::embed(&args),
        Command::Sim(args) => sim::run(&args),
        Command::Calib {
            command: CalibCommand::Check { config, png },
        } => calib::check(&config, png.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            let config_error = err.chain().any(|e| {
                e.is::<walkout_geometry::ConfigError>()
                    || matches!(
                        e.downcast_ref::<walkout_runtime::daemon::DaemonError>(),
                        Some(walkout_runtime::daemon::DaemonError::Config(_))
                    )
                    || matches!(
                        e.downcast_ref::<walkout_runtime::capture::CaptureError>(),
                        Some(walkout_runtime::capture::CaptureError::Config(_))
                    )
            });
            ExitCode::from(if config_error { EXIT_CONFIG } else { 1 })
        }
    }
}
