//! A loaded model: file checked against the manifest's sha256, ONNX inputs and outputs checked
//! against the contract, session built with the configured execution provider and threads.

use std::path::Path;

use ort::session::Session;
use sha2::{Digest, Sha256};

use crate::InferError;
use crate::manifest::{Layout, ModelSpec};
use crate::runtime::{self, Provider, RuntimeConfig};

/// A model ready to run.
pub struct Model {
    pub name: String,
    pub spec: ModelSpec,
    pub session: Session,
    /// Whether the image input takes a batch larger than one (dynamic first dimension).
    pub batched: bool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .field("batched", &self.batched)
            .finish()
    }
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Model {
    /// Loads `name` described by `spec` from `path`.
    pub fn load(
        name: &str,
        spec: &ModelSpec,
        path: &Path,
        config: &RuntimeConfig,
    ) -> Result<Model, InferError> {
        let bytes = std::fs::read(path).map_err(|source| InferError::ModelFile {
            name: name.into(),
            path: path.to_path_buf(),
            source,
        })?;
        let actual = sha256_hex(&bytes);
        if !actual.eq_ignore_ascii_case(&spec.sha256) {
            return Err(InferError::Checksum {
                name: name.into(),
                path: path.to_path_buf(),
                expected: spec.sha256.clone(),
                actual,
            });
        }
        let env = runtime::environment(config)?;
        let load = |message: String| InferError::ModelLoad {
            name: name.into(),
            path: path.to_path_buf(),
            message,
        };
        let mut builder = Session::builder(env)
            .map_err(|e| load(e.to_string()))?
            .with_intra_threads(config.intra_threads.max(1))
            .map_err(|e| load(e.to_string()))?
            .with_log_level(ort::logging::LogLevel::Error)
            .map_err(|e| load(e.to_string()))?;
        builder = with_provider(builder, name, config.provider).map_err(load)?;
        let session = builder
            .commit_from_memory(&bytes)
            .map_err(|e| load(e.to_string()))?;
        let batched = check_contract(name, spec, &session)?;
        Ok(Model {
            name: name.into(),
            spec: spec.clone(),
            session,
            batched,
        })
    }
}

/// Registers the wanted execution provider; ONNX Runtime falls back to the CPU (with a warning
/// here) when it cannot be used.
#[cfg(feature = "cuda")]
fn with_provider(
    builder: ort::session::builder::SessionBuilder,
    name: &str,
    provider: Provider,
) -> Result<ort::session::builder::SessionBuilder, String> {
    use ort::ep::{self, ExecutionProvider};
    let eps = match provider {
        Provider::Cpu => return Ok(builder),
        Provider::Cuda => vec![ep::CUDA::default().build()],
        Provider::TensorRt => vec![ep::TensorRT::default().build(), ep::CUDA::default().build()],
    };
    let available = ep::CUDA::is_available().unwrap_or(false);
    if !available {
        tracing::warn!(
            model = name,
            ?provider,
            "the ONNX Runtime library has no usable CUDA execution provider (a CPU build, or no GPU); running on the CPU"
        );
        return Ok(builder);
    }
    builder
        .with_execution_providers(eps)
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "cuda"))]
fn with_provider(
    builder: ort::session::builder::SessionBuilder,
    name: &str,
    provider: Provider,
) -> Result<ort::session::builder::SessionBuilder, String> {
    if provider != Provider::Cpu {
        tracing::warn!(
            model = name,
            ?provider,
            "this build has no GPU execution providers (build walkout-infer with feature `cuda`); running on the CPU"
        );
    }
    Ok(builder)
}

/// Checks the ONNX graph against the contract; returns whether the batch dimension is dynamic.
fn check_contract(name: &str, spec: &ModelSpec, session: &Session) -> Result<bool, InferError> {
    let bad = |message: String| InferError::Contract {
        name: name.into(),
        message,
    };
    let input = session
        .inputs()
        .iter()
        .find(|i| i.name() == spec.input)
        .ok_or_else(|| {
            bad(format!(
                "no input named `{}` (the model has {})",
                spec.input,
                session
                    .inputs()
                    .iter()
                    .map(|i| format!("`{}`", i.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let shape: Vec<i64> = input
        .dtype()
        .tensor_shape()
        .map(|s| s.iter().copied().collect())
        .ok_or_else(|| bad(format!("input `{}` is not a tensor", spec.input)))?;
    let [w, h] = spec.size.map(i64::from);
    let expected = match spec.layout {
        Layout::Nchw => [-1, 3, h, w],
        Layout::Nhwc => [-1, h, w, 3],
    };
    let fits = shape.len() == 4
        && shape
            .iter()
            .zip(expected)
            .skip(1)
            .all(|(&d, e)| d == e || d < 0);
    if !fits {
        return Err(bad(format!(
            "input `{}` has shape {shape:?}; the manifest's size {:?} and layout {:?} need {:?} (batch first)",
            spec.input, spec.size, spec.layout, expected
        )));
    }
    for out in &spec.outputs {
        if !session.outputs().iter().any(|o| o.name() == out) {
            return Err(bad(format!("no output named `{out}`")));
        }
    }
    if !spec.output_shape.is_empty() {
        let got: Vec<i64> = session
            .outputs()
            .first()
            .and_then(|o| {
                o.dtype()
                    .tensor_shape()
                    .map(|s| s.iter().copied().collect())
            })
            .unwrap_or_default();
        let fits = got.len() == spec.output_shape.len()
            && got
                .iter()
                .zip(&spec.output_shape)
                .all(|(&g, &e)| g == e || g < 0 || e < 0);
        if !fits {
            return Err(bad(format!(
                "output shape {got:?}, the manifest says {:?}",
                spec.output_shape
            )));
        }
    }
    if let Some(dim) = spec.embedding_dim {
        let got = session
            .outputs()
            .first()
            .and_then(|o| o.dtype().tensor_shape().and_then(|s| s.last().copied()));
        if got != Some(dim as i64) {
            return Err(bad(format!(
                "embedding size {got:?}, the manifest says {dim}"
            )));
        }
    }
    Ok(shape[0] < 0)
}
