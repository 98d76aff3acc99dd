//! Person detection and re-identification with ONNX Runtime (the `ort` crate, `load-dynamic`) on
//! the real models named by the manifest `models/models.toml`.
//!
//! - [`runtime`]: finds and loads `libonnxruntime.so` (explicit path, `ORT_DYLIB_PATH`, or the
//!   setup script's output), execution providers and threads from [`RuntimeConfig`].
//! - [`manifest`]: the model manifest (task, file, sha256, input/output contract, decoder).
//! - [`model`]: a loaded model: sha256 checked, ONNX inputs/outputs checked against the contract.
//! - [`image`]: RGB images (PNG/JPEG) and the CPU preprocessing (bilinear resampling with
//!   half-pixel centres, letterbox or stretch, channel order, scale, mean/std, layout).
//! - [`detect`]: YOLOX (grid decode + NMS) and PicoDet (NMS inside) to person boxes in frame pixels.
//! - [`embed`]: person crops to L2-normalised embeddings, batched where the model allows.
//! - [`pose`]: body landmarks on a person crop (wrists, for shelf interactions), optional.

pub mod detect;
pub mod embed;
pub mod image;
pub mod manifest;
pub mod model;
pub mod pose;
pub mod runtime;

pub use detect::Detector;
pub use embed::Embedder;
pub use manifest::{Manifest, ModelSpec};
pub use runtime::RuntimeConfig;

use std::path::PathBuf;

/// Everything that can go wrong in inference, each naming the file, model or field.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(
        "ONNX Runtime library not found: looked for {looked}; run scripts/setup or set ORT_DYLIB_PATH to libonnxruntime.so (1.31 or newer)"
    )]
    RuntimeMissing { looked: String },
    #[error("cannot load ONNX Runtime from {path}: {message}")]
    RuntimeLoad { path: PathBuf, message: String },
    #[error("model manifest {path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("model `{name}` is not in the manifest {path} (known: {known})")]
    UnknownModel {
        name: String,
        path: PathBuf,
        known: String,
    },
    #[error("model `{name}`: cannot read {path}: {source}")]
    ModelFile {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "model `{name}`: {path} has sha256 {actual}, the manifest expects {expected} (a truncated or different file)"
    )]
    Checksum {
        name: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("model `{name}`: ONNX Runtime cannot load {path}: {message}")]
    ModelLoad {
        name: String,
        path: PathBuf,
        message: String,
    },
    #[error("model `{name}` does not match its contract in the manifest: {message}")]
    Contract { name: String, message: String },
    #[error("model `{name}`: inference failed: {message}")]
    Run { name: String, message: String },
    #[error("image {path}: {message}")]
    Image { path: PathBuf, message: String },
    #[error("{0}")]
    Input(String),
}
