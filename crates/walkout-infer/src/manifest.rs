//! The model manifest `models/models.toml`: per model its task, file, checksum, input/output
//! contract and decoder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::InferError;

/// The manifest embedded from the repository at build time.
pub const EMBEDDED: &str = include_str!("../../../models/models.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Detect,
    Embed,
    Pose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Nchw,
    Nhwc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channels {
    Rgb,
    Bgr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resize {
    Letterbox,
    Stretch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decoder {
    Yolox,
    NmsInside,
    Embedding,
    MediapipePose,
}

/// One model's entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub task: Task,
    pub file: String,
    pub sha256: String,
    pub licence: String,
    pub upstream: String,
    #[serde(default)]
    pub required: bool,
    pub decoder: Decoder,
    /// Name of the image input tensor.
    pub input: String,
    /// Model input [width, height], pixels.
    pub size: [u32; 2],
    pub layout: Layout,
    pub channels: Channels,
    pub scale: f64,
    pub mean: [f64; 3],
    pub std: [f64; 3],
    pub resize: Resize,
    pub placement: String,
    pub pad: f64,
    #[serde(default)]
    pub outputs: Vec<String>,
    #[serde(default)]
    pub output_shape: Vec<i64>,
    #[serde(default)]
    pub strides: Vec<u32>,
    #[serde(default)]
    pub person_class: Option<u32>,
    #[serde(default)]
    pub nms_iou: Option<f64>,
    #[serde(default)]
    pub extra_inputs: Vec<String>,
    #[serde(default)]
    pub embedding_dim: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema: u32,
    models: BTreeMap<String, ModelSpec>,
}

/// The manifest, with the directory its files are in.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Where the manifest came from (for messages).
    pub path: PathBuf,
    /// Directory holding the model files.
    pub dir: PathBuf,
    pub models: BTreeMap<String, ModelSpec>,
}

impl Manifest {
    /// Parses a manifest text; `dir` holds the model files.
    pub fn parse(text: &str, path: &Path, dir: &Path) -> Result<Manifest, InferError> {
        let bad = |message: String| InferError::Manifest {
            path: path.to_path_buf(),
            message,
        };
        let file: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if file.schema != 1 {
            return Err(bad(format!("schema {} (this build reads 1)", file.schema)));
        }
        for (name, m) in &file.models {
            if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!(
                    "models.{name}.sha256: expected 64 hex digits, got `{}`",
                    m.sha256
                )));
            }
            if m.size[0] == 0 || m.size[1] == 0 {
                return Err(bad(format!("models.{name}.size: must be positive")));
            }
            if m.std.contains(&0.0) {
                return Err(bad(format!("models.{name}.std: must not be zero")));
            }
        }
        Ok(Manifest {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
            models: file.models,
        })
    }

    /// The repository's manifest (embedded), with model files in `WALKOUT_MODELS` (from the
    /// environment or the setup script), else `models/` next to it.
    pub fn default_location() -> Result<Manifest, InferError> {
        let loc = walkout_types::setup::locations();
        let dir = loc
            .models
            .clone()
            .or_else(|| loc.repo.as_ref().map(|r| r.join(".walkout/models")))
            .unwrap_or_else(|| PathBuf::from("models"));
        Manifest::parse(EMBEDDED, Path::new("models/models.toml"), &dir)
    }

    /// A model by name.
    pub fn get(&self, name: &str) -> Result<&ModelSpec, InferError> {
        self.models
            .get(name)
            .ok_or_else(|| InferError::UnknownModel {
                name: name.into(),
                path: self.path.clone(),
                known: self.models.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }

    /// The model file of `name`.
    pub fn file(&self, name: &str) -> Result<PathBuf, InferError> {
        Ok(self.dir.join(&self.get(name)?.file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_manifest_parses_and_names_five_models() {
        let m = Manifest::parse(EMBEDDED, Path::new("models.toml"), Path::new("/m")).expect("ok");
        assert_eq!(m.models.len(), 5);
        let y = m.get("yolox_nano").expect("yolox");
        assert_eq!(
            (y.size, y.layout, y.channels),
            ([416, 416], Layout::Nchw, Channels::Bgr)
        );
        assert_eq!(y.strides, vec![8, 16, 32]);
        assert!(matches!(
            m.get("nope"),
            Err(InferError::UnknownModel { ref known, .. }) if known.contains("yolox_nano")
        ));
    }

    #[test]
    fn a_bad_manifest_names_the_field() {
        let text = EMBEDDED.replacen(
            "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",
            "xyz",
            1,
        );
        let e = Manifest::parse(&text, Path::new("m.toml"), Path::new("/m")).expect_err("bad");
        assert!(e.to_string().contains("models.yolox_nano.sha256"), "{e}");
        let e = Manifest::parse(
            "schema = 1\n[models.x]\ntask = 3\n",
            Path::new("m.toml"),
            Path::new("/m"),
        )
        .expect_err("bad");
        assert!(e.to_string().contains("m.toml"), "{e}");
    }
}
