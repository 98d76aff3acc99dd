//! The demos' inputs. PETS 2009 is served over RTSP by `walkoutd demo` itself; the MultiviewX
//! sample (6 cameras x 10 still frames at 2 fps) is encoded here to one H.264 video per camera,
//! which the daemon then plays as file cameras in real time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use walkout_geometry::StoreConfig;
use walkout_ingest::source::IngestError;

/// The MultiviewX sample's frame rate (the dataset's annotation rate).
pub const MULTIVIEWX_FPS: u32 = 2;

/// Whether `store` is the MultiviewX sample (its cameras come from the dataset's stills).
pub fn is_multiviewx(store: &StoreConfig) -> bool {
    store.id == "multiviewx"
}

/// Encodes the sample's stills of each camera (`Image_subsets/C<k+1>` for the config's k-th
/// camera) to `<out>/<camera>.mkv`; returns the camera sources to run with.
pub fn multiviewx_sources(
    shared: &Path,
    store: &StoreConfig,
    out: &Path,
) -> Result<HashMap<String, String>, IngestError> {
    std::fs::create_dir_all(out).map_err(|e| IngestError::Stream {
        camera: "all".into(),
        element: "demo".into(),
        message: format!("cannot create {}: {e}", out.display()),
    })?;
    let mut sources = HashMap::new();
    for (k, cam) in store.cameras.iter().enumerate() {
        let id = &cam.camera.id;
        let stills: PathBuf = shared
            .join("data/multiviewx/Image_subsets")
            .join(format!("C{}", k + 1))
            .join("%04d.jpg");
        let video = out.join(format!("{id}.mkv"));
        walkout_ingest::stills::encode_jpegs(id, &stills, MULTIVIEWX_FPS, &video)?;
        sources.insert(id.clone(), video.to_string_lossy().to_string());
    }
    Ok(sources)
}

/// The MultiviewX sample's ground truth as floor rows (`frame` = the frame index, 0-9):
/// `annotations_positions/0000N.json` belongs to frame N-1; positionID -> floor metres
/// (`x = (id % 1000) / 40`, `y = (id / 1000) / 40`).
pub fn multiviewx_ground_truth(shared: &Path) -> Result<Vec<walkout_eval::Row>, String> {
    let dir = shared.join("data/multiviewx/annotations_positions");
    let mut rows = Vec::new();
    for n in 1..=10 {
        let path = dir.join(format!("{n:05}.json"));
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let people: Vec<serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for p in people {
            let field = |k: &str| {
                p[k].as_i64()
                    .ok_or_else(|| format!("{}: a person without an integer `{k}`", path.display()))
            };
            let (id, pos) = (field("personID")?, field("positionID")?);
            rows.push(walkout_eval::Row {
                frame: n - 1,
                id,
                x: (pos % 1000) as f64 / 40.0,
                y: (pos / 1000) as f64 / 40.0,
            });
        }
    }
    Ok(rows)
}
