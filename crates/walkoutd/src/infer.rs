//! `walkoutd detect` and `walkoutd embed`: the detector and embedder on one image, for engineers.

use std::path::PathBuf;

use anyhow::Context;
use walkout_infer::detect::DetectorConfig;
use walkout_infer::image::RgbImage;
use walkout_infer::runtime::Provider;
use walkout_infer::{Detector, Embedder, Manifest, RuntimeConfig};

#[derive(clap::Args)]
pub struct RuntimeArgs {
    /// Execution provider: cpu, cuda or tensorrt (falls back to the CPU with a warning).
    #[arg(long, default_value = "cpu")]
    provider: String,
    /// Threads inside one operator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// libonnxruntime.so to load (default: ORT_DYLIB_PATH, then the setup script's output).
    #[arg(long)]
    ort_library: Option<PathBuf>,
}

impl RuntimeArgs {
    fn config(&self) -> anyhow::Result<RuntimeConfig> {
        Ok(RuntimeConfig {
            library: self.ort_library.clone(),
            provider: self.provider.parse::<Provider>()?,
            intra_threads: self.threads,
        })
    }
}

#[derive(clap::Args)]
pub struct DetectArgs {
    /// Image file (PNG or JPEG).
    #[arg(long)]
    image: PathBuf,
    /// Detector of the model manifest.
    #[arg(long, default_value = "yolox_nano")]
    model: String,
    /// Lowest person score reported.
    #[arg(long, default_value_t = 0.3)]
    threshold: f64,
    /// Print JSON (one object with the boxes) instead of a table.
    #[arg(long)]
    json: bool,
    /// Also locate each person's wrists (MediaPipe pose landmark lite on the crop).
    #[arg(long)]
    wrists: bool,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

#[derive(clap::Args)]
pub struct EmbedArgs {
    /// Image file (PNG or JPEG).
    #[arg(long)]
    image: PathBuf,
    /// Person box `x,y,w,h` in pixels.
    #[arg(long = "box", value_name = "X,Y,W,H")]
    bbox: String,
    /// Embedder of the model manifest.
    #[arg(long, default_value = "osnet_x0_25_msmt17")]
    model: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    runtime: RuntimeArgs,
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

pub fn detect(args: &DetectArgs) -> anyhow::Result<()> {
    let manifest = Manifest::default_location()?;
    let cfg = DetectorConfig {
        score_threshold: args.threshold,
        nms_iou: None,
    };
    let mut det = Detector::load(&manifest, &args.model, &args.runtime.config()?, cfg)
        .with_context(|| format!("loading detector `{}`", args.model))?;
    let img = RgbImage::load(&args.image)?;
    let t = std::time::Instant::now();
    let mut boxes = det.detect(&img)?;
    if args.wrists {
        let mut pose = walkout_infer::pose::PoseEstimator::load(
            &manifest,
            "pose_landmark_lite",
            &args.runtime.config()?,
        )?;
        for b in &mut boxes {
            b.wrists = pose
                .estimate(&img, [b.left, b.top, b.width, b.height])?
                .wrists
                .to_vec();
        }
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    if args.json {
        let out = serde_json::json!({
            "image": args.image,
            "model": args.model,
            "width": img.width,
            "height": img.height,
            "latency_ms": ms,
            "persons": boxes,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))
    } else {
        let mut text = format!(
            "{}: {}x{}, {} persons ({} in {ms:.1} ms)\n",
            args.image.display(),
            img.width,
            img.height,
            boxes.len(),
            args.model
        );
        for b in &boxes {
            text.push_str(&format!(
                "  x {:7.1}  y {:7.1}  w {:6.1}  h {:6.1}  score {:.3}",
                b.left, b.top, b.width, b.height, b.score
            ));
            for (side, k) in ["left", "right"].iter().zip(&b.wrists) {
                text.push_str(&format!(
                    "  {side} wrist ({:.0}, {:.0}) {:.2}",
                    k.u, k.v, k.score
                ));
            }
            text.push('\n');
        }
        emit(&text)
    }
}

pub fn embed(args: &EmbedArgs) -> anyhow::Result<()> {
    let v: Vec<f64> = args
        .bbox
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--box `{}`: expected x,y,w,h numbers", args.bbox))?;
    let [x, y, w, h] = v[..] else {
        anyhow::bail!("--box `{}`: expected 4 numbers x,y,w,h", args.bbox);
    };
    let manifest = Manifest::default_location()?;
    let mut emb = Embedder::load(&manifest, &args.model, &args.runtime.config()?)
        .with_context(|| format!("loading embedder `{}`", args.model))?;
    let img = RgbImage::load(&args.image)?;
    let e = emb.embed(&img, &[[x, y, w, h]])?;
    let e = e.into_iter().next().unwrap_or_default();
    if args.json {
        let out = serde_json::json!({
            "image": args.image,
            "model": args.model,
            "box": [x, y, w, h],
            "embedding": e,
        });
        emit(&format!("{}\n", serde_json::to_string(&out)?))
    } else {
        let mut text = format!("{} dimensions (L2-normalised, {}):\n", e.len(), args.model);
        for row in e.chunks(8) {
            let line: Vec<String> = row.iter().map(|v| format!("{v:+.4}")).collect();
            text.push_str(&format!("  {}\n", line.join(" ")));
        }
        emit(&text)
    }
}
