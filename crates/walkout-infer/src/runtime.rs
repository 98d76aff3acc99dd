//! Loading ONNX Runtime (`load-dynamic`) and choosing execution providers.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::InferError;

/// Execution provider wanted for sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Provider {
    #[default]
    Cpu,
    /// CUDA, falling back to the CPU with a warning when it cannot be registered.
    Cuda,
    /// TensorRT (then CUDA, then CPU).
    TensorRt,
}

impl std::str::FromStr for Provider {
    type Err = InferError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(Provider::Cpu),
            "cuda" => Ok(Provider::Cuda),
            "tensorrt" => Ok(Provider::TensorRt),
            other => Err(InferError::Input(format!(
                "execution provider `{other}`: expected cpu, cuda or tensorrt"
            ))),
        }
    }
}

/// How sessions run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// `libonnxruntime.so`; `None`: `ORT_DYLIB_PATH`, then the setup script's output.
    pub library: Option<PathBuf>,
    pub provider: Provider,
    /// Threads inside one operator (1 keeps one inference per core).
    pub intra_threads: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            library: None,
            provider: Provider::Cpu,
            intra_threads: 1,
        }
    }
}

/// The library loaded in this process (ONNX Runtime can be loaded once).
static LOADED: Mutex<Option<PathBuf>> = Mutex::new(None);
static ENVIRONMENT: std::sync::OnceLock<ort::environment::Environment> = std::sync::OnceLock::new();

/// Candidate library paths in order, with where each came from.
fn candidates(explicit: Option<&Path>) -> Vec<(PathBuf, &'static str)> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push((p.to_path_buf(), "the configured path"));
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        out.push((PathBuf::from(p), "ORT_DYLIB_PATH"));
    }
    if let Some(p) = &walkout_types::setup::locations().ort_dylib {
        out.push((p.clone(), "the setup script's .walkout/setup.env"));
    }
    out
}

/// The process's ONNX Runtime environment, loading the library on first use.
pub fn environment(
    config: &RuntimeConfig,
) -> Result<&'static ort::environment::Environment, InferError> {
    let path = init(config)?;
    ENVIRONMENT.get().ok_or_else(|| InferError::RuntimeLoad {
        path,
        message: "the environment was not kept".into(),
    })
}

/// Loads ONNX Runtime once per process (later calls return the path already loaded).
pub fn init(config: &RuntimeConfig) -> Result<PathBuf, InferError> {
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = loaded.as_ref() {
        return Ok(p.clone());
    }
    // The first place that names a library decides (an explicit choice never falls back).
    let cands = candidates(config.library.as_deref());
    let Some((path, from)) = cands.first() else {
        return Err(InferError::RuntimeMissing {
            looked:
                "no path given (no configured path, ORT_DYLIB_PATH unset, no .walkout/setup.env)"
                    .into(),
        });
    };
    if !path.is_file() {
        return Err(InferError::RuntimeMissing {
            looked: format!("{} (from {from}), which does not exist", path.display()),
        });
    }
    let builder = ort::init_from(path).map_err(|e| InferError::RuntimeLoad {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let env = builder
        .with_name("walkout")
        .build()
        .map_err(|e| InferError::RuntimeLoad {
            path: path.clone(),
            message: e.to_string(),
        })?;
    // Sessions use the process environment; keep it alive for the process.
    let _ = ENVIRONMENT.set(env);
    tracing::info!(library = %path.display(), "ONNX Runtime loaded");
    *loaded = Some(path.clone());
    Ok(path.clone())
}
